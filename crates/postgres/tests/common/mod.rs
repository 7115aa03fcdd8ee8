//! What the PostgreSQL tests share: a cluster, or the project's skip policy when the
//! binaries are absent (crates/core/tests/common/skip.rs: fail, or skip loudly with
//! SIJIL_ALLOW_SKIP=1, never in CI).

#![allow(dead_code)]

#[path = "../../../core/tests/common/skip.rs"]
mod skip;

use sijil_core::commit::Commit;
use sijil_postgres::cluster::{Cluster, ClusterError};
use sijil_postgres::PgRegister;

/// A started cluster in `dir`, or `None` (after saying SKIPPED on stderr) where PostgreSQL
/// is not installed and skipping is allowed.
pub fn cluster(dir: &std::path::Path) -> Option<Cluster> {
    match Cluster::start(dir) {
        Ok(c) => Some(c),
        Err(ClusterError::NoBinaries) => skip::missing(
            "PostgreSQL",
            "no initdb under /usr/lib/postgresql/*/bin or SIJIL_PG_BIN (scripts/test installs Debian's postgresql package)",
        ),
        Err(e) => panic!("cannot start a PostgreSQL cluster: {e}"),
    }
}

/// [`cluster`] with TLS on: `tls` is the server's certificate chain and key (PEM).
pub fn tls_cluster(dir: &std::path::Path, tls: (&str, &str)) -> Option<Cluster> {
    match Cluster::start_with_tls(dir, Some(tls)) {
        Ok(c) => Some(c),
        Err(ClusterError::NoBinaries) => skip::missing(
            "PostgreSQL",
            "no initdb under /usr/lib/postgresql/*/bin or SIJIL_PG_BIN (scripts/test installs Debian's postgresql package)",
        ),
        Err(e) => panic!("cannot start a PostgreSQL cluster with TLS: {e}"),
    }
}

/// A register with its schema on `cluster`.
pub fn register(url: &str) -> PgRegister {
    let r = PgRegister::connect(url).expect("connect");
    r.create_schema().expect("schema");
    r
}

/// A checkpoint-like note for size `n`; the commit point stores bytes, it does not parse them.
pub fn cp(n: u64, tag: &str) -> Vec<u8> {
    format!("example.org/register\n{n}\n{tag}\n\n— sig\n").into_bytes()
}

/// A batch from `old` to `new` with `files`.
pub fn batch<'a>(
    old: u64,
    new: u64,
    checkpoint: &'a [u8],
    files: &'a [(String, &'a [u8])],
    removed: &'a [String],
) -> Commit<'a> {
    Commit {
        old_size: old,
        new_size: new,
        checkpoint,
        files,
        removed,
    }
}

/// Rows of one column of a query, for looking below the API.
pub fn column_i64(cluster: &Cluster, sql: &str) -> Vec<i64> {
    let mut c = cluster.client().expect("client");
    c.query(sql, &[])
        .expect("query")
        .iter()
        .map(|r| r.get(0))
        .collect()
}
