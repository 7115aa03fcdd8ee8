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
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity as _, VartimeMultiscalarMul as _};
use ed25519_dalek::Signer as _;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha512};

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

/// A signature's R as a point, if it is the canonical encoding of a point not of small order:
/// the part of `verify_strict` that batch verification does not check.
///
/// Canonical means `y < p = 2^255 − 19` (a byte comparison, where `compress(decompress(R))`
/// would cost an inversion); the sign bit can only be wrong for `x = 0`, that is for the
/// points `(0, ±1)`, which are of small order and refused anyway.
fn strict_r(sig: &[u8; 64]) -> Option<EdwardsPoint> {
    let mut r = [0u8; 32];
    r.copy_from_slice(&sig[..32]);
    if !canonical_y(&r) {
        return None;
    }
    let p = CompressedEdwardsY(r).decompress()?;
    (!p.is_small_order()).then_some(p)
}

/// Whether the 255 low bits of `b` (little-endian) are below `p = 2^255 − 19`.
fn canonical_y(b: &[u8; 32]) -> bool {
    // p, little-endian: ed ff … ff 7f.
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    let mut y = *b;
    y[31] &= 0x7f;
    for i in (0..32).rev() {
        if y[i] != p[i] {
            return y[i] < p[i];
        }
    }
    false
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
        if !batch_equation_holds(origin, batch, &mut keys)? {
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

/// Ed25519 batch verification of `batch`: the equation ed25519-dalek's `verify_batch` checks
/// (cofactorless),
///
/// ```text
/// −(Σ zᵢ·sᵢ)·B + Σ zᵢ·Rᵢ + Σ_A (Σ_{i: Aᵢ = A} zᵢ·kᵢ)·A = 0,   kᵢ = SHA-512(Rᵢ ‖ Aᵢ ‖ Mᵢ) mod ℓ
/// ```
///
/// with random 128-bit `zᵢ`, after the strict checks of each key, R and s (`Ok(false)` if the
/// equation fails: the caller then checks one by one). Two things make it cheaper than
/// `verify_batch` on a register's entries, whose signers are few: each R is decompressed
/// once (the strict check's point is reused), and the terms of one key are summed into one
/// point of the multiscalar multiplication (a batch by one officer has 66 points, not 129).
fn batch_equation_holds(
    origin: &str,
    batch: &[(&[u8], &Entry)],
    keys: &mut HashMap<PublicKey, Option<VerifyingKey>>,
) -> Result<bool, EntryError> {
    let mut random = vec![0u8; 16 * batch.len()];
    OsRng.fill_bytes(&mut random);
    let mut r_points = Vec::with_capacity(batch.len());
    let mut zs = Vec::with_capacity(batch.len());
    let mut signers: Vec<(PublicKey, EdwardsPoint, Scalar)> = Vec::new();
    let mut b_coefficient = Scalar::ZERO;
    for (i, (bytes, entry)) in batch.iter().enumerate() {
        let vk = (*keys
            .entry(entry.signer)
            .or_insert_with(|| checked_key(&entry.signer)))
        .ok_or(EntryError::BadSignerKey {
            seq: entry.seq,
            signer: entry.signer,
        })?;
        let bad = || EntryError::BadSignature {
            seq: entry.seq,
            signer: entry.signer,
        };
        let sig = &entry.signature.0;
        let r = strict_r(sig).ok_or_else(bad)?;
        let mut s_bytes = [0u8; 32];
        s_bytes.copy_from_slice(&sig[32..]);
        let s: Option<Scalar> = Scalar::from_canonical_bytes(s_bytes).into();
        let s = s.ok_or_else(bad)?;
        let body = bytes.len().saturating_sub(64);
        // H(R ‖ A ‖ M), M = signed_message(origin, body), hashed without building M.
        let mut h = Sha512::new();
        h.update(&sig[..32]);
        h.update(vk.as_bytes());
        h.update(SIGNATURE_CONTEXT);
        h.update(origin.as_bytes());
        h.update(b"\n");
        h.update(&bytes[..body]);
        let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
        let mut z_bytes = [0u8; 16];
        z_bytes.copy_from_slice(&random[16 * i..16 * i + 16]);
        let z = Scalar::from(u128::from_le_bytes(z_bytes));
        b_coefficient += z * s;
        match signers.iter_mut().find(|(pk, _, _)| *pk == entry.signer) {
            Some((_, _, c)) => *c += z * k,
            None => signers.push((entry.signer, vk.to_edwards(), z * k)),
        }
        r_points.push(r);
        zs.push(z);
    }
    let scalars = std::iter::once(-b_coefficient)
        .chain(zs)
        .chain(signers.iter().map(|(_, _, c)| *c));
    let points = std::iter::once(ED25519_BASEPOINT_POINT)
        .chain(r_points)
        .chain(signers.iter().map(|(_, p, _)| *p));
    Ok(EdwardsPoint::vartime_multiscalar_mul(scalars, points).is_identity())
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
                categories: crate::event::Categories::one(Category::VideoSurveillance),
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
    fn canonical_y_is_the_compress_round_trip() {
        let mut p = [0xffu8; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        let mut below = p;
        below[0] = 0xec;
        assert!(!canonical_y(&p) && canonical_y(&below));
        let mut above = p;
        above[0] = 0xee;
        assert!(!canonical_y(&above));
        // Against compress(decompress(y)) for many encodings, sign bit set or not.
        for i in 0..2000u32 {
            let mut b = sha256(&i.to_le_bytes()).0;
            if i % 7 == 0 {
                b[1..31].fill(0xff);
                b[0] = 0xe0 + (i % 32) as u8;
            }
            // (y = ±1 with the sign bit set, x = 0, are the exception: of small order.)
            if let Some(point) = CompressedEdwardsY(b).decompress() {
                assert_eq!(
                    point.compress().0 == b,
                    canonical_y(&b),
                    "{}",
                    hex::encode(b)
                );
            }
        }
    }

    #[test]
    fn batches_refuse_what_verify_strict_refuses() {
        let origin = "reg.example/x";
        let signed: Vec<(Entry, Vec<u8>)> = (0..130)
            .map(|i| {
                Entry::sign(sample(i), &key(if i < 100 { 1 } else { 2 }), origin).expect("signs")
            })
            .collect();
        let check = |entries: &[(Entry, Vec<u8>)], origin: &str| {
            let pairs: Vec<(&[u8], &Entry)> =
                entries.iter().map(|(e, b)| (b.as_slice(), e)).collect();
            verify_signatures(origin, &pairs)
        };
        check(&signed, origin).expect("all valid");
        assert!(check(&signed, "reg.example/y").is_err(), "another origin");
        // S + ℓ: the same signature with a non-canonical S (verify_strict refuses it).
        // ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        assert_eq!(Scalar::from_bytes_mod_order(l), Scalar::ZERO);
        let mut malleated = signed.clone();
        let sig = &mut malleated[70].0.signature.0;
        let mut carry = 0u16;
        for i in 0..32 {
            let v = u16::from(sig[32 + i]) + u16::from(l[i]) + carry;
            sig[32 + i] = v as u8;
            carry = v >> 8;
        }
        let s_bytes = malleated[70].0.signature.0;
        let bytes = &mut malleated[70].1;
        let n = bytes.len();
        bytes[n - 32..].copy_from_slice(&s_bytes[32..]);
        assert!(matches!(
            check(&malleated, origin),
            Err(EntryError::BadSignature { seq: 70, .. })
        ));
        // A bad signature by the second key, in a batch mixing both keys.
        let mut bad = signed.clone();
        bad[120].0.signature.0[50] ^= 4;
        let n = bad[120].1.len();
        bad[120].1[n - 14] ^= 4;
        assert!(matches!(
            check(&bad, origin),
            Err(EntryError::BadSignature { seq: 120, .. })
        ));
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
