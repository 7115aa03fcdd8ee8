//! Why an event may not enter the log, or why a replayed log breaks the rules (DESIGN §6).
//!
//! One variant per rule, each carrying the facts (entry seq, case id, expected vs got), and a
//! message written for the clerk who recorded the event, not for the programmer.

use std::fmt;

use sijil_core::event::{Date, PublicKey};

use crate::case::CaseStatus;
use sijil_core::Hash;

/// An entry that breaks a rule of the register.
///
/// Returned by [`crate::View::apply`] and [`crate::View::check`] (and its unsigned form)
/// when an entry does not follow the log's chain, is signed by someone who may not sign it,
/// or records an event that the case's state does not allow. The view is unchanged.
///
/// During a replay (`verify`, `audit`, a mirror) a rejection is evidence that the log breaks
/// the rules; before signing, it is the clerk's answer. Each `seq` is the rejected entry's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    // ---- The log's own chain (DESIGN §4) ----
    /// The entry is in a format this code does not read.
    #[error(
        "entry {seq} is in entry format {format}; this register reads format 1 (docs/FORMAT.md §2)"
    )]
    UnsupportedFormat { seq: u64, format: u8 },
    /// `seq` is not the number of entries before it.
    #[error(
        "entry {got} is out of place: the log holds {expected} entries, so the next entry is number {expected}"
    )]
    SeqMismatch { expected: u64, got: u64 },
    /// `prev` is not the leaf hash of the entry before.
    #[error(
        "entry {seq} does not continue the log: its prev hash is {got}, but the entry before it has leaf hash {expected}"
    )]
    PrevMismatch { seq: u64, expected: Hash, got: Hash },
    /// The log has reached the most entries (2^56) or cases (2^32) this view can index.
    #[error("entry {seq}: the register holds as many entries or cases as this version can index")]
    LogFull { seq: u64 },
    /// `recorded_at` is not a time in the years 1900–9999.
    #[error("entry {seq}: recorded_at {recorded_at} (Unix ms) is not a time between the years 1900 and 9999")]
    RecordedAtOutOfRange { seq: u64, recorded_at: i64 },
    /// `recorded_at` is earlier than the previous entry's.
    #[error(
        "entry {seq} is recorded at {}, before the entry preceding it ({}); the log's time never goes backwards",
        time(*.got),
        time(*.previous)
    )]
    RecordedAtBackwards { seq: u64, previous: i64, got: i64 },
    /// Entry 0 is not `RegisterOpened`.
    #[error("the first entry of a register must be RegisterOpened, not {event}")]
    FirstEntryNotRegisterOpened { event: &'static str },
    /// `RegisterOpened` after entry 0.
    #[error(
        "entry {seq}: the register is already open; RegisterOpened is entry 0 and only entry 0"
    )]
    RegisterAlreadyOpened { seq: u64 },
    /// An event variant this version of the rules does not know.
    #[error("entry {seq}: {event} is not in the v1 event catalogue this register knows")]
    UnsupportedEvent { seq: u64, event: &'static str },
    /// `IndexCommitted` signed by a key other than the log key.
    #[error("entry {seq}: IndexCommitted is signed by {signer}, not by the register's log key {log_key}")]
    IndexNotSignedByLogKey {
        seq: u64,
        signer: PublicKey,
        log_key: PublicKey,
    },
    /// The log key signed an entry other than `IndexCommitted` and `LogKeyRotated`.
    #[error(
        "entry {seq}: {event} is signed by the register's log key, which signs only IndexCommitted and LogKeyRotated"
    )]
    SignedByLogKey { seq: u64, event: &'static str },
    /// `IndexCommitted` or `LogKeyRotated` signed by a log key that a `LogKeyRotated` retired:
    /// a retired (perhaps compromised) key signs nothing past its rotation.
    #[error("entry {seq} is signed by {signer}, the log key retired at entry {retired_at}; the log key is now {log_key}")]
    SignedByRetiredLogKey {
        seq: u64,
        signer: PublicKey,
        retired_at: u64,
        log_key: PublicKey,
    },
    /// `LogKeyRotated` signed by a key other than the current log key.
    #[error("entry {seq}: LogKeyRotated is signed by {signer}, not by the register's log key {log_key}; only the current log key names its successor")]
    RotationNotSignedByLogKey {
        seq: u64,
        signer: PublicKey,
        log_key: PublicKey,
    },
    /// `LogKeyRotated` naming a key the log has already used (the current one included).
    #[error("entry {seq}: LogKeyRotated names {key}, which the log already used as its log key (named at entry {named_at}); a new log key is a key never used before")]
    LogKeyReused {
        seq: u64,
        key: PublicKey,
        named_at: u64,
    },
    /// A log key that is an officer's key, or an officer key that is a log key: the two roles
    /// never share a key, so an officer's signature can never pass for the log's.
    #[error("entry {seq}: key {key} is both a log key and the officer key of {name} (authorized at entry {authorized_at}); a key is one or the other")]
    LogKeyIsOfficerKey {
        seq: u64,
        key: PublicKey,
        name: String,
        authorized_at: u64,
    },
    /// `IndexCommitted` whose size, key count or root is not the index's over the entries
    /// before it (docs/FORMAT.md §10.4).
    #[error("entry {seq}: IndexCommitted says {field} {found}, but the index over entries 0..{seq} has {expected}")]
    IndexMismatch {
        seq: u64,
        field: &'static str,
        expected: String,
        found: String,
    },
    /// A checkpoint whose last entry is not an `IndexCommitted` (docs/FORMAT.md §10.4).
    #[error("the checkpoint of size {size} does not end with IndexCommitted: its last entry {} is another event (the latest IndexCommitted is {})", size - 1, last_commitment.map_or("none".to_string(), |s| format!("entry {s}")))]
    CheckpointWithoutIndex {
        size: u64,
        last_commitment: Option<u64>,
    },
    /// A case event without a case link.
    #[error("entry {seq}: {event} belongs to a case, but the entry names no case")]
    CaseLinkMissing { seq: u64, event: &'static str },
    /// A register-level event with a case link.
    #[error(
        "entry {seq}: {event} is about the register, not a case, but the entry names case {case}"
    )]
    CaseLinkUnexpected {
        seq: u64,
        event: &'static str,
        case: String,
    },
    /// The case link's seq is not the case's event count.
    #[error(
        "entry {seq}: case {case} holds {expected} events, so this entry must be its event number {expected}, not {got}"
    )]
    CaseSeqMismatch {
        seq: u64,
        case: String,
        expected: u64,
        got: u32,
    },
    /// The case link's prev is not the leaf hash of the case's latest event.
    #[error(
        "entry {seq}: the link to case {case} says its latest event has leaf hash {got}, but it is {expected}"
    )]
    CasePrevMismatch {
        seq: u64,
        case: String,
        expected: Hash,
        got: Hash,
    },

    // ---- Who may sign ----
    /// The signer is not an officer of the register.
    #[error("entry {seq} is signed by key {signer}, which is not an officer of this register")]
    UnknownSigner { seq: u64, signer: PublicKey },
    /// The signer's key was revoked.
    #[error(
        "entry {seq} is signed by {name}, whose key {signer} was revoked by entry {revoked_at}"
    )]
    SignerRevoked {
        seq: u64,
        signer: PublicKey,
        name: String,
        revoked_at: u64,
    },
    /// A clerk signed an event that needs the admin role.
    #[error("entry {seq}: only an admin may record {event}, and {name} ({signer}) is a clerk")]
    SignerNotAdmin {
        seq: u64,
        signer: PublicKey,
        name: String,
        event: &'static str,
    },
    /// `RegisterOpened` not signed by one of the admins it lists.
    #[error("RegisterOpened must be signed by one of the admins it names, and key {signer} is not among them")]
    GenesisNotSignedByListedAdmin { signer: PublicKey },

    // ---- The register and its officers ----
    /// A free-text field (name, id, place, reason) that is empty, too long or holds characters
    /// it may not.
    #[error("entry {seq}: the {field} {problem}")]
    InvalidText {
        seq: u64,
        field: &'static str,
        problem: TextProblem,
    },
    /// A key that is not a valid Ed25519 public key (`sijil_core::entry::checked_key`).
    #[error("entry {seq}: the {field} {key} is not a valid Ed25519 public key")]
    InvalidKey {
        seq: u64,
        field: &'static str,
        key: PublicKey,
    },
    /// `RegisterOpened` without an admin.
    #[error("RegisterOpened must name at least one officer with the admin role")]
    NoAdmin,
    /// A key authorized twice (in `RegisterOpened`, or again while it is active).
    #[error("entry {seq}: key {key} is already authorized, for {name} by entry {authorized_at}")]
    OfficerAlreadyAuthorized {
        seq: u64,
        key: PublicKey,
        name: String,
        authorized_at: u64,
    },
    /// Authorizing a key that was revoked.
    #[error(
        "entry {seq}: key {key} belonged to {name} and was revoked by entry {revoked_at}; a revoked key is never authorized again, generate a new one"
    )]
    OfficerKeyWasRevoked {
        seq: u64,
        key: PublicKey,
        name: String,
        revoked_at: u64,
    },
    /// Revoking a key that no officer holds.
    #[error("entry {seq}: key {key} is not an officer's key, so there is nothing to revoke")]
    UnknownOfficer { seq: u64, key: PublicKey },
    /// Revoking a key twice.
    #[error("entry {seq}: the key {key} of {name} was already revoked by entry {revoked_at}")]
    OfficerAlreadyRevoked {
        seq: u64,
        key: PublicKey,
        name: String,
        revoked_at: u64,
    },
    /// Revoking the last active admin, which would leave nobody able to manage officers.
    #[error(
        "entry {seq}: {name} ({key}) is the register's last admin; without an admin nobody could manage officers again, so authorize another admin first"
    )]
    LastAdmin {
        seq: u64,
        key: PublicKey,
        name: String,
    },

    // ---- Cases ----
    /// An event about a case that was never opened.
    #[error(
        "entry {seq}: case {case} does not exist; it must be opened (ComplaintReceived, or InspectionOpened that opens it) before {event} can refer to it"
    )]
    UnknownCase {
        seq: u64,
        case: String,
        event: &'static str,
    },
    /// Opening a case that exists.
    #[error(
        "entry {seq}: case {case} was already opened by entry {opened_at}; a case is opened once"
    )]
    CaseAlreadyOpened {
        seq: u64,
        case: String,
        opened_at: u64,
    },
    /// After `CaseClosed`, `ComplaintInadmissible` or `ComplaintForwarded` (entry `closed_by`),
    /// anything but Correction, Erasure, Amendment, DecisionPublished, AppealLodged or
    /// CaseReopened.
    #[error("case {case} is closed since {closed_on} (entry {closed_by}); only Correction, Erasure, Amendment, DecisionPublished, AppealLodged or CaseReopened may follow (entry {seq} is {event})")]
    CaseIsClosed {
        seq: u64,
        case: String,
        closed_on: Date,
        closed_by: u64,
        event: &'static str,
    },
    /// An event the case's state does not allow (issue 13's state machine, see
    /// [`crate::CaseStatus`]): `rule` says what the event needs.
    #[error("entry {seq}: {event} is not allowed in case {case}, which is {} since entry {since}: {rule}", status.as_str().replace('_', " "))]
    TransitionNotAllowed {
        seq: u64,
        case: String,
        event: &'static str,
        status: CaseStatus,
        since: u64,
        rule: &'static str,
    },
    /// A date earlier than the latest date of the case (a case's dates never go backwards;
    /// amended dates count).
    #[error("entry {seq}: the {field}, {date}, is before {latest_date}, the date of entry {latest_seq} of case {case}; a case's dates never go backwards")]
    DateBeforeLatest {
        seq: u64,
        case: String,
        field: &'static str,
        date: Date,
        latest_seq: u64,
        latest_date: Date,
    },
    /// A compliance deadline that does not fall after the latest date of the case (the day it
    /// was set is at least that).
    #[error("entry {seq}: the compliance deadline {due_on} of case {case} must fall after {latest_date}, the date of entry {latest_seq}, the latest of the case")]
    DeadlineNotAfterLatest {
        seq: u64,
        case: String,
        due_on: Date,
        latest_seq: u64,
        latest_date: Date,
    },
    /// An Amendment that would move a date past the date of a later entry of the case.
    #[error("entry {seq}: amending entry {target} to {date} would put it after {later_date}, the date of entry {later_seq} of case {case}, which follows it; a case's dates never go backwards")]
    AmendedDateAfterLater {
        seq: u64,
        case: String,
        target: u64,
        date: Date,
        later_seq: u64,
        later_date: Date,
    },
    /// An Amendment of a field the target entry does not have.
    #[error("entry {seq}: entry {target} ({target_event}) of case {case} has no {field} that an Amendment could change")]
    NothingToAmend {
        seq: u64,
        case: String,
        target: u64,
        target_event: &'static str,
        field: &'static str,
    },
    /// An Amendment whose new value is the current one.
    #[error("entry {seq}: the {field} of entry {target} of case {case} already has that value; an Amendment must change it")]
    AmendmentChangesNothing {
        seq: u64,
        case: String,
        target: u64,
        field: &'static str,
    },
    /// A date of something that happened (a hearing, a notification...) after the day the
    /// entry is recorded.
    #[error(
        "entry {seq}: the {field}, {date}, is after {recorded_on}, the day this entry is recorded; only what has already happened can be recorded"
    )]
    DateAfterRecording {
        seq: u64,
        case: String,
        field: &'static str,
        date: Date,
        recorded_on: Date,
    },
    /// A date in a case before the case was opened.
    #[error(
        "entry {seq}: the {field}, {date}, is before {opened_on}, the day case {case} was opened"
    )]
    DateBeforeCaseOpened {
        seq: u64,
        case: String,
        field: &'static str,
        date: Date,
        opened_on: Date,
    },
    /// `DeadlineExtended` on a case with no deadline in force.
    #[error(
        "entry {seq}: case {case} has no compliance deadline in force to extend; set one with ComplianceDeadlineSet"
    )]
    NoDeadlineToExtend { seq: u64, case: String },
    /// `DeadlineExtended` to a date that is not later than the current deadline.
    #[error(
        "entry {seq}: an extension must move the deadline of case {case} later than {current}, and {got} is not later"
    )]
    ExtensionNotLater {
        seq: u64,
        case: String,
        current: Date,
        got: Date,
    },
    /// A sanction without a legal basis.
    #[error("entry {seq}: a sanction in case {case} must name its legal basis (for example \"Loi 09-08, art. 51\")")]
    NoLegalBasis { seq: u64, case: String },
    /// A fine of 0 MAD.
    #[error("entry {seq}: a fine in case {case} must have an amount above 0 MAD")]
    ZeroFine { seq: u64, case: String },
    /// `AuthoritiesNotified` naming no authority.
    #[error("entry {seq}: AuthoritiesNotified in case {case} must name at least one authority")]
    NoAuthorities { seq: u64, case: String },
    /// `AuthoritiesNotified` naming too many.
    #[error("entry {seq}: AuthoritiesNotified in case {case} names {count} authorities; at most {max} may be named")]
    TooManyAuthorities {
        seq: u64,
        case: String,
        count: usize,
        max: usize,
    },
    /// A Correction, Erasure or Amendment that points at itself or at a later entry.
    #[error(
        "entry {seq}: {event} must point at an earlier entry, and entry {target} is not earlier"
    )]
    TargetNotEarlier {
        seq: u64,
        case: String,
        target: u64,
        event: &'static str,
    },
    /// A Correction, Erasure or Amendment that points at an entry of another case (or none).
    #[error("entry {seq}: {event} must point at an entry of its own case, and entry {target} is not part of case {case}")]
    TargetNotInCase {
        seq: u64,
        case: String,
        target: u64,
        event: &'static str,
    },
    /// An Erasure of an entry that holds no redactable text.
    #[error("entry {seq}: entry {target} ({target_event}) holds no redactable text, so there is nothing to erase")]
    NothingToErase {
        seq: u64,
        case: String,
        target: u64,
        target_event: &'static str,
    },
    /// An Erasure of an entry whose text is already erased.
    #[error("entry {seq}: the text of entry {target} was already erased by entry {erased_by}")]
    AlreadyErased {
        seq: u64,
        case: String,
        target: u64,
        erased_by: u64,
    },
}

/// What is wrong with a piece of text in an event (see [`Rejection::InvalidText`]).
///
/// Displayed as the end of a sentence that starts with the field's name: "the case id is
/// empty".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextProblem {
    /// Empty, or only spaces.
    Empty,
    /// Longer than the field allows, in characters.
    TooLong { chars: usize, max: usize },
    /// Starts or ends with a space.
    SpaceAtEdge,
    /// Holds a control character (a line break, a tab...) or an invisible bidirectional
    /// control that could make the displayed text differ from what was recorded.
    ControlCharacter { code: u32 },
    /// An id holds a character outside `A–Z a–z 0–9 . _ / -`.
    NotAllowedInId { ch: char },
    /// An id does not start with a letter or a digit.
    IdStart { ch: char },
    /// The origin holds a space or a `+` (it is the checkpoint's key name, c2sp.org/signed-note).
    NotAllowedInOrigin { ch: char },
}

impl fmt::Display for TextProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextProblem::Empty => f.write_str("is empty"),
            TextProblem::TooLong { chars, max } => {
                write!(f, "is {chars} characters long; at most {max} are allowed")
            }
            TextProblem::SpaceAtEdge => f.write_str("starts or ends with a space"),
            TextProblem::ControlCharacter { code } => {
                write!(f, "contains the invisible control character U+{code:04X}")
            }
            TextProblem::NotAllowedInId { ch } => write!(
                f,
                "contains {ch:?}; an id uses only the letters A-Z and a-z, digits, and . _ / -"
            ),
            TextProblem::IdStart { ch } => {
                write!(f, "starts with {ch:?}; an id starts with a letter or a digit")
            }
            TextProblem::NotAllowedInOrigin { ch } => write!(
                f,
                "contains {ch:?}; the origin is the checkpoint's key name and holds no spaces or '+'"
            ),
        }
    }
}

/// A `recorded_at` in a message: RFC 3339 UTC when it is a valid time, else the raw number.
fn time(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        None => format!("{ms} (Unix ms)"),
    }
}
