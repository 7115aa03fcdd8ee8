//! `sijil import`: a clerk's spreadsheet export (docs/FORMAT.md §5.1) as one append.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use sijil_register::import::{check_rows, parse_import, Import, ImportError, MAX_RULE_ERRORS};
use sijil_register::{read_private_key, BatchStep, RegisterWriter};

use super::append::{as_entries, batch_bar, events};
use super::publish;
use super::{location, now_ms, register_failure};
use crate::flags::ImportArgs;
use crate::output::{errln, try_print};
use crate::{Failure, EXIT_COMMITTED};

pub fn import(a: ImportArgs) -> Result<(), Failure> {
    // Read and convert every row before taking the lock: a bad sheet costs nothing.
    let officer = read_private_key(&a.key).map_err(register_failure)?;
    let (cases_name, cases) = read_bytes(&a.cases)?;
    let (events_name, events_bytes) = read_bytes(&a.events)?;
    let import = match parse_import(&cases_name, &cases, &events_name, &events_bytes) {
        Ok(i) => i,
        // Bad input files: exit 2, as `append`'s unreadable lines. The rules are checked once
        // every row reads: a row that does not read would make the rows after it of its case
        // look wrong.
        Err(errors) => return Err(Failure::usage(listed(&errors, UNREADABLE))),
    };
    // Under the lock, before anything is signed: never sign behind the publication.
    let (mut w, publication) =
        location::open_checked(&a.dir, a.private.as_deref(), None, !a.dry_run)?;
    let before = w.size();
    let bar = batch_bar(import.drafts.len());
    if let Some(bar) = bar.clone() {
        w.set_progress(Box::new(move |step, done, total| {
            let label = match step {
                BatchStep::Signing => "signing",
                BatchStep::Checking => "checking the rules",
                BatchStep::Committing => "writing and syncing",
            };
            bar.set_message(label);
            if step != BatchStep::Committing && (done == total || done % 512 == 1) {
                bar.set_length(total);
                bar.set_position(done);
            }
        }));
    }
    let result = run(&mut w, &a, &import, &officer);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let result = result.map(|()| w.flush_snapshot());
    publish::after(publication.as_ref(), &mut w, before, result)
}

/// The dry run, or the import's one commit and its report.
fn run(
    w: &mut RegisterWriter,
    a: &ImportArgs,
    import: &Import,
    officer: &sijil_core::note::Signer,
) -> Result<(), Failure> {
    let rows = import.drafts.len() as u64;
    if a.dry_run {
        let errors =
            check_rows(w, import, officer, now_ms(), a.expect_size).map_err(register_failure)?;
        if !errors.is_empty() {
            return Err(Failure::rejected(listed(&errors, REFUSED)));
        }
        let seqs = w.size()..w.size() + rows;
        let _ = try_print(format_args!(
            "Dry run: the {} pass the register's rules and would be recorded {}; the log would then have {} entries. Nothing was written.\n{}",
            events(rows),
            as_entries(&seqs),
            seqs.end + 1,
            allocations(w, &a.cases.display().to_string(), "would open")
        ));
        return Ok(());
    }
    // The commit checks the batch as the dry run does; only when it refuses a row are the
    // other rows checked too, so that a good import is signed and checked once.
    let report = match w.append(import.drafts.clone(), officer, now_ms(), a.expect_size) {
        Ok(r) => r,
        Err(
            e @ (sijil_register::Error::Rejected { .. }
            | sijil_register::Error::InvalidEvent { .. }),
        ) => {
            let errors = check_rows(w, import, officer, now_ms(), a.expect_size)
                .map_err(register_failure)?;
            if errors.is_empty() {
                // Not expected (the same batch, the same rules): say the refusal as it came.
                return Err(register_failure(e));
            }
            return Err(Failure::rejected(listed(&errors, REFUSED)));
        }
        Err(e) => return Err(register_failure(e)),
    };
    let cp = &report.checkpoint.checkpoint;
    let cases_name = a.cases.display().to_string();
    let cases = import.rows.iter().filter(|r| r.file == cases_name).count();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Imported {} (cases opened: {cases}, events on cases: {}) {}; the log now has {} entries.",
        events(rows),
        rows as usize - cases,
        as_entries(&report.seqs),
        cp.size
    );
    out.push_str(&allocations(w, &cases_name, "opened"));
    out.push_str(&String::from_utf8_lossy(&report.checkpoint.bytes));
    match try_print(format_args!("{out}")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure {
            code: EXIT_COMMITTED,
            error: anyhow::anyhow!(
                "the import IS committed ({}, the log is now at size {}; do not import it again), but its result could not be written to standard output: {e}",
                as_entries(&report.seqs),
                cp.size
            ),
        }),
    }
}

/// The case numbers the register allocated for `auto` / `auto:KEY`, one line each (only a
/// cases row opens a case, so each names a row of the cases file).
fn allocations(w: &RegisterWriter, cases_name: &str, verb: &str) -> String {
    let mut out = String::new();
    for al in w.allocated() {
        let asked = al
            .label
            .as_ref()
            .map_or_else(|| "auto".to_string(), |l| format!("auto:{l}"));
        let _ = writeln!(
            out,
            "{cases_name}: row {}: {asked} {verb} case {} (entry {})",
            al.line, al.case, al.seq
        );
    }
    out
}

const UNREADABLE: &str = "cannot be read";
const REFUSED: &str = "refused by the register's rules";

/// Prints every error on standard error, one line each (`FILE: row N, column C: …`), and
/// returns the summary the command fails with.
fn listed(errors: &[ImportError], what: &str) -> anyhow::Error {
    for e in errors {
        errln!("{e}");
    }
    let mut rows: Vec<(&str, usize)> = errors.iter().map(|e| (e.file.as_str(), e.row)).collect();
    rows.dedup();
    let n = rows.len();
    let more = if what == REFUSED && errors.len() == MAX_RULE_ERRORS {
        format!(" (the first {MAX_RULE_ERRORS} refusals; fix them and check again)")
    } else {
        String::new()
    };
    anyhow::anyhow!(
        "{n} row{} {what}{more}, listed above; nothing was written",
        if n == 1 { "" } else { "s" },
    )
}

/// A file's bytes and the name its errors give.
fn read_bytes(path: &Path) -> Result<(String, Vec<u8>), Failure> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok((path.display().to_string(), bytes))
}
