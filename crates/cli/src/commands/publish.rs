//! `sijil publish DIR [DEST]` (sijil_publish): the register's public files to a directory or to
//! S3-compatible storage, verified, create-if-absent, the checkpoint last; and the register's
//! remembered publication ([`Publication`], issue 14): checked before every command that
//! signs, brought up to date after every commit.

use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use sijil_core::storage::DirTiles;
use sijil_publish::{CheckpointOutcome, Destination, PublishError, PublishOptions, PublishReport};
use sijil_register::RegisterWriter;

use super::verifier_arg;
use crate::flags::PublishArgs;
use crate::output::{errln, outln};
use crate::{Failure, EXIT_COMMITTED};

pub fn publish(mut a: PublishArgs) -> Result<(), Failure> {
    if super::location::is_postgres(&a.dir) {
        // The copy first adopts what the database committed (a batch committed there whose
        // publication a crash stopped), then it is published as a directory is.
        let copy = super::location::private_dir(&a.dir, a.private.as_deref())?.to_path_buf();
        drop(super::location::open_writer(&a.dir, Some(&copy), None)?);
        a.dir = copy;
    }
    if a.forget {
        let had = sijil_publish::remembered(&a.dir).map_err(publish_failure)?;
        sijil_publish::forget(&a.dir).map_err(publish_failure)?;
        match had {
            Some(dest) => outln!(
                "{} no longer publishes to {dest} after its commits (what is there stays)",
                a.dir.display()
            )?,
            None => outln!("{} had no publication destination", a.dir.display())?,
        }
        return Ok(());
    }
    let dest_text = match &a.dest {
        Some(d) => d.clone(),
        None => sijil_publish::remembered(&a.dir)
            .map_err(publish_failure)?
            .ok_or_else(|| {
                Failure::usage(anyhow::anyhow!(
                    "{} remembers no publication destination: give DEST (and --remember to keep it), or create the register with `sijil init --publish DEST`",
                    a.dir.display()
                ))
            })?,
    };
    let verifier = a.key.as_deref().map(verifier_arg).transpose()?;
    let dest = Destination::parse(&dest_text).map_err(Failure::usage)?;
    let opts = PublishOptions {
        verifier,
        verify_existing: a.verify_existing,
        incremental: a.incremental,
        concurrency: a.concurrency.max(1),
    };
    let runtime = runtime()?;
    let bar = progress_bar("objects");
    let started = std::time::Instant::now();
    let result = runtime.block_on(sijil_publish::publish(
        &a.dir,
        &dest,
        &opts,
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    ));
    bar.finish_and_clear();
    let report = result.map_err(publish_failure)?;
    let secs = started.elapsed().as_secs_f64();
    let cp = &report.checkpoint.checkpoint;
    let outcome = match report.checkpoint_outcome {
        CheckpointOutcome::Written => "written",
        CheckpointOutcome::NewSignatures => "new-signatures",
        CheckpointOutcome::Unchanged => "unchanged",
    };
    if a.json {
        let out = serde_json::json!({
            "destination": dest.name(),
            "remembered": a.remember,
            "origin": cp.origin,
            "from": report.from,
            "tree_size": cp.size,
            "root": cp.root.to_base64(),
            "objects": report.planned,
            "written": report.written,
            "skipped": report.skipped,
            "bytes": report.bytes,
            "deleted": report.deleted,
            "checkpoint": outcome,
            "seconds": secs,
        });
        outln!("{out}")?;
    } else {
        let sizes = match report.from {
            Some(n) => format!("size {n} -> {}", cp.size),
            None => format!("size {} (its first publication)", cp.size),
        };
        match report.checkpoint_outcome {
            CheckpointOutcome::Unchanged => {
                outln!("{} is up to date (size {})", dest.name(), cp.size)?
            }
            CheckpointOutcome::NewSignatures => outln!(
                "published {} to {}: same tree (size {}), checkpoint with new signature lines",
                a.dir.display(),
                dest.name(),
                cp.size
            )?,
            CheckpointOutcome::Written => {
                outln!("published {} to {}: {sizes}", a.dir.display(), dest.name())?
            }
        }
        outln!(
            "  {} objects written ({} bytes), {} already there, {} erased texts deleted",
            report.written,
            report.bytes,
            report.skipped,
            report.deleted
        )?;
        outln!("  tree size {}  root {}", cp.size, cp.root)?;
    }
    errln!("({secs:.2} s)");
    if a.remember {
        // Only after a publication that succeeded: a destination that holds another history
        // would otherwise stop every later commit.
        let kept = sijil_publish::remember(&a.dir, &dest_text).map_err(publish_failure)?;
        errln!(
            "{} now publishes to {kept} after each commit",
            a.dir.display()
        );
    }
    Ok(())
}

/// A small runtime for the object store's client.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?)
}

/// A register's remembered publication destination (`private/publish`, issue 14): every
/// command that commits (`append`, `import`, `officers rotate`, `log-key rotate`, `sijil
/// sequencer` after each batch) checks it before signing ([`Publication::check_writer`]) and
/// publishes to it after its commit ([`Publication::after`]).
#[derive(Debug)]
pub struct Publication {
    dest: Destination,
    runtime: Runtime,
}

/// A runtime that may be dropped anywhere, also inside another runtime's task (the sequencer
/// holds a [`Publication`]), where dropping a tokio runtime would block, which tokio refuses:
/// it shuts down in the background.
#[derive(Debug)]
struct Runtime(Option<tokio::runtime::Runtime>);

impl Runtime {
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        match &self.0 {
            Some(rt) => rt.block_on(f),
            None => unreachable!("the runtime is taken only when it is dropped"),
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Publication {
    /// The destination `dir` remembers, if any, without checking it.
    ///
    /// # Errors
    /// Exit 2: the file cannot be read, or does not hold a destination we can use.
    pub fn remembered(dir: &Path) -> Result<Option<Publication>, Failure> {
        let Some(text) = sijil_publish::remembered(dir).map_err(publish_failure)? else {
            return Ok(None);
        };
        let dest = Destination::parse(&text).map_err(|e| {
            Failure::usage(anyhow::Error::new(e).context(format!(
                "{} (the register's publication destination)",
                sijil_publish::remembered_path(dir).display()
            )))
        })?;
        Ok(Some(Publication {
            dest,
            runtime: Runtime(Some(runtime()?)),
        }))
    }

    /// [`sijil_publish::check_before_signing`] of `w`'s checkpoint.
    ///
    /// # Errors
    /// As [`sijil_publish::check_before_signing`].
    pub fn check_writer(&self, w: &RegisterWriter) -> Result<Option<u64>, PublishError> {
        let tiles = DirTiles::new(w.layout().clone());
        self.runtime.block_on(sijil_publish::check_before_signing(
            &self.dest,
            w.layout().root(),
            w.checkpoint(),
            &tiles,
        ))
    }

    /// The failure of a check before signing.
    pub fn refusal(&self, e: PublishError) -> Failure {
        if e.is_verification_failure() {
            Failure::rejected(e)
        } else {
            Failure::usage(anyhow::Error::new(e).context(format!(
                "cannot read what {} publishes, so nothing was signed (try again when it can be reached, or stop publishing there: `sijil publish DIR --forget`)",
                self.dest.name()
            )))
        }
    }

    /// Publishes the register at `dir` incrementally (only what is new since the
    /// destination's checkpoint, the checkpoint last).
    ///
    /// # Errors
    /// As [`sijil_publish::publish`].
    pub fn publish(&self, dir: &Path) -> Result<PublishReport, PublishError> {
        let opts = PublishOptions {
            incremental: true,
            ..PublishOptions::default()
        };
        self.runtime.block_on(sijil_publish::publish(
            dir,
            &self.dest,
            &opts,
            &mut |_, _| {},
        ))
    }

    /// Publishes what `w` just committed: [`sijil_publish::publish_committed`] with `w`'s
    /// checkpoint (the view is not loaded; what is new is verified against the checkpoint).
    ///
    /// # Errors
    /// As [`sijil_publish::publish`].
    pub fn publish_committed(&self, w: &RegisterWriter) -> Result<PublishReport, PublishError> {
        self.runtime.block_on(sijil_publish::publish_committed(
            w.layout().root(),
            &self.dest,
            w.checkpoint(),
            sijil_publish::DEFAULT_CONCURRENCY,
        ))
    }

    /// After a command's work (`result`): when it committed (the log grew past `before`, or
    /// it failed after its commit point), publishes the new entries. A publication that fails
    /// does not undo the commit: exit 4 (README, "Exit codes") saying that the batch IS
    /// committed and how it gets published.
    ///
    /// # Errors
    /// `result`'s failure, or exit 4 for a failed publication.
    pub fn after(
        &self,
        w: &mut RegisterWriter,
        before: u64,
        result: Result<(), Failure>,
    ) -> Result<(), Failure> {
        let after_commit = matches!(&result, Err(f) if f.code == EXIT_COMMITTED);
        if w.size() <= before && !after_commit {
            return result;
        }
        let dir = w.layout().root().to_path_buf();
        let mut published = self.publish_committed(w);
        // Another writer of the database may have published a larger checkpoint (or be
        // publishing one) that holds this batch: the copy, brought up to the database,
        // publishes it or finds it already there.
        let mut rounds = 0;
        while published.is_err() && w.commit_point().is_some() && rounds < 3 {
            rounds += 1;
            if w.catch_up().is_err() {
                break;
            }
            published = self.publish_committed(w);
        }
        match published {
            Ok(report) => {
                errln!(
                    "published to {}: size {} ({} objects written)",
                    self.dest.name(),
                    report.checkpoint.checkpoint.size,
                    report.written
                );
                result
            }
            Err(e) => {
                let failure = Failure {
                    code: EXIT_COMMITTED,
                    error: anyhow::Error::new(e).context(format!(
                        "the batch IS committed (the log is now at size {}; do not append it again), but publishing it to {} failed; the next command that commits, or `sijil publish {}`, publishes it",
                        w.size(),
                        self.dest.name(),
                        dir.display()
                    )),
                };
                match result {
                    Ok(()) => Err(failure),
                    // Already exit 4: that message stays, this one is said too.
                    Err(f) => {
                        errln!("sijil: error: {}", crate::error_chain(&failure.error));
                        Err(f)
                    }
                }
            }
        }
    }
}

/// [`Publication::after`] when there is a publication.
pub fn after(
    publication: Option<&Publication>,
    w: &mut RegisterWriter,
    before: u64,
    result: Result<(), Failure>,
) -> Result<(), Failure> {
    match publication {
        Some(p) => p.after(w, before, result),
        None => result,
    }
}

/// README "Exit codes": 1 when something failed verification, the destination holds other
/// bytes, or publishing would roll it back; 2 for usage and I/O.
fn publish_failure(e: PublishError) -> Failure {
    if e.is_verification_failure() {
        Failure::rejected(e)
    } else {
        Failure::usage(e)
    }
}

/// A bar on a terminal (hidden otherwise), counting objects.
/// A progress bar on stderr counting `unit`s (hidden when stderr is not a terminal).
pub(super) fn progress_bar(unit: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}})"
    )) {
        bar.set_style(style);
    }
    bar
}
