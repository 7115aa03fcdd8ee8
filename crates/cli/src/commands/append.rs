//! `sijil append`.

use std::fmt::Write as _;

use sijil_register::{parse_events, read_private_key, RegisterWriter};

use super::{now_ms, read_input, register_failure};
use crate::flags::AppendArgs;
use crate::output::{errln, try_print};
use crate::{Failure, EXIT_COMMITTED};

pub fn append(a: AppendArgs) -> Result<(), Failure> {
    // Read and parse everything before taking the lock: a bad file costs nothing.
    let officer = read_private_key(&a.key).map_err(register_failure)?;
    let log_key = a
        .log_key
        .as_deref()
        .map(read_private_key)
        .transpose()
        .map_err(register_failure)?;
    let (name, text) = read_input(&a.events)?;
    let drafts = parse_events(&name, &text)?;
    let mut w = RegisterWriter::open(&a.dir, log_key).map_err(register_failure)?;
    if a.dry_run {
        let (seqs, tree_size) = w
            .check_append(drafts, &officer, now_ms(), a.expect_size)
            .map_err(register_failure)?;
        let (first, last) = (seqs.start, seqs.end - 1);
        let out = if a.json {
            format!(
                "{}\n",
                serde_json::json!({
                    "dry_run": true,
                    "first_seq": first,
                    "last_seq": last,
                    "tree_size": tree_size,
                })
            )
        } else {
            format!(
                "dry run: the {} events pass the register's rules and would take seqs {first}..={last} (the log would be {tree_size} entries); nothing was written\n",
                seqs.end - seqs.start
            )
        };
        // Nothing was written: a closed output is not worth an error.
        let _ = try_print(format_args!("{out}"));
        return Ok(());
    }
    let report = w
        .append(drafts, &officer, now_ms(), a.expect_size)
        .map_err(register_failure)?;
    // The batch is committed: from here on, nothing may look like a failure of the commit.
    let cp = &report.checkpoint.checkpoint;
    let (first, last) = (report.seqs.start, report.seqs.end - 1);
    let mut out = String::new();
    if a.json {
        let json = serde_json::json!({
            "first_seq": first,
            "last_seq": last,
            "tree_size": cp.size,
            "root": cp.root.to_base64(),
            "checkpoint": String::from_utf8_lossy(&report.checkpoint.bytes),
        });
        let _ = writeln!(out, "{json}");
    } else {
        let _ = writeln!(
            out,
            "appended seqs {first}..={last} ({} events)",
            report.seqs.end - report.seqs.start
        );
        out.push_str(&String::from_utf8_lossy(&report.checkpoint.bytes));
    }
    let printed = try_print(format_args!("{out}"));
    // The batch is acknowledged: now the view snapshot, if one is due (slow on a big log).
    w.flush_snapshot();
    match printed {
        Ok(()) => Ok(()),
        // The reader went away (`sijil append … | true`): the command did its work.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            errln!(
                "sijil: note: standard output was closed; the batch IS committed: seqs {first}..={last}, tree size {}",
                cp.size
            );
            Ok(())
        }
        Err(e) => Err(Failure {
            code: EXIT_COMMITTED,
            error: anyhow::anyhow!(
                "the batch IS committed (seqs {first}..={last}, the log is now at size {}; do not append it again), but its result could not be written to standard output: {e}",
                cp.size
            ),
        }),
    }
}
