//! What `verify`, `audit`, `mirror` and `cosign` share: a source from `URL|DIR`, the HTTP
//! client from the network flags, the witness policy, the progress bar, and the exit code of a
//! client error.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sijil_client::http::{is_url, HttpClient, HttpOptions, HttpSource};
use sijil_client::{Error as ClientError, ErrorKind};
use sijil_core::cosignature::WitnessPolicy;
use sijil_register::audit::{DirSource, Source};

use super::verifier_arg;
use crate::flags::{NetArgs, WitnessPolicyArgs};
use crate::{Failure, EXIT_FORK};

/// The HTTP client the flags describe.
pub fn http_client(net: &NetArgs) -> Result<Arc<HttpClient>, Failure> {
    if !(net.timeout.is_finite() && net.timeout > 0.0) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--timeout must be a positive number of seconds"
        )));
    }
    if net.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--rate must be a positive number"
        )));
    }
    let opts = HttpOptions {
        concurrency: net.concurrency.max(1),
        retries: net.retries,
        timeout: Duration::from_secs_f64(net.timeout),
        connect_timeout: Duration::from_secs_f64(net.timeout.min(10.0)),
        rate: net.rate,
        ..HttpOptions::default()
    };
    Ok(Arc::new(HttpClient::new(opts).map_err(Failure::usage)?))
}

/// An audit source, and its HTTP client when it is one.
pub type SourceAndClient = (Box<dyn Source>, Option<Arc<HttpClient>>);

/// `URL` (http or https), an `s3://bucket/prefix` publication (`sijil publish`), a
/// `postgres://…` register (issue 14) or a directory, as an audit source; the client when it
/// is HTTP.
pub fn source(target: &str, net: &NetArgs) -> Result<SourceAndClient, Failure> {
    if super::location::is_postgres(std::path::Path::new(target)) {
        let source = super::location::connect(target)?;
        Ok((Box::new(source), None))
    } else if target.starts_with("s3://") {
        let source =
            sijil_publish::source::PublicationSource::open(target).map_err(Failure::usage)?;
        Ok((Box::new(source), None))
    } else if is_url(target) {
        let client = http_client(net)?;
        Ok((
            Box::new(HttpSource::new(Arc::clone(&client), target)),
            Some(client),
        ))
    } else {
        if !std::path::Path::new(target).is_dir() {
            return Err(Failure::usage(anyhow::anyhow!(
                "{target}: not an http(s) URL, an s3:// publication nor a directory"
            )));
        }
        Ok((Box::new(DirSource::new(target)), None))
    }
}

/// The witness policy of `--witness`/`--quorum`, if any witness is named.
pub fn witness_policy(a: &WitnessPolicyArgs) -> Result<Option<WitnessPolicy>, Failure> {
    if a.witness.is_empty() {
        return Ok(None);
    }
    let keys = a
        .witness
        .iter()
        .map(|w| verifier_arg(w))
        .collect::<Result<Vec<_>, _>>()?;
    let quorum = a.quorum.unwrap_or(keys.len());
    WitnessPolicy::new(keys, quorum)
        .map(Some)
        .map_err(|e| Failure::usage(anyhow::anyhow!("--witness/--quorum: {e}")))
}

/// The exit code of a client error about `target` (a URL or directory): 3 fork, 1 unverified,
/// 2 otherwise.
pub fn client_failure(target: &str) -> impl Fn(ClientError) -> Failure + '_ {
    move |e| match e.kind() {
        ErrorKind::Fork => Failure {
            code: EXIT_FORK,
            error: e.into(),
        },
        ErrorKind::Unverified => Failure::rejected(
            anyhow::Error::new(e).context(format!("{target} FAILED verification")),
        ),
        ErrorKind::Unavailable => Failure::usage(e),
    }
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
pub fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} entries ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

/// What the HTTP client did, for stderr.
pub fn http_summary(client: Option<&Arc<HttpClient>>) -> String {
    match client {
        Some(c) => {
            let s = c.stats();
            format!(
                ", {} requests ({} retried), {:.1} MB",
                s.requests.load(std::sync::atomic::Ordering::Relaxed),
                s.retries.load(std::sync::atomic::Ordering::Relaxed),
                s.bytes.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6
            )
        }
        None => String::new(),
    }
}
