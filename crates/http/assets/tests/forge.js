// Test-only helpers: a tiny register writer in JS (entry encoder, Ed25519 signer, RFC 9162
// proofs, the index's trie and its proofs), so that the node tests can build whole-case
// answers — honest ones, and the forgeries a register holding its own log key could make —
// and check what the verifier says about them. Nothing here is served to browsers.
"use strict";
// Node 18 has WebCrypto, but not yet as the global `crypto` browsers have.
if (!globalThis.crypto) globalThis.crypto = require("node:crypto").webcrypto;
const core = require("../sijil-verify-core.js");

const utf8 = new TextEncoder();
const { concat, sha256, hex, leafHash, nodeHash, toBase64 } = core;

// ---- bincode 2 standard configuration, the encoder (docs/FORMAT.md §1) -------------------

function varint(n) {
  const v = BigInt(n);
  if (v < 251n) return Uint8Array.of(Number(v));
  const le = (width) => {
    const u = new Uint8Array(width);
    let x = v;
    for (let i = 0; i < width; i++) {
      u[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    return u;
  };
  if (v < 1n << 16n) return concat([251], le(2));
  if (v < 1n << 32n) return concat([252], le(4));
  return concat([253], le(8));
}
const zigzag = (n) => {
  const v = BigInt(n);
  return v >= 0n ? v << 1n : (-v << 1n) - 1n;
};
const str = (s) => {
  const b = utf8.encode(s);
  return concat(varint(b.length), b);
};
const opt = (x, f) => (x === null || x === undefined ? Uint8Array.of(0) : concat([1], f(x)));
const vec = (xs, f) => concat(varint(xs.length), ...xs.map(f));
const date = (s) => {
  const [y, m, d] = s.split("-").map(Number);
  return concat(varint(y), [m], [d]);
};
const idx = (list, name) => {
  const i = list.indexOf(name);
  if (i < 0) throw new Error(`unknown ${name}`);
  return varint(i);
};
const officer = (o) => concat(o.key, str(o.name), idx(["admin", "clerk"], o.role));
const controller = (c) => concat(str(c.id), str(c.name));

/** A case's categories, a vector of catalogue indexes. */
const categories = (cs) => vec(cs, (c) => idx(core.CATEGORIES, c));

function encodeEvent(e) {
  // The variant index: EVENTS in order (15 is LogKeyRotated).
  const i = core.EVENTS.indexOf(e.type);
  if (i < 0) throw new Error(`unknown ${e.type}`);
  const head = varint(i);
  const d = (x) => x;
  switch (e.type) {
    case "RegisterOpened":
      return concat(head, str(e.origin), str(e.title), str(e.authority), e.log_key, vec(e.officers, officer));
    case "OfficerAuthorized":
      return concat(head, officer(e.officer));
    case "OfficerRevoked":
      return concat(head, e.key, str(e.reason));
    case "ComplaintReceived":
      return concat(head, controller(e.controller), categories(e.categories), date(e.received_on), opt(e.summary, d));
    case "InspectionOpened":
      return concat(
        head,
        date(e.opened_on),
        opt(e.opens, (o) => concat(controller(o.controller), categories(o.categories))),
        opt(e.scope, d),
      );
    case "HearingHeld":
      return concat(head, date(e.held_on), str(e.place), opt(e.summary, d));
    case "ComplianceDeadlineSet":
      return concat(head, date(e.due_on), e.obligations);
    case "DeadlineExtended":
      return concat(head, date(e.due_on), opt(e.reason, d));
    case "ComplianceConfirmed":
      return concat(head, date(e.confirmed_on), opt(e.note, d));
    case "SanctionNotified":
      return concat(
        head,
        date(e.notified_on),
        idx(core.SANCTIONS, e.sanction.kind),
        e.sanction.kind === "fine" ? varint(e.sanction.amount_mad) : new Uint8Array(0),
        str(e.legal_basis),
        opt(e.reasons, d),
      );
    case "AuthoritiesNotified":
      return concat(head, date(e.notified_on), vec(e.authorities, str));
    case "CaseClosed":
      return concat(head, date(e.closed_on), idx(core.OUTCOMES, e.outcome), opt(e.summary, d));
    case "Correction":
      return concat(head, varint(e.target), e.erratum);
    case "Erasure":
      return concat(head, varint(e.target), str(e.reason));
    case "IndexCommitted":
      return concat(head, varint(e.size), varint(e.keys), e.root);
    case "LogKeyRotated":
      return concat(head, e.new_key, str(e.reason));
    case "ComplaintInadmissible":
      return concat(head, date(e.decided_on), opt(e.reason, d));
    case "ComplaintForwarded":
      return concat(head, date(e.forwarded_on), str(e.to), opt(e.reason, d));
    case "ProceedingsSuspended":
      return concat(head, date(e.suspended_on), opt(e.reason, d));
    case "ProceedingsResumed":
      return concat(head, date(e.resumed_on));
    case "DecisionPublished":
      return concat(head, date(e.published_on), str(e.decision_number), opt(e.summary, d));
    case "AppealLodged":
      return concat(head, date(e.lodged_on), str(e.court), idx(core.APPELLANTS, e.by));
    case "CourtRuling":
      return concat(head, date(e.ruled_on), str(e.court), idx(core.RULINGS, e.ruling), opt(e.summary, d));
    case "CaseReopened":
      return concat(head, date(e.reopened_on), opt(e.reason, d));
    case "Amendment": {
      const { field, value } = e.amend;
      const v = field === "controller" ? controller(value) : field === "categories" ? categories(value) : date(value);
      return concat(head, varint(e.target), idx(core.AMENDED_FIELDS, field), v, opt(e.reason, d));
    }
    default:
      throw new Error(`cannot encode ${e.type}`);
  }
}

/** The entry's bytes without the signature. */
function encodeUnsigned(e) {
  return concat(
    [1],
    varint(e.seq),
    e.prev,
    varint(zigzag(e.recorded_at)),
    e.signer,
    opt(e.case, (c) => concat(str(c.id), varint(c.seq), c.prev)),
    encodeEvent(e.event),
  );
}

// ---- Keys ---------------------------------------------------------------------------------

const PKCS8_ED25519 = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);
/** An Ed25519 key from a 32-byte seed: {seed, public, sign(message)}. */
async function keyFromSeed(seed) {
  const sk = await crypto.subtle.importKey("pkcs8", concat(PKCS8_ED25519, seed), { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", sk);
  const pub = Uint8Array.from(Buffer.from(jwk.x, "base64url"));
  return {
    seed,
    public: pub,
    sign: async (m) => new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, sk, m)),
  };
}
/** A signed-note verifier key string for `key` named `name` with type byte `type`. */
async function vkey(name, key, type = 1) {
  const raw = concat([type], key.public);
  const id = (await sha256(concat(utf8.encode(name), [0x0a], raw))).slice(0, 4);
  return `${name}+${hex(id)}+${toBase64(raw)}`;
}

/** Signs the entry `e` (fields as decodeEntry returns them, signer included) for `origin`. */
async function signEntry(e, key, origin) {
  const body = encodeUnsigned({ ...e, signer: key.public });
  const sig = await key.sign(concat(utf8.encode("sijil/event/v1\n"), utf8.encode(origin), [0x0a], body));
  return concat(body, sig);
}

// ---- RFC 9162 proofs ------------------------------------------------------------------------

async function mth(leaves) {
  return core.merkleRoot(leaves);
}
/** RFC 9162 §2.1.3.1 PATH(m, D[n]). */
async function inclusionProof(leaves, m) {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  if (m < k) return (await inclusionProof(leaves.slice(0, k), m)).concat([await mth(leaves.slice(k))]);
  return (await inclusionProof(leaves.slice(k), m - k)).concat([await mth(leaves.slice(0, k))]);
}
/** RFC 9162 §2.1.4.1 PROOF(m, D[n]). */
async function consistencyProof(leaves, m) {
  async function sub(m, d, b) {
    const n = d.length;
    if (m === n) return b ? [] : [await mth(d)];
    let k = 1;
    while (k * 2 < n) k *= 2;
    if (m <= k) return (await sub(m, d.slice(0, k), b)).concat([await mth(d.slice(k))]);
    return (await sub(m - k, d.slice(k), false)).concat([await mth(d.slice(0, k))]);
  }
  return sub(m, leaves, true);
}

// ---- The index's trie (docs/FORMAT.md §10.3) and its proofs (§10.5) ------------------------

const bit = (bytes, i) => (bytes[i >> 3] >> (7 - (i % 8))) & 1;
function prefixLabel(bytes, bits) {
  const out = new Uint8Array(32);
  const full = bits >> 3;
  out.set(bytes.subarray(0, full));
  if (bits % 8) out[full] = bytes[full] & (0xff << (8 - (bits % 8)));
  return { bits, bytes: out };
}
function commonBits(keys) {
  let bits = 0;
  while (bits < 256 && keys.every((k) => bit(k, bits) === bit(keys[0], bits))) bits++;
  return bits;
}
/** A subtrie over sorted [key, value] pairs (at least one): {label, value, hash, children}. */
async function build(pairs) {
  if (pairs.length === 1) {
    const label = { bits: 256, bytes: pairs[0][0] };
    return { label, value: pairs[0][1], hash: await core.trieNodeHash(label, pairs[0][1]) };
  }
  const bits = commonBits(pairs.map((p) => p[0]));
  const label = prefixLabel(pairs[0][0], bits);
  const left = await build(pairs.filter((p) => bit(p[0], bits) === 0));
  const right = await build(pairs.filter((p) => bit(p[0], bits) === 1));
  const value = await sha256(concat(left.hash, right.hash));
  return { label, value, hash: await core.trieNodeHash(label, value), children: [left, right] };
}
/** The trie over `pairs` ([key bytes, value bytes]): {root, prove(key)}. */
async function trie(pairs) {
  const sorted = pairs.slice().sort((a, b) => (hex(a[0]) < hex(b[0]) ? -1 : 1));
  const sides = [sorted.filter((p) => bit(p[0], 0) === 0), sorted.filter((p) => bit(p[0], 0) === 1)];
  const children = [];
  for (const s of sides) children.push(s.length ? await build(s) : null);
  const emptyHash = await core.emptyNodeHash();
  let root;
  if (!children[0] && !children[1]) root = await core.emptyTrieRoot();
  else {
    const h = (c) => (c ? c.hash : emptyHash);
    const rootLabel = { bits: 0, bytes: new Uint8Array(32) };
    root = await core.trieNodeHash(rootLabel, await sha256(concat(h(children[0]), h(children[1]))));
  }
  const node = (n) =>
    n === null ? null : { bits: n.label.bits, label: hex(n.label.bytes.slice(0, Math.ceil(n.label.bits / 8))), value: hex(n.value) };
  const isPrefix = (label, key) => hex(prefixLabel(key, label.bits).bytes) === hex(label.bytes);
  function prove(key) {
    if (!children[0] && !children[1]) return { end: null, siblings: [] };
    const side = bit(key, 0);
    const siblings = [node(children[1 - side])];
    let at = children[side];
    if (!at) return { end: null, siblings };
    for (;;) {
      if (at.label.bits === 256 || !isPrefix(at.label, key) || !at.children) return { end: node(at), siblings: siblings.reverse() };
      const b = bit(key, at.label.bits);
      siblings.push(node(at.children[1 - b]));
      at = at.children[b];
    }
  }
  return { root, prove, keys: pairs.length };
}

// ---- A whole register -----------------------------------------------------------------------

/**
 * A register in memory: append events (signed by an officer key, or forged however a test
 * likes), then `commit()` adds the IndexCommitted the log key signs and a signed checkpoint.
 * `caseAnswer(id)` is GET /api/v1/cases/{id} as docs/API.md describes it.
 */
class Register {
  static async create(origin, officers) {
    const r = new Register();
    r.origin = origin;
    r.logKey = await keyFromSeed(new Uint8Array(32).fill(2));
    r.vkey = await vkey(origin, r.logKey);
    r.entries = [];
    r.caseHeads = new Map();
    r.witnessLines = [];
    await r.append(officers[0].key, {
      type: "RegisterOpened",
      origin,
      title: "Registre de test",
      authority: "Autorité de test",
      log_key: r.logKey.public,
      officers: officers.map((o) => ({ key: o.key.public, name: o.name, role: o.role })),
    });
    return r;
  }

  /** Appends `event` signed by `key`; a case event gets its case link. */
  async append(key, event, caseId, recordedAt) {
    const seq = this.entries.length;
    const prev = seq ? this.entries[seq - 1].leaf : new Uint8Array(32);
    let link = null;
    if (caseId) {
      const head = this.caseHeads.get(caseId) || { count: 0, prev: new Uint8Array(32) };
      link = { id: caseId, seq: head.count, prev: head.prev };
    }
    const e = { seq, prev, recorded_at: recordedAt || 1700000000000 + seq * 1000, case: link, event };
    const bytes = await signEntry(e, key, this.origin);
    const leaf = await leafHash(bytes);
    this.entries.push({ bytes, leaf, decoded: core.decodeEntry(bytes) });
    if (caseId) this.caseHeads.set(caseId, { count: link.seq + 1, prev: leaf });
    return seq;
  }

  /** The keys an entry touches (FORMAT §10.1), as [tag, name] pairs. */
  static subjects(entry) {
    const out = [];
    const e = entry.event;
    if (e.type === "IndexCommitted") return out;
    if (e.type === "RegisterOpened") {
      out.push(["register", ""]);
      for (const o of e.officers) out.push(["officer", o.key]);
    } else if (e.type === "OfficerAuthorized") out.push(["register", ""], ["officer", e.officer.key]);
    else if (e.type === "OfficerRevoked") out.push(["register", ""], ["officer", e.key]);
    else if (e.type === "LogKeyRotated") out.push(["register", ""]);
    if (entry.case) out.push(["case", entry.case.id]);
    if (e.type === "ComplaintReceived") out.push(["controller", e.controller.id]);
    if (e.type === "InspectionOpened" && e.opens) out.push(["controller", e.opens.controller.id]);
    return out;
  }

  /** The index over the entries so far: Map hex key → [(seq, leaf)], and the trie. */
  async index(omit) {
    const logs = new Map();
    for (let seq = 0; seq < this.entries.length; seq++) {
      const { decoded, leaf } = this.entries[seq];
      const seen = new Set();
      for (const [tag, name] of Register.subjects(decoded)) {
        const k = hex(await core.indexKey(tag, name));
        if (seen.has(k)) continue;
        seen.add(k);
        if (!logs.has(k)) logs.set(k, []);
        logs.get(k).push([seq, leaf]);
      }
    }
    const pairs = [];
    for (const [k, list] of logs) {
      if (omit && omit(k)) continue;
      pairs.push([core.fromHex(k), await core.keyValue(list)]);
    }
    return { logs, trie: await trie(pairs) };
  }

  /** Appends the IndexCommitted and signs a checkpoint; `omit(hexKey)` forges the index. */
  async commit(omit) {
    const { trie: t } = await this.index(omit);
    const size = this.entries.length;
    await this.append(this.logKey, { type: "IndexCommitted", size: BigInt(size), keys: BigInt(t.keys), root: t.root });
    this.indexed = { trie: t, omit };
    const leaves = this.entries.map((e) => e.leaf);
    const root = await mth(leaves);
    const text = `${this.origin}\n${leaves.length}\n${toBase64(root)}\n`;
    const key = await core.parseVerifierKey(this.vkey);
    const sig = await this.logKey.sign(utf8.encode(text));
    this.note = `${text}\n\u2014 ${this.origin} ${toBase64(concat(key.id, sig))}\n`;
    return this.note;
  }

  /** Appends a LogKeyRotated signed by the current log key (or `signer`, to forge one) naming
   * `next` (a keyFromSeed key); the IndexCommitted and checkpoints after it are `next`'s. */
  async rotate(next, signer) {
    const seq = await this.append(signer || this.logKey, { type: "LogKeyRotated", new_key: next.public, reason: "Rotation de test." });
    this.logKey = next;
    this.vkey = await vkey(this.origin, next);
    return seq;
  }

  /** GET /api/v1/log-keys: the register key's entries with their proofs (FORMAT §3.1). */
  async logKeysAnswer() {
    const { logs } = await this.index();
    const rk = hex(await core.indexKey("register", ""));
    const size = this.entries.length;
    const entries = [];
    for (const [s] of logs.get(rk) || []) if (s < size - 1) entries.push(await this.servedEntry(s, "seq"));
    return { tree_size: size, checkpoint: { text: this.note }, entries };
  }

  async servedEntry(seq, field) {
    const proof = await inclusionProof(
      this.entries.map((e) => e.leaf),
      seq,
    );
    return { [field]: seq, bytes: toBase64(this.entries[seq].bytes), inclusion_proof: proof.map(toBase64) };
  }

  checkpointJson() {
    const lines = this.note.split("\n");
    return { origin: this.origin, tree_size: Number(lines[1]), root: lines[2], text: this.note };
  }

  /** GET /api/v1/cases/{id}, with the completeness proof. */
  async caseAnswer(id) {
    const size = this.entries.length;
    const { logs } = await this.index();
    const t = this.indexed.trie;
    const ck = hex(await core.caseKey(id));
    const seqs = (logs.get(ck) || []).map(([s]) => s).filter((s) => s < size - 1);
    const entries = [];
    for (const s of seqs) entries.push(await this.servedEntry(s, "leaf_index"));
    // The case's signers' histories, then those of the admins who signed them, and so on
    // (what the server's completeness builder gives).
    const signers = [];
    const pending = seqs.map((s) => this.entries[s].decoded.signer);
    while (pending.length) {
      const signer = pending.shift();
      if (signers.some((x) => x.key === hex(signer))) continue;
      const ok = hex(await core.officerKey(signer));
      const hidden = this.indexed.omit && this.indexed.omit(ok);
      const list = hidden ? [] : (logs.get(ok) || []).map(([q]) => q).filter((q) => q < size - 1);
      const es = [];
      for (const q of list) {
        es.push(await this.servedEntry(q, "seq"));
        pending.push(this.entries[q].decoded.signer);
      }
      signers.push({ key: hex(signer), index_key: ok, seqs: list, trie_proof: t.prove(core.fromHex(ok)), entries: es });
    }
    return {
      checkpoint: this.checkpointJson(),
      as_of: "2026-01-01",
      case: { id },
      entries,
      completeness: {
        size,
        index: await this.servedEntry(size - 1, "seq"),
        key: ck,
        seqs,
        trie_proof: t.prove(core.fromHex(ck)),
        signers,
      },
    };
  }
}

module.exports = { varint, encodeUnsigned, keyFromSeed, vkey, signEntry, inclusionProof, consistencyProof, trie, Register };
