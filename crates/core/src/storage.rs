//! The register directory: the published C2SP tlog-tiles files, the blobs, and local state.
//!
//! ```text
//! DIR/checkpoint                     the signed checkpoint (c2sp.org/tlog-checkpoint)
//! DIR/tile/<L>/<N>[.p/<W>]           hash tiles (c2sp.org/tlog-tiles)
//! DIR/tile/entries/<N>[.p/<W>]       entry bundles
//! DIR/blobs/<hex digest>             redactable texts (salt ‖ text)
//! DIR/private/                       never published: lock, keys, snapshot, temp checkpoint
//! ```
//!
//! Everything but `private/` is the publication format: copying those files to any static
//! host publishes the register. Nothing beyond the current checkpoint is ever read as
//! published data.

use std::path::{Path, PathBuf};

use crate::bundle;
use crate::durable::{self, IoError};
use crate::event::TextDigest;
use crate::merkle::MerkleError;
use crate::tile::{Tile, TileLevel, TileReader, FULL_WIDTH};

/// Paths inside a register directory.
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn checkpoint(&self) -> PathBuf {
        self.root.join("checkpoint")
    }

    pub fn tile(&self, tile: &Tile) -> PathBuf {
        self.root.join(tile.path())
    }

    /// The directory `…/<N>.p/` holding the partial versions of a tile.
    pub fn partial_dir(&self, tile: &Tile) -> PathBuf {
        let full = Tile {
            width: FULL_WIDTH,
            ..*tile
        };
        self.root.join(format!("{}.p", full.path()))
    }

    pub fn blobs(&self) -> PathBuf {
        self.root.join("blobs")
    }

    pub fn blob(&self, digest: &TextDigest) -> PathBuf {
        self.root.join(crate::blob::blob_path(digest))
    }

    /// Local state that is never published.
    pub fn private(&self) -> PathBuf {
        self.root.join("private")
    }

    /// The writer's exclusive lock file.
    pub fn lock(&self) -> PathBuf {
        self.private().join("lock")
    }

    /// The log's private key (`PRIVATE+KEY+<origin>+…`), mode 0600.
    pub fn log_key(&self) -> PathBuf {
        self.private().join("log.key")
    }

    /// The log's next private key while a rotation is in flight (`sijil log-key rotate`,
    /// docs/FORMAT.md §3.1): durable before the rotation's batch is written, renamed over
    /// `log.key` once the batch is committed, removed if it never commits.
    pub fn log_key_next(&self) -> PathBuf {
        self.private().join("log.key.next")
    }

    /// Where a new checkpoint is written and fsynced before it is renamed over `checkpoint`.
    pub fn checkpoint_tmp(&self) -> PathBuf {
        self.private().join("checkpoint.new")
    }

    /// The projector's snapshot (local state, not part of the format).
    pub fn snapshot(&self) -> PathBuf {
        self.private().join("view.snapshot")
    }

    /// The writer's state: the view as one record per key, so that an append reads only what
    /// its batch touches (local state, not part of the format; rebuilt from the log when in
    /// doubt).
    pub fn writer_state(&self) -> PathBuf {
        self.private().join("state.redb")
    }

    /// The journal of blob changes that ride on an uncommitted batch.
    pub fn pending(&self) -> PathBuf {
        self.private().join("pending")
    }

    /// Reads the published checkpoint's bytes.
    ///
    /// # Errors
    /// An [`IoError`] (not found when the directory is not a register).
    pub fn read_checkpoint(&self) -> Result<Vec<u8>, IoError> {
        durable::read(&self.checkpoint())
    }
}

/// Reads tiles from a register directory.
///
/// A partial tile `N.p/W` is read from its own file; when that file is gone because the full
/// tile now exists (partials may be deleted once superseded, c2sp.org/tlog-tiles), the first
/// `W` hashes (or entries) of the full tile are used: they are the same bytes.
#[derive(Clone, Debug)]
pub struct DirTiles {
    layout: Layout,
}

impl DirTiles {
    pub fn new(layout: Layout) -> DirTiles {
        DirTiles { layout }
    }

    /// The register (or mirror) directory the tiles are read from.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Reads one tile (hash tile or entry bundle) as it is for its width.
    ///
    /// # Errors
    /// An [`IoError`] when neither the file for that width nor a full tile exists.
    pub fn read_tile(&self, tile: &Tile) -> Result<Vec<u8>, IoError> {
        match durable::read(&self.layout.tile(tile)) {
            Ok(data) => Ok(data),
            Err(e) if e.is_not_found() && !tile.is_full() => {
                let full = durable::read(&self.layout.tile(&Tile {
                    width: FULL_WIDTH,
                    ..*tile
                }))?;
                prefix_of_full(tile, &full).map(<[u8]>::to_vec).ok_or(e)
            }
            Err(e) => Err(e),
        }
    }
}

impl TileReader for DirTiles {
    /// # Errors
    /// [`MerkleError::MissingTile`] for a tile whose file (nor its full tile's) does not exist;
    /// [`MerkleError::Storage`] for any other I/O error, which is not a statement about the
    /// register's contents.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        tiles
            .iter()
            .map(|t| {
                self.read_tile(t).map_err(|e| {
                    if e.is_not_found() {
                        MerkleError::MissingTile { path: t.path() }
                    } else {
                        MerkleError::Storage(e.to_string())
                    }
                })
            })
            .collect()
    }
}

/// The bytes of partial tile `tile` inside the data of its full tile: the first `W` hashes,
/// or the first `W` length-prefixed entries of a bundle. `None` if `full` is too short.
pub fn prefix_of_full<'a>(tile: &Tile, full: &'a [u8]) -> Option<&'a [u8]> {
    let width = usize::from(tile.width);
    match tile.level {
        TileLevel::Hash(_) => full.get(..width * 32),
        TileLevel::Entries => {
            let entries = bundle::parse(full).ok()?;
            let len: usize = entries.get(..width)?.iter().map(|e| 2 + e.len()).sum();
            full.get(..len)
        }
    }
}
