//! What the HTTP crate asks the view (DESIGN §7): cases filtered, sorted and paged, a case
//! with its entries, controllers. Lookups are by id only: the register holds no personal
//! data, so there is nothing to search in free text.
//!
//! Every answer is an owned, `serde::Serialize` struct; dates are `YYYY-MM-DD`, hashes and
//! keys hex.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use sijil_core::event::{Categories, Category, Date, Outcome};
use sijil_core::Hash;

use crate::case::{
    AppealRecord, AuthoritiesRecord, CaseRecord, CaseStatus, Closing, ComplianceRecord,
    DecisionRecord, ErasureNote, Hearing, Opening, SanctionRecord,
};
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

impl CaseFilter {
    fn matches(&self, c: &CaseRecord) -> bool {
        self.status.is_none_or(|s| c.status == s)
            && self.category.is_none_or(|k| c.categories.contains(k))
            && self.opened_from.is_none_or(|d| c.opened_on >= d)
            && self.opened_to.is_none_or(|d| c.opened_on <= d)
    }
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

impl Sort {
    fn compare(self, a: &CaseRecord, b: &CaseRecord) -> Ordering {
        let opened = |c: &CaseRecord| (c.opened_on, c.opened_seq());
        match self {
            Sort::OpenedAsc => opened(a).cmp(&opened(b)),
            Sort::OpenedDesc => opened(b).cmp(&opened(a)),
            Sort::Id => a.id.cmp(&b.id),
        }
    }
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
    /// Every case id, in order of opening.
    pub fn case_ids(&self) -> Vec<String> {
        self.state.cases.iter().map(|c| c.id.to_string()).collect()
    }

    /// Every case's summary, in id order ([`Sort::Id`]), `overdue` as of `as_of`: the open
    /// data's rows. One sort of all the cases, where following the listing's pages to the end
    /// filtered them all again for each page.
    pub fn summaries(&self, as_of: Date) -> Vec<CaseSummary> {
        let cases = &self.state.cases;
        let mut order: Vec<u32> = (0..cases.len() as u32).collect();
        order.sort_unstable_by(|a, b| Sort::Id.compare(&cases[*a as usize], &cases[*b as usize]));
        order
            .into_iter()
            .map(|i| self.summary(&cases[i as usize], as_of))
            .collect()
    }

    /// The cases that match `filter`, in `sort` order, one page of them; `overdue` is
    /// computed as of `as_of` (the caller's today: the view has no clock).
    ///
    /// Costs one pass over the cases (over the controller's cases when the filter names one)
    /// plus a partial sort of the first `offset + limit` matches.
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
        let cases = &self.state.cases;
        let mut matched: Vec<u32> = match &filter.controller {
            Some(id) => match self.controller_index.get(id.as_str()) {
                Some(&ci) => self.state.controllers[ci as usize]
                    .cases
                    .iter()
                    .copied()
                    .filter(|&i| filter.matches(&cases[i as usize]))
                    .collect(),
                None => Vec::new(),
            },
            None => (0..cases.len() as u32)
                .filter(|&i| filter.matches(&cases[i as usize]))
                .collect(),
        };
        let total = matched.len();
        let (skip, limit) = match page {
            Page::Offset { offset, limit } => (*offset, *limit),
            Page::After { after, limit } => {
                let &cursor = self.case_index.get(after.as_str()).ok_or_else(|| {
                    QueryError::UnknownCursor {
                        after: after.clone(),
                    }
                })?;
                let cursor = &cases[cursor as usize];
                matched.retain(|&i| sort.compare(&cases[i as usize], cursor) == Ordering::Greater);
                (0, *limit)
            }
        };
        let before = total - matched.len();
        let end = skip
            .saturating_add(limit.min(Page::MAX_LIMIT))
            .min(matched.len());
        let start = skip.min(end);
        let cmp = |a: &u32, b: &u32| sort.compare(&cases[*a as usize], &cases[*b as usize]);
        if end < matched.len() {
            if end == 0 {
                matched.clear();
            } else {
                matched.select_nth_unstable_by(end - 1, cmp);
                matched.truncate(end);
            }
        }
        matched.sort_unstable_by(cmp);
        let items: Vec<CaseSummary> = matched[start..]
            .iter()
            .map(|&i| self.summary(&cases[i as usize], as_of))
            .collect();
        // The offset asked for, even past the end (then with no items), not a clamped one.
        let offset = before + skip;
        let next = if offset + items.len() < total {
            items.last().map(|c| c.id.clone())
        } else {
            None
        };
        Ok(CasePage {
            total,
            offset,
            items,
            next,
        })
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
            summary: self.summary(case, as_of),
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

    /// The controller `id` with its cases, `overdue` as of `as_of`; `None` if it has no case.
    pub fn controller(&self, id: &str, as_of: Date) -> Option<ControllerDetail> {
        let c = &self.state.controllers[*self.controller_index.get(id)? as usize];
        Some(ControllerDetail {
            id: c.id.to_string(),
            name: c.name.clone(),
            former_names: c.former_names.clone(),
            cases: c
                .cases
                .iter()
                .map(|&i| self.summary(&self.state.cases[i as usize], as_of))
                .collect(),
        })
    }

    /// Every controller, by id.
    pub fn controllers(&self) -> Vec<ControllerSummary> {
        let mut all: Vec<ControllerSummary> = self
            .state
            .controllers
            .iter()
            .map(|c| ControllerSummary {
                id: c.id.to_string(),
                name: c.name.clone(),
                cases: c.cases.len(),
                open_cases: c
                    .cases
                    .iter()
                    .filter(|&&i| !self.state.cases[i as usize].status.is_closed())
                    .count(),
            })
            .collect();
        all.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        all
    }

    fn summary(&self, c: &CaseRecord, as_of: Date) -> CaseSummary {
        let controller = &self.state.controllers[c.controller as usize];
        CaseSummary {
            id: c.id.to_string(),
            controller: ControllerRef {
                id: controller.id.to_string(),
                name: controller.name.clone(),
            },
            categories: c.categories.clone(),
            opened_by: c.opened_by,
            opened_on: c.opened_on,
            opened_seq: c.opened_seq(),
            status: c.status,
            deadline: c.deadline,
            overdue: c.is_overdue(as_of),
            entries: c.timeline.len(),
            last_seq: c.timeline.last().map_or(0, |t| t.seq()),
            outcome: c.closing.map(|x| x.outcome),
        }
    }
}
