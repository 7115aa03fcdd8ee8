//! The body of `add-checkpoint` (c2sp.org/tlog-witness §add-checkpoint):
//!
//! ```text
//! old <size>\n             decimal, no leading zeros (`0` for zero)
//! <base64 hash>\n          0 to 63 consistency proof lines
//! \n
//! <signed checkpoint note>
//! ```

use sijil_core::Hash;

/// The most proof lines a client may send.
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

/// A malformed body (400 Bad Request).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("the body does not start with an \"old <size>\" line")]
    NoOldLine,
    #[error("old size {0:?} is not a decimal without leading zeros")]
    BadOldSize(String),
    #[error("proof line {line} is not a base64 SHA-256 hash")]
    BadProofLine { line: usize },
    #[error("more than {MAX_PROOF_LINES} consistency proof lines")]
    TooManyProofLines,
    #[error("no empty line before the checkpoint")]
    NoEmptyLine,
}

impl AddCheckpoint {
    /// Parses a request body.
    ///
    /// # Errors
    /// [`RequestError`] for anything that is not exactly the format above.
    pub fn parse(body: &[u8]) -> Result<AddCheckpoint, RequestError> {
        let mut rest = body;
        let mut line = || -> Option<&[u8]> {
            let end = rest.iter().position(|&b| b == b'\n')?;
            let l = &rest[..end];
            rest = &rest[end + 1..];
            Some(l)
        };
        let old = line().ok_or(RequestError::NoOldLine)?;
        let old = old.strip_prefix(b"old ").ok_or(RequestError::NoOldLine)?;
        let old_text = String::from_utf8_lossy(old).into_owned();
        let old_size = canonical_decimal(&old_text).ok_or(RequestError::BadOldSize(old_text))?;
        let mut proof = Vec::new();
        loop {
            let l = line().ok_or(RequestError::NoEmptyLine)?;
            if l.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(RequestError::TooManyProofLines);
            }
            let h = std::str::from_utf8(l)
                .ok()
                .and_then(Hash::from_base64)
                .ok_or(RequestError::BadProofLine {
                    line: proof.len() + 2,
                })?;
            proof.push(h);
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            checkpoint: rest.to_vec(),
        })
    }

    /// The body of this request.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = format!("old {}\n", self.old_size).into_bytes();
        for h in &self.proof {
            b.extend_from_slice(h.to_base64().as_bytes());
            b.push(b'\n');
        }
        b.push(b'\n');
        b.extend_from_slice(&self.checkpoint);
        b
    }
}

/// Digits only, no sign, no leading zeros (but `0`), below 2^64.
fn canonical_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_spec_example_shape_and_refuses_the_rest() {
        let h = Hash([7; 32]).to_base64();
        let body = format!("old 20852014\n{h}\n{h}\n\nexample.com/x\n5\nroot\n\n— k sig\n");
        let r = AddCheckpoint::parse(body.as_bytes()).expect("valid");
        assert_eq!(r.old_size, 20852014);
        assert_eq!(r.proof.len(), 2);
        assert!(r.checkpoint.starts_with(b"example.com/x\n"));
        assert_eq!(AddCheckpoint::parse(&r.to_bytes()), Ok(r));
        assert_eq!(
            AddCheckpoint::parse(b"old 0\n\ncp").map(|r| r.old_size),
            Ok(0)
        );
        for (bad, err) in [
            (&b"new 1\n\ncp"[..], RequestError::NoOldLine),
            (b"old 01\n\ncp", RequestError::BadOldSize("01".into())),
            (b"old -1\n\ncp", RequestError::BadOldSize("-1".into())),
            (
                b"old 1\nnot-base64\n\ncp",
                RequestError::BadProofLine { line: 2 },
            ),
            (b"old 1\n", RequestError::NoEmptyLine),
            (b"", RequestError::NoOldLine),
        ] {
            assert_eq!(
                AddCheckpoint::parse(bad),
                Err(err),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let many = format!("old 1\n{}\ncp", format!("{h}\n").repeat(64));
        assert_eq!(
            AddCheckpoint::parse(many.as_bytes()),
            Err(RequestError::TooManyProofLines)
        );
    }
}
