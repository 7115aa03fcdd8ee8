//! The submission protocol between `sijil submit` (on an officer's machine, with the officer's
//! key) and `sijil sequencer` (beside the register, with the log key): what goes over the wire
//! and the receipt an officer keeps (docs/API.md, "Submitting events").
//!
//! - [`HeadAnswer`]: `GET /api/v1/submit/head?cases=ID,ID`, what an officer signs a batch for
//!   (a [`Head`]) and the sequencer's limits.
//! - [`Submission`]: `POST /api/v1/submit`, the signed entries and their texts.
//! - [`Receipt`]: the answer, kept by the officer: the signed checkpoint that includes the
//!   entries, and each entry with its c2sp.org/tlog-proof. [`Receipt::verify`] checks it
//!   offline with the log's verifier key alone.
//!
//! Everything here is pure: no I/O, no clock.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sijil_core::blob::{Blob, MAX_TEXT_LEN};
use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::cosignature::WitnessPolicy;
use sijil_core::entry::{verify_signatures, Entry, EntryError};
use sijil_core::event::TextDigest;
use sijil_core::merkle::{prove_inclusion, HashReader, MerkleError};
use sijil_core::note::Verifier;
use sijil_core::proof_text::{ProofTextError, TlogProof};
use sijil_core::{leaf_hash, sha256, Hash};

use crate::batch::{CaseHead, Head, Numbering, SignedBatch};

/// The `format` of a receipt.
pub const RECEIPT_FORMAT: &str = "sijil-receipt/v1";

/// How far an entry's `recorded_at` may be from the sequencer's clock (5 minutes): the officer's
/// clock stamps the entries, and a clock far ahead would drag the log's time forward for
/// everyone after (`recorded_at` never goes back).
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// The largest receipt [`Receipt::parse`] reads: 64 MiB (a batch of 1,000 entries of 64 KiB,
/// in base64, each with a tlog-proof).
pub const MAX_RECEIPT_SIZE: usize = 64 << 20;

/// What is wrong with a submission, a head or a receipt. Each variant names where.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmissionError {
    /// The body is not the JSON expected (the parser's message says where).
    #[error("{what}: {message}")]
    Json { what: &'static str, message: String },
    #[error("the submission holds no entries")]
    Empty,
    #[error("the submission holds {count} entries; this sequencer takes at most {max} per batch (split the events file)")]
    TooManyEntries { count: usize, max: usize },
    #[error("the submission holds {count} texts for {entries} entries (at most one per entry)")]
    TooManyBlobs { count: usize, entries: usize },
    #[error("entries[{index}]: not canonical base64")]
    EntryBase64 { index: usize },
    #[error("entries[{index}]: {source}")]
    Entry { index: usize, source: EntryError },
    #[error("blobs[{index}]: not canonical base64")]
    BlobBase64 { index: usize },
    #[error("blobs[{index}]: {message}")]
    Blob { index: usize, message: String },
    #[error("entries[{index}] is seq {got}; the batch's entries must follow each other (expected {expected})")]
    NotConsecutive {
        index: usize,
        expected: u64,
        got: u64,
    },
    #[error("entries[{index}] ({event}) names text {digest} but the submission does not carry it")]
    MissingText {
        index: usize,
        event: &'static str,
        digest: String,
    },
    #[error("blob {digest} is not a text of any entry of the submission")]
    UnusedBlob { digest: String },
    #[error("text {digest} is named twice; every text takes a fresh salt")]
    DuplicateText { digest: String },
    #[error("text {digest} is already in the register; every text takes a fresh salt")]
    TextExists { digest: String },
    #[error("entries[{index}] ({event}) is the log's own entry; only the sequencer writes it")]
    LogEntry { index: usize, event: &'static str },
    #[error("entries[{index}]: recorded_at {recorded_at} is more than {max_skew_ms} ms from the sequencer's time {expected}: check the officer machine's clock")]
    ClockSkew {
        index: usize,
        recorded_at: i64,
        expected: i64,
        max_skew_ms: i64,
    },
    /// The batch does not extend the log's current head: it was signed for another head. The
    /// officer re-reads the head and signs again.
    #[error("the batch was signed for a log of size {signed_for}, but the log is now at size {size}: re-read the head and sign again")]
    HeadMoved { signed_for: u64, size: u64 },
    #[error("the batch was checked for the log {checked:?}, not {log:?}")]
    OtherOrigin { checked: String, log: String },
    #[error("the receipt's format is {got:?}, not {RECEIPT_FORMAT:?}")]
    ReceiptFormat { got: String },
    #[error("the receipt is {size} bytes, more than the {max} accepted")]
    ReceiptTooLarge { size: usize, max: usize },
    #[error("the receipt holds no entries")]
    ReceiptEmpty,
    #[error("receipt entry {index} (seq {seq}): {message}")]
    ReceiptEntry {
        index: usize,
        seq: u64,
        message: String,
    },
    #[error("receipt entry {index} (seq {seq}): tlog-proof: {source}")]
    ReceiptProof {
        index: usize,
        seq: u64,
        source: ProofTextError,
    },
    #[error("receipt: {message}")]
    Receipt { message: String },
    #[error("inclusion proof of entry {seq}: {source}")]
    Proof { seq: u64, source: MerkleError },
}

/// The head of the log as the sequencer tells it (`GET /api/v1/submit/head`), with its
/// limits. JSON: hashes in hex, the checkpoint as its signed note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadAnswer {
    pub origin: String,
    pub tree_size: u64,
    /// The leaf hash of entry `tree_size − 1`.
    pub last_leaf_hash: Hash,
    /// The last entry's `recorded_at` (Unix ms).
    pub last_recorded_at: i64,
    /// The signed checkpoint of `tree_size` (a note, verbatim).
    pub checkpoint: String,
    /// The cases asked for, each with its event count and head (0 and zeros if it does not
    /// exist).
    pub cases: BTreeMap<String, CaseHead>,
    /// The most entries one submission may carry.
    pub max_events: usize,
    /// The largest submission body, in bytes.
    pub max_body: usize,
    /// For each year asked for (`years=`), the highest case number `NNNN` of that year's
    /// `YYYY-NNNN` cases (absent: none): what `"case":"auto"` allocates after.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub case_numbers: BTreeMap<i32, u32>,
    /// For each case event asked for (`targets=CASE:SEQ`), keyed `CASE:SEQ`, its entry's seq
    /// (absent: no such event): what a `{"case":…,"seq":…}` target becomes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub case_events: BTreeMap<String, u64>,
}

impl HeadAnswer {
    /// Parses a head answer.
    ///
    /// # Errors
    /// [`SubmissionError::Json`] naming what is wrong.
    pub fn parse(bytes: &[u8]) -> Result<HeadAnswer, SubmissionError> {
        serde_json::from_slice(bytes).map_err(|e| SubmissionError::Json {
            what: "head",
            message: e.to_string(),
        })
    }

    /// The head a batch is signed for.
    pub fn head(&self) -> Head {
        Head {
            origin: self.origin.clone(),
            size: self.tree_size,
            last_leaf: self.last_leaf_hash,
            last_recorded_at: self.last_recorded_at,
            cases: self.cases.clone(),
            numbering: Some(Numbering {
                highest: self.case_numbers.clone(),
                events: self
                    .case_events
                    .iter()
                    .filter_map(|(key, &seq)| {
                        let (case, n) = key.rsplit_once(':')?;
                        Some(((case.to_owned(), n.parse().ok()?), seq))
                    })
                    .collect(),
            }),
        }
    }

    /// The `case_numbers` and `case_events` of an answer, from a writer's [`Numbering`].
    pub fn set_numbering(&mut self, numbering: &Numbering) {
        self.case_numbers = numbering.highest.clone();
        self.case_events = numbering
            .events
            .iter()
            .map(|((case, n), &seq)| (format!("{case}:{n}"), seq))
            .collect();
    }
}

/// The body of `POST /api/v1/submit`, as JSON.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmissionJson {
    /// Each entry's canonical bytes, in standard base64.
    entries: Vec<String>,
    /// Each text's blob (`salt ‖ text`), in standard base64.
    #[serde(default)]
    blobs: Vec<String>,
    /// Check everything, commit nothing.
    #[serde(default)]
    dry_run: bool,
}

/// A submitted batch: signed entries and their texts.
#[derive(Clone, Debug)]
pub struct Submission {
    pub batch: SignedBatch,
    /// Check everything the sequencer checks, and commit nothing.
    pub dry_run: bool,
}

impl Submission {
    /// The JSON body: `{"entries": [base64…], "blobs": [base64…], "dry_run": bool}`.
    pub fn to_json(&self) -> Vec<u8> {
        let json = SubmissionJson {
            entries: self
                .batch
                .entries
                .iter()
                .map(|(_, b)| BASE64.encode(b))
                .collect(),
            blobs: self
                .batch
                .blobs
                .iter()
                .map(|b| BASE64.encode(b.to_bytes()))
                .collect(),
            dry_run: self.dry_run,
        };
        serde_json::to_vec(&json).unwrap_or_default()
    }

    /// Parses a submission body: at most `max_events` entries, each the canonical encoding of
    /// a format-1 entry (docs/FORMAT.md §2.3), and at most one text per entry, each a valid
    /// blob (`salt ‖ text`, UTF-8, at most 64 KiB of text). Nothing is checked against the
    /// log here.
    ///
    /// # Errors
    /// [`SubmissionError::Json`], [`SubmissionError::Empty`],
    /// [`SubmissionError::TooManyEntries`], [`SubmissionError::TooManyBlobs`],
    /// [`SubmissionError::EntryBase64`], [`SubmissionError::Entry`],
    /// [`SubmissionError::BlobBase64`], [`SubmissionError::Blob`].
    pub fn parse(bytes: &[u8], max_events: usize) -> Result<Submission, SubmissionError> {
        let json: SubmissionJson =
            serde_json::from_slice(bytes).map_err(|e| SubmissionError::Json {
                what: "submission",
                message: e.to_string(),
            })?;
        if json.entries.is_empty() {
            return Err(SubmissionError::Empty);
        }
        if json.entries.len() > max_events {
            return Err(SubmissionError::TooManyEntries {
                count: json.entries.len(),
                max: max_events,
            });
        }
        if json.blobs.len() > json.entries.len() {
            return Err(SubmissionError::TooManyBlobs {
                count: json.blobs.len(),
                entries: json.entries.len(),
            });
        }
        let mut entries = Vec::with_capacity(json.entries.len());
        for (index, text) in json.entries.iter().enumerate() {
            let bytes = canonical_base64(text).ok_or(SubmissionError::EntryBase64 { index })?;
            let entry =
                Entry::decode(&bytes).map_err(|source| SubmissionError::Entry { index, source })?;
            entries.push((entry, bytes));
        }
        let mut blobs = Vec::with_capacity(json.blobs.len());
        for (index, text) in json.blobs.iter().enumerate() {
            let bytes = canonical_base64(text).ok_or(SubmissionError::BlobBase64 { index })?;
            let blob_error = |message: String| SubmissionError::Blob { index, message };
            if bytes.len() > 32 + MAX_TEXT_LEN {
                return Err(blob_error(format!(
                    "{} bytes of text; a redactable text is at most {MAX_TEXT_LEN} bytes",
                    bytes.len().saturating_sub(32)
                )));
            }
            let digest = TextDigest(sha256(&bytes));
            let blob = Blob::parse(&digest, &bytes).map_err(|e| blob_error(e.to_string()))?;
            blobs.push(blob);
        }
        Ok(Submission {
            batch: SignedBatch { entries, blobs },
            dry_run: json.dry_run,
        })
    }
}

/// A batch that passed [`check_batch`] for an origin: what [`crate::RegisterWriter::submit`]
/// takes, so that no submitted entry reaches the writer with its signature unchecked.
#[derive(Clone, Debug)]
pub struct CheckedBatch {
    batch: SignedBatch,
    origin: String,
}

impl CheckedBatch {
    /// The batch, if it was checked for `origin`.
    ///
    /// # Errors
    /// [`SubmissionError::OtherOrigin`].
    pub fn into_batch(self, origin: &str) -> Result<SignedBatch, SubmissionError> {
        if self.origin != origin {
            return Err(SubmissionError::OtherOrigin {
                checked: self.origin,
                log: origin.to_owned(),
            });
        }
        Ok(self.batch)
    }

    pub fn batch(&self) -> &SignedBatch {
        &self.batch
    }
}

/// Checks what a batch must be whatever the log's state (the sequencer's first checks, made
/// before it takes the writer's lock): entries with consecutive seqs, none of them the log's
/// own `IndexCommitted`, each signed by its `signer` for `origin` (docs/FORMAT.md §2.2, with
/// `verify_strict` semantics §2.4), and exactly one blob for each text the entries name.
///
/// # Errors
/// [`SubmissionError::Empty`], [`SubmissionError::NotConsecutive`],
/// [`SubmissionError::LogEntry`], [`SubmissionError::Entry`] (a signature that does not
/// verify), [`SubmissionError::DuplicateText`], [`SubmissionError::MissingText`],
/// [`SubmissionError::UnusedBlob`].
pub fn check_batch(batch: SignedBatch, origin: &str) -> Result<CheckedBatch, SubmissionError> {
    let Some((first, _)) = batch.entries.first() else {
        return Err(SubmissionError::Empty);
    };
    for (index, (entry, _)) in batch.entries.iter().enumerate() {
        let expected = first.seq.saturating_add(index as u64);
        if entry.seq != expected {
            return Err(SubmissionError::NotConsecutive {
                index,
                expected,
                got: entry.seq,
            });
        }
        if let sijil_core::Event::IndexCommitted(_) = entry.event {
            return Err(SubmissionError::LogEntry {
                index,
                event: entry.event.name(),
            });
        }
    }
    let pairs: Vec<(&[u8], &Entry)> = batch
        .entries
        .iter()
        .map(|(e, b)| (b.as_slice(), e))
        .collect();
    verify_signatures(origin, &pairs).map_err(|source| {
        let seq = match &source {
            EntryError::BadSignature { seq, .. } | EntryError::BadSignerKey { seq, .. } => *seq,
            _ => first.seq,
        };
        SubmissionError::Entry {
            index: usize::try_from(seq - first.seq).unwrap_or(usize::MAX),
            source,
        }
    })?;
    let mut provided: BTreeSet<TextDigest> = BTreeSet::new();
    for blob in &batch.blobs {
        let digest = blob.digest();
        if !provided.insert(digest) {
            return Err(SubmissionError::DuplicateText {
                digest: digest.0.to_hex(),
            });
        }
    }
    let mut named: BTreeSet<TextDigest> = BTreeSet::new();
    for (index, (entry, _)) in batch.entries.iter().enumerate() {
        for digest in entry.event.texts() {
            if !named.insert(*digest) {
                return Err(SubmissionError::DuplicateText {
                    digest: digest.0.to_hex(),
                });
            }
            if !provided.contains(digest) {
                return Err(SubmissionError::MissingText {
                    index,
                    event: entry.event.name(),
                    digest: digest.0.to_hex(),
                });
            }
        }
    }
    if let Some(extra) = provided.difference(&named).next() {
        return Err(SubmissionError::UnusedBlob {
            digest: extra.0.to_hex(),
        });
    }
    Ok(CheckedBatch {
        batch,
        origin: origin.to_owned(),
    })
}

/// Checks that the batch's `recorded_at` is the sequencer's time, within
/// [`MAX_CLOCK_SKEW_MS`]: `max(now_ms, last_recorded_at)` is what the writer would stamp.
///
/// # Errors
/// [`SubmissionError::ClockSkew`] naming the first entry out of bounds.
pub fn check_clock(
    batch: &SignedBatch,
    now_ms: i64,
    last_recorded_at: i64,
) -> Result<(), SubmissionError> {
    let expected = now_ms.max(last_recorded_at);
    for (index, (entry, _)) in batch.entries.iter().enumerate() {
        if entry.recorded_at.abs_diff(expected) > MAX_CLOCK_SKEW_MS.unsigned_abs() {
            return Err(SubmissionError::ClockSkew {
                index,
                recorded_at: entry.recorded_at,
                expected,
                max_skew_ms: MAX_CLOCK_SKEW_MS,
            });
        }
    }
    Ok(())
}

/// One entry of a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptEntry {
    pub seq: u64,
    /// The entry's canonical bytes, in standard base64.
    pub entry: String,
    /// Its c2sp.org/tlog-proof against `checkpoint`, as text.
    pub tlog_proof: String,
}

/// What an officer keeps: the entries the register committed for them, the signed checkpoint
/// that includes them, and each entry's tlog-proof (which embeds that checkpoint).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// [`RECEIPT_FORMAT`].
    pub format: String,
    pub origin: String,
    pub first_seq: u64,
    pub last_seq: u64,
    /// The size of `checkpoint`.
    pub tree_size: u64,
    /// The signed checkpoint, verbatim.
    pub checkpoint: String,
    pub entries: Vec<ReceiptEntry>,
    /// The batch had already been committed (a submission sent again): the receipt is as of
    /// the current checkpoint. Not part of what is verified.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replayed: bool,
}

/// What [`Receipt::verify`] established.
#[derive(Clone, Debug)]
pub struct VerifiedReceipt {
    pub checkpoint: SignedCheckpoint,
    /// The entries, in order, each signed by its signer and included in the checkpoint.
    pub entries: Vec<Entry>,
}

impl Receipt {
    /// The receipt for `entries` (seq and canonical bytes, consecutive) under `checkpoint`,
    /// with inclusion proofs read from `hashes` (the tree of `checkpoint`).
    ///
    /// # Errors
    /// [`SubmissionError::Proof`] if a proof cannot be read.
    pub fn build(
        checkpoint: &SignedCheckpoint,
        entries: &[(u64, &[u8])],
        hashes: &(impl HashReader + ?Sized),
        replayed: bool,
    ) -> Result<Receipt, SubmissionError> {
        let cp = &checkpoint.checkpoint;
        let mut out = Vec::with_capacity(entries.len());
        for &(seq, bytes) in entries {
            let proof = prove_inclusion(cp.size, seq, hashes)
                .map_err(|source| SubmissionError::Proof { seq, source })?;
            let text = TlogProof {
                extra: None,
                index: seq,
                proof,
                checkpoint: checkpoint.bytes.clone(),
            }
            .to_bytes();
            out.push(ReceiptEntry {
                seq,
                entry: BASE64.encode(bytes),
                tlog_proof: String::from_utf8_lossy(&text).into_owned(),
            });
        }
        Ok(Receipt {
            format: RECEIPT_FORMAT.to_owned(),
            origin: cp.origin.clone(),
            first_seq: entries.first().map_or(0, |e| e.0),
            last_seq: entries.last().map_or(0, |e| e.0),
            tree_size: cp.size,
            checkpoint: String::from_utf8_lossy(&checkpoint.bytes).into_owned(),
            entries: out,
            replayed,
        })
    }

    /// The receipt as pretty JSON, ending in a newline (the file `sijil submit` saves).
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// Parses a receipt (at most [`MAX_RECEIPT_SIZE`] bytes of JSON).
    ///
    /// # Errors
    /// [`SubmissionError::ReceiptTooLarge`], [`SubmissionError::Json`],
    /// [`SubmissionError::ReceiptFormat`].
    pub fn parse(bytes: &[u8]) -> Result<Receipt, SubmissionError> {
        if bytes.len() > MAX_RECEIPT_SIZE {
            return Err(SubmissionError::ReceiptTooLarge {
                size: bytes.len(),
                max: MAX_RECEIPT_SIZE,
            });
        }
        let r: Receipt = serde_json::from_slice(bytes).map_err(|e| SubmissionError::Json {
            what: "receipt",
            message: e.to_string(),
        })?;
        if r.format != RECEIPT_FORMAT {
            return Err(SubmissionError::ReceiptFormat { got: r.format });
        }
        Ok(r)
    }

    /// Verifies the receipt offline with the log's verifier key: the checkpoint is signed by
    /// the log (and cosigned as `policy` asks); for each entry, in order and with consecutive
    /// seqs from `first_seq` to `last_seq`: its bytes are a canonical entry of that seq, signed
    /// by its signer for the origin (docs/FORMAT.md §2.2), and its tlog-proof
    /// (c2sp.org/tlog-proof §Verifying) carries this same checkpoint and includes its leaf.
    ///
    /// What it cannot say alone: that the signer was an authorized officer at that seq (the
    /// log's rules, which `sijil audit` checks), or that the log did not fork since (which
    /// `sijil verify URL` checks against the checkpoints it saw).
    ///
    /// # Errors
    /// [`SubmissionError::ReceiptEmpty`], [`SubmissionError::Receipt`] (checkpoint, origin,
    /// sizes), [`SubmissionError::ReceiptEntry`], [`SubmissionError::ReceiptProof`].
    pub fn verify(
        &self,
        log: &Verifier,
        policy: &WitnessPolicy,
    ) -> Result<VerifiedReceipt, SubmissionError> {
        let bad = |message: String| SubmissionError::Receipt { message };
        if self.entries.is_empty() {
            return Err(SubmissionError::ReceiptEmpty);
        }
        let checkpoint = SignedCheckpoint::open(self.checkpoint.as_bytes(), log)
            .map_err(|e| bad(format!("checkpoint: {e}")))?;
        let cp = &checkpoint.checkpoint;
        policy
            .check(&checkpoint.note)
            .map_err(|e| bad(format!("checkpoint witnesses: {e}")))?;
        if self.origin != cp.origin || self.tree_size != cp.size {
            return Err(bad(format!(
                "says origin {:?} and tree size {}, but its checkpoint is {:?} at {}",
                self.origin, self.tree_size, cp.origin, cp.size
            )));
        }
        let count = self
            .last_seq
            .checked_sub(self.first_seq)
            .and_then(|d| d.checked_add(1));
        if count != Some(self.entries.len() as u64) {
            return Err(bad(format!(
                "seqs {}..={} but {} entries",
                self.first_seq,
                self.last_seq,
                self.entries.len()
            )));
        }
        let mut entries = Vec::with_capacity(self.entries.len());
        for (index, e) in self.entries.iter().enumerate() {
            let seq = self.first_seq + index as u64;
            let fail = |message: String| SubmissionError::ReceiptEntry {
                index,
                seq,
                message,
            };
            if e.seq != seq {
                return Err(fail(format!("says seq {}", e.seq)));
            }
            let bytes = canonical_base64(&e.entry)
                .ok_or_else(|| fail("entry: not canonical base64".into()))?;
            let entry = Entry::decode(&bytes).map_err(|e| fail(e.to_string()))?;
            if entry.seq != seq {
                return Err(fail(format!("the entry's bytes say seq {}", entry.seq)));
            }
            entry
                .verify_signature(&bytes, &cp.origin)
                .map_err(|e| fail(e.to_string()))?;
            let proof_error =
                |source: ProofTextError| SubmissionError::ReceiptProof { index, seq, source };
            let proof = TlogProof::parse(e.tlog_proof.as_bytes()).map_err(proof_error)?;
            if proof.index != seq {
                return Err(fail(format!("its tlog-proof is for index {}", proof.index)));
            }
            if proof.checkpoint != checkpoint.bytes {
                return Err(fail(
                    "its tlog-proof carries another checkpoint than the receipt's".into(),
                ));
            }
            proof
                .verify(&leaf_hash(&bytes), log, policy)
                .map_err(proof_error)?;
            entries.push(entry);
        }
        Ok(VerifiedReceipt {
            checkpoint,
            entries,
        })
    }
}

/// Standard base64 that re-encodes to itself (one spelling per byte string).
fn canonical_base64(s: &str) -> Option<Vec<u8>> {
    let bytes = BASE64.decode(s).ok()?;
    (BASE64.encode(&bytes) == s).then_some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::sign_batch;
    use crate::parse_events;
    use sijil_core::checkpoint::Checkpoint;
    use sijil_core::merkle::{tree_hash, MemoryHashes};
    use sijil_core::note::Signer;

    const ORIGIN: &str = "registre.example.ma/test";

    fn batch() -> SignedBatch {
        let officer = Signer::from_seed("amina", &[1; 32]).expect("key");
        let head = Head {
            origin: ORIGIN.into(),
            size: 2,
            last_leaf: Hash([9; 32]),
            last_recorded_at: 0,
            cases: BTreeMap::new(),
            numbering: None,
        };
        let drafts = parse_events(
            "f",
            concat!(
                r#"{"case":"2024-0002","type":"ComplaintReceived","controller":{"id":"acme","name":"ACME"},"categories":["privacy"],"received_on":"2024-01-02","summary":"s"}"#,
                "\n",
                r#"{"case":"2024-0002","type":"HearingHeld","held_on":"2024-02-02","place":"Rabat"}"#,
            ),
        )
        .expect("events");
        sign_batch(&head, drafts, &officer, 1_700_000_000_000).expect("signed")
    }

    #[test]
    fn a_submission_round_trips_and_bad_ones_name_what_is_wrong() {
        let b = batch();
        let body = Submission {
            batch: b.clone(),
            dry_run: true,
        }
        .to_json();
        let parsed = Submission::parse(&body, 10).expect("parses");
        assert!(parsed.dry_run);
        assert_eq!(parsed.batch.entries, b.entries);
        check_batch(parsed.batch, ORIGIN).expect("a good batch");
        assert!(matches!(
            Submission::parse(&body, 1),
            Err(SubmissionError::TooManyEntries { count: 2, max: 1 })
        ));
        let cases: [(&str, &str); 4] = [
            (r#"{"entries":[]}"#, "no entries"),
            (r#"{"entries":["AAA"]}"#, "entries[0]: not canonical base64"),
            (
                r#"{"entries":["AQ=="]}"#,
                "entries[0]: entry does not decode",
            ),
            (r#"{"entries":[],"extra":1}"#, "unknown field"),
        ];
        for (input, want) in cases {
            let err = Submission::parse(input.as_bytes(), 10).expect_err(input);
            assert!(err.to_string().contains(want), "{input}: {err}");
        }
        // Another origin: the signatures do not verify.
        let err = check_batch(b.clone(), "other.example/x").expect_err("wrong origin");
        assert!(err.to_string().contains("does not verify"), "{err}");
        // A text missing, a text unused.
        let mut missing = b.clone();
        missing.blobs.clear();
        assert!(matches!(
            check_batch(missing, ORIGIN),
            Err(SubmissionError::MissingText { index: 0, .. })
        ));
        let mut extra = b.clone();
        extra.blobs.push(Blob::new("x".into()).expect("blob"));
        assert!(matches!(
            check_batch(extra, ORIGIN),
            Err(SubmissionError::UnusedBlob { .. })
        ));
        // Seqs that do not follow each other.
        let mut gap = b.clone();
        gap.entries.swap(0, 1);
        assert!(matches!(
            check_batch(gap, ORIGIN),
            Err(SubmissionError::NotConsecutive { index: 1, .. })
        ));
        // The clock.
        check_clock(&b, 1_700_000_000_000, 0).expect("on time");
        assert!(matches!(
            check_clock(&b, 1_700_000_000_000 + MAX_CLOCK_SKEW_MS + 1, 0),
            Err(SubmissionError::ClockSkew { index: 0, .. })
        ));
    }

    #[test]
    fn a_receipt_verifies_offline_and_a_changed_one_does_not() {
        let log = Signer::from_seed(ORIGIN, &[2; 32]).expect("key");
        let b = batch();
        let mut leaves = vec![Hash([1; 32]), Hash([9; 32])];
        leaves.extend(b.entries.iter().map(|(_, bytes)| leaf_hash(bytes)));
        let tree = MemoryHashes::from_leaves(leaves.iter().copied());
        let size = leaves.len() as u64;
        let cp = SignedCheckpoint::sign(
            Checkpoint::new(ORIGIN, size, tree_hash(size, &tree).expect("root")),
            &log,
        )
        .expect("signed");
        let entries: Vec<(u64, &[u8])> = b
            .entries
            .iter()
            .map(|(e, bytes)| (e.seq, bytes.as_slice()))
            .collect();
        let receipt = Receipt::build(&cp, &entries, &tree, false).expect("receipt");
        let policy = WitnessPolicy::new(Vec::new(), 0).expect("no witnesses");
        let parsed = Receipt::parse(&receipt.to_json()).expect("parses");
        let ok = parsed.verify(&log.verifier(), &policy).expect("verifies");
        assert_eq!(ok.entries.len(), 2);
        // Another log key.
        let other = Signer::from_seed(ORIGIN, &[3; 32]).expect("key");
        assert!(parsed.verify(&other.verifier(), &policy).is_err());
        // An entry swapped for another one.
        let mut swapped = parsed.clone();
        swapped.entries[1].entry = swapped.entries[0].entry.clone();
        let err = swapped
            .verify(&log.verifier(), &policy)
            .expect_err("swapped");
        assert!(err.to_string().contains("seq 3"), "{err}");
        // A proof of another index.
        let mut moved = parsed.clone();
        moved.entries[0].tlog_proof = moved.entries[1].tlog_proof.clone();
        assert!(moved.verify(&log.verifier(), &policy).is_err());
        // Seqs that span the whole u64 range: refused, not an overflow.
        let mut wide = parsed.clone();
        (wide.first_seq, wide.last_seq) = (0, u64::MAX);
        let err = wide.verify(&log.verifier(), &policy).expect_err("wide");
        assert!(err.to_string().contains("but 2 entries"), "{err}");
        assert!(matches!(
            Receipt::parse(br#"{"format":"x"}"#),
            Err(SubmissionError::Json { .. })
        ));
    }
}
