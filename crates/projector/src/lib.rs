//! sijil-projector: the register people read, as a projection of the log (DESIGN §6).
//!
//! A [`View`] is a pure, deterministic fold of the log's entries into the current register:
//! cases with their status, timeline, deadline, hearings, sanctions and outcome; controllers
//! and their cases; officers and their keys over time; statistics. The same code decides
//! whether the regulator may append an event, before it is signed ([`View::check_unsigned`]),
//! and whether a replayed log is valid ([`View::apply`] in `verify`, `audit` and every
//! mirror): each rule it breaks has its own [`Rejection`].
//!
//! No clock (dates like "overdue as of" are the caller's), no disk, no I/O, no threads. A
//! snapshot ([`View::to_snapshot`], [`View::resume`]) records the tree size and root it was
//! built from, so a restart applies only the tail of the log.
//!
//! ```text
//! let mut view = View::new();
//! for (entry, bytes) in log {                       // decoded, signatures verified
//!     view.apply(&entry, sijil_core::leaf_hash(&bytes))?;
//! }
//! let page = view.cases(&CaseFilter::default(), Sort::OpenedDesc, &Page::first(20), today)?;
//! ```
#![forbid(unsafe_code)]

mod case;
mod listing;
mod query;
pub mod records;
mod register;
mod rejection;
mod rules;
mod snapshot;
mod stats;
mod text;
mod view;

pub use case::{
    Annotations, AppealRecord, AuthoritiesRecord, CaseStatus, Closing, ComplianceRecord,
    DecisionRecord, ErasureNote, Hearing, Opening, RulingRecord, SanctionRecord,
};
pub use listing::{CaseRow, Listing, ListingBuilder, ListingError};
pub use query::{
    CaseDetail, CaseEntry, CaseFilter, CasePage, CaseSummary, ControllerDetail, ControllerRef,
    ControllerSummary, Page, QueryError, Sort,
};
pub use register::{required_role, LogKeyRecord, OfficerRecord, RegisterInfo, Revocation};
pub use rejection::{Rejection, TextProblem};
pub use snapshot::{SnapshotError, SNAPSHOT_VERSION};
pub use stats::{DeadlineCounts, Stats};
pub use text::{MAX_AUTHORITIES, MAX_ID_CHARS, MAX_NAME_CHARS, MAX_ORIGIN_CHARS, MAX_REASON_CHARS};
pub use view::View;

#[cfg(test)]
mod tests;
