//! A full audit of a register from any tlog-tiles source (a directory, or HTTP: the source
//! is a trait so the same code checks both; DESIGN §8).
//!
//! It checks the checkpoint's signature; every entry bundle (canonical entries, seq, hash
//! chain, time order, every officer's signature); every hash tile the source serves against
//! the tiles rebuilt from the entries, and the rebuilt root against the checkpoint; the
//! register's rules (the projector replays every entry); and every redactable blob against
//! its digest, or its erasure.

use std::path::PathBuf;

use sijil_core::blob::{blob_path, digest_of_name, Blob};
use sijil_core::checkpoint::{CheckpointError, SignedCheckpoint};
use sijil_core::durable::IoError;
use sijil_core::event::{Event, TextDigest};
use sijil_core::note::Verifier;
use sijil_core::storage::prefix_of_full;
use sijil_core::tile::{Tile, TileBuilder, TileLevel, FULL_WIDTH};
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

    /// The names of the files under `blobs/` (`blobs/<hex>`), for sources that can list them
    /// (a directory); `Ok(None)` for those that cannot (HTTP). An audit reports every listed
    /// blob that no committed entry names.
    ///
    /// # Errors
    /// [`SourceError`] when the listing fails.
    fn list_blobs(&self) -> Result<Option<Vec<String>>, SourceError> {
        Ok(None)
    }

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
///
/// Its writer may be between two steps of a batch (or stopped there by a crash, until its
/// next open recovers): the batch's journal (`private/pending`) then names the blobs it is
/// writing, which a reader ignores like the tiles beyond the checkpoint, and the blobs its
/// committed erasures are deleting, which a reader takes as deleted. Neither is ever served.
#[derive(Clone, Debug)]
pub struct DirSource {
    root: PathBuf,
    journal: std::sync::Arc<std::sync::OnceLock<Option<crate::pending::Journal>>>,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> DirSource {
        DirSource {
            root: root.into(),
            journal: Default::default(),
        }
    }

    /// The batch journal, read once; its erasures only if the batch is committed (the
    /// checkpoint has reached its size).
    fn journal(&self) -> Option<&crate::pending::Journal> {
        self.journal
            .get_or_init(|| {
                let bytes = std::fs::read(self.root.join("private/pending")).ok()?;
                let mut j: crate::pending::Journal = serde_json::from_slice(&bytes).ok()?;
                // Its size only (the audit checks the signature): whether the batch is in.
                let size = std::fs::read(self.root.join("checkpoint"))
                    .ok()
                    .and_then(|b| sijil_core::Note::parse(&b).ok())
                    .and_then(|n| sijil_core::Checkpoint::parse(&n.text).ok())
                    .map(|c| c.size);
                if size.is_none_or(|size| size < j.target_size) {
                    j.erase.clear();
                }
                Some(j)
            })
            .as_ref()
    }
}

/// Where a source serves the log's chain of keys with its proofs (`GET /api/v1/log-keys`,
/// docs/API.md), relative to its tlog-tiles prefix.
pub const LOG_KEYS_PATH: &str = "api/v1/log-keys";

impl Source for DirSource {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn list_blobs(&self) -> Result<Option<Vec<String>>, SourceError> {
        let dir = self.root.join("blobs");
        let read = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Some(Vec::new())),
            Err(e) => {
                return Err(SourceError {
                    path: "blobs/".into(),
                    message: e.to_string(),
                })
            }
        };
        let mut names = Vec::new();
        for item in read {
            let item = item.map_err(|e| SourceError {
                path: "blobs/".into(),
                message: e.to_string(),
            })?;
            names.push(format!("blobs/{}", item.file_name().to_string_lossy()));
        }
        // A batch that is being written, or that a crash interrupted, lists its blobs in its
        // journal before it writes any: they are the writer's to commit or remove (its
        // recovery on the next open), like tiles beyond the checkpoint. Never served.
        if let Some(j) = self.journal() {
            let in_flight: std::collections::HashSet<String> =
                j.new_blobs.iter().chain(&j.erase).map(blob_path).collect();
            names.retain(|n| !in_flight.contains(n));
        }
        names.sort_unstable();
        Ok(Some(names))
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
        if let Some(j) = self.journal() {
            if path.starts_with("blobs/") && j.erase.iter().any(|d| blob_path(d) == path) {
                return Ok(None);
            }
        }
        if path == LOG_KEYS_PATH {
            // The API resource a verifier follows a key rotation with (docs/API.md), built
            // from the directory as `sijil serve` would serve it.
            let answer = crate::rotation::dir_log_keys(&self.root).map_err(|e| SourceError {
                path: path.into(),
                message: e.to_string(),
            })?;
            return serde_json::to_vec(&answer)
                .map(Some)
                .map_err(|e| SourceError {
                    path: path.into(),
                    message: e.to_string(),
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
    /// Files under `blobs/` that no committed entry names: texts of batches that never
    /// committed, which must not be published.
    #[error("{first} is named by no committed entry ({count} such file(s) in {source_name}/blobs): the text of an event that was never committed; remove it")]
    OrphanBlob {
        first: String,
        count: usize,
        source_name: String,
    },
    #[error(
        "entry 0 (RegisterOpened) names origin {genesis:?}, but the checkpoint's is {checkpoint:?}"
    )]
    GenesisOrigin { genesis: String, checkpoint: String },
    #[error("entry 0 (RegisterOpened) names log key {genesis}, but the checkpoint was verified with {key}")]
    GenesisKey { genesis: String, key: String },
    /// The checkpoint is not signed by the log key the log names for its size, followed from
    /// the key trusted (docs/FORMAT.md §3.1): a retired key's, or another key's.
    #[error("{message}")]
    LogKey { message: String },
    #[error("the log has no entry 0 (RegisterOpened)")]
    NoGenesis,
    /// The caller's sink could not store verified files (a mirror's disk).
    #[error(transparent)]
    Io(#[from] IoError),
}

impl AuditFailure {
    /// Whether the register failed verification (rather than being unreadable).
    pub fn is_unverified(&self) -> bool {
        !matches!(self, AuditFailure::Source(_) | AuditFailure::Io(_))
    }
}

/// Where an audit starts when it continues one done before (an incremental mirror): the tree
/// of the first `builder.tree_size()` entries, already verified, and its view.
#[derive(Debug)]
pub struct Resume {
    /// The tree verified so far ([`TileBuilder::resume`] from tiles checked against its root).
    pub builder: TileBuilder,
    /// The register after those entries (its last leaf hash and time continue the chain).
    pub view: View,
}

/// Files that an audit step has checked, handed to the caller as it goes (a mirror stores
/// them). Each entry was checked on its own (encoding, seq, chain, time, signature, rules) and
/// each hash tile equals the one rebuilt from the entries, but the tree's root is compared with
/// the checkpoint only at the end: publish nothing before [`audit_tree`] returns `Ok`.
#[derive(Debug)]
pub struct Verified<'a> {
    /// Entry bundles, as served.
    pub bundles: &'a [(Tile, Vec<u8>)],
    /// Hash tiles (served bytes, equal to the rebuilt ones).
    pub tiles: &'a [(Tile, Vec<u8>)],
    /// Redactable texts that match their digests (`blobs/<hex>`).
    pub blobs: &'a [(TextDigest, Vec<u8>)],
    /// The new entries of this step.
    pub entries: &'a [StoredEntry],
}

/// What a successful audit checked.
#[derive(Debug)]
pub struct AuditReport {
    pub checkpoint: SignedCheckpoint,
    /// The size the audit resumed from (0 for a full audit).
    pub resumed_from: u64,
    /// Entries checked (`checkpoint size - resumed_from`).
    pub entries: u64,
    pub hash_tiles: u64,
    pub blobs_checked: u64,
    pub blobs_erased: u64,
    /// The register rebuilt from the entries.
    pub view: View,
    /// The verifier of the key that signs the checkpoint: the key trusted, or the one the
    /// log's `LogKeyRotated` entries lead to from it.
    pub log_verifier: Verifier,
    /// The rotations followed from the key trusted (none when it signs the checkpoint).
    pub followed: crate::rotation::Followed,
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
///
/// # Errors
/// As [`fetch_tile`], for the first tile that fails.
pub fn fetch_tiles(source: &dyn Source, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, AuditFailure> {
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
    Ok(SignedCheckpoint::open(
        &checkpoint_bytes(source)?,
        verifier,
    )?)
}

/// The bytes of the source's `checkpoint`, as served.
///
/// # Errors
/// [`AuditFailure::Missing`] when it serves none, [`AuditFailure::Source`].
pub fn checkpoint_bytes(source: &dyn Source) -> Result<Vec<u8>, AuditFailure> {
    source
        .get("checkpoint")?
        .ok_or_else(|| AuditFailure::Missing {
            path: "checkpoint".into(),
            source_name: source.describe(),
        })
}

/// The served checkpoint opened with `verifier` if it verifies; if it is signed by another
/// key, its parsed note with no signature checked yet, for an audit that follows the log's key
/// rotations from `verifier` and checks the signature at its end ([`audit`]).
///
/// # Errors
/// As [`fetch_checkpoint`], but a signature by another key is not one.
pub fn fetch_checkpoint_to_follow(
    source: &dyn Source,
    verifier: &Verifier,
) -> Result<SignedCheckpoint, AuditFailure> {
    let bytes = checkpoint_bytes(source)?;
    match SignedCheckpoint::open(&bytes, verifier) {
        Ok(cp) => Ok(cp),
        Err(e) => {
            let Ok(note) = sijil_core::note::Note::parse(&bytes) else {
                return Err(e.into());
            };
            let checkpoint = sijil_core::checkpoint::Checkpoint::parse(&note.text)?;
            if checkpoint.origin != verifier.name() {
                return Err(e.into());
            }
            Ok(SignedCheckpoint {
                checkpoint,
                note,
                bytes,
            })
        }
    }
}

/// Audits the register served by `source` completely against the log key `verifier`, or the
/// key the log's `LogKeyRotated` entries lead to from it (docs/FORMAT.md §3.1).
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
    let checkpoint = fetch_checkpoint_to_follow(source, verifier)?;
    audit_tree(
        source,
        checkpoint,
        verifier,
        None,
        opts,
        &mut |_| Ok(()),
        progress,
    )
}

/// Audits the tree of `checkpoint` as `source` serves it (its signature is checked at the end,
/// with `verifier` or the log key the log's rotations lead to from it: everything else is
/// checked against its root first),
/// from the first entry or, with `resume`, from the end of a tree verified before (whose
/// checkpoint the caller proved consistent with this one). Each step's checked files go to
/// `sink` ([`Verified`]); `progress(checked, total)` is called after each step.
///
/// The next step's bundles and level-0 tiles are fetched while a step is checked, so a slow
/// source and the signature checks overlap.
///
/// # Errors
/// The first problem found ([`AuditFailure`]), including the sink's [`AuditFailure::Io`].
pub fn audit_tree(
    source: &dyn Source,
    checkpoint: SignedCheckpoint,
    verifier: &Verifier,
    resume: Option<Resume>,
    opts: AuditOptions,
    sink: &mut dyn FnMut(Verified<'_>) -> Result<(), IoError>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<AuditReport, AuditFailure> {
    let size = checkpoint.checkpoint.size;
    let (mut auditor, view) = match resume {
        None => (Auditor::new(checkpoint.checkpoint.clone()), View::new()),
        Some(r) => {
            let prev = r.view.last_leaf_hash();
            let time = r.view.last_recorded_at().unwrap_or(i64::MIN);
            let a = Auditor::resume(checkpoint.checkpoint.clone(), r.builder, prev, time)?;
            (a, r.view)
        }
    };
    let resumed_from = auditor.checked();
    let mut blobs = BlobCheck::default();
    let mut hash_tiles = 0u64;
    let bundles = auditor.bundle_count();
    let step = opts.bundles_per_step.max(1) as u64;
    let first = resumed_from / 256;
    let plan = |index: u64| -> Vec<Tile> {
        let last = (index + step).min(bundles);
        (index..last)
            .filter_map(|i| Tile::for_size(TileLevel::Entries, i, size))
            .collect()
    };
    let view = std::thread::scope(|scope| -> Result<View, AuditFailure> {
        let fetch = |tiles: Vec<Tile>| -> Result<Prefetched, AuditFailure> {
            // The level-0 tiles of full bundles are the ones the step will compare.
            let level0: Vec<Tile> = tiles
                .iter()
                .filter(|t| t.is_full())
                .map(|t| Tile {
                    level: TileLevel::Hash(0),
                    ..*t
                })
                .collect();
            let mut all = tiles.clone();
            all.extend(level0.iter().copied());
            let mut data = fetch_tiles(source, &all)?;
            let tile_data = data.split_off(tiles.len());
            Ok(Prefetched {
                bundles: tiles.into_iter().zip(data).collect(),
                level0: level0.into_iter().zip(tile_data).collect(),
            })
        };
        // The register's rules (and the index, issue 10) are replayed in order on a thread of
        // their own, one step behind: while it replays step N, this thread checks the
        // signatures of step N+1, so the replay, which cannot be split, no longer adds its
        // whole time to the audit's.
        let (to_replay, replay_steps) = std::sync::mpsc::sync_channel::<Checked>(1);
        let (to_finish, replayed) = std::sync::mpsc::channel::<Replayed>();
        let replayer = scope.spawn(move || {
            let mut view = view;
            for step in replay_steps {
                let result = step.entries.iter().try_for_each(|se| {
                    view.apply(&se.entry, se.leaf)
                        .map_err(|rejection| AuditFailure::Rule {
                            seq: se.entry.seq,
                            rejection,
                        })
                });
                let failed = result.is_err();
                if to_finish.send((step, result)).is_err() || failed {
                    break;
                }
            }
            view
        });
        // A step the replay has passed: its blobs are checked and it goes to the sink.
        let mut finish = |(step, result): Replayed| -> Result<(), AuditFailure> {
            result?;
            let texts = if opts.blobs {
                blobs.check(source, &step.entries)?
            } else {
                Vec::new()
            };
            sink(Verified {
                bundles: &step.bundles,
                tiles: &step.full_tiles,
                blobs: &texts,
                entries: &step.entries,
            })?;
            progress(step.checked, size);
            Ok(())
        };
        let replay_ended = || {
            AuditFailure::Source(SourceError {
                path: "(replay)".into(),
                message: "the thread replaying the register's rules stopped".into(),
            })
        };
        // A failure of the replay's step N-1 comes before any found while checking step N.
        let mut lagging = false;
        let mut index = first;
        let mut next = (index < bundles).then(|| fetch(plan(index)));
        let checked = (|| -> Result<(), Stop> {
            while let Some(current) = next.take() {
                let current = current.map_err(Stop::Checking)?;
                let after = index + current.bundles.len() as u64;
                let prefetch = (after < bundles).then(|| {
                    let tiles = plan(after);
                    scope.spawn(move || fetch(tiles))
                });
                let batch: Vec<(u64, Vec<u8>)> = current
                    .bundles
                    .iter()
                    .map(|(t, d)| (t.index, d.clone()))
                    .collect();
                let (entries, full_tiles) = auditor
                    .push_bundles(&batch)
                    .map_err(|e| Stop::Checking(e.into()))?;
                check_tiles(source, &full_tiles, &current.level0).map_err(Stop::Checking)?;
                hash_tiles += full_tiles.len() as u64;
                let step = Checked {
                    bundles: current.bundles,
                    full_tiles,
                    entries,
                    checked: auditor.checked(),
                };
                // Sending fails only when the replay stopped on a broken rule: the failure
                // waits in `replayed`, and the drain below reports it.
                if to_replay.send(step).is_err() {
                    return Ok(());
                }
                if lagging {
                    let done = replayed.recv().map_err(|_| Stop::Replay(replay_ended()))?;
                    finish(done).map_err(Stop::Replay)?;
                }
                lagging = true;
                index = after;
                next = prefetch.map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(AuditFailure::Source(SourceError {
                            path: "(prefetch)".into(),
                            message: "the fetching thread panicked".into(),
                        }))
                    })
                });
            }
            Ok(())
        })();
        drop(to_replay);
        let checking = match checked {
            Err(Stop::Replay(e)) => return Err(e),
            Err(Stop::Checking(e)) => Some(e),
            Ok(()) => None,
        };
        // The steps still in the replay come before the one that failed to check: a rule
        // broken there is the earlier failure, and a step that passed goes to the sink, as
        // in a serial audit.
        for done in replayed.iter() {
            finish(done)?;
        }
        if let Some(e) = checking {
            return Err(e);
        }
        replayer.join().map_err(|_| replay_ended())
    })?;
    let partial = auditor.finish()?;
    check_tiles(source, &partial, &[])?;
    hash_tiles += partial.len() as u64;
    check_genesis(&view, &checkpoint)?;
    let (checkpoint, log_verifier, followed) =
        crate::rotation::open_following(&view, &checkpoint.bytes, verifier).map_err(
            |e| match e {
                crate::Error::Checkpoint(c) => AuditFailure::Checkpoint(c),
                other => AuditFailure::LogKey {
                    message: other.to_string(),
                },
            },
        )?;
    view.check_checkpoint_end()
        .map_err(|rejection| AuditFailure::Rule {
            seq: size.saturating_sub(1),
            rejection,
        })?;
    sink(Verified {
        bundles: &[],
        tiles: &partial,
        blobs: &[],
        entries: &[],
    })?;
    let (blobs_checked, blobs_erased) = if opts.blobs {
        blobs.finish(source)?
    } else {
        (0, 0)
    };
    Ok(AuditReport {
        checkpoint,
        resumed_from,
        entries: size - resumed_from,
        hash_tiles,
        blobs_checked,
        blobs_erased,
        view,
        log_verifier,
        followed,
    })
}

/// A step whose entries and tiles are checked, on its way to the rules' replay.
struct Checked {
    bundles: Vec<(Tile, Vec<u8>)>,
    full_tiles: Vec<(Tile, Vec<u8>)>,
    entries: Vec<StoredEntry>,
    /// Entries checked once this step is.
    checked: u64,
}

/// Why the steps stopped: a failure of the replay's earlier step, or of checking a later one.
enum Stop {
    Replay(AuditFailure),
    Checking(AuditFailure),
}

/// A step back from the replay, with its outcome.
type Replayed = (Checked, Result<(), AuditFailure>);

/// A step's bundles and the level-0 tiles of its full bundles, fetched ahead.
struct Prefetched {
    bundles: Vec<(Tile, Vec<u8>)>,
    level0: Vec<(Tile, Vec<u8>)>,
}

/// The genesis entry must name the checkpoint's origin (the key is checked after, following
/// the log's rotations: `rotation::open_following`).
fn check_genesis(view: &View, checkpoint: &SignedCheckpoint) -> Result<(), AuditFailure> {
    let info = view.register().ok_or(AuditFailure::NoGenesis)?;
    if info.origin != checkpoint.checkpoint.origin {
        return Err(AuditFailure::GenesisOrigin {
            genesis: info.origin.clone(),
            checkpoint: checkpoint.checkpoint.origin.clone(),
        });
    }
    Ok(())
}

/// Compares rebuilt tiles with the served ones (`fetched` holds some already fetched).
fn check_tiles(
    source: &dyn Source,
    rebuilt: &[(Tile, Vec<u8>)],
    fetched: &[(Tile, Vec<u8>)],
) -> Result<(), AuditFailure> {
    let missing: Vec<Tile> = rebuilt
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| !fetched.iter().any(|(f, _)| f == t))
        .collect();
    let more = fetch_tiles(source, &missing)?;
    for (tile, data) in rebuilt {
        let served = match fetched.iter().find(|(f, _)| f == tile) {
            Some((_, d)) => d,
            None => missing
                .iter()
                .position(|m| m == tile)
                .map(|i| &more[i])
                .ok_or_else(|| AuditFailure::Missing {
                    path: tile.path(),
                    source_name: source.describe(),
                })?,
        };
        compare_tile(tile, data, served)?;
    }
    Ok(())
}

/// Blob checks: a present blob must match its digest; a missing one must have been erased by
/// a later `Erasure` of its entry, and an erased entry's blobs must be gone.
#[derive(Debug, Default)]
struct BlobCheck {
    /// Every digest a committed entry names, erased ones included.
    named: std::collections::HashSet<TextDigest>,
    checked: u64,
    missing: Vec<(u64, TextDigest)>,
    present: Vec<u64>,
    erased: Vec<(u64, u64)>,
}

impl BlobCheck {
    /// Checks the blobs of `entries`; returns those present, checked against their digests.
    fn check(
        &mut self,
        source: &dyn Source,
        entries: &[StoredEntry],
    ) -> Result<Vec<(TextDigest, Vec<u8>)>, AuditFailure> {
        let mut wanted = Vec::new();
        for se in entries {
            if let Event::Erasure(e) = &se.entry.event {
                self.erased.push((e.target, se.entry.seq));
            }
            for d in se.entry.event.texts() {
                wanted.push((se.entry.seq, *d));
                self.named.insert(*d);
            }
        }
        let paths: Vec<String> = wanted.iter().map(|(_, d)| blob_path(d)).collect();
        let mut found = Vec::new();
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
                    found.push((digest, bytes));
                }
                None => self.missing.push((seq, digest)),
            }
        }
        Ok(found)
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
        if let Some(listed) = source.list_blobs()? {
            let orphans: Vec<&String> = listed
                .iter()
                .filter(|name| {
                    let digest = name.strip_prefix("blobs/").and_then(digest_of_name);
                    !digest.is_some_and(|d| self.named.contains(&d))
                })
                .collect();
            if let Some(first) = orphans.first() {
                return Err(AuditFailure::OrphanBlob {
                    first: (*first).clone(),
                    count: orphans.len(),
                    source_name: source.describe(),
                });
            }
        }
        Ok((self.checked, self.missing.len() as u64))
    }
}

/// Checks the blobs of `entries` as an audit does (a present blob matches its digest; a
/// missing one belongs to an entry that `view` records as erased), with the audit's messages.
/// The writer runs it on the entries at the log's edge before it extends a register, so that
/// it never builds on a register whose files it reads and finds inconsistent.
///
/// # Errors
/// [`AuditFailure::Blob`] for the first entry whose blob is altered or missing without an
/// erasure; [`AuditFailure::Source`] when a blob cannot be read.
pub fn check_blobs(
    source: &dyn Source,
    entries: &[StoredEntry],
    view: &View,
) -> Result<(), AuditFailure> {
    let mut check = BlobCheck::default();
    check.check(source, entries)?;
    let erased = |seq: u64| view.annotations(seq).is_some_and(|a| a.erasure.is_some());
    match check.missing.iter().find(|(seq, _)| !erased(*seq)) {
        Some((seq, d)) => Err(AuditFailure::Blob {
            seq: *seq,
            message: format!(
                "blob {} is missing from {} and the entry was not erased",
                blob_path(d),
                source.describe()
            ),
        }),
        None => Ok(()),
    }
}
