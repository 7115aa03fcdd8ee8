//! The trie as far as a batch needs it: built from the proofs of the keys the batch touches,
//! it takes their new values and gives the new root (docs/FORMAT.md §10.3), the one the whole
//! [`Trie`](crate::Trie) would give, without holding the other keys.
//!
//! This is the index's half of a writer that keeps its state on disk, one record per key,
//! instead of loading the whole view for every append (issue 9: a 1-event `sijil append` on a
//! register of 10⁶ entries spends most of its time loading a view of every case): it reads
//! the proofs of the keys its batch touches, sets their new mini-log heads here, and signs
//! the root in the batch's `IndexCommitted`. What it never read stays a *pruned* subtree,
//! whose label and value a proof gave, so its hash is known and an insertion beside it needs
//! nothing more. A key whose path enters a pruned subtree was not proven: setting it is
//! refused ([`PartialTrieError::NotProven`]), never guessed.
//!
//! A writer that stores the trie node by node ([`crate::stored`]) reads its batch's partial
//! trie with [`read_partial`](crate::read_partial) (the trie these proofs would give, each
//! stored node read once) and writes back [`PartialTrie::changed_nodes`].

use std::collections::HashMap;

use crate::stored::StoredNode;
use crate::trie::{empty_root, empty_value, inner_value, node_hash, Label, Sha256Hash};
use crate::{TrieError, TrieProof};

/// A node of a partial trie.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Leaf {
        key: [u8; 32],
        value: [u8; 32],
        /// Added or given another value since the trie was built.
        changed: bool,
    },
    Inner {
        label: Label,
        children: Box<[Node; 2]>,
        /// Its value and hash, `None` after a change below it: the root needs the hash, the
        /// parent's record the value, and each is a SHA-256.
        hash: Option<([u8; 32], [u8; 32])>,
        /// Added, or a node below it changed, since the trie was built.
        changed: bool,
    },
    /// A subtree not read: its label and value, as a proof gave them.
    Pruned { label: Label, value: [u8; 32] },
}

/// Why a partial trie cannot be built, or a key set in it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PartialTrieError {
    #[error("the trie proof of key {key} does not verify against the root: {source}")]
    Proof {
        key: String,
        #[source]
        source: TrieError,
    },
    #[error("two trie proofs give node {label:?} two different values (the second: key {key}'s)")]
    Inconsistent { key: String, label: Label },
    #[error("key {key} was not proven: its path enters the subtree {label:?}, which this partial trie did not read")]
    NotProven { key: String, label: Label },
}

/// A trie of which only the paths of proven keys are known (see the module).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartialTrie {
    children: [Option<Node>; 2],
    len: u64,
}

/// What the proofs (or the stored records, [`crate::stored::read_partial`]) tell of one
/// label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Known {
    /// An inner node on a proven path, and its children's labels (EMPTY for none).
    Expanded([Label; 2]),
    /// A node beside a path, or where a search ended: its value.
    Value([u8; 32]),
}

impl PartialTrie {
    /// A trie of `len` keys of which nothing below the root is known: any `set` fails.
    pub fn unknown(len: u64) -> PartialTrie {
        PartialTrie {
            children: [None, None],
            len,
        }
    }

    /// The trie of `len` keys whose root is `root`, as far as `proofs` show it: each proof,
    /// of a key's value or of its absence, is verified against `root`, and the nodes it
    /// names are kept.
    ///
    /// # Errors
    /// [`PartialTrieError::Proof`] for a proof that does not verify against `root`;
    /// [`PartialTrieError::Inconsistent`] for two that give a node two values, which two
    /// verified proofs of one root cannot do short of a SHA-256 collision.
    pub fn from_proofs<'a>(
        root: &[u8; 32],
        len: u64,
        proofs: impl IntoIterator<Item = (&'a [u8; 32], &'a TrieProof)>,
    ) -> Result<PartialTrie, PartialTrieError> {
        let mut known: HashMap<Label, Known> = HashMap::new();
        for (key, proof) in proofs {
            proof
                .verify::<Sha256Hash>(root, key)
                .map_err(|source| PartialTrieError::Proof {
                    key: hex::encode(key),
                    source,
                })?;
            for (label, k) in path_of(key, proof) {
                let merged = match (known.get(&label), k) {
                    (None, k) => k,
                    // A node beside one path may be on another, which knows its children.
                    (Some(&Known::Expanded(c)), Known::Value(_))
                    | (Some(&Known::Value(_)), Known::Expanded(c)) => Known::Expanded(c),
                    (Some(&old), k) if old == k => k,
                    (Some(_), _) => return Err(inconsistent(key, label)),
                };
                known.insert(label, merged);
            }
        }
        Ok(PartialTrie::from_known(&known, len))
    }

    /// The trie of `len` keys as far as `known` tells, checked by whoever filled it: from
    /// verified proofs, or from stored records each checked against its parent's value.
    pub(crate) fn from_known(known: &HashMap<Label, Known>, len: u64) -> PartialTrie {
        let children = match known.get(&Label::ROOT) {
            Some(Known::Expanded(c)) => [build(known, c[0]), build(known, c[1])],
            // No proof, or proofs of an empty trie: nothing known below the root.
            _ => [None, None],
        };
        PartialTrie { children, len }
    }

    /// Sets `key`'s value, adding the key if it is new.
    ///
    /// # Errors
    /// [`PartialTrieError::NotProven`] when the key's path enters a pruned subtree: its
    /// proof was not among those the trie was built from. Nothing is changed then.
    pub fn set(&mut self, key: [u8; 32], value: [u8; 32]) -> Result<(), PartialTrieError> {
        let want = Label::key(&key);
        let slot = &mut self.children[want.bit(0)];
        let set = match slot {
            None => {
                *slot = Some(Node::Leaf {
                    key,
                    value,
                    changed: true,
                });
                Set::Added
            }
            Some(node) => node.upsert(&want, key, value)?,
        };
        if set == Set::Added {
            self.len += 1;
        }
        Ok(())
    }

    /// The nodes to write back to a store that holds the trie node by node
    /// ([`crate::stored`]): every node added or changed since the trie was built, each
    /// once, the root's record first. A key set to the value it had changes nothing; one
    /// set to another value and back within the batch is written anyway. No node is ever
    /// removed: an insertion that splits an edge adds a node above the old one, which keeps
    /// its record.
    pub fn changed_nodes(&mut self) -> Vec<(Label, StoredNode)> {
        let mut out = Vec::new();
        if !self.children.iter().flatten().any(Node::changed) {
            return out;
        }
        let empty = (Label::EMPTY, empty_value::<Sha256Hash>());
        let [l, r] = &mut self.children;
        let [(a, va), (b, vb)] =
            [l, r].map(|c| c.as_mut().map_or(empty, |n| (n.label(), n.value())));
        out.push((
            Label::ROOT,
            StoredNode::Inner {
                children: [a, b],
                values: [va, vb],
            },
        ));
        for node in self.children.iter_mut().flatten() {
            node.changed_nodes(&mut out);
        }
        out
    }

    /// The number of keys.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The root: the whole trie's, with the values set so far.
    pub fn root(&mut self) -> [u8; 32] {
        if self.children.iter().all(Option::is_none) {
            return empty_root::<Sha256Hash>();
        }
        let empty = node_hash::<Sha256Hash>(&Label::EMPTY, &empty_value::<Sha256Hash>());
        let [l, r] = &mut self.children;
        let left = l.as_mut().map_or(empty, Node::hash);
        let right = r.as_mut().map_or(empty, Node::hash);
        node_hash::<Sha256Hash>(&Label::ROOT, &inner_value::<Sha256Hash>(&left, &right))
    }
}

fn inconsistent(key: &[u8; 32], label: Label) -> PartialTrieError {
    PartialTrieError::Inconsistent {
        key: hex::encode(key),
        label,
    }
}

/// The nodes a verified proof of `key` names: each inner node on the key's path with its
/// children's labels, each sibling and the end with its value.
fn path_of(key: &[u8; 32], proof: &TrieProof) -> Vec<(Label, Known)> {
    let mut out = Vec::with_capacity(2 * proof.siblings.len() + 1);
    let mut below = match &proof.end {
        Some(end) => {
            out.push((end.label, Known::Value(end.value)));
            end.label
        }
        None => Label::EMPTY,
    };
    let want = Label::key(key);
    let top = proof.siblings.len();
    for (i, sibling) in proof.siblings.iter().enumerate() {
        let sib = match sibling {
            Some(n) if n.label != Label::EMPTY => {
                out.push((n.label, Known::Value(n.value)));
                n.label
            }
            _ => Label::EMPTY,
        };
        let parent = if i + 1 == top {
            Label::ROOT
        } else {
            Label::common_prefix(&below, &sib)
        };
        // The proof verified: the node below is on the key's side of its parent.
        let children = if want.bit(parent.bits()) == 0 {
            [below, sib]
        } else {
            [sib, below]
        };
        out.push((parent, Known::Expanded(children)));
        below = parent;
    }
    out
}

/// The node of `label` as far as `known` tells; `None` for EMPTY.
fn build(known: &HashMap<Label, Known>, label: Label) -> Option<Node> {
    if label == Label::EMPTY {
        return None;
    }
    Some(match known.get(&label) {
        Some(Known::Expanded([a, b])) => Node::Inner {
            label,
            changed: false,
            // A verified proof names no EMPTY below the root: both children are nodes.
            children: Box::new([
                build(known, *a).unwrap_or(Node::Pruned {
                    label: *a,
                    value: [0; 32],
                }),
                build(known, *b).unwrap_or(Node::Pruned {
                    label: *b,
                    value: [0; 32],
                }),
            ]),
            hash: None,
        },
        Some(Known::Value(value)) if label.bits() == 256 => Node::Leaf {
            key: label_key(&label),
            value: *value,
            changed: false,
        },
        Some(Known::Value(value)) => Node::Pruned {
            label,
            value: *value,
        },
        // Every label a path names has a value or children; not reached.
        None => Node::Pruned {
            label,
            value: [0; 32],
        },
    })
}

fn label_key(label: &Label) -> [u8; 32] {
    let mut key = [0u8; 32];
    key.copy_from_slice(label.prefix_bytes());
    key
}

impl Node {
    fn label(&self) -> Label {
        match self {
            Node::Leaf { key, .. } => Label::key(key),
            Node::Inner { label, .. } | Node::Pruned { label, .. } => *label,
        }
    }

    fn changed(&self) -> bool {
        match self {
            Node::Leaf { changed, .. } | Node::Inner { changed, .. } => *changed,
            Node::Pruned { .. } => false,
        }
    }

    /// The node's value as a proof gives it: a leaf's value, an inner node's
    /// `H(left.hash ‖ right.hash)`.
    fn value(&mut self) -> [u8; 32] {
        match self {
            Node::Leaf { value, .. } | Node::Pruned { value, .. } => *value,
            Node::Inner {
                hash: Some((value, _)),
                ..
            } => *value,
            Node::Inner { children, .. } => {
                let [l, r] = &mut **children;
                inner_value::<Sha256Hash>(&l.hash(), &r.hash())
            }
        }
    }

    fn hash(&mut self) -> [u8; 32] {
        match self {
            Node::Inner {
                hash: Some((_, hash)),
                ..
            } => *hash,
            _ => {
                let value = self.value();
                let h = node_hash::<Sha256Hash>(&self.label(), &value);
                if let Node::Inner { hash, .. } = self {
                    *hash = Some((value, h));
                }
                h
            }
        }
    }

    /// Appends the records of the changed nodes here and below (see
    /// [`PartialTrie::changed_nodes`]); a node that did not change has none below it.
    fn changed_nodes(&mut self, out: &mut Vec<(Label, StoredNode)>) {
        match self {
            Node::Leaf {
                key,
                value,
                changed: true,
            } => out.push((
                Label::key(key),
                StoredNode::Leaf {
                    key: *key,
                    value: *value,
                },
            )),
            Node::Inner {
                label,
                children,
                changed: true,
                ..
            } => {
                let [l, r] = &mut **children;
                let node = StoredNode::Inner {
                    children: [l.label(), r.label()],
                    values: [l.value(), r.value()],
                };
                out.push((*label, node));
                l.changed_nodes(out);
                r.changed_nodes(out);
            }
            _ => {}
        }
    }

    /// Sets `key` (whose label is `want`) in the subtree rooted here.
    fn upsert(
        &mut self,
        want: &Label,
        key: [u8; 32],
        value: [u8; 32],
    ) -> Result<Set, PartialTrieError> {
        match self {
            Node::Leaf {
                key: k, value: v, ..
            } if *k == key && *v == value => Ok(Set::Unchanged),
            Node::Leaf {
                key: k,
                value: v,
                changed,
            } if *k == key => {
                *v = value;
                *changed = true;
                Ok(Set::Replaced)
            }
            Node::Inner {
                label,
                children,
                hash,
                changed,
            } if label.is_prefix_of(want) => {
                let side = want.bit(label.bits());
                let set = children[side].upsert(want, key, value)?;
                if set != Set::Unchanged {
                    *hash = None;
                    *changed = true;
                }
                Ok(set)
            }
            Node::Pruned { label, .. } if label.is_prefix_of(want) => {
                Err(PartialTrieError::NotProven {
                    key: hex::encode(key),
                    label: *label,
                })
            }
            _ => {
                // The key leaves this subtree's path here: a new inner node holds both.
                let common = Label::common_prefix(&self.label(), want);
                let new = Node::Leaf {
                    key,
                    value,
                    changed: true,
                };
                // A placeholder stands in for a moment; it is replaced at once.
                let old = std::mem::replace(
                    self,
                    Node::Pruned {
                        label: common,
                        value,
                    },
                );
                let children = if want.bit(common.bits()) == 0 {
                    [new, old]
                } else {
                    [old, new]
                };
                *self = Node::Inner {
                    label: common,
                    children: Box::new(children),
                    hash: None,
                    changed: true,
                };
                Ok(Set::Added)
            }
        }
    }
}

/// What setting a key did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Set {
    /// It had that value already.
    Unchanged,
    Replaced,
    Added,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Trie;
    use proptest::prelude::*;

    fn key(n: u32) -> [u8; 32] {
        <Sha256Hash as crate::trie::TrieHash>::hash(&[&n.to_be_bytes()])
    }

    /// A trie of `keys` keys, then `updates` (existing keys n < keys, new ones above): the
    /// partial trie from the proofs of the updated keys, before, gives the whole trie's root
    /// after.
    fn same_root(keys: u32, updates: &[(u32, u8)]) {
        let mut whole = Trie::new();
        for n in 0..keys {
            whole.insert(key(n), key(n + 1_000_000));
        }
        let root = whole.root();
        let proven: Vec<([u8; 32], TrieProof)> = updates
            .iter()
            .map(|&(n, _)| (key(n), whole.prove(&key(n))))
            .collect();
        let mut partial =
            PartialTrie::from_proofs(&root, whole.len(), proven.iter().map(|(k, p)| (k, p)))
                .expect("verified proofs build a partial trie");
        assert_eq!(partial.root(), root, "before any change");
        for &(n, v) in updates {
            whole.insert(key(n), [v; 32]);
            partial.set(key(n), [v; 32]).expect("a proven key");
            assert_eq!(partial.root(), whole.root(), "after setting key {n}");
            assert_eq!(partial.len(), whole.len());
        }
    }

    #[test]
    fn small_tries_updated_and_grown_give_the_whole_tries_roots() {
        same_root(0, &[(0, 1)]);
        same_root(0, &[(0, 1), (1, 2), (2, 3)]);
        same_root(1, &[(0, 9)]);
        same_root(1, &[(5, 9)]);
        same_root(2, &[(0, 1), (7, 2)]);
        same_root(50, &[(3, 1), (3, 2), (60, 3), (61, 4), (49, 5)]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_batch_gives_the_whole_tries_root(
            keys in 0u32..300,
            updates in proptest::collection::vec((0u32..400, any::<u8>()), 1..20),
        ) {
            same_root(keys, &updates);
        }
    }

    #[test]
    fn a_key_not_proven_is_refused_and_a_bad_proof_too() {
        let mut whole = Trie::new();
        for n in 0..100 {
            whole.insert(key(n), key(n));
        }
        let root = whole.root();
        let p = whole.prove(&key(7));
        let mut partial =
            PartialTrie::from_proofs(&root, whole.len(), [(&key(7), &p)]).expect("partial");
        // Every other key's path leaves key 7's into a subtree the proof only names, and is
        // refused, unless the proof named that key's leaf itself (a sibling on the path):
        // then it is known whole, and setting it gives the whole trie's root.
        let mut refused = 0;
        let mut expected = whole.clone();
        for n in 8..100 {
            let before = partial.clone();
            match partial.set(key(n), [1; 32]) {
                Err(PartialTrieError::NotProven { .. }) => {
                    refused += 1;
                    assert_eq!(partial, before, "a refused set changes nothing");
                }
                Err(e) => panic!("{e}"),
                Ok(()) => {
                    assert!(
                        p.siblings
                            .iter()
                            .flatten()
                            .any(|s| s.label == Label::key(&key(n))),
                        "key {n} was accepted without its leaf in the proof"
                    );
                    expected.insert(key(n), [1; 32]);
                    assert_eq!(partial.root(), expected.root());
                }
            }
        }
        let named = (8..100)
            .filter(|&n| {
                p.siblings
                    .iter()
                    .flatten()
                    .any(|s| s.label == Label::key(&key(n)))
            })
            .count();
        assert_eq!(
            refused,
            92 - named,
            "every key but the leaves the proof names is refused"
        );
        let mut bad = p.clone();
        if let Some(end) = bad.end.as_mut() {
            end.value[0] ^= 1;
        }
        assert!(matches!(
            PartialTrie::from_proofs(&root, 100, [(&key(7), &bad)]),
            Err(PartialTrieError::Proof { .. })
        ));
    }
}
