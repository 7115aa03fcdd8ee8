//! The register view and the fold that builds it (DESIGN §6).

use std::collections::{BTreeMap, HashMap};

use sijil_core::entry::{CaseLink, Entry, UnsignedEntry, FORMAT_V1};
use sijil_core::event::{
    AmendedField, Amendment, Controller, Date, Event, InspectionOpened, PublicKey, Role, TextDigest,
};
use sijil_core::Hash;
use sijil_index::Index;

use crate::case::{
    Annotations, AppealRecord, AuthoritiesRecord, CaseRecord, CaseStatus, Closing,
    ComplianceRecord, DecisionRecord, ErasureNote, EventKind, Hearing, Opening, RulingRecord,
    SanctionRecord, TimelineItem,
};
use crate::register::{LogKeyRecord, OfficerRecord, RegisterInfo, Revocation};
use crate::rejection::Rejection;
use crate::rules::{Candidate, Checked, Target};

/// The current register: cases, controllers, officers and statistics, folded from the log's
/// entries in order (DESIGN §6).
///
/// The fold is pure and deterministic: no clock, no I/O, no threads. Every entry goes through
/// the same rules whether it is about to be signed (the writer calls [`View::check_unsigned`]),
/// or replayed by `verify`, `audit` or a mirror ([`View::apply`]), so an invalid event never
/// enters the log and a log that breaks the rules is caught.
///
/// The view trusts that the entries it is given are decoded and their signatures verified
/// (`sijil_core::entry::verify_signatures`); it checks everything else: the hash chain as far
/// as it sees it, the per-case chains, who signed, and the rules of each event (see
/// [`View::apply`]). It never holds an entry's body: per case it keeps a compact record and the
/// seqs of its entries, so its memory grows with the number of cases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub(crate) state: State,
    /// Case id → index in `state.cases`. Rebuilt from the state on load, never serialized, so
    /// its (random) iteration order never reaches an output.
    pub(crate) case_index: HashMap<Box<str>, u32>,
    /// Controller id → index in `state.controllers`.
    pub(crate) controller_index: HashMap<Box<str>, u32>,
    /// Officer key → index in `state.officers`.
    pub(crate) officer_index: HashMap<PublicKey, u32>,
    /// Set for a writer's partial view ([`View::from_slice`]): it holds only the records a
    /// batch touches, so its case indexes are not the cases' places in the register.
    pub(crate) partial: Option<Box<Partial>>,
}

/// What a partial view knows of the cases it does not hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Partial {
    /// The ordinal (place in order of opening, in the whole register) of each case held.
    pub(crate) ordinals: Vec<u32>,
    /// The number of cases in the whole register.
    pub(crate) cases: u32,
}

/// The part of the view a snapshot holds; the indexes are derived from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct State {
    /// The number of entries applied.
    pub(crate) size: u64,
    /// The leaf hash of entry `size - 1` (zeros when empty).
    pub(crate) last_leaf: Hash,
    /// `recorded_at` of entry `size - 1` (0 when empty).
    pub(crate) last_recorded_at: i64,
    pub(crate) register: Option<RegisterInfo>,
    /// In order of authorization.
    pub(crate) officers: Vec<OfficerRecord>,
    /// In order of opening.
    pub(crate) cases: Vec<CaseRecord>,
    /// In order of first appearance.
    pub(crate) controllers: Vec<ControllerRecord>,
    /// Corrections and erasures, keyed by the seq of the entry they target; only targeted
    /// entries have one.
    pub(crate) annotations: BTreeMap<u64, Annotations>,
    /// Every redactable text digest a committed entry names (erased ones included), with
    /// that entry's seq: a server serves only these blobs, and none of an erased entry (a file
    /// under `blobs/` named by no entry is the text of a batch that never committed).
    pub(crate) texts: BTreeMap<TextDigest, u64>,
    /// The log-derived index (docs/FORMAT.md §10) over the same entries.
    pub(crate) index: Index,
    /// The seq of the latest `IndexCommitted`.
    pub(crate) last_commitment: Option<u64>,
}

/// A data controller and its cases.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct ControllerRecord {
    pub(crate) id: Box<str>,
    /// The name given when its latest case was opened.
    pub(crate) name: String,
    /// Earlier names, in order of first use, without the current one.
    pub(crate) former_names: Vec<String>,
    /// Its cases' ordinals ([`View::ordinal`]; in a whole view, indexes into its cases), in
    /// order of opening.
    pub(crate) cases: Vec<u32>,
}

impl View {
    /// An empty view: the register before its entry 0.
    pub fn new() -> View {
        View::default()
    }

    /// Applies the next entry of the log, whose leaf hash (`SHA-256(0x00 ‖ bytes)`,
    /// `sijil_core::leaf_hash`) is `leaf_hash`, or leaves the view untouched.
    ///
    /// The entry must already be decoded and its signature verified. The rules, checked in
    /// this order (the first broken one is returned):
    ///
    /// 1. The log's chain (DESIGN §4): `format` is 1 ([`Rejection::UnsupportedFormat`]);
    ///    `seq` is the number of entries applied so far ([`Rejection::SeqMismatch`]); `prev`
    ///    is the leaf hash of the entry before, zeros for entry 0
    ///    ([`Rejection::PrevMismatch`]); `recorded_at` is a time in 1900–9999
    ///    ([`Rejection::RecordedAtOutOfRange`]) and not before the previous entry's
    ///    ([`Rejection::RecordedAtBackwards`]).
    /// 2. The event is in the v1 catalogue ([`Rejection::UnsupportedEvent`]); entry 0 is
    ///    `RegisterOpened` ([`Rejection::FirstEntryNotRegisterOpened`]) and no other is
    ///    ([`Rejection::RegisterAlreadyOpened`]).
    /// 3. The signer (after entry 0) is an officer ([`Rejection::UnknownSigner`]) whose key is
    ///    not revoked ([`Rejection::SignerRevoked`]), an admin for officer management
    ///    ([`Rejection::SignerNotAdmin`]); see [`crate::required_role`].
    /// 4. A case event names its case and a register-level event none
    ///    ([`Rejection::CaseLinkMissing`], [`Rejection::CaseLinkUnexpected`]).
    /// 5. The event's own rules; for case events first the case id's syntax
    ///    ([`Rejection::InvalidText`]), that the case exists
    ///    ([`Rejection::UnknownCase`]) or, for an opening event, does not
    ///    ([`Rejection::CaseAlreadyOpened`]), that it is not closed
    ///    ([`Rejection::CaseIsClosed`]), then the case link: its seq is the case's event count
    ///    and its prev the leaf hash of the case's latest event, 0 and zeros for an opening
    ///    event ([`Rejection::CaseSeqMismatch`], [`Rejection::CasePrevMismatch`]).
    ///
    /// The event rules:
    ///
    /// - `RegisterOpened`: a valid origin, title and authority; a valid Ed25519 log key and
    ///   officer keys ([`Rejection::InvalidKey`]), each listed once
    ///   ([`Rejection::OfficerAlreadyAuthorized`]); at least one admin
    ///   ([`Rejection::NoAdmin`]); signed by one of the admins it lists
    ///   ([`Rejection::GenesisNotSignedByListedAdmin`]).
    /// - `IndexCommitted` and `LogKeyRotated` are signed by the current log key and no other
    ///   entry is ([`Rejection::IndexNotSignedByLogKey`], [`Rejection::SignedByLogKey`]); a
    ///   key a rotation retired signs neither ([`Rejection::SignedByRetiredLogKey`]).
    /// - `LogKeyRotated` (docs/FORMAT.md §3.1): signed by the current log key
    ///   ([`Rejection::RotationNotSignedByLogKey`]), a reason, a valid Ed25519 key
    ///   ([`Rejection::InvalidKey`]) never used as a log key ([`Rejection::LogKeyReused`]) and
    ///   no officer's, revoked ones included ([`Rejection::LogKeyIsOfficerKey`]).
    /// - `OfficerAuthorized`: a valid name and key, not already authorized
    ///   ([`Rejection::OfficerAlreadyAuthorized`]), never revoked
    ///   ([`Rejection::OfficerKeyWasRevoked`]) and no log key, current or retired
    ///   ([`Rejection::LogKeyIsOfficerKey`]).
    /// - `OfficerRevoked`: a reason; a known key ([`Rejection::UnknownOfficer`]), not already
    ///   revoked ([`Rejection::OfficerAlreadyRevoked`]), not the last active admin
    ///   ([`Rejection::LastAdmin`]). An admin may revoke their own key if another admin
    ///   remains.
    /// - `ComplaintReceived` opens a case; `InspectionOpened` opens one when `opens` is set and
    ///   otherwise is held on an existing, open case. A valid controller id and name. The
    ///   controller's name is the one given by its latest case (companies get renamed; the
    ///   earlier names stay listed).
    /// - Dates of things that happened (received, inspection, hearing, confirmation,
    ///   notifications, closing) are not after the UTC day of `recorded_at`
    ///   ([`Rejection::DateAfterRecording`]). Every date in a case event after the opening one,
    ///   deadlines included, is not before the day the case opened
    ///   ([`Rejection::DateBeforeCaseOpened`]). Deadlines may be in the past or the future.
    /// - `DeadlineExtended` needs a deadline in force ([`Rejection::NoDeadlineToExtend`]) and
    ///   a later date ([`Rejection::ExtensionNotLater`]).
    /// - `SanctionNotified` names its legal basis ([`Rejection::NoLegalBasis`]); a fine is
    ///   above 0 MAD ([`Rejection::ZeroFine`]).
    /// - `AuthoritiesNotified` names 1 to 32 authorities ([`Rejection::NoAuthorities`],
    ///   [`Rejection::TooManyAuthorities`]).
    /// - `Correction`, `Erasure` and `Amendment` point at an earlier entry ([`Rejection::TargetNotEarlier`])
    ///   of the same case ([`Rejection::TargetNotInCase`]); an Erasure's target holds
    ///   redactable text ([`Rejection::NothingToErase`]) not already erased
    ///   ([`Rejection::AlreadyErased`]). A Correction may target any entry of the case,
    ///   another Correction included.
    /// - The case's state machine (issue 13, see [`CaseStatus`] and the crate's README): each
    ///   event is legal only in some states ([`Rejection::TransitionNotAllowed`]); after a
    ///   closure only Correction, Erasure, Amendment, DecisionPublished, AppealLodged and
    ///   CaseReopened ([`Rejection::CaseIsClosed`]).
    /// - A case's dates never go backwards: an event's own date (`Event::own_date`) is not
    ///   before the case's latest date, amendments included ([`Rejection::DateBeforeLatest`]);
    ///   a deadline falls after it ([`Rejection::DeadlineNotAfterLatest`]). Each refusal
    ///   names the entry that carries the conflicting date.
    /// - `Amendment` points at an earlier entry of the case that has the field it changes
    ///   ([`Rejection::NothingToAmend`]), changes it ([`Rejection::AmendmentChangesNothing`])
    ///   and keeps the case's dates in order ([`Rejection::AmendedDateAfterLater`]).
    /// - `Erasure` is signed by an admin ([`crate::required_role`]).
    /// - Clear text (ids, names, places, reasons, legal bases) is non-empty, bounded, without
    ///   control characters or spaces at its ends; ids use `A–Z a–z 0–9 . _ / -`
    ///   ([`Rejection::InvalidText`], see `text.rs` for the limits).
    ///
    /// [`Rejection::LogFull`] comes back only past 2^56 entries or 2^32 cases.
    ///
    /// # Errors
    /// The [`Rejection`] of the first rule the entry breaks; the view is then unchanged.
    pub fn apply(&mut self, entry: &Entry, leaf_hash: Hash) -> Result<(), Rejection> {
        if let Event::IndexCommitted(_) = entry.event {
            // The commitment is checked against the index over every entry before it; the
            // flush is what any later entry would see, accepted or not.
            self.state.index.flush();
        }
        let candidate = Candidate::from(entry);
        let checked = self.validate(&candidate).inspect_err(|r| {
            tracing::debug!(seq = entry.seq, rejection = %r, "entry rejected");
        })?;
        self.commit(&candidate, checked, leaf_hash);
        Ok(())
    }

    /// Checks that `entry` could be applied next, without applying it: the rules of
    /// [`View::apply`], which needs the leaf hash only to remember it.
    ///
    /// # Errors
    /// As [`View::apply`].
    pub fn check(&self, entry: &Entry) -> Result<(), Rejection> {
        self.validate(&Candidate::from(entry)).map(drop)
    }

    /// Checks an entry before it is signed by `signer`: the writer's question "may this event
    /// be appended?", asked under the log's lock with `seq`, `prev` and the case link taken
    /// from this view ([`View::size`], [`View::last_leaf_hash`], [`View::next_case_link`]).
    ///
    /// # Errors
    /// As [`View::apply`].
    pub fn check_unsigned(
        &self,
        entry: &UnsignedEntry,
        signer: &PublicKey,
    ) -> Result<(), Rejection> {
        let candidate = Candidate {
            format: FORMAT_V1,
            seq: entry.seq,
            prev: entry.prev,
            recorded_at: entry.recorded_at,
            signer: *signer,
            case: entry.case.as_ref(),
            event: &entry.event,
        };
        self.validate(&candidate).map(drop)
    }

    /// The log-derived index over the entries applied (docs/FORMAT.md §10). Its root and
    /// proofs are as of the latest `IndexCommitted` applied ([`View::flush_index`] brings them
    /// up to every entry); a view at a checkpoint is always current.
    pub fn index(&self) -> &Index {
        &self.state.index
    }

    /// Brings the index's trie up to every entry applied.
    pub fn flush_index(&mut self) {
        self.state.index.flush();
    }

    /// Checks the rule of docs/FORMAT.md §10.4 for a checkpoint of the view's size: if it
    /// covers more than the genesis, its last entry is an `IndexCommitted` (whose root
    /// [`View::apply`] checked).
    ///
    /// # Errors
    /// [`Rejection::CheckpointWithoutIndex`].
    pub fn check_checkpoint_end(&self) -> Result<(), Rejection> {
        let size = self.state.size;
        if size <= 1 || self.state.last_commitment == Some(size - 1) {
            return Ok(());
        }
        Err(Rejection::CheckpointWithoutIndex {
            size,
            last_commitment: self.state.last_commitment,
        })
    }

    /// The number of entries applied: the seq of the next entry.
    pub fn size(&self) -> u64 {
        self.state.size
    }

    /// The leaf hash of the latest entry (zeros before entry 0): the `prev` of the next one.
    pub fn last_leaf_hash(&self) -> Hash {
        self.state.last_leaf
    }

    /// `recorded_at` of the latest entry, `None` before entry 0. The writer records the next
    /// entry at `max(now, this)` so a clock that steps back does not get an event rejected.
    pub fn last_recorded_at(&self) -> Option<i64> {
        (self.state.size > 0).then_some(self.state.last_recorded_at)
    }

    /// The register's origin, from `RegisterOpened`; `None` before entry 0.
    pub fn origin(&self) -> Option<&str> {
        self.state.register.as_ref().map(|r| r.origin.as_str())
    }

    /// What `RegisterOpened` says about the register; `None` before entry 0.
    pub fn register(&self) -> Option<&RegisterInfo> {
        self.state.register.as_ref()
    }

    /// The case link the next event of case `case_id` must carry (DESIGN §4): `seq` is the
    /// case's event count and `prev` the leaf hash of its latest event; `0` and zeros when no
    /// such case exists (the link of an event that opens it).
    pub fn next_case_link(&self, case_id: &str) -> CaseLink {
        let (seq, prev) = match self.case_index.get(case_id) {
            // A case with 2^32 events gets a link that `apply` rejects (CaseSeqMismatch):
            // CaseLink counts in u32.
            Some(&i) => {
                let case = &self.state.cases[i as usize];
                (
                    u32::try_from(case.timeline.len()).unwrap_or(u32::MAX),
                    case.head,
                )
            }
            None => (0, Hash::ZERO),
        };
        CaseLink {
            id: case_id.to_owned(),
            seq,
            prev,
        }
    }

    /// Whether `key` may sign, now, an event that needs `role` (see
    /// [`crate::required_role`]): an officer's key, not revoked, with the admin role if
    /// `role` is admin. Entry 0 has its own rule (signed by an admin it lists).
    pub fn is_authorized(&self, key: &PublicKey, role: Role) -> bool {
        self.officer(key).is_some_and(|o| o.may_sign(role))
    }

    /// The officer who holds (or held) `key`.
    pub fn officer(&self, key: &PublicKey) -> Option<&OfficerRecord> {
        self.officer_index
            .get(key)
            .map(|&i| &self.state.officers[i as usize])
    }

    /// Every officer's key ever authorized, in order of authorization, revoked ones included.
    pub fn officers(&self) -> &[OfficerRecord] {
        &self.state.officers
    }

    /// Whether the blob of `digest` may be published: a committed entry names it and that
    /// entry's text was not erased.
    pub fn text_is_published(&self, digest: &TextDigest) -> bool {
        self.state
            .texts
            .get(digest)
            .is_some_and(|seq| self.annotations(*seq).is_none_or(|a| a.erasure.is_none()))
    }

    /// The corrections and erasure that point at entry `seq`, if any does.
    pub fn annotations(&self, seq: u64) -> Option<&Annotations> {
        self.state.annotations.get(&seq)
    }

    /// An estimate of the heap memory the view holds, in bytes: the sum of its collections'
    /// capacities times their element sizes, plus the strings and boxed ids they own (hash
    /// maps counted as one key, value and control byte per bucket; allocator overhead and
    /// B-tree nodes' slack not counted).
    pub fn heap_bytes(&self) -> usize {
        self.heap_parts().iter().map(|(_, b)| b).sum()
    }

    /// [`View::heap_bytes`] by part: the register, officers, cases, controllers, annotations
    /// (corrections and erasures), published texts, the id indexes, and the log-derived index.
    pub fn heap_parts(&self) -> [(&'static str, usize); 8] {
        use std::mem::size_of;
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        fn strings(v: &[String]) -> usize {
            v.iter().map(String::capacity).sum()
        }
        let s = &self.state;
        let register = s.register.as_ref().map_or(0, |r| {
            r.origin.capacity() + r.title.capacity() + r.authority.capacity()
        });
        let officers = vec(&s.officers)
            + s.officers
                .iter()
                .map(|o| {
                    o.name.capacity() + o.revocation.as_ref().map_or(0, |r| r.reason.capacity())
                })
                .sum::<usize>();
        let cases = vec(&s.cases)
            + s.cases
                .iter()
                .map(|c| {
                    c.id.len()
                        + vec(&c.timeline)
                        + vec(&c.hearings)
                        + c.hearings.iter().map(|h| h.place.capacity()).sum::<usize>()
                        + vec(&c.sanctions)
                        + c.sanctions
                            .iter()
                            .map(|x| x.legal_basis.capacity())
                            .sum::<usize>()
                        + vec(&c.authorities)
                        + c.authorities
                            .iter()
                            .map(|a| vec(&a.authorities) + strings(&a.authorities))
                            .sum::<usize>()
                        + vec(&c.dates)
                        + vec(&c.deadlines)
                        + std::mem::size_of_val(c.categories.as_slice())
                        + vec(&c.decisions)
                        + c.decisions
                            .iter()
                            .map(|d| d.decision_number.capacity())
                            .sum::<usize>()
                        + vec(&c.appeals)
                        + c.appeals.iter().map(|a| a.court.capacity()).sum::<usize>()
                })
                .sum::<usize>();
        let controllers = vec(&s.controllers)
            + s.controllers
                .iter()
                .map(|c| {
                    c.id.len()
                        + c.name.capacity()
                        + vec(&c.former_names)
                        + strings(&c.former_names)
                        + vec(&c.cases)
                })
                .sum::<usize>();
        let annotations = s
            .annotations
            .values()
            .map(|a| {
                size_of::<(u64, Annotations)>()
                    + vec(&a.corrections)
                    + vec(&a.amendments)
                    + a.erasure.as_ref().map_or(0, |e| e.reason.capacity())
            })
            .sum::<usize>();
        let indexes = self.case_index.capacity() * (size_of::<(Box<str>, u32)>() + 1)
            + self.case_index.keys().map(|k| k.len()).sum::<usize>()
            + self.controller_index.capacity() * (size_of::<(Box<str>, u32)>() + 1)
            + self.controller_index.keys().map(|k| k.len()).sum::<usize>()
            + self.officer_index.capacity() * (size_of::<(PublicKey, u32)>() + 1);
        // A B-tree node holds up to 11 keys; count them full plus a pointer each.
        let texts = s.texts.len() * (size_of::<(TextDigest, u64)>() + size_of::<usize>());
        [
            ("register", register),
            ("officers", officers),
            ("cases", cases),
            ("controllers", controllers),
            ("annotations", annotations),
            ("texts", texts),
            ("id indexes", indexes),
            ("log-derived index", s.index.heap_bytes()),
        ]
    }

    /// Mutates the view for an entry `validate` accepted: nothing here can fail, so the view
    /// is never left half-changed.
    fn commit(&mut self, c: &Candidate<'_>, checked: Checked, leaf: Hash) {
        let seq = c.seq;
        match (c.event, checked.target, c.case) {
            (Event::RegisterOpened(g), _, _) => {
                self.state.register = Some(RegisterInfo {
                    origin: g.origin.clone(),
                    title: g.title.clone(),
                    authority: g.authority.clone(),
                    log_key: g.log_key,
                    opened_at: c.recorded_at,
                    log_keys: vec![LogKeyRecord {
                        key: g.log_key,
                        named_at: 0,
                    }],
                });
                for o in &g.officers {
                    self.add_officer(o, seq);
                }
            }
            (Event::OfficerAuthorized(a), _, _) => self.add_officer(&a.officer, seq),
            (Event::LogKeyRotated(r), _, _) => {
                if let Some(info) = self.state.register.as_mut() {
                    info.log_key = r.new_key;
                    info.log_keys.push(LogKeyRecord {
                        key: r.new_key,
                        named_at: seq,
                    });
                }
            }
            (Event::OfficerRevoked(r), Target::Officer(i), _) => {
                self.state.officers[i as usize].revocation = Some(Revocation {
                    seq,
                    reason: r.reason.clone(),
                });
            }
            (event, Target::NewCase { controller }, Some(link)) => {
                self.open_case(seq, link, event, controller, checked.kind, leaf);
            }
            (event, Target::Case(i), _) => self.record(seq, i, event, &checked, leaf),
            // validate() pairs OfficerRevoked with an officer and opening events with a link.
            _ => {}
        }
        if has_text(c.event) {
            self.state
                .texts
                .extend(c.event.texts().into_iter().map(|d| (*d, seq)));
        }
        if let Event::IndexCommitted(_) = c.event {
            self.state.last_commitment = Some(seq);
        }
        // validate() checked that seq is the view's next entry, and the index covers exactly
        // the view's entries.
        let applied = self.state.index.apply_parts(seq, &leaf, c.case, c.event);
        debug_assert!(
            applied.is_ok(),
            "index out of step with the view: {applied:?}"
        );
        self.state.size = seq + 1;
        self.state.last_leaf = leaf;
        self.state.last_recorded_at = c.recorded_at;
    }

    fn add_officer(&mut self, o: &sijil_core::event::Officer, seq: u64) {
        let s = &mut self.state;
        self.officer_index.insert(o.key, s.officers.len() as u32);
        s.officers.push(OfficerRecord {
            key: o.key,
            name: o.name.clone(),
            role: o.role,
            authorized_at: seq,
            revocation: None,
        });
    }

    /// Opens a case; `controller` is the controller's index if it already has cases.
    fn open_case(
        &mut self,
        seq: u64,
        link: &CaseLink,
        event: &Event,
        controller: Option<u32>,
        kind: EventKind,
        leaf: Hash,
    ) {
        let (named, categories, opened_by, opened_on) = match event {
            Event::ComplaintReceived(e) => (
                &e.controller,
                e.categories.clone(),
                Opening::Complaint,
                e.received_on,
            ),
            Event::InspectionOpened(InspectionOpened {
                opened_on,
                opens: Some(o),
                ..
            }) => (
                &o.controller,
                o.categories.clone(),
                Opening::Inspection,
                *opened_on,
            ),
            // validate() returns NewCase only for the two opening events.
            _ => return,
        };
        // validate() refuses a case beyond u32::MAX (LogFull), so the casts hold.
        let ordinal = self.case_count() as u32;
        if let Some(p) = self.partial.as_mut() {
            p.ordinals.push(ordinal);
            p.cases += 1;
        }
        let s = &mut self.state;
        let case_index = s.cases.len() as u32;
        let ci = match controller {
            Some(ci) => {
                rename(&mut s.controllers[ci as usize], &named.name);
                ci
            }
            None => add_controller(&mut s.controllers, &mut self.controller_index, named),
        };
        s.controllers[ci as usize].cases.push(ordinal);
        s.cases.push(CaseRecord {
            id: link.id.as_str().into(),
            controller: ci,
            categories,
            opened_by,
            opened_on,
            status: match opened_by {
                Opening::Complaint => CaseStatus::Open,
                Opening::Inspection => CaseStatus::UnderInvestigation,
            },
            status_seq: seq,
            resume_to: None,
            dates: vec![Some(opened_on)],
            deadlines: Vec::new(),
            deadline: None,
            head: leaf,
            timeline: vec![TimelineItem::new(seq, kind, has_text(event))],
            hearings: Vec::new(),
            sanctions: Vec::new(),
            authorities: Vec::new(),
            compliance: None,
            closing: None,
            decisions: Vec::new(),
            appeals: Vec::new(),
        });
        self.case_index.insert(link.id.as_str().into(), case_index);
    }

    /// The ordinal of held case `i`: its place, in order of opening, among every case of the
    /// register. Controllers list their cases by ordinal, so that a partial view's records
    /// mean the same as a whole view's.
    pub(crate) fn ordinal(&self, i: u32) -> u32 {
        match &self.partial {
            Some(p) => p.ordinals.get(i as usize).copied().unwrap_or(u32::MAX),
            None => i,
        }
    }

    /// The number of cases in the register (a partial view holds fewer).
    pub(crate) fn case_count(&self) -> usize {
        match &self.partial {
            Some(p) => p.cases as usize,
            None => self.state.cases.len(),
        }
    }

    /// Records an event on the existing case `i`: its timeline, head and status (see
    /// [`CaseStatus`]).
    fn record(&mut self, seq: u64, i: u32, event: &Event, checked: &Checked, leaf: Hash) {
        let s = &mut self.state;
        let case = &mut s.cases[i as usize];
        case.timeline
            .push(TimelineItem::new(seq, checked.kind, has_text(event)));
        case.dates.push(event.own_date().map(|(_, d)| d));
        case.head = leaf;
        match event {
            Event::InspectionOpened(_) => investigate(case, seq),
            Event::HearingHeld(e) => {
                investigate(case, seq);
                case.hearings.push(Hearing {
                    seq,
                    held_on: e.held_on,
                    place: e.place.clone(),
                });
            }
            Event::ComplianceDeadlineSet(e) => await_compliance(case, seq, e.due_on),
            Event::DeadlineExtended(e) => await_compliance(case, seq, e.due_on),
            Event::ComplianceConfirmed(e) => {
                case.compliance = Some(ComplianceRecord {
                    seq,
                    confirmed_on: e.confirmed_on,
                });
                case.deadline = None;
                set_status(case, CaseStatus::Complied, seq);
            }
            Event::SanctionNotified(e) => {
                case.sanctions.push(SanctionRecord {
                    seq,
                    notified_on: e.notified_on,
                    sanction: e.sanction,
                    legal_basis: e.legal_basis.clone(),
                });
                set_status(case, CaseStatus::Sanctioned, seq);
            }
            Event::AuthoritiesNotified(e) => case.authorities.push(AuthoritiesRecord {
                seq,
                notified_on: e.notified_on,
                authorities: e.authorities.clone(),
            }),
            Event::CaseClosed(e) => {
                case.closing = Some(Closing {
                    seq,
                    closed_on: e.closed_on,
                    outcome: e.outcome,
                });
                close(case, CaseStatus::Closed, seq);
            }
            Event::ComplaintInadmissible(_) => close(case, CaseStatus::Inadmissible, seq),
            Event::ComplaintForwarded(_) => close(case, CaseStatus::Forwarded, seq),
            Event::ProceedingsSuspended(_) | Event::AppealLodged(_) => {
                if let Event::AppealLodged(e) = event {
                    case.appeals.push(AppealRecord {
                        seq,
                        lodged_on: e.lodged_on,
                        court: e.court.clone(),
                        by: e.by,
                        ruling: None,
                    });
                }
                case.resume_to = Some(case.status);
                let to = match event {
                    Event::AppealLodged(_) => CaseStatus::UnderAppeal,
                    _ => CaseStatus::Suspended,
                };
                set_status(case, to, seq);
            }
            Event::ProceedingsResumed(_) | Event::CourtRuling(_) => {
                if let (Event::CourtRuling(e), Some(appeal)) = (event, case.appeals.last_mut()) {
                    appeal.ruling = Some(RulingRecord {
                        seq,
                        ruled_on: e.ruled_on,
                        ruling: e.ruling,
                    });
                }
                // validate() allows these only in Suspended and UnderAppeal, which always
                // record where they came from.
                let back = case
                    .resume_to
                    .take()
                    .unwrap_or(CaseStatus::UnderInvestigation);
                set_status(case, back, seq);
            }
            Event::CaseReopened(_) => {
                case.closing = None;
                case.resume_to = None;
                set_status(case, CaseStatus::Reopened, seq);
            }
            Event::DecisionPublished(e) => case.decisions.push(DecisionRecord {
                seq,
                published_on: e.published_on,
                decision_number: e.decision_number.clone(),
            }),
            Event::Correction(e) => s
                .annotations
                .entry(e.target)
                .or_default()
                .corrections
                .push(seq),
            Event::Erasure(e) => {
                s.annotations.entry(e.target).or_default().erasure = Some(ErasureNote {
                    seq,
                    erased_on: checked.recorded_on,
                    reason: e.reason.clone(),
                });
            }
            Event::Amendment(a) => {
                s.annotations
                    .entry(a.target)
                    .or_default()
                    .amendments
                    .push(seq);
                self.amend(i, a);
            }
            _ => {}
        }
    }

    /// Applies an Amendment that `validate` accepted to case `i`'s projected values.
    fn amend(&mut self, i: u32, a: &Amendment) {
        let ordinal = self.ordinal(i);
        let s = &mut self.state;
        let case = &mut s.cases[i as usize];
        let target = a.target;
        let Some(pos) = case.position(target) else {
            return;
        };
        match &a.amend {
            AmendedField::Date(date) => {
                let date = *date;
                case.dates[pos] = Some(date);
                if pos == 0 {
                    case.opened_on = date;
                }
                for h in case.hearings.iter_mut().filter(|h| h.seq == target) {
                    h.held_on = date;
                }
                for x in case.sanctions.iter_mut().filter(|x| x.seq == target) {
                    x.notified_on = date;
                }
                for x in case.authorities.iter_mut().filter(|x| x.seq == target) {
                    x.notified_on = date;
                }
                for x in case.decisions.iter_mut().filter(|x| x.seq == target) {
                    x.published_on = date;
                }
                for x in case.appeals.iter_mut() {
                    if x.seq == target {
                        x.lodged_on = date;
                    }
                    if let Some(r) = x.ruling.as_mut().filter(|r| r.seq == target) {
                        r.ruled_on = date;
                    }
                }
                if let Some(c) = case.compliance.as_mut().filter(|c| c.seq == target) {
                    c.confirmed_on = date;
                }
                if let Some(c) = case.closing.as_mut().filter(|c| c.seq == target) {
                    c.closed_on = date;
                }
            }
            AmendedField::DueOn(due) => {
                let last = case.deadlines.len().saturating_sub(1);
                if let Some(j) = case.deadlines.iter().position(|(s, _)| *s == target) {
                    case.deadlines[j].1 = *due;
                    // The deadline in force is the latest one set, while one is in force.
                    if j == last && case.deadline.is_some() {
                        case.deadline = Some(*due);
                    }
                }
            }
            AmendedField::Categories(c) => case.categories = c.clone(),
            AmendedField::Controller(named) => {
                let old = case.controller;
                let new = match self.controller_index.get(named.id.as_str()).copied() {
                    Some(ci) => {
                        // Its name is the one its latest case gives: this one, if latest.
                        let latest = s.controllers[ci as usize].cases.last().copied();
                        if latest.is_none_or(|l| l < ordinal) {
                            rename(&mut s.controllers[ci as usize], &named.name);
                        }
                        ci
                    }
                    None => add_controller(&mut s.controllers, &mut self.controller_index, named),
                };
                if new != old {
                    s.controllers[old as usize].cases.retain(|&c| c != ordinal);
                    let list = &mut s.controllers[new as usize].cases;
                    // Kept in order of opening, which is the order of ordinals.
                    let at = list.partition_point(|&c| c < ordinal);
                    list.insert(at, ordinal);
                    s.cases[i as usize].controller = new;
                } else {
                    rename(&mut s.controllers[new as usize], &named.name);
                }
            }
        }
    }
}

fn set_status(case: &mut CaseRecord, status: CaseStatus, seq: u64) {
    case.status = status;
    case.status_seq = seq;
}

/// Ends the case in one of the closed states: no deadline is in force, nothing to resume.
fn close(case: &mut CaseRecord, status: CaseStatus, seq: u64) {
    case.deadline = None;
    case.resume_to = None;
    set_status(case, status, seq);
}

/// A controller's name is the one its latest case gives; earlier ones are kept, once each.
/// Adds controller `named`, with no cases yet, and returns its index.
fn add_controller(
    controllers: &mut Vec<ControllerRecord>,
    index: &mut HashMap<Box<str>, u32>,
    named: &Controller,
) -> u32 {
    // validate() refuses a register beyond u32::MAX cases, and a controller has one at least.
    let ci = controllers.len() as u32;
    controllers.push(ControllerRecord {
        id: named.id.as_str().into(),
        name: named.name.clone(),
        former_names: Vec::new(),
        cases: Vec::new(),
    });
    index.insert(named.id.as_str().into(), ci);
    ci
}

fn rename(c: &mut ControllerRecord, name: &str) {
    if c.name != name {
        let old = std::mem::replace(&mut c.name, name.to_owned());
        c.former_names.retain(|n| n != name);
        if !c.former_names.contains(&old) {
            c.former_names.push(old);
        }
    }
}

fn investigate(case: &mut CaseRecord, seq: u64) {
    if matches!(case.status, CaseStatus::Open | CaseStatus::Reopened) {
        set_status(case, CaseStatus::UnderInvestigation, seq);
    }
}

fn await_compliance(case: &mut CaseRecord, seq: u64, due_on: Date) {
    case.deadlines.push((seq, due_on));
    case.deadline = Some(due_on);
    set_status(case, CaseStatus::AwaitingCompliance, seq);
}

/// Whether the event holds redactable text: `!event.texts().is_empty()` without the `Vec`
/// that `texts` allocates (this runs for every entry; a test keeps the two in step).
pub(crate) fn has_text(event: &Event) -> bool {
    match event {
        Event::ComplaintReceived(e) => e.summary.is_some(),
        Event::InspectionOpened(e) => e.scope.is_some(),
        Event::HearingHeld(e) => e.summary.is_some(),
        Event::ComplianceDeadlineSet(_) | Event::Correction(_) => true,
        Event::DeadlineExtended(e) => e.reason.is_some(),
        Event::ComplianceConfirmed(e) => e.note.is_some(),
        Event::SanctionNotified(e) => e.reasons.is_some(),
        Event::CaseClosed(e) => e.summary.is_some(),
        Event::ComplaintInadmissible(e) => e.reason.is_some(),
        Event::ComplaintForwarded(e) => e.reason.is_some(),
        Event::ProceedingsSuspended(e) => e.reason.is_some(),
        Event::DecisionPublished(e) => e.summary.is_some(),
        Event::CourtRuling(e) => e.summary.is_some(),
        Event::CaseReopened(e) => e.reason.is_some(),
        Event::Amendment(e) => e.reason.is_some(),
        _ => false,
    }
}
