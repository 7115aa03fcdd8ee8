//! The words of the register, in French (first) and English.

use sijil_core::event::{Category, Outcome, Sanction};
use sijil_projector::CaseStatus;

use super::Lang;

pub fn status(lang: Lang, s: CaseStatus) -> &'static str {
    let (fr, en) = match s {
        CaseStatus::Open => ("Ouverte", "Open"),
        CaseStatus::UnderInvestigation => ("En instruction", "Under investigation"),
        CaseStatus::AwaitingCompliance => {
            ("En attente de mise en conformité", "Awaiting compliance")
        }
        CaseStatus::Complied => ("Mise en conformité constatée", "Complied"),
        CaseStatus::Sanctioned => ("Sanctionnée", "Sanctioned"),
        CaseStatus::Closed => ("Clôturée", "Closed"),
    };
    lang.pick(fr, en)
}

pub fn category(lang: Lang, c: Category) -> &'static str {
    let (fr, en) = match c {
        Category::Privacy => ("Vie privée", "Privacy"),
        Category::Image => ("Droit à l'image", "Image rights"),
        Category::IdentityTheft => ("Usurpation d'identité", "Identity theft"),
        Category::RightToErasure => ("Droit à l'effacement", "Right to erasure"),
        Category::Geolocation => ("Géolocalisation", "Geolocation"),
        Category::Profiling => ("Profilage", "Profiling"),
        Category::VideoSurveillance => ("Vidéosurveillance", "Video surveillance"),
        Category::CrossBorderTransfer => ("Transfert vers l'étranger", "Cross-border transfer"),
        Category::UnsolicitedMarketing => ("Prospection non sollicitée", "Unsolicited marketing"),
        Category::Other => ("Autre", "Other"),
    };
    lang.pick(fr, en)
}

/// A sanction kind (`Sanction::kind`).
pub fn sanction_kind(lang: Lang, kind: &str) -> &'static str {
    let (fr, en) = match kind {
        "warning" => ("Avertissement", "Warning"),
        "formal_notice" => ("Mise en demeure", "Formal notice"),
        "fine" => ("Amende", "Fine"),
        "suspension" => ("Suspension", "Suspension"),
        "referral_to_prosecutor" => ("Saisine du procureur", "Referral to the prosecutor"),
        _ => ("Sanction", "Sanction"),
    };
    lang.pick(fr, en)
}

/// A sanction with its amount for a fine.
pub fn sanction(lang: Lang, s: &Sanction) -> String {
    match s {
        Sanction::Fine { amount_mad } => {
            format!(
                "{} ({} MAD)",
                sanction_kind(lang, s.kind()),
                group_digits(*amount_mad)
            )
        }
        other => sanction_kind(lang, other.kind()).to_string(),
    }
}

pub fn outcome(lang: Lang, o: Outcome) -> &'static str {
    let (fr, en) = match o {
        Outcome::Complied => ("Mise en conformité", "Complied"),
        Outcome::Sanctioned => ("Sanctionnée", "Sanctioned"),
        Outcome::Dismissed => ("Classée sans suite", "Dismissed"),
        Outcome::Withdrawn => ("Plainte retirée", "Withdrawn"),
        Outcome::Referred => ("Transmise", "Referred"),
    };
    lang.pick(fr, en)
}

/// An event's type name (`Event::name`).
pub fn event(lang: Lang, name: &str) -> &'static str {
    let (fr, en) = match name {
        "RegisterOpened" => ("Ouverture du registre", "Register opened"),
        "OfficerAuthorized" => ("Agent habilité", "Officer authorized"),
        "OfficerRevoked" => ("Habilitation retirée", "Officer revoked"),
        "ComplaintReceived" => ("Plainte reçue", "Complaint received"),
        "InspectionOpened" => ("Contrôle", "Inspection"),
        "HearingHeld" => ("Audition", "Hearing"),
        "ComplianceDeadlineSet" => ("Délai de mise en conformité", "Compliance deadline set"),
        "DeadlineExtended" => ("Délai prolongé", "Deadline extended"),
        "ComplianceConfirmed" => ("Mise en conformité constatée", "Compliance confirmed"),
        "SanctionNotified" => ("Sanction notifiée", "Sanction notified"),
        "AuthoritiesNotified" => ("Autorités informées", "Authorities notified"),
        "CaseClosed" => ("Affaire clôturée", "Case closed"),
        "Correction" => ("Rectificatif", "Correction"),
        "Erasure" => ("Effacement", "Erasure"),
        "IndexCommitted" => (
            "Index engagé par le registre",
            "Index committed by the register",
        ),
        _ => ("Événement", "Event"),
    };
    lang.pick(fr, en)
}

/// `1234567` → `1 234 567`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_by_three() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(20000), "20\u{a0}000");
        assert_eq!(group_digits(1234567), "1\u{a0}234\u{a0}567");
    }
}
