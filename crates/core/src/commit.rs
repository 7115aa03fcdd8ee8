//! Where a batch is committed: the storage seam of issue 14.
//!
//! A register's writer always works on a directory (tiles, bundles, blobs, its state under
//! `private/`): the tiles it extends and the state its rules read are local. The *commit
//! point* is where a batch becomes part of the log. For a directory register it is the
//! rename of `checkpoint` ([`crate::writer`]); for a register in a database it is a
//! transaction that advances the database's checkpoint by compare-and-swap on the previous
//! size, and the writer's directory is then a local copy that is never ahead of it:
//!
//! 1. the writer computes the batch's files (hash tiles, entry bundles, blobs) and signs the
//!    new checkpoint in memory;
//! 2. [`CommitPoint::commit`] stores them with the checkpoint, only if the log is still at
//!    the size the batch extends ([`CommitPointError::Conflict`] otherwise: nothing stored);
//! 3. only then are the same bytes written to the local copy, as a directory commit.
//!
//! A writer that lost a race, or that starts on a machine whose copy is behind, first
//! *adopts* what the commit point holds ([`crate::writer::Writer::adopt`]): it reads the new
//! entries, recomputes their tiles and root itself, and accepts them only if that root is the
//! one the commit point's checkpoint signs. Nothing read from the commit point is trusted.
//!
//! Like Sunlight's lock backends and Tessera's sequencers (Spanner, Aurora MySQL), the
//! compare-and-swap is the only thing the database is trusted for; availability and
//! durability are its replication's. The checkpoint is a C2SP signed note
//! (c2sp.org/tlog-checkpoint); the files are named by their c2sp.org/tlog-tiles paths, or
//! `blobs/<hex>` (docs/FORMAT.md §4).

/// One batch, as [`CommitPoint::commit`] stores it.
#[derive(Debug, Clone, Copy)]
pub struct Commit<'a> {
    /// The size of the log the batch extends (0 for the genesis batch: the register is
    /// created by it).
    pub old_size: u64,
    /// The size after the batch.
    pub new_size: u64,
    /// The new signed checkpoint (the note's bytes).
    pub checkpoint: &'a [u8],
    /// The batch's new files: hash tiles and entry bundles (tlog-tiles paths, partial tiles
    /// included) and blobs (`blobs/<hex>`). A blob may already be stored (the same text
    /// named again after an erasure is a new blob only by name): identical bytes are kept.
    pub files: &'a [(String, &'a [u8])],
    /// Blobs the batch's erasures delete (`blobs/<hex>`); absent ones are not an error.
    pub removed: &'a [String],
}

/// What the commit point says was committed after a size: for a writer adopting the batches
/// of others ([`crate::writer::Writer::adopt`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Blobs stored by batches after the size, still present (`blobs/<hex>`).
    pub added: Vec<String>,
    /// Blobs removed by batches after the size (`blobs/<hex>`).
    pub removed: Vec<String>,
}

/// Why a commit point could not do what was asked.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommitPointError {
    /// Another writer advanced the log first: it is at `actual`, not `expected`. Nothing was
    /// stored.
    #[error("the log at {location} is at size {actual}, not {expected}: another writer committed first; nothing was stored")]
    Conflict {
        location: String,
        expected: u64,
        actual: u64,
    },
    /// A genesis commit where a register already exists.
    #[error("{location} already holds a register (of size {size})")]
    AlreadyExists { location: String, size: u64 },
    /// The commit may or may not have happened (the connection was lost during it): the
    /// writer must find out from the commit point before it signs again.
    #[error("{location}: the outcome of the commit of size {new_size} is unknown: {message}")]
    Unknown {
        location: String,
        new_size: u64,
        message: String,
    },
    /// The commit point could not be read or written (connection, permissions, schema).
    #[error("{location}: {message}")]
    Unavailable { location: String, message: String },
}

/// Where batches are committed when it is not the writer's own directory (see the module
/// docs). Implemented for PostgreSQL by `sijil-postgres`.
pub trait CommitPoint: Send + std::fmt::Debug {
    /// A name for messages (a URL without its password).
    fn describe(&self) -> String;

    /// The committed checkpoint's bytes; `None` when no register was created there.
    ///
    /// # Errors
    /// [`CommitPointError::Unavailable`].
    fn latest(&mut self) -> Result<Option<Vec<u8>>, CommitPointError>;

    /// Reads committed files (tlog-tiles paths, `blobs/<hex>`), `None` for an absent one, in
    /// the order asked.
    ///
    /// # Errors
    /// [`CommitPointError::Unavailable`].
    fn get_many(&mut self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, CommitPointError>;

    /// The blobs stored and removed by the batches that took the log from `after` to
    /// `up_to` (a checkpoint read before: batches committed since are not included, so a
    /// copy never holds a text its entries do not name yet, nor loses one they still do).
    ///
    /// # Errors
    /// [`CommitPointError::Unavailable`].
    fn changes(&mut self, after: u64, up_to: u64) -> Result<Changes, CommitPointError>;

    /// Stores `commit` atomically if the log is at `commit.old_size` (for 0: if no register
    /// exists), and returns once it is durable.
    ///
    /// # Errors
    /// [`CommitPointError::Conflict`] / [`CommitPointError::AlreadyExists`] (nothing stored),
    /// [`CommitPointError::Unknown`], [`CommitPointError::Unavailable`] (nothing stored).
    fn commit(&mut self, commit: &Commit<'_>) -> Result<(), CommitPointError>;
}

/// Every public file of the register directory `dir` but its checkpoint: the tiles and
/// bundles under `tile/` and the texts under `blobs/`, named by their paths in it (what a
/// register moved to a commit point stores there: `sijil init`, `sijil migrate`). Files
/// beyond the checkpoint are the caller's to exclude (a writer's lock keeps them away).
///
/// # Errors
/// [`crate::durable::IoError`] when a directory or file cannot be read.
pub fn register_files(
    dir: &std::path::Path,
) -> Result<Vec<(String, Vec<u8>)>, crate::durable::IoError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.join("tile"), dir.join("blobs")];
    while let Some(d) = stack.pop() {
        let listing = match std::fs::read_dir(&d) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(crate::durable::IoError::new("read dir", &d, e)),
        };
        for e in listing {
            let e = e.map_err(|e| crate::durable::IoError::new("read dir", &d, e))?;
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                files.push((
                    rel.to_string_lossy().into_owned(),
                    crate::durable::read(&path)?,
                ));
            }
        }
    }
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// A commit point in memory, shared by the writers (of one process) that hold a clone of it,
/// as a database is by its clients: the semantics `sijil-postgres` gives, for the tests of
/// writers that race, adopt and refuse.
#[derive(Debug, Clone, Default)]
pub struct MemoryCommitPoint(std::sync::Arc<std::sync::Mutex<MemoryLog>>);

#[derive(Debug, Default)]
struct MemoryLog {
    size: u64,
    checkpoint: Option<Vec<u8>>,
    /// Each file with the size of the batch that stored it.
    files: std::collections::BTreeMap<String, (Vec<u8>, u64)>,
    removed: Vec<(String, u64)>,
}

impl MemoryCommitPoint {
    /// A commit point holding the register in `dir` (of `size` entries) as it is: its
    /// checkpoint, tiles, bundles and blobs.
    ///
    /// # Errors
    /// [`crate::durable::IoError`] when a file cannot be read.
    pub fn holding(
        dir: &std::path::Path,
        size: u64,
    ) -> Result<MemoryCommitPoint, crate::durable::IoError> {
        let point = MemoryCommitPoint::default();
        let mut log = point.lock();
        log.size = size;
        log.checkpoint = Some(crate::durable::read(&dir.join("checkpoint"))?);
        for (path, bytes) in register_files(dir)? {
            log.files.insert(path, (bytes, size));
        }
        drop(log);
        Ok(point)
    }

    /// The committed size.
    pub fn size(&self) -> u64 {
        self.lock().size
    }

    /// Whether a file is stored at `path`.
    pub fn holds(&self, path: &str) -> bool {
        self.lock().files.contains_key(path)
    }

    /// Replaces the bytes stored at `path`: what a damaged or hostile database would serve.
    pub fn replace(&self, path: &str, bytes: Vec<u8>) {
        let mut log = self.lock();
        let size = log.size;
        log.files.insert(path.to_owned(), (bytes, size));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryLog> {
        // A panic while holding it leaves a consistent log: every change is one insert.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl CommitPoint for MemoryCommitPoint {
    fn describe(&self) -> String {
        "a commit point in memory".into()
    }

    fn latest(&mut self) -> Result<Option<Vec<u8>>, CommitPointError> {
        Ok(self.lock().checkpoint.clone())
    }

    fn get_many(&mut self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, CommitPointError> {
        let log = self.lock();
        Ok(paths
            .iter()
            .map(|p| log.files.get(p).map(|(b, _)| b.clone()))
            .collect())
    }

    fn changes(&mut self, after: u64, up_to: u64) -> Result<Changes, CommitPointError> {
        let log = self.lock();
        let between = |s: u64| s > after && s <= up_to;
        Ok(Changes {
            added: log
                .files
                .iter()
                .filter(|(p, (_, s))| p.starts_with("blobs/") && between(*s))
                .map(|(p, _)| p.clone())
                .collect(),
            removed: log
                .removed
                .iter()
                .filter(|(_, s)| between(*s))
                .map(|(p, _)| p.clone())
                .collect(),
        })
    }

    fn commit(&mut self, c: &Commit<'_>) -> Result<(), CommitPointError> {
        let mut log = self.lock();
        if c.old_size == 0 && log.checkpoint.is_some() {
            return Err(CommitPointError::AlreadyExists {
                location: self.describe(),
                size: log.size,
            });
        }
        if log.size != c.old_size {
            return Err(CommitPointError::Conflict {
                location: self.describe(),
                expected: c.old_size,
                actual: log.size,
            });
        }
        log.size = c.new_size;
        log.checkpoint = Some(c.checkpoint.to_vec());
        for (p, b) in c.files {
            log.files.insert(p.clone(), (b.to_vec(), c.new_size));
        }
        for p in c.removed {
            log.files.remove(p);
            log.removed.push((p.clone(), c.new_size));
        }
        Ok(())
    }
}
