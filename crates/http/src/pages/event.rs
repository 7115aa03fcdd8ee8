//! One entry of the log as people read it: its event's facts and texts.

use std::fmt::Write as _;

use sijil_core::event::{Controller, TextDigest};
use sijil_core::Event;
use sijil_projector::View;
use sijil_register::present::TextState;

use super::{esc, id_path, labels, Lang};
use crate::store::StoredEntry;

/// The facts of `se`'s event as a `<dl>`, its texts resolved by `text`.
pub fn details(
    lang: Lang,
    se: &StoredEntry,
    view: &View,
    text: &dyn Fn(&TextDigest) -> TextState,
) -> String {
    let t = |fr, en| lang.pick(fr, en);
    let mut rows: Vec<(&str, String)> = Vec::new();
    let controller = |c: &Controller| {
        format!(
            r#"<a href="{}">{}</a>"#,
            esc(&lang.href(&id_path("/responsables", &c.id))),
            esc(&c.name)
        )
    };
    let erased = view
        .annotations(se.entry.seq)
        .and_then(|a| a.erasure.as_ref());
    let text_html = |d: &TextDigest| match text(d) {
        TextState::Present(s) => format!(r#"<span class="text">{}</span>"#, esc(&s)),
        TextState::Absent => match erased {
            Some(e) => format!(
                r#"<span class="erased">{} {} ({})</span>"#,
                t("Texte effacé le", "Text erased on"),
                e.erased_on,
                esc(&e.reason)
            ),
            None => format!(
                r#"<span class="erased">{}</span>"#,
                t(
                    "Texte absent de ce serveur",
                    "Text not available on this server"
                )
            ),
        },
        TextState::Invalid(_) => format!(
            r#"<span class="bad">{}</span>"#,
            t(
                "Texte invalide : il ne correspond pas à l'empreinte signée",
                "Invalid text: it does not match the signed digest"
            )
        ),
    };
    match &se.entry.event {
        Event::RegisterOpened(e) => {
            rows.push((
                t("Origine", "Origin"),
                format!("<code>{}</code>", esc(&e.origin)),
            ));
            rows.push((t("Titre", "Title"), esc(&e.title)));
            rows.push((t("Autorité", "Authority"), esc(&e.authority)));
            let officers: Vec<String> = e.officers.iter().map(|o| esc(&o.name)).collect();
            rows.push((t("Agents", "Officers"), officers.join(", ")));
        }
        Event::OfficerAuthorized(e) => {
            rows.push((t("Agent", "Officer"), esc(&e.officer.name)));
            rows.push((
                t("Clé", "Key"),
                format!(r#"<code class="hash">{}</code>"#, e.officer.key),
            ));
        }
        Event::OfficerRevoked(e) => {
            rows.push((
                t("Clé", "Key"),
                format!(r#"<code class="hash">{}</code>"#, e.key),
            ));
            rows.push((t("Motif", "Reason"), esc(&e.reason)));
        }
        Event::ComplaintReceived(e) => {
            rows.push((t("Responsable", "Controller"), controller(&e.controller)));
            rows.push((
                t("Catégorie", "Category"),
                labels::category(lang, e.category).into(),
            ));
            rows.push((t("Reçue le", "Received on"), e.received_on.to_string()));
            if let Some(d) = &e.summary {
                rows.push((t("Résumé", "Summary"), text_html(d)));
            }
        }
        Event::InspectionOpened(e) => {
            rows.push((t("Ouvert le", "Opened on"), e.opened_on.to_string()));
            if let Some(o) = &e.opens {
                rows.push((t("Responsable", "Controller"), controller(&o.controller)));
                rows.push((
                    t("Catégorie", "Category"),
                    labels::category(lang, o.category).into(),
                ));
            }
            if let Some(d) = &e.scope {
                rows.push((t("Objet", "Scope"), text_html(d)));
            }
        }
        Event::HearingHeld(e) => {
            rows.push((t("Date", "Date"), e.held_on.to_string()));
            rows.push((t("Lieu", "Place"), esc(&e.place)));
            if let Some(d) = &e.summary {
                rows.push((t("Résumé", "Summary"), text_html(d)));
            }
        }
        Event::ComplianceDeadlineSet(e) => {
            rows.push((t("Échéance", "Due on"), e.due_on.to_string()));
            rows.push((t("Obligations", "Obligations"), text_html(&e.obligations)));
        }
        Event::DeadlineExtended(e) => {
            rows.push((t("Nouvelle échéance", "New due date"), e.due_on.to_string()));
            if let Some(d) = &e.reason {
                rows.push((t("Motif", "Reason"), text_html(d)));
            }
        }
        Event::ComplianceConfirmed(e) => {
            rows.push((
                t("Constatée le", "Confirmed on"),
                e.confirmed_on.to_string(),
            ));
            if let Some(d) = &e.note {
                rows.push((t("Note", "Note"), text_html(d)));
            }
        }
        Event::SanctionNotified(e) => {
            rows.push((t("Notifiée le", "Notified on"), e.notified_on.to_string()));
            rows.push((
                t("Sanction", "Sanction"),
                esc(&labels::sanction(lang, &e.sanction)),
            ));
            rows.push((t("Base légale", "Legal basis"), esc(&e.legal_basis)));
            if let Some(d) = &e.reasons {
                rows.push((t("Motifs", "Reasons"), text_html(d)));
            }
        }
        Event::AuthoritiesNotified(e) => {
            rows.push((t("Le", "On"), e.notified_on.to_string()));
            let names: Vec<String> = e.authorities.iter().map(|a| esc(a)).collect();
            rows.push((t("Autorités", "Authorities"), names.join(" ; ")));
        }
        Event::CaseClosed(e) => {
            rows.push((t("Clôturée le", "Closed on"), e.closed_on.to_string()));
            rows.push((
                t("Issue", "Outcome"),
                labels::outcome(lang, e.outcome).into(),
            ));
            if let Some(d) = &e.summary {
                rows.push((t("Résumé", "Summary"), text_html(d)));
            }
        }
        Event::Correction(e) => {
            rows.push((
                t("Corrige l'entrée", "Corrects entry"),
                format!("<a href=\"#e{0}\">n° {0}</a>", e.target),
            ));
            rows.push((t("Rectificatif", "Erratum"), text_html(&e.erratum)));
        }
        Event::Erasure(e) => {
            rows.push((
                t("Efface le texte de l'entrée", "Erases the text of entry"),
                format!("<a href=\"#e{0}\">n° {0}</a>", e.target),
            ));
            rows.push((t("Motif", "Reason"), esc(&e.reason)));
        }
        Event::IndexCommitted(e) => {
            rows.push((
                t("Entrées indexées", "Entries indexed"),
                format!("0 – {}", e.size.saturating_sub(1)),
            ));
            rows.push((t("Clés", "Keys"), e.keys.to_string()));
            rows.push((t("Racine de l'index", "Index root"), esc(&e.root.to_hex())));
        }
        _ => {}
    }
    let mut html = String::from("<dl>");
    for (label, value) in rows {
        let _ = write!(html, "<dt>{label}</dt><dd>{value}</dd>");
    }
    html.push_str("</dl>");
    html
}
