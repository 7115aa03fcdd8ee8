//! A publication in S3-compatible storage as a source for `verify`, `audit`, `mirror` and
//! `monitor` (issue 14: "`serve` and `audit` also accept `s3://…` publications"): the same
//! checks as for a directory or a URL, on the objects readers are served.
//!
//! Reads go through the destination's `object_store` client, the one `sijil publish` writes
//! with, so both name objects alike (`s3://bucket/prefix` + the tlog-tiles path); nothing read
//! is trusted before the audit or verification checks it.

use futures::StreamExt as _;
use sijil_core::blob::blob_path;
use sijil_core::commit::{Changes, CommitPointError};
use sijil_core::entry::Entry;
use sijil_core::event::Event;
use sijil_core::tile::{Tile, TileLevel};
use sijil_register::audit::{Source, SourceError};

use crate::{Destination, PublishError};

/// How many objects are fetched at once by [`Source::get_many`].
const CONCURRENCY: usize = 16;

/// An `s3://bucket/prefix` publication, read through its own runtime.
#[derive(Debug)]
pub struct PublicationSource {
    dest: Destination,
    runtime: tokio::runtime::Runtime,
}

impl PublicationSource {
    /// The publication at `url` (`s3://bucket[/prefix]`, configured from the environment as
    /// [`Destination::s3`] says).
    ///
    /// # Errors
    /// [`PublishError::BadDestination`] for a URL that is not one, or a runtime that cannot
    /// be started.
    pub fn open(url: &str) -> Result<PublicationSource, PublishError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| PublishError::BadDestination {
                dest: url.into(),
                message: format!("cannot start the I/O runtime: {e}"),
            })?;
        Ok(PublicationSource {
            dest: Destination::s3(url)?,
            runtime,
        })
    }
}

fn source_error(path: &str, e: &PublishError) -> SourceError {
    SourceError {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

impl Source for PublicationSource {
    fn describe(&self) -> String {
        self.dest.name().to_owned()
    }

    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        self.runtime
            .block_on(self.dest.get(path))
            .map_err(|e| source_error(path, &e))
    }

    /// Every object under `blobs/`: an audit reports those no committed entry names, as it
    /// does for a directory.
    fn list_blobs(&self) -> Result<Option<Vec<String>>, SourceError> {
        let all = self
            .runtime
            .block_on(self.dest.list())
            .map_err(|e| source_error("blobs/", &e))?;
        let mut blobs: Vec<String> = all
            .into_keys()
            .filter(|rel| rel.starts_with("blobs/"))
            .collect();
        blobs.sort_unstable();
        Ok(Some(blobs))
    }

    fn get_many(&self, paths: &[String]) -> Vec<Result<Option<Vec<u8>>, SourceError>> {
        self.runtime.block_on(
            futures::stream::iter(paths)
                .map(|path| async move {
                    self.dest
                        .get(path)
                        .await
                        .map_err(|e| source_error(path, &e))
                })
                .buffered(CONCURRENCY)
                .collect(),
        )
    }
}

/// A publication as a read-only commit point, for a `sijil serve s3://…` replica
/// (`sijil_core::writer::Follower`, issue 14: "`serve` … also accept[s] `s3://…`
/// publications"). A publication lists no batches, so the texts the follower copies are
/// those the new entries name, and the texts it deletes those their erasures name; the
/// follower re-verifies everything it adopts (chain, tiles, root, each text's digest).
impl sijil_core::commit::CommitPoint for PublicationSource {
    fn describe(&self) -> String {
        self.dest.name().to_owned()
    }

    fn latest(&mut self) -> Result<Option<Vec<u8>>, CommitPointError> {
        self.get("checkpoint").map_err(unavailable)
    }

    fn get_many(&mut self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, CommitPointError> {
        Source::get_many(self, paths)
            .into_iter()
            .collect::<Result<_, _>>()
            .map_err(unavailable)
    }

    fn changes(&mut self, after: u64, up_to: u64) -> Result<Changes, CommitPointError> {
        let mut changes = Changes::default();
        let new = self.entries(after, up_to, up_to)?;
        for entry in &new {
            changes
                .added
                .extend(entry.event.texts().into_iter().map(blob_path));
            if let Event::Erasure(e) = &entry.event {
                let target = if e.target >= after {
                    new.get((e.target - after) as usize).cloned()
                } else {
                    self.entries(e.target, e.target + 1, up_to)?.pop()
                };
                if let Some(target) = target {
                    changes
                        .removed
                        .extend(target.event.texts().into_iter().map(blob_path));
                }
            }
        }
        // A text named again after its erasure is published again.
        changes.removed.retain(|r| !changes.added.contains(r));
        Ok(changes)
    }

    fn commit(&mut self, _: &sijil_core::commit::Commit<'_>) -> Result<(), CommitPointError> {
        Err(CommitPointError::Unavailable {
            location: self.dest.name().to_owned(),
            message: "a publication is read-only: batches are committed by the register".into(),
        })
    }
}

impl PublicationSource {
    /// The entries `[from, to)` of the published log of size `size`, from their bundles (as
    /// tlog-tiles names them at that size), decoded but not verified: only to find text names.
    fn entries(&self, from: u64, to: u64, size: u64) -> Result<Vec<Entry>, CommitPointError> {
        if from >= to {
            return Ok(Vec::new());
        }
        let tiles: Vec<Tile> = (from / 256..=(to - 1) / 256)
            .map(|index| Tile {
                level: TileLevel::Entries,
                index,
                width: size.saturating_sub(index * 256).min(256) as u16,
            })
            .collect();
        let paths: Vec<String> = tiles.iter().map(Tile::path).collect();
        let mut entries = Vec::new();
        for (t, data) in tiles.iter().zip(Source::get_many(self, &paths)) {
            let corrupt = |message: String| CommitPointError::Unavailable {
                location: format!("{}/{}", self.dest.name(), t.path()),
                message,
            };
            let data = data
                .map_err(unavailable)?
                .ok_or_else(|| corrupt("missing".into()))?;
            let parsed = sijil_core::bundle::parse(&data).map_err(|e| corrupt(e.to_string()))?;
            for (i, bytes) in parsed.into_iter().enumerate() {
                let seq = t.index * 256 + i as u64;
                if (from..to).contains(&seq) {
                    entries.push(Entry::decode(bytes).map_err(|e| corrupt(e.to_string()))?);
                }
            }
        }
        Ok(entries)
    }
}

fn unavailable(e: SourceError) -> CommitPointError {
    CommitPointError::Unavailable {
        location: e.path,
        message: e.message,
    }
}
