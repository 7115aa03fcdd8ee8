//! The JSON form of an entry, as `sijil show` prints it and the HTTP API serves it: the
//! decoded event, who signed it, its case link, and its texts resolved from their blobs.

use serde_json::{json, Value};
use sijil_core::blob::Blob;
use sijil_core::event::TextDigest;
use sijil_core::storage::Layout;
use sijil_core::verify::StoredEntry;
use sijil_projector::View;

/// A redactable text as a reader sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextState {
    /// The blob is there and matches its digest.
    Present(String),
    /// The blob is gone (erased, or not copied).
    Absent,
    /// The blob is there but does not match its digest.
    Invalid(String),
}

/// Reads a blob from a register directory and checks it against its digest.
pub fn read_text(layout: &Layout, digest: &TextDigest) -> TextState {
    match std::fs::read(layout.blob(digest)) {
        Ok(bytes) => match Blob::parse(digest, &bytes) {
            Ok(b) => TextState::Present(b.text),
            Err(e) => TextState::Invalid(e.to_string()),
        },
        Err(_) => TextState::Absent,
    }
}

/// The JSON form of a committed entry. `text` resolves a digest to its text.
pub fn entry_json(se: &StoredEntry, view: &View, text: impl Fn(&TextDigest) -> TextState) -> Value {
    let e = &se.entry;
    let officer = view.officer(&e.signer).map(|o| o.name.clone());
    let annotations = view.annotations(e.seq);
    let erasure = annotations.and_then(|a| a.erasure.as_ref());
    let texts: Vec<Value> = e
        .event
        .texts()
        .into_iter()
        .map(|d| {
            let state = text(d);
            let (t, problem) = match state {
                TextState::Present(t) => (Some(t), None),
                TextState::Absent => (None, None),
                TextState::Invalid(m) => (None, Some(m)),
            };
            json!({ "digest": d.0.to_hex(), "text": t, "invalid": problem })
        })
        .collect();
    let recorded = chrono::DateTime::from_timestamp_millis(e.recorded_at).map(|t| t.to_rfc3339());
    json!({
        "seq": e.seq,
        "leaf_hash": se.leaf.to_hex(),
        "prev": e.prev.to_hex(),
        "recorded_at": e.recorded_at,
        "recorded_at_utc": recorded,
        "signer": {
            "key": e.signer.to_string(),
            "officer": officer,
            "log_key": view
                .register()
                .is_some_and(|r| r.log_keys.iter().any(|k| k.key == e.signer)),
        },
        "case": e.case,
        "event": e.event,
        "texts": texts,
        "corrected_by": annotations.map(|a| a.corrections.clone()).unwrap_or_default(),
        "erasure": erasure,
    })
}
