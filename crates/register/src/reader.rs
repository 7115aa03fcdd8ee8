//! Reading committed entries and keeping the view in step with the checkpoint.

use std::path::Path;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, OnceLock};

use sijil_core::bundle;
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::event::Event;
use sijil_core::merkle::{self, HashReader as _};
use sijil_core::note::{KeyType, Note, Verifier};
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::{Tile, TileHashReader, TileLevel};
use sijil_core::{leaf_hash, Entry, Hash};
use sijil_projector::records::Touched;
use sijil_projector::{Listing, View};

use crate::state::{StateReader, StateSnapshot};
use crate::Error;

pub use sijil_core::verify::StoredEntry;

/// Reads entries `start..end` of the tree `(size, root)` from the register's files, checking
/// every entry's leaf hash against the level-0 tiles, themselves verified against `root`.
///
/// # Errors
/// [`Error::Corrupt`] naming the bundle or entry that does not match, or missing;
/// [`Error::Merkle`] when a hash tile is missing or does not verify ([`Error::is_corrupt`]),
/// or cannot be read; [`Error::Io`] when a bundle cannot be read (an I/O error is not a
/// statement about the register's contents).
pub fn read_entries(
    tiles: &DirTiles,
    size: u64,
    root: Hash,
    start: u64,
    end: u64,
) -> Result<Vec<StoredEntry>, Error> {
    let end = end.min(size);
    if start >= end {
        return Ok(Vec::new());
    }
    let reader = TileHashReader::new(size, root, tiles);
    let mut out = Vec::with_capacity((end - start) as usize);
    for index in start / 256..=(end - 1) / 256 {
        let width = (size - index * 256).min(256) as u16;
        let t = Tile {
            level: TileLevel::Entries,
            index,
            width,
        };
        let data = tiles.read_tile(&t).map_err(|e| {
            if e.is_not_found() {
                Error::Corrupt {
                    what: format!("{}: missing", t.path()),
                }
            } else {
                Error::Io(e)
            }
        })?;
        let bodies = bundle::parse(&data).map_err(|e| Error::Corrupt {
            what: format!("{}: {e}", t.path()),
        })?;
        if bodies.len() != usize::from(width) {
            return Err(Error::Corrupt {
                what: format!("{}: {} entries, expected {width}", t.path(), bodies.len()),
            });
        }
        let first = index * 256;
        let lo = start.max(first);
        let hi = end.min(first + u64::from(width));
        let indexes: Vec<u64> = (lo..hi)
            .map(|seq| merkle::stored_hash_index(0, seq))
            .collect();
        let hashes = reader.read_hashes(&indexes)?;
        for (seq, stored) in (lo..hi).zip(hashes) {
            let bytes = bodies[(seq - first) as usize];
            let leaf = leaf_hash(bytes);
            if leaf != stored {
                return Err(Error::Corrupt {
                    what: format!("entry {seq} in {} does not match its leaf hash", t.path()),
                });
            }
            let entry = Entry::decode(bytes).map_err(|e| Error::Corrupt {
                what: format!("entry {seq}: {e}"),
            })?;
            if entry.seq != seq {
                return Err(Error::Corrupt {
                    what: format!("entry at leaf index {seq} says seq {}", entry.seq),
                });
            }
            out.push(StoredEntry {
                entry,
                bytes: bytes.to_vec(),
                leaf,
            });
        }
    }
    Ok(out)
}

/// How many entries are read and applied at a time when replaying.
const REPLAY_CHUNK: u64 = 256 * 64;

/// The view at checkpoint `cp`: the snapshot when its size and root match the log (then
/// only the tail is applied), otherwise rebuilt from the first entry.
///
/// # Errors
/// [`Error::Corrupt`] when an entry breaks the register's rules (the log on disk is not one
/// the projector accepts), or the errors of [`read_entries`].
pub fn load_view(layout: &Layout, tiles: &DirTiles, cp: &Checkpoint) -> Result<View, Error> {
    load_view_from_snapshot(layout, tiles, cp).map(|(view, _)| view)
}

/// As [`load_view`], also returning the size of the snapshot it started from (0 when it
/// rebuilt from the first entry), so that a caller knows how long the tail has grown and when
/// a new snapshot is worth writing.
///
/// # Errors
/// As [`load_view`].
pub fn load_view_from_snapshot(
    layout: &Layout,
    tiles: &DirTiles,
    cp: &Checkpoint,
) -> Result<(View, u64), Error> {
    let (mut view, from) = match snapshot_matching(layout, tiles, cp) {
        Some((view, size)) => (view, size),
        None => (View::new(), 0),
    };
    apply_range(&mut view, tiles, cp, from, cp.size)?;
    view.check_checkpoint_end().map_err(|r| Error::Corrupt {
        what: r.to_string(),
    })?;
    Ok((view, from))
}

fn snapshot_matching(layout: &Layout, tiles: &DirTiles, cp: &Checkpoint) -> Option<(View, u64)> {
    let mut file = std::fs::File::open(layout.snapshot()).ok()?;
    let (view, size, root) = match View::read_snapshot(&mut file) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, "discarding the view snapshot");
            return None;
        }
    };
    if size == 0 || size > cp.size {
        return None;
    }
    let reader = TileHashReader::new(cp.size, cp.root, tiles);
    match merkle::tree_hash(size, &reader) {
        Ok(r) if r == root => Some((view, size)),
        _ => {
            tracing::warn!(
                snapshot_size = size,
                "the view snapshot does not match the log; rebuilding"
            );
            None
        }
    }
}

/// Applies entries `from..to` of the tree `cp` to `view`.
pub(crate) fn apply_range(
    view: &mut View,
    tiles: &DirTiles,
    cp: &Checkpoint,
    from: u64,
    to: u64,
) -> Result<(), Error> {
    let mut at = from;
    while at < to {
        let next = (at + REPLAY_CHUNK).min(to);
        for se in read_entries(tiles, cp.size, cp.root, at, next)? {
            view.apply(&se.entry, se.leaf).map_err(|r| Error::Corrupt {
                what: format!("entry {} breaks the register's rules: {r}", se.entry.seq),
            })?;
        }
        at = next;
    }
    // A no-op at a checkpoint (its IndexCommitted flushed it); a view read to any other size
    // still answers proofs for exactly its entries.
    view.flush_index();
    Ok(())
}

/// A read-only handle on a register directory, for showing and serving it. It never takes
/// the writer's lock; [`RegisterReader::refresh`] follows the log as it grows.
#[derive(Debug)]
pub struct RegisterReader {
    layout: Layout,
    tiles: DirTiles,
    verifier: Verifier,
    checkpoint: SignedCheckpoint,
    /// Shared so that a server can hold the view beside its checkpoint without a copy;
    /// [`RegisterReader::refresh`] replaces it, never mutates it in place.
    view: Arc<View>,
}

impl RegisterReader {
    /// Opens the register at `dir`. Without `verifier`, the log key is taken from the genesis
    /// entry (its `log_key` and `origin`). The checkpoint is verified with the key the log
    /// names for its size, followed from that key through the log's `LogKeyRotated` entries
    /// (docs/FORMAT.md §3.1): [`RegisterReader::verifier`] is then the current key's.
    ///
    /// # Errors
    /// [`Error::NotARegister`], [`Error::Checkpoint`] (the checkpoint does not verify),
    /// [`Error::Corrupt`] (tiles, entries or rules), [`Error::Io`].
    pub fn open(dir: &Path, verifier: Option<Verifier>) -> Result<RegisterReader, Error> {
        let (layout, tiles, bytes, trusted) = open_unverified(dir, verifier)?;
        // The view over the tiles of the checkpoint's root (verified against it), then the
        // checkpoint's signature by the key that view names.
        let cp = crate::rotation::unverified_checkpoint(&bytes)?;
        if cp.origin != trusted.name() {
            // Another log's key: the note's own error says so.
            SignedCheckpoint::open(&bytes, &trusted)?;
        }
        let view = load_view(&layout, &tiles, &cp)?;
        let (checkpoint, verifier, _) = crate::rotation::open_following(&view, &bytes, &trusted)?;
        Ok(RegisterReader {
            layout,
            tiles,
            verifier,
            checkpoint,
            view: Arc::new(view),
        })
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn tiles(&self) -> &DirTiles {
        &self.tiles
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.checkpoint
    }

    pub fn view(&self) -> &View {
        &self.view
    }

    /// The view, shared: it stays the view of [`RegisterReader::checkpoint`] as it is now, even
    /// after a later [`RegisterReader::refresh`] (which replaces the view, never changes it).
    pub fn shared_view(&self) -> Arc<View> {
        Arc::clone(&self.view)
    }

    /// Reads entries `start..end` (clamped to the checkpoint's size).
    ///
    /// # Errors
    /// As [`read_entries`].
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<StoredEntry>, Error> {
        let cp = &self.checkpoint.checkpoint;
        read_entries(&self.tiles, cp.size, cp.root, start, end)
    }

    /// Re-reads the checkpoint; if the log grew, checks the new checkpoint's signature and
    /// its consistency with the one held (through the tiles), applies the new entries to the
    /// view, and moves both forward together. Returns whether anything changed.
    ///
    /// # Errors
    /// [`Error::Checkpoint`], or [`Error::Corrupt`] if the new checkpoint is smaller than the
    /// old one or inconsistent with it (the held view and checkpoint are kept).
    pub fn refresh(&mut self) -> Result<bool, Error> {
        let bytes = self.layout.read_checkpoint()?;
        if bytes == self.checkpoint.bytes {
            return Ok(false);
        }
        let unverified = crate::rotation::unverified_checkpoint(&bytes)?;
        if unverified.size == self.checkpoint.checkpoint.size {
            self.checkpoint = same_tree(&self.checkpoint, &bytes, &self.verifier)?;
            return Ok(true);
        }
        check_growth(&self.tiles, &self.checkpoint.checkpoint, &unverified)?;
        let (old, new) = (&self.checkpoint.checkpoint, &unverified);
        let mut view = View::clone(&self.view);
        apply_range(&mut view, &self.tiles, new, old.size, new.size)?;
        // Signed by the key the log names now, followed from the one held if the new entries
        // rotated it (docs/FORMAT.md §3.1).
        let (newer, verifier, _) = crate::rotation::open_following(&view, &bytes, &self.verifier)?;
        self.view = Arc::new(view);
        self.checkpoint = newer;
        self.verifier = verifier;
        Ok(true)
    }
}

/// The register at `dir`: its layout, its tiles, its checkpoint's bytes (not yet verified)
/// and the key to verify them with (`verifier`, or the one the genesis entry names).
fn open_unverified(
    dir: &Path,
    verifier: Option<Verifier>,
) -> Result<(Layout, DirTiles, Vec<u8>, Verifier), Error> {
    let layout = Layout::new(dir);
    let bytes = match layout.read_checkpoint() {
        Ok(b) => b,
        Err(e) if e.is_not_found() => {
            return Err(Error::NotARegister {
                dir: dir.to_path_buf(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    let tiles = DirTiles::new(layout.clone());
    let trusted = match verifier {
        Some(v) => v,
        None => genesis_verifier(&tiles, &bytes)?,
    };
    Ok((layout, tiles, bytes, trusted))
}

/// A newer note `bytes` of the tree `held` is of (its size): only its signature lines may
/// differ (cosignatures), checked with `verifier`.
fn same_tree(
    held: &SignedCheckpoint,
    bytes: &[u8],
    verifier: &Verifier,
) -> Result<SignedCheckpoint, Error> {
    let newer = SignedCheckpoint::open(bytes, verifier)?;
    if newer.checkpoint.root != held.checkpoint.root {
        return Err(Error::Corrupt {
            what: format!(
                "two checkpoints of size {} with different roots",
                newer.checkpoint.size
            ),
        });
    }
    Ok(newer)
}

/// Checks that the tree `new` extends the tree `old` (a consistency proof through the tiles,
/// verified against `new`'s root). The new checkpoint's signature is the caller's to check.
fn check_growth(tiles: &DirTiles, old: &Checkpoint, new: &Checkpoint) -> Result<(), Error> {
    if new.size < old.size {
        return Err(Error::Corrupt {
            what: format!(
                "checkpoint went back from size {} to {}",
                old.size, new.size
            ),
        });
    }
    let reader = TileHashReader::new(new.size, new.root, tiles);
    let proof = merkle::prove_consistency(old.size, new.size, &reader)?;
    merkle::check_consistency(&proof, old.size, &old.root, new.size, &new.root)?;
    Ok(())
}

/// More entries than this since the last version read, and a [`StateBackedReader`] builds
/// its listing anew instead of reading those entries to update it.
const UPDATE_LIMIT: u64 = 50_000;

/// The case listing of a [`StateBackedReader`]: built on a thread of its own when the reader
/// opens (`case-listing`), so that a server answers what does not read it (the checkpoint,
/// tiles, proofs, entries, a case) at once: at 10^6 entries building it decodes about
/// 208,000 case records, 0.3-0.6 s on an idle machine and 1.2-1.6 s under load (issue 11,
/// docs/PERFORMANCE.md). After a refresh it is built before it is served. Cheap to clone:
/// the clones share the one listing.
#[derive(Clone, Debug)]
pub struct SharedListing(Arc<OnceLock<Result<Listing, Error>>>);

impl SharedListing {
    /// A listing already built.
    pub fn built(listing: Listing) -> SharedListing {
        SharedListing(Arc::new(OnceLock::from(Ok(listing))))
    }

    /// `snapshot`'s listing, built on a thread of its own once `gate` (if any) is sent to or
    /// dropped; here if that thread cannot be started.
    fn build(snapshot: Arc<StateSnapshot>, gate: Option<Receiver<()>>) -> SharedListing {
        let cell = Arc::new(OnceLock::new());
        let (out, of) = (Arc::clone(&cell), Arc::clone(&snapshot));
        let job = std::thread::Builder::new()
            .name("case-listing".into())
            .spawn(move || {
                if let Some(gate) = gate {
                    // Sent to or dropped: either way the build goes on.
                    let _ = gate.recv();
                }
                build_listing(&out, &of);
            });
        if let Err(e) = job {
            tracing::warn!(error = %e, "could not start the case listing's thread; building it now");
            build_listing(&cell, &snapshot);
        }
        SharedListing(cell)
    }

    /// The listing if its build has ended (or its error), without waiting.
    pub fn get(&self) -> Option<Result<&Listing, &Error>> {
        self.0.get().map(Result::as_ref)
    }

    /// The listing, once built: blocks the calling thread until then.
    ///
    /// # Errors
    /// Why it could not be built (a state record that cannot be read or does not decode).
    pub fn wait(&self) -> Result<&Listing, &Error> {
        self.0.wait().as_ref()
    }
}

/// Builds `snapshot`'s listing into `cell`, and says how it went. A panic in the build is an
/// error there too, so that no one waits for the listing forever.
fn build_listing(cell: &OnceLock<Result<Listing, Error>>, snapshot: &StateSnapshot) {
    let started = std::time::Instant::now();
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| snapshot.listing()));
    let result = match built {
        Ok(Ok(listing)) => {
            tracing::info!(
                tree_size = snapshot.head().size,
                listing_heap_mib = listing.heap_bytes() >> 20,
                ms = started.elapsed().as_millis(),
                "case listing built"
            );
            Ok(listing)
        }
        Ok(Err(e)) => Err(Error::from(e)),
        Err(_) => Err(Error::Unreadable {
            what: "building the case listing stopped on a panic".into(),
        }),
    };
    if let Err(e) = &result {
        tracing::error!(
            error = %e,
            "the case listing could not be built: listings, statistics and open data answer \
             with an error until a refresh builds it anew (the log grows)"
        );
    }
    // Only this build sets the cell.
    let _ = cell.set(result);
}

/// A read-only handle on a register directory that answers from the writer's state
/// (`private/state.redb`, read beside the writer: [`StateReader`]) instead of holding the
/// view: the records one answer needs are read per request, and only a compact listing of
/// the cases is kept ([`Listing`]; issue 11). It follows the log as [`RegisterReader`] does,
/// and moves to a new checkpoint once the writer has written the state of that checkpoint.
#[derive(Debug)]
pub struct StateBackedReader {
    layout: Layout,
    tiles: DirTiles,
    verifier: Verifier,
    checkpoint: SignedCheckpoint,
    state: StateReader,
    current: Arc<StateSnapshot>,
    listing: SharedListing,
    /// Since when a newer checkpoint waits for its state, and whether that was said.
    waiting: Option<(std::time::Instant, bool)>,
}

/// How long a newer checkpoint may wait for the writer's state before the reader says so:
/// the writer writes it right after its commit, so this long means it failed or stopped
/// (its next batch catches the state up).
const STATE_WAIT_WARNING: std::time::Duration = std::time::Duration::from_secs(10);

impl StateBackedReader {
    /// Opens the register at `dir` from its writer's state, as [`RegisterReader::open`]
    /// does from its view. `Ok(None)` when the state cannot serve the checkpoint: there is
    /// none (a mirror's copy), it is of another tree (the writer is still writing it, or
    /// must rebuild it), or it cannot be opened beside its writer; the caller then uses a
    /// [`RegisterReader`].
    ///
    /// It returns before the listing is built ([`SharedListing`]).
    ///
    /// # Errors
    /// As [`RegisterReader::open`]: not a register, a checkpoint that does not verify.
    pub fn open(
        dir: &Path,
        verifier: Option<Verifier>,
    ) -> Result<Option<StateBackedReader>, Error> {
        StateBackedReader::open_gated(dir, verifier, None)
    }

    /// [`StateBackedReader::open`], the listing's build held until `gate` is sent to or
    /// dropped: for tests of what answers before the listing is built.
    ///
    /// # Errors
    /// As [`StateBackedReader::open`].
    #[doc(hidden)]
    pub fn open_held(
        dir: &Path,
        verifier: Option<Verifier>,
        gate: Receiver<()>,
    ) -> Result<Option<StateBackedReader>, Error> {
        StateBackedReader::open_gated(dir, verifier, Some(gate))
    }

    fn open_gated(
        dir: &Path,
        verifier: Option<Verifier>,
        gate: Option<Receiver<()>>,
    ) -> Result<Option<StateBackedReader>, Error> {
        let (layout, tiles, bytes, trusted) = open_unverified(dir, verifier)?;
        let cp = crate::rotation::unverified_checkpoint(&bytes)?;
        let state = match StateReader::open(&layout.writer_state()) {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(error = %e, "no writer state to serve from");
                return Ok(None);
            }
        };
        let Some(snapshot) = state.at(cp.size, cp.root)? else {
            tracing::info!(
                tree_size = cp.size,
                "the writer state is not of the checkpoint"
            );
            return Ok(None);
        };
        // The log's edge, read and verified against the root now (the rest is verified as it
        // is served): a torn or damaged last bundle stops the start, and its last leaf must be
        // the one the state is of.
        let edge = read_entries(
            &tiles,
            cp.size,
            cp.root,
            cp.size.saturating_sub(256),
            cp.size,
        )?;
        if edge.last().map(|se| se.leaf) != Some(snapshot.head().last_leaf) {
            // The log is sound; the state, a cache of it, is not: the view is loaded instead.
            tracing::warn!(
                tree_size = cp.size,
                "the writer's state does not end with the log's last entry; not reading it"
            );
            return Ok(None);
        }
        let head_view = snapshot.view_of(&Touched::default())?;
        if cp.origin != trusted.name() {
            SignedCheckpoint::open(&bytes, &trusted)?;
        }
        let (checkpoint, verifier, _) =
            crate::rotation::open_following(&head_view, &bytes, &trusted)?;
        let current = Arc::new(snapshot);
        let listing = SharedListing::build(Arc::clone(&current), gate);
        Ok(Some(StateBackedReader {
            layout,
            tiles,
            verifier,
            checkpoint,
            state,
            current,
            listing,
            waiting: None,
        }))
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.checkpoint
    }

    /// The state as of [`StateBackedReader::checkpoint`].
    pub fn state(&self) -> Arc<StateSnapshot> {
        Arc::clone(&self.current)
    }

    /// The listing as of [`StateBackedReader::checkpoint`] (still being built for a while
    /// after [`StateBackedReader::open`]).
    pub fn listing(&self) -> &SharedListing {
        &self.listing
    }

    /// Re-reads the checkpoint; if the log grew, checks the new checkpoint's consistency
    /// with the one held and, once the writer's state is of it, its signature, and moves to
    /// it with the listing updated from the entries in between (waiting for the listing
    /// being built since [`StateBackedReader::open`], or building it anew if that build
    /// failed), built before it returns. Returns whether anything
    /// changed (`false` too while the state is behind the checkpoint: the next call tries
    /// again).
    ///
    /// # Errors
    /// As [`RegisterReader::refresh`], and [`Error::Corrupt`] when the state cannot be read.
    pub fn refresh(&mut self) -> Result<bool, Error> {
        let bytes = self.layout.read_checkpoint()?;
        if bytes == self.checkpoint.bytes {
            return Ok(false);
        }
        let unverified = crate::rotation::unverified_checkpoint(&bytes)?;
        let old = &self.checkpoint.checkpoint;
        if unverified.size == old.size {
            self.checkpoint = same_tree(&self.checkpoint, &bytes, &self.verifier)?;
            return Ok(true);
        }
        check_growth(&self.tiles, old, &unverified)?;
        if self.state.replaced() {
            let path = self.layout.writer_state();
            self.state = StateReader::open(&path)?;
        }
        let Some(snapshot) = self.state.at(unverified.size, unverified.root)? else {
            let (since, said) = self
                .waiting
                .get_or_insert_with(|| (std::time::Instant::now(), false));
            if !*said && since.elapsed() > STATE_WAIT_WARNING {
                tracing::warn!(
                    tree_size = unverified.size,
                    served = old.size,
                    "the writer's state has not reached the newest checkpoint; still serving the \
                     last one it has (the writer's next batch catches its state up; or restart \
                     the server to serve from the view)"
                );
                *said = true;
            }
            return Ok(false);
        };
        self.waiting = None;
        let head_view = snapshot.view_of(&Touched::default())?;
        let (newer, verifier, _) =
            crate::rotation::open_following(&head_view, &bytes, &self.verifier)?;
        let listing = if unverified.size - old.size > UPDATE_LIMIT {
            snapshot.listing()?
        } else {
            let mut touched = Touched::default();
            for se in read_entries(
                &self.tiles,
                unverified.size,
                unverified.root,
                old.size,
                unverified.size,
            )? {
                touched.add(se.entry.case.as_ref(), &se.entry.event);
            }
            match self.listing.wait() {
                Ok(listing) => snapshot.update(listing, &touched)?,
                // Its error was logged where it was built.
                Err(_) => snapshot.listing()?,
            }
        };
        self.current = Arc::new(snapshot);
        self.listing = SharedListing::built(listing);
        self.checkpoint = newer;
        self.verifier = verifier;
        Ok(true)
    }
}

/// The log's verifier key as the genesis entry names it, read through tiles that are checked
/// against the (not yet verified) checkpoint's root; the caller then verifies the checkpoint.
fn genesis_verifier(tiles: &DirTiles, checkpoint: &[u8]) -> Result<Verifier, Error> {
    let note = Note::parse(checkpoint).map_err(|e| Error::Checkpoint(e.into()))?;
    let cp = Checkpoint::parse(&note.text)?;
    let first = read_entries(tiles, cp.size, cp.root, 0, 1)?;
    let Some(genesis) = first.first() else {
        return Err(Error::Corrupt {
            what: "the log is empty: no genesis entry".into(),
        });
    };
    match &genesis.entry.event {
        Event::RegisterOpened(r) => {
            Verifier::from_ed25519(&r.origin, KeyType::Ed25519, &r.log_key.0).map_err(|e| {
                Error::Corrupt {
                    what: format!("genesis log key: {e}"),
                }
            })
        }
        other => Err(Error::Corrupt {
            what: format!("entry 0 is {}, not RegisterOpened", other.name()),
        }),
    }
}
