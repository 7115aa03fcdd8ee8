//! The trie proofs a server reads from the writer's state (issue 11): a snapshot keeps the
//! trie's upper nodes it read, and the proofs built through them are those of the full trie.

mod common;

use common::{append, new_register, state_of};
use sijil_index::IndexKey;
use sijil_register::RegisterReader;

#[test]
fn issue11_proofs_through_the_kept_upper_nodes_are_the_tries() {
    // 3,000 cases and their controllers: a trie deeper than the kept levels, so a proof reads
    // kept nodes and nodes from the table.
    let (_tmp, dir, officer) = new_register();
    let events = (0..3_000)
        .map(|i| {
            format!(
                r#"{{"case":"K-{i:05}","type":"ComplaintReceived","controller":{{"id":"c{c}","name":"C {c}"}},"categories":["privacy"],"received_on":"2024-01-02"}}"#,
                c = i % 11,
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    append(&dir, &officer, &events);
    let log = RegisterReader::open(&dir, None).expect("reader");
    let state = state_of(&dir, &log);
    assert_eq!(state.kept_trie_nodes(), 0, "nothing read yet");
    // Each id twice: the second proof reads the upper nodes the first kept. An absent id
    // proves its absence through them too.
    let ids: Vec<String> = (0..3_000)
        .step_by(97)
        .map(|i| format!("K-{i:05}"))
        .chain(["K-99999".to_owned()])
        .collect();
    for round in 0..2 {
        for id in &ids {
            let key = IndexKey::case(id);
            let view = state.case_view(id, [key]).expect("case view");
            assert_eq!(
                view.index().prove(&key),
                log.view().index().prove(&key),
                "{id}, round {round}"
            );
            assert_eq!(view.index().get(&key), log.view().index().get(&key), "{id}");
        }
    }
    let kept = state.kept_trie_nodes();
    // Every proof starts at the root; the kept levels hold at most 2,047 nodes.
    assert!(kept > ids.len() && kept < 2_048, "{kept} nodes kept");
}
