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

/// The demo log's private key. A demo key, published on purpose: it signs the checkpoints the
/// seeds need (`examples/seeds.rs`).
pub const DEMO_LOG_KEY: &str = include_str!("../../../data/demo/keys/DEMO-ONLY-log.key");

/// The demo officer's private key (also published on purpose).
pub const DEMO_OFFICER_KEY: &str =
    include_str!("../../../data/demo/keys/DEMO-ONLY-officer-amina.key");

/// The demo register's signed checkpoint.
pub const DEMO_CHECKPOINT: &[u8] = include_bytes!("../../../data/demo/register/checkpoint");

/// The demo register's entries, as the bundle it serves.
pub const DEMO_BUNDLE: &[u8] = include_bytes!("../../../data/demo/register/tile/entries/000.p/36");

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

/// The demo register's entries, decoded.
pub fn demo_entries() -> Vec<(&'static [u8], Entry)> {
    bundle::parse(DEMO_BUNDLE)
        .expect("the demo bundle parses")
        .into_iter()
        .map(|b| (b, Entry::decode(b).expect("demo entries decode")))
        .collect()
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
