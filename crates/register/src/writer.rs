//! Creating a register and appending events to it.

use std::path::{Path, PathBuf};

use sijil_core::blob::blob_path;
use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::commit::{CommitPoint, CommitPointError};
use sijil_core::durable;
use sijil_core::entry::{CaseLink, Entry, UnsignedEntry};
use sijil_core::event::{
    Event, IndexCommitted, LogKeyRotated, Officer, PublicKey, RegisterOpened, Role, TextDigest,
};
use sijil_core::note::{Signer, Verifier};
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::writer::{Writer, WriterError};
use sijil_core::{leaf_hash, Hash};
use sijil_projector::records::{Head as StateHead, Touched};
use sijil_projector::View;

use crate::batch::{
    cases_of, needs_of, sign_batch_allocating, Allocation, CaseHead, Head, Needs, Numbering,
    SignedBatch,
};
use crate::input::Draft;
use crate::pending::{self, Journal};
use crate::reader::{load_view, read_entries};
use crate::state::WriterState;
use crate::submission::{check_clock, CheckedBatch, SubmissionError};
use crate::Error;

/// A snapshot of the view is written once `max(SNAPSHOT_EVERY, size / 8)` entries were
/// appended since the last: a restart replays at most that many, and the snapshot's cost
/// (266 ms for a 1,000,000-entry view) stays a small share of the appends it covers.
const SNAPSHOT_EVERY: u64 = 16_384;

/// How many times [`RegisterWriter::append`] signs a batch again after losing the race to
/// another writer at the commit point before it gives up.
const MAX_LOST_RACES: u32 = 100;

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
    WriterState::recreate(&writer.layout().writer_state())?
        .write(&mut view, checkpoint.checkpoint.root)?;
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
    if let Some(e) = index.partial_error() {
        // The writer's partial view lacked a key the batch touches: its root would be wrong.
        return Err(Error::InvalidEvent {
            index: 0,
            event: "IndexCommitted",
            message: format!(
                "the writer's state did not load every key of the batch: {e}; nothing was written"
            ),
        });
    }
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

/// The writer of a register: the log's single writer plus the state the register's rules
/// read, one record per key (`crate::state`): a batch loads only the records it touches into
/// a partial view, which checks it with the same rules as a whole view.
pub struct RegisterWriter {
    writer: Writer,
    tiles: DirTiles,
    state: WriterState,
    /// The register at the log's size: its officers, its log keys, the log's edge, the index
    /// root. Refreshed from the state after each commit.
    head: StateHead,
    /// The state is behind the log (its write after a commit failed): it is caught up before
    /// the next batch.
    state_behind: bool,
    /// The size of the view snapshot on disk (readers start from it).
    snapshot_size: u64,
    /// A snapshot is due ([`RegisterWriter::flush_snapshot`]).
    snapshot_pending: bool,
    /// The snapshot being built and written on its own thread; it gives the size written.
    snapshot_job: Option<std::thread::JoinHandle<Option<u64>>>,
    progress: Option<ProgressFn>,
    /// The case numbers the last batch signed here allocated ([`RegisterWriter::allocated`]).
    allocated: Vec<Allocation>,
}

impl std::fmt::Debug for RegisterWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterWriter")
            .field("writer", &self.writer)
            .field("state_size", &self.head.size)
            .field("snapshot_size", &self.snapshot_size)
            .field("snapshot_pending", &self.snapshot_pending)
            .finish_non_exhaustive()
    }
}

impl Drop for RegisterWriter {
    fn drop(&mut self) {
        self.flush_snapshot();
        self.reap_snapshot(true);
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
        RegisterWriter::open_at(dir, log_key, None)
    }

    /// [`RegisterWriter::open`] of a writer whose batches are committed at `point` (issue 14,
    /// [`sijil_core::commit`]): `dir` is this writer's local copy of the log there. A copy
    /// that does not exist yet (no checkpoint; the log key in `private/` or given) is made
    /// from the commit point; an existing one first adopts the batches other writers
    /// committed, which the writer's state then applies by the register's rules. From then
    /// on each batch adopts what is new before it is signed, and a batch that loses the race
    /// to another writer is signed again on top of it ([`RegisterWriter::append`]).
    ///
    /// # Errors
    /// As [`RegisterWriter::open`]; [`WriterError::CommitPointBehind`] when the commit point
    /// holds less than the copy (a restored database: nothing is signed);
    /// [`WriterError::CommitPoint`] / [`WriterError::CommitPointCorrupt`].
    pub fn open_at(
        dir: &Path,
        log_key: Option<Signer>,
        point: Option<Box<dyn CommitPoint>>,
    ) -> Result<RegisterWriter, Error> {
        let layout = Layout::new(dir);
        let point = match point {
            Some(point) if !layout.checkpoint().is_file() => {
                let key = match &log_key {
                    Some(k) => k.clone(),
                    None => read_private_key(&layout.log_key())?,
                };
                let mut copy = Writer::create_copy(dir, key, point, &mut |done, total| {
                    tracing::info!(done, total, "copying the log from its commit point");
                })?;
                copy.take_commit_point()
            }
            point => point,
        };
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
        let mut point = point;
        let opened = match (Writer::open_with_keys(dir, keys.clone()), point.take()) {
            // A copy whose checkpoint is signed by a key this writer no longer holds: another
            // writer rotated the log key, and this one was given the new key. The copy is a
            // cache of the commit point (never ahead of it): it is made again from there,
            // whose checkpoint must verify with the key held.
            (Err(WriterError::Checkpoint { .. }), Some(p)) if !keys.is_empty() => {
                tracing::warn!(copy = %dir.display(), "the copy's checkpoint is signed by a key not held (a rotation by another writer): making the copy again from the commit point");
                clear_copy(&layout)?;
                let mut copy = Writer::create_copy(dir, keys[0].clone(), p, &mut |_, _| {})?;
                point = copy.take_commit_point();
                drop(copy);
                Writer::open_with_keys(dir, keys)
            }
            (opened, p) => {
                point = p;
                opened
            }
        };
        let mut writer = match opened {
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
        if let Some(point) = point {
            writer.set_commit_point(point);
            writer.adopt(&mut |_, _| {})?;
        }
        let tiles = DirTiles::new(layout.clone());
        let cp = writer.checkpoint().clone();
        let (state, head) = open_state(&layout, &tiles, &cp)?;
        check_edge_blobs(&layout, &tiles, &cp, &state, &head)?;
        // The key the committed log names is the only one that may sign (a rotation's batch is
        // signed by its new key, so the checkpoint's key and the log's agree unless the key
        // given is not the register's).
        let held = PublicKey(writer.signer().public_key());
        if let Some(r) = &head.register {
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
        let snapshot_size = snapshot_size(&layout);
        let size = writer.size();
        Ok(RegisterWriter {
            writer,
            tiles,
            state,
            head,
            state_behind: false,
            snapshot_size,
            // A snapshot an interval behind is written after this run's batch, off its path:
            // readers (`sijil serve`, `show`) replay at most an interval.
            snapshot_pending: snapshot_due(snapshot_size, size),
            snapshot_job: None,
            progress: None,
            allocated: Vec::new(),
        })
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
        let mut view = self.batch_view([(entry.case.as_ref(), &entry.event)])?;
        if let Err(rejection) = view.apply(&entry, leaf) {
            return Err(Error::Rejected {
                index: 0,
                event: "LogKeyRotated",
                rejection,
            });
        }
        let index = index_entry(&mut view, leaf, recorded_at, &next, &origin)?;
        let entries = vec![(entry, bytes), index];
        // The new key is durable before anything of the batch is written.
        write_key(&layout, &next)?;
        self.report(BatchStep::Committing, 0, 1);
        let end = seq + entries.len() as u64;
        match self.writer.commit_rotating(&entries, &[], next.clone()) {
            Ok(_) => {}
            Err(e @ WriterError::AfterCommit { .. }) => {
                // Committed, and the writer signs with `next`; the next open finishes the swap.
                if let Err(finish) = finish_rotation(&layout, &PublicKey(next.public_key())) {
                    tracing::warn!(error = %finish, "could not finish the log key swap yet");
                }
                self.state_behind = true;
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
                return Err(e.into());
            }
        }
        self.report(BatchStep::Committing, 1, 1);
        self.store_state(view);
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

    /// Starts writing the view snapshot if one is due: the whole view (the snapshot before it
    /// and the entries since), for readers, which start from it (`sijil serve`, `show`). It is
    /// built on its own thread, from committed files only, so that no batch waits for it (a
    /// sequencer keeps taking submissions; at 10⁶ entries it takes seconds). An append only
    /// marks it due, so that its caller can acknowledge the batch first (`sijil append`
    /// prints, then calls this); the next batch starts it too, and dropping the writer waits
    /// for it. A snapshot is a cache: failing to write one is logged, never an error, and it
    /// is tried again after the next batch.
    pub fn flush_snapshot(&mut self) {
        self.reap_snapshot(false);
        if !self.snapshot_pending || self.snapshot_job.is_some() {
            return;
        }
        self.snapshot_pending = false;
        let layout = self.writer.layout().clone();
        let tiles = self.tiles.clone();
        let cp = self.writer.checkpoint().clone();
        let job = std::thread::Builder::new()
            .name("view-snapshot".into())
            .spawn(move || build_snapshot(&layout, &tiles, &cp));
        match job {
            Ok(job) => self.snapshot_job = Some(job),
            Err(e) => tracing::warn!(error = %e, "could not start the view snapshot's thread"),
        }
    }

    /// Takes the result of the snapshot's thread if it is done, or, with `wait`, when it is.
    fn reap_snapshot(&mut self, wait: bool) {
        if !self
            .snapshot_job
            .as_ref()
            .is_some_and(|job| wait || job.is_finished())
        {
            return;
        }
        match self.snapshot_job.take().map(std::thread::JoinHandle::join) {
            Some(Ok(Some(size))) => self.snapshot_size = size,
            Some(Err(_)) => tracing::warn!("the view snapshot's thread panicked"),
            _ => {}
        }
    }

    pub fn size(&self) -> u64 {
        self.writer.size()
    }

    pub fn checkpoint(&self) -> &SignedCheckpoint {
        self.writer.checkpoint()
    }

    /// The register as of the log's size: its officers, log keys, counts (from the writer's
    /// state; the whole view is [`RegisterReader`](crate::RegisterReader)'s).
    pub fn register_head(&self) -> &StateHead {
        &self.head
    }

    pub fn layout(&self) -> &Layout {
        self.writer.layout()
    }

    /// The case link the next event of case `id` must carry (`View::next_case_link`), read
    /// from the writer's state.
    ///
    /// # Errors
    /// [`Error::State`] when the state cannot be read.
    pub fn next_case_link(&self, id: &str) -> Result<CaseLink, Error> {
        let (seq, prev) = match self.state.case(id)? {
            Some(slot) => slot.link(),
            None => (0, Hash::ZERO),
        };
        Ok(CaseLink {
            id: id.to_owned(),
            seq,
            prev,
        })
    }

    /// The head of the log for a batch touching `cases`: what [`sign_batch`] signs for.
    ///
    /// # Errors
    /// [`Error::State`] when the writer's state cannot be read.
    pub fn head(&self, cases: &[String]) -> Result<Head, Error> {
        let mut heads = std::collections::BTreeMap::new();
        for id in cases {
            let link = self.next_case_link(id)?;
            heads.insert(
                id.clone(),
                CaseHead {
                    events: link.seq,
                    head: link.prev,
                },
            );
        }
        Ok(Head {
            origin: self.writer.origin().to_string(),
            size: self.writer.size(),
            last_leaf: self.writer.last_leaf_hash(),
            last_recorded_at: self.writer.last_recorded_at(),
            cases: heads,
            numbering: None,
        })
    }

    /// [`RegisterWriter::head`] with the case numbers and case events `needs` asks for, read
    /// from the writer's state: what a batch with `"case":"auto"` or case targets is signed
    /// for. Runs under the writer's lock, so two batches never allocate the same number.
    ///
    /// # Errors
    /// [`Error::State`] when the writer's state cannot be read.
    pub fn head_for(&self, cases: &[String], needs: &Needs) -> Result<Head, Error> {
        let mut head = self.head(cases)?;
        let mut numbering = Numbering {
            highest: self.state.highest_numbers(needs.years.iter().copied())?,
            ..Numbering::default()
        };
        for (case, seq) in &needs.targets {
            if let Some(entry) = self
                .state
                .case(case)?
                .and_then(|c| c.entry_seq(u64::from(*seq)))
            {
                numbering.events.insert((case.clone(), *seq), entry);
            }
        }
        head.numbering = Some(numbering);
        Ok(head)
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
        let mut lost = 0u32;
        loop {
            self.begin_batch()?;
            let batch = self.sign_for_head(drafts.clone(), officer, now_ms, expect_size)?;
            match self.commit_signed(batch) {
                // Another writer committed first at the commit point: adopt its batch and
                // sign this one again on top (with `expect_size`, the next round refuses).
                Err(Error::Writer(WriterError::CommitPoint(CommitPointError::Conflict {
                    ..
                }))) if lost < MAX_LOST_RACES => {
                    lost += 1;
                    std::thread::sleep(std::time::Duration::from_millis(u64::from(lost)));
                }
                done => return done,
            }
        }
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
        self.catch_up_state()?;
        let head = self.head_for(&cases_of(&drafts), &needs_of(&drafts))?;
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
        // The batch's partial view is dropped: nothing of it is stored.
        self.validate(batch)?;
        Ok((size..size + n, size + n + 1))
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
            match self.commit_signed(batch) {
                // Signed elsewhere for a head that another writer has just moved.
                Err(Error::Writer(WriterError::CommitPoint(CommitPointError::Conflict {
                    actual,
                    ..
                }))) => Err(SubmissionError::HeadMoved {
                    signed_for: first_seq,
                    size: actual,
                }
                .into()),
                done => done.map(Submitted::Committed),
            }
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

    /// The commit point's name, if this writer commits at one ([`RegisterWriter::open_at`]).
    pub fn commit_point(&self) -> Option<String> {
        self.writer.commit_point()
    }

    /// Brings this writer's copy and state up to its commit point (a no-op without one):
    /// the batches other writers committed, adopted and applied by the rules. Returns the
    /// entries adopted.
    ///
    /// # Errors
    /// As [`RegisterWriter::open_at`]'s adoption.
    pub fn catch_up(&mut self) -> Result<u64, Error> {
        let adopted = self.writer.adopt(&mut |_, _| {})?;
        self.catch_up_state()?;
        Ok(adopted)
    }

    /// What every batch does first: the snapshot due, the clean-up an earlier batch left, the
    /// writer's state at the log's size.
    fn begin_batch(&mut self) -> Result<(), Error> {
        self.flush_snapshot();
        // What other writers committed at the commit point, if there is one.
        self.writer.adopt(&mut |_, _| {})?;
        // A journal left by an earlier batch of this writer whose clean-up failed: finish or
        // undo it before this batch's journal takes its place.
        pending::recover(self.writer.layout(), self.writer.size())?;
        self.catch_up_state()
    }

    /// Brings the writer's state to the log's size if the write after a commit failed.
    fn catch_up_state(&mut self) -> Result<(), Error> {
        if !self.state_behind && self.head.size == self.writer.size() {
            return Ok(());
        }
        let cp = self.writer.checkpoint().clone();
        // The open state is caught up in place, or closed before its file is replaced.
        let open = std::mem::replace(&mut self.state, WriterState::empty_in_memory()?);
        let (state, head) = settle_state(self.writer.layout(), &self.tiles, &cp, Some(open))?;
        self.state = state;
        self.head = head;
        self.state_behind = false;
        Ok(())
    }

    /// The partial view of the writer's state that the entries `touched` (case link and
    /// event) read and change ([`Touched`]).
    fn batch_view<'a>(
        &self,
        touched: impl IntoIterator<Item = (Option<&'a CaseLink>, &'a Event)>,
    ) -> Result<View, Error> {
        let mut wants = Touched::default();
        for (case, event) in touched {
            wants.add(case, event);
        }
        let slice = self.state.slice(self.head.clone(), &wants)?;
        Ok(View::from_slice(slice).map_err(crate::state::StateError::from)?)
    }

    /// After a commit: the batch's partial view written to the writer's state. A failure is
    /// logged, not returned (the batch is committed, and the state is a cache of the log):
    /// the next batch, or the next open, replays what the state lacks.
    fn store_state(&mut self, mut view: View) {
        let root = self.writer.checkpoint().checkpoint.root;
        match self.state.write(&mut view, root) {
            Ok(head) => self.head = head,
            Err(e) => {
                tracing::warn!(error = %e, "could not write the writer's state; the next batch catches it up from the log");
                self.state_behind = true;
            }
        }
    }

    /// Validates and commits signed entries that extend the head (the batch's
    /// `IndexCommitted` is added here).
    fn commit_signed(&mut self, batch: SignedBatch) -> Result<AppendReport, Error> {
        let start = self.writer.size();
        let (entries, journal, blobs, view) = self.validate(batch)?;
        self.report(BatchStep::Committing, 0, 1);
        let done = self.commit(start, entries, journal, blobs, view);
        self.report(BatchStep::Committing, 1, 1);
        done
    }

    /// Applies each entry of `batch` with the register's rules (in order) to the partial
    /// view of what it touches, lists the texts its erasures delete and the blobs it writes,
    /// and signs its `IndexCommitted` (whose `recorded_at` is the batch's last). Returns the
    /// view with the batch applied, for the state once the batch commits.
    #[allow(clippy::type_complexity)]
    fn validate(
        &mut self,
        batch: SignedBatch,
    ) -> Result<
        (
            Vec<(Entry, Vec<u8>)>,
            Journal,
            Vec<(PathBuf, Vec<u8>)>,
            View,
        ),
        Error,
    > {
        let mut view = self.batch_view(
            batch
                .entries
                .iter()
                .map(|(e, _)| (e.case.as_ref(), &e.event)),
        )?;
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
            view.apply(&entry, leaf)
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
                &mut view,
                prev,
                recorded_at,
                &log_key,
                &origin,
            )?);
        }
        Ok((entries, journal, blobs, view))
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
        view: View,
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
                self.state_behind = true;
                return Err(e);
            }
            Err(e) => {
                // Nothing was committed: make sure of it (no temporary checkpoint left to roll
                // forward), then drop the batch's blobs now (a long-lived writer must not leave
                // them to the next open). The batch's partial view is dropped unstored.
                let cleanup = self
                    .writer
                    .abandon_batch()
                    .map_err(Error::from)
                    .and_then(|()| pending::recover(&layout, start));
                if let Err(cleanup) = cleanup {
                    tracing::warn!(error = %cleanup, "could not clean up after the failed batch; the next open will");
                }
                return Err(e);
            }
        }
        let checkpoint = self.writer.checkpoint().clone();
        self.store_state(view);
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
        // At a commit point the erasures' blobs are deleted in the batch's transaction; here
        // the journal deletes them after the commit.
        let removed: Vec<PathBuf> = journal
            .erase
            .iter()
            .map(|d| PathBuf::from(blob_path(d)))
            .collect();
        self.writer.commit_erasing(entries, &blobs, &removed)?;
        Ok(())
    }
}

/// Removes what a local copy of a commit point's log holds beyond its keys and settings
/// (its checkpoint, tiles, bundles, texts, state, snapshot and journal), so that it is made
/// again from the commit point.
fn clear_copy(layout: &Layout) -> Result<(), Error> {
    durable::remove_file(&layout.checkpoint())?;
    for dir in [layout.root().join("tile"), layout.blobs()] {
        durable::remove_dir_all(&dir)?;
    }
    for file in [
        layout.writer_state(),
        layout.snapshot(),
        layout.pending(),
        layout.checkpoint_tmp(),
    ] {
        durable::remove_file(&file)?;
    }
    Ok(())
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
    state: &WriterState,
    head: &StateHead,
) -> Result<(), Error> {
    let size = cp.checkpoint.size;
    let first = size.saturating_sub(1) / 256 * 256;
    let entries = read_entries(tiles, size, cp.checkpoint.root, first, size)?;
    // Which of them were erased: their annotations, from the state.
    let wants = Touched {
        annotation_range: Some(first..size),
        ..Touched::default()
    };
    let view = View::from_slice(state.slice(head.clone(), &wants)?)
        .map_err(crate::state::StateError::from)?;
    let source = crate::audit::DirSource::new(layout.root());
    crate::audit::check_blobs(&source, &entries, &view).map_err(|failure| {
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

/// The writer's state for the log at `cp`, and its head: the state on disk if it is of `cp`;
/// caught up by replaying the entries it lacks if it is behind by at most a snapshot
/// interval (a crash between a commit and the state's write); otherwise (missing, ahead, of
/// another tree, of another version, unreadable, or far behind) rebuilt from the log, once,
/// from the view snapshot and the entries after it.
///
/// # Errors
/// [`Error::Corrupt`] and the errors of [`load_view`] when the log itself fails (its entries
/// do not match the checkpoint or break the rules); [`Error::State`] when a new state cannot
/// be written.
fn open_state(
    layout: &Layout,
    tiles: &DirTiles,
    cp: &SignedCheckpoint,
) -> Result<(WriterState, StateHead), Error> {
    let path = layout.writer_state();
    let open = if path.is_file() {
        WriterState::open(&path)
            .inspect_err(|e| {
                tracing::warn!(error = %e, "the writer's state does not open; rebuilding it from the log")
            })
            .ok()
    } else {
        None
    };
    settle_state(layout, tiles, cp, open)
}

/// Brings the writer's state of the register at `layout` to the committed checkpoint `cp`
/// (caught up from the entries it lacks, or rebuilt), for a process that commits without a
/// `RegisterWriter` and holds the register's lock: `sijil mirror`, so that `sijil serve` on a
/// mirror reads the state too instead of holding the whole view (issue 11).
///
/// # Errors
/// As [`open_state`].
pub fn keep_state(layout: &Layout, cp: &SignedCheckpoint) -> Result<(), Error> {
    let tiles = DirTiles::new(layout.clone());
    open_state(layout, &tiles, cp).map(|_| ())
}

/// [`open_state`] with the state already open, if any: used as it is, caught up, or closed
/// and rebuilt.
fn settle_state(
    layout: &Layout,
    tiles: &DirTiles,
    cp: &SignedCheckpoint,
    open: Option<WriterState>,
) -> Result<(WriterState, StateHead), Error> {
    let cp = &cp.checkpoint;
    if let Some(state) = open {
        match reuse_state(&state, tiles, cp) {
            Ok(Some(head)) => return Ok((state, head)),
            Ok(None) => {}
            Err(Reuse::State(e)) => {
                tracing::warn!(error = %e, "the writer's state is unusable; rebuilding it from the log")
            }
            Err(Reuse::Log(e)) => return Err(e),
        }
        // Closed before its file is replaced (redb locks it).
        drop(state);
    }
    let path = layout.writer_state();
    let started = std::time::Instant::now();
    let mut view = load_view(layout, tiles, cp)?;
    // The log's last entry is an IndexCommitted (`load_view` checked it): the view is current.
    let state = WriterState::recreate(&path)?;
    let head = state.write(&mut view, cp.root)?;
    tracing::info!(
        size = cp.size,
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "rebuilt the writer's state from the log"
    );
    Ok((state, head))
}

/// Why a state on disk was not reused: the state's own fault (rebuild it), or the log's.
enum Reuse {
    State(crate::state::StateError),
    Log(Error),
}

impl From<crate::state::StateError> for Reuse {
    fn from(e: crate::state::StateError) -> Reuse {
        Reuse::State(e)
    }
}

/// The head of `state` brought to `cp`: as it is, or caught up from the entries it lacks;
/// `None` when it must be rebuilt.
fn reuse_state(
    state: &WriterState,
    tiles: &DirTiles,
    cp: &sijil_core::checkpoint::Checkpoint,
) -> Result<Option<StateHead>, Reuse> {
    let Some((head, size, root)) = state.head()? else {
        return Ok(None);
    };
    if size != head.size {
        return Ok(None);
    }
    if size == cp.size {
        return Ok((root == cp.root).then_some(head));
    }
    if size == 0 || size > cp.size || cp.size - size > SNAPSHOT_EVERY.max(cp.size / 8) {
        return Ok(None);
    }
    let reader = sijil_core::tile::TileHashReader::new(cp.size, cp.root, tiles);
    match sijil_core::merkle::tree_hash(size, &reader) {
        Ok(r) if r == root => {}
        Ok(_) => return Ok(None),
        Err(e) => return Err(Reuse::Log(e.into())),
    }
    // Behind: the entries since, applied to the partial view of what they touch.
    let entries = read_entries(tiles, cp.size, cp.root, size, cp.size).map_err(Reuse::Log)?;
    let mut wants = Touched::default();
    for se in &entries {
        wants.add(se.entry.case.as_ref(), &se.entry.event);
    }
    let mut view =
        View::from_slice(state.slice(head, &wants)?).map_err(|e| Reuse::State(e.into()))?;
    for se in &entries {
        if let Err(r) = view.apply(&se.entry, se.leaf) {
            // The entries verified against the checkpoint; a refusal here is the state's
            // fault if the log is sound: rebuilding from the log tells which.
            tracing::warn!(seq = se.entry.seq, rejection = %r, "the writer's state does not accept the log's next entries");
            return Ok(None);
        }
    }
    if view.index().partial_error().is_some() {
        return Ok(None);
    }
    let head = state.write(&mut view, cp.root)?;
    tracing::info!(
        from = size,
        to = cp.size,
        "caught the writer's state up with the log"
    );
    Ok(Some(head))
}

/// Builds the whole view at `cp` (the snapshot on disk and the entries since) and writes
/// its snapshot; the size written, or `None` (logged) if either failed. Reads committed
/// files only: a batch committed meanwhile may replace the edge's partial tiles by full
/// ones, whose prefixes `DirTiles` reads in their place.
fn build_snapshot(layout: &Layout, tiles: &DirTiles, cp: &SignedCheckpoint) -> Option<u64> {
    let started = std::time::Instant::now();
    let view = match load_view(layout, tiles, &cp.checkpoint) {
        Ok(view) => view,
        Err(e) => {
            tracing::warn!(error = %e, "could not build the view for its snapshot; the next batch tries again");
            return None;
        }
    };
    tracing::debug!(
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "built the view for its snapshot"
    );
    save_snapshot(layout, &view, cp).then_some(cp.checkpoint.size)
}

/// The tree size of the view snapshot on disk, read from its first bytes (0 without one): when
/// the next is due. Whether the snapshot is sound is the reader's check, not this one's.
fn snapshot_size(layout: &Layout) -> u64 {
    std::fs::File::open(layout.snapshot())
        .ok()
        .and_then(|mut f| View::snapshot_size(&mut f).ok())
        .unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt as _;

    use super::*;
    use crate::parse_events;

    const NOW: i64 = 1_750_000_000_000;

    /// A new register in a temporary directory, and its first officer's key.
    fn new_register() -> (tempfile::TempDir, std::path::PathBuf, Signer) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("reg");
        let report = init(
            &dir,
            InitOptions {
                origin: "registre.example.ma/t".into(),
                title: "t".into(),
                authority: "a".into(),
                officer_name: "amina".into(),
                now_ms: NOW,
                log_key: None,
                officer_key: None,
            },
        )
        .expect("init");
        (tmp, dir, report.officer)
    }

    /// A long-lived writer (`sijil sequencer`) whose state write failed after a commit
    /// catches the state up in place before its next batch: the file it holds open is not
    /// reopened (redb locks it) nor rebuilt, and the next case link is right.
    #[test]
    fn a_long_lived_writer_catches_its_state_up_in_place() {
        let (_tmp, dir, officer) = new_register();
        let events = |text: &str| parse_events("test", text).expect("valid events");
        let complaint = r#"{"case":"C-1","type":"ComplaintReceived","controller":{"id":"acme","name":"ACME"},"categories":["privacy"],"received_on":"2024-01-02"}"#;
        let hearing =
            r#"{"case":"C-1","type":"HearingHeld","held_on":"2024-02-01","place":"Rabat"}"#;
        let mut w = RegisterWriter::open(&dir, None).expect("open");
        w.append(events(complaint), &officer, NOW, None)
            .expect("appends");
        let inode = std::fs::metadata(dir.join("private/state.redb"))
            .expect("state")
            .ino();
        // As after a failed write: the state is one batch behind the log.
        let behind = w.head.clone();
        w.append(events(hearing), &officer, NOW, None)
            .expect("appends");
        w.head = behind;
        w.state_behind = true;
        w.append(events(hearing), &officer, NOW, None)
            .expect("appends after catching up");
        assert_eq!(w.next_case_link("C-1").expect("state").seq, 3);
        assert_eq!(
            std::fs::metadata(dir.join("private/state.redb"))
                .expect("state")
                .ino(),
            inode,
            "caught up in place, not rebuilt"
        );
    }

    /// `sijil serve` reads the writer's state while the writer holds it (issue 11): at the
    /// checkpoint it serves it finds the same cases, listing and texts as the view of the
    /// log; a version it holds stays readable while the writer commits more; a state of
    /// another tree is not used.
    #[test]
    fn a_reader_reads_the_state_beside_its_writer() {
        use sijil_projector::{records::Touched, CaseFilter, Page, Sort};
        let (_tmp, dir, officer) = new_register();
        let events = |text: &str| parse_events("test", text).expect("valid events");
        let mut w = RegisterWriter::open(&dir, None).expect("open");
        w.append(
            events(r#"{"case":"C-1","type":"ComplaintReceived","controller":{"id":"acme","name":"ACME"},"categories":["privacy"],"received_on":"2024-01-02","summary":"un texte"}"#),
            &officer,
            NOW,
            None,
        )
        .expect("appends");
        let reader = crate::state::StateReader::open(&dir.join("private/state.redb"))
            .expect("a reader opens the state its writer holds");
        let at = |r: &crate::RegisterReader| {
            let cp = &r.checkpoint().checkpoint;
            (cp.size, cp.root)
        };
        let log = crate::RegisterReader::open(&dir, None).expect("reader");
        let (size, root) = at(&log);
        let first = reader
            .at(size, root)
            .expect("reads")
            .expect("of the checkpoint");
        let as_of = sijil_core::event::Date::from_ymd(2024, 6, 1).expect("date");
        let listing = first.listing().expect("listing");
        assert_eq!(listing.stats(as_of), log.view().stats(as_of));
        let case = first
            .view_of(&Touched {
                cases: ["C-1".to_owned()].into(),
                ..Touched::default()
            })
            .expect("partial view");
        assert_eq!(case.case("C-1", as_of), log.view().case("C-1", as_of));
        let opening = log.view().case("C-1", as_of).expect("case").timeline[0].seq;
        let entry = log.entries(opening, opening + 1).expect("entry");
        let digest = *entry[0].entry.event.texts()[0];
        assert_eq!(first.text(&digest).expect("reads"), Some(opening));
        assert!(!log
            .view()
            .text_is_published(&sijil_core::event::TextDigest(sijil_core::Hash([7; 32]))));
        assert_eq!(
            first
                .text(&sijil_core::event::TextDigest(sijil_core::Hash([7; 32])))
                .expect("reads"),
            None
        );

        w.append(
            events(r#"{"case":"C-1","type":"HearingHeld","held_on":"2024-02-01","place":"Rabat"}"#),
            &officer,
            NOW,
            None,
        )
        .expect("appends");
        assert!(
            reader.at(size, root).expect("reads").is_none(),
            "the state moved on"
        );
        let page = |l: &sijil_projector::Listing| {
            l.cases(&CaseFilter::default(), Sort::Id, &Page::first(10), as_of)
                .expect("page")
        };
        assert_eq!(
            page(&first.listing().expect("the old version")).items[0].entries,
            1
        );
        let log = crate::RegisterReader::open(&dir, None).expect("reader");
        let (size2, root2) = at(&log);
        let second = reader
            .at(size2, root2)
            .expect("reads")
            .expect("of the new checkpoint");
        let touched = Touched {
            cases: ["C-1".to_owned()].into(),
            ..Touched::default()
        };
        let updated = second.update(&listing, &touched).expect("update");
        assert_eq!(page(&updated), page(&log.view().listing()));
        assert_eq!(page(&updated).items[0].entries, 2);
        assert!(!reader.replaced());
    }

    /// A server reading the writer's state follows it when the writer rebuilds it (a new
    /// file in place of the one the server holds open): the next refresh reads the new file
    /// and moves to the new checkpoint, with its listing.
    #[test]
    fn a_state_backed_reader_follows_a_rebuilt_state() {
        use sijil_projector::{CaseFilter, Page, Sort};
        let (_tmp, dir, officer) = new_register();
        let events = |text: &str| parse_events("test", text).expect("valid events");
        let mut w = RegisterWriter::open(&dir, None).expect("open");
        w.append(
            events(r#"{"case":"C-1","type":"ComplaintReceived","controller":{"id":"acme","name":"ACME"},"categories":["privacy"],"received_on":"2024-01-02"}"#),
            &officer,
            NOW,
            None,
        )
        .expect("appends");
        drop(w);
        let mut reader = crate::StateBackedReader::open(&dir, None)
            .expect("opens")
            .expect("from the writer's state");
        let before = reader.checkpoint().checkpoint.size;
        std::fs::remove_file(dir.join("private/state.redb")).expect("remove the state");
        let mut w = RegisterWriter::open(&dir, None).expect("open, rebuilding the state");
        w.append(
            events(r#"{"case":"C-1","type":"HearingHeld","held_on":"2024-02-01","place":"Rabat"}"#),
            &officer,
            NOW,
            None,
        )
        .expect("appends");
        assert!(
            reader.refresh().expect("refresh"),
            "moved to the new checkpoint"
        );
        assert!(reader.checkpoint().checkpoint.size > before);
        let as_of = sijil_core::event::Date::from_ymd(2024, 6, 1).expect("date");
        let page = reader
            .listing()
            .wait()
            .expect("the listing")
            .cases(&CaseFilter::default(), Sort::Id, &Page::first(10), as_of)
            .expect("page");
        assert_eq!(page.items[0].entries, 2);
    }
}
