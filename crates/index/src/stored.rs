//! The index trie stored node by node, for a writer that keeps its state in a key-value store
//! (issue 9): an append reads the nodes on the paths of the keys its batch touches into a
//! [`PartialTrie`] ([`read_partial`]: the trie the keys' [`prove_stored`] proofs give, each
//! node read once), sets the new values, and writes back the nodes that changed
//! ([`PartialTrie::changed_nodes`](crate::PartialTrie::changed_nodes)). A register's first
//! export is [`Trie::stored_nodes`](crate::Trie::stored_nodes).
//!
//! This is the writer's private state, neither published nor signed: what the log commits is
//! the root (docs/FORMAT.md §10.3, §10.4), which the writer keeps in its own metadata with the
//! number of keys. A store that is lost or corrupt is rebuilt from the log; a corrupt one is
//! caught here ([`StoredError`]) or by the proofs' verification against the committed root.
//!
//! # Records
//!
//! One record per node of the trie (docs/FORMAT.md §10.3), under the node's label:
//!
//! - the root, under [`Label::ROOT`], is an inner record; a missing child is [`Label::EMPTY`]
//!   with the EMPTY node's value (`node_hash(EMPTY, H(0x00))`). An empty trie has no record.
//! - an inner node's record holds its two children's labels and **values** (not hashes): a
//!   leaf's value, an inner node's `H(left.hash ‖ right.hash)`. A trie proof gives each
//!   sibling as its label and value (§10.5), so the records of the inner nodes on a key's
//!   path are all its proof needs: the siblings, and where the search ends, are in them.
//!   A child's hash is `node_hash(label, value)`.
//! - a leaf's record holds its key and value.
//!
//! Nodes are never deleted: keys are never removed from the index, and an insertion that
//! splits an edge adds an inner node above the old node, which keeps its label and record
//! (only its parent's record changes, to name the new node).
//!
//! # Bytes
//!
//! A label, as a store key and inside a record:
//!
//! ```text
//! label = BE16(bits) ‖ the first ceil(bits / 8) label bytes   bits ≤ 256, unused low bits zero
//! EMPTY = BE16(0xffff)                                        (never a store key)
//! ```
//!
//! 2 to 34 bytes; EMPTY is set apart because it has 0 bits like the root. A record:
//!
//! ```text
//! leaf  = 0x00 ‖ key (32) ‖ value (32)                                   65 bytes
//! inner = 0x01 ‖ label(left) ‖ value(left) (32) ‖ label(right) ‖ value(right) (32)
//! ```
//!
//! Decoding ([`StoredNode::from_bytes`], [`Label::from_key_bytes`]) reads a file that may be
//! corrupt: it bounds every length, rejects an unknown tag, a label longer than 256 bits or
//! with bits set after its length, and trailing bytes, with an error that says which and at
//! which byte ([`NodeDecodeError`]); it never panics. Whether the labels fit together (a
//! child continues its parent's label on its side) is checked where the parent's label is
//! known, by [`prove_stored`].

use std::collections::HashMap;
use std::convert::Infallible;
use std::hash::BuildHasher;

use crate::partial::Known;
use crate::trie::{
    empty_root, empty_value, inner_value, node_hash, Label, LabelError, ProofNode, Sha256Hash,
};
use crate::{PartialTrie, TrieProof};

/// One node of the trie as the store holds it, under its label (see the module).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredNode {
    /// An inner node, or the root: its children's labels (left continues the node's label
    /// with bit 0, right with bit 1) and their values, so that a proof of any key below
    /// reads its siblings here and not in their own records.
    Inner {
        children: [Label; 2],
        values: [[u8; 32]; 2],
    },
    /// A key and its value (docs/FORMAT.md §10.2).
    Leaf { key: [u8; 32], value: [u8; 32] },
}

const TAG_LEAF: u8 = 0x00;
const TAG_INNER: u8 = 0x01;
/// The bit length that stands for [`Label::EMPTY`], which has 0 bits like the root.
const EMPTY_BITS: u16 = 0xffff;

impl StoredNode {
    /// The record's bytes (see the module).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            StoredNode::Leaf { key, value } => {
                let mut out = Vec::with_capacity(65);
                out.push(TAG_LEAF);
                out.extend_from_slice(key);
                out.extend_from_slice(value);
                out
            }
            StoredNode::Inner { children, values } => {
                let mut out = Vec::with_capacity(1 + 2 * (34 + 32));
                out.push(TAG_INNER);
                for (label, value) in children.iter().zip(values) {
                    write_label(label, &mut out);
                    out.extend_from_slice(value);
                }
                out
            }
        }
    }

    /// Reads a record written by [`StoredNode::to_bytes`].
    ///
    /// # Errors
    /// [`NodeDecodeError::Truncated`] for a record that ends early,
    /// [`NodeDecodeError::BadTag`] for an unknown first byte, [`NodeDecodeError::BadLabel`]
    /// for a child label that is not one, [`NodeDecodeError::Trailing`] for bytes after the
    /// record's end.
    pub fn from_bytes(bytes: &[u8]) -> Result<StoredNode, NodeDecodeError> {
        let mut r = Cursor { bytes, at: 0 };
        let node = match r.take::<1>("tag")?[0] {
            TAG_LEAF => StoredNode::Leaf {
                key: r.take("leaf key")?,
                value: r.take("leaf value")?,
            },
            TAG_INNER => {
                let left = r.label()?;
                let left_value = r.take("left child's value")?;
                let right = r.label()?;
                let right_value = r.take("right child's value")?;
                StoredNode::Inner {
                    children: [left, right],
                    values: [left_value, right_value],
                }
            }
            tag => return Err(NodeDecodeError::BadTag { tag }),
        };
        r.end()?;
        Ok(node)
    }
}

impl Label {
    /// The label as a store key: `BE16(bits) ‖ prefix bytes`, EMPTY as `BE16(0xffff)` (see
    /// [`crate::stored`]).
    pub fn to_key_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 + self.prefix_bytes().len());
        write_label(self, &mut out);
        out
    }

    /// Reads a label written by [`Label::to_key_bytes`].
    ///
    /// # Errors
    /// [`NodeDecodeError::Truncated`], [`NodeDecodeError::BadLabel`] or
    /// [`NodeDecodeError::Trailing`], as [`StoredNode::from_bytes`].
    pub fn from_key_bytes(bytes: &[u8]) -> Result<Label, NodeDecodeError> {
        let mut r = Cursor { bytes, at: 0 };
        let label = r.label()?;
        r.end()?;
        Ok(label)
    }
}

fn write_label(label: &Label, out: &mut Vec<u8>) {
    if *label == Label::EMPTY {
        out.extend_from_slice(&EMPTY_BITS.to_be_bytes());
        return;
    }
    out.extend_from_slice(&label.bits().to_be_bytes());
    out.extend_from_slice(label.prefix_bytes());
}

/// Reads a record from the front, bounding every length.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], NodeDecodeError> {
        let slice = self.take_slice(what, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn take_slice(&mut self, what: &'static str, n: usize) -> Result<&[u8], NodeDecodeError> {
        let rest = &self.bytes[self.at..];
        if rest.len() < n {
            return Err(NodeDecodeError::Truncated {
                what,
                at: self.at,
                need: n,
                left: rest.len(),
            });
        }
        let slice = &rest[..n];
        self.at += n;
        Ok(slice)
    }

    fn label(&mut self) -> Result<Label, NodeDecodeError> {
        let at = self.at;
        let bits = u16::from_be_bytes(self.take("label length")?);
        if bits == EMPTY_BITS {
            return Ok(Label::EMPTY);
        }
        if bits > 256 {
            return Err(NodeDecodeError::BadLabel {
                at,
                source: LabelError::TooLong { bits },
            });
        }
        let prefix = self.take_slice("label bytes", usize::from(bits).div_ceil(8))?;
        Label::from_prefix(bits, prefix).map_err(|source| NodeDecodeError::BadLabel { at, source })
    }

    fn end(&self) -> Result<(), NodeDecodeError> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(NodeDecodeError::Trailing {
                end: self.at,
                len: self.bytes.len(),
            })
        }
    }
}

/// Why bytes are not a stored trie node or label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeDecodeError {
    #[error("stored trie node: {what} at byte {at} needs {need} bytes, {left} are left")]
    Truncated {
        what: &'static str,
        at: usize,
        need: usize,
        left: usize,
    },
    #[error("stored trie node: tag {tag:#04x} is neither 0x00 (leaf) nor 0x01 (inner node)")]
    BadTag { tag: u8 },
    #[error("stored trie node: the label at byte {at}: {source}")]
    BadLabel {
        at: usize,
        #[source]
        source: LabelError,
    },
    #[error("stored trie node: the record ends at byte {end} but {len} bytes were read")]
    Trailing { end: usize, len: usize },
}

/// Where the trie's nodes are read from: the writer's key-value store, or a map in tests.
pub trait NodeSource {
    type Error;

    /// The node stored under `label`; `None` when there is none.
    ///
    /// # Errors
    /// The source's own: the store could not be read, or its record could not be decoded.
    fn node(&self, label: &Label) -> Result<Option<StoredNode>, Self::Error>;
}

impl<S: BuildHasher> NodeSource for HashMap<Label, StoredNode, S> {
    type Error = Infallible;

    fn node(&self, label: &Label) -> Result<Option<StoredNode>, Infallible> {
        Ok(self.get(label).cloned())
    }
}

/// Why a key's proof cannot be read from a [`NodeSource`]: the source failed, or what it
/// holds is not a trie (a corrupt or torn store, to be rebuilt from the log).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoredError<E> {
    #[error("reading trie node {label:?}: {source}")]
    Source {
        label: Label,
        #[source]
        source: E,
    },
    #[error("trie node {label:?} is not in the store, though its parent {parent:?} names it")]
    Missing { label: Label, parent: Label },
    #[error("trie node {label:?} is stored as a leaf, but it has fewer than 256 bits and a key's path goes through it: it must be an inner node")]
    NotInner { label: Label },
    #[error("stored trie node {parent:?} names {child:?} as its child on side {side}, which does not continue its label with bit {side}")]
    BadChild {
        parent: Label,
        side: usize,
        child: Label,
    },
    #[error("the stored root gives the EMPTY node a value that is not the EMPTY node's")]
    EmptyValue,
    #[error("the stored root has two EMPTY children (an empty trie has no root record)")]
    BothEmpty,
    #[error(
        "stored trie node {label:?} does not hash to the value its parent {parent:?} holds for it"
    )]
    ValueMismatch { label: Label, parent: Label },
    #[error("the stored trie's root is {stored}, not the committed index root {committed}")]
    RootMismatch { stored: String, committed: String },
}

/// The proof of `key`'s value, or of its absence, in the trie stored in `source`: the same
/// [`TrieProof`] as [`Trie::prove`](crate::Trie::prove) gives for the whole trie. It reads
/// the root's record and those of the inner nodes on the key's path whose labels are
/// prefixes of the key, nothing else: about log2 of the number of keys.
///
/// Each record read is checked against the record that named it: its children continue its
/// label on their sides (so labels grow at each step and the walk ends), and its children's
/// values hash to the value its parent holds for it.
///
/// # Errors
/// [`StoredError::Source`] when the source fails; [`StoredError::Missing`] for a node its
/// parent names that is not stored; [`StoredError::NotInner`], [`StoredError::BadChild`],
/// [`StoredError::EmptyValue`], [`StoredError::BothEmpty`] or [`StoredError::ValueMismatch`]
/// for records that do not fit together.
pub fn prove_stored<S: NodeSource>(
    source: &S,
    key: &[u8; 32],
) -> Result<TrieProof, StoredError<S::Error>> {
    let Some(root) = read_node(source, Label::ROOT)? else {
        return Ok(TrieProof {
            end: None,
            siblings: vec![],
        });
    };
    let StoredNode::Inner { children, values } = root else {
        return Err(StoredError::NotInner { label: Label::ROOT });
    };
    check_root(&children, &values)?;
    let want = Label::key(key);
    let side = want.bit(0);
    let beside = |label: Label, value: [u8; 32]| {
        (label != Label::EMPTY).then_some(ProofNode { label, value })
    };
    let mut siblings = vec![beside(children[1 - side], values[1 - side])];
    let (mut parent, mut label, mut value) = (Label::ROOT, children[side], values[side]);
    let end = loop {
        if label == Label::EMPTY {
            break None;
        }
        if label.bits() == 256 || !label.is_prefix_of(&want) {
            // A leaf (this key's or another's), or an inner node the key leaves: the search
            // ends here, and the parent's record gave its value.
            break Some(ProofNode { label, value });
        }
        let (children, values) = read_below(source, label, parent, &value)?;
        let side = want.bit(label.bits());
        siblings.push(beside(children[1 - side], values[1 - side]));
        (parent, label, value) = (label, children[side], values[side]);
    };
    siblings.reverse();
    Ok(TrieProof { end, siblings })
}

/// The trie of `len` keys whose root is `root`, as far as the paths of `keys` go, read from
/// `source`: the [`PartialTrie`] that [`PartialTrie::from_proofs`] builds from each key's
/// [`prove_stored`] proof, for a writer's batch (issue 14: the index's reads were a third of
/// a 1,000-event batch's time).
///
/// The keys of a batch share the upper levels of their paths, so each record is read and
/// checked once, not once per key; and where the proofs are each verified against the root
/// again, here the root record is checked against `root` once and every other record against
/// the value its parent holds for it (as [`prove_stored`] does), which is the same chain of
/// hashes from each node to the committed root.
///
/// # Errors
/// As [`prove_stored`], and [`StoredError::RootMismatch`] when the stored root (or its
/// absence, an empty trie) is not `root`.
pub fn read_partial<'a, S: NodeSource>(
    source: &S,
    root: &[u8; 32],
    len: u64,
    keys: impl IntoIterator<Item = &'a [u8; 32]>,
) -> Result<PartialTrie, StoredError<S::Error>> {
    let mismatch = |stored: [u8; 32]| StoredError::RootMismatch {
        stored: hex::encode(stored),
        committed: hex::encode(root),
    };
    let mut known: HashMap<Label, Known> = HashMap::new();
    let Some(root_node) = read_node(source, Label::ROOT)? else {
        let empty = empty_root::<Sha256Hash>();
        return if empty == *root {
            Ok(PartialTrie::from_known(&known, len))
        } else {
            Err(mismatch(empty))
        };
    };
    let StoredNode::Inner { children, values } = root_node else {
        return Err(StoredError::NotInner { label: Label::ROOT });
    };
    check_root(&children, &values)?;
    let stored = node_hash::<Sha256Hash>(&Label::ROOT, &record_value(&children, &values));
    if stored != *root {
        return Err(mismatch(stored));
    }
    expand(&mut known, Label::ROOT, children, values);
    for key in keys {
        let want = Label::key(key);
        let (mut parent, mut label) = (Label::ROOT, children[want.bit(0)]);
        while label != Label::EMPTY && label.bits() < 256 && label.is_prefix_of(&want) {
            let next = match known.get(&label) {
                Some(Known::Expanded(c)) => c[want.bit(label.bits())],
                Some(Known::Value(value)) => {
                    let (children, values) = read_below(source, label, parent, value)?;
                    expand(&mut known, label, children, values);
                    children[want.bit(label.bits())]
                }
                // Not reached: every label on the walk was put here by its parent's record.
                None => return Err(StoredError::Missing { label, parent }),
            };
            (parent, label) = (label, next);
        }
    }
    Ok(PartialTrie::from_known(&known, len))
}

/// An inner record's children: their labels and values.
type Children = ([Label; 2], [[u8; 32]; 2]);

/// The record of `label`, an inner node below the root on a key's path, which its parent's
/// record names with `value`: its children's labels and values, once they fit the label and
/// hash to `value`.
fn read_below<S: NodeSource>(
    source: &S,
    label: Label,
    parent: Label,
    value: &[u8; 32],
) -> Result<Children, StoredError<S::Error>> {
    let node = read_node(source, label)?.ok_or(StoredError::Missing { label, parent })?;
    let StoredNode::Inner { children, values } = node else {
        return Err(StoredError::NotInner { label });
    };
    check_children(&label, &children)?;
    if record_value(&children, &values) != *value {
        return Err(StoredError::ValueMismatch { label, parent });
    }
    Ok((children, values))
}

/// The record of `label` in `source`, its failure named with the label.
fn read_node<S: NodeSource>(
    source: &S,
    label: Label,
) -> Result<Option<StoredNode>, StoredError<S::Error>> {
    source
        .node(&label)
        .map_err(|source| StoredError::Source { label, source })
}

/// An inner record's value: `H(left.hash ‖ right.hash)` of the children it names.
fn record_value(children: &[Label; 2], values: &[[u8; 32]; 2]) -> [u8; 32] {
    inner_value::<Sha256Hash>(
        &node_hash::<Sha256Hash>(&children[0], &values[0]),
        &node_hash::<Sha256Hash>(&children[1], &values[1]),
    )
}

/// Records a checked inner node: its children's labels, and their values where nothing more
/// is known of them.
fn expand(
    known: &mut HashMap<Label, Known>,
    label: Label,
    children: [Label; 2],
    values: [[u8; 32]; 2],
) {
    known.insert(label, Known::Expanded(children));
    for (child, value) in children.into_iter().zip(values) {
        if child != Label::EMPTY {
            known.entry(child).or_insert(Known::Value(value));
        }
    }
}

/// The root's children: each EMPTY with EMPTY's value, or a node on its side; not both EMPTY.
fn check_root<E>(children: &[Label; 2], values: &[[u8; 32]; 2]) -> Result<(), StoredError<E>> {
    if children.iter().all(|c| *c == Label::EMPTY) {
        return Err(StoredError::BothEmpty);
    }
    for (side, (child, value)) in children.iter().zip(values).enumerate() {
        if *child == Label::EMPTY {
            if *value != empty_value::<Sha256Hash>() {
                return Err(StoredError::EmptyValue);
            }
        } else if child.bits() == 0 || child.bit(0) != side {
            return Err(StoredError::BadChild {
                parent: Label::ROOT,
                side,
                child: *child,
            });
        }
    }
    Ok(())
}

/// An inner node's children below the root: each longer than `parent`, continuing it with
/// the bit of its side (never EMPTY, which only the root may have).
fn check_children<E>(parent: &Label, children: &[Label; 2]) -> Result<(), StoredError<E>> {
    for (side, child) in children.iter().enumerate() {
        let fits = child.bits() > parent.bits()
            && parent.is_prefix_of(child)
            && child.bit(parent.bits()) == side;
        if !fits {
            return Err(StoredError::BadChild {
                parent: *parent,
                side,
                child: *child,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
