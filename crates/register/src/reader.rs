//! Reading committed entries and keeping the view in step with the checkpoint.

use std::path::Path;
use std::sync::Arc;

use sijil_core::bundle;
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::event::Event;
use sijil_core::merkle::{self, HashReader as _};
use sijil_core::note::{KeyType, Note, Verifier};
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::{Tile, TileHashReader, TileLevel};
use sijil_core::{leaf_hash, Entry, Hash};
use sijil_projector::View;

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
            // Same tree: only its signature lines may differ (cosignatures).
            let newer = SignedCheckpoint::open(&bytes, &self.verifier)?;
            if newer.checkpoint.root != self.checkpoint.checkpoint.root {
                return Err(Error::Corrupt {
                    what: format!(
                        "two checkpoints of size {} with different roots",
                        newer.checkpoint.size
                    ),
                });
            }
            self.checkpoint = newer;
            return Ok(true);
        }
        let (old, new) = (&self.checkpoint.checkpoint, &unverified);
        if new.size < old.size {
            return Err(Error::Corrupt {
                what: format!(
                    "checkpoint went back from size {} to {}",
                    old.size, new.size
                ),
            });
        }
        let reader = TileHashReader::new(new.size, new.root, &self.tiles);
        let proof = merkle::prove_consistency(old.size, new.size, &reader)?;
        merkle::check_consistency(&proof, old.size, &old.root, new.size, &new.root)?;
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
