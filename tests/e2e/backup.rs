//! Issue 13, the operator: `sijil backup` while appends go on, and `sijil restore`, which
//! never lets a register sign behind a checkpoint seen elsewhere (docs/OPERATIONS.md,
//! "Backup and restore"), through the built binary.

use std::path::Path;

use crate::util::{complaint, fails, hearing, ok, s, sijil, Register};

fn size_of(dir: &Path) -> u64 {
    let cp = std::fs::read_to_string(dir.join("checkpoint")).expect("checkpoint");
    cp.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("a size line")
}

fn append_case(reg: &Register, id: &str) {
    let events = reg.events(&format!("{id}.jsonl"), &[complaint(id), hearing(id)]);
    reg.append(&events);
}

#[test]
fn issue13_backup_during_appends_then_restore_and_audit() {
    let reg = Register::new();
    append_case(&reg, "2024-0001");
    let backup = reg.tmp.path().join("backup");
    std::thread::scope(|scope| {
        let appender = scope.spawn(|| {
            for i in 2..=25 {
                append_case(&reg, &format!("2024-{i:04}"));
            }
        });
        // Backups into the same directory while the appends run: each one a consistent copy
        // of the checkpoint it started from, the later ones bringing it forward.
        let mut runs = 0;
        while !appender.is_finished() || runs == 0 {
            let out = ok(&["backup", reg.dir(), s(&backup)]);
            assert!(out.starts_with("Backed up "), "{out}");
            runs += 1;
        }
        appender.join().expect("appends");
    });
    let during = size_of(&backup);
    assert!(during >= 5, "the backup holds a checkpoint: {during}");
    ok(&["audit", s(&backup), "--key", &reg.vkey]);
    assert!(
        backup.join("private/register/log.key").is_file(),
        "the log key is kept"
    );
    assert!(
        !backup.join("private/log.key").exists(),
        "a backup is not a register one can append to"
    );

    // Restored where nothing was: no checkpoint to compare with, so it must be said.
    let restored = reg.tmp.path().join("restored");
    fails(
        &["restore", s(&backup), s(&restored)],
        2,
        "nothing to check the backup against",
    );
    let out = ok(&["restore", s(&backup), s(&restored), "--no-check"]);
    assert!(out.contains("signing may resume"), "{out}");
    ok(&["audit", s(&restored), "--key", &reg.vkey]);
    assert_eq!(size_of(&restored), during);
    // It signs again, with the restored keys.
    let events = reg.events("next.jsonl", &[complaint("2024-0900")]);
    ok(&[
        "append",
        s(&restored),
        "--key",
        s(&restored.join("private/amina.key")),
        s(&events),
    ]);
    ok(&["audit", s(&restored), "--key", &reg.vkey]);
}

#[test]
fn issue13_restore_of_an_old_backup_refuses_to_sign_behind_a_mirror() {
    let reg = Register::new();
    append_case(&reg, "2024-0001");
    let old = reg.tmp.path().join("old-backup");
    ok(&["backup", reg.dir(), s(&old)]);
    let old_size = size_of(&old);
    append_case(&reg, "2024-0002");
    append_case(&reg, "2024-0003");
    let mirror = reg.tmp.path().join("mirror");
    ok(&["mirror", reg.dir(), s(&mirror), "--key", &reg.vkey]);
    let seen = size_of(&mirror);
    assert!(seen > old_size);

    // The server's disk is lost; only the old backup is at hand, and a mirror saw more.
    let err = fails(
        &["restore", s(&old), reg.dir(), "--check", s(&mirror)],
        1,
        &format!("a checkpoint of size {seen} was seen at {}", s(&mirror)),
    );
    assert!(err.contains(&format!("at size {old_size}")), "{err}");
    assert_eq!(size_of(&reg.dir), old_size, "restored, but marked");
    assert!(reg.dir.join("private/restored").is_file());
    let events = reg.events("next.jsonl", &[complaint("2024-0004")]);
    fails(
        &["append", reg.dir(), "--key", s(&reg.officer_key), s(&events)],
        1,
        &format!(
            "refusing to sign: this log has {old_size} entries, but a checkpoint of size {seen} was seen at {}",
            s(&mirror)
        ),
    );
    // A restore of the same backup again, without naming the mirror, still refuses: the
    // marker at DIR remembers what was seen.
    fails(
        &["restore", s(&old), reg.dir(), "--no-check"],
        1,
        &format!("a checkpoint of size {seen} was seen at {}", s(&mirror)),
    );
    // A wrong size is not an acceptance of the fork.
    fails(
        &[
            "restore",
            s(&old),
            reg.dir(),
            "--check",
            s(&mirror),
            "--accept-fork",
            "3",
        ],
        2,
        &format!("the largest checkpoint seen has size {seen}"),
    );

    // The remedy: bring the backup forward from the mirror, and restore it.
    ok(&["mirror", s(&mirror), s(&old), "--key", &reg.vkey]);
    let out = ok(&["restore", s(&old), reg.dir(), "--check", s(&mirror)]);
    assert!(out.contains("signing may resume"), "{out}");
    assert!(!reg.dir.join("private/restored").exists());
    reg.append(&events);
    reg.verify();
    ok(&["mirror", reg.dir(), s(&mirror), "--key", &reg.vkey]);
}

#[test]
fn issue13_restore_of_a_current_backup_succeeds() {
    let reg = Register::new();
    append_case(&reg, "2024-0001");
    let backup = reg.tmp.path().join("backup");
    ok(&["backup", reg.dir(), s(&backup)]);
    let mirror = reg.tmp.path().join("mirror");
    ok(&["mirror", reg.dir(), s(&mirror), "--key", &reg.vkey]);
    // A checkpoint kept in a file, as a monitor's or a verifier's state keeps it.
    let kept = reg.tmp.path().join("monitor.checkpoint");
    std::fs::copy(reg.dir.join("checkpoint"), &kept).expect("copy checkpoint");
    // The register is still there (a damaged disk, say): it is moved aside, not deleted.
    let out = sijil(&[
        "restore",
        s(&backup),
        reg.dir(),
        "--check",
        s(&mirror),
        "--check",
        s(&kept),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(".before-restore-"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("No checkpoint larger than it was seen (3 checked)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let events = reg.events("next.jsonl", &[hearing("2024-0001")]);
    reg.append(&events);
    reg.verify();
}

#[test]
fn issue13_restore_refuses_a_backup_that_another_history_contradicts() {
    let reg = Register::new();
    append_case(&reg, "2024-0001");
    // The same keys, another history of the same size.
    let fork = reg.tmp.path().join("fork");
    crate::util::copy_dir(&reg.dir, &fork);
    append_case(&reg, "2024-0002");
    let events = reg.events(
        "other.jsonl",
        &[complaint("2024-0777"), hearing("2024-0777")],
    );
    ok(&[
        "append",
        s(&fork),
        "--key",
        s(&fork.join("private/amina.key")),
        s(&events),
    ]);
    assert_eq!(size_of(&fork), size_of(&reg.dir));
    let backup = reg.tmp.path().join("backup");
    ok(&["backup", reg.dir(), s(&backup)]);
    let target = reg.tmp.path().join("restored");
    fails(
        &["restore", s(&backup), s(&target), "--check", s(&fork)],
        1,
        "two histories of this log exist; nothing was restored",
    );
    assert!(!target.exists(), "nothing was restored");
}
