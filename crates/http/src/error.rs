//! The one error type of the server and its one [`IntoResponse`].
//!
//! Three kinds are kept apart (STYLE.md, "Errors"): bad input (a malformed query or path:
//! 400, naming the parameter and why), something that does not exist (404), and our own
//! failure (500: a generic line for the client, the detail in a `tracing` event). Errors are
//! JSON, except on the HTML pages, which get the same message as a page. No error response
//! may be cached (`Cache-Control: no-store`): a 404 for a tile beyond the checkpoint becomes
//! a 200 once the log grows.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::pages::{self, Lang};

/// An error answer.
#[derive(Debug)]
pub struct Error {
    status: StatusCode,
    message: String,
    parameter: Option<String>,
    /// Render as an HTML page in this language instead of JSON.
    html: Option<Lang>,
    /// Not an answer: the signal of [`crate::AppState::read`] to retry with I/O allowed.
    needs_io: bool,
    /// Members added to the JSON body (a 404's proof of absence).
    extra: Option<serde_json::Map<String, serde_json::Value>>,
    /// A 503's `Retry-After`, in seconds.
    retry_after_s: Option<u32>,
}

impl Error {
    /// 400: query parameter (or path segment) `parameter` is wrong, and `why`.
    pub fn bad_parameter(parameter: impl Into<String>, why: impl Into<String>) -> Error {
        Error {
            status: StatusCode::BAD_REQUEST,
            message: why.into(),
            parameter: Some(parameter.into()),
            html: None,
            needs_io: false,
            extra: None,
            retry_after_s: None,
        }
    }

    /// 400: the request itself is malformed (not one of its parameters), and `why`.
    pub fn bad_request(why: impl Into<String>) -> Error {
        Error {
            status: StatusCode::BAD_REQUEST,
            message: why.into(),
            parameter: None,
            html: None,
            needs_io: false,
            extra: None,
            retry_after_s: None,
        }
    }

    /// 404: `what` does not exist (or not at the served checkpoint).
    pub fn not_found(what: impl Into<String>) -> Error {
        Error {
            status: StatusCode::NOT_FOUND,
            message: what.into(),
            parameter: None,
            html: None,
            needs_io: false,
            extra: None,
            retry_after_s: None,
        }
    }

    /// 500: our own failure. `detail` goes to the log, never to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Error {
        tracing::error!(error = %detail, "internal error");
        Error {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal error; the server's log says more".into(),
            parameter: None,
            html: None,
            needs_io: false,
            extra: None,
            retry_after_s: None,
        }
    }

    /// 503 with `Retry-After: retry_after_s`: the server is already doing this costly work
    /// for someone else (an open-data export), and will not queue more of it.
    pub fn busy(why: impl Into<String>, retry_after_s: u32) -> Error {
        Error {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: why.into(),
            parameter: None,
            html: None,
            needs_io: false,
            extra: None,
            retry_after_s: Some(retry_after_s),
        }
    }

    /// The answer is not in memory: [`crate::AppState::read`] retries off the async runtime.
    /// Should it ever reach a client, it is a 500.
    pub(crate) fn needs_io() -> Error {
        Error {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal error".into(),
            parameter: None,
            html: None,
            needs_io: true,
            extra: None,
            retry_after_s: None,
        }
    }

    pub(crate) fn is_needs_io(&self) -> bool {
        self.needs_io
    }

    /// The same error with more members in its JSON body (a proof that the thing is absent).
    pub fn with(mut self, extra: serde_json::Map<String, serde_json::Value>) -> Error {
        self.extra = Some(extra);
        self
    }

    /// The same error, rendered as an HTML page (for the pages people read).
    pub fn html(mut self, lang: Lang) -> Error {
        self.html = Some(lang);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let mut response = match self.html {
            Some(lang) => (
                self.status,
                pages::error_page(lang, self.status, &self.message, self.parameter.as_deref()),
            )
                .into_response(),
            None => {
                let mut body = match &self.parameter {
                    Some(p) => json!({ "error": self.message, "parameter": p }),
                    None => json!({ "error": self.message }),
                };
                if let (Some(extra), Some(obj)) = (self.extra, body.as_object_mut()) {
                    obj.extend(extra);
                }
                (self.status, axum::Json(body)).into_response()
            }
        };
        let retry_after = self.retry_after_s;
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
