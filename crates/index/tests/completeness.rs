//! Property tests of the case completeness proof (docs/FORMAT.md §10.5): over random logs,
//! the honest proof verifies, and any dropped, added, reordered, altered or stale entry of a
//! case fails, as does a signer who was not (or no longer) an officer.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use sijil_core::checkpoint::Checkpoint;
use sijil_core::event::{
    Category, ComplaintReceived, Controller, Date, Event, HearingHeld, IndexCommitted, Officer,
    OfficerAuthorized, OfficerRevoked, PublicKey, RegisterOpened, Role,
};
use sijil_core::merkle::{prove_inclusion, tree_hash};
use sijil_core::{leaf_hash, CaseLink, Entry, Hash, MemoryHashes, UnsignedEntry};
use sijil_index::completeness::{self, Completeness, CompletenessError, ProvenEntry};
use sijil_index::{Index, IndexKey};

const ORIGIN: &str = "example.ma/test";

fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn pk(k: &SigningKey) -> PublicKey {
    PublicKey(k.verifying_key().to_bytes())
}

/// A log under construction: its entries, tree, index, and each case's head.
struct Log {
    bytes: Vec<Vec<u8>>,
    hashes: MemoryHashes,
    index: Index,
    heads: Vec<(String, u32, Hash)>,
    log_key: SigningKey,
    /// The index and tree size at each IndexCommitted (a published checkpoint).
    published: Vec<(u64, Index)>,
}

impl Log {
    fn new(officers: &[(&SigningKey, Role)]) -> Log {
        let log_key = key(200);
        let mut log = Log {
            bytes: Vec::new(),
            hashes: MemoryHashes::new(),
            index: Index::new(),
            heads: Vec::new(),
            log_key,
            published: Vec::new(),
        };
        let genesis = Event::RegisterOpened(RegisterOpened {
            origin: ORIGIN.into(),
            title: "t".into(),
            authority: "a".into(),
            log_key: pk(&log.log_key),
            officers: officers
                .iter()
                .enumerate()
                .map(|(i, (k, role))| Officer {
                    key: pk(k),
                    name: format!("officer{i}"),
                    role: *role,
                })
                .collect(),
        });
        log.push(officers[0].0, None, genesis);
        log.commit();
        log
    }

    fn push(&mut self, signer: &SigningKey, case: Option<&str>, event: Event) -> u64 {
        let seq = self.bytes.len() as u64;
        let prev = self.bytes.last().map_or(Hash::ZERO, |b| leaf_hash(b));
        let link = case.map(|id| {
            let at = self.heads.iter().position(|(c, _, _)| c == id);
            let (n, p) = at.map_or((0, Hash::ZERO), |i| (self.heads[i].1, self.heads[i].2));
            CaseLink {
                id: id.into(),
                seq: n,
                prev: p,
            }
        });
        let (entry, bytes) = Entry::sign(
            UnsignedEntry {
                seq,
                prev,
                recorded_at: 1_700_000_000_000,
                case: link,
                event,
            },
            signer,
            ORIGIN,
        )
        .expect("signs");
        let leaf = leaf_hash(&bytes);
        if let Some(id) = case {
            match self.heads.iter_mut().find(|(c, _, _)| c == id) {
                Some(h) => {
                    h.1 += 1;
                    h.2 = leaf;
                }
                None => self.heads.push((id.into(), 1, leaf)),
            }
        }
        self.index.apply(seq, &leaf, &entry).expect("in order");
        self.hashes.append(leaf);
        self.bytes.push(bytes);
        seq
    }

    /// Ends a batch: the log key's IndexCommitted, as the writer appends it.
    fn commit(&mut self) {
        self.index.flush();
        let seq = self.bytes.len() as u64;
        let event = Event::IndexCommitted(IndexCommitted {
            size: seq,
            keys: self.index.keys(),
            root: self.index.root(),
        });
        let log_key = self.log_key.clone();
        self.push(&log_key, None, event);
        self.published.push((seq + 1, self.index.clone()));
    }

    fn checkpoint(&self, size: u64) -> Checkpoint {
        let root = tree_hash(size, &self.hashes).expect("in memory");
        Checkpoint::new(ORIGIN, size, root)
    }

    fn prove(&self, size: u64, seq: u64) -> ProvenEntry {
        ProvenEntry {
            seq,
            bytes: BASE64.encode(&self.bytes[seq as usize]),
            inclusion_proof: prove_inclusion(size, seq, &self.hashes)
                .expect("in tree")
                .iter()
                .map(Hash::to_base64)
                .collect(),
        }
    }

    /// The case answer the server gives for `id` at the published checkpoint number `at`.
    fn answer(&self, at: usize, id: &str) -> (Vec<ProvenEntry>, Completeness, Checkpoint) {
        let (size, index) = &self.published[at];
        let key = IndexKey::case(id);
        let seqs = index.get(&key).map(|l| l.seqs.clone()).unwrap_or_default();
        let entries: Vec<ProvenEntry> = seqs.iter().map(|&s| self.prove(*size, s)).collect();
        let decoded: Vec<Entry> = seqs
            .iter()
            .map(|&s| Entry::decode(&self.bytes[s as usize]).expect("decodes"))
            .collect();
        let signers = completeness::signers_of(&decoded);
        let mut prove = |seq| Ok::<_, ()>(self.prove(*size, seq));
        let c = completeness::build(index, &key, *size, &signers, &mut prove).expect("builds");
        (entries, c, self.checkpoint(*size))
    }
}

fn complaint(n: usize) -> Event {
    Event::ComplaintReceived(ComplaintReceived {
        controller: Controller {
            id: format!("ctl-{}", n % 3),
            name: "C".into(),
        },
        categories: sijil_core::event::Categories::one(Category::Privacy),
        received_on: Date::from_ymd(2023, 1, 2).expect("date"),
        summary: None,
    })
}

fn hearing(day: u32) -> Event {
    Event::HearingHeld(HearingHeld {
        held_on: Date::from_ymd(2023, 2, day).expect("date"),
        place: "Rabat".into(),
        summary: None,
    })
}

/// A random log: `batches` of events over `cases` cases, each event by a random clerk.
fn random_log(plan: &[(usize, usize, bool)]) -> Log {
    let admin = key(1);
    let clerk = key(2);
    let mut log = Log::new(&[(&admin, Role::Admin), (&clerk, Role::Clerk)]);
    let mut opened = Vec::new();
    for (i, &(case, day, end_batch)) in plan.iter().enumerate() {
        let id = format!("2023-{case:04}");
        let signer = if i % 2 == 0 { &admin } else { &clerk };
        if opened.contains(&case) {
            log.push(signer, Some(&id), hearing(1 + (day % 27) as u32));
        } else {
            opened.push(case);
            log.push(signer, Some(&id), complaint(case));
        }
        if end_batch {
            log.commit();
        }
    }
    log.commit();
    log
}

fn verify(
    log: &Log,
    id: &str,
    entries: &[ProvenEntry],
    c: &Completeness,
    cp: &Checkpoint,
) -> Result<(), CompletenessError> {
    completeness::verify_case(id, entries, c, cp, &pk(&log.log_key)).map(drop)
}

fn plan() -> impl Strategy<Value = Vec<(usize, usize, bool)>> {
    prop::collection::vec((0usize..6, 0usize..28, prop::bool::weighted(0.3)), 4..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_honest_proof_verifies_and_every_tampering_fails(plan in plan(), pick in 0usize..6, r in any::<u64>()) {
        let log = random_log(&plan);
        let last = log.published.len() - 1;
        let id = format!("2023-{:04}", pick);
        let (entries, c, cp) = log.answer(last, &id);
        if entries.is_empty() {
            // No such case: the proof of absence verifies; claiming its absence when it has
            // entries would not.
            prop_assert!(completeness::verify_no_case(&id, &c, &cp, &pk(&log.log_key)).is_ok());
            return Ok(());
        }
        prop_assert!(verify(&log, &id, &entries, &c, &cp).is_ok());
        prop_assert!(completeness::verify_no_case(&id, &c, &cp, &pk(&log.log_key)).is_err());

        let n = entries.len();
        let at = (r as usize) % n;
        // Dropped (with or without the seqs list trimmed to match).
        let mut dropped = entries.clone();
        dropped.remove(at);
        prop_assert!(verify(&log, &id, &dropped, &c, &cp).is_err());
        let mut c2 = c.clone();
        if let Some(s) = c2.seqs.as_mut() { s.remove(at); }
        prop_assert!(verify(&log, &id, &dropped, &c2, &cp).is_err());
        // Added: an entry of another case, or a duplicate.
        let other = (0..cp.size - 1).find(|s| !c.seqs.as_ref().is_some_and(|l| l.contains(s)) && *s > 0);
        if let Some(o) = other {
            let mut added = entries.clone();
            added.push(log.prove(cp.size, o));
            prop_assert!(verify(&log, &id, &added, &c, &cp).is_err());
        }
        let mut dup = entries.clone();
        dup.push(entries[at].clone());
        prop_assert!(verify(&log, &id, &dup, &c, &cp).is_err());
        // Reordered.
        if n >= 2 {
            let mut swapped = entries.clone();
            swapped.swap(0, n - 1);
            prop_assert!(verify(&log, &id, &swapped, &c, &cp).is_err());
        }
        // Altered: one byte of an entry.
        let mut altered = entries.clone();
        let mut bytes = BASE64.decode(&altered[at].bytes).expect("base64");
        let i = (r as usize / 7) % bytes.len();
        bytes[i] ^= 1;
        altered[at].bytes = BASE64.encode(&bytes);
        prop_assert!(verify(&log, &id, &altered, &c, &cp).is_err());
        // Stale: the answer of an earlier checkpoint against the latest one, and the latest
        // answer against an earlier checkpoint.
        if last > 0 {
            let (old_entries, old_c, old_cp) = log.answer(last - 1, &id);
            prop_assert!(verify(&log, &id, &old_entries, &old_c, &cp).is_err());
            prop_assert!(verify(&log, &id, &entries, &c, &old_cp).is_err());
        }
    }
}

#[test]
fn a_signer_must_be_an_officer_not_revoked_at_its_entry() {
    let admin = key(1);
    let clerk = key(2);
    let stranger = key(3);
    let mut log = Log::new(&[(&admin, Role::Admin)]);
    log.push(&admin, Some("2023-0001"), complaint(1));
    log.push(
        &admin,
        None,
        Event::OfficerAuthorized(OfficerAuthorized {
            officer: Officer {
                key: pk(&clerk),
                name: "karim".into(),
                role: Role::Clerk,
            },
        }),
    );
    log.push(&clerk, Some("2023-0001"), hearing(3));
    log.commit();
    let (entries, c, cp) = log.answer(1, "2023-0001");
    let case = completeness::verify_case("2023-0001", &entries, &c, &cp, &pk(&log.log_key))
        .expect("authorized signers");
    assert_eq!(case.officers.len(), 2);

    // The clerk is revoked, then signs again: that entry fails, naming the revocation.
    log.push(
        &admin,
        None,
        Event::OfficerRevoked(OfficerRevoked {
            key: pk(&clerk),
            reason: "left".into(),
        }),
    );
    let late = log.push(&clerk, Some("2023-0001"), hearing(4));
    log.commit();
    let (entries, c, cp) = log.answer(2, "2023-0001");
    let err = completeness::verify_case("2023-0001", &entries, &c, &cp, &pk(&log.log_key))
        .expect_err("revoked signer");
    assert!(
        matches!(&err, CompletenessError::Unauthorized { seq, .. } if *seq == late),
        "{err}"
    );
    assert!(err.to_string().contains("revoked"), "{err}");

    // A key never authorized: its officer proof shows no authorization.
    log.push(&stranger, Some("2023-0002"), complaint(2));
    log.commit();
    let (entries, c, cp) = log.answer(3, "2023-0002");
    let err = completeness::verify_case("2023-0002", &entries, &c, &cp, &pk(&log.log_key))
        .expect_err("unknown signer");
    assert!(err.to_string().contains("never authorized"), "{err}");
}

#[test]
fn an_index_commitment_not_signed_by_the_log_key_fails() {
    let admin = key(1);
    let mut log = Log::new(&[(&admin, Role::Admin)]);
    log.push(&admin, Some("2023-0001"), complaint(1));
    log.commit();
    let (entries, c, cp) = log.answer(1, "2023-0001");
    // The verifier is given another log key than the one that signed.
    let err = completeness::verify_case("2023-0001", &entries, &c, &cp, &pk(&admin))
        .expect_err("wrong log key");
    assert!(
        err.to_string().contains("not by the register's log key"),
        "{err}"
    );
}

fn authorize(officer: &SigningKey, name: &str, role: Role) -> Event {
    Event::OfficerAuthorized(OfficerAuthorized {
        officer: Officer {
            key: pk(officer),
            name: name.into(),
            role,
        },
    })
}

/// The authorization of a case entry's signer is traced up to the register's first entry:
/// each OfficerAuthorized on the way must be signed by an admin authorized before it, whose
/// own history the answer carries. A log whose operator added an officer under a clerk's
/// signature (which the writer refuses, but a log key alone could publish) fails.
#[test]
fn each_authorization_on_the_way_was_signed_by_an_admin_authorized_before_it() {
    let (admin, deputy, clerk, forged) = (key(1), key(4), key(5), key(6));
    let mut log = Log::new(&[(&admin, Role::Admin)]);
    log.push(&admin, None, authorize(&deputy, "deputy", Role::Admin));
    log.push(&deputy, None, authorize(&clerk, "clerk", Role::Clerk));
    log.push(&clerk, Some("2023-0001"), complaint(1));
    log.commit();
    let (entries, c, cp) = log.answer(1, "2023-0001");
    let mut proven: Vec<PublicKey> = c.signers.iter().map(|s| s.key).collect();
    proven.sort();
    let mut want = vec![pk(&admin), pk(&deputy), pk(&clerk)];
    want.sort();
    assert_eq!(
        proven, want,
        "the clerk's, the deputy's and the admin's histories"
    );
    let case = completeness::verify_case("2023-0001", &entries, &c, &cp, &pk(&log.log_key))
        .expect("an unbroken chain of admins");
    assert_eq!(case.officers, vec![(pk(&clerk), "clerk".to_string())]);

    // Without the deputy's history, the clerk's authorization is not proven.
    let mut short = c.clone();
    short.signers.retain(|s| s.key != pk(&deputy));
    let err = completeness::verify_case("2023-0001", &entries, &short, &cp, &pk(&log.log_key))
        .expect_err("the deputy's history is missing");
    assert!(err.to_string().contains("no proof for this key"), "{err}");

    // A clerk "authorizes" a new key, which signs a case entry.
    log.push(&clerk, None, authorize(&forged, "forged", Role::Clerk));
    let bad = log.push(&forged, Some("2023-0002"), complaint(2));
    log.commit();
    let (entries, c, cp) = log.answer(2, "2023-0002");
    let err = completeness::verify_case("2023-0002", &entries, &c, &cp, &pk(&log.log_key))
        .expect_err("authorized by a clerk");
    match &err {
        CompletenessError::Unauthorized { seq, signer, why } => {
            assert_eq!(*signer, pk(&clerk), "{err}");
            assert!(*seq < bad && why.contains("not an admin"), "{err}");
        }
        other => panic!("{other}"),
    }

    // An admin revoked before the authorization it signs.
    let mut log = Log::new(&[(&admin, Role::Admin), (&deputy, Role::Admin)]);
    log.push(
        &admin,
        None,
        Event::OfficerRevoked(OfficerRevoked {
            key: pk(&deputy),
            reason: "left".into(),
        }),
    );
    log.push(&deputy, None, authorize(&clerk, "clerk", Role::Clerk));
    log.push(&clerk, Some("2023-0003"), complaint(3));
    log.commit();
    let (entries, c, cp) = log.answer(1, "2023-0003");
    let err = completeness::verify_case("2023-0003", &entries, &c, &cp, &pk(&log.log_key))
        .expect_err("authorized by a revoked admin");
    assert!(err.to_string().contains("revoked by entry 2"), "{err}");
}
