//! A case's completeness proof (docs/FORMAT.md §10.5, docs/API.md `completeness`): its wire
//! form, as `GET /api/v1/cases/{id}` serves it, and its verification, which is pure.
//!
//! The proof ties everything to one signed checkpoint of size S: leaf S − 1 is the log key's
//! `IndexCommitted` (inclusion proof), its root proves the case key's value (trie proof), and
//! that value is the count and mini-log root of exactly the entries given (each with its
//! own inclusion proof and officer signature). Each signer's authorization is proved the same
//! way, through the officer key's own index entries.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sijil_core::checkpoint::Checkpoint;
use sijil_core::event::{Event, PublicKey, Role};
use sijil_core::merkle::check_inclusion;
use sijil_core::{leaf_hash, Entry, Hash};

use crate::trie::{Label, ProofNode, TrieProof};
use crate::{verify_absent, verify_key, IndexError, IndexKey};

/// An entry with its inclusion proof in the checkpoint's tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenEntry {
    /// The leaf index (the API's case entries call it `leaf_index`).
    #[serde(alias = "leaf_index")]
    pub seq: u64,
    /// The entry's bytes, standard base64.
    pub bytes: String,
    /// RFC 9162 inclusion proof, standard base64 hashes.
    pub inclusion_proof: Vec<String>,
}

/// A node of a trie proof in JSON: `{"bits", "label" (hex of ceil(bits/8) bytes), "value"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeJson {
    pub bits: u16,
    pub label: String,
    pub value: String,
}

/// A trie proof in JSON (docs/FORMAT.md §10.5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrieProofJson {
    pub end: Option<NodeJson>,
    pub siblings: Vec<Option<NodeJson>>,
}

impl From<&TrieProof> for TrieProofJson {
    fn from(p: &TrieProof) -> TrieProofJson {
        let node = |n: &ProofNode| NodeJson {
            bits: n.label.bits(),
            label: hex::encode(n.label.prefix_bytes()),
            value: hex::encode(n.value),
        };
        TrieProofJson {
            end: p.end.as_ref().map(node),
            siblings: p.siblings.iter().map(|s| s.as_ref().map(node)).collect(),
        }
    }
}

impl TrieProofJson {
    /// The proof, or what is malformed in it.
    ///
    /// # Errors
    /// [`CompletenessError::Malformed`].
    pub fn parse(&self) -> Result<TrieProof, CompletenessError> {
        let node = |n: &NodeJson| -> Result<ProofNode, CompletenessError> {
            let prefix = hex::decode(&n.label)
                .map_err(|_| malformed(format!("trie proof label {:?} is not hex", n.label)))?;
            let label = Label::from_prefix(n.bits, &prefix)
                .map_err(|e| malformed(format!("trie proof: {e}")))?;
            let mut value = [0u8; 32];
            hex::decode_to_slice(&n.value, &mut value).map_err(|_| {
                malformed(format!(
                    "trie proof value {:?} is not 64 hex digits",
                    n.value
                ))
            })?;
            Ok(ProofNode { label, value })
        };
        if self.siblings.len() > 257 {
            return Err(malformed(format!(
                "trie proof has {} siblings; a path has at most 257",
                self.siblings.len()
            )));
        }
        Ok(TrieProof {
            end: self.end.as_ref().map(node).transpose()?,
            siblings: self
                .siblings
                .iter()
                .map(|s| s.as_ref().map(node).transpose())
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The proof of one signer's authorization: the officer key's index entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerProof {
    /// The officer's public key, hex.
    pub key: PublicKey,
    /// Its index key, hex (the verifier recomputes it).
    pub index_key: String,
    pub seqs: Vec<u64>,
    pub trie_proof: TrieProofJson,
    pub entries: Vec<ProvenEntry>,
}

/// The `completeness` member of a case answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completeness {
    /// The checkpoint's size S.
    pub size: u64,
    /// Leaf S − 1: the `IndexCommitted` entry.
    pub index: ProvenEntry,
    /// The index key (hex) of the subject.
    pub key: String,
    /// The subject's seqs; absent in a proof of absence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seqs: Option<Vec<u64>>,
    pub trie_proof: TrieProofJson,
    /// One per distinct signer of the entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<SignerProof>,
}

/// Why a completeness proof fails. Each variant says what a reader would want named.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompletenessError {
    #[error("the proof is malformed: {0}")]
    Malformed(String),
    #[error("the checkpoint has {size} entries: it ends with no IndexCommitted to prove anything against")]
    NoIndex { size: u64 },
    #[error(
        "the proof is for a checkpoint of {proof} entries, but the checkpoint has {checkpoint}"
    )]
    WrongSize { proof: u64, checkpoint: u64 },
    #[error("entry {seq}: {message}")]
    Entry { seq: u64, message: String },
    #[error("entry {seq} is not in the checkpoint's tree: {message}")]
    NotIncluded { seq: u64, message: String },
    #[error("the register's index holds {committed} for {subject}, but {shown} shown: {detail}")]
    Incomplete {
        subject: String,
        committed: String,
        shown: String,
        detail: String,
    },
    #[error("the index proof for {subject} fails: {source}")]
    Index {
        subject: String,
        #[source]
        source: IndexError,
    },
    #[error("entry {seq} is signed by {signer}, which was {why} at that entry")]
    Unauthorized {
        seq: u64,
        signer: PublicKey,
        why: String,
    },
}

fn malformed(s: String) -> CompletenessError {
    CompletenessError::Malformed(s)
}

/// One checked entry.
#[derive(Clone, Debug)]
pub struct CheckedEntry {
    pub seq: u64,
    pub leaf: Hash,
    pub entry: Entry,
    pub bytes: Vec<u8>,
}

/// Decodes a proven entry and checks its inclusion in `cp` and its signature.
///
/// # Errors
/// [`CompletenessError::Entry`], [`CompletenessError::NotIncluded`],
/// [`CompletenessError::Malformed`].
pub fn check_entry(p: &ProvenEntry, cp: &Checkpoint) -> Result<CheckedEntry, CompletenessError> {
    let e = check_included(p, cp)?;
    check_signatures(&[&e], cp)?;
    Ok(e)
}

/// Checks the signatures of checked entries at once (Ed25519 batch verification, with the
/// strict rules of docs/FORMAT.md §2.4; a failing batch names its first bad entry).
fn check_signatures(entries: &[&CheckedEntry], cp: &Checkpoint) -> Result<(), CompletenessError> {
    let pairs: Vec<(&[u8], &Entry)> = entries
        .iter()
        .map(|e| (e.bytes.as_slice(), &e.entry))
        .collect();
    sijil_core::entry::verify_signatures(&cp.origin, &pairs).map_err(|e| {
        let seq = match &e {
            sijil_core::EntryError::BadSignature { seq, .. }
            | sijil_core::EntryError::BadSignerKey { seq, .. } => *seq,
            _ => entries.first().map_or(0, |x| x.seq),
        };
        CompletenessError::Entry {
            seq,
            message: e.to_string(),
        }
    })
}

/// Decodes a proven entry and checks its inclusion in `cp`; its signature is left to
/// [`check_signatures`].
fn check_included(p: &ProvenEntry, cp: &Checkpoint) -> Result<CheckedEntry, CompletenessError> {
    let seq = p.seq;
    let bytes = BASE64
        .decode(&p.bytes)
        .map_err(|e| malformed(format!("entry {seq}: bytes are not base64: {e}")))?;
    let proof = p
        .inclusion_proof
        .iter()
        .map(|h| {
            Hash::from_base64(h).ok_or_else(|| {
                malformed(format!(
                    "entry {seq}: inclusion proof hash {h:?} is not 32 bytes of base64"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let leaf = leaf_hash(&bytes);
    check_inclusion(&proof, cp.size, &cp.root, seq, &leaf).map_err(|e| {
        CompletenessError::NotIncluded {
            seq,
            message: e.to_string(),
        }
    })?;
    let entry = Entry::decode(&bytes).map_err(|e| CompletenessError::Entry {
        seq,
        message: e.to_string(),
    })?;
    if entry.seq != seq {
        return Err(CompletenessError::Entry {
            seq,
            message: format!("its bytes say seq {}", entry.seq),
        });
    }
    Ok(CheckedEntry {
        seq,
        leaf,
        entry,
        bytes,
    })
}

/// Checks the `IndexCommitted` at leaf S − 1 and returns its root.
///
/// # Errors
/// [`CompletenessError`] naming what fails.
pub fn check_index_entry(
    c: &Completeness,
    cp: &Checkpoint,
    log_key: &PublicKey,
) -> Result<Hash, CompletenessError> {
    check_index_place(c, cp)?;
    let ic = check_entry(&c.index, cp)?;
    index_root(&ic, log_key)
}

/// Where the index entry must be: leaf S − 1 of the checkpoint of size S ≥ 2.
fn check_index_place(c: &Completeness, cp: &Checkpoint) -> Result<(), CompletenessError> {
    if cp.size < 2 {
        return Err(CompletenessError::NoIndex { size: cp.size });
    }
    if c.size != cp.size {
        return Err(CompletenessError::WrongSize {
            proof: c.size,
            checkpoint: cp.size,
        });
    }
    if c.index.seq != cp.size - 1 {
        return Err(CompletenessError::Entry {
            seq: c.index.seq,
            message: format!(
                "the index commitment must be the checkpoint's last entry, {}",
                cp.size - 1
            ),
        });
    }
    Ok(())
}

/// The root an included, signature-checked entry commits, if it is the log key's
/// `IndexCommitted` of its own seq.
fn index_root(ic: &CheckedEntry, log_key: &PublicKey) -> Result<Hash, CompletenessError> {
    commitment_root(&ic.entry, log_key).map_err(|message| CompletenessError::Entry {
        seq: ic.seq,
        message,
    })
}

/// The root `entry` commits, if it is the log key's `IndexCommitted` of its own seq: what the
/// last entry of every checkpoint past the genesis must be (docs/FORMAT.md §10.4). Its
/// signature is the caller's to check. The error says what the entry is instead.
///
/// # Errors
/// A sentence about the entry (for a message that names its seq).
pub fn commitment_root(entry: &Entry, log_key: &PublicKey) -> Result<Hash, String> {
    match &entry.event {
        Event::IndexCommitted(i) if entry.signer == *log_key && i.size == entry.seq => Ok(i.root),
        Event::IndexCommitted(i) if i.size != entry.seq => Err(format!(
            "is an IndexCommitted of size {}, not of its own seq",
            i.size
        )),
        Event::IndexCommitted(_) => Err(format!(
            "IndexCommitted is signed by {}, not by the register's log key {log_key}",
            entry.signer
        )),
        other => Err(format!(
            "is {}, not IndexCommitted: the checkpoint does not end with the index (docs/FORMAT.md §10.4)",
            other.name()
        )),
    }
}

/// Checks that `entries` (checked, in log order) are all of `key`'s entries under `root`.
fn check_whole(
    subject: &str,
    root: &Hash,
    key: &IndexKey,
    entries: &[CheckedEntry],
    claimed: Option<&[u64]>,
    proof: &TrieProofJson,
) -> Result<(), CompletenessError> {
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    if let Some(claimed) = claimed {
        if claimed != seqs.as_slice() {
            return Err(CompletenessError::Incomplete {
                subject: subject.into(),
                committed: format!("{} entries ({})", claimed.len(), list(claimed)),
                shown: format!("{} ({})", seqs.len(), list(&seqs)),
                detail: describe_difference(claimed, &seqs),
            });
        }
    }
    let pairs: Vec<(u64, Hash)> = entries.iter().map(|e| (e.seq, e.leaf)).collect();
    let trie = proof.parse()?;
    verify_key(root, key, &pairs, &trie).map_err(|source| match source {
        IndexError::ValueMismatch { .. } => CompletenessError::Incomplete {
            subject: subject.into(),
            committed: "another list of entries".into(),
            shown: format!("the {} entries ({})", seqs.len(), list(&seqs)),
            detail: "an entry is missing, added or altered".into(),
        },
        source => CompletenessError::Index {
            subject: subject.into(),
            source,
        },
    })
}

fn list(seqs: &[u64]) -> String {
    seqs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_difference(committed: &[u64], shown: &[u64]) -> String {
    let missing: Vec<u64> = committed
        .iter()
        .filter(|s| !shown.contains(s))
        .copied()
        .collect();
    let added: Vec<u64> = shown
        .iter()
        .filter(|s| !committed.contains(s))
        .copied()
        .collect();
    match (missing.is_empty(), added.is_empty()) {
        (false, _) => format!("entry {} is missing", list(&missing)),
        (true, false) => format!("entry {} is not the case's", list(&added)),
        (true, true) => "the entries are out of order".into(),
    }
}

/// A case proven complete and current.
#[derive(Clone, Debug)]
pub struct VerifiedCase {
    pub id: String,
    /// Every entry of the case, in log order, checked.
    pub entries: Vec<CheckedEntry>,
    /// The size of the checkpoint it is complete as of.
    pub size: u64,
    /// Each signer's key and the name under which it was authorized.
    pub officers: Vec<(PublicKey, String)>,
}

/// Verifies a case answer: its `entries` and `completeness` against the verified checkpoint
/// `cp` of the log whose key is `log_key`. Checks each entry (inclusion, encoding, signature),
/// the case's own chain, the completeness proof, and that each signer was an authorized,
/// unrevoked officer at its entry.
///
/// # Errors
/// The first [`CompletenessError`], which names the entry or the key.
pub fn verify_case(
    id: &str,
    entries: &[ProvenEntry],
    c: &Completeness,
    cp: &Checkpoint,
    log_key: &PublicKey,
) -> Result<VerifiedCase, CompletenessError> {
    check_index_place(c, cp)?;
    let ic = check_included(&c.index, cp)?;
    let key = IndexKey::case(id);
    let checked = entries
        .iter()
        .map(|p| check_included(p, cp))
        .collect::<Result<Vec<_>, _>>()?;
    let officers = c
        .signers
        .iter()
        .map(|p| {
            p.entries
                .iter()
                .map(|pe| check_included(pe, cp))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    // Every signature of the answer in one batch.
    let all: Vec<&CheckedEntry> = std::iter::once(&ic)
        .chain(&checked)
        .chain(officers.iter().flatten())
        .collect();
    check_signatures(&all, cp)?;
    let root = index_root(&ic, log_key)?;
    // The case's own chain (DESIGN §4).
    let mut prev = Hash::ZERO;
    for (i, e) in checked.iter().enumerate() {
        let Some(link) = &e.entry.case else {
            return Err(CompletenessError::Entry {
                seq: e.seq,
                message: "names no case".into(),
            });
        };
        if link.id != id {
            return Err(CompletenessError::Entry {
                seq: e.seq,
                message: format!("belongs to case {}, not {id}", link.id),
            });
        }
        if link.seq as usize != i || link.prev != prev {
            return Err(CompletenessError::Entry {
                seq: e.seq,
                message: format!(
                    "is event {} of the case and follows another entry, but it is shown as event {i}: an entry before it is missing",
                    link.seq
                ),
            });
        }
        prev = e.leaf;
    }
    check_whole(
        &format!("case {id}"),
        &root,
        &key,
        &checked,
        c.seqs.as_deref(),
        &c.trie_proof,
    )?;
    let officers = check_signers(&checked, &c.signers, officers, &root)?;
    Ok(VerifiedCase {
        id: id.to_string(),
        entries: checked,
        size: cp.size,
        officers,
    })
}

/// Each entry's signer was authorized, and not revoked, before it: proven by the officer
/// key's own index entries (RegisterOpened or OfficerAuthorized naming it, OfficerRevoked).
/// The same holds, up to the register's first entry, for each entry of those histories that
/// authorizes or revokes: its signer was an authorized admin before it, proven by that
/// admin's own history, which the answer must carry too. So a key the log's operator added
/// without an admin's signature is refused, not only a key the log never named.
///
/// `included[i]` are the entries of `proofs[i]`, already checked (inclusion, signatures).
/// Returns the names of the case entries' signers.
fn check_signers(
    entries: &[CheckedEntry],
    proofs: &[SignerProof],
    included: Vec<Vec<CheckedEntry>>,
    root: &Hash,
) -> Result<Vec<(PublicKey, String)>, CompletenessError> {
    let mut included: Vec<Option<Vec<CheckedEntry>>> = included.into_iter().map(Some).collect();
    let mut proven: Vec<(PublicKey, Vec<CheckedEntry>)> = Vec::new();
    let mut names: Vec<(PublicKey, String)> = Vec::new();
    // (entry, whether its signer must be an admin), case entries first; each history entry
    // that authorizes or revokes is added once, when its officer's history is proven.
    let mut work: Vec<(CheckedEntry, bool)> = entries.iter().map(|e| (e.clone(), false)).collect();
    let mut traced: Vec<u64> = Vec::new();
    let mut next = 0;
    while let Some((e, admin)) = work.get(next).cloned() {
        next += 1;
        let signer = e.entry.signer;
        if !proven.iter().any(|(k, _)| *k == signer) {
            let history = prove_history(e.seq, &signer, proofs, &mut included, root)?;
            // Every entry of an officer's history authorizes or revokes (§10.1).
            for h in &history {
                if !traced.contains(&h.seq) {
                    traced.push(h.seq);
                    work.push((h.clone(), true));
                }
            }
            proven.push((signer, history));
        }
        if let Event::RegisterOpened(g) = &e.entry.event {
            // The register's first entry authorizes itself: an admin it lists signs it.
            if e.seq != 0
                || !g
                    .officers
                    .iter()
                    .any(|o| o.key == signer && o.role == Role::Admin)
            {
                return Err(CompletenessError::Unauthorized {
                    seq: e.seq,
                    signer,
                    why: "not an admin listed by the register's first entry".into(),
                });
            }
            continue;
        }
        let history = proven
            .iter()
            .find(|(k, _)| *k == signer)
            .map(|(_, h)| h.as_slice())
            .unwrap_or_default();
        let last = history.iter().rev().find(|h| h.seq < e.seq);
        let named = match last.map(|h| &h.entry.event) {
            Some(Event::RegisterOpened(g)) => g
                .officers
                .iter()
                .find(|o| o.key == signer)
                .map(|o| (o.name.clone(), o.role)),
            Some(Event::OfficerAuthorized(a)) if a.officer.key == signer => {
                Some((a.officer.name.clone(), a.officer.role))
            }
            _ => None,
        };
        let why = match (&named, last.map(|h| (&h.entry.event, h.seq))) {
            (Some((_, role)), _) if admin && *role != Role::Admin => {
                Some("an officer but not an admin, who alone may authorize or revoke".into())
            }
            (Some(_), _) => None,
            (None, Some((Event::OfficerRevoked(_), s))) => Some(format!("revoked by entry {s}")),
            (None, None) => Some("never authorized before".into()),
            (None, Some((other, s))) => Some(format!("last named by entry {s} ({})", other.name())),
        };
        if let Some(why) = why {
            return Err(CompletenessError::Unauthorized {
                seq: e.seq,
                signer,
                why,
            });
        }
        if let (Some((name, _)), false) = (named, admin) {
            if !names.iter().any(|(k, _)| *k == signer) {
                names.push((signer, name));
            }
        }
    }
    Ok(names)
}

/// Checks the answer's proof of `signer`'s whole history (first needed by entry `seq`) and
/// returns it: the officer key's index entries, or none when the proof is of its absence.
fn prove_history(
    seq: u64,
    signer: &PublicKey,
    proofs: &[SignerProof],
    included: &mut [Option<Vec<CheckedEntry>>],
    root: &Hash,
) -> Result<Vec<CheckedEntry>, CompletenessError> {
    let at = proofs
        .iter()
        .position(|p| p.key == *signer)
        .ok_or_else(|| CompletenessError::Unauthorized {
            seq,
            signer: *signer,
            why: "not shown to be an officer (the answer carries no proof for this key)".into(),
        })?;
    let p = &proofs[at];
    let key = IndexKey::officer(signer);
    let history = included
        .get_mut(at)
        .and_then(Option::take)
        .unwrap_or_default();
    let subject = format!("officer key {signer}");
    if p.seqs.is_empty() && history.is_empty() {
        // A key the log never named: the proof is of its absence.
        verify_absent(root, &key, &p.trie_proof.parse()?)
            .map_err(|source| CompletenessError::Index { subject, source })?;
    } else {
        check_whole(&subject, root, &key, &history, Some(&p.seqs), &p.trie_proof)?;
    }
    Ok(history)
}

/// Verifies a proof that no case `id` exists as of `cp` (the 404's `completeness`).
///
/// # Errors
/// [`CompletenessError`].
pub fn verify_no_case(
    id: &str,
    c: &Completeness,
    cp: &Checkpoint,
    log_key: &PublicKey,
) -> Result<(), CompletenessError> {
    let root = check_index_entry(c, cp, log_key)?;
    verify_absent(&root, &IndexKey::case(id), &c.trie_proof.parse()?).map_err(|source| {
        CompletenessError::Index {
            subject: format!("case {id}"),
            source,
        }
    })
}

/// Verifies a controller answer: `entries` (the opening entries of its cases) are all of the
/// controller's, as of `cp`.
///
/// # Errors
/// [`CompletenessError`].
pub fn verify_controller(
    id: &str,
    entries: &[ProvenEntry],
    c: &Completeness,
    cp: &Checkpoint,
    log_key: &PublicKey,
) -> Result<Vec<CheckedEntry>, CompletenessError> {
    verify_subject(
        &format!("controller {id}"),
        &IndexKey::controller(id),
        entries,
        c,
        cp,
        log_key,
    )
}

/// Verifies that `entries` are all of the register key's entries as of `cp`: every
/// register-level event (`RegisterOpened`, `OfficerAuthorized`, `OfficerRevoked`, §10.1),
/// each included and signed. What `GET /api/v1/officers` proves; the officers' list is then
/// rebuilt from these entries alone.
///
/// # Errors
/// [`CompletenessError`].
pub fn verify_register(
    entries: &[ProvenEntry],
    c: &Completeness,
    cp: &Checkpoint,
    log_key: &PublicKey,
) -> Result<Vec<CheckedEntry>, CompletenessError> {
    verify_subject(
        "the register's own entries",
        &IndexKey::register(),
        entries,
        c,
        cp,
        log_key,
    )
}

/// `entries` (each included in `cp` and signed) are all of `key`'s entries under the root
/// the log key's `IndexCommitted` at leaf S − 1 commits. `subject` names the key in errors.
fn verify_subject(
    subject: &str,
    key: &IndexKey,
    entries: &[ProvenEntry],
    c: &Completeness,
    cp: &Checkpoint,
    log_key: &PublicKey,
) -> Result<Vec<CheckedEntry>, CompletenessError> {
    // The key is recomputed here; the answer's `key` member is not trusted.
    let root = check_index_entry(c, cp, log_key)?;
    let checked = entries
        .iter()
        .map(|p| check_included(p, cp))
        .collect::<Result<Vec<_>, _>>()?;
    check_signatures(&checked.iter().collect::<Vec<_>>(), cp)?;
    check_whole(
        subject,
        &root,
        key,
        &checked,
        c.seqs.as_deref(),
        &c.trie_proof,
    )?;
    Ok(checked)
}

/// Builds the `completeness` member for the subject `key` as of the checkpoint of `size`
/// entries, over `index` (which must cover the first `size - 1` entries: the view of that
/// checkpoint), with the history of each of `signers` ([`signers_of`] the subject's entries).
/// `prove(seq)` gives an entry with its inclusion proof in that checkpoint. The subject's seqs
/// are listed when it has any; the trie proof is of presence or absence as the index has it.
///
/// # Errors
/// `prove`'s error.
pub fn build<E>(
    index: &crate::Index,
    key: &IndexKey,
    size: u64,
    signers: &[PublicKey],
    prove: &mut dyn FnMut(u64) -> Result<ProvenEntry, E>,
) -> Result<Completeness, E> {
    // The signers' histories, then those of the admins who signed them, and so on up to
    // the register's first entry (what `check_signers` traces).
    let mut keys = signers.to_vec();
    let mut proofs = Vec::new();
    while let Some(key) = keys.get(proofs.len()).copied() {
        let proof = build_signer(index, &key, prove)?;
        for pe in &proof.entries {
            let signer = BASE64
                .decode(&pe.bytes)
                .ok()
                .and_then(|b| Entry::decode(&b).ok())
                .map(|e| e.signer);
            if let Some(s) = signer.filter(|s| !keys.contains(s)) {
                keys.push(s);
            }
        }
        proofs.push(proof);
    }
    let signers = proofs;
    Ok(Completeness {
        size,
        index: prove(size.saturating_sub(1))?,
        key: key.to_hex(),
        seqs: index.get(key).map(|l| l.seqs.clone()),
        trie_proof: TrieProofJson::from(&index.prove(key)),
        signers,
    })
}

/// The distinct signers of `entries`, in order of first appearance: whose histories a case's
/// completeness proof carries.
pub fn signers_of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<PublicKey> {
    let mut out: Vec<PublicKey> = Vec::new();
    for e in entries {
        if !out.contains(&e.signer) {
            out.push(e.signer);
        }
    }
    out
}

/// The proof of an officer key's history, for [`Completeness::signers`].
fn build_signer<E>(
    index: &crate::Index,
    signer: &PublicKey,
    prove: &mut dyn FnMut(u64) -> Result<ProvenEntry, E>,
) -> Result<SignerProof, E> {
    let key = IndexKey::officer(signer);
    let seqs = index.get(&key).map(|l| l.seqs.clone()).unwrap_or_default();
    let entries = seqs
        .iter()
        .map(|&s| prove(s))
        .collect::<Result<Vec<_>, E>>()?;
    Ok(SignerProof {
        key: *signer,
        index_key: key.to_hex(),
        seqs,
        trie_proof: TrieProofJson::from(&index.prove(&key)),
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(bits: u16, label: &str, value: &str) -> Option<NodeJson> {
        Some(NodeJson {
            bits,
            label: label.into(),
            value: value.into(),
        })
    }

    /// A malformed trie proof from a server is an error that says what is wrong, never a
    /// panic or a proof.
    #[test]
    fn malformed_trie_proofs_say_what_is_wrong() {
        let v = "00".repeat(32);
        let cases: [(Option<NodeJson>, &str); 5] = [
            (node(8, "zz", &v), "is not hex"),
            (node(9, "ff", &v), "needs 2 bytes, got 1"),
            (node(4, "0f", &v), "has bits set after its length"),
            (node(300, "", &v), "a label has at most 256"),
            (node(8, "ff", "abc"), "is not 64 hex digits"),
        ];
        for (end, want) in cases {
            let p = TrieProofJson {
                end,
                siblings: vec![],
            };
            let err = p.parse().expect_err(want);
            assert!(err.to_string().contains(want), "{err} lacks {want:?}");
        }
        let long = TrieProofJson {
            end: None,
            siblings: vec![None; 258],
        };
        assert!(long
            .parse()
            .expect_err("too long")
            .to_string()
            .contains("258 siblings"));
    }

    #[test]
    fn signers_are_listed_once_in_order() {
        use sijil_core::entry::SignatureBytes;
        let entry = |k: u8| Entry {
            format: 1,
            seq: 0,
            prev: Hash::ZERO,
            recorded_at: 0,
            signer: PublicKey([k; 32]),
            case: None,
            event: Event::Erasure(sijil_core::event::Erasure {
                target: 0,
                reason: "r".into(),
            }),
            signature: SignatureBytes([0; 64]),
        };
        let es = [entry(2), entry(1), entry(2), entry(3), entry(1)];
        assert_eq!(
            signers_of(&es),
            vec![PublicKey([2; 32]), PublicKey([1; 32]), PublicKey([3; 32])]
        );
    }
}
