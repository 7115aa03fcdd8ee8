# sijil's pages in English. One message per id; the same ids in ar.ftl and fr.ftl.
# Plurals follow CLDR (English: "one" for 1 only). Numbers are formatted by the server
# (Western digits, thousands grouped with a comma); dates are ISO 8601.

## The frame of every page

skip-to-content = Skip to content
nav-label = Main menu
nav-languages = Language
nav-cases = Cases
nav-controllers = Controllers
nav-stats = Statistics
nav-verify = How to check
footer-checkpoint = This page shows the register at the signed checkpoint of { $n ->
    [one] { $n } entry
   *[other] { $n } entries
}
footer-root = root
footer-checkpoint-link = checkpoint

## Counts

count-cases = { $n ->
    [one] { $n } case
   *[other] { $n } cases
}
count-entries = { $n ->
    [one] { $n } entry
   *[other] { $n } entries
}
count-overdue = { $n } past the deadline
index-covers = { $n ->
    [one] the register's first entry
   *[other] the register's first { $n } entries
}

## Home

home-title = Home
home-intro-1 = This public register lists complaints and inspections about personal data protection, and what followed: hearings, compliance deadlines, sanctions. It holds no personal data of complainants.
home-intro-2 = Each event is signed by the officer who records it and added to a public log that can only be appended to: nothing published there can be changed or removed without anyone being able to notice. You can check it yourself, in your browser or with your own tools.
home-stats-label = Key figures
stat-cases = { $n ->
    [one] case
   *[other] cases
}
stat-open = open
stat-overdue = past the deadline
stat-sanctions = { $n ->
    [one] sanction notified
   *[other] sanctions notified
}
stat-fines = MAD in fines
overdue-judged-on = Lateness judged on { $date }, the day this page was produced.
home-latest = Latest entries in the register
home-latest-note = In the order they were recorded; the date is the event's own.
recorded-on = recorded { $date }
due-on = due on { $date }
home-all-cases = All cases
home-all-stats = All statistics
home-verify-title = Verify
home-verify-text = Each case page has a “Verify” button that checks, in your browser, the register's signature, each event's inclusion in the log and the officer's signature.
home-verify-how = How to check this register

## Statistics and charts

stats-title = Statistics
chart-by-category = Cases by category (a case with several categories counts once under each)
chart-by-status = Cases by status
chart-by-year = Cases by year opened
chart-deadlines = Compliance deadlines: kept or missed
chart-by-sanction = Sanctions notified, by kind
chart-summary = { $name }: { $n } in all.
chart-show-figures = Show the figures
chart-count = Number
deadline-kept = Kept
deadline-missed = Missed
deadline-pending = Not yet due

## Case list

cases-title = Cases
cases-matching = { $n ->
    [one] { $n } matching case
   *[other] { $n } matching cases
}
filter-any = All
filter-controller = Controller (id)
filter-controller-hint = e.g. cafe-atlas
filter-opened-from = Opened from
filter-opened-to = to
filter-submit = Filter
pager-label = Pages
pager-first = ← First page
pager-next = Next →
pager-previous = ← Previous
col-case = Case
col-controller = Controller
col-category = Categories
col-opened = Opened on
col-status = Status
col-deadline = Deadline
col-name = Name
col-id = Id
col-open = Open
badge-overdue = overdue
badge-not-yet-due = not yet due
badge-missed = missed
open-data-label = Open data:
open-data-cases = cases
open-data-events = events
open-data-feed = Atom feed

## A case

case-title = Case { $id }
opened-by-complaint = on a complaint
opened-by-inspection = by an ex officio inspection
fact-controller = Data controller
fact-latest-hearing = Latest hearing
fact-deadline = Compliance deadline
fact-sanction = Sanction
fact-sanction-value = { $sanction } — { $date } ({ $basis })
fact-complied-on = Compliance confirmed on
fact-closed-on = Closed on
fact-decision = Decision
fact-appeal = Appeal
appeal-pending = pending
case-feed-label = Follow this case:
verify-title = Verify this case
verify-text = Your browser checks by itself, without trusting this server: the register's signature on its checkpoint, that the register was not rewritten since your last visit, that the case is complete (the register's signed index), each event's inclusion and signature, each officer's authorization, and the texts. Then it shows only what it verified.
verify-button = Verify
verify-noscript = JavaScript is off: this browser cannot verify this page. You can verify it without a browser, with the sijil command-line tool (URL: this site's address):
verify-key-label = Register public key used
verify-key-text = Compare it with the key the authority publishes, then pin it: this browser keeps it and refuses a site that gives another. You may paste another one.
verify-pin = Pin this key
verify-unpin = Forget the pinned key
verify-witnesses = Witnesses
verify-witnesses-text = Keys of witnesses (c2sp.org/tlog-cosignature) you trust, one per line: their cosignatures of the checkpoint are verified and counted. Quorum: how many are needed (all, if empty).
verify-quorum = Quorum
verify-save = Save
timeline = Timeline
entry-number = No. { $seq }
recorded-by = Recorded { $date } by { $name }
note-corrected-by = Corrected by entry
note-erased = Text erased on { $date } ({ $reason })
note-amended = Amended ({ $field }): { $old } → { $new }, by
link-proof = proof (.tlog-proof)
link-bytes = entry bytes
link-leaf-hash = leaf hash
text-erased = Text erased
text-absent = Text not available on this server
text-invalid = Invalid text: it does not match the signed digest

## An event's facts

row-origin = Origin
row-title = Title
row-authority = Authority
row-officers = Officers
row-officer = Officer
row-key = Key
row-reason = Reason
row-controller = Controller
row-category = Categories
row-received-on = Received on
row-summary = Summary
row-opened-on = Opened on
row-scope = Scope
row-date = Date
row-place = Place
row-due-on = Due on
row-obligations = Obligations
row-new-due-on = New due date
row-confirmed-on = Confirmed on
row-note = Note
row-notified-on = Notified on
row-sanction = Sanction
row-legal-basis = Legal basis
row-reasons = Reasons
row-on = On
row-authorities = Authorities
row-closed-on = Closed on
row-outcome = Outcome
row-corrects = Corrects entry
row-erratum = Erratum
row-erases = Erases the text of entry
row-indexed = Entries indexed
row-keys = Keys
row-index-root = Index root
row-new-log-key = New log key
row-decided-on = Decided on
row-forwarded-on = Forwarded on
row-forwarded-to = Forwarded to
row-suspended-on = Suspended on
row-resumed-on = Resumed on
row-published-on = Published on
row-decision-number = Decision number
row-lodged-on = Lodged on
row-court = Court
row-appellant = Appealed by
row-ruled-on = Ruled on
row-ruling = Ruling
row-reopened-on = Reopened on
row-amends = Amends entry
row-amended-field = Field
row-new-value = New value

## Controllers

controllers-title = Data controllers
controllers-count = { $n ->
    [one] { $n } controller
   *[other] { $n } controllers
}
controller-id = Id:
controller-former-names = Former names:
controller-feed-label = Follow this controller:

## Errors

error-not-found = Not found
error-bad-request = Bad request
error-bad-request-text = The address asked for has a parameter this page does not understand.
error-parameter = Parameter:
error-detail-english = Technical detail:
error-server = Server error
error-server-text = The server could not answer. Try again later.
error-back-home = Back to the home page
error-no-case = No case has the number { $id }.
error-no-controller = No controller has the id { $id }.
error-no-page = There is no page at this address.

## The register's words

status-open = Open
status-under-investigation = Under investigation
status-awaiting-compliance = Awaiting compliance
status-complied = Complied
status-sanctioned = Sanctioned
status-closed = Closed
status-suspended = Proceedings suspended
status-under-appeal = Under appeal
status-reopened = Reopened
status-inadmissible = Inadmissible
status-forwarded = Forwarded to another authority
category-privacy = Privacy
category-image = Image rights
category-identity-theft = Identity theft
category-right-to-erasure = Right to erasure
category-geolocation = Geolocation
category-profiling = Profiling
category-video-surveillance = Video surveillance
category-cross-border-transfer = Cross-border transfer
category-unsolicited-marketing = Unsolicited marketing
category-other = Other
sanction-warning = Warning
sanction-formal-notice = Formal notice
sanction-fine = Fine
sanction-suspension = Suspension
sanction-referral-to-prosecutor = Referral to the prosecutor
sanction-other = Sanction
sanction-fine-amount = Fine ({ $n } MAD)
outcome-complied = Complied
outcome-sanctioned = Sanctioned
outcome-dismissed = Dismissed
outcome-withdrawn = Withdrawn
outcome-referred = Referred
ruling-upheld = Decision upheld
ruling-annulled = Decision annulled
ruling-partially-annulled = Decision partially annulled
ruling-appeal-dismissed = Appeal dismissed
appellant-controller = the data controller
appellant-complainant = the complainant
appellant-other = another party
amended-date = date
amended-due-on = due date
amended-controller = data controller
amended-categories = categories
event-RegisterOpened = Register opened
event-OfficerAuthorized = Officer authorized
event-OfficerRevoked = Officer revoked
event-ComplaintReceived = Complaint received
event-InspectionOpened = Inspection
event-HearingHeld = Hearing
event-ComplianceDeadlineSet = Compliance deadline set
event-DeadlineExtended = Deadline extended
event-ComplianceConfirmed = Compliance confirmed
event-SanctionNotified = Sanction notified
event-AuthoritiesNotified = Authorities notified
event-CaseClosed = Case closed
event-Correction = Correction
event-Erasure = Erasure
event-IndexCommitted = Index committed by the register
event-LogKeyRotated = Register key rotated
event-ComplaintInadmissible = Complaint found inadmissible
event-ComplaintForwarded = Complaint forwarded
event-ProceedingsSuspended = Proceedings suspended
event-ProceedingsResumed = Proceedings resumed
event-DecisionPublished = Decision published
event-AppealLodged = Appeal lodged
event-CourtRuling = Court ruling
event-CaseReopened = Case reopened
event-Amendment = Amendment
event-other = Event

## How to check this register

how-title = How to check this register
how-plain-1 = This site could lie: change a case, hide one, or show each visitor a different version. This register is built so that it would show.
how-plain-2 = Each entry is signed by the officer who made it, then sealed in a log that can only be added to. The authority regularly signs a summary of the whole log. With that summary and a little computing, anyone can make sure a case is the one the authority published, complete, and that nothing was rewritten since.
how-step-1 = Check the register's key once (below): it must be the one the authority publishes elsewhere.
how-step-2 = On a case's page, press “Verify”: your browser redoes the computations and says what it checked.
how-step-3 = To keep a proof, download an event's proof file: it can be checked later, without this site.
how-words-title = The words used
how-term-log = Log
how-term-log-text = The list of every entry, in order. Entries can be added, never changed or removed: that would show.
how-term-checkpoint = Checkpoint
how-term-checkpoint-text = The summary of the log that the authority signs: how many entries it holds, and its root.
how-term-root = Root
how-term-root-text = A number computed from all the entries (a Merkle tree): changing a single entry changes the root.
how-term-digest = Digest (hash)
how-term-digest-text = A short number (SHA-256) computed from a text or an entry: two different contents never have the same digest.
how-term-proof = Proof (.tlog-proof file)
how-term-proof-text = The few digests that link an entry to the signed root: with them, anyone checks that it is in the log without downloading the whole log.
how-term-key = Public key
how-term-key-text = What checks a signature. The register's key checks the checkpoints; each officer has their own.
how-term-witness = Witness
how-term-witness-text = An independent third party that countersigns checkpoints: the register then cannot show each visitor a different version without being caught.
how-key-title = The register's key
how-key-text = Everything rests on this public key. Compare it with the one the authority publishes elsewhere (official journal, another site): if they differ, do not trust this site.
how-browser-title = In your browser
how-browser-text = On each case page, the “Verify” button runs these checks in your browser, with WebCrypto (Ed25519, SHA-256), no library, without trusting the server:
how-b1 = the checkpoint (the Merkle tree's size and root) is signed by the key above;
how-b2 = the register was not rewritten since your last visit: a consistency proof from the last checkpoint this browser saw, and, if you pinned any, the witnesses' cosignatures;
how-b3 = each event of the case is included in that tree (RFC 9162 inclusion proof), and its bytes are decoded in your browser;
how-b4 = the case is complete: the index the register signs in the last entry of every checkpoint proves it has exactly these events, none more, none fewer;
how-b5 = each event is signed by the officer who recorded it (Ed25519);
how-b6 = each text shown matches the digest recorded in the signed event;
how-b7 = each signing officer was authorized, and not revoked, at the event (proved by the index of their key).
how-b8 = The page is then redrawn from the verified events alone; anything else the server showed is flagged. Without a browser, on the command line:
how-offline-title = Offline, for one event
how-offline-text = Each event can be downloaded with its proof in the C2SP tlog-proof format (a .tlog-proof file) and its exact bytes. With the key, anyone can check later, without this site:
how-o1 = the signature of the checkpoint inside the proof;
how-o2 = the inclusion of the event's leaf hash at the index given;
how-o3 = the officer's signature on the event:
how-log-title = The whole log
how-log-text = The log is published in the open C2SP tlog-tiles format: any compatible tool can copy it, recompute the tree and check that no checkpoint contradicts the one before.
how-checkpoint-text = the signed checkpoint ({ $n ->
    [one] { $n } entry
   *[other] { $n } entries
})
how-tiles-text = Hash tiles and entry bundles are immutable; the erasable texts (a 32-byte salt, then the text) are named by their SHA-256; the API gives proofs on demand.

## Feeds

feed-events-title = New events in the register
feed-case-title = Case { $id }: its events
feed-controller-title = { $name }: events of its cases
feed-item-title = { $name } — case { $id }
feed-item-summary = { $name }, case { $id }, on { $date } (entry No. { $seq }). Verifiable on the case's page.
