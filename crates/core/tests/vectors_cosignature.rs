//! c2sp.org/tlog-cosignature against the public vectors in `../shared/vectors/cosignature`
//! (Sunlight's skylight test data) and the cosigned `sunlight-mirror-300` checkpoint.

mod common;

use std::path::Path;

use serde_json::Value;
use sijil_core::checkpoint::Checkpoint;
use sijil_core::cosignature::{verify_cosignature, CosignatureError, Cosigner, WitnessPolicy};
use sijil_core::note::{Note, NoteError, Verifier};
use sijil_core::sha256;

const TIMESTAMP: u64 = 1_767_139_200;

fn cosignatures(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("cosignature/cosignatures.json"))
        .expect("cosignatures.json is readable");
    serde_json::from_str(&text).expect("cosignatures.json is JSON")
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

/// Every vector: the key derives from its seed, its line verifies with the right timestamp,
/// re-cosigning gives the same line, and a 1-of-1 policy accepts the note.
#[test]
fn sunlight_skylight_cosignatures() {
    let Some(dir) = common::vectors_dir("cosignature vectors") else {
        return;
    };
    let v = cosignatures(&dir);
    let vectors = v["vectors"].as_array().expect("vectors");
    assert_eq!(vectors.len(), 3);
    for x in vectors {
        let name = s(x, "id");
        let cosigner = Cosigner::from_seed(name, &seed(s(x, "seed_hex"))).expect("valid name");
        assert_eq!(cosigner.verifier().to_string(), s(x, "vkey"), "{name}");
        let vkey = Verifier::parse(s(x, "vkey")).expect("vkey parses");
        assert_eq!(vkey.to_string(), s(x, "vkey"));
        assert_eq!(
            Cosigner::from_private_key(&cosigner.private_key_string())
                .expect("round trip")
                .key_id(),
            vkey.key_id()
        );
        assert_eq!(x["timestamp"].as_u64(), Some(TIMESTAMP));

        let bytes =
            std::fs::read(dir.join("cosignature").join(s(x, "file"))).expect("checkpoint file");
        let note = Note::parse(&bytes).expect("note parses");
        assert_eq!(note.to_bytes(), bytes);
        let cp = Checkpoint::parse(&note.text).expect("checkpoint body parses");
        assert_eq!(cp.size, 300);
        let line = note
            .signatures
            .iter()
            .find(|l| l.name == name)
            .expect("the cosigner's line");
        assert_eq!(
            verify_cosignature(line, &note.text, &vkey),
            Ok(TIMESTAMP),
            "{name}"
        );
        assert_eq!(
            &cosigner.cosign(&note.text, TIMESTAMP).expect("cosigns"),
            line,
            "deterministic"
        );

        let report = WitnessPolicy::new(vec![vkey.clone()], 1)
            .expect("valid")
            .check(&note)
            .expect("quorum met");
        assert_eq!(report.counted, 1);
        assert_eq!(report.cosignatures[0].timestamp, TIMESTAMP);
        // A cosigner key also opens the note through the generic note rules.
        let (_, verified) = Note::open(&bytes, &[vkey]).expect("opens");
        assert_eq!(verified[0].timestamp, Some(TIMESTAMP));
    }
}

/// Sunlight's checkpoint carries an RFC 6962 TreeHeadSignature line (type 0x05) by the log
/// before the witness line: it is ignored, not an error.
#[test]
fn rome_checkpoint_ignores_the_0x05_line() {
    let Some(dir) = common::vectors_dir("cosignature vectors") else {
        return;
    };
    let bytes =
        std::fs::read(dir.join("cosignature/sunlight-skylight/witness-checkpoint-rome2026h1.txt"))
            .expect("file");
    let note = Note::parse(&bytes).expect("parses");
    assert_eq!(note.signatures.len(), 2);
    assert_eq!(note.signatures[0].name, "rome2026h1.example.org");
    let cp = Checkpoint::parse(&note.text).expect("body");
    assert_eq!(cp.origin, "rome2026h1.example.org");
    assert_eq!(cp.root, sha256(b"skylight test tree root"));
    let v = cosignatures(&dir);
    let vkey = Verifier::parse(s(&v["vectors"][0], "vkey")).expect("vkey");
    let report = WitnessPolicy::new(vec![vkey], 1)
        .expect("valid")
        .check(&note)
        .expect("quorum met");
    assert_eq!(report.cosignatures[0].index, 1);
}

#[test]
fn mirror_300_checkpoint() {
    let Some(dir) = common::vectors_dir("sunlight-mirror-300 checkpoint") else {
        return;
    };
    let v = cosignatures(&dir);
    let x = v["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .find(|x| x["id"] == "mirror.example.org")
        .expect("mirror");
    let vkey = Verifier::parse(s(x, "vkey")).expect("vkey");
    let bytes = std::fs::read(dir.join("tlog-tiles/sunlight-mirror-300/checkpoint")).expect("file");
    let (note, _) =
        Note::open(&bytes, std::slice::from_ref(&vkey)).expect("the mirror's cosignature verifies");
    let cp = Checkpoint::parse(&note.text).expect("body");
    assert_eq!(
        (cp.origin.as_str(), cp.size),
        ("rome2026h1.example.org", 300)
    );
    assert_eq!(
        cp.root.to_base64(),
        "gw31yQrqZZCcEOPrzX+bpy3nJ6QgngTKn8G1m0i62uU="
    );
    assert_eq!(
        sha256(cp.origin.as_bytes()).to_hex(),
        "000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706",
        "origin hash of the mirror path"
    );
}

/// Tampering with the cosigned body or the line makes the trusted line fail.
#[test]
fn tampered_cosigned_checkpoint_fails() {
    let Some(dir) = common::vectors_dir("cosignature vectors") else {
        return;
    };
    let v = cosignatures(&dir);
    let x = &v["vectors"][1];
    let vkey = Verifier::parse(s(x, "vkey")).expect("vkey");
    let bytes = std::fs::read(dir.join("cosignature").join(s(x, "file"))).expect("file");
    let text = String::from_utf8(bytes).expect("utf-8");
    let tampered = text.replacen("\n300\n", "\n301\n", 1);
    let note = Note::parse(tampered.as_bytes()).expect("still well-formed");
    let policy = WitnessPolicy::new(vec![vkey.clone()], 1).expect("valid");
    assert!(matches!(
        policy.check(&note),
        Err(CosignatureError::Invalid { line: 5, .. })
    ));
    assert!(matches!(
        Note::open(tampered.as_bytes(), &[vkey]),
        Err(NoteError::InvalidSignature { line: 5, .. })
    ));
}
