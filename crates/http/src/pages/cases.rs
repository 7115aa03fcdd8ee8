//! The list of cases and a case's page.

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use sijil_core::event::Category;
use sijil_projector::{CaseFilter, CaseStatus, CaseSummary, Page, Sort};
use sijil_register::present::read_text;

use super::{esc, event, id_path, labels, url_encode, utc, Frame, Lang};
use crate::api::committed_entry;
use crate::error::Error;
use crate::params::Query;
use crate::state::AppState;
use crate::store::Io;

/// Cases per page.
const PAGE: usize = 50;

/// `GET /affaires`: the cases, filtered, most recent first.
pub async fn cases_page(State(state): State<AppState>, uri: Uri) -> Result<Response, Error> {
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
    let q = Query::parse_lenient(&uri, &known).map_err(|e| e.html(Lang::Fr))?;
    let lang = Lang::of(&q);
    let page = |e: Error| e.html(lang);
    let t = |fr, en| lang.pick(fr, en);
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
        .view
        .cases(&filter, sort, &paging, today)
        .map_err(|e| page(Error::bad_parameter("after", e.to_string())))?;

    let mut body = format!("<h1>{}</h1>\n", t("Affaires", "Cases"));
    body.push_str(&filter_form(lang, &filter));
    let _ = writeln!(
        body,
        r#"<p class="count">{} {}</p>"#,
        listing.total,
        t("affaires correspondent", "matching cases")
    );
    body.push_str(&case_table(lang, &listing.items));
    let base = filter_query(&filter, sort);
    let mut pager = Vec::new();
    if listing.offset > 0 {
        pager.push(format!(
            r#"<a href="{}">← {}</a>"#,
            esc(&lang.href(&with_query("/affaires", &base))),
            t("Début", "First page")
        ));
    }
    if let Some(next) = &listing.next {
        let mut query = base.clone();
        query.push(format!("after={}", url_encode(next)));
        pager.push(format!(
            r#"<a href="{}">{} →</a>"#,
            esc(&lang.href(&with_query("/affaires", &query))),
            t("Suivantes", "Next")
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
    Ok(frame.page(t("Affaires", "Cases"), &body))
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
    let t = |fr, en| lang.pick(fr, en);
    let mut statuses = format!(r#"<option value="">{}</option>"#, t("Tous", "All"));
    for s in CaseStatus::ALL {
        let selected = if f.status == Some(s) { " selected" } else { "" };
        let _ = write!(
            statuses,
            r#"<option value="{}"{selected}>{}</option>"#,
            s.as_str(),
            labels::status(lang, s)
        );
    }
    let mut categories = format!(r#"<option value="">{}</option>"#, t("Toutes", "All"));
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
    let hidden_lang = match lang {
        Lang::En => r#"<input type="hidden" name="lang" value="en">"#,
        Lang::Fr => "",
    };
    format!(
        r#"<form class="filters" method="get" action="/affaires">{hidden_lang}
<label>{status_label} <select name="status">{statuses}</select></label>
<label>{category_label} <select name="category">{categories}</select></label>
<label>{controller_label} <input name="controller" value="{controller}" placeholder="{controller_hint}"></label>
<label>{from_label} <input type="date" name="opened_from" value="{from}"></label>
<label>{to_label} <input type="date" name="opened_to" value="{to}"></label>
<button type="submit">{filter}</button>
</form>
"#,
        status_label = t("Statut", "Status"),
        category_label = t("Catégorie", "Category"),
        controller_label = t("Responsable (identifiant)", "Controller (id)"),
        controller = esc(f.controller.as_deref().unwrap_or_default()),
        controller_hint = t("ex. cafe-atlas", "e.g. cafe-atlas"),
        from_label = t("Ouverte du", "Opened from"),
        from = date(f.opened_from),
        to_label = t("au", "to"),
        to = date(f.opened_to),
        filter = t("Filtrer", "Filter"),
    )
}

/// A table of cases; on a phone each row becomes a card (see `sijil.css`).
pub fn case_table(lang: Lang, items: &[CaseSummary]) -> String {
    let t = |fr, en| lang.pick(fr, en);
    let mut html = format!(
        r#"<table class="cases"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>
"#,
        t("Affaire", "Case"),
        t("Responsable", "Controller"),
        t("Catégorie", "Category"),
        t("Ouverte le", "Opened on"),
        t("Statut", "Status"),
        t("Délai", "Deadline"),
    );
    for c in items {
        let deadline = match c.deadline {
            Some(d) if c.overdue => format!(
                r#"{d} <span class="badge overdue">{}</span>"#,
                t("en retard", "overdue")
            ),
            Some(d) => d.to_string(),
            None => String::new(),
        };
        let _ = writeln!(
            html,
            r#"<tr><td data-label="{l_case}"><a href="{href}">{id}</a></td><td data-label="{l_controller}"><a href="{chref}">{controller}</a></td><td data-label="{l_category}">{category}</td><td data-label="{l_opened}">{opened}</td><td data-label="{l_status}"><span class="status status-{status_code}">{status}</span></td><td data-label="{l_deadline}">{deadline}</td></tr>"#,
            l_case = t("Affaire", "Case"),
            href = esc(&lang.href(&id_path("/affaires", &c.id))),
            id = esc(&c.id),
            l_controller = t("Responsable", "Controller"),
            chref = esc(&lang.href(&id_path("/responsables", &c.controller.id))),
            controller = esc(&c.controller.name),
            l_category = t("Catégorie", "Category"),
            category = labels::category(lang, c.category),
            l_opened = t("Ouverte le", "Opened on"),
            opened = c.opened_on,
            l_status = t("Statut", "Status"),
            status_code = c.status.as_str(),
            status = labels::status(lang, c.status),
            l_deadline = t("Délai", "Deadline"),
        );
    }
    html.push_str("</tbody></table>\n");
    html
}

/// `GET /affaires/{id}`: the case's facts, its timeline, and the Verify button.
pub async fn case_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, Error> {
    let q = Query::parse_lenient(&uri, &["lang", "verify"]).map_err(|e| e.html(Lang::Fr))?;
    let lang = Lang::of(&q);
    let page = |e: Error| e.html(lang);
    let t = |fr, en| lang.pick(fr, en);
    let today = state.today().map_err(page)?;
    let snapshot = state.snapshot();
    let detail = snapshot.view.case(&id, today).ok_or_else(|| {
        page(Error::not_found(format!(
            "{} {id}",
            t("Aucune affaire n'a le numéro", "No case has the number")
        )))
    })?;
    let seqs: Vec<u64> = detail.timeline.iter().map(|e| e.seq).collect();
    let snap = snapshot.clone();
    let entries = state
        .blocking(move |store| {
            let layout = store.layout();
            seqs.iter()
                .map(|&seq| {
                    let se = committed_entry(store, snap.tree(), seq, Io::Allowed)?;
                    let html = event::details(lang, &se, &snap.view, &|d| read_text(layout, d));
                    Ok((se, html))
                })
                .collect::<Result<Vec<_>, Error>>()
        })
        .await
        .map_err(page)?;

    let s = &detail.summary;
    let opened_by = match s.opened_by {
        sijil_projector::Opening::Complaint => t("sur plainte", "on a complaint"),
        sijil_projector::Opening::Inspection => {
            t("sur contrôle d'office", "by an ex officio inspection")
        }
    };
    // The controller as this case's signed opening entry names it (what a visitor's browser
    // can check); its current name, if it was renamed since, is on its own page.
    let opening_name = entries
        .first()
        .and_then(|(se, _)| match &se.entry.event {
            sijil_core::Event::ComplaintReceived(c) => Some(c.controller.name.as_str()),
            sijil_core::Event::InspectionOpened(i) => {
                i.opens.as_ref().map(|o| o.controller.name.as_str())
            }
            _ => None,
        })
        .unwrap_or(s.controller.name.as_str());
    let mut facts = vec![
        (
            t("Responsable du traitement", "Data controller"),
            format!(
                r#"<a href="{}">{}</a>"#,
                esc(&lang.href(&id_path("/responsables", &s.controller.id))),
                esc(opening_name)
            ),
        ),
        (
            t("Catégorie", "Category"),
            labels::category(lang, s.category).to_string(),
        ),
        (
            t("Ouverte le", "Opened on"),
            format!("{} ({opened_by})", s.opened_on),
        ),
    ];
    if let Some(h) = detail.hearings.last() {
        facts.push((
            t("Dernière audition", "Latest hearing"),
            format!("{}, {}", h.held_on, esc(&h.place)),
        ));
    }
    if let Some(d) = s.deadline {
        let state_html = if s.overdue {
            format!(
                r#"<span class="badge overdue">{} ({} {today})</span>"#,
                t("en retard", "overdue"),
                t("au", "as of")
            )
        } else {
            format!(
                r#"<span class="badge ok">{}</span>"#,
                t("dans le délai", "not yet due")
            )
        };
        facts.push((
            t("Délai de mise en conformité", "Compliance deadline"),
            format!("{d} {state_html}"),
        ));
    }
    for x in &detail.sanctions {
        facts.push((
            t("Sanction", "Sanction"),
            format!(
                "{} — {} ({})",
                esc(&labels::sanction(lang, &x.sanction)),
                x.notified_on,
                esc(&x.legal_basis)
            ),
        ));
    }
    if let Some(c) = &detail.compliance {
        facts.push((
            t("Mise en conformité constatée le", "Compliance confirmed on"),
            c.confirmed_on.to_string(),
        ));
    }
    if let Some(c) = &detail.closing {
        facts.push((
            t("Clôturée le", "Closed on"),
            format!("{} — {}", c.closed_on, labels::outcome(lang, c.outcome)),
        ));
    }
    let mut body = format!(
        r#"<h1>{case} {id}</h1>
<p><span class="status status-{status_code}">{status}</span></p>
<dl class="facts">"#,
        case = t("Affaire", "Case"),
        id = esc(&s.id),
        status_code = s.status.as_str(),
        status = labels::status(lang, s.status),
    );
    for (label, value) in facts {
        let _ = write!(body, "<dt>{label}</dt><dd>{value}</dd>");
    }
    body.push_str("</dl>\n");
    let _ = write!(
        body,
        r#"<section id="verify-box" class="verify" data-case-api="{api}" data-case-id="{id}" data-tree-size="{tree_size}" data-vkey="{vkey}" data-lang="{code}" data-auto="{auto}">
<h2>{verify_title}</h2>
<p>{verify_text}</p>
<p><button type="button" id="verify-button">{verify_button}</button></p>
<details><summary>{key_label}</summary><p>{key_text}</p><input id="verify-key" value="{vkey}" spellcheck="false" autocomplete="off">
<p><button type="button" id="verify-pin" class="secondary">{pin}</button> <button type="button" id="verify-unpin" class="secondary">{unpin}</button> <span id="verify-pin-state"></span></p></details>
<details><summary>{witness_label}</summary><p>{witness_text}</p><textarea id="verify-witnesses" rows="3" spellcheck="false" autocomplete="off"></textarea>
<p><label>{quorum_label} <input id="verify-quorum" type="number" min="0" inputmode="numeric"></label> <button type="button" id="verify-witnesses-save" class="secondary">{save}</button> <span id="verify-witnesses-state"></span></p></details>
<div id="verify-result" role="status" aria-live="polite" data-state="idle"></div>
<script src="/assets/sijil-verify-core.js" defer></script>
</section>
<h2>{timeline}</h2>
<ol class="timeline">
"#,
        api = esc(&id_path("/api/v1/cases", &s.id)),
        id = esc(&s.id),
        tree_size = snapshot.checkpoint.checkpoint.size,
        code = lang.code(),
        auto = if q.get("verify") == Some("1") { "1" } else { "0" },
        verify_title = t("Vérifier cette affaire", "Verify this case"),
        verify_text = t(
            "Votre navigateur vérifie lui-même, sans faire confiance à ce serveur : la signature du registre sur son point de contrôle, que le registre n'a pas été réécrit depuis votre dernière visite, que l'affaire est complète (l'index signé par le registre), l'inclusion et la signature de chaque événement, l'habilitation de chaque agent, et les textes. Puis il n'affiche que ce qu'il a vérifié.",
            "Your browser checks by itself, without trusting this server: the register's signature on its checkpoint, that the register was not rewritten since your last visit, that the case is complete (the register's signed index), each event's inclusion and signature, each officer's authorization, and the texts. Then it shows only what it verified."
        ),
        verify_button = t("Vérifier", "Verify"),
        key_label = t("Clé publique du registre utilisée", "Register public key used"),
        key_text = t(
            "Comparez-la avec la clé publiée par l'autorité, puis épinglez-la : ce navigateur la gardera et refusera un site qui en donne une autre. Vous pouvez en coller une autre.",
            "Compare it with the key the authority publishes, then pin it: this browser keeps it and refuses a site that gives another. You may paste another one."
        ),
        vkey = esc(&state.verifier().to_string()),
        pin = t("Épingler cette clé", "Pin this key"),
        unpin = t("Oublier la clé épinglée", "Forget the pinned key"),
        witness_label = t("Témoins", "Witnesses"),
        witness_text = t(
            "Clés de témoins (c2sp.org/tlog-cosignature) en qui vous avez confiance, une par ligne : leurs cosignatures du point de contrôle seront vérifiées et comptées. Quorum : combien il en faut (tous, si vide).",
            "Keys of witnesses (c2sp.org/tlog-cosignature) you trust, one per line: their cosignatures of the checkpoint are verified and counted. Quorum: how many are needed (all, if empty)."
        ),
        quorum_label = t("Quorum", "Quorum"),
        save = t("Enregistrer", "Save"),
        timeline = t("Chronologie", "Timeline"),
    );
    for (se, details) in &entries {
        let e = &se.entry;
        let officer = snapshot
            .view
            .officer(&e.signer)
            .map_or_else(|| e.signer.to_string(), |o| o.name.clone());
        let notes = snapshot.view.annotations(e.seq);
        let mut annotations = String::new();
        if let Some(a) = notes {
            for c in &a.corrections {
                let _ = write!(
                    annotations,
                    "<p class=\"note\">{} <a href=\"#e{c}\">n° {c}</a></p>",
                    t("Corrigé par l'entrée", "Corrected by entry")
                );
            }
            if let Some(er) = &a.erasure {
                let _ = write!(
                    annotations,
                    "<p class=\"note erased\">{} {} ({}) — <a href=\"#e{}\">n° {}</a></p>",
                    t("Texte effacé le", "Text erased on"),
                    er.erased_on,
                    esc(&er.reason),
                    er.seq,
                    er.seq
                );
            }
        }
        let _ = writeln!(
            body,
            r#"<li id="e{seq}" class="entry" data-seq="{seq}">
<header><span class="seq">n° {seq}</span> <strong>{label}</strong> <span class="check" data-seq="{seq}"></span></header>
<p class="meta">{recorded} {when} {by} {officer}</p>
{details}{annotations}
<p class="links"><a href="/api/v1/entries/{seq}/tlog-proof" download>{proof}</a> · <a href="/api/v1/entries/{seq}/raw" download>{bytes}</a> · <span>{leaf}</span> <code class="hash">{hash}</code></p>
</li>"#,
            seq = e.seq,
            label = labels::event(lang, e.event.name()),
            recorded = t("Inscrit le", "Recorded"),
            when = utc(e.recorded_at),
            by = t("par", "by"),
            officer = esc(&officer),
            proof = t("preuve (.tlog-proof)", "proof (.tlog-proof)"),
            bytes = t("octets de l'entrée", "entry bytes"),
            leaf = t("empreinte", "leaf hash"),
            hash = se.leaf.to_hex(),
        );
    }
    body.push_str("</ol>\n");
    let frame = Frame {
        lang,
        snapshot: &snapshot,
        uri: &uri,
    };
    Ok(frame.page(&format!("{} {}", t("Affaire", "Case"), s.id), &body))
}
