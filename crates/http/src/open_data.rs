//! Open data: the register view as downloads (CSV and JSON, one row per case and one per
//! event) and Atom feeds (RFC 4287) of new events, of one case and of one controller.
//!
//! Every row and every feed item names the page where it can be verified (`/affaires/{id}`,
//! whose Verify button checks it in the browser) and the entry's proof. The columns are
//! documented in docs/API.md ("Open data"). Like every answer, each download is computed
//! from one snapshot, whose checkpoint it names.

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sijil_core::Event;
use sijil_projector::Listing;

use crate::api::committed_entry;
use crate::error::Error;
use crate::pages::{esc, id_path, labels, Arg, Lang};
use crate::params::Query;
use crate::state::{AppState, Snapshot};
use crate::store::{Io, Store, StoredEntry};
use crate::tlog::SHORT_CACHE;

/// How many events the feed of new events carries (and a controller's feed).
const FEED_ITEMS: usize = 50;

/// One case, as a row of `cases.csv` / an object of `cases.json`.
#[derive(Debug, Serialize)]
pub struct CaseRow {
    pub id: String,
    pub controller_id: String,
    pub controller_name: String,
    /// At least one, in catalogue order: an array in JSON, joined with `;` in CSV.
    pub categories: Vec<&'static str>,
    pub opened_by: &'static str,
    pub opened_on: String,
    pub status: &'static str,
    pub deadline: String,
    pub overdue: bool,
    pub outcome: String,
    pub entries: usize,
    pub first_seq: u64,
    pub last_seq: u64,
    pub page: String,
}

/// One event (a log entry that belongs to a case), as a row of `events.csv` / `events.json`.
#[derive(Debug, Serialize)]
pub struct EventRow {
    pub seq: u64,
    pub case_id: String,
    #[serde(rename = "type")]
    pub event: &'static str,
    pub event_date: String,
    pub recorded_at: String,
    pub officer: String,
    pub leaf_hash: String,
    pub page: String,
    pub proof: String,
}

fn case_rows(listing: &Listing, today: sijil_core::event::Date) -> Vec<CaseRow> {
    listing
        .summaries(today)
        .into_iter()
        .map(|c| CaseRow {
            page: id_path("/affaires", &c.id),
            id: c.id,
            controller_id: c.controller.id,
            controller_name: c.controller.name,
            categories: c.categories.iter().map(|c| c.as_str()).collect(),
            opened_by: match c.opened_by {
                sijil_projector::Opening::Complaint => "complaint",
                sijil_projector::Opening::Inspection => "inspection",
            },
            opened_on: c.opened_on.to_string(),
            status: c.status.as_str(),
            deadline: c.deadline.map(|d| d.to_string()).unwrap_or_default(),
            overdue: c.overdue,
            outcome: c
                .outcome
                .and_then(|o| serde_json::to_value(o).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            entries: c.entries,
            first_seq: c.opened_seq,
            last_seq: c.last_seq,
        })
        .collect()
}

fn event_row(snapshot: &Snapshot, se: &StoredEntry) -> Option<EventRow> {
    let e = &se.entry;
    let case = e.case.as_ref()?;
    Some(EventRow {
        seq: e.seq,
        case_id: case.id.clone(),
        event: e.event.name(),
        event_date: crate::pages::event_date(&e.event)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        recorded_at: rfc3339(e.recorded_at),
        officer: snapshot
            .officer(&e.signer)
            .map_or_else(|| e.signer.to_string(), |o| o.name.clone()),
        leaf_hash: se.leaf.to_hex(),
        page: format!("{}#e{}", id_path("/affaires", &case.id), e.seq),
        proof: format!("/api/v1/entries/{}/tlog-proof", e.seq),
    })
}

/// Every case's event, in log order.
fn event_rows(
    store: &Store,
    snapshot: &Snapshot,
    today: sijil_core::event::Date,
) -> Result<Vec<EventRow>, Error> {
    let tree = snapshot.tree();
    let seqs = snapshot.all_case_seqs(today)?;
    let mut rows = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let se = committed_entry(store, tree, seq, Io::Allowed)?;
        rows.extend(event_row(snapshot, &se));
    }
    Ok(rows)
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Rows as CSV with a header line, from their JSON form (one source for both formats).
fn to_csv<T: Serialize>(rows: &[T], columns: &[&str]) -> Result<String, Error> {
    let mut out = columns.join(",");
    out.push_str("\r\n");
    for row in rows {
        let v = serde_json::to_value(row).map_err(Error::internal)?;
        let fields: Vec<String> = columns
            .iter()
            .map(|c| match &v[*c] {
                serde_json::Value::String(s) => csv_field(s),
                serde_json::Value::Null => String::new(),
                // A list (a case's categories) is one field, its items joined with `;`.
                serde_json::Value::Array(items) => csv_field(
                    &items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(";"),
                ),
                other => csv_field(&other.to_string()),
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

pub const CASE_COLUMNS: [&str; 14] = [
    "id",
    "controller_id",
    "controller_name",
    "categories",
    "opened_by",
    "opened_on",
    "status",
    "deadline",
    "overdue",
    "outcome",
    "entries",
    "first_seq",
    "last_seq",
    "page",
];
pub const EVENT_COLUMNS: [&str; 9] = [
    "seq",
    "case_id",
    "type",
    "event_date",
    "recorded_at",
    "officer",
    "leaf_hash",
    "page",
    "proof",
];

fn download(content_type: &'static str, name: &'static str, body: String) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(SHORT_CACHE));
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

fn checkpoint_json(snapshot: &Snapshot) -> serde_json::Value {
    let cp = &snapshot.checkpoint.checkpoint;
    serde_json::json!({ "size": cp.size, "root": cp.root.to_base64() })
}

/// `GET /open-data/cases.csv`.
pub async fn cases_csv(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let today = state.today()?;
    let body = state
        .export(move |_| to_csv(&case_rows(snapshot.listing()?, today), &CASE_COLUMNS))
        .await?;
    Ok(download(
        "text/csv; charset=utf-8; header=present",
        "cases.csv",
        body,
    ))
}

/// `GET /open-data/cases.json`.
pub async fn cases_json(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let today = state.today()?;
    let body = state
        .export(move |_| {
            Ok(serde_json::json!({
                "checkpoint": checkpoint_json(&snapshot),
                "as_of": today.to_string(),
                "cases": case_rows(snapshot.listing()?, today),
            })
            .to_string())
        })
        .await?;
    Ok(download("application/json", "cases.json", body))
}

/// `GET /open-data/events.csv`.
pub async fn events_csv(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let today = state.today()?;
    let body = state
        .export(move |store| to_csv(&event_rows(store, &snapshot, today)?, &EVENT_COLUMNS))
        .await?;
    Ok(download(
        "text/csv; charset=utf-8; header=present",
        "events.csv",
        body,
    ))
}

/// `GET /open-data/events.json`.
pub async fn events_json(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    Query::parse(&uri, &[])?;
    let snapshot = state.snapshot();
    let snap = snapshot.clone();
    let today = state.today()?;
    let body = state
        .export(move |store| {
            Ok(serde_json::json!({
                "checkpoint": checkpoint_json(&snap),
                "events": event_rows(store, &snap, today)?,
            })
            .to_string())
        })
        .await?;
    Ok(download("application/json", "events.json", body))
}

// ---- Atom feeds (RFC 4287) ------------------------------------------------------------------

/// Unix milliseconds as an RFC 3339 date-time (UTC), as Atom's `updated` wants.
fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// A feed's or item's permanent id: a `tag:` URI (RFC 4151) from the register's origin, so
/// it does not change when the site moves.
fn tag(snapshot: &Snapshot, what: &str) -> String {
    let (origin, opened) = snapshot
        .register()
        .map_or(("sijil.invalid", 0), |r| (r.origin.as_str(), r.opened_at));
    let (host, path) = origin.split_once('/').unwrap_or((origin, ""));
    let day = chrono::DateTime::from_timestamp_millis(opened)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "1970-01-01".into());
    format!("tag:{host},{day}:{path}/{what}")
}

/// The absolute address of this site, as the request reached it (feed readers need absolute
/// links): the `Host` header, over HTTPS unless the host is a loopback one or a proxy says
/// otherwise (`X-Forwarded-Proto`).
fn site(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
        })
        .unwrap_or("localhost");
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok());
    let local =
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
    let scheme = match forwarded {
        Some("http") => "http",
        Some("https") => "https",
        _ if local => "http",
        _ => "https",
    };
    format!("{scheme}://{host}")
}

/// An Atom feed of `entries` (newest first).
fn feed(
    lang: Lang,
    snapshot: &Snapshot,
    headers: &HeaderMap,
    self_path: &str,
    feed_id: &str,
    title: &str,
    entries: &[StoredEntry],
) -> Response {
    let view = snapshot;
    let base = site(headers);
    let updated = entries
        .iter()
        .map(|e| e.entry.recorded_at)
        .max()
        .or_else(|| view.register().map(|r| r.opened_at))
        .unwrap_or(0);
    let authority = view.register().map_or("sijil", |r| r.authority.as_str());
    let mut xml = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{code}">
<id>{id}</id>
<title>{title}</title>
<updated>{updated}</updated>
<author><name>{authority}</name></author>
<link rel="self" type="application/atom+xml" href="{base}{self_path}"/>
<link rel="alternate" type="text/html" href="{base}{home}"/>
<generator>sijil</generator>
"#,
        code = lang.code(),
        id = esc(&tag(view, feed_id)),
        title = esc(title),
        updated = rfc3339(updated),
        authority = esc(authority),
        self_path = esc(self_path),
        home = esc(&lang.href("/")),
    );
    for se in entries {
        let e = &se.entry;
        let Some(case) = &e.case else { continue };
        let event = labels::event(lang, e.event.name());
        let date = crate::pages::event_date(&e.event)
            .map(|d| d.to_string())
            .unwrap_or_default();
        // The case's page, which verifies itself on opening (`verify=1`), at this entry.
        let page = format!(
            "{base}{}#e{}",
            lang.href(&format!("{}?verify=1", id_path("/affaires", &case.id))),
            e.seq
        );
        let summary = lang.plain_args(
            "feed-item-summary",
            &[
                ("name", Arg::S(&crate::pages::unescape(&event))),
                ("id", Arg::S(&case.id)),
                ("date", Arg::S(&date)),
                ("seq", Arg::S(&e.seq.to_string())),
            ],
        );
        let _ = write!(
            xml,
            r#"<entry>
<id>{id}</id>
<title>{title}</title>
<updated>{updated}</updated>
<link rel="alternate" type="text/html" href="{page}"/>
<link rel="related" type="text/plain" href="{base}/api/v1/entries/{seq}/tlog-proof"/>
<summary>{summary}</summary>
</entry>
"#,
            id = esc(&tag(view, &format!("entry/{}", e.seq))),
            title = lang.ta(
                "feed-item-title",
                &[
                    ("name", Arg::S(&crate::pages::unescape(&event))),
                    ("id", Arg::S(&case.id))
                ]
            ),
            updated = rfc3339(e.recorded_at),
            page = esc(&page),
            seq = e.seq,
            summary = esc(&summary),
        );
    }
    xml.push_str("</feed>\n");
    let mut response = xml.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(SHORT_CACHE));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

/// The entries `seqs` (newest first, at most `limit`).
fn read_entries(
    store: &Store,
    snapshot: &Snapshot,
    mut seqs: Vec<u64>,
    limit: usize,
) -> Result<Vec<StoredEntry>, Error> {
    seqs.sort_unstable_by(|a, b| b.cmp(a));
    seqs.truncate(limit);
    seqs.into_iter()
        .map(|seq| committed_entry(store, snapshot.tree(), seq, Io::Allowed))
        .collect()
}

/// `GET /feeds/events.atom`: the latest events of every case.
pub async fn events_feed(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    Query::parse(&uri, &["lang"])?;
    let lang = Lang::negotiate(&uri, &headers);
    let snapshot = state.snapshot();
    let snap = snapshot.clone();
    let entries = state
        .blocking(move |store| {
            // Walk back from the newest entry: every case event is in some case's timeline.
            let mut found = Vec::new();
            let tree = snap.tree();
            let mut seq = tree.size;
            while seq > 0 && found.len() < FEED_ITEMS {
                seq -= 1;
                let se = committed_entry(store, tree, seq, Io::Allowed)?;
                if se.entry.case.is_some() && !matches!(se.entry.event, Event::IndexCommitted(_)) {
                    found.push(se);
                }
            }
            Ok(found)
        })
        .await?;
    let title = lang.plain("feed-events-title");
    Ok(feed(
        lang,
        &snapshot,
        &headers,
        &format!("/feeds/events.atom?lang={}", lang.code()),
        "feed/events",
        &title,
        &entries,
    ))
}

/// `GET /feeds/cases/{id}`: every event of one case.
pub async fn case_feed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    Query::parse(&uri, &["lang"])?;
    let lang = Lang::negotiate(&uri, &headers);
    let snapshot = state.snapshot();
    let today = state.today()?;
    let snap = snapshot.clone();
    let lookup = id.clone();
    let entries = state
        .blocking(move |store| {
            let seqs = snap.case_seqs(&lookup, today)?;
            if seqs.is_empty() {
                return Err(Error::not_found(format!(
                    "no case {lookup:?} in this register"
                )));
            }
            read_entries(store, &snap, seqs, usize::MAX)
        })
        .await?;
    let title = lang.plain_args("feed-case-title", &[("id", Arg::S(&id))]);
    Ok(feed(
        lang,
        &snapshot,
        &headers,
        &format!("{}?lang={}", id_path("/feeds/cases", &id), lang.code()),
        &format!("feed/case/{id}"),
        &title,
        &entries,
    ))
}

/// `GET /feeds/controllers/{id}`: the latest events of a controller's cases.
pub async fn controller_feed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    Query::parse(&uri, &["lang"])?;
    let lang = Lang::negotiate(&uri, &headers);
    let snapshot = state.snapshot();
    let today = state.today()?;
    let detail = snapshot
        .listing()?
        .controller(&id, today)
        .ok_or_else(|| Error::not_found(format!("no controller {id:?} in this register")))?;
    let snap = snapshot.clone();
    let ids: Vec<String> = detail.cases.iter().map(|c| c.id.clone()).collect();
    let entries = state
        .blocking(move |store| {
            let mut seqs = Vec::new();
            for id in &ids {
                seqs.extend(snap.case_seqs(id, today)?);
            }
            read_entries(store, &snap, seqs, FEED_ITEMS)
        })
        .await?;
    let title = lang.plain_args("feed-controller-title", &[("name", Arg::S(&detail.name))]);
    Ok(feed(
        lang,
        &snapshot,
        &headers,
        &format!(
            "{}?lang={}",
            id_path("/feeds/controllers", &id),
            lang.code()
        ),
        &format!("feed/controller/{id}"),
        &title,
        &entries,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn atom_dates_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_733_000_000_000), "2024-11-30T20:53:20Z");
    }
}
