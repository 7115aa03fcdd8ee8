//! What every handler reads: one consistent snapshot of (signed checkpoint, register), swapped
//! whole by the refresher when `sijil append` commits a new checkpoint.
//!
//! A handler takes the snapshot once, at its start, and builds its whole answer from it, so
//! an answer never mixes a register state with another checkpoint: the register is exactly
//! the fold of the entries the checkpoint covers. It comes from one of two sources:
//!
//! - **the writer's state** (`private/state.redb`, read beside the writer: the usual case on
//!   the writer's machine): a snapshot holds one version of it, and each answer reads the
//!   records it needs (a case, its controller, its annotations, the index paths of its
//!   proofs) into a small partial view; only a compact listing of the cases stays in memory
//!   (issue 11: about 70 bytes per case, where a view holds about 1 KiB). That listing is
//!   built on a thread of its own when the server opens ([`SharedListing`]): what reads it
//!   (case listings, statistics, the home page, the open data of the cases, controllers)
//!   waits for it ([`AppState::listed`]), the rest (the checkpoint, tiles, proofs, entries,
//!   a case) is answered meanwhile;
//! - **the view** (a mirror's copy, or a directory whose writer has not written its state):
//!   the whole view in memory, as `RegisterReader` keeps it.
//!
//! Either way the answers are the same (the same fold, the same queries: a partial view runs
//! the view's code on the records it holds, and the listing is the view's own).

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::event::Date;
use sijil_core::event::{PublicKey, TextDigest};
use sijil_core::note::Verifier;
use sijil_core::storage::Layout;
use sijil_index::completeness::ProvenEntry;
use sijil_index::{IndexKey, Subject};
use sijil_projector::records::Touched;
use sijil_projector::{
    CaseFilter, CasePage, Listing, OfficerRecord, Page, QueryError, RegisterInfo, Sort, Stats, View,
};
use sijil_register::state::StateSnapshot;
use sijil_register::{RegisterReader, SharedListing, StateBackedReader};

use crate::error::Error;
use crate::store::{Io, Store, StoreError, StoredEntry, Tree};

/// The served state at one checkpoint.
#[derive(Debug)]
pub struct Snapshot {
    pub checkpoint: SignedCheckpoint,
    /// The register of exactly the entries `checkpoint` covers.
    source: Source,
    /// A view's listing ([`Snapshot::listing`]), built on first use.
    view_listing: OnceLock<Listing>,
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
    /// The `signers` member of completeness proofs (docs/FORMAT.md §10.5) as JSON text, by
    /// the signers' keys: the same in every case answer signed by the same officers (issue
    /// 11). At most [`SIGNERS_KEPT`], emptied when full.
    signers: Mutex<HashMap<Vec<PublicKey>, Arc<[u8]>>>,
    /// The `checkpoint` member of the API's answers as JSON text, written once: every proof
    /// and entry answer carries it (issue 11).
    checkpoint_text: OnceLock<Box<[u8]>>,
}

/// How many shared proven entries a snapshot keeps (each about 2.5 KB: the entry and its
/// proof in base64). The shared ones are few (the `IndexCommitted` at S − 1, the officers'
/// and log keys' entries); a random case's own entries fill the rest and are seldom asked
/// again: at 4,096, random cases held about 10 MiB here for nothing (issue 11).
const PROVEN_KEPT: usize = 256;

/// How many signer lists' proofs a snapshot keeps (each a few KB: an officer's entries and
/// trie proof, and those of who authorized it).
const SIGNERS_KEPT: usize = 64;

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

/// Where a snapshot's register comes from (see the module).
#[derive(Debug)]
enum Source {
    View(Arc<View>),
    /// A version of the writer's state, and its listing (kept in step by the reader; the
    /// first one still being built for a while after the server opens).
    State(Arc<StateSnapshot>, SharedListing),
}

impl Snapshot {
    /// The snapshot of a whole view.
    pub fn new(checkpoint: SignedCheckpoint, view: Arc<View>) -> Snapshot {
        Snapshot::with(checkpoint, Source::View(view))
    }

    /// The snapshot of a version of the writer's state, with its listing.
    pub fn of_state(
        checkpoint: SignedCheckpoint,
        state: Arc<StateSnapshot>,
        listing: SharedListing,
    ) -> Snapshot {
        Snapshot::with(checkpoint, Source::State(state, listing))
    }

    fn with(checkpoint: SignedCheckpoint, source: Source) -> Snapshot {
        Snapshot {
            checkpoint,
            source,
            view_listing: OnceLock::new(),
            stats: DayMemo::default(),
            latest: DayMemo::default(),
            listings: Mutex::new(HashMap::new()),
            proven: Mutex::new(HashMap::new()),
            signers: Mutex::new(HashMap::new()),
            checkpoint_text: OnceLock::new(),
        }
    }

    /// The JSON text of the served checkpoint as the API carries it, `make` writing it the
    /// first time (`api::checkpoint_json`).
    pub fn checkpoint_text(&self, make: impl FnOnce() -> Vec<u8>) -> &[u8] {
        self.checkpoint_text
            .get_or_init(|| make().into_boxed_slice())
    }

    /// Whether answers are read from the writer's state (not a view in memory).
    pub fn from_state(&self) -> bool {
        matches!(self.source, Source::State(..))
    }

    /// The cases and controllers, as listings, the open data and the statistics read them.
    /// Blocks until the listing is built (for a while after the server opens): a handler on
    /// the async runtime awaits [`AppState::listed`] first.
    ///
    /// # Errors
    /// The listing could not be built (a state record that cannot be read or does not
    /// decode): a server fault.
    pub fn listing(&self) -> Result<&Listing, Error> {
        match &self.source {
            Source::View(view) => Ok(self.view_listing.get_or_init(|| view.listing())),
            Source::State(_, listing) => listing
                .wait()
                .map_err(|e| Error::internal(format!("the case listing could not be built: {e}"))),
        }
    }

    /// Whether [`Snapshot::listing`] answers without waiting.
    pub fn listing_built(&self) -> bool {
        match &self.source {
            Source::View(_) => true,
            Source::State(_, listing) => listing.get().is_some(),
        }
    }

    /// The number of entries.
    pub fn size(&self) -> u64 {
        self.checkpoint.checkpoint.size
    }

    pub fn register(&self) -> Option<&RegisterInfo> {
        match &self.source {
            Source::View(v) => v.register(),
            Source::State(s, _) => s.head().register.as_ref(),
        }
    }

    /// The officers, in order of authorization.
    pub fn officers(&self) -> &[OfficerRecord] {
        match &self.source {
            Source::View(v) => v.officers(),
            Source::State(s, _) => &s.head().officers,
        }
    }

    /// The officer whose key is `key`.
    pub fn officer(&self, key: &PublicKey) -> Option<&OfficerRecord> {
        self.officers().iter().find(|o| o.key == *key)
    }

    /// `recorded_at` of the last entry.
    pub fn last_recorded_at(&self) -> Option<i64> {
        match &self.source {
            Source::View(v) => v.last_recorded_at(),
            Source::State(s, _) => {
                let head = s.head();
                (head.size > 0).then_some(head.last_recorded_at)
            }
        }
    }

    /// A view holding what `wants` names: the whole view, or a partial one read from the
    /// state for one answer.
    ///
    /// # Errors
    /// The state cannot be read (a server fault).
    pub fn view_of(&self, wants: &Touched) -> Result<Arc<View>, Error> {
        match &self.source {
            Source::View(v) => Ok(Arc::clone(v)),
            Source::State(s, _) => s
                .view_of(wants)
                .map(Arc::new)
                .map_err(|e| Error::internal(sijil_register::Error::from(e))),
        }
    }

    /// A view holding case `id` (if the register has it) with what its page and its proofs
    /// read: its controller, the annotations of its entries, and the index keys of the case
    /// and of every officer and log key (a case's completeness proof carries its signers'
    /// histories and those of who authorized them).
    ///
    /// # Errors
    /// The state cannot be read.
    pub fn case_view(&self, id: &str) -> Result<Arc<View>, Error> {
        let Source::State(s, _) = &self.source else {
            return self.view_of(&Touched::default());
        };
        let keys = self.signer_keys().chain([IndexKey::of(&Subject::Case(id))]);
        s.case_view(id, keys)
            .map(Arc::new)
            .map_err(|e| Error::internal(sijil_register::Error::from(e)))
    }

    /// [`Snapshot::case_view`] without index keys: what a case's page reads (the case, its
    /// controller, its entries' annotations). The page carries no proof (its verifier asks
    /// the API for one); proving the case's key from the state's trie was a sixth of a
    /// random case page's time at 10^6 entries (issue 11).
    ///
    /// # Errors
    /// The state cannot be read.
    pub fn case_records_view(&self, id: &str) -> Result<Arc<View>, Error> {
        let Source::State(s, _) = &self.source else {
            return self.view_of(&Touched::default());
        };
        s.case_view(id, [])
            .map(Arc::new)
            .map_err(|e| Error::internal(sijil_register::Error::from(e)))
    }

    /// A view holding the index keys `keys` and those of every officer and log key: what
    /// a completeness proof of those subjects reads.
    ///
    /// # Errors
    /// The state cannot be read.
    pub fn keys_view(&self, keys: impl IntoIterator<Item = IndexKey>) -> Result<Arc<View>, Error> {
        let mut wants = Touched::default();
        wants.keys.extend(keys);
        wants.keys.extend(self.signer_keys());
        self.view_of(&wants)
    }

    /// The index keys of every officer and log key.
    fn signer_keys(&self) -> impl Iterator<Item = IndexKey> + '_ {
        let log_keys = self
            .register()
            .into_iter()
            .flat_map(|r| r.log_keys.iter().map(|k| k.key));
        self.officers()
            .iter()
            .map(|o| o.key)
            .chain(log_keys)
            .map(|k| IndexKey::officer(&k))
    }

    /// A view holding the annotations of entry `seq` (and the officers and register, as
    /// every view does): what an entry's JSON and page show of it.
    ///
    /// # Errors
    /// The state cannot be read.
    pub fn entry_view(&self, seq: u64) -> Result<Arc<View>, Error> {
        let mut wants = Touched::default();
        wants.annotations.insert(seq);
        self.view_of(&wants)
    }

    /// The seqs of case `id`'s entries, in log order; empty if there is no such case.
    ///
    /// # Errors
    /// The state cannot be read.
    pub fn case_seqs(&self, id: &str, as_of: Date) -> Result<Vec<u64>, Error> {
        Ok(match &self.source {
            Source::View(v) => v
                .case(id, as_of)
                .map(|d| d.timeline.iter().map(|t| t.seq).collect())
                .unwrap_or_default(),
            Source::State(s, _) => s
                .case(id)
                .map_err(|e| Error::internal(sijil_register::Error::from(e)))?
                .map(|slot| slot.seqs().collect())
                .unwrap_or_default(),
        })
    }

    /// The seqs of every case's entries, in log order (the open data's events).
    ///
    /// # Errors
    /// The state cannot be read.
    pub fn all_case_seqs(&self, as_of: Date) -> Result<Vec<u64>, Error> {
        let mut seqs = match &self.source {
            Source::View(_) => {
                let mut seqs = Vec::new();
                for id in self.listing()?.case_ids() {
                    seqs.extend(self.case_seqs(&id, as_of)?);
                }
                seqs
            }
            Source::State(s, _) => s
                .case_seqs()
                .map_err(|e| Error::internal(sijil_register::Error::from(e)))?,
        };
        seqs.sort_unstable();
        Ok(seqs)
    }

    /// Whether a committed entry names the redactable text `digest` (the blobs served).
    ///
    /// # Errors
    /// The state cannot be read.
    pub fn text_is_published(&self, digest: &TextDigest) -> Result<bool, Error> {
        match &self.source {
            Source::View(v) => Ok(v.text_is_published(digest)),
            Source::State(s, _) => {
                let seq = s
                    .text(digest)
                    .map_err(|e| Error::internal(sijil_register::Error::from(e)))?;
                // Named by a committed entry, and that entry's text not erased: the view's
                // own rule, over the one annotation record it reads.
                match seq {
                    None => Ok(false),
                    Some(seq) => Ok(s
                        .annotations(seq)
                        .map_err(|e| Error::internal(sijil_register::Error::from(e)))?
                        .is_none_or(|a| a.erasure.is_none())),
                }
            }
        }
    }

    /// The `signers` member of a completeness proof for the signers `keys`, made once by
    /// `make` and kept (see `signers`).
    ///
    /// # Errors
    /// `make`'s, which is not kept.
    pub fn signer_proofs<E>(
        &self,
        keys: &[PublicKey],
        make: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<Arc<[u8]>, E> {
        if let Some(p) = self
            .signers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(keys)
        {
            return Ok(Arc::clone(p));
        }
        // Made outside the lock, as `proven`.
        let p: Arc<[u8]> = make()?.into();
        let mut kept = self.signers.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= SIGNERS_KEPT {
            kept.clear();
        }
        kept.insert(keys.to_vec(), Arc::clone(&p));
        Ok(p)
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
    /// [`View::cases`]'s (an unknown cursor: a bad `after`), which are not kept; the
    /// listing's ([`Snapshot::listing`]).
    pub fn cases(
        &self,
        filter: &CaseFilter,
        sort: Sort,
        page: &Page,
        as_of: Date,
    ) -> Result<Arc<CasePage>, Error> {
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
        let listing = Arc::new(
            self.listing()?
                .cases(filter, sort, page, as_of)
                .map_err(|e: QueryError| Error::bad_parameter("after", e.to_string()))?,
        );
        let mut kept = self.listings.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= LISTINGS_KEPT {
            kept.clear();
        }
        kept.insert(key, (as_of, Arc::clone(&listing)));
        Ok(listing)
    }

    /// The register's statistics as of `as_of` ([`Listing::stats`]), computed once a day.
    ///
    /// # Errors
    /// The listing's ([`Snapshot::listing`]).
    pub fn stats(&self, as_of: Date) -> Result<Arc<Stats>, Error> {
        self.stats.get(as_of, || Ok(self.listing()?.stats(as_of)))
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
    /// Verified hash tiles, for proofs: a full level-0 tile compact (its 30 subtree hashes
    /// of 16 leaves and up, about 1 KiB; a log of 10^6 entries has 3,906, 4 MiB), any other
    /// whole with its subtree hashes (9.2 KiB, 16 of them at 10^6). A proof reads the 16
    /// leaf hashes it needs back from the tile's file and checks them against the kept
    /// hash; a tile that misses is checked against its cached parent's hash alone (`store`,
    /// issue 11: with the tiles kept whole, 16 MiB cut random proofs from 26k to 6.6k
    /// requests/s). A tile served to a client that is not in it whole is read from its
    /// file, trusted by the file's identity once verified (`store`'s module doc).
    pub tile_bytes: usize,
    /// Verified entry bundles at the log's edge, gzip-compressed (the bundles monitors tail
    /// and new cases read). Any other bundle is read from its file and sent as it is,
    /// trusted by the file's identity once verified.
    pub bundle_bytes: usize,
}

impl Default for CacheSizes {
    fn default() -> CacheSizes {
        CacheSizes {
            tile_bytes: 16 << 20,
            bundle_bytes: 4 << 20,
        }
    }
}

/// What follows the log for the server: a reader of the writer's state, or of the view.
#[derive(Debug)]
enum Follower {
    State(StateBackedReader),
    View(RegisterReader),
}

impl Follower {
    fn refresh(&mut self) -> Result<bool, sijil_register::Error> {
        match self {
            Follower::State(r) => r.refresh(),
            Follower::View(r) => r.refresh(),
        }
    }

    fn verifier(&self) -> &Verifier {
        match self {
            Follower::State(r) => r.verifier(),
            Follower::View(r) => r.verifier(),
        }
    }

    fn snapshot(&self) -> Snapshot {
        match self {
            Follower::State(r) => {
                Snapshot::of_state(r.checkpoint().clone(), r.state(), r.listing().clone())
            }
            Follower::View(r) => Snapshot::new(r.checkpoint().clone(), r.shared_view()),
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
    reader: Mutex<Follower>,
    /// Becomes `true` once the listing being built when the server opened is built (or its
    /// build failed); its sender dropped when no one is left to say so ([`AppState::listed`]).
    listed: tokio::sync::watch::Receiver<bool>,
    clock: Clock,
    /// Held while an open-data export is generated ([`AppState::export`]).
    exporting: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Opens the register at `dir`: verifies its checkpoint (with `verifier`, or the key the
    /// genesis entry names) and reads it from the writer's state when that state is of the
    /// checkpoint (`StateBackedReader::open`), else loads its view (`RegisterReader::open`).
    ///
    /// From the writer's state, it returns before the listing of the cases is built (on a
    /// thread of its own, [`SharedListing`]).
    ///
    /// # Errors
    /// The reader's error: not a register, a checkpoint that does not verify, a damaged log.
    pub fn open(
        dir: &Path,
        verifier: Option<Verifier>,
        caches: CacheSizes,
        clock: Clock,
    ) -> Result<AppState, sijil_register::Error> {
        AppState::open_gated(dir, verifier, caches, clock, None)
    }

    /// [`AppState::open`], the listing's build held until `gate` is sent to or dropped
    /// (`StateBackedReader::open_held`).
    #[cfg(test)]
    pub(crate) fn open_held(
        dir: &Path,
        caches: CacheSizes,
        clock: Clock,
        gate: std::sync::mpsc::Receiver<()>,
    ) -> Result<AppState, sijil_register::Error> {
        AppState::open_gated(dir, None, caches, clock, Some(gate))
    }

    fn open_gated(
        dir: &Path,
        verifier: Option<Verifier>,
        caches: CacheSizes,
        clock: Clock,
        gate: Option<std::sync::mpsc::Receiver<()>>,
    ) -> Result<AppState, sijil_register::Error> {
        let opened = match gate {
            None => StateBackedReader::open(dir, verifier.clone())?,
            Some(gate) => StateBackedReader::open_held(dir, verifier.clone(), gate)?,
        };
        let (said, listed) = tokio::sync::watch::channel(true);
        let reader = match opened {
            Some(r) => {
                tracing::info!(
                    tree_size = r.checkpoint().checkpoint.size,
                    "register opened from the writer's state; building the case listing"
                );
                if r.listing().get().is_none() {
                    said.send_replace(false);
                    let listing = r.listing().clone();
                    // A thread only waits here: the async runtime is not running yet, and
                    // the listing's build knows nothing of it. Should it not start, the
                    // sender is dropped, and what needs the listing waits for it in
                    // `Snapshot::listing`.
                    let waiter = std::thread::Builder::new()
                        .name("listing-wait".into())
                        .spawn(move || {
                            let _ = listing.wait();
                            said.send_replace(true);
                        });
                    if let Err(e) = waiter {
                        tracing::warn!(error = %e, "could not start the thread that waits for the case listing");
                    }
                }
                Follower::State(r)
            }
            None => {
                let r = RegisterReader::open(dir, verifier)?;
                tracing::info!(
                    tree_size = r.checkpoint().checkpoint.size,
                    view_heap_mib = r.view().heap_bytes() >> 20,
                    "register opened, its view in memory"
                );
                Follower::View(r)
            }
        };
        let layout = Layout::new(dir);
        let snapshot = Arc::new(reader.snapshot());
        let store = Arc::new(Store::new(layout, caches.tile_bytes, caches.bundle_bytes));
        Ok(AppState {
            inner: Arc::new(Inner {
                current: RwLock::new(snapshot),
                store,
                verifier: RwLock::new(reader.verifier().clone()),
                reader: Mutex::new(reader),
                listed,
                clock,
                exporting: Arc::new(tokio::sync::Semaphore::new(1)),
            }),
        })
    }

    /// Waits, without holding a thread, until the served snapshot's listing is built (or its
    /// build has failed): for a while after the server opens from the writer's state. The
    /// answers that read the listing await it first (`crate::router_with`), so that none
    /// holds an async worker or a blocking thread meanwhile.
    pub async fn listed(&self) {
        if self.snapshot().listing_built() {
            return;
        }
        let mut listed = self.inner.listed.clone();
        // An error: the sender is gone, and `Snapshot::listing` waits if it must.
        let _ = listed.wait_for(|built| *built).await;
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
        let next = Arc::new(reader.snapshot());
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
