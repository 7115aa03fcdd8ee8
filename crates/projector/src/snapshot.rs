//! Snapshots of the view, so a restart applies only the log's tail (DESIGN §6).
//!
//! A snapshot is local state, not part of the format contract (docs/FORMAT.md): nobody but
//! the process that wrote it reads it, a snapshot of another version is discarded, and the
//! view is rebuilt from the log whenever a snapshot is in doubt. Its bytes:
//!
//! ```text
//! "sijil/view\n"  (11 bytes)   magic
//! version         (u32, LE)    SNAPSHOT_VERSION; bump it whenever the view's layout changes
//! checksum        (32 bytes)   SHA-256 of the body
//! body                         bincode 2 (standard config) of { root: [u8;32], state }
//! ```
//!
//! The state records the tree size it was built from (its entry count) and the caller gives
//! the root hash of the log at that size. The checksum catches a torn or corrupted file, not
//! a forgery: whoever can write the snapshot can write anything the server serves. `audit`
//! rebuilds from the log and trusts no snapshot.

use std::collections::HashSet;
use std::io::{BufReader, Read, Seek, SeekFrom};

use sha2::{Digest as _, Sha256};
use sijil_core::event::Role;
use sijil_core::{sha256, Hash};

use crate::case::MAX_SEQ;
use crate::view::{State, View};

const MAGIC: &[u8; 11] = b"sijil/view\n";

/// The layout version this build writes and reads.
pub const SNAPSHOT_VERSION: u32 = 6;

const HEADER_LEN: usize = MAGIC.len() + 4 + 32;

/// How much of a snapshot file is read at a time.
const CHUNK: usize = 1 << 20;

/// bincode's claim limit while decoding: no container in a snapshot may claim more than this
/// (4 GiB on 64-bit), so a hostile length prefix cannot make the decoder allocate without
/// bound. The checksum is checked first, so only a crafted file gets this far.
const DECODE_LIMIT: usize = u32::MAX as usize;

/// Why a snapshot cannot be used. The caller discards it and rebuilds the view from the log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    #[error("snapshot is {len} bytes, shorter than its {HEADER_LEN}-byte header")]
    Truncated { len: usize },
    #[error("not a sijil view snapshot (wrong magic bytes)")]
    NotASnapshot,
    #[error("snapshot is version {got}; this build reads version {SNAPSHOT_VERSION}")]
    UnsupportedVersion { got: u32 },
    #[error("snapshot's checksum does not match its contents: the file is corrupt")]
    ChecksumMismatch,
    #[error("snapshot does not decode: {reason}")]
    Decode { reason: String },
    #[error("snapshot has {trailing} bytes after its {consumed} bytes of contents")]
    TrailingBytes { consumed: usize, trailing: usize },
    #[error("snapshot is inconsistent: {reason}")]
    Inconsistent { reason: String },
    #[error("snapshot could not be read: {reason}")]
    Read { reason: String },
    /// The snapshot was built from more entries than the log holds.
    #[error("snapshot was built from {snapshot_size} entries, but the log holds only {log_size}")]
    AheadOfLog { snapshot_size: u64, log_size: u64 },
    /// The log's root at the snapshot's size is not the snapshot's: another log, or a log
    /// that was rewritten.
    #[error("snapshot was built from a log of {size} entries with root {snapshot_root}, but the log's root at that size is {log_root}")]
    RootMismatch {
        size: u64,
        snapshot_root: Hash,
        log_root: Hash,
    },
    /// The caller could not give the log's root at the snapshot's size.
    #[error("the log's root at the snapshot's size {size} is not available")]
    RootUnavailable { size: u64 },
}

#[derive(bincode::Encode, bincode::Decode)]
struct Body {
    root: Hash,
    state: State,
}

impl View {
    /// The view's snapshot, for the log whose first [`View::size`] entries have root hash
    /// `root` (the tree size is the view's own entry count, so it cannot disagree).
    pub fn to_snapshot(&self, root: Hash) -> Vec<u8> {
        let body = Body {
            root,
            state: self.state.clone(),
        };
        let body = bincode::encode_to_vec(&body, bincode::config::standard())
            // Encoding into a Vec fails only for a Date whose year does not fit a u16, and
            // `Date` holds years 1900–9999 only.
            .expect("a view always encodes");
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        out.extend_from_slice(&sha256(&body).0);
        out.extend_from_slice(&body);
        out
    }

    /// Decodes a snapshot; returns the view, the tree size and the root it was built from.
    /// The caller must compare both with its log (or use [`View::resume`]) and discard the
    /// snapshot when they differ.
    ///
    /// Decoding is strict: the header, the checksum, bounded lengths, no trailing bytes, and
    /// the view's invariants (unique ids and keys, indexes in range, timelines in log order
    /// and within the tree size).
    ///
    /// # Errors
    /// [`SnapshotError::Truncated`], [`SnapshotError::NotASnapshot`],
    /// [`SnapshotError::UnsupportedVersion`], [`SnapshotError::ChecksumMismatch`],
    /// [`SnapshotError::Decode`], [`SnapshotError::TrailingBytes`],
    /// [`SnapshotError::Inconsistent`].
    pub fn from_snapshot(bytes: &[u8]) -> Result<(View, u64, Hash), SnapshotError> {
        View::read_snapshot(&mut std::io::Cursor::new(bytes))
    }

    /// [`View::from_snapshot`] from a file, read twice in chunks rather than copied into
    /// memory whole: once for the checksum, then decoded. A snapshot of 10^6 entries is over
    /// 100 MB, and a 1-event `sijil append` spent most of its time having the kernel zero the
    /// pages of that copy (issue 9). The checksum is still checked before anything is
    /// decoded, so a corrupt length prefix never reaches the decoder.
    ///
    /// # Errors
    /// As [`View::from_snapshot`], and [`SnapshotError::Read`] when reading fails.
    pub fn read_snapshot(
        file: &mut (impl Read + Seek),
    ) -> Result<(View, u64, Hash), SnapshotError> {
        let read = |e: std::io::Error| SnapshotError::Read {
            reason: e.to_string(),
        };
        let mut header = [0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            match file.read(&mut header[got..]).map_err(read)? {
                0 => return Err(SnapshotError::Truncated { len: got }),
                n => got += n,
            }
        }
        let checksum = check_header(&header)?;
        let mut hasher = Sha256::new();
        let mut chunk = vec![0u8; CHUNK];
        let mut body_len = 0usize;
        loop {
            match file.read(&mut chunk).map_err(read)? {
                0 => break,
                n => {
                    hasher.update(&chunk[..n]);
                    body_len += n;
                }
            }
        }
        drop(chunk);
        if hasher.finalize().as_slice() != checksum {
            return Err(SnapshotError::ChecksumMismatch);
        }
        file.seek(SeekFrom::Start(HEADER_LEN as u64))
            .map_err(read)?;
        let mut body = BufReader::with_capacity(CHUNK, file.take(body_len as u64));
        let config = bincode::config::standard().with_limit::<DECODE_LIMIT>();
        let Body { root, state }: Body =
            bincode::decode_from_std_read(&mut body, config).map_err(|e| {
                SnapshotError::Decode {
                    reason: e.to_string(),
                }
            })?;
        let trailing = body.buffer().len() + usize::try_from(body.get_ref().limit()).unwrap_or(0);
        if trailing != 0 {
            return Err(SnapshotError::TrailingBytes {
                consumed: body_len - trailing,
                trailing,
            });
        }
        let view =
            View::from_state(state).map_err(|reason| SnapshotError::Inconsistent { reason })?;
        tracing::debug!(
            tree_size = view.size(),
            cases = view.state.cases.len(),
            "view snapshot loaded"
        );
        let size = view.size();
        Ok((view, size, root))
    }

    /// The tree size a snapshot is of, read from its first bytes without checking the rest
    /// (a writer deciding when the next one is due; loading it checks everything).
    ///
    /// # Errors
    /// [`SnapshotError`] for a file too short, of another version, or not a snapshot.
    pub fn snapshot_size(reader: &mut impl Read) -> Result<u64, SnapshotError> {
        // The header, the root, and the state's first field (its size, a varint of ≤ 9 bytes).
        let mut first = [0u8; HEADER_LEN + 32 + 9];
        let mut read = 0;
        while read < first.len() {
            match reader.read(&mut first[read..]) {
                Ok(0) => break,
                Ok(n) => read += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(SnapshotError::Read {
                        reason: e.to_string(),
                    })
                }
            }
        }
        if read < HEADER_LEN {
            return Err(SnapshotError::Truncated { len: read });
        }
        let (header, body) = first[..read].split_at(HEADER_LEN);
        check_header(header)?;
        let ((_root, size), _): (([u8; 32], u64), usize) =
            bincode::decode_from_slice(body, bincode::config::standard()).map_err(|e| {
                SnapshotError::Decode {
                    reason: e.to_string(),
                }
            })?;
        Ok(size)
    }

    /// Loads a snapshot for a log of `log_size` entries, `root_at(n)` giving the log's root
    /// hash at tree size `n`, and checks that the snapshot was built from that log. The
    /// caller then applies entries `view.size()..log_size`. On any error, rebuild from the
    /// log.
    ///
    /// # Errors
    /// The errors of [`View::from_snapshot`]; [`SnapshotError::AheadOfLog`] if the snapshot
    /// is of more entries than `log_size`; [`SnapshotError::RootUnavailable`] if `root_at`
    /// returns `None`; [`SnapshotError::RootMismatch`] if the roots differ.
    pub fn resume(
        bytes: &[u8],
        log_size: u64,
        root_at: impl FnOnce(u64) -> Option<Hash>,
    ) -> Result<View, SnapshotError> {
        let (view, size, snapshot_root) = View::from_snapshot(bytes)?;
        if size > log_size {
            return Err(SnapshotError::AheadOfLog {
                snapshot_size: size,
                log_size,
            });
        }
        let log_root = root_at(size).ok_or(SnapshotError::RootUnavailable { size })?;
        if log_root != snapshot_root {
            return Err(SnapshotError::RootMismatch {
                size,
                snapshot_root,
                log_root,
            });
        }
        Ok(view)
    }

    /// Checks the invariants the fold maintains and rebuilds the indexes.
    fn from_state(state: State) -> Result<View, String> {
        let s = &state;
        if s.size > MAX_SEQ + 1 {
            return Err(format!(
                "tree size {} is beyond the largest this view indexes",
                s.size
            ));
        }
        if (s.size == 0) != s.register.is_none() {
            return Err(format!(
                "tree size {} but register info {}",
                s.size,
                if s.register.is_some() {
                    "present"
                } else {
                    "absent"
                }
            ));
        }
        if s.size == 0
            && (!s.officers.is_empty() || !s.cases.is_empty() || s.last_leaf != Hash::ZERO)
        {
            return Err("an empty view holds officers, cases or a leaf hash".into());
        }
        if let Some(r) = &s.register {
            // The chain of log keys (version 6): the genesis key at 0, strictly increasing
            // seqs inside the log, each key once, the last one current.
            let starts_at_genesis = r.log_keys.first().is_some_and(|k| k.named_at == 0);
            let in_order = r
                .log_keys
                .windows(2)
                .all(|w| w[0].named_at < w[1].named_at && w[1].named_at < s.size);
            let distinct = r
                .log_keys
                .iter()
                .enumerate()
                .all(|(i, k)| r.log_keys[..i].iter().all(|p| p.key != k.key));
            let current = r.log_keys.last().is_some_and(|k| k.key == r.log_key);
            if !(starts_at_genesis && in_order && distinct && current) {
                return Err("the chain of log keys is not in log order or not current".into());
            }
        }
        let mut view = View {
            state: State::default(),
            ..View::default()
        };
        for (i, o) in s.officers.iter().enumerate() {
            let revoked_ok = o
                .revocation
                .as_ref()
                .is_none_or(|r| r.seq > o.authorized_at && r.seq < s.size);
            if o.authorized_at >= s.size || !revoked_ok {
                return Err(format!("officer {} has seqs outside the log", o.key));
            }
            if view.officer_index.insert(o.key, i as u32).is_some() {
                return Err(format!("officer key {} is listed twice", o.key));
            }
        }
        if s.size > 0
            && !s
                .officers
                .iter()
                .any(|o| o.role == Role::Admin && o.is_active())
        {
            return Err("no active admin".into());
        }
        let mut listed = 0usize;
        for (ci, c) in s.controllers.iter().enumerate() {
            if view
                .controller_index
                .insert(c.id.clone(), ci as u32)
                .is_some()
            {
                return Err(format!("controller {} is listed twice", c.id));
            }
            if !c.cases.windows(2).all(|w| w[0] < w[1])
                || c.cases.iter().any(|&i| {
                    s.cases
                        .get(i as usize)
                        .is_none_or(|case| case.controller as usize != ci)
                })
            {
                return Err(format!(
                    "controller {}'s cases do not match the cases",
                    c.id
                ));
            }
            listed += c.cases.len();
        }
        if listed != s.cases.len() {
            return Err(format!(
                "{} cases, but controllers list {listed}",
                s.cases.len()
            ));
        }
        let mut seen = HashSet::new();
        for (i, c) in s.cases.iter().enumerate() {
            if !seen.insert(c.timeline.first().map(|t| t.seq())) {
                return Err(format!("case {} shares its opening entry", c.id));
            }
            check_case(c, s.size)?;
            if view.case_index.insert(c.id.clone(), i as u32).is_some() {
                return Err(format!("case {} is listed twice", c.id));
            }
        }
        if s.annotations
            .keys()
            .next_back()
            .is_some_and(|&seq| seq >= s.size)
        {
            return Err("an annotation targets an entry beyond the log".into());
        }
        view.state = state;
        Ok(view)
    }
}

/// Checks a snapshot's header (magic and version); returns the checksum it gives.
fn check_header(header: &[u8]) -> Result<&[u8], SnapshotError> {
    if header.len() < HEADER_LEN {
        return Err(SnapshotError::Truncated { len: header.len() });
    }
    let (magic, rest) = header.split_at(MAGIC.len());
    let (version, checksum) = rest.split_at(4);
    if magic != MAGIC {
        return Err(SnapshotError::NotASnapshot);
    }
    let mut v = [0u8; 4];
    v.copy_from_slice(version);
    let version = u32::from_le_bytes(v);
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotError::UnsupportedVersion { got: version });
    }
    Ok(&checksum[..32])
}

/// The invariants the fold keeps in one case record of a log of `size` entries.
pub(crate) fn check_case(c: &crate::case::CaseRecord, size: u64) -> Result<(), String> {
    let in_order = c.timeline.windows(2).all(|w| w[0].seq() < w[1].seq());
    if c.timeline.is_empty()
        || !in_order
        || !c.timeline.iter().all(|t| t.is_valid() && t.seq() < size)
    {
        return Err(format!(
            "case {}'s timeline is not a list of its entries in log order",
            c.id
        ));
    }
    // A closed case has its closing; a closing stays while the case is under appeal.
    let closing_fits = match c.status {
        crate::CaseStatus::Closed => c.closing.is_some(),
        crate::CaseStatus::UnderAppeal => true,
        _ => c.closing.is_none(),
    };
    if !closing_fits {
        return Err(format!("case {}'s status and closing disagree", c.id));
    }
    if c.dates.len() != c.timeline.len() {
        return Err(format!("case {}'s dates and timeline disagree", c.id));
    }
    Ok(())
}
