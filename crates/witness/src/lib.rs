//! sijil-witness: a witness anyone can run (DESIGN §8), speaking C2SP tlog-witness
//! (<https://c2sp.org/tlog-witness>) exactly, and cosigning with C2SP tlog-cosignature v1
//! (Ed25519, type `0x04`, <https://c2sp.org/tlog-cosignature>).
//!
//! For each log it trusts (a log verifier key, whose name is the origin) it keeps the latest
//! checkpoint it cosigned ([`state::WitnessState`], one file per origin, replaced atomically),
//! and cosigns a new checkpoint only if it is consistent with that one. The check against
//! the stored size and the update are one atomic step, and the update is durable before the
//! answer (the spec's race: two requests must never roll the stored size back).
//!
//! `POST <prefix>/add-checkpoint` answers as the spec says:
//!
//! | status | when |
//! |---|---|
//! | 404 | the checkpoint's origin is not a log it trusts |
//! | 403 | no trusted log key signed it, or a line matching a trusted key (name and ID) does not verify |
//! | 400 | the body is malformed, or `old` is larger than the checkpoint's size |
//! | 409 | `old` is not the size it last cosigned: the body is that size, `<decimal>\n`, `Content-Type: text/x.tlog.size` |
//! | 422 | a size-0 checkpoint whose root is not the empty tree's; a proof with `old 0`; a consistency proof that fails; the same size with another root |
//! | 200 | its cosignature line, `— <name> <base64>\n` |
//!
//! `GET <prefix>/<hex SHA-256 of the origin>/checkpoint` serves the latest cosigned checkpoint
//! (the log's signature and its own; 404 before the first), the spec's monitoring endpoint.
//! A refused checkpoint that proves the log forked (the same size with another root, or a
//! proof that leads to the new root but not to the stored one) is kept as fork evidence
//! (sijil-client's format) under `<state>/evidence/`.
#![forbid(unsafe_code)]

pub mod request;
pub mod server;
pub mod state;

pub use request::{AddCheckpoint, RequestError};
pub use server::{router, Witness};
pub use state::WitnessState;
