//! Where a reader's memory goes (issue 11): opens a register directory as `sijil serve` does
//! and prints the process's resident memory, the view's estimate of its own heap and the
//! index's share of it.
//!
//!     cargo run --release -p sijil-register --example view_memory -- DIR

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: view_memory DIR");
        std::process::exit(2);
    };
    let before = rss_kib();
    let t = std::time::Instant::now();
    let reader = match sijil_register::RegisterReader::open(std::path::Path::new(&dir), None) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{dir}: {e}");
            std::process::exit(1);
        }
    };
    let opened = t.elapsed();
    let view = reader.view();
    let index = view.index();
    let mib = |b: usize| b as f64 / (1 << 20) as f64;
    println!("entries: {}", reader.checkpoint().checkpoint.size);
    println!("open: {:.2} s", opened.as_secs_f64());
    println!(
        "resident: {:.1} MiB before, {:.1} MiB after opening",
        before as f64 / 1024.0,
        rss_kib() as f64 / 1024.0
    );
    println!(
        "view heap (estimate): {:.1} MiB; the index has {} keys",
        mib(view.heap_bytes()),
        index.keys()
    );
    for (part, bytes) in view.heap_parts() {
        println!("  {part}: {:.1} MiB", mib(bytes));
    }
    if let Some(day) = sijil_core::event::Date::from_ymd(2026, 12, 7) {
        let stats = view.stats(day);
        println!("cases: {}, controllers: {}", stats.cases, stats.controllers);
    }
}
