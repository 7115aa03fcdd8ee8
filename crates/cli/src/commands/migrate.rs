//! `sijil migrate FROM TO` (issue 14): a register moved between a directory and a
//! PostgreSQL database, both ways, every entry, signature and the checkpoint identical, then
//! audited where it arrived as any reader would audit it.

use std::path::Path;

use sijil_register::audit::{audit, AuditOptions, DirSource, Source};
use sijil_register::{read_private_key, RegisterWriter};

use super::{location, register_failure};
use crate::flags::MigrateArgs;
use crate::output::{errln, outln};
use crate::Failure;

pub fn migrate(a: MigrateArgs) -> Result<(), Failure> {
    let (from, to) = (Path::new(&a.from), Path::new(&a.to));
    match (location::is_postgres(from), location::is_postgres(to)) {
        (false, true) => to_database(from, to),
        (true, false) => to_directory(from, to, a.log_key.as_deref()),
        _ => Err(Failure::usage(anyhow::anyhow!(
            "migrate copies a register between a directory and a postgres:// database: one of FROM and TO must be each"
        ))),
    }
}

/// A directory register into an empty database.
fn to_database(dir: &Path, url: &Path) -> Result<(), Failure> {
    // Under the register's lock, recovered and its edge checked: what is stored is exactly
    // the committed register, and no append runs meanwhile.
    let writer = RegisterWriter::open(dir, None).map_err(register_failure)?;
    let checkpoint = writer.checkpoint().clone();
    let verifier = writer.log_key().verifier();
    let mut pg = location::connect(&url.to_string_lossy())?;
    pg.create_schema()
        .map_err(|e| Failure::usage(anyhow::Error::new(e)))?;
    if sijil_core::commit::CommitPoint::latest(&mut pg)
        .map_err(|e| Failure::usage(anyhow::Error::new(e)))?
        .is_some()
    {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} already holds a register: migrate into an empty database",
            location::redacted(url)
        )));
    }
    pg.store_register(dir, &checkpoint)
        .map_err(|e| Failure::usage(anyhow::Error::new(e)))?;
    if let Some(dest) = sijil_publish::remembered(dir).map_err(Failure::usage)? {
        pg.set_setting(location::PUBLISH_SETTING, &dest)
            .map_err(|e| Failure::usage(anyhow::Error::new(e)))?;
    }
    drop(writer);
    errln!(
        "stored {} entries in {}; auditing it",
        checkpoint.checkpoint.size,
        location::redacted(url)
    );
    check_arrived(&pg, &verifier, &checkpoint, url)?;
    outln!(
        "migrated {} to {}: {} entries, the same checkpoint, audited. Writers now append with `sijil append {} --private DIR` (DIR/private/log.key: the log key, {})",
        dir.display(),
        location::redacted(url),
        checkpoint.checkpoint.size,
        location::redacted(url),
        dir.join("private/log.key").display()
    )?;
    Ok(())
}

/// A database register into a new directory, a register of its own with the log key given.
fn to_directory(url: &Path, dir: &Path, log_key: Option<&Path>) -> Result<(), Failure> {
    let key_file = log_key.ok_or_else(|| {
        Failure::usage(anyhow::anyhow!(
            "migrating out of a database needs the log key: give --log-key FILE"
        ))
    })?;
    let key = read_private_key(key_file).map_err(register_failure)?;
    let layout = sijil_core::storage::Layout::new(dir);
    if layout.checkpoint().exists() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} already holds a register: migrate into a new directory",
            dir.display()
        )));
    }
    let pg = location::connect(&url.to_string_lossy())?;
    let writer = RegisterWriter::open_at(dir, Some(key.clone()), Some(Box::new(pg)))
        .map_err(register_failure)?;
    let checkpoint = writer.checkpoint().clone();
    drop(writer);
    if !layout.log_key().exists() {
        sijil_core::durable::write_synced(
            &layout.log_key(),
            format!("{}\n", key.private_key_string()).as_bytes(),
            true,
        )
        .map_err(|e| Failure::usage(anyhow::Error::new(e)))?;
    }
    let pg = location::connect(&url.to_string_lossy())?;
    if let Some(dest) = pg
        .setting(location::PUBLISH_SETTING)
        .map_err(|e| Failure::usage(anyhow::Error::new(e)))?
    {
        sijil_publish::remember(dir, &dest).map_err(Failure::usage)?;
    }
    // The database may have moved on meanwhile: the directory is audited for its own
    // checkpoint, which must be one the database committed.
    check_arrived(&DirSource::new(dir), &key.verifier(), &checkpoint, dir)?;
    outln!(
        "migrated {} to {}: {} entries, the same checkpoint, audited",
        location::redacted(url),
        dir.display(),
        checkpoint.checkpoint.size
    )?;
    Ok(())
}

/// The register at `source` audits (every entry by the rules, every tile rebuilt) and its
/// checkpoint is, byte for byte, `expected`.
fn check_arrived(
    source: &dyn Source,
    verifier: &sijil_core::note::Verifier,
    expected: &sijil_core::SignedCheckpoint,
    at: &Path,
) -> Result<(), Failure> {
    let report = audit(source, verifier, AuditOptions::default(), &mut |_, _| {}).map_err(|e| {
        Failure::rejected(anyhow::Error::new(e).context(format!(
            "{} FAILED its audit after the migration",
            location::redacted(at)
        )))
    })?;
    if report.checkpoint.bytes != expected.bytes {
        return Err(Failure::rejected(anyhow::anyhow!(
            "{} serves a checkpoint of size {} that differs from the migrated one (size {})",
            location::redacted(at),
            report.checkpoint.checkpoint.size,
            expected.checkpoint.size
        )));
    }
    Ok(())
}
