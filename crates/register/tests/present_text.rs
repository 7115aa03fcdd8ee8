//! An entry's JSON form written directly ([`write_entry_json`], issue 11) is the bytes its
//! `Value` ([`entry_json`]) writes: the API's answers keep their bytes.

mod common;

use common::{append, new_register_titled};
use sijil_core::event::TextDigest;
use sijil_register::present::{entry_json, read_text, write_entry_json, TextState};
use sijil_register::RegisterReader;

#[test]
fn issue11_an_entry_written_directly_is_what_its_value_writes() {
    let (_tmp, dir, officer) = new_register_titled("Registre d'essai", "Autorité \"d'essai\"");
    // The demo's events: every kind, texts, a correction, an amendment and an erasure.
    let demo = include_str!("../../../data/demo/events.jsonl");
    append(&dir, &officer, demo);
    let log = RegisterReader::open(&dir, None).expect("reader");
    let size = log.checkpoint().checkpoint.size;
    let entries = log.entries(0, size).expect("entries");
    assert!(entries.len() > 30);
    let stored = |d: &TextDigest| read_text(log.layout(), d);
    // And each text in each of its states, with characters JSON escapes.
    let states = [
        TextState::Absent,
        TextState::Invalid("digest \"mismatch\"\n".into()),
        TextState::Present("é\u{1}\t\\ \"<>\" \u{2028} 😀".into()),
    ];
    let mut erased = false;
    for se in &entries {
        let mut out = Vec::new();
        write_entry_json(&mut out, se, log.view(), stored).expect("writes");
        let want = entry_json(se, log.view(), stored);
        erased |= !want["erasure"].is_null();
        assert_eq!(
            String::from_utf8_lossy(&out),
            want.to_string(),
            "entry {}",
            se.entry.seq
        );
        for state in &states {
            let text = |_: &TextDigest| state.clone();
            let mut out = Vec::new();
            write_entry_json(&mut out, se, log.view(), text).expect("writes");
            assert_eq!(
                out,
                entry_json(se, log.view(), text).to_string().into_bytes()
            );
        }
    }
    assert!(erased, "an erased entry is among them");
}
