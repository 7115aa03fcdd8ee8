//! The `sijil` binary: flags become a checked command in `flags`, each subcommand calls one
//! library function in `commands`, and errors map to the documented exit codes.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

mod commands;
mod flags;

/// A failed command and the exit code it maps to (README, "Exit codes").
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

/// Exit code 1: an event was rejected, or something failed verification.
pub const EXIT_REJECTED: u8 = 1;
/// Exit code 2: bad usage, bad input files, or an I/O error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code 3: a fork (two inconsistent signed checkpoints) was found; evidence saved.
pub const EXIT_FORK: u8 = 3;

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
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::usage(e)
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = flags::Cli::parse();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("sijil: error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
