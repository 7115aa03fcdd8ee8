//! `sijil mirror`: an incremental pull copy of a register, re-verified entry by entry
//! (DESIGN §8). Not the C2SP tlog-mirror push protocol (no mirror cosignature): a *pull* copy
//! that reads any tlog-tiles server and keeps a directory `sijil serve` can serve read-only.
//!
//! One run:
//!
//! 1. Takes `DIR/private/lock` (the writer's lock: two cron runs never interleave), finishes
//!    the blob journal of an interrupted commit, and checks its own copy: its checkpoint with
//!    the log's key and its edge tiles against that checkpoint (its own disk is not trusted).
//! 2. Fetches the origin's checkpoint and checks its signature (and witness quorum).
//! 3. Proves it consistent with the mirror's checkpoint before anything else: an RFC 9162
//!    proof computed from the new tree's tiles, each verified against the new root first. Two
//!    checkpoints that cannot both be honest become [`Evidence`] and the run stops. An origin
//!    checkpoint *smaller* than the mirror's is judged with the mirror's own tiles (verified
//!    against its checkpoint): the same root at that size is a stale copy or a rollback,
//!    another root a fork, proven the same way.
//! 4. Audits only the new entries as `sijil audit` does, resuming the tree and the view where
//!    the copy ends ([`sijil_register::audit::audit_tree`]): signatures, chain, time, the
//!    register's rules, every new hash tile rebuilt and compared, every new blob against its
//!    digest. Files are fetched only if the directory does not hold them yet (an interrupted
//!    run's files are reused, and verified again like everything else).
//! 5. Commits like the register's writer (DESIGN §3): every file written and fsynced first,
//!    with a journal of the blobs the new entries erase; then the origin's signed checkpoint,
//!    verbatim, replaces `DIR/checkpoint` atomically: the commit point. A crash before it
//!    leaves the old checkpoint, which covers only files already durable; after it, the next
//!    run finishes the erasures. Then the erased texts' copies are deleted (a mirror must not
//!    keep serving erased text) and superseded partial tiles removed.
//!
//! The directory has the register's layout (docs/FORMAT.md §8): `checkpoint`, `tile/…`,
//! `blobs/…` are the publication, `private/` holds the lock, the view snapshot and evidence.
//! Its files can also be published under `<prefix>/<hex SHA-256 of the origin>/`, the path
//! c2sp.org/tlog-mirror gives a mirror's copy.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;

use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::cosignature::{WitnessPolicy, WitnessReport};
use sijil_core::durable::{self, Batch, IoError};
use sijil_core::event::{Event, TextDigest};
use sijil_core::note::Verifier;
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::{Tile, TileBuilder, TileHashReader, TileLevel, TileReader};
use sijil_core::writer::{lock_exclusive, WriterError};
use sijil_projector::View;
use sijil_register::audit::{
    audit_tree, fetch_checkpoint_to_follow, AuditFailure, AuditOptions, DirSource, Resume, Source,
    SourceError, Verified,
};
use sijil_register::pending::{self, Journal};
use sijil_register::{load_view_from_snapshot, read_entries, snapshot_due, write_snapshot};

use crate::evidence::{compare, Consistency, Evidence, ProofHashes, Seen};
use crate::tiles::SourceTiles;
use crate::verify::save_fork;
use crate::{rfc3339, Error, ErrorKind};

/// Options of [`mirror`].
#[derive(Clone, Debug)]
pub struct MirrorOptions {
    pub audit: AuditOptions,
    /// Witnesses whose cosignatures the origin's checkpoint must carry.
    pub witnesses: Option<WitnessPolicy>,
    /// The time now (Unix ms), for evidence.
    pub now_ms: i64,
    /// Where a fork's evidence is saved [default: `DIR/private/evidence`].
    pub evidence_dir: Option<PathBuf>,
}

/// What a run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The first copy.
    Created,
    /// The copy grew.
    Grew,
    /// Same tree; the checkpoint note was replaced by one with more signature lines.
    NewSignatures,
    /// Nothing to do.
    UpToDate,
}

/// What [`mirror`] did.
#[derive(Debug)]
pub struct MirrorReport {
    pub outcome: Outcome,
    /// The checkpoint the mirror now serves.
    pub checkpoint: SignedCheckpoint,
    /// The mirror's size before the run.
    pub from: u64,
    /// Entries verified in this run.
    pub entries: u64,
    /// Hash tiles rebuilt and compared in this run.
    pub hash_tiles: u64,
    /// Blobs checked and stored.
    pub blobs: u64,
    /// Local copies of erased texts deleted.
    pub erased: u64,
    /// Files already on disk from an interrupted run that were verified and reused.
    pub reused: u64,
    /// Witness cosignatures counted, if a policy was given.
    pub witnesses: Option<WitnessReport>,
    /// The register rebuilt (when the copy changed).
    pub view: Option<View>,
}

/// Mirrors the register `source` serves into `dir` (see the module docs).
///
/// # Errors
/// [`Error::Locked`]; [`Error::Fork`] (evidence saved, nothing changed); [`Error::Behind`]
/// (a smaller checkpoint the mirror's tree extends);
/// [`Error::Witness`]; [`Error::Audit`] (the origin's data fails verification: nothing is
/// committed); [`Error::Tiles`]; [`Error::LocalCheckpoint`] / [`Error::LocalCorrupt`] when
/// `dir` is not a valid copy of this log; [`Error::Usage`] when `dir` is something else;
/// [`Error::Source`] / [`Error::Io`].
pub fn mirror(
    source: &dyn Source,
    dir: &Path,
    verifier: &Verifier,
    opts: &MirrorOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<MirrorReport, Error> {
    let layout = Layout::new(dir);
    check_dir(dir)?;
    std::fs::create_dir_all(layout.private())
        .map_err(|e| IoError::new("mkdir", &layout.private(), e))?;
    let _lock = lock_exclusive(&layout.lock()).map_err(|e| match e {
        WriterError::Locked { lock } => Error::Locked { lock },
        WriterError::Io(io) => Error::Io(io),
        other => Error::Usage(other.to_string()),
    })?;
    // The mirror's checkpoint is signed by the key given or, after a rotation the mirror
    // followed, by the key the log's chain leads to from it (docs/FORMAT.md §3.1): from then
    // on that key is the one trusted.
    let (local, trusted) = match layout.read_checkpoint() {
        Ok(bytes) => {
            let (cp, key) = open_local(&layout, &bytes, verifier)?;
            (Some(cp), key)
        }
        Err(e) if e.is_not_found() => (None, verifier.clone()),
        Err(e) => return Err(e.into()),
    };
    let verifier = &trusted;
    let m = local.as_ref().map_or(0, |c| c.checkpoint.size);
    pending::recover(&layout, m).map_err(|e| local_register(dir, e))?;

    // A checkpoint signed by another key may be past a rotation: the audit of the new entries
    // checks its signature by the key the log's own entries lead to, before anything is
    // committed. Only a larger tree can hold a rotation the mirror has not seen.
    let remote = fetch_checkpoint_to_follow(source, verifier)?;
    let n = remote.checkpoint.size;
    if n <= m {
        if let Err(e) = SignedCheckpoint::open(&remote.bytes, verifier) {
            return Err(AuditFailure::Checkpoint(e).into());
        }
    }
    let witnesses = match &opts.witnesses {
        Some(policy) => Some(
            policy
                .check(&remote.note)
                .map_err(|source| Error::Witness { size: n, source })?,
        ),
        None => None,
    };
    let evidence_dir = opts
        .evidence_dir
        .clone()
        .unwrap_or_else(|| layout.private().join("evidence"));
    let seen = |c: &SignedCheckpoint, from: String| Seen {
        note: String::from_utf8_lossy(&c.bytes).into_owned(),
        source: from,
        seen_at: rfc3339(opts.now_ms),
    };
    let report = |outcome, checkpoint: SignedCheckpoint| MirrorReport {
        outcome,
        checkpoint,
        from: m,
        entries: 0,
        hash_tiles: 0,
        blobs: 0,
        erased: 0,
        reused: 0,
        witnesses: witnesses.clone(),
        view: None,
    };

    if let Some(local) = &local {
        let held = &local.checkpoint;
        let mirror_seen = || seen(local, format!("mirror {}", layout.checkpoint().display()));
        if n == m {
            if remote.checkpoint.root != held.root {
                let e = Evidence::same_size(
                    mirror_seen(),
                    seen(&remote, source.describe()),
                    &held.origin,
                    "sijil mirror",
                    &rfc3339(opts.now_ms),
                );
                return Err(save_fork(e, &evidence_dir, opts.now_ms, || {
                    format!("{} serves another tree of size {n}", source.describe())
                }));
            }
            if remote.bytes == local.bytes {
                keep_state(&layout, &remote);
                return Ok(report(Outcome::UpToDate, remote));
            }
            // The same tree with other signature lines (witness cosignatures): the newer note.
            durable::replace(
                &layout.checkpoint(),
                &layout.checkpoint_tmp(),
                &remote.bytes,
            )?;
            keep_state(&layout, &remote);
            return Ok(report(Outcome::NewSignatures, remote));
        }
        if n < m {
            return Err(behind(
                &source.describe(),
                dir,
                local,
                &remote,
                DirTiles::new(layout.clone()),
                |proof| {
                    let e = Evidence::inconsistent(
                        seen(&remote, source.describe()),
                        mirror_seen(),
                        proof,
                        &held.origin,
                        "sijil mirror",
                        &rfc3339(opts.now_ms),
                    );
                    save_fork(e, &evidence_dir, opts.now_ms, || {
                        format!(
                            "{} serves a checkpoint of size {n} that the mirror's of size {m} does not extend: the mirror's tiles give another root at size {n}",
                            source.describe()
                        )
                    })
                },
            ));
        }
    }

    // Our own copy first: the tree (edge tiles against the checkpoint) and the view.
    let tiles = DirTiles::new(layout.clone());
    let load_resume = || -> Result<(Option<Resume>, u64), Error> {
        let Some(l) = &local else {
            return Ok((None, 0));
        };
        let cp = &l.checkpoint;
        let reader = TileHashReader::new(cp.size, cp.root, &tiles);
        let builder = TileBuilder::resume(cp.size, &reader)
            .map_err(|e| local_corrupt(dir, format!("tiles of size {}: {e}", cp.size)))?;
        let (view, base) =
            load_view_from_snapshot(&layout, &tiles, cp).map_err(|e| local_register(dir, e))?;
        Ok((Some(Resume { builder, view }), base))
    };
    let (resume, snapshot_base) = load_resume()?;

    let staged = Staged::new(dir, source, m);
    if let Some(local) = &local {
        // The proof reads the committed tiles and the origin's; files an interrupted run
        // left (of a tree that may not be this one) only come in for the audit, which
        // verifies them, and retries without them.
        staged.use_local.store(false, Ordering::Relaxed);
        staged.remember.store(true, Ordering::Relaxed);
        let consistent = compare(
            &local.checkpoint,
            &remote.checkpoint,
            SourceTiles::new(&staged),
        );
        staged.remember.store(false, Ordering::Relaxed);
        staged.use_local.store(true, Ordering::Relaxed);
        if !matches!(consistent, Consistency::Consistent) {
            // Judge with the origin's tiles alone: ours may be what is wrong.
            match compare(&local.checkpoint, &remote.checkpoint, SourceTiles::new(source)) {
                Consistency::Consistent => {
                    return Err(local_corrupt(
                        dir,
                        format!(
                            "its tiles do not prove the origin's checkpoint of size {n} consistent with its own of size {m}, the origin's do"
                        ),
                    ))
                }
                Consistency::Fork(proof) => {
                    let e = Evidence::inconsistent(
                        seen(local, format!("mirror {}", layout.checkpoint().display())),
                        seen(&remote, source.describe()),
                        proof,
                        &remote.checkpoint.origin,
                        "sijil mirror",
                        &rfc3339(opts.now_ms),
                    );
                    return Err(save_fork(e, &evidence_dir, opts.now_ms, || {
                        format!(
                            "the checkpoint of size {n} served by {} does not extend the mirror's of size {m}",
                            source.describe()
                        )
                    }));
                }
                Consistency::Tiles(e) => {
                    return Err(Error::Tiles {
                        what: format!(
                            "{}: consistency proof from size {m} to {n}",
                            source.describe()
                        ),
                        source: e,
                    })
                }
            }
        }
    }

    // Files a run writes before its commit (tiles, bundles, blobs) are kept for the next run
    // to reuse if it is interrupted; the marker says that a run was, so that the next
    // committed one removes the blobs its tree does not name (another history's, say).
    let marker = layout.private().join("mirror.run");
    let interrupted = marker.is_file();
    if !interrupted {
        durable::write_synced(
            &marker,
            b"a mirror run writes files beyond its checkpoint\n",
            false,
        )?;
        durable::sync_dir(&layout.private())?;
    }
    let first = run_audit(
        &layout,
        &staged,
        &remote,
        verifier,
        resume,
        local.as_ref(),
        opts,
        progress,
    );
    let (audit, written) = match first {
        Err(e)
            if e.kind() == ErrorKind::Unverified
                && staged.staged_hits.load(Ordering::Relaxed) > 0 =>
        {
            // Files left by an interrupted run were used and something failed: they may be of
            // another tree (the origin forked in between). Fetch everything again.
            tracing::warn!(error = %e, "verification failed with files of an interrupted run; retrying from the origin");
            staged.use_local.store(false, Ordering::Relaxed);
            let (resume, _) = load_resume()?;
            run_audit(
                &layout,
                &staged,
                &remote,
                verifier,
                resume,
                local.as_ref(),
                opts,
                progress,
            )?
        }
        other => other?,
    };

    // The commit point: the origin's signed checkpoint, verbatim.
    durable::replace(
        &layout.checkpoint(),
        &layout.checkpoint_tmp(),
        &remote.bytes,
    )?;
    written
        .journal
        .finish(&layout)
        .map_err(|e| local_register(dir, e))?;
    for t in &written.full {
        // Not synced: a crash that undoes a removal leaves a valid partial tile behind.
        if let Err(e) = std::fs::remove_dir_all(layout.partial_dir(t)) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, "could not remove superseded partial tiles");
            }
        }
    }
    if interrupted {
        sweep_unnamed_blobs(&layout, &audit.view)?;
    }
    durable::remove_file(&marker)?;
    if snapshot_due(snapshot_base, n) {
        write_snapshot(&layout, &audit.view, &remote).map_err(|e| local_register(dir, e))?;
    }
    keep_state(&layout, &remote);
    Ok(MirrorReport {
        outcome: if local.is_some() {
            Outcome::Grew
        } else {
            Outcome::Created
        },
        checkpoint: remote,
        from: m,
        entries: audit.entries,
        hash_tiles: audit.hash_tiles,
        blobs: written.blobs,
        erased: written.journal.erase.len() as u64,
        reused: staged.staged_hits.load(Ordering::Relaxed),
        witnesses,
        view: Some(audit.view),
    })
}

/// The mirror's own checkpoint `bytes`, opened with `verifier` or, when a rotation the mirror
/// followed made another key sign it, with the key the mirror's own entries lead to from
/// `verifier` (they were audited before they were committed). Returns it with its key.
fn open_local(
    layout: &Layout,
    bytes: &[u8],
    verifier: &Verifier,
) -> Result<(SignedCheckpoint, Verifier), Error> {
    let source = match SignedCheckpoint::open(bytes, verifier) {
        Ok(cp) => return Ok((cp, verifier.clone())),
        Err(source) => source,
    };
    let refuse = |source| Error::LocalCheckpoint {
        path: layout.checkpoint(),
        source,
    };
    let Ok(cp) = sijil_register::rotation::unverified_checkpoint(bytes) else {
        return Err(refuse(source));
    };
    if cp.origin != verifier.name() {
        return Err(refuse(source));
    }
    let tiles = DirTiles::new(layout.clone());
    let view = match sijil_register::load_view(layout, &tiles, &cp) {
        Ok(view) => view,
        Err(_) => return Err(refuse(source)),
    };
    match sijil_register::rotation::open_following(&view, bytes, verifier) {
        Ok((signed, key, _)) => Ok((signed, key)),
        Err(_) => Err(refuse(source)),
    }
}

/// The origin serves a smaller checkpoint (size n) than the mirror's (size m > n). The
/// mirror's own tiles, each verified against its signed checkpoint, give the root of its first
/// n entries: the origin's root, and the origin is only behind ([`Error::Behind`]: a stale copy
/// or a rollback); another root, and the two signed checkpoints are a fork, proven by the
/// consistency proof from n to m computed from those tiles (`fork` saves it).
fn behind(
    source_name: &str,
    dir: &Path,
    local: &SignedCheckpoint,
    remote: &SignedCheckpoint,
    tiles: impl TileReader,
    fork: impl FnOnce(ProofHashes) -> Error,
) -> Error {
    let (n, m) = (remote.checkpoint.size, local.checkpoint.size);
    let stale = || Error::Behind {
        source_name: source_name.to_owned(),
        served: n,
        held: m,
        held_by: format!("mirror {}", dir.display()),
    };
    if n == 0 {
        // The empty tree is a prefix of every tree.
        return stale();
    }
    match compare(&remote.checkpoint, &local.checkpoint, tiles) {
        Consistency::Consistent => stale(),
        Consistency::Fork(proof) => fork(proof),
        Consistency::Tiles(e) => local_corrupt(
            dir,
            format!(
                "{source_name} serves a checkpoint of size {n}, older than the mirror's of size {m}, and the mirror's tiles cannot tell whether it is a prefix of its tree: {e}"
            ),
        ),
    }
}

/// Removes every file under `blobs/` that the committed mirror may not publish: named by no
/// entry of its tree (left by an interrupted run of another history), or erased.
fn sweep_unnamed_blobs(layout: &Layout, view: &View) -> Result<(), Error> {
    let dir = layout.blobs();
    let listing = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(IoError::new("read dir", &dir, e).into()),
    };
    let mut removed = 0u64;
    for item in listing {
        let item = item.map_err(|e| IoError::new("read dir", &dir, e))?;
        let name = item.file_name().to_string_lossy().into_owned();
        let keep =
            sijil_core::blob::digest_of_name(&name).is_some_and(|d| view.text_is_published(&d));
        if !keep && durable::remove_file_unsynced(&item.path())? {
            removed += 1;
        }
    }
    if removed > 0 {
        durable::sync_dir(&dir)?;
        tracing::info!(
            removed,
            "removed the blobs an interrupted run left that this tree does not name"
        );
    }
    Ok(())
}

/// A register-level error about the mirror's own files: a wrong file (it fails
/// verification, exit 1) or one that could not be read or written (exit 2).
fn local_register(dir: &Path, e: sijil_register::Error) -> Error {
    if e.is_corrupt() {
        local_corrupt(dir, e)
    } else {
        Error::LocalIo {
            dir: dir.to_path_buf(),
            what: e.to_string(),
        }
    }
}

fn local_corrupt(dir: &Path, what: impl std::fmt::Display) -> Error {
    Error::LocalCorrupt {
        dir: dir.to_path_buf(),
        what: what.to_string(),
    }
}

/// A directory is mirrored into only if it is one already, or holds nothing but what an
/// interrupted first run leaves: never into some other directory, nor into a register (a
/// log's own directory holds its key).
fn check_dir(dir: &Path) -> Result<(), Error> {
    let layout = Layout::new(dir);
    if layout.log_key().exists() {
        return Err(Error::Usage(format!(
            "{} holds a log key (private/log.key): it is a register, not a mirror",
            dir.display()
        )));
    }
    if layout.checkpoint().exists() {
        return Ok(());
    }
    match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(IoError::new("read dir", dir, e).into()),
        Ok(entries) => {
            for e in entries.flatten() {
                let name = e.file_name();
                if !["tile", "blobs", "private"].iter().any(|n| name == *n) {
                    return Err(Error::Usage(format!(
                        "{} is not empty and not a mirror (it holds {:?}); mirror into a new directory",
                        dir.display(),
                        name
                    )));
                }
            }
            Ok(())
        }
    }
}

/// What one audit of the new entries wrote, to be committed.
struct Written {
    journal: Journal,
    /// Full tiles and bundles written (their partial versions go after the commit).
    full: Vec<Tile>,
    blobs: u64,
}

#[allow(clippy::too_many_arguments)]
fn run_audit(
    layout: &Layout,
    staged: &Staged<'_>,
    remote: &SignedCheckpoint,
    verifier: &Verifier,
    resume: Option<Resume>,
    local: Option<&SignedCheckpoint>,
    opts: &MirrorOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(sijil_register::audit::AuditReport, Written), Error> {
    let m = local.map_or(0, |c| c.checkpoint.size);
    let mut sink = Sink::new(layout, m);
    let result = audit_tree(
        staged,
        remote.clone(),
        verifier,
        resume,
        opts.audit,
        &mut |v| sink.take(v),
        progress,
    );
    let syncing = sink.syncer.finish();
    let audit = result?;
    syncing?;

    // The copies of texts erased by the new entries go after the commit; the journal, durable
    // before it, makes a crash in between finish the job on the next run.
    let mut erase = Vec::new();
    for target in &sink.erasures {
        if *target >= m {
            erase.extend(sink.texts.get(target).into_iter().flatten().copied());
        } else if let Some(l) = local {
            let cp = &l.checkpoint;
            let tiles = DirTiles::new(layout.clone());
            let entries = read_entries(&tiles, cp.size, cp.root, *target, target + 1)
                .map_err(|e| local_register(layout.root(), e))?;
            for se in entries {
                erase.extend(se.entry.event.texts().into_iter().copied());
            }
        }
    }
    let journal = Journal {
        target_size: remote.checkpoint.size,
        new_blobs: Vec::new(),
        erase,
    };
    let mut last = Batch::new();
    if !journal.is_empty() {
        let (path, bytes) = journal
            .file()
            .map_err(|e| local_register(layout.root(), e))?;
        last.write(&layout.root().join(path), &bytes)?;
    }
    last.sync()?;
    Ok((
        audit,
        Written {
            journal,
            full: sink.full,
            blobs: sink.blobs,
        },
    ))
}

/// Stores what the audit verified, step by step; fsyncs run on a thread of their own while
/// the next step is fetched and checked.
struct Sink<'a> {
    layout: &'a Layout,
    /// Partial tiles the mirror's checkpoint covers: never rewritten (they may be served).
    committed: u64,
    syncer: Syncer,
    texts: HashMap<u64, Vec<TextDigest>>,
    erasures: Vec<u64>,
    full: Vec<Tile>,
    blobs: u64,
}

impl<'a> Sink<'a> {
    fn new(layout: &'a Layout, committed: u64) -> Sink<'a> {
        Sink {
            layout,
            committed,
            syncer: Syncer::start(),
            texts: HashMap::new(),
            erasures: Vec::new(),
            full: Vec::new(),
            blobs: 0,
        }
    }

    fn take(&mut self, v: Verified<'_>) -> Result<(), IoError> {
        let mut batch = Batch::new();
        for (tile, data) in v.bundles.iter().chain(v.tiles) {
            if covered(tile, self.committed) {
                continue;
            }
            batch.write(&self.layout.tile(tile), data)?;
            if tile.is_full() {
                self.full.push(*tile);
            }
        }
        for (digest, bytes) in v.blobs {
            batch.write(&self.layout.blob(digest), bytes)?;
            self.blobs += 1;
        }
        for se in v.entries {
            let texts: Vec<TextDigest> = se.entry.event.texts().into_iter().copied().collect();
            if !texts.is_empty() {
                self.texts.insert(se.entry.seq, texts);
            }
            if let Event::Erasure(e) = &se.entry.event {
                self.erasures.push(e.target);
            }
        }
        self.syncer.send(batch)
    }
}

/// Whether the tree of `size` entries has exactly this tile (its checkpoint covers the file).
fn covered(tile: &Tile, size: u64) -> bool {
    Tile::for_size(tile.level, tile.index, size) == Some(*tile)
}

/// Syncs batches on a thread of its own, in order.
struct Syncer {
    tx: Option<mpsc::Sender<Batch>>,
    handle: Option<std::thread::JoinHandle<Result<(), IoError>>>,
}

impl Syncer {
    fn start() -> Syncer {
        let (tx, rx) = mpsc::channel::<Batch>();
        let handle = std::thread::Builder::new()
            .name("sijil-fsync".into())
            .spawn(move || {
                for batch in rx {
                    batch.sync()?;
                }
                Ok(())
            })
            .ok();
        Syncer {
            tx: Some(tx),
            handle,
        }
    }

    fn send(&mut self, batch: Batch) -> Result<(), IoError> {
        let unsent = match &self.tx {
            Some(tx) if self.handle.is_some() => tx.send(batch).err().map(|e| e.0),
            _ => Some(batch),
        };
        match unsent {
            None => Ok(()),
            // No thread (it could not start, or stopped on an error reported at the end):
            // sync here.
            Some(batch) => batch.sync(),
        }
    }

    /// Waits for every batch to be durable.
    fn finish(&mut self) -> Result<(), IoError> {
        self.tx = None;
        match self.handle.take() {
            Some(h) => h.join().unwrap_or_else(|_| {
                Err(IoError::new(
                    "fsync",
                    Path::new("(sync thread)"),
                    std::io::Error::other("the sync thread panicked"),
                ))
            }),
            None => Ok(()),
        }
    }
}

/// The origin as the audit sees it, with the mirror's own files first: tiles and bundles the
/// directory already holds (its committed tree, or an interrupted run's files) are read from
/// disk instead of fetched. They are verified like fetched ones. Blobs always come from the
/// origin, which alone says whether a text is erased.
struct Staged<'a> {
    local: DirSource,
    remote: &'a dyn Source,
    committed: u64,
    use_local: AtomicBool,
    /// While set, tiles fetched from the origin are kept for the audit that follows (the
    /// consistency proof's tiles are new tiles the audit needs too).
    remember: AtomicBool,
    kept: Mutex<HashMap<String, Vec<u8>>>,
    /// Files beyond the committed tree read from disk.
    staged_hits: AtomicU64,
}

impl<'a> Staged<'a> {
    fn new(dir: &Path, remote: &'a dyn Source, committed: u64) -> Staged<'a> {
        Staged {
            local: DirSource::new(dir),
            remote,
            committed,
            use_local: AtomicBool::new(true),
            remember: AtomicBool::new(false),
            kept: Mutex::new(HashMap::new()),
            staged_hits: AtomicU64::new(0),
        }
    }

    fn local_tile(&self, path: &str) -> Option<Vec<u8>> {
        let tile = Tile::parse_path(path).ok()?;
        let committed = covered(&tile, self.committed)
            || (tile.is_full() && tile.index < committed_full(tile.level, self.committed));
        if !committed && !self.use_local.load(Ordering::Relaxed) {
            return None;
        }
        let data = self.local.get(path).ok()??;
        if !committed {
            self.staged_hits.fetch_add(1, Ordering::Relaxed);
        }
        Some(data)
    }
}

/// The number of full tiles at `level` in the tree of `size` entries.
fn committed_full(level: TileLevel, size: u64) -> u64 {
    match level {
        TileLevel::Entries => size / 256,
        TileLevel::Hash(l) => size.checked_shr(8 * u32::from(l)).unwrap_or(0) / 256,
    }
}

impl Source for Staged<'_> {
    fn describe(&self) -> String {
        self.remote.describe()
    }

    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let mut got = self.get_many(&[path.to_owned()]);
        got.pop().unwrap_or(Ok(None))
    }

    fn get_many(&self, paths: &[String]) -> Vec<Result<Option<Vec<u8>>, SourceError>> {
        let remember = self.remember.load(Ordering::Relaxed);
        let mut out: Vec<Option<Result<Option<Vec<u8>>, SourceError>>> = vec![None; paths.len()];
        let mut misses = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            if p.starts_with("tile/") {
                let kept = {
                    let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
                    if remember {
                        kept.get(p).cloned()
                    } else {
                        kept.remove(p)
                    }
                };
                if let Some(d) = kept.or_else(|| self.local_tile(p)) {
                    out[i] = Some(Ok(Some(d)));
                    continue;
                }
            }
            misses.push(i);
        }
        let wanted: Vec<String> = misses.iter().map(|&i| paths[i].clone()).collect();
        let fetched = self.remote.get_many(&wanted);
        for (i, r) in misses.into_iter().zip(fetched) {
            if remember {
                if let Ok(Some(d)) = &r {
                    if paths[i].starts_with("tile/") {
                        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
                        kept.insert(paths[i].clone(), d.clone());
                    }
                }
            }
            out[i] = Some(r);
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(SourceError {
                        path: "(mirror)".into(),
                        message: "no answer for a path".into(),
                    })
                })
            })
            .collect()
    }
}

/// Checks that a mirror directory is a complete, valid copy at its checkpoint: a full audit
/// of the directory (`sijil audit DIR` does the same).
///
/// # Errors
/// As [`sijil_register::audit::audit`].
pub fn audit_dir(dir: &Path, verifier: &Verifier) -> Result<Checkpoint, AuditFailure> {
    let source = DirSource::new(dir);
    sijil_register::audit::audit(&source, verifier, AuditOptions::default(), &mut |_, _| {})
        .map(|r| r.checkpoint.checkpoint)
}

/// Brings the copy's writer state (`private/state.redb`) to its checkpoint, under the lock
/// the run holds, so that `sijil serve` on the mirror answers from it instead of holding the
/// whole view (issue 11). The state is a cache: a failure is reported and the run goes on
/// (the server then loads the view).
fn keep_state(layout: &Layout, checkpoint: &SignedCheckpoint) {
    if let Err(e) = sijil_register::keep_state(layout, checkpoint) {
        tracing::warn!(error = %e, "could not bring the mirror's state up to date; `sijil serve` will load the view");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covered_tiles_are_the_trees_own() {
        let t = |level, index, width| Tile {
            level,
            index,
            width,
        };
        assert!(covered(&t(TileLevel::Entries, 0, 10), 10));
        assert!(!covered(&t(TileLevel::Entries, 0, 10), 11));
        assert!(covered(&t(TileLevel::Entries, 0, 256), 300));
        assert!(covered(&t(TileLevel::Hash(1), 0, 1), 300));
        assert!(!covered(&t(TileLevel::Hash(1), 0, 2), 300));
        assert_eq!(committed_full(TileLevel::Hash(0), 70_000), 273);
        assert_eq!(committed_full(TileLevel::Hash(1), 70_000), 1);
    }

    /// Issue 9: an origin serving a smaller checkpoint than the mirror's is a stale copy when
    /// the mirror's own tiles give its root at that size, a proven fork when they give another.
    #[test]
    fn a_smaller_checkpoint_is_stale_or_a_fork_by_the_mirrors_tiles() {
        use crate::evidence::Fork;
        use sijil_core::leaf_hash;
        use sijil_core::merkle::{tree_hash, MemoryHashes};
        use sijil_core::note::Signer;
        use sijil_core::tile::{new_tiles, read_tile_data, MemoryTiles};

        const ORIGIN: &str = "registre.example.ma/test";
        let key = Signer::from_seed(ORIGIN, &[7; 32]).expect("key");
        let tree = |seed: u8, n: u64| {
            MemoryHashes::from_leaves((0..n).map(|i| leaf_hash(&[seed, i as u8])))
        };
        let sign = |n: u64, hashes: &MemoryHashes| {
            let root = tree_hash(n, hashes).expect("root");
            SignedCheckpoint::sign(Checkpoint::new(ORIGIN, n, root), &key).expect("sign")
        };
        let seen = |c: &SignedCheckpoint| Seen {
            note: String::from_utf8(c.bytes.clone()).expect("utf-8"),
            source: "test".into(),
            seen_at: "2026-01-01T00:00:00Z".into(),
        };
        let dir = Path::new("/mirror");
        for (small, large) in [(7u64, 9u64), (8, 9), (1, 9), (256, 600), (300, 600)] {
            // The mirror: `large` entries of B, its tiles.
            let b = tree(1, large);
            let local = sign(large, &b);
            let mut tiles = MemoryTiles::new();
            for t in new_tiles(0, large) {
                tiles.insert(t, read_tile_data(&t, &b).expect("data"));
            }
            let judge = |remote: &SignedCheckpoint, tiles: &MemoryTiles| {
                behind("origin", dir, &local, remote, tiles, |proof| {
                    let e = Evidence::inconsistent(
                        seen(remote),
                        seen(&local),
                        proof,
                        ORIGIN,
                        "test",
                        "now",
                    );
                    Error::Fork {
                        what: "fork".into(),
                        path: PathBuf::new(),
                        evidence: Box::new(e),
                    }
                })
            };
            // B's own first `small` entries: stale.
            let stale = judge(&sign(small, &b), &tiles);
            assert!(matches!(stale, Error::Behind { .. }), "{small}: {stale}");
            assert_eq!(stale.kind(), ErrorKind::Unverified);
            // A: another history of `small` entries under the same key: a proven fork.
            let a = sign(small, &tree(2, small));
            let forked = judge(&a, &tiles);
            assert_eq!(forked.kind(), ErrorKind::Fork, "{small}: {forked}");
            let Error::Fork { evidence, .. } = forked else {
                unreachable!()
            };
            let back = Evidence::parse(&evidence.to_bytes()).expect("parses");
            assert!(
                matches!(
                    back.check(&key.verifier()),
                    Ok(Fork::Inconsistent { old_size, new_size, .. }) if (old_size, new_size) == (small, large)
                ),
                "{small}: {:?}",
                back.check(&key.verifier())
            );
            // Without its tiles the mirror cannot tell: its copy is damaged, not a fork.
            let none = judge(&a, &MemoryTiles::new());
            assert!(matches!(none, Error::LocalCorrupt { .. }), "{none}");
        }
        // An empty checkpoint is a prefix of every tree.
        let b = tree(1, 9);
        let empty = SignedCheckpoint::sign(
            Checkpoint::new(ORIGIN, 0, tree_hash(0, &b).expect("root")),
            &key,
        )
        .expect("sign");
        let e = behind(
            "origin",
            dir,
            &sign(9, &b),
            &empty,
            MemoryTiles::new(),
            |_| unreachable!(),
        );
        assert!(matches!(e, Error::Behind { .. }), "{e}");
    }
}
