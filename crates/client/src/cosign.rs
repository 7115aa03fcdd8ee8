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
/// register is written).
///
/// # Errors
/// [`Error::Locked`] while an append runs; [`Error::Fork`] when a witness holds a checkpoint
/// signed by the log that the register's tree does not extend (evidence saved under
/// `evidence_dir`); [`Error::LocalCheckpoint`], [`Error::Io`], [`Error::Usage`] for the
/// register. A witness that fails otherwise is reported in [`CosignReport::outcomes`].
pub fn cosign(
    dir: &Path,
    witnesses: &[WitnessTarget],
    client: &HttpClient,
    now_ms: i64,
    evidence_dir: &Path,
) -> Result<CosignReport, Error> {
    let layout = Layout::new(dir);
    let _lock = lock_exclusive(&layout.lock()).map_err(|e| match e {
        WriterError::Locked { lock } => Error::Locked { lock },
        WriterError::Io(io) => Error::Io(io),
        other => Error::Usage(other.to_string()),
    })?;
    let log_key = sijil_register::read_private_key(&layout.log_key())
        .map_err(|e| Error::Usage(e.to_string()))?;
    let verifier = log_key.verifier();
    let bytes = layout.read_checkpoint()?;
    let mut checkpoint =
        SignedCheckpoint::open(&bytes, &verifier).map_err(|source| Error::LocalCheckpoint {
            path: layout.checkpoint(),
            source,
        })?;
    let tiles = DirTiles::new(layout.clone());
    let mut outcomes = Vec::new();
    let mut lines = Vec::new();
    for w in witnesses {
        let outcome = match submit(
            w,
            &checkpoint,
            &verifier,
            &tiles,
            client,
            now_ms,
            evidence_dir,
        ) {
            Ok(line) => {
                lines.push(line.clone());
                WitnessOutcome::Cosigned(line)
            }
            Err(e @ Error::Fork { .. }) => return Err(e),
            Err(e) => WitnessOutcome::Failed(e),
        };
        outcomes.push((w.url.clone(), outcome));
    }
    if !lines.is_empty() {
        checkpoint
            .add_cosignatures(lines)
            .map_err(|source| Error::LocalCheckpoint {
                path: layout.checkpoint(),
                source,
            })?;
        durable::replace(
            &layout.checkpoint(),
            &layout.checkpoint_tmp(),
            &checkpoint.bytes,
        )?;
    }
    Ok(CosignReport {
        checkpoint,
        outcomes,
    })
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
                    .unwrap_or_else(|| {
                        refused(format!(
                            "it has cosigned size {size}, larger than the register's {}",
                            cp.size
                        ))
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
            status => return Err(refused(format!("HTTP {status}: {}", text.trim_end()))),
        }
    }
    Err(refused("its size kept changing (409 three times)".into()))
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
