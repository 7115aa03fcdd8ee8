//! One function per subcommand. Results go to stdout (`--json` for scripts); progress and
//! errors to stderr.

use std::io::Read as _;
use std::path::Path;

use anyhow::Context as _;
use sijil_core::note::Verifier;

use crate::flags::Command;
use crate::Failure;

mod append;
mod audit;
mod cosign;
mod evidence;
mod init;
mod mirror;
mod remote;
mod serve;
mod show;
mod verify;
mod witness;

/// Runs one subcommand.
pub fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Init(a) => init::init(a),
        Command::Keygen(a) => init::keygen(a),
        Command::Append(a) => append::append(a),
        Command::Show(a) => show::show(a),
        Command::Stats(a) => show::stats(a),
        Command::Verify(a) => verify::verify(a),
        Command::Serve(a) => serve::serve(a),
        Command::Audit(a) => audit::audit(a),
        Command::Mirror(a) => mirror::mirror(a),
        Command::Cosign(a) => cosign::cosign(a),
        Command::Witness(a) => witness::witness(a),
        Command::Evidence(a) => evidence::evidence(a),
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
