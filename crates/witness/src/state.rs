//! The witness's memory: the latest checkpoint it cosigned for each log.
//!
//! ```text
//! <dir>/lock                          held while a witness runs: one process per directory
//! <dir>/<hex SHA-256 of origin>       the latest cosigned checkpoint: the log's note with the
//!                                     witness's cosignature line, verbatim
//! <dir>/evidence/fork-….json          refused checkpoints that prove a fork
//! ```
//!
//! A file is replaced with `durable::replace` (write, fsync, rename, fsync the directory), so
//! a crash leaves the old checkpoint or the new one, never a mix, and never loses one that was
//! answered: the server persists before it answers.

use std::fs::File;
use std::path::{Path, PathBuf};

use sijil_core::durable::{self, IoError};
use sijil_core::sha256;
use sijil_core::writer::{lock_exclusive, WriterError};

/// Why the state directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("another witness uses {}", lock.display())]
    Locked { lock: PathBuf },
    #[error(transparent)]
    Io(#[from] IoError),
}

/// A witness's state directory, locked for as long as the value lives.
#[derive(Debug)]
pub struct WitnessState {
    dir: PathBuf,
    _lock: File,
}

impl WitnessState {
    /// Opens (creating it if needed) and locks the directory.
    ///
    /// # Errors
    /// [`StateError::Locked`] if another witness holds it; [`StateError::Io`].
    pub fn open(dir: &Path) -> Result<WitnessState, StateError> {
        std::fs::create_dir_all(dir).map_err(|e| IoError::new("mkdir", dir, e))?;
        let lock = lock_exclusive(&dir.join("lock")).map_err(|e| match e {
            WriterError::Locked { lock } => StateError::Locked { lock },
            WriterError::Io(io) => StateError::Io(io),
            other => StateError::Io(IoError::new(
                "lock",
                dir,
                std::io::Error::other(other.to_string()),
            )),
        })?;
        Ok(WitnessState {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding `origin`'s latest cosigned checkpoint.
    pub fn path(&self, origin: &str) -> PathBuf {
        self.dir.join(origin_hash(origin))
    }

    /// The latest cosigned checkpoint of `origin`, verbatim, if any.
    ///
    /// # Errors
    /// [`IoError`] other than "not found".
    pub fn latest(&self, origin: &str) -> Result<Option<Vec<u8>>, IoError> {
        match durable::read(&self.path(origin)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Durably replaces `origin`'s latest cosigned checkpoint.
    ///
    /// # Errors
    /// [`IoError`].
    pub fn store(&self, origin: &str, note: &[u8]) -> Result<(), IoError> {
        let path = self.path(origin);
        durable::replace(&path, &path.with_extension("new"), note)
    }

    /// The log key the witness followed a rotation to for `origin` (docs/FORMAT.md §3.1), as
    /// a verifier key string, if it did: `<dir>/<hex SHA-256 of origin>.log-key`.
    ///
    /// # Errors
    /// [`IoError`] other than "not found".
    pub fn log_key(&self, origin: &str) -> Result<Option<String>, IoError> {
        match durable::read(&self.path(origin).with_extension("log-key")) {
            Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Durably records the log key followed for `origin`.
    ///
    /// # Errors
    /// [`IoError`].
    pub fn store_log_key(&self, origin: &str, vkey: &str) -> Result<(), IoError> {
        let path = self.path(origin).with_extension("log-key");
        durable::replace(&path, &path.with_extension("log-key.new"), vkey.as_bytes())
    }

    /// Where evidence files go.
    pub fn evidence_dir(&self) -> PathBuf {
        self.dir.join("evidence")
    }
}

/// The lowercase hex SHA-256 of an origin (c2sp.org/tlog-witness, monitoring prefix).
pub fn origin_hash(origin: &str) -> String {
    sha256(origin.as_bytes()).to_hex()
}
