//! The list of cases and a case's page.

use std::fmt::Write as _;
use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use sijil_core::event::{Category, Date};
use sijil_projector::{CaseFilter, CaseStatus, CaseSummary, Page, Sort};
use sijil_register::present::read_text;

use super::{esc, event, id_path, labels, url_encode, utc, Arg, Frame, Lang};
use crate::api::committed_entry;
use crate::error::Error;
use crate::params::Query;
use crate::state::AppState;
use crate::store::{Io, StoredEntry};

/// Cases per page.
const PAGE: usize = 50;

/// `GET /affaires`: the cases, filtered, most recent first.
pub async fn cases_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let known = [
        "lang",
        "status",
        "category",
        "controller",
        "opened_from",
        "opened_to",
        "sort",
        "after",
    ];
    let lang = Lang::negotiate(&uri, &headers);
    let page = |e: Error| e.html(lang);
    let q = Query::parse_lenient(&uri, &known).map_err(page)?;
    let filter = q.case_filter().map_err(page)?;
    let sort = q.sort().map_err(page)?;
    let paging = match q.get("after") {
        Some(after) => Page::After {
            after: after.to_owned(),
            limit: PAGE,
        },
        None => Page::first(PAGE),
    };
    let today = state.today().map_err(page)?;
    let snapshot = state.snapshot();
    let listing = snapshot
        .cases(&filter, sort, &paging, today)
        .map_err(page)?;

    let mut body = format!("<h1>{}</h1>\n", lang.t("cases-title"));
    body.push_str(&filter_form(lang, &filter));
    let _ = writeln!(
        body,
        r#"<p class="count">{}</p>"#,
        lang.tn("cases-matching", listing.total as u64)
    );
    body.push_str(&case_table(lang, &listing.items, today));
    let base = filter_query(&filter, sort);
    let mut pager = Vec::new();
    if listing.offset > 0 {
        pager.push(format!(
            r#"<a href="{}">{}</a>"#,
            esc(&lang.href(&with_query("/affaires", &base))),
            lang.t("pager-first")
        ));
    }
    if let Some(next) = &listing.next {
        let mut query = base.clone();
        query.push(format!("after={}", url_encode(next)));
        pager.push(format!(
            r#"<a href="{}">{}</a>"#,
            esc(&lang.href(&with_query("/affaires", &query))),
            lang.t("pager-next")
        ));
    }
    if !pager.is_empty() {
        let _ = write!(
            body,
            r#"<nav class="pager" aria-label="{}">{}</nav>"#,
            lang.t("pager-label"),
            pager.join(" ")
        );
    }
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(&lang.plain("cases-title"), &body))
}

fn with_query(path: &str, parts: &[String]) -> String {
    if parts.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

/// The filter as query parameters, for the pager's links.
fn filter_query(f: &CaseFilter, sort: Sort) -> Vec<String> {
    let mut q = Vec::new();
    if let Some(s) = f.status {
        q.push(format!("status={}", s.as_str()));
    }
    if let Some(c) = f.category {
        q.push(format!("category={}", c.as_str()));
    }
    if let Some(c) = &f.controller {
        q.push(format!("controller={}", url_encode(c)));
    }
    if let Some(d) = f.opened_from {
        q.push(format!("opened_from={d}"));
    }
    if let Some(d) = f.opened_to {
        q.push(format!("opened_to={d}"));
    }
    match sort {
        Sort::OpenedDesc => {}
        Sort::OpenedAsc => q.push("sort=opened_asc".into()),
        Sort::Id => q.push("sort=id".into()),
    }
    q
}

fn filter_form(lang: Lang, f: &CaseFilter) -> String {
    let mut statuses = format!(r#"<option value="">{}</option>"#, lang.t("filter-any"));
    for s in CaseStatus::ALL {
        let selected = if f.status == Some(s) { " selected" } else { "" };
        let _ = write!(
            statuses,
            r#"<option value="{}"{selected}>{}</option>"#,
            s.as_str(),
            labels::status(lang, s)
        );
    }
    let mut categories = format!(r#"<option value="">{}</option>"#, lang.t("filter-any"));
    for c in Category::ALL {
        let selected = if f.category == Some(c) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            categories,
            r#"<option value="{}"{selected}>{}</option>"#,
            c.as_str(),
            labels::category(lang, c)
        );
    }
    let date = |d: Option<sijil_core::event::Date>| d.map(|d| d.to_string()).unwrap_or_default();
    format!(
        r#"<form class="filters" method="get" action="/affaires"><input type="hidden" name="lang" value="{code}">
<label>{status_label} <select name="status">{statuses}</select></label>
<label>{category_label} <select name="category">{categories}</select></label>
<label>{controller_label} <input name="controller" value="{controller}" placeholder="{controller_hint}" dir="ltr"></label>
<label>{from_label} <input type="date" name="opened_from" value="{from}"></label>
<label>{to_label} <input type="date" name="opened_to" value="{to}"></label>
<button type="submit">{filter}</button>
</form>
<p class="downloads">{downloads}</p>
"#,
        code = lang.code(),
        status_label = lang.t("col-status"),
        category_label = lang.t("col-category"),
        controller_label = lang.t("filter-controller"),
        controller = esc(f.controller.as_deref().unwrap_or_default()),
        controller_hint = lang.t("filter-controller-hint"),
        from_label = lang.t("filter-opened-from"),
        from = date(f.opened_from),
        to_label = lang.t("filter-opened-to"),
        to = date(f.opened_to),
        filter = lang.t("filter-submit"),
        downloads = downloads(lang),
    )
}

/// Links to the open data (every case and every event, as CSV and JSON, and the feed).
fn downloads(lang: Lang) -> String {
    format!(
        r#"{label} <a href="/open-data/cases.csv" download>{cases} (CSV)</a> · <a href="/open-data/cases.json" download>{cases} (JSON)</a> · <a href="/open-data/events.csv" download>{events} (CSV)</a> · <a href="/open-data/events.json" download>{events} (JSON)</a> · <a href="/feeds/events.atom">{feed}</a>"#,
        label = lang.t("open-data-label"),
        cases = lang.t("open-data-cases"),
        events = lang.t("open-data-events"),
        feed = lang.t("open-data-feed"),
    )
}

/// A table of cases; on a phone each row becomes a card (see `sijil.css`). `today` is the
/// day "overdue" is judged on.
pub fn case_table(lang: Lang, items: &[CaseSummary], today: Date) -> String {
    let mut html = format!(
        r#"<table class="cases"><thead><tr><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th><th scope="col">{}</th></tr></thead><tbody>
"#,
        lang.t("col-case"),
        lang.t("col-controller"),
        lang.t("col-category"),
        lang.t("col-opened"),
        lang.t("col-status"),
        lang.t("col-deadline"),
    );
    for c in items {
        let deadline = match c.deadline {
            Some(d) if c.overdue => format!(
                r#"{d} <span class="badge overdue" title="{}">{}</span>"#,
                lang.ta("overdue-judged-on", &[("date", Arg::S(&today.to_string()))]),
                lang.t("badge-overdue")
            ),
            Some(d) => d.to_string(),
            None => String::new(),
        };
        let _ = writeln!(
            html,
            r#"<tr><td data-label="{l_case}"><a href="{href}" dir="ltr">{id}</a></td><td data-label="{l_controller}"><a href="{chref}" dir="auto">{controller}</a></td><td data-label="{l_category}">{category}</td><td data-label="{l_opened}">{opened}</td><td data-label="{l_status}"><span class="status status-{status_code}">{status}</span></td><td data-label="{l_deadline}">{deadline}</td></tr>"#,
            l_case = lang.t("col-case"),
            href = esc(&lang.href(&id_path("/affaires", &c.id))),
            id = esc(&c.id),
            l_controller = lang.t("col-controller"),
            chref = esc(&lang.href(&id_path("/responsables", &c.controller.id))),
            controller = esc(&c.controller.name),
            l_category = lang.t("col-category"),
            category = labels::categories(lang, &c.categories),
            l_opened = lang.t("col-opened"),
            opened = c.opened_on,
            l_status = lang.t("col-status"),
            status_code = c.status.as_str(),
            status = labels::status(lang, c.status),
            l_deadline = lang.t("col-deadline"),
        );
    }
    html.push_str("</tbody></table>\n");
    html
}

/// What the page says of a case's compliance deadline, from the case's real state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadlineState {
    /// Awaiting compliance, the deadline passed before the day judged on.
    Overdue,
    /// Awaiting compliance, the deadline not passed yet.
    NotYetDue,
    /// A sanction was notified after the deadline: it was not kept.
    Missed,
    /// Anything else (the case moved on before the deadline): no judgement.
    None,
}

/// The state of deadline `deadline` of a case in `status` whose sanctions were notified on
/// `sanctioned_on`, judged on `today`. (`assets/verify.js`, `factRows`, does the same.)
pub fn deadline_state(
    status: CaseStatus,
    deadline: Date,
    today: Date,
    sanctioned_on: &[Date],
) -> DeadlineState {
    if status == CaseStatus::AwaitingCompliance {
        if deadline < today {
            DeadlineState::Overdue
        } else {
            DeadlineState::NotYetDue
        }
    } else if sanctioned_on.iter().any(|&s| s > deadline) {
        DeadlineState::Missed
    } else {
        DeadlineState::None
    }
}

/// `GET /affaires/{id}`: the case's facts, its timeline, and the Verify button.
pub async fn case_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let lang = Lang::negotiate(&uri, &headers);
    let page = |e: Error| e.html(lang);
    let q = Query::parse_lenient(&uri, &["lang", "verify"]).map_err(page)?;
    let today = state.today().map_err(page)?;
    let snapshot = state.snapshot();
    let snap = snapshot.clone();
    let lookup = id.clone();
    // One task on the blocking pool: the case's records (from the writer's state) and its
    // entries.
    let found = state
        .blocking(move |store| {
            let view = snap.case_records_view(&lookup)?;
            let Some(detail) = view.case(&lookup, today) else {
                return Ok(None);
            };
            let layout = store.layout();
            let entries = detail
                .timeline
                .iter()
                .map(|t| {
                    let se = committed_entry(store, snap.tree(), t.seq, Io::Allowed)?;
                    let html = event::details(lang, &se, &view, &|d| read_text(layout, d));
                    Ok((se, html))
                })
                .collect::<Result<Vec<_>, Error>>()?;
            Ok(Some((view, detail, entries)))
        })
        .await
        .map_err(page)?;
    let Some((view, detail, entries)) = found else {
        return Err(page(Error::not_found(
            lang.plain_args("error-no-case", &[("id", Arg::S(&id))]),
        )));
    };

    let s = &detail.summary;
    let opened_by = match s.opened_by {
        sijil_projector::Opening::Complaint => lang.t("opened-by-complaint"),
        sijil_projector::Opening::Inspection => lang.t("opened-by-inspection"),
    };
    // The controller as this case's signed opening entry names it (what a visitor's browser
    // can check); its current name, if it was renamed since, is on its own page.
    // An Amendment of the controller names it instead: the latest one, as the view projects.
    let amended_controller = entries
        .iter()
        .rev()
        .find_map(|(se, _)| match &se.entry.event {
            sijil_core::Event::Amendment(sijil_core::event::Amendment {
                amend: sijil_core::event::AmendedField::Controller(c),
                ..
            }) => Some(c),
            _ => None,
        });
    let opening_name = amended_controller
        .map(|c| c.name.as_str())
        .or_else(|| {
            entries.first().and_then(|(se, _)| match &se.entry.event {
                sijil_core::Event::ComplaintReceived(c) => Some(c.controller.name.as_str()),
                sijil_core::Event::InspectionOpened(i) => {
                    i.opens.as_ref().map(|o| o.controller.name.as_str())
                }
                _ => None,
            })
        })
        .unwrap_or(s.controller.name.as_str());
    let mut facts = vec![
        (
            lang.t("fact-controller"),
            format!(
                r#"<a href="{}" dir="auto">{}</a>"#,
                esc(&lang.href(&id_path("/responsables", &s.controller.id))),
                esc(opening_name)
            ),
        ),
        (
            lang.t("col-category"),
            labels::categories(lang, &s.categories),
        ),
        (
            lang.t("col-opened"),
            format!("{} ({opened_by})", s.opened_on),
        ),
    ];
    if let Some(h) = detail.hearings.last() {
        facts.push((
            lang.t("fact-latest-hearing"),
            format!("{}, {}", h.held_on, esc(&h.place)),
        ));
    }
    if let Some(d) = s.deadline {
        let sanctioned: Vec<Date> = detail.sanctions.iter().map(|x| x.notified_on).collect();
        let judged = lang.ta("overdue-judged-on", &[("date", Arg::S(&today.to_string()))]);
        let state_html = match deadline_state(s.status, d, today, &sanctioned) {
            DeadlineState::Overdue => format!(
                r#" <span class="badge overdue">{}</span> <span class="judged">{judged}</span>"#,
                lang.t("badge-overdue")
            ),
            DeadlineState::NotYetDue => format!(
                r#" <span class="badge ok">{}</span> <span class="judged">{judged}</span>"#,
                lang.t("badge-not-yet-due")
            ),
            DeadlineState::Missed => format!(
                r#" <span class="badge overdue">{}</span>"#,
                lang.t("badge-missed")
            ),
            DeadlineState::None => String::new(),
        };
        facts.push((lang.t("fact-deadline"), format!("{d}{state_html}")));
    }
    for x in &detail.sanctions {
        facts.push((
            lang.t("fact-sanction"),
            lang.ta(
                "fact-sanction-value",
                &[
                    (
                        "sanction",
                        Arg::S(&super::unescape(&labels::sanction(lang, &x.sanction))),
                    ),
                    ("date", Arg::S(&x.notified_on.to_string())),
                    ("basis", Arg::S(&x.legal_basis)),
                ],
            ),
        ));
    }
    if let Some(c) = &detail.compliance {
        facts.push((lang.t("fact-complied-on"), c.confirmed_on.to_string()));
    }
    if let Some(c) = &detail.closing {
        facts.push((
            lang.t("fact-closed-on"),
            format!("{} — {}", c.closed_on, labels::outcome(lang, c.outcome)),
        ));
    }
    for x in &detail.decisions {
        facts.push((
            lang.t("fact-decision"),
            format!(
                r#"<span dir="auto">{}</span> — {}"#,
                esc(&x.decision_number),
                x.published_on
            ),
        ));
    }
    for x in &detail.appeals {
        let ruling = x.ruling.map_or_else(
            || lang.t("appeal-pending"),
            |r| format!("{} ({})", labels::ruling(lang, r.ruling), r.ruled_on),
        );
        facts.push((
            lang.t("fact-appeal"),
            format!(
                r#"{} — <span dir="auto">{}</span> — {ruling}"#,
                x.lodged_on,
                esc(&x.court)
            ),
        ));
    }
    let amended = amendment_notes(lang, &entries);
    let mut body = format!(
        r#"<h1>{title}</h1>
<p><span class="status status-{status_code}">{status}</span></p>
<dl class="facts">"#,
        title = lang.ta("case-title", &[("id", Arg::S(&s.id))]),
        status_code = s.status.as_str(),
        status = labels::status(lang, s.status),
    );
    for (label, value) in facts {
        let _ = write!(body, "<dt>{label}</dt><dd>{value}</dd>");
    }
    body.push_str("</dl>\n");
    let _ = write!(
        body,
        r#"<p class="downloads">{feed_label} <a href="{feed}">{feed_text}</a></p>
<section id="verify-box" class="verify" aria-labelledby="verify-title" data-case-api="{api}" data-case-id="{id}" data-tree-size="{tree_size}" data-vkey="{vkey}" data-lang="{code}" data-auto="{auto}">
<h2 id="verify-title">{verify_title}</h2>
<p>{verify_text}</p>
<p><button type="button" id="verify-button">{verify_button}</button></p>
<noscript><p class="note">{noscript}</p><pre dir="ltr">sijil verify URL --key '{vkey}' --case {id}</pre></noscript>
<details><summary>{key_label}</summary><p>{key_text}</p><input id="verify-key" value="{vkey}" spellcheck="false" autocomplete="off" dir="ltr" aria-label="{key_label}">
<p><button type="button" id="verify-pin" class="secondary">{pin}</button> <button type="button" id="verify-unpin" class="secondary">{unpin}</button> <span id="verify-pin-state"></span></p></details>
<details><summary>{witness_label}</summary><p>{witness_text}</p><textarea id="verify-witnesses" rows="3" spellcheck="false" autocomplete="off" dir="ltr" aria-label="{witness_label}"></textarea>
<p><label>{quorum_label} <input id="verify-quorum" type="number" min="0" inputmode="numeric"></label> <button type="button" id="verify-witnesses-save" class="secondary">{save}</button> <span id="verify-witnesses-state"></span></p></details>
<div id="verify-result" role="status" aria-live="polite" tabindex="-1" data-state="idle"></div>
<script type="application/json" id="verify-words">{words}</script>
<script src="/assets/sijil-verify-core.js" defer></script>
</section>
<h2>{timeline}</h2>
<ol class="timeline">
"#,
        feed_label = lang.t("case-feed-label"),
        feed = esc(&id_path("/feeds/cases", &s.id)),
        feed_text = lang.t("open-data-feed"),
        api = esc(&id_path("/api/v1/cases", &s.id)),
        id = esc(&s.id),
        tree_size = snapshot.checkpoint.checkpoint.size,
        code = lang.code(),
        auto = if q.get("verify") == Some("1") {
            "1"
        } else {
            "0"
        },
        verify_title = lang.t("verify-title"),
        verify_text = lang.t("verify-text"),
        verify_button = lang.t("verify-button"),
        noscript = lang.t("verify-noscript"),
        key_label = lang.t("verify-key-label"),
        key_text = lang.t("verify-key-text"),
        vkey = esc(&state.verifier().to_string()),
        pin = lang.t("verify-pin"),
        unpin = lang.t("verify-unpin"),
        witness_label = lang.t("verify-witnesses"),
        witness_text = lang.t("verify-witnesses-text"),
        quorum_label = lang.t("verify-quorum"),
        save = lang.t("verify-save"),
        words = verify_words(lang),
        timeline = lang.t("timeline"),
    );
    for (se, details) in &entries {
        let e = &se.entry;
        let officer = snapshot
            .officer(&e.signer)
            .map_or_else(|| e.signer.to_string(), |o| o.name.clone());
        let notes = view.annotations(e.seq);
        let mut annotations = String::new();
        if let Some(a) = notes {
            for c in &a.corrections {
                let _ = write!(
                    annotations,
                    "<p class=\"note\">{} <a href=\"#e{c}\">{}</a></p>",
                    lang.t("note-corrected-by"),
                    lang.ta("entry-number", &[("seq", Arg::S(&c.to_string()))]),
                );
            }
            for (_, note) in amended.iter().filter(|(target, _)| *target == e.seq) {
                annotations.push_str(note);
            }
            if let Some(er) = &a.erasure {
                let _ = write!(
                    annotations,
                    "<p class=\"note erased\">{} — <a href=\"#e{}\">{}</a></p>",
                    lang.ta(
                        "note-erased",
                        &[
                            ("date", Arg::S(&er.erased_on.to_string())),
                            ("reason", Arg::S(&er.reason))
                        ]
                    ),
                    er.seq,
                    lang.ta("entry-number", &[("seq", Arg::S(&er.seq.to_string()))]),
                );
            }
        }
        let _ = writeln!(
            body,
            r#"<li id="e{seq}" class="entry" data-seq="{seq}">
<header><span class="seq">{number}</span> <strong>{label}</strong> <span class="check" data-seq="{seq}"></span></header>
<p class="meta">{recorded}</p>
{details}{annotations}
<p class="links"><a href="/api/v1/entries/{seq}/tlog-proof" download>{proof}</a> · <a href="/api/v1/entries/{seq}/raw" download>{bytes}</a> · <span>{leaf}</span> <code class="hash" dir="ltr">{hash}</code></p>
</li>"#,
            seq = e.seq,
            number = lang.ta("entry-number", &[("seq", Arg::S(&e.seq.to_string()))]),
            label = labels::event(lang, e.event.name()),
            recorded = lang.ta(
                "recorded-by",
                &[
                    ("date", Arg::S(&utc(e.recorded_at))),
                    ("name", Arg::S(&officer))
                ]
            ),
            proof = lang.t("link-proof"),
            bytes = lang.t("link-bytes"),
            leaf = lang.t("link-leaf-hash"),
            hash = se.leaf.to_hex(),
        );
    }
    body.push_str("</ol>\n");
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(
        &lang.plain_args("case-title", &[("id", Arg::S(&s.id))]),
        &body,
    ))
}

/// The notes "amended (field): old → new, by entry N" of a case's Amendments, as
/// `(target seq, HTML)`, in log order. The old value is the target's as first recorded, or the
/// previous Amendment's of the same field.
fn amendment_notes(lang: Lang, entries: &[(StoredEntry, String)]) -> Vec<(u64, String)> {
    let mut current: std::collections::HashMap<(u64, &'static str), String> =
        std::collections::HashMap::new();
    let mut notes = Vec::new();
    for (se, _) in entries {
        let sijil_core::Event::Amendment(a) = &se.entry.event else {
            continue;
        };
        let field = a.amend.name();
        let key = (a.target, field);
        let old = current.get(&key).cloned().or_else(|| {
            entries
                .iter()
                .find(|(t, _)| t.entry.seq == a.target)
                .and_then(|(t, _)| event::original_value(lang, &t.entry.event, field))
        });
        let new = event::amended_value(lang, &a.amend);
        notes.push((
            a.target,
            format!(
                "<p class=\"note amended\">{} <a href=\"#e{seq}\">{}</a></p>",
                lang.ta(
                    "note-amended",
                    &[
                        (
                            "field",
                            Arg::S(&super::unescape(&labels::amended_field(lang, field)))
                        ),
                        ("old", Arg::S(&super::unescape(&old.unwrap_or_default()))),
                        ("new", Arg::S(&super::unescape(&new))),
                    ]
                ),
                lang.ta(
                    "entry-number",
                    &[("seq", Arg::S(&se.entry.seq.to_string()))]
                ),
                seq = se.entry.seq,
            ),
        ));
        current.insert(key, new);
    }
    notes
}

/// The words the browser verifier needs to redraw a case page exactly as this module draws
/// it, in the page's language, as JSON (a data block: `script-src` does not run it). `{x}`
/// marks an argument. One source, the message files, so the two never drift apart.
///
/// Built once per language: they depend on nothing else, and building them (about 150
/// message lookups) was a fifth of a case page's time (issue 11).
fn verify_words(lang: Lang) -> &'static str {
    static WORDS: [OnceLock<String>; 3] = [const { OnceLock::new() }; 3];
    let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
    WORDS[i].get_or_init(|| words_of(lang))
}

/// [`verify_words`], built.
fn words_of(lang: Lang) -> String {
    let mut words = serde_json::Map::new();
    let mut put = |key: String, value: String| {
        words.insert(key, serde_json::Value::String(value));
    };
    for s in CaseStatus::ALL {
        put(
            format!("status.{}", s.as_str()),
            lang.plain(&format!("status-{}", s.as_str().replace('_', "-"))),
        );
    }
    for c in Category::ALL {
        put(
            format!("category.{}", c.as_str()),
            lang.plain(&format!("category-{}", c.as_str().replace('_', "-"))),
        );
    }
    for k in [
        "warning",
        "formal_notice",
        "fine",
        "suspension",
        "referral_to_prosecutor",
    ] {
        put(
            format!("sanction.{k}"),
            lang.plain(&format!("sanction-{}", k.replace('_', "-"))),
        );
    }
    for k in [
        "complied",
        "sanctioned",
        "dismissed",
        "withdrawn",
        "referred",
    ] {
        put(format!("outcome.{k}"), lang.plain(&format!("outcome-{k}")));
    }
    for k in labels::EVENT_NAMES {
        put(format!("event.{k}"), lang.plain(&format!("event-{k}")));
    }
    for r in sijil_core::event::Ruling::ALL {
        put(
            format!("ruling.{}", r.as_str()),
            lang.plain(&format!("ruling-{}", r.as_str().replace('_', "-"))),
        );
    }
    for a in sijil_core::event::Appellant::ALL {
        put(
            format!("appellant.{}", a.as_str()),
            lang.plain(&format!("appellant-{}", a.as_str())),
        );
    }
    for f in ["date", "due_on", "controller", "categories"] {
        put(
            format!("amended.{f}"),
            lang.plain(&format!("amended-{}", f.replace('_', "-"))),
        );
    }
    put("event.other".into(), lang.plain("event-other"));
    for id in [
        "fact-controller",
        "col-category",
        "col-opened",
        "fact-latest-hearing",
        "fact-deadline",
        "fact-sanction",
        "fact-complied-on",
        "fact-closed-on",
        "opened-by-complaint",
        "opened-by-inspection",
        "badge-overdue",
        "badge-not-yet-due",
        "badge-missed",
        "note-corrected-by",
        "fact-decision",
        "fact-appeal",
        "appeal-pending",
        "link-proof",
        "link-bytes",
        "link-leaf-hash",
        "text-erased",
        "text-absent",
        "text-invalid",
    ] {
        put(id.into(), lang.plain(id));
    }
    for id in event::ROW_LABELS {
        put(id.into(), lang.plain(id));
    }
    let placeholder = |name: &str| format!("{{{name}}}");
    put(
        "case-title".into(),
        lang.plain_args("case-title", &[("id", Arg::S(&placeholder("id")))]),
    );
    put(
        "entry-number".into(),
        lang.plain_args("entry-number", &[("seq", Arg::S(&placeholder("seq")))]),
    );
    put(
        "overdue-judged-on".into(),
        lang.plain_args(
            "overdue-judged-on",
            &[("date", Arg::S(&placeholder("date")))],
        ),
    );
    put(
        "note-erased".into(),
        lang.plain_args(
            "note-erased",
            &[
                ("date", Arg::S(&placeholder("date"))),
                ("reason", Arg::S(&placeholder("reason"))),
            ],
        ),
    );
    put(
        "note-amended".into(),
        lang.plain_args(
            "note-amended",
            &[
                ("field", Arg::S(&placeholder("field"))),
                ("old", Arg::S(&placeholder("old"))),
                ("new", Arg::S(&placeholder("new"))),
            ],
        ),
    );
    put(
        "recorded-by".into(),
        lang.plain_args(
            "recorded-by",
            &[
                ("date", Arg::S(&placeholder("date"))),
                ("name", Arg::S(&placeholder("name"))),
            ],
        ),
    );
    put(
        "fact-sanction-value".into(),
        lang.plain_args(
            "fact-sanction-value",
            &[
                ("sanction", Arg::S(&placeholder("sanction"))),
                ("date", Arg::S(&placeholder("date"))),
                ("basis", Arg::S(&placeholder("basis"))),
            ],
        ),
    );
    put(
        "sanction-fine-amount".into(),
        lang.plain_args("sanction-fine-amount", &[("n", Arg::S(&placeholder("n")))]),
    );
    put(
        "number-group".into(),
        lang.number(1000)
            .chars()
            .nth(1)
            .map(String::from)
            .unwrap_or_default(),
    );
    // `</` cannot end the data block early: JSON allows `\/`.
    serde_json::Value::Object(words)
        .to_string()
        .replace("</", "<\\/")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words kept for each language are those built for it.
    #[test]
    fn the_verifier_words_are_kept_per_language() {
        for lang in Lang::ALL {
            assert_eq!(verify_words(lang), words_of(lang), "{lang:?}");
        }
        assert_ne!(verify_words(Lang::Ar), verify_words(Lang::Fr));
    }

    /// Every word the browser verifier asks for (`w("…")` in assets/verify.js) is in the
    /// words this module puts in the page, in each language: a missing one would make the
    /// redrawn page differ from the server's, and the check fail.
    #[test]
    fn the_verifier_finds_every_word_it_needs() {
        let js = super::super::VERIFY_JS;
        let mut keys: Vec<&str> = js
            .split("w(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert!(keys.len() > 30, "{keys:?}");
        for lang in Lang::ALL {
            let words: serde_json::Value =
                serde_json::from_str(verify_words(lang)).expect("JSON words");
            for key in &keys {
                let word = words[*key].as_str().unwrap_or_default();
                assert!(!word.is_empty(), "{}: no word {key:?}", lang.code());
            }
            for table in ["status", "category", "sanction", "outcome", "event"] {
                assert!(
                    words
                        .as_object()
                        .is_some_and(|o| o.keys().any(|k| k.starts_with(&format!("{table}.")))),
                    "{table}"
                );
            }
        }
    }
}
