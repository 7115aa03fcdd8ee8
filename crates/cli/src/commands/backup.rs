//! `sijil backup DIR DEST` and `sijil restore BACKUP DIR` (docs/OPERATIONS.md, "Backup and
//! restore").
//!
//! A backup is a mirror of the register (`sijil_client::mirror` from the register's own
//! directory): the publication copied up to the checkpoint read when the run starts, every
//! entry verified, the checkpoint written last, so appends may go on meanwhile (the files
//! below a checkpoint never change; a partial tile superseded meanwhile is read from its full
//! tile). The register's `private/` files (the log key) are copied beside it, into
//! `DEST/private/register/`, where no writer looks for them: a backup cannot be appended to
//! by mistake, and a later `sijil backup` (or `sijil mirror` from any copy) brings it forward.
//!
//! A restore copies a backup back the same way, then refuses to let the register sign if any
//! checkpoint it can find is larger than the backup's (`sijil_register::restore`).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sijil_client::mirror::{audit_dir, mirror, MirrorOptions};
use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::durable;
use sijil_core::merkle::tree_hash;
use sijil_core::note::Verifier;
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::TileHashReader;
use sijil_register::audit::{fetch_checkpoint, AuditOptions, DirSource};
use sijil_register::read_private_key;
use sijil_register::restore::{marker_path, read_marker_file, write_marker, Seen};

use super::remote::{client_failure, progress_bar, source};
use super::{now_ms, register_failure};
use crate::flags::{BackupArgs, RestoreArgs};
use crate::output::{errln, outln};
use crate::Failure;

/// Where a backup keeps the register's `private/` files.
const KEPT_PRIVATE: &str = "private/register";

/// Local state of a register that a copy must not take: the writer's lock, a batch's journal
/// and temporary files (they belong to a moment of the source, not to its checkpoint), the
/// view snapshot and the writer's state (rebuilt by the copy itself), a mirror's evidence, the kept
/// files of a backup. A restore marker is kept in a backup and read by a restore, which
/// writes its own.
fn not_copied(name: &str, restoring: bool) -> bool {
    matches!(
        name,
        "lock" | "pending" | "view.snapshot" | "state.redb" | "register" | "evidence"
    ) || name.ends_with(".new")
        || (restoring && name == "restored")
}

pub fn backup(a: BackupArgs) -> Result<(), Failure> {
    let layout = Layout::new(&a.dir);
    if !layout.checkpoint().is_file() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} is not a sijil register (no checkpoint file)",
            a.dir.display()
        )));
    }
    let verifier = read_private_key(&layout.log_key())
        .map_err(register_failure)?
        .verifier();
    // A batch committed during the copy may erase a text the copy's checkpoint still
    // shows (its blob is deleted at once): the copy then fails on that blob although
    // nothing is wrong. Copy again from the newer checkpoint, which includes the erasure.
    let mut attempts = 0;
    let report = loop {
        let before = layout.read_checkpoint().ok();
        match copy_log(&a.dir, &a.dest, &verifier) {
            Ok(r) => break r,
            Err(f) if attempts < 3 && layout.read_checkpoint().ok() != before => {
                attempts += 1;
                errln!(
                    "sijil: note: the register grew during the copy and the copy failed ({}); copying again",
                    crate::error_chain(&f.error)
                );
            }
            Err(f) => return Err(f),
        }
    };
    let kept = copy_private(&layout.private(), &a.dest.join(KEPT_PRIVATE), false)?;
    let cp = &report.checkpoint.checkpoint;
    outln!(
        "Backed up {} into {}: the log at size {} (root {}), {} new entries verified; {kept} private files (the log key among them) in {}. Keep it as secret as the server.",
        a.dir.display(),
        a.dest.display(),
        cp.size,
        cp.root,
        report.entries,
        a.dest.join(KEPT_PRIVATE).display()
    )?;
    Ok(())
}

pub fn restore(a: RestoreArgs) -> Result<(), Failure> {
    let kept = a.backup.join(KEPT_PRIVATE);
    let signer = read_private_key(&kept.join("log.key")).map_err(|e| {
        Failure::usage(anyhow::Error::new(e).context(format!(
            "{} is not a backup made by `sijil backup` (no {}/log.key)",
            a.backup.display(),
            KEPT_PRIVATE
        )))
    })?;
    let verifier = signer.verifier();
    // The backup itself, completely: a restore must not start from a damaged copy.
    let backed_up = audit_dir(&a.backup, &verifier).map_err(|e| {
        Failure::rejected(
            anyhow::Error::new(e)
                .context(format!("backup {} FAILED verification", a.backup.display())),
        )
    })?;

    // Every checkpoint this restore can find, before anything is changed.
    let mut seen: Vec<(Seen, Option<SignedCheckpoint>)> = Vec::new();
    let dir_layout = Layout::new(&a.dir);
    if dir_layout.checkpoint().is_file() {
        let at = dir_layout.checkpoint().display().to_string();
        seen.push(open_checkpoint_file(
            &dir_layout.checkpoint(),
            &verifier,
            &at,
        )?);
    }
    for marker in [marker_path(&dir_layout), kept.join("restored")] {
        // A marker's size was seen somewhere: it still counts.
        if let Some(s) = read_marker_file(&marker).map_err(register_failure)? {
            seen.push((s, None));
        }
    }
    for target in &a.check {
        seen.push(checkpoint_from(target, &verifier, &a)?);
    }
    if seen.is_empty() && !a.no_check {
        return Err(Failure::usage(anyhow::anyhow!(
            "nothing to check the backup against: name where the register's checkpoint can be seen (--check URL, a mirror's directory, a monitor's state file), or say --no-check"
        )));
    }
    // A checkpoint of the backup's size or smaller must be of the backup's own history.
    check_prefixes(&a.backup, &backed_up, &seen)?;
    let largest = seen
        .iter()
        .map(|(s, _)| s)
        .filter(|s| s.size > backed_up.size)
        .max_by_key(|s| s.size)
        .cloned();
    let accepted = match (&largest, a.accept_fork) {
        (Some(l), Some(n)) if n == l.size => true,
        (Some(l), Some(n)) => {
            return Err(Failure::usage(anyhow::anyhow!(
                "--accept-fork {n}: the largest checkpoint seen has size {} (at {}); name that size to accept signing from {} (nothing was restored)",
                l.size,
                l.at,
                backed_up.size
            )))
        }
        (None, Some(n)) => {
            return Err(Failure::usage(anyhow::anyhow!(
                "--accept-fork {n}: no checkpoint larger than the backup ({}) was seen; restore without it",
                backed_up.size
            )))
        }
        (_, None) => false,
    };

    // The register directory that was there is kept, moved aside, never deleted.
    let aside = move_aside(&a.dir)?;
    // The marker first: the register cannot be opened before the copy's checkpoint lands
    // (it is written last), and by then the marker is there.
    std::fs::create_dir_all(dir_layout.private())
        .with_context(|| format!("creating {}", dir_layout.private().display()))?;
    if let (Some(l), false) = (&largest, accepted) {
        write_marker(&dir_layout, l).map_err(register_failure)?;
    }
    let report = copy_log(&a.backup, &a.dir, &verifier)?;
    let files = copy_private(&kept, &dir_layout.private(), true)?;
    let size = report.checkpoint.checkpoint.size;
    if let Some(p) = &aside {
        errln!("sijil: note: the directory that was at {} is now {}; delete it once the restore is checked", a.dir.display(), p.display());
    }
    match (largest, accepted) {
        (Some(l), false) => Err(Failure::rejected(anyhow::anyhow!(
            "restored {} into {} at size {size} ({files} private files), but a checkpoint of size {} was seen at {}: the register refuses to sign until it has those entries. Bring the backup forward (`sijil mirror {} {} --key VKEY`) and restore again, or accept a fork with --accept-fork {} (docs/OPERATIONS.md, \"Backup and restore\")",
            a.backup.display(),
            a.dir.display(),
            l.size,
            l.at,
            l.at.trim_end_matches("/checkpoint"),
            a.backup.display(),
            l.size
        ))),
        (Some(l), true) => {
            errln!(
                "sijil: warning: signing will resume at size {size} although a checkpoint of size {} was seen at {}: the next entries fork the log; every verifier that saw size {} will report it",
                l.size, l.at, l.size
            );
            outln!("Restored {} into {} at size {size} ({files} private files); a fork was accepted.", a.backup.display(), a.dir.display())?;
            Ok(())
        }
        (None, _) => {
            outln!(
                "Restored {} into {} at size {size} ({files} private files). No checkpoint larger than it was seen ({} checked): signing may resume.",
                a.backup.display(),
                a.dir.display(),
                seen.len()
            )?;
            Ok(())
        }
    }
}

/// Refuses a restore into a fork: each checkpoint `seen` (with its signed note) that is not
/// larger than the backup must be a prefix of the backup's log, its root the root of the
/// backup's first `size` entries (RFC 9162 §2.1.1, `MTH(D[0:size])`). That root is computed
/// from the backup's hash tiles, each verified against the backup's checkpoint first
/// ([`TileHashReader`]); the restored log is a verified copy of those tiles, so this holds of
/// it too, and nothing is changed before it is known. The same size with another root, or a
/// smaller checkpoint whose root differs, means the log signed two histories: signing more
/// from the backup would only extend one of them (docs/OPERATIONS.md, "Restoring").
fn check_prefixes(
    backup: &Path,
    backed_up: &sijil_core::checkpoint::Checkpoint,
    seen: &[(Seen, Option<SignedCheckpoint>)],
) -> Result<(), Failure> {
    let tiles = TileHashReader::new(
        backed_up.size,
        backed_up.root,
        DirTiles::new(Layout::new(backup)),
    );
    for (s, cp) in seen {
        let Some(cp) = cp else { continue };
        let cp = &cp.checkpoint;
        if cp.size > backed_up.size || cp.size == 0 {
            continue;
        }
        let root = if cp.size == backed_up.size {
            backed_up.root
        } else {
            tree_hash(cp.size, &tiles).map_err(|e| {
                Failure::rejected(anyhow::anyhow!(
                    "backup {}: the root of its first {} entries could not be computed from its hash tiles: {e}; nothing was restored",
                    backup.display(),
                    cp.size
                ))
            })?
        };
        if root != cp.root {
            let what = if cp.size == backed_up.size {
                format!(
                    "has the backup's size {} but another root ({} vs the backup's {})",
                    cp.size, cp.root, root
                )
            } else {
                format!(
                    "(size {}, root {}) is not a prefix of the backup (size {}, root {}), whose first {} entries have root {}",
                    cp.size, cp.root, backed_up.size, backed_up.root, cp.size, root
                )
            };
            return Err(Failure::rejected(anyhow::anyhow!(
                "the checkpoint at {} {what}: two histories of this log exist; nothing was restored",
                s.at
            )));
        }
    }
    Ok(())
}

/// Copies the log published at `from` into `to`, verified, as `sijil mirror` does.
fn copy_log(
    from: &Path,
    to: &Path,
    verifier: &Verifier,
) -> Result<sijil_client::mirror::MirrorReport, Failure> {
    let src = DirSource::new(from);
    let opts = MirrorOptions {
        audit: AuditOptions::default(),
        witnesses: None,
        now_ms: now_ms(),
        evidence_dir: None,
    };
    let bar = progress_bar();
    let from_name = from.display().to_string();
    let result = mirror(&src, to, verifier, &opts, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    result.map_err(client_failure(&from_name))
}

/// Copies the files of `from` (recursively) into `to`, each fsynced with mode 0600, but not
/// the local state [`not_copied`] names. Returns how many.
fn copy_private(from: &Path, to: &Path, restoring: bool) -> Result<usize, Failure> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let mut n = 0;
    let entries = std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", from.display()))?;
        let name = entry.file_name();
        if not_copied(&name.to_string_lossy(), restoring) {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("reading {}", path.display()))?;
        if kind.is_dir() {
            n += copy_private(&path, &to.join(&name), restoring)?;
        } else if kind.is_file() {
            let bytes = durable::read(&path)?;
            durable::write_synced(&to.join(&name), &bytes, true)?;
            n += 1;
        }
    }
    durable::sync_dir(to)?;
    Ok(n)
}

/// Moves an existing `dir` to `DIR.before-restore-<unix seconds>`, holding its writer's lock
/// so that no writer is in the middle of a batch. `None` when there was nothing.
fn move_aside(dir: &Path) -> Result<Option<PathBuf>, Failure> {
    if !dir.exists() {
        return Ok(None);
    }
    let layout = Layout::new(dir);
    let _lock = if layout.private().is_dir() {
        Some(
            sijil_core::writer::lock_exclusive(&layout.lock()).map_err(|e| {
                Failure::usage(anyhow::Error::new(e).context(format!(
                    "{} is in use (stop its sequencer or append first)",
                    dir.display()
                )))
            })?,
        )
    } else {
        None
    };
    let stamp = now_ms() / 1000;
    // Two restores in the same second (a script, a test) each keep their own.
    let aside = (0..)
        .map(|i| {
            let mut name = dir.as_os_str().to_owned();
            name.push(match i {
                0 => format!(".before-restore-{stamp}"),
                i => format!(".before-restore-{stamp}-{i}"),
            });
            PathBuf::from(name)
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| dir.with_extension("before-restore"));
    durable::rename(dir, &aside)?;
    Ok(Some(aside))
}

/// A signed checkpoint in a file (the register's own, a monitor's or a verifier's state).
fn open_checkpoint_file(
    path: &Path,
    verifier: &Verifier,
    at: &str,
) -> Result<(Seen, Option<SignedCheckpoint>), Failure> {
    let bytes = durable::read(path)?;
    let cp = SignedCheckpoint::open(&bytes, verifier).map_err(|e| {
        Failure::rejected(anyhow::anyhow!(
            "{at}: not a checkpoint of this backup's log (the key in the backup does not verify it: {e}); nothing was restored"
        ))
    })?;
    Ok((
        Seen {
            size: cp.checkpoint.size,
            at: at.to_string(),
        },
        Some(cp),
    ))
}

/// The checkpoint a `--check` names: an http(s) URL or a directory serving the register, or
/// a file holding a signed checkpoint.
fn checkpoint_from(
    target: &str,
    verifier: &Verifier,
    a: &RestoreArgs,
) -> Result<(Seen, Option<SignedCheckpoint>), Failure> {
    if Path::new(target).is_file() {
        return open_checkpoint_file(Path::new(target), verifier, target);
    }
    let (src, _client) = source(target, &a.net)?;
    let cp = fetch_checkpoint(src.as_ref(), verifier).map_err(|e| {
        Failure::usage(anyhow::Error::new(e).context(format!(
            "--check {target}: no checkpoint of this log could be read; nothing was restored"
        )))
    })?;
    Ok((
        Seen {
            size: cp.checkpoint.size,
            at: target.to_string(),
        },
        Some(cp),
    ))
}
