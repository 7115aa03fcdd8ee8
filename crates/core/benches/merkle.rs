//! Merkle tree and tiles: what a verifier pays per proof (through `TileHashReader`, which
//! fetches the tiles and checks them against the root on every call) and what the writer
//! pays to append a batch.
//!
//! Run: `cargo bench -p sijil-core --bench merkle -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sijil_core::merkle::{
    check_consistency, check_inclusion, prove_consistency, prove_inclusion, tree_hash,
};
use sijil_core::tile::{append_leaves, MemoryTiles, TileBuilder, TileHashReader};
use sijil_core::{leaf_hash, Hash};

/// The tiles and root of a tree of `size` leaves, as a log would serve them.
fn log(size: u64) -> (MemoryTiles, Hash) {
    let mut builder = TileBuilder::new();
    let mut tiles = MemoryTiles::new();
    let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    for chunk in leaves.chunks(4096) {
        for (tile, data) in builder.push(chunk).expect("small tree") {
            tiles.insert(tile, data);
        }
    }
    for (tile, data) in builder.partial_tiles() {
        tiles.insert(tile, data);
    }
    (tiles, builder.root().expect("root"))
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("merkle");
    let mut million = None;
    for size in [1_000u64, 100_000, 1_000_000] {
        let (tiles, root) = log(size);
        let reader = TileHashReader::new(size, root, &tiles);
        group.bench_with_input(BenchmarkId::new("tree_hash", size), &size, |b, &size| {
            b.iter(|| tree_hash(black_box(size), &reader).expect("root"))
        });
        let leaf = size / 3;
        group.bench_with_input(
            BenchmarkId::new("prove_inclusion", size),
            &size,
            |b, &size| b.iter(|| prove_inclusion(size, black_box(leaf), &reader).expect("proof")),
        );
        let old = size / 2 + 1;
        group.bench_with_input(
            BenchmarkId::new("prove_consistency", size),
            &size,
            |b, &size| b.iter(|| prove_consistency(black_box(old), size, &reader).expect("proof")),
        );
        if size == 1_000_000 {
            let proof = prove_inclusion(size, leaf, &reader).expect("proof");
            let leaf_hash = leaf_hash(&leaf.to_be_bytes());
            group.bench_function(BenchmarkId::new("check_inclusion", size), |b| {
                b.iter(|| {
                    check_inclusion(black_box(&proof), size, &root, leaf, &leaf_hash)
                        .expect("valid")
                })
            });
            let proof = prove_consistency(old, size, &reader).expect("proof");
            let old_root = tree_hash(old, &reader).expect("old root");
            group.bench_function(BenchmarkId::new("check_consistency", size), |b| {
                b.iter(|| {
                    check_consistency(black_box(&proof), old, &old_root, size, &root)
                        .expect("valid")
                })
            });
            million = Some((tiles, root));
        }
    }

    // The writer: 1,000 new leaves on a tree of 1,000,000, reading the old edge through a
    // verifying reader (as it does from its own tiles on disk).
    if let Some((tiles, root)) = million {
        let size = 1_000_000u64;
        let reader = TileHashReader::new(size, root, &tiles);
        let batch: Vec<Hash> = (size..size + 1000)
            .map(|i| leaf_hash(&i.to_be_bytes()))
            .collect();
        group.bench_function(BenchmarkId::new("append_leaves_1000", size), |b| {
            b.iter(|| append_leaves(size, black_box(&batch), &reader).expect("append"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
