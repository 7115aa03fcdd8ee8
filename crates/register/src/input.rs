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
    /// The case number, or `"auto"` / `"auto:KEY"` for a number the register allocates when
    /// it signs (see [`auto_case`]).
    pub case: Option<String>,
    pub event: Event<String>,
    /// The line of the events file it came from, counted from 1 (0 when it came from
    /// elsewhere): what an error about it names.
    pub line: usize,
    /// For a `Correction`, `Erasure` or `Amendment` written as
    /// `"target":{"case":…,"seq":…}`: the case event it targets, resolved to the entry's
    /// seq when the batch is signed (the event's own `target` is 0 until then).
    pub target: Option<CaseTarget>,
}

impl Draft {
    /// A draft of `event` for `case`, not from a file.
    pub fn new(case: Option<String>, event: Event<String>) -> Draft {
        Draft {
            case,
            event,
            line: 0,
            target: None,
        }
    }
}

/// A case's event named by the case and its place in the case: `seq` is the case's own
/// event number, counted from 0 for the event that opened it (the `CaseLink.seq` of that
/// event, and the `#` column of `sijil show --case`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseTarget {
    /// A case number, or the `"auto:KEY"` of a case opened earlier in the same file.
    pub case: String,
    pub seq: u32,
}

/// The word that asks the register for the next case number.
pub const AUTO_CASE: &str = "auto";

/// Whether `case` asks for an allocated number: `Some(None)` for `"auto"` (a case no later
/// line names), `Some(Some(KEY))` for `"auto:KEY"`, where KEY is a label local to the file
/// that later lines use to name the same case; `None` for a case number. Neither can be a
/// case number: `:` is not allowed in one, and `"auto"` is reserved.
pub fn auto_case(case: &str) -> Option<Option<&str>> {
    if case == AUTO_CASE {
        return Some(None);
    }
    case.strip_prefix("auto:").map(Some)
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
        let target = if matches!(kind.as_str(), "Correction" | "Erasure" | "Amendment") {
            take_case_target(&mut obj).map_err(|m| err(n, format!("{kind}: {m}")))?
        } else {
            None
        };
        let event: Event<String> = serde_json::from_value(Value::Object(obj))
            .map_err(|e| err(n, format!("{kind}: {e}")))?;
        drafts.push(Draft {
            case,
            event,
            line: n,
            target,
        });
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

/// Takes a `"target":{"case":…,"seq":…}` out of `obj`, leaving a placeholder `0` that
/// signing replaces with the entry's seq; a numeric `target` stays as it is.
fn take_case_target(obj: &mut Map<String, Value>) -> Result<Option<CaseTarget>, String> {
    let Some(Value::Object(t)) = obj.get("target") else {
        return Ok(None);
    };
    const SHAPE: &str =
        "\"target\" is an entry number or {\"case\":\"2024-0003\",\"seq\":2} (the case's event number, from 0)";
    if let Some(k) = t.keys().find(|k| *k != "case" && *k != "seq") {
        return Err(format!("unknown field `{k}` in \"target\": {SHAPE}"));
    }
    let case = match t.get("case") {
        Some(Value::String(c)) if auto_case(c) != Some(None) => c.clone(),
        Some(Value::String(_)) => {
            return Err(format!(
                "a target cannot name a plain \"auto\" case: label it \"auto:KEY\" where it opens and name it so here; {SHAPE}"
            ))
        }
        _ => return Err(format!("\"target\" needs \"case\" as a string: {SHAPE}")),
    };
    let seq = t
        .get("seq")
        .and_then(Value::as_u64)
        .and_then(|s| u32::try_from(s).ok())
        .ok_or_else(|| format!("\"target\" needs \"seq\" as a whole number: {SHAPE}"))?;
    obj.insert("target".into(), Value::from(0u64));
    Ok(Some(CaseTarget { case, seq }))
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
