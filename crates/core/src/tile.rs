//! C2SP tlog-tiles (c2sp.org/tlog-tiles) with tile height 8: tile coordinates and paths,
//! reading stored hashes out of tiles, verifying fetched tiles against a tree root, and
//! computing the tiles a batch of new leaves produces.
//!
//! The *n*-th hash tile at level *l* holds the concatenated 32-byte hashes
//! `MTH(D[(n·256 + i)·256^l : (n·256 + i + 1)·256^l])` for *i* in `0..w`: leaf hashes at
//! level 0, and at level *l* the roots of full tiles of level *l − 1*. In the stored hash
//! layout of [`crate::merkle`] those are the hashes `(8l, n·256 + i)`. A full tile has
//! `w = 256` (8,192 bytes); the rightmost tile of a level is partial, with
//! `w = floor(size / 256^l) mod 256` (no tile when 0).
//!
//! Paths are `tile/<L>/<N>[.p/<W>]` and, for entry bundles (see [`crate::bundle`]),
//! `tile/entries/<N>[.p/<W>]`: `<L>` is 0–63 and `<W>` 1–255, in decimal without leading
//! zeros, and `<N>` is written in 3-digit groups, all but the last prefixed with `x`
//! (1234067 → `x001/x234/067`, 5 → `005`). These are the C2SP paths, not Go's
//! `tile/8/<L>/…` form.
//!
//! Port of the design of Go's `golang.org/x/mod/sumdb/tlog/tile.go`, with one fix: Go's
//! `tileHashReader` starts authenticating child tiles at the number of root subtrees rather
//! than the number of edge *tiles*, which can skip a tile (for a tree of 300 leaves it never
//! checks `tile/0/000`). [`TileHashReader`] authenticates every tile it returns a hash from.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::ops::Range;

use crate::hash::{node_hash, Hash};
use crate::merkle::{
    check_size, read_exact, split_stored_hash_index, stored_hash_count, stored_hash_index,
    subtree_indexes, tree_hash, HashReader, MerkleError, MAX_TREE_SIZE,
};

/// Tile height: a tile spans 8 levels of the tree, 256 hashes (c2sp.org/tlog-tiles).
pub const TILE_HEIGHT: u32 = 8;

/// The number of hashes in a full tile (and entries in a full bundle).
pub const FULL_WIDTH: u16 = 256;

/// The size of a full hash tile in bytes, 256 × 32.
pub const FULL_TILE_BYTES: usize = 8192;

/// Hash size in bytes.
const HASH_SIZE: usize = 32;

/// Which kind of tile, and for hash tiles at which tile level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileLevel {
    /// A hash tile at tile level 0–63 (`tile/<L>/…`); its hashes are tree level `8 · L`.
    Hash(u8),
    /// An entry bundle (`tile/entries/…`), covering the same leaves as the level-0 tile with
    /// the same index and width.
    Entries,
}

/// A tile or entry bundle: its level, its index `N` within the level and its width `W`.
///
/// `width` is 1–256; 256 is a full tile (no `.p/<W>` in its path). Fields are public: every
/// function taking a `Tile` checks what it needs and says so in its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    /// Hash tile level, or entry bundle.
    pub level: TileLevel,
    /// The index `N` of the tile within its level.
    pub index: u64,
    /// The number of hashes (or entries), 1–256.
    pub width: u16,
}

/// A tile path that is not in the canonical c2sp.org/tlog-tiles form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TilePathError {
    /// Not `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` at all.
    #[error("{path:?}: not a tile path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])")]
    NotTilePath {
        /// The path given.
        path: String,
    },
    /// The level is not `entries` nor a decimal 0–63 without leading zeros.
    #[error("{path:?}: level {segment:?} is not 0-63 (without leading zeros) or \"entries\"")]
    BadLevel {
        /// The path given.
        path: String,
        /// The level segment.
        segment: String,
    },
    /// An index segment is not three digits (the last) or `x` and three digits (the others).
    #[error("{path:?}: index segment {segment:?} is not {expected}")]
    BadIndexSegment {
        /// The path given.
        path: String,
        /// The offending segment.
        segment: String,
        /// What that segment must look like.
        expected: &'static str,
    },
    /// The index has a leading `x000` group, or more groups than a `u64` needs.
    #[error("{path:?}: index is not in canonical form (leading x000 group or too many groups)")]
    NonCanonicalIndex {
        /// The path given.
        path: String,
    },
    /// The index does not fit in 64 bits.
    #[error("{path:?}: index is too large")]
    IndexTooLarge {
        /// The path given.
        path: String,
    },
    /// The width after `.p/` is not a decimal 1–255 without leading zeros.
    #[error("{path:?}: partial width {segment:?} is not 1-255 (without leading zeros)")]
    BadWidth {
        /// The path given.
        path: String,
        /// The width segment.
        segment: String,
    },
}

impl Tile {
    /// The tile's path, c2sp.org/tlog-tiles: `tile/<L>/<N>[.p/<W>]` or
    /// `tile/entries/<N>[.p/<W>]`, e.g. `tile/0/x001/x234/067.p/7` for level 0, index
    /// 1,234,067, width 7.
    pub fn path(&self) -> String {
        let mut path = String::with_capacity(40);
        path.push_str("tile/");
        match self.level {
            TileLevel::Hash(level) => {
                let _ = write!(path, "{level}/");
            }
            TileLevel::Entries => path.push_str("entries/"),
        }
        let mut groups = Vec::with_capacity(7);
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        for (i, group) in groups.iter().rev().enumerate() {
            if i > 0 {
                path.push('/');
            }
            if i + 1 < groups.len() {
                path.push('x');
            }
            let _ = write!(path, "{group:03}");
        }
        if self.width != FULL_WIDTH {
            let _ = write!(path, ".p/{}", self.width);
        }
        path
    }

    /// Parses a tile path, strictly: only the canonical form is accepted, so a parsed path
    /// re-encodes to exactly its input (`tile/0/000`, never `tile/0/0`, `tile/00/000`,
    /// `tile/0/x000/001` or `tile/0/000.p/256`).
    ///
    /// # Errors
    /// A [`TilePathError`] naming the path and the offending segment.
    pub fn parse_path(path: &str) -> Result<Tile, TilePathError> {
        let not_tile = || TilePathError::NotTilePath {
            path: path.to_owned(),
        };
        let rest = path.strip_prefix("tile/").ok_or_else(not_tile)?;
        // level + up to 7 index groups (u64) + width: more is never a tile.
        let segments: Vec<&str> = rest.split('/').take(10).collect();
        if segments.len() < 2 || segments.len() == 10 {
            return Err(not_tile());
        }
        let level = match segments[0] {
            "entries" => TileLevel::Entries,
            s => match canonical_decimal(s) {
                Some(l) if l <= 63 => TileLevel::Hash(l as u8),
                _ => {
                    return Err(TilePathError::BadLevel {
                        path: path.to_owned(),
                        segment: s.to_owned(),
                    })
                }
            },
        };
        let mut index_segments = &segments[1..];
        let mut width = FULL_WIDTH;
        let mut last = index_segments[index_segments.len() - 1];
        if index_segments.len() >= 2 {
            if let Some(stripped) = index_segments[index_segments.len() - 2].strip_suffix(".p") {
                width = match canonical_decimal(last) {
                    Some(w) if (1..=255).contains(&w) => w as u16,
                    _ => {
                        return Err(TilePathError::BadWidth {
                            path: path.to_owned(),
                            segment: last.to_owned(),
                        })
                    }
                };
                index_segments = &index_segments[..index_segments.len() - 1];
                last = stripped;
            }
        }
        if index_segments.len() > 7 {
            return Err(TilePathError::NonCanonicalIndex {
                path: path.to_owned(),
            });
        }
        let mut index: u64 = 0;
        let groups = index_segments.len();
        for (i, &segment) in index_segments.iter().enumerate() {
            let is_last = i + 1 == groups;
            let (digits, expected) = if is_last {
                (last, "three digits")
            } else {
                (
                    segment.strip_prefix('x').unwrap_or(""),
                    "'x' and three digits",
                )
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TilePathError::BadIndexSegment {
                    path: path.to_owned(),
                    segment: segment.to_owned(),
                    expected,
                });
            }
            let group = digits
                .bytes()
                .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'));
            if i == 0 && group == 0 && groups > 1 {
                return Err(TilePathError::NonCanonicalIndex {
                    path: path.to_owned(),
                });
            }
            index = index
                .checked_mul(1000)
                .and_then(|n| n.checked_add(group))
                .ok_or_else(|| TilePathError::IndexTooLarge {
                    path: path.to_owned(),
                })?;
        }
        let tile = Tile {
            level,
            index,
            width,
        };
        // Every rule above is meant to make this hold; checking it keeps parse and path from
        // ever drifting apart.
        if tile.path() != path {
            return Err(TilePathError::NonCanonicalIndex {
                path: path.to_owned(),
            });
        }
        Ok(tile)
    }

    /// Whether the tile is full (256 hashes or entries).
    pub fn is_full(&self) -> bool {
        self.width == FULL_WIDTH
    }

    /// The tile at `level` and `index` as it exists in the tree of `tree_size` leaves: full,
    /// partial with the width that size implies, or `None` when the tree has no hash in it
    /// yet. Clients fetch partial tiles only through this (or [`new_tiles`]), so only when a
    /// verified tree size requires them (c2sp.org/tlog-tiles, Partial Tiles).
    pub fn for_size(level: TileLevel, index: u64, tree_size: u64) -> Option<Tile> {
        let hashes = level_count(tree_level(level)?, tree_size);
        let start = index.checked_mul(u64::from(FULL_WIDTH))?;
        if start >= hashes {
            return None;
        }
        let width = (hashes - start).min(u64::from(FULL_WIDTH)) as u16;
        Some(Tile {
            level,
            index,
            width,
        })
    }

    /// The leaves `D[start_index : end_index]` the tile's hashes (or entries) span, or
    /// `None` if that range does not fit in 64 bits (a level above 7).
    pub fn leaf_range(&self) -> Option<Range<u64>> {
        let per_hash = 1u64.checked_shl(tree_level(self.level)?)?;
        let first = self.index.checked_mul(u64::from(FULL_WIDTH))?;
        let start = first.checked_mul(per_hash)?;
        let end = first
            .checked_add(u64::from(self.width))?
            .checked_mul(per_hash)?;
        Some(start..end)
    }
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

/// The width of the partial tile at tile `level` for a tree of `tree_size` leaves,
/// `floor(size / 256^level) mod 256` (c2sp.org/tlog-tiles); 0 means there is none.
pub fn partial_tile_width(level: u8, tree_size: u64) -> u16 {
    (level_count(u32::from(level) * TILE_HEIGHT, tree_size) % u64::from(FULL_WIDTH)) as u16
}

/// The tile of least width that holds the stored hash at `stored_hash_index` (see
/// [`crate::merkle::stored_hash_index`]). Hashes of tree levels that are not multiples of 8
/// are not in any tile directly: their tile is the one whose hashes they are computed from.
pub fn tile_for_index(stored_hash_index: u64) -> Tile {
    locate(stored_hash_index).0
}

/// The stored hash at `stored_hash_index` from the data of `tile` (exactly `32 · width`
/// bytes), computed from the tile's hashes when its tree level is not a multiple of 8.
/// `tile` must be [`tile_for_index`]`(stored_hash_index)` or a wider version of it.
///
/// # Errors
/// [`MerkleError::InvalidTile`] for an entry bundle or a width outside 1–256;
/// [`MerkleError::TileLength`] if `data` is not `32 · width` bytes;
/// [`MerkleError::HashNotInTile`] if the tile does not hold that hash.
pub fn hash_from_tile(
    tile: &Tile,
    data: &[u8],
    stored_hash_index: u64,
) -> Result<Hash, MerkleError> {
    check_hash_tile(tile)?;
    check_length(tile, data)?;
    let (least, hashes) = locate(stored_hash_index);
    if least.level != tile.level || least.index != tile.index || least.width > tile.width {
        return Err(MerkleError::HashNotInTile {
            path: tile.path(),
            index: stored_hash_index,
        });
    }
    Ok(mth(&data[hashes.start * HASH_SIZE..hashes.end * HASH_SIZE]))
}

/// The Merkle tree hash (RFC 9162 §2.1.1 MTH) of the tile's hashes taken as leaves: for a
/// full tile, the hash its parent tile holds for it.
///
/// # Errors
/// [`MerkleError::InvalidTile`] for an entry bundle or a width outside 1–256;
/// [`MerkleError::TileLength`] if `data` is not `32 · width` bytes.
pub fn tile_hash(tile: &Tile, data: &[u8]) -> Result<Hash, MerkleError> {
    check_hash_tile(tile)?;
    check_length(tile, data)?;
    Ok(mth(data))
}

/// The hashes of a tile's data (exactly `32 · width` bytes), in order.
///
/// # Errors
/// [`MerkleError::InvalidTile`] for an entry bundle or a width outside 1–256;
/// [`MerkleError::TileLength`] if `data` is not `32 · width` bytes.
pub fn tile_hashes(tile: &Tile, data: &[u8]) -> Result<Vec<Hash>, MerkleError> {
    check_hash_tile(tile)?;
    check_length(tile, data)?;
    Ok(data.chunks_exact(HASH_SIZE).map(hash_at).collect())
}

/// Tile data from hashes: their 32 bytes each, concatenated (a level-0 tile is its leaf
/// hashes `SHA-256(0x00 ‖ entry)`, in order).
pub fn tile_data(hashes: &[Hash]) -> Vec<u8> {
    let mut data = Vec::with_capacity(hashes.len() * HASH_SIZE);
    for h in hashes {
        data.extend_from_slice(&h.0);
    }
    data
}

/// The hash tiles, full or partial, that change from the tree of `old_size` leaves to the
/// tree of `new_size` leaves: at each level, the tiles completed in between and the partial
/// tile of `new_size` if it has one. These are the tiles a writer writes before publishing
/// the new checkpoint (a tree of size 0 has none). Empty when `new_size <= old_size`.
///
/// The list has about `(new_size − old_size) / 256` entries: callers bound the range.
/// (Go's `NewTiles` now also lists every partial width in between; tlog-tiles requires the
/// partial tiles of published sizes only, which a writer publishing each size gets here.)
pub fn new_tiles(old_size: u64, new_size: u64) -> Vec<Tile> {
    let mut tiles = Vec::new();
    if new_size <= old_size {
        return tiles;
    }
    for level in 0..8u8 {
        let old_n = level_count(u32::from(level) * TILE_HEIGHT, old_size);
        let new_n = level_count(u32::from(level) * TILE_HEIGHT, new_size);
        if new_n == 0 {
            break;
        }
        if old_n == new_n {
            continue;
        }
        let full = u64::from(FULL_WIDTH);
        for index in old_n / full..new_n / full {
            tiles.push(Tile {
                level: TileLevel::Hash(level),
                index,
                width: FULL_WIDTH,
            });
        }
        let width = (new_n % full) as u16;
        if width > 0 {
            tiles.push(Tile {
                level: TileLevel::Hash(level),
                index: new_n / full,
                width,
            });
        }
    }
    tiles
}

/// The data of hash tile `tile`, read from `r` in one call: `32 · width` bytes.
///
/// # Errors
/// [`MerkleError::InvalidTile`] for an entry bundle, a width outside 1–256 or a tile beyond
/// [`MAX_TREE_SIZE`]; the reader's error, or [`MerkleError::ReadCount`].
pub fn read_tile_data(tile: &Tile, r: &(impl HashReader + ?Sized)) -> Result<Vec<u8>, MerkleError> {
    let indexes = tile_indexes(tile)?;
    Ok(tile_data(&read_exact(r, &indexes)?))
}

/// A source of tiles: files, HTTP, a cache. [`TileHashReader`] verifies what it returns.
pub trait TileReader {
    /// Returns the data of each tile, in order.
    ///
    /// A tile's data should be exactly `32 · width` bytes. When a partial tile is no longer
    /// served (c2sp.org/tlog-tiles lets a log delete it once the full tile exists), a reader
    /// may return the full tile, or any wider version, instead: [`TileHashReader`] keeps the
    /// first `width` hashes (see there).
    ///
    /// # Errors
    /// [`MerkleError::MissingTile`] for a tile it does not have, [`MerkleError::Storage`]
    /// when its backend fails.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError>;

    /// Called with tiles returned by [`read_tiles`](Self::read_tiles) once they have been
    /// verified against the tree root (cut to their width): a cache may keep them now, and
    /// should not before. Does nothing by default.
    fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]) {
        let _ = (tiles, data);
    }
}

impl<T: TileReader + ?Sized> TileReader for &T {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        (**self).read_tiles(tiles)
    }

    fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]) {
        (**self).save_tiles(tiles, data)
    }
}

/// A [`HashReader`] over the tiles of a tree of known size and root (from a verified
/// checkpoint) that **verifies every tile it reads** before returning any hash from it.
///
/// Each [`read_hashes`](HashReader::read_hashes) call fetches, in one
/// [`TileReader::read_tiles`] call, the edge tiles of the tree (the partial tiles that hold
/// the root's subtrees) and the tiles holding the requested hashes with their ancestors. It
/// recomputes the root from the edge tiles and compares it with the trusted root, then checks
/// every other tile against the hash its (already checked) parent holds for it. Only then are
/// the tiles passed to [`TileReader::save_tiles`] and hashes returned. So every hash returned
/// is proven to be in the tree, and a proof built from them verifies against the root.
///
/// Partial tiles are requested with the width the tree size implies, never another. Data
/// longer than that width (a full tile returned for a partial one, or a wider partial) is
/// accepted up to 256 hashes and cut to the width first: those hashes are the same in every
/// later version of the tile, and the cut ones are never looked at, verified or saved. Data
/// shorter than the width, or not a multiple of 32 bytes, is a [`MerkleError::TileLength`].
#[derive(Debug, Clone)]
pub struct TileHashReader<R> {
    tree_size: u64,
    root: Hash,
    tiles: R,
}

impl<R: TileReader> TileHashReader<R> {
    /// A reader for the tree of `tree_size` leaves whose root is `root` (both from a
    /// checkpoint whose signature has been verified), reading tiles from `tiles`.
    pub fn new(tree_size: u64, root: Hash, tiles: R) -> TileHashReader<R> {
        TileHashReader {
            tree_size,
            root,
            tiles,
        }
    }

    /// The tree size the tiles are verified against.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The root the tiles are verified against.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The tile reader.
    pub fn tile_reader(&self) -> &R {
        &self.tiles
    }
}

impl<R: TileReader> HashReader for TileHashReader<R> {
    /// # Errors
    /// [`MerkleError::HashNotInTree`] for an index the tree does not have yet;
    /// [`MerkleError::TreeTooLarge`]; the tile reader's error, [`MerkleError::TileCount`],
    /// [`MerkleError::TileLength`]; [`MerkleError::TileMismatch`] when a tile fails
    /// verification (the edge tiles do not produce the root, or a tile does not hash to what
    /// its parent holds).
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        let size = self.tree_size;
        check_size(size)?;
        let stored = stored_hash_count(size);
        if let Some(&index) = indexes.iter().find(|&&index| index >= stored) {
            return Err(MerkleError::HashNotInTree {
                index,
                tree_size: size,
            });
        }
        if indexes.is_empty() {
            return Ok(Vec::new());
        }

        // Plan: first the edge tiles, which together must produce the root.
        let mut order: HashMap<Tile, usize> = HashMap::new();
        let mut tiles: Vec<Tile> = Vec::new();
        let mut root_parts = Vec::new();
        subtree_indexes(0, size, &mut root_parts);
        let mut root_part_tiles = Vec::with_capacity(root_parts.len());
        for &index in &root_parts {
            let tile = tile_parent(&tile_for_index(index), 0, size).ok_or(
                MerkleError::Internal("TileHashReader: root subtree outside the tree"),
            )?;
            root_part_tiles.push(*order.entry(tile).or_insert_with(|| {
                tiles.push(tile);
                tiles.len() - 1
            }));
        }
        // Go's tileHashReader starts the parent checks below at root_parts.len(), which skips
        // tiles when several root subtrees share an edge tile.
        let edge_tiles = tiles.len();

        // Then the tiles holding the requested hashes, each after its parents, up to a tile
        // already planned (at worst an edge tile: the top level has only the edge tile).
        let mut index_tiles = Vec::with_capacity(indexes.len());
        for &index in indexes {
            let least = tile_for_index(index);
            let mut k = 0;
            let found = loop {
                let tile = tile_parent(&least, k, size).ok_or(MerkleError::Internal(
                    "TileHashReader: lost the tile of a hash",
                ))?;
                if let Some(&j) = order.get(&tile) {
                    break j;
                }
                k += 1;
                if k > 8 {
                    return Err(MerkleError::Internal("TileHashReader: no planned ancestor"));
                }
            };
            let mut position = found;
            for k in (0..k).rev() {
                let tile = tile_parent(&least, k, size).ok_or(MerkleError::Internal(
                    "TileHashReader: lost the tile of a hash",
                ))?;
                if !tile.is_full() {
                    // Only full tiles have a parent holding their hash.
                    return Err(MerkleError::Internal(
                        "TileHashReader: partial tile below another",
                    ));
                }
                order.insert(tile, tiles.len());
                tiles.push(tile);
                position = tiles.len() - 1;
            }
            index_tiles.push(position);
        }

        let mut data = self.tiles.read_tiles(&tiles)?;
        if data.len() != tiles.len() {
            return Err(MerkleError::TileCount {
                expected: tiles.len(),
                got: data.len(),
            });
        }
        for (tile, bytes) in tiles.iter().zip(data.iter_mut()) {
            let want = usize::from(tile.width) * HASH_SIZE;
            if bytes.len() < want || bytes.len() > FULL_TILE_BYTES || bytes.len() % HASH_SIZE != 0 {
                return Err(MerkleError::TileLength {
                    path: tile.path(),
                    expected: want,
                    got: bytes.len(),
                });
            }
            bytes.truncate(want);
        }

        // Authenticate the edge tiles against the root.
        let mut parts = root_parts.iter().zip(&root_part_tiles).rev();
        let mut root = match parts.next() {
            Some((&index, &j)) => hash_from_tile(&tiles[j], &data[j], index)?,
            None => return Err(MerkleError::Internal("TileHashReader: no root subtrees")),
        };
        for (&index, &j) in parts {
            root = node_hash(&hash_from_tile(&tiles[j], &data[j], index)?, &root);
        }
        if root != self.root {
            let paths: Vec<String> = tiles[..edge_tiles].iter().map(Tile::path).collect();
            return Err(MerkleError::TileMismatch {
                path: paths.join(", "),
                tree_size: size,
            });
        }

        // Then every other tile against its parent, which comes earlier and is checked.
        for i in edge_tiles..tiles.len() {
            let tile = &tiles[i];
            let parent = tile_parent(tile, 1, size).ok_or(MerkleError::Internal(
                "TileHashReader: full tile without parent",
            ))?;
            let j = *order
                .get(&parent)
                .ok_or(MerkleError::Internal("TileHashReader: parent not planned"))?;
            let parent_level = tree_level(parent.level).ok_or(MerkleError::Internal(
                "TileHashReader: parent is not a hash tile",
            ))?;
            let held = hash_from_tile(
                &parent,
                &data[j],
                stored_hash_index(parent_level, tile.index),
            )?;
            if held != tile_hash(tile, &data[i])? {
                return Err(MerkleError::TileMismatch {
                    path: tile.path(),
                    tree_size: size,
                });
            }
        }

        self.tiles.save_tiles(&tiles, &data);

        indexes
            .iter()
            .zip(&index_tiles)
            .map(|(&index, &j)| hash_from_tile(&tiles[j], &data[j], index))
            .collect()
    }
}

/// Tiles in memory, by coordinates: a [`TileReader`] for tests, benches and small caches.
///
/// Asked for a partial tile it does not have, it returns the narrowest wider version it has
/// (another partial or the full tile with the same index), as a client falls back to the
/// full tile when a partial one is gone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryTiles {
    tiles: HashMap<Tile, Vec<u8>>,
}

impl MemoryTiles {
    /// No tiles.
    pub fn new() -> MemoryTiles {
        MemoryTiles::default()
    }

    /// Adds (or replaces) a tile.
    pub fn insert(&mut self, tile: Tile, data: Vec<u8>) {
        self.tiles.insert(tile, data);
    }

    /// The data of a tile, if present (exact coordinates, no fallback).
    pub fn get(&self, tile: &Tile) -> Option<&[u8]> {
        self.tiles.get(tile).map(Vec::as_slice)
    }

    /// The number of tiles held.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether no tile is held.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }
}

impl TileReader for MemoryTiles {
    /// # Errors
    /// [`MerkleError::MissingTile`] for a tile it does not have (nor its full version).
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        tiles
            .iter()
            .map(|tile| {
                (tile.width..=FULL_WIDTH)
                    .find_map(|width| self.tiles.get(&Tile { width, ..*tile }))
                    .cloned()
                    .ok_or_else(|| MerkleError::MissingTile { path: tile.path() })
            })
            .collect()
    }
}

/// What appending leaves produced: the new root and the tiles to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The root of the new tree.
    pub root: Hash,
    /// Every tile [`new_tiles`]`(old_size, new_size)` names, with its data, lowest level
    /// first.
    pub tiles: Vec<(Tile, Vec<u8>)>,
}

/// Appends `leaves` (leaf hashes, `SHA-256(0x00 ‖ entry)`) to the tree of `old_size` leaves:
/// returns the new root and every hash tile, full or partial, that changes (those
/// [`new_tiles`]`(old_size, new_size)` names), with their bytes. Pure: the writer writes the
/// tiles, then the checkpoint.
///
/// Reads from `r` once: the old tree's root subtrees and the hashes already in the changed
/// tiles, all held in the old tree's edge (partial) tiles, so a [`TileHashReader`] over the
/// old checkpoint serves it. The new stored hashes are computed in memory (about two hashes
/// per leaf).
///
/// # Errors
/// [`MerkleError::TreeTooLarge`] if the new size exceeds [`MAX_TREE_SIZE`]; the reader's
/// error, or [`MerkleError::ReadCount`].
pub fn append_leaves(
    old_size: u64,
    leaves: &[Hash],
    r: &(impl HashReader + ?Sized),
) -> Result<Appended, MerkleError> {
    let added = u64::try_from(leaves.len()).unwrap_or(u64::MAX);
    let new_size = old_size.saturating_add(added);
    check_size(new_size)?;
    let tiles = new_tiles(old_size, new_size);

    // The old hashes needed: the old root's subtrees (the left siblings of what the new
    // leaves complete) and the old hashes at the start of each changed tile.
    let mut need = Vec::new();
    subtree_indexes(0, old_size, &mut need);
    for tile in &tiles {
        let level = tree_level(tile.level).ok_or(MerkleError::Internal(
            "append_leaves: new_tiles named an entry bundle",
        ))?;
        let first = tile.index * u64::from(FULL_WIDTH);
        for n in first..first + u64::from(tile.width) {
            if (n + 1) << level > old_size {
                break;
            }
            need.push(stored_hash_index(level, n));
        }
    }
    need.sort_unstable();
    need.dedup();
    let old_hashes = read_exact(r, &need)?;
    let mut overlay = Overlay {
        base: stored_hash_count(old_size),
        new: Vec::with_capacity(leaves.len() * 2 + 8),
        old: need.into_iter().zip(old_hashes).collect(),
    };

    for (n, leaf) in (old_size..).zip(leaves) {
        overlay.new.push(*leaf);
        let mut h = *leaf;
        for i in 0..n.trailing_ones() {
            let left = overlay.hash(stored_hash_index(i, (n >> i) - 1))?;
            h = node_hash(&left, &h);
            overlay.new.push(h);
        }
    }

    let root = tree_hash(new_size, &overlay)?;
    let tiles = tiles
        .into_iter()
        .map(|tile| Ok((tile, read_tile_data(&tile, &overlay)?)))
        .collect::<Result<_, MerkleError>>()?;
    Ok(Appended { root, tiles })
}

/// Rebuilds every hash tile of a tree from its leaf hashes, in order: for an auditor that
/// reads every entry bundle and compares the tiles the log serves with these.
///
/// [`push`](Self::push) returns each full tile as it is completed, at every level;
/// [`partial_tiles`](Self::partial_tiles) and [`root`](Self::root) describe the current size.
/// Memory stays at one incomplete tile per level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TileBuilder {
    tree_size: u64,
    /// The hashes of the incomplete tile at each level.
    levels: Vec<Vec<Hash>>,
}

impl TileBuilder {
    /// An empty tree.
    pub fn new() -> TileBuilder {
        TileBuilder::default()
    }

    /// The number of leaves pushed.
    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The builder of the tree of `tree_size` leaves whose stored hashes `r` reads, as if
    /// those leaves had been pushed: it holds the hashes of the incomplete tile at each level
    /// (the partial tiles of that size), read in one call. Pushing the next leaves then
    /// continues that tree, so an incremental audit or mirror rebuilds only the new tiles.
    /// Give it a [`TileHashReader`] over tiles verified against a trusted root.
    ///
    /// # Errors
    /// [`MerkleError::TreeTooLarge`]; the reader's error, or [`MerkleError::ReadCount`].
    pub fn resume(
        tree_size: u64,
        r: &(impl HashReader + ?Sized),
    ) -> Result<TileBuilder, MerkleError> {
        check_size(tree_size)?;
        let full = u64::from(FULL_WIDTH);
        let mut counts = Vec::new();
        let mut indexes = Vec::new();
        let mut level = 0u32;
        loop {
            let hashes = level_count(level * TILE_HEIGHT, tree_size);
            if hashes == 0 {
                break;
            }
            let start = hashes - hashes % full;
            counts.push((hashes - start) as usize);
            indexes.extend((start..hashes).map(|n| stored_hash_index(level * TILE_HEIGHT, n)));
            level += 1;
        }
        let hashes = read_exact(r, &indexes)?;
        let mut levels = Vec::with_capacity(counts.len());
        let mut at = 0;
        for count in counts {
            let mut tile = Vec::with_capacity(usize::from(FULL_WIDTH));
            tile.extend_from_slice(&hashes[at..at + count]);
            levels.push(tile);
            at += count;
        }
        Ok(TileBuilder { tree_size, levels })
    }

    /// The leaf hashes of the incomplete level-0 tile: the last `tree_size mod 256` leaves.
    pub fn pending_leaves(&self) -> &[Hash] {
        self.levels.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// Appends leaf hashes; returns the full tiles they complete (a level-0 tile, then the
    /// level-1 tile it may complete, and so on), with their data.
    ///
    /// # Errors
    /// [`MerkleError::TreeTooLarge`] beyond [`MAX_TREE_SIZE`] leaves (nothing is added).
    pub fn push(&mut self, leaf_hashes: &[Hash]) -> Result<Vec<(Tile, Vec<u8>)>, MerkleError> {
        let added = u64::try_from(leaf_hashes.len()).unwrap_or(u64::MAX);
        check_size(self.tree_size.saturating_add(added))?;
        let mut full = Vec::new();
        for leaf in leaf_hashes {
            self.tree_size += 1;
            let mut h = *leaf;
            let mut level = 0usize;
            loop {
                if self.levels.len() == level {
                    self.levels
                        .push(Vec::with_capacity(usize::from(FULL_WIDTH)));
                }
                let current = &mut self.levels[level];
                current.push(h);
                if current.len() < usize::from(FULL_WIDTH) {
                    break;
                }
                let hashes = std::mem::take(current);
                let tile = Tile {
                    level: TileLevel::Hash(level as u8),
                    // The tile just completed is the last full one at this level.
                    index: level_count(level as u32 * TILE_HEIGHT, self.tree_size)
                        / u64::from(FULL_WIDTH)
                        - 1,
                    width: FULL_WIDTH,
                };
                let data = tile_data(&hashes);
                h = mth(&data);
                full.push((tile, data));
                level += 1;
            }
        }
        Ok(full)
    }

    /// The partial tiles of the current size with their data, lowest level first (as
    /// [`new_tiles`]`(0, size)` ends).
    pub fn partial_tiles(&self) -> Vec<(Tile, Vec<u8>)> {
        self.levels
            .iter()
            .enumerate()
            .filter(|(_, hashes)| !hashes.is_empty())
            .map(|(level, hashes)| {
                let tile = Tile {
                    level: TileLevel::Hash(level as u8),
                    index: level_count(level as u32 * TILE_HEIGHT, self.tree_size)
                        / u64::from(FULL_WIDTH),
                    width: hashes.len() as u16,
                };
                (tile, tile_data(hashes))
            })
            .collect()
    }

    /// The root of the tree of the leaves pushed so far (`SHA-256("")` for none).
    ///
    /// # Errors
    /// None in practice; an error would be a bug ([`MerkleError::Internal`]).
    pub fn root(&self) -> Result<Hash, MerkleError> {
        let edge = EdgeTiles {
            tiles: self.partial_tiles(),
        };
        tree_hash(self.tree_size, &edge)
    }
}

/// A decimal of at most 3 digits without leading zeros ("0" itself is fine), as tile levels
/// and widths are written.
fn canonical_decimal(s: &str) -> Option<u64> {
    let canonical = !s.is_empty()
        && s.len() <= 3
        && s.bytes().all(|b| b.is_ascii_digit())
        && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.bytes().fold(0, |acc, b| acc * 10 + u64::from(b - b'0')))
}

/// The tree level (of the stored hashes) a tile holds: `8 · L` for a hash tile at level L,
/// 0 for entries.
fn tree_level(level: TileLevel) -> Option<u32> {
    match level {
        TileLevel::Hash(l) => Some(u32::from(l) * TILE_HEIGHT),
        TileLevel::Entries => Some(0),
    }
}

/// The number of complete subtrees of `2^tree_level` leaves in a tree of `tree_size` leaves.
fn level_count(tree_level: u32, tree_size: u64) -> u64 {
    tree_size.checked_shr(tree_level).unwrap_or(0)
}

/// The least-width tile holding stored hash `index`, and the range of tile hashes it is
/// computed from.
fn locate(index: u64) -> (Tile, Range<usize>) {
    let (level, n) = split_stored_hash_index(index);
    let tile_level = level / TILE_HEIGHT;
    let within = level % TILE_HEIGHT;
    // The hash covers 2^within tile hashes, starting at tile hash n · 2^within.
    let first = n.wrapping_shl(within);
    let tile_index = first >> TILE_HEIGHT;
    let start = (first % u64::from(FULL_WIDTH)) as usize;
    let end = start + (1usize << within);
    let tile = Tile {
        level: TileLevel::Hash(tile_level.min(u32::from(u8::MAX)) as u8),
        index: tile_index,
        width: end as u16,
    };
    (tile, start..end)
}

/// The `k`-th ancestor of `tile` in the tree of `tree_size` leaves, with the width that size
/// gives it (full or partial), or `None` if the tree has no hash in it.
fn tile_parent(tile: &Tile, k: u8, tree_size: u64) -> Option<Tile> {
    let TileLevel::Hash(level) = tile.level else {
        return None;
    };
    let level = level.checked_add(k)?;
    let index = tile
        .index
        .checked_shr(u32::from(k) * TILE_HEIGHT)
        .unwrap_or(0);
    Tile::for_size(TileLevel::Hash(level), index, tree_size)
}

fn check_hash_tile(tile: &Tile) -> Result<(), MerkleError> {
    let reason = match tile.level {
        TileLevel::Entries => "an entry bundle, not a hash tile",
        TileLevel::Hash(l) if l > 63 => "tile level above 63",
        _ if tile.width == 0 || tile.width > FULL_WIDTH => "width must be 1 to 256",
        _ => return Ok(()),
    };
    Err(MerkleError::InvalidTile {
        path: tile.path(),
        reason,
    })
}

fn check_length(tile: &Tile, data: &[u8]) -> Result<(), MerkleError> {
    let expected = usize::from(tile.width) * HASH_SIZE;
    if data.len() != expected {
        return Err(MerkleError::TileLength {
            path: tile.path(),
            expected,
            got: data.len(),
        });
    }
    Ok(())
}

/// The stored hash indexes of a hash tile's hashes.
fn tile_indexes(tile: &Tile) -> Result<Vec<u64>, MerkleError> {
    check_hash_tile(tile)?;
    let beyond = || MerkleError::InvalidTile {
        path: tile.path(),
        reason: "beyond the largest supported tree",
    };
    let range = tile.leaf_range().ok_or_else(beyond)?;
    if range.end > MAX_TREE_SIZE {
        return Err(beyond());
    }
    let level = tree_level(tile.level).ok_or_else(beyond)?;
    let first = tile.index * u64::from(FULL_WIDTH);
    Ok((first..first + u64::from(tile.width))
        .map(|n| stored_hash_index(level, n))
        .collect())
}

/// The 32-byte hash at the start of `bytes` (which holds at least 32).
fn hash_at(bytes: &[u8]) -> Hash {
    let mut h = [0u8; HASH_SIZE];
    h.copy_from_slice(&bytes[..HASH_SIZE]);
    Hash(h)
}

/// RFC 9162 §2.1.1 MTH over the hashes in `data` (a non-empty multiple of 32 bytes) taken as
/// the leaves' hashes.
fn mth(data: &[u8]) -> Hash {
    let n = data.len() / HASH_SIZE;
    if n <= 1 {
        return hash_at(data);
    }
    let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
    node_hash(&mth(&data[..k * HASH_SIZE]), &mth(&data[k * HASH_SIZE..]))
}

/// The stored hashes of a tree in memory during [`append_leaves`]: new ones computed here
/// on top of the old ones read beforehand.
struct Overlay {
    /// `stored_hash_count(old_size)`: the index of the first new hash.
    base: u64,
    new: Vec<Hash>,
    /// The old hashes read, sorted by index.
    old: Vec<(u64, Hash)>,
}

impl Overlay {
    fn hash(&self, index: u64) -> Result<Hash, MerkleError> {
        if index >= self.base {
            usize::try_from(index - self.base)
                .ok()
                .and_then(|i| self.new.get(i))
                .copied()
                .ok_or(MerkleError::Internal(
                    "append_leaves: new hash not computed",
                ))
        } else {
            self.old
                .binary_search_by_key(&index, |&(i, _)| i)
                .map(|at| self.old[at].1)
                .map_err(|_| MerkleError::Internal("append_leaves: old hash not read"))
        }
    }
}

impl HashReader for Overlay {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes.iter().map(|&index| self.hash(index)).collect()
    }
}

/// The stored hashes of a tree's root subtrees, served from its partial (edge) tiles.
struct EdgeTiles {
    tiles: Vec<(Tile, Vec<u8>)>,
}

impl HashReader for EdgeTiles {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, MerkleError> {
        indexes
            .iter()
            .map(|&index| {
                let least = tile_for_index(index);
                let (tile, data) = self
                    .tiles
                    .iter()
                    .find(|(t, _)| t.level == least.level && t.index == least.index)
                    .ok_or(MerkleError::Internal(
                        "TileBuilder: root subtree not in an edge tile",
                    ))?;
                hash_from_tile(tile, data, index)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use proptest::prelude::*;

    use super::*;
    use crate::hash::{empty_root, leaf_hash};
    use crate::merkle::{
        check_consistency, check_inclusion, prove_consistency, prove_inclusion, MemoryHashes,
    };

    fn leaves(seed: u64, n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&[seed.to_be_bytes(), i.to_be_bytes()].concat()))
            .collect()
    }

    fn tile(level: u8, index: u64, width: u16) -> Tile {
        Tile {
            level: TileLevel::Hash(level),
            index,
            width,
        }
    }

    /// RFC 9162 §2.1.1 MTH from its recursive definition. Complete power-of-two subtrees are
    /// memoized (they never change as the tree grows), so growing a tree leaf by leaf costs
    /// O(log n) hashes per size.
    #[derive(Default)]
    struct NaiveTree {
        leaves: Vec<Hash>,
        complete: HashMap<(usize, usize), Hash>,
    }

    impl NaiveTree {
        fn root(&mut self) -> Hash {
            if self.leaves.is_empty() {
                return empty_root();
            }
            self.mth(0, self.leaves.len())
        }

        fn mth(&mut self, lo: usize, hi: usize) -> Hash {
            if hi - lo == 1 {
                return self.leaves[lo];
            }
            if let Some(h) = self.complete.get(&(lo, hi)) {
                return *h;
            }
            let k = 1 << (usize::BITS - 1 - (hi - lo - 1).leading_zeros());
            let h = node_hash(&self.mth(lo, lo + k), &self.mth(lo + k, hi));
            if (hi - lo).is_power_of_two() {
                self.complete.insert((lo, hi), h);
            }
            h
        }
    }

    /// Every tile of a tree, as a writer publishing only `sizes` would have left them.
    fn tiles_of(tree: &MemoryHashes, sizes: &[u64]) -> MemoryTiles {
        let mut tiles = MemoryTiles::new();
        let mut old = 0;
        for &size in sizes {
            for t in new_tiles(old, size) {
                tiles.insert(t, read_tile_data(&t, tree).expect("tile data"));
            }
            old = size;
        }
        tiles
    }

    /// A tile reader that flips one bit of one tile's data.
    struct Flip<'a> {
        inner: &'a MemoryTiles,
        tile: Tile,
        byte: usize,
    }

    impl TileReader for Flip<'_> {
        fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
            let mut data = self.inner.read_tiles(tiles)?;
            for (t, d) in tiles.iter().zip(data.iter_mut()) {
                if *t == self.tile {
                    d[self.byte] ^= 1;
                }
            }
            Ok(data)
        }
    }

    #[test]
    fn paths_encode_and_parse() {
        let cases = [
            (tile(0, 0, 256), "tile/0/000"),
            (tile(0, 1_234_067, 256), "tile/0/x001/x234/067"),
            (tile(3, 1_234_067, 7), "tile/3/x001/x234/067.p/7"),
            (tile(63, 1000, 255), "tile/63/x001/000.p/255"),
            (
                Tile {
                    level: TileLevel::Entries,
                    index: 5,
                    width: 1,
                },
                "tile/entries/005.p/1",
            ),
            (
                tile(0, u64::MAX, 256),
                "tile/0/x018/x446/x744/x073/x709/x551/615",
            ),
        ];
        for (t, path) in cases {
            assert_eq!(t.path(), path);
            assert_eq!(t.to_string(), path);
            assert_eq!(Tile::parse_path(path), Ok(t), "{path}");
        }
    }

    #[test]
    fn bad_paths_say_what_and_where() {
        let err = |p: &str| Tile::parse_path(p).expect_err(p);
        assert_eq!(
            err("tile/0/x001/23.p/7"),
            TilePathError::BadIndexSegment {
                path: "tile/0/x001/23.p/7".into(),
                segment: "23.p".into(),
                expected: "three digits"
            }
        );
        assert_eq!(
            err("tile/01/000").to_string(),
            "\"tile/01/000\": level \"01\" is not 0-63 (without leading zeros) or \"entries\""
        );
        assert!(
            matches!(err("tile/0/000.p/256"), TilePathError::BadWidth { segment, .. } if segment == "256")
        );
        assert!(matches!(
            err("tile/0/x000/001"),
            TilePathError::NonCanonicalIndex { .. }
        ));
        assert!(matches!(
            err("tile/0/x018/x446/x744/x073/x709/x551/616"),
            TilePathError::IndexTooLarge { .. }
        ));
        assert!(matches!(
            err("tile/0/x001/x001/x001/x001/x001/x001/x001/001"),
            TilePathError::NonCanonicalIndex { .. }
        ));
        assert!(matches!(
            err("tile/0/../000"),
            TilePathError::BadIndexSegment { .. }
        ));
        assert!(matches!(err("tile/0"), TilePathError::NotTilePath { .. }));
        assert!(matches!(
            err("tiles/0/000"),
            TilePathError::NotTilePath { .. }
        ));
        assert!(matches!(
            err("/tile/0/000"),
            TilePathError::NotTilePath { .. }
        ));
        assert!(matches!(
            err("tile/0/000/"),
            TilePathError::BadIndexSegment { .. }
        ));
        assert!(matches!(
            err("tile/entries/+01"),
            TilePathError::BadIndexSegment { .. }
        ));
    }

    #[test]
    fn tile_geometry() {
        // c2sp.org/tlog-tiles: a tree of 70,000 leaves.
        assert_eq!(partial_tile_width(0, 70_000), 112);
        assert_eq!(partial_tile_width(1, 70_000), 17);
        assert_eq!(partial_tile_width(2, 70_000), 1);
        assert_eq!(partial_tile_width(3, 70_000), 0);
        assert_eq!(
            Tile::for_size(TileLevel::Hash(0), 273, 70_000),
            Some(tile(0, 273, 112))
        );
        assert_eq!(
            Tile::for_size(TileLevel::Hash(0), 272, 70_000),
            Some(tile(0, 272, 256))
        );
        assert_eq!(Tile::for_size(TileLevel::Hash(0), 274, 70_000), None);
        assert_eq!(Tile::for_size(TileLevel::Hash(3), 0, 70_000), None);
        assert_eq!(
            Tile::for_size(TileLevel::Entries, 1, 300),
            Some(Tile {
                level: TileLevel::Entries,
                index: 1,
                width: 44
            })
        );
        assert_eq!(
            tile(1, 2, 17).leaf_range(),
            Some(2 * 65_536..2 * 65_536 + 17 * 256)
        );
        assert_eq!(tile(8, 0, 1).leaf_range(), None);
        // Leaf 0, node (1, 0) and (8, 0): the first in tile/0/000, the root of its first
        // pair, and the root of the whole tile, which tile/1/000 holds.
        assert_eq!(tile_for_index(0), tile(0, 0, 1));
        assert_eq!(tile_for_index(stored_hash_index(1, 0)), tile(0, 0, 2));
        assert_eq!(tile_for_index(stored_hash_index(7, 1)), tile(0, 0, 256));
        assert_eq!(tile_for_index(stored_hash_index(8, 0)), tile(1, 0, 1));
        assert_eq!(tile_for_index(stored_hash_index(5, 9)), tile(0, 1, 64));
    }

    #[test]
    fn new_tiles_cover_every_change() {
        assert!(new_tiles(0, 0).is_empty());
        assert!(new_tiles(5, 5).is_empty());
        assert!(new_tiles(6, 5).is_empty());
        assert_eq!(new_tiles(0, 256), vec![tile(0, 0, 256), tile(1, 0, 1)]);
        assert_eq!(new_tiles(255, 256), vec![tile(0, 0, 256), tile(1, 0, 1)]);
        assert_eq!(new_tiles(256, 257), vec![tile(0, 1, 1)]);
        assert_eq!(
            new_tiles(65_535, 65_537),
            vec![
                tile(0, 255, 256),
                tile(0, 256, 1),
                tile(1, 0, 256),
                tile(2, 0, 1)
            ]
        );
        let all = new_tiles(0, 70_000);
        assert_eq!(all.len(), 277);
        assert_eq!(
            &all[272..],
            &[
                tile(0, 272, 256),
                tile(0, 273, 112),
                tile(1, 0, 256),
                tile(1, 1, 17),
                tile(2, 0, 1)
            ]
        );
    }

    #[test]
    fn hash_from_tile_checks_its_inputs() {
        let tree = MemoryHashes::from_leaves(leaves(1, 300));
        let t = tile(0, 1, 44);
        let data = read_tile_data(&t, &tree).expect("tile");
        let index = stored_hash_index(5, 8);
        let want = tree.stored()[index as usize];
        assert_eq!(hash_from_tile(&t, &data, index), Ok(want));
        assert_eq!(
            hash_from_tile(&t, &data[..32 * 43], index),
            Err(MerkleError::TileLength {
                path: "tile/0/001.p/44".into(),
                expected: 1408,
                got: 1376
            })
        );
        assert_eq!(
            hash_from_tile(&tile(0, 1, 31), &data[..32 * 31], index),
            Err(MerkleError::HashNotInTile {
                path: "tile/0/001.p/31".into(),
                index
            })
        );
        assert_eq!(
            hash_from_tile(&tile(0, 0, 44), &data, index),
            Err(MerkleError::HashNotInTile {
                path: "tile/0/000.p/44".into(),
                index
            })
        );
        let bundle = Tile {
            level: TileLevel::Entries,
            index: 1,
            width: 44,
        };
        assert!(matches!(
            hash_from_tile(&bundle, &data, index),
            Err(MerkleError::InvalidTile { .. })
        ));
        assert!(matches!(
            read_tile_data(&tile(0, 1, 0), &tree),
            Err(MerkleError::InvalidTile { .. })
        ));
        assert!(matches!(
            read_tile_data(&tile(7, 1 << 40, 1), &tree),
            Err(MerkleError::InvalidTile { .. })
        ));
        assert_eq!(
            tile_hashes(&t, &data).expect("hashes"),
            tree.read_hashes(&tile_indexes(&t).expect("i")).expect("h")
        );
        assert_eq!(
            tile_hash(&t, &data),
            Ok(crate::merkle::tree_hash(
                44,
                &MemoryHashes::from_leaves(leaves(1, 300)[256..].iter().copied())
            )
            .expect("root"))
        );
    }

    #[test]
    fn tile_hash_reader_verifies_every_tile() {
        let all = leaves(2, 300);
        let tree = MemoryHashes::from_leaves(all.iter().copied());
        let root = crate::merkle::tree_hash(300, &tree).expect("root");
        let tiles = tiles_of(&tree, &[300]);
        assert_eq!(tiles.len(), 3);
        let reader = TileHashReader::new(300, root, &tiles);
        assert_eq!(crate::merkle::tree_hash(300, &reader), Ok(root));
        let proof = prove_inclusion(300, 5, &reader).expect("proof");
        check_inclusion(&proof, 300, &root, 5, &all[5]).expect("inclusion");
        assert_eq!(
            reader.read_hashes(&[stored_hash_index(0, 5)]),
            Ok(vec![all[5]])
        );
        assert_eq!(
            reader.read_hashes(&[stored_hash_count(300)]),
            Err(MerkleError::HashNotInTree {
                index: stored_hash_count(300),
                tree_size: 300
            })
        );

        // Go's tileHashReader never checks tile/0/000 here (two edge tiles, four root
        // subtrees): one flipped bit in it must not go unnoticed.
        for byte in [0, 5 * 32 + 7, 8191] {
            let flipped = TileHashReader::new(
                300,
                root,
                Flip {
                    inner: &tiles,
                    tile: tile(0, 0, 256),
                    byte,
                },
            );
            assert_eq!(
                flipped.read_hashes(&[stored_hash_index(0, 5)]),
                Err(MerkleError::TileMismatch {
                    path: "tile/0/000".into(),
                    tree_size: 300
                })
            );
        }
        let flipped = TileHashReader::new(
            300,
            root,
            Flip {
                inner: &tiles,
                tile: tile(0, 1, 44),
                byte: 1407,
            },
        );
        assert_eq!(
            crate::merkle::tree_hash(300, &flipped),
            Err(MerkleError::TileMismatch {
                path: "tile/1/000.p/1, tile/0/001.p/44".into(),
                tree_size: 300
            })
        );
        let wrong_root = TileHashReader::new(300, all[0], &tiles);
        assert!(matches!(
            crate::merkle::tree_hash(300, &wrong_root),
            Err(MerkleError::TileMismatch { .. })
        ));
    }

    #[test]
    fn tile_hash_reader_accepts_wider_data_but_not_narrower() {
        let tree = MemoryHashes::from_leaves(leaves(3, 600));
        // Only the tiles of size 600: asked for size 300, the reader gets full tiles (and a
        // wider partial) for the partial ones it asks for, and cuts them.
        let tiles = tiles_of(&tree, &[600]);
        let root_300 = crate::merkle::tree_hash(300, &tree).expect("root");
        let saved = RefCell::new(Vec::new());
        struct Saving<'a> {
            inner: &'a MemoryTiles,
            saved: &'a RefCell<Vec<(Tile, usize)>>,
        }
        impl TileReader for Saving<'_> {
            fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
                self.inner.read_tiles(tiles)
            }
            fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]) {
                let mut saved = self.saved.borrow_mut();
                saved.extend(tiles.iter().zip(data).map(|(t, d)| (*t, d.len())));
            }
        }
        let reader = TileHashReader::new(
            300,
            root_300,
            Saving {
                inner: &tiles,
                saved: &saved,
            },
        );
        assert_eq!(crate::merkle::tree_hash(300, &reader), Ok(root_300));
        // tile/1/000.p/2 at size 600 stands in for tile/1/000.p/1, tile/0/001 for 001.p/44.
        assert_eq!(
            saved.borrow().as_slice(),
            &[(tile(1, 0, 1), 32), (tile(0, 1, 44), 1408)]
        );

        struct Short;
        impl TileReader for Short {
            fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
                Ok(tiles
                    .iter()
                    .map(|t| vec![0; usize::from(t.width) * 32 - 32])
                    .collect())
            }
        }
        assert_eq!(
            crate::merkle::tree_hash(300, &TileHashReader::new(300, root_300, Short)),
            Err(MerkleError::TileLength {
                path: "tile/1/000.p/1".into(),
                expected: 32,
                got: 0
            })
        );
        struct Odd;
        impl TileReader for Odd {
            fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
                Ok(tiles
                    .iter()
                    .map(|t| vec![0; usize::from(t.width) * 32 + 1])
                    .collect())
            }
        }
        assert!(matches!(
            crate::merkle::tree_hash(300, &TileHashReader::new(300, root_300, Odd)),
            Err(MerkleError::TileLength { .. })
        ));
        struct Few;
        impl TileReader for Few {
            fn read_tiles(&self, _: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
                Ok(vec![])
            }
        }
        assert_eq!(
            crate::merkle::tree_hash(300, &TileHashReader::new(300, root_300, Few)),
            Err(MerkleError::TileCount {
                expected: 2,
                got: 0
            })
        );
        assert_eq!(
            crate::merkle::tree_hash(300, &TileHashReader::new(300, root_300, MemoryTiles::new())),
            Err(MerkleError::MissingTile {
                path: "tile/1/000.p/1".into()
            })
        );
    }

    #[test]
    fn builder_rebuilds_what_append_wrote() {
        let all = leaves(4, 1000);
        let mut builder = TileBuilder::new();
        assert_eq!(builder.root(), Ok(empty_root()));
        let mut full = Vec::new();
        for chunk in all.chunks(97) {
            full.extend(builder.push(chunk).expect("push"));
        }
        let appended = append_leaves(0, &all, &MemoryHashes::new()).expect("append");
        let mut rebuilt = full;
        rebuilt.extend(builder.partial_tiles());
        rebuilt.sort();
        let mut written = appended.tiles.clone();
        written.sort();
        assert_eq!(rebuilt, written);
        assert_eq!(builder.root(), Ok(appended.root));
        assert_eq!(builder.tree_size(), 1000);
    }

    #[test]
    fn resumed_builder_continues_the_tree() {
        let all = leaves(6, 70_000);
        let tree = MemoryHashes::from_leaves(all.iter().copied());
        let mut straight = TileBuilder::new();
        straight.push(&all).expect("push");
        for m in [0u64, 1, 255, 256, 257, 65_535, 65_536, 65_537, 69_999] {
            let old_root = crate::merkle::tree_hash(m, &tree).expect("root");
            let tiles = tiles_of(&tree, &[m]);
            let reader = TileHashReader::new(m, old_root, &tiles);
            let mut b = TileBuilder::resume(m, &reader).expect("resume");
            assert_eq!(b.tree_size(), m);
            assert_eq!(b.root(), Ok(old_root), "m = {m}");
            assert_eq!(b.pending_leaves(), &all[(m - m % 256) as usize..m as usize]);
            let mut got = b.push(&all[m as usize..]).expect("push");
            got.extend(b.partial_tiles());
            assert_eq!(b.root(), straight.root(), "m = {m}");
            // Every tile that changes from m to the full size is rebuilt, with the tree's bytes
            // (the unchanged partial tiles of higher levels come back too).
            for (t, d) in &got {
                assert_eq!(d, &read_tile_data(t, &tree).expect("data"), "{t}");
            }
            for t in new_tiles(m, 70_000) {
                assert!(got.iter().any(|(g, _)| *g == t), "m = {m}: {t} missing");
            }
        }
    }

    #[test]
    fn append_leaves_edge_cases() {
        let tree = MemoryHashes::from_leaves(leaves(5, 10));
        let root = crate::merkle::tree_hash(10, &tree).expect("root");
        assert_eq!(
            append_leaves(10, &[], &tree),
            Ok(Appended {
                root,
                tiles: vec![]
            })
        );
        assert_eq!(
            append_leaves(0, &[], &tree),
            Ok(Appended {
                root: empty_root(),
                tiles: vec![]
            })
        );
        assert_eq!(
            append_leaves(MAX_TREE_SIZE, &leaves(0, 1), &tree),
            Err(MerkleError::TreeTooLarge {
                tree_size: MAX_TREE_SIZE + 1
            })
        );
        assert_eq!(
            append_leaves(11, &leaves(0, 1), &tree),
            Err(MerkleError::MissingHash { index: 18 })
        );
    }

    /// Checks one size of a growing tree against the naive MTH, the tiles against
    /// read_tile_data, and proofs; `every` checks every inclusion and consistency proof.
    fn check_size(
        tree: &MemoryHashes,
        naive: &mut NaiveTree,
        roots: &[Hash],
        picks: &[u64],
        every: bool,
    ) {
        let n = tree.tree_size();
        let root = roots[n as usize];
        assert_eq!(
            crate::merkle::tree_hash(n, tree),
            Ok(root),
            "tree_hash at {n}"
        );
        let appended =
            append_leaves(n - 1, &naive.leaves[n as usize - 1..], tree).expect("append_leaves");
        assert_eq!(appended.root, root, "append_leaves root at {n}");
        let named: Vec<Tile> = appended.tiles.iter().map(|(t, _)| *t).collect();
        assert_eq!(named, new_tiles(n - 1, n));
        for (t, data) in &appended.tiles {
            assert_eq!(
                data,
                &read_tile_data(t, tree).expect("read_tile_data"),
                "{t} at {n}"
            );
        }
        let (indexes, olds): (Vec<u64>, Vec<u64>) = if every {
            ((0..n).collect(), (1..=n).collect())
        } else {
            let mut i: Vec<u64> = picks.iter().map(|p| p % n).collect();
            i.push(n - 1);
            let mut o: Vec<u64> = picks.iter().map(|p| 1 + p % n).collect();
            o.push(n - 1);
            o.retain(|&o| o >= 1);
            (i, o)
        };
        for &i in &indexes {
            let proof = prove_inclusion(n, i, tree).expect("prove_inclusion");
            check_inclusion(&proof, n, &root, i, &naive.leaves[i as usize]).expect("inclusion");
        }
        for &old in &olds {
            let proof = prove_consistency(old, n, tree).expect("prove_consistency");
            check_consistency(&proof, old, &roots[old as usize], n, &root).expect("consistency");
        }
        // A flipped bit anywhere in a proof fails.
        if let Some(&p) = picks.first() {
            let i = p % n;
            let mut proof = prove_inclusion(n, i, tree).expect("proof");
            if !proof.is_empty() {
                let at = (p as usize / 7) % (proof.len() * 32);
                proof[at / 32].0[at % 32] ^= 1 << (p % 8);
                assert!(check_inclusion(&proof, n, &root, i, &naive.leaves[i as usize]).is_err());
            }
            let old = 1 + p % n;
            let mut proof = prove_consistency(old, n, tree).expect("proof");
            if !proof.is_empty() {
                let at = (p as usize / 11) % (proof.len() * 32);
                proof[at / 32].0[at % 32] ^= 1 << (p % 8);
                assert!(check_consistency(&proof, old, &roots[old as usize], n, &root).is_err());
            }
        }
    }

    proptest! {
        // Each case grows a whole tree (about 0.3 s in a debug build): two by default,
        // PROPTEST_CASES for more.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2),
            ..ProptestConfig::default()
        })]

        #[test]
        fn tree_grows_leaf_by_leaf_past_tile_boundaries(
            seed in any::<u64>(),
            picks in proptest::collection::vec(any::<u64>(), 2),
            batches in proptest::collection::vec(1u64..=150, 8),
        ) {
            let mut tree = MemoryHashes::new();
            let mut naive = NaiveTree::default();
            let mut roots = vec![empty_root()];
            // A writer publishing at the sizes the random batches end at, as a client
            // would then read it through verified tiles.
            let mut published = MemoryTiles::new();
            let mut checkpoints = batches.iter().scan(0, |s, b| { *s += b; Some(*s) }).peekable();
            let mut last_published = 0;
            for (n, leaf) in (1..=700u64).zip(leaves(seed, 700)) {
                tree.append(leaf);
                naive.leaves.push(leaf);
                roots.push(naive.root());
                // Every proof at every size costs O(n² log n): all of them up to past the
                // first tile boundary and at a few sizes beyond, samples elsewhere.
                let every = n <= 300 || matches!(n, 511..=513 | 700);
                check_size(&tree, &mut naive, &roots, &picks, every);
                if checkpoints.peek() == Some(&n) {
                    checkpoints.next();
                    let batch = &naive.leaves[last_published as usize..n as usize];
                    let appended = append_leaves(last_published, batch, &tree).expect("batch");
                    prop_assert_eq!(appended.root, roots[n as usize]);
                    for (t, data) in appended.tiles {
                        published.insert(t, data);
                    }
                    let reader = TileHashReader::new(n, roots[n as usize], &published);
                    prop_assert_eq!(crate::merkle::tree_hash(n, &reader), Ok(roots[n as usize]));
                    let i = picks[0] % n;
                    let proof = prove_inclusion(n, i, &reader).expect("proof from tiles");
                    prop_assert_eq!(&proof, &prove_inclusion(n, i, &tree).expect("proof"));
                    if last_published > 0 {
                        let proof = prove_consistency(last_published, n, &reader).expect("proof from tiles");
                        prop_assert!(check_consistency(&proof, last_published, &roots[last_published as usize], n, &roots[n as usize]).is_ok());
                    }
                    last_published = n;
                }
            }
        }
    }

    #[test]
    fn sizes_around_65536() {
        // Arbitrary leaf hashes: hashing entries would only slow a debug build down.
        let leaf = |i: u64| {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&i.to_le_bytes());
            Hash(h)
        };
        let start = 65_530u64;
        let mut tree = MemoryHashes::from_leaves((0..start).map(leaf));
        let mut naive = NaiveTree {
            leaves: (0..start).map(leaf).collect(),
            ..NaiveTree::default()
        };
        let mut roots: HashMap<u64, Hash> = HashMap::new();
        let mut tiles = tiles_of(&tree, &[start]);
        for n in start + 1..=65_541 {
            let old = n - 1;
            let appended = append_leaves(old, &[leaf(old)], &tree).expect("append");
            tree.append(leaf(old));
            naive.leaves.push(leaf(old));
            assert_eq!(naive.root(), appended.root, "size {n}");
            assert_eq!(crate::merkle::tree_hash(n, &tree), Ok(appended.root));
            for (t, data) in &appended.tiles {
                assert_eq!(data, &read_tile_data(t, &tree).expect("tile"), "{t}");
                tiles.insert(*t, data.clone());
            }
            roots.insert(n, appended.root);
        }
        assert!(tiles.get(&tile(2, 0, 1)).is_some());
        assert!(tiles.get(&tile(1, 0, 256)).is_some());
        // The same through verified tiles at a size with a level-2 tile.
        let n = 65_537;
        let reader = TileHashReader::new(n, roots[&n], &tiles);
        assert_eq!(crate::merkle::tree_hash(n, &reader), Ok(roots[&n]));
        for i in [0, 255, 256, 65_535, 65_536] {
            let proof = prove_inclusion(n, i, &reader).expect("inclusion from tiles");
            assert_eq!(proof, prove_inclusion(n, i, &tree).expect("inclusion"));
            check_inclusion(&proof, n, &roots[&n], i, &leaf(i)).expect("check");
        }
        for old in [65_535, 65_536] {
            let proof = prove_consistency(old, n, &reader).expect("consistency from tiles");
            assert_eq!(
                proof,
                prove_consistency(old, n, &tree).expect("consistency")
            );
        }
        let proof = prove_consistency(65_536, 65_541, &tree).expect("consistency");
        check_consistency(&proof, 65_536, &roots[&65_536], 65_541, &roots[&65_541]).expect("check");
        let batch = append_leaves(
            65_000,
            &(65_000..65_541).map(leaf).collect::<Vec<_>>(),
            &tree,
        )
        .expect("batch");
        assert_eq!(batch.root, roots[&65_541]);
        for (t, data) in &batch.tiles {
            assert_eq!(data, &read_tile_data(t, &tree).expect("tile"), "{t}");
        }
    }
}
