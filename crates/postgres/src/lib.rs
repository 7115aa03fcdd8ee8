//! PostgreSQL as a register's commit point (issue 14), and as a source readers check.
//!
//! A batch is committed by one transaction that first advances the log's checkpoint by
//! compare-and-swap on the previous size (`UPDATE sijil_log … WHERE size = $old`), then
//! stores the batch's files and erasures ([`sijil_core::commit`] says what the writer does
//! before and after). The compare-and-swap is the only thing the database is trusted for:
//! a writer re-verifies everything it adopts from here, and readers (`verify`, `audit`,
//! `mirror`) check what [`PgRegister`]'s [`Source`] serves as they check a directory.
//! Durability and availability are PostgreSQL's own (synchronous streaming replication; a
//! multi-host URL with `target_session_attrs=read-write` follows a failover): DESIGN §9,
//! "never to a home-made cluster".
//!
//! One register per database; the schema is in [`schema`]. [`cluster`] starts throwaway
//! clusters (and synchronous standbys) for the tests and benchmarks.

pub mod cluster;
pub mod schema;
pub mod tls;

use std::collections::HashMap;
use std::error::Error as _;
use std::str::FromStr as _;
use std::sync::{Mutex, MutexGuard, PoisonError};

use postgres::types::Type;
use postgres::{Client, Config};
use sijil_core::commit::{Changes, Commit, CommitPoint, CommitPointError};
use sijil_core::storage::prefix_of_full;
use sijil_core::tile::{Tile, FULL_WIDTH};
use sijil_register::audit::{Source, SourceError};

/// Why a [`PgRegister`] could not be opened, set up or read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PgError {
    /// The connection string is not one libpq would take.
    #[error("{url} is not a PostgreSQL connection URL: {message}")]
    BadUrl { url: String, message: String },
    /// No server named by the URL accepted a connection (of the kind asked).
    #[error("cannot connect to {location}: {message}")]
    Connect { location: String, message: String },
    /// A statement failed.
    #[error("{location}: cannot {what}: {message}")]
    Query {
        location: String,
        what: &'static str,
        message: String,
    },
    /// The database holds no sijil schema (`sijil init` creates it).
    #[error("{location} holds no sijil register (no sijil_meta schema_version): create it with `sijil init`")]
    NoSchema { location: String },
    /// The database's schema is of another version than this build reads.
    #[error(
        "{location} holds a sijil schema of version {found}; this build reads version {supported}"
    )]
    SchemaVersion {
        location: String,
        found: String,
        supported: u32,
    },
    /// A setting name the schema itself uses.
    #[error("{name} is reserved in sijil_meta; settings cannot be named so")]
    ReservedSetting { name: String },
    /// A value stored in the database is not one sijil writes (a negative size).
    #[error("{location}: {message}")]
    Corrupt { location: String, message: String },
}

/// A register in a PostgreSQL database: the commit point of its writers
/// ([`CommitPoint`]) and a source for its readers ([`Source`]).
///
/// The connection sits behind a mutex because [`Source`] reads through `&self`; after a lost
/// connection (a restart, a failover) each operation reconnects once, with the same URL,
/// before it fails.
pub struct PgRegister {
    config: Config,
    connector: tls::Connector,
    location: String,
    client: Mutex<Client>,
}

impl std::fmt::Debug for PgRegister {
    // Neither the client nor the configuration (it holds the password) is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgRegister")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl PgRegister {
    /// Connects to the database `url` names: a `postgres://…` URL or a `key=value` string, as
    /// libpq takes them (several hosts with `target_session_attrs=read-write` is how a writer
    /// finds the primary after a failover).
    ///
    /// TLS follows the URL's `sslmode` ([`tls`]): `require` is TLS or no connection,
    /// `prefer` (the default) TLS when the server offers it, `disable` plain text. Under TLS
    /// the server's certificate must chain to the system's roots or to a CA of the PEM file
    /// named by the environment variable `PGSSLROOTCERT` (libpq's; the `postgres` crate
    /// refuses the `sslrootcert` URL parameter), and name the URL's host: libpq's
    /// `verify-full`, always.
    ///
    /// # Errors
    /// [`PgError::BadUrl`] (also for an unreadable `PGSSLROOTCERT`), [`PgError::Connect`].
    pub fn connect(url: &str) -> Result<PgRegister, PgError> {
        let root_cert = std::env::var_os(tls::ROOT_CERT_ENV).filter(|v| !v.is_empty());
        PgRegister::connect_with_root_cert(url, root_cert.as_deref().map(std::path::Path::new))
    }

    /// [`PgRegister::connect`] with the CA file given here rather than by `PGSSLROOTCERT`
    /// (`None`: the system's roots only).
    ///
    /// # Errors
    /// As [`PgRegister::connect`].
    pub fn connect_with_root_cert(
        url: &str,
        root_cert: Option<&std::path::Path>,
    ) -> Result<PgRegister, PgError> {
        let location = redact(url);
        let config = Config::from_str(url).map_err(|e| PgError::BadUrl {
            url: location.clone(),
            message: error_text(&e),
        })?;
        let connector =
            tls::Connector::new(&config, root_cert).map_err(|message| PgError::BadUrl {
                url: location.clone(),
                message,
            })?;
        let client = connector.connect(&config).map_err(|e| PgError::Connect {
            location: location.clone(),
            message: connect_error_text(&e),
        })?;
        Ok(PgRegister {
            config,
            connector,
            location,
            client: Mutex::new(client),
        })
    }

    /// Creates the schema if absent ([`schema`]), or checks the version of the one there.
    /// Idempotent, and safe when several processes run it at once.
    ///
    /// # Errors
    /// [`PgError::SchemaVersion`] for a schema of another version, [`PgError::Query`].
    pub fn create_schema(&self) -> Result<(), PgError> {
        let found = self.run("create the schema", |client| {
            let mut tx = client.transaction()?;
            // CREATE TABLE IF NOT EXISTS is not safe against itself run concurrently (both
            // may insert the type's catalog row): one creator at a time.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&schema::CREATE_LOCK])?;
            tx.batch_execute(schema::META)?;
            let found: Option<String> = tx
                .query_opt(
                    "SELECT value FROM sijil_meta WHERE name = $1",
                    &[&schema::VERSION_KEY],
                )?
                .map(|row| row.get(0));
            if found.is_none() {
                tx.batch_execute(schema::TABLES)?;
                tx.execute(
                    "INSERT INTO sijil_meta (name, value) VALUES ($1, $2)",
                    &[&schema::VERSION_KEY, &schema::VERSION.to_string()],
                )?;
            }
            tx.commit()?;
            Ok(found)
        })?;
        match found {
            Some(v) if v != schema::VERSION.to_string() => Err(PgError::SchemaVersion {
                location: self.location.clone(),
                found: v,
                supported: schema::VERSION,
            }),
            _ => Ok(()),
        }
    }

    /// Checks that the database holds a schema of the version this build reads: for commands
    /// that open an existing register.
    ///
    /// # Errors
    /// [`PgError::NoSchema`], [`PgError::SchemaVersion`], [`PgError::Query`].
    pub fn check_schema(&self) -> Result<(), PgError> {
        let found = self.run("read the schema version", |client| {
            let exists: bool = client
                .query_one("SELECT to_regclass('sijil_meta') IS NOT NULL", &[])?
                .get(0);
            if !exists {
                return Ok(None);
            }
            Ok(client
                .query_opt(
                    "SELECT value FROM sijil_meta WHERE name = $1",
                    &[&schema::VERSION_KEY],
                )?
                .map(|row| row.get::<_, String>(0)))
        })?;
        match found {
            None => Err(PgError::NoSchema {
                location: self.location.clone(),
            }),
            Some(v) if v != schema::VERSION.to_string() => Err(PgError::SchemaVersion {
                location: self.location.clone(),
                found: v,
                supported: schema::VERSION,
            }),
            Some(_) => Ok(()),
        }
    }

    /// A register setting (e.g. `publish`, the publication's destination), `None` if unset.
    ///
    /// # Errors
    /// [`PgError::Query`].
    pub fn setting(&self, name: &str) -> Result<Option<String>, PgError> {
        self.run("read a setting", |client| {
            Ok(client
                .query_typed_opt(
                    "SELECT value FROM sijil_meta WHERE name = $1",
                    &[(&name, Type::TEXT)],
                )?
                .map(|row| row.get(0)))
        })
    }

    /// Sets a register setting, replacing its value.
    ///
    /// # Errors
    /// [`PgError::ReservedSetting`] for `schema_version`, [`PgError::Query`].
    pub fn set_setting(&self, name: &str, value: &str) -> Result<(), PgError> {
        if name == schema::VERSION_KEY {
            return Err(PgError::ReservedSetting { name: name.into() });
        }
        self.run("write a setting", |client| {
            client.execute(
                "INSERT INTO sijil_meta (name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                &[&name, &value],
            )?;
            Ok(())
        })
    }

    /// The blobs stored and removed by the batches that took the log beyond `after`, up to
    /// `up_to` included (all batches for `None`), read in one snapshot.
    ///
    /// A writer that read a checkpoint of size `up_to` adopts exactly the batches up to it
    /// with this, not also those committed since. A blob removed and then stored again is in
    /// `added` only: the lists say what is present and what is absent at the end. Only the
    /// present is stored, not each size's state: a blob stored after `after` and removed
    /// after `up_to` is in neither list (its erasure is what a later adoption brings).
    ///
    /// # Errors
    /// [`PgError::Query`].
    pub fn changes_between(&self, after: u64, up_to: Option<u64>) -> Result<Changes, PgError> {
        let after = self.size_to_db(after)?;
        let up_to = up_to
            .map(|s| self.size_to_db(s))
            .transpose()?
            .unwrap_or(i64::MAX);
        self.run("read the changes", |client| {
            let mut tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let added = tx
                .query(
                    "SELECT path FROM sijil_files WHERE path LIKE 'blobs/%' \
                     AND size > $1 AND size <= $2 ORDER BY path",
                    &[&after, &up_to],
                )?
                .iter()
                .map(|row| row.get(0))
                .collect();
            // A blob stored again after its removal is present, so it is not listed as
            // removed; one stored after `up_to` is not seen as present yet.
            let removed = tx
                .query(
                    "SELECT DISTINCT r.path FROM sijil_removed r \
                     WHERE r.size > $1 AND r.size <= $2 AND NOT EXISTS \
                     (SELECT 1 FROM sijil_files f WHERE f.path = r.path AND f.size <= $2) \
                     ORDER BY r.path",
                    &[&after, &up_to],
                )?
                .iter()
                .map(|row| row.get(0))
                .collect();
            tx.commit()?;
            Ok(Changes { added, removed })
        })
    }

    /// The committed checkpoint and its size, `None` before the genesis batch.
    ///
    /// # Errors
    /// [`PgError::Query`], [`PgError::Corrupt`].
    pub fn latest_with_size(&self) -> Result<Option<(u64, Vec<u8>)>, PgError> {
        let row = self.run("read the checkpoint", |client| {
            Ok(client
                .query_typed_opt("SELECT size, checkpoint FROM sijil_log", &[])?
                .map(|row| (row.get::<_, i64>(0), row.get::<_, Vec<u8>>(1))))
        })?;
        row.map(|(size, cp)| Ok((self.size_from_db(size)?, cp)))
            .transpose()
    }

    /// Reads files by path (`None` for an absent one), in the order asked, with one query.
    ///
    /// # Errors
    /// [`PgError::Query`].
    pub fn files(&self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, PgError> {
        let mut found = self.stored(paths)?;
        // A partial tile a batch completed since the caller read its checkpoint was deleted
        // (see `superseded_partials`): its bytes are the full tile's first W hashes or
        // entries, as a c2sp.org/tlog-tiles client falling back to the full tile reads them.
        let missing: Vec<(&String, Tile)> = paths
            .iter()
            .filter(|p| !found.contains_key(*p))
            .filter_map(|p| Tile::parse_path(p).ok().map(|t| (p, t)))
            .filter(|(_, t)| t.width != FULL_WIDTH)
            .collect();
        if !missing.is_empty() {
            let full_paths: Vec<String> = missing
                .iter()
                .map(|(_, t)| {
                    Tile {
                        width: FULL_WIDTH,
                        ..*t
                    }
                    .path()
                })
                .collect();
            let fulls = self.stored(&full_paths)?;
            for ((path, tile), full_path) in missing.iter().zip(&full_paths) {
                if let Some(prefix) = fulls.get(full_path).and_then(|f| prefix_of_full(tile, f)) {
                    found.insert((*path).clone(), prefix.to_vec());
                }
            }
        }
        // A path asked twice gets its bytes twice: clone all but the last use.
        let mut remaining: HashMap<&str, usize> = HashMap::new();
        for p in paths {
            *remaining.entry(p.as_str()).or_default() += 1;
        }
        Ok(paths
            .iter()
            .map(|p| {
                let left = remaining.get_mut(p.as_str()).map(|n| {
                    *n -= 1;
                    *n
                });
                if left == Some(0) {
                    found.remove(p)
                } else {
                    found.get(p).cloned()
                }
            })
            .collect())
    }

    /// The stored files among `paths`, in one query.
    fn stored(&self, paths: &[String]) -> Result<HashMap<String, Vec<u8>>, PgError> {
        self.run("read files", |client| {
            Ok(client
                .query_typed(
                    "SELECT path, bytes FROM sijil_files WHERE path = ANY($1)",
                    &[(&paths, Type::TEXT_ARRAY)],
                )?
                .into_iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect())
        })
    }

    fn lock(&self) -> MutexGuard<'_, Client> {
        // A panic in another reader leaves at worst an aborted transaction, which dropping
        // it rolled back: the connection is still usable.
        self.client.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `op`, and once more on a new connection if the connection was lost.
    fn run<T>(
        &self,
        what: &'static str,
        mut op: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, PgError> {
        let mut client = self.lock();
        let query_error = |e: &postgres::Error| PgError::Query {
            location: self.location.clone(),
            what,
            message: error_text(e),
        };
        match op(&mut client) {
            Ok(v) => Ok(v),
            Err(e) if connection_lost(&client, &e) => {
                self.reconnect(&mut client, &e)?;
                op(&mut client).map_err(|e| query_error(&e))
            }
            Err(e) => Err(query_error(&e)),
        }
    }

    fn reconnect(&self, client: &mut Client, cause: &postgres::Error) -> Result<(), PgError> {
        tracing::warn!(
            location = %self.location,
            cause = %error_text(cause),
            "the connection to the commit point was lost: reconnecting"
        );
        *client = self
            .connector
            .connect(&self.config)
            .map_err(|e| PgError::Connect {
                location: self.location.clone(),
                message: format!(
                    "{} (after the connection was lost: {})",
                    connect_error_text(&e),
                    error_text(cause)
                ),
            })?;
        Ok(())
    }

    fn size_to_db(&self, size: u64) -> Result<i64, PgError> {
        i64::try_from(size).map_err(|_| PgError::Corrupt {
            location: self.location.clone(),
            message: format!("size {size} does not fit PostgreSQL's bigint"),
        })
    }

    fn size_from_db(&self, size: i64) -> Result<u64, PgError> {
        u64::try_from(size).map_err(|_| PgError::Corrupt {
            location: self.location.clone(),
            message: format!("sijil_log holds a negative size {size}"),
        })
    }

    fn unavailable(&self, e: &PgError) -> CommitPointError {
        CommitPointError::Unavailable {
            location: self.location.clone(),
            message: e.to_string(),
        }
    }

    /// One attempt at [`CommitPoint::commit`] on `client`. The statements of a commit (and of
    /// the reads every append makes) are sent with their parameters' types (`*_typed`): one
    /// round trip each, where an untyped statement is first prepared in a round trip of its
    /// own, which a loaded server answers in milliseconds.
    fn try_commit(&self, client: &mut Client, c: &Commit<'_>) -> Result<(), Failure> {
        let (old, new) = (
            self.size_to_db(c.old_size).map_err(Failure::Invalid)?,
            self.size_to_db(c.new_size).map_err(Failure::Invalid)?,
        );
        let paths: Vec<&str> = c.files.iter().map(|(p, _)| p.as_str()).collect();
        let bytes: Vec<&[u8]> = c.files.iter().map(|(_, b)| *b).collect();
        let superseded = superseded_partials(c.files);
        let mut tx = client.transaction().map_err(Failure::BeforeUpdate)?;
        // The whole batch in one statement, so that a commit is three round trips (BEGIN,
        // this, COMMIT) and not one per table. Its parts all read the snapshot taken before
        // it, and each writes only if the compare-and-swap (`swap`) did: a concurrent
        // committer blocks on the row lock of `sijil_log` until the first one commits, then
        // finds the size changed, and nothing of its batch is stored. A file stored before
        // with other bytes (`differs`) stops the swap itself. A blob the batch both stores
        // and removes ends absent, as removed.
        let statement = if c.old_size == 0 {
            GENESIS_COMMIT
        } else {
            NEXT_COMMIT
        };
        let row = tx
            .query_typed(
                statement,
                &[
                    (&new, Type::INT8),
                    (&c.checkpoint, Type::BYTEA),
                    (&old, Type::INT8),
                    (&paths, Type::TEXT_ARRAY),
                    (&bytes, Type::BYTEA_ARRAY),
                    (&superseded, Type::TEXT_ARRAY),
                    (&c.removed, Type::TEXT_ARRAY),
                ],
            )
            .map_err(Failure::AfterUpdate)?;
        let (swapped, differing): (i64, Option<String>) = row
            .first()
            .map_or((0, None), |row| (row.get(0), row.get(1)));
        if swapped != 1 {
            // Read again, after the swap's wait: a race lost is a conflict (the writer
            // adopts the winner's batch), whatever `differs` saw of the winner's files.
            let actual: Option<i64> = tx
                .query_opt("SELECT size FROM sijil_log", &[])
                .map_err(Failure::AfterUpdate)?
                .map(|row| row.get(0));
            let moved = if c.old_size == 0 {
                actual.is_some()
            } else {
                actual != Some(old)
            };
            if let (false, Some(path)) = (moved, differing) {
                return Err(Failure::Rejected(CommitPointError::Unavailable {
                    location: self.location.clone(),
                    message: format!(
                        "{path} is already stored with other bytes: refusing to replace it \
                         (nothing of the batch of size {} was stored)",
                        c.new_size
                    ),
                }));
            }
            let actual = self
                .size_from_db(actual.unwrap_or(0))
                .map_err(Failure::Invalid)?;
            return Err(Failure::Rejected(if c.old_size == 0 {
                CommitPointError::AlreadyExists {
                    location: self.location.clone(),
                    size: actual,
                }
            } else {
                CommitPointError::Conflict {
                    location: self.location.clone(),
                    expected: c.old_size,
                    actual,
                }
            }));
        }
        tx.commit().map_err(Failure::Commit)
    }

    /// Checks what the database cannot: the files of one batch name each path once (or
    /// with the same bytes), and erasures remove only blobs.
    fn check_batch(&self, c: &Commit<'_>) -> Result<(), CommitPointError> {
        let mut seen: HashMap<&str, &[u8]> = HashMap::with_capacity(c.files.len());
        for (path, bytes) in c.files {
            if let Some(before) = seen.insert(path.as_str(), bytes) {
                if before != *bytes {
                    return Err(CommitPointError::Unavailable {
                        location: self.location.clone(),
                        message: format!(
                            "the batch of size {} names {path} twice with different bytes",
                            c.new_size
                        ),
                    });
                }
            }
        }
        if let Some(bad) = c.removed.iter().find(|p| !p.starts_with("blobs/")) {
            return Err(CommitPointError::Unavailable {
                location: self.location.clone(),
                message: format!(
                    "the batch of size {} would remove {bad}: only blobs (blobs/<hex>) are ever removed",
                    c.new_size
                ),
            });
        }
        Ok(())
    }
}

/// A batch's commit as one statement (crates/postgres/README.md, "What a commit does"), around
/// `$swap`, the compare-and-swap: `$1` the new size, `$2` the checkpoint, `$3` the old size,
/// `$4`/`$5` the files' paths and bytes, `$6` the superseded partial tiles, `$7` the erased
/// blobs. Its parts all read the snapshot taken before it, and each writes only if `swap` did.
macro_rules! commit_statement {
    ($swap:literal) => {
        concat!(
            "WITH new (path, bytes) AS (SELECT * FROM unnest($4::text[], $5::bytea[])), ",
            "differs AS (SELECT n.path FROM new n JOIN sijil_files f ON f.path = n.path ",
            "WHERE f.bytes <> n.bytes LIMIT 1), ",
            "swap AS (",
            $swap,
            "), ",
            "checkpoint AS (INSERT INTO sijil_checkpoints (size, checkpoint) ",
            "SELECT $1, $2 FROM swap), ",
            "stored AS (INSERT INTO sijil_files (path, bytes, size) ",
            "SELECT n.path, n.bytes, $1 FROM new n, swap WHERE n.path <> ALL($7::text[]) ",
            "ON CONFLICT (path) DO NOTHING), ",
            "superseded AS (DELETE FROM sijil_files ",
            "WHERE path = ANY($6::text[]) AND EXISTS (SELECT 1 FROM swap)), ",
            "gone AS (DELETE FROM sijil_files ",
            "WHERE path = ANY($7::text[]) AND EXISTS (SELECT 1 FROM swap)), ",
            "removed AS (INSERT INTO sijil_removed (path, size) ",
            "SELECT p, $1 FROM unnest($7::text[]) AS p, swap) ",
            "SELECT (SELECT count(*) FROM swap), (SELECT path FROM differs)"
        )
    };
}

/// The genesis batch's commit: the log's one row inserted, unless there is one.
const GENESIS_COMMIT: &str = commit_statement!(
    "INSERT INTO sijil_log (one, size, checkpoint) \
     SELECT true, $1, $2 WHERE NOT EXISTS (SELECT 1 FROM differs) \
     ON CONFLICT (one) DO NOTHING RETURNING size"
);

/// Every later batch's commit: the log's row updated only from the size the writer signed on.
const NEXT_COMMIT: &str = commit_statement!(
    "UPDATE sijil_log SET size = $1, checkpoint = $2 \
     WHERE size = $3 AND NOT EXISTS (SELECT 1 FROM differs) RETURNING size"
);

/// How an attempt at a commit failed.
enum Failure {
    /// Before the compare-and-swap was sent: nothing can have been stored.
    BeforeUpdate(postgres::Error),
    /// At or after the compare-and-swap, before COMMIT: the server rolled back on its error;
    /// on a lost connection the outcome is reported as unknown.
    AfterUpdate(postgres::Error),
    /// COMMIT itself failed: the outcome cannot be known.
    Commit(postgres::Error),
    /// The commit point refused (conflict, existing register, other bytes): rolled back.
    Rejected(CommitPointError),
    /// Arguments or stored values out of range: rolled back.
    Invalid(PgError),
}

impl PgRegister {
    /// Stores the register directory `dir`, whose verified checkpoint is `checkpoint` (a new
    /// register, `sijil init`, or one migrated, `sijil migrate`), in this empty database as
    /// its first commit: every tile, bundle and text, and the checkpoint, the same bytes.
    ///
    /// # Errors
    /// [`CommitPointError::AlreadyExists`] (nothing stored), [`CommitPointError::Unavailable`]
    /// (also when a file of `dir` cannot be read).
    pub fn store_register(
        &mut self,
        dir: &std::path::Path,
        checkpoint: &sijil_core::SignedCheckpoint,
    ) -> Result<(), CommitPointError> {
        let files =
            sijil_core::commit::register_files(dir).map_err(|e| CommitPointError::Unavailable {
                location: self.location.clone(),
                message: e.to_string(),
            })?;
        let named: Vec<(String, &[u8])> = files
            .iter()
            .map(|(p, b)| (p.clone(), b.as_slice()))
            .collect();
        self.commit(&Commit {
            old_size: 0,
            new_size: checkpoint.checkpoint.size,
            checkpoint: &checkpoint.bytes,
            files: &named,
            removed: &[],
        })
    }
}

impl CommitPoint for PgRegister {
    fn describe(&self) -> String {
        self.location.clone()
    }

    fn latest(&mut self) -> Result<Option<Vec<u8>>, CommitPointError> {
        self.latest_with_size()
            .map(|l| l.map(|(_, cp)| cp))
            .map_err(|e| self.unavailable(&e))
    }

    fn get_many(&mut self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, CommitPointError> {
        self.files(paths).map_err(|e| self.unavailable(&e))
    }

    fn changes(&mut self, after: u64, up_to: u64) -> Result<Changes, CommitPointError> {
        self.changes_between(after, Some(up_to))
            .map_err(|e| self.unavailable(&e))
    }

    /// One transaction (crates/postgres/README.md, "What a commit does"); durable when it
    /// returns, on the synchronous standbys too if the server is configured with them. A
    /// connection lost before the compare-and-swap was sent is retried once on a new
    /// connection (a failover); after, the outcome is [`CommitPointError::Unknown`].
    fn commit(&mut self, commit: &Commit<'_>) -> Result<(), CommitPointError> {
        self.check_batch(commit)?;
        let location = self.location.clone();
        let unknown = |e: &postgres::Error| CommitPointError::Unknown {
            location: location.clone(),
            new_size: commit.new_size,
            message: error_text(e),
        };
        let unavailable = |e: &postgres::Error| CommitPointError::Unavailable {
            location: location.clone(),
            message: format!(
                "cannot commit the batch of size {}: {} (nothing was stored)",
                commit.new_size,
                error_text(e)
            ),
        };
        let mut client = self.lock();
        let mut retried = false;
        loop {
            match self.try_commit(&mut client, commit) {
                Ok(()) => return Ok(()),
                Err(Failure::Rejected(e)) => return Err(e),
                Err(Failure::Invalid(e)) => return Err(self.unavailable(&e)),
                Err(Failure::Commit(e)) => return Err(unknown(&e)),
                Err(Failure::AfterUpdate(e)) => {
                    return Err(if connection_lost(&client, &e) {
                        unknown(&e)
                    } else {
                        unavailable(&e)
                    })
                }
                Err(Failure::BeforeUpdate(e)) => {
                    if retried || !connection_lost(&client, &e) {
                        return Err(unavailable(&e));
                    }
                    retried = true;
                    self.reconnect(&mut client, &e)
                        .map_err(|e| self.unavailable(&e))?;
                }
            }
        }
    }
}

impl Source for PgRegister {
    fn describe(&self) -> String {
        self.location.clone()
    }

    /// `checkpoint` is the committed checkpoint; every other path a stored file. Files are
    /// stored in the transaction that commits their checkpoint, so none is ever beyond it.
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, SourceError> {
        let source_error = |e: PgError| SourceError {
            path: path.to_owned(),
            message: e.to_string(),
        };
        if path == "checkpoint" {
            return self
                .latest_with_size()
                .map(|l| l.map(|(_, cp)| cp))
                .map_err(source_error);
        }
        self.files(&[path.to_owned()])
            .map(|mut v| v.pop().flatten())
            .map_err(source_error)
    }

    fn list_blobs(&self) -> Result<Option<Vec<String>>, SourceError> {
        self.run("list the blobs", |client| {
            Ok(client
                .query(
                    "SELECT path FROM sijil_files WHERE path LIKE 'blobs/%' ORDER BY path",
                    &[],
                )?
                .iter()
                .map(|row| row.get(0))
                .collect())
        })
        .map(Some)
        .map_err(|e| SourceError {
            path: "blobs/".into(),
            message: e.to_string(),
        })
    }

    /// One query for all the files (and one for `checkpoint` if asked).
    fn get_many(&self, paths: &[String]) -> Vec<Result<Option<Vec<u8>>, SourceError>> {
        let checkpoint = paths
            .iter()
            .any(|p| p == "checkpoint")
            .then(|| self.get("checkpoint"));
        match self.files(paths) {
            Ok(found) => found
                .into_iter()
                .zip(paths)
                .map(|(file, path)| match (&checkpoint, path.as_str()) {
                    (Some(cp), "checkpoint") => cp.clone(),
                    _ => Ok(file),
                })
                .collect(),
            Err(e) => paths
                .iter()
                .map(|p| {
                    Err(SourceError {
                        path: p.clone(),
                        message: e.to_string(),
                    })
                })
                .collect(),
        }
    }
}

/// The partial tiles the full tiles among `files` supersede, which c2sp.org/tlog-tiles lets
/// a log delete ("MAY delete any partial tile once the corresponding full tile is
/// available"), as a directory register's writer does (DESIGN §3: "kept until the full tile
/// exists"). Kept, a log appended one entry at a
/// time would store every width of every bundle: some 13 MB of partial bundles for 256
/// entries of 400 bytes. Named exactly (widths 1-255) so each is one index lookup. Readers
/// still asking for one get it cut from the full tile ([`PgRegister::files`]).
fn superseded_partials(files: &[(String, &[u8])]) -> Vec<String> {
    files
        .iter()
        .filter_map(|(path, _)| Tile::parse_path(path).ok())
        .filter(|t| t.width == FULL_WIDTH)
        .flat_map(|t| (1..FULL_WIDTH).map(move |width| Tile { width, ..t }.path()))
        .collect()
}

/// Whether `e` means the connection is gone (a restart, a failover, a network cut) rather
/// than a statement refused by a live server.
fn connection_lost(client: &Client, e: &postgres::Error) -> bool {
    client.is_closed()
        || e.is_closed()
        || e.source().is_some_and(|s| s.is::<std::io::Error>())
        // Class 08: connection exception; 57P01-57P03: the server is shutting down or
        // starting (the FATAL a restart sends before it closes the connection).
        || e
            .code()
            .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
}

/// An error with its cause: the client's own Display names only the kind of error.
fn error_text(e: &postgres::Error) -> String {
    match (e.as_db_error(), e.source()) {
        (Some(db), _) => {
            let mut s = format!(
                "{}: {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            );
            if let Some(detail) = db.detail() {
                s.push_str(&format!("; {detail}"));
            }
            s
        }
        (None, Some(cause)) => format!("{e}: {cause}"),
        (None, None) => e.to_string(),
    }
}

/// [`error_text`] of a failed connection, with what to do when the server's certificate was
/// refused.
fn connect_error_text(e: &postgres::Error) -> String {
    match tls::hint(e) {
        Some(hint) => format!("{}; {hint}", error_text(e)),
        None => error_text(e),
    }
}

/// `url` without its password, for messages and [`CommitPoint::describe`]: the password of
/// a `postgres://user:password@…` URL, and any `password=` parameter or key.
pub fn redact(url: &str) -> String {
    let scheme = ["postgres://", "postgresql://"]
        .into_iter()
        .find(|s| url.starts_with(s));
    let Some(scheme) = scheme else {
        // key=value form.
        return url
            .split(' ')
            .map(|kv| {
                if kv.starts_with("password=") {
                    "password=***"
                } else {
                    kv
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
    };
    let rest = &url[scheme.len()..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, hosts) = authority.split_at(at);
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{user}{hosts}")
        }
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|kv| !kv.starts_with("password="))
                .collect();
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => tail.to_owned(),
    };
    format!("{scheme}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_passwords_and_keeps_the_rest() {
        for (url, want) in [
            (
                "postgres://sijil:s3cr%40t@db1:5432,db2:5433/reg?target_session_attrs=read-write",
                "postgres://sijil@db1:5432,db2:5433/reg?target_session_attrs=read-write",
            ),
            (
                "postgresql://u:p@h/d?password=x&sslmode=disable",
                "postgresql://u@h/d?sslmode=disable",
            ),
            ("postgres://h/d?password=x", "postgres://h/d"),
            ("postgres://u@h:1/d", "postgres://u@h:1/d"),
            ("postgres://u:p@h", "postgres://u@h"),
            (
                "host=h user=u password=secret dbname=d",
                "host=h user=u password=*** dbname=d",
            ),
        ] {
            assert_eq!(redact(url), want, "{url}");
        }
    }
}
