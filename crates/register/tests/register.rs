//! The register on disk: validated appends, blobs and erasures, recovery of the blob journal,
//! view snapshots.

use std::path::{Path, PathBuf};

use sijil_core::note::Signer;
use sijil_register::audit::{audit, AuditOptions, DirSource};
use sijil_register::{parse_events, Error, RegisterReader, RegisterWriter};

mod common;

use common::{new_register, NOW};

fn complaint(id: &str, text: &str) -> String {
    format!(
        r#"{{"case":"{id}","type":"ComplaintReceived","controller":{{"id":"acme","name":"ACME"}},"categories":["privacy"],"received_on":"2024-01-02","summary":"{text}"}}"#
    )
}

/// Appends the events file `text` as one batch, which must be accepted.
fn append(w: &mut RegisterWriter, officer: &Signer, text: &str) {
    w.append(
        parse_events("test", text).expect("valid events"),
        officer,
        NOW,
        None,
    )
    .expect("appends");
}

fn audit_dir(dir: &Path) -> sijil_register::audit::AuditReport {
    let reader = RegisterReader::open(dir, None).expect("opens");
    audit(
        &DirSource::new(dir),
        reader.verifier(),
        AuditOptions::default(),
        &mut |_, _| {},
    )
    .expect("audits")
}

/// The path of the register's one blob.
fn only_blob(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("blobs"))
        .expect("dir")
        .flatten()
        .next()
        .expect("one blob")
        .path()
}

fn blob_count(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("blobs"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn a_refused_batch_writes_nothing_and_the_next_one_links_correctly() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    let before = std::fs::read(dir.join("checkpoint")).expect("read");
    let blobs_before = blob_count(&dir);
    // The first event is valid, the second refers to a case that does not exist.
    let bad = format!(
        "{}\n{}",
        complaint("C-2", "y"),
        r#"{"case":"C-404","type":"HearingHeld","held_on":"2024-02-01","place":"Rabat"}"#
    );
    let err = w
        .append(
            parse_events("b", &bad).expect("parses"),
            &officer,
            NOW,
            None,
        )
        .expect_err("refused");
    assert!(matches!(err, Error::Rejected { index: 1, .. }), "{err}");
    assert_eq!(std::fs::read(dir.join("checkpoint")).expect("read"), before);
    assert_eq!(
        blob_count(&dir),
        blobs_before,
        "no blob of the refused batch stays"
    );
    // C-2 was applied to the view before the batch was refused: the view must have been
    // rolled back, or opening C-2 again would be refused as a duplicate.
    append(&mut w, &officer, &complaint("C-2", "z"));
    // init wrote 2 entries (RegisterOpened, IndexCommitted); each batch adds its events and
    // an IndexCommitted.
    assert_eq!(w.size(), 6);
    let report = audit_dir(&dir);
    assert_eq!(report.entries, 6);
}

#[test]
fn an_erasure_deletes_the_blob_and_the_log_still_verifies() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "secret detail"));
    assert_eq!(blob_count(&dir), 1);
    let erase = r#"{"case":"C-1","type":"Erasure","target":2,"reason":"art. 8"}"#;
    append(&mut w, &officer, erase);
    assert_eq!(blob_count(&dir), 0, "the erased text is gone");
    assert!(
        !dir.join("private/pending").exists(),
        "the journal is removed"
    );
    let report = audit_dir(&dir);
    assert_eq!((report.blobs_checked, report.blobs_erased), (0, 1));
}

#[test]
fn the_journal_of_an_uncommitted_batch_removes_its_blobs_on_open() {
    let (_tmp, dir, _officer) = new_register();
    // What a batch killed after its fsync round but before the checkpoint rename leaves.
    let orphan = "ab".repeat(32);
    std::fs::create_dir_all(dir.join("blobs")).expect("mkdir");
    std::fs::write(dir.join("blobs").join(&orphan), b"salt and text").expect("write");
    let journal = format!(r#"{{"target_size":5,"new_blobs":["{orphan}"],"erase":[]}}"#);
    std::fs::write(dir.join("private/pending"), journal).expect("write");
    RegisterWriter::open(&dir, None).expect("recovers");
    assert!(!dir.join("blobs").join(&orphan).exists());
    assert!(!dir.join("private/pending").exists());
}

#[test]
fn the_journal_of_a_committed_erasure_finishes_it_on_open() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    let blob = only_blob(&dir);
    let name = blob
        .file_name()
        .expect("a file")
        .to_string_lossy()
        .into_owned();
    let kept = std::fs::read(&blob).expect("read");
    append(
        &mut w,
        &officer,
        r#"{"case":"C-1","type":"Erasure","target":2,"reason":"art. 8"}"#,
    );
    drop(w);
    // The Erasure committed (size 6 ≥ target 6) but the process died before deleting.
    std::fs::write(&blob, kept).expect("write");
    std::fs::write(
        dir.join("private/pending"),
        format!(r#"{{"target_size":6,"new_blobs":[],"erase":["{name}"]}}"#),
    )
    .expect("write");
    RegisterWriter::open(&dir, None).expect("recovers");
    assert!(!blob.exists(), "the erasure was finished");
}

#[test]
fn a_snapshot_that_does_not_match_the_log_is_rebuilt_not_trusted() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    drop(w);
    // The snapshot on disk is the one init wrote (size 2); corrupt it.
    let snap = dir.join("private/view.snapshot");
    let mut bytes = std::fs::read(&snap).expect("snapshot exists");
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&snap, &bytes).expect("write");
    let w = RegisterWriter::open(&dir, None).expect("rebuilds");
    assert_eq!(w.register_head().size, 4);
    assert_eq!(w.next_case_link("C-1").expect("state").seq, 1);
    drop(w);
    let r = RegisterReader::open(&dir, None).expect("rebuilds");
    assert!(r
        .view()
        .case(
            "C-1",
            sijil_core::event::Date::from_ymd(2025, 1, 1).expect("date")
        )
        .is_some());
}

/// The size recorded in the snapshot on disk.
fn snapshot_size(dir: &Path) -> u64 {
    let bytes = std::fs::read(dir.join("private/view.snapshot")).expect("snapshot exists");
    sijil_projector::View::from_snapshot(&bytes)
        .expect("snapshot decodes")
        .1
}

/// `n` complaints without text, as one events file.
fn complaints(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| {
            format!(
                r#"{{"case":"K-{i}","type":"ComplaintReceived","controller":{{"id":"acme","name":"ACME"}},"categories":["privacy"],"received_on":"2024-01-02"}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn issue9_a_log_grown_by_small_batches_across_opens_still_gets_snapshots() {
    // Issue 9, defect 1: each open took the log's size for the snapshot's, so a register
    // grown by batches smaller than the interval (16,384), each in its own process, kept its
    // init snapshot forever and every append replayed the whole log.
    let (_tmp, dir, officer) = new_register();
    for round in 0..2 {
        let mut w = RegisterWriter::open(&dir, None).expect("open");
        append(&mut w, &officer, &complaints(round * 10_000, 10_000));
    }
    assert_eq!(
        snapshot_size(&dir),
        20_004,
        "the second open must count the entries since the snapshot on disk"
    );
    // An open that replays more than an interval saves what it replayed.
    std::fs::copy(
        dir.join("private/view.snapshot"),
        dir.join("private/keep.snapshot"),
    )
    .expect("copy");
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaints(20_000, 16_384));
    drop(w);
    std::fs::rename(
        dir.join("private/keep.snapshot"),
        dir.join("private/view.snapshot"),
    )
    .expect("restore the older snapshot");
    drop(RegisterWriter::open(&dir, None).expect("open"));
    assert_eq!(snapshot_size(&dir), 36_389);
}

#[test]
fn issue9_a_batch_that_fails_before_its_commit_leaves_no_blob_behind() {
    // Issue 9, defect 2: the blobs of a failed batch stayed in blobs/ (and were served).
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "kept"));
    let blobs_before = blob_count(&dir);
    // Make the batch's bundle unwritable: tile/entries is a file, not a directory.
    std::fs::rename(dir.join("tile/entries"), dir.join("tile/entries.away")).expect("mv");
    std::fs::write(dir.join("tile/entries"), b"in the way").expect("write");
    let err = w
        .append(
            parse_events("t", &complaint("C-2", "never committed")).expect("parses"),
            &officer,
            NOW,
            None,
        )
        .expect_err("the bundle cannot be written");
    assert!(!err.to_string().contains("IS committed"), "{err}");
    assert_eq!(
        blob_count(&dir),
        blobs_before,
        "the failed batch's blob is gone"
    );
    assert!(!dir.join("private/pending").exists());
    std::fs::remove_file(dir.join("tile/entries")).expect("rm");
    std::fs::rename(dir.join("tile/entries.away"), dir.join("tile/entries")).expect("mv");
    // The same writer goes on, and the register audits clean (no blob unnamed).
    append(&mut w, &officer, &complaint("C-2", "committed"));
    drop(w);
    assert_eq!(audit_dir(&dir).checkpoint.checkpoint.size, 6);
}

#[test]
fn issue9_audit_reports_a_blob_that_no_entry_names() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    drop(w);
    let orphan = sijil_core::blob::Blob::new("jamais enregistré".into()).expect("blob");
    let name = sijil_core::blob::blob_path(&orphan.digest());
    std::fs::write(dir.join(&name), orphan.to_bytes()).expect("write");
    let reader = RegisterReader::open(&dir, None).expect("opens");
    let err = audit(
        &DirSource::new(&dir),
        reader.verifier(),
        AuditOptions::default(),
        &mut |_, _| {},
    )
    .expect_err("an unnamed blob fails the audit");
    let text = err.to_string();
    assert!(
        text.contains(&name) && text.contains("named by no committed entry"),
        "{text}"
    );
    assert!(err.is_unverified());
}

#[test]
fn issue9_the_writer_refuses_to_extend_a_register_whose_blob_is_altered() {
    // Issue 9, defect 4: verify rejected the register, append extended it.
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    drop(w);
    let blob = only_blob(&dir);
    let mut bytes = std::fs::read(&blob).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&blob, &bytes).expect("write");
    let reader = RegisterReader::open(&dir, None).expect("opens");
    let audit_err = audit(
        &DirSource::new(&dir),
        reader.verifier(),
        AuditOptions::default(),
        &mut |_, _| {},
    )
    .expect_err("audit rejects it")
    .to_string();
    let err = RegisterWriter::open(&dir, None)
        .expect_err("the writer refuses")
        .to_string();
    assert!(
        err.contains(&audit_err),
        "writer: {err}\naudit: {audit_err}"
    );
    // A missing blob of an entry that was not erased is refused the same way.
    std::fs::remove_file(&blob).expect("rm");
    let err = RegisterWriter::open(&dir, None)
        .expect_err("the writer refuses")
        .to_string();
    assert!(
        err.contains("is missing") && err.contains("not erased"),
        "{err}"
    );
}

#[test]
fn issue9_a_long_lived_writer_finishes_the_erasures_of_a_batch_whose_clean_up_failed() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "à effacer"));
    let blob = only_blob(&dir);
    let kept = std::fs::read(&blob).expect("read");
    // The erased blob cannot be deleted (a directory holding a file stands in its place).
    std::fs::remove_file(&blob).expect("rm");
    std::fs::create_dir(&blob).expect("mkdir");
    std::fs::write(blob.join("x"), b"x").expect("write");
    let err = w
        .append(
            parse_events(
                "e",
                r#"{"case":"C-1","type":"Erasure","target":2,"reason":"art. 8"}"#,
            )
            .expect("parses"),
            &officer,
            NOW,
            None,
        )
        .expect_err("the erasure's clean-up fails");
    assert!(err.to_string().contains("IS committed"), "{err}");
    assert!(matches!(
        err,
        Error::Writer(sijil_core::writer::WriterError::AfterCommit { size: 6, .. })
    ));
    // The disk recovers, holding the text again; the same writer appends a batch with text of
    // its own (whose journal must not replace the unfinished one before it is done).
    std::fs::remove_dir_all(&blob).expect("rm dir");
    std::fs::write(&blob, kept).expect("restore");
    append(&mut w, &officer, &complaint("C-2", "autre texte"));
    assert!(!blob.exists(), "the committed erasure was finished");
    drop(w);
    assert_eq!(audit_dir(&dir).checkpoint.checkpoint.size, 8);
}

/// Appends `event`, signed by `key`, straight to the log with the core writer: what a broken
/// or dishonest writer could publish, which the register's own writer never does.
fn append_raw(
    dir: &Path,
    key: &Signer,
    case: Option<sijil_core::CaseLink>,
    event: sijil_core::Event,
) {
    let log_key = sijil_register::read_private_key(&dir.join("private/log.key")).expect("log key");
    let mut w = sijil_core::writer::Writer::open(dir, log_key).expect("opens");
    let seq = w.size();
    let (entry, bytes) = sijil_core::Entry::sign(
        sijil_core::UnsignedEntry {
            seq,
            prev: w.last_leaf_hash(),
            recorded_at: NOW,
            case,
            event,
        },
        key.signing_key(),
        w.origin(),
    )
    .expect("signs");
    w.commit(&[(entry, bytes)], &[]).expect("commits");
}

#[test]
fn issue10_audit_names_an_index_commitment_whose_root_is_wrong() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    let keys = w.register_head().keys;
    drop(w);
    let log_key = sijil_register::read_private_key(&dir.join("private/log.key")).expect("key");
    append_raw(
        &dir,
        &log_key,
        None,
        sijil_core::Event::IndexCommitted(sijil_core::event::IndexCommitted {
            size: 4,
            keys,
            root: sijil_core::Hash([9; 32]),
        }),
    );
    let reader_err = RegisterReader::open(&dir, None).expect_err("the view refuses it");
    assert!(reader_err.to_string().contains("entry 4"), "{reader_err}");
    let v = log_key.verifier();
    let err = audit(
        &DirSource::new(&dir),
        &v,
        AuditOptions::default(),
        &mut |_, _| {},
    )
    .expect_err("wrong root");
    assert!(
        matches!(
            &err,
            sijil_register::audit::AuditFailure::Rule {
                seq: 4,
                rejection: sijil_projector::Rejection::IndexMismatch { field: "root", .. }
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("entry 4"), "{err}");
}

#[test]
fn issue10_audit_refuses_a_checkpoint_that_does_not_end_with_the_index() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    let link = w.next_case_link("C-1").expect("state");
    drop(w);
    append_raw(
        &dir,
        &officer,
        Some(link),
        sijil_core::Event::HearingHeld(sijil_core::event::HearingHeld {
            held_on: sijil_core::event::Date::from_ymd(2024, 2, 1).expect("date"),
            place: "Rabat".into(),
            summary: None,
        }),
    );
    let log_key = sijil_register::read_private_key(&dir.join("private/log.key")).expect("key");
    let v = log_key.verifier();
    let err = audit(
        &DirSource::new(&dir),
        &v,
        AuditOptions::default(),
        &mut |_, _| {},
    )
    .expect_err("no IndexCommitted at the end");
    assert!(
        err.to_string().contains("does not end with IndexCommitted"),
        "{err}"
    );
}

#[test]
fn issue10_the_writer_ends_every_batch_with_the_index_and_the_index_matches_a_replay() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    let report = w
        .append(
            parse_events("t", &complaints(0, 3)).expect("valid"),
            &officer,
            NOW,
            None,
        )
        .expect("appends");
    assert_eq!(report.seqs, 2..5, "the events' seqs");
    assert_eq!(
        report.checkpoint.checkpoint.size, 6,
        "and the IndexCommitted after them"
    );
    let keys = w.register_head().keys;
    drop(w);
    // register, officer, 3 cases, 1 controller.
    assert_eq!(keys, 6);
    let r = audit_dir(&dir);
    assert_eq!(
        r.view.index().root(),
        RegisterReader::open(&dir, None)
            .expect("opens")
            .view()
            .index()
            .root()
    );
}

/// Appends `count` `IndexCommitted` entries signed by the log key (well signed, whatever
/// their roots) in one commit of the core writer: a long tail after an earlier fault.
fn append_raw_tail(dir: &Path, count: u64) {
    let log_key = sijil_register::read_private_key(&dir.join("private/log.key")).expect("log key");
    let mut w = sijil_core::writer::Writer::open(dir, log_key.clone()).expect("opens");
    let mut prev = w.last_leaf_hash();
    let mut batch = Vec::new();
    for seq in w.size()..w.size() + count {
        let (entry, bytes) = sijil_core::Entry::sign(
            sijil_core::UnsignedEntry {
                seq,
                prev,
                recorded_at: NOW,
                case: None,
                event: sijil_core::Event::IndexCommitted(sijil_core::event::IndexCommitted {
                    size: seq,
                    keys: 0,
                    root: sijil_core::Hash([7; 32]),
                }),
            },
            log_key.signing_key(),
            w.origin(),
        )
        .expect("signs");
        prev = sijil_core::leaf_hash(&bytes);
        batch.push((entry, bytes));
    }
    w.commit(&batch, &[]).expect("commits");
}

/// Flips the last byte of entry bundle `index` (the last entry's signature).
fn break_bundle_signature(dir: &Path, index: u64) {
    let tile = sijil_core::tile::Tile {
        level: sijil_core::tile::TileLevel::Entries,
        index,
        width: 256,
    };
    let path = dir.join(tile.path());
    let mut bytes = std::fs::read(&path).expect("bundle");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&path, bytes).expect("writes");
}

/// Audits step by step (one bundle per step), recording the steps handed to the sink.
fn audit_steps(dir: &Path) -> (Result<(), String>, Vec<(u64, u64)>) {
    let log_key = sijil_register::read_private_key(&dir.join("private/log.key")).expect("key");
    let mut sunk = Vec::new();
    let checkpoint =
        sijil_register::audit::fetch_checkpoint(&DirSource::new(dir), &log_key.verifier())
            .expect("checkpoint");
    let result = sijil_register::audit::audit_tree(
        &DirSource::new(dir),
        checkpoint,
        &log_key.verifier(),
        None,
        AuditOptions {
            blobs: true,
            bundles_per_step: 1,
        },
        &mut |v| {
            if let (Some(first), Some(last)) = (v.entries.first(), v.entries.last()) {
                sunk.push((first.entry.seq, last.entry.seq));
            }
            Ok(())
        },
        &mut |_, _| {},
    );
    (result.map(|_| ()).map_err(|e| e.to_string()), sunk)
}

/// The rules are replayed on their own thread, a step behind the signature checks: a rule
/// broken in an early step is still the failure reported, though a later step's signature
/// fails first in time, and no step reaches the sink unless it passed.
#[test]
fn issue10_the_replay_s_earlier_failure_comes_before_a_later_bad_signature() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    drop(w);
    // Entry 4 commits a wrong index root; 800 more entries follow; bundle 1, checked while
    // bundle 0 is replayed, is forged.
    append_raw_tail(&dir, 801);
    break_bundle_signature(&dir, 1);
    let (result, sunk) = audit_steps(&dir);
    let err = result.expect_err("broken");
    assert!(err.contains("entry 4"), "{err}");
    assert!(sunk.is_empty(), "a failed step reached the sink: {sunk:?}");
}

/// A later bad signature with every earlier step sound: the steps before it reach the sink,
/// in order, and the signature is the failure.
#[test]
fn issue10_steps_that_passed_the_replay_reach_the_sink_before_a_later_failure() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    let events: String = (0..800)
        .map(|i| complaint(&format!("C-{i}"), "x") + "\n")
        .collect();
    append(&mut w, &officer, &events);
    drop(w);
    assert!(audit_steps(&dir).0.is_ok(), "the untouched register audits");
    break_bundle_signature(&dir, 2);
    let (result, sunk) = audit_steps(&dir);
    let err = result.expect_err("forged");
    assert!(err.contains("entry 767") || err.contains("767"), "{err}");
    assert_eq!(sunk, vec![(0, 255), (256, 511)]);
}

/// A big batch reports its progress: every entry signed, then checked, then the commit.
#[test]
fn issue13_a_batch_reports_its_progress_step_by_step() {
    let (_tmp, dir, officer) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    w.set_progress(Box::new(move |step, done, total| {
        if let Ok(mut s) = sink.lock() {
            s.push((step, done, total));
        }
    }));
    let events: String = (0..1500)
        .map(|i| complaint(&format!("P-{i}"), "x") + "\n")
        .collect();
    append(&mut w, &officer, &events);
    let seen = seen.lock().expect("lock").clone();
    use sijil_register::BatchStep::{Checking, Committing, Signing};
    for step in [Signing, Checking] {
        let counts: Vec<u64> = seen
            .iter()
            .filter(|(s, _, _)| *s == step)
            .map(|(_, d, t)| {
                assert_eq!(*t, 1500);
                *d
            })
            .collect();
        assert_eq!(counts, (1..=1500).collect::<Vec<u64>>(), "{step:?}");
    }
    assert_eq!(
        seen.iter()
            .filter(|(s, _, _)| *s == Committing)
            .collect::<Vec<_>>(),
        vec![&(Committing, 0, 1), &(Committing, 1, 1)]
    );
    let first = |step| seen.iter().position(|(s, _, _)| *s == step);
    assert!(first(Signing) < first(Checking) && first(Checking) < first(Committing));
}

/// A hearing on case `id`, its `n`-th event (whose case link the writer's state gives).
fn hearing(id: &str, day: u32) -> String {
    format!(
        r#"{{"case":"{id}","type":"HearingHeld","held_on":"2024-02-{day:02}","place":"Rabat"}}"#
    )
}

/// The writer's state (issue 9) is a cache of the log: a copy from before the last batch (a
/// crash between the commit and the state's write leaves that) is caught up from the entries
/// it lacks, so the next event of a case it had not seen move gets the right case link.
#[test]
fn issue9_a_writer_state_behind_the_log_is_caught_up_from_the_entries_it_lacks() {
    let (tmp, dir, officer) = new_register();
    let state = dir.join("private/state.redb");
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    drop(w);
    let old = tmp.path().join("state.old");
    std::fs::copy(&state, &old).expect("copy the state");
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &hearing("C-1", 1));
    append(&mut w, &officer, &complaint("C-2", "y"));
    drop(w);
    // Copied over the file in place: a catch-up keeps the file, a rebuild makes a new one.
    std::fs::copy(&old, &state).expect("put the old state back");
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&state).expect("state"));
    let mut w = RegisterWriter::open(&dir, None).expect("catches up");
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&state).expect("state")),
        inode,
        "caught up from the entries it lacked, not rebuilt"
    );
    assert_eq!(w.register_head().size, w.size());
    assert_eq!(w.next_case_link("C-1").expect("state").seq, 2);
    assert_eq!(w.next_case_link("C-2").expect("state").seq, 1);
    append(&mut w, &officer, &hearing("C-1", 2));
    append(&mut w, &officer, &hearing("C-2", 3));
    drop(w);
    assert_eq!(audit_dir(&dir).entries, 12);
}

/// A state that is missing, not a database, of another register, or of a rewritten log is
/// never used: the writer rebuilds it from the log (the snapshot and the tail).
#[test]
fn issue9_a_missing_garbage_or_foreign_writer_state_is_rebuilt_from_the_log() {
    let (_other_tmp, other, other_officer) = new_register();
    let mut w = RegisterWriter::open(&other, None).expect("open");
    append(&mut w, &other_officer, &complaint("X-1", "x"));
    append(&mut w, &other_officer, &hearing("X-1", 1));
    append(&mut w, &other_officer, &hearing("X-1", 2));
    let other_size = w.size();
    drop(w);
    let (_tmp, dir, officer) = new_register();
    let state = dir.join("private/state.redb");
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, &complaint("C-1", "x"));
    drop(w);
    let mut hearings = 0;
    for spoil in ["missing", "garbage", "foreign"] {
        match spoil {
            "missing" => std::fs::remove_file(&state).expect("remove"),
            "garbage" => std::fs::write(&state, b"not a database at all").expect("write"),
            _ => {
                // Another register's state of the same size: only the root tells them apart.
                let w = RegisterWriter::open(&dir, None).expect("open");
                assert_eq!(w.size(), other_size);
                drop(w);
                std::fs::copy(other.join("private/state.redb"), &state).expect("copy");
            }
        }
        let mut w = RegisterWriter::open(&dir, None).unwrap_or_else(|e| panic!("{spoil}: {e}"));
        assert_eq!(
            w.next_case_link("C-1").expect("state").seq,
            1 + hearings,
            "{spoil}"
        );
        assert_eq!(w.next_case_link("X-1").expect("state").seq, 0, "{spoil}");
        hearings += 1;
        append(&mut w, &officer, &hearing("C-1", hearings));
    }
    // Entries 0–1, the complaint's batch (2), and a hearing's batch (2) for each spoil.
    assert_eq!(audit_dir(&dir).entries, 4 + 2 * 3);
}

/// The register `dir` held by a commit point in memory (with its size), and one empty copy
/// per machine named, each with the log key in its `private/`.
fn on_a_commit_point(
    tmp: &tempfile::TempDir,
    dir: &Path,
    machines: &[&str],
) -> (sijil_core::commit::MemoryCommitPoint, u64, Vec<PathBuf>) {
    let size = RegisterReader::open(dir, None)
        .expect("opens")
        .checkpoint()
        .checkpoint
        .size;
    let point = sijil_core::commit::MemoryCommitPoint::holding(dir, size).expect("reads");
    let copies = machines
        .iter()
        .map(|m| {
            let copy = tmp.path().join(m);
            std::fs::create_dir_all(copy.join("private")).expect("mkdir");
            std::fs::copy(dir.join("private/log.key"), copy.join("private/log.key"))
                .expect("the log key, copied to the machine");
            copy
        })
        .collect();
    (point, size, copies)
}

/// Issue 14: two writers on two copies ("machines") of one commit point append at the same
/// time; each lost race is adopted and signed again, so every event is recorded exactly
/// once, both copies end identical, and each passes the audit (rules included).
#[test]
fn writers_on_two_copies_of_one_commit_point_record_every_event_once() {
    let (tmp, dir, officer) = new_register();
    let (point, size, copies) = on_a_commit_point(&tmp, &dir, &["a", "b"]);
    const EACH: usize = 15;
    std::thread::scope(|s| {
        for (m, copy) in copies.iter().enumerate() {
            let (point, officer) = (point.clone(), officer.clone());
            s.spawn(move || {
                let mut w = RegisterWriter::open_at(copy, None, Some(Box::new(point)))
                    .expect("opens its copy");
                for i in 0..EACH {
                    let id = format!("C-{}", 100 * (m + 1) + i);
                    append(&mut w, &officer, &complaint(&id, &format!("texte {id}")));
                }
            });
        }
    });
    // Each append is 1 event + its IndexCommitted.
    assert_eq!(point.size(), size + 2 * 2 * EACH as u64);
    let mut checkpoints = Vec::new();
    for copy in &copies {
        // Reopening adopts what the other machine committed last.
        drop(RegisterWriter::open_at(copy, None, Some(Box::new(point.clone()))).expect("reopens"));
        let report = audit_dir(copy);
        assert_eq!(report.checkpoint.checkpoint.size, point.size());
        checkpoints.push(std::fs::read(copy.join("checkpoint")).expect("reads"));
        let reader = RegisterReader::open(copy, None).expect("opens");
        let cases = reader.view().case_ids().len();
        assert_eq!(cases, 2 * EACH, "every complaint recorded once");
        assert_eq!(blob_count(copy), 2 * EACH, "every text copied");
    }
    assert_eq!(checkpoints[0], checkpoints[1]);
}

/// Issue 14: a writer rotates the log key at the commit point; another writer's copy, signed
/// by the old key, refuses to sign until it is given the new key, then is made again from the
/// commit point and appends.
#[test]
fn a_log_key_rotated_by_another_writer_is_followed_once_the_new_key_is_given() {
    let (tmp, dir, officer) = new_register();
    let (point, size, copies) = on_a_commit_point(&tmp, &dir, &["a", "b"]);
    let (a, b) = (&copies[0], &copies[1]);
    let open = |copy: &Path| RegisterWriter::open_at(copy, None, Some(Box::new(point.clone())));
    let mut wb = open(b).expect("opens b");
    append(&mut wb, &officer, &complaint("C-1", "un"));
    drop(wb);
    let mut wa = open(a).expect("opens a");
    let next = Signer::generate("registre.example.ma/t").expect("a key");
    wa.rotate_log_key(next, "scheduled rotation", NOW)
        .expect("rotates");
    append(&mut wa, &officer, &complaint("C-2", "deux"));
    drop(wa);
    // B still holds the old key: nothing is signed with it.
    let held_old = open(b).and_then(|mut w| {
        w.append(
            parse_events("t", &complaint("C-3", "trois")).expect("valid"),
            &officer,
            NOW,
            None,
        )
    });
    assert!(held_old.is_err(), "{held_old:?}");
    assert_eq!(point.size(), size + 2 + 2 + 2);
    // Given the new key, B's copy (signed by the old one) is made again and appends.
    std::fs::copy(a.join("private/log.key"), b.join("private/log.key")).expect("new key");
    let mut wb = open(b).expect("b reopens with the new key");
    append(&mut wb, &officer, &complaint("C-3", "trois"));
    drop(wb);
    drop(open(a).expect("a adopts"));
    assert_eq!(
        std::fs::read(a.join("checkpoint")).expect("reads"),
        std::fs::read(b.join("checkpoint")).expect("reads")
    );
    let report = audit_dir(b);
    assert_eq!(report.checkpoint.checkpoint.size, point.size());
}
