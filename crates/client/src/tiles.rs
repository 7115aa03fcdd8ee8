//! Tiles read through a [`Source`], for [`TileHashReader`] (which verifies each one against the
//! tree's root before a hash is used).

use std::collections::HashMap;
use std::sync::Mutex;

use sijil_core::merkle::MerkleError;
use sijil_core::tile::{Tile, TileReader};
use sijil_register::audit::{fetch_tiles, AuditFailure, Source};

/// A [`TileReader`] over a source, keeping the tiles that verified (a proof and the spot
/// checks after it share their upper tiles).
pub(crate) struct SourceTiles<'a> {
    source: &'a dyn Source,
    verified: Mutex<HashMap<Tile, Vec<u8>>>,
}

impl<'a> SourceTiles<'a> {
    pub(crate) fn new(source: &'a dyn Source) -> SourceTiles<'a> {
        SourceTiles {
            source,
            verified: Mutex::new(HashMap::new()),
        }
    }
}

impl TileReader for SourceTiles<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        let known: Vec<Option<Vec<u8>>> = {
            let cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
            tiles.iter().map(|t| cache.get(t).cloned()).collect()
        };
        let missing: Vec<Tile> = tiles
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(t, _)| *t)
            .collect();
        let mut fetched = fetch_tiles(self.source, &missing)
            .map_err(|e| match e {
                AuditFailure::Missing { path, .. } => MerkleError::MissingTile { path },
                other => MerkleError::Storage(other.to_string()),
            })?
            .into_iter();
        known
            .into_iter()
            .map(|k| match k {
                Some(d) => Ok(d),
                None => fetched
                    .next()
                    .ok_or(MerkleError::Storage("fewer tiles than asked for".into())),
            })
            .collect()
    }

    fn save_tiles(&self, tiles: &[Tile], data: &[Vec<u8>]) {
        let mut cache = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        for (t, d) in tiles.iter().zip(data) {
            cache.insert(*t, d.clone());
        }
    }
}
