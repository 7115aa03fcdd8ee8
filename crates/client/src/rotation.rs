//! Following the log's key rotations (docs/FORMAT.md §3.1) from a key the client trusts (the
//! genesis key, or a pinned one) to the key that signs the served checkpoint, with the
//! log-keys answer (`GET /api/v1/log-keys`, docs/API.md; `DirSource` builds it for a
//! directory).
//!
//! The answer holds the register key's entries, each with its inclusion proof, and the
//! completeness proof that they are all of them. From the key trusted, each later
//! `LogKeyRotated` must be signed by the key before it; the checkpoint must then verify with
//! the last key named inside its tree; every rotation must be included in that checkpoint;
//! and the completeness proof (whose `IndexCommitted` the last key signs) shows no rotation
//! was left out. Consistency with the checkpoint the client held before is the caller's
//! ([`crate::verify::verify`]), as for any checkpoint.

use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::event::{Event, PublicKey};
use sijil_core::note::Verifier;
use sijil_index::completeness;
use sijil_register::audit::{Source, LOG_KEYS_PATH};
use sijil_register::rotation::{
    log_verifier, retired_sentence, unverified_checkpoint, verifier_key, Followed,
};

use crate::Error;

pub use sijil_register::rotation::LogKeysAnswer;

/// The body of a sijil witness's `POST /sijil/log-keys` (docs/API.md, "Witness"): the log's
/// log-keys answer, and the consistency proof from the size the witness last cosigned
/// (`old_size`, 0 for none) to the answer's checkpoint.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RotationEvidence {
    #[serde(flatten)]
    pub answer: LogKeysAnswer,
    pub old_size: u64,
    /// RFC 9162 consistency proof, standard base64 hashes.
    #[serde(default)]
    pub proof: Vec<String>,
}

/// The log-keys answer `source` serves, or `None` when it has none (a server older than
/// this client, a mirror's plain files).
///
/// # Errors
/// [`Error::Source`] for a transport failure; [`Error::LogKey`] for an answer that does not
/// parse.
pub fn fetch(source: &dyn Source) -> Result<Option<LogKeysAnswer>, Error> {
    let Some(body) = source.get(LOG_KEYS_PATH)? else {
        return Ok(None);
    };
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|e| Error::LogKey {
            message: format!(
                "{}/{LOG_KEYS_PATH}: not a log-keys answer: {e}",
                source.describe()
            ),
        })
}

/// Follows the chain of keys in `answer` from `trusted` and opens the checkpoint `bytes` with
/// the key it leads to (see the module). Returns the checkpoint, the verifier of the key that
/// signs it, and the rotations followed.
///
/// # Errors
/// [`Error::Stale`] when the answer is as of another checkpoint; [`Error::LogKey`] naming
/// what fails, the retired key's sentence included; [`Error::Entry`] for an entry or proof
/// that does not hold.
pub fn follow(
    answer: &LogKeysAnswer,
    bytes: &[u8],
    trusted: &Verifier,
) -> Result<(SignedCheckpoint, Verifier, Followed), Error> {
    let bad = |message: String| Error::LogKey { message };
    let cp = unverified_checkpoint(bytes).map_err(|e| bad(e.to_string()))?;
    let theirs = unverified_checkpoint(answer.checkpoint.text.as_bytes())
        .map_err(|e| bad(format!("the answer's checkpoint: {e}")))?;
    if (theirs.size, theirs.root) != (cp.size, cp.root) || answer.tree_size != cp.size {
        return Err(Error::Stale {
            what: format!(
                "the log-keys answer is as of the tree of size {}, not the checkpoint of size {} being verified",
                theirs.size, cp.size
            ),
        });
    }
    if cp.origin != trusted.name() {
        return Err(bad(format!(
            "the checkpoint is for origin {:?}, the key {trusted} for {:?}",
            cp.origin,
            trusted.name()
        )));
    }
    let trusted_key =
        verifier_key(trusted).ok_or_else(|| bad(format!("{trusted} is not an Ed25519 key")))?;
    // Every entry included in the checkpoint's tree and signed by the key it names.
    let mut entries = answer
        .entries
        .iter()
        .map(|p| completeness::check_entry(p, &cp))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(e.to_string()))?;
    entries.sort_by_key(|e| e.seq);
    // The chain: the genesis key, then each rotation's key, with the entry naming it.
    let mut chain: Vec<(u64, PublicKey, PublicKey)> = Vec::new(); // (seq, signer, named)
    let mut genesis = None;
    for e in &entries {
        match &e.entry.event {
            Event::RegisterOpened(r) if e.seq == 0 => genesis = Some(r.log_key),
            Event::LogKeyRotated(r) => chain.push((e.seq, e.entry.signer, r.new_key)),
            _ => {}
        }
    }
    let genesis =
        genesis.ok_or_else(|| bad("the answer holds no entry 0 (RegisterOpened)".into()))?;
    // Where the trusted key enters the chain.
    let start = if trusted_key == genesis {
        0
    } else {
        match chain.iter().position(|(_, _, named)| *named == trusted_key) {
            Some(i) => i + 1,
            None => {
                return Err(bad(format!(
                    "{trusted} is not one of this log's keys: entry 0 names {genesis}{}",
                    chain
                        .iter()
                        .map(|(seq, _, k)| format!(", entry {seq} names {k}"))
                        .collect::<String>()
                )))
            }
        }
    };
    // Every key from the genesis on signs the next rotation: checked for the whole chain,
    // so that a key named twice, or a rotation by another key, is caught wherever it is.
    let mut current = genesis;
    for (seq, signer, named) in &chain {
        if *signer != current {
            return Err(bad(format!(
                "the LogKeyRotated at entry {seq} is signed by {signer}, not by the log key then current, {current}"
            )));
        }
        current = *named;
    }
    let origin = cp.origin.clone();
    let current_verifier = log_verifier(&origin, &current).map_err(|e| bad(e.to_string()))?;
    let signed = match SignedCheckpoint::open(bytes, &current_verifier) {
        Ok(signed) => signed,
        Err(e) => {
            if let Some((seq, _, _)) = chain.get(start) {
                // The trusted key was retired inside this tree: does it sign the checkpoint?
                if SignedCheckpoint::open(bytes, trusted).is_ok() {
                    return Err(bad(retired_sentence(cp.size, trusted, *seq, &current)));
                }
            }
            return Err(bad(format!(
                "the checkpoint of size {} is not signed by the log key {current_verifier} that the log names: {e}",
                cp.size
            )));
        }
    };
    // All of the register key's entries (so no rotation is hidden), under the index the
    // current key commits.
    completeness::verify_register(&answer.entries, &answer.completeness, &cp, &current)
        .map_err(|e| bad(format!("the chain of keys is not proven whole: {e}")))?;
    Ok((
        signed,
        current_verifier,
        Followed {
            trusted: trusted_key,
            current,
            rotations: chain[start..]
                .iter()
                .map(|(seq, _, k)| (*seq, *k))
                .collect(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sijil_core::note::Signer;
    use sijil_register::rotation::dir_log_keys;
    use sijil_register::{init, InitOptions, RegisterWriter};

    const ORIGIN: &str = "registre.example.ma/follow";

    /// A register rotated twice: its directory's answer, checkpoint and the three keys.
    fn twice(dir: &std::path::Path) -> (LogKeysAnswer, Vec<u8>, [Signer; 3]) {
        let k0 = Signer::from_seed(ORIGIN, &[1; 32]).expect("key");
        let k1 = Signer::from_seed(ORIGIN, &[2; 32]).expect("key");
        let k2 = Signer::from_seed(ORIGIN, &[3; 32]).expect("key");
        init(
            dir,
            InitOptions {
                origin: ORIGIN.into(),
                title: "t".into(),
                authority: "a".into(),
                officer_name: "amina".into(),
                now_ms: 1_700_000_000_000,
                log_key: Some(k0.clone()),
                officer_key: None,
            },
        )
        .expect("init");
        let mut w = RegisterWriter::open(dir, None).expect("open");
        w.rotate_log_key(k1.clone(), "one", 1_700_000_000_000)
            .expect("rotates");
        w.rotate_log_key(k2.clone(), "two", 1_700_000_000_000)
            .expect("rotates");
        drop(w);
        let answer = dir_log_keys(dir).expect("answer");
        let bytes = std::fs::read(dir.join("checkpoint")).expect("checkpoint");
        (answer, bytes, [k0, k1, k2])
    }

    #[test]
    fn the_chain_is_followed_from_any_key_of_it() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (answer, bytes, [k0, k1, k2]) = twice(&tmp.path().join("reg"));
        let (_, key, f) = follow(&answer, &bytes, &k0.verifier()).expect("from the genesis key");
        assert_eq!(key.to_string(), k2.verifier().to_string());
        assert_eq!(
            f.rotations.iter().map(|(_, k)| *k).collect::<Vec<_>>(),
            vec![PublicKey(k1.public_key()), PublicKey(k2.public_key())]
        );
        let (_, _, f) = follow(&answer, &bytes, &k1.verifier()).expect("from the middle");
        assert_eq!(f.rotations.len(), 1);
        let (_, _, f) = follow(&answer, &bytes, &k2.verifier()).expect("from the current");
        assert!(f.rotations.is_empty());
    }

    #[test]
    fn a_hidden_rotation_a_retired_signer_or_a_stale_answer_is_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let (answer, bytes, [k0, k1, _]) = twice(&tmp.path().join("reg"));
        // The second rotation left out: the completeness proof no longer holds (and the
        // checkpoint is not signed by the last key the answer names).
        let mut hidden = answer.clone();
        let last = hidden
            .entries
            .iter()
            .rposition(|p| {
                completeness::check_entry(p, &unverified_checkpoint(&bytes).expect("cp"))
                    .is_ok_and(|e| matches!(e.entry.event, Event::LogKeyRotated(_)))
            })
            .expect("a rotation");
        hidden.entries.remove(last);
        assert!(matches!(
            follow(&hidden, &bytes, &k0.verifier()),
            Err(Error::LogKey { .. })
        ));
        // The same tree signed by the first rotated-out key: named as retired.
        let text = sijil_core::Note::parse(&bytes).expect("note").text;
        let cp = sijil_core::Checkpoint::parse(&text).expect("cp");
        let forged = SignedCheckpoint::sign(cp, &k1).expect("signs").bytes;
        let mut stale = answer.clone();
        let err = follow(&answer, &forged, &k1.verifier()).expect_err("retired");
        assert!(
            err.to_string().contains("which was retired at entry"),
            "{err}"
        );
        // An answer of another tree is stale.
        stale.tree_size += 1;
        assert!(matches!(
            follow(&stale, &bytes, &k0.verifier()),
            Err(Error::Stale { .. })
        ));
        // A key that is not the log's.
        let other = Signer::from_seed(ORIGIN, &[7; 32]).expect("key");
        let err = follow(&answer, &bytes, &other.verifier()).expect_err("a stranger");
        assert!(
            err.to_string().contains("not one of this log's keys"),
            "{err}"
        );
    }
}
