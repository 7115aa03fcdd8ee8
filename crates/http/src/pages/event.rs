//! One entry of the log as people read it: its event's facts and texts.

use std::fmt::Write as _;

use sijil_core::event::{AmendedField, Controller, Date, TextDigest};
use sijil_core::Event;
use sijil_projector::View;
use sijil_register::present::TextState;

use super::{esc, id_path, labels, Arg, Lang};
use crate::store::StoredEntry;

/// The labels of the facts' rows (message ids), which the browser verifier also needs.
pub const ROW_LABELS: [&str; 50] = [
    "row-origin",
    "row-title",
    "row-authority",
    "row-officers",
    "row-officer",
    "row-key",
    "row-reason",
    "row-controller",
    "row-category",
    "row-received-on",
    "row-summary",
    "row-opened-on",
    "row-scope",
    "row-date",
    "row-place",
    "row-due-on",
    "row-obligations",
    "row-new-due-on",
    "row-confirmed-on",
    "row-note",
    "row-notified-on",
    "row-sanction",
    "row-legal-basis",
    "row-reasons",
    "row-on",
    "row-authorities",
    "row-closed-on",
    "row-outcome",
    "row-corrects",
    "row-erratum",
    "row-erases",
    "row-indexed",
    "row-keys",
    "row-index-root",
    "row-decided-on",
    "row-forwarded-on",
    "row-forwarded-to",
    "row-suspended-on",
    "row-resumed-on",
    "row-published-on",
    "row-decision-number",
    "row-lodged-on",
    "row-court",
    "row-appellant",
    "row-ruled-on",
    "row-ruling",
    "row-reopened-on",
    "row-amends",
    "row-amended-field",
    "row-new-value",
];

/// The day an event says it happened (a complaint received, a hearing held...), if it says
/// one; `None` for events that happen when they are recorded (corrections, erasures, the
/// register's own).
pub fn event_date(e: &Event) -> Option<Date> {
    e.own_date().map(|(_, d)| d)
}

/// An amended value as the pages write it (HTML-escaped): a date, a controller's name and
/// id, or categories.
pub fn amended_value(lang: Lang, a: &AmendedField) -> String {
    match a {
        AmendedField::Date(d) | AmendedField::DueOn(d) => d.to_string(),
        AmendedField::Controller(c) => format!("{} ({})", esc(&c.name), esc(&c.id)),
        AmendedField::Categories(c) => labels::categories(lang, c),
    }
}

/// The value of `field` (an `AmendedField` name) in `event` as first recorded, written as
/// [`amended_value`] writes it; `None` if the event has no such field.
pub fn original_value(lang: Lang, event: &Event, field: &str) -> Option<String> {
    let opening = match event {
        Event::ComplaintReceived(e) => Some((&e.controller, &e.categories)),
        Event::InspectionOpened(e) => e.opens.as_ref().map(|o| (&o.controller, &o.categories)),
        _ => None,
    };
    let value = match field {
        "date" => AmendedField::Date(event.own_date()?.1),
        "due_on" => match event {
            Event::ComplianceDeadlineSet(e) => AmendedField::DueOn(e.due_on),
            Event::DeadlineExtended(e) => AmendedField::DueOn(e.due_on),
            _ => return None,
        },
        "controller" => AmendedField::Controller(opening?.0.clone()),
        "categories" => AmendedField::Categories(opening?.1.clone()),
        _ => return None,
    };
    Some(amended_value(lang, &value))
}

/// The facts of `se`'s event as a `<dl>`, its texts resolved by `text`.
pub fn details(
    lang: Lang,
    se: &StoredEntry,
    view: &View,
    text: &dyn Fn(&TextDigest) -> TextState,
) -> String {
    let t = |id: &str| lang.t(id);
    let mut rows: Vec<(String, String)> = Vec::new();
    let controller = |c: &Controller| {
        format!(
            r#"<a href="{}" dir="auto">{}</a>"#,
            esc(&lang.href(&id_path("/responsables", &c.id))),
            esc(&c.name)
        )
    };
    let erased = view
        .annotations(se.entry.seq)
        .and_then(|a| a.erasure.as_ref());
    // An erased text says so briefly: when and why is the entry's note, once.
    let text_html = |d: &TextDigest| match text(d) {
        TextState::Present(s) => format!(r#"<span class="text" dir="auto">{}</span>"#, esc(&s)),
        TextState::Absent if erased.is_some() => {
            format!(r#"<span class="erased">{}</span>"#, t("text-erased"))
        }
        TextState::Absent => format!(r#"<span class="erased">{}</span>"#, t("text-absent")),
        TextState::Invalid(_) => format!(r#"<span class="bad">{}</span>"#, t("text-invalid")),
    };
    let entry = |seq: u64| {
        format!(
            "<a href=\"#e{seq}\">{}</a>",
            lang.ta("entry-number", &[("seq", Arg::S(&seq.to_string()))])
        )
    };
    match &se.entry.event {
        Event::RegisterOpened(e) => {
            rows.push((
                t("row-origin"),
                format!(r#"<code dir="ltr">{}</code>"#, esc(&e.origin)),
            ));
            rows.push((
                t("row-title"),
                format!(r#"<span dir="auto">{}</span>"#, esc(&e.title)),
            ));
            rows.push((
                t("row-authority"),
                format!(r#"<span dir="auto">{}</span>"#, esc(&e.authority)),
            ));
            let officers: Vec<String> = e.officers.iter().map(|o| esc(&o.name)).collect();
            rows.push((t("row-officers"), officers.join(", ")));
        }
        Event::OfficerAuthorized(e) => {
            rows.push((t("row-officer"), esc(&e.officer.name)));
            rows.push((
                t("row-key"),
                format!(r#"<code class="hash" dir="ltr">{}</code>"#, e.officer.key),
            ));
        }
        Event::OfficerRevoked(e) => {
            rows.push((
                t("row-key"),
                format!(r#"<code class="hash" dir="ltr">{}</code>"#, e.key),
            ));
            rows.push((t("row-reason"), esc(&e.reason)));
        }
        Event::ComplaintReceived(e) => {
            rows.push((t("row-controller"), controller(&e.controller)));
            rows.push((t("row-category"), labels::categories(lang, &e.categories)));
            rows.push((t("row-received-on"), e.received_on.to_string()));
            if let Some(d) = &e.summary {
                rows.push((t("row-summary"), text_html(d)));
            }
        }
        Event::InspectionOpened(e) => {
            rows.push((t("row-opened-on"), e.opened_on.to_string()));
            if let Some(o) = &e.opens {
                rows.push((t("row-controller"), controller(&o.controller)));
                rows.push((t("row-category"), labels::categories(lang, &o.categories)));
            }
            if let Some(d) = &e.scope {
                rows.push((t("row-scope"), text_html(d)));
            }
        }
        Event::HearingHeld(e) => {
            rows.push((t("row-date"), e.held_on.to_string()));
            rows.push((t("row-place"), esc(&e.place)));
            if let Some(d) = &e.summary {
                rows.push((t("row-summary"), text_html(d)));
            }
        }
        Event::ComplianceDeadlineSet(e) => {
            rows.push((t("row-due-on"), e.due_on.to_string()));
            rows.push((t("row-obligations"), text_html(&e.obligations)));
        }
        Event::DeadlineExtended(e) => {
            rows.push((t("row-new-due-on"), e.due_on.to_string()));
            if let Some(d) = &e.reason {
                rows.push((t("row-reason"), text_html(d)));
            }
        }
        Event::ComplianceConfirmed(e) => {
            rows.push((t("row-confirmed-on"), e.confirmed_on.to_string()));
            if let Some(d) = &e.note {
                rows.push((t("row-note"), text_html(d)));
            }
        }
        Event::SanctionNotified(e) => {
            rows.push((t("row-notified-on"), e.notified_on.to_string()));
            rows.push((t("row-sanction"), labels::sanction(lang, &e.sanction)));
            rows.push((t("row-legal-basis"), esc(&e.legal_basis)));
            if let Some(d) = &e.reasons {
                rows.push((t("row-reasons"), text_html(d)));
            }
        }
        Event::AuthoritiesNotified(e) => {
            rows.push((t("row-on"), e.notified_on.to_string()));
            let names: Vec<String> = e.authorities.iter().map(|a| esc(a)).collect();
            rows.push((t("row-authorities"), names.join(" ; ")));
        }
        Event::CaseClosed(e) => {
            rows.push((t("row-closed-on"), e.closed_on.to_string()));
            rows.push((t("row-outcome"), labels::outcome(lang, e.outcome)));
            if let Some(d) = &e.summary {
                rows.push((t("row-summary"), text_html(d)));
            }
        }
        Event::Correction(e) => {
            rows.push((t("row-corrects"), entry(e.target)));
            rows.push((t("row-erratum"), text_html(&e.erratum)));
        }
        Event::Erasure(e) => {
            rows.push((t("row-erases"), entry(e.target)));
            rows.push((t("row-reason"), esc(&e.reason)));
        }
        Event::ComplaintInadmissible(e) => {
            rows.push((t("row-decided-on"), e.decided_on.to_string()));
            if let Some(d) = &e.reason {
                rows.push((t("row-reason"), text_html(d)));
            }
        }
        Event::ComplaintForwarded(e) => {
            rows.push((t("row-forwarded-on"), e.forwarded_on.to_string()));
            rows.push((
                t("row-forwarded-to"),
                format!(r#"<span dir="auto">{}</span>"#, esc(&e.to)),
            ));
            if let Some(d) = &e.reason {
                rows.push((t("row-reason"), text_html(d)));
            }
        }
        Event::ProceedingsSuspended(e) => {
            rows.push((t("row-suspended-on"), e.suspended_on.to_string()));
            if let Some(d) = &e.reason {
                rows.push((t("row-reason"), text_html(d)));
            }
        }
        Event::ProceedingsResumed(e) => {
            rows.push((t("row-resumed-on"), e.resumed_on.to_string()));
        }
        Event::DecisionPublished(e) => {
            rows.push((t("row-published-on"), e.published_on.to_string()));
            rows.push((
                t("row-decision-number"),
                format!(r#"<span dir="auto">{}</span>"#, esc(&e.decision_number)),
            ));
            if let Some(d) = &e.summary {
                rows.push((t("row-summary"), text_html(d)));
            }
        }
        Event::AppealLodged(e) => {
            rows.push((t("row-lodged-on"), e.lodged_on.to_string()));
            rows.push((
                t("row-court"),
                format!(r#"<span dir="auto">{}</span>"#, esc(&e.court)),
            ));
            rows.push((t("row-appellant"), labels::appellant(lang, e.by)));
        }
        Event::CourtRuling(e) => {
            rows.push((t("row-ruled-on"), e.ruled_on.to_string()));
            rows.push((
                t("row-court"),
                format!(r#"<span dir="auto">{}</span>"#, esc(&e.court)),
            ));
            rows.push((t("row-ruling"), labels::ruling(lang, e.ruling)));
            if let Some(d) = &e.summary {
                rows.push((t("row-summary"), text_html(d)));
            }
        }
        Event::CaseReopened(e) => {
            rows.push((t("row-reopened-on"), e.reopened_on.to_string()));
            if let Some(d) = &e.reason {
                rows.push((t("row-reason"), text_html(d)));
            }
        }
        Event::Amendment(e) => {
            rows.push((t("row-amends"), entry(e.target)));
            rows.push((
                t("row-amended-field"),
                labels::amended_field(lang, e.amend.name()),
            ));
            rows.push((t("row-new-value"), amended_value(lang, &e.amend)));
            if let Some(d) = &e.reason {
                rows.push((t("row-reason"), text_html(d)));
            }
        }
        Event::LogKeyRotated(e) => {
            rows.push((
                t("row-new-log-key"),
                format!(
                    r#"<code class="hash" dir="ltr">{}</code>"#,
                    esc(&e.new_key.to_string())
                ),
            ));
            rows.push((t("row-reason"), esc(&e.reason)));
        }
        Event::IndexCommitted(e) => {
            rows.push((t("row-indexed"), lang.tn("index-covers", e.size)));
            rows.push((t("row-keys"), lang.number(e.keys)));
            rows.push((
                t("row-index-root"),
                format!(
                    r#"<code class="hash" dir="ltr">{}</code>"#,
                    esc(&e.root.to_hex())
                ),
            ));
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
