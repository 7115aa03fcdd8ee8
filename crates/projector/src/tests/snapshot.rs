//! Snapshots: round trip, restart with the tail, and every way a snapshot is refused.

use sijil_core::event::Outcome;
use sijil_core::{sha256, Hash};

use super::*;
use crate::{SnapshotError, SNAPSHOT_VERSION};

fn history() -> Log {
    let mut log = Log::new();
    log.open("C-1", "acme", "2023-01-10");
    log.ok("C-1", hearing("2023-01-20"));
    log.open("C-2", "bim", "2023-01-11");
    log.ok("C-1", deadline("2023-07-01"));
    log.ok("C-2", closed("2023-02-01", Outcome::Withdrawn));
    log.ok("C-2", erasure(3));
    log.ok("C-1", correction(2));
    log
}

/// The root the tests pretend the log has at `size`.
fn root(size: u64) -> Hash {
    sha256(&size.to_le_bytes())
}

#[test]
fn round_trip_and_resume_with_the_tail() {
    let log = history();
    for k in 0..=log.entries.len() {
        let prefix =
            replay(log.entries[..k].iter().map(|(e, h)| (e, *h))).unwrap_or_else(|r| panic!("{r}"));
        let bytes = prefix.to_snapshot(root(k as u64));
        let (back, size, r) = View::from_snapshot(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((size, r), (k as u64, root(k as u64)));
        assert_eq!(back, prefix, "indexes are rebuilt as they were");
        assert_eq!(back.to_snapshot(root(k as u64)), bytes);

        let mut resumed = View::resume(&bytes, log.entries.len() as u64, |n| Some(root(n)))
            .unwrap_or_else(|e| panic!("{e}"));
        for (e, h) in &log.entries[k..] {
            resumed.apply(e, *h).unwrap_or_else(|r| panic!("{r}"));
        }
        assert_eq!(resumed, log.view);
    }
}

#[test]
fn a_snapshot_of_another_log_is_refused() {
    let log = history();
    let size = log.view.size();
    let bytes = log.view.to_snapshot(root(size));
    assert_eq!(
        View::resume(&bytes, size, |_| Some(Hash::ZERO)).err(),
        Some(SnapshotError::RootMismatch {
            size,
            snapshot_root: root(size),
            log_root: Hash::ZERO
        })
    );
    assert_eq!(
        View::resume(&bytes, size - 1, |n| Some(root(n))).err(),
        Some(SnapshotError::AheadOfLog {
            snapshot_size: size,
            log_size: size - 1
        })
    );
    assert_eq!(
        View::resume(&bytes, size, |_| None).err(),
        Some(SnapshotError::RootUnavailable { size })
    );
}

/// Replaces the body of a snapshot and fixes its checksum.
fn with_body(bytes: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = bytes[..15].to_vec();
    out.extend_from_slice(&sha256(body).0);
    out.extend_from_slice(body);
    out
}

#[test]
fn damaged_snapshots_are_refused() {
    let log = history();
    let bytes = log.view.to_snapshot(Hash::ZERO);
    let body = &bytes[47..];
    assert_eq!(
        View::from_snapshot(&bytes[..20]).err(),
        Some(SnapshotError::Truncated { len: 20 })
    );

    let mut magic = bytes.clone();
    magic[0] ^= 1;
    assert_eq!(
        View::from_snapshot(&magic).err(),
        Some(SnapshotError::NotASnapshot)
    );

    let mut version = bytes.clone();
    version[11..15].copy_from_slice(&(SNAPSHOT_VERSION + 1).to_le_bytes());
    assert_eq!(
        View::from_snapshot(&version).err(),
        Some(SnapshotError::UnsupportedVersion {
            got: SNAPSHOT_VERSION + 1
        })
    );

    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert_eq!(
        View::from_snapshot(&flipped).err(),
        Some(SnapshotError::ChecksumMismatch)
    );

    let mut trailing = body.to_vec();
    trailing.push(0);
    assert_eq!(
        View::from_snapshot(&with_body(&bytes, &trailing)).err(),
        Some(SnapshotError::TrailingBytes {
            consumed: body.len(),
            trailing: 1
        })
    );

    let short = &body[..body.len() - 3];
    assert!(matches!(
        View::from_snapshot(&with_body(&bytes, short)),
        Err(SnapshotError::Decode { .. })
    ));

    // A length prefix claiming 2^40 officers: refused by the decode limit before anything is
    // allocated. Body: root, size 1, last leaf, recorded_at 0, no register, then the officers.
    let hostile = [
        &[0u8; 32][..],
        &[1],
        &[0u8; 32],
        &[0, 0],
        &[0xfd],
        &(1u64 << 40).to_le_bytes(),
    ]
    .concat();
    match View::from_snapshot(&with_body(&bytes, &hostile)) {
        Err(SnapshotError::Decode { reason }) => assert!(reason.contains("Limit"), "{reason}"),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn inconsistent_snapshots_are_refused() {
    let log = history();
    let inconsistent = |change: &dyn Fn(&mut View)| {
        let mut v = log.view.clone();
        change(&mut v);
        match View::from_snapshot(&v.to_snapshot(Hash::ZERO)) {
            Err(SnapshotError::Inconsistent { reason }) => reason,
            other => panic!("expected Inconsistent, got {other:?}"),
        }
    };
    inconsistent(&|v| {
        let dup = v.state.cases[0].clone();
        v.state.cases.push(dup);
    });
    inconsistent(&|v| v.state.cases[0].timeline.reverse());
    inconsistent(&|v| v.state.cases[1].controller = 0);
    inconsistent(&|v| v.state.size = 3);
    inconsistent(&|v| v.state.cases[1].status = crate::CaseStatus::Open);
    inconsistent(&|v| {
        let dup = v.state.officers[0].clone();
        v.state.officers.push(dup);
    });
    inconsistent(&|v| v.state.officers[0].role = sijil_core::event::Role::Clerk);
    inconsistent(&|v| {
        v.state.annotations.insert(1000, Default::default());
    });
    let reason = inconsistent(&|v| v.state.register = None);
    assert_eq!(reason, "tree size 8 but register info absent");
}
