//! The status machine (`CaseStatus`) and "overdue as of".

use sijil_core::event::{Category, Outcome, Sanction};

use super::*;
use crate::CaseStatus;

fn status(log: &Log, id: &str) -> Option<CaseStatus> {
    log.view.case(id, d("2023-06-01")).map(|c| c.summary.status)
}

#[test]
fn a_case_goes_through_its_statuses() {
    let mut log = Log::new();
    log.open("C-1", "acme", "2023-01-10");
    assert_eq!(status(&log, "C-1"), Some(CaseStatus::Open));
    log.ok("C-1", authorities("2023-01-11", &["Parquet"]));
    assert_eq!(
        status(&log, "C-1"),
        Some(CaseStatus::Open),
        "notifying authorities changes nothing"
    );
    log.ok("C-1", hearing("2023-01-20"));
    assert_eq!(status(&log, "C-1"), Some(CaseStatus::UnderInvestigation));
    log.ok("C-1", deadline("2023-03-01"));
    assert_eq!(status(&log, "C-1"), Some(CaseStatus::AwaitingCompliance));
    log.ok("C-1", hearing("2023-02-01"));
    assert_eq!(
        status(&log, "C-1"),
        Some(CaseStatus::AwaitingCompliance),
        "a hearing does not move a case back"
    );
    log.ok("C-1", extend("2023-04-01"));
    assert_eq!(status(&log, "C-1"), Some(CaseStatus::AwaitingCompliance));
    log.ok("C-1", confirmed("2023-03-15"));
    assert_eq!(status(&log, "C-1"), Some(CaseStatus::Complied));
    log.ok("C-1", correction(3));
    assert_eq!(
        status(&log, "C-1"),
        Some(CaseStatus::Complied),
        "a correction changes nothing"
    );
    log.ok("C-1", closed("2023-03-20", Outcome::Complied));
    assert_eq!(status(&log, "C-1"), Some(CaseStatus::Closed));
    log.ok("C-1", erasure(1));
    assert_eq!(status(&log, "C-1"), Some(CaseStatus::Closed));
}

#[test]
fn sanctions_and_inspections() {
    let mut log = Log::new();
    log.ok(
        "C-2",
        inspection_opening("acme", "2023-01-10", Category::Profiling),
    );
    assert_eq!(
        status(&log, "C-2"),
        Some(CaseStatus::UnderInvestigation),
        "an inspection is an investigation"
    );
    log.ok("C-2", sanction("2023-02-01", Sanction::FormalNotice));
    assert_eq!(status(&log, "C-2"), Some(CaseStatus::Sanctioned));
    log.ok("C-2", deadline("2023-03-01"));
    assert_eq!(
        status(&log, "C-2"),
        Some(CaseStatus::AwaitingCompliance),
        "new obligations after a sanction"
    );
    log.ok(
        "C-2",
        sanction("2023-04-01", Sanction::Fine { amount_mad: 50_000 }),
    );
    assert_eq!(status(&log, "C-2"), Some(CaseStatus::Sanctioned));
    log.ok("C-2", extend("2023-05-01"));
    assert_eq!(
        status(&log, "C-2"),
        Some(CaseStatus::AwaitingCompliance),
        "more time after a sanction"
    );

    log.open("C-3", "acme", "2023-01-10");
    log.ok("C-3", inspection("2023-01-12"));
    assert_eq!(status(&log, "C-3"), Some(CaseStatus::UnderInvestigation));
}

#[test]
fn overdue_as_of_a_date() {
    let mut log = Log::new();
    log.open("C-1", "acme", "2023-01-10");
    let overdue = |log: &Log, as_of: &str| {
        log.view
            .case("C-1", d(as_of))
            .map(|c| (c.summary.deadline, c.summary.overdue))
    };
    assert_eq!(
        overdue(&log, "2030-01-01"),
        Some((None, false)),
        "no deadline, never overdue"
    );
    log.ok("C-1", deadline("2023-07-01"));
    assert_eq!(
        overdue(&log, "2023-07-01"),
        Some((Some(d("2023-07-01")), false)),
        "due on the day is not late"
    );
    assert_eq!(
        overdue(&log, "2023-07-02"),
        Some((Some(d("2023-07-01")), true))
    );
    assert_eq!(log.view.stats(d("2023-07-02")).overdue, 1);
    log.ok("C-1", extend("2023-08-01"));
    assert_eq!(
        overdue(&log, "2023-07-02"),
        Some((Some(d("2023-08-01")), false))
    );
    assert_eq!(
        overdue(&log, "2023-08-02"),
        Some((Some(d("2023-08-01")), true))
    );
    log.ok("C-1", sanction("2023-06-01", Sanction::Warning));
    assert_eq!(
        overdue(&log, "2023-08-02"),
        Some((Some(d("2023-08-01")), false)),
        "only cases awaiting compliance are overdue"
    );
    log.ok("C-1", confirmed("2023-06-01"));
    assert_eq!(
        overdue(&log, "2023-08-02"),
        Some((None, false)),
        "compliance ends the deadline"
    );
}
