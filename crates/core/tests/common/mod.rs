//! Shared helpers for the tests that read the public vectors in `../shared/vectors`.

use std::path::PathBuf;

#[allow(dead_code)]
pub mod skip;

/// The public test vectors directory (`<workspace>/../shared/vectors`). When it is absent (a
/// clone without `shared/` beside it) the test fails, or with `SIJIL_ALLOW_SKIP=1` (never in
/// CI) returns `None` after printing SKIPPED ([`skip::on_missing`]).
#[allow(dead_code)]
pub fn vectors_dir(what: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        skip::missing(
            what,
            &format!(
                "the public vectors are not found at {} (clone the shared/ folder beside the repository)",
                dir.display()
            ),
        )
    }
}
