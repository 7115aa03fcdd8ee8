//! `sijil officers` (the officers' keys over time) and `sijil officers rotate`.

use anyhow::anyhow;
use sijil_client::officers::{fetch_officers, verify_officers_answer};
use sijil_client::state::StateDir;
use sijil_client::verify::{verify as verify_remote, Previous, VerifyOptions};
use sijil_core::event::{Event, Officer, OfficerAuthorized, OfficerRevoked, PublicKey, Role};
use sijil_projector::OfficerRecord;
use sijil_register::{read_private_key, Draft, RegisterReader};

use super::append::{as_entries, events};
use super::publish;
use super::remote::{client_failure, source, witness_policy};
use super::verify::state_dir_arg;
use super::{now_ms, register_failure, verifier_arg};
use crate::flags::{OfficersAction, OfficersArgs, RotateArgs};
use crate::output::{errln, outln};
use crate::Failure;

pub fn officers(mut a: OfficersArgs) -> Result<(), Failure> {
    if let Some(OfficersAction::Rotate(r)) = a.action.take() {
        return rotate(r);
    }
    // clap requires LOCATION when there is no subcommand.
    let Some(loc) = a.location.clone() else {
        return Err(Failure::usage(anyhow!(
            "the register (a directory or a URL) is missing"
        )));
    };
    if sijil_client::http::is_url(&loc) {
        return list_remote(&a, &loc);
    }
    if a.key.is_some() || a.state_dir.is_some() || !a.witnesses.witness.is_empty() {
        return Err(Failure::usage(anyhow!(
            "{loc}: --key, --state-dir and --witness are for a register's URL; a directory is read as it is (`sijil verify DIR --key VKEY` verifies it)"
        )));
    }
    list(std::path::Path::new(&loc), a.json)
}

/// When and by whom an entry was signed, for the listing.
#[derive(serde::Serialize)]
struct Signed {
    seq: u64,
    recorded_at_utc: String,
    /// The signing officer's name (the log key signs no officer event).
    by: Option<String>,
}

#[derive(serde::Serialize)]
struct Listed<'a> {
    name: &'a str,
    role: Role,
    key: String,
    active: bool,
    authorized: Signed,
    revoked: Option<Revoked>,
}

#[derive(serde::Serialize)]
struct Revoked {
    #[serde(flatten)]
    at: Signed,
    reason: String,
}

/// `sijil officers DIR`: the register's view of its officers, as the directory holds it.
fn list(dir: &std::path::Path, json: bool) -> Result<(), Failure> {
    let reg = RegisterReader::open(dir, None).map_err(register_failure)?;
    let view = reg.view();
    let entry = |seq: u64| -> Result<(i64, PublicKey), Failure> {
        let entries = reg.entries(seq, seq + 1).map_err(register_failure)?;
        let e = &entries
            .first()
            .ok_or_else(|| anyhow!("entry {seq} is missing from the register"))?
            .entry;
        Ok((e.recorded_at, e.signer))
    };
    print_list(view.officers(), entry, json)
}

/// `sijil officers URL --key VKEY`: the checkpoint verified as `sijil verify URL` verifies it,
/// then the officers rebuilt from the register's own entries, proven complete as of it
/// (sijil_client::officers). The listing is the directory's, on standard output; what was
/// verified is said on standard error.
fn list_remote(a: &OfficersArgs, url: &str) -> Result<(), Failure> {
    let key = a.key.as_deref().ok_or_else(|| {
        Failure::usage(anyhow!(
            "{url}: --key VKEY is needed to verify what the server answers (the log's verifier key, or @FILE)"
        ))
    })?;
    let verifier = verifier_arg(key)?;
    let state_dir = state_dir_arg(a.state_dir.clone())?;
    let state = StateDir::new(&state_dir);
    let (src, client) = source(url, &a.net)?;
    let client = client.ok_or_else(|| Failure::usage(anyhow!("{url}: not an http(s) URL")))?;
    let opts = VerifyOptions {
        spot_checks: 4,
        witnesses: witness_policy(&a.witnesses)?,
        now_ms: now_ms(),
        evidence_dir: a.evidence_dir.clone().unwrap_or_else(|| state_dir.clone()),
    };
    let verify =
        || verify_remote(src.as_ref(), &verifier, &state, &opts).map_err(client_failure(url));
    let mut report = verify()?;
    // If the server moved on between the two reads, verify its newer checkpoint (consistent
    // with the one just verified) and ask again.
    let mut attempt = 0;
    let proven = loop {
        let answer = fetch_officers(&client, url).map_err(client_failure(url))?;
        // The key that signs the checkpoint: the one given, or the one its rotations lead to.
        match verify_officers_answer(&answer, &report.checkpoint, &report.log_key) {
            Ok(v) => break v,
            Err(sijil_client::Error::Stale { .. }) if attempt < 2 => {
                attempt += 1;
                report = verify()?;
            }
            Err(e) => {
                return Err(Failure::rejected(
                    anyhow::Error::new(e).context(format!("{url} FAILED verification")),
                ))
            }
        }
    };
    let entry = |seq: u64| -> Result<(i64, PublicKey), Failure> {
        let e = proven.entries.get(&seq).ok_or_else(|| {
            Failure::rejected(anyhow!(
                "{url}: entry {seq} names an officer but is not among the register's own entries"
            ))
        })?;
        Ok((e.entry.recorded_at, e.entry.signer))
    };
    print_list(&proven.officers, entry, a.json)?;
    errln!(
        "sijil: verified: the checkpoint of size {} signed by {verifier} ({}), and the register's {} own entries (its opening, the authorizations and revocations): each proven in it and signed, all of them (index proof), each signed by an admin in office",
        proven.size,
        match &report.previous {
            Previous::FirstVisit => "first visit: trusted on first use",
            Previous::Same => "unchanged since the last one verified",
            Previous::Grew { .. } => "consistent with the last one verified",
        },
        proven.entries.len()
    );
    Ok(())
}

/// Prints `officers` (a view's records), `entry(seq)` giving when an entry was recorded and
/// its signer's key: the same listing for a directory and a URL.
fn print_list(
    officers: &[OfficerRecord],
    entry: impl Fn(u64) -> Result<(i64, PublicKey), Failure>,
    json: bool,
) -> Result<(), Failure> {
    let signed = |seq: u64| -> Result<Signed, Failure> {
        let (recorded_at, signer) = entry(seq)?;
        Ok(Signed {
            seq,
            recorded_at_utc: utc(recorded_at),
            by: officers
                .iter()
                .find(|o| o.key == signer)
                .map(|o| o.name.clone()),
        })
    };
    let mut listed = Vec::new();
    for o in officers {
        listed.push(Listed {
            name: &o.name,
            role: o.role,
            key: o.key.to_string(),
            active: o.is_active(),
            authorized: signed(o.authorized_at)?,
            revoked: match &o.revocation {
                Some(r) => Some(Revoked {
                    at: signed(r.seq)?,
                    reason: r.reason.clone(),
                }),
                None => None,
            },
        });
    }
    if json {
        outln!("{}", serde_json::to_string_pretty(&listed)?)?;
        return Ok(());
    }
    let active = listed.iter().filter(|o| o.active).count();
    outln!(
        "{} officer key{} ever authorized, {active} active:",
        listed.len(),
        if listed.len() == 1 { "" } else { "s" }
    )?;
    for o in &listed {
        let at = |s: &Signed| {
            format!(
                "entry {}, {}, by {}",
                s.seq,
                s.recorded_at_utc,
                s.by.as_deref().unwrap_or("(unknown key)")
            )
        };
        outln!(
            "\n{} ({}){}",
            o.name,
            role_name(o.role),
            if o.active { "" } else { ", revoked" }
        )?;
        outln!("  key         {}", o.key)?;
        outln!("  authorized  {}", at(&o.authorized))?;
        if let Some(r) = &o.revoked {
            outln!("  revoked     {}: {}", at(&r.at), r.reason)?;
        }
    }
    Ok(())
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Admin => "admin",
        Role::Clerk => "clerk",
    }
}

/// A `recorded_at` as `YYYY-MM-DD HH:MM UTC`.
fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// The officer's one current key, or why there is none to rotate.
fn current<'a>(officers: &'a [OfficerRecord], name: &str) -> Result<&'a OfficerRecord, Failure> {
    let keys: Vec<&OfficerRecord> = officers
        .iter()
        .filter(|o| o.name == name && o.is_active())
        .collect();
    match keys.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut names: Vec<&str> = officers
                .iter()
                .filter(|o| o.is_active())
                .map(|o| o.name.as_str())
                .collect();
            names.dedup();
            Err(Failure::rejected(anyhow!(
                "{name:?} is not a current officer of this register (current officers: {}); nothing was written",
                names.join(", ")
            )))
        }
        many => Err(Failure::rejected(anyhow!(
            "{name:?} has {} current keys ({}); revoke the ones not in use with an OfficerRevoked event, then rotate; nothing was written",
            many.len(),
            many.iter()
                .map(|o| o.key.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// `--new-key`: 64 hex digits, or a file holding them or a private key.
fn new_key(arg: &str) -> Result<PublicKey, Failure> {
    let hex_key = |s: &str| -> Option<PublicKey> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut out).ok()?;
        Some(PublicKey(out))
    };
    if let Some(k) = hex_key(arg) {
        return Ok(k);
    }
    let path = std::path::Path::new(arg);
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::usage(anyhow!(
            "--new-key {arg}: not 64 hex digits, and not a readable file: {e}"
        ))
    })?;
    if let Some(k) = hex_key(&text) {
        return Ok(k);
    }
    let signer = read_private_key(path).map_err(|e| {
        Failure::usage(anyhow!(
            "--new-key {arg}: neither a public key in hex nor a private key file: {e}"
        ))
    })?;
    Ok(PublicKey(signer.public_key()))
}

fn rotate(a: RotateArgs) -> Result<(), Failure> {
    let admin = read_private_key(&a.key).map_err(register_failure)?;
    let log_key = a
        .log_key
        .as_deref()
        .map(read_private_key)
        .transpose()
        .map_err(register_failure)?;
    let new = new_key(&a.new_key)?;
    // Under the lock, before anything is signed: never sign behind the publication.
    let (mut w, publication) =
        super::location::open_checked(&a.dir, a.private.as_deref(), log_key, !a.dry_run)?;
    let before = w.size();
    let old = current(&w.register_head().officers, &a.officer)?;
    let (old_key, role) = (old.key, old.role);
    if old_key.0 == admin.public_key() {
        return Err(Failure::rejected(anyhow!(
            "the key of {:?} signs this batch, and a key cannot sign its own revocation: rotate it with another admin's key; nothing was written",
            a.officer
        )));
    }
    if old_key == new {
        return Err(Failure::usage(anyhow!(
            "--new-key is {:?}'s current key; give the new one",
            a.officer
        )));
    }
    // The new key first: the officer is never without a key between the two entries.
    let drafts = vec![
        Draft::new(
            None,
            Event::OfficerAuthorized(OfficerAuthorized {
                officer: Officer {
                    key: new,
                    name: a.officer.clone(),
                    role,
                },
            }),
        ),
        Draft::new(
            None,
            Event::OfficerRevoked(OfficerRevoked {
                key: old_key,
                reason: a.reason.clone(),
            }),
        ),
    ];
    let (seqs, size, dry) = if a.dry_run {
        let (seqs, size) = w
            .check_append(drafts, &admin, now_ms(), None)
            .map_err(register_failure)?;
        (seqs, size, true)
    } else {
        let report = w
            .append(drafts, &admin, now_ms(), None)
            .map_err(register_failure)?;
        (report.seqs, report.checkpoint.checkpoint.size, false)
    };
    // Committed (unless a dry run): a closed output is not worth an error any more.
    if a.json {
        let _ = outln!(
            "{}",
            serde_json::json!({
                "dry_run": dry,
                "officer": a.officer,
                "authorized": { "key": new.to_string(), "seq": seqs.start },
                "revoked": { "key": old_key.to_string(), "seq": seqs.start + 1 },
                "tree_size": size,
            })
        );
    } else {
        let _ = outln!(
            "{} {}'s key: the new key {new} is authorized and the old key {old_key} revoked ({} {}); the log {} {size} entries.{}",
            if dry { "Dry run: would rotate" } else { "Rotated" },
            a.officer,
            events(2),
            as_entries(&seqs),
            if dry { "would then have" } else { "now has" },
            if dry { " Nothing was written." } else { "" }
        );
    }
    if !dry {
        w.flush_snapshot();
    }
    publish::after(publication.as_ref(), &mut w, before, Ok(()))
}
