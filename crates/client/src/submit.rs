//! The officer's side of the submission protocol (`sijil submit`; docs/API.md, "Submitting
//! events"): read the head from the sequencer, sign the batch here with the officer's key
//! (which never leaves this machine), send it, and keep the receipt.
//!
//! Retries never record a batch twice:
//!
//! - a request that got no answer is sent again with the **same bytes** (the HTTP client's
//!   retries): the sequencer recognizes a batch it already committed and answers with its
//!   receipt;
//! - before the batch is sent, it is saved in a pending file beside the receipt
//!   (`RECEIPT.pending`), and removed once the receipt is saved or the batch refused. If
//!   `submit` stops without an answer (the sequencer or this machine went down), running it
//!   again with the same events sends the saved batch first, so it is recorded once whatever
//!   happened to the first attempt;
//! - a 409 (the head moved: another officer's batch came first) means the batch was not and
//!   never will be recorded (its seqs belong to other entries): `submit` reads the new head,
//!   signs again and retries, a bounded number of times with jittered backoff.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand_core::{OsRng, RngCore as _};
use serde::{Deserialize, Serialize};
use sijil_core::cosignature::WitnessPolicy;
use sijil_core::durable;
use sijil_core::note::{Signer, Verifier};
use sijil_core::{sha256, Hash};
use sijil_register::batch::{cases_of, needs_of, sign_batch, Allocation};
use sijil_register::submission::{HeadAnswer, Receipt, Submission};
use sijil_register::Draft;

use crate::http::{HttpClient, HttpError};
use crate::Error;

/// The `format` of a pending file.
const PENDING_FORMAT: &str = "sijil-pending-submission/v1";

/// What [`submit`] needs besides the events and the key.
#[derive(Debug)]
pub struct SubmitOptions {
    /// The sequencer's base URL (`http://host:port/`).
    pub url: String,
    /// SHA-256 of the events file: a pending batch is sent again only for the same events.
    pub events_digest: Hash,
    /// Where the receipt is saved; the pending batch goes to the same path + `.pending`.
    pub receipt: PathBuf,
    /// The log's verifier key, to verify the receipt's checkpoint (and the head's).
    pub log: Option<Verifier>,
    /// Signing rounds at most (each after a 409).
    pub attempts: u32,
    /// Check remotely, commit nothing (no pending file, no receipt).
    pub dry_run: bool,
    /// The clock (Unix ms) that stamps `recorded_at`.
    pub now_ms: fn() -> i64,
}

/// What [`submit`] did.
#[derive(Debug)]
pub enum SubmitOutcome {
    /// Committed (or found committed): the receipt, saved.
    Receipt {
        receipt: Receipt,
        /// The receipt's checkpoint signature was verified with [`SubmitOptions::log`].
        verified: bool,
        /// Signing rounds it took.
        rounds: u32,
        /// The batch sent was one saved by an earlier run.
        resent: bool,
        /// The case numbers the batch's `"case":"auto"` events opened ([`allocations`]).
        allocated: Vec<Allocation>,
    },
    /// A dry run that would commit.
    DryRun {
        first_seq: u64,
        last_seq: u64,
        tree_size: u64,
        /// The case numbers the batch would open for its `"auto"` events.
        allocated: Vec<Allocation>,
    },
}

/// A batch saved before it is sent.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pending {
    format: String,
    url: String,
    /// Hex SHA-256 of the events file.
    events_sha256: String,
    /// The submission body, verbatim.
    body: String,
}

/// The pending file of a receipt path: `RECEIPT.pending`.
pub fn pending_path(receipt: &Path) -> PathBuf {
    suffixed(receipt, ".pending")
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Signs `drafts` with `officer` for the sequencer's head and submits them (see the module).
///
/// # Errors
/// [`Error::Refused`] (400, 403, 413 or another final status: the batch is not recorded and
/// the pending file is removed), [`Error::Register`] (an event that cannot be signed, as
/// `append` says), [`Error::Receipt`] (an answer that is not a receipt of exactly the batch
/// sent, or that does not verify), [`Error::Usage`] (a pending batch of other events, the head
/// kept moving), [`Error::Io`] (pending file or receipt), and [`Error::Unanswered`] for a
/// sequencer that did not answer, after which running `submit` again is safe.
pub fn submit(
    client: &HttpClient,
    drafts: &[Draft],
    officer: &Signer,
    opts: &SubmitOptions,
) -> Result<SubmitOutcome, Error> {
    let base = opts.url.trim_end_matches('/');
    let pending = pending_path(&opts.receipt);
    let digest = opts.events_digest.to_hex();
    let mut resend = if opts.dry_run {
        None
    } else {
        read_pending(&pending, base, &digest)?
    };
    let resent = resend.is_some();
    let cases = cases_of(drafts);
    // The case numbers and case events the drafts' "auto" cases and case targets need.
    let mut params = vec![("cases", cases.join(","))];
    params.extend(needs_of(drafts).to_params());
    // Case ids are percent-encoded: a malformed one reaches the rules, which name it.
    let head_url = reqwest::Url::parse_with_params(&format!("{base}/api/v1/submit/head"), &params)
        .map_err(|e| Error::Usage(format!("{base}: {e}")))?
        .to_string();
    let submit_url = format!("{base}/api/v1/submit");
    let attempts = opts.attempts.max(1);
    let mut round = 0;
    loop {
        let body = match resend.take() {
            Some(body) => body,
            None => {
                round += 1;
                if round > attempts {
                    return Err(Error::Usage(format!(
                        "{base}: the log's head moved {attempts} times while signing (other officers' batches came first); nothing was recorded; try again"
                    )));
                }
                let body = sign_for_head(client, &head_url, drafts, officer, opts)?;
                if !opts.dry_run {
                    save_pending(&pending, base, &digest, &body)?;
                }
                body
            }
        };
        let sent = Submission::parse(&body, usize::MAX)
            .map_err(|e| Error::Usage(format!("{}: {e}", pending.display())))?;
        let answer = client
            .block_on(client.post(&submit_url, body))
            .map_err(|e| unanswered(e, &pending, opts.dry_run))?;
        let message = || error_message(&answer.body);
        match answer.status {
            200 if opts.dry_run => {
                let v: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| {
                    Error::Receipt(format!("the dry run's answer is not JSON: {e}"))
                })?;
                let field = |name: &str| {
                    v[name].as_u64().ok_or_else(|| {
                        Error::Receipt(format!("the dry run's answer has no {name}"))
                    })
                };
                return Ok(SubmitOutcome::DryRun {
                    first_seq: field("first_seq")?,
                    last_seq: field("last_seq")?,
                    tree_size: field("tree_size")?,
                    allocated: allocations(drafts, &sent.batch.entries),
                });
            }
            200 => {
                let receipt = Receipt::parse(&answer.body)
                    .map_err(|e| Error::Receipt(format!("{submit_url}: {e}")))?;
                check_receipt(&receipt, &sent)?;
                let verified = match &opts.log {
                    Some(log) => {
                        let none = WitnessPolicy::new(Vec::new(), 0)
                            .map_err(|e| Error::Usage(e.to_string()))?;
                        receipt
                            .verify(log, &none)
                            .map_err(|e| Error::Receipt(e.to_string()))?;
                        true
                    }
                    None => false,
                };
                durable::replace(
                    &opts.receipt,
                    &suffixed(&opts.receipt, ".tmp"),
                    &receipt.to_json(),
                )?;
                durable::remove_file(&pending)?;
                return Ok(SubmitOutcome::Receipt {
                    receipt,
                    verified,
                    rounds: round,
                    resent,
                    allocated: allocations(drafts, &sent.batch.entries),
                });
            }
            409 => {
                // Not recorded, and never will be: its seqs are other entries'. Sign again.
                let delay = backoff(round);
                tracing::info!(
                    round,
                    delay_ms = delay.as_millis() as u64,
                    error = %message(),
                    "the head moved; signing again"
                );
                std::thread::sleep(delay);
            }
            status => {
                if !opts.dry_run {
                    durable::remove_file(&pending)?;
                }
                return Err(Error::Refused {
                    url: submit_url,
                    status,
                    message: message(),
                });
            }
        }
    }
}

/// The case numbers `entries` (a batch signed from `drafts`, one entry per draft in their
/// order, as [`sign_batch`] signs it) allocated for the drafts' `"case":"auto"`: each draft
/// whose case is `"auto"`, or `"auto:KEY"` the first time KEY is named, with the case its
/// entry names. Read from the entries sent rather than kept from signing, so that a batch
/// saved by an earlier run and sent again (the pending file) reports the same numbers; the
/// receipt holds exactly these entries ([`check_receipt`]).
pub fn allocations(drafts: &[Draft], entries: &[(sijil_core::Entry, Vec<u8>)]) -> Vec<Allocation> {
    let mut labels: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for (draft, (entry, _)) in drafts.iter().zip(entries) {
        let Some(auto) = draft.case.as_deref().and_then(sijil_register::auto_case) else {
            continue;
        };
        if let Some(label) = auto {
            if labels.contains(&label) {
                continue;
            }
            labels.push(label);
        }
        if let Some(link) = &entry.case {
            out.push(Allocation {
                line: draft.line,
                label: auto.map(str::to_owned),
                case: link.id.clone(),
                seq: entry.seq,
            });
        }
    }
    out
}

/// Reads the head, signs the batch for it, and returns the submission's body.
fn sign_for_head(
    client: &HttpClient,
    head_url: &str,
    drafts: &[Draft],
    officer: &Signer,
    opts: &SubmitOptions,
) -> Result<Vec<u8>, Error> {
    let answer = client
        .block_on(client.get(head_url))
        .map_err(|e| Error::Unanswered {
            message: e.to_string(),
            pending: None,
        })?;
    if answer.status == 404 {
        return Err(Error::Usage(format!(
            "{head_url}: HTTP 404: no submission endpoint here; is this the sequencer's address (`sijil sequencer`), not the read-only server's (`sijil serve`)?"
        )));
    }
    if answer.status != 200 {
        return Err(Error::Refused {
            url: head_url.to_owned(),
            status: answer.status,
            message: error_message(&answer.body),
        });
    }
    let head =
        HeadAnswer::parse(&answer.body).map_err(|e| Error::Receipt(format!("{head_url}: {e}")))?;
    if let Some(log) = &opts.log {
        sijil_core::checkpoint::SignedCheckpoint::open(head.checkpoint.as_bytes(), log)
            .map_err(|e| Error::Receipt(format!("{head_url}: the head's checkpoint: {e}")))?;
    }
    if drafts.len() > head.max_events {
        return Err(Error::Usage(format!(
            "{} events: the sequencer takes at most {} per batch; split the events file",
            drafts.len(),
            head.max_events
        )));
    }
    let batch = sign_batch(&head.head(), drafts.to_vec(), officer, (opts.now_ms)())
        .map_err(Error::Register)?;
    let body = Submission {
        batch,
        dry_run: opts.dry_run,
    }
    .to_json();
    if body.len() > head.max_body {
        return Err(Error::Usage(format!(
            "the batch is {} bytes; the sequencer takes at most {}; split the events file",
            body.len(),
            head.max_body
        )));
    }
    Ok(body)
}

/// The receipt names exactly the entries sent, byte for byte, at their seqs.
fn check_receipt(receipt: &Receipt, sent: &Submission) -> Result<(), Error> {
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    let ours: Vec<(u64, String)> = sent
        .batch
        .entries
        .iter()
        .map(|(e, bytes)| (e.seq, BASE64.encode(bytes)))
        .collect();
    let theirs: Vec<(u64, String)> = receipt
        .entries
        .iter()
        .map(|e| (e.seq, e.entry.clone()))
        .collect();
    if ours != theirs {
        return Err(Error::Receipt(
            "the receipt does not hold exactly the entries sent".into(),
        ));
    }
    Ok(())
}

fn read_pending(path: &Path, url: &str, digest: &str) -> Result<Option<Vec<u8>>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(durable::IoError::new("read", path, e).into()),
    };
    let p: Pending = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Usage(format!("{}: not a pending submission: {e}", path.display())))?;
    if p.format != PENDING_FORMAT {
        return Err(Error::Usage(format!(
            "{}: format {:?}, not {PENDING_FORMAT:?}",
            path.display(),
            p.format
        )));
    }
    // The URL may change (a sequencer moved); the batch is signed for one register's origin,
    // which no other register accepts.
    if p.events_sha256 != digest {
        return Err(Error::Usage(format!(
            "{} holds a batch of other events (sent to {}) that may or may not be recorded: run submit again with those events, or delete the file once you checked the register",
            path.display(),
            p.url
        )));
    }
    if p.url != url {
        tracing::warn!(saved_for = %p.url, now = %url, "sending a pending batch to another URL");
    }
    Ok(Some(p.body.into_bytes()))
}

fn save_pending(path: &Path, url: &str, digest: &str, body: &[u8]) -> Result<(), Error> {
    let p = Pending {
        format: PENDING_FORMAT.to_owned(),
        url: url.to_owned(),
        events_sha256: digest.to_owned(),
        body: String::from_utf8_lossy(body).into_owned(),
    };
    let bytes = serde_json::to_vec(&p).map_err(|e| Error::Usage(e.to_string()))?;
    durable::replace(path, &suffixed(path, ".tmp"), &bytes)?;
    Ok(())
}

fn unanswered(e: HttpError, pending: &Path, dry_run: bool) -> Error {
    Error::Unanswered {
        message: e.to_string(),
        pending: (!dry_run).then(|| pending.to_path_buf()),
    }
}

/// The `error` of a JSON answer, or its text.
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(500).collect())
}

/// `50 ms · 2^(round−1)`, at most 2 s, times a random factor in [0.5, 1.5): officers whose
/// batches collided do not come back in step.
fn backoff(round: u32) -> Duration {
    let base = Duration::from_millis(50)
        .saturating_mul(1u32 << round.saturating_sub(1).min(6))
        .min(Duration::from_secs(2));
    let jitter = 0.5 + f64::from(OsRng.next_u32()) / f64::from(u32::MAX);
    base.mul_f64(jitter)
}

/// SHA-256 of an events file's text (what a pending batch is tied to).
pub fn events_digest(text: &str) -> Hash {
    sha256(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        for round in 1..20 {
            let d = backoff(round);
            assert!(d <= Duration::from_secs(3), "{round}: {d:?}");
            assert!(d >= Duration::from_millis(25), "{round}: {d:?}");
        }
        assert_eq!(
            pending_path(Path::new("/x/r.json")),
            PathBuf::from("/x/r.json.pending")
        );
    }

    #[test]
    fn a_pending_batch_of_other_events_is_not_sent() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = tmp.path().join("r.pending");
        save_pending(&p, "http://s", "aa", b"{}").expect("saved");
        assert_eq!(
            read_pending(&p, "http://s", "aa").expect("read"),
            Some(b"{}".to_vec())
        );
        let err = read_pending(&p, "http://s", "bb").expect_err("other events");
        assert!(err.to_string().contains("other events"), "{err}");
        assert_eq!(
            read_pending(&tmp.path().join("none"), "u", "aa").expect("none"),
            None
        );
    }
}
