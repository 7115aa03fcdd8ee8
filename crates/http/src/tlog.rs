//! The C2SP tlog-tiles endpoints (c2sp.org/tlog-tiles) and the redactable text blobs.
//!
//! - `GET /checkpoint`: the signed checkpoint, `text/plain; charset=utf-8`, cached for at most
//!   [`SHORT_CACHE`] (the endpoint is mutable).
//! - `GET /tile/<L>/<N>[.p/<W>]`: hash tiles; `GET /tile/entries/<N>[.p/<W>]`: entry bundles,
//!   gzip-compressed with `Content-Encoding: gzip` sent without negotiation (the spec allows
//!   it; every client must decode it). Both `application/octet-stream` with
//!   [`IMMUTABLE`] caching, partial tiles included: a `.p/<W>` tile's bytes are fixed.
//! - `GET /blobs/<hex digest>`: a redactable text (`salt ‖ text`, DESIGN §5). An `Erasure`
//!   deletes it, so it is not immutable: [`BLOB_CACHE`].
//!
//! Paths are parsed from the raw request path, strictly ([`Tile::parse_path`]): one spelling
//! per tile, no percent-encoding, no `..`, no empty segment. A tile the served checkpoint does
//! not cover is a 404 with `no-store`, like every error: the files of a batch that has not
//! committed may still change, and a cache must never keep them.

use axum::extract::State;
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sijil_core::blob::{digest_of_name, Blob};
use sijil_core::tile::{Tile, TileLevel};

use crate::error::Error;
use crate::state::AppState;

/// Tiles and bundles never change (Sunlight's header; c2sp.org/tlog-tiles: "long-lived").
pub const IMMUTABLE: &str = "public, max-age=604800, immutable";

/// The checkpoint, and every answer built from it (API, pages), may be cached this long.
pub const SHORT_CACHE: &str = "public, max-age=2";

/// Blobs may be erased: caches keep them a minute at most.
pub const BLOB_CACHE: &str = "public, max-age=60";

const OCTET_STREAM: &str = "application/octet-stream";

/// `GET /checkpoint`.
pub async fn checkpoint(State(state): State<AppState>) -> Response {
    let snapshot = state.snapshot();
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, SHORT_CACHE),
        ],
        snapshot.checkpoint.bytes.clone(),
    )
        .into_response()
}

/// `GET /tile/…`: a hash tile or an entry bundle, verified against the served checkpoint.
pub async fn tile(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let path = uri.path().strip_prefix('/').unwrap_or_default();
    let tile = Tile::parse_path(path).map_err(|e| Error::not_found(e.to_string()))?;
    let snapshot = state.snapshot();
    let tree = snapshot.tree();
    let beyond = || {
        Error::not_found(format!(
            "{path}: not covered by the served checkpoint (tree size {})",
            tree.size
        ))
    };
    match tile.level {
        TileLevel::Hash(_) => {
            let data = state
                .read(move |store, io| Ok(store.hash_tile(tree, &tile, io)?))
                .await?
                .ok_or_else(beyond)?;
            Ok(immutable(data, false))
        }
        TileLevel::Entries => {
            let bundle = state
                .read(move |store, io| Ok(store.bundle(tree, &tile, io)?))
                .await?
                .ok_or_else(beyond)?;
            Ok(immutable(bundle.gzip.clone(), true))
        }
    }
}

fn immutable(body: Bytes, gzip: bool) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, OCTET_STREAM),
            (header::CACHE_CONTROL, IMMUTABLE),
        ],
        body,
    )
        .into_response();
    if gzip {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// `GET /blobs/<64 lowercase hex>`: the blob, checked against its name before it is served.
pub async fn blob(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let name = uri.path().strip_prefix("/blobs/").unwrap_or_default();
    let digest = digest_of_name(name).ok_or_else(|| {
        Error::not_found(format!(
            "blobs/{}: not a blob name (64 lowercase hex digits)",
            name.chars().take(80).collect::<String>()
        ))
    })?;
    // Only texts that a committed entry of the served checkpoint names and that were not
    // erased: a file left under blobs/ by a batch that never committed, or by an erasure
    // whose deletion failed, is not part of the register.
    if !state.snapshot().view.text_is_published(&digest) {
        return Err(Error::not_found(format!(
            "blobs/{name}: no such text (never committed, or erased)"
        )));
    }
    let path = state.store().layout().blob(&digest);
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::not_found(format!(
                "blobs/{name}: no such text (never stored, or erased)"
            )))
        }
        Err(e) => return Err(Error::internal(format!("{}: {e}", path.display()))),
    };
    Blob::parse(&digest, &bytes).map_err(Error::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, OCTET_STREAM),
            (header::CACHE_CONTROL, BLOB_CACHE),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_names_have_one_spelling() {
        let h = "ab".repeat(32);
        assert!(digest_of_name(&h).is_some());
        assert!(digest_of_name(&h.to_uppercase()).is_none());
        assert!(digest_of_name(&h[..62]).is_none());
        assert!(digest_of_name(&format!("{h}0")).is_none());
        assert!(digest_of_name("../private/log.key").is_none());
    }
}
