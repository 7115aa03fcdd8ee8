//! The bodies of sijil's fuzz targets (docs/FUZZING.md).
//!
//! Each function takes arbitrary bytes, feeds them to the public parsers of one kind of
//! outside input, and asserts what must hold of what the parsers accept (an accepted entry
//! re-encodes to the same bytes, a parsed tile path prints back to itself, …). None may panic
//! on any input otherwise: a panic is a bug in a parser or a broken invariant. `fuzz/` calls
//! them from cargo-fuzz targets on nightly; `tests/replay.rs` replays the committed corpora
//! (`fuzz/corpus/<function>/`) through them on stable.
//!
//! The keys and the register the checks use are the demo register's (`data/demo`), compiled
//! in, so that a corpus seeded from real files reaches the code behind signature checks.
#![forbid(unsafe_code)]

pub mod fixtures;

use axum::http::Uri;
use sijil_client::evidence::{Evidence, Fork};
use sijil_core::blob::Blob;
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::cosignature::{verify_cosignature, Cosigner, WitnessPolicy, MAX_TIMESTAMP};
use sijil_core::entry::{Entry, UnsignedEntry, MAX_ENTRY_SIZE};
use sijil_core::merkle::check_consistency;
use sijil_core::note::{Note, NoteSignature, Signer, Verifier, MAX_SIGNATURES};
use sijil_core::proof_text::TlogProof;
use sijil_core::tile::{Tile, TileLevel};
use sijil_core::{bundle, leaf_hash, Hash};
use sijil_http::params::{canonical_u64, Query};
use sijil_projector::Page;
use sijil_witness::AddCheckpoint;

use crate::fixtures::{demo_view, log_verifiers, witness_cosigner, witness_verifier};

/// Entry bytes (a leaf) and entry bundles (`tile/entries/…`): `Entry::decode` on the whole
/// input, `bundle::parse` on it, and `Entry::decode` on each bundled entry; every entry that
/// decodes goes through its signature check and the register's rules
/// (`View::check` against the demo register, as `audit` and `mirror` apply fetched entries).
///
/// Invariants: an accepted entry re-encodes to exactly its bytes (one encoding per entry,
/// docs/FORMAT.md §2.3); a parsed bundle re-encodes to exactly its bytes, holds at most 256
/// entries, and `parse_exact` with its count agrees.
pub fn entry_bundle(data: &[u8]) {
    check_entry(data);
    if let Ok(entries) = bundle::parse(data) {
        assert!(entries.len() <= bundle::MAX_ENTRIES);
        let again = bundle::encode(&entries).expect("a parsed bundle re-encodes");
        assert_eq!(again, data, "bundle does not re-encode to its bytes");
        assert_eq!(
            bundle::parse_exact(data, entries.len()).map(|e| e.len()),
            Ok(entries.len())
        );
        for entry in entries {
            check_entry(entry);
        }
    }
}

fn check_entry(bytes: &[u8]) {
    let Ok(entry) = Entry::decode(bytes) else {
        return;
    };
    assert!(bytes.len() <= MAX_ENTRY_SIZE);
    let again = entry.encode().expect("a decoded entry re-encodes");
    assert_eq!(again, bytes, "entry does not re-encode to its bytes");
    // Errors, never panics, for any key, signature and origin.
    for v in log_verifiers() {
        let _ = entry.verify_signature(bytes, v.name());
    }
    let _ = serde_json::to_string(&entry).expect("an entry has a JSON form");
    let _ = demo_view().check(&entry);
}

/// Signed notes and checkpoints (`/checkpoint`, the verifier's state file, `--key @FILE`
/// checkpoints): `Note::parse`, `Checkpoint::parse` (on the note's text and on the whole
/// input), `SignedCheckpoint::open` with the demo and golden log keys, `Note::verify` and a
/// `WitnessPolicy` check with a witness key.
///
/// Invariants: a parsed note gives back its bytes; a parsed checkpoint gives back its text
/// and passes `Checkpoint::check`; an opened checkpoint names the key's origin, and adding a
/// witness cosignature to it keeps it opening and meets a quorum of that witness.
pub fn note_checkpoint(data: &[u8]) {
    if let Ok(note) = Note::parse(data) {
        assert_eq!(note.to_bytes(), data, "note does not give back its bytes");
        assert!(!note.signatures.is_empty() && note.signatures.len() <= MAX_SIGNATURES);
        let _ = note.verify(log_verifiers());
        let _ = note.verify(std::slice::from_ref(witness_verifier()));
        check_checkpoint_text(&note.text);
        for quorum in [0, 1] {
            let policy = WitnessPolicy::new(vec![witness_verifier().clone()], quorum)
                .expect("one witness key meets a quorum of at most 1");
            let _ = policy.check(&note);
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        check_checkpoint_text(text);
    }
    for verifier in log_verifiers() {
        let Ok(opened) = SignedCheckpoint::open(data, verifier) else {
            continue;
        };
        assert_eq!(opened.bytes, data);
        assert_eq!(opened.note.to_bytes(), data);
        assert_eq!(opened.checkpoint.origin, verifier.name());
        assert_eq!(
            Checkpoint::parse(&opened.note.text).as_ref(),
            Ok(&opened.checkpoint)
        );
        let mut cosigned = opened.clone();
        let line = witness_cosigner()
            .cosign(&opened.note.text, 1_700_000_000)
            .expect("an opened checkpoint can be cosigned");
        if cosigned.add_cosignatures([line]).is_ok() {
            let again = SignedCheckpoint::open(&cosigned.bytes, verifier)
                .expect("a cosigned checkpoint still opens");
            assert_eq!(again.checkpoint, opened.checkpoint);
            let policy = WitnessPolicy::new(vec![witness_verifier().clone()], 1)
                .expect("a quorum of one witness");
            let report = policy
                .check(&again.note)
                .expect("the witness's own cosignature meets its quorum");
            assert_eq!(report.counted, 1);
        }
    }
}

fn check_checkpoint_text(text: &str) {
    if let Ok(cp) = Checkpoint::parse(text) {
        assert_eq!(cp.to_text(), text, "checkpoint does not give back its text");
        assert!(
            cp.check().is_ok(),
            "a parsed checkpoint fails its own check"
        );
    }
}

/// Cosignature and signature lines (a witness's `add-checkpoint` answer, lines of a note) and
/// key strings (`--key`, `--witness`, key files): `NoteSignature::from_line` and
/// `parse_lines`, `verify_cosignature` against the demo checkpoint, `Verifier::parse`,
/// `Signer::from_private_key`, `Cosigner::from_private_key`.
///
/// Invariants: a parsed line or block of lines prints back to itself; a verified cosignature
/// has a timestamp in 1..2^63; a parsed key string prints back to itself, and a private key's
/// verifier key string parses back to the same verifier.
pub fn cosignature_line(data: &[u8]) {
    if let Ok(lines) = NoteSignature::parse_lines(data) {
        let again: String = lines.iter().map(|l| l.to_line() + "\n").collect();
        assert_eq!(again.as_bytes(), data, "lines do not print back");
        let text = fixtures::demo_checkpoint_text();
        for line in &lines {
            if let Ok(t) = verify_cosignature(line, text, witness_verifier()) {
                assert!((1..=MAX_TIMESTAMP).contains(&t));
            }
        }
    }
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(line) = NoteSignature::from_line(s) {
        assert_eq!(line.to_line(), s, "line does not print back");
        if let Ok(t) =
            verify_cosignature(&line, fixtures::demo_checkpoint_text(), witness_verifier())
        {
            assert!((1..=MAX_TIMESTAMP).contains(&t));
        }
    }
    if let Ok(v) = Verifier::parse(s) {
        assert_eq!(v.to_string(), s, "verifier key does not print back");
    }
    if let Ok(signer) = Signer::from_private_key(s) {
        assert_eq!(signer.private_key_string(), s);
        let vkey = signer.verifier().to_string();
        assert_eq!(
            Verifier::parse(&vkey).as_ref(),
            Ok(&signer.verifier()),
            "a signer's verifier key does not parse back"
        );
    }
    if let Ok(cosigner) = Cosigner::from_private_key(s) {
        let vkey = cosigner.verifier().to_string();
        assert_eq!(
            Verifier::parse(&vkey).as_ref(),
            Ok(&cosigner.verifier()),
            "a cosigner's verifier key does not parse back"
        );
        let again = Cosigner::from_private_key(&cosigner.private_key_string())
            .expect("a cosigner's own key string parses");
        assert_eq!(again.verifier(), cosigner.verifier());
    }
}

/// Tile and entry bundle paths (`/tile/…` requests, mirror and audit reading a directory):
/// `Tile::parse_path`.
///
/// Invariants: a parsed path prints back to exactly itself, its width is 1–256, its level
/// 0–63, and its leaf range (when it has one) is that of its index and width.
pub fn tile_path(data: &[u8]) {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tile) = Tile::parse_path(path) else {
        return;
    };
    assert_eq!(tile.path(), path, "tile path does not print back");
    assert!((1..=256).contains(&tile.width));
    if let TileLevel::Hash(level) = tile.level {
        assert!(level <= 63);
    }
    if let Some(range) = tile.leaf_range() {
        assert!(range.start <= range.end);
    }
    let _ = tile.is_full();
}

/// c2sp.org/tlog-proof texts (`sijil verify-proof`, downloaded `.tlog-proof` files):
/// `TlogProof::parse`, then `TlogProof::verify` with the demo and golden log keys for every
/// leaf of the demo register.
///
/// Invariants: a parsed proof gives back its bytes; a proof that verifies is for a leaf below
/// the checkpoint's size, and its checkpoint opens with the same key.
pub fn proof_text(data: &[u8]) {
    let Ok(proof) = TlogProof::parse(data) else {
        return;
    };
    assert_eq!(
        proof.to_bytes(),
        data,
        "tlog-proof does not give back its bytes"
    );
    let policy = WitnessPolicy::new(vec![witness_verifier().clone()], 0).expect("quorum 0");
    let leaves = fixtures::demo_leaf_hashes();
    let leaf = usize::try_from(proof.index)
        .ok()
        .and_then(|i| leaves.get(i))
        .copied()
        .unwrap_or(Hash([0; 32]));
    for verifier in log_verifiers() {
        if let Ok(verified) = proof.verify(&leaf, verifier, &policy) {
            assert!(proof.index < verified.checkpoint.checkpoint.size);
            assert!(SignedCheckpoint::open(&proof.checkpoint, verifier).is_ok());
        }
    }
}

/// Events files (`sijil append FILE`, JSON Lines): `sijil_register::parse_events`, then what
/// the writer does with each draft: its texts become blobs, it gets the next seq and case
/// link of the demo register as it stood after its seeds' batch
/// ([`fixtures::demo_seeds_view`]), the demo officer signs it, and the register's rules
/// apply it.
///
/// Invariants: each parsed event's JSON form (with its `case`) parses back to the same draft;
/// a blob parses back under its digest; a signed entry decodes to itself and its signature
/// verifies.
pub fn events_jsonl(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(drafts) = sijil_register::parse_events("fuzz", text) else {
        return;
    };
    let mut view = fixtures::demo_seeds_view().clone();
    let officer = fixtures::demo_officer();
    let origin = fixtures::demo_origin();
    for draft in drafts {
        let mut json = serde_json::to_value(&draft.event).expect("an event has a JSON form");
        if let (Some(case), Some(obj)) = (&draft.case, json.as_object_mut()) {
            obj.insert("case".into(), serde_json::Value::String(case.clone()));
        }
        if let (Some(target), Some(obj)) = (&draft.target, json.as_object_mut()) {
            obj.insert(
                "target".into(),
                serde_json::json!({ "case": target.case, "seq": target.seq }),
            );
        }
        // A line naming an "auto:KEY" case (as its case or its target's) only reads in the
        // file that opens that case first: printed alone, it is refused, rightly.
        let names_auto = draft
            .case
            .iter()
            .chain(draft.target.iter().map(|t| &t.case))
            .any(|c| sijil_register::auto_case(c).is_some());
        if !names_auto {
            let line = serde_json::to_string(&json).expect("JSON prints");
            let again =
                sijil_register::parse_events("again", &line).expect("an event's JSON parses back");
            // Printed alone, it is the first line of its file.
            let expected = sijil_register::Draft {
                line: 1,
                ..draft.clone()
            };
            assert_eq!(again, vec![expected], "event JSON does not parse back");
        }

        let case = match (draft.event.is_case_event(), &draft.case) {
            (true, Some(id)) => Some(view.next_case_link(id)),
            (false, None) => None,
            // The writer refuses these with a message.
            _ => continue,
        };
        let Ok(event) = draft.event.seal(|text| {
            let blob = Blob::new(text)?;
            let digest = blob.digest();
            let parsed = Blob::parse(&digest, &blob.to_bytes()).expect("a blob parses back");
            assert_eq!(parsed.digest(), digest);
            Ok::<_, sijil_core::blob::BlobError>(digest)
        }) else {
            continue;
        };
        let unsigned = UnsignedEntry {
            seq: view.size(),
            prev: view.last_leaf_hash(),
            recorded_at: 1_700_000_000_000,
            case,
            event,
        };
        let Ok((entry, bytes)) = Entry::sign(unsigned, officer.signing_key(), origin) else {
            continue;
        };
        assert_eq!(
            Entry::decode(&bytes).as_ref(),
            Ok(&entry),
            "a signed entry decodes to itself"
        );
        assert!(entry.verify_signature(&bytes, origin).is_ok());
        let _ = view.apply(&entry, leaf_hash(&bytes));
    }
}

/// The parameters the API and the pages take from a query string: `Query::parse` and
/// `parse_lenient` over the path `/api/v1/cases?<input>`, every typed accessor, and the case
/// listing of the demo register with the filter, order, page and date they give.
///
/// Invariants: an accepted integer or date prints back to the value given; a listing page
/// holds at most its limit and never more than the total.
pub fn http_params(data: &[u8]) {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(n) = canonical_u64(raw) {
        assert_eq!(n.to_string(), raw);
    }
    let Ok(uri) = format!("/api/v1/cases?{raw}").parse::<Uri>() else {
        return;
    };
    const ALL: &[&str] = &[
        "status",
        "controller",
        "category",
        "opened_from",
        "opened_to",
        "sort",
        "limit",
        "offset",
        "after",
        "as_of",
        "index",
        "size",
        "from",
        "to",
        "lang",
        "verify",
    ];
    for known in [
        &[][..],
        &["as_of"],
        &["index", "size"],
        &["from", "to"],
        ALL,
    ] {
        if let Ok(q) = Query::parse(&uri, known) {
            check_query(&q);
        }
    }
    if let Ok(q) = Query::parse_lenient(&uri, &["lang", "status", "category", "sort", "after"]) {
        check_query(&q);
    }
}

fn check_query(q: &Query) {
    for name in ["limit", "offset", "index", "size", "from", "to"] {
        if let Ok(Some(n)) = q.u64(name) {
            assert_eq!(Some(n.to_string().as_str()), q.get(name));
        }
    }
    for name in ["as_of", "opened_from", "opened_to"] {
        if let Ok(Some(d)) = q.date(name) {
            assert_eq!(Some(d.to_string().as_str()), q.get(name));
        }
    }
    let today = fixtures::today();
    let (Ok(filter), Ok(sort), Ok(page), Ok(as_of)) = (
        q.case_filter(),
        q.sort(),
        q.page(50, Page::MAX_LIMIT),
        q.as_of(today),
    ) else {
        return;
    };
    let limit = match &page {
        Page::Offset { limit, .. } | Page::After { limit, .. } => *limit,
    };
    assert!((1..=Page::MAX_LIMIT).contains(&limit));
    if let Ok(listing) = demo_view().cases(&filter, sort, &page, as_of) {
        assert!(listing.items.len() <= limit);
        assert!(listing.items.len() <= listing.total);
    }
}

/// The body of a witness's `add-checkpoint` request: `AddCheckpoint::parse`, then the whole
/// request through a `Witness` that trusts the demo log key, in a fresh state directory that
/// holds a checkpoint of the demo log of size 1 as its latest.
///
/// Invariants: a parsed request gives back its body; an answer is one of the statuses the
/// spec lists, a 200 carries a cosignature line that verifies with the witness's key, and a
/// 409 the stored size.
pub fn witness_request(data: &[u8]) {
    if let Ok(req) = AddCheckpoint::parse(data) {
        assert_eq!(req.to_bytes(), data, "request does not give back its body");
        assert!(req.proof.len() <= sijil_witness::request::MAX_PROOF_LINES);
    }
    let answer = fixtures::with_witness(|w| w.add_checkpoint(data));
    assert!(
        [200, 400, 403, 404, 409, 422].contains(&answer.status),
        "unexpected status {}: {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    match answer.status {
        200 => {
            let body = std::str::from_utf8(&answer.body).expect("a 200 is UTF-8");
            let line = NoteSignature::from_line(body.trim_end_matches('\n'))
                .expect("a 200 carries a signature line");
            let req = AddCheckpoint::parse(data).expect("a 200 answers a well-formed request");
            let note = Note::parse(&req.checkpoint).expect("a 200 answers a note");
            let t = verify_cosignature(&line, &note.text, witness_verifier())
                .expect("the witness's cosignature verifies");
            assert!(t > 0);
        }
        409 => {
            let req = AddCheckpoint::parse(data).expect("a 409 answers a well-formed request");
            let note = Note::parse(&req.checkpoint).expect("a 409 answers a note");
            let cp = Checkpoint::parse(&note.text).expect("a 409 answers a checkpoint");
            // The witness holds a checkpoint of the demo log only.
            let held = if cp.origin == fixtures::demo_origin() {
                fixtures::WITNESS_STORED_SIZE
            } else {
                0
            };
            assert_ne!(req.old_size, held);
            assert_eq!(answer.body, format!("{held}\n").into_bytes());
        }
        _ => {}
    }
}

/// `POST /sijil/log-keys` bodies: a log's evidence that it rotated its key (docs/FORMAT.md
/// §3.1, docs/API.md "Witness"), which a sijil witness follows. `Witness::follow_rotation`
/// with the fixture witness (trusting the demo log's key in service and the golden one, a
/// demo checkpoint of size 1 stored): the answer is 200, 400, 403, 404, 409 or 422, never a
/// 500 (an internal error) for any body; a 409 names the stored size.
pub fn witness_rotation(data: &[u8]) {
    let answer = fixtures::with_witness(|w| w.follow_rotation(data));
    assert!(
        [200, 400, 403, 404, 409, 422].contains(&answer.status),
        "unexpected status {}: {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    if answer.status == 409 {
        assert_eq!(answer.body, b"1\n".to_vec(), "a 409 names the stored size");
    }
}

/// Fork evidence files (`sijil evidence check FILE`): `Evidence::parse`, then
/// `Evidence::check` with the demo and golden log keys.
///
/// Invariants: a parsed file's bytes (`to_bytes`) parse back to it; evidence that checks
/// proves what it says: same size with two roots, or a proof that leads to the new root but
/// not to the old one, so the two checkpoints are not consistent.
pub fn fork_evidence(data: &[u8]) {
    let Ok(evidence) = Evidence::parse(data) else {
        return;
    };
    let again = Evidence::parse(&evidence.to_bytes()).expect("an evidence file's bytes parse back");
    assert_eq!(again, evidence);
    for verifier in log_verifiers() {
        let Ok(fork) = evidence.check(verifier) else {
            continue;
        };
        let open = |note: &str| {
            SignedCheckpoint::open(note.as_bytes(), verifier)
                .expect("a checked evidence's notes open")
                .checkpoint
        };
        let (old, new) = (open(&evidence.old.note), open(&evidence.new.note));
        match fork {
            Fork::SameSize {
                size,
                old_root,
                new_root,
            } => {
                assert_eq!((old.size, new.size), (size, size));
                assert_ne!(old_root, new_root);
            }
            Fork::Inconsistent {
                old_size,
                new_size,
                old_root,
                prefix_root,
                new_root,
            } => {
                assert!(0 < old_size && old_size < new_size);
                assert_eq!((old.root, new.root), (old_root, new_root));
                assert_ne!(prefix_root, old_root);
                // The proof, as RFC 9162 has it, must not prove the pair consistent.
                let p = evidence
                    .proof
                    .as_ref()
                    .expect("an inconsistent fork has a proof");
                let hashes: Vec<Hash> = std::iter::once(&p.first)
                    .chain(&p.rest)
                    .filter_map(|s| Hash::from_base64(s))
                    .collect();
                for proof in [&hashes[..], &hashes[1.min(hashes.len())..]] {
                    assert!(
                        check_consistency(proof, old_size, &old_root, new_size, &new_root).is_err(),
                        "evidence of a fork whose proof shows consistency"
                    );
                }
            }
        }
    }
}

/// A case answer (`GET /api/v1/cases/{id}`, what `sijil verify --case` and the browser read
/// from a server they do not trust): parsed as JSON, then its completeness proof verified as
/// a case, as an absent case and as a controller against the demo register's checkpoint and
/// log key. The first line of the input names the case; the rest is the answer.
///
/// Invariants: whatever verifies as a whole case has exactly the entries the proof lists (when
/// it lists them), each decoded with the seq it is shown at; no answer verifies both as the
/// case and as its absence.
pub fn case_answer(data: &[u8]) {
    use sijil_index::completeness::{verify_case, verify_controller, verify_no_case};
    let text = String::from_utf8_lossy(data);
    let (id, json) = text.split_once('\n').unwrap_or(("", &text));
    let Ok(answer) = serde_json::from_str::<sijil_client::case::CaseAnswer>(json) else {
        return;
    };
    let Ok(cp) = SignedCheckpoint::open(fixtures::DEMO_CHECKPOINT, &log_verifiers()[0]) else {
        return;
    };
    let key = sijil_core::event::PublicKey(fixtures::demo_log_signer().public_key());
    let c = &answer.completeness;
    let whole = verify_case(id, &answer.entries, c, &cp.checkpoint, &key);
    if let Ok(case) = &whole {
        // `seqs` is a convenience for readers; the trie value recomputed from the entries is
        // what proves them whole, so an answer without it may verify, never one against it.
        let shown: Vec<u64> = case.entries.iter().map(|e| e.seq).collect();
        if let Some(seqs) = &c.seqs {
            assert_eq!(&shown, seqs, "a verified case is the proof's list");
        }
        assert!(case.entries.iter().all(|e| e.entry.seq == e.seq));
        assert!(
            verify_no_case(id, c, &cp.checkpoint, &key).is_err(),
            "a case proven both present and absent"
        );
    }
    let _ = verify_controller(id, &answer.entries, c, &cp.checkpoint, &key);
    // The trie proof alone, for any key.
    if let Ok(proof) = c.trie_proof.parse() {
        let _ = proof.verify::<sijil_index::trie::Sha256Hash>(
            &[0; 32],
            &sijil_core::sha256(id.as_bytes()).0,
        );
    }
}

/// What issue 15's officers and sequencer read from each other: a submission body
/// (`POST /api/v1/submit`, which the sequencer takes from any client), a head answer (what
/// `sijil submit` reads from a sequencer) and a receipt (what `sijil verify RECEIPT` reads
/// from a file). Every part that parses is checked as far as it goes: the batch's signatures
/// for the demo register's origin, the receipt against the demo log key.
pub fn submission(data: &[u8]) {
    use sijil_register::submission::{check_batch, HeadAnswer, Receipt, Submission};
    const MAX: usize = 1000;
    if let Ok(s) = Submission::parse(data, MAX) {
        let n = s.batch.entries.len();
        assert!(
            (1..=MAX).contains(&n),
            "a parsed submission has 1 to {MAX} entries"
        );
        assert!(s.batch.blobs.len() <= n, "at most one text per entry");
        let again = Submission::parse(&s.to_json(), MAX).expect("a submission's own JSON parses");
        assert_eq!(again.batch.entries.len(), n);
        let origin = log_verifiers()[0].name().to_string();
        if let Ok(checked) = check_batch(s.batch, &origin) {
            let b = checked.batch();
            assert!(b.entries.windows(2).all(|w| w[1].0.seq == w[0].0.seq + 1));
        }
    }
    if let Ok(h) = HeadAnswer::parse(data) {
        let _ = h.head();
    }
    if let Ok(r) = Receipt::parse(data) {
        let policy = WitnessPolicy::new(Vec::new(), 0).expect("quorum 0");
        let _ = r.verify(&log_verifiers()[0], &policy);
    }
}
