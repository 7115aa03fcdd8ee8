//! Commit throughput of the PostgreSQL commit point (issue 14: "at least 20,000 durable
//! signed appends/s in batches of 1,000"): the database's share of an append, on a throwaway
//! cluster with fsync on.
//!
//! Each batch is shaped like a writer's batch of `ENTRIES` entries: one blob per entry, the
//! entry bundles (full ones and a partial), and the level-0 and level-1 hash tiles (full
//! ones and partials), committed by compare-and-swap. One writer, then two writers racing
//! (the loser re-reads the size and retries, as a writer adopting would).
//!
//! `flock /tmp/bench.lock cargo run -p sijil-postgres --example commit_throughput`
//! (`SIJIL_BENCH_SECONDS`, default 10; `SIJIL_BENCH_ENTRIES`, default 1000;
//! `SIJIL_BENCH_DIR` for the cluster's directory, default a temporary one).

use std::time::{Duration, Instant};

use sijil_core::commit::{Commit, CommitPoint, CommitPointError};
use sijil_postgres::cluster::Cluster;
use sijil_postgres::PgRegister;

/// Bytes of one blob (an event's redactable text) and of one entry in a bundle.
const BLOB: usize = 200;
const ENTRY: usize = 400;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The files of the batch taking the log from `old` to `new`, named as the writer names them
/// (c2sp.org/tlog-tiles paths; blobs by a unique name here).
fn batch_files(old: u64, new: u64) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for i in old..new {
        files.push((format!("blobs/{i:064x}"), vec![(i % 251) as u8; BLOB]));
    }
    // Bundles and level-0 tiles: every tile the batch completes or leaves partial.
    let (first, last) = (old / 256, (new - 1) / 256);
    for t in first..=last {
        let width = (new - t * 256).min(256);
        let suffix = if width == 256 {
            String::new()
        } else {
            format!(".p/{width}")
        };
        files.push((
            format!("tile/entries/{}{suffix}", tile_index(t)),
            vec![7; ENTRY * width as usize],
        ));
        files.push((
            format!("tile/0/{}{suffix}", tile_index(t)),
            vec![9; 32 * width as usize],
        ));
    }
    let level1_width = (new / 256).clamp(1, 256);
    files.push((
        format!("tile/1/000.p/{level1_width}"),
        vec![3; 32 * level1_width as usize],
    ));
    files
}

/// A tlog-tiles index (`x001/234` style for large ones).
fn tile_index(n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        parts.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    parts.reverse();
    parts.join("/")
}

fn checkpoint(size: u64) -> Vec<u8> {
    format!(
        "example.org/bench\n{size}\n{}\n\n— bench {}\n",
        "A".repeat(44),
        "B".repeat(88)
    )
    .into_bytes()
}

/// Commits batches for `seconds` on `url`, retrying after a conflict from the size the
/// commit point reports; returns (batches, entries, conflicts, per-commit latencies).
fn writer(url: &str, entries: u64, seconds: u64) -> (u64, u64, u64, Vec<Duration>) {
    let mut w = PgRegister::connect(url).unwrap_or_else(|e| panic!("{e}"));
    let mut size = current_size(&mut w);
    let (mut batches, mut done, mut conflicts) = (0, 0, 0);
    let mut latencies = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        let new = size + entries;
        let owned = batch_files(size, new);
        let files: Vec<(String, &[u8])> = owned.iter().map(|(p, b)| (p.clone(), &b[..])).collect();
        let cp = checkpoint(new);
        let t = Instant::now();
        match w.commit(&Commit {
            old_size: size,
            new_size: new,
            checkpoint: &cp,
            files: &files,
            removed: &[],
        }) {
            Ok(()) => {
                latencies.push(t.elapsed());
                batches += 1;
                done += entries;
                size = new;
            }
            Err(CommitPointError::Conflict { actual, .. }) => {
                conflicts += 1;
                size = actual;
            }
            Err(e) => panic!("{e}"),
        }
    }
    (batches, done, conflicts, latencies)
}

fn current_size(w: &mut PgRegister) -> u64 {
    w.latest_with_size()
        .unwrap_or_else(|e| panic!("{e}"))
        .map_or(0, |(s, _)| s)
}

fn report(label: &str, seconds: u64, results: &[(u64, u64, u64, Vec<Duration>)]) {
    let entries: u64 = results.iter().map(|r| r.1).sum();
    let batches: u64 = results.iter().map(|r| r.0).sum();
    let conflicts: u64 = results.iter().map(|r| r.2).sum();
    let mut lat: Vec<Duration> = results.iter().flat_map(|r| r.3.clone()).collect();
    lat.sort();
    let pct = |p: usize| lat.get(lat.len() * p / 100).copied().unwrap_or_default();
    println!(
        "{label}: {batches} batches, {entries} entries in {seconds} s = {:.0} entries/s; \
         {conflicts} conflicts; commit latency p50 {:.1} ms, p99 {:.1} ms",
        entries as f64 / seconds as f64,
        pct(50).as_secs_f64() * 1e3,
        pct(99).as_secs_f64() * 1e3,
    );
}

fn main() {
    let seconds = env_number("SIJIL_BENCH_SECONDS", 10);
    let entries = env_number("SIJIL_BENCH_ENTRIES", 1000);
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let dir = std::env::var_os("SIJIL_BENCH_DIR")
        .map_or_else(|| tmp.path().join("pg"), std::path::PathBuf::from);
    let cluster = Cluster::start(&dir).unwrap_or_else(|e| panic!("{e}"));
    let url = cluster.url();
    let setup = PgRegister::connect(&url).unwrap_or_else(|e| panic!("{e}"));
    setup.create_schema().unwrap_or_else(|e| panic!("{e}"));
    let mut setup = setup;
    let genesis = checkpoint(1);
    setup
        .commit(&Commit {
            old_size: 0,
            new_size: 1,
            checkpoint: &genesis,
            files: &[],
            removed: &[],
        })
        .unwrap_or_else(|e| panic!("{e}"));

    let files = batch_files(1, 1 + entries);
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    println!(
        "batches of {entries} entries: {} files, {} KiB; cluster in {}",
        files.len(),
        bytes / 1024,
        dir.display()
    );
    report("1 writer", seconds, &[writer(&url, entries, seconds)]);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || writer(&url, entries, seconds))
        })
        .collect();
    let racing: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|_| panic!("writer thread")))
        .collect();
    report("2 writers", seconds, &racing);
}
