//! Golden vectors: the exact bytes docs/FORMAT.md specifies. A change here is a breaking
//! change of the register format: every existing log would stop verifying.

use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::entry::{Entry, EntryError, UnsignedEntry};
use sijil_core::event::{
    Categories, Category, ComplaintReceived, Controller, Date, Event, TextDigest,
};
use sijil_core::note::Signer;
use sijil_core::{leaf_hash, sha256, CaseLink, Hash};

/// docs/FORMAT.md §6.1: officer key seed 32 × 0x01, log key seed 32 × 0x02.
fn officer() -> Signer {
    Signer::from_seed("officer-demo", &[1; 32]).expect("valid name")
}

fn log_key() -> Signer {
    Signer::from_seed("registre.example.ma/plaintes", &[2; 32]).expect("valid name")
}

const ORIGIN: &str = "registre.example.ma/plaintes";

fn golden_entry() -> UnsignedEntry {
    UnsignedEntry {
        seq: 1,
        prev: Hash([0xaa; 32]),
        recorded_at: 1_672_992_000_000, // 2023-01-06T08:00:00Z
        case: Some(CaseLink {
            id: "2023-0017".into(),
            seq: 0,
            prev: Hash::ZERO,
        }),
        event: Event::ComplaintReceived(ComplaintReceived {
            controller: Controller {
                id: "acme".into(),
                name: "ACME SARL".into(),
            },
            categories: Categories::new(vec![Category::Privacy, Category::VideoSurveillance])
                .expect("canonical"),
            received_on: Date::from_ymd(2023, 1, 2).expect("valid"),
            summary: Some(TextDigest(sha256(b"golden salt and text"))),
        }),
    }
}

const ENTRY_HEX: &str = "0101aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaafd0010300c0b0300008a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c0109323032332d30303137000000000000000000000000000000000000000000000000000000000000000000030461636d650941434d45205341524c020006fbe707010201bed0a9466b829f81b211777b927e3d9f340db58b17c602317bd79cbcc2664fcd6d5c3e26be12744a41e6b75bb6fb7bee28c408f218bb7eb6a6c57a7b6ad2bbdf455f656f6c7fe06caa809012c90c694f7980c569b9bebf8eb3790998478f1f0f";
const LEAF_HEX: &str = "968dbc91e7accfa8a0c1005b24e454a9d1c04ce6dad5c127dcad7b75710f398c";
const CHECKPOINT: &str = "registre.example.ma/plaintes\n1\nlo28keesz6igwQBbJORUqdHATOba1cEn3K17dXEPOYw=\n\n\u{2014} registre.example.ma/plaintes zAGwjFmCYWoJaMqhSUKEGSNtBGCFg4mI3J9XtKfzSI6ITdJFYU/KszplvKX3zWZcpALKokYY04jHupIzNKLGTxhlSgY=\n";
const LOG_VKEY: &str =
    "registre.example.ma/plaintes+cc01b08c+AYE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU";

#[test]
fn entry_bytes_leaf_hash_and_signature_are_pinned() {
    let (entry, bytes) =
        Entry::sign(golden_entry(), officer().signing_key(), ORIGIN).expect("signs");
    assert_eq!(hex::encode(&bytes), ENTRY_HEX, "entry bytes");
    assert_eq!(leaf_hash(&bytes).to_hex(), LEAF_HEX, "leaf hash");
    assert_eq!(Entry::decode(&bytes), Ok(entry.clone()));
    entry.verify_signature(&bytes, ORIGIN).expect("verifies");
}

#[test]
fn non_canonical_forms_are_rejected() {
    let bytes = hex::decode(ENTRY_HEX).expect("hex");
    // seq 1 as a 3-byte varint (fb 01 00): decodes to the same entry, but is not canonical.
    let mut long_seq = vec![bytes[0], 0xfb, 0x01, 0x00];
    long_seq.extend_from_slice(&bytes[2..]);
    assert_eq!(Entry::decode(&long_seq), Err(EntryError::NonCanonical));
    let mut trailing = bytes.clone();
    trailing.push(0x00);
    assert!(matches!(
        Entry::decode(&trailing),
        Err(EntryError::TrailingBytes { trailing: 1, .. })
    ));
    let mut format2 = bytes.clone();
    format2[0] = 2;
    assert_eq!(
        Entry::decode(&format2),
        Err(EntryError::UnsupportedFormat { format: 2 })
    );
}

#[test]
fn checkpoint_note_is_pinned() {
    let root = leaf_hash(&hex::decode(ENTRY_HEX).expect("hex"));
    let signed =
        SignedCheckpoint::sign(Checkpoint::new(ORIGIN, 1, root), &log_key()).expect("signs");
    let text = String::from_utf8(signed.bytes.clone()).expect("utf-8");
    assert_eq!(text, CHECKPOINT);
    assert_eq!(log_key().verifier().to_string(), LOG_VKEY);
    SignedCheckpoint::open(CHECKPOINT.as_bytes(), &log_key().verifier()).expect("opens");
}

/// docs/FORMAT.md §6.4: an `IndexCommitted` (variant 14) signed by the log key.
fn golden_index_entry() -> UnsignedEntry {
    UnsignedEntry {
        seq: 2,
        prev: Hash([0xbb; 32]),
        recorded_at: 1_672_992_000_000,
        case: None,
        event: Event::IndexCommitted(sijil_core::event::IndexCommitted {
            size: 2,
            keys: 5,
            root: Hash([0xcc; 32]),
        }),
    }
}

const INDEX_ENTRY_HEX: &str = "0102bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbfd0010300c0b0300008139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394000e0205cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccca2952774d6578d246229c261c0934681b8231a2c99222a59930da635f44dd2fa5ca1ae78e2204df339594e52e30b4b2369a1dd88012e5df651a063512f0a4c03";
const INDEX_LEAF_HEX: &str = "2c3005153309809dd9755df3a2382cbe37963e22b5a72527fa5f13a7d8828a7c";

#[test]
fn index_commitment_bytes_are_pinned() {
    let (entry, bytes) =
        Entry::sign(golden_index_entry(), log_key().signing_key(), ORIGIN).expect("signs");
    assert_eq!(hex::encode(&bytes), INDEX_ENTRY_HEX);
    assert_eq!(leaf_hash(&bytes).to_hex(), INDEX_LEAF_HEX);
    assert_eq!(Entry::decode(&bytes), Ok(entry.clone()));
    entry.verify_signature(&bytes, ORIGIN).expect("verifies");
    // The variant index follows `case: None` (0x00): 14.
    assert_eq!(bytes[1 + 1 + 32 + 9 + 32 + 1], 14);
}

/// docs/FORMAT.md §6.6: a `LogKeyRotated` (variant 15) signed by the log key (seed 32 × 0x02)
/// naming the key of seed 32 × 0x03.
fn next_log_key() -> Signer {
    Signer::from_seed("registre.example.ma/plaintes", &[3; 32]).expect("valid name")
}

fn golden_rotation_entry() -> UnsignedEntry {
    UnsignedEntry {
        seq: 3,
        prev: Hash([0xdd; 32]),
        recorded_at: 1_672_992_000_000,
        case: None,
        event: Event::LogKeyRotated(sijil_core::event::LogKeyRotated {
            new_key: sijil_core::event::PublicKey(next_log_key().public_key()),
            reason: "scheduled rotation".into(),
        }),
    }
}

const ROTATION_ENTRY_HEX: &str = "0103ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddfd0010300c0b0300008139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394000fed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1127363686564756c656420726f746174696f6e05b67e688dacf818211a8ddaa3c0cc1b59a90ef7c7d29ea47190676dfcf8e5d54de22b7a6cf539115109ab0f4decf778a6f26256540419f9f713c3bb3c1e2009";
const ROTATION_LEAF_HEX: &str = "add855e266034a15bdb5e9c9eb5782e85230fb0e7ce5f2383c38430e7f5a4003";
const NEXT_LOG_VKEY: &str =
    "registre.example.ma/plaintes+22f66ffc+Ae1JKMYo0cLG6ukDOJBZlWEpWSc6XGP5NjbBRhSshzfR";

#[test]
fn log_key_rotation_bytes_are_pinned() {
    let (entry, bytes) =
        Entry::sign(golden_rotation_entry(), log_key().signing_key(), ORIGIN).expect("signs");
    assert_eq!(hex::encode(&bytes), ROTATION_ENTRY_HEX);
    assert_eq!(leaf_hash(&bytes).to_hex(), ROTATION_LEAF_HEX);
    assert_eq!(next_log_key().verifier().to_string(), NEXT_LOG_VKEY);
    assert_eq!(Entry::decode(&bytes), Ok(entry.clone()));
    entry.verify_signature(&bytes, ORIGIN).expect("verifies");
    // The variant index follows `case: None` (0x00): 15, then the new key's 32 bytes.
    let at = 1 + 1 + 32 + 9 + 32 + 1;
    assert_eq!(bytes[at], 15);
    assert_eq!(bytes[at + 1..at + 33], next_log_key().public_key());
    assert_eq!(bytes[at + 33], 18, "the reason's length");
}
