//! `sijil log-key rotate`: the log key names its successor inside the log (docs/FORMAT.md
//! §3.1, docs/OPERATIONS.md "Rotating the log key").

use anyhow::anyhow;
use sijil_core::note::Signer;
use sijil_register::read_private_key;

use super::publish;
use super::{now_ms, register_failure};
use crate::flags::{LogKeyAction, LogKeyArgs, LogKeyRotateArgs};
use crate::output::outln;
use crate::Failure;

pub fn log_key(a: LogKeyArgs) -> Result<(), Failure> {
    match a.action {
        LogKeyAction::Rotate(r) => rotate(r),
    }
}

fn rotate(a: LogKeyRotateArgs) -> Result<(), Failure> {
    // Under the lock, before anything is signed: never sign behind the publication.
    let (mut w, publication) =
        super::location::open_checked(&a.dir, a.private.as_deref(), None, true)?;
    let before = w.size();
    let origin = w.checkpoint().checkpoint.origin.clone();
    let next = match &a.new_key {
        Some(path) => read_private_key(path).map_err(register_failure)?,
        None => Signer::generate(&origin)
            .map_err(|e| Failure::usage(anyhow!("cannot make a key named {origin:?}: {e}")))?,
    };
    let old = w.log_key().verifier();
    let report = w
        .rotate_log_key(next, &a.reason, now_ms())
        .map_err(register_failure)?;
    let new = w.log_key().verifier();
    let seq = report.seqs.start;
    let size = report.checkpoint.checkpoint.size;
    // Committed: a closed output is not worth an error any more.
    if a.json {
        let _ = outln!(
            "{}",
            serde_json::json!({
                "seq": seq,
                "old_key": old.to_string(),
                "new_key": new.to_string(),
                "tree_size": size,
            })
        );
    } else {
        let _ = outln!(
            "Rotated the log key at entry {seq}: the log now has {size} entries, and its checkpoints are signed by\n  {new}\n(the old key {old} is retired; private/log.key holds the new key).\nGive the new verifier key to witnesses and monitors; verifiers holding the old key follow the rotation."
        );
    }
    publish::after(publication.as_ref(), &mut w, before, Ok(()))
}
