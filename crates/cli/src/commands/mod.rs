//! One function per subcommand. Results go to stdout (`--json` for scripts); progress and
//! errors to stderr.

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use sijil_core::note::Verifier;

use crate::flags::Command;
use crate::{Failure, EXIT_COMMITTED};

mod append;
mod audit;
mod backup;
mod cosign;
mod evidence;
mod import;
mod init;
mod location;
mod log_key;
mod migrate;
mod mirror;
mod monitor;
mod officers;
mod publish;
mod remote;
mod sequencer;
mod serve;
mod show;
mod submit;
mod verify;
mod witness;

/// Runs one subcommand.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Init(a) => init::init(a),
        Command::Keygen(a) => init::keygen(a),
        Command::Append(a) => append::append(a),
        Command::Import(a) => import::import(a),
        Command::Backup(a) => backup::backup(a),
        Command::Restore(a) => backup::restore(a),
        Command::Submit(a) => submit::submit(a),
        Command::Sequencer(a) => sequencer::sequencer(a),
        Command::Show(a) => show::show(a),
        Command::Stats(a) => show::stats(a),
        Command::Officers(a) => officers::officers(a),
        Command::LogKey(a) => log_key::log_key(a),
        Command::Verify(a) => verify::verify(a),
        Command::Serve(a) => serve::serve(a),
        Command::Audit(a) => audit::audit(a),
        Command::Mirror(a) => mirror::mirror(a),
        Command::Publish(a) => publish::publish(a),
        Command::Migrate(a) => migrate::migrate(a),
        Command::Cosign(a) => cosign::cosign(a),
        Command::Witness(a) => witness::witness(a),
        Command::Evidence(a) => evidence::evidence(a),
        Command::Monitor(a) => monitor::monitor(a),
    }
}

/// The exit code of a register error (README, "Exit codes"): 1 for an event that is rejected
/// (or an `--expect-size` that does not hold) and for a register that fails verification, 4
/// for an error after the commit point (the batch is in the log), 2 otherwise (I/O, not a
/// register, a bad key file).
pub fn register_failure(e: sijil_register::Error) -> Failure {
    use sijil_core::writer::WriterError;
    use sijil_register::Error;
    match &e {
        Error::Rejected { .. }
        | Error::InvalidEvent { .. }
        | Error::RestoredBehind { .. }
        // A database restored from an old backup: refused as a restored directory is.
        | Error::Writer(WriterError::CommitPointBehind { .. })
        | Error::Writer(WriterError::ExpectedSize { .. }) => Failure::rejected(e),
        Error::Writer(WriterError::AfterCommit { .. }) => Failure {
            code: EXIT_COMMITTED,
            error: e.into(),
        },
        // These already say that the register does not verify.
        Error::Corrupt { .. } | Error::Writer(WriterError::Corrupt { .. }) => Failure::rejected(e),
        _ if e.is_corrupt() => {
            Failure::rejected(anyhow::Error::new(e).context("the register FAILED verification"))
        }
        _ => Failure::usage(e),
    }
}

/// The wall clock, in Unix milliseconds: the only place the binary reads it, so that every
/// library function takes time as an argument.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Today's date (UTC), or the `--as-of` date given.
pub fn as_of(flag: Option<&str>) -> Result<sijil_core::event::Date, Failure> {
    match flag {
        Some(s) => s
            .parse()
            .map_err(|e: String| Failure::usage(anyhow::anyhow!("--as-of: {e}"))),
        None => sijil_core::event::Date::from_unix_ms(now_ms()).ok_or_else(|| {
            Failure::usage(anyhow::anyhow!("the system clock is outside 1900–9999"))
        }),
    }
}

/// A verifier key given as `name+keyid+base64`, or `@FILE` holding one.
pub fn verifier_arg(arg: &str) -> Result<Verifier, Failure> {
    let (text, from) = match arg.strip_prefix('@') {
        Some(path) => {
            let t = std::fs::read_to_string(path)
                .with_context(|| format!("reading verifier key file {path}"))?;
            (t, format!(" (from {path})"))
        }
        None => (arg.to_string(), String::new()),
    };
    Verifier::parse(text.trim()).map_err(|e| Failure::usage(anyhow::anyhow!("--key{from}: {e}")))
}

/// Reads a file, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<(String, String), Failure> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        Ok(("<stdin>".into(), s))
    } else {
        let s =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok((path.display().to_string(), s))
    }
}
