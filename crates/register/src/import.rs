//! `sijil import`: a clerk's spreadsheet export, two CSV files, as the drafts of one append
//! (docs/FORMAT.md §5.1).
//!
//! A row becomes the JSON object an events file would hold for it (§5), which
//! [`parse_events`] reads into a [`Draft`]: the events file's model and validator, not a
//! second one. Each cell is first read by the type its field has in that model (a
//! [`Date`], [`Categories`], an [`Outcome`]...), only so that an error can name its column.
//! Every row is read and every error kept, so a clerk sees all of them at once.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sijil_core::event::{AmendedField, Appellant, Categories, Date, Outcome, Ruling, Sanction};
use sijil_core::note::Signer;

use crate::input::{parse_events, Draft, MAX_BATCH};
use crate::{Error, RegisterWriter};

/// The columns of the cases file, one row per case (docs/FORMAT.md §5.1).
pub const CASE_COLUMNS: [&str; 7] = [
    "case",
    "controller_id",
    "controller_name",
    "categories",
    "opened_on",
    "opening",
    "summary",
];

/// The columns of the events file, one row per event after a case's opening. `date` is the
/// event's own date and `text` its free text, whatever the type calls them.
pub const EVENT_COLUMNS: [&str; 19] = [
    "case",
    "type",
    "date",
    "place",
    "due_on",
    "sanction",
    "amount_mad",
    "legal_basis",
    "outcome",
    "authorities",
    "to",
    "decision_number",
    "court",
    "by",
    "ruling",
    "target",
    "field",
    "value",
    "text",
];

/// The most rule refusals [`check_rows`] lists: each one costs a new check of the batch.
pub const MAX_RULE_ERRORS: usize = 50;

/// Where a draft came from: a file and a row counted as a spreadsheet counts them (the
/// header is row 1, the first case or event row 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowRef {
    pub file: String,
    pub row: usize,
}

/// A row (or a header) of an import that cannot be recorded, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}: row {row}{}: {message}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct ImportError {
    pub file: String,
    pub row: usize,
    /// The column at fault, when one is.
    pub column: Option<String>,
    pub message: String,
}

/// A CSV export read into one batch: the cases' openings in the cases file's order, then the
/// events in the events file's order, each with the row it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Import {
    pub drafts: Vec<Draft>,
    pub rows: Vec<RowRef>,
}

/// Reads a cases file and an events file (their names are for messages).
///
/// The files are UTF-8 CSV, comma-separated, with a header row naming the columns in any
/// order; fields may be quoted (with `""` for a quote, and line breaks inside); a UTF-8 BOM
/// at the start (Excel writes one) is skipped; lines may end in CRLF. Rows whose every cell
/// is empty are skipped. Either file may hold no row; together they must hold one.
///
/// # Errors
/// Every [`ImportError`] found, in file and row order: an unknown or missing column, a row
/// with too many or too few cells, text that is not UTF-8, a cell that is not of its
/// column's type, a column the row's event type does not take, a required cell left empty,
/// more than [`MAX_BATCH`] rows.
pub fn parse_import(
    cases_name: &str,
    cases: &[u8],
    events_name: &str,
    events: &[u8],
) -> Result<Import, Vec<ImportError>> {
    let mut import = Import {
        drafts: Vec::new(),
        rows: Vec::new(),
    };
    let mut errors = Vec::new();
    for (name, bytes, columns, is_cases) in [
        (cases_name, cases, &CASE_COLUMNS[..], true),
        (events_name, events, &EVENT_COLUMNS[..], false),
    ] {
        for (row, cells) in read_file(name, bytes, columns, &mut errors) {
            let object = if is_cases {
                case_object(&cells)
            } else {
                event_object(&cells)
            };
            match object.and_then(|obj| draft_of(obj, row).map_err(|m| vec![(None, m)])) {
                Ok(draft) => {
                    import.drafts.push(draft);
                    import.rows.push(RowRef {
                        file: name.to_string(),
                        row,
                    });
                }
                Err(errs) => errors.extend(errs.into_iter().map(|(column, message)| ImportError {
                    file: name.to_string(),
                    row,
                    column,
                    message,
                })),
            }
        }
    }
    if import.drafts.len() + errors.len() == 0 {
        errors.push(ImportError {
            file: format!("{cases_name}, {events_name}"),
            row: 1,
            column: None,
            message: "no rows: both files hold only their header (or nothing)".into(),
        });
    }
    if import.drafts.len() > MAX_BATCH {
        errors.push(ImportError {
            file: events_name.to_string(),
            row: import.rows.last().map_or(0, |r| r.row),
            column: None,
            message: format!("more than {MAX_BATCH} rows in one import; split the files"),
        });
    }
    if errors.is_empty() {
        Ok(import)
    } else {
        // In the order a clerk reads them: by file, then row (a stable sort keeps a row's
        // columns in order).
        errors.sort_by_key(|e| (e.file != cases_name, e.row));
        Err(errors)
    }
}

/// Checks the import's batch by the register's rules, exactly as `sijil append --dry-run`
/// does ([`RegisterWriter::check_append`]), and lists the rows refused (at most
/// [`MAX_RULE_ERRORS`]). After a refusal the refused row and the later rows of its case are
/// set aside (they would be refused for its sake, or checked against a case that is not what
/// the sheet says) and the rest is checked again, so each listed refusal is one of its own.
/// Empty when the whole batch passes. Nothing is written.
///
/// # Errors
/// Any error of [`RegisterWriter::check_append`] other than a refused event (an I/O error,
/// an `expect_size` that does not hold).
pub fn check_rows(
    w: &mut RegisterWriter,
    import: &Import,
    officer: &Signer,
    now_ms: i64,
    expect_size: Option<u64>,
) -> Result<Vec<ImportError>, Error> {
    let mut drafts = import.drafts.clone();
    let mut rows: Vec<&RowRef> = import.rows.iter().collect();
    let mut errors = Vec::new();
    while !drafts.is_empty() {
        let (index, message) = match w.check_append(drafts.clone(), officer, now_ms, expect_size) {
            Ok(_) => break,
            Err(Error::Rejected {
                index,
                event,
                rejection,
            }) => (index, format!("{event} is rejected: {rejection}")),
            Err(Error::InvalidEvent {
                index,
                event,
                message,
            }) => (index, format!("{event}: {message}")),
            Err(e) => return Err(e),
        };
        let Some(&at) = rows.get(index) else {
            // The batch's own IndexCommitted, which the import never drafts.
            return Err(Error::Corrupt {
                what: format!("a refusal of event {index} of a batch of {}", drafts.len()),
            });
        };
        let case = drafts[index].case.clone();
        let later: Vec<usize> = (index + 1..drafts.len())
            .filter(|&i| case.is_some() && drafts[i].case == case)
            .collect();
        let mut message = message;
        if let (Some(case), false) = (&case, later.is_empty()) {
            let list: Vec<String> = later.iter().map(|&i| rows[i].row.to_string()).collect();
            message.push_str(&format!(
                " (the later rows of case {case} were not checked: {})",
                list.join(", ")
            ));
        }
        errors.push(ImportError {
            file: at.file.clone(),
            row: at.row,
            column: None,
            message,
        });
        for &i in later.iter().rev().chain(std::iter::once(&index)) {
            drafts.remove(i);
            rows.remove(i);
        }
        if errors.len() == MAX_RULE_ERRORS {
            break;
        }
    }
    Ok(errors)
}

/// Reads one CSV file: each non-empty row's number and cells by column name. The rows that
/// cannot be read, or a header that is wrong (then no row), go to `errors`.
fn read_file(
    name: &str,
    bytes: &[u8],
    allowed: &[&str],
    errors: &mut Vec<ImportError>,
) -> Vec<(usize, Cells)> {
    match read_rows(name, bytes, allowed, errors) {
        Ok(rows) => rows,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    }
}

fn read_rows(
    name: &str,
    bytes: &[u8],
    allowed: &[&str],
    problems: &mut Vec<ImportError>,
) -> Result<Vec<(usize, Cells)>, ImportError> {
    let err = |row: usize, column: Option<String>, message: String| ImportError {
        file: name.to_string(),
        row,
        column,
        message,
    };
    // Excel's "CSV UTF-8" starts with a BOM; it is not part of the first column's name.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut records = reader.byte_records();
    let header = match records.next() {
        None => return Ok(Vec::new()),
        Some(Err(e)) => return Err(err(1, None, csv_message(&e))),
        Some(Ok(h)) => h,
    };
    let mut names = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        let column = std::str::from_utf8(raw)
            .map_err(|_| err(1, None, format!("column {}: {NOT_UTF8}", i + 1)))?
            .trim()
            .to_ascii_lowercase();
        if !allowed.contains(&column.as_str()) {
            return Err(err(
                1,
                Some(column.clone()),
                format!("unknown column; the columns are: {}", allowed.join(", ")),
            ));
        }
        if names.contains(&column) {
            return Err(err(1, Some(column), "a column named twice".into()));
        }
        names.push(column);
    }
    for required in ["case", "type"] {
        if allowed.contains(&required) && !names.iter().any(|n| n == required) {
            return Err(err(1, Some(required.into()), "missing column".into()));
        }
    }
    let mut rows = Vec::new();
    for (i, record) in records.enumerate() {
        let n = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(err(n, None, csv_message(&e)));
                continue;
            }
        };
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if record.len() != names.len() {
            problems.push(err(
                n,
                None,
                format!(
                    "{} cells where the header has {} columns",
                    record.len(),
                    names.len()
                ),
            ));
            continue;
        }
        let mut cells = Cells::default();
        let mut bad = false;
        for (column, raw) in names.iter().zip(record.iter()) {
            match std::str::from_utf8(raw) {
                Ok(text) => cells.0.push((column.clone(), text.trim().to_string())),
                Err(_) => {
                    problems.push(err(n, Some(column.clone()), NOT_UTF8.into()));
                    bad = true;
                }
            }
        }
        if !bad {
            rows.push((n, cells));
        }
    }
    Ok(rows)
}

const NOT_UTF8: &str = "not UTF-8 text (save the sheet as \"CSV UTF-8\")";

fn csv_message(e: &csv::Error) -> String {
    format!("not readable as CSV: {e}")
}

/// A row's cells by column name (trimmed; empty when blank or the column is absent).
#[derive(Debug, Default)]
struct Cells(Vec<(String, String)>);

impl Cells {
    fn get(&self, column: &str) -> &str {
        self.0
            .iter()
            .find(|(c, _)| c == column)
            .map_or("", |(_, v)| v.as_str())
    }
}

type CellErrors = Vec<(Option<String>, String)>;

/// The JSON event of a row of the cases file: a `ComplaintReceived`, or an
/// `InspectionOpened` that opens the case.
fn case_object(cells: &Cells) -> Result<Map<String, Value>, CellErrors> {
    let mut errors = CellErrors::new();
    let mut need = |column: &str| -> String {
        let v = cells.get(column);
        if v.is_empty() {
            errors.push((Some(column.into()), "empty; every case needs one".into()));
        }
        v.to_string()
    };
    let case = need("case");
    let id = need("controller_id");
    let name = need("controller_name");
    let _ = need("categories");
    let _ = need("opened_on");
    let opening = need("opening");
    let categories = cell_value(cells, "categories", Kind::Categories, &mut errors);
    let date = cell_value(cells, "opened_on", Kind::Date, &mut errors);
    let summary = cells.get("summary");
    let mut obj = Map::new();
    obj.insert("case".into(), Value::String(case));
    let controller = serde_json::json!({ "id": id, "name": name });
    match opening.to_ascii_lowercase().as_str() {
        "complaint" => {
            obj.insert("type".into(), "ComplaintReceived".into());
            obj.insert("controller".into(), controller);
            obj.insert("categories".into(), categories.unwrap_or(Value::Null));
            obj.insert("received_on".into(), date.unwrap_or(Value::Null));
            if !summary.is_empty() {
                obj.insert("summary".into(), summary.into());
            }
        }
        "inspection" => {
            obj.insert("type".into(), "InspectionOpened".into());
            obj.insert("opened_on".into(), date.unwrap_or(Value::Null));
            obj.insert(
                "opens".into(),
                serde_json::json!({ "controller": controller, "categories": categories }),
            );
            if !summary.is_empty() {
                obj.insert("scope".into(), summary.into());
            }
        }
        "" => {}
        other => errors.push((
            Some("opening".into()),
            format!("{other:?}: expected complaint or inspection"),
        )),
    }
    if errors.is_empty() {
        Ok(obj)
    } else {
        Err(errors)
    }
}

/// How a cell becomes a JSON value, and the type that checks it.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Text,
    Date,
    /// `;`-separated, each item trimmed.
    List,
    Categories,
    /// An entry's seq.
    Seq,
    Outcome,
    Appellant,
    Ruling,
}

/// A cell read by `kind`; `None` (with its error pushed) when it is not of that type, or
/// when it is empty.
fn cell_value(cells: &Cells, column: &str, kind: Kind, errors: &mut CellErrors) -> Option<Value> {
    let text = cells.get(column);
    if text.is_empty() {
        return None;
    }
    let mut fail = |m: String| errors.push((Some(column.into()), m));
    match to_value(text, kind) {
        Ok(v) => Some(v),
        Err(m) => {
            fail(m);
            None
        }
    }
}

fn to_value(text: &str, kind: Kind) -> Result<Value, String> {
    fn typed<T: DeserializeOwned>(v: Value) -> Result<Value, String> {
        serde_json::from_value::<T>(v.clone())
            .map(|_| v)
            .map_err(|e| e.to_string())
    }
    let list = || {
        Value::Array(
            text.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )
    };
    match kind {
        Kind::Text => Ok(text.into()),
        Kind::Date => text
            .parse::<Date>()
            .map(|_| text.into())
            .map_err(|e| format!("{e} (dates are YYYY-MM-DD)")),
        Kind::List => Ok(list()),
        Kind::Categories => typed::<Categories>(list()),
        // `#N` is the case's own event N (from 0, as `sijil show --case` numbers them); the
        // row's case is added by `event_object`.
        Kind::Seq => match text.strip_prefix('#') {
            Some(n) => n
                .trim()
                .parse::<u32>()
                .map(|n| serde_json::json!({ "seq": n })),
            None => text.parse::<u64>().map(Value::from),
        }
        .map_err(|_| {
            format!("{text:?}: expected an entry's seq (a number) or #N, the case's event N")
        }),
        Kind::Outcome => typed::<Outcome>(text.into()),
        Kind::Appellant => typed::<Appellant>(text.into()),
        Kind::Ruling => typed::<Ruling>(text.into()),
    }
}

/// The columns a type takes: (column, the event's field, how the cell is read, required).
type Columns = &'static [(&'static str, &'static str, Kind, bool)];

/// The columns each event type of the events file takes, besides `case` and `type`.
/// `date` and `text` are the event's own date and free text under each type's field name.
fn columns_of(kind: &str) -> Option<Columns> {
    use Kind::*;
    Some(match kind {
        "InspectionOpened" => &[
            ("date", "opened_on", Date, true),
            ("text", "scope", Text, false),
        ],
        "HearingHeld" => &[
            ("date", "held_on", Date, true),
            ("place", "place", Text, true),
            ("text", "summary", Text, false),
        ],
        "ComplianceDeadlineSet" => &[
            ("due_on", "due_on", Date, true),
            ("text", "obligations", Text, true),
        ],
        "DeadlineExtended" => &[
            ("due_on", "due_on", Date, true),
            ("text", "reason", Text, false),
        ],
        "ComplianceConfirmed" => &[
            ("date", "confirmed_on", Date, true),
            ("text", "note", Text, false),
        ],
        // `sanction` and `amount_mad` are read together (see `event_object`).
        "SanctionNotified" => &[
            ("date", "notified_on", Date, true),
            ("legal_basis", "legal_basis", Text, true),
            ("text", "reasons", Text, false),
        ],
        "AuthoritiesNotified" => &[
            ("date", "notified_on", Date, true),
            ("authorities", "authorities", List, true),
        ],
        "CaseClosed" => &[
            ("date", "closed_on", Date, true),
            ("outcome", "outcome", Outcome, true),
            ("text", "summary", Text, false),
        ],
        "Correction" => &[
            ("target", "target", Seq, true),
            ("text", "erratum", Text, true),
        ],
        "Erasure" => &[
            ("target", "target", Seq, true),
            ("text", "reason", Text, true),
        ],
        "ComplaintInadmissible" => &[
            ("date", "decided_on", Date, true),
            ("text", "reason", Text, false),
        ],
        "ComplaintForwarded" => &[
            ("date", "forwarded_on", Date, true),
            ("to", "to", Text, true),
            ("text", "reason", Text, false),
        ],
        "ProceedingsSuspended" => &[
            ("date", "suspended_on", Date, true),
            ("text", "reason", Text, false),
        ],
        "ProceedingsResumed" => &[("date", "resumed_on", Date, true)],
        "DecisionPublished" => &[
            ("date", "published_on", Date, true),
            ("decision_number", "decision_number", Text, true),
            ("text", "summary", Text, false),
        ],
        "AppealLodged" => &[
            ("date", "lodged_on", Date, true),
            ("court", "court", Text, true),
            ("by", "by", Appellant, true),
        ],
        "CourtRuling" => &[
            ("date", "ruled_on", Date, true),
            ("court", "court", Text, true),
            ("ruling", "ruling", Ruling, true),
            ("text", "summary", Text, false),
        ],
        "CaseReopened" => &[
            ("date", "reopened_on", Date, true),
            ("text", "reason", Text, false),
        ],
        // `field` and `value` are read together (see `event_object`).
        "Amendment" => &[
            ("target", "target", Seq, true),
            ("text", "reason", Text, false),
        ],
        _ => return None,
    })
}

/// The columns read together by `event_object` for one type.
fn paired_columns(kind: &str) -> &'static [&'static str] {
    match kind {
        "SanctionNotified" => &["sanction", "amount_mad"],
        "Amendment" => &["field", "value"],
        _ => &[],
    }
}

/// The JSON event of a row of the events file.
fn event_object(cells: &Cells) -> Result<Map<String, Value>, CellErrors> {
    let mut errors = CellErrors::new();
    let case = cells.get("case");
    if case.is_empty() {
        errors.push((
            Some("case".into()),
            "empty; every event names its case".into(),
        ));
    }
    let kind = cells.get("type");
    let columns = match kind {
        "" => {
            errors.push((Some("type".into()), "empty (e.g. HearingHeld)".into()));
            return Err(errors);
        }
        "ComplaintReceived" => {
            errors.push((
                Some("type".into()),
                "a case is opened by a row of the cases file, not of the events file".into(),
            ));
            return Err(errors);
        }
        k => match columns_of(k) {
            Some(c) => c,
            None => {
                errors.push((
                    Some("type".into()),
                    format!("{k:?} is not a case event the import takes (docs/FORMAT.md §5.1)"),
                ));
                return Err(errors);
            }
        },
    };
    let mut obj = Map::new();
    obj.insert("case".into(), case.into());
    obj.insert("type".into(), kind.into());
    for (column, field, how, required) in columns {
        match cell_value(cells, column, *how, &mut errors) {
            Some(v) => {
                obj.insert((*field).into(), v);
            }
            None if *required && cells.get(column).is_empty() => {
                errors.push((Some((*column).into()), format!("empty; {kind} needs it")))
            }
            None => {}
        }
    }
    if let Some(Value::Object(target)) = obj.get_mut("target") {
        target.insert("case".into(), case.into());
    }
    let paired = paired_columns(kind);
    // A filled cell the type has no use for is an error: dropping it silently would lose
    // what the clerk meant to record.
    for column in EVENT_COLUMNS {
        let used = ["case", "type"].contains(&column)
            || columns.iter().any(|c| c.0 == column)
            || paired.contains(&column);
        if !used && !cells.get(column).is_empty() {
            errors.push((
                Some(column.into()),
                format!("{kind} takes no {column}; leave it empty"),
            ));
        }
    }
    match kind {
        "SanctionNotified" => sanction(cells, &mut obj, &mut errors),
        "Amendment" => amendment(cells, &mut obj, &mut errors),
        _ => {}
    }
    if errors.is_empty() {
        Ok(obj)
    } else {
        Err(errors)
    }
}

/// `sanction` (warning, formal_notice, fine, suspension, referral_to_prosecutor) and, for a
/// fine, `amount_mad` (whole dirhams).
fn sanction(cells: &Cells, obj: &mut Map<String, Value>, errors: &mut CellErrors) {
    let kind = cells.get("sanction");
    let amount = cells.get("amount_mad");
    if kind.is_empty() {
        errors.push((
            Some("sanction".into()),
            "empty; SanctionNotified needs it".into(),
        ));
        return;
    }
    let mut value = serde_json::json!({ "kind": kind });
    if !amount.is_empty() {
        // Spreadsheets may group digits ("20 000", "20,000"): the amount is whole dirhams.
        let digits: String = amount
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | ','))
            .collect();
        match digits.parse::<u64>() {
            Ok(n) => value["amount_mad"] = n.into(),
            Err(_) => {
                errors.push((
                    Some("amount_mad".into()),
                    format!("{amount:?}: expected whole dirhams (a number)"),
                ));
                return;
            }
        }
    }
    match serde_json::from_value::<Sanction>(value.clone()) {
        Ok(_) => {
            obj.insert("sanction".into(), value);
        }
        Err(e) => errors.push((Some("sanction".into()), e.to_string())),
    }
}

/// `field` (date, due_on, controller, categories) and its new `value`: a date, `ID;NAME`
/// for a controller, `;`-separated categories.
fn amendment(cells: &Cells, obj: &mut Map<String, Value>, errors: &mut CellErrors) {
    let field = cells.get("field");
    let text = cells.get("value");
    for (column, v) in [("field", field), ("value", text)] {
        if v.is_empty() {
            errors.push((Some(column.into()), "empty; Amendment needs it".into()));
        }
    }
    if field.is_empty() || text.is_empty() {
        return;
    }
    let value = match field {
        "date" | "due_on" => to_value(text, Kind::Date),
        "categories" => to_value(text, Kind::Categories),
        "controller" => match text.split_once(';') {
            Some((id, name)) => Ok(serde_json::json!({ "id": id.trim(), "name": name.trim() })),
            None => Err("a controller is written ID;NAME".into()),
        },
        other => {
            errors.push((
                Some("field".into()),
                format!("{other:?}: expected date, due_on, controller or categories"),
            ));
            return;
        }
    };
    let amend = value.and_then(|v| {
        let amend = serde_json::json!({ "field": field, "value": v });
        serde_json::from_value::<AmendedField>(amend.clone())
            .map(|_| amend)
            .map_err(|e| e.to_string())
    });
    match amend {
        Ok(a) => {
            obj.insert("amend".into(), a);
        }
        Err(m) => errors.push((Some("value".into()), m)),
    }
}

/// The draft of a row's JSON event, read exactly as a line of an events file.
fn draft_of(obj: Map<String, Value>, row: usize) -> Result<Draft, String> {
    let line = Value::Object(obj).to_string();
    let mut drafts = parse_events("row", &line).map_err(|e| e.message)?;
    let mut draft = drafts.pop().ok_or_else(|| "no event".to_string())?;
    // What an allocation report names; the row of its own file.
    draft.line = row;
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CASES: &str = "case,controller_id,controller_name,categories,opened_on,opening,summary\n";
    const EVENTS: &str = "case,type,date,place,due_on,sanction,amount_mad,legal_basis,outcome,authorities,to,decision_number,court,by,ruling,target,field,value,text\n";

    fn import(cases: &str, events: &str) -> Result<Import, Vec<ImportError>> {
        parse_import(
            "cases.csv",
            cases.as_bytes(),
            "events.csv",
            events.as_bytes(),
        )
    }

    #[test]
    fn reads_a_bom_crlf_export_with_quotes_and_arabic() {
        let cases = format!(
            "\u{feff}{}2023-0001,acme,\"ACME, SARL\",privacy;image,2023-01-02,complaint,\"Plainte \"\"urgente\"\"\r\nsur deux lignes\"\r\n2023-0002,شركة,شركة الاتصالات,geolocation,2023-02-01,Inspection,مراقبة\r\n,,,,,,\r\n",
            CASES.replace('\n', "\r\n")
        );
        let events = format!(
            "{EVENTS}2023-0001,HearingHeld,2023-01-06,الرباط,,,,,,,,,,,,,,,محضر الجلسة\n2023-0001,SanctionNotified,2023-02-01,,,fine,\"20 000\",\"Loi 09-08, art. 51\",,,,,,,,,,,\n2023-0001,Amendment,,,,,,,,,,,,,,#1,date,2023-01-07,\n"
        );
        let got = import(&cases, &events).expect("valid");
        let rows: Vec<(&str, usize)> = got.rows.iter().map(|r| (r.file.as_str(), r.row)).collect();
        assert_eq!(
            rows,
            [
                ("cases.csv", 2),
                ("cases.csv", 3),
                ("events.csv", 2),
                ("events.csv", 3),
                ("events.csv", 4)
            ]
        );
        let json = |i: usize| serde_json::to_value(&got.drafts[i].event).expect("json");
        assert_eq!(json(0)["controller"]["name"], "ACME, SARL");
        assert_eq!(json(0)["summary"], "Plainte \"urgente\"\r\nsur deux lignes");
        assert_eq!(
            json(0)["categories"],
            serde_json::json!(["privacy", "image"])
        );
        assert_eq!(json(1)["type"], "InspectionOpened");
        assert_eq!(json(1)["opens"]["controller"]["name"], "شركة الاتصالات");
        assert_eq!(json(2)["place"], "الرباط");
        assert_eq!(
            json(3)["sanction"],
            serde_json::json!({"kind":"fine","amount_mad":20000})
        );
        assert_eq!(
            got.drafts[4]
                .target
                .as_ref()
                .map(|t| (t.case.as_str(), t.seq)),
            Some(("2023-0001", 1))
        );
    }

    #[test]
    fn lists_every_bad_row_with_its_column() {
        let cases = format!(
            "{CASES}2023-0001,acme,ACME,privacy,2023-02-30,complaint,\n,acme,ACME,colour,2023-01-01,letter,\n2023-0003,x,X,privacy,2023-01-01,complaint\n"
        );
        let events = format!(
            "{EVENTS}2023-0001,HearingHeld,2023-01-06,,,,,,,,,,,,,,,,\n2023-0001,CaseClosed,2023-01-07,Rabat,,,,,finished,,,,,,,,,,\n2023-0001,Nope,,,,,,,,,,,,,,,,,\n"
        );
        let errors = import(&cases, &events).expect_err("bad rows");
        let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let want = [
            "cases.csv: row 2, column opened_on: ",
            "cases.csv: row 3, column case: empty",
            "cases.csv: row 3, column categories: ",
            "cases.csv: row 3, column opening: \"letter\"",
            "cases.csv: row 4: 6 cells where the header has 7 columns",
            "events.csv: row 2, column place: empty; HearingHeld needs it",
            "events.csv: row 3, column outcome: ",
            "events.csv: row 3, column place: CaseClosed takes no place",
            "events.csv: row 4, column type: \"Nope\"",
        ];
        assert_eq!(got.len(), want.len(), "{got:#?}");
        for (g, w) in got.iter().zip(want) {
            assert!(g.starts_with(w), "got {g:?}, want {w:?}");
        }
    }

    #[test]
    fn a_wrong_header_is_one_error_naming_the_column() {
        let errors = import("case,colour\n2023-1,red\n", EVENTS).expect_err("bad header");
        assert_eq!(errors.len(), 1);
        assert!(errors[0]
            .to_string()
            .starts_with("cases.csv: row 1, column colour: unknown column"));
        let errors = import(CASES, EVENTS).expect_err("no rows");
        assert!(errors[0].message.starts_with("no rows"));
        let errors =
            parse_import("c", b"case\n\xff\n", "e", EVENTS.as_bytes()).expect_err("latin-1");
        assert!(errors[0].to_string().contains("not UTF-8"), "{errors:?}");
    }
}
