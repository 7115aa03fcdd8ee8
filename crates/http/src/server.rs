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
//!
//! `sijil serve` answers `GET`/`HEAD` of `/checkpoint` and `/tile/…`, and inclusion proofs
//! and entries asked without `Accept-Encoding`, in front of the router ([`Front`]), under the same rules,
//! so that the log's files are served at a static file server's rate (issue 11).

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

use axum::body::{Body, HttpBody};
use axum::http::{header, HeaderValue, Method, Request, Version};
use axum::response::{IntoResponse as _, Response};

use crate::state::AppState;
use crate::store::Io;
use crate::{router_with, tlog, Config, Limits};

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
    let front = Front::new(state.clone(), &limits, metrics);
    let (closing_tx, closing_rx) = watch::channel(false);
    let follower = tokio::spawn(state.follow(config.refresh_every, closed(closing_rx)));
    let result = serve_service(listener, front, &limits, shutdown).await;
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
    let app = app.layer(axum::middleware::from_fn(one_host));
    serve_service(listener, app, limits, shutdown).await
}

/// The accept loop of [`serve_router`], each connection answered by `service`.
async fn serve_service<S>(
    listener: TcpListener,
    service: S,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()>
where
    S: tower::Service<
            Request<hyper::body::Incoming>,
            Response = Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let (closing_tx, closing_rx) = watch::channel(false);
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
        let service = TowerToHyperService::new(service.clone());
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

/// RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
/// HTTP/1.1 request message that lacks a Host header field and to any request message that
/// contains more than one Host header field". Checked on real connections (the router's
/// tests send requests without one).
async fn one_host(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match host_problem(&request) {
        Some(why) => crate::error::Error::bad_request(why).into_response(),
        None => next.run(request).await,
    }
}

/// Why `request` breaks RFC 9112 §3.2's Host rule ([`one_host`]), if it does.
fn host_problem<B>(request: &Request<B>) -> Option<String> {
    let hosts = request.headers().get_all(header::HOST).iter().count();
    if hosts > 1 {
        Some(format!(
            "{hosts} Host headers: a request has at most one (RFC 9112 §3.2)"
        ))
    } else if hosts == 0 && request.version() == Version::HTTP_11 {
        Some("no Host header: an HTTP/1.1 request needs one (RFC 9112 §3.2)".to_string())
    } else {
        None
    }
}

/// The service of every connection of `sijil serve`: `GET` and `HEAD` of `/checkpoint` and
/// `/tile/…`, and of `/api/v1/proof/inclusion` and `/api/v1/entries/{seq}` without
/// `Accept-Encoding` ([`Front::takes_proof`], [`Front::entry_seq`]), are answered here, without the router's layers; every other
/// request goes to the router.
///
/// The log's files are what clients fetch most, one small file per request, where the
/// router's per-request work (a clone of every layer's service, a boxed future per layer,
/// the CORS and compression layers' checks) was a large part of the cost (issue 11: 0.6 of
/// nginx's rate for tiles). The same rules hold here, and `tests::the_fast_path_…` checks
/// each against the router: a request breaking the Host rule, with a query, with a body
/// or another method goes to the router, which refuses it; the requests in flight share
/// one semaphore with the router's limit (beyond it, the same 503); a read that needs the
/// disk runs on the blocking pool within [`Limits::request_timeout`]; the CORS and
/// `nosniff` headers, `Content-Length` and `HEAD` are as the router's; each request is
/// counted in the metrics and logged as the router's are. Shutdown is the connection's
/// (hyper's), as for any request.
#[derive(Clone)]
pub(crate) struct Front {
    state: AppState,
    /// Every other request's answer (with the Host rule and the metrics).
    pub(crate) router: axum::Router,
    /// The requests in flight, shared with the router's limit.
    in_flight: Arc<Semaphore>,
    request_timeout: Duration,
    metrics: Option<Arc<crate::metrics::Metrics>>,
}

impl Front {
    /// The service of `sijil serve`: the router of `state` with `limits`, the Host rule,
    /// and `metrics` when given, behind the fast path.
    pub(crate) fn new(
        state: AppState,
        limits: &Limits,
        metrics: Option<Arc<crate::metrics::Metrics>>,
    ) -> Front {
        let in_flight = Arc::new(Semaphore::new(limits.max_in_flight));
        let mut router = router_with(state.clone(), limits, Arc::clone(&in_flight))
            .layer(axum::middleware::from_fn(one_host));
        if let Some(m) = &metrics {
            router = router.layer(m.layer());
        }
        Front {
            state,
            router,
            in_flight,
            request_timeout: limits.request_timeout,
            metrics,
        }
    }

    /// Whether the fast path answers `request` (otherwise the router does).
    fn takes<B: HttpBody>(request: &Request<B>) -> bool {
        let path = request.uri().path();
        (request.method() == Method::GET || request.method() == Method::HEAD)
            && (path == "/checkpoint" || path.starts_with("/tile/"))
            && request.uri().query().is_none()
            && request.body().is_end_stream()
            && host_problem(request).is_none()
    }

    /// Whether the fast path answers `request` as an inclusion proof
    /// (`GET /api/v1/proof/inclusion?…`, the API's most frequent request): from a client that
    /// sent no `Accept-Encoding`, whose answer the router's compression layer leaves as it is
    /// (one that accepts gzip goes to the router, which compresses it).
    pub(crate) fn takes_proof<B: HttpBody>(request: &Request<B>) -> bool {
        (request.method() == Method::GET || request.method() == Method::HEAD)
            && request.uri().path() == "/api/v1/proof/inclusion"
            && !request.headers().contains_key(header::ACCEPT_ENCODING)
            && request.body().is_end_stream()
            && host_problem(request).is_none()
    }

    /// The `{seq}` of `GET /api/v1/entries/{seq}` if the fast path answers it: as
    /// [`Front::takes_proof`], and only for a seq of ASCII digits, which the router's `Path`
    /// would take as it is (no percent-decoding to match); anything else goes to the router.
    pub(crate) fn entry_seq<B: HttpBody>(request: &Request<B>) -> Option<&str> {
        let seq = request.uri().path().strip_prefix("/api/v1/entries/")?;
        ((request.method() == Method::GET || request.method() == Method::HEAD)
            && !seq.is_empty()
            && seq.bytes().all(|b| b.is_ascii_digit())
            && !request.headers().contains_key(header::ACCEPT_ENCODING)
            && request.body().is_end_stream()
            && host_problem(request).is_none())
        .then_some(seq)
    }

    /// The router's 503 when no place is left among the requests in flight (the router's
    /// `GlobalConcurrencyLimitLayer` shares the semaphore).
    fn busy(&self, parts: &axum::http::request::Parts, started: Instant) -> FrontFuture {
        FrontFuture::Ready(Some(Front::finish(
            self.metrics.as_deref(),
            &parts.method,
            &parts.uri,
            started,
            crate::unavailable(crate::TOO_MANY),
        )))
    }

    /// An inclusion proof (`seq` none) or an entry answered by the router's own handler
    /// ([`crate::api::inclusion`], [`crate::api::entry`]), without the router's layers, under
    /// the same limits: the in-flight semaphore, the request timeout, and the headers the
    /// layers add ([`Front::finish`], and the compression layer's `Vary`).
    fn api<B: HttpBody>(&self, request: Request<B>, seq: Option<String>) -> FrontFuture {
        let started = Instant::now();
        let (parts, _) = request.into_parts();
        let metrics = self.metrics.clone();
        let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            return self.busy(&parts, started);
        };
        let state = self.state.clone();
        let timeout = self.request_timeout;
        FrontFuture::Slow(Box::pin(async move {
            let state = axum::extract::State(state);
            let uri = parts.uri.clone();
            let answer = match seq {
                Some(seq) => {
                    let path = axum::extract::Path(seq);
                    tokio::time::timeout(timeout, crate::api::entry(state, path, uri)).await
                }
                None => tokio::time::timeout(timeout, crate::api::inclusion(state, uri)).await,
            };
            drop(permit);
            let mut response = match answer {
                Ok(answer) => answer.into_response(),
                Err(_) => crate::unavailable(crate::TOOK_TOO_LONG),
            };
            vary_as_compressed(&mut response);
            Front::finish(
                metrics.as_deref(),
                &parts.method,
                &parts.uri,
                started,
                response,
            )
        }))
    }

    /// The router's finishing touches on a fast-path answer, and its count.
    fn finish(
        metrics: Option<&crate::metrics::Metrics>,
        method: &Method,
        uri: &axum::http::Uri,
        started: Instant,
        mut response: Response,
    ) -> Response {
        let h = response.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        if !h.contains_key(header::X_CONTENT_TYPE_OPTIONS) {
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
        }
        if !response.headers().contains_key(header::CONTENT_LENGTH) {
            if let Some(n) = response.body().size_hint().exact() {
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(n));
            }
        }
        if method == Method::HEAD {
            *response.body_mut() = Body::empty();
        }
        let status = response.status();
        if let Some(m) = metrics {
            m.observe(
                crate::metrics::route_class(uri.path()),
                status,
                started.into_std(),
            );
        }
        tracing::info!(
            method = %method,
            uri = %uri,
            status = status.as_u16(),
            latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            "response"
        );
        response
    }
}

impl<B> tower::Service<Request<B>> for Front
where
    B: HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = FrontFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The router is always ready, and so is the fast path.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> FrontFuture {
        let seq = Front::entry_seq(&request).map(str::to_owned);
        if seq.is_some() || Front::takes_proof(&request) {
            return self.api(request, seq);
        }
        if !Front::takes(&request) {
            return FrontFuture::Router(self.router.call(request.map(Body::new)));
        }
        let started = Instant::now();
        let (parts, _) = request.into_parts();
        let metrics = self.metrics.clone();
        let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
            return self.busy(&parts, started);
        };
        let path = parts.uri.path();
        match tlog::log_answer(&self.state, path, &parts.headers, Io::KnownFiles) {
            Err(e) if e.is_needs_io() => {
                let state = self.state.clone();
                let timeout = self.request_timeout;
                FrontFuture::Slow(Box::pin(async move {
                    let path = parts.uri.path().to_owned();
                    let answer = tokio::time::timeout(
                        timeout,
                        tlog::verified_answer(state, path, parts.headers),
                    )
                    .await;
                    drop(permit);
                    let response = match answer {
                        Ok(answer) => answer.into_response(),
                        Err(_) => crate::unavailable(crate::TOOK_TOO_LONG),
                    };
                    Front::finish(
                        metrics.as_deref(),
                        &parts.method,
                        &parts.uri,
                        started,
                        response,
                    )
                }))
            }
            answer => {
                drop(permit);
                FrontFuture::Ready(Some(Front::finish(
                    metrics.as_deref(),
                    &parts.method,
                    &parts.uri,
                    started,
                    answer.into_response(),
                )))
            }
        }
    }
}

/// The future of [`Front`]: an answer made at once, one being read from disk, or the
/// router's.
pub(crate) enum FrontFuture {
    Ready(Option<Response>),
    Slow(Pin<Box<dyn Future<Output = Response> + Send>>),
    Router(axum::routing::future::RouteFuture<std::convert::Infallible>),
}

impl Future for FrontFuture {
    type Output = Result<Response, std::convert::Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            FrontFuture::Ready(response) => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => Poll::Pending,
            },
            FrontFuture::Slow(f) => f.as_mut().poll(cx).map(Ok),
            FrontFuture::Router(f) => Pin::new(f).poll(cx),
        }
    }
}

/// The `Vary: Accept-Encoding` the router's compression layer adds to an answer it would
/// compress for a client that accepts gzip (text of at least 1 KiB, `crate::router_with`),
/// and leaves as it is for one that does not (`HEAD` too: its body is dropped after).
fn vary_as_compressed(response: &mut Response) {
    let text = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let large = response
        .body()
        .size_hint()
        .exact()
        .is_none_or(|n| n >= 1024);
    if text && large && !response.headers().contains_key(header::CONTENT_ENCODING) {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// Completes when the flag turns true (or its sender is gone).
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
