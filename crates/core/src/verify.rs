//! Full verification of a log from its entry bundles, with no I/O (DESIGN §8).
//!
//! An [`Auditor`] is given a checkpoint that was already opened with the log's key, then
//! every entry bundle in order. For each entry it checks the canonical encoding, `seq`, the
//! hash chain (`prev`), that `recorded_at` never goes back, and (in batches, on all cores)
//! the officer's signature; it rebuilds every hash tile from the leaf hashes, so the caller
//! can compare them with the tiles the log serves, and at the end checks that the rebuilt
//! root is the checkpoint's. The register's rules are the projector's job; the caller runs
//! them on the entries the auditor returns.

use crate::bundle;
use crate::checkpoint::Checkpoint;
use crate::entry::{verify_signatures, Entry, EntryError};
use crate::hash::{leaf_hash, Hash};
use crate::merkle::MerkleError;
use crate::tile::{Tile, TileBuilder, TileLevel};

/// An entry with its canonical bytes and leaf hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEntry {
    pub entry: Entry,
    pub bytes: Vec<u8>,
    pub leaf: Hash,
}

/// Why a log fails verification. Each variant names where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditError {
    #[error("{path}: {source}")]
    Bundle {
        path: String,
        source: bundle::BundleError,
    },
    #[error("{path}: {got} entries, expected {expected}")]
    BundleCount {
        path: String,
        got: usize,
        expected: usize,
    },
    #[error("bundle {index} given out of order (expected bundle {expected})")]
    OutOfOrder { index: u64, expected: u64 },
    #[error("entry {seq} (in {path}): {source}")]
    Entry {
        seq: u64,
        path: String,
        source: EntryError,
    },
    #[error("entry at leaf index {seq} (in {path}) says seq {got}")]
    Seq { seq: u64, path: String, got: u64 },
    #[error("entry {seq}: prev is {got}, but the leaf hash of entry {} is {expected}", .seq.saturating_sub(1))]
    Chain { seq: u64, expected: Hash, got: Hash },
    #[error("entry {seq}: recorded_at {got} is before the previous entry's {previous}")]
    TimeWentBack { seq: u64, previous: i64, got: i64 },
    #[error("{source}")]
    Signature { source: EntryError },
    #[error("{path}: the served tile differs from the one rebuilt from the entries")]
    TileMismatch { path: String },
    #[error("the entries give root {got} for size {size}, but the checkpoint says {expected}")]
    RootMismatch {
        size: u64,
        expected: Hash,
        got: Hash,
    },
    #[error("only {got} of the checkpoint's {size} entries were checked")]
    Incomplete { size: u64, got: u64 },
    #[error("entry {seq} in {path} is not the entry already verified at that index")]
    NotTheVerifiedEntry { seq: u64, path: String },
    #[error("cannot resume at size {resumed}: the checkpoint's tree has {size} entries")]
    ResumeBeyond { size: u64, resumed: u64 },
    #[error(transparent)]
    Merkle(#[from] MerkleError),
}

/// Verifies a log bundle by bundle against a checkpoint.
#[derive(Debug)]
pub struct Auditor {
    checkpoint: Checkpoint,
    builder: TileBuilder,
    prev: Hash,
    last_recorded_at: i64,
}

impl Auditor {
    /// An auditor for the tree `checkpoint` (already verified with the log's key), starting
    /// from the first entry.
    pub fn new(checkpoint: Checkpoint) -> Auditor {
        Auditor {
            checkpoint,
            builder: TileBuilder::new(),
            prev: Hash::ZERO,
            last_recorded_at: i64::MIN,
        }
    }

    /// An auditor for the tree `checkpoint` that continues an audit already done up to
    /// `builder.tree_size()` entries: `builder` holds that tree ([`TileBuilder::resume`] from
    /// tiles verified against its root), `prev` is the leaf hash of its last entry and
    /// `last_recorded_at` that entry's time. The first bundle pushed is the one holding the next
    /// entry; its entries already verified are compared with the builder's leaves, not checked
    /// again.
    ///
    /// # Errors
    /// [`AuditError::ResumeBeyond`] if the builder holds more entries than the checkpoint.
    pub fn resume(
        checkpoint: Checkpoint,
        builder: TileBuilder,
        prev: Hash,
        last_recorded_at: i64,
    ) -> Result<Auditor, AuditError> {
        if builder.tree_size() > checkpoint.size {
            return Err(AuditError::ResumeBeyond {
                size: checkpoint.size,
                resumed: builder.tree_size(),
            });
        }
        Ok(Auditor {
            checkpoint,
            builder,
            prev,
            last_recorded_at,
        })
    }

    /// The number of entries checked so far.
    pub fn checked(&self) -> u64 {
        self.builder.tree_size()
    }

    /// The number of entry bundles the checkpoint covers.
    pub fn bundle_count(&self) -> u64 {
        self.checkpoint.size.div_ceil(256)
    }

    /// The entry bundle `index` as the checkpoint's tree has it (full or partial).
    pub fn bundle_tile(&self, index: u64) -> Option<Tile> {
        Tile::for_size(TileLevel::Entries, index, self.checkpoint.size)
    }

    /// Checks bundle `index` (its bytes as served); returns its entries, and the full hash
    /// tiles they complete (to compare with the served ones).
    ///
    /// # Errors
    /// The first problem found, naming the bundle and entry: [`AuditError::OutOfOrder`],
    /// [`AuditError::Bundle`], [`AuditError::BundleCount`], [`AuditError::Entry`],
    /// [`AuditError::Seq`], [`AuditError::Chain`], [`AuditError::TimeWentBack`],
    /// [`AuditError::Signature`].
    #[allow(clippy::type_complexity)]
    pub fn push_bundle(
        &mut self,
        index: u64,
        data: &[u8],
    ) -> Result<(Vec<StoredEntry>, Vec<(Tile, Vec<u8>)>), AuditError> {
        let expected_index = self.checked() / 256;
        let tile = match self.bundle_tile(index) {
            Some(t) if index == expected_index => t,
            _ => {
                return Err(AuditError::OutOfOrder {
                    index,
                    expected: expected_index,
                })
            }
        };
        let path = tile.path();
        let bodies = bundle::parse(data).map_err(|source| AuditError::Bundle {
            path: path.clone(),
            source,
        })?;
        let expected = usize::from(tile.width);
        if bodies.len() != expected {
            return Err(AuditError::BundleCount {
                path,
                got: bodies.len(),
                expected,
            });
        }
        let first = index * 256;
        // After a resume, the bundle starts with entries verified before: they must be the
        // same ones (their leaf hashes are the builder's), and are not returned again.
        let known = (self.checked() - first) as usize;
        let mut out = Vec::with_capacity(bodies.len());
        for (i, bytes) in bodies.into_iter().enumerate() {
            let seq = first + i as u64;
            if i < known {
                if self.builder.pending_leaves().get(i) != Some(&leaf_hash(bytes)) {
                    return Err(AuditError::NotTheVerifiedEntry {
                        seq,
                        path: path.clone(),
                    });
                }
                continue;
            }
            let entry = Entry::decode(bytes).map_err(|source| AuditError::Entry {
                seq,
                path: path.clone(),
                source,
            })?;
            if entry.seq != seq {
                return Err(AuditError::Seq {
                    seq,
                    path: path.clone(),
                    got: entry.seq,
                });
            }
            if entry.prev != self.prev {
                return Err(AuditError::Chain {
                    seq,
                    expected: self.prev,
                    got: entry.prev,
                });
            }
            if entry.recorded_at < self.last_recorded_at {
                return Err(AuditError::TimeWentBack {
                    seq,
                    previous: self.last_recorded_at,
                    got: entry.recorded_at,
                });
            }
            let leaf = leaf_hash(bytes);
            self.prev = leaf;
            self.last_recorded_at = entry.recorded_at;
            out.push(StoredEntry {
                entry,
                bytes: bytes.to_vec(),
                leaf,
            });
        }
        let pairs: Vec<(&[u8], &Entry)> =
            out.iter().map(|s| (s.bytes.as_slice(), &s.entry)).collect();
        verify_signatures(&self.checkpoint.origin, &pairs)
            .map_err(|source| AuditError::Signature { source })?;
        let leaves: Vec<Hash> = out.iter().map(|s| s.leaf).collect();
        let full_tiles = self.builder.push(&leaves)?;
        Ok((out, full_tiles))
    }

    /// Checks signatures of many bundles at once (better batching across cores): as
    /// [`Auditor::push_bundle`] for each `(index, data)` in order.
    ///
    /// # Errors
    /// As [`Auditor::push_bundle`].
    #[allow(clippy::type_complexity)]
    pub fn push_bundles(
        &mut self,
        bundles: &[(u64, Vec<u8>)],
    ) -> Result<(Vec<StoredEntry>, Vec<(Tile, Vec<u8>)>), AuditError> {
        let mut entries = Vec::new();
        let mut tiles = Vec::new();
        for (index, data) in bundles {
            let (e, t) = self.push_bundle(*index, data)?;
            entries.extend(e);
            tiles.extend(t);
        }
        Ok((entries, tiles))
    }

    /// Ends the audit: every entry of the checkpoint was checked and the rebuilt root is the
    /// checkpoint's. Returns the partial hash tiles of the checkpoint's size (to compare with
    /// the served ones).
    ///
    /// # Errors
    /// [`AuditError::Incomplete`], [`AuditError::RootMismatch`].
    pub fn finish(self) -> Result<Vec<(Tile, Vec<u8>)>, AuditError> {
        let size = self.checkpoint.size;
        if self.checked() != size {
            return Err(AuditError::Incomplete {
                size,
                got: self.checked(),
            });
        }
        let got = self.builder.root()?;
        if got != self.checkpoint.root {
            return Err(AuditError::RootMismatch {
                size,
                expected: self.checkpoint.root,
                got,
            });
        }
        Ok(self.builder.partial_tiles())
    }
}

/// Compares a served tile with the rebuilt one. A served tile may be longer than the rebuilt
/// partial one only when it is the full tile standing in for a superseded partial.
///
/// # Errors
/// [`AuditError::TileMismatch`].
pub fn compare_tile(tile: &Tile, rebuilt: &[u8], served: &[u8]) -> Result<(), AuditError> {
    if served == rebuilt {
        Ok(())
    } else {
        Err(AuditError::TileMismatch { path: tile.path() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::UnsignedEntry;
    use crate::event::{Event, Officer, PublicKey, RegisterOpened, Role};
    use crate::tile::tile_data;
    use ed25519_dalek::SigningKey;

    fn log(n: u64) -> (Checkpoint, Vec<Vec<u8>>, Vec<Hash>) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut prev = Hash::ZERO;
        let mut bytes = Vec::new();
        let mut leaves = Vec::new();
        for seq in 0..n {
            let event = Event::RegisterOpened(RegisterOpened {
                origin: "o".into(),
                title: format!("t{seq}"),
                authority: "a".into(),
                log_key: PublicKey([1; 32]),
                officers: vec![Officer {
                    key: PublicKey(key.verifying_key().to_bytes()),
                    name: "x".into(),
                    role: Role::Admin,
                }],
            });
            let (_, b) = Entry::sign(
                UnsignedEntry {
                    seq,
                    prev,
                    recorded_at: seq as i64,
                    case: None,
                    event,
                },
                &key,
                "o",
            )
            .expect("signs");
            prev = leaf_hash(&b);
            leaves.push(prev);
            bytes.push(b);
        }
        let mut builder = TileBuilder::new();
        builder.push(&leaves).expect("small tree");
        (
            Checkpoint::new("o", n, builder.root().expect("root")),
            bytes,
            leaves,
        )
    }

    #[test]
    fn audits_a_log_and_names_a_broken_entry() {
        let (cp, bytes, leaves) = log(300);
        let b0 = bundle::encode(&bytes[..256]).expect("small");
        let b1 = bundle::encode(&bytes[256..]).expect("small");
        let mut a = Auditor::new(cp.clone());
        let (_, full) = a.push_bundle(0, &b0).expect("valid");
        assert_eq!(full[0].1, tile_data(&leaves[..256]));
        a.push_bundle(1, &b1).expect("valid");
        let partial = a.finish().expect("root matches");
        assert_eq!(partial[0].1, tile_data(&leaves[256..]));

        // A flipped byte in the signature of the last entry (for an earlier entry, the next
        // entry's `prev` would name the break first).
        let mut bad = bytes.clone();
        let len = bad[299].len();
        bad[299][len - 10] ^= 1;
        let mut a = Auditor::new(cp.clone());
        a.push_bundle(0, &b0).expect("valid");
        let err = a
            .push_bundle(1, &bundle::encode(&bad[256..]).expect("small"))
            .expect_err("bad signature");
        assert!(
            matches!(
                err,
                AuditError::Signature {
                    source: EntryError::BadSignature { seq: 299, .. }
                }
            ),
            "{err}"
        );

        // Entries dropped: the count of the bundle is wrong.
        let mut a = Auditor::new(cp.clone());
        a.push_bundle(0, &b0).expect("valid");
        let err = a
            .push_bundle(1, &bundle::encode(&bytes[257..]).expect("small"))
            .expect_err("short");
        assert!(
            matches!(
                err,
                AuditError::BundleCount {
                    got: 43,
                    expected: 44,
                    ..
                }
            ),
            "{err}"
        );

        // A checkpoint whose root is not the tree's.
        let wrong = Checkpoint::new("o", 300, Hash([9; 32]));
        let mut a = Auditor::new(wrong);
        a.push_bundle(0, &b0).expect("valid");
        a.push_bundle(1, &b1).expect("valid");
        assert!(matches!(
            a.finish(),
            Err(AuditError::RootMismatch { size: 300, .. })
        ));
    }

    #[test]
    fn resumed_audit_checks_only_the_new_entries() {
        let (cp, bytes, leaves) = log(300);
        let b0 = bundle::encode(&bytes[..256]).expect("small");
        let b1 = bundle::encode(&bytes[256..]).expect("small");
        for m in [1usize, 100, 256, 299] {
            let tree = crate::merkle::MemoryHashes::from_leaves(leaves[..m].iter().copied());
            let builder = TileBuilder::resume(m as u64, &tree).expect("resume");
            let prev = leaves[m - 1];
            let mut a =
                Auditor::resume(cp.clone(), builder.clone(), prev, (m - 1) as i64).expect("resume");
            let mut seen = Vec::new();
            if m < 256 {
                seen.extend(a.push_bundle(0, &b0).expect("valid").0);
            }
            seen.extend(a.push_bundle(1, &b1).expect("valid").0);
            assert_eq!(seen.first().map(|e| e.entry.seq), Some(m as u64));
            assert_eq!(seen.len(), 300 - m);
            a.finish().expect("root matches");

            // A bundle whose already-verified entries differ is refused.
            if m > 1 && m < 256 {
                let mut other = bytes[..256].to_vec();
                other.swap(0, 1);
                let mut a = Auditor::resume(cp.clone(), builder, prev, 0).expect("resume");
                let err = a
                    .push_bundle(0, &bundle::encode(&other).expect("small"))
                    .expect_err("not the verified entries");
                assert!(
                    matches!(err, AuditError::NotTheVerifiedEntry { seq: 0, .. }),
                    "{err}"
                );
            }
        }
        let big = TileBuilder::resume(
            301,
            &crate::merkle::MemoryHashes::from_leaves((0..301).map(|i| leaf_hash(&[i as u8]))),
        )
        .expect("resume");
        assert!(matches!(
            Auditor::resume(cp, big, Hash::ZERO, 0),
            Err(AuditError::ResumeBeyond { .. })
        ));
    }
}
