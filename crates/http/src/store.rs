//! Verified reads of the register's files, with the caches that make them fast.
//!
//! Every hash tile the server uses (to serve it, or to build a proof) is first verified
//! against the root of the checkpoint being served, by [`TileHashReader`] (the edge tiles
//! must produce the root, every other tile must hash to what its parent holds). Only then is
//! it kept, *expanded*: with the hashes of every complete subtree inside it, so that a proof
//! is a few lookups and no hashing (RFC 9162 §2.1.3.1 needs up to 7 interior hashes per tile
//! level, which [`TileHashReader`] would recompute from 256 leaves on every call). A full
//! level-0 tile is kept compact, without its own hashes ([`ExpandedTile`]): a proof reads the
//! 16 it needs back from the file and checks them against a kept subtree hash first.
//!
//! A hash that is in the tree of one checkpoint is the same in every later one: the server
//! only moves to a checkpoint that is consistent with the one it serves
//! (`RegisterReader::refresh`). So cached tiles stay valid when the log grows; a partial tile
//! is replaced by a wider version, never by a narrower one.
//!
//! Entry bundles are verified too (every entry against its leaf hash) before they are served.
//! The bundles at the log's edge are kept in memory in their gzip form (c2sp.org/tlog-tiles:
//! bundles SHOULD be compressed on the wire); any other is gzipped once, for the first client
//! that accepts gzip, into a directory of this server's own, and sent from there afterwards
//! ([`Gzipped`]). One entry read for the API is checked alone against its leaf hash, from a
//! cached bundle or from the file, without verifying, compressing or keeping the rest.
//!
//! # Verified once: files trusted by their identity
//!
//! A tile or bundle file, once its bytes are verified, is not verified again on each request
//! (issue 11: checking a random bundle's 256 entries cost about 100 µs, 0.16 of nginx's
//! rate). The store remembers what the file *was* when it was verified — device, inode,
//! size, mtime and ctime ([`FileIdentity`]) — with the digest for its ETag, and a later
//! request reads the file and sends it, unverified, only if `fstat` on the open file gives
//! that same identity both before and after the read. Why this never sends a byte that was
//! not verified:
//!
//! - Any change to a file's bytes — `write`, `truncate`, a write through a shared mapping —
//!   sets its ctime (and mtime) to the current time; so do `rename` over it (a new inode
//!   anyway), `chmod`, `chown` and `utimensat`. No system call sets a ctime to a chosen
//!   value: a process that writes the file and then puts its mtime back (`touch -d`) still
//!   moves its ctime. Only the clock itself (root) or writes under the file system (the
//!   block device) get around it, and whoever can do either can also change the binary.
//! - File times are coarse (a clock tick): a change within the tick of the file's previous
//!   change would leave both times as they were. So an identity is remembered only for a
//!   file whose last change is at least [`SETTLED`] old when the verifying read starts; any
//!   later change then gets a later ctime.
//! - The identity is taken (by path) before the verifying read and again after it, and
//!   remembered only if the two agree: the bytes verified are then the file's bytes with
//!   that identity. On a later request, the identity before and after the read agreeing
//!   with the remembered one means no change happened since the verification, nor during
//!   this read.
//!
//! A read of a known file is small (8 KiB for a hash tile, about 50 KiB for a bundle) and
//! needs no hashing, so it is done on the async worker ([`Io::KnownFiles`]), as nginx's
//! worker reads its files; anything to verify goes to the blocking pool.
//!
//! Every cache is bounded in bytes and evicts arbitrary entries when full: a miss costs one
//! verified read, never a wrong answer.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use sijil_core::bundle;
use sijil_core::merkle::{self, split_stored_hash_index, stored_hash_index, HashReader};
use sijil_core::storage::{prefix_of_full, DirTiles, Layout};
use sijil_core::tile::{Tile, TileHashReader, TileLevel, TileReader, FULL_WIDTH};
use sijil_core::{leaf_hash, Entry, Hash, MerkleError};

/// Why a verified read failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The answer is not in the caches and the caller asked for no I/O: retry off the async
    /// runtime with [`Io::Allowed`].
    #[error("needs a read from disk")]
    NeedsIo,
    /// A tile, bundle or entry on disk does not match the served checkpoint, or is missing:
    /// the register directory is damaged (our failure, not the client's).
    #[error("{0}")]
    Corrupt(String),
    #[error(transparent)]
    Merkle(#[from] MerkleError),
}

/// Whether a read may touch the disk (and spend time verifying), or must answer from memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Io {
    /// Memory, and the 512 bytes a proof needs back from a compact hash tile's file, checked
    /// against the hashes kept ([`ExpandedTile::check_group`]): a small read of a file
    /// verified before, as [`Io::KnownFiles`] does, and 15 node hashes.
    CacheOnly,
    /// Memory, and the files of tiles and bundles verified before whose identity is
    /// unchanged ([`Store::hash_tile`], [`Store::bundle`]): one small read, no verification,
    /// so cheap enough for an async worker (as nginx's worker reads its files).
    KnownFiles,
    Allowed,
}

/// The register's files and the caches of verified tiles and bundles.
#[derive(Debug)]
pub struct Store {
    layout: Layout,
    tiles: DirTiles,
    hash_tiles: Cache<(u8, u64), ExpandedTile>,
    bundles: Cache<(u64, u16), VerifiedBundle>,
    /// Tile and bundle files verified once, by what they were then ([`Known`]).
    known: Cache<Tile, Known>,
    /// Where each group of [`ENTRY_GROUP`] entries starts in bundle files read before, so
    /// that one entry is read without the rest of its bundle ([`Store::entry`]).
    entry_starts: Cache<(u64, u16), EntryStarts>,
    /// Full level-0 hash tiles' and full bundles' files kept open ([`Store::open_full`]).
    open_files: Cache<Tile, std::fs::File>,
    /// Full bundles away from the edge, verified and gzipped once, on disk.
    gzipped: Gzipped,
}

/// The tree a read is verified against: a checkpoint's size and root.
#[derive(Clone, Copy, Debug)]
pub struct Tree {
    pub size: u64,
    pub root: Hash,
}

impl Store {
    pub fn new(layout: Layout, tile_cache_bytes: usize, bundle_cache_bytes: usize) -> Store {
        Store::with_known(
            layout,
            tile_cache_bytes,
            bundle_cache_bytes,
            DEFAULT_KNOWN_FILES_BYTES,
        )
    }

    /// As [`Store::new`], remembering at most `known_bytes` of verified files' identities
    /// (about [`KNOWN_ENTRY_BYTES`] each).
    pub fn with_known(
        layout: Layout,
        tile_cache_bytes: usize,
        bundle_cache_bytes: usize,
        known_bytes: usize,
    ) -> Store {
        Store {
            tiles: DirTiles::new(layout.clone()),
            layout,
            hash_tiles: Cache::new(tile_cache_bytes),
            bundles: Cache::new(bundle_cache_bytes),
            known: Cache::new(known_bytes),
            entry_starts: Cache::new(ENTRY_STARTS_BYTES),
            open_files: Cache::new(open_files_budget()),
            gzipped: Gzipped::new(gzip_cache_base(), known_bytes),
        }
    }

    /// As [`Store::new`], keeping gzipped bundles under `base` (tests: the default is
    /// [`gzip_cache_base`]).
    #[cfg(test)]
    fn with_gzip_base(layout: Layout, base: std::path::PathBuf) -> Store {
        let mut store = Store::new(layout, 16 << 20, 1 << 20);
        store.gzipped = Gzipped::new(Some(base), DEFAULT_KNOWN_FILES_BYTES);
        store
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// A [`HashReader`] over the tree `tree`, answering from the verified tiles.
    pub fn hashes(&self, tree: Tree, io: Io) -> Hashes<'_> {
        Hashes {
            store: self,
            tree,
            io,
            needed_io: Cell::new(false),
            groups: RefCell::new(HashMap::new()),
            tiles: RefCell::new(Vec::new()),
        }
    }

    /// The inclusion proof of leaf `index` in the tree of the first `size` leaves of `tree`
    /// (RFC 9162 §2.1.3.1), from hashes verified against `tree`'s root.
    ///
    /// # Errors
    /// [`StoreError::NeedsIo`]; [`StoreError::Merkle`] (an index or size not in the tree, a
    /// tile that fails verification).
    pub fn inclusion_proof(
        &self,
        tree: Tree,
        size: u64,
        index: u64,
        io: Io,
    ) -> Result<Vec<Hash>, StoreError> {
        self.with_hashes(tree, io, |r| merkle::prove_inclusion(size, index, r))
    }

    /// The leaf hash of entry `index` and its inclusion proof in the tree of the first `size`
    /// leaves of `tree`, from one reader: the group of the leaf's compact tile that the proof
    /// reads back ([`Hashes::reread_hash`]) is read and checked once for both.
    ///
    /// # Errors
    /// As [`Store::inclusion_proof`].
    pub fn leaf_and_inclusion_proof(
        &self,
        tree: Tree,
        size: u64,
        index: u64,
        io: Io,
    ) -> Result<(Hash, Vec<Hash>), StoreError> {
        self.with_hashes(tree, io, |r| {
            let proof = merkle::prove_inclusion(size, index, r)?;
            let leaf = r
                .read_hashes(&[stored_hash_index(0, index)])?
                .first()
                .copied()
                .ok_or(MerkleError::Internal("leaf hash: no answer"))?;
            Ok((leaf, proof))
        })
    }

    /// The consistency proof from the first `old_size` to the first `new_size` leaves of
    /// `tree` (RFC 9162 §2.1.4.1).
    ///
    /// # Errors
    /// As [`Store::inclusion_proof`].
    pub fn consistency_proof(
        &self,
        tree: Tree,
        old_size: u64,
        new_size: u64,
        io: Io,
    ) -> Result<Vec<Hash>, StoreError> {
        self.with_hashes(tree, io, |r| {
            merkle::prove_consistency(old_size, new_size, r)
        })
    }

    /// The root of the first `size` leaves of `tree` (RFC 9162 §2.1.1).
    ///
    /// # Errors
    /// As [`Store::inclusion_proof`].
    pub fn root_at(&self, tree: Tree, size: u64, io: Io) -> Result<Hash, StoreError> {
        self.with_hashes(tree, io, |r| merkle::tree_hash(size, r))
    }

    /// The leaf hash of entry `index` of `tree`.
    ///
    /// # Errors
    /// As [`Store::inclusion_proof`].
    pub fn leaf_hash(&self, tree: Tree, index: u64, io: Io) -> Result<Hash, StoreError> {
        let hashes = self.hashes(tree, io).read(&[stored_hash_index(0, index)])?;
        hashes
            .first()
            .copied()
            .ok_or(StoreError::Corrupt(format!("leaf hash {index}: no answer")))
    }

    fn with_hashes<T>(
        &self,
        tree: Tree,
        io: Io,
        f: impl FnOnce(&Hashes<'_>) -> Result<T, MerkleError>,
    ) -> Result<T, StoreError> {
        let hashes = self.hashes(tree, io);
        f(&hashes).map_err(|e| hashes.error(e))
    }

    /// The bytes of hash tile `tile` of the tree `tree`, verified, with a digest of them for
    /// its ETag, or `None` when the tree does not cover it (c2sp.org/tlog-tiles: never serve
    /// a tile beyond the checkpoint).
    ///
    /// # Errors
    /// [`StoreError::NeedsIo`] with [`Io::CacheOnly`] on a miss; [`StoreError::Merkle`] when
    /// the tile on disk is missing or fails verification.
    pub fn hash_tile(
        &self,
        tree: Tree,
        tile: &Tile,
        io: Io,
    ) -> Result<Option<(Bytes, Hash)>, StoreError> {
        let TileLevel::Hash(level) = tile.level else {
            return Ok(None);
        };
        if !covers(tree, tile) {
            return Ok(None);
        }
        let key = (level, tile.index);
        if let Some(served) = self.hash_tiles.get(&key).and_then(|t| t.served(tile.width)) {
            return Ok(Some(served));
        }
        if io == Io::CacheOnly {
            return Err(StoreError::NeedsIo);
        }
        if let Some(known) = self.read_known(tile) {
            return Ok(Some(known));
        }
        if io != Io::Allowed {
            return Err(StoreError::NeedsIo);
        }
        let before = self.identity_before_verifying(tree, tile);
        let last = tile.index * u64::from(FULL_WIDTH) + u64::from(tile.width) - 1;
        let index = stored_hash_index(u32::from(level) * 8, last);
        let expanded = self
            .verify(tree, &[index])?
            .remove(&key)
            .ok_or(StoreError::Corrupt(format!(
                "{}: not among the tiles verified",
                tile.path()
            )))?;
        let (data, digest) = expanded
            .served(tile.width)
            .ok_or(StoreError::Corrupt(format!(
                "{}: verified narrower than asked",
                tile.path()
            )))?;
        self.remember(tile, before, digest, data.len());
        Ok(Some((data, digest)))
    }

    /// Entry bundle `tile` of the tree `tree`, every entry checked against its leaf hash;
    /// `None` if the tree does not cover it. `gzip`: whether the client accepts gzip.
    ///
    /// A bundle at the log's edge (the last [`EDGE_BUNDLES`] bundle positions, which monitors
    /// tail and new cases read) is gzipped once and kept in memory, and served gzipped to
    /// clients that accept it. Any other bundle is full and immutable: for a client that
    /// accepts gzip it is verified and gzipped once, into the server's own directory
    /// ([`Gzipped`]: about a third of the bytes to read and send; issue 11 asks for
    /// "verified, pre-compressed bundles"), and sent from there; for one that does not it is
    /// sent as it is (identity is always an acceptable coding), read from a file verified
    /// before ([`Store::read_known`]) or checked again.
    ///
    /// # Errors
    /// [`StoreError::NeedsIo`] with [`Io::CacheOnly`] on a miss, and with [`Io::KnownFiles`]
    /// when the bundle must be verified or gzipped; [`StoreError::Corrupt`] when the file is
    /// missing or an entry does not match its leaf hash.
    pub fn bundle(
        &self,
        tree: Tree,
        tile: &Tile,
        io: Io,
        gzip_ok: bool,
    ) -> Result<Option<Bundle>, StoreError> {
        if tile.level != TileLevel::Entries || !covers(tree, tile) {
            return Ok(None);
        }
        if let Some(b) = self.bundles.get(&(tile.index, tile.width)) {
            return Ok(Some(Bundle::Gzip(b)));
        }
        if io == Io::CacheOnly {
            return Err(StoreError::NeedsIo);
        }
        let gzipped = gzip_ok && tile.width == FULL_WIDTH && self.gzipped.enabled();
        if gzipped {
            if let Some((bytes, digest)) = self.gzipped.read(tile) {
                return Ok(Some(Bundle::Compressed { bytes, digest }));
            }
            // A file verified before (sent plain to a client refusing gzip) is not verified
            // again to be gzipped: its identity vouches for it.
            if io == Io::Allowed {
                if let Some((plain, _)) = self.read_known(tile) {
                    return Ok(Some(self.gzipped.make(tile, &plain)));
                }
            }
        } else if let Some((bytes, digest)) = self.read_known(tile) {
            return Ok(Some(Bundle::Plain { bytes, digest }));
        }
        if io != Io::Allowed {
            return Err(StoreError::NeedsIo);
        }
        let before = self.identity_before_verifying(tree, tile);
        // Read the bundle as the tree has it (a partial one exists on disk for a published
        // size; an older, narrower width may be gone), then cut it to the width asked.
        let stored = Tile::for_size(TileLevel::Entries, tile.index, tree.size).ok_or(
            StoreError::Corrupt(format!("{}: not in the tree", tile.path())),
        )?;
        let data = self
            .tiles
            .read_tile(&stored)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", stored.path())))?;
        let data = prefix_of_full(tile, &data).ok_or(StoreError::Corrupt(format!(
            "{}: fewer than {} entries",
            stored.path(),
            tile.width
        )))?;
        let entries = bundle::parse_exact(data, usize::from(tile.width))
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", tile.path())))?;
        let first = tile.index * u64::from(FULL_WIDTH);
        let indexes: Vec<u64> = (first..first + u64::from(tile.width))
            .map(|seq| stored_hash_index(0, seq))
            .collect();
        let leaves = self.hashes(tree, Io::Allowed).read(&indexes)?;
        for (i, (entry, leaf)) in entries.iter().zip(&leaves).enumerate() {
            if leaf_hash(entry) != *leaf {
                return Err(StoreError::Corrupt(format!(
                    "{}: entry {} does not match its leaf hash",
                    tile.path(),
                    first + i as u64
                )));
            }
        }
        // The leaf hashes commit to every byte of the bundle: their digest tags its plain form.
        let mut all = Vec::with_capacity(leaves.len() * 32);
        for leaf in &leaves {
            all.extend_from_slice(&leaf.0);
        }
        let plain_digest = sijil_core::hash::sha256(&all);
        let last_bundle = tree.size.saturating_sub(1) / u64::from(FULL_WIDTH);
        if tile.index + EDGE_BUNDLES <= last_bundle {
            self.remember(tile, before, plain_digest, data.len());
            if gzipped {
                return Ok(Some(self.gzipped.make(tile, data)));
            }
            return Ok(Some(Bundle::Plain {
                bytes: Bytes::copy_from_slice(data),
                digest: plain_digest,
            }));
        }
        // Kept gzip-compressed only: that is what is served, and a third of the size.
        let gzip = gzip(data);
        let gzip_digest = sijil_core::hash::sha256(&gzip);
        let verified = Arc::new(VerifiedBundle {
            gzip,
            gzip_digest,
            plain_digest,
        });
        self.bundles.insert(
            (tile.index, tile.width),
            Arc::clone(&verified),
            verified.gzip.len(),
        );
        Ok(Some(Bundle::Gzip(verified)))
    }

    /// Entry `seq` of the tree `tree`: its bytes (verified against its leaf hash), decoded.
    ///
    /// Only this entry is checked, against its leaf hash: the bundle is neither verified
    /// whole nor gzipped nor kept (issue 11: 1.2k requests/s for random entries when it
    /// was). Once a bundle file has been read, where each group of [`ENTRY_GROUP`] of its
    /// entries starts is kept ([`EntryStarts`], a bounded cache), and a later entry of it is
    /// one read of its group (about 3 KB, where the bundle is about 53 KB: a case answer read
    /// a whole bundle per entry). The starts only locate: the bytes found are checked
    /// against the leaf hash like any others, and a file that no longer matches them is read
    /// again whole. With [`Io::KnownFiles`] only a group is read, never a whole bundle.
    ///
    /// # Errors
    /// As [`Store::bundle`]; [`StoreError::Corrupt`] if the entry does not decode or names
    /// another seq. `Ok(None)` when `seq` is not below the tree size.
    pub fn entry(&self, tree: Tree, seq: u64, io: Io) -> Result<Option<StoredEntry>, StoreError> {
        self.entry_from(&self.hashes(tree, io), seq)
    }

    /// Entry `seq`, as [`Store::entry`] reads it, with its inclusion proof in the tree `tree`
    /// (RFC 9162 §2.1.3.1), from one reader: the group of leaf hashes that checks the entry
    /// is read back and checked once for the proof too.
    ///
    /// # Errors
    /// As [`Store::entry`] and [`Store::inclusion_proof`].
    pub fn entry_with_proof(
        &self,
        tree: Tree,
        seq: u64,
        io: Io,
    ) -> Result<Option<(StoredEntry, Vec<Hash>)>, StoreError> {
        let hashes = self.hashes(tree, io);
        let Some(entry) = self.entry_from(&hashes, seq)? else {
            return Ok(None);
        };
        let proof =
            merkle::prove_inclusion(tree.size, seq, &hashes).map_err(|e| hashes.error(e))?;
        Ok(Some((entry, proof)))
    }

    /// [`Store::entry`], checked against the hashes of `hashes`.
    fn entry_from(&self, hashes: &Hashes<'_>, seq: u64) -> Result<Option<StoredEntry>, StoreError> {
        let (tree, io) = (hashes.tree, hashes.io);
        if seq >= tree.size {
            return Ok(None);
        }
        let Some(stored) = Tile::for_size(TileLevel::Entries, seq / 256, tree.size) else {
            return Ok(None);
        };
        let key = (stored.index, stored.width);
        let position = (seq % 256) as usize;
        let too_short = || StoreError::Corrupt(format!("{}: too short", stored.path()));
        if io == Io::CacheOnly {
            // Without a read: only from a bundle kept in memory.
            let plain = self.bundles.get(&key).ok_or(StoreError::NeedsIo)?.plain()?;
            let entries = bundle::parse(&plain)
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", stored.path())))?;
            let bytes = entries.get(position).ok_or_else(too_short)?;
            return self.checked_entry(hashes, seq, bytes, &stored).map(Some);
        }
        if let Some(starts) = self.entry_starts.get(&key) {
            let group = self.read_group(&stored, &starts, position / ENTRY_GROUP);
            if let Some(bytes) = group
                .as_deref()
                .and_then(|g| nth_entry(g, position % ENTRY_GROUP))
            {
                match self.checked_entry(hashes, seq, bytes, &stored) {
                    Ok(entry) => return Ok(Some(entry)),
                    Err(StoreError::NeedsIo) => return Err(StoreError::NeedsIo),
                    // The file changed since its starts were kept: read it whole, below.
                    Err(_) => {}
                }
            }
        }
        if io != Io::Allowed {
            return Err(StoreError::NeedsIo);
        }
        let data = self
            .tiles
            .read_tile(&stored)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", stored.path())))?;
        let entries = bundle::parse(&data)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", stored.path())))?;
        if entries.len() == usize::from(stored.width) {
            if let Some(starts) = EntryStarts::of(&entries) {
                let bytes = starts.bytes();
                self.entry_starts.insert(key, Arc::new(starts), bytes);
            }
        }
        let bytes = entries.get(position).ok_or_else(too_short)?;
        self.checked_entry(hashes, seq, bytes, &stored).map(Some)
    }

    /// Entry `seq`, read from bundle file `stored`: checked against its leaf hash in the
    /// tree of `hashes`, decoded, and checked to say it is entry `seq`.
    fn checked_entry(
        &self,
        hashes: &Hashes<'_>,
        seq: u64,
        bytes: &[u8],
        stored: &Tile,
    ) -> Result<StoredEntry, StoreError> {
        let leaf = leaf_hash(bytes);
        let want = hashes.read(&[stored_hash_index(0, seq)])?;
        if want.first() != Some(&leaf) {
            return Err(StoreError::Corrupt(format!(
                "{}: entry {seq} does not match its leaf hash",
                stored.path()
            )));
        }
        let entry =
            Entry::decode(bytes).map_err(|e| StoreError::Corrupt(format!("entry {seq}: {e}")))?;
        if entry.seq != seq {
            return Err(StoreError::Corrupt(format!(
                "entry at leaf index {seq} says seq {}",
                entry.seq
            )));
        }
        Ok(StoredEntry {
            entry,
            leaf,
            bytes: bytes.to_vec(),
        })
    }

    /// The bytes of entry group `group` of bundle file `stored`, where `starts` says they
    /// are, or `None` if they cannot be read there (the caller reads the whole file). A
    /// partial bundle whose file is gone is read from the full bundle that replaced it: the
    /// entries it holds start at the same offsets there (c2sp.org/tlog-tiles).
    fn read_group(&self, stored: &Tile, starts: &EntryStarts, group: usize) -> Option<Vec<u8>> {
        use std::os::unix::fs::FileExt as _;
        let from = *starts.starts.get(group)?;
        let len = usize::try_from(starts.starts.get(group + 1)?.checked_sub(from)?).ok()?;
        let file = if stored.is_full() {
            self.open_full(stored).ok()?
        } else {
            match std::fs::File::open(self.layout.tile(stored)) {
                Ok(file) => Arc::new(file),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => self
                    .open_full(&Tile {
                        width: FULL_WIDTH,
                        ..*stored
                    })
                    .ok()?,
                Err(_) => return None,
            }
        };
        let mut group = vec![0u8; len];
        file.read_exact_at(&mut group, u64::from(from)).ok()?;
        Some(group)
    }

    /// The file of `tile`, a full level-0 hash tile or a full bundle, kept open (a bounded set,
    /// [`open_files_budget`]): a proof's or an entry's read of a few hundred bytes is then
    /// one `pread`, without an `open`, a path look-up and a `close` (issue 11: a seventh of a
    /// random proof's time). A full tile's or bundle's bytes never change, and what is read
    /// through a kept descriptor is checked as any other read is (a group of hashes against
    /// the subtree hash kept, an entry against its leaf hash): a file replaced or changed
    /// since it was opened gives bytes that are refused, never bytes that are served.
    fn open_full(&self, tile: &Tile) -> std::io::Result<Arc<std::fs::File>> {
        if let Some(file) = self.open_files.get(tile) {
            return Ok(file);
        }
        let file = Arc::new(std::fs::File::open(self.layout.tile(tile))?);
        if self.open_files.budget > 0 {
            self.open_files.insert(*tile, Arc::clone(&file), 1);
        }
        Ok(file)
    }

    /// The bytes of `tile`'s file and their digest, if the file was verified before
    /// ([`Store::remember`]) and is still what it was then: same device, inode, size, mtime
    /// and ctime before and after this read. `None` otherwise (never seen, evicted, changed,
    /// unreadable): the caller verifies it again.
    fn read_known(&self, tile: &Tile) -> Option<(Bytes, Hash)> {
        let known = self.known.get(tile)?;
        let mut file = std::fs::File::open(self.layout.tile(tile)).ok()?;
        if FileIdentity::of(&file.metadata().ok()?) != known.identity {
            return None;
        }
        // Exactly the size verified, in one read (no zeroing, no probe for the end): a file
        // cut or grown since has another size and ctime, which the second `fstat` sees.
        let size = known.identity.size;
        let mut data = Vec::with_capacity(usize::try_from(size).ok()?);
        (&mut file).take(size).read_to_end(&mut data).ok()?;
        if data.len() as u64 != size || FileIdentity::of(&file.metadata().ok()?) != known.identity {
            return None;
        }
        Some((Bytes::from(data), known.digest))
    }

    /// The identity of `tile`'s file before it is read to be verified, if its bytes are the
    /// whole tile the tree has at this index (not a prefix of a wider file) and it has not
    /// changed for [`SETTLED`]: only then can a later request trust it by its identity.
    fn identity_before_verifying(&self, tree: Tree, tile: &Tile) -> Option<FileIdentity> {
        if Tile::for_size(tile.level, tile.index, tree.size) != Some(*tile) {
            return None;
        }
        let meta = std::fs::metadata(self.layout.tile(tile)).ok()?;
        let identity = FileIdentity::of(&meta);
        identity
            .settled(std::time::SystemTime::now())
            .then_some(identity)
    }

    /// Remembers that `tile`'s file, `len` bytes that were just verified and whose digest is
    /// `digest`, had the identity `before` when the verifying read started, if it still has
    /// it: then no byte of it changed during the read (see the module doc).
    fn remember(&self, tile: &Tile, before: Option<FileIdentity>, digest: Hash, len: usize) {
        let Some(before) = before else { return };
        let Ok(after) = std::fs::metadata(self.layout.tile(tile)) else {
            return;
        };
        if FileIdentity::of(&after) != before || before.size != len as u64 {
            return;
        }
        self.known.insert(
            *tile,
            Arc::new(Known {
                identity: before,
                digest,
            }),
            KNOWN_ENTRY_BYTES,
        );
    }

    /// Whether `tile`'s file is remembered as verified (tests).
    #[cfg(test)]
    pub(crate) fn knows(&self, tile: &Tile) -> bool {
        self.known.get(tile).is_some()
    }

    /// The hash at `index` if a verified tile holding it is cached.
    fn cached_hash(&self, index: u64) -> Option<Hash> {
        let at = HashLocation::of(index);
        let tile = self.hash_tiles.get(&(at.tile_level, at.tile_index))?;
        tile.hash(at.sublevel, at.position, at.width)
    }

    /// The full level-0 tiles holding `indexes`, read and each checked against the hash its
    /// parent tile (cached, so verified) holds for it, then cached: a miss hashes one tile
    /// (256 hashes to 1), not its parents and the edge tiles again as [`Store::verify`] does
    /// (issue 11: with a small cache that cost random proofs three quarters of their rate).
    /// A tile whose parent is not cached is left out, for [`Store::verify`].
    ///
    /// # Errors
    /// [`StoreError::Merkle`] when a tile cannot be read; [`StoreError::Corrupt`] when it
    /// does not hash to its parent's hash.
    fn check_by_parent(&self, tree: Tree, indexes: &[u64]) -> Result<Verified, StoreError> {
        let mut verified = Verified::new();
        for &index in indexes {
            let at = HashLocation::of(index);
            let key = (0, at.tile_index);
            let tile = Tile {
                level: TileLevel::Hash(0),
                index: at.tile_index,
                width: FULL_WIDTH,
            };
            if at.tile_level != 0
                || verified.contains_key(&key)
                || Tile::for_size(tile.level, tile.index, tree.size) != Some(tile)
            {
                continue;
            }
            let Some(parent) = self.cached_hash(stored_hash_index(8, at.tile_index)) else {
                continue;
            };
            let data = self.tiles.read_tiles(&[tile])?.pop().unwrap_or_default();
            if data.len() != usize::from(FULL_WIDTH) * 32 {
                return Err(StoreError::Corrupt(format!(
                    "{}: {} bytes, not a full tile",
                    tile.path(),
                    data.len()
                )));
            }
            let expanded = Arc::new(ExpandedTile::new(FULL_WIDTH, &data));
            if expanded.root() != Some(parent) {
                return Err(StoreError::Corrupt(format!(
                    "{}: does not hash to the hash its parent tile holds for it",
                    tile.path()
                )));
            }
            keep(&self.hash_tiles, key, &expanded);
            verified.insert(key, expanded);
        }
        Ok(verified)
    }

    /// Reads and verifies the tiles holding `indexes` in the tree `tree`, caches them, and
    /// returns them: the caller answers from these even if the cache evicted them since.
    fn verify(&self, tree: Tree, indexes: &[u64]) -> Result<Verified, StoreError> {
        let filler = Filler {
            tiles: &self.tiles,
            cache: &self.hash_tiles,
            verified: RefCell::new(HashMap::new()),
        };
        TileHashReader::new(tree.size, tree.root, &filler).read_hashes(indexes)?;
        Ok(filler.verified.into_inner())
    }
}

pub use sijil_core::verify::StoredEntry;

/// How many bundle positions at the log's edge are gzipped once and kept ([`Store::bundle`]).
pub const EDGE_BUNDLES: u64 = 16;

/// How long a file must have been left alone (its ctime and mtime this far in the past)
/// before its identity is remembered. File times are coarse (a clock tick, a few
/// milliseconds): a write in the same tick as the file's last change would leave them as
/// they were. A file untouched for this long gets a later ctime from any change.
pub const SETTLED: std::time::Duration = std::time::Duration::from_secs(1);

/// What one remembered file costs: the identity, the digest, the key, the map's slot and
/// the allocation.
pub const KNOWN_ENTRY_BYTES: usize = 160;

/// The default budget of remembered identities: 4 MiB, about 26,000 tiles and bundles
/// (a log of 10^6 entries has 3,922 hash tiles and 3,907 bundles).
pub const DEFAULT_KNOWN_FILES_BYTES: usize = 4 << 20;

/// The most files [`Store::open_full`] keeps open: enough for every full level-0 hash tile of
/// a log of 10^6 entries (3,906), or half of its tiles and bundles.
pub const MAX_OPEN_FILES: usize = 4096;

/// How many files [`Store::open_full`] keeps open: a quarter of the process's limit on open
/// files (its soft `RLIMIT_NOFILE`, from `/proc/self/limits`), at most [`MAX_OPEN_FILES`],
/// so that connections (`Limits::max_connections`) and everything else keep the rest; 64
/// if the limit cannot be read. (deploy/sijil-serve.service sets 8192: 2,048 kept open.)
fn open_files_budget() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<usize>().ok()
        });
    soft.map_or(64, |n| (n / 4).min(MAX_OPEN_FILES))
}

/// A file as `stat` describes it: enough to see that it changed since it was verified.
/// Any write, truncation, rename over it or `chmod`/`chown`/`touch` sets its ctime to the
/// current time, and no system call sets a ctime to a chosen value (only the clock can:
/// root's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileIdentity {
    fn of(meta: &std::fs::Metadata) -> FileIdentity {
        use std::os::unix::fs::MetadataExt as _;
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// Whether the file's last change is at least [`SETTLED`] before `now`.
    fn settled(&self, now: std::time::SystemTime) -> bool {
        let Ok(now) = now.duration_since(std::time::UNIX_EPOCH) else {
            return false;
        };
        let at = |(s, ns): (i64, i64)| {
            Some(std::time::Duration::new(
                u64::try_from(s).ok()?,
                u32::try_from(ns).ok()?,
            ))
        };
        match (at(self.ctime), at(self.mtime)) {
            (Some(c), Some(m)) => c.max(m) + SETTLED <= now,
            _ => false,
        }
    }
}

/// A tile or bundle file whose bytes were verified against the tree, and what it was then.
#[derive(Debug)]
struct Known {
    identity: FileIdentity,
    /// The digest of the verified bytes, for the ETag (as [`Store::hash_tile`] and
    /// [`Bundle::Plain`] compute it).
    digest: Hash,
}

/// A verified entry bundle, as [`Store::bundle`] has it.
#[derive(Debug)]
pub enum Bundle {
    /// Kept gzipped (a bundle at the log's edge).
    Gzip(Arc<VerifiedBundle>),
    /// Gzipped once and read back from the server's own directory ([`Gzipped`]), for a
    /// client that accepts gzip; `digest` is the SHA-256 of `bytes`, for its ETag.
    Compressed { bytes: Bytes, digest: Hash },
    /// Read and checked for this request; `digest` commits to its bytes (a digest of its
    /// entries' leaf hashes), for its ETag.
    Plain { bytes: Bytes, digest: Hash },
}

/// An entry bundle whose entries all match their leaf hashes, gzip-compressed.
#[derive(Debug)]
pub struct VerifiedBundle {
    pub gzip: Bytes,
    /// SHA-256 of `gzip`, for its ETag: computed once, not on each request.
    pub gzip_digest: Hash,
    /// The tag of the plain form: a digest of the entries' leaf hashes (as [`Bundle::Plain`]).
    pub plain_digest: Hash,
}

impl VerifiedBundle {
    /// The bundle's bytes.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the compressed form does not inflate (a bug: it was made
    /// here).
    pub fn plain(&self) -> Result<Vec<u8>, StoreError> {
        let mut plain = Vec::with_capacity(self.gzip.len() * 3);
        flate2::read::GzDecoder::new(self.gzip.as_ref())
            .read_to_end(&mut plain)
            .map_err(|e| StoreError::Corrupt(format!("a cached bundle does not inflate: {e}")))?;
        Ok(plain)
    }
}

/// `data` gzip-compressed (c2sp.org/tlog-tiles: bundles SHOULD be compressed on the wire).
fn gzip(data: &[u8]) -> Bytes {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 2),
        flate2::Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(data);
    Bytes::from(enc.finish().unwrap_or_default())
}

/// Where the gzipped bundles go by default: systemd's `CACHE_DIRECTORY` (a unit's
/// `CacheDirectory=`), else `/var/tmp` (on disk, where `/tmp` may be memory: a tmpfs would
/// count against the server's memory), else the system's temporary directory. A directory of
/// this process's own is made there on first use and removed at exit.
fn gzip_cache_base() -> Option<std::path::PathBuf> {
    if let Ok(dirs) = std::env::var("CACHE_DIRECTORY") {
        // systemd lists one per `CacheDirectory=` name, separated by ':'.
        if let Some(first) = dirs.split(':').find(|d| !d.is_empty()) {
            return Some(std::path::PathBuf::from(first));
        }
    }
    let var_tmp = std::path::Path::new("/var/tmp");
    Some(if var_tmp.is_dir() {
        var_tmp.to_path_buf()
    } else {
        std::env::temp_dir()
    })
}

/// Full entry bundles away from the log's edge, verified and gzipped once into a directory of
/// the server's own (issue 11: a random bundle sent as it is ran at 0.63–0.70 of nginx's
/// rate, a third of it copying 53 KB from the page cache; gzipped it is about a third of
/// that). Nothing here is trusted that this process did not write and check:
///
/// - the directory is made on first use (mode 0700, a fresh name), and removed at exit;
/// - a file is written from bytes just gzipped from a verified bundle, and its SHA-256 kept;
/// - a read is served only if the file's bytes have that digest, or, once the file has been
///   left alone for [`SETTLED`], if its identity (device, inode, size, mtime, ctime: see the
///   module doc) is still the one it had when its digest was last checked;
/// - anything else (a file changed, gone, or never written by this process) is a miss: the
///   bundle is verified and gzipped again, and the file written anew.
///
/// Its size is bounded by the bundles served: about a third of the bundles' own size.
/// Which files are known takes at most the known-files budget of memory.
#[derive(Debug)]
struct Gzipped {
    /// Where the directory is made; `None`: not kept (served plain).
    base: Option<std::path::PathBuf>,
    dir: std::sync::OnceLock<Option<tempfile::TempDir>>,
    known: Cache<Tile, GzKnown>,
}

/// A gzipped bundle this process wrote: its digest and, once settled, its identity.
#[derive(Debug)]
struct GzKnown {
    digest: Hash,
    identity: Option<FileIdentity>,
}

impl Gzipped {
    fn new(base: Option<std::path::PathBuf>, known_bytes: usize) -> Gzipped {
        Gzipped {
            base,
            dir: std::sync::OnceLock::new(),
            known: Cache::new(known_bytes),
        }
    }

    /// Whether gzipped bundles are kept (the directory could be made, or is still to be).
    fn enabled(&self) -> bool {
        self.base.is_some() && self.dir.get().is_none_or(Option::is_some)
    }

    /// The directory, made on first use; `None` (said once in the log) if it cannot be.
    fn dir(&self) -> Option<&std::path::Path> {
        self.dir
            .get_or_init(|| {
                let base = self.base.as_ref()?;
                match tempfile::Builder::new()
                    .prefix("sijil-bundles-")
                    .tempdir_in(base)
                {
                    Ok(dir) => {
                        tracing::info!(dir = %dir.path().display(), "gzipped bundles kept in");
                        Some(dir)
                    }
                    Err(e) => {
                        tracing::warn!(base = %base.display(), error = %e, "cannot make a directory for gzipped bundles: bundles away from the log's edge are sent plain");
                        None
                    }
                }
            })
            .as_ref()
            .map(tempfile::TempDir::path)
    }

    fn path(dir: &std::path::Path, tile: &Tile) -> std::path::PathBuf {
        dir.join(format!("{}.gz", tile.path().replace('/', "-")))
    }

    /// The gzipped bundle `tile` and its digest, if this process wrote it and it is unchanged.
    fn read(&self, tile: &Tile) -> Option<(Bytes, Hash)> {
        let known = self.known.get(tile)?;
        let dir = self.dir.get()?.as_ref()?.path();
        let mut file = std::fs::File::open(Gzipped::path(dir, tile)).ok()?;
        let before = FileIdentity::of(&file.metadata().ok()?);
        if known.identity.is_some_and(|id| id != before) {
            return None;
        }
        let mut data = Vec::with_capacity(usize::try_from(before.size).ok()?);
        (&mut file).take(before.size).read_to_end(&mut data).ok()?;
        if data.len() as u64 != before.size || FileIdentity::of(&file.metadata().ok()?) != before {
            return None;
        }
        if known.identity.is_none() {
            if sijil_core::hash::sha256(&data) != known.digest {
                return None;
            }
            if before.settled(std::time::SystemTime::now()) {
                // These bytes were checked with this identity, which any later change moves.
                self.remember(tile, known.digest, Some(before));
            }
        }
        Some((Bytes::from(data), known.digest))
    }

    /// The verified bundle `tile` (`plain`) gzipped, and kept for later reads.
    fn make(&self, tile: &Tile, plain: &[u8]) -> Bundle {
        let bytes = gzip(plain);
        let digest = sijil_core::hash::sha256(&bytes);
        self.keep(tile, &bytes, digest);
        Bundle::Compressed { bytes, digest }
    }

    /// Writes the gzipped bundle `tile` (`gzip`, whose SHA-256 is `digest`) for later reads.
    /// A failure to write is only logged: the bundle was served, and the next request makes
    /// it again.
    fn keep(&self, tile: &Tile, gzip: &[u8], digest: Hash) {
        let Some(dir) = self.dir() else { return };
        let path = Gzipped::path(dir, tile);
        // Written whole under another name, then renamed: a reader never sees a part of it.
        let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut tmp| {
            tmp.write_all(gzip)?;
            tmp.persist(&path).map_err(|e| e.error)
        });
        match written {
            Ok(_) => self.remember(tile, digest, None),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot keep a gzipped bundle")
            }
        }
    }

    fn remember(&self, tile: &Tile, digest: Hash, identity: Option<FileIdentity>) {
        self.known.insert(
            *tile,
            Arc::new(GzKnown { digest, identity }),
            KNOWN_ENTRY_BYTES,
        );
    }
}

/// Whether the tree `tree` holds every hash (or entry) of `tile` at its width.
fn covers(tree: Tree, tile: &Tile) -> bool {
    Tile::for_size(tile.level, tile.index, tree.size).is_some_and(|t| t.width >= tile.width)
}

/// Stored hashes of one tree, from verified tiles: cached ones first, the others read from
/// disk and verified when I/O is allowed.
#[derive(Debug)]
pub struct Hashes<'a> {
    store: &'a Store,
    tree: Tree,
    io: Io,
    /// Set when a read failed for want of I/O, so that the caller of a merkle function (which
    /// only sees a `MerkleError`) can tell "retry with I/O" from a real failure.
    needed_io: Cell<bool>,
    /// The groups of compact tiles read back and checked by this reader's reads
    /// ([`Hashes::reread_hash`]): a proof and its leaf hash need the same group, read once.
    groups: RefCell<HashMap<(u64, usize), GroupHashes>>,
    /// The cached tiles this reader used ([`Hashes::cached`]).
    tiles: RefCell<Vec<TileSeen>>,
}

/// A cached tile a [`Hashes`] reader used, by (level, index).
type TileSeen = ((u8, u64), Arc<ExpandedTile>);

impl Hashes<'_> {
    /// The store's error for `e`, the failure of a merkle function reading from this reader.
    fn error(&self, e: MerkleError) -> StoreError {
        if self.needed_io.get() {
            StoreError::NeedsIo
        } else {
            StoreError::Merkle(e)
        }
    }

    /// Cached tile `key`, kept by this reader once found: a proof asks for about 20 hashes
    /// from 3 or 4 tiles, and each look-up in the shared cache takes its lock and hashes its
    /// key (issue 11). Only tiles found are kept here: one verified meanwhile is looked up
    /// again.
    fn cached(&self, key: (u8, u64)) -> Option<Arc<ExpandedTile>> {
        let mut tiles = self.tiles.borrow_mut();
        if let Some((_, t)) = tiles.iter().find(|(k, _)| *k == key) {
            return Some(Arc::clone(t));
        }
        let t = self.store.hash_tiles.get(&key)?;
        tiles.push((key, Arc::clone(&t)));
        Some(t)
    }

    /// The hash at `index` if a verified tile holding it is cached.
    fn cached_hash(&self, index: u64) -> Option<Hash> {
        let at = HashLocation::of(index);
        let tile = self.cached((at.tile_level, at.tile_index))?;
        tile.hash(at.sublevel, at.position, at.width)
    }

    /// The hash at `index` if it lies below [`KEPT_FROM`] in a compact tile of the cache: its
    /// group of 16 hashes read back from the tile's file (512 bytes, no more than a known
    /// file's read) and used only if they hash to the subtree hash the tile kept when it was
    /// verified. `groups` holds the groups this read checked already (a proof needs 4
    /// hashes of one group). `None` when no compact tile holds it, or its file cannot be
    /// read (then [`Store::verify`] reads it and says why).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when the group read back does not match: the file changed
    /// since it was verified.
    fn reread_hash(
        &self,
        index: u64,
        groups: &mut HashMap<(u64, usize), GroupHashes>,
    ) -> Result<Option<Hash>, StoreError> {
        use std::os::unix::fs::FileExt as _;
        let at = HashLocation::of(index);
        if at.tile_level != 0 || at.sublevel >= KEPT_FROM {
            return Ok(None);
        }
        let group = (at.position << at.sublevel) / GROUP;
        if let Some(own) = groups.get(&(at.tile_index, group)) {
            return Ok(group_hash(own, at.sublevel, at.position));
        }
        let Some(tile) = self.cached((0, at.tile_index)).filter(|t| t.compact) else {
            return Ok(None);
        };
        let file = Tile {
            level: TileLevel::Hash(0),
            index: at.tile_index,
            width: FULL_WIDTH,
        };
        let mut data = [0u8; GROUP * 32];
        let read = self
            .store
            .open_full(&file)
            .and_then(|f| f.read_exact_at(&mut data, (group * GROUP * 32) as u64));
        if read.is_err() {
            return Ok(None);
        }
        let own = tile.check_group(group, &data).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "{}: hashes {}..{} changed since the tile was verified",
                file.path(),
                group * GROUP,
                (group + 1) * GROUP
            ))
        })?;
        let hash = group_hash(&own, at.sublevel, at.position);
        groups.insert((at.tile_index, group), own);
        Ok(hash)
    }

    /// Like [`HashReader::read_hashes`], with [`StoreError::NeedsIo`] kept apart.
    pub fn read(&self, indexes: &[u64]) -> Result<Vec<Hash>, StoreError> {
        let count = merkle::stored_hash_count(self.tree.size);
        if let Some(&index) = indexes.iter().find(|&&i| i >= count) {
            return Err(MerkleError::HashNotInTree {
                index,
                tree_size: self.tree.size,
            }
            .into());
        }
        let mut found: Vec<Option<Hash>> = indexes
            .iter()
            .map(|&index| self.cached_hash(index))
            .collect();
        let mut groups = self.groups.borrow_mut();
        for (slot, &index) in found.iter_mut().zip(indexes) {
            if slot.is_none() {
                *slot = self.reread_hash(index, &mut groups)?;
            }
        }
        drop(groups);
        let missing: Vec<u64> = indexes
            .iter()
            .zip(&found)
            .filter(|(_, h)| h.is_none())
            .map(|(&index, _)| index)
            .collect();
        if !missing.is_empty() {
            if self.io == Io::CacheOnly {
                return Err(StoreError::NeedsIo);
            }
            // Answer from the tiles this read verified, not from the cache: the cache may
            // have evicted them already.
            let mut verified = self.store.check_by_parent(self.tree, &missing)?;
            let rest: Vec<u64> = missing
                .into_iter()
                .filter(|&index| {
                    let at = HashLocation::of(index);
                    !verified.contains_key(&(at.tile_level, at.tile_index))
                })
                .collect();
            if !rest.is_empty() {
                verified.extend(self.store.verify(self.tree, &rest)?);
            }
            for (slot, &index) in found.iter_mut().zip(indexes) {
                if slot.is_none() {
                    let at = HashLocation::of(index);
                    *slot = verified
                        .get(&(at.tile_level, at.tile_index))
                        .and_then(|t| t.hash(at.sublevel, at.position, at.width));
                }
            }
        }
        found
            .into_iter()
            .zip(indexes)
            .map(|(h, index)| {
                h.ok_or(StoreError::Corrupt(format!(
                    "stored hash {index}: not among the tiles verified"
                )))
            })
            .collect()
    }
}

impl HashReader for Hashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        self.read(indexes).map_err(|e| match e {
            StoreError::Merkle(m) => m,
            StoreError::NeedsIo => {
                self.needed_io.set(true);
                MerkleError::Storage(e.to_string())
            }
            other => MerkleError::Storage(other.to_string()),
        })
    }
}

/// Tiles verified by one read, by (level, index).
type Verified = HashMap<(u8, u64), Arc<ExpandedTile>>;

/// Reads tiles from disk for [`TileHashReader`], and keeps them once it has verified them.
struct Filler<'a> {
    tiles: &'a DirTiles,
    cache: &'a Cache<(u8, u64), ExpandedTile>,
    verified: RefCell<Verified>,
}

impl TileReader for Filler<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        self.tiles.read_tiles(tiles)
    }

    fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]) {
        for (tile, data) in tiles.iter().zip(data) {
            let TileLevel::Hash(level) = tile.level else {
                continue;
            };
            let key = (level, tile.index);
            let cached = self.cache.get(&key).filter(|t| t.width >= tile.width);
            let expanded = match cached {
                Some(wider) if !wider.compact => wider,
                cached => {
                    // This read answers from the whole tile (a compact one lacks the hashes
                    // it may serve); the cache keeps its compact form.
                    let expanded = Arc::new(if level == 0 {
                        ExpandedTile::new(tile.width, data)
                    } else {
                        ExpandedTile::whole(tile.width, data)
                    });
                    if cached.is_none() {
                        keep(self.cache, key, &expanded);
                    }
                    expanded
                }
            };
            self.verified.borrow_mut().insert(key, expanded);
        }
    }
}

/// Caches `tile`, verified: compact if it is a full level-0 tile ([`ExpandedTile::compact`]).
/// Higher tiles stay whole, with every subtree hash: there are 256 times fewer of them, and
/// every proof needs their hashes below [`KEPT_FROM`] (a log of 10^6 entries has 16, 260 KiB).
fn keep(cache: &Cache<(u8, u64), ExpandedTile>, key: (u8, u64), tile: &Arc<ExpandedTile>) {
    match tile.compact().filter(|_| key.0 == 0) {
        Some(compact) => {
            let cost = compact.cost();
            cache.insert(key, Arc::new(compact), cost);
        }
        None => cache.insert(key, Arc::clone(tile), tile.cost()),
    }
}

/// Where stored hash `index` sits in the tiles: tile level and index, the level inside the
/// tile (0 = the tile's own hashes, up to 7), its position there, and the least tile width
/// that holds it.
#[derive(Debug, PartialEq, Eq)]
struct HashLocation {
    tile_level: u8,
    tile_index: u64,
    sublevel: u32,
    position: usize,
    width: u16,
}

impl HashLocation {
    fn of(index: u64) -> HashLocation {
        let (level, n) = split_stored_hash_index(index);
        let sublevel = level % 8;
        // The hash covers 2^sublevel tile hashes, starting at tile hash n · 2^sublevel.
        let first = n.wrapping_shl(sublevel);
        let start = (first % 256) as usize;
        HashLocation {
            tile_level: (level / 8).min(u32::from(u8::MAX)) as u8,
            tile_index: first >> 8,
            sublevel,
            position: start >> sublevel,
            width: (start + (1 << sublevel)) as u16,
        }
    }
}

/// The first level inside a tile whose hashes a compact [`ExpandedTile`] keeps. Below it, a
/// proof reads the tile's own hashes back from its file, a group of [`GROUP`] at a time.
const KEPT_FROM: u32 = 4;

/// A verified hash tile of width `w` with the complete subtree hashes inside it: its `w`
/// hashes (the tile's bytes, served as they are), then the `w/16` hashes of subtrees of 16,
/// the `w/32` of subtrees of 32, and so on up to subtrees of 128 (RFC 9162 §2.1.1 node
/// hashes); subtrees of 2, 4 and 8 are hashed on demand. A tile above level 0 keeps those
/// too ([`ExpandedTile::whole`], 16 KiB): every proof needs 11 of them per tile level
/// (issue 11). A level-0 tile does not: it is kept compact once verified, so those hashes
/// would be computed only to be dropped.
///
/// A *compact* tile (a full level-0 tile in the cache, [`ExpandedTile::compact`]) keeps only
/// the 30 subtree hashes of 16 leaves and up, 960 bytes instead of 16 KiB (issue 11: a log
/// of 10^6 entries in 4 MiB, not 36): a proof reads the 16 leaf hashes it needs back from
/// the tile's file and uses them only once they hash to the kept subtree hash of 16
/// ([`ExpandedTile::check_group`]).
#[derive(Debug)]
struct ExpandedTile {
    width: u16,
    /// Whether `buf` lacks the tile's own hashes (see above).
    compact: bool,
    /// The first sublevel above the own hashes whose subtree hashes `buf` holds: 1 for the
    /// tiles above level 0 (every subtree hash), [`KEPT_FROM`] for level 0.
    from: u32,
    buf: Bytes,
}

/// How many of a tile's own hashes one subtree hash kept by a compact tile covers: the group
/// a proof reads back from the tile's file.
const GROUP: usize = 1 << KEPT_FROM;

/// What one cached tile costs beyond its hashes: the allocation, the `Arc`, the key and the
/// map's slot.
const TILE_OVERHEAD_BYTES: usize = 96;

impl ExpandedTile {
    /// `data` is the tile's `32 · width` bytes, already verified.
    fn new(width: u16, data: &[u8]) -> ExpandedTile {
        ExpandedTile::keeping(width, data, KEPT_FROM)
    }

    /// As [`ExpandedTile::new`], keeping every subtree hash (of 2 leaves and up): the form of
    /// the tiles above level 0, which every proof reads ([`keep`]).
    fn whole(width: u16, data: &[u8]) -> ExpandedTile {
        ExpandedTile::keeping(width, data, 1)
    }

    /// The tile of `data` keeping its own hashes and the subtree hashes of sublevels `from`
    /// to 7.
    fn keeping(width: u16, data: &[u8], from: u32) -> ExpandedTile {
        let w = usize::from(width);
        let kept: usize = w + (from..8).map(|s| w >> s).sum::<usize>();
        let mut buf = Vec::with_capacity(kept * 32);
        buf.extend_from_slice(&data[..w * 32]);
        let mut level: Vec<Hash> = data[..w * 32].chunks_exact(32).map(hash_at).collect();
        for s in 1..8 {
            level = level
                .chunks_exact(2)
                .map(|pair| sijil_core::node_hash(&pair[0], &pair[1]))
                .collect();
            if s >= from {
                for h in &level {
                    buf.extend_from_slice(&h.0);
                }
            }
        }
        ExpandedTile {
            width,
            compact: false,
            from,
            buf: Bytes::from(buf),
        }
    }

    /// This tile without its own hashes, if it is full (a partial tile's last hashes are in
    /// no kept subtree, so it is kept whole), and with the subtree hashes from [`KEPT_FROM`]
    /// only. A copy: a slice would keep the 8 KiB alive.
    fn compact(&self) -> Option<ExpandedTile> {
        if self.compact || self.width != FULL_WIDTH || self.from > KEPT_FROM {
            return None;
        }
        let w = usize::from(FULL_WIDTH);
        let below: usize = w + (self.from..KEPT_FROM).map(|s| w >> s).sum::<usize>();
        Some(ExpandedTile {
            width: self.width,
            compact: true,
            from: KEPT_FROM,
            buf: Bytes::copy_from_slice(self.buf.get(below * 32..)?),
        })
    }

    /// What keeping it in the cache costs.
    fn cost(&self) -> usize {
        self.buf.len() + TILE_OVERHEAD_BYTES
    }

    /// The Merkle root of a full tile's 256 hashes: the hash its parent tile holds for it.
    fn root(&self) -> Option<Hash> {
        Some(sijil_core::node_hash(
            &self.hash(7, 0, FULL_WIDTH)?,
            &self.hash(7, 1, FULL_WIDTH)?,
        ))
    }

    /// The first `width` hashes, as served, and their digest for the ETag; `None` for a
    /// compact tile, which does not hold them. A full tile's Merkle root (RFC 9162 over its
    /// 256 hashes) commits to all of them: one node hash from the two kept halves, where a
    /// digest of the bytes would hash 8 KB.
    fn served(&self, width: u16) -> Option<(Bytes, Hash)> {
        if self.compact || width > self.width {
            return None;
        }
        let data = self.buf.slice(..usize::from(width) * 32);
        let digest = match self.root().filter(|_| width == FULL_WIDTH) {
            Some(root) => root,
            None => sijil_core::hash::sha256(&data),
        };
        Some((data, digest))
    }

    /// The hash at `position` of `sublevel`, if a tile of at least `need` hashes holds it
    /// and this one is that wide; `None` too for a compact tile's hashes below [`KEPT_FROM`]
    /// (read them back with [`ExpandedTile::check_group`]).
    fn hash(&self, sublevel: u32, position: usize, need: u16) -> Option<Hash> {
        if need > self.width || sublevel > 7 {
            return None;
        }
        let w = usize::from(self.width);
        let own = if self.compact { 0 } else { w };
        if sublevel >= self.from {
            let offset: usize = own + (self.from..sublevel).map(|s| w >> s).sum::<usize>();
            let at = (offset + position) * 32;
            return self.buf.get(at..at + 32).map(hash_at);
        }
        if self.compact {
            return None;
        }
        // A complete subtree of 2^sublevel (at most 8) of the tile's own hashes: a level-0
        // tile not kept compact (at the log's edge, or just verified).
        let first = (position << sublevel) * 32;
        let own = self.buf.get(first..first + (32 << sublevel))?;
        Some(subtree_root(own))
    }

    /// The hashes of group `group` (hashes `16·group..16·group + 16` of a full tile), read
    /// back from its file as `data`, if they hash to the subtree hash this tile kept for
    /// them when it was verified; `None` if they do not (the file changed since).
    fn check_group(&self, group: usize, data: &[u8]) -> Option<GroupHashes> {
        let want = self.hash(KEPT_FROM, group, FULL_WIDTH)?;
        let data = data.get(..GROUP * 32)?;
        let own = group_subtrees(data);
        (own[2 * GROUP - 2] == want).then_some(own)
    }
}

/// The verified hashes of one group of a compact tile ([`ExpandedTile::check_group`]): its
/// 16 own hashes, then the hashes of its subtrees of 2, 4, 8 and 16 (the last is the one the
/// tile kept). Every hash a proof needs below [`KEPT_FROM`] is one of them: checking the group
/// computed them all, so a proof hashes nothing more (issue 11).
type GroupHashes = [Hash; 2 * GROUP - 1];

/// [`GroupHashes`] of the 16 hashes in `data` (RFC 9162 §2.1.1 node hashes).
fn group_subtrees(data: &[u8]) -> GroupHashes {
    let mut all = [Hash::ZERO; 2 * GROUP - 1];
    for (h, bytes) in all.iter_mut().zip(data.chunks_exact(32)) {
        *h = hash_at(bytes);
    }
    let (mut from, mut n) = (0, GROUP);
    while n > 1 {
        for i in 0..n / 2 {
            all[from + n + i] = sijil_core::node_hash(&all[from + 2 * i], &all[from + 2 * i + 1]);
        }
        from += n;
        n /= 2;
    }
    all
}

/// The RFC 9162 §2.1.1 hash of the complete subtree whose leaves are the hashes in `data`
/// (a power of two of them, at most [`GROUP`]).
fn subtree_root(data: &[u8]) -> Hash {
    let mut level = [Hash::ZERO; GROUP];
    let mut n = 0;
    for (h, bytes) in level.iter_mut().zip(data.chunks_exact(32)) {
        *h = hash_at(bytes);
        n += 1;
    }
    while n > 1 {
        for i in 0..n / 2 {
            level[i] = sijil_core::node_hash(&level[2 * i], &level[2 * i + 1]);
        }
        n /= 2;
    }
    level[0]
}

/// The hash at `position` of `sublevel` (below [`KEPT_FROM`]) inside group `own`.
fn group_hash(own: &GroupHashes, sublevel: u32, position: usize) -> Option<Hash> {
    // Sublevel s starts after 16 + 8 + … (s terms): 32 - 32 / 2^s hashes in.
    let offset = 2 * GROUP - ((2 * GROUP) >> sublevel);
    own.get(offset + position % (GROUP >> sublevel)).copied()
}

fn hash_at(bytes: &[u8]) -> Hash {
    let mut h = [0u8; 32];
    h.copy_from_slice(&bytes[..32]);
    Hash(h)
}

/// A map of shared values bounded by the bytes they hold; when full, arbitrary entries go.
#[derive(Debug)]
struct Cache<K, V> {
    map: RwLock<HashMap<K, (Arc<V>, usize)>>,
    bytes: AtomicUsize,
    budget: usize,
}

impl<K: std::hash::Hash + Eq + Copy, V> Cache<K, V> {
    fn new(budget: usize) -> Cache<K, V> {
        Cache {
            map: RwLock::new(HashMap::new()),
            bytes: AtomicUsize::new(0),
            budget,
        }
    }

    fn get(&self, key: &K) -> Option<Arc<V>> {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).map(|(v, _)| Arc::clone(v))
    }

    fn insert(&self, key: K, value: Arc<V>, bytes: usize) {
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, old)) = map.insert(key, (value, bytes)) {
            self.bytes.fetch_sub(old, Ordering::Relaxed);
        }
        let mut total = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > self.budget {
            // HashMap order is arbitrary: this evicts (pseudo-)random entries, never the new one.
            let victims: Vec<K> = map
                .keys()
                .filter(|k| **k != key)
                .take(map.len() / 8 + 1)
                .copied()
                .collect();
            for k in victims {
                if total <= self.budget * 7 / 8 {
                    break;
                }
                if let Some((_, b)) = map.remove(&k) {
                    total -= b;
                    self.bytes.fetch_sub(b, Ordering::Relaxed);
                }
            }
        }
    }
}

/// How many entries of a bundle [`EntryStarts`] keeps one start for: an entry read reads
/// at most this many entries (about 3 KB at 200 bytes an entry).
pub const ENTRY_GROUP: usize = 16;

/// The budget of the [`EntryStarts`] cache: about 136 bytes a full bundle, so 1 MiB keeps
/// the starts of about 7,700 bundles (a log of 2·10^6 entries); a larger log reads the
/// bundles not kept whole, as it did before there were starts.
pub const ENTRY_STARTS_BYTES: usize = 1 << 20;

/// Where the entries of a bundle file start, one offset every [`ENTRY_GROUP`] entries, and
/// where the last one ends: group `g` is the bytes `starts[g]..starts[g + 1]`. Bundles are
/// at most 256 entries of at most 65,537 bytes with their prefix, so offsets fit in `u32`.
#[derive(Debug)]
struct EntryStarts {
    starts: Box<[u32]>,
}

impl EntryStarts {
    /// The starts of the bundle whose entries are `entries`, as [`bundle::parse`] gives them.
    fn of(entries: &[&[u8]]) -> Option<EntryStarts> {
        let mut starts = Vec::with_capacity(entries.len() / ENTRY_GROUP + 2);
        let mut at = 0usize;
        for (i, entry) in entries.iter().enumerate() {
            if i % ENTRY_GROUP == 0 {
                starts.push(u32::try_from(at).ok()?);
            }
            at += 2 + entry.len();
        }
        starts.push(u32::try_from(at).ok()?);
        Some(EntryStarts {
            starts: starts.into_boxed_slice(),
        })
    }

    /// What it holds in the cache: the offsets, the allocation, the key and the map's slot.
    fn bytes(&self) -> usize {
        self.starts.len() * 4 + 64
    }
}

/// Entry `n` of `group`, entries as a bundle has them (a 2-byte big-endian length, then the
/// bytes), or `None` if the group ends first.
fn nth_entry(group: &[u8], n: usize) -> Option<&[u8]> {
    let mut rest = group;
    for _ in 0..n {
        let len = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
        rest = rest.get(2 + len..)?;
    }
    let len = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
    rest.get(2..2 + len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sijil_core::merkle::MemoryHashes;
    use sijil_core::tile::{read_tile_data, tile_for_index};

    #[test]
    fn hash_location_agrees_with_core() {
        for index in 0..5000u64 {
            let at = HashLocation::of(index);
            let least = tile_for_index(index);
            assert_eq!(least.level, TileLevel::Hash(at.tile_level), "{index}");
            assert_eq!(least.index, at.tile_index, "{index}");
            assert_eq!(least.width, at.width, "{index}");
        }
    }

    #[test]
    fn expanded_tiles_hold_every_subtree_hash() {
        let leaves: Vec<Hash> = (0..700u64).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mem = MemoryHashes::from_leaves(leaves);
        for (index, width) in [(0u64, 256u16), (1, 256), (2, 188)] {
            let tile = Tile {
                level: TileLevel::Hash(0),
                index,
                width,
            };
            let data = read_tile_data(&tile, &mem).expect("tile in tree");
            for t in [
                ExpandedTile::new(width, &data),
                ExpandedTile::whole(width, &data),
            ] {
                for n in 0..merkle::stored_hash_count(700) {
                    let at = HashLocation::of(n);
                    if at.tile_level != 0 || at.tile_index != index || at.width > width {
                        continue;
                    }
                    let want = mem.read_hashes(&[n]).expect("stored")[0];
                    assert_eq!(
                        t.hash(at.sublevel, at.position, at.width),
                        Some(want),
                        "{n}"
                    );
                }
            }
        }
    }

    /// A tree of `size` leaves with its hash tiles written under a temporary directory, and
    /// the in-memory hashes to check answers against.
    fn tiles_on_disk(size: u64) -> (tempfile::TempDir, Layout, Tree, MemoryHashes) {
        let dir = tempfile::tempdir().expect("temp dir");
        let layout = Layout::new(dir.path());
        let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mem = MemoryHashes::from_leaves(leaves);
        for tile in sijil_core::tile::new_tiles(0, size) {
            let path = layout.tile(&tile);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, read_tile_data(&tile, &mem).expect("tile")).expect("write");
        }
        let root = merkle::tree_hash(size, &mem).expect("root");
        (dir, layout, Tree { size, root }, mem)
    }

    /// [`tiles_on_disk`] with the entry bundles too (entry `i` is `i`'s 8 bytes, as its leaf
    /// hash there).
    fn tiles_and_bundles_on_disk(size: u64) -> (tempfile::TempDir, Layout, Tree) {
        let (dir, layout, tree, _) = tiles_on_disk(size);
        for index in 0..size.div_ceil(256) {
            let end = size.min((index + 1) * 256);
            let entries: Vec<[u8; 8]> = (index * 256..end).map(u64::to_be_bytes).collect();
            let tile = Tile {
                level: TileLevel::Entries,
                index,
                width: (end - index * 256) as u16,
            };
            let path = layout.tile(&tile);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, bundle::encode(&entries).expect("bundle")).expect("write");
        }
        (dir, layout, tree)
    }

    /// Issue 11: a full bundle away from the edge is gzipped once into the server's own
    /// directory and read from there for the next client that accepts gzip; a client that
    /// does not gets it plain. A gzipped file changed behind the server is never sent: it is
    /// a miss (verified and gzipped again).
    #[test]
    fn bundles_away_from_the_edge_are_gzipped_once_and_kept_on_disk() {
        let size = 256 * (EDGE_BUNDLES + 3) + 7;
        let (_dir, layout, tree) = tiles_and_bundles_on_disk(size);
        let base = tempfile::tempdir().expect("base");
        let store = Store::with_gzip_base(layout.clone(), base.path().to_path_buf());
        let tile = Tile {
            level: TileLevel::Entries,
            index: 1,
            width: FULL_WIDTH,
        };
        let plain = std::fs::read(layout.tile(&tile)).expect("bundle");

        // Nothing gzipped yet: an async worker's read must hand over to the blocking pool.
        assert!(matches!(
            store.bundle(tree, &tile, Io::KnownFiles, true),
            Err(StoreError::NeedsIo)
        ));
        let Ok(Some(Bundle::Compressed { bytes, digest })) =
            store.bundle(tree, &tile, Io::Allowed, true)
        else {
            panic!("not gzipped");
        };
        assert_eq!(crate::tests::gunzip(&bytes), plain);
        assert_eq!(digest, sijil_core::hash::sha256(&bytes));
        let kept: Vec<_> = std::fs::read_dir(base.path())
            .expect("base")
            .flatten()
            .flat_map(|d| std::fs::read_dir(d.path()).expect("dir").flatten())
            .map(|e| e.path())
            .collect();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(std::fs::read(&kept[0]).expect("kept"), bytes.as_ref());

        // Now from the kept file, on the async worker.
        let Ok(Some(Bundle::Compressed { bytes: again, .. })) =
            store.bundle(tree, &tile, Io::KnownFiles, true)
        else {
            panic!("not read back");
        };
        assert_eq!(again, bytes);
        // Plain for a client that refuses gzip.
        let Ok(Some(Bundle::Plain { bytes: sent, .. })) =
            store.bundle(tree, &tile, Io::Allowed, false)
        else {
            panic!("not plain");
        };
        assert_eq!(sent.as_ref(), plain.as_slice());

        // The kept file changed (same size): refused, then made again from the bundle.
        let mut bad = bytes.to_vec();
        let at = bad.len() / 2;
        bad[at] ^= 1;
        std::fs::write(&kept[0], &bad).expect("alter");
        assert!(matches!(
            store.bundle(tree, &tile, Io::KnownFiles, true),
            Err(StoreError::NeedsIo)
        ));
        let Ok(Some(Bundle::Compressed { bytes: made, .. })) =
            store.bundle(tree, &tile, Io::Allowed, true)
        else {
            panic!("not gzipped again");
        };
        assert_eq!(crate::tests::gunzip(&made), plain);
        assert_eq!(std::fs::read(&kept[0]).expect("kept"), made.as_ref());

        // A bundle at the edge stays in memory, as before.
        let edge = Tile {
            level: TileLevel::Entries,
            index: size / 256,
            width: (size % 256) as u16,
        };
        assert!(matches!(
            store.bundle(tree, &edge, Io::Allowed, true),
            Ok(Some(Bundle::Gzip(_)))
        ));
    }

    /// A directory for gzipped bundles that cannot be made (its base is a file) is said in
    /// the log, once: the bundle gzipped for that request is sent, later ones plain; never an
    /// error for the client.
    #[test]
    fn bundles_are_sent_plain_when_no_directory_can_be_made_for_them() {
        let size = 256 * (EDGE_BUNDLES + 2);
        let (dir, layout, tree) = tiles_and_bundles_on_disk(size);
        let not_a_dir = dir.path().join("checkpoint-like-file");
        std::fs::write(&not_a_dir, b"x").expect("file");
        let store = Store::with_gzip_base(layout.clone(), not_a_dir);
        let tile = Tile {
            level: TileLevel::Entries,
            index: 0,
            width: FULL_WIDTH,
        };
        let plain = std::fs::read(layout.tile(&tile)).expect("bundle");
        let Ok(Some(Bundle::Compressed { bytes, .. })) =
            store.bundle(tree, &tile, Io::Allowed, true)
        else {
            panic!("not gzipped for the first request");
        };
        assert_eq!(crate::tests::gunzip(&bytes), plain);
        assert!(!store.gzipped.enabled());
        for _ in 0..2 {
            let Ok(Some(Bundle::Plain { bytes, .. })) =
                store.bundle(tree, &tile, Io::Allowed, true)
            else {
                panic!("not sent plain");
            };
            assert_eq!(bytes.as_ref(), plain.as_slice());
        }
    }

    fn full_tile(level: u8, index: u64) -> Tile {
        Tile {
            level: TileLevel::Hash(level),
            index,
            width: FULL_WIDTH,
        }
    }

    #[test]
    fn full_level_0_tiles_are_cached_compact() {
        let size = 256 * 20 + 9;
        let (_dir, layout, tree, mem) = tiles_on_disk(size);
        let store = Store::new(layout, 16 << 20, 1 << 20);
        for index in 0..size {
            let proof = store
                .inclusion_proof(tree, size, index, Io::Allowed)
                .expect("proof");
            assert_eq!(
                proof,
                merkle::prove_inclusion(size, index, &mem).expect("proof")
            );
        }
        // 20 full level-0 tiles at 960 bytes of hashes each, and the edge tiles whole.
        let whole = [9u16, 20]
            .iter()
            .map(|&w| usize::from(w) * 32)
            .sum::<usize>();
        let bytes = store.hash_tiles.bytes.load(Ordering::Relaxed);
        assert!(
            bytes <= 20 * (960 + TILE_OVERHEAD_BYTES) + 2 * (whole + TILE_OVERHEAD_BYTES),
            "{bytes} bytes cached"
        );
        // Served whole all the same, and proofs from memory with no I/O but the group reads.
        let (data, _) = store
            .hash_tile(tree, &full_tile(0, 3), Io::Allowed)
            .expect("read")
            .expect("covered");
        assert_eq!(data, read_tile_data(&full_tile(0, 3), &mem).expect("tile"));
        store
            .inclusion_proof(tree, size, 1000, Io::CacheOnly)
            .expect("from the cache");
    }

    #[test]
    fn a_compact_tile_refuses_hashes_changed_on_disk() {
        let size = 256 * 3 + 10;
        let (_dir, layout, tree, mem) = tiles_on_disk(size);
        let path = layout.tile(&full_tile(0, 1));
        let store = Store::new(layout, 16 << 20, 1 << 20);
        store
            .inclusion_proof(tree, size, 300, Io::Allowed)
            .expect("verified");
        // The tile's leaf hashes are not kept: a byte changed in group 2 (hashes 32..48) is
        // seen by a proof that needs that group, and never used.
        let mut data = std::fs::read(&path).expect("tile");
        data[40 * 32] ^= 1;
        std::fs::write(&path, &data).expect("write");
        for io in [Io::CacheOnly, Io::Allowed] {
            let refused = store.inclusion_proof(tree, size, 256 + 40, io);
            assert!(refused.is_err(), "{io:?}: {refused:?}");
            assert!(store.leaf_hash(tree, 256 + 33, io).is_err(), "{io:?}");
        }
        // Another group of the same tile is read back and checked on its own.
        assert_eq!(
            store
                .inclusion_proof(tree, size, 256 + 100, Io::Allowed)
                .expect("proof"),
            merkle::prove_inclusion(size, 256 + 100, &mem).expect("proof")
        );
        // The whole tile is not served from the compact one either.
        assert!(store
            .hash_tile(tree, &full_tile(0, 1), Io::Allowed)
            .is_err());
    }

    #[test]
    fn a_miss_is_checked_against_its_cached_parent_alone() {
        let size = 256 * 3 + 10;
        let (_dir, layout, tree, mem) = tiles_on_disk(size);
        let store = Store::new(layout.clone(), 16 << 20, 1 << 20);
        store
            .inclusion_proof(tree, size, 3, Io::Allowed)
            .expect("verified");
        assert!(store.hash_tiles.get(&(0, 2)).is_none(), "not read yet");
        // The edge tiles are gone: a verification up to the root would fail. Tile 0/002 is
        // checked against the hash its parent, cached, holds for it.
        for tile in sijil_core::tile::new_tiles(0, size) {
            if !tile.is_full() {
                std::fs::remove_file(layout.tile(&tile)).expect("rm");
            }
        }
        assert_eq!(
            store
                .inclusion_proof(tree, 256 * 3, 600, Io::Allowed)
                .expect("proof"),
            merkle::prove_inclusion(256 * 3, 600, &mem).expect("proof")
        );
        assert!(store.hash_tiles.get(&(0, 2)).is_some_and(|t| t.compact));
        // A tile that does not hash to its parent's hash is refused.
        store.hash_tiles.map.write().expect("lock").remove(&(0, 2));
        let path = layout.tile(&full_tile(0, 2));
        let mut data = std::fs::read(&path).expect("tile");
        data[5] ^= 1;
        std::fs::write(&path, &data).expect("write");
        assert!(store
            .inclusion_proof(tree, 256 * 3, 600, Io::Allowed)
            .is_err());
    }

    #[test]
    fn a_proof_and_its_leaf_hash_are_read_together_and_checked() {
        let size = 256 * 5 + 77;
        let (_dir, layout, tree, mem) = tiles_on_disk(size);
        let path = layout.tile(&full_tile(0, 2));
        let store = Store::new(layout, 16 << 20, 1 << 20);
        for io in [Io::Allowed, Io::CacheOnly] {
            for index in (0..size).step_by(3) {
                for at in [size, index + 1] {
                    let (leaf, proof) = store
                        .leaf_and_inclusion_proof(tree, at, index, io)
                        .expect("proof");
                    assert_eq!(
                        leaf,
                        mem.read_hashes(&[stored_hash_index(0, index)])
                            .expect("leaf")[0]
                    );
                    assert_eq!(
                        proof,
                        merkle::prove_inclusion(at, index, &mem).expect("proof")
                    );
                }
            }
        }
        // The group read back for both is checked: a leaf hash changed on disk is refused,
        // for the proof and for the leaf hash alike.
        let mut data = std::fs::read(&path).expect("tile");
        data[17 * 32 + 3] ^= 1;
        std::fs::write(&path, &data).expect("write");
        for io in [Io::CacheOnly, Io::Allowed] {
            assert!(store
                .leaf_and_inclusion_proof(tree, size, 512 + 17, io)
                .is_err());
            assert!(store
                .leaf_and_inclusion_proof(tree, size, 512 + 20, io)
                .is_err());
        }
        assert!(store
            .leaf_and_inclusion_proof(tree, size, 512 + 40, Io::CacheOnly)
            .is_ok());
    }

    #[test]
    fn full_tile_files_are_kept_open_and_what_they_give_is_checked() {
        let size = 256 * 4 + 10;
        let (_dir, layout, tree, mem) = tiles_on_disk(size);
        let path = layout.tile(&full_tile(0, 1));
        let store = Store::new(layout, 16 << 20, 1 << 20);
        for io in [Io::Allowed, Io::CacheOnly] {
            // Verified, then a group read back (from the file, then kept open).
            store.inclusion_proof(tree, size, 300, io).expect("proof");
        }
        // The file is gone from the directory: its group reads go through the descriptor
        // kept open, and are checked as before.
        let data = std::fs::read(&path).expect("tile");
        std::fs::remove_file(&path).expect("rm");
        assert_eq!(
            store
                .inclusion_proof(tree, size, 256 + 100, Io::CacheOnly)
                .expect("from the kept descriptor"),
            merkle::prove_inclusion(size, 256 + 100, &mem).expect("proof")
        );
        // Changed in place through the same inode: refused, never used.
        drop(store);
        std::fs::write(&path, &data).expect("put back");
        let store = Store::new(layout_of(&path), 16 << 20, 1 << 20);
        for io in [Io::Allowed, Io::CacheOnly] {
            store.inclusion_proof(tree, size, 300, io).expect("proof");
        }
        let mut changed = data.clone();
        changed[70 * 32] ^= 1;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open");
        std::io::Write::write_all(&mut file, &changed).expect("write in place");
        assert!(store
            .inclusion_proof(tree, size, 256 + 70, Io::CacheOnly)
            .is_err());
        assert!(store.open_files.bytes.load(Ordering::Relaxed) <= open_files_budget());
    }

    /// The layout whose level-0 tile 1 is at `path` (`<dir>/tile/0/001`).
    fn layout_of(path: &std::path::Path) -> Layout {
        Layout::new(path.ancestors().nth(3).expect("register directory"))
    }

    #[test]
    fn cache_stays_within_budget() {
        let c: Cache<u64, u64> = Cache::new(1000);
        for k in 0..1000 {
            c.insert(k, Arc::new(k), 100);
            assert!(c.get(&k).is_some(), "the new entry stays");
            assert!(c.bytes.load(Ordering::Relaxed) <= 1000);
        }
    }
}
