//! Property tests over random valid histories: replay is deterministic, a snapshot of any
//! prefix plus the tail equals a full rebuild, and a log with an entry swapped or dropped
//! (not re-signed) is refused where it was changed.

use std::collections::HashMap;

use chrono::{Datelike, Days};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use proptest::sample::Index;
use sijil_core::entry::Entry;
use sijil_core::event::{Category, Date, Outcome, PublicKey, Role, Sanction};
use sijil_core::{leaf_hash, Hash};

use super::{authorize, correction, digest, erasure, key, pk, replay, Log, View};
use crate::{CaseStatus, Rejection};
use sijil_core::event::Event;

/// One random choice; [`History::step`] turns it into an event that is valid now.
#[derive(Clone, Debug)]
struct Step {
    action: u8,
    pick: u16,
    arg: u16,
    signer: u8,
}

fn steps(max: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        (any::<u8>(), any::<u16>(), any::<u16>(), any::<u8>()).prop_map(
            |(action, pick, arg, signer)| Step {
                action,
                pick,
                arg,
                signer,
            },
        ),
        1..max,
    )
}

fn plus_days(date: Date, n: u64) -> Date {
    let day = date
        .naive()
        .checked_add_days(Days::new(n))
        .expect("test dates stay in range");
    Date::from_ymd(day.year(), day.month(), day.day()).expect("test dates stay in range")
}

fn minus_days(date: Date, n: u64) -> Date {
    let day = date
        .naive()
        .checked_sub_days(Days::new(n))
        .expect("test dates stay in range");
    Date::from_ymd(day.year(), day.month(), day.day()).expect("test dates stay in range")
}

fn days_between(from: Date, to: Date) -> u64 {
    u64::try_from((to.naive() - from.naive()).num_days()).unwrap_or(0)
}

/// A random valid history being written.
struct History {
    log: Log,
    keys: HashMap<PublicKey, SigningKey>,
    next_key: u8,
    cases: Vec<String>,
}

impl History {
    fn new() -> History {
        let log = Log::new();
        let keys = [&log.admin, &log.clerk]
            .into_iter()
            .map(|k| (pk(k), k.clone()))
            .collect();
        History {
            log,
            keys,
            next_key: 10,
            cases: Vec::new(),
        }
    }

    fn generate(steps: &[Step]) -> History {
        let mut h = History::new();
        for s in steps {
            h.step(s);
        }
        h
    }

    fn signer(&self, admin: bool, choice: u8) -> SigningKey {
        let active: Vec<&SigningKey> = self
            .log
            .view
            .officers()
            .iter()
            .filter(|o| o.is_active() && (!admin || o.role == Role::Admin))
            .filter_map(|o| self.keys.get(&o.key))
            .collect();
        active[usize::from(choice) % active.len()].clone()
    }

    fn today(&self) -> Date {
        Date::from_unix_ms(self.log.now).expect("test time is in range")
    }

    fn step(&mut self, s: &Step) {
        let (pick, arg) = (usize::from(s.pick), u64::from(s.arg));
        let (case, event) = match s.action % 16 {
            0 | 1 => self.open(s),
            2..=11 if !self.cases.is_empty() => {
                self.on_case(&self.cases[pick % self.cases.len()].clone(), s)
            }
            2..=11 => self.open(s),
            12 if self.next_key < 255 => {
                let key = key(self.next_key);
                self.next_key += 1;
                self.keys.insert(pk(&key), key.clone());
                let role = if arg.is_multiple_of(3) {
                    Role::Admin
                } else {
                    Role::Clerk
                };
                (
                    None,
                    authorize(&key, &format!("Officer {}", self.next_key), role),
                )
            }
            13 => {
                let active: Vec<(PublicKey, Role)> = self
                    .log
                    .view
                    .officers()
                    .iter()
                    .filter(|o| o.is_active())
                    .map(|o| (o.key, o.role))
                    .collect();
                let admins = active.iter().filter(|(_, r)| *r == Role::Admin).count();
                let (key, role) = active[pick % active.len()];
                if role == Role::Admin && admins == 1 {
                    return;
                }
                let event = Event::OfficerRevoked(sijil_core::event::OfficerRevoked {
                    key,
                    reason: "rotated".into(),
                });
                (None, event)
            }
            _ => {
                self.log.now += (s.arg as i64 % 72) * 3_600_000;
                return;
            }
        };
        let signer = self.signer(crate::required_role(&event) == Role::Admin, s.signer);
        let seq = self.log.view.size();
        if let Err(r) = self.log.push_as(&signer, case.as_deref(), event) {
            panic!("the generator wrote an invalid entry {seq}: {r}");
        }
    }

    fn open(&mut self, s: &Step) -> (Option<String>, Event) {
        let id = format!("{}-{:04}", 2020 + self.cases.len() % 5, self.cases.len());
        self.cases.push(id.clone());
        let on = minus_days(self.today(), u64::from(s.arg) % 400);
        let controller = sijil_core::event::Controller {
            id: format!("ctl-{}", s.pick % 7),
            // Now and then a controller is renamed.
            name: format!(
                "Controller {}{}",
                s.pick % 7,
                if s.signer.is_multiple_of(5) {
                    " SA"
                } else {
                    ""
                }
            ),
        };
        let category = Category::ALL[usize::from(s.arg) % Category::ALL.len()];
        let event = if s.action.is_multiple_of(16) {
            Event::ComplaintReceived(sijil_core::event::ComplaintReceived {
                controller,
                categories: sijil_core::event::Categories::one(category),
                received_on: on,
                summary: s.arg.is_multiple_of(2).then(|| digest("complaint")),
            })
        } else {
            Event::InspectionOpened(sijil_core::event::InspectionOpened {
                opened_on: on,
                opens: Some(sijil_core::event::CaseOpening {
                    controller,
                    categories: sijil_core::event::Categories::one(category),
                }),
                scope: s.arg.is_multiple_of(3).then(|| digest("scope")),
            })
        };
        (Some(id), event)
    }

    fn on_case(&self, id: &str, s: &Step) -> (Option<String>, Event) {
        use sijil_core::event as ev;
        let today = self.today();
        let view = &self.log.view;
        let rec = &view.state.cases[view.case_index[id] as usize];
        let case = view.case(id, today).expect("generated cases exist");
        let opened = case.summary.opened_on;
        let latest = rec.latest_date().map_or(opened, |(_, d)| d);
        let arg = u64::from(s.arg);
        // A date between the case's latest date and today: something that happened next.
        let happened = plus_days(latest, arg % (days_between(latest, today) + 1));
        let kind = s.action % 16 - 2;
        let erasable: Vec<u64> = case
            .timeline
            .iter()
            .filter(|e| e.has_text && e.erasure.is_none())
            .map(|e| e.seq)
            .collect();
        let annotation = || -> Event {
            match arg % 3 {
                0 if !erasable.is_empty() => erasure(erasable[(arg as usize) % erasable.len()]),
                1 => self.amendment(rec, s),
                _ => correction(case.timeline[(arg as usize) % case.timeline.len()].seq),
            }
        };
        let status = rec.status;
        let event = if status.is_closed() {
            match kind {
                0..=2 => Event::CaseReopened(ev::CaseReopened {
                    reopened_on: happened,
                    reason: arg.is_multiple_of(2).then(|| digest("new facts")),
                }),
                3 => decision(happened, arg),
                4 => appeal(happened, arg),
                _ => annotation(),
            }
        } else if status == CaseStatus::Suspended {
            match kind {
                0..=3 => Event::ProceedingsResumed(ev::ProceedingsResumed {
                    resumed_on: happened,
                }),
                4 => closed_on(happened, arg),
                5 => authorities(happened),
                _ => annotation(),
            }
        } else if status == CaseStatus::UnderAppeal {
            match kind {
                0..=4 => Event::CourtRuling(ev::CourtRuling {
                    ruled_on: happened,
                    court: "Tribunal administratif de Rabat".into(),
                    ruling: ev::Ruling::ALL[(arg % 4) as usize],
                    summary: None,
                }),
                5 => authorities(happened),
                _ => annotation(),
            }
        } else {
            let first_act = rec.opened_by == crate::Opening::Complaint && rec.timeline.len() == 1;
            match kind {
                0 => Event::InspectionOpened(ev::InspectionOpened {
                    opened_on: happened,
                    opens: None,
                    scope: arg.is_multiple_of(2).then(|| digest("scope")),
                }),
                1 => Event::HearingHeld(ev::HearingHeld {
                    held_on: happened,
                    place: "Rabat".into(),
                    summary: arg.is_multiple_of(2).then(|| digest("heard")),
                }),
                3 if case.summary.deadline.is_some() => {
                    let from = case.summary.deadline.unwrap_or(opened).max(latest);
                    Event::DeadlineExtended(ev::DeadlineExtended {
                        due_on: plus_days(from, 1 + arg % 60),
                        reason: None,
                    })
                }
                2 | 3 => Event::ComplianceDeadlineSet(ev::ComplianceDeadlineSet {
                    due_on: plus_days(latest, 1 + arg % 200),
                    obligations: digest("obligations"),
                }),
                4 => confirmed_on(happened),
                5 => {
                    let sanction = match arg % 5 {
                        0 => Sanction::Warning,
                        1 => Sanction::FormalNotice,
                        2 => Sanction::Fine {
                            amount_mad: 1 + arg * 100,
                        },
                        3 => Sanction::Suspension,
                        _ => Sanction::ReferralToProsecutor,
                    };
                    Event::SanctionNotified(ev::SanctionNotified {
                        notified_on: happened,
                        sanction,
                        legal_basis: "Loi 09-08, art. 51".into(),
                        reasons: None,
                    })
                }
                6 => authorities(happened),
                7 => closed_on(happened, arg),
                8 => match arg % 5 {
                    0 if first_act => Event::ComplaintInadmissible(ev::ComplaintInadmissible {
                        decided_on: happened,
                        reason: Some(digest("out of scope")),
                    }),
                    1 if first_act => Event::ComplaintForwarded(ev::ComplaintForwarded {
                        forwarded_on: happened,
                        to: "ANRT".into(),
                        reason: None,
                    }),
                    2 if rec.has_decision() => decision(happened, arg),
                    3 if rec.has_decision() => appeal(happened, arg),
                    _ => Event::ProceedingsSuspended(ev::ProceedingsSuspended {
                        suspended_on: happened,
                        reason: None,
                    }),
                },
                _ => annotation(),
            }
        };
        (Some(id.to_owned()), event)
    }

    /// A valid Amendment of the case: the latest date moved within what the case allows, else
    /// the categories or the controller changed.
    fn amendment(&self, rec: &crate::case::CaseRecord, s: &Step) -> Event {
        use sijil_core::event::{AmendedField, Amendment, Categories};
        let arg = u64::from(s.arg);
        let today = self.today();
        let opening = rec.opened_seq();
        let amend = |target, amend| {
            Event::Amendment(Amendment {
                target,
                amend,
                reason: arg.is_multiple_of(2).then(|| digest("clerical error")),
            })
        };
        if let Some((target, current)) = rec.latest_date() {
            let pos = rec.position(target).expect("in the case");
            let lower = rec.dates_before(pos).next().map_or(current, |(_, d)| d);
            let upper = rec
                .deadlines
                .iter()
                .filter(|(s, _)| *s > target)
                .map(|(_, due)| minus_days(*due, 1))
                .fold(today, Date::min);
            if lower <= upper {
                let d = plus_days(lower, arg % (days_between(lower, upper) + 1));
                if d != current {
                    return amend(target, AmendedField::Date(d));
                }
            }
        }
        match arg % 2 {
            0 => {
                let extra = Category::ALL[usize::from(s.pick) % Category::ALL.len()];
                let mut set: Vec<Category> = rec.categories.iter().collect();
                if set.contains(&extra) && set.len() > 1 {
                    set.retain(|c| *c != extra);
                } else if !set.contains(&extra) {
                    set.push(extra);
                } else {
                    set = vec![Category::ALL[(usize::from(s.pick) + 1) % Category::ALL.len()]];
                }
                let set = Categories::sorted(set).expect("distinct categories");
                amend(opening, AmendedField::Categories(set))
            }
            _ => {
                let current = &self.log.view.state.controllers[rec.controller as usize];
                let id = format!("ctl-{}", (s.pick % 7 + 1) % 8);
                let name = format!("Controller {id} (amended)");
                let id = if *current.id == *id && current.name == name {
                    "ctl-amended".to_string()
                } else {
                    id
                };
                amend(
                    opening,
                    AmendedField::Controller(sijil_core::event::Controller { id, name }),
                )
            }
        }
    }
}

fn authorities(on: Date) -> Event {
    Event::AuthoritiesNotified(sijil_core::event::AuthoritiesNotified {
        notified_on: on,
        authorities: vec!["Parquet".into()],
    })
}

fn closed_on(on: Date, arg: u64) -> Event {
    let outcome = [
        Outcome::Complied,
        Outcome::Sanctioned,
        Outcome::Dismissed,
        Outcome::Withdrawn,
        Outcome::Referred,
    ][(arg % 5) as usize];
    Event::CaseClosed(sijil_core::event::CaseClosed {
        closed_on: on,
        outcome,
        summary: None,
    })
}

fn decision(on: Date, arg: u64) -> Event {
    Event::DecisionPublished(sijil_core::event::DecisionPublished {
        published_on: on,
        decision_number: format!("D-{arg}"),
        summary: arg.is_multiple_of(2).then(|| digest("decision")),
    })
}

fn appeal(on: Date, arg: u64) -> Event {
    Event::AppealLodged(sijil_core::event::AppealLodged {
        lodged_on: on,
        court: "Tribunal administratif de Rabat".into(),
        by: sijil_core::event::Appellant::ALL[(arg % 3) as usize],
    })
}

fn confirmed_on(on: Date) -> Event {
    Event::ComplianceConfirmed(sijil_core::event::ComplianceConfirmed {
        confirmed_on: on,
        note: None,
    })
}

/// Replays `entries` and returns the index of the first refused one with its rejection.
fn first_refusal(entries: &[(Entry, Hash)]) -> Option<(usize, Rejection)> {
    let mut view = View::new();
    entries
        .iter()
        .enumerate()
        .find_map(|(i, (e, h))| view.apply(e, *h).err().map(|r| (i, r)))
}

/// The properties are only as good as the histories: across a few hundred generated ones,
/// every event kind appears, cases reach every status, and officers come and go.
#[test]
fn the_generator_covers_every_event_and_status() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut kinds = std::collections::BTreeSet::new();
    let mut statuses = std::collections::BTreeSet::new();
    let mut entries = 0;
    for _ in 0..200 {
        let steps = steps(150)
            .new_tree(&mut runner)
            .expect("a strategy for plain vectors")
            .current();
        let h = History::generate(&steps);
        entries += h.log.entries.len();
        kinds.extend(h.log.entries.iter().map(|(e, _)| e.event.name()));
        statuses.extend(
            h.cases
                .iter()
                .filter_map(|id| h.log.view.case(id, h.today()))
                .map(|c| c.summary.status),
        );
    }
    // Every event but IndexCommitted (the log's, not a clerk's), and every status.
    assert_eq!(kinds.len(), 23, "{kinds:?}");
    assert_eq!(statuses.len(), CaseStatus::ALL.len(), "{statuses:?}");
    assert!(
        entries > 200 * 30,
        "histories are long enough: {entries} entries"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn replay_is_deterministic(steps in steps(150)) {
        let h = History::generate(&steps);
        let a = h.log.replay().map_err(|r| TestCaseError::fail(r.to_string()))?;
        let b = h.log.replay().map_err(|r| TestCaseError::fail(r.to_string()))?;
        prop_assert_eq!(&a, &h.log.view);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(a.to_snapshot(Hash::ZERO), b.to_snapshot(Hash::ZERO));
        let today = h.today();
        prop_assert_eq!(a.stats(today), h.log.view.stats(today));
    }

    #[test]
    fn snapshot_and_tail_equal_a_full_rebuild(steps in steps(150), split in any::<Index>()) {
        let h = History::generate(&steps);
        let entries = &h.log.entries;
        let k = split.index(entries.len() + 1);
        let prefix = replay(entries[..k].iter().map(|(e, x)| (e, *x))).map_err(|r| TestCaseError::fail(r.to_string()))?;
        let root = prefix.last_leaf_hash();
        let mut view = View::resume(&prefix.to_snapshot(root), entries.len() as u64, |_| Some(root))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (e, x) in &entries[k..] {
            view.apply(e, *x).map_err(|r| TestCaseError::fail(r.to_string()))?;
        }
        prop_assert_eq!(view.to_snapshot(root), h.log.view.to_snapshot(root));
        prop_assert_eq!(view, h.log.view);
    }

    #[test]
    fn a_swapped_entry_is_refused_where_it_moved(steps in steps(100), i in any::<Index>(), j in any::<Index>()) {
        let h = History::generate(&steps);
        let n = h.log.entries.len();
        let (i, j) = (i.index(n), j.index(n));
        prop_assume!(i != j);
        let (i, j) = (i.min(j), i.max(j));
        let mut entries = h.log.entries.clone();
        entries.swap(i, j);
        prop_assert_eq!(
            first_refusal(&entries),
            Some((i, Rejection::SeqMismatch { expected: i as u64, got: j as u64 }))
        );
    }

    #[test]
    fn a_dropped_entry_is_refused_where_it_was(steps in steps(100), i in any::<Index>()) {
        let h = History::generate(&steps);
        let n = h.log.entries.len();
        prop_assume!(n >= 2);
        // Dropping the last entry leaves a valid shorter log: a checkpoint catches that.
        let i = i.index(n - 1);
        let mut entries = h.log.entries.clone();
        entries.remove(i);
        prop_assert_eq!(
            first_refusal(&entries),
            Some((i, Rejection::SeqMismatch { expected: i as u64, got: i as u64 + 1 }))
        );
    }

    /// A stronger tamper than the issue asks for: drop a case event and renumber the log
    /// after it (seq and prev, as a forger would, though without re-signing). The log-level
    /// chain then holds, but the case's own chain does not.
    #[test]
    fn a_dropped_case_event_is_caught_by_the_case_chain(steps in steps(100), i in any::<Index>()) {
        let h = History::generate(&steps);
        let entries = &h.log.entries;
        let i = i.index(entries.len());
        let dropped = entries[i].0.case.as_ref().map(|l| l.id.clone());
        let later_in_case = entries[i + 1..].iter().any(|(e, _)| e.case.as_ref().map(|l| &l.id) == dropped.as_ref());
        prop_assume!(dropped.is_some() && later_in_case);
        let mut forged: Vec<(Entry, Hash)> = Vec::new();
        for (k, (e, _)) in entries.iter().enumerate().filter(|(k, _)| *k != i) {
            let mut e = e.clone();
            e.seq = forged.len() as u64;
            e.prev = forged.last().map_or(Hash::ZERO, |(_, h)| *h);
            let bytes = e.encode().map_err(|err| TestCaseError::fail(format!("entry {k}: {err}")))?;
            forged.push((e, leaf_hash(&bytes)));
        }
        let refusal = first_refusal(&forged);
        prop_assert!(refusal.as_ref().is_some_and(|(at, _)| *at >= i), "{:?}", refusal);
        prop_assert!(
            !matches!(refusal, Some((_, Rejection::SeqMismatch { .. } | Rejection::PrevMismatch { .. }))),
            "the log-level chain was forged consistently: {:?}", refusal
        );
    }
}

/// The whole-register answers of `listing` are those of the whole `view`: statistics at
/// three dates, every page order, the open data's summaries, the controllers.
fn same_answers(listing: &crate::Listing, view: &View) -> Result<(), TestCaseError> {
    use crate::{CaseFilter, Page, Sort};
    let whole = view.listing();
    for day in [(2020, 1, 1), (2026, 6, 1), (2035, 1, 1)] {
        let as_of = Date::from_ymd(day.0, day.1, day.2).expect("a date");
        prop_assert_eq!(listing.stats(as_of), whole.stats(as_of));
        prop_assert_eq!(listing.summaries(as_of), whole.summaries(as_of));
        for sort in [Sort::OpenedDesc, Sort::OpenedAsc, Sort::Id] {
            let page = Page::first(7);
            prop_assert_eq!(
                listing.cases(&CaseFilter::default(), sort, &page, as_of),
                whole.cases(&CaseFilter::default(), sort, &page, as_of)
            );
        }
        for c in whole.controllers() {
            prop_assert_eq!(
                listing.controller(&c.id, as_of),
                whole.controller(&c.id, as_of)
            );
            let filter = CaseFilter {
                controller: Some(c.id.clone()),
                ..CaseFilter::default()
            };
            prop_assert_eq!(
                listing.cases(&filter, Sort::Id, &Page::first(1000), as_of),
                whole.cases(&filter, Sort::Id, &Page::first(1000), as_of)
            );
        }
    }
    prop_assert_eq!(listing.controllers(), whole.controllers());
    prop_assert_eq!(listing.case_ids(), whole.case_ids());
    Ok(())
}

/// A writer's records in memory, as `sijil_register`'s state keeps them in its database.
#[derive(Debug, Default, PartialEq, Eq)]
struct Records {
    cases: std::collections::BTreeMap<Box<str>, Vec<u8>>,
    controllers: std::collections::BTreeMap<Box<str>, Vec<u8>>,
    annotations: std::collections::BTreeMap<u64, Vec<u8>>,
    key_logs: std::collections::BTreeMap<sijil_index::IndexKey, Vec<u8>>,
    trie: HashMap<sijil_index::Label, sijil_index::StoredNode>,
    texts: std::collections::BTreeMap<sijil_core::event::TextDigest, u64>,
}

impl Records {
    fn of(view: &View) -> Records {
        let mut r = Records::default();
        r.put(view);
        if let Some(t) = view.index().trie() {
            r.trie.extend(t.stored_nodes());
        }
        r
    }

    fn put(&mut self, view: &View) {
        use crate::records::Record;
        for record in view.records() {
            match record {
                Record::Case { id, bytes } => drop(self.cases.insert(id, bytes)),
                Record::Controller { id, bytes } => drop(self.controllers.insert(id, bytes)),
                Record::Annotations { seq, bytes } => drop(self.annotations.insert(seq, bytes)),
                Record::KeyLog { key, bytes } => drop(self.key_logs.insert(key, bytes)),
                Record::Text { digest, seq } => drop(self.texts.insert(digest, seq)),
            }
        }
    }

    fn listing(&self, entries: u64) -> crate::Listing {
        use crate::records::{CaseSlot, ControllerSlot};
        crate::Listing::from_records(
            entries,
            self.cases
                .values()
                .map(|b| CaseSlot::from_bytes(b).expect("case decodes")),
            self.controllers
                .values()
                .map(|b| ControllerSlot::from_bytes(b).expect("controller decodes")),
        )
        .expect("the records make a listing")
    }

    /// The case and controller records `view` gives back, decoded.
    fn slots(
        view: &View,
    ) -> (
        Vec<crate::records::CaseSlot>,
        Vec<crate::records::ControllerSlot>,
    ) {
        use crate::records::{CaseSlot, ControllerSlot, Record};
        let (mut cases, mut controllers) = (Vec::new(), Vec::new());
        for record in view.records() {
            match record {
                Record::Case { bytes, .. } => {
                    cases.push(CaseSlot::from_bytes(&bytes).expect("case decodes"))
                }
                Record::Controller { bytes, .. } => controllers
                    .push(ControllerSlot::from_bytes(&bytes).expect("controller decodes")),
                _ => {}
            }
        }
        (cases, controllers)
    }

    /// The partial view of what `touched` names, as the register's state builds it.
    fn slice(&self, head: crate::records::Head, touched: &crate::records::Touched) -> View {
        use crate::records::{
            annotations_from_bytes, key_log_from_bytes, CaseSlot, ControllerSlot, Slice,
        };
        let mut cases = Vec::new();
        let mut controller_ids = touched.controllers.clone();
        for id in &touched.cases {
            if let Some(b) = self.cases.get(id.as_str()) {
                let slot = CaseSlot::from_bytes(b).expect("case decodes");
                controller_ids.insert(slot.controller().to_owned());
                cases.push(slot);
            }
        }
        let controllers = controller_ids
            .iter()
            .filter_map(|id| self.controllers.get(id.as_str()))
            .map(|b| ControllerSlot::from_bytes(b).expect("controller decodes"))
            .collect();
        let annotations = touched
            .annotations
            .iter()
            .filter_map(|seq| self.annotations.get(seq).map(|b| (*seq, b)))
            .map(|(seq, b)| (seq, annotations_from_bytes(b).expect("annotations decode")))
            .collect();
        let logs: Vec<_> = touched
            .keys
            .iter()
            .filter_map(|k| {
                self.key_logs
                    .get(k)
                    .map(|b| (*k, key_log_from_bytes(b).expect("log decodes")))
            })
            .collect();
        let proofs: Vec<([u8; 32], sijil_index::TrieProof)> = touched
            .keys
            .iter()
            .map(|k| {
                (
                    k.0,
                    sijil_index::prove_stored(&self.trie, &k.0).expect("stored trie"),
                )
            })
            .collect();
        let trie = sijil_index::PartialTrie::from_proofs(
            &head.index_root.0,
            head.keys,
            proofs.iter().map(|(k, p)| (k, p)),
        )
        .expect("proofs of the head's root");
        let index = sijil_index::Index::partial(head.size, logs, trie);
        View::from_slice(Slice {
            head,
            cases,
            controllers,
            annotations,
            index,
        })
        .expect("the records fit together")
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The writer's partial views (issue 9): batch after batch, a view of only the records a
    /// batch touches decides every entry as the whole view does (a probe entry moved to the
    /// head, mostly refused, included), and the records it gives back, stored over the old
    /// ones, are the whole view's records, trie nodes included.
    #[test]
    fn a_partial_view_decides_as_the_whole_view_and_keeps_its_records(
        steps in steps(150),
        cuts in prop::collection::vec(1usize..12, 1..40),
        probes in prop::collection::vec(any::<Index>(), 40),
    ) {
        let h = History::generate(&steps);
        let entries = &h.log.entries;
        let mut whole = View::new();
        whole.apply(&entries[0].0, entries[0].1).map_err(|r| TestCaseError::fail(r.to_string()))?;
        whole.flush_index();
        let mut store = Records::of(&whole);
        let mut listing = store.listing(whole.size());
        let mut at = 1;
        for (b, cut) in cuts.iter().cycle().enumerate() {
            if at >= entries.len() {
                break;
            }
            let batch = &entries[at..(at + cut).min(entries.len())];
            let mut probe = entries[probes[b % probes.len()].index(entries.len())].0.clone();
            probe.seq = whole.size();
            probe.prev = whole.last_leaf_hash();
            let mut touched = crate::records::Touched::default();
            for e in batch.iter().map(|(e, _)| e).chain([&probe]) {
                touched.add(e.case.as_ref(), &e.event);
            }
            let head = whole.head().expect("the whole view is flushed");
            let mut partial = store.slice(head, &touched);
            prop_assert_eq!(partial.check(&probe), whole.check(&probe), "probe {:?}", probe.event.name());
            for (e, leaf) in batch {
                let want = whole.apply(e, *leaf);
                prop_assert_eq!(partial.apply(e, *leaf), want, "entry {}", e.seq);
            }
            whole.flush_index();
            partial.flush_index();
            prop_assert!(partial.index().partial_error().is_none());
            prop_assert_eq!(partial.head(), whole.head());
            store.put(&partial);
            if let Some(t) = partial.partial_trie_mut() {
                store.trie.extend(t.changed_nodes());
            }
            prop_assert_eq!(&store, &Records::of(&whole), "after the batch ending at {}", at + cut);
            // A reader's listing kept in step with the records each batch wrote answers as
            // the whole view does, and as one built from all the records (issue 11).
            let (cases, controllers) = Records::slots(&partial);
            listing = listing.update(whole.size(), cases, controllers).map_err(|e| TestCaseError::fail(e.to_string()))?;
            same_answers(&listing, &whole)?;
            same_answers(&store.listing(whole.size()), &whole)?;
            at += cut;
        }
    }
}
