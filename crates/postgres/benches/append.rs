//! Durable appends to a register whose commit point is PostgreSQL (issue 14, "Numbers"),
//! side by side with the same appends to a directory register, in one run:
//!
//! - one writer, batches of 1,000 events (with and without a text each): events/s;
//! - one writer, 1-event batches: median latency;
//! - two writers on two copies (two "machines") appending 1,000-event batches at once for a
//!   fixed time, against one writer for the same time just before: the ratio, in three
//!   rounds, and their median.
//!
//! Each append is `RegisterWriter::append`: signing, the rules, tiles and bundles, the
//! database transaction (compare-and-swap, files, checkpoint; fsync on, the server's
//! defaults), then the local copy's fsync round and rename. Process start-up and parsing are
//! excluded. A real cluster is started in a temporary directory (`sijil_postgres::cluster`).
//!
//! `cargo bench -p sijil-postgres --bench append` (SIJIL_BENCH_SECONDS sets the length of
//! each one-writer and two-writer window, default 10).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sijil_core::note::Signer;
use sijil_postgres::cluster::Cluster;
use sijil_postgres::PgRegister;
use sijil_register::{init, parse_events, Draft, InitOptions, RegisterWriter};

const NOW: i64 = 1_750_000_000_000;

fn events(tag: &str, first: u64, n: u64, with_text: bool) -> Vec<Draft> {
    let text = (first..first + n)
        .map(|c| {
            let summary = if with_text {
                format!(r#","summary":"Plainte {tag}{c} : caméra orientée vers la voie publique.""#)
            } else {
                String::new()
            };
            format!(
                r#"{{"case":"{tag}-{c}","type":"ComplaintReceived","controller":{{"id":"c{}","name":"Controller {}"}},"categories":["privacy"],"received_on":"2024-01-02"{summary}}}"#,
                c % 5000,
                c % 5000
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    parse_events("bench", &text).expect("valid events")
}

fn new_register(dir: &Path) -> Signer {
    init(
        dir,
        InitOptions {
            origin: "bench.example/pg".into(),
            title: "bench".into(),
            authority: "bench".into(),
            officer_name: "bench".into(),
            now_ms: NOW,
            log_key: None,
            officer_key: None,
        },
    )
    .expect("init")
    .officer
}

/// A copy of the register in `copy` for a writer on another "machine": its log key only.
fn machine(from: &Path, copy: &Path) -> PathBuf {
    std::fs::create_dir_all(copy.join("private")).expect("mkdir");
    std::fs::copy(from.join("private/log.key"), copy.join("private/log.key")).expect("key");
    copy.to_path_buf()
}

fn pg_writer(url: &str, copy: &Path) -> RegisterWriter {
    let pg = PgRegister::connect(url).expect("connects");
    RegisterWriter::open_at(copy, None, Some(Box::new(pg))).expect("opens")
}

struct Run {
    next: u64,
    now: i64,
}

impl Run {
    /// Appends one batch; returns its duration.
    fn append(
        &mut self,
        w: &mut RegisterWriter,
        officer: &Signer,
        tag: &str,
        n: u64,
        text: bool,
    ) -> Duration {
        let drafts = events(tag, self.next, n, text);
        self.next += n;
        self.now += 1;
        let t = Instant::now();
        w.append(drafts, officer, self.now, None).expect("append");
        t.elapsed()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let seconds: u64 = std::env::var("SIJIL_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cluster = match Cluster::start(&tmp.path().join("pg")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench append (postgres): SKIPPED, no PostgreSQL cluster: {e}");
            return;
        }
    };
    let url = cluster.url();
    // The register: made in a directory, stored in the database as `sijil init` does.
    let origin_dir = tmp.path().join("origin");
    let officer = new_register(&origin_dir);
    {
        let mut pg = PgRegister::connect(&url).expect("connects");
        pg.create_schema().expect("schema");
        let checkpoint = sijil_register::RegisterReader::open(&origin_dir, None)
            .expect("opens")
            .checkpoint()
            .clone();
        pg.store_register(&origin_dir, &checkpoint)
            .expect("stores the genesis");
    }
    let dir_reg = tmp.path().join("dir");
    let dir_officer = new_register(&dir_reg);
    let mut dir_w = RegisterWriter::open(&dir_reg, None).expect("opens");
    let copy_a = machine(&origin_dir, &tmp.path().join("a"));
    let mut a = pg_writer(&url, &copy_a);
    let mut run = Run { next: 0, now: NOW };
    let mut dir_run = Run { next: 0, now: NOW };

    println!("| case | PostgreSQL | directory | ratio |");
    println!("|---|---|---|---|");
    for (label, n, text, rounds) in [
        (
            "batch of 1,000 events without text",
            1000u64,
            false,
            20usize,
        ),
        ("batch of 1,000 events, each with a text", 1000, true, 10),
        ("a single event with a text", 1, true, 101),
    ] {
        let mut pg_times = Vec::new();
        let mut dir_times = Vec::new();
        // Interleaved, so that both see the same machine.
        for _ in 0..rounds {
            pg_times.push(run.append(&mut a, &officer, "A", n, text));
            dir_times.push(dir_run.append(&mut dir_w, &dir_officer, "D", n, text));
        }
        let (p, d) = (median(pg_times), median(dir_times));
        let rate = |t: Duration| n as f64 / t.as_secs_f64();
        let shown = |t: Duration| {
            if n > 1 {
                format!("{} ({:.0} events/s)", ms(t), rate(t))
            } else {
                ms(t)
            }
        };
        println!(
            "| {label} (median of {rounds}) | {} | {} | {:.2} |",
            shown(p),
            shown(d),
            p.as_secs_f64() / d.as_secs_f64()
        );
    }

    // One writer for `seconds`, then two writers on two copies for as long, three times over:
    // this machine's speed drifts from minute to minute by more than the difference sought,
    // so each round's ratio compares neighbouring windows, and the median ratio is the figure.
    let window = Duration::from_secs(seconds);
    let copy_b = machine(&origin_dir, &tmp.path().join("b"));
    let mut b = pg_writer(&url, &copy_b);
    let mut run_b = Run { next: 0, now: NOW };
    let mut ratios = Vec::new();
    for round in 1..=3 {
        // Each window starts with both copies at the committed size: adopting what the other
        // writer did during the window before is not the window's work.
        a.catch_up().expect("A catches up");
        let one = {
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < window {
                run.append(&mut a, &officer, "A", 1000, false);
                n += 1000;
            }
            n as f64 / start.elapsed().as_secs_f64()
        };
        b.catch_up().expect("B catches up");
        // Within the window each writer adopts what the other committed since its last
        // batch, as in service: that is part of what two writers cost.
        let two: f64 = std::thread::scope(|s| {
            let handles: Vec<_> = [(&mut a, &mut run, "A"), (&mut b, &mut run_b, "B")]
                .into_iter()
                .map(|(w, run, tag)| {
                    let officer = &officer;
                    s.spawn(move || {
                        let start = Instant::now();
                        let mut n = 0u64;
                        while start.elapsed() < window {
                            run.append(w, officer, tag, 1000, false);
                            n += 1000;
                        }
                        n as f64 / start.elapsed().as_secs_f64()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("writer")).sum()
        });
        println!(
            "| round {round}, 1,000-event batches for {seconds} s: one writer, then two on two copies | {one:.0} events/s, then {two:.0} events/s | | {:.2}× |",
            two / one
        );
        ratios.push(two / one);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "| two writers against one, median of the three rounds | | | **{:.2}× one writer** |",
        ratios[1]
    );
    cluster.stop().expect("stops");
}
