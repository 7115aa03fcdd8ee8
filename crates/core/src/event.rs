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

/// The categories of a case: at least one, each once, in ascending catalogue order (the
/// order of [`Category::ALL`], which is the variant index), so that a set of categories has
/// exactly one encoding (docs/FORMAT.md §2.3). Encoded as `Vec<Category>`; JSON: an array of
/// names, e.g. `["privacy","image"]`, which may be written in any order (it is sorted) but
/// without repeats. Decoding bytes accepts only the canonical order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Categories(Vec<Category>);

impl Categories {
    /// The canonical set: non-empty, strictly ascending. The error names the field and what
    /// is wrong.
    pub fn new(categories: Vec<Category>) -> Result<Categories, String> {
        if categories.is_empty() {
            return Err("categories: a case has at least one category".into());
        }
        for w in categories.windows(2) {
            if w[0] == w[1] {
                return Err(format!("categories: {:?} is listed twice", w[0].as_str()));
            }
            if w[0] > w[1] {
                return Err(format!(
                    "categories: {:?} is listed after {:?}; categories are stored in the catalogue order ({})",
                    w[1].as_str(),
                    w[0].as_str(),
                    Category::ALL.map(|c| c.as_str()).join(", ")
                ));
            }
        }
        Ok(Categories(categories))
    }

    /// The set in any order: sorted, then checked as [`Categories::new`] (so a repeat is
    /// still an error).
    pub fn sorted(mut categories: Vec<Category>) -> Result<Categories, String> {
        categories.sort();
        Categories::new(categories)
    }

    /// A set of one category.
    pub fn one(category: Category) -> Categories {
        Categories(vec![category])
    }

    pub fn as_slice(&self) -> &[Category] {
        &self.0
    }

    pub fn contains(&self, category: Category) -> bool {
        self.0.contains(&category)
    }

    pub fn iter(&self) -> impl Iterator<Item = Category> + '_ {
        self.0.iter().copied()
    }

    /// The names joined by `sep`, e.g. `privacy;image` (the open-data CSV column).
    pub fn join(&self, sep: &str) -> String {
        self.0
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(sep)
    }
}

impl<'de> Deserialize<'de> for Categories {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Categories::sorted(Vec::<Category>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl bincode::Encode for Categories {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.0.encode(e)
    }
}

impl<Context> bincode::Decode<Context> for Categories {
    fn decode<D: Decoder<Context = Context>>(d: &mut D) -> Result<Self, DecodeError> {
        Categories::new(Vec::<Category>::decode(d)?).map_err(DecodeError::OtherString)
    }
}
bincode::impl_borrow_decode!(Categories);

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
    pub categories: Categories,
    pub received_on: Date,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub summary: Option<T>,
}

/// The controller and categories of a case opened by an inspection (ex officio control).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseOpening {
    pub controller: Controller,
    pub categories: Categories,
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

/// The log key names its successor (docs/FORMAT.md §3, issue 13 "The operator"): signed by the
/// log key current at this entry, it retires that key. Every checkpoint larger than this
/// entry's seq, and every later `IndexCommitted`, is signed by `new_key` only, so a verifier
/// that trusts an older key follows the chain of rotations from it, each signed by the key
/// before. A register-level event: no `CaseLink`; it touches the register's index key, so the
/// register's mini-log lists every rotation (docs/FORMAT.md §10.1).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogKeyRotated {
    /// The log's next Ed25519 checkpoint key; its signed-note key name stays the origin.
    pub new_key: PublicKey,
    /// Why (a scheduled rotation, a suspected compromise), shown as is; never personal data.
    pub reason: String,
}

/// The complaint is found inadmissible (outside the law's scope, incomplete, out of time): the
/// first act on a case opened by a complaint, and it closes the case.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintInadmissible<T = TextDigest> {
    pub decided_on: Date,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub reason: Option<T>,
}

/// The complaint is forwarded to the authority competent for it (a sector regulator, a
/// foreign data protection authority): the first act on a complaint, and it closes the case.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintForwarded<T = TextDigest> {
    pub forwarded_on: Date,
    /// The authority the complaint goes to (a name, never a person's).
    pub to: String,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub reason: Option<T>,
}

/// The proceedings are suspended (a pending court case, a request to another authority).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProceedingsSuspended<T = TextDigest> {
    pub suspended_on: Date,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub reason: Option<T>,
}

/// Suspended proceedings resume where they stood.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProceedingsResumed {
    pub resumed_on: Date,
}

/// The authority publishes its decision in the case, under its decision number.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionPublished<T = TextDigest> {
    pub published_on: Date,
    /// The authority's number for the decision, e.g. "D-2023-117".
    pub decision_number: String,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub summary: Option<T>,
}

/// Who appealed a decision.
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
pub enum Appellant {
    Controller,
    Complainant,
    Other,
}

impl Appellant {
    pub const ALL: [Appellant; 3] = [
        Appellant::Controller,
        Appellant::Complainant,
        Appellant::Other,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Appellant::Controller => "controller",
            Appellant::Complainant => "complainant",
            Appellant::Other => "other",
        }
    }
}

/// An appeal against the authority's decision, lodged with a court.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealLodged {
    pub lodged_on: Date,
    /// The court, e.g. "Tribunal administratif de Rabat".
    pub court: String,
    pub by: Appellant,
}

/// What a court decided about the authority's decision.
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
pub enum Ruling {
    /// The decision stands.
    Upheld,
    Annulled,
    PartiallyAnnulled,
    /// The appeal was not heard (out of time, inadmissible, withdrawn).
    AppealDismissed,
}

impl Ruling {
    pub const ALL: [Ruling; 4] = [
        Ruling::Upheld,
        Ruling::Annulled,
        Ruling::PartiallyAnnulled,
        Ruling::AppealDismissed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Ruling::Upheld => "upheld",
            Ruling::Annulled => "annulled",
            Ruling::PartiallyAnnulled => "partially_annulled",
            Ruling::AppealDismissed => "appeal_dismissed",
        }
    }
}

/// A court's ruling on the appeal in force.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourtRuling<T = TextDigest> {
    pub ruled_on: Date,
    pub court: String,
    pub ruling: Ruling,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub summary: Option<T>,
}

/// A closed case is reopened (new facts, a court's annulment).
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseReopened<T = TextDigest> {
    pub reopened_on: Date,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub reason: Option<T>,
}

/// The field an `Amendment` fixes, with its new value. JSON:
/// `{"field":"date","value":"2023-05-01"}`.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(
    tag = "field",
    content = "value",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum AmendedField {
    /// The date of the event itself (`received_on`, `held_on`, `closed_on`...).
    Date(Date),
    /// The due date of a `ComplianceDeadlineSet` or `DeadlineExtended`.
    DueOn(Date),
    /// The controller of the case (the event that opened it).
    Controller(Controller),
    /// The categories of the case (the event that opened it).
    Categories(Categories),
}

impl AmendedField {
    /// The field's name, as in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            AmendedField::Date(_) => "date",
            AmendedField::DueOn(_) => "due_on",
            AmendedField::Controller(_) => "controller",
            AmendedField::Categories(_) => "categories",
        }
    }
}

/// A structured fix of one field of an earlier entry of the same case: the projected value
/// changes, the earlier entry stays as it was, and the register shows the field as amended
/// with its history. (A `Correction` is a free-text erratum; an `Amendment` changes a value.)
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amendment<T = TextDigest> {
    /// The seq (leaf index) of the amended entry.
    pub target: u64,
    pub amend: AmendedField,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub reason: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

/// A v1 event. The JSON form is tagged by `"type"`; see docs/FORMAT.md §3 for each field.
///
/// The bincode variant index is not the declaration order: it is [`Event::code`], written
/// out so that the catalogue's numbers stay fixed whatever is declared where (`LogKeyRotated`,
/// declared after `IndexCommitted`, is 15).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    LogKeyRotated(LogKeyRotated),
    ComplaintInadmissible(ComplaintInadmissible<T>),
    ComplaintForwarded(ComplaintForwarded<T>),
    ProceedingsSuspended(ProceedingsSuspended<T>),
    ProceedingsResumed(ProceedingsResumed),
    DecisionPublished(DecisionPublished<T>),
    AppealLodged(AppealLodged),
    CourtRuling(CourtRuling<T>),
    CaseReopened(CaseReopened<T>),
    Amendment(Amendment<T>),
}

/// The variant index of `LogKeyRotated` (docs/FORMAT.md §3).
pub const LOG_KEY_ROTATED: u32 = 15;

/// The highest variant index this code decodes.
pub const MAX_EVENT_CODE: u32 = 24;

impl<T: bincode::Encode> bincode::Encode for Event<T> {
    fn encode<E: Encoder>(&self, e: &mut E) -> Result<(), EncodeError> {
        self.code().encode(e)?;
        match self {
            Event::RegisterOpened(v) => v.encode(e),
            Event::OfficerAuthorized(v) => v.encode(e),
            Event::OfficerRevoked(v) => v.encode(e),
            Event::ComplaintReceived(v) => v.encode(e),
            Event::InspectionOpened(v) => v.encode(e),
            Event::HearingHeld(v) => v.encode(e),
            Event::ComplianceDeadlineSet(v) => v.encode(e),
            Event::DeadlineExtended(v) => v.encode(e),
            Event::ComplianceConfirmed(v) => v.encode(e),
            Event::SanctionNotified(v) => v.encode(e),
            Event::AuthoritiesNotified(v) => v.encode(e),
            Event::CaseClosed(v) => v.encode(e),
            Event::Correction(v) => v.encode(e),
            Event::Erasure(v) => v.encode(e),
            Event::IndexCommitted(v) => v.encode(e),
            Event::LogKeyRotated(v) => v.encode(e),
            Event::ComplaintInadmissible(v) => v.encode(e),
            Event::ComplaintForwarded(v) => v.encode(e),
            Event::ProceedingsSuspended(v) => v.encode(e),
            Event::ProceedingsResumed(v) => v.encode(e),
            Event::DecisionPublished(v) => v.encode(e),
            Event::AppealLodged(v) => v.encode(e),
            Event::CourtRuling(v) => v.encode(e),
            Event::CaseReopened(v) => v.encode(e),
            Event::Amendment(v) => v.encode(e),
        }
    }
}

impl<Context, T: bincode::Decode<Context>> bincode::Decode<Context> for Event<T> {
    fn decode<D: Decoder<Context = Context>>(d: &mut D) -> Result<Self, DecodeError> {
        use bincode::Decode as De;
        let code = u32::decode(d)?;
        Ok(match code {
            0 => Event::RegisterOpened(De::decode(d)?),
            1 => Event::OfficerAuthorized(De::decode(d)?),
            2 => Event::OfficerRevoked(De::decode(d)?),
            3 => Event::ComplaintReceived(De::decode(d)?),
            4 => Event::InspectionOpened(De::decode(d)?),
            5 => Event::HearingHeld(De::decode(d)?),
            6 => Event::ComplianceDeadlineSet(De::decode(d)?),
            7 => Event::DeadlineExtended(De::decode(d)?),
            8 => Event::ComplianceConfirmed(De::decode(d)?),
            9 => Event::SanctionNotified(De::decode(d)?),
            10 => Event::AuthoritiesNotified(De::decode(d)?),
            11 => Event::CaseClosed(De::decode(d)?),
            12 => Event::Correction(De::decode(d)?),
            13 => Event::Erasure(De::decode(d)?),
            14 => Event::IndexCommitted(De::decode(d)?),
            LOG_KEY_ROTATED => Event::LogKeyRotated(De::decode(d)?),
            16 => Event::ComplaintInadmissible(De::decode(d)?),
            17 => Event::ComplaintForwarded(De::decode(d)?),
            18 => Event::ProceedingsSuspended(De::decode(d)?),
            19 => Event::ProceedingsResumed(De::decode(d)?),
            20 => Event::DecisionPublished(De::decode(d)?),
            21 => Event::AppealLodged(De::decode(d)?),
            22 => Event::CourtRuling(De::decode(d)?),
            23 => Event::CaseReopened(De::decode(d)?),
            24 => Event::Amendment(De::decode(d)?),
            found => {
                return Err(DecodeError::OtherString(format!(
                    "unknown event variant {found}: the v1 catalogue has variants 0 to {MAX_EVENT_CODE} (docs/FORMAT.md §3)"
                )))
            }
        })
    }
}

impl<'de, Context, T: bincode::Decode<Context>> bincode::BorrowDecode<'de, Context> for Event<T> {
    fn borrow_decode<D: bincode::de::BorrowDecoder<'de, Context = Context>>(
        d: &mut D,
    ) -> Result<Self, DecodeError> {
        bincode::Decode::decode(d)
    }
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
            Event::LogKeyRotated(_) => "LogKeyRotated",
            Event::ComplaintInadmissible(_) => "ComplaintInadmissible",
            Event::ComplaintForwarded(_) => "ComplaintForwarded",
            Event::ProceedingsSuspended(_) => "ProceedingsSuspended",
            Event::ProceedingsResumed(_) => "ProceedingsResumed",
            Event::DecisionPublished(_) => "DecisionPublished",
            Event::AppealLodged(_) => "AppealLodged",
            Event::CourtRuling(_) => "CourtRuling",
            Event::CaseReopened(_) => "CaseReopened",
            Event::Amendment(_) => "Amendment",
        }
    }

    /// The variant index in the catalogue (docs/FORMAT.md §3): what the encoding writes.
    pub fn code(&self) -> u32 {
        match self {
            Event::RegisterOpened(_) => 0,
            Event::OfficerAuthorized(_) => 1,
            Event::OfficerRevoked(_) => 2,
            Event::ComplaintReceived(_) => 3,
            Event::InspectionOpened(_) => 4,
            Event::HearingHeld(_) => 5,
            Event::ComplianceDeadlineSet(_) => 6,
            Event::DeadlineExtended(_) => 7,
            Event::ComplianceConfirmed(_) => 8,
            Event::SanctionNotified(_) => 9,
            Event::AuthoritiesNotified(_) => 10,
            Event::CaseClosed(_) => 11,
            Event::Correction(_) => 12,
            Event::Erasure(_) => 13,
            Event::IndexCommitted(_) => 14,
            Event::LogKeyRotated(_) => LOG_KEY_ROTATED,
            Event::ComplaintInadmissible(_) => 16,
            Event::ComplaintForwarded(_) => 17,
            Event::ProceedingsSuspended(_) => 18,
            Event::ProceedingsResumed(_) => 19,
            Event::DecisionPublished(_) => 20,
            Event::AppealLodged(_) => 21,
            Event::CourtRuling(_) => 22,
            Event::CaseReopened(_) => 23,
            Event::Amendment(_) => 24,
        }
    }

    /// The event's own date and its field's name: the day the thing it records happened
    /// (`received_on`, `held_on`, `closed_on`...). `None` for events that carry no such day:
    /// register-level events, deadlines (a `due_on` is a day to come, not one that happened),
    /// `Correction`, `Erasure` and `Amendment`; an `InspectionOpened` has one either way.
    pub fn own_date(&self) -> Option<(&'static str, Date)> {
        Some(match self {
            Event::ComplaintReceived(e) => ("received_on", e.received_on),
            Event::InspectionOpened(e) => ("opened_on", e.opened_on),
            Event::HearingHeld(e) => ("held_on", e.held_on),
            Event::ComplianceConfirmed(e) => ("confirmed_on", e.confirmed_on),
            Event::SanctionNotified(e) => ("notified_on", e.notified_on),
            Event::AuthoritiesNotified(e) => ("notified_on", e.notified_on),
            Event::CaseClosed(e) => ("closed_on", e.closed_on),
            Event::ComplaintInadmissible(e) => ("decided_on", e.decided_on),
            Event::ComplaintForwarded(e) => ("forwarded_on", e.forwarded_on),
            Event::ProceedingsSuspended(e) => ("suspended_on", e.suspended_on),
            Event::ProceedingsResumed(e) => ("resumed_on", e.resumed_on),
            Event::DecisionPublished(e) => ("published_on", e.published_on),
            Event::AppealLodged(e) => ("lodged_on", e.lodged_on),
            Event::CourtRuling(e) => ("ruled_on", e.ruled_on),
            Event::CaseReopened(e) => ("reopened_on", e.reopened_on),
            _ => return None,
        })
    }

    /// Whether the event belongs to a case (and so must carry a `CaseLink`). Register-level
    /// events (the genesis, officer keys and log keys) and the log's own `IndexCommitted`
    /// carry none.
    pub fn is_case_event(&self) -> bool {
        !matches!(
            self,
            Event::RegisterOpened(_)
                | Event::OfficerAuthorized(_)
                | Event::OfficerRevoked(_)
                | Event::IndexCommitted(_)
                | Event::LogKeyRotated(_)
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
            | Event::IndexCommitted(_)
            | Event::LogKeyRotated(_)
            | Event::ProceedingsResumed(_)
            | Event::AppealLodged(_) => vec![],
            Event::ComplaintReceived(e) => e.summary.iter().collect(),
            Event::InspectionOpened(e) => e.scope.iter().collect(),
            Event::HearingHeld(e) => e.summary.iter().collect(),
            Event::ComplianceDeadlineSet(e) => vec![&e.obligations],
            Event::DeadlineExtended(e) => e.reason.iter().collect(),
            Event::ComplianceConfirmed(e) => e.note.iter().collect(),
            Event::SanctionNotified(e) => e.reasons.iter().collect(),
            Event::CaseClosed(e) => e.summary.iter().collect(),
            Event::Correction(e) => vec![&e.erratum],
            Event::ComplaintInadmissible(e) => e.reason.iter().collect(),
            Event::ComplaintForwarded(e) => e.reason.iter().collect(),
            Event::ProceedingsSuspended(e) => e.reason.iter().collect(),
            Event::DecisionPublished(e) => e.summary.iter().collect(),
            Event::CourtRuling(e) => e.summary.iter().collect(),
            Event::CaseReopened(e) => e.reason.iter().collect(),
            Event::Amendment(e) => e.reason.iter().collect(),
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
            Event::LogKeyRotated(e) => Event::LogKeyRotated(e),
            Event::ProceedingsResumed(e) => Event::ProceedingsResumed(e),
            Event::AppealLodged(e) => Event::AppealLodged(e),
            Event::ComplaintInadmissible(e) => {
                Event::ComplaintInadmissible(ComplaintInadmissible {
                    decided_on: e.decided_on,
                    reason: opt(e.reason)?,
                })
            }
            Event::ComplaintForwarded(e) => Event::ComplaintForwarded(ComplaintForwarded {
                forwarded_on: e.forwarded_on,
                to: e.to,
                reason: opt(e.reason)?,
            }),
            Event::ProceedingsSuspended(e) => Event::ProceedingsSuspended(ProceedingsSuspended {
                suspended_on: e.suspended_on,
                reason: opt(e.reason)?,
            }),
            Event::DecisionPublished(e) => Event::DecisionPublished(DecisionPublished {
                published_on: e.published_on,
                decision_number: e.decision_number,
                summary: opt(e.summary)?,
            }),
            Event::CourtRuling(e) => Event::CourtRuling(CourtRuling {
                ruled_on: e.ruled_on,
                court: e.court,
                ruling: e.ruling,
                summary: opt(e.summary)?,
            }),
            Event::CaseReopened(e) => Event::CaseReopened(CaseReopened {
                reopened_on: e.reopened_on,
                reason: opt(e.reason)?,
            }),
            Event::Amendment(e) => Event::Amendment(Amendment {
                target: e.target,
                amend: e.amend,
                reason: opt(e.reason)?,
            }),
            Event::ComplaintReceived(e) => Event::ComplaintReceived(ComplaintReceived {
                controller: e.controller,
                categories: e.categories,
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
    fn d(s: &str) -> Date {
        s.parse().expect("valid date")
    }

    fn digest(b: u8) -> TextDigest {
        TextDigest(Hash([b; 32]))
    }

    /// One of each variant added by issue 13, with every optional field set.
    fn new_events() -> Vec<Event> {
        let cats = Categories::new(vec![Category::Privacy, Category::Profiling]).expect("ok");
        vec![
            Event::ComplaintInadmissible(ComplaintInadmissible {
                decided_on: d("2023-02-01"),
                reason: Some(digest(1)),
            }),
            Event::ComplaintForwarded(ComplaintForwarded {
                forwarded_on: d("2023-02-02"),
                to: "ANRT".into(),
                reason: Some(digest(2)),
            }),
            Event::ProceedingsSuspended(ProceedingsSuspended {
                suspended_on: d("2023-02-03"),
                reason: None,
            }),
            Event::ProceedingsResumed(ProceedingsResumed {
                resumed_on: d("2023-02-04"),
            }),
            Event::DecisionPublished(DecisionPublished {
                published_on: d("2023-02-05"),
                decision_number: "D-2023-117".into(),
                summary: Some(digest(3)),
            }),
            Event::AppealLodged(AppealLodged {
                lodged_on: d("2023-02-06"),
                court: "Tribunal administratif de Rabat".into(),
                by: Appellant::Controller,
            }),
            Event::CourtRuling(CourtRuling {
                ruled_on: d("2023-02-07"),
                court: "Tribunal administratif de Rabat".into(),
                ruling: Ruling::PartiallyAnnulled,
                summary: Some(digest(4)),
            }),
            Event::CaseReopened(CaseReopened {
                reopened_on: d("2023-02-08"),
                reason: Some(digest(5)),
            }),
            Event::Amendment(Amendment {
                target: 7,
                amend: AmendedField::Date(d("2023-01-03")),
                reason: Some(digest(6)),
            }),
            Event::Amendment(Amendment {
                target: 7,
                amend: AmendedField::DueOn(d("2023-06-03")),
                reason: None,
            }),
            Event::Amendment(Amendment {
                target: 7,
                amend: AmendedField::Controller(Controller {
                    id: "acme".into(),
                    name: "ACME".into(),
                }),
                reason: None,
            }),
            Event::Amendment(Amendment {
                target: 7,
                amend: AmendedField::Categories(cats),
                reason: None,
            }),
        ]
    }

    fn encode(e: &Event) -> Vec<u8> {
        bincode::encode_to_vec(e, bincode::config::standard()).expect("encodes")
    }

    fn decode(b: &[u8]) -> Result<Event, String> {
        bincode::decode_from_slice::<Event, _>(b, bincode::config::standard())
            .map(|(e, _)| e)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn new_variants_round_trip_with_their_catalogue_numbers() {
        let codes = [16, 17, 18, 19, 20, 21, 22, 23, 24, 24, 24, 24];
        for (e, code) in new_events().into_iter().zip(codes) {
            let bytes = encode(&e);
            // Every code below 251 is a one-byte varint.
            assert_eq!(u32::from(bytes[0]), code, "{}", e.name());
            assert_eq!(e.code(), code);
            assert_eq!(decode(&bytes).as_ref(), Ok(&e), "{}", e.name());
            let json = serde_json::to_string(&e).expect("json");
            assert_eq!(
                serde_json::from_str::<Event>(&json).ok().as_ref(),
                Some(&e),
                "{json}"
            );
        }
    }

    #[test]
    fn old_variants_keep_their_numbers() {
        let e = Event::Erasure(Erasure {
            target: 3,
            reason: "art. 8".into(),
        });
        assert_eq!(encode(&e)[0], 13);
        let e = Event::IndexCommitted(IndexCommitted {
            size: 1,
            keys: 1,
            root: Hash::ZERO,
        });
        assert_eq!(encode(&e)[0], 14);
    }

    fn rotation() -> Event {
        Event::LogKeyRotated(LogKeyRotated {
            new_key: PublicKey([7; 32]),
            reason: "annual rotation".into(),
        })
    }

    #[test]
    fn log_key_rotated_is_variant_15_and_round_trips() {
        let e = rotation();
        let bytes = encode(&e);
        // 15, the 32 key bytes, then the reason as a length-prefixed string.
        let mut want = vec![15u8];
        want.extend_from_slice(&[7; 32]);
        want.push(15);
        want.extend_from_slice(b"annual rotation");
        assert_eq!(bytes, want);
        assert_eq!(e.code(), LOG_KEY_ROTATED);
        assert_eq!(e.name(), "LogKeyRotated");
        assert!(!e.is_case_event());
        assert!(e.texts().is_empty());
        assert_eq!(decode(&bytes).as_ref(), Ok(&e));
        let json = serde_json::to_string(&e).expect("json");
        assert_eq!(
            json,
            format!(
                r#"{{"type":"LogKeyRotated","new_key":"{}","reason":"annual rotation"}}"#,
                "07".repeat(32)
            )
        );
        assert_eq!(serde_json::from_str::<Event>(&json).ok(), Some(e));
    }

    #[test]
    fn malformed_log_key_rotations_are_refused() {
        let bytes = encode(&rotation());
        // A key cut short, a reason cut short, a reason that is not UTF-8, an unknown field.
        assert!(decode(&bytes[..20]).is_err());
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        let mut bad = bytes.clone();
        bad[34] = 0xff;
        assert!(decode(&bad).is_err());
        let typo = format!(
            r#"{{"type":"LogKeyRotated","new_key":"{}","reason":"x","old_key":"00"}}"#,
            "07".repeat(32)
        );
        assert!(serde_json::from_str::<Event<String>>(&typo).is_err());
        let short = r#"{"type":"LogKeyRotated","new_key":"0707","reason":"x"}"#;
        assert!(serde_json::from_str::<Event<String>>(short).is_err());
    }

    #[test]
    fn variant_25_is_unknown() {
        let err = decode(&[25]).expect_err("unknown");
        assert!(err.contains("unknown event variant 25"), "{err}");
    }

    #[test]
    fn malformed_new_variants_are_rejected() {
        let good = encode(&new_events()[5]); // AppealLodged: ..., by: Appellant
        let mut bad = good.clone();
        *bad.last_mut().expect("non-empty") = 7; // no Appellant 7
        assert!(decode(&bad).is_err());
        let good = encode(&new_events()[6]); // CourtRuling: ruling after the court
        let court_end = good.len() - 1 - 33; // ruling byte, then Some + 32-byte digest
        let mut bad = good.clone();
        bad[court_end] = 9;
        assert!(decode(&bad).is_err());
        // An invalid date in the amended field.
        let bytes = encode(&new_events()[8]);
        let mut bad = bytes.clone();
        let at = bytes.iter().position(|&b| b == 0xfb).expect("year varint");
        bad[at + 3] = 2; // 2023-02
        bad[at + 4] = 30; // -30
        assert!(decode(&bad).expect_err("bad date").contains("invalid date"));
        // Truncated.
        assert!(decode(&bytes[..bytes.len() - 3]).is_err());
    }

    #[test]
    fn categories_have_one_encoding() {
        // Amendment of categories: ... 24, target 7, AmendedField 3, Vec len, items, None.
        let ok = [24, 7, 3, 2, 0, 5, 0];
        assert!(decode(&ok).is_ok());
        for (bytes, why) in [
            ([24, 7, 3, 2, 5, 0, 0], "listed after"),
            ([24, 7, 3, 2, 5, 5, 0], "listed twice"),
        ] {
            let err = decode(&bytes).expect_err(why);
            assert!(err.contains("categories:") && err.contains(why), "{err}");
        }
        let err = decode(&[24, 7, 3, 0, 0]).expect_err("empty");
        assert!(err.contains("at least one category"), "{err}");
        // JSON sorts, but refuses repeats and an empty set.
        let c: Categories = serde_json::from_str(r#"["image","privacy"]"#).expect("sorted");
        assert_eq!(c.as_slice(), &[Category::Privacy, Category::Image]);
        assert_eq!(c.join(";"), "privacy;image");
        assert!(serde_json::from_str::<Categories>(r#"["image","image"]"#).is_err());
        assert!(serde_json::from_str::<Categories>("[]").is_err());
    }

    #[test]
    fn complaint_json_takes_categories_not_category() {
        let ok = r#"{"type":"ComplaintReceived","controller":{"id":"a","name":"A"},"categories":["image","privacy"],"received_on":"2023-01-06"}"#;
        assert!(serde_json::from_str::<Event<String>>(ok).is_ok());
        let old = r#"{"type":"ComplaintReceived","controller":{"id":"a","name":"A"},"category":"image","received_on":"2023-01-06"}"#;
        assert!(serde_json::from_str::<Event<String>>(old).is_err());
        let amend = r#"{"type":"Amendment","target":3,"amend":{"field":"due_on","value":"2023-09-01"},"reason":"typo"}"#;
        let e: Event<String> = serde_json::from_str(amend).expect("amendment");
        assert_eq!(e.texts(), vec![&"typo".to_string()]);
        let bad = r#"{"type":"Amendment","target":3,"amend":{"field":"place","value":"Rabat"}}"#;
        assert!(serde_json::from_str::<Event<String>>(bad).is_err());
    }

    #[test]
    fn texts_and_seal_cover_the_new_variants() {
        for e in new_events() {
            let n = e.texts().len();
            let sealed: Event<u8> = e.clone().seal(|t| Ok::<_, ()>(t.0 .0[0])).expect("ok");
            assert_eq!(sealed.texts().len(), n, "{}", e.name());
            assert!(e.is_case_event());
        }
    }
}
