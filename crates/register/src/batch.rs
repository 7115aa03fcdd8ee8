//! Building and signing a batch of entries for a given head of the log, wherever the officer's
//! key is: under the writer's lock (`sijil append`) or on the officer's own machine
//! (`sijil submit`, which learns the head from the sequencer).
//!
//! Signing needs only what an entry links to: the log's size, the leaf hash of its last entry
//! and its last `recorded_at` (docs/FORMAT.md §2.1), and, for each case the batch touches, the
//! case's event count and the leaf hash of its latest event (the `CaseLink`). That is a
//! [`Head`]. The register's rules are not checked here: the writer checks every entry, signed
//! here or elsewhere, before it commits ([`crate::RegisterWriter::submit`]).

use std::collections::BTreeMap;

use chrono::Datelike as _;
use sijil_core::blob::Blob;
use sijil_core::entry::{CaseLink, Entry, UnsignedEntry};
use sijil_core::event::TextDigest;
use sijil_core::note::Signer;
use sijil_core::{leaf_hash, Event, Hash};

use crate::input::{auto_case, Draft};
use crate::Error;

/// Where a case stands: its event count and the leaf hash of its latest event (zeros and 0
/// for a case that does not exist yet, which only an opening event may name).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaseHead {
    /// The case's events so far: the `CaseLink.seq` of its next event.
    pub events: u32,
    /// The leaf hash of the case's latest event: the `CaseLink.prev` of its next event.
    pub head: Hash,
}

/// The head of the log a batch is signed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The log's origin: part of every signed message (docs/FORMAT.md §2.2).
    pub origin: String,
    /// The log's size: the seq of the batch's first entry.
    pub size: u64,
    /// The leaf hash of entry `size − 1`: the first entry's `prev`.
    pub last_leaf: Hash,
    /// The last entry's `recorded_at`; the batch's may not be earlier.
    pub last_recorded_at: i64,
    /// The heads of the cases the batch touches (a case absent here is taken as new).
    pub cases: BTreeMap<String, CaseHead>,
    /// What `"case":"auto"` and `"target":{"case":…,"seq":…}` are resolved against; `None`
    /// where the head does not carry it (a sequencer's answer to `sijil submit`), and then
    /// a batch that needs it is refused.
    pub numbering: Option<Numbering>,
}

/// The log's case numbers and case events a batch's drafts need (see [`Needs`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Numbering {
    /// For each year the batch allocates a case number in, the highest `NNNN` of the log's
    /// cases `YYYY-NNNN` of that year (absent: none yet).
    pub highest: BTreeMap<i32, u32>,
    /// For each `(case, case seq)` the batch targets, the seq of that entry in the log
    /// (absent: no such event).
    pub events: BTreeMap<(String, u32), u64>,
}

/// What a batch needs from the log besides the case heads: the years of its `"auto"` cases
/// and the case events it targets by case and case seq.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub years: Vec<i32>,
    pub targets: Vec<(String, u32)>,
}

impl Needs {
    /// Whether the batch allocates no case number and targets no event by its case.
    pub fn is_empty(&self) -> bool {
        self.years.is_empty() && self.targets.is_empty()
    }

    /// The query parameters a sequencer's head is asked with (docs/API.md):
    /// `years=2023,2024` and `targets=2024-0003:2,…` (`:` is never in a case id).
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if !self.years.is_empty() {
            let years: Vec<String> = self.years.iter().map(i32::to_string).collect();
            params.push(("years", years.join(",")));
        }
        if !self.targets.is_empty() {
            let targets: Vec<String> = self
                .targets
                .iter()
                .map(|(case, seq)| format!("{case}:{seq}"))
                .collect();
            params.push(("targets", targets.join(",")));
        }
        params
    }

    /// Reads the `years` and `targets` parameters of [`Needs::to_params`].
    ///
    /// # Errors
    /// A sentence naming the item that is not a year or not `CASE:SEQ`.
    pub fn from_params(years: Option<&str>, targets: Option<&str>) -> Result<Needs, String> {
        let items = |s: Option<&str>| -> Vec<String> {
            s.unwrap_or("")
                .split(',')
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let mut needs = Needs::default();
        for y in items(years) {
            let year = y
                .parse()
                .ok()
                .filter(|y| (1900..=9999).contains(y))
                .ok_or_else(|| format!("years: {y:?} is not a year"))?;
            needs.years.push(year);
        }
        for t in items(targets) {
            let (case, seq) = t
                .rsplit_once(':')
                .and_then(|(c, s)| Some((c.to_owned(), s.parse().ok()?)))
                .ok_or_else(|| format!("targets: {t:?} is not CASE:SEQ"))?;
            needs.targets.push((case, seq));
        }
        Ok(needs)
    }
}

/// What `drafts` need resolved (see [`Needs`]), each once.
pub fn needs_of(drafts: &[Draft]) -> Needs {
    let mut n = Needs::default();
    for d in drafts {
        if d.case.as_deref().and_then(auto_case).is_some() {
            if let Some(year) = auto_year(&d.event) {
                n.years.push(year);
            }
        }
        if let Some(t) = &d.target {
            if auto_case(&t.case).is_none() {
                n.targets.push((t.case.clone(), t.seq));
            }
        }
    }
    n.years.sort_unstable();
    n.years.dedup();
    n.targets.sort();
    n.targets.dedup();
    n
}

/// The year a case opened by `event` is numbered in: the year of the event's own date (the
/// day the complaint was received or the inspection opened), not the day it was recorded, so
/// that a complaint of December entered in January keeps its year. `None` for an event that
/// opens no case.
fn auto_year(event: &Event<String>) -> Option<i32> {
    match event {
        Event::ComplaintReceived(_) | Event::InspectionOpened(_) => {
            event.own_date().map(|(_, d)| d.naive().year())
        }
        _ => None,
    }
}

/// The year and number of a case id of the form `YYYY-NNNN` (any number of digits after
/// the dash); `None` for any other id.
pub fn case_number(id: &str) -> Option<(i32, u32)> {
    let (year, number) = id.split_once('-')?;
    if year.len() != 4
        || number.is_empty()
        || !year
            .bytes()
            .chain(number.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((year.parse().ok()?, number.parse().ok()?))
}

/// The id of the `number`th case of `year`: `YYYY-NNNN`, zero-padded to 4 digits and
/// growing past 9999.
pub fn case_id(year: i32, number: u32) -> String {
    format!("{year:04}-{number:04}")
}

/// A case number the register allocated for a draft's `"case":"auto"`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Allocation {
    /// The line of the events file that opened the case (0 if not from a file).
    pub line: usize,
    /// The `KEY` of `"auto:KEY"`; `None` for a plain `"auto"`.
    pub label: Option<String>,
    /// The case number allocated.
    pub case: String,
    /// The seq of the entry that opened the case.
    pub seq: u64,
}

/// A batch of signed entries and the texts their digests name (each `salt ‖ text`).
#[derive(Clone, Debug)]
pub struct SignedBatch {
    /// The entries with their canonical bytes, in log order.
    pub entries: Vec<(Entry, Vec<u8>)>,
    /// The redactable texts of the entries (docs/FORMAT.md §4), in the order they were sealed.
    pub blobs: Vec<Blob>,
}

/// The case ids that `drafts` name, each once: what to ask the head for.
pub fn cases_of(drafts: &[Draft]) -> Vec<String> {
    // An "auto" case is new: it has no head to ask for.
    let mut ids: Vec<String> = drafts
        .iter()
        .filter_map(|d| d.case.clone())
        .filter(|c| auto_case(c).is_none())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Seals and signs `drafts` with `officer` as the entries that extend `head`.
///
/// Every event gets the next seq, `prev`, its case's link (from `head.cases`, then from the
/// batch's own earlier events) and `recorded_at = max(now_ms, head.last_recorded_at)`: the
/// log's time never goes back. Each text gets a blob with a fresh random salt.
///
/// # Errors
/// [`Error::InvalidEvent`] naming the event: a case event without `case` or a register-level
/// event with one, a text over 64 KiB, an entry that cannot be encoded (over 65,535 bytes, a
/// date outside 1900–9999).
pub fn sign_batch(
    head: &Head,
    drafts: Vec<Draft>,
    officer: &Signer,
    now_ms: i64,
) -> Result<SignedBatch, Error> {
    sign_batch_with_progress(head, drafts, officer, now_ms, &mut |_, _| {})
}

/// [`sign_batch`], calling `progress(signed, total)` after each entry (a big batch's
/// signatures take seconds).
///
/// # Errors
/// As [`sign_batch`].
pub fn sign_batch_with_progress(
    head: &Head,
    drafts: Vec<Draft>,
    officer: &Signer,
    now_ms: i64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<SignedBatch, Error> {
    sign_batch_allocating(head, drafts, officer, now_ms, progress).map(|(batch, _)| batch)
}

/// [`sign_batch_with_progress`], also returning the case numbers allocated for `"auto"`.
///
/// A draft whose case is `"auto"` or `"auto:KEY"` (first use of KEY) must open a case
/// (`ComplaintReceived`, `InspectionOpened`): it gets `YYYY-NNNN`, YYYY the year of its own
/// date and NNNN one more than the highest number of that year in the log or earlier in the
/// batch; later drafts naming `"auto:KEY"` (as their case or in a target) get the same
/// number. A draft's case target (`{"case":…,"seq":…}`) becomes the seq of that case event,
/// in the log or earlier in the batch.
///
/// # Errors
/// As [`sign_batch`], and [`Error::InvalidEvent`] naming the draft's line for an `"auto"`
/// that does not open a case, an `"auto:KEY"` named before its case is opened, a target
/// case event that does not exist, or a head without [`Head::numbering`] when one is needed.
pub fn sign_batch_allocating(
    head: &Head,
    drafts: Vec<Draft>,
    officer: &Signer,
    now_ms: i64,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(SignedBatch, Vec<Allocation>), Error> {
    let total = drafts.len() as u64;
    let recorded_at = now_ms.max(head.last_recorded_at);
    let mut cases = head.cases.clone();
    let mut prev = head.last_leaf;
    let mut entries = Vec::with_capacity(drafts.len());
    let mut blobs = Vec::new();
    let mut highest = head
        .numbering
        .as_ref()
        .map(|n| n.highest.clone())
        .unwrap_or_default();
    // A number the batch gives explicitly is taken too: an "auto" of its year goes past it.
    for d in &drafts {
        if let Some((year, number)) = d.case.as_deref().and_then(case_number) {
            let h = highest.entry(year).or_insert(0);
            *h = (*h).max(number);
        }
    }
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut allocated = Vec::new();
    // The seqs of the case events signed so far in this batch, for targets that name them.
    let mut signed_events: BTreeMap<(String, u32), u64> = BTreeMap::new();
    for (index, mut draft) in drafts.into_iter().enumerate() {
        let seq = head.size + index as u64;
        let name = draft.event.name();
        let invalid = |message: String| Error::InvalidEvent {
            index,
            event: name,
            message,
        };
        let no_numbering = || {
            invalid(
                "this head of the log does not say which case numbers and case events exist (a sequencer's head, `sijil submit`): give the case number and the target's entry number, or run `sijil append` on the register"
                    .into(),
            )
        };
        if let Some(id) = draft.case.clone() {
            if let Some(label) = auto_case(&id) {
                draft.case = Some(match label.and_then(|l| labels.get(l)) {
                    Some(known) => known.clone(),
                    None => {
                        let year = auto_year(&draft.event).ok_or_else(|| {
                            invalid(format!(
                                "\"case\":{id:?} allocates a new case number, so it must open the case (ComplaintReceived or InspectionOpened); a later event names it by the same \"auto:KEY\""
                            ))
                        })?;
                        if head.numbering.is_none() {
                            return Err(no_numbering());
                        }
                        let h = highest.entry(year).or_insert(0);
                        *h = h
                            .checked_add(1)
                            .ok_or_else(|| invalid(format!("no case number left in {year}")))?;
                        let new = case_id(year, *h);
                        if let Some(l) = label {
                            labels.insert(l.to_string(), new.clone());
                        }
                        allocated.push(Allocation {
                            line: draft.line,
                            label: label.map(str::to_string),
                            case: new.clone(),
                            seq,
                        });
                        new
                    }
                });
            }
        }
        if let Some(t) = draft.target.take() {
            let case = match auto_case(&t.case) {
                Some(label) => label.and_then(|l| labels.get(l)).cloned().ok_or_else(|| {
                    invalid(format!(
                        "the target names {:?}, but no earlier line opens a case with it",
                        t.case
                    ))
                })?,
                None => t.case.clone(),
            };
            let key = (case, t.seq);
            let found = match signed_events.get(&key) {
                Some(&s) => Some(s),
                None => match &head.numbering {
                    Some(n) => n.events.get(&key).copied(),
                    None => return Err(no_numbering()),
                },
            };
            let target = found.ok_or_else(|| {
                let count = cases.get(&key.0).map_or(0, |c| c.events);
                invalid(format!(
                    "the target case {} has no event #{} (it has {count}{}; case events are numbered from 0, as `sijil show --case` prints them)",
                    key.0,
                    key.1,
                    match count {
                        0 => String::new(),
                        1 => ": #0".to_string(),
                        n => format!(": #0 to #{}", n - 1),
                    }
                ))
            })?;
            match &mut draft.event {
                Event::Correction(e) => e.target = target,
                Event::Erasure(e) => e.target = target,
                Event::Amendment(e) => e.target = target,
                _ => {
                    return Err(invalid(
                        "only a Correction, an Erasure or an Amendment has a target".into(),
                    ))
                }
            }
        }
        let case = match (draft.event.is_case_event(), draft.case) {
            (true, Some(id)) => {
                let at = cases.get(&id).copied().unwrap_or_default();
                Some(CaseLink {
                    id,
                    seq: at.events,
                    prev: at.head,
                })
            }
            (true, None) => {
                return Err(invalid(
                    "a case event needs \"case\" (the case number)".into(),
                ))
            }
            (false, Some(id)) => {
                return Err(invalid(format!(
                    "a register-level event takes no \"case\" (got {id:?})"
                )))
            }
            (false, None) => None,
        };
        let event = draft.event.seal(|text| {
            let blob = Blob::new(text).map_err(|e| invalid(e.to_string()))?;
            let digest = blob.digest();
            blobs.push(blob);
            Ok::<TextDigest, Error>(digest)
        })?;
        let unsigned = UnsignedEntry {
            seq,
            prev,
            recorded_at,
            case,
            event,
        };
        let (entry, bytes) = Entry::sign(unsigned, officer.signing_key(), &head.origin)
            .map_err(|e| invalid(e.to_string()))?;
        let leaf = leaf_hash(&bytes);
        if let Some(link) = &entry.case {
            signed_events.insert((link.id.clone(), link.seq), seq);
            // The case's next event links to this one. A count that overflows is left for
            // the rules to refuse (CaseSeqMismatch), as the writer's own view does.
            cases.insert(
                link.id.clone(),
                CaseHead {
                    events: link.seq.saturating_add(1),
                    head: leaf,
                },
            );
        }
        entries.push((entry, bytes));
        prev = leaf;
        progress(entries.len() as u64, total);
    }
    Ok((SignedBatch { entries, blobs }, allocated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_events;

    #[test]
    fn links_follow_the_head_then_the_batch() {
        let officer = Signer::from_seed("amina", &[1; 32]).expect("key");
        let known = Hash([7; 32]);
        let head = Head {
            origin: "registre.example.ma/test".into(),
            size: 10,
            last_leaf: Hash([9; 32]),
            last_recorded_at: 5_000,
            cases: BTreeMap::from([(
                "2024-0001".to_string(),
                CaseHead {
                    events: 3,
                    head: known,
                },
            )]),
            numbering: None,
        };
        let drafts = parse_events(
            "f",
            concat!(
                r#"{"case":"2024-0001","type":"HearingHeld","held_on":"2024-02-01","place":"Rabat","summary":"s"}"#,
                "\n",
                r#"{"case":"2024-0002","type":"ComplaintReceived","controller":{"id":"acme","name":"ACME"},"categories":["privacy"],"received_on":"2024-01-02"}"#,
                "\n",
                r#"{"case":"2024-0001","type":"HearingHeld","held_on":"2024-02-02","place":"Rabat"}"#,
            ),
        )
        .expect("events");
        let batch = sign_batch(&head, drafts, &officer, 1_000).expect("signed");
        let e: Vec<&Entry> = batch.entries.iter().map(|(e, _)| e).collect();
        assert_eq!(
            e.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [10, 11, 12],
            "seqs continue the head"
        );
        assert_eq!(e[0].prev, Hash([9; 32]));
        assert_eq!(e[1].prev, leaf_hash(&batch.entries[0].1));
        assert!(
            e.iter().all(|e| e.recorded_at == 5_000),
            "time never goes back"
        );
        let link = |i: usize| e[i].case.clone().expect("a case link");
        assert_eq!((link(0).seq, link(0).prev), (3, known));
        assert_eq!((link(1).seq, link(1).prev), (0, Hash::ZERO));
        assert_eq!(
            (link(2).seq, link(2).prev),
            (4, leaf_hash(&batch.entries[0].1))
        );
        assert_eq!(batch.blobs.len(), 1);
        for (entry, bytes) in &batch.entries {
            entry
                .verify_signature(bytes, &head.origin)
                .expect("signed for the origin");
        }
        let bad = parse_events(
            "f",
            r#"{"type":"HearingHeld","held_on":"2024-02-01","place":"x"}"#,
        )
        .expect("parses");
        let err = sign_batch(&head, bad, &officer, 1_000).expect_err("no case");
        assert!(err.to_string().contains("needs \"case\""), "{err}");
    }

    #[test]
    fn auto_cases_get_the_next_numbers_and_targets_resolve() {
        let officer = Signer::from_seed("amina", &[1; 32]).expect("key");
        let head = Head {
            origin: "registre.example.ma/test".into(),
            size: 10,
            last_leaf: Hash([9; 32]),
            last_recorded_at: 0,
            cases: BTreeMap::from([(
                "2024-0003".to_string(),
                CaseHead {
                    events: 3,
                    head: Hash([7; 32]),
                },
            )]),
            numbering: Some(Numbering {
                highest: BTreeMap::from([(2024, 9999)]),
                events: BTreeMap::from([(("2024-0003".to_string(), 2), 8)]),
            }),
        };
        let complaint = |case: &str, on: &str| {
            format!(
                r#"{{"case":"{case}","type":"ComplaintReceived","controller":{{"id":"acme","name":"ACME"}},"categories":["privacy"],"received_on":"{on}"}}"#
            )
        };
        let text = [
            complaint("auto:a", "2024-03-01"),
            complaint("auto", "2023-12-30"),
            complaint("auto", "2024-03-02"),
            r#"{"case":"auto:a","type":"HearingHeld","held_on":"2024-04-01","place":"Rabat"}"#.into(),
            r#"{"case":"auto:a","type":"Amendment","target":{"case":"auto:a","seq":1},"amend":{"field":"date","value":"2024-04-02"}}"#.into(),
            r#"{"case":"2024-0003","type":"Correction","target":{"case":"2024-0003","seq":2},"erratum":"e"}"#.into(),
        ]
        .join("\n");
        let drafts = parse_events("f", &text).expect("parses");
        assert_eq!(
            needs_of(&drafts),
            Needs {
                years: vec![2023, 2024],
                targets: vec![("2024-0003".into(), 2)]
            }
        );
        assert_eq!(cases_of(&drafts), ["2024-0003"], "an auto case has no head");
        let (batch, allocated) =
            sign_batch_allocating(&head, drafts, &officer, 1_000, &mut |_, _| {}).expect("signed");
        let ids: Vec<(usize, &str, u64)> = allocated
            .iter()
            .map(|a| (a.line, a.case.as_str(), a.seq))
            .collect();
        assert_eq!(
            ids,
            [
                (1, "2024-10000", 10),
                (2, "2023-0001", 11),
                (3, "2024-10001", 12)
            ],
            "past 9999, and in the year of the event's own date"
        );
        let e: Vec<&Entry> = batch.entries.iter().map(|(e, _)| e).collect();
        let link = |i: usize| e[i].case.clone().expect("case");
        assert_eq!((link(3).id.as_str(), link(3).seq), ("2024-10000", 1));
        match (&e[4].event, &e[5].event) {
            (Event::Amendment(a), Event::Correction(c)) => {
                assert_eq!(a.target, 13, "the hearing signed earlier in the batch");
                assert_eq!(c.target, 8, "from the head's numbering");
            }
            other => panic!("{other:?}"),
        }

        let refused = |text: &str, numbering: Option<Numbering>| {
            let head = Head {
                numbering,
                ..head.clone()
            };
            let drafts = parse_events("f", text).expect("parses");
            sign_batch(&head, drafts, &officer, 1_000)
                .expect_err("refused")
                .to_string()
        };
        let err = refused(
            r#"{"case":"auto","type":"HearingHeld","held_on":"2024-04-01","place":"Rabat"}"#,
            Some(Numbering::default()),
        );
        assert!(err.contains("must open the case"), "{err}");
        let err = refused(
            r#"{"case":"2024-0003","type":"Erasure","target":{"case":"2024-0003","seq":7},"reason":"r"}"#,
            Some(Numbering::default()),
        );
        assert!(err.contains("has no event #7 (it has 3: #0 to #2"), "{err}");
        let err = refused(
            r#"{"case":"2024-0003","type":"Erasure","target":{"case":"auto:b","seq":0},"reason":"r"}"#,
            Some(Numbering::default()),
        );
        assert!(err.contains("no earlier line opens a case"), "{err}");
        let err = refused(&complaint("auto", "2024-01-01"), None);
        assert!(err.contains("does not say which case numbers"), "{err}");
    }

    #[test]
    fn case_numbers() {
        assert_eq!(case_number("2024-0003"), Some((2024, 3)));
        assert_eq!(case_number("2024-12345"), Some((2024, 12345)));
        for bad in ["2024-", "24-0001", "2024-00a1", "x2024-0001", "2024_0001"] {
            assert_eq!(case_number(bad), None, "{bad}");
        }
        assert_eq!(case_id(2024, 7), "2024-0007");
        assert_eq!(case_id(2024, 10_000), "2024-10000");
    }

    #[test]
    fn needs_travel_as_query_parameters() {
        let needs = Needs {
            years: vec![2023, 2024],
            targets: vec![("2024-0003".into(), 2), ("a:b".into(), 0)],
        };
        let params = needs.to_params();
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("years"), Some("2023,2024"));
        assert_eq!(get("targets"), Some("2024-0003:2,a:b:0"));
        assert_eq!(Needs::from_params(get("years"), get("targets")), Ok(needs));
        assert_eq!(Needs::from_params(None, None), Ok(Needs::default()));
        assert!(Needs::from_params(Some("20x4"), None)
            .is_err_and(|e| e.contains("\"20x4\" is not a year")));
        assert!(Needs::from_params(None, Some("2024-0003"))
            .is_err_and(|e| e.contains("is not CASE:SEQ")));
    }
}
