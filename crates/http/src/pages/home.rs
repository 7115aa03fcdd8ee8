//! The home page and "how to verify".

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use sijil_projector::CaseStatus;

use super::{charts, esc, event, id_path, labels, utc, Arg, Frame, Lang};
use crate::api::committed_entry;
use crate::error::Error;
use crate::params::Query;
use crate::state::AppState;
use crate::store::Io;

/// How many of the latest case events the home page lists.
const LATEST: usize = 10;
/// How far back in the log the home page looks for them (entries that are not a case's,
/// like the index commitments after every batch, are skipped).
const LATEST_SCAN: u64 = 200;

/// `GET /`.
pub async fn home_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let lang = Lang::negotiate(&uri, &headers);
    let page = |e: Error| e.html(lang);
    Query::parse_lenient(&uri, &["lang"]).map_err(page)?;
    let snapshot = state.snapshot();
    let today = state.today().map_err(page)?;
    let tree = snapshot.tree();
    let snap = snapshot.clone();
    let latest = state
        .read(move |store, io: Io| {
            snap.latest(today, || {
                let mut found = Vec::new();
                let start = tree.size.saturating_sub(LATEST_SCAN);
                for seq in (start..tree.size).rev() {
                    let se = committed_entry(store, tree, seq, io)?;
                    if se.entry.case.is_some() {
                        found.push(se);
                        if found.len() == LATEST {
                            break;
                        }
                    }
                }
                Ok(found)
            })
        })
        .await
        .map_err(page)?;
    let view = &snapshot;
    let stats = snapshot.stats(today).map_err(page)?;
    let (title, authority) = view
        .register()
        .map_or(("sijil", ""), |r| (r.title.as_str(), r.authority.as_str()));
    let closed = stats
        .by_status
        .get(&CaseStatus::Closed)
        .copied()
        .unwrap_or(0);
    let open = stats.cases.saturating_sub(closed) as u64;
    let sanctions: usize = stats.sanctions_by_kind.values().sum();
    let card = |n: u64, id: &str| {
        format!(
            "<div><strong>{}</strong> {}</div>",
            lang.number(n),
            lang.tn(id, n)
        )
    };
    let mut body = format!(
        r#"<h1 dir="auto">{title}</h1>
<p class="lead" dir="auto">{authority}</p>
<section class="intro">
<p>{intro1}</p>
<p>{intro2}</p>
</section>
<section class="stats" aria-label="{stats_label}">
{cases}
{open}
{overdue}
{sanctions}
{fines}
</section>
<p class="meta">{overdue_note}</p>
"#,
        title = esc(title),
        authority = esc(authority),
        intro1 = lang.t("home-intro-1"),
        intro2 = lang.t("home-intro-2"),
        stats_label = lang.t("home-stats-label"),
        cases = card(stats.cases as u64, "stat-cases"),
        open = card(open, "stat-open"),
        overdue = card(stats.overdue as u64, "stat-overdue"),
        sanctions = card(sanctions as u64, "stat-sanctions"),
        fines = card(stats.fines_total_mad, "stat-fines"),
        overdue_note = lang.ta("overdue-judged-on", &[("date", Arg::S(&today.to_string()))]),
    );
    body.push_str(&charts::home_charts(lang, &stats));
    let _ = write!(
        body,
        r#"<section>
<h2>{latest_label}</h2>
<p class="meta">{latest_note}</p>
<ul class="events">
"#,
        latest_label = lang.t("home-latest"),
        latest_note = lang.t("home-latest-note"),
    );
    for se in latest.iter() {
        let e = &se.entry;
        let case = match &e.case {
            Some(link) => format!(
                r#" · <a href="{}">{}</a>"#,
                esc(&lang.href(&id_path("/affaires", &link.id))),
                lang.ta("case-title", &[("id", Arg::S(&link.id))])
            ),
            None => String::new(),
        };
        let label = labels::event(lang, e.event.name());
        // A deadline's date is when it falls due, not when it happened: say which.
        let due = match &e.event {
            sijil_core::Event::ComplianceDeadlineSet(d) => Some(d.due_on),
            sijil_core::Event::DeadlineExtended(d) => Some(d.due_on),
            _ => None,
        }
        .map(|d| {
            format!(
                " ({})",
                lang.ta("due-on", &[("date", Arg::S(&d.to_string()))])
            )
        })
        .unwrap_or_default();
        let recorded = lang.ta("recorded-on", &[("date", Arg::S(&utc(e.recorded_at)))]);
        let _ = match event::event_date(&e.event) {
            Some(d) => writeln!(
                body,
                r#"<li><time datetime="{d}">{d}</time> — {label}{due}{case} <span class="meta">({recorded})</span></li>"#,
            ),
            // No date of its own (a deadline set, a correction, an erasure): the recording
            // is when it happened, and says so.
            None => writeln!(
                body,
                r#"<li>{label}{due}{case} <span class="meta">({recorded})</span></li>"#,
            ),
        };
    }
    let _ = write!(
        body,
        r#"</ul>
<p><a class="button" href="{cases}">{all_cases}</a> <a class="button secondary" href="{stats}">{stats_link}</a></p>
</section>
<section>
<h2>{verify_title}</h2>
<p>{verify_text} <a href="{verify}">{how}</a></p>
</section>"#,
        cases = lang.href("/affaires"),
        all_cases = lang.t("home-all-cases"),
        stats = lang.href("/statistiques"),
        stats_link = lang.t("home-all-stats"),
        verify_title = lang.t("home-verify-title"),
        verify_text = lang.t("home-verify-text"),
        verify = lang.href("/verification"),
        how = lang.t("home-verify-how"),
    );
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(&lang.plain("home-title"), &body))
}

/// `GET /statistiques`: the register's figures as charts, each with its table.
pub async fn stats_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let lang = Lang::negotiate(&uri, &headers);
    let page = |e: Error| e.html(lang);
    Query::parse_lenient(&uri, &["lang"]).map_err(page)?;
    let snapshot = state.snapshot();
    let today = state.today().map_err(page)?;
    let stats = snapshot.stats(today).map_err(page)?;
    let body = format!(
        "<h1>{}</h1>\n<p class=\"meta\">{}</p>\n{}",
        lang.t("stats-title"),
        lang.ta("overdue-judged-on", &[("date", Arg::S(&today.to_string()))]),
        charts::all_charts(lang, &stats),
    );
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(&lang.plain("stats-title"), &body))
}

/// `GET /verification`: how to check the register, in plain words first (with the jargon
/// explained once), then with this site, then without it.
pub async fn verification_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let lang = Lang::negotiate(&uri, &headers);
    Query::parse_lenient(&uri, &["lang"]).map_err(|e| e.html(lang))?;
    let t = |id: &str| lang.t(id);
    let snapshot = state.snapshot();
    let cp = &snapshot.checkpoint.checkpoint;
    let vkey = state.verifier().to_string();
    let mut glossary = String::new();
    for term in [
        "log",
        "checkpoint",
        "root",
        "digest",
        "proof",
        "key",
        "witness",
    ] {
        let _ = write!(
            glossary,
            "<dt>{}</dt><dd>{}</dd>",
            t(&format!("how-term-{term}")),
            t(&format!("how-term-{term}-text"))
        );
    }
    let body = format!(
        r#"<h1>{title}</h1>
<section>
<p class="lead">{plain1}</p>
<p>{plain2}</p>
<ol class="steps">
<li>{step1}</li>
<li>{step2}</li>
<li>{step3}</li>
</ol>
<h2>{words_title}</h2>
<dl class="glossary">{glossary}</dl>
</section>
<section>
<h2>{key_title}</h2>
<p>{key_text}</p>
<pre class="key" dir="ltr">{vkey}</pre>
</section>
<section>
<h2>{browser_title}</h2>
<p>{browser_text}</p>
<ul>
<li>{b1}</li>
<li>{b2}</li>
<li>{b3}</li>
<li>{b4}</li>
<li>{b5}</li>
<li>{b6}</li>
<li>{b7}</li>
</ul>
<p>{b8}</p>
<pre dir="ltr">sijil verify {origin_url} --key '{vkey}' --case 2024-0001</pre>
</section>
<section>
<h2>{offline_title}</h2>
<p>{offline_text}</p>
<ol>
<li>{o1}</li>
<li>{o2}</li>
<li>{o3}</li>
</ol>
<pre dir="ltr">message = "sijil/event/v1\n" ‖ origin ‖ "\n" ‖ bytes[..len−64]
leaf_hash = SHA-256(0x00 ‖ bytes)</pre>
</section>
<section>
<h2>{log_title}</h2>
<p>{log_text}</p>
<ul dir="ltr">
<li><a href="/checkpoint"><code>/checkpoint</code></a> — {checkpoint_text}</li>
<li><code>/tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</code>, <code>/tile/entries/&lt;N&gt;[.p/&lt;W&gt;]</code></li>
<li><code>/blobs/&lt;digest&gt;</code></li>
<li><code>/api/v1/proof/inclusion?index=&amp;size=</code>, <code>/api/v1/proof/consistency?from=&amp;to=</code> (<a href="/api/v1/openapi.json">OpenAPI</a>)</li>
</ul>
<p>{tiles_text}</p>
</section>"#,
        title = t("how-title"),
        plain1 = t("how-plain-1"),
        plain2 = t("how-plain-2"),
        step1 = t("how-step-1"),
        step2 = t("how-step-2"),
        step3 = t("how-step-3"),
        words_title = t("how-words-title"),
        key_title = t("how-key-title"),
        key_text = t("how-key-text"),
        vkey = esc(&vkey),
        browser_title = t("how-browser-title"),
        browser_text = t("how-browser-text"),
        b1 = t("how-b1"),
        b2 = t("how-b2"),
        b3 = t("how-b3"),
        b4 = t("how-b4"),
        b5 = t("how-b5"),
        b6 = t("how-b6"),
        b7 = t("how-b7"),
        b8 = t("how-b8"),
        origin_url = "URL",
        offline_title = t("how-offline-title"),
        offline_text = t("how-offline-text"),
        o1 = t("how-o1"),
        o2 = t("how-o2"),
        o3 = t("how-o3"),
        log_title = t("how-log-title"),
        log_text = t("how-log-text"),
        checkpoint_text = lang.tn("how-checkpoint-text", cp.size),
        tiles_text = t("how-tiles-text"),
    );
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(&lang.plain("how-title"), &body))
}
