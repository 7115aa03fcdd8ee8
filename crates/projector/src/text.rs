//! The rules for the plain text an event carries in clear: ids, names, places, reasons.
//!
//! Free text about a case (summaries, obligations) is never in an entry, only its digest
//! (DESIGN §5); what is here is short and public, shown as is on the register's pages. So it
//! must be non-empty, bounded, and free of control characters and of the invisible
//! bidirectional controls that could make a displayed name read differently from what the
//! officer signed.

use crate::rejection::{Rejection, TextProblem};

/// Case and controller ids: at most this many characters.
pub const MAX_ID_CHARS: usize = 64;
/// Names, titles, places, legal bases: at most this many characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Reasons (an erasure's, a revocation's): at most this many characters.
pub const MAX_REASON_CHARS: usize = 500;
/// The origin: at most this many characters.
pub const MAX_ORIGIN_CHARS: usize = 255;
/// `AuthoritiesNotified`: at most this many authorities.
pub const MAX_AUTHORITIES: usize = 32;

/// Checks an id (a case number such as `2023-0017`, a controller's slug or registration
/// number): 1 to [`MAX_ID_CHARS`] characters from `A–Z a–z 0–9 . _ / -`, starting with a
/// letter or digit (so an id is never `.` or `..` in a URL path). Ids are case-sensitive.
pub(crate) fn check_id(seq: u64, field: &'static str, s: &str) -> Result<(), Rejection> {
    let bad = |problem| Rejection::InvalidText {
        seq,
        field,
        problem,
    };
    let Some(first) = s.chars().next() else {
        return Err(bad(TextProblem::Empty));
    };
    // Every allowed character is ASCII, so the byte length is the character count of a valid
    // id; an invalid one is reported by the character loop before its length matters.
    if let Some(ch) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-')))
    {
        return Err(bad(if is_forbidden(ch) {
            TextProblem::ControlCharacter {
                code: u32::from(ch),
            }
        } else {
            TextProblem::NotAllowedInId { ch }
        }));
    }
    if s.len() > MAX_ID_CHARS {
        return Err(bad(TextProblem::TooLong {
            chars: s.len(),
            max: MAX_ID_CHARS,
        }));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(bad(TextProblem::IdStart { ch: first }));
    }
    Ok(())
}

/// Checks a name or reason: not empty or only spaces, at most `max` characters, no control
/// characters, no space at either end.
pub(crate) fn check_text(
    seq: u64,
    field: &'static str,
    s: &str,
    max: usize,
) -> Result<(), Rejection> {
    let bad = |problem| Rejection::InvalidText {
        seq,
        field,
        problem,
    };
    if s.trim().is_empty() {
        return Err(bad(TextProblem::Empty));
    }
    let chars = s.chars().count();
    if chars > max {
        return Err(bad(TextProblem::TooLong { chars, max }));
    }
    if let Some(ch) = s.chars().find(|&c| is_forbidden(c)) {
        return Err(bad(TextProblem::ControlCharacter {
            code: u32::from(ch),
        }));
    }
    if s.trim() != s {
        return Err(bad(TextProblem::SpaceAtEdge));
    }
    Ok(())
}

/// Checks the register's origin: a text as [`check_text`] that is also a valid signed-note
/// key name, with no whitespace and no `+` (c2sp.org/signed-note).
pub(crate) fn check_origin(seq: u64, s: &str) -> Result<(), Rejection> {
    check_text(seq, "origin", s, MAX_ORIGIN_CHARS)?;
    if let Some(ch) = s.chars().find(|&c| c.is_whitespace() || c == '+') {
        return Err(Rejection::InvalidText {
            seq,
            field: "origin",
            problem: TextProblem::NotAllowedInOrigin { ch },
        });
    }
    Ok(())
}

/// Control characters, line and paragraph separators, the byte-order mark, and the
/// bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). The
/// left-to-right and right-to-left marks (U+200E, U+200F) stay allowed: mixed Arabic and
/// Latin names need them.
fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Result<(), TextProblem> {
        check_id(7, "case id", s).map_err(|e| match e {
            Rejection::InvalidText { problem, .. } => problem,
            other => panic!("unexpected {other:?}"),
        })
    }

    fn text(s: &str) -> Result<(), TextProblem> {
        check_text(7, "place", s, 10).map_err(|e| match e {
            Rejection::InvalidText { problem, .. } => problem,
            other => panic!("unexpected {other:?}"),
        })
    }

    #[test]
    fn ids() {
        assert_eq!(id("2023-0017"), Ok(()));
        assert_eq!(id("D/12.a_b-c"), Ok(()));
        assert_eq!(id(""), Err(TextProblem::Empty));
        assert_eq!(id(".."), Err(TextProblem::IdStart { ch: '.' }));
        assert_eq!(id("-1"), Err(TextProblem::IdStart { ch: '-' }));
        assert_eq!(id("2023 17"), Err(TextProblem::NotAllowedInId { ch: ' ' }));
        assert_eq!(id("é"), Err(TextProblem::NotAllowedInId { ch: 'é' }));
        assert_eq!(id("a\n"), Err(TextProblem::ControlCharacter { code: 10 }));
        assert_eq!(id(&"a".repeat(64)), Ok(()));
        assert_eq!(
            id(&"a".repeat(65)),
            Err(TextProblem::TooLong { chars: 65, max: 64 })
        );
    }

    #[test]
    fn texts() {
        assert_eq!(text("Rabat"), Ok(()));
        assert_eq!(text("الرباط"), Ok(()));
        assert_eq!(text("Rabat\u{200F}"), Ok(()));
        assert_eq!(text("   "), Err(TextProblem::Empty));
        assert_eq!(text(" Rabat"), Err(TextProblem::SpaceAtEdge));
        assert_eq!(
            text("Ra\tbat"),
            Err(TextProblem::ControlCharacter { code: 9 })
        );
        assert_eq!(
            text("Ra\u{202E}bat"),
            Err(TextProblem::ControlCharacter { code: 0x202E })
        );
        assert_eq!(
            text("Casablanca!"),
            Err(TextProblem::TooLong { chars: 11, max: 10 })
        );
        assert_eq!(
            text("éééééééééé"),
            Ok(()),
            "limits count characters, not bytes"
        );
    }

    #[test]
    fn origins() {
        assert!(check_origin(0, "registre.example.ma/plaintes").is_ok());
        assert_eq!(
            check_origin(0, "a b"),
            Err(Rejection::InvalidText {
                seq: 0,
                field: "origin",
                problem: TextProblem::NotAllowedInOrigin { ch: ' ' }
            })
        );
        assert!(check_origin(0, "a+b").is_err());
    }
}
