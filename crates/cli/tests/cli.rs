//! The binary's own smoke tests. (Their presence also makes `cargo test` build
//! `target/<profile>/sijil`, which the workspace's end-to-end tests in `tests/` run.)

use std::process::Command;

#[test]
fn help_lists_every_subcommand_and_exit_codes() {
    let out = Command::new(env!("CARGO_BIN_EXE_sijil"))
        .arg("--help")
        .output()
        .expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["init", "keygen", "append", "show", "stats", "verify"] {
        assert!(help.contains(cmd), "--help lacks {cmd}:\n{help}");
    }
    assert!(help.contains("Exit codes"), "{help}");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_sijil"))
        .arg("frobnicate")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}
