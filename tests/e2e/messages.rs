//! Issue 9, defects 7 and 8: error messages say each thing once, in the user's words, and
//! every command exits with the code README.md's table gives.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{complaint, hearing, ok, s, sijil, sijil_bin, Register};

/// Runs `sijil ARGS`, asserting the exit code and that stderr holds one error line in which
/// no part is repeated; returns that line.
fn fails_once(args: &[&str], code: i32) -> String {
    check_once(args, &sijil(args), code)
}

fn check_once(args: &[&str], out: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "sijil {args:?}: stderr:\n{err}"
    );
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("sijil: error: "))
        .collect();
    assert_eq!(lines.len(), 1, "sijil {args:?}: one error line:\n{err}");
    let line = lines[0];
    // `outer: cause: root cause`: no cause printed twice (each part of some length once).
    let parts: Vec<&str> = line.split(": ").collect();
    for (i, part) in parts.iter().enumerate() {
        if part.len() < 12 {
            continue;
        }
        assert!(
            !parts[i + 1..].iter().any(|p| p.contains(part)),
            "sijil {args:?}: {part:?} is repeated:\n{line}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    line.to_string()
}

/// A register whose origin is not the one `Register::new` uses.
fn other_origin(reg: &Register, origin: &str) -> (std::path::PathBuf, String) {
    let dir = reg.tmp.path().join("other");
    let vkey = ok(&["init", s(&dir), "--origin", origin, "--officer", "karim"]);
    (dir, vkey.trim().to_string())
}

#[test]
fn issue9_a_key_of_another_register_says_that_the_origins_differ() {
    let reg = Register::new();
    reg.append(&reg.events("e.jsonl", &[complaint("2024-0001")]));
    let (other_dir, other_key) = other_origin(&reg, "autre.example.ma/registre");
    let state = reg.tmp.path().join("state");
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "verify",
            reg.dir(),
            "--key",
            &other_key,
            "--state-dir",
            s(&state),
        ],
        vec!["audit", reg.dir(), "--key", &other_key],
        vec![
            "verify",
            s(&other_dir),
            "--key",
            &reg.vkey,
            "--state-dir",
            s(&state),
        ],
    ];
    for args in commands {
        let line = fails_once(&args, 1);
        assert!(
            line.contains("\"registre.example.ma/test\"")
                && line.contains("\"autre.example.ma/registre\""),
            "{args:?}: the message names both origins:\n{line}"
        );
        assert!(line.contains("origin"), "{line}");
    }
    // A register reopened with its own key is fine; nothing was remembered for the other.
    ok(&[
        "verify",
        reg.dir(),
        "--key",
        &reg.vkey,
        "--state-dir",
        s(&state),
    ]);
}

/// Changes one byte in the middle of `path`.
fn flip(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x04;
    std::fs::write(path, bytes).expect("write");
}

/// Runs `sijil serve DIR` and returns its output once it stops, or kills it after `wait`
/// (it started: the register opened).
fn serve_briefly(dir: &str, wait: Duration) -> Option<Output> {
    let mut child = Command::new(sijil_bin())
        .args(["serve", dir, "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sijil serve starts");
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if child.try_wait().expect("try_wait").is_some() {
            return Some(child.wait_with_output().expect("output"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Every command that reads a register, with `reg` as its register.
fn register_commands(reg: &Register, events: &Path, state: &Path) -> Vec<Vec<String>> {
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        v(&["append", reg.dir(), "--key", s(&reg.officer_key), s(events)]),
        v(&["show", reg.dir()]),
        v(&["show", reg.dir(), "--case", "2024-0001"]),
        v(&["stats", reg.dir()]),
        v(&[
            "verify",
            reg.dir(),
            "--key",
            &reg.vkey,
            "--state-dir",
            s(state),
        ]),
        v(&["audit", reg.dir(), "--key", &reg.vkey]),
    ]
}

#[test]
fn issue9_a_corrupt_register_exits_1_from_every_command() {
    let reg = Register::new();
    let lines: Vec<String> = (0..5)
        .flat_map(|i| {
            let id = format!("2024-{i:04}");
            [complaint(&id), hearing(&id)]
        })
        .collect();
    reg.append(&reg.events("e.jsonl", &lines));
    let events = reg.events("more.jsonl", &[complaint("2099-0001")]);
    let state = reg.tmp.path().join("state");
    // init's 2 entries, the 10 events and the batch's IndexCommitted: size 13.
    let files = [
        "checkpoint".to_string(),
        "tile/0/000.p/13".to_string(),
        "tile/entries/000.p/13".to_string(),
    ];
    for file in &files {
        let path = reg.dir.join(file);
        let good = std::fs::read(&path).expect("read");
        flip(&path);
        for args in register_commands(&reg, &events, &state) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let line = fails_once(&args, 1);
            assert!(
                line.contains("verification") || line.contains("does not match"),
                "{file}, {args:?}: the message says the register does not verify:\n{line}"
            );
        }
        let out = serve_briefly(reg.dir(), Duration::from_secs(20))
            .unwrap_or_else(|| panic!("{file}: serve started on a corrupt register"));
        check_once(&["serve"], &out, 1);
        std::fs::write(&path, good).expect("restore");
    }
    reg.verify();
}

#[test]
fn issue9_an_entry_or_case_not_in_the_register_exits_1() {
    let reg = Register::new();
    reg.append(&reg.events("e.jsonl", &[complaint("2024-0001")]));
    let line = fails_once(&["show", reg.dir(), "--case", "NOPE"], 1);
    assert!(line.contains("no case \"NOPE\""), "{line}");
    let line = fails_once(&["show", reg.dir(), "99"], 1);
    assert!(line.contains("no entry 99"), "{line}");
    // Not a register at all: an unreadable input, exit 2.
    let empty = reg.tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let line = fails_once(&["show", s(&empty), "--case", "NOPE"], 2);
    assert!(line.contains("not a sijil register"), "{line}");
}

/// Puts a directory where the file `rel` was: reading it fails with an I/O error (EISDIR),
/// as a failing disk would (EIO), and not because its bytes are wrong.
fn unreadable(reg: &Register, rel: &str) -> impl Drop {
    struct Restore(std::path::PathBuf, Vec<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir(&self.0);
            let _ = std::fs::write(&self.0, &self.1);
        }
    }
    let path = reg.dir.join(rel);
    let bytes = std::fs::read(&path).expect("read");
    std::fs::remove_file(&path).expect("remove");
    std::fs::create_dir(&path).expect("mkdir");
    Restore(path, bytes)
}

#[test]
fn issue9_an_io_error_reading_the_register_is_an_io_error_exit_2() {
    let reg = Register::new();
    let lines: Vec<String> = (0..5).map(|i| complaint(&format!("2024-{i:04}"))).collect();
    reg.append(&reg.events("e.jsonl", &lines));
    let events = reg.events("more.jsonl", &[complaint("2099-0001")]);
    let state = reg.tmp.path().join("state");
    // init's 2 entries, the 5 events and the batch's IndexCommitted: size 8.
    for file in ["tile/0/000.p/8", "tile/entries/000.p/8"] {
        let _restore = unreadable(&reg, file);
        for args in register_commands(&reg, &events, &state) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let line = fails_once(&args, 2);
            assert!(
                line.contains("Is a directory"),
                "{file}, {args:?}: the I/O error is named:\n{line}"
            );
            assert!(
                !line.contains("verification") && !line.contains("does not match"),
                "{file}, {args:?}: an I/O error is not a register that fails verification:\n{line}"
            );
        }
    }
    reg.verify();
}

#[test]
fn issue9_append_reports_an_io_error_as_an_io_error() {
    let reg = Register::new();
    let lines: Vec<String> = (0..5).map(|i| complaint(&format!("2024-{i:04}"))).collect();
    reg.append(&reg.events("e.jsonl", &lines));
    let events = reg.events("more.jsonl", &[complaint("2099-0001")]);
    // init's 2 entries, the 5 events and the batch's IndexCommitted: size 8.
    for file in ["tile/0/000.p/8", "tile/entries/000.p/8"] {
        let _restore = unreadable(&reg, file);
        let line = fails_once(
            &[
                "append",
                reg.dir(),
                "--key",
                s(&reg.officer_key),
                s(&events),
            ],
            2,
        );
        assert!(line.contains("Is a directory"), "{file}:\n{line}");
        assert!(!line.contains("does not match"), "{file}:\n{line}");
    }
    reg.verify();
}

#[test]
fn issue9_verify_spot_checks_as_many_distinct_entries_as_asked() {
    let reg = Register::new();
    // A log of 40 entries: init's 2, 37 events and the batch's IndexCommitted.
    let lines: Vec<String> = (0..37)
        .map(|i| complaint(&format!("2024-{i:04}")))
        .collect();
    reg.append(&reg.events("e.jsonl", &lines));
    for (asked, want) in [(25, 25), (40, 40), (100, 40), (1, 1)] {
        let state = reg.tmp.path().join(format!("state-{asked}"));
        let out = ok(&[
            "verify",
            reg.dir(),
            "--key",
            &reg.vkey,
            "--state-dir",
            s(&state),
            "--quick",
            "--json",
            "--spot-checks",
            &asked.to_string(),
        ]);
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let mut seqs: Vec<u64> = v["spot_checked"]
            .as_array()
            .expect("spot_checked")
            .iter()
            .map(|x| x.as_u64().expect("seq"))
            .collect();
        seqs.dedup();
        assert_eq!(seqs.len(), want, "{asked} asked: {seqs:?}");
    }
}
