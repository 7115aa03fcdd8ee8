//! The listing `sijil serve` builds from the writer's state at start (issue 11), its rows
//! compacted a chunk of 4,096 at a time as the records come: the same listing as the view's.

use sijil_register::state::StateReader;
use sijil_register::{init, parse_events, InitOptions, RegisterReader, RegisterWriter};

const NOW: i64 = 1_750_000_000_000;

/// `n` complaints against 7 controllers, some with a deadline, as one events file.
fn complaints(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                r#"{{"case":"K-{i:05}","type":"ComplaintReceived","controller":{{"id":"c{c}","name":"C {c}"}},"categories":["privacy"],"received_on":"2024-01-{d:02}"}}"#,
                c = i % 7,
                d = 1 + i % 28,
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn issue11_the_listing_built_from_the_state_is_the_views() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("reg");
    let report = init(
        &dir,
        InitOptions {
            origin: "registre.example.ma/t".into(),
            title: "t".into(),
            authority: "a".into(),
            officer_name: "amina".into(),
            now_ms: NOW,
            log_key: None,
            officer_key: None,
        },
    )
    .expect("init");
    let mut w = RegisterWriter::open(&dir, None).expect("open");
    // Cases over more than one chunk, the last one short.
    w.append(
        parse_events("test", &complaints(5_000)).expect("valid events"),
        &report.officer,
        NOW,
        None,
    )
    .expect("appends");
    drop(w);
    let log = RegisterReader::open(&dir, None).expect("reader");
    let cp = &log.checkpoint().checkpoint;
    let state = StateReader::open(&dir.join("private/state.redb"))
        .expect("opens")
        .at(cp.size, cp.root)
        .expect("reads")
        .expect("of the checkpoint");
    let listing = state.listing().expect("listing");
    assert_eq!(listing.case_count(), 5_000);
    assert_eq!(listing, log.view().listing());
    drop(state);

    // A record that does not decode: the build stops with an error that names it.
    let path = dir.join("private/state.redb");
    let db = redb::Database::open(&path).expect("the state opens for writing");
    let txn = db.begin_write().expect("write");
    {
        let cases: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("cases");
        let mut table = txn.open_table(cases).expect("the cases' table");
        table.insert("K-04100", &b"not a case"[..]).expect("insert");
    }
    txn.commit().expect("commit");
    drop(db);
    let state = StateReader::open(&path)
        .expect("opens")
        .at(cp.size, cp.root)
        .expect("reads")
        .expect("of the checkpoint");
    let e = state.listing().expect_err("a record that does not decode");
    assert!(e.to_string().contains("K-04100"), "{e}");
}
