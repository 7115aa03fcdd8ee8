//! The RFC 9162 Merkle tree of the log, computed from *stored hashes*, with its inclusion and
//! consistency proofs (RFC 9162 §2.1; the design of Go's `golang.org/x/mod/sumdb/tlog`).
//!
//! Every complete subtree hash of the tree is stored exactly once, at a dense *stored hash
//! index*, in the order the hashes become known while leaves are appended (Crosby and Wallach,
//! "Efficient Data Structures for Tamper-Evident Logging", §3.3): leaf `n`'s hash, then the
//! hashes of the subtrees that leaf `n` completes, lowest first. For four leaves:
//!
//! ```text
//! stored hash index   0      1      2      3      4      5      6
//! hash                L0     L1     N01    L2     L3     N23    N0123
//! (level, n)          (0,0)  (0,1)  (1,0)  (0,2)  (0,3)  (1,1)  (2,0)
//! ```
//!
//! where `(level, n)` is the `n`-th complete subtree of `2^level` leaves. A root or a proof
//! then needs O(log n) stored hashes, listed first and read in **one** [`HashReader`] call;
//! appending leaf `n` computes `1 + trailing_ones(n)` hashes (fewer than two on average).
//!
//! Proof *checking* ([`check_inclusion`], [`check_consistency`]) takes only the proof and the
//! claim, and follows the verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.
//!
//! Hashes are RFC 9162 §2.1.1: a leaf is `SHA-256(0x00 ‖ entry)`, an interior node
//! `SHA-256(0x01 ‖ left ‖ right)` (see [`crate::hash`]).

use crate::hash::{empty_root, node_hash, Hash};

/// The largest tree size this module accepts, 2^62 leaves.
///
/// It keeps every stored hash index below 2^64 (a tree of `n` leaves stores almost `2n`
/// hashes), so index arithmetic never overflows whatever size a caller (or a hostile
/// checkpoint) names. Proof *checking* has no such limit.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// A source of stored hashes: a file of hashes, tiles on disk, tiles fetched and verified
/// ([`crate::tile::TileHashReader`]), or memory ([`MemoryHashes`]).
///
/// Each function of this module lists all the stored hashes it needs and reads them in a
/// single call, so a reader over slow storage can fetch them together.
pub trait HashReader {
    /// Returns the hashes at the given stored hash indexes (see [`stored_hash_index`]), in the
    /// same order. It must return exactly one hash per index, or an error: a missing hash is
    /// [`MerkleError::MissingHash`], a failing backend [`MerkleError::Storage`].
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        (**self).read_hashes(indexes)
    }
}

/// What went wrong computing or checking a tree hash, a proof or a tile.
///
/// Three kinds are kept apart. **Bad input** (the caller asked for something that does not
/// exist): [`IndexOutOfRange`](Self::IndexOutOfRange), [`BadSizes`](Self::BadSizes),
/// [`TreeTooLarge`](Self::TreeTooLarge), [`HashNotInTree`](Self::HashNotInTree),
/// [`HashNotInTile`](Self::HashNotInTile), [`InvalidTile`](Self::InvalidTile).
/// **Failed verification** (evidence against whoever supplied the proof or tiles: keep it):
/// [`BadProofLength`](Self::BadProofLength), [`InclusionMismatch`](Self::InclusionMismatch),
/// [`Inconsistent`](Self::Inconsistent), [`TileMismatch`](Self::TileMismatch),
/// [`TileLength`](Self::TileLength). **Storage** (a reader could not deliver):
/// [`MissingHash`](Self::MissingHash), [`MissingTile`](Self::MissingTile),
/// [`ReadCount`](Self::ReadCount), [`TileCount`](Self::TileCount), [`Storage`](Self::Storage).
/// [`Internal`](Self::Internal) is a bug in this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The leaf index is not below the tree size.
    #[error("leaf index {leaf_index} is not in a tree of size {tree_size}")]
    IndexOutOfRange {
        /// The leaf asked for.
        leaf_index: u64,
        /// The size of the tree it was looked for in.
        tree_size: u64,
    },
    /// A consistency proof needs `1 <= old_size <= new_size` (RFC 9162 §2.1.4; size 0 is
    /// refused as in Go's `tlog.CheckTree`: the witness layer special-cases it).
    #[error("no consistency proof from size {old_size} to size {new_size}: need 1 <= old size <= new size")]
    BadSizes {
        /// The older tree size.
        old_size: u64,
        /// The newer tree size.
        new_size: u64,
    },
    /// The tree size is above [`MAX_TREE_SIZE`].
    #[error("tree size {tree_size} is beyond the largest supported (2^62 leaves)")]
    TreeTooLarge {
        /// The size asked for (saturated at `u64::MAX`).
        tree_size: u64,
    },
    /// The proof does not have the number of hashes its sizes and index imply.
    #[error("proof has {got} hashes, expected {expected}")]
    BadProofLength {
        /// The length the claim implies.
        expected: usize,
        /// The length of the proof given.
        got: usize,
    },
    /// The inclusion proof does not lead from the leaf hash to the root.
    #[error("inclusion proof of leaf {leaf_index} does not lead to the root of the tree of size {tree_size}")]
    InclusionMismatch {
        /// The leaf whose inclusion was claimed.
        leaf_index: u64,
        /// The size of the tree whose root was given.
        tree_size: u64,
    },
    /// The consistency proof does not lead to both roots (or, for equal sizes, the two roots
    /// differ).
    #[error(
        "consistency proof from size {old_size} to size {new_size} does not match the two roots"
    )]
    Inconsistent {
        /// The older tree size.
        old_size: u64,
        /// The newer tree size.
        new_size: u64,
    },
    /// A [`HashReader`] has no hash at this stored hash index.
    #[error("stored hash {index} is missing")]
    MissingHash {
        /// The stored hash index.
        index: u64,
    },
    /// A stored hash index that a tree of this size does not have yet.
    #[error("stored hash {index} is not in the tree of size {tree_size}")]
    HashNotInTree {
        /// The stored hash index asked for.
        index: u64,
        /// The size of the tree.
        tree_size: u64,
    },
    /// A [`HashReader`] returned the wrong number of hashes.
    #[error("hash reader returned {got} hashes for {expected} indexes")]
    ReadCount {
        /// The number of indexes asked for.
        expected: usize,
        /// The number of hashes returned.
        got: usize,
    },
    /// A [`crate::tile::TileReader`] returned the wrong number of tiles.
    #[error("tile reader returned {got} tiles for {expected} requested")]
    TileCount {
        /// The number of tiles asked for.
        expected: usize,
        /// The number of tiles returned.
        got: usize,
    },
    /// Tile data of the wrong length (in bytes).
    #[error("{path}: {got} bytes, expected {expected}")]
    TileLength {
        /// The tile's path, e.g. `tile/0/x001/234.p/7`.
        path: String,
        /// The length its width implies (`32 × width`).
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// A tile does not hash to the value its parent tile (or the tree root) commits to.
    ///
    /// When the edge tiles of the tree together fail to produce the root, `path` names them
    /// all, comma-separated: one of them is wrong, and nothing tells which.
    #[error("{path}: does not match the root of the tree of size {tree_size}")]
    TileMismatch {
        /// The tile (or tiles) that failed.
        path: String,
        /// The size of the tree whose root the tiles were checked against.
        tree_size: u64,
    },
    /// The tile does not hold that stored hash.
    #[error("{path}: does not hold stored hash {index}")]
    HashNotInTile {
        /// The tile's path.
        path: String,
        /// The stored hash index asked for.
        index: u64,
    },
    /// The tile cannot be used here (an entry bundle where a hash tile is needed, a width
    /// outside 1–256, a tile beyond [`MAX_TREE_SIZE`]).
    #[error("{path}: {reason}")]
    InvalidTile {
        /// The tile's path.
        path: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A [`crate::tile::TileReader`] does not have this tile.
    #[error("{path}: tile not found")]
    MissingTile {
        /// The tile's path.
        path: String,
    },
    /// A reader's backend failed (I/O, network); the text says how.
    #[error("storage: {0}")]
    Storage(String),
    /// Index arithmetic went wrong: a bug in sijil-core, not bad input.
    #[error("internal error (a bug in sijil-core): {0}")]
    Internal(&'static str),
}

/// The stored hash index of the `n`-th complete subtree of `2^level` leaves: the position of
/// hash `(level, n)` in the layout described in the [module docs](self).
///
/// `stored_hash_index(0, n)` is leaf `n`'s hash; `(2, 0)` (the root of leaves 0–3) is at 6.
/// Pure index arithmetic, total: the result is meaningful for `level < 64` and
/// `(n + 1) · 2^level <= 2^63`, which every tree of at most [`MAX_TREE_SIZE`] leaves
/// satisfies; outside that domain it wraps instead of panicking.
pub fn stored_hash_index(level: u32, n: u64) -> u64 {
    // Hash (level, n) is stored right after the hash of the last leaf it covers, leaf
    // (n + 1)·2^level − 1, and after the `level` lower hashes that leaf also completes.
    let last_leaf = n.wrapping_add(1).wrapping_shl(level).wrapping_sub(1);
    // Leaf m's hash follows every hash of the tree of m leaves: m + m/2 + m/4 + … of them,
    // which is 2m − popcount(m).
    last_leaf
        .wrapping_mul(2)
        .wrapping_sub(u64::from(last_leaf.count_ones()))
        .wrapping_add(u64::from(level))
}

/// The inverse of [`stored_hash_index`]: the `(level, n)` of the hash stored at `index`.
///
/// `split_stored_hash_index(stored_hash_index(level, n)) == (level, n)` on the domain given
/// there. Takes O(log index) steps; never panics.
pub fn split_stored_hash_index(index: u64) -> (u32, u64) {
    // stored_hash_index(0, n) = 2n − popcount(n) <= 2n, so the leaf whose append stored
    // `index` is at most 64 leaves after index/2.
    let mut n = index / 2;
    let mut index_n = stored_hash_index(0, n);
    // Appending leaf n stores its hash and one per subtree it completes. (Overflow only
    // happens outside the domain; stopping there keeps this total.)
    while let Some(next) = index_n.checked_add(1 + u64::from(n.trailing_ones())) {
        if next > index || n == u64::MAX {
            break;
        }
        n += 1;
        index_n = next;
    }
    // `index` was stored with leaf n: it is (0, n), (1, n/2), (2, n/4), … in that order.
    let level = u32::try_from(index - index_n).unwrap_or(u32::MAX);
    (level, n.checked_shr(level).unwrap_or(0))
}

/// The number of stored hashes of a tree of `tree_size` leaves.
///
/// It equals `stored_hash_index(0, tree_size)`, where the next leaf's hash will go.
pub fn stored_hash_count(tree_size: u64) -> u64 {
    stored_hash_index(0, tree_size)
}

/// The stored hashes to append when leaf `n` (0-based) with hash `leaf` is added to a tree
/// of `n` leaves: the leaf hash, then the hash of each subtree the leaf completes, lowest
/// first. They go at stored hash indexes `stored_hash_count(n)` and on.
///
/// Reads `trailing_ones(n)` earlier hashes from `r`, in one call.
///
/// # Errors
/// [`MerkleError::TreeTooLarge`] if `n + 1` exceeds [`MAX_TREE_SIZE`]; the reader's error,
/// or [`MerkleError::ReadCount`] if it returns the wrong number of hashes.
pub fn stored_hashes(
    n: u64,
    leaf: Hash,
    r: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    check_size(n.saturating_add(1))?;
    // Each trailing 1 bit of n completes a subtree whose left half is already stored.
    let m = n.trailing_ones();
    // Ascending order (largest subtree first), which readers serve fastest; n >> i is odd.
    let indexes: Vec<u64> = (0..m)
        .rev()
        .map(|i| stored_hash_index(i, (n >> i) - 1))
        .collect();
    let lefts = read_exact(r, &indexes)?;
    let mut hashes = Vec::with_capacity(lefts.len() + 1);
    let mut h = leaf;
    hashes.push(h);
    for left in lefts.iter().rev() {
        h = node_hash(left, &h);
        hashes.push(h);
    }
    Ok(hashes)
}

/// The root hash `MTH(D[0:tree_size])` of RFC 9162 §2.1.1, from at most `1 + log2(size)`
/// stored hashes read in one call. The empty tree's root is `SHA-256("")`
/// (`47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=`), returned without reading.
///
/// # Errors
/// [`MerkleError::TreeTooLarge`] above [`MAX_TREE_SIZE`]; the reader's error, or
/// [`MerkleError::ReadCount`].
pub fn tree_hash(tree_size: u64, r: &(impl HashReader + ?Sized)) -> Result<Hash, MerkleError> {
    if tree_size == 0 {
        return Ok(empty_root());
    }
    check_size(tree_size)?;
    let mut need = Vec::new();
    subtree_indexes(0, tree_size, &mut need);
    let hashes = read_exact(r, &need)?;
    let (root, rest) = subtree_hash(0, tree_size, &hashes)?;
    if !rest.is_empty() {
        return Err(MerkleError::Internal("tree_hash: hashes left over"));
    }
    Ok(root)
}

/// The inclusion proof (RFC 9162 §2.1.3.1 "audit path") of leaf `leaf_index` in the tree of
/// `tree_size` leaves: the sibling hashes from the leaf's sibling up to the root's child.
/// Reads all the stored hashes it needs in one call.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] unless `leaf_index < tree_size`;
/// [`MerkleError::TreeTooLarge`]; the reader's error, or [`MerkleError::ReadCount`].
pub fn prove_inclusion(
    tree_size: u64,
    leaf_index: u64,
    r: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    if leaf_index >= tree_size {
        return Err(MerkleError::IndexOutOfRange {
            leaf_index,
            tree_size,
        });
    }
    check_size(tree_size)?;
    let mut need = Vec::new();
    leaf_proof_indexes(0, tree_size, leaf_index, &mut need);
    let hashes = read_exact(r, &need)?;
    let mut proof = Vec::new();
    let rest = leaf_proof(0, tree_size, leaf_index, &hashes, &mut proof)?;
    if !rest.is_empty() {
        return Err(MerkleError::Internal("prove_inclusion: hashes left over"));
    }
    Ok(proof)
}

/// Checks an inclusion proof: that `leaf` (a leaf *hash*, `SHA-256(0x00 ‖ entry)`) is leaf
/// `leaf_index` of the tree of `tree_size` leaves whose root is `root`, with the algorithm
/// of RFC 9162 §2.1.3.2. Takes only the proof and the claim; does no I/O.
///
/// # Errors
/// [`MerkleError::IndexOutOfRange`] unless `leaf_index < tree_size` (so nothing is ever
/// included in the empty tree); [`MerkleError::BadProofLength`] if the proof is not exactly
/// as long as the index and size imply; [`MerkleError::InclusionMismatch`] if it does not
/// lead to `root`.
pub fn check_inclusion(
    proof: &[Hash],
    tree_size: u64,
    root: &Hash,
    leaf_index: u64,
    leaf: &Hash,
) -> Result<(), MerkleError> {
    if leaf_index >= tree_size {
        return Err(MerkleError::IndexOutOfRange {
            leaf_index,
            tree_size,
        });
    }
    let expected = inclusion_proof_len(leaf_index, tree_size);
    if proof.len() != expected {
        return Err(MerkleError::BadProofLength {
            expected,
            got: proof.len(),
        });
    }
    let mismatch = MerkleError::InclusionMismatch {
        leaf_index,
        tree_size,
    };
    // RFC 9162 §2.1.3.2, steps 2-5; fn/sn are the leaf's and the last leaf's positions at
    // the current level.
    let (mut fn_, mut sn) = (leaf_index, tree_size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(mismatch);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // A right-edge node with no sibling at the lower levels moves up unchanged.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 && r == *root {
        Ok(())
    } else {
        Err(mismatch)
    }
}

/// The consistency proof (RFC 9162 §2.1.4.1) that the tree of `new_size` leaves extends the
/// tree of `old_size` leaves. Empty when the sizes are equal. Reads all the stored hashes it
/// needs in one call.
///
/// # Errors
/// [`MerkleError::BadSizes`] unless `1 <= old_size <= new_size`;
/// [`MerkleError::TreeTooLarge`]; the reader's error, or [`MerkleError::ReadCount`].
pub fn prove_consistency(
    old_size: u64,
    new_size: u64,
    r: &(impl HashReader + ?Sized),
) -> Result<Vec<Hash>, MerkleError> {
    if old_size == 0 || old_size > new_size {
        return Err(MerkleError::BadSizes { old_size, new_size });
    }
    check_size(new_size)?;
    let mut need = Vec::new();
    tree_proof_indexes(0, new_size, old_size, &mut need);
    let hashes = read_exact(r, &need)?;
    let mut proof = Vec::new();
    let rest = tree_proof(0, new_size, old_size, &hashes, &mut proof)?;
    if !rest.is_empty() {
        return Err(MerkleError::Internal("prove_consistency: hashes left over"));
    }
    Ok(proof)
}

/// Checks a consistency proof: that the tree of `new_size` leaves with root `new_root`
/// extends the tree of `old_size` leaves with root `old_root`, with the algorithm of
/// RFC 9162 §2.1.4.2. Takes only the proof and the claim; does no I/O.
///
/// Strict, like Go's `tlog.CheckTree` and the transparency-dev test data: `old_size` 0 is an
/// error (the witness and mirror layers special-case the empty tree). Equal sizes with an
/// empty proof are consistent exactly when the two roots are equal (RFC 9162's step 1 would
/// reject every empty proof; the test vectors accept this one).
///
/// # Errors
/// [`MerkleError::BadSizes`] unless `1 <= old_size <= new_size`;
/// [`MerkleError::BadProofLength`] if the proof is not exactly as long as the sizes imply
/// (empty for equal sizes); [`MerkleError::Inconsistent`] if it does not lead to both roots.
pub fn check_consistency(
    proof: &[Hash],
    old_size: u64,
    old_root: &Hash,
    new_size: u64,
    new_root: &Hash,
) -> Result<(), MerkleError> {
    if old_size == 0 || old_size > new_size {
        return Err(MerkleError::BadSizes { old_size, new_size });
    }
    let inconsistent = MerkleError::Inconsistent { old_size, new_size };
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(MerkleError::BadProofLength {
                expected: 0,
                got: proof.len(),
            });
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(inconsistent)
        };
    }
    let expected = consistency_proof_len(old_size, new_size);
    if proof.len() != expected {
        return Err(MerkleError::BadProofLength {
            expected,
            got: proof.len(),
        });
    }
    // RFC 9162 §2.1.4.2 step 2: when the old tree is a complete subtree, its root is the
    // first node of the path and the proof omits it.
    let (first, rest) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        match proof.split_first() {
            Some(split) => split,
            None => return Err(inconsistent),
        }
    };
    let (fr, sr) = consistency_proof_roots(first, rest, old_size, new_size)?;
    if fr == *old_root && sr == *new_root {
        Ok(())
    } else {
        Err(inconsistent)
    }
}

/// The two roots a consistency proof leads to (RFC 9162 §2.1.4.2 steps 3–7): `(fr, sr)`, the
/// root of the tree of `old_size` leaves and the root of the tree of `new_size` leaves, as the
/// proof's hashes make them. [`check_consistency`] compares them with the two claimed roots.
///
/// The proof is given with its first node explicit: `first` is the proof's first hash and
/// `rest` the others, except when `old_size` is a power of two, where RFC 9162 omits the old
/// tree's root from the proof: then `first` is that root as the *new* tree holds it (the
/// stored hash of the complete subtree `[0, old_size)`) and `rest` is the whole proof.
///
/// This is what makes a failing proof evidence of a fork rather than noise: hashes that lead
/// to the new tree's root (`sr` equals it) are, short of a SHA-256 collision, the new tree's
/// own nodes, so the `fr` they give is the root of the new tree's first `old_size` leaves; if
/// a checkpoint signed for `old_size` names another root, the two trees cannot both be the
/// log's (docs/FORMAT.md, fork evidence).
///
/// # Errors
/// [`MerkleError::BadSizes`] unless `1 <= old_size < new_size`;
/// [`MerkleError::BadProofLength`] if `first` and `rest` are not as many hashes as the sizes
/// imply; [`MerkleError::Inconsistent`] if the proof's shape runs past the root.
pub fn consistency_proof_roots(
    first: &Hash,
    rest: &[Hash],
    old_size: u64,
    new_size: u64,
) -> Result<(Hash, Hash), MerkleError> {
    if old_size == 0 || old_size >= new_size {
        return Err(MerkleError::BadSizes { old_size, new_size });
    }
    let inconsistent = MerkleError::Inconsistent { old_size, new_size };
    let expected = consistency_proof_len(old_size, new_size);
    let given = rest.len() + usize::from(!old_size.is_power_of_two());
    if given != expected {
        return Err(MerkleError::BadProofLength {
            expected,
            got: given,
        });
    }
    // Steps 3-7: fr rebuilds the old root, sr the new one.
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return Err(inconsistent);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn == 0 {
        Ok((fr, sr))
    } else {
        Err(inconsistent)
    }
}

/// Stored hashes in memory: the whole tree as one `Vec<Hash>` in stored-hash order.
///
/// For tests, benches and small tools; a log keeps its hashes in tiles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryHashes {
    hashes: Vec<Hash>,
    tree_size: u64,
}

impl MemoryHashes {
    /// An empty tree.
    pub fn new() -> MemoryHashes {
        MemoryHashes::default()
    }

    /// The tree of these leaf hashes, in order.
    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> MemoryHashes {
        let mut tree = MemoryHashes::new();
        for leaf in leaves {
            tree.append(leaf);
        }
        tree
    }

    /// The number of leaves.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// All stored hashes, `stored_hash_count(tree_size)` of them.
    pub fn stored(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends a leaf hash (`SHA-256(0x00 ‖ entry)`) and returns its leaf index.
    pub fn append(&mut self, leaf: Hash) -> u64 {
        let n = self.tree_size;
        let new = stored_hashes(n, leaf, &*self).expect(
            "stored_hashes reads only indexes below stored_hash_count(n), all held here, and \
             an in-memory tree cannot reach MAX_TREE_SIZE",
        );
        self.hashes.extend(new);
        self.tree_size += 1;
        n
    }
}

impl HashReader for MemoryHashes {
    /// # Errors
    /// [`MerkleError::MissingHash`] for an index beyond the stored hashes.
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&index| {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| self.hashes.get(i))
                    .copied()
                    .ok_or(MerkleError::MissingHash { index })
            })
            .collect()
    }
}

/// Fails with [`MerkleError::TreeTooLarge`] above [`MAX_TREE_SIZE`].
pub(crate) fn check_size(tree_size: u64) -> Result<(), MerkleError> {
    if tree_size > MAX_TREE_SIZE {
        Err(MerkleError::TreeTooLarge { tree_size })
    } else {
        Ok(())
    }
}

/// Reads `indexes` (none: no call) and checks the reader returned one hash per index.
pub(crate) fn read_exact(
    r: &(impl HashReader + ?Sized),
    indexes: &[u64],
) -> Result<Vec<Hash>, MerkleError> {
    if indexes.is_empty() {
        return Ok(Vec::new());
    }
    let hashes = r.read_hashes(indexes)?;
    if hashes.len() != indexes.len() {
        return Err(MerkleError::ReadCount {
            expected: indexes.len(),
            got: hashes.len(),
        });
    }
    Ok(hashes)
}

/// The largest power of two strictly below `n` (n >= 2): where RFC 9162 §2.1.1 splits a
/// tree of `n` leaves.
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The largest power of two `k <= n` (n >= 1) and its log2.
fn max_pow2_at_most(n: u64) -> (u64, u32) {
    let level = 63 - n.leading_zeros();
    (1 << level, level)
}

/// Appends the stored hash indexes of the complete subtrees that make up leaves
/// `[lo, hi)`, largest (leftmost) first. `lo` must be aligned to the largest of them, which
/// holds for every range the proofs below ask for.
pub(crate) fn subtree_indexes(mut lo: u64, hi: u64, need: &mut Vec<u64>) {
    while lo < hi {
        let (k, level) = max_pow2_at_most(hi - lo);
        debug_assert_eq!(lo & (k - 1), 0, "subtree [{lo}, {hi}) is not aligned");
        need.push(stored_hash_index(level, lo >> level));
        lo += k;
    }
}

/// `MTH(D[lo:hi])` from the hashes [`subtree_indexes`] listed for the same range, and the
/// hashes left over.
fn subtree_hash(lo: u64, hi: u64, hashes: &[Hash]) -> Result<(Hash, &[Hash]), MerkleError> {
    // The aligned decomposition of [lo, hi) has one subtree per 1 bit of its width.
    let count = (hi - lo).count_ones() as usize;
    let (mine, rest) = hashes
        .split_at_checked(count)
        .ok_or(MerkleError::Internal("subtree_hash: too few hashes"))?;
    let mut parts = mine.iter().rev();
    let mut h = *parts
        .next()
        .ok_or(MerkleError::Internal("subtree_hash: empty range"))?;
    for left in parts {
        h = node_hash(left, &h);
    }
    Ok((h, rest))
}

/// The stored hashes [`leaf_proof`] needs for leaf `n` in the subtree `[lo, hi)`.
fn leaf_proof_indexes(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if lo + 1 == hi {
        return;
    }
    let k = split_point(hi - lo);
    if n < lo + k {
        leaf_proof_indexes(lo, lo + k, n, need);
        subtree_indexes(lo + k, hi, need);
    } else {
        subtree_indexes(lo, lo + k, need);
        leaf_proof_indexes(lo + k, hi, n, need);
    }
}

/// RFC 9162 §2.1.3.1 `PATH(n, D[lo:hi])`, appended to `proof` leaf-side first.
fn leaf_proof<'a>(
    lo: u64,
    hi: u64,
    n: u64,
    hashes: &'a [Hash],
    proof: &mut Vec<Hash>,
) -> Result<&'a [Hash], MerkleError> {
    if lo + 1 == hi {
        // The verifier has the leaf hash.
        return Ok(hashes);
    }
    let k = split_point(hi - lo);
    let (sibling, rest) = if n < lo + k {
        let rest = leaf_proof(lo, lo + k, n, hashes, proof)?;
        subtree_hash(lo + k, hi, rest)?
    } else {
        let (sibling, rest) = subtree_hash(lo, lo + k, hashes)?;
        (sibling, leaf_proof(lo + k, hi, n, rest, proof)?)
    };
    proof.push(sibling);
    Ok(rest)
}

/// The stored hashes [`tree_proof`] needs for old size `n` in the subtree `[lo, hi)`.
fn tree_proof_indexes(lo: u64, hi: u64, n: u64, need: &mut Vec<u64>) {
    if n == hi {
        if lo != 0 {
            subtree_indexes(lo, hi, need);
        }
        return;
    }
    let k = split_point(hi - lo);
    if n <= lo + k {
        tree_proof_indexes(lo, lo + k, n, need);
        subtree_indexes(lo + k, hi, need);
    } else {
        subtree_indexes(lo, lo + k, need);
        tree_proof_indexes(lo + k, hi, n, need);
    }
}

/// RFC 9162 §2.1.4.1 `SUBPROOF(n, D[lo:hi], lo == 0)`, appended to `proof`.
fn tree_proof<'a>(
    lo: u64,
    hi: u64,
    n: u64,
    hashes: &'a [Hash],
    proof: &mut Vec<Hash>,
) -> Result<&'a [Hash], MerkleError> {
    if n == hi {
        if lo == 0 {
            // This subtree is the whole old tree, whose root the verifier has.
            return Ok(hashes);
        }
        let (h, rest) = subtree_hash(lo, hi, hashes)?;
        proof.push(h);
        return Ok(rest);
    }
    let k = split_point(hi - lo);
    let (sibling, rest) = if n <= lo + k {
        let rest = tree_proof(lo, lo + k, n, hashes, proof)?;
        subtree_hash(lo + k, hi, rest)?
    } else {
        let (sibling, rest) = subtree_hash(lo, lo + k, hashes)?;
        (sibling, tree_proof(lo + k, hi, n, rest, proof)?)
    };
    proof.push(sibling);
    Ok(rest)
}

/// The length of the inclusion proof of leaf `n` in a tree of `size` leaves (`n < size`):
/// one hash per level walked down from the root to the leaf.
fn inclusion_proof_len(n: u64, size: u64) -> usize {
    let (mut lo, mut hi, mut len) = (0, size, 0);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if n < lo + k {
            hi = lo + k;
        } else {
            lo += k;
        }
        len += 1;
    }
    len
}

/// The length of the consistency proof from `old` to `new` leaves (`1 <= old < new`).
fn consistency_proof_len(old: u64, new: u64) -> usize {
    let (mut lo, mut hi, mut len) = (0, new, 0);
    while old != hi {
        let k = split_point(hi - lo);
        if old <= lo + k {
            hi = lo + k;
        } else {
            lo += k;
        }
        len += 1;
    }
    // A common subtree that is not the old tree itself is sent too.
    len + usize::from(lo != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::{leaf_hash, sha256};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// RFC 9162 §2.1.1 MTH, straight from the definition.
    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn stored_hash_index_layout() {
        // The table in the module docs.
        let layout = [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0)];
        for (index, &(level, n)) in layout.iter().enumerate() {
            assert_eq!(stored_hash_index(level, n), index as u64, "({level}, {n})");
            assert_eq!(
                split_stored_hash_index(index as u64),
                (level, n),
                "index {index}"
            );
        }
        assert_eq!(stored_hash_count(0), 0);
        assert_eq!(stored_hash_count(4), 7);
    }

    #[test]
    fn split_inverts_index_over_a_range() {
        for index in 0..5000u64 {
            let (level, n) = split_stored_hash_index(index);
            assert_eq!(stored_hash_index(level, n), index);
        }
        // Near the top of the supported domain, and never a panic beyond it.
        for (level, n) in [
            (0, MAX_TREE_SIZE - 1),
            (62, 0),
            (8, (MAX_TREE_SIZE >> 8) - 1),
        ] {
            assert_eq!(
                split_stored_hash_index(stored_hash_index(level, n)),
                (level, n)
            );
        }
        let _ = split_stored_hash_index(u64::MAX);
        let _ = stored_hash_index(200, u64::MAX);
    }

    #[test]
    fn stored_hash_count_matches_memory_tree() {
        let mut tree = MemoryHashes::new();
        for (i, leaf) in leaves(300).into_iter().enumerate() {
            assert_eq!(tree.stored().len() as u64, stored_hash_count(i as u64));
            assert_eq!(tree.append(leaf), i as u64);
        }
        assert_eq!(tree.stored().len() as u64, stored_hash_count(300));
    }

    #[test]
    fn roots_and_all_proofs_for_small_trees() {
        let all = leaves(33);
        let tree = MemoryHashes::from_leaves(all.iter().copied());
        let roots: Vec<Hash> = (0..=33).map(|n| naive_root(&all[..n])).collect();
        for size in 0..=33u64 {
            let root = tree_hash(size, &tree).expect("tree_hash");
            assert_eq!(root, roots[size as usize], "size {size}");
            for i in 0..size {
                let proof = prove_inclusion(size, i, &tree).expect("prove_inclusion");
                check_inclusion(&proof, size, &root, i, &all[i as usize]).expect("inclusion");
            }
            for old in 1..=size {
                let proof = prove_consistency(old, size, &tree).expect("prove_consistency");
                check_consistency(&proof, old, &roots[old as usize], size, &root)
                    .expect("consistency");
            }
        }
    }

    #[test]
    fn bad_inputs_are_named() {
        let tree = MemoryHashes::from_leaves(leaves(5));
        let root = tree_hash(5, &tree).expect("root");
        assert_eq!(
            prove_inclusion(5, 5, &tree),
            Err(MerkleError::IndexOutOfRange {
                leaf_index: 5,
                tree_size: 5
            })
        );
        assert_eq!(
            prove_consistency(0, 5, &tree),
            Err(MerkleError::BadSizes {
                old_size: 0,
                new_size: 5
            })
        );
        assert_eq!(
            prove_consistency(6, 5, &tree),
            Err(MerkleError::BadSizes {
                old_size: 6,
                new_size: 5
            })
        );
        assert_eq!(
            tree_hash(MAX_TREE_SIZE + 1, &tree),
            Err(MerkleError::TreeTooLarge {
                tree_size: MAX_TREE_SIZE + 1
            })
        );
        // Size 6 needs (2, 0) at 6, held, and (1, 2) at 9, not yet stored.
        assert_eq!(
            tree_hash(6, &tree),
            Err(MerkleError::MissingHash { index: 9 })
        );
        let proof = prove_inclusion(5, 1, &tree).expect("proof");
        assert_eq!(
            check_inclusion(&proof[1..], 5, &root, 1, &leaves(5)[1]),
            Err(MerkleError::BadProofLength {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            check_inclusion(&proof, 5, &root, 2, &leaves(5)[1]),
            Err(MerkleError::InclusionMismatch {
                leaf_index: 2,
                tree_size: 5
            })
        );
        assert_eq!(
            check_inclusion(&[], 0, &empty_root(), 0, &leaves(1)[0]),
            Err(MerkleError::IndexOutOfRange {
                leaf_index: 0,
                tree_size: 0
            })
        );
        assert_eq!(
            check_consistency(&[root], 5, &root, 5, &root),
            Err(MerkleError::BadProofLength {
                expected: 0,
                got: 1
            })
        );
        assert_eq!(
            check_consistency(&[], 5, &root, 5, &empty_root()),
            Err(MerkleError::Inconsistent {
                old_size: 5,
                new_size: 5
            })
        );
        let message = MerkleError::TileLength {
            path: "tile/0/x001/234.p/7".into(),
            expected: 224,
            got: 192,
        };
        assert_eq!(
            message.to_string(),
            "tile/0/x001/234.p/7: 192 bytes, expected 224"
        );
    }

    #[test]
    fn huge_sizes_check_without_overflow() {
        // Checking needs no stored hashes, so sizes up to u64::MAX must neither panic nor
        // pass with a wrong proof.
        let h = leaf_hash(b"x");
        assert!(check_inclusion(&[h; 64], u64::MAX, &h, u64::MAX - 1, &h).is_err());
        assert!(check_consistency(&[h; 64], u64::MAX - 1, &h, u64::MAX, &h).is_err());
        assert_eq!(inclusion_proof_len(u64::MAX - 1, u64::MAX), 63);
    }

    #[test]
    fn proof_lengths_match_the_closed_forms() {
        // The transparency-dev/merkle decomposition: an inner part below the level where the
        // paths to the leaf and to the last leaf split, and a border part above it.
        let inclusion = |n: u64, size: u64| {
            let inner = 64 - (n ^ (size - 1)).leading_zeros();
            inner as usize + (n.checked_shr(inner).unwrap_or(0)).count_ones() as usize
        };
        for size in 1..200u64 {
            for n in 0..size {
                assert_eq!(
                    inclusion_proof_len(n, size),
                    inclusion(n, size),
                    "{n} of {size}"
                );
            }
            for old in 1..size {
                let inner = 64 - ((old - 1) ^ (size - 1)).leading_zeros();
                let shift = old.trailing_zeros().min(inner);
                let want = (inner - shift) as usize
                    + ((old - 1) >> inner).count_ones() as usize
                    + usize::from(!old.is_power_of_two());
                assert_eq!(consistency_proof_len(old, size), want, "{old} to {size}");
            }
        }
    }

    #[test]
    fn reader_returning_wrong_count_is_an_error() {
        struct Short;
        impl HashReader for Short {
            fn read_hashes(&self, _: &[u64]) -> Result<Vec<Hash>, MerkleError> {
                Ok(vec![Hash::ZERO])
            }
        }
        assert_eq!(
            tree_hash(7, &Short),
            Err(MerkleError::ReadCount {
                expected: 3,
                got: 1
            })
        );
    }

    #[test]
    fn proof_roots_name_the_new_trees_prefix() {
        // A proof from the new tree leads to its root and to the root of its first m leaves;
        // another tree of m leaves (a fork) shows as fr differing from that tree's root.
        let all = leaves(40);
        let tree = MemoryHashes::from_leaves(all.iter().copied());
        let new_root = tree_hash(40, &tree).expect("root");
        let mut other = all[..13].to_vec();
        other[5] = sha256(b"forked");
        let forked = naive_root(&other);
        for m in [1u64, 2, 8, 13, 16, 39] {
            let proof = prove_consistency(m, 40, &tree).expect("proof");
            let prefix = naive_root(&all[..m as usize]);
            let (first, rest) = if m.is_power_of_two() {
                (&prefix, proof.as_slice())
            } else {
                proof.split_first().expect("non-empty")
            };
            assert_eq!(
                consistency_proof_roots(first, rest, m, 40),
                Ok((prefix, new_root)),
                "m = {m}"
            );
            if m == 13 {
                assert_ne!(forked, prefix);
                assert!(check_consistency(&proof, 13, &forked, 40, &new_root).is_err());
            }
        }
        assert!(matches!(
            consistency_proof_roots(&new_root, &[], 40, 40),
            Err(MerkleError::BadSizes { .. })
        ));
        assert!(matches!(
            consistency_proof_roots(&new_root, &[], 13, 40),
            Err(MerkleError::BadProofLength { .. })
        ));
    }
}
