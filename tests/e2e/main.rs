//! End-to-end tests: they run the built `sijil` binary in fresh temporary directories.
//! Test names carry the issue they cover.

mod demo;
mod fixture_server;
mod http;
mod log;
mod mirror;
mod util;
mod witness;
