//! Running the built CLI in a fresh temporary register.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `sijil` binary of this build profile: `target/<profile>/sijil`, next to the test
/// executable's `deps/` folder. `cargo test --workspace` (scripts/test) builds it fresh; when
/// `cargo test -p sijil-tests` runs alone it is built only if missing, so an outdated binary
/// from an earlier build would be tested: run `cargo build -p sijil` first in that case.
pub fn sijil_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>/deps/<test>");
        let bin = profile_dir.join(format!("sijil{}", std::env::consts::EXE_SUFFIX));
        if !bin.is_file() {
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            let mut cmd = Command::new(env!("CARGO"));
            cmd.args(["build", "-p", "sijil", "--bin", "sijil"]);
            if release {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("cargo build runs");
            assert!(status.success(), "building the sijil binary failed");
        }
        bin
    })
    .clone()
}

/// Runs `sijil ARGS` and returns its output.
pub fn sijil(args: &[&str]) -> Output {
    Command::new(sijil_bin())
        .args(args)
        .output()
        .expect("sijil runs")
}

/// Runs `sijil ARGS`, asserting success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = sijil(args);
    assert!(
        out.status.success(),
        "sijil {args:?} failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `sijil ARGS`, asserting it fails with `code` and that stderr contains `needle`.
pub fn fails(args: &[&str], code: i32, needle: &str) -> String {
    let out = sijil(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "sijil {args:?}: stderr:\n{err}"
    );
    assert!(
        err.contains(needle),
        "sijil {args:?}: stderr lacks {needle:?}:\n{err}"
    );
    err
}

/// A fresh register in a temporary directory.
pub struct Register {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub vkey: String,
    pub officer_key: PathBuf,
}

impl Register {
    pub fn new() -> Register {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("reg");
        let out = ok(&[
            "init",
            s(&dir),
            "--origin",
            "registre.example.ma/test",
            "--officer",
            "amina",
        ]);
        let vkey = out.trim().to_string();
        let officer_key = dir.join("private/amina.key");
        Register {
            tmp,
            dir,
            vkey,
            officer_key,
        }
    }

    pub fn dir(&self) -> &str {
        s(&self.dir)
    }

    /// Writes `lines` to an events file and returns its path.
    pub fn events(&self, name: &str, lines: &[String]) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, lines.join("\n")).expect("write events");
        p
    }

    pub fn append(&self, events: &Path) -> String {
        ok(&[
            "append",
            self.dir(),
            "--key",
            s(&self.officer_key),
            s(events),
        ])
    }

    pub fn verify(&self) -> String {
        ok(&["audit", self.dir(), "--key", &self.vkey])
    }

    /// Every published file (not `private/`) with its bytes: to show that nothing changed.
    pub fn published(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        walk(&self.dir, &self.dir, &mut out);
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        let rel = p.strip_prefix(root).expect("under root").to_path_buf();
        if rel.starts_with("private") {
            continue;
        }
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.insert(rel, std::fs::read(&p).expect("read"));
        }
    }
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A complaint opening case `id`.
pub fn complaint(id: &str) -> String {
    format!(
        r#"{{"case":"{id}","type":"ComplaintReceived","controller":{{"id":"acme","name":"ACME SARL"}},"categories":["privacy"],"received_on":"2024-01-02","summary":"texte {id}"}}"#
    )
}

/// A hearing on case `id`.
pub fn hearing(id: &str) -> String {
    format!(r#"{{"case":"{id}","type":"HearingHeld","held_on":"2024-02-01","place":"Rabat"}}"#)
}

/// A test that cannot run here (a tool it needs is missing) fails, so that a skip is never
/// reported as a pass; with `SIJIL_ALLOW_SKIP=1` it says SKIPPED on stderr and passes instead,
/// except in CI (`CI` set), where it always fails (`crate::skip`, README "Run the tests").
pub fn skip_or_fail(test: &str, why: &str) {
    let _: Option<()> = crate::skip::missing(test, why);
}

/// Copies a register directory, without its writer's lock: a backup, or a fork (the same
/// keys, to grow another history).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else if e.file_name() != "lock" {
            std::fs::copy(&p, &dest).expect("copy");
        }
    }
}

/// `sijil keygen NAME --out FILE`: an officer's new key in FILE, and its public half (hex) as
/// keygen prints it.
pub fn keygen(name: &str, file: &Path) -> String {
    ok(&["keygen", name, "--out", s(file)])
        .lines()
        .find_map(|l| l.strip_prefix("public key:"))
        .expect("keygen prints a public key line")
        .trim()
        .to_string()
}
