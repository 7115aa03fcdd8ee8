//! Issue 13, the clerk: the case's state machine, the rules on a case's own dates, the new
//! events, amendments, several categories, and who signs an Erasure.

use sijil_core::event::{
    AmendedField, Amendment, AppealLodged, Appellant, CaseReopened, Categories, Category,
    ComplaintForwarded, ComplaintInadmissible, Controller, CourtRuling, DecisionPublished, Event,
    Outcome, ProceedingsResumed, ProceedingsSuspended, Role, Ruling, Sanction,
};

use super::*;
use crate::{CaseFilter, CaseStatus, Rejection};

fn refused(r: Result<u64, Rejection>) -> Rejection {
    match r {
        Ok(seq) => panic!("entry {seq} was accepted"),
        Err(r) => r,
    }
}

/// 2023-09-01T09:00:00Z, for histories that go past `JUNE_1`.
const SEPTEMBER_1: i64 = 1_693_558_800_000;

/// Case `C-1` opened by a complaint received 2023-01-10 (entry 1).
fn with_case() -> Log {
    let mut log = Log::new();
    log.open("C-1", "acme", "2023-01-10");
    log
}

fn status(log: &Log) -> CaseStatus {
    log.view
        .case("C-1", d("2023-06-01"))
        .map(|c| c.summary.status)
        .unwrap_or_else(|| panic!("no case C-1"))
}

fn inadmissible(on: &str) -> Event {
    Event::ComplaintInadmissible(ComplaintInadmissible {
        decided_on: d(on),
        reason: Some(digest("outside the law's scope")),
    })
}

fn forwarded(on: &str) -> Event {
    Event::ComplaintForwarded(ComplaintForwarded {
        forwarded_on: d(on),
        to: "Bank Al-Maghrib".into(),
        reason: None,
    })
}

fn suspended(on: &str) -> Event {
    Event::ProceedingsSuspended(ProceedingsSuspended {
        suspended_on: d(on),
        reason: Some(digest("pending criminal case")),
    })
}

fn resumed(on: &str) -> Event {
    Event::ProceedingsResumed(ProceedingsResumed { resumed_on: d(on) })
}

fn decision(on: &str) -> Event {
    Event::DecisionPublished(DecisionPublished {
        published_on: d(on),
        decision_number: "D-2023-117".into(),
        summary: Some(digest("the decision")),
    })
}

fn appeal(on: &str) -> Event {
    Event::AppealLodged(AppealLodged {
        lodged_on: d(on),
        court: "Tribunal administratif de Rabat".into(),
        by: Appellant::Controller,
    })
}

fn ruling(on: &str, ruling: Ruling) -> Event {
    Event::CourtRuling(CourtRuling {
        ruled_on: d(on),
        court: "Tribunal administratif de Rabat".into(),
        ruling,
        summary: None,
    })
}

fn reopened(on: &str) -> Event {
    Event::CaseReopened(CaseReopened {
        reopened_on: d(on),
        reason: None,
    })
}

fn amend(target: u64, amend: AmendedField) -> Event {
    Event::Amendment(Amendment {
        target,
        amend,
        reason: Some(digest("clerical error")),
    })
}

fn not_allowed(r: Rejection) -> (&'static str, CaseStatus, u64) {
    match r {
        Rejection::TransitionNotAllowed {
            event,
            status,
            since,
            ..
        } => (event, status, since),
        other => panic!("expected TransitionNotAllowed, got {other:?}: {other}"),
    }
}

// ---- The bugs of issue 13 ----

#[test]
fn issue_13_a_hearing_before_the_authorities_were_notified_is_refused() {
    let mut log = with_case();
    log.now = SEPTEMBER_1;
    let notified = log.ok("C-1", authorities("2023-07-16", &["Parquet"]));
    let r = refused(log.push(Some("C-1"), hearing("2023-05-01")));
    assert_eq!(
        r,
        Rejection::DateBeforeLatest {
            seq: 3,
            case: "C-1".into(),
            field: "hearing date",
            date: d("2023-05-01"),
            latest_seq: notified,
            latest_date: d("2023-07-16"),
        }
    );
    assert_eq!(
        r.to_string(),
        "entry 3: the hearing date, 2023-05-01, is before 2023-07-16, the date of entry 2 of case C-1; a case's dates never go backwards"
    );
}

#[test]
fn issue_13_a_deadline_before_the_last_hearing_and_sanction_is_refused() {
    let mut log = with_case();
    log.now = SEPTEMBER_1;
    log.ok("C-1", hearing("2023-04-12"));
    let sanctioned = log.ok("C-1", sanction("2023-07-15", Sanction::Warning));
    let r = refused(log.push(Some("C-1"), deadline("2023-04-01")));
    assert_eq!(
        r,
        Rejection::DeadlineNotAfterLatest {
            seq: 4,
            case: "C-1".into(),
            due_on: d("2023-04-01"),
            latest_seq: sanctioned,
            latest_date: d("2023-07-15"),
        }
    );
    assert!(r.to_string().contains("entry 3"), "{r}");
    // The case stays sanctioned, not "awaiting compliance, overdue".
    assert_eq!(status(&log), CaseStatus::Sanctioned);
    // A deadline after the case's latest date is fine, as is an extension past it.
    log.ok("C-1", deadline("2023-09-01"));
    let r = refused(log.push(Some("C-1"), extend("2023-08-01")));
    assert!(matches!(r, Rejection::ExtensionNotLater { .. }), "{r}");
}

#[test]
fn issue_13_a_closing_before_the_last_event_is_refused() {
    let mut log = with_case();
    let heard = log.ok("C-1", hearing("2023-03-01"));
    let r = refused(log.push(Some("C-1"), closed("2023-02-01", Outcome::Dismissed)));
    assert_eq!(
        r,
        Rejection::DateBeforeLatest {
            seq: 3,
            case: "C-1".into(),
            field: "date the case was closed",
            date: d("2023-02-01"),
            latest_seq: heard,
            latest_date: d("2023-03-01"),
        }
    );
    // The same day is fine.
    log.ok("C-1", closed("2023-03-01", Outcome::Dismissed));
}

#[test]
fn undated_events_do_not_move_the_latest_date() {
    let mut log = with_case();
    log.ok("C-1", hearing("2023-02-01"));
    log.ok("C-1", deadline("2023-05-01"));
    // A deadline is a day to come, not one that happened: later events may precede it.
    log.ok("C-1", confirmed("2023-03-01"));
    log.ok("C-1", correction(2));
    log.ok("C-1", hearing("2023-03-01"));
}

// ---- The state machine ----

#[test]
fn a_full_case_life() {
    let mut log = with_case();
    assert_eq!(status(&log), CaseStatus::Open);
    log.ok("C-1", hearing("2023-01-20"));
    log.ok("C-1", suspended("2023-02-01"));
    assert_eq!(status(&log), CaseStatus::Suspended);
    log.ok("C-1", authorities("2023-02-02", &["Parquet"]));
    log.ok("C-1", resumed("2023-03-01"));
    assert_eq!(
        status(&log),
        CaseStatus::UnderInvestigation,
        "back where it was"
    );
    log.ok(
        "C-1",
        sanction("2023-03-10", Sanction::Fine { amount_mad: 50_000 }),
    );
    log.ok("C-1", decision("2023-03-11"));
    assert_eq!(status(&log), CaseStatus::Sanctioned);
    log.ok("C-1", appeal("2023-03-20"));
    assert_eq!(status(&log), CaseStatus::UnderAppeal);
    log.ok("C-1", ruling("2023-04-20", Ruling::PartiallyAnnulled));
    assert_eq!(status(&log), CaseStatus::Sanctioned);
    log.ok("C-1", closed("2023-04-21", Outcome::Sanctioned));
    log.ok("C-1", decision("2023-04-22"));
    log.ok("C-1", appeal("2023-04-23"));
    assert_eq!(status(&log), CaseStatus::UnderAppeal);
    log.ok("C-1", ruling("2023-05-01", Ruling::Annulled));
    assert_eq!(status(&log), CaseStatus::Closed);
    log.ok("C-1", reopened("2023-05-02"));
    assert_eq!(status(&log), CaseStatus::Reopened);
    let c = log.view.case("C-1", d("2023-06-01")).expect("case");
    assert_eq!(c.closing, None, "reopening ends the closing");
    assert_eq!(c.decisions.len(), 2);
    assert_eq!(c.appeals.len(), 2);
    assert_eq!(
        c.appeals[1].ruling.map(|r| r.ruling),
        Some(Ruling::Annulled)
    );
    log.ok("C-1", hearing("2023-05-03"));
    assert_eq!(status(&log), CaseStatus::UnderInvestigation);
    log.ok("C-1", closed("2023-05-04", Outcome::Complied));
    assert_eq!(log.replay().as_ref(), Ok(&log.view));
}

#[test]
fn inadmissible_and_forwarded_close_a_complaint_as_its_first_act() {
    let mut log = with_case();
    log.ok("C-1", correction(1));
    log.ok("C-1", inadmissible("2023-01-15"));
    assert_eq!(status(&log), CaseStatus::Inadmissible);
    assert!(matches!(
        refused(log.push(Some("C-1"), hearing("2023-01-16"))),
        Rejection::CaseIsClosed { closed_by: 3, .. }
    ));
    log.ok("C-1", reopened("2023-02-01"));
    // Reopened, the case has moved on: no longer a first act.
    let (event, st, since) = not_allowed(refused(log.push(Some("C-1"), forwarded("2023-02-02"))));
    assert_eq!(
        (event, st, since),
        ("ComplaintForwarded", CaseStatus::Reopened, 4)
    );

    log.open("C-2", "bim", "2023-01-10");
    log.ok("C-2", forwarded("2023-01-12"));
    assert_eq!(
        log.view
            .case("C-2", d("2023-06-01"))
            .map(|c| c.summary.status),
        Some(CaseStatus::Forwarded)
    );
    // Forwarded and inadmissible cases count as closed for their controller.
    assert_eq!(
        log.view
            .controllers()
            .iter()
            .find(|c| c.id == "bim")
            .map(|c| c.open_cases),
        Some(0)
    );

    let mut log = with_case();
    log.ok("C-1", hearing("2023-01-12"));
    let r = refused(log.push(Some("C-1"), inadmissible("2023-01-13")));
    assert_eq!(
        not_allowed(r.clone()),
        ("ComplaintInadmissible", CaseStatus::UnderInvestigation, 2)
    );
    assert!(
        r.to_string().contains("first act after ComplaintReceived"),
        "{r}"
    );
    log.ok(
        "C-2",
        inspection_opening("cosmo", "2023-01-10", Category::Other),
    );
    let r = refused(log.push(Some("C-2"), inadmissible("2023-01-13")));
    assert!(r.to_string().contains("opened by an inspection"), "{r}");
}

#[test]
fn suspension_allows_only_what_does_not_move_the_case() {
    let mut log = with_case();
    let r = refused(log.push(Some("C-1"), resumed("2023-01-12")));
    assert_eq!(not_allowed(r), ("ProceedingsResumed", CaseStatus::Open, 1));
    let s = log.ok("C-1", suspended("2023-01-12"));
    for e in [
        hearing("2023-01-13"),
        deadline("2023-03-01"),
        sanction("2023-01-13", Sanction::Warning),
        suspended("2023-01-13"),
        inspection("2023-01-13"),
    ] {
        let name = e.name();
        assert_eq!(
            not_allowed(refused(log.push(Some("C-1"), e))),
            (name, CaseStatus::Suspended, s)
        );
    }
    log.ok("C-1", correction(1));
    log.ok("C-1", closed("2023-01-20", Outcome::Withdrawn));
    assert_eq!(status(&log), CaseStatus::Closed);
}

#[test]
fn decisions_and_appeals_follow_a_sanction_or_closure() {
    let mut log = with_case();
    for e in [decision("2023-01-12"), appeal("2023-01-12")] {
        let name = e.name();
        let r = refused(log.push(Some("C-1"), e));
        assert_eq!(not_allowed(r.clone()), (name, CaseStatus::Open, 1));
        assert!(r.to_string().contains("sanctioned or closed"), "{r}");
    }
    let r = refused(log.push(Some("C-1"), ruling("2023-01-12", Ruling::Upheld)));
    assert!(r.to_string().contains("needs an appeal in course"), "{r}");
    let r = refused(log.push(Some("C-1"), reopened("2023-01-12")));
    assert!(r.to_string().contains("only a closed case"), "{r}");
    log.ok("C-1", sanction("2023-01-12", Sanction::Warning));
    let lodged = log.ok("C-1", appeal("2023-01-13"));
    for e in [
        hearing("2023-01-14"),
        appeal("2023-01-14"),
        closed("2023-01-14", Outcome::Sanctioned),
    ] {
        let name = e.name();
        assert_eq!(
            not_allowed(refused(log.push(Some("C-1"), e))),
            (name, CaseStatus::UnderAppeal, lodged)
        );
    }
    log.ok("C-1", authorities("2023-01-14", &["Parquet"]));
    log.ok("C-1", ruling("2023-02-01", Ruling::Upheld));
    assert_eq!(status(&log), CaseStatus::Sanctioned);
}

#[test]
fn new_events_check_their_text_and_dates() {
    let mut log = with_case();
    let mut bad = forwarded("2023-01-12");
    if let Event::ComplaintForwarded(f) = &mut bad {
        f.to = " ".into();
    }
    assert!(matches!(
        refused(log.push(Some("C-1"), bad)),
        Rejection::InvalidText {
            field: "authority the complaint is forwarded to",
            ..
        }
    ));
    // After the recording day (2023-06-01): not yet happened.
    assert!(matches!(
        refused(log.push(Some("C-1"), suspended("2023-06-02"))),
        Rejection::DateAfterRecording { .. }
    ));
    log.ok("C-1", sanction("2023-02-01", Sanction::Warning));
    let mut bad = decision("2023-02-02");
    if let Event::DecisionPublished(p) = &mut bad {
        p.decision_number = "D".repeat(65);
    }
    assert!(matches!(
        refused(log.push(Some("C-1"), bad)),
        Rejection::InvalidText {
            field: "decision number",
            ..
        }
    ));
    assert!(matches!(
        refused(log.push(Some("C-1"), decision("2023-01-31"))),
        Rejection::DateBeforeLatest { latest_seq: 2, .. }
    ));
}

// ---- Who signs ----

#[test]
fn only_an_admin_may_erase() {
    let mut log = with_case();
    let clerk = log.clerk.clone();
    let admin = log.admin.clone();
    let r = refused(log.push_as(&clerk, Some("C-1"), erasure(1)));
    assert!(
        matches!(
            r,
            Rejection::SignerNotAdmin {
                event: "Erasure",
                ..
            }
        ),
        "{r}"
    );
    assert_eq!(crate::required_role(&erasure(1)), Role::Admin);
    // A clerk amends; an admin may too.
    log.push_as(
        &clerk,
        Some("C-1"),
        amend(1, AmendedField::Date(d("2023-01-09"))),
    )
    .unwrap_or_else(|r| panic!("{r}"));
    log.push_as(&admin, Some("C-1"), erasure(1))
        .unwrap_or_else(|r| panic!("{r}"));
}

// ---- Amendments ----

#[test]
fn an_amended_date_changes_the_case_and_keeps_its_history() {
    let mut log = with_case();
    let heard = log.ok("C-1", hearing("2023-02-01"));
    let set = log.ok("C-1", deadline("2023-04-01"));
    log.ok("C-1", hearing("2023-03-01"));
    // The hearing was really on 2023-02-03.
    let a = log.ok("C-1", amend(heard, AmendedField::Date(d("2023-02-03"))));
    let c = log.view.case("C-1", d("2023-06-01")).expect("case");
    assert_eq!(c.hearings[0].held_on, d("2023-02-03"));
    assert_eq!(c.timeline[1].amended_by, vec![a]);
    // Not past the next dated entry (entry 4, 2023-03-01), nor before the opening.
    let r = refused(log.push(
        Some("C-1"),
        amend(heard, AmendedField::Date(d("2023-03-02"))),
    ));
    assert_eq!(
        r,
        Rejection::AmendedDateAfterLater {
            seq: 6,
            case: "C-1".into(),
            target: heard,
            date: d("2023-03-02"),
            later_seq: 4,
            later_date: d("2023-03-01"),
        }
    );
    let r = refused(log.push(
        Some("C-1"),
        amend(heard, AmendedField::Date(d("2023-01-09"))),
    ));
    assert!(
        matches!(r, Rejection::DateBeforeLatest { latest_seq: 1, .. }),
        "{r}"
    );
    // A deadline set after the target keeps falling after it: the deadline is entry 3.
    let mut log2 = with_case();
    let h = log2.ok("C-1", hearing("2023-02-01"));
    let s = log2.ok("C-1", deadline("2023-02-10"));
    let r = refused(log2.push(Some("C-1"), amend(h, AmendedField::Date(d("2023-02-10")))));
    assert!(
        matches!(r, Rejection::AmendedDateAfterLater { later_seq, .. } if later_seq == s),
        "{r}"
    );
    // The opening date moves the case's opening.
    log.ok("C-1", amend(1, AmendedField::Date(d("2023-01-08"))));
    let c = log.view.case("C-1", d("2023-06-01")).expect("case");
    assert_eq!(c.summary.opened_on, d("2023-01-08"));
    // Amended dates count for the rules that follow: the latest is 2023-03-01 (entry 4).
    let r = refused(log.push(Some("C-1"), deadline("2023-03-01")));
    assert!(
        matches!(r, Rejection::DeadlineNotAfterLatest { latest_seq: 4, .. }),
        "{r}"
    );
    let _ = set;
}

#[test]
fn an_amended_deadline_moves_the_deadline_in_force() {
    let mut log = with_case();
    let set = log.ok("C-1", deadline("2023-04-01"));
    let ext = log.ok("C-1", extend("2023-05-01"));
    log.ok("C-1", amend(ext, AmendedField::DueOn(d("2023-05-15"))));
    let c = log.view.case("C-1", d("2023-06-01")).expect("case");
    assert_eq!(c.summary.deadline, Some(d("2023-05-15")));
    // The deadline extended stays before its extension.
    let r = refused(log.push(
        Some("C-1"),
        amend(set, AmendedField::DueOn(d("2023-05-20"))),
    ));
    assert!(
        matches!(r, Rejection::AmendedDateAfterLater { later_seq, .. } if later_seq == ext),
        "{r}"
    );
    // An extension stays after the deadline it extends.
    let r = refused(log.push(
        Some("C-1"),
        amend(ext, AmendedField::DueOn(d("2023-03-01"))),
    ));
    assert!(matches!(r, Rejection::ExtensionNotLater { .. }), "{r}");
    // A hearing has no due date; the same value is no amendment.
    let r = refused(log.push(Some("C-1"), amend(1, AmendedField::DueOn(d("2023-05-20")))));
    assert!(
        matches!(
            r,
            Rejection::NothingToAmend {
                target: 1,
                field: "due_on",
                ..
            }
        ),
        "{r}"
    );
    let r = refused(log.push(
        Some("C-1"),
        amend(set, AmendedField::DueOn(d("2023-04-01"))),
    ));
    assert!(
        matches!(r, Rejection::AmendmentChangesNothing { .. }),
        "{r}"
    );
    let r = refused(log.push(Some("C-1"), amend(set, AmendedField::Date(d("2023-04-01")))));
    assert!(
        matches!(r, Rejection::NothingToAmend { field: "date", .. }),
        "{r}"
    );
}

#[test]
fn an_amended_controller_or_categories_change_the_listing() {
    let mut log = with_case();
    log.open("C-2", "acme", "2023-01-11");
    let cats = Categories::new(vec![Category::Privacy, Category::Image]).expect("canonical");
    log.ok("C-1", amend(1, AmendedField::Categories(cats.clone())));
    let fixed = Controller {
        id: "acme-maroc".into(),
        name: "ACME Maroc SA".into(),
    };
    log.ok("C-1", amend(1, AmendedField::Controller(fixed.clone())));
    let c = log.view.case("C-1", d("2023-06-01")).expect("case");
    assert_eq!(c.summary.categories, cats);
    assert_eq!(c.summary.controller.id, "acme-maroc");
    assert_eq!(c.timeline[0].amended_by, vec![3, 4]);
    let acme = log.view.controller("acme", d("2023-06-01")).expect("acme");
    assert_eq!(
        acme.cases.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["C-2"]
    );
    let image = CaseFilter {
        category: Some(Category::Image),
        ..CaseFilter::default()
    };
    let page = log
        .view
        .cases(
            &image,
            crate::Sort::Id,
            &crate::Page::first(10),
            d("2023-06-01"),
        )
        .expect("page");
    assert_eq!(page.total, 1);
    // A case counts once under each of its categories.
    let st = log.view.stats(d("2023-06-01"));
    assert_eq!(st.by_category[&Category::Privacy], 1);
    assert_eq!(st.by_category[&Category::Image], 1);
    assert_eq!(st.by_category[&Category::VideoSurveillance], 1);
    // Only the opening entry has a controller and categories; the same value changes nothing.
    let h = log.ok("C-1", hearing("2023-01-12"));
    let r = refused(log.push(
        Some("C-1"),
        amend(h, AmendedField::Controller(fixed.clone())),
    ));
    assert!(
        matches!(
            r,
            Rejection::NothingToAmend {
                field: "controller",
                ..
            }
        ),
        "{r}"
    );
    let r = refused(log.push(Some("C-1"), amend(1, AmendedField::Controller(fixed))));
    assert!(
        matches!(r, Rejection::AmendmentChangesNothing { .. }),
        "{r}"
    );
    let r = refused(log.push(Some("C-1"), amend(1, AmendedField::Categories(cats))));
    assert!(
        matches!(r, Rejection::AmendmentChangesNothing { .. }),
        "{r}"
    );
    // Another case's entry, or a later one, is no target.
    let r = refused(log.push(Some("C-1"), amend(2, AmendedField::Date(d("2023-01-12")))));
    assert!(matches!(r, Rejection::TargetNotInCase { .. }), "{r}");
    assert_eq!(log.replay().as_ref(), Ok(&log.view));
}

#[test]
fn has_text_agrees_with_texts_for_the_new_events() {
    for e in [
        inadmissible("2023-01-01"),
        forwarded("2023-01-01"),
        suspended("2023-01-01"),
        resumed("2023-01-01"),
        decision("2023-01-01"),
        appeal("2023-01-01"),
        ruling("2023-01-01", Ruling::Upheld),
        reopened("2023-01-01"),
        amend(1, AmendedField::Date(d("2023-01-01"))),
    ] {
        assert_eq!(
            crate::view::has_text(&e),
            !e.texts().is_empty(),
            "{}",
            e.name()
        );
    }
}
