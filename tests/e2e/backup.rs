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

/// The operator knowingly accepts a fork (`--accept-fork SIZE`, docs/OPERATIONS.md,
/// "Restoring"): the restore succeeds, warns, leaves no marker, keeps the old directory aside,
/// the register signs again from the backup's size, and a mirror that saw the larger
/// checkpoint reports the fork.
#[test]
fn issue13_restore_accepting_a_fork_signs_from_the_backup_and_mirrors_report_it() {
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

    // First without accepting: refused, and marked.
    fails(
        &["restore", s(&old), reg.dir(), "--check", s(&mirror)],
        1,
        "--accept-fork",
    );
    assert!(reg.dir.join("private/restored").is_file());
    // The writer's refusal names both ways out, neither of them a command that does not exist.
    let refused = fails(
        &[
            "append",
            reg.dir(),
            "--key",
            s(&reg.officer_key),
            s(&reg.events("early.jsonl", &[complaint("2024-0050")])),
        ],
        1,
        "then run the same `sijil restore` again",
    );
    assert!(
        refused.contains(&format!("--accept-fork {seen}")),
        "{refused}"
    );
    // Then knowingly: the size typed out is the largest seen (the mirror's, which the marker
    // of the first restore also records).
    let out = sijil(&[
        "restore",
        s(&old),
        reg.dir(),
        "--check",
        s(&mirror),
        "--accept-fork",
        &seen.to_string(),
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("a fork was accepted"), "{stdout}");
    assert!(
        stderr.contains(&format!(
            "signing will resume at size {old_size} although a checkpoint of size {seen} was seen at {}",
            s(&mirror)
        )),
        "{stderr}"
    );
    // What it leaves: the backup's log, no marker, the directory that was there moved aside.
    assert_eq!(size_of(&reg.dir), old_size);
    assert!(
        !reg.dir.join("private/restored").exists(),
        "an accepted fork leaves no marker"
    );
    let aside: Vec<std::path::PathBuf> = std::fs::read_dir(reg.tmp.path())
        .expect("read tmp")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".before-restore-"))
        })
        .collect();
    assert_eq!(
        aside.len(),
        2,
        "each restore kept what was there: {aside:?}"
    );
    assert!(
        aside.iter().any(|p| size_of(p) == seen),
        "the register as it was before the restores is kept"
    );
    ok(&["audit", reg.dir(), "--key", &reg.vkey]);

    // The register signs from the backup's size: other entries at the seqs the mirror holds.
    for id in ["2024-0101", "2024-0102", "2024-0103"] {
        append_case(&reg, id);
    }
    assert!(size_of(&reg.dir) > seen);
    ok(&["audit", reg.dir(), "--key", &reg.vkey]);
    // Every copy that saw the larger checkpoint reports the fork (exit 3, evidence saved).
    fails(
        &["mirror", reg.dir(), s(&mirror), "--key", &reg.vkey],
        3,
        "FORK",
    );
    assert_eq!(size_of(&mirror), seen, "the mirror kept what it had");
}

/// The root line (base64) of a signed checkpoint file.
fn root_line(file: &Path) -> String {
    let cp = std::fs::read_to_string(file).expect("checkpoint");
    cp.lines().nth(2).expect("a root line").to_string()
}

/// A checkpoint smaller than the backup must be a prefix of it (its root the root of the
/// backup's first entries, computed from the backup's tiles): a register that diverged after
/// a common beginning is found, at a `--check` source and at DIR itself, and the restore is
/// refused naming the source, both sizes and both roots, with nothing changed. A smaller
/// checkpoint of the backup's own history is accepted.
#[test]
fn issue13_restore_refuses_a_backup_that_a_smaller_diverged_checkpoint_contradicts() {
    let reg = Register::new();
    append_case(&reg, "2024-0001");
    // The same keys, another history from here on.
    let fork = reg.tmp.path().join("fork");
    crate::util::copy_dir(&reg.dir, &fork);
    let other = reg.events(
        "other.jsonl",
        &[complaint("2024-0777"), hearing("2024-0777")],
    );
    ok(&[
        "append",
        s(&fork),
        "--key",
        s(&fork.join("private/amina.key")),
        s(&other),
    ]);
    append_case(&reg, "2024-0002");
    // A monitor's checkpoint of the register at the fork's size: the backup's own history.
    let kept = reg.tmp.path().join("monitor.checkpoint");
    std::fs::copy(reg.dir.join("checkpoint"), &kept).expect("copy checkpoint");
    append_case(&reg, "2024-0003");
    let backup = reg.tmp.path().join("backup");
    ok(&["backup", reg.dir(), s(&backup)]);
    let (fork_size, backup_size) = (size_of(&fork), size_of(&backup));
    let kept_size: u64 = std::fs::read_to_string(&kept)
        .expect("kept")
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("a size line");
    assert_eq!(
        kept_size, fork_size,
        "both histories hold a checkpoint of this size"
    );
    assert!(fork_size < backup_size);
    let fork_root = root_line(&fork.join("checkpoint"));
    let backup_root = root_line(&backup.join("checkpoint"));
    // The backup's root at the fork's size: what the register's checkpoint of that size says.
    let prefix_root = root_line(&kept);
    assert_ne!(prefix_root, fork_root);

    // At a --check source.
    let target = reg.tmp.path().join("restored");
    let err = fails(
        &["restore", s(&backup), s(&target), "--check", s(&fork)],
        1,
        "two histories of this log exist; nothing was restored",
    );
    for needle in [
        format!("the checkpoint at {}", s(&fork)),
        format!("(size {fork_size}, root {fork_root})"),
        format!("(size {backup_size}, root {backup_root})"),
        format!("first {fork_size} entries have root {prefix_root}"),
    ] {
        assert!(err.contains(&needle), "lacks {needle:?}: {err}");
    }
    assert!(!target.exists(), "nothing was restored");

    // At DIR itself: the diverged register is left as it is, not moved aside.
    let before = std::fs::read(fork.join("checkpoint")).expect("checkpoint");
    let err = fails(
        &["restore", s(&backup), s(&fork), "--no-check"],
        1,
        "is not a prefix of the backup",
    );
    assert!(
        err.contains(&format!("(size {fork_size}, root {fork_root})")),
        "{err}"
    );
    assert_eq!(
        std::fs::read(fork.join("checkpoint")).expect("still there"),
        before
    );

    // A smaller checkpoint of the backup's own history does not stand in the way.
    let out = ok(&["restore", s(&backup), s(&target), "--check", s(&kept)]);
    assert!(out.contains("signing may resume"), "{out}");
}
