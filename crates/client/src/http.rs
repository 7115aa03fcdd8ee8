//! Fetching a register over HTTP: a [`Source`] for the audit engine, with concurrency,
//! retries, a rate cap and bounds on what a server may send.
//!
//! Every request sends `Accept-Encoding: gzip, identity` and every answer in gzip is decoded,
//! asked for or not (c2sp.org/tlog-tiles: logs MAY send `Content-Encoding: gzip` without
//! negotiation). Nothing fetched here is trusted: callers verify every byte against a signed
//! checkpoint before they use it (tiles through `TileHashReader` or the `Auditor`, blobs
//! against their digests).
//!
//! Failures are kept in two kinds. *Transient* ones are retried with exponential backoff, a
//! bounded number of times: connection errors, timeouts (a stalled server), a body that ends
//! early or does not decode, 5xx and 429. *Permanent* ones are not: any other status, and a
//! body over the size limit. A 404 or 410 is not a failure but "absent" (`Ok(None)`), which
//! the tlog-tiles client rules need (a partial tile that is gone, an erased blob).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt as _};
use rand_core::{OsRng, RngCore as _};
use reqwest::header::{HeaderValue, ACCEPT_ENCODING, CONTENT_TYPE, USER_AGENT};
use reqwest::StatusCode;
use sijil_register::audit::{Source, SourceError};

/// How a client talks to servers.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Retries of a transient failure, after the first attempt.
    pub retries: u32,
    /// Backoff before the first retry; it doubles at each retry, with jitter.
    pub backoff: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// The longest a whole request may take (connect, headers, body): a stalled server is a
    /// transient failure after this.
    pub timeout: Duration,
    /// The longest a connection may take to open.
    pub connect_timeout: Duration,
    /// The largest body accepted, decoded (a bundle of 256 entries of 65,535 bytes is 16.8 MB).
    pub max_body: usize,
    /// At most this many requests started per second (`None`: no cap).
    pub rate: Option<f64>,
}

impl Default for HttpOptions {
    fn default() -> HttpOptions {
        HttpOptions {
            concurrency: 24,
            retries: 5,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_body: 32 << 20,
            rate: None,
        }
    }
}

/// Counters of what a client did, for reports and tests.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Requests sent, retries included.
    pub requests: AtomicU64,
    /// Retries after a transient failure.
    pub retries: AtomicU64,
    /// Body bytes received (decoded).
    pub bytes: AtomicU64,
}

/// An HTTP client with its own small async runtime, usable from synchronous code (the audit
/// engine calls [`Source::get_many`] from plain threads).
#[derive(Debug)]
pub struct HttpClient {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    opts: HttpOptions,
    /// When the next request may start, under `--rate`.
    next_slot: Mutex<Instant>,
    stats: HttpStats,
}

/// Why a request failed, after any retries.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpError {
    #[error("{url}: {message} (after {attempts} attempts)")]
    Transient {
        url: String,
        message: String,
        attempts: u32,
    },
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: body larger than {max} bytes")]
    TooLarge { url: String, max: usize },
    #[error("cannot start the HTTP client: {message}")]
    Setup { message: String },
}

/// One answer: its status, content type and body (decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

enum Attempt {
    Done(Answer),
    Retry(String),
    Fail(HttpError),
}

impl HttpClient {
    /// A client with `opts`.
    ///
    /// # Errors
    /// [`HttpError::Setup`] if the runtime or the TLS configuration cannot be built.
    pub fn new(opts: HttpOptions) -> Result<HttpClient, HttpError> {
        let setup = |e: &dyn std::fmt::Display| HttpError::Setup {
            message: e.to_string(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sijil-http")
            .enable_all()
            .build()
            .map_err(|e| setup(&e))?;
        let client = reqwest::Client::builder()
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .pool_max_idle_per_host(opts.concurrency.max(1))
            .tcp_nodelay(true)
            .gzip(true)
            .build()
            .map_err(|e| setup(&e))?;
        Ok(HttpClient {
            runtime,
            client,
            opts,
            next_slot: Mutex::new(Instant::now()),
            stats: HttpStats::default(),
        })
    }

    /// The options in force.
    pub fn options(&self) -> &HttpOptions {
        &self.opts
    }

    /// What the client did so far.
    pub fn stats(&self) -> &HttpStats {
        &self.stats
    }

    /// Runs a future on the client's runtime (for callers outside async code).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// `GET url`, retried on transient failures: the answer whatever its status, except that
    /// 5xx and 429 are retried first.
    ///
    /// # Errors
    /// [`HttpError::Transient`] once the retries are spent, [`HttpError::TooLarge`].
    pub async fn get(&self, url: &str) -> Result<Answer, HttpError> {
        self.send(url, None, self.opts.max_body).await
    }

    /// As [`HttpClient::get`], with a smaller body limit for this request.
    ///
    /// # Errors
    /// As [`HttpClient::get`].
    pub async fn get_limited(&self, url: &str, max_body: usize) -> Result<Answer, HttpError> {
        self.send(url, None, max_body.min(self.opts.max_body)).await
    }

    /// `POST url` with `body` (`text/plain`), retried like [`HttpClient::get`] (the witness
    /// protocol is idempotent: a repeated add-checkpoint gets 409 or the same answer).
    ///
    /// # Errors
    /// As [`HttpClient::get`].
    pub async fn post(&self, url: &str, body: Vec<u8>) -> Result<Answer, HttpError> {
        self.send(url, Some(body), self.opts.max_body).await
    }

    async fn send(
        &self,
        url: &str,
        body: Option<Vec<u8>>,
        max_body: usize,
    ) -> Result<Answer, HttpError> {
        let mut attempt = 0u32;
        loop {
            self.wait_for_slot().await;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            match self.attempt(url, body.clone(), max_body).await {
                Attempt::Done(a) => return Ok(a),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(message) => {
                    attempt += 1;
                    if attempt > self.opts.retries {
                        return Err(HttpError::Transient {
                            url: url.to_owned(),
                            message,
                            attempts: attempt,
                        });
                    }
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let delay = self.backoff(attempt);
                    tracing::debug!(url, attempt, error = %message, delay_ms = delay.as_millis() as u64, "retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn attempt(&self, url: &str, body: Option<Vec<u8>>, max_body: usize) -> Attempt {
        let request = match body {
            None => self.client.get(url),
            Some(b) => self
                .client
                .post(url)
                .header(CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(b),
        }
        .header(ACCEPT_ENCODING, HeaderValue::from_static("gzip, identity"))
        .header(USER_AGENT, concat!("sijil/", env!("CARGO_PKG_VERSION")));
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(describe(&e)),
        };
        let status = response.status();
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Attempt::Retry(format!("HTTP {}", status.as_u16()));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut data = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if data.len() + chunk.len() > max_body {
                        return Attempt::Fail(HttpError::TooLarge {
                            url: url.to_owned(),
                            max: max_body,
                        });
                    }
                    data.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // A body cut short (Content-Length not reached), a reset connection or a
                // gzip stream that does not decode: the next attempt may get it whole.
                Err(e) => return Attempt::Retry(format!("reading the body: {}", describe(&e))),
            }
        }
        self.stats
            .bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        Attempt::Done(Answer {
            status: status.as_u16(),
            content_type,
            body: data,
        })
    }

    /// Waits for the next request slot under the rate cap.
    async fn wait_for_slot(&self) {
        let Some(rate) = self.opts.rate.filter(|r| *r > 0.0) else {
            return;
        };
        let interval = Duration::from_secs_f64(1.0 / rate);
        let start = {
            let mut next = match self.next_slot.lock() {
                Ok(n) => n,
                Err(poisoned) => poisoned.into_inner(),
            };
            let now = Instant::now();
            let start = (*next).max(now);
            *next = start + interval;
            start
        };
        tokio::time::sleep_until(start.into()).await;
    }

    /// `backoff · 2^(attempt−1)`, capped, with up to 50% random jitter so that many clients
    /// (or many requests of one client) do not retry in step.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .opts
            .backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.opts.max_backoff);
        let jitter = OsRng.next_u32() as f64 / f64::from(u32::MAX) * 0.5;
        base.mul_f64(1.0 + jitter).min(self.opts.max_backoff)
    }
}

fn describe(e: &reqwest::Error) -> String {
    // reqwest's Display is terse ("error sending request"); the source says why.
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

/// A register served over HTTP at a base URL (`https://host/prefix/`): `checkpoint`, tiles and
/// blobs are fetched below it.
#[derive(Clone, Debug)]
pub struct HttpSource {
    client: Arc<HttpClient>,
    base: String,
}

impl HttpSource {
    /// The register at `base` (a trailing `/` is added if missing).
    pub fn new(client: Arc<HttpClient>, base: &str) -> HttpSource {
        let mut base = base.to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        HttpSource { client, base }
    }

    /// The client (for its counters).
    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// The base URL, ending in `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let url = format!("{}{path}", self.base);
        let fail = |message: String| SourceError {
            path: url.clone(),
            message,
        };
        let answer = self
            .client
            .get_limited(&url, largest_file(path))
            .await
            .map_err(|e| fail(e.to_string()))?;
        match answer.status {
            200 => Ok(Some(answer.body)),
            404 | 410 => Ok(None),
            status => Err(fail(format!("HTTP {status}"))),
        }
    }
}

impl Source for HttpSource {
    fn describe(&self) -> String {
        self.base.clone()
    }

    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        self.client.block_on(self.fetch(path))
    }

    fn get_many(&self, paths: &[String]) -> Vec<Result<Option<Vec<u8>>, SourceError>> {
        let concurrency = self.client.opts.concurrency.max(1);
        self.client.block_on(
            stream::iter(paths.iter().map(|p| self.fetch(p)))
                .buffered(concurrency)
                .collect(),
        )
    }
}

/// The largest a published file can be, by its path: a checkpoint note, a full hash tile, a
/// bundle of 256 entries of the largest size, a blob (salt and the longest text). A server
/// sending more is refused before it fills memory.
fn largest_file(path: &str) -> usize {
    use sijil_core::{blob::MAX_TEXT_LEN, bundle::MAX_ENTRY_SIZE, note::MAX_NOTE_SIZE};
    if path == "checkpoint" {
        MAX_NOTE_SIZE
    } else if path.starts_with("tile/entries/") {
        256 * (2 + MAX_ENTRY_SIZE)
    } else if path.starts_with("tile/") {
        sijil_core::tile::FULL_TILE_BYTES
    } else if path.starts_with("blobs/") {
        32 + MAX_TEXT_LEN
    } else {
        usize::MAX
    }
}

/// Whether `s` names an HTTP(S) register rather than a directory.
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let c = HttpClient::new(HttpOptions {
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            ..HttpOptions::default()
        })
        .expect("client");
        let b1 = c.backoff(1);
        assert!(b1 >= Duration::from_millis(100) && b1 <= Duration::from_millis(150));
        let b3 = c.backoff(3);
        assert!(b3 >= Duration::from_millis(400) && b3 <= Duration::from_millis(600));
        assert!(c.backoff(30) <= Duration::from_secs(1));
    }

    /// A server answering every request with `body` (status 200, Connection: close).
    fn serve(body: &'static [u8]) -> String {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let mut conn = conn;
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(body);
            }
        });
        format!("http://{addr}/")
    }

    #[test]
    fn rate_cap_spaces_requests_and_bodies_are_bounded() {
        let url = serve(&[7u8; 2048]);
        let c = Arc::new(
            HttpClient::new(HttpOptions {
                rate: Some(20.0),
                max_body: 1024,
                retries: 0,
                ..HttpOptions::default()
            })
            .expect("client"),
        );
        let source = HttpSource::new(Arc::clone(&c), &url);
        let started = Instant::now();
        let paths: Vec<String> = (0..6).map(|i| format!("blobs/{i}")).collect();
        let got = source.get_many(&paths);
        // Six requests at 20 per second: the last starts 250 ms after the first.
        assert!(
            started.elapsed() >= Duration::from_millis(245),
            "{:?}",
            started.elapsed()
        );
        assert!(got
            .iter()
            .all(|r| matches!(r, Err(e) if e.message.contains("larger than 1024"))));
        assert_eq!(c.stats().requests.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn urls_and_directories() {
        assert!(is_url("http://127.0.0.1:8080/"));
        assert!(is_url("https://registre.example.ma/plaintes"));
        assert!(!is_url("./registre"));
        assert!(!is_url("/srv/http-mirror"));
    }
}
