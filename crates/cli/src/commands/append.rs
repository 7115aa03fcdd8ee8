//! `sijil append`.

use std::fmt::Write as _;

use sijil_register::batch::Allocation;
use sijil_register::{parse_events, read_private_key, BatchStep, RegisterWriter};

use super::publish;
use super::{location, now_ms, read_input, register_failure};
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
    let lines: Vec<usize> = drafts.iter().map(|d| d.line).collect();
    // Under the lock, before anything is signed: never sign behind the publication.
    let (mut w, publication) =
        location::open_checked(&a.dir, a.private.as_deref(), log_key, !a.dry_run)?;
    let before = w.size();
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
    let result = run(&mut w, &a, drafts, &officer).map_err(|f| at_line(f, &name, &lines));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let result = result.map(|()| {
        // The batch is acknowledged: now the view snapshot, if one is due (slow on a big log).
        w.flush_snapshot();
    });
    publish::after(publication.as_ref(), &mut w, before, result)
}

/// A batch's event refused by the rules or unsignable: its message names the events file's
/// line first (`FILE:LINE:`, counted from 1 as an editor does), as a parse error does.
fn at_line(f: Failure, name: &str, lines: &[usize]) -> Failure {
    use sijil_register::Error;
    let index = match f.error.downcast_ref::<Error>() {
        Some(Error::Rejected { index, .. } | Error::InvalidEvent { index, .. }) => *index,
        _ => return f,
    };
    match lines.get(index) {
        Some(&line) if line > 0 => Failure {
            code: f.code,
            error: f.error.context(format!("{name}:{line}")),
        },
        _ => f,
    }
}

/// `n event` or `n events`.
pub fn events(n: u64) -> String {
    format!("{n} event{}", if n == 1 { "" } else { "s" })
}

/// `as entry 5` or `as entries 5 to 7`.
pub fn as_entries(seqs: &std::ops::Range<u64>) -> String {
    let (first, last) = (seqs.start, seqs.end.saturating_sub(1));
    if first == last {
        format!("as entry {first}")
    } else {
        format!("as entries {first} to {last}")
    }
}

/// The lines that say which case numbers a batch allocated (none when it asked for none):
/// `FILE:LINE: "auto:KEY" opened case 2024-0008 (entry 4)`, for `append` and `submit`.
pub(super) fn allocation_lines(allocated: &[Allocation], name: &str, verb: &str) -> String {
    let mut out = String::new();
    for al in allocated {
        let asked = match &al.label {
            Some(l) => format!("\"auto:{l}\""),
            None => "\"auto\"".to_string(),
        };
        let _ = writeln!(
            out,
            "{name}:{}: {asked} {verb} case {} (entry {})",
            al.line, al.case, al.seq
        );
    }
    out
}

/// A progress bar on stderr for a batch of `events`, when stderr is a terminal and the batch
/// is big enough to take a while.
pub(super) fn batch_bar(events: usize) -> Option<indicatif::ProgressBar> {
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

/// The events file's name as errors and reports give it.
fn name_of(a: &AppendArgs) -> String {
    if a.events == std::path::Path::new("-") {
        "<stdin>".into()
    } else {
        a.events.display().to_string()
    }
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
        let n = seqs.end - seqs.start;
        let out = if a.json {
            format!(
                "{}\n",
                serde_json::json!({
                    "dry_run": true,
                    "first_seq": first,
                    "last_seq": last,
                    "tree_size": tree_size,
                    "allocated": w.allocated(),
                })
            )
        } else {
            format!(
                "Dry run: the {} pass the register's rules and would be recorded {}; the log would then have {tree_size} entries. Nothing was written.\n{}",
                events(n),
                as_entries(&seqs),
                allocation_lines(w.allocated(), &name_of(a), "would open")
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
            "allocated": w.allocated(),
        });
        let _ = writeln!(out, "{json}");
    } else {
        // The entry after the batch is the log's own IndexCommitted: the size counts it.
        let _ = writeln!(
            out,
            "Appended {} {}; the log now has {} entries.",
            events(report.seqs.end - report.seqs.start),
            as_entries(&report.seqs),
            cp.size
        );
        out.push_str(&allocation_lines(w.allocated(), &name_of(a), "opened"));
        out.push_str(&String::from_utf8_lossy(&report.checkpoint.bytes));
    }
    let printed = try_print(format_args!("{out}"));
    match printed {
        Ok(()) => Ok(()),
        // The reader went away (`sijil append … | true`): the command did its work.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            errln!(
                "sijil: note: standard output was closed; the batch IS committed {}; the log is now at size {}",
                as_entries(&report.seqs),
                cp.size
            );
            Ok(())
        }
        Err(e) => Err(Failure {
            code: EXIT_COMMITTED,
            error: anyhow::anyhow!(
                "the batch IS committed ({}; the log is now at size {}; do not append it again), but its result could not be written to standard output: {e}",
                as_entries(&report.seqs),
                cp.size
            ),
        }),
    }
}
