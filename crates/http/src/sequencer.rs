//! The sequencer: the one process that holds the log key and takes officers' signed batches
//! over HTTP (`sijil sequencer`; docs/API.md, "Submitting events").
//!
//! Officers sign on their own machines (`sijil submit`): the sequencer never sees an officer's
//! key. It answers two requests, on an address of its own (the read-only server, `sijil
//! serve`, stays read-only):
//!
//! - `GET /api/v1/submit/head?cases=ID,ID`: the log's head (size, last leaf hash, last
//!   `recorded_at`, signed checkpoint) and the heads of those cases, with the sequencer's
//!   limits ([`HeadAnswer`]);
//! - `POST /api/v1/submit`: a batch of signed entries and their texts ([`Submission`]). It is
//!   checked (each officer's signature, the register's rules including the signer's
//!   authorization, that it extends the head exactly) and committed as one batch by the same
//!   writer as `sijil append` ([`RegisterWriter::submit`]); the answer is the [`Receipt`].
//!
//! | status | when |
//! |---|---|
//! | 200 | committed: the receipt; or sent again after it was committed: the same entries' receipt (`"replayed": true`), nothing written; or a dry run that would commit |
//! | 400 | malformed, a signature that does not verify, a text missing, a clock too far off, or a rule broken (the sentence `sijil append` prints); nothing written |
//! | 403 | a signer who is not an authorized officer (or lacks the role); nothing written |
//! | 409 | the head moved since the batch was signed: `{"error", "head"}` with the new head; sign again |
//! | 413 | a body over the limit |
//! | 429 | over the request rate (`Retry-After`) |
//! | 503 | too many requests at once, or one took too long (`Retry-After`); or a [`CommitHook`] refused the batch (the register's publication shows a checkpoint its log does not extend, or cannot be read); nothing written |
//!
//! The check that a batch extends the head and its commit are one step under the writer's
//! lock: the compare-and-swap of the log. With a directory register there is one sequencer
//! (the lock file says so); a storage engine with its own compare-and-swap of the checkpoint
//! (a database) would let several run, the engine arbitrating, with the same protocol.
//!
//! What a client cannot do: hold the writer's lock. The lock is taken only once the whole body
//! was read and checked (signatures verified outside the lock), and released before the
//! answer is written; a body that arrives slowly is cut off by the request timeout. Requests
//! in flight, the body's size, the batch's size and the request rate are bounded.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::error_handling::HandleErrorLayer;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{BoxError, Router};
use serde_json::json;
use sijil_core::storage::DirTiles;
use sijil_core::tile::TileHashReader;
use sijil_projector::Rejection;
use sijil_register::batch::Needs;
use sijil_register::submission::{check_batch, HeadAnswer, Receipt, Submission, SubmissionError};
use sijil_register::{AppendReport, Error as RegisterError, RegisterWriter, Submitted};
use tower::ServiceBuilder;

use crate::Limits;

/// How the sequencer bounds its clients.
#[derive(Clone, Copy, Debug)]
pub struct SequencerConfig {
    /// The most entries one submission may carry.
    pub max_events: usize,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// Requests per second, on average, across all clients (a token bucket).
    pub rate: f64,
    /// Requests allowed at once above the average rate (the bucket's size).
    pub burst: u32,
    /// Connections, timeouts and requests in flight ([`crate::serve_router`]).
    pub limits: Limits,
}

impl Default for SequencerConfig {
    fn default() -> SequencerConfig {
        let max_body = 16 << 20;
        SequencerConfig {
            max_events: 1_000,
            max_body,
            rate: 50.0,
            burst: 100,
            limits: Limits {
                request_timeout: Duration::from_secs(30),
                header_read_timeout: Duration::from_secs(10),
                idle_timeout: Duration::from_secs(30),
                max_connections: 256,
                max_in_flight: 64,
                max_request_body: max_body,
            },
        }
    }
}

/// What the sequencer does around each batch it commits, besides committing it: `sijil
/// sequencer` with a register that remembers a publication (issue 14) checks that publication
/// before signing and publishes to it after the commit. Both run under the writer's lock.
pub trait CommitHook: Send + Sync + std::fmt::Debug {
    /// Before a batch is committed: an error refuses the batch (503, nothing written), e.g.
    /// a publication whose checkpoint the log does not extend (signing would fork it).
    ///
    /// # Errors
    /// Why the batch may not be signed now.
    fn before_signing(&self, writer: &RegisterWriter) -> Result<(), String>;

    /// After a batch is committed. An error does not undo the commit (the receipt is sent);
    /// it is logged, and the next batch's call catches up.
    ///
    /// # Errors
    /// What failed after the commit.
    fn after_commit(&self, writer: &RegisterWriter) -> Result<(), String>;
}

/// The sequencer's state: the register's writer (and so its lock and log key), its clock and
/// its bounds.
#[derive(Debug)]
pub struct Sequencer {
    writer: Mutex<RegisterWriter>,
    origin: String,
    /// Unix milliseconds.
    clock: fn() -> i64,
    config: SequencerConfig,
    bucket: Mutex<Bucket>,
    hook: Option<Box<dyn CommitHook>>,
}

/// A token bucket: `rate` tokens a second, at most `burst` saved.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// An answer: status and JSON body.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    body: serde_json::Value,
}

impl Answer {
    fn error(status: StatusCode, message: impl std::fmt::Display) -> Answer {
        Answer {
            status,
            body: json!({ "error": message.to_string() }),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            self.body.to_string(),
        )
            .into_response()
    }
}

impl Sequencer {
    /// A sequencer committing with `writer` (opened with the log key), stamping time with
    /// `clock` (Unix ms).
    pub fn new(writer: RegisterWriter, clock: fn() -> i64, config: SequencerConfig) -> Sequencer {
        let origin = writer.checkpoint().checkpoint.origin.clone();
        Sequencer {
            writer: Mutex::new(writer),
            origin,
            clock,
            config,
            bucket: Mutex::new(Bucket {
                tokens: f64::from(config.burst),
                last: Instant::now(),
            }),
            hook: None,
        }
    }

    /// The sequencer, calling `hook` around each batch it commits.
    #[must_use]
    pub fn with_hook(mut self, hook: Box<dyn CommitHook>) -> Sequencer {
        self.hook = Some(hook);
        self
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log's size now.
    pub fn size(&self) -> u64 {
        self.lock().size()
    }

    /// Runs `f` with the writer between two batches: no batch is checked or committed while
    /// it runs, and the checkpoint file is the writer's. For work on the register's files
    /// that must not interleave with a commit, such as adding witness cosignatures to the
    /// checkpoint (`sijil sequencer --witness`, which does its network exchanges outside and
    /// only the file's replacement here). Submissions wait for it: keep it short.
    pub fn between_batches<T>(&self, f: impl FnOnce(&RegisterWriter) -> T) -> T {
        f(&self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RegisterWriter> {
        // A panic while holding the writer leaves it as the failed batch left it, which the
        // next batch handles (it re-checks the view against the log first).
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a token, or says how long until one is there.
    fn take_token(&self) -> Result<(), Duration> {
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let rate = self.config.rate.max(f64::MIN_POSITIVE);
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate)
            .min(f64::from(self.config.burst.max(1)));
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / rate))
        }
    }

    /// The head, with the heads of `cases`.
    fn head(&self, writer: &RegisterWriter, cases: &[String]) -> Result<HeadAnswer, RegisterError> {
        self.head_for(writer, cases, &Needs::default())
    }

    /// The head, with the heads of `cases` and the case numbers and case events `needs`
    /// asks for (`"case":"auto"` and case targets, signed on the officer's machine).
    fn head_for(
        &self,
        writer: &RegisterWriter,
        cases: &[String],
        needs: &Needs,
    ) -> Result<HeadAnswer, RegisterError> {
        let head = writer.head_for(cases, needs)?;
        let mut answer = HeadAnswer {
            origin: head.origin,
            tree_size: head.size,
            last_leaf_hash: head.last_leaf,
            last_recorded_at: head.last_recorded_at,
            checkpoint: String::from_utf8_lossy(&writer.checkpoint().bytes).into_owned(),
            cases: head.cases,
            max_events: self.config.max_events,
            max_body: self.config.max_body,
            case_numbers: Default::default(),
            case_events: Default::default(),
        };
        if let Some(n) = &head.numbering {
            answer.set_numbering(n);
        }
        Ok(answer)
    }

    /// `GET /api/v1/submit/head?cases=…&years=…&targets=…`: `cases` is a comma-separated
    /// list of case ids, `years` and `targets` what [`Needs::from_params`] reads.
    fn head_answer(&self, cases: Option<&str>, needs: &Needs) -> Answer {
        if needs.years.len() + needs.targets.len() > self.config.max_events {
            return Answer::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "years and targets: more than the {} a batch may need",
                    self.config.max_events
                ),
            );
        }
        let ids: Vec<String> = cases
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if ids.len() > self.config.max_events {
            return Answer::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "cases: {} ids, more than the {} a batch may touch",
                    ids.len(),
                    self.config.max_events
                ),
            );
        }
        if let Some(id) = ids.iter().find(|id| id.len() > 256) {
            return Answer::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "cases: an id of {} bytes; case ids are at most 256",
                    id.len()
                ),
            );
        }
        let mut writer = self.lock();
        if let Err(e) = writer.catch_up() {
            tracing::error!(error = %e, "cannot bring the copy up to its commit point");
            return Answer::error(StatusCode::SERVICE_UNAVAILABLE, e);
        }
        match self.head_for(&writer, &ids, needs) {
            Ok(head) => Answer {
                status: StatusCode::OK,
                body: json!(head),
            },
            Err(e) => {
                tracing::error!(error = %e, "cannot read the head");
                Answer::error(StatusCode::SERVICE_UNAVAILABLE, e)
            }
        }
    }

    /// `POST /api/v1/submit`: parse and check the batch without the lock, then submit it under
    /// the lock, and answer with the receipt (see the module's table). Blocking (it fsyncs).
    fn submit(&self, body: &[u8]) -> Answer {
        let bad = |e: &dyn std::fmt::Display| Answer::error(StatusCode::BAD_REQUEST, e);
        let submission = match Submission::parse(body, self.config.max_events) {
            Ok(s) => s,
            Err(e) => return bad(&e),
        };
        let dry_run = submission.dry_run;
        let checked = match check_batch(submission.batch, &self.origin) {
            Ok(c) => c,
            Err(e) => return bad(&e),
        };
        let mut cases: Vec<String> = checked
            .batch()
            .entries
            .iter()
            .filter_map(|(e, _)| e.case.as_ref().map(|c| c.id.clone()))
            .collect();
        cases.sort();
        cases.dedup();
        let count = checked.batch().entries.len();
        let started = Instant::now();
        let mut writer = self.lock();
        // A copy of a register in a database: what other writers committed first, so that
        // the publication check below sees this copy as far as the database is.
        if let Err(e) = writer.catch_up() {
            tracing::error!(error = %e, "cannot bring the copy up to its commit point");
            return Answer::error(StatusCode::SERVICE_UNAVAILABLE, e);
        }
        if let (Some(hook), false) = (&self.hook, dry_run) {
            if let Err(e) = hook.before_signing(&writer) {
                tracing::error!(error = %e, "refusing to commit a batch");
                return Answer::error(StatusCode::SERVICE_UNAVAILABLE, e);
            }
        }
        let outcome = writer.submit(checked, (self.clock)(), dry_run);
        let answer = match outcome {
            Ok(Submitted::Committed(report)) => {
                tracing::info!(
                    first_seq = report.seqs.start,
                    events = count,
                    tree_size = report.checkpoint.checkpoint.size,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                    "committed a submitted batch"
                );
                if let Some(hook) = &self.hook {
                    if let Err(e) = hook.after_commit(&writer) {
                        // Committed all the same: the receipt is the client's.
                        tracing::error!(
                            error = %e,
                            tree_size = report.checkpoint.checkpoint.size,
                            "the batch IS committed, but publishing it failed; the next batch or `sijil publish` publishes it"
                        );
                    }
                }
                receipt(&writer, &report, false)
            }
            Ok(Submitted::Replayed(report)) => {
                tracing::info!(
                    first_seq = report.seqs.start,
                    events = count,
                    "a batch already committed was sent again"
                );
                receipt(&writer, &report, true)
            }
            Ok(Submitted::Checked { seqs, tree_size }) => Answer {
                status: StatusCode::OK,
                body: json!({
                    "dry_run": true,
                    "first_seq": seqs.start,
                    "last_seq": seqs.end.saturating_sub(1),
                    "tree_size": tree_size,
                }),
            },
            Err(RegisterError::Submission(e @ SubmissionError::HeadMoved { .. })) => Answer {
                status: StatusCode::CONFLICT,
                body: json!({ "error": e.to_string(), "head": self.head(&writer, &cases).ok() }),
            },
            Err(
                e @ RegisterError::Rejected {
                    rejection:
                        Rejection::UnknownSigner { .. }
                        | Rejection::SignerRevoked { .. }
                        | Rejection::SignerNotAdmin { .. },
                    ..
                },
            ) => Answer::error(StatusCode::FORBIDDEN, e),
            Err(
                e @ (RegisterError::Rejected { .. }
                | RegisterError::InvalidEvent { .. }
                | RegisterError::Submission(_)),
            ) => bad(&e),
            Err(e) => {
                tracing::error!(error = %e, "committing a submitted batch");
                // An error after the commit point: the batch is in the log, and sending it
                // again gets its receipt. Otherwise nothing was written.
                Answer::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the sequencer could not commit the batch; send the same batch again",
                )
            }
        };
        drop(writer);
        answer
    }
}

/// The receipt of `report`'s entries, read back from the log under the writer's lock (so the
/// tiles of its checkpoint are there).
fn receipt(writer: &RegisterWriter, report: &AppendReport, replayed: bool) -> Answer {
    let cp = &report.checkpoint.checkpoint;
    let tiles = DirTiles::new(writer.layout().clone());
    let built =
        sijil_register::read_entries(&tiles, cp.size, cp.root, report.seqs.start, report.seqs.end)
            .map_err(|e| e.to_string())
            .and_then(|stored| {
                let entries: Vec<(u64, &[u8])> = stored
                    .iter()
                    .map(|s| (s.entry.seq, s.bytes.as_slice()))
                    .collect();
                let reader = TileHashReader::new(cp.size, cp.root, &tiles);
                Receipt::build(&report.checkpoint, &entries, &reader, replayed)
                    .map_err(|e| e.to_string())
            });
    match built {
        Ok(r) => Answer {
            status: StatusCode::OK,
            body: json!(r),
        },
        Err(e) => {
            tracing::error!(error = %e, "building a receipt");
            Answer::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the batch IS committed, but its receipt could not be built; send the same batch again for it",
            )
        }
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadQuery {
    cases: Option<String>,
    years: Option<String>,
    targets: Option<String>,
}

async fn head(
    State(s): State<Arc<Sequencer>>,
    query: Result<Query<HeadQuery>, QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => {
            return Answer::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "{e} (the parameters are cases=ID,ID,…, years=YYYY,… and targets=ID:SEQ,…)"
                ),
            )
            .into_response()
        }
    };
    let needs = match Needs::from_params(q.years.as_deref(), q.targets.as_deref()) {
        Ok(n) => n,
        Err(e) => return Answer::error(StatusCode::BAD_REQUEST, e).into_response(),
    };
    match tokio::task::spawn_blocking(move || s.head_answer(q.cases.as_deref(), &needs)).await {
        Ok(a) => a.into_response(),
        Err(_) => {
            Answer::error(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

async fn submit(State(s): State<Arc<Sequencer>>, body: Bytes) -> Response {
    // The body is whole here: only now may the request wait for the writer.
    match tokio::task::spawn_blocking(move || s.submit(&body)).await {
        Ok(a) => a.into_response(),
        Err(_) => {
            Answer::error(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

async fn healthz(State(s): State<Arc<Sequencer>>) -> Response {
    match tokio::task::spawn_blocking(move || s.size()).await {
        Ok(size) => Answer {
            status: StatusCode::OK,
            body: json!({ "status": "ok", "tree_size": size }),
        }
        .into_response(),
        Err(_) => {
            Answer::error(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// 429 beyond the request rate.
async fn rate_limit(State(s): State<Arc<Sequencer>>, request: Request, next: Next) -> Response {
    match s.take_token() {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let mut r = Answer::error(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests; retry shortly",
            )
            .into_response();
            let secs = wait.as_secs().max(1).to_string();
            if let Ok(v) = HeaderValue::from_str(&secs) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}

/// 503 for a request shed (too many at once) or that took too long.
async fn overloaded(err: BoxError) -> Response {
    let message = if err.is::<tower::timeout::error::Elapsed>() {
        "the request took too long (a batch being committed when it timed out is committed: send it again for its receipt)"
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        "too many requests at once; retry shortly"
    } else {
        tracing::error!(error = %err, "request failed in a middleware");
        "the sequencer could not handle the request"
    };
    let mut r = Answer::error(StatusCode::SERVICE_UNAVAILABLE, message).into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// The sequencer's routes: `GET /api/v1/submit/head`, `POST /api/v1/submit`, `GET /healthz`.
pub fn sequencer_router(s: Arc<Sequencer>) -> Router {
    let limits = s.config.limits;
    let bounds = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(overloaded))
        .load_shed()
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            limits.max_in_flight,
        ))
        .timeout(limits.request_timeout);
    Router::new()
        .route("/api/v1/submit/head", get(head))
        .route("/api/v1/submit", post(submit))
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(s.config.max_body))
        .layer(middleware::from_fn_with_state(Arc::clone(&s), rate_limit))
        .layer(bounds)
        .with_state(s)
}

/// Serves the sequencer on `listener` until `shutdown` completes (the accept loop of
/// [`crate::serve_router`], with the sequencer's limits).
///
/// # Errors
/// As [`crate::serve_router`].
pub async fn serve_sequencer(
    listener: tokio::net::TcpListener,
    s: Arc<Sequencer>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = s.config.limits;
    crate::serve_router(listener, sequencer_router(s), &limits, shutdown).await
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request as HttpRequest;
    use serde_json::Value;
    use sijil_core::note::Signer;
    use sijil_register::batch::sign_batch;
    use sijil_register::{init, parse_events, InitOptions};
    use tower::ServiceExt as _;

    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn clock() -> i64 {
        NOW
    }

    async fn call(app: &Router, req: HttpRequest<Body>) -> (StatusCode, Value) {
        let res = app.clone().oneshot(req).await.expect("answer");
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
            .await
            .expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// A register with `amina` (seed 1) as its admin and the log key of seed 2, and its
    /// sequencer.
    fn sequencer_on(dir: &std::path::Path, config: SequencerConfig) -> Router {
        let origin = "registre.example.ma/test";
        init(
            dir,
            InitOptions {
                origin: origin.into(),
                title: "t".into(),
                authority: "a".into(),
                officer_name: "amina".into(),
                now_ms: NOW - 1000,
                log_key: Some(Signer::from_seed(origin, &[2; 32]).expect("key")),
                officer_key: Some(Signer::from_seed("amina", &[1; 32]).expect("key")),
            },
        )
        .expect("init");
        let writer = RegisterWriter::open(dir, None).expect("writer");
        sequencer_router(Arc::new(Sequencer::new(writer, clock, config)))
    }

    /// A text already published may not come back as a new one: a batch that failed would
    /// then delete the published blob with its own (docs/FORMAT.md §4).
    #[tokio::test]
    async fn a_text_already_in_the_register_is_refused() {
        use sijil_core::entry::{CaseLink, Entry, UnsignedEntry};
        use sijil_core::event::{Category, ComplaintReceived, Controller, Event as CoreEvent};
        use sijil_core::Hash;
        use sijil_register::batch::SignedBatch;

        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("reg");
        let app = sequencer_on(&dir, SequencerConfig::default());
        let officer = Signer::from_seed("amina", &[1; 32]).expect("key");
        let get_head = || {
            HttpRequest::get("/api/v1/submit/head")
                .body(Body::empty())
                .expect("request")
        };
        let (_, head) = call(&app, get_head()).await;
        let head: HeadAnswer = serde_json::from_value(head).expect("head");
        let drafts = parse_events(
            "t",
            r#"{"case":"2023-0017","type":"ComplaintReceived","controller":{"id":"acme","name":"ACME"},"categories":["privacy"],"received_on":"2023-01-02","summary":"s"}"#,
        )
        .expect("events");
        let first = sign_batch(&head.head(), drafts, &officer, NOW).expect("signed");
        let published = first.blobs[0].clone();
        let post = |body: Vec<u8>| {
            HttpRequest::post("/api/v1/submit")
                .body(Body::from(body))
                .expect("request")
        };
        let (status, _) = call(
            &app,
            post(
                Submission {
                    batch: first,
                    dry_run: false,
                }
                .to_json(),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(dir
            .join(sijil_core::blob::blob_path(&published.digest()))
            .is_file());
        // Another case whose summary is the published text, salt and all.
        let (_, head) = call(&app, get_head()).await;
        let head: HeadAnswer = serde_json::from_value(head).expect("head");
        let unsigned = UnsignedEntry {
            seq: head.tree_size,
            prev: head.last_leaf_hash,
            recorded_at: NOW,
            case: Some(CaseLink {
                id: "2023-0018".into(),
                seq: 0,
                prev: Hash::ZERO,
            }),
            event: CoreEvent::ComplaintReceived(ComplaintReceived {
                controller: Controller {
                    id: "acme".into(),
                    name: "ACME".into(),
                },
                categories: sijil_core::event::Categories::one(Category::Privacy),
                received_on: "2023-01-03".parse().expect("date"),
                summary: Some(published.digest()),
            }),
        };
        let entry = Entry::sign(unsigned, officer.signing_key(), &head.origin).expect("signed");
        let reuse = SignedBatch {
            entries: vec![entry],
            blobs: vec![published.clone()],
        };
        let (status, refused) = call(
            &app,
            post(
                Submission {
                    batch: reuse,
                    dry_run: false,
                }
                .to_json(),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert!(
            refused["error"]
                .as_str()
                .unwrap_or_default()
                .contains("already in the register"),
            "{refused}"
        );
        assert!(
            dir.join(sijil_core::blob::blob_path(&published.digest()))
                .is_file(),
            "the published text is still there"
        );
    }

    /// The sequencer's paths in the OpenAPI document are the ones it answers, and a batch
    /// goes through: head, submit (receipt), the same batch again (replayed), a stale one
    /// (409 with the head), a malformed one (400), over the rate (429).
    #[tokio::test]
    async fn the_sequencer_answers_its_openapi_paths_and_commits_a_batch() {
        let tmp = tempfile::tempdir().expect("tmp");
        let officer = Signer::from_seed("amina", &[1; 32]).expect("key");
        let origin = "registre.example.ma/test";
        let config = SequencerConfig {
            burst: 8,
            rate: 1e-9,
            ..SequencerConfig::default()
        };
        let app = sequencer_on(&tmp.path().join("reg"), config);
        let doc: Value = serde_json::from_str(crate::api::OPENAPI).expect("openapi");
        let paths: Vec<&String> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .filter(|(_, item)| item.get("servers").is_some())
            .map(|(p, _)| p)
            .collect();
        assert_eq!(paths, ["/api/v1/submit", "/api/v1/submit/head"]);

        let (status, head) = call(
            &app,
            HttpRequest::get("/api/v1/submit/head?cases=2023-0017")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{head}");
        let head: HeadAnswer = serde_json::from_value(head).expect("a head");
        assert_eq!((head.tree_size, head.max_events), (2, 1000));
        let drafts = parse_events(
            "t",
            r#"{"case":"2023-0017","type":"ComplaintReceived","controller":{"id":"acme","name":"ACME"},"categories":["privacy"],"received_on":"2023-01-02","summary":"s"}"#,
        )
        .expect("events");
        let batch = sign_batch(&head.head(), drafts.clone(), &officer, NOW).expect("signed");
        let body = Submission {
            batch,
            dry_run: false,
        }
        .to_json();
        let post = |body: Vec<u8>| {
            HttpRequest::post("/api/v1/submit")
                .body(Body::from(body))
                .expect("request")
        };
        let (status, receipt) = call(&app, post(body.clone())).await;
        assert_eq!(status, StatusCode::OK, "{receipt}");
        let receipt: Receipt = serde_json::from_value(receipt).expect("a receipt");
        let policy =
            sijil_core::cosignature::WitnessPolicy::new(Vec::new(), 0).expect("no witnesses");
        let log = Signer::from_seed(origin, &[2; 32]).expect("key").verifier();
        receipt.verify(&log, &policy).expect("the receipt verifies");
        assert_eq!((receipt.first_seq, receipt.tree_size), (2, 4));
        let (status, again) = call(&app, post(body)).await;
        assert_eq!(
            (status, &again["replayed"]),
            (StatusCode::OK, &Value::Bool(true))
        );
        let stale = sign_batch(&head.head(), drafts, &officer, NOW).expect("signed");
        let (status, conflict) = call(
            &app,
            post(
                Submission {
                    batch: stale,
                    dry_run: false,
                }
                .to_json(),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
        assert_eq!(conflict["head"]["tree_size"], 4);
        assert_eq!(conflict["head"]["cases"]["2023-0017"]["events"], 1);
        let (status, bad) = call(&app, post(b"{}".to_vec())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        // Signed for the new head: a dry run checks and writes nothing; a clock ten minutes
        // ahead is refused.
        let new_head: HeadAnswer =
            serde_json::from_value(conflict["head"].clone()).expect("the head");
        let hearing = parse_events(
            "t",
            r#"{"case":"2023-0017","type":"HearingHeld","held_on":"2023-02-01","place":"Rabat"}"#,
        )
        .expect("events");
        let body = |now: i64, dry_run: bool| {
            Submission {
                batch: sign_batch(&new_head.head(), hearing.clone(), &officer, now)
                    .expect("signed"),
                dry_run,
            }
            .to_json()
        };
        let (status, dry) = call(&app, post(body(NOW, true))).await;
        assert_eq!(status, StatusCode::OK, "{dry}");
        assert_eq!(
            (&dry["dry_run"], &dry["first_seq"]),
            (&Value::Bool(true), &Value::from(4))
        );
        let (status, skew) = call(&app, post(body(NOW + 600_000, false))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{skew}");
        assert!(
            skew["error"].as_str().unwrap_or_default().contains("clock"),
            "{skew}"
        );
        // Eight requests so far, a burst of eight, and no refill: the ninth is refused.
        let (status, committed) = call(&app, post(body(NOW, false))).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the dry run left the head as it was: {committed}"
        );
        let (status, _) = call(&app, post(b"{}".to_vec())).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
}
