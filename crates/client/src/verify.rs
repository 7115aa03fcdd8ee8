//! `sijil verify`: a quick check of a register as it is served now (DESIGN §8).
//!
//! 1. The checkpoint's signature by the log's key, and, if asked, a quorum of witness
//!    cosignatures (c2sp.org/tlog-cosignature): what catches a split view.
//! 2. Consistency with the last checkpoint this client accepted for the log
//!    ([`crate::state`], per origin and key): a proof computed from the served tiles, each verified against the
//!    new root first. A first visit trusts the checkpoint and says so (trust on first use).
//!    Two checkpoints that cannot both be honest are saved as [`Evidence`].
//! 3. A few entries spot-checked: each one's leaf hash is proven in the tree with an RFC 9162
//!    inclusion proof from the verified tiles, it decodes canonically with its own seq, its
//!    signature verifies with the key it names, and entry 0 names this origin and log key.
//!
//! Only then is the state moved forward. `sijil audit` checks everything else.

use std::path::PathBuf;

use rand_core::{OsRng, RngCore};
use sijil_core::bundle;
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::cosignature::{WitnessPolicy, WitnessReport};
use sijil_core::event::Event;
use sijil_core::merkle::{check_inclusion, prove_inclusion};
use sijil_core::note::Verifier;
use sijil_core::tile::{Tile, TileHashReader, TileLevel};
use sijil_core::{leaf_hash, Entry};
use sijil_register::audit::{checkpoint_bytes, fetch_tile, AuditFailure, Source};

use crate::evidence::{compare, Consistency, Evidence, Seen};
use crate::state::StateDir;
use crate::tiles::SourceTiles;
use crate::{rfc3339, Error};

/// Options of [`verify`].
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Entries whose inclusion is checked (entry 0 and the last one, then random other ones,
    /// all different; every entry of a smaller tree).
    pub spot_checks: usize,
    /// Witnesses whose cosignatures are required.
    pub witnesses: Option<WitnessPolicy>,
    /// The time now (Unix ms), for the evidence file.
    pub now_ms: i64,
    /// Where a fork's evidence is saved.
    pub evidence_dir: PathBuf,
}

/// How the served checkpoint relates to the one held before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Previous {
    /// None was held: trusted on first use.
    FirstVisit,
    /// The same tree.
    Same,
    /// A larger tree, proven consistent with the one held.
    Grew { from: Checkpoint },
}

/// What [`verify`] checked.
#[derive(Debug)]
pub struct VerifyReport {
    pub checkpoint: SignedCheckpoint,
    pub previous: Previous,
    /// The entries whose inclusion was checked.
    pub spot_checked: Vec<u64>,
    /// The witness cosignatures that were counted, if a policy was given.
    pub witnesses: Option<WitnessReport>,
    /// The state file now holding the checkpoint.
    pub state_file: PathBuf,
    /// When the log recorded its last entry (Unix ms; `None` for an empty tree): how old the
    /// checkpoint's contents are (`sijil monitor --max-age`).
    pub latest_recorded_at: Option<i64>,
    /// The verifier of the key that signs the checkpoint: the key given, or the one the log's
    /// `LogKeyRotated` entries lead to from it (docs/FORMAT.md §3.1).
    pub log_key: Verifier,
    /// The rotations followed from the key given, when it does not sign the checkpoint.
    pub followed: Option<sijil_register::rotation::Followed>,
}

/// Verifies the register served by `source` (see the module docs) and records its checkpoint
/// in `state` once everything passed.
///
/// # Errors
/// [`Error::Fork`] (evidence saved under `opts.evidence_dir`); [`Error::Audit`] for a
/// checkpoint that does not verify or cannot be fetched; [`Error::Witness`];
/// [`Error::Behind`]; [`Error::Tiles`] when the served tiles do not match the checkpoint;
/// [`Error::Entry`] for a spot-checked entry that fails; [`Error::LocalCheckpoint`] and
/// [`Error::Io`] for the state file.
pub fn verify(
    source: &dyn Source,
    verifier: &Verifier,
    state: &StateDir,
    opts: &VerifyOptions,
) -> Result<VerifyReport, Error> {
    let (served, mut log_key, mut followed) = open_served(source, verifier)?;
    let cp = &served.checkpoint;
    let witnesses = match &opts.witnesses {
        Some(policy) => Some(
            policy
                .check(&served.note)
                .map_err(|source| Error::Witness {
                    size: cp.size,
                    source,
                })?,
        ),
        None => None,
    };
    let tiles = SourceTiles::new(source);
    let held = state.load_following(verifier, &log_key)?;
    let state_file = state.path(verifier);
    let seen = |c: &SignedCheckpoint, from: String| Seen {
        note: String::from_utf8_lossy(&c.bytes).into_owned(),
        source: from,
        seen_at: rfc3339(opts.now_ms),
    };
    let previous = match held {
        None => Previous::FirstVisit,
        Some(old) => {
            let o = &old.checkpoint;
            let old_seen = || seen(&old, format!("verify state file {}", state_file.display()));
            if o.size == cp.size {
                if o.root != cp.root {
                    let e = Evidence::same_size(
                        old_seen(),
                        seen(&served, source.describe()),
                        &cp.origin,
                        "sijil verify",
                        &rfc3339(opts.now_ms),
                    );
                    return Err(save_fork(e, &opts.evidence_dir, opts.now_ms, || {
                        format!(
                            "{} serves another tree of size {}",
                            source.describe(),
                            cp.size
                        )
                    }));
                }
                Previous::Same
            } else if o.size > cp.size {
                return Err(Error::Behind {
                    source_name: source.describe(),
                    served: cp.size,
                    held: o.size,
                    held_by: state_file.display().to_string(),
                });
            } else {
                match compare(o, cp, &tiles) {
                    Consistency::Consistent => Previous::Grew { from: o.clone() },
                    Consistency::Fork(proof) => {
                        let e = Evidence::inconsistent(
                            old_seen(),
                            seen(&served, source.describe()),
                            proof,
                            &cp.origin,
                            "sijil verify",
                            &rfc3339(opts.now_ms),
                        );
                        return Err(save_fork(e, &opts.evidence_dir, opts.now_ms, || {
                            format!(
                                "the checkpoint of size {} served by {} does not extend the one of size {} verified before",
                                cp.size,
                                source.describe(),
                                o.size
                            )
                        }));
                    }
                    Consistency::Tiles(source_err) => {
                        return Err(Error::Tiles {
                            what: format!("consistency proof from size {} to {}", o.size, cp.size),
                            source: source_err,
                        })
                    }
                }
            }
        }
    };
    let spot = spot_check(
        source,
        &tiles,
        &served,
        &log_key,
        followed.is_some(),
        opts.spot_checks,
    );
    let (spot_checked, latest_recorded_at) = match spot {
        // The key given signs the checkpoint, but the log names another (a key pinned after
        // a rotation, or a retired key signing past it): the chain of keys says which.
        Err(Error::LogKey { message }) if followed.is_none() => {
            let Some(answer) = crate::rotation::fetch(source)? else {
                return Err(Error::LogKey { message });
            };
            let (_, key, f) = crate::rotation::follow(&answer, &served.bytes, verifier)?;
            log_key = key;
            followed = Some(f);
            spot_check(source, &tiles, &served, &log_key, true, opts.spot_checks)?
        }
        other => other?,
    };
    // Same tree with other signature lines (new cosignatures): keep the newer note.
    state.store(verifier, &served)?;
    Ok(VerifyReport {
        checkpoint: served,
        previous,
        spot_checked,
        witnesses,
        state_file,
        latest_recorded_at,
        log_key,
        followed,
    })
}

/// The served checkpoint, opened with `verifier` or, when another key signs it, with the key
/// the log's chain of keys leads to from `verifier` ([`crate::rotation::follow`]).
fn open_served(
    source: &dyn Source,
    verifier: &Verifier,
) -> Result<
    (
        SignedCheckpoint,
        Verifier,
        Option<sijil_register::rotation::Followed>,
    ),
    Error,
> {
    let bytes = checkpoint_bytes(source)?;
    let direct = match SignedCheckpoint::open(&bytes, verifier) {
        Ok(cp) => return Ok((cp, verifier.clone(), None)),
        Err(e) => e,
    };
    // Only a checkpoint of this log that another key signs may be a rotation.
    let ours = sijil_register::rotation::unverified_checkpoint(&bytes)
        .is_ok_and(|cp| cp.origin == verifier.name());
    if !ours {
        return Err(AuditFailure::Checkpoint(direct).into());
    }
    let Some(answer) = crate::rotation::fetch(source)? else {
        return Err(AuditFailure::Checkpoint(direct).into());
    };
    let (cp, key, followed) = crate::rotation::follow(&answer, &bytes, verifier)?;
    Ok((cp, key, Some(followed)))
}

/// Saves fork evidence and returns the error that reports it (or, if it cannot be saved, the
/// I/O error: a fork that was not recorded must not look recorded).
pub(crate) fn save_fork(
    evidence: Evidence,
    dir: &std::path::Path,
    now_ms: i64,
    what: impl FnOnce() -> String,
) -> Error {
    let name = format!(
        "fork-{}-{now_ms}.json",
        &sijil_core::sha256(evidence.origin.as_bytes()).to_hex()[..16]
    );
    let path = dir.join(name);
    match evidence.save(&path) {
        Ok(()) => {
            tracing::error!(path = %path.display(), "fork evidence saved");
            Error::Fork {
                what: what(),
                path,
                evidence: Box::new(evidence),
            }
        }
        Err(crate::evidence::EvidenceError::Io(e)) => Error::Io(e),
        Err(e) => Error::Usage(format!("saving fork evidence {}: {e}", path.display())),
    }
}

/// The entries to spot-check in a tree of `n` entries: 0, the last, then random others, all
/// distinct, `count` of them (every entry when the tree is smaller), sorted.
fn spot_seqs(n: u64, count: usize, rng: &mut dyn RngCore) -> Vec<u64> {
    let want = u64::try_from(count).unwrap_or(u64::MAX).min(n);
    let mut seqs = std::collections::BTreeSet::new();
    if want >= 1 {
        seqs.insert(0);
    }
    if want >= 2 {
        seqs.insert(n - 1);
    }
    // The rest from the entries in between, 1..=n-2, without replacement (Floyd's algorithm:
    // one draw per entry chosen, however close `want` is to `n`).
    let between = n.saturating_sub(2);
    let rest = want.saturating_sub(seqs.len() as u64);
    for j in between - rest..between {
        let t = rng.next_u64() % (j + 1);
        let pick = if seqs.contains(&(1 + t)) {
            1 + j
        } else {
            1 + t
        };
        seqs.insert(pick);
    }
    seqs.into_iter().collect()
}

/// Checks the inclusion of `count` entries (0, the last, then random ones), and the last
/// entry in any case; returns the `count` spot-checked and the last entry's `recorded_at`.
fn spot_check(
    source: &dyn Source,
    tiles: &SourceTiles<'_>,
    served: &SignedCheckpoint,
    verifier: &Verifier,
    followed: bool,
    count: usize,
) -> Result<(Vec<u64>, Option<i64>), Error> {
    let cp = &served.checkpoint;
    let n = cp.size;
    if n == 0 {
        return Ok((Vec::new(), None));
    }
    let mut latest_recorded_at = None;
    let seqs = spot_seqs(n, count, &mut OsRng);
    let reader = TileHashReader::new(n, cp.root, tiles);
    // The last entry is always checked, however few spot checks were asked: it must be the
    // log's IndexCommitted (docs/FORMAT.md §10.4).
    let last = (n > 1 && !seqs.contains(&(n - 1))).then_some(n - 1);
    for &seq in seqs.iter().chain(last.iter()) {
        let bad = |message: String| Error::Entry { seq, message };
        let tile = Tile::for_size(TileLevel::Entries, seq / 256, n)
            .ok_or_else(|| bad("not in the tree".into()))?;
        let data = fetch_tile(source, &tile)?;
        let bodies = bundle::parse_exact(&data, usize::from(tile.width))
            .map_err(|e| bad(format!("{}: {e}", tile.path())))?;
        let bytes = bodies[(seq % 256) as usize];
        let leaf = leaf_hash(bytes);
        let proof = prove_inclusion(n, seq, &reader).map_err(|source| Error::Tiles {
            what: format!("inclusion proof of entry {seq}"),
            source,
        })?;
        check_inclusion(&proof, n, &cp.root, seq, &leaf)
            .map_err(|e| bad(format!("{} does not hold it: {e}", tile.path())))?;
        let entry = Entry::decode(bytes).map_err(|e| bad(e.to_string()))?;
        if entry.seq != seq {
            return Err(bad(format!("says seq {}", entry.seq)));
        }
        entry
            .verify_signature(bytes, &cp.origin)
            .map_err(|e| bad(e.to_string()))?;
        if seq == 0 {
            match &entry.event {
                // After a rotation the genesis names the first key of the chain, which
                // `rotation::follow` checked.
                Event::RegisterOpened(r)
                    if r.origin == cp.origin
                        && (followed || r.log_key.0.as_slice() == verifier.public_key()) => {}
                Event::RegisterOpened(r) if r.origin == cp.origin => {
                    return Err(Error::LogKey {
                        message: format!(
                            "entry 0 (RegisterOpened) names the log key {}, not {verifier}",
                            r.log_key
                        ),
                    })
                }
                Event::RegisterOpened(r) => {
                    return Err(bad(format!(
                        "RegisterOpened names origin {:?} and another log key than {verifier}",
                        r.origin
                    )))
                }
                other => return Err(bad(format!("is {}, not RegisterOpened", other.name()))),
            }
        }
        // Every checkpoint past the genesis ends with the log key's index commitment
        // (docs/FORMAT.md §10.4).
        if seq == n - 1 && n > 1 {
            let log_key = crate::case::log_public_key(verifier)?;
            if matches!(entry.event, Event::IndexCommitted(_)) && entry.signer != log_key {
                // Signed by another key than the checkpoint's: a rotation to follow, or a
                // retired key's checkpoint (the caller tells which).
                return Err(Error::LogKey {
                    message: format!(
                        "entry {seq}: IndexCommitted is signed by {}, not by the key that signs the checkpoint, {verifier}",
                        entry.signer
                    ),
                });
            }
            sijil_index::completeness::commitment_root(&entry, &log_key).map_err(bad)?;
        }
        if seq == n - 1 {
            latest_recorded_at = Some(entry.recorded_at);
        }
    }
    Ok((seqs, latest_recorded_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic generator (xorshift), so that a failure can be replayed.
    struct XorShift(u64);

    impl RngCore for XorShift {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            rand_core::impls::fill_bytes_via_next(self, dest);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    #[test]
    fn issue9_spot_checks_are_distinct_entries_as_many_as_asked() {
        for seed in 1..=50u64 {
            let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            for (n, count) in [
                (1000, 25),
                (40, 25),
                (30, 25),
                (26, 25),
                (25, 25),
                (24, 25),
                (3, 25),
                (2, 2),
                (1, 5),
                (100, 1),
                (100, 2),
                (100, 3),
                (1_000_000, 1_000),
            ] {
                let seqs = spot_seqs(n, count, &mut rng);
                let want = count.min(n as usize);
                assert_eq!(
                    seqs.len(),
                    want,
                    "n {n}, {count} asked (seed {seed}): {seqs:?}"
                );
                assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
                assert!(seqs.iter().all(|&s| s < n), "{seqs:?}");
                assert_eq!(seqs[0], 0, "entry 0 is always checked");
                if count >= 2 {
                    assert_eq!(seqs.last(), Some(&(n - 1)), "the last entry too");
                }
            }
        }
    }
}
