//! `sijil mirror URL DIR` (sijil_client::mirror).

use sijil_client::mirror::{mirror as run_mirror, MirrorOptions, Outcome};
use sijil_register::audit::AuditOptions;

use super::remote::{client_failure, http_summary, progress_bar, source, witness_policy};
use super::{now_ms, verifier_arg};
use crate::flags::MirrorArgs;
use crate::output::{errln, outln};
use crate::Failure;

pub fn mirror(a: MirrorArgs) -> Result<(), Failure> {
    let verifier = verifier_arg(&a.key)?;
    let witnesses = witness_policy(&a.witnesses)?;
    let (src, client) = source(&a.source, &a.net)?;
    let opts = MirrorOptions {
        audit: AuditOptions {
            bundles_per_step: a.bundles_per_step.max(1),
            ..AuditOptions::default()
        },
        witnesses,
        now_ms: now_ms(),
        evidence_dir: a.evidence_dir.clone(),
    };
    let bar = progress_bar();
    let started = std::time::Instant::now();
    let result = run_mirror(
        src.as_ref(),
        &a.dir,
        &verifier,
        &opts,
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    let report = result.map_err(client_failure(&a.source))?;
    let secs = started.elapsed().as_secs_f64();
    let cp = &report.checkpoint.checkpoint;
    let outcome = match report.outcome {
        Outcome::Created => "created",
        Outcome::Grew => "grew",
        Outcome::NewSignatures => "new-signatures",
        Outcome::UpToDate => "up-to-date",
    };
    if a.json {
        let out = serde_json::json!({
            "outcome": outcome,
            "origin": cp.origin,
            "from": report.from,
            "tree_size": cp.size,
            "root": cp.root.to_base64(),
            "entries_verified": report.entries,
            "hash_tiles": report.hash_tiles,
            "blobs": report.blobs,
            "erased": report.erased,
            "reused": report.reused,
            "witnesses": report.witnesses.as_ref().map(|w| w.counted),
            "seconds": secs,
            "http_requests": client.as_ref().map(|c| c.stats().requests.load(std::sync::atomic::Ordering::Relaxed)),
            "http_retries": client.as_ref().map(|c| c.stats().retries.load(std::sync::atomic::Ordering::Relaxed)),
        });
        outln!("{out}")?;
    } else {
        match report.outcome {
            Outcome::UpToDate => outln!(
                "mirror {} is up to date (size {})",
                a.dir.display(),
                cp.size
            )?,
            Outcome::NewSignatures => outln!(
                "mirror {}: same tree (size {}), checkpoint with new signature lines",
                a.dir.display(),
                cp.size
            )?,
            Outcome::Created | Outcome::Grew => {
                outln!(
                    "mirrored {} into {}: size {} -> {}",
                    a.source,
                    a.dir.display(),
                    report.from,
                    cp.size
                )?;
                outln!(
                    "  {} new entries verified (signatures, chain, rules), {} hash tiles rebuilt and compared, {} texts stored, {} erased texts deleted",
                    report.entries, report.hash_tiles, report.blobs, report.erased
                )?;
            }
        }
        outln!("  tree size {}  root {}", cp.size, cp.root)?;
    }
    errln!(
        "({:.2} s, {:.0} entries/s{})",
        secs,
        report.entries as f64 / secs.max(1e-9),
        http_summary(client.as_ref())
    );
    Ok(())
}
