//! Issue 9: a fault in any file-system call of `sijil append` loses nothing.
//!
//! As Tessera's POSIX driver CI does, every call of the kinds an append makes (write, pwrite64,
//! fsync, fdatasync, ftruncate, rename, openat, mkdir, unlink, unlinkat) is made to fail in turn, once with EIO and once
//! with a SIGKILL at that instant, by strace's fault injector (`-e inject=SYSCALL:…:when=N`).
//! After each: the register must audit clean (every signature, tile, rule and blob, and no
//! blob that no committed entry names), every acknowledged batch must still be in the log
//! with the root it was acknowledged with, and the next append must succeed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use sijil_core::merkle;
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::TileHashReader;
use sijil_core::Hash;

use crate::util::{ok, s, sijil, sijil_bin, Register};

/// The calls an append makes that a fault can hit (glibc may use either form of some);
/// `pwrite64`, `fdatasync` and `ftruncate` are the writer's state's (redb), written after the
/// commit point.
const SYSCALLS: &[&str] = &[
    "write",
    "pwrite64",
    "fsync",
    "fdatasync",
    "ftruncate",
    "rename",
    "renameat",
    "renameat2",
    "openat",
    "mkdir",
    "mkdirat",
    "unlink",
    "unlinkat",
];

/// strace, or `None` when it is absent and skipping is allowed (see `util::allow_skip`).
fn strace() -> Option<&'static str> {
    let found = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("strace");
    }
    crate::util::skip_or_fail(
        "issue9_a_fault_in_any_file_system_call_of_append_loses_nothing",
        "strace is not installed (scripts/test installs Debian's package)",
    );
    None
}

/// A batch that writes blobs and tiles and erases one of its own texts (an unlink after the
/// commit): two new cases with text, then an Erasure of the first one's text.
fn batch(reg: &Register, name: &str, size: u64, round: usize) -> std::path::PathBuf {
    let lines = vec![
        complaint(&format!("F-{round}-a"), "texte à effacer"),
        complaint(&format!("F-{round}-b"), "texte gardé"),
        format!(r#"{{"case":"F-{round}-a","type":"Erasure","target":{size},"reason":"art. 8"}}"#),
    ];
    reg.events(name, &lines)
}

fn complaint(id: &str, text: &str) -> String {
    format!(
        r#"{{"case":"{id}","type":"ComplaintReceived","controller":{{"id":"acme","name":"ACME SARL"}},"categories":["privacy"],"received_on":"2024-01-02","summary":"{text}"}}"#
    )
}

/// How many times each syscall of interest appears in a trace file (every thread).
fn count_calls(trace: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in trace.lines() {
        // "PID name(args…" (a "<... name resumed>" line is the same call again).
        let call = line.split_whitespace().nth(1).unwrap_or_default();
        if let Some((name, _)) = call.split_once('(') {
            if SYSCALLS.contains(&name) {
                *counts.entry(name.to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// What an append run acknowledged: `Some((size, root))` when it says its batch is committed:
/// exit 0 with its JSON answer, or exit 4 (committed, a later step failed), whose message
/// gives the size ("the log is now at size N") but not the root.
fn acknowledged(out: &Output) -> Option<(u64, Option<String>)> {
    match out.status.code() {
        Some(0) => {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
            Some((
                v["tree_size"].as_u64()?,
                Some(v["root"].as_str()?.to_string()),
            ))
        }
        Some(4) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let (_, after) = stderr.split_once("now at size ")?;
            let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
            Some((digits.parse().ok()?, None))
        }
        _ => None,
    }
}

fn audit_size(reg: &Register, context: &str) -> (u64, String) {
    let out = sijil(&["audit", reg.dir(), "--key", &reg.vkey, "--json"]);
    assert!(
        out.status.success(),
        "{context}: the register must audit clean ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("audit --json");
    (
        v["tree_size"].as_u64().expect("tree_size"),
        v["root"].as_str().expect("root").to_string(),
    )
}

/// The root of the first `size` entries, from the register's own tiles (verified against its
/// current checkpoint `(now, root)`).
fn root_at(dir: &Path, now: u64, root: &str, size: u64) -> String {
    let decode = |b64: &str| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64 root");
        Hash(bytes.try_into().expect("32 bytes"))
    };
    let tiles = DirTiles::new(Layout::new(dir));
    let reader = TileHashReader::new(now, decode(root), &tiles);
    let at = merkle::tree_hash(size, &reader).expect("the tiles give the old root");
    base64::engine::general_purpose::STANDARD.encode(at.0)
}

#[test]
fn issue9_a_fault_in_any_file_system_call_of_append_loses_nothing() {
    let Some(strace) = strace() else { return };
    let reg = Register::new();
    reg.append(&reg.events("warm.jsonl", &[complaint("W-1", "premier texte")]));
    let (mut size, _) = audit_size(&reg, "start");
    let mut acked: Vec<(u64, Option<String>)> = Vec::new();

    // A dry run counts the calls of each kind that one append makes.
    let trace = reg.tmp.path().join("dry.trace");
    let events = batch(&reg, "dry.jsonl", size, 0);
    let out = traced(
        strace,
        &[
            "-f",
            "-qq",
            "-o",
            s(&trace),
            "-e",
            &format!("trace={}", SYSCALLS.join(",")),
        ],
        &[
            "append",
            reg.dir(),
            "--json",
            "--key",
            s(&reg.officer_key),
            s(&events),
        ],
    );
    let ack = acknowledged(&out).expect("the dry run appends");
    size = ack.0;
    acked.push(ack);
    let counts = count_calls(&std::fs::read_to_string(&trace).expect("trace"));
    assert!(
        counts.get("fsync").is_some_and(|n| *n >= 3) && counts.contains_key("openat"),
        "the dry run's trace looks wrong: {counts:?}"
    );

    let mut round = 0;
    let mut runs = 0;
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for (call, &count) in &counts {
        for mode in ["error=EIO", "signal=KILL"] {
            // `when` counts per thread: the Nth call of every thread fails.
            for n in 1..=count {
                round += 1;
                let events = batch(&reg, &format!("r{round}.jsonl"), size, round);
                let out = inject(strace, &reg, call, mode, n, &events);
                runs += 1;
                let context = format!("{call} #{n} {mode}");
                *outcomes
                    .entry(judge(&reg, &context, &out, &mut acked))
                    .or_insert(0) += 1;

                let (now, root) = next_append_recovers(&reg, &context, &format!("N-{round}"));
                size = now;
                acked.push((now, Some(root)));
            }
        }
    }
    eprintln!("fault injection: {runs} runs over {counts:?}; outcomes {outcomes:?}");
    assert!(runs >= 20, "too few faults injected: {runs}");
    assert!(
        outcomes.keys().any(|o| o != "exit 0"),
        "no injected fault made an append fail: {outcomes:?}"
    );
}

/// The checks after an append that a fault hit: it did not panic, nor take an I/O error for
/// a register that fails verification (exit 1); exit 4 says the batch IS committed; its
/// acknowledgement joins `acked`; and a reader then sees a register that audits clean with
/// every acknowledged batch at the root it was acknowledged with. Returns the outcome.
fn judge(
    reg: &Register,
    context: &str,
    out: &Output,
    acked: &mut Vec<(u64, Option<String>)>,
) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !matches!(out.status.code(), Some(1 | 101)) && !stderr.contains("panicked"),
        "{context}: append exited {:?} (a panic, or an I/O error taken for corruption):\n{stderr}",
        out.status.code()
    );
    if out.status.code() == Some(4) {
        assert!(stderr.contains("IS committed"), "{context}: {stderr}");
    }
    acked.extend(acknowledged(out));
    let (now, root) = audit_size(reg, context);
    for (at, want) in acked.iter() {
        assert!(
            *at <= now,
            "{context}: acknowledged size {at}, register has {now}"
        );
        if let Some(want) = want {
            assert_eq!(
                &root_at(&reg.dir, now, &root, *at),
                want,
                "{context}: size {at}"
            );
        }
    }
    match out.status.code() {
        Some(c) => format!("exit {c}"),
        None => "killed".into(),
    }
}

/// After a fault: the next append (opening the register as its writer, so recovering)
/// succeeds, leaves no journal or temporary checkpoint, and the register audits clean.
/// Returns its size and root.
fn next_append_recovers(reg: &Register, context: &str, case: &str) -> (u64, String) {
    let next = reg.events(&format!("{case}.jsonl"), &[complaint(case, "suite")]);
    let out = ok(&[
        "append",
        reg.dir(),
        "--json",
        "--key",
        s(&reg.officer_key),
        s(&next),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(
        !reg.dir.join("private/pending").exists(),
        "{context}: journal left"
    );
    assert!(
        !reg.dir.join("private/checkpoint.new").exists(),
        "{context}: temp left"
    );
    audit_size(reg, &format!("{context}, then a clean append"));
    (
        v["tree_size"].as_u64().expect("tree_size"),
        v["root"].as_str().expect("root").to_string(),
    )
}

/// `sijil append EVENTS --json` whose `n`th `call` (of each thread) fails as `mode` says.
fn inject(strace: &str, reg: &Register, call: &str, mode: &str, n: usize, events: &Path) -> Output {
    traced(
        strace,
        &[
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            &format!("trace={call}"),
            "-e",
            &format!("inject={call}:{mode}:when={n}"),
        ],
        &[
            "append",
            reg.dir(),
            "--json",
            "--key",
            s(&reg.officer_key),
            s(events),
        ],
    )
}

/// Runs `sijil ARGS` under strace with `strace_args`; returns its output.
fn traced(strace: &str, strace_args: &[&str], args: &[&str]) -> Output {
    Command::new(strace)
        .args(strace_args)
        .arg(sijil_bin())
        .args(args)
        .output()
        .expect("strace runs")
}

#[test]
fn issue9_recovery_fsyncs_the_checkpoint_it_adopts() {
    // Issue 9, defect 3: a temporary checkpoint whose own fsync never happened (the writer
    // died before it, or it failed) was renamed into place by recovery without an fsync.
    let Some(strace) = strace() else { return };
    let reg = Register::new();
    reg.append(&reg.events("a.jsonl", &[complaint("A-1", "un")]));
    let events = reg.events("b.jsonl", &[complaint("A-2", "deux")]);
    let key = s(&reg.officer_key);
    // Killed at the rename, the commit point: a complete, signed checkpoint.new is left.
    let out = traced(
        strace,
        &[
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "trace=rename",
            "-e",
            "inject=rename:signal=KILL:when=1",
        ],
        &["append", reg.dir(), "--key", key, s(&events)],
    );
    assert_eq!(out.status.code(), None, "killed at the rename");
    assert!(reg.dir.join("private/checkpoint.new").exists());
    // The next writer adopts it: it must fsync it before the rename that publishes it.
    let trace = reg.tmp.path().join("adopt.trace");
    let events = reg.events("c.jsonl", &[complaint("A-3", "trois")]);
    let out = traced(
        strace,
        &[
            "-f",
            "-qq",
            "-y",
            "-o",
            s(&trace),
            "-e",
            "trace=fsync,rename",
        ],
        &["append", reg.dir(), "--json", "--key", key, s(&events)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let trace = std::fs::read_to_string(&trace).expect("trace");
    let lines: Vec<&str> = trace.lines().collect();
    let adopt = lines
        .iter()
        .position(|l| l.contains("rename(") && l.contains("checkpoint.new"))
        .expect("a rename of checkpoint.new");
    assert!(
        lines[..adopt]
            .iter()
            .any(|l| l.contains("fsync(") && l.contains("checkpoint.new>")),
        "checkpoint.new was adopted without an fsync:\n{}",
        lines[..=adopt].join("\n")
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // init's 2 entries, then 3 batches of one event and its IndexCommitted each: a, the
    // adopted b, and c.
    assert_eq!(v["tree_size"], 8, "the adopted batch and the new one");
    reg.verify();
}

#[test]
fn issue9_an_error_after_the_commit_point_says_the_batch_is_committed() {
    // Issue 9, defect 3: when the directory fsync after the rename failed, append exited 2
    // as if nothing was written, and a retry with the same --expect-size then said "nothing
    // was written" although the batch was in.
    let Some(strace) = strace() else { return };
    let reg = Register::new();
    // init's 2 entries and a's event and IndexCommitted: size 4.
    reg.append(&reg.events("a.jsonl", &[complaint("A-1", "un")]));
    let hearing = reg.events(
        "h.jsonl",
        &[r#"{"case":"A-1","type":"HearingHeld","held_on":"2024-02-01","place":"Rabat"}"#.into()],
    );
    let args = [
        "append",
        reg.dir(),
        "--expect-size",
        "4",
        "--key",
        s(&reg.officer_key),
        s(&hearing),
    ];
    // Every fsync of the register's own directory fails: only the one after the rename.
    let out = traced(
        strace,
        &[
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-P",
            reg.dir(),
            "-e",
            "trace=fsync",
            "-e",
            "inject=fsync:error=EIO",
        ],
        &args,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("IS committed") && stderr.contains("size 6"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("Input/output error").count(),
        1,
        "one cause, once: {stderr}"
    );
    // The retry the message warns against: refused, and the log holds the batch once.
    crate::util::fails(&args, 1, "the log is at size 6, not the expected 4");
    let (size, _) = audit_size(&reg, "after the retry");
    assert_eq!(size, 6);
}

#[test]
fn issue9_a_fault_while_a_batch_makes_directories_or_fills_a_tile_loses_nothing() {
    // The calls the first campaign cannot reach on a warm register: a register's first texts
    // (mkdir blobs/) and a batch that fills the first tile (mkdir tile/1/…, and the removal of
    // the partial tiles it supersedes: unlinkat). Each run gets a fresh register.
    let Some(strace) = strace() else { return };
    let lines: Vec<String> = (0..300)
        .map(|i| complaint(&format!("T-{i}"), "un texte"))
        .collect();
    let fresh = || {
        let reg = Register::new();
        let events = reg.events("big.jsonl", &lines);
        (reg, events)
    };
    let (reg, events) = fresh();
    let trace = reg.tmp.path().join("dry.trace");
    let out = traced(
        strace,
        &[
            "-f",
            "-qq",
            "-o",
            s(&trace),
            "-e",
            "trace=mkdir,mkdirat,unlinkat",
        ],
        &[
            "append",
            reg.dir(),
            "--json",
            "--key",
            s(&reg.officer_key),
            s(&events),
        ],
    );
    assert!(out.status.success());
    let counts = count_calls(&std::fs::read_to_string(&trace).expect("trace"));
    assert!(
        counts.contains_key("unlinkat")
            && (counts.contains_key("mkdir") || counts.contains_key("mkdirat")),
        "the dry run's trace looks wrong: {counts:?}"
    );
    let mut runs = 0;
    for (call, &count) in &counts {
        for mode in ["error=EIO", "signal=KILL"] {
            for n in 1..=count {
                let (reg, events) = fresh();
                let out = inject(strace, &reg, call, mode, n, &events);
                runs += 1;
                let context = format!("{call} #{n} {mode}");
                judge(&reg, &context, &out, &mut Vec::new());
                next_append_recovers(&reg, &context, "N-1");
            }
        }
    }
    eprintln!("fault injection (directories, tiles): {runs} runs over {counts:?}");
}
