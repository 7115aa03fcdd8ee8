//# allFunctionsCalledOnLoad
// (V8's explicit compile hint, https://v8.dev/blog/explicit-compile-hints: this file's functions
// are compiled while the page loads, off the main thread, not one by one during the first
// verification: about a third of a first Vérifier's time. Browsers without it ignore the comment.)
// sijil — the case page's "Vérifier" button. In the visitor's browser, with WebCrypto only
// (Ed25519, SHA-256) and no library, it checks the whole case against the register's key and
// then shows only what it verified. The checks themselves are in sijil-verify-core.js; this
// file reads the page, remembers what the visitor pinned, and redraws the page. (WebCrypto
// does the cryptography there: crypto.subtle.verify for Ed25519, crypto.subtle.digest.)
//
//  1. the key: the register's verifier key, pinned by the visitor (localStorage, per site)
//     or the one the page gives; a pinned key that differs from the page's fails;
//  2. the checkpoint: signed by that key; consistent (RFC 9162 §2.1.4) with the last one this
//     browser accepted for that key, so a rollback or a split view fails; witness
//     cosignatures (c2sp.org/tlog-cosignature) counted against the witnesses pinned;
//  3. each entry of the case: decoded from its bytes (docs/FORMAT.md §1–§3, canonical only),
//     included in the checkpoint's tree, signed by its officer, in the case's chain;
//  4. the whole case: the log key's IndexCommitted at the checkpoint's last leaf and the
//     case key's trie proof (FORMAT §10) match these entries exactly — none missing, none
//     added;
//  5. the officers: each signer authorized, and not revoked, before its entry, proven by its
//     key's history in the same index;
//  6. the texts: each blob's SHA-256 is the digest inside the signed entry;
//  7. the page: the timeline and the facts are redrawn from the verified entries; anything
//     the server's HTML showed differently is flagged where it was, and fails the check.
"use strict";
(function () {
  function start() {
    const box = document.getElementById("verify-box");
    if (!box) return;
    const core = window.SijilVerifyCore;
    const out = document.getElementById("verify-result");
    const lang = box.dataset.lang === "en" || box.dataset.lang === "ar" ? box.dataset.lang : "fr";
    const en = lang === "en";
    const ar = lang === "ar";
    // Sentences in French, English and Arabic (tests/arabic.test.js checks that each is
    // given); the core's failures carry the three too (`Failure.in(lang)`).
    const t = (fr, eng, arabic) => (en ? eng : ar && arabic !== undefined ? arabic : fr);
    const pick = (s) => (en ? s.en : ar && s.ar ? s.ar : s.fr);
    // A result line in the three languages.
    const say3 = (fr, eng, arabic) => ({ fr, en: eng, ar: arabic });
    // An Arabic count: CLDR's six forms, [zero, one, two, few, many, other], each a
    // function of the number (the digits isolated, so that they read left to right).
    const arRules = typeof Intl !== "undefined" && Intl.PluralRules ? new Intl.PluralRules("ar") : null;
    const arCount = (n, forms) => {
      const i = ["zero", "one", "two", "few", "many", "other"].indexOf(arRules ? arRules.select(n) : "other");
      return forms[i < 0 ? 5 : i](`\u2068${n}\u2069`);
    };
    const arEntries = (n) => arCount(n, [() => "لا قيد", () => "قيد واحد", () => "قيدان", (x) => `${x} قيود`, (x) => `${x} قيدًا`, (x) => `${x} قيد`]);
    // The words of the page (crates/http/locales/*.ftl), as the server put them in the page:
    // the timeline and the facts are redrawn with exactly the server's words.
    let W = {};
    try {
      W = JSON.parse((document.getElementById("verify-words") || {}).textContent || "{}");
    } catch (e) {
      W = {};
    }
    const w = (key, args) => String(W[key] === undefined ? key : W[key]).replace(/\{(\w+)\}/g, (m, k) => (args && args[k] !== undefined ? String(args[k]) : m));
    if (!core) {
      show(out, "fail", t("Le vérificateur n'a pas pu être chargé.", "The verifier could not be loaded.", "تعذّر تحميل أداة التحقق."), []);
      return;
    }
    const { Failure, hex } = core;
    // Numbers, ids, keys and dates inside an Arabic sentence, isolated (FSI…PDI).
    const iso = core.isolate;
    const button = document.getElementById("verify-button");
    const keyInput = document.getElementById("verify-key");
    const served = box.dataset.vkey || keyInput.value;

    // ---- What the visitor pins (localStorage, this site only) ----------------------------

    const store = {
      get(k) {
        try {
          return window.localStorage.getItem(k);
        } catch (e) {
          return null;
        }
      },
      set(k, v) {
        try {
          if (v === null) window.localStorage.removeItem(k);
          else window.localStorage.setItem(k, v);
          return true;
        } catch (e) {
          return false;
        }
      },
      /** Whether storage works here: probed once (a first write opens the site's storage,
       * about a millisecond, so the page probes while idle, not on the visitor's click). */
      works() {
        if (this.ok === undefined) this.ok = this.set("sijil:probe", "1") && this.set("sijil:probe", null);
        return this.ok;
      },
    };
    const PIN = "sijil:verifier-key";
    const WITNESSES = "sijil:witnesses";
    const seenKey = (vkey) => `sijil:checkpoint:${vkey}`;

    const pinState = document.getElementById("verify-pin-state");
    function showPin() {
      const pinned = store.get(PIN);
      if (pinState)
        pinState.textContent = pinned
          ? t("Clé épinglée dans ce navigateur.", "Key pinned in this browser.", "المفتاح مثبّت في هذا المتصفح.")
          : t("Aucune clé épinglée : la clé ci-dessus est celle que donne ce site.", "No key pinned: the key above is the one this site gives.", "لا مفتاح مثبّت: المفتاح أعلاه هو الذي يقدمه هذا الموقع.");
    }
    const pinned0 = store.get(PIN);
    if (pinned0) keyInput.value = pinned0;
    showPin();
    const pinButton = document.getElementById("verify-pin");
    if (pinButton)
      pinButton.addEventListener("click", async () => {
        try {
          const k = await core.parseVerifierKey(keyInput.value);
          store.set(PIN, k.text);
          keyInput.value = k.text;
        } catch (e) {
          if (pinState) pinState.textContent = e instanceof Failure ? e.in(lang) : String(e);
          return;
        }
        showPin();
      });
    const unpinButton = document.getElementById("verify-unpin");
    if (unpinButton)
      unpinButton.addEventListener("click", () => {
        store.set(PIN, null);
        keyInput.value = served;
        showPin();
      });
    const witnessInput = document.getElementById("verify-witnesses");
    const quorumInput = document.getElementById("verify-quorum");
    const witnessState = document.getElementById("verify-witnesses-state");
    function loadWitnesses() {
      try {
        const w = JSON.parse(store.get(WITNESSES) || "null");
        if (w && Array.isArray(w.keys)) return { keys: w.keys.map(String), quorum: Number.isInteger(w.quorum) ? w.quorum : null };
      } catch (e) {
        // A damaged entry counts as none.
      }
      return { keys: [], quorum: null };
    }
    {
      const w = loadWitnesses();
      if (witnessInput) witnessInput.value = w.keys.join("\n");
      if (quorumInput && w.quorum !== null) quorumInput.value = String(w.quorum);
    }
    const saveWitnesses = document.getElementById("verify-witnesses-save");
    if (saveWitnesses)
      saveWitnesses.addEventListener("click", async () => {
        const keys = witnessInput.value.split("\n").map((s) => s.trim()).filter(Boolean);
        try {
          for (const k of keys) await core.parseVerifierKey(k, 4);
        } catch (e) {
          if (witnessState) witnessState.textContent = e instanceof Failure ? e.in(lang) : String(e);
          return;
        }
        const q = quorumInput && quorumInput.value !== "" ? Number(quorumInput.value) : null;
        store.set(WITNESSES, JSON.stringify({ keys, quorum: Number.isInteger(q) && q >= 0 ? q : null }));
        if (witnessState)
          witnessState.textContent = t(`${keys.length} témoin(s) enregistré(s).`, `${keys.length} witness(es) saved.`, `الشهود المحفوظون: ${iso(keys.length)}.`);
      });

    // ---- Words of the register (crates/http/src/pages/labels.rs) -------------------------

    const L = { status: "status", category: "category", sanction: "sanction", outcome: "outcome", event: "event", ruling: "ruling", appellant: "appellant", amended: "amended" };
    const word = (table, k) => (W[`${table}.${k}`] !== undefined ? W[`${table}.${k}`] : table === "event" ? W["event.other"] : k);
    const groupDigits = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, W["number-group"] || "\u00a0");
    const categoriesText = (cs) => cs.map((c) => word(L.category, c)).join(", ");
    /** An amended value as crates/http/src/pages/event.rs (amended_value) writes it. */
    const amendedText = (field, v) => (field === "controller" ? `${v.name} (${v.id})` : field === "categories" ? categoriesText(v) : v);
    const sanctionText = (s) => (s.kind === "fine" ? w("sanction-fine-amount", { n: groupDigits(s.amount_mad) }) : word(L.sanction, s.kind));

    // ---- DOM helpers ------------------------------------------------------------------------

    function el(tag, attrs, ...children) {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) e.setAttribute(k, v);
      for (const c of children) if (c !== null && c !== undefined) e.append(c);
      return e;
    }
    const norm = (s) => s.replace(/\s+/g, " ").trim();
    const textOf = (n) => (n ? norm(n.textContent) : "");
    const hrefs = (n) => (n ? Array.from(n.querySelectorAll("a[href]"), (a) => a.getAttribute("href")).join(" ") : "");
    const idPath = (prefix, id) => `${prefix}/${id.split("/").map((p) => encodeURIComponent(p).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())).join("/")}`;
    const langHref = (p) => (p.includes("?") ? `${p}&lang=${lang}` : `${p}?lang=${lang}`);
    const quote = (s) => (en ? `“${s}”` : ar ? `«${iso(s)}»` : `« ${s} »`);

    // ---- The verified page -----------------------------------------------------------------

    function controllerLink(c) {
      return el("a", { href: langHref(idPath("/responsables", c.id)), dir: "auto" }, c.name);
    }
    /** A text's cell: the verified text, or why there is none. */
    function textCell(digest, texts, erasure) {
      const s = texts.get(hex(digest));
      if (erasure || !s || s.state === "absent") {
        // When and why it was erased is the entry's note, said once.
        if (erasure) return el("span", { class: "erased" }, w("text-erased"));
        return el("span", { class: "erased" }, w("text-absent"));
      }
      if (s.state === "invalid") return el("span", { class: "bad" }, w("text-invalid"));
      return el("span", { class: "text", dir: "auto" }, s.text);
    }
    /** The event's facts as [label, node] rows (crates/http/src/pages/event.rs). */
    function detailRows(entry, texts, erasure) {
      const e = entry.event;
      const rows = [];
      const row = (id, v) => rows.push([w(id), v]);
      const text = (d) => textCell(d, texts, erasure);
      const target = (n) => el("a", { href: `#e${n}` }, w("entry-number", { seq: n }));
      switch (e.type) {
        case "ComplaintReceived":
          row("row-controller", controllerLink(e.controller));
          row("row-category", categoriesText(e.categories));
          row("row-received-on", e.received_on);
          if (e.summary) row("row-summary", text(e.summary));
          break;
        case "InspectionOpened":
          row("row-opened-on", e.opened_on);
          if (e.opens) {
            row("row-controller", controllerLink(e.opens.controller));
            row("row-category", categoriesText(e.opens.categories));
          }
          if (e.scope) row("row-scope", text(e.scope));
          break;
        case "HearingHeld":
          row("row-date", e.held_on);
          row("row-place", e.place);
          if (e.summary) row("row-summary", text(e.summary));
          break;
        case "ComplianceDeadlineSet":
          row("row-due-on", e.due_on);
          row("row-obligations", text(e.obligations));
          break;
        case "DeadlineExtended":
          row("row-new-due-on", e.due_on);
          if (e.reason) row("row-reason", text(e.reason));
          break;
        case "ComplianceConfirmed":
          row("row-confirmed-on", e.confirmed_on);
          if (e.note) row("row-note", text(e.note));
          break;
        case "SanctionNotified":
          row("row-notified-on", e.notified_on);
          row("row-sanction", sanctionText(e.sanction));
          row("row-legal-basis", e.legal_basis);
          if (e.reasons) row("row-reasons", text(e.reasons));
          break;
        case "AuthoritiesNotified":
          row("row-on", e.notified_on);
          row("row-authorities", e.authorities.join(" ; "));
          break;
        case "CaseClosed":
          row("row-closed-on", e.closed_on);
          row("row-outcome", word(L.outcome, e.outcome));
          if (e.summary) row("row-summary", text(e.summary));
          break;
        case "Correction":
          row("row-corrects", target(e.target));
          row("row-erratum", text(e.erratum));
          break;
        case "Erasure":
          row("row-erases", target(e.target));
          row("row-reason", e.reason);
          break;
        case "ComplaintInadmissible":
          row("row-decided-on", e.decided_on);
          if (e.reason) row("row-reason", text(e.reason));
          break;
        case "ComplaintForwarded":
          row("row-forwarded-on", e.forwarded_on);
          row("row-forwarded-to", e.to);
          if (e.reason) row("row-reason", text(e.reason));
          break;
        case "ProceedingsSuspended":
          row("row-suspended-on", e.suspended_on);
          if (e.reason) row("row-reason", text(e.reason));
          break;
        case "ProceedingsResumed":
          row("row-resumed-on", e.resumed_on);
          break;
        case "DecisionPublished":
          row("row-published-on", e.published_on);
          row("row-decision-number", e.decision_number);
          if (e.summary) row("row-summary", text(e.summary));
          break;
        case "AppealLodged":
          row("row-lodged-on", e.lodged_on);
          row("row-court", e.court);
          row("row-appellant", word(L.appellant, e.by));
          break;
        case "CourtRuling":
          row("row-ruled-on", e.ruled_on);
          row("row-court", e.court);
          row("row-ruling", word(L.ruling, e.ruling));
          if (e.summary) row("row-summary", text(e.summary));
          break;
        case "CaseReopened":
          row("row-reopened-on", e.reopened_on);
          if (e.reason) row("row-reason", text(e.reason));
          break;
        case "Amendment":
          row("row-amends", target(e.target));
          row("row-amended-field", word(L.amended, e.amend.field));
          row("row-new-value", amendedText(e.amend.field, e.amend.value));
          if (e.reason) row("row-reason", text(e.reason));
          break;
      }
      return rows;
    }
    function dl(rows, cls) {
      const d = el("dl", cls ? { class: cls } : {});
      for (const [label, value] of rows) d.append(el("dt", {}, label), el("dd", {}, value));
      return d;
    }
    /** One timeline item, as crates/http/src/pages/cases.rs draws it, from a verified entry. */
    function entryItem(v, facts, texts, officers, amended) {
      const seq = v.seq;
      const notes = facts.annotations.get(String(seq)) || { corrections: [], amendments: [], erasure: null };
      const officer = officers.get(seq);
      const li = el("li", { id: `e${seq}`, class: "entry", "data-seq": String(seq) });
      li.append(
        el(
          "header",
          {},
          el("span", { class: "seq" }, w("entry-number", { seq })),
          " ",
          el("strong", {}, word(L.event, v.entry.event.type)),
          " ",
          el("span", { class: "check", "data-seq": String(seq) }),
        ),
        el("p", { class: "meta" }, w("recorded-by", { date: core.utcMinute(v.entry.recorded_at), name: officer ? officer.name : hex(v.entry.signer) })),
        dl(detailRows(v.entry, texts, notes.erasure)),
      );
      for (const c of notes.corrections)
        li.append(el("p", { class: "note" }, `${w("note-corrected-by")} `, el("a", { href: `#e${c}` }, w("entry-number", { seq: c }))));
      for (const a of amended.filter((x) => x.target === String(seq)))
        li.append(
          el(
            "p",
            { class: "note amended" },
            `${w("note-amended", { field: word(L.amended, a.field), old: a.old, new: a.new })} `,
            el("a", { href: `#e${a.seq}` }, w("entry-number", { seq: a.seq })),
          ),
        );
      if (notes.erasure) {
        const er = notes.erasure;
        li.append(
          el(
            "p",
            { class: "note erased" },
            `${w("note-erased", { date: er.erased_on, reason: er.reason })} — `,
            el("a", { href: `#e${er.seq}` }, w("entry-number", { seq: er.seq })),
          ),
        );
      }
      li.append(
        el(
          "p",
          { class: "links" },
          el("a", { href: `/api/v1/entries/${seq}/tlog-proof`, download: "" }, w("link-proof")),
          " · ",
          el("a", { href: `/api/v1/entries/${seq}/raw`, download: "" }, w("link-bytes")),
          " · ",
          el("span", {}, w("link-leaf-hash")),
          " ",
          el("code", { class: "hash", dir: "ltr" }, hex(v.leaf)),
        ),
      );
      return li;
    }
    /** The value of `field` in an event as first recorded (crates/http/src/pages/event.rs, original_value). */
    function originalValue(e, field) {
      const opening = e.type === "ComplaintReceived" ? e : e.type === "InspectionOpened" ? e.opens : null;
      const own = {
        ComplaintReceived: "received_on", InspectionOpened: "opened_on", HearingHeld: "held_on", ComplianceConfirmed: "confirmed_on",
        SanctionNotified: "notified_on", AuthoritiesNotified: "notified_on", CaseClosed: "closed_on", ComplaintInadmissible: "decided_on",
        ComplaintForwarded: "forwarded_on", ProceedingsSuspended: "suspended_on", ProceedingsResumed: "resumed_on",
        DecisionPublished: "published_on", AppealLodged: "lodged_on", CourtRuling: "ruled_on", CaseReopened: "reopened_on",
      }[e.type];
      if (field === "date") return own ? e[own] : "";
      if (field === "due_on") return e.type === "ComplianceDeadlineSet" || e.type === "DeadlineExtended" ? e.due_on : "";
      if (!opening) return "";
      return field === "controller" ? amendedText(field, opening.controller) : amendedText(field, opening.categories);
    }
    /** The notes "amended (field): old → new, by entry N" (cases.rs, amendment_notes), in log order. */
    function amendmentNotes(entries) {
      const current = new Map();
      const notes = [];
      for (const v of entries) {
        const e = v.entry.event;
        if (e.type !== "Amendment") continue;
        const key = `${e.target}/${e.amend.field}`;
        let old = current.get(key);
        if (old === undefined) {
          const t = entries.find((x) => String(x.seq) === String(e.target));
          old = t ? originalValue(t.entry.event, e.amend.field) : "";
        }
        const value = amendedText(e.amend.field, e.amend.value);
        notes.push({ target: String(e.target), seq: v.seq, field: e.amend.field, old, new: value });
        current.set(key, value);
      }
      return notes;
    }
    /** The parts of a timeline item that are compared, by name. */
    function parts(li) {
      const p = {
        // (Names no row label of the page has: a row must not take a part's place.)
        [t("titre", "title", "عنوان الحدث")]: textOf(li.querySelector("header strong")),
        [t("inscription", "recording", "التقييد")]: textOf(li.querySelector(":scope > p.meta")),
      };
      const d = li.querySelector(":scope > dl");
      if (d) {
        const dts = d.querySelectorAll(":scope > dt");
        const dds = d.querySelectorAll(":scope > dd");
        for (let i = 0; i < Math.max(dts.length, dds.length); i++) {
          const label = textOf(dts[i]) || `#${i + 1}`;
          p[label] = `${textOf(dds[i])} ${hrefs(dds[i])}`.trim();
        }
      }
      p[t("annotations", "annotations", "الملاحظات")] = Array.from(li.querySelectorAll(":scope > p.note"), (n) => `${textOf(n)} ${hrefs(n)}`).join(" | ");
      p[t("empreinte", "leaf hash", "البصمة")] = textOf(li.querySelector(":scope > p.links code"));
      p[t("liens", "links", "الروابط")] = hrefs(li.querySelector(":scope > p.links"));
      return p;
    }
    /** Differences between what the server showed and what was verified: [name, shown, verified]. */
    function differences(shown, verified) {
      const out = [];
      for (const k of new Set(Object.keys(shown).concat(Object.keys(verified)))) {
        const a = shown[k] === undefined ? "" : shown[k];
        const b = verified[k] === undefined ? "" : verified[k];
        if (a !== b) out.push([k, a, b]);
      }
      return out;
    }
    function flag(text) {
      return el("p", { class: "tampered" }, `⚠ ${text}`);
    }

    /** Redraws the timeline from the verified entries; returns the failures it found. */
    function redrawTimeline(report, facts, texts, servedSeqs, pageSize) {
      const failures = [];
      const ol = document.querySelector("ol.timeline");
      if (!ol) return failures;
      const verified = new Map(report.entries.map((v) => [v.seq, v]));
      const bad = new Set(report.failedSeqs);
      const shownItems = Array.from(ol.querySelectorAll(":scope > li"));
      const shownSeqs = shownItems.map((li) => Number(li.dataset.seq));
      const amended = amendmentNotes(report.entries);
      const fresh = [];
      for (const v of report.entries) {
        const li = entryItem(v, facts, texts, report.officers, amended);
        li.querySelector(".check").className = bad.has(v.seq) ? "check fail" : "check ok";
        const old = shownItems.find((x) => Number(x.dataset.seq) === v.seq);
        if (!old && v.seq >= pageSize) {
          // Recorded after the page was served (the page and the API are two requests).
          li.append(el("p", { class: "note" }, t("Nouvelle depuis l'affichage de la page : ajoutée d'après l'entrée signée.", "New since the page was served: added from the signed entry.", "جديد منذ عرض الصفحة: أضيف انطلاقًا من القيد الموقّع.")));
        } else if (!old) {
          li.classList.add("flagged");
          li.append(flag(t("Absente de la page : ajoutée d'après l'entrée signée.", "Missing from the page: added from the signed entry.", "غائب عن الصفحة: أضيف انطلاقًا من القيد الموقّع.")));
          failures.push(
            new Failure(
              `La page n'affichait pas l'entrée n° ${v.seq} de l'affaire.`,
              `The page did not show the case's entry ${v.seq}.`,
              `لم تكن الصفحة تعرض القيد رقم ${iso(v.seq)} من القضية.`,
            ),
          );
        } else {
          const diffs = differences(parts(old), parts(li));
          if (diffs.length) {
            li.classList.add("flagged");
            for (const [name, a, b] of diffs) {
              li.append(
                flag(
                  a === ""
                    ? t(`La page n'affichait pas ceci (${name}).`, `The page did not show this (${name}).`, `لم تكن الصفحة تعرض هذا (${iso(name)}).`)
                    : t(
                        `La page affichait ici (${name}) : ${quote(a)}`,
                        `The page showed here (${name}): ${quote(a)}`,
                        `كانت الصفحة تعرض هنا (${iso(name)}): ${quote(a)}`,
                      ),
                ),
              );
              failures.push(
                b === ""
                  ? new Failure(
                      `Entrée n° ${v.seq} : la page affichait (${name}) ${quote(a)}, ce que l'entrée signée ne dit pas.`,
                      `Entry ${v.seq}: the page showed (${name}) ${quote(a)}, which the signed entry does not say.`,
                      `القيد رقم ${iso(v.seq)}: كانت الصفحة تعرض (${iso(name)}) ${quote(a)}، وهو ما لا يقوله القيد الموقّع.`,
                    )
                  : a === ""
                    ? new Failure(
                        `Entrée n° ${v.seq} : la page n'affichait pas (${name}) ${quote(b)}, que dit l'entrée signée.`,
                        `Entry ${v.seq}: the page did not show (${name}) ${quote(b)}, which the signed entry says.`,
                        `القيد رقم ${iso(v.seq)}: لم تكن الصفحة تعرض (${iso(name)}) ${quote(b)}، وهو ما يقوله القيد الموقّع.`,
                      )
                    : new Failure(
                      `Entrée n° ${v.seq} : la page affichait (${name}) ${quote(a)}, l'entrée signée dit ${quote(b)}.`,
                      `Entry ${v.seq}: the page showed (${name}) ${quote(a)}, the signed entry says ${quote(b)}.`,
                      `القيد رقم ${iso(v.seq)}: كانت الصفحة تعرض (${iso(name)}) ${quote(a)}، والقيد الموقّع يقول ${quote(b)}.`,
                    ),
              );
            }
          }
        }
        fresh.push(li);
      }
      // What the page showed that nothing verified: kept, struck, and named.
      for (const old of shownItems) {
        const seq = Number(old.dataset.seq);
        if (verified.has(seq)) continue;
        old.classList.add("unverified", "flagged");
        const mark = old.querySelector(".check");
        if (mark) mark.className = "check fail";
        if (servedSeqs.includes(seq)) {
          // Served, but it failed its own checks (named above).
          old.append(flag(t("Cette entrée n'a pas passé la vérification : ne vous y fiez pas.", "This entry failed verification: do not rely on it.", "لم ينجح هذا القيد في التحقق: لا تعتمد عليه.")));
          fresh.push(old);
          continue;
        }
        old.append(
          flag(t("Cette entrée n'est pas prouvée par le registre pour cette affaire : ne vous y fiez pas.", "The register does not prove this entry for this case: do not rely on it.", "لا يثبت السجل هذا القيد لهذه القضية: لا تعتمد عليه.")),
        );
        failures.push(
          new Failure(
            `La page affiche l'entrée n° ${old.dataset.seq}, que la preuve du registre pour cette affaire ne contient pas.`,
            `The page shows entry ${old.dataset.seq}, which the register's proof for this case does not hold.`,
            `تعرض الصفحة القيد رقم ${iso(old.dataset.seq)}، الذي لا يتضمنه إثبات السجل لهذه القضية.`,
          ),
        );
        fresh.push(old);
      }
      if (shownSeqs.join(",") !== shownSeqs.slice().sort((a, b) => a - b).join(","))
        failures.push(
          new Failure(
            "La page affichait les entrées dans le désordre.",
            "The page showed the entries out of order.",
            "كانت الصفحة تعرض القيود على غير ترتيبها.",
          ),
        );
      fresh.sort((a, b) => Number(a.dataset.seq) - Number(b.dataset.seq));
      ol.replaceChildren(...fresh);
      return failures;
    }

    /** The case's facts (cases.rs, case_page) from the verified entries, as rows. */
    function factRows(facts, asOf) {
      const rows = [];
      const opened = facts.openedBy === "inspection" ? w("opened-by-inspection") : w("opened-by-complaint");
      rows.push([w("fact-controller"), controllerLink(facts.controller)]);
      rows.push([w("col-category"), categoriesText(facts.categories)]);
      rows.push([w("col-opened"), `${facts.openedOn} (${opened})`]);
      const h = facts.hearings[facts.hearings.length - 1];
      if (h) rows.push([w("fact-latest-hearing"), `${h.held_on}, ${h.place}`]);
      if (facts.deadline) {
        // As crates/http/src/pages/cases.rs (deadline_state): from the case's real state.
        const judged = () => el("span", { class: "judged" }, w("overdue-judged-on", { date: asOf }));
        const cell = document.createDocumentFragment();
        cell.append(`${facts.deadline}`);
        if (facts.status === "awaiting_compliance" && asOf) {
          const overdue = facts.deadline < asOf;
          cell.append(
            " ",
            el("span", { class: overdue ? "badge overdue" : "badge ok" }, w(overdue ? "badge-overdue" : "badge-not-yet-due")),
            " ",
            judged(),
          );
        } else if (facts.sanctions.some((x) => x.notified_on > facts.deadline)) {
          cell.append(" ", el("span", { class: "badge overdue" }, w("badge-missed")));
        }
        rows.push([w("fact-deadline"), cell]);
      }
      for (const x of facts.sanctions) rows.push([w("fact-sanction"), w("fact-sanction-value", { sanction: sanctionText(x.sanction), date: x.notified_on, basis: x.legal_basis })]);
      if (facts.compliance) rows.push([w("fact-complied-on"), facts.compliance.confirmed_on]);
      if (facts.closing) rows.push([w("fact-closed-on"), `${facts.closing.closed_on} — ${word(L.outcome, facts.closing.outcome)}`]);
      for (const x of facts.decisions) rows.push([w("fact-decision"), `${x.decision_number} — ${x.published_on}`]);
      for (const x of facts.appeals) {
        const ruling = x.ruling ? `${word(L.ruling, x.ruling.ruling)} (${x.ruling.ruled_on})` : w("appeal-pending");
        rows.push([w("fact-appeal"), `${x.lodged_on} — ${x.court} — ${ruling}`]);
      }
      return rows;
    }
    function redrawFacts(facts, asOf, caseId, whole, grew) {
      const failures = [];
      const mismatch = (what, a, b) =>
        grew ||
        failures.push(
          b === ""
            ? new Failure(
                `Faits de l'affaire : la page affichait (${what}) ${quote(a)}, ce que les entrées signées ne disent pas.`,
                `Case facts: the page showed (${what}) ${quote(a)}, which the signed entries do not say.`,
                `وقائع القضية: كانت الصفحة تعرض (${iso(what)}) ${quote(a)}، وهو ما لا تقوله القيود الموقّعة.`,
              )
            : a === ""
              ? new Failure(
                  `Faits de l'affaire : la page n'affichait pas (${what}) ${quote(b)}, que disent les entrées signées.`,
                  `Case facts: the page did not show (${what}) ${quote(b)}, which the signed entries say.`,
                  `وقائع القضية: لم تكن الصفحة تعرض (${iso(what)}) ${quote(b)}، وهو ما تقوله القيود الموقّعة.`,
                )
              : new Failure(
                  `Faits de l'affaire : la page affichait (${what}) ${quote(a)}, les entrées signées disent ${quote(b)}.`,
                  `Case facts: the page showed (${what}) ${quote(a)}, the signed entries say ${quote(b)}.`,
                  `وقائع القضية: كانت الصفحة تعرض (${iso(what)}) ${quote(a)}، والقيود الموقّعة تقول ${quote(b)}.`,
                ),
        );
      const h1 = document.querySelector("main h1");
      const title = w("case-title", { id: caseId });
      if (h1 && textOf(h1) !== title) {
        mismatch(t("titre", "title", "العنوان"), textOf(h1), title);
        h1.textContent = title;
        h1.after(flag(t("Le titre de la page était faux et a été corrigé.", "The page's title was wrong and was corrected.", "كان عنوان الصفحة خاطئًا وتم تصحيحه.")));
      }
      const status = document.querySelector("main h1 + p > .status, main h1 + p.tampered + p > .status");
      const old = document.querySelector("dl.facts");
      if (!whole) {
        // Facts drawn from part of a case would be false in their own way: the server's stay,
        // marked as not verified (what is wrong is named above).
        if (status) status.after(" ", el("span", { class: "tampered" }, `⚠ ${t("non vérifié", "not verified", "لم يُتحقق منه")}`));
        if (old && !old.previousElementSibling?.classList.contains("tampered"))
          old.before(
            flag(
              t(
                "Ces faits n'ont pas pu être vérifiés : l'affaire n'est pas prouvée complète et intacte. Ce sont ceux que donne le serveur.",
                "These facts could not be verified: the case is not proven whole and intact. They are the server's.",
                "تعذّر التحقق من هذه الوقائع: لم يثبت أن القضية كاملة وسليمة. وهي الوقائع التي يقدّمها الخادم.",
              ),
            ),
          );
        return failures;
      }
      if (status && facts.status) {
        const label = word(L.status, facts.status);
        if (textOf(status) !== label || !status.classList.contains(`status-${facts.status}`)) {
          mismatch(t("statut", "status", "الوضعية"), textOf(status), label);
          status.after(" ", el("span", { class: "tampered" }, `⚠ ${t("la page affichait", "the page showed", "كانت الصفحة تعرض")} ${quote(textOf(status))}`));
        }
        status.className = `status status-${facts.status}`;
        status.textContent = label;
      }
      if (!old || !facts.controller) return failures;
      const rows = factRows(facts, asOf);
      const shown = [];
      const dts = old.querySelectorAll(":scope > dt");
      const dds = old.querySelectorAll(":scope > dd");
      for (let i = 0; i < Math.max(dts.length, dds.length); i++) shown.push([textOf(dts[i]), `${textOf(dds[i])} ${hrefs(dds[i])}`.trim()]);
      const fresh = dl(rows, "facts");
      const mine = Array.from(fresh.querySelectorAll(":scope > dd"), (dd, i) => [rows[i][0], `${textOf(dd)} ${hrefs(dd)}`.trim()]);
      const used = new Set();
      mine.forEach(([label, value], i) => {
        const j = shown.findIndex(([l, v], k) => !used.has(k) && l === label && v === value);
        if (j >= 0) {
          used.add(j);
          return;
        }
        const k = shown.findIndex(([l], k2) => !used.has(k2) && l === label);
        const was = k >= 0 ? shown[k][1] : "";
        if (k >= 0) used.add(k);
        mismatch(label, was, value);
        fresh.querySelectorAll(":scope > dd")[i].append(" ", el("span", { class: "tampered" }, `⚠ ${t("la page affichait", "the page showed", "كانت الصفحة تعرض")} ${quote(was)}`));
      });
      shown.forEach(([label, value], k) => {
        if (used.has(k)) return;
        mismatch(label, value, "");
        fresh.append(el("dt", { class: "tampered" }, label), el("dd", { class: "tampered" }, `⚠ ${t("non vérifié, la page affichait", "not verified, the page showed", "لم يُتحقق منه، كانت الصفحة تعرض")} ${quote(value)}`));
      });
      old.replaceWith(fresh);
      return failures;
    }

    // ---- Running it ------------------------------------------------------------------------

    let network = 0;
    async function timed(f) {
      const t0 = performance.now();
      try {
        return await f();
      } finally {
        network += performance.now() - t0;
      }
    }
    async function getJson(url) {
      return timed(async () => {
        const r = await fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" });
        let body = null;
        try {
          body = await r.json();
        } catch (e) {
          body = null;
        }
        return { status: r.status, body };
      });
    }

    /** Rollback and split-view check against the checkpoint this browser last accepted. */
    /** The checkpoint this browser kept for the register (under `key`, or under `earlier`,
     * the key it trusted before a rotation it has just followed) against `cp`. */
    async function checkHistory(key, cp, lines, failures, earlier) {
      if (!store.works()) {
        lines.push(
          say3(
            "Ce navigateur ne garde pas de mémoire pour ce site : le retour en arrière ne peut pas être détecté ⚠",
            "This browser keeps no storage for this site: a rollback cannot be detected ⚠",
            "لا يحتفظ هذا المتصفح بأي ذاكرة لهذا الموقع: لا يمكن كشف الرجوع إلى حالة سابقة ⚠",
          ),
        );
        return;
      }
      let seen = null;
      let seenBy = key;
      try {
        seen = JSON.parse(store.get(seenKey(key.text)) || "null");
        if (!seen && earlier) {
          seen = JSON.parse(store.get(seenKey(earlier.text)) || "null");
          seenBy = earlier;
        }
      } catch (e) {
        seen = null;
      }
      if (!seen || typeof seen.note !== "string") {
        lines.push(
          say3(
            "Première vérification de ce registre dans ce navigateur : il retiendra ce point de contrôle, si tout est vérifié, et vérifiera les suivants par rapport à lui.",
            "First verification of this register in this browser: it will keep this checkpoint, if everything verifies, and check later ones against it.",
            "أول تحقق من هذا السجل في هذا المتصفح: سيحتفظ بنقطة التحقق هذه إن تم التحقق من كل شيء، وسيتحقق من النقاط اللاحقة بالمقارنة معها.",
          ),
        );
        return;
      }
      let old;
      try {
        old = core.parseCheckpoint((await core.openNote(seen.note, seenBy)).text);
      } catch (e) {
        lines.push(
          say3(
            "Le point de contrôle gardé par ce navigateur est illisible : ignoré ⚠",
            "The checkpoint kept by this browser is unreadable: ignored ⚠",
            "نقطة التحقق التي يحتفظ بها هذا المتصفح غير مقروءة: أُهملت ⚠",
          ),
        );
        return;
      }
      const when = typeof seen.seen_at === "string" ? seen.seen_at.slice(0, 10) : "?";
      if (old.size > cp.size) {
        failures.push(
          new Failure(
            `Retour en arrière : ce navigateur a déjà vu ce registre à ${old.size} entrées (le ${when}), ce site le montre à ${cp.size} entrées. Il vous montre un état ancien, ou une autre version du registre.`,
            `Rollback: this browser already saw this register at ${old.size} entries (on ${when}), this site shows it at ${cp.size} entries. It is showing you an old state, or another version of the register.`,
            `رجوع إلى حالة سابقة: سبق لهذا المتصفح أن رأى هذا السجل وعدد قيوده ${iso(old.size)} (بتاريخ ${iso(when)})، وهذا الموقع يعرضه وعدد قيوده ${iso(cp.size)}. إنه يعرض عليك حالة قديمة، أو نسخة أخرى من السجل.`,
          ),
        );
        return;
      }
      if (old.size === cp.size) {
        if (!core.equal(old.root, cp.root))
          failures.push(
            new Failure(
              `Vue divergente : ce navigateur a vu une autre version du registre à ${old.size} entrées (le ${when}). Le registre a deux histoires : gardez cette page et signalez-le.`,
              `Split view: this browser saw another version of the register at ${old.size} entries (on ${when}). The register has two histories: keep this page and report it.`,
              `نسخة متباينة: رأى هذا المتصفح نسخة أخرى من السجل عدد قيودها ${iso(old.size)} (بتاريخ ${iso(when)}). للسجل تاريخان مختلفان: احتفظ بهذه الصفحة وأبلغ عن ذلك.`,
            ),
          );
        else
          lines.push(
            say3(
              `Même point de contrôle que lors de votre dernière visite (le ${when}) ✓`,
              `Same checkpoint as on your last visit (on ${when}) ✓`,
              `نقطة التحقق نفسها التي رأيتها في زيارتك الأخيرة (بتاريخ \u2068${when}\u2069) ✓`,
            ),
          );
        return;
      }
      const answer = await getJson(`/api/v1/proof/consistency?from=${old.size}&to=${cp.size}`);
      let ok = false;
      try {
        const proof = (answer.body && answer.body.consistency_proof) || null;
        ok =
          answer.status === 200 &&
          Array.isArray(proof) &&
          (await core.verifyConsistency(
            proof.map((h) => core.base64(h)),
            old.size,
            old.root,
            cp.size,
            cp.root,
          ));
      } catch (e) {
        ok = false;
      }
      if (!ok)
        failures.push(
          new Failure(
            `Vue divergente : le registre à ${cp.size} entrées ne prolonge pas celui de ${old.size} entrées que ce navigateur a vu le ${when} (pas de preuve de cohérence valable). Le registre a été réécrit, ou ce site vous montre une autre version.`,
            `Split view: the register at ${cp.size} entries does not extend the one of ${old.size} entries this browser saw on ${when} (no valid consistency proof). The register was rewritten, or this site shows you another version.`,
            `نسخة متباينة: السجل الذي عدد قيوده ${iso(cp.size)} ليس امتدادًا للسجل الذي عدد قيوده ${iso(old.size)} ورآه هذا المتصفح بتاريخ ${iso(when)} (لا يوجد إثبات اتساق صالح). لقد أُعيدت كتابة السجل، أو أن هذا الموقع يعرض عليك نسخة أخرى.`,
          ),
        );
      else
        lines.push(
          say3(
            `Depuis votre dernière vérification (${old.size} entrées, le ${when}), le registre n'a fait que s'allonger (preuve de cohérence RFC 9162) ✓`,
            `Since your last verification (${old.size} entries, on ${when}), the register only grew (RFC 9162 consistency proof) ✓`,
            `منذ تحققك الأخير (${arEntries(old.size)}، بتاريخ \u2068${when}\u2069)، لم يزد السجل إلا طولًا (إثبات اتساق RFC 9162) ✓`,
          ),
        );
    }
    async function checkWitnesses(parsed, lines, failures) {
      const w = loadWitnesses();
      const others = parsed.lines.length - 1;
      if (w.keys.length === 0) {
        lines.push(
          say3(
            others > 0
              ? `Témoins : ${others} autre(s) signature(s) sur le point de contrôle, non vérifiées (aucun témoin épinglé).`
              : "Témoins : aucun témoin épinglé, aucune cosignature.",
            others > 0
              ? `Witnesses: ${others} other signature(s) on the checkpoint, not checked (no witness pinned).`
              : "Witnesses: none pinned, no cosignature.",
            others > 0
              ? `الشهود: توقيعات أخرى على نقطة التحقق عددها \u2068${others}\u2069، لم يُتحقق منها (لا شاهد مثبّت).`
              : "الشهود: لا شاهد مثبّت، ولا توقيع مشترك.",
          ),
        );
        return;
      }
      const keys = [];
      for (const k of w.keys) {
        try {
          keys.push(await core.parseVerifierKey(k, 4));
        } catch (e) {
          failures.push(new Failure(`Clé de témoin épinglée illisible : ${k}`, `Unreadable pinned witness key: ${k}`, `مفتاح شاهد مثبّت غير مقروء: ${iso(k)}`));
        }
      }
      const r = await core.checkCosignatures(parsed, keys);
      const quorum = w.quorum === null ? keys.length : w.quorum;
      for (const bad of r.invalid)
        failures.push(
          new Failure(
            `La cosignature du témoin ${bad.name} est invalide.`,
            `The cosignature of witness ${bad.name} is invalid.`,
            `التوقيع المشترك للشاهد ${iso(bad.name)} غير صالح.`,
          ),
        );
      const names = r.verified.map((v) => v.witness.name).join(", ");
      const line = say3(
        `Témoins : ${r.verified.length} cosignature(s) vérifiée(s) sur ${keys.length} témoin(s) épinglé(s)${names ? ` (${names})` : ""}, quorum ${quorum}`,
        `Witnesses: ${r.verified.length} cosignature(s) verified of ${keys.length} pinned witness(es)${names ? ` (${names})` : ""}, quorum ${quorum}`,
        `الشهود: توقيعات مشتركة تم التحقق منها: ${iso(r.verified.length)}، من شهود مثبّتين عددهم ${iso(keys.length)}${names ? ` (${iso(names)})` : ""}، النصاب ${iso(quorum)}`,
      );
      if (r.verified.length < quorum) {
        failures.push(
          new Failure(
            `Quorum de témoins non atteint : ${r.verified.length} cosignature(s) vérifiée(s), ${quorum} demandée(s).`,
            `Witness quorum not met: ${r.verified.length} cosignature(s) verified, ${quorum} required.`,
            `لم يُبلغ نصاب الشهود: التوقيعات المشتركة التي تم التحقق منها ${iso(r.verified.length)}، والمطلوب ${iso(quorum)}.`,
          ),
        );
        lines.push(say3(`${line.fr} ✗`, `${line.en} ✗`, `${line.ar} ✗`));
      } else lines.push(say3(`${line.fr} ✓`, `${line.en} ✓`, `${line.ar} ✓`));
    }

    async function checkTexts(report, facts) {
      const texts = new Map();
      const wanted = [];
      for (const v of report.entries) {
        const notes = facts.annotations.get(String(v.seq));
        if (notes && notes.erasure) continue;
        for (const d of core.textDigests(v.entry.event)) wanted.push([v.seq, d]);
      }
      const bodies = await timed(() =>
        Promise.all(
          wanted.map(async ([, d]) => {
            try {
              const r = await fetch(`/blobs/${hex(d)}`, { cache: "no-store" });
              return r.ok ? new Uint8Array(await r.arrayBuffer()) : null;
            } catch (e) {
              return null;
            }
          }),
        ),
      );
      const failures = [];
      for (let i = 0; i < wanted.length; i++) {
        const [seq, d] = wanted[i];
        if (bodies[i] === null) {
          texts.set(hex(d), { state: "absent" });
          continue;
        }
        try {
          texts.set(hex(d), { state: "present", text: await core.openBlob(bodies[i], d) });
        } catch (e) {
          texts.set(hex(d), { state: "invalid" });
          failures.push(
            new Failure(
              `Entrée n° ${seq} : le texte servi ne correspond pas à l'empreinte signée.`,
              `Entry ${seq}: the text served does not match the signed digest.`,
              `القيد رقم ${iso(seq)}: النص المقدَّم لا يطابق البصمة الموقّعة.`,
            ),
          );
        }
      }
      return { texts, failures };
    }

    async function verify() {
      network = 0;
      const started = performance.now();
      const lines = [];
      const failures = [];
      if (!(await core.ed25519Supported())) return { unsupported: true };

      // 1. Which key: the one the visitor trusts (pinned, or typed in the field), followed
      // through the log's own key rotations (FORMAT §3.1) when the site gives another.
      const pinned = store.get(PIN);
      const trusted = await core.parseVerifierKey(keyInput.value);
      let key = trusted;
      let rotated = null;
      if (served.trim() !== trusted.text) {
        let why = null;
        try {
          const now = await core.parseVerifierKey(served);
          const answer = await getJson("/api/v1/log-keys");
          if (answer.status !== 200 || !answer.body)
            throw new Failure(
              `le serveur a répondu ${answer.status} à la demande des clés du registre`,
              `the server answered ${answer.status} to the request for the register's keys`,
              `أجاب الخادم بالرمز ${iso(answer.status)} على طلب مفاتيح السجل`,
            );
          rotated = { from: trusted, steps: await core.followLogKeys(answer.body, trusted, now) };
          key = now;
        } catch (e) {
          if (!(e instanceof Failure)) throw e;
          why = e;
        }
        if (!rotated && pinned)
          failures.push(
            new Failure(
              `La clé que ce site donne pour le registre (${served}) n'est pas celle que vous avez épinglée (${pinned}), et le registre ne prouve pas être passé de l'une à l'autre (${why.fr}) : ce site n'est peut-être pas le registre que vous croyez, ou la clé a été remplacée.`,
              `The key this site gives for the register (${served}) is not the one you pinned (${pinned}), and the register does not prove it went from one to the other (${why.en}): this site may not be the register you think, or the key was substituted.`,
              `المفتاح الذي يقدّمه هذا الموقع للسجل (${iso(served)}) ليس المفتاح الذي ثبّتَّه (${iso(pinned)})، ولا يثبت السجل أنه انتقل من أحدهما إلى الآخر (${why.ar}): قد لا يكون هذا الموقع هو السجل الذي تظنه، أو أن المفتاح قد استُبدل.`,
            ),
          );
      }
      if (rotated)
        for (const step of rotated.steps)
          lines.push(
            say3(
              `Clé du registre renouvelée à l'entrée n° ${step.seq} : la clé ${hex(step.from)} a nommé la clé ${hex(step.to)}, et l'entrée est signée par l'ancienne ✓`,
              `Register key rotated at entry ${step.seq}: key ${hex(step.from)} named key ${hex(step.to)}, and the old key signed the entry ✓`,
              `جُدّد مفتاح السجل في القيد رقم ${iso(step.seq)}: سمّى المفتاحُ ${iso(hex(step.from))} المفتاحَ ${iso(hex(step.to))}، والقيد موقّع بالمفتاح القديم ✓`,
            ),
          );
      lines.push(
        pinned === key.text || (pinned && rotated)
          ? say3(
              `Clé du registre : ${key.name} (${hex(key.id)}), épinglée dans ce navigateur ✓`,
              `Register key: ${key.name} (${hex(key.id)}), pinned in this browser ✓`,
              `مفتاح السجل: \u2068${key.name} (${hex(key.id)})\u2069، مثبّت في هذا المتصفح ✓`,
            )
          : say3(
              `Clé du registre : ${key.name} (${hex(key.id)}), celle que donne ${pinned ? "le champ ci-dessus" : "ce site"} — comparez-la avec celle que publie l'autorité, puis épinglez-la.`,
              `Register key: ${key.name} (${hex(key.id)}), the one ${pinned ? "the field above" : "this site"} gives — compare it with the one the authority publishes, then pin it.`,
              `مفتاح السجل: \u2068${key.name} (${hex(key.id)})\u2069، الذي ${pinned ? "يعطيه الحقل أعلاه" : "يعطيه هذا الموقع"} — قارنه بالذي تنشره الهيئة، ثم ثبّته.`,
            ),
      );

      let done = null;
      try {
        done = await verifyCase(key, lines, failures, rotated ? rotated.from : null);
      } catch (e) {
        if (!(e instanceof Failure)) throw e;
        // Nothing on the page is verified: every entry is marked so.
        for (const mark of document.querySelectorAll(".check[data-seq]")) mark.className = "check fail";
        failures.push(e);
      }
      const total = performance.now() - started;
      const remember = done ? done.remember : [];
      // A followed rotation moves the pin to the key in service, once everything verified.
      if (pinned && rotated && remember.length) remember.push([PIN, key.text]);
      return { lines, failures, total, compute: total - network, size: done ? done.size : null, remember };
    }

    /** Steps 2 to 7, once the key is known; throws a Failure when nothing can be verified. */
    async function verifyCase(key, lines, failures, earlier) {
      // 2. The case, its checkpoint and its proofs.
      const caseId = box.dataset.caseId || "";
      const answer = await getJson(box.dataset.caseApi);
      if (answer.status === 404 && answer.body && answer.body.completeness) {
        let absent;
        try {
          absent = await core.verifyAbsence(answer.body, key, caseId);
        } catch (e) {
          if (!(e instanceof Failure)) throw e;
          throw new Failure(
            `Le serveur dit que l'affaire ${caseId} n'existe pas, et sa preuve d'absence ne tient pas : ${e.fr}`,
            `The server says case ${caseId} does not exist, and its proof of absence fails: ${e.en}`,
            `يقول الخادم إن القضية ${iso(caseId)} غير موجودة، وإثباته لعدم وجودها لا يصمد: ${e.ar}`,
          );
        }
        throw new Failure(
          `Le registre prouve (index signé, entrée n° ${absent.seq}) que l'affaire ${caseId} n'existe pas au point de contrôle de ${absent.size} entrées : cette page montre une affaire qui n'est pas dans le registre.`,
          `The register proves (signed index, entry ${absent.seq}) that case ${caseId} does not exist at the checkpoint of ${absent.size} entries: this page shows a case that is not in the register.`,
          `يثبت السجل (الفهرس الموقّع، القيد رقم ${iso(absent.seq)}) أن القضية ${iso(caseId)} غير موجودة عند نقطة التحقق التي عدد قيودها ${iso(absent.size)}: تعرض هذه الصفحة قضية ليست في السجل.`,
        );
      }
      if (answer.status !== 200 || !answer.body)
        throw new Failure(
          `Le serveur a répondu ${answer.status} à la demande de l'affaire : rien n'a pu être vérifié.`,
          `The server answered ${answer.status} to the request for the case: nothing could be verified.`,
          `أجاب الخادم بالرمز ${iso(answer.status)} على طلب القضية: تعذّر التحقق من أي شيء.`,
        );
      const report = await core.verifyCase(answer.body, key, caseId);
      const cp = report.checkpoint;
      lines.push(
        say3(
          `Point de contrôle signé par la clé du registre : ✓ — arbre de ${cp.size} entrées`,
          `Checkpoint signed by the register's key: ✓ — tree of ${cp.size} entries`,
          `نقطة التحقق موقّعة بمفتاح السجل: ✓ — شجرة عدد قيودها \u2068${cp.size}\u2069`,
        ),
      );
      failures.push(...report.failures);
      await checkWitnesses(cp.parsed, lines, failures);
      await checkHistory(key, cp, lines, failures, earlier);

      // Which entries failed a check of their own, and which.
      report.failedSeqs = report.failures.flatMap((f) => f.seqs);
      const servedSeqs = (Array.isArray(answer.body.entries) ? answer.body.entries : []).map((e) => e && e.leaf_index);
      const n = servedSeqs.length;
      const failedBy = (...kinds) => report.failures.some((f) => kinds.includes(f.kind));
      const mark = (bad) => (bad ? "✗" : "✓");
      // CLDR: French "one" is 0 and 1, English "one" is 1 only.
      const plural = n === 1;
      const frOne = n <= 1;
      lines.push(
        say3(
          `${n} ${frOne ? "entrée incluse" : "entrées incluses"} dans l'arbre de taille ${cp.size} : ${mark(failedBy("inclusion"))}`,
          `${n} ${plural ? "entry" : "entries"} included in the tree of size ${cp.size}: ${mark(failedBy("inclusion"))}`,
          `${arCount(n, [() => "لا قيد مدرج", () => "قيد واحد مدرج", () => "قيدان مدرجان", (x) => `${x} قيود مدرجة`, (x) => `${x} قيدًا مدرجًا`, (x) => `${x} قيد مدرج`])} في شجرة حجمها \u2068${cp.size}\u2069: ${mark(failedBy("inclusion"))}`,
        ),
        say3(
          `${n} ${frOne ? "entrée décodée" : "entrées décodées"} de ${frOne ? "ses" : "leurs"} octets (format 1, forme canonique) : ${mark(failedBy("inclusion", "decode"))}`,
          `${n} ${plural ? "entry" : "entries"} decoded from their bytes (format 1, canonical form): ${mark(failedBy("inclusion", "decode"))}`,
          `${arCount(n, [() => "لم تُفكّ بايتات أي قيد", () => "فُكّت بايتات قيد واحد", () => "فُكّت بايتات قيدين", (x) => `فُكّت بايتات ${x} قيود`, (x) => `فُكّت بايتات ${x} قيدًا`, (x) => `فُكّت بايتات ${x} قيد`])} (الصيغة 1، الشكل القانوني): ${mark(failedBy("inclusion", "decode"))}`,
        ),
        say3(
          `${n} ${frOne ? "signature d'agent" : "signatures d'agents"} : ${mark(failedBy("inclusion", "decode", "signature"))}`,
          `${n} officer signature${plural ? "" : "s"}: ${mark(failedBy("inclusion", "decode", "signature"))}`,
          `${arCount(n, [() => "لا توقيع من الموظفين", () => "توقيع واحد من الموظفين", () => "توقيعان من الموظفين", (x) => `${x} توقيعات من الموظفين`, (x) => `${x} توقيعًا من الموظفين`, (x) => `${x} توقيع من الموظفين`])}: ${mark(failedBy("inclusion", "decode", "signature"))}`,
        ),
        say3(
          n <= 1
            ? `Chaîne de l'affaire, son entrée : ${mark(failedBy("inclusion", "decode", "signature", "chain"))}`
            : `Chaîne de l'affaire, entrées 0 à ${n - 1} : ${mark(failedBy("inclusion", "decode", "signature", "chain"))}`,
          n <= 1
            ? `Case chain, its one entry: ${mark(failedBy("inclusion", "decode", "signature", "chain"))}`
            : `Case chain, entries 0 to ${n - 1}: ${mark(failedBy("inclusion", "decode", "signature", "chain"))}`,
          n <= 1
            ? `سلسلة القضية، قيدها الوحيد: ${mark(failedBy("inclusion", "decode", "signature", "chain"))}`
            : `سلسلة القضية، القيود من \u20680\u2069 إلى \u2068${n - 1}\u2069: ${mark(failedBy("inclusion", "decode", "signature", "chain"))}`,
        ),
      );
      lines.push(
        report.complete
          ? say3(
              `Affaire complète : l'index que la clé du registre a signé (entrée n° ${cp.size - 1}) compte exactement ces ${n} entrées ✓`,
              `Whole case: the index the register's key signed (entry ${cp.size - 1}) holds exactly these ${n} entries ✓`,
              `القضية كاملة: الفهرس الذي وقّعه مفتاح السجل (القيد رقم \u2068${cp.size - 1}\u2069) يضم هذه القيود بالضبط، وعددها \u2068${n}\u2069 ✓`,
            )
          : say3("Affaire complète : non prouvé ✗", "Whole case: not proven ✗", "اكتمال القضية: غير مُثبت ✗"),
      );
      const names = Array.from(new Set(Array.from(report.officers.values(), (o) => o.name)));
      const officersOk = report.officers.size === n;
      lines.push(
        say3(
          `Agents habilités à la date de chaque entrée${names.length ? ` (${names.join(", ")})` : ""} : ${officersOk ? "✓" : "✗"}`,
          `Officers authorized at each entry's date${names.length ? ` (${names.join(", ")})` : ""}: ${officersOk ? "✓" : "✗"}`,
          `موظفون معتمدون في تاريخ كل قيد${names.length ? ` (\u2068${names.join(", ")}\u2069)` : ""}: ${officersOk ? "✓" : "✗"}`,
        ),
      );

      // 3. Texts, then the page redrawn from what was verified.
      const facts = core.projectCase(report.entries);
      const { texts, failures: textFailures } = await checkTexts(report, facts);
      failures.push(...textFailures);
      let present = 0;
      let absent = 0;
      let invalid = 0;
      for (const s of texts.values()) {
        if (s.state === "present") present++;
        else if (s.state === "absent") absent++;
        else invalid++;
      }
      let erased = 0;
      for (const a of facts.annotations.values()) if (a.erasure) erased++;
      lines.push(
        say3(
          `${present} texte(s) conformes aux empreintes signées${erased ? `, ${erased} effacé(s)` : ""}${absent ? `, ${absent} absent(s) de ce serveur ⚠` : ""} : ${invalid ? "✗" : "✓"}`,
          `${present} text(s) match their signed digests${erased ? `, ${erased} erased` : ""}${absent ? `, ${absent} not on this server ⚠` : ""}: ${invalid ? "✗" : "✓"}`,
          `نصوص مطابقة للبصمات الموقّعة: \u2068${present}\u2069${erased ? `، ممحوة: \u2068${erased}\u2069` : ""}${absent ? `، غير متوفرة على هذا الخادم: \u2068${absent}\u2069 ⚠` : ""}: ${invalid ? "✗" : "✓"}`,
        ),
      );
      const whole = report.complete && report.entries.length === n && !failedBy("inclusion", "decode", "signature", "chain");
      // The page was served at a checkpoint of `pageSize` entries; the API may answer at a
      // later one (an append between the two requests), never at an earlier one.
      const pageSize = Number(box.dataset.treeSize || cp.size);
      if (cp.size < pageSize)
        failures.push(
          new Failure(
            `Le serveur a affiché cette page au point de contrôle de ${pageSize} entrées, mais sa preuve est à ${cp.size} entrées, plus ancien : une réponse périmée ou une vue divergente.`,
            `The server showed this page at the checkpoint of ${pageSize} entries, but its proof is at ${cp.size} entries, an older one: a stale answer or a split view.`,
            `عرض الخادم هذه الصفحة عند نقطة التحقق التي عدد قيودها ${iso(pageSize)}، لكن إثباته عند نقطة تحقق أقدم عدد قيودها ${iso(cp.size)}: ردّ متقادم أو نسخة متباينة.`,
          ),
        );
      const grew = report.entries.some((v) => v.seq >= pageSize);
      if (grew)
        lines.push(
          say3(
            `L'affaire a reçu de nouvelles entrées depuis l'affichage de la page (${pageSize} → ${cp.size} entrées au registre) : la page montre maintenant l'état vérifié.`,
            `The case got new entries since the page was served (${pageSize} → ${cp.size} entries in the register): the page now shows the verified state.`,
            `تلقّت القضية قيودًا جديدة منذ عرض الصفحة (ارتفع عدد قيود السجل من ${iso(pageSize)} إلى ${iso(cp.size)}): تعرض الصفحة الآن الحالة التي تم التحقق منها.`,
          ),
        );
      const pageFailures = redrawTimeline(report, facts, texts, servedSeqs, pageSize).concat(redrawFacts(facts, report.asOf, caseId, whole, grew));
      failures.push(...pageFailures);
      lines.push(
        !whole && !pageFailures.length
          ? say3(
              "Page : ce qui n'a pas pu être vérifié y est signalé ✗",
              "Page: what could not be verified is flagged on it ✗",
              "الصفحة: ما تعذّر التحقق منه مُشار إليه فيها ✗",
            )
          : pageFailures.length
          ? say3(
              `Page : ${pageFailures.length} différence(s) entre la page et les entrées signées, signalée(s) ✗ — la page montre maintenant les entrées vérifiées.`,
              `Page: ${pageFailures.length} difference(s) between the page and the signed entries, flagged ✗ — the page now shows the verified entries.`,
              `الصفحة: فروق بين الصفحة والقيود الموقّعة عددها \u2068${pageFailures.length}\u2069، مُشار إليها ✗ — تعرض الصفحة الآن القيود التي تم التحقق منها.`,
            )
          : say3("Page : ce qui est affiché est ce qui a été vérifié ✓", "Page: what is shown is what was verified ✓", "الصفحة: ما هو معروض هو ما تم التحقق منه ✓"),
      );

      // Kept once the result is shown (run): the next visit checks against this checkpoint.
      const remember = failures.length === 0 ? [[seenKey(key.text), JSON.stringify({ note: cp.note, seen_at: new Date().toISOString() })]] : [];
      return { size: cp.size, remember };
    }

    /** What to keep in storage once the result is shown: [key, value] pairs. */
    let lastRemember = [];
    function run() {
      button.disabled = true;
      out.dataset.state = "running";
      out.textContent = t("Vérification en cours…", "Verifying…", "جارٍ التحقق…");
      verify()
        .then((r) => {
          lastRemember = r.remember || [];
          if (r.unsupported) {
            show(
              out,
              "unsupported",
              t(
                "Ce navigateur ne peut pas vérifier cette page : il ne sait pas vérifier les signatures Ed25519 (WebCrypto), ou la page n'est pas servie en HTTPS. Utilisez `sijil verify` (voir la page Vérifier), ou un navigateur récent.",
                "This browser cannot verify this page: it cannot check Ed25519 signatures (WebCrypto), or the page is not served over HTTPS. Use `sijil verify` (see the Verify page), or a recent browser.",
                "لا يستطيع هذا المتصفح التحقق من هذه الصفحة: لا يعرف التحقق من توقيعات Ed25519 (WebCrypto)، أو أن الصفحة لا تُقدَّم عبر HTTPS. استعمل `sijil verify` (انظر صفحة «كيف تتحقق»)، أو متصفحًا حديثًا.",
              ),
              [],
            );
            return;
          }
          const timing = say3(
            `Durée : ${Math.round(r.compute)} ms de calcul (${Math.round(r.total)} ms réseau compris).`,
            `Time: ${Math.round(r.compute)} ms of computation (${Math.round(r.total)} ms with the network).`,
            `المدة: \u2068${Math.round(r.compute)}\u2069 ms من الحساب (\u2068${Math.round(r.total)}\u2069 ms مع الشبكة).`,
          );
          out.dataset.computeMs = String(Math.round(r.compute));
          out.dataset.totalMs = String(Math.round(r.total));
          if (r.failures.length === 0)
            show(
              out,
              "ok",
              t(
                `Vérifié : cette page montre toute l'affaire, telle que le registre l'a signée (point de contrôle de ${r.size} entrées).`,
                `Verified: this page shows the whole case, as the register signed it (checkpoint of ${r.size} entries).`,
                `تم التحقق: تعرض هذه الصفحة القضية كاملة، كما وقّعها السجل (نقطة تحقق عدد قيودها \u2068${r.size}\u2069).`,
              ),
              r.lines.concat([timing]).map(pick),
            );
          else
            show(
              out,
              "fail",
              t("ÉCHEC de la vérification : ne vous fiez pas à cette page.", "Verification FAILED: do not rely on this page.", "فشل التحقق: لا تعتمد على هذه الصفحة."),
              r.lines.concat([timing]).map(pick),
              r.failures.map((f) => f.in(lang)),
            );
        })
        .catch((err) => {
          const message = err instanceof Failure ? err.in(lang) : t(`erreur : ${err}`, `error: ${err}`, `خطأ: ${err}`);
          out.dataset.error = String(err);
          for (const mark of document.querySelectorAll(".check[data-seq]")) mark.className = "check fail";
          show(out, "fail", t("ÉCHEC de la vérification : ne vous fiez pas à cette page.", "Verification FAILED: do not rely on this page.", "فشل التحقق: لا تعتمد على هذه الصفحة."), [], [message]);
        })
        .finally(() => {
          for (const [k, v] of lastRemember) {
            store.set(k, v);
            if (k === PIN) {
              keyInput.value = v;
              showPin();
            }
          }
          lastRemember = [];
          button.disabled = false;
          // The button was disabled while checking, which drops the keyboard focus: give it
          // to the result, which screen readers then read.
          out.focus();
        });
    }

    button.addEventListener("click", run);
    // What a first verification would otherwise pay for, started now: WebCrypto's Ed25519
    // self-test and the register key's import (on WebCrypto's thread, while the page is laid
    // out), then the storage probe once the page is idle.
    core.prepare(keyInput.value);
    const idle = window.requestIdleCallback ? (f) => window.requestIdleCallback(f, { timeout: 500 }) : (f) => setTimeout(f, 100);
    idle(() => store.works());
    if (box.dataset.auto === "1") {
      // ?verify=1: once the page is laid out, so that the check does not compete with it.
      if (document.readyState === "complete") idle(run);
      else window.addEventListener("load", () => idle(run), { once: true });
    }
  }

  /** The result: a summary, what failed (first, marked), then what was checked. */
  function show(out, state, summary, lines, failures) {
    out.dataset.state = state;
    out.textContent = "";
    const p = document.createElement("p");
    p.textContent = summary;
    out.appendChild(p);
    const ul = document.createElement("ul");
    const page = document.documentElement.lang;
    for (const [l, cls] of (failures || []).map((f) => [f, "failure"]).concat(lines.map((l) => [l, "checked"]))) {
      const li = document.createElement("li");
      // A line's own state, for its colour: a ✓ line stays a success on a failed check.
      li.className = `${cls}${cls === "checked" && /✗/.test(l) ? " bad-line" : cls === "checked" && /✓/.test(l) ? " ok-line" : ""}`;
      li.textContent = l;
      // Every line has its Arabic (tests/arabic.test.js); one without would be French: say so.
      if (page === "ar" && !/[\u0600-\u06FF]/.test(l)) {
        li.lang = "fr";
        li.dir = "ltr";
      }
      ul.appendChild(li);
    }
    out.appendChild(ul);
  }

  // sijil-verify-core.js comes after this file (both deferred): start once it ran, which
  // DOMContentLoaded (after every deferred script) or load guarantees.
  let started = false;
  const go = () => {
    if (started) return;
    started = true;
    start();
  };
  if (window.SijilVerifyCore) go();
  else {
    document.addEventListener("DOMContentLoaded", go);
    window.addEventListener("load", go);
  }
})();
