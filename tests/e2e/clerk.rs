//! Issue 13, the clerk: a full case life with the new events appended through the built
//! `sijil`, the rules on a case's own dates refused with the entry they conflict with, and
//! the case's JSON and page (several categories, the new statuses, an amendment with its
//! history).

use serde_json::{json, Value};

use crate::net::{chromium, dump_dom, get, Server};
use crate::util::{fails, ok, s, Register};

fn case(reg: &Register, id: &str) -> Value {
    serde_json::from_str(&ok(&["show", reg.dir(), "--case", id, "--json"])).expect("json")
}

#[test]
fn issue13_a_full_case_life_with_the_new_events() {
    let reg = Register::new();
    // init wrote entries 0 and 1; the complaint is entry 2, its hearing entry 3.
    let life = [
        r#"{"case":"2024-0007","type":"ComplaintReceived","controller":{"id":"reseau-x","name":"Réseau X"},"categories":["image","privacy","identity_theft"],"received_on":"2024-01-08","summary":"Faux profil."}"#,
        r#"{"case":"2024-0007","type":"HearingHeld","held_on":"2024-02-12","place":"Rabat"}"#,
        r#"{"case":"2024-0007","type":"Amendment","target":3,"amend":{"field":"date","value":"2024-02-13"},"reason":"Erreur de saisie."}"#,
        r#"{"case":"2024-0007","type":"ProceedingsSuspended","suspended_on":"2024-02-20","reason":"Attente."}"#,
        r#"{"case":"2024-0007","type":"ProceedingsResumed","resumed_on":"2024-03-14"}"#,
        r#"{"case":"2024-0007","type":"SanctionNotified","notified_on":"2024-04-01","sanction":{"kind":"formal_notice"},"legal_basis":"Loi 09-08, art. 51"}"#,
        r#"{"case":"2024-0007","type":"DecisionPublished","published_on":"2024-04-02","decision_number":"D-2024-014"}"#,
        r#"{"case":"2024-0007","type":"AppealLodged","lodged_on":"2024-04-22","court":"Tribunal administratif de Rabat","by":"controller"}"#,
        r#"{"case":"2024-0007","type":"CourtRuling","ruled_on":"2024-06-28","court":"Tribunal administratif de Rabat","ruling":"upheld"}"#,
        r#"{"case":"2024-0007","type":"CaseClosed","closed_on":"2024-07-01","outcome":"sanctioned"}"#,
        r#"{"case":"2024-0007","type":"CaseReopened","reopened_on":"2024-09-02"}"#,
        r#"{"case":"2024-0008","type":"ComplaintReceived","controller":{"id":"appli-y","name":"Appli Y"},"categories":["geolocation"],"received_on":"2024-02-05"}"#,
        r#"{"case":"2024-0008","type":"ComplaintInadmissible","decided_on":"2024-02-19"}"#,
        r#"{"case":"2024-0009","type":"ComplaintReceived","controller":{"id":"telecom-z","name":"Télécom Z"},"categories":["unsolicited_marketing"],"received_on":"2024-03-04"}"#,
        r#"{"case":"2024-0009","type":"ComplaintForwarded","forwarded_on":"2024-03-06","to":"ANRT"}"#,
    ]
    .map(String::from);
    let events = reg.events("life.jsonl", &life);
    reg.append(&events);
    reg.verify();

    let c = case(&reg, "2024-0007");
    assert_eq!(c["case"]["status"], "reopened");
    assert_eq!(
        c["case"]["categories"],
        json!(["privacy", "image", "identity_theft"]),
        "stored in catalogue order"
    );
    assert_eq!(
        c["case"]["hearings"][0]["held_on"], "2024-02-13",
        "as amended"
    );
    assert_eq!(c["case"]["timeline"][1]["amended_by"], json!([4]));
    assert_eq!(c["case"]["closing"], Value::Null, "reopened");
    assert_eq!(c["case"]["decisions"][0]["decision_number"], "D-2024-014");
    assert_eq!(c["case"]["appeals"][0]["ruling"]["ruling"], "upheld");
    assert_eq!(case(&reg, "2024-0008")["case"]["status"], "inadmissible");
    assert_eq!(case(&reg, "2024-0009")["case"]["status"], "forwarded");

    // Refused, nothing written, the refusal naming the conflicting entry and its date.
    let before = reg.published();
    let refuse_with = |code: i32, name: &str, line: &str, needle: &str| {
        let f = reg.events(name, &[line.to_string()]);
        fails(
            &["append", reg.dir(), "--key", s(&reg.officer_key), s(&f)],
            code,
            needle,
        );
    };
    // A rule of the register: exit 1; a malformed events file: exit 2.
    let refuse = |name: &str, line: &str, needle: &str| refuse_with(1, name, line, needle);
    // Before the case's latest date: the reopening, entry 12, of 2024-09-02.
    refuse(
        "back.jsonl",
        r#"{"case":"2024-0007","type":"HearingHeld","held_on":"2024-08-01","place":"Rabat"}"#,
        "is before 2024-09-02, the date of entry 12 of case 2024-0007",
    );
    refuse(
        "deadline.jsonl",
        r#"{"case":"2024-0007","type":"ComplianceDeadlineSet","due_on":"2024-09-01","obligations":"x"}"#,
        "must fall after 2024-09-02, the date of entry 12",
    );
    refuse(
        "resume.jsonl",
        r#"{"case":"2024-0007","type":"ProceedingsResumed","resumed_on":"2024-09-03"}"#,
        "ProceedingsResumed follows only ProceedingsSuspended",
    );
    refuse(
        "closed.jsonl",
        r#"{"case":"2024-0008","type":"HearingHeld","held_on":"2024-03-01","place":"Rabat"}"#,
        "case 2024-0008 is closed since 2024-02-19 (entry 14)",
    );
    refuse_with(
        2,
        "category.jsonl",
        r#"{"case":"2024-0010","type":"ComplaintReceived","controller":{"id":"a","name":"A"},"category":"image","received_on":"2024-03-04"}"#,
        "a case now has \"categories\"",
    );
    assert_eq!(reg.published(), before, "nothing was written");

    // The case page: categories, the new statuses and events, the amendment with its history.
    let server = Server::start(&reg.dir);
    let page = get(server.addr, "/affaires/2024-0007?lang=en").text();
    for needle in [
        "Privacy, Image rights, Identity theft",
        "Reopened",
        "Proceedings suspended",
        "Decision published",
        "D-2024-014",
        "Appeal lodged",
        "Decision upheld",
        "Case reopened",
        "Amended (date): 2024-02-12 → 2024-02-13, by",
    ] {
        assert!(page.contains(needle), "the case page lacks {needle:?}");
    }
    let page = get(server.addr, "/affaires/2024-0009").text();
    assert!(page.contains("Transmise à une autre autorité"), "status");
    assert!(page.contains("ANRT"));
    let api = get(server.addr, "/api/v1/cases/2024-0008").json();
    assert_eq!(api["case"]["status"], "inadmissible");

    // The browser's Verify redraws the page from the signed entries (the new events, the
    // amended hearing date and its note, the categories) and finds what the server drew.
    if let Some(browser) = chromium("issue13_a_full_case_life_with_the_new_events") {
        for (page, entries) in [
            ("/affaires/2024-0007?verify=1", 11),
            ("/affaires/2024-0007?verify=1&lang=en", 11),
            ("/affaires/2024-0007?verify=1&lang=ar", 11),
            ("/affaires/2024-0008?verify=1", 2),
            ("/affaires/2024-0009?verify=1", 2),
        ] {
            let profile = tempfile::tempdir().expect("profile dir");
            let dom = dump_dom(
                &browser,
                profile.path(),
                &format!("http://{}{page}", server.addr),
                &[],
            );
            let start = dom.find(r#"id="verify-result""#).expect("a result area");
            let rest = &dom[start..];
            let text = &rest[..rest.find("</div>").unwrap_or(rest.len())];
            assert!(
                text.contains(r#"data-state="ok""#),
                "{page}: the browser verifies the case:\n{text}"
            );
            assert_eq!(
                dom.matches(r#"class="check ok""#).count(),
                entries,
                "{page}: each entry is marked ✓"
            );
        }
    }
    server.stop();
}
