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

/// [`entry_json`]'s JSON text, appended to `out`: the bytes `entry_json(..).to_string()`
/// writes (its keys in `Value`'s order, sorted), written directly rather than through a
/// `Value` built and freed per entry, which was about a twentieth of a case answer's time
/// (issue 11). The event, its case link and the erasure note still go through a `Value`:
/// their keys are sorted there.
///
/// # Errors
/// When a part does not serialize (it always does: keys are strings).
pub fn write_entry_json(
    out: &mut Vec<u8>,
    se: &StoredEntry,
    view: &View,
    text: impl Fn(&TextDigest) -> TextState,
) -> Result<(), serde_json::Error> {
    let e = &se.entry;
    let annotations = view.annotations(e.seq);
    let erasure = annotations.and_then(|a| a.erasure.as_ref());
    out.extend_from_slice(b"{\"case\":");
    serde_json::to_writer(&mut *out, &serde_json::to_value(&e.case)?)?;
    out.extend_from_slice(b",\"corrected_by\":");
    match annotations {
        Some(a) => serde_json::to_writer(&mut *out, &a.corrections)?,
        None => out.extend_from_slice(b"[]"),
    }
    out.extend_from_slice(b",\"erasure\":");
    serde_json::to_writer(&mut *out, &serde_json::to_value(erasure)?)?;
    out.extend_from_slice(b",\"event\":");
    serde_json::to_writer(&mut *out, &serde_json::to_value(&e.event)?)?;
    out.extend_from_slice(b",\"leaf_hash\":");
    serde_json::to_writer(&mut *out, &se.leaf.to_hex())?;
    out.extend_from_slice(b",\"prev\":");
    serde_json::to_writer(&mut *out, &e.prev.to_hex())?;
    out.extend_from_slice(b",\"recorded_at\":");
    serde_json::to_writer(&mut *out, &e.recorded_at)?;
    out.extend_from_slice(b",\"recorded_at_utc\":");
    let recorded = chrono::DateTime::from_timestamp_millis(e.recorded_at).map(|t| t.to_rfc3339());
    serde_json::to_writer(&mut *out, &recorded)?;
    out.extend_from_slice(b",\"seq\":");
    serde_json::to_writer(&mut *out, &e.seq)?;
    out.extend_from_slice(b",\"signer\":{\"key\":");
    serde_json::to_writer(&mut *out, &e.signer.to_string())?;
    out.extend_from_slice(b",\"log_key\":");
    let log_key = view
        .register()
        .is_some_and(|r| r.log_keys.iter().any(|k| k.key == e.signer));
    out.extend_from_slice(if log_key { b"true" } else { b"false" });
    out.extend_from_slice(b",\"officer\":");
    serde_json::to_writer(&mut *out, &view.officer(&e.signer).map(|o| &o.name))?;
    out.extend_from_slice(b"},\"texts\":[");
    for (i, d) in e.event.texts().into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let (t, problem) = match text(d) {
            TextState::Present(t) => (Some(t), None),
            TextState::Absent => (None, None),
            TextState::Invalid(m) => (None, Some(m)),
        };
        out.extend_from_slice(b"{\"digest\":");
        serde_json::to_writer(&mut *out, &d.0.to_hex())?;
        out.extend_from_slice(b",\"invalid\":");
        serde_json::to_writer(&mut *out, &problem)?;
        out.extend_from_slice(b",\"text\":");
        serde_json::to_writer(&mut *out, &t)?;
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(())
}
