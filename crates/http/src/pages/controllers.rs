//! The data controllers and a controller's page.

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use super::cases::case_table;
use super::{esc, id_path, Arg, Frame, Lang};
use crate::error::Error;
use crate::params::Query;
use crate::state::AppState;

/// Controllers per page.
const PAGE: usize = 100;

/// `GET /responsables`: every controller, by id.
pub async fn controllers_page(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let lang = Lang::negotiate(&uri, &headers);
    let q = Query::parse_lenient(&uri, &["lang", "offset"]).map_err(|e| e.html(lang))?;
    let t = |id: &str| lang.t(id);
    let offset = q.u64("offset").map_err(|e| e.html(lang))?.unwrap_or(0);
    let snapshot = state.snapshot();
    let all = snapshot.listing().map_err(|e| e.html(lang))?.controllers();
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
    let end = (start + PAGE).min(all.len());
    let mut body = format!(
        r#"<h1>{title}</h1>
<p class="count">{count}</p>
<table class="cases"><thead><tr><th scope="col">{name}</th><th scope="col">{id}</th><th scope="col">{cases}</th><th scope="col">{open}</th></tr></thead><tbody>
"#,
        title = t("controllers-title"),
        count = lang.tn("controllers-count", all.len() as u64),
        name = t("col-name"),
        id = t("col-id"),
        cases = t("nav-cases"),
        open = t("col-open"),
    );
    for c in &all[start..end] {
        let _ = writeln!(
            body,
            r#"<tr><td data-label="{l_name}"><a href="{href}" dir="auto">{name}</a></td><td data-label="{l_id}"><code dir="ltr">{id}</code></td><td data-label="{l_cases}">{cases}</td><td data-label="{l_open}">{open}</td></tr>"#,
            l_name = t("col-name"),
            href = esc(&lang.href(&id_path("/responsables", &c.id))),
            name = esc(&c.name),
            l_id = t("col-id"),
            id = esc(&c.id),
            l_cases = t("nav-cases"),
            cases = lang.number(c.cases as u64),
            l_open = t("col-open"),
            open = lang.number(c.open_cases as u64),
        );
    }
    body.push_str("</tbody></table>\n");
    let mut pager = Vec::new();
    if start > 0 {
        pager.push(format!(
            r#"<a href="{}">{}</a>"#,
            esc(&lang.href(&format!(
                "/responsables?offset={}",
                start.saturating_sub(PAGE)
            ))),
            t("pager-previous")
        ));
    }
    if end < all.len() {
        pager.push(format!(
            r#"<a href="{}">{}</a>"#,
            esc(&lang.href(&format!("/responsables?offset={end}"))),
            t("pager-next")
        ));
    }
    if !pager.is_empty() {
        let _ = write!(
            body,
            r#"<nav class="pager" aria-label="{}">{}</nav>"#,
            t("pager-label"),
            pager.join(" ")
        );
    }
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(&lang.plain("nav-controllers"), &body))
}

/// `GET /responsables/{id}`: a controller, its former names, its cases.
pub async fn controller_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let lang = Lang::negotiate(&uri, &headers);
    Query::parse_lenient(&uri, &["lang"]).map_err(|e| e.html(lang))?;
    let t = |id: &str| lang.t(id);
    let today = state.today().map_err(|e| e.html(lang))?;
    let snapshot = state.snapshot();
    let listing = snapshot.listing().map_err(|e| e.html(lang))?;
    let detail = listing.controller(&id, today).ok_or_else(|| {
        Error::not_found(lang.plain_args("error-no-controller", &[("id", Arg::S(&id))])).html(lang)
    })?;
    let mut body = format!(
        "<h1 dir=\"auto\">{}</h1>\n<p>{} <code dir=\"ltr\">{}</code></p>\n",
        esc(&detail.name),
        t("controller-id"),
        esc(&detail.id)
    );
    if !detail.former_names.is_empty() {
        let names: Vec<String> = detail
            .former_names
            .iter()
            .map(|n| format!("<bdi>{}</bdi>", esc(n)))
            .collect();
        let _ = writeln!(
            body,
            "<p>{} {}</p>",
            t("controller-former-names"),
            names.join(" ; ")
        );
    }
    let overdue = detail.cases.iter().filter(|c| c.overdue).count();
    let _ = writeln!(
        body,
        r#"<p class="count">{} · {}</p>"#,
        lang.tn("count-cases", detail.cases.len() as u64),
        lang.tn("count-overdue", overdue as u64),
    );
    let _ = writeln!(
        body,
        r#"<p class="meta">{}</p>"#,
        lang.ta("overdue-judged-on", &[("date", Arg::S(&today.to_string()))])
    );
    let _ = writeln!(
        body,
        r#"<p class="downloads">{} <a href="{}">{}</a></p>"#,
        t("controller-feed-label"),
        esc(&id_path("/feeds/controllers", &detail.id)),
        t("open-data-feed"),
    );
    body.push_str(&case_table(lang, &detail.cases, today));
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(&detail.name, &body))
}
