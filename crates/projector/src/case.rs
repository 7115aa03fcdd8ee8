//! What the view keeps about one case: a compact record, never the entries' bodies.
//!
//! Memory grows with the number of cases, plus one 8-byte timeline item per case event (the
//! index from a case to its entries, which the HTTP crate reads the bodies with) and the few
//! clear-text facts the register shows (hearing places, sanctions, authorities notified).

use serde::{Deserialize, Serialize};
use sijil_core::event::{Appellant, Categories, Date, Event, Outcome, Ruling, Sanction};
use sijil_core::Hash;

/// Where a case stands. It follows the events (DESIGN §6, and the state machine in
/// `crates/projector/README.md`):
///
/// ```text
/// open ─▶ under investigation ─▶ awaiting compliance ─▶ complied | sanctioned ─▶ closed
///   │     (hearing, inspection)  (deadline set)                                   │ ▲
///   ├─▶ inadmissible | forwarded (first act on a complaint; closed)              │ │
///   │                                                           reopened ◀────────┘ │
///   └─ any active state ⇄ suspended (ProceedingsSuspended / Resumed) ──▶ closed ────┘
///      sanctioned or closed ─▶ under appeal (AppealLodged) ─▶ back (CourtRuling)
/// ```
///
/// - `ComplaintReceived` opens a case as `Open`; an `InspectionOpened` that opens a case opens
///   it `UnderInvestigation` (an inspection is an investigation).
/// - `HearingHeld` and `InspectionOpened` move an `Open` or `Reopened` case to
///   `UnderInvestigation`, and leave a case that is further along where it is.
/// - `ComplianceDeadlineSet` and `DeadlineExtended` make it `AwaitingCompliance`, whatever came
///   before (new obligations, or more time after a sanction).
/// - `ComplianceConfirmed` makes it `Complied`, `SanctionNotified` makes it `Sanctioned`.
/// - `ComplaintInadmissible` and `ComplaintForwarded` make it `Inadmissible` or `Forwarded`,
///   and `CaseClosed` makes it `Closed`: the three closed states. Only Correction, Erasure,
///   Amendment, DecisionPublished, AppealLodged and CaseReopened may follow.
/// - `CaseReopened` makes a closed case `Reopened` (an active state).
/// - `ProceedingsSuspended` makes an active case `Suspended`; `ProceedingsResumed` puts it
///   back in the state it was suspended in.
/// - `AppealLodged` makes a sanctioned or closed case `UnderAppeal`; `CourtRuling` puts it
///   back in the state it was appealed in.
/// - `AuthoritiesNotified`, `DecisionPublished`, `Correction`, `Erasure` and `Amendment` do
///   not change it.
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
    Suspended,
    UnderAppeal,
    Reopened,
    Inadmissible,
    Forwarded,
}

impl CaseStatus {
    /// Every status, in the order a case goes through them.
    pub const ALL: [CaseStatus; 11] = [
        CaseStatus::Open,
        CaseStatus::UnderInvestigation,
        CaseStatus::AwaitingCompliance,
        CaseStatus::Complied,
        CaseStatus::Sanctioned,
        CaseStatus::Suspended,
        CaseStatus::UnderAppeal,
        CaseStatus::Reopened,
        CaseStatus::Closed,
        CaseStatus::Inadmissible,
        CaseStatus::Forwarded,
    ];

    /// Whether the case is over: `Closed`, `Inadmissible` or `Forwarded`.
    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            CaseStatus::Closed | CaseStatus::Inadmissible | CaseStatus::Forwarded
        )
    }

    /// The snake_case name used in JSON and URLs.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::UnderInvestigation => "under_investigation",
            CaseStatus::AwaitingCompliance => "awaiting_compliance",
            CaseStatus::Complied => "complied",
            CaseStatus::Sanctioned => "sanctioned",
            CaseStatus::Closed => "closed",
            CaseStatus::Suspended => "suspended",
            CaseStatus::UnderAppeal => "under_appeal",
            CaseStatus::Reopened => "reopened",
            CaseStatus::Inadmissible => "inadmissible",
            CaseStatus::Forwarded => "forwarded",
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

/// A decision the authority published (`DecisionPublished`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct DecisionRecord {
    pub seq: u64,
    pub published_on: Date,
    pub decision_number: String,
}

/// An appeal (`AppealLodged`) and, once ruled on, its `CourtRuling`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct AppealRecord {
    pub seq: u64,
    pub lodged_on: Date,
    pub court: String,
    pub by: Appellant,
    pub ruling: Option<RulingRecord>,
}

/// A court's ruling on an appeal (`CourtRuling`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct RulingRecord {
    pub seq: u64,
    pub ruled_on: Date,
    pub ruling: Ruling,
}

/// What later entries say about an entry: its corrections, amendments and erasure (DESIGN
/// §4, §5). Kept only for entries that some Correction, Amendment or Erasure targets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, bincode::Encode, bincode::Decode)]
pub struct Annotations {
    /// The seqs of the Corrections that point at the entry, in log order.
    pub corrections: Vec<u64>,
    /// The seqs of the Amendments that point at the entry, in log order (each names the
    /// field it changes and the new value; the entry before gives the old one).
    pub amendments: Vec<u64>,
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
    LogKeyRotated,
    ComplaintInadmissible,
    ComplaintForwarded,
    ProceedingsSuspended,
    ProceedingsResumed,
    DecisionPublished,
    AppealLodged,
    CourtRuling,
    CaseReopened,
    Amendment,
}

impl EventKind {
    #[cfg(test)]
    const ALL: [EventKind; 25] = [
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
        EventKind::LogKeyRotated,
        EventKind::ComplaintInadmissible,
        EventKind::ComplaintForwarded,
        EventKind::ProceedingsSuspended,
        EventKind::ProceedingsResumed,
        EventKind::DecisionPublished,
        EventKind::AppealLodged,
        EventKind::CourtRuling,
        EventKind::CaseReopened,
        EventKind::Amendment,
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
            Event::LogKeyRotated(_) => EventKind::LogKeyRotated,
            Event::ComplaintInadmissible(_) => EventKind::ComplaintInadmissible,
            Event::ComplaintForwarded(_) => EventKind::ComplaintForwarded,
            Event::ProceedingsSuspended(_) => EventKind::ProceedingsSuspended,
            Event::ProceedingsResumed(_) => EventKind::ProceedingsResumed,
            Event::DecisionPublished(_) => EventKind::DecisionPublished,
            Event::AppealLodged(_) => EventKind::AppealLodged,
            Event::CourtRuling(_) => EventKind::CourtRuling,
            Event::CaseReopened(_) => EventKind::CaseReopened,
            Event::Amendment(_) => EventKind::Amendment,
            _ => return None,
        })
    }

    fn from_code(code: u8) -> Option<EventKind> {
        Some(match code {
            0 => EventKind::RegisterOpened,
            1 => EventKind::OfficerAuthorized,
            2 => EventKind::OfficerRevoked,
            3 => EventKind::ComplaintReceived,
            4 => EventKind::InspectionOpened,
            5 => EventKind::HearingHeld,
            6 => EventKind::ComplianceDeadlineSet,
            7 => EventKind::DeadlineExtended,
            8 => EventKind::ComplianceConfirmed,
            9 => EventKind::SanctionNotified,
            10 => EventKind::AuthoritiesNotified,
            11 => EventKind::CaseClosed,
            12 => EventKind::Correction,
            13 => EventKind::Erasure,
            14 => EventKind::IndexCommitted,
            15 => EventKind::LogKeyRotated,
            16 => EventKind::ComplaintInadmissible,
            17 => EventKind::ComplaintForwarded,
            18 => EventKind::ProceedingsSuspended,
            19 => EventKind::ProceedingsResumed,
            20 => EventKind::DecisionPublished,
            21 => EventKind::AppealLodged,
            22 => EventKind::CourtRuling,
            23 => EventKind::CaseReopened,
            24 => EventKind::Amendment,
            _ => return None,
        })
    }

    /// Whether a Correction, Erasure or Amendment: events about an earlier entry, which do
    /// not move the case forward (they may follow anything, a closure included).
    pub(crate) fn is_annotation(self) -> bool {
        matches!(
            self,
            EventKind::Correction | EventKind::Erasure | EventKind::Amendment
        )
    }

    fn is_case_event(self) -> bool {
        !matches!(
            self,
            EventKind::RegisterOpened
                | EventKind::OfficerAuthorized
                | EventKind::OfficerRevoked
                | EventKind::IndexCommitted
                | EventKind::LogKeyRotated
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
            EventKind::LogKeyRotated => "LogKeyRotated",
            EventKind::ComplaintInadmissible => "ComplaintInadmissible",
            EventKind::ComplaintForwarded => "ComplaintForwarded",
            EventKind::ProceedingsSuspended => "ProceedingsSuspended",
            EventKind::ProceedingsResumed => "ProceedingsResumed",
            EventKind::DecisionPublished => "DecisionPublished",
            EventKind::AppealLodged => "AppealLodged",
            EventKind::CourtRuling => "CourtRuling",
            EventKind::CaseReopened => "CaseReopened",
            EventKind::Amendment => "Amendment",
        }
    }
}

/// The view's record of one case.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub(crate) struct CaseRecord {
    pub(crate) id: Box<str>,
    /// Index into the view's controllers.
    pub(crate) controller: u32,
    pub(crate) categories: Categories,
    pub(crate) opened_by: Opening,
    /// The day the complaint was received or the opening inspection began.
    pub(crate) opened_on: Date,
    pub(crate) status: CaseStatus,
    /// The entry that put the case in `status`.
    pub(crate) status_seq: u64,
    /// The state to go back to: the one a suspension or an appeal interrupted.
    pub(crate) resume_to: Option<CaseStatus>,
    /// Each event's own date (`Event::own_date`, as amended), in step with `timeline`;
    /// `None` for events without one. The dates that are set never go backwards.
    pub(crate) dates: Vec<Option<Date>>,
    /// Every deadline set or extended, `(seq, due_on as amended)`, in log order.
    pub(crate) deadlines: Vec<(u64, Date)>,
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
    pub(crate) decisions: Vec<DecisionRecord>,
    pub(crate) appeals: Vec<AppealRecord>,
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

    /// The position of entry `seq` in the timeline.
    pub(crate) fn position(&self, seq: u64) -> Option<usize> {
        self.timeline.binary_search_by_key(&seq, |t| t.seq()).ok()
    }

    /// The latest date of the case and the entry that carries it: the last date set in
    /// `dates` (they never go backwards). `None` only for a case with no dated event, which
    /// no path builds (the opening event is dated).
    pub(crate) fn latest_date(&self) -> Option<(u64, Date)> {
        self.dates_before(self.timeline.len()).next()
    }

    /// The dated entries before position `end`, latest first, as `(seq, date)`.
    pub(crate) fn dates_before(&self, end: usize) -> impl Iterator<Item = (u64, Date)> + '_ {
        self.timeline[..end]
            .iter()
            .zip(&self.dates[..end])
            .rev()
            .filter_map(|(t, d)| d.map(|d| (t.seq(), d)))
    }

    /// The dated entries after position `start`, earliest first, as `(seq, date)`.
    pub(crate) fn dates_after(&self, start: usize) -> impl Iterator<Item = (u64, Date)> + '_ {
        let from = (start + 1).min(self.timeline.len());
        self.timeline[from..]
            .iter()
            .zip(&self.dates[from..])
            .filter_map(|(t, d)| d.map(|d| (t.seq(), d)))
    }

    /// Whether the case has ever been sanctioned or is closed: what a published decision and
    /// an appeal need.
    pub(crate) fn has_decision(&self) -> bool {
        !self.sanctions.is_empty() || self.status.is_closed()
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
