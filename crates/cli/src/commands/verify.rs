//! `sijil verify URL|DIR`: the checkpoint, its consistency with the last one seen, a few
//! entries' inclusion (sijil_client::verify); for a local directory, then everything, with
//! the audit engine (unless `--quick`).

use sijil_client::case::{case_from_dir, fetch_case, verify_case_answer, CaseOutcome};
use sijil_client::http::HttpClient;
use sijil_client::state::StateDir;
use sijil_client::verify::{verify as verify_remote, Previous, VerifyOptions, VerifyReport};
use sijil_core::event::{Date, Event};
use sijil_core::note::Verifier;
use sijil_index::completeness::VerifiedCase;
use sijil_register::submission::Receipt;
use sijil_register::RegisterReader;

use sijil_register::audit::{audit as run_audit, AuditFailure, AuditOptions};

use super::remote::{client_failure, progress_bar, source, witness_policy};
use super::{now_ms, verifier_arg};
use crate::flags::VerifyArgs;
use crate::output::outln;
use crate::Failure;

pub fn verify(a: VerifyArgs) -> Result<(), Failure> {
    let verifier = verifier_arg(&a.key)?;
    let witnesses = witness_policy(&a.witnesses)?;
    if std::path::Path::new(&a.target).is_file() {
        return verify_receipt(&a, &verifier, witnesses);
    }
    let state_dir = state_dir_arg(a.state_dir.clone())?;
    let state = StateDir::new(&state_dir);
    let (src, client) = source(&a.target, &a.net)?;
    let opts = VerifyOptions {
        spot_checks: a.spot_checks,
        witnesses,
        now_ms: now_ms(),
        evidence_dir: a.evidence_dir.clone().unwrap_or_else(|| state_dir.clone()),
    };
    let mut report =
        verify_remote(src.as_ref(), &verifier, &state, &opts).map_err(client_failure(&a.target))?;
    let case = match &a.case {
        None => None,
        Some(id) => {
            // The case's proof is committed by the key that signs the checkpoint (the one the
            // key given leads to, after a rotation).
            let log_key = report.log_key.clone();
            let (outcome, checked) = verify_one_case(&a, id, &client, &log_key, report, |_| {
                verify_remote(src.as_ref(), &verifier, &state, &opts)
                    .map_err(client_failure(&a.target))
            })?;
            report = checked;
            Some(outcome)
        }
    };
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
        let case_json = case.as_ref().map(case_json);
        let out = serde_json::json!({
            "case": case_json,
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
            "log_key": report.log_key.to_string(),
            "log_key_rotations": report.followed.as_ref().map(|f| f.rotations.iter().map(|(seq, key)| {
                serde_json::json!({"seq": seq, "new_key": key})
            }).collect::<Vec<_>>()).unwrap_or_default(),
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
    match report.followed.as_ref().and_then(|f| f.sentence()) {
        Some(rotated) => {
            outln!("  {rotated} (LogKeyRotated, each signed by the key before it, included in this checkpoint, proven all of them)")?;
            outln!("  checkpoint signature by {}: ok", report.log_key)?;
        }
        None => outln!("  checkpoint signature by {verifier}: ok")?,
    }
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
    if let Some(c) = &case {
        print_case(c)?;
    }
    Ok(())
}

/// `--state-dir`, or the default state directory of `verify` (shared with `officers URL`).
pub(super) fn state_dir_arg(
    given: Option<std::path::PathBuf>,
) -> Result<std::path::PathBuf, Failure> {
    match given {
        Some(d) => Ok(d),
        None => {
            let xdg = std::env::var_os("XDG_STATE_HOME").map(std::path::PathBuf::from);
            let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
            StateDir::default_dir(xdg.as_deref(), home.as_deref()).ok_or_else(|| {
                Failure::usage(anyhow::anyhow!(
                    "no state directory: set HOME or XDG_STATE_HOME, or pass --state-dir"
                ))
            })
        }
    }
}

/// `sijil verify RECEIPT`: a receipt saved by `sijil submit`, checked offline
/// (sijil_register::submission::Receipt::verify).
fn verify_receipt(
    a: &VerifyArgs,
    verifier: &Verifier,
    witnesses: Option<sijil_core::cosignature::WitnessPolicy>,
) -> Result<(), Failure> {
    use anyhow::Context as _;
    let bytes = std::fs::read(&a.target).with_context(|| format!("reading {}", a.target))?;
    let receipt =
        Receipt::parse(&bytes).map_err(|e| Failure::usage(anyhow::anyhow!("{}: {e}", a.target)))?;
    let policy = match witnesses {
        Some(p) => p,
        None => sijil_core::cosignature::WitnessPolicy::new(Vec::new(), 0)
            .map_err(|e| Failure::usage(anyhow::anyhow!("{e}")))?,
    };
    let ok = receipt.verify(verifier, &policy).map_err(|e| {
        Failure::rejected(
            anyhow::Error::new(e).context(format!("{} FAILED verification", a.target)),
        )
    })?;
    let cp = &ok.checkpoint.checkpoint;
    if a.json {
        outln!(
            "{}",
            serde_json::json!({
                "verified": true,
                "receipt": true,
                "origin": cp.origin,
                "tree_size": cp.size,
                "root": cp.root.to_base64(),
                "first_seq": receipt.first_seq,
                "last_seq": receipt.last_seq,
                "entries": ok.entries.iter().map(|e| serde_json::json!({
                    "seq": e.seq,
                    "type": e.event.name(),
                    "signer": e.signer,
                })).collect::<Vec<_>>(),
            })
        )?;
        return Ok(());
    }
    outln!("verified receipt {} ({})", a.target, cp.origin)?;
    outln!("  checkpoint signature by {verifier}: ok")?;
    outln!(
        "  entries {}..={}: canonical, signed by their signers, included in the checkpoint (tlog-proof): ok",
        receipt.first_seq,
        receipt.last_seq
    )?;
    for e in &ok.entries {
        outln!(
            "    entry {:>8}  {:<22}  signed by {}",
            e.seq,
            e.event.name(),
            e.signer
        )?;
    }
    outln!("  tree size {}  root {}", cp.size, cp.root)?;
    outln!(
        "  offline: that the signers were authorized officers, and that the log did not fork since, are checked by `sijil verify URL` and `sijil audit`"
    )?;
    Ok(())
}

/// Fetches (or builds, for a directory) the answer for case `id` and verifies it against the
/// checkpoint `report` verified. If the server moved on between the two reads, verifies its
/// newer checkpoint (with `reverify`, which also proves it consistent) and tries again.
fn verify_one_case(
    a: &VerifyArgs,
    id: &str,
    client: &Option<std::sync::Arc<HttpClient>>,
    verifier: &Verifier,
    mut report: VerifyReport,
    mut reverify: impl FnMut(&VerifyReport) -> Result<VerifyReport, Failure>,
) -> Result<(VerifiedCase, VerifyReport), Failure> {
    let fail = |e: sijil_client::Error| client_failure(&a.target)(e);
    for attempt in 0..3 {
        let answer = match client {
            Some(c) => fetch_case(c, &a.target, id).map_err(fail)?,
            None => {
                let reader =
                    RegisterReader::open(std::path::Path::new(&a.target), Some(verifier.clone()))
                        .map_err(|e| Failure::usage(anyhow::Error::new(e)))?;
                case_from_dir(&reader, id).map_err(fail)?
            }
        };
        match verify_case_answer(&answer, id, &report.checkpoint, verifier) {
            Ok(CaseOutcome::Found(case)) => return Ok((case, report)),
            Ok(CaseOutcome::Absent { size }) => {
                return Err(Failure::rejected(anyhow::anyhow!(
                    "{}: there is no case {id:?} in this register: proven absent as of its checkpoint of size {size}",
                    a.target
                )))
            }
            Err(sijil_client::Error::Stale { .. }) if attempt < 2 => {
                report = reverify(&report)?;
            }
            Err(e) => {
                return Err(Failure::rejected(
                    anyhow::Error::new(e).context(format!("{} FAILED verification", a.target)),
                ))
            }
        }
    }
    Err(Failure::rejected(anyhow::anyhow!(
        "{}: the case answer and the checkpoint kept changing; try again",
        a.target
    )))
}

fn officer_name(c: &VerifiedCase, key: &sijil_core::event::PublicKey) -> String {
    c.officers
        .iter()
        .find(|(k, _)| k == key)
        .map_or_else(|| key.to_string(), |(_, n)| n.clone())
}

fn case_json(c: &VerifiedCase) -> serde_json::Value {
    serde_json::json!({
        "id": c.id,
        "complete_as_of": c.size,
        "entries": c.entries.iter().map(|e| serde_json::json!({
            "seq": e.seq,
            "type": e.entry.event.name(),
            "date": event_date(&e.entry.event).map(|d| d.to_string()),
            "signer": e.entry.signer,
            "officer": officer_name(c, &e.entry.signer),
            "leaf_hash": e.leaf.to_hex(),
        })).collect::<Vec<_>>(),
    })
}

fn print_case(c: &VerifiedCase) -> Result<(), Failure> {
    outln!(
        "  case {}: {} entries, complete and current as of the checkpoint of size {} (index proof), each signed by an officer authorized at that entry",
        c.id,
        c.entries.len(),
        c.size
    )?;
    for e in &c.entries {
        let date = event_date(&e.entry.event).map_or_else(String::new, |d| d.to_string());
        outln!(
            "    entry {:>8}  {:<10}  {:<22}  signed by {}",
            e.seq,
            date,
            e.entry.event.name(),
            officer_name(c, &e.entry.signer)
        )?;
    }
    Ok(())
}

/// The date an event is about (received, held, due…), for the verified timeline.
fn event_date(e: &Event) -> Option<Date> {
    Some(match e {
        Event::ComplaintReceived(x) => x.received_on,
        Event::InspectionOpened(x) => x.opened_on,
        Event::HearingHeld(x) => x.held_on,
        Event::ComplianceDeadlineSet(x) => x.due_on,
        Event::DeadlineExtended(x) => x.due_on,
        Event::ComplianceConfirmed(x) => x.confirmed_on,
        Event::SanctionNotified(x) => x.notified_on,
        Event::AuthoritiesNotified(x) => x.notified_on,
        Event::CaseClosed(x) => x.closed_on,
        _ => return None,
    })
}
