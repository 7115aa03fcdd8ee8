//! The register-level part of the view: what `RegisterOpened` says, and the officers' keys
//! over time (DESIGN §4, "RegisterOpened", "OfficerAuthorized / OfficerRevoked").

use serde::Serialize;
use sijil_core::event::{Event, PublicKey, Role};

/// What the register is, from `RegisterOpened` (entry 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct RegisterInfo {
    /// The log's origin (the checkpoint's first line).
    pub origin: String,
    pub title: String,
    pub authority: String,
    /// The log's current checkpoint key: `RegisterOpened`'s, or the last `LogKeyRotated`'s.
    /// It signs every checkpoint of the log's current size and its `IndexCommitted` entries.
    pub log_key: PublicKey,
    /// When entry 0 was recorded (Unix ms, UTC).
    pub opened_at: i64,
    /// The chain of log keys, oldest first: the genesis key (named at entry 0), then each
    /// key a `LogKeyRotated` named. The last is `log_key`.
    pub log_keys: Vec<LogKeyRecord>,
}

/// One key of the log's chain of checkpoint keys (docs/FORMAT.md §3, `LogKeyRotated`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct LogKeyRecord {
    pub key: PublicKey,
    /// The entry that named the key: 0 for `RegisterOpened`'s, else its `LogKeyRotated`.
    /// The key signs the checkpoints of size > `named_at` up to the next key's `named_at`
    /// (included) and the `IndexCommitted` entries in that range.
    pub named_at: u64,
}

impl RegisterInfo {
    /// The log key that signs a checkpoint of `size` entries (`size` ≥ 1): the last key named
    /// by an entry inside the tree, i.e. whose `named_at` < `size`.
    pub fn log_key_at(&self, size: u64) -> PublicKey {
        self.log_keys
            .iter()
            .rev()
            .find(|k| k.named_at < size)
            .map_or(self.log_key, |k| k.key)
    }

    /// The entry whose `LogKeyRotated` retired `key` (it signs no checkpoint larger than that
    /// entry's seq), if `key` is one of the log's former keys.
    pub fn retired_at(&self, key: &PublicKey) -> Option<u64> {
        let i = self.log_keys.iter().position(|k| k.key == *key)?;
        self.log_keys.get(i + 1).map(|next| next.named_at)
    }
}

/// An officer's key over time. A key is authorized once and, once revoked, never again: a new
/// key is a new record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct OfficerRecord {
    pub key: PublicKey,
    pub name: String,
    pub role: Role,
    /// The entry that authorized the key (0 for the officers `RegisterOpened` names). The key
    /// may sign the entries after it (and, for `RegisterOpened`'s admins, entry 0 itself).
    pub authorized_at: u64,
    pub revocation: Option<Revocation>,
}

/// The revocation of an officer's key (`OfficerRevoked`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct Revocation {
    /// The `OfficerRevoked` entry: the key may not sign it or anything after it.
    pub seq: u64,
    pub reason: String,
}

impl OfficerRecord {
    /// The seq of the entry that revoked the key, if it is revoked.
    pub fn revoked_at(&self) -> Option<u64> {
        self.revocation.as_ref().map(|r| r.seq)
    }

    /// Whether the key may sign now (it is not revoked).
    pub fn is_active(&self) -> bool {
        self.revocation.is_none()
    }

    /// Whether the officer may sign an event that needs `role`: active, and an admin if `role`
    /// is [`Role::Admin`] (an admin may sign anything a clerk may).
    pub fn may_sign(&self, role: Role) -> bool {
        self.is_active() && (role == Role::Clerk || self.role == Role::Admin)
    }
}

/// The role an officer needs to sign `event`: [`Role::Admin`] for the register-level events
/// (officer management; `RegisterOpened` has its own rule, see [`crate::View::apply`]) and for
/// `Erasure`, [`Role::Clerk`] — which admins also hold — for the other case events.
///
/// An `Erasure` deletes published text for good, on a legal ground, so it takes an admin
/// (issue 13's decision). An `Amendment` is a clerk's: it fixes a clerical error in a value,
/// deletes nothing, and the register shows the old value next to the new one, with the entry
/// that changed it.
pub fn required_role(event: &Event) -> Role {
    match event {
        Event::Erasure(_) => Role::Admin,
        e if e.is_case_event() => Role::Clerk,
        _ => Role::Admin,
    }
}
