//! `sijil verify`.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressStyle};
use sijil_register::audit::{audit, AuditFailure, AuditOptions, DirSource};

use super::verifier_arg;
use crate::flags::VerifyArgs;
use crate::Failure;

pub fn verify(a: VerifyArgs) -> Result<(), Failure> {
    let verifier = verifier_arg(&a.key)?;
    let source = DirSource::new(&a.dir);
    let bar = progress_bar();
    let started = std::time::Instant::now();
    let result = audit(
        &source,
        &verifier,
        AuditOptions::default(),
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    let report = result.map_err(|e| match e {
        AuditFailure::Source(_) => Failure::usage(e),
        e => Failure::rejected(
            anyhow::Error::new(e).context(format!("{} FAILED verification", a.dir.display())),
        ),
    })?;
    let cp = &report.checkpoint.checkpoint;
    let secs = started.elapsed().as_secs_f64();
    if a.json {
        let out = serde_json::json!({
            "verified": true,
            "origin": cp.origin,
            "tree_size": cp.size,
            "root": cp.root.to_base64(),
            "entries": report.entries,
            "hash_tiles": report.hash_tiles,
            "blobs_checked": report.blobs_checked,
            "blobs_erased": report.blobs_erased,
            "seconds": secs,
        });
        println!("{out}");
    } else {
        println!("verified {} ({})", a.dir.display(), cp.origin);
        println!("  checkpoint signature by {}: ok", verifier);
        println!("  {} entries: canonical encoding, signatures, hash chain, time order, register rules: ok", report.entries);
        println!(
            "  {} hash tiles rebuilt from the entries and compared: ok",
            report.hash_tiles
        );
        println!(
            "  blobs: {} checked against their digests, {} erased",
            report.blobs_checked, report.blobs_erased
        );
        println!("  tree size {}  root {}", cp.size, cp.root);
        eprintln!(
            "({:.2} s, {:.0} entries/s)",
            secs,
            report.entries as f64 / secs.max(1e-9)
        );
    }
    Ok(())
}

/// A progress bar on stderr when it is a terminal; hidden otherwise.
pub fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} entries ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}
