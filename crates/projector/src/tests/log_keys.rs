//! `LogKeyRotated` (docs/FORMAT.md §3): who may sign it, which keys it may name, and which key
//! signs the `IndexCommitted` entries after it.

use ed25519_dalek::SigningKey;
use sijil_core::event::{Event, IndexCommitted, LogKeyRotated, PublicKey, Role};

use super::{authorize, key, pk, Log};
use crate::{LogKeyRecord, Rejection};

fn rotate_to(new: &PublicKey) -> Event {
    Event::LogKeyRotated(LogKeyRotated {
        new_key: *new,
        reason: "scheduled rotation".into(),
    })
}

/// The log's commitment to its index over every entry so far, signed by `signer`.
fn commit_index(log: &mut Log, signer: &SigningKey) -> Result<u64, Rejection> {
    let mut view = log.view.clone();
    view.flush_index();
    let event = Event::IndexCommitted(IndexCommitted {
        size: view.size(),
        keys: view.index().keys(),
        root: view.index().root(),
    });
    log.push_as(signer, None, event)
}

/// What the view says of an `IndexCommitted` signed by `signer`, applied to a copy: a refused
/// one still flushes the index (`View::apply`), which `Log::offer` counts as a change.
fn try_index(log: &Log, signer: &SigningKey) -> Result<(), Rejection> {
    let mut view = log.view.clone();
    view.flush_index();
    let event = Event::IndexCommitted(IndexCommitted {
        size: view.size(),
        keys: view.index().keys(),
        root: view.index().root(),
    });
    let (entry, leaf) = Log::sign(log.unsigned(None, event), signer);
    view.check(&entry)?;
    view.apply(&entry, leaf)
}

/// The genesis log key of `Log::new` (`genesis` names key 99).
fn genesis_log_key() -> SigningKey {
    key(99)
}

#[test]
fn a_rotation_signed_by_the_log_key_names_the_next_key() {
    let mut log = Log::new();
    let old = genesis_log_key();
    let new = key(100);
    commit_index(&mut log, &old).expect("the genesis key commits the index");
    let at = log
        .push_as(&old, None, rotate_to(&pk(&new)))
        .expect("the current log key rotates");
    let info = log.view.register().expect("open");
    assert_eq!(info.log_key, pk(&new));
    assert_eq!(
        info.log_keys,
        vec![
            LogKeyRecord {
                key: pk(&old),
                named_at: 0
            },
            LogKeyRecord {
                key: pk(&new),
                named_at: at
            },
        ]
    );
    // Checkpoints up to the rotation's seq are the old key's; larger ones the new key's.
    assert_eq!(info.log_key_at(at), pk(&old));
    assert_eq!(info.log_key_at(at + 1), pk(&new));
    assert_eq!(info.retired_at(&pk(&old)), Some(at));
    assert_eq!(info.retired_at(&pk(&new)), None);
    // The rotation is the register's: its index key lists it.
    commit_index(&mut log, &new).expect("the new key commits the index");
    assert_eq!(log.replay().as_ref(), Ok(&log.view));
}

#[test]
fn the_old_key_cannot_sign_past_its_rotation() {
    let mut log = Log::new();
    let old = genesis_log_key();
    let new = key(100);
    let at = log
        .push_as(&old, None, rotate_to(&pk(&new)))
        .expect("rotates");
    let err = try_index(&log, &old).expect_err("retired key");
    assert_eq!(
        err,
        Rejection::SignedByRetiredLogKey {
            seq: at + 1,
            signer: pk(&old),
            retired_at: at,
            log_key: pk(&new),
        }
    );
    assert!(
        err.to_string().contains("the log key retired at entry 1"),
        "{err}"
    );
    try_index(&log, &new).expect("the new key commits");
    // Nor may it name another successor.
    let err = log
        .push_as(&old, None, rotate_to(&pk(&key(101))))
        .expect_err("retired key rotates");
    assert!(
        matches!(err, Rejection::SignedByRetiredLogKey { retired_at, .. } if retired_at == at),
        "{err}"
    );
}

#[test]
fn only_the_current_log_key_rotates() {
    let mut log = Log::new();
    let admin = log.admin.clone();
    let err = log
        .push_as(&admin, None, rotate_to(&pk(&key(100))))
        .expect_err("an officer may not rotate the log key");
    assert_eq!(
        err,
        Rejection::RotationNotSignedByLogKey {
            seq: 1,
            signer: pk(&admin),
            log_key: pk(&genesis_log_key()),
        }
    );
}

#[test]
fn the_new_key_is_valid_new_and_no_officers() {
    let mut log = Log::new();
    let old = genesis_log_key();
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let err = log
        .push_as(&old, None, rotate_to(&PublicKey(weak)))
        .expect_err("small-order point");
    assert!(
        matches!(
            err,
            Rejection::InvalidKey {
                field: "new log key",
                ..
            }
        ),
        "{err}"
    );
    let err = log
        .push_as(&old, None, rotate_to(&pk(&old)))
        .expect_err("the same key");
    assert_eq!(
        err,
        Rejection::LogKeyReused {
            seq: 1,
            key: pk(&old),
            named_at: 0
        }
    );
    let clerk = log.clerk.clone();
    let err = log
        .push_as(&old, None, rotate_to(&pk(&clerk)))
        .expect_err("an officer's key");
    assert!(
        matches!(&err, Rejection::LogKeyIsOfficerKey { name, authorized_at: 0, .. } if name == "Karim Clerk"),
        "{err}"
    );
    // A revoked officer's key neither.
    let gone = key(50);
    log.push(None, authorize(&gone, "Gone", Role::Clerk))
        .expect("authorized");
    log.push(None, super::revoke(&gone)).expect("revoked");
    let err = log
        .push_as(&old, None, rotate_to(&pk(&gone)))
        .expect_err("a revoked officer's key");
    assert!(matches!(err, Rejection::LogKeyIsOfficerKey { .. }), "{err}");
    // A key used before, then retired, never comes back.
    let new = key(100);
    log.push_as(&old, None, rotate_to(&pk(&new)))
        .expect("rotates");
    let err = log
        .push_as(&new, None, rotate_to(&pk(&old)))
        .expect_err("back to the old key");
    assert!(
        matches!(err, Rejection::LogKeyReused { named_at: 0, .. }),
        "{err}"
    );
    // And a reason is required.
    let err = log
        .push_as(
            &new,
            None,
            Event::LogKeyRotated(LogKeyRotated {
                new_key: pk(&key(101)),
                reason: String::new(),
            }),
        )
        .expect_err("no reason");
    assert!(matches!(err, Rejection::InvalidText { .. }), "{err}");
}

#[test]
fn a_log_key_never_becomes_an_officer_key() {
    let mut log = Log::new();
    let old = genesis_log_key();
    log.push_as(&old, None, rotate_to(&pk(&key(100))))
        .expect("rotates");
    let err = log
        .push(None, authorize(&old, "Back door", Role::Admin))
        .expect_err("the retired log key as an officer");
    assert!(matches!(err, Rejection::LogKeyIsOfficerKey { .. }), "{err}");
}

#[test]
fn a_rotation_carries_no_case_and_the_new_key_signs_only_log_entries() {
    let mut log = Log::new();
    let old = genesis_log_key();
    let new = key(100);
    let err = log
        .push_as(&old, Some("2023-0001"), rotate_to(&pk(&new)))
        .expect_err("a case link");
    assert!(matches!(err, Rejection::CaseLinkUnexpected { .. }), "{err}");
    log.push_as(&old, None, rotate_to(&pk(&new)))
        .expect("rotates");
    let err = log
        .push_as(&new, None, authorize(&key(60), "X", Role::Clerk))
        .expect_err("the log key signs no officer event");
    assert!(matches!(err, Rejection::SignedByLogKey { .. }), "{err}");
}

#[test]
fn the_chain_of_log_keys_survives_a_snapshot() {
    let mut log = Log::new();
    let old = genesis_log_key();
    log.push_as(&old, None, rotate_to(&pk(&key(100))))
        .expect("rotates");
    let bytes = log.view.to_snapshot(sijil_core::Hash::ZERO);
    let (view, _, _) = crate::View::from_snapshot(&bytes).expect("reads back");
    assert_eq!(view, log.view);
}
