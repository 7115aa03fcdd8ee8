//! Issue 10 through the built binary: `sijil verify URL|DIR --case ID` proves a case whole
//! and current, and `sijil audit` names an `IndexCommitted` whose root is wrong.

use crate::fixture_server::Daemon;
use crate::util::{complaint, copy_dir, fails, hearing, ok, s, sijil, Register};

/// `sijil verify TARGET --key VKEY --case ID --state-dir STATE` and `extra` flags.
fn verify_case<'a>(
    target: &'a str,
    vkey: &'a str,
    id: &'a str,
    state: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "verify",
        target,
        "--key",
        vkey,
        "--case",
        id,
        "--state-dir",
        state,
    ];
    args.extend_from_slice(extra);
    args
}

fn state_dir(r: &Register, name: &str) -> String {
    s(&r.tmp.path().join(name)).to_string()
}

#[test]
fn issue10_verify_case_proves_a_case_whole_from_a_directory_and_a_server() {
    let r = Register::new();
    let e = r.events(
        "a.jsonl",
        &[complaint("C-1"), hearing("C-1"), complaint("C-2")],
    );
    r.append(&e);
    let e = r.events("b.jsonl", &[hearing("C-1")]);
    r.append(&e);
    let st = state_dir(&r, "state");
    let out = ok(&verify_case(r.dir(), &r.vkey, "C-1", &st, &[]));
    assert!(
        out.contains("case C-1: 3 entries, complete and current as of the checkpoint of size 8"),
        "{out}"
    );
    // The JSON lists the case's entries, in log order.
    let v: serde_json::Value = serde_json::from_str(&ok(&verify_case(
        r.dir(),
        &r.vkey,
        "C-1",
        &st,
        &["--json", "--quick"],
    )))
    .expect("json");
    let seqs: Vec<u64> = v["case"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, vec![2, 3, 6]);
    fails(
        &verify_case(r.dir(), &r.vkey, "C-9", &st, &[]),
        1,
        "there is no case \"C-9\" in this register: proven absent as of its checkpoint of size 8",
    );

    // The same through a server.
    let server = Daemon::start(&["serve", r.dir(), "--listen", "127.0.0.1:0"]);
    let url = server.url.trim_end_matches('/').to_string();
    let st2 = state_dir(&r, "state2");
    let out = ok(&verify_case(&url, &r.vkey, "C-1", &st2, &[]));
    assert!(out.contains("case C-1: 3 entries"), "{out}");
    assert!(out.contains("signed by amina"), "{out}");
    fails(
        &verify_case(&url, &r.vkey, "C-9", &st2, &[]),
        1,
        "proven absent",
    );
}

#[test]
fn issue10_verify_case_refuses_a_server_behind_the_checkpoint_already_seen() {
    let r = Register::new();
    let e = r.events("a.jsonl", &[complaint("C-1")]);
    r.append(&e);
    // A copy of the register as it is now: what a stale server would serve.
    let old = r.tmp.path().join("old");
    copy_dir(&r.dir, &old);
    let e = r.events("b.jsonl", &[hearing("C-1")]);
    r.append(&e);
    let st = state_dir(&r, "state");
    ok(&verify_case(r.dir(), &r.vkey, "C-1", &st, &["--quick"]));
    let stale = Daemon::start(&["serve", s(&old), "--listen", "127.0.0.1:0"]);
    let url = stale.url.trim_end_matches('/').to_string();
    fails(
        &verify_case(&url, &r.vkey, "C-1", &st, &[]),
        1,
        "older than the size 6 already verified",
    );
}

#[test]
fn issue10_audit_of_a_wrong_index_root_exits_1_naming_the_entry() {
    let r = Register::new();
    let e = r.events("a.jsonl", &[complaint("C-1")]);
    r.append(&e);
    // A dishonest (or broken) writer commits an IndexCommitted with a wrong root: signed by
    // the log key, chained, in the tree, so only a replay of the index catches it.
    let log_key = sijil_register::read_private_key(&r.dir.join("private/log.key")).expect("key");
    let mut w = sijil_core::writer::Writer::open(&r.dir, log_key.clone()).expect("opens");
    let seq = w.size();
    let keys = 4;
    let (entry, bytes) = sijil_core::Entry::sign(
        sijil_core::UnsignedEntry {
            seq,
            prev: w.last_leaf_hash(),
            recorded_at: w.last_recorded_at(),
            case: None,
            event: sijil_core::Event::IndexCommitted(sijil_core::event::IndexCommitted {
                size: seq,
                keys,
                root: sijil_core::Hash([7; 32]),
            }),
        },
        log_key.signing_key(),
        w.origin(),
    )
    .expect("signs");
    w.commit(&[(entry, bytes)], &[]).expect("commits");
    drop(w);
    let err = fails(
        &["audit", r.dir(), "--key", &r.vkey],
        1,
        &format!("entry {seq}"),
    );
    assert!(err.contains("IndexCommitted says root"), "{err}");
    // `show` reads the register through the same view, and refuses it too.
    let out = sijil(&["show", r.dir()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
