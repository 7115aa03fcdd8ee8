//! `sijil cosign DIR --witness URL=VKEY…` (sijil_client::cosign).

use sijil_client::cosign::{
    cosign as run_cosign, default_evidence_dir, WitnessOutcome, WitnessTarget,
};

use super::now_ms;
use super::remote::{client_failure, http_client};
use crate::flags::CosignArgs;
use crate::output::outln;
use crate::Failure;

pub fn cosign(a: CosignArgs) -> Result<(), Failure> {
    let witnesses = a
        .witness
        .iter()
        .map(|w| WitnessTarget::parse(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::usage)?;
    let client = http_client(&a.net)?;
    let report = run_cosign(
        &a.dir,
        &witnesses,
        &client,
        now_ms(),
        &default_evidence_dir(&a.dir),
    )
    .map_err(client_failure(&a.dir.display().to_string()))?;
    let cp = &report.checkpoint.checkpoint;
    let failed = report
        .outcomes
        .iter()
        .filter(|(_, o)| matches!(o, WitnessOutcome::Failed(_)))
        .count();
    if a.json {
        let outcomes: Vec<serde_json::Value> = report
            .outcomes
            .iter()
            .map(|(url, o)| match o {
                WitnessOutcome::Cosigned(line) => {
                    serde_json::json!({"witness": url, "cosigned": true, "name": line.name})
                }
                WitnessOutcome::Failed(e) => {
                    serde_json::json!({"witness": url, "cosigned": false, "error": e.to_string()})
                }
            })
            .collect();
        outln!(
            "{}",
            serde_json::json!({"tree_size": cp.size, "root": cp.root.to_base64(), "witnesses": outcomes})
        )?;
    } else {
        for (url, o) in &report.outcomes {
            match o {
                WitnessOutcome::Cosigned(line) => outln!("{url}: cosigned by {}", line.name)?,
                WitnessOutcome::Failed(e) => outln!("{url}: FAILED: {e}")?,
            }
        }
        outln!(
            "checkpoint (size {}) now carries {} signature lines",
            cp.size,
            report.checkpoint.note.signatures.len()
        )?;
    }
    if failed > 0 {
        return Err(Failure::rejected(anyhow::anyhow!(
            "{failed} of {} witnesses did not cosign",
            report.outcomes.len()
        )));
    }
    Ok(())
}
