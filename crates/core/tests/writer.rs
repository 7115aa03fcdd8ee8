//! The single writer: commits, reopening, crash recovery and the lock.

use std::path::{Path, PathBuf};

use sijil_core::bundle;
use sijil_core::commit::MemoryCommitPoint;
use sijil_core::entry::{Entry, UnsignedEntry};
use sijil_core::event::{Event, Officer, OfficerRevoked, PublicKey, RegisterOpened, Role};
use sijil_core::note::Signer;
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::{Tile, TileLevel};
use sijil_core::verify::Auditor;
use sijil_core::writer::{Writer, WriterError};
use sijil_core::{leaf_hash, Hash};

const ORIGIN: &str = "registre.example.ma/test";

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    log_key: Signer,
    officer: Signer,
}

fn fixture() -> (Fixture, Writer) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("reg");
    let log_key = Signer::generate(ORIGIN).expect("valid name");
    let officer = Signer::generate("amina").expect("valid name");
    let genesis = Event::RegisterOpened(RegisterOpened {
        origin: ORIGIN.into(),
        title: "t".into(),
        authority: "a".into(),
        log_key: PublicKey(log_key.public_key()),
        officers: vec![Officer {
            key: PublicKey(officer.public_key()),
            name: "amina".into(),
            role: Role::Admin,
        }],
    });
    let signed = Entry::sign(
        UnsignedEntry {
            seq: 0,
            prev: Hash::ZERO,
            recorded_at: 1_000,
            case: None,
            event: genesis,
        },
        officer.signing_key(),
        ORIGIN,
    )
    .expect("signs");
    let w = Writer::create(&dir, log_key.clone(), &[signed], &[]).expect("creates");
    (
        Fixture {
            _tmp: tmp,
            dir,
            log_key,
            officer,
        },
        w,
    )
}

/// `n` filler entries continuing the writer's log (register-level events; the writer does
/// not apply the register's rules).
fn batch(f: &Fixture, w: &Writer, n: u64) -> Vec<(Entry, Vec<u8>)> {
    labelled_batch(f, w, n, "filler")
}

/// [`batch`] whose events say `label`: two writers' batches for one size differ by it.
fn labelled_batch(f: &Fixture, w: &Writer, n: u64, label: &str) -> Vec<(Entry, Vec<u8>)> {
    let mut prev = w.last_leaf_hash();
    (0..n)
        .map(|i| {
            let seq = w.size() + i;
            let event = Event::OfficerRevoked(OfficerRevoked {
                key: PublicKey([3; 32]),
                reason: format!("{label} {seq}"),
            });
            let unsigned = UnsignedEntry {
                seq,
                prev,
                recorded_at: 1_000 + seq as i64,
                case: None,
                event,
            };
            let (e, b) = Entry::sign(unsigned, f.officer.signing_key(), ORIGIN).expect("signs");
            prev = leaf_hash(&b);
            (e, b)
        })
        .collect()
}

/// Audits the directory completely: every bundle, every rebuilt tile against the files.
fn audit(dir: &Path, w_size: u64, root: Hash) {
    let layout = Layout::new(dir);
    let tiles = DirTiles::new(layout);
    let mut a = Auditor::new(sijil_core::Checkpoint::new(ORIGIN, w_size, root));
    for index in 0..a.bundle_count() {
        let t = a.bundle_tile(index).expect("in range");
        let data = tiles.read_tile(&t).expect("bundle exists");
        let (_, full) = a.push_bundle(index, &data).expect("valid bundle");
        for (tile, rebuilt) in full {
            assert_eq!(
                tiles.read_tile(&tile).expect("tile exists"),
                rebuilt,
                "{}",
                tile.path()
            );
        }
    }
    for (tile, rebuilt) in a.finish().expect("root matches") {
        assert_eq!(
            tiles.read_tile(&tile).expect("partial exists"),
            rebuilt,
            "{}",
            tile.path()
        );
    }
}

#[test]
fn commits_across_tile_boundaries_and_reopens() {
    let (f, mut w) = fixture();
    for n in [1, 254, 1, 300, 1000, 7] {
        let b = batch(&f, &w, n);
        w.commit(&b, &[]).expect("commits");
        audit(&f.dir, w.size(), w.checkpoint().checkpoint.root);
    }
    assert_eq!(w.size(), 1564);
    let (size, root, last) = (w.size(), w.checkpoint().checkpoint.root, w.last_leaf_hash());
    drop(w);
    let w = Writer::open(&f.dir, f.log_key.clone()).expect("reopens");
    assert_eq!(
        (w.size(), w.checkpoint().checkpoint.root, w.last_leaf_hash()),
        (size, root, last)
    );
    // Superseded partial tiles are gone once the full tile exists; the current ones stay.
    assert!(!f.dir.join("tile/entries/000.p").exists());
    assert!(f.dir.join("tile/entries/006.p/28").is_file());
    assert!(f.dir.join("tile/0/006.p/28").is_file());
    assert!(f.dir.join("tile/1/000.p/6").is_file());
}

#[test]
fn second_writer_is_refused() {
    let (f, w) = fixture();
    let err = Writer::open(&f.dir, f.log_key.clone()).expect_err("locked");
    assert!(matches!(err, WriterError::Locked { .. }), "{err}");
    drop(w);
    Writer::open(&f.dir, f.log_key.clone()).expect("free again");
}

#[test]
fn leftovers_of_an_uncommitted_batch_are_removed() {
    let (f, mut w) = fixture();
    let b = batch(&f, &w, 10);
    w.commit(&b, &[]).expect("commits");
    drop(w);
    // What a batch killed before its checkpoint rename leaves behind.
    let junk = [
        "tile/entries/000.p/20",
        "tile/0/000.p/20",
        "tile/0/000",
        "tile/entries/001.p/3",
        "tile/1/000.p/1",
        "blobs/../private/checkpoint.new",
    ];
    for j in junk {
        let p = f.dir.join(j);
        std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
        std::fs::write(&p, b"garbage").expect("write");
    }
    let w = Writer::open(&f.dir, f.log_key.clone()).expect("recovers");
    assert_eq!(w.size(), 11);
    for j in junk {
        assert!(!f.dir.join(j).exists(), "{j} should be removed");
    }
    assert!(
        f.dir.join("tile/entries/000.p/11").is_file(),
        "the committed partial stays"
    );
    assert!(
        f.dir.join("tile/entries/000.p/1").is_file(),
        "a published size's partial stays"
    );
}

#[test]
fn a_complete_temporary_checkpoint_is_rolled_forward() {
    let (f, mut w) = fixture();
    let b = batch(&f, &w, 10);
    w.commit(&b, &[]).expect("commits");
    let old = std::fs::read(f.dir.join("checkpoint")).expect("read");
    let b = batch(&f, &w, 300);
    w.commit(&b, &[]).expect("commits");
    let (size, root) = (w.size(), w.checkpoint().checkpoint.root);
    let new = std::fs::read(f.dir.join("checkpoint")).expect("read");
    drop(w);
    // The crash came after the new checkpoint was fsynced but before the rename.
    std::fs::write(f.dir.join("private/checkpoint.new"), &new).expect("write");
    std::fs::write(f.dir.join("checkpoint"), &old).expect("write");
    let w = Writer::open(&f.dir, f.log_key.clone()).expect("recovers");
    assert_eq!((w.size(), w.checkpoint().checkpoint.root), (size, root));
    assert!(!f.dir.join("private/checkpoint.new").exists());
    audit(&f.dir, size, root);
}

#[test]
fn a_temporary_checkpoint_by_another_key_is_discarded() {
    let (f, mut w) = fixture();
    let b = batch(&f, &w, 3);
    w.commit(&b, &[]).expect("commits");
    drop(w);
    let other = Signer::generate(ORIGIN).expect("valid");
    let forged = sijil_core::SignedCheckpoint::sign(
        sijil_core::Checkpoint::new(ORIGIN, 9, Hash([1; 32])),
        &other,
    )
    .expect("signs");
    std::fs::write(f.dir.join("private/checkpoint.new"), &forged.bytes).expect("write");
    let w = Writer::open(&f.dir, f.log_key.clone()).expect("recovers");
    assert_eq!(w.size(), 4);
    assert!(!f.dir.join("private/checkpoint.new").exists());
}

#[test]
fn a_flipped_byte_in_the_edge_is_found_on_open() {
    let (f, mut w) = fixture();
    let b = batch(&f, &w, 5);
    w.commit(&b, &[]).expect("commits");
    drop(w);
    for path in ["tile/0/000.p/6", "tile/entries/000.p/6", "checkpoint"] {
        let p = f.dir.join(path);
        let good = std::fs::read(&p).expect("read");
        let mut bad = good.clone();
        let at = bad.len() / 2;
        bad[at] ^= 0x20;
        std::fs::write(&p, &bad).expect("write");
        let err = Writer::open(&f.dir, f.log_key.clone()).expect_err("corrupt");
        assert!(
            matches!(
                err,
                WriterError::Corrupt { .. } | WriterError::Checkpoint { .. }
            ),
            "{path}: {err}"
        );
        std::fs::write(&p, &good).expect("restore");
    }
    Writer::open(&f.dir, f.log_key.clone()).expect("good again");
}

#[test]
fn out_of_sequence_and_broken_chain_are_refused() {
    let (f, mut w) = fixture();
    let mut b = batch(&f, &w, 2);
    b.swap(0, 1);
    assert!(matches!(
        w.commit(&b, &[]),
        Err(WriterError::OutOfSequence { size: 1, got: 2 })
    ));
    let b = batch(&f, &w, 2);
    let c = vec![b[1].clone()];
    assert!(matches!(
        w.commit(&c, &[]),
        Err(WriterError::OutOfSequence { .. })
    ));
    assert_eq!(w.size(), 1);
    let data = DirTiles::new(Layout::new(&f.dir))
        .read_tile(&Tile {
            level: TileLevel::Entries,
            index: 0,
            width: 1,
        })
        .expect("genesis bundle");
    assert_eq!(bundle::parse(&data).expect("parses").len(), 1);
}

fn no_progress() -> impl FnMut(u64, u64) {
    |_, _| {}
}

#[test]
fn writers_sharing_a_commit_point_commit_once_each_size_and_adopt_each_others_batches() {
    let (f, mut a) = fixture();
    let point = MemoryCommitPoint::holding(&f.dir, a.size()).expect("reads");
    a.set_commit_point(Box::new(point.clone()));
    let dir_b = f.dir.with_file_name("copy-b");
    let mut b = Writer::create_copy(
        &dir_b,
        f.log_key.clone(),
        Box::new(point.clone()),
        &mut no_progress(),
    )
    .expect("copies the log");
    assert_eq!(b.checkpoint().bytes, a.checkpoint().bytes);

    // A commits first; B's batch, signed for the old size, loses and writes nothing.
    let for_b = labelled_batch(&f, &b, 5, "B");
    let batch_a = batch(&f, &a, 300);
    a.commit(&batch_a, &[]).expect("A commits");
    match b.commit(&for_b, &[]) {
        Err(WriterError::CommitPoint(sijil_core::commit::CommitPointError::Conflict {
            expected: 1,
            actual: 301,
            ..
        })) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(b.size(), 1);
    let on_disk = std::fs::read(dir_b.join("checkpoint")).expect("reads");
    assert_eq!(on_disk, b.checkpoint().bytes, "B's copy is unchanged");
    assert!(
        !dir_b.join("tile/entries/000").exists(),
        "nothing of B's batch written"
    );

    // B adopts A's batch: the same checkpoint, tiles and bundles.
    assert_eq!(b.adopt(&mut no_progress()).expect("adopts"), 300);
    assert_eq!(b.checkpoint().bytes, a.checkpoint().bytes);
    audit(&dir_b, 301, b.checkpoint().checkpoint.root);

    // Then B commits (with a text), and A adopts it, text included; an erasure removes it.
    let blob = sijil_core::blob::Blob::new("un texte".into()).expect("a text");
    let name = PathBuf::from(sijil_core::blob::blob_path(&blob.digest()));
    let batch_b = batch(&f, &b, 10);
    b.commit(&batch_b, &[(name.clone(), blob.to_bytes())])
        .expect("B commits");
    assert_eq!(a.adopt(&mut no_progress()).expect("adopts"), 10);
    assert_eq!(a.checkpoint().bytes, b.checkpoint().bytes);
    assert_eq!(
        std::fs::read(f.dir.join(&name)).expect("text copied"),
        blob.to_bytes()
    );
    let batch_b = batch(&f, &b, 1);
    b.commit_erasing(&batch_b, &[], std::slice::from_ref(&name))
        .expect("B commits an erasure");
    assert!(!point.holds(&name.to_string_lossy()));
    a.adopt(&mut no_progress()).expect("adopts");
    assert!(
        !f.dir.join(&name).exists(),
        "the erased text is gone from A's copy"
    );
    audit(&f.dir, a.size(), a.checkpoint().checkpoint.root);
    // Every size was committed once.
    assert_eq!(point.size(), 312);
}

#[test]
fn a_commit_point_behind_the_copy_is_refused() {
    let (f, mut a) = fixture();
    let old = MemoryCommitPoint::holding(&f.dir, a.size()).expect("reads");
    let entries = batch(&f, &a, 3);
    a.commit(&entries, &[]).expect("commits");
    // The database restored from a backup taken before that batch.
    a.set_commit_point(Box::new(old));
    match a.adopt(&mut no_progress()) {
        Err(
            e @ WriterError::CommitPointBehind {
                size: 1,
                copy_size: 4,
                ..
            },
        ) => {
            assert!(e.to_string().contains("restored"), "{e}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn an_altered_bundle_at_the_commit_point_is_not_adopted() {
    let (f, mut a) = fixture();
    let point = MemoryCommitPoint::holding(&f.dir, a.size()).expect("reads");
    a.set_commit_point(Box::new(point.clone()));
    let dir_b = f.dir.with_file_name("copy-b");
    let mut b = Writer::create_copy(
        &dir_b,
        f.log_key.clone(),
        Box::new(point.clone()),
        &mut no_progress(),
    )
    .expect("copies");
    let entries = batch(&f, &a, 4);
    a.commit(&entries, &[]).expect("commits");
    let other = labelled_batch(&f, &b, 4, "forged");
    let forged = bundle::encode(
        &std::iter::once(std::fs::read(dir_b.join("tile/entries/000.p/1")).expect("genesis"))
            .map(|g| bundle::parse(&g).expect("parses")[0].to_vec())
            .chain(other.iter().map(|(_, b)| b.clone()))
            .collect::<Vec<_>>(),
    )
    .expect("encodes");
    point.replace("tile/entries/000.p/5", forged);
    match b.adopt(&mut no_progress()) {
        Err(WriterError::CommitPointCorrupt { what, .. }) => {
            assert!(what.contains("root"), "{what}");
        }
        other => panic!("expected corruption, got {other:?}"),
    }
    assert_eq!(b.size(), 1, "nothing adopted");
}

#[test]
fn a_follower_copies_and_follows_the_log_with_the_verifier_key_only() {
    use sijil_core::writer::Follower;
    let (f, mut a) = fixture();
    let point = MemoryCommitPoint::holding(&f.dir, a.size()).expect("reads");
    a.set_commit_point(Box::new(point.clone()));
    let dir_r = f.dir.with_file_name("replica");
    let follow = |dir: &Path, verifier| {
        Follower::open(dir, verifier, Box::new(point.clone()), &mut no_progress())
    };
    let mut r = follow(&dir_r, f.log_key.verifier()).expect("follows");
    assert_eq!(r.checkpoint().bytes, a.checkpoint().bytes);
    let entries = batch(&f, &a, 260);
    a.commit(&entries, &[]).expect("commits");
    assert_eq!(r.adopt(&mut no_progress()).expect("adopts"), 260);
    assert_eq!(r.checkpoint().bytes, a.checkpoint().bytes);
    audit(&dir_r, a.size(), a.checkpoint().checkpoint.root);
    drop(r);
    // Reopened: its own checkpoint and edge are checked, then it adopts what is new.
    let entries = batch(&f, &a, 3);
    a.commit(&entries, &[]).expect("commits");
    let r = follow(&dir_r, f.log_key.verifier()).expect("reopens");
    assert_eq!(r.checkpoint().bytes, a.checkpoint().bytes);
    drop(r);
    // A log signed by another key than the one trusted is not followed.
    let other = Signer::generate(ORIGIN).expect("a key");
    match follow(&f.dir.with_file_name("elsewhere"), other.verifier()) {
        Err(WriterError::Checkpoint { .. }) => {}
        other => panic!("expected a refused signature, got {other:?}"),
    }
}
