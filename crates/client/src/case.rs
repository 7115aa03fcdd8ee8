//! `sijil verify URL|DIR --case ID`: a whole case, proven complete and current
//! (docs/FORMAT.md §10.5).
//!
//! The case answer (`GET /api/v1/cases/{id}`, or the same built from a directory) is checked
//! against the checkpoint that [`crate::verify::verify`] has just verified (signature,
//! witnesses, consistency with the last one seen): each entry's inclusion, encoding and
//! officer signature, the case's own chain, the `IndexCommitted` at the checkpoint's last leaf,
//! the trie proof of the case key, and each signer's authorization at its entry.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Deserialize;
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::event::PublicKey;
use sijil_core::merkle::prove_inclusion;
use sijil_core::note::Verifier;
use sijil_core::tile::TileHashReader;
use sijil_index::completeness::{self, Completeness, CompletenessError, ProvenEntry, VerifiedCase};
use sijil_index::IndexKey;
use sijil_register::{RegisterReader, StoredEntry};

use crate::http::HttpClient;
use crate::Error;

/// A case answer as the API serves it (other members are ignored).
#[derive(Debug, Deserialize)]
pub struct CaseAnswer {
    pub checkpoint: CheckpointText,
    #[serde(default)]
    pub entries: Vec<ProvenEntry>,
    pub completeness: Completeness,
    /// Present on a 404.
    #[serde(default)]
    pub error: Option<String>,
}

/// The `checkpoint` member: its signed note is all a verifier reads.
#[derive(Debug, Deserialize)]
pub struct CheckpointText {
    pub text: String,
}

/// What `--case` proved.
#[derive(Debug)]
pub enum CaseOutcome {
    /// The case, complete as of the checkpoint.
    Found(VerifiedCase),
    /// No such case, proven absent as of the checkpoint of this size.
    Absent { size: u64 },
}

/// Fetches the answer for case `id` from the server at `base` (its tlog-tiles prefix, where
/// the API lives too).
///
/// # Errors
/// [`Error::Usage`] for a transport failure or an answer that is not a case answer.
pub fn fetch_case(client: &HttpClient, base: &str, id: &str) -> Result<CaseAnswer, Error> {
    let base = base.trim_end_matches('/');
    let url = format!("{base}/api/v1/cases/{}", encode_path(id));
    let answer = client
        .block_on(client.get_limited(&url, 64 << 20))
        .map_err(|e| Error::Usage(format!("{url}: {e}")))?;
    if answer.status != 200 && answer.status != 404 {
        return Err(Error::Usage(format!("{url}: HTTP {}", answer.status)));
    }
    serde_json::from_slice(&answer.body).map_err(|e| Error::Entry {
        seq: 0,
        message: format!("{url}: not a case answer with a completeness proof: {e}"),
    })
}

/// The answer for case `id` built from a register directory, exactly as the server builds it.
///
/// # Errors
/// [`Error::Usage`] if the directory cannot be read as a register.
pub fn case_from_dir(reader: &RegisterReader, id: &str) -> Result<CaseAnswer, Error> {
    let cp = &reader.checkpoint().checkpoint;
    let hashes = TileHashReader::new(cp.size, cp.root, reader.tiles());
    let fail = |e: String| Error::Usage(format!("{}: {e}", reader.layout().root().display()));
    let read = |seq: u64| -> Result<StoredEntry, Error> {
        reader
            .entries(seq, seq + 1)
            .map_err(|e| fail(e.to_string()))?
            .pop()
            .ok_or_else(|| fail(format!("entry {seq} is missing")))
    };
    let proven = |se: &StoredEntry| -> Result<ProvenEntry, Error> {
        let seq = se.entry.seq;
        let proof = prove_inclusion(cp.size, seq, &hashes).map_err(|e| fail(e.to_string()))?;
        Ok(ProvenEntry {
            seq,
            bytes: BASE64.encode(&se.bytes),
            inclusion_proof: proof.iter().map(|h| h.to_base64()).collect(),
        })
    };
    let index = reader.view().index();
    let key = IndexKey::case(id);
    let seqs = index.get(&key).map(|l| l.seqs.clone()).unwrap_or_default();
    let stored = seqs
        .iter()
        .map(|&s| read(s))
        .collect::<Result<Vec<_>, _>>()?;
    let entries = stored.iter().map(proven).collect::<Result<Vec<_>, _>>()?;
    let signers = completeness::signers_of(stored.iter().map(|se| &se.entry));
    let c = completeness::build(index, &key, cp.size, &signers, &mut |seq| {
        proven(&read(seq)?)
    })?;
    Ok(CaseAnswer {
        checkpoint: CheckpointText {
            text: String::from_utf8_lossy(&reader.checkpoint().bytes).into_owned(),
        },
        error: (c.seqs.is_none()).then(|| format!("no case {id:?} in this register")),
        entries,
        completeness: c,
    })
}

/// Verifies a case answer against `verified`, the checkpoint just verified with `verifier`.
///
/// # Errors
/// [`Error::Entry`] naming what fails (an entry missing, added, altered; a proof that does
/// not hold; a signer not authorized); [`Error::Behind`]-like staleness when the answer is
/// not as of the verified checkpoint.
pub fn verify_case_answer(
    answer: &CaseAnswer,
    id: &str,
    verified: &SignedCheckpoint,
    verifier: &Verifier,
) -> Result<CaseOutcome, Error> {
    let cp = SignedCheckpoint::open(answer.checkpoint.text.as_bytes(), verifier).map_err(|e| {
        Error::Entry {
            seq: 0,
            message: format!("the case answer's checkpoint does not verify: {e}"),
        }
    })?;
    let cp: &Checkpoint = &cp.checkpoint;
    let held = &verified.checkpoint;
    if cp.size != held.size || cp.root != held.root {
        return Err(Error::Stale {
            what: format!(
                "the case answer is as of a checkpoint of size {} (root {}), not the log's checkpoint of size {} (root {}) verified just now",
                cp.size, cp.root, held.size, held.root
            ),
        });
    }
    let log_key = log_public_key(verifier)?;
    let fail = |e: CompletenessError| Error::Entry {
        seq: 0,
        message: format!("case {id}: {e}"),
    };
    if answer.completeness.seqs.is_none() {
        completeness::verify_no_case(id, &answer.completeness, cp, &log_key).map_err(fail)?;
        return Ok(CaseOutcome::Absent { size: cp.size });
    }
    completeness::verify_case(id, &answer.entries, &answer.completeness, cp, &log_key)
        .map(CaseOutcome::Found)
        .map_err(fail)
}

/// The log's Ed25519 public key, as entries name their signer: what signs `IndexCommitted`.
///
/// # Errors
/// [`Error::Usage`] for a verifier key of another type.
pub fn log_public_key(verifier: &Verifier) -> Result<PublicKey, Error> {
    verifier
        .public_key()
        .try_into()
        .map(PublicKey)
        .map_err(|_| Error::Usage(format!("{verifier} is not an Ed25519 key")))
}

/// `id` as one URL path: `/` kept (a case id may hold one), everything but the unreserved
/// characters percent-encoded.
fn encode_path(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
