//! C2SP transparency log proofs (<https://c2sp.org/tlog-proof>): an offline proof that one
//! entry is in the log, kept beside the entry as a `.tlog-proof` file.
//!
//! ```text
//! c2sp.org/tlog-proof@v1\n
//! extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\n    optional, never trusted
//! index 73894\n                                      leaf index, canonical decimal
//! gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n     inclusion proof, leaf's sibling first
//! B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n
//! \n                                                 the first empty line ends the proof
//! example.com/fancylog\n                             the (cosigned) checkpoint note, verbatim
//! 109482\n
//! sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n
//! \n
//! — example.com/fancylog hI2DJw…\n
//! — witness1.example mJirIklj…\n
//! ```
//!
//! The entry itself travels out of band. This module is pure: no I/O.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::checkpoint::{parse_decimal, Checkpoint, CheckpointError, SignedCheckpoint};
use crate::cosignature::{CosignatureError, WitnessPolicy, WitnessReport};
use crate::hash::Hash;
use crate::merkle::{check_inclusion, MerkleError};
use crate::note::{Note, Verifier, MAX_NOTE_SIZE};

/// The first line of a tlog-proof, without its newline.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// The most inclusion proof hashes accepted: a tree of at most 2^63 leaves needs 63.
pub const MAX_PROOF_HASHES: usize = 63;

/// The largest tlog-proof accepted: a note of [`MAX_NOTE_SIZE`] plus 64 KiB for the header,
/// the `extra` line and the hashes.
pub const MAX_PROOF_SIZE: usize = MAX_NOTE_SIZE + (64 << 10);

/// Errors from parsing a tlog-proof. Each names its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofTextError {
    /// The proof is larger than [`MAX_PROOF_SIZE`].
    #[error("tlog-proof is {size} bytes, more than the {max} accepted")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// [`MAX_PROOF_SIZE`].
        max: usize,
    },
    /// The input ends before the line expected.
    #[error("line {line}: expected {expected}, found the end of the proof")]
    Truncated {
        /// 1-based line number.
        line: usize,
        /// What was expected.
        expected: &'static str,
    },
    /// A line before the checkpoint is not UTF-8.
    #[error("line {line}: not valid UTF-8")]
    InvalidUtf8 {
        /// 1-based line number.
        line: usize,
    },
    /// The first line is not `c2sp.org/tlog-proof@v1`.
    #[error("line 1: not a tlog-proof (expected \"c2sp.org/tlog-proof@v1\")")]
    Header,
    /// The `extra` line's data is not canonical base64.
    #[error("line {line}: extra data is not canonical base64")]
    InvalidExtra {
        /// 1-based line number.
        line: usize,
    },
    /// The `index` line is missing or its number is not a canonical decimal.
    #[error("line {line}: expected \"index <n>\" with n a canonical decimal, found {value:?}")]
    InvalidIndex {
        /// 1-based line number.
        line: usize,
        /// The line (at most 64 characters of it).
        value: String,
    },
    /// A proof line is not the canonical base64 of a 32-byte hash.
    #[error("line {line}: {value:?} is not the canonical base64 of a 32-byte hash")]
    InvalidHash {
        /// 1-based line number.
        line: usize,
        /// The line (at most 64 characters of it).
        value: String,
    },
    /// More than [`MAX_PROOF_HASHES`] proof lines.
    #[error("line {line}: more than {max} inclusion proof hashes")]
    TooManyHashes {
        /// 1-based line number of the first hash too many.
        line: usize,
        /// [`MAX_PROOF_HASHES`].
        max: usize,
    },
    /// The checkpoint after the first empty line is malformed. Line numbers inside count from
    /// the checkpoint's first line.
    #[error("embedded checkpoint (from line {line}): {source}")]
    Checkpoint {
        /// 1-based line number of the checkpoint's first line.
        line: usize,
        /// What is wrong with it.
        source: CheckpointError,
    },
    /// [`TlogProof::verify`]: the checkpoint is not signed by the log key, or its origin is
    /// not the key's name.
    #[error("checkpoint not accepted: {0}")]
    Log(CheckpointError),
    /// [`TlogProof::verify`]: the witness policy is not met, or a trusted cosignature fails.
    #[error("witnesses: {0}")]
    Witnesses(#[from] CosignatureError),
    /// [`TlogProof::verify`]: the inclusion proof does not bind the leaf to the root.
    #[error("inclusion: {0}")]
    Inclusion(#[from] MerkleError),
}

/// What [`TlogProof::verify`] established: the checkpoint, signed by the log and cosigned by a
/// quorum of witnesses, includes the leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The opened checkpoint.
    pub checkpoint: SignedCheckpoint,
    /// The witness cosignatures that were checked.
    pub witnesses: WitnessReport,
}

/// A parsed tlog-proof (c2sp.org/tlog-proof §Format).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque application data; not authenticated, never trusted.
    pub extra: Option<Vec<u8>>,
    /// The entry's zero-based leaf index.
    pub index: u64,
    /// The inclusion proof, from the leaf's sibling up to the root's child (RFC 6962 §2.1.1).
    pub proof: Vec<Hash>,
    /// The signed (and possibly cosigned) checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// The proof's bytes (UTF-8 text, as stored in a `.tlog-proof` file).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str("extra ");
            s.push_str(&BASE64.encode(extra));
            s.push('\n');
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            s.push_str(&h.to_base64());
            s.push('\n');
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Parses a tlog-proof strictly: the exact header, an optional `extra <base64>` line
    /// (canonical base64, possibly empty), `index <n>` (canonical decimal), at most
    /// [`MAX_PROOF_HASHES`] canonical base64 hashes, an empty line, then a note that parses as
    /// a signed checkpoint (nothing is verified here: see [`TlogProof::verify`]).
    ///
    /// # Errors
    /// [`ProofTextError::TooLarge`], [`ProofTextError::Header`], [`ProofTextError::Truncated`],
    /// [`ProofTextError::InvalidUtf8`], [`ProofTextError::InvalidExtra`],
    /// [`ProofTextError::InvalidIndex`], [`ProofTextError::InvalidHash`],
    /// [`ProofTextError::TooManyHashes`], [`ProofTextError::Checkpoint`] (the note's or the
    /// checkpoint body's parse error).
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, ProofTextError> {
        if bytes.len() > MAX_PROOF_SIZE {
            return Err(ProofTextError::TooLarge {
                size: bytes.len(),
                max: MAX_PROOF_SIZE,
            });
        }
        let mut lines = Lines {
            rest: bytes,
            number: 0,
        };
        if lines.next("the tlog-proof header")? != TLOG_PROOF_HEADER {
            return Err(ProofTextError::Header);
        }
        let mut line = lines.next("an extra or index line")?;
        let mut extra = None;
        if let Some(data) = line.strip_prefix("extra ") {
            let decoded = BASE64
                .decode(data)
                .map_err(|_| ProofTextError::InvalidExtra { line: lines.number })?;
            extra = Some(decoded);
            line = lines.next("the index line")?;
        }
        let index = line
            .strip_prefix("index ")
            .and_then(parse_decimal)
            .ok_or_else(|| ProofTextError::InvalidIndex {
                line: lines.number,
                value: excerpt(line),
            })?;
        let mut proof = Vec::new();
        loop {
            let line = lines.next("a proof hash or the empty line")?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(ProofTextError::TooManyHashes {
                    line: lines.number,
                    max: MAX_PROOF_HASHES,
                });
            }
            let h = Hash::from_base64(line).ok_or_else(|| ProofTextError::InvalidHash {
                line: lines.number,
                value: excerpt(line),
            })?;
            proof.push(h);
        }
        let line = lines.number + 1;
        let checkpoint = lines.rest;
        let note = Note::parse(checkpoint).map_err(|e| ProofTextError::Checkpoint {
            line,
            source: CheckpointError::Note(e),
        })?;
        Checkpoint::parse(&note.text)
            .map_err(|source| ProofTextError::Checkpoint { line, source })?;
        Ok(TlogProof {
            extra,
            index,
            proof,
            checkpoint: checkpoint.to_vec(),
        })
    }

    /// Verifies the proof for the entry whose leaf hash is `leaf_hash`
    /// (`SHA-256(0x00 ‖ entry)`, computed by the caller from the entry it holds), in the order
    /// of c2sp.org/tlog-proof §Verifying: the checkpoint's origin is the log key's name and
    /// the log signed it ([`SignedCheckpoint::open`]); `policy` is met by the cosignatures
    /// ([`WitnessPolicy::check`]); the inclusion proof leads from the leaf at `index` to the
    /// checkpoint's root (RFC 9162 §2.1.3.2). `extra` plays no part.
    ///
    /// # Errors
    /// [`ProofTextError::Log`], [`ProofTextError::Witnesses`], [`ProofTextError::Inclusion`]
    /// (including an index not below the tree size), in that order.
    pub fn verify(
        &self,
        leaf_hash: &Hash,
        log_verifier: &Verifier,
        policy: &WitnessPolicy,
    ) -> Result<VerifiedProof, ProofTextError> {
        let checkpoint =
            SignedCheckpoint::open(&self.checkpoint, log_verifier).map_err(ProofTextError::Log)?;
        let witnesses = policy.check(&checkpoint.note)?;
        let cp = &checkpoint.checkpoint;
        check_inclusion(&self.proof, cp.size, &cp.root, self.index, leaf_hash)?;
        Ok(VerifiedProof {
            checkpoint,
            witnesses,
        })
    }
}

/// At most 64 characters of untrusted input, for error messages.
fn excerpt(s: &str) -> String {
    s.chars().take(64).collect()
}

/// A cursor over the `\n`-terminated lines before the checkpoint.
struct Lines<'a> {
    rest: &'a [u8],
    /// 1-based number of the last line returned.
    number: usize,
}

impl<'a> Lines<'a> {
    fn next(&mut self, expected: &'static str) -> Result<&'a str, ProofTextError> {
        self.number += 1;
        let Some(end) = self.rest.iter().position(|&b| b == b'\n') else {
            return Err(ProofTextError::Truncated {
                line: self.number,
                expected,
            });
        };
        let (line, rest) = (&self.rest[..end], &self.rest[end + 1..]);
        self.rest = rest;
        std::str::from_utf8(line).map_err(|_| ProofTextError::InvalidUtf8 { line: self.number })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::SignedCheckpoint;
    use crate::cosignature::Cosigner;
    use crate::note::Signer;
    use crate::sha256;
    use proptest::prelude::*;

    fn checkpoint_bytes(size: u64) -> Vec<u8> {
        let log = Signer::from_seed("example.com/log", &[1; 32]).expect("valid");
        let mut cp = SignedCheckpoint::sign(
            Checkpoint::new("example.com/log", size, sha256(b"root")),
            &log,
        )
        .expect("signs");
        let w = Cosigner::from_seed("w.example", &[2; 32]).expect("valid");
        cp.add_cosignatures([w.cosign(&cp.note.text, 1_700_000_000).expect("cosigns")])
            .expect("fits");
        cp.bytes
    }

    fn sample() -> TlogProof {
        TlogProof {
            extra: Some(b"age-v1.2.1-darwin-arm64.tar.gz".to_vec()),
            index: 5,
            proof: vec![sha256(b"a"), sha256(b"b"), sha256(b"c")],
            checkpoint: checkpoint_bytes(8),
        }
    }

    #[test]
    fn exact_bytes() {
        let p = TlogProof {
            extra: None,
            index: 0,
            proof: vec![sha256(b"")],
            checkpoint: checkpoint_bytes(1),
        };
        let expect = [
            b"c2sp.org/tlog-proof@v1\nindex 0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n"
                .as_slice(),
            &p.checkpoint,
        ]
        .concat();
        assert_eq!(p.to_bytes(), expect);
        assert_eq!(TlogProof::parse(&expect), Ok(p));
    }

    #[test]
    fn round_trips() {
        let p = sample();
        assert_eq!(TlogProof::parse(&p.to_bytes()), Ok(p.clone()));
        let no_hashes = TlogProof {
            proof: vec![],
            extra: Some(vec![]),
            ..p
        };
        assert_eq!(TlogProof::parse(&no_hashes.to_bytes()), Ok(no_hashes));
    }

    fn text_of(p: &TlogProof) -> String {
        String::from_utf8(p.to_bytes()).expect("utf-8")
    }

    #[test]
    fn rejects() {
        let p = sample();
        let s = text_of(&p);
        let err = |t: &str| TlogProof::parse(t.as_bytes()).expect_err(t);
        assert_eq!(err(&s.replacen("@v1", "@v2", 1)), ProofTextError::Header);
        assert_eq!(
            err(&s.replacen("index 5", "index 05", 1)),
            ProofTextError::InvalidIndex {
                line: 3,
                value: "index 05".into()
            }
        );
        assert!(matches!(
            err(&s.replacen("index 5", "index +5", 1)),
            ProofTextError::InvalidIndex { .. }
        ));
        assert!(matches!(
            err(&s.replacen("index 5", "index  5", 1)),
            ProofTextError::InvalidIndex { .. }
        ));
        assert!(matches!(
            err(&s.replacen("index 5\n", "index 5\r\n", 1)),
            ProofTextError::InvalidIndex { .. }
        ));
        assert!(matches!(
            err(&s.replacen("extra ", "extra !", 1)),
            ProofTextError::InvalidExtra { line: 2 }
        ));
        // The extra line comes before the index line, or it is taken for a proof hash.
        let (extra_line, rest) = s
            .split_once('\n')
            .map(|(_, r)| r)
            .and_then(|r| r.split_once('\n'))
            .expect("lines");
        let swapped = format!(
            "{TLOG_PROOF_HEADER}\n{}",
            rest.replacen("index 5\n", &format!("index 5\n{extra_line}\n"), 1)
        );
        assert!(matches!(
            err(&swapped),
            ProofTextError::InvalidHash { line: 3, .. }
        ));
        let h = sha256(b"a").to_base64();
        assert!(matches!(
            err(&s.replacen(&h, &h[..43], 1)),
            ProofTextError::InvalidHash { line: 4, .. }
        ));
        let not_32 = BASE64.encode([0u8; 33]);
        assert!(matches!(
            err(&s.replacen(&h, &not_32, 1)),
            ProofTextError::InvalidHash { line: 4, .. }
        ));
        assert!(matches!(
            err(&s[..30]),
            ProofTextError::Truncated { line: 2, .. }
        ));
        let no_blank = format!("{TLOG_PROOF_HEADER}\nindex 1\n{h}\n");
        assert!(matches!(
            err(&no_blank),
            ProofTextError::Truncated { line: 4, .. }
        ));
        // The checkpoint is missing or is not a checkpoint note.
        let header_only = format!("{TLOG_PROOF_HEADER}\nindex 1\n\n");
        assert!(matches!(
            err(&header_only),
            ProofTextError::Checkpoint {
                line: 4,
                source: CheckpointError::Note(_)
            }
        ));
        let log = Signer::from_seed("l", &[1; 32]).expect("valid");
        let hello = crate::note::sign_note("hello\n", &[&log]).expect("signs");
        let not_cp = TlogProof {
            checkpoint: hello,
            ..sample()
        };
        assert!(matches!(
            TlogProof::parse(&not_cp.to_bytes()),
            Err(ProofTextError::Checkpoint {
                line: 8,
                source: CheckpointError::TooFewLines { .. }
            })
        ));
        assert!(matches!(
            TlogProof::parse(&[0xff, b'\n']),
            Err(ProofTextError::InvalidUtf8 { line: 1 })
        ));
    }

    #[test]
    fn bounds() {
        let max = TlogProof {
            proof: vec![sha256(b"x"); MAX_PROOF_HASHES],
            ..sample()
        };
        assert_eq!(TlogProof::parse(&max.to_bytes()), Ok(max.clone()));
        let over = TlogProof {
            proof: vec![sha256(b"x"); MAX_PROOF_HASHES + 1],
            ..sample()
        };
        assert_eq!(
            TlogProof::parse(&over.to_bytes()),
            Err(ProofTextError::TooManyHashes {
                line: 4 + MAX_PROOF_HASHES,
                max: MAX_PROOF_HASHES
            })
        );
        let huge = TlogProof {
            extra: Some(vec![0; MAX_PROOF_SIZE]),
            ..sample()
        };
        assert!(matches!(
            TlogProof::parse(&huge.to_bytes()),
            Err(ProofTextError::TooLarge { .. })
        ));
    }

    /// A real tree of 7 leaves, a proof for leaf 5, a checkpoint cosigned by 2 witnesses.
    fn real_proof() -> (TlogProof, Hash, Verifier, Vec<Verifier>) {
        let leaves: Vec<Hash> = (0..7u8).map(|i| crate::leaf_hash(&[i])).collect();
        let tree = crate::merkle::MemoryHashes::from_leaves(leaves.clone());
        let root = crate::merkle::tree_hash(7, &tree).expect("root");
        let proof = crate::merkle::prove_inclusion(7, 5, &tree).expect("proof");
        let log = Signer::from_seed("example.com/log", &[1; 32]).expect("valid");
        let mut cp = SignedCheckpoint::sign(Checkpoint::new("example.com/log", 7, root), &log)
            .expect("signs");
        let ws: Vec<Cosigner> = (2..5u8)
            .map(|i| Cosigner::from_seed(&format!("w{i}.example"), &[i; 32]).expect("valid"))
            .collect();
        let lines = ws[..2]
            .iter()
            .map(|w| w.cosign(&cp.note.text, 1_700_000_000).expect("cosigns"));
        let lines: Vec<_> = lines.collect();
        cp.add_cosignatures(lines).expect("fits");
        let p = TlogProof {
            extra: None,
            index: 5,
            proof,
            checkpoint: cp.bytes,
        };
        (
            p,
            leaves[5],
            log.verifier(),
            ws.iter().map(Cosigner::verifier).collect(),
        )
    }

    #[test]
    fn verify() {
        let (p, leaf, log, ws) = real_proof();
        let p = TlogProof::parse(&p.to_bytes()).expect("parses");
        let two = WitnessPolicy::new(ws.clone(), 2).expect("valid");
        let ok = p.verify(&leaf, &log, &two).expect("verifies");
        assert_eq!(
            (ok.checkpoint.checkpoint.size, ok.witnesses.counted),
            (7, 2)
        );

        let three = WitnessPolicy::new(ws.clone(), 3).expect("valid");
        assert!(matches!(
            p.verify(&leaf, &log, &three),
            Err(ProofTextError::Witnesses(
                CosignatureError::QuorumNotMet { .. }
            ))
        ));
        let other_leaf = crate::leaf_hash(b"other");
        assert!(matches!(
            p.verify(&other_leaf, &log, &two),
            Err(ProofTextError::Inclusion(
                MerkleError::InclusionMismatch { .. }
            ))
        ));
        let wrong_index = TlogProof {
            index: 4,
            ..p.clone()
        };
        assert!(matches!(
            wrong_index.verify(&leaf, &log, &two),
            Err(ProofTextError::Inclusion(_))
        ));
        let beyond = TlogProof {
            index: 7,
            ..p.clone()
        };
        assert!(matches!(
            beyond.verify(&leaf, &log, &two),
            Err(ProofTextError::Inclusion(
                MerkleError::IndexOutOfRange { .. }
            ))
        ));
        let short = TlogProof {
            proof: p.proof[1..].to_vec(),
            ..p.clone()
        };
        assert!(matches!(
            short.verify(&leaf, &log, &two),
            Err(ProofTextError::Inclusion(_))
        ));
        let other_log = Signer::from_seed("example.com/log", &[9; 32])
            .expect("valid")
            .verifier();
        assert!(matches!(
            p.verify(&leaf, &other_log, &two),
            Err(ProofTextError::Log(_))
        ));
    }

    proptest! {
        #[test]
        fn parse_inverts_to_bytes(
            extra in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
            index in any::<u64>(),
            proof in proptest::collection::vec(any::<[u8; 32]>().prop_map(Hash), 0..=MAX_PROOF_HASHES),
            size in any::<u64>(),
        ) {
            let p = TlogProof { extra, index, proof, checkpoint: checkpoint_bytes(size) };
            prop_assert_eq!(TlogProof::parse(&p.to_bytes()), Ok(p));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = TlogProof::parse(&bytes);
        }
    }
}
