//! One test per rule: the smallest history that breaks it, and the exact rejection.

use sijil_core::entry::CaseLink;
use sijil_core::event::{
    Category, Controller, Event, HearingHeld, Officer, Outcome, PublicKey, RegisterOpened, Role,
    Sanction, SanctionNotified,
};
use sijil_core::Hash;

use super::*;
use crate::{Rejection, TextProblem};

/// The rejection of an entry that must be refused.
fn refused(r: Result<u64, Rejection>) -> Rejection {
    match r {
        Ok(seq) => panic!("entry {seq} was accepted"),
        Err(r) => r,
    }
}

/// A log with case `C-1` opened (entry 1, complaint received 2023-01-10, controller `acme`).
fn with_case() -> Log {
    let mut log = Log::new();
    log.open("C-1", "acme", "2023-01-10");
    log
}

/// A small-order Ed25519 point (the identity): never a valid key.
fn weak_key() -> PublicKey {
    let mut k = [0u8; 32];
    k[0] = 1;
    PublicKey(k)
}

// ---- The log's chain ----

#[test]
fn unsupported_format() {
    let mut log = Log::new();
    let (mut e, h) = Log::sign(
        log.unsigned(Some("C-1"), complaint("acme", "2023-01-10")),
        &log.clerk,
    );
    e.format = 2;
    assert_eq!(
        refused(log.offer((e, h))),
        Rejection::UnsupportedFormat { seq: 1, format: 2 }
    );
}

#[test]
fn seq_must_be_the_log_size() {
    let mut log = Log::new();
    let mut u = log.unsigned(Some("C-1"), complaint("acme", "2023-01-10"));
    u.seq = 2;
    let e = Log::sign(u, &log.clerk);
    assert_eq!(
        refused(log.offer(e)),
        Rejection::SeqMismatch {
            expected: 1,
            got: 2
        }
    );
}

#[test]
fn prev_must_be_the_previous_leaf_hash() {
    let mut log = Log::new();
    let expected = log.view.last_leaf_hash();
    let mut u = log.unsigned(Some("C-1"), complaint("acme", "2023-01-10"));
    u.prev = Hash([7; 32]);
    let e = Log::sign(u, &log.clerk);
    assert_eq!(
        refused(log.offer(e)),
        Rejection::PrevMismatch {
            seq: 1,
            expected,
            got: Hash([7; 32])
        }
    );

    // Entry 0's prev is zeros.
    let mut fresh = View::new();
    let u = UnsignedEntry {
        seq: 0,
        prev: Hash([1; 32]),
        recorded_at: JUNE_1,
        case: None,
        event: genesis(vec![officer(&key(1), "A", Role::Admin)]),
    };
    let (e, h) = Log::sign(u, &key(1));
    assert_eq!(
        fresh.apply(&e, h),
        Err(Rejection::PrevMismatch {
            seq: 0,
            expected: Hash::ZERO,
            got: Hash([1; 32])
        })
    );
}

#[test]
fn log_full_past_2_pow_56_entries() {
    let mut log = Log::new();
    log.view.state.size = crate::case::MAX_SEQ + 1;
    let mut u = log.unsigned(Some("C-1"), complaint("acme", "2023-01-10"));
    u.seq = crate::case::MAX_SEQ + 1;
    let (e, h) = Log::sign(u, &log.clerk);
    assert_eq!(
        log.view.apply(&e, h),
        Err(Rejection::LogFull {
            seq: crate::case::MAX_SEQ + 1
        })
    );
}

#[test]
fn recorded_at_must_be_a_real_date() {
    let mut log = Log::new();
    log.now = i64::MAX;
    let r = refused(log.push(Some("C-1"), complaint("acme", "2023-01-10")));
    assert_eq!(
        r,
        Rejection::RecordedAtOutOfRange {
            seq: 1,
            recorded_at: i64::MAX
        }
    );
    // 1800-01-01: a valid timestamp, outside the years dates may have.
    log.now = -5_364_662_400_000;
    assert!(matches!(
        refused(log.push(Some("C-1"), complaint("acme", "2023-01-10"))),
        Rejection::RecordedAtOutOfRange { .. }
    ));
}

#[test]
fn recorded_at_never_goes_backwards() {
    let mut log = with_case();
    log.now -= 1;
    let r = refused(log.push(Some("C-1"), hearing("2023-01-20")));
    assert_eq!(
        r,
        Rejection::RecordedAtBackwards {
            seq: 2,
            previous: JUNE_1,
            got: JUNE_1 - 1
        }
    );
    assert_eq!(
        r.to_string(),
        "entry 2 is recorded at 2023-06-01T08:59:59.999Z, before the entry preceding it (2023-06-01T09:00:00.000Z); the log's time never goes backwards"
    );
    // The same millisecond is fine.
    log.now += 1;
    log.ok("C-1", hearing("2023-01-20"));
}

#[test]
fn entry_0_is_register_opened() {
    let mut view = View::new();
    let u = UnsignedEntry {
        seq: 0,
        prev: Hash::ZERO,
        recorded_at: JUNE_1,
        case: Some(CaseLink {
            id: "C-1".into(),
            seq: 0,
            prev: Hash::ZERO,
        }),
        event: complaint("acme", "2023-01-10"),
    };
    let (e, h) = Log::sign(u, &key(1));
    assert_eq!(
        view.apply(&e, h),
        Err(Rejection::FirstEntryNotRegisterOpened {
            event: "ComplaintReceived"
        })
    );
    assert_eq!(view, View::new());
}

#[test]
fn register_opened_only_once() {
    let mut log = Log::new();
    let r = refused(log.push(None, genesis(vec![officer(&key(1), "A", Role::Admin)])));
    assert_eq!(r, Rejection::RegisterAlreadyOpened { seq: 1 });
}

#[test]
fn case_events_need_a_case_link() {
    let mut log = with_case();
    let r = refused(log.push(None, hearing("2023-01-20")));
    assert_eq!(
        r,
        Rejection::CaseLinkMissing {
            seq: 2,
            event: "HearingHeld"
        }
    );
}

#[test]
fn register_events_have_no_case_link() {
    let mut log = Log::new();
    let r = refused(log.push(Some("C-1"), authorize(&key(5), "Nadia", Role::Clerk)));
    assert_eq!(
        r,
        Rejection::CaseLinkUnexpected {
            seq: 1,
            event: "OfficerAuthorized",
            case: "C-1".into()
        }
    );
}

#[test]
fn case_link_seq_is_the_case_event_count() {
    let mut log = with_case();
    let mut u = log.unsigned(Some("C-1"), hearing("2023-01-20"));
    if let Some(link) = u.case.as_mut() {
        link.seq = 5;
    }
    let e = Log::sign(u, &log.clerk);
    assert_eq!(
        refused(log.offer(e)),
        Rejection::CaseSeqMismatch {
            seq: 2,
            case: "C-1".into(),
            expected: 1,
            got: 5
        }
    );
    // An opening event is event 0 of its case.
    let mut u = log.unsigned(Some("C-2"), complaint("acme", "2023-01-10"));
    if let Some(link) = u.case.as_mut() {
        link.seq = 1;
    }
    let e = Log::sign(u, &log.clerk);
    assert_eq!(
        refused(log.offer(e)),
        Rejection::CaseSeqMismatch {
            seq: 2,
            case: "C-2".into(),
            expected: 0,
            got: 1
        }
    );
}

#[test]
fn case_link_prev_is_the_case_head() {
    let mut log = with_case();
    log.open("C-2", "acme", "2023-01-11");
    let head = log.entries[1].1;
    // Pointing at the log's previous entry (C-2's opening) instead of C-1's head.
    let mut u = log.unsigned(Some("C-1"), hearing("2023-01-20"));
    let wrong = log.view.last_leaf_hash();
    if let Some(link) = u.case.as_mut() {
        link.prev = wrong;
    }
    let e = Log::sign(u, &log.clerk);
    assert_eq!(
        refused(log.offer(e)),
        Rejection::CasePrevMismatch {
            seq: 3,
            case: "C-1".into(),
            expected: head,
            got: wrong
        }
    );
}

// ---- Who may sign ----

#[test]
fn signer_must_be_an_officer() {
    let mut log = with_case();
    let r = refused(log.push_as(&key(7), Some("C-1"), hearing("2023-01-20")));
    assert_eq!(
        r,
        Rejection::UnknownSigner {
            seq: 2,
            signer: pk(&key(7))
        }
    );
}

#[test]
fn revoked_keys_may_not_sign() {
    let mut log = with_case();
    let clerk = log.clerk.clone();
    let revoked_at = log
        .push(None, revoke(&clerk))
        .unwrap_or_else(|r| panic!("{r}"));
    let r = refused(log.push_as(&clerk, Some("C-1"), hearing("2023-01-20")));
    assert_eq!(
        r,
        Rejection::SignerRevoked {
            seq: 3,
            signer: pk(&clerk),
            name: "Karim Clerk".into(),
            revoked_at
        }
    );
    assert!(!log.view.is_authorized(&pk(&clerk), Role::Clerk));
}

#[test]
fn officer_management_needs_an_admin() {
    let mut log = Log::new();
    let clerk = log.clerk.clone();
    for event in [authorize(&key(5), "Nadia", Role::Clerk), revoke(&log.admin)] {
        let name = event.name();
        let r = refused(log.push_as(&clerk, None, event));
        assert_eq!(
            r,
            Rejection::SignerNotAdmin {
                seq: 1,
                signer: pk(&clerk),
                name: "Karim Clerk".into(),
                event: name
            }
        );
    }
    // An admin may record case events too.
    let admin = log.admin.clone();
    log.push_as(&admin, Some("C-1"), complaint("acme", "2023-01-10"))
        .unwrap_or_else(|r| panic!("{r}"));
    assert!(log.view.is_authorized(&pk(&admin), Role::Admin));
    assert!(log.view.is_authorized(&pk(&clerk), Role::Clerk));
    assert!(!log.view.is_authorized(&pk(&clerk), Role::Admin));
}

#[test]
fn genesis_is_signed_by_a_listed_admin() {
    let officers = vec![
        officer(&key(1), "A", Role::Admin),
        officer(&key(2), "C", Role::Clerk),
    ];
    for signer in [key(2), key(3)] {
        let u = UnsignedEntry {
            seq: 0,
            prev: Hash::ZERO,
            recorded_at: JUNE_1,
            case: None,
            event: genesis(officers.clone()),
        };
        let (e, h) = Log::sign(u, &signer);
        assert_eq!(
            View::new().apply(&e, h),
            Err(Rejection::GenesisNotSignedByListedAdmin {
                signer: pk(&signer)
            })
        );
    }
}

// ---- The register and its officers ----

fn genesis_rejection(event: Event) -> Rejection {
    let u = UnsignedEntry {
        seq: 0,
        prev: Hash::ZERO,
        recorded_at: JUNE_1,
        case: None,
        event,
    };
    let (e, h) = Log::sign(u, &key(1));
    let mut view = View::new();
    let r = view
        .apply(&e, h)
        .err()
        .unwrap_or_else(|| panic!("genesis accepted"));
    assert_eq!(view, View::new());
    r
}

#[test]
fn genesis_needs_an_admin() {
    assert_eq!(
        genesis_rejection(genesis(vec![officer(&key(1), "A", Role::Clerk)])),
        Rejection::NoAdmin
    );
    assert_eq!(genesis_rejection(genesis(vec![])), Rejection::NoAdmin);
}

#[test]
fn keys_must_be_valid_ed25519_keys() {
    let bad = genesis(vec![
        officer(&key(1), "A", Role::Admin),
        Officer {
            key: weak_key(),
            name: "W".into(),
            role: Role::Clerk,
        },
    ]);
    assert_eq!(
        genesis_rejection(bad),
        Rejection::InvalidKey {
            seq: 0,
            field: "officer key",
            key: weak_key()
        }
    );
    let Event::RegisterOpened(mut g) = genesis(vec![officer(&key(1), "A", Role::Admin)]) else {
        unreachable!()
    };
    g.log_key = weak_key();
    assert_eq!(
        genesis_rejection(Event::RegisterOpened(g)),
        Rejection::InvalidKey {
            seq: 0,
            field: "log key",
            key: weak_key()
        }
    );

    let mut log = Log::new();
    let r = refused(log.push(
        None,
        Event::OfficerAuthorized(sijil_core::event::OfficerAuthorized {
            officer: Officer {
                key: weak_key(),
                name: "W".into(),
                role: Role::Clerk,
            },
        }),
    ));
    assert_eq!(
        r,
        Rejection::InvalidKey {
            seq: 1,
            field: "officer key",
            key: weak_key()
        }
    );
}

#[test]
fn a_key_is_authorized_once() {
    let twice = genesis(vec![
        officer(&key(1), "A", Role::Admin),
        officer(&key(1), "B", Role::Clerk),
    ]);
    assert_eq!(
        genesis_rejection(twice),
        Rejection::OfficerAlreadyAuthorized {
            seq: 0,
            key: pk(&key(1)),
            name: "A".into(),
            authorized_at: 0
        }
    );
    let mut log = Log::new();
    let clerk = log.clerk.clone();
    let r = refused(log.push(None, authorize(&clerk, "Again", Role::Admin)));
    assert_eq!(
        r,
        Rejection::OfficerAlreadyAuthorized {
            seq: 1,
            key: pk(&clerk),
            name: "Karim Clerk".into(),
            authorized_at: 0
        }
    );
}

#[test]
fn a_revoked_key_is_never_authorized_again() {
    let mut log = Log::new();
    let clerk = log.clerk.clone();
    log.push(None, revoke(&clerk))
        .unwrap_or_else(|r| panic!("{r}"));
    let r = refused(log.push(None, authorize(&clerk, "Karim Clerk", Role::Clerk)));
    assert_eq!(
        r,
        Rejection::OfficerKeyWasRevoked {
            seq: 2,
            key: pk(&clerk),
            name: "Karim Clerk".into(),
            revoked_at: 1
        }
    );
}

#[test]
fn revoking_an_unknown_key() {
    let mut log = Log::new();
    let r = refused(log.push(None, revoke(&key(9))));
    assert_eq!(
        r,
        Rejection::UnknownOfficer {
            seq: 1,
            key: pk(&key(9))
        }
    );
}

#[test]
fn revoking_twice() {
    let mut log = Log::new();
    let clerk = log.clerk.clone();
    log.push(None, revoke(&clerk))
        .unwrap_or_else(|r| panic!("{r}"));
    let r = refused(log.push(None, revoke(&clerk)));
    assert_eq!(
        r,
        Rejection::OfficerAlreadyRevoked {
            seq: 2,
            key: pk(&clerk),
            name: "Karim Clerk".into(),
            revoked_at: 1
        }
    );
}

#[test]
fn the_last_admin_stays() {
    let mut log = Log::new();
    let admin = log.admin.clone();
    let r = refused(log.push(None, revoke(&admin)));
    assert_eq!(
        r,
        Rejection::LastAdmin {
            seq: 1,
            key: pk(&admin),
            name: "Amina Admin".into()
        }
    );
    // With a second admin, an admin may revoke their own key; then the new one is the last.
    let second = key(4);
    log.push(None, authorize(&second, "Samir Admin", Role::Admin))
        .unwrap_or_else(|r| panic!("{r}"));
    log.push(None, revoke(&admin))
        .unwrap_or_else(|r| panic!("{r}"));
    let r = refused(log.push_as(&second, None, revoke(&second)));
    assert_eq!(
        r,
        Rejection::LastAdmin {
            seq: 3,
            key: pk(&second),
            name: "Samir Admin".into()
        }
    );
}

#[test]
fn text_fields_are_checked() {
    // Genesis: origin, title, officer names.
    let Event::RegisterOpened(g) = genesis(vec![officer(&key(1), "A", Role::Admin)]) else {
        unreachable!()
    };
    let with = |f: &dyn Fn(&mut RegisterOpened)| {
        let mut g = g.clone();
        f(&mut g);
        genesis_rejection(Event::RegisterOpened(g))
    };
    assert_eq!(
        with(&|g| g.origin = "registre example".into()),
        Rejection::InvalidText {
            seq: 0,
            field: "origin",
            problem: TextProblem::NotAllowedInOrigin { ch: ' ' }
        }
    );
    assert_eq!(
        with(&|g| g.title = String::new()),
        Rejection::InvalidText {
            seq: 0,
            field: "register title",
            problem: TextProblem::Empty
        }
    );
    assert_eq!(
        with(&|g| g.officers[0].name = "x".repeat(201)),
        Rejection::InvalidText {
            seq: 0,
            field: "officer name",
            problem: TextProblem::TooLong {
                chars: 201,
                max: 200
            }
        }
    );

    let mut log = with_case();
    // Case ids, controller ids and names.
    let r = refused(log.push(Some("C 2"), complaint("acme", "2023-01-10")));
    assert_eq!(
        r,
        Rejection::InvalidText {
            seq: 2,
            field: "case id",
            problem: TextProblem::NotAllowedInId { ch: ' ' }
        }
    );
    assert_eq!(r.to_string(), "entry 2: the case id contains ' '; an id uses only the letters A-Z and a-z, digits, and . _ / -");
    let r = refused(log.push(Some("C-2"), complaint("acme corp", "2023-01-10")));
    assert_eq!(
        r,
        Rejection::InvalidText {
            seq: 2,
            field: "controller id",
            problem: TextProblem::NotAllowedInId { ch: ' ' }
        }
    );
    let r = refused(log.push(
        Some("C-2"),
        Event::ComplaintReceived(sijil_core::event::ComplaintReceived {
            controller: Controller {
                id: "acme".into(),
                name: " ACME".into(),
            },
            categories: sijil_core::event::Categories::one(Category::Other),
            received_on: d("2023-01-10"),
            summary: None,
        }),
    ));
    assert_eq!(
        r,
        Rejection::InvalidText {
            seq: 2,
            field: "controller name",
            problem: TextProblem::SpaceAtEdge
        }
    );
    // A hearing's place, an erasure's reason, a revocation's reason, an authority's name.
    let r = refused(log.push(
        Some("C-1"),
        Event::HearingHeld(HearingHeld {
            held_on: d("2023-01-20"),
            place: "Rabat\n".into(),
            summary: None,
        }),
    ));
    assert_eq!(
        r,
        Rejection::InvalidText {
            seq: 2,
            field: "hearing place",
            problem: TextProblem::ControlCharacter { code: 10 }
        }
    );
    let r = refused(log.push(
        Some("C-1"),
        Event::Erasure(sijil_core::event::Erasure {
            target: 1,
            reason: "".into(),
        }),
    ));
    assert_eq!(
        r,
        Rejection::InvalidText {
            seq: 2,
            field: "erasure reason",
            problem: TextProblem::Empty
        }
    );
    let r = refused(log.push(
        None,
        Event::OfficerRevoked(sijil_core::event::OfficerRevoked {
            key: pk(&log.clerk.clone()),
            reason: "\u{202E}x".into(),
        }),
    ));
    assert_eq!(
        r,
        Rejection::InvalidText {
            seq: 2,
            field: "revocation reason",
            problem: TextProblem::ControlCharacter { code: 0x202E }
        }
    );
    let r = refused(log.push(Some("C-1"), authorities("2023-01-20", &["Parquet", ""])));
    assert_eq!(
        r,
        Rejection::InvalidText {
            seq: 2,
            field: "authority notified",
            problem: TextProblem::Empty
        }
    );
    let r = refused(log.push(
        Some("C-1"),
        Event::SanctionNotified(SanctionNotified {
            notified_on: d("2023-01-20"),
            sanction: Sanction::Warning,
            legal_basis: "x".repeat(300),
            reasons: None,
        }),
    ));
    assert_eq!(
        r,
        Rejection::InvalidText {
            seq: 2,
            field: "legal basis",
            problem: TextProblem::TooLong {
                chars: 300,
                max: 200
            }
        }
    );
}

// ---- Cases ----

#[test]
fn a_case_exists_before_it_is_referenced() {
    let mut log = with_case();
    for event in [
        hearing("2023-01-20"),
        inspection("2023-01-20"),
        correction(1),
    ] {
        let name = event.name();
        let r = refused(log.push(Some("C-9"), event));
        assert_eq!(
            r,
            Rejection::UnknownCase {
                seq: 2,
                case: "C-9".into(),
                event: name
            }
        );
    }
}

#[test]
fn a_case_is_opened_once() {
    let mut log = with_case();
    let r = refused(log.push(Some("C-1"), complaint("acme", "2023-01-10")));
    assert_eq!(
        r,
        Rejection::CaseAlreadyOpened {
            seq: 2,
            case: "C-1".into(),
            opened_at: 1
        }
    );
    let r = refused(log.push(
        Some("C-1"),
        inspection_opening("acme", "2023-01-10", Category::Image),
    ));
    assert_eq!(
        r,
        Rejection::CaseAlreadyOpened {
            seq: 2,
            case: "C-1".into(),
            opened_at: 1
        }
    );
    // An inspection that does not open a case is held on an existing one.
    log.ok("C-1", inspection("2023-01-12"));
    log.ok(
        "C-2",
        inspection_opening("acme", "2023-01-12", Category::Image),
    );
}

#[test]
fn only_correction_or_erasure_follow_case_closed() {
    let mut log = with_case();
    let hearing_seq = log.ok("C-1", hearing("2023-02-01"));
    log.ok("C-1", closed("2023-05-02", Outcome::Dismissed));
    let r = refused(log.push(Some("C-1"), hearing("2023-05-03")));
    assert_eq!(
        r,
        Rejection::CaseIsClosed {
            seq: 4,
            case: "C-1".into(),
            closed_on: d("2023-05-02"),
            closed_by: 3,
            event: "HearingHeld"
        }
    );
    assert_eq!(r.to_string(), "case C-1 is closed since 2023-05-02 (entry 3); only Correction, Erasure, Amendment, DecisionPublished, AppealLodged or CaseReopened may follow (entry 4 is HearingHeld)");
    for event in [
        deadline("2023-07-01"),
        closed("2023-05-03", Outcome::Complied),
        sanction("2023-05-03", Sanction::Warning),
    ] {
        assert!(matches!(
            refused(log.push(Some("C-1"), event)),
            Rejection::CaseIsClosed { .. }
        ));
    }
    log.ok("C-1", correction(hearing_seq));
    log.ok("C-1", erasure(1));
}

#[test]
fn things_that_happened_are_not_after_the_recording_day() {
    let mut log = with_case();
    let cases: [(Event, &str); 7] = [
        (hearing("2023-06-02"), "hearing date"),
        (inspection("2023-06-02"), "date the inspection opened"),
        (confirmed("2023-06-02"), "date compliance was confirmed"),
        (
            sanction("2023-06-02", Sanction::Warning),
            "date the sanction was notified",
        ),
        (
            authorities("2023-06-02", &["Parquet"]),
            "date the authorities were notified",
        ),
        (
            closed("2023-06-02", Outcome::Withdrawn),
            "date the case was closed",
        ),
        (
            complaint("acme", "2023-06-02"),
            "date the complaint was received",
        ),
    ];
    for (event, field) in cases {
        let case = if matches!(event, Event::ComplaintReceived(_)) {
            "C-2"
        } else {
            "C-1"
        };
        let r = refused(log.push(Some(case), event));
        assert_eq!(
            r,
            Rejection::DateAfterRecording {
                seq: 2,
                case: case.into(),
                field,
                date: d("2023-06-02"),
                recorded_on: d("2023-06-01")
            }
        );
    }
    let r = refused(log.push(
        Some("C-3"),
        inspection_opening("acme", "2023-06-02", Category::Image),
    ));
    assert!(matches!(
        r,
        Rejection::DateAfterRecording {
            field: "date the inspection opened",
            ..
        }
    ));
    // The recording day itself is fine, and deadlines may be in the future.
    log.ok("C-1", hearing("2023-06-01"));
    log.ok("C-1", deadline("2024-01-01"));
}

#[test]
fn dates_are_not_before_the_case_opened() {
    let mut log = with_case();
    let r = refused(log.push(Some("C-1"), deadline("2023-01-09")));
    assert_eq!(
        r,
        Rejection::DateBeforeCaseOpened {
            seq: 2,
            case: "C-1".into(),
            field: "compliance deadline",
            date: d("2023-01-09"),
            opened_on: d("2023-01-10")
        }
    );
    let r = refused(log.push(Some("C-1"), hearing("2022-12-31")));
    assert!(matches!(
        r,
        Rejection::DateBeforeCaseOpened {
            field: "hearing date",
            ..
        }
    ));
    // A deadline falls after the day it is set, at least the case's latest date (here the
    // opening day); one in the past relative to today is fine.
    let r = refused(log.push(Some("C-1"), deadline("2023-01-10")));
    assert_eq!(
        r,
        Rejection::DeadlineNotAfterLatest {
            seq: 2,
            case: "C-1".into(),
            due_on: d("2023-01-10"),
            latest_seq: 1,
            latest_date: d("2023-01-10"),
        }
    );
    log.ok("C-1", deadline("2023-01-11"));
}

#[test]
fn an_extension_needs_a_deadline() {
    let mut log = with_case();
    let r = refused(log.push(Some("C-1"), extend("2023-09-01")));
    assert_eq!(
        r,
        Rejection::NoDeadlineToExtend {
            seq: 2,
            case: "C-1".into()
        }
    );
    // Compliance ends the deadline.
    log.ok("C-1", deadline("2023-07-01"));
    log.ok("C-1", confirmed("2023-05-01"));
    assert!(matches!(
        refused(log.push(Some("C-1"), extend("2023-09-01"))),
        Rejection::NoDeadlineToExtend { .. }
    ));
}

#[test]
fn an_extension_moves_the_deadline_later() {
    let mut log = with_case();
    log.ok("C-1", deadline("2023-07-01"));
    for got in ["2023-07-01", "2023-06-30"] {
        let r = refused(log.push(Some("C-1"), extend(got)));
        assert_eq!(
            r,
            Rejection::ExtensionNotLater {
                seq: 3,
                case: "C-1".into(),
                current: d("2023-07-01"),
                got: d(got)
            }
        );
    }
    log.ok("C-1", extend("2023-07-02"));
    log.ok("C-1", extend("2023-08-01"));
}

#[test]
fn a_sanction_names_its_legal_basis() {
    let mut log = with_case();
    let r = refused(log.push(
        Some("C-1"),
        Event::SanctionNotified(SanctionNotified {
            notified_on: d("2023-03-01"),
            sanction: Sanction::Warning,
            legal_basis: "  ".into(),
            reasons: None,
        }),
    ));
    assert_eq!(
        r,
        Rejection::NoLegalBasis {
            seq: 2,
            case: "C-1".into()
        }
    );
}

#[test]
fn a_fine_has_an_amount() {
    let mut log = with_case();
    let r = refused(log.push(
        Some("C-1"),
        sanction("2023-03-01", Sanction::Fine { amount_mad: 0 }),
    ));
    assert_eq!(
        r,
        Rejection::ZeroFine {
            seq: 2,
            case: "C-1".into()
        }
    );
    log.ok(
        "C-1",
        sanction("2023-03-01", Sanction::Fine { amount_mad: 1 }),
    );
}

#[test]
fn authorities_notified_names_some() {
    let mut log = with_case();
    let r = refused(log.push(Some("C-1"), authorities("2023-03-01", &[])));
    assert_eq!(
        r,
        Rejection::NoAuthorities {
            seq: 2,
            case: "C-1".into()
        }
    );
    let many: Vec<String> = (0..33).map(|i| format!("Authority {i}")).collect();
    let names: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = refused(log.push(Some("C-1"), authorities("2023-03-01", &names)));
    assert_eq!(
        r,
        Rejection::TooManyAuthorities {
            seq: 2,
            case: "C-1".into(),
            count: 33,
            max: 32
        }
    );
    log.ok("C-1", authorities("2023-03-01", &names[..32]));
}

#[test]
fn corrections_and_erasures_point_at_earlier_entries() {
    let mut log = with_case();
    for (event, name) in [
        (correction(2), "Correction"),
        (correction(9), "Correction"),
        (erasure(2), "Erasure"),
    ] {
        let target = match &event {
            Event::Correction(c) => c.target,
            Event::Erasure(e) => e.target,
            _ => unreachable!(),
        };
        let r = refused(log.push(Some("C-1"), event));
        assert_eq!(
            r,
            Rejection::TargetNotEarlier {
                seq: 2,
                case: "C-1".into(),
                target,
                event: name
            }
        );
    }
}

#[test]
fn corrections_and_erasures_stay_in_their_case() {
    let mut log = with_case();
    log.open("C-2", "acme", "2023-01-11");
    for (event, name) in [
        (correction(1), "Correction"),
        (erasure(1), "Erasure"),
        (correction(0), "Correction"),
    ] {
        let target = match &event {
            Event::Correction(c) => c.target,
            Event::Erasure(e) => e.target,
            _ => unreachable!(),
        };
        let r = refused(log.push(Some("C-2"), event));
        assert_eq!(
            r,
            Rejection::TargetNotInCase {
                seq: 3,
                case: "C-2".into(),
                target,
                event: name
            }
        );
    }
    // A correction of a correction is fine.
    let c = log.ok("C-1", correction(1));
    log.ok("C-1", correction(c));
}

#[test]
fn erasure_needs_text_to_erase() {
    let mut log = with_case();
    let a = log.ok("C-1", authorities("2023-03-01", &["Parquet de Rabat"]));
    let h = log.ok("C-1", hearing("2023-03-02")); // no summary
    let r = refused(log.push(Some("C-1"), erasure(a)));
    assert_eq!(
        r,
        Rejection::NothingToErase {
            seq: 4,
            case: "C-1".into(),
            target: a,
            target_event: "AuthoritiesNotified"
        }
    );
    let r = refused(log.push(Some("C-1"), erasure(h)));
    assert!(matches!(
        r,
        Rejection::NothingToErase {
            target_event: "HearingHeld",
            ..
        }
    ));
    let e = log.ok("C-1", erasure(1));
    let r = refused(log.push(Some("C-1"), erasure(e)));
    assert!(matches!(
        r,
        Rejection::NothingToErase {
            target_event: "Erasure",
            ..
        }
    ));
}

#[test]
fn text_is_erased_once() {
    let mut log = with_case();
    let first = log.ok("C-1", erasure(1));
    let r = refused(log.push(Some("C-1"), erasure(1)));
    assert_eq!(
        r,
        Rejection::AlreadyErased {
            seq: 3,
            case: "C-1".into(),
            target: 1,
            erased_by: first
        }
    );
}

#[test]
fn every_message_names_the_entry() {
    // A spot check that messages read as sentences with their facts.
    let mut log = with_case();
    let r = refused(log.push(Some("C-9"), hearing("2023-01-20")));
    assert_eq!(
        r.to_string(),
        "entry 2: case C-9 does not exist; it must be opened (ComplaintReceived, or InspectionOpened that opens it) before HearingHeld can refer to it"
    );
    let r = refused(log.push_as(&key(7), Some("C-1"), hearing("2023-01-20")));
    assert!(
        r.to_string().starts_with("entry 2 is signed by key "),
        "{r}"
    );
}

#[test]
fn the_writer_checks_before_signing() {
    let log = with_case();
    let u = log.unsigned(Some("C-1"), hearing("2023-01-20"));
    assert_eq!(log.view.check_unsigned(&u, &pk(&log.clerk)), Ok(()));
    assert_eq!(
        log.view.check_unsigned(&u, &pk(&key(8))),
        Err(Rejection::UnknownSigner {
            seq: 2,
            signer: pk(&key(8))
        })
    );
    let (e, _) = Log::sign(u, &log.clerk);
    assert_eq!(log.view.check(&e), Ok(()));
    let link = log.view.next_case_link("C-1");
    assert_eq!((link.seq, link.prev), (1, log.entries[1].1));
    assert_eq!(log.view.next_case_link("new").seq, 0);
    assert_eq!(log.view.last_recorded_at(), Some(JUNE_1));
    assert_eq!(View::new().last_recorded_at(), None);
    assert_eq!(log.view.origin(), Some(ORIGIN));
    let clerk = log
        .view
        .officer(&pk(&log.clerk))
        .map(|o| (o.name.as_str(), o.role, o.authorized_at, o.revoked_at()));
    assert_eq!(clerk, Some(("Karim Clerk", Role::Clerk, 0, None)));
}
