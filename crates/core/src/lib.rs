//! sijil-core: the log of a sijil register.
//!
//! Entries (signed events, docs/FORMAT.md), the RFC 9162 Merkle tree and its proofs computed
//! from stored tiles, C2SP signed-note checkpoints and cosignatures, the C2SP tlog-tiles
//! layout on disk, the single writer with its crash recovery, and verification. Verification
//! code does no I/O: it takes hashes, tiles or bytes, so the CLI, the mirror, the server and
//! the tests all call the same functions.
#![forbid(unsafe_code)]

pub mod blob;
pub mod bundle;
pub mod checkpoint;
pub mod commit;
pub mod cosignature;
pub mod durable;
pub mod entry;
pub mod event;
pub mod hash;
pub mod merkle;
pub mod note;
pub mod proof_text;
pub mod storage;
pub mod tile;
pub mod verify;
pub mod writer;

pub use bundle::BundleError;
pub use checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint};
pub use cosignature::{CosignatureError, Cosigner, WitnessPolicy, WitnessReport};
pub use entry::{CaseLink, Entry, EntryError, UnsignedEntry};
pub use event::Event;
pub use hash::{empty_root, leaf_hash, node_hash, sha256, Hash};
pub use merkle::{HashReader, MemoryHashes, MerkleError};
pub use note::{KeyError, KeyType, Note, NoteError, NoteSignature, Signer, Verifier};
pub use proof_text::{ProofTextError, TlogProof, VerifiedProof};
pub use tile::{Tile, TileHashReader, TileLevel, TilePathError, TileReader};
