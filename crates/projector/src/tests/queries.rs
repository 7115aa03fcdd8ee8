//! Queries: filters, sorting, paging, a case with its entries, controllers, statistics.

use serde_json::json;
use sijil_core::event::{Category, ComplaintReceived, Controller, Outcome, Role, Sanction};

use super::*;
use crate::{CaseFilter, CaseStatus, Page, QueryError, Sort};

/// Four cases:
///
/// | case | controller | opened (seq)      | then                                   |
/// |------|------------|-------------------|----------------------------------------|
/// | C-1  | acme       | 2023-01-10 (1)    | hearing 5, deadline 2023-04-01 6       |
/// | C-2  | bim        | 2022-11-05 (2) by inspection, profiling | warning 11       |
/// | C-3  | acme       | 2023-01-10 (3)    | fine 7, closed 8                       |
/// | A-9  | cosmo      | 2023-03-01 (4)    | correction 9 and erasure 10 of entry 4 |
fn register() -> Log {
    let mut log = Log::new();
    log.open("C-1", "acme", "2023-01-10");
    log.ok(
        "C-2",
        inspection_opening("bim", "2022-11-05", Category::Profiling),
    );
    log.open("C-3", "acme", "2023-01-10");
    log.open("A-9", "cosmo", "2023-03-01");
    log.ok("C-1", hearing("2023-01-20"));
    log.ok("C-1", deadline("2023-04-01"));
    log.ok(
        "C-3",
        sanction("2023-02-01", Sanction::Fine { amount_mad: 20_000 }),
    );
    log.ok("C-3", closed("2023-02-02", Outcome::Sanctioned));
    log.ok("A-9", correction(4));
    log.ok("A-9", erasure(4));
    log.ok("C-2", sanction("2023-02-01", Sanction::Warning));
    log
}

const TODAY: &str = "2023-06-01";

fn ids(log: &Log, filter: &CaseFilter, sort: Sort) -> Vec<String> {
    let page = log
        .view
        .cases(filter, sort, &Page::first(100), d(TODAY))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.total, page.items.len());
    page.items.into_iter().map(|c| c.id).collect()
}

#[test]
fn sorting() {
    let log = register();
    let all = CaseFilter::default();
    assert_eq!(
        ids(&log, &all, Sort::OpenedAsc),
        ["C-2", "C-1", "C-3", "A-9"],
        "same day: by opening entry"
    );
    assert_eq!(
        ids(&log, &all, Sort::OpenedDesc),
        ["A-9", "C-3", "C-1", "C-2"]
    );
    assert_eq!(ids(&log, &all, Sort::Id), ["A-9", "C-1", "C-2", "C-3"]);
}

#[test]
fn filters() {
    let log = register();
    let f = |filter: CaseFilter| ids(&log, &filter, Sort::OpenedAsc);
    assert_eq!(
        f(CaseFilter {
            status: Some(CaseStatus::AwaitingCompliance),
            ..Default::default()
        }),
        ["C-1"]
    );
    assert_eq!(
        f(CaseFilter {
            status: Some(CaseStatus::Closed),
            ..Default::default()
        }),
        ["C-3"]
    );
    assert_eq!(
        f(CaseFilter {
            controller: Some("acme".into()),
            ..Default::default()
        }),
        ["C-1", "C-3"]
    );
    assert!(f(CaseFilter {
        controller: Some("nobody".into()),
        ..Default::default()
    })
    .is_empty());
    assert_eq!(
        f(CaseFilter {
            category: Some(Category::Profiling),
            ..Default::default()
        }),
        ["C-2"]
    );
    assert_eq!(
        f(CaseFilter {
            opened_from: Some(d("2023-01-10")),
            opened_to: Some(d("2023-01-10")),
            ..Default::default()
        }),
        ["C-1", "C-3"]
    );
    assert_eq!(
        f(CaseFilter {
            opened_from: Some(d("2023-01-11")),
            ..Default::default()
        }),
        ["A-9"]
    );
    assert_eq!(
        f(CaseFilter {
            opened_to: Some(d("2022-12-31")),
            ..Default::default()
        }),
        ["C-2"]
    );
    assert_eq!(
        f(CaseFilter {
            controller: Some("acme".into()),
            status: Some(CaseStatus::Closed),
            category: Some(Category::VideoSurveillance),
            ..Default::default()
        }),
        ["C-3"]
    );
    // The filter is what an HTTP query string deserializes into.
    let parsed: CaseFilter = serde_json::from_value(
        json!({"status": "awaiting_compliance", "opened_from": "2023-01-01"}),
    )
    .unwrap_or_default();
    assert_eq!(parsed.status, Some(CaseStatus::AwaitingCompliance));
    assert!(
        serde_json::from_value::<CaseFilter>(json!({"stauts": "open"})).is_err(),
        "typos are refused"
    );
}

#[test]
fn paging_by_offset_and_by_cursor_covers_every_case_once() {
    let mut log = register();
    for i in 0..20 {
        log.open(
            &format!("P-{i:02}"),
            if i % 3 == 0 { "acme" } else { "delta" },
            ["2023-01-10", "2023-02-01"][i % 2],
        );
    }
    let filters = [
        CaseFilter::default(),
        CaseFilter {
            controller: Some("acme".into()),
            ..Default::default()
        },
    ];
    for filter in &filters {
        for sort in [Sort::OpenedAsc, Sort::OpenedDesc, Sort::Id] {
            let full = ids(&log, filter, sort);
            for limit in 1..=7 {
                let mut by_offset = Vec::new();
                let mut by_cursor = Vec::new();
                let mut page = Page::Offset { offset: 0, limit };
                let mut cursor = Page::first(limit);
                loop {
                    let p = log
                        .view
                        .cases(filter, sort, &page, d(TODAY))
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!((p.total, p.offset), (full.len(), by_offset.len()));
                    by_offset.extend(p.items.iter().map(|c| c.id.clone()));
                    if p.items.is_empty() {
                        break;
                    }
                    page = Page::Offset {
                        offset: by_offset.len(),
                        limit,
                    };
                }
                loop {
                    let p = log
                        .view
                        .cases(filter, sort, &cursor, d(TODAY))
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!((p.total, p.offset), (full.len(), by_cursor.len()));
                    by_cursor.extend(p.items.iter().map(|c| c.id.clone()));
                    match p.next {
                        Some(after) => cursor = Page::After { after, limit },
                        None => break,
                    }
                }
                assert_eq!(by_offset, full, "{sort:?} limit {limit}");
                assert_eq!(by_cursor, full, "{sort:?} limit {limit}");
            }
        }
    }
}

#[test]
fn paging_edges() {
    let log = register();
    let all = CaseFilter::default();
    let p = log
        .view
        .cases(&all, Sort::Id, &Page::first(0), d(TODAY))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((p.total, p.items.len(), p.next), (4, 0, None));
    let p = log
        .view
        .cases(
            &all,
            Sort::Id,
            &Page::Offset {
                offset: 10,
                limit: 5,
            },
            d(TODAY),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    // The offset asked for is the one reported, past the end too (issue 11).
    assert_eq!((p.total, p.offset, p.items.len(), p.next), (4, 10, 0, None));
    let p = log
        .view
        .cases(&all, Sort::Id, &Page::first(usize::MAX), d(TODAY))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.items.len(), 4, "a huge limit is capped, not an overflow");
    // A cursor that no longer matches the filter still places the page.
    let closed = CaseFilter {
        status: Some(CaseStatus::AwaitingCompliance),
        ..Default::default()
    };
    let p = log
        .view
        .cases(
            &closed,
            Sort::Id,
            &Page::After {
                after: "A-9".into(),
                limit: 5,
            },
            d(TODAY),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.items.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["C-1"]
    );
    assert_eq!(
        log.view.cases(
            &all,
            Sort::Id,
            &Page::After {
                after: "Z-1".into(),
                limit: 5
            },
            d(TODAY)
        ),
        Err(QueryError::UnknownCursor {
            after: "Z-1".into()
        })
    );
}

#[test]
fn a_case_with_its_entries() {
    let log = register();
    assert_eq!(log.view.case("nope", d(TODAY)), None);
    let c3 = serde_json::to_value(log.view.case("C-3", d(TODAY))).unwrap_or_default();
    assert_eq!(
        c3,
        json!({
            "id": "C-3",
            "controller": {"id": "acme", "name": "ACME SARL"},
            "categories": ["video_surveillance"],
            "opened_by": "complaint",
            "opened_on": "2023-01-10",
            "opened_seq": 3,
            "status": "closed",
            "deadline": null,
            "overdue": false,
            "entries": 3,
            "last_seq": 8,
            "outcome": "sanctioned",
            "head": log.entries[8].1.to_hex(),
            "timeline": [
                {"seq": 3, "type": "ComplaintReceived", "has_text": true, "corrected_by": [], "amended_by": [], "erasure": null},
                {"seq": 7, "type": "SanctionNotified", "has_text": true, "corrected_by": [], "amended_by": [], "erasure": null},
                {"seq": 8, "type": "CaseClosed", "has_text": true, "corrected_by": [], "amended_by": [], "erasure": null},
            ],
            "hearings": [],
            "sanctions": [{"seq": 7, "notified_on": "2023-02-01", "kind": "fine", "amount_mad": 20000, "legal_basis": "Loi 09-08, art. 51"}],
            "authorities_notified": [],
            "compliance": null,
            "closing": {"seq": 8, "closed_on": "2023-02-02", "outcome": "sanctioned"},
            "decisions": [],
            "appeals": [],
        })
    );
    let c1 = log
        .view
        .case("C-1", d(TODAY))
        .unwrap_or_else(|| panic!("C-1"));
    assert_eq!(
        (c1.summary.status, c1.summary.deadline, c1.summary.overdue),
        (CaseStatus::AwaitingCompliance, Some(d("2023-04-01")), true)
    );
    assert_eq!(
        c1.hearings
            .iter()
            .map(|h| (h.seq, h.place.as_str()))
            .collect::<Vec<_>>(),
        [(5, "Rabat")]
    );
}

#[test]
fn corrections_and_erasures_show_on_the_entries_they_affect() {
    let log = register();
    let a9 = log
        .view
        .case("A-9", d(TODAY))
        .unwrap_or_else(|| panic!("A-9"));
    let opening = &a9.timeline[0];
    assert_eq!(
        (opening.seq, opening.corrected_by.as_slice()),
        (4, &[9][..])
    );
    let erasure = opening
        .erasure
        .as_ref()
        .map(|e| (e.seq, e.erased_on, e.reason.as_str()));
    assert_eq!(
        erasure,
        Some((10, d("2023-06-01"), "Loi 09-08, art. 8 (right to erasure)"))
    );
    assert_eq!(
        a9.timeline.iter().map(|e| e.event).collect::<Vec<_>>(),
        ["ComplaintReceived", "Correction", "Erasure"]
    );
    assert!(a9.timeline[1..]
        .iter()
        .all(|e| e.corrected_by.is_empty() && e.erasure.is_none()));
    assert_eq!(
        log.view.annotations(4).map(|a| a.corrections.clone()),
        Some(vec![9])
    );
    assert_eq!(log.view.annotations(5), None);
}

#[test]
fn controllers_and_their_cases() {
    let mut log = register();
    let list: Vec<(String, String, usize, usize)> = log
        .view
        .controllers()
        .into_iter()
        .map(|c| (c.id, c.name, c.cases, c.open_cases))
        .collect();
    assert_eq!(
        list,
        [
            ("acme".into(), "ACME SARL".into(), 2, 1),
            ("bim".into(), "BIM SARL".into(), 1, 1),
            ("cosmo".into(), "COSMO SARL".into(), 1, 1)
        ]
    );
    let acme = log
        .view
        .controller("acme", d(TODAY))
        .unwrap_or_else(|| panic!("acme"));
    assert_eq!(
        acme.cases.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["C-1", "C-3"]
    );
    assert_eq!(log.view.controller("nobody", d(TODAY)), None);

    // A controller is renamed by its latest case; earlier names stay listed once.
    let renamed = |name: &str| {
        Event::ComplaintReceived(ComplaintReceived {
            controller: Controller {
                id: "acme".into(),
                name: name.into(),
            },
            categories: sijil_core::event::Categories::one(Category::Privacy),
            received_on: d("2023-05-01"),
            summary: None,
        })
    };
    log.ok("C-5", renamed("ACME Maroc"));
    log.ok("C-6", renamed("ACME SARL"));
    log.ok("C-7", renamed("ACME Maroc"));
    let acme = log
        .view
        .controller("acme", d(TODAY))
        .unwrap_or_else(|| panic!("acme"));
    assert_eq!(
        (acme.name.as_str(), acme.former_names.as_slice()),
        ("ACME Maroc", &["ACME SARL".to_string()][..])
    );
    let c1 = log
        .view
        .case("C-1", d(TODAY))
        .map(|c| c.summary.controller.name);
    assert_eq!(
        c1.as_deref(),
        Some("ACME Maroc"),
        "cases show the controller's current name"
    );
}

#[test]
fn statistics() {
    let log = register();
    let st = serde_json::to_value(log.view.stats(d(TODAY))).unwrap_or_default();
    assert_eq!(
        st,
        json!({
            "as_of": "2023-06-01",
            "entries": 12,
            "cases": 4,
            "controllers": 3,
            "by_status": {
                "open": 1, "under_investigation": 0, "awaiting_compliance": 1, "complied": 0, "sanctioned": 1, "closed": 1,
                "suspended": 0, "under_appeal": 0, "reopened": 0, "inadmissible": 0, "forwarded": 0
            },
            "by_category": {
                "privacy": 0, "image": 0, "identity_theft": 0, "right_to_erasure": 0, "geolocation": 0,
                "profiling": 1, "video_surveillance": 3, "cross_border_transfer": 0, "unsolicited_marketing": 0, "other": 0
            },
            "by_year": {"2022": 1, "2023": 3},
            "sanctions_by_kind": {"warning": 1, "formal_notice": 0, "fine": 1, "suspension": 0, "referral_to_prosecutor": 0},
            "fines_total_mad": 20000,
            "overdue": 1,
            "deadlines": {"kept": 0, "missed": 1, "pending": 0},
        })
    );
    assert_eq!(log.view.stats(d("2023-04-01")).overdue, 0);
}

#[test]
fn register_and_officers() {
    let mut log = register();
    let info = log
        .view
        .register()
        .map(|r| (r.origin.as_str(), r.title.as_str(), r.opened_at));
    assert_eq!(info, Some((ORIGIN, "Registre des plaintes", JUNE_1)));
    let clerk = log.clerk.clone();
    let new = key(5);
    log.push(None, authorize(&new, "Nadia", Role::Clerk))
        .unwrap_or_else(|r| panic!("{r}"));
    log.push(None, revoke(&clerk))
        .unwrap_or_else(|r| panic!("{r}"));
    let officers: Vec<(&str, u64, Option<u64>)> = log
        .view
        .officers()
        .iter()
        .map(|o| (o.name.as_str(), o.authorized_at, o.revoked_at()))
        .collect();
    assert_eq!(
        officers,
        [
            ("Amina Admin", 0, None),
            ("Karim Clerk", 0, Some(13)),
            ("Nadia", 12, None)
        ]
    );
    let json = serde_json::to_value(log.view.officer(&pk(&clerk))).unwrap_or_default();
    assert_eq!(
        json["revocation"],
        json!({"seq": 13, "reason": "left the authority"})
    );
    assert_eq!(json["role"], json!("clerk"));
}

#[test]
fn deadline_statistics_count_each_case_against_its_last_due_date() {
    let mut log = Log::new();
    // Kept: complied on the day, after an extension moved the deadline.
    log.open("K", "acme", "2023-01-10");
    log.ok("K", deadline("2023-02-01"));
    log.ok("K", extend("2023-03-01"));
    log.ok("K", confirmed("2023-03-01"));
    // Missed: complied after the due date.
    log.open("L", "acme", "2023-01-10");
    log.ok("L", deadline("2023-02-01"));
    log.ok("L", confirmed("2023-02-02"));
    // Missed: sanctioned after the due date, never complied.
    log.open("S", "acme", "2023-01-10");
    log.ok("S", deadline("2023-02-01"));
    log.ok("S", sanction("2023-02-10", Sanction::Warning));
    // Missed as of TODAY, pending the day before its due date.
    log.open("W", "acme", "2023-01-10");
    log.ok("W", deadline("2023-05-01"));
    // Neither: sanctioned before the due date.
    log.open("B", "acme", "2023-01-10");
    log.ok("B", deadline("2023-05-01"));
    log.ok("B", sanction("2023-02-10", Sanction::Warning));
    // No deadline at all.
    log.open("N", "acme", "2023-01-10");
    let counts = |day: &str| {
        let d = log.view.stats(d(day)).deadlines;
        (d.kept, d.missed, d.pending)
    };
    assert_eq!(counts(TODAY), (1, 3, 0));
    assert_eq!(counts("2023-04-30"), (1, 2, 1));
}
