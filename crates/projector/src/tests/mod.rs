//! Tests of the fold: a small builder of signed histories, then one file per concern.

mod clerk;
mod log_keys;
mod prop;
mod queries;
mod rules;
mod snapshot;
mod status;

use ed25519_dalek::SigningKey;
use sijil_core::entry::{Entry, UnsignedEntry};
use sijil_core::event::{
    AuthoritiesNotified, CaseClosed, CaseOpening, Category, ComplaintReceived, ComplianceConfirmed,
    ComplianceDeadlineSet, Controller, Correction, Date, DeadlineExtended, Erasure, Event,
    HearingHeld, InspectionOpened, Officer, OfficerAuthorized, OfficerRevoked, Outcome, PublicKey,
    RegisterOpened, Role, Sanction, SanctionNotified, TextDigest,
};
use sijil_core::{leaf_hash, sha256, Hash};

use crate::{Rejection, View};

pub(crate) const ORIGIN: &str = "registre.example.ma/plaintes";
/// 2023-06-01T09:00:00Z: after every date the tests record as having happened.
pub(crate) const JUNE_1: i64 = 1_685_610_000_000;

pub(crate) fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub(crate) fn pk(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// A date from `YYYY-MM-DD`.
pub(crate) fn d(s: &str) -> Date {
    s.parse().unwrap_or_else(|e| panic!("test date {s}: {e}"))
}

pub(crate) fn digest(s: &str) -> TextDigest {
    TextDigest(sha256(s.as_bytes()))
}

/// A log being written: the entries signed so far and the view they fold into.
pub(crate) struct Log {
    pub(crate) admin: SigningKey,
    pub(crate) clerk: SigningKey,
    pub(crate) entries: Vec<(Entry, Hash)>,
    pub(crate) view: View,
    /// `recorded_at` of the next entry.
    pub(crate) now: i64,
}

impl Log {
    /// A register opened by entry 0 with an admin (key 1) and a clerk (key 2), at `JUNE_1`.
    pub(crate) fn new() -> Log {
        let admin = key(1);
        let clerk = key(2);
        let genesis = genesis(vec![
            officer(&admin, "Amina Admin", Role::Admin),
            officer(&clerk, "Karim Clerk", Role::Clerk),
        ]);
        let mut log = Log {
            admin,
            clerk,
            entries: Vec::new(),
            view: View::new(),
            now: JUNE_1,
        };
        let admin = log.admin.clone();
        log.push_as(&admin, None, genesis)
            .unwrap_or_else(|r| panic!("genesis: {r}"));
        log
    }

    /// The next entry for `event` on `case`, with seq, prev, case link and time from the view.
    pub(crate) fn unsigned(&self, case: Option<&str>, event: Event) -> UnsignedEntry {
        UnsignedEntry {
            seq: self.view.size(),
            prev: self.view.last_leaf_hash(),
            recorded_at: self.now,
            case: case.map(|id| self.view.next_case_link(id)),
            event,
        }
    }

    pub(crate) fn sign(u: UnsignedEntry, key: &SigningKey) -> (Entry, Hash) {
        let (entry, bytes) = Entry::sign(u, key, ORIGIN).unwrap_or_else(|e| panic!("signing: {e}"));
        (entry, leaf_hash(&bytes))
    }

    /// Appends `event`, signed by the admin for the events that need one (register-level
    /// events, Erasure), by the clerk for the other case events. Returns the entry's seq.
    pub(crate) fn push(&mut self, case: Option<&str>, event: Event) -> Result<u64, Rejection> {
        let signer = match crate::required_role(&event) {
            Role::Admin => self.admin.clone(),
            Role::Clerk => self.clerk.clone(),
        };
        self.push_as(&signer, case, event)
    }

    pub(crate) fn push_as(
        &mut self,
        signer: &SigningKey,
        case: Option<&str>,
        event: Event,
    ) -> Result<u64, Rejection> {
        let u = self.unsigned(case, event);
        self.offer(Log::sign(u, signer))
    }

    /// Applies an entry; on a rejection, checks that the view is untouched, that `check`
    /// agrees, and that the unsigned form of the entry is refused the same way.
    pub(crate) fn offer(&mut self, (entry, leaf): (Entry, Hash)) -> Result<u64, Rejection> {
        let before = self.view.clone();
        let checked = self.view.check(&entry);
        let unsigned = UnsignedEntry {
            seq: entry.seq,
            prev: entry.prev,
            recorded_at: entry.recorded_at,
            case: entry.case.clone(),
            event: entry.event.clone(),
        };
        let checked_unsigned = self.view.check_unsigned(&unsigned, &entry.signer);
        let applied = self.view.apply(&entry, leaf);
        assert_eq!(checked, applied, "check and apply disagree");
        if entry.format == sijil_core::entry::FORMAT_V1 {
            assert_eq!(
                checked_unsigned, applied,
                "check_unsigned and apply disagree"
            );
        }
        match applied {
            Ok(()) => {
                self.entries.push((entry.clone(), leaf));
                Ok(entry.seq)
            }
            Err(r) => {
                assert_eq!(self.view, before, "a rejected entry changed the view");
                Err(r)
            }
        }
    }

    /// Opens case `id` for controller `controller` with a complaint received on `on`.
    pub(crate) fn open(&mut self, id: &str, controller: &str, on: &str) -> u64 {
        self.push(Some(id), complaint(controller, on))
            .unwrap_or_else(|r| panic!("opening {id}: {r}"))
    }

    /// Appends an event that must be accepted.
    pub(crate) fn ok(&mut self, case: &str, event: Event) -> u64 {
        self.push(Some(case), event)
            .unwrap_or_else(|r| panic!("{r}"))
    }

    /// Replays this log's entries into a fresh view.
    pub(crate) fn replay(&self) -> Result<View, Rejection> {
        replay(self.entries.iter().map(|(e, h)| (e, *h)))
    }
}

pub(crate) fn replay<'a>(
    entries: impl IntoIterator<Item = (&'a Entry, Hash)>,
) -> Result<View, Rejection> {
    let mut view = View::new();
    for (e, h) in entries {
        view.apply(e, h)?;
    }
    Ok(view)
}

pub(crate) fn officer(key: &SigningKey, name: &str, role: Role) -> Officer {
    Officer {
        key: pk(key),
        name: name.into(),
        role,
    }
}

pub(crate) fn genesis(officers: Vec<Officer>) -> Event {
    Event::RegisterOpened(RegisterOpened {
        origin: ORIGIN.into(),
        title: "Registre des plaintes".into(),
        authority: "Commission nationale".into(),
        log_key: pk(&key(99)),
        officers,
    })
}

pub(crate) fn authorize(key: &SigningKey, name: &str, role: Role) -> Event {
    Event::OfficerAuthorized(OfficerAuthorized {
        officer: officer(key, name, role),
    })
}

pub(crate) fn revoke(key: &SigningKey) -> Event {
    Event::OfficerRevoked(OfficerRevoked {
        key: pk(key),
        reason: "left the authority".into(),
    })
}

pub(crate) fn controller(id: &str) -> Controller {
    Controller {
        id: id.into(),
        name: format!("{} SARL", id.to_uppercase()),
    }
}

pub(crate) fn complaint(controller_id: &str, on: &str) -> Event {
    Event::ComplaintReceived(ComplaintReceived {
        controller: controller(controller_id),
        categories: sijil_core::event::Categories::one(Category::VideoSurveillance),
        received_on: d(on),
        summary: Some(digest("cameras in the changing rooms")),
    })
}

pub(crate) fn inspection_opening(controller_id: &str, on: &str, category: Category) -> Event {
    Event::InspectionOpened(InspectionOpened {
        opened_on: d(on),
        opens: Some(CaseOpening {
            controller: controller(controller_id),
            categories: sijil_core::event::Categories::one(category),
        }),
        scope: None,
    })
}

pub(crate) fn inspection(on: &str) -> Event {
    Event::InspectionOpened(InspectionOpened {
        opened_on: d(on),
        opens: None,
        scope: Some(digest("on site")),
    })
}

pub(crate) fn hearing(on: &str) -> Event {
    Event::HearingHeld(HearingHeld {
        held_on: d(on),
        place: "Rabat".into(),
        summary: None,
    })
}

pub(crate) fn deadline(due: &str) -> Event {
    Event::ComplianceDeadlineSet(ComplianceDeadlineSet {
        due_on: d(due),
        obligations: digest("remove the cameras"),
    })
}

pub(crate) fn extend(due: &str) -> Event {
    Event::DeadlineExtended(DeadlineExtended {
        due_on: d(due),
        reason: None,
    })
}

pub(crate) fn confirmed(on: &str) -> Event {
    Event::ComplianceConfirmed(ComplianceConfirmed {
        confirmed_on: d(on),
        note: None,
    })
}

pub(crate) fn sanction(on: &str, sanction: Sanction) -> Event {
    Event::SanctionNotified(SanctionNotified {
        notified_on: d(on),
        sanction,
        legal_basis: "Loi 09-08, art. 51".into(),
        reasons: Some(digest("no cooperation")),
    })
}

pub(crate) fn authorities(on: &str, names: &[&str]) -> Event {
    Event::AuthoritiesNotified(AuthoritiesNotified {
        notified_on: d(on),
        authorities: names.iter().map(|s| s.to_string()).collect(),
    })
}

pub(crate) fn closed(on: &str, outcome: Outcome) -> Event {
    Event::CaseClosed(CaseClosed {
        closed_on: d(on),
        outcome,
        summary: Some(digest("closed")),
    })
}

pub(crate) fn correction(target: u64) -> Event {
    Event::Correction(Correction {
        target,
        erratum: digest("the hearing was in Fès"),
    })
}

pub(crate) fn erasure(target: u64) -> Event {
    Event::Erasure(Erasure {
        target,
        reason: "Loi 09-08, art. 8 (right to erasure)".into(),
    })
}

#[test]
fn has_text_agrees_with_texts() {
    let events = [
        genesis(vec![]),
        authorize(&key(3), "x", Role::Clerk),
        revoke(&key(3)),
        complaint("a", "2023-01-01"),
        Event::ComplaintReceived(ComplaintReceived {
            controller: controller("a"),
            categories: sijil_core::event::Categories::one(Category::Other),
            received_on: d("2023-01-01"),
            summary: None,
        }),
        inspection_opening("a", "2023-01-01", Category::Other),
        inspection("2023-01-01"),
        hearing("2023-01-01"),
        Event::HearingHeld(HearingHeld {
            held_on: d("2023-01-01"),
            place: "x".into(),
            summary: Some(digest("s")),
        }),
        deadline("2023-01-01"),
        extend("2023-01-01"),
        Event::DeadlineExtended(DeadlineExtended {
            due_on: d("2023-01-01"),
            reason: Some(digest("r")),
        }),
        confirmed("2023-01-01"),
        Event::ComplianceConfirmed(ComplianceConfirmed {
            confirmed_on: d("2023-01-01"),
            note: Some(digest("n")),
        }),
        sanction("2023-01-01", Sanction::Warning),
        Event::SanctionNotified(SanctionNotified {
            notified_on: d("2023-01-01"),
            sanction: Sanction::Warning,
            legal_basis: "x".into(),
            reasons: None,
        }),
        authorities("2023-01-01", &["x"]),
        closed("2023-01-01", Outcome::Dismissed),
        Event::CaseClosed(CaseClosed {
            closed_on: d("2023-01-01"),
            outcome: Outcome::Dismissed,
            summary: None,
        }),
        correction(1),
        erasure(1),
    ];
    for e in &events {
        assert_eq!(
            crate::view::has_text(e),
            !e.texts().is_empty(),
            "{}",
            e.name()
        );
    }
}
