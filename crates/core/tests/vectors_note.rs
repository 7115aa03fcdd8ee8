//! c2sp.org/signed-note against the public vectors in `../shared/vectors/signed-note`
//! (C2SP's example and Go's `sumdb/note` tests; see that folder's README.md).

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;
use sijil_core::note::{
    sign_note, KeyError, KeyType, Note, NoteError, Signer, VerifiedSignature, Verifier,
};

fn notes() -> Option<Value> {
    let dir = common::vectors_dir("signed-note vectors")?;
    let text = std::fs::read_to_string(dir.join("signed-note/notes.json"))
        .expect("notes.json is readable");
    Some(serde_json::from_str(&text).expect("notes.json is JSON"))
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

#[test]
fn c2sp_spec_example() {
    let Some(v) = notes() else { return };
    let x = vector(&v, "c2sp-spec-example");
    let vkey = Verifier::parse(s(x, "vkey")).expect("the spec's vkey parses");
    assert_eq!(vkey.to_string(), s(x, "vkey"));
    assert_eq!(vkey.key_id(), 0x530d903a);
    let (note, verified) =
        Note::open(s(x, "note").as_bytes(), &[vkey]).expect("the spec's note verifies");
    assert_eq!(note.text, "This is an example message.\n");
    assert_eq!(
        verified,
        vec![VerifiedSignature {
            index: 0,
            verifier: 0,
            timestamp: None
        }]
    );
    assert_eq!(note.to_bytes(), s(x, "note").as_bytes());
}

#[test]
fn go_peter_neumann() {
    let Some(v) = notes() else { return };
    let x = vector(&v, "go-note-peter");
    let signer = Signer::from_private_key(s(x, "skey")).expect("Go's skey parses");
    assert_eq!(
        signer.private_key_string(),
        s(x, "skey"),
        "private key string round-trips exactly"
    );
    assert_eq!(signer.verifier().to_string(), s(x, "vkey"));
    assert_eq!(hex(&signer.signing_key().to_bytes()), s(x, "seed_hex"));
    assert_eq!(hex(&signer.public_key()), s(x, "pubkey_hex"));
    let vkey = Verifier::parse(s(x, "vkey")).expect("Go's vkey parses");
    assert_eq!(vkey.to_string(), s(x, "vkey"));
    assert_eq!(vkey, signer.verifier());

    // Ed25519 is deterministic: re-signing gives Go's bytes.
    let signed = sign_note(s(x, "text"), &[&signer]).expect("signs");
    assert_eq!(
        String::from_utf8(signed).expect("utf-8"),
        s(x, "signed_note")
    );

    let (note, verified) = Note::open(s(x, "signed_note").as_bytes(), &[vkey]).expect("opens");
    assert_eq!(note.text, s(x, "text"));
    assert_eq!(verified.len(), 1);
    assert_eq!(
        (note.signatures[0].name.as_str(), note.signatures[0].key_id),
        ("PeterNeumann", 0xc74f20a3)
    );
}

#[test]
fn go_enoch_root_zero_seed() {
    let Some(v) = notes() else { return };
    let x = vector(&v, "go-note-enoch-zero-seed");
    let peter = vector(&v, "go-note-peter");
    let enoch = Signer::from_private_key(s(x, "skey")).expect("skey parses");
    assert_eq!(enoch.signing_key().to_bytes(), [0; 32]);
    assert_eq!(enoch.private_key_string(), s(x, "skey"));
    assert_eq!(enoch.verifier().to_string(), s(x, "vkey"));
    let peter_signer = Signer::from_private_key(s(peter, "skey")).expect("skey parses");
    let (pv, ev) = (peter_signer.verifier(), enoch.verifier());

    let msg = s(x, "signed_note").as_bytes();
    let (_, both) = Note::open(msg, &[pv.clone(), ev.clone()]).expect("both verify");
    assert_eq!(
        both,
        vec![
            VerifiedSignature {
                index: 0,
                verifier: 0,
                timestamp: None
            },
            VerifiedSignature {
                index: 1,
                verifier: 1,
                timestamp: None
            }
        ]
    );
    // Order of the known keys does not matter.
    let (_, reversed) = Note::open(msg, &[ev, pv.clone()]).expect("both verify");
    assert_eq!(
        reversed.iter().map(|v| v.verifier).collect::<Vec<_>>(),
        vec![1, 0]
    );
    // With only Peter's key, Enoch's line is kept but ignored.
    let (note, only_peter) = Note::open(msg, &[pv]).expect("Peter verifies");
    assert_eq!(
        only_peter,
        vec![VerifiedSignature {
            index: 0,
            verifier: 0,
            timestamp: None
        }]
    );
    assert_eq!(note.signatures[1].name, "EnochRoot");

    let resigned = sign_note(s(peter, "text"), &[&peter_signer, &enoch]).expect("signs");
    assert_eq!(resigned, msg);
}

#[test]
fn negative_notes() {
    let Some(v) = notes() else { return };
    let peter = Verifier::parse(s(vector(&v, "go-note-peter"), "vkey")).expect("vkey");
    let negatives = v["negative"].as_array().expect("negative");
    let by_desc = |prefix: &str| {
        negatives
            .iter()
            .find(|n| s(n, "desc").starts_with(prefix))
            .unwrap_or_else(|| panic!("case {prefix}"))
    };
    let open = |note: &str| Note::open(note.as_bytes(), std::slice::from_ref(&peter));

    assert_eq!(
        open(s(by_desc("no blank line"), "note")),
        Err(NoteError::NoSignatures)
    );
    assert_eq!(
        open(s(
            by_desc("signature line without trailing newline"),
            "note"
        )),
        Err(NoteError::MissingFinalNewline)
    );
    assert_eq!(
        open(s(by_desc("leading control character"), "note")),
        Err(NoteError::ControlCharacter { line: 1, byte: 1 })
    );
    let space = s(by_desc("key name contains a space"), "note");
    assert_eq!(open(space), Err(NoteError::MissingFinalNewline));
    assert!(matches!(
        open(&format!("{space}\n")),
        Err(NoteError::MalformedSignature { line: 4, .. })
    ));
    assert!(matches!(
        open(s(by_desc("trailing non-signature line"), "note")),
        Err(NoteError::MalformedSignature { line: 5, .. })
    ));
    // Every negative case with a note is malformed.
    for n in negatives.iter().filter(|n| n.get("note").is_some()) {
        assert!(
            Note::parse(s(n, "note").as_bytes()).is_err(),
            "{}",
            s(n, "desc")
        );
    }
}

#[test]
fn signature_count_bound() {
    let Some(v) = notes() else { return };
    let x = vector(&v, "go-note-peter");
    let peter = Verifier::parse(s(x, "vkey")).expect("vkey");
    let text = s(x, "text");
    let line = &s(x, "signed_note")[text.len() + 1..];
    // Go rejects 101 lines; the spec only asks for at least 16. sijil accepts up to 128.
    let note = |n: usize| format!("{text}\n{}", line.repeat(n));
    let (_, verified) =
        Note::open(note(101).as_bytes(), std::slice::from_ref(&peter)).expect("101 lines accepted");
    assert_eq!(verified.len(), 101);
    assert!(Note::open(note(128).as_bytes(), std::slice::from_ref(&peter)).is_ok());
    assert_eq!(
        Note::parse(note(129).as_bytes()),
        Err(NoteError::TooManySignatures {
            count: 129,
            max: 128
        })
    );
}

#[test]
fn modified_signature_and_key_id() {
    let Some(v) = notes() else { return };
    let x = vector(&v, "go-note-peter");
    let peter = Verifier::parse(s(x, "vkey")).expect("vkey");
    let text = s(x, "text");
    let line = &s(x, "signed_note")[text.len() + 1..];
    // Go's TestOpen: insert "ABCD" at byte 60 of the signature line.
    let modified = format!("{text}\n{}ABCD{}", &line[..60], &line[60..]);
    assert!(matches!(
        Note::open(modified.as_bytes(), std::slice::from_ref(&peter)),
        Err(NoteError::InvalidSignature {
            line: 4,
            key_id: 0xc74f20a3,
            ..
        })
    ));
    // Known name, other key ID: an unknown key, ignored, so nothing verifies.
    let other_id = format!("{text}\n{}", line.replacen("x08g", "xxxx", 1));
    assert_eq!(
        Note::open(other_id.as_bytes(), std::slice::from_ref(&peter)),
        Err(NoteError::Unverified { signatures: 1 })
    );
}

#[test]
fn vkey_mangling() {
    let Some(v) = notes() else { return };
    let vkey = s(vector(&v, "go-note-peter"), "vkey");
    for i in 0..vkey.len() {
        for j in i..=vkey.len() {
            if (i, j) != (0, vkey.len()) {
                assert!(
                    Verifier::parse(&vkey[i..j]).is_err(),
                    "substring {:?} must not parse",
                    &vkey[i..j]
                );
            }
        }
        let mut bumped = vkey.as_bytes().to_vec();
        bumped[i] += 1;
        let bumped = String::from_utf8(bumped).expect("ASCII stays ASCII");
        assert!(
            Verifier::parse(&bumped).is_err(),
            "{bumped:?} must not parse"
        );
    }
}

#[test]
fn vkey_wrong_length_and_unknown_algorithm() {
    let Some(v) = notes() else { return };
    let negatives = v["negative"].as_array().expect("negative");
    let vkey_of = |prefix: &str| {
        let n = negatives
            .iter()
            .find(|n| s(n, "desc").starts_with(prefix))
            .expect("case present");
        s(n, "vkey").to_owned()
    };
    // Go's vector is also non-canonical base64 ("…KEY==" leaves stray bits), which sijil
    // rejects first; the same key material re-encoded canonically fails on its length.
    let wrong_length = vkey_of("vkey with wrong key length");
    assert_eq!(
        Verifier::parse(&wrong_length),
        Err(KeyError::MalformedVerifierKey {
            reason: "the key is not canonical base64"
        })
    );
    let (head, key64) = wrong_length.rsplit_once('+').expect("three parts");
    let material = lenient_decode(key64);
    let canonical = format!("{head}+{}", STANDARD.encode(&material));
    assert_eq!(
        Verifier::parse(&canonical),
        Err(KeyError::KeyLength {
            key_type: KeyType::Ed25519,
            length: material.len() - 1,
            expected: 32
        })
    );
    assert_eq!(
        Verifier::parse(&vkey_of("vkey with unknown algorithm")),
        Err(KeyError::UnsupportedType { type_byte: 0x65 })
    );
}

/// Decodes base64 as Go does (stray bits allowed), to re-encode a vector canonically.
fn lenient_decode(s: &str) -> Vec<u8> {
    let config = base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true);
    base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, config)
        .decode(s)
        .expect("base64")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
