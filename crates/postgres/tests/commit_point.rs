//! The PostgreSQL commit point on a real cluster (issue 14): compare-and-swap, genesis,
//! files and erasures, reads through `Source`, reconnection after a restart.

mod common;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use common::{batch, cluster, column_i64, cp, register};
use sijil_core::commit::{Changes, CommitPoint, CommitPointError};
use sijil_postgres::{PgError, PgRegister};

fn files(list: &[(&str, &'static [u8])]) -> Vec<(String, &'static [u8])> {
    list.iter().map(|(p, b)| ((*p).to_owned(), *b)).collect()
}

#[test]
fn two_writers_racing_one_size_one_wins_the_other_learns_the_actual_size() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    let url = cluster.url();
    let mut first = register(&url);
    let genesis = cp(1, "genesis");
    first
        .commit(&batch(0, 1, &genesis, &[], &[]))
        .expect("genesis");

    // Each round both extend the same size to different sizes: exactly one may win, and the
    // loser must be told the winner's size.
    let mut size = 1u64;
    for round in 0..20 {
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = [1u64, 2]
            .into_iter()
            .map(|step| {
                let (url, barrier) = (url.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    let mut w = PgRegister::connect(&url).expect("connect");
                    let note = cp(size + step, &format!("writer {step}"));
                    let path = format!("blobs/{round}-{step}");
                    // Both also name one path with their own bytes: the loser, which may see
                    // the winner's bytes there, must still learn of a conflict (and adopt),
                    // not of a path stored with other bytes.
                    let mine = format!("writer {step}").into_bytes();
                    let shared = format!("tile/0/000.p/{round}");
                    let fs = vec![(path, &b"text"[..]), (shared, &mine[..])];
                    barrier.wait();
                    (step, w.commit(&batch(size, size + step, &note, &fs, &[])))
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        let winners: Vec<u64> = results
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(s, _)| *s)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let won = size + winners[0];
        for (step, r) in &results {
            if let Err(e) = r {
                assert_eq!(
                    *e,
                    CommitPointError::Conflict {
                        location: CommitPoint::describe(&first),
                        expected: size,
                        actual: won
                    },
                    "round {round}, writer {step}"
                );
                // Nothing of the loser's batch was stored.
                let lost = format!("blobs/{round}-{step}");
                assert_eq!(first.get_many(&[lost]).expect("read"), vec![None]);
            }
        }
        size = won;
        let latest = first.latest().expect("latest").expect("a register");
        assert!(latest.starts_with(format!("example.org/register\n{size}\n").as_bytes()));
    }
    // One checkpoint per committed size, every one of them: no fork was ever stored.
    let sizes = column_i64(&cluster, "SELECT size FROM sijil_checkpoints ORDER BY size");
    assert_eq!(sizes.len(), 21);
    assert_eq!(
        sizes.last().copied(),
        Some(i64::try_from(size).expect("size"))
    );
}

#[test]
fn a_writer_blocked_behind_a_commit_in_flight_gets_a_conflict_after_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    let mut w = register(&cluster.url());
    let one = cp(1, "one");
    w.commit(&batch(0, 1, &one, &[], &[])).expect("genesis");

    // Another writer's commit, stopped after its compare-and-swap (it holds the row lock).
    let mut other = cluster.client().expect("client");
    let mut tx = other.transaction().expect("begin");
    let n = tx
        .execute(
            "UPDATE sijil_log SET size = 5, checkpoint = 'other' WHERE size = 1",
            &[],
        )
        .expect("update");
    assert_eq!(n, 1);

    let url = cluster.url();
    let racer = std::thread::spawn(move || {
        let mut w = PgRegister::connect(&url).expect("connect");
        let two = cp(2, "two");
        let fs = vec![("tile/0/000.p/1".to_owned(), &b"h"[..])];
        w.commit(&batch(1, 2, &two, &fs, &[]))
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !racer.is_finished(),
        "a commit on the same size must wait for the one in flight"
    );
    tx.commit().expect("commit the other");
    let result = racer.join().expect("thread");
    assert_eq!(
        result,
        Err(CommitPointError::Conflict {
            location: CommitPoint::describe(&w),
            expected: 1,
            actual: 5
        })
    );
    assert_eq!(
        w.get_many(&["tile/0/000.p/1".to_owned()]).expect("read"),
        vec![None]
    );
}

#[test]
fn a_second_genesis_is_refused_and_stores_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    let mut w = register(&cluster.url());
    assert_eq!(w.latest().expect("latest"), None);
    let a = cp(3, "a");
    let fa = files(&[("blobs/aa", b"first")]);
    w.commit(&batch(0, 3, &a, &fa, &[])).expect("genesis");

    let mut again = register(&cluster.url());
    let b = cp(2, "b");
    let fb = files(&[("blobs/bb", b"second")]);
    assert_eq!(
        again.commit(&batch(0, 2, &b, &fb, &[])),
        Err(CommitPointError::AlreadyExists {
            location: CommitPoint::describe(&w),
            size: 3
        })
    );
    assert_eq!(w.latest().expect("latest"), Some(a));
    assert_eq!(w.get_many(&["blobs/bb".into()]).expect("read"), vec![None]);
    assert_eq!(
        column_i64(&cluster, "SELECT size FROM sijil_checkpoints"),
        vec![3]
    );
}

#[test]
fn files_and_checkpoint_read_back_through_source_and_get_many() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    let mut w = register(&cluster.url());
    let one = cp(2, "one");
    let f1 = files(&[
        ("tile/0/000.p/2", b"hashes-2"),
        ("tile/entries/000.p/2", b"bundle-2"),
        ("blobs/b1", b"text one"),
    ]);
    w.commit(&batch(0, 2, &one, &f1, &[])).expect("genesis");
    let two = cp(3, "two");
    let f2 = files(&[
        ("tile/0/000.p/3", b"hashes-3"),
        ("tile/entries/000.p/3", b"bundle-3"),
        ("blobs/a0", b"text two"),
    ]);
    w.commit(&batch(2, 3, &two, &f2, &[])).expect("second");

    // A reader on its own connection, as `sijil verify postgres://…` would be.
    let reader = PgRegister::connect(&cluster.url()).expect("connect");
    let source: &dyn sijil_register::audit::Source = &reader;
    assert_eq!(source.get("checkpoint").expect("cp"), Some(two.clone()));
    assert_eq!(
        source.get("tile/0/000.p/2").expect("tile"),
        Some(b"hashes-2".to_vec())
    );
    assert_eq!(source.get("tile/0/000.p/4").expect("absent"), None);
    let asked: Vec<String> = [
        "tile/entries/000.p/3",
        "blobs/none",
        "blobs/b1",
        "checkpoint",
        "blobs/b1",
    ]
    .map(String::from)
    .to_vec();
    let got: Vec<Option<Vec<u8>>> = source
        .get_many(&asked)
        .into_iter()
        .map(|r| r.expect("read"))
        .collect();
    assert_eq!(
        got,
        vec![
            Some(b"bundle-3".to_vec()),
            None,
            Some(b"text one".to_vec()),
            Some(two.clone()),
            Some(b"text one".to_vec()),
        ]
    );
    assert_eq!(
        source.list_blobs().expect("list"),
        Some(vec!["blobs/a0".to_owned(), "blobs/b1".to_owned()])
    );
    // The commit point's get_many: one query, in the order asked, duplicates included.
    let asked: Vec<String> = ["blobs/a0", "tile/0/000.p/3", "blobs/a0", "nothing"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        w.get_many(&asked).expect("get_many"),
        vec![
            Some(b"text two".to_vec()),
            Some(b"hashes-3".to_vec()),
            Some(b"text two".to_vec()),
            None
        ]
    );
    assert_eq!(w.latest().expect("latest"), Some(two));
}

#[test]
fn changes_since_lists_blobs_added_and_removed_after_a_size() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    let mut w = register(&cluster.url());
    let c1 = cp(1, "1");
    let f1 = files(&[
        ("blobs/a", b"A"),
        ("blobs/b", b"B"),
        ("tile/0/000.p/1", b"t"),
    ]);
    w.commit(&batch(0, 1, &c1, &f1, &[])).expect("1");
    let c2 = cp(2, "2");
    let f2 = files(&[("blobs/c", b"C")]);
    // An erasure of a blob never stored (or already gone) is no error.
    let r2 = vec!["blobs/a".to_owned(), "blobs/never".to_owned()];
    w.commit(&batch(1, 2, &c2, &f2, &r2)).expect("2");

    let changes = |w: &mut PgRegister, s| w.changes_between(s, None).expect("changes");
    let names = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        changes(&mut w, 0),
        Changes {
            added: names(&["blobs/b", "blobs/c"]),
            removed: names(&["blobs/a", "blobs/never"])
        }
    );
    assert_eq!(
        changes(&mut w, 1),
        Changes {
            added: names(&["blobs/c"]),
            removed: names(&["blobs/a", "blobs/never"])
        }
    );
    assert_eq!(changes(&mut w, 2), Changes::default());
    // The erased blob is gone for readers too.
    assert_eq!(
        sijil_register::audit::Source::get(&w, "blobs/a").expect("read"),
        None
    );

    // Stored again by a later batch (the same text named again): present, so no longer
    // listed as removed; the batches up to 2 alone still say it was removed.
    let c3 = cp(3, "3");
    let f3 = files(&[("blobs/a", b"A")]);
    w.commit(&batch(2, 3, &c3, &f3, &[])).expect("3");
    assert_eq!(
        changes(&mut w, 1),
        Changes {
            added: names(&["blobs/a", "blobs/c"]),
            removed: names(&["blobs/never"])
        }
    );
    assert_eq!(
        w.changes_between(1, Some(2)).expect("changes"),
        Changes {
            added: names(&["blobs/c"]),
            removed: names(&["blobs/a", "blobs/never"])
        }
    );

    // A batch that stores a blob and erases it (a text given and erased in one batch), and
    // names an old one again while erasing it: both end absent, as removed.
    let c4 = cp(4, "4");
    let f4 = files(&[
        ("blobs/d", b"D"),
        ("blobs/c", b"C"),
        ("tile/0/000.p/4", b"t"),
    ]);
    let r4 = names(&["blobs/c", "blobs/d"]);
    w.commit(&batch(3, 4, &c4, &f4, &r4)).expect("4");
    assert_eq!(
        w.get_many(&names(&["blobs/c", "blobs/d", "tile/0/000.p/4"]))
            .expect("read"),
        vec![None, None, Some(b"t".to_vec())]
    );
    assert_eq!(
        changes(&mut w, 3),
        Changes {
            added: vec![],
            removed: names(&["blobs/c", "blobs/d"])
        }
    );
}

#[test]
fn different_bytes_at_a_stored_path_are_refused_and_nothing_is_stored() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    let mut w = register(&cluster.url());
    let c1 = cp(1, "1");
    let f1 = files(&[("blobs/x", b"one"), ("tile/0/000.p/1", b"h1")]);
    w.commit(&batch(0, 1, &c1, &f1, &[])).expect("1");

    let c2 = cp(2, "2");
    let f2 = files(&[("tile/0/000.p/2", b"h2"), ("blobs/x", b"two")]);
    let err = w
        .commit(&batch(1, 2, &c2, &f2, &[]))
        .expect_err("other bytes at blobs/x");
    assert!(
        matches!(&err, CommitPointError::Unavailable { message, .. } if message.contains("blobs/x")),
        "{err}"
    );
    assert_eq!(w.latest().expect("latest"), Some(c1));
    assert_eq!(
        w.get_many(&["blobs/x".into(), "tile/0/000.p/2".into()])
            .expect("read"),
        vec![Some(b"one".to_vec()), None]
    );
    assert_eq!(
        column_i64(&cluster, "SELECT size FROM sijil_checkpoints"),
        vec![1]
    );

    // The same path twice in one batch with different bytes: refused before any SQL.
    let f2 = files(&[("blobs/y", b"1"), ("blobs/y", b"2")]);
    let err = w
        .commit(&batch(1, 2, &c2, &f2, &[]))
        .expect_err("blobs/y twice");
    assert!(err.to_string().contains("blobs/y"), "{err}");

    // Erasures remove blobs, never tiles: refused before any SQL.
    let gone = vec!["tile/0/000.p/1".to_owned()];
    let err = w
        .commit(&batch(1, 2, &c2, &[], &gone))
        .expect_err("a tile removed");
    assert!(err.to_string().contains("tile/0/000.p/1"), "{err}");
    assert_eq!(w.get_many(&gone).expect("read"), vec![Some(b"h1".to_vec())]);

    // Identical bytes at a stored path are no conflict (a blob named again).
    let f2 = files(&[("tile/0/000.p/2", b"h2"), ("blobs/x", b"one")]);
    w.commit(&batch(1, 2, &c2, &f2, &[]))
        .expect("identical bytes");
    assert_eq!(w.latest().expect("latest"), Some(c2));
}

#[test]
fn a_restarted_server_is_reconnected_to() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(mut cluster) = cluster(tmp.path()) else {
        return;
    };
    let mut w = register(&cluster.url());
    let c1 = cp(1, "1");
    w.commit(&batch(0, 1, &c1, &[], &[])).expect("1");

    cluster.restart().expect("restart");
    assert_eq!(w.latest().expect("latest after a restart"), Some(c1));

    cluster.restart().expect("restart");
    let c2 = cp(2, "2");
    let f2 = files(&[("blobs/z", b"z")]);
    w.commit(&batch(1, 2, &c2, &f2, &[]))
        .expect("commit after a restart");

    cluster.restart().expect("restart");
    assert_eq!(
        sijil_register::audit::Source::get(&w, "blobs/z").expect("source after a restart"),
        Some(b"z".to_vec())
    );
}

#[test]
fn schema_is_idempotent_versioned_and_holds_settings() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    let r = PgRegister::connect(&cluster.url()).expect("connect");
    assert!(matches!(r.check_schema(), Err(PgError::NoSchema { .. })));
    r.create_schema().expect("create");
    r.create_schema().expect("create again");
    r.check_schema().expect("check");

    assert_eq!(r.setting("publish").expect("read"), None);
    r.set_setting("publish", "s3://bucket/reg").expect("set");
    r.set_setting("publish", "/srv/reg").expect("replace");
    assert_eq!(r.setting("publish").expect("read"), Some("/srv/reg".into()));
    assert!(matches!(
        r.set_setting("schema_version", "9"),
        Err(PgError::ReservedSetting { .. })
    ));

    // A schema of another version is refused, not used.
    cluster
        .client()
        .expect("client")
        .execute(
            "UPDATE sijil_meta SET value = '99' WHERE name = 'schema_version'",
            &[],
        )
        .expect("update");
    for result in [r.check_schema(), r.create_schema()] {
        assert!(
            matches!(&result, Err(PgError::SchemaVersion { found, supported: 1, .. }) if found == "99"),
            "{result:?}"
        );
    }
}

#[test]
fn describe_never_shows_the_password() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    // Trust authentication ignores the password, so the URL connects.
    let url = cluster.url().replace("postgres@", "postgres:hunter2@");
    let w = PgRegister::connect(&url).expect("connect");
    assert_eq!(CommitPoint::describe(&w), cluster.url());
    assert!(!sijil_register::audit::Source::describe(&w).contains("hunter2"));
    let err = PgRegister::connect("postgres://u:hunter2@127.0.0.1:1/x").expect_err("no server");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn a_connection_lost_after_the_compare_and_swap_was_sent_is_an_unknown_outcome() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    let mut w = register(&cluster.url());
    let one = cp(1, "one");
    w.commit(&batch(0, 1, &one, &[], &[])).expect("genesis");

    // Another commit holds the row: the racer's UPDATE is sent and waits on its lock.
    let mut other = cluster.client().expect("client");
    let mut tx = other.transaction().expect("begin");
    tx.execute("SELECT size FROM sijil_log FOR UPDATE", &[])
        .expect("lock");
    let racer = std::thread::spawn(move || {
        let two = cp(2, "two");
        let r = w.commit(&batch(1, 2, &two, &[], &[]));
        (w, r)
    });
    let mut admin = cluster.client().expect("client");
    let mut terminated = false;
    for _ in 0..100 {
        let pids: Vec<i32> = admin
            .query(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                 AND query LIKE '%UPDATE sijil_log%' AND pid <> pg_backend_pid()",
                &[],
            )
            .expect("activity")
            .iter()
            .map(|r| r.get(0))
            .collect();
        if let [pid] = pids[..] {
            admin
                .execute("SELECT pg_terminate_backend($1)", &[&pid])
                .expect("terminate");
            terminated = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(terminated, "the racer's UPDATE never waited on the lock");
    let (mut w, result) = racer.join().expect("thread");
    assert!(
        matches!(result, Err(CommitPointError::Unknown { new_size: 2, .. })),
        "{result:?}"
    );
    tx.rollback().expect("rollback");
    // The writer finds out from the commit point, on a new connection.
    assert_eq!(w.latest().expect("latest"), Some(one));
}

#[test]
fn a_commit_to_a_stopped_server_is_unavailable_and_stores_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(mut cluster) = cluster(tmp.path()) else {
        return;
    };
    let mut w = register(&cluster.url());
    let one = cp(1, "one");
    w.commit(&batch(0, 1, &one, &[], &[])).expect("genesis");
    cluster.stop().expect("stop");
    let two = cp(2, "two");
    let result = w.commit(&batch(1, 2, &two, &[], &[]));
    assert!(
        matches!(&result, Err(CommitPointError::Unavailable { message, .. }) if message.contains("connect")),
        "{result:?}"
    );
    cluster.restart().expect("start again");
    assert_eq!(w.latest().expect("latest"), Some(one));
}

#[test]
fn a_full_tile_replaces_its_partial_tiles_which_are_still_served_from_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(cluster) = cluster(tmp.path()) else {
        return;
    };
    let mut w = register(&cluster.url());
    // Tile 0 of level 0 and bundle 0 as they are at sizes 100, 200 and 256.
    let hashes: Vec<u8> = (0..256 * 32).map(|i| (i % 251) as u8).collect();
    let entries: Vec<Vec<u8>> = (0..256)
        .map(|i| format!("entry {i}").into_bytes())
        .collect();
    let bundle = |n: usize| sijil_core::bundle::encode(&entries[..n]).expect("bundle");
    let (b100, b200, b256) = (bundle(100), bundle(200), bundle(256));

    let c1 = cp(100, "1");
    let f1 = vec![
        ("tile/0/000.p/100".to_owned(), &hashes[..3200]),
        ("tile/entries/000.p/100".to_owned(), &b100[..]),
    ];
    w.commit(&batch(0, 100, &c1, &f1, &[])).expect("1");
    let c2 = cp(200, "2");
    let f2 = vec![
        ("tile/0/000.p/200".to_owned(), &hashes[..6400]),
        ("tile/entries/000.p/200".to_owned(), &b200[..]),
    ];
    w.commit(&batch(100, 200, &c2, &f2, &[])).expect("2");
    // The batch that fills tile 0 (level 0 and bundle) and starts tile 1.
    let c3 = cp(300, "3");
    let f3 = files(&[("tile/0/001.p/44", b"p44"), ("tile/1/000.p/1", b"l1")]);
    let mut f3: Vec<(String, &[u8])> = f3;
    f3.push(("tile/0/000".to_owned(), &hashes[..]));
    f3.push(("tile/entries/000".to_owned(), &b256[..]));
    w.commit(&batch(200, 300, &c3, &f3, &[])).expect("3");

    // Deleted from the table: only the partials of unfinished tiles are left.
    let mut c = cluster.client().expect("client");
    let partials: Vec<String> = c
        .query(
            "SELECT path FROM sijil_files WHERE path LIKE '%.p/%' ORDER BY path",
            &[],
        )
        .expect("query")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(partials, ["tile/0/001.p/44", "tile/1/000.p/1"]);

    // A reader of checkpoint 100 or 200 still gets the bytes it verifies against.
    let asked: Vec<String> = [
        "tile/0/000.p/100",
        "tile/entries/000.p/200",
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/0/001.p/45",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        w.get_many(&asked).expect("read"),
        vec![
            Some(hashes[..3200].to_vec()),
            Some(b200.clone()),
            Some(hashes.clone()),
            Some(b"p44".to_vec()),
            None,
        ]
    );
    assert_eq!(
        sijil_register::audit::Source::get(&w, "tile/entries/000.p/100").expect("read"),
        Some(b100)
    );
}

/// A location that is not a PostgreSQL URL is refused with a message naming it, before any
/// connection (and without its password).
#[test]
fn a_malformed_url_is_refused_with_its_name() {
    for url in [
        "postgres://user:secret@host:notaport/db",
        "postgres://user:secret@host/db?sslmode=bogus",
    ] {
        let e = sijil_postgres::PgRegister::connect(url).expect_err("refused");
        let text = e.to_string();
        assert!(text.contains("host"), "{text}");
        assert!(!text.contains("secret"), "the password is printed: {text}");
    }
}
