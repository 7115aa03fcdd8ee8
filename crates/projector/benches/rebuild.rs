//! Rebuilding the register view from already-verified entries (DESIGN §6).
//!
//! The entries are built once per run, before any timing: 200,000 cases × 5 events plus the
//! genesis, 1,000,001 entries. Cases progress side by side (1,000 at a time, one event each
//! per round), so a case's events are spread through the log as they are in practice. The
//! projector does not check signatures (its caller verified them), so the entries carry zero
//! signatures; their leaf hashes are computed from their real encodings.
//!
//! Also printed, outside the timings: the view's memory for several mixes of the same number
//! of entries, estimated by `View::heap_bytes` (sum of capacities; a counting global allocator
//! would need `unsafe`, which the workspace forbids) and cross-checked against the process's
//! resident set size; and the snapshot's size and encode/decode times.
//!
//! Run: `cargo bench -p sijil-projector --bench rebuild -- --warm-up-time 1 --measurement-time 5 --sample-size 10`

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use ed25519_dalek::SigningKey;
use sijil_core::entry::{CaseLink, Entry, SignatureBytes, FORMAT_V1};
use sijil_core::event::{
    AuthoritiesNotified, CaseClosed, CaseOpening, Category, ComplaintReceived, ComplianceConfirmed,
    ComplianceDeadlineSet, Controller, Correction, Date, DeadlineExtended, Event, HearingHeld,
    InspectionOpened, Officer, Outcome, PublicKey, RegisterOpened, Role, Sanction,
    SanctionNotified, TextDigest,
};
use sijil_core::{leaf_hash, sha256, Hash};
use sijil_projector::View;

/// 2025-01-01T00:00:00Z: after every date of something that happened in the generated cases.
const START_MS: i64 = 1_735_689_600_000;
const ROUND: usize = 1_000;

fn date(days_after_2023: u64) -> Date {
    use chrono::Datelike;
    chrono::NaiveDate::from_ymd_opt(2023, 1, 1)
        .and_then(|d| d.checked_add_days(chrono::Days::new(days_after_2023)))
        .and_then(|d| Date::from_ymd(d.year(), d.month(), d.day()))
        .expect("bench dates are valid")
}

/// Event `k` of `n` of case `c` (opened on `opened`): an opening, then a realistic cycle of
/// hearings, deadlines, sanctions, compliance and notifications, and a closing.
fn case_event(c: usize, k: usize, n: usize, opened: u64, first_seq: u64) -> Event {
    let on = date(opened);
    let text = TextDigest(sha256(&(c as u64 * 64 + k as u64).to_le_bytes()));
    if k == 0 {
        let controller = Controller {
            id: format!("ctl-{:05}", c % 20_000),
            name: format!("Controller {} SARL", c % 20_000),
        };
        let category = Category::ALL[c % Category::ALL.len()];
        return if c.is_multiple_of(5) {
            Event::InspectionOpened(InspectionOpened {
                opened_on: on,
                opens: Some(CaseOpening {
                    controller,
                    categories: sijil_core::event::Categories::one(category),
                }),
                scope: Some(text),
            })
        } else {
            Event::ComplaintReceived(ComplaintReceived {
                controller,
                categories: sijil_core::event::Categories::one(category),
                received_on: on,
                summary: Some(text),
            })
        };
    }
    if k == n - 1 {
        let outcome = if c.is_multiple_of(3) {
            Outcome::Sanctioned
        } else {
            Outcome::Complied
        };
        return Event::CaseClosed(CaseClosed {
            closed_on: date(opened + 200),
            outcome,
            summary: Some(text),
        });
    }
    let cycle = (k - 1) as u64 / 8;
    match (k - 1) % 8 {
        0 => Event::HearingHeld(HearingHeld {
            held_on: date(opened + 10),
            place: "Rabat".into(),
            summary: Some(text),
        }),
        1 => Event::ComplianceDeadlineSet(ComplianceDeadlineSet {
            due_on: date(opened + 30 + 60 * cycle),
            obligations: text,
        }),
        2 => Event::DeadlineExtended(DeadlineExtended {
            due_on: date(opened + 60 + 60 * cycle),
            reason: None,
        }),
        3 if c.is_multiple_of(3) => Event::SanctionNotified(SanctionNotified {
            notified_on: date(opened + 90),
            sanction: Sanction::Fine {
                amount_mad: 10_000 + c as u64,
            },
            legal_basis: "Loi 09-08, art. 51".into(),
            reasons: Some(text),
        }),
        3 | 4 => Event::ComplianceConfirmed(ComplianceConfirmed {
            confirmed_on: date(opened + 100),
            note: None,
        }),
        5 => Event::AuthoritiesNotified(AuthoritiesNotified {
            notified_on: date(opened + 110),
            authorities: vec!["Parquet de Rabat".into()],
        }),
        6 => Event::InspectionOpened(InspectionOpened {
            opened_on: date(opened + 120),
            opens: None,
            scope: None,
        }),
        _ => Event::Correction(Correction {
            target: first_seq,
            erratum: text,
        }),
    }
}

/// A log of `cases` cases with `per_case` events each (≥ 2), plus the genesis.
fn history(cases: usize, per_case: usize) -> Vec<(Entry, Hash)> {
    let admin = SigningKey::from_bytes(&[1; 32]);
    let clerk = SigningKey::from_bytes(&[2; 32]);
    let key = |k: &SigningKey| PublicKey(k.verifying_key().to_bytes());
    let mut out: Vec<(Entry, Hash)> = Vec::with_capacity(1 + cases * per_case);
    let push =
        |out: &mut Vec<(Entry, Hash)>, signer: PublicKey, case: Option<CaseLink>, event: Event| {
            let seq = out.len() as u64;
            let entry = Entry {
                format: FORMAT_V1,
                seq,
                prev: out.last().map_or(Hash::ZERO, |(_, h)| *h),
                recorded_at: START_MS + seq as i64,
                signer,
                case,
                event,
                signature: SignatureBytes([0; 64]),
            };
            let leaf = leaf_hash(&entry.encode().expect("bench entries encode"));
            out.push((entry, leaf));
            leaf
        };
    let genesis = Event::RegisterOpened(RegisterOpened {
        origin: "registre.example.ma/plaintes".into(),
        title: "Registre des plaintes".into(),
        authority: "Commission nationale".into(),
        log_key: key(&SigningKey::from_bytes(&[3; 32])),
        officers: vec![
            Officer {
                key: key(&admin),
                name: "Admin".into(),
                role: Role::Admin,
            },
            Officer {
                key: key(&clerk),
                name: "Clerk".into(),
                role: Role::Clerk,
            },
        ],
    });
    push(&mut out, key(&admin), None, genesis);
    let clerk = key(&clerk);
    let mut heads = vec![Hash::ZERO; cases];
    let mut first = vec![0u64; cases];
    for block in (0..cases).step_by(ROUND) {
        let end = (block + ROUND).min(cases);
        for k in 0..per_case {
            for c in block..end {
                let id = format!("{}-{:06}", 2023 + c % 3, c);
                let link = CaseLink {
                    id,
                    seq: k as u32,
                    prev: heads[c],
                };
                if k == 0 {
                    first[c] = out.len() as u64;
                }
                let event = case_event(c, k, per_case, (c % 300) as u64, first[c]);
                heads[c] = push(&mut out, clerk, Some(link), event);
            }
        }
    }
    out
}

fn rebuild(entries: &[(Entry, Hash)]) -> View {
    let mut view = View::new();
    for (e, h) in entries {
        view.apply(e, *h)
            .unwrap_or_else(|r| panic!("bench history is valid: {r}"));
    }
    view
}

/// The resident set size of this process, from /proc/self/statm (pages of 4 KiB).
fn rss_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    statm
        .split_whitespace()
        .nth(1)?
        .parse::<usize>()
        .ok()
        .map(|pages| pages * 4096)
}

/// This process's user + system CPU time, from /proc/self/stat (clock ticks of 10 ms), so the
/// figure holds on a machine busy with other work, where wall time does not.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn mib(b: usize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn report_memory() {
    println!("view memory (heap_bytes: sum of capacities; RSS: growth of the process while building the first)");
    let mixes = [
        (200_000, 5),
        (100_000, 10),
        (20_000, 50),
        (200_000, 2),
        (100_000, 2),
    ];
    for (i, (cases, per_case)) in mixes.into_iter().enumerate() {
        let entries = history(cases, per_case);
        let before = rss_bytes();
        let view = rebuild(&entries);
        let after = rss_bytes();
        let heap = view.heap_bytes();
        // Later builds reuse the memory the allocator kept from the earlier ones, so only the
        // first build's RSS growth means anything.
        let rss = match (i, before, after) {
            (0, Some(b), Some(a)) => format!(", RSS +{:.1} MiB", mib(a.saturating_sub(b))),
            _ => String::new(),
        };
        println!(
            "  {cases:>7} cases x {per_case:>2} events = {:>9} entries: heap_bytes {:>6.1} MiB ({:>4.0} B/case, {:>5.1} B/entry){rss}",
            entries.len(),
            mib(heap),
            heap as f64 / cases as f64,
            heap as f64 / entries.len() as f64,
        );
        black_box(view);
    }
}

fn benches(c: &mut Criterion) {
    report_memory();
    let entries = history(200_000, 5);
    let n = entries.len() as u64;
    let full = rebuild(&entries);
    let root = full.last_leaf_hash();

    let t = Instant::now();
    let snapshot = full.to_snapshot(root);
    let encode = t.elapsed();
    let t = Instant::now();
    let (back, _, _) = View::from_snapshot(&snapshot).expect("own snapshot decodes");
    let decode = t.elapsed();
    assert!(back == full);
    println!(
        "snapshot of {n} entries / 200000 cases: {:.1} MiB, encode {:.0} ms, decode+check {:.0} ms",
        mib(snapshot.len()),
        encode.as_secs_f64() * 1e3,
        decode.as_secs_f64() * 1e3
    );

    // Wall and CPU time over a few rebuilds, outside criterion.
    let rounds = 5;
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    for _ in 0..rounds {
        black_box(rebuild(&entries));
    }
    let wall = wall.elapsed().as_secs_f64() / f64::from(rounds);
    match cpu.zip(cpu_seconds()) {
        Some((a, b)) => println!(
            "rebuild of {n} entries, mean of {rounds} (drop included): wall {:.0} ms = {:.2} M entries/s; CPU {:.0} ms = {:.2} M entries/s",
            wall * 1e3,
            n as f64 / wall / 1e6,
            (b - a) / f64::from(rounds) * 1e3,
            n as f64 / ((b - a) / f64::from(rounds)) / 1e6
        ),
        None => println!("rebuild of {n} entries: wall {:.0} ms", wall * 1e3),
    }

    let mut group = c.benchmark_group("rebuild");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(n));
    group.bench_function("apply_1M_entries_200k_cases", |b| {
        b.iter_with_large_drop(|| rebuild(black_box(&entries)))
    });
    group.finish();

    // The incremental cost: the last 10,000 entries applied to the view of the rest.
    let tail = 10_000;
    let base = rebuild(&entries[..entries.len() - tail]);
    let mut group = c.benchmark_group("tail");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(tail as u64));
    group.bench_function("apply_last_10k_entries", |b| {
        b.iter_batched(
            || base.clone(),
            |mut view| {
                for (e, h) in &entries[entries.len() - tail..] {
                    view.apply(e, *h)
                        .unwrap_or_else(|r| panic!("bench history is valid: {r}"));
                }
                view
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(rebuild_benches, benches);
criterion_main!(rebuild_benches);
