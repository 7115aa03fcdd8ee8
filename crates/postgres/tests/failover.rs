//! Failover (issue 14): a primary with a synchronous streaming standby; what a commit
//! acknowledged on the primary is on the standby it promotes, and a writer on a multi-host
//! URL follows it.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{batch, cluster, column_i64, cp, register};
use sijil_core::commit::CommitPoint;
use sijil_postgres::cluster::Cluster;

/// Both servers, primary first: libpq's way to find the writable one after a failover.
fn multi_host_url(primary: &Cluster, standby: &Cluster) -> String {
    format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/{}?target_session_attrs=read-write&connect_timeout=5",
        primary.port(),
        standby.port(),
        sijil_postgres::cluster::DATABASE
    )
}

fn signal(sig: &str, pid: i32) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[test]
fn a_commit_acknowledged_by_a_killed_primary_is_on_the_promoted_standby() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(mut primary) = cluster(&tmp.path().join("primary")) else {
        return;
    };
    let standby = Cluster::standby_of(&primary, &tmp.path().join("standby")).expect("standby");
    let url = multi_host_url(&primary, &standby);
    let mut w = register(&url);

    let mut checkpoints = Vec::new();
    let mut size = 0u64;
    for n in 1..=10u64 {
        let note = cp(size + n, &format!("batch {n}"));
        let files = [
            (format!("blobs/{n:02}"), format!("text {n}").into_bytes()),
            (format!("tile/0/000.p/{}", size + n), vec![n as u8; 32]),
        ];
        let refs: Vec<(String, &[u8])> = files.iter().map(|(p, b)| (p.clone(), &b[..])).collect();
        w.commit(&batch(size, size + n, &note, &refs, &[]))
            .expect("commit on the primary");
        size += n;
        checkpoints.push(note);
    }
    // The crash right after the last acknowledgement: nothing is flushed or sent after it.
    primary.kill().expect("SIGKILL the primary");
    standby.promote().expect("promote");

    // The same writer, on the same URL: it reconnects and finds the promoted standby.
    let last = checkpoints.last().cloned();
    assert_eq!(w.latest().expect("latest after the failover"), last);
    let paths: Vec<String> = (1..=10).map(|n| format!("blobs/{n:02}")).collect();
    let got = w.get_many(&paths).expect("files after the failover");
    for (n, bytes) in (1..=10).zip(got) {
        assert_eq!(
            bytes,
            Some(format!("text {n}").into_bytes()),
            "blobs/{n:02}"
        );
    }
    // And the log goes on from the same size: no fork, no loss.
    let next = cp(size + 1, "after the failover");
    w.commit(&batch(size, size + 1, &next, &[], &[]))
        .expect("commit on the promoted standby");
    let sizes = column_i64(&standby, "SELECT size FROM sijil_checkpoints ORDER BY size");
    assert_eq!(sizes.len(), 11);
    assert_eq!(sizes.last().copied(), i64::try_from(size + 1).ok());
}

#[test]
fn a_commit_is_acknowledged_only_once_the_synchronous_standby_has_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(primary) = cluster(&tmp.path().join("primary")) else {
        return;
    };
    let standby = Cluster::standby_of(&primary, &tmp.path().join("standby")).expect("standby");
    let mut w = register(&primary.url());
    let one = cp(1, "one");
    w.commit(&batch(0, 1, &one, &[], &[])).expect("genesis");

    // Freeze the standby's WAL receiver: it can no longer flush what the primary sends.
    let receiver: i32 = standby
        .client()
        .expect("client")
        .query_one("SELECT pid FROM pg_stat_wal_receiver", &[])
        .expect("wal receiver")
        .get(0);
    signal("-STOP", receiver);
    let committer = std::thread::spawn(move || {
        let two = cp(2, "two");
        let r = w.commit(&batch(1, 2, &two, &[], &[]));
        (w, r)
    });
    std::thread::sleep(Duration::from_millis(1500));
    let waited = !committer.is_finished();
    signal("-CONT", receiver);
    let (_w, result) = committer.join().expect("thread");
    assert!(
        waited,
        "the commit returned while the synchronous standby could not have flushed it"
    );
    result.expect("commit once the standby is back");
    let mut on_standby = standby.client().expect("client");
    // Flushed on the standby when acknowledged; replayed (visible) shortly after.
    for _ in 0..100 {
        let size: Option<i64> = on_standby
            .query_opt("SELECT size FROM sijil_log", &[])
            .expect("read")
            .map(|r| r.get(0));
        if size == Some(2) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the standby never showed the commit of size 2");
}

#[test]
fn a_primary_killed_during_commits_loses_none_it_acknowledged() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(mut primary) = cluster(&tmp.path().join("primary")) else {
        return;
    };
    let standby = Cluster::standby_of(&primary, &tmp.path().join("standby")).expect("standby");
    let url = multi_host_url(&primary, &standby);
    let mut w = register(&url);

    // A writer committing as fast as it can until a commit fails.
    let writer = std::thread::spawn(move || {
        let mut acknowledged: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut size = 0u64;
        loop {
            let note = cp(size + 10, "during");
            let blob = format!("blobs/{size:08}");
            let files = vec![(blob, &b"text"[..])];
            match w.commit(&batch(size, size + 10, &note, &files, &[])) {
                Ok(()) => {
                    size += 10;
                    acknowledged.push((size, note));
                }
                Err(e) => return (w, acknowledged, e),
            }
        }
    });
    std::thread::sleep(Duration::from_millis(1500));
    primary.kill().expect("SIGKILL the primary");
    let (mut w, acknowledged, error) = writer.join().expect("thread");
    assert!(
        acknowledged.len() > 5,
        "only {} commits before the crash",
        acknowledged.len()
    );
    eprintln!(
        "{} commits acknowledged before the crash; the one in flight: {error}",
        acknowledged.len()
    );
    standby.promote().expect("promote");

    // Every acknowledged checkpoint is on the promoted standby, byte for byte; the one in
    // flight may or may not be (its outcome was unknown), nothing else is.
    let (last_size, last_cp) = acknowledged.last().cloned().expect("some");
    let (size, _) = w
        .latest_with_size()
        .expect("latest after the failover")
        .expect("a register");
    assert!(
        size == last_size || size == last_size + 10,
        "size {size} after the failover, {last_size} acknowledged"
    );
    let mut on_standby = standby.client().expect("client");
    for (n, note) in &acknowledged {
        let stored: Vec<u8> = on_standby
            .query_one(
                "SELECT checkpoint FROM sijil_checkpoints WHERE size = $1",
                &[&i64::try_from(*n).expect("size")],
            )
            .expect("an acknowledged checkpoint")
            .get(0);
        assert_eq!(&stored, note, "checkpoint {n}");
    }
    if size == last_size {
        assert_eq!(w.latest().expect("latest"), Some(last_cp));
    }
    // The writer goes on from what the commit point holds.
    let next = cp(size + 1, "after");
    w.commit(&batch(size, size + 1, &next, &[], &[]))
        .expect("commit after the failover");
}
