//! The view as records, one per key: what a writer keeps on disk so that a batch loads only
//! the cases, controllers, annotations and index keys it touches (issue 9), instead of the
//! view of every case.
//!
//! A whole view gives its records ([`View::head`], [`View::records`]); a writer reads back
//! those a batch needs, with the index's partial trie for the same keys, and makes a
//! *partial* view of them ([`View::from_slice`]). The partial view runs the same rules and the
//! same fold as a whole one (there is one copy of them), and afterwards gives back the
//! records it holds, changed or new, to be written over the old ones. Cases keep their
//! ordinal (their place in order of opening in the whole register), so a controller's list
//! of cases means the same in both.
//!
//! Like the view snapshot, these records are local state, not part of the format contract
//! (docs/FORMAT.md): bincode 2 with the standard configuration, rebuilt from the log whenever
//! they are in doubt.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use sijil_core::entry::CaseLink;
use sijil_core::event::{AmendedField, Event, TextDigest};
use sijil_core::Hash;
use sijil_index::{for_each_subject, Index, IndexKey, KeyLog};

use crate::case::{Annotations, CaseRecord};
use crate::register::{OfficerRecord, RegisterInfo};
use crate::snapshot::check_case;
use crate::view::{ControllerRecord, Partial, State, View};

/// The largest record decoded: a case of many events, a register of many officers.
const RECORD_LIMIT: usize = 64 << 20;

/// What is global to the register: the log's edge, the register, its officers, and the
/// counts a partial view needs to number new cases and keys.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct Head {
    /// The number of entries.
    pub size: u64,
    /// The leaf hash of the last entry.
    pub last_leaf: Hash,
    pub last_recorded_at: i64,
    pub register: Option<RegisterInfo>,
    pub officers: Vec<OfficerRecord>,
    pub last_commitment: Option<u64>,
    /// The number of cases.
    pub cases: u32,
    /// The number of index keys.
    pub keys: u64,
    /// The index's trie root (every batch ends with an `IndexCommitted`, so it is current).
    pub index_root: Hash,
}

impl Head {
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }

    /// # Errors
    /// [`RecordError`] for bytes that are not a head record.
    pub fn from_bytes(bytes: &[u8]) -> Result<Head, RecordError> {
        decode(bytes, "head", "")
    }
}

/// One case as stored: its ordinal, its controller's id and its record (whose controller
/// index is the view's own, replaced on load).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseSlot {
    ordinal: u32,
    controller: Box<str>,
    record: CaseRecord,
}

impl CaseSlot {
    /// # Errors
    /// [`RecordError`] for bytes that are not a case record.
    pub fn from_bytes(bytes: &[u8]) -> Result<CaseSlot, RecordError> {
        let (ordinal, controller, record): (u32, Box<str>, CaseRecord) = decode(bytes, "case", "")?;
        Ok(CaseSlot {
            ordinal,
            controller,
            record,
        })
    }

    pub fn id(&self) -> &str {
        &self.record.id
    }

    /// The id of the case's controller.
    pub fn controller(&self) -> &str {
        &self.controller
    }

    /// The number of the case's events, and the leaf hash of its latest: the case link of
    /// its next event is `(events, head)`.
    pub fn link(&self) -> (u32, Hash) {
        (
            u32::try_from(self.record.timeline.len()).unwrap_or(u32::MAX),
            self.record.head,
        )
    }

    /// The case's place in order of opening in the whole register.
    pub fn ordinal(&self) -> u32 {
        self.ordinal
    }

    /// The seqs of the case's entries, in log order.
    pub fn seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.record.timeline.iter().map(|t| t.seq())
    }

    pub(crate) fn record(&self) -> &CaseRecord {
        &self.record
    }

    /// The log seq of the case's event `n` (0 for the opening one).
    pub fn entry_seq(&self, n: u64) -> Option<u64> {
        let n = usize::try_from(n).ok()?;
        self.record.timeline.get(n).map(|t| t.seq())
    }
}

/// One controller as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerSlot(ControllerRecord);

impl ControllerSlot {
    /// # Errors
    /// [`RecordError`] for bytes that are not a controller record.
    pub fn from_bytes(bytes: &[u8]) -> Result<ControllerSlot, RecordError> {
        decode(bytes, "controller", "").map(ControllerSlot)
    }

    pub fn id(&self) -> &str {
        &self.0.id
    }

    pub(crate) fn record(&self) -> &ControllerRecord {
        &self.0
    }
}

/// Decodes a stored annotation record.
///
/// # Errors
/// [`RecordError`] for bytes that are not one.
pub fn annotations_from_bytes(bytes: &[u8]) -> Result<Annotations, RecordError> {
    decode(bytes, "annotations", "")
}

/// Decodes a stored mini-log record.
///
/// # Errors
/// [`RecordError`] for bytes that are not one.
pub fn key_log_from_bytes(bytes: &[u8]) -> Result<KeyLog, RecordError> {
    decode(bytes, "index key", "")
}

/// The records a batch reads or changes: what its partial view ([`View::from_slice`]) must
/// hold.
#[derive(Clone, Debug, Default)]
pub struct Touched {
    pub cases: BTreeSet<String>,
    pub controllers: BTreeSet<String>,
    pub annotations: BTreeSet<u64>,
    /// Entries whose annotations are read as a range (the log's edge, checked at open).
    pub annotation_range: Option<Range<u64>>,
    pub keys: BTreeSet<IndexKey>,
}

impl Touched {
    /// Adds what an entry, given by its case link and event, reads or changes: its case, the
    /// controller it names, the entry it targets, and the index keys it touches (the index's
    /// own map, `for_each_subject`, so the two never disagree).
    pub fn add(&mut self, case: Option<&CaseLink>, event: &Event) {
        if let Some(link) = case {
            self.cases.insert(link.id.clone());
        }
        match event {
            Event::ComplaintReceived(e) => {
                self.controllers.insert(e.controller.id.clone());
            }
            Event::InspectionOpened(e) => {
                if let Some(o) = &e.opens {
                    self.controllers.insert(o.controller.id.clone());
                }
            }
            Event::Correction(e) => {
                self.annotations.insert(e.target);
            }
            Event::Erasure(e) => {
                self.annotations.insert(e.target);
            }
            Event::Amendment(a) => {
                self.annotations.insert(a.target);
                if let AmendedField::Controller(c) = &a.amend {
                    self.controllers.insert(c.id.clone());
                }
            }
            _ => {}
        }
        for_each_subject(case, event, |s| {
            self.keys.insert(IndexKey::of(&s));
        });
    }
}

/// What a partial view is made of: the head, and the records of the keys a batch touches.
#[derive(Debug)]
pub struct Slice {
    pub head: Head,
    pub cases: Vec<CaseSlot>,
    pub controllers: Vec<ControllerSlot>,
    pub annotations: Vec<(u64, Annotations)>,
    /// A partial index ([`Index::partial`]) over the same keys.
    pub index: Index,
}

/// One record of a view, encoded, with its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Case {
        id: Box<str>,
        bytes: Vec<u8>,
    },
    Controller {
        id: Box<str>,
        bytes: Vec<u8>,
    },
    Annotations {
        seq: u64,
        bytes: Vec<u8>,
    },
    KeyLog {
        key: IndexKey,
        bytes: Vec<u8>,
    },
    /// A redactable text a committed entry names, and that entry's seq (what a server needs
    /// to serve the blob, [`View::text_is_published`]).
    Text {
        digest: TextDigest,
        seq: u64,
    },
}

/// A stored record that does not decode, or does not fit the others.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("writer state: the {what} record {key}: {message}")]
pub struct RecordError {
    pub what: &'static str,
    pub key: String,
    pub message: String,
}

impl View {
    /// The view's head record; `None` unless the index is current (a view at a checkpoint
    /// always is: every checkpoint ends with an `IndexCommitted`).
    pub fn head(&self) -> Option<Head> {
        let s = &self.state;
        let index = &s.index;
        if !index.is_current() {
            return None;
        }
        Some(Head {
            size: s.size,
            last_leaf: s.last_leaf,
            last_recorded_at: s.last_recorded_at,
            register: s.register.clone(),
            officers: s.officers.clone(),
            last_commitment: s.last_commitment,
            cases: u32::try_from(self.case_count()).unwrap_or(u32::MAX),
            keys: index.keys(),
            index_root: index.root(),
        })
    }

    /// Every record the view holds, encoded: all of the register's for a whole view (a
    /// writer's state built once from the log), the loaded and new ones for a partial view
    /// (written back after its batch commits).
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        let s = &self.state;
        let cases = s.cases.iter().enumerate().map(move |(i, c)| {
            let controller = s
                .controllers
                .get(c.controller as usize)
                .map_or("", |c| &c.id);
            // The record's controller index is this view's own: stored as 0, the
            // controller's id beside it says which, so equal cases have equal bytes.
            let record = CaseRecord {
                controller: 0,
                ..c.clone()
            };
            Record::Case {
                id: c.id.clone(),
                bytes: encode(&(self.ordinal(i as u32), controller, &record)),
            }
        });
        let controllers = s.controllers.iter().map(|c| Record::Controller {
            id: c.id.clone(),
            bytes: encode(c),
        });
        let annotations = s.annotations.iter().map(|(seq, a)| Record::Annotations {
            seq: *seq,
            bytes: encode(a),
        });
        let logs = s.index.logs().map(|(key, log)| Record::KeyLog {
            key: *key,
            bytes: encode(log),
        });
        let texts = s.texts.iter().map(|(digest, seq)| Record::Text {
            digest: *digest,
            seq: *seq,
        });
        cases
            .chain(controllers)
            .chain(annotations)
            .chain(logs)
            .chain(texts)
    }

    /// The partial view of `slice`: the rules and the fold of a whole view, over the records
    /// a batch touches (see the module). Applying an entry that touches a case, controller,
    /// annotated entry or index key not in the slice gives wrong results: the caller loads
    /// every key its entries name (`sijil_index::for_each_subject` for the index).
    ///
    /// # Errors
    /// [`RecordError`] for records that do not fit together: a case whose controller is not
    /// in the slice, a record listed twice, a case that breaks the fold's invariants.
    pub fn from_slice(slice: Slice) -> Result<View, RecordError> {
        let Slice {
            head,
            mut cases,
            controllers,
            annotations,
            index,
        } = slice;
        let bad = |what: &'static str, key: &str, message: String| RecordError {
            what,
            key: key.to_owned(),
            message,
        };
        let mut view = View::default();
        let mut controller_index = HashMap::with_capacity(controllers.len());
        let mut controller_records = Vec::with_capacity(controllers.len());
        for (ci, ControllerSlot(c)) in controllers.into_iter().enumerate() {
            if controller_index.insert(c.id.clone(), ci as u32).is_some() {
                return Err(bad("controller", &c.id, "listed twice".into()));
            }
            controller_records.push(c);
        }
        cases.sort_by_key(|c| c.ordinal);
        let mut ordinals = Vec::with_capacity(cases.len());
        let mut case_records = Vec::with_capacity(cases.len());
        for (i, slot) in cases.into_iter().enumerate() {
            let CaseSlot {
                ordinal,
                controller,
                mut record,
            } = slot;
            check_case(&record, head.size).map_err(|m| bad("case", &record.id, m))?;
            if ordinal >= head.cases || ordinals.last().is_some_and(|&o| o >= ordinal) {
                return Err(bad(
                    "case",
                    &record.id,
                    format!(
                        "its ordinal {ordinal} is listed twice or not below the {} cases",
                        head.cases
                    ),
                ));
            }
            record.controller = *controller_index.get(&controller).ok_or_else(|| {
                bad(
                    "case",
                    &record.id,
                    format!("its controller {controller} is not loaded"),
                )
            })?;
            if view
                .case_index
                .insert(record.id.clone(), i as u32)
                .is_some()
            {
                return Err(bad("case", &record.id, "listed twice".into()));
            }
            ordinals.push(ordinal);
            case_records.push(record);
        }
        for (i, o) in head.officers.iter().enumerate() {
            view.officer_index.insert(o.key, i as u32);
        }
        if index.size() != head.size || !index.is_partial() {
            return Err(bad(
                "index",
                "",
                format!(
                    "a partial index of {} entries was expected, for a head of {}",
                    index.size(),
                    head.size
                ),
            ));
        }
        view.controller_index = controller_index;
        view.state = State {
            size: head.size,
            last_leaf: head.last_leaf,
            last_recorded_at: head.last_recorded_at,
            register: head.register,
            officers: head.officers,
            cases: case_records,
            controllers: controller_records,
            annotations: annotations.into_iter().collect(),
            texts: Default::default(),
            index,
            last_commitment: head.last_commitment,
        };
        view.partial = Some(Box::new(Partial {
            ordinals,
            cases: head.cases,
        }));
        Ok(view)
    }

    /// The partial trie of a partial view's index ([`View::from_slice`]), whose changed
    /// nodes a writer stores after its batch; `None` for a whole view.
    pub fn partial_trie_mut(&mut self) -> Option<&mut sijil_index::PartialTrie> {
        self.state.index.partial_trie_mut()
    }

    /// Whether this is a writer's partial view ([`View::from_slice`]).
    pub fn is_partial(&self) -> bool {
        self.partial.is_some()
    }
}

fn encode<T: bincode::Encode>(value: &T) -> Vec<u8> {
    // Encoding into a Vec fails only for a partial index, which is never a record.
    bincode::encode_to_vec(value, bincode::config::standard()).unwrap_or_default()
}

fn decode<T: bincode::Decode<()>>(
    bytes: &[u8],
    what: &'static str,
    key: &str,
) -> Result<T, RecordError> {
    let config = bincode::config::standard().with_limit::<RECORD_LIMIT>();
    let (value, read) = bincode::decode_from_slice(bytes, config).map_err(|e| RecordError {
        what,
        key: key.to_owned(),
        message: e.to_string(),
    })?;
    if read != bytes.len() {
        return Err(RecordError {
            what,
            key: key.to_owned(),
            message: format!("{} bytes after the record", bytes.len() - read),
        });
    }
    Ok(value)
}
