//! HTML pages for people: French first, English with `?lang=en`; readable on a phone; no
//! asset from anywhere else (one stylesheet and one script, both served from the binary;
//! the Content-Security-Policy says so to the browser).
//!
//! - `/`: what the register is, statistics, the latest events;
//! - `/affaires`: the cases, with filters; `/affaires/{id}`: a case's timeline and its
//!   **Verify** button (checks done in the visitor's browser, `assets/verify.js`);
//! - `/responsables`, `/responsables/{id}`: the data controllers and their cases;
//! - `/verification`: how to verify the register, with or without this site.
//!
//! Every page is built from one snapshot and says which checkpoint it shows.

use std::fmt::Write as _;

use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use crate::params::Query;
use crate::state::Snapshot;
use crate::tlog::SHORT_CACHE;

mod cases;
mod controllers;
mod event;
mod home;
pub mod labels;

pub use cases::{case_page, cases_page};
pub use controllers::{controller_page, controllers_page};
pub use home::{home_page, verification_page};

/// The stylesheet of every page.
pub const STYLE: &str = include_str!("../../assets/sijil.css");
/// The browser verifier (WebCrypto only, no library).
pub const VERIFY_JS: &str = include_str!("../../assets/verify.js");
/// Its pure part: decoding, proofs and the whole-case check (also run by node's tests).
pub const VERIFY_CORE_JS: &str = include_str!("../../assets/sijil-verify-core.js");

/// What the pages' responses declare: nothing is loaded from elsewhere, no inline script.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The language of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    /// `lang=en` asks for English; French otherwise.
    pub fn of(query: &Query) -> Lang {
        match query.get("lang") {
            Some("en") => Lang::En,
            _ => Lang::Fr,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The French or the English text.
    pub fn pick<'a>(self, fr: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }

    /// A link to `path` (which may have a query) in this language.
    pub fn href(self, path: &str) -> String {
        match self {
            Lang::Fr => path.to_string(),
            Lang::En if path.contains('?') => format!("{path}&lang=en"),
            Lang::En => format!("{path}?lang=en"),
        }
    }
}

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
    /// The request, to link to the same page in the other language.
    pub uri: &'a Uri,
}

impl Frame<'_> {
    /// The full page around `body`.
    pub fn page(&self, title: &str, body: &str) -> Response {
        let lang = self.lang;
        let t = |fr, en| lang.pick(fr, en);
        let register_title = self
            .snapshot
            .view
            .register()
            .map_or("sijil", |r| r.title.as_str());
        let cp = &self.snapshot.checkpoint.checkpoint;
        let other = match lang {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        };
        let other_label = match other {
            Lang::Fr => "Français",
            Lang::En => "English",
        };
        let html = format!(
            r#"<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {register}</title>
<link rel="stylesheet" href="/assets/sijil.css">
<script src="/assets/verify.js" defer></script>
</head>
<body>
<header class="site">
<a class="brand" href="{home}">{register}</a>
<nav>
<a href="{cases}">{cases_label}</a>
<a href="{controllers}">{controllers_label}</a>
<a href="{verify}">{verify_label}</a>
<a href="{other_href}" hreflang="{other_code}" lang="{other_code}">{other_label}</a>
</nav>
</header>
<main>
{body}
</main>
<footer>
<p>{shown} <strong>{size}</strong> {entries} · {root_label} <code class="hash">{root}</code></p>
<p><a href="/checkpoint">checkpoint</a> · <a href="/api/v1/openapi.json">API</a> · <a href="{verify}">{verify_label}</a></p>
</footer>
</body>
</html>
"#,
            code = lang.code(),
            title = esc(title),
            register = esc(register_title),
            home = lang.href("/"),
            cases = lang.href("/affaires"),
            cases_label = t("Affaires", "Cases"),
            controllers = lang.href("/responsables"),
            controllers_label = t("Responsables", "Controllers"),
            verify = lang.href("/verification"),
            verify_label = t("Vérifier", "Verify"),
            other_href = esc(&other_language_href(self.uri, other)),
            other_code = other.code(),
            shown = t(
                "Cette page montre le registre au point de contrôle signé de",
                "This page shows the register at the signed checkpoint of"
            ),
            size = cp.size,
            entries = t("entrées", "entries"),
            root_label = t("racine", "root"),
            root = esc(&cp.root.to_base64()),
        );
        page_response(StatusCode::OK, html)
    }
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
    response
}

/// A page for an error (bad query, unknown case): standalone, so that it never depends on
/// the state that may have failed.
pub fn error_page(
    lang: Lang,
    status: StatusCode,
    message: &str,
    parameter: Option<&str>,
) -> Response {
    let heading = match status {
        StatusCode::NOT_FOUND => lang.pick("Introuvable", "Not found"),
        StatusCode::BAD_REQUEST => lang.pick("Demande incorrecte", "Bad request"),
        _ => lang.pick("Erreur du serveur", "Server error"),
    };
    let parameter = parameter
        .map(|p| {
            format!(
                "<p>{} <code>{}</code></p>",
                lang.pick("Paramètre :", "Parameter:"),
                esc(p)
            )
        })
        .unwrap_or_default();
    let html = format!(
        r#"<!doctype html>
<html lang="{code}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{heading}</title><link rel="stylesheet" href="/assets/sijil.css"></head>
<body><main><h1>{heading}</h1><p>{message}</p>{parameter}<p><a href="{home}">{back}</a></p></main></body>
</html>
"#,
        code = lang.code(),
        message = esc(message),
        home = lang.href("/"),
        back = lang.pick("Retour à l'accueil", "Back to the home page"),
    );
    page_response(status, html)
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
        assert_eq!(other_language_href(&uri, Lang::Fr), "/affaires?status=open");
        let uri: Uri = "/affaires?status=open".parse().expect("uri");
        assert_eq!(
            other_language_href(&uri, Lang::En),
            "/affaires?status=open&lang=en"
        );
        assert_eq!(Lang::En.href("/"), "/?lang=en");
    }
}
