//! End-to-end tests: they run the built `sijil` binary in fresh temporary directories.
//! Test names carry the issue they cover.

mod demo;
mod log;
mod util;
