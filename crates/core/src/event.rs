//! The v1 event catalogue (DESIGN §4, docs/FORMAT.md §3).
//!
//! Events are generic over how free text is held: `Event<TextDigest>` (the default) is what
//! an entry carries — only `SHA-256(salt ‖ text)`, see [`crate::blob`] — and `Event<String>`
//! is what a clerk writes in an events file. [`Event::seal`] turns the second into the first.
//!
//! The bincode encoding of these types is a contract: the variant order, field order and
//! field types below are pinned by the golden vectors in docs/FORMAT.md. New variants go at
//! the end (docs/FORMAT.md §3 lists the numbers planned); nothing may be reordered.

use std::fmt;

use bincode::de::Decoder;
use bincode::enc::Encoder;
use bincode::error::{DecodeError, EncodeError};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::hash::Hash;

/// The digest of a redactable text: `SHA-256(salt ‖ text)` (DESIGN §5). The text and its salt
/// live in a blob, `blobs/<hex digest>`, which an `Erasure` may delete; the digest stays.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    bincode::Encode,
    bincode::Decode,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct TextDigest(pub Hash);

impl fmt::Debug for TextDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TextDigest({})", self.0.to_hex())
    }
}

/// A calendar date that belongs to a case (a hearing, a deadline). Encoded as
/// `year: u16 (varint), month: u8, day: u8`; decoding rejects dates that do not exist and
/// years outside 1900–9999. JSON: `"2023-01-06"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(NaiveDate);

impl Date {
    /// The date, if `year`-`month`-`day` exists and the year is in 1900–9999.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1900..=9999).contains(&year) {
            return None;
        }
        NaiveDate::from_ymd_opt(year, month, day).map(Date)
    }

    /// The UTC calendar date of a Unix time in milliseconds.
    pub fn from_unix_ms(ms: i64) -> Option<Date> {
        let d = chrono::DateTime::from_timestamp_millis(ms)?.date_naive();
        Date::from_ymd(d.year(), d.month(), d.day())
    }

    pub fn naive(&self) -> NaiveDate {
        self.0
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl std::str::FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        let bad = || format!("invalid date {s:?}: expected YYYY-MM-DD between 1900 and 9999");
        // `%Y` alone would accept "+2023" or "23"; insist on the one canonical spelling.
        if s.len() != 10 {
            return Err(bad());
        }
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
        let date = Date::from_ymd(d.year(), d.month(), d.day()).ok_or_else(bad)?;
        if date.to_string() != s {
            return Err(bad());
        }
        Ok(date)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl bincode::Encode for Date {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        let year = u16::try_from(self.0.year()).map_err(|_| {
            EncodeError::OtherString(format!("year {} out of range", self.0.year()))
        })?;
        year.encode(e)?;
        (self.0.month() as u8).encode(e)?;
        (self.0.day() as u8).encode(e)
    }
}

impl<Context> bincode::Decode<Context> for Date {
    fn decode<D: Decoder<Context = Context>>(d: &mut D) -> Result<Self, DecodeError> {
        let year = u16::decode(d)?;
        let month = u8::decode(d)?;
        let day = u8::decode(d)?;
        Date::from_ymd(i32::from(year), u32::from(month), u32::from(day)).ok_or_else(|| {
            DecodeError::OtherString(format!("invalid date {year:04}-{month:02}-{day:02}"))
        })
    }
}
bincode::impl_borrow_decode!(Date);

/// What an officer may sign. Admins manage officers and may record case events; clerks record
/// case events only.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    bincode::Encode,
    bincode::Decode,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Clerk,
}

/// An Ed25519 public key (32 bytes), an officer's or the log's. JSON: 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, bincode::Encode, bincode::Decode)]
pub struct PublicKey(pub [u8; 32]);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.0))
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.as_ref(), &mut out)
            .map_err(|_| serde::de::Error::custom("expected a public key as 64 hex digits"))?;
        Ok(PublicKey(out))
    }
}

/// An officer named in `RegisterOpened` or `OfficerAuthorized`.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Officer {
    pub key: PublicKey,
    pub name: String,
    pub role: Role,
}

/// A data controller: a stable id (a slug or registration number) and a display name.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controller {
    pub id: String,
    pub name: String,
}

/// The kinds of harm people bring to the authority.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    bincode::Encode,
    bincode::Decode,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Privacy,
    Image,
    IdentityTheft,
    RightToErasure,
    Geolocation,
    Profiling,
    VideoSurveillance,
    CrossBorderTransfer,
    UnsolicitedMarketing,
    Other,
}

impl Category {
    pub const ALL: [Category; 10] = [
        Category::Privacy,
        Category::Image,
        Category::IdentityTheft,
        Category::RightToErasure,
        Category::Geolocation,
        Category::Profiling,
        Category::VideoSurveillance,
        Category::CrossBorderTransfer,
        Category::UnsolicitedMarketing,
        Category::Other,
    ];

    /// The snake_case name used in JSON and URLs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Category::Privacy => "privacy",
            Category::Image => "image",
            Category::IdentityTheft => "identity_theft",
            Category::RightToErasure => "right_to_erasure",
            Category::Geolocation => "geolocation",
            Category::Profiling => "profiling",
            Category::VideoSurveillance => "video_surveillance",
            Category::CrossBorderTransfer => "cross_border_transfer",
            Category::UnsolicitedMarketing => "unsolicited_marketing",
            Category::Other => "other",
        }
    }
}

/// A sanction the authority notified (law 09-08, Title VII).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize,
)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Sanction {
    Warning,
    FormalNotice,
    /// A fine, in whole Moroccan dirhams.
    Fine {
        amount_mad: u64,
    },
    Suspension,
    ReferralToProsecutor,
}

impl Sanction {
    pub fn kind(&self) -> &'static str {
        match self {
            Sanction::Warning => "warning",
            Sanction::FormalNotice => "formal_notice",
            Sanction::Fine { .. } => "fine",
            Sanction::Suspension => "suspension",
            Sanction::ReferralToProsecutor => "referral_to_prosecutor",
        }
    }
}

/// How a case ended.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    bincode::Encode,
    bincode::Decode,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Complied,
    Sanctioned,
    Dismissed,
    Withdrawn,
    Referred,
}

/// Genesis (seq 0): what the register is and who may write to it.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterOpened {
    /// The log's origin (checkpoint first line), e.g. `registre.example.ma/plaintes`.
    pub origin: String,
    pub title: String,
    pub authority: String,
    /// The log's Ed25519 checkpoint key; its signed-note key name is `origin`.
    pub log_key: PublicKey,
    pub officers: Vec<Officer>,
}

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficerAuthorized {
    pub officer: Officer,
}

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficerRevoked {
    pub key: PublicKey,
    pub reason: String,
}

/// Opens a case on a complaint. Never the complainant's identity.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintReceived<T = TextDigest> {
    pub controller: Controller,
    pub category: Category,
    pub received_on: Date,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub summary: Option<T>,
}

/// The controller and category of a case opened by an inspection (ex officio control).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseOpening {
    pub controller: Controller,
    pub category: Category,
}

/// An inspection: it opens a case ex officio (`opens` is set) or is held on an open case.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionOpened<T = TextDigest> {
    pub opened_on: Date,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub opens: Option<CaseOpening>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub scope: Option<T>,
}

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HearingHeld<T = TextDigest> {
    pub held_on: Date,
    pub place: String,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub summary: Option<T>,
}

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceDeadlineSet<T = TextDigest> {
    pub due_on: Date,
    pub obligations: T,
}

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineExtended<T = TextDigest> {
    pub due_on: Date,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub reason: Option<T>,
}

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceConfirmed<T = TextDigest> {
    pub confirmed_on: Date,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub note: Option<T>,
}

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SanctionNotified<T = TextDigest> {
    pub notified_on: Date,
    pub sanction: Sanction,
    /// The article(s) of law the sanction rests on, e.g. "Loi 09-08, art. 51".
    pub legal_basis: String,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub reasons: Option<T>,
}

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthoritiesNotified {
    pub notified_on: Date,
    pub authorities: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseClosed<T = TextDigest> {
    pub closed_on: Date,
    pub outcome: Outcome,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub summary: Option<T>,
}

/// An erratum about an earlier entry of the same case; the earlier entry stays as it was.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction<T = TextDigest> {
    /// The seq (leaf index) of the corrected entry.
    pub target: u64,
    pub erratum: T,
}

/// Erases the redactable text of an earlier entry of the same case (its blobs are deleted);
/// the entry, its hash and signature stay valid.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Erasure {
    /// The seq (leaf index) of the entry whose text is erased.
    pub target: u64,
    /// Why (a legal ground, never personal data), shown as "erased on DATE (reason)".
    pub reason: String,
}

/// The log key's commitment to the log-derived index (docs/FORMAT.md §10): the root of the
/// prefix trie over every key touched by the entries `[0, size)`. It is the last leaf of every
/// published checkpoint of size > 1, so one inclusion proof at `size` ties the whole index to
/// the checkpoint that witnesses cosign. Signed by the log key, never by an officer; it
/// carries no `CaseLink` and touches no index key.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexCommitted {
    /// The number of entries the index covers: always the entry's own seq.
    pub size: u64,
    /// The number of keys in the trie.
    pub keys: u64,
    /// The trie's root hash (docs/FORMAT.md §10.4).
    pub root: Hash,
}

fn none<T>() -> Option<T> {
    None
}

/// A v1 event. The JSON form is tagged by `"type"`; see docs/FORMAT.md §3 for each field.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum Event<T = TextDigest> {
    RegisterOpened(RegisterOpened),
    OfficerAuthorized(OfficerAuthorized),
    OfficerRevoked(OfficerRevoked),
    ComplaintReceived(ComplaintReceived<T>),
    InspectionOpened(InspectionOpened<T>),
    HearingHeld(HearingHeld<T>),
    ComplianceDeadlineSet(ComplianceDeadlineSet<T>),
    DeadlineExtended(DeadlineExtended<T>),
    ComplianceConfirmed(ComplianceConfirmed<T>),
    SanctionNotified(SanctionNotified<T>),
    AuthoritiesNotified(AuthoritiesNotified),
    CaseClosed(CaseClosed<T>),
    Correction(Correction<T>),
    Erasure(Erasure),
    IndexCommitted(IndexCommitted),
}

impl<T> Event<T> {
    /// The event's type name, as in its JSON `"type"`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::RegisterOpened(_) => "RegisterOpened",
            Event::OfficerAuthorized(_) => "OfficerAuthorized",
            Event::OfficerRevoked(_) => "OfficerRevoked",
            Event::ComplaintReceived(_) => "ComplaintReceived",
            Event::InspectionOpened(_) => "InspectionOpened",
            Event::HearingHeld(_) => "HearingHeld",
            Event::ComplianceDeadlineSet(_) => "ComplianceDeadlineSet",
            Event::DeadlineExtended(_) => "DeadlineExtended",
            Event::ComplianceConfirmed(_) => "ComplianceConfirmed",
            Event::SanctionNotified(_) => "SanctionNotified",
            Event::AuthoritiesNotified(_) => "AuthoritiesNotified",
            Event::CaseClosed(_) => "CaseClosed",
            Event::Correction(_) => "Correction",
            Event::Erasure(_) => "Erasure",
            Event::IndexCommitted(_) => "IndexCommitted",
        }
    }

    /// Whether the event belongs to a case (and so must carry a `CaseLink`). Register-level
    /// events (the genesis and officer keys) and the log's own `IndexCommitted` carry none.
    pub fn is_case_event(&self) -> bool {
        !matches!(
            self,
            Event::RegisterOpened(_)
                | Event::OfficerAuthorized(_)
                | Event::OfficerRevoked(_)
                | Event::IndexCommitted(_)
        )
    }

    /// Every redactable text the event holds, in field order.
    pub fn texts(&self) -> Vec<&T> {
        match self {
            Event::RegisterOpened(_)
            | Event::OfficerAuthorized(_)
            | Event::OfficerRevoked(_)
            | Event::AuthoritiesNotified(_)
            | Event::Erasure(_)
            | Event::IndexCommitted(_) => vec![],
            Event::ComplaintReceived(e) => e.summary.iter().collect(),
            Event::InspectionOpened(e) => e.scope.iter().collect(),
            Event::HearingHeld(e) => e.summary.iter().collect(),
            Event::ComplianceDeadlineSet(e) => vec![&e.obligations],
            Event::DeadlineExtended(e) => e.reason.iter().collect(),
            Event::ComplianceConfirmed(e) => e.note.iter().collect(),
            Event::SanctionNotified(e) => e.reasons.iter().collect(),
            Event::CaseClosed(e) => e.summary.iter().collect(),
            Event::Correction(e) => vec![&e.erratum],
        }
    }

    /// Replaces every text with `f(text)`, in field order: how a clerk's plain-text event
    /// becomes the digests an entry holds (`f` stores the blob and returns its digest).
    pub fn seal<U, E>(self, mut f: impl FnMut(T) -> Result<U, E>) -> Result<Event<U>, E> {
        let mut opt = |t: Option<T>| t.map(&mut f).transpose();
        Ok(match self {
            Event::RegisterOpened(e) => Event::RegisterOpened(e),
            Event::OfficerAuthorized(e) => Event::OfficerAuthorized(e),
            Event::OfficerRevoked(e) => Event::OfficerRevoked(e),
            Event::AuthoritiesNotified(e) => Event::AuthoritiesNotified(e),
            Event::Erasure(e) => Event::Erasure(e),
            Event::IndexCommitted(e) => Event::IndexCommitted(e),
            Event::ComplaintReceived(e) => Event::ComplaintReceived(ComplaintReceived {
                controller: e.controller,
                category: e.category,
                received_on: e.received_on,
                summary: opt(e.summary)?,
            }),
            Event::InspectionOpened(e) => Event::InspectionOpened(InspectionOpened {
                opened_on: e.opened_on,
                opens: e.opens,
                scope: opt(e.scope)?,
            }),
            Event::HearingHeld(e) => Event::HearingHeld(HearingHeld {
                held_on: e.held_on,
                place: e.place,
                summary: opt(e.summary)?,
            }),
            Event::DeadlineExtended(e) => Event::DeadlineExtended(DeadlineExtended {
                due_on: e.due_on,
                reason: opt(e.reason)?,
            }),
            Event::ComplianceConfirmed(e) => Event::ComplianceConfirmed(ComplianceConfirmed {
                confirmed_on: e.confirmed_on,
                note: opt(e.note)?,
            }),
            Event::SanctionNotified(e) => Event::SanctionNotified(SanctionNotified {
                notified_on: e.notified_on,
                sanction: e.sanction,
                legal_basis: e.legal_basis,
                reasons: opt(e.reasons)?,
            }),
            Event::CaseClosed(e) => Event::CaseClosed(CaseClosed {
                closed_on: e.closed_on,
                outcome: e.outcome,
                summary: opt(e.summary)?,
            }),
            Event::ComplianceDeadlineSet(e) => {
                Event::ComplianceDeadlineSet(ComplianceDeadlineSet {
                    due_on: e.due_on,
                    obligations: f(e.obligations)?,
                })
            }
            Event::Correction(e) => Event::Correction(Correction {
                target: e.target,
                erratum: f(e.erratum)?,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_strict() {
        for bad in [
            "2023-02-30",
            "23-01-06",
            "+2023-01-06",
            "2023-1-6",
            "1899-12-31",
            "2023-01-06 ",
            "",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            "2023-01-06".parse::<Date>().map(|d| d.to_string()),
            Ok("2023-01-06".to_string())
        );
    }

    #[test]
    fn json_rejects_unknown_fields_and_types() {
        let ok = r#"{"type":"HearingHeld","held_on":"2023-01-06","place":"Rabat","summary":"x"}"#;
        assert!(serde_json::from_str::<Event<String>>(ok).is_ok());
        let typo = r#"{"type":"HearingHeld","held_on":"2023-01-06","place":"Rabat","sumary":"x"}"#;
        assert!(serde_json::from_str::<Event<String>>(typo).is_err());
        let unknown = r#"{"type":"HearingCancelled"}"#;
        assert!(serde_json::from_str::<Event<String>>(unknown).is_err());
    }

    #[test]
    fn seal_maps_texts_in_order() {
        let e: Event<String> = serde_json::from_str(
            r#"{"type":"SanctionNotified","notified_on":"2023-03-01","sanction":{"kind":"fine","amount_mad":20000},"legal_basis":"art. 51","reasons":"late"}"#,
        )
        .expect("valid event");
        let sealed: Event<usize> = e.seal(|t| Ok::<_, ()>(t.len())).expect("infallible");
        assert_eq!(sealed.texts(), vec![&4]);
    }
}
