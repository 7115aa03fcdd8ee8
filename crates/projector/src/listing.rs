//! The answers over the whole register — listings of cases, the open data's summaries, the
//! controllers, the statistics — from one compact row per case (issue 11).
//!
//! A [`Listing`] holds what those answers read of each case (its id, controller, categories,
//! status, dates, counts, and how its deadline went) and of each controller, and nothing of a
//! case's timeline, hearings or texts. A whole [`View`] gives one ([`View::listing`]); a
//! server that reads the writer's state instead of holding the view builds one from the
//! stored records ([`Listing::from_records`]) and keeps it in step with the cases each batch
//! changed ([`Listing::update`]): about 70 bytes per case where the view holds about 1 KiB.
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

/// What the listings and the statistics read of one case: its id, its [`Row`] and, if it
/// has any, its sanctions. A listing keeps the three apart, in its chunks ([`Chunk`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRow {
    id: Box<str>,
    row: Row,
    sanctions: Option<Sanctions>,
}

/// A case's row in a [`Chunk`], its id and sanctions apart: 48 bytes, where a row holding
/// them was 80 and its id a 16-byte allocation more (issue 11: the listing of 208,455 cases
/// and 25,012 controllers went from 22 MiB to 17, its rows from about 110 bytes a case to
/// about 68).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    opened_seq: u64,
    last_seq: u64,
    /// Where its id ends in its chunk's `ids` (it starts where the row before's ends).
    id_end: u32,
    /// The controller's place in [`Listing::controllers`].
    controller: u32,
    entries: u32,
    opened_on: Date,
    deadline: Option<Date>,
    /// The due day of the last deadline while `fate` is [`Fate::Awaiting`].
    due: Option<Date>,
    /// Bit `i` set for `Category::ALL[i]`.
    categories: u16,
    opened_by: Opening,
    status: CaseStatus,
    outcome: Option<Outcome>,
    fate: Fate,
    /// Whether its chunk's `sanctioned` has it.
    sanctioned: bool,
}

/// The sanctions notified in a case, which few cases have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sanctions {
    /// By kind, in the order of `SANCTION_KINDS`.
    by_kind: [u16; 5],
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
    /// Still awaited: missed once the day is past the row's `due`.
    Awaiting,
}

impl CaseRow {
    pub(crate) fn of(c: &CaseRecord, controller: u32) -> CaseRow {
        let mut categories = 0u16;
        for (i, k) in Category::ALL.iter().enumerate() {
            if c.categories.contains(*k) {
                categories |= 1 << i;
            }
        }
        let sanctions = (!c.sanctions.is_empty()).then(|| {
            let mut by_kind = [0u16; 5];
            let mut fines_mad = 0u64;
            for s in &c.sanctions {
                let kind = s.sanction.kind();
                if let Some(i) = SANCTION_KINDS.iter().position(|k| k.kind() == kind) {
                    by_kind[i] = by_kind[i].saturating_add(1);
                }
                if let Sanction::Fine { amount_mad } = s.sanction {
                    fines_mad = fines_mad.saturating_add(amount_mad);
                }
            }
            Sanctions { by_kind, fines_mad }
        });
        let (fate, due) = match c.deadlines.last() {
            None => (Fate::None, None),
            Some(&(_, due)) => match &c.compliance {
                Some(done) if done.confirmed_on <= due => (Fate::Kept, None),
                Some(_) => (Fate::Missed, None),
                None if c.sanctions.iter().any(|s| s.notified_on > due) => (Fate::Missed, None),
                None if c.status == CaseStatus::AwaitingCompliance => (Fate::Awaiting, Some(due)),
                None => (Fate::None, None),
            },
        };
        CaseRow {
            id: c.id.clone(),
            row: Row {
                opened_seq: c.opened_seq(),
                last_seq: c.timeline.last().map_or(0, |t| t.seq()),
                id_end: 0,
                controller,
                entries: u32::try_from(c.timeline.len()).unwrap_or(u32::MAX),
                opened_on: c.opened_on,
                deadline: c.deadline,
                due,
                categories,
                opened_by: c.opened_by,
                status: c.status,
                outcome: c.closing.map(|x| x.outcome),
                fate,
                sanctioned: sanctions.is_some(),
            },
            sanctions,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// This case's summary, its controller being `controller_id` named `controller_name`.
    pub(crate) fn summary(
        &self,
        controller_id: &str,
        controller_name: &str,
        as_of: Date,
    ) -> CaseSummary {
        summarize(&self.id, &self.row, controller_id, controller_name, as_of)
    }
}

impl Row {
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

/// Up to [`CHUNK`] rows by ordinal, with their ids in one string (one allocation per chunk
/// rather than one per case) and the sanctions of those that have any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Chunk {
    rows: Vec<Row>,
    /// Every row's id, one after the other (see [`Row::id_end`]).
    ids: String,
    /// By place in `rows`, ascending: the rows whose `sanctioned` is set.
    sanctioned: Vec<(u16, Sanctions)>,
}

impl Chunk {
    fn with_capacity(rows: usize) -> Chunk {
        Chunk {
            rows: Vec::with_capacity(rows),
            ids: String::with_capacity(rows * 10),
            sanctioned: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn id(&self, i: usize) -> &str {
        let start = i.checked_sub(1).map_or(0, |p| self.rows[p].id_end as usize);
        &self.ids[start..self.rows[i].id_end as usize]
    }

    /// Adds `c` last.
    fn push(&mut self, c: CaseRow) {
        let place = self.rows.len() as u16;
        self.ids.push_str(&c.id);
        let mut row = c.row;
        // A chunk's ids are at most CHUNK of them: far below 4 GiB.
        row.id_end = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.rows.push(row);
        if let Some(s) = c.sanctions {
            self.sanctioned.push((place, s));
        }
    }

    /// Puts `c` in place of row `i`.
    fn set(&mut self, i: usize, c: CaseRow) {
        if self.id(i) != &*c.id {
            // A case keeps its ordinal and its id; should a row change id all the same,
            // the ids after it move.
            let mut rebuilt = Chunk::with_capacity(self.len());
            for (j, row) in self.rows.iter().enumerate() {
                let id: Box<str> = if j == i {
                    c.id.clone()
                } else {
                    self.id(j).into()
                };
                rebuilt.push(CaseRow {
                    id,
                    row: *row,
                    sanctions: self.sanctions(j),
                });
            }
            *self = rebuilt;
        }
        let mut row = c.row;
        row.id_end = self.rows[i].id_end;
        self.rows[i] = row;
        let place = i as u16;
        let found = self.sanctioned.binary_search_by_key(&place, |(p, _)| *p);
        match (found, c.sanctions) {
            (Ok(k), Some(s)) => self.sanctioned[k].1 = s,
            (Ok(k), None) => {
                self.sanctioned.remove(k);
            }
            (Err(k), Some(s)) => self.sanctioned.insert(k, (place, s)),
            (Err(_), None) => {}
        }
    }

    fn sanctions(&self, i: usize) -> Option<Sanctions> {
        if !self.rows[i].sanctioned {
            return None;
        }
        let place = i as u16;
        self.sanctioned
            .binary_search_by_key(&place, |(p, _)| *p)
            .ok()
            .map(|k| self.sanctioned[k].1)
    }

    fn shrink_to_fit(&mut self) {
        self.rows.shrink_to_fit();
        self.ids.shrink_to_fit();
        self.sanctioned.shrink_to_fit();
    }

    fn heap_bytes(&self) -> usize {
        self.rows.capacity() * size_of::<Row>()
            + self.ids.capacity()
            + self.sanctioned.capacity() * size_of::<(u16, Sanctions)>()
    }
}

impl Sort {
    fn order(self, l: &Listing, a: u32, b: u32) -> Ordering {
        let opened = |o: u32| {
            let r = l.row(o);
            (r.opened_on, r.opened_seq)
        };
        match self {
            Sort::OpenedAsc => opened(a).cmp(&opened(b)),
            Sort::OpenedDesc => opened(b).cmp(&opened(a)),
            Sort::Id => l.id(a).cmp(l.id(b)),
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
    chunks: Vec<Arc<Chunk>>,
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
        chunks: Vec<Arc<Chunk>>,
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
    fn chunked(rows: impl Iterator<Item = CaseRow>) -> Vec<Arc<Chunk>> {
        let mut chunks = Vec::new();
        let mut chunk = Chunk::with_capacity(CHUNK);
        for row in rows {
            chunk.push(row);
            if chunk.len() == CHUNK {
                let mut full = std::mem::replace(&mut chunk, Chunk::with_capacity(CHUNK));
                full.shrink_to_fit();
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
        by_id.sort_unstable_by(|a, b| self.id(*a).cmp(self.id(*b)));
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
                    Arc::make_mut(&mut next.chunks[o / CHUNK]).set(o % CHUNK, row);
                }
                Ordering::Equal => {
                    match next.chunks.last_mut() {
                        Some(last) if last.len() < CHUNK => Arc::make_mut(last).push(row),
                        _ => {
                            let mut chunk = Chunk::default();
                            chunk.push(row);
                            next.chunks.push(Arc::new(chunk));
                        }
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

    fn row(&self, ordinal: u32) -> &Row {
        let o = ordinal as usize;
        &self.chunks[o / CHUNK].rows[o % CHUNK]
    }

    fn id(&self, ordinal: u32) -> &str {
        let o = ordinal as usize;
        self.chunks[o / CHUNK].id(o % CHUNK)
    }

    fn rows(&self) -> impl Iterator<Item = &Row> {
        self.chunks.iter().flat_map(|c| c.rows.iter())
    }

    fn ordinal_of(&self, id: &str) -> Option<u32> {
        self.by_id
            .binary_search_by(|&o| self.id(o).cmp(id))
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
        let rows: usize = self.chunks.iter().map(|c| c.heap_bytes()).sum();
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
        (0..self.cases as u32)
            .map(|o| self.id(o).to_owned())
            .collect()
    }

    /// Every case's summary, in id order ([`Sort::Id`]), `overdue` as of `as_of`: the open
    /// data's rows. One sort of all the cases, where following the listing's pages to the end
    /// filtered them all again for each page.
    pub fn summaries(&self, as_of: Date) -> Vec<CaseSummary> {
        self.by_id.iter().map(|&o| self.summary(o, as_of)).collect()
    }

    /// The summary of case `id`, `overdue` as of `as_of`.
    pub fn case_summary(&self, id: &str, as_of: Date) -> Option<CaseSummary> {
        self.ordinal_of(id).map(|o| self.summary(o, as_of))
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
                matched.retain(|&o| sort.order(self, o, cursor) == Ordering::Greater);
                (0, *limit)
            }
        };
        let before = total - matched.len();
        let end = skip
            .saturating_add(limit.min(Page::MAX_LIMIT))
            .min(matched.len());
        let start = skip.min(end);
        let cmp = |a: &u32, b: &u32| sort.order(self, *a, *b);
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
            .map(|&o| self.summary(o, as_of))
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
                .map(|&o| self.summary(o, as_of))
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
                Fate::Awaiting if c.due.is_some_and(|due| due < as_of) => st.deadlines.missed += 1,
                Fate::Awaiting => st.deadlines.pending += 1,
            }
        }
        for (_, s) in self.chunks.iter().flat_map(|c| c.sanctioned.iter()) {
            for (kind, n) in SANCTION_KINDS.iter().zip(s.by_kind) {
                *st.sanctions_by_kind.entry(kind.kind()).or_default() += usize::from(n);
            }
            st.fines_total_mad = st.fines_total_mad.saturating_add(s.fines_mad);
        }
        st
    }

    fn summary(&self, ordinal: u32, as_of: Date) -> CaseSummary {
        let c = self.row(ordinal);
        let controller = self.controllers.get(c.controller as usize);
        summarize(
            self.id(ordinal),
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
    chunks: Vec<Building>,
}

/// A chunk of a [`ListingBuilder`]: its rows as they come, compacted once it is full (the
/// records come in id order, often the ordinals' order: the rows of whole records are not
/// all held at once).
#[derive(Debug)]
enum Building {
    Open {
        rows: Vec<Option<CaseRow>>,
        filled: usize,
    },
    Full(Chunk),
}

impl Default for Building {
    fn default() -> Building {
        Building::Open {
            rows: Vec::new(),
            filled: 0,
        }
    }
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
            self.chunks.resize_with(o / CHUNK + 1, Building::default);
        }
        let taken = || {
            ListingError(format!(
                "case {} has ordinal {o}, which another case has",
                slot.id()
            ))
        };
        let building = &mut self.chunks[o / CHUNK];
        let Building::Open { rows, filled } = building else {
            return Err(taken());
        };
        if rows.len() <= o % CHUNK {
            rows.resize_with(o % CHUNK + 1, || None);
        }
        if rows[o % CHUNK].is_some() {
            return Err(taken());
        }
        rows[o % CHUNK] = Some(CaseRow::of(slot.record(), controller));
        *filled += 1;
        if *filled == CHUNK {
            let mut chunk = Chunk::with_capacity(CHUNK);
            for row in std::mem::take(rows).into_iter().flatten() {
                chunk.push(row);
            }
            chunk.shrink_to_fit();
            *building = Building::Full(chunk);
        }
        Ok(())
    }

    /// The listing.
    ///
    /// # Errors
    /// [`ListingError`] when the ordinals are not exactly `0..n`.
    pub fn finish(self) -> Result<Listing, ListingError> {
        let mut chunks = Vec::with_capacity(self.chunks.len());
        let last = self.chunks.len().saturating_sub(1);
        for (c, building) in self.chunks.into_iter().enumerate() {
            let rows = match building {
                Building::Full(chunk) => {
                    chunks.push(Arc::new(chunk));
                    continue;
                }
                Building::Open { rows, .. } => rows,
            };
            if c < last && rows.len() < CHUNK {
                return Err(ListingError(format!(
                    "no case has ordinal {}: the ordinals are not 0..n",
                    c * CHUNK + rows.len()
                )));
            }
            let n = rows.len();
            let mut chunk = Chunk::with_capacity(n);
            for row in rows {
                let Some(row) = row else {
                    return Err(ListingError(format!(
                        "a case is missing among ordinals {}..{}: the ordinals are not 0..n",
                        c * CHUNK,
                        c * CHUNK + n
                    )));
                };
                chunk.push(row);
            }
            chunk.shrink_to_fit();
            chunks.push(Arc::new(chunk));
        }
        Ok(Listing::assemble(self.entries, chunks, self.controllers))
    }
}

/// The summary of case `id` whose row is `c`, its controller being `controller_id` named
/// `controller_name`.
fn summarize(
    id: &str,
    c: &Row,
    controller_id: &str,
    controller_name: &str,
    as_of: Date,
) -> CaseSummary {
    CaseSummary {
        id: id.to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> Date {
        Date::from_ymd(2025, 1, d).expect("a date")
    }

    /// A case opened at `seq`, with sanctions if `fined` (a fine of that many MAD).
    fn case(id: &str, seq: u64, fined: Option<u64>) -> CaseRow {
        CaseRow {
            id: id.into(),
            row: Row {
                opened_seq: seq,
                last_seq: seq + 3,
                id_end: 0,
                controller: 0,
                entries: 4,
                opened_on: day(1 + (seq % 28) as u32),
                deadline: Some(day(28)),
                due: Some(day(28)),
                categories: 0b101,
                opened_by: Opening::Complaint,
                status: CaseStatus::AwaitingCompliance,
                outcome: None,
                fate: Fate::Awaiting,
                sanctioned: fined.is_some(),
            },
            sanctions: fined.map(|fines_mad| Sanctions {
                by_kind: [0, 0, 1, 0, 0],
                fines_mad,
            }),
        }
    }

    /// Every row of `chunk`, as it would be given again.
    fn rows_of(chunk: &Chunk) -> Vec<(String, Option<u64>)> {
        (0..chunk.len())
            .map(|i| {
                (
                    chunk.id(i).to_owned(),
                    chunk.sanctions(i).map(|s| s.fines_mad),
                )
            })
            .collect()
    }

    #[test]
    fn issue11_a_chunk_keeps_its_ids_in_one_string_and_its_sanctions_aside() {
        let mut chunk = Chunk::default();
        chunk.push(case("B-1", 0, None));
        chunk.push(case("B-22", 1, Some(500)));
        chunk.push(case("B-333", 2, None));
        let own = |s: &str, f: Option<u64>| (s.to_owned(), f);
        assert_eq!(
            rows_of(&chunk),
            [own("B-1", None), own("B-22", Some(500)), own("B-333", None)]
        );
        assert_eq!(chunk.ids, "B-1B-22B-333");
        // A case fined after, one whose fine was annulled, one whose fine changed.
        chunk.set(0, case("B-1", 0, Some(7)));
        chunk.set(1, case("B-22", 1, None));
        chunk.set(2, case("B-333", 2, Some(9)));
        assert_eq!(
            rows_of(&chunk),
            [
                own("B-1", Some(7)),
                own("B-22", None),
                own("B-333", Some(9))
            ]
        );
        assert_eq!(chunk.sanctioned.len(), 2);
        // A row given another id: the ids after it move, each row keeps its own.
        chunk.set(1, case("B-4444", 1, Some(1)));
        assert_eq!(
            rows_of(&chunk),
            [
                own("B-1", Some(7)),
                own("B-4444", Some(1)),
                own("B-333", Some(9))
            ]
        );
        assert_eq!(chunk.rows[2].opened_seq, 2);
    }

    #[test]
    fn issue11_a_listing_holds_under_70_bytes_a_case() {
        assert!(size_of::<Row>() <= 48, "{} bytes", size_of::<Row>());
        let n = 3 * CHUNK + 17;
        let rows = (0..n).map(|i| case(&format!("B-{:07}", i + 1), i as u64 * 5, None));
        let controller = Arc::new(ControllerRow {
            id: "C-1".into(),
            name: "One".into(),
            former_names: Vec::new(),
            cases: (0..n as u32).collect(),
        });
        let listing = Listing::assemble(5 * n as u64, Listing::chunked(rows), vec![controller]);
        assert_eq!(listing.case_count(), n);
        assert_eq!(listing.id(CHUNK as u32), format!("B-{:07}", CHUNK + 1));
        let per_case = listing.heap_bytes() / n;
        assert!(per_case < 70, "{per_case} bytes a case");
    }
}
