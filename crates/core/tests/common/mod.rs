//! Shared helpers for the tests that read the public vectors in `../shared/vectors`.

use std::path::PathBuf;

/// The public test vectors directory (`<workspace>/../shared/vectors`), or `None` with a
/// message on stderr when it is absent (a clone without `shared/` beside it).
#[allow(dead_code)]
pub fn vectors_dir(what: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {what}: public vectors not found at {} (clone with shared/ beside the repo)",
            dir.display()
        );
        None
    }
}
