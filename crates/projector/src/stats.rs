//! The register's statistics (DESIGN §6, §7), computed from the cases (a server keeps them
//! for the day: `Snapshot::stats` in sijil-http).
//!
//! One pass over the cases, so nothing is kept in step with the fold and the snapshot holds
//! no counters that could disagree with the cases.

use std::collections::BTreeMap;

use serde::Serialize;
use sijil_core::event::{Category, Date, Sanction};

use crate::case::CaseStatus;
use crate::view::View;

/// Counts over the whole register. Every status, category and sanction kind is listed, with 0
/// where there is none, so the JSON always has the same keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// The day `overdue` is computed for.
    pub as_of: Date,
    /// The number of entries in the log.
    pub entries: u64,
    pub cases: usize,
    pub controllers: usize,
    pub by_status: BTreeMap<CaseStatus, usize>,
    /// A case counts once under each of its categories, so these add up to more than
    /// `cases` when a case has several.
    pub by_category: BTreeMap<Category, usize>,
    /// By the year the case opened.
    pub by_year: BTreeMap<i32, usize>,
    /// Sanctions notified, by kind (`warning`, `fine`...).
    pub sanctions_by_kind: BTreeMap<&'static str, usize>,
    /// The sum of all fines, in MAD (saturating).
    pub fines_total_mad: u64,
    /// Cases awaiting compliance whose deadline is before `as_of`.
    pub overdue: usize,
    /// How the cases' compliance deadlines went, as of `as_of`.
    pub deadlines: DeadlineCounts,
}

/// How the cases' compliance deadlines went: each case with a deadline counts once, against
/// the last due date set or extended (as amended).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeadlineCounts {
    /// Compliance confirmed on or before the due date.
    pub kept: u64,
    /// Compliance confirmed after it, a sanction notified after it, or still awaited after it.
    pub missed: u64,
    /// Still awaited, not yet due.
    pub pending: u64,
}

pub(crate) const SANCTION_KINDS: [Sanction; 5] = [
    Sanction::Warning,
    Sanction::FormalNotice,
    Sanction::Fine { amount_mad: 0 },
    Sanction::Suspension,
    Sanction::ReferralToProsecutor,
];

impl View {
    /// The statistics, with `overdue` as of `as_of` ([`crate::Listing::stats`]).
    pub fn stats(&self, as_of: Date) -> Stats {
        self.listing().stats(as_of)
    }
}
