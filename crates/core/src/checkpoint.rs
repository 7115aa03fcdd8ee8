//! C2SP checkpoints (<https://c2sp.org/tlog-checkpoint>): the signed statement of a log's
//! tree size and root hash.
//!
//! The checkpoint is the text of a signed note ([`crate::note`]):
//!
//! ```text
//! example.com/behind-the-sofa\n                      origin
//! 20852163\n                                         tree size, decimal, no leading zeros
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n     root hash, base64 of 32 bytes
//! \n
//! — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n
//! ```
//!
//! Extension lines may follow the root hash; sijil parses them but writes none (the spec
//! calls them not auditable). Witness cosignatures are further signature lines
//! ([`SignedCheckpoint::add_cosignatures`], [`crate::cosignature`]). This module is pure.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::hash::Hash;
use crate::note::{
    sign_note, KeyType, Note, NoteError, NoteSignature, Signer, Verifier, MAX_NOTE_SIZE,
    MAX_SIGNATURES,
};

/// Errors from parsing, signing or opening a checkpoint. Parse errors name the line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The signed note around the checkpoint is malformed or does not verify. (Its message is
    /// the note's: callers say "checkpoint" around it.)
    #[error(transparent)]
    Note(#[from] NoteError),
    /// The checkpoint has no signature by the log key given, and names another origin than
    /// the one that key is for: the key of another log, or the checkpoint of another log.
    #[error("the checkpoint is for origin {origin:?}, but the key given ({key}) is for origin {expected:?}: it is not this log's key, and the checkpoint has no signature by it")]
    OtherLog {
        /// The checkpoint's origin (at most 64 characters of it).
        origin: String,
        /// The origin the caller trusts the key for (the key's name, usually).
        expected: String,
        /// The key given, `name+keyid` (no key material).
        key: String,
    },
    /// The text does not end in `\n`.
    #[error("checkpoint text does not end with a newline")]
    MissingFinalNewline,
    /// Fewer than the three lines origin, size, root hash.
    #[error("checkpoint text has {lines} lines, at least 3 are needed (origin, size, root hash)")]
    TooFewLines {
        /// Lines found.
        lines: usize,
    },
    /// Line 1, the origin, is empty.
    #[error("line 1: the origin is empty")]
    EmptyOrigin,
    /// A control character (for a field being written: also `\n`) in a line.
    #[error("line {line}: control character 0x{byte:02x}")]
    ControlCharacter {
        /// 1-based line number.
        line: usize,
        /// The control byte.
        byte: u8,
    },
    /// Line 2 is not a canonical decimal below 2^64.
    #[error("line 2: tree size {value:?} is not a canonical decimal (digits only, no leading zeros, below 2^64)")]
    InvalidSize {
        /// The line (at most 64 characters of it).
        value: String,
    },
    /// Line 3 is not the canonical base64 of 32 bytes.
    #[error("line 3: root hash {value:?} {reason}")]
    InvalidRoot {
        /// The line (at most 64 characters of it).
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An extension line is empty (c2sp.org/tlog-checkpoint: extension lines MUST be
    /// non-empty).
    #[error("line {line}: empty extension line")]
    EmptyExtensionLine {
        /// 1-based line number.
        line: usize,
    },
    /// The origin is not the one expected for this log key.
    #[error("checkpoint origin {origin:?} is not the expected {expected:?}")]
    OriginMismatch {
        /// The checkpoint's origin (at most 64 characters of it).
        origin: String,
        /// The origin the caller trusts.
        expected: String,
    },
    /// The key given as the log's is not an Ed25519 note key (`0x01`).
    #[error("key {name} is an {key_type} key, not a log key (Ed25519, 0x01)")]
    NotALogKey {
        /// The key name.
        name: String,
        /// Its type.
        key_type: KeyType,
    },
}

/// At most 64 characters of untrusted input, for error messages.
fn excerpt(s: &str) -> String {
    s.chars().take(64).collect()
}

/// The body of a checkpoint (c2sp.org/tlog-checkpoint §Note text).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    /// The log's identity, conventionally a schema-less URL (`registre.example.ma/plaintes`).
    pub origin: String,
    /// The number of leaves in the tree.
    pub size: u64,
    /// The RFC 6962 root hash at `size` (`SHA-256("")` for the empty tree).
    pub root: Hash,
    /// Extension lines, without their `\n`. sijil writes none.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines, as sijil writes them.
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text: `<origin>\n<size>\n<base64 root>\n`, then each extension line and `\n`.
    /// For a valid checkpoint ([`Checkpoint::check`]), [`Checkpoint::parse`] gives it back.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Checks that the fields can be written as a checkpoint that parses back to them: a
    /// non-empty origin and non-empty extension lines without control characters (`\n`
    /// included).
    ///
    /// # Errors
    /// [`CheckpointError::EmptyOrigin`], [`CheckpointError::ControlCharacter`],
    /// [`CheckpointError::EmptyExtensionLine`].
    pub fn check(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        check_line(&self.origin, 1)?;
        for (i, e) in self.extensions.iter().enumerate() {
            if e.is_empty() {
                return Err(CheckpointError::EmptyExtensionLine { line: 4 + i });
            }
            check_line(e, 4 + i)?;
        }
        Ok(())
    }

    /// Parses a checkpoint text (the note text, with its final `\n`).
    ///
    /// Strict, as c2sp.org/tlog-checkpoint and Go's `tlog.ParseTree` are: the size is
    /// re-formatted and compared (so `007`, `+7`, ` 7` and `-0` fail), the root hash must be
    /// the canonical base64 of exactly 32 bytes. Unlike `ParseTree`, lines after the root are
    /// kept as extension lines and must be non-empty.
    ///
    /// # Errors
    /// [`CheckpointError::ControlCharacter`] (line), [`CheckpointError::MissingFinalNewline`],
    /// [`CheckpointError::TooFewLines`], [`CheckpointError::EmptyOrigin`],
    /// [`CheckpointError::InvalidSize`], [`CheckpointError::InvalidRoot`],
    /// [`CheckpointError::EmptyExtensionLine`].
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let Some(body) = text.strip_suffix('\n') else {
            return Err(CheckpointError::MissingFinalNewline);
        };
        let lines: Vec<&str> = body.split('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            check_line(line, i + 1)?;
        }
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines { lines: lines.len() });
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_decimal(size).ok_or_else(|| CheckpointError::InvalidSize {
            value: excerpt(size),
        })?;
        let root = parse_root(root)?;
        if let Some(i) = extensions.iter().position(|e| e.is_empty()) {
            return Err(CheckpointError::EmptyExtensionLine { line: 4 + i });
        }
        Ok(Checkpoint {
            origin: (*origin).to_owned(),
            size,
            root,
            extensions: extensions.iter().map(|e| (*e).to_owned()).collect(),
        })
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn check_line(line: &str, number: usize) -> Result<(), CheckpointError> {
    match line.bytes().find(|&b| b < 0x20) {
        Some(byte) => Err(CheckpointError::ControlCharacter { line: number, byte }),
        None => Ok(()),
    }
}

/// A canonical ASCII decimal: digits only, no leading zeros unless it is `0`, below 2^64.
/// Re-formatting and comparing rejects every other spelling (Go's `tlog.ParseTree` does the
/// same); shared with [`crate::proof_text`].
pub(crate) fn parse_decimal(s: &str) -> Option<u64> {
    let n: u64 = s.parse().ok()?;
    (n.to_string() == s).then_some(n)
}

fn parse_root(s: &str) -> Result<Hash, CheckpointError> {
    let bad = |reason| CheckpointError::InvalidRoot {
        value: excerpt(s),
        reason,
    };
    let raw = BASE64
        .decode(s)
        .map_err(|_| bad("is not canonical base64"))?;
    let bytes: [u8; 32] = raw.try_into().map_err(|_| bad("is not 32 bytes"))?;
    Ok(Hash(bytes))
}

/// A checkpoint with its signed note: what a log publishes at `/checkpoint`.
///
/// `bytes` are the note's bytes exactly (`note.to_bytes() == bytes`); `checkpoint` is parsed
/// from `note.text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed body.
    pub checkpoint: Checkpoint,
    /// The note: text and every signature line (log, witnesses, unknown).
    pub note: Note,
    /// The note's bytes.
    pub bytes: Vec<u8>,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with the log key `signer` (one Ed25519 line).
    ///
    /// The log key's name should be the origin (c2sp.org/tlog-checkpoint §Signatures; sijil
    /// always does so); this function signs whatever it is given.
    ///
    /// # Errors
    /// [`Checkpoint::check`]'s errors for fields that would not parse back.
    pub fn sign(
        checkpoint: Checkpoint,
        signer: &Signer,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        checkpoint.check()?;
        let bytes = sign_note(&checkpoint.to_text(), &[signer])?;
        let note = Note::parse(&bytes)?;
        Ok(SignedCheckpoint {
            checkpoint,
            note,
            bytes,
        })
    }

    /// Opens a checkpoint signed by the log key `log_verifier` (type `0x01`) whose origin is
    /// the key's name, as c2sp.org/tlog-checkpoint recommends and sijil does. For a log whose
    /// key name differs from its origin, use [`SignedCheckpoint::open_for_origin`].
    ///
    /// Other signature lines (cosignatures, a Sunlight `0x05` line, a rotated key) are
    /// ignored here, kept in `note`, and checked with [`crate::cosignature::WitnessPolicy`].
    ///
    /// # Errors
    /// [`CheckpointError::NotALogKey`]; [`CheckpointError::Note`] with the errors of
    /// [`Note::open`] (malformed note, invalid log signature, no log signature); the errors of
    /// [`Checkpoint::parse`]; [`CheckpointError::OriginMismatch`].
    pub fn open(
        bytes: &[u8],
        log_verifier: &Verifier,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        SignedCheckpoint::open_for_origin(bytes, log_verifier.name(), log_verifier)
    }

    /// Opens a checkpoint signed by `log_verifier` (type `0x01`) whose origin must be
    /// `origin` (c2sp.org/tlog-proof §Verifying step 2: the origin is acceptable and signed by
    /// a key configured for it). For logs whose key name is not the origin, such as Go's
    /// checksum database (origin `go.sum database tree`, key `sum.golang.org`).
    ///
    /// # Errors
    /// As [`SignedCheckpoint::open`].
    pub fn open_for_origin(
        bytes: &[u8],
        origin: &str,
        log_verifier: &Verifier,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        if log_verifier.key_type() != KeyType::Ed25519 {
            return Err(CheckpointError::NotALogKey {
                name: log_verifier.name().to_owned(),
                key_type: log_verifier.key_type(),
            });
        }
        let (note, _) = match Note::open(bytes, std::slice::from_ref(log_verifier)) {
            Ok(opened) => opened,
            Err(e @ NoteError::Unverified { .. }) => {
                // Not signed by this key: say so plainly when it is another log's checkpoint.
                if let Some(other) = Note::parse(bytes)
                    .ok()
                    .and_then(|n| Checkpoint::parse(&n.text).ok())
                    .filter(|c| c.origin != origin)
                {
                    return Err(CheckpointError::OtherLog {
                        origin: excerpt(&other.origin),
                        expected: origin.to_owned(),
                        key: format!("{}+{:08x}", log_verifier.name(), log_verifier.key_id()),
                    });
                }
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        let checkpoint = Checkpoint::parse(&note.text)?;
        if checkpoint.origin != origin {
            return Err(CheckpointError::OriginMismatch {
                origin: excerpt(&checkpoint.origin),
                expected: origin.to_owned(),
            });
        }
        Ok(SignedCheckpoint {
            checkpoint,
            note,
            bytes: bytes.to_vec(),
        })
    }

    /// Appends signature lines (witness cosignatures) to the note and re-encodes `bytes`. A
    /// new line replaces an existing one with the same name and key ID, as Go's `note.Sign`
    /// does, so a newer cosignature by a witness supersedes its older one. Nothing is verified.
    ///
    /// # Errors
    /// [`NoteError::TooManySignatures`] or [`NoteError::TooLarge`] (as
    /// [`CheckpointError::Note`]) if the note would no longer parse; it is then unchanged.
    pub fn add_cosignatures(
        &mut self,
        lines: impl IntoIterator<Item = NoteSignature>,
    ) -> Result<(), CheckpointError> {
        let mut note = self.note.clone();
        for line in lines {
            note.signatures
                .retain(|s| !(s.name == line.name && s.key_id == line.key_id));
            note.signatures.push(line);
        }
        if note.signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                count: note.signatures.len(),
                max: MAX_SIGNATURES,
            }
            .into());
        }
        let bytes = note.to_bytes();
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size: bytes.len(),
                max: MAX_NOTE_SIZE,
            }
            .into());
        }
        self.note = note;
        self.bytes = bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{empty_root, sha256};
    use proptest::prelude::*;

    const ORIGIN: &str = "registre.example.ma/plaintes";

    fn log() -> Signer {
        Signer::from_seed(ORIGIN, &[42; 32]).expect("valid name")
    }

    fn text(size: &str, root: &str) -> String {
        format!("{ORIGIN}\n{size}\n{root}\n")
    }

    #[test]
    fn round_trip() {
        let cp = Checkpoint::new(ORIGIN, 20852163, sha256(b"x"));
        assert_eq!(Checkpoint::parse(&cp.to_text()), Ok(cp.clone()));
        let empty = Checkpoint::new(ORIGIN, 0, empty_root());
        assert_eq!(
            empty.to_text(),
            format!("{ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n")
        );
        let mut ext = cp;
        ext.extensions = vec!["ext one".into(), "— two".into()];
        assert_eq!(Checkpoint::parse(&ext.to_text()), Ok(ext));
    }

    #[test]
    fn size_must_be_canonical() {
        let root = sha256(b"x").to_base64();
        for bad in [
            "007",
            "+7",
            "-0",
            "-1",
            " 7",
            "7 ",
            "",
            "0x10",
            "1e3",
            "18446744073709551616",
            "٣",
        ] {
            assert_eq!(
                Checkpoint::parse(&text(bad, &root)),
                Err(CheckpointError::InvalidSize { value: bad.into() }),
                "{bad:?}"
            );
        }
        assert_eq!(
            Checkpoint::parse(&text("18446744073709551615", &root)).map(|c| c.size),
            Ok(u64::MAX)
        );
        assert_eq!(Checkpoint::parse(&text("0", &root)).map(|c| c.size), Ok(0));
    }

    #[test]
    fn root_must_be_canonical_32_bytes() {
        let good = sha256(b"x").to_base64();
        let short = BASE64.encode([1u8; 31]);
        let long = BASE64.encode([1u8; 33]);
        let unpadded = good.trim_end_matches('=').to_owned();
        // The last character before '=' carries 2 unused bits, zero in canonical base64; set one.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut stray = good.clone().into_bytes();
        let value = ALPHABET
            .iter()
            .position(|&c| c == stray[42])
            .expect("a base64 character");
        stray[42] = ALPHABET[value | 1];
        let stray = String::from_utf8(stray).expect("ascii");
        for (bad, reason) in [
            (short.as_str(), "is not 32 bytes"),
            (long.as_str(), "is not 32 bytes"),
            ("ZG9uJ3QgY2FyZSAx", "is not 32 bytes"),
            ("", "is not 32 bytes"),
            (unpadded.as_str(), "is not canonical base64"),
            (stray.as_str(), "is not canonical base64"),
            (
                "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwB-0=",
                "is not canonical base64",
            ),
        ] {
            let expect = CheckpointError::InvalidRoot {
                value: bad.into(),
                reason,
            };
            assert_eq!(Checkpoint::parse(&text("1", bad)), Err(expect), "{bad:?}");
        }
        assert!(Checkpoint::parse(&text("1", &good)).is_ok());
    }

    #[test]
    fn structure() {
        let root = sha256(b"x").to_base64();
        assert_eq!(
            Checkpoint::parse(&format!("{ORIGIN}\n1\n{root}")),
            Err(CheckpointError::MissingFinalNewline)
        );
        assert_eq!(
            Checkpoint::parse(&format!("{ORIGIN}\n1\n")),
            Err(CheckpointError::TooFewLines { lines: 2 })
        );
        assert_eq!(
            Checkpoint::parse(""),
            Err(CheckpointError::MissingFinalNewline)
        );
        assert_eq!(
            Checkpoint::parse(&format!("\n1\n{root}\n")),
            Err(CheckpointError::EmptyOrigin)
        );
        assert_eq!(
            Checkpoint::parse(&format!("{ORIGIN}\n1\n{root}\next\n\n")),
            Err(CheckpointError::EmptyExtensionLine { line: 5 })
        );
        assert_eq!(
            Checkpoint::parse(&format!("{ORIGIN}\r\n1\n{root}\n")),
            Err(CheckpointError::ControlCharacter {
                line: 1,
                byte: b'\r'
            })
        );
        let cp = Checkpoint::parse(&format!("{ORIGIN}\n1\n{root}\next\n")).expect("extension line");
        assert_eq!(cp.extensions, vec!["ext".to_owned()]);
    }

    #[test]
    fn check_rejects_unwritable_fields() {
        let root = sha256(b"x");
        assert_eq!(
            Checkpoint::new("", 1, root).check(),
            Err(CheckpointError::EmptyOrigin)
        );
        assert_eq!(
            Checkpoint::new("a\nb", 1, root).check(),
            Err(CheckpointError::ControlCharacter {
                line: 1,
                byte: b'\n'
            })
        );
        let mut cp = Checkpoint::new("a", 1, root);
        cp.extensions = vec!["x".into(), String::new()];
        assert_eq!(
            cp.check(),
            Err(CheckpointError::EmptyExtensionLine { line: 5 })
        );
        assert!(SignedCheckpoint::sign(cp, &log()).is_err());
    }

    #[test]
    fn sign_and_open() {
        let cp = Checkpoint::new(ORIGIN, 12, sha256(b"root"));
        let signed = SignedCheckpoint::sign(cp.clone(), &log()).expect("signs");
        assert_eq!(signed.note.to_bytes(), signed.bytes);
        let opened = SignedCheckpoint::open(&signed.bytes, &log().verifier()).expect("opens");
        assert_eq!(opened, signed);
        assert_eq!(opened.checkpoint, cp);
    }

    #[test]
    fn issue9_a_key_of_another_log_is_named_as_such() {
        let signed = SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 1, sha256(b"r")), &log())
            .expect("signs");
        let other = Signer::from_seed("other.example/log", &[1; 32]).expect("valid");
        let err = SignedCheckpoint::open(&signed.bytes, &other.verifier()).expect_err("no");
        assert_eq!(
            err,
            CheckpointError::OtherLog {
                origin: ORIGIN.into(),
                expected: "other.example/log".into(),
                key: format!("other.example/log+{:08x}", other.verifier().key_id()),
            }
        );
        let text = err.to_string();
        assert!(
            text.contains(&format!("{ORIGIN:?}")) && text.contains("\"other.example/log\""),
            "{text}"
        );
    }

    #[test]
    fn open_checks_origin_key_and_signature() {
        let other = Signer::from_seed("other.example/log", &[1; 32]).expect("valid");
        let signed = SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 1, sha256(b"r")), &other)
            .expect("signs");
        assert!(matches!(
            SignedCheckpoint::open(&signed.bytes, &other.verifier()),
            Err(CheckpointError::OriginMismatch { .. })
        ));
        assert!(
            SignedCheckpoint::open_for_origin(&signed.bytes, ORIGIN, &other.verifier()).is_ok()
        );
        assert_eq!(
            SignedCheckpoint::open(&signed.bytes, &log().verifier()),
            Err(CheckpointError::Note(NoteError::Unverified {
                signatures: 1
            }))
        );
        let cosigner = crate::cosignature::Cosigner::from_seed(ORIGIN, &[42; 32]).expect("valid");
        assert!(matches!(
            SignedCheckpoint::open(&signed.bytes, &cosigner.verifier()),
            Err(CheckpointError::NotALogKey {
                key_type: KeyType::Ed25519Cosignature,
                ..
            })
        ));
        // A signed note whose text is not a checkpoint.
        let note = sign_note("hello\n", &[&log()]).expect("signs");
        assert_eq!(
            SignedCheckpoint::open(&note, &log().verifier()),
            Err(CheckpointError::TooFewLines { lines: 1 })
        );
        let tampered = String::from_utf8(
            SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 1, sha256(b"r")), &log())
                .expect("signs")
                .bytes,
        )
        .expect("utf-8")
        .replacen("\n1\n", "\n2\n", 1);
        assert!(matches!(
            SignedCheckpoint::open(tampered.as_bytes(), &log().verifier()),
            Err(CheckpointError::Note(NoteError::InvalidSignature {
                line: 5,
                ..
            }))
        ));
    }

    #[test]
    fn cosignatures_replace_same_key() {
        let mut signed = SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 1, sha256(b"r")), &log())
            .expect("signs");
        let w = crate::cosignature::Cosigner::from_seed("w.example", &[7; 32]).expect("valid");
        let old = w.cosign(&signed.note.text, 100).expect("cosigns");
        let new = w.cosign(&signed.note.text, 200).expect("cosigns");
        signed.add_cosignatures([old]).expect("fits");
        signed.add_cosignatures([new.clone()]).expect("fits");
        assert_eq!(signed.note.signatures.len(), 2);
        assert_eq!(signed.note.signatures[1], new);
        let reopened = SignedCheckpoint::open(&signed.bytes, &log().verifier()).expect("opens");
        assert_eq!(reopened, signed);
        let many = (0..MAX_SIGNATURES as u32).map(|i| NoteSignature {
            name: "x".into(),
            key_id: i,
            bytes: vec![0; 8],
        });
        let before = signed.clone();
        assert!(matches!(
            signed.add_cosignatures(many),
            Err(CheckpointError::Note(NoteError::TooManySignatures { .. }))
        ));
        assert_eq!(signed, before);
    }

    fn line_strategy() -> impl Strategy<Value = String> {
        // Any non-empty line without control characters, non-ASCII included.
        "[^\\x00-\\x1f]{1,40}"
    }

    proptest! {
        #[test]
        fn parse_inverts_to_text(
            origin in line_strategy(),
            size in any::<u64>(),
            root in any::<[u8; 32]>(),
            extensions in proptest::collection::vec(line_strategy(), 0..3),
        ) {
            let cp = Checkpoint { origin, size, root: Hash(root), extensions };
            prop_assert_eq!(cp.check(), Ok(()));
            prop_assert_eq!(Checkpoint::parse(&cp.to_text()), Ok(cp));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = Checkpoint::parse(&s);
        }
    }
}
