//! `sijil evidence check FILE --key VKEY`.

use anyhow::Context as _;
use sijil_client::evidence::Evidence;

use super::verifier_arg;
use crate::flags::{EvidenceAction, EvidenceArgs};
use crate::output::outln;
use crate::Failure;

pub fn evidence(a: EvidenceArgs) -> Result<(), Failure> {
    let EvidenceAction::Check(a) = a.action;
    let verifier = verifier_arg(&a.key)?;
    let bytes = std::fs::read(&a.file).with_context(|| format!("reading {}", a.file.display()))?;
    let evidence = Evidence::parse(&bytes)
        .map_err(|e| Failure::usage(anyhow::anyhow!("{}: {e}", a.file.display())))?;
    match evidence.check(&verifier) {
        Ok(fork) => {
            if a.json {
                outln!(
                    "{}",
                    serde_json::json!({
                        "fork": true,
                        "origin": evidence.origin,
                        "kind": evidence.kind,
                        "what": fork.to_string(),
                        "old": {"source": evidence.old.source, "seen_at": evidence.old.seen_at},
                        "new": {"source": evidence.new.source, "seen_at": evidence.new.seen_at},
                    })
                )?;
            } else {
                outln!(
                    "FORK PROVEN for {} (both checkpoints signed by {verifier}):",
                    evidence.origin
                )?;
                outln!("  {fork}")?;
                outln!(
                    "  seen: {} at {}",
                    evidence.old.source,
                    evidence.old.seen_at
                )?;
                outln!(
                    "  and:  {} at {}",
                    evidence.new.source,
                    evidence.new.seen_at
                )?;
            }
            Ok(())
        }
        Err(e) => Err(Failure::rejected(anyhow::anyhow!(
            "{}: does not prove a fork: {e}",
            a.file.display()
        ))),
    }
}
