//! What the register's integration tests share: a new register in a temporary directory.

#![allow(dead_code)]

use std::path::PathBuf;

use sijil_core::note::Signer;
use sijil_register::{init, parse_events, InitOptions, RegisterWriter};

/// The clock of every test register (ms since the epoch).
pub const NOW: i64 = 1_750_000_000_000;

/// A new register at `NOW` (its temporary directory, the register's directory in it, and its
/// first officer).
pub fn new_register() -> (tempfile::TempDir, PathBuf, Signer) {
    new_register_titled("t", "a")
}

/// [`new_register`] with the register's title and authority given.
pub fn new_register_titled(title: &str, authority: &str) -> (tempfile::TempDir, PathBuf, Signer) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("reg");
    let report = init(
        &dir,
        InitOptions {
            origin: "registre.example.ma/t".into(),
            title: title.into(),
            authority: authority.into(),
            officer_name: "amina".into(),
            now_ms: NOW,
            log_key: None,
            officer_key: None,
        },
    )
    .expect("init");
    (tmp, dir, report.officer)
}

/// Appends the events file `events` (JSON lines) to the register `dir`, signed by `officer`
/// at `NOW`.
pub fn append(dir: &std::path::Path, officer: &Signer, events: &str) {
    let mut w = RegisterWriter::open(dir, None).expect("open");
    w.append(
        parse_events("test", events).expect("valid events"),
        officer,
        NOW,
        None,
    )
    .expect("appends");
}

/// The register `log`'s state as of its checkpoint, read as `sijil serve` reads it.
pub fn state_of(
    dir: &std::path::Path,
    log: &sijil_register::RegisterReader,
) -> sijil_register::state::StateSnapshot {
    let cp = &log.checkpoint().checkpoint;
    sijil_register::state::StateReader::open(&dir.join("private/state.redb"))
        .expect("opens")
        .at(cp.size, cp.root)
        .expect("reads")
        .expect("of the checkpoint")
}
