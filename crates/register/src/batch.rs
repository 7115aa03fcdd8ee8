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

use sijil_core::blob::Blob;
use sijil_core::entry::{CaseLink, Entry, UnsignedEntry};
use sijil_core::event::TextDigest;
use sijil_core::note::Signer;
use sijil_core::{leaf_hash, Hash};

use crate::input::Draft;
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
    let mut ids: Vec<String> = drafts.iter().filter_map(|d| d.case.clone()).collect();
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
    let total = drafts.len() as u64;
    let recorded_at = now_ms.max(head.last_recorded_at);
    let mut cases = head.cases.clone();
    let mut prev = head.last_leaf;
    let mut entries = Vec::with_capacity(drafts.len());
    let mut blobs = Vec::new();
    for (index, draft) in drafts.into_iter().enumerate() {
        let seq = head.size + index as u64;
        let name = draft.event.name();
        let invalid = |message: String| Error::InvalidEvent {
            index,
            event: name,
            message,
        };
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
    Ok(SignedBatch { entries, blobs })
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
}
