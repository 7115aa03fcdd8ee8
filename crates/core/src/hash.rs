//! SHA-256 hashes of the log: leaf and interior node hashes of RFC 6962 / RFC 9162 §2.1.1.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf hash, an interior node hash, a tree root or a text digest.
///
/// Encoded by bincode as its 32 raw bytes (no length prefix). Displayed in standard base64,
/// as checkpoints and tlog-proof write it.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, bincode::Encode, bincode::Decode,
)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash: `prev` of the first entry (and of a case's first event).
    pub const ZERO: Hash = Hash([0; 32]);

    /// Lowercase hex, as blob file names and JSON write it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Standard base64 (with padding), as checkpoints write root hashes.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Parses 64 hex digits (either case is accepted on input).
    pub fn from_hex(s: &str) -> Option<Hash> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Hash(out))
    }

    /// Parses standard base64 of exactly 32 bytes; the text must be canonical (re-encode equal).
    pub fn from_base64(s: &str) -> Option<Hash> {
        let bytes = BASE64.decode(s).ok()?;
        let h = Hash(bytes.try_into().ok()?);
        (h.to_base64() == s).then_some(h)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64())
    }
}

impl serde::Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Hash::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex digits"))
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash {
    Hash(Sha256::digest(data).into())
}

/// The leaf hash of an entry: `SHA-256(0x00 ‖ entry)` (RFC 9162 §2.1.1).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// An interior node hash: `SHA-256(0x01 ‖ left ‖ right)` (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The root of the empty tree, `SHA-256("")` = `47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=`.
pub fn empty_root() -> Hash {
    sha256(b"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_matches_spec() {
        assert_eq!(
            empty_root().to_base64(),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn base64_must_be_canonical_and_32_bytes() {
        let h = sha256(b"x");
        assert_eq!(Hash::from_base64(&h.to_base64()), Some(h));
        assert_eq!(Hash::from_base64("ZG9uJ3QgY2FyZSAx"), None);
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex("zz"), None);
    }
}
