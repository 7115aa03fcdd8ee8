//! Redactable text (DESIGN §5, docs/FORMAT.md §4).
//!
//! An entry never holds free text, only `SHA-256(salt ‖ text)` where `salt` is 32 random
//! bytes. The blob `blobs/<lowercase hex digest>` holds exactly `salt ‖ text` (UTF-8), so a
//! blob's own SHA-256 is its name. The salt stops anyone from confirming a guessed text
//! against the digest once the blob is erased.

use rand_core::{OsRng, RngCore};

use crate::event::TextDigest;
use crate::hash::sha256;

/// The largest text a blob holds. Texts are summaries and reasons, not documents.
pub const MAX_TEXT_LEN: usize = 64 * 1024;

/// A redactable text and its salt.
#[derive(Clone, PartialEq, Eq)]
pub struct Blob {
    pub salt: [u8; 32],
    pub text: String,
}

impl std::fmt::Debug for Blob {
    // Never print blob text: it is the part of the register that can be erased.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({} bytes of text)", self.text.len())
    }
}

/// What is wrong with a blob.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobError {
    #[error("text is {len} bytes; a redactable text is at most {MAX_TEXT_LEN} bytes")]
    TooLong { len: usize },
    #[error("blob {name} is {len} bytes, shorter than its 32-byte salt")]
    Truncated { name: String, len: usize },
    #[error("blob {name}: its SHA-256 is {got}, not its name")]
    DigestMismatch { name: String, got: String },
    #[error("blob {name}: text is not valid UTF-8")]
    NotUtf8 { name: String },
}

impl Blob {
    /// A blob for `text` with a fresh random salt.
    ///
    /// # Errors
    /// [`BlobError::TooLong`] over [`MAX_TEXT_LEN`] bytes.
    pub fn new(text: String) -> Result<Blob, BlobError> {
        if text.len() > MAX_TEXT_LEN {
            return Err(BlobError::TooLong { len: text.len() });
        }
        let mut salt = [0u8; 32];
        OsRng.fill_bytes(&mut salt);
        Ok(Blob { salt, text })
    }

    /// `SHA-256(salt ‖ text)`.
    pub fn digest(&self) -> TextDigest {
        TextDigest(sha256(&self.to_bytes()))
    }

    /// The blob file's bytes: `salt ‖ text`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(32 + self.text.len());
        b.extend_from_slice(&self.salt);
        b.extend_from_slice(self.text.as_bytes());
        b
    }

    /// Parses blob bytes and checks them against the digest they are filed under.
    ///
    /// # Errors
    /// [`BlobError::Truncated`], [`BlobError::DigestMismatch`], [`BlobError::NotUtf8`].
    pub fn parse(digest: &TextDigest, bytes: &[u8]) -> Result<Blob, BlobError> {
        let name = digest.0.to_hex();
        if bytes.len() < 32 {
            return Err(BlobError::Truncated {
                name,
                len: bytes.len(),
            });
        }
        let got = sha256(bytes);
        if got != digest.0 {
            return Err(BlobError::DigestMismatch {
                name,
                got: got.to_hex(),
            });
        }
        let mut salt = [0u8; 32];
        salt.copy_from_slice(&bytes[..32]);
        let text =
            String::from_utf8(bytes[32..].to_vec()).map_err(|_| BlobError::NotUtf8 { name })?;
        Ok(Blob { salt, text })
    }
}

/// The path of a blob relative to the register directory (and URL prefix): `blobs/<hex>`.
pub fn blob_path(digest: &TextDigest) -> String {
    format!("blobs/{}", digest.0.to_hex())
}

/// The digest a blob's file name spells: exactly 64 lowercase hex digits, the one spelling
/// [`blob_path`] writes (so one text has one name, and nothing else under `blobs/` is a blob).
pub fn digest_of_name(name: &str) -> Option<TextDigest> {
    let canonical = name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    canonical
        .then(|| crate::Hash::from_hex(name))
        .flatten()
        .map(TextDigest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let b = Blob::new("Images envoyées toutes les cinq minutes".into()).expect("short text");
        let d = b.digest();
        assert_eq!(Blob::parse(&d, &b.to_bytes()), Ok(b.clone()));
        let mut bad = b.to_bytes();
        bad[40] ^= 1;
        assert!(matches!(
            Blob::parse(&d, &bad),
            Err(BlobError::DigestMismatch { .. })
        ));
        assert!(matches!(
            Blob::parse(&d, &bad[..10]),
            Err(BlobError::Truncated { len: 10, .. })
        ));
        assert_ne!(
            Blob::new("x".into()).map(|b| b.digest()),
            Blob::new("x".into()).map(|b| b.digest())
        );
    }
}
