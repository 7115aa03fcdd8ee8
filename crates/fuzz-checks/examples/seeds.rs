//! Writes the seed inputs of every fuzz target into `fuzz/corpus/<target>/seed-*`, from the
//! demo register (`data/demo`), the golden vectors of docs/FORMAT.md and the specs' examples:
//!
//! ```sh
//! cargo run -p sijil-fuzz-checks --example seeds
//! ```
//!
//! Each seed is checked with its target's function before it is written. The fuzzer grows
//! the corpus from them; `cargo fuzz cmin` keeps it small (docs/FUZZING.md).

use std::path::{Path, PathBuf};

use sijil_client::evidence::{Evidence, ProofHashes, Seen};
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::cosignature::WitnessPolicy;
use sijil_core::merkle::{prove_consistency, prove_inclusion, MemoryHashes};
use sijil_core::note::NoteSignature;
use sijil_core::proof_text::TlogProof;
use sijil_core::tile::{Tile, TileLevel};
use sijil_core::{bundle, sha256, Hash};
use sijil_fuzz_checks::fixtures::{
    demo_checkpoint_of_size_1, demo_entries, demo_leaf_hashes, demo_log_signer, demo_origin,
    demo_seeds_size, with_witness, witness_cosigner, DEMO_CHECKPOINT, DEMO_LOG_VKEY,
    DEMO_OFFICER_KEY, GOLDEN_LOG_VKEY,
};

/// docs/FORMAT.md §6.2.
const GOLDEN_ENTRY: &str = "0101aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaafd0010300c0b0300008a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0109323032332d30303137000000000000000000000000000000000000000000000000000000000000000000030461636d650941434d45205341524c020006fbe707010201bed0a9466b829f81b211777b927e3d9f340db58b17c602317bd79cbcc2664fcd6d5c3e26be12744a41e6b75bb6fb7bee28c408f218bb7eb6a6c57a7b6ad2bbdf455f656f6c7fe06caa809012c90c694f7980c569b9bebf8eb3790998478f1f0f";

/// docs/FORMAT.md §6.3.
const GOLDEN_CHECKPOINT: &str = "registre.example.ma/plaintes\n1\nlo28keesz6igwQBbJORUqdHATOba1cEn3K17dXEPOYw=\n\n\u{2014} registre.example.ma/plaintes zAGwjFmCYWoJaMqhSUKEGSNtBGCFg4mI3J9XtKfzSI6ITdJFYU/KszplvKX3zWZcpALKokYY04jHupIzNKLGTxhlSgY=\n";

/// c2sp.org/signed-note's example.
const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

struct Corpus {
    root: PathBuf,
    written: usize,
}

impl Corpus {
    fn seed(&mut self, target: &str, name: &str, bytes: impl AsRef<[u8]>, check: fn(&[u8])) {
        let bytes = bytes.as_ref();
        check(bytes);
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).expect("creates the corpus directory");
        std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("writes a seed");
        self.written += 1;
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let mut c = Corpus { root, written: 0 };
    let log = demo_log_signer();
    let origin = demo_origin();
    let leaves = demo_leaf_hashes();
    let tree = MemoryHashes::from_leaves(leaves.iter().copied());
    let size = leaves.len() as u64;
    let demo_cp = SignedCheckpoint::open(DEMO_CHECKPOINT, &log.verifier()).expect("demo opens");

    // entry_bundle
    use sijil_fuzz_checks::entry_bundle as eb;
    c.seed("entry_bundle", "golden-entry", hex(GOLDEN_ENTRY), eb);
    // The seeds' batch (every kind of event, written by hand) rather than all 1,456 entries:
    // its bundle is the one the demo served after that batch (`tile/entries/000.p/36` then),
    // small enough for libFuzzer's input length.
    let entries = demo_entries();
    let seeds = &entries[..demo_seeds_size()];
    let seeds_bundle: Vec<&[u8]> = seeds.iter().map(|(b, _)| *b).collect();
    c.seed(
        "entry_bundle",
        "demo-bundle",
        bundle::encode(&seeds_bundle).expect("encodes"),
        eb,
    );
    for (i, (bytes, _)) in seeds.iter().enumerate() {
        c.seed("entry_bundle", &format!("demo-entry-{i}"), bytes, eb);
    }
    let small: Vec<&[u8]> = entries.iter().take(3).map(|(b, _)| *b).collect();
    c.seed(
        "entry_bundle",
        "demo-bundle-3",
        bundle::encode(&small).expect("encodes"),
        eb,
    );

    // note_checkpoint
    use sijil_fuzz_checks::note_checkpoint as nc;
    c.seed("note_checkpoint", "demo", DEMO_CHECKPOINT, nc);
    c.seed("note_checkpoint", "golden", GOLDEN_CHECKPOINT, nc);
    c.seed("note_checkpoint", "spec-note", SPEC_NOTE, nc);
    let cosigned = cosigned(&demo_cp);
    c.seed("note_checkpoint", "demo-cosigned", &cosigned.bytes, nc);
    let mut with_ext = Checkpoint::new(origin, size, demo_cp.checkpoint.root);
    with_ext.extensions.push("extension line".into());
    let with_ext = SignedCheckpoint::sign(with_ext, &log).expect("signs");
    c.seed("note_checkpoint", "demo-extension", &with_ext.bytes, nc);
    c.seed(
        "note_checkpoint",
        "demo-size-1",
        demo_checkpoint_of_size_1(),
        nc,
    );

    // cosignature_line
    use sijil_fuzz_checks::cosignature_line as cl;
    let w = witness_cosigner();
    let line = w
        .cosign(&demo_cp.note.text, 1_700_000_000)
        .expect("cosigns");
    c.seed("cosignature_line", "witness-line", line.to_line(), cl);
    c.seed(
        "cosignature_line",
        "witness-answer",
        format!("{}\n", line.to_line()),
        cl,
    );
    let block: String = cosigned
        .note
        .signatures
        .iter()
        .map(|s: &NoteSignature| s.to_line() + "\n")
        .collect();
    c.seed("cosignature_line", "demo-lines", block, cl);
    c.seed("cosignature_line", "demo-vkey", DEMO_LOG_VKEY.trim(), cl);
    c.seed("cosignature_line", "golden-vkey", GOLDEN_LOG_VKEY, cl);
    c.seed(
        "cosignature_line",
        "witness-vkey",
        w.verifier().to_string(),
        cl,
    );
    c.seed(
        "cosignature_line",
        "witness-private-key",
        w.private_key_string(),
        cl,
    );
    c.seed(
        "cosignature_line",
        "officer-private-key",
        DEMO_OFFICER_KEY.trim_end(),
        cl,
    );

    // tile_path
    use sijil_fuzz_checks::tile_path as tp;
    for (name, tile) in [
        (
            "hash-partial",
            Tile {
                level: TileLevel::Hash(0),
                index: 0,
                width: 19,
            },
        ),
        (
            "entries-partial",
            Tile {
                level: TileLevel::Entries,
                index: 0,
                width: 1,
            },
        ),
        (
            "hash-full",
            Tile {
                level: TileLevel::Hash(1),
                index: 1_234_067,
                width: 256,
            },
        ),
        (
            "entries-deep",
            Tile {
                level: TileLevel::Entries,
                index: u64::MAX,
                width: 255,
            },
        ),
        (
            "hash-top",
            Tile {
                level: TileLevel::Hash(63),
                index: 7,
                width: 7,
            },
        ),
    ] {
        c.seed("tile_path", name, tile.path(), tp);
    }

    // proof_text
    use sijil_fuzz_checks::proof_text as pt;
    for (index, extra, cp) in [
        (0u64, None, DEMO_CHECKPOINT),
        (5, Some(b"sijil-entry-5".to_vec()), &cosigned.bytes[..]),
        (size - 1, Some(Vec::new()), DEMO_CHECKPOINT),
    ] {
        let proof = TlogProof {
            extra,
            index,
            proof: prove_inclusion(size, index, &tree).expect("proves"),
            checkpoint: cp.to_vec(),
        };
        let policy = WitnessPolicy::new(vec![], 0).expect("no witnesses");
        proof
            .verify(&leaves[index as usize], &log.verifier(), &policy)
            .expect("the seed proof verifies");
        c.seed("proof_text", &format!("demo-{index}"), proof.to_bytes(), pt);
    }

    // events_jsonl
    use sijil_fuzz_checks::events_jsonl as ej;
    let demo_events = include_str!("../../../data/demo/events.jsonl");
    c.seed("events_jsonl", "demo-file", demo_events, ej);
    for (i, (_, entry)) in seeds.iter().enumerate() {
        let mut json = serde_json::to_value(&entry.event).expect("JSON");
        if let (Some(case), Some(obj)) = (&entry.case, json.as_object_mut()) {
            obj.insert("case".into(), case.id.clone().into());
        }
        c.seed(
            "events_jsonl",
            &format!("demo-entry-{i}"),
            format!("{json}\n"),
            ej,
        );
    }
    let key = hex::encode(w.public_key());
    for (name, line) in [
        (
            "officer-authorized",
            format!(r#"{{"type":"OfficerAuthorized","officer":{{"key":"{key}","name":"karim","role":"clerk"}}}}"#),
        ),
        (
            "officer-revoked",
            format!(r#"{{"type":"OfficerRevoked","key":"{key}","reason":"départ"}}"#),
        ),
        (
            "deadline-extended",
            r#"{"case":"2023-0002","type":"DeadlineExtended","due_on":"2023-04-30","reason":"Demande motivée"}"#.to_owned(),
        ),
        (
            "sanction-fine",
            r#"{"case":"2023-0002","type":"SanctionNotified","notified_on":"2023-05-02","sanction":{"kind":"fine","amount_mad":20000},"legal_basis":"art. 51","reasons":"x"}"#.to_owned(),
        ),
    ] {
        c.seed("events_jsonl", name, format!("{line}\n\n"), ej);
    }

    // http_params
    use sijil_fuzz_checks::http_params as hp;
    for (i, q) in [
        "status=open&category=privacy&sort=id&limit=10&offset=0&as_of=2024-01-01",
        "after=2023-0001&limit=2&sort=opened_asc",
        "index=3&size=19",
        "from=1&to=19",
        "opened_from=2023-01-01&opened_to=2023-12-31&controller=cafe-atlas-fictif",
        "lang=en&verify=1&utm_source=x",
        "controller=caf%C3%A9+atlas&status=&category=video_surveillance",
        "18446744073709551615",
    ]
    .into_iter()
    .enumerate()
    {
        c.seed("http_params", &format!("query-{i}"), q, hp);
    }

    // witness_request
    use sijil_fuzz_checks::witness_request as wr;
    let request = |old: u64, proof: &[Hash], cp: &[u8]| {
        let mut b = format!("old {old}\n").into_bytes();
        for h in proof {
            b.extend_from_slice(h.to_base64().as_bytes());
            b.push(b'\n');
        }
        b.push(b'\n');
        b.extend_from_slice(cp);
        b
    };
    let proof_1_n = prove_consistency(1, size, &tree).expect("proves");
    c.seed(
        "witness_request",
        "ok",
        request(1, &proof_1_n, DEMO_CHECKPOINT),
        wr,
    );
    c.seed(
        "witness_request",
        "conflict",
        request(0, &[], DEMO_CHECKPOINT),
        wr,
    );
    c.seed(
        "witness_request",
        "bad-proof",
        request(1, &[sha256(b"x"); 5], DEMO_CHECKPOINT),
        wr,
    );
    let other_1 =
        SignedCheckpoint::sign(Checkpoint::new(origin, 1, sha256(b"other")), &log).expect("signs");
    c.seed(
        "witness_request",
        "fork-same-size",
        request(1, &[], &other_1.bytes),
        wr,
    );
    c.seed(
        "witness_request",
        "golden",
        request(0, &[], GOLDEN_CHECKPOINT.as_bytes()),
        wr,
    );
    // The seeds reach the answers past the signature checks.
    for (body, status) in [
        (request(1, &proof_1_n, DEMO_CHECKPOINT), 200),
        (request(0, &[], DEMO_CHECKPOINT), 409),
        (request(1, &[sha256(b"x"); 5], DEMO_CHECKPOINT), 422),
        (request(1, &[], &other_1.bytes), 422),
        (request(0, &[], GOLDEN_CHECKPOINT.as_bytes()), 200),
    ] {
        assert_eq!(with_witness(|w| w.add_checkpoint(&body)).status, status);
    }

    // witness_rotation: the demo's own rotation (scripts/build-demo), as a log pushes it.
    use sijil_fuzz_checks::witness_rotation as wrot;
    let demo_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/register");
    let answer = sijil_register::rotation::dir_log_keys(&demo_dir).expect("the demo's log keys");
    let evidence = |answer: &sijil_register::rotation::LogKeysAnswer, old: u64, proof: &[Hash]| {
        serde_json::to_vec(&sijil_client::rotation::RotationEvidence {
            answer: answer.clone(),
            old_size: old,
            proof: proof.iter().map(Hash::to_base64).collect(),
        })
        .expect("serializes")
    };
    let mut cut = answer.clone();
    cut.entries.retain(|e| e.seq + 3 < size); // the rotation (entry size − 2) left out
    for (name, body, status) in [
        ("ok", evidence(&answer, 1, &proof_1_n), 200),
        ("conflict", evidence(&answer, 0, &[]), 409),
        ("bad-proof", evidence(&answer, 1, &[sha256(b"x"); 5]), 422),
        ("cut", evidence(&cut, 1, &proof_1_n), 403),
    ] {
        assert_eq!(
            with_witness(|w| w.follow_rotation(&body)).status,
            status,
            "witness_rotation seed {name}"
        );
        c.seed("witness_rotation", name, body, wrot);
    }

    // fork_evidence
    use sijil_fuzz_checks::fork_evidence as fe;
    let seen = |note: &[u8], source: &str| Seen {
        note: String::from_utf8(note.to_vec()).expect("UTF-8"),
        source: source.into(),
        seen_at: "2024-06-01T00:00:00.000Z".into(),
    };
    let now = "2024-06-01T00:00:01.000Z";
    let same = Evidence::same_size(
        seen(demo_checkpoint_of_size_1(), "https://a.example"),
        seen(&other_1.bytes, "https://b.example"),
        origin,
        "sijil verify",
        now,
    );
    c.seed("fork_evidence", "same-size", same.to_bytes(), fe);
    // Size 1 is a power of two: `first` is the new tree's hash of its first leaf.
    let inconsistent = Evidence::inconsistent(
        seen(&other_1.bytes, "state"),
        seen(DEMO_CHECKPOINT, "https://a.example"),
        ProofHashes {
            old_size: 1,
            new_size: size,
            first: leaves[0].to_base64(),
            rest: proof_1_n.iter().map(Hash::to_base64).collect(),
        },
        origin,
        "sijil mirror",
        now,
    );
    c.seed("fork_evidence", "inconsistent", inconsistent.to_bytes(), fe);
    let proof_3_n = prove_consistency(3, size, &tree).expect("proves");
    let old_3 =
        SignedCheckpoint::sign(Checkpoint::new(origin, 3, sha256(b"old")), &log).expect("signs");
    let inconsistent_3 = Evidence::inconsistent(
        seen(&old_3.bytes, "state"),
        seen(DEMO_CHECKPOINT, "https://a.example"),
        ProofHashes {
            old_size: 3,
            new_size: size,
            first: proof_3_n[0].to_base64(),
            rest: proof_3_n[1..].iter().map(Hash::to_base64).collect(),
        },
        origin,
        "sijil witness",
        now,
    );
    c.seed(
        "fork_evidence",
        "inconsistent-3",
        inconsistent_3.to_bytes(),
        fe,
    );
    let consistent = Evidence::inconsistent(
        seen(demo_checkpoint_of_size_1(), "state"),
        seen(DEMO_CHECKPOINT, "https://a.example"),
        ProofHashes {
            old_size: 1,
            new_size: size,
            first: leaves[0].to_base64(),
            rest: proof_1_n.iter().map(Hash::to_base64).collect(),
        },
        origin,
        "sijil verify",
        now,
    );
    c.seed("fork_evidence", "consistent", consistent.to_bytes(), fe);
    let key = log.verifier();
    assert!(same.check(&key).is_ok());
    assert!(inconsistent.check(&key).is_ok());
    assert!(inconsistent_3.check(&key).is_ok());
    assert!(consistent.check(&key).is_err());

    // case_answer: the demo register's real answers, built as the server builds them.
    use sijil_fuzz_checks::case_answer as ca;
    let demo_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/register");
    let reader = sijil_register::RegisterReader::open(&demo_dir, None).expect("the demo opens");
    for id in ["2024-0002", "2023-0001", "1999-0001"] {
        let a = sijil_client::case::case_from_dir(&reader, id).expect("builds");
        let json = serde_json::json!({
            "checkpoint": {"text": a.checkpoint.text},
            "entries": a.entries,
            "completeness": a.completeness,
        });
        c.seed(
            "case_answer",
            &format!("demo-{id}"),
            format!("{id}\n{json}"),
            ca,
        );
    }

    println!("{} seeds written under {}", c.written, c.root.display());
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("hex")
}

/// `cp` with a cosignature by the fixture witness.
fn cosigned(cp: &SignedCheckpoint) -> SignedCheckpoint {
    let mut cp = cp.clone();
    let line = witness_cosigner()
        .cosign(&cp.note.text, 1_700_000_000)
        .expect("cosigns");
    cp.add_cosignatures([line]).expect("fits");
    cp
}
