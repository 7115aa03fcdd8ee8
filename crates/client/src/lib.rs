//! sijil-client: fetch, verify and mirror a register over HTTP (DESIGN §8).
//!
//! Every tool here works against any server that speaks the C2SP tlog-tiles layout (a sijil
//! server, a static file host, another mirror) or a directory, through the audit engine's
//! [`sijil_register::audit::Source`], and trusts nothing it fetched before it is verified
//! against a checkpoint signed by the log's key, with sijil-core's verification code.
//!
//! - [`verify::verify`]: the checkpoint's signature (and witness cosignatures), its
//!   consistency with the last checkpoint this client saw for that origin ([`state`]), and a
//!   few entries' inclusion.
//! - [`mirror::mirror`]: an incremental pull copy that re-verifies every new entry before its
//!   own checkpoint moves; the result is a register directory `sijil serve` can serve.
//! - [`evidence`]: when two checkpoints signed by the same key cannot both be honest, a
//!   self-contained file anyone can re-check.
//! - [`officers`]: the register's officers over HTTP, rebuilt from its own entries, proven
//!   complete as of a verified checkpoint (`sijil officers URL`).
//! - [`cosign`]: the register's side of C2SP tlog-witness: submit the checkpoint to witnesses
//!   and publish the cosigned note.
//! - [`submit`]: an officer's side of the sequencer (`sijil submit`): sign a batch here for the
//!   head the sequencer gives, send it, retry without ever recording it twice, keep the receipt.
//! - [`http`]: the HTTP client (concurrency, retries with backoff, a rate cap, size and time
//!   bounds, gzip).
#![forbid(unsafe_code)]

pub mod case;
pub mod cosign;
pub mod evidence;
pub mod http;
pub mod mirror;
pub mod officers;
pub mod rotation;
pub mod state;
pub mod submit;
mod tiles;
pub mod verify;

use std::path::PathBuf;

use sijil_core::checkpoint::CheckpointError;
use sijil_core::cosignature::CosignatureError;
use sijil_core::durable::IoError;
use sijil_core::merkle::MerkleError;
use sijil_register::audit::{AuditFailure, SourceError};

pub use evidence::Evidence;

/// What can go wrong verifying, mirroring or cosigning. [`Error::kind`] sorts them into the
/// CLI's exit codes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two checkpoints signed by the log's key cannot both be honest; the evidence was saved.
    #[error("FORK: {what}; evidence saved to {}", path.display())]
    Fork {
        what: String,
        path: PathBuf,
        evidence: Box<Evidence>,
    },
    /// The register (or a server's copy of it) failed verification.
    #[error("{0}")]
    Audit(#[from] AuditFailure),
    /// The served tiles do not match the served checkpoint (not a fork: bad data).
    #[error("{what}: {source}")]
    Tiles { what: String, source: MerkleError },
    /// An entry spot-checked by `verify` is not what the tree says.
    #[error("entry {seq}: {message}")]
    Entry { seq: u64, message: String },
    /// The witness policy is not met.
    #[error("checkpoint of size {size}: {source}")]
    Witness { size: u64, source: CosignatureError },
    /// The served checkpoint is older than one already verified for this origin.
    #[error("{source_name} serves a checkpoint of size {served}, older than the size {held} already verified ({held_by}): a stale copy or a rollback")]
    Behind {
        source_name: String,
        served: u64,
        held: u64,
        held_by: String,
    },
    /// An answer is not as of the checkpoint verified (a stale or split view).
    #[error("stale answer: {what}")]
    Stale { what: String },
    /// The log's chain of keys (docs/FORMAT.md §3.1) does not lead from the key trusted to a
    /// key that signs the checkpoint: a retired key signing past its rotation, a rotation not
    /// signed by the key before it, a key that is not the log's.
    #[error("log key: {message}")]
    LogKey { message: String },
    /// A server or directory could not be read.
    #[error("{0}")]
    Source(#[from] SourceError),
    /// A local file (state, mirror directory) could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A local checkpoint (state file, mirror) does not verify with the key given.
    #[error("{}: {source}", path.display())]
    LocalCheckpoint {
        path: PathBuf,
        source: CheckpointError,
    },
    /// The mirror directory is damaged or is not a copy of this log.
    #[error("mirror {}: {what}", dir.display())]
    LocalCorrupt { dir: PathBuf, what: String },
    /// A file of the mirror directory could not be read or written (I/O, not a wrong file).
    #[error("mirror {}: {what}", dir.display())]
    LocalIo { dir: PathBuf, what: String },
    /// Another run holds the directory's lock.
    #[error("another run holds {}; one mirror run at a time (try again later)", lock.display())]
    Locked { lock: PathBuf },
    /// A witness did not cosign.
    #[error("witness {url}: {message}")]
    WitnessRefused { url: String, message: String },
    /// A witness has cosigned a larger checkpoint of this log than the register's: the
    /// register is behind what was published (a restored backup), or another copy signs.
    #[error("witness {url}: it has cosigned size {size}, larger than the register's {ours}")]
    WitnessAhead { url: String, size: u64, ours: u64 },
    /// Bad input: a key, an option, a file that is not what it should be.
    #[error("{0}")]
    Usage(String),
    /// The sequencer refused a submission (or its head request): nothing was recorded.
    #[error("{url} refused (HTTP {status}; nothing was recorded): {message}")]
    Refused {
        url: String,
        status: u16,
        message: String,
    },
    /// An event could not be signed (the message `sijil append` gives).
    #[error(transparent)]
    Register(sijil_register::Error),
    /// The sequencer's answer is not a receipt of exactly the batch sent, or does not verify.
    #[error("receipt: {0}")]
    Receipt(String),
    /// The sequencer did not answer; the batch may or may not be recorded. `pending` holds
    /// it: running `submit` again sends it again, and it is recorded once.
    #[error("no answer from the sequencer ({message}); {}", match pending {
        Some(p) => format!("the signed batch is saved in {}: run the same `sijil submit` again to send it again (it is recorded once)", p.display()),
        None => "nothing was sent".to_owned(),
    })]
    Unanswered {
        message: String,
        pending: Option<PathBuf>,
    },
}

/// How a failure should be reported (the CLI's exit codes 3, 1 and 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A fork was found and its evidence saved (exit 3).
    Fork,
    /// Something failed verification (exit 1).
    Unverified,
    /// Usage, network or I/O (exit 2).
    Unavailable,
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Fork { .. } => ErrorKind::Fork,
            Error::Audit(a) if a.is_unverified() => ErrorKind::Unverified,
            Error::Tiles { source, .. } if !is_storage(source) => ErrorKind::Unverified,
            Error::Entry { .. }
            | Error::Witness { .. }
            | Error::Behind { .. }
            | Error::Stale { .. }
            | Error::LogKey { .. } => ErrorKind::Unverified,
            Error::WitnessRefused { .. } | Error::WitnessAhead { .. } => ErrorKind::Unverified,
            // A refused batch or event, a receipt that does not verify: exit 1, as `append`.
            Error::Refused { .. } | Error::Register(_) | Error::Receipt(_) => ErrorKind::Unverified,
            // A local checkpoint (a state file, a mirror's or a register's own) that does not
            // verify with the key: a register that fails verification, like a served one.
            Error::LocalCheckpoint { .. } | Error::LocalCorrupt { .. } => ErrorKind::Unverified,
            _ => ErrorKind::Unavailable,
        }
    }
}

/// Whether a tile error means "could not read" rather than "does not verify".
pub(crate) fn is_storage(e: &MerkleError) -> bool {
    matches!(e, MerkleError::Storage(_) | MerkleError::MissingTile { .. })
}

/// Formats Unix milliseconds as RFC 3339 (UTC), for reports and evidence.
pub fn rfc3339(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| format!("@{unix_ms}ms"))
}
