//! sijil-index: the log-derived index (DESIGN §4, docs/FORMAT.md §10).
//!
//! Which keys an entry touches ([`for_each_subject`]: its case, its controller, the officer keys it
//! names, the register for register-level events) is read from the entry alone, never from
//! the projector's rules, so the index's format outlives rule changes. Each key has a
//! mini-log: an RFC 9162 tree over `(seq, leaf hash)` of its entries, in log order. The keys
//! and the heads of their mini-logs are the leaves of a prefix Merkle trie ([`trie`]), whose
//! root the log key commits in the `IndexCommitted` entry that ends every checkpoint. One
//! trie proof then shows that a case's entries are all of them, as of that checkpoint.
//!
//! Everything here is pure: no I/O, no clock.
#![forbid(unsafe_code)]

pub mod completeness;
pub mod partial;
pub mod stored;
pub mod trie;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasher, Hasher};

use sha2::{Digest as _, Sha256};
use sijil_core::event::{Event, PublicKey};
use sijil_core::{node_hash, CaseLink, Entry, Hash};

pub use partial::{PartialTrie, PartialTrieError};
pub use stored::{
    prove_stored, read_partial, NodeDecodeError, NodeSource, StoredError, StoredNode,
};
pub use trie::{Label, LabelError, ProofNode, Trie, TrieError, TrieProof};

/// What a key names. Its tag is part of the key's hash (docs/FORMAT.md §10.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject<'a> {
    /// Register-level events: the genesis and officer key management.
    Register,
    Case(&'a str),
    Controller(&'a str),
    Officer(&'a PublicKey),
}

/// An index key: `SHA-256("sijil/index/v1\n" ‖ tag ‖ "\n" ‖ name)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode)]
pub struct IndexKey(pub [u8; 32]);

impl fmt::Debug for IndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IndexKey({})", hex::encode(self.0))
    }
}

impl IndexKey {
    /// The domain prefix of every key's hash.
    pub const CONTEXT: &'static [u8] = b"sijil/index/v1\n";

    pub fn of(subject: &Subject<'_>) -> IndexKey {
        let (tag, name): (&[u8], &[u8]) = match subject {
            Subject::Register => (b"register", b""),
            Subject::Case(id) => (b"case", id.as_bytes()),
            Subject::Controller(id) => (b"controller", id.as_bytes()),
            Subject::Officer(key) => (b"officer", &key.0),
        };
        let mut h = Sha256::new();
        h.update(Self::CONTEXT);
        h.update(tag);
        h.update(b"\n");
        h.update(name);
        IndexKey(h.finalize().into())
    }

    pub fn case(id: &str) -> IndexKey {
        IndexKey::of(&Subject::Case(id))
    }

    pub fn controller(id: &str) -> IndexKey {
        IndexKey::of(&Subject::Controller(id))
    }

    pub fn officer(key: &PublicKey) -> IndexKey {
        IndexKey::of(&Subject::Officer(key))
    }

    pub fn register() -> IndexKey {
        IndexKey::of(&Subject::Register)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// Calls `f` with each subject an entry (given by its case link and event) touches, each
/// once, in this order: the register and the officer keys a register-level event names, then
/// its case, then the controller a case-opening event names. `IndexCommitted` touches none.
/// This is the index's map function (docs/FORMAT.md §10.1): it reads the entry only, never the
/// register's rules.
pub fn for_each_subject<'a>(
    case: Option<&'a CaseLink>,
    event: &'a Event,
    mut f: impl FnMut(Subject<'a>),
) {
    match event {
        Event::RegisterOpened(g) => {
            f(Subject::Register);
            for (i, o) in g.officers.iter().enumerate() {
                // Each key once, where it is first listed.
                if !g.officers[..i].iter().any(|p| p.key == o.key) {
                    f(Subject::Officer(&o.key));
                }
            }
        }
        Event::OfficerAuthorized(a) => {
            f(Subject::Register);
            f(Subject::Officer(&a.officer.key));
        }
        Event::OfficerRevoked(r) => {
            f(Subject::Register);
            f(Subject::Officer(&r.key));
        }
        // The register's mini-log lists every rotation, so a client proves it has the whole
        // chain of log keys with the register key's completeness proof (docs/FORMAT.md §10.1).
        Event::LogKeyRotated(_) => f(Subject::Register),
        Event::IndexCommitted(_) => return,
        _ => {}
    }
    if let Some(link) = case {
        f(Subject::Case(&link.id));
    }
    match event {
        Event::ComplaintReceived(c) => f(Subject::Controller(&c.controller.id)),
        Event::InspectionOpened(i) => {
            if let Some(o) = &i.opens {
                f(Subject::Controller(&o.controller.id));
            }
        }
        _ => {}
    }
}

/// A mini-log leaf: `SHA-256(0x00 ‖ BE64(seq) ‖ leaf_hash)`, the RFC 9162 leaf hash of the
/// 40 bytes `BE64(seq) ‖ leaf_hash`.
pub fn mini_leaf(seq: u64, leaf: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(seq.to_be_bytes());
    h.update(leaf.0);
    Hash(h.finalize().into())
}

/// A key's value in the trie: `SHA-256(BE64(count) ‖ mini-log root)`.
pub fn key_value(count: u64, mini_root: &Hash) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(count.to_be_bytes());
    h.update(mini_root.0);
    h.finalize().into()
}

/// The RFC 9162 root of the mini-log over `(seq, leaf hash)` pairs, in order.
pub fn mini_root(entries: &[(u64, Hash)]) -> Hash {
    let mut range = CompactRange::default();
    for (seq, leaf) in entries {
        range.push(mini_leaf(*seq, leaf));
    }
    range.root()
}

/// The right edge of an RFC 9162 tree: the roots of its perfect subtrees, largest first (one
/// per set bit of the size). Enough to append a leaf and to compute the root.
#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct CompactRange {
    size: u64,
    hashes: Vec<Hash>,
}

impl CompactRange {
    pub fn push(&mut self, leaf: Hash) {
        let mut h = leaf;
        let mut n = self.size;
        while n & 1 == 1 {
            // Each set low bit of the old size is a perfect subtree that the new leaf completes.
            let left = self.hashes.pop().unwrap_or_default();
            h = node_hash(&left, &h);
            n >>= 1;
        }
        self.hashes.push(h);
        self.size += 1;
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tree's root; `SHA-256("")` when empty.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        let Some(last) = it.next() else {
            return sijil_core::empty_root();
        };
        it.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

/// One key's mini-log: the seqs of its entries, and the right edge of the tree over them.
#[derive(Clone, Debug, Default, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct KeyLog {
    pub seqs: Vec<u64>,
    range: CompactRange,
    /// Grown since the trie last took its value.
    dirty: bool,
}

impl KeyLog {
    pub fn count(&self) -> u64 {
        self.range.size()
    }

    pub fn root(&self) -> Hash {
        self.range.root()
    }

    pub fn value(&self) -> [u8; 32] {
        key_value(self.count(), &self.root())
    }
}

/// Index keys are SHA-256 outputs, already uniform: their first bytes are their hash in a
/// `HashMap`, without hashing them again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyHashing;

impl BuildHasher for KeyHashing {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(0)
    }
}

/// See [`KeyHashing`].
#[derive(Debug)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut first = [0u8; 8];
        let n = bytes.len().min(8);
        first[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(first);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The index over a log's first [`Index::size`] entries.
///
/// Applying an entry only grows its keys' mini-logs; [`Index::flush`] then puts the new
/// values in the trie and rehashes it, once per batch (the projector flushes before each
/// `IndexCommitted`), so keys and trie levels touched many times in a batch are hashed once.
/// [`Index::root`] and [`Index::prove`] answer as of the last flush.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    size: u64,
    logs: HashMap<IndexKey, KeyLog, KeyHashing>,
    trie: Tree,
    /// Keys grown since the last flush.
    dirty: Vec<IndexKey>,
}

/// The trie behind an index: the whole of it (a reader's, an auditor's), or only the paths of
/// the keys a batch touches (a writer's, see [`Index::partial`]).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tree {
    Full(Trie),
    Partial {
        trie: PartialTrie,
        /// The root as of the last flush.
        root: [u8; 32],
        /// The number of keys when the index was loaded.
        loaded_keys: u64,
        /// Keys added since (their mini-logs were not in the store).
        added: u64,
        /// The first key a flush could not set: its path was not loaded. A writer checks
        /// this ([`Index::partial_error`]) before it signs the root.
        error: Option<PartialTrieError>,
        /// A reader's verified proofs ([`Index::proven`]; none for a writer's), and the root
        /// they lead to: what [`Index::prove`] answers with while the root is still that one.
        proofs: BTreeMap<[u8; 32], TrieProof>,
        loaded_root: [u8; 32],
    },
}

impl Default for Tree {
    fn default() -> Self {
        Tree::Full(Trie::new())
    }
}

// The keys are encoded in key order, so that one index always has one encoding (a view's
// snapshot is compared byte for byte), whatever the map's iteration order.
impl bincode::Encode for Index {
    fn encode<E: bincode::enc::Encoder>(
        &self,
        e: &mut E,
    ) -> Result<(), bincode::error::EncodeError> {
        let mut logs: Vec<(&IndexKey, &KeyLog)> = self.logs.iter().collect();
        logs.sort_unstable_by_key(|(k, _)| **k);
        let Tree::Full(trie) = &self.trie else {
            // A writer's partial index lives for one batch; only whole indexes are saved.
            return Err(bincode::error::EncodeError::Other(
                "a partial index (a writer's, for one batch) cannot be snapshotted",
            ));
        };
        self.size.encode(e)?;
        logs.encode(e)?;
        trie.encode(e)?;
        self.dirty.encode(e)
    }
}

impl<Context> bincode::Decode<Context> for Index {
    fn decode<D: bincode::de::Decoder<Context = Context>>(
        d: &mut D,
    ) -> Result<Self, bincode::error::DecodeError> {
        let size = u64::decode(d)?;
        let logs: Vec<(IndexKey, KeyLog)> = Vec::decode(d)?;
        let trie = Trie::decode(d)?;
        let dirty = Vec::decode(d)?;
        Ok(Index {
            size,
            logs: logs.into_iter().collect(),
            trie: Tree::Full(trie),
            dirty,
        })
    }
}
bincode::impl_borrow_decode!(Index);

impl Index {
    pub fn new() -> Index {
        Index::default()
    }

    /// The number of entries applied.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The index of a log of `size` entries as far as a batch needs it (issue 9: a writer
    /// that does not load every key): `logs` are the mini-logs of the keys the batch touches
    /// that exist (a key absent from them is new), and `trie` holds their paths
    /// ([`PartialTrie::from_proofs`] over the committed root). Applying entries that touch
    /// other keys gives a wrong root, which [`Index::partial_error`] reports at the flush.
    pub fn partial(
        size: u64,
        logs: impl IntoIterator<Item = (IndexKey, KeyLog)>,
        trie: PartialTrie,
    ) -> Index {
        let mut trie = trie;
        let root = trie.root();
        let loaded_keys = trie.len();
        Index {
            size,
            logs: logs.into_iter().collect(),
            trie: Tree::Partial {
                trie,
                root,
                loaded_keys,
                added: 0,
                error: None,
                proofs: BTreeMap::new(),
                loaded_root: root,
            },
            dirty: Vec::new(),
        }
    }

    /// A reader's index for one answer: the mini-logs `logs` and the trie `proofs` of a few
    /// keys of an index of `keys` keys and `root` over `size` entries, **each proof verified by
    /// the caller** against `root` (and the value it proves against the key's mini-log).
    /// [`Index::prove`] answers those proofs; the index cannot be applied to (a flush would
    /// change its root, after which it proves nothing).
    pub fn proven(
        size: u64,
        root: [u8; 32],
        keys: u64,
        logs: impl IntoIterator<Item = (IndexKey, KeyLog)>,
        proofs: BTreeMap<[u8; 32], TrieProof>,
    ) -> Index {
        Index {
            size,
            logs: logs.into_iter().collect(),
            trie: Tree::Partial {
                trie: PartialTrie::unknown(keys),
                root,
                loaded_keys: keys,
                added: 0,
                error: None,
                proofs,
                loaded_root: root,
            },
            dirty: Vec::new(),
        }
    }

    /// For a partial index ([`Index::partial`]): why a flush could not set a key (its path was
    /// not loaded), which makes the root wrong. Always `None` for a whole index.
    pub fn partial_error(&self) -> Option<&PartialTrieError> {
        match &self.trie {
            Tree::Partial { error, .. } => error.as_ref(),
            Tree::Full(_) => None,
        }
    }

    /// Whether this is a writer's partial index ([`Index::partial`]).
    pub fn is_partial(&self) -> bool {
        matches!(self.trie, Tree::Partial { .. })
    }

    /// The whole trie, `None` for a partial index.
    pub fn trie(&self) -> Option<&Trie> {
        match &self.trie {
            Tree::Full(t) => Some(t),
            Tree::Partial { .. } => None,
        }
    }

    /// The partial trie of a partial index, `None` for a whole one.
    pub fn partial_trie_mut(&mut self) -> Option<&mut PartialTrie> {
        match &mut self.trie {
            Tree::Partial { trie, .. } => Some(trie),
            Tree::Full(_) => None,
        }
    }

    /// The mini-logs this index holds: every key's for a whole index, the loaded and new
    /// ones for a partial index.
    pub fn logs(&self) -> impl Iterator<Item = (&IndexKey, &KeyLog)> {
        self.logs.iter()
    }

    /// The number of keys.
    pub fn keys(&self) -> u64 {
        match &self.trie {
            Tree::Full(_) => self.logs.len() as u64,
            Tree::Partial {
                loaded_keys, added, ..
            } => loaded_keys + added,
        }
    }

    /// The trie's root as of the last [`Index::flush`]: what `IndexCommitted.root` commits.
    pub fn root(&self) -> Hash {
        debug_assert!(self.is_current(), "root of an index that was not flushed");
        Hash(self.trie_root())
    }

    fn trie_root(&self) -> [u8; 32] {
        match &self.trie {
            Tree::Full(t) => t.root(),
            Tree::Partial { root, .. } => *root,
        }
    }

    /// The root over every entry applied, flushing a copy if needed (a check that may not
    /// change the index).
    pub fn current_root(&self) -> Hash {
        if self.is_current() {
            return Hash(self.trie_root());
        }
        let mut copy = self.clone();
        copy.flush();
        Hash(copy.trie_root())
    }

    /// Whether the trie holds every entry applied.
    pub fn is_current(&self) -> bool {
        self.dirty.is_empty()
            && match &self.trie {
                Tree::Full(t) => t.is_current(),
                Tree::Partial { .. } => true,
            }
    }

    /// Puts the value of every key grown since the last flush into the trie, and rehashes it.
    pub fn flush(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        // The values (each a mini-log root) are computed on two threads for a big batch.
        let (first, second) = dirty.split_at(dirty.len() / 2);
        let logs = &self.logs;
        let values = |keys: &[IndexKey]| -> Vec<(IndexKey, [u8; 32])> {
            keys.iter()
                .filter_map(|k| logs.get(k).map(|l| (*k, l.value())))
                .collect()
        };
        let (a, b) = trie::both(dirty.len() >= 1024, || values(first), || values(second));
        for (key, value) in a.into_iter().chain(b) {
            if let Some(log) = self.logs.get_mut(&key) {
                log.dirty = false;
            }
            match &mut self.trie {
                Tree::Full(t) => t.set(key.0, value),
                Tree::Partial { trie, error, .. } => {
                    if let Err(e) = trie.set(key.0, value) {
                        error.get_or_insert(e);
                    }
                }
            }
        }
        match &mut self.trie {
            Tree::Full(t) => t.rehash(),
            Tree::Partial { trie, root, .. } => *root = trie.root(),
        }
    }

    /// Applies entry `seq` (which must be [`Index::size`]) with leaf hash `leaf`.
    ///
    /// # Errors
    /// [`IndexError::OutOfOrder`] if `seq` is not the next entry; the index is unchanged.
    pub fn apply(&mut self, seq: u64, leaf: &Hash, entry: &Entry) -> Result<(), IndexError> {
        self.apply_parts(seq, leaf, entry.case.as_ref(), &entry.event)
    }

    /// [`Index::apply`] for an entry given by its case link and event.
    ///
    /// # Errors
    /// As [`Index::apply`].
    pub fn apply_parts(
        &mut self,
        seq: u64,
        leaf: &Hash,
        case: Option<&CaseLink>,
        event: &Event,
    ) -> Result<(), IndexError> {
        if seq != self.size {
            return Err(IndexError::OutOfOrder {
                expected: self.size,
                got: seq,
            });
        }
        let mini = mini_leaf(seq, leaf);
        let (logs, dirty) = (&mut self.logs, &mut self.dirty);
        let mut added = 0;
        for_each_subject(case, event, |subject| {
            let key = IndexKey::of(&subject);
            let log = logs.entry(key).or_insert_with(|| {
                added += 1;
                KeyLog::default()
            });
            log.seqs.push(seq);
            log.range.push(mini);
            if !log.dirty {
                log.dirty = true;
                dirty.push(key);
            }
        });
        if let Tree::Partial { added: a, .. } = &mut self.trie {
            *a += added;
        }
        self.size += 1;
        Ok(())
    }

    /// The mini-log of `key`, if any entry touched it.
    pub fn get(&self, key: &IndexKey) -> Option<&KeyLog> {
        self.logs.get(key)
    }

    /// The trie proof of `key`: its value, or its absence, as of the last flush.
    pub fn prove(&self, key: &IndexKey) -> TrieProof {
        debug_assert!(
            self.is_current(),
            "proof from an index that was not flushed"
        );
        match &self.trie {
            Tree::Full(t) => t.prove(&key.0),
            // A loaded proof while the trie is as loaded; otherwise (a writer's batch changed
            // it, or the key was not loaded) a proof that verifies against no root.
            Tree::Partial {
                proofs,
                root,
                loaded_root,
                ..
            } => proofs
                .get(&key.0)
                .filter(|_| root == loaded_root)
                .cloned()
                .unwrap_or(TrieProof {
                    end: None,
                    siblings: Vec::new(),
                }),
        }
    }

    /// An estimate of the heap it holds, for the server's memory figures.
    pub fn heap_bytes(&self) -> usize {
        let per_key = std::mem::size_of::<(IndexKey, KeyLog)>() + 200;
        self.logs
            .values()
            .map(|l| l.seqs.capacity() * 8 + l.range.hashes.capacity() * 32 + per_key)
            .sum()
    }
}

/// Why the index or a proof about it is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    #[error("index: entry {got} applied when entry {expected} was next")]
    OutOfOrder { expected: u64, got: u64 },
    #[error(transparent)]
    Trie(#[from] TrieError),
    #[error("the index has no key {key}: its entries were expected")]
    Absent { key: String },
    #[error("the index has key {key}: a proof of its absence was expected")]
    Present { key: String },
    #[error("the committed value of key {key} is not that of the {given} entries given: an entry is missing, added, altered or out of place")]
    ValueMismatch { key: String, given: u64 },
    #[error("the entries of key {key} are not in log order: seq {seq} after {prev}")]
    NotInOrder { key: String, seq: u64, prev: u64 },
}

/// Checks that `entries`, `(seq, leaf hash)` in log order, are exactly all the entries of
/// `key` under the committed trie `root`: the proof shows the key's value, and that value is
/// the count and mini-log root of these entries and no others.
///
/// # Errors
/// [`IndexError::Absent`] if the proof shows no such key; [`IndexError::ValueMismatch`] if
/// an entry is missing, added, altered or out of place; [`IndexError::Trie`] for a proof
/// that does not lead to `root`.
pub fn verify_key(
    root: &Hash,
    key: &IndexKey,
    entries: &[(u64, Hash)],
    proof: &TrieProof,
) -> Result<(), IndexError> {
    for w in entries.windows(2) {
        if w[1].0 <= w[0].0 {
            return Err(IndexError::NotInOrder {
                key: key.to_hex(),
                seq: w[1].0,
                prev: w[0].0,
            });
        }
    }
    let Some(value) = proof.verify::<trie::Sha256Hash>(&root.0, &key.0)? else {
        return Err(IndexError::Absent { key: key.to_hex() });
    };
    let given = key_value(entries.len() as u64, &mini_root(entries));
    if given != value {
        return Err(IndexError::ValueMismatch {
            key: key.to_hex(),
            given: entries.len() as u64,
        });
    }
    Ok(())
}

/// Checks that `key` has no entry under the committed trie `root`.
///
/// # Errors
/// [`IndexError::Present`] if the proof shows the key; [`IndexError::Trie`] otherwise.
pub fn verify_absent(root: &Hash, key: &IndexKey, proof: &TrieProof) -> Result<(), IndexError> {
    match proof.verify::<trie::Sha256Hash>(&root.0, &key.0)? {
        None => Ok(()),
        Some(_) => Err(IndexError::Present { key: key.to_hex() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_range_root_is_rfc9162() {
        let leaves: Vec<Hash> = (0u64..40)
            .map(|i| sijil_core::leaf_hash(&i.to_be_bytes()))
            .collect();
        for n in 0..=leaves.len() {
            let mut r = CompactRange::default();
            for l in &leaves[..n] {
                r.push(*l);
            }
            let want = sijil_core::MemoryHashes::from_leaves(leaves[..n].iter().copied());
            let want = sijil_core::merkle::tree_hash(n as u64, &want).expect("in memory");
            assert_eq!(r.root(), want, "size {n}");
        }
    }
}

#[cfg(test)]
mod subject_tests {
    use super::*;
    use sijil_core::event::LogKeyRotated;

    #[test]
    fn a_log_key_rotation_touches_the_register_only() {
        let e = Event::LogKeyRotated(LogKeyRotated {
            new_key: PublicKey([9; 32]),
            reason: "scheduled".into(),
        });
        let mut touched = Vec::new();
        for_each_subject(None, &e, |s| touched.push(IndexKey::of(&s)));
        assert_eq!(touched, vec![IndexKey::register()]);
    }
}
