//! What every handler reads: one consistent snapshot of (signed checkpoint, view), swapped
//! whole by the refresher when `sijil append` commits a new checkpoint.
//!
//! A handler takes the snapshot once, at its start, and builds its whole answer from it, so
//! an answer never mixes a view with another checkpoint (the view is exactly the fold of the
//! entries the checkpoint covers: `RegisterReader` moves both together).

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::event::Date;
use sijil_core::note::Verifier;
use sijil_projector::View;
use sijil_register::RegisterReader;

use crate::error::Error;
use crate::store::{Io, Store, StoreError, Tree};

/// The served state at one checkpoint.
#[derive(Debug)]
pub struct Snapshot {
    pub checkpoint: SignedCheckpoint,
    /// The view of exactly the entries `checkpoint` covers.
    pub view: Arc<View>,
}

impl Snapshot {
    pub fn tree(&self) -> Tree {
        Tree {
            size: self.checkpoint.checkpoint.size,
            root: self.checkpoint.checkpoint.root,
        }
    }
}

/// A clock giving Unix milliseconds: the server's only source of "today" (for "overdue").
pub type Clock = fn() -> i64;

/// Sizes of the caches of verified tiles and bundles.
#[derive(Clone, Copy, Debug)]
pub struct CacheSizes {
    /// Verified, expanded hash tiles (9.2 KiB per full tile; a log of 10^6 entries has
    /// 3,922 hash tiles, 36 MiB).
    pub tile_bytes: usize,
    /// Verified entry bundles, gzip-compressed: for the bundles in demand (the edge that
    /// monitors tail, recent cases). Random access over a large log misses whatever the size
    /// (10^6 entries make 109 MiB of compressed bundles) and costs one verification and one
    /// compression per request.
    pub bundle_bytes: usize,
}

impl Default for CacheSizes {
    fn default() -> CacheSizes {
        CacheSizes {
            tile_bytes: 48 << 20,
            bundle_bytes: 4 << 20,
        }
    }
}

/// The shared state of the server. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    current: RwLock<Arc<Snapshot>>,
    store: Arc<Store>,
    verifier: Verifier,
    /// Only the refresher takes it; it holds the reader between refreshes.
    reader: Mutex<RegisterReader>,
    clock: Clock,
}

impl AppState {
    /// Opens the register at `dir`: verifies its checkpoint (with `verifier`, or the key the
    /// genesis entry names) and loads its view (`RegisterReader::open`).
    ///
    /// # Errors
    /// The reader's error: not a register, a checkpoint that does not verify, a damaged log.
    pub fn open(
        dir: &Path,
        verifier: Option<Verifier>,
        caches: CacheSizes,
        clock: Clock,
    ) -> Result<AppState, sijil_register::Error> {
        let reader = RegisterReader::open(dir, verifier)?;
        tracing::info!(
            tree_size = reader.checkpoint().checkpoint.size,
            view_heap_mib = reader.view().heap_bytes() >> 20,
            "register opened"
        );
        let snapshot = Arc::new(Snapshot {
            checkpoint: reader.checkpoint().clone(),
            view: reader.shared_view(),
        });
        let store = Arc::new(Store::new(
            reader.layout().clone(),
            caches.tile_bytes,
            caches.bundle_bytes,
        ));
        Ok(AppState {
            inner: Arc::new(Inner {
                current: RwLock::new(snapshot),
                store,
                verifier: reader.verifier().clone(),
                reader: Mutex::new(reader),
                clock,
            }),
        })
    }

    /// The snapshot to build one answer from.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let current = self.inner.current.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&current)
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    /// The log's verifier key.
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// Today (UTC), for "overdue"; the clock is the caller's (tests fix it).
    ///
    /// # Errors
    /// An internal error if the clock is outside the years 1900–9999.
    pub fn today(&self) -> Result<Date, Error> {
        let ms = (self.inner.clock)();
        Date::from_unix_ms(ms)
            .ok_or_else(|| Error::internal(format!("the clock ({ms} ms) is outside 1900-9999")))
    }

    /// Follows the log once: re-reads the checkpoint and, if the log grew, verifies the new
    /// checkpoint and its consistency, applies the new entries, and swaps in the new snapshot.
    /// Blocking (file reads, hashing): call it off the async runtime.
    ///
    /// # Errors
    /// `RegisterReader::refresh`'s: the served snapshot is then kept as it was.
    pub fn refresh(&self) -> Result<bool, sijil_register::Error> {
        let mut reader = self.inner.reader.lock().unwrap_or_else(|e| e.into_inner());
        if !reader.refresh()? {
            return Ok(false);
        }
        let next = Arc::new(Snapshot {
            checkpoint: reader.checkpoint().clone(),
            view: reader.shared_view(),
        });
        let size = next.checkpoint.checkpoint.size;
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|e| e.into_inner()) = next;
        tracing::info!(tree_size = size, "serving a new checkpoint");
        Ok(true)
    }

    /// Polls the checkpoint every `every` until `stop` completes. A failed refresh (a
    /// checkpoint that does not verify, or is inconsistent with the one served) is logged
    /// once per distinct error, and the server keeps serving the last good snapshot.
    pub async fn follow(self, every: Duration, stop: impl Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_error: Option<String> = None;
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = ticker.tick() => {}
            }
            let state = self.clone();
            let result = tokio::task::spawn_blocking(move || state.refresh()).await;
            match result {
                Ok(Ok(_)) => last_error = None,
                Ok(Err(e)) => {
                    let message = e.to_string();
                    if last_error.as_deref() != Some(message.as_str()) {
                        tracing::error!(error = %message, "cannot follow the log; still serving the last verified checkpoint");
                        last_error = Some(message);
                    }
                }
                Err(e) => tracing::error!(error = %e, "refresh task failed"),
            }
        }
    }

    /// Runs `f` against the store from memory; if it needs the disk, runs it again on the
    /// blocking pool with I/O allowed, so a slow disk never stalls the async workers.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: Fn(&Store, Io) -> Result<T, Error> + Send + 'static,
    {
        match f(self.store(), Io::CacheOnly) {
            Err(e) if e.is_needs_io() => {}
            other => return other,
        }
        let store = Arc::clone(self.store());
        tokio::task::spawn_blocking(move || f(&store, Io::Allowed))
            .await
            .map_err(Error::internal)?
    }

    /// Runs `f` on the blocking pool: for answers that always read files (entries with their
    /// texts, which are blobs).
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, Error> + Send + 'static,
    {
        let store = Arc::clone(self.store());
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(Error::internal)?
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::NeedsIo => Error::needs_io(),
            other => Error::internal(other),
        }
    }
}
