//! A register LOCATION (issue 14): a directory, or a `postgres://…` database that is the
//! commit point of a register written from several machines. Each writer works on its own
//! local copy (`--private DIR`, a register directory whose `private/log.key` is the log key):
//! a batch is committed in the database by compare-and-swap on the log's size, then written
//! to the copy (`sijil_core::commit`).

use std::path::Path;

use sijil_core::note::Signer;
use sijil_postgres::PgRegister;
use sijil_register::RegisterWriter;

use super::publish::Publication;
use super::register_failure;
use crate::Failure;

/// Whether `location` names a PostgreSQL database rather than a directory.
pub fn is_postgres(location: &Path) -> bool {
    let s = location.to_string_lossy();
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// Connects to the register database at `url`.
pub fn connect(url: &str) -> Result<PgRegister, Failure> {
    PgRegister::connect(url).map_err(|e| Failure::usage(anyhow::Error::new(e)))
}

/// The local copy of a `postgres://` register: `--private DIR`, required.
pub fn private_dir<'a>(location: &Path, private: Option<&'a Path>) -> Result<&'a Path, Failure> {
    private.ok_or_else(|| {
        Failure::usage(anyhow::anyhow!(
            "{}: a register in PostgreSQL is written from a local copy: give --private DIR (DIR/private/log.key is the log key)",
            redacted(location)
        ))
    })
}

/// The location for messages, without a password.
pub fn redacted(location: &Path) -> String {
    sijil_postgres::redact(&location.to_string_lossy())
}

/// Opens the writer of the register at `location`: a directory's own, or for a database the
/// writer of this machine's copy `private`, caught up with the database (made from it if the
/// copy has no checkpoint yet). The publication the database remembers becomes the copy's.
pub fn open_writer(
    location: &Path,
    private: Option<&Path>,
    log_key: Option<Signer>,
) -> Result<RegisterWriter, Failure> {
    if !is_postgres(location) {
        return RegisterWriter::open(location, log_key).map_err(register_failure);
    }
    let copy = private_dir(location, private)?;
    let pg = connect(&location.to_string_lossy())?;
    let publish = pg
        .setting(PUBLISH_SETTING)
        .map_err(|e| Failure::usage(anyhow::Error::new(e)))?;
    let writer =
        RegisterWriter::open_at(copy, log_key, Some(Box::new(pg))).map_err(register_failure)?;
    if let Some(dest) = publish {
        let kept = sijil_publish::remembered(copy).map_err(Failure::usage)?;
        if kept.as_deref() != Some(dest.as_str()) {
            sijil_publish::remember(copy, &dest).map_err(Failure::usage)?;
        }
    }
    Ok(writer)
}

/// [`open_writer`], then (when `check`) its remembered publication checked before anything
/// is signed ([`Publication::check_writer`]). A copy of a database can be behind its publication
/// with nothing wrong: another writer committed and published between this copy's catching
/// up and the check. The copy is then caught up again and checked again, as long as the
/// database gives it more entries; only a publication ahead of the database itself (one
/// restored from an old backup) is refused.
pub fn open_checked(
    location: &Path,
    private: Option<&Path>,
    log_key: Option<Signer>,
    check: bool,
) -> Result<(RegisterWriter, Option<Publication>), Failure> {
    let mut w = open_writer(location, private, log_key.clone())?;
    if !check {
        return Ok((w, None));
    }
    let Some(p) = Publication::remembered(w.layout().root())? else {
        return Ok((w, None));
    };
    loop {
        match p.check_writer(&w) {
            Ok(_) => return Ok((w, Some(p))),
            Err(e) if is_postgres(location) && e.is_verification_failure() => {
                let before = w.size();
                // The copy's lock is released before it is opened again.
                drop(w);
                w = open_writer(location, private, log_key.clone())?;
                if w.size() <= before {
                    return Err(p.refusal(e));
                }
            }
            Err(e) => return Err(p.refusal(e)),
        }
    }
}

/// The database setting that holds where the register is published (`init --publish`).
pub const PUBLISH_SETTING: &str = "publish";

/// Whether `location` is read through a local replica (`--cache`): a register in a
/// database, or a publication in a bucket (`s3://…`).
pub fn is_replicated(location: &Path) -> bool {
    is_postgres(location) || location.to_string_lossy().starts_with("s3://")
}

/// This machine's replica of the register at `location` (`postgres://…`, or a publication
/// `s3://…`): the local copy in
/// `cache` (created if missing) brought up to the database, everything re-verified with
/// `verifier` (a replica trusts nothing it reads from the database), and its state along
/// with it, for the commands that read a register directory (`serve`, `show`, `stats`).
pub fn replica(
    location: &Path,
    cache: Option<&Path>,
    verifier: Option<sijil_core::note::Verifier>,
) -> Result<sijil_core::writer::Follower, Failure> {
    let cache = cache.ok_or_else(|| {
        Failure::usage(anyhow::anyhow!(
            "{}: a register in a database or a bucket is read from a local copy: give --cache DIR",
            redacted(location)
        ))
    })?;
    let verifier = verifier.ok_or_else(|| {
        Failure::usage(anyhow::anyhow!(
            "{}: give the log's verifier key (--key VKEY): nothing read from there is trusted without it",
            redacted(location)
        ))
    })?;
    let url = location.to_string_lossy();
    let point: Box<dyn sijil_core::commit::CommitPoint> = if url.starts_with("s3://") {
        Box::new(sijil_publish::source::PublicationSource::open(&url).map_err(Failure::usage)?)
    } else {
        Box::new(connect(&url)?)
    };
    if !sijil_core::storage::Layout::new(cache)
        .checkpoint()
        .exists()
    {
        crate::output::errln!(
            "sijil: copying {} into {} (every entry and text, verified; once)",
            redacted(location),
            cache.display()
        );
    }
    let bar = super::publish::progress_bar("entries");
    let follower =
        sijil_core::writer::Follower::open(cache, verifier, point, &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .map_err(|e| register_failure(e.into()));
    bar.finish_and_clear();
    let follower = follower?;
    sijil_register::keep_state(follower.layout(), follower.checkpoint())
        .map_err(register_failure)?;
    Ok(follower)
}

/// The directory a reading command (`show`, `stats`) reads for `location`: the directory
/// itself, or the replica of a database or a publication brought up to date in `cache`.
pub fn readable(
    location: &Path,
    cache: Option<&Path>,
    key: Option<&str>,
) -> Result<std::path::PathBuf, Failure> {
    if !is_replicated(location) {
        no_cache(location, cache)?;
        return Ok(location.to_path_buf());
    }
    let key = key.map(super::verifier_arg).transpose()?;
    Ok(replica(location, cache, key)?.layout().root().to_path_buf())
}

/// `--cache` given for a directory: refused, it would be ignored.
pub fn no_cache(location: &Path, cache: Option<&Path>) -> Result<(), Failure> {
    match cache {
        Some(_) => Err(Failure::usage(anyhow::anyhow!(
            "--cache is for a postgres:// register or an s3:// publication; {} is a directory, read as it is",
            location.display()
        ))),
        None => Ok(()),
    }
}
