//! Fork evidence: two checkpoints signed by the same log key that cannot both be honest,
//! kept in a self-contained file that anyone can re-check with the log's verifier key alone
//! (`sijil evidence check FILE --key VKEY`). Format: docs/FORMAT.md, "Fork evidence".
//!
//! A log never signs two inconsistent checkpoints (c2sp.org/tlog-checkpoint), so either of
//! these proves it did, or that its key is in other hands:
//!
//! - **Same size, different roots**: two signed notes are enough.
//! - **Sizes m < n, not consistent**: the notes, plus the RFC 9162 §2.1.4 consistency proof
//!   from m to n computed from the *n-tree's own tiles* (verified against its signed root),
//!   with its first node explicit. Those hashes lead to the n-tree's root, so (short of a
//!   SHA-256 collision) they are its nodes, and the root of its first m leaves they give is
//!   not the root the m-checkpoint signs ([`sijil_core::merkle::consistency_proof_roots`]).
//!   A proof that does not lead to the n-tree's root proves nothing, and `check` says so.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::durable;
use sijil_core::merkle::{
    check_consistency, consistency_proof_roots, prove_consistency, stored_hash_index,
    HashReader as _, MerkleError,
};
use sijil_core::note::Verifier;
use sijil_core::tile::{TileHashReader, TileReader};
use sijil_core::Hash;

/// The first line of the format, as a JSON field.
pub const FORMAT: &str = "sijil-fork-evidence/v1";

/// One of the two checkpoints, as it was seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The signed note, verbatim (UTF-8, as c2sp.org/signed-note requires).
    pub note: String,
    /// Where it was fetched from (a URL, a directory, a state file, a witness request).
    pub source: String,
    /// When (RFC 3339, UTC).
    pub seen_at: String,
}

/// The consistency proof of an inconsistent pair, first node explicit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofHashes {
    pub old_size: u64,
    pub new_size: u64,
    /// The proof's first hash, or the new tree's hash of its first `old_size` leaves when
    /// `old_size` is a power of two (RFC 9162 omits that node from the proof).
    pub first: String,
    /// The other hashes (the whole RFC 9162 proof when `old_size` is a power of two), base64.
    pub rest: Vec<String>,
}

/// A fork evidence file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Always [`FORMAT`].
    pub format: String,
    /// The log's origin.
    pub origin: String,
    /// `same-size` or `inconsistent`.
    pub kind: String,
    /// The smaller checkpoint, whichever was seen first (for `same-size`: the first seen).
    pub old: Seen,
    /// The larger checkpoint (for `same-size`: the second seen).
    pub new: Seen,
    /// For `inconsistent`: the proof from `old` to `new`.
    pub proof: Option<ProofHashes>,
    /// The tool that found it (`sijil verify`, `sijil mirror`, `sijil witness`…).
    pub detected_by: String,
    /// When (RFC 3339, UTC).
    pub detected_at: String,
}

/// What a valid evidence file proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fork {
    /// Two roots for one size.
    SameSize {
        size: u64,
        old_root: Hash,
        new_root: Hash,
    },
    /// The new tree's first `old_size` leaves have another root than the old checkpoint's.
    Inconsistent {
        old_size: u64,
        new_size: u64,
        /// The old checkpoint's root.
        old_root: Hash,
        /// The root of the new tree's first `old_size` leaves, from the proof.
        prefix_root: Hash,
        /// The new checkpoint's root (which the proof leads to).
        new_root: Hash,
    },
}

impl std::fmt::Display for Fork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fork::SameSize {
                size,
                old_root,
                new_root,
            } => write!(
                f,
                "two checkpoints of size {size} with different roots ({old_root} and {new_root})"
            ),
            Fork::Inconsistent {
                old_size,
                new_size,
                old_root,
                prefix_root,
                ..
            } => write!(
                f,
                "the checkpoint of size {new_size} does not extend the one of size {old_size}: its first {old_size} entries have root {prefix_root}, not {old_root}"
            ),
        }
    }
}

/// Why an evidence file proves nothing, or cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    #[error("not a fork evidence file: {0}")]
    Format(String),
    #[error("{which} checkpoint: {source}")]
    Checkpoint {
        which: &'static str,
        source: sijil_core::checkpoint::CheckpointError,
    },
    #[error("the two checkpoints are consistent: {0}")]
    NotAFork(String),
    #[error("the proof does not lead to the root of the checkpoint of size {new_size}, so it shows nothing about that tree")]
    ProofNotFromNewTree { new_size: u64 },
    #[error("proof: {0}")]
    Proof(MerkleError),
    #[error(transparent)]
    Io(#[from] durable::IoError),
}

impl Evidence {
    /// Evidence of two checkpoints of one size with different roots.
    pub fn same_size(old: Seen, new: Seen, origin: &str, detected_by: &str, now: &str) -> Evidence {
        Evidence {
            format: FORMAT.into(),
            origin: origin.into(),
            kind: "same-size".into(),
            old,
            new,
            proof: None,
            detected_by: detected_by.into(),
            detected_at: now.into(),
        }
    }

    /// Evidence of an inconsistent pair with the proof hashes (first node explicit).
    pub fn inconsistent(
        old: Seen,
        new: Seen,
        proof: ProofHashes,
        origin: &str,
        detected_by: &str,
        now: &str,
    ) -> Evidence {
        Evidence {
            format: FORMAT.into(),
            origin: origin.into(),
            kind: "inconsistent".into(),
            old,
            new,
            proof: Some(proof),
            detected_by: detected_by.into(),
            detected_at: now.into(),
        }
    }

    /// The file's bytes (pretty JSON, one field per line, ending in a newline).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = serde_json::to_vec_pretty(self).unwrap_or_default();
        b.push(b'\n');
        b
    }

    /// Parses a file.
    ///
    /// # Errors
    /// [`EvidenceError::Format`].
    pub fn parse(bytes: &[u8]) -> Result<Evidence, EvidenceError> {
        let e: Evidence =
            serde_json::from_slice(bytes).map_err(|e| EvidenceError::Format(e.to_string()))?;
        if e.format != FORMAT {
            return Err(EvidenceError::Format(format!(
                "format {:?}, expected {FORMAT:?}",
                e.format
            )));
        }
        Ok(e)
    }

    /// Writes the file durably (`write`, `fsync`, then its directory), creating its directory.
    ///
    /// # Errors
    /// [`EvidenceError::Io`].
    pub fn save(&self, path: &Path) -> Result<(), EvidenceError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| durable::IoError::new("mkdir", dir, e))?;
        }
        durable::write_synced(path, &self.to_bytes(), false)?;
        durable::sync_dir(path.parent().unwrap_or(Path::new(".")))?;
        Ok(())
    }

    /// Re-checks the evidence with the log's verifier key alone: both signatures, then the
    /// inconsistency (see the module docs). Returns what it proves.
    ///
    /// # Errors
    /// [`EvidenceError::Checkpoint`] if a note does not verify with `verifier` (or names
    /// another origin); [`EvidenceError::NotAFork`] if the checkpoints are consistent;
    /// [`EvidenceError::ProofNotFromNewTree`] or [`EvidenceError::Proof`] if the proof shows
    /// nothing; [`EvidenceError::Format`] for a missing or malformed proof.
    pub fn check(&self, verifier: &Verifier) -> Result<Fork, EvidenceError> {
        let old = SignedCheckpoint::open(self.old.note.as_bytes(), verifier).map_err(|source| {
            EvidenceError::Checkpoint {
                which: "old",
                source,
            }
        })?;
        let new = SignedCheckpoint::open(self.new.note.as_bytes(), verifier).map_err(|source| {
            EvidenceError::Checkpoint {
                which: "new",
                source,
            }
        })?;
        let (a, b) = (&old.checkpoint, &new.checkpoint);
        if a.size == b.size {
            if a.root == b.root {
                return Err(EvidenceError::NotAFork(format!(
                    "both have size {} and root {}",
                    a.size, a.root
                )));
            }
            return Ok(Fork::SameSize {
                size: a.size,
                old_root: a.root,
                new_root: b.root,
            });
        }
        if a.size > b.size || a.size == 0 {
            return Err(EvidenceError::NotAFork(format!(
                "size {} then {}: only an older non-empty tree can be proven inconsistent with a newer one",
                a.size, b.size
            )));
        }
        let p = self
            .proof
            .as_ref()
            .ok_or_else(|| EvidenceError::Format("sizes differ but there is no proof".into()))?;
        if p.old_size != a.size || p.new_size != b.size {
            return Err(EvidenceError::Format(format!(
                "the proof is from size {} to {}, the checkpoints are of sizes {} and {}",
                p.old_size, p.new_size, a.size, b.size
            )));
        }
        let decode = |s: &str| {
            Hash::from_base64(s)
                .ok_or_else(|| EvidenceError::Format(format!("{s:?} is not a base64 hash")))
        };
        let first = decode(&p.first)?;
        let rest = p
            .rest
            .iter()
            .map(|s| decode(s))
            .collect::<Result<Vec<_>, _>>()?;
        let (prefix_root, new_root) =
            consistency_proof_roots(&first, &rest, a.size, b.size).map_err(EvidenceError::Proof)?;
        if new_root != b.root {
            return Err(EvidenceError::ProofNotFromNewTree { new_size: b.size });
        }
        if prefix_root == a.root {
            return Err(EvidenceError::NotAFork(format!(
                "the proof shows the tree of size {} extends the one of size {}",
                b.size, a.size
            )));
        }
        Ok(Fork::Inconsistent {
            old_size: a.size,
            new_size: b.size,
            old_root: a.root,
            prefix_root,
            new_root,
        })
    }
}

/// How a newer checkpoint relates to an older one, judged with the newer tree's tiles.
#[derive(Debug)]
pub(crate) enum Consistency {
    /// The proof from the newer tree's verified tiles leads to both roots.
    Consistent,
    /// The newer tree's verified tiles give another root for the older size.
    Fork(ProofHashes),
    /// The tiles could not be read or do not match the newer root (bad data, not a fork).
    Tiles(MerkleError),
}

/// Checks that `new` (n ≥ 1) extends `old` (1 ≤ m < n), with a proof computed from `tiles`
/// of the new tree: [`TileHashReader`] verifies each tile against `new`'s root first, so a
/// failing proof is evidence (the hashes are the new tree's), not noise.
pub(crate) fn compare(old: &Checkpoint, new: &Checkpoint, tiles: impl TileReader) -> Consistency {
    let (m, n) = (old.size, new.size);
    let reader = TileHashReader::new(n, new.root, tiles);
    let proof = match prove_consistency(m, n, &reader) {
        Ok(p) => p,
        Err(e) => return Consistency::Tiles(e),
    };
    if check_consistency(&proof, m, &old.root, n, &new.root).is_ok() {
        return Consistency::Consistent;
    }
    let (first, rest) = if m.is_power_of_two() {
        // [0, m) is a complete subtree of the new tree: its stored hash at level log2(m).
        match reader.read_hashes(&[stored_hash_index(m.trailing_zeros(), 0)]) {
            Ok(h) if h.len() == 1 => (h[0], proof),
            Ok(_) => return Consistency::Tiles(MerkleError::Internal("one hash asked for")),
            Err(e) => return Consistency::Tiles(e),
        }
    } else {
        match proof.split_first() {
            Some((f, r)) => (*f, r.to_vec()),
            None => {
                return Consistency::Tiles(MerkleError::Internal(
                    "empty proof between different sizes",
                ))
            }
        }
    };
    Consistency::Fork(ProofHashes {
        old_size: m,
        new_size: n,
        first: first.to_base64(),
        rest: rest.iter().map(Hash::to_base64).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sijil_core::merkle::MemoryHashes;
    use sijil_core::note::Signer;
    use sijil_core::tile::{new_tiles, read_tile_data, MemoryTiles};
    use sijil_core::{leaf_hash, merkle};

    const ORIGIN: &str = "registre.example.ma/test";

    fn tree(seed: u8, n: u64) -> (MemoryHashes, Hash) {
        let t = MemoryHashes::from_leaves((0..n).map(|i| leaf_hash(&[seed, i as u8])));
        let root = merkle::tree_hash(n, &t).expect("root");
        (t, root)
    }

    fn tiles(t: &MemoryHashes, n: u64) -> MemoryTiles {
        let mut m = MemoryTiles::new();
        for tile in new_tiles(0, n) {
            m.insert(tile, read_tile_data(&tile, t).expect("data"));
        }
        m
    }

    fn seen(cp: &SignedCheckpoint) -> Seen {
        Seen {
            note: String::from_utf8(cp.bytes.clone()).expect("utf-8"),
            source: "test".into(),
            seen_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn fork_evidence_rechecks_and_consistent_pairs_do_not() {
        let key = Signer::from_seed(ORIGIN, &[3; 32]).expect("key");
        let v = key.verifier();
        let (honest, _) = tree(1, 600);
        for (m, n) in [(13u64, 600u64), (256, 600), (300, 301)] {
            let old_root = merkle::tree_hash(m, &honest).expect("root");
            // A fork: another tree of n leaves that shares nothing with the honest one.
            let (forked, forked_root) = tree(2, n);
            let old =
                SignedCheckpoint::sign(Checkpoint::new(ORIGIN, m, old_root), &key).expect("sign");
            let new = SignedCheckpoint::sign(Checkpoint::new(ORIGIN, n, forked_root), &key)
                .expect("sign");
            let Consistency::Fork(proof) =
                compare(&old.checkpoint, &new.checkpoint, tiles(&forked, n))
            else {
                panic!("{m} -> {n}: not found")
            };
            let e = Evidence::inconsistent(seen(&old), seen(&new), proof, ORIGIN, "test", "now");
            let back = Evidence::parse(&e.to_bytes()).expect("parses");
            assert!(
                matches!(back.check(&v), Ok(Fork::Inconsistent { .. })),
                "{m}"
            );

            // A forged proof (one hash changed) no longer leads to the new root.
            let mut forged = back.clone();
            if let Some(p) = forged.proof.as_mut() {
                p.first = Hash([9; 32]).to_base64();
            }
            assert!(matches!(
                forged.check(&v),
                Err(EvidenceError::ProofNotFromNewTree { .. })
            ));
            // Another key: the signatures do not verify.
            let other = Signer::from_seed(ORIGIN, &[4; 32]).expect("key").verifier();
            assert!(matches!(
                back.check(&other),
                Err(EvidenceError::Checkpoint { .. })
            ));

            // The honest growth is consistent.
            let honest_new = SignedCheckpoint::sign(
                Checkpoint::new(ORIGIN, n, merkle::tree_hash(n, &honest).expect("root")),
                &key,
            )
            .expect("sign");
            assert!(matches!(
                compare(&old.checkpoint, &honest_new.checkpoint, tiles(&honest, n)),
                Consistency::Consistent
            ));
        }
        // Same size, different roots.
        let a =
            SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 5, Hash([1; 32])), &key).expect("sign");
        let b =
            SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 5, Hash([2; 32])), &key).expect("sign");
        let e = Evidence::same_size(seen(&a), seen(&b), ORIGIN, "test", "now");
        assert!(matches!(e.check(&v), Ok(Fork::SameSize { size: 5, .. })));
        let same = Evidence::same_size(seen(&a), seen(&a), ORIGIN, "test", "now");
        assert!(matches!(same.check(&v), Err(EvidenceError::NotAFork(_))));
    }
}
