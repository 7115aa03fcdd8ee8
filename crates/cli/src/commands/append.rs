//! `sijil append`.

use std::fmt::Write as _;

use sijil_register::{parse_events, read_private_key, BatchStep, RegisterWriter};

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
    let bar = batch_bar(drafts.len());
    if let Some(bar) = bar.clone() {
        w.set_progress(Box::new(move |step, done, total| {
            let label = match step {
                BatchStep::Signing => "signing",
                BatchStep::Checking => "checking the rules",
                BatchStep::Committing => "writing and syncing",
            };
            if step == BatchStep::Committing {
                bar.set_message(label);
            } else if done == 1 || done == total || done % 512 == 0 {
                bar.set_message(label);
                bar.set_length(total);
                bar.set_position(done);
            }
        }));
    }
    let result = run(&mut w, &a, drafts, &officer);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result.map(|()| {
        // The batch is acknowledged: now the view snapshot, if one is due (slow on a big log).
        w.flush_snapshot();
    })
}

/// A progress bar on stderr for a batch of `events`, when stderr is a terminal and the batch
/// is big enough to take a while.
fn batch_bar(events: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal as _;
    if events < 1000 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(events as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} {msg} [{elapsed_precise}] {wide_bar} {pos}/{len} events",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// The dry run, or the append and its report.
fn run(
    w: &mut RegisterWriter,
    a: &AppendArgs,
    drafts: Vec<sijil_register::Draft>,
    officer: &sijil_core::note::Signer,
) -> Result<(), Failure> {
    if a.dry_run {
        let (seqs, tree_size) = w
            .check_append(drafts, officer, now_ms(), a.expect_size)
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
        .append(drafts, officer, now_ms(), a.expect_size)
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
