//! `sijil audit URL|DIR`: everything, through the register's audit engine.

use sijil_register::audit::{audit as run_audit, AuditFailure, AuditOptions};

use super::remote::{http_summary, progress_bar, source, witness_policy};
use super::{as_of, verifier_arg};
use crate::flags::AuditArgs;
use crate::output::{errln, outln};
use crate::Failure;

pub fn audit(a: AuditArgs) -> Result<(), Failure> {
    let verifier = verifier_arg(&a.key)?;
    let witnesses = witness_policy(&a.witnesses)?;
    let today = as_of(a.as_of.as_deref())?;
    let (src, client) = source(&a.target, &a.net)?;
    let bar = progress_bar();
    let started = std::time::Instant::now();
    let opts = AuditOptions {
        // Over HTTP, larger steps keep more requests in flight.
        bundles_per_step: if client.is_some() { 64 } else { 32 },
        ..AuditOptions::default()
    };
    let result = run_audit(src.as_ref(), &verifier, opts, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    let report = result.map_err(|e| match e {
        AuditFailure::Source(_) | AuditFailure::Io(_) => Failure::usage(e),
        e => Failure::rejected(
            anyhow::Error::new(e).context(format!("{} FAILED verification", a.target)),
        ),
    })?;
    let cp = &report.checkpoint.checkpoint;
    let witness_report = match &witnesses {
        Some(policy) => Some(policy.check(&report.checkpoint.note).map_err(|e| {
            Failure::rejected(anyhow::anyhow!("{} FAILED verification: {e}", a.target))
        })?),
        None => None,
    };
    let secs = started.elapsed().as_secs_f64();
    let stats = report.view.stats(today);
    let info = report.view.register();
    if a.json {
        let out = serde_json::json!({
            "verified": true,
            "origin": cp.origin,
            "tree_size": cp.size,
            "root": cp.root.to_base64(),
            "register": info,
            "log_key": report.log_verifier.to_string(),
            "log_key_rotations": report.followed.rotations.iter().map(|(seq, key)| {
                serde_json::json!({"seq": seq, "new_key": key})
            }).collect::<Vec<_>>(),
            "entries": report.entries,
            "hash_tiles": report.hash_tiles,
            "blobs_checked": report.blobs_checked,
            "blobs_erased": report.blobs_erased,
            "witnesses": witness_report.as_ref().map(|w| w.counted),
            "stats": stats,
            "seconds": secs,
        });
        outln!("{out}")?;
    } else {
        outln!("audited {} ({})", a.target, cp.origin)?;
        match report.followed.sentence() {
            Some(rotated) => {
                outln!("  {rotated} (LogKeyRotated, each signed by the key before it)")?;
                outln!("  checkpoint signature by {}: ok", report.log_verifier)?;
            }
            None => outln!("  checkpoint signature by {verifier}: ok")?,
        }
        if let Some(w) = &witness_report {
            outln!(
                "  witnesses: {} of {} required cosignatures verified",
                w.counted,
                w.quorum
            )?;
        }
        outln!("  {} entries: canonical encoding, signatures, hash chain, time order, register rules: ok", report.entries)?;
        outln!(
            "  {} hash tiles rebuilt from the entries and compared: ok",
            report.hash_tiles
        )?;
        outln!(
            "  blobs: {} checked against their digests, {} erased",
            report.blobs_checked,
            report.blobs_erased
        )?;
        if let Some(info) = info {
            outln!("register: {} ({})", info.title, info.authority)?;
        }
        outln!(
            "  {} cases, {} controllers, {} overdue as of {}; {} sanctions, fines {} MAD",
            stats.cases,
            stats.controllers,
            stats.overdue,
            stats.as_of,
            stats.sanctions_by_kind.values().sum::<usize>(),
            stats.fines_total_mad
        )?;
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
