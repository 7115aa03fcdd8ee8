use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;
use crate::trie::TrieHash;
use crate::{PartialTrie, Trie};

fn sha(parts: &[&[u8]]) -> [u8; 32] {
    Sha256Hash::hash(parts)
}

/// How a test names a key: a fresh one, or one beside a key already drawn that leaves it at
/// bit `depth` (its bits after that from `salt`), so that inserting it splits the edge
/// above that key at any depth, down to the last bit.
#[derive(Clone, Debug)]
enum KeySpec {
    Fresh(u32),
    Near { of: usize, depth: u16, salt: u32 },
}

fn key_spec() -> impl Strategy<Value = KeySpec> {
    prop_oneof![
        any::<u32>().prop_map(KeySpec::Fresh),
        (any::<usize>(), 0u16..256, any::<u32>()).prop_map(|(of, depth, salt)| KeySpec::Near {
            of,
            depth,
            salt
        }),
    ]
}

fn realize(spec: &KeySpec, drawn: &[[u8; 32]]) -> [u8; 32] {
    match *spec {
        KeySpec::Fresh(n) => sha(&[b"fresh", &n.to_be_bytes()]),
        KeySpec::Near { of, depth, salt } => {
            let tail = sha(&[b"tail", &salt.to_be_bytes()]);
            let Some(base) = drawn.get(of % drawn.len().max(1)) else {
                return tail;
            };
            let mut key = *base;
            for i in usize::from(depth)..256 {
                let mask = 0x80u8 >> (i % 8);
                let bit = if i == usize::from(depth) {
                    !base[i / 8] & mask
                } else {
                    tail[i / 8] & mask
                };
                key[i / 8] = (key[i / 8] & !mask) | bit;
            }
            key
        }
    }
}

fn realize_all(specs: &[KeySpec], drawn: &mut Vec<[u8; 32]>) -> Vec<[u8; 32]> {
    specs
        .iter()
        .map(|s| {
            let k = realize(s, drawn);
            drawn.push(k);
            k
        })
        .collect()
}

fn whole_trie(keys: &[[u8; 32]]) -> Trie {
    let mut trie = Trie::new();
    for k in keys {
        trie.set(*k, sha(&[b"value", k]));
    }
    trie.rehash();
    trie
}

fn export(trie: &Trie) -> HashMap<Label, StoredNode> {
    let mut map = HashMap::new();
    for (label, node) in trie.stored_nodes() {
        assert!(
            map.insert(label, node).is_none(),
            "{label:?} exported twice"
        );
    }
    map
}

/// A source that lists the labels read.
struct Counting<'a> {
    map: &'a HashMap<Label, StoredNode>,
    read: RefCell<Vec<Label>>,
}

impl NodeSource for Counting<'_> {
    type Error = Infallible;
    fn node(&self, label: &Label) -> Result<Option<StoredNode>, Infallible> {
        self.read.borrow_mut().push(*label);
        self.map.node(label)
    }
}

fn prove<S: NodeSource<Error = Infallible>>(map: &S, key: &[u8; 32]) -> TrieProof {
    match prove_stored(map, key) {
        Ok(p) => p,
        Err(e) => panic!("an exported trie proves key {}: {e}", hex::encode(key)),
    }
}

/// The stored proof of `key` equals the whole trie's, and it read only the root and the
/// inner nodes on the key's path, each once.
fn same_proof(trie: &Trie, map: &HashMap<Label, StoredNode>, key: &[u8; 32]) {
    let source = Counting {
        map,
        read: RefCell::new(Vec::new()),
    };
    let got = prove(&source, key);
    assert_eq!(got, trie.prove(key), "key {}", hex::encode(key));
    let read = source.read.into_inner();
    let want = Label::key(key);
    for (i, label) in read.iter().enumerate() {
        assert!(
            *label == Label::ROOT || (label.bits() < 256 && label.is_prefix_of(&want)),
            "read {label:?}, off key {}'s path",
            hex::encode(key)
        );
        assert!(!read[..i].contains(label), "read {label:?} twice");
    }
    // Every inner node on the path is a sibling's parent: one read per sibling.
    assert_eq!(read.len(), got.siblings.len().max(1));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn stored_proofs_are_the_whole_tries(
        keys in proptest::collection::vec(key_spec(), 0..80),
        probes in proptest::collection::vec(key_spec(), 0..40),
    ) {
        let mut drawn = Vec::new();
        let keys = realize_all(&keys, &mut drawn);
        let trie = whole_trie(&keys);
        let map = export(&trie);
        // One record per leaf, per inner node and the root: the n keys of each side of the
        // root have n - 1 inner nodes above them.
        let sides = [0, 1].iter().filter(|&&b| keys.iter().any(|k| Label::key(k).bit(0) == b)).count();
        let records = if trie.is_empty() { 0 } else { 2 * trie.len() + 1 - sides as u64 };
        prop_assert_eq!(map.len() as u64, records);
        // Probes beside the keys (absent, ending at an inner node or another leaf) and the
        // keys themselves (present).
        let probes = realize_all(&probes, &mut drawn.clone());
        for key in keys.iter().chain(&probes) {
            same_proof(&trie, &map, key);
        }
    }

    #[test]
    fn batches_write_back_exactly_the_nodes_that_changed(
        keys in proptest::collection::vec(key_spec(), 0..40),
        batches in proptest::collection::vec(
            proptest::collection::vec((update(), any::<u8>()), 1..12),
            1..5,
        ),
    ) {
        let mut drawn = Vec::new();
        let keys = realize_all(&keys, &mut drawn);
        let mut whole = whole_trie(&keys);
        let mut map = export(&whole);
        for (round, batch) in batches.iter().enumerate() {
            // Each key once per batch (the last value wins), as a writer's flush sets it.
            let mut sets: Vec<([u8; 32], [u8; 32])> = Vec::new();
            for (u, v) in batch {
                let (key, value) = match u {
                    Update::New(spec) => {
                        let k = realize(spec, &drawn);
                        drawn.push(k);
                        (k, [*v; 32])
                    }
                    Update::Existing(i) if !drawn.is_empty() => {
                        (drawn[i % drawn.len()], [*v; 32])
                    }
                    // Its present value: a set that changes nothing, and writes nothing.
                    Update::Same(i) if !drawn.is_empty() => {
                        let k = drawn[i % drawn.len()];
                        (k, whole.get(&k).unwrap_or([*v; 32]))
                    }
                    _ => continue,
                };
                match sets.iter_mut().find(|(k, _)| *k == key) {
                    Some(s) => s.1 = value,
                    None => sets.push((key, value)),
                }
            }
            let proofs: Vec<([u8; 32], TrieProof)> =
                sets.iter().map(|(k, _)| (*k, prove(&map, k))).collect();
            for (k, p) in &proofs {
                prop_assert_eq!(p, &whole.prove(k));
            }
            let mut partial =
                PartialTrie::from_proofs(&whole.root(), whole.len(), proofs.iter().map(|(k, p)| (k, p)))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            // What a writer reads instead: the same trie, each record read once.
            let source = Counting { map: &map, read: RefCell::new(Vec::new()) };
            let read = read_partial(&source, &whole.root(), whole.len(), sets.iter().map(|(k, _)| k))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&read, &partial, "round {}", round);
            let labels = source.read.into_inner();
            let distinct: HashSet<&Label> = labels.iter().collect();
            prop_assert_eq!(distinct.len(), labels.len(), "a record read twice: {:?}", labels);
            for (k, v) in &sets {
                partial.set(*k, *v).map_err(|e| TestCaseError::fail(e.to_string()))?;
                whole.set(*k, *v);
            }
            whole.rehash();
            prop_assert_eq!(partial.root(), whole.root(), "round {}", round);
            prop_assert_eq!(partial.len(), whole.len());

            let changes = partial.changed_nodes();
            let after = export(&whole);
            let written: HashSet<Label> = changes.iter().map(|(l, _)| *l).collect();
            prop_assert_eq!(written.len(), changes.len(), "a node written twice");
            let differ: HashSet<Label> = after
                .iter()
                .filter(|(l, n)| map.get(l) != Some(n))
                .map(|(l, _)| *l)
                .collect();
            prop_assert_eq!(&written, &differ, "round {}", round);
            prop_assert!(map.keys().all(|l| after.contains_key(l)), "a node was removed");
            map.extend(changes);
            prop_assert_eq!(&map, &after, "round {}", round);
        }
    }
}

#[derive(Clone, Debug)]
enum Update {
    New(KeySpec),
    Existing(usize),
    Same(usize),
}

fn update() -> impl Strategy<Value = Update> {
    prop_oneof![
        3 => key_spec().prop_map(Update::New),
        2 => any::<usize>().prop_map(Update::Existing),
        1 => any::<usize>().prop_map(Update::Same),
    ]
}

fn key(n: u32) -> [u8; 32] {
    sha(&[&n.to_be_bytes()])
}

fn keys(n: u32) -> Vec<[u8; 32]> {
    (0..n).map(key).collect()
}

#[test]
fn an_empty_trie_has_no_record_and_one_key_a_root_beside_empty() {
    let empty = Trie::new();
    assert_eq!(empty.stored_nodes().count(), 0);
    same_proof(&empty, &HashMap::new(), &key(1));

    let one = whole_trie(&keys(1));
    let map = export(&one);
    let side = Label::key(&key(0)).bit(0);
    let Some(StoredNode::Inner { children, values }) = map.get(&Label::ROOT) else {
        panic!("no root record: {map:?}");
    };
    assert_eq!(children[side], Label::key(&key(0)));
    assert_eq!(children[1 - side], Label::EMPTY);
    assert_eq!(values[1 - side], empty_value::<Sha256Hash>());
    assert_eq!(map.len(), 2);
    for n in 0..4 {
        same_proof(&one, &map, &key(n));
    }
}

#[test]
fn the_first_key_of_a_trie_writes_its_root_and_leaf() {
    let mut partial = PartialTrie::from_proofs(
        &Trie::new().root(),
        0,
        [(&key(0), &prove(&HashMap::new(), &key(0)))],
    )
    .expect("the empty trie's proof");
    partial
        .set(key(0), [7; 32])
        .expect("an empty trie takes any key");
    let mut whole = Trie::new();
    whole.insert(key(0), [7; 32]);
    assert_eq!(partial.root(), whole.root());
    let changes: HashMap<Label, StoredNode> = partial.changed_nodes().into_iter().collect();
    assert_eq!(changes, export(&whole));
}

/// A writer's batch: proofs from `map`, then `sets` in order; the partial trie's changes.
fn batch(
    whole: &Trie,
    map: &HashMap<Label, StoredNode>,
    sets: &[([u8; 32], [u8; 32])],
) -> Vec<(Label, StoredNode)> {
    let proofs: Vec<([u8; 32], TrieProof)> =
        sets.iter().map(|(k, _)| (*k, prove(map, k))).collect();
    let mut partial = PartialTrie::from_proofs(
        &whole.root(),
        whole.len(),
        proofs.iter().map(|(k, p)| (k, p)),
    )
    .expect("proofs from an exported trie");
    for (k, v) in sets {
        partial.set(*k, *v).expect("a proven key");
    }
    partial.changed_nodes()
}

#[test]
fn setting_keys_to_their_values_writes_nothing() {
    let whole = whole_trie(&keys(30));
    let map = export(&whole);
    let sets: Vec<_> = (0..30)
        .step_by(7)
        .map(|n| (key(n), sha(&[b"value", &key(n)])))
        .collect();
    assert_eq!(batch(&whole, &map, &sets), vec![]);
}

#[test]
fn a_key_set_twice_in_a_batch_writes_its_path_once_with_the_last_value() {
    let mut whole = whole_trie(&keys(30));
    let map = export(&whole);
    let old = sha(&[b"value", &key(3)]);
    // Changed, then set back: written although it ends as it was.
    let back = batch(&whole, &map, &[(key(3), [1; 32]), (key(3), old)]);
    let labels: HashSet<Label> = back.iter().map(|(l, _)| *l).collect();
    assert_eq!(labels.len(), back.len());
    assert!(labels.contains(&Label::key(&key(3))));
    for (label, node) in &back {
        assert_eq!(
            map.get(label),
            Some(node),
            "{label:?} written with another record"
        );
    }
    let twice = batch(&whole, &map, &[(key(3), [1; 32]), (key(3), [2; 32])]);
    whole.insert(key(3), [2; 32]);
    let after = export(&whole);
    assert_eq!(twice.len(), back.len());
    for (label, node) in &twice {
        assert_eq!(after.get(label), Some(node));
    }
}

/// The labels of the inner nodes a proof of `key` reads, root first.
fn path(map: &HashMap<Label, StoredNode>, key: &[u8; 32]) -> Vec<Label> {
    let source = Counting {
        map,
        read: RefCell::new(Vec::new()),
    };
    prove(&source, key);
    source.read.into_inner()
}

/// A trie deep enough that key 0's path has inner nodes below the root's child.
fn deep() -> (HashMap<Label, StoredNode>, Vec<Label>) {
    let map = export(&whole_trie(&keys(64)));
    let path = path(&map, &key(0));
    assert!(path.len() >= 3, "key 0's path: {path:?}");
    (map, path)
}

fn inner(map: &HashMap<Label, StoredNode>, label: &Label) -> ([Label; 2], [[u8; 32]; 2]) {
    match map.get(label) {
        Some(StoredNode::Inner { children, values }) => (*children, *values),
        other => panic!("{label:?} is {other:?}"),
    }
}

#[test]
fn a_node_missing_from_the_store_is_named() {
    let (mut map, path) = deep();
    let (parent, gone) = (path[path.len() - 2], path[path.len() - 1]);
    map.remove(&gone);
    assert_eq!(
        prove_stored(&map, &key(0)),
        Err(StoredError::Missing {
            label: gone,
            parent
        })
    );
}

#[test]
fn a_leaf_where_an_inner_node_stands_is_refused() {
    let (mut map, path) = deep();
    let leaf = StoredNode::Leaf {
        key: key(0),
        value: [0; 32],
    };
    map.insert(path[1], leaf.clone());
    assert_eq!(
        prove_stored(&map, &key(0)),
        Err(StoredError::NotInner { label: path[1] })
    );
    map.insert(Label::ROOT, leaf);
    assert_eq!(
        prove_stored(&map, &key(0)),
        Err(StoredError::NotInner { label: Label::ROOT })
    );
}

#[test]
fn a_node_that_names_itself_or_a_child_off_its_side_is_refused() {
    let (map, path) = deep();
    let at = path[1];
    let (children, values) = inner(&map, &at);
    let side = Label::key(&key(0)).bit(at.bits());
    // A record naming itself would send a trusting walk round for ever.
    let mut looped = map.clone();
    let mut c = children;
    c[side] = at;
    looped.insert(
        at,
        StoredNode::Inner {
            children: c,
            values,
        },
    );
    assert_eq!(
        prove_stored(&looped, &key(0)),
        Err(StoredError::BadChild {
            parent: at,
            side,
            child: at
        })
    );
    // Its two children swapped: each is on the wrong side.
    let mut swapped = map.clone();
    swapped.insert(
        at,
        StoredNode::Inner {
            children: [children[1], children[0]],
            values: [values[1], values[0]],
        },
    );
    assert!(matches!(
        prove_stored(&swapped, &key(0)),
        Err(StoredError::BadChild { parent, side: 0, .. }) if parent == at
    ));
    // EMPTY below the root.
    let mut empty = map.clone();
    let mut c = children;
    c[1 - side] = Label::EMPTY;
    empty.insert(
        at,
        StoredNode::Inner {
            children: c,
            values,
        },
    );
    assert!(matches!(
        prove_stored(&empty, &key(0)),
        Err(StoredError::BadChild { child, .. }) if child == Label::EMPTY
    ));
    // A root child on the wrong side of the root.
    let mut root = map.clone();
    let (c, v) = inner(&map, &Label::ROOT);
    root.insert(
        Label::ROOT,
        StoredNode::Inner {
            children: [c[1], c[0]],
            values: [v[1], v[0]],
        },
    );
    assert!(matches!(
        prove_stored(&root, &key(0)),
        Err(StoredError::BadChild { parent, side: 0, .. }) if parent == Label::ROOT
    ));
}

#[test]
fn a_root_with_no_child_or_a_wrong_empty_value_is_refused() {
    let mut map = export(&whole_trie(&keys(1)));
    let (children, values) = inner(&map, &Label::ROOT);
    let empty_side = usize::from(children[0] != Label::EMPTY);
    let mut v = values;
    v[empty_side][0] ^= 1;
    map.insert(
        Label::ROOT,
        StoredNode::Inner {
            children,
            values: v,
        },
    );
    assert_eq!(prove_stored(&map, &key(0)), Err(StoredError::EmptyValue));
    map.insert(
        Label::ROOT,
        StoredNode::Inner {
            children: [Label::EMPTY; 2],
            values: [empty_value::<Sha256Hash>(); 2],
        },
    );
    assert_eq!(prove_stored(&map, &key(0)), Err(StoredError::BothEmpty));
}

#[test]
fn a_node_that_does_not_hash_to_its_parents_value_is_named() {
    let (mut map, path) = deep();
    // A torn write: the child's record changed, its parent's did not.
    let (parent, child) = (path[1], path[2]);
    let (children, mut values) = inner(&map, &child);
    values[0][5] ^= 0x40;
    map.insert(child, StoredNode::Inner { children, values });
    assert_eq!(
        prove_stored(&map, &key(0)),
        Err(StoredError::ValueMismatch {
            label: child,
            parent
        })
    );
}

#[test]
fn a_batch_read_refuses_a_store_that_is_not_the_committed_trie() {
    let (mut map, path) = deep();
    let whole = whole_trie(&keys(64));
    let (root, len) = (whole.root(), whole.len());
    let batch = [key(0), key(1), key(2)];
    assert!(read_partial(&map, &root, len, &batch).is_ok());
    // Another root committed (a store left behind by a rewound or another log).
    let other = whole_trie(&keys(65)).root();
    assert_eq!(
        read_partial(&map, &other, len, &batch),
        Err(StoredError::RootMismatch {
            stored: hex::encode(root),
            committed: hex::encode(other)
        })
    );
    // An empty store where a trie was committed, and the reverse.
    assert!(matches!(
        read_partial(&HashMap::new(), &root, len, &batch),
        Err(StoredError::RootMismatch { .. })
    ));
    assert!(matches!(
        read_partial(&map, &Trie::new().root(), 0, &batch),
        Err(StoredError::RootMismatch { .. })
    ));
    assert!(read_partial(&HashMap::new(), &Trie::new().root(), 0, &batch).is_ok());
    // A torn write below the root, as `prove_stored` names it.
    let (parent, child) = (path[1], path[2]);
    let (children, mut values) = inner(&map, &child);
    values[1][0] ^= 1;
    map.insert(child, StoredNode::Inner { children, values });
    assert_eq!(
        read_partial(&map, &root, len, &batch),
        Err(StoredError::ValueMismatch {
            label: child,
            parent
        })
    );
}

#[test]
fn a_failing_source_is_reported_with_the_label_read() {
    struct Broken;
    impl NodeSource for Broken {
        type Error = String;
        fn node(&self, _: &Label) -> Result<Option<StoredNode>, String> {
            Err("disk on fire".into())
        }
    }
    let e = prove_stored(&Broken, &key(0)).expect_err("the source fails");
    assert_eq!(
        e,
        StoredError::Source {
            label: Label::ROOT,
            source: "disk on fire".to_string()
        }
    );
}

// ---- bytes ----

/// A label of `bits` bits taken from `key` (EMPTY for `bits` > 256).
fn label_of(key: &[u8; 32], bits: u16) -> Label {
    if bits > 256 {
        return Label::EMPTY;
    }
    let mut prefix = key[..usize::from(bits).div_ceil(8)].to_vec();
    if let Some(last) = prefix.last_mut() {
        if !bits.is_multiple_of(8) {
            *last &= 0xffu8 << (8 - bits % 8);
        }
    }
    Label::from_prefix(bits, &prefix).expect("a masked prefix")
}

fn stored_node() -> impl Strategy<Value = StoredNode> {
    let label = (any::<[u8; 32]>(), 0u16..=257).prop_map(|(k, b)| label_of(&k, b));
    prop_oneof![
        (any::<[u8; 32]>(), any::<[u8; 32]>())
            .prop_map(|(key, value)| StoredNode::Leaf { key, value }),
        (label.clone(), label, any::<[[u8; 32]; 2]>()).prop_map(|(a, b, values)| {
            StoredNode::Inner {
                children: [a, b],
                values,
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_record_decodes_to_itself_and_every_cut_of_it_is_an_error(node in stored_node()) {
        let bytes = node.to_bytes();
        prop_assert_eq!(StoredNode::from_bytes(&bytes), Ok(node));
        for n in 0..bytes.len() {
            let cut = StoredNode::from_bytes(&bytes[..n]);
            prop_assert!(matches!(cut, Err(NodeDecodeError::Truncated { .. })), "{} bytes: {:?}", n, cut);
        }
        let mut long = bytes.clone();
        long.push(0);
        prop_assert_eq!(
            StoredNode::from_bytes(&long),
            Err(NodeDecodeError::Trailing { end: bytes.len(), len: bytes.len() + 1 })
        );
    }

    #[test]
    fn a_changed_byte_is_an_error_or_another_records_exact_bytes(
        node in stored_node(),
        at in any::<usize>(),
        to in any::<u8>(),
    ) {
        let mut bytes = node.to_bytes();
        let at = at % bytes.len();
        bytes[at] = to;
        // One encoding per record: what decodes re-encodes to the bytes read.
        if let Ok(other) = StoredNode::from_bytes(&bytes) {
            prop_assert_eq!(other.to_bytes(), bytes);
        }
    }

    #[test]
    fn any_bytes_are_an_error_or_a_records_exact_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(node) = StoredNode::from_bytes(&bytes) {
            prop_assert_eq!(node.to_bytes(), bytes.clone());
        }
        if let Ok(label) = Label::from_key_bytes(&bytes) {
            prop_assert_eq!(label.to_key_bytes(), bytes);
        }
    }

    #[test]
    fn a_label_key_decodes_to_itself(k in any::<[u8; 32]>(), bits in 0u16..=257) {
        let label = label_of(&k, bits);
        let bytes = label.to_key_bytes();
        prop_assert_eq!(bytes.len(), 2 + label.prefix_bytes().len());
        prop_assert_eq!(Label::from_key_bytes(&bytes), Ok(label));
        for n in 0..bytes.len() {
            prop_assert!(Label::from_key_bytes(&bytes[..n]).is_err());
        }
    }
}

#[test]
fn the_root_and_empty_have_distinct_keys() {
    assert_eq!(Label::ROOT.to_key_bytes(), vec![0, 0]);
    assert_eq!(Label::EMPTY.to_key_bytes(), vec![0xff, 0xff]);
    assert_eq!(Label::from_key_bytes(&[0, 0]), Ok(Label::ROOT));
    assert_eq!(Label::from_key_bytes(&[0xff, 0xff]), Ok(Label::EMPTY));
}

#[test]
fn the_encoding_is_as_documented() {
    let leaf = StoredNode::Leaf {
        key: [0xaa; 32],
        value: [0xbb; 32],
    };
    let mut want = vec![0x00];
    want.extend([0xaa; 32]);
    want.extend([0xbb; 32]);
    assert_eq!(leaf.to_bytes(), want);
    let inner = StoredNode::Inner {
        children: [label_of(&[0b1010_0000; 32], 3), Label::EMPTY],
        values: [[1; 32], [2; 32]],
    };
    let mut want = vec![0x01, 0x00, 0x03, 0b1010_0000];
    want.extend([1; 32]);
    want.extend([0xff, 0xff]);
    want.extend([2; 32]);
    assert_eq!(inner.to_bytes(), want);
}

#[test]
fn a_bad_tag_or_label_is_an_error_that_says_which() {
    let inner = StoredNode::Inner {
        children: [label_of(&key(1), 9), label_of(&key(2), 256)],
        values: [[1; 32], [2; 32]],
    }
    .to_bytes();
    let leaf = StoredNode::Leaf {
        key: key(1),
        value: key(2),
    }
    .to_bytes();
    for tag in 2..=255u8 {
        for record in [&inner, &leaf] {
            let mut bad = record.clone();
            bad[0] = tag;
            assert_eq!(
                StoredNode::from_bytes(&bad),
                Err(NodeDecodeError::BadTag { tag })
            );
        }
    }
    // Every bit length above 256 but EMPTY's, in either child's place.
    let second = 1 + 2 + 2 + 32;
    for at in [1, second] {
        for bits in 257..EMPTY_BITS {
            let mut bad = inner.clone();
            bad[at..at + 2].copy_from_slice(&bits.to_be_bytes());
            assert_eq!(
                StoredNode::from_bytes(&bad),
                Err(NodeDecodeError::BadLabel {
                    at,
                    source: LabelError::TooLong { bits }
                }),
                "bits {bits} at {at}"
            );
        }
    }
    // A bit set after the label's 9 bits.
    let mut stray = inner.clone();
    stray[4] |= 0x01;
    assert_eq!(
        StoredNode::from_bytes(&stray),
        Err(NodeDecodeError::BadLabel {
            at: 1,
            source: LabelError::StrayBits { bits: 9 }
        })
    );
    assert_eq!(
        StoredNode::from_bytes(&[]),
        Err(NodeDecodeError::Truncated {
            what: "tag",
            at: 0,
            need: 1,
            left: 0
        })
    );
    let msg = StoredNode::from_bytes(&stray)
        .expect_err("stray bits")
        .to_string();
    assert!(
        msg.contains("byte 1") && msg.contains("after its length"),
        "{msg}"
    );
}
