//! Issue 12: the pages people read, as Chromium shows them. Home, the case list, a case, the
//! statistics and "how to check", in Arabic, French and English, on a desktop (1280x900) and
//! a phone (390x844): each page says its language and direction, no text overflows its box
//! in Arabic on a phone, and axe-core (WCAG 2.0/2.1 A and AA rules) finds no serious or
//! critical violation. The pictures themselves come from `scripts/screenshots`.
//!
//! axe-core comes from the npm registry: `scripts/test` installs it into `target/axe` (or
//! SIJIL_AXE names its `axe.min.js`). The browser is driven by `pages-check.js` under node.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::net::{chromium, Server};
use crate::util::Register;

/// axe-core's script, or `None` (the test then fails, or skips with SIJIL_ALLOW_SKIP=1).
fn axe(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("SIJIL_AXE")
        .map(PathBuf::from)
        .or_else(|| {
            let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/axe/node_modules/axe-core/axe.min.js");
            p.is_file().then_some(p)
        });
    found.or_else(|| {
        crate::skip::missing(
            test,
            "no axe-core (scripts/test installs it from npm into target/axe; or set SIJIL_AXE)",
        )
    })
}

#[test]
fn issue12_pages_in_three_languages_are_accessible_and_fit_a_phone() {
    let test = "issue12_pages_in_three_languages_are_accessible_and_fit_a_phone";
    let Some(chromium) = chromium(test) else {
        return;
    };
    let Some(axe) = axe(test) else {
        return;
    };
    let reg = Register::new();
    reg.append(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/demo/events.jsonl"));
    let server = Server::start(&reg.dir);
    let pages = [
        "/",
        "/affaires",
        "/affaires/2024-0001",
        "/statistiques",
        "/verification",
    ];
    let mut specs = Vec::new();
    for page in pages {
        for lang in ["ar", "fr", "en"] {
            for (width, height) in [(1280, 900), (390, 844)] {
                specs.push(serde_json::json!({
                    "path": format!("{page}?lang={lang}"),
                    "width": width,
                    "height": height,
                }));
            }
        }
    }
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e/pages-check.js");
    let out = Command::new("node")
        .arg(&script)
        .arg(&chromium)
        .arg(&axe)
        .arg(format!("http://{}", server.addr))
        .arg(Value::Array(specs.clone()).to_string())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "pages-check.js failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON results");
    assert_eq!(results.len(), specs.len(), "one result per page");
    let mut problems = Vec::new();
    for r in &results {
        let path = r["path"].as_str().unwrap_or_default();
        let width = r["width"].as_u64().unwrap_or_default();
        let (lang, dir) = if path.ends_with("lang=ar") {
            ("ar", "rtl")
        } else if path.ends_with("lang=fr") {
            ("fr", "ltr")
        } else {
            ("en", "ltr")
        };
        let at = format!("{path} at {width}px");
        if r["lang"] != lang || r["dir"] != dir {
            problems.push(format!(
                "{at}: <html lang={} dir={}>, not {lang} {dir}",
                r["lang"], r["dir"]
            ));
        }
        if lang == "ar" && width < 600 {
            if r["pageWidth"].as_u64() > r["windowWidth"].as_u64() {
                problems.push(format!(
                    "{at}: the page is {} wide in a {} window",
                    r["pageWidth"], r["windowWidth"]
                ));
            }
            for o in r["overflowing"].as_array().into_iter().flatten() {
                problems.push(format!("{at}: overflows its box: {o}"));
            }
        }
        for v in r["violations"].as_array().into_iter().flatten() {
            let impact = v["impact"].as_str().unwrap_or_default();
            eprintln!("{at}: axe {impact}: {} {}", v["id"], v["nodes"]);
            if impact == "serious" || impact == "critical" {
                problems.push(format!("{at}: axe {impact}: {} ({})", v["id"], v["help"]));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A failed check in the browser (the page changed after it was served): each result line
/// keeps its own colour (the ✓ lines are not painted red with the failure), and the keyboard
/// focus, lost when Vérifier is disabled during the check, goes to the result.
#[test]
fn issue12_a_failed_check_colours_each_line_and_keeps_the_focus() {
    let test = "issue12_a_failed_check_colours_each_line_and_keeps_the_focus";
    let Some(chromium) = chromium(test) else {
        return;
    };
    let Some(axe) = axe(test) else {
        return;
    };
    let reg = Register::new();
    reg.append(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/demo/events.jsonl"));
    let server = Server::start(&reg.dir);
    // The third fact of the first entry (its date), changed in the page as served.
    let specs = serde_json::json!([{
        "path": "/affaires/2024-0001?lang=fr",
        "width": 1280,
        "height": 900,
        "verify": r#"document.querySelectorAll("ol.timeline dd")[2].textContent = "2099-01-01""#,
    }]);
    let out = Command::new("node")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e/pages-check.js"))
        .arg(&chromium)
        .arg(&axe)
        .arg(format!("http://{}", server.addr))
        .arg(specs.to_string())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "pages-check.js failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).expect("JSON results");
    let v = &results[0]["verify"];
    assert_eq!(v["state"], "fail", "{v}");
    assert_eq!(
        v["focused"], "verify-result",
        "the focus goes to the result"
    );
    let lines = v["lines"].as_array().expect("lines");
    let color_of = |class: &str| -> Vec<&str> {
        lines
            .iter()
            .filter(|l| {
                l["class"]
                    .as_str()
                    .is_some_and(|c| c.split(' ').any(|x| x == class))
            })
            .filter_map(|l| l["color"].as_str())
            .collect()
    };
    let (red, green) = ("rgb(180, 35, 24)", "rgb(20, 108, 46)");
    let failures = color_of("failure");
    assert!(!failures.is_empty(), "{v}");
    assert!(failures.iter().all(|c| *c == red), "{v}");
    let ok = color_of("ok-line");
    assert!(ok.len() >= 5, "the ✓ lines: {v}");
    assert!(ok.iter().all(|c| *c == green), "✓ lines stay green: {v}");
    assert!(color_of("bad-line").iter().all(|c| *c == red), "{v}");
    for l in lines {
        let text = l["text"].as_str().unwrap_or_default();
        if text.contains('✓') && !text.contains('✗') {
            assert_ne!(l["color"], red, "a ✓ line painted red: {text}");
        }
    }
}
