//! sijil-publish: copies a register's publication (docs/FORMAT.md §8: `checkpoint`, `tile/…`,
//! `tile/entries/…`, `blobs/…`; never `private/`) to a directory or to S3-compatible object
//! storage through the `object_store` crate (issue 14, "The publication is derived and
//! idempotent").
//!
//! A run is derived from the source's committed checkpoint and nothing else, so it can be
//! repeated at any time (after a crash, from cron, after each append) with the same result:
//!
//! 1. The source register is opened as `sijil serve` opens it ([`RegisterReader::open`]): its
//!    checkpoint verified with the log's key (followed through `LogKeyRotated`, docs/FORMAT.md
//!    §3.1), its view rebuilt or its snapshot checked against the tiles.
//! 2. The destination's `checkpoint` is read. One larger than the source's, or of the same
//!    size but another tree, or one whose tree is not a prefix of the source's, stops the run
//!    before anything is written: a publication never goes back, nor forks.
//! 3. The destination is listed once. Every object the source's checkpoint needs is planned:
//!    the hash tiles and entry bundles of its tree, partial ones with the width c2sp.org/
//!    tlog-tiles gives them for that size, and the texts (`blobs/`) that a committed entry names
//!    and that were not erased ([`View::text_is_published`], as `sijil serve` decides).
//! 4. An object already listed and covered by the destination's checkpoint (a finished run
//!    published it) is skipped if its size is right; a wrong size is a fatal
//!    [`PublishError::Conflict`]. Every other object is read from the source, **verified** (a hash tile through
//!    [`TileHashReader`] against the checkpoint's root, a bundle's entries against their leaf
//!    hashes with [`sijil_register::read_entries`], a text against its digest with
//!    [`Blob::parse`]), then written with `PutMode::Create`: if it exists, it is read back, and
//!    identical bytes count as published, different bytes are a fatal
//!    [`PublishError::Conflict`] naming the object. Tiles are immutable (c2sp.org/tlog-tiles):
//!    nothing here ever overwrites one.
//! 5. Texts the source's view no longer publishes (erased since, docs/FORMAT.md §4) are deleted
//!    from the destination: an erasure must reach every copy.
//! 6. Last, the destination's `checkpoint` is replaced by the source's signed note, verbatim,
//!    after reading it again (a publisher that moved it meanwhile stops this one). Readers of
//!    the destination never see a checkpoint whose files are not all there.
//!
//! With [`PublishOptions::incremental`], steps 3 and 5 trust the destination's checkpoint
//! instead of a listing: only the objects new since it are planned (and all written
//! create-if-absent), and the texts to delete are those the new entries' erasures name, so a
//! run after an append costs what the append added.
//!
//! A register can remember its destination ([`remember`], `private/publish`): every command
//! that commits then calls [`check_before_signing`] under the writer's lock, which judges the
//! destination's checkpoint with the same check as step 2 and refuses to sign behind it (a
//! register restored from an older copy stops instead of forking the log, issue 14 "Never roll
//! back"), and publishes incrementally after its commit.
//!
//! Two publishers of one destination at once are not supported: the commit point of a
//! register is its own checkpoint (or, later, its database), not the object store's
//! conditional writes.
#![forbid(unsafe_code)]

pub mod source;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::{StreamExt as _, TryStreamExt as _};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};
use sijil_core::blob::{blob_path, digest_of_name, Blob};
use sijil_core::bundle;
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::durable::{self, IoError};
use sijil_core::event::{Event, TextDigest};
use sijil_core::merkle;
use sijil_core::note::{Note, Verifier};
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::{self, Tile, TileHashReader, TileLevel};
use sijil_projector::View;
use sijil_register::RegisterReader;

/// How many objects are written (or read back) at once.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How many entries an incremental run reads at a time.
const INCREMENTAL_CHUNK: u64 = 256 * 64;

/// What can stop a publication. Each variant names the object (its path inside the
/// publication, e.g. `tile/entries/000.p/5`) or the checkpoint it is about, and its cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The destination is neither a directory nor an `s3://bucket[/prefix]` URL we can use.
    #[error("destination {dest}: {message}")]
    BadDestination { dest: String, message: String },
    /// The source register could not be opened, or fails verification
    /// ([`sijil_register::Error::is_corrupt`]).
    #[error("source register {}: {source}", dir.display())]
    Source {
        dir: PathBuf,
        #[source]
        source: Box<sijil_register::Error>,
    },
    /// A file of the source register does not verify against its checkpoint (a tile, a
    /// bundle) or its name (a text): nothing of it is published.
    #[error("source register {}: {path} FAILED verification: {cause}", dir.display())]
    SourceCorrupt {
        dir: PathBuf,
        path: String,
        cause: String,
    },
    /// A file of the source register could not be read.
    #[error("source register: {path}: {source}")]
    SourceRead {
        path: String,
        #[source]
        source: IoError,
    },
    /// A directory destination's file could not be made durable.
    #[error("{dest}: {source}")]
    DestinationIo {
        dest: String,
        path: String,
        #[source]
        source: IoError,
    },
    /// The object store failed on one object (`op` is what was asked of it).
    #[error("{dest}: {op} {path}: {source}")]
    Store {
        dest: String,
        path: String,
        op: &'static str,
        #[source]
        source: Box<object_store::Error>,
    },
    /// The destination holds other bytes under an immutable object's name. Nothing is
    /// overwritten: someone changed the publication, or published another log there.
    #[error("{dest}: {path} is already published with different bytes ({found}); refusing to overwrite an immutable object: find out who changed it, then remove it by hand and publish again")]
    Conflict {
        dest: String,
        path: String,
        /// What differs: sizes, or the bytes.
        found: String,
    },
    /// The destination's checkpoint is larger than the source's: publishing would roll the
    /// publication back (a restored backup, or the wrong source).
    #[error("refusing to publish: {dest} already publishes a checkpoint of size {published}, larger than the size {size} of {}; publishing would roll the publication back. Publish from the register that has those entries (a restored backup must first be brought forward, docs/OPERATIONS.md \"Backup and restore\")", dir.display())]
    DestinationAhead {
        dest: String,
        dir: PathBuf,
        published: u64,
        size: u64,
    },
    /// The destination's checkpoint is of another tree than the source's: same size and
    /// another checkpoint, or a smaller tree that is not the source's prefix, or another log.
    #[error("refusing to publish: {dest}/checkpoint {what}; the destination publishes another history than {}, and overwriting it would hide a fork", dir.display())]
    DestinationDiffers {
        dest: String,
        dir: PathBuf,
        what: String,
    },
    /// The destination's checkpoint object is not a checkpoint.
    #[error("{dest}/checkpoint is not a signed checkpoint ({cause}); refusing to replace what we cannot read")]
    DestinationCheckpoint { dest: String, cause: String },
    /// The destination's checkpoint changed while this run was publishing.
    #[error("{dest}/checkpoint changed while publishing (another publisher?); nothing was rolled back, run again")]
    Raced { dest: String },
    /// [`check_before_signing`]: the publication shows a checkpoint the register's log does
    /// not extend (larger, or another tree). Signing would fork the log, so nothing is signed.
    #[error("refusing to sign: the log in {} has {size} entries, but its publication {dest}/checkpoint {what}; signing now would fork the log (was the register restored from an older copy?). Nothing was written. Bring the register forward from a copy that has the published entries (docs/OPERATIONS.md, \"Backup and restore\"), or, if {dest} is not this register's publication, change it (`sijil publish DIR DEST --remember`, or `sijil publish DIR --forget`)", dir.display())]
    WouldFork {
        dest: String,
        dir: PathBuf,
        size: u64,
        what: String,
    },
    /// The register's remembered destination (`private/publish`) cannot be read or written.
    #[error("the register's publication destination {}: {source}", path.display())]
    Remembered {
        path: PathBuf,
        #[source]
        source: IoError,
    },
    /// `private/publish` is not one destination on one line.
    #[error("{}: not a publication destination (one directory or s3:// URL on one line); no entry is signed until it is fixed or removed (`sijil publish DIR --forget`)", path.display())]
    RememberedInvalid { path: PathBuf },
}

impl PublishError {
    /// Whether the error means that something failed verification or that the destination
    /// holds what it must not (README "Exit codes": 1), rather than usage or I/O (2).
    pub fn is_verification_failure(&self) -> bool {
        match self {
            PublishError::Source { source, .. } => source.is_corrupt(),
            PublishError::SourceCorrupt { .. }
            | PublishError::Conflict { .. }
            | PublishError::DestinationAhead { .. }
            | PublishError::DestinationDiffers { .. }
            | PublishError::DestinationCheckpoint { .. }
            | PublishError::WouldFork { .. } => true,
            _ => false,
        }
    }
}

/// Where a publication goes: a directory, or a bucket and prefix of S3-compatible storage.
#[derive(Debug, Clone)]
pub struct Destination {
    store: Arc<dyn ObjectStore>,
    /// Prepended to every object's path (`s3://bucket/prefix`); empty for a directory.
    prefix: Option<ObjectPath>,
    /// How messages name it: the directory, or the `s3://` URL.
    name: String,
    /// For a directory: its path, so that written files are fsynced before the checkpoint.
    local: Option<PathBuf>,
}

impl Destination {
    /// `s3://bucket[/prefix]` ([`Destination::s3`]), or a directory ([`Destination::directory`]).
    ///
    /// # Errors
    /// [`PublishError::BadDestination`].
    pub fn parse(dest: &str) -> Result<Destination, PublishError> {
        if dest.starts_with("s3://") {
            Destination::s3(dest)
        } else if dest.contains("://") {
            Err(PublishError::BadDestination {
                dest: dest.into(),
                message: "only a directory or s3://bucket/prefix can be published to".into(),
            })
        } else {
            Destination::directory(Path::new(dest))
        }
    }

    /// A directory, created if missing. Objects are files at the publication's paths.
    ///
    /// # Errors
    /// [`PublishError::BadDestination`] when it cannot be created or used.
    pub fn directory(dir: &Path) -> Result<Destination, PublishError> {
        let bad = |message: String| PublishError::BadDestination {
            dest: dir.display().to_string(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| bad(format!("cannot create it: {e}")))?;
        let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| bad(e.to_string()))?;
        Ok(Destination {
            store: Arc::new(store),
            prefix: None,
            name: dir.display().to_string(),
            local: Some(dir.to_path_buf()),
        })
    }

    /// `s3://bucket[/prefix]`, configured from the environment as the AWS tools are
    /// (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, …).
    /// Plain `http://` is allowed only for an endpoint on a loopback address (a test server
    /// such as `scripts/s3-server`), or with `AWS_ALLOW_HTTP=true`.
    ///
    /// # Errors
    /// [`PublishError::BadDestination`].
    pub fn s3(url: &str) -> Result<Destination, PublishError> {
        let bad = |message: String| PublishError::BadDestination {
            dest: url.into(),
            message,
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("not an s3:// URL".into()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name (s3://bucket/prefix)".into()));
        }
        let prefix = prefix.trim_matches('/');
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let endpoint = std::env::var("AWS_ENDPOINT_URL")
            .or_else(|_| std::env::var("AWS_ENDPOINT"))
            .ok();
        if endpoint.as_deref().is_some_and(is_loopback_http) {
            builder = builder.with_allow_http(true);
        }
        let store = builder.build().map_err(|e| bad(e.to_string()))?;
        let prefix = if prefix.is_empty() {
            None
        } else {
            Some(ObjectPath::parse(prefix).map_err(|e| bad(format!("prefix {prefix:?}: {e}")))?)
        };
        Ok(Destination {
            store: Arc::new(store),
            prefix,
            name: url.trim_end_matches('/').to_string(),
            local: None,
        })
    }

    /// How messages name the destination.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store's path of the publication's object `rel` (`tile/0/000`, `checkpoint`).
    fn location(&self, rel: &str) -> ObjectPath {
        match &self.prefix {
            Some(p) => rel.split('/').fold(p.clone(), |acc, part| acc.child(part)),
            None => ObjectPath::from_iter(rel.split('/')),
        }
    }

    /// The publication's path of a store path, if it is under the prefix.
    fn relative(&self, location: &ObjectPath) -> Option<String> {
        match &self.prefix {
            Some(p) => location.prefix_match(p).map(|parts| {
                parts
                    .map(|part| part.as_ref().to_owned())
                    .collect::<Vec<_>>()
                    .join("/")
            }),
            None => Some(location.as_ref().to_owned()),
        }
    }

    fn store_error(
        &self,
        op: &'static str,
        path: &str,
        source: object_store::Error,
    ) -> PublishError {
        PublishError::Store {
            dest: self.name.clone(),
            path: path.to_owned(),
            op,
            source: Box::new(source),
        }
    }

    /// The object `rel`, or `None` if it does not exist.
    async fn get(&self, rel: &str) -> Result<Option<Vec<u8>>, PublishError> {
        match self.store.get(&self.location(rel)).await {
            Ok(r) => r
                .bytes()
                .await
                .map(|b| Some(b.to_vec()))
                .map_err(|e| self.store_error("read", rel, e)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.store_error("read", rel, e)),
        }
    }

    /// Every object under the prefix, by its publication path, with its size.
    async fn list(&self) -> Result<HashMap<String, u64>, PublishError> {
        let mut out = HashMap::new();
        let mut stream = self.store.list(self.prefix.as_ref());
        while let Some(meta) = stream
            .try_next()
            .await
            .map_err(|e| self.store_error("list", "", e))?
        {
            if let Some(rel) = self.relative(&meta.location) {
                out.insert(rel, meta.size);
            }
        }
        Ok(out)
    }
}

/// The file under a register's `private/` that names its publication destination: local
/// configuration of this copy of the register (docs/FORMAT.md §8), not part of the format.
/// One line: a directory's absolute path, or an `s3://bucket/prefix` URL.
pub fn remembered_path(dir: &Path) -> PathBuf {
    Layout::new(dir).private().join("publish")
}

/// The publication destination remembered for the register at `dir` (`sijil init --publish`,
/// `sijil publish --remember`), if any: every command that commits publishes there after
/// its commit, and checks it before signing ([`check_before_signing`]).
///
/// # Errors
/// [`PublishError::Remembered`] when the file cannot be read,
/// [`PublishError::RememberedInvalid`] when it does not hold one destination.
pub fn remembered(dir: &Path) -> Result<Option<String>, PublishError> {
    let path = remembered_path(dir);
    let bytes = match durable::read(&path) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(source) => return Err(PublishError::Remembered { path, source }),
    };
    let invalid = || PublishError::RememberedInvalid { path: path.clone() };
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut lines = text.lines();
    match (lines.next().map(str::trim), lines.next()) {
        (Some(dest), None) if !dest.is_empty() => Ok(Some(dest.to_owned())),
        _ => Err(invalid()),
    }
}

/// Remembers `dest` as the register's publication destination, replacing any other
/// (atomically: a crash leaves the old file or the new one). A directory is remembered by its
/// absolute path, so that commands run from elsewhere find it.
///
/// # Errors
/// [`PublishError::BadDestination`] for a destination [`Destination::parse`] refuses or a
/// line break in it; [`PublishError::Remembered`] when the file cannot be written.
pub fn remember(dir: &Path, dest: &str) -> Result<String, PublishError> {
    let bad = |message: &str| PublishError::BadDestination {
        dest: dest.to_owned(),
        message: message.to_owned(),
    };
    if dest.contains(['\n', '\r']) || dest.trim() != dest || dest.is_empty() {
        return Err(bad("a destination is one line without surrounding spaces"));
    }
    let text = if dest.contains("://") {
        Destination::parse(dest)?;
        dest.to_owned()
    } else {
        let abs = std::path::absolute(dest).map_err(|e| bad(&e.to_string()))?;
        abs.to_str()
            .ok_or_else(|| bad("the directory's path is not UTF-8"))?
            .to_owned()
    };
    let path = remembered_path(dir);
    durable::replace(
        &path,
        &path.with_extension("new"),
        format!("{text}\n").as_bytes(),
    )
    .map_err(|source| PublishError::Remembered {
        path: path.clone(),
        source,
    })?;
    Ok(text)
}

/// Forgets the register's publication destination; whether there was one.
///
/// # Errors
/// [`PublishError::Remembered`] when the file cannot be removed.
pub fn forget(dir: &Path) -> Result<bool, PublishError> {
    let path = remembered_path(dir);
    if !path.exists() {
        return Ok(false);
    }
    durable::remove_file(&path).map_err(|source| PublishError::Remembered {
        path: path.clone(),
        source,
    })?;
    Ok(true)
}

/// Whether `endpoint` is `http://` to a loopback address, where plain HTTP carries nothing
/// off the machine.
fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Options of [`publish`].
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// The log's verifier key to check the source's checkpoint with; `None`: the key its
    /// genesis entry names, as `sijil serve` does.
    pub verifier: Option<Verifier>,
    /// Read back every object already in the destination and compare it with the source,
    /// instead of trusting the sizes a listing gives for what an earlier run published.
    pub verify_existing: bool,
    /// Trust the destination's checkpoint when its tree is a prefix of the source's: plan only
    /// the objects new since it (the tiles between the two sizes, the texts the new entries
    /// name), without listing the destination, and find the texts to delete from the new
    /// entries' erasures. A run then costs what the new entries cost, not what the whole
    /// publication holds (what `sijil publish --incremental` does after each append). Without
    /// a destination checkpoint, or with `verify_existing`, the run lists everything anyway.
    pub incremental: bool,
    /// Objects written (or read back) at once.
    pub concurrency: usize,
}

impl Default for PublishOptions {
    fn default() -> PublishOptions {
        PublishOptions {
            verifier: None,
            verify_existing: false,
            incremental: false,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// What happened to the destination's checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointOutcome {
    /// It was absent or smaller, and now is the source's.
    Written,
    /// Same tree, and the source's note has signature lines the destination's lacked
    /// (cosignatures added by `sijil cosign`): replaced.
    NewSignatures,
    /// Already the source's, byte for byte.
    Unchanged,
}

/// What [`publish`] did.
#[derive(Debug, Clone)]
pub struct PublishReport {
    /// The size of the destination's checkpoint before the run (`None`: it had none).
    pub from: Option<u64>,
    /// The source's checkpoint, now the destination's.
    pub checkpoint: SignedCheckpoint,
    /// Objects planned (tiles, bundles, texts), the checkpoint not counted.
    pub planned: u64,
    /// Objects written by this run (the checkpoint included when it was written).
    pub written: u64,
    /// Objects that were already there, with the right bytes (or size, see
    /// [`PublishOptions::verify_existing`]).
    pub skipped: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Erased texts deleted from the destination.
    pub deleted: u64,
    pub checkpoint_outcome: CheckpointOutcome,
}

/// One object of the publication.
#[derive(Debug, Clone)]
enum Object {
    HashTile(Tile),
    Bundle(Tile),
    Text(TextDigest),
}

impl Object {
    fn path(&self) -> String {
        match self {
            Object::HashTile(t) | Object::Bundle(t) => t.path(),
            Object::Text(d) => blob_path(d),
        }
    }

    /// Whether the destination's checkpoint of size `published` covers this object: a run
    /// that finished published it (the checkpoint is written last). Texts are not covered:
    /// they are named by digest, not by size.
    fn covered_by(&self, published: u64) -> bool {
        match self {
            Object::HashTile(t) | Object::Bundle(t) => {
                let level = match t.level {
                    TileLevel::Hash(l) => u32::from(l),
                    TileLevel::Entries => 0,
                };
                // The nodes a tree of `published` leaves has at this tile level's height.
                let nodes = published
                    .checked_shr(level * tile::TILE_HEIGHT)
                    .unwrap_or(0);
                t.index * u64::from(tile::FULL_WIDTH) + u64::from(t.width) <= nodes
            }
            Object::Text(_) => false,
        }
    }
}

/// The source register as opened and verified, and what it publishes.
struct Source {
    dir: PathBuf,
    layout: Layout,
    tiles: DirTiles,
    checkpoint: SignedCheckpoint,
    /// The register's view, which says which texts are published; `None` for a source opened
    /// by its own writer after a commit ([`Source::committed`]), which publishes only what is
    /// new and decides that from the new entries themselves.
    view: Option<Arc<View>>,
}

impl Source {
    /// Opens and verifies the register at `dir` as `sijil serve` does.
    fn open(dir: &Path, verifier: Option<Verifier>) -> Result<Source, PublishError> {
        let reader =
            RegisterReader::open(dir, verifier).map_err(|source| PublishError::Source {
                dir: dir.to_path_buf(),
                source: Box::new(source),
            })?;
        Ok(Source {
            dir: dir.to_path_buf(),
            layout: reader.layout().clone(),
            tiles: reader.tiles().clone(),
            checkpoint: reader.checkpoint().clone(),
            view: Some(reader.shared_view()),
        })
    }

    /// The register at `dir` as its writer holds it right after a commit: `checkpoint` is the
    /// one it just signed (under its lock), so neither the signature nor the view is
    /// re-derived from the files (at 10^6 entries, loading the view costs seconds and hundreds
    /// of MB). Every tile, bundle and text is still verified against the checkpoint before it
    /// is written. Only [`Source::objects_since`] can plan from it.
    fn committed(dir: &Path, checkpoint: SignedCheckpoint) -> Source {
        let layout = Layout::new(dir);
        Source {
            dir: dir.to_path_buf(),
            tiles: DirTiles::new(layout.clone()),
            layout,
            checkpoint,
            view: None,
        }
    }

    /// The view, for the plans that need it (every text of the register, or those a listing
    /// finds).
    fn view(&self) -> Result<&View, PublishError> {
        self.view
            .as_deref()
            .ok_or_else(|| PublishError::SourceCorrupt {
                dir: self.dir.clone(),
                path: "the register's view".into(),
                cause: "not loaded: a publication after a commit plans only the new entries".into(),
            })
    }

    /// Every object the checkpoint publishes: the hash tiles and entry bundles of its tree
    /// (partial ones at the width its size gives them, c2sp.org/tlog-tiles), then the texts
    /// under `blobs/` that the view publishes (a committed entry names it and it was not
    /// erased: [`View::text_is_published`], what `sijil serve` serves).
    fn objects(&self) -> Result<Vec<Object>, PublishError> {
        let mut objects = Vec::new();
        for t in tile::new_tiles(0, self.checkpoint.checkpoint.size) {
            objects.push(Object::HashTile(t));
            if t.level == TileLevel::Hash(0) {
                objects.push(Object::Bundle(Tile {
                    level: TileLevel::Entries,
                    ..t
                }));
            }
        }
        let blobs = self.layout.blobs();
        let read_dir_err = |e| PublishError::SourceRead {
            path: "blobs/".into(),
            source: IoError::new("read dir", &blobs, e),
        };
        let listing = match std::fs::read_dir(&blobs) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(objects),
            Err(e) => return Err(read_dir_err(e)),
        };
        let view = self.view()?;
        let mut texts = Vec::new();
        for item in listing {
            let name = item.map_err(read_dir_err)?.file_name();
            if let Some(d) =
                digest_of_name(&name.to_string_lossy()).filter(|d| view.text_is_published(d))
            {
                texts.push(d);
            }
        }
        texts.sort_by_key(blob_path);
        objects.extend(texts.into_iter().map(Object::Text));
        Ok(objects)
    }

    /// The objects new since the tree of `from` entries (the tiles between the two sizes, the
    /// texts the new entries name and the view publishes), and the texts the new entries'
    /// erasures removed. Every entry is read through [`sijil_register::read_entries`], so
    /// verified against the checkpoint.
    ///
    /// Without the view ([`Source::committed`]) the new entries decide: a text is named by one
    /// entry only (each text takes a fresh salt, docs/FORMAT.md §4), and only a later entry
    /// can erase it, so a text a new entry names is published unless a new erasure targets
    /// that entry, and every text a new erasure targets is erased.
    fn objects_since(&self, from: u64) -> Result<(Vec<Object>, Vec<TextDigest>), PublishError> {
        let cp = &self.checkpoint.checkpoint;
        let mut objects = Vec::new();
        for t in tile::new_tiles(from, cp.size) {
            objects.push(Object::HashTile(t));
            if t.level == TileLevel::Hash(0) {
                objects.push(Object::Bundle(Tile {
                    level: TileLevel::Entries,
                    ..t
                }));
            }
        }
        let read = |start: u64, end: u64| {
            sijil_register::read_entries(&self.tiles, cp.size, cp.root, start, end)
                .map_err(|e| self.corrupt(&format!("entries {start}..{end}"), e))
        };
        let published =
            |d: &TextDigest, erased_seqs: &std::collections::BTreeSet<u64>, seq| match &self.view {
                Some(view) => view.text_is_published(d),
                None => !erased_seqs.contains(&seq),
            };
        let mut named = Vec::new();
        let mut erased = std::collections::BTreeSet::new();
        let mut erased_seqs = std::collections::BTreeSet::new();
        let mut at = from;
        while at < cp.size {
            let next = (at + INCREMENTAL_CHUNK).min(cp.size);
            for se in read(at, next)? {
                named.extend(
                    se.entry
                        .event
                        .texts()
                        .into_iter()
                        .map(|d| (*d, se.entry.seq)),
                );
                if let Event::Erasure(e) = &se.entry.event {
                    erased_seqs.insert(e.target);
                    for target in read(e.target, e.target + 1)? {
                        erased.extend(target.entry.event.texts().into_iter().copied());
                    }
                }
            }
            at = next;
        }
        let texts: std::collections::BTreeSet<TextDigest> = named
            .into_iter()
            .filter(|(d, seq)| published(d, &erased_seqs, *seq))
            .map(|(d, _)| d)
            .collect();
        let erased = match &self.view {
            Some(view) => erased
                .into_iter()
                .filter(|d| !view.text_is_published(d))
                .collect(),
            None => erased.into_iter().collect(),
        };
        objects.extend(texts.into_iter().map(Object::Text));
        Ok((objects, erased))
    }

    fn corrupt(&self, path: &str, cause: impl std::fmt::Display) -> PublishError {
        PublishError::SourceCorrupt {
            dir: self.dir.clone(),
            path: path.to_owned(),
            cause: cause.to_string(),
        }
    }

    /// The object's bytes, verified with the existing verifiers: a hash tile through
    /// [`TileHashReader`] (each tile checked up to the checkpoint's root), a bundle's entries
    /// against their leaf hashes ([`sijil_register::read_entries`]), a text against its name
    /// ([`Blob::parse`]: a blob's SHA-256 is its name, docs/FORMAT.md §4).
    fn verified_bytes(&self, object: &Object) -> Result<Vec<u8>, PublishError> {
        let cp = &self.checkpoint.checkpoint;
        let path = object.path();
        match object {
            Object::HashTile(t) => {
                let reader = TileHashReader::new(cp.size, cp.root, &self.tiles);
                tile::read_tile_data(t, &reader).map_err(|e| self.corrupt(&path, e))
            }
            Object::Bundle(t) => {
                let start = t.index * u64::from(tile::FULL_WIDTH);
                let end = start + u64::from(t.width);
                let entries =
                    sijil_register::read_entries(&self.tiles, cp.size, cp.root, start, end)
                        .map_err(|e| self.corrupt(&path, e))?;
                let bodies: Vec<&[u8]> = entries.iter().map(|e| e.bytes.as_slice()).collect();
                bundle::encode(&bodies).map_err(|e| self.corrupt(&path, e))
            }
            Object::Text(d) => {
                let bytes = durable::read(&self.layout.blob(d)).map_err(|source| {
                    PublishError::SourceRead {
                        path: path.clone(),
                        source,
                    }
                })?;
                Blob::parse(d, &bytes).map_err(|e| self.corrupt(&path, e))?;
                Ok(bytes)
            }
        }
    }

    /// The object's size in the source, unverified: to compare with a listing's size.
    fn size(&self, object: &Object) -> Result<u64, PublishError> {
        let path = object.path();
        let file = match object {
            Object::HashTile(t) => return Ok(u64::from(t.width) * 32),
            Object::Bundle(t) => {
                return match std::fs::metadata(self.layout.tile(t)) {
                    Ok(m) => Ok(m.len()),
                    // A partial bundle removed once its full tile exists: the full's prefix.
                    Err(_) => self
                        .tiles
                        .read_tile(t)
                        .map(|b| b.len() as u64)
                        .map_err(|source| PublishError::SourceRead { path, source }),
                };
            }
            Object::Text(d) => self.layout.blob(d),
        };
        std::fs::metadata(&file)
            .map(|m| m.len())
            .map_err(|e| PublishError::SourceRead {
                path,
                source: IoError::new("stat", &file, e),
            })
    }
}

/// Where the destination's checkpoint stands against the source's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    /// No checkpoint: nothing published yet.
    Absent,
    /// A checkpoint of this size whose tree is the source's first `size` entries.
    Behind(u64),
    /// The source's checkpoint, byte for byte.
    Same,
    /// The source's tree, with fewer signature lines than the source's note.
    FewerSignatures,
}

/// How the destination's checkpoint disagrees with the register's: what [`publish`] refuses
/// to overwrite and what [`check_before_signing`] refuses to sign behind, said by each in its
/// own sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mismatch {
    /// It is larger than the register's (this size).
    Ahead(u64),
    /// Another tree: another log, the same size with another root, a smaller tree that is
    /// not the register's prefix. The text says which, after "{dest}/checkpoint".
    Differs(String),
    /// The register's tree, but with signature lines the register's note lacks (witnesses'
    /// cosignatures a restored copy lost): a publication must not drop them, a larger
    /// checkpoint may follow them.
    OtherSignatures(u64),
}

/// Judges the destination's checkpoint `published` against the register's checkpoint `ours`
/// (of the register at `dir`, whose verified tiles are `tiles`): never backwards, never
/// another tree. The one check of a destination's checkpoint, for [`publish`] and for
/// [`check_before_signing`].
///
/// # Errors
/// The outer error: [`PublishError::DestinationCheckpoint`] (not a checkpoint),
/// [`PublishError::SourceCorrupt`] (the register's tiles do not give its own root). The inner
/// one: how the two disagree.
fn judge(
    dest: &Destination,
    dir: &Path,
    ours: &SignedCheckpoint,
    tiles: &DirTiles,
    published: Option<&[u8]>,
) -> Result<Result<Standing, Mismatch>, PublishError> {
    let Some(bytes) = published else {
        return Ok(Ok(Standing::Absent));
    };
    if bytes == ours.bytes.as_slice() {
        return Ok(Ok(Standing::Same));
    }
    let unreadable = |cause: String| PublishError::DestinationCheckpoint {
        dest: dest.name.clone(),
        cause,
    };
    let note = Note::parse(bytes).map_err(|e| unreadable(e.to_string()))?;
    let theirs = Checkpoint::parse(&note.text).map_err(|e| unreadable(e.to_string()))?;
    let cp = &ours.checkpoint;
    if theirs.origin != cp.origin {
        return Ok(Err(Mismatch::Differs(format!(
            "is of another log ({:?}, where the register is {:?})",
            theirs.origin, cp.origin
        ))));
    }
    if theirs.size > cp.size {
        return Ok(Err(Mismatch::Ahead(theirs.size)));
    }
    if theirs.size == cp.size {
        if theirs.root != cp.root {
            return Ok(Err(Mismatch::Differs(format!(
                "has size {} like the register, but root {} where the register has {}",
                cp.size, theirs.root, cp.root
            ))));
        }
        let all_ours = note
            .signatures
            .iter()
            .all(|s| ours.note.signatures.contains(s));
        if note.text == ours.note.text && all_ours {
            return Ok(Ok(Standing::FewerSignatures));
        }
        return Ok(Err(Mismatch::OtherSignatures(cp.size)));
    }
    // Smaller: its tree must be the register's first entries (verified tiles give that root).
    let reader = TileHashReader::new(cp.size, cp.root, tiles);
    let root =
        merkle::tree_hash(theirs.size, &reader).map_err(|e| PublishError::SourceCorrupt {
            dir: dir.to_path_buf(),
            path: format!("the tree at size {}", theirs.size),
            cause: e.to_string(),
        })?;
    if root != theirs.root {
        return Ok(Err(Mismatch::Differs(format!(
            "has size {} and root {}, but the register's first {} entries have root {}",
            theirs.size, theirs.root, theirs.size, root
        ))));
    }
    Ok(Ok(Standing::Behind(theirs.size)))
}

/// [`judge`] for [`publish`]: every mismatch is a refusal to publish.
///
/// # Errors
/// [`PublishError::DestinationAhead`], [`PublishError::DestinationDiffers`],
/// [`PublishError::DestinationCheckpoint`], [`PublishError::SourceCorrupt`].
fn judge_publication(
    dest: &Destination,
    source: &Source,
    published: Option<&[u8]>,
) -> Result<Standing, PublishError> {
    let size = source.checkpoint.checkpoint.size;
    let differs = |what: String| PublishError::DestinationDiffers {
        dest: dest.name.clone(),
        dir: source.dir.clone(),
        what,
    };
    match judge(dest, &source.dir, &source.checkpoint, &source.tiles, published)? {
        Ok(standing) => Ok(standing),
        Err(Mismatch::Ahead(published)) => Err(PublishError::DestinationAhead {
            dest: dest.name.clone(),
            dir: source.dir.clone(),
            published,
            size,
        }),
        Err(Mismatch::Differs(what)) => Err(differs(what)),
        Err(Mismatch::OtherSignatures(size)) => Err(differs(format!(
            "is another checkpoint of the same size {size} (signature lines the register's lacks); replacing it would drop them"
        ))),
    }
}

/// Issue 14, "Never roll back": before a register signs anything, the checkpoint its
/// publication `dest` holds must be its own or an earlier one of its tree. A register
/// restored from an older copy (or pointed at another register's publication) would
/// otherwise sign a second tree at a size the public already saw: a fork every witness and
/// monitor reports. `ours` is the register's checkpoint as its writer holds it (under the
/// writer's lock) and `tiles` its verified tiles; nothing is written anywhere.
///
/// Returns the size the destination publishes (`None`: nothing yet). The check is
/// [`publish`]'s own ([`judge`]); only the sentence differs. A destination checkpoint of the
/// same tree with other signature lines does not stop a signer: its next checkpoint is larger.
///
/// # Errors
/// [`PublishError::WouldFork`] (larger, another tree, or not a prefix);
/// [`PublishError::DestinationCheckpoint`] (not a checkpoint); [`PublishError::Store`] when
/// the destination cannot be read (then nobody knows what it publishes: the caller must not
/// sign); [`PublishError::SourceCorrupt`].
pub async fn check_before_signing(
    dest: &Destination,
    dir: &Path,
    ours: &SignedCheckpoint,
    tiles: &DirTiles,
) -> Result<Option<u64>, PublishError> {
    let published = dest.get("checkpoint").await?;
    let size = ours.checkpoint.size;
    let would_fork = |what: String| PublishError::WouldFork {
        dest: dest.name.clone(),
        dir: dir.to_path_buf(),
        size,
        what,
    };
    match judge(dest, dir, ours, tiles, published.as_deref())? {
        Ok(Standing::Absent) => Ok(None),
        Ok(Standing::Behind(n)) => Ok(Some(n)),
        Ok(Standing::Same | Standing::FewerSignatures) | Err(Mismatch::OtherSignatures(_)) => {
            Ok(Some(size))
        }
        Err(Mismatch::Ahead(n)) => Err(would_fork(format!(
            "publishes a checkpoint of size {n}, larger than the register's"
        ))),
        Err(Mismatch::Differs(what)) => Err(would_fork(what)),
    }
}

/// What became of one object.
enum Done {
    Written(u64),
    AlreadyThere,
}

/// Writes one object with create-if-absent semantics, or (when `exists`) compares it with
/// what the destination holds. Identical bytes already there count as published.
async fn put_object(
    dest: &Destination,
    source: &Source,
    object: &Object,
    exists: bool,
) -> Result<Done, PublishError> {
    let path = object.path();
    let bytes = source.verified_bytes(object)?;
    if !exists {
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let len = bytes.len() as u64;
        match dest
            .store
            .put_opts(&dest.location(&path), PutPayload::from(bytes.clone()), opts)
            .await
        {
            Ok(_) => return Ok(Done::Written(len)),
            // Someone wrote it since the listing: judged by its bytes below.
            Err(object_store::Error::AlreadyExists { .. }) => {}
            Err(e) => return Err(dest.store_error("write", &path, e)),
        }
    }
    let found = dest.get(&path).await?;
    match found {
        Some(found) if found == bytes => Ok(Done::AlreadyThere),
        Some(found) => Err(PublishError::Conflict {
            dest: dest.name.clone(),
            path,
            found: if found.len() == bytes.len() {
                format!("{} bytes as in the register, but not the same", found.len())
            } else {
                format!(
                    "{} bytes, where the register has {}",
                    found.len(),
                    bytes.len()
                )
            },
        }),
        // Listed, then gone: write it, once.
        None if exists => Box::pin(put_object(dest, source, object, false)).await,
        // Refused as existing, then gone: someone else is writing here.
        None => Err(PublishError::Conflict {
            dest: dest.name.clone(),
            path,
            found: "it appeared and vanished while it was being written".into(),
        }),
    }
}

/// Publishes the register at `dir` to `dest` (see the crate's documentation for the steps and
/// their order). `progress(done, total)` is called as objects are handled.
///
/// # Errors
/// Every [`PublishError`]; on any error the destination's checkpoint is left as it was, so
/// readers see the previous publication, complete.
pub async fn publish(
    dir: &Path,
    dest: &Destination,
    opts: &PublishOptions,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<PublishReport, PublishError> {
    refuse_inside(dest, dir)?;
    let source = Source::open(dir, opts.verifier.clone())?;
    publish_source(dest, source, opts, progress).await
}

/// Issue 14, "publish after every commit": what the writer of the register at `dir` publishes
/// right after its commit, `checkpoint` being the one it just signed (under its lock). Only
/// the objects new since the destination's checkpoint are planned ([`Source::committed`]:
/// the register's view is not loaded, which at 10^6 entries costs more than the append), and
/// all of them verified against `checkpoint` before they are written, the checkpoint last. A
/// destination without a checkpoint gets a whole [`publish`] (with the view).
///
/// # Errors
/// As [`publish`].
pub async fn publish_committed(
    dir: &Path,
    dest: &Destination,
    checkpoint: &SignedCheckpoint,
    concurrency: usize,
) -> Result<PublishReport, PublishError> {
    refuse_inside(dest, dir)?;
    let opts = PublishOptions {
        incremental: true,
        concurrency,
        ..PublishOptions::default()
    };
    if dest.get("checkpoint").await?.is_none() {
        return publish(dir, dest, &opts, &mut |_, _| {}).await;
    }
    let source = Source::committed(dir, checkpoint.clone());
    publish_source(dest, source, &opts, &mut |_, _| {}).await
}

/// A directory destination may not be the register or inside it.
fn refuse_inside(dest: &Destination, dir: &Path) -> Result<(), PublishError> {
    if let Some(out) = &dest.local {
        let inside = match (out.canonicalize(), dir.canonicalize()) {
            (Ok(out), Ok(src)) => out.starts_with(&src),
            _ => false,
        };
        if inside {
            return Err(PublishError::BadDestination {
                dest: dest.name.clone(),
                message: format!(
                    "is the register {} or inside it; publish to another directory",
                    dir.display()
                ),
            });
        }
    }
    Ok(())
}

/// [`publish`] from an opened source.
async fn publish_source(
    dest: &Destination,
    source: Source,
    opts: &PublishOptions,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<PublishReport, PublishError> {
    let first = dest.get("checkpoint").await?;
    let standing = judge_publication(dest, &source, first.as_deref())?;
    let size = source.checkpoint.checkpoint.size;
    let from = match standing {
        Standing::Absent => None,
        Standing::Behind(n) => Some(n),
        Standing::Same | Standing::FewerSignatures => Some(size),
    };
    // Incremental: the destination's checkpoint vouches for what a finished run published.
    let since = match (standing, from) {
        (Standing::Absent, _) | (_, None) => None,
        (_, Some(n)) => Some(n).filter(|_| opts.incremental && !opts.verify_existing),
    };
    if since.is_none() && source.view.is_none() {
        // A source without its view plans only what is new: the destination's checkpoint
        // went away since it was read.
        return Err(PublishError::Raced {
            dest: dest.name.clone(),
        });
    }
    let (objects, listing, erased) = match since {
        Some(n) => {
            let (objects, erased) = source.objects_since(n)?;
            (objects, HashMap::new(), erased)
        }
        None => {
            let view = source.view()?;
            let listing = dest.list().await?;
            let erased = listing
                .keys()
                .filter_map(|rel| rel.strip_prefix("blobs/").and_then(digest_of_name))
                .filter(|d| !view.text_is_published(d))
                .collect();
            (source.objects()?, listing, erased)
        }
    };
    let total = objects.len() as u64;
    let mut report = PublishReport {
        from,
        checkpoint: source.checkpoint.clone(),
        planned: total,
        written: 0,
        skipped: 0,
        bytes: 0,
        deleted: 0,
        checkpoint_outcome: CheckpointOutcome::Unchanged,
    };
    let mut work = Vec::new();
    // Objects found already written that no finished run vouches for: a run killed after
    // linking one may have left its staging file beside it.
    let mut rewritten_paths = Vec::new();
    for object in objects {
        let path = object.path();
        match listing.get(&path) {
            // Published by a run that finished (or a text, named by its digest): the listing's
            // size is checked, the bytes only with `verify_existing`.
            Some(&len)
                if !opts.verify_existing
                    && (object.covered_by(from.unwrap_or(0))
                        || matches!(object, Object::Text(_))) =>
            {
                let want = source.size(&object)?;
                if len != want {
                    return Err(PublishError::Conflict {
                        dest: dest.name.clone(),
                        path,
                        found: format!("{len} bytes, where the register has {want}"),
                    });
                }
                report.skipped += 1;
                if dest.local.is_some() && !object.covered_by(from.unwrap_or(0)) {
                    rewritten_paths.push(path);
                }
            }
            Some(_) => work.push((object, true)),
            None => work.push((object, false)),
        }
    }
    let mut done = report.skipped;
    progress(done, total);
    let mut written_paths = Vec::new();
    {
        let source = &source;
        let mut results =
            futures::stream::iter(work.into_iter().map(|(object, exists)| async move {
                let r = put_object(dest, source, &object, exists).await;
                (object, r)
            }))
            .buffer_unordered(opts.concurrency.max(1));
        while let Some((object, result)) = results.next().await {
            match result? {
                Done::Written(len) => {
                    report.written += 1;
                    report.bytes += len;
                    written_paths.push(object.path());
                }
                Done::AlreadyThere => {
                    report.skipped += 1;
                    if dest.local.is_some() {
                        rewritten_paths.push(object.path());
                    }
                }
            }
            done += 1;
            progress(done, total);
        }
    }
    // Texts erased since they were published (or that no committed entry names): an erasure
    // must reach every copy (docs/FORMAT.md §4).
    let mut deleted_any = false;
    for digest in &erased {
        let rel = blob_path(digest);
        match dest.store.delete(&dest.location(&rel)).await {
            Ok(()) => {
                report.deleted += 1;
                deleted_any = true;
            }
            // Deleted by an earlier run (S3 says nothing; a directory says not found).
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(dest.store_error("delete", &rel, e)),
        }
    }
    if let Some(root) = &dest.local {
        remove_staging_leftovers(dest, root, written_paths.iter().chain(&rewritten_paths))?;
        sync_local(dest, root, &written_paths, deleted_any)?;
    }
    // Last, the checkpoint: only if the destination's is still the one judged above.
    if standing != Standing::Same {
        let again = dest.get("checkpoint").await?;
        if again != first {
            return Err(PublishError::Raced {
                dest: dest.name.clone(),
            });
        }
        let mode = match first {
            None => PutMode::Create,
            Some(_) => PutMode::Overwrite,
        };
        let bytes = source.checkpoint.bytes.clone();
        let len = bytes.len() as u64;
        let opts = PutOptions {
            mode,
            ..PutOptions::default()
        };
        match dest
            .store
            .put_opts(&dest.location("checkpoint"), PutPayload::from(bytes), opts)
            .await
        {
            Ok(_) => {}
            Err(object_store::Error::AlreadyExists { .. }) => {
                return Err(PublishError::Raced {
                    dest: dest.name.clone(),
                })
            }
            Err(e) => return Err(dest.store_error("write", "checkpoint", e)),
        }
        if let Some(root) = &dest.local {
            sync_local(dest, root, &["checkpoint".to_owned()], false)?;
        }
        report.written += 1;
        report.bytes += len;
        report.checkpoint_outcome = match standing {
            Standing::FewerSignatures => CheckpointOutcome::NewSignatures,
            _ => CheckpointOutcome::Written,
        };
    }
    Ok(report)
}

/// How many staging files of one object [`remove_staging_leftovers`] looks for: one per
/// interrupted run that wrote the object, and runs that finish remove theirs.
const STAGING_PROBES: u32 = 4;

/// A directory destination: removes what interrupted runs left beside the objects this run
/// wrote or found written. `object_store` writes a file `P` as `P#1` (`P#2`, … when that is
/// taken), hard-links it to `P` and removes it; a run killed in between leaves `P#N`, which the
/// store's listing hides but an audit of the directory reports as a file no entry names.
/// A concurrent publisher of the same object loses its staging file and fails; run again.
fn remove_staging_leftovers<'a>(
    dest: &Destination,
    root: &Path,
    objects: impl Iterator<Item = &'a String>,
) -> Result<(), PublishError> {
    for rel in objects {
        for n in 1..=STAGING_PROBES {
            let staging = format!("{rel}#{n}");
            let file = root.join(&staging);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(PublishError::DestinationIo {
                        dest: dest.name.clone(),
                        path: staging,
                        source: IoError::new("remove", &file, e),
                    })
                }
            }
        }
    }
    Ok(())
}

/// A directory destination: makes the files written (and their directories, and `blobs/`
/// after deletions) durable, so that the checkpoint written after them never covers a file a
/// crash could lose (DESIGN §3, the commit point).
fn sync_local(
    dest: &Destination,
    root: &Path,
    written: &[String],
    deleted: bool,
) -> Result<(), PublishError> {
    let io = |path: &str, source| PublishError::DestinationIo {
        dest: dest.name.clone(),
        path: path.to_owned(),
        source,
    };
    let mut dirs = std::collections::BTreeSet::new();
    for rel in written {
        let file = root.join(rel);
        durable::sync_file(&file).map_err(|e| io(rel, e))?;
        let mut dir = file.parent();
        while let Some(d) = dir {
            if !d.starts_with(root) || !dirs.insert(d.to_path_buf()) {
                break;
            }
            dir = d.parent();
        }
    }
    if deleted {
        dirs.insert(root.join("blobs"));
    }
    for d in dirs {
        match durable::sync_dir(&d) {
            Err(e) if e.is_not_found() => {}
            r => r.map_err(|e| io(&d.display().to_string(), e))?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use sijil_core::note::Signer;
    use sijil_core::Hash;
    use sijil_register::{init, read_private_key, InitOptions};

    /// A fresh register (2 entries: the genesis and its IndexCommitted) and an empty
    /// destination directory beside it.
    fn register() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("reg");
        init(
            &dir,
            InitOptions {
                origin: "registre.example.ma/publish".into(),
                title: "Registre".into(),
                authority: "Autorité".into(),
                officer_name: "amina".into(),
                now_ms: 1_700_000_000_000,
                log_key: None,
                officer_key: None,
            },
        )
        .unwrap();
        let out = tmp.path().join("public");
        (tmp, dir, out)
    }

    async fn run(
        dir: &Path,
        out: &Path,
        opts: &PublishOptions,
    ) -> Result<PublishReport, PublishError> {
        let dest = Destination::directory(out).unwrap();
        publish(dir, &dest, opts, &mut |_, _| {}).await
    }

    fn log_key(dir: &Path) -> Signer {
        read_private_key(&Layout::new(dir).log_key()).unwrap()
    }

    /// Every file under `dir`, with its bytes.
    fn files(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
        fn walk(root: &Path, d: &Path, out: &mut std::collections::BTreeMap<PathBuf, Vec<u8>>) {
            for e in std::fs::read_dir(d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    out.insert(
                        p.strip_prefix(root).unwrap().into(),
                        std::fs::read(&p).unwrap(),
                    );
                }
            }
        }
        let mut out = std::collections::BTreeMap::new();
        walk(dir, dir, &mut out);
        out
    }

    #[tokio::test]
    async fn issue14_publishes_every_public_file_then_skips_them_all() {
        let (_tmp, dir, out) = register();
        let first = run(&dir, &out, &PublishOptions::default()).await.unwrap();
        assert_eq!(first.from, None);
        assert_eq!(first.checkpoint_outcome, CheckpointOutcome::Written);
        // tile/0/000.p/2, tile/entries/000.p/2, then the checkpoint.
        assert_eq!((first.planned, first.written, first.skipped), (2, 3, 0));
        let published = files(&out);
        let source = files(&dir);
        for (path, bytes) in &published {
            assert_eq!(Some(bytes), source.get(path), "{}", path.display());
        }
        let public: Vec<_> = source
            .keys()
            .filter(|p| !p.starts_with("private"))
            .collect();
        assert_eq!(published.keys().collect::<Vec<_>>(), public);

        let again = run(&dir, &out, &PublishOptions::default()).await.unwrap();
        assert_eq!(again.from, Some(first.checkpoint.checkpoint.size));
        assert_eq!((again.written, again.skipped, again.bytes), (0, 2, 0));
        assert_eq!(again.checkpoint_outcome, CheckpointOutcome::Unchanged);
        assert_eq!(files(&out), published);

        // Incremental: nothing is new since the destination's checkpoint, nothing is looked at.
        let opts = PublishOptions {
            incremental: true,
            ..PublishOptions::default()
        };
        let none = run(&dir, &out, &opts).await.unwrap();
        assert_eq!((none.planned, none.written, none.skipped), (0, 0, 0));
        // Without a destination checkpoint it lists and plans everything.
        std::fs::remove_file(out.join("checkpoint")).unwrap();
        let all = run(&dir, &out, &opts).await.unwrap();
        assert_eq!((all.planned, all.written, all.skipped), (2, 1, 2));
        assert_eq!(files(&out), published);
    }

    #[tokio::test]
    async fn issue14_a_larger_destination_checkpoint_is_never_rolled_back() {
        let (_tmp, dir, out) = register();
        run(&dir, &out, &PublishOptions::default()).await.unwrap();
        // The destination already publishes size 9 of this log (signed by its key): this
        // register, at size 2, is behind it (a restored backup, say).
        let cp = SignedCheckpoint::sign(
            Checkpoint::new("registre.example.ma/publish", 9, Hash([7; 32])),
            &log_key(&dir),
        )
        .unwrap();
        std::fs::write(out.join("checkpoint"), &cp.bytes).unwrap();
        std::fs::remove_file(out.join("tile/0/000.p/2")).unwrap();
        let before = files(&out);
        let err = run(&dir, &out, &PublishOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                PublishError::DestinationAhead {
                    published: 9,
                    size: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("roll the publication back"),
            "{err}"
        );
        assert!(err.is_verification_failure());
        // Refused before anything was written: the missing tile was not put back.
        assert_eq!(files(&out), before);
    }

    #[tokio::test]
    async fn issue14_another_tree_at_the_destination_is_refused() {
        let (_tmp, dir, out) = register();
        let key = log_key(&dir);
        let size = Source::open(&dir, None).unwrap().checkpoint.checkpoint.size;
        // Same size, another root; then a smaller tree that is not this register's prefix.
        for (n, what) in [(size, "root"), (1, "first 1 entries")] {
            std::fs::create_dir_all(&out).unwrap();
            let cp = SignedCheckpoint::sign(
                Checkpoint::new("registre.example.ma/publish", n, Hash([7; 32])),
                &key,
            )
            .unwrap();
            std::fs::write(out.join("checkpoint"), &cp.bytes).unwrap();
            let err = run(&dir, &out, &PublishOptions::default())
                .await
                .unwrap_err();
            assert!(
                matches!(err, PublishError::DestinationDiffers { .. }),
                "{err}"
            );
            assert!(err.to_string().contains(what), "{err}");
            assert_eq!(
                files(&out).len(),
                1,
                "nothing written beside the checkpoint"
            );
        }
        // Another log's checkpoint.
        let other = Signer::generate("registre.example.ma/autre").unwrap();
        let cp = SignedCheckpoint::sign(
            Checkpoint::new("registre.example.ma/autre", 1, Hash([7; 32])),
            &other,
        )
        .unwrap();
        std::fs::write(out.join("checkpoint"), &cp.bytes).unwrap();
        let err = run(&dir, &out, &PublishOptions::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("another log"), "{err}");
        std::fs::write(out.join("checkpoint"), b"not a note").unwrap();
        let err = run(&dir, &out, &PublishOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, PublishError::DestinationCheckpoint { .. }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn issue14_other_bytes_under_a_published_name_are_a_conflict_naming_it() {
        let (_tmp, dir, out) = register();
        run(&dir, &out, &PublishOptions::default()).await.unwrap();
        let tile = out.join("tile/0/000.p/2");
        let good = std::fs::read(&tile).unwrap();
        let mut bad = good.clone();
        bad[0] ^= 1;
        std::fs::write(&tile, &bad).unwrap();
        // Same size, covered by the published checkpoint: only a read back sees it.
        run(&dir, &out, &PublishOptions::default()).await.unwrap();
        let opts = PublishOptions {
            verify_existing: true,
            ..PublishOptions::default()
        };
        let err = run(&dir, &out, &opts).await.unwrap_err();
        assert!(
            matches!(&err, PublishError::Conflict { path, .. } if path == "tile/0/000.p/2"),
            "{err}"
        );
        // Another size: seen from the listing.
        bad.push(0);
        std::fs::write(&tile, &bad).unwrap();
        let err = run(&dir, &out, &PublishOptions::default())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("tile/0/000.p/2"), "{err}");
        assert!(err.is_verification_failure());
        // Not covered by a published checkpoint (a run that stopped before it): written with
        // create-if-absent, which finds the object and reads it back.
        std::fs::remove_file(out.join("checkpoint")).unwrap();
        bad.pop();
        std::fs::write(&tile, &bad).unwrap();
        let err = run(&dir, &out, &PublishOptions::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PublishError::Conflict { path, .. } if path == "tile/0/000.p/2"),
            "{err}"
        );
        assert!(
            !out.join("checkpoint").exists(),
            "no checkpoint over a conflict"
        );
        // The right bytes left by such a run are simply published.
        std::fs::write(&tile, &good).unwrap();
        let report = run(&dir, &out, &PublishOptions::default()).await.unwrap();
        assert_eq!((report.written, report.skipped), (1, 2));
    }

    #[tokio::test]
    async fn issue14_a_corrupt_source_tile_is_not_published() {
        let (_tmp, dir, out) = register();
        // The bundle no longer matches the level-0 tile the checkpoint's root covers.
        let bundle = dir.join("tile/entries/000.p/2");
        let mut bytes = std::fs::read(&bundle).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&bundle, &bytes).unwrap();
        let err = run(&dir, &out, &PublishOptions::default())
            .await
            .unwrap_err();
        assert!(err.is_verification_failure(), "{err}");
        assert!(!out.join("checkpoint").exists());
        assert!(!out.join("tile/entries/000.p/2").exists());
    }

    /// What a writer holding the register at `dir` would check before signing.
    async fn check(dir: &Path, out: &Path) -> Result<Option<u64>, PublishError> {
        let dest = Destination::directory(out).unwrap();
        let layout = Layout::new(dir);
        let cp =
            SignedCheckpoint::open(&layout.read_checkpoint().unwrap(), &log_key(dir).verifier())
                .unwrap();
        check_before_signing(&dest, dir, &cp, &DirTiles::new(layout)).await
    }

    #[tokio::test]
    async fn issue14_a_signer_never_signs_behind_its_publication() {
        let (_tmp, dir, out) = register();
        assert_eq!(check(&dir, &out).await.unwrap(), None, "nothing published");
        run(&dir, &out, &PublishOptions::default()).await.unwrap();
        assert_eq!(
            check(&dir, &out).await.unwrap(),
            Some(2),
            "its own checkpoint"
        );
        let key = log_key(&dir);
        let write = |n: u64, root: Hash| {
            let cp = SignedCheckpoint::sign(
                Checkpoint::new("registre.example.ma/publish", n, root),
                &key,
            )
            .unwrap();
            std::fs::write(out.join("checkpoint"), &cp.bytes).unwrap();
        };
        // An earlier checkpoint of its tree (the genesis alone): behind, so signing is fine.
        let reader = RegisterReader::open(&dir, None).unwrap();
        let tiles = reader.tiles().clone();
        let cp = reader.checkpoint().checkpoint.clone();
        let first = merkle::tree_hash(1, &TileHashReader::new(cp.size, cp.root, &tiles)).unwrap();
        write(1, first);
        assert_eq!(check(&dir, &out).await.unwrap(), Some(1));
        // Larger, same size with another root, smaller but not its prefix, another log.
        let cases = [
            (
                9,
                Hash([7; 32]),
                "publishes a checkpoint of size 9, larger than the register's",
            ),
            (2, Hash([7; 32]), "has size 2 like the register, but root"),
            (
                1,
                Hash([7; 32]),
                "but the register's first 1 entries have root",
            ),
        ];
        for (n, root, what) in cases {
            write(n, root);
            let err = check(&dir, &out).await.unwrap_err();
            assert!(
                matches!(&err, PublishError::WouldFork { size: 2, .. }),
                "{err}"
            );
            let text = err.to_string();
            assert!(text.starts_with("refusing to sign: the log in "), "{text}");
            assert!(text.contains(what) && text.contains("would fork"), "{text}");
            assert!(err.is_verification_failure());
        }
        std::fs::write(out.join("checkpoint"), b"garbage").unwrap();
        assert!(matches!(
            check(&dir, &out).await.unwrap_err(),
            PublishError::DestinationCheckpoint { .. }
        ));
        // The same tree with signature lines the register lacks (a witness's): publishing
        // would drop them, but a larger checkpoint may follow them.
        let witness = Signer::generate("witness.example/w1").unwrap();
        let both =
            sijil_core::note::sign_note(&reader.checkpoint().note.text, &[&key, &witness]).unwrap();
        std::fs::write(out.join("checkpoint"), both).unwrap();
        assert_eq!(check(&dir, &out).await.unwrap(), Some(2));
        assert!(matches!(
            run(&dir, &out, &PublishOptions::default())
                .await
                .unwrap_err(),
            PublishError::DestinationDiffers { .. }
        ));
    }

    /// A register and its first officer's key.
    fn register_with_officer() -> (tempfile::TempDir, PathBuf, Signer) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("reg");
        let report = init(
            &dir,
            InitOptions {
                origin: "registre.example.ma/publish".into(),
                title: "Registre".into(),
                authority: "Autorité".into(),
                officer_name: "amina".into(),
                now_ms: 1_700_000_000_000,
                log_key: None,
                officer_key: None,
            },
        )
        .unwrap();
        (tmp, dir, report.officer)
    }

    fn append(w: &mut sijil_register::RegisterWriter, officer: &Signer, lines: &[&str]) {
        let drafts = sijil_register::parse_events("test", &lines.join("\n")).unwrap();
        w.append(drafts, officer, 1_720_000_000_000, None).unwrap();
    }

    const COMPLAINT: &str = r#"{"case":"2024-0001","type":"ComplaintReceived","controller":{"id":"acme","name":"ACME SARL"},"categories":["privacy"],"received_on":"2024-01-02","summary":"texte 1"}"#;
    const COMPLAINT2: &str = r#"{"case":"2024-0002","type":"ComplaintReceived","controller":{"id":"acme","name":"ACME SARL"},"categories":["privacy"],"received_on":"2024-01-02","summary":"texte 2"}"#;
    const ERASE2: &str = r#"{"case":"2024-0002","type":"Erasure","target":{"case":"2024-0002","seq":0},"reason":"Loi 09-08, art. 8"}"#;
    const ERASE1: &str = r#"{"case":"2024-0001","type":"Erasure","target":{"case":"2024-0001","seq":0},"reason":"Loi 09-08, art. 8"}"#;

    /// Every published file of `out` but the partial tiles of earlier sizes (kept by a
    /// publication, not by the register).
    fn current(out: &Path, size: u64) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
        files(out)
            .into_iter()
            .filter(|(p, _)| {
                let p = p.to_string_lossy();
                !p.contains(".p/") || p.ends_with(&format!(".p/{}", size % 256))
            })
            .collect()
    }

    /// A run killed while `object_store` wrote an object leaves its staging file `P#1`, before
    /// or after linking it to `P`. The next run, incremental or whole, removes it: an audit of
    /// the directory would otherwise report a file that no entry names (the CI failure of
    /// 2026-12-06: `blobs/<digest>#1`).
    #[tokio::test]
    async fn issue14_staging_files_of_a_killed_run_are_removed_by_the_next() {
        for whole_run in [false, true] {
            let (_tmp, dir, officer) = register_with_officer();
            let out = dir.parent().unwrap().join("public");
            let reference = dir.parent().unwrap().join("reference");
            let mut w = sijil_register::RegisterWriter::open(&dir, None).unwrap();
            let dest = Destination::directory(&out).unwrap();
            publish_committed(&dir, &dest, w.checkpoint(), 4)
                .await
                .unwrap();
            append(&mut w, &officer, &[COMPLAINT, COMPLAINT2]);
            run(&dir, &reference, &PublishOptions::default())
                .await
                .unwrap();
            let before = files(&out);
            let new: Vec<_> = files(&reference)
                .into_iter()
                .filter(|(p, _)| p != Path::new("checkpoint") && !before.contains_key(p))
                .collect();
            assert!(new.iter().any(|(p, _)| p.starts_with("blobs")));
            // Killed: every new object staged, every other one also linked.
            for (i, (path, bytes)) in new.iter().enumerate() {
                let file = out.join(path);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                let mut staging = file.clone().into_os_string();
                staging.push("#1");
                std::fs::write(&staging, bytes).unwrap();
                if i % 2 == 0 {
                    std::fs::write(&file, bytes).unwrap();
                }
            }
            if whole_run {
                std::fs::remove_file(out.join("checkpoint")).unwrap();
                run(&dir, &out, &PublishOptions::default()).await.unwrap();
            } else {
                publish_committed(&dir, &dest, w.checkpoint(), 4)
                    .await
                    .unwrap();
            }
            let published = files(&out);
            let leftovers: Vec<_> = published
                .keys()
                .filter(|p| p.to_string_lossy().contains('#'))
                .collect();
            assert!(leftovers.is_empty(), "whole run {whole_run}: {leftovers:?}");
            for (path, bytes) in files(&reference) {
                assert!(published.get(&path) == Some(&bytes), "{}", path.display());
            }
        }
    }

    #[tokio::test]
    async fn issue14_a_writer_publishes_what_it_committed_without_the_view_as_the_view_would() {
        let (_tmp, dir, officer) = register_with_officer();
        let after = dir.parent().unwrap().join("after-commit");
        let whole = dir.parent().unwrap().join("whole");
        let dest = Destination::directory(&after).unwrap();
        // Without a destination checkpoint: a whole publication.
        let mut w = sijil_register::RegisterWriter::open(&dir, None).unwrap();
        let first = publish_committed(&dir, &dest, w.checkpoint(), 4)
            .await
            .unwrap();
        assert_eq!(first.from, None);
        // Each step: commits, then what the writer publishes equals a whole publication with
        // the view. A text named and erased between two publications is never published; an
        // erasure of a text published before deletes it.
        for (i, batch) in [&[COMPLAINT][..], &[COMPLAINT2], &[ERASE2, ERASE1]]
            .iter()
            .enumerate()
        {
            append(&mut w, &officer, batch);
            if i == 1 {
                // Published at the next step only: COMPLAINT2's text is erased by then.
                continue;
            }
            let report = publish_committed(&dir, &dest, w.checkpoint(), 4)
                .await
                .unwrap();
            assert!(report.from.is_some());
            let size = w.checkpoint().checkpoint.size;
            run(&dir, &whole, &PublishOptions::default()).await.unwrap();
            assert_eq!(current(&after, size), current(&whole, size), "step {i}");
        }
        let texts = files(&after)
            .into_keys()
            .filter(|p| p.starts_with("blobs"))
            .count();
        assert_eq!(texts, 0, "both texts erased");
        // The text of COMPLAINT was published at step 0 and deleted at step 2.
        assert!(first.written > 0);
    }

    #[test]
    fn issue14_a_destination_is_remembered_and_forgotten() {
        let (_tmp, dir, out) = register();
        assert_eq!(remembered(&dir).unwrap(), None);
        // A relative directory is remembered absolute, for commands run from elsewhere.
        let kept = remember(&dir, "public").unwrap();
        let abs = std::env::current_dir().unwrap().join("public");
        assert_eq!(Path::new(&kept), abs);
        assert_eq!(remembered(&dir).unwrap().as_deref(), Some(kept.as_str()));
        remember(&dir, out.to_str().unwrap()).unwrap();
        assert_eq!(remembered(&dir).unwrap().as_deref(), out.to_str());
        remember(&dir, "s3://bucket/plaintes").unwrap();
        assert_eq!(
            std::fs::read_to_string(remembered_path(&dir)).unwrap(),
            "s3://bucket/plaintes\n"
        );
        for bad in ["gs://b/p", "a\nb", " x", ""] {
            assert!(
                matches!(
                    remember(&dir, bad),
                    Err(PublishError::BadDestination { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(forget(&dir).unwrap());
        assert!(!forget(&dir).unwrap());
        assert_eq!(remembered(&dir).unwrap(), None);
        std::fs::write(remembered_path(&dir), "a\nb\n").unwrap();
        assert!(matches!(
            remembered(&dir),
            Err(PublishError::RememberedInvalid { .. })
        ));
    }

    #[test]
    fn issue14_destinations_parse() {
        assert!(is_loopback_http("http://127.0.0.1:9000"));
        assert!(is_loopback_http("http://localhost:9000/"));
        assert!(is_loopback_http("http://[::1]:9000"));
        assert!(!is_loopback_http("http://10.0.0.1:9000"));
        assert!(!is_loopback_http("https://127.0.0.1:9000"));
        assert!(!is_loopback_http("http://s3.example"));
        assert!(matches!(
            Destination::parse("gs://b/p"),
            Err(PublishError::BadDestination { .. })
        ));
        assert!(matches!(
            Destination::parse("s3:///p"),
            Err(PublishError::BadDestination { .. })
        ));
        let d = Destination::parse("s3://bucket/a/b/").unwrap();
        assert_eq!(d.name(), "s3://bucket/a/b");
        assert_eq!(d.location("tile/0/000.p/5").as_ref(), "a/b/tile/0/000.p/5");
        assert_eq!(
            d.relative(&ObjectPath::from("a/b/blobs/ab")).as_deref(),
            Some("blobs/ab")
        );
        assert_eq!(d.relative(&ObjectPath::from("c/blobs/ab")), None);
    }
}
