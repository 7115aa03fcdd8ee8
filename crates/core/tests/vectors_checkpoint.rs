//! c2sp.org/tlog-checkpoint against the public vectors in `../shared/vectors/checkpoint` and
//! the Tessera test log in `../shared/vectors/tlog-tiles/tessera-testdata-log`.

mod common;

use std::path::Path;

use serde_json::Value;
use sijil_core::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use sijil_core::note::{NoteError, Signer, Verifier};
use sijil_core::{empty_root, leaf_hash};

fn checkpoints(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("checkpoint/checkpoints.json"))
        .expect("checkpoints.json is readable");
    serde_json::from_str(&text).expect("checkpoints.json is JSON")
}

fn vector<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .find(|x| x["id"] == id)
        .expect("vector present")
}

fn s<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("field {field} is a string"))
}

fn seed(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

#[test]
fn c2sp_issue_99_sigsum() {
    let Some(dir) = common::vectors_dir("checkpoint vectors") else {
        return;
    };
    let v = checkpoints(&dir);
    let x = vector(&v, "c2sp-issue-99-sigsum");
    let signer = Signer::from_seed(s(x, "origin"), &seed(s(x, "seed_hex")))
        .expect("valid origin as key name");
    assert_eq!(signer.verifier().to_string(), s(x, "vkey_derived"));
    assert_eq!(signer.public_key(), seed(s(x, "pubkey_hex")));
    let vkey = Verifier::parse(s(x, "vkey_derived")).expect("vkey parses");

    let opened = SignedCheckpoint::open(s(x, "checkpoint").as_bytes(), &vkey).expect("opens");
    assert_eq!(opened.checkpoint.origin, s(x, "origin"));
    assert_eq!(opened.checkpoint.size, 10);
    assert_eq!(
        opened.checkpoint.root.to_base64(),
        "HA5HAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    );
    assert!(opened.checkpoint.extensions.is_empty());
    let resigned = SignedCheckpoint::sign(opened.checkpoint.clone(), &signer).expect("signs");
    assert_eq!(
        resigned.bytes,
        s(x, "checkpoint").as_bytes(),
        "deterministic signature"
    );

    let wrong = vector(&v, "c2sp-issue-99-sigsum-wrong-keyid");
    assert_eq!(
        SignedCheckpoint::open(s(wrong, "checkpoint").as_bytes(), &vkey),
        Err(CheckpointError::Note(NoteError::Unverified {
            signatures: 1
        }))
    );
}

#[test]
fn tessera_testdata_log() {
    let Some(dir) = common::vectors_dir("tessera checkpoints") else {
        return;
    };
    let v = checkpoints(&dir);
    let x = vector(&v, "tessera-testdata-log");
    let signer = Signer::from_private_key(s(x, "skey")).expect("Tessera's skey parses");
    assert_eq!(signer.private_key_string(), s(x, "skey"));
    assert_eq!(signer.verifier().to_string(), s(x, "vkey"));
    let vkey = Verifier::parse(s(x, "vkey")).expect("vkey parses");

    let log = dir.join("tlog-tiles/tessera-testdata-log");
    for size in 0..=15u64 {
        let bytes = std::fs::read(log.join(format!("checkpoint.{size}"))).expect("checkpoint file");
        let opened = SignedCheckpoint::open(&bytes, &vkey)
            .unwrap_or_else(|e| panic!("checkpoint.{size}: {e}"));
        assert_eq!(opened.checkpoint.origin, "example.com/log/testdata");
        assert_eq!(opened.checkpoint.size, size);
        if size == 0 {
            assert_eq!(opened.checkpoint.root, empty_root());
        }
        let resigned = SignedCheckpoint::sign(opened.checkpoint, &signer).expect("signs");
        assert_eq!(
            resigned.bytes, bytes,
            "checkpoint.{size}: re-signing gives Tessera's bytes"
        );
    }
    let latest = std::fs::read(log.join("checkpoint")).expect("checkpoint file");
    assert_eq!(
        SignedCheckpoint::open(&latest, &vkey)
            .expect("opens")
            .checkpoint
            .size,
        15
    );
}

#[test]
fn go_sumdb_tree_note_body() {
    let Some(dir) = common::vectors_dir("checkpoint vectors") else {
        return;
    };
    let v = checkpoints(&dir);
    let x = vector(&v, "go-sumdb-tree-note-body");
    let cp = Checkpoint::parse(s(x, "text")).expect("parses");
    assert_eq!(cp.origin, "go.sum database tree");
    assert_eq!(cp.size, 123456789012);
    assert_eq!(cp.root, leaf_hash(b"hello world"));
    assert_eq!(cp.to_text(), s(x, "text"));
    for bad in x["bad"].as_array().expect("bad cases") {
        let bad = bad.as_str().expect("string");
        assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
    }
    let bad: Vec<&str> = x["bad"]
        .as_array()
        .expect("bad")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(matches!(
        Checkpoint::parse(bad[1]),
        Err(CheckpointError::InvalidSize { .. })
    ));
    assert!(matches!(
        Checkpoint::parse(bad[2]),
        Err(CheckpointError::InvalidRoot { .. })
    ));
}
