//! The journal of blob changes that ride on a batch (`private/pending`).
//!
//! A batch's new blobs are written with its tiles, and an `Erasure` deletes blobs once it is
//! committed. Both must follow the commit point: blobs erased by a committed `Erasure` must
//! not survive a crash, and blobs of a batch that never committed should not stay behind.
//! The journal is written in the batch's own fsync round (so it is durable before the
//! checkpoint rename, the commit point) and removed once the blob changes are done; on open,
//! [`recover`] finishes or undoes them depending on whether the checkpoint reached
//! `target_size`.
//!
//! If a crash loses the journal but keeps some of the uncommitted batch's blobs, those blobs
//! are unreachable garbage: their names are digests over a fresh 32-byte random salt that
//! only the uncommitted entries held.
//!
//! A mirror (sijil-client) keeps its blobs in step with the same journal: it deletes the
//! copies of texts that the origin erased once the checkpoint that erases them is committed.

use serde::{Deserialize, Serialize};
use sijil_core::durable;
use sijil_core::event::TextDigest;
use sijil_core::storage::Layout;

use crate::Error;

/// The blob changes of one batch, written in its durable round (`private/pending`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Journal {
    /// The log size the batch commits to.
    pub target_size: u64,
    /// Blobs written with the batch.
    pub new_blobs: Vec<TextDigest>,
    /// Blobs to delete once the batch is committed.
    pub erase: Vec<TextDigest>,
}

impl Journal {
    pub fn is_empty(&self) -> bool {
        self.new_blobs.is_empty() && self.erase.is_empty()
    }

    /// The journal file (path relative to the register, bytes), to be written in the batch.
    pub fn file(&self) -> Result<(std::path::PathBuf, Vec<u8>), Error> {
        let bytes = serde_json::to_vec(self).map_err(|e| Error::Corrupt {
            what: format!("pending journal: {e}"),
        })?;
        Ok((std::path::PathBuf::from("private/pending"), bytes))
    }

    /// Deletes the erased blobs (the batch is committed), durably, then the journal. The
    /// journal's removal need not be durable: if a crash undoes it, recovery finds the batch
    /// committed and deletes the same (already absent) blobs again.
    pub fn finish(&self, layout: &Layout) -> Result<(), Error> {
        for d in &self.erase {
            durable::remove_file(&layout.blob(d))?;
        }
        durable::remove_file_unsynced(&layout.pending())?;
        Ok(())
    }
}

/// Finishes (committed) or undoes (not committed) the blob changes of the last batch.
///
/// # Errors
/// [`Error::Io`] when a blob or the journal cannot be removed.
pub fn recover(layout: &Layout, size: u64) -> Result<(), Error> {
    let bytes = match durable::read(&layout.pending()) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let journal: Journal = match serde_json::from_slice(&bytes) {
        Ok(j) => j,
        Err(_) => {
            // A torn journal was never complete, so the batch's blobs were never written:
            // replace() writes the journal atomically before any of them.
            durable::remove_file(&layout.pending())?;
            return Ok(());
        }
    };
    if size >= journal.target_size {
        tracing::info!(
            target_size = journal.target_size,
            "recovery: finishing the blob changes of a committed batch"
        );
        journal.finish(layout)
    } else {
        tracing::info!(
            target_size = journal.target_size,
            "recovery: removing the blobs of a batch that did not commit"
        );
        for d in &journal.new_blobs {
            durable::remove_file(&layout.blob(d))?;
        }
        durable::remove_file(&layout.pending())?;
        Ok(())
    }
}
