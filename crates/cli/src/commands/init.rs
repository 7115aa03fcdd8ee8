//! `sijil init` and `sijil keygen`.

use anyhow::Context as _;
use sijil_core::durable;
use sijil_core::note::Signer;
use sijil_register::{init as init_register, read_private_key, InitOptions};

use super::publish::Publication;
use super::{location, now_ms};
use crate::flags::{InitArgs, KeygenArgs};
use crate::output::{errln, try_print};
use crate::{Failure, EXIT_COMMITTED};

pub fn init(mut a: InitArgs) -> Result<(), Failure> {
    // A register in PostgreSQL is made as a directory (this machine's copy), then stored in
    // the empty database as its first commit.
    let database = if location::is_postgres(&a.dir) {
        let copy = location::private_dir(&a.dir, a.private.as_deref())?.to_path_buf();
        let pg = location::connect(&a.dir.to_string_lossy())?;
        pg.create_schema()
            .map_err(|e| Failure::usage(anyhow::Error::new(e)))?;
        if let Some((size, _)) = pg
            .latest_with_size()
            .map_err(|e| Failure::usage(anyhow::Error::new(e)))?
        {
            return Err(Failure::usage(anyhow::anyhow!(
                "{} already holds a register (of size {size}); a register is created in an empty database",
                location::redacted(&a.dir)
            )));
        }
        let url = std::mem::replace(&mut a.dir, copy);
        Some((pg, url))
    } else {
        if a.private.is_some() {
            return Err(Failure::usage(anyhow::anyhow!(
                "--private is for a postgres:// register; {} is a directory",
                a.dir.display()
            )));
        }
        None
    };
    let log_key = a.log_key.as_deref().map(read_private_key).transpose()?;
    let officer_key = a.officer_key.as_deref().map(read_private_key).transpose()?;
    let given_officer_key = officer_key.is_some();
    // A destination that cannot be used is found before anything is created.
    if let Some(dest) = &a.publish {
        let inside = !dest.contains("://")
            && matches!(
                (std::path::absolute(dest), std::path::absolute(&a.dir)),
                (Ok(d), Ok(r)) if d.starts_with(&r)
            );
        if inside {
            return Err(Failure::usage(anyhow::anyhow!(
                "--publish {dest}: inside the register {}; publish to another directory",
                a.dir.display()
            )));
        }
        sijil_publish::Destination::parse(dest).map_err(Failure::usage)?;
    }
    let report = init_register(
        &a.dir,
        InitOptions {
            origin: a.origin,
            title: a.title,
            authority: a.authority,
            officer_name: a.officer.clone(),
            now_ms: now_ms(),
            log_key,
            officer_key,
        },
    )?;
    if let Some((mut pg, url)) = database {
        let copy = a.dir.clone();
        let stored = pg
            .store_register(&copy, &report.checkpoint)
            .map_err(|e| Failure::usage(anyhow::Error::new(e)))
            .and_then(|()| match &a.publish {
                Some(dest) => pg
                    .set_setting(location::PUBLISH_SETTING, dest)
                    .map_err(|e| Failure::usage(anyhow::Error::new(e))),
                None => Ok(()),
            });
        if let Err(f) = stored {
            return Err(Failure {
                code: f.code,
                error: f.error.context(format!(
                    "the local copy {} was made but the register could not be stored in {}: remove the copy before trying again",
                    copy.display(),
                    location::redacted(&url)
                )),
            });
        }
        errln!(
            "stored in {} (the commit point); this machine's copy is {}",
            location::redacted(&url),
            copy.display()
        );
    }
    let key_path = match (&a.officer_key, a.officer_key_out) {
        (Some(given), _) => given.clone(),
        (None, out) => {
            out.unwrap_or_else(|| a.dir.join("private").join(format!("{}.key", a.officer)))
        }
    };
    if !given_officer_key {
        write_new_secret(&key_path, &report.officer)?;
    }
    errln!(
        "created register {} (size 1: the genesis entry)",
        a.dir.display()
    );
    errln!(
        "log private key:     {}",
        a.dir.join("private/log.key").display()
    );
    errln!(
        "officer private key: {} (admin {:?}, mode 0600)",
        key_path.display(),
        a.officer
    );
    if key_path.starts_with(a.dir.join("private")) {
        // The default keeps `init` one command; an officer's key on the server is a key
        // anyone who takes the server holds (README, "Keys").
        errln!(
            "  it is on the register's machine: move it to {:?}'s own machine (then sign with `sijil submit`), or give --officer-key-out next time",
            a.officer
        );
    }
    errln!(
        "log verifier key, on standard output (save it as a .vkey file, e.g. {}.vkey, and give it to verifiers and mirrors):",
        a.dir
            .file_name()
            .map_or_else(|| "register".into(), |n| n.to_string_lossy())
    );
    let printed = try_print(format_args!("{}\n", report.log_verifier)).map_err(|e| {
        written_but(
            e,
            format!(
                "the register {} IS created, but its verifier key could not be written to standard output (`sijil show {}` prints it)",
                a.dir.display(),
                a.dir.display()
            ),
        )
    });
    match &a.publish {
        Some(dest) => printed.and(publish_genesis(&a.dir, dest)),
        None => printed,
    }
}

/// `init --publish DEST`: remembers DEST (docs/OPERATIONS.md, "Publishing to object storage")
/// and publishes the genesis there. The register exists either way: a failure here is exit 4,
/// and `sijil publish DIR` finishes it.
fn publish_genesis(dir: &std::path::Path, dest: &str) -> Result<(), Failure> {
    let created = |e: anyhow::Error, what: &str| Failure {
        code: EXIT_COMMITTED,
        error: e.context(format!(
            "the register {} IS created, but {what}",
            dir.display()
        )),
    };
    let kept = sijil_publish::remember(dir, dest)
        .map_err(|e| created(e.into(), "its publication destination could not be remembered (`sijil publish DIR DEST --remember` does it)"))?;
    let publication = Publication::remembered(dir)
        .map_err(|f| created(f.error, "its publication destination could not be opened"))?;
    let Some(publication) = publication else {
        return Ok(());
    };
    let report = publication.publish(dir).map_err(|e| {
        created(
            e.into(),
            &format!("its first publication to {kept} failed (`sijil publish {}` publishes it; every command that commits checks {kept} first)", dir.display()),
        )
    })?;
    errln!(
        "published to {kept} (size {}); every commit is published there",
        report.checkpoint.checkpoint.size
    );
    Ok(())
}

pub fn keygen(a: KeygenArgs) -> Result<(), Failure> {
    if a.cosigner {
        let cosigner = sijil_core::cosignature::Cosigner::generate(&a.name)
            .map_err(|e| Failure::usage(anyhow::anyhow!("key name {:?}: {e}", a.name)))?;
        write_new_key_text(&a.out, &cosigner.private_key_string())?;
        errln!(
            "private cosigner key written to {} (mode 0600)",
            a.out.display()
        );
        return try_print(format_args!("verifier key: {}\n", cosigner.verifier())).map_err(|e| {
            written_but(
                e,
                format!(
                    "the key IS written to {}, but its verifier key could not be written to standard output",
                    a.out.display()
                ),
            )
        });
    }
    let signer = Signer::generate(&a.name)
        .map_err(|e| Failure::usage(anyhow::anyhow!("key name {:?}: {e}", a.name)))?;
    write_new_secret(&a.out, &signer)?;
    errln!("private key written to {} (mode 0600)", a.out.display());
    try_print(format_args!(
        "verifier key: {}\npublic key:   {}\n",
        signer.verifier(),
        hex::encode(signer.public_key())
    ))
    .map_err(|e| {
        written_but(
            e,
            format!(
                "the key IS written to {}, but its verifier key could not be written to standard output",
                a.out.display()
            ),
        )
    })
}

/// A failed write to standard output after a file was created: quiet for a closed pipe (the
/// reader did not want it), otherwise exit 2 with `what` (what exists now) and the error.
fn written_but(e: std::io::Error, what: String) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::stdout_closed()
    } else {
        Failure::usage(anyhow::anyhow!("{what}: {e}"))
    }
}

/// Writes a private key to a new file with mode 0600; refuses to overwrite one.
fn write_new_secret(path: &std::path::Path, signer: &Signer) -> Result<(), Failure> {
    write_new_key_text(path, &signer.private_key_string())
}

/// Writes a private key string to a new file with mode 0600; refuses to overwrite one.
fn write_new_key_text(path: &std::path::Path, key: &str) -> Result<(), Failure> {
    if path.exists() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} already exists; not overwriting a key",
            path.display()
        )));
    }
    let text = format!("{key}\n");
    durable::write_synced(path, text.as_bytes(), true)
        .with_context(|| format!("writing key {}", path.display()))?;
    Ok(())
}
