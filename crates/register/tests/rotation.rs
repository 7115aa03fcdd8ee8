//! `LogKeyRotated` on disk (docs/FORMAT.md §3.1): the writer's rotation batch, the key files,
//! and recovery from a crash at each step of it.

use std::path::{Path, PathBuf};

use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::event::PublicKey;
use sijil_core::note::Signer;
use sijil_register::audit::{audit, AuditFailure, AuditOptions, DirSource};
use sijil_register::{
    init, parse_events, read_private_key, Error, InitOptions, RegisterReader, RegisterWriter,
};

const NOW: i64 = 1_750_000_000_000;
const ORIGIN: &str = "registre.example.ma/t";

fn new_register() -> (tempfile::TempDir, PathBuf, Signer, Signer) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("reg");
    let report = init(
        &dir,
        InitOptions {
            origin: ORIGIN.into(),
            title: "t".into(),
            authority: "a".into(),
            officer_name: "amina".into(),
            now_ms: NOW,
            log_key: None,
            officer_key: None,
        },
    )
    .expect("init");
    let log_key = read_private_key(&dir.join("private/log.key")).expect("log key");
    (tmp, dir, report.officer, log_key)
}

fn append(w: &mut RegisterWriter, officer: &Signer, id: &str) {
    let text = format!(
        r#"{{"case":"{id}","type":"ComplaintReceived","controller":{{"id":"acme","name":"ACME"}},"categories":["privacy"],"received_on":"2024-01-02"}}"#
    );
    w.append(
        parse_events("test", &text).expect("valid events"),
        officer,
        NOW,
        None,
    )
    .expect("appends");
}

fn audit_with(
    dir: &Path,
    key: &Signer,
) -> Result<sijil_register::audit::AuditReport, AuditFailure> {
    audit(
        &DirSource::new(dir),
        &key.verifier(),
        AuditOptions::default(),
        &mut |_, _| {},
    )
}

fn pk(s: &Signer) -> PublicKey {
    PublicKey(s.public_key())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for item in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = item.path();
        let target = to.join(item.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

fn key_file(dir: &Path) -> PublicKey {
    pk(&read_private_key(&dir.join("private/log.key")).expect("log.key"))
}

#[test]
fn a_rotation_is_one_batch_and_the_new_key_signs_from_then_on() {
    let (_tmp, dir, officer, old) = new_register();
    let new = Signer::generate(ORIGIN).expect("key");
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    append(&mut w, &officer, "C-1");
    let report = w
        .rotate_log_key(new.clone(), "annual rotation", NOW)
        .expect("rotates");
    let at = report.seqs.start;
    // The rotation and its IndexCommitted, the checkpoint by the new key only.
    assert_eq!(report.checkpoint.checkpoint.size, at + 2);
    SignedCheckpoint::open(&report.checkpoint.bytes, &new.verifier()).expect("new key signs");
    assert!(SignedCheckpoint::open(&report.checkpoint.bytes, &old.verifier()).is_err());
    assert_eq!(pk(w.log_key()), pk(&new));
    assert_eq!(key_file(&dir), pk(&new));
    assert!(!dir.join("private/log.key.next").exists());
    // The next batch is signed by the new key, in this writer and after a reopen.
    append(&mut w, &officer, "C-2");
    drop(w);
    let mut w = RegisterWriter::open(&dir, None).expect("reopens with the new key");
    append(&mut w, &officer, "C-3");
    let info = w.register_head().register.clone().expect("open");
    assert_eq!(info.log_key, pk(&new));
    assert_eq!(info.retired_at(&pk(&old)), Some(at));
    drop(w);
    // A verifier holding the genesis key follows the rotation; one holding the new key too.
    let followed = audit_with(&dir, &old).expect("audits from the old key");
    assert_eq!(followed.followed.rotations, vec![(at, pk(&new))]);
    assert_eq!(
        followed.log_verifier.to_string(),
        new.verifier().to_string()
    );
    let direct = audit_with(&dir, &new).expect("audits from the new key");
    assert!(direct.followed.rotations.is_empty());
    // The reader (what `serve` and `show` use) follows it from the genesis key.
    let reader = RegisterReader::open(&dir, None).expect("reader");
    assert_eq!(reader.verifier().to_string(), new.verifier().to_string());
}

#[test]
fn a_refused_rotation_writes_nothing_and_keeps_the_key() {
    let (_tmp, dir, officer, old) = new_register();
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    let before = std::fs::read(dir.join("checkpoint")).expect("read");
    // The officer's key cannot become the log's.
    let err = w
        .rotate_log_key(
            Signer::from_seed(ORIGIN, &officer.signing_key().to_bytes()).expect("key"),
            "x",
            NOW,
        )
        .expect_err("an officer key");
    assert!(matches!(err, Error::Rejected { .. }), "{err}");
    // Nor a key named by another origin.
    let other = Signer::generate("other.example/x").expect("key");
    assert!(matches!(
        w.rotate_log_key(other, "x", NOW),
        Err(Error::Rotation { .. })
    ));
    assert_eq!(std::fs::read(dir.join("checkpoint")).expect("read"), before);
    assert!(!dir.join("private/log.key.next").exists());
    assert_eq!(pk(w.log_key()), pk(&old));
    append(&mut w, &officer, "C-1");
    drop(w);
    audit_with(&dir, &old).expect("audits");
}

/// The states a crash can leave, rebuilt from a register before and after a rotation: the
/// register reopens at its last committed state, signing with the key that state names.
#[test]
fn a_crash_at_any_step_of_a_rotation_reopens_with_the_right_key() {
    let (tmp, dir, officer, old) = new_register();
    {
        let mut w = RegisterWriter::open(&dir, None).expect("open");
        append(&mut w, &officer, "C-1");
    }
    let before = tmp.path().join("before");
    copy_dir(&dir, &before);
    let new = Signer::generate(ORIGIN).expect("key");
    let size_after = {
        let mut w = RegisterWriter::open(&dir, None).expect("open");
        w.rotate_log_key(new.clone(), "annual rotation", NOW)
            .expect("rotates")
            .checkpoint
            .checkpoint
            .size
    };
    let after = dir;
    let new_file = new.private_key_string();

    // 1. The new key is durable, nothing of the batch is: the rotation did not happen, the
    //    unused key is removed, and the old key signs.
    let s1 = tmp.path().join("s1");
    copy_dir(&before, &s1);
    std::fs::write(s1.join("private/log.key.next"), &new_file).expect("write");
    std::fs::write(s1.join("private/log.key.next.tmp"), "PRIVATE+KEY+torn").expect("write");
    {
        let mut w = RegisterWriter::open(&s1, None).expect("reopens");
        assert_eq!(pk(w.log_key()), pk(&old));
        assert!(!s1.join("private/log.key.next").exists());
        assert!(!s1.join("private/log.key.next.tmp").exists());
        append(&mut w, &officer, "C-2");
    }
    audit_with(&s1, &old).expect("audits");

    // 2. The batch's files and its checkpoint (signed by the new key) are written, the rename
    //    that commits it is not: recovery rolls it forward, and the new key signs.
    let s2 = tmp.path().join("s2");
    copy_dir(&before, &s2);
    copy_dir(&after.join("tile"), &s2.join("tile"));
    std::fs::copy(after.join("checkpoint"), s2.join("private/checkpoint.new")).expect("copy");
    std::fs::write(s2.join("private/log.key.next"), &new_file).expect("write");
    {
        let mut w = RegisterWriter::open(&s2, None).expect("reopens");
        assert_eq!(w.size(), size_after, "rolled forward");
        assert_eq!(pk(w.log_key()), pk(&new));
        assert_eq!(key_file(&s2), pk(&new));
        assert!(!s2.join("private/log.key.next").exists());
        append(&mut w, &officer, "C-2");
    }
    audit_with(&s2, &old).expect("audits, following the rotation");

    // 3. The same, but the batch's tiles never reached the disk: nothing to roll forward; the
    //    old key signs and the unused new key goes.
    let s3 = tmp.path().join("s3");
    copy_dir(&before, &s3);
    std::fs::copy(after.join("checkpoint"), s3.join("private/checkpoint.new")).expect("copy");
    std::fs::write(s3.join("private/log.key.next"), &new_file).expect("write");
    {
        let w = RegisterWriter::open(&s3, None).expect("reopens");
        assert_eq!(pk(w.log_key()), pk(&old));
        assert!(!s3.join("private/log.key.next").exists());
    }

    // 4. Committed (the checkpoint renamed into place), the key swap not done: it is done on
    //    open.
    let s4 = tmp.path().join("s4");
    copy_dir(&after, &s4);
    std::fs::copy(before.join("private/log.key"), s4.join("private/log.key")).expect("copy");
    std::fs::write(s4.join("private/log.key.next"), &new_file).expect("write");
    {
        let mut w = RegisterWriter::open(&s4, None).expect("reopens");
        assert_eq!(pk(w.log_key()), pk(&new));
        assert_eq!(key_file(&s4), pk(&new));
        assert!(!s4.join("private/log.key.next").exists());
        append(&mut w, &officer, "C-2");
    }
    audit_with(&s4, &old).expect("audits");

    // 5. Committed, and the new key lost: the writer refuses to sign with the old one.
    let s5 = tmp.path().join("s5");
    copy_dir(&after, &s5);
    std::fs::copy(before.join("private/log.key"), s5.join("private/log.key")).expect("copy");
    let err = RegisterWriter::open(&s5, None).expect_err("no key for the log");
    assert!(
        matches!(err, Error::LogKeyNotHeld { named, held, .. } if named == pk(&new) && held == pk(&old)),
        "{err}"
    );
    assert!(
        err.to_string().contains("the log's current log key is"),
        "{err}"
    );
}

#[test]
fn a_checkpoint_signed_by_the_retired_key_is_refused_naming_the_rotation() {
    let (_tmp, dir, officer, old) = new_register();
    let at = {
        let mut w = RegisterWriter::open(&dir, None).expect("open");
        append(&mut w, &officer, "C-1");
        let new = Signer::generate(ORIGIN).expect("key");
        let at = w
            .rotate_log_key(new, "compromise suspected", NOW)
            .expect("rotates")
            .seqs
            .start;
        append(&mut w, &officer, "C-2");
        at
    };
    // The old key signs the real tree past its rotation.
    let real = std::fs::read(dir.join("checkpoint")).expect("read");
    let note = sijil_core::Note::parse(&real).expect("note");
    let cp = Checkpoint::parse(&note.text).expect("checkpoint");
    let forged = SignedCheckpoint::sign(cp, &old).expect("signs");
    std::fs::write(dir.join("checkpoint"), &forged.bytes).expect("write");
    let err = audit_with(&dir, &old).expect_err("retired key");
    let message = err.to_string();
    assert!(
        message.contains(&format!("which was retired at entry {at}")),
        "{message}"
    );
    let err = RegisterReader::open(&dir, None).expect_err("retired key");
    assert!(
        err.to_string().contains(&format!("retired at entry {at}")),
        "{err}"
    );
}
