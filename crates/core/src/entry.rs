//! Entries: the signed events that are the leaves of the log (docs/FORMAT.md §2).
//!
//! An entry's bytes are the bincode 2.0.1 standard-configuration encoding of [`Entry`]. Its
//! leaf hash is `SHA-256(0x00 ‖ bytes)` and its signature is Ed25519 by `signer` over
//!
//! ```text
//! "sijil/event/v1\n" ‖ origin ‖ "\n" ‖ bytes[..len-64]
//! ```
//!
//! (the signature is the last field and is encoded as 64 raw bytes, so `bytes[..len-64]` is
//! exactly the entry without its signature). Bytes are valid only if they are the canonical
//! encoding of what they decode to, with nothing left over (docs/FORMAT.md §2.3): bincode
//! accepts non-minimal varints, and two byte strings must never carry one signed event.

use std::collections::HashMap;

use bincode::config::{Configuration, Limit, LittleEndian, Varint};
use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::Signer as _;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

use crate::event::{Event, PublicKey};
use crate::hash::{leaf_hash, Hash};

/// The entry format this code writes and reads.
pub const FORMAT_V1: u8 = 1;

/// The largest entry: an entry bundle prefixes each entry with a 2-byte length
/// (c2sp.org/tlog-tiles).
pub const MAX_ENTRY_SIZE: usize = 65_535;

/// The domain separation prefix of the signed message (docs/FORMAT.md §2.2).
pub const SIGNATURE_CONTEXT: &[u8] = b"sijil/event/v1\n";

/// bincode's standard configuration (little-endian, varint integers), with a decode limit
/// so a hostile length prefix cannot make the decoder allocate more than an entry can hold.
pub(crate) fn bincode_config() -> Configuration<LittleEndian, Varint, Limit<MAX_ENTRY_SIZE>> {
    bincode::config::standard().with_limit::<MAX_ENTRY_SIZE>()
}

/// The per-case chain link (DESIGN §4): the case's own sequence number and the leaf hash of
/// the case's previous event (zeros for the event that opens it).
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    bincode::Encode,
    bincode::Decode,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct CaseLink {
    /// The case number, e.g. `2023-0017`.
    pub id: String,
    pub seq: u32,
    pub prev: Hash,
}

/// An Ed25519 signature (64 bytes, raw in the encoding). JSON: 128 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct SignatureBytes(pub [u8; 64]);

impl std::fmt::Debug for SignatureBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignatureBytes({})", hex::encode(self.0))
    }
}

impl serde::Serialize for SignatureBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

/// One signed event: a leaf of the log. Field order is the encoding order (docs/FORMAT.md §2.1).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize)]
pub struct Entry {
    /// Always [`FORMAT_V1`].
    pub format: u8,
    /// The leaf index.
    pub seq: u64,
    /// The leaf hash of entry `seq - 1`; zeros for entry 0.
    pub prev: Hash,
    /// When the log recorded it: Unix milliseconds, UTC; never decreases along the log.
    pub recorded_at: i64,
    /// The officer's Ed25519 public key.
    pub signer: PublicKey,
    /// Set on every case event, `None` on register-level events.
    pub case: Option<CaseLink>,
    pub event: Event,
    pub signature: SignatureBytes,
}

/// What goes wrong with an entry's bytes or signature.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryError {
    #[error("entry is {len} bytes; an entry is at most {MAX_ENTRY_SIZE} bytes")]
    TooLarge { len: usize },
    #[error("entry does not decode: {reason}")]
    Decode { reason: String },
    #[error("entry has {trailing} trailing bytes after its {consumed} bytes of encoding")]
    TrailingBytes { consumed: usize, trailing: usize },
    #[error("entry bytes are not the canonical encoding of the entry they decode to")]
    NonCanonical,
    #[error("entry format {format} is not supported (this is format {FORMAT_V1})")]
    UnsupportedFormat { format: u8 },
    #[error("entry {seq}: signer key {signer} is not a valid Ed25519 key (small order or non-canonical)")]
    BadSignerKey { seq: u64, signer: PublicKey },
    #[error("entry {seq}: signature by {signer} does not verify")]
    BadSignature { seq: u64, signer: PublicKey },
    #[error("entry {seq} cannot be encoded: {reason}")]
    Encode { seq: u64, reason: String },
}

/// The fields of an entry before it is signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsignedEntry {
    pub seq: u64,
    pub prev: Hash,
    pub recorded_at: i64,
    pub case: Option<CaseLink>,
    pub event: Event,
}

impl Entry {
    /// Signs `unsigned` with `key` for the register `origin`; returns the entry and its bytes.
    ///
    /// # Errors
    /// [`EntryError::TooLarge`] if the encoding is over 65,535 bytes, [`EntryError::Encode`]
    /// if a field cannot be encoded (a date outside 1900–9999).
    pub fn sign(
        unsigned: UnsignedEntry,
        key: &SigningKey,
        origin: &str,
    ) -> Result<(Entry, Vec<u8>), EntryError> {
        let mut entry = Entry {
            format: FORMAT_V1,
            seq: unsigned.seq,
            prev: unsigned.prev,
            recorded_at: unsigned.recorded_at,
            signer: PublicKey(key.verifying_key().to_bytes()),
            case: unsigned.case,
            event: unsigned.event,
            signature: SignatureBytes([0; 64]),
        };
        let mut bytes = entry.encode()?;
        let body = bytes.len() - 64;
        let sig = key.sign(&signed_message(origin, &bytes[..body]));
        entry.signature = SignatureBytes(sig.to_bytes());
        bytes[body..].copy_from_slice(&entry.signature.0);
        Ok((entry, bytes))
    }

    /// The canonical bytes of the entry.
    ///
    /// # Errors
    /// [`EntryError::TooLarge`] over 65,535 bytes; [`EntryError::Encode`] if a field cannot be
    /// encoded.
    pub fn encode(&self) -> Result<Vec<u8>, EntryError> {
        let bytes = bincode::encode_to_vec(self, bincode::config::standard()).map_err(|e| {
            EntryError::Encode {
                seq: self.seq,
                reason: e.to_string(),
            }
        })?;
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(EntryError::TooLarge { len: bytes.len() });
        }
        Ok(bytes)
    }

    /// Decodes entry bytes, accepting only the canonical encoding of a format-1 entry.
    ///
    /// # Errors
    /// [`EntryError::TooLarge`], [`EntryError::Decode`] (malformed, unknown event variant,
    /// invalid UTF-8 or date), [`EntryError::TrailingBytes`], [`EntryError::NonCanonical`]
    /// (e.g. a non-minimal varint), [`EntryError::UnsupportedFormat`].
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(EntryError::TooLarge { len: bytes.len() });
        }
        // The format byte comes first; check it before the rest so a future format gets a
        // clear message rather than a decode error somewhere inside.
        if let Some(&format) = bytes.first() {
            if format != FORMAT_V1 {
                return Err(EntryError::UnsupportedFormat { format });
            }
        }
        let (entry, consumed): (Entry, usize) = bincode::decode_from_slice(bytes, bincode_config())
            .map_err(|e| EntryError::Decode {
                reason: e.to_string(),
            })?;
        if consumed != bytes.len() {
            return Err(EntryError::TrailingBytes {
                consumed,
                trailing: bytes.len() - consumed,
            });
        }
        let again = bincode::encode_to_vec(&entry, bincode::config::standard()).map_err(|e| {
            EntryError::Decode {
                reason: e.to_string(),
            }
        })?;
        if again != bytes {
            return Err(EntryError::NonCanonical);
        }
        Ok(entry)
    }

    /// Checks the signature of this entry, whose canonical bytes are `bytes`, for `origin`,
    /// with `verify_strict` semantics (small-order keys and non-canonical R are rejected).
    ///
    /// # Errors
    /// [`EntryError::BadSignerKey`] or [`EntryError::BadSignature`].
    pub fn verify_signature(&self, bytes: &[u8], origin: &str) -> Result<(), EntryError> {
        let key = checked_key(&self.signer).ok_or(EntryError::BadSignerKey {
            seq: self.seq,
            signer: self.signer,
        })?;
        let body = bytes.len().saturating_sub(64);
        let sig = Signature::from_bytes(&self.signature.0);
        key.verify_strict(&signed_message(origin, &bytes[..body]), &sig)
            .map_err(|_| EntryError::BadSignature {
                seq: self.seq,
                signer: self.signer,
            })
    }

    /// The entry's leaf hash, from its canonical bytes.
    pub fn leaf_hash(bytes: &[u8]) -> Hash {
        leaf_hash(bytes)
    }
}

/// The message an officer signs: `"sijil/event/v1\n" ‖ origin ‖ "\n" ‖ unsigned_bytes`, where
/// `unsigned_bytes` is the entry's encoding without its final 64 signature bytes.
pub fn signed_message(origin: &str, unsigned_bytes: &[u8]) -> Vec<u8> {
    let mut m =
        Vec::with_capacity(SIGNATURE_CONTEXT.len() + origin.len() + 1 + unsigned_bytes.len());
    m.extend_from_slice(SIGNATURE_CONTEXT);
    m.extend_from_slice(origin.as_bytes());
    m.push(b'\n');
    m.extend_from_slice(unsigned_bytes);
    m
}

/// A public key that is a canonical encoding of a point that is not of small order, as
/// `verify_strict` requires (docs/FORMAT.md §2.4). `None` otherwise. The one key check of
/// the crate, [`crate::note::strict_ed25519_key`], applied to an officer's key.
pub fn checked_key(key: &PublicKey) -> Option<VerifyingKey> {
    crate::note::strict_ed25519_key(&key.0).ok()
}

/// Whether a signature's R is a canonical encoding of a point not of small order: the part
/// of `verify_strict` that batch verification does not check.
fn r_is_strict(sig: &[u8; 64]) -> bool {
    let mut r = [0u8; 32];
    r.copy_from_slice(&sig[..32]);
    match CompressedEdwardsY(r).decompress() {
        Some(p) => !p.is_small_order() && p.compress().0 == r,
        None => false,
    }
}

/// Verifies the signatures of many entries for `origin`: `(bytes, entry)` pairs.
///
/// Uses Ed25519 batch verification as a fast path across all cores, counted only for
/// signatures whose key and R pass the strict checks first (SPECS.md, "Ed25519 verification
/// rule"); when a batch fails, its entries are re-checked one by one with `verify_strict` to
/// name the first bad one.
///
/// # Errors
/// The error of the lowest-seq entry that fails: [`EntryError::BadSignerKey`] or
/// [`EntryError::BadSignature`].
pub fn verify_signatures(origin: &str, entries: &[(&[u8], &Entry)]) -> Result<(), EntryError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let per_thread = entries.len().div_ceil(threads).max(1);
    let results: Vec<Result<(), EntryError>> = std::thread::scope(|s| {
        let handles: Vec<_> = entries
            .chunks(per_thread)
            .map(|chunk| s.spawn(move || verify_chunk(origin, chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(EntryError::Decode {
                        reason: "verifier thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    results.into_iter().collect()
}

fn verify_chunk(origin: &str, entries: &[(&[u8], &Entry)]) -> Result<(), EntryError> {
    const BATCH: usize = 64;
    let mut keys: HashMap<PublicKey, Option<VerifyingKey>> = HashMap::new();
    for batch in entries.chunks(BATCH) {
        let mut messages = Vec::with_capacity(batch.len());
        let mut sigs = Vec::with_capacity(batch.len());
        let mut vks = Vec::with_capacity(batch.len());
        for (bytes, entry) in batch {
            let vk = *keys
                .entry(entry.signer)
                .or_insert_with(|| checked_key(&entry.signer));
            let vk = vk.ok_or(EntryError::BadSignerKey {
                seq: entry.seq,
                signer: entry.signer,
            })?;
            if !r_is_strict(&entry.signature.0) {
                return Err(EntryError::BadSignature {
                    seq: entry.seq,
                    signer: entry.signer,
                });
            }
            let body = bytes.len().saturating_sub(64);
            messages.push(signed_message(origin, &bytes[..body]));
            sigs.push(Signature::from_bytes(&entry.signature.0));
            vks.push(vk);
        }
        let refs: Vec<&[u8]> = messages.iter().map(|m| m.as_slice()).collect();
        if ed25519_dalek::verify_batch(&refs, &sigs, &vks).is_err() {
            for (bytes, entry) in batch {
                entry.verify_signature(bytes, origin)?;
            }
            // Every one passed verify_strict alone although the batch failed: impossible for
            // valid signatures; report the batch's first entry rather than accept it.
            if let Some((_, first)) = batch.first() {
                return Err(EntryError::BadSignature {
                    seq: first.seq,
                    signer: first.signer,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Category, ComplaintReceived, Controller, Date, TextDigest};
    use crate::hash::sha256;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn sample(seq: u64) -> UnsignedEntry {
        UnsignedEntry {
            seq,
            prev: Hash::ZERO,
            recorded_at: 1_672_992_000_000,
            case: Some(CaseLink {
                id: "2023-0001".into(),
                seq: 0,
                prev: Hash::ZERO,
            }),
            event: Event::ComplaintReceived(ComplaintReceived {
                controller: Controller {
                    id: "acme".into(),
                    name: "ACME SARL".into(),
                },
                category: Category::VideoSurveillance,
                received_on: Date::from_ymd(2023, 1, 2).expect("valid date"),
                summary: Some(TextDigest(sha256(b"x"))),
            }),
        }
    }

    #[test]
    fn sign_decode_verify_round_trip() {
        let (e, bytes) = Entry::sign(sample(300), &key(1), "reg.example/x").expect("signs");
        let back = Entry::decode(&bytes).expect("decodes");
        assert_eq!(back, e);
        back.verify_signature(&bytes, "reg.example/x")
            .expect("verifies");
        assert_eq!(
            back.verify_signature(&bytes, "other.example/x"),
            Err(EntryError::BadSignature {
                seq: 300,
                signer: e.signer
            })
        );
    }

    #[test]
    fn non_canonical_and_trailing_bytes_are_rejected() {
        let (_, bytes) = Entry::sign(sample(5), &key(1), "o").expect("signs");
        // seq 5 is the byte after the format byte; re-encode it as `fb 05 00`.
        assert_eq!(bytes[1], 5);
        let mut long = vec![bytes[0], 0xfb, 5, 0];
        long.extend_from_slice(&bytes[2..]);
        assert_eq!(Entry::decode(&long), Err(EntryError::NonCanonical));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            Entry::decode(&trailing),
            Err(EntryError::TrailingBytes {
                consumed: bytes.len(),
                trailing: 1
            })
        );
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(
            Entry::decode(&v2),
            Err(EntryError::UnsupportedFormat { format: 2 })
        );
        assert!(matches!(
            Entry::decode(&bytes[..bytes.len() - 1]),
            Err(EntryError::Decode { .. })
        ));
    }

    #[test]
    fn batch_verification_names_the_bad_entry() {
        let origin = "reg.example/x";
        let mut signed: Vec<(Entry, Vec<u8>)> = (0..200)
            .map(|i| Entry::sign(sample(i), &key(1 + (i % 3) as u8), origin).expect("signs"))
            .collect();
        let pairs: Vec<(&[u8], &Entry)> = signed.iter().map(|(e, b)| (b.as_slice(), e)).collect();
        verify_signatures(origin, &pairs).expect("all valid");
        // Corrupt entry 137's signature S (keeping R strict) in both copies.
        signed[137].0.signature.0[40] ^= 1;
        let n = signed[137].1.len();
        signed[137].1[n - 24] ^= 1;
        let pairs: Vec<(&[u8], &Entry)> = signed.iter().map(|(e, b)| (b.as_slice(), e)).collect();
        let err = verify_signatures(origin, &pairs).expect_err("one is bad");
        assert!(
            matches!(err, EntryError::BadSignature { seq: 137, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn small_order_signer_keys_are_rejected() {
        // The identity point (y = 1) has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(checked_key(&PublicKey(identity)).is_none());
        assert!(checked_key(&PublicKey(key(1).verifying_key().to_bytes())).is_some());
    }
}
