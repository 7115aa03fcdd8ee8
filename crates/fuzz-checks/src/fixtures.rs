//! What the checks check against: the demo register (`data/demo`, compiled in) and a fixed
//! witness key. Built once per process.

use std::sync::OnceLock;

use sijil_core::bundle;
use sijil_core::checkpoint::{Checkpoint, SignedCheckpoint};
use sijil_core::cosignature::Cosigner;
use sijil_core::event::Date;
use sijil_core::note::{Note, Signer, Verifier};
use sijil_core::{leaf_hash, Entry, Hash};
use sijil_projector::View;
use sijil_witness::{Witness, WitnessState};

/// The demo log's verifier key (`data/demo/log.vkey`).
pub const DEMO_LOG_VKEY: &str = include_str!("../../../data/demo/log.vkey");

/// The demo log's private key in service (`data/demo/log.vkey`'s, since the demo's rotation of
/// its log key, `scripts/build-demo`). A demo key, published on purpose: it signs the
/// checkpoints the seeds need (`examples/seeds.rs`).
pub const DEMO_LOG_KEY: &str = include_str!("../../../data/demo/keys/DEMO-ONLY-log-2.key");

/// The demo officer's private key (also published on purpose).
pub const DEMO_OFFICER_KEY: &str =
    include_str!("../../../data/demo/keys/DEMO-ONLY-officer-amina.key");

/// The demo register's signed checkpoint.
pub const DEMO_CHECKPOINT: &[u8] = include_bytes!("../../../data/demo/register/checkpoint");

/// The demo register's entries, as the bundles it serves (`tile/entries/…`, c2sp.org/tlog-tiles):
/// five full tiles of 256 entries and the partial one, 1,458 entries in all (the seeds'
/// batch, entries 0 to 35, the generated cases, then the log key's rotation at 1,456;
/// `scripts/build-demo`). The same inputs
/// always give that many entries; a demo rebuilt from other inputs fails to compile here,
/// naming the bundle that is gone: list `data/demo/register/tile/entries` again.
pub const DEMO_BUNDLES: &[&[u8]] = &[
    include_bytes!("../../../data/demo/register/tile/entries/000"),
    include_bytes!("../../../data/demo/register/tile/entries/001"),
    include_bytes!("../../../data/demo/register/tile/entries/002"),
    include_bytes!("../../../data/demo/register/tile/entries/003"),
    include_bytes!("../../../data/demo/register/tile/entries/004"),
    include_bytes!("../../../data/demo/register/tile/entries/005.p/178"),
];

/// The golden log key of docs/FORMAT.md §6.1.
pub const GOLDEN_LOG_VKEY: &str =
    "registre.example.ma/plaintes+cc01b08c+AYE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU";

/// The witness's name; its seed is 32 × `0x04`.
pub const WITNESS_NAME: &str = "witness.example/w1";

/// The size of the demo log's checkpoint the witness holds before each request.
pub const WITNESS_STORED_SIZE: u64 = 1;

/// The log keys checks open checkpoints with: the demo log's, then the golden one.
pub fn log_verifiers() -> &'static [Verifier] {
    static V: OnceLock<Vec<Verifier>> = OnceLock::new();
    V.get_or_init(|| {
        [DEMO_LOG_VKEY.trim(), GOLDEN_LOG_VKEY]
            .into_iter()
            .map(|k| Verifier::parse(k).expect("fixture verifier keys parse"))
            .collect()
    })
}

/// The demo log's origin (its key's name).
pub fn demo_origin() -> &'static str {
    log_verifiers()[0].name()
}

/// The demo log's signer.
pub fn demo_log_signer() -> Signer {
    Signer::from_private_key(DEMO_LOG_KEY.trim_end()).expect("the demo log key parses")
}

/// The demo officer's signer.
pub fn demo_officer() -> &'static Signer {
    static S: OnceLock<Signer> = OnceLock::new();
    S.get_or_init(|| {
        Signer::from_private_key(DEMO_OFFICER_KEY.trim_end()).expect("the demo officer key parses")
    })
}

/// The witness's cosigner key.
pub fn witness_cosigner() -> &'static Cosigner {
    static C: OnceLock<Cosigner> = OnceLock::new();
    C.get_or_init(|| Cosigner::from_seed(WITNESS_NAME, &[4; 32]).expect("valid witness name"))
}

/// The witness's verifier key.
pub fn witness_verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| witness_cosigner().verifier())
}

/// The demo register's entries, decoded, in order (entry `i` at index `i`).
pub fn demo_entries() -> Vec<(&'static [u8], Entry)> {
    DEMO_BUNDLES
        .iter()
        .flat_map(|b| bundle::parse(b).expect("the demo bundles parse"))
        .map(|b| (b, Entry::decode(b).expect("demo entries decode")))
        .collect()
}

/// How many entries the seeds' batch left (`data/demo/events.jsonl`, the hand-written cases
/// the tests name): init's two entries, the seeds, and that batch's `IndexCommitted`, the
/// first one after init's. The generated cases follow.
pub fn demo_seeds_size() -> usize {
    demo_entries()
        .iter()
        .skip(2)
        .position(|(_, e)| matches!(e.event, sijil_core::event::Event::IndexCommitted(_)))
        .map_or(0, |i| i + 3)
}

/// The leaf hashes of the demo register's entries.
pub fn demo_leaf_hashes() -> &'static [Hash] {
    static L: OnceLock<Vec<Hash>> = OnceLock::new();
    L.get_or_init(|| demo_entries().iter().map(|(b, _)| leaf_hash(b)).collect())
}

/// The demo register's view (the projector's fold of its entries).
pub fn demo_view() -> &'static View {
    static V: OnceLock<View> = OnceLock::new();
    V.get_or_init(|| {
        let mut view = View::new();
        for (bytes, entry) in demo_entries() {
            view.apply(&entry, leaf_hash(bytes))
                .expect("the demo register follows its rules");
        }
        view
    })
}

/// The demo register as it stood after its seeds' batch (entries 0 to 35, [`demo_seeds_size`]):
/// a real state of the register, with every kind of case event, that `events_jsonl` clones
/// for each input it applies. Cloning the whole register's view (1,456 entries) costs about
/// 270 µs, this one 8 µs: the check would spend most of its time copying.
pub fn demo_seeds_view() -> &'static View {
    static V: OnceLock<View> = OnceLock::new();
    V.get_or_init(|| {
        let mut view = View::new();
        for (bytes, entry) in demo_entries().iter().take(demo_seeds_size()) {
            view.apply(entry, leaf_hash(bytes))
                .expect("the demo register follows its rules");
        }
        view
    })
}

/// The text of the demo register's checkpoint.
pub fn demo_checkpoint_text() -> &'static str {
    static T: OnceLock<String> = OnceLock::new();
    T.get_or_init(|| {
        Note::parse(DEMO_CHECKPOINT)
            .expect("the demo checkpoint parses")
            .text
    })
}

/// The demo log's checkpoint of size [`WITNESS_STORED_SIZE`], signed by its key.
pub fn demo_checkpoint_of_size_1() -> &'static [u8] {
    static C: OnceLock<Vec<u8>> = OnceLock::new();
    C.get_or_init(|| {
        let cp = Checkpoint::new(demo_origin(), WITNESS_STORED_SIZE, demo_leaf_hashes()[0]);
        SignedCheckpoint::sign(cp, &demo_log_signer())
            .expect("signs")
            .bytes
    })
}

/// The date "overdue" is judged on in listings.
pub fn today() -> Date {
    Date::from_ymd(2024, 6, 1).expect("a real date")
}

fn clock() -> i64 {
    1_700_000_000_000
}

/// Runs `f` with a witness that trusts the demo and golden log keys, in a fresh state
/// directory (in `/dev/shm` when there is one) whose latest checkpoint of the demo log is
/// [`demo_checkpoint_of_size_1`]. Each call starts from the same state, so an input always
/// gets the same answer.
pub fn with_witness<T>(f: impl FnOnce(&Witness) -> T) -> T {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::Builder::new()
            .prefix("sijil-fuzz-witness")
            .tempdir_in(shm)
    } else {
        tempfile::Builder::new()
            .prefix("sijil-fuzz-witness")
            .tempdir()
    }
    .expect("a temporary directory");
    let state = WitnessState::open(dir.path()).expect("a witness state directory");
    std::fs::write(state.path(demo_origin()), demo_checkpoint_of_size_1())
        .expect("writes the witness's state");
    let witness = Witness::new(
        witness_cosigner().clone(),
        log_verifiers().to_vec(),
        state,
        clock,
    );
    f(&witness)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sijil_core::merkle::{tree_hash, MemoryHashes};

    /// The compiled-in bundles are the whole demo register its checkpoint signs, in order: a
    /// bundle left out, a stale one or a rebuilt register whose bundles were not listed again
    /// fails here (proofs built from `demo_leaf_hashes` would not verify against it).
    #[test]
    fn the_bundles_are_the_register_its_checkpoint_signs() {
        let cp = SignedCheckpoint::open(DEMO_CHECKPOINT, &log_verifiers()[0])
            .expect("the demo checkpoint opens with its key");
        let leaves = demo_leaf_hashes();
        assert_eq!(leaves.len() as u64, cp.checkpoint.size);
        let tree = MemoryHashes::from_leaves(leaves.iter().copied());
        assert_eq!(
            tree_hash(cp.checkpoint.size, &tree).expect("a root"),
            cp.checkpoint.root
        );
        for (i, (_, e)) in demo_entries().iter().enumerate() {
            assert_eq!(e.seq, i as u64, "entry {i} is at its seq");
        }
    }

    /// The seeds' batch is init's 2 entries, the 33 events of `data/demo/events.jsonl` and its
    /// `IndexCommitted`; every case of the seeds is in it, none of the generated ones.
    #[test]
    fn the_seeds_batch_is_the_hand_written_cases() {
        let seeds = include_str!("../../../data/demo/events.jsonl");
        let events = seeds.lines().filter(|l| !l.trim().is_empty()).count();
        assert_eq!(demo_seeds_size(), 2 + events + 1);
        let entries = demo_entries();
        let (first, rest) = entries.split_at(demo_seeds_size());
        let case_of = |e: &Entry| e.case.as_ref().map(|c| c.id.clone());
        let seed_cases: std::collections::BTreeSet<_> =
            first.iter().filter_map(|(_, e)| case_of(e)).collect();
        assert_eq!(seed_cases.len(), 7, "{seed_cases:?}");
        let later: Vec<_> = rest
            .iter()
            .filter_map(|(_, e)| case_of(e))
            .filter(|id| seed_cases.contains(id))
            .collect();
        assert!(
            later.is_empty(),
            "generated entries of seed cases: {later:?}"
        );
    }
}
