//! The data controllers and a controller's page.

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;

use super::cases::case_table;
use super::{esc, id_path, Frame, Lang};
use crate::error::Error;
use crate::params::Query;
use crate::state::AppState;

/// Controllers per page.
const PAGE: usize = 100;

/// `GET /responsables`: every controller, by id.
pub async fn controllers_page(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
    let q = Query::parse_lenient(&uri, &["lang", "offset"]).map_err(|e| e.html(Lang::Fr))?;
    let lang = Lang::of(&q);
    let t = |fr, en| lang.pick(fr, en);
    let offset = q.u64("offset").map_err(|e| e.html(lang))?.unwrap_or(0);
    let snapshot = state.snapshot();
    let all = snapshot.view.controllers();
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
    let end = (start + PAGE).min(all.len());
    let mut body = format!(
        r#"<h1>{title}</h1>
<p class="count">{n} {label}</p>
<table class="cases"><thead><tr><th>{name}</th><th>{id}</th><th>{cases}</th><th>{open}</th></tr></thead><tbody>
"#,
        title = t("Responsables du traitement", "Data controllers"),
        n = all.len(),
        label = t("responsables", "controllers"),
        name = t("Nom", "Name"),
        id = t("Identifiant", "Id"),
        cases = t("Affaires", "Cases"),
        open = t("En cours", "Open"),
    );
    for c in &all[start..end] {
        let _ = writeln!(
            body,
            r#"<tr><td data-label="{l_name}"><a href="{href}">{name}</a></td><td data-label="{l_id}"><code>{id}</code></td><td data-label="{l_cases}">{cases}</td><td data-label="{l_open}">{open}</td></tr>"#,
            l_name = t("Nom", "Name"),
            href = esc(&lang.href(&id_path("/responsables", &c.id))),
            name = esc(&c.name),
            l_id = t("Identifiant", "Id"),
            id = esc(&c.id),
            l_cases = t("Affaires", "Cases"),
            cases = c.cases,
            l_open = t("En cours", "Open"),
            open = c.open_cases,
        );
    }
    body.push_str("</tbody></table>\n");
    let mut pager = Vec::new();
    if start > 0 {
        pager.push(format!(
            r#"<a href="{}">← {}</a>"#,
            esc(&lang.href(&format!(
                "/responsables?offset={}",
                start.saturating_sub(PAGE)
            ))),
            t("Précédents", "Previous")
        ));
    }
    if end < all.len() {
        pager.push(format!(
            r#"<a href="{}">{} →</a>"#,
            esc(&lang.href(&format!("/responsables?offset={end}"))),
            t("Suivants", "Next")
        ));
    }
    if !pager.is_empty() {
        let _ = write!(body, r#"<nav class="pager">{}</nav>"#, pager.join(" "));
    }
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(t("Responsables", "Controllers"), &body))
}

/// `GET /responsables/{id}`: a controller, its former names, its cases.
pub async fn controller_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Error> {
    let q = Query::parse_lenient(&uri, &["lang"]).map_err(|e| e.html(Lang::Fr))?;
    let lang = Lang::of(&q);
    let t = |fr, en| lang.pick(fr, en);
    let today = state.today().map_err(|e| e.html(lang))?;
    let snapshot = state.snapshot();
    let detail = snapshot.view.controller(&id, today).ok_or_else(|| {
        Error::not_found(format!(
            "{} {id}",
            t(
                "Aucun responsable n'a l'identifiant",
                "No controller has the id"
            )
        ))
        .html(lang)
    })?;
    let mut body = format!(
        "<h1>{}</h1>\n<p>{} <code>{}</code></p>\n",
        esc(&detail.name),
        t("Identifiant :", "Id:"),
        esc(&detail.id)
    );
    if !detail.former_names.is_empty() {
        let names: Vec<String> = detail.former_names.iter().map(|n| esc(n)).collect();
        let _ = writeln!(
            body,
            "<p>{} {}</p>",
            t("Anciens noms :", "Former names:"),
            names.join(" ; ")
        );
    }
    let overdue = detail.cases.iter().filter(|c| c.overdue).count();
    let _ = writeln!(
        body,
        r#"<p class="count">{} {} · {} {}</p>"#,
        detail.cases.len(),
        t("affaires", "cases"),
        overdue,
        t("en retard sur leur délai", "past their deadline"),
    );
    body.push_str(&case_table(lang, &detail.cases));
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(&detail.name, &body))
}
