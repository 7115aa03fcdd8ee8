//! Property tests of the entry codec: decode never panics on any bytes, and whatever it
//! accepts is canonical (re-encodes to exactly the input). Mutations of a valid entry
//! (flipped, inserted, deleted bytes) explore the decoder near real inputs.

use proptest::prelude::*;
use sijil_core::entry::{Entry, UnsignedEntry};
use sijil_core::event::{Category, ComplaintReceived, Controller, Date, Event, TextDigest};
use sijil_core::{sha256, CaseLink, Hash};

fn valid() -> Vec<u8> {
    let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let unsigned = UnsignedEntry {
        seq: 300,
        prev: Hash([1; 32]),
        recorded_at: 1_700_000_000_000,
        case: Some(CaseLink {
            id: "2024-0001".into(),
            seq: 2,
            prev: Hash([2; 32]),
        }),
        event: Event::ComplaintReceived(ComplaintReceived {
            controller: Controller {
                id: "acme".into(),
                name: "ACME".into(),
            },
            categories: sijil_core::event::Categories::one(Category::Privacy),
            received_on: Date::from_ymd(2024, 1, 2).expect("valid date"),
            summary: Some(TextDigest(sha256(b"x"))),
        }),
    };
    Entry::sign(unsigned, &key, "o").expect("signs").1
}

fn accepted_is_canonical(bytes: &[u8]) {
    if let Ok(entry) = Entry::decode(bytes) {
        assert_eq!(entry.encode().expect("re-encodes"), bytes);
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        accepted_is_canonical(&bytes);
    }

    #[test]
    fn mutated_entries_are_rejected_or_canonical(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..3), 1..6)
    ) {
        let mut bytes = valid();
        for (at, value, kind) in edits {
            let at = at % (bytes.len() + 1);
            match kind {
                0 if at < bytes.len() => bytes[at] ^= value.max(1),
                1 => bytes.insert(at, value),
                _ if at < bytes.len() => { bytes.remove(at); }
                _ => {}
            }
        }
        accepted_is_canonical(&bytes);
    }
}
