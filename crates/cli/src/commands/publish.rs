//! `sijil publish DIR DEST` (sijil_publish): the register's public files to a directory or to
//! S3-compatible storage, verified, create-if-absent, the checkpoint last.

use std::io::IsTerminal as _;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use sijil_publish::{CheckpointOutcome, Destination, PublishError, PublishOptions};

use super::verifier_arg;
use crate::flags::PublishArgs;
use crate::output::{errln, outln};
use crate::Failure;

pub fn publish(a: PublishArgs) -> Result<(), Failure> {
    let verifier = a.key.as_deref().map(verifier_arg).transpose()?;
    let dest = Destination::parse(&a.dest).map_err(Failure::usage)?;
    let opts = PublishOptions {
        verifier,
        verify_existing: a.verify_existing,
        incremental: a.incremental,
        concurrency: a.concurrency.max(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let bar = progress_bar();
    let started = std::time::Instant::now();
    let result = runtime.block_on(sijil_publish::publish(
        &a.dir,
        &dest,
        &opts,
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    ));
    bar.finish_and_clear();
    let report = result.map_err(publish_failure)?;
    let secs = started.elapsed().as_secs_f64();
    let cp = &report.checkpoint.checkpoint;
    let outcome = match report.checkpoint_outcome {
        CheckpointOutcome::Written => "written",
        CheckpointOutcome::NewSignatures => "new-signatures",
        CheckpointOutcome::Unchanged => "unchanged",
    };
    if a.json {
        let out = serde_json::json!({
            "destination": dest.name(),
            "origin": cp.origin,
            "from": report.from,
            "tree_size": cp.size,
            "root": cp.root.to_base64(),
            "objects": report.planned,
            "written": report.written,
            "skipped": report.skipped,
            "bytes": report.bytes,
            "deleted": report.deleted,
            "checkpoint": outcome,
            "seconds": secs,
        });
        outln!("{out}")?;
    } else {
        let sizes = match report.from {
            Some(n) => format!("size {n} -> {}", cp.size),
            None => format!("size {} (its first publication)", cp.size),
        };
        match report.checkpoint_outcome {
            CheckpointOutcome::Unchanged => {
                outln!("{} is up to date (size {})", dest.name(), cp.size)?
            }
            CheckpointOutcome::NewSignatures => outln!(
                "published {} to {}: same tree (size {}), checkpoint with new signature lines",
                a.dir.display(),
                dest.name(),
                cp.size
            )?,
            CheckpointOutcome::Written => {
                outln!("published {} to {}: {sizes}", a.dir.display(), dest.name())?
            }
        }
        outln!(
            "  {} objects written ({} bytes), {} already there, {} erased texts deleted",
            report.written,
            report.bytes,
            report.skipped,
            report.deleted
        )?;
        outln!("  tree size {}  root {}", cp.size, cp.root)?;
    }
    errln!("({secs:.2} s)");
    Ok(())
}

/// README "Exit codes": 1 when something failed verification, the destination holds other
/// bytes, or publishing would roll it back; 2 for usage and I/O.
fn publish_failure(e: PublishError) -> Failure {
    if e.is_verification_failure() {
        Failure::rejected(e)
    } else {
        Failure::usage(e)
    }
}

/// A bar on a terminal (hidden otherwise), counting objects.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} objects ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}
