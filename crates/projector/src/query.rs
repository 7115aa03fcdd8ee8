//! What the HTTP crate asks the view (DESIGN §7): cases filtered, sorted and paged, a case
//! with its entries, controllers. Lookups are by id only: the register holds no personal
//! data, so there is nothing to search in free text.
//!
//! Every answer is an owned, `serde::Serialize` struct; dates are `YYYY-MM-DD`, hashes and
//! keys hex.

use serde::{Deserialize, Serialize};
use sijil_core::event::{Categories, Category, Date, Outcome};
use sijil_core::Hash;

use crate::case::{
    AppealRecord, AuthoritiesRecord, CaseStatus, Closing, ComplianceRecord, DecisionRecord,
    ErasureNote, Hearing, Opening, SanctionRecord,
};
use crate::listing::{CaseRow, Listing};
use crate::view::View;

/// Which cases to list. Every field that is set must match; `opened_from` and `opened_to`
/// are inclusive bounds on the day the case opened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    /// A controller id.
    pub controller: Option<String>,
    /// Cases that have this category among theirs.
    pub category: Option<Category>,
    pub opened_from: Option<Date>,
    pub opened_to: Option<Date>,
}

/// The order of a case listing. Ties on the opening day are broken by the opening entry's
/// seq, so every order is total and pages never overlap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Most recently opened first.
    #[default]
    OpenedDesc,
    OpenedAsc,
    /// By case id (byte order).
    Id,
}

/// Which page of a listing. `limit` is capped at [`Page::MAX_LIMIT`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    /// Skip `offset` items.
    Offset { offset: usize, limit: usize },
    /// The items after case `after` in the listing's order (the previous page's
    /// [`CasePage::next`]): stable while the register grows, unlike an offset. The cursor
    /// case need not match the filter any more (its status may have changed).
    After { after: String, limit: usize },
}

impl Page {
    /// The largest page.
    pub const MAX_LIMIT: usize = 1000;

    /// The first `limit` items.
    pub fn first(limit: usize) -> Page {
        Page::Offset { offset: 0, limit }
    }
}

impl Default for Page {
    fn default() -> Page {
        Page::first(50)
    }
}

/// A page of cases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CasePage {
    /// How many cases match the filter, on every page.
    pub total: usize,
    /// The position of the first item in the whole listing.
    pub offset: usize,
    pub items: Vec<CaseSummary>,
    /// The cursor of the next page ([`Page::After`]), if more items follow.
    pub next: Option<String>,
}

/// Why a query has no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error("there is no case {after} to continue the listing after")]
    UnknownCursor { after: String },
}

/// A controller as a case shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControllerRef {
    pub id: String,
    pub name: String,
}

/// A case in a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseSummary {
    pub id: String,
    pub controller: ControllerRef,
    /// At least one, in catalogue order (as amended).
    pub categories: Categories,
    pub opened_by: Opening,
    pub opened_on: Date,
    /// The entry that opened the case.
    pub opened_seq: u64,
    pub status: CaseStatus,
    /// The compliance deadline in force.
    pub deadline: Option<Date>,
    /// Awaiting compliance with a deadline before the `as_of` date of the query.
    pub overdue: bool,
    /// The number of the case's entries.
    pub entries: usize,
    /// The case's latest entry.
    pub last_seq: u64,
    pub outcome: Option<Outcome>,
}

/// A case with its entries: what the case page shows. The entries' bodies are read from the
/// log by seq (the view holds none).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub summary: CaseSummary,
    /// The leaf hash of the case's latest entry: the `prev` of its next case link.
    pub head: Hash,
    /// Every entry of the case, in log order.
    pub timeline: Vec<CaseEntry>,
    pub hearings: Vec<Hearing>,
    pub sanctions: Vec<SanctionRecord>,
    pub authorities_notified: Vec<AuthoritiesRecord>,
    /// The latest confirmation of compliance.
    pub compliance: Option<ComplianceRecord>,
    /// The latest `CaseClosed`, unless the case was reopened since.
    pub closing: Option<Closing>,
    pub decisions: Vec<DecisionRecord>,
    /// Appeals, each with its ruling once there is one.
    pub appeals: Vec<AppealRecord>,
}

/// One entry of a case, with what later entries say about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CaseEntry {
    pub seq: u64,
    /// The event's type, as in its JSON `"type"`.
    #[serde(rename = "type")]
    pub event: &'static str,
    /// Whether the entry holds redactable text (blobs to fetch, unless erased).
    pub has_text: bool,
    /// The Corrections that point at this entry.
    pub corrected_by: Vec<u64>,
    /// The Amendments that point at this entry, in log order.
    pub amended_by: Vec<u64>,
    pub erasure: Option<ErasureNote>,
}

/// A controller in the list of controllers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControllerSummary {
    pub id: String,
    pub name: String,
    pub cases: usize,
    /// Cases not closed (neither closed, inadmissible nor forwarded).
    pub open_cases: usize,
}

/// A controller and its cases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControllerDetail {
    pub id: String,
    /// The name its latest case gives.
    pub name: String,
    /// Names its earlier cases gave, in order of first use.
    pub former_names: Vec<String>,
    /// In order of opening.
    pub cases: Vec<CaseSummary>,
}

impl View {
    /// The listing of this whole view: its cases and controllers as the whole-register
    /// answers read them ([`Listing`]). Built anew on each call (a server keeps one per
    /// snapshot).
    pub fn listing(&self) -> Listing {
        Listing::of_view(self)
    }

    /// Every case id, in order of opening ([`Listing::case_ids`]).
    pub fn case_ids(&self) -> Vec<String> {
        self.listing().case_ids()
    }

    /// Every case's summary, in id order ([`Listing::summaries`]).
    pub fn summaries(&self, as_of: Date) -> Vec<CaseSummary> {
        self.listing().summaries(as_of)
    }

    /// One page of the cases that match `filter` ([`Listing::cases`]).
    ///
    /// # Errors
    /// [`QueryError::UnknownCursor`] when `page` continues after a case id that does not exist.
    pub fn cases(
        &self,
        filter: &CaseFilter,
        sort: Sort,
        page: &Page,
        as_of: Date,
    ) -> Result<CasePage, QueryError> {
        self.listing().cases(filter, sort, page, as_of)
    }

    /// The case `id` with its entries, `overdue` as of `as_of`; `None` if no such case.
    pub fn case(&self, id: &str, as_of: Date) -> Option<CaseDetail> {
        let case = &self.state.cases[*self.case_index.get(id)? as usize];
        let timeline = case
            .timeline
            .iter()
            .map(|t| {
                let notes = self.annotations(t.seq());
                CaseEntry {
                    seq: t.seq(),
                    event: t.kind().map_or("unknown", |k| k.name()),
                    has_text: t.has_text(),
                    corrected_by: notes.map(|a| a.corrections.clone()).unwrap_or_default(),
                    amended_by: notes.map(|a| a.amendments.clone()).unwrap_or_default(),
                    erasure: notes.and_then(|a| a.erasure.clone()),
                }
            })
            .collect();
        Some(CaseDetail {
            summary: {
                let controller = &self.state.controllers[case.controller as usize];
                CaseRow::of(case, case.controller).summary(&controller.id, &controller.name, as_of)
            },
            head: case.head,
            timeline,
            hearings: case.hearings.clone(),
            sanctions: case.sanctions.clone(),
            authorities_notified: case.authorities.clone(),
            compliance: case.compliance,
            closing: case.closing,
            decisions: case.decisions.clone(),
            appeals: case.appeals.clone(),
        })
    }

    /// The controller `id` with its cases ([`Listing::controller`]).
    pub fn controller(&self, id: &str, as_of: Date) -> Option<ControllerDetail> {
        self.listing().controller(id, as_of)
    }

    /// Every controller, by id ([`Listing::controllers`]).
    pub fn controllers(&self) -> Vec<ControllerSummary> {
        self.listing().controllers()
    }
}
