//! `sijil init` and `sijil keygen`.

use anyhow::Context as _;
use sijil_core::durable;
use sijil_core::note::Signer;
use sijil_register::{init as init_register, read_private_key, InitOptions};

use super::now_ms;
use crate::flags::{InitArgs, KeygenArgs};
use crate::Failure;

pub fn init(a: InitArgs) -> Result<(), Failure> {
    let log_key = a.log_key.as_deref().map(read_private_key).transpose()?;
    let officer_key = a.officer_key.as_deref().map(read_private_key).transpose()?;
    let given_officer_key = officer_key.is_some();
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
    let key_path = match (&a.officer_key, a.officer_key_out) {
        (Some(given), _) => given.clone(),
        (None, out) => {
            out.unwrap_or_else(|| a.dir.join("private").join(format!("{}.key", a.officer)))
        }
    };
    if !given_officer_key {
        write_new_secret(&key_path, &report.officer)?;
    }
    eprintln!(
        "created register {} (size 1: the genesis entry)",
        a.dir.display()
    );
    eprintln!(
        "log private key:     {}",
        a.dir.join("private/log.key").display()
    );
    eprintln!(
        "officer private key: {} (admin {:?}; keep it off the server)",
        key_path.display(),
        a.officer
    );
    eprintln!("log verifier key (give it to verifiers and mirrors):");
    println!("{}", report.log_verifier);
    Ok(())
}

pub fn keygen(a: KeygenArgs) -> Result<(), Failure> {
    if a.cosigner {
        let cosigner = sijil_core::cosignature::Cosigner::generate(&a.name)
            .map_err(|e| Failure::usage(anyhow::anyhow!("key name {:?}: {e}", a.name)))?;
        write_new_key_text(&a.out, &cosigner.private_key_string())?;
        eprintln!(
            "private cosigner key written to {} (mode 0600)",
            a.out.display()
        );
        println!("verifier key: {}", cosigner.verifier());
        return Ok(());
    }
    let signer = Signer::generate(&a.name)
        .map_err(|e| Failure::usage(anyhow::anyhow!("key name {:?}: {e}", a.name)))?;
    write_new_secret(&a.out, &signer)?;
    eprintln!("private key written to {} (mode 0600)", a.out.display());
    println!("verifier key: {}", signer.verifier());
    println!("public key:   {}", hex::encode(signer.public_key()));
    Ok(())
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
