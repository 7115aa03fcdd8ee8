//! The tables of a register in PostgreSQL (one register per database), created by
//! [`crate::PgRegister::create_schema`].
//!
//! - `sijil_log`: one row, the committed checkpoint and its size; every commit is a
//!   compare-and-swap on `size` (issue 14).
//! - `sijil_checkpoints`: every checkpoint ever committed. Its primary key makes two
//!   checkpoints of one size (a fork) impossible by construction.
//! - `sijil_files`: the hash tiles and entry bundles (c2sp.org/tlog-tiles paths, partial ones
//!   included) and the blobs (`blobs/<hex>`, docs/FORMAT.md §4), with the size of the log
//!   after the batch that stored them.
//! - `sijil_removed`: the blobs erasures removed, with the size of the batch that removed
//!   them, for writers that adopt the batches of others.
//! - `sijil_meta`: `schema_version`, and the register's settings (e.g. `publish`).

/// The version of the schema this build creates and reads.
pub const VERSION: u32 = 1;

/// The `sijil_meta` row holding [`VERSION`].
pub const VERSION_KEY: &str = "schema_version";

/// The advisory lock key that serialises schema creation ("sijil" in ASCII).
pub(crate) const CREATE_LOCK: i64 = 0x0073_696a_696c;

pub(crate) const META: &str =
    "CREATE TABLE IF NOT EXISTS sijil_meta (name text PRIMARY KEY, value text NOT NULL)";

pub(crate) const TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS sijil_log (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    size bigint NOT NULL CHECK (size >= 0),
    checkpoint bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS sijil_checkpoints (
    size bigint PRIMARY KEY CHECK (size >= 0),
    checkpoint bytea NOT NULL
);
-- Paths compare bytewise (COLLATE "C"), whatever the database's locale: sorted as a
-- directory lists them, and `LIKE 'blobs/%'` can use the primary key's index.
CREATE TABLE IF NOT EXISTS sijil_files (
    path text COLLATE "C" PRIMARY KEY,
    bytes bytea NOT NULL,
    size bigint NOT NULL
);
-- A writer adopting the batches after its size asks for the blobs they stored: without
-- this, a full scan of every tile and bundle.
CREATE INDEX IF NOT EXISTS sijil_files_blobs_by_size ON sijil_files (size)
    WHERE path LIKE 'blobs/%';
CREATE TABLE IF NOT EXISTS sijil_removed (
    path text COLLATE "C" NOT NULL,
    size bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS sijil_removed_by_size ON sijil_removed (size);
"#;
