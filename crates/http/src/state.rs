//! What every handler reads: one consistent snapshot of (signed checkpoint, view), swapped
//! whole by the refresher when `sijil append` commits a new checkpoint.
//!
//! A handler takes the snapshot once, at its start, and builds its whole answer from it, so
//! an answer never mixes a view with another checkpoint (the view is exactly the fold of the
//! entries the checkpoint covers: `RegisterReader` moves both together).

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::event::Date;
use sijil_core::note::Verifier;
use sijil_index::completeness::ProvenEntry;
use sijil_projector::{CaseFilter, CasePage, Page, QueryError, Sort, Stats, View};
use sijil_register::RegisterReader;

use crate::error::Error;
use crate::store::{Io, Store, StoreError, StoredEntry, Tree};

/// The served state at one checkpoint.
#[derive(Debug)]
pub struct Snapshot {
    pub checkpoint: SignedCheckpoint,
    /// The view of exactly the entries `checkpoint` covers.
    pub view: Arc<View>,
    /// Figures over every case, computed once a day for this snapshot: the home page,
    /// /statistiques and /api/v1/stats each passed over every case on every request (about
    /// 90 requests/s at 10^6 entries, issue 11).
    stats: DayMemo<Stats>,
    /// The home page's latest case events: the same for every request to this snapshot.
    latest: DayMemo<Vec<StoredEntry>>,
    /// Case listings already answered for this snapshot, by query: each filters and orders
    /// every case (about 75 requests/s at 10^6 entries), and a linked listing is asked again
    /// and again. At most [`LISTINGS_KEPT`], emptied when full.
    listings: Mutex<HashMap<String, (Date, Arc<CasePage>)>>,
    /// Entries with their inclusion proofs in this snapshot's tree that many answers share:
    /// the `IndexCommitted` at S − 1 and the officers' histories in every case's
    /// `completeness`, the register's own entries of `/api/v1/log-keys` (issue 11: the same
    /// for every case signed by the same officers). At most [`PROVEN_KEPT`], emptied when
    /// full.
    proven: Mutex<HashMap<u64, Arc<ProvenEntry>>>,
}

/// How many shared proven entries a snapshot keeps (each about 1 KB of base64).
const PROVEN_KEPT: usize = 4096;

/// How many listings a snapshot keeps (each a page of at most `Page::MAX_LIMIT` summaries).
const LISTINGS_KEPT: usize = 64;

/// A value for one day (`overdue` and what depends on it change with the date), computed once
/// by the first request that needs it while the others wait for it.
#[derive(Debug)]
struct DayMemo<T>(Mutex<Option<(Date, Arc<T>)>>);

impl<T> Default for DayMemo<T> {
    fn default() -> Self {
        DayMemo(Mutex::new(None))
    }
}

impl<T> DayMemo<T> {
    fn get<E>(&self, day: Date, compute: impl FnOnce() -> Result<T, E>) -> Result<Arc<T>, E> {
        let mut memo = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((d, value)) = memo.as_ref() {
            if *d == day {
                return Ok(Arc::clone(value));
            }
        }
        let value = Arc::new(compute()?);
        *memo = Some((day, Arc::clone(&value)));
        Ok(value)
    }
}

impl Snapshot {
    pub fn new(checkpoint: SignedCheckpoint, view: Arc<View>) -> Snapshot {
        Snapshot {
            checkpoint,
            view,
            stats: DayMemo::default(),
            latest: DayMemo::default(),
            listings: Mutex::new(HashMap::new()),
            proven: Mutex::new(HashMap::new()),
        }
    }

    /// Entry `seq` with its inclusion proof in this snapshot's tree, proven once by `prove`
    /// and kept (see `proven`).
    ///
    /// # Errors
    /// `prove`'s, which is not kept.
    pub fn proven<E>(
        &self,
        seq: u64,
        prove: impl FnOnce() -> Result<ProvenEntry, E>,
    ) -> Result<Arc<ProvenEntry>, E> {
        if let Some(p) = self
            .proven
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&seq)
        {
            return Ok(Arc::clone(p));
        }
        // Proven outside the lock: other answers go on meanwhile (two may prove one seq).
        let p = Arc::new(prove()?);
        let mut kept = self.proven.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= PROVEN_KEPT {
            kept.clear();
        }
        kept.insert(seq, Arc::clone(&p));
        Ok(p)
    }

    /// The latest case events (the home page's), found once a day by `find`.
    ///
    /// # Errors
    /// `find`'s, which is not kept ([`StoreError::NeedsIo`] included: the caller tries again
    /// off the runtime).
    pub fn latest(
        &self,
        day: Date,
        find: impl FnOnce() -> Result<Vec<StoredEntry>, Error>,
    ) -> Result<Arc<Vec<StoredEntry>>, Error> {
        self.latest.get(day, find)
    }

    /// A page of the cases ([`View::cases`]), kept for this snapshot and day.
    ///
    /// # Errors
    /// [`View::cases`]'s (an unknown cursor), which are not kept.
    pub fn cases(
        &self,
        filter: &CaseFilter,
        sort: Sort,
        page: &Page,
        as_of: Date,
    ) -> Result<Arc<CasePage>, QueryError> {
        let key = format!("{filter:?}\u{0}{sort:?}\u{0}{page:?}");
        {
            let kept = self.listings.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((day, listing)) = kept.get(&key) {
                if *day == as_of {
                    return Ok(Arc::clone(listing));
                }
            }
        }
        // Computed outside the lock: listings of other queries go on meanwhile.
        let listing = Arc::new(self.view.cases(filter, sort, page, as_of)?);
        let mut kept = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= LISTINGS_KEPT {
            kept.clear();
        }
        kept.insert(key, (as_of, Arc::clone(&listing)));
        Ok(listing)
    }

    /// The register's statistics as of `as_of` ([`View::stats`]), computed once a day.
    pub fn stats(&self, as_of: Date) -> Arc<Stats> {
        self.stats
            .get(as_of, || Ok(self.view.stats(as_of)))
            .unwrap_or_else(|never: std::convert::Infallible| match never {})
    }

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
    /// The current log key's verifier: it changes when the log rotates its key
    /// (`LogKeyRotated`, followed by [`AppState::refresh`]).
    verifier: RwLock<Verifier>,
    /// Only the refresher takes it; it holds the reader between refreshes.
    reader: Mutex<RegisterReader>,
    clock: Clock,
    /// Held while an open-data export is generated ([`AppState::export`]).
    exporting: Arc<tokio::sync::Semaphore>,
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
        let snapshot = Arc::new(Snapshot::new(
            reader.checkpoint().clone(),
            reader.shared_view(),
        ));
        let store = Arc::new(Store::new(
            reader.layout().clone(),
            caches.tile_bytes,
            caches.bundle_bytes,
        ));
        Ok(AppState {
            inner: Arc::new(Inner {
                current: RwLock::new(snapshot),
                store,
                verifier: RwLock::new(reader.verifier().clone()),
                reader: Mutex::new(reader),
                clock,
                exporting: Arc::new(tokio::sync::Semaphore::new(1)),
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

    /// The log's current verifier key (the key that signs the checkpoint served).
    pub fn verifier(&self) -> Verifier {
        self.inner
            .verifier
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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
        let next = Arc::new(Snapshot::new(
            reader.checkpoint().clone(),
            reader.shared_view(),
        ));
        let size = next.checkpoint.checkpoint.size;
        *self
            .inner
            .verifier
            .write()
            .unwrap_or_else(|e| e.into_inner()) = reader.verifier().clone();
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
                    crate::metrics::refresh_failed();
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

    /// Runs `f`, an open-data export, on the blocking pool, one export at a time: an export
    /// passes over every case or reads every entry (about 2.4 s of CPU for the events of
    /// 10^5 entries), so a second one asked meanwhile is a 503 with `Retry-After`, never a
    /// queue that would hold the requests-in-flight slots the rest of the site needs.
    ///
    /// # Errors
    /// [`Error::busy`] while another export runs; `f`'s.
    pub async fn export<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, Error> + Send + 'static,
    {
        let Ok(permit) = Arc::clone(&self.inner.exporting).try_acquire_owned() else {
            return Err(Error::busy(
                "another open-data export is being generated; retry in a minute",
                EXPORT_RETRY_S,
            ));
        };
        let store = Arc::clone(self.store());
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f(&store)
        })
        .await
        .map_err(Error::internal)?
    }
}

/// The `Retry-After` of an export refused while another runs, in seconds.
const EXPORT_RETRY_S: u32 = 30;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Error {
        match e {
            StoreError::NeedsIo => Error::needs_io(),
            other => {
                crate::metrics::verification_failed();
                Error::internal(other)
            }
        }
    }
}

/// A register error while answering (the log-keys answer names a key the log's view holds,
/// so only a damaged log gets here): the server's fault.
impl From<sijil_register::Error> for Error {
    fn from(e: sijil_register::Error) -> Error {
        crate::metrics::verification_failed();
        Error::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_day_memo_computes_once_a_day_and_keeps_no_error() {
        let memo: DayMemo<u32> = DayMemo::default();
        let calls = Cell::new(0);
        let day = |d: &str| d.parse::<Date>().expect("a date");
        let compute = |v: u32| {
            calls.set(calls.get() + 1);
            Ok::<_, &str>(v)
        };
        assert_eq!(
            *memo
                .get(day("2026-12-07"), || compute(1))
                .expect("computed"),
            1
        );
        assert_eq!(
            *memo
                .get(day("2026-12-07"), || compute(2))
                .expect("computed"),
            1
        );
        assert_eq!(calls.get(), 1, "the same day is answered from the memo");
        assert_eq!(
            *memo
                .get(day("2026-12-08"), || compute(3))
                .expect("computed"),
            3
        );
        assert_eq!(calls.get(), 2, "another day is computed again");
        assert_eq!(memo.get(day("2026-12-09"), || Err("disk")), Err("disk"));
        assert_eq!(
            *memo
                .get(day("2026-12-09"), || compute(4))
                .expect("computed"),
            4
        );
        assert_eq!(calls.get(), 3, "an error is not kept");
    }
}
