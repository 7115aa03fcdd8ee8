//! The verifier's memory: the last checkpoint `sijil verify` accepted for each origin, so that
//! a log rewritten or forked since the last visit is caught on the next one.
//!
//! One small file per log, `<dir>/<lowercase hex SHA-256 of the verifier key>.checkpoint`,
//! holding the signed note verbatim. The key string names the origin (its key name) and the
//! key, so two logs that claim one origin with different keys (a key rotation, or an
//! impostor) never read each other's state. It is replaced atomically (`durable::replace`) and only after the new
//! checkpoint was proven consistent with the one it held. The directory is
//! `$XDG_STATE_HOME/sijil` or `~/.local/state/sijil` unless the caller names another.

use std::path::{Path, PathBuf};

use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::durable::{self, IoError};
use sijil_core::note::Verifier;
use sijil_core::sha256;

use crate::Error;

/// A state directory.
#[derive(Clone, Debug)]
pub struct StateDir {
    dir: PathBuf,
    /// One file named by the caller (`sijil monitor --state FILE`), whatever the key.
    file: Option<PathBuf>,
}

impl StateDir {
    pub fn new(dir: impl Into<PathBuf>) -> StateDir {
        StateDir {
            dir: dir.into(),
            file: None,
        }
    }

    /// State kept in the one file `path` instead of a file per key: for a process that
    /// watches one log (`sijil monitor --state FILE`). Its checkpoint must verify with the key
    /// given to [`StateDir::load`], so a file kept for another log is refused, not trusted.
    pub fn file(path: impl Into<PathBuf>) -> StateDir {
        let path = path.into();
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        StateDir {
            dir,
            file: Some(path),
        }
    }

    /// The default directory from the environment's values of `XDG_STATE_HOME` and `HOME`
    /// (the caller reads them: no hidden global state here).
    pub fn default_dir(xdg_state_home: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
        match xdg_state_home.filter(|p| p.is_absolute()) {
            Some(x) => Some(x.join("sijil")),
            None => home.map(|h| h.join(".local/state/sijil")),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file for the log whose key is `verifier`.
    pub fn path(&self, verifier: &Verifier) -> PathBuf {
        if let Some(file) = &self.file {
            return file.clone();
        }
        let key = verifier.to_string();
        self.dir
            .join(format!("{}.checkpoint", sha256(key.as_bytes()).to_hex()))
    }

    /// The last checkpoint accepted for the log whose key is `verifier`, verified again.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read; [`Error::LocalCheckpoint`] if it does not verify
    /// (a damaged file).
    pub fn load(&self, verifier: &Verifier) -> Result<Option<SignedCheckpoint>, Error> {
        let path = self.path(verifier);
        let bytes = match durable::read(&path) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        SignedCheckpoint::open(&bytes, verifier)
            .map(Some)
            .map_err(|source| Error::LocalCheckpoint { path, source })
    }

    /// [`StateDir::load`] for a log whose key was rotated since (docs/FORMAT.md §3.1): the
    /// state file of `verifier` (the key given) may hold a checkpoint signed by `current`, the
    /// key the log's chain led to when it was stored.
    ///
    /// # Errors
    /// As [`StateDir::load`], when neither key verifies the file.
    pub fn load_following(
        &self,
        verifier: &Verifier,
        current: &Verifier,
    ) -> Result<Option<SignedCheckpoint>, Error> {
        match self.load(verifier) {
            Err(Error::LocalCheckpoint { path, source }) => {
                let bytes = durable::read(&path)?;
                SignedCheckpoint::open(&bytes, current)
                    .map(Some)
                    .map_err(|_| Error::LocalCheckpoint { path, source })
            }
            other => other,
        }
    }

    /// Records `checkpoint` (verified with `verifier`) as the last one accepted, atomically.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn store(
        &self,
        verifier: &Verifier,
        checkpoint: &SignedCheckpoint,
    ) -> Result<PathBuf, Error> {
        std::fs::create_dir_all(&self.dir).map_err(|e| IoError::new("mkdir", &self.dir, e))?;
        let path = self.path(verifier);
        let mut tmp = path.clone().into_os_string();
        tmp.push(".new");
        let tmp = PathBuf::from(tmp);
        durable::replace(&path, &tmp, &checkpoint.bytes)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sijil_core::checkpoint::Checkpoint;
    use sijil_core::note::Signer;
    use sijil_core::Hash;

    #[test]
    fn stores_and_reloads_per_origin() {
        let tmp = tempfile::tempdir().expect("tmp");
        let st = StateDir::new(tmp.path().join("state"));
        let key = Signer::from_seed("reg.example/a", &[1; 32]).expect("key");
        assert!(st.load(&key.verifier()).expect("ok").is_none());
        let cp = SignedCheckpoint::sign(Checkpoint::new("reg.example/a", 3, Hash([5; 32])), &key)
            .expect("sign");
        st.store(&key.verifier(), &cp).expect("store");
        let back = st.load(&key.verifier()).expect("ok");
        assert_eq!(back.map(|c| c.checkpoint), Some(cp.checkpoint));
        // Another key for the same origin has its own state.
        let other = Signer::from_seed("reg.example/a", &[2; 32]).expect("key");
        assert!(st.load(&other.verifier()).expect("ok").is_none());
        std::fs::write(st.path(&other.verifier()), &cp.bytes).expect("write");
        assert!(matches!(
            st.load(&other.verifier()),
            Err(Error::LocalCheckpoint { .. })
        ));
        assert_eq!(
            StateDir::default_dir(None, Some(Path::new("/home/u"))),
            Some(PathBuf::from("/home/u/.local/state/sijil"))
        );
        assert_eq!(
            StateDir::default_dir(Some(Path::new("/x")), Some(Path::new("/home/u"))),
            Some(PathBuf::from("/x/sijil"))
        );
    }

    #[test]
    fn issue13_one_named_file_holds_the_state_and_refuses_another_log() {
        let tmp = tempfile::tempdir().expect("tmp");
        let file = tmp.path().join("mon/plaintes.state");
        let st = StateDir::file(&file);
        assert_eq!(st.dir(), tmp.path().join("mon"));
        let key = Signer::from_seed("reg.example/a", &[1; 32]).expect("key");
        assert_eq!(st.path(&key.verifier()), file);
        assert!(st.load(&key.verifier()).expect("ok").is_none());
        let cp = SignedCheckpoint::sign(Checkpoint::new("reg.example/a", 3, Hash([5; 32])), &key)
            .expect("sign");
        assert_eq!(st.store(&key.verifier(), &cp).expect("store"), file);
        assert_eq!(
            st.load(&key.verifier()).expect("ok").map(|c| c.checkpoint),
            Some(cp.checkpoint)
        );
        // The same file read with another log's key: refused, not trusted.
        let other = Signer::from_seed("reg.example/a", &[2; 32]).expect("key");
        assert!(matches!(
            st.load(&other.verifier()),
            Err(Error::LocalCheckpoint { .. })
        ));
        assert_eq!(StateDir::file("x.state").dir(), Path::new("."));
    }
}
