//! The events file a clerk writes: one JSON event per line (docs/FORMAT.md §5).
//!
//! ```json
//! {"case":"2023-0017","type":"HearingHeld","held_on":"2023-01-06","place":"Rabat","summary":"…"}
//! ```
//!
//! `case` names the case of a case event and is absent on register-level events; every other
//! field is the event's JSON form with its free text in plain words. The text goes to a
//! blob; the entry holds its salted digest.

use serde_json::{Map, Value};
use sijil_core::Event;

/// An event as a clerk writes it, before it is sealed and signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub case: Option<String>,
    pub event: Event<String>,
}

/// A line of an events file that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name}:{line}: {message}")]
pub struct InputError {
    pub source_name: String,
    pub line: usize,
    pub message: String,
}

/// The most events one append may carry. A larger file is split into several appends.
pub const MAX_BATCH: usize = 100_000;

/// Parses an events file (JSON Lines). Blank lines are skipped.
///
/// # Errors
/// [`InputError`] naming the first bad line: invalid JSON, not an object, `case` not a
/// string, unknown event `type`, an unknown or missing field, a malformed date; or an empty
/// file, or more than [`MAX_BATCH`] events.
pub fn parse_events(source_name: &str, text: &str) -> Result<Vec<Draft>, InputError> {
    let err = |line: usize, message: String| InputError {
        source_name: source_name.to_string(),
        line,
        message,
    };
    let mut drafts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        if drafts.len() == MAX_BATCH {
            return Err(err(
                n,
                format!("more than {MAX_BATCH} events in one append; split the file"),
            ));
        }
        let value: Value =
            serde_json::from_str(line).map_err(|e| err(n, format!("invalid JSON: {e}")))?;
        let Value::Object(mut obj) = value else {
            return Err(err(
                n,
                "expected a JSON object with a \"type\" field".into(),
            ));
        };
        let case = take_case(&mut obj).map_err(|m| err(n, m))?;
        let kind = match obj.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(_) => return Err(err(n, "\"type\" must be a string".into())),
            None => {
                return Err(err(
                    n,
                    "missing \"type\" (e.g. \"ComplaintReceived\")".into(),
                ))
            }
        };
        // The single category of the first format is refused, as an unknown field, with a
        // pointer to what replaced it (issue 13).
        let opens = obj.get("opens").and_then(Value::as_object);
        if obj.contains_key("category") || opens.is_some_and(|o| o.contains_key("category")) {
            return Err(err(
                n,
                format!("{kind}: unknown field `category`: a case now has \"categories\", a list such as [\"privacy\",\"image\"] (docs/FORMAT.md §3)"),
            ));
        }
        let event: Event<String> = serde_json::from_value(Value::Object(obj))
            .map_err(|e| err(n, format!("{kind}: {e}")))?;
        drafts.push(Draft { case, event });
    }
    if drafts.is_empty() {
        return Err(err(0, "no events (the file is empty)".into()));
    }
    Ok(drafts)
}

fn take_case(obj: &mut Map<String, Value>) -> Result<Option<String>, String> {
    match obj.remove("case") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err("\"case\" must be a string such as \"2023-0017\"".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_names_bad_lines() {
        let ok = "{\"case\":\"2023-1\",\"type\":\"HearingHeld\",\"held_on\":\"2023-01-06\",\"place\":\"Rabat\"}\n\n";
        let d = parse_events("f", ok).expect("valid");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].case.as_deref(), Some("2023-1"));
        let cases = [
            ("{\n", "f:1: invalid JSON"),
            ("[1]\n", "f:1: expected a JSON object"),
            ("{\"type\":\"Nope\"}\n", "f:1: Nope: unknown variant"),
            (
                &format!(
                    "{}{}",
                    ok, "{\"type\":\"HearingHeld\",\"held_on\":\"2023-02-30\",\"place\":\"x\"}"
                ),
                "f:3: HearingHeld: invalid date",
            ),
            (
                "{\"case\":5,\"type\":\"HearingHeld\"}",
                "f:1: \"case\" must be a string",
            ),
            ("{\"case\":\"a\"}", "f:1: missing \"type\""),
            (
                "{\"type\":\"ComplaintReceived\",\"controller\":{\"id\":\"a\",\"name\":\"A\"},\"category\":\"image\",\"received_on\":\"2023-01-06\"}",
                "f:1: ComplaintReceived: unknown field `category`: a case now has \"categories\"",
            ),
            ("", "f:0: no events"),
        ];
        for (input, want) in cases {
            let got = parse_events("f", input)
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert!(
                got.as_ref().is_err_and(|m| m.starts_with(want)),
                "{input:?}: got {got:?}, want {want:?}"
            );
        }
    }
}
