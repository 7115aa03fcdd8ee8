//! The `sijil` binary: flags become a checked command in `flags`, each subcommand calls one
//! library function in `commands`, and errors map to the documented exit codes.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: `sijil serve` allocates per request from many threads,
/// where glibc's per-thread arenas fragment (docs/PERFORMANCE.md, "Allocator", measured).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;
mod flags;
mod output;

/// A failed command and the exit code it maps to (README, "Exit codes").
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

/// Exit code 1: an event was rejected, something failed verification (a register that does
/// not verify, for every command), or what was asked for is not in the register.
pub const EXIT_REJECTED: u8 = 1;
/// Exit code 2: bad usage, bad input files, or an I/O error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code 3: a fork (two inconsistent signed checkpoints) was found; evidence saved.
pub const EXIT_FORK: u8 = 3;
/// Exit code 4: the batch IS committed (it is in the log, under a checkpoint readers see), but
/// a step after the commit point failed (a directory fsync, the journal's clean-up, writing
/// the result to standard output). The message gives the new tree size; the batch must not be
/// appended again.
pub const EXIT_COMMITTED: u8 = 4;

impl Failure {
    pub fn rejected(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: EXIT_REJECTED,
            error: error.into(),
        }
    }

    pub fn usage(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: EXIT_USAGE,
            error: error.into(),
        }
    }

    /// The reader of standard output went away (`sijil show … | head`): the command stops
    /// and exits 0, printing nothing more, as other Unix tools do.
    pub fn stdout_closed() -> Failure {
        Failure {
            code: 0,
            error: anyhow::anyhow!("standard output was closed"),
        }
    }
}

/// An error and its causes, each printed once: `outer: cause: root cause`. Many error types
/// include their cause in their own message (and also return it as their `source`), so a
/// cause whose text was already printed is skipped.
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let line = cause.to_string();
        if line.is_empty() || text.contains(&line) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&line);
    }
    text
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::usage(e)
    }
}

fn main() -> ExitCode {
    let cli = flags::Cli::parse();
    // `monitor` reports each failure in one stderr line of its own (alerts read it); the
    // client's log events would say it twice. RUST_LOG still shows them.
    let default_filter = match cli.command {
        flags::Command::Monitor(_) => "warn,sijil_client=off",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        // A closed standard error is not worth a panic (its report would go to stderr too).
        .log_internal_errors(false)
        .init();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) if f.code == 0 => ExitCode::SUCCESS,
        Err(f) => {
            output::errln!("sijil: error: {}", error_chain(&f.error));
            ExitCode::from(f.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[test]
    fn issue9_an_error_chain_prints_each_cause_once() {
        // IoError says its cause in its message and also returns it as its source.
        let io = std::io::Error::from_raw_os_error(5);
        let os = io.to_string();
        let e = anyhow::Error::new(sijil_core::durable::IoError::new(
            "read",
            std::path::Path::new("tile/0/000"),
            io,
        ))
        .context("opening the register");
        assert_eq!(
            error_chain(&e),
            format!("opening the register: read tile/0/000: {os}")
        );
        // A context that does not say its cause gets it appended.
        let e = anyhow::Error::new(std::io::Error::from_raw_os_error(5)).context("reading x");
        assert_eq!(error_chain(&e), format!("reading x: {os}"));
        // Nested wrappers that each repeat their cause: said once.
        let e = sijil_client::Error::Audit(sijil_register::audit::AuditFailure::Checkpoint(
            sijil_core::note::NoteError::Unverified { signatures: 1 }.into(),
        ));
        let e = anyhow::Error::new(e).context("reg FAILED verification");
        let text = error_chain(&e);
        assert_eq!(text.matches("no verified signature").count(), 1, "{text}");
        assert!(
            text.starts_with("reg FAILED verification: checkpoint: "),
            "{text}"
        );
    }

    /// Where the system gives transparent huge pages only to memory that asks for them
    /// (`madvise`, the usual default), the allocator does not ask (the `no_thp` feature in
    /// the workspace's Cargo.toml): a huge page is resident whole, 2 MiB, however little of
    /// it is in use, and `sijil serve` at 10^6 entries held 22 MiB of them at start and about
    /// 24 MiB more under load (issue 11, docs/PERFORMANCE.md).
    #[test]
    fn issue11_the_allocator_asks_for_no_huge_pages() {
        let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled");
        let Ok(mode) = mode else {
            return; // not Linux, or no transparent huge pages at all
        };
        if !mode.contains("[madvise]") {
            return; // `always` gives them regardless, `never` never (deploy/sijil.env)
        }
        // 64 MiB in blocks of 16 KiB, as answers allocate: the allocator's own regions.
        let blocks: Vec<Vec<u8>> = (0..4096).map(|i| vec![i as u8; 16 << 10]).collect();
        let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
        let huge_kib: u64 = rollup
            .lines()
            .find_map(|l| l.strip_prefix("AnonHugePages:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        assert_eq!(huge_kib, 0, "{} blocks held in huge pages", blocks.len());
    }
}
