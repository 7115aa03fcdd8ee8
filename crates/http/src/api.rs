//! The JSON API under `/api/v1/` (docs/API.md; the OpenAPI document is
//! `/api/v1/openapi.json`).
//!
//! Every answer is built from one snapshot (checkpoint and view together). Every answer that
//! carries a proof carries the signed checkpoint it proves against, as `checkpoint.text`,
//! so it can be checked with the log's key alone. Merkle hashes in proofs are standard
//! base64, as in checkpoints and tlog-proof; the entry JSON (`sijil show`'s form, from
//! `sijil_register::present`) writes hashes and keys in hex.

use axum::extract::{Path, State};
use axum::http::{header, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{json, Value};
use sijil_core::event::{PublicKey, TextDigest};
use sijil_core::proof_text::TlogProof;
use sijil_core::Hash;
use sijil_index::completeness::{self, ProvenEntry};
use sijil_index::IndexKey;
use sijil_projector::{Page, View};
use sijil_register::present::{entry_json, read_text, write_entry_json};

use crate::error::Error;
use crate::params::{canonical_u64, Query};
use crate::state::{AppState, Snapshot};
use crate::store::{Io, Store, StoredEntry, Tree};
use crate::tlog::SHORT_CACHE;

/// The OpenAPI 3.1 document of this API (kept beside docs/API.md; a test requests every
/// path it lists).
pub const OPENAPI: &str = include_str!("../assets/openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn openapi() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        OPENAPI,
    )
        .into_response()
}

/// A JSON answer built from the served snapshot: short caching, like the checkpoint.
fn answer(value: &Value) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, SHORT_CACHE),
        ],
        value.to_string(),
    )
        .into_response()
}

/// A JSON answer already written (see [`object`]).
fn answer_text(body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, SHORT_CACHE),
        ],
        body,
    )
        .into_response()
}

/// The JSON text of `value`, as [`answer`] writes it.
fn text(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// The JSON object of `members` (each a key and the JSON text of its value), with its keys
/// in order: the bytes `serde_json::Value` writes for the same object (its maps are
/// sorted), which every answer of the API has always been. The large answers (a case, its
/// entries and their proofs) are written from parts, some kept per snapshot, where building
/// them as one `Value` allocated and freed every string of them again (issue 11).
fn object(members: &mut [(&str, Vec<u8>)]) -> Vec<u8> {
    members.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let len: usize = members.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let mut out = Vec::with_capacity(len + 2);
    out.push(b'{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Keys are ours: plain ASCII names, nothing to escape.
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        out.extend_from_slice(value);
    }
    out.push(b'}');
    out
}

/// The JSON array of `items`, each already JSON text.
fn array(items: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(items.iter().map(|i| i.len() + 1).sum::<usize>() + 2);
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
    out
}

/// The members of `value`, a JSON object, as [`object`] takes them.
fn members_of(value: &Value) -> Vec<(&str, Vec<u8>)> {
    match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.as_str(), text(v))).collect(),
        _ => Vec::new(),
    }
}

/// The signed checkpoint as the API carries it.
pub fn checkpoint_json(snapshot: &Snapshot) -> Value {
    let cp = &snapshot.checkpoint.checkpoint;
    json!({
        "origin": cp.origin,
        "tree_size": cp.size,
        "root": cp.root.to_base64(),
        "text": String::from_utf8_lossy(&snapshot.checkpoint.bytes),
    })
}

/// [`checkpoint_json`]'s text, written once per snapshot.
fn checkpoint_text(snapshot: &Snapshot) -> Vec<u8> {
    snapshot
        .checkpoint_text(|| text(&checkpoint_json(snapshot)))
        .to_vec()
}

/// A hash as a JSON string in standard base64 (which needs no escaping).
fn hash_text(hash: &Hash) -> Vec<u8> {
    let mut out = Vec::with_capacity(46);
    push_hash(&mut out, hash);
    out
}

fn base64_hashes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(Hash::to_base64).collect()
}

/// `GET /api/v1/register`: what the register is, its key and its checkpoint.
pub async fn register(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let info = snapshot
        .register()
        .ok_or_else(|| Error::internal("the view has no RegisterOpened"))?;
    let opened = chrono::DateTime::from_timestamp_millis(info.opened_at).map(|t| t.to_rfc3339());
    Ok(answer(&json!({
        "origin": info.origin,
        "title": info.title,
        "authority": info.authority,
        "verifier_key": state.verifier().to_string(),
        "log_key": info.log_key,
        "opened_at": info.opened_at,
        "opened_at_utc": opened,
        "officers": snapshot.officers(),
        "checkpoint": checkpoint_json(&snapshot),
    })))
}

/// `GET /api/v1/officers`: every officer key ever authorized, and the proof of it: the
/// register key's entries (every `RegisterOpened`, `OfficerAuthorized` and `OfficerRevoked`,
/// docs/FORMAT.md §10.1), each with its inclusion proof, and the completeness proof that they
/// are all of them as of the checkpoint served with them. `sijil officers URL` rebuilds the
/// list from the entries alone (the `officers` member is for readers who do not verify).
pub async fn officers(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let key = IndexKey::register();
    let snap = snapshot.clone();
    let (entries, completeness) = state
        .blocking(move |store| {
            let view = snap.keys_view([key])?;
            let seqs = view
                .index()
                .get(&key)
                .map(|l| l.seqs.clone())
                .unwrap_or_default();
            let entries = seqs
                .iter()
                .map(|&seq| {
                    let (se, proof) =
                        committed_entry_with_proof(store, snap.tree(), seq, Io::Allowed)?;
                    entry_with_proof(store, &snap, &se, &proof)
                })
                .collect::<Result<Vec<Value>, Error>>()?;
            Ok((entries, completeness(store, &snap, &view, &key, &[])?))
        })
        .await?;
    Ok(answer(&json!({
        "tree_size": snapshot.checkpoint.checkpoint.size,
        "checkpoint": checkpoint_json(&snapshot),
        "officers": snapshot.officers(),
        "entries": entries,
        "completeness": completeness,
    })))
}

/// `GET /api/v1/log-keys`: the log's chain of keys and the proof of it (docs/API.md,
/// docs/FORMAT.md §3.1): the register key's entries (`RegisterOpened`, the officers' events
/// and every `LogKeyRotated`), each with its inclusion proof in the checkpoint served with
/// them, and the completeness proof that they are all of them. A verifier that trusts an
/// older key checks each rotation's signature by the key before it, then the checkpoint with
/// the last key (`sijil verify URL --key OLD`).
pub async fn log_keys(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let snap = snapshot.clone();
    let keys = state
        .blocking(move |store| {
            let mut prove = |seq: u64| proven_entry(store, &snap, seq);
            let view = snap.keys_view([IndexKey::register()])?;
            sijil_register::rotation::log_keys_answer(&view, &snap.checkpoint.bytes, &mut prove)
        })
        .await?;
    let mut value = serde_json::to_value(&keys).map_err(Error::internal)?;
    value["checkpoint"] = checkpoint_json(&snapshot);
    Ok(answer(&value))
}

/// `GET /api/v1/cases`: filtered, sorted, paged.
pub async fn cases(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let q = Query::parse(
        &uri,
        &[
            "status",
            "controller",
            "category",
            "opened_from",
            "opened_to",
            "sort",
            "limit",
            "offset",
            "after",
            "as_of",
        ],
    )?;
    let filter = q.case_filter()?;
    let sort = q.sort()?;
    let page = q.page(50, Page::MAX_LIMIT)?;
    let as_of = q.as_of(state.today()?)?;
    let snapshot = state.snapshot();
    let listing = snapshot.cases(&filter, sort, &page, as_of)?;
    Ok(answer(&json!({
        "tree_size": snapshot.checkpoint.checkpoint.size,
        "as_of": as_of,
        "total": listing.total,
        "offset": listing.offset,
        "items": listing.items,
        "next": listing.next,
    })))
}

/// One entry as the API gives it: its bytes, its JSON form and its inclusion proof
/// (`proof`, in the snapshot's tree).
fn entry_with_proof(
    store: &Store,
    snapshot: &Snapshot,
    se: &StoredEntry,
    proof: &[Hash],
) -> Result<Value, Error> {
    let view = snapshot.entry_view(se.entry.seq)?;
    let text = entry_with_proof_text(store, &view, se, proof);
    serde_json::from_slice(&text).map_err(Error::internal)
}

/// [`entry_with_proof`]'s JSON text, with `view` holding the entry's annotations: written
/// directly, as [`object`] does (a case answer has one per entry).
fn entry_with_proof_text(store: &Store, view: &View, se: &StoredEntry, proof: &[Hash]) -> Vec<u8> {
    object(&mut entry_members(store, view, se, proof))
}

/// The members of [`entry_with_proof_text`]'s object.
fn entry_members(
    store: &Store,
    view: &View,
    se: &StoredEntry,
    proof: &[Hash],
) -> Vec<(&'static str, Vec<u8>)> {
    let seq = se.entry.seq;
    let layout = store.layout();
    let text_of = |d: &TextDigest| read_text(layout, d);
    let mut entry = Vec::with_capacity(1024);
    if write_entry_json(&mut entry, se, view, text_of).is_err() {
        // Never: every part serializes. The same bytes through a `Value`, as before.
        entry = text(&entry_json(se, view, text_of));
    }
    // Standard base64 straight into the answer's buffer (padded: 4 characters per 3 bytes).
    let encoded = se.bytes.len().div_ceil(3) * 4;
    let mut bytes = vec![0; encoded + 2];
    bytes[0] = b'"';
    let written = BASE64
        .encode_slice(&se.bytes, &mut bytes[1..=encoded])
        .unwrap_or(0);
    bytes.truncate(written + 1);
    bytes.push(b'"');
    vec![
        ("leaf_index", seq.to_string().into_bytes()),
        ("bytes", bytes),
        ("entry", entry),
        ("inclusion_proof", hashes_text(proof)),
        (
            "tlog_proof",
            format!("\"/api/v1/entries/{seq}/tlog-proof\"").into_bytes(),
        ),
        ("raw", format!("\"/api/v1/entries/{seq}/raw\"").into_bytes()),
    ]
}

/// A JSON array of hashes in standard base64 (which needs no escaping in a JSON string).
fn hashes_text(hashes: &[Hash]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hashes.len() * 47 + 2);
    out.push(b'[');
    for (i, h) in hashes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_hash(&mut out, h);
    }
    out.push(b']');
    out
}

/// `hash` as a JSON string in standard base64, appended to `out` (no `String` of its own).
fn push_hash(out: &mut Vec<u8>, hash: &Hash) {
    out.push(b'"');
    let start = out.len();
    out.resize(start + 44, 0);
    // 32 bytes are exactly 44 base64 characters: the slice is never too short.
    let written = BASE64.encode_slice(hash.0, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// Entry `seq` of `tree`, which the caller knows the tree holds (a seq checked against the
/// size, or one the view names).
pub fn committed_entry(store: &Store, tree: Tree, seq: u64, io: Io) -> Result<StoredEntry, Error> {
    store.entry(tree, seq, io)?.ok_or_else(|| {
        Error::internal(format!(
            "entry {seq} is not in the tree of size {}",
            tree.size
        ))
    })
}

/// Entry `seq` of `tree` with its inclusion proof in `tree`, read together
/// ([`Store::entry_with_proof`]); the caller knows the tree holds it.
pub fn committed_entry_with_proof(
    store: &Store,
    tree: Tree,
    seq: u64,
    io: Io,
) -> Result<(StoredEntry, Vec<Hash>), Error> {
    store.entry_with_proof(tree, seq, io)?.ok_or_else(|| {
        Error::internal(format!(
            "entry {seq} is not in the tree of size {}",
            tree.size
        ))
    })
}

/// `GET /api/v1/cases/{id}`: the case, each of its entries with its proof, the checkpoint.
pub async fn case(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Error> {
    let q = Query::parse(&uri, &["as_of"])?;
    let as_of = q.as_of(state.today()?)?;
    let snapshot = state.snapshot();
    let key = IndexKey::case(&id);
    let snap = snapshot.clone();
    let lookup = id.clone();
    // One task on the blocking pool: the case's records (from the writer's state), its
    // entries and their proofs.
    let found = state
        .blocking(move |store| {
            let view = snap.case_view(&lookup)?;
            let Some(detail) = view.case(&lookup, as_of) else {
                return Ok(Err(completeness(store, &snap, &view, &key, &[])?));
            };
            let stored = detail
                .timeline
                .iter()
                .map(|t| committed_entry_with_proof(store, snap.tree(), t.seq, Io::Allowed))
                .collect::<Result<Vec<_>, Error>>()?;
            // The case's view holds the annotations of all its entries.
            let entries = stored
                .iter()
                .map(|(se, proof)| entry_with_proof_text(store, &view, se, proof))
                .collect::<Vec<_>>();
            let signers = completeness::signers_of(stored.iter().map(|(se, _)| &se.entry));
            Ok(Ok((
                detail,
                array(&entries),
                completeness_text(store, &snap, &view, &key, &signers)?,
            )))
        })
        .await?;
    let (detail, entries, completeness) = match found {
        Ok(found) => found,
        Err(absent) => {
            let mut extra = serde_json::Map::new();
            extra.insert("checkpoint".into(), checkpoint_json(&snapshot));
            extra.insert("completeness".into(), absent);
            return Err(Error::not_found(format!("no case {id:?} in this register")).with(extra));
        }
    };
    let detail = serde_json::to_value(&detail).map_err(Error::internal)?;
    Ok(answer_text(object(&mut [
        ("checkpoint", text(&checkpoint_json(&snapshot))),
        ("as_of", text(&json!(as_of))),
        ("case", text(&detail)),
        ("entries", entries),
        ("completeness", completeness),
    ])))
}

/// The `completeness` member (docs/API.md, docs/FORMAT.md §10.5): the proof that the
/// subject `key` has exactly the entries listed (or none) as of the served checkpoint, and
/// the history of each of `signers`.
fn completeness(
    store: &Store,
    snapshot: &Snapshot,
    view: &View,
    key: &IndexKey,
    signers: &[PublicKey],
) -> Result<Value, Error> {
    let size = snapshot.tree().size;
    let mut prove = |seq: u64| proven_entry(store, snapshot, seq);
    let c = completeness::build(view.index(), key, size, signers, &mut prove)?;
    serde_json::to_value(c).map_err(Error::internal)
}

/// [`completeness`]'s JSON text, its `signers` member kept per snapshot
/// ([`Snapshot::signer_proofs`]): the histories of the same officers are in every case
/// answer of a snapshot, and building them again (their trie proofs, their entries decoded
/// to find who authorized whom) was about a tenth of a case answer's time (issue 11).
fn completeness_text(
    store: &Store,
    snapshot: &Snapshot,
    view: &View,
    key: &IndexKey,
    signers: &[PublicKey],
) -> Result<Vec<u8>, Error> {
    let size = snapshot.tree().size;
    let mut prove = |seq: u64| proven_entry(store, snapshot, seq);
    let subject = completeness::build(view.index(), key, size, &[], &mut prove)?;
    let subject = serde_json::to_value(subject).map_err(Error::internal)?;
    let mut members = members_of(&subject);
    if !signers.is_empty() {
        let kept = snapshot.signer_proofs(signers, || {
            let c = completeness::build(view.index(), key, size, signers, &mut prove)?;
            Ok::<_, Error>(text(
                &serde_json::to_value(c.signers).map_err(Error::internal)?,
            ))
        })?;
        members.push(("signers", kept.to_vec()));
    }
    Ok(object(&mut members))
}

/// Entry `seq` with its inclusion proof in the snapshot's tree, as proofs carry it. The
/// `IndexCommitted` at S − 1, the officers' histories and the register's own entries are the
/// same in every answer of a snapshot: proven once and kept ([`Snapshot::proven`]).
fn proven_entry(store: &Store, snapshot: &Snapshot, seq: u64) -> Result<ProvenEntry, Error> {
    let tree = snapshot.tree();
    let proven = snapshot.proven(seq, || {
        let (se, proof) = committed_entry_with_proof(store, tree, seq, Io::Allowed)?;
        Ok::<_, Error>(ProvenEntry {
            seq,
            bytes: BASE64.encode(&se.bytes),
            inclusion_proof: base64_hashes(&proof),
        })
    })?;
    Ok(ProvenEntry::clone(&proven))
}

/// The seq in a path, canonical decimal, below the tree size.
fn seq_param(raw: &str, size: u64) -> Result<u64, Error> {
    let seq = canonical_u64(raw).ok_or_else(|| {
        Error::bad_parameter(
            "seq",
            "not a leaf index (a non-negative integer in canonical decimal)",
        )
    })?;
    if seq >= size {
        return Err(Error::not_found(format!(
            "no entry {seq}: the served checkpoint has {size} entries"
        )));
    }
    Ok(seq)
}

/// `GET /api/v1/entries/{seq}`: one entry with its proof and the checkpoint.
pub async fn entry(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let seq = seq_param(&raw, snapshot.tree().size)?;
    let snap = snapshot.clone();
    let body = state
        .blocking(move |store| {
            let (se, proof) = committed_entry_with_proof(store, snap.tree(), seq, Io::Allowed)?;
            let view = snap.entry_view(seq)?;
            let mut members = entry_members(store, &view, &se, &proof);
            members.push(("checkpoint", checkpoint_text(&snap)));
            Ok(object(&mut members))
        })
        .await?;
    Ok(answer_text(body))
}

/// `GET /api/v1/entries/{seq}/tlog-proof`: the entry's c2sp.org/tlog-proof, to keep and
/// check offline with the entry's bytes (`…/raw`) and the log's key.
pub async fn tlog_proof(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let tree = snapshot.tree();
    let seq = seq_param(&raw, tree.size)?;
    let proof = state
        .read(move |store, io| Ok(store.inclusion_proof(tree, tree.size, seq, io)?))
        .await?;
    let text = TlogProof {
        extra: None,
        index: seq,
        proof,
        checkpoint: snapshot.checkpoint.bytes.clone(),
    }
    .to_bytes();
    let disposition = format!("attachment; filename=\"sijil-entry-{seq}.tlog-proof\"");
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (header::CACHE_CONTROL, SHORT_CACHE.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}

/// `GET /api/v1/entries/{seq}/raw`: the entry's bytes, as hashed and signed.
pub async fn raw_entry(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    uri: Uri,
) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let tree = snapshot.tree();
    let seq = seq_param(&raw, tree.size)?;
    let se = state
        .read(move |store, io| committed_entry(store, tree, seq, io))
        .await?;
    let disposition = format!("attachment; filename=\"sijil-entry-{seq}.bin\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            // The bytes of an entry the checkpoint covers never change.
            (header::CACHE_CONTROL, crate::tlog::IMMUTABLE.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        se.bytes,
    )
        .into_response())
}

/// `GET /api/v1/controllers`: every controller, by id, paged.
pub async fn controllers(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    // The same `limit` and `offset` rules as the case list (`after` is not a parameter here).
    let q = Query::parse(&uri, &["limit", "offset"])?;
    let (offset, limit) = match q.page(100, 1000)? {
        Page::Offset { offset, limit } => (offset, limit),
        Page::After { limit, .. } => (0, limit),
    };
    let snapshot = state.snapshot();
    let all = snapshot.listing()?.controllers();
    let start = offset.min(all.len());
    let end = start.saturating_add(limit).min(all.len());
    Ok(answer(&json!({
        "tree_size": snapshot.checkpoint.checkpoint.size,
        "total": all.len(),
        "offset": offset,
        "items": &all[start..end],
    })))
}

/// `GET /api/v1/controllers/{id}`: a controller and its cases.
pub async fn controller(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Error> {
    let q = Query::parse(&uri, &["as_of"])?;
    let as_of = q.as_of(state.today()?)?;
    let snapshot = state.snapshot();
    let key = IndexKey::controller(&id);
    let snap = snapshot.clone();
    let (proof, view) = state
        .blocking(move |store| {
            let view = snap.keys_view([key])?;
            Ok((completeness(store, &snap, &view, &key, &[])?, view))
        })
        .await?;
    let Some(detail) = snapshot.listing()?.controller(&id, as_of) else {
        let mut extra = serde_json::Map::new();
        extra.insert("checkpoint".into(), checkpoint_json(&snapshot));
        extra.insert("completeness".into(), proof);
        return Err(Error::not_found(format!("no controller {id:?} in this register")).with(extra));
    };
    // The opening entries of its cases, proven: the list of its cases is complete.
    let seqs = view
        .index()
        .get(&key)
        .map(|l| l.seqs.clone())
        .unwrap_or_default();
    let snap = snapshot.clone();
    let entries = state
        .blocking(move |store| {
            seqs.iter()
                .map(|&seq| {
                    let (se, proof) =
                        committed_entry_with_proof(store, snap.tree(), seq, Io::Allowed)?;
                    entry_with_proof(store, &snap, &se, &proof)
                })
                .collect::<Result<Vec<Value>, Error>>()
        })
        .await?;
    Ok(answer(&json!({
        "tree_size": snapshot.checkpoint.checkpoint.size,
        "as_of": as_of,
        "controller": detail,
        "checkpoint": checkpoint_json(&snapshot),
        "entries": entries,
        "completeness": proof,
    })))
}

/// `GET /api/v1/stats`: the register's statistics at the served checkpoint.
pub async fn stats(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let q = Query::parse(&uri, &["as_of"])?;
    let as_of = q.as_of(state.today()?)?;
    let snapshot = state.snapshot();
    let mut value = serde_json::to_value(&*snapshot.stats(as_of)?).map_err(Error::internal)?;
    value["tree_size"] = json!(snapshot.checkpoint.checkpoint.size);
    value["root"] = json!(snapshot.checkpoint.checkpoint.root.to_base64());
    Ok(answer(&value))
}

/// When a proof is about an older tree than the checkpoint's (`size` < checkpoint size), the
/// answer also gives that tree's root and the consistency proof from it to the checkpoint, so
/// it still checks against the signed checkpoint alone.
fn link_to_checkpoint(
    store: &Store,
    tree: Tree,
    size: u64,
    members: &mut Vec<(&'static str, Vec<u8>)>,
    io: Io,
) -> Result<(), Error> {
    // The checkpoint's own tree has the root it signs (verified when it was opened): no
    // need to hash it again from the tiles on every proof asked against it.
    let root = if size == tree.size {
        tree.root
    } else {
        store.root_at(tree, size, io)?
    };
    members.push(("tree_root", hash_text(&root)));
    if size < tree.size {
        let proof = store.consistency_proof(tree, size, tree.size, io)?;
        members.push(("checkpoint_consistency", hashes_text(&proof)));
    }
    Ok(())
}

/// An optional tree size parameter: the served checkpoint's size when absent, and never
/// beyond it (nothing beyond the served checkpoint is proven).
fn tree_size_param(q: &Query, name: &'static str, served: u64) -> Result<u64, Error> {
    match q.u64(name)? {
        None => Ok(served),
        Some(n) if n > served => Err(Error::bad_parameter(
            name,
            format!("{n} is beyond the served checkpoint (tree size {served})"),
        )),
        Some(n) => Ok(n),
    }
}

/// `GET /api/v1/proof/inclusion?index=&size=`: the inclusion proof of leaf `index` in the
/// tree of `size` leaves (default: the checkpoint's).
pub async fn inclusion(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let q = Query::parse(&uri, &["index", "size"])?;
    let snapshot = state.snapshot();
    let tree = snapshot.tree();
    let index = q
        .u64("index")?
        .ok_or_else(|| Error::bad_parameter("index", "required: the leaf index to prove"))?;
    let size = tree_size_param(&q, "size", tree.size)?;
    if index >= size {
        return Err(Error::bad_parameter(
            "index",
            format!("{index} is not below the tree size {size}"),
        ));
    }
    // Written as `serde_json::Value` wrote it (keys in order, [`object`]), without building
    // one: a proof is the API's most frequent answer (issue 11).
    let mut members = state
        .read(move |store, io| {
            let (leaf, proof) = store.leaf_and_inclusion_proof(tree, size, index, io)?;
            let mut members = vec![
                ("leaf_index", index.to_string().into_bytes()),
                ("tree_size", size.to_string().into_bytes()),
                ("leaf_hash", hash_text(&leaf)),
                ("inclusion_proof", hashes_text(&proof)),
            ];
            link_to_checkpoint(store, tree, size, &mut members, io)?;
            Ok(members)
        })
        .await?;
    members.push(("checkpoint", checkpoint_text(&snapshot)));
    Ok(answer_text(object(&mut members)))
}

/// `GET /api/v1/proof/consistency?from=&to=`: the consistency proof from the tree of `from`
/// leaves to the tree of `to` leaves (default: the checkpoint's).
pub async fn consistency(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let q = Query::parse(&uri, &["from", "to"])?;
    let snapshot = state.snapshot();
    let tree = snapshot.tree();
    let from = q
        .u64("from")?
        .ok_or_else(|| Error::bad_parameter("from", "required: the older tree size"))?;
    let to = tree_size_param(&q, "to", tree.size)?;
    if from == 0 {
        return Err(Error::bad_parameter(
            "from",
            "0: every tree is consistent with the empty tree; there is no proof to give",
        ));
    }
    if from > to {
        return Err(Error::bad_parameter(
            "from",
            format!("{from} is above to ({to})"),
        ));
    }
    let mut members = state
        .read(move |store, io| {
            let proof = store.consistency_proof(tree, from, to, io)?;
            let mut members = vec![
                ("from", from.to_string().into_bytes()),
                ("to", to.to_string().into_bytes()),
                ("tree_size", to.to_string().into_bytes()),
                ("consistency_proof", hashes_text(&proof)),
            ];
            link_to_checkpoint(store, tree, to, &mut members, io)?;
            Ok(members)
        })
        .await?;
    members.push(("checkpoint", checkpoint_text(&snapshot)));
    Ok(answer_text(object(&mut members)))
}

/// `GET /healthz`: 200 while the server can answer; says which tree it serves.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let size = state.snapshot().tree().size;
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        json!({ "status": "ok", "tree_size": size }).to_string(),
    )
        .into_response()
}
