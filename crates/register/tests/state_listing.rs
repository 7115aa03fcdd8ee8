//! The listing `sijil serve` builds from the writer's state at start (issue 11), its rows
//! compacted a chunk of 4,096 at a time as the records come: the same listing as the view's.
//! It is built on a thread of its own, behind the reader's open and before its refresh.

mod common;

use std::path::PathBuf;

use common::{append, new_register, state_of};
use sijil_core::note::Signer;
use sijil_register::{RegisterReader, StateBackedReader};

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
    // Cases over more than one chunk, the last one short.
    let (_tmp, dir, _) = register_of(5_000);
    let log = RegisterReader::open(&dir, None).expect("reader");
    let state = state_of(&dir, &log);
    let listing = state.listing().expect("listing");
    assert_eq!(listing.case_count(), 5_000);
    assert_eq!(listing, log.view().listing());
    drop(state);

    // A record that does not decode: the build stops with an error that names it.
    damage(&dir.join("private/state.redb"), "K-04100");
    let state = state_of(&dir, &log);
    let e = state.listing().expect_err("a record that does not decode");
    assert!(e.to_string().contains("K-04100"), "{e}");
}

/// Writes a record that does not decode as case `id`'s in the state at `path`.
fn damage(path: &std::path::Path, id: &str) {
    let db = redb::Database::open(path).expect("the state opens for writing");
    let txn = db.begin_write().expect("write");
    {
        let cases: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("cases");
        let mut table = txn.open_table(cases).expect("the cases' table");
        table.insert(id, &b"not a case"[..]).expect("insert");
    }
    txn.commit().expect("commit");
}

/// A register of `n` complaints (those of [`complaints`]) whose writer has written its state,
/// and its officer.
fn register_of(n: usize) -> (tempfile::TempDir, PathBuf, Signer) {
    let (tmp, dir, officer) = new_register();
    append(&dir, &officer, &complaints(n));
    (tmp, dir, officer)
}

#[test]
fn issue11_the_reader_opens_before_its_listing_is_built() {
    let (_tmp, dir, _) = register_of(300);
    let (release, gate) = std::sync::mpsc::channel();
    let reader = StateBackedReader::open_held(&dir, None, gate)
        .expect("opens")
        .expect("from the writer's state");
    // The build waits for the gate: the reader is open, its checkpoint there, its listing not.
    assert!(reader.listing().get().is_none(), "built before it was let");
    let log = RegisterReader::open(&dir, None).expect("reader");
    assert_eq!(reader.checkpoint().bytes, log.checkpoint().bytes);
    release.send(()).expect("the build waits");
    assert_eq!(
        reader.listing().wait().expect("built"),
        &log.view().listing()
    );
}

#[test]
fn issue11_a_refresh_before_the_listing_is_built_waits_for_it() {
    let (_tmp, dir, officer) = register_of(300);
    let (release, gate) = std::sync::mpsc::channel();
    let mut reader = StateBackedReader::open_held(&dir, None, gate)
        .expect("opens")
        .expect("from the writer's state");
    // New cases, and a case of the listing being built that changes.
    let more = format!(
        "{}\n{}",
        r#"{"case":"K-00007","type":"HearingHeld","held_on":"2024-02-01","place":"Rabat"}"#,
        r#"{"case":"N-1","type":"ComplaintReceived","controller":{"id":"c9","name":"C 9"},"categories":["privacy"],"received_on":"2024-03-01"}"#
    );
    append(&dir, &officer, &more);
    // The refresh starts while the first listing is held: it waits for it, then updates it.
    // The build is let go after the refresh starts (when, only makes it likelier that the
    // refresh is waiting by then; the listing must be right either way).
    let releasing = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        release.send(())
    });
    assert!(
        reader.refresh().expect("refresh"),
        "moved to the new checkpoint"
    );
    releasing
        .join()
        .expect("released")
        .expect("the build waited");
    let log = RegisterReader::open(&dir, None).expect("reader");
    assert_eq!(reader.checkpoint().bytes, log.checkpoint().bytes);
    let listing = reader.listing().get().expect("built").expect("no error");
    assert_eq!(listing.case_count(), 301);
    assert_eq!(listing, &log.view().listing());
}

#[test]
fn issue11_a_listing_that_cannot_be_built_is_an_error_of_the_listing_not_of_the_open() {
    let (_tmp, dir, _) = register_of(300);
    damage(&dir.join("private/state.redb"), "K-00100");
    let reader = StateBackedReader::open(&dir, None)
        .expect("opens: the listing is built after")
        .expect("from the writer's state");
    let e = reader
        .listing()
        .wait()
        .expect_err("a record that does not decode");
    assert!(e.to_string().contains("K-00100"), "{e}");
}
