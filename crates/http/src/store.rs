//! Verified reads of the register's files, with the caches that make them fast.
//!
//! Every hash tile the server uses (to serve it, or to build a proof) is first verified
//! against the root of the checkpoint being served, by [`TileHashReader`] (the edge tiles
//! must produce the root, every other tile must hash to what its parent holds). Only then is
//! it kept, *expanded*: with the hashes of every complete subtree inside it, so that a proof
//! is a few lookups and no hashing (RFC 9162 §2.1.3.1 needs up to 7 interior hashes per tile
//! level, which [`TileHashReader`] would recompute from 256 leaves on every call).
//!
//! A hash that is in the tree of one checkpoint is the same in every later one: the server
//! only moves to a checkpoint that is consistent with the one it serves
//! (`RegisterReader::refresh`). So cached tiles stay valid when the log grows; a partial tile
//! is replaced by a wider version, never by a narrower one.
//!
//! Entry bundles are verified too (every entry against its leaf hash) before they are served;
//! the verified bundles are kept in their gzip form (c2sp.org/tlog-tiles: bundles SHOULD be
//! compressed on the wire). One entry read for the API is checked alone against its leaf hash,
//! from a cached bundle or from the file, without verifying, compressing or keeping the rest.
//!
//! Both caches are bounded in bytes and evict arbitrary entries when full: a miss costs one
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
    CacheOnly,
    Allowed,
}

/// The register's files and the caches of verified tiles and bundles.
#[derive(Debug)]
pub struct Store {
    layout: Layout,
    tiles: DirTiles,
    hash_tiles: Cache<(u8, u64), ExpandedTile>,
    bundles: Cache<(u64, u16), VerifiedBundle>,
}

/// The tree a read is verified against: a checkpoint's size and root.
#[derive(Clone, Copy, Debug)]
pub struct Tree {
    pub size: u64,
    pub root: Hash,
}

impl Store {
    pub fn new(layout: Layout, tile_cache_bytes: usize, bundle_cache_bytes: usize) -> Store {
        Store {
            tiles: DirTiles::new(layout.clone()),
            layout,
            hash_tiles: Cache::new(tile_cache_bytes),
            bundles: Cache::new(bundle_cache_bytes),
        }
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
        f(&hashes).map_err(|e| {
            if hashes.needed_io.get() {
                StoreError::NeedsIo
            } else {
                StoreError::Merkle(e)
            }
        })
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
        let expanded = match self.hash_tiles.get(&key).filter(|t| t.width >= tile.width) {
            Some(t) => t,
            None if io == Io::CacheOnly => return Err(StoreError::NeedsIo),
            None => {
                let last = tile.index * u64::from(FULL_WIDTH) + u64::from(tile.width) - 1;
                let index = stored_hash_index(u32::from(level) * 8, last);
                self.verify(tree, &[index])?
                    .remove(&key)
                    .ok_or(StoreError::Corrupt(format!(
                        "{}: not among the tiles verified",
                        tile.path()
                    )))?
            }
        };
        let data = expanded.buf.slice(..usize::from(tile.width) * 32);
        // A full tile's Merkle root (RFC 9162 over its 256 hashes) commits to all of them:
        // one node hash from the two kept halves, where a digest of the bytes would hash
        // 8 KB on every request.
        let digest = if tile.width == FULL_WIDTH {
            match (
                expanded.hash(7, 0, FULL_WIDTH),
                expanded.hash(7, 1, FULL_WIDTH),
            ) {
                (Some(l), Some(r)) => sijil_core::node_hash(&l, &r),
                _ => sijil_core::hash::sha256(&data),
            }
        } else {
            sijil_core::hash::sha256(&data)
        };
        Ok(Some((data, digest)))
    }

    /// Entry bundle `tile` of the tree `tree`, every entry checked against its leaf hash;
    /// `None` if the tree does not cover it.
    ///
    /// A bundle at the log's edge (the last [`EDGE_BUNDLES`] bundle positions, which monitors
    /// tail and new cases read) is gzipped once and kept, and served gzipped to clients that
    /// accept it. Any other bundle is read and checked again on each request and served
    /// plain (identity is always an acceptable coding): a random bundle of a large log is
    /// almost never asked twice by one server, and gzipping it on every miss cost about 1 ms
    /// of CPU (issue 11: 1.6k requests/s where nginx served 54k).
    ///
    /// # Errors
    /// [`StoreError::NeedsIo`] with [`Io::CacheOnly`] on a miss; [`StoreError::Corrupt`] when
    /// the file is missing or an entry does not match its leaf hash.
    pub fn bundle(&self, tree: Tree, tile: &Tile, io: Io) -> Result<Option<Bundle>, StoreError> {
        if tile.level != TileLevel::Entries || !covers(tree, tile) {
            return Ok(None);
        }
        if let Some(b) = self.bundles.get(&(tile.index, tile.width)) {
            return Ok(Some(Bundle::Gzip(b)));
        }
        if io == Io::CacheOnly {
            return Err(StoreError::NeedsIo);
        }
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
    /// # Errors
    /// As [`Store::bundle`]; [`StoreError::Corrupt`] if the entry does not decode or names
    /// another seq. `Ok(None)` when `seq` is not below the tree size.
    pub fn entry(&self, tree: Tree, seq: u64, io: Io) -> Result<Option<StoredEntry>, StoreError> {
        if seq >= tree.size {
            return Ok(None);
        }
        let Some(stored) = Tile::for_size(TileLevel::Entries, seq / 256, tree.size) else {
            return Ok(None);
        };
        // From a verified bundle in memory when there is one; otherwise only this entry is
        // checked, against its leaf hash, and the bundle is neither verified whole nor
        // gzipped nor kept: an API read of one entry costs one hash, not 256 and a gzip
        // (issue 11: 1.2k requests/s for random entries when it did).
        let plain;
        let data = match self.bundles.get(&(stored.index, stored.width)) {
            Some(bundle) => {
                plain = bundle.plain()?;
                &plain[..]
            }
            None if io == Io::CacheOnly => return Err(StoreError::NeedsIo),
            None => {
                plain = self
                    .tiles
                    .read_tile(&stored)
                    .map_err(|e| StoreError::Corrupt(format!("{}: {e}", stored.path())))?;
                &plain[..]
            }
        };
        let entries = bundle::parse(data)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", stored.path())))?;
        let bytes = *entries
            .get((seq % 256) as usize)
            .ok_or(StoreError::Corrupt(format!("{}: too short", stored.path())))?;
        let leaf = leaf_hash(bytes);
        let want = self.hashes(tree, io).read(&[stored_hash_index(0, seq)])?;
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
        Ok(Some(StoredEntry {
            entry,
            leaf,
            bytes: bytes.to_vec(),
        }))
    }

    /// The hash at `index` if a verified tile holding it is cached.
    fn cached_hash(&self, index: u64) -> Option<Hash> {
        let at = HashLocation::of(index);
        let tile = self.hash_tiles.get(&(at.tile_level, at.tile_index))?;
        tile.hash(at.sublevel, at.position, at.width)
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

/// A verified entry bundle, as [`Store::bundle`] has it.
#[derive(Debug)]
pub enum Bundle {
    /// Kept gzipped (a bundle at the log's edge).
    Gzip(Arc<VerifiedBundle>),
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
}

impl Hashes<'_> {
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
            .map(|&index| self.store.cached_hash(index))
            .collect();
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
            let verified = self.store.verify(self.tree, &missing)?;
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
            let expanded = match self.cache.get(&key).filter(|t| t.width >= tile.width) {
                Some(wider) => wider,
                None => {
                    let expanded = Arc::new(ExpandedTile::new(tile.width, data));
                    self.cache
                        .insert(key, Arc::clone(&expanded), expanded.buf.len());
                    expanded
                }
            };
            self.verified.borrow_mut().insert(key, expanded);
        }
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

/// The first level inside a tile whose hashes [`ExpandedTile`] keeps precomputed. Below it,
/// a hash is computed from the tile's own hashes when asked: at most 7 node hashes, about
/// 11 per tile level of a proof, which is cheaper than keeping 224 more hashes per tile.
const KEPT_FROM: u32 = 4;

/// A verified hash tile of width `w` with the complete subtree hashes inside it: its `w`
/// hashes (the tile's bytes, served as they are), then the `w/16` hashes of subtrees of 16,
/// the `w/32` of subtrees of 32, and so on up to subtrees of 128 (RFC 9162 §2.1.1 node
/// hashes). Subtrees of 2, 4 and 8 are hashed on demand (see [`KEPT_FROM`]).
#[derive(Debug)]
struct ExpandedTile {
    width: u16,
    buf: Bytes,
}

impl ExpandedTile {
    /// `data` is the tile's `32 · width` bytes, already verified.
    fn new(width: u16, data: &[u8]) -> ExpandedTile {
        let w = usize::from(width);
        let kept: usize = (KEPT_FROM..8).map(|s| w >> s).sum();
        let mut buf = Vec::with_capacity((w + kept) * 32);
        buf.extend_from_slice(&data[..w * 32]);
        let mut level: Vec<Hash> = data[..w * 32].chunks_exact(32).map(hash_at).collect();
        for s in 1..8 {
            level = level
                .chunks_exact(2)
                .map(|pair| sijil_core::node_hash(&pair[0], &pair[1]))
                .collect();
            if s >= KEPT_FROM {
                for h in &level {
                    buf.extend_from_slice(&h.0);
                }
            }
        }
        ExpandedTile {
            width,
            buf: Bytes::from(buf),
        }
    }

    /// The hash at `position` of `sublevel`, if a tile of at least `need` hashes holds it
    /// and this one is that wide.
    fn hash(&self, sublevel: u32, position: usize, need: u16) -> Option<Hash> {
        if need > self.width {
            return None;
        }
        let w = usize::from(self.width);
        if sublevel >= KEPT_FROM {
            let offset: usize = w + (KEPT_FROM..sublevel).map(|s| w >> s).sum::<usize>();
            let at = (offset + position) * 32;
            return self.buf.get(at..at + 32).map(hash_at);
        }
        // A complete subtree of 2^sublevel (at most 8) of the tile's hashes.
        let first = position << sublevel;
        let count = 1usize << sublevel;
        let mut hashes = [Hash::ZERO; 8];
        for (i, h) in hashes.iter_mut().take(count).enumerate() {
            let at = (first + i) * 32;
            *h = hash_at(self.buf.get(at..at + 32)?);
        }
        let mut n = count;
        while n > 1 {
            for i in 0..n / 2 {
                hashes[i] = sijil_core::node_hash(&hashes[2 * i], &hashes[2 * i + 1]);
            }
            n /= 2;
        }
        Some(hashes[0])
    }
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
            let t = ExpandedTile::new(width, &data);
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
