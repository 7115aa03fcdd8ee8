//! The rules every event must obey (DESIGN §6), checked without changing the view.
//!
//! `validate` reads the view and returns what `commit` needs (which case, officer or
//! controller the entry touches), so `apply` validates fully before it mutates anything and
//! never clones the view. The rules are listed on [`View::apply`].

use sijil_core::entry::{checked_key, CaseLink, Entry, FORMAT_V1};
use sijil_core::event::{
    AmendedField, Amendment, AuthoritiesNotified, Date, Event, IndexCommitted, InspectionOpened,
    LogKeyRotated, Officer, OfficerRevoked, PublicKey, RegisterOpened, Role, Sanction,
};
use sijil_core::Hash;

use crate::case::{CaseRecord, CaseStatus, EventKind, Opening, TimelineItem, MAX_SEQ};
use crate::register::required_role;
use crate::rejection::Rejection;
use crate::text::{
    check_id, check_origin, check_text, MAX_AUTHORITIES, MAX_ID_CHARS, MAX_NAME_CHARS,
    MAX_REASON_CHARS,
};
use crate::view::View;

/// The fields of an entry the rules read: a signed [`Entry`] or one about to be signed.
pub(crate) struct Candidate<'a> {
    pub(crate) format: u8,
    pub(crate) seq: u64,
    pub(crate) prev: Hash,
    pub(crate) recorded_at: i64,
    pub(crate) signer: PublicKey,
    pub(crate) case: Option<&'a CaseLink>,
    pub(crate) event: &'a Event,
}

impl<'a> From<&'a Entry> for Candidate<'a> {
    fn from(e: &'a Entry) -> Candidate<'a> {
        Candidate {
            format: e.format,
            seq: e.seq,
            prev: e.prev,
            recorded_at: e.recorded_at,
            signer: e.signer,
            case: e.case.as_ref(),
            event: &e.event,
        }
    }
}

/// What a valid entry changes: computed by `validate`, carried out by `commit`.
#[derive(Clone, Copy)]
pub(crate) struct Checked {
    /// The UTC day of `recorded_at`.
    pub(crate) recorded_on: Date,
    pub(crate) kind: EventKind,
    pub(crate) target: Target,
}

#[derive(Clone, Copy)]
pub(crate) enum Target {
    /// RegisterOpened, OfficerAuthorized.
    Register,
    /// OfficerRevoked: the officer's index.
    Officer(u32),
    /// An event that opens a case; the controller's index if it already has cases.
    NewCase { controller: Option<u32> },
    /// An event on the existing case with this index.
    Case(u32),
}

impl View {
    /// Checks every rule of [`View::apply`], in its order.
    pub(crate) fn validate(&self, c: &Candidate<'_>) -> Result<Checked, Rejection> {
        let seq = c.seq;
        let s = &self.state;
        if c.format != FORMAT_V1 {
            return Err(Rejection::UnsupportedFormat {
                seq,
                format: c.format,
            });
        }
        if seq != s.size {
            return Err(Rejection::SeqMismatch {
                expected: s.size,
                got: seq,
            });
        }
        // Timeline items hold seqs below 2^56 (`TimelineItem`).
        if seq > MAX_SEQ {
            return Err(Rejection::LogFull { seq });
        }
        if c.prev != s.last_leaf {
            return Err(Rejection::PrevMismatch {
                seq,
                expected: s.last_leaf,
                got: c.prev,
            });
        }
        let recorded_on =
            Date::from_unix_ms(c.recorded_at).ok_or(Rejection::RecordedAtOutOfRange {
                seq,
                recorded_at: c.recorded_at,
            })?;
        if seq > 0 && c.recorded_at < s.last_recorded_at {
            return Err(Rejection::RecordedAtBackwards {
                seq,
                previous: s.last_recorded_at,
                got: c.recorded_at,
            });
        }
        let event = c.event;
        let kind = EventKind::of(event).ok_or(Rejection::UnsupportedEvent {
            seq,
            event: event.name(),
        })?;
        match (seq, kind) {
            (0, EventKind::RegisterOpened) => {}
            (0, _) => return Err(Rejection::FirstEntryNotRegisterOpened { event: kind.name() }),
            (_, EventKind::RegisterOpened) => return Err(Rejection::RegisterAlreadyOpened { seq }),
            (_, EventKind::IndexCommitted | EventKind::LogKeyRotated) => {
                self.check_log_key(seq, &c.signer, kind)?
            }
            _ => {
                self.check_log_key(seq, &c.signer, kind)?;
                self.check_signer(seq, &c.signer, required_role(event), kind)?
            }
        }
        match (event.is_case_event(), c.case) {
            (true, None) => {
                return Err(Rejection::CaseLinkMissing {
                    seq,
                    event: kind.name(),
                })
            }
            (false, Some(link)) => {
                return Err(Rejection::CaseLinkUnexpected {
                    seq,
                    event: kind.name(),
                    case: link.id.clone(),
                })
            }
            _ => {}
        }
        let target = match (event, c.case) {
            (Event::RegisterOpened(g), _) => {
                check_genesis(seq, &c.signer, g)?;
                Target::Register
            }
            (Event::OfficerAuthorized(a), _) => {
                self.check_authorize(seq, &a.officer)?;
                Target::Register
            }
            (Event::OfficerRevoked(r), _) => Target::Officer(self.check_revoke(seq, r)?),
            (Event::IndexCommitted(ic), _) => {
                self.check_index(seq, ic)?;
                Target::Register
            }
            (Event::LogKeyRotated(r), _) => {
                self.check_rotation(seq, r)?;
                Target::Register
            }
            (_, Some(link)) => self.check_case_event(seq, kind, event, link, recorded_on)?,
            // A case event without a link was refused above.
            (_, None) => {
                return Err(Rejection::CaseLinkMissing {
                    seq,
                    event: kind.name(),
                })
            }
        };
        Ok(Checked {
            recorded_on,
            kind,
            target,
        })
    }

    /// `IndexCommitted` and `LogKeyRotated` are signed by the current log key, and nothing
    /// else is (docs/FORMAT.md §3); a key a rotation retired signs neither.
    fn check_log_key(
        &self,
        seq: u64,
        signer: &PublicKey,
        kind: EventKind,
    ) -> Result<(), Rejection> {
        let Some(register) = self.state.register.as_ref() else {
            return Ok(());
        };
        let log_key = register.log_key;
        let by_log = matches!(kind, EventKind::IndexCommitted | EventKind::LogKeyRotated);
        match (by_log, *signer == log_key) {
            (true, true) | (false, false) => Ok(()),
            (true, false) => Err(match register.retired_at(signer) {
                Some(retired_at) => Rejection::SignedByRetiredLogKey {
                    seq,
                    signer: *signer,
                    retired_at,
                    log_key,
                },
                None if kind == EventKind::LogKeyRotated => Rejection::RotationNotSignedByLogKey {
                    seq,
                    signer: *signer,
                    log_key,
                },
                None => Rejection::IndexNotSignedByLogKey {
                    seq,
                    signer: *signer,
                    log_key,
                },
            }),
            (false, true) => Err(Rejection::SignedByLogKey {
                seq,
                event: kind.name(),
            }),
        }
    }

    /// `LogKeyRotated` (signed by the current log key, checked above): a reason, and a new key
    /// that is a valid Ed25519 point, never used as a log key before and no officer's.
    fn check_rotation(&self, seq: u64, r: &LogKeyRotated) -> Result<(), Rejection> {
        check_text(seq, "rotation reason", &r.reason, MAX_REASON_CHARS)?;
        if checked_key(&r.new_key).is_none() {
            return Err(Rejection::InvalidKey {
                seq,
                field: "new log key",
                key: r.new_key,
            });
        }
        if let Some(used) = self
            .state
            .register
            .iter()
            .flat_map(|g| &g.log_keys)
            .find(|k| k.key == r.new_key)
        {
            return Err(Rejection::LogKeyReused {
                seq,
                key: r.new_key,
                named_at: used.named_at,
            });
        }
        self.check_not_officer(seq, &r.new_key)
    }

    /// A log key is never an officer's key, revoked ones included.
    fn check_not_officer(&self, seq: u64, key: &PublicKey) -> Result<(), Rejection> {
        match self.officer_index.get(key) {
            Some(&i) => {
                let o = &self.state.officers[i as usize];
                Err(Rejection::LogKeyIsOfficerKey {
                    seq,
                    key: *key,
                    name: o.name.clone(),
                    authorized_at: o.authorized_at,
                })
            }
            None => Ok(()),
        }
    }

    /// The commitment is the index over every entry before it (docs/FORMAT.md §10.4).
    fn check_index(&self, seq: u64, ic: &IndexCommitted) -> Result<(), Rejection> {
        let index = &self.state.index;
        let mismatch = |field, expected: String, found: String| {
            Err(Rejection::IndexMismatch {
                seq,
                field,
                expected,
                found,
            })
        };
        if ic.size != seq {
            return mismatch("size", seq.to_string(), ic.size.to_string());
        }
        if ic.keys != index.keys() {
            return mismatch("keys", index.keys().to_string(), ic.keys.to_string());
        }
        let root = index.current_root();
        if ic.root != root {
            return mismatch("root", root.to_hex(), ic.root.to_hex());
        }
        Ok(())
    }

    fn check_signer(
        &self,
        seq: u64,
        signer: &PublicKey,
        role: Role,
        kind: EventKind,
    ) -> Result<(), Rejection> {
        let Some(&i) = self.officer_index.get(signer) else {
            return Err(Rejection::UnknownSigner {
                seq,
                signer: *signer,
            });
        };
        let o = &self.state.officers[i as usize];
        if let Some(r) = &o.revocation {
            return Err(Rejection::SignerRevoked {
                seq,
                signer: *signer,
                name: o.name.clone(),
                revoked_at: r.seq,
            });
        }
        if !o.may_sign(role) {
            return Err(Rejection::SignerNotAdmin {
                seq,
                signer: *signer,
                name: o.name.clone(),
                event: kind.name(),
            });
        }
        Ok(())
    }

    fn check_authorize(&self, seq: u64, o: &Officer) -> Result<(), Rejection> {
        check_officer(seq, o)?;
        // A log key, current or retired, never becomes an officer's: a retired key must not
        // come back to sign entries.
        if self
            .state
            .register
            .iter()
            .flat_map(|g| &g.log_keys)
            .any(|k| k.key == o.key)
        {
            return Err(Rejection::LogKeyIsOfficerKey {
                seq,
                key: o.key,
                name: o.name.clone(),
                authorized_at: seq,
            });
        }
        if let Some(&i) = self.officer_index.get(&o.key) {
            let known = &self.state.officers[i as usize];
            let name = known.name.clone();
            return Err(match known.revoked_at() {
                Some(revoked_at) => Rejection::OfficerKeyWasRevoked {
                    seq,
                    key: o.key,
                    name,
                    revoked_at,
                },
                None => Rejection::OfficerAlreadyAuthorized {
                    seq,
                    key: o.key,
                    name,
                    authorized_at: known.authorized_at,
                },
            });
        }
        Ok(())
    }

    /// Returns the revoked officer's index.
    fn check_revoke(&self, seq: u64, r: &OfficerRevoked) -> Result<u32, Rejection> {
        check_text(seq, "revocation reason", &r.reason, MAX_REASON_CHARS)?;
        let &i = self
            .officer_index
            .get(&r.key)
            .ok_or(Rejection::UnknownOfficer { seq, key: r.key })?;
        let o = &self.state.officers[i as usize];
        if let Some(revoked_at) = o.revoked_at() {
            return Err(Rejection::OfficerAlreadyRevoked {
                seq,
                key: r.key,
                name: o.name.clone(),
                revoked_at,
            });
        }
        // A register without an admin could never authorize an officer again.
        if o.role == Role::Admin
            && self
                .state
                .officers
                .iter()
                .filter(|x| x.role == Role::Admin && x.is_active())
                .count()
                == 1
        {
            return Err(Rejection::LastAdmin {
                seq,
                key: r.key,
                name: o.name.clone(),
            });
        }
        Ok(i)
    }

    fn check_case_event(
        &self,
        seq: u64,
        kind: EventKind,
        event: &Event,
        link: &CaseLink,
        recorded_on: Date,
    ) -> Result<Target, Rejection> {
        let id = link.id.as_str();
        check_id(seq, "case id", id)?;
        let opening = match event {
            Event::ComplaintReceived(e) => Some((
                &e.controller,
                e.received_on,
                "date the complaint was received",
            )),
            Event::InspectionOpened(InspectionOpened {
                opened_on,
                opens: Some(o),
                ..
            }) => Some((&o.controller, *opened_on, "date the inspection opened")),
            _ => None,
        };
        if let Some((controller, opened_on, field)) = opening {
            if let Some(&i) = self.case_index.get(id) {
                let opened_at = self.state.cases[i as usize].opened_seq();
                return Err(Rejection::CaseAlreadyOpened {
                    seq,
                    case: id.to_owned(),
                    opened_at,
                });
            }
            if self.case_count() >= u32::MAX as usize {
                return Err(Rejection::LogFull { seq });
            }
            check_link(seq, link, 0, Hash::ZERO)?;
            check_id(seq, "controller id", &controller.id)?;
            check_text(seq, "controller name", &controller.name, MAX_NAME_CHARS)?;
            if opened_on > recorded_on {
                return Err(Rejection::DateAfterRecording {
                    seq,
                    case: id.to_owned(),
                    field,
                    date: opened_on,
                    recorded_on,
                });
            }
            let controller = self.controller_index.get(controller.id.as_str()).copied();
            return Ok(Target::NewCase { controller });
        }

        let &i = self
            .case_index
            .get(id)
            .ok_or_else(|| Rejection::UnknownCase {
                seq,
                case: id.to_owned(),
                event: kind.name(),
            })?;
        let case = &self.state.cases[i as usize];
        check_transition(seq, kind, case)?;
        check_link(seq, link, case.timeline.len() as u64, case.head)?;
        let on_case = OnCase {
            seq,
            case,
            recorded_on,
        };
        match event {
            Event::InspectionOpened(e) => {
                on_case.happened("date the inspection opened", e.opened_on)?
            }
            Event::HearingHeld(e) => {
                on_case.happened("hearing date", e.held_on)?;
                check_text(seq, "hearing place", &e.place, MAX_NAME_CHARS)?;
            }
            Event::ComplianceDeadlineSet(e) => {
                on_case.not_before_opening("compliance deadline", e.due_on)?;
                on_case.deadline_after_latest(e.due_on)?;
            }
            Event::DeadlineExtended(e) => {
                let current = case.deadline.ok_or_else(|| Rejection::NoDeadlineToExtend {
                    seq,
                    case: id.to_owned(),
                })?;
                if e.due_on <= current {
                    return Err(Rejection::ExtensionNotLater {
                        seq,
                        case: id.to_owned(),
                        current,
                        got: e.due_on,
                    });
                }
                on_case.deadline_after_latest(e.due_on)?;
            }
            Event::ComplianceConfirmed(e) => {
                on_case.happened("date compliance was confirmed", e.confirmed_on)?
            }
            Event::SanctionNotified(e) => {
                on_case.happened("date the sanction was notified", e.notified_on)?;
                if e.legal_basis.trim().is_empty() {
                    return Err(Rejection::NoLegalBasis {
                        seq,
                        case: id.to_owned(),
                    });
                }
                check_text(seq, "legal basis", &e.legal_basis, MAX_NAME_CHARS)?;
                if let Sanction::Fine { amount_mad: 0 } = e.sanction {
                    return Err(Rejection::ZeroFine {
                        seq,
                        case: id.to_owned(),
                    });
                }
            }
            Event::AuthoritiesNotified(e) => on_case.authorities(e)?,
            Event::CaseClosed(e) => on_case.happened("date the case was closed", e.closed_on)?,
            Event::ComplaintInadmissible(e) => {
                on_case.happened("date the complaint was found inadmissible", e.decided_on)?
            }
            Event::ComplaintForwarded(e) => {
                on_case.happened("date the complaint was forwarded", e.forwarded_on)?;
                check_text(
                    seq,
                    "authority the complaint is forwarded to",
                    &e.to,
                    MAX_NAME_CHARS,
                )?;
            }
            Event::ProceedingsSuspended(e) => {
                on_case.happened("date the proceedings were suspended", e.suspended_on)?
            }
            Event::ProceedingsResumed(e) => {
                on_case.happened("date the proceedings resumed", e.resumed_on)?
            }
            Event::DecisionPublished(e) => {
                on_case.happened("date the decision was published", e.published_on)?;
                check_text(seq, "decision number", &e.decision_number, MAX_ID_CHARS)?;
            }
            Event::AppealLodged(e) => {
                on_case.happened("date the appeal was lodged", e.lodged_on)?;
                check_text(seq, "court", &e.court, MAX_NAME_CHARS)?;
            }
            Event::CourtRuling(e) => {
                on_case.happened("date of the ruling", e.ruled_on)?;
                check_text(seq, "court", &e.court, MAX_NAME_CHARS)?;
            }
            Event::CaseReopened(e) => {
                on_case.happened("date the case was reopened", e.reopened_on)?
            }
            Event::Amendment(a) => self.check_amendment(&on_case, a, kind)?,
            Event::Correction(e) => {
                on_case.target(e.target, kind)?;
            }
            Event::Erasure(e) => {
                check_text(seq, "erasure reason", &e.reason, MAX_REASON_CHARS)?;
                let item = on_case.target(e.target, kind)?;
                if !item.has_text() {
                    return Err(Rejection::NothingToErase {
                        seq,
                        case: id.to_owned(),
                        target: e.target,
                        target_event: item.kind().map_or("an unknown event", EventKind::name),
                    });
                }
                if let Some(erasure) = self.annotations(e.target).and_then(|a| a.erasure.as_ref()) {
                    return Err(Rejection::AlreadyErased {
                        seq,
                        case: id.to_owned(),
                        target: e.target,
                        erased_by: erasure.seq,
                    });
                }
            }
            // ComplaintReceived and an opening InspectionOpened were handled above; the
            // register-level events never reach here.
            _ => {}
        }
        Ok(Target::Case(i))
    }
}

impl View {
    /// An Amendment: an earlier entry of the same case that has the field, a new value, and
    /// the case's dates still in order once it is changed.
    fn check_amendment(
        &self,
        on_case: &OnCase<'_>,
        a: &Amendment,
        kind: EventKind,
    ) -> Result<(), Rejection> {
        let (seq, case) = (on_case.seq, on_case.case);
        let item = on_case.target(a.target, kind)?;
        let id = || case.id.to_string();
        let target_kind = item.kind();
        let field = a.amend.name();
        // `target` found the item, so it has a position.
        let pos = case.position(a.target).unwrap_or(0);
        let nothing = || Rejection::NothingToAmend {
            seq,
            case: id(),
            target: a.target,
            target_event: target_kind.map_or("an unknown event", EventKind::name),
            field,
        };
        let unchanged = || Rejection::AmendmentChangesNothing {
            seq,
            case: id(),
            target: a.target,
            field,
        };
        match &a.amend {
            AmendedField::Date(date) => {
                let current = case.dates.get(pos).copied().flatten().ok_or_else(nothing)?;
                if *date == current {
                    return Err(unchanged());
                }
                if *date > on_case.recorded_on {
                    return Err(Rejection::DateAfterRecording {
                        seq,
                        case: id(),
                        field: "amended date",
                        date: *date,
                        recorded_on: on_case.recorded_on,
                    });
                }
                if let Some((latest_seq, latest_date)) = case.dates_before(pos).next() {
                    if *date < latest_date {
                        return Err(Rejection::DateBeforeLatest {
                            seq,
                            case: id(),
                            field: "amended date",
                            date: *date,
                            latest_seq,
                            latest_date,
                        });
                    }
                }
                let later_date = case.dates_after(pos).next();
                // A deadline set after the target must still fall after it.
                let later_deadline = case
                    .deadlines
                    .iter()
                    .find(|(s, due)| *s > a.target && *date >= *due)
                    .copied();
                let conflict = match later_date {
                    Some((s, d)) if *date > d => Some((s, d)),
                    _ => later_deadline,
                };
                if let Some((later_seq, later_date)) = conflict {
                    return Err(Rejection::AmendedDateAfterLater {
                        seq,
                        case: id(),
                        target: a.target,
                        date: *date,
                        later_seq,
                        later_date,
                    });
                }
            }
            AmendedField::DueOn(due) => {
                let j = case
                    .deadlines
                    .iter()
                    .position(|(s, _)| *s == a.target)
                    .ok_or_else(nothing)?;
                let current = case.deadlines[j].1;
                if *due == current {
                    return Err(unchanged());
                }
                if let Some((latest_seq, latest_date)) = case.dates_before(pos).next() {
                    if *due <= latest_date {
                        return Err(Rejection::DeadlineNotAfterLatest {
                            seq,
                            case: id(),
                            due_on: *due,
                            latest_seq,
                            latest_date,
                        });
                    }
                }
                let is_extension = |s: u64| {
                    case.item(s).and_then(TimelineItem::kind) == Some(EventKind::DeadlineExtended)
                };
                if is_extension(a.target) && j > 0 && *due <= case.deadlines[j - 1].1 {
                    return Err(Rejection::ExtensionNotLater {
                        seq,
                        case: id(),
                        current: case.deadlines[j - 1].1,
                        got: *due,
                    });
                }
                if let Some(&(later_seq, later_date)) = case.deadlines.get(j + 1) {
                    if is_extension(later_seq) && later_date <= *due {
                        return Err(Rejection::AmendedDateAfterLater {
                            seq,
                            case: id(),
                            target: a.target,
                            date: *due,
                            later_seq,
                            later_date,
                        });
                    }
                }
                // A deadline in force may not be moved before a date of the case after it.
                if let Some((later_seq, later_date)) =
                    case.dates_after(pos).find(|(_, d)| *d >= *due)
                {
                    if case.deadline.is_some() && j + 1 == case.deadlines.len() {
                        return Err(Rejection::DeadlineNotAfterLatest {
                            seq,
                            case: id(),
                            due_on: *due,
                            latest_seq: later_seq,
                            latest_date: later_date,
                        });
                    }
                }
            }
            AmendedField::Controller(c) => {
                if pos != 0 {
                    return Err(nothing());
                }
                check_id(seq, "controller id", &c.id)?;
                check_text(seq, "controller name", &c.name, MAX_NAME_CHARS)?;
                let current = &self.state.controllers[case.controller as usize];
                if *current.id == *c.id && current.name == c.name {
                    return Err(unchanged());
                }
            }
            AmendedField::Categories(c) => {
                if pos != 0 {
                    return Err(nothing());
                }
                if *c == case.categories {
                    return Err(unchanged());
                }
            }
        }
        Ok(())
    }
}

/// The case's state machine (see [`CaseStatus`]): whether `kind` may follow in the case's
/// current state. Corrections, Erasures and Amendments may follow anything.
fn check_transition(seq: u64, kind: EventKind, case: &CaseRecord) -> Result<(), Rejection> {
    use CaseStatus as S;
    use EventKind as K;
    if kind.is_annotation() {
        return Ok(());
    }
    let status = case.status;
    let refuse = |rule: &'static str| {
        Err(Rejection::TransitionNotAllowed {
            seq,
            case: case.id.to_string(),
            event: kind.name(),
            status,
            since: case.status_seq,
            rule,
        })
    };
    if status.is_closed() {
        return match kind {
            K::DecisionPublished | K::AppealLodged | K::CaseReopened => Ok(()),
            _ => Err(Rejection::CaseIsClosed {
                seq,
                case: case.id.to_string(),
                closed_on: case
                    .position(case.status_seq)
                    .and_then(|p| case.dates[p])
                    .unwrap_or(case.opened_on),
                closed_by: case.status_seq,
                event: kind.name(),
            }),
        };
    }
    match (status, kind) {
        (_, K::CaseReopened) => refuse("only a closed case can be reopened"),
        (S::Suspended, K::ProceedingsResumed | K::CaseClosed | K::AuthoritiesNotified) => Ok(()),
        (S::Suspended, _) => refuse(
            "suspended proceedings resume (ProceedingsResumed) before anything else; meanwhile only CaseClosed, AuthoritiesNotified, Correction, Erasure or Amendment may be recorded",
        ),
        (_, K::ProceedingsResumed) => {
            refuse("ProceedingsResumed follows only ProceedingsSuspended")
        }
        (S::UnderAppeal, K::CourtRuling | K::AuthoritiesNotified) => Ok(()),
        (S::UnderAppeal, _) => refuse(
            "the case is before a court; until its ruling (CourtRuling) only AuthoritiesNotified, Correction, Erasure or Amendment may be recorded",
        ),
        (_, K::CourtRuling) => refuse("CourtRuling needs an appeal in course (AppealLodged)"),
        (_, K::ComplaintInadmissible | K::ComplaintForwarded) => {
            if case.opened_by != Opening::Complaint {
                return refuse(
                    "only a complaint can be found inadmissible or forwarded, and this case was opened by an inspection",
                );
            }
            let acted = case.timeline[1..]
                .iter()
                .any(|t| !t.kind().is_some_and(EventKind::is_annotation));
            if acted {
                return refuse(
                    "a complaint is found inadmissible or forwarded as the first act after ComplaintReceived, and this case has moved on",
                );
            }
            Ok(())
        }
        (_, K::DecisionPublished | K::AppealLodged) if !case.has_decision() => {
            refuse("a decision is published, or appealed, once the case is sanctioned or closed")
        }
        _ => Ok(()),
    }
}

/// The rules about an event on an existing case.
struct OnCase<'a> {
    seq: u64,
    case: &'a CaseRecord,
    recorded_on: Date,
}

impl OnCase<'_> {
    /// A date in the case, deadlines included, is not before the case opened.
    fn not_before_opening(&self, field: &'static str, date: Date) -> Result<(), Rejection> {
        if date < self.case.opened_on {
            return Err(Rejection::DateBeforeCaseOpened {
                seq: self.seq,
                case: self.case.id.to_string(),
                field,
                date,
                opened_on: self.case.opened_on,
            });
        }
        Ok(())
    }

    /// The date of something that happened: not before the case opened, not before the
    /// case's latest date (a case's dates never go backwards), and not after the day the entry
    /// is recorded.
    fn happened(&self, field: &'static str, date: Date) -> Result<(), Rejection> {
        self.not_before_opening(field, date)?;
        if let Some((latest_seq, latest_date)) = self.case.latest_date() {
            if date < latest_date {
                return Err(Rejection::DateBeforeLatest {
                    seq: self.seq,
                    case: self.case.id.to_string(),
                    field,
                    date,
                    latest_seq,
                    latest_date,
                });
            }
        }
        if date > self.recorded_on {
            return Err(Rejection::DateAfterRecording {
                seq: self.seq,
                case: self.case.id.to_string(),
                field,
                date,
                recorded_on: self.recorded_on,
            });
        }
        Ok(())
    }

    /// A deadline falls after the day it is set, which is at least the case's latest date.
    fn deadline_after_latest(&self, due_on: Date) -> Result<(), Rejection> {
        match self.case.latest_date() {
            Some((latest_seq, latest_date)) if due_on <= latest_date => {
                Err(Rejection::DeadlineNotAfterLatest {
                    seq: self.seq,
                    case: self.case.id.to_string(),
                    due_on,
                    latest_seq,
                    latest_date,
                })
            }
            _ => Ok(()),
        }
    }

    fn authorities(&self, e: &AuthoritiesNotified) -> Result<(), Rejection> {
        self.happened("date the authorities were notified", e.notified_on)?;
        let case = || self.case.id.to_string();
        if e.authorities.is_empty() {
            return Err(Rejection::NoAuthorities {
                seq: self.seq,
                case: case(),
            });
        }
        if e.authorities.len() > MAX_AUTHORITIES {
            return Err(Rejection::TooManyAuthorities {
                seq: self.seq,
                case: case(),
                count: e.authorities.len(),
                max: MAX_AUTHORITIES,
            });
        }
        e.authorities
            .iter()
            .try_for_each(|a| check_text(self.seq, "authority notified", a, MAX_NAME_CHARS))
    }

    /// A Correction's, Erasure's or Amendment's target: an earlier entry of this case. Returns its
    /// timeline item.
    fn target(&self, target: u64, kind: EventKind) -> Result<TimelineItem, Rejection> {
        let (seq, event) = (self.seq, kind.name());
        if target >= seq {
            return Err(Rejection::TargetNotEarlier {
                seq,
                case: self.case.id.to_string(),
                target,
                event,
            });
        }
        self.case
            .item(target)
            .ok_or_else(|| Rejection::TargetNotInCase {
                seq,
                case: self.case.id.to_string(),
                target,
                event,
            })
    }
}

/// The case link's seq and prev are the case's event count and head (DESIGN §4).
fn check_link(seq: u64, link: &CaseLink, expected: u64, head: Hash) -> Result<(), Rejection> {
    if u64::from(link.seq) != expected {
        return Err(Rejection::CaseSeqMismatch {
            seq,
            case: link.id.clone(),
            expected,
            got: link.seq,
        });
    }
    if link.prev != head {
        return Err(Rejection::CasePrevMismatch {
            seq,
            case: link.id.clone(),
            expected: head,
            got: link.prev,
        });
    }
    Ok(())
}

/// `RegisterOpened` (entry 0): what the register is and who may write to it.
fn check_genesis(seq: u64, signer: &PublicKey, g: &RegisterOpened) -> Result<(), Rejection> {
    check_origin(seq, &g.origin)?;
    check_text(seq, "register title", &g.title, MAX_NAME_CHARS)?;
    check_text(seq, "authority", &g.authority, MAX_NAME_CHARS)?;
    if checked_key(&g.log_key).is_none() {
        return Err(Rejection::InvalidKey {
            seq,
            field: "log key",
            key: g.log_key,
        });
    }
    for (i, o) in g.officers.iter().enumerate() {
        check_officer(seq, o)?;
        // The list is bounded by the entry's 64 KiB, so the quadratic scan stays small.
        if let Some(first) = g.officers[..i].iter().find(|p| p.key == o.key) {
            return Err(Rejection::OfficerAlreadyAuthorized {
                seq,
                key: o.key,
                name: first.name.clone(),
                authorized_at: 0,
            });
        }
    }
    if !g.officers.iter().any(|o| o.role == Role::Admin) {
        return Err(Rejection::NoAdmin);
    }
    if !g
        .officers
        .iter()
        .any(|o| o.role == Role::Admin && o.key == *signer)
    {
        return Err(Rejection::GenesisNotSignedByListedAdmin { signer: *signer });
    }
    Ok(())
}

fn check_officer(seq: u64, o: &Officer) -> Result<(), Rejection> {
    check_text(seq, "officer name", &o.name, MAX_NAME_CHARS)?;
    if checked_key(&o.key).is_none() {
        return Err(Rejection::InvalidKey {
            seq,
            field: "officer key",
            key: o.key,
        });
    }
    Ok(())
}
