//! The register as a witness's client (c2sp.org/tlog-witness): submit the current checkpoint
//! to each configured witness, learn its size from a 409 and send a consistency proof from
//! the register's own tiles, keep the cosignature lines that verify with that witness's key
//! (ignoring any other), and publish the cosigned checkpoint.
//!
//! The published checkpoint is replaced atomically by the same note with the cosignature
//! lines added: the same tree, so readers and the server take it as the same checkpoint with
//! more signatures. The writer's lock is held meanwhile, so no append interleaves.
//!
//! A witness that refuses with 422 holds a checkpoint of this log that the register's tree
//! does not extend. Its latest checkpoint is fetched from its monitoring endpoint
//! (`<prefix>/<hex SHA-256 of the origin>/checkpoint`); if the log's key signed it and it is
//! inconsistent with the register's, that is a fork, saved as [`Evidence`].

use std::path::{Path, PathBuf};

use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::cosignature::verify_cosignature;
use sijil_core::durable;
use sijil_core::merkle::prove_consistency;
use sijil_core::note::{NoteSignature, Verifier};
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::TileHashReader;
use sijil_core::writer::{lock_exclusive, WriterError};
use sijil_core::{sha256, Hash};

use crate::evidence::{compare, Consistency, Evidence, Seen};
use crate::http::HttpClient;
use crate::verify::save_fork;
use crate::{rfc3339, Error};

/// A witness: where to submit (its submission prefix) and its cosigner key (`0x04`).
#[derive(Clone, Debug)]
pub struct WitnessTarget {
    pub url: String,
    pub key: Verifier,
}

impl WitnessTarget {
    /// Parses `URL=VKEY` (split at the first `=`, as a URL rarely holds one and a key's
    /// base64 may end in `=`).
    ///
    /// # Errors
    /// [`Error::Usage`] for anything else, or a key that is not a cosigner key.
    pub fn parse(s: &str) -> Result<WitnessTarget, Error> {
        let (url, key) = s
            .split_once('=')
            .ok_or_else(|| Error::Usage(format!("--witness {s:?}: expected URL=VKEY")))?;
        if !crate::http::is_url(url) {
            return Err(Error::Usage(format!(
                "--witness {s:?}: {url:?} is not an http(s) URL"
            )));
        }
        let key = Verifier::parse(key.trim())
            .map_err(|e| Error::Usage(format!("--witness {url}: key: {e}")))?;
        if key.key_type() != sijil_core::note::KeyType::Ed25519Cosignature {
            return Err(Error::Usage(format!(
                "--witness {url}: {} is a {} key, not an Ed25519 cosigner key (0x04)",
                key.name(),
                key.key_type()
            )));
        }
        Ok(WitnessTarget {
            url: url.trim_end_matches('/').to_owned(),
            key,
        })
    }
}

/// What one witness answered.
#[derive(Debug)]
pub enum WitnessOutcome {
    /// It cosigned: the line added.
    Cosigned(NoteSignature),
    /// It did not (the reason).
    Failed(Error),
}

/// What [`cosign`] did.
#[derive(Debug)]
pub struct CosignReport {
    /// The published checkpoint, with every cosignature collected.
    pub checkpoint: SignedCheckpoint,
    /// One outcome per witness, in order.
    pub outcomes: Vec<(String, WitnessOutcome)>,
}

/// Submits the checkpoint of the register at `dir` to `witnesses` and publishes the cosigned
/// checkpoint. The log's verifier key is taken from `private/log.key` (this runs where the
/// register is written). It takes the register's writer lock for the whole round; beside a
/// running `sijil sequencer`, which holds that lock, the sequencer cosigns itself
/// ([`collect`] and [`publish`] between its batches: `sijil sequencer --cosign-every`).
///
/// # Errors
/// [`Error::Usage`] while an append or a sequencer holds the lock; [`Error::Fork`] when a
/// witness holds a checkpoint signed by the log that the register's tree does not extend
/// (evidence saved under `evidence_dir`); [`Error::LocalCheckpoint`], [`Error::Io`],
/// [`Error::Usage`] for the register. A witness that fails otherwise is reported in
/// [`CosignReport::outcomes`].
pub fn cosign(
    dir: &Path,
    witnesses: &[WitnessTarget],
    client: &HttpClient,
    now_ms: i64,
    evidence_dir: &Path,
) -> Result<CosignReport, Error> {
    let layout = Layout::new(dir);
    let _lock = lock_exclusive(&layout.lock()).map_err(|e| match e {
        WriterError::Locked { lock } => Error::Usage(format!(
            "another writer holds {}: an append in progress (try again), or `sijil sequencer`, which holds it while it runs and cosigns the checkpoint itself when started with --witness URL=VKEY (--cosign-every)",
            lock.display()
        )),
        WriterError::Io(io) => Error::Io(io),
        other => Error::Usage(other.to_string()),
    })?;
    let log_key = sijil_register::read_private_key(&layout.log_key())
        .map_err(|e| Error::Usage(e.to_string()))?;
    let verifier = log_key.verifier();
    let bytes = layout.read_checkpoint()?;
    let checkpoint =
        SignedCheckpoint::open(&bytes, &verifier).map_err(|source| Error::LocalCheckpoint {
            path: layout.checkpoint(),
            source,
        })?;
    let tiles = DirTiles::new(layout.clone());
    let outcomes = collect(
        &checkpoint,
        &verifier,
        &tiles,
        witnesses,
        client,
        now_ms,
        evidence_dir,
    )?;
    // The lock is held: the checkpoint file is still of the tree the witnesses saw.
    let checkpoint = publish(&layout, &verifier, &checkpoint, &outcomes)?.ok_or_else(|| {
        Error::Usage(format!(
            "{}: the checkpoint changed while the writer's lock was held",
            layout.checkpoint().display()
        ))
    })?;
    Ok(CosignReport {
        checkpoint,
        outcomes,
    })
}

/// Asks each of `witnesses` to cosign `checkpoint` (the register's, signed by the log key
/// `verifier`, whose tiles `tiles` holds), with a consistency proof from the size each one
/// last cosigned. Only network and reads: the register is not changed, so a sequencer runs
/// this outside its batches and [`publish`]es between two.
///
/// # Errors
/// [`Error::Fork`] when a witness holds a checkpoint signed by the log that `checkpoint`'s
/// tree does not extend (evidence saved under `evidence_dir`). Any other failure of a witness
/// is its outcome.
pub fn collect(
    checkpoint: &SignedCheckpoint,
    verifier: &Verifier,
    tiles: &DirTiles,
    witnesses: &[WitnessTarget],
    client: &HttpClient,
    now_ms: i64,
    evidence_dir: &Path,
) -> Result<Vec<(String, WitnessOutcome)>, Error> {
    let mut outcomes = Vec::new();
    for w in witnesses {
        let outcome = match submit(w, checkpoint, verifier, tiles, client, now_ms, evidence_dir) {
            Ok(line) => WitnessOutcome::Cosigned(line),
            Err(e @ Error::Fork { .. }) => return Err(e),
            Err(e) => WitnessOutcome::Failed(e),
        };
        outcomes.push((w.url.clone(), outcome));
    }
    Ok(outcomes)
}

/// Adds the cosignatures of `outcomes`, collected for `cosigned`, to the register's
/// checkpoint file if it still holds the same tree (size and root), replacing it atomically:
/// the same checkpoint with more signature lines, which readers and `sijil serve` take as the
/// same tree (a witness's newer line replaces its older one). `None`, with nothing written,
/// when the log has grown since (a batch was committed meanwhile): those cosignatures are of
/// a checkpoint no longer served. The caller holds the writer's lock, or is the writer
/// between two batches, so that no commit replaces the file meanwhile.
///
/// # Errors
/// [`Error::LocalCheckpoint`] (the file does not verify with `verifier`, or the lines would
/// make it too large), [`Error::Io`].
pub fn publish(
    layout: &Layout,
    verifier: &Verifier,
    cosigned: &SignedCheckpoint,
    outcomes: &[(String, WitnessOutcome)],
) -> Result<Option<SignedCheckpoint>, Error> {
    let local = |source| Error::LocalCheckpoint {
        path: layout.checkpoint(),
        source,
    };
    let bytes = layout.read_checkpoint()?;
    let mut current = SignedCheckpoint::open(&bytes, verifier).map_err(local)?;
    let (now, then) = (&current.checkpoint, &cosigned.checkpoint);
    if now.size != then.size || now.root != then.root {
        return Ok(None);
    }
    let lines: Vec<NoteSignature> = outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            WitnessOutcome::Cosigned(line) => Some(line.clone()),
            WitnessOutcome::Failed(_) => None,
        })
        .collect();
    if !lines.is_empty() {
        current.add_cosignatures(lines).map_err(local)?;
        durable::replace(
            &layout.checkpoint(),
            &layout.checkpoint_tmp(),
            &current.bytes,
        )?;
    }
    Ok(Some(current))
}

/// The add-checkpoint exchange with one witness.
fn submit(
    w: &WitnessTarget,
    checkpoint: &SignedCheckpoint,
    verifier: &Verifier,
    tiles: &DirTiles,
    client: &HttpClient,
    now_ms: i64,
    evidence_dir: &Path,
) -> Result<NoteSignature, Error> {
    let cp = &checkpoint.checkpoint;
    let refused = |message: String| Error::WitnessRefused {
        url: w.url.clone(),
        message,
    };
    let url = format!("{}/add-checkpoint", w.url);
    let mut old = 0u64;
    // Rotation evidence is sent once, when the witness refuses the checkpoint's signature.
    let mut evidence_sent = false;
    // A 409 tells the witness's size; a second one means it moved meanwhile. Three rounds.
    for _ in 0..3 {
        let proof: Vec<Hash> = if old == 0 || old == cp.size {
            Vec::new()
        } else {
            let reader = TileHashReader::new(cp.size, cp.root, tiles);
            prove_consistency(old, cp.size, &reader).map_err(|source| Error::Tiles {
                what: format!("consistency proof from size {old} to {}", cp.size),
                source,
            })?
        };
        let mut body = format!("old {old}\n").into_bytes();
        for h in &proof {
            body.extend_from_slice(h.to_base64().as_bytes());
            body.push(b'\n');
        }
        body.push(b'\n');
        body.extend_from_slice(&checkpoint.bytes);
        let answer = client
            .block_on(client.post(&url, body))
            .map_err(|e| refused(e.to_string()))?;
        let text = String::from_utf8_lossy(&answer.body);
        match answer.status {
            200 => {
                let lines = NoteSignature::parse_lines(&answer.body)
                    .map_err(|e| refused(format!("answer: {e}")))?;
                // Lines by other keys are ignored (c2sp.org/tlog-witness); ours must verify.
                let mut valid = None;
                for line in lines.into_iter().filter(|l| w.key.matches(l)) {
                    verify_cosignature(&line, &checkpoint.note.text, &w.key)
                        .map_err(|e| refused(format!("cosignature: {e}")))?;
                    valid = Some(line);
                }
                return valid
                    .ok_or_else(|| refused(format!("no cosignature by {} in the answer", w.key)));
            }
            409 => {
                let size = text
                    .strip_suffix('\n')
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| refused(format!("409 without a size: {text:?}")))?;
                if size > cp.size {
                    return Err(witness_fork(
                        w,
                        checkpoint,
                        verifier,
                        tiles,
                        client,
                        now_ms,
                        evidence_dir,
                    )
                    .unwrap_or_else(|| Error::WitnessAhead {
                        url: w.url.clone(),
                        size,
                        ours: cp.size,
                    }));
                }
                old = size;
            }
            422 => {
                return Err(witness_fork(
                    w,
                    checkpoint,
                    verifier,
                    tiles,
                    client,
                    now_ms,
                    evidence_dir,
                )
                .unwrap_or_else(|| refused(format!("422: {}", text.trim_end()))));
            }
            // The witness does not trust the key that signs the checkpoint: after a rotation
            // (docs/FORMAT.md §3.1), send it the chain of keys from the register's own files,
            // then the checkpoint again.
            403 if !evidence_sent => {
                evidence_sent = true;
                send_rotation(w, checkpoint, tiles, client).map_err(|e| {
                    refused(format!(
                        "HTTP 403: {}; rotation evidence refused: {e}",
                        text.trim_end()
                    ))
                })?;
            }
            status => return Err(refused(format!("HTTP {status}: {}", text.trim_end()))),
        }
    }
    Err(refused("its size kept changing (409 three times)".into()))
}

/// Sends a sijil witness the evidence that the log rotated its key (`POST
/// <prefix>/sijil/log-keys`, docs/API.md): the register's log-keys answer for `checkpoint`,
/// with a consistency proof from the size the witness last cosigned (learnt from its 409).
fn send_rotation(
    w: &WitnessTarget,
    checkpoint: &SignedCheckpoint,
    tiles: &DirTiles,
    client: &HttpClient,
) -> Result<(), String> {
    let cp = &checkpoint.checkpoint;
    let answer = sijil_register::rotation::dir_log_keys(tiles.layout().root())
        .map_err(|e| format!("the register's chain of keys: {e}"))?;
    let ours = sijil_register::rotation::unverified_checkpoint(answer.checkpoint.text.as_bytes())
        .map_err(|e| e.to_string())?;
    if (ours.size, ours.root) != (cp.size, cp.root) {
        return Err("the register's checkpoint changed meanwhile".into());
    }
    let url = format!("{}/sijil/log-keys", w.url);
    let mut old = 0u64;
    for _ in 0..3 {
        let proof: Vec<String> = if old == 0 || old == cp.size {
            Vec::new()
        } else {
            let reader = TileHashReader::new(cp.size, cp.root, tiles);
            prove_consistency(old, cp.size, &reader)
                .map_err(|e| format!("consistency proof from size {old}: {e}"))?
                .iter()
                .map(Hash::to_base64)
                .collect()
        };
        let body = serde_json::to_vec(&crate::rotation::RotationEvidence {
            answer: answer.clone(),
            old_size: old,
            proof,
        })
        .map_err(|e| e.to_string())?;
        let got = client
            .block_on(client.post(&url, body))
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&got.body);
        match got.status {
            200 => {
                tracing::info!(witness = %w.url, answer = %text.trim_end(), "the witness follows the log key rotation");
                return Ok(());
            }
            409 => {
                old = text
                    .trim_end()
                    .parse()
                    .map_err(|_| format!("409 without a size: {text:?}"))?;
            }
            status => return Err(format!("HTTP {status}: {}", text.trim_end())),
        }
    }
    Err("its size kept changing (409 three times)".into())
}

/// The witness's latest checkpoint, if the log signed it and it cannot be consistent with
/// the register's: the fork, with its evidence saved.
fn witness_fork(
    w: &WitnessTarget,
    checkpoint: &SignedCheckpoint,
    verifier: &Verifier,
    tiles: &DirTiles,
    client: &HttpClient,
    now_ms: i64,
    evidence_dir: &Path,
) -> Option<Error> {
    let cp = &checkpoint.checkpoint;
    let url = format!(
        "{}/{}/checkpoint",
        w.url,
        sha256(cp.origin.as_bytes()).to_hex()
    );
    let answer = client.block_on(client.get(&url)).ok()?;
    if answer.status != 200 {
        return None;
    }
    let theirs = SignedCheckpoint::open(&answer.body, verifier).ok()?;
    let t = &theirs.checkpoint;
    let now = rfc3339(now_ms);
    let seen = |c: &SignedCheckpoint, source: String| Seen {
        note: String::from_utf8_lossy(&c.bytes).into_owned(),
        source,
        seen_at: now.clone(),
    };
    let ours = seen(checkpoint, "the register's checkpoint".into());
    let evidence = if t.size == cp.size {
        (t.root != cp.root).then(|| {
            Evidence::same_size(
                seen(&theirs, url.clone()),
                ours,
                &cp.origin,
                "sijil cosign",
                &now,
            )
        })
    } else if t.size < cp.size && t.size > 0 {
        match compare(t, cp, tiles) {
            Consistency::Fork(proof) => Some(Evidence::inconsistent(
                seen(&theirs, url.clone()),
                ours,
                proof,
                &cp.origin,
                "sijil cosign",
                &now,
            )),
            _ => None,
        }
    } else {
        None
    }?;
    Some(save_fork(evidence, evidence_dir, now_ms, || {
        format!(
            "witness {} holds a checkpoint of size {} signed by the log that the register's tree of size {} does not extend",
            w.url, t.size, cp.size
        )
    }))
}

/// The default place for evidence found while cosigning: `DIR/private/evidence`.
pub fn default_evidence_dir(dir: &Path) -> PathBuf {
    Layout::new(dir).private().join("evidence")
}
