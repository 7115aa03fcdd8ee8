//! The words of the register (statuses, categories, sanctions, outcomes, events), from the
//! message files (`locales/*.ftl`); each is HTML-escaped.

use sijil_core::event::{Appellant, Categories, Category, Outcome, Ruling, Sanction};
use sijil_projector::CaseStatus;

use super::{Arg, Lang};

pub fn status(lang: Lang, s: CaseStatus) -> String {
    lang.t(&format!("status-{}", s.as_str().replace('_', "-")))
}

pub fn category(lang: Lang, c: Category) -> String {
    lang.t(&format!("category-{}", c.as_str().replace('_', "-")))
}

/// A case's categories, in catalogue order, joined by ", ".
pub fn categories(lang: Lang, c: &Categories) -> String {
    c.iter()
        .map(|c| category(lang, c))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn ruling(lang: Lang, r: Ruling) -> String {
    lang.t(&format!("ruling-{}", r.as_str().replace('_', "-")))
}

pub fn appellant(lang: Lang, a: Appellant) -> String {
    lang.t(&format!("appellant-{}", a.as_str()))
}

/// The field an Amendment changes (`AmendedField::name`).
pub fn amended_field(lang: Lang, name: &str) -> String {
    lang.t(&format!("amended-{}", name.replace('_', "-")))
}

/// A sanction kind (`Sanction::kind`).
pub fn sanction_kind(lang: Lang, kind: &str) -> String {
    match kind {
        "warning" | "formal_notice" | "fine" | "suspension" | "referral_to_prosecutor" => {
            lang.t(&format!("sanction-{}", kind.replace('_', "-")))
        }
        _ => lang.t("sanction-other"),
    }
}

/// A sanction with its amount for a fine.
pub fn sanction(lang: Lang, s: &Sanction) -> String {
    match s {
        Sanction::Fine { amount_mad } => {
            lang.ta("sanction-fine-amount", &[("n", Arg::N(*amount_mad))])
        }
        other => sanction_kind(lang, other.kind()),
    }
}

pub fn outcome(lang: Lang, o: Outcome) -> String {
    let id = match o {
        Outcome::Complied => "outcome-complied",
        Outcome::Sanctioned => "outcome-sanctioned",
        Outcome::Dismissed => "outcome-dismissed",
        Outcome::Withdrawn => "outcome-withdrawn",
        Outcome::Referred => "outcome-referred",
    };
    lang.t(id)
}

/// Every event type the pages name (`Event::name`), each with an `event-…` message.
pub const EVENT_NAMES: [&str; 25] = [
    "RegisterOpened",
    "OfficerAuthorized",
    "OfficerRevoked",
    "ComplaintReceived",
    "InspectionOpened",
    "HearingHeld",
    "ComplianceDeadlineSet",
    "DeadlineExtended",
    "ComplianceConfirmed",
    "SanctionNotified",
    "AuthoritiesNotified",
    "CaseClosed",
    "Correction",
    "Erasure",
    "IndexCommitted",
    "LogKeyRotated",
    "ComplaintInadmissible",
    "ComplaintForwarded",
    "ProceedingsSuspended",
    "ProceedingsResumed",
    "DecisionPublished",
    "AppealLodged",
    "CourtRuling",
    "CaseReopened",
    "Amendment",
];

/// An event's type name (`Event::name`).
pub fn event(lang: Lang, name: &str) -> String {
    if EVENT_NAMES.contains(&name) {
        lang.t(&format!("event-{name}"))
    } else {
        lang.t("event-other")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_has_a_message() {
        for lang in Lang::ALL {
            for s in CaseStatus::ALL {
                assert!(!status(lang, s).starts_with("status-"), "{s:?}");
            }
            for c in Category::ALL {
                assert!(!category(lang, c).starts_with("category-"), "{c:?}");
            }
            for r in Ruling::ALL {
                assert!(!ruling(lang, r).starts_with("ruling-"), "{r:?}");
            }
            for a in Appellant::ALL {
                assert!(!appellant(lang, a).starts_with("appellant-"), "{a:?}");
            }
            for f in ["date", "due_on", "controller", "categories"] {
                assert!(!amended_field(lang, f).starts_with("amended-"), "{f}");
            }
            for e in EVENT_NAMES {
                assert!(!event(lang, e).starts_with("event-"), "{e}");
            }
        }
        assert_eq!(
            sanction(Lang::Fr, &Sanction::Fine { amount_mad: 20000 }),
            "Amende (20\u{a0}000 MAD)"
        );
        assert_eq!(
            sanction(Lang::En, &Sanction::Fine { amount_mad: 20000 }),
            "Fine (20,000 MAD)"
        );
    }
}
