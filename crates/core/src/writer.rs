//! The single writer of a register directory (DESIGN §3).
//!
//! One writer at a time holds `private/lock` (an exclusive advisory lock; readers never
//! take it). A batch of entries is one commit:
//!
//! 1. the new hash tiles, entry bundles and any extra files of the batch (blobs) are written
//!    and fsynced with their directories in one round ([`crate::durable::Batch`]);
//! 2. the new checkpoint is written to `private/checkpoint.new`, fsynced, and renamed over
//!    `checkpoint`, then the directories are fsynced: the rename is the commit point.
//!
//! On open, recovery rolls a complete temporary checkpoint forward when its signature
//! verifies and the tiles on disk prove it consistent with the current one (so the log never
//! signs two inconsistent checkpoints, even unpublished ones), and otherwise removes every
//! tile and bundle beyond the checkpoint's size. Then it checks the checkpoint and the edge
//! tiles against each other: our own disk is not trusted.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use crate::bundle;
use crate::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
use crate::commit::{Commit, CommitPoint, CommitPointError};
use crate::durable::{self, Batch, IoError};
use crate::entry::{Entry, EntryError};
use crate::hash::{leaf_hash, Hash};
use crate::merkle::{self, HashReader as _, MerkleError};
use crate::note::{Signer, Verifier};
use crate::storage::{DirTiles, Layout};
use crate::tile::{self, Tile, TileHashReader, TileLevel, FULL_WIDTH};

/// What can go wrong opening or writing a register.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriterError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("{dir} is not a sijil register (no checkpoint file)")]
    NotARegister { dir: PathBuf },
    #[error("{dir} already exists and is not empty; a register is created in a new directory")]
    AlreadyExists { dir: PathBuf },
    #[error("another writer holds {lock}; one writer at a time")]
    Locked { lock: PathBuf },
    #[error("checkpoint {path}: {source}")]
    Checkpoint {
        path: PathBuf,
        source: CheckpointError,
    },
    #[error("the register on disk does not match its checkpoint: {what}")]
    Corrupt { what: String },
    /// A file of the register could not be read (not: was read and found wrong).
    #[error("{what}: {message}")]
    Storage { what: String, message: String },
    #[error("entry {got} cannot follow a log of size {size} (expected seq {size})")]
    OutOfSequence { size: u64, got: u64 },
    #[error("entry {seq}: prev is {got}, but the leaf hash of entry {} is {expected}", .seq.saturating_sub(1))]
    BrokenChain { seq: u64, expected: Hash, got: Hash },
    #[error("entry {seq}: recorded_at {got} is before the previous entry's {previous}")]
    TimeWentBack { seq: u64, previous: i64, got: i64 },
    #[error("the log is at size {actual}, not the expected {expected}: nothing was written")]
    ExpectedSize { expected: u64, actual: u64 },
    /// The batch is committed (the checkpoint of `size` was renamed into place and is what
    /// readers see) but a step after the commit point failed: the directory fsync that makes
    /// the rename durable, or the clean-up of the batch's journal. Retrying the batch would
    /// record it twice; reopening the register finishes the clean-up.
    #[error("the batch IS committed (the log is now at size {size}), but a step after the commit point failed: {source}")]
    AfterCommit {
        size: u64,
        #[source]
        source: IoError,
    },
    #[error("the first entry of a register must be RegisterOpened, not {got}")]
    NotGenesis { got: &'static str },
    #[error(transparent)]
    Entry(#[from] EntryError),
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    #[error("{what}: {source}")]
    Bundle {
        what: String,
        source: bundle::BundleError,
    },
    /// The commit point refused or failed (issue 14): [`CommitPointError::Conflict`] means
    /// another writer committed first and nothing was written.
    #[error(transparent)]
    CommitPoint(#[from] CommitPointError),
    /// The commit point holds a smaller log than this writer's copy: a database restored from
    /// an old backup, or the wrong one. Signing on it would fork the log.
    #[error("{location} holds a log of size {size}, but this writer's copy {copy} is at size {copy_size}: was the database restored from an old backup? Refusing to sign a log behind what was committed")]
    CommitPointBehind {
        location: String,
        size: u64,
        copy: PathBuf,
        copy_size: u64,
    },
    /// What the commit point holds does not verify against this writer's copy or itself.
    #[error("{location}: {what}")]
    CommitPointCorrupt { location: String, what: String },
}

/// The end of a register directory's log: what the next batch extends.
#[derive(Debug)]
struct Tip {
    checkpoint: SignedCheckpoint,
    last_leaf: Hash,
    last_recorded_at: i64,
    /// The entries of the current partial entry bundle, from which the next one is written.
    bundle_tail: Vec<Vec<u8>>,
}

impl Tip {
    /// The tip of an empty log: never written or served (the empty tree is consistent with
    /// every tree), signed by `key` only because a checkpoint is a signed note.
    fn empty(key: &Signer) -> Result<Tip, WriterError> {
        let checkpoint = SignedCheckpoint::sign(
            Checkpoint::new(key.name(), 0, crate::hash::empty_root()),
            key,
        )
        .map_err(|source| WriterError::Checkpoint {
            path: PathBuf::from("(empty tree)"),
            source,
        })?;
        Ok(Tip {
            checkpoint,
            last_leaf: Hash::ZERO,
            last_recorded_at: i64::MIN,
            bundle_tail: Vec::new(),
        })
    }

    fn size(&self) -> u64 {
        self.checkpoint.checkpoint.size
    }
}

/// The writer of one register directory. Dropping it releases the lock.
#[derive(Debug)]
pub struct Writer {
    layout: Layout,
    tiles: DirTiles,
    _lock: File,
    signer: Signer,
    tip: Tip,
    /// Where batches are committed when it is not this directory ([`crate::commit`]).
    commit_point: Option<Box<dyn CommitPoint>>,
}

impl Writer {
    /// Creates a register at `dir` whose first entries are `genesis` (the first being
    /// `RegisterOpened`), signed checkpoints with
    /// `log_key`, and returns its writer. The register is assembled in a sibling temporary
    /// directory and renamed into place, so a crash leaves either no register or a complete
    /// one. `extra` files (relative paths: the first officer's blobs) are written with it.
    ///
    /// # Errors
    /// [`WriterError::AlreadyExists`] if `dir` exists and is not empty, [`WriterError::Io`],
    /// and the errors of [`Writer::commit`].
    pub fn create(
        dir: &Path,
        log_key: Signer,
        genesis: &[(Entry, Vec<u8>)],
        extra: &[(PathBuf, Vec<u8>)],
    ) -> Result<Writer, WriterError> {
        if dir.exists()
            && std::fs::read_dir(dir)
                .map_err(|e| IoError::new("read dir", dir, e))?
                .next()
                .is_some()
        {
            return Err(WriterError::AlreadyExists {
                dir: dir.to_path_buf(),
            });
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "register".into());
        let tmp = dir.with_file_name(format!(".{name}.init-{}", std::process::id()));
        durable::remove_dir_all(&tmp)?;
        let layout = Layout::new(&tmp);
        std::fs::create_dir_all(layout.private())
            .map_err(|e| IoError::new("mkdir", &layout.private(), e))?;
        durable::write_synced(
            &layout.log_key(),
            log_key.private_key_string().as_bytes(),
            true,
        )?;
        let lock = lock_exclusive(&layout.lock())?;
        let origin = match genesis.first().map(|(e, _)| &e.event) {
            Some(crate::event::Event::RegisterOpened(r)) => r.origin.clone(),
            Some(other) => return Err(WriterError::NotGenesis { got: other.name() }),
            None => return Err(WriterError::NotGenesis { got: "nothing" }),
        };
        if log_key.name() != origin {
            return Err(WriterError::Corrupt {
                what: format!(
                    "the log key is named {:?}, the genesis entry's origin is {origin:?}",
                    log_key.name()
                ),
            });
        }
        let mut w = Writer {
            tiles: DirTiles::new(layout.clone()),
            layout,
            _lock: lock,
            tip: Tip::empty(&log_key)?,
            signer: log_key,
            commit_point: None,
        };
        w.commit(genesis, extra)?;
        if dir.exists() {
            std::fs::remove_dir(dir).map_err(|e| IoError::new("remove", dir, e))?;
        }
        durable::rename(&tmp, dir)?;
        w.layout = Layout::new(dir);
        w.tiles = DirTiles::new(w.layout.clone());
        Ok(w)
    }

    /// Opens the register at `dir` for writing: takes the lock, recovers from any crash, and
    /// checks the checkpoint and the edge tiles against each other.
    ///
    /// # Errors
    /// [`WriterError::NotARegister`], [`WriterError::Locked`], [`WriterError::Checkpoint`]
    /// (the checkpoint does not verify with `log_key`), [`WriterError::Corrupt`] (tiles,
    /// bundles and checkpoint disagree), [`WriterError::Io`].
    pub fn open(dir: &Path, log_key: Signer) -> Result<Writer, WriterError> {
        Writer::open_with_keys(dir, vec![log_key])
    }

    /// [`Writer::open`] with the keys that may sign the log's checkpoint: the current log key
    /// and, while a rotation is in flight, its successor (docs/FORMAT.md §3.1). The checkpoint
    /// must verify with one of them, and the temporary checkpoint of a batch that did not
    /// reach its rename is rolled forward if it verifies with any of them (a rotation's batch
    /// signs its checkpoint with the new key). The writer then signs with the key that
    /// verifies the checkpoint it settled on: the caller checks that the log names that key.
    ///
    /// # Errors
    /// As [`Writer::open`]; [`WriterError::Checkpoint`] names the first key's failure when no
    /// key verifies the checkpoint.
    pub fn open_with_keys(dir: &Path, keys: Vec<Signer>) -> Result<Writer, WriterError> {
        let layout = Layout::new(dir);
        if !layout.checkpoint().is_file() {
            return Err(WriterError::NotARegister {
                dir: dir.to_path_buf(),
            });
        }
        let lock = lock_exclusive(&layout.lock())?;
        let tiles = DirTiles::new(layout.clone());
        let bytes = durable::read(&layout.checkpoint())?;
        let mut found = None;
        let mut first_error = None;
        for key in &keys {
            match open_checkpoint(&layout.checkpoint(), &bytes, &key.verifier()) {
                Ok(cp) => {
                    found = Some((cp, key.clone()));
                    break;
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let (mut checkpoint, mut log_key) = match (found, first_error) {
            (Some(found), _) => found,
            (None, Some(e)) => return Err(e),
            (None, None) => {
                return Err(WriterError::Corrupt {
                    what: "no log key was given to verify the checkpoint".into(),
                })
            }
        };
        let newer = keys.iter().find_map(|key| {
            roll_forward_candidate(&layout, &tiles, &checkpoint, &key.verifier())
                .map(|cp| (cp, key.clone()))
        });
        if let Some((newer, key)) = newer {
            tracing::info!(
                from = checkpoint.checkpoint.size,
                to = newer.checkpoint.size,
                "recovery: rolling the checkpoint forward"
            );
            log_key = key;
            // Its own fsync may have failed when it was written (the writer then stopped before
            // the rename): make its bytes durable before they become the commit point.
            durable::sync_file(&layout.checkpoint_tmp())?;
            durable::rename(&layout.checkpoint_tmp(), &layout.checkpoint())?;
            checkpoint = newer;
        } else {
            durable::remove_file(&layout.checkpoint_tmp())?;
        }
        remove_beyond(&layout, checkpoint.checkpoint.size)?;
        let (last_leaf, last_recorded_at, bundle_tail) =
            check_edge(&tiles, &checkpoint.checkpoint)?;
        Ok(Writer {
            layout,
            tiles,
            _lock: lock,
            signer: log_key,
            tip: Tip {
                checkpoint,
                last_leaf,
                last_recorded_at,
                bundle_tail,
            },
            commit_point: None,
        })
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The log's size: the number of committed entries.
    pub fn size(&self) -> u64 {
        self.tip.checkpoint.checkpoint.size
    }

    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.tip.checkpoint
    }

    pub fn origin(&self) -> &str {
        &self.tip.checkpoint.checkpoint.origin
    }

    /// The log key, which signs checkpoints (and a register's `IndexCommitted` entries).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    pub fn verifier(&self) -> Verifier {
        self.signer.verifier()
    }

    /// The leaf hash of the last entry: the `prev` of the next one.
    pub fn last_leaf_hash(&self) -> Hash {
        self.tip.last_leaf
    }

    /// The last entry's `recorded_at`; the next entry's may not be earlier.
    pub fn last_recorded_at(&self) -> i64 {
        self.tip.last_recorded_at
    }

    /// Commits `entries` (already signed and validated; `seq` continuing the log) with the
    /// `extra` files of the batch (paths relative to the register), as one durable batch and
    /// one new signed checkpoint. Returns when the checkpoint is durable.
    ///
    /// # Errors
    /// [`WriterError::OutOfSequence`], [`WriterError::BrokenChain`],
    /// [`WriterError::TimeWentBack`] (nothing written); [`WriterError::Io`] if a write or
    /// fsync fails before the commit point (the checkpoint was not moved; reopen to recover);
    /// [`WriterError::AfterCommit`] if the directory fsync after the rename fails: the batch
    /// is committed and this writer has moved on to it.
    pub fn commit(
        &mut self,
        entries: &[(Entry, Vec<u8>)],
        extra: &[(PathBuf, Vec<u8>)],
    ) -> Result<&SignedCheckpoint, WriterError> {
        self.commit_signed_by(entries, extra, &[], None)
    }

    /// [`Writer::commit`] of a batch that rotates the log key (docs/FORMAT.md §3.1): its
    /// checkpoint is signed by `next`, which from the commit point on is this writer's key.
    /// Before the commit point the writer keeps its key, so a batch that fails leaves it as
    /// it was.
    ///
    /// # Errors
    /// As [`Writer::commit`]; after [`WriterError::AfterCommit`] the writer signs with `next`.
    pub fn commit_rotating(
        &mut self,
        entries: &[(Entry, Vec<u8>)],
        extra: &[(PathBuf, Vec<u8>)],
        next: Signer,
    ) -> Result<&SignedCheckpoint, WriterError> {
        self.commit_signed_by(entries, extra, &[], Some(next))
    }

    /// [`Writer::commit`] of a batch whose erasures delete the blobs `removed`: at a commit
    /// point they are deleted in the batch's own transaction (a register in a database keeps
    /// no erased text beyond the commit). In a directory the batch's journal deletes them
    /// after the commit (crate sijil-register); here they are only passed on.
    ///
    /// # Errors
    /// As [`Writer::commit`].
    pub fn commit_erasing(
        &mut self,
        entries: &[(Entry, Vec<u8>)],
        extra: &[(PathBuf, Vec<u8>)],
        removed: &[PathBuf],
    ) -> Result<&SignedCheckpoint, WriterError> {
        self.commit_signed_by(entries, extra, removed, None)
    }

    /// From now on this writer commits its batches at `point` ([`crate::commit`]) and its
    /// directory is a local copy of the log there. Call [`Writer::adopt`] before the first
    /// batch.
    pub fn set_commit_point(&mut self, point: Box<dyn CommitPoint>) {
        self.commit_point = Some(point);
    }

    /// Takes the commit point back: this writer then commits to its directory.
    pub fn take_commit_point(&mut self) -> Option<Box<dyn CommitPoint>> {
        self.commit_point.take()
    }

    /// The commit point's name, if batches are committed at one.
    pub fn commit_point(&self) -> Option<String> {
        self.commit_point.as_ref().map(|p| p.describe())
    }

    /// Creates the local copy of the log committed at `point` in `dir` (which has no
    /// checkpoint yet; its `private/` may already hold the log key) and returns its writer,
    /// caught up by [`Writer::adopt`]. The checkpoint is written last, so an interrupted copy
    /// is started again from nothing.
    ///
    /// # Errors
    /// [`WriterError::AlreadyExists`] when `dir` holds a checkpoint, [`WriterError::Locked`],
    /// and the errors of [`Writer::adopt`].
    pub fn create_copy(
        dir: &Path,
        log_key: Signer,
        point: Box<dyn CommitPoint>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Writer, WriterError> {
        let layout = Layout::new(dir);
        if layout.checkpoint().exists() {
            return Err(WriterError::AlreadyExists {
                dir: dir.to_path_buf(),
            });
        }
        let lock = lock_copy(&layout)?;
        // Leftovers of an interrupted copy are beyond its (absent) checkpoint.
        remove_beyond(&layout, 0)?;
        let mut w = Writer {
            tiles: DirTiles::new(layout.clone()),
            layout,
            _lock: lock,
            tip: Tip::empty(&log_key)?,
            signer: log_key,
            commit_point: Some(point),
        };
        w.adopt(progress)?;
        Ok(w)
    }

    /// Brings this writer's copy up to the log committed at its commit point (a no-op
    /// without one) and returns how many entries it adopted: the batches other writers
    /// committed since this copy's checkpoint.
    ///
    /// Nothing read is trusted: the commit point's checkpoint must verify with this writer's
    /// key and be at least this copy's size, the new entries (read from their bundles) must
    /// continue the copy's chain, and the hash tiles they give, recomputed here, must give
    /// the checkpoint's root; each blob must have the digest its name says. Only then are the
    /// tiles (the recomputed ones), bundles and blobs written and the checkpoint renamed into
    /// place, as a local commit. The register's rules are checked by the caller, which
    /// applies the adopted entries to its state.
    ///
    /// # Errors
    /// [`WriterError::CommitPointBehind`] (a smaller log there: refuse to sign),
    /// [`WriterError::CommitPointCorrupt`] (what it holds does not verify, or a fork),
    /// [`WriterError::Checkpoint`] (not signed by this writer's key),
    /// [`WriterError::CommitPoint`], [`WriterError::Io`].
    pub fn adopt(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, WriterError> {
        let Some(mut point) = self.commit_point.take() else {
            return Ok(0);
        };
        let verifier = self.signer.verifier();
        let adopted = adopt_into(
            &self.layout,
            &self.tiles,
            &mut self.tip,
            &verifier,
            point.as_mut(),
            progress,
        );
        self.commit_point = Some(point);
        adopted
    }

    fn commit_signed_by(
        &mut self,
        entries: &[(Entry, Vec<u8>)],
        extra: &[(PathBuf, Vec<u8>)],
        removed: &[PathBuf],
        next: Option<Signer>,
    ) -> Result<&SignedCheckpoint, WriterError> {
        let old = self.size();
        let (prev, time, leaves) =
            check_chain(old, self.tip.last_leaf, self.tip.last_recorded_at, entries)?;
        if entries.is_empty() {
            return Ok(&self.tip.checkpoint);
        }
        let started = std::time::Instant::now();
        let files = batch_files(
            &self.tiles,
            old,
            self.tip.checkpoint.checkpoint.root,
            &self.tip.bundle_tail,
            entries.iter().map(|(_, bytes)| bytes.as_slice()),
            &leaves,
        )?;
        let cp = Checkpoint {
            origin: self.tip.checkpoint.checkpoint.origin.clone(),
            size: files.size,
            root: files.root,
            extensions: Vec::new(),
        };
        let signed = SignedCheckpoint::sign(cp, next.as_ref().unwrap_or(&self.signer)).map_err(
            |source| WriterError::Checkpoint {
                path: self.layout.checkpoint_tmp(),
                source,
            },
        )?;
        let all = [extra, files.files.as_slice()];
        let remote = match self.commit_point.as_mut() {
            Some(point) => {
                let named: Vec<(String, &[u8])> = all
                    .iter()
                    .flat_map(|part| part.iter())
                    .map(|(p, b)| (p.to_string_lossy().into_owned(), b.as_slice()))
                    .collect();
                let removed: Vec<String> = removed
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                point.commit(&Commit {
                    old_size: old,
                    new_size: files.size,
                    checkpoint: &signed.bytes,
                    files: &named,
                    removed: &removed,
                })?;
                true
            }
            None => false,
        };
        let new = files.size;
        let installed = self.install(&all, signed, next, prev, time, files.tail, &files.full);
        match installed {
            // Committed at the commit point: a failure to write the local copy leaves it
            // behind, which the next batch's adoption repairs.
            Err(WriterError::Io(source)) if remote => {
                return Err(WriterError::AfterCommit { size: new, source })
            }
            other => other?,
        }
        tracing::info!(
            tree_size = new,
            entries = entries.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "committed batch"
        );
        Ok(&self.tip.checkpoint)
    }

    /// [`install_tip`], and from its commit point on the writer signs with `next`.
    #[allow(clippy::too_many_arguments)]
    fn install(
        &mut self,
        files: &[&[(PathBuf, Vec<u8>)]],
        signed: SignedCheckpoint,
        next: Option<Signer>,
        last_leaf: Hash,
        last_recorded_at: i64,
        tail: Vec<Vec<u8>>,
        full: &[Tile],
    ) -> Result<(), WriterError> {
        let installed = install_tip(
            &self.layout,
            &mut self.tip,
            files,
            signed,
            last_leaf,
            last_recorded_at,
            tail,
            full,
        );
        if let (Ok(()) | Err(WriterError::AfterCommit { .. }), Some(next)) = (&installed, next) {
            self.signer = next;
        }
        installed
    }
}

/// [`Writer::adopt`] into the directory `layout` whose log ends at `tip`, the commit point's
/// checkpoint verified with `verifier`: shared by writers and [`Follower`]s.
fn adopt_into(
    layout: &Layout,
    tiles: &DirTiles,
    tip: &mut Tip,
    verifier: &Verifier,
    point: &mut dyn CommitPoint,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<u64, WriterError> {
    let location = point.describe();
    let corrupt = |what: String| WriterError::CommitPointCorrupt {
        location: location.clone(),
        what,
    };
    let Some(bytes) = point.latest()? else {
        return Err(corrupt("no register was created there".into()));
    };
    let remote =
        SignedCheckpoint::open(&bytes, verifier).map_err(|source| WriterError::Checkpoint {
            path: PathBuf::from(&location),
            source,
        })?;
    let (m, n) = (tip.size(), remote.checkpoint.size);
    if remote.checkpoint.origin != tip.checkpoint.checkpoint.origin {
        return Err(corrupt(format!(
            "its checkpoint is of origin {:?}, this copy's of {:?}",
            remote.checkpoint.origin, tip.checkpoint.checkpoint.origin
        )));
    }
    if n < m {
        return Err(WriterError::CommitPointBehind {
            location,
            size: n,
            copy: layout.root().to_path_buf(),
            copy_size: m,
        });
    }
    if n == m {
        if remote.checkpoint.root != tip.checkpoint.checkpoint.root {
            return Err(corrupt(format!(
                "its checkpoint of size {n} has root {}, this copy's has {}: a fork",
                remote.checkpoint.root, tip.checkpoint.checkpoint.root
            )));
        }
        return Ok(0);
    }
    let mut at = m;
    let (mut root, mut prev, mut time) = (
        tip.checkpoint.checkpoint.root,
        tip.last_leaf,
        tip.last_recorded_at,
    );
    let mut tail = tip.bundle_tail.clone();
    let mut full_tiles = Vec::new();
    progress(0, n - m);
    while at < n {
        // Whole bundles: at most ADOPT_BUNDLES of them a round, the last one of the
        // width it has at size n.
        let first = at / 256;
        let last = ((n - 1) / 256).min(first + ADOPT_BUNDLES - 1);
        let bundles: Vec<Tile> = (first..=last)
            .map(|index| Tile {
                level: TileLevel::Entries,
                index,
                width: (n - index * 256).min(256) as u16,
            })
            .collect();
        let paths: Vec<String> = bundles.iter().map(Tile::path).collect();
        let got = point.get_many(&paths)?;
        let mut entries: Vec<(Entry, Vec<u8>)> = Vec::new();
        for (t, data) in bundles.iter().zip(got) {
            let path = t.path();
            let data = data.ok_or_else(|| corrupt(format!("{path} is missing")))?;
            let parsed = bundle::parse(&data).map_err(|e| corrupt(format!("{path}: {e}")))?;
            if parsed.len() != usize::from(t.width) {
                return Err(corrupt(format!(
                    "{path}: {} entries, expected {}",
                    parsed.len(),
                    t.width
                )));
            }
            let start = t.index * 256;
            for (i, bytes) in parsed.into_iter().enumerate() {
                let seq = start + i as u64;
                if seq < at {
                    // The copy's own partial bundle, carried into this one.
                    if tail.get(i).map(Vec::as_slice) != Some(bytes) {
                        return Err(corrupt(format!(
                            "{path}: entry {seq} differs from this copy's: a fork"
                        )));
                    }
                    continue;
                }
                let entry =
                    Entry::decode(bytes).map_err(|e| corrupt(format!("entry {seq}: {e}")))?;
                if seq == 0 && !matches!(entry.event, crate::event::Event::RegisterOpened(_)) {
                    return Err(WriterError::NotGenesis {
                        got: entry.event.name(),
                    });
                }
                entries.push((entry, bytes.to_vec()));
            }
        }
        let (p, t, leaves) = check_chain(at, prev, time, &entries)
            .map_err(|e| corrupt(format!("its entries: {e}")))?;
        let files = batch_files(
            tiles,
            at,
            root,
            &tail,
            entries.iter().map(|(_, b)| b.as_slice()),
            &leaves,
        )?;
        let mut round = Batch::new();
        for (path, bytes) in &files.files {
            round.write(&layout.root().join(path), bytes)?;
        }
        round.sync()?;
        (at, root, prev, time, tail) = (files.size, files.root, p, t, files.tail);
        full_tiles.extend(files.full);
        progress(at - m, n - m);
    }
    if root != remote.checkpoint.root {
        return Err(corrupt(format!(
            "its entries give root {root} at size {n}, its checkpoint says {}",
            remote.checkpoint.root
        )));
    }
    // The texts of the adopted batches, each checked against its name.
    let changes = point.changes(m, n)?;
    let mut blobs = Vec::new();
    for names in changes.added.chunks(256) {
        for (name, data) in names.iter().zip(point.get_many(names)?) {
            let digest = name
                .strip_prefix("blobs/")
                .and_then(crate::blob::digest_of_name)
                .ok_or_else(|| corrupt(format!("{name} is not a blob's name")))?;
            // Erased since it was listed: nothing to copy.
            let Some(data) = data else { continue };
            crate::blob::Blob::parse(&digest, &data)
                .map_err(|e| corrupt(format!("{name}: {e}")))?;
            blobs.push((PathBuf::from(name), data));
        }
    }
    install_tip(
        layout,
        tip,
        &[&blobs],
        remote,
        prev,
        time,
        tail,
        &full_tiles,
    )?;
    for name in &changes.removed {
        durable::remove_file_unsynced(&layout.root().join(name))?;
    }
    tracing::info!(from = m, to = n, "adopted the commit point's batches");
    Ok(n - m)
}

/// The local commit of a batch to the directory `layout` whose log ends at `tip`: its files
/// in one durable round, then the checkpoint written beside and renamed over `checkpoint`
/// (the directory's commit point), then the superseded partial tiles removed.
#[allow(clippy::too_many_arguments)]
fn install_tip(
    layout: &Layout,
    tip: &mut Tip,
    files: &[&[(PathBuf, Vec<u8>)]],
    signed: SignedCheckpoint,
    last_leaf: Hash,
    last_recorded_at: i64,
    tail: Vec<Vec<u8>>,
    full: &[Tile],
) -> Result<(), WriterError> {
    let new = signed.checkpoint.size;
    let mut batch = Batch::new();
    for (path, bytes) in files.iter().flat_map(|part| part.iter()) {
        batch.write(&layout.root().join(path), bytes)?;
    }
    batch.sync()?;
    // durable::replace, in its steps: everything before the rename leaves the log as it
    // was, and the rename is the commit point, so a failure after it is not "nothing
    // written" but AfterCommit.
    let (path, tmp) = (layout.checkpoint(), layout.checkpoint_tmp());
    durable::write_synced(&tmp, &signed.bytes, false)?;
    std::fs::rename(&tmp, &path).map_err(|e| IoError::new("rename", &path, e))?;

    tip.checkpoint = signed;
    tip.last_leaf = last_leaf;
    tip.last_recorded_at = last_recorded_at;
    tip.bundle_tail = tail;
    durable::sync_dir(layout.root())
        .map_err(|source| WriterError::AfterCommit { size: new, source })?;
    // Partial tiles superseded by a full tile may go now that the full one is published
    // (c2sp.org/tlog-tiles); failing to delete one only leaves a valid file behind.
    for t in full {
        // Not synced: if a crash undoes the removal, the old partials are still valid.
        match std::fs::remove_dir_all(layout.partial_dir(t)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(error = %e, "could not remove superseded partial tiles");
            }
            _ => {}
        }
    }
    Ok(())
}

/// The hash tiles and entry bundles that `entries` (with their `leaves`) add to a log of
/// `old` entries whose root is `root` (its tiles read from `tiles`, verified against that
/// root) and whose partial bundle holds `tail`; and the new root.
fn batch_files<'a>(
    tiles: &DirTiles,
    old: u64,
    root: Hash,
    tail: &[Vec<u8>],
    entries: impl Iterator<Item = &'a [u8]>,
    leaves: &[Hash],
) -> Result<BatchFiles, WriterError> {
    let appended = if old == 0 {
        tile::append_leaves(0, leaves, &merkle::MemoryHashes::default())?
    } else {
        let reader = TileHashReader::new(old, root, tiles);
        tile::append_leaves(old, leaves, &reader)?
    };
    let mut files = Vec::new();
    let mut full = Vec::new();
    for (tile, data) in appended.tiles {
        if tile.is_full() {
            full.push(tile);
        }
        files.push((PathBuf::from(tile.path()), data));
    }
    let mut tail = tail.to_vec();
    let mut index = old / 256;
    for bytes in entries {
        tail.push(bytes.to_vec());
        if tail.len() == 256 {
            let t = Tile {
                level: TileLevel::Entries,
                index,
                width: FULL_WIDTH,
            };
            files.push((PathBuf::from(t.path()), encode_bundle(&tail, &t)?));
            full.push(t);
            tail.clear();
            index += 1;
        }
    }
    if !tail.is_empty() {
        let t = Tile {
            level: TileLevel::Entries,
            index,
            width: tail.len() as u16,
        };
        files.push((PathBuf::from(t.path()), encode_bundle(&tail, &t)?));
    }
    Ok(BatchFiles {
        size: old + leaves.len() as u64,
        root: appended.root,
        files,
        tail,
        full,
    })
}

/// A batch's tiles and bundles, as [`batch_files`] computes them.
struct BatchFiles {
    size: u64,
    root: Hash,
    files: Vec<(PathBuf, Vec<u8>)>,
    /// The entries of the partial bundle after the batch.
    tail: Vec<Vec<u8>>,
    /// The full tiles and bundles of the batch, whose partial versions may go.
    full: Vec<Tile>,
}

/// Checks that `entries` continue a log of `size` entries whose last leaf is `prev` and whose
/// last `recorded_at` is `time`; returns the new last leaf, time, and the entries' leaves.
fn check_chain(
    size: u64,
    mut prev: Hash,
    mut time: i64,
    entries: &[(Entry, Vec<u8>)],
) -> Result<(Hash, i64, Vec<Hash>), WriterError> {
    let mut leaves = Vec::with_capacity(entries.len());
    for (i, (entry, bytes)) in entries.iter().enumerate() {
        let seq = size + i as u64;
        if entry.seq != seq {
            return Err(WriterError::OutOfSequence {
                size: seq,
                got: entry.seq,
            });
        }
        if entry.prev != prev {
            return Err(WriterError::BrokenChain {
                seq,
                expected: prev,
                got: entry.prev,
            });
        }
        if entry.recorded_at < time {
            return Err(WriterError::TimeWentBack {
                seq,
                previous: time,
                got: entry.recorded_at,
            });
        }
        prev = leaf_hash(bytes);
        time = entry.recorded_at;
        leaves.push(prev);
    }
    Ok((prev, time, leaves))
}

impl Writer {
    /// Makes a batch whose [`Writer::commit`] failed before the commit point definitely not
    /// committed: removes its temporary checkpoint, durably, which recovery would otherwise
    /// roll forward on the next open (a failed rename leaves a complete, signed one). Only
    /// after this may the batch's other files (its blobs) be deleted.
    ///
    /// # Errors
    /// [`WriterError::Io`] if the removal fails: the batch may still be rolled forward, so
    /// leave its files to the next open's recovery.
    pub fn abandon_batch(&mut self) -> Result<(), WriterError> {
        durable::remove_file(&self.layout.checkpoint_tmp())?;
        Ok(())
    }
}

/// A local copy of the log committed at a commit point, kept up to date without signing
/// anything: the directory a `sijil serve` replica of a register in a database serves from
/// (issue 14: "any number of stateless replicas"). It holds the copy's lock, as a writer
/// does, and adopts new batches exactly as a writer does ([`Writer::adopt`]: everything
/// re-verified), but with the log's verifier key only.
#[derive(Debug)]
pub struct Follower {
    layout: Layout,
    tiles: DirTiles,
    _lock: File,
    verifier: Verifier,
    tip: Tip,
    point: Box<dyn CommitPoint>,
}

impl Follower {
    /// Opens (or creates) the copy in `dir` of the log at `point`, whose checkpoints
    /// `verifier` verifies, and brings it up to date.
    ///
    /// # Errors
    /// [`WriterError::Locked`]; for an existing copy, the errors of [`Writer::open`] (its
    /// checkpoint and edge checked); those of [`Writer::adopt`].
    pub fn open(
        dir: &Path,
        verifier: Verifier,
        point: Box<dyn CommitPoint>,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Follower, WriterError> {
        let layout = Layout::new(dir);
        let lock = lock_copy(&layout)?;
        let tiles = DirTiles::new(layout.clone());
        let tip = if layout.checkpoint().is_file() {
            let bytes = durable::read(&layout.checkpoint())?;
            let checkpoint = open_checkpoint(&layout.checkpoint(), &bytes, &verifier)?;
            remove_beyond(&layout, checkpoint.checkpoint.size)?;
            let (last_leaf, last_recorded_at, bundle_tail) =
                check_edge(&tiles, &checkpoint.checkpoint)?;
            Tip {
                checkpoint,
                last_leaf,
                last_recorded_at,
                bundle_tail,
            }
        } else {
            remove_beyond(&layout, 0)?;
            // The empty tree's checkpoint is never written or served: any key signs it.
            Tip::empty(
                &Signer::generate(verifier.name()).map_err(|e| WriterError::Corrupt {
                    what: format!("the verifier's name {:?}: {e}", verifier.name()),
                })?,
            )?
        };
        let mut follower = Follower {
            layout,
            tiles,
            _lock: lock,
            verifier,
            tip,
            point,
        };
        follower.adopt(progress)?;
        Ok(follower)
    }

    /// Adopts the batches committed since the copy's checkpoint; returns how many entries.
    ///
    /// # Errors
    /// As [`Writer::adopt`].
    pub fn adopt(&mut self, progress: &mut dyn FnMut(u64, u64)) -> Result<u64, WriterError> {
        adopt_into(
            &self.layout,
            &self.tiles,
            &mut self.tip,
            &self.verifier,
            self.point.as_mut(),
            progress,
        )
    }

    /// The copy's checkpoint.
    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.tip.checkpoint
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }
}

/// How many entry bundles [`Writer::adopt`] reads and checks a round: 16,384 entries.
const ADOPT_BUNDLES: u64 = 64;

fn encode_bundle(entries: &[Vec<u8>], tile: &Tile) -> Result<Vec<u8>, WriterError> {
    bundle::encode(entries).map_err(|source| WriterError::Bundle {
        what: tile.path(),
        source,
    })
}

/// Takes the exclusive advisory lock `path` (created if missing) without waiting, as the
/// writer does on `private/lock`; the lock lasts as long as the returned file is open. Other
/// single-writer jobs on a register directory (a mirror run, `sijil cosign`) take the same
/// lock, so they never interleave with each other or with an append.
///
/// # Errors
/// [`WriterError::Locked`] if another process holds it; [`WriterError::Io`].
pub fn lock_exclusive(path: &Path) -> Result<File, WriterError> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| IoError::new("open", path, e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(TryLockError::WouldBlock) => Err(WriterError::Locked {
            lock: path.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(IoError::new("lock", path, e).into()),
    }
}

/// Takes the lock of the local copy at `layout`, creating its `private/` if needed.
fn lock_copy(layout: &Layout) -> Result<File, WriterError> {
    std::fs::create_dir_all(layout.private())
        .map_err(|e| IoError::new("mkdir", &layout.private(), e))?;
    lock_exclusive(&layout.lock())
}

fn open_checkpoint(
    path: &Path,
    bytes: &[u8],
    verifier: &Verifier,
) -> Result<SignedCheckpoint, WriterError> {
    SignedCheckpoint::open(bytes, verifier).map_err(|source| WriterError::Checkpoint {
        path: path.to_path_buf(),
        source,
    })
}

/// The temporary checkpoint, if it is complete, verifies, is larger than the current one and
/// the tiles on disk prove it consistent with the current one.
fn roll_forward_candidate(
    layout: &Layout,
    tiles: &DirTiles,
    current: &SignedCheckpoint,
    verifier: &Verifier,
) -> Option<SignedCheckpoint> {
    let bytes = durable::read(&layout.checkpoint_tmp()).ok()?;
    let newer = SignedCheckpoint::open(&bytes, verifier).ok()?;
    let (old, new) = (&current.checkpoint, &newer.checkpoint);
    if new.size <= old.size || new.origin != old.origin {
        return None;
    }
    let reader = TileHashReader::new(new.size, new.root, tiles);
    if merkle::tree_hash(new.size, &reader).ok()? != new.root {
        return None;
    }
    let proof = merkle::prove_consistency(old.size, new.size, &reader).ok()?;
    merkle::check_consistency(&proof, old.size, &old.root, new.size, &new.root).ok()?;
    Some(newer)
}

/// Removes every tile and bundle file that covers entries beyond `size`: the leftovers of a
/// batch that did not commit. Partial tiles of smaller (published) sizes are kept.
fn remove_beyond(layout: &Layout, size: u64) -> Result<(), WriterError> {
    let mut levels: Vec<Option<u8>> = vec![None];
    levels.extend((0..64u8).map(Some));
    for level in levels {
        let count = match level {
            None => size,
            Some(l) => size.checked_shr(8 * u32::from(l)).unwrap_or(0),
        };
        let full = count / 256;
        let width = (count % 256) as u16;
        let level_dir = match level {
            None => layout.root().join("tile/entries"),
            Some(l) => layout.root().join(format!("tile/{l}")),
        };
        if !level_dir.exists() {
            if level.is_some_and(|l| l > 0) {
                break;
            }
            continue;
        }
        let mut index = full;
        loop {
            let probe = match level {
                None => Tile {
                    level: TileLevel::Entries,
                    index,
                    width: FULL_WIDTH,
                },
                Some(l) => Tile {
                    level: TileLevel::Hash(l),
                    index,
                    width: FULL_WIDTH,
                },
            };
            let full_path = layout.tile(&probe);
            let partial_dir = layout.partial_dir(&probe);
            let keep_below = if index == full { width } else { 0 };
            let mut found = false;
            if full_path.is_file() {
                durable::remove_file(&full_path)?;
                found = true;
            }
            if let Ok(rd) = std::fs::read_dir(&partial_dir) {
                found = true;
                for f in rd.flatten() {
                    let w: u16 = f.file_name().to_string_lossy().parse().unwrap_or(u16::MAX);
                    if w > keep_below {
                        durable::remove_file(&f.path())?;
                    }
                }
            }
            if !found && index > full {
                break;
            }
            index += 1;
        }
    }
    Ok(())
}

/// Checks the checkpoint against the tiles (the root recomputed from the edge) and the last
/// entry bundle against the level-0 tile; returns the last leaf hash, the last entry's
/// `recorded_at`, and the entries of the current partial bundle.
fn check_edge(tiles: &DirTiles, cp: &Checkpoint) -> Result<(Hash, i64, Vec<Vec<u8>>), WriterError> {
    let corrupt = |what: String| WriterError::Corrupt { what };
    let size = cp.size;
    if size == 0 {
        return Err(corrupt(
            "checkpoint of size 0: a register always holds its genesis entry".into(),
        ));
    }
    let reader = TileHashReader::new(size, cp.root, tiles);
    // A file that cannot be read is an I/O error (exit 2, retry), not a register that fails
    // verification: only what was read and found wrong is corruption.
    let root = merkle::tree_hash(size, &reader).map_err(|e| match e {
        MerkleError::Storage(message) => WriterError::Storage {
            what: format!("tiles for size {size}"),
            message,
        },
        e => corrupt(format!("tiles for size {size}: {e}")),
    })?;
    if root != cp.root {
        return Err(corrupt(format!(
            "tiles give root {root} for size {size}, checkpoint says {}",
            cp.root
        )));
    }
    let last = size - 1;
    let bundle_tile = Tile {
        level: TileLevel::Entries,
        index: last / 256,
        width: (last % 256 + 1) as u16,
    };
    let data = tiles.read_tile(&bundle_tile).map_err(|e| {
        if e.is_not_found() {
            corrupt(e.to_string())
        } else {
            WriterError::Io(e)
        }
    })?;
    let entries =
        bundle::parse(&data).map_err(|e| corrupt(format!("{}: {e}", bundle_tile.path())))?;
    let expected_count = usize::from(bundle_tile.width);
    if entries.len() != expected_count {
        return Err(corrupt(format!(
            "{}: {} entries, expected {expected_count}",
            bundle_tile.path(),
            entries.len()
        )));
    }
    // Every entry of the partial bundle is carried into the next bundle file: check them all
    // against the level-0 tile (verified against the root), not only the last.
    let first = last + 1 - expected_count as u64;
    let indexes: Vec<u64> = (first..=last)
        .map(|seq| merkle::stored_hash_index(0, seq))
        .collect();
    let stored = reader.read_hashes(&indexes).map_err(|e| match e {
        MerkleError::Storage(message) => WriterError::Storage {
            what: format!("leaf hashes of {}", bundle_tile.path()),
            message,
        },
        e => corrupt(format!("leaf hashes of {}: {e}", bundle_tile.path())),
    })?;
    for (i, (bytes, want)) in entries.iter().zip(&stored).enumerate() {
        if leaf_hash(bytes) != *want {
            return Err(corrupt(format!(
                "entry {} in {} does not match its leaf hash in the tiles",
                first + i as u64,
                bundle_tile.path()
            )));
        }
    }
    let last_bytes = entries[expected_count - 1];
    let leaf = leaf_hash(last_bytes);
    let entry = Entry::decode(last_bytes).map_err(|e| corrupt(format!("entry {last}: {e}")))?;
    let tail = if expected_count == 256 {
        Vec::new()
    } else {
        entries.iter().map(|e| e.to_vec()).collect()
    };
    Ok((leaf, entry.recorded_at, tail))
}
