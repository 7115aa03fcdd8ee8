//! The C2SP tlog-tiles endpoints (c2sp.org/tlog-tiles) and the redactable text blobs.
//!
//! - `GET /checkpoint`: the signed checkpoint, `text/plain; charset=utf-8`, cached for at most
//!   [`SHORT_CACHE`] (the endpoint is mutable).
//! - `GET /tile/<L>/<N>[.p/<W>]`: hash tiles; `GET /tile/entries/<N>[.p/<W>]`: entry bundles.
//!   A bundle is sent gzip-compressed (`Content-Encoding: gzip`) unless the request's
//!   `Accept-Encoding` refuses gzip, then as it is (identity). Each is compressed once: at
//!   the log's edge kept in memory, elsewhere kept on disk in the server's own directory
//!   (`Store::bundle`; compressing each random bundle on each request was what bounded the
//!   server). Both with `Vary: Accept-Encoding`
//!   (c2sp.org/tlog-tiles: "Logs MAY use `Content-Encoding: gzip` with no negotiation, or any
//!   compression algorithm requested by the client"; a request without the header accepts
//!   any coding, RFC 9110 §12.5.3). Both
//!   `application/octet-stream` with [`IMMUTABLE`] caching, partial tiles included: a
//!   `.p/<W>` tile's bytes are fixed.
//! - Every answer here carries a strong `ETag` (a digest of the bytes sent: for a full hash
//!   tile, its Merkle root, which commits to all its bytes), and a request
//!   whose `If-None-Match` names it gets `304 Not Modified` without a body (RFC 9110 §13.1.2).
//! - `GET /blobs/<hex digest>`: a redactable text (`salt ‖ text`, DESIGN §5). An `Erasure`
//!   deletes it, so it is not immutable: [`BLOB_CACHE`].
//!
//! Paths are parsed from the raw request path, strictly ([`Tile::parse_path`]): one spelling
//! per tile, no percent-encoding, no `..`, no empty segment, no query. A tile the served checkpoint does
//! not cover is a 404 with `no-store`, like every error: the files of a batch that has not
//! committed may still change, and a cache must never keep them.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sijil_core::blob::{digest_of_name, Blob};
use sijil_core::tile::{Tile, TileLevel};

use crate::error::Error;
use crate::state::AppState;
use crate::store::{Bundle, Io};

/// Tiles and bundles never change (Sunlight's header; c2sp.org/tlog-tiles: "long-lived").
pub const IMMUTABLE: &str = "public, max-age=604800, immutable";

/// The checkpoint, and every answer built from it (API, pages), may be cached this long.
pub const SHORT_CACHE: &str = "public, max-age=2";

/// Blobs may be erased: caches keep them a minute at most.
pub const BLOB_CACHE: &str = "public, max-age=60";

const OCTET_STREAM: &str = "application/octet-stream";

/// Log paths have no query: like any other non-canonical spelling, 404.
fn no_query(uri: &Uri) -> Result<(), Error> {
    match uri.query() {
        None => Ok(()),
        Some(_) => Err(Error::not_found(format!(
            "{}: a log path has no query string",
            uri.path()
        ))),
    }
}

/// `GET /checkpoint`.
pub async fn checkpoint(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    no_query(&uri)?;
    log_answer(&state, "/checkpoint", &headers, Io::CacheOnly)
}

/// `GET /tile/…`: a hash tile or an entry bundle, verified against the served checkpoint.
pub async fn tile(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    no_query(&uri)?;
    answer(state, uri.path(), headers).await
}

/// The answer to `GET <path>` for `/checkpoint` or `/tile/…` (whose query, method, `Host`
/// and body the caller checked): from memory or a known file on this task, otherwise read
/// and verified on the blocking pool. The router's handlers and the server's fast path
/// (`server::Front`) both answer through it.
pub(crate) async fn answer(
    state: AppState,
    path: &str,
    headers: HeaderMap,
) -> Result<Response, Error> {
    match log_answer(&state, path, &headers, Io::KnownFiles) {
        Err(e) if e.is_needs_io() => verified_answer(state, path.to_owned(), headers).await,
        other => other,
    }
}

/// [`log_answer`] with every read allowed (files verified, and kept), on the blocking pool.
pub(crate) async fn verified_answer(
    state: AppState,
    path: String,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let store_state = state.clone();
    state
        .blocking(move |_| log_answer(&store_state, &path, &headers, Io::Allowed))
        .await
}

/// The answer to `GET <path>` for `/checkpoint` or `/tile/…` from the current snapshot,
/// reading only as `io` allows ([`Error::is_needs_io`] otherwise).
pub(crate) fn log_answer(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    io: Io,
) -> Result<Response, Error> {
    let snapshot = state.snapshot();
    if path == "/checkpoint" {
        return Ok(conditional(
            headers,
            "text/plain; charset=utf-8",
            SHORT_CACHE,
            Bytes::from(snapshot.checkpoint.bytes.clone()),
            None,
        ));
    }
    let path = path.strip_prefix('/').unwrap_or_default();
    let tile = Tile::parse_path(path).map_err(|e| Error::not_found(e.to_string()))?;
    let tree = snapshot.tree();
    let beyond = || {
        Error::not_found(format!(
            "{path}: not covered by the served checkpoint (tree size {})",
            tree.size
        ))
    };
    match tile.level {
        TileLevel::Hash(_) => {
            let (data, digest) = state
                .store()
                .hash_tile(tree, &tile, io)?
                .ok_or_else(beyond)?;
            Ok(conditional_with(
                headers,
                OCTET_STREAM,
                IMMUTABLE,
                data,
                None,
                digest,
            ))
        }
        TileLevel::Entries => {
            let gzip_ok = accepts_gzip(headers);
            let bundle = state
                .store()
                .bundle(tree, &tile, io, gzip_ok)?
                .ok_or_else(beyond)?;
            let (body, coding, digest) = match bundle {
                Bundle::Gzip(b) if gzip_ok => (b.gzip.clone(), Coding::Gzip, b.gzip_digest),
                Bundle::Compressed { bytes, digest } => (bytes, Coding::Gzip, digest),
                Bundle::Gzip(b) => {
                    let plain = b.plain().map_err(|e| Error::internal(e.to_string()))?;
                    (Bytes::from(plain), Coding::Identity, b.plain_digest)
                }
                Bundle::Plain { bytes, digest } => (bytes, Coding::Identity, digest),
            };
            Ok(conditional_with(
                headers,
                OCTET_STREAM,
                IMMUTABLE,
                body,
                Some(coding),
                digest,
            ))
        }
    }
}

/// How a negotiated answer is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Gzip,
    Identity,
}

/// Whether a request's `Accept-Encoding` (RFC 9110 §12.5.3) accepts gzip: yes without the
/// header, or when `gzip`, `x-gzip` or `*` is listed with a non-zero weight (an explicit
/// `gzip` weight overrides `*`'s). An element that does not parse counts as absent.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::ACCEPT_ENCODING).iter().peekable();
    if values.peek().is_none() {
        return true;
    }
    let (mut gzip, mut any) = (None, None);
    for element in values
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = element.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut weight = Some(1.0f32);
        for p in parts {
            if let Some(q) = p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")) {
                weight = q
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|w| (0.0..=1.0).contains(w));
            }
        }
        let Some(w) = weight else { continue };
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(w > 0.0),
            "*" => any = Some(w > 0.0),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// An answer with a strong `ETag` over its bytes, or `304 Not Modified` when the request's
/// `If-None-Match` already names it. `coding`, for a negotiated answer, sets
/// `Content-Encoding` and `Vary: Accept-Encoding`, and goes into the tag: each encoding is
/// its own representation.
fn conditional(
    headers: &HeaderMap,
    content_type: &'static str,
    cache: &'static str,
    body: Bytes,
    coding: Option<Coding>,
) -> Response {
    let digest = sijil_core::hash::sha256(&body);
    conditional_with(headers, content_type, cache, body, coding, digest)
}

/// [`conditional`] with the body's SHA-256 already known (a cached bundle's).
fn conditional_with(
    headers: &HeaderMap,
    content_type: &'static str,
    cache: &'static str,
    body: Bytes,
    coding: Option<Coding>,
    digest: sijil_core::Hash,
) -> Response {
    let etag = etag(&digest, coding == Some(Coding::Gzip));
    let matched = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag);
    let mut response = if matched {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    if let Some(coding) = coding {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if coding == Coding::Gzip && !matched {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
    }
    response
}

/// The strong tag of a representation whose bytes have digest `digest`: its first 128 bits
/// in hex, quoted, with `-gz` for the gzip coding (each coding is its own representation).
/// Written out by hand: this is on the path of every tile request.
fn etag(digest: &sijil_core::Hash, gzip: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tag = String::with_capacity(38);
    tag.push('"');
    for b in &digest.0[..16] {
        tag.push(char::from(HEX[usize::from(b >> 4)]));
        tag.push(char::from(HEX[usize::from(b & 15)]));
    }
    if gzip {
        tag.push_str("-gz");
    }
    tag.push('"');
    tag
}

/// `GET /blobs/<64 lowercase hex>`: the blob, checked against its name before it is served.
pub async fn blob(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    no_query(&uri)?;
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
    if !state.snapshot().text_is_published(&digest)? {
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
    Ok(conditional(
        &headers,
        OCTET_STREAM,
        BLOB_CACHE,
        Bytes::from(bytes),
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(values: &[&str]) -> bool {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(v).expect("header"),
            );
        }
        accepts_gzip(&h)
    }

    #[test]
    fn gzip_is_sent_unless_the_request_refuses_it() {
        assert!(accept(&[]), "no header: any coding");
        assert!(accept(&["gzip"]));
        assert!(accept(&["br, GZIP;q=0.5"]));
        assert!(accept(&["identity", "x-gzip"]), "two headers");
        assert!(accept(&["*"]));
        assert!(!accept(&["identity"]));
        assert!(!accept(&[""]), "an empty header accepts identity only");
        assert!(!accept(&["gzip;q=0, identity"]));
        assert!(!accept(&["*;q=1, gzip;q=0"]), "gzip's own weight wins");
        assert!(
            accept(&["*, gzip;q=nonsense"]),
            "a malformed element is ignored"
        );
        assert!(!accept(&["gzip;q=2"]), "a weight above 1 is malformed");
    }

    #[test]
    fn etags_are_the_digests_first_128_bits_in_hex() {
        for seed in [b"a".as_slice(), b"tile", b""] {
            let digest = sijil_core::hash::sha256(seed);
            let hex = digest.to_hex();
            assert_eq!(etag(&digest, false), format!("\"{}\"", &hex[..32]));
            assert_eq!(etag(&digest, true), format!("\"{}-gz\"", &hex[..32]));
        }
    }

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
