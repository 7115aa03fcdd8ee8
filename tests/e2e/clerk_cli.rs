//! Issue 13, the clerk's workflow through the built `sijil`: case numbers allocated by the
//! register (`"case":"auto"`), corrections targeting a case's event by case and case seq,
//! `sijil officers` and `officers rotate`, and the CLI's sentences, timeline and pages.

use serde_json::Value;

use crate::util::{complaint, fails, keygen, ok, s, Register};

/// A complaint to be numbered by the register, received on `on`.
fn auto(case: &str, on: &str) -> String {
    format!(
        r#"{{"case":"{case}","type":"ComplaintReceived","controller":{{"id":"acme","name":"ACME SARL"}},"categories":["privacy"],"received_on":"{on}","summary":"Plainte {case}."}}"#
    )
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&ok(args)).expect("json")
}

#[test]
fn issue13_auto_case_numbers_and_case_targets() {
    let reg = Register::new();
    // An explicit number first: "auto" goes past the highest of the year.
    reg.append(&reg.events("first.jsonl", &[complaint("2024-0007")]));
    let batch = [
        auto("auto:a", "2024-03-01"),
        String::new(),
        r#"{"case":"auto:a","type":"HearingHeld","held_on":"2024-04-01","place":"Salle B, Rabat"}"#
            .into(),
        auto("auto", "2023-12-30"),
        auto("auto", "2024-03-02"),
        r#"{"case":"auto:a","type":"Correction","target":{"case":"auto:a","seq":1},"erratum":"La salle était A."}"#
            .into(),
    ];
    let events = reg.events("auto.jsonl", &batch);
    let key = s(&reg.officer_key).to_string();
    // A dry run says which numbers it would take, and takes none.
    let dry = ok(&["append", reg.dir(), "--key", &key, "--dry-run", s(&events)]);
    assert!(
        dry.contains("auto.jsonl:1: \"auto:a\" would open case 2024-0008"),
        "{dry}"
    );
    let out = reg.append(&events);
    // init wrote 0 and 1, the first batch 2 and 3: this one is 4 to 8.
    assert!(
        out.starts_with("Appended 5 events as entries 4 to 8; the log now has 10 entries.\n"),
        "{out}"
    );
    for want in [
        "auto.jsonl:1: \"auto:a\" opened case 2024-0008 (entry 4)",
        "auto.jsonl:4: \"auto\" opened case 2023-0001 (entry 6)",
        "auto.jsonl:5: \"auto\" opened case 2024-0009 (entry 7)",
    ] {
        assert!(out.contains(want), "{want:?} in {out}");
    }
    let c = json(&["show", reg.dir(), "--case", "2024-0008", "--json"]);
    assert_eq!(
        c["case"]["timeline"][1]["corrected_by"],
        serde_json::json!([8])
    );

    // A later batch targets the hearing by case and case seq; --json lists allocations.
    let more = reg.events(
        "more.jsonl",
        &[
            r#"{"case":"2024-0008","type":"Amendment","target":{"case":"2024-0008","seq":1},"amend":{"field":"date","value":"2024-04-02"}}"#.into(),
            auto("auto:b", "2024-05-01"),
        ],
    );
    let v = json(&["append", reg.dir(), "--key", &key, "--json", s(&more)]);
    assert_eq!(v["allocated"][0]["case"], "2024-0010");
    assert_eq!(v["allocated"][0]["label"], "b");
    let c = json(&["show", reg.dir(), "--case", "2024-0008", "--json"]);
    assert_eq!(c["case"]["hearings"][0]["held_on"], "2024-04-02");
    assert_eq!(
        c["case"]["timeline"][1]["amended_by"],
        serde_json::json!([10])
    );

    // Refusals name the file's line (from 1, blank lines counted) and write nothing.
    let before = reg.published();
    let bad = reg.events(
        "bad.jsonl",
        &[
            String::new(),
            r#"{"case":"2024-0008","type":"Erasure","target":{"case":"2024-0008","seq":9},"reason":"Loi 09-08"}"#.into(),
        ],
    );
    fails(
        &["append", reg.dir(), "--key", &key, s(&bad)],
        1,
        "bad.jsonl:2: event 1 of the batch (Erasure): the target case 2024-0008 has no event #9",
    );
    let bad = reg.events(
        "bad2.jsonl",
        &[r#"{"case":"auto","type":"HearingHeld","held_on":"2024-04-01","place":"Rabat"}"#.into()],
    );
    fails(
        &["append", reg.dir(), "--key", &key, s(&bad)],
        1,
        "bad2.jsonl:1: event 1 of the batch (HearingHeld): \"case\":\"auto\" allocates a new case number, so it must open the case",
    );
    let bad = reg.events(
        "bad3.jsonl",
        &[
            complaint("2024-0099"),
            r#"{"case":"2024-0099","type":"HearingHeld","held_on":"2020-01-01","place":"Rabat"}"#
                .into(),
        ],
    );
    fails(
        &["append", reg.dir(), "--key", &key, s(&bad)],
        1,
        "bad3.jsonl:2: event 2 of the batch (HearingHeld) is rejected",
    );
    assert!(reg.published() == before, "nothing written");
    reg.verify();
}

#[test]
fn issue13_officers_list_and_rotate() {
    let reg = Register::new();
    let key = s(&reg.officer_key).to_string();
    let karim = reg.tmp.path().join("karim.key");
    let public = keygen("karim", &karim);
    let auth = reg.events(
        "karim.jsonl",
        &[format!(
            r#"{{"type":"OfficerAuthorized","officer":{{"key":"{public}","name":"karim","role":"clerk"}}}}"#
        )],
    );
    let out = reg.append(&auth);
    assert!(
        out.starts_with("Appended 1 event as entry 2; the log now has 4 entries.\n"),
        "{out}"
    );
    let karim2 = reg.tmp.path().join("karim-2.key");
    ok(&["keygen", "karim", "--out", s(&karim2)]);
    let before = reg.published();
    fails(
        &[
            "officers",
            "rotate",
            reg.dir(),
            "--key",
            &key,
            "--officer",
            "nadia",
            "--new-key",
            s(&karim2),
        ],
        1,
        "\"nadia\" is not a current officer of this register (current officers: amina, karim)",
    );
    fails(
        &[
            "officers",
            "rotate",
            reg.dir(),
            "--key",
            &key,
            "--officer",
            "amina",
            "--new-key",
            s(&karim2),
        ],
        1,
        "cannot sign its own revocation",
    );
    assert!(reg.published() == before, "nothing written");
    let out = ok(&[
        "officers",
        "rotate",
        reg.dir(),
        "--key",
        &key,
        "--officer",
        "karim",
        "--new-key",
        s(&karim2),
        "--reason",
        "annual rotation",
    ]);
    assert!(out.starts_with("Rotated karim's key:"), "{out}");
    assert!(out.contains("(2 events as entries 4 to 5)"), "{out}");
    // The old key is refused now, the new one signs.
    let hearing = reg.events("h.jsonl", &[complaint("2024-0001")]);
    fails(
        &["append", reg.dir(), "--key", s(&karim), s(&hearing)],
        1,
        "rejected",
    );
    ok(&["append", reg.dir(), "--key", s(&karim2), s(&hearing)]);

    let list = json(&["officers", reg.dir(), "--json"]);
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 3);
    assert_eq!(list[1]["name"], "karim");
    assert_eq!(list[1]["key"], public.as_str());
    assert_eq!(list[1]["authorized"]["seq"], 2);
    assert_eq!(list[1]["authorized"]["by"], "amina");
    assert_eq!(list[1]["revoked"]["seq"], 5);
    assert_eq!(list[1]["revoked"]["reason"], "annual rotation");
    assert_eq!(list[2]["active"], true);
    assert_eq!(list[2]["role"], "clerk");
    let text = ok(&["officers", reg.dir()]);
    assert!(
        text.starts_with("3 officer keys ever authorized, 2 active:"),
        "{text}"
    );
    assert!(text.contains("karim (clerk), revoked"), "{text}");
    assert!(text.contains("by amina: annual rotation"), "{text}");
    for help in [
        &["officers", "--help"][..],
        &["officers", "rotate", "--help"],
    ] {
        let h = ok(help);
        assert!(h.contains("Example: sijil officers"), "{h}");
    }
    reg.verify();
}

#[test]
fn issue13_show_timeline_table_and_pages() {
    let reg = Register::new();
    let lines: Vec<String> = (1..=5)
        .map(|i| complaint(&format!("2024-000{i}")))
        .collect();
    reg.append(&reg.events("cases.jsonl", &lines));
    reg.append(&reg.events(
        "h.jsonl",
        &[r#"{"case":"2024-0001","type":"HearingHeld","held_on":"2024-02-01","place":"Salle B, Rabat","summary":"Le responsable a été entendu."}"#.into()],
    ));
    let out = ok(&["show", reg.dir(), "--case", "2024-0001"]);
    for want in [
        "#0   2024-01-02  ComplaintReceived  (entry 2,",
        "signed by amina)",
        "controller: ACME SARL (acme)",
        "summary: texte 2024-0001",
        "#1   2024-02-01  HearingHeld  (entry 8,",
        "place: Salle B, Rabat",
        "summary: Le responsable a été entendu.",
    ] {
        assert!(out.contains(want), "{want:?} in\n{out}");
    }
    let table = ok(&["show", reg.dir(), "8"]);
    assert!(
        table.starts_with("entry       8\nevent       HearingHeld\n"),
        "{table}"
    );
    assert!(
        table.contains("case        2024-0001 (its event #1)"),
        "{table}"
    );
    assert!(table.contains("signed by   amina"), "{table}");
    let page = ok(&["show", reg.dir(), "--offset", "1", "--limit", "2"]);
    assert!(
        page.contains("Cases 2 to 3 of 5, latest opened first:"),
        "{page}"
    );
    assert!(page.contains("next page: sijil show"), "{page}");
    assert_eq!(page.matches("2024-000").count(), 2, "{page}");
    let all = ok(&["show", reg.dir()]);
    assert!(all.contains("All 5 cases, latest opened first:"), "{all}");
    let past = ok(&["show", reg.dir(), "--offset", "9"]);
    assert!(
        past.contains("No cases at offset 9: the register has 5 cases."),
        "{past}"
    );
    fails(
        &["show", reg.dir(), "--limit", "0"],
        2,
        "--limit 0: give 1 to 1000",
    );
    let v = json(&["show", reg.dir(), "--offset", "4", "--limit", "1", "--json"]);
    assert_eq!(v["cases"]["total"], 5);
    assert_eq!(v["cases"]["items"].as_array().map(Vec::len), Some(1));
}

#[test]
fn issue13_submit_allocates_and_resolves_targets_at_the_sequencer() {
    let reg = Register::new();
    reg.append(&reg.events("first.jsonl", &[complaint("2024-0003")]));
    let seq = crate::fixture_server::Daemon::sequencer(reg.dir(), &[]);
    let key = reg.tmp.path().join("amina-desk.key");
    std::fs::copy(&reg.officer_key, &key).expect("copy key");
    let events = reg.events(
        "desk.jsonl",
        &[
            auto("auto:x", "2024-06-01"),
            r#"{"case":"2024-0003","type":"Correction","target":{"case":"2024-0003","seq":0},"erratum":"Reçue le 3."}"#.into(),
        ],
    );
    let url = seq.url.clone();
    ok(&["submit", &url, s(&events), "--key", s(&key), "--json"]);
    drop(seq);
    let c = json(&["show", reg.dir(), "--case", "2024-0004", "--json"]);
    assert_eq!(c["case"]["opened_seq"], 4, "the next number of 2024");
    let c = json(&["show", reg.dir(), "--case", "2024-0003", "--json"]);
    assert_eq!(
        c["case"]["timeline"][0]["corrected_by"],
        serde_json::json!([5])
    );
    reg.verify();
}

#[test]
fn issue13_init_says_where_the_keys_are_and_rotate_dry_run_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("plaintes");
    let out = crate::util::sijil(&[
        "init",
        s(&dir),
        "--origin",
        "registre.example.ma/p",
        "--officer",
        "amina",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("private/amina.key (admin \"amina\", mode 0600)"),
        "{err}"
    );
    assert!(err.contains("move it to \"amina\"'s own machine"), "{err}");
    assert!(err.contains("e.g. plaintes.vkey"), "{err}");
    let vkey = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(vkey.starts_with("registre.example.ma/p+"), "{vkey}");

    let reg = Register::new();
    let key = s(&reg.officer_key).to_string();
    let nadia = keygen("nadia", &reg.tmp.path().join("nadia.key"));
    reg.append(&reg.events(
        "nadia.jsonl",
        &[format!(
            r#"{{"type":"OfficerAuthorized","officer":{{"key":"{nadia}","name":"nadia","role":"clerk"}}}}"#
        )],
    ));
    let next = keygen("nadia", &reg.tmp.path().join("nadia-2.key"));
    let before = reg.published();
    // The new key given as its 64 hex digits: the officer keeps the private key.
    let out = ok(&[
        "officers",
        "rotate",
        reg.dir(),
        "--key",
        &key,
        "--officer",
        "nadia",
        "--new-key",
        &next,
        "--dry-run",
    ]);
    assert!(
        out.starts_with("Dry run: would rotate nadia's key"),
        "{out}"
    );
    assert!(out.contains("Nothing was written."), "{out}");
    assert!(reg.published() == before);
    let v = json(&["officers", reg.dir(), "--json"]);
    assert_eq!(v.as_array().map(Vec::len), Some(2), "still amina and nadia");
}

/// `sijil submit` says which case numbers the register allocated for `"case":"auto"`, as
/// `sijil append` does: a line per number in the dry run ("would open") and after the commit
/// ("opened", with the entry), and `allocated` in `--json`.
#[test]
fn issue13_submit_prints_the_case_numbers_it_allocated() {
    let reg = Register::new();
    reg.append(&reg.events("first.jsonl", &[complaint("2024-0003")]));
    let seq = crate::fixture_server::Daemon::sequencer(reg.dir(), &[]);
    let key = reg.tmp.path().join("amina-desk.key");
    std::fs::copy(&reg.officer_key, &key).expect("copy key");
    let events = reg.events(
        "desk.jsonl",
        &[
            auto("auto:x", "2024-06-01"),
            r#"{"case":"auto:x","type":"HearingHeld","held_on":"2024-06-20","place":"Salle B, Rabat"}"#.into(),
            auto("auto", "2023-11-30"),
        ],
    );
    let name = s(&events);
    let dry = ok(&["submit", &seq.url, name, "--key", s(&key), "--dry-run"]);
    assert!(
        dry.contains(&format!("{name}:1: \"auto:x\" would open case 2024-0004")),
        "{dry}"
    );
    assert!(
        dry.contains(&format!("{name}:3: \"auto\" would open case 2023-0001")),
        "{dry}"
    );
    let out = ok(&[
        "submit",
        &seq.url,
        name,
        "--key",
        s(&key),
        "--log",
        &reg.vkey,
    ]);
    assert!(
        out.contains(&format!(
            "{name}:1: \"auto:x\" opened case 2024-0004 (entry 4)"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{name}:3: \"auto\" opened case 2023-0001 (entry 6)"
        )),
        "{out}"
    );
    assert!(
        !out.contains(&format!("{name}:2:")),
        "a later auto:x opens nothing: {out}"
    );
    // The next batch, as JSON: the numbers go on from the ones just allocated.
    let more = reg.events("more.jsonl", &[auto("auto", "2024-07-01")]);
    let v: Value = serde_json::from_str(&ok(&[
        "submit",
        &seq.url,
        s(&more),
        "--key",
        s(&key),
        "--json",
    ]))
    .expect("json");
    assert_eq!(
        v["allocated"],
        serde_json::json!([{"line": 1, "label": null, "case": "2024-0005", "seq": 8}]),
        "{v}"
    );
    drop(seq);
    let c = json(&["show", reg.dir(), "--case", "2024-0004", "--json"]);
    assert_eq!(c["case"]["opened_seq"], 4);
    reg.verify();
}

/// `sijil officers URL --key VKEY` prints what `sijil officers DIR` prints, rebuilt from the
/// register's own entries as served (`GET /api/v1/officers`) and verified: a served answer
/// that leaves out an entry is refused (exit 1), and what the server claims in its own
/// `officers` member is not what is printed.
#[test]
fn issue13_officers_of_a_register_url_are_verified_and_listed_as_for_a_directory() {
    let reg = Register::new();
    let key = s(&reg.officer_key).to_string();
    let public = |name: &str| keygen(name, &reg.tmp.path().join(format!("{name}.key")));
    let nadia = public("nadia");
    reg.append(&reg.events(
        "nadia.jsonl",
        &[
            format!(
                r#"{{"type":"OfficerAuthorized","officer":{{"key":"{nadia}","name":"nadia","role":"clerk"}}}}"#
            ),
            complaint("2024-0001"),
        ],
    ));
    let next = public("nadia-2");
    ok(&[
        "officers",
        "rotate",
        reg.dir(),
        "--key",
        &key,
        "--officer",
        "nadia",
        "--new-key",
        &next,
        "--reason",
        "laptop replaced",
    ]);
    let server =
        crate::fixture_server::Daemon::start(&["serve", reg.dir(), "--listen", "127.0.0.1:0"]);
    let state = reg.tmp.path().join("state");
    let remote = |extra: &[&str]| {
        let mut args = vec![
            "officers",
            server.url.as_str(),
            "--key",
            reg.vkey.as_str(),
            "--state-dir",
            s(&state),
        ];
        args.extend_from_slice(extra);
        crate::util::sijil(&args)
    };
    for json in [false, true] {
        let extra: &[&str] = if json { &["--json"] } else { &[] };
        let mut dir_args = vec!["officers", reg.dir()];
        dir_args.extend_from_slice(extra);
        let local = ok(&dir_args);
        let out = remote(extra);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), local, "json {json}");
        assert!(
            stderr.contains("sijil: verified: the checkpoint of size")
                && stderr.contains("the register's 4 own entries (its opening, the authorizations and revocations)"),
            "{stderr}"
        );
    }
    let listed = json(&["officers", reg.dir(), "--json"]);
    assert_eq!(
        listed[1]["revoked"]["reason"], "laptop replaced",
        "{listed}"
    );
    assert_eq!(listed[1]["revoked"]["by"], "amina", "{listed}");
    fails(
        &["officers", &server.url],
        2,
        "--key VKEY is needed to verify",
    );

    // A copy of the publication with a doctored answer, served as static files.
    let (status, _, body) =
        crate::fixture_server::request(server.addr(), "GET", "/api/v1/officers", b"");
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_slice(&body).expect("json");
    let copy = reg.tmp.path().join("copy");
    crate::util::copy_dir(&reg.dir, &copy);
    std::fs::create_dir_all(copy.join("api/v1")).expect("mkdir");
    let fixture = crate::fixture_server::FixtureServer::start(&copy);
    let serve_answer = |a: &Value| {
        std::fs::write(copy.join("api/v1/officers"), a.to_string()).expect("write answer");
    };
    let doctored = |extra: &[&str]| {
        let mut args = vec![
            "officers".to_string(),
            fixture.url(),
            "--key".into(),
            reg.vkey.clone(),
            "--state-dir".into(),
            s(&state).into(),
        ];
        args.extend(extra.iter().map(|x| x.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::util::sijil(&args)
    };
    // The server's own list says nadia's old key was never revoked: it is not what is printed.
    let mut claims = answer.clone();
    claims["officers"][1]["revocation"] = Value::Null;
    serve_answer(&claims);
    let out = doctored(&["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(printed, listed);
    // The revocation left out of the entries: the index proves there was one more.
    let mut dropped = answer.clone();
    let entries = dropped["entries"].as_array_mut().expect("entries");
    assert_eq!(entries.len(), 4);
    entries.pop();
    serve_answer(&dropped);
    let out = doctored(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("FAILED verification"), "{stderr}");
    assert!(stderr.contains("is missing"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing unverified is printed");
}
