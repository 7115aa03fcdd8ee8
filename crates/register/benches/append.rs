//! Durable appends through `RegisterWriter::append`: sealing texts into blobs, signing,
//! the register's rules, tiles, bundles, the fsync round and the checkpoint rename: all of
//! what `sijil append` does but process start-up and reading the events file.
//!
//! `cargo bench -p sijil-register --bench append`

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sijil_register::{init, parse_events, InitOptions, RegisterWriter};

fn events(first_case: u64, n: u64, with_text: bool) -> String {
    (first_case..first_case + n)
        .map(|c| {
            if with_text {
                format!(
                    r#"{{"case":"B-{c}","type":"ComplaintReceived","controller":{{"id":"c{}","name":"Controller {}"}},"categories":["privacy"],"received_on":"2024-01-02","summary":"Plainte {c} : caméra orientée vers la voie publique."}}"#,
                    c % 5000,
                    c % 5000
                )
            } else {
                format!(
                    r#"{{"case":"B-{c}","type":"ComplaintReceived","controller":{{"id":"c{}","name":"Controller {}"}},"categories":["privacy"],"received_on":"2024-01-02"}}"#,
                    c % 5000,
                    c % 5000
                )
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A register's writer, its officer, and the next case number and clock, for timing appends.
struct Appender {
    w: RegisterWriter,
    officer: sijil_core::note::Signer,
    next_case: u64,
    now: i64,
}

impl Appender {
    /// Times `iters` appends of `per_batch` new cases each (parsing excluded).
    fn time(&mut self, iters: u64, per_batch: u64, with_text: bool) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let drafts = parse_events("bench", &events(self.next_case, per_batch, with_text))
                .expect("valid");
            self.next_case += per_batch;
            self.now += 1;
            let t = Instant::now();
            self.w
                .append(drafts, &self.officer, self.now, None)
                .expect("append");
            total += t.elapsed();
        }
        total
    }
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("reg");
    let report = init(
        &dir,
        InitOptions {
            origin: "bench.example/append".into(),
            title: "bench".into(),
            authority: "bench".into(),
            officer_name: "bench".into(),
            now_ms: 1_750_000_000_000,
            log_key: None,
            officer_key: None,
        },
    )
    .expect("init");
    let mut app = Appender {
        w: RegisterWriter::open(&dir, None).expect("open"),
        officer: report.officer,
        next_case: 0,
        now: 1_750_000_000_000,
    };

    let mut g = c.benchmark_group("append");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    for (name, with_text) in [
        ("batch_1000_no_text", false),
        ("batch_1000_one_text_each", true),
    ] {
        g.throughput(Throughput::Elements(1000));
        g.bench_function(name, |b| {
            b.iter_custom(|iters| app.time(iters, 1000, with_text))
        });
    }
    g.throughput(Throughput::Elements(1));
    g.bench_function("single_event_with_text", |b| {
        b.iter_custom(|iters| app.time(iters, 1, true))
    });
    g.finish();
}

/// One-event appends to a big register: `SIJIL_BENCH_DIR` names a register built by
/// `scripts/gen-register` (its officer key is `private/bench.key`); the benchmark appends to
/// it (a few hundred entries). Skipped, with a note, when the variable is not set.
/// `scripts/bench-append` builds the registers and runs it.
fn bench_big(c: &mut Criterion) {
    let Ok(dir) = std::env::var("SIJIL_BENCH_DIR") else {
        eprintln!(
            "append_to_big_register: set SIJIL_BENCH_DIR to a register (scripts/bench-append)"
        );
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let officer = sijil_register::read_private_key(&dir.join("private/bench.key")).expect("key");
    let opened = Instant::now();
    let w = RegisterWriter::open(&dir, None).expect("open");
    eprintln!(
        "opened {} (size {}) in {:.1} ms",
        dir.display(),
        w.size(),
        opened.elapsed().as_secs_f64() * 1e3
    );
    let mut app = Appender {
        next_case: 10_000_000_000u64 + w.size(),
        w,
        officer,
        now: 1_900_000_000_000,
    };
    let mut g = c.benchmark_group("append_to_big_register");
    g.sample_size(50).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(1));
    for (name, with_text) in [
        ("single_event_no_text", false),
        ("single_event_with_text", true),
    ] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| app.time(iters, 1, with_text))
        });
    }
    g.finish();
}

criterion_group!(benches, bench, bench_big);
criterion_main!(benches);
