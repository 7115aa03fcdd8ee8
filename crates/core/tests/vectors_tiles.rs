//! The public tlog-tiles vectors in `../shared/vectors/tlog-tiles`: the path rules and the
//! spec's examples (`paths.json`), and two real logs read from disk, one written by Tessera
//! (15 entries, a checkpoint per size) and one by Sunlight (300 entries).

mod common;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sijil_core::bundle;
use sijil_core::merkle::{
    check_consistency, check_inclusion, prove_consistency, prove_inclusion, stored_hash_index,
    tree_hash, MerkleError,
};
use sijil_core::tile::{
    append_leaves, new_tiles, read_tile_data, tile_data, Tile, TileBuilder, TileHashReader,
    TileLevel, TileReader,
};
use sijil_core::{empty_root, leaf_hash, sha256, Hash, HashReader as _, MemoryHashes};

/// Tiles read from a log directory, at exactly their tlog-tiles paths. A partial tile that
/// is not there falls back to the full one, as a client does when a log has deleted it.
struct DirTiles(PathBuf);

impl DirTiles {
    fn read(&self, tile: &Tile) -> Vec<u8> {
        fs::read(self.0.join(tile.path())).unwrap_or_else(|e| panic!("{tile}: {e}"))
    }
}

impl TileReader for DirTiles {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        tiles
            .iter()
            .map(|tile| {
                let full = Tile {
                    width: 256,
                    ..*tile
                };
                let read = |t: &Tile| fs::read(self.0.join(t.path()));
                match read(tile) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound && !tile.is_full() => read(&full),
                    other => other,
                }
                .map_err(|e| match e.kind() {
                    io::ErrorKind::NotFound => MerkleError::MissingTile { path: tile.path() },
                    _ => MerkleError::Storage(format!("{tile}: {e}")),
                })
            })
            .collect()
    }
}

/// A tile reader that flips one bit of one byte of one tile.
struct Flip<'a> {
    inner: &'a DirTiles,
    tile: Tile,
    byte: usize,
}

impl TileReader for Flip<'_> {
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, MerkleError> {
        let mut data = self.inner.read_tiles(tiles)?;
        for (t, d) in tiles.iter().zip(data.iter_mut()) {
            if *t == self.tile {
                d[self.byte] ^= 0x10;
            }
        }
        Ok(data)
    }
}

/// The size and root hash of a checkpoint: its 2nd and 3rd lines (c2sp.org/tlog-checkpoint).
fn checkpoint(path: &Path) -> (u64, Hash) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let size = lines
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("checkpoint size line");
    let root = lines
        .next()
        .and_then(Hash::from_base64)
        .expect("checkpoint root line");
    (size, root)
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hash_tile(level: u8, index: u64, width: u16) -> Tile {
    Tile {
        level: TileLevel::Hash(level),
        index,
        width,
    }
}

fn entries_tile(index: u64, width: u16) -> Tile {
    Tile {
        level: TileLevel::Entries,
        index,
        width,
    }
}

fn paths(tiles: &[Tile]) -> Vec<String> {
    tiles.iter().map(Tile::path).collect()
}

#[test]
fn tile_paths() {
    let Some(dir) = common::vectors_dir("tlog-tiles/paths.json") else {
        return;
    };
    let v = read_json(&dir.join("tlog-tiles/paths.json"));
    for case in v["valid"].as_array().expect("valid") {
        let path = case["path"].as_str().expect("path");
        let tile = Tile::parse_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let level = if case["entries"].as_bool() == Some(true) {
            TileLevel::Entries
        } else {
            TileLevel::Hash(
                case["L"]
                    .as_u64()
                    .and_then(|l| u8::try_from(l).ok())
                    .expect("L"),
            )
        };
        let want = Tile {
            level,
            index: case["N"].as_u64().expect("N"),
            width: case["W"]
                .as_u64()
                .and_then(|w| u16::try_from(w).ok())
                .expect("W"),
        };
        assert_eq!(tile, want, "{path}");
        assert_eq!(tile.path(), path, "re-encoding {path}");
    }
    let invalid = v["invalid"].as_array().expect("invalid");
    assert_eq!(invalid.len(), 18);
    for path in invalid {
        let path = path.as_str().expect("path");
        let err = Tile::parse_path(path).expect_err(path);
        assert!(
            err.to_string().contains(&format!("{path:?}")),
            "{path}: {err}"
        );
    }

    // The spec's 70,000-leaf example.
    let t = &v["tree_70000"];
    let all = new_tiles(0, 70_000);
    assert_eq!(
        all.len() as u64,
        t["hash_tiles_count"].as_u64().expect("count")
    );
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|s| s.as_str().expect("string").to_owned())
            .collect()
    };
    assert_eq!(paths(&all[..2]), strings(&t["hash_tiles_first"]));
    assert_eq!(paths(&all[all.len() - 5..]), strings(&t["hash_tiles_last"]));
    let bundles: Vec<Tile> = (0..)
        .map_while(|n| Tile::for_size(TileLevel::Entries, n, 70_000))
        .collect();
    assert_eq!(
        bundles.len() as u64,
        t["entry_bundles_count"].as_u64().expect("count")
    );
    assert_eq!(
        paths(&bundles[bundles.len() - 2..]),
        strings(&t["entry_bundles_last"])
    );

    // "A tree of size 256 will be represented by a full level 0 tile and a partial level 1
    // tile of width 1."
    let mut tiles_256 = paths(&new_tiles(0, 256));
    tiles_256.push(
        Tile::for_size(TileLevel::Entries, 0, 256)
            .expect("bundle")
            .path(),
    );
    assert_eq!(tiles_256, strings(&v["tree_256"]["expect"]));
}

#[test]
fn tessera_testdata_log() {
    let Some(dir) = common::vectors_dir("tlog-tiles/tessera-testdata-log") else {
        return;
    };
    let names = read_json(&dir.join("tlog-tiles/paths.json"))["tessera_testdata_log"].clone();
    let dir = dir.join("tlog-tiles/tessera-testdata-log");
    let tiles = DirTiles(dir.clone());
    let want_entries: Vec<&str> = names["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(want_entries.len(), 15);

    let mut roots = Vec::new();
    let mut leaves: Vec<Hash> = Vec::new();
    for k in 0..=15u64 {
        let (size, root) = checkpoint(&dir.join(format!("checkpoint.{k}")));
        assert_eq!(size, k);
        roots.push(root);
        if k == 0 {
            assert_eq!(root, empty_root(), "checkpoint.0");
            continue;
        }
        let width = u16::try_from(k).expect("small");
        let reader = TileHashReader::new(k, root, &tiles);
        assert_eq!(
            tree_hash(k, &reader),
            Ok(root),
            "root of size {k} from tile/0/000.p/{k}"
        );

        // The bundle's entries hash to the level-0 tile's hashes.
        let bundle_bytes = tiles.read(&entries_tile(0, width));
        let entries = bundle::parse_exact(&bundle_bytes, usize::from(width)).expect("bundle");
        assert_eq!(
            entries,
            want_entries[..k as usize]
                .iter()
                .map(|e| e.as_bytes())
                .collect::<Vec<_>>()
        );
        assert_eq!(bundle::encode(&entries).as_ref(), Ok(&bundle_bytes));
        leaves = entries.iter().map(|e| leaf_hash(e)).collect();
        let level0 = hash_tile(0, 0, width);
        assert_eq!(tiles.read(&level0), tile_data(&leaves));
        assert_eq!(read_tile_data(&level0, &reader), Ok(tile_data(&leaves)));

        for i in 0..k {
            let proof = prove_inclusion(k, i, &reader).expect("inclusion proof from tiles");
            check_inclusion(&proof, k, &root, i, &leaves[i as usize]).expect("inclusion");
        }
        for old in 1..k {
            let proof = prove_consistency(old, k, &reader).expect("consistency proof from tiles");
            check_consistency(&proof, old, &roots[old as usize], k, &root).expect("consistency");
        }

        // The writer's side: appending leaf k-1 to the tree of checkpoint k-1 gives exactly
        // this checkpoint's root and tile.
        let old_reader = TileHashReader::new(k - 1, roots[k as usize - 1], &tiles);
        let appended =
            append_leaves(k - 1, &leaves[k as usize - 1..], &old_reader).expect("append");
        assert_eq!(appended.root, root);
        assert_eq!(appended.tiles, vec![(level0, tiles.read(&level0))]);

        // One flipped byte in each hash of the tile (every byte at the last size) fails.
        let bytes: Vec<usize> = if k == 15 {
            (0..32 * 15).collect()
        } else {
            (0..k as usize).map(|h| h * 32 + h % 32).collect()
        };
        for byte in bytes {
            let flipped = TileHashReader::new(
                k,
                root,
                Flip {
                    inner: &tiles,
                    tile: level0,
                    byte,
                },
            );
            assert_eq!(
                tree_hash(k, &flipped),
                Err(MerkleError::TileMismatch {
                    path: level0.path(),
                    tree_size: k
                }),
                "byte {byte} of {level0}"
            );
        }
    }
    assert_eq!(checkpoint(&dir.join("checkpoint")), (15, roots[15]));
    let bundle_3 = tiles.read(&entries_tile(0, 3));
    assert_eq!(
        hex::encode(bundle_3),
        names["bundle_000.p/3_hex"].as_str().expect("hex")
    );
    assert_eq!(leaves.len(), 15);
}

#[test]
fn sunlight_mirror_300() {
    let Some(dir) = common::vectors_dir("tlog-tiles/sunlight-mirror-300") else {
        return;
    };
    let spec = read_json(&dir.join("tlog-tiles/paths.json"))["tree_300_records"].clone();
    let dir = dir.join("tlog-tiles/sunlight-mirror-300");
    let tiles = DirTiles(dir.clone());
    let (size, root) = checkpoint(&dir.join("checkpoint"));
    assert_eq!(size, 300);
    assert_eq!(root.to_base64(), spec["root_b64"].as_str().expect("root"));
    let reader = TileHashReader::new(size, root, &tiles);
    assert_eq!(tree_hash(size, &reader), Ok(root));

    // The entries are "record 0" … "record 299"; Sunlight's test data has no real bundles,
    // so encode them and check the digests paths.json derived.
    let entries: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("record {i}").into_bytes())
        .collect();
    for (tile, range, key) in [
        (entries_tile(0, 256), 0..256, "entry_bundle_000"),
        (entries_tile(1, 44), 256..300, "entry_bundle_001.p/44"),
    ] {
        let bytes = bundle::encode(&entries[range.clone()]).expect("bundle");
        assert_eq!(
            bytes.len() as u64,
            spec[format!("{key}_len")].as_u64().expect("len"),
            "{tile}"
        );
        assert_eq!(
            sha256(&bytes).to_hex(),
            spec[format!("{key}_sha256_derived")].as_str().expect("sha"),
            "{tile}"
        );
        let parsed = bundle::parse_exact(&bytes, usize::from(tile.width)).expect("parse");
        assert_eq!(
            parsed,
            entries[range].iter().map(Vec::as_slice).collect::<Vec<_>>()
        );
    }

    // Their leaf hashes are the level-0 tiles, on disk and through the verifying reader.
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    let (t0, t1, top) = (
        hash_tile(0, 0, 256),
        hash_tile(0, 1, 44),
        hash_tile(1, 0, 1),
    );
    assert_eq!(tiles.read(&t0), tile_data(&leaves[..256]));
    assert_eq!(tiles.read(&t1), tile_data(&leaves[256..]));
    assert_eq!(read_tile_data(&t0, &reader), Ok(tile_data(&leaves[..256])));
    assert_eq!(read_tile_data(&t1, &reader), Ok(tile_data(&leaves[256..])));
    assert_eq!(new_tiles(0, 300), vec![t0, t1, top]);

    // Rebuilt from the leaves (auditor) and appended in one batch (writer): the same files.
    let on_disk: Vec<(Tile, Vec<u8>)> = [t0, t1, top].iter().map(|t| (*t, tiles.read(t))).collect();
    let mut builder = TileBuilder::new();
    let mut rebuilt = builder.push(&leaves).expect("push");
    rebuilt.extend(builder.partial_tiles());
    assert_eq!(rebuilt, on_disk);
    assert_eq!(builder.root(), Ok(root));
    let appended = append_leaves(0, &leaves, &MemoryHashes::new()).expect("append");
    assert_eq!(appended.root, root);
    assert_eq!(appended.tiles, on_disk);

    // Every inclusion and consistency proof through the verified tiles.
    let memory = MemoryHashes::from_leaves(leaves.iter().copied());
    for i in 0..size {
        let proof = prove_inclusion(size, i, &reader).expect("inclusion proof from tiles");
        check_inclusion(&proof, size, &root, i, &leaves[i as usize]).expect("inclusion");
    }
    for old in 1..=size {
        let old_root = tree_hash(old, &memory).expect("old root");
        let proof = prove_consistency(old, size, &reader).expect("consistency proof from tiles");
        check_consistency(&proof, old, &old_root, size, &root).expect("consistency");
    }

    // A flipped byte in any tile fails: every byte of the two edge tiles, one byte in each
    // hash of tile/0/000 (which only a read of its own hashes fetches: Go's tileHashReader
    // would not check it here).
    let first_and_last = [stored_hash_index(0, 0), stored_hash_index(0, 299)];
    let mut flips: Vec<(Tile, usize)> = (0..32 * 44).map(|b| (t1, b)).collect();
    flips.extend((0..32).map(|b| (top, b)));
    flips.extend((0..256).map(|h| (t0, h * 32 + (h * 7) % 32)));
    for (tile, byte) in flips {
        let flipped = TileHashReader::new(
            size,
            root,
            Flip {
                inner: &tiles,
                tile,
                byte,
            },
        );
        let err = flipped
            .read_hashes(&first_and_last)
            .expect_err("a flipped byte must fail");
        assert!(
            matches!(err, MerkleError::TileMismatch { .. }),
            "byte {byte} of {tile}: {err}"
        );
        if tile == t0 {
            assert_eq!(
                err,
                MerkleError::TileMismatch {
                    path: t0.path(),
                    tree_size: 300
                }
            );
        }
    }
}
