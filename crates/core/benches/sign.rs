//! Checkpoint signing and opening: what the writer pays per commit and a verifier per fetch.
//!
//! Run: `cargo bench -p sijil-core --bench sign`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::cosignature::{Cosigner, WitnessPolicy};
use sijil_core::note::{Note, Signer};
use sijil_core::sha256;

const ORIGIN: &str = "registre.example.ma/plaintes";

fn bench(c: &mut Criterion) {
    let log = Signer::from_seed(ORIGIN, &[42; 32]).expect("valid name");
    let verifier = log.verifier();
    let checkpoint = Checkpoint::new(ORIGIN, 1_234_567, sha256(b"root"));

    c.bench_function("checkpoint sign", |b| {
        b.iter(|| SignedCheckpoint::sign(black_box(checkpoint.clone()), &log).expect("signs"))
    });

    let signed = SignedCheckpoint::sign(checkpoint.clone(), &log).expect("signs");
    c.bench_function("checkpoint open", |b| {
        b.iter(|| SignedCheckpoint::open(black_box(&signed.bytes), &verifier).expect("opens"))
    });

    let witnesses: Vec<Cosigner> = (1..=3u8)
        .map(|i| Cosigner::from_seed(&format!("w{i}.example"), &[i; 32]).expect("valid"))
        .collect();
    let mut cosigned = signed.clone();
    cosigned
        .add_cosignatures(
            witnesses
                .iter()
                .map(|w| w.cosign(&signed.note.text, 1_767_139_200).expect("cosigns")),
        )
        .expect("fits");
    let policy =
        WitnessPolicy::new(witnesses.iter().map(Cosigner::verifier).collect(), 2).expect("valid");
    c.bench_function("cosign", |b| {
        b.iter(|| {
            witnesses[0]
                .cosign(black_box(&signed.note.text), 1_767_139_200)
                .expect("cosigns")
        })
    });
    c.bench_function("cosigned checkpoint open + 3 witnesses", |b| {
        b.iter(|| {
            let opened =
                SignedCheckpoint::open(black_box(&cosigned.bytes), &verifier).expect("opens");
            policy.check(&opened.note).expect("quorum met")
        })
    });
    c.bench_function("note parse (4 lines)", |b| {
        b.iter(|| Note::parse(black_box(&cosigned.bytes)).expect("parses"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
