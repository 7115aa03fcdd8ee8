//! What the view keeps about one case: a compact record, never the entries' bodies.
//!
//! Memory grows with the number of cases, plus one 8-byte timeline item per case event (the
//! index from a case to its entries, which the HTTP crate reads the bodies with) and the few
//! clear-text facts the register shows (hearing places, sanctions, authorities notified).

use serde::{Deserialize, Serialize};
use sijil_core::event::{Date, Event, Outcome, Sanction};
use sijil_core::Hash;

/// Where a case stands. It follows the events (DESIGN §6):
///
/// ```text
/// open ─▶ under investigation ─▶ awaiting compliance ─▶ complied | sanctioned ─▶ closed
///         (hearing, inspection)  (deadline set)
/// ```
///
/// - `ComplaintReceived` opens a case as `Open`; an `InspectionOpened` that opens a case opens
///   it `UnderInvestigation` (an inspection is an investigation).
/// - `HearingHeld` and `InspectionOpened` move an `Open` case to `UnderInvestigation`, and
///   leave a case that is further along where it is.
/// - `ComplianceDeadlineSet` and `DeadlineExtended` make it `AwaitingCompliance`, whatever came
///   before (new obligations, or more time after a sanction).
/// - `ComplianceConfirmed` makes it `Complied`, `SanctionNotified` makes it `Sanctioned`.
/// - `CaseClosed` makes it `Closed`, for good: only Correction and Erasure may follow.
/// - `AuthoritiesNotified`, `Correction` and `Erasure` do not change it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    UnderInvestigation,
    AwaitingCompliance,
    Complied,
    Sanctioned,
    Closed,
}

impl CaseStatus {
    /// Every status, in the order a case goes through them.
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::Open,
        CaseStatus::UnderInvestigation,
        CaseStatus::AwaitingCompliance,
        CaseStatus::Complied,
        CaseStatus::Sanctioned,
        CaseStatus::Closed,
    ];

    /// The snake_case name used in JSON and URLs.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::UnderInvestigation => "under_investigation",
            CaseStatus::AwaitingCompliance => "awaiting_compliance",
            CaseStatus::Complied => "complied",
            CaseStatus::Sanctioned => "sanctioned",
            CaseStatus::Closed => "closed",
        }
    }
}

/// How a case was opened.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    bincode::Encode,
    bincode::Decode,
)]
#[serde(rename_all = "snake_case")]
pub enum Opening {
    /// By `ComplaintReceived`.
    Complaint,
    /// By an `InspectionOpened` that opens the case (ex officio control).
    Inspection,
}

/// A hearing of the controller (`HearingHeld`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct Hearing {
    /// The entry that recorded it.
    pub seq: u64,
    pub held_on: Date,
    pub place: String,
}

/// A sanction notified (`SanctionNotified`). JSON: `{"seq", "notified_on", "kind", ...,
/// "legal_basis"}` with the sanction's fields inline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct SanctionRecord {
    pub seq: u64,
    pub notified_on: Date,
    #[serde(flatten)]
    pub sanction: Sanction,
    pub legal_basis: String,
}

/// Authorities informed about the case (`AuthoritiesNotified`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct AuthoritiesRecord {
    pub seq: u64,
    pub notified_on: Date,
    pub authorities: Vec<String>,
}

/// The latest `ComplianceConfirmed` of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct ComplianceRecord {
    pub seq: u64,
    pub confirmed_on: Date,
}

/// How the case ended (`CaseClosed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct Closing {
    pub seq: u64,
    pub closed_on: Date,
    pub outcome: Outcome,
}

/// What later entries say about an entry: its corrections and its erasure (DESIGN §4, §5).
/// Kept only for entries that some Correction or Erasure targets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct Annotations {
    /// The seqs of the Corrections that point at the entry, in log order.
    pub corrections: Vec<u64>,
    /// The Erasure of the entry's redactable text, if any.
    pub erasure: Option<ErasureNote>,
}

/// "Erased on DATE (reason)": shown where an entry's text blobs are gone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct ErasureNote {
    /// The Erasure entry.
    pub seq: u64,
    /// The UTC day the Erasure was recorded.
    pub erased_on: Date,
    pub reason: String,
}

/// One event of a case in the timeline, packed in a `u64`: `seq << 8 | has_text << 7 | kind`.
///
/// Seqs below 2^56 fit (a log that long would hold more entries than any disk); `kind` is the
/// event's index in the v1 catalogue and `has_text` says whether it holds redactable text (an
/// Erasure may only target such an entry). Packing keeps a case's index of entries at 8 bytes
/// per event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct TimelineItem(u64);

/// The largest seq a timeline item holds.
pub(crate) const MAX_SEQ: u64 = (1 << 56) - 1;

impl TimelineItem {
    /// `seq` must be at most [`MAX_SEQ`] (the caller checks) and `kind` a catalogue index.
    pub(crate) fn new(seq: u64, kind: EventKind, has_text: bool) -> TimelineItem {
        TimelineItem(seq << 8 | u64::from(has_text) << 7 | u64::from(kind as u8))
    }

    pub(crate) fn seq(self) -> u64 {
        self.0 >> 8
    }

    pub(crate) fn has_text(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// The event kind; `None` only for an item no code path writes (a corrupt snapshot is
    /// caught by [`TimelineItem::is_valid`] before use).
    pub(crate) fn kind(self) -> Option<EventKind> {
        EventKind::from_code((self.0 & 0x7f) as u8)
    }

    pub(crate) fn is_valid(self) -> bool {
        self.kind().is_some_and(EventKind::is_case_event)
    }
}

/// The v1 event variants, in catalogue order (docs/FORMAT.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum EventKind {
    RegisterOpened = 0,
    OfficerAuthorized,
    OfficerRevoked,
    ComplaintReceived,
    InspectionOpened,
    HearingHeld,
    ComplianceDeadlineSet,
    DeadlineExtended,
    ComplianceConfirmed,
    SanctionNotified,
    AuthoritiesNotified,
    CaseClosed,
    Correction,
    Erasure,
    IndexCommitted,
}

impl EventKind {
    const ALL: [EventKind; 15] = [
        EventKind::RegisterOpened,
        EventKind::OfficerAuthorized,
        EventKind::OfficerRevoked,
        EventKind::ComplaintReceived,
        EventKind::InspectionOpened,
        EventKind::HearingHeld,
        EventKind::ComplianceDeadlineSet,
        EventKind::DeadlineExtended,
        EventKind::ComplianceConfirmed,
        EventKind::SanctionNotified,
        EventKind::AuthoritiesNotified,
        EventKind::CaseClosed,
        EventKind::Correction,
        EventKind::Erasure,
        EventKind::IndexCommitted,
    ];

    /// The kind of a v1 event; `None` for a variant added to the catalogue after v1.
    pub(crate) fn of(event: &Event) -> Option<EventKind> {
        Some(match event {
            Event::RegisterOpened(_) => EventKind::RegisterOpened,
            Event::OfficerAuthorized(_) => EventKind::OfficerAuthorized,
            Event::OfficerRevoked(_) => EventKind::OfficerRevoked,
            Event::ComplaintReceived(_) => EventKind::ComplaintReceived,
            Event::InspectionOpened(_) => EventKind::InspectionOpened,
            Event::HearingHeld(_) => EventKind::HearingHeld,
            Event::ComplianceDeadlineSet(_) => EventKind::ComplianceDeadlineSet,
            Event::DeadlineExtended(_) => EventKind::DeadlineExtended,
            Event::ComplianceConfirmed(_) => EventKind::ComplianceConfirmed,
            Event::SanctionNotified(_) => EventKind::SanctionNotified,
            Event::AuthoritiesNotified(_) => EventKind::AuthoritiesNotified,
            Event::CaseClosed(_) => EventKind::CaseClosed,
            Event::Correction(_) => EventKind::Correction,
            Event::Erasure(_) => EventKind::Erasure,
            Event::IndexCommitted(_) => EventKind::IndexCommitted,
            _ => return None,
        })
    }

    fn from_code(code: u8) -> Option<EventKind> {
        EventKind::ALL.get(usize::from(code)).copied()
    }

    fn is_case_event(self) -> bool {
        !matches!(
            self,
            EventKind::RegisterOpened
                | EventKind::OfficerAuthorized
                | EventKind::OfficerRevoked
                | EventKind::IndexCommitted
        )
    }

    /// The event's type name, as `Event::name` and JSON write it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EventKind::RegisterOpened => "RegisterOpened",
            EventKind::OfficerAuthorized => "OfficerAuthorized",
            EventKind::OfficerRevoked => "OfficerRevoked",
            EventKind::ComplaintReceived => "ComplaintReceived",
            EventKind::InspectionOpened => "InspectionOpened",
            EventKind::HearingHeld => "HearingHeld",
            EventKind::ComplianceDeadlineSet => "ComplianceDeadlineSet",
            EventKind::DeadlineExtended => "DeadlineExtended",
            EventKind::ComplianceConfirmed => "ComplianceConfirmed",
            EventKind::SanctionNotified => "SanctionNotified",
            EventKind::AuthoritiesNotified => "AuthoritiesNotified",
            EventKind::CaseClosed => "CaseClosed",
            EventKind::Correction => "Correction",
            EventKind::Erasure => "Erasure",
            EventKind::IndexCommitted => "IndexCommitted",
        }
    }
}

/// The view's record of one case.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct CaseRecord {
    pub(crate) id: Box<str>,
    /// Index into the view's controllers.
    pub(crate) controller: u32,
    pub(crate) category: sijil_core::event::Category,
    pub(crate) opened_by: Opening,
    /// The day the complaint was received or the opening inspection began.
    pub(crate) opened_on: Date,
    pub(crate) status: CaseStatus,
    /// The deadline in force: set by ComplianceDeadlineSet, moved by DeadlineExtended, cleared
    /// by ComplianceConfirmed and CaseClosed.
    pub(crate) deadline: Option<Date>,
    /// The leaf hash of the case's latest event: the `prev` of its next CaseLink.
    pub(crate) head: Hash,
    /// Every event of the case, in log order (so sorted by seq); never empty.
    pub(crate) timeline: Vec<TimelineItem>,
    pub(crate) hearings: Vec<Hearing>,
    pub(crate) sanctions: Vec<SanctionRecord>,
    pub(crate) authorities: Vec<AuthoritiesRecord>,
    pub(crate) compliance: Option<ComplianceRecord>,
    pub(crate) closing: Option<Closing>,
}

impl CaseRecord {
    /// The seq of the entry that opened the case.
    pub(crate) fn opened_seq(&self) -> u64 {
        self.timeline.first().map_or(0, |t| t.seq())
    }

    /// The timeline item of entry `seq`, if it belongs to this case (binary search: a
    /// timeline is in log order).
    pub(crate) fn item(&self, seq: u64) -> Option<TimelineItem> {
        self.timeline
            .binary_search_by_key(&seq, |t| t.seq())
            .ok()
            .map(|i| self.timeline[i])
    }

    /// Whether the case is awaiting compliance with a deadline before `as_of`.
    pub(crate) fn is_overdue(&self, as_of: Date) -> bool {
        self.status == CaseStatus::AwaitingCompliance && self.deadline.is_some_and(|d| d < as_of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_items_round_trip() {
        for kind in EventKind::ALL {
            for (seq, text) in [(0, false), (1, true), (MAX_SEQ, true), (123_456_789, false)] {
                let t = TimelineItem::new(seq, kind, text);
                assert_eq!((t.seq(), t.kind(), t.has_text()), (seq, Some(kind), text));
            }
        }
        assert_eq!(TimelineItem(0x7f).kind(), None);
    }
}
