//! Issue 9, defect 9: a test whose inputs are missing does not pass silently.

mod common;

use common::skip::on_missing;

fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn issue9_a_missing_input_fails_unless_skipping_is_allowed_and_always_in_ci() {
    let decide = |vars: &[(&str, &str)]| on_missing("the vectors", "not found at X", &env(vars));
    // By default: a failure that says how to get the input, or how to skip.
    let err = decide(&[]).expect_err("fails by default");
    assert!(
        err.contains("the vectors") && err.contains("not found at X"),
        "{err}"
    );
    assert!(err.contains("SIJIL_ALLOW_SKIP=1"), "{err}");
    // Asked for: a skip, said so.
    let skip = decide(&[("SIJIL_ALLOW_SKIP", "1")]).expect("skips when allowed");
    assert!(skip.starts_with("SKIPPED the vectors"), "{skip}");
    for off in ["0", ""] {
        assert!(decide(&[("SIJIL_ALLOW_SKIP", off)]).is_err(), "{off:?}");
    }
    // In CI the inputs always exist: missing is a failure, whatever SIJIL_ALLOW_SKIP says.
    for ci in ["true", "1", "yes"] {
        let err = decide(&[("CI", ci), ("SIJIL_ALLOW_SKIP", "1")]).expect_err("fails in CI");
        assert!(err.contains("CI"), "{err}");
    }
    // `CI=false` (or empty) is not CI.
    for not_ci in ["false", "0", ""] {
        assert!(
            decide(&[("CI", not_ci), ("SIJIL_ALLOW_SKIP", "1")]).is_ok(),
            "{not_ci:?}"
        );
    }
}
