//! Issue 9, defect 5: a closed or full standard output never makes a command panic, and
//! never makes a committed batch look failed.

use std::process::{Command, Output, Stdio};

use crate::util::{complaint, ok, s, sijil_bin, Register};

/// Where `sijil`'s standard output goes in these tests.
#[derive(Clone, Copy, Debug)]
enum Stdout {
    /// A pipe whose reading end is closed before `sijil` writes (`sijil … | true`): EPIPE.
    ClosedPipe,
    /// `> /dev/full`: every write fails with ENOSPC.
    Full,
}

/// Runs `sijil ARGS` with its standard output as `to`.
fn run_with_stdout(args: &[&str], to: Stdout) -> Output {
    let mut cmd = Command::new(sijil_bin());
    cmd.args(args).stdin(Stdio::null()).stderr(Stdio::piped());
    match to {
        Stdout::ClosedPipe => {
            cmd.stdout(Stdio::piped());
            let mut child = cmd.spawn().expect("sijil runs");
            // Close the reading end at once, as `| true` or `| head -0` does.
            drop(child.stdout.take());
            child.wait_with_output().expect("sijil ends")
        }
        Stdout::Full => {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full");
            cmd.stdout(Stdio::from(full));
            cmd.output().expect("sijil runs")
        }
    }
}

fn tree_size(reg: &Register) -> u64 {
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["show", reg.dir(), "--json"])).expect("json");
    v["tree_size"].as_u64().expect("tree_size")
}

fn no_panic(what: &str, out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_ne!(out.status.code(), Some(101), "{what} panicked:\n{err}");
    assert!(!err.contains("panicked"), "{what}:\n{err}");
    assert!(
        out.status.code().is_some(),
        "{what} died of a signal: {out:?}"
    );
    err
}

#[test]
fn issue9_append_with_a_closed_or_full_stdout_commits_and_says_so_without_panicking() {
    let reg = Register::new();
    for (round, to) in [Stdout::ClosedPipe, Stdout::Full].into_iter().enumerate() {
        for json in [false, true] {
            let before = tree_size(&reg);
            let id = format!("2024-{round}{}", u8::from(json));
            let events = reg.events(&format!("{id}.jsonl"), &[complaint(&id)]);
            let mut args = vec!["append", reg.dir(), "--key", s(&reg.officer_key)];
            if json {
                args.push("--json");
            }
            args.push(s(&events));
            let out = run_with_stdout(&args, to);
            let what = format!("append (json {json}) with stdout {to:?}");
            let err = no_panic(&what, &out);
            let after = tree_size(&reg);
            // One event and its batch's IndexCommitted (docs/FORMAT.md §10.4).
            assert_eq!(after, before + 2, "{what}: the batch is in the log");
            match to {
                // The reader went away: not a failure of the commit, nor of the command.
                Stdout::ClosedPipe => assert_eq!(out.status.code(), Some(0), "{what}:\n{err}"),
                // The result could not be written: exit 4 (committed, do not retry), and the
                // message says so with the new size, once.
                Stdout::Full => {
                    assert_eq!(out.status.code(), Some(4), "{what}:\n{err}");
                    assert!(err.contains("No space left on device"), "{what}:\n{err}");
                    assert_eq!(
                        err.matches("No space left on device").count(),
                        1,
                        "{what}:\n{err}"
                    );
                }
            }
            if out.status.code() != Some(0) || !err.is_empty() {
                assert!(err.contains("IS committed"), "{what}:\n{err}");
                assert!(err.contains(&format!("size {after}")), "{what}:\n{err}");
                assert!(!err.contains("failed printing"), "{what}:\n{err}");
            }
        }
    }
    reg.verify();
}

#[test]
fn issue9_read_commands_with_a_closed_or_full_stdout_do_not_panic() {
    let reg = Register::new();
    let lines: Vec<String> = (0..40)
        .map(|i| complaint(&format!("2024-{i:04}")))
        .collect();
    reg.append(&reg.events("e.jsonl", &lines));
    let state = reg.tmp.path().join("state");
    let commands: Vec<Vec<&str>> = vec![
        vec!["show", reg.dir()],
        vec!["show", reg.dir(), "--json"],
        vec!["show", reg.dir(), "--case", "2024-0001"],
        vec!["show", reg.dir(), "3"],
        vec!["stats", reg.dir()],
        vec!["audit", reg.dir(), "--key", &reg.vkey],
        vec![
            "verify",
            reg.dir(),
            "--key",
            &reg.vkey,
            "--state-dir",
            s(&state),
        ],
        vec!["keygen", "x.example/k", "--out"],
    ];
    for args in commands {
        for to in [Stdout::ClosedPipe, Stdout::Full] {
            let mut args = args.clone();
            let key_out;
            if args[0] == "keygen" {
                key_out = reg.tmp.path().join(format!("k-{to:?}.key"));
                args.push(s(&key_out));
            }
            let out = run_with_stdout(&args, to);
            let what = format!("{args:?} with stdout {to:?}");
            let err = no_panic(&what, &out);
            match to {
                // Like other Unix tools: a reader that closed the pipe is not an error.
                Stdout::ClosedPipe => {
                    assert_eq!(out.status.code(), Some(0), "{what}:\n{err}");
                }
                Stdout::Full => {
                    assert_eq!(out.status.code(), Some(2), "{what}:\n{err}");
                    assert!(
                        err.contains("standard output") && err.contains("No space left"),
                        "{what}:\n{err}"
                    );
                }
            }
        }
    }
}
