//! The index's costs (issue 10): applying an entry to an index of 100,000 keys (the writer's
//! cost per changed key, paid in every batch), proving a key, and checking a proof; and the
//! trie work of a writer that stores the trie node by node (issue 9).
//!
//!     cargo bench -p sijil-index --bench index
//!
//! Entries here are built but not signed: the index reads only which keys an entry touches.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use sijil_core::entry::SignatureBytes;
use sijil_core::event::{
    Category, ComplaintReceived, Controller, Date, Event, HearingHeld, PublicKey,
};
use sijil_core::{leaf_hash, CaseLink, Entry, Hash};
use sijil_index::{
    mini_root, prove_stored, verify_key, Index, IndexKey, Label, PartialTrie, StoredNode, Trie,
};
use std::collections::HashMap;

const CASES: u64 = 100_000;

fn entry(seq: u64, case: u64, opening: bool) -> Entry {
    let event = if opening {
        Event::ComplaintReceived(ComplaintReceived {
            controller: Controller {
                id: format!("ctl-{}", case % 20_011),
                name: "C".into(),
            },
            categories: sijil_core::event::Categories::one(Category::Privacy),
            received_on: Date::from_ymd(2024, 1, 2).expect("date"),
            summary: None,
        })
    } else {
        Event::HearingHeld(HearingHeld {
            held_on: Date::from_ymd(2024, 2, 3).expect("date"),
            place: "Rabat".into(),
            summary: None,
        })
    };
    Entry {
        format: 1,
        seq,
        prev: Hash::ZERO,
        recorded_at: 0,
        signer: PublicKey([1; 32]),
        case: Some(CaseLink {
            id: format!("B-{case:07}"),
            seq: 0,
            prev: Hash::ZERO,
        }),
        event,
        signature: SignatureBytes([0; 64]),
    }
}

fn leaf(seq: u64) -> Hash {
    leaf_hash(&seq.to_be_bytes())
}

/// An index of 100,000 cases (and 20,011 controllers), each case with 3 entries.
fn big_index() -> Index {
    let mut index = Index::new();
    let mut seq = 0;
    for round in 0..3 {
        for case in 0..CASES {
            index
                .apply(seq, &leaf(seq), &entry(seq, case, round == 0))
                .expect("in order");
            seq += 1;
        }
    }
    index
}

fn bench(c: &mut Criterion) {
    let mut index = big_index();
    index.flush();
    println!(
        "index: {} entries, {} keys, root {}",
        index.size(),
        index.keys(),
        index.root()
    );
    let next = index.size();
    // A batch of one event: its key's mini-log, then the flush that the batch's
    // IndexCommitted needs (the path from the key to the root).
    c.bench_function(
        "index/batch of 1: an event on an existing case, applied and flushed (100k cases)",
        |b| {
            b.iter_batched(
                || index.clone(),
                |mut i| {
                    i.apply(next, &leaf(next), &entry(next, 4242, false))
                        .expect("next");
                    i.flush();
                    i
                },
                BatchSize::LargeInput,
            )
        },
    );
    c.bench_function(
        "index/batch of 1: a new case (2 keys), applied and flushed",
        |b| {
            b.iter_batched(
                || index.clone(),
                |mut i| {
                    i.apply(next, &leaf(next), &entry(next, CASES + 1, true))
                        .expect("next");
                    i.flush();
                    i
                },
                BatchSize::LargeInput,
            )
        },
    );
    c.bench_function(
        "index/batch of 1000 events on 1000 cases, applied and flushed",
        |b| {
            b.iter_batched(
                || index.clone(),
                |mut i| {
                    for k in 0..1000u64 {
                        let seq = next + k;
                        i.apply(seq, &leaf(seq), &entry(seq, k * 97 % CASES, false))
                            .expect("next");
                    }
                    i.flush();
                    i
                },
                BatchSize::LargeInput,
            )
        },
    );
    let key = IndexKey::case("B-0004242");
    c.bench_function("index/prove a case key (100k cases)", |b| {
        b.iter(|| index.prove(&key))
    });
    let proof = index.prove(&key);
    let seqs = index.get(&key).expect("present").seqs.clone();
    let pairs: Vec<(u64, Hash)> = seqs.iter().map(|&s| (s, leaf(s))).collect();
    println!(
        "trie proof of a case key: {} siblings; mini-log root {}",
        proof.siblings.len(),
        mini_root(&pairs)
    );
    let root = index.root();
    c.bench_function("index/verify a case key's proof (3 entries)", |b| {
        b.iter(|| verify_key(&root, &key, &pairs, &proof).expect("verifies"))
    });
    drop(index);
    stored(c);
}

/// A writer's trie work for a batch when the trie is stored node by node (issue 9), here in
/// a map: each key's proof read from the store, the partial trie, the new values set, the
/// root, and the changed nodes. The cost beside the store's own reads and writes.
fn stored(c: &mut Criterion) {
    let mut trie = Trie::new();
    for case in 0..CASES {
        let key = IndexKey::case(&format!("B-{case:07}"));
        trie.set(key.0, key.0);
    }
    trie.rehash();
    let map: HashMap<Label, StoredNode> = trie.stored_nodes().collect();
    let (root, len) = (trie.root(), trie.len());
    let batch = |keys: &[IndexKey]| {
        let proofs: Vec<_> = keys
            .iter()
            .map(|k| (k.0, prove_stored(&map, &k.0).expect("an exported trie")))
            .collect();
        let mut partial = PartialTrie::from_proofs(&root, len, proofs.iter().map(|(k, p)| (k, p)))
            .expect("verified proofs");
        for k in keys {
            partial.set(k.0, [7; 32]).expect("a proven key");
        }
        (partial.root(), partial.changed_nodes())
    };
    let one = [IndexKey::case("B-0004242")];
    c.bench_function(
        "index/stored trie: batch of 1 existing key (100k keys)",
        |b| b.iter(|| batch(&one)),
    );
    let new = [IndexKey::case("B-9999999"), IndexKey::controller("new")];
    c.bench_function("index/stored trie: batch of 2 new keys (100k keys)", |b| {
        b.iter(|| batch(&new))
    });
    let (_, changed) = batch(&one);
    let read = prove_stored(&map, &one[0].0)
        .expect("exported")
        .siblings
        .len();
    println!(
        "stored trie: {} records; a 1-key batch reads {read} and writes {}",
        map.len(),
        changed.len()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
