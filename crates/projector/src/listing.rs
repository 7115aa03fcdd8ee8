//! The answers over the whole register — listings of cases, the open data's summaries, the
//! controllers, the statistics — from one compact row per case (issue 11).
//!
//! A [`Listing`] holds what those answers read of each case (its id, controller, categories,
//! status, dates, counts, and how its deadline went) and of each controller, and nothing of a
//! case's timeline, hearings or texts. A whole [`View`] gives one ([`View::listing`]); a
//! server that reads the writer's state instead of holding the view builds one from the
//! stored records ([`Listing::from_records`]) and keeps it in step with the cases each batch
//! changed ([`Listing::update`]): about 100 bytes per case where the view holds about 1 KiB.
//! Every such answer is computed here, once, whichever way the listing was built.
//!
//! Cases are kept by ordinal (their place in order of opening), in chunks shared between
//! successive listings, so that an update copies only the chunks it changes.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Datelike;
use sijil_core::event::{Categories, Category, Date, Outcome, Sanction};

use crate::case::{CaseRecord, CaseStatus, Opening};
use crate::query::{
    CaseFilter, CasePage, CaseSummary, ControllerDetail, ControllerRef, ControllerSummary, Page,
    QueryError, Sort,
};
use crate::records::{CaseSlot, ControllerSlot};
use crate::stats::{DeadlineCounts, Stats, SANCTION_KINDS};
use crate::view::{ControllerRecord, View};

/// Rows per shared chunk.
const CHUNK: usize = 4096;

/// What the listings and the statistics read of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRow {
    id: Box<str>,
    /// The controller's place in [`Listing::controllers`].
    controller: u32,
    /// Bit `i` set for `Category::ALL[i]`.
    categories: u16,
    opened_by: Opening,
    status: CaseStatus,
    outcome: Option<Outcome>,
    opened_on: Date,
    deadline: Option<Date>,
    opened_seq: u64,
    last_seq: u64,
    entries: u32,
    fate: Fate,
    /// Sanctions notified, by kind, in the order of `SANCTION_KINDS`.
    sanctions: [u16; 5],
    fines_mad: u64,
}

/// How a case's last deadline went, as far as it is known without a date; see
/// [`DeadlineCounts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// No deadline, or one that ended neither kept nor missed (closed or sanctioned before
    /// it was due, without compliance).
    None,
    Kept,
    Missed,
    /// Still awaited: missed once the day is past `due`.
    Awaiting {
        due: Date,
    },
}

impl CaseRow {
    pub(crate) fn of(c: &CaseRecord, controller: u32) -> CaseRow {
        let mut categories = 0u16;
        for (i, k) in Category::ALL.iter().enumerate() {
            if c.categories.contains(*k) {
                categories |= 1 << i;
            }
        }
        let mut sanctions = [0u16; 5];
        let mut fines_mad = 0u64;
        for s in &c.sanctions {
            let kind = s.sanction.kind();
            if let Some(i) = SANCTION_KINDS.iter().position(|k| k.kind() == kind) {
                sanctions[i] = sanctions[i].saturating_add(1);
            }
            if let Sanction::Fine { amount_mad } = s.sanction {
                fines_mad = fines_mad.saturating_add(amount_mad);
            }
        }
        let fate = match c.deadlines.last() {
            None => Fate::None,
            Some(&(_, due)) => match &c.compliance {
                Some(done) if done.confirmed_on <= due => Fate::Kept,
                Some(_) => Fate::Missed,
                None if c.sanctions.iter().any(|s| s.notified_on > due) => Fate::Missed,
                None if c.status == CaseStatus::AwaitingCompliance => Fate::Awaiting { due },
                None => Fate::None,
            },
        };
        CaseRow {
            id: c.id.clone(),
            controller,
            categories,
            opened_by: c.opened_by,
            status: c.status,
            outcome: c.closing.map(|x| x.outcome),
            opened_on: c.opened_on,
            deadline: c.deadline,
            opened_seq: c.opened_seq(),
            last_seq: c.timeline.last().map_or(0, |t| t.seq()),
            entries: u32::try_from(c.timeline.len()).unwrap_or(u32::MAX),
            fate,
            sanctions,
            fines_mad,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    fn has_category(&self, k: Category) -> bool {
        Category::ALL
            .iter()
            .position(|x| *x == k)
            .is_some_and(|i| self.categories & (1 << i) != 0)
    }

    fn categories(&self) -> Categories {
        let set: Vec<Category> = Category::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| self.categories & (1 << i) != 0)
            .map(|(_, k)| *k)
            .collect();
        // Built from a case's own (never empty) set, in the catalogue's order.
        Categories::new(set).unwrap_or_else(|_| Categories::one(Category::Other))
    }

    fn is_overdue(&self, as_of: Date) -> bool {
        self.status == CaseStatus::AwaitingCompliance && self.deadline.is_some_and(|d| d < as_of)
    }

    fn matches(&self, filter: &CaseFilter) -> bool {
        filter.status.is_none_or(|s| self.status == s)
            && filter.category.is_none_or(|k| self.has_category(k))
            && filter.opened_from.is_none_or(|d| self.opened_on >= d)
            && filter.opened_to.is_none_or(|d| self.opened_on <= d)
    }
}

impl Sort {
    fn order(self, a: &CaseRow, b: &CaseRow) -> Ordering {
        let opened = |c: &CaseRow| (c.opened_on, c.opened_seq);
        match self {
            Sort::OpenedAsc => opened(a).cmp(&opened(b)),
            Sort::OpenedDesc => opened(b).cmp(&opened(a)),
            Sort::Id => a.id.cmp(&b.id),
        }
    }
}

/// What the listings read of one controller.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ControllerRow {
    id: Box<str>,
    name: String,
    former_names: Vec<String>,
    /// Its cases' ordinals, in order of opening.
    cases: Vec<u32>,
}

impl ControllerRow {
    fn of(c: &ControllerRecord) -> ControllerRow {
        ControllerRow {
            id: c.id.clone(),
            name: c.name.clone(),
            former_names: c.former_names.clone(),
            cases: c.cases.clone(),
        }
    }
}

/// A case's row, or what is wrong with the records a listing is built from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("listing: {0}")]
pub struct ListingError(String);

/// One row per case and per controller: the whole-register answers (see the module).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listing {
    /// The number of entries in the log.
    entries: u64,
    /// By ordinal, in chunks of [`CHUNK`].
    chunks: Vec<Arc<Vec<CaseRow>>>,
    cases: usize,
    /// Ordinals in id order.
    by_id: Vec<u32>,
    /// In a stable order (a row's `controller` is a place here): new ones are added last.
    controllers: Vec<Arc<ControllerRow>>,
    /// Places in `controllers`, in id order.
    controllers_by_id: Vec<u32>,
}

impl Listing {
    /// The listing of a whole view.
    pub fn of_view(view: &View) -> Listing {
        let s = &view.state;
        let controllers = s
            .controllers
            .iter()
            .map(|c| Arc::new(ControllerRow::of(c)))
            .collect();
        let rows = s.cases.iter().map(|c| CaseRow::of(c, c.controller));
        Listing::assemble(s.size, Listing::chunked(rows), controllers)
    }

    /// The listing of a register of `entries` entries from its stored records (a writer's
    /// state): every case, with its ordinal, and every controller.
    ///
    /// # Errors
    /// [`ListingError`] when the ordinals are not exactly `0..n`, or a case names a
    /// controller that is not given.
    pub fn from_records(
        entries: u64,
        cases: impl IntoIterator<Item = CaseSlot>,
        controllers: impl IntoIterator<Item = ControllerSlot>,
    ) -> Result<Listing, ListingError> {
        let mut builder = ListingBuilder::new(entries, controllers);
        for slot in cases {
            builder.push(&slot)?;
        }
        builder.finish()
    }

    /// The listing of `chunks` (rows by ordinal, every chunk but the last full) and
    /// `controllers`.
    fn assemble(
        entries: u64,
        chunks: Vec<Arc<Vec<CaseRow>>>,
        controllers: Vec<Arc<ControllerRow>>,
    ) -> Listing {
        let cases = chunks.iter().map(|c| c.len()).sum();
        let mut controllers_by_id: Vec<u32> = (0..controllers.len() as u32).collect();
        controllers_by_id.sort_unstable_by(|a, b| {
            controllers[*a as usize]
                .id
                .cmp(&controllers[*b as usize].id)
        });
        let mut listing = Listing {
            entries,
            chunks,
            cases,
            by_id: Vec::new(),
            controllers,
            controllers_by_id,
        };
        listing.sort_ids();
        listing
    }

    /// `rows` in chunks of [`CHUNK`].
    fn chunked(rows: impl Iterator<Item = CaseRow>) -> Vec<Arc<Vec<CaseRow>>> {
        let mut chunks = Vec::new();
        let mut chunk = Vec::with_capacity(CHUNK);
        for row in rows {
            chunk.push(row);
            if chunk.len() == CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                chunks.push(Arc::new(full));
            }
        }
        if !chunk.is_empty() {
            chunk.shrink_to_fit();
            chunks.push(Arc::new(chunk));
        }
        chunks
    }

    fn sort_ids(&mut self) {
        let mut by_id: Vec<u32> = (0..self.cases as u32).collect();
        by_id.sort_unstable_by(|a, b| self.row(*a).id.cmp(&self.row(*b).id));
        self.by_id = by_id;
    }

    /// This listing with `cases` and `controllers` (new or changed, as stored after a batch)
    /// put in, for a register of `entries` entries. Unchanged rows are shared with `self`.
    ///
    /// # Errors
    /// [`ListingError`] when a case's ordinal leaves a gap, or its controller is unknown.
    pub fn update(
        &self,
        entries: u64,
        cases: impl IntoIterator<Item = CaseSlot>,
        controllers: impl IntoIterator<Item = ControllerSlot>,
    ) -> Result<Listing, ListingError> {
        let mut next = self.clone();
        next.entries = entries;
        for c in controllers {
            let row = Arc::new(ControllerRow::of(c.record()));
            let found = next
                .controllers_by_id
                .binary_search_by(|&p| next.controllers[p as usize].id.cmp(&row.id));
            match found {
                Ok(i) => {
                    let p = next.controllers_by_id[i] as usize;
                    next.controllers[p] = row;
                }
                Err(i) => {
                    next.controllers_by_id
                        .insert(i, next.controllers.len() as u32);
                    next.controllers.push(row);
                }
            }
        }
        let mut case_added = false;
        let mut slots: Vec<CaseSlot> = cases.into_iter().collect();
        slots.sort_by_key(CaseSlot::ordinal);
        for slot in slots {
            let controller = next.controller_place(slot.controller()).ok_or_else(|| {
                ListingError(format!(
                    "case {}: its controller {} is not stored",
                    slot.id(),
                    slot.controller()
                ))
            })?;
            let row = CaseRow::of(slot.record(), controller);
            let o = slot.ordinal() as usize;
            match o.cmp(&next.cases) {
                Ordering::Less => {
                    Arc::make_mut(&mut next.chunks[o / CHUNK])[o % CHUNK] = row;
                }
                Ordering::Equal => {
                    match next.chunks.last_mut() {
                        Some(last) if last.len() < CHUNK => Arc::make_mut(last).push(row),
                        _ => next.chunks.push(Arc::new(vec![row])),
                    }
                    next.cases += 1;
                    case_added = true;
                }
                Ordering::Greater => {
                    return Err(ListingError(format!(
                        "case {} has ordinal {o}, but the listing has {} cases",
                        slot.id(),
                        next.cases
                    )))
                }
            }
        }
        if case_added {
            next.sort_ids();
        }
        Ok(next)
    }

    fn row(&self, ordinal: u32) -> &CaseRow {
        let o = ordinal as usize;
        &self.chunks[o / CHUNK][o % CHUNK]
    }

    fn rows(&self) -> impl Iterator<Item = &CaseRow> {
        self.chunks.iter().flat_map(|c| c.iter())
    }

    fn ordinal_of(&self, id: &str) -> Option<u32> {
        self.by_id
            .binary_search_by(|&o| (*self.row(o).id).cmp(id))
            .ok()
            .map(|p| self.by_id[p])
    }

    fn controller_place(&self, id: &str) -> Option<u32> {
        place_of(&self.controllers, &self.controllers_by_id, id)
    }

    fn controller_row(&self, id: &str) -> Option<&ControllerRow> {
        self.controller_place(id)
            .map(|p| &*self.controllers[p as usize])
    }

    /// The number of cases.
    pub fn case_count(&self) -> usize {
        self.cases
    }

    /// An estimate of the heap this listing holds (capacities times sizes), shared chunks
    /// counted once per listing.
    pub fn heap_bytes(&self) -> usize {
        let rows: usize = self
            .chunks
            .iter()
            .map(|c| {
                c.capacity() * size_of::<CaseRow>() + c.iter().map(|r| r.id.len()).sum::<usize>()
            })
            .sum();
        let controllers: usize = self
            .controllers
            .iter()
            .map(|c| {
                size_of::<ControllerRow>()
                    + c.id.len()
                    + c.name.capacity()
                    + c.former_names.iter().map(String::capacity).sum::<usize>()
                    + c.cases.capacity() * 4
            })
            .sum();
        rows + (self.by_id.capacity() + self.controllers_by_id.capacity()) * 4 + controllers
    }

    /// Every case id, in order of opening.
    pub fn case_ids(&self) -> Vec<String> {
        self.rows().map(|c| c.id.to_string()).collect()
    }

    /// Every case's summary, in id order ([`Sort::Id`]), `overdue` as of `as_of`: the open
    /// data's rows. One sort of all the cases, where following the listing's pages to the end
    /// filtered them all again for each page.
    pub fn summaries(&self, as_of: Date) -> Vec<CaseSummary> {
        self.by_id
            .iter()
            .map(|&o| self.summary(self.row(o), as_of))
            .collect()
    }

    /// The summary of case `id`, `overdue` as of `as_of`.
    pub fn case_summary(&self, id: &str, as_of: Date) -> Option<CaseSummary> {
        self.ordinal_of(id)
            .map(|o| self.summary(self.row(o), as_of))
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
        let mut matched: Vec<u32> = match &filter.controller {
            Some(id) => match self.controller_row(id) {
                Some(c) => c
                    .cases
                    .iter()
                    .copied()
                    .filter(|&o| (o as usize) < self.cases && self.row(o).matches(filter))
                    .collect(),
                None => Vec::new(),
            },
            None => (0..self.cases as u32)
                .filter(|&o| self.row(o).matches(filter))
                .collect(),
        };
        let total = matched.len();
        let (skip, limit) = match page {
            Page::Offset { offset, limit } => (*offset, *limit),
            Page::After { after, limit } => {
                let cursor = self
                    .ordinal_of(after)
                    .ok_or_else(|| QueryError::UnknownCursor {
                        after: after.clone(),
                    })?;
                let cursor = self.row(cursor);
                matched.retain(|&o| sort.order(self.row(o), cursor) == Ordering::Greater);
                (0, *limit)
            }
        };
        let before = total - matched.len();
        let end = skip
            .saturating_add(limit.min(Page::MAX_LIMIT))
            .min(matched.len());
        let start = skip.min(end);
        let cmp = |a: &u32, b: &u32| sort.order(self.row(*a), self.row(*b));
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
            .map(|&o| self.summary(self.row(o), as_of))
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

    /// The controller `id` with its cases, `overdue` as of `as_of`; `None` if it has no case.
    pub fn controller(&self, id: &str, as_of: Date) -> Option<ControllerDetail> {
        let c = self.controller_row(id)?;
        Some(ControllerDetail {
            id: c.id.to_string(),
            name: c.name.clone(),
            former_names: c.former_names.clone(),
            cases: c
                .cases
                .iter()
                .filter(|&&o| (o as usize) < self.cases)
                .map(|&o| self.summary(self.row(o), as_of))
                .collect(),
        })
    }

    /// Every controller, by id.
    pub fn controllers(&self) -> Vec<ControllerSummary> {
        self.controllers_by_id
            .iter()
            .map(|&p| &self.controllers[p as usize])
            .map(|c| ControllerSummary {
                id: c.id.to_string(),
                name: c.name.clone(),
                cases: c.cases.len(),
                open_cases: c
                    .cases
                    .iter()
                    .filter(|&&o| (o as usize) < self.cases && !self.row(o).status.is_closed())
                    .count(),
            })
            .collect()
    }

    /// The statistics, with `overdue` as of `as_of` (the caller's today).
    pub fn stats(&self, as_of: Date) -> Stats {
        let mut st = Stats {
            as_of,
            entries: self.entries,
            cases: self.cases,
            controllers: self.controllers.len(),
            by_status: CaseStatus::ALL.iter().map(|&s| (s, 0)).collect(),
            by_category: Category::ALL.iter().map(|&c| (c, 0)).collect(),
            by_year: BTreeMap::new(),
            sanctions_by_kind: SANCTION_KINDS.iter().map(|s| (s.kind(), 0)).collect(),
            fines_total_mad: 0,
            overdue: 0,
            deadlines: DeadlineCounts::default(),
        };
        for c in self.rows() {
            *st.by_status.entry(c.status).or_default() += 1;
            for (i, k) in Category::ALL.iter().enumerate() {
                if c.categories & (1 << i) != 0 {
                    *st.by_category.entry(*k).or_default() += 1;
                }
            }
            *st.by_year.entry(c.opened_on.naive().year()).or_default() += 1;
            st.overdue += usize::from(c.is_overdue(as_of));
            match c.fate {
                Fate::None => {}
                Fate::Kept => st.deadlines.kept += 1,
                Fate::Missed => st.deadlines.missed += 1,
                Fate::Awaiting { due } if due < as_of => st.deadlines.missed += 1,
                Fate::Awaiting { .. } => st.deadlines.pending += 1,
            }
            for (kind, n) in SANCTION_KINDS.iter().zip(c.sanctions) {
                *st.sanctions_by_kind.entry(kind.kind()).or_default() += usize::from(n);
            }
            st.fines_total_mad = st.fines_total_mad.saturating_add(c.fines_mad);
        }
        st
    }

    fn summary(&self, c: &CaseRow, as_of: Date) -> CaseSummary {
        let controller = self.controllers.get(c.controller as usize);
        summarize(
            c,
            controller.map_or("", |x| &x.id),
            controller.map_or("", |x| &x.name),
            as_of,
        )
    }
}

/// A [`Listing`] built from stored records one case at a time, so that only the rows are
/// held, never the cases' whole records ([`Listing::from_records`]).
#[derive(Debug)]
pub struct ListingBuilder {
    entries: u64,
    controllers: Vec<Arc<ControllerRow>>,
    /// Controller id → place: each case looks its controller up.
    places: std::collections::HashMap<Box<str>, u32>,
    /// Rows by ordinal, in chunks of [`CHUNK`] (the records come in id order).
    chunks: Vec<Vec<Option<CaseRow>>>,
}

impl ListingBuilder {
    /// A builder for a register of `entries` entries and these controllers.
    pub fn new(entries: u64, controllers: impl IntoIterator<Item = ControllerSlot>) -> Self {
        let mut controllers: Vec<Arc<ControllerRow>> = controllers
            .into_iter()
            .map(|c| Arc::new(ControllerRow::of(c.record())))
            .collect();
        controllers.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        let places = controllers
            .iter()
            .enumerate()
            .map(|(p, c)| (c.id.clone(), p as u32))
            .collect();
        ListingBuilder {
            entries,
            controllers,
            places,
            chunks: Vec::new(),
        }
    }

    /// Adds one case.
    ///
    /// # Errors
    /// [`ListingError`] when its controller is not among the builder's.
    pub fn push(&mut self, slot: &CaseSlot) -> Result<(), ListingError> {
        let controller = self.places.get(slot.controller()).copied().ok_or_else(|| {
            ListingError(format!(
                "case {}: its controller {} is not stored",
                slot.id(),
                slot.controller()
            ))
        })?;
        let o = slot.ordinal() as usize;
        if self.chunks.len() <= o / CHUNK {
            self.chunks.resize_with(o / CHUNK + 1, Vec::new);
        }
        let chunk = &mut self.chunks[o / CHUNK];
        if chunk.len() <= o % CHUNK {
            chunk.resize_with(o % CHUNK + 1, || None);
        }
        if chunk[o % CHUNK].is_some() {
            return Err(ListingError(format!(
                "case {} has ordinal {o}, which another case has",
                slot.id()
            )));
        }
        chunk[o % CHUNK] = Some(CaseRow::of(slot.record(), controller));
        Ok(())
    }

    /// The listing.
    ///
    /// # Errors
    /// [`ListingError`] when the ordinals are not exactly `0..n`.
    pub fn finish(self) -> Result<Listing, ListingError> {
        let mut chunks = Vec::with_capacity(self.chunks.len());
        let last = self.chunks.len().saturating_sub(1);
        for (c, chunk) in self.chunks.into_iter().enumerate() {
            if c < last && chunk.len() < CHUNK {
                return Err(ListingError(format!(
                    "no case has ordinal {}: the ordinals are not 0..n",
                    c * CHUNK + chunk.len()
                )));
            }
            let n = chunk.len();
            let rows: Option<Vec<CaseRow>> = chunk.into_iter().collect();
            let Some(rows) = rows else {
                return Err(ListingError(format!(
                    "a case is missing among ordinals {}..{}: the ordinals are not 0..n",
                    c * CHUNK,
                    c * CHUNK + n
                )));
            };
            chunks.push(Arc::new(rows));
        }
        Ok(Listing::assemble(self.entries, chunks, self.controllers))
    }
}

/// Case `c`'s summary, its controller being `controller_id` named `controller_name`.
pub(crate) fn summarize(
    c: &CaseRow,
    controller_id: &str,
    controller_name: &str,
    as_of: Date,
) -> CaseSummary {
    CaseSummary {
        id: c.id.to_string(),
        controller: ControllerRef {
            id: controller_id.to_owned(),
            name: controller_name.to_owned(),
        },
        categories: c.categories(),
        opened_by: c.opened_by,
        opened_on: c.opened_on,
        opened_seq: c.opened_seq,
        status: c.status,
        deadline: c.deadline,
        overdue: c.is_overdue(as_of),
        entries: c.entries as usize,
        last_seq: c.last_seq,
        outcome: c.outcome,
    }
}

/// The place of controller `id` in `controllers`, whose places in id order are `by_id`.
fn place_of(controllers: &[Arc<ControllerRow>], by_id: &[u32], id: &str) -> Option<u32> {
    by_id
        .binary_search_by(|&p| (*controllers[p as usize].id).cmp(id))
        .ok()
        .map(|i| by_id[i])
}
