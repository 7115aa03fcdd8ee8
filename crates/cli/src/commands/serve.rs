//! `sijil serve`.

use anyhow::Context as _;
use sijil_http::{AppState, CacheSizes, Config};

use super::{now_ms, register_failure, verifier_arg};
use crate::flags::ServeArgs;
use crate::output::errln;
use crate::Failure;

pub fn serve(mut a: ServeArgs) -> Result<(), Failure> {
    let verifier = a.key.as_deref().map(verifier_arg).transpose()?;
    if super::location::is_replicated(&a.dir) {
        a.dir = follow_database(&a, verifier.clone())?;
    } else {
        super::location::no_cache(&a.dir, a.cache.as_deref())?;
    }
    // A register that does not verify: exit 1, like `sijil verify`; unreadable: exit 2.
    let state = AppState::open(&a.dir, verifier, CacheSizes::default(), now_ms)
        .map_err(register_failure)?;
    let size = state.snapshot().tree().size;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Blocking work is cache misses (file reads, verification, gzip) and the refresher:
        // CPU-bound on a few cores, so a few threads, which also bounds the memory a burst of
        // misses can take.
        .max_blocking_threads(8)
        .build()
        .context("starting the async runtime")?;
    let metrics = match a.metrics_listen.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let addr = text.parse().map_err(|e| {
                Failure::usage(anyhow::anyhow!(
                    "--metrics-listen (or SIJIL_METRICS_LISTEN) {text:?}: {e}; expected an IP address and a port, e.g. 127.0.0.1:9464"
                ))
            })?;
            Some(start_metrics(&runtime, addr, a.listen, &state)?)
        }
    };
    let what = format!("serving {} (tree size {size})", a.dir.display());
    run_server(&runtime, a.listen, what, |listener| {
        sijil_http::serve_with_metrics(
            listener,
            state,
            Config::default(),
            metrics,
            shutdown_signal(),
        )
    })
}

/// How often a replica asks the database (or the publication) for a new checkpoint.
const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// `serve postgres://…` (or `s3://…`): the replica's local copy in `--cache`, brought up to it
/// and then kept up by a thread that adopts each new batch (re-verified: the signature by
/// `--key`, the entries' chain and tiles, and their rules as the copy's state applies them)
/// and brings the copy's state along; the server serves and follows the copy as it does any
/// register directory. Returns the copy's directory.
fn follow_database(
    a: &ServeArgs,
    verifier: Option<sijil_core::note::Verifier>,
) -> Result<std::path::PathBuf, Failure> {
    let mut follower = super::location::replica(&a.dir, a.cache.as_deref(), verifier)?;
    let cache = follower.layout().root().to_path_buf();
    errln!(
        "sijil: following {} in {}",
        super::location::redacted(&a.dir),
        cache.display()
    );
    std::thread::Builder::new()
        .name("follow-database".into())
        .spawn(move || loop {
            std::thread::sleep(FOLLOW_EVERY);
            match follower.adopt(&mut |_, _| {}) {
                Ok(0) => {}
                Ok(_) => {
                    if let Err(e) =
                        sijil_register::keep_state(follower.layout(), follower.checkpoint())
                    {
                        tracing::warn!(error = %e, "could not bring the replica's state up to date; the server waits for it");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not follow the database; serving the copy as it is");
                }
            }
        })
        .context("starting the thread that follows the database")?;
    Ok(cache)
}

/// Binds `--metrics-listen` (before the public address, so a bad one stops `serve` at once)
/// and serves `/metrics` there in the background; the runtime stops it with the server.
fn start_metrics(
    runtime: &tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    public: std::net::SocketAddr,
    state: &AppState,
) -> Result<std::sync::Arc<sijil_http::metrics::Metrics>, Failure> {
    if addr == public && addr.port() != 0 {
        return Err(Failure::usage(anyhow::anyhow!(
            "--metrics-listen {addr} is the public --listen address; the metrics need their own"
        )));
    }
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .with_context(|| format!("listening on {addr} (--metrics-listen)"))?;
    let bound = listener.local_addr().context("reading the bound address")?;
    let metrics = sijil_http::metrics::Metrics::new(state.clone(), now_ms);
    runtime.spawn(sijil_http::metrics::serve_metrics(
        listener,
        std::sync::Arc::clone(&metrics),
        shutdown_signal(),
    ));
    // Not an `http://` line: the tests (and scripts) read the first one as the public address.
    errln!("sijil: metrics at {bound} (GET /metrics)");
    Ok(metrics)
}

/// The accept side of `serve` and `sequencer`: binds `listen` in `runtime`, says on stderr
/// `what` runs at which address, and runs `server` on the listener until it stops.
pub(super) fn run_server<Fut>(
    runtime: &tokio::runtime::Runtime,
    listen: std::net::SocketAddr,
    what: String,
    server: impl FnOnce(tokio::net::TcpListener) -> Fut,
) -> Result<(), Failure>
where
    Fut: std::future::Future<Output = std::io::Result<()>>,
{
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        errln!("sijil: {what} at http://{addr}/");
        server(listener).await.context("serving")?;
        errln!("sijil: stopped");
        Ok(())
    })
}

/// Completes on Ctrl-C or SIGTERM.
pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
