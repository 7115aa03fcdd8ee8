//! A fixed amount of appending, for comparing two builds: `BATCHES` batches of 1,000 events,
//! each opening a new case (the index's worst case: two new keys an event, a case and, for
//! the first 5,000, its controller), through `RegisterWriter::append` on a new register in a
//! temporary directory. Prints the median and quartiles of the batches' wall times after the
//! first five, and the process's CPU time per batch (the view snapshot's thread included).
//!
//! `cargo run --release -p sijil-register --example batch_append [BATCHES=40]`
//!
//! The criterion bench (`benches/append.rs`) runs for a time, not a count: a faster build
//! warms up on more batches and is then measured on a bigger register, which is why two
//! builds are compared with this instead.

use std::time::{Duration, Instant};

use sijil_register::{init, parse_events, InitOptions, RegisterWriter};

const PER_BATCH: u64 = 1000;

fn events(first_case: u64) -> String {
    (first_case..first_case + PER_BATCH)
        .map(|c| {
            format!(
                r#"{{"case":"B-{c}","type":"ComplaintReceived","controller":{{"id":"c{}","name":"Controller {}"}},"categories":["privacy"],"received_on":"2024-01-02"}}"#,
                c % 5000,
                c % 5000
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// User and system CPU time of this process so far, from `/proc/self/stat` (clock ticks of
/// 1/100 s, as Linux reports them to processes).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: the fields counted are after its closing ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

fn main() {
    let batches: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("BATCHES is a number"))
        .unwrap_or(40);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("reg");
    let officer = init(
        &dir,
        InitOptions {
            origin: "bench.example/batch".into(),
            title: "bench".into(),
            authority: "bench".into(),
            officer_name: "bench".into(),
            now_ms: 1_750_000_000_000,
            log_key: None,
            officer_key: None,
        },
    )
    .expect("init")
    .officer;
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    let mut times = Vec::with_capacity(batches);
    let cpu_start = cpu_time();
    for b in 0..batches {
        let drafts = parse_events("bench", &events(b as u64 * PER_BATCH)).expect("valid");
        let t = Instant::now();
        w.append(drafts, &officer, 1_750_000_000_001 + b as i64, None)
            .expect("append");
        times.push(t.elapsed());
        w.flush_snapshot();
    }
    drop(w);
    let cpu = cpu_start.zip(cpu_time()).map(|(a, b)| b - a);
    let mut measured = times.split_off(5.min(times.len()));
    measured.sort();
    let at = |q: usize| measured[(measured.len() - 1) * q / 4].as_secs_f64() * 1e3;
    if measured.is_empty() {
        println!("no batch measured: BATCHES must be more than 5");
        return;
    }
    println!(
        "{batches} batches of {PER_BATCH} new cases, to {} entries: median {:.1} ms ({:.0} events/s), quartiles {:.1}-{:.1} ms",
        batches as u64 * (PER_BATCH + 1),
        at(2),
        PER_BATCH as f64 / at(2) * 1e3,
        at(1),
        at(3)
    );
    if let Some(cpu) = cpu {
        println!(
            "process CPU time: {:.1} ms a batch (all threads)",
            cpu.as_secs_f64() * 1e3 / batches as f64
        );
    }
}
