//! The restore marker, `private/restored` (docs/OPERATIONS.md, "Backup and restore").
//!
//! A register restored from a backup may be behind what the public already saw: a mirror, a
//! monitor or a witness may hold a checkpoint larger than the backup's. Signing from the
//! smaller log would fork it (two different entries at the same seq, both signed), which
//! every verifier treats as misbehaviour. So `sijil restore` records here the largest tree
//! size it saw and where, and [`RegisterWriter::open`](crate::RegisterWriter::open) refuses
//! to sign while its log is smaller. The file goes away only with the directory: when
//! `sijil restore` runs again, from a backup brought forward that nothing seen exceeds, or
//! with `--accept-fork SIZE`, an operator accepting the fork by naming the size (both move
//! the marked directory aside).
//!
//! The file is text, one field a line:
//!
//! ```text
//! size 1234
//! seen https://mirror.example.ma/plaintes/checkpoint
//! ```

use std::path::{Path, PathBuf};

use sijil_core::durable;
use sijil_core::storage::Layout;

use crate::Error;

/// The largest checkpoint a restore saw, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub size: u64,
    /// Where that checkpoint was seen: a URL, a directory, a file.
    pub at: String,
}

/// The marker's path in a register directory.
pub fn marker_path(layout: &Layout) -> PathBuf {
    layout.private().join("restored")
}

/// Reads the marker, if there is one.
///
/// # Errors
/// [`Error::Unreadable`] when it cannot be read; [`Error::Corrupt`] when it is not a marker
/// (then nothing may sign until an operator looks at it).
pub fn read_marker(layout: &Layout) -> Result<Option<Seen>, Error> {
    read_marker_file(&marker_path(layout))
}

/// [`read_marker`] of a marker file wherever it is (a backup keeps its register's in
/// `private/register/`).
///
/// # Errors
/// As [`read_marker`].
pub fn read_marker_file(path: &Path) -> Result<Option<Seen>, Error> {
    let path = path.to_path_buf();
    let bytes = match durable::read(&path) {
        Ok(b) => b,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => {
            return Err(Error::Unreadable {
                what: e.to_string(),
            })
        }
    };
    parse(&bytes).map(Some).ok_or_else(|| Error::Corrupt {
        what: format!(
            "{}: not a restore marker (`size N` then `seen WHERE`); no entry is signed until it is fixed (docs/OPERATIONS.md, \"Backup and restore\")",
            path.display()
        ),
    })
}

/// Writes the marker atomically ([`durable::replace`]: a crash leaves the old marker or the
/// new one, never half of one).
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_marker(layout: &Layout, seen: &Seen) -> Result<(), Error> {
    // One line each, and no line break inside: the parser reads the first two lines.
    let at = seen.at.replace(['\n', '\r'], " ");
    let text = format!("size {}\nseen {at}\n", seen.size);
    let path = marker_path(layout);
    durable::replace(&path, &path.with_extension("new"), text.as_bytes())?;
    Ok(())
}

/// Removes the marker (a no-op when there is none).
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn remove_marker(layout: &Layout) -> Result<(), Error> {
    durable::remove_file(&marker_path(layout))?;
    Ok(())
}

/// The refusal of a writer whose log (`size` entries) is smaller than the marker's.
///
/// # Errors
/// [`Error::RestoredBehind`] when `size` is smaller than the size the marker records, and
/// the errors of [`read_marker`].
pub fn check_marker(layout: &Layout, size: u64) -> Result<(), Error> {
    match read_marker(layout)? {
        Some(seen) if size < seen.size => Err(Error::RestoredBehind {
            size,
            seen: seen.size,
            at: seen.at,
            marker: marker_path(layout),
        }),
        _ => Ok(()),
    }
}

fn parse(bytes: &[u8]) -> Option<Seen> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.lines();
    let size = lines.next()?.strip_prefix("size ")?;
    // Canonical decimal only: re-formatting must give the same text.
    let n: u64 = size.parse().ok()?;
    if n.to_string() != size {
        return None;
    }
    let at = lines.next()?.strip_prefix("seen ")?.to_string();
    Some(Seen { size: n, at })
}

/// Whether `dir` holds a restore marker (for messages that do not open the register).
pub fn has_marker(dir: &Path) -> bool {
    marker_path(&Layout::new(dir)).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_round_trips_and_a_bad_one_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(tmp.path());
        std::fs::create_dir_all(layout.private()).expect("mkdir");
        assert_eq!(read_marker(&layout).expect("none"), None);
        check_marker(&layout, 0).expect("no marker, no refusal");
        let seen = Seen {
            size: 40,
            at: "https://m.example/checkpoint".into(),
        };
        write_marker(&layout, &seen).expect("write");
        assert_eq!(read_marker(&layout).expect("read"), Some(seen));
        let err = check_marker(&layout, 39).expect_err("behind").to_string();
        assert!(
            err.contains("39")
                && err.contains("40")
                && err.contains("https://m.example/checkpoint"),
            "{err}"
        );
        check_marker(&layout, 40).expect("caught up");
        for bad in ["size 040\nseen x\n", "size 4\n", "sise 4\nseen x\n", ""] {
            std::fs::write(marker_path(&layout), bad).expect("write");
            assert!(read_marker(&layout).is_err(), "{bad:?}");
        }
        remove_marker(&layout).expect("remove");
        remove_marker(&layout).expect("remove twice");
        assert!(!has_marker(tmp.path()));
    }
}
