//! The accept loop: HTTP/1.1 connections with limits a slow or hostile client cannot get
//! around, and a graceful shutdown.
//!
//! - at most [`Limits::max_connections`] open connections: beyond, new ones wait in the
//!   kernel's backlog instead of costing memory here;
//! - request headers must arrive within [`Limits::header_read_timeout`] (slowloris), and a
//!   connection on which nothing moves for [`Limits::idle_timeout`], reading or writing (an
//!   idle keep-alive, or a client that stops reading its answer), is closed;
//! - headers are capped at 16 KiB; bodies at [`Limits::max_request_body`] (every endpoint is a
//!   GET);
//! - at most [`Limits::max_in_flight`] requests are handled at once, and none for longer than
//!   [`Limits::request_timeout`]: beyond, a 503 at once (load shedding), so a burst never
//!   queues unbounded work.
//!
//! On shutdown the listener closes, idle connections close, requests in progress finish
//! (within [`SHUTDOWN_GRACE`]), and the refresher stops.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::state::AppState;
use crate::{router, Config, Limits};

/// How long requests in progress may take to finish once shutdown starts.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

/// The largest request head (request line and headers) read.
const MAX_HEAD: usize = 16 << 10;

/// Serves `state` on `listener` until `shutdown` completes, following the log every
/// `config.refresh_every`.
///
/// # Errors
/// Only if the connection limit cannot be set up; failed connections and accepts are logged
/// and the server goes on.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_with_metrics(listener, state, config, None, shutdown).await
}

/// As [`serve`], counting every request in `metrics` when given (`sijil serve
/// --metrics-listen`; the metrics themselves are served elsewhere, [`crate::metrics`]).
///
/// # Errors
/// As [`serve`].
pub async fn serve_with_metrics(
    listener: TcpListener,
    state: AppState,
    config: Config,
    metrics: Option<Arc<crate::metrics::Metrics>>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = config.limits;
    let mut app = router(state.clone(), &limits);
    if let Some(m) = &metrics {
        app = app.layer(m.layer());
    }
    let (closing_tx, closing_rx) = watch::channel(false);
    let follower = tokio::spawn(state.follow(config.refresh_every, closed(closing_rx)));
    let result = serve_router(listener, app, &limits, shutdown).await;
    let _ = closing_tx.send(true);
    let _ = follower.await;
    result
}

/// Serves `app` on `listener` with the connection bounds of `limits` until `shutdown`
/// completes, then finishes the requests in progress (within [`SHUTDOWN_GRACE`]). The
/// accept loop of `sijil serve` and of `sijil sequencer`.
///
/// # Errors
/// Only if the connection limit cannot be set up; failed connections and accepts are logged
/// and the server goes on.
pub async fn serve_router(
    listener: TcpListener,
    app: axum::Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let (closing_tx, closing_rx) = watch::channel(false);
    let app = app.layer(axum::middleware::from_fn(one_host));
    let max = u32::try_from(limits.max_connections)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "max_connections too large"))?;
    let connections = Arc::new(Semaphore::new(max as usize));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = Arc::clone(&connections).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(IdleTimeout::new(stream, limits.idle_timeout));
        let service = TowerToHyperService::new(app.clone());
        let closing = closing_rx.clone();
        let header_timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_buf_size(MAX_HEAD);
            let conn = builder.serve_connection(io, service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                _ = closed(closing) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing the requests in progress");
    let _ = closing_tx.send(true);
    if tokio::time::timeout(SHUTDOWN_GRACE, connections.acquire_many(max))
        .await
        .is_err()
    {
        tracing::warn!("shutdown: some connections did not finish in time");
    }
    Ok(())
}

/// Completes when the flag turns true (or its sender is gone).
/// RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
/// HTTP/1.1 request message that lacks a Host header field and to any request message that
/// contains more than one Host header field". Checked on real connections (the router's
/// tests send requests without one).
async fn one_host(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let hosts = request
        .headers()
        .get_all(axum::http::header::HOST)
        .iter()
        .count();
    let needed = request.version() == axum::http::Version::HTTP_11;
    if hosts > 1 || (needed && hosts == 0) {
        let why = if hosts > 1 {
            format!("{hosts} Host headers: a request has at most one (RFC 9112 §3.2)")
        } else {
            "no Host header: an HTTP/1.1 request needs one (RFC 9112 §3.2)".to_string()
        };
        return crate::error::Error::bad_request(why).into_response();
    }
    next.run(request).await
}

async fn closed(mut flag: watch::Receiver<bool>) {
    let _ = flag.wait_for(|c| *c).await;
}

/// A TCP stream that fails a read or write on which nothing has moved for `timeout`.
///
/// hyper bounds the wait for request headers, but not an idle keep-alive connection nor a
/// client that never reads its answer: each would hold a connection slot for ever.
struct IdleTimeout {
    stream: TcpStream,
    timeout: Duration,
    read: Deadline,
    write: Deadline,
}

struct Deadline {
    sleep: Pin<Box<Sleep>>,
    armed: bool,
}

impl Deadline {
    fn new() -> Deadline {
        Deadline {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: false,
        }
    }

    /// Called when the operation is pending: starts the clock if it is not running, and says
    /// whether time is up (registering the waker otherwise).
    fn expired(&mut self, timeout: Duration, cx: &mut Context<'_>) -> bool {
        if !self.armed {
            self.sleep.as_mut().reset(Instant::now() + timeout);
            self.armed = true;
        }
        self.sleep.as_mut().poll(cx).is_ready()
    }
}

impl IdleTimeout {
    fn new(stream: TcpStream, timeout: Duration) -> IdleTimeout {
        IdleTimeout {
            stream,
            timeout,
            read: Deadline::new(),
            write: Deadline::new(),
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long")
}

impl AsyncRead for IdleTimeout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read.armed = false;
                Poll::Ready(r)
            }
            Poll::Pending if this.read.expired(this.timeout, cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for IdleTimeout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.write.armed = false;
                Poll::Ready(r)
            }
            Poll::Pending if this.write.expired(this.timeout, cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                this.write.armed = false;
                Poll::Ready(r)
            }
            Poll::Pending if this.write.expired(this.timeout, cx) => Poll::Ready(Err(timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// Defaults sized for one small machine; `sijil serve` uses them.
impl Default for Limits {
    fn default() -> Limits {
        Limits {
            request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 2048,
            max_in_flight: 512,
            max_request_body: 1024,
        }
    }
}
