//! What a test does when something it needs outside the repository is missing (the public
//! vectors in `../shared`, a headless browser). Shared by sijil-core's vector tests and the
//! end-to-end tests (`tests/e2e`, through `#[path]`).

/// The decision for a missing `what` (`reason` says where it was looked for and how to get
/// it), given the environment `env`: `Ok(message)` to skip the test after printing the
/// message, `Err(message)` to fail it.
///
/// - In CI (`CI` set, and not empty, `0` or `false`) the inputs always exist: fail.
/// - With `SIJIL_ALLOW_SKIP=1`: skip. The test then counts as passed, so this is an explicit
///   choice, never a default (README.md, "Run the tests").
/// - Otherwise: fail, saying how to get the input or how to skip.
pub fn on_missing(
    what: &str,
    reason: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let ci = env("CI").is_some_and(|v| !matches!(v.trim(), "" | "0" | "false"));
    if ci {
        return Err(format!(
            "{what}: {reason}; in CI (CI is set) nothing may be skipped"
        ));
    }
    if env("SIJIL_ALLOW_SKIP").is_some_and(|v| v.trim() == "1") {
        return Ok(format!("SKIPPED {what}: {reason} (SIJIL_ALLOW_SKIP=1)"));
    }
    Err(format!(
        "{what}: {reason}; to skip the tests that need it, set SIJIL_ALLOW_SKIP=1 (they then pass without running)"
    ))
}

/// The process environment, for [`on_missing`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Skips (returning `None` after saying so on stderr) or fails (panics) for a missing `what`,
/// as [`on_missing`] decides for this process.
pub fn missing<T>(what: &str, reason: &str) -> Option<T> {
    match on_missing(what, reason, &process_env) {
        Ok(message) => {
            eprintln!("\n*** {message} ***\n");
            None
        }
        Err(message) => panic!("{message}"),
    }
}
