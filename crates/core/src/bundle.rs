//! Entry bundles, c2sp.org/tlog-tiles "Log entries": the entries of a level-0 tile, each as
//! a 2-byte big-endian length followed by its bytes, concatenated, nothing else.
//!
//! ```text
//! entries "one", "two", "three"  →  00 03 6f 6e 65  00 03 74 77 6f  00 05 74 68 72 65 65
//! ```
//!
//! So an entry is at most 65,535 bytes, and a bundle holds at most 256 entries (a full
//! bundle, `tile/entries/<N>`) and at least one (empty bundles are never served). Entry
//! `i` of bundle `N` is leaf `256·N + i`; its leaf hash `SHA-256(0x00 ‖ entry)` is hash `i`
//! of level-0 tile `N`.

/// The largest entry a bundle can hold, in bytes: the 2-byte length prefix's maximum.
pub const MAX_ENTRY_SIZE: usize = 65_535;

/// The most entries in a bundle (a full one).
pub const MAX_ENTRIES: usize = 256;

/// A bundle that cannot be encoded, or bytes that are not a well-formed bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// An entry is longer than the 2-byte length prefix can say.
    #[error("entry {entry}: {len} bytes, more than the 65,535 a bundle entry can hold")]
    EntryTooLarge {
        /// The entry's position in the bundle (0-based).
        entry: usize,
        /// Its length in bytes.
        len: usize,
    },
    /// More entries than a bundle holds (256), or than expected.
    #[error("bundle has more than {max} entries (entry {entry} starts at byte {offset})")]
    TooManyEntries {
        /// The limit: 256, or the width expected.
        max: usize,
        /// The first entry beyond it (0-based).
        entry: usize,
        /// Where that entry starts.
        offset: usize,
    },
    /// The data ends inside an entry's 2-byte length prefix.
    #[error("entry {entry} at byte {offset}: truncated length prefix ({available} of 2 bytes)")]
    TruncatedPrefix {
        /// The entry (0-based).
        entry: usize,
        /// Where its prefix starts.
        offset: usize,
        /// The bytes left (always 1: fewer than the 2 a prefix needs, and not 0).
        available: usize,
    },
    /// The data ends inside an entry's bytes.
    #[error("entry {entry} at byte {offset}: length {len}, but only {available} bytes follow")]
    TruncatedEntry {
        /// The entry (0-based).
        entry: usize,
        /// Where its length prefix starts.
        offset: usize,
        /// The length the prefix gives.
        len: usize,
        /// The bytes that follow the prefix.
        available: usize,
    },
    /// The bundle has fewer entries than its width.
    #[error("bundle has {got} entries, expected {expected}")]
    WrongCount {
        /// The width of the bundle's tile.
        expected: usize,
        /// The entries found.
        got: usize,
    },
}

/// Encodes entries as a bundle: for each, its length as 2 bytes big-endian, then its bytes.
///
/// # Errors
/// [`BundleError::EntryTooLarge`] for an entry over 65,535 bytes;
/// [`BundleError::TooManyEntries`] for more than 256 entries.
pub fn encode<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, BundleError> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.as_ref().len() + 2).sum());
    for (i, entry) in entries.iter().enumerate() {
        if i == MAX_ENTRIES {
            return Err(BundleError::TooManyEntries {
                max: MAX_ENTRIES,
                entry: i,
                offset: out.len(),
            });
        }
        let entry = entry.as_ref();
        let len = u16::try_from(entry.len()).map_err(|_| BundleError::EntryTooLarge {
            entry: i,
            len: entry.len(),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Parses a bundle into its entries (borrowed from `data`), bounding everything: at most
/// 256 entries, every length checked against the bytes left, nothing after the last entry
/// but another entry. Empty data gives no entries; use [`parse_exact`] to check the count
/// against the bundle's width.
///
/// # Errors
/// [`BundleError::TruncatedPrefix`] or [`BundleError::TruncatedEntry`] (with the entry
/// number and byte offset) when the data ends inside an entry;
/// [`BundleError::TooManyEntries`] when data follows the 256th entry.
pub fn parse(data: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    parse_at_most(data, MAX_ENTRIES)
}

/// Parses a bundle that must hold exactly `expected` entries: the width of its tile
/// (`tile/entries/<N>.p/<W>` holds W, a full one 256).
///
/// # Errors
/// As [`parse`], with [`BundleError::TooManyEntries`] when data follows entry `expected`, and
/// [`BundleError::WrongCount`] when there are fewer.
pub fn parse_exact(data: &[u8], expected: usize) -> Result<Vec<&[u8]>, BundleError> {
    let entries = parse_at_most(data, expected.min(MAX_ENTRIES))?;
    if entries.len() != expected {
        return Err(BundleError::WrongCount {
            expected,
            got: entries.len(),
        });
    }
    Ok(entries)
}

fn parse_at_most(data: &[u8], max: usize) -> Result<Vec<&[u8]>, BundleError> {
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < data.len() {
        let entry = entries.len();
        if entry == max {
            return Err(BundleError::TooManyEntries { max, entry, offset });
        }
        let rest = &data[offset..];
        let Some((prefix, body)) = rest.split_first_chunk::<2>() else {
            return Err(BundleError::TruncatedPrefix {
                entry,
                offset,
                available: rest.len(),
            });
        };
        let len = usize::from(u16::from_be_bytes(*prefix));
        let Some(bytes) = body.get(..len) else {
            return Err(BundleError::TruncatedEntry {
                entry,
                offset,
                len,
                available: body.len(),
            });
        };
        entries.push(bytes);
        offset += 2 + len;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_documented_bytes() {
        let bundle = encode(&["one", "two", "three"]).expect("small entries");
        assert_eq!(hex::encode(&bundle), "00036f6e65000374776f00057468726565");
        assert_eq!(
            parse(&bundle).expect("parse"),
            vec![&b"one"[..], b"two", b"three"]
        );
        assert_eq!(parse_exact(&bundle, 3).expect("three entries").len(), 3);
    }

    #[test]
    fn empty_and_maximal_entries() {
        let big = vec![7u8; MAX_ENTRY_SIZE];
        let bundle = encode(&[&b""[..], &big[..]]).expect("65,535 bytes fit");
        assert_eq!(&bundle[..4], &[0, 0, 0xff, 0xff]);
        assert_eq!(parse(&bundle).expect("parse"), vec![&b""[..], &big[..]]);
        let too_big = vec![0u8; MAX_ENTRY_SIZE + 1];
        assert_eq!(
            encode(&[&b"a"[..], &too_big[..]]),
            Err(BundleError::EntryTooLarge {
                entry: 1,
                len: 65_536
            })
        );
        assert_eq!(parse(b""), Ok(vec![]));
    }

    #[test]
    fn truncation_is_located() {
        let bundle = encode(&["one", "two"]).expect("encode");
        assert_eq!(
            parse(&bundle[..6]),
            Err(BundleError::TruncatedPrefix {
                entry: 1,
                offset: 5,
                available: 1
            })
        );
        assert_eq!(
            parse(&bundle[..9]),
            Err(BundleError::TruncatedEntry {
                entry: 1,
                offset: 5,
                len: 3,
                available: 2
            })
        );
        assert_eq!(
            parse(&[0xff, 0xff, 1]).map_err(|e| e.to_string()),
            Err("entry 0 at byte 0: length 65535, but only 1 bytes follow".to_owned())
        );
    }

    #[test]
    fn counts_are_bounded() {
        let full: Vec<[u8; 1]> = (0..=255u8).map(|b| [b]).collect();
        let bundle = encode(&full).expect("256 entries");
        assert_eq!(parse(&bundle).expect("full bundle").len(), 256);
        let mut over = bundle.clone();
        over.extend_from_slice(&[0, 0]);
        assert_eq!(
            parse(&over),
            Err(BundleError::TooManyEntries {
                max: 256,
                entry: 256,
                offset: 768
            })
        );
        let mut too_many = full.clone();
        too_many.push([0]);
        assert!(matches!(
            encode(&too_many),
            Err(BundleError::TooManyEntries { entry: 256, .. })
        ));
        assert_eq!(
            parse_exact(&bundle, 255),
            Err(BundleError::TooManyEntries {
                max: 255,
                entry: 255,
                offset: 765
            })
        );
        assert_eq!(
            parse_exact(&bundle[..6], 3),
            Err(BundleError::WrongCount {
                expected: 3,
                got: 2
            })
        );
        assert_eq!(
            parse_exact(b"", 1),
            Err(BundleError::WrongCount {
                expected: 1,
                got: 0
            })
        );
    }
}
