//! The writer's state: the view as one record per key, in an embedded database
//! (`private/state.redb`), so that an append reads only the cases, controllers, annotations
//! and index keys its batch touches (issue 9) instead of the view of every case.
//!
//! What is stored (each record is `sijil_projector::records`' bytes, or the index's):
//!
//! | table | key | value |
//! |---|---|---|
//! | `head` | `"head"` | the register, its officers, the log's edge, counts, index root |
//! | `head` | `"log"` | the tree size and root the state is of (checked against the checkpoint) |
//! | `cases` | case id | the case's record, ordinal and controller id |
//! | `controllers` | controller id | the controller's record |
//! | `annotations` | target seq | the corrections, amendments and erasure of that entry |
//! | `key_logs` | index key | the key's mini-log |
//! | `trie` | trie label | an inner node of the index trie (`sijil_index::stored`; a leaf is in its parent's record) |
//! | `numbers` | year | the highest `YYYY-NNNN` case number of that year |
//! | `texts` | text digest | the seq of the entry that names that redactable text |
//!
//! The state is derived from the log and is never the commit point: it is written after a
//! batch commits, in one redb transaction, and says which tree size and root it is of. On
//! open the writer uses it if it is of the checkpoint, replays the entries it lacks if it is
//! behind (a crash between the commit and its write), and rebuilds it from the log (the view
//! snapshot and the entries after it) if it is missing, ahead, of another tree, or does not
//! decode. A batch that fails leaves it untouched, since it is never written before the
//! commit.
//!
//! The writer opens it in redb's single-writer mode, so that `sijil serve` on the same
//! directory reads it at the same time ([`StateReader`], read-only): a server that answers
//! from these records, loaded per request, instead of holding the whole view (issue 11).
//! A reader uses a read transaction whose `"log"` record is the checkpoint it serves, so
//! what it answers is exactly the fold of the entries that checkpoint covers, as with a view.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{
    ConcurrencyMode, Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition, TableError,
};
use sijil_core::event::TextDigest;
use sijil_core::Hash;
use sijil_index::stored::{prove_stored, read_partial, NodeSource, StoredNode};
use sijil_index::trie::Sha256Hash;
use sijil_index::{Index, IndexKey, KeyLog, Label, TrieProof};
use sijil_projector::records::{
    annotations_from_bytes, key_log_from_bytes, CaseSlot, ControllerSlot, Head, Record,
    RecordError, Slice, Touched,
};
use sijil_projector::{Annotations, Listing, ListingBuilder, ListingError, View};

use crate::batch::case_number;

const HEAD: TableDefinition<&str, &[u8]> = TableDefinition::new("head");
const CASES: TableDefinition<&str, &[u8]> = TableDefinition::new("cases");
const CONTROLLERS: TableDefinition<&str, &[u8]> = TableDefinition::new("controllers");
const ANNOTATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("annotations");
const KEY_LOGS: TableDefinition<&[u8; 32], &[u8]> = TableDefinition::new("key_logs");
const TRIE: TableDefinition<&[u8], &[u8]> = TableDefinition::new("trie");
const NUMBERS: TableDefinition<i32, u32> = TableDefinition::new("numbers");
const TEXTS: TableDefinition<&[u8; 32], u64> = TableDefinition::new("texts");

/// The version of what this module stores; a state of another version is rebuilt.
/// 2: the `texts` table.
const STATE_VERSION: u32 = 2;

/// How the writer and the readers share the file: one writer, any number of read-only
/// readers in other processes (redb's byte-range locks).
const SHARING: ConcurrencyMode = ConcurrencyMode::SingleWriter;

/// The page cache of a reader's handle: the records a request reads are few, and the
/// kernel's page cache holds the file (issue 11: 1 MiB, was 4, for a server under 64 MB).
const READER_CACHE: usize = 1 << 20;

/// Why the writer's state cannot be read or written. The state is a cache of the log: the
/// writer rebuilds it from the log on any of these at open.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("writer state {path}: {source}")]
    Db {
        path: String,
        #[source]
        source: redb::Error,
    },
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("writer state: the index trie: {message}")]
    Trie { message: String },
    #[error("writer state: the {what} record does not decode: {message}")]
    Malformed { what: &'static str, message: String },
    #[error("writer state: {0}")]
    Listing(#[from] ListingError),
}

/// The writer's state database (see the module).
pub(crate) struct WriterState {
    db: Database,
    path: String,
}

impl std::fmt::Debug for WriterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterState")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Names the record's key in a decoding error.
fn named(key: &str) -> impl FnOnce(RecordError) -> RecordError {
    let key = key.to_owned();
    move |err| RecordError { key, ..err }
}

/// The trie table of a read transaction, as a node source.
struct Nodes<'a>(&'a redb::ReadOnlyTable<&'static [u8], &'static [u8]>);

impl NodeSource for Nodes<'_> {
    type Error = String;

    fn node(&self, label: &Label) -> Result<Option<StoredNode>, String> {
        let Some(bytes) = self
            .0
            .get(label.to_key_bytes().as_slice())
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        StoredNode::from_bytes(bytes.value())
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// How deep a state snapshot keeps the trie's nodes it read: those whose label has at most
/// this many bits, 2,047 nodes at most, in slots of about 140 bytes (about 280 KiB once
/// filled). Every key's proof walks them: about 11 of the 19 nodes a proof reads at 10^6
/// entries (200,000 cases), each a redb look-up; the trie path was a sixth of a random case
/// answer's time (issue 11). Keeping them took about a quarter of that away: the lower
/// nodes' pages are the ones that miss the reader's 1 MiB page cache, and each level more
/// doubles what is kept.
const KEPT_TRIE_BITS: u16 = 10;

/// Where the node of `label` is kept, if it is an upper one: its place in a full binary
/// tree of depth [`KEPT_TRIE_BITS`], by level then prefix.
fn kept_slot(label: &Label) -> Option<usize> {
    let bits = label.bits();
    if bits > KEPT_TRIE_BITS || *label == Label::EMPTY {
        return None;
    }
    let p = label.prefix_bytes();
    let first =
        u32::from(p.first().copied().unwrap_or(0)) << 8 | u32::from(p.get(1).copied().unwrap_or(0));
    let prefix = first >> (16 - u32::from(bits));
    Some((1usize << bits) - 1 + prefix as usize)
}

/// The trie's upper nodes a snapshot read, by [`kept_slot`] (empty until a key is proven).
type UpperNodes = std::sync::RwLock<Vec<Option<StoredNode>>>;

/// [`Nodes`], keeping the upper nodes it reads in `kept` (one snapshot's, so one version of
/// the trie). Nothing kept is trusted more than what the table gives: a proof built from
/// them is verified against the head's index root as before.
struct KeptNodes<'a> {
    table: Nodes<'a>,
    kept: &'a UpperNodes,
}

impl NodeSource for KeptNodes<'_> {
    type Error = String;

    fn node(&self, label: &Label) -> Result<Option<StoredNode>, String> {
        let slot = kept_slot(label);
        if let Some(i) = slot {
            let kept = self.kept.read().unwrap_or_else(|e| e.into_inner());
            if let Some(Some(node)) = kept.get(i) {
                return Ok(Some(node.clone()));
            }
        }
        let node = self.table.node(label)?;
        if let (Some(i), Some(n)) = (slot, &node) {
            let mut kept = self.kept.write().unwrap_or_else(|e| e.into_inner());
            if kept.is_empty() {
                kept.resize((1 << (KEPT_TRIE_BITS + 1)) - 1, None);
            }
            if let Some(place) = kept.get_mut(i) {
                *place = Some(n.clone());
            }
        }
        Ok(node)
    }
}

impl WriterState {
    /// Opens (or creates) the state database at `path`. The writer holds the register's lock.
    ///
    /// # Errors
    /// [`StateError::Db`] when the file cannot be opened as a redb database.
    pub(crate) fn open(path: &Path) -> Result<WriterState, StateError> {
        let shown = path.display().to_string();
        let db = Database::builder()
            .set_concurrency_mode(SHARING)
            .create(path)
            .map_err(|e| StateError::Db {
                path: shown.clone(),
                source: e.into(),
            })?;
        Ok(WriterState { db, path: shown })
    }

    /// An empty state in memory: what a writer holds while it replaces its state on disk
    /// (the file cannot be opened twice), and keeps if that fails, so that its next batch
    /// tries again.
    ///
    /// # Errors
    /// [`StateError::Db`] if redb cannot create it.
    pub(crate) fn empty_in_memory() -> Result<WriterState, StateError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|e| StateError::Db {
                path: "(memory)".into(),
                source: e.into(),
            })?;
        Ok(WriterState {
            db,
            path: "(memory)".into(),
        })
    }

    /// An empty state database at `path`, in place of whatever was there.
    ///
    /// # Errors
    /// [`StateError::Db`] when the old file cannot be removed or the new one created.
    pub(crate) fn recreate(path: &Path) -> Result<WriterState, StateError> {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StateError::Db {
                    path: path.display().to_string(),
                    source: redb::Error::Io(e),
                })
            }
        }
        WriterState::open(path)
    }

    fn db_error(&self, e: impl Into<redb::Error>) -> StateError {
        StateError::Db {
            path: self.path.clone(),
            source: e.into(),
        }
    }

    /// The head, and the tree size and root the state is of; `None` for an empty or
    /// unfinished state (or one of another version).
    ///
    /// # Errors
    /// [`StateError`] when it cannot be read or does not decode.
    pub(crate) fn head(&self) -> Result<Option<(Head, u64, Hash)>, StateError> {
        let txn = self.db.begin_read().map_err(|e| self.db_error(e))?;
        read_head(&txn, &self.path)
    }

    /// The record of case `id`, if the register has that case.
    ///
    /// # Errors
    /// [`StateError`] when it cannot be read or does not decode.
    pub(crate) fn case(&self, id: &str) -> Result<Option<CaseSlot>, StateError> {
        let txn = self.db.begin_read().map_err(|e| self.db_error(e))?;
        read_case(&txn, &self.path, id)
    }

    /// The highest case number `YYYY-NNNN` of each of `years` that has one.
    ///
    /// # Errors
    /// [`StateError`] when it cannot be read.
    pub(crate) fn highest_numbers(
        &self,
        years: impl IntoIterator<Item = i32>,
    ) -> Result<BTreeMap<i32, u32>, StateError> {
        let txn = self.db.begin_read().map_err(|e| self.db_error(e))?;
        let table = txn.open_table(NUMBERS).map_err(|e| self.db_error(e))?;
        let mut out = BTreeMap::new();
        for year in years {
            if let Some(n) = table.get(year).map_err(|e| self.db_error(e))? {
                out.insert(year, n.value());
            }
        }
        Ok(out)
    }

    /// The records of what `wants` names, for a partial view of the register at `head`: the
    /// cases, their controllers and the controllers named, the annotations, the mini-logs
    /// and the trie's paths of the index keys (each proof verified against the head's root).
    ///
    /// # Errors
    /// [`StateError`] when a record cannot be read, does not decode, or the trie's paths do
    /// not lead to the head's root.
    pub(crate) fn slice(&self, head: Head, wants: &Touched) -> Result<Slice, StateError> {
        let txn = self.db.begin_read().map_err(|e| self.db_error(e))?;
        read_slice(&txn, &self.path, head, wants)
    }

    /// Writes what `view` holds (a partial view after its batch committed, or a whole view
    /// into a new state, [`WriterState::recreate`]) as the state of the log at `root`, in one
    /// transaction. Returns the head it wrote.
    ///
    /// # Errors
    /// [`StateError`] when the view is not at a checkpoint (its index not current) or the
    /// database cannot be written; the state is then as it was.
    pub(crate) fn write(&self, view: &mut View, root: Hash) -> Result<Head, StateError> {
        let head = view.head().ok_or_else(|| StateError::Malformed {
            what: "head",
            message: "the view's index is not current: it is not at a checkpoint".into(),
        })?;
        let nodes: Vec<(Label, StoredNode)> = match view.index().trie() {
            Some(full) => full.stored_nodes().collect(),
            None => view
                .partial_trie_mut()
                .map(|t| t.changed_nodes())
                .unwrap_or_default(),
        };
        let txn = self.db.begin_write().map_err(|x| self.db_error(x))?;
        {
            let mut cases = txn.open_table(CASES).map_err(|x| self.db_error(x))?;
            let mut controllers = txn.open_table(CONTROLLERS).map_err(|x| self.db_error(x))?;
            let mut annotations = txn.open_table(ANNOTATIONS).map_err(|x| self.db_error(x))?;
            let mut logs = txn.open_table(KEY_LOGS).map_err(|x| self.db_error(x))?;
            let mut numbers = txn.open_table(NUMBERS).map_err(|x| self.db_error(x))?;
            let mut texts = txn.open_table(TEXTS).map_err(|x| self.db_error(x))?;
            let mut highest: BTreeMap<i32, u32> = BTreeMap::new();
            for record in view.records() {
                match record {
                    Record::Case { id, bytes } => {
                        if let Some((year, n)) = case_number(&id) {
                            let h = highest.entry(year).or_insert(0);
                            *h = (*h).max(n);
                        }
                        cases
                            .insert(&*id, bytes.as_slice())
                            .map_err(|x| self.db_error(x))?;
                    }
                    Record::Controller { id, bytes } => {
                        controllers
                            .insert(&*id, bytes.as_slice())
                            .map_err(|x| self.db_error(x))?;
                    }
                    Record::Annotations { seq, bytes } => {
                        annotations
                            .insert(seq, bytes.as_slice())
                            .map_err(|x| self.db_error(x))?;
                    }
                    Record::KeyLog { key, bytes } => {
                        logs.insert(&key.0, bytes.as_slice())
                            .map_err(|x| self.db_error(x))?;
                    }
                    Record::Text { digest, seq } => {
                        texts
                            .insert(&digest.0 .0, seq)
                            .map_err(|x| self.db_error(x))?;
                    }
                }
            }
            for (year, n) in highest {
                let old = numbers
                    .get(year)
                    .map_err(|x| self.db_error(x))?
                    .map(|g| g.value());
                if old.is_none_or(|old| old < n) {
                    numbers.insert(year, n).map_err(|x| self.db_error(x))?;
                }
            }
            let mut trie = txn.open_table(TRIE).map_err(|x| self.db_error(x))?;
            // A leaf's key and value are in its parent's record too, and a proof never reads
            // a leaf's own (`prove_stored`): only inner nodes are stored, half the records.
            let inner = nodes
                .into_iter()
                .filter(|(_, n)| matches!(n, StoredNode::Inner { .. }));
            for (label, node) in inner {
                trie.insert(label.to_key_bytes().as_slice(), node.to_bytes().as_slice())
                    .map_err(|x| self.db_error(x))?;
            }
            let mut head_t = txn.open_table(HEAD).map_err(|x| self.db_error(x))?;
            head_t
                .insert("head", head.to_bytes().as_slice())
                .map_err(|x| self.db_error(x))?;
            head_t
                .insert("log", encode_log(head.size, &root).as_slice())
                .map_err(|x| self.db_error(x))?;
        }
        txn.commit().map_err(|x| self.db_error(x))?;
        Ok(head)
    }
}

/// `"log"`: `LE32(version) ‖ LE64(size) ‖ root`.
fn encode_log(size: u64, root: &Hash) -> Vec<u8> {
    let mut out = Vec::with_capacity(44);
    out.extend_from_slice(&STATE_VERSION.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&root.0);
    out
}

fn decode_log(bytes: &[u8]) -> Option<(u32, u64, Hash)> {
    if bytes.len() != 44 {
        return None;
    }
    let version = u32::from_le_bytes(bytes[..4].try_into().ok()?);
    let size = u64::from_le_bytes(bytes[4..12].try_into().ok()?);
    let root: [u8; 32] = bytes[12..].try_into().ok()?;
    Some((version, size, Hash(root)))
}

/// A redb error on the state at `path`.
fn db_err(path: &str) -> impl Fn(redb::Error) -> StateError + '_ {
    move |source| StateError::Db {
        path: path.to_owned(),
        source,
    }
}

/// The head, and the tree size and root the state read by `txn` is of; `None` for an empty
/// or unfinished state (or one of another version).
fn read_head(txn: &ReadTransaction, path: &str) -> Result<Option<(Head, u64, Hash)>, StateError> {
    let err = db_err(path);
    let table = match txn.open_table(HEAD) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(err(e.into())),
    };
    let (Some(head), Some(log)) = (
        table.get("head").map_err(|e| err(e.into()))?,
        table.get("log").map_err(|e| err(e.into()))?,
    ) else {
        return Ok(None);
    };
    let Some((version, size, root)) = decode_log(log.value()) else {
        return Err(StateError::Malformed {
            what: "log",
            message: format!("{} bytes", log.value().len()),
        });
    };
    if version != STATE_VERSION {
        return Ok(None);
    }
    let head = Head::from_bytes(head.value())?;
    Ok(Some((head, size, root)))
}

/// The stored record of case `id`, read by `txn`.
fn read_case(txn: &ReadTransaction, path: &str, id: &str) -> Result<Option<CaseSlot>, StateError> {
    let err = db_err(path);
    let table = txn.open_table(CASES).map_err(|e| err(e.into()))?;
    let found = table.get(id).map_err(|e| err(e.into()))?;
    match found {
        Some(bytes) => Ok(Some(
            CaseSlot::from_bytes(bytes.value()).map_err(named(id))?,
        )),
        None => Ok(None),
    }
}

/// The records of what `wants` names, read by `txn`: see [`WriterState::slice`].
fn read_slice(
    txn: &ReadTransaction,
    path: &str,
    head: Head,
    wants: &Touched,
) -> Result<Slice, StateError> {
    let err = db_err(path);
    let e = |x: redb::StorageError| err(x.into());
    let t = |x: TableError| err(x.into());
    let cases_t = txn.open_table(CASES).map_err(t)?;
    let controllers_t = txn.open_table(CONTROLLERS).map_err(t)?;
    let annotations_t = txn.open_table(ANNOTATIONS).map_err(t)?;
    let logs_t = txn.open_table(KEY_LOGS).map_err(t)?;
    let trie_t = txn.open_table(TRIE).map_err(t)?;
    let mut cases = Vec::with_capacity(wants.cases.len());
    let mut controller_ids = wants.controllers.clone();
    for id in &wants.cases {
        if let Some(bytes) = cases_t.get(id.as_str()).map_err(e)? {
            let slot = CaseSlot::from_bytes(bytes.value()).map_err(named(id))?;
            controller_ids.insert(slot.controller().to_owned());
            cases.push(slot);
        }
    }
    let mut controllers = Vec::with_capacity(controller_ids.len());
    for id in &controller_ids {
        if let Some(bytes) = controllers_t.get(id.as_str()).map_err(e)? {
            controllers.push(ControllerSlot::from_bytes(bytes.value()).map_err(named(id))?);
        }
    }
    let mut annotations = Vec::new();
    for &seq in &wants.annotations {
        if let Some(bytes) = annotations_t.get(seq).map_err(e)? {
            let a = annotations_from_bytes(bytes.value()).map_err(named(&seq.to_string()))?;
            annotations.push((seq, a));
        }
    }
    if let Some(range) = &wants.annotation_range {
        for item in annotations_t.range(range.clone()).map_err(e)? {
            let (seq, bytes) = item.map_err(e)?;
            let seq = seq.value();
            if !wants.annotations.contains(&seq) {
                let a = annotations_from_bytes(bytes.value()).map_err(named(&seq.to_string()))?;
                annotations.push((seq, a));
            }
        }
    }
    let mut logs = Vec::with_capacity(wants.keys.len());
    for key in &wants.keys {
        if let Some(bytes) = logs_t.get(&key.0).map_err(e)? {
            let log = key_log_from_bytes(bytes.value()).map_err(named(&key.to_hex()))?;
            logs.push((*key, log));
        }
    }
    let trie = read_partial(
        &Nodes(&trie_t),
        &head.index_root.0,
        head.keys,
        wants.keys.iter().map(|k| &k.0),
    )
    .map_err(|err| StateError::Trie {
        message: err.to_string(),
    })?;
    let index = Index::partial(head.size, logs, trie);
    Ok(Slice {
        head,
        cases,
        controllers,
        annotations,
        index,
    })
}

/// The writer's state, opened read-only by another process (`sijil serve` on the writer's
/// directory): see the module. The writer may write it meanwhile; each [`StateReader::at`]
/// reads one committed version of it.
pub struct StateReader {
    db: ReadOnlyDatabase,
    path: String,
    /// The file's identity when opened: a writer that rebuilds its state replaces the file,
    /// and a reader must then open the new one.
    identity: Option<(u64, u64)>,
}

impl std::fmt::Debug for StateReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl StateReader {
    /// Opens the state at `path` read-only, beside its writer.
    ///
    /// # Errors
    /// [`StateError::Db`] when there is no such file, it is not a redb database, or a writer
    /// holds it in another sharing mode (an older `sijil`).
    pub fn open(path: &Path) -> Result<StateReader, StateError> {
        let shown = path.display().to_string();
        let identity = identity(path);
        let db = Database::builder()
            .set_concurrency_mode(SHARING)
            .set_cache_size(READER_CACHE)
            .open_read_only(path)
            .map_err(|e| StateError::Db {
                path: shown.clone(),
                source: e.into(),
            })?;
        Ok(StateReader {
            db,
            path: shown,
            identity,
        })
    }

    /// Whether the file at the path is no longer the one opened (the writer rebuilt it).
    pub fn replaced(&self) -> bool {
        identity(Path::new(&self.path)) != self.identity
    }

    /// The state as of the tree `(size, root)`: `None` if the state is of another tree (the
    /// writer has not written it yet after its last commit, or is rebuilding it).
    ///
    /// # Errors
    /// [`StateError`] when it cannot be read or its head does not decode.
    pub fn at(&self, size: u64, root: Hash) -> Result<Option<StateSnapshot>, StateError> {
        let txn = self
            .db
            .begin_read()
            .map_err(|e| db_err(&self.path)(e.into()))?;
        match read_head(&txn, &self.path)? {
            Some((head, s, r)) if s == size && r == root && head.size == size => {
                Ok(Some(StateSnapshot {
                    txn,
                    head,
                    path: self.path.clone(),
                    proven: Default::default(),
                    upper_nodes: Default::default(),
                }))
            }
            _ => Ok(None),
        }
    }
}

/// One committed version of the writer's state, of a known tree (see [`StateReader::at`]).
/// Holding it keeps that version readable while the writer goes on.
pub struct StateSnapshot {
    txn: ReadTransaction,
    head: Head,
    path: String,
    /// Index keys already read and proven at this version, with their mini-logs: the
    /// officers' and log keys' are in every case's answer. Emptied when full.
    proven: std::sync::Mutex<std::collections::HashMap<IndexKey, ProvenKey>>,
    /// The trie's upper nodes read at this version ([`KEPT_TRIE_BITS`]).
    upper_nodes: UpperNodes,
}

/// An index key's mini-log (if the key has one) and its trie proof, verified against the
/// head's index root.
type ProvenKey = (Option<KeyLog>, TrieProof);

/// How many proven keys a state snapshot keeps (each a trie proof and a mini-log, about
/// 1 KB): those of the officers and log keys are in every case's answer, a random case's own
/// key seldom asked again (issue 11: 4,096 held about 4 MiB under random cases).
const PROVEN_KEYS_KEPT: usize = 256;

impl std::fmt::Debug for StateSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSnapshot")
            .field("path", &self.path)
            .field("size", &self.head.size)
            .finish_non_exhaustive()
    }
}

impl StateSnapshot {
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// How many of the trie's upper nodes this snapshot keeps ([`KEPT_TRIE_BITS`]).
    pub fn kept_trie_nodes(&self) -> usize {
        let kept = self.upper_nodes.read().unwrap_or_else(|e| e.into_inner());
        kept.iter().filter(|n| n.is_some()).count()
    }

    /// The partial view of what `wants` names ([`View::from_slice`]): what one answer
    /// reads, at this version.
    ///
    /// # Errors
    /// [`StateError`] when a record cannot be read or does not decode, or the trie's paths
    /// do not lead to the head's root.
    pub fn view_of(&self, wants: &Touched) -> Result<View, StateError> {
        self.view_with(wants, None)
    }

    /// [`StateSnapshot::view_of`], with a case already read.
    fn view_with(&self, wants: &Touched, case: Option<CaseSlot>) -> Result<View, StateError> {
        let records = Touched {
            keys: Default::default(),
            ..wants.clone()
        };
        let mut slice = read_slice(&self.txn, &self.path, self.head.clone(), &records)?;
        slice.cases.extend(case);
        let mut logs = Vec::with_capacity(wants.keys.len());
        let mut proofs = BTreeMap::new();
        for key in &wants.keys {
            let (log, proof) = self.proven_key(key)?;
            if let Some(log) = log {
                logs.push((*key, log));
            }
            proofs.insert(key.0, proof);
        }
        slice.index = Index::proven(
            self.head.size,
            self.head.index_root.0,
            self.head.keys,
            logs,
            proofs,
        );
        Ok(View::from_slice(slice)?)
    }

    /// Key `key`'s mini-log and trie proof at this version, read once and verified: the
    /// proof against the head's index root, the value it proves against the mini-log.
    fn proven_key(&self, key: &IndexKey) -> Result<ProvenKey, StateError> {
        // The lock is not held while the key is read and proven: the blocking pool's
        // threads each prove their own case's key at the same time.
        if let Some(p) = self
            .proven
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
        {
            return Ok(p.clone());
        }
        let err = db_err(&self.path);
        let logs_t = self.txn.open_table(KEY_LOGS).map_err(|e| err(e.into()))?;
        let trie_t = self.txn.open_table(TRIE).map_err(|e| err(e.into()))?;
        let log = match logs_t.get(&key.0).map_err(|e| err(e.into()))? {
            Some(bytes) => Some(key_log_from_bytes(bytes.value()).map_err(named(&key.to_hex()))?),
            None => None,
        };
        let nodes = KeptNodes {
            table: Nodes(&trie_t),
            kept: &self.upper_nodes,
        };
        let proof = prove_stored(&nodes, &key.0).map_err(|e| StateError::Trie {
            message: e.to_string(),
        })?;
        let proved = proof
            .verify::<Sha256Hash>(&self.head.index_root.0, &key.0)
            .map_err(|e| StateError::Trie {
                message: format!("key {}: {e}", key.to_hex()),
            })?;
        if proved != log.as_ref().map(KeyLog::value) {
            return Err(StateError::Trie {
                message: format!(
                    "key {}: the trie and the stored mini-log disagree",
                    key.to_hex()
                ),
            });
        }
        let mut kept = self.proven.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= PROVEN_KEYS_KEPT {
            kept.clear();
        }
        kept.insert(*key, (log.clone(), proof.clone()));
        Ok((log, proof))
    }

    /// The stored record of case `id`.
    ///
    /// # Errors
    /// [`StateError`] when it cannot be read or does not decode.
    pub fn case(&self, id: &str) -> Result<Option<CaseSlot>, StateError> {
        read_case(&self.txn, &self.path, id)
    }

    /// The partial view of case `id` (if the register has it) for one answer: the case read
    /// once, its controller, the annotations of its entries, and the index `keys`.
    ///
    /// # Errors
    /// As [`StateSnapshot::view_of`].
    pub fn case_view(
        &self,
        id: &str,
        keys: impl IntoIterator<Item = IndexKey>,
    ) -> Result<View, StateError> {
        let slot = self.case(id)?;
        let mut wants = Touched::default();
        wants.keys.extend(keys);
        if let Some(slot) = &slot {
            wants.annotations.extend(slot.seqs());
            wants.controllers.insert(slot.controller().to_owned());
        }
        self.view_with(&wants, slot)
    }

    /// The corrections, amendments and erasure that point at entry `seq`, if any does.
    ///
    /// # Errors
    /// [`StateError`] when it cannot be read or does not decode.
    pub fn annotations(&self, seq: u64) -> Result<Option<Annotations>, StateError> {
        let err = db_err(&self.path);
        let table = self
            .txn
            .open_table(ANNOTATIONS)
            .map_err(|e| err(e.into()))?;
        let found = table.get(seq).map_err(|e| err(e.into()))?;
        match found {
            Some(bytes) => Ok(Some(
                annotations_from_bytes(bytes.value()).map_err(named(&seq.to_string()))?,
            )),
            None => Ok(None),
        }
    }

    /// The seq of the entry that names text `digest`, if a committed entry does.
    ///
    /// # Errors
    /// [`StateError`] when it cannot be read.
    pub fn text(&self, digest: &TextDigest) -> Result<Option<u64>, StateError> {
        let err = db_err(&self.path);
        let table = self.txn.open_table(TEXTS).map_err(|e| err(e.into()))?;
        let seq = table
            .get(&digest.0 .0)
            .map_err(|e| err(e.into()))?
            .map(|v| v.value());
        Ok(seq)
    }

    /// Every case's entries' seqs, in no particular order (the open data's events).
    ///
    /// # Errors
    /// [`StateError`] when a record cannot be read or does not decode.
    pub fn case_seqs(&self) -> Result<Vec<u64>, StateError> {
        let mut seqs = Vec::new();
        self.for_each_case(|slot| {
            seqs.extend(slot.seqs());
            Ok(())
        })?;
        Ok(seqs)
    }

    fn for_each_case(
        &self,
        mut f: impl FnMut(CaseSlot) -> Result<(), StateError>,
    ) -> Result<(), StateError> {
        let err = db_err(&self.path);
        let table = self.txn.open_table(CASES).map_err(|e| err(e.into()))?;
        for item in table.iter().map_err(|e| err(e.into()))? {
            let (id, bytes) = item.map_err(|e| err(e.into()))?;
            f(CaseSlot::from_bytes(bytes.value()).map_err(named(id.value()))?)?;
        }
        Ok(())
    }

    /// The listing of every case and controller ([`Listing::from_records`]).
    ///
    /// # Errors
    /// [`StateError`] when a record cannot be read or does not decode, or the records do not
    /// make a listing.
    pub fn listing(&self) -> Result<Listing, StateError> {
        let err = db_err(&self.path);
        let table = self
            .txn
            .open_table(CONTROLLERS)
            .map_err(|e| err(e.into()))?;
        let mut controllers = Vec::new();
        for item in table.iter().map_err(|e| err(e.into()))? {
            let (id, bytes) = item.map_err(|e| err(e.into()))?;
            controllers.push(ControllerSlot::from_bytes(bytes.value()).map_err(named(id.value()))?);
        }
        let mut builder = ListingBuilder::new(self.head.size, controllers);
        self.for_each_case(|slot| Ok(builder.push(&slot)?))?;
        Ok(builder.finish()?)
    }

    /// `listing` (of an earlier version) with the cases and controllers named by `touched`
    /// (what the entries since that version read or changed) as they are in this one.
    ///
    /// # Errors
    /// As [`StateSnapshot::listing`].
    pub fn update(&self, listing: &Listing, touched: &Touched) -> Result<Listing, StateError> {
        let wants = Touched {
            cases: touched.cases.clone(),
            controllers: touched.controllers.clone(),
            ..Touched::default()
        };
        let slice = read_slice(&self.txn, &self.path, self.head.clone(), &wants)?;
        Ok(listing.update(self.head.size, slice.cases, slice.controllers)?)
    }
}
