//! Issue 3: the demo register's view, checked against what its events say
//! (data/demo/events.jsonl).

use std::path::PathBuf;

use crate::util::ok;

fn demo() -> (String, String) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/demo");
    let dir = root.join("register").to_string_lossy().into_owned();
    let vkey = std::fs::read_to_string(root.join("log.vkey")).expect("demo vkey");
    (dir, vkey.trim().to_string())
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).expect("json output")
}

#[test]
fn issue3_demo_register_verifies_and_its_view_matches_its_events() {
    let (dir, vkey) = demo();
    let v = json(&["audit", &dir, "--key", &vkey, "--json"]);
    assert_eq!(v["tree_size"], 36);
    assert_eq!(v["blobs_erased"], 1, "the erased complaint text");

    let stats = json(&["stats", &dir, "--json", "--as-of", "2026-11-23"]);
    assert_eq!(stats["cases"], 7);
    assert_eq!(
        stats["overdue"], 2,
        "2023-0001 (28 Feb 2023) and 2024-0002 (31 Jan 2025)"
    );
    assert_eq!(stats["fines_total_mad"], 20000);

    // The visa-processing contractor: heard on 6 January 2023, given until 28 February 2023,
    // authorities notified.
    let c = json(&[
        "show",
        &dir,
        "--case",
        "2023-0001",
        "--json",
        "--as-of",
        "2023-02-01",
    ]);
    assert_eq!(c["case"]["status"], "awaiting_compliance");
    assert_eq!(c["case"]["deadline"], "2023-02-28");
    assert_eq!(
        c["case"]["overdue"], false,
        "not overdue before the deadline"
    );
    assert_eq!(c["case"]["hearings"][0]["held_on"], "2023-01-06");
    assert_eq!(c["case"]["opened_by"], "inspection");
    assert_eq!(
        c["case"]["categories"],
        serde_json::json!(["cross_border_transfer"])
    );
    assert!(c["case"]["authorities_notified"]
        .as_array()
        .is_some_and(|a| a.len() == 1));
    let late = json(&[
        "show",
        &dir,
        "--case",
        "2023-0001",
        "--json",
        "--as-of",
        "2023-03-01",
    ]);
    assert_eq!(late["case"]["overdue"], true);

    let closed = json(&["show", &dir, "--case", "2023-0002", "--json"]);
    assert_eq!(closed["case"]["status"], "closed");
    assert_eq!(closed["case"]["outcome"], "complied");

    let fined = json(&["show", &dir, "--case", "2024-0001", "--json"]);
    assert_eq!(fined["case"]["status"], "sanctioned");
    assert_eq!(fined["case"]["sanctions"][0]["kind"], "fine");
    assert_eq!(fined["case"]["sanctions"][0]["amount_mad"], 20000);

    // The complaint of 2024-0002 (entry 15: init wrote seqs 0 and 1, the events start at 2)
    // was corrected by 16 and its text erased by 17.
    let erased = json(&["show", &dir, "--case", "2024-0002", "--json"]);
    let first = &erased["case"]["timeline"][0];
    assert_eq!(first["seq"], 15);
    assert_eq!(first["corrected_by"], serde_json::json!([16]));
    assert_eq!(first["erasure"]["seq"], 17);
    assert_eq!(
        erased["entries"][0]["texts"][0]["text"],
        serde_json::Value::Null,
        "erased text is gone"
    );
    assert!(erased["entries"][1]["texts"][0]["text"]
        .as_str()
        .is_some_and(|t| t.contains("1er octobre")));

    // Issue 13's events, appended after the first cases (entries 20 to 34): a complaint with
    // three categories, a hearing whose date was amended, a suspension, a decision, an appeal
    // and its ruling, a closing and a reopening; a complaint found inadmissible; one forwarded.
    let life = json(&["show", &dir, "--case", "2024-0003", "--json"]);
    assert_eq!(
        life["case"]["categories"],
        serde_json::json!(["privacy", "image", "identity_theft"])
    );
    assert_eq!(life["case"]["status"], "reopened");
    assert_eq!(life["case"]["hearings"][0]["held_on"], "2024-02-13");
    assert_eq!(
        life["case"]["timeline"][1]["amended_by"],
        serde_json::json!([22])
    );
    assert_eq!(life["case"]["appeals"][0]["ruling"]["ruling"], "upheld");
    let types: Vec<&str> = life["case"]["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    for t in [
        "Amendment",
        "ProceedingsSuspended",
        "ProceedingsResumed",
        "DecisionPublished",
        "AppealLodged",
        "CourtRuling",
        "CaseReopened",
    ] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
    let inadmissible = json(&["show", &dir, "--case", "2024-0004", "--json"]);
    assert_eq!(inadmissible["case"]["status"], "inadmissible");
    let forwarded = json(&["show", &dir, "--case", "2024-0005", "--json"]);
    assert_eq!(forwarded["case"]["status"], "forwarded");
}
