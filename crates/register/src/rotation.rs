//! Following the chain of log keys (docs/FORMAT.md §3.1, `LogKeyRotated`) from a key one
//! trusts (the genesis key, or a pinned one) to the key that signs a checkpoint, with the
//! register's own entries: the view folded from them knows every key and where it starts.

use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::event::PublicKey;
use sijil_core::note::{KeyType, Note, Verifier};
use sijil_projector::{RegisterInfo, View};

use crate::Error;

/// The verifier key of the log key `key` of the log `origin` (its note key name is the
/// origin, c2sp.org/tlog-checkpoint).
///
/// # Errors
/// [`Error::Corrupt`] if the origin cannot be a key name or the key is not a valid Ed25519
/// point (the projector refuses both, so only a log it never accepted gets here).
pub fn log_verifier(origin: &str, key: &PublicKey) -> Result<Verifier, Error> {
    Verifier::from_ed25519(origin, KeyType::Ed25519, &key.0).map_err(|e| Error::Corrupt {
        what: format!("log key {key}: {e}"),
    })
}

/// The public key of an Ed25519 verifier, as entries name it.
pub fn verifier_key(v: &Verifier) -> Option<PublicKey> {
    <[u8; 32]>::try_from(v.public_key()).ok().map(PublicKey)
}

/// The checkpoint's body, its signatures not yet checked: what the view to check them with is
/// built over (its tiles are verified against this root).
///
/// # Errors
/// [`Error::Checkpoint`] for a note or checkpoint that does not parse.
pub fn unverified_checkpoint(bytes: &[u8]) -> Result<Checkpoint, Error> {
    let note = Note::parse(bytes).map_err(|e| Error::Checkpoint(e.into()))?;
    Ok(Checkpoint::parse(&note.text)?)
}

/// A rotation a verifier followed: the key it trusted, the key that signs now, and the
/// entries that named each key after the trusted one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Followed {
    pub trusted: PublicKey,
    pub current: PublicKey,
    /// `(seq of the LogKeyRotated, the key it named)`, in log order.
    pub rotations: Vec<(u64, PublicKey)>,
}

impl Followed {
    /// "the log key was rotated: K0 → K1 at entry 12 → …", or `None` when no rotation was
    /// followed.
    pub fn sentence(&self) -> Option<String> {
        if self.rotations.is_empty() {
            return None;
        }
        let steps: Vec<String> = self
            .rotations
            .iter()
            .map(|(seq, key)| format!("to {key} at entry {seq}"))
            .collect();
        Some(format!(
            "the log key {} was rotated {}",
            self.trusted,
            steps.join(", then ")
        ))
    }
}

/// Opens `bytes`, the checkpoint of the tree the `view` was folded from (`view.size()` is its
/// size), for a verifier that trusts the log key `trusted`: the checkpoint must be signed by
/// the key the log names for its size (docs/FORMAT.md §3.1), and `trusted` must be one of the
/// log's keys, the chain from it being the log's own `LogKeyRotated` entries, each signed by
/// the key before it (the projector's rules; their signatures are the caller's to have
/// checked). Returns the checkpoint, the verifier of its key, and what was followed.
///
/// # Errors
/// [`Error::Corrupt`] naming the retired key when the checkpoint is signed only by a key a
/// rotation inside the tree retired; [`Error::Checkpoint`] when it is not signed by the key
/// the log names, or `trusted` is not one of the log's keys.
pub fn open_following(
    view: &View,
    bytes: &[u8],
    trusted: &Verifier,
) -> Result<(SignedCheckpoint, Verifier, Followed), Error> {
    let Some(info) = view.register() else {
        // No genesis: nothing to follow; the trusted key alone decides.
        let cp = SignedCheckpoint::open(bytes, trusted)?;
        return Ok((cp, trusted.clone(), no_rotation(trusted)));
    };
    let size = view.size();
    let want = info.log_key_at(size);
    let trusted_key = verifier_key(trusted);
    let Some(from) = trusted_key.and_then(|k| info.log_keys.iter().position(|r| r.key == k)) else {
        // Not a key of this log: the note's own error says so (another key, another origin).
        SignedCheckpoint::open(bytes, trusted)?;
        return Err(Error::Corrupt {
            what: format!(
                "the key {trusted} signs the checkpoint of size {size} but is not one of the log's keys ({})",
                keys(info)
            ),
        });
    };
    let verifier = if Some(want) == trusted_key {
        trusted.clone()
    } else {
        log_verifier(trusted.name(), &want)?
    };
    let cp = match SignedCheckpoint::open(bytes, &verifier) {
        Ok(cp) => cp,
        Err(e) => {
            if let Some(retired_at) = trusted_key.and_then(|k| info.retired_at(&k)) {
                if retired_at < size && SignedCheckpoint::open(bytes, trusted).is_ok() {
                    return Err(Error::Corrupt {
                        what: retired_sentence(size, trusted, retired_at, &want),
                    });
                }
            }
            return Err(e.into());
        }
    };
    let rotations = info
        .log_keys
        .iter()
        .skip(from + 1)
        .take_while(|r| r.named_at < size)
        .map(|r| (r.named_at, r.key))
        .collect();
    Ok((
        cp,
        verifier,
        Followed {
            trusted: trusted_key.unwrap_or(want),
            current: want,
            rotations,
        },
    ))
}

/// The sentence for a checkpoint signed by a retired key.
pub fn retired_sentence(size: u64, key: &Verifier, retired_at: u64, now: &PublicKey) -> String {
    format!(
        "the checkpoint of size {size} is signed by the log key {key}, which was retired at entry {retired_at} (LogKeyRotated): checkpoints larger than {retired_at} are signed by its successor, {now}, and this one is not"
    )
}

fn no_rotation(trusted: &Verifier) -> Followed {
    let k = verifier_key(trusted).unwrap_or(PublicKey([0; 32]));
    Followed {
        trusted: k,
        current: k,
        rotations: Vec::new(),
    }
}

fn keys(info: &RegisterInfo) -> String {
    info.log_keys
        .iter()
        .map(|k| k.key.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The log's chain of keys with the proof of it, as `GET /api/v1/log-keys` serves it
/// (docs/API.md): the register key's entries (docs/FORMAT.md §10.1: `RegisterOpened`, the
/// officers' events and every `LogKeyRotated`), each with its inclusion proof in the
/// checkpoint, and the completeness proof that they are all of them. A client that trusts
/// an older key follows the chain from it (`sijil_client::rotation::follow`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LogKeysAnswer {
    pub tree_size: u64,
    pub checkpoint: NoteText,
    /// The chain as the server's view has it (for readers; a verifier rebuilds it from
    /// `entries`).
    pub log_keys: Vec<LogKeyJson>,
    pub entries: Vec<sijil_index::completeness::ProvenEntry>,
    pub completeness: sijil_index::completeness::Completeness,
}

/// A checkpoint's signed note, verbatim.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct NoteText {
    pub text: String,
}

/// One key of the chain.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LogKeyJson {
    pub key: PublicKey,
    /// The entry that named it (0: `RegisterOpened`).
    pub named_at: u64,
    /// Until which entry it signed (the next key's `named_at`); absent for the current key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<u64>,
    /// `origin+keyid+base64`, as `--key` takes it.
    pub verifier_key: String,
}

/// Builds the log-keys answer for the checkpoint `bytes` of the tree `view` was folded from;
/// `prove(seq)` gives an entry with its inclusion proof in that tree.
///
/// # Errors
/// `prove`'s error; [`Error::Corrupt`] as [`log_verifier`] (through `E: From<Error>`).
pub fn log_keys_answer<E: From<Error>>(
    view: &View,
    bytes: &[u8],
    prove: &mut dyn FnMut(u64) -> Result<sijil_index::completeness::ProvenEntry, E>,
) -> Result<LogKeysAnswer, E> {
    let key = sijil_index::IndexKey::register();
    let seqs = view
        .index()
        .get(&key)
        .map(|l| l.seqs.clone())
        .unwrap_or_default();
    let entries = seqs
        .iter()
        .map(|&seq| prove(seq))
        .collect::<Result<Vec<_>, E>>()?;
    let completeness =
        sijil_index::completeness::build(view.index(), &key, view.size(), &[], prove)?;
    let mut log_keys = Vec::new();
    if let Some(info) = view.register() {
        for k in &info.log_keys {
            log_keys.push(LogKeyJson {
                key: k.key,
                named_at: k.named_at,
                retired_at: info.retired_at(&k.key),
                verifier_key: log_verifier(&info.origin, &k.key)?.to_string(),
            });
        }
    }
    Ok(LogKeysAnswer {
        tree_size: view.size(),
        checkpoint: NoteText {
            text: String::from_utf8_lossy(bytes).into_owned(),
        },
        log_keys,
        entries,
        completeness,
    })
}

/// The log-keys answer of the register directory `dir`, as `sijil serve DIR` would give it:
/// what `sijil verify DIR` reads to follow a rotation (`DirSource` serves it at
/// `api/v1/log-keys`). Built over the checkpoint on disk without checking its signature: the
/// client checks everything the answer holds, that signature included.
///
/// # Errors
/// As [`crate::load_view`] and [`crate::read_entries`]; [`Error::Checkpoint`] for a
/// checkpoint that does not parse.
pub fn dir_log_keys(dir: &std::path::Path) -> Result<LogKeysAnswer, Error> {
    use base64::Engine as _;
    let layout = sijil_core::storage::Layout::new(dir);
    let bytes = layout.read_checkpoint()?;
    let cp = unverified_checkpoint(&bytes)?;
    let tiles = sijil_core::storage::DirTiles::new(layout.clone());
    let view = crate::load_view(&layout, &tiles, &cp)?;
    let (size, root) = (cp.size, cp.root);
    let mut prove = |seq: u64| -> Result<sijil_index::completeness::ProvenEntry, Error> {
        let se = crate::read_entries(&tiles, size, root, seq, seq + 1)?
            .pop()
            .ok_or_else(|| Error::Corrupt {
                what: format!("entry {seq} is not in the tree of size {size}"),
            })?;
        let hashes = sijil_core::tile::TileHashReader::new(size, root, &tiles);
        let proof = sijil_core::merkle::prove_inclusion(size, seq, &hashes)?;
        Ok(sijil_index::completeness::ProvenEntry {
            seq,
            bytes: base64::engine::general_purpose::STANDARD.encode(&se.bytes),
            inclusion_proof: proof.iter().map(|h| h.to_base64()).collect(),
        })
    };
    log_keys_answer(&view, &bytes, &mut prove)
}
