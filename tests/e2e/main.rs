//! End-to-end tests: they run the built `sijil` binary in fresh temporary directories.
//! Test names carry the issue they cover.

mod backup;
mod browser;
mod clerk;
mod clerk_cli;
mod demo;
mod faults;
mod fixture_server;
mod http;
mod import;
mod index;
mod log;
mod messages;
mod mirror;
mod monitor;
mod net;
mod pages;
mod postgres;
mod publish;
mod rotation;
// What a test does when an input outside the repository is missing (shared with sijil-core).
#[path = "../../crates/core/tests/common/skip.rs"]
mod skip;
mod stdout;
mod submit;
mod util;
mod witness;
