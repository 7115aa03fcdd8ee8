//! The whole application through `app(state).oneshot(req)` (axum `examples/testing`), on a
//! register made in a temporary directory: the demo events, then enough hearings to cross a
//! tile boundary (319 entries: a full level-0 tile and partial ones).

use std::io::Read as _;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::Value;
use sijil_core::merkle::{check_consistency, check_inclusion, MemoryHashes};
use sijil_core::note::{Signer, Verifier};
use sijil_core::proof_text::TlogProof;
use sijil_core::tile::{read_tile_data, Tile, TileLevel};
use sijil_core::{bundle, leaf_hash, Entry, Hash, SignedCheckpoint, WitnessPolicy};
use sijil_register::{init, parse_events, InitOptions, RegisterWriter};
use tower::ServiceExt as _;

use crate::{app, AppState, CacheSizes};

/// 2025-01-15T00:00:00Z: "today" for every test, and when the events were recorded.
const NOW: i64 = 1_736_899_200_000;

fn now() -> i64 {
    NOW
}

const ORIGIN: &str = "test.example/registre";

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    app: Router,
    verifier: Verifier,
    officer: Signer,
    path: std::path::PathBuf,
}

fn fixture() -> Fixture {
    fixture_with(CacheSizes::default())
}

fn fixture_with(caches: CacheSizes) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("reg");
    let report = init(
        &path,
        InitOptions {
            origin: ORIGIN.into(),
            title: "Registre d'essai".into(),
            authority: "Autorité d'essai".into(),
            officer_name: "amina".into(),
            now_ms: NOW,
            log_key: None,
            officer_key: None,
        },
    )
    .expect("init");
    let demo = include_str!("../../../data/demo/events.jsonl");
    append(&path, &report.officer, demo);
    // 2 entries from init, 33 + 1 from the demo, 282 + 1 here: 319. The hearings follow the
    // case's sanction of 2024-09-16 (a case's dates never go backwards).
    let hearings: String = (0..282)
        .map(|i| {
            format!(
                "{{\"case\":\"2024-0001\",\"type\":\"HearingHeld\",\"held_on\":\"2024-09-20\",\"place\":\"Salle {i}\"}}\n"
            )
        })
        .collect();
    append(&path, &report.officer, &hearings);
    let state = AppState::open(&path, None, caches, now).expect("open");
    Fixture {
        _dir: dir,
        app: app(state.clone()),
        state,
        verifier: report.log_verifier,
        officer: report.officer,
        path,
    }
}

fn append(path: &std::path::Path, officer: &Signer, events: &str) {
    let drafts = parse_events("events", events).expect("events parse");
    let mut w = RegisterWriter::open(path, None).expect("writer");
    w.append(drafts, officer, NOW, None).expect("append");
}

async fn get(app: &Router, uri: &str) -> (StatusCode, HeaderMap, Bytes) {
    get_with(app, uri, &[]).await
}

async fn json(app: &Router, uri: &str) -> Value {
    let (status, headers, body) = get(app, uri).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(
        header_str(&headers, header::CONTENT_TYPE),
        "application/json",
        "{uri}"
    );
    serde_json::from_slice(&body).expect("JSON")
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> &str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn b64_hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .expect("array of hashes")
        .iter()
        .map(|h| Hash::from_base64(h.as_str().expect("string")).expect("base64 hash"))
        .collect()
}

/// The checkpoint an answer carries, opened with the log's key.
fn opened(v: &Value, verifier: &Verifier) -> SignedCheckpoint {
    let text = v["checkpoint"]["text"].as_str().expect("checkpoint text");
    SignedCheckpoint::open(text.as_bytes(), verifier).expect("the checkpoint verifies")
}

/// Every leaf hash of the log, read from its entry bundles on disk (not through the server).
fn leaves_on_disk(path: &std::path::Path, size: u64) -> Vec<Hash> {
    let tiles = sijil_core::storage::DirTiles::new(sijil_core::storage::Layout::new(path));
    let mut out = Vec::new();
    for n in 0..size.div_ceil(256) {
        let t = Tile::for_size(TileLevel::Entries, n, size).expect("bundle");
        let data = tiles.read_tile(&t).expect("bundle on disk");
        for e in bundle::parse(&data).expect("bundle parses") {
            out.push(leaf_hash(e));
        }
    }
    out.truncate(size as usize);
    out
}

#[tokio::test]
async fn checkpoint_is_served_with_short_caching_and_cors() {
    let f = fixture();
    let (status, h, body) = get(&f.app, "/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header_str(&h, header::CONTENT_TYPE),
        "text/plain; charset=utf-8"
    );
    assert_eq!(header_str(&h, header::CACHE_CONTROL), "public, max-age=2");
    assert_eq!(header_str(&h, header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
    let cp = SignedCheckpoint::open(&body, &f.verifier).expect("verifies");
    assert_eq!(cp.checkpoint.size, 319);
}

#[tokio::test]
async fn tiles_match_the_tree_and_are_immutable() {
    let f = fixture();
    let leaves = leaves_on_disk(&f.path, 319);
    let mem = MemoryHashes::from_leaves(leaves.iter().copied());
    for (path, level, index, width) in [
        ("/tile/0/000", 0u8, 0u64, 256u16),
        ("/tile/0/001.p/63", 0, 1, 63),
        // An older partial width: a prefix of the current one, as fixed as any tile.
        ("/tile/0/001.p/5", 0, 1, 5),
        ("/tile/1/000.p/1", 1, 0, 1),
    ] {
        let (status, h, body) = get(&f.app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(
            header_str(&h, header::CACHE_CONTROL),
            "public, max-age=604800, immutable"
        );
        assert_eq!(
            header_str(&h, header::CONTENT_TYPE),
            "application/octet-stream"
        );
        assert_eq!(header_str(&h, header::ACCESS_CONTROL_ALLOW_ORIGIN), "*");
        let tile = Tile {
            level: TileLevel::Hash(level),
            index,
            width,
        };
        let want = read_tile_data(&tile, &mem).expect("tile");
        assert_eq!(body.as_ref(), want.as_slice(), "{path}");
    }
}

#[tokio::test]
async fn bundles_are_gzipped_and_match_the_leaves() {
    let f = fixture();
    let leaves = leaves_on_disk(&f.path, 319);
    for (path, first, width) in [
        ("/tile/entries/000", 0usize, 256usize),
        ("/tile/entries/001.p/63", 256, 63),
        ("/tile/entries/001.p/2", 256, 2),
    ] {
        let (status, h, body) = get(&f.app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(header_str(&h, header::CONTENT_ENCODING), "gzip");
        assert_eq!(
            header_str(&h, header::CACHE_CONTROL),
            "public, max-age=604800, immutable"
        );
        let plain = gunzip(&body);
        let entries = bundle::parse_exact(&plain, width).expect("bundle");
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(leaf_hash(e), leaves[first + i], "{path} entry {i}");
        }
    }
}

#[tokio::test]
async fn nothing_beyond_the_checkpoint_nor_outside_the_log_is_served() {
    let f = fixture();
    for path in [
        // Beyond the checkpoint (319 entries).
        "/tile/0/001",
        "/tile/0/002.p/1",
        "/tile/0/001.p/64",
        "/tile/entries/001",
        "/tile/entries/001.p/64",
        "/tile/1/000",
        "/tile/2/000.p/1",
        // Not canonical.
        "/tile/0/0",
        "/tile/00/000",
        "/tile/0/x000/001",
        "/tile/0/000.p/0",
        "/tile/0/000.p/256",
        "/tile/0/001.p/063",
        "/tile/0/%30%30%30",
        "/tile/64/000",
        "/tile/0/000/",
        "/tile//0/000",
        // Outside the published files.
        "/tile/../private/log.key",
        "/tile/entries/000/../../private/log.key",
        "/private/log.key",
        "/private/amina.key",
        "/blobs/../private/log.key",
        "/checkpoint/",
        "/tile/",
    ] {
        let (status, h, body) = get(&f.app, path).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(header_str(&h, header::CACHE_CONTROL), "no-store", "{path}");
        let v: Value = serde_json::from_slice(&body).expect("JSON error");
        assert!(v["error"].is_string(), "{path}");
    }
}

#[tokio::test]
async fn every_inclusion_proof_verifies_against_the_checkpoint_it_carries() {
    let f = fixture();
    let leaves = leaves_on_disk(&f.path, 319);
    for index in 0..319u64 {
        let v = json(&f.app, &format!("/api/v1/proof/inclusion?index={index}")).await;
        let cp = opened(&v, &f.verifier).checkpoint;
        let leaf = Hash::from_base64(v["leaf_hash"].as_str().expect("leaf")).expect("b64");
        assert_eq!(leaf, leaves[index as usize]);
        let proof = b64_hashes(&v["inclusion_proof"]);
        check_inclusion(&proof, cp.size, &cp.root, index, &leaf).expect("inclusion");
        assert!(v.get("checkpoint_consistency").is_none());
    }
    // In an older tree, linked to the checkpoint by a consistency proof.
    for (index, size) in [(0u64, 1u64), (5, 19), (255, 256), (256, 300)] {
        let v = json(
            &f.app,
            &format!("/api/v1/proof/inclusion?index={index}&size={size}"),
        )
        .await;
        let cp = opened(&v, &f.verifier).checkpoint;
        let root = Hash::from_base64(v["tree_root"].as_str().expect("root")).expect("b64");
        let proof = b64_hashes(&v["inclusion_proof"]);
        check_inclusion(&proof, size, &root, index, &leaves[index as usize]).expect("inclusion");
        let link = b64_hashes(&v["checkpoint_consistency"]);
        check_consistency(&link, size, &root, cp.size, &cp.root).expect("linked");
    }
}

#[tokio::test]
async fn consistency_proofs_verify() {
    let f = fixture();
    let leaves = leaves_on_disk(&f.path, 319);
    let mem = MemoryHashes::from_leaves(leaves.iter().copied());
    for from in [1u64, 2, 19, 255, 256, 257, 318, 319] {
        let v = json(&f.app, &format!("/api/v1/proof/consistency?from={from}")).await;
        let cp = opened(&v, &f.verifier).checkpoint;
        let old = sijil_core::merkle::tree_hash(from, &mem).expect("root");
        let proof = b64_hashes(&v["consistency_proof"]);
        check_consistency(&proof, from, &old, cp.size, &cp.root).expect("consistent");
    }
    let v = json(&f.app, "/api/v1/proof/consistency?from=3&to=200").await;
    let cp = opened(&v, &f.verifier).checkpoint;
    let root200 = Hash::from_base64(v["tree_root"].as_str().expect("root")).expect("b64");
    let old = sijil_core::merkle::tree_hash(3, &mem).expect("root");
    check_consistency(&b64_hashes(&v["consistency_proof"]), 3, &old, 200, &root200).expect("3→200");
    check_consistency(
        &b64_hashes(&v["checkpoint_consistency"]),
        200,
        &root200,
        cp.size,
        &cp.root,
    )
    .expect("200→checkpoint");
}

#[tokio::test]
async fn bad_queries_say_which_parameter_and_why() {
    let f = fixture();
    for (uri, parameter) in [
        ("/api/v1/proof/inclusion", "index"),
        ("/api/v1/proof/inclusion?index=319", "index"),
        ("/api/v1/proof/inclusion?index=01", "index"),
        ("/api/v1/proof/inclusion?index=-1", "index"),
        ("/api/v1/proof/inclusion?index=1&size=320", "size"),
        ("/api/v1/proof/inclusion?index=5&size=5", "index"),
        ("/api/v1/proof/inclusion?index=1&index=2", "index"),
        ("/api/v1/proof/inclusion?index=1&foo=2", "foo"),
        ("/api/v1/proof/consistency?from=0", "from"),
        ("/api/v1/proof/consistency", "from"),
        ("/api/v1/proof/consistency?from=10&to=5", "from"),
        ("/api/v1/proof/consistency?from=1&to=1000", "to"),
        ("/api/v1/cases?status=pending", "status"),
        ("/api/v1/cases?category=spam", "category"),
        ("/api/v1/cases?opened_from=2024-02-30", "opened_from"),
        (
            "/api/v1/cases?opened_from=2024-02-01&opened_to=2024-01-01",
            "opened_from",
        ),
        ("/api/v1/cases?limit=0", "limit"),
        ("/api/v1/cases?limit=1001", "limit"),
        ("/api/v1/cases?offset=1&after=2023-0001", "after"),
        ("/api/v1/cases?after=nope", "after"),
        ("/api/v1/cases?sort=random", "sort"),
        ("/api/v1/stats?as_of=yesterday", "as_of"),
        ("/api/v1/entries/abc", "seq"),
        ("/api/v1/entries/007", "seq"),
        ("/api/v1/controllers?limit=5000", "limit"),
        // The same offset bound for both lists (issue 11: controllers answered 200).
        ("/api/v1/controllers?offset=99999999999", "offset"),
        ("/api/v1/cases?offset=99999999999", "offset"),
        ("/api/v1/register?x=1", "x"),
        ("/api/v1/cases?status=%ZZ", "status"),
    ] {
        let (status, h, body) = get(&f.app, uri).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(header_str(&h, header::CACHE_CONTROL), "no-store", "{uri}");
        let v: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(v["parameter"], parameter, "{uri}: {v}");
        assert!(!v["error"].as_str().unwrap_or("").is_empty(), "{uri}");
    }
    for uri in [
        "/api/v1/entries/319",
        "/api/v1/cases/nope",
        "/api/v1/controllers/nope",
    ] {
        let (status, _, _) = get(&f.app, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn a_case_comes_with_verifiable_entries() {
    let f = fixture();
    let v = json(&f.app, "/api/v1/cases/2024-0002").await;
    let cp = opened(&v, &f.verifier).checkpoint;
    let entries = v["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 5);
    for e in entries {
        let index = e["leaf_index"].as_u64().expect("index");
        let bytes = BASE64
            .decode(e["bytes"].as_str().expect("bytes"))
            .expect("base64");
        let leaf = leaf_hash(&bytes);
        check_inclusion(
            &b64_hashes(&e["inclusion_proof"]),
            cp.size,
            &cp.root,
            index,
            &leaf,
        )
        .expect("inclusion");
        let entry = Entry::decode(&bytes).expect("decodes");
        assert_eq!(entry.seq, index);
        entry
            .verify_signature(&bytes, ORIGIN)
            .expect("officer signature");
        assert_eq!(e["entry"]["seq"], index);
        assert_eq!(e["entry"]["leaf_hash"], leaf.to_hex());
    }
    // Entry 14's summary was erased; the Correction (15) has its text.
    assert!(entries[0]["entry"]["erasure"]["erased_on"].is_string());
    assert!(entries[0]["entry"]["texts"][0]["text"].is_null());
    assert!(entries[1]["entry"]["texts"][0]["text"].is_string());
    assert_eq!(v["case"]["id"], "2024-0002");
}

#[tokio::test]
async fn entry_tlog_proof_and_raw_bytes_check_offline() {
    let f = fixture();
    for seq in [0u64, 7, 256, 318] {
        let (status, h, text) = get(&f.app, &format!("/api/v1/entries/{seq}/tlog-proof")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(header_str(&h, header::CONTENT_DISPOSITION).contains(".tlog-proof"));
        let (status, _, raw) = get(&f.app, &format!("/api/v1/entries/{seq}/raw")).await;
        assert_eq!(status, StatusCode::OK);
        let proof = TlogProof::parse(&text).expect("parses");
        assert_eq!(proof.index, seq);
        let policy = WitnessPolicy::new(Vec::new(), 0).expect("no witnesses");
        proof
            .verify(&leaf_hash(&raw), &f.verifier, &policy)
            .expect("the tlog-proof verifies offline");
        let v = json(&f.app, &format!("/api/v1/entries/{seq}")).await;
        opened(&v, &f.verifier);
        assert_eq!(
            BASE64
                .decode(v["bytes"].as_str().expect("b64"))
                .expect("b64"),
            raw.to_vec()
        );
    }
}

#[tokio::test]
async fn listings_and_statistics() {
    let f = fixture();
    let v = json(&f.app, "/api/v1/cases?limit=2&sort=id").await;
    assert_eq!(v["total"], 7);
    assert_eq!(v["items"].as_array().map(Vec::len), Some(2));
    let next = v["next"].as_str().expect("a next page");
    let v2 = json(
        &f.app,
        &format!("/api/v1/cases?limit=2&sort=id&after={next}"),
    )
    .await;
    assert_eq!(v2["items"][0]["id"], "2024-0001");
    assert_eq!(v2["next"], "2024-0002");
    let v = json(
        &f.app,
        "/api/v1/cases?status=awaiting_compliance&as_of=2025-01-15",
    )
    .await;
    let overdue: Vec<_> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|c| c["overdue"] == true)
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(overdue, vec![Value::from("2023-0001")]);
    let v = json(&f.app, "/api/v1/cases?category=video_surveillance&status=").await;
    assert_eq!(v["total"], 1);
    let v = json(&f.app, "/api/v1/stats").await;
    assert_eq!(v["entries"], v["tree_size"]);
    assert_eq!(v["cases"], 7);
    // A case counts once under each of its categories: 2024-0003 under three.
    assert_eq!(v["by_category"]["identity_theft"], 1);
    assert_eq!(v["by_category"]["image"], 1);
    let v = json(&f.app, "/api/v1/controllers?limit=2").await;
    assert_eq!(v["total"], 7);
    let v = json(&f.app, "/api/v1/controllers/cafe-atlas-fictif").await;
    assert_eq!(v["controller"]["cases"][0]["id"], "2023-0002");
    let v = json(&f.app, "/api/v1/register").await;
    assert_eq!(v["verifier_key"], f.verifier.to_string());
    assert_eq!(v["origin"], ORIGIN);
    let v = json(&f.app, "/healthz").await;
    assert_eq!(v["tree_size"], 319);
}

#[tokio::test]
async fn blobs_are_served_checked_and_never_guessed() {
    let f = fixture();
    let v = json(&f.app, "/api/v1/cases/2024-0002").await;
    let digest = v["entries"][1]["entry"]["texts"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let (status, h, body) = get(&f.app, &format!("/blobs/{digest}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&h, header::CACHE_CONTROL), "public, max-age=60");
    assert_eq!(sijil_core::sha256(&body).to_hex(), digest);
    let erased = v["entries"][0]["entry"]["texts"][0]["digest"]
        .as_str()
        .expect("digest");
    let (status, _, _) = get(&f.app, &format!("/blobs/{erased}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an erased text is gone");
    let (status, _, _) = get(&f.app, &format!("/blobs/{}", digest.to_uppercase())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn issue9_a_blob_no_committed_entry_names_is_never_served() {
    // A batch that never committed left its text under blobs/ (or a mirror run of another
    // history did): a valid blob file, but not part of the register.
    let f = fixture();
    let orphan = sijil_core::blob::Blob::new("jamais enregistré".into()).expect("blob");
    let name = sijil_core::blob::blob_path(&orphan.digest());
    std::fs::write(f.path.join(&name), orphan.to_bytes()).expect("write");
    let (status, _, body) = get(&f.app, &format!("/{name}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("never committed"));
    // An erased text whose file is still there (its deletion failed) is not served either.
    let v = json(&f.app, "/api/v1/cases/2024-0002").await;
    let erased = v["entries"][0]["entry"]["texts"][0]["digest"]
        .as_str()
        .expect("digest");
    let digest = v["entries"][1]["entry"]["texts"][0]["digest"]
        .as_str()
        .expect("digest");
    let (_, _, served) = get(&f.app, &format!("/blobs/{digest}")).await;
    // Any valid blob bytes under the erased name: the server refuses before reading.
    std::fs::write(f.path.join(format!("blobs/{erased}")), &served).expect("write");
    let (status, _, _) = get(&f.app, &format!("/blobs/{erased}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn follows_the_log_without_mixing_view_and_checkpoint() {
    let f = fixture();
    let before = f.state.snapshot();
    assert!(!f.state.refresh().expect("refresh"), "nothing new yet");
    append(
        &f.path,
        &f.officer,
        "{\"case\":\"2024-0001\",\"type\":\"HearingHeld\",\"held_on\":\"2024-09-21\",\"place\":\"Rabat\"}\n",
    );
    // Until the refresher runs, the old pair is served, whole.
    let v = json(&f.app, "/api/v1/stats").await;
    assert_eq!(
        (v["tree_size"].clone(), v["entries"].clone()),
        (319.into(), 319.into())
    );
    // The hearing and its IndexCommitted: 321 entries, the partial bundle 001.p/65.
    let (status, _, _) = get(&f.app, "/tile/entries/001.p/65").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(f.state.refresh().expect("refresh"));
    let v = json(&f.app, "/api/v1/stats").await;
    assert_eq!(
        (v["tree_size"].clone(), v["entries"].clone()),
        (321.into(), 321.into())
    );
    let (status, _, _) = get(&f.app, "/tile/entries/001.p/65").await;
    assert_eq!(status, StatusCode::OK);
    // A snapshot taken before still answers for its own checkpoint.
    assert_eq!(before.size(), 319);
    assert_eq!(before.checkpoint.checkpoint.size, 319);
    let v = json(&f.app, "/api/v1/proof/inclusion?index=319").await;
    let cp = opened(&v, &f.verifier).checkpoint;
    assert_eq!(cp.size, 321);
}

#[tokio::test]
async fn a_damaged_register_is_refused_not_served() {
    let f = fixture();
    // Flip a byte of a hash tile on disk: the server verifies before it serves.
    let tile = f.path.join("tile/0/000");
    let mut data = std::fs::read(&tile).expect("tile");
    data[100] ^= 1;
    std::fs::write(&tile, data).expect("write");
    let (status, _, body) = get(&f.app, "/tile/0/000").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let v: Value = serde_json::from_slice(&body).expect("JSON");
    assert!(
        !v["error"].as_str().unwrap_or("").contains("tile/0/000"),
        "no detail leaks"
    );
    let (status, _, _) = get(&f.app, "/api/v1/proof/inclusion?index=3").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn small_caches_evict_but_stay_correct() {
    let f = fixture_with(CacheSizes {
        tile_bytes: 20_000,
        bundle_bytes: 10_000,
    });
    let leaves = leaves_on_disk(&f.path, 319);
    for index in (0..319u64).step_by(7) {
        let v = json(&f.app, &format!("/api/v1/proof/inclusion?index={index}")).await;
        let cp = opened(&v, &f.verifier).checkpoint;
        check_inclusion(
            &b64_hashes(&v["inclusion_proof"]),
            cp.size,
            &cp.root,
            index,
            &leaves[index as usize],
        )
        .expect("inclusion");
        let v = json(&f.app, &format!("/api/v1/entries/{index}")).await;
        assert_eq!(v["leaf_index"], index);
    }
}

async fn get_lang(
    app: &Router,
    uri: &str,
    accept_language: &str,
) -> (StatusCode, HeaderMap, String) {
    let response = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header(header::ACCEPT_LANGUAGE, accept_language)
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn pages_in_arabic_french_and_english() {
    let f = fixture();
    for (uri, marker) in [
        ("/", "Dernières inscriptions au registre"),
        // The latest events are the fixture's hearings held on 2024-09-20, recorded later:
        // the date shown is the event's, the recording a detail.
        (
            "/",
            r#"<time datetime="2024-09-20">2024-09-20</time> — Audition"#,
        ),
        ("/", "(inscrit le "),
        ("/?lang=en", "Latest entries in the register"),
        ("/?lang=ar", "آخر القيود في السجل"),
        ("/affaires", "affaires correspondent"),
        (
            "/affaires?status=awaiting_compliance&lang=en",
            "matching case",
        ),
        ("/affaires?lang=ar", "قضايا مطابقة"),
        ("/affaires?utm_source=x", "Affaires"),
        ("/affaires/2023-0001", "en retard"),
        ("/affaires/2023-0001", "Retard apprécié au 20"),
        ("/affaires/2024-0002", "Texte effacé le 2025-01-15"),
        ("/affaires/2024-0002?lang=en", "Text erased on 2025-01-15"),
        ("/affaires/2024-0002?lang=ar", "مُحي النص في 2025-01-15"),
        ("/affaires/2024-0001", "Amende (20\u{a0}000 MAD)"),
        ("/affaires/2024-0001?lang=en", "Fine (20,000 MAD)"),
        ("/affaires/2024-0001?lang=ar", "غرامة (20.000 درهم)"),
        ("/affaires/2024-0001", "<noscript>"),
        ("/responsables", "Responsables du traitement"),
        ("/responsables/cafe-atlas-fictif", "2023-0002"),
        ("/verification", "Comment vérifier"),
        ("/verification?lang=en", "How to check"),
        ("/verification?lang=ar", "كيف تتحقق"),
        ("/verification?lang=ar", "البصمة"),
        ("/statistiques", "Affaires par catégorie"),
        ("/statistiques?lang=ar", "القضايا حسب الصنف"),
    ] {
        let (status, h, body) = get(&f.app, uri).await;
        // Arabic pages isolate the arguments of their sentences (dates, ids) for the bidi
        // algorithm; the markers are read without the isolates.
        let html = String::from_utf8_lossy(&body).replace(['\u{2068}', '\u{2069}'], "");
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(html.contains(marker), "{uri} lacks {marker:?}");
        assert!(header_str(&h, header::CONTENT_TYPE).starts_with("text/html"));
        assert!(header_str(&h, header::CONTENT_SECURITY_POLICY).contains("default-src 'none'"));
        assert_eq!(header_str(&h, header::VARY), "Accept-Language");
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "{uri}: no external asset"
        );
        // The three-way switch, and the page's own language and direction.
        let (code, dir) = if uri.contains("lang=ar") {
            ("ar", "rtl")
        } else if uri.contains("lang=en") {
            ("en", "ltr")
        } else {
            ("fr", "ltr")
        };
        assert!(
            html.contains(&format!(r#"<html lang="{code}" dir="{dir}">"#)),
            "{uri}"
        );
        for other in ["ar", "fr", "en"] {
            assert!(html.contains(&format!(r#"hreflang="{other}""#)), "{uri}");
        }
    }
    // The facts of the fixture, right in every language: no "1 affaires".
    let (_, _, body) = get(&f.app, "/responsables/cafe-atlas-fictif").await;
    let html = String::from_utf8_lossy(&body);
    assert!(html.contains("1 affaire ·"), "{html}");
    assert!(!html.contains("1 affaires"));
    // Erased text is said once in full (the note), not twice.
    let (_, _, body) = get(&f.app, "/affaires/2024-0002").await;
    let html = String::from_utf8_lossy(&body);
    assert_eq!(html.matches("Texte effacé le 2025-01-15").count(), 1);
    // The page loads both scripts; the cryptography is in the core one.
    assert!(html.contains(r#"src="/assets/sijil-verify-core.js""#));
    assert!(html.contains(r#"src="/assets/verify.js""#));
    let (status, _, js) = get(&f.app, "/assets/verify.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&js).contains("verify-result"));
    let (status, _, js) = get(&f.app, "/assets/sijil-verify-core.js").await;
    assert_eq!(status, StatusCode::OK);
    let js = String::from_utf8_lossy(&js);
    assert!(js.contains(r#"crypto.subtle.verify({ name: "Ed25519" }"#));
    assert!(js.contains("sijil/index/v1"));
}

#[tokio::test]
async fn the_language_follows_the_browser_and_errors_are_pages_in_it() {
    let f = fixture();
    let (_, _, html) = get_lang(&f.app, "/", "ar-MA,ar;q=0.9,fr;q=0.8").await;
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#));
    // Links keep the language, so a choice sticks.
    assert!(html.contains(r#"href="/affaires?lang=ar""#));
    let (_, _, html) = get_lang(&f.app, "/?lang=fr", "ar").await;
    assert!(
        html.contains(r#"<html lang="fr" dir="ltr">"#),
        "the URL wins"
    );
    let (_, _, html) = get_lang(&f.app, "/", "de-DE, en;q=0.5").await;
    assert!(html.contains(r#"<html lang="en" dir="ltr">"#));

    // Error pages: in the page's language, with the site's header.
    for (uri, lang, heading) in [
        ("/affaires/no-such-case", "fr", "Introuvable"),
        ("/affaires/no-such-case?lang=ar", "ar", "غير موجود"),
        ("/affaires?status=nope&lang=en", "en", "Bad request"),
        ("/affaires?status=nope&lang=ar", "ar", "طلب غير صحيح"),
        ("/no/such/page?lang=en", "en", "Not found"),
    ] {
        let (status, h, html) = get_lang(&f.app, uri, "").await;
        assert!(status.is_client_error(), "{uri}");
        assert!(
            header_str(&h, header::CONTENT_TYPE).starts_with("text/html"),
            "{uri}"
        );
        assert!(html.contains(&format!(r#"<html lang="{lang}""#)), "{uri}");
        assert!(html.contains(heading), "{uri}: {html}");
        assert!(html.contains(r#"<header class="site">"#), "{uri}");
    }
    let (_, _, html) = get_lang(&f.app, "/affaires?status=nope&lang=fr", "").await;
    assert!(html.contains(r#"<code dir="ltr">status</code>"#));
    // The technical detail is marked as English, not passed off as French.
    assert!(html.contains(r#"<span lang="en" dir="ltr">"#));
    // The API keeps answering JSON.
    let (status, h, _) = get_lang(&f.app, "/api/v1/nope", "fr").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(header_str(&h, header::CONTENT_TYPE), "application/json");

    // `/cases/{id}`, the API's spelling, leads a browser to the case's page.
    let (status, h, _) = get(&f.app, "/cases/2024-0001?lang=en").await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        header_str(&h, header::LOCATION),
        "/affaires/2024-0001?lang=en"
    );
    let (status, h, _) = get(&f.app, "/controllers/cafe-atlas-fictif").await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        header_str(&h, header::LOCATION),
        "/responsables/cafe-atlas-fictif"
    );
}

/// A deadline's badge says what really happened: the fixture's 2023-0001 is awaiting
/// compliance past its deadline; a sanction after a deadline makes it "missed".
#[test]
fn deadline_badges_follow_the_case() {
    use sijil_core::event::Date;
    use sijil_projector::CaseStatus;

    use crate::pages::{deadline_state, DeadlineState};
    let d = |s: &str| s.parse::<Date>().expect("date");
    let due = d("2025-03-31");
    assert_eq!(
        deadline_state(CaseStatus::AwaitingCompliance, due, d("2025-04-01"), &[]),
        DeadlineState::Overdue
    );
    assert_eq!(
        deadline_state(CaseStatus::AwaitingCompliance, due, d("2025-03-31"), &[]),
        DeadlineState::NotYetDue
    );
    assert_eq!(
        deadline_state(
            CaseStatus::Sanctioned,
            due,
            d("2026-01-01"),
            &[d("2025-05-02")]
        ),
        DeadlineState::Missed
    );
    assert_eq!(
        deadline_state(
            CaseStatus::Sanctioned,
            due,
            d("2026-01-01"),
            &[d("2025-01-02")]
        ),
        DeadlineState::None
    );
}

/// Every path and parameter the OpenAPI document lists is answered (docs and code agree).
#[tokio::test]
async fn the_openapi_document_matches_the_routes() {
    let f = fixture();
    let doc: Value = json(&f.app, "/api/v1/openapi.json").await;
    let components = doc["components"]["parameters"].clone();
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 14);
    for (template, item) in paths {
        if item.get("servers").is_some() {
            // Served by the sequencer on its own address (`sequencer::tests`), not by this
            // read-only server.
            continue;
        }
        let op = &item["get"];
        let params: Vec<Value> = op["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|p| match p["$ref"].as_str() {
                Some(r) => components[r.rsplit('/').next().unwrap_or_default()].clone(),
                None => p,
            })
            .collect();
        let mut path = template.clone();
        let mut required = Vec::new();
        let mut optional = Vec::new();
        for p in &params {
            let name = p["name"].as_str().expect("name");
            let example = match &p["example"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match p["in"].as_str() {
                Some("path") => path = path.replace(&format!("{{{name}}}"), &example),
                _ if p["required"] == true => required.push(format!("{name}={example}")),
                _ => optional.push(format!("{name}={example}")),
            }
        }
        let mut variants = vec![required.clone()];
        for o in &optional {
            let mut v = required.clone();
            v.push(o.clone());
            variants.push(v);
        }
        for query in variants {
            let uri = if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{}", query.join("&"))
            };
            let (status, _, body) = get(&f.app, &uri).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{uri}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
}

/// The accept loop's limits and its graceful shutdown, on a real socket with short timeouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off_and_shutdown_is_graceful() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpStream};

    let f = fixture();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let config = crate::Config {
        refresh_every: Duration::from_millis(50),
        limits: crate::Limits {
            header_read_timeout: Duration::from_millis(300),
            idle_timeout: Duration::from_millis(600),
            ..crate::Limits::default()
        },
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::serve(listener, f.state.clone(), config, async {
        let _ = stopped.await;
    }));

    /// Reads until the server closes the connection; how long that took.
    async fn until_closed(s: &mut TcpStream) -> Duration {
        let start = Instant::now();
        let mut buf = vec![0u8; 64 << 10];
        loop {
            match tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
                Ok(Ok(_)) => continue,
                Err(_) => panic!("the server kept the connection open"),
            }
        }
    }

    // Headers that never end: cut off after the header timeout.
    let mut slow = TcpStream::connect(addr).await.expect("connect");
    slow.write_all(b"GET /checkpoint HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    assert!(until_closed(&mut slow).await < Duration::from_secs(5));

    // A keep-alive connection that goes quiet after its answer: closed after the idle timeout.
    let mut idle = TcpStream::connect(addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.expect("answer");
    assert_eq!(&first, b"HTTP/1.1 200");
    assert!(until_closed(&mut idle).await < Duration::from_secs(5));

    // Only GET and HEAD; a body is refused before any handler.
    let mut post = TcpStream::connect(addr).await.expect("connect");
    post.write_all(
        b"POST /checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
    )
    .await
    .expect("write");
    let mut answer = String::new();
    post.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");

    // Shutdown: the loop stops, the refresher stops, `serve` returns.
    let _ = stop.send(());
    tokio::time::timeout(crate::SHUTDOWN_GRACE, server)
        .await
        .expect("shut down in time")
        .expect("task")
        .expect("serve");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn shed_and_timed_out_requests_get_503_with_retry_after() {
    for err in [
        Box::new(tower::load_shed::error::Overloaded::new()) as axum::BoxError,
        Box::new(tower::timeout::error::Elapsed::new()) as axum::BoxError,
    ] {
        let response = crate::overloaded(err).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(header_str(response.headers(), header::RETRY_AFTER), "1");
        assert_eq!(
            header_str(response.headers(), header::CACHE_CONTROL),
            "no-store"
        );
    }
}

/// The log key as the completeness proofs name it.
fn log_public_key(v: &Verifier) -> sijil_core::event::PublicKey {
    sijil_core::event::PublicKey(v.public_key().try_into().expect("an Ed25519 key"))
}

#[tokio::test]
async fn issue10_case_and_controller_answers_prove_they_are_complete() {
    use sijil_index::completeness::{self, Completeness, ProvenEntry};
    let f = fixture();
    let key = log_public_key(&f.verifier);
    for id in ["2023-0001", "2024-0001", "2024-0002"] {
        let v = json(&f.app, &format!("/api/v1/cases/{id}")).await;
        let cp = opened(&v, &f.verifier).checkpoint;
        let entries: Vec<ProvenEntry> =
            serde_json::from_value(v["entries"].clone()).expect("entries");
        let c: Completeness =
            serde_json::from_value(v["completeness"].clone()).expect("completeness");
        let case = completeness::verify_case(id, &entries, &c, &cp, &key)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(
            case.entries.len(),
            v["case"]["timeline"].as_array().map_or(0, Vec::len)
        );
        // Without its last entry, the same answer fails and says which.
        let mut short = entries.clone();
        let dropped = short.pop().expect("an entry").seq;
        let err = completeness::verify_case(id, &short, &c, &cp, &key).expect_err("dropped");
        assert!(err.to_string().contains(&dropped.to_string()), "{err}");
    }
    // An unknown case: a 404 whose proof of absence verifies, and would not for a real case.
    let (status, _, body) = get(&f.app, "/api/v1/cases/1999-0001").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let v: Value = serde_json::from_slice(&body).expect("json");
    let cp = opened(&v, &f.verifier).checkpoint;
    let c: Completeness = serde_json::from_value(v["completeness"].clone()).expect("proof");
    completeness::verify_no_case("1999-0001", &c, &cp, &key).expect("proven absent");
    assert!(completeness::verify_no_case("2023-0001", &c, &cp, &key).is_err());

    // A controller's opening entries are all of its cases.
    let v = json(&f.app, "/api/v1/controllers/clinique-exemple-fictive").await;
    let cp = opened(&v, &f.verifier).checkpoint;
    let entries: Vec<ProvenEntry> = serde_json::from_value(v["entries"].clone()).expect("entries");
    let c: Completeness = serde_json::from_value(v["completeness"].clone()).expect("proof");
    let opened_cases =
        completeness::verify_controller("clinique-exemple-fictive", &entries, &c, &cp, &key)
            .expect("complete");
    assert_eq!(opened_cases.len(), 1);
    assert!(
        completeness::verify_controller("clinique-exemple-fictive", &[], &c, &cp, &key).is_err()
    );
}

/// The open data, read back by standard parsers: a CSV reader (RFC 4180) and an XML parser
/// for the Atom feeds, whose RFC 4287 required elements are all there.
/// The records of a CSV download, whose header must be `columns`.
fn csv_rows(body: &[u8], columns: &[&str]) -> Vec<csv::StringRecord> {
    let mut reader = csv::Reader::from_reader(body);
    let headers: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(headers, columns);
    reader.records().map(|r| r.expect("record")).collect()
}

#[tokio::test]
async fn open_data_and_feeds_parse_back() {
    let f = fixture();
    // Cases: CSV and JSON agree, one row per case, the documented columns.
    let (status, h, body) = get(&f.app, "/open-data/cases.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(header_str(&h, header::CONTENT_TYPE).starts_with("text/csv"));
    let rows = csv_rows(&body, &crate::open_data::CASE_COLUMNS);
    let json_cases = json(&f.app, "/open-data/cases.json").await;
    let cases = json_cases["cases"].as_array().expect("cases");
    let api = json(&f.app, "/api/v1/stats").await;
    assert_eq!(rows.len(), cases.len());
    assert_eq!(Some(rows.len() as u64), api["cases"].as_u64());
    for (row, case) in rows.iter().zip(cases) {
        for (i, column) in crate::open_data::CASE_COLUMNS.iter().enumerate() {
            let from_json = match &case[*column] {
                Value::String(s) => s.clone(),
                // A list (the categories) is one CSV field, its items joined with `;`.
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(";"),
                other => other.to_string(),
            };
            assert_eq!(row.get(i), Some(from_json.as_str()), "{column}");
        }
    }
    let c1 = cases
        .iter()
        .find(|c| c["id"] == "2024-0001")
        .expect("case 2024-0001");
    assert_eq!(c1["page"], "/affaires/2024-0001");
    assert_eq!(c1["status"], "sanctioned");

    // Events: one row per event of a case, each with its page and its proof.
    let (status, _, body) = get(&f.app, "/open-data/events.csv").await;
    assert_eq!(status, StatusCode::OK);
    let events = csv_rows(&body, &crate::open_data::EVENT_COLUMNS);
    let total_entries: u64 = cases
        .iter()
        .map(|c| c["entries"].as_u64().expect("entries"))
        .sum();
    assert_eq!(events.len() as u64, total_entries);
    let json_events = json(&f.app, "/open-data/events.json").await;
    assert_eq!(
        json_events["events"].as_array().map(Vec::len),
        Some(events.len())
    );
    let first = &events[0];
    let seq = first.get(0).expect("seq");
    assert_eq!(
        first.get(8),
        Some(format!("/api/v1/entries/{seq}/tlog-proof").as_str())
    );
    let (status, _, _) = get(&f.app, first.get(8).expect("proof")).await;
    assert_eq!(status, StatusCode::OK, "the proof a row names is served");

    // Feeds: well-formed XML with the elements RFC 4287 requires.
    for (uri, min_items) in [
        ("/feeds/events.atom", 10),
        ("/feeds/cases/2024-0002?lang=ar", 2),
        ("/feeds/controllers/cafe-atlas-fictif?lang=en", 1),
    ] {
        let (status, h, body) = get(&f.app, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(header_str(&h, header::CONTENT_TYPE).starts_with("application/atom+xml"));
        let text = String::from_utf8_lossy(&body);
        let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
        let feed = doc.root_element();
        const ATOM: &str = "http://www.w3.org/2005/Atom";
        assert_eq!(feed.tag_name().namespace(), Some(ATOM));
        assert_eq!(feed.tag_name().name(), "feed");
        let child = |n: roxmltree::Node<'_, '_>, name: &str| {
            n.children()
                .filter(|c| c.tag_name().name() == name && c.tag_name().namespace() == Some(ATOM))
                .count()
        };
        // §4.1.1: exactly one id, title, updated; an author (here on the feed); a self link.
        for name in ["id", "title", "updated", "author"] {
            assert_eq!(child(feed, name), 1, "{uri}: feed/{name}");
        }
        assert!(feed
            .children()
            .any(|c| c.tag_name().name() == "link" && c.attribute("rel") == Some("self")));
        let items: Vec<_> = feed
            .children()
            .filter(|c| c.tag_name().name() == "entry")
            .collect();
        assert!(items.len() >= min_items, "{uri}: {} items", items.len());
        for item in items {
            // §4.1.2: one id, title, updated; no content, so an alternate link and a summary.
            for name in ["id", "title", "updated", "summary"] {
                assert_eq!(child(item, name), 1, "{uri}: entry/{name}");
            }
            let id = item
                .children()
                .find(|c| c.tag_name().name() == "id")
                .and_then(|c| c.text())
                .unwrap_or_default();
            assert!(id.starts_with("tag:"), "{id}: an absolute IRI");
            let updated = item
                .children()
                .find(|c| c.tag_name().name() == "updated")
                .and_then(|c| c.text())
                .unwrap_or_default();
            assert!(
                chrono::DateTime::parse_from_rfc3339(updated).is_ok(),
                "{updated}: RFC 3339"
            );
            let alternate = item
                .children()
                .find(|c| c.tag_name().name() == "link" && c.attribute("rel") == Some("alternate"))
                .and_then(|c| c.attribute("href"))
                .unwrap_or_default();
            assert!(
                alternate.contains("/affaires/") && alternate.contains("verify=1"),
                "{alternate}: the verifiable page"
            );
        }
    }
    let (status, _, _) = get(&f.app, "/feeds/cases/no-such-case").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A case answer (mostly base64 proofs) is gzipped for a client that accepts it, with `Vary`,
/// and is the same answer once decompressed; a client that does not accept gzip gets it
/// plain; hash tiles, which do not compress, are never gzipped.
#[tokio::test]
async fn text_answers_are_gzipped_when_accepted_and_tiles_are_not() {
    let f = fixture();
    let uri = "/api/v1/cases/2024-0002";
    let (status, h, plain) = get_with(&f.app, uri, &[(header::ACCEPT_ENCODING, "identity")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&h, header::CONTENT_ENCODING), "");
    let (status, h, zipped) = get_with(
        &f.app,
        uri,
        &[(header::ACCEPT_ENCODING, "gzip, deflate, br")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&h, header::CONTENT_ENCODING), "gzip");
    assert!(
        header_str(&h, header::VARY).contains("accept-encoding"),
        "{h:?}"
    );
    let unzipped = gunzip(&zipped);
    let a: Value = serde_json::from_slice(&plain).expect("json");
    let b: Value = serde_json::from_slice(&unzipped).expect("json");
    assert_eq!(a, b);
    assert!(
        zipped.len() * 3 < plain.len() * 2,
        "{} -> {}",
        plain.len(),
        zipped.len()
    );
    let (status, h, _) =
        get_with(&f.app, "/tile/0/000", &[(header::ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&h, header::CONTENT_ENCODING), "");
}

/// A gzip body, inflated.
pub(crate) fn gunzip(zipped: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(zipped)
        .read_to_end(&mut plain)
        .expect("gzip");
    plain
}

/// A GET with the given request headers.
async fn get_with(
    app: &Router,
    uri: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, Bytes) {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, headers, body)
}

/// c2sp.org/tlog-tiles: bundles gzipped unless the client's Accept-Encoding refuses gzip,
/// then identity, the same entries either way, with `Vary: Accept-Encoding`.
#[tokio::test]
async fn a_client_that_refuses_gzip_gets_the_bundle_plain() {
    let f = fixture();
    let leaves = leaves_on_disk(&f.path, 319);
    let path = "/tile/entries/000";
    let (status, h, zipped) = get_with(&f.app, path, &[(header::ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&h, header::CONTENT_ENCODING), "gzip");
    assert_eq!(header_str(&h, header::VARY), "accept-encoding");
    for refusal in ["identity", "gzip;q=0, identity"] {
        let (status, h, plain) =
            get_with(&f.app, path, &[(header::ACCEPT_ENCODING, refusal)]).await;
        assert_eq!(status, StatusCode::OK, "{refusal}");
        assert_eq!(header_str(&h, header::CONTENT_ENCODING), "", "{refusal}");
        assert_eq!(header_str(&h, header::VARY), "accept-encoding");
        let entries = bundle::parse_exact(&plain, 256).expect("a plain bundle");
        assert_eq!(leaf_hash(entries[255]), leaves[255]);
        assert_eq!(gunzip(&zipped), plain.as_ref());
    }
}

/// Tiles, bundles, the checkpoint and blobs carry a strong ETag; `If-None-Match` with it
/// gets 304 and no body, with another tag the answer; each encoding has its own tag.
#[tokio::test]
async fn conditional_requests_get_304() {
    let f = fixture();
    let blob = std::fs::read_dir(f.path.join("blobs"))
        .expect("blobs")
        .filter_map(Result::ok)
        .map(|e| format!("/blobs/{}", e.file_name().to_string_lossy()))
        .find(|p| !p.ends_with(".tmp"))
        .expect("a blob");
    for path in [
        "/tile/0/000",
        "/tile/entries/000",
        "/checkpoint",
        blob.as_str(),
    ] {
        let (status, h, body) = get(&f.app, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let etag = header_str(&h, header::ETAG).to_string();
        assert!(etag.starts_with('"') && etag.len() > 10, "{path}: {etag:?}");
        let (status, h2, empty) = get_with(&f.app, path, &[(header::IF_NONE_MATCH, &etag)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(empty.is_empty(), "{path}");
        assert_eq!(header_str(&h2, header::ETAG), etag, "{path}");
        assert_eq!(
            header_str(&h2, header::CACHE_CONTROL),
            header_str(&h, header::CACHE_CONTROL),
            "{path}"
        );
        let (status, _, again) =
            get_with(&f.app, path, &[(header::IF_NONE_MATCH, "\"other\"")]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(again, body, "{path}");
    }
    let (_, gz, _) = get_with(
        &f.app,
        "/tile/entries/000",
        &[(header::ACCEPT_ENCODING, "gzip")],
    )
    .await;
    let (_, id, _) = get_with(
        &f.app,
        "/tile/entries/000",
        &[(header::ACCEPT_ENCODING, "identity")],
    )
    .await;
    assert_ne!(header_str(&gz, header::ETAG), header_str(&id, header::ETAG));
}

/// Both lists report the offset asked for, past the end too, not a clamped one (issue 11).
#[tokio::test]
async fn lists_report_the_offset_asked_for() {
    let f = fixture();
    for uri in ["/api/v1/cases?offset=500", "/api/v1/controllers?offset=500"] {
        let v = json(&f.app, uri).await;
        assert_eq!(v["offset"], 500, "{uri}: {v}");
        assert_eq!(v["items"].as_array().map(Vec::len), Some(0), "{uri}");
    }
}

/// c2sp.org/tlog-tiles paths have no query: one spelling per tile, as for any other
/// non-canonical form (issue 11: `/tile/0/000.p/19?x=1` was served).
#[tokio::test]
async fn log_paths_with_a_query_are_not_found() {
    let f = fixture();
    for uri in [
        "/tile/0/000?x=1",
        "/tile/0/001.p/63?",
        "/tile/entries/000?gzip=0",
        "/checkpoint?x",
    ] {
        let (status, h, body) = get(&f.app, uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(header_str(&h, header::CACHE_CONTROL), "no-store", "{uri}");
        assert!(
            String::from_utf8_lossy(&body).contains("query"),
            "{uri}: {}",
            String::from_utf8_lossy(&body)
        );
    }
}

/// The browser verifier's SHA-256 (assets/sha256.wat) is embedded, assembled, in
/// sijil-verify-core.js: the bytes there must be exactly the source's, so that what a reviewer
/// reads is what browsers run. (Its digests are checked against node's in the node tests.)
#[test]
fn the_verifiers_wasm_sha256_is_its_source_assembled() {
    let source = include_str!("../assets/sha256.wat");
    let wasm = wat::parse_str(source).expect("assets/sha256.wat assembles");
    let embedded = BASE64.encode(&wasm);
    let js = include_str!("../assets/sijil-verify-core.js");
    let constant = js
        .lines()
        .find_map(|l| l.trim().strip_prefix("const SHA256_WASM = \""))
        .and_then(|rest| rest.strip_suffix("\";"))
        .expect("sijil-verify-core.js defines SHA256_WASM");
    assert_eq!(
        constant, embedded,
        "SHA256_WASM in sijil-verify-core.js is not assets/sha256.wat assembled; set it to the right-hand side"
    );
}

/// A bundle away from the log's edge is sent as it is to a client that refuses gzip, and
/// gzipped (once, kept on disk by the store) to one that accepts it; one at the edge is
/// gzipped once and kept in memory. All are checked against the tree, and answer 304 to
/// their tag.
#[tokio::test]
async fn bundles_away_from_the_edge_are_checked_and_sent_plain_or_gzipped() {
    let f = fixture();
    let far = crate::store::EDGE_BUNDLES * 256 + 256;
    let hearings: String = (0..far)
        .map(|i| {
            format!(
                "{{\"case\":\"2024-0001\",\"type\":\"HearingHeld\",\"held_on\":\"2024-09-20\",\"place\":\"Salle B{i}\"}}\n"
            )
        })
        .collect();
    append(&f.path, &f.officer, &hearings);
    assert!(f.state.refresh().expect("refresh"));
    let size = f.state.snapshot().tree().size;
    let leaves = leaves_on_disk(&f.path, size);
    let gzip = [(header::ACCEPT_ENCODING, "gzip")];
    let identity = [(header::ACCEPT_ENCODING, "identity")];

    let (status, h, body) = get_with(&f.app, "/tile/entries/000", &identity).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_str(&h, header::CONTENT_ENCODING), "", "sent plain");
    assert!(header_str(&h, header::VARY).contains("accept-encoding"));
    let entries = bundle::parse_exact(&body, 256).expect("a full bundle");
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(leaf_hash(e), leaves[i], "entry {i}");
    }
    let tag = header_str(&h, header::ETAG).to_owned();
    let (status, _, _) = get_with(
        &f.app,
        "/tile/entries/000",
        &[
            (header::IF_NONE_MATCH, tag.as_str()),
            (header::ACCEPT_ENCODING, "identity"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    // Gzipped for a client that accepts it, twice the same (the second from the kept file).
    for _ in 0..2 {
        let (status, hz, gz) = get_with(&f.app, "/tile/entries/000", &gzip).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header_str(&hz, header::CONTENT_ENCODING), "gzip");
        assert!(header_str(&hz, header::VARY).contains("accept-encoding"));
        assert_ne!(
            header_str(&hz, header::ETAG),
            tag,
            "another form, another tag"
        );
        assert_eq!(gunzip(&gz), body);
    }

    let last = Tile {
        level: TileLevel::Entries,
        index: (size - 1) / 256,
        width: ((size - 1) % 256 + 1) as u16,
    };
    let (status, h, _) = get_with(&f.app, &format!("/{}", last.path()), &gzip).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header_str(&h, header::CONTENT_ENCODING),
        "gzip",
        "the edge is gzipped"
    );

    // A damaged bundle away from the edge is refused, not served.
    let file = f.path.join("tile/entries/001");
    let mut bytes = std::fs::read(&file).expect("bundle 1");
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&file, bytes).expect("write");
    let (status, _, _) = get_with(&f.app, "/tile/entries/001", &gzip).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
}

/// One open-data export at a time: while one is generated, another is a 503 with
/// `Retry-After`, not a queue that would hold the slots the rest of the site needs.
#[tokio::test]
async fn a_second_export_meanwhile_is_a_503_with_retry_after() {
    let f = fixture();
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let state = f.state.clone();
    let held = tokio::spawn(async move {
        state
            .export(move |_| {
                started_tx.send(()).expect("signal");
                release_rx.recv().expect("release");
                Ok(())
            })
            .await
    });
    tokio::task::spawn_blocking(move || started_rx.recv().expect("the export started"))
        .await
        .expect("join");
    for uri in [
        "/open-data/cases.csv",
        "/open-data/cases.json",
        "/open-data/events.csv",
        "/open-data/events.json",
    ] {
        let (status, h, _) = get(&f.app, uri).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(header_str(&h, header::RETRY_AFTER), "30", "{uri}");
        assert_eq!(header_str(&h, header::CACHE_CONTROL), "no-store", "{uri}");
    }
    release_tx.send(()).expect("release");
    held.await.expect("join").expect("the held export");
    let (status, _, _) = get(&f.app, "/open-data/events.csv").await;
    assert_eq!(status, StatusCode::OK, "free again");
}

/// Issue 11: once a bundle has been read, one of its entries is read from its group of
/// `ENTRY_GROUP` entries, not from the whole file: it is served (checked against its leaf
/// hash) even when another group of the file is damaged, and refused when its own bytes
/// are. A partial bundle whose file is gone is read from the full one that replaced it.
#[tokio::test]
async fn one_entry_is_read_from_its_group_and_checked() {
    use crate::store::{Io, ENTRY_GROUP};
    let f = fixture();
    let store = f.state.store();
    let tree = f.state.snapshot().tree();
    let leaves = leaves_on_disk(&f.path, tree.size);
    // Twice: the first read of a bundle keeps its starts, the second reads groups.
    for _ in 0..2 {
        for seq in 0..tree.size {
            let se = store
                .entry(tree, seq, Io::Allowed)
                .expect("entry")
                .expect("in the tree");
            assert_eq!((se.entry.seq, se.leaf), (seq, leaves[seq as usize]));
            assert_eq!(leaf_hash(&se.bytes), se.leaf, "{seq}");
        }
    }

    // A partial bundle's file replaced by the full bundle: the old tree still reads it.
    let partial = Tile::for_size(TileLevel::Entries, 1, tree.size).expect("bundle 1");
    assert!(!partial.is_full());
    let hearings: String = (0..300)
        .map(|i| {
            format!(
                "{{\"case\":\"2024-0001\",\"type\":\"HearingHeld\",\"held_on\":\"2024-09-20\",\"place\":\"Salle C{i}\"}}\n"
            )
        })
        .collect();
    append(&f.path, &f.officer, &hearings);
    let _ = std::fs::remove_file(f.path.join(partial.path()));
    let seq = tree.size - 1;
    let se = store
        .entry(tree, seq, Io::Allowed)
        .expect("entry from the full bundle")
        .expect("in the tree");
    assert_eq!(se.leaf, leaves[seq as usize]);

    // The first entry's length prefix damaged: bundle 0 no longer parses, but an entry of
    // another group is read alone and is still what its leaf hash says.
    let file = f.path.join("tile/entries/000");
    let mut bytes = std::fs::read(&file).expect("bundle 0");
    bytes[0] ^= 0x80;
    std::fs::write(&file, bytes).expect("write");
    assert!(bundle::parse(&std::fs::read(&file).expect("bundle 0")).is_err());
    let far = (3 * ENTRY_GROUP + 1) as u64;
    let se = store
        .entry(tree, far, Io::Allowed)
        .expect("an entry of an undamaged group")
        .expect("in the tree");
    assert_eq!(se.leaf, leaves[far as usize]);
    assert!(
        store.entry(tree, 1, Io::Allowed).is_err(),
        "its group is damaged"
    );
}

/// Appends enough entries that bundles 000 and 001 are away from the log's edge (sent plain,
/// never gzipped and kept) and serves the new checkpoint.
fn grow_past_the_edge(f: &Fixture) {
    let far = crate::store::EDGE_BUNDLES * 256 + 256;
    let hearings: String = (0..far)
        .map(|i| {
            format!(
                "{{\"case\":\"2024-0001\",\"type\":\"HearingHeld\",\"held_on\":\"2024-09-20\",\"place\":\"Salle C{i}\"}}\n"
            )
        })
        .collect();
    append(&f.path, &f.officer, &hearings);
    assert!(f.state.refresh().expect("refresh"));
}

/// Issue 11: a bundle is verified once, then served by its file's identity (device, inode,
/// size, mtime, ctime) without being verified again. A file changed in place after that —
/// same inode, same size, its mtime set back — is not served: its ctime moved, so it is
/// verified again, and refused. A file changed less than `SETTLED` ago is not trusted by
/// its identity at all.
#[tokio::test]
async fn a_bundle_altered_after_it_was_served_is_not_served() {
    use std::io::Write as _;
    let f = fixture();
    grow_past_the_edge(&f);
    let path = "/tile/entries/001";
    let file = f.path.join("tile/entries/001");
    let tile = Tile {
        level: TileLevel::Entries,
        index: 1,
        width: 256,
    };
    let leaves = leaves_on_disk(&f.path, f.state.snapshot().tree().size);

    // Plain: a client that accepts gzip gets the store's own gzipped copy, not the file.
    let identity = [(header::ACCEPT_ENCODING, "identity")];
    // Just written: verified and served, not remembered.
    let (status, _, fresh) = get_with(&f.app, path, &identity).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!f.state.store().knows(&tile), "a fresh file is not trusted");

    tokio::time::sleep(crate::store::SETTLED + std::time::Duration::from_millis(100)).await;
    let (status, h, first) = get_with(&f.app, path, &identity).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first, fresh);
    assert!(f.state.store().knows(&tile), "verified and remembered");
    let (status, h2, second) = get_with(&f.app, path, &identity).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second, first, "served by its identity");
    assert_eq!(
        header_str(&h2, header::ETAG),
        header_str(&h, header::ETAG),
        "the same tag"
    );
    let entries = bundle::parse_exact(&second, 256).expect("a full bundle");
    assert_eq!(leaf_hash(entries[7]), leaves[256 + 7]);

    // Changed in place, its mtime put back.
    let mtime = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    let mut bytes = std::fs::read(&file).expect("bundle 1");
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    let mut handle = std::fs::OpenOptions::new()
        .write(true)
        .open(&file)
        .expect("open");
    handle.write_all(&bytes).expect("write");
    handle.set_modified(mtime).expect("mtime back");
    drop(handle);
    let (status, _, body) = get_with(&f.app, path, &identity).await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "an altered bundle is not served: {} bytes",
        body.len()
    );
}

/// A GET or HEAD of `uri` through `service`, with `headers` (and a Host unless `host` is
/// false): status, headers and body.
async fn call<S>(
    service: S,
    method: axum::http::Method,
    uri: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, Vec<(String, String)>, Bytes)
where
    S: tower::Service<
        Request<Body>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
    >,
{
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = service
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
        .collect();
    headers.sort();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, headers, body)
}

/// The server's fast path for the log's files (`server::Front`) answers every request as the
/// router behind it does: the same status, headers and body, for answers from memory, from
/// disk, 304s, 404s, HEAD, and the requests it leaves to the router (no Host, two Hosts, a
/// query, another method).
#[tokio::test]
async fn the_fast_path_answers_as_the_router_does() {
    use axum::http::Method;
    let f = fixture();
    grow_past_the_edge(&f);
    let front = crate::server::Front::new(f.state.clone(), &crate::Limits::default(), None);
    let host = (header::HOST, "test.example");
    let (_, h, _) = call(
        front.router.clone(),
        Method::GET,
        "/tile/0/000",
        std::slice::from_ref(&host),
    )
    .await;
    let tag = h
        .iter()
        .find(|(n, _)| n == "etag")
        .map(|(_, v)| v.clone())
        .expect("a tag");
    let size = f.state.snapshot().tree().size;
    let edge = format!(
        "/{}",
        Tile::for_size(TileLevel::Entries, (size - 1) / 256, size)
            .expect("edge")
            .path()
    );
    let gzip = (header::ACCEPT_ENCODING, "gzip");
    let identity = (header::ACCEPT_ENCODING, "identity");
    type Case<'a> = (Method, &'a str, Vec<(header::HeaderName, &'a str)>);
    let cases: Vec<Case> = vec![
        (Method::GET, "/checkpoint", vec![host.clone()]),
        (Method::HEAD, "/checkpoint", vec![host.clone()]),
        (Method::GET, "/tile/0/000", vec![host.clone()]),
        (Method::HEAD, "/tile/0/000", vec![host.clone()]),
        (Method::GET, "/tile/0/001", vec![host.clone(), gzip.clone()]),
        (Method::GET, "/tile/1/000.p/18", vec![host.clone()]),
        (
            Method::GET,
            "/tile/0/000",
            vec![host.clone(), (header::IF_NONE_MATCH, &tag)],
        ),
        (
            Method::GET,
            "/tile/entries/000",
            vec![host.clone(), gzip.clone()],
        ),
        (
            Method::GET,
            "/tile/entries/001",
            vec![host.clone(), identity.clone()],
        ),
        (Method::GET, &edge, vec![host.clone(), gzip.clone()]),
        (Method::GET, &edge, vec![host.clone(), identity.clone()]),
        (Method::HEAD, &edge, vec![host.clone(), gzip.clone()]),
        (Method::GET, "/tile/0/999", vec![host.clone()]),
        (Method::GET, "/tile/0/0000", vec![host.clone()]),
        (Method::GET, "/tile/entries/x001/000", vec![host.clone()]),
        (Method::GET, "/tile/0/000?x=1", vec![host.clone()]),
        (Method::GET, "/checkpoint?x", vec![host.clone()]),
        (Method::GET, "/checkpoint", vec![]),
        (
            Method::GET,
            "/tile/0/000",
            vec![host.clone(), (header::HOST, "b.example")],
        ),
        (Method::POST, "/checkpoint", vec![host.clone()]),
        // Entries and inclusion proofs (answered in front for clients that send no
        // Accept-Encoding).
        (Method::GET, "/api/v1/entries/3", vec![host.clone()]),
        (Method::GET, "/api/v1/entries/300", vec![host.clone()]),
        (Method::HEAD, "/api/v1/entries/3", vec![host.clone()]),
        (Method::GET, "/api/v1/entries/007", vec![host.clone()]),
        (Method::GET, "/api/v1/entries/99999", vec![host.clone()]),
        (Method::GET, "/api/v1/entries/3?x=1", vec![host.clone()]),
        (Method::GET, "/api/v1/entries/%33", vec![host.clone()]),
        (Method::GET, "/api/v1/entries/3/raw", vec![host.clone()]),
        (
            Method::GET,
            "/api/v1/entries/3",
            vec![host.clone(), gzip.clone()],
        ),
        (Method::GET, "/api/v1/entries/3", vec![]),
        (
            Method::GET,
            "/api/v1/proof/inclusion?index=3",
            vec![host.clone()],
        ),
        (
            Method::GET,
            "/api/v1/proof/inclusion?index=300&size=310",
            vec![host.clone()],
        ),
        (
            Method::HEAD,
            "/api/v1/proof/inclusion?index=3",
            vec![host.clone()],
        ),
        (
            Method::GET,
            "/api/v1/proof/inclusion?index=x",
            vec![host.clone()],
        ),
        (Method::GET, "/api/v1/proof/inclusion", vec![host.clone()]),
        (
            Method::GET,
            "/api/v1/proof/inclusion?index=99999",
            vec![host.clone()],
        ),
        (
            Method::GET,
            "/api/v1/proof/inclusion?index=3",
            vec![host.clone(), gzip.clone()],
        ),
        (
            Method::GET,
            "/api/v1/proof/inclusion?index=3",
            vec![host.clone(), identity.clone()],
        ),
        (Method::GET, "/api/v1/proof/inclusion?index=3", vec![]),
        (
            Method::POST,
            "/api/v1/proof/inclusion?index=3",
            vec![host.clone()],
        ),
        (
            Method::OPTIONS,
            "/tile/0/000",
            vec![
                host.clone(),
                (header::ORIGIN, "https://a.example"),
                (header::ACCESS_CONTROL_REQUEST_METHOD, "GET"),
            ],
        ),
    ];
    let proof = Request::get("/api/v1/proof/inclusion?index=3")
        .header(header::HOST, "test.example")
        .body(Body::empty())
        .expect("request");
    assert!(
        crate::server::Front::takes_proof(&proof),
        "answered in front"
    );
    let entry = Request::get("/api/v1/entries/3")
        .header(header::HOST, "test.example")
        .body(Body::empty())
        .expect("request");
    assert_eq!(crate::server::Front::entry_seq(&entry), Some("3"));
    let mut statuses = Vec::new();
    for (method, uri, headers) in &cases {
        // The router first: its answers are the reference (and it verifies what it reads).
        let want = call(front.router.clone(), method.clone(), uri, headers).await;
        let got = call(front.clone(), method.clone(), uri, headers).await;
        assert_eq!(got, want, "{method} {uri} {headers:?}");
        statuses.push(got.0);
    }
    for want in [
        StatusCode::OK,
        StatusCode::NOT_MODIFIED,
        StatusCode::NOT_FOUND,
        StatusCode::BAD_REQUEST,
        StatusCode::METHOD_NOT_ALLOWED,
    ] {
        assert!(statuses.contains(&want), "{want} among {statuses:?}");
    }
}

/// The fast path keeps the server's limits on a real connection: the requests in flight
/// (none allowed here: every request is a 503, the fast path's as the router's), the Host
/// rule, and HEAD without a body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fast_path_keeps_the_servers_limits() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::{TcpListener, TcpStream};

    async fn exchange(addr: std::net::SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(request.as_bytes()).await.expect("write");
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            s.read_to_end(&mut answer),
        )
        .await
        .expect("answered in time")
        .expect("read");
        String::from_utf8_lossy(&answer).into_owned()
    }

    let f = fixture();
    for max_in_flight in [0usize, 512] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = crate::Config {
            limits: crate::Limits {
                max_in_flight,
                ..crate::Limits::default()
            },
            ..crate::Config::default()
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(crate::serve(listener, f.state.clone(), config, async {
            let _ = stopped.await;
        }));
        for path in [
            "/checkpoint",
            "/tile/0/000",
            "/api/v1/proof/inclusion?index=3",
            "/api/v1/entries/3",
            "/api/v1/stats",
        ] {
            let answer = exchange(
                addr,
                &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            )
            .await;
            let want = if max_in_flight == 0 { "503" } else { "200" };
            assert!(
                answer.starts_with(&format!("HTTP/1.1 {want}")),
                "{max_in_flight} in flight, {path}: {answer}"
            );
            assert!(
                answer.contains("access-control-allow-origin: *"),
                "{path}: {answer}"
            );
        }
        if max_in_flight > 0 {
            let answer = exchange(
                addr,
                "GET /tile/0/000 HTTP/1.1\r\nConnection: close\r\n\r\n",
            )
            .await;
            assert!(answer.starts_with("HTTP/1.1 400"), "no Host: {answer}");
            let answer = exchange(
                addr,
                "GET /checkpoint HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
            )
            .await;
            assert!(answer.starts_with("HTTP/1.1 400"), "two Hosts: {answer}");
            let answer = exchange(
                addr,
                "HEAD /tile/0/000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            .await;
            assert!(answer.starts_with("HTTP/1.1 200"), "HEAD: {answer}");
            assert!(answer.contains("content-length: 8192"), "HEAD: {answer}");
            assert!(answer.ends_with("\r\n\r\n"), "HEAD has no body: {answer}");
        }
        let _ = stop.send(());
        tokio::time::timeout(crate::SHUTDOWN_GRACE, server)
            .await
            .expect("shut down in time")
            .expect("task")
            .expect("serve");
    }
}

/// Issue 11: case, entry and proof answers are written from parts, some kept per snapshot, in the
/// bytes serde_json writes for the same value (keys in order, no spaces), as every answer
/// was when it was built as one `Value`; the signers' proofs a case answer carried are kept
/// for the next answer signed by the same officers.
#[tokio::test]
async fn case_and_entry_answers_are_written_as_serde_json_writes_them() {
    use sijil_index::completeness;
    let f = fixture();
    for uri in [
        "/api/v1/cases/2024-0002",
        "/api/v1/cases/2023-0001",
        "/api/v1/cases/2024-0002",
        "/api/v1/entries/0",
        "/api/v1/entries/14",
        "/api/v1/entries/318",
        "/api/v1/proof/inclusion?index=3",
        "/api/v1/proof/inclusion?index=300",
        "/api/v1/proof/inclusion?index=5&size=19",
        "/api/v1/proof/consistency?from=19",
        "/api/v1/proof/consistency?from=5&to=300",
    ] {
        let (status, _, body) = get(&f.app, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let v: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(String::from_utf8_lossy(&body), v.to_string(), "{uri}");
    }
    let v = json(&f.app, "/api/v1/cases/2024-0002").await;
    let entries: Vec<Entry> = v["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let bytes = BASE64
                .decode(e["bytes"].as_str().expect("bytes"))
                .expect("base64");
            Entry::decode(&bytes).expect("entry")
        })
        .collect();
    let signers = completeness::signers_of(&entries);
    let kept = f
        .state
        .snapshot()
        .signer_proofs(&signers, || Err("not kept"))
        .expect("kept by the answers above");
    let kept: Value = serde_json::from_slice(&kept).expect("JSON");
    assert_eq!(kept, v["completeness"]["signers"]);
}

/// Issue 11: a server reading the writer's state (records per answer, a compact listing)
/// answers every page, API answer, feed, export and blob exactly as one holding the whole
/// view, before and after the log grows (a new controller, a new case, an erasure).
#[tokio::test]
async fn issue11_the_writers_state_and_the_view_answer_alike() {
    let f = fixture();
    assert!(
        f.state.snapshot().from_state(),
        "the writer's state is read"
    );
    // The same directory without its state: the view is loaded instead.
    let state_file = f.path.join("private/state.redb");
    let aside = f.path.join("private/state.aside");
    std::fs::rename(&state_file, &aside).expect("rename");
    let view_state = AppState::open(&f.path, None, CacheSizes::default(), now).expect("open");
    std::fs::rename(&aside, &state_file).expect("rename back");
    assert!(!view_state.snapshot().from_state(), "no state: the view");
    let view_app = app(view_state.clone());

    async fn compare(a: &Router, b: &Router, size: u64) {
        let list = json(a, "/api/v1/cases?limit=1000").await;
        let cases: Vec<String> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect();
        assert!(cases.len() >= 3);
        let controllers: Vec<String> = json(a, "/api/v1/controllers?limit=1000").await["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect();
        let mut paths: Vec<String> = [
            "/api/v1/register",
            "/api/v1/officers",
            "/api/v1/log-keys",
            "/api/v1/stats",
            "/api/v1/cases?status=closed",
            "/api/v1/cases?sort=id&limit=2",
            "/api/v1/cases?category=privacy&sort=opened_asc",
            "/api/v1/cases/NO-SUCH-CASE",
            "/api/v1/controllers",
            "/api/v1/controllers/no-such-controller",
            "/",
            "/affaires",
            "/responsables",
            "/statistiques",
            "/open-data/cases.csv",
            "/open-data/cases.json",
            "/open-data/events.csv",
            "/feeds/events.atom",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        for id in &cases {
            let id = crate::pages::id_path("", id);
            paths.push(format!("/api/v1/cases{id}"));
            paths.push(format!("/affaires{id}"));
            paths.push(format!("/feeds/cases{id}"));
        }
        for id in &controllers {
            let id = crate::pages::id_path("", id);
            paths.push(format!("/api/v1/controllers{id}"));
            paths.push(format!("/responsables{id}"));
            paths.push(format!("/feeds/controllers{id}"));
        }
        for seq in (0..size).step_by(13) {
            paths.push(format!("/api/v1/entries/{seq}"));
        }
        let mut texts = 0;
        for id in &cases {
            let v = json(
                a,
                &format!("/api/v1/cases{}", crate::pages::id_path("", id)),
            )
            .await;
            for e in v["entries"].as_array().expect("entries") {
                for t in e["entry"]["texts"].as_array().expect("texts") {
                    paths.push(format!("/blobs/{}", t["digest"].as_str().expect("digest")));
                    texts += 1;
                }
            }
        }
        assert!(texts > 0, "the demo has texts");
        for path in &paths {
            let (sa, _, ba) = get(a, path).await;
            let (sb, _, bb) = get(b, path).await;
            assert_eq!(sa, sb, "{path}");
            assert!(
                ba == bb,
                "{path}: the two answers differ:\n{}\n---\n{}",
                String::from_utf8_lossy(&ba),
                String::from_utf8_lossy(&bb)
            );
        }
    }
    compare(&f.app, &view_app, 319).await;

    append(
        &f.path,
        &f.officer,
        concat!(
            "{\"case\":\"2025-0100\",\"type\":\"ComplaintReceived\",\"controller\":{\"id\":\"nouveau\",\"name\":\"Nouveau SA\"},\"categories\":[\"image\",\"profiling\"],\"received_on\":\"2025-01-10\",\"summary\":\"un texte nouveau\"}\n",
            "{\"case\":\"2024-0001\",\"type\":\"HearingHeld\",\"held_on\":\"2024-09-22\",\"place\":\"Fès\"}\n",
        ),
    );
    assert!(f.state.refresh().expect("refresh"));
    assert!(view_state.refresh().expect("refresh"));
    assert!(f.state.snapshot().from_state());
    let size = f.state.snapshot().size();
    assert_eq!(size, view_state.snapshot().size());
    compare(&f.app, &view_app, size).await;
}

/// Issue 11: an entry is read through the bundle's descriptor kept open
/// (`Store::open_full`), and what it gives is checked against the leaf hash as any read is:
/// a bundle changed in place through the same inode is refused, not served.
#[tokio::test]
async fn an_entry_read_through_a_kept_descriptor_is_still_checked() {
    use std::io::{Seek as _, Write as _};
    let f = fixture();
    // The first read of bundle 0 keeps where its groups start; the second reads one group
    // through the file kept open.
    for seq in [20u64, 3] {
        let v = json(&f.app, &format!("/api/v1/entries/{seq}")).await;
        assert_eq!(v["leaf_index"], seq);
    }
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(f.path.join("tile/entries/000"))
        .expect("bundle 0");
    // Entry 0 starts after its 2-byte length: change one of its bytes.
    let mut byte = [0u8; 1];
    file.seek(std::io::SeekFrom::Start(10)).expect("seek");
    std::io::Read::read_exact(&mut file, &mut byte).expect("read");
    file.seek(std::io::SeekFrom::Start(10)).expect("seek");
    file.write_all(&[byte[0] ^ 1]).expect("write in place");
    drop(file);
    let (status, _, _) = get(&f.app, "/api/v1/entries/0").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    // The other groups of the bundle are read and checked on their own.
    let v = json(&f.app, "/api/v1/entries/40").await;
    assert_eq!(v["leaf_index"], 40);
}

/// The log's files, proofs, entries and a case are answered while the case listing is still
/// being built (issue 11: building it takes over a second at 10^6 entries under load); what
/// reads the listing waits for it, then answers as a server whose listing was built first.
#[tokio::test]
async fn issue11_the_checkpoint_is_answered_before_the_listing_is_built() {
    let f = fixture();
    let (release, gate) = std::sync::mpsc::channel();
    let held = AppState::open_held(&f.path, CacheSizes::default(), now, gate).expect("open");
    assert!(held.snapshot().from_state(), "the writer's state is read");
    let held_app = app(held.clone());
    for uri in [
        "/checkpoint",
        "/tile/0/000",
        "/tile/entries/000",
        "/api/v1/cases/2024-0001",
        "/api/v1/entries/3",
        "/api/v1/proof/inclusion?index=3",
        "/api/v1/proof/consistency?from=20",
    ] {
        let (status, _, body) = get(&held_app, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(body, get(&f.app, uri).await.2, "{uri}");
    }
    // The build is held: nothing above waited for it.
    assert!(!held.snapshot().listing_built(), "built before it was let");
    let uris = [
        "/api/v1/cases?limit=20&sort=id",
        "/api/v1/stats",
        "/api/v1/controllers",
    ];
    let waiting: Vec<_> = uris
        .into_iter()
        .map(|uri| {
            let a = held_app.clone();
            tokio::spawn(async move { get(&a, uri).await })
        })
        .collect();
    // Each has run as far as it can (this runtime has one thread): to the listing, held.
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
    assert!(
        waiting.iter().all(|w| !w.is_finished()),
        "answered before the listing was built"
    );
    release.send(()).expect("the build waits");
    for (uri, w) in uris.iter().zip(waiting) {
        let (status, _, body) = w.await.expect("the request ends");
        assert_eq!(status, StatusCode::OK, "{uri}");
        let answered: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(answered, json(&f.app, uri).await, "{uri}");
    }
    assert!(held.snapshot().listing_built());
}

/// A refresh that comes while the first listing is still being built waits for it and
/// updates it: the listings after it are those of the new checkpoint.
#[tokio::test]
async fn issue11_a_refresh_while_the_listing_is_built_waits_for_it() {
    let f = fixture();
    let (release, gate) = std::sync::mpsc::channel();
    let held = AppState::open_held(&f.path, CacheSizes::default(), now, gate).expect("open");
    let held_app = app(held.clone());
    append(
        &f.path,
        &f.officer,
        "{\"case\":\"2024-0001\",\"type\":\"HearingHeld\",\"held_on\":\"2024-09-21\",\"place\":\"Rabat\"}\n",
    );
    // The refresh starts while the build is held, and is let go after it (when, only makes
    // it likelier that the refresh is waiting by then; the answers must be right either way).
    let releasing = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        release.send(())
    });
    let refresher = held.clone();
    let moved = tokio::task::spawn_blocking(move || refresher.refresh())
        .await
        .expect("the refresh ends")
        .expect("refresh");
    assert!(moved, "moved to the new checkpoint");
    releasing
        .join()
        .expect("released")
        .expect("the build waited");
    assert!(f.state.refresh().expect("refresh"));
    for uri in ["/api/v1/cases?limit=20&sort=id", "/api/v1/stats"] {
        let v = json(&held_app, uri).await;
        assert_eq!(v["tree_size"], 321, "{uri}");
        assert_eq!(v, json(&f.app, uri).await, "{uri}");
    }
    let v = json(&held_app, "/api/v1/cases?limit=20&sort=id").await;
    let case = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["id"] == "2024-0001")
        .expect("the case");
    assert_eq!(
        case["entries"],
        json(&f.app, "/api/v1/cases/2024-0001").await["entries"]
            .as_array()
            .map(Vec::len)
            .expect("its entries"),
    );
}
