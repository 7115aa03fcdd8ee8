//! The HTTP side: `add-checkpoint` and the monitoring endpoint (see the crate docs).

use std::future::Future;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sijil_client::evidence::{Evidence, ProofHashes, Seen};
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::cosignature::Cosigner;
use sijil_core::merkle::{check_consistency, consistency_proof_roots};
use sijil_core::note::{Note, Verifier};
use sijil_core::{empty_root, Hash};

use crate::request::AddCheckpoint;
use crate::state::{origin_hash, WitnessState};

/// The largest request body: a checkpoint note (at most 1 MiB, `note::MAX_NOTE_SIZE`) and 63
/// proof lines.
pub const MAX_BODY: usize = (1 << 20) + 64 * 64 + 64;

/// A witness: its cosigner key, the logs it trusts, its state and its clock.
#[derive(Debug)]
pub struct Witness {
    cosigner: Cosigner,
    logs: Vec<Verifier>,
    state: Mutex<WitnessState>,
    /// Unix milliseconds.
    clock: fn() -> i64,
}

/// An answer: status, content type and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Answer {
    fn text(status: u16, body: impl Into<String>) -> Answer {
        let mut body = body.into();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into_bytes(),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [
                (header::CONTENT_TYPE, self.content_type),
                (header::CACHE_CONTROL, "no-store"),
            ],
            self.body,
        )
            .into_response()
    }
}

/// The stored state of one log, opened with its keys.
struct Latest {
    checkpoint: Checkpoint,
    bytes: Vec<u8>,
}

impl Witness {
    /// A witness cosigning with `cosigner` for the logs whose verifier keys are `logs` (each
    /// key's name is its log's origin).
    pub fn new(
        cosigner: Cosigner,
        logs: Vec<Verifier>,
        state: WitnessState,
        clock: fn() -> i64,
    ) -> Witness {
        Witness {
            cosigner,
            logs,
            state: Mutex::new(state),
            clock,
        }
    }

    /// Handles an `add-checkpoint` body (c2sp.org/tlog-witness §add-checkpoint): checks in the
    /// spec's order, then, holding the state, compares with the latest cosigned checkpoint,
    /// persists the new one and returns the cosignature. Blocking (it fsyncs).
    pub fn add_checkpoint(&self, body: &[u8]) -> Answer {
        let req = match AddCheckpoint::parse(body) {
            Ok(r) => r,
            Err(e) => return Answer::text(400, e.to_string()),
        };
        let note = match Note::parse(&req.checkpoint) {
            Ok(n) => n,
            Err(e) => return Answer::text(400, format!("checkpoint: {e}")),
        };
        let cp = match Checkpoint::parse(&note.text) {
            Ok(c) => c,
            Err(e) => return Answer::text(400, format!("checkpoint: {e}")),
        };
        let keys = {
            let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            match self.keys_for(&state, &cp.origin) {
                Ok(keys) => keys,
                Err(message) => {
                    tracing::error!(origin = %cp.origin, %message, "witness state");
                    return Answer::text(500, "internal error");
                }
            }
        };
        if keys.is_empty() {
            return Answer::text(404, format!("unknown log {:?}", cp.origin));
        }
        if let Err(e) = note.verify(&keys) {
            return Answer::text(403, format!("checkpoint signature: {e}"));
        }
        if req.old_size > cp.size {
            return Answer::text(
                400,
                format!(
                    "old size {} is larger than the checkpoint's {}",
                    req.old_size, cp.size
                ),
            );
        }
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let latest = match self.latest(&state, &cp.origin, &keys) {
            Ok(l) => l,
            Err(message) => {
                tracing::error!(origin = %cp.origin, %message, "witness state");
                return Answer::text(500, "internal error");
            }
        };
        let latest_size = latest.as_ref().map_or(0, |l| l.checkpoint.size);
        if req.old_size != latest_size {
            return Answer {
                status: 409,
                content_type: "text/x.tlog.size",
                body: format!("{latest_size}\n").into_bytes(),
            };
        }
        if cp.size == 0 && cp.root != empty_root() {
            return Answer::text(
                422,
                "a checkpoint of size 0 must have the empty tree's root",
            );
        }
        if req.old_size == 0 {
            if !req.proof.is_empty() {
                return Answer::text(422, "old size 0 takes no consistency proof");
            }
        } else if let Some(l) = &latest {
            let held = &l.checkpoint;
            if let Err(e) = check_consistency(&req.proof, held.size, &held.root, cp.size, &cp.root)
            {
                self.keep_evidence(&state, l, &req, &cp);
                return Answer::text(
                    422,
                    format!(
                        "not consistent with the checkpoint of size {} cosigned before: {e}",
                        held.size
                    ),
                );
            }
        }
        let now_s = u64::try_from((self.clock)() / 1000).unwrap_or(0);
        let line = match self.cosigner.cosign(&note.text, now_s) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "cosigning");
                return Answer::text(500, "internal error");
            }
        };
        let mut signed = SignedCheckpoint {
            checkpoint: cp.clone(),
            note,
            bytes: req.checkpoint.clone(),
        };
        if let Err(e) = signed.add_cosignatures([line.clone()]) {
            return Answer::text(400, format!("checkpoint: {e}"));
        }
        // Persist before answering: a cosignature is never given for a state that could be
        // lost.
        if let Err(e) = state.store(&cp.origin, &signed.bytes) {
            tracing::error!(error = %e, "persisting the cosigned checkpoint");
            return Answer::text(500, "internal error");
        }
        tracing::info!(origin = %cp.origin, tree_size = cp.size, "cosigned");
        Answer::text(200, line.to_line())
    }

    /// The keys the witness trusts for `origin`: the one it followed a rotation to (its state,
    /// [`WitnessState::log_key`]), else the configured ones. A key a rotation retired is no
    /// longer trusted.
    fn keys_for(&self, state: &WitnessState, origin: &str) -> Result<Vec<Verifier>, String> {
        let configured: Vec<Verifier> = self
            .logs
            .iter()
            .filter(|k| k.name() == origin)
            .cloned()
            .collect();
        if configured.is_empty() {
            return Ok(configured);
        }
        match state.log_key(origin).map_err(|e| e.to_string())? {
            Some(text) => Verifier::parse(text.trim())
                .map(|v| vec![v])
                .map_err(|e| format!("followed log key: {e}")),
            None => Ok(configured),
        }
    }

    /// Handles `POST /sijil/log-keys` (docs/API.md, "Witness"): evidence that the log rotated
    /// its key (docs/FORMAT.md §3.1). The log-keys answer must lead from a key the witness
    /// trusts to the key that signs the answer's checkpoint (each `LogKeyRotated` signed by
    /// the key before it, included, proven all of them), and that checkpoint must be
    /// consistent with the latest the witness cosigned (`old_size` and `proof`; a 409 with its
    /// size otherwise, as add-checkpoint). The new key is then persisted and trusted alone;
    /// nothing is cosigned here (the log sends add-checkpoint again). Blocking.
    pub fn follow_rotation(&self, body: &[u8]) -> Answer {
        let evidence: sijil_client::rotation::RotationEvidence = match serde_json::from_slice(body)
        {
            Ok(e) => e,
            Err(e) => return Answer::text(400, format!("not rotation evidence: {e}")),
        };
        let text = evidence.answer.checkpoint.text.as_bytes();
        let cp = match Note::parse(text).map(|n| Checkpoint::parse(&n.text)) {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Answer::text(400, format!("checkpoint: {e}")),
            Err(e) => return Answer::text(400, format!("checkpoint: {e}")),
        };
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let keys = match self.keys_for(&state, &cp.origin) {
            Ok(k) if k.is_empty() => {
                return Answer::text(404, format!("unknown log {:?}", cp.origin))
            }
            Ok(k) => k,
            Err(message) => {
                tracing::error!(origin = %cp.origin, %message, "witness state");
                return Answer::text(500, "internal error");
            }
        };
        let mut refusal = String::new();
        let mut followed = None;
        for key in &keys {
            match sijil_client::rotation::follow(&evidence.answer, text, key) {
                Ok(f) => {
                    followed = Some(f);
                    break;
                }
                Err(e) => refusal = e.to_string(),
            }
        }
        let Some((_, new_key, chain)) = followed else {
            return Answer::text(403, format!("rotation evidence: {refusal}"));
        };
        let latest = match self.latest(&state, &cp.origin, &keys) {
            Ok(l) => l,
            Err(message) => {
                tracing::error!(origin = %cp.origin, %message, "witness state");
                return Answer::text(500, "internal error");
            }
        };
        let latest_size = latest.as_ref().map_or(0, |l| l.checkpoint.size);
        if evidence.old_size != latest_size {
            return Answer {
                status: 409,
                content_type: "text/x.tlog.size",
                body: format!("{latest_size}\n").into_bytes(),
            };
        }
        if let Some(l) = &latest {
            let held = &l.checkpoint;
            let proof: Option<Vec<Hash>> = evidence
                .proof
                .iter()
                .map(|h| Hash::from_base64(h))
                .collect();
            let Some(proof) = proof else {
                return Answer::text(400, "proof: not base64 hashes");
            };
            if held.size > cp.size {
                return Answer::text(
                    422,
                    format!(
                        "the evidence's checkpoint of size {} is older than the one of size {} cosigned before",
                        cp.size, held.size
                    ),
                );
            }
            if let Err(e) = check_consistency(&proof, held.size, &held.root, cp.size, &cp.root) {
                return Answer::text(
                    422,
                    format!(
                        "not consistent with the checkpoint of size {} cosigned before: {e}",
                        held.size
                    ),
                );
            }
        }
        if chain.rotations.is_empty() {
            return Answer::text(200, format!("already following {new_key}"));
        }
        if let Err(e) = state.store_log_key(&cp.origin, &new_key.to_string()) {
            tracing::error!(error = %e, "persisting the followed log key");
            return Answer::text(500, "internal error");
        }
        tracing::info!(origin = %cp.origin, key = %new_key, "followed a log key rotation");
        Answer::text(
            200,
            chain
                .sentence()
                .map(|s| format!("following {new_key}: {s}"))
                .unwrap_or_default(),
        )
    }

    fn latest(
        &self,
        state: &WitnessState,
        origin: &str,
        keys: &[Verifier],
    ) -> Result<Option<Latest>, String> {
        let Some(bytes) = state.latest(origin).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        // The witness's own state, written after it verified it: signed by a key trusted
        // now, or, until the first cosignature after a rotation it followed, by a configured
        // key that rotation retired.
        let mut all = keys.to_vec();
        all.extend(self.logs.iter().filter(|k| k.name() == origin).cloned());
        let (note, _) = Note::open(&bytes, &all).map_err(|e| format!("stored checkpoint: {e}"))?;
        let checkpoint =
            Checkpoint::parse(&note.text).map_err(|e| format!("stored checkpoint: {e}"))?;
        Ok(Some(Latest { checkpoint, bytes }))
    }

    /// Keeps a refused checkpoint as fork evidence when it proves one: the same size with
    /// another root, or a proof that leads to the new root but not to the stored one (possible
    /// when the stored size is not a power of two, whose proof carries its first node).
    fn keep_evidence(
        &self,
        state: &WitnessState,
        latest: &Latest,
        req: &AddCheckpoint,
        cp: &Checkpoint,
    ) {
        let held = &latest.checkpoint;
        let now = sijil_client::rfc3339((self.clock)());
        let seen = |bytes: &[u8], source: &str| Seen {
            note: String::from_utf8_lossy(bytes).into_owned(),
            source: source.to_owned(),
            seen_at: now.clone(),
        };
        let old = seen(&latest.bytes, "witness state (latest cosigned)");
        let new = seen(&req.checkpoint, "add-checkpoint request");
        let evidence = if held.size == cp.size {
            (held.root != cp.root)
                .then(|| Evidence::same_size(old, new, &cp.origin, "sijil witness", &now))
        } else {
            match req.proof.split_first() {
                Some((first, rest)) if !held.size.is_power_of_two() => {
                    match consistency_proof_roots(first, rest, held.size, cp.size) {
                        Ok((prefix, root)) if root == cp.root && prefix != held.root => {
                            Some(Evidence::inconsistent(
                                old,
                                new,
                                ProofHashes {
                                    old_size: held.size,
                                    new_size: cp.size,
                                    first: first.to_base64(),
                                    rest: rest.iter().map(Hash::to_base64).collect(),
                                },
                                &cp.origin,
                                "sijil witness",
                                &now,
                            ))
                        }
                        _ => None,
                    }
                }
                _ => None,
            }
        };
        let Some(evidence) = evidence else {
            return;
        };
        let path = state.evidence_dir().join(format!(
            "fork-{}-{}.json",
            &origin_hash(&cp.origin)[..16],
            (self.clock)()
        ));
        match evidence.save(&path) {
            Ok(()) => {
                tracing::error!(path = %path.display(), origin = %cp.origin, "FORK: evidence saved")
            }
            Err(e) => tracing::error!(error = %e, "could not save fork evidence"),
        }
    }

    /// The latest cosigned checkpoint of the log whose origin hashes to `hash`.
    pub fn monitor(&self, hash: &str) -> Answer {
        let Some(log) = self.logs.iter().find(|k| origin_hash(k.name()) == hash) else {
            return Answer::text(404, "unknown log");
        };
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.latest(log.name()) {
            Ok(Some(bytes)) => Answer {
                status: 200,
                content_type: "text/plain; charset=utf-8",
                body: bytes,
            },
            Ok(None) => Answer::text(404, "no checkpoint cosigned yet"),
            Err(e) => {
                tracing::error!(error = %e, "witness state");
                Answer::text(500, "internal error")
            }
        }
    }
}

/// The witness's routes: `POST /add-checkpoint`, `GET /<origin hash>/checkpoint`.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/sijil/log-keys", post(follow_rotation))
        .route("/{hash}/checkpoint", get(monitor))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(witness)
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    match tokio::task::spawn_blocking(move || w.add_checkpoint(&body)).await {
        Ok(a) => a.into_response(),
        Err(_) => Answer::text(500, "internal error").into_response(),
    }
}

async fn follow_rotation(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    match tokio::task::spawn_blocking(move || w.follow_rotation(&body)).await {
        Ok(a) => a.into_response(),
        Err(_) => Answer::text(500, "internal error").into_response(),
    }
}

async fn monitor(State(w): State<Arc<Witness>>, Path(hash): Path<String>) -> Response {
    match tokio::task::spawn_blocking(move || w.monitor(&hash)).await {
        Ok(a) => a.into_response(),
        Err(_) => Answer::text(500, "internal error").into_response(),
    }
}

/// Serves the witness on `listener` until `shutdown` completes.
///
/// # Errors
/// The server's I/O error.
pub async fn serve(
    listener: tokio::net::TcpListener,
    witness: Arc<Witness>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sijil_core::merkle::{prove_consistency, tree_hash, MemoryHashes};
    use sijil_core::note::Signer;
    use sijil_core::{leaf_hash, NoteSignature};

    const ORIGIN: &str = "registre.example.ma/test";

    fn clock() -> i64 {
        1_700_000_000_000
    }

    fn setup(dir: &std::path::Path) -> (Witness, Signer) {
        let log = Signer::from_seed(ORIGIN, &[1; 32]).expect("key");
        let cosigner = Cosigner::from_seed("witness.example/w1", &[2; 32]).expect("key");
        let state = WitnessState::open(dir).expect("state");
        (
            Witness::new(cosigner, vec![log.verifier()], state, clock),
            log,
        )
    }

    fn signed(log: &Signer, tree: &MemoryHashes, n: u64) -> Vec<u8> {
        let root = tree_hash(n, tree).expect("root");
        SignedCheckpoint::sign(Checkpoint::new(ORIGIN, n, root), log)
            .expect("sign")
            .bytes
    }

    fn body(old: u64, proof: &[Hash], cp: &[u8]) -> Vec<u8> {
        AddCheckpoint {
            old_size: old,
            proof: proof.to_vec(),
            checkpoint: cp.to_vec(),
        }
        .to_bytes()
    }

    #[test]
    fn add_checkpoint_answers_as_the_spec_says() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (w, log) = setup(tmp.path());
        let tree = MemoryHashes::from_leaves((0..20u8).map(|i| leaf_hash(&[i])));
        let cp5 = signed(&log, &tree, 5);
        let cp13 = signed(&log, &tree, 13);

        // First contact: old 0, no proof.
        let a = w.add_checkpoint(&body(0, &[], &cp5));
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        let lines = NoteSignature::parse_lines(&a.body).expect("signature lines");
        let text = Note::parse(&cp5).expect("note").text;
        let key = Cosigner::from_seed("witness.example/w1", &[2; 32])
            .expect("key")
            .verifier();
        assert_eq!(
            sijil_core::cosignature::verify_cosignature(&lines[0], &text, &key),
            Ok(1_700_000_000)
        );
        // Stale old size: 409 with the size.
        let a = w.add_checkpoint(&body(0, &[], &cp13));
        assert_eq!(
            (a.status, a.content_type, a.body.as_slice()),
            (409, "text/x.tlog.size", &b"5\n"[..])
        );
        // A good proof: 200.
        let proof = prove_consistency(5, 13, &tree).expect("proof");
        assert_eq!(w.add_checkpoint(&body(5, &proof, &cp13)).status, 200);
        // A bad proof: 422.
        let cp20 = signed(&log, &tree, 20);
        let bad = vec![Hash([0; 32]); prove_consistency(13, 20, &tree).expect("proof").len()];
        assert_eq!(w.add_checkpoint(&body(13, &bad, &cp20)).status, 422);
        // old > size: 400; malformed: 400; unknown origin: 404; unsigned: 403.
        assert_eq!(w.add_checkpoint(&body(30, &[], &cp20)).status, 400);
        assert_eq!(w.add_checkpoint(b"hello").status, 400);
        let other = Signer::from_seed("other.example/log", &[3; 32]).expect("key");
        let foreign = SignedCheckpoint::sign(
            Checkpoint::new("other.example/log", 1, Hash([1; 32])),
            &other,
        )
        .expect("sign")
        .bytes;
        assert_eq!(w.add_checkpoint(&body(0, &[], &foreign)).status, 404);
        let impostor = Signer::from_seed(ORIGIN, &[9; 32]).expect("key");
        assert_eq!(
            w.add_checkpoint(&body(13, &[], &signed(&impostor, &tree, 13)))
                .status,
            403
        );
        // Same size, other root: 422, and the fork is kept as evidence.
        let forked = MemoryHashes::from_leaves((0..13u8).map(|i| leaf_hash(&[i, 1])));
        assert_eq!(
            w.add_checkpoint(&body(13, &[], &signed(&log, &forked, 13)))
                .status,
            422
        );
        let evidence: Vec<_> = std::fs::read_dir(tmp.path().join("evidence"))
            .expect("dir")
            .collect();
        assert_eq!(evidence.len(), 1);
        // The state survived: 13 is still the latest, and the monitoring endpoint serves it.
        assert_eq!(w.add_checkpoint(&body(0, &[], &cp20)).body, b"13\n");
        let m = w.monitor(&origin_hash(ORIGIN));
        assert_eq!(m.status, 200);
        assert!(m.body.starts_with(&cp13[..cp13.len() - 1]));
        // A size-0 checkpoint whose root is not the empty tree's.
        let tmp2 = tempfile::tempdir().expect("tmp");
        let (w2, _) = setup(tmp2.path());
        let zero = SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 0, Hash([1; 32])), &log)
            .expect("sign")
            .bytes;
        assert_eq!(w2.add_checkpoint(&body(0, &[], &zero)).status, 422);
        assert_eq!(
            w2.add_checkpoint(&body(0, &[Hash([1; 32])], &cp5)).status,
            422
        );
    }
}

/// `POST /sijil/log-keys`: a witness follows a log key rotation only on evidence
/// (docs/FORMAT.md §3.1, §9.4).
#[cfg(test)]
mod rotation_tests {
    use super::*;
    use sijil_client::rotation::RotationEvidence;
    use sijil_core::note::Signer;
    use sijil_register::rotation::dir_log_keys;
    use sijil_register::{init, parse_events, InitOptions, RegisterWriter};

    const ORIGIN: &str = "registre.example.ma/rot";

    fn clock() -> i64 {
        1_700_000_000_000
    }

    /// A register whose key was rotated once; returns it, its old and its new key.
    fn rotated(dir: &std::path::Path) -> (Signer, Signer) {
        let old = Signer::from_seed(ORIGIN, &[5; 32]).expect("key");
        let report = init(
            dir,
            InitOptions {
                origin: ORIGIN.into(),
                title: "t".into(),
                authority: "a".into(),
                officer_name: "amina".into(),
                now_ms: clock(),
                log_key: Some(old.clone()),
                officer_key: None,
            },
        )
        .expect("init");
        let mut w = RegisterWriter::open(dir, None).expect("open");
        let text = r#"{"case":"C-1","type":"ComplaintReceived","controller":{"id":"a","name":"A"},"categories":["privacy"],"received_on":"2023-01-02"}"#;
        w.append(
            parse_events("t", text).expect("events"),
            &report.officer,
            clock(),
            None,
        )
        .expect("appends");
        let new = Signer::from_seed(ORIGIN, &[6; 32]).expect("key");
        w.rotate_log_key(new.clone(), "rotation", clock())
            .expect("rotates");
        (old, new)
    }

    fn witness(dir: &std::path::Path, trusted: &Signer) -> Witness {
        let cosigner = Cosigner::from_seed("witness.example/w1", &[2; 32]).expect("key");
        let state = WitnessState::open(dir).expect("state");
        Witness::new(cosigner, vec![trusted.verifier()], state, clock)
    }

    fn evidence(reg: &std::path::Path, old_size: u64) -> Vec<u8> {
        serde_json::to_vec(&RotationEvidence {
            answer: dir_log_keys(reg).expect("answer"),
            old_size,
            proof: Vec::new(),
        })
        .expect("json")
    }

    fn add(cp: &[u8], old: u64) -> Vec<u8> {
        crate::request::AddCheckpoint {
            old_size: old,
            proof: Vec::new(),
            checkpoint: cp.to_vec(),
        }
        .to_bytes()
    }

    #[test]
    fn a_witness_follows_a_rotation_on_evidence_and_trusts_the_new_key_alone() {
        let tmp = tempfile::tempdir().expect("tmp");
        let reg = tmp.path().join("reg");
        let (old, new) = rotated(&reg);
        let w = witness(&tmp.path().join("w"), &old);
        let cp = std::fs::read(reg.join("checkpoint")).expect("checkpoint");
        // Without evidence: refused, as the C2SP spec says.
        assert_eq!(w.add_checkpoint(&add(&cp, 0)).status, 403);
        // The evidence: followed, the new key persisted.
        let a = w.follow_rotation(&evidence(&reg, 0));
        assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
        assert_eq!(w.add_checkpoint(&add(&cp, 0)).status, 200);
        // The retired key signing the same tree is refused from now on.
        let text = Note::parse(&cp).expect("note").text;
        let forged = SignedCheckpoint::sign(Checkpoint::parse(&text).expect("cp"), &old)
            .expect("signs")
            .bytes;
        let size = Checkpoint::parse(&text).expect("cp").size;
        assert_eq!(w.add_checkpoint(&add(&forged, size)).status, 403);
        // Evidence again with the wrong old size: 409 with the size it holds.
        let a = w.follow_rotation(&evidence(&reg, 0));
        assert_eq!(a.status, 409);
        assert_eq!(a.body, format!("{size}\n").into_bytes());
        assert!(String::from_utf8_lossy(&a.body).contains('\n'));
        let followed = std::fs::read_to_string(
            tmp.path()
                .join("w")
                .join(format!("{}.log-key", crate::state::origin_hash(ORIGIN))),
        )
        .expect("the followed key is persisted");
        assert_eq!(followed, new.verifier().to_string());
    }

    #[test]
    fn evidence_from_a_key_the_witness_does_not_trust_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let reg = tmp.path().join("reg");
        rotated(&reg);
        let stranger = Signer::from_seed(ORIGIN, &[9; 32]).expect("key");
        let w = witness(&tmp.path().join("w"), &stranger);
        let a = w.follow_rotation(&evidence(&reg, 0));
        assert_eq!(a.status, 403, "{}", String::from_utf8_lossy(&a.body));
        assert!(
            String::from_utf8_lossy(&a.body).contains("not one of this log's keys"),
            "{}",
            String::from_utf8_lossy(&a.body)
        );
        assert_eq!(w.follow_rotation(b"{}").status, 400);
    }
}
