//! Issue 5: verify, audit and mirror over HTTP; a mirror that grows incrementally and can be
//! served in turn; servers that fail.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use sijil_core::tile::{new_tiles, Tile, TileLevel};

use crate::fixture_server::{Daemon, Fault, FixtureServer};
use crate::util::{complaint, fails, hearing, ok, s, sijil, Register};

/// A register of `3 + 2·cases` entries: init's 2 (RegisterOpened, IndexCommitted), `cases`
/// complaints (each with a text blob), then a hearing for each, then the batch's
/// IndexCommitted (docs/FORMAT.md §10.4).
fn register(cases: usize) -> Register {
    let reg = Register::new();
    let mut lines: Vec<String> = (0..cases)
        .map(|i| complaint(&format!("2024-{i:04}")))
        .collect();
    lines.extend((0..cases).map(|i| hearing(&format!("2024-{i:04}"))));
    reg.append(&reg.events("first.jsonl", &lines));
    reg
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn blob_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir.join("blobs"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.len() == 64)
                .collect()
        })
        .unwrap_or_default()
}

fn tile_requests(server: &FixtureServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|p| p.starts_with("tile/"))
        .collect()
}

#[test]
fn issue5_mirror_grows_incrementally_then_serves_and_is_audited_through() {
    let reg = register(300);
    let server = FixtureServer::start(&reg.dir);
    let mdir = reg.tmp.path().join("mirror");
    let m = s(&mdir);
    let first = json(&ok(&[
        "mirror",
        &server.url(),
        m,
        "--key",
        &reg.vkey,
        "--json",
    ]));
    assert_eq!(
        (first["outcome"].as_str(), first["tree_size"].as_u64()),
        (Some("created"), Some(603))
    );
    assert_eq!(blob_names(&mdir), blob_names(&reg.dir));
    let audited = json(&ok(&["audit", m, "--key", &reg.vkey, "--json"]));
    assert_eq!(audited["root"], first["root"]);

    // The origin grows: an erasure of entry 2's text (the first complaint), new cases and
    // hearings: 250 events and the batch's IndexCommitted, 251 entries.
    let mut lines = vec![
        r#"{"case":"2024-0000","type":"Erasure","target":2,"reason":"donnée identifiante"}"#
            .to_string(),
    ];
    lines.extend((300..425).map(|i| complaint(&format!("2024-{i:04}"))));
    lines.extend((300..424).map(|i| hearing(&format!("2024-{i:04}"))));
    reg.append(&reg.events("more.jsonl", &lines));
    server.clear_log();
    let second = json(&ok(&[
        "mirror",
        &server.url(),
        m,
        "--key",
        &reg.vkey,
        "--json",
    ]));
    assert_eq!(
        (
            second["outcome"].as_str(),
            second["from"].as_u64(),
            second["tree_size"].as_u64()
        ),
        (Some("grew"), Some(603), Some(854))
    );
    assert_eq!(second["entries_verified"], 251);
    assert_eq!(second["erased"], 1, "{second}");

    // Only what it did not have: the tiles that changed from 603 to 854, the two bundles
    // from entry 603 on, each once; the checkpoint once; the new texts.
    let mut expected: Vec<String> = new_tiles(603, 854).iter().map(Tile::path).collect();
    expected.extend(
        (603 / 256..=853 / 256)
            .filter_map(|i| Tile::for_size(TileLevel::Entries, i, 854))
            .map(|t| t.path()),
    );
    expected.sort();
    let mut fetched = tile_requests(&server);
    fetched.sort();
    assert_eq!(fetched, expected, "tiles fetched by the incremental mirror");
    assert_eq!(fetched.len(), 5, "3 hash tiles and 2 bundles");
    let requests = server.requests();
    assert_eq!(requests.iter().filter(|p| *p == "checkpoint").count(), 1);
    assert_eq!(
        requests.iter().filter(|p| p.starts_with("blobs/")).count(),
        125,
        "one per new text"
    );

    // The erased text is gone from the mirror too; everything else is there.
    assert_eq!(blob_names(&mdir), blob_names(&reg.dir));
    assert_eq!(blob_names(&mdir).len(), 424);

    // Again: nothing to do, one request.
    server.clear_log();
    let third = json(&ok(&[
        "mirror",
        &server.url(),
        m,
        "--key",
        &reg.vkey,
        "--json",
    ]));
    assert_eq!(third["outcome"], "up-to-date");
    assert_eq!(server.requests(), ["checkpoint"]);
    // Each run keeps the copy's writer state at its checkpoint: `sijil serve` reads it instead
    // of holding the whole view (issue 11).
    let from_state = sijil_register::StateBackedReader::open(&mdir, None)
        .expect("the mirror opens")
        .expect("from its state");
    assert_eq!(from_state.checkpoint().checkpoint.size, 854);

    // The mirror is a register directory: it audits, and `sijil serve` serves it; audited and
    // verified through that server, it is the origin's register.
    let audited = json(&ok(&["audit", m, "--key", &reg.vkey, "--json"]));
    assert_eq!(
        (audited["tree_size"].as_u64(), &audited["root"]),
        (Some(854), &second["root"])
    );
    assert_eq!(audited["blobs_erased"], 1);
    let served = Daemon::start(&["serve", m, "--listen", "127.0.0.1:0"]);
    let through = json(&ok(&["audit", &served.url, "--key", &reg.vkey, "--json"]));
    assert_eq!(through["root"], second["root"]);
    assert_eq!(through["stats"]["cases"], 425);
    let state = reg.tmp.path().join("state");
    let v = json(&ok(&[
        "verify",
        &served.url,
        "--key",
        &reg.vkey,
        "--state-dir",
        s(&state),
        "--json",
    ]));
    assert_eq!(
        (v["history"].as_str(), v["tree_size"].as_u64()),
        (Some("first-visit"), Some(854))
    );
    // And a mirror of the mirror, through the static fixture server too.
    let relay = FixtureServer::start(&mdir);
    let m2 = reg.tmp.path().join("mirror2");
    ok(&["mirror", &relay.url(), s(&m2), "--key", &reg.vkey]);
    ok(&["mirror", &served.url, s(&m2), "--key", &reg.vkey]);
    assert_eq!(blob_names(&m2), blob_names(&reg.dir));
}

#[test]
fn issue5_verify_remembers_the_last_checkpoint_and_spot_checks_entries() {
    let reg = register(150);
    let server = FixtureServer::start(&reg.dir);
    let state = reg.tmp.path().join("state");
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "verify".to_string(),
            server.url(),
            "--key".into(),
            reg.vkey.clone(),
            "--state-dir".into(),
            s(&state).into(),
        ];
        a.extend(extra.iter().map(|e| e.to_string()));
        a
    };
    let run = |extra: &[&'static str]| {
        let a = args(extra);
        ok(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = run(&[]);
    assert!(out.contains("first visit"), "{out}");
    assert!(out.contains("tree size 303"), "{out}");
    let v = json(&run(&["--json", "--spot-checks", "6"]));
    assert_eq!(v["history"], "unchanged");
    let spot = v["spot_checked"].as_array().map(Vec::len).unwrap_or(0);
    assert!((2..=6).contains(&spot), "{v}");
    reg.append(&reg.events("more.jsonl", &[complaint("2025-0001")]));
    let v = json(&run(&["--json"]));
    assert_eq!(
        (
            v["history"].as_str(),
            v["previous_size"].as_u64(),
            v["tree_size"].as_u64()
        ),
        (Some("consistent"), Some(303), Some(305))
    );
    // A directory works the same way; a served tile that does not match fails (exit 1).
    ok(&[
        "verify",
        reg.dir(),
        "--key",
        &reg.vkey,
        "--state-dir",
        s(&state),
    ]);
    // The newest hash tile at 305 entries (305 - 256 = 49 hashes).
    server.fault("tile/0/001.p/49", Fault::Corrupt, usize::MAX);
    let a = args(&[]);
    fails(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        1,
        "FAILED verification",
    );
    // A key of another log: exit 1, nothing remembered for it.
    let other = Register::new();
    fails(
        &[
            "verify",
            &server.url(),
            "--key",
            &other.vkey,
            "--state-dir",
            s(&state),
        ],
        1,
        "checkpoint",
    );
}

#[test]
fn issue5_faulty_servers_make_the_tools_retry_or_fail_cleanly() {
    let reg = register(300);
    let server = FixtureServer::start(&reg.dir);
    let url = server.url();
    let mdir = reg.tmp.path().join("mirror");
    let m = s(&mdir);
    let net = ["--retries", "3", "--timeout", "1"];
    let mirror = |extra: &[&str]| {
        let mut a = vec!["mirror", url.as_str(), m, "--key", reg.vkey.as_str()];
        a.extend_from_slice(&net);
        a.extend_from_slice(extra);
        sijil(&a)
    };

    // Transient faults are retried: a dropped connection, a body cut short, a gzip stream with
    // a flipped byte, 503s, a stall longer than the timeout.
    server.fault("tile/entries/000", Fault::Drop, 1);
    server.fault("tile/entries/001", Fault::Truncate, 2);
    server.fault("tile/entries/002", Fault::Corrupt, 1);
    server.fault("blobs/", Fault::Status(503), 2);
    server.fault("tile/0/000", Fault::Stall(Duration::from_secs(3)), 1);
    let out = mirror(&["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(report["tree_size"], 603);
    assert!(
        report["http_retries"].as_u64().unwrap_or(0) >= 7,
        "every fault was retried: {report}"
    );
    let good = json(&ok(&["audit", m, "--key", &reg.vkey, "--json"]))["root"].clone();
    server.clear_faults();

    // The origin grows, then serves bad data: nothing is accepted, the mirror stays at its
    // checkpoint, still verifiable. 2 events and the batch's IndexCommitted: 606 entries, so
    // the newest tiles hold 606 - 512 = 94.
    reg.append(&reg.events(
        "more.jsonl",
        &[complaint("2025-0001"), hearing("2025-0001")],
    ));
    let checkpoint = std::fs::read(mdir.join("checkpoint")).expect("checkpoint");
    let bad_runs: Vec<(&str, Fault, i32, &str)> = vec![
        // A hash tile that does not match the signed root.
        ("tile/0/002.p/94", Fault::Corrupt, 1, "FAILED verification"),
        // An entry bundle cut short every time: retries run out.
        ("tile/entries/002.p/94", Fault::Truncate, 2, "attempts"),
        // A text that is not what its digest says.
        ("blobs/", Fault::Corrupt, 1, "FAILED verification"),
        // A server that stalls on every request.
        (
            "checkpoint",
            Fault::Stall(Duration::from_secs(5)),
            2,
            "attempts",
        ),
        // A 500 every time.
        ("tile/entries/", Fault::Status(500), 2, "HTTP 500"),
    ];
    for (needle, fault, code, message) in bad_runs {
        server.fault(needle, fault, usize::MAX);
        let out = mirror(&[]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "{needle} {fault:?}: {err}");
        assert!(err.contains(message), "{needle} {fault:?}: {err}");
        assert_eq!(
            std::fs::read(mdir.join("checkpoint")).expect("checkpoint"),
            checkpoint,
            "{needle}"
        );
        assert_eq!(
            json(&ok(&["audit", m, "--key", &reg.vkey, "--json"]))["root"],
            good,
            "{needle}"
        );
        server.clear_faults();
    }
    // Once the server behaves, the mirror catches up.
    let out = mirror(&["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        json(&String::from_utf8_lossy(&out.stdout))["tree_size"],
        606
    );
    ok(&["audit", m, "--key", &reg.vkey]);
}

#[test]
fn issue5_an_interrupted_mirror_resumes_and_runs_do_not_collide() {
    let reg = register(700);
    let server = FixtureServer::start(&reg.dir);
    let mdir = reg.tmp.path().join("mirror");
    let m = s(&mdir);
    // A slow origin (a stall on each text); a second run finds the lock taken; the first is
    // killed before it commits.
    server.fault(
        "blobs/",
        Fault::Stall(Duration::from_millis(200)),
        usize::MAX,
    );
    let mut child = std::process::Command::new(crate::util::sijil_bin())
        .args([
            "mirror",
            &server.url(),
            m,
            "--key",
            &reg.vkey,
            "--concurrency",
            "4",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    std::thread::sleep(Duration::from_millis(1000));
    fails(
        &["mirror", &server.url(), m, "--key", &reg.vkey],
        2,
        "another run holds",
    );
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(
        !mdir.join("checkpoint").exists(),
        "killed before its commit"
    );
    server.clear_faults();

    // A run that fails half-way (the origin breaks down on the fifth bundle) keeps the files
    // it checked; the next run verifies them again and fetches only the rest.
    server.fault("tile/entries/004", Fault::Status(500), usize::MAX);
    fails(
        &[
            "mirror",
            &server.url(),
            m,
            "--key",
            &reg.vkey,
            "--bundles-per-step",
            "1",
            "--retries",
            "0",
        ],
        2,
        "HTTP 500",
    );
    assert!(!mdir.join("checkpoint").exists());
    assert!(
        mdir.join("tile/entries/003").exists(),
        "the checked steps were kept"
    );
    server.clear_faults();
    server.clear_log();
    let out = json(&ok(&[
        "mirror",
        &server.url(),
        m,
        "--key",
        &reg.vkey,
        "--json",
    ]));
    assert_eq!(out["tree_size"], 1403);
    assert!(
        out["reused"].as_u64().unwrap_or(0) >= 8,
        "files of the failed run were reused: {out}"
    );
    let refetched = tile_requests(&server);
    assert!(refetched.len() <= 6, "fetched again: {refetched:?}");
    assert!(
        !refetched.iter().any(|p| p == "tile/entries/000"),
        "{refetched:?}"
    );
    ok(&["audit", m, "--key", &reg.vkey]);
}

#[test]
fn issue5_files_left_by_a_failed_run_are_verified_not_trusted() {
    // The mirror holds A at 603. A grows (A1); a run fails half-way, leaving A1's files. Then
    // the origin serves B instead: another continuation of the same 603 entries, signed with
    // the same key (consistent with the mirror's checkpoint, not with A1's files). The next run
    // must not accept A1's files as B's: it verifies them, and fetches everything again.
    let reg = register(300);
    let server = FixtureServer::start(&reg.dir);
    let mdir = reg.tmp.path().join("mirror");
    let m = s(&mdir);
    ok(&["mirror", &server.url(), m, "--key", &reg.vkey]);
    let b_dir = reg.tmp.path().join("b");
    crate::util::copy_dir(&reg.dir, &b_dir);
    let more = |name: &str, prefix: &str, n: usize| {
        let mut lines: Vec<String> = (0..n)
            .map(|i| complaint(&format!("{prefix}-{i:04}")))
            .collect();
        lines.extend((0..n).map(|i| hearing(&format!("{prefix}-{i:04}"))));
        reg.events(name, &lines)
    };
    reg.append(&more("a1.jsonl", "2025", 300));
    ok(&[
        "append",
        s(&b_dir),
        "--key",
        s(&b_dir.join("private/amina.key")),
        s(&more("b.jsonl", "2026", 350)),
    ]);
    server.fault("tile/entries/004", Fault::Status(500), usize::MAX);
    fails(
        &[
            "mirror",
            &server.url(),
            m,
            "--key",
            &reg.vkey,
            "--bundles-per-step",
            "1",
            "--retries",
            "0",
        ],
        2,
        "HTTP 500",
    );
    assert!(
        mdir.join("tile/entries/002").exists(),
        "A1's files were left"
    );
    server.clear_faults();
    server.set_root(&b_dir);
    let out = json(&ok(&[
        "mirror",
        &server.url(),
        m,
        "--key",
        &reg.vkey,
        "--json",
    ]));
    assert_eq!(
        (out["from"].as_u64(), out["tree_size"].as_u64()),
        (Some(603), Some(1304))
    );
    let mirrored = json(&ok(&["audit", m, "--key", &reg.vkey, "--json"]));
    let origin = json(&ok(&["audit", s(&b_dir), "--key", &reg.vkey, "--json"]));
    assert_eq!(mirrored["root"], origin["root"]);
    assert_eq!(mirrored["stats"]["cases"], 650);
}

#[test]
fn issue9_a_mirror_proves_a_fork_by_a_smaller_checkpoint_from_its_own_tiles() {
    // B: 12 entries. B9: B's own copy at 9 entries (a stale copy). A: 9 entries of another
    // history (its own genesis and events) under B's log key. (Each is init's 2 entries, then
    // batches of events each ending with its IndexCommitted.)
    let b = Register::new();
    let events = |name: &str, prefix: &str, n: usize| {
        let mut lines: Vec<String> = (0..n)
            .map(|i| complaint(&format!("{prefix}-{i:04}")))
            .collect();
        lines.extend((0..n).map(|i| hearing(&format!("{prefix}-{i:04}"))));
        b.events(name, &lines)
    };
    b.append(&events("b1.jsonl", "2024", 3));
    let b9 = b.tmp.path().join("b9");
    crate::util::copy_dir(&b.dir, &b9);
    std::fs::remove_dir_all(b9.join("private")).expect("rm private");
    b.append(&events("b2.jsonl", "2025", 1));
    let a_dir = b.tmp.path().join("a");
    let a_vkey = ok(&[
        "init",
        s(&a_dir),
        "--origin",
        "registre.example.ma/test",
        "--officer",
        "amina",
        "--log-key",
        s(&b.dir.join("private/log.key")),
    ]);
    assert_eq!(a_vkey.trim(), b.vkey, "the same log key");
    ok(&[
        "append",
        s(&a_dir),
        "--key",
        s(&a_dir.join("private/amina.key")),
        s(&events("a.jsonl", "2026", 3)),
    ]);
    let size =
        |d: &Path| json(&ok(&["audit", s(d), "--key", &b.vkey, "--json"]))["tree_size"].clone();
    assert_eq!(
        (size(&b.dir), size(&b9), size(&a_dir)),
        (12.into(), 9.into(), 9.into())
    );

    let server = FixtureServer::start(&b.dir);
    let mdir = b.tmp.path().join("mirror");
    let m = s(&mdir);
    ok(&["mirror", &server.url(), m, "--key", &b.vkey]);
    let held = std::fs::read(mdir.join("checkpoint")).expect("checkpoint");
    let evidence = mdir.join("private/evidence");

    // B's own older copy: its root at 9 is the one the mirror's tiles give. A stale copy or a
    // rollback (exit 1), not a fork; no evidence.
    server.set_root(&b9);
    fails(
        &["mirror", &server.url(), m, "--key", &b.vkey],
        1,
        "a stale copy or a rollback",
    );
    assert!(!evidence.exists(), "no evidence for a stale copy");

    // A: another tree of size 9 under the same key. The mirror's own tiles (verified against
    // its checkpoint of size 12) give another root at 9: a fork, proven (exit 3).
    server.set_root(&a_dir);
    fails(&["mirror", &server.url(), m, "--key", &b.vkey], 3, "FORK");
    assert_eq!(
        std::fs::read(mdir.join("checkpoint")).expect("checkpoint"),
        held,
        "the mirror did not move"
    );
    ok(&["audit", m, "--key", &b.vkey]);
    let files: Vec<_> = std::fs::read_dir(&evidence)
        .expect("evidence saved")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let v = json(&ok(&[
        "evidence",
        "check",
        s(&files[0]),
        "--key",
        &b.vkey,
        "--json",
    ]));
    assert_eq!(
        (v["fork"].as_bool(), v["kind"].as_str()),
        (Some(true), Some("inconsistent")),
        "{v}"
    );
    let stranger = Register::new();
    fails(
        &["evidence", "check", s(&files[0]), "--key", &stranger.vkey],
        1,
        "does not prove a fork",
    );
}

#[test]
fn issue9_a_damaged_mirror_exits_1_and_an_unreadable_one_exits_2() {
    let reg = register(300);
    let server = FixtureServer::start(&reg.dir);
    let mdir = reg.tmp.path().join("mirror");
    let m = s(&mdir);
    let url = server.url();
    let args = ["mirror", url.as_str(), m, "--key", reg.vkey.as_str()];
    ok(&args);
    reg.append(&reg.events("more.jsonl", &[complaint("2024-0999")]));
    // A flipped byte in a bundle of the mirror: it fails verification.
    let bundle = mdir.join("tile/entries/000");
    let good = std::fs::read(&bundle).expect("bundle");
    let mut bad = good.clone();
    bad[40] ^= 1;
    std::fs::write(&bundle, &bad).expect("write");
    // (A mirror this small has no view snapshot: its view is replayed from the bundles.)
    assert!(!mdir.join("private/view.snapshot").exists());
    crate::util::fails(&args, 1, "mirror");
    // The same file unreadable (a directory in its place): an I/O error, not corruption.
    std::fs::remove_file(&bundle).expect("rm");
    std::fs::create_dir(&bundle).expect("mkdir");
    let err = crate::util::fails(&args, 2, "mirror");
    assert!(!err.contains("verification"), "{err}");
    std::fs::remove_dir(&bundle).expect("rmdir");
    std::fs::write(&bundle, &good).expect("restore");
    ok(&args);
}
