//! `sijil verify URL|DIR`: the checkpoint, its consistency with the last one seen, a few
//! entries' inclusion (sijil_client::verify); for a local directory, then everything, with
//! the audit engine (unless `--quick`).

use sijil_client::state::StateDir;
use sijil_client::verify::{verify as verify_remote, Previous, VerifyOptions};

use sijil_register::audit::{audit as run_audit, AuditFailure, AuditOptions};

use super::remote::{client_failure, progress_bar, source, witness_policy};
use super::{now_ms, verifier_arg};
use crate::flags::VerifyArgs;
use crate::output::outln;
use crate::Failure;

pub fn verify(a: VerifyArgs) -> Result<(), Failure> {
    let verifier = verifier_arg(&a.key)?;
    let witnesses = witness_policy(&a.witnesses)?;
    let state_dir = match a.state_dir.clone() {
        Some(d) => d,
        None => {
            let xdg = std::env::var_os("XDG_STATE_HOME").map(std::path::PathBuf::from);
            let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
            StateDir::default_dir(xdg.as_deref(), home.as_deref()).ok_or_else(|| {
                Failure::usage(anyhow::anyhow!(
                    "no state directory: set HOME or XDG_STATE_HOME, or pass --state-dir"
                ))
            })?
        }
    };
    let state = StateDir::new(&state_dir);
    let (src, client) = source(&a.target, &a.net)?;
    let opts = VerifyOptions {
        spot_checks: a.spot_checks,
        witnesses,
        now_ms: now_ms(),
        evidence_dir: a.evidence_dir.clone().unwrap_or_else(|| state_dir.clone()),
    };
    let report =
        verify_remote(src.as_ref(), &verifier, &state, &opts).map_err(client_failure(&a.target))?;
    let full = if client.is_none() && !a.quick {
        let bar = progress_bar();
        let result = run_audit(
            src.as_ref(),
            &verifier,
            AuditOptions::default(),
            &mut |done, total| {
                bar.set_length(total);
                bar.set_position(done);
            },
        );
        bar.finish_and_clear();
        Some(result.map_err(|e| match e {
            AuditFailure::Source(_) | AuditFailure::Io(_) => Failure::usage(e),
            e => Failure::rejected(
                anyhow::Error::new(e).context(format!("{} FAILED verification", a.target)),
            ),
        })?)
    } else {
        None
    };
    let cp = &report.checkpoint.checkpoint;
    let (history, from) = match &report.previous {
        Previous::FirstVisit => ("first-visit", None),
        Previous::Same => ("unchanged", Some(cp.size)),
        Previous::Grew { from } => ("consistent", Some(from.size)),
    };
    if a.json {
        let out = serde_json::json!({
            "verified": true,
            "origin": cp.origin,
            "tree_size": cp.size,
            "root": cp.root.to_base64(),
            "history": history,
            "previous_size": from,
            "spot_checked": report.spot_checked,
            "witnesses": report.witnesses.as_ref().map(|w| serde_json::json!({
                "counted": w.counted,
                "quorum": w.quorum,
                "names": w.cosignatures.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
            })),
            "state_file": report.state_file,
            "audit": full.as_ref().map(|f| serde_json::json!({
                "entries": f.entries,
                "hash_tiles": f.hash_tiles,
                "blobs_checked": f.blobs_checked,
                "blobs_erased": f.blobs_erased,
            })),
        });
        outln!("{out}")?;
        return Ok(());
    }
    outln!("verified {} ({})", a.target, cp.origin)?;
    outln!("  checkpoint signature by {verifier}: ok")?;
    if let Some(w) = &report.witnesses {
        let names: Vec<&str> = w.cosignatures.iter().map(|c| c.name.as_str()).collect();
        outln!(
            "  witnesses: {} cosignatures verified, {} required ({})",
            w.counted,
            w.quorum,
            names.join(", ")
        )?;
    }
    match &report.previous {
        Previous::FirstVisit => outln!(
            "  first visit: this checkpoint is trusted on first use and remembered in {}",
            report.state_file.display()
        )?,
        Previous::Same => outln!("  unchanged since the last checkpoint verified")?,
        Previous::Grew { from } => outln!(
            "  consistent with the checkpoint of size {} verified before (RFC 9162 proof from the served tiles)",
            from.size
        )?,
    }
    outln!(
        "  inclusion of entries {:?}: ok (proven in the tree, canonical, signed; entry 0 names this origin and key)",
        report.spot_checked
    )?;
    if let Some(f) = &full {
        outln!(
            "  {} entries: canonical encoding, signatures, hash chain, time order, register rules: ok",
            f.entries
        )?;
        outln!(
            "  {} hash tiles rebuilt from the entries and compared: ok",
            f.hash_tiles
        )?;
        outln!(
            "  blobs: {} checked against their digests, {} erased",
            f.blobs_checked,
            f.blobs_erased
        )?;
    }
    outln!("  tree size {}  root {}", cp.size, cp.root)?;
    Ok(())
}
