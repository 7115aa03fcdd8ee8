//! C2SP signed notes (<https://c2sp.org/signed-note>): the envelope of checkpoints and
//! cosignatures, and the key strings of the log and its witnesses.
//!
//! A signed note is UTF-8 text ending in a newline, a blank line, then one or more signature
//! lines. For example (c2sp.org/signed-note §Verifier keys, key
//! `example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k`):
//!
//! ```text
//! This is an example message.\n
//! \n
//! — example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n
//! ```
//!
//! Each signature line is `U+2014 U+0020 <key name> U+0020 base64(key ID (4 bytes, big-endian)
//! ‖ signature)`. The key ID is `SHA-256(key name ‖ 0x0A ‖ type ‖ public key)[:4]`
//! ([`key_id`]). This module is pure: no file or network I/O.
//!
//! Where this module is stricter than Go's `golang.org/x/mod/sumdb/note`, it says so: base64
//! must be canonical (RFC 4648 §3.5, no stray bits), key IDs in key strings are lowercase hex,
//! key names may not contain any control character, and every line whose name and key ID
//! match a known key is verified (Go skips repeated lines from the same key).

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand_core::OsRng;
use sha2::{Digest, Sha256};

/// The largest note [`Note::parse`] accepts: 1 MiB. The spec asks verifiers to bound notes
/// and to accept at least 16 signatures of up to ~5 kB (ML-DSA-44 cosignatures are 2,432
/// bytes, 3,252 in base64), so this leaves ample room while bounding memory.
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// The most signature lines [`Note::parse`] accepts (the spec's minimum is 16; Go's is 100).
pub const MAX_SIGNATURES: usize = 128;

/// Length in bytes of an ML-DSA-44 public key (FIPS 204), the key material of type `0x06`.
pub const ML_DSA_44_PUBLIC_KEY_LENGTH: usize = 1312;

/// `U+2014 EM DASH` then `U+0020 SPACE`: the start of every signature line.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// The start of every private key string, as Go's `note.GenerateKey` writes it.
const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// The signature type of a key: the byte after which the key material follows in a key string
/// and which enters the key ID (c2sp.org/signed-note §Signature types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// `0x01`: Ed25519 signatures over the note text (c2sp.org/signed-note §Ed25519
    /// signatures). The log's checkpoint key.
    Ed25519,
    /// `0x04`: timestamped Ed25519 checkpoint cosignatures (c2sp.org/tlog-cosignature,
    /// `cosignature/v1`). Witnesses and mirrors.
    Ed25519Cosignature,
    /// `0x06`: timestamped ML-DSA-44 (sub)tree cosignatures (c2sp.org/tlog-cosignature).
    /// Recognised by type and key ID, but sijil cannot verify them yet: such signatures are
    /// reported as not checked and never count (SPECS.md, tlog-cosignature).
    MlDsa44Cosignature,
}

impl KeyType {
    /// The signature type identifier byte.
    pub const fn byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::Ed25519Cosignature => 0x04,
            KeyType::MlDsa44Cosignature => 0x06,
        }
    }

    /// The key type with identifier byte `b`, if sijil knows it.
    pub const fn from_byte(b: u8) -> Option<KeyType> {
        match b {
            0x01 => Some(KeyType::Ed25519),
            0x04 => Some(KeyType::Ed25519Cosignature),
            0x06 => Some(KeyType::MlDsa44Cosignature),
            _ => None,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            KeyType::Ed25519 => "Ed25519",
            KeyType::Ed25519Cosignature => "Ed25519 cosignature/v1",
            KeyType::MlDsa44Cosignature => "ML-DSA-44 cosignature",
        };
        write!(f, "{name} (0x{:02x})", self.byte())
    }
}

/// Why 32 bytes are not an acceptable Ed25519 public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ed25519KeyProblem {
    /// The bytes do not decode to a point of the curve.
    NotAPoint,
    /// The point has small order: signatures by it prove nothing (`verify_strict` rejects them).
    SmallOrder,
    /// The encoding is not canonical (y ≥ p, or x = 0 with the sign bit set): two strings would
    /// name one key.
    NonCanonical,
}

impl fmt::Display for Ed25519KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ed25519KeyProblem::NotAPoint => "not a curve point",
            Ed25519KeyProblem::SmallOrder => "a small-order point",
            Ed25519KeyProblem::NonCanonical => "not canonically encoded",
        })
    }
}

/// Errors from parsing or creating keys. Messages never contain any part of a private key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A verifier key string was given where a private key was expected.
    #[error("this is a verifier (public) key, a private key was expected")]
    PublicKeyGiven,
    /// A private key string was given where a verifier key was expected.
    #[error("this is a private key, a verifier (public) key was expected (keep it secret)")]
    PrivateKeyGiven,
    /// The key name breaks c2sp.org/signed-note §Format.
    #[error("invalid key name {name:?}: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A private key string is malformed; nothing of it is repeated here.
    #[error("malformed private key: {reason}")]
    MalformedPrivateKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A verifier key string is malformed.
    #[error("malformed verifier key: {reason}")]
    MalformedVerifierKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The key ID written in the key string is not the one computed from name, type and key.
    #[error("key {name}: key ID {given:08x} does not match {computed:08x} computed from the key")]
    KeyIdMismatch {
        /// The key name.
        name: String,
        /// The key ID in the string.
        given: u32,
        /// `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`.
        computed: u32,
    },
    /// The type byte is not one sijil knows (`0x01`, `0x04`, `0x06`).
    #[error("unsupported key type 0x{type_byte:02x} (sijil knows 0x01 Ed25519, 0x04 Ed25519 cosignature, 0x06 ML-DSA-44 cosignature)")]
    UnsupportedType {
        /// The type byte found.
        type_byte: u8,
    },
    /// A known key type, but not the one this use calls for.
    #[error("this is an {found} key; an {expected} key was expected")]
    WrongType {
        /// What the caller needs.
        expected: KeyType,
        /// What the string holds.
        found: KeyType,
    },
    /// The key material has the wrong length for its type.
    #[error("{key_type} key material is {length} bytes, expected {expected}")]
    KeyLength {
        /// The key's type.
        key_type: KeyType,
        /// Bytes found after the type byte.
        length: usize,
        /// Bytes the type needs.
        expected: usize,
    },
    /// The Ed25519 public key is unusable.
    #[error("key {name}: the Ed25519 public key is {problem}")]
    InvalidPublicKey {
        /// The key name.
        name: String,
        /// What is wrong with the point.
        problem: Ed25519KeyProblem,
    },
}

/// Why one signature does not verify under a given key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureFault {
    /// The signature (after the key ID) has the wrong length for the key's type.
    #[error("signature is {length} bytes, expected {expected}")]
    Length {
        /// Bytes found after the key ID.
        length: usize,
        /// Bytes the key type produces.
        expected: usize,
    },
    /// A cosignature timestamp of zero (c2sp.org/tlog-cosignature: T is a POSIX time; sijil,
    /// like SPECS.md, requires it non-zero).
    #[error("cosignature timestamp is zero")]
    ZeroTimestamp,
    /// A cosignature timestamp above 2^63 − 1 (c2sp.org/tlog-cosignature MUST NOT).
    #[error("cosignature timestamp {0} exceeds 2^63 - 1")]
    TimestampTooLarge(u64),
    /// The Ed25519 equation fails under `verify_strict` (also for a non-canonical or
    /// small-order R, or a non-canonical S).
    #[error("Ed25519 signature does not verify")]
    Ed25519,
    /// ML-DSA-44 signatures cannot be checked yet: the caller reports them as not checked.
    #[error("ML-DSA-44 signatures are not checked by sijil yet")]
    NotSupported,
}

/// Errors from parsing, signing or opening a note. Each names the rule and, where there is
/// one, the 1-based line number in the note.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_SIZE`].
    #[error("note is {size} bytes, more than the {max} accepted")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// [`MAX_NOTE_SIZE`].
        max: usize,
    },
    /// The note is not valid UTF-8.
    #[error("note is not valid UTF-8 (at byte {offset})")]
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// An ASCII control character other than `\n` (CR, tab, NUL…).
    #[error("line {line}: control character 0x{byte:02x} (only \\n is allowed)")]
    ControlCharacter {
        /// 1-based line number.
        line: usize,
        /// The control byte.
        byte: u8,
    },
    /// The note (or the text to sign) does not end in `\n`.
    #[error("note does not end with a newline")]
    MissingFinalNewline,
    /// There is no blank line separating text and signatures.
    #[error("note has no blank line before its signatures")]
    NoBlankLine,
    /// The blank line is the last line: there are no signature lines.
    #[error("note has no signature lines")]
    NoSignatures,
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has {count} signature lines, more than the {max} accepted")]
    TooManySignatures {
        /// Lines found (or signatures requested).
        count: usize,
        /// [`MAX_SIGNATURES`].
        max: usize,
    },
    /// A line after the last blank line is not a well-formed signature line.
    #[error("line {line}: malformed signature line: {reason}")]
    MalformedSignature {
        /// 1-based line number.
        line: usize,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// A signature line whose key name and key ID match a known key does not verify: the whole
    /// note is rejected (c2sp.org/signed-note §Signatures; Go's `note.Open` does the same).
    #[error("line {line}: signature by known key {name} ({key_id:08x}) is invalid: {fault}")]
    InvalidSignature {
        /// 1-based line number.
        line: usize,
        /// The key name.
        name: String,
        /// The key ID.
        key_id: u32,
        /// Why it fails.
        fault: SignatureFault,
    },
    /// Two different known keys have the same name and key ID, so a line cannot be attributed.
    #[error("two different known keys are named {name} with key ID {key_id:08x}")]
    AmbiguousKey {
        /// The shared name.
        name: String,
        /// The shared key ID.
        key_id: u32,
    },
    /// No signature by a known key verified (unknown lines are ignored, so this is also the
    /// error for a note signed only by others).
    #[error("note has no verified signature by a known key ({signatures} signature lines, none from a known key that could be checked)")]
    Unverified {
        /// Number of signature lines in the note.
        signatures: usize,
    },
    /// [`sign_note`] was given no signer.
    #[error("a note needs at least one signer")]
    NoSigners,
}

/// The key ID of a key: `SHA-256(name ‖ 0x0A ‖ key_type ‖ public_key)[:4]`, big-endian
/// (c2sp.org/signed-note §Signatures; for cosigners c2sp.org/tlog-cosignature §Format).
///
/// Go's `PeterNeumann` Ed25519 key has ID `c74f20a3`.
pub fn key_id(name: &str, key_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', key_type]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Whether `name` is a valid key name: non-empty, no Unicode white space, no `+`
/// (c2sp.org/signed-note §Format), and, stricter than the spec, no control character at all
/// (Unicode `Cc`: C0, DEL, C1). The spec already forbids C0 controls anywhere in a note.
pub fn is_valid_key_name(name: &str) -> bool {
    key_name_problem(name).is_none()
}

fn key_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.chars().any(char::is_whitespace) {
        Some("it contains white space")
    } else if name.contains('+') {
        Some("it contains '+'")
    } else if name.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    }
}

/// Checks 32 bytes as an Ed25519 public key with the rule of SPECS.md §Ed25519 verification
/// rule: a curve point, not of small order, canonically encoded.
///
/// # Errors
/// The [`Ed25519KeyProblem`] found.
pub fn strict_ed25519_key(bytes: &[u8; 32]) -> Result<VerifyingKey, Ed25519KeyProblem> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| Ed25519KeyProblem::NotAPoint)?;
    if key.is_weak() {
        return Err(Ed25519KeyProblem::SmallOrder);
    }
    // Decompression reduces y modulo p and accepts a set sign bit with x = 0; re-encoding
    // catches both, so each key has exactly one string.
    if key.to_edwards().compress().to_bytes() != *bytes {
        return Err(Ed25519KeyProblem::NonCanonical);
    }
    Ok(key)
}

/// The fixed-length lowercase hex key ID of a key string (c2sp.org/signed-note §Conventions).
fn parse_key_id_hex(s: &str) -> Option<u32> {
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if s.len() != 8 || !s.bytes().all(lower_hex) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// A private Ed25519 key parsed from its string; shared by [`Signer`] and
/// [`crate::cosignature::Cosigner`].
pub(crate) struct PrivateKey {
    pub(crate) name: String,
    pub(crate) key: SigningKey,
}

/// Parses `PRIVATE+KEY+<name>+<key ID hex>+<base64(type ‖ 32-byte seed)>`, accepting the key
/// types in `accept` (the first one is named in errors). The key ID must be the one computed
/// with the type byte of the string. Errors never repeat any part of `s`.
pub(crate) fn parse_private_key(s: &str, accept: &[KeyType]) -> Result<PrivateKey, KeyError> {
    let malformed = |reason| KeyError::MalformedPrivateKey { reason };
    let Some(rest) = s.strip_prefix(PRIVATE_KEY_PREFIX) else {
        if Verifier::parse(s).is_ok() {
            return Err(KeyError::PublicKeyGiven);
        }
        return Err(malformed("it does not start with PRIVATE+KEY+"));
    };
    let mut parts = rest.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed(
            "expected PRIVATE+KEY+<name>+<key ID>+<base64 key>",
        ));
    };
    if !is_valid_key_name(name) {
        return Err(malformed("invalid key name"));
    }
    let given =
        parse_key_id_hex(id_hex).ok_or(malformed("the key ID is not 8 lowercase hex digits"))?;
    let raw = Wiped(
        BASE64
            .decode(key64)
            .map_err(|_| malformed("the key is not canonical base64"))?,
    );
    let Some((&type_byte, seed)) = raw.0.split_first() else {
        return Err(malformed("the key is empty"));
    };
    let key_type = KeyType::from_byte(type_byte).ok_or(KeyError::UnsupportedType { type_byte })?;
    if !accept.contains(&key_type) {
        let expected = accept.first().copied().unwrap_or(KeyType::Ed25519);
        return Err(KeyError::WrongType {
            expected,
            found: key_type,
        });
    }
    let seed: &[u8; 32] = seed
        .try_into()
        .map_err(|_| malformed("the Ed25519 seed is not 32 bytes"))?;
    let key = SigningKey::from_bytes(seed);
    let computed = key_id(name, type_byte, key.verifying_key().as_bytes());
    if given != computed {
        return Err(KeyError::KeyIdMismatch {
            name: name.to_owned(),
            given,
            computed,
        });
    }
    Ok(PrivateKey {
        name: name.to_owned(),
        key,
    })
}

/// A buffer holding secret bytes, overwritten with zeros when dropped. `SigningKey` wipes
/// itself; this covers the decoded and encoded copies of a seed (best effort: without the
/// `zeroize` crate, `black_box` is what keeps the stores from being optimized away).
struct Wiped(Vec<u8>);

impl Drop for Wiped {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}

/// `PRIVATE+KEY+<name>+<key ID hex>+<base64(type ‖ seed)>`, as Go's `note.GenerateKey` writes it.
pub(crate) fn format_private_key(
    name: &str,
    key_type: KeyType,
    id: u32,
    key: &SigningKey,
) -> String {
    let mut raw = Wiped(Vec::with_capacity(33));
    raw.0.push(key_type.byte());
    raw.0.extend_from_slice(key.as_bytes());
    format!(
        "{PRIVATE_KEY_PREFIX}{name}+{id:08x}+{}",
        BASE64.encode(&raw.0)
    )
}

/// Checks `name` for a key being created.
pub(crate) fn check_new_key_name(name: &str) -> Result<(), KeyError> {
    match key_name_problem(name) {
        Some(reason) => Err(KeyError::InvalidName {
            name: name.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// An Ed25519 note signer (type `0x01`): the log's checkpoint key, also an officer's key
/// (officers sign entries with the same key files, through [`Signer::signing_key`]).
///
/// Its string form is Go's `note.GenerateKey` format,
/// `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 ‖ 32-byte seed)>`, e.g. Go's test key
/// `PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz`.
/// `Debug` shows the name, key ID and public key, never the seed.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Signer {
    /// A new key named `name` from the operating system's random generator.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`] if `name` is not a valid key name ([`is_valid_key_name`]).
    pub fn generate(name: &str) -> Result<Signer, KeyError> {
        check_new_key_name(name)?;
        Ok(Signer::with_key(name, SigningKey::generate(&mut OsRng)))
    }

    /// The key named `name` with the 32-byte Ed25519 seed `seed` (RFC 8032 private key).
    ///
    /// # Errors
    /// [`KeyError::InvalidName`] if `name` is not a valid key name.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Signer, KeyError> {
        check_new_key_name(name)?;
        Ok(Signer::with_key(name, SigningKey::from_bytes(seed)))
    }

    fn with_key(name: &str, key: SigningKey) -> Signer {
        let key_id = key_id(
            name,
            KeyType::Ed25519.byte(),
            key.verifying_key().as_bytes(),
        );
        Signer {
            name: name.to_owned(),
            key_id,
            key,
        }
    }

    /// Parses `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 ‖ seed)>`.
    ///
    /// # Errors
    /// - [`KeyError::PublicKeyGiven`] for a verifier key string;
    /// - [`KeyError::WrongType`] for a cosigner (`0x04`) or ML-DSA-44 (`0x06`) key;
    /// - [`KeyError::UnsupportedType`] for another type byte;
    /// - [`KeyError::KeyIdMismatch`] if the key ID is not the one of name and key;
    /// - [`KeyError::MalformedPrivateKey`] for anything else (bad name, hex, base64, length).
    pub fn from_private_key(s: &str) -> Result<Signer, KeyError> {
        let k = parse_private_key(s, &[KeyType::Ed25519])?;
        Ok(Signer::with_key(&k.name, k.key))
    }

    /// The private key string, exactly as Go's `note.GenerateKey` writes it. It is a secret:
    /// write it only to a file with mode 0600, never to a log or a terminal.
    pub fn private_key_string(&self) -> String {
        format_private_key(&self.name, KeyType::Ed25519, self.key_id, &self.key)
    }

    /// The key name (for a log key, conventionally the checkpoint origin).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The matching verifier (its string is `<name>+<key ID hex>+<base64(0x01 ‖ public key)>`).
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: PublicKey::Ed25519(KeyType::Ed25519, self.key.verifying_key()),
        }
    }

    /// The Ed25519 signature (RFC 8032, deterministic) of `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    /// The underlying Ed25519 key, for signatures outside notes (entries).
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("public_key", &BASE64.encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq)]
enum PublicKey {
    /// Types `0x01` and `0x04` (the type is kept to tell them apart).
    Ed25519(KeyType, VerifyingKey),
    /// Type `0x06`: the 1312-byte key, kept only to print and compare it.
    MlDsa44(Box<[u8]>),
}

/// A verifier key (c2sp.org/signed-note §Verifier keys):
/// `<name>+<key ID, 8 lowercase hex>+<base64(type ‖ public key)>`, e.g.
/// `PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`.
///
/// Types: `0x01` Ed25519 (a log or note key), `0x04` Ed25519 cosigner
/// (c2sp.org/tlog-cosignature), `0x06` ML-DSA-44 cosigner (recognised, cannot verify yet).
/// `Display` gives back the same string.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    key: PublicKey,
}

impl Verifier {
    /// Parses a verifier key string.
    ///
    /// Stricter than Go's `note.NewVerifier`: the key ID must be lowercase hex, the base64
    /// canonical, and an Ed25519 key a canonical point not of small order.
    ///
    /// # Errors
    /// - [`KeyError::PrivateKeyGiven`] for a `PRIVATE+KEY+…` string;
    /// - [`KeyError::InvalidName`], [`KeyError::MalformedVerifierKey`] for a malformed string;
    /// - [`KeyError::UnsupportedType`] for a type byte other than `0x01`, `0x04`, `0x06`;
    /// - [`KeyError::KeyLength`] if the key material has the wrong length for its type;
    /// - [`KeyError::InvalidPublicKey`] for an unusable Ed25519 key;
    /// - [`KeyError::KeyIdMismatch`] if the key ID is not the one of name, type and key.
    pub fn parse(s: &str) -> Result<Verifier, KeyError> {
        let malformed = |reason| KeyError::MalformedVerifierKey { reason };
        if s.starts_with(PRIVATE_KEY_PREFIX) {
            return Err(KeyError::PrivateKeyGiven);
        }
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected <name>+<key ID>+<base64 key>"));
        };
        check_new_key_name(name)?;
        let given = parse_key_id_hex(id_hex)
            .ok_or(malformed("the key ID is not 8 lowercase hex digits"))?;
        let raw = BASE64
            .decode(key64)
            .map_err(|_| malformed("the key is not canonical base64"))?;
        let Some((&type_byte, material)) = raw.split_first() else {
            return Err(malformed("the key is empty"));
        };
        let key_type =
            KeyType::from_byte(type_byte).ok_or(KeyError::UnsupportedType { type_byte })?;
        let computed = key_id(name, type_byte, material);
        let key = match key_type {
            KeyType::Ed25519 | KeyType::Ed25519Cosignature => {
                let bytes: &[u8; 32] = material.try_into().map_err(|_| KeyError::KeyLength {
                    key_type,
                    length: material.len(),
                    expected: 32,
                })?;
                let vk =
                    strict_ed25519_key(bytes).map_err(|problem| KeyError::InvalidPublicKey {
                        name: name.to_owned(),
                        problem,
                    })?;
                PublicKey::Ed25519(key_type, vk)
            }
            KeyType::MlDsa44Cosignature => {
                if material.len() != ML_DSA_44_PUBLIC_KEY_LENGTH {
                    return Err(KeyError::KeyLength {
                        key_type,
                        length: material.len(),
                        expected: ML_DSA_44_PUBLIC_KEY_LENGTH,
                    });
                }
                PublicKey::MlDsa44(material.into())
            }
        };
        if given != computed {
            return Err(KeyError::KeyIdMismatch {
                name: name.to_owned(),
                given,
                computed,
            });
        }
        Ok(Verifier {
            name: name.to_owned(),
            key_id: computed,
            key,
        })
    }

    /// A verifier for an Ed25519 public key of type `0x01` or `0x04`, its key ID computed.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`]; [`KeyError::WrongType`] for `0x06`;
    /// [`KeyError::InvalidPublicKey`] for a small-order or non-canonical key.
    pub fn from_ed25519(
        name: &str,
        key_type: KeyType,
        public_key: &[u8; 32],
    ) -> Result<Verifier, KeyError> {
        check_new_key_name(name)?;
        if key_type == KeyType::MlDsa44Cosignature {
            return Err(KeyError::WrongType {
                expected: KeyType::Ed25519,
                found: key_type,
            });
        }
        let vk = strict_ed25519_key(public_key).map_err(|problem| KeyError::InvalidPublicKey {
            name: name.to_owned(),
            problem,
        })?;
        let key_id = key_id(name, key_type.byte(), public_key);
        Ok(Verifier {
            name: name.to_owned(),
            key_id,
            key: PublicKey::Ed25519(key_type, vk),
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID, `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The key's signature type.
    pub fn key_type(&self) -> KeyType {
        match &self.key {
            PublicKey::Ed25519(t, _) => *t,
            PublicKey::MlDsa44(_) => KeyType::MlDsa44Cosignature,
        }
    }

    /// The public key material (32 bytes for Ed25519, 1312 for ML-DSA-44), without the type.
    pub fn public_key(&self) -> &[u8] {
        match &self.key {
            PublicKey::Ed25519(_, vk) => vk.as_bytes(),
            PublicKey::MlDsa44(k) => k,
        }
    }

    /// The Ed25519 key, for types `0x01` and `0x04` (already checked: canonical, not small order).
    pub fn ed25519_key(&self) -> Option<&VerifyingKey> {
        match &self.key {
            PublicKey::Ed25519(_, vk) => Some(vk),
            PublicKey::MlDsa44(_) => None,
        }
    }

    /// Whether a signature line names this key (same name and key ID).
    pub fn matches(&self, signature: &NoteSignature) -> bool {
        self.name == signature.name && self.key_id == signature.key_id
    }

    /// Verifies `signature` (the bytes after the key ID) over the note text `text`, with
    /// `verify_strict` semantics.
    ///
    /// - `0x01`: a 64-byte Ed25519 signature of `text`; returns `None`.
    /// - `0x04`: `timestamp (8 bytes, big-endian) ‖ Ed25519 signature` of
    ///   `cosignature/v1\ntime <T>\n` ‖ `text` (c2sp.org/tlog-cosignature); returns `Some(T)`.
    /// - `0x06`: not checked.
    ///
    /// # Errors
    /// The [`SignatureFault`]; [`SignatureFault::NotSupported`] for every ML-DSA-44 signature.
    pub fn verify(&self, text: &[u8], signature: &[u8]) -> Result<Option<u64>, SignatureFault> {
        match &self.key {
            PublicKey::Ed25519(KeyType::Ed25519Cosignature, vk) => {
                crate::cosignature::verify_v1(vk, text, signature).map(Some)
            }
            PublicKey::Ed25519(_, vk) => verify_ed25519(vk, text, signature).map(|()| None),
            PublicKey::MlDsa44(_) => Err(SignatureFault::NotSupported),
        }
    }
}

/// `verify_strict` of a 64-byte signature: rejects small-order keys and R, non-canonical R
/// and S (SPECS.md §Ed25519 verification rule).
pub(crate) fn verify_ed25519(
    vk: &VerifyingKey,
    msg: &[u8],
    signature: &[u8],
) -> Result<(), SignatureFault> {
    let bytes: &[u8; 64] = signature.try_into().map_err(|_| SignatureFault::Length {
        length: signature.len(),
        expected: 64,
    })?;
    vk.verify_strict(msg, &Signature::from_bytes(bytes))
        .map_err(|_| SignatureFault::Ed25519)
}

impl FromStr for Verifier {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Verifier, KeyError> {
        Verifier::parse(s)
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(1 + self.public_key().len());
        raw.push(self.key_type().byte());
        raw.extend_from_slice(self.public_key());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            BASE64.encode(&raw)
        )
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("key_type", &self.key_type())
            .finish_non_exhaustive()
    }
}

/// One signature line of a note: `— <name> base64(key ID ‖ bytes)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID (the first 4 bytes, big-endian).
    pub key_id: u32,
    /// The signature after the key ID (for `0x04`, timestamp ‖ Ed25519 signature).
    pub bytes: Vec<u8>,
}

impl NoteSignature {
    /// Parses one signature line, without its final `\n`:
    /// `U+2014 U+0020 <key name> U+0020 <base64>`, where the base64 is canonical and decodes to
    /// a 4-byte key ID and at least one signature byte (as Go's `note.Open` requires).
    ///
    /// # Errors
    /// [`NoteError::MalformedSignature`] (line number 1), [`NoteError::ControlCharacter`].
    pub fn from_line(line: &str) -> Result<NoteSignature, NoteError> {
        if let Some(byte) = line.bytes().find(|&b| b < 0x20) {
            return Err(NoteError::ControlCharacter { line: 1, byte });
        }
        parse_signature_line(line, 1)
    }

    /// Parses a block of signature lines, each ending in `\n` (the body of a tlog-witness
    /// `add-checkpoint` answer, or lines to append to a note).
    ///
    /// # Errors
    /// [`NoteError::MissingFinalNewline`], [`NoteError::TooManySignatures`],
    /// [`NoteError::ControlCharacter`], [`NoteError::InvalidUtf8`],
    /// [`NoteError::MalformedSignature`] with the 1-based line number in `block`.
    pub fn parse_lines(block: &[u8]) -> Result<Vec<NoteSignature>, NoteError> {
        if block.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size: block.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        let s = check_text(block)?;
        let Some(body) = s.strip_suffix('\n') else {
            return Err(NoteError::MissingFinalNewline);
        };
        let count = body.split('\n').count();
        if count > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                count,
                max: MAX_SIGNATURES,
            });
        }
        body.split('\n')
            .enumerate()
            .map(|(i, line)| parse_signature_line(line, i + 1))
            .collect()
    }

    /// The line, `— <name> <base64(key ID ‖ bytes)>`, without the final `\n`.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.bytes.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.bytes);
        format!("{SIGNATURE_PREFIX}{} {}", self.name, BASE64.encode(&raw))
    }
}

fn parse_signature_line(line: &str, number: usize) -> Result<NoteSignature, NoteError> {
    let bad = |reason| NoteError::MalformedSignature {
        line: number,
        reason,
    };
    let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(bad(
        "it does not start with an em dash (U+2014) and a space",
    ))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or(bad("no space between key name and signature"))?;
    if !is_valid_key_name(name) {
        return Err(bad("invalid key name"));
    }
    let raw = BASE64
        .decode(b64)
        .map_err(|_| bad("the signature is not canonical base64"))?;
    if raw.len() < 5 {
        return Err(bad("the signature is shorter than a key ID and one byte"));
    }
    let (id, bytes) = raw.split_at(4);
    let key_id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id,
        bytes: bytes.to_vec(),
    })
}

/// Checks that `bytes` are UTF-8 without control characters other than `\n`.
fn check_text(bytes: &[u8]) -> Result<&str, NoteError> {
    let s = std::str::from_utf8(bytes).map_err(|e| NoteError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    // Every byte of a multi-byte UTF-8 sequence is ≥ 0x80, so a byte scan finds exactly the
    // ASCII controls.
    if let Some(pos) = bytes.iter().position(|&b| b < 0x20 && b != b'\n') {
        let line = 1 + bytes[..pos].iter().filter(|&&b| b == b'\n').count();
        return Err(NoteError::ControlCharacter {
            line,
            byte: bytes[pos],
        });
    }
    Ok(s)
}

/// A signature line of a note that verified under one of the given keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Index into [`Note::signatures`].
    pub index: usize,
    /// Index into the verifiers given to [`Note::open`] or [`Note::verify`].
    pub verifier: usize,
    /// The cosignature timestamp (Unix seconds) for a type `0x04` key, `None` for `0x01`.
    pub timestamp: Option<u64>,
}

/// A parsed signed note: its text (with the final `\n`, without the separating blank line)
/// and its signature lines in order. [`Note::to_bytes`] gives back the parsed bytes exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in `\n`.
    pub text: String,
    /// The signature lines, known keys or not.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note without verifying anything (c2sp.org/signed-note §Format):
    /// UTF-8, no control character but `\n`, ending in `\n`; the **last** blank line separates
    /// the text from one or more signature lines.
    ///
    /// # Errors
    /// In the order checked: [`NoteError::TooLarge`] (over [`MAX_NOTE_SIZE`]),
    /// [`NoteError::InvalidUtf8`], [`NoteError::ControlCharacter`] (CR, tab…),
    /// [`NoteError::MissingFinalNewline`], [`NoteError::NoBlankLine`],
    /// [`NoteError::NoSignatures`], [`NoteError::TooManySignatures`] (over
    /// [`MAX_SIGNATURES`]), [`NoteError::MalformedSignature`] (a line after the blank line
    /// that is not `— <valid name> <canonical base64 of ≥ 5 bytes>`).
    pub fn parse(msg: &[u8]) -> Result<Note, NoteError> {
        if msg.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size: msg.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        let s = check_text(msg)?;
        if !s.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        let split = s.rfind("\n\n").ok_or(NoteError::NoBlankLine)?;
        let (text, sigs) = (&s[..split + 1], &s[split + 2..]);
        // `s` ends in '\n', so `sigs` is either empty or ends in '\n'.
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(NoteError::NoSignatures);
        };
        let count = sigs.split('\n').count();
        if count > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                count,
                max: MAX_SIGNATURES,
            });
        }
        let first_line = text.matches('\n').count() + 2;
        let signatures = sigs
            .split('\n')
            .enumerate()
            .map(|(i, line)| parse_signature_line(line, first_line + i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Parses `msg` and verifies it against the trusted keys `verifiers` (Go's `note.Open`).
    ///
    /// The rules of c2sp.org/signed-note §Signatures: a line whose name and key ID do not both
    /// match a known key is ignored (even if one of them does); a line that matches a known key
    /// must verify, or the whole note is rejected; at least one must verify. Lines matching an
    /// ML-DSA-44 key (`0x06`) can't be checked yet: they are neither counted nor rejected.
    /// Returns the note and the lines that verified, in note order.
    ///
    /// # Errors
    /// Any error of [`Note::parse`], then those of [`Note::verify`].
    pub fn open(
        msg: &[u8],
        verifiers: &[Verifier],
    ) -> Result<(Note, Vec<VerifiedSignature>), NoteError> {
        let note = Note::parse(msg)?;
        let verified = note.verify(verifiers)?;
        Ok((note, verified))
    }

    /// Verifies the signature lines of a parsed note, with the rules of [`Note::open`].
    ///
    /// # Errors
    /// [`NoteError::AmbiguousKey`] if two different `verifiers` share a name and key ID and a
    /// line names them; [`NoteError::InvalidSignature`] for the first line by a known key that
    /// fails; [`NoteError::Unverified`] if no line by a known key verified.
    pub fn verify(&self, verifiers: &[Verifier]) -> Result<Vec<VerifiedSignature>, NoteError> {
        let mut verified = Vec::new();
        for (index, sig) in self.signatures.iter().enumerate() {
            let Some((vi, v)) = find_verifier(verifiers, sig)? else {
                continue;
            };
            match v.verify(self.text.as_bytes(), &sig.bytes) {
                Ok(timestamp) => verified.push(VerifiedSignature {
                    index,
                    verifier: vi,
                    timestamp,
                }),
                Err(SignatureFault::NotSupported) => {}
                Err(fault) => {
                    return Err(NoteError::InvalidSignature {
                        line: self.signature_line_number(index),
                        name: sig.name.clone(),
                        key_id: sig.key_id,
                        fault,
                    })
                }
            }
        }
        if verified.is_empty() {
            return Err(NoteError::Unverified {
                signatures: self.signatures.len(),
            });
        }
        Ok(verified)
    }

    /// The 1-based line number of signature `index` in [`Note::to_bytes`].
    pub fn signature_line_number(&self, index: usize) -> usize {
        self.text.matches('\n').count() + 2 + index
    }

    /// The note's bytes: text, `\n`, then each signature line and `\n`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.text.len() + 1 + self.signatures.len() * 100);
        out.push_str(&self.text);
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
            out.push('\n');
        }
        out.into_bytes()
    }
}

/// The one verifier naming `sig` (same name and key ID), if any; identical duplicates in the
/// list are one key.
pub(crate) fn find_verifier<'a>(
    verifiers: &'a [Verifier],
    sig: &NoteSignature,
) -> Result<Option<(usize, &'a Verifier)>, NoteError> {
    let mut found: Option<(usize, &Verifier)> = None;
    for (i, v) in verifiers.iter().enumerate() {
        if !v.matches(sig) {
            continue;
        }
        match found {
            None => found = Some((i, v)),
            Some((_, first)) if first == v => {}
            Some(_) => {
                return Err(NoteError::AmbiguousKey {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                })
            }
        }
    }
    Ok(found)
}

/// Signs `text` with `signers` in order and returns the note's bytes (Go's `note.Sign`).
///
/// The text must end in `\n` and contain no control character but `\n`; it may contain blank
/// lines (the blank line written before the signatures is the last one, so parsing finds the
/// same text).
///
/// # Errors
/// In the order checked: [`NoteError::NoSigners`], [`NoteError::TooManySignatures`] (more
/// than [`MAX_SIGNATURES`] signers), [`NoteError::ControlCharacter`],
/// [`NoteError::MissingFinalNewline`] (also for an empty text), [`NoteError::TooLarge`] if the
/// note would exceed [`MAX_NOTE_SIZE`] and so not parse back.
pub fn sign_note(text: &str, signers: &[&Signer]) -> Result<Vec<u8>, NoteError> {
    if signers.is_empty() {
        return Err(NoteError::NoSigners);
    }
    if signers.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            count: signers.len(),
            max: MAX_SIGNATURES,
        });
    }
    check_text(text.as_bytes())?;
    if !text.ends_with('\n') {
        return Err(NoteError::MissingFinalNewline);
    }
    let signatures = signers
        .iter()
        .map(|s| NoteSignature {
            name: s.name().to_owned(),
            key_id: s.key_id(),
            bytes: s.sign(text.as_bytes()).to_vec(),
        })
        .collect();
    let bytes = Note {
        text: text.to_owned(),
        signatures,
    }
    .to_bytes();
    if bytes.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge {
            size: bytes.len(),
            max: MAX_NOTE_SIZE,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETER_SKEY: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";

    fn peter() -> Signer {
        Signer::from_private_key(PETER_SKEY).expect("Go's test key parses")
    }

    fn peter_note() -> Vec<u8> {
        sign_note(TEXT, &[&peter()]).expect("valid text")
    }

    fn open_peter(msg: &[u8]) -> Result<(Note, Vec<VerifiedSignature>), NoteError> {
        let v = Verifier::parse(PETER_VKEY).expect("Go's test vkey parses");
        Note::open(msg, &[v])
    }

    fn with(msg: &[u8], from: &str, to: &str) -> Vec<u8> {
        String::from_utf8(msg.to_vec())
            .expect("utf-8")
            .replacen(from, to, 1)
            .into_bytes()
    }

    #[test]
    fn opens_what_it_signs() {
        let (note, verified) = open_peter(&peter_note()).expect("opens");
        assert_eq!(note.text, TEXT);
        assert_eq!(
            verified,
            vec![VerifiedSignature {
                index: 0,
                verifier: 0,
                timestamp: None
            }]
        );
        assert_eq!(note.to_bytes(), peter_note());
    }

    #[test]
    fn key_strings_round_trip() {
        let s = peter();
        assert_eq!(s.private_key_string(), PETER_SKEY);
        assert_eq!(s.verifier().to_string(), PETER_VKEY);
        assert_eq!(s.key_id(), 0xc74f20a3);
        let g = Signer::generate("example.com/log").expect("valid name");
        let again = Signer::from_private_key(&g.private_key_string()).expect("round trip");
        assert_eq!(again.public_key(), g.public_key());
        assert_eq!(Verifier::parse(&g.verifier().to_string()), Ok(g.verifier()));
    }

    #[test]
    fn debug_does_not_print_the_seed() {
        let s = peter();
        let debug = format!("{s:?}");
        assert!(debug.contains("c74f20a3"), "{debug}");
        assert!(
            !debug.contains("AYEKFALV") && !debug.contains("gQoUAtUU"),
            "{debug}"
        );
    }

    #[test]
    fn private_key_errors_are_clear() {
        assert_eq!(
            Signer::from_private_key(PETER_VKEY).err(),
            Some(KeyError::PublicKeyGiven)
        );
        assert_eq!(
            KeyError::PublicKeyGiven.to_string(),
            "this is a verifier (public) key, a private key was expected"
        );
        assert_eq!(
            Verifier::parse(PETER_SKEY).err(),
            Some(KeyError::PrivateKeyGiven)
        );
        let cosigner =
            crate::cosignature::Cosigner::from_seed("w.example", &[7; 32]).expect("valid");
        assert!(matches!(
            Signer::from_private_key(&cosigner.private_key_string()),
            Err(KeyError::WrongType {
                expected: KeyType::Ed25519,
                found: KeyType::Ed25519Cosignature
            })
        ));
        // Type 0x02 (ECDSA) with a 32-byte body.
        let ecdsa = format!("PRIVATE+KEY+x+00000000+{}", BASE64.encode([2u8; 33]));
        assert_eq!(
            Signer::from_private_key(&ecdsa).err(),
            Some(KeyError::UnsupportedType { type_byte: 2 })
        );
        let wrong_id = PETER_SKEY.replace("c74f20a3", "c74f20a4");
        assert!(matches!(
            Signer::from_private_key(&wrong_id),
            Err(KeyError::KeyIdMismatch { .. })
        ));
        let upper = PETER_SKEY.replace("c74f20a3", "C74F20A3");
        assert!(matches!(
            Signer::from_private_key(&upper),
            Err(KeyError::MalformedPrivateKey { .. })
        ));
        let short = format!("PRIVATE+KEY+x+00000000+{}", BASE64.encode([1u8; 32]));
        assert!(matches!(
            Signer::from_private_key(&short),
            Err(KeyError::MalformedPrivateKey { .. })
        ));
        for bad in [
            "",
            "PRIVATE+KEY+",
            "PRIVATE+KEY+a b+c74f20a3+AA==",
            "garbage",
        ] {
            let err = Signer::from_private_key(bad).expect_err(bad);
            assert!(
                matches!(err, KeyError::MalformedPrivateKey { .. }),
                "{bad}: {err}"
            );
        }
        // The message of a malformed key never echoes it.
        let secretish = "PRIVATE+KEY+name+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF";
        let msg = Signer::from_private_key(secretish)
            .expect_err("bad base64")
            .to_string();
        assert!(!msg.contains("AYEKF"), "{msg}");
    }

    #[test]
    fn key_names() {
        for good in [
            "PeterNeumann",
            "example.com/log",
            "registre.example.ma/plaintes",
            "é—x",
        ] {
            assert!(is_valid_key_name(good), "{good}");
        }
        for bad in [
            "",
            "a b",
            "a+b",
            "a\tb",
            "a\u{a0}b",
            "a\u{3000}b",
            "a\u{7f}",
            "a\u{85}",
            "a\u{9b}",
        ] {
            assert!(!is_valid_key_name(bad), "{bad:?}");
            assert!(
                matches!(Signer::generate(bad), Err(KeyError::InvalidName { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn verifier_rejects_weak_and_non_canonical_keys() {
        let vkey_for = |key: [u8; 32]| {
            let mut raw = vec![1u8];
            raw.extend_from_slice(&key);
            format!("x+{:08x}+{}", key_id("x", 1, &key), BASE64.encode(&raw))
        };
        // The identity point (0, 1): small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            Verifier::parse(&vkey_for(identity)),
            Err(KeyError::InvalidPublicKey {
                problem: Ed25519KeyProblem::SmallOrder,
                ..
            })
        ));
        // y = p + 1 ≡ 1 (the identity again, non-canonically): rejected as small order first.
        // y = p + 4 encodes a valid non-small-order point only if y = 4 does; find a canonical
        // point y < 19 with a valid x, and encode y + p instead.
        let p_plus = |y: u8| {
            let mut b = [0xffu8; 32];
            b[0] = 0xed_u8.wrapping_add(y); // p = 2^255 - 19: low byte 0xed
            b[31] = 0x7f;
            b
        };
        let mut non_canonical_found = false;
        for y in 2u8..18 {
            let mut canonical = [0u8; 32];
            canonical[0] = y;
            if strict_ed25519_key(&canonical).is_ok() {
                assert_eq!(
                    strict_ed25519_key(&p_plus(y)),
                    Err(Ed25519KeyProblem::NonCanonical)
                );
                assert!(matches!(
                    Verifier::parse(&vkey_for(p_plus(y))),
                    Err(KeyError::InvalidPublicKey { .. })
                ));
                non_canonical_found = true;
            }
        }
        assert!(non_canonical_found);
        assert!(Verifier::from_ed25519("x", KeyType::Ed25519, &identity).is_err());
    }

    #[test]
    fn verifier_types() {
        let v = Verifier::parse(PETER_VKEY).expect("parses");
        assert_eq!(v.key_type(), KeyType::Ed25519);
        assert_eq!(v.public_key().len(), 32);
        let ml = vec![6u8; 1 + ML_DSA_44_PUBLIC_KEY_LENGTH];
        let id = key_id("w", 6, &ml[1..]);
        let s = format!("w+{id:08x}+{}", BASE64.encode(&ml));
        let v = Verifier::parse(&s).expect("ML-DSA-44 vkey");
        assert_eq!(v.key_type(), KeyType::MlDsa44Cosignature);
        assert_eq!(v.to_string(), s);
        assert_eq!(
            v.verify(b"x\n", &[0; 2428]),
            Err(SignatureFault::NotSupported)
        );
        let short = format!("w+{id:08x}+{}", BASE64.encode(&ml[..100]));
        assert!(matches!(
            Verifier::parse(&short),
            Err(KeyError::KeyLength { expected: 1312, .. })
        ));
        let noncanonical_b64 = PETER_VKEY.replace("10TW", "10TX");
        assert!(Verifier::parse(&noncanonical_b64).is_err());
    }

    #[test]
    fn rejects_carriage_return_and_tab() {
        let note = peter_note();
        let cr = with(&note, "problem,\n", "problem,\r\n");
        assert_eq!(
            Note::parse(&cr),
            Err(NoteError::ControlCharacter {
                line: 1,
                byte: b'\r'
            })
        );
        let tab = with(&note, "then you", "then\tyou");
        assert_eq!(
            Note::parse(&tab),
            Err(NoteError::ControlCharacter {
                line: 2,
                byte: b'\t'
            })
        );
        let crlf = String::from_utf8(note.clone())
            .expect("utf-8")
            .replace('\n', "\r\n");
        assert!(matches!(
            Note::parse(crlf.as_bytes()),
            Err(NoteError::ControlCharacter { .. })
        ));
        assert!(matches!(
            sign_note("a\tb\n", &[&peter()]),
            Err(NoteError::ControlCharacter { line: 1, .. })
        ));
    }

    #[test]
    fn rejects_structural_errors() {
        let note = peter_note();
        assert_eq!(
            Note::parse(&note[..note.len() - 1]),
            Err(NoteError::MissingFinalNewline)
        );
        assert_eq!(Note::parse(TEXT.as_bytes()), Err(NoteError::NoBlankLine));
        assert_eq!(
            Note::parse(format!("{TEXT}\n").as_bytes()),
            Err(NoteError::NoSignatures)
        );
        assert_eq!(Note::parse(b"a\n\n\n"), Err(NoteError::NoSignatures));
        assert_eq!(Note::parse(b""), Err(NoteError::MissingFinalNewline));
        assert_eq!(
            Note::parse(&[b'a', 0xff, b'\n']),
            Err(NoteError::InvalidUtf8 { offset: 1 })
        );
        let junk = [note.as_slice(), b"Unexpected line.\n"].concat();
        assert!(matches!(
            Note::parse(&junk),
            Err(NoteError::MalformedSignature { line: 5, .. })
        ));
        let hyphen = with(&note, "\u{2014} ", "- ");
        assert!(matches!(
            Note::parse(&hyphen),
            Err(NoteError::MalformedSignature { line: 4, .. })
        ));
        let no_space = with(&note, "PeterNeumann ", "PeterNeumann");
        assert!(matches!(
            Note::parse(&no_space),
            Err(NoteError::MalformedSignature { .. })
        ));
        let plus_name = with(&note, "PeterNeumann ", "Peter+Neumann ");
        assert!(matches!(
            Note::parse(&plus_name),
            Err(NoteError::MalformedSignature { .. })
        ));
        let empty_name = with(&note, "PeterNeumann ", " ");
        assert!(matches!(
            Note::parse(&empty_name),
            Err(NoteError::MalformedSignature { .. })
        ));
        let bad_b64 = with(&note, "x08go", "x08g!");
        assert!(matches!(
            Note::parse(&bad_b64),
            Err(NoteError::MalformedSignature { .. })
        ));
        // base64 of 4 bytes: a key ID without a signature.
        let four = format!("{TEXT}\n\u{2014} PeterNeumann x08gow==\n");
        assert!(matches!(
            Note::parse(four.as_bytes()),
            Err(NoteError::MalformedSignature { .. })
        ));
        let five = format!("{TEXT}\n\u{2014} PeterNeumann x08go/8=\n");
        assert!(Note::parse(five.as_bytes()).is_ok());
        // Non-canonical base64 (stray bits in the last character).
        let stray = format!("{TEXT}\n\u{2014} PeterNeumann x08go/9=\n");
        assert!(matches!(
            Note::parse(stray.as_bytes()),
            Err(NoteError::MalformedSignature { .. })
        ));
    }

    #[test]
    fn last_blank_line_separates() {
        let text = "a\n\nb\n\n\u{2014} looks like a signature AAAAAAA=\n";
        let signed = sign_note(text, &[&peter()]).expect("text may contain blank lines");
        let (note, _) = open_peter(&signed).expect("opens");
        assert_eq!(note.text, text);
        assert_eq!(note.signatures.len(), 1);
        assert_eq!(note.to_bytes(), signed);
        assert_eq!(note.signature_line_number(0), 7);
        let blank_end = sign_note("a\n\n", &[&peter()]).expect("ends in a blank line");
        assert_eq!(Note::parse(&blank_end).expect("parses").text, "a\n\n");
    }

    #[test]
    fn sign_note_checks_text() {
        let p = peter();
        assert_eq!(
            sign_note("no newline", &[&p]),
            Err(NoteError::MissingFinalNewline)
        );
        assert_eq!(sign_note("", &[&p]), Err(NoteError::MissingFinalNewline));
        assert_eq!(sign_note("a\n", &[]), Err(NoteError::NoSigners));
        let big = "x".repeat(MAX_NOTE_SIZE) + "\n";
        assert!(matches!(
            sign_note(&big, &[&p]),
            Err(NoteError::TooLarge { .. })
        ));
        let many = vec![&p; MAX_SIGNATURES + 1];
        assert!(matches!(
            sign_note("a\n", &many),
            Err(NoteError::TooManySignatures { .. })
        ));
    }

    #[test]
    fn known_key_whose_signature_fails_rejects_the_note() {
        let note = peter_note();
        let s = String::from_utf8(note.clone()).expect("utf-8");
        let at = s.len() - 10;
        // Flip one signature byte: a different but well-formed base64 character.
        let c = if &s[at..at + 1] == "A" { "B" } else { "A" };
        let flipped = format!("{}{c}{}", &s[..at], &s[at + 1..]);
        assert!(matches!(
            open_peter(flipped.as_bytes()),
            Err(NoteError::InvalidSignature {
                line: 4,
                key_id: 0xc74f20a3,
                fault: SignatureFault::Ed25519,
                ..
            })
        ));
        // The text changed: the signature no longer covers it.
        let changed = with(&note, "cryptography", "cryptographY");
        assert!(matches!(
            open_peter(&changed),
            Err(NoteError::InvalidSignature { .. })
        ));
        // A failing known line rejects the note even when another line verifies.
        let flipped_line = &flipped.as_bytes()[TEXT.len() + 1..];
        let twice = [note.as_slice(), flipped_line].concat();
        assert!(matches!(
            open_peter(&twice),
            Err(NoteError::InvalidSignature { line: 5, .. })
        ));
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let note = peter_note();
        let other = Signer::from_seed("Other", &[9; 32]).expect("valid");
        // Same name, different key ID; same key ID, different name; both unknown.
        let same_name = NoteSignature {
            name: "PeterNeumann".into(),
            key_id: 1,
            bytes: vec![0; 64],
        };
        let same_id = NoteSignature {
            name: "Nobody".into(),
            key_id: 0xc74f20a3,
            bytes: vec![0; 64],
        };
        let mut n = Note::parse(&note).expect("parses");
        n.signatures.insert(0, same_name);
        n.signatures.push(same_id);
        n.signatures.push(NoteSignature {
            name: other.name().into(),
            key_id: other.key_id(),
            bytes: vec![1; 3],
        });
        let (_, verified) = open_peter(&n.to_bytes()).expect("unknown lines are ignored");
        assert_eq!(
            verified,
            vec![VerifiedSignature {
                index: 1,
                verifier: 0,
                timestamp: None
            }]
        );
        // Only unknown lines: unverified.
        let by_other = sign_note(TEXT, &[&other]).expect("signs");
        assert_eq!(
            open_peter(&by_other),
            Err(NoteError::Unverified { signatures: 1 })
        );
    }

    #[test]
    fn duplicate_known_lines_are_each_verified() {
        let note = peter_note();
        let line = &note[TEXT.len() + 1..];
        let twice = [note.as_slice(), line].concat();
        let (_, verified) = open_peter(&twice).expect("two good lines");
        assert_eq!(verified.len(), 2);
    }

    #[test]
    fn ambiguous_known_keys() {
        let a = peter().verifier();
        let b = Verifier::from_ed25519(
            "PeterNeumann",
            KeyType::Ed25519,
            &Signer::from_seed("x", &[3; 32]).expect("ok").public_key(),
        )
        .expect("valid");
        // Force the same name and ID onto a different key: only possible by construction here.
        let forged = Verifier {
            key_id: a.key_id(),
            ..b
        };
        assert!(matches!(
            Note::open(&peter_note(), &[a.clone(), forged]),
            Err(NoteError::AmbiguousKey { .. })
        ));
        // The same key twice is one key.
        assert!(Note::open(&peter_note(), &[a.clone(), a]).is_ok());
    }

    #[test]
    fn bounds() {
        let note = peter_note();
        let line = &note[TEXT.len() + 1..];
        let mut max = note.clone();
        for _ in 1..MAX_SIGNATURES {
            max.extend_from_slice(line);
        }
        assert_eq!(
            Note::parse(&max).expect("128 lines").signatures.len(),
            MAX_SIGNATURES
        );
        max.extend_from_slice(line);
        assert_eq!(
            Note::parse(&max),
            Err(NoteError::TooManySignatures {
                count: 129,
                max: 128
            })
        );
        let mut huge = vec![b'x'; MAX_NOTE_SIZE];
        huge.extend_from_slice(&note);
        assert!(matches!(
            Note::parse(&huge),
            Err(NoteError::TooLarge { .. })
        ));
        let mut just_fits = vec![b'x'; MAX_NOTE_SIZE - note.len()];
        just_fits.extend_from_slice(&note);
        assert!(Note::parse(&just_fits).is_ok());
    }

    #[test]
    fn signature_lines() {
        let note = Note::parse(&peter_note()).expect("parses");
        let line = note.signatures[0].to_line();
        assert_eq!(
            NoteSignature::from_line(&line),
            Ok(note.signatures[0].clone())
        );
        let block = format!("{line}\n{line}\n");
        assert_eq!(
            NoteSignature::parse_lines(block.as_bytes())
                .expect("two lines")
                .len(),
            2
        );
        assert_eq!(
            NoteSignature::parse_lines(line.as_bytes()),
            Err(NoteError::MissingFinalNewline)
        );
        assert!(matches!(
            NoteSignature::from_line(&format!("{line}\n")),
            Err(NoteError::ControlCharacter { .. })
        ));
        assert!(matches!(
            NoteSignature::parse_lines(b"\n"),
            Err(NoteError::MalformedSignature { line: 1, .. })
        ));
    }

    #[test]
    fn errors_display() {
        let e = NoteError::InvalidSignature {
            line: 4,
            name: "k".into(),
            key_id: 0xab,
            fault: SignatureFault::Ed25519,
        };
        assert_eq!(e.to_string(), "line 4: signature by known key k (000000ab) is invalid: Ed25519 signature does not verify");
        assert_eq!(
            KeyType::Ed25519Cosignature.to_string(),
            "Ed25519 cosignature/v1 (0x04)"
        );
    }
}
