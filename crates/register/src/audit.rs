//! A full audit of a register from any tlog-tiles source (a directory, or HTTP: the source
//! is a trait so the same code checks both; DESIGN §8).
//!
//! It checks the checkpoint's signature; every entry bundle (canonical entries, seq, hash
//! chain, time order, every officer's signature); every hash tile the source serves against
//! the tiles rebuilt from the entries, and the rebuilt root against the checkpoint; the
//! register's rules (the projector replays every entry); and every redactable blob against
//! its digest, or its erasure.

use std::path::PathBuf;

use sijil_core::blob::{blob_path, Blob};
use sijil_core::checkpoint::{CheckpointError, SignedCheckpoint};
use sijil_core::event::{Event, TextDigest};
use sijil_core::note::Verifier;
use sijil_core::storage::prefix_of_full;
use sijil_core::tile::{Tile, FULL_WIDTH};
use sijil_core::verify::{compare_tile, AuditError, Auditor, StoredEntry};
use sijil_projector::{Rejection, View};

/// A place a register's published files can be read from.
pub trait Source: Sync {
    /// A name for messages (a directory or a URL).
    fn describe(&self) -> String;

    /// Reads the file at `path` (`checkpoint`, a tlog-tiles path, `blobs/<hex>`); `Ok(None)`
    /// when it does not exist (404).
    ///
    /// # Errors
    /// [`SourceError`] when the file cannot be read for another reason.
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError>;

    /// Reads several files; sources that can fetch concurrently override this.
    fn get_many(&self, paths: &[String]) -> Vec<Result<Option<Vec<u8>>, SourceError>> {
        paths.iter().map(|p| self.get(p)).collect()
    }
}

/// A source that failed to deliver a file (I/O, network, HTTP status).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct SourceError {
    pub path: String,
    pub message: String,
}

/// A register directory as a source.
#[derive(Clone, Debug)]
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> DirSource {
        DirSource { root: root.into() }
    }
}

impl Source for DirSource {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        // Only the published namespace: no absolute paths, no `..`, nothing under private/.
        if path.starts_with('/')
            || path.split('/').any(|s| s == ".." || s.is_empty())
            || path.starts_with("private")
        {
            return Err(SourceError {
                path: path.into(),
                message: "not a published path".into(),
            });
        }
        match std::fs::read(self.root.join(path)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SourceError {
                path: path.into(),
                message: e.to_string(),
            }),
        }
    }
}

/// Why an audit failed. [`AuditFailure::is_unverified`] separates "the register fails
/// verification" (exit 1: keep the evidence) from "could not read it" (exit 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditFailure {
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("{path}: not found on {source_name}")]
    Missing { path: String, source_name: String },
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("{0}")]
    Log(#[from] AuditError),
    #[error("entry {seq} breaks the register's rules: {rejection}")]
    Rule { seq: u64, rejection: Rejection },
    #[error("entry {seq}: {message}")]
    Blob { seq: u64, message: String },
}

impl AuditFailure {
    /// Whether the register failed verification (rather than being unreadable).
    pub fn is_unverified(&self) -> bool {
        !matches!(self, AuditFailure::Source(_))
    }
}

/// What a successful audit checked.
#[derive(Debug)]
pub struct AuditReport {
    pub checkpoint: SignedCheckpoint,
    pub entries: u64,
    pub hash_tiles: u64,
    pub blobs_checked: u64,
    pub blobs_erased: u64,
    /// The register rebuilt from the entries.
    pub view: View,
}

/// Options of [`audit`].
#[derive(Debug, Clone, Copy)]
pub struct AuditOptions {
    /// Check every redactable blob (one read per text).
    pub blobs: bool,
    /// Entry bundles read and checked per step.
    pub bundles_per_step: usize,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            blobs: true,
            bundles_per_step: 32,
        }
    }
}

/// Reads a tile for its width, falling back to the full tile when a partial one is gone
/// (c2sp.org/tlog-tiles: a client that gets 404 on a partial tile tries the full one).
///
/// # Errors
/// [`AuditFailure::Missing`] when neither exists; [`AuditFailure::Source`].
pub fn fetch_tile(source: &dyn Source, tile: &Tile) -> Result<Vec<u8>, AuditFailure> {
    match source.get(&tile.path())? {
        Some(b) => Ok(b),
        None => full_or_missing(source, tile),
    }
}

fn full_or_missing(source: &dyn Source, tile: &Tile) -> Result<Vec<u8>, AuditFailure> {
    let missing = || AuditFailure::Missing {
        path: tile.path(),
        source_name: source.describe(),
    };
    if tile.width == FULL_WIDTH {
        return Err(missing());
    }
    let full = source
        .get(
            &Tile {
                width: FULL_WIDTH,
                ..*tile
            }
            .path(),
        )?
        .ok_or_else(missing)?;
    prefix_of_full(tile, &full)
        .map(<[u8]>::to_vec)
        .ok_or_else(missing)
}

/// Fetches several tiles at once (with the partial → full fallback for each).
fn fetch_tiles(source: &dyn Source, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, AuditFailure> {
    let paths: Vec<String> = tiles.iter().map(Tile::path).collect();
    source
        .get_many(&paths)
        .into_iter()
        .zip(tiles)
        .map(|(r, t)| match r? {
            Some(b) => Ok(b),
            None => full_or_missing(source, t),
        })
        .collect()
}

/// Reads and opens the source's checkpoint with the log's key.
///
/// # Errors
/// [`AuditFailure::Missing`], [`AuditFailure::Source`], [`AuditFailure::Checkpoint`].
pub fn fetch_checkpoint(
    source: &dyn Source,
    verifier: &Verifier,
) -> Result<SignedCheckpoint, AuditFailure> {
    let bytes = source
        .get("checkpoint")?
        .ok_or_else(|| AuditFailure::Missing {
            path: "checkpoint".into(),
            source_name: source.describe(),
        })?;
    Ok(SignedCheckpoint::open(&bytes, verifier)?)
}

/// Audits the register served by `source` completely against the log key `verifier`.
/// `progress(checked, total)` is called after each step.
///
/// # Errors
/// The first problem found ([`AuditFailure`]); nothing is trusted before it is checked.
pub fn audit(
    source: &dyn Source,
    verifier: &Verifier,
    opts: AuditOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<AuditReport, AuditFailure> {
    let checkpoint = fetch_checkpoint(source, verifier)?;
    let size = checkpoint.checkpoint.size;
    let mut auditor = Auditor::new(checkpoint.checkpoint.clone());
    let mut view = View::new();
    let mut blobs = BlobCheck::default();
    let mut hash_tiles = 0u64;
    let bundles = auditor.bundle_count();
    let step = opts.bundles_per_step.max(1) as u64;
    let mut index = 0;
    while index < bundles {
        let last = (index + step).min(bundles);
        let tiles: Vec<Tile> = (index..last)
            .filter_map(|i| auditor.bundle_tile(i))
            .collect();
        let data = fetch_tiles(source, &tiles)?;
        let batch: Vec<(u64, Vec<u8>)> = (index..last).zip(data).collect();
        let (entries, full_tiles) = auditor.push_bundles(&batch)?;
        check_tiles(source, &full_tiles)?;
        hash_tiles += full_tiles.len() as u64;
        for se in &entries {
            view.apply(&se.entry, se.leaf)
                .map_err(|rejection| AuditFailure::Rule {
                    seq: se.entry.seq,
                    rejection,
                })?;
        }
        if opts.blobs {
            blobs.check(source, &entries)?;
        }
        index = last;
        progress(auditor.checked(), size);
    }
    let partial = auditor.finish()?;
    check_tiles(source, &partial)?;
    hash_tiles += partial.len() as u64;
    let (blobs_checked, blobs_erased) = if opts.blobs {
        blobs.finish(source)?
    } else {
        (0, 0)
    };
    Ok(AuditReport {
        checkpoint,
        entries: size,
        hash_tiles,
        blobs_checked,
        blobs_erased,
        view,
    })
}

fn check_tiles(source: &dyn Source, rebuilt: &[(Tile, Vec<u8>)]) -> Result<(), AuditFailure> {
    let tiles: Vec<Tile> = rebuilt.iter().map(|(t, _)| *t).collect();
    let served = fetch_tiles(source, &tiles)?;
    for ((tile, data), served) in rebuilt.iter().zip(served) {
        compare_tile(tile, data, &served)?;
    }
    Ok(())
}

/// Blob checks: a present blob must match its digest; a missing one must have been erased by
/// a later `Erasure` of its entry, and an erased entry's blobs must be gone.
#[derive(Debug, Default)]
struct BlobCheck {
    checked: u64,
    missing: Vec<(u64, TextDigest)>,
    present: Vec<u64>,
    erased: Vec<(u64, u64)>,
}

impl BlobCheck {
    fn check(&mut self, source: &dyn Source, entries: &[StoredEntry]) -> Result<(), AuditFailure> {
        let mut wanted = Vec::new();
        for se in entries {
            if let Event::Erasure(e) = &se.entry.event {
                self.erased.push((e.target, se.entry.seq));
            }
            for d in se.entry.event.texts() {
                wanted.push((se.entry.seq, *d));
            }
        }
        let paths: Vec<String> = wanted.iter().map(|(_, d)| blob_path(d)).collect();
        for ((seq, digest), got) in wanted.into_iter().zip(source.get_many(&paths)) {
            match got? {
                Some(bytes) => {
                    Blob::parse(&digest, &bytes).map_err(|e| AuditFailure::Blob {
                        seq,
                        message: e.to_string(),
                    })?;
                    self.checked += 1;
                    if self.present.last() != Some(&seq) {
                        self.present.push(seq);
                    }
                }
                None => self.missing.push((seq, digest)),
            }
        }
        Ok(())
    }

    fn finish(mut self, source: &dyn Source) -> Result<(u64, u64), AuditFailure> {
        self.erased.sort_unstable();
        let is_erased = |seq: u64| self.erased.binary_search_by_key(&seq, |(t, _)| *t).is_ok();
        if let Some((seq, d)) = self.missing.iter().find(|(seq, _)| !is_erased(*seq)) {
            return Err(AuditFailure::Blob {
                seq: *seq,
                message: format!(
                    "blob {} is missing from {} and the entry was not erased",
                    blob_path(d),
                    source.describe()
                ),
            });
        }
        if let Some((target, by)) = self
            .erased
            .iter()
            .find(|(t, _)| self.present.binary_search(t).is_ok())
        {
            return Err(AuditFailure::Blob {
                seq: *target,
                message: format!(
                    "text erased by entry {by} is still served by {}",
                    source.describe()
                ),
            });
        }
        Ok((self.checked, self.missing.len() as u64))
    }
}
