//! `sijil officers URL`: the register's officers, proven from its own entries.
//!
//! The answer (`GET /api/v1/officers`, docs/API.md) carries the register key's entries
//! (docs/FORMAT.md §10.1: every `RegisterOpened`, `OfficerAuthorized` and `OfficerRevoked`)
//! and the completeness proof that they are all of them. It is checked against the
//! checkpoint that [`crate::verify::verify`] has just verified (signature, witnesses,
//! consistency with the last one seen, spot checks): each entry's inclusion, canonical
//! encoding and signature, the log key's `IndexCommitted` at the checkpoint's last leaf and
//! the trie proof of the register key ([`completeness::verify_register`]). The list of
//! officers is then rebuilt from those entries alone, in log order, as the register's view
//! builds it ([`replay`]): entry 0 names this origin and log key and is signed by an admin it
//! lists, and every later authorization or revocation is signed by an admin authorized, and
//! not revoked, before it. The server's own `officers` member is not read.
//!
//! What this does not check: the register's other rules on those entries (a name's length, a
//! revocation that would leave no admin), which `sijil audit` checks with every other entry.

use std::collections::BTreeMap;

use serde::Deserialize;
use sijil_core::checkpoint::SignedCheckpoint;
use sijil_core::event::{Event, Officer, PublicKey, Role};
use sijil_core::note::Verifier;
use sijil_index::completeness::{self, CheckedEntry, Completeness, ProvenEntry};
use sijil_projector::{OfficerRecord, Revocation};

use crate::case::{log_public_key, CheckpointText};
use crate::http::HttpClient;
use crate::Error;

/// The officers answer as the API serves it (other members, `officers` among them, are
/// ignored).
#[derive(Debug, Deserialize)]
pub struct OfficersAnswer {
    pub checkpoint: CheckpointText,
    pub entries: Vec<ProvenEntry>,
    pub completeness: Completeness,
}

/// The officers, proven as of a checkpoint.
#[derive(Debug)]
pub struct VerifiedOfficers {
    /// The size of the checkpoint the list is complete as of.
    pub size: u64,
    /// Every key ever authorized, in the order it was (as `View::officers` lists them).
    pub officers: Vec<OfficerRecord>,
    /// The register key's entries, checked, by seq: when and by whom each record changed.
    pub entries: BTreeMap<u64, CheckedEntry>,
}

/// Fetches the officers answer from the server at `base` (its tlog-tiles prefix, where the
/// API lives too).
///
/// # Errors
/// [`Error::Usage`] for a transport failure, another status than 200 (a server without the
/// resource says so), or an answer that is not an officers answer.
pub fn fetch_officers(client: &HttpClient, base: &str) -> Result<OfficersAnswer, Error> {
    let url = format!("{}/api/v1/officers", base.trim_end_matches('/'));
    let answer = client
        .block_on(client.get_limited(&url, 64 << 20))
        .map_err(|e| Error::Usage(format!("{url}: {e}")))?;
    if answer.status != 200 {
        return Err(Error::Usage(format!(
            "{url}: HTTP {} (a sijil server older than this client has no officers resource)",
            answer.status
        )));
    }
    serde_json::from_slice(&answer.body).map_err(|e| Error::Entry {
        seq: 0,
        message: format!("{url}: not an officers answer with a completeness proof: {e}"),
    })
}

/// Verifies an officers answer against `verified`, the checkpoint just verified with
/// `verifier` (see the module), and rebuilds the list of officers from its entries.
///
/// # Errors
/// [`Error::Stale`] when the answer is as of another checkpoint (the server moved on: verify
/// again and fetch again); [`Error::Entry`] naming what fails (an entry missing, added or
/// altered, a proof that does not hold, an authorization not signed by an admin then in
/// office).
pub fn verify_officers_answer(
    answer: &OfficersAnswer,
    verified: &SignedCheckpoint,
    verifier: &Verifier,
) -> Result<VerifiedOfficers, Error> {
    let cp = SignedCheckpoint::open(answer.checkpoint.text.as_bytes(), verifier).map_err(|e| {
        Error::Entry {
            seq: 0,
            message: format!("the officers answer's checkpoint does not verify: {e}"),
        }
    })?;
    let (cp, held) = (&cp.checkpoint, &verified.checkpoint);
    if cp.size != held.size || cp.root != held.root {
        return Err(Error::Stale {
            what: format!(
                "the officers answer is as of a checkpoint of size {} (root {}), not the log's checkpoint of size {} (root {}) verified just now",
                cp.size, cp.root, held.size, held.root
            ),
        });
    }
    let log_key = log_public_key(verifier)?;
    let checked =
        completeness::verify_register(&answer.entries, &answer.completeness, cp, &log_key)
            .map_err(|e| Error::Entry {
                seq: 0,
                message: format!("officers: {e}"),
            })?;
    // After a log key rotation (docs/FORMAT.md §3.1) entry 0 names the first key of the
    // chain that leads, through the register's own LogKeyRotated entries, to `log_key`.
    let genesis = first_log_key(&checked, &log_key)?;
    let officers = replay(&checked, &cp.origin, &genesis)?;
    Ok(VerifiedOfficers {
        size: cp.size,
        officers,
        entries: checked.into_iter().map(|e| (e.seq, e)).collect(),
    })
}

/// The log key entry 0 names, checked to lead to `current` through the `LogKeyRotated`
/// entries among the register's own (each signed by the key before it).
///
/// # Errors
/// [`Error::Entry`] naming the rotation that breaks the chain, or entry 0 when the chain does
/// not end at `current`.
fn first_log_key(entries: &[CheckedEntry], current: &PublicKey) -> Result<PublicKey, Error> {
    let Some(Event::RegisterOpened(g)) = entries.first().map(|e| &e.entry.event) else {
        // replay() says what is wrong with the first entry.
        return Ok(*current);
    };
    let mut key = g.log_key;
    for e in entries {
        if let Event::LogKeyRotated(r) = &e.entry.event {
            if e.entry.signer != key {
                return Err(Error::Entry {
                    seq: e.seq,
                    message: format!(
                        "LogKeyRotated is signed by {}, not by the log key then current, {key}",
                        e.entry.signer
                    ),
                });
            }
            key = r.new_key;
        }
    }
    if key != *current {
        return Err(Error::Entry {
            seq: 0,
            message: format!(
                "the chain of log keys from entry 0 ends at {key}, not at the key that signs the checkpoint, {current}"
            ),
        });
    }
    Ok(g.log_key)
}

/// The officers' records from all of the register's own entries (checked, in log order), as
/// the register's view records them (`RegisterOpened`'s officers at entry 0, then each
/// `OfficerAuthorized` and `OfficerRevoked`), checking that each was signed by an admin in
/// office: entry 0 by an admin it lists, naming `origin` and `log_key`; each later one by an
/// admin authorized before it and not revoked. Other register-level events are passed over.
///
/// # Errors
/// [`Error::Entry`] naming the entry and what is wrong with it.
pub fn replay(
    entries: &[CheckedEntry],
    origin: &str,
    log_key: &PublicKey,
) -> Result<Vec<OfficerRecord>, Error> {
    let mut records: Vec<OfficerRecord> = Vec::new();
    let add = |records: &mut Vec<OfficerRecord>, o: &Officer, seq: u64| -> Result<(), Error> {
        if let Some(known) = records.iter().find(|r| r.key == o.key) {
            return Err(Error::Entry {
                seq,
                message: format!(
                    "authorizes key {}, already authorized for {} by entry {}",
                    o.key, known.name, known.authorized_at
                ),
            });
        }
        records.push(OfficerRecord {
            key: o.key,
            name: o.name.clone(),
            role: o.role,
            authorized_at: seq,
            revocation: None,
        });
        Ok(())
    };
    for (i, e) in entries.iter().enumerate() {
        let seq = e.seq;
        let bad = |message: String| Error::Entry { seq, message };
        let signer = e.entry.signer;
        if i == 0 {
            // The register key's first entry is the register's first entry.
            let Event::RegisterOpened(g) = &e.entry.event else {
                return Err(bad(format!(
                    "is {}, but the register's first entry must be RegisterOpened",
                    e.entry.event.name()
                )));
            };
            if seq != 0 || g.origin != origin || g.log_key != *log_key {
                return Err(bad(format!(
                    "RegisterOpened must be entry 0 and name origin {origin:?} and log key {log_key}"
                )));
            }
            if !g
                .officers
                .iter()
                .any(|o| o.key == signer && o.role == Role::Admin)
            {
                return Err(bad(format!(
                    "is signed by {signer}, not by an admin it lists"
                )));
            }
            for o in &g.officers {
                add(&mut records, o, seq)?;
            }
            continue;
        }
        if !matches!(
            e.entry.event,
            Event::OfficerAuthorized(_) | Event::OfficerRevoked(_)
        ) {
            // Another register-level event: it changes no officer.
            continue;
        }
        match records.iter().find(|r| r.key == signer) {
            Some(r) if r.role == Role::Admin && r.is_active() => {}
            Some(r) => {
                return Err(bad(format!(
                    "is signed by {} ({signer}), who was {} at that entry: only an admin in office authorizes or revokes",
                    r.name,
                    match r.revoked_at() {
                        Some(at) => format!("revoked by entry {at}"),
                        None => "a clerk".into(),
                    }
                )))
            }
            None => {
                return Err(bad(format!(
                    "is signed by {signer}, which no earlier entry authorized"
                )))
            }
        }
        match &e.entry.event {
            Event::OfficerAuthorized(a) => add(&mut records, &a.officer, seq)?,
            Event::OfficerRevoked(r) => {
                let o = records
                    .iter_mut()
                    .find(|o| o.key == r.key)
                    .ok_or_else(|| bad(format!("revokes key {}, never authorized", r.key)))?;
                if let Some(at) = o.revoked_at() {
                    return Err(bad(format!(
                        "revokes key {} of {}, already revoked by entry {at}",
                        r.key, o.name
                    )));
                }
                o.revocation = Some(Revocation {
                    seq,
                    reason: r.reason.clone(),
                });
            }
            _ => {}
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use sijil_core::entry::SignatureBytes;
    use sijil_core::event::{OfficerAuthorized, OfficerRevoked, RegisterOpened};
    use sijil_core::{Entry, Hash};

    use super::*;

    const ORIGIN: &str = "registre.example.ma/test";
    const LOG: PublicKey = PublicKey([9; 32]);

    fn officer(k: u8, name: &str, role: Role) -> Officer {
        Officer {
            key: PublicKey([k; 32]),
            name: name.into(),
            role,
        }
    }

    /// An entry as the replay reads it (signatures and inclusion are checked before).
    fn entry(seq: u64, signer: u8, event: Event) -> CheckedEntry {
        CheckedEntry {
            seq,
            leaf: Hash::ZERO,
            entry: Entry {
                format: 1,
                seq,
                prev: Hash::ZERO,
                recorded_at: 0,
                signer: PublicKey([signer; 32]),
                case: None,
                event,
                signature: SignatureBytes([0; 64]),
            },
            bytes: Vec::new(),
        }
    }

    fn genesis() -> CheckedEntry {
        entry(
            0,
            1,
            Event::RegisterOpened(RegisterOpened {
                origin: ORIGIN.into(),
                title: "t".into(),
                authority: "a".into(),
                log_key: LOG,
                officers: vec![officer(1, "amina", Role::Admin)],
            }),
        )
    }

    fn authorize(seq: u64, signer: u8, o: Officer) -> CheckedEntry {
        entry(
            seq,
            signer,
            Event::OfficerAuthorized(OfficerAuthorized { officer: o }),
        )
    }

    fn revoke(seq: u64, signer: u8, key: u8) -> CheckedEntry {
        entry(
            seq,
            signer,
            Event::OfficerRevoked(OfficerRevoked {
                key: PublicKey([key; 32]),
                reason: "left".into(),
            }),
        )
    }

    /// The records are the view's: authorized at their entry, revoked with the reason.
    #[test]
    fn the_officers_are_rebuilt_from_the_register_entries() {
        let entries = [
            genesis(),
            authorize(3, 1, officer(2, "nadia", Role::Clerk)),
            revoke(7, 1, 2),
        ];
        let records = replay(&entries, ORIGIN, &LOG).expect("replayed");
        let got: Vec<(&str, u64, Option<u64>)> = records
            .iter()
            .map(|r| (r.name.as_str(), r.authorized_at, r.revoked_at()))
            .collect();
        assert_eq!(got, [("amina", 0, None), ("nadia", 3, Some(7))]);
    }

    /// Only an admin in office authorizes or revokes, and entry 0 must be this register's
    /// genesis signed by an admin it lists; each refusal names the entry.
    #[test]
    fn an_authorization_not_signed_by_an_admin_in_office_is_refused() {
        let clerk = authorize(3, 1, officer(2, "nadia", Role::Clerk));
        let cases: [(Vec<CheckedEntry>, &str); 6] = [
            (
                vec![
                    genesis(),
                    clerk.clone(),
                    authorize(5, 2, officer(3, "x", Role::Admin)),
                ],
                "entry 5: is signed by nadia",
            ),
            (
                vec![genesis(), authorize(5, 4, officer(3, "x", Role::Admin))],
                "entry 5: is signed by",
            ),
            (
                vec![
                    genesis(),
                    authorize(3, 1, officer(2, "b", Role::Admin)),
                    revoke(4, 2, 1),
                    authorize(6, 1, officer(3, "x", Role::Clerk)),
                ],
                "entry 6: is signed by amina",
            ),
            (
                vec![genesis(), clerk.clone(), clerk.clone()],
                "already authorized for nadia by entry 3",
            ),
            (vec![genesis(), revoke(4, 1, 5)], "never authorized"),
            (vec![clerk], "must be RegisterOpened"),
        ];
        for (entries, want) in cases {
            let err = replay(&entries, ORIGIN, &LOG).expect_err(want).to_string();
            assert!(err.contains(want), "{err} lacks {want:?}");
        }
        let other = replay(&[genesis()], "registre.example.ma/other", &LOG)
            .expect_err("another origin")
            .to_string();
        assert!(other.contains("entry 0"), "{other}");
    }
}
