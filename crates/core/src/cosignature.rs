//! C2SP checkpoint cosignatures (<https://c2sp.org/tlog-cosignature>): witnesses and mirrors
//! sign a log's checkpoint, and verifiers require a quorum of them before trusting it.
//!
//! sijil signs and verifies the Ed25519 type (`0x04`, `cosignature/v1`). A cosignature line
//! is a note signature line whose signature is
//!
//! ```text
//! key ID (4 bytes) ‖ timestamp T (8 bytes, big-endian Unix seconds) ‖ Ed25519 signature (64 bytes)
//! ```
//!
//! over the message (c2sp.org/tlog-cosignature §Ed25519 signed message)
//!
//! ```text
//! cosignature/v1\n
//! time 1679315147\n
//! example.com/behind-the-sofa\n
//! 20852163\n
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n
//! ```
//!
//! that is, the header, the time line and the whole checkpoint text (extension lines
//! included). The key ID is computed with type byte `0x04`. The message does not commit to the
//! cosigner's name, so [`WitnessPolicy`] counts distinct public keys, not names.
//!
//! ML-DSA-44 cosignatures (`0x06`) are recognised by their key type and reported as not
//! checked; they never count toward a quorum (SPECS.md, tlog-cosignature).
//!
//! **Private key strings.** The spec defines no private key format. sijil writes
//! `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x04 ‖ 32-byte seed)>`, the key ID computed with
//! `0x04`: the format transparency-dev/formats `note.NewSignerForCosignatureV1` reads. It also
//! reads, as that function does, a plain Go `note.GenerateKey` string (type `0x01`, key ID
//! computed with `0x01`) and uses its key as a `0x04` cosigner. This module is pure: no I/O.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand_core::OsRng;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{
    check_new_key_name, find_verifier, format_private_key, key_id, parse_private_key,
    verify_ed25519, KeyError, KeyType, Note, NoteError, NoteSignature, SignatureFault, Verifier,
};

/// The first line of every `cosignature/v1` signed message, with its newline.
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1\n";

/// The largest cosignature timestamp, 2^63 − 1 (c2sp.org/tlog-cosignature §Format).
pub const MAX_TIMESTAMP: u64 = (1 << 63) - 1;

/// Length of a `0x04` signature after the key ID: 8-byte timestamp and 64-byte Ed25519.
const SIGNATURE_LENGTH: usize = 8 + 64;

/// Errors from cosigning, checking one cosignature, or checking a witness policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// [`cosign`] was asked to sign a text that is not a valid checkpoint.
    #[error("not a checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// [`cosign`] was given a timestamp of zero or above 2^63 − 1.
    #[error("cosignature timestamp {timestamp} is not between 1 and 2^63 - 1")]
    InvalidTimestamp {
        /// The rejected timestamp.
        timestamp: u64,
    },
    /// The key is not a cosigner key (`0x04` or `0x06`).
    #[error("key {name} is an {key_type} key, not a cosigner key (0x04 or 0x06)")]
    NotACosignerKey {
        /// The key name.
        name: String,
        /// Its type.
        key_type: KeyType,
    },
    /// The signature line names another key than the one given.
    #[error("signature line is by {name} ({key_id:08x}), not by {expected_name} ({expected_key_id:08x})")]
    KeyMismatch {
        /// Name on the line.
        name: String,
        /// Key ID on the line.
        key_id: u32,
        /// Name of the given key.
        expected_name: String,
        /// Key ID of the given key.
        expected_key_id: u32,
    },
    /// An ML-DSA-44 cosignature: recognised, not checked by sijil yet.
    #[error("cosignature by {name} ({key_id:08x}) is ML-DSA-44, which sijil does not check yet")]
    NotChecked {
        /// The cosigner name.
        name: String,
        /// Its key ID.
        key_id: u32,
    },
    /// A cosignature by a trusted key does not verify.
    #[error("line {line}: cosignature by {name} ({key_id:08x}) is invalid: {fault}")]
    Invalid {
        /// 1-based line number in the note (1 for a lone line).
        line: usize,
        /// The cosigner name.
        name: String,
        /// Its key ID.
        key_id: u32,
        /// Why it fails.
        fault: SignatureFault,
    },
    /// Two different trusted witness keys share a name and key ID.
    #[error("two different witness keys are named {name} with key ID {key_id:08x}")]
    AmbiguousKey {
        /// The shared name.
        name: String,
        /// The shared key ID.
        key_id: u32,
    },
    /// The policy asks for more cosignatures than it has distinct checkable witness keys.
    #[error("witness policy can never be met: quorum {quorum} but only {usable} distinct Ed25519 witness keys")]
    UnsatisfiablePolicy {
        /// The quorum asked for.
        quorum: usize,
        /// Distinct `0x04` keys in the policy.
        usable: usize,
    },
    /// Fewer valid cosignatures by distinct trusted witnesses than the quorum.
    #[error("witness quorum not met: {counted} of {quorum} required cosignatures verified ({not_checked} ML-DSA-44 cosignatures not checked)")]
    QuorumNotMet {
        /// Distinct trusted witnesses whose cosignature verified.
        counted: usize,
        /// The quorum.
        quorum: usize,
        /// Lines by trusted ML-DSA-44 witnesses, not checked and not counted.
        not_checked: usize,
    },
}

/// The message a `cosignature/v1` signs: `cosignature/v1\ntime <T>\n` then the checkpoint
/// text, T in decimal without leading zeros (c2sp.org/tlog-cosignature §Ed25519 signed
/// message).
pub fn cosigned_message(timestamp: u64, checkpoint_text: &[u8]) -> Vec<u8> {
    let head = format!("{COSIGNATURE_V1_HEADER}time {timestamp}\n");
    let mut m = Vec::with_capacity(head.len() + checkpoint_text.len());
    m.extend_from_slice(head.as_bytes());
    m.extend_from_slice(checkpoint_text);
    m
}

/// Verifies a `0x04` signature (after the key ID) over `text`; returns its timestamp.
pub(crate) fn verify_v1(
    vk: &VerifyingKey,
    text: &[u8],
    signature: &[u8],
) -> Result<u64, SignatureFault> {
    if signature.len() != SIGNATURE_LENGTH {
        return Err(SignatureFault::Length {
            length: signature.len(),
            expected: SIGNATURE_LENGTH,
        });
    }
    let (t, sig) = signature.split_at(8);
    let timestamp = u64::from_be_bytes(t.try_into().map_err(|_| SignatureFault::Length {
        length: signature.len(),
        expected: SIGNATURE_LENGTH,
    })?);
    if timestamp == 0 {
        return Err(SignatureFault::ZeroTimestamp);
    }
    if timestamp > MAX_TIMESTAMP {
        return Err(SignatureFault::TimestampTooLarge(timestamp));
    }
    verify_ed25519(vk, &cosigned_message(timestamp, text), sig)?;
    Ok(timestamp)
}

/// An Ed25519 checkpoint cosigner (type `0x04`): a witness or a mirror.
/// `Debug` shows the name, key ID and public key, never the seed.
#[derive(Clone)]
pub struct Cosigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Cosigner {
    /// A new cosigner key named `name` from the operating system's random generator.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`] if `name` is not a valid key name.
    pub fn generate(name: &str) -> Result<Cosigner, KeyError> {
        check_new_key_name(name)?;
        Ok(Cosigner::with_key(name, SigningKey::generate(&mut OsRng)))
    }

    /// The cosigner named `name` with the 32-byte Ed25519 seed `seed`.
    ///
    /// # Errors
    /// [`KeyError::InvalidName`] if `name` is not a valid key name.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Cosigner, KeyError> {
        check_new_key_name(name)?;
        Ok(Cosigner::with_key(name, SigningKey::from_bytes(seed)))
    }

    fn with_key(name: &str, key: SigningKey) -> Cosigner {
        let key_id = key_id(
            name,
            KeyType::Ed25519Cosignature.byte(),
            key.verifying_key().as_bytes(),
        );
        Cosigner {
            name: name.to_owned(),
            key_id,
            key,
        }
    }

    /// Parses `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x04 ‖ seed)>` (key ID computed with
    /// `0x04`), or a Go `note.GenerateKey` string with type `0x01` (key ID computed with
    /// `0x01`), whose key then cosigns under its `0x04` key ID.
    ///
    /// # Errors
    /// As [`crate::note::Signer::from_private_key`]; [`KeyError::WrongType`] for `0x06`.
    pub fn from_private_key(s: &str) -> Result<Cosigner, KeyError> {
        let k = parse_private_key(s, &[KeyType::Ed25519Cosignature, KeyType::Ed25519])?;
        Ok(Cosigner::with_key(&k.name, k.key))
    }

    /// `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x04 ‖ seed)>`. A secret: file mode 0600, never
    /// logged or printed.
    pub fn private_key_string(&self) -> String {
        format_private_key(
            &self.name,
            KeyType::Ed25519Cosignature,
            self.key_id,
            &self.key,
        )
    }

    /// The cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]`.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    /// The verifier: `<name>+<key ID hex>+<base64(0x04 ‖ public key)>`.
    pub fn verifier(&self) -> Verifier {
        // Invariant: the name was checked when the cosigner was made, the type is 0x04 and a
        // key derived from a seed is a canonical point of large order.
        Verifier::from_ed25519(&self.name, KeyType::Ed25519Cosignature, &self.public_key())
            .expect("a cosigner's own name and public key are valid")
    }

    /// Cosigns `checkpoint_text` at `timestamp` (see [`cosign`]).
    ///
    /// # Errors
    /// As [`cosign`].
    pub fn cosign(
        &self,
        checkpoint_text: &str,
        timestamp: u64,
    ) -> Result<NoteSignature, CosignatureError> {
        cosign(checkpoint_text, timestamp, self)
    }
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cosigner")
            .field("name", &self.name)
            .field("key_id", &format_args!("{:08x}", self.key_id))
            .field("public_key", &BASE64.encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

/// The `cosignature/v1` line of `cosigner` for the checkpoint text `checkpoint_text` (with its
/// final `\n`) at `timestamp` (Unix seconds): `— <name> base64(key ID ‖ T ‖ signature)`.
/// Append it to the checkpoint note ([`NoteSignature::to_line`], or
/// [`crate::checkpoint::SignedCheckpoint::add_cosignatures`]).
///
/// # Errors
/// [`CosignatureError::InvalidTimestamp`] unless 0 < `timestamp` ≤ 2^63 − 1;
/// [`CosignatureError::Checkpoint`] if the text is not a valid checkpoint (a cosigner states
/// something about a tree, so it signs nothing else).
pub fn cosign(
    checkpoint_text: &str,
    timestamp: u64,
    cosigner: &Cosigner,
) -> Result<NoteSignature, CosignatureError> {
    if timestamp == 0 || timestamp > MAX_TIMESTAMP {
        return Err(CosignatureError::InvalidTimestamp { timestamp });
    }
    Checkpoint::parse(checkpoint_text)?;
    let sig = cosigner
        .key
        .sign(&cosigned_message(timestamp, checkpoint_text.as_bytes()));
    let mut bytes = Vec::with_capacity(SIGNATURE_LENGTH);
    bytes.extend_from_slice(&timestamp.to_be_bytes());
    bytes.extend_from_slice(&sig.to_bytes());
    Ok(NoteSignature {
        name: cosigner.name.clone(),
        key_id: cosigner.key_id,
        bytes,
    })
}

/// Verifies one cosignature line against the cosigner key `verifier` over `checkpoint_text`
/// (the note text, with its final `\n`); returns its timestamp T (Unix seconds). A verifier
/// may also reject T in the future: compare it with the clock at the edge.
///
/// # Errors
/// [`CosignatureError::NotACosignerKey`] for a `0x01` key; [`CosignatureError::NotChecked`]
/// for `0x06`; [`CosignatureError::KeyMismatch`] if the line's name or key ID is not the
/// key's; [`CosignatureError::Invalid`] (line 1) with [`SignatureFault::Length`],
/// [`SignatureFault::ZeroTimestamp`], [`SignatureFault::TimestampTooLarge`] or
/// [`SignatureFault::Ed25519`].
pub fn verify_cosignature(
    signature: &NoteSignature,
    checkpoint_text: &str,
    verifier: &Verifier,
) -> Result<u64, CosignatureError> {
    check_cosigner_key(verifier)?;
    if !verifier.matches(signature) {
        return Err(CosignatureError::KeyMismatch {
            name: signature.name.clone(),
            key_id: signature.key_id,
            expected_name: verifier.name().to_owned(),
            expected_key_id: verifier.key_id(),
        });
    }
    check_line(verifier, checkpoint_text.as_bytes(), signature, 1)
}

fn check_cosigner_key(v: &Verifier) -> Result<(), CosignatureError> {
    match v.key_type() {
        KeyType::Ed25519Cosignature | KeyType::MlDsa44Cosignature => Ok(()),
        key_type => Err(CosignatureError::NotACosignerKey {
            name: v.name().to_owned(),
            key_type,
        }),
    }
}

fn check_line(
    v: &Verifier,
    text: &[u8],
    sig: &NoteSignature,
    line: usize,
) -> Result<u64, CosignatureError> {
    match v.verify(text, &sig.bytes) {
        Ok(Some(timestamp)) => Ok(timestamp),
        Err(SignatureFault::NotSupported) => Err(CosignatureError::NotChecked {
            name: sig.name.clone(),
            key_id: sig.key_id,
        }),
        // `Ok(None)` is a 0x01 signature, excluded by `check_cosigner_key`; report it as the
        // wrong kind of key rather than trust it.
        Ok(None) => Err(CosignatureError::NotACosignerKey {
            name: v.name().to_owned(),
            key_type: v.key_type(),
        }),
        Err(fault) => Err(CosignatureError::Invalid {
            line,
            name: sig.name.clone(),
            key_id: sig.key_id,
            fault,
        }),
    }
}

/// Which witnesses a verifier trusts and how many of them must have cosigned a checkpoint
/// (k of n, c2sp.org/tlog-proof §Verifying step 3). Witness keys are `0x04` (checked) or
/// `0x06` (recognised, never counted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessPolicy {
    /// The trusted cosigner keys.
    pub witnesses: Vec<Verifier>,
    /// How many distinct witnesses must have cosigned.
    pub quorum: usize,
}

/// A verified cosignature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessCosignature {
    /// Index into [`Note::signatures`].
    pub index: usize,
    /// The witness name.
    pub name: String,
    /// Its key ID.
    pub key_id: u32,
    /// When it cosigned (Unix seconds).
    pub timestamp: u64,
}

/// A line by a trusted ML-DSA-44 witness: reported, not checked, not counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UncheckedCosignature {
    /// Index into [`Note::signatures`].
    pub index: usize,
    /// The witness name.
    pub name: String,
    /// Its key ID.
    pub key_id: u32,
}

/// What [`WitnessPolicy::check`] found in a note whose quorum is met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessReport {
    /// Every verified line by a trusted witness, in note order.
    pub cosignatures: Vec<WitnessCosignature>,
    /// Lines by trusted ML-DSA-44 witnesses, not checked.
    pub not_checked: Vec<UncheckedCosignature>,
    /// Distinct witness public keys with a verified cosignature (what the quorum counts).
    pub counted: usize,
    /// The policy's quorum.
    pub quorum: usize,
}

impl WitnessPolicy {
    /// A policy requiring `quorum` of `witnesses`, checked as [`WitnessPolicy::check`] does.
    ///
    /// # Errors
    /// [`CosignatureError::NotACosignerKey`], [`CosignatureError::UnsatisfiablePolicy`].
    pub fn new(witnesses: Vec<Verifier>, quorum: usize) -> Result<WitnessPolicy, CosignatureError> {
        let p = WitnessPolicy { witnesses, quorum };
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), CosignatureError> {
        self.witnesses.iter().try_for_each(check_cosigner_key)?;
        let mut keys: Vec<&[u8]> = self
            .witnesses
            .iter()
            .filter(|w| w.key_type() == KeyType::Ed25519Cosignature)
            .map(Verifier::public_key)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        if self.quorum > keys.len() {
            return Err(CosignatureError::UnsatisfiablePolicy {
                quorum: self.quorum,
                usable: keys.len(),
            });
        }
        Ok(())
    }

    /// Checks the cosignatures of `note` (a cosigned checkpoint, whose log signature the caller
    /// checks separately, e.g. with [`crate::checkpoint::SignedCheckpoint::open`]).
    ///
    /// Lines that do not match a trusted witness by name and key ID are ignored (the log's own
    /// line, Sunlight's `0x05` line, unknown witnesses). A line that does must verify, or the
    /// note is rejected, as c2sp.org/signed-note §Signatures asks. Lines by `0x06` witnesses
    /// are listed as not checked. Valid cosignatures count once per distinct public key: the
    /// `cosignature/v1` message does not commit to the name, so one key listed under two
    /// names is one witness.
    ///
    /// # Errors
    /// [`CosignatureError::NotACosignerKey`] or [`CosignatureError::UnsatisfiablePolicy`] for a
    /// bad policy; [`CosignatureError::AmbiguousKey`]; [`CosignatureError::Invalid`] for the
    /// first trusted line that fails; [`CosignatureError::QuorumNotMet`].
    pub fn check(&self, note: &Note) -> Result<WitnessReport, CosignatureError> {
        self.validate()?;
        let mut cosignatures = Vec::new();
        let mut not_checked = Vec::new();
        let mut keys: Vec<&[u8]> = Vec::new();
        for (index, sig) in note.signatures.iter().enumerate() {
            let found = find_verifier(&self.witnesses, sig).map_err(|e| match e {
                NoteError::AmbiguousKey { name, key_id } => {
                    CosignatureError::AmbiguousKey { name, key_id }
                }
                // `find_verifier` returns no other error.
                _ => CosignatureError::AmbiguousKey {
                    name: sig.name.clone(),
                    key_id: sig.key_id,
                },
            })?;
            let Some((_, w)) = found else {
                continue;
            };
            let line = note.signature_line_number(index);
            match check_line(w, note.text.as_bytes(), sig, line) {
                Ok(timestamp) => {
                    cosignatures.push(WitnessCosignature {
                        index,
                        name: sig.name.clone(),
                        key_id: sig.key_id,
                        timestamp,
                    });
                    if !keys.contains(&w.public_key()) {
                        keys.push(w.public_key());
                    }
                }
                Err(CosignatureError::NotChecked { name, key_id }) => {
                    not_checked.push(UncheckedCosignature {
                        index,
                        name,
                        key_id,
                    })
                }
                Err(e) => return Err(e),
            }
        }
        if keys.len() < self.quorum {
            return Err(CosignatureError::QuorumNotMet {
                counted: keys.len(),
                quorum: self.quorum,
                not_checked: not_checked.len(),
            });
        }
        Ok(WitnessReport {
            cosignatures,
            not_checked,
            counted: keys.len(),
            quorum: self.quorum,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::{Checkpoint, SignedCheckpoint};
    use crate::note::{Signer, ML_DSA_44_PUBLIC_KEY_LENGTH};
    use crate::sha256;

    const T: u64 = 1_767_139_200;

    fn checkpoint() -> SignedCheckpoint {
        let log = Signer::from_seed("example.com/log", &[1; 32]).expect("valid");
        SignedCheckpoint::sign(
            Checkpoint::new("example.com/log", 300, sha256(b"root")),
            &log,
        )
        .expect("signs")
    }

    fn witness(n: u8) -> Cosigner {
        Cosigner::from_seed(&format!("w{n}.example"), &[n; 32]).expect("valid")
    }

    fn ml_dsa_verifier(name: &str) -> Verifier {
        let mut raw = vec![6u8];
        raw.extend_from_slice(&[6u8; ML_DSA_44_PUBLIC_KEY_LENGTH]);
        let id = key_id(name, 6, &raw[1..]);
        Verifier::parse(&format!("{name}+{id:08x}+{}", BASE64.encode(&raw)))
            .expect("valid ML-DSA-44 vkey")
    }

    #[test]
    fn cosign_and_verify() {
        let cp = checkpoint();
        let w = witness(1);
        let line = w.cosign(&cp.note.text, T).expect("cosigns");
        assert_eq!(line.bytes.len(), 72);
        assert_eq!(&line.bytes[..8], &T.to_be_bytes());
        assert_eq!(
            verify_cosignature(&line, &cp.note.text, &w.verifier()),
            Ok(T)
        );
        // Deterministic: same input, same line.
        assert_eq!(w.cosign(&cp.note.text, T), Ok(line.clone()));
        // Another text, another timestamp (a different signed message).
        let other = cp.note.text.replace("300", "301");
        assert!(matches!(
            verify_cosignature(&line, &other, &w.verifier()),
            Err(CosignatureError::Invalid {
                fault: SignatureFault::Ed25519,
                ..
            })
        ));
        let mut moved = line.clone();
        moved.bytes[7] ^= 1;
        assert!(matches!(
            verify_cosignature(&moved, &cp.note.text, &w.verifier()),
            Err(CosignatureError::Invalid {
                fault: SignatureFault::Ed25519,
                ..
            })
        ));
    }

    #[test]
    fn cosign_rejects() {
        let w = witness(1);
        let text = checkpoint().note.text;
        assert_eq!(
            w.cosign(&text, 0),
            Err(CosignatureError::InvalidTimestamp { timestamp: 0 })
        );
        assert_eq!(
            w.cosign(&text, 1 << 63),
            Err(CosignatureError::InvalidTimestamp { timestamp: 1 << 63 })
        );
        assert!(w.cosign(&text, MAX_TIMESTAMP).is_ok());
        assert!(matches!(
            w.cosign("not a checkpoint\n", T),
            Err(CosignatureError::Checkpoint(_))
        ));
    }

    #[test]
    fn verify_rejects_bad_timestamps_and_lengths() {
        let text = checkpoint().note.text;
        let w = witness(1);
        let v = w.verifier();
        // A signature that is otherwise valid over T = 0 (signed by hand).
        let sign_at = |t: u64| {
            let mut bytes = t.to_be_bytes().to_vec();
            bytes.extend_from_slice(&w.key.sign(&cosigned_message(t, text.as_bytes())).to_bytes());
            NoteSignature {
                name: w.name().into(),
                key_id: w.key_id(),
                bytes,
            }
        };
        assert!(matches!(
            verify_cosignature(&sign_at(0), &text, &v),
            Err(CosignatureError::Invalid {
                fault: SignatureFault::ZeroTimestamp,
                ..
            })
        ));
        assert!(matches!(
            verify_cosignature(&sign_at(1 << 63), &text, &v),
            Err(CosignatureError::Invalid {
                fault: SignatureFault::TimestampTooLarge(_),
                ..
            })
        ));
        let mut short = sign_at(T);
        short.bytes.pop();
        assert!(matches!(
            verify_cosignature(&short, &text, &v),
            Err(CosignatureError::Invalid {
                fault: SignatureFault::Length {
                    length: 71,
                    expected: 72
                },
                ..
            })
        ));
    }

    #[test]
    fn verify_checks_the_key() {
        let text = checkpoint().note.text;
        let line = witness(1).cosign(&text, T).expect("cosigns");
        assert!(matches!(
            verify_cosignature(&line, &text, &witness(2).verifier()),
            Err(CosignatureError::KeyMismatch { .. })
        ));
        let log = Signer::from_seed("w1.example", &[1; 32])
            .expect("valid")
            .verifier();
        assert!(matches!(
            verify_cosignature(&line, &text, &log),
            Err(CosignatureError::NotACosignerKey { .. })
        ));
        let ml = ml_dsa_verifier("w1.example");
        let ml_line = NoteSignature {
            name: "w1.example".into(),
            key_id: ml.key_id(),
            bytes: vec![0; 2428],
        };
        assert!(matches!(
            verify_cosignature(&ml_line, &text, &ml),
            Err(CosignatureError::NotChecked { .. })
        ));
    }

    #[test]
    fn cosigner_key_strings() {
        let w = witness(5);
        let s = w.private_key_string();
        assert!(
            s.starts_with(&format!("PRIVATE+KEY+w5.example+{:08x}+BA", w.key_id())),
            "{s}"
        );
        let again = Cosigner::from_private_key(&s).expect("round trip");
        assert_eq!(
            (again.key_id(), again.public_key()),
            (w.key_id(), w.public_key())
        );
        assert_eq!(again.private_key_string(), s);
        // A Go note.GenerateKey (0x01) string for the same seed gives the same cosigner.
        let go = Signer::from_seed("w5.example", &[5; 32])
            .expect("valid")
            .private_key_string();
        let from_go = Cosigner::from_private_key(&go).expect("0x01 accepted");
        assert_eq!(
            (from_go.key_id(), from_go.public_key()),
            (w.key_id(), w.public_key())
        );
        assert_eq!(
            Cosigner::from_private_key(&w.verifier().to_string()).err(),
            Some(KeyError::PublicKeyGiven)
        );
        let debug = format!("{w:?}");
        assert!(!debug.contains(&s[s.len() - 20..]), "{debug}");
        assert_eq!(w.verifier().key_type(), KeyType::Ed25519Cosignature);
    }

    #[test]
    fn note_open_with_cosigner_keys() {
        let mut cp = checkpoint();
        let (w1, w2) = (witness(1), witness(2));
        cp.add_cosignatures([
            w1.cosign(&cp.note.text, T).expect("ok"),
            w2.cosign(&cp.note.text, T + 1).expect("ok"),
        ])
        .expect("fits");
        let (_, verified) =
            Note::open(&cp.bytes, &[w2.verifier()]).expect("a 0x04 key verifies its line");
        assert_eq!(verified.len(), 1);
        assert_eq!(verified[0].timestamp, Some(T + 1));
        assert_eq!(verified[0].index, 2);
    }

    #[test]
    fn policy_counts_distinct_trusted_witnesses() {
        let mut cp = checkpoint();
        let (w1, w2, w3) = (witness(1), witness(2), witness(3));
        let text = cp.note.text.clone();
        let unknown = witness(9);
        let ml = ml_dsa_verifier("pq.example");
        cp.add_cosignatures([
            w1.cosign(&text, T).expect("ok"),
            unknown.cosign(&text, T).expect("ok"),
            w2.cosign(&text, T).expect("ok"),
            NoteSignature {
                name: "pq.example".into(),
                key_id: ml.key_id(),
                bytes: vec![0; 2428],
            },
        ])
        .expect("fits");
        let all = vec![w1.verifier(), w2.verifier(), w3.verifier(), ml.clone()];
        let report = WitnessPolicy::new(all.clone(), 2)
            .expect("valid")
            .check(&cp.note)
            .expect("2 of 3");
        assert_eq!(report.counted, 2);
        assert_eq!(
            report
                .cosignatures
                .iter()
                .map(|c| c.index)
                .collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(
            report.not_checked,
            vec![UncheckedCosignature {
                index: 4,
                name: "pq.example".into(),
                key_id: ml.key_id()
            }]
        );
        assert_eq!(
            WitnessPolicy::new(all.clone(), 3)
                .expect("valid")
                .check(&cp.note),
            Err(CosignatureError::QuorumNotMet {
                counted: 2,
                quorum: 3,
                not_checked: 1
            })
        );
        // ML-DSA-44 keys never make a quorum reachable.
        assert_eq!(
            WitnessPolicy::new(all, 4).err(),
            Some(CosignatureError::UnsatisfiablePolicy {
                quorum: 4,
                usable: 3
            })
        );
        // One key under two names counts once.
        let alias = Verifier::from_ed25519(
            "alias.example",
            KeyType::Ed25519Cosignature,
            &w1.public_key(),
        )
        .expect("ok");
        let mut aliased = cp.clone();
        let mut line = w1.cosign(&text, T).expect("ok");
        line.name = "alias.example".into();
        line.key_id = alias.key_id();
        aliased.add_cosignatures([line]).expect("fits");
        let policy = WitnessPolicy {
            witnesses: vec![w1.verifier(), alias],
            quorum: 2,
        };
        assert!(matches!(
            policy.check(&aliased.note),
            Err(CosignatureError::UnsatisfiablePolicy { usable: 1, .. })
        ));
        let policy = WitnessPolicy {
            witnesses: policy.witnesses,
            quorum: 1,
        };
        assert_eq!(policy.check(&aliased.note).expect("1 of 1").counted, 1);
        // Quorum 0 is met by anything.
        assert!(WitnessPolicy::new(vec![], 0)
            .expect("valid")
            .check(&cp.note)
            .is_ok());
    }

    #[test]
    fn policy_rejects_bad_trusted_lines_and_log_keys() {
        let mut cp = checkpoint();
        let w1 = witness(1);
        let mut bad = w1.cosign(&cp.note.text, T).expect("ok");
        bad.bytes[20] ^= 1;
        cp.add_cosignatures([bad]).expect("fits");
        let policy = WitnessPolicy::new(vec![w1.verifier()], 1).expect("valid");
        assert!(matches!(
            policy.check(&cp.note),
            Err(CosignatureError::Invalid { line: 6, .. })
        ));
        let log_key = Signer::from_seed("x", &[1; 32]).expect("ok").verifier();
        assert!(matches!(
            WitnessPolicy::new(vec![log_key], 0),
            Err(CosignatureError::NotACosignerKey { .. })
        ));
    }
}
