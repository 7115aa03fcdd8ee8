//! sijil-http: the read-only HTTP server of a register (DESIGN §7).
//!
//! It publishes the log and the register view so that every answer can be checked against
//! the signed checkpoint:
//!
//! - the C2SP tlog-tiles endpoints (c2sp.org/tlog-tiles) from the register's files —
//!   `/checkpoint`, `/tile/<L>/<N>[.p/<W>]`, `/tile/entries/<N>[.p/<W>]` — and the redactable
//!   texts `/blobs/<digest>` ([`tlog`]);
//! - a JSON API under `/api/v1/` whose proofs come with the checkpoint they prove against
//!   ([`api`]; docs/API.md, `/api/v1/openapi.json`), including each entry's
//!   c2sp.org/tlog-proof;
//! - HTML pages for people, in Arabic, French and English, whose **Verify** button checks the
//!   proofs in the visitor's browser ([`pages`]), and the register as open data and Atom feeds
//!   ([`open_data`]).
//!
//! Handlers are pure functions of one [`Snapshot`] (a signed checkpoint and the view of
//! exactly the entries it covers), which a background task replaces when `sijil append`
//! commits a new checkpoint ([`AppState::follow`]). Nothing beyond the served checkpoint is
//! ever served, and nothing is served unverified: tiles and bundles are checked against the
//! checkpoint's root before they are served or used (see [`store`]).
#![forbid(unsafe_code)]

use std::time::Duration;

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::http::{header, HeaderValue, Method, Request, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{BoxError, Router};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub mod api;
pub mod error;
pub mod metrics;
pub mod open_data;
pub mod pages;
pub mod params;
pub mod sequencer;
pub(crate) mod server;
pub mod state;
pub mod store;
pub mod tlog;

pub use error::Error;
pub use server::{serve, serve_router, serve_with_metrics, SHUTDOWN_GRACE};
pub use state::{AppState, CacheSizes, Clock, Snapshot};

/// How the server runs.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// How often the checkpoint file is polled for a new checkpoint.
    pub refresh_every: Duration,
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            refresh_every: Duration::from_millis(250),
            limits: Limits::default(),
        }
    }
}

/// Bounds on what clients may cost (see the `server` module for how each is enforced).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest time a request is handled before a 503.
    pub request_timeout: Duration,
    /// Longest time for a client to send a request's headers.
    pub header_read_timeout: Duration,
    /// A connection on which no byte moves for this long is closed.
    pub idle_timeout: Duration,
    /// Open connections at most.
    pub max_connections: usize,
    /// Requests handled at once at most; more get a 503 at once.
    pub max_in_flight: usize,
    /// Largest request body accepted (every endpoint is a GET).
    pub max_request_body: usize,
}

/// The application with the default [`Limits`]: what tests drive with `oneshot`.
pub fn app(state: AppState) -> Router {
    router(state, &Limits::default())
}

/// The application: every route, and the layers that bound each request.
pub fn router(state: AppState, limits: &Limits) -> Router {
    let in_flight = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.max_in_flight));
    router_with(state, limits, in_flight)
}

/// [`router`], its requests in flight counted in `in_flight` (shared with the server's fast
/// path for the log's files, `server::Front`).
pub(crate) fn router_with(
    state: AppState,
    limits: &Limits,
    in_flight: std::sync::Arc<tokio::sync::Semaphore>,
) -> Router {
    // What reads the case listing awaits it first: the first snapshot's is built on a thread
    // of its own for a while after the server opens (issue 11), and the rest is answered
    // meanwhile.
    let waits = state.clone();
    let listed = move |route: MethodRouter<AppState>| {
        route.layer(axum::middleware::from_fn_with_state(
            waits.clone(),
            after_listing,
        ))
    };
    let routes = Router::new()
        // C2SP tlog-tiles and blobs.
        .route("/checkpoint", get(tlog::checkpoint))
        .route("/tile/{*path}", get(tlog::tile))
        .route("/blobs/{name}", get(tlog::blob))
        // JSON API.
        .route("/api/v1/register", get(api::register))
        .route("/api/v1/officers", get(api::officers))
        .route("/api/v1/log-keys", get(api::log_keys))
        .route("/api/v1/cases", listed(get(api::cases)))
        .route("/api/v1/cases/{*id}", get(api::case))
        .route("/api/v1/entries/{seq}", get(api::entry))
        .route("/api/v1/entries/{seq}/tlog-proof", get(api::tlog_proof))
        .route("/api/v1/entries/{seq}/raw", get(api::raw_entry))
        .route("/api/v1/controllers", listed(get(api::controllers)))
        .route("/api/v1/controllers/{*id}", listed(get(api::controller)))
        .route("/api/v1/stats", listed(get(api::stats)))
        .route("/api/v1/proof/inclusion", get(api::inclusion))
        .route("/api/v1/proof/consistency", get(api::consistency))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/healthz", get(api::healthz))
        // Pages.
        .route("/", listed(get(pages::home_page)))
        .route("/affaires", listed(get(pages::cases_page)))
        .route("/affaires/{*id}", get(pages::case_page))
        .route("/responsables", listed(get(pages::controllers_page)))
        .route("/responsables/{*id}", listed(get(pages::controller_page)))
        .route("/verification", get(pages::verification_page))
        .route("/statistiques", listed(get(pages::stats_page)))
        // Open data and feeds.
        .route("/open-data/cases.csv", listed(get(open_data::cases_csv)))
        .route("/open-data/cases.json", listed(get(open_data::cases_json)))
        .route("/open-data/events.csv", get(open_data::events_csv))
        .route("/open-data/events.json", get(open_data::events_json))
        .route("/feeds/events.atom", get(open_data::events_feed))
        .route("/feeds/cases/{*id}", get(open_data::case_feed))
        .route(
            "/feeds/controllers/{*id}",
            listed(get(open_data::controller_feed)),
        )
        // The API's English spelling, typed into a browser: the page it means.
        .route("/cases", get(pages::redirect_to_page))
        .route("/cases/{*id}", get(pages::redirect_to_page))
        .route("/controllers", get(pages::redirect_to_page))
        .route("/controllers/{*id}", get(pages::redirect_to_page))
        .route("/assets/sijil.css", get(pages::style))
        .route("/assets/verify.js", get(pages::verify_js))
        .route("/assets/sijil-verify-core.js", get(pages::verify_core_js))
        .fallback(not_found)
        .with_state(state);
    // `Router::layer` wraps each route on its own: the in-flight limit must be one semaphore
    // shared by all of them, hence the global layer.
    let bounds = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(in_flight))
        .timeout(limits.request_timeout);
    routes
        .layer(bounds)
        .layer(RequestBodyLimitLayer::new(limits.max_request_body))
        .layer(
            // c2sp.org/tlog-tiles clients in browsers (and on other sites) read the log. The
            // answer is the same for every origin, so no `Vary: Origin` (which would split
            // every cached tile by the site asking).
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::HEAD])
                .vary([]),
        )
        .layer(
            // Text (JSON answers, pages, feeds) is gzipped for clients that accept it, with
            // `Vary: Accept-Encoding`: a case answer's proofs are mostly base64 hashes, about
            // half the size gzipped (docs/PERFORMANCE.md). Tiles and bundles are left alone:
            // hash tiles do not compress, and bundles are gzipped once when verified.
            CompressionLayer::new()
                .gzip(true)
                .quality(CompressionLevel::Fastest)
                .compress_when(SizeAbove::new(1024).and(is_text)),
        )
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(
            // One INFO event per request, under this crate's target (RUST_LOG=sijil_http=info).
            // 5xx are logged where they happen (`Error::internal`), so no failure event here.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    tracing::info_span!("request", method = %req.method(), uri = %req.uri())
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _: &tracing::Span| {
                    tracing::info!(
                        status = res.status().as_u16(),
                        latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
                        "response"
                    );
                })
                .on_failure(()),
        )
}

/// Runs `next` once the case listing is built ([`AppState::listed`]).
async fn after_listing(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request<Body>,
    next: Next,
) -> Response {
    state.listed().await;
    next.run(request).await
}

/// Whether a response is text worth compressing: JSON, HTML, CSV, Atom, CSS, JavaScript.
fn is_text(
    _: StatusCode,
    _: axum::http::Version,
    headers: &axum::http::HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.starts_with("text/")
                || t.starts_with("application/json")
                || t.starts_with("application/atom+xml")
                || t.starts_with("application/javascript")
        })
}

/// 404: JSON for the API and the log's files, a page in the visitor's language for a browser
/// that asked for HTML anywhere else.
async fn not_found(uri: Uri, headers: axum::http::HeaderMap) -> Error {
    let path = uri.path();
    let machine = [
        "/api/",
        "/tile/",
        "/blobs/",
        "/checkpoint",
        "/healthz",
        "/assets/",
    ]
    .iter()
    .any(|p| path.starts_with(p));
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !machine {
        let lang = pages::Lang::negotiate(&uri, &headers);
        return Error::not_found(lang.plain("error-no-page")).html(lang);
    }
    Error::not_found(format!(
        "{}: no such resource",
        path.chars().take(200).collect::<String>()
    ))
}

/// 503 for a request shed (too many at once) or that took too long.
async fn overloaded(err: BoxError) -> Response {
    let message = if err.is::<tower::timeout::error::Elapsed>() {
        TOOK_TOO_LONG
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        TOO_MANY
    } else {
        tracing::error!(error = %err, "request failed in a middleware");
        "the server could not handle the request"
    };
    unavailable(message)
}

/// Why a request timed out ([`Limits::request_timeout`]).
const TOOK_TOO_LONG: &str = "the request took too long";
/// Why a request was shed ([`Limits::max_in_flight`]).
const TOO_MANY: &str = "too many requests at once; retry shortly";

/// 503 with `Retry-After`, saying why.
fn unavailable(message: &str) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests;
