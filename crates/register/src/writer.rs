//! Creating a register and appending events to it.

use std::path::{Path, PathBuf};

use sijil_core::blob::blob_path;
use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::durable;
use sijil_core::entry::{Entry, UnsignedEntry};
use sijil_core::event::{
    Event, IndexCommitted, LogKeyRotated, Officer, PublicKey, RegisterOpened, Role, TextDigest,
};
use sijil_core::note::{Signer, Verifier};
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::writer::{Writer, WriterError};
use sijil_core::{leaf_hash, Hash};
use sijil_projector::View;

use crate::batch::{
    case_number, cases_of, needs_of, sign_batch_allocating, Allocation, CaseHead, Head, Needs,
    Numbering, SignedBatch,
};
use crate::input::Draft;
use crate::pending::{self, Journal};
use crate::reader::{load_view, load_view_from_snapshot, read_entries};
use crate::submission::{check_clock, CheckedBatch, SubmissionError};
use crate::Error;

/// A snapshot of the view is written once `max(SNAPSHOT_EVERY, size / 8)` entries were
/// appended since the last: a restart replays at most that many, and the snapshot's cost
/// (266 ms for a 1,000,000-entry view) stays a small share of the appends it covers.
const SNAPSHOT_EVERY: u64 = 16_384;

/// What `sijil init` needs.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// The log's origin, e.g. `registre.example.ma/plaintes`; also the log key's name.
    pub origin: String,
    pub title: String,
    pub authority: String,
    /// The first officer (an admin), who signs the genesis entry.
    pub officer_name: String,
    /// `recorded_at` of the genesis entry (Unix ms).
    pub now_ms: i64,
    /// Use this log key instead of generating one (its name must be the origin).
    pub log_key: Option<Signer>,
    /// Use this officer key instead of generating one (its name is the officer's name).
    pub officer_key: Option<Signer>,
}

/// What `sijil init` made. The caller stores the officer key; the log key is in
/// `private/log.key`.
#[derive(Debug)]
pub struct InitReport {
    pub log_verifier: Verifier,
    pub officer: Signer,
    pub checkpoint: SignedCheckpoint,
}

/// Creates a register at `dir`: a new log key (named by the origin, saved in
/// `private/log.key`), a new admin officer key, and the genesis `RegisterOpened` entry
/// signed by that officer and checked by the register's rules.
///
/// # Errors
/// [`Error::InvalidEvent`] for an origin that cannot be a key name (whitespace, `+`),
/// [`Error::Rejected`] if the genesis breaks a rule, [`Error::Writer`] (the directory exists
/// and is not empty, I/O).
pub fn init(dir: &Path, opts: InitOptions) -> Result<InitReport, Error> {
    let invalid = |message: String| Error::InvalidEvent {
        index: 0,
        event: "RegisterOpened",
        message,
    };
    let log_key = match opts.log_key {
        Some(k) if k.name() != opts.origin => {
            return Err(invalid(format!(
                "the log key is named {:?}; it must be named by the origin {:?}",
                k.name(),
                opts.origin
            )))
        }
        Some(k) => k,
        None => Signer::generate(&opts.origin)
            .map_err(|e| invalid(format!("origin {:?}: {e}", opts.origin)))?,
    };
    let officer = match opts.officer_key {
        Some(k) if k.name() != opts.officer_name => {
            return Err(invalid(format!(
                "the officer key is named {:?}, not {:?}",
                k.name(),
                opts.officer_name
            )))
        }
        Some(k) => k,
        None => Signer::generate(&opts.officer_name)
            .map_err(|e| invalid(format!("officer name {:?}: {e}", opts.officer_name)))?,
    };
    let event = Event::RegisterOpened(RegisterOpened {
        origin: opts.origin.clone(),
        title: opts.title,
        authority: opts.authority,
        log_key: PublicKey(log_key.public_key()),
        officers: vec![Officer {
            key: PublicKey(officer.public_key()),
            name: opts.officer_name,
            role: Role::Admin,
        }],
    });
    let unsigned = UnsignedEntry {
        seq: 0,
        prev: Hash::ZERO,
        recorded_at: opts.now_ms,
        case: None,
        event,
    };
    let (entry, bytes) = Entry::sign(unsigned, officer.signing_key(), &opts.origin)
        .map_err(|e| invalid(e.to_string()))?;
    let mut view = View::new();
    view.apply(&entry, leaf_hash(&bytes))
        .map_err(|rejection| Error::Rejected {
            index: 0,
            event: "RegisterOpened",
            rejection,
        })?;
    let leaf = leaf_hash(&bytes);
    let index = index_entry(&mut view, leaf, opts.now_ms, &log_key, &opts.origin)?;
    let log_verifier = log_key.verifier();
    let writer = Writer::create(dir, log_key, &[(entry, bytes), index], &[])?;
    let checkpoint = writer.checkpoint().clone();
    write_snapshot(writer.layout(), &view, &checkpoint)?;
    Ok(InitReport {
        log_verifier,
        officer,
        checkpoint,
    })
}

/// Signs the `IndexCommitted` entry that ends every batch (docs/FORMAT.md §10.4): the log
/// key's commitment to the index over every entry of `view`, applied to `view` with the
/// register's rules like any entry. `prev` is the leaf hash of the view's last entry.
fn index_entry(
    view: &mut View,
    prev: Hash,
    recorded_at: i64,
    log_key: &Signer,
    origin: &str,
) -> Result<(Entry, Vec<u8>), Error> {
    let seq = view.size();
    view.flush_index();
    let index = view.index();
    let event = Event::IndexCommitted(IndexCommitted {
        size: seq,
        keys: index.keys(),
        root: index.root(),
    });
    let unsigned = UnsignedEntry {
        seq,
        prev,
        recorded_at,
        case: None,
        event,
    };
    let internal = |message: String| Error::InvalidEvent {
        index: 0,
        event: "IndexCommitted",
        message,
    };
    let (entry, bytes) = Entry::sign(unsigned, log_key.signing_key(), origin)
        .map_err(|e| internal(e.to_string()))?;
    view.apply(&entry, leaf_hash(&bytes))
        .map_err(|rejection| internal(rejection.to_string()))?;
    Ok((entry, bytes))
}

/// What an append committed.
#[derive(Clone, Debug)]
pub struct AppendReport {
    /// The seqs (leaf indices) of the batch's events, in order. The batch's last leaf, the
    /// log's `IndexCommitted`, follows them: `checkpoint` covers `seqs.end + 1` entries.
    pub seqs: std::ops::Range<u64>,
    /// The new signed checkpoint.
    pub checkpoint: SignedCheckpoint,
}

/// What [`RegisterWriter::submit`] did.
#[derive(Clone, Debug)]
pub enum Submitted {
    /// The batch is committed.
    Committed(AppendReport),
    /// The batch's entries were already in the log, byte for byte (a submission sent again):
    /// nothing was written; the report gives their seqs and the current checkpoint.
    Replayed(AppendReport),
    /// A dry run: the batch would commit as `seqs`, making the log `tree_size` entries long.
    /// Nothing was written.
    Checked {
        seqs: std::ops::Range<u64>,
        tree_size: u64,
    },
}

/// A step of a batch, for [`RegisterWriter::set_progress`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchStep {
    /// Sealing and signing the officer's events (`append` only).
    Signing,
    /// Checking each entry by the register's rules.
    Checking,
    /// Writing and syncing the batch, its texts and the checkpoint (one step).
    Committing,
}

/// Where a writer reports a batch's progress: `(step, done, total)`.
pub type ProgressFn = Box<dyn FnMut(BatchStep, u64, u64) + Send>;

/// The writer of a register: the log's single writer plus the view that validates events.
pub struct RegisterWriter {
    writer: Writer,
    tiles: DirTiles,
    view: View,
    /// The size of the snapshot on disk.
    snapshot_size: u64,
    /// A snapshot is due ([`RegisterWriter::flush_snapshot`]).
    snapshot_pending: bool,
    progress: Option<ProgressFn>,
    /// The case numbers the last batch signed here allocated ([`RegisterWriter::allocated`]).
    allocated: Vec<Allocation>,
}

impl std::fmt::Debug for RegisterWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterWriter")
            .field("writer", &self.writer)
            .field("view_size", &self.view.size())
            .field("snapshot_size", &self.snapshot_size)
            .field("snapshot_pending", &self.snapshot_pending)
            .finish_non_exhaustive()
    }
}

impl Drop for RegisterWriter {
    fn drop(&mut self) {
        self.flush_snapshot();
    }
}

impl RegisterWriter {
    /// Opens the register at `dir` for appending with its log key (`private/log.key` when
    /// `log_key` is `None`): takes the lock, recovers from a crash, loads the view.
    ///
    /// # Errors
    /// [`Error::NotARegister`], [`Error::Key`] (log key missing or not a private key),
    /// [`Error::Writer`] (locked, checkpoint or tiles do not verify), [`Error::Corrupt`],
    /// [`Error::RestoredBehind`] (a restore saw a larger checkpoint: [`crate::restore`]).
    pub fn open(dir: &Path, log_key: Option<Signer>) -> Result<RegisterWriter, Error> {
        let layout = Layout::new(dir);
        if !layout.checkpoint().is_file() {
            return Err(Error::NotARegister {
                dir: dir.to_path_buf(),
            });
        }
        // Without an explicit key, the register's own: `log.key`, and `log.key.next` while a
        // rotation is in flight (its batch may have committed, or be rolled forward now).
        let explicit = log_key.is_some();
        let keys = match log_key {
            Some(k) => vec![k],
            None => {
                let mut keys = vec![read_private_key(&layout.log_key())?];
                if layout.log_key_next().is_file() {
                    keys.push(read_private_key(&layout.log_key_next())?);
                }
                keys
            }
        };
        let held = keys.first().map(|k| PublicKey(k.public_key()));
        let writer = match Writer::open_with_keys(dir, keys) {
            Ok(w) => w,
            Err(e @ WriterError::Checkpoint { .. }) => {
                // Say which key the log names, if its own entries say another than the ones
                // held (a rotation whose new key is not here).
                return Err(match (named_log_key(&layout), held) {
                    (Some((named, named_at)), Some(held)) if named != held => {
                        Error::LogKeyNotHeld {
                            named,
                            named_at,
                            held,
                        }
                    }
                    _ => e.into(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        // A restored log behind a checkpoint seen elsewhere must not sign (docs/OPERATIONS.md,
        // "Backup and restore"). Only a read, under the lock, before anything else is done.
        crate::restore::check_marker(&layout, writer.size())?;
        pending::recover(&layout, writer.size())?;
        let tiles = DirTiles::new(layout.clone());
        let cp = writer.checkpoint().clone();
        let (view, snapshot_size) = load_view_from_snapshot(&layout, &tiles, &cp.checkpoint)?;
        check_edge_blobs(&layout, &tiles, &cp, &view)?;
        // The key the committed log names is the only one that may sign (a rotation's batch is
        // signed by its new key, so the checkpoint's key and the log's agree unless the key
        // given is not the register's).
        let held = PublicKey(writer.signer().public_key());
        if let Some(r) = view.register() {
            if r.log_key != held {
                let named_at = r.log_keys.last().map_or(0, |k| k.named_at);
                return Err(Error::LogKeyNotHeld {
                    named: r.log_key,
                    named_at,
                    held,
                });
            }
        }
        if !explicit {
            finish_rotation(&layout, &held)?;
        }
        let mut w = RegisterWriter {
            writer,
            tiles,
            view,
            snapshot_size,
            snapshot_pending: false,
            progress: None,
            allocated: Vec::new(),
        };
        // If the tail replayed now is longer than an interval, save it so that the next open
        // does not replay it again (a log grown by batches each smaller than the interval
        // would otherwise replay more and more): after this run's batch, off its path.
        w.snapshot_pending = snapshot_due(snapshot_size, w.size());
        Ok(w)
    }

    /// Rotates the log key (docs/FORMAT.md §3.1, `sijil log-key rotate`): one batch holding a
    /// `LogKeyRotated` entry signed by the current key and naming `next`, then the batch's
    /// `IndexCommitted` and checkpoint signed by `next`, which this writer signs with from
    /// then on.
    ///
    /// Crash safety: `next` is written to `private/log.key.next` (0600, fsynced, renamed into
    /// place) before the batch; after the commit point it is renamed over `private/log.key`.
    /// A crash before the commit leaves the old checkpoint (or a temporary one signed by
    /// `next`, rolled forward on open); [`RegisterWriter::open`] signs with whichever key
    /// the committed log names, then finishes the swap or removes the unused `next`.
    ///
    /// # Errors
    /// [`Error::Rotation`] (`next` is not named by the origin), [`Error::Rejected`] (a rule:
    /// a key used before, an officer's key, a bad reason; nothing written), [`Error::Writer`]
    /// / [`Error::Io`] for I/O failures (reopen to recover), `AfterCommit` included.
    pub fn rotate_log_key(
        &mut self,
        next: Signer,
        reason: &str,
        now_ms: i64,
    ) -> Result<AppendReport, Error> {
        self.begin_batch()?;
        let origin = self.writer.origin().to_string();
        if next.name() != origin {
            return Err(Error::Rotation {
                message: format!(
                    "the new key is named {:?}; a log key is named by the origin {origin:?}; nothing was written",
                    next.name()
                ),
            });
        }
        let layout = self.writer.layout().clone();
        let current = self.writer.signer().clone();
        let seq = self.writer.size();
        let recorded_at = now_ms.max(self.writer.last_recorded_at());
        let unsigned = UnsignedEntry {
            seq,
            prev: self.writer.last_leaf_hash(),
            recorded_at,
            case: None,
            event: Event::LogKeyRotated(LogKeyRotated {
                new_key: PublicKey(next.public_key()),
                reason: reason.to_string(),
            }),
        };
        let invalid = |message: String| Error::InvalidEvent {
            index: 0,
            event: "LogKeyRotated",
            message,
        };
        let (entry, bytes) = Entry::sign(unsigned, current.signing_key(), &origin)
            .map_err(|e| invalid(e.to_string()))?;
        let leaf = leaf_hash(&bytes);
        if let Err(rejection) = self.view.apply(&entry, leaf) {
            self.after_refusal();
            return Err(Error::Rejected {
                index: 0,
                event: "LogKeyRotated",
                rejection,
            });
        }
        let index = match index_entry(&mut self.view, leaf, recorded_at, &next, &origin) {
            Ok(index) => index,
            Err(e) => {
                self.reload_view();
                return Err(e);
            }
        };
        let entries = vec![(entry, bytes), index];
        // The new key is durable before anything of the batch is written.
        if let Err(e) = write_key(&layout, &next) {
            self.reload_view();
            return Err(e);
        }
        self.report(BatchStep::Committing, 0, 1);
        let end = seq + entries.len() as u64;
        match self.writer.commit_rotating(&entries, &[], next.clone()) {
            Ok(_) => {}
            Err(e @ WriterError::AfterCommit { .. }) => {
                // Committed, and the writer signs with `next`; the next open finishes the swap.
                if let Err(finish) = finish_rotation(&layout, &PublicKey(next.public_key())) {
                    tracing::warn!(error = %finish, "could not finish the log key swap yet");
                }
                return Err(e.into());
            }
            Err(e) => {
                // Not committed: no temporary checkpoint may remain to be rolled forward with
                // the new key, and then the new key goes (it signed nothing published).
                let cleanup = self
                    .writer
                    .abandon_batch()
                    .map_err(Error::from)
                    .and_then(|()| Ok(durable::remove_file(&layout.log_key_next())?));
                if let Err(cleanup) = cleanup {
                    tracing::warn!(error = %cleanup, "could not clean up after the failed rotation; the next open will");
                }
                self.reload_view();
                return Err(e.into());
            }
        }
        self.report(BatchStep::Committing, 1, 1);
        finish_rotation(&layout, &PublicKey(next.public_key()))
            .map_err(|e| after_commit(end, e))?;
        if snapshot_due(self.snapshot_size, end) {
            self.snapshot_pending = true;
        }
        Ok(AppendReport {
            seqs: seq..seq + 1,
            checkpoint: self.writer.checkpoint().clone(),
        })
    }

    /// The log key this writer signs checkpoints and `IndexCommitted` entries with.
    pub fn log_key(&self) -> &Signer {
        self.writer.signer()
    }

    /// Writes the view snapshot if one is due. An append only marks it due, so that its
    /// caller can acknowledge the batch first (`sijil append` prints, then calls this); it is
    /// also written by the next append and when the writer is dropped. A snapshot is a cache:
    /// failing to write one is logged, never an error.
    pub fn flush_snapshot(&mut self) {
        // Never a view that a failed batch left ahead of the log.
        if !self.snapshot_pending || self.view.size() != self.writer.size() {
            return;
        }
        self.snapshot_pending = false;
        if save_snapshot(self.writer.layout(), &self.view, self.writer.checkpoint()) {
            self.snapshot_size = self.writer.size();
        }
    }

    pub fn size(&self) -> u64 {
        self.writer.size()
    }

    pub fn checkpoint(&self) -> &SignedCheckpoint {
        self.writer.checkpoint()
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    pub fn layout(&self) -> &Layout {
        self.writer.layout()
    }

    /// The head of the log for a batch touching `cases`: what [`sign_batch`] signs for.
    pub fn head(&self, cases: &[String]) -> Head {
        Head {
            origin: self.writer.origin().to_string(),
            size: self.writer.size(),
            last_leaf: self.writer.last_leaf_hash(),
            last_recorded_at: self.writer.last_recorded_at(),
            cases: cases
                .iter()
                .map(|id| {
                    let link = self.view.next_case_link(id);
                    (
                        id.clone(),
                        CaseHead {
                            events: link.seq,
                            head: link.prev,
                        },
                    )
                })
                .collect(),
            numbering: None,
        }
    }

    /// [`RegisterWriter::head`] with the case numbers and case events `needs` asks for, read
    /// from the view: what a batch with `"case":"auto"` or case targets is signed for. Runs
    /// under the writer's lock, so two batches never allocate the same number.
    pub fn head_for(&self, cases: &[String], needs: &Needs) -> Head {
        let mut head = self.head(cases);
        let mut numbering = Numbering::default();
        if !needs.years.is_empty() {
            // One pass over the case ids: allocation is rare next to the rest of a batch.
            for id in self.view.case_ids() {
                if let Some((year, number)) = case_number(&id) {
                    if needs.years.contains(&year) {
                        let h = numbering.highest.entry(year).or_insert(0);
                        *h = (*h).max(number);
                    }
                }
            }
        }
        if !needs.targets.is_empty() {
            // The day only matters to `overdue`, which is not read here.
            let day = sijil_core::event::Date::from_ymd(2000, 1, 1);
            for (case, seq) in &needs.targets {
                let entry = day
                    .and_then(|d| self.view.case(case, d))
                    .and_then(|c| c.timeline.get(*seq as usize).map(|t| t.seq));
                if let Some(entry) = entry {
                    numbering.events.insert((case.clone(), *seq), entry);
                }
            }
        }
        head.numbering = Some(numbering);
        head
    }

    /// The case numbers the last batch signed by [`RegisterWriter::append`] or
    /// [`RegisterWriter::check_append`] allocated for its `"case":"auto"` drafts (on success
    /// or not: a refused batch's numbers were never taken).
    pub fn allocated(&self) -> &[Allocation] {
        &self.allocated
    }

    /// Seals, signs, validates and commits `drafts` as one batch signed by `officer`.
    ///
    /// Every event gets the next seq, `prev`, its case's link (from the view) and
    /// `recorded_at = max(now_ms, last recorded_at)` (the log's time never goes back), and is
    /// checked by the register's rules before the batch is written: if any event is refused,
    /// nothing is written. With `expect_size`, the batch commits only if the log is still at
    /// that size, so a retried append never records an event twice. This is [`sign_batch`]
    /// for the writer's own [`RegisterWriter::head`], then the commit of every batch, the
    /// one [`RegisterWriter::submit`] makes too.
    ///
    /// # Errors
    /// [`Error::Writer`] with `ExpectedSize` (nothing written), [`Error::InvalidEvent`] (a case
    /// event without `case` or the reverse, a text too long), [`Error::Rejected`] (a rule),
    /// [`Error::Writer`] / [`Error::Io`] for I/O failures (reopen to recover).
    pub fn append(
        &mut self,
        drafts: Vec<Draft>,
        officer: &Signer,
        now_ms: i64,
        expect_size: Option<u64>,
    ) -> Result<AppendReport, Error> {
        self.begin_batch()?;
        let batch = self.sign_for_head(drafts, officer, now_ms, expect_size)?;
        self.commit_signed(batch)
    }

    /// [`RegisterWriter::append`] without its commit (`sijil append --dry-run`): the batch is
    /// sealed, signed and checked by the register's rules exactly as `append` would, and
    /// nothing is written to the register (a view snapshot that opening found due is still
    /// saved when the writer is dropped: a cache under `private/`, the view of the log as it
    /// was). Returns the seqs its events would take and the log's
    /// size after it (its `IndexCommitted` included).
    ///
    /// # Errors
    /// As [`RegisterWriter::append`], but never an I/O error of a commit.
    pub fn check_append(
        &mut self,
        drafts: Vec<Draft>,
        officer: &Signer,
        now_ms: i64,
        expect_size: Option<u64>,
    ) -> Result<(std::ops::Range<u64>, u64), Error> {
        let batch = self.sign_for_head(drafts, officer, now_ms, expect_size)?;
        self.check_only(batch)
    }

    /// Reports each batch's progress to `progress` from now on: a batch of thousands of
    /// events takes seconds to sign and check (`sijil append` draws a bar from it).
    pub fn set_progress(&mut self, progress: ProgressFn) {
        self.progress = Some(progress);
    }

    fn report(&mut self, step: BatchStep, done: u64, total: u64) {
        if let Some(p) = self.progress.as_mut() {
            p(step, done, total);
        }
    }

    /// This writer's own drafts signed for its head, if the log is at the size expected.
    fn sign_for_head(
        &mut self,
        drafts: Vec<Draft>,
        officer: &Signer,
        now_ms: i64,
        expect_size: Option<u64>,
    ) -> Result<SignedBatch, Error> {
        let start = self.writer.size();
        if let Some(expected) = expect_size {
            if expected != start {
                return Err(WriterError::ExpectedSize {
                    expected,
                    actual: start,
                }
                .into());
            }
        }
        let head = self.head_for(&cases_of(&drafts), &needs_of(&drafts));
        let mut progress = self.progress.take();
        self.allocated.clear();
        let signed = sign_batch_allocating(&head, drafts, officer, now_ms, &mut |done, n| {
            if let Some(p) = progress.as_mut() {
                p(BatchStep::Signing, done, n);
            }
        });
        self.progress = progress;
        let (batch, allocated) = signed?;
        self.allocated = allocated;
        Ok(batch)
    }

    /// Checks `batch` by the register's rules, as a commit would, and writes nothing; the
    /// view is brought back to the log's state. Returns the seqs and the size after it.
    fn check_only(&mut self, batch: SignedBatch) -> Result<(std::ops::Range<u64>, u64), Error> {
        let size = self.writer.size();
        let n = batch.entries.len() as u64;
        match self.validate(batch) {
            Ok(_) => {
                // The view holds the batch now: back to the log's state.
                self.reload_view();
                Ok((size..size + n, size + n + 1))
            }
            Err(e) => {
                self.after_refusal();
                Err(e)
            }
        }
    }

    /// Commits a batch signed elsewhere (by an officer on their own machine, sent to the
    /// sequencer), or with `dry_run` only checks that it would commit.
    ///
    /// In order: a batch whose entries are already in the log, byte for byte, is
    /// [`Submitted::Replayed`] (a submission sent twice is recorded once); a batch that does
    /// not start exactly at the head (its first seq and `prev`) is [`SubmissionError::HeadMoved`];
    /// its `recorded_at` must be the writer's time within
    /// [`MAX_CLOCK_SKEW_MS`](crate::submission::MAX_CLOCK_SKEW_MS); its texts must
    /// be new; then each entry is checked by the register's rules (the signer an authorized
    /// officer, the case links, …) exactly as [`RegisterWriter::append`] checks its own, and
    /// the batch is committed with the log's `IndexCommitted`. If anything is refused,
    /// nothing is written.
    ///
    /// # Errors
    /// [`Error::Submission`] (head moved, clock, a text already there), [`Error::Rejected`]
    /// (a rule), [`Error::Writer`] / [`Error::Io`] for I/O failures, as [`RegisterWriter::append`].
    pub fn submit(
        &mut self,
        batch: CheckedBatch,
        now_ms: i64,
        dry_run: bool,
    ) -> Result<Submitted, Error> {
        let batch = batch.into_batch(self.writer.origin())?;
        self.begin_batch()?;
        let size = self.writer.size();
        let (first_seq, first_prev) = match batch.entries.first() {
            Some((e, _)) => (e.seq, e.prev),
            None => return Err(SubmissionError::Empty.into()),
        };
        let n = batch.entries.len() as u64;
        let moved = SubmissionError::HeadMoved {
            signed_for: first_seq,
            size,
        };
        if first_seq < size {
            if self.is_committed(&batch)? {
                return Ok(Submitted::Replayed(AppendReport {
                    seqs: first_seq..first_seq + n,
                    checkpoint: self.writer.checkpoint().clone(),
                }));
            }
            return Err(moved.into());
        }
        if first_seq != size || first_prev != self.writer.last_leaf_hash() {
            return Err(moved.into());
        }
        check_clock(&batch, now_ms, self.writer.last_recorded_at())?;
        let layout = self.writer.layout();
        if let Some(blob) = batch
            .blobs
            .iter()
            .find(|b| layout.blob(&b.digest()).exists())
        {
            // A failed batch deletes its new blobs: one that is already published must never
            // be listed as new.
            return Err(SubmissionError::TextExists {
                digest: blob.digest().0.to_hex(),
            }
            .into());
        }
        if dry_run {
            let (seqs, tree_size) = self.check_only(batch)?;
            Ok(Submitted::Checked { seqs, tree_size })
        } else {
            self.commit_signed(batch).map(Submitted::Committed)
        }
    }

    /// Whether every entry of `batch` is already in the log at its seq, byte for byte.
    fn is_committed(&self, batch: &SignedBatch) -> Result<bool, Error> {
        let (Some((first, _)), Some((last, _))) = (batch.entries.first(), batch.entries.last())
        else {
            return Ok(false);
        };
        if last.seq >= self.writer.size() {
            return Ok(false);
        }
        let cp = &self.writer.checkpoint().checkpoint;
        let stored = read_entries(&self.tiles, cp.size, cp.root, first.seq, last.seq + 1)?;
        Ok(stored.len() == batch.entries.len()
            && stored
                .iter()
                .zip(&batch.entries)
                .all(|(s, (_, bytes))| &s.bytes == bytes))
    }

    /// What every batch does first: the snapshot due, the clean-up an earlier batch left, the
    /// view back at the log's size.
    fn begin_batch(&mut self) -> Result<(), Error> {
        self.flush_snapshot();
        // A journal left by an earlier batch of this writer whose clean-up failed: finish or
        // undo it before this batch's journal takes its place.
        pending::recover(self.writer.layout(), self.writer.size())?;
        if self.view.size() != self.writer.size() {
            // An earlier failed batch left the view ahead of the log and could not reload it.
            self.view = load_view(
                self.writer.layout(),
                &self.tiles,
                &self.writer.checkpoint().checkpoint,
            )?;
        }
        Ok(())
    }

    /// Validates and commits signed entries that extend the head (the batch's
    /// `IndexCommitted` is added here).
    fn commit_signed(&mut self, batch: SignedBatch) -> Result<AppendReport, Error> {
        let start = self.writer.size();
        match self.validate(batch) {
            Ok((entries, journal, blobs)) => {
                self.report(BatchStep::Committing, 0, 1);
                let done = self.commit(start, entries, journal, blobs);
                self.report(BatchStep::Committing, 1, 1);
                done
            }
            Err(e) => {
                self.after_refusal();
                Err(e)
            }
        }
    }

    /// A refused batch: if the view applied its first events before one was refused, rebuild
    /// it from the snapshot and the log, which hold none of them (a batch refused at its first
    /// event left the view as it was).
    fn after_refusal(&mut self) {
        if self.view.size() != self.writer.size() {
            self.reload_view();
        }
    }

    /// Applies each entry of `batch` to the view with the register's rules (in order), lists
    /// the texts its erasures delete and the blobs it writes, and signs its `IndexCommitted`
    /// (whose `recorded_at` is the batch's last).
    #[allow(clippy::type_complexity)]
    fn validate(
        &mut self,
        batch: SignedBatch,
    ) -> Result<(Vec<(Entry, Vec<u8>)>, Journal, Vec<(PathBuf, Vec<u8>)>), Error> {
        let origin = self.writer.origin().to_string();
        let first_seq = self.writer.size();
        let mut entries: Vec<(Entry, Vec<u8>)> = Vec::with_capacity(batch.entries.len() + 1);
        let mut journal = Journal {
            // The batch's events, then its IndexCommitted.
            target_size: first_seq + batch.entries.len() as u64 + 1,
            ..Journal::default()
        };
        let blobs = batch
            .blobs
            .iter()
            .map(|blob| {
                let digest = blob.digest();
                journal.new_blobs.push(digest);
                (PathBuf::from(blob_path(&digest)), blob.to_bytes())
            })
            .collect();
        let mut prev = self.writer.last_leaf_hash();
        let mut recorded_at = self.writer.last_recorded_at();
        let total = batch.entries.len() as u64;
        for (index, (entry, bytes)) in batch.entries.into_iter().enumerate() {
            if let Event::Erasure(e) = &entry.event {
                journal.erase.extend(self.texts_of(e.target, &entries)?);
            }
            let leaf = leaf_hash(&bytes);
            self.view
                .apply(&entry, leaf)
                .map_err(|rejection| Error::Rejected {
                    index,
                    event: entry.event.name(),
                    rejection,
                })?;
            recorded_at = entry.recorded_at;
            entries.push((entry, bytes));
            prev = leaf;
            self.report(BatchStep::Checking, index as u64 + 1, total);
        }
        if !entries.is_empty() {
            let log_key = self.writer.signer().clone();
            entries.push(index_entry(
                &mut self.view,
                prev,
                recorded_at,
                &log_key,
                &origin,
            )?);
        }
        Ok((entries, journal, blobs))
    }

    /// The text digests of entry `target`, committed or earlier in this batch. Erased ones
    /// are still listed; deleting a missing blob is a no-op.
    fn texts_of(&self, target: u64, batch: &[(Entry, Vec<u8>)]) -> Result<Vec<TextDigest>, Error> {
        let size = self.writer.size();
        let texts = if target >= size {
            match batch.get((target - size) as usize) {
                Some((e, _)) => e.event.texts().into_iter().copied().collect(),
                None => Vec::new(),
            }
        } else {
            let cp = &self.writer.checkpoint().checkpoint;
            read_entries(&self.tiles, cp.size, cp.root, target, target + 1)?
                .first()
                .map(|se| se.entry.event.texts().into_iter().copied().collect())
                .unwrap_or_default()
        };
        Ok(texts)
    }

    fn commit(
        &mut self,
        start: u64,
        entries: Vec<(Entry, Vec<u8>)>,
        journal: Journal,
        blobs: Vec<(PathBuf, Vec<u8>)>,
    ) -> Result<AppendReport, Error> {
        let layout = self.writer.layout().clone();
        let end = start + entries.len() as u64;
        // The events' seqs: the last entry is the batch's IndexCommitted.
        let events = start..end.saturating_sub(1).max(start);
        match self.write_batch(&layout, &entries, &journal, blobs) {
            Ok(()) => {}
            Err(e @ Error::Writer(WriterError::AfterCommit { .. })) => {
                // Committed: finish its erasures if the disk lets us (else the next append
                // or open does, from the journal).
                if let Err(finish) = journal.finish(&layout) {
                    tracing::warn!(error = %finish, "could not finish the committed batch's erasures yet");
                }
                return Err(e);
            }
            Err(e) => {
                // Nothing was committed: make sure of it (no temporary checkpoint left to roll
                // forward), then drop the batch's blobs now (a long-lived writer must not leave
                // them to the next open) and the view's copy of the batch.
                let cleanup = self
                    .writer
                    .abandon_batch()
                    .map_err(Error::from)
                    .and_then(|()| pending::recover(&layout, start));
                if let Err(cleanup) = cleanup {
                    tracing::warn!(error = %cleanup, "could not clean up after the failed batch; the next open will");
                }
                self.reload_view();
                return Err(e);
            }
        }
        let checkpoint = self.writer.checkpoint().clone();
        if !journal.is_empty() {
            journal.finish(&layout).map_err(|e| after_commit(end, e))?;
        }
        if snapshot_due(self.snapshot_size, end) {
            self.snapshot_pending = true;
        }
        Ok(AppendReport {
            seqs: events,
            checkpoint,
        })
    }

    /// Rebuilds the view for the committed log after a batch that did not commit. If that
    /// fails too (the disk that failed the batch), the view stays ahead of the log and the
    /// next append rebuilds it before anything else.
    fn reload_view(&mut self) {
        match load_view(
            self.writer.layout(),
            &self.tiles,
            &self.writer.checkpoint().checkpoint,
        ) {
            Ok(view) => self.view = view,
            Err(e) => {
                tracing::warn!(error = %e, "could not rebuild the view; the next append will")
            }
        }
    }

    /// Up to the commit point: the journal first, durable before any blob of the batch exists
    /// (docs/FORMAT.md §4), so that recovery knows every blob a failed batch may have left;
    /// then the blobs, tiles and bundles in one round, then the checkpoint.
    fn write_batch(
        &mut self,
        layout: &Layout,
        entries: &[(Entry, Vec<u8>)],
        journal: &Journal,
        blobs: Vec<(PathBuf, Vec<u8>)>,
    ) -> Result<(), Error> {
        if !journal.is_empty() {
            let (path, bytes) = journal.file()?;
            let mut round = durable::Batch::new();
            round.write(&layout.root().join(path), &bytes)?;
            round.sync()?;
        }
        self.writer.commit(entries, &blobs)?;
        Ok(())
    }
}

/// The log key the register's own entries name as current for its checkpoint, with the entry
/// that named it, read without checking the checkpoint's signature: only to say which key a
/// writer lacks.
fn named_log_key(layout: &Layout) -> Option<(PublicKey, u64)> {
    let bytes = layout.read_checkpoint().ok()?;
    let cp = crate::rotation::unverified_checkpoint(&bytes).ok()?;
    let view = load_view(layout, &DirTiles::new(layout.clone()), &cp).ok()?;
    let info = view.register()?;
    let named_at = info.log_keys.last().map_or(0, |k| k.named_at);
    Some((info.log_key, named_at))
}

/// Writes `key` to `private/log.key.next` durably (mode 0600): a temporary file fsynced, then
/// renamed into place and the directory fsynced, so the file is whole or absent.
fn write_key(layout: &Layout, key: &Signer) -> Result<(), Error> {
    let tmp = layout.private().join("log.key.next.tmp");
    durable::write_synced(&tmp, key.private_key_string().as_bytes(), true)?;
    durable::rename(&tmp, &layout.log_key_next())?;
    Ok(())
}

/// Settles a rotation left in flight (`private/log.key.next`), once the writer knows the key
/// the committed log names (`current`): if it is the next key, the rotation committed and the
/// next key replaces `log.key` (the retired key is gone: it may no longer sign anything);
/// otherwise the rotation never committed and the unused next key is removed. A leftover
/// temporary key file is removed.
fn finish_rotation(layout: &Layout, current: &PublicKey) -> Result<(), Error> {
    durable::remove_file(&layout.private().join("log.key.next.tmp"))?;
    let next = layout.log_key_next();
    if !next.is_file() {
        return Ok(());
    }
    let key = read_private_key(&next)?;
    if PublicKey(key.public_key()) == *current {
        tracing::info!(key = %current, "log key rotation: the new key replaces private/log.key");
        durable::rename(&next, &layout.log_key())?;
    } else {
        tracing::info!("log key rotation: the rotation did not commit; removing its unused key");
        durable::remove_file(&next)?;
    }
    Ok(())
}

/// An error after the commit point: the batch of `size` is in the log whatever failed next.
fn after_commit(size: u64, e: Error) -> Error {
    match e {
        Error::Io(source) => Error::Writer(WriterError::AfterCommit { size, source }),
        other => other,
    }
}

/// Writes the view's snapshot, or logs why it could not: a snapshot is a cache, and failing
/// to write one never fails the append that triggered it. Returns whether it was written.
fn save_snapshot(layout: &Layout, view: &View, cp: &SignedCheckpoint) -> bool {
    let started = std::time::Instant::now();
    match write_snapshot(layout, view, cp) {
        Ok(()) => {
            tracing::info!(
                size = cp.checkpoint.size,
                elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                "wrote the view snapshot"
            );
            true
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not write the view snapshot; the next open replays more");
            false
        }
    }
}

/// The files at the log's edge that the writer reads and builds on must pass the checks
/// `verify` makes, with its messages: the blobs of the last bundle's entries (the edge tiles
/// and bundle themselves were checked by `Writer::open`, and the replayed tail by
/// `load_view`).
fn check_edge_blobs(
    layout: &Layout,
    tiles: &DirTiles,
    cp: &SignedCheckpoint,
    view: &View,
) -> Result<(), Error> {
    let size = cp.checkpoint.size;
    let first = size.saturating_sub(1) / 256 * 256;
    let entries = read_entries(tiles, size, cp.checkpoint.root, first, size)?;
    let source = crate::audit::DirSource::new(layout.root());
    crate::audit::check_blobs(&source, &entries, view).map_err(|failure| {
        if failure.is_unverified() {
            Error::Corrupt {
                what: failure.to_string(),
            }
        } else {
            Error::Unreadable {
                what: failure.to_string(),
            }
        }
    })
}

/// Whether a register (or a mirror) of `size` entries whose snapshot is of `snapshot_size`
/// should write a new one: once `max(SNAPSHOT_EVERY, size / 8)` entries were added since.
pub fn snapshot_due(snapshot_size: u64, size: u64) -> bool {
    size.saturating_sub(snapshot_size) >= SNAPSHOT_EVERY.max(size / 8)
}

/// Writes the view's snapshot for `cp` atomically (`private/view.snapshot`).
///
/// # Errors
/// [`Error::Io`].
pub fn write_snapshot(layout: &Layout, view: &View, cp: &SignedCheckpoint) -> Result<(), Error> {
    debug_assert_eq!(view.size(), cp.checkpoint.size);
    let bytes = view.to_snapshot(cp.checkpoint.root);
    durable::replace(
        &layout.snapshot(),
        &layout.private().join("view.snapshot.new"),
        &bytes,
    )?;
    Ok(())
}

/// Reads a `PRIVATE+KEY+…` file.
///
/// # Errors
/// [`Error::Key`] naming the file: unreadable, or not a private key (a verifier key, a
/// cosigner key, garbage).
pub fn read_private_key(path: &Path) -> Result<Signer, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Key {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    Signer::from_private_key(text.trim_end_matches(['\n', '\r'])).map_err(|e| Error::Key {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
