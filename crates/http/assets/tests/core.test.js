// The browser verifier's pure code (assets/sijil-verify-core.js) against the published
// vectors — docs/FORMAT.md §6 (the golden entry, its rejected forms, the golden checkpoint)
// and docs/vectors/index-v1.json (§10) — and against whole-case answers built in memory by
// ./forge.js: honest ones, and the forgeries the page must refuse. Run: node --test
// crates/http/assets/tests (scripts/test runs it through tests/e2e/browser.rs).
"use strict";
// Node 18 has WebCrypto, but not yet as the global `crypto` browsers have.
if (!globalThis.crypto) globalThis.crypto = require("node:crypto").webcrypto;
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const core = require("../sijil-verify-core.js");
const forge = require("./forge.js");
const { fromHex, hex, toBase64, Failure } = core;

const ROOT = path.join(__dirname, "../../../..");
const FORMAT = fs.readFileSync(path.join(ROOT, "docs/FORMAT.md"), "utf8");
const VECTORS = JSON.parse(fs.readFileSync(path.join(ROOT, "docs/vectors/index-v1.json"), "utf8"));

// ---- docs/FORMAT.md §6 -----------------------------------------------------------------------

function golden() {
  const entry = /Full entry: `([0-9a-f]+)`/.exec(FORMAT);
  const leaf = /Leaf hash: `([0-9a-f]{64})`/.exec(FORMAT);
  const vkey = /\| log \| 32 × `0x02` \| `[^`]+` \| `([^`]+)` \|/.exec(FORMAT);
  const cp = /### 6\.3 A checkpoint[\s\S]*?```\n([\s\S]*?)```/.exec(FORMAT);
  assert.ok(entry && leaf && vkey && cp, "docs/FORMAT.md §6 has the golden entry, leaf hash, key and checkpoint");
  return { bytes: fromHex(entry[1]), leaf: leaf[1], vkey: vkey[1], checkpoint: cp[1] };
}

test("utcDay and utcMinute (arithmetic) agree with Date over 1900–9999", () => {
  // Day boundaries, leap days and century years, then a deterministic spread of instants.
  const instants = [
    Date.UTC(1900, 0, 1), Date.UTC(1900, 1, 28, 23, 59), Date.UTC(1900, 2, 1), Date.UTC(1969, 11, 31, 23, 59, 59, 999),
    0, -1, 1, Date.UTC(2000, 1, 29, 12), Date.UTC(2024, 1, 29), Date.UTC(2100, 1, 28, 23, 59), Date.UTC(2100, 2, 1),
    Date.UTC(9999, 11, 31, 23, 59, 59, 999),
  ];
  const lo = Date.UTC(1900, 0, 1);
  const hi = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  let x = 12345;
  for (let i = 0; i < 20000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    instants.push(lo + Math.floor((x / 2147483648) * (hi - lo)) - (i % 1000));
  }
  for (const t of instants) {
    const iso = new Date(t).toISOString();
    assert.equal(core.utcDay(BigInt(t)), iso.slice(0, 10), `utcDay(${t})`);
    assert.equal(core.utcMinute(t), `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`, `utcMinute(${t})`);
  }
});

test("golden entry (FORMAT §6.2) decodes field by field", () => {
  const g = golden();
  const e = core.decodeEntry(g.bytes);
  assert.equal(e.format, 1);
  assert.equal(e.seq, 1n);
  assert.equal(hex(e.prev), "aa".repeat(32));
  assert.equal(e.recorded_at, 1672992000000n);
  assert.equal(core.utcMinute(e.recorded_at), "2023-01-06 08:00 UTC");
  assert.equal(hex(e.signer), "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
  assert.deepEqual({ id: e.case.id, seq: e.case.seq, prev: hex(e.case.prev) }, { id: "2023-0017", seq: 0, prev: "00".repeat(32) });
  assert.equal(e.event.type, "ComplaintReceived");
  assert.deepEqual(e.event.controller, { id: "acme", name: "ACME SARL" });
  assert.deepEqual(e.event.categories, ["privacy", "video_surveillance"]);
  assert.equal(e.event.received_on, "2023-01-02");
  assert.equal(hex(e.event.summary), "bed0a9466b829f81b211777b927e3d9f340db58b17c602317bd79cbcc2664fcd");
  assert.equal(
    hex(e.signature),
    "6d5c3e26be12744a41e6b75bb6fb7bee28c408f218bb7eb6a6c57a7b6ad2bbdf455f656f6c7fe06caa809012c90c694f7980c569b9bebf8eb3790998478f1f0f",
  );
  assert.deepEqual(core.textDigests(e.event).map(hex), [hex(e.event.summary)]);
});

test("golden entry: leaf hash, summary digest and signature", async () => {
  const g = golden();
  assert.equal(hex(await core.leafHash(g.bytes)), g.leaf);
  const e = core.decodeEntry(g.bytes);
  assert.equal(hex(await core.sha256(new TextEncoder().encode("golden salt and text"))), hex(e.event.summary));
  assert.equal(await core.verifyEntrySignature(e, g.bytes, "registre.example.ma/plaintes"), true);
  assert.equal(await core.verifyEntrySignature(e, g.bytes, "registre.example.ma/autre"), false, "the origin is signed");
  const flipped = g.bytes.slice();
  flipped[40] ^= 1;
  assert.equal(await core.verifyEntrySignature(core.decodeEntry(flipped), flipped, "registre.example.ma/plaintes"), false);
});

function rejects(bytes, fragment) {
  assert.throws(
    () => core.decodeEntry(bytes),
    (e) => e instanceof Failure && e.en.includes(fragment) && e.fr.length > 0 && /[\u0600-\u06FF]/.test(e.ar),
    `expected an error containing ${JSON.stringify(fragment)}`,
  );
}

test("golden entry: the rejected forms of FORMAT §6.2", () => {
  const g = golden();
  // seq written fb 01 00 (a u16 varint for 1): non-canonical.
  rejects(core.concat(g.bytes.slice(0, 1), [0xfb, 0x01, 0x00], g.bytes.slice(2)), "non-canonical");
  // One trailing 00 byte.
  rejects(core.concat(g.bytes, [0]), "trailing byte");
  // First byte 02.
  rejects(core.concat([2], g.bytes.slice(1)), "unsupported entry format 2");
});

test("decoder: every other non-canonical or malformed form is refused with a clear message", () => {
  const g = golden();
  const at = (i, replacement, drop = 1) => core.concat(g.bytes.slice(0, i), replacement, g.bytes.slice(i + drop));
  // recorded_at (offset 34): a 0xfd u64 form is needed for 3345984000000; a 0xfe (u128) tag is not a u64.
  rejects(at(34, [0xfe]), "invalid 64-bit integer");
  // received_on's year (fb e7 07) written as fc e7 07 00 00: a u16 never takes the u32 form.
  const year = g.bytes.indexOf(0xfb, 100);
  assert.equal(g.bytes[year + 1], 0xe7);
  rejects(at(year, [0xfc, 0xe7, 0x07, 0x00, 0x00], 3), "invalid 16-bit integer");
  // The event variant (3) written fb 03 00.
  const variant = 1 + 1 + 32 + 9 + 32 + 1 + 10 + 1 + 32;
  assert.equal(g.bytes[variant], 3);
  rejects(at(variant, [0xfb, 0x03, 0x00]), "non-canonical");
  // Variant 15 (LogKeyRotated) reads its own fields, which these bytes are not; 25 is past
  // the catalogue.
  assert.throws(() => core.decodeEntry(at(variant, [15])));
  rejects(at(variant, [25]), "unknown event variant 25");
  // Category 10 does not exist (the categories: count 2, then 0 and 6).
  const cats = variant + 1 + 5 + 10;
  assert.deepEqual(Array.from(g.bytes.slice(cats, cats + 3)), [2, 0, 6]);
  rejects(at(cats + 1, [10]), "unknown category 10");
  // Categories out of catalogue order, repeated, or none.
  rejects(at(cats + 1, [6, 0], 2), "not in catalogue order");
  rejects(at(cats + 1, [6, 6], 2), "not in catalogue order");
  rejects(at(cats, [0], 3), "categories empty");
  // 2023-02-29 is not a date.
  rejects(at(year + 3, [2, 29], 2), "invalid date 2023-2-29");
  // Option tag 2.
  rejects(at(year + 5, [2]), "malformed option");
  // A string that is not UTF-8 ("acme" → "acm\xff").
  rejects(at(variant + 4, [0xff]), "not UTF-8");
  // Truncated.
  rejects(g.bytes.slice(0, g.bytes.length - 1), "truncated entry");
});

test("decoder: every event variant 0–24, IndexCommitted and LogKeyRotated included, round-trips", async () => {
  const k = new Uint8Array(32).fill(7);
  const d = new Uint8Array(32).fill(9);
  const events = [
    { type: "RegisterOpened", origin: "o", title: "t", authority: "a", log_key: k, officers: [{ key: k, name: "n", role: "clerk" }] },
    { type: "OfficerAuthorized", officer: { key: k, name: "karim", role: "admin" } },
    { type: "OfficerRevoked", key: k, reason: "départ" },
    { type: "ComplaintReceived", controller: { id: "c", name: "C" }, categories: ["other"], received_on: "2024-02-29", summary: null },
    { type: "InspectionOpened", opened_on: "1900-01-01", opens: { controller: { id: "c", name: "C" }, categories: ["privacy", "image"] }, scope: d },
    { type: "HearingHeld", held_on: "9999-12-31", place: "Rabat", summary: d },
    { type: "ComplianceDeadlineSet", due_on: "2025-01-31", obligations: d },
    { type: "DeadlineExtended", due_on: "2025-03-31", reason: null },
    { type: "ComplianceConfirmed", confirmed_on: "2025-03-01", note: d },
    { type: "SanctionNotified", notified_on: "2024-09-16", sanction: { kind: "fine", amount_mad: 20000n }, legal_basis: "Loi 09-08", reasons: null },
    { type: "AuthoritiesNotified", notified_on: "2024-01-10", authorities: ["A", "B"] },
    { type: "CaseClosed", closed_on: "2025-04-20", outcome: "referred", summary: null },
    { type: "Correction", target: 14n, erratum: d },
    { type: "Erasure", target: 2n ** 40n, reason: "r" },
    { type: "IndexCommitted", size: 300n, keys: 70000n, root: d },
    { type: "LogKeyRotated", new_key: k, reason: "rotation annuelle" },
    { type: "ComplaintInadmissible", decided_on: "2025-02-17", reason: d },
    { type: "ComplaintForwarded", forwarded_on: "2025-03-05", to: "ANRT", reason: null },
    { type: "ProceedingsSuspended", suspended_on: "2025-02-20", reason: d },
    { type: "ProceedingsResumed", resumed_on: "2025-03-14" },
    { type: "DecisionPublished", published_on: "2025-04-02", decision_number: "D-2025-014", summary: d },
    { type: "AppealLodged", lodged_on: "2025-04-21", court: "Tribunal administratif", by: "complainant" },
    { type: "CourtRuling", ruled_on: "2025-06-30", court: "Tribunal administratif", ruling: "partially_annulled", summary: null },
    { type: "CaseReopened", reopened_on: "2025-09-01", reason: null },
    { type: "Amendment", target: 21n, amend: { field: "categories", value: ["image", "profiling"] }, reason: d },
  ];
  assert.deepEqual(
    events.map((e) => e.type),
    core.EVENTS,
  );
  const key = await forge.keyFromSeed(new Uint8Array(32).fill(1));
  for (const [i, event] of events.entries()) {
    const e = { seq: 2n ** 33n + BigInt(i), prev: d, recorded_at: -5n, case: null, event };
    const bytes = await forge.signEntry(e, key, "o");
    const back = core.decodeEntry(bytes);
    assert.equal(back.event.type, event.type);
    assert.equal(back.seq, e.seq);
    assert.equal(back.recorded_at, -5n);
    for (const [f, v] of Object.entries(event)) {
      const got = back.event[f];
      assert.equal(JSON.stringify(got, (_, x) => (typeof x === "bigint" ? String(x) : x instanceof Uint8Array ? hex(x) : x)),
        JSON.stringify(v, (_, x) => (typeof x === "bigint" ? String(x) : x instanceof Uint8Array ? hex(x) : x)), `${event.type}.${f}`);
    }
    assert.equal(await core.verifyEntrySignature(back, bytes, "o"), true);
  }
  // IndexCommitted's bytes, by hand: variant 14, size 300 (fb 2c 01), keys 70000 (fc 70 11 01 00), root.
  const bytes = await forge.signEntry({ seq: 1n, prev: d, recorded_at: 0n, case: null, event: events[14] }, key, "o");
  const tail = hex(bytes.slice(bytes.length - 64 - 32 - 9, bytes.length - 64 - 32));
  assert.equal(tail, "0efb2c01fc70110100");
});

test("golden checkpoint (FORMAT §6.3) opens with the golden log key", async () => {
  const g = golden();
  const key = await core.parseVerifierKey(g.vkey);
  assert.equal(key.name, "registre.example.ma/plaintes");
  const parsed = await core.openNote(g.checkpoint, key);
  const cp = core.parseCheckpoint(parsed.text);
  assert.equal(cp.size, 1);
  assert.equal(hex(cp.root), g.leaf, "the tree of one leaf has that leaf's hash as root");
  const other = await core.parseVerifierKey(await forge.vkey("registre.example.ma/plaintes", await forge.keyFromSeed(new Uint8Array(32).fill(3))));
  await assert.rejects(core.openNote(g.checkpoint, other), /is not signed by the key/);
  const tampered = g.checkpoint.replace("\n1\n", "\n2\n");
  await assert.rejects(core.openNote(tampered, key), /signature is invalid/);
  await assert.rejects(core.parseVerifierKey(g.vkey.replace("cc01b08c", "cc01b08d")), /key ID does not match/);
});

test("Ed25519: verify_strict's extra rules are applied before WebCrypto", async () => {
  assert.equal(await core.ed25519Supported(), true);
  const g = golden();
  const e = core.decodeEntry(g.bytes);
  // S + ℓ: the same equation, refused (S must be below ℓ).
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(e.signature[i]);
  s += L;
  const sig = e.signature.slice();
  for (let i = 32; i < 64; i++) {
    sig[i] = Number(s & 0xffn);
    s >>= 8n;
  }
  const msg = core.concat(new TextEncoder().encode("sijil/event/v1\nregistre.example.ma/plaintes\n"), g.bytes.slice(0, g.bytes.length - 64));
  assert.equal(await core.verifyEd25519(e.signer, e.signature, msg), true);
  assert.equal(await core.verifyEd25519(e.signer, sig, msg), false);
  // Small-order and non-canonical keys.
  assert.ok(core.pointProblem(new Uint8Array(32)));
  assert.ok(core.pointProblem(core.concat([1], new Uint8Array(31))));
  assert.ok(core.pointProblem(fromHex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")));
  assert.ok(core.pointProblem(fromHex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")));
  assert.ok(core.pointProblem(fromHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85")));
  assert.equal(core.pointProblem(e.signer), null);
});

// ---- docs/vectors/index-v1.json (FORMAT §10) --------------------------------------------------

test("index vectors: subject keys", async () => {
  for (const k of VECTORS.keys) {
    const name = k.subject === "officer" ? fromHex(k.name) : k.name;
    assert.equal(hex(await core.indexKey(k.subject, name)), k.key, `${k.subject} ${k.name}`);
  }
  const caseKey = VECTORS.keys.find((k) => k.subject === "case");
  assert.equal(hex(await core.caseKey(caseKey.name)), caseKey.key);
});

test("index vectors: mini-logs (root and value)", async () => {
  for (const m of VECTORS.mini_logs) {
    const pairs = m.entries.map(([seq, leaf]) => [seq, fromHex(leaf)]);
    assert.equal(hex(await core.miniRoot(pairs)), m.root);
    assert.equal(hex(await core.keyValue(pairs)), m.value);
  }
});

test("index vectors: every trie proof verifies, to the value or to absence", async () => {
  let checked = 0;
  for (const t of VECTORS.tries) {
    const root = fromHex(t.root);
    // The test-only trie builder agrees with the vectors' roots.
    const built = await forge.trie(t.entries.map(([k, v]) => [fromHex(k), fromHex(v)]));
    assert.equal(hex(built.root), t.root, `trie of ${t.entries.length} keys`);
    for (const p of t.proofs) {
      const proof = core.parseTrieProof(p.proof);
      const value = await core.verifyTrieProof(proof, root, fromHex(p.key));
      assert.equal(value === null ? null : hex(value), p.value);
      assert.deepEqual(built.prove(fromHex(p.key)), p.proof, "the builder's proofs are the vectors'");
      checked++;
    }
  }
  assert.ok(checked >= 20, `${checked} proofs checked`);
});

test("index vectors: altered trie proofs are refused", async () => {
  const t = VECTORS.tries[VECTORS.tries.length - 1];
  const root = fromHex(t.root);
  const present = t.proofs.find((p) => p.value !== null && p.proof.siblings.length > 2);
  const key = fromHex(present.key);
  const variants = [];
  const clone = () => JSON.parse(JSON.stringify(present.proof));
  let v = clone();
  v.end.value = "00".repeat(32);
  variants.push(["a changed value", v]);
  v = clone();
  v.siblings.pop();
  variants.push(["a missing sibling", v]);
  v = clone();
  [v.siblings[0], v.siblings[1]] = [v.siblings[1], v.siblings[0]];
  variants.push(["swapped siblings", v]);
  v = clone();
  v.siblings[0] = null;
  variants.push(["EMPTY below the root", v]);
  v = clone();
  v.end.label = v.end.label.slice(0, -2) + ((parseInt(v.end.label.slice(-2), 16) ^ 1).toString(16).padStart(2, "0"));
  variants.push(["another key's leaf claimed as absent-proof", v]);
  for (const [what, p] of variants) {
    await assert.rejects(core.verifyTrieProof(core.parseTrieProof(p), root, key), Failure, what);
  }
  // A present key cannot be proven absent with another key's leaf: the end label must diverge.
  const other = t.proofs.find((p) => p.value !== null && p.key !== present.key);
  await assert.rejects(core.verifyTrieProof(core.parseTrieProof(other.proof), root, key), Failure);
  // Malformed JSON nodes.
  assert.throws(() => core.parseTrieProof({ end: { bits: 9, label: "ff", value: "00".repeat(32) }, siblings: [] }), Failure);
  assert.throws(() => core.parseTrieProof({ end: { bits: 9, label: "ffff", value: "00".repeat(32) }, siblings: [] }), /stray label bits/);
  assert.throws(() => core.parseTrieProof({ end: { bits: 257, label: "", value: "" }, siblings: [] }), Failure);
  // The empty trie.
  const empty = VECTORS.tries.find((x) => x.entries.length === 0);
  assert.equal(await core.verifyTrieProof(core.parseTrieProof(empty.proofs[0].proof), fromHex(empty.root), key), null);
});

// ---- RFC 9162 proofs ---------------------------------------------------------------------------

test("inclusion and consistency proofs, every size up to 20", async () => {
  const leaves = [];
  for (let i = 0; i < 20; i++) leaves.push(await core.leafHash(Uint8Array.of(i)));
  for (let n = 1; n <= 20; n++) {
    const root = await core.merkleRoot(leaves.slice(0, n));
    for (let m = 0; m < n; m++) {
      const proof = await forge.inclusionProof(leaves.slice(0, n), m);
      assert.equal(await core.verifyInclusion(proof, m, n, root, leaves[m]), true, `inclusion ${m} in ${n}`);
      assert.equal(await core.verifyInclusion(proof, m, n, root, leaves[(m + 1) % 20]), false);
      if (proof.length) assert.equal(await core.verifyInclusion(proof.slice(1), m, n, root, leaves[m]), false);
    }
    for (let m = 1; m <= n; m++) {
      const old = await core.merkleRoot(leaves.slice(0, m));
      const proof = await forge.consistencyProof(leaves.slice(0, n), m);
      assert.equal(await core.verifyConsistency(proof, m, old, n, root), true, `consistency ${m} → ${n}`);
      if (m < n) {
        assert.equal(await core.verifyConsistency(proof, m, new Uint8Array(32), n, root), false, `wrong old root ${m} → ${n}`);
        assert.equal(await core.verifyConsistency(proof, m, old, n, old), false, `wrong new root ${m} → ${n}`);
        assert.equal(await core.verifyConsistency(proof.slice(0, -1), m, old, n, root), false);
      }
    }
  }
});

// ---- Cosignatures (FORMAT §9.4) --------------------------------------------------------------

test("witness cosignatures: counted when they verify, named when they do not", async () => {
  const g = golden();
  const key = await core.parseVerifierKey(g.vkey);
  const parsed = await core.openNote(g.checkpoint, key);
  const w1 = await forge.keyFromSeed(new Uint8Array(32).fill(4));
  const w2 = await forge.keyFromSeed(new Uint8Array(32).fill(5));
  const k1 = await core.parseVerifierKey(await forge.vkey("witness.example/one", w1, 4), 4);
  const k2 = await core.parseVerifierKey(await forge.vkey("witness.example/two", w2, 4), 4);
  await assert.rejects(core.parseVerifierKey(await forge.vkey("witness.example/one", w1, 4)), /not an Ed25519 log key/);
  const line = async (k, signer, t, text) => {
    const tb = core.be64(t);
    const m = core.concat(new TextEncoder().encode(`cosignature/v1\ntime ${t}\n`), new TextEncoder().encode(text));
    return `\u2014 ${k.name} ${toBase64(core.concat(k.id, tb, await signer.sign(m)))}\n`;
  };
  const note = g.checkpoint + (await line(k1, w1, 1700000000, parsed.text)) + (await line(k2, w2, 1700000001, "other text\n"));
  const reopened = await core.openNote(note, key);
  const r = await core.checkCosignatures(reopened, [k1, k2]);
  assert.deepEqual(r.verified.map((v) => v.witness.name), ["witness.example/one"]);
  assert.equal(r.verified[0].time, 1700000000);
  assert.deepEqual(r.invalid.map((v) => v.name), ["witness.example/two"]);
  const zero = g.checkpoint + (await line(k1, w1, 0, parsed.text));
  assert.equal((await core.checkCosignatures(await core.openNote(zero, key), [k1])).invalid.length, 1, "time 0 is refused");
});

// ---- Whole cases -------------------------------------------------------------------------------

async function register() {
  const amina = await forge.keyFromSeed(new Uint8Array(32).fill(1));
  const karim = await forge.keyFromSeed(new Uint8Array(32).fill(6));
  const intruder = await forge.keyFromSeed(new Uint8Array(32).fill(8));
  const reg = await forge.Register.create("registre.example.ma/test", [{ key: amina, name: "amina", role: "admin" }]);
  const summary = new Uint8Array(32).fill(0x33);
  await reg.append(amina, { type: "ComplaintReceived", controller: { id: "acme", name: "ACME SARL" }, categories: ["privacy"], received_on: "2024-01-02", summary }, "2024-0001");
  await reg.append(amina, { type: "OfficerAuthorized", officer: { key: karim.public, name: "karim", role: "clerk" } });
  await reg.append(karim, { type: "HearingHeld", held_on: "2024-02-01", place: "Rabat", summary: null }, "2024-0001");
  await reg.append(amina, { type: "ComplaintReceived", controller: { id: "beta", name: "Beta" }, categories: ["image"], received_on: "2024-03-01", summary: null }, "2024-0002");
  await reg.append(amina, { type: "ComplianceDeadlineSet", due_on: "2024-05-31", obligations: summary }, "2024-0001");
  return { reg, amina, karim, intruder };
}

// Each failure also has its Arabic sentence (issue 12; tests/arabic.test.js says more).
const ens = (report) =>
  report.failures.map((f) => {
    assert.match(f.in("ar"), /[\u0600-\u06FF]/, `no Arabic for: ${f.en}`);
    return f.en;
  });

test("an honest case verifies completely, with its officers", async () => {
  const { reg } = await register();
  await reg.commit();
  const key = await core.parseVerifierKey(reg.vkey);
  const data = await reg.caseAnswer("2024-0001");
  assert.deepEqual(data.completeness.seqs, [1, 3, 5]);
  const r = await core.verifyCase(data, key, "2024-0001");
  assert.deepEqual(ens(r), []);
  assert.equal(r.complete, true);
  assert.equal(r.officers.get(3).name, "karim");
  assert.equal(r.officers.get(1).name, "amina");
  const facts = core.projectCase(r.entries);
  assert.equal(facts.status, "awaiting_compliance");
  assert.equal(facts.deadline, "2024-05-31");
  assert.deepEqual(facts.hearings.map((h) => h.place), ["Rabat"]);
  // An unknown case: a proof of absence.
  const absent = { error: "no case", checkpoint: data.checkpoint, completeness: { ...data.completeness } };
  absent.completeness.key = hex(await core.caseKey("2099-0001"));
  absent.completeness.trie_proof = reg.indexed.trie.prove(await core.caseKey("2099-0001"));
  assert.deepEqual(await core.verifyAbsence(absent, key, "2099-0001"), { size: 7, seq: 6 });
  await assert.rejects(core.verifyAbsence(absent, key, "2024-0001"), Failure);
});

test("a dropped last entry fails and says so — entries and seqs trimmed, or entries alone", async () => {
  const { reg } = await register();
  await reg.commit();
  const key = await core.parseVerifierKey(reg.vkey);
  const both = await reg.caseAnswer("2024-0001");
  both.entries.pop();
  both.completeness.seqs.pop();
  let r = await core.verifyCase(both, key, "2024-0001");
  assert.equal(r.complete, false);
  assert.match(ens(r).join("\n"), /Incomplete or altered case: the register's signed index \(entry 6\) does not match the 2 entries received \(1, 3\)/);
  const alone = await reg.caseAnswer("2024-0001");
  alone.entries.pop();
  r = await core.verifyCase(alone, key, "2024-0001");
  assert.match(ens(r).join("\n"), /The register's index lists 3 entries for this case \(1, 3, 5\), the answer holds 2: entry 5 missing\./);
  // An entry of another case added.
  const added = await reg.caseAnswer("2024-0001");
  added.entries.push(await reg.servedEntry(4, "leaf_index"));
  r = await core.verifyCase(added, key, "2024-0001");
  assert.match(ens(r).join("\n"), /Entry 4: it belongs to case 2024-0002, not 2024-0001/);
});

test("a stale or foreign index entry, a wrong tree, a changed byte: each is named", async () => {
  const { reg } = await register();
  await reg.commit();
  const key = await core.parseVerifierKey(reg.vkey);
  let data = await reg.caseAnswer("2024-0001");
  data.completeness.index = await reg.servedEntry(5, "seq");
  let r = await core.verifyCase(data, key, "2024-0001");
  assert.match(ens(r).join("\n"), /The index entry must be the log's last \(entry 6\)/);
  data = await reg.caseAnswer("2024-0001");
  const b = core.base64(data.entries[1].bytes);
  b[b.length - 70] ^= 1;
  data.entries[1].bytes = toBase64(b);
  r = await core.verifyCase(data, key, "2024-0001");
  assert.match(ens(r).join("\n"), /Entry 3: (not included|the officer's signature is invalid)/);
  // The checkpoint signed by another key: fatal.
  const other = await core.parseVerifierKey(await forge.vkey("registre.example.ma/test", await forge.keyFromSeed(new Uint8Array(32).fill(9))));
  await assert.rejects(core.verifyCase(await reg.caseAnswer("2024-0001"), other, "2024-0001"), /is not signed by the key/);
});

test("an entry signed by a key never authorized fails, even when the log key signs everything", async () => {
  const { reg, intruder } = await register();
  // The register's own log key forges: an intruder's hearing, committed in a valid index.
  await reg.append(intruder, { type: "HearingHeld", held_on: "2024-06-01", place: "Ailleurs", summary: null }, "2024-0001");
  await reg.commit();
  const key = await core.parseVerifierKey(reg.vkey);
  const data = await reg.caseAnswer("2024-0001");
  const r = await core.verifyCase(data, key, "2024-0001");
  assert.equal(r.complete, true, "the case is complete: only the signer is wrong");
  const ih = hex(intruder.public);
  assert.deepEqual(ens(r), [
    `Entry 6: signed by key ${ih}, which had never been authorized in this register (its history, proven by the signed index, has no authorization before this entry)`,
  ]);
  // Without the signer's proof: said as such.
  data.completeness.signers = data.completeness.signers.filter((s) => s.key !== ih);
  const r2 = await core.verifyCase(data, key, "2024-0001");
  assert.match(ens(r2).join("\n"), /Entry 6: signed by key [0-9a-f]{64}, and the server gives no proof that this key was authorized/);
});

test("an entry signed after its officer's revocation fails; hiding the revocation is caught", async () => {
  const { reg, amina, karim } = await register();
  await reg.append(amina, { type: "OfficerRevoked", key: karim.public, reason: "départ" });
  await reg.append(karim, { type: "HearingHeld", held_on: "2024-06-01", place: "Rabat", summary: null }, "2024-0001");
  await reg.commit();
  const key = await core.parseVerifierKey(reg.vkey);
  const data = await reg.caseAnswer("2024-0001");
  let r = await core.verifyCase(data, key, "2024-0001");
  assert.deepEqual(ens(r), [`Entry 7: signed by karim (${hex(karim.public)}) after the key was revoked (entry 6)`]);
  // The server leaves the revocation out of karim's history: the index value no longer matches.
  const s = data.completeness.signers.find((x) => x.key === hex(karim.public));
  s.entries.pop();
  s.seqs.pop();
  r = await core.verifyCase(data, key, "2024-0001");
  assert.match(ens(r).join("\n"), /Authorization of key [0-9a-f]+ \(entry 3\): the officer history given does not match the signed index/);
});

test("an authorization hidden from the index (a forged trie without the officer) is refused", async () => {
  const { reg, karim } = await register();
  const karimKey = hex(await core.officerKey(karim.public));
  await reg.commit((k) => k === karimKey);
  const key = await core.parseVerifierKey(reg.vkey);
  const r = await core.verifyCase(await reg.caseAnswer("2024-0001"), key, "2024-0001");
  assert.match(ens(r).join("\n"), /Entry 3: signed by key [0-9a-f]+, which had never been authorized in this register/);
});

test("each authorization on the way up to the register's opening is signed by an admin authorized before it", async () => {
  const { reg, amina, karim } = await register();
  const deputy = await forge.keyFromSeed(new Uint8Array(32).fill(9));
  const forged = await forge.keyFromSeed(new Uint8Array(32).fill(10));
  // amina (admin) authorizes a deputy admin, who authorizes a clerk: an unbroken chain.
  const clerk = await forge.keyFromSeed(new Uint8Array(32).fill(11));
  await reg.append(amina, { type: "OfficerAuthorized", officer: { key: deputy.public, name: "deputy", role: "admin" } });
  await reg.append(deputy, { type: "OfficerAuthorized", officer: { key: clerk.public, name: "salma", role: "clerk" } });
  await reg.append(clerk, { type: "HearingHeld", held_on: "2024-06-01", place: "Rabat", summary: null }, "2024-0001");
  // karim, a clerk, "authorizes" a key (the writer refuses it; the log key alone could
  // publish it), which signs a hearing of case 2024-0002.
  await reg.append(karim, { type: "OfficerAuthorized", officer: { key: forged.public, name: "forged", role: "clerk" } });
  await reg.append(forged, { type: "HearingHeld", held_on: "2024-06-02", place: "Rabat", summary: null }, "2024-0002");
  await reg.commit();
  const key = await core.parseVerifierKey(reg.vkey);
  const good = await reg.caseAnswer("2024-0001");
  assert.ok(good.completeness.signers.some((s) => s.key === hex(deputy.public)), "the deputy's history is carried");
  const r = await core.verifyCase(good, key, "2024-0001");
  assert.deepEqual(ens(r), []);
  // Without the deputy's history, the clerk's authorization is unproven.
  good.completeness.signers = good.completeness.signers.filter((s) => s.key !== hex(deputy.public));
  const r1 = await core.verifyCase(good, key, "2024-0001");
  assert.match(ens(r1).join("\n"), /Authorization of key [0-9a-f]{64} \(entry 8\): entry 7, key [0-9a-f]{64}: the server gives no proof/);
  const bad = await reg.caseAnswer("2024-0002");
  const r2 = await core.verifyCase(bad, key, "2024-0002");
  assert.deepEqual(ens(r2), [
    `Authorization of key ${hex(forged.public)} (entry 10): entry 9 (OfficerAuthorized) is signed by key ${hex(karim.public)}, which was not then an authorized admin`,
  ]);
});

// ---- SHA-256 over parts ---------------------------------------------------------------------

test("sha256 matches node's for every length around the padding boundaries, and over parts", async () => {
  const { createHash } = require("node:crypto");
  const data = new Uint8Array(300).map((_, i) => (i * 151 + 7) & 0xff);
  for (let n = 0; n <= 300; n++) {
    const part = data.subarray(0, n);
    const want = createHash("sha256").update(part).digest("hex");
    assert.equal(hex(await core.sha256(part)), want, `length ${n}`);
    const cut = n >> 1;
    assert.equal(hex(await core.sha256(part.subarray(0, cut), part.subarray(cut))), want, `length ${n} in two parts`);
  }
});

test("base64 decodes what Buffer encodes, and refuses invalid and non-canonical text", () => {
  for (let n = 0; n <= 70; n++) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 97 + n) & 0xff);
    const text = Buffer.from(bytes).toString("base64");
    assert.deepEqual(core.base64(text), bytes, `length ${n}`);
  }
  for (const bad of ["A", "AB=", "A===", "AB=C", "AB==AB==", "ab-_", "é===", "AB\n=", null]) {
    assert.throws(() => core.base64(bad), /invalid base64/, JSON.stringify(bad));
  }
  // The stray bits of the last character must be zero (RFC 4648 §3.5).
  for (const noncanonical of ["AB==", "AAB=", "/x=="]) {
    assert.throws(() => core.base64(noncanonical), /non-canonical base64/, noncanonical);
  }
  assert.deepEqual(core.base64("AA=="), Uint8Array.of(0));
});

// ---- SHA-256: WebAssembly, and WebCrypto where WebAssembly cannot run ------------------------

test("sha256 runs in WebAssembly here, and falls back to WebCrypto without it, both matching node's", async () => {
  const { createHash } = require("node:crypto");
  assert.equal(core.sha256Engine, "wasm");
  // The same file loaded afresh where WebAssembly does not exist (as under a CSP that forbids it).
  const file = require.resolve("../sijil-verify-core.js");
  const saved = globalThis.WebAssembly;
  delete require.cache[file];
  let fallback;
  try {
    delete globalThis.WebAssembly;
    fallback = require(file);
  } finally {
    globalThis.WebAssembly = saved;
    delete require.cache[file];
  }
  assert.equal(fallback.sha256Engine, "webcrypto");
  // Lengths around the padding boundaries, and past the module's first 64 KiB page (a blob
  // is up to 65,568 bytes), twice, so that a grown memory is reused.
  const lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 65536 + 32, 200000, 70000];
  for (const n of lengths) {
    const data = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
    const want = createHash("sha256").update(data).digest("hex");
    assert.equal(hex(await core.sha256(data)), want, `wasm, length ${n}`);
    assert.equal(hex(await fallback.sha256(data)), want, `webcrypto, length ${n}`);
  }
  const l = new Uint8Array(32).fill(7);
  const r = new Uint8Array(32).fill(9);
  assert.equal(hex(await core.nodeHash(l, r)), createHash("sha256").update(Uint8Array.of(1)).update(l).update(r).digest("hex"));
});

test("issue 13: a case life with the new events projects as crates/projector does", async () => {
  const amina = await forge.keyFromSeed(new Uint8Array(32).fill(1));
  const reg = await forge.Register.create("registre.example.ma/test", [{ key: amina, name: "amina", role: "admin" }]);
  const id = "2024-0003";
  const add = (event) => reg.append(amina, event, id);
  const court = "Tribunal administratif de Rabat";
  await add({ type: "ComplaintReceived", controller: { id: "x", name: "X" }, categories: ["privacy", "image"], received_on: "2024-01-08", summary: null }); // 1
  await add({ type: "HearingHeld", held_on: "2024-02-12", place: "Rabat", summary: null }); // 2
  await add({ type: "Amendment", target: 2n, amend: { field: "date", value: "2024-02-13" }, reason: null }); // 3
  await add({ type: "ProceedingsSuspended", suspended_on: "2024-02-20", reason: null }); // 4
  await add({ type: "ProceedingsResumed", resumed_on: "2024-03-14" }); // 5
  await add({ type: "SanctionNotified", notified_on: "2024-04-01", sanction: { kind: "warning" }, legal_basis: "art. 51", reasons: null }); // 6
  await add({ type: "DecisionPublished", published_on: "2024-04-02", decision_number: "D-1", summary: null }); // 7
  await add({ type: "AppealLodged", lodged_on: "2024-04-22", court, by: "controller" }); // 8
  await add({ type: "CourtRuling", ruled_on: "2024-06-28", court, ruling: "upheld", summary: null }); // 9
  await add({ type: "CaseClosed", closed_on: "2024-07-01", outcome: "sanctioned", summary: null }); // 10
  await add({ type: "Amendment", target: 1n, amend: { field: "categories", value: ["identity_theft"] }, reason: null }); // 11
  await reg.commit();
  const key = await core.parseVerifierKey(reg.vkey);
  const r = await core.verifyCase(await reg.caseAnswer(id), key, id);
  assert.deepEqual(ens(r), []);
  const steps = [];
  for (let n = 1; n <= r.entries.length; n++) steps.push(core.projectCase(r.entries.slice(0, n)).status);
  assert.deepEqual(steps, [
    "open", "under_investigation", "under_investigation", "suspended", "under_investigation", "sanctioned",
    "sanctioned", "under_appeal", "sanctioned", "closed", "closed",
  ]);
  const facts = core.projectCase(r.entries);
  assert.equal(facts.hearings[0].held_on, "2024-02-13", "as amended");
  assert.deepEqual(facts.categories, ["identity_theft"]);
  assert.deepEqual(facts.annotations.get("2").amendments, [3]);
  assert.deepEqual(facts.decisions.map((d) => d.decision_number), ["D-1"]);
  assert.equal(facts.appeals[0].ruling.ruling, "upheld");
  assert.equal(facts.closing.closed_on, "2024-07-01");
  await add({ type: "CaseReopened", reopened_on: "2024-09-02", reason: null });
  await reg.commit();
  const again = await core.verifyCase(await reg.caseAnswer(id), key, id);
  const reopened = core.projectCase(again.entries);
  assert.equal(reopened.status, "reopened");
  assert.equal(reopened.closing, null);
});

test("golden LogKeyRotated entry (FORMAT §6.6) decodes field by field and its signature verifies", async () => {
  const section = /### 6\.6 A `LogKeyRotated` entry[\s\S]*?Full entry: `([0-9a-f]+)`[\s\S]*?Leaf hash: `([0-9a-f]{64})`/.exec(FORMAT);
  assert.ok(section, "docs/FORMAT.md §6.6 has the golden rotation entry");
  const bytes = fromHex(section[1]);
  const e = core.decodeEntry(bytes);
  assert.equal(e.seq, 3n);
  assert.equal(e.case, null);
  assert.equal(e.event.type, "LogKeyRotated");
  assert.equal(hex(e.event.new_key), "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1");
  assert.equal(e.event.reason, "scheduled rotation");
  assert.equal(hex(await core.leafHash(bytes)), section[2]);
});

// ---- Log key rotation (FORMAT §3.1): the browser follows the chain -----------------------------

test("a rotated register: its cases verify with the new key, and a pinned old key follows the chain", async () => {
  const { reg, amina } = await register();
  await reg.commit();
  const k0 = await core.parseVerifierKey(reg.vkey);
  const next = await forge.keyFromSeed(new Uint8Array(32).fill(9));
  const at = await reg.rotate(next);
  await reg.append(amina, { type: "HearingHeld", held_on: "2024-06-01", place: "Fès", summary: null }, "2024-0001");
  await reg.commit();
  const k1 = await core.parseVerifierKey(reg.vkey);
  assert.notEqual(k1.text, k0.text);
  // The case's officer histories start at the opening, which names the first key.
  const r = await core.verifyCase(await reg.caseAnswer("2024-0001"), k1, "2024-0001");
  assert.deepEqual(ens(r), []);
  assert.equal(r.complete, true);
  // The old key does not open the new checkpoint; the chain leads from it to the new one.
  await assert.rejects(core.verifyCase(await reg.caseAnswer("2024-0001"), k0, "2024-0001"), Failure);
  const steps = await core.followLogKeys(await reg.logKeysAnswer(), k0, k1);
  assert.deepEqual(steps.map((s) => [s.seq, hex(s.from), hex(s.to)]), [[at, hex(k0.key), hex(k1.key)]]);
  // From the current key to itself: no step.
  assert.deepEqual(await core.followLogKeys(await reg.logKeysAnswer(), k1, k1), []);

  // Two rotations, followed from either earlier key.
  const third = await forge.keyFromSeed(new Uint8Array(32).fill(10));
  const at2 = await reg.rotate(third);
  await reg.commit();
  const k2 = await core.parseVerifierKey(reg.vkey);
  const answer = await reg.logKeysAnswer();
  assert.deepEqual((await core.followLogKeys(answer, k0, k2)).map((s) => s.seq), [at, at2]);
  assert.deepEqual((await core.followLogKeys(answer, k1, k2)).map((s) => s.seq), [at2]);

  // What fails, with a sentence: a rotation left out, the checkpoint not signed by the
  // site's key, a key not in the chain.
  const cut = { ...answer, entries: answer.entries.filter((x) => x.seq !== at) };
  await assert.rejects(core.followLogKeys(cut, k0, k2), (e) => e instanceof Failure && /no entry of the register leads from key/.test(e.en));
  await assert.rejects(core.followLogKeys(answer, k0, k1), Failure);
  const stranger = await core.parseVerifierKey(await forge.vkey(reg.origin, await forge.keyFromSeed(new Uint8Array(32).fill(11))));
  await assert.rejects(core.followLogKeys(answer, stranger, k2), (e) => e instanceof Failure && /no entry of the register leads/.test(e.en));
});

test("a rotation signed by a retired key breaks the chain, and says which entry", async () => {
  const { reg } = await register();
  await reg.commit();
  const k0 = await core.parseVerifierKey(reg.vkey);
  const k0priv = reg.logKey;
  const k1key = await forge.keyFromSeed(new Uint8Array(32).fill(9));
  await reg.rotate(k1key);
  // Whoever still holds the retired key names a key of their own: the chain breaks there.
  const evil = await forge.keyFromSeed(new Uint8Array(32).fill(12));
  const forged = await reg.rotate(evil, k0priv);
  await reg.commit();
  const kEvil = await core.parseVerifierKey(reg.vkey);
  await assert.rejects(
    core.followLogKeys(await reg.logKeysAnswer(), k0, kEvil),
    (e) => e instanceof Failure && e.en.includes(`entry ${forged} rotates the register's key without being signed by the key then in service`) && /[\u0600-\u06FF]/.test(e.ar),
  );
});
