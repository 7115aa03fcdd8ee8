//! A sijil register on disk: the log (sijil-core) and its view (sijil-projector) together.
//!
//! - [`init`] creates a register: its log key, a first officer, the genesis entry.
//! - [`RegisterWriter`] appends clerks' events: each is checked by the projector's rules
//!   *before* it is signed, so an invalid event never enters the log; the batch's texts go to
//!   blobs in the same durable round as its tiles; `--expect-size` makes retries safe.
//! - [`batch::sign_batch`] signs a batch for a head of the log, wherever the officer's key is;
//!   [`RegisterWriter::submit`] commits a batch signed elsewhere (`sijil sequencer`), with the
//!   checks and the wire formats of [`submission`] (the receipt an officer keeps).
//! - [`import`] reads a clerk's CSV export into the drafts of one append, listing every bad
//!   row; [`restore`] is the marker that keeps a restored register from signing behind a
//!   checkpoint seen elsewhere.
//! - [`RegisterReader`] reads committed entries and keeps the view in step with the
//!   checkpoint (the server follows the log with it).
//!
//! A reader's view is loaded from a snapshot (`private/view.snapshot`) when its tree size
//! and root match the log, and rebuilt from the entries otherwise; the writer reads its
//! [`state`] (one record per key, `private/state.redb`) under the same rule. Neither is ever
//! trusted blindly.
#![forbid(unsafe_code)]

pub mod audit;
pub mod batch;
pub mod import;
mod input;
pub mod pending;
pub mod present;
mod reader;
pub mod restore;
pub mod rotation;
pub mod state;
pub mod submission;
mod writer;

pub use input::{auto_case, parse_events, CaseTarget, Draft, InputError, AUTO_CASE, MAX_BATCH};
pub use reader::{
    load_view, load_view_from_snapshot, read_entries, RegisterReader, SharedListing,
    StateBackedReader, StoredEntry,
};
pub use writer::{
    init, keep_state, read_private_key, snapshot_due, write_snapshot, AppendReport, BatchStep,
    InitOptions, InitReport, ProgressFn, RegisterWriter, Submitted,
};

use std::path::PathBuf;

use sijil_core::checkpoint::CheckpointError;
use sijil_core::durable::IoError;
use sijil_core::event::PublicKey;
use sijil_core::merkle::MerkleError;
use sijil_core::writer::WriterError;
use sijil_projector::Rejection;

/// What can go wrong with a register on disk.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Writer(#[from] WriterError),
    #[error(transparent)]
    Io(#[from] IoError),
    /// `index` counts the batch's events from 0; the message counts them from 1, as a
    /// clerk counts the lines of an events file.
    #[error("event {} of the batch ({event}) is rejected: {rejection}", .index + 1)]
    Rejected {
        index: usize,
        event: &'static str,
        rejection: Rejection,
    },
    #[error("event {} of the batch ({event}): {message}", .index + 1)]
    InvalidEvent {
        index: usize,
        event: &'static str,
        message: String,
    },
    #[error("{dir} is not a sijil register (no checkpoint file)")]
    NotARegister { dir: PathBuf },
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("the register on disk fails verification: {what}")]
    Corrupt { what: String },
    /// A file of the register could not be read (an I/O error, not a wrong file).
    #[error("{what}")]
    Unreadable { what: String },
    #[error(transparent)]
    Merkle(#[from] MerkleError),
    #[error("key file {path}: {message}")]
    Key { path: PathBuf, message: String },
    /// A register restored from a backup that is behind a checkpoint seen elsewhere
    /// ([`restore`]): signing would fork the log, so the writer refuses to open.
    #[error("refusing to sign: this log has {size} entries, but a checkpoint of size {seen} was seen at {at} (recorded by `sijil restore` in {}); signing now would fork the log. Bring the backup forward (`sijil mirror` from a copy that has the missing entries into the backup), then run the same `sijil restore` again; or accept the fork with `sijil restore … --accept-fork {seen}` (docs/OPERATIONS.md, \"Backup and restore\")", marker.display())]
    RestoredBehind {
        size: u64,
        seen: u64,
        at: String,
        marker: PathBuf,
    },
    /// The log names a current log key (its genesis key or the latest `LogKeyRotated`'s)
    /// that the writer does not hold: it must not sign with another.
    #[error("the log's current log key is {named} (named by entry {named_at}), but the writer holds {held}; give the current key (private/log.key after `sijil log-key rotate`, or --log-key)")]
    LogKeyNotHeld {
        named: PublicKey,
        named_at: u64,
        held: PublicKey,
    },
    /// A rotation that cannot be made as asked (nothing was written).
    #[error("log key rotation: {message}")]
    Rotation { message: String },
    /// A submitted batch (`sijil sequencer`) that cannot be committed as it is.
    #[error(transparent)]
    Submission(#[from] submission::SubmissionError),
    /// The writer's state (`private/state.redb`) could not be read or rebuilt.
    #[error(transparent)]
    State(#[from] state::StateError),
}

impl Error {
    /// Whether the register on disk fails verification: its checkpoint does not verify, or
    /// its tiles, bundles, entries or blobs do not match it or break the register's rules.
    /// The CLI's exit code 1, where an unreadable file, a missing register, a bad key file or
    /// another I/O error is exit 2.
    pub fn is_corrupt(&self) -> bool {
        match self {
            Error::Checkpoint(_) | Error::Corrupt { .. } => true,
            Error::Merkle(e) => merkle_is_corrupt(e),
            Error::Writer(w) => match w {
                WriterError::Checkpoint { .. } | WriterError::Corrupt { .. } => true,
                WriterError::Merkle(e) => merkle_is_corrupt(e),
                _ => false,
            },
            _ => false,
        }
    }
}

/// Whether a tile error means the register's own files are wrong (a tile that does not match
/// the checkpoint, or that is missing from under it), rather than unreadable.
fn merkle_is_corrupt(e: &MerkleError) -> bool {
    !matches!(e, MerkleError::Storage(_) | MerkleError::Internal(_))
}
