//! HTML pages for people: in Arabic (right to left), French and English (`?lang=`, else the
//! browser's `Accept-Language`; see `i18n.rs` and `locales/*.ftl`); readable on a phone; no
//! asset from anywhere else (one stylesheet and one script, both served from the binary;
//! the Content-Security-Policy says so to the browser).
//!
//! - `/`: what the register is, key figures and charts, the latest events;
//! - `/statistiques`: the figures as charts (server-drawn SVG, `charts.rs`), each with a table;
//! - `/affaires`: the cases, with filters; `/affaires/{id}`: a case's timeline and its
//!   **Verify** button (checks done in the visitor's browser, `assets/verify.js`);
//! - `/responsables`, `/responsables/{id}`: the data controllers and their cases;
//! - `/verification`: how to check the register, in plain words, then with or without this
//!   site.
//!
//! Every page is built from one snapshot and says which checkpoint it shows.

use std::fmt::Write as _;

use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use crate::state::Snapshot;
use crate::tlog::SHORT_CACHE;

mod cases;
mod charts;
mod controllers;
mod event;
mod home;
mod i18n;
pub mod labels;

pub use i18n::{Arg, Lang};

pub use cases::{case_page, cases_page, deadline_state, DeadlineState};
pub use charts::unescape;
pub use controllers::{controller_page, controllers_page};
pub use event::event_date;
pub use home::{home_page, stats_page, verification_page};

/// The stylesheet of every page.
pub const STYLE: &str = include_str!("../../assets/sijil.css");
/// The browser verifier (WebCrypto and its own WebAssembly SHA-256, no library).
pub const VERIFY_JS: &str = include_str!("../../assets/verify.js");
/// Its pure part: decoding, proofs and the whole-case check (also run by node's tests).
pub const VERIFY_CORE_JS: &str = include_str!("../../assets/sijil-verify-core.js");

/// What the pages' responses declare: nothing is loaded from elsewhere, no inline script.
/// `'wasm-unsafe-eval'` lets the verifier compile its own SHA-256 (assets/sha256.wat, embedded
/// in sijil-verify-core.js): it allows WebAssembly compilation only, never JavaScript's `eval`.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
                   connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; \
                   frame-ancestors 'none'";

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a query value or a path segment (RFC 3986 unreserved characters stay).
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A path to a case or controller id: ids use `A–Z a–z 0–9 . _ / -`, kept as they are,
/// anything else percent-encoded.
pub fn id_path(prefix: &str, id: &str) -> String {
    let encoded: Vec<String> = id.split('/').map(url_encode).collect();
    format!("{prefix}/{}", encoded.join("/"))
}

/// What every page shows around its content.
#[derive(Debug)]
pub struct Frame<'a> {
    pub lang: Lang,
    pub snapshot: &'a Snapshot,
    /// The request, to link to the same page in the other languages.
    pub uri: &'a Uri,
}

impl Frame<'_> {
    /// The full page around `body`.
    pub fn page(&self, title: &str, body: &str) -> Response {
        let lang = self.lang;
        let register_title = self
            .snapshot
            .register()
            .map_or("sijil", |r| r.title.as_str());
        let cp = &self.snapshot.checkpoint.checkpoint;
        let footer = format!(
            r#"<p>{shown} · {root_label} <code class="hash" dir="ltr">{root}</code></p>
<p><a href="/checkpoint">{checkpoint}</a> · <a href="/api/v1/openapi.json">API</a> · <a href="{how}">{how_label}</a></p>"#,
            shown = lang.tn("footer-checkpoint", cp.size),
            root_label = lang.t("footer-root"),
            root = esc(&cp.root.to_base64()),
            checkpoint = lang.t("footer-checkpoint-link"),
            how = lang.href("/verification"),
            how_label = lang.t("nav-verify"),
        );
        let html = chrome(lang, register_title, title, Some(self.uri), body, &footer);
        page_response(StatusCode::OK, html)
    }
}

/// The page around `body`: the site's header (name, menu, language switch), `<main>`, the
/// footer. `uri` is the request, for the switch's links to the same page (`None`: to home).
fn chrome(
    lang: Lang,
    brand: &str,
    title: &str,
    uri: Option<&Uri>,
    body: &str,
    footer: &str,
) -> String {
    let mut switch = String::new();
    for other in Lang::ALL {
        let href = match uri {
            Some(uri) => other_language_href(uri, other),
            None => other.href("/"),
        };
        let current = if other == lang {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(
            switch,
            r#"<a href="{}" hreflang="{code}" lang="{code}" dir="{dir}"{current}>{}</a>"#,
            esc(&href),
            other.name(),
            code = other.code(),
            dir = other.dir(),
        );
    }
    format!(
        r##"<!doctype html>
<html lang="{code}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {brand}</title>
<link rel="stylesheet" href="/assets/sijil.css">
<link rel="alternate" type="application/atom+xml" href="/feeds/events.atom?lang={code}" title="{feed}">
<script src="/assets/verify.js" defer></script>
</head>
<body>
<a class="skip" href="#main">{skip}</a>
<header class="site">
<a class="brand" href="{home}" dir="auto">{brand}</a>
<nav aria-label="{menu}">
<a href="{cases}">{cases_label}</a>
<a href="{controllers}">{controllers_label}</a>
<a href="{stats}">{stats_label}</a>
<a href="{verify}">{verify_label}</a>
</nav>
<nav class="langs" aria-label="{langs}">{switch}</nav>
</header>
<main id="main" tabindex="-1">
{body}
</main>
<footer>
{footer}
</footer>
</body>
</html>
"##,
        code = lang.code(),
        dir = lang.dir(),
        title = esc(title),
        brand = esc(brand),
        skip = lang.t("skip-to-content"),
        feed = lang.t("feed-events-title"),
        home = lang.href("/"),
        menu = lang.t("nav-label"),
        cases = lang.href("/affaires"),
        cases_label = lang.t("nav-cases"),
        controllers = lang.href("/responsables"),
        controllers_label = lang.t("nav-controllers"),
        stats = lang.href("/statistiques"),
        stats_label = lang.t("nav-stats"),
        verify = lang.href("/verification"),
        verify_label = lang.t("nav-verify"),
        langs = lang.t("nav-languages"),
    )
}

/// The same path and query in `lang`.
fn other_language_href(uri: &Uri, lang: Lang) -> String {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("lang=") && *p != "lang")
        .collect();
    let mut href = uri.path().to_string();
    if !kept.is_empty() {
        href.push('?');
        href.push_str(&kept.join("&"));
    }
    lang.href(&href)
}

fn page_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(SHORT_CACHE));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Without `?lang=`, the language is the browser's: caches must keep one per language.
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    response
}

/// A page for an error (bad query, unknown case), in the page's language with the site's
/// header: standalone, so that it never depends on the state that may have failed.
///
/// A 404's message is the page's own, in `lang`; a 400's is the query parser's (English,
/// technical), so it is shown as a detail marked as English under an explanation in `lang`;
/// a 500's detail is in the server's log only.
pub fn error_page(
    lang: Lang,
    status: StatusCode,
    message: &str,
    parameter: Option<&str>,
) -> Response {
    let (heading, explanation) = match status {
        StatusCode::NOT_FOUND => (lang.plain("error-not-found"), esc(message)),
        StatusCode::BAD_REQUEST => (
            lang.plain("error-bad-request"),
            lang.t("error-bad-request-text"),
        ),
        _ => (lang.plain("error-server"), lang.t("error-server-text")),
    };
    let mut body = format!("<h1>{}</h1>\n<p>{explanation}</p>\n", esc(&heading));
    if status == StatusCode::BAD_REQUEST {
        if let Some(p) = parameter {
            let _ = writeln!(
                body,
                r#"<p>{} <code dir="ltr">{}</code></p>"#,
                lang.t("error-parameter"),
                esc(p)
            );
        }
        let _ = writeln!(
            body,
            r#"<p class="meta">{} <span lang="en" dir="ltr">{}</span></p>"#,
            lang.t("error-detail-english"),
            esc(message)
        );
    }
    let _ = write!(
        body,
        r#"<p><a href="{}">{}</a></p>"#,
        lang.href("/"),
        lang.t("error-back-home")
    );
    let html = chrome(lang, "sijil", &heading, None, &body, "");
    page_response(status, html)
}

/// `GET /cases[/{id}]`, `GET /controllers[/{id}]`: the API's spelling of a page's address
/// (people type it, or cut `/api/v1` off an API link): a permanent redirect to the page.
pub async fn redirect_to_page(uri: Uri) -> Response {
    let path = uri.path();
    let page = if let Some(rest) = path.strip_prefix("/cases") {
        format!("/affaires{rest}")
    } else if let Some(rest) = path.strip_prefix("/controllers") {
        format!("/responsables{rest}")
    } else {
        "/".to_string()
    };
    let target = match uri.query() {
        Some(q) => format!("{page}?{q}"),
        None => page,
    };
    axum::response::Redirect::permanent(&target).into_response()
}

/// A date and time from Unix milliseconds, `2024-05-06 14:03 UTC`.
pub fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// `GET /assets/sijil.css`.
pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

/// `GET /assets/verify.js`.
pub async fn verify_js() -> Response {
    asset("text/javascript; charset=utf-8", VERIFY_JS)
}

/// `GET /assets/sijil-verify-core.js`.
pub async fn verify_core_js() -> Response {
    asset("text/javascript; charset=utf-8", VERIFY_CORE_JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(url_encode("a b/é"), "a%20b%2F%C3%A9");
        assert_eq!(id_path("/affaires", "2023-0001"), "/affaires/2023-0001");
        assert_eq!(id_path("/affaires", "a/b c"), "/affaires/a/b%20c");
    }

    #[test]
    fn language_links_keep_the_query() {
        let uri: Uri = "/affaires?status=open&lang=en".parse().expect("uri");
        assert_eq!(
            other_language_href(&uri, Lang::Fr),
            "/affaires?status=open&lang=fr"
        );
        let uri: Uri = "/affaires?status=open".parse().expect("uri");
        assert_eq!(
            other_language_href(&uri, Lang::Ar),
            "/affaires?status=open&lang=ar"
        );
        assert_eq!(Lang::En.href("/"), "/?lang=en");
    }
}
