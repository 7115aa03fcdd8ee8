//! Prometheus metrics of `sijil serve` (`--metrics-listen`, docs/OPERATIONS.md "Metrics").
//!
//! Counting costs a request three relaxed atomic additions (its route class and status, its
//! latency bucket, the latency sum), two reads of the monotonic clock and a reference count
//! taken and dropped, in a layer around each route ([`Metrics::layer`]); its future wraps the
//! route's without a new allocation. Nothing else on the serving path changes. Everything else (the
//! checkpoint's size and age) is read when Prometheus scrapes. The metrics are served on their
//! own address ([`serve_metrics`]), never on the public one: they say how the server is
//! doing, which is the operator's business.
//!
//! No Prometheus crate: the text exposition format (version 0.0.4) is a few lines of
//! `write!`, and fixed arrays of atomics hold every series.

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use crate::state::{AppState, Clock};
use crate::Limits;

/// Reads of tiles, bundles or entries that failed verification against the served checkpoint
/// (or could not be read): counted where a store error becomes a 500 (`state.rs`), which has
/// no server at hand; one server runs per process.
static VERIFICATION_FAILURES: AtomicU64 = AtomicU64::new(0);

/// Refreshes that found a checkpoint on disk that does not verify or is not consistent with
/// the one served (the server keeps serving the last good one).
static REFRESH_FAILURES: AtomicU64 = AtomicU64::new(0);

/// Counts a read that failed verification (a damaged register directory).
pub(crate) fn verification_failed() {
    VERIFICATION_FAILURES.fetch_add(1, Ordering::Relaxed);
}

/// Counts a refresh that was refused.
pub(crate) fn refresh_failed() {
    REFRESH_FAILURES.fetch_add(1, Ordering::Relaxed);
}

/// Route classes: the label `route` of the request metrics.
const ROUTES: [&str; 10] = [
    "checkpoint",
    "tile",
    "entries",
    "blob",
    "api",
    "page",
    "open_data",
    "asset",
    "health",
    "other",
];

/// The class of a request path (a few prefix comparisons).
pub(crate) fn route_class(path: &str) -> usize {
    let Some(rest) = path.strip_prefix('/') else {
        return 9;
    };
    let first = rest.split('/').next().unwrap_or_default();
    match first {
        "checkpoint" => 0,
        "tile" if rest.starts_with("tile/entries/") => 2,
        "tile" => 1,
        "blobs" => 3,
        "api" => 4,
        "" | "affaires" | "responsables" | "verification" | "statistiques" | "cases"
        | "controllers" => 5,
        "open-data" | "feeds" => 6,
        "assets" => 7,
        "healthz" => 8,
        _ => 9,
    }
}

/// Status codes 100–599, one slot each: exact codes without a lookup.
const STATUSES: usize = 500;

/// Upper bounds of the latency buckets, in microseconds (100 µs to 10 s).
const BUCKETS_US: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// The server's counters. Cheap to share ([`Arc`]); one per server.
#[derive(Debug)]
pub struct Metrics {
    /// `[route][status - 100]`.
    requests: Box<[AtomicU64]>,
    /// `[route][bucket]`, not cumulative (the last slot is above every bound: `+Inf`).
    latency: Box<[AtomicU64]>,
    /// `[route]`, total microseconds.
    latency_sum_us: Box<[AtomicU64]>,
    state: AppState,
    clock: Clock,
    started_ms: i64,
}

fn counters(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

impl Metrics {
    /// Metrics of the server of `state`; `clock` gives the time for the checkpoint's age.
    pub fn new(state: AppState, clock: Clock) -> Arc<Metrics> {
        Arc::new(Metrics {
            requests: counters(ROUTES.len() * STATUSES),
            latency: counters(ROUTES.len() * (BUCKETS_US.len() + 1)),
            latency_sum_us: counters(ROUTES.len()),
            state,
            clock,
            started_ms: clock(),
        })
    }

    /// The layer that counts every request of a router (`Router::layer`).
    pub fn layer(self: &Arc<Self>) -> MetricsLayer {
        MetricsLayer {
            metrics: Arc::clone(self),
        }
    }

    pub(crate) fn observe(&self, route: usize, status: StatusCode, started: Instant) {
        let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let code = usize::from(status.as_u16()).clamp(100, 599) - 100;
        self.requests[route * STATUSES + code].fetch_add(1, Ordering::Relaxed);
        let bucket = BUCKETS_US.partition_point(|&b| b < us);
        self.latency[route * (BUCKETS_US.len() + 1) + bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us[route].fetch_add(us, Ordering::Relaxed);
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 << 10);
        // `write!` to a String cannot fail.
        let _ = self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) -> std::fmt::Result {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        writeln!(out, "# HELP sijil_build_info The sijil version serving.")?;
        writeln!(out, "# TYPE sijil_build_info gauge")?;
        writeln!(
            out,
            "sijil_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )?;
        writeln!(
            out,
            "# HELP process_start_time_seconds When the server started (Unix seconds)."
        )?;
        writeln!(out, "# TYPE process_start_time_seconds gauge")?;
        writeln!(
            out,
            "process_start_time_seconds {}",
            seconds(self.started_ms)
        )?;

        writeln!(
            out,
            "# HELP sijil_http_requests_total Requests answered, by route class and status code."
        )?;
        writeln!(out, "# TYPE sijil_http_requests_total counter")?;
        for (r, route) in ROUTES.iter().enumerate() {
            for code in 0..STATUSES {
                let n = load(&self.requests[r * STATUSES + code]);
                if n > 0 {
                    writeln!(
                        out,
                        "sijil_http_requests_total{{route=\"{route}\",code=\"{}\"}} {n}",
                        code + 100
                    )?;
                }
            }
        }

        writeln!(
            out,
            "# HELP sijil_http_request_duration_seconds Time to the response's headers, by route class."
        )?;
        writeln!(out, "# TYPE sijil_http_request_duration_seconds histogram")?;
        let width = BUCKETS_US.len() + 1;
        for (r, route) in ROUTES.iter().enumerate() {
            let counts: Vec<u64> = (0..width)
                .map(|b| load(&self.latency[r * width + b]))
                .collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let mut cumulative = 0;
            for (b, bound) in BUCKETS_US.iter().enumerate() {
                cumulative += counts[b];
                writeln!(
                    out,
                    "sijil_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{}\"}} {cumulative}",
                    *bound as f64 / 1e6
                )?;
            }
            writeln!(
                out,
                "sijil_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {total}"
            )?;
            writeln!(
                out,
                "sijil_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                load(&self.latency_sum_us[r]) as f64 / 1e6
            )?;
            writeln!(
                out,
                "sijil_http_request_duration_seconds_count{{route=\"{route}\"}} {total}"
            )?;
        }

        let snapshot = self.state.snapshot();
        let cp = &snapshot.checkpoint;
        writeln!(
            out,
            "# HELP sijil_checkpoint_size Entries in the checkpoint served (its tree size)."
        )?;
        writeln!(out, "# TYPE sijil_checkpoint_size gauge")?;
        writeln!(out, "sijil_checkpoint_size {}", cp.checkpoint.size)?;
        writeln!(
            out,
            "# HELP sijil_checkpoint_signatures Signature lines on the checkpoint served (the log's and witnesses' cosignatures)."
        )?;
        writeln!(out, "# TYPE sijil_checkpoint_signatures gauge")?;
        writeln!(
            out,
            "sijil_checkpoint_signatures {}",
            cp.note.signatures.len()
        )?;
        if let Some(at) = snapshot.last_recorded_at() {
            writeln!(
                out,
                "# HELP sijil_checkpoint_latest_entry_timestamp_seconds When the log recorded the last entry of the checkpoint served (Unix seconds)."
            )?;
            writeln!(
                out,
                "# TYPE sijil_checkpoint_latest_entry_timestamp_seconds gauge"
            )?;
            writeln!(
                out,
                "sijil_checkpoint_latest_entry_timestamp_seconds {}",
                seconds(at)
            )?;
            writeln!(
                out,
                "# HELP sijil_checkpoint_age_seconds Time since the last entry of the checkpoint served was recorded."
            )?;
            writeln!(out, "# TYPE sijil_checkpoint_age_seconds gauge")?;
            writeln!(
                out,
                "sijil_checkpoint_age_seconds {}",
                seconds(((self.clock)() - at).max(0))
            )?;
        }

        writeln!(
            out,
            "# HELP sijil_verification_failures_total Tiles, bundles or entries read from disk that failed verification against the checkpoint served, or could not be read (each answered 500: the register directory is damaged)."
        )?;
        writeln!(out, "# TYPE sijil_verification_failures_total counter")?;
        writeln!(
            out,
            "sijil_verification_failures_total {}",
            load(&VERIFICATION_FAILURES)
        )?;
        writeln!(
            out,
            "# HELP sijil_refresh_failures_total Checkpoints on disk refused when following the log (not verified, or inconsistent with the one served, which is still served)."
        )?;
        writeln!(out, "# TYPE sijil_refresh_failures_total counter")?;
        writeln!(
            out,
            "sijil_refresh_failures_total {}",
            load(&REFRESH_FAILURES)
        )?;
        Ok(())
    }
}

/// Unix milliseconds as seconds, exactly (a decimal, not a float's rounding).
fn seconds(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let ms = ms.unsigned_abs();
    format!("{sign}{}.{:03}", ms / 1000, ms % 1000)
}

/// The [`tower::Layer`] of [`Metrics::layer`].
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    metrics: Arc<Metrics>,
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> MetricsService<S> {
        MetricsService {
            inner,
            metrics: Arc::clone(&self.metrics),
        }
    }
}

/// Counts each request of the service it wraps.
#[derive(Clone, Debug)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> tower::Service<Request> for MetricsService<S>
where
    S: tower::Service<Request, Response = Response>,
    // The router's futures are boxed already (Unpin): no projection, no new allocation.
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Counted<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Counted<S::Future> {
        let route = route_class(request.uri().path());
        Counted {
            inner: self.inner.call(request),
            metrics: Arc::clone(&self.metrics),
            route,
            started: Instant::now(),
        }
    }
}

/// The future of a counted request.
#[derive(Debug)]
pub struct Counted<F> {
    inner: F,
    metrics: Arc<Metrics>,
    route: usize,
    started: Instant,
}

impl<F, E> Future for Counted<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let result = std::task::ready!(Pin::new(&mut this.inner).poll(cx));
        if let Ok(response) = &result {
            this.metrics
                .observe(this.route, response.status(), this.started);
        }
        Poll::Ready(result)
    }
}

/// Serves `GET /metrics` on `listener` until `shutdown` completes (with the public server's
/// connection bounds, smaller: only Prometheus and an operator call it).
///
/// # Errors
/// As [`crate::serve_router`].
pub async fn serve_metrics(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let metrics = Arc::clone(&metrics);
                async move {
                    (
                        [
                            (
                                header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            ),
                            (header::CACHE_CONTROL, "no-store"),
                        ],
                        metrics.render(),
                    )
                }
            }),
        )
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found: the metrics are at /metrics\n",
            )
                .into_response()
        });
    let limits = Limits {
        max_connections: 64,
        max_in_flight: 16,
        ..Limits::default()
    };
    crate::serve_router(listener, app, &limits, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt as _;

    const NOW: i64 = 1_736_899_200_000;

    fn now() -> i64 {
        NOW + 90_000
    }

    /// The value of one series in a rendered page.
    fn value(page: &str, series: &str) -> Option<f64> {
        page.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse().ok())
    }

    #[tokio::test]
    async fn issue13_the_layer_counts_requests_by_route_and_status_and_times_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("reg");
        sijil_register::init(
            &path,
            sijil_register::InitOptions {
                origin: "test.example/metrics".into(),
                title: "t".into(),
                authority: "a".into(),
                officer_name: "amina".into(),
                now_ms: NOW,
                log_key: None,
                officer_key: None,
            },
        )
        .expect("init");
        let state = AppState::open(&path, None, crate::CacheSizes::default(), now).expect("open");
        let metrics = Metrics::new(state.clone(), now);
        let app = crate::app(state).layer(metrics.layer());
        for uri in [
            "/checkpoint",
            "/checkpoint",
            "/tile/0/000.p/2",
            "/nope",
            "/api/v1/stats",
        ] {
            let request = axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .expect("request");
            app.clone().oneshot(request).await.expect("answer");
        }
        let page = metrics.render();
        let v = |series: &str| value(&page, series);
        assert_eq!(
            v(r#"sijil_http_requests_total{route="checkpoint",code="200"}"#),
            Some(2.0)
        );
        assert_eq!(
            v(r#"sijil_http_requests_total{route="tile",code="200"}"#),
            Some(1.0)
        );
        assert_eq!(
            v(r#"sijil_http_requests_total{route="other",code="404"}"#),
            Some(1.0)
        );
        assert_eq!(
            v(r#"sijil_http_requests_total{route="api",code="200"}"#),
            Some(1.0)
        );
        assert_eq!(
            v(r#"sijil_http_request_duration_seconds_bucket{route="checkpoint",le="+Inf"}"#),
            Some(2.0)
        );
        assert_eq!(
            v(r#"sijil_http_request_duration_seconds_count{route="checkpoint"}"#),
            Some(2.0)
        );
        // Buckets are cumulative: the 10 s bucket holds every request.
        assert_eq!(
            v(r#"sijil_http_request_duration_seconds_bucket{route="checkpoint",le="10"}"#),
            Some(2.0)
        );
        assert!(
            !page.contains(r#"route="page""#),
            "no series for a class never asked"
        );
        // init's 2 entries, the last recorded at NOW; the clock says 90 s later.
        assert_eq!(v("sijil_checkpoint_size"), Some(2.0));
        assert_eq!(v("sijil_checkpoint_signatures"), Some(1.0));
        assert_eq!(v("sijil_checkpoint_age_seconds"), Some(90.0));
        assert_eq!(
            v("sijil_checkpoint_latest_entry_timestamp_seconds"),
            Some(NOW as f64 / 1000.0)
        );
        for line in page.lines().filter(|l| !l.starts_with('#')) {
            let (_, number) = line.rsplit_once(' ').expect("series value");
            assert!(number.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn issue13_route_classes() {
        for (path, class) in [
            ("/checkpoint", "checkpoint"),
            ("/tile/0/000", "tile"),
            ("/tile/0/x001/234.p/5", "tile"),
            ("/tile/entries/000.p/3", "entries"),
            ("/blobs/ab", "blob"),
            ("/api/v1/cases", "api"),
            ("/", "page"),
            ("/affaires/2024-0001", "page"),
            ("/cases", "page"),
            ("/open-data/cases.csv", "open_data"),
            ("/feeds/events.atom", "open_data"),
            ("/assets/sijil.css", "asset"),
            ("/healthz", "health"),
            ("/wp-admin", "other"),
            ("", "other"),
            ("/metrics", "other"),
        ] {
            assert_eq!(ROUTES[route_class(path)], class, "{path}");
        }
        assert_eq!(seconds(1_700_000_000_123), "1700000000.123");
        assert_eq!(seconds(-5), "-0.005");
        assert_eq!(
            BUCKETS_US.partition_point(|&b| b < 100),
            0,
            "le is inclusive"
        );
        assert_eq!(BUCKETS_US.partition_point(|&b| b < 101), 1);
        assert_eq!(
            BUCKETS_US.partition_point(|&b| b < u64::MAX),
            BUCKETS_US.len(),
            "+Inf"
        );
    }
}
