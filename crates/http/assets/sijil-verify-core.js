//# allFunctionsCalledOnLoad
// (V8's explicit compile hint, https://v8.dev/blog/explicit-compile-hints: this file's functions
// are compiled while the page loads, off the main thread, not one by one during the first
// verification: about a third of a first Vérifier's time. Browsers without it ignore the comment.)
// sijil — the pure part of the browser verifier: decoding, hashing, Merkle and trie proofs,
// signed notes, and the whole-case check. No DOM, no storage, no library: WebCrypto's Ed25519,
// and SHA-256 from assets/sha256.wat (WebCrypto's where WebAssembly cannot run). The case page loads it before assets/verify.js (which draws the page);
// node loads it with require() for the tests in assets/tests/.
//
// Every rule here is docs/FORMAT.md's:
//  §1–§3  entries: bincode 2 standard configuration, varints in their shortest form only,
//         no trailing bytes, event variants 0–24 (15 is LogKeyRotated, FORMAT §3.1);
//         a case's categories: at least one, each once, in catalogue order;
//  §2.2   the signed message "sijil/event/v1\n" ‖ origin ‖ "\n" ‖ bytes[..len−64];
//  §2.4   Ed25519 with verify_strict's extra rules (canonical key and R, neither of small
//         order, S < ℓ), checked here before WebCrypto checks the equation;
//  §2.5   RFC 9162 leaf and node hashes, inclusion (§2.1.3.2), consistency (§2.1.4.2);
//  §7     c2sp.org/signed-note, tlog-checkpoint; §9.4 tlog-cosignature (cosignature/v1);
//  §10    the log-derived index: keys, mini-logs, the prefix trie and its proofs.
//
// Failures carry a French, an English and an Arabic sentence (`Failure.fr`, `.en`, `.ar`;
// `Failure.in(lang)`). The Arabic uses crates/http/locales/ar.ftl's words, Western digits,
// and isolates (U+2068…U+2069, `isolate`) around numbers, ids, keys and hex.
"use strict";
(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module.exports) module.exports = api;
  else root.SijilVerifyCore = api;
})(typeof self !== "undefined" ? self : globalThis, function () {
  const utf8 = new TextEncoder();
  // ignoreBOM: a string that starts with U+FEFF keeps it (the default would drop it, and
  // two byte strings would then read as one).
  const fromUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  /** Text of another direction inside a sentence (a number, an id, a key), isolated (FSI…PDI). */
  const isolate = (x) => `\u2068${x}\u2069`;
  const iso = isolate;
  /** Each of the three sentences must be given: a missing one is a bug, said at once. */
  function required(fr, en, ar) {
    for (const [lang, v] of [["fr", fr], ["en", en], ["ar", ar]])
      if (typeof v !== "string" || v === "") throw new TypeError(`sijil: a sentence without its ${lang} text: ${String(en)}`);
  }
  /** A check that failed, in French, English and Arabic. */
  class Failure extends Error {
    /**
     * `seqs`: the entries of the case it concerns, if any; `kind`: which check failed
     * ("decode", "inclusion", "signature", "chain", "officer"), if it is about one entry.
     */
    constructor(fr, en, ar, seqs, kind) {
      required(fr, en, ar);
      super(en);
      this.fr = fr;
      this.en = en;
      this.ar = ar;
      this.seqs = seqs || [];
      this.kind = kind || null;
    }
    in(lang) {
      return lang === "en" ? this.en : lang === "ar" ? this.ar : this.fr;
    }
  }
  const fail = (fr, en, ar, kind) => {
    throw new Failure(fr, en, ar, [], kind);
  };
  /** A sentence in the three languages, for reports and for the parts of a failure. */
  const say = (fr, en, ar) => {
    required(fr, en, ar);
    return { fr, en, ar };
  };
  /** "رقم 5" or "الأرقام 1, 3, 5": entry numbers in an Arabic sentence. */
  const arNos = (seqs) => (seqs.length === 1 ? `رقم ${iso(seqs[0])}` : `الأرقام ${iso(seqs.map(String).join(", "))}`);

  // ---- Bytes -----------------------------------------------------------------------------

  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const B64_VALUE = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;
  // The browser's own decoders where it has them (Chromium 140+, Firefox 133+): native code
  // on a first visit, where the loops below would still run in the interpreter.
  const NATIVE_BASE64 = typeof Uint8Array.fromBase64 === "function";
  const NATIVE_HEX = typeof Uint8Array.prototype.toHex === "function";
  const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;
  /** Standard, padded, canonical base64 (RFC 4648 §4, §3.5: no stray bits in the last character). */
  function base64(s, what) {
    const name = what || say("base64", "base64", "القيمة");
    const bad = (why) => fail(`${name.fr} : base64 ${why.fr}`, `${name.en}: ${why.en} base64`, `${name.ar}: ترميز base64 ${why.ar}`);
    if (typeof s !== "string" || s.length % 4 !== 0) bad(say("invalide", "invalid", "غير صالح"));
    if (NATIVE_BASE64) {
      // fromBase64 skips whitespace, which this format never has: the pattern refuses it;
      // "strict" refuses stray bits in the last character, as the loop below does.
      if (!BASE64_TEXT.test(s)) bad(say("invalide", "invalid", "غير صالح"));
      try {
        return Uint8Array.fromBase64(s, { lastChunkHandling: "strict" });
      } catch (e) {
        bad(say("non canonique", "non-canonical", "ليس في شكله القانوني"));
      }
    }
    const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
    const u = new Uint8Array((s.length / 4) * 3 - pad);
    const digit = (i) => {
      const c = s.charCodeAt(i);
      const v = c < 128 ? B64_VALUE[c] : -1;
      if (v < 0) bad(say("invalide", "invalid", "غير صالح"));
      return v;
    };
    let at = 0;
    for (let i = 0; i < s.length; i += 4) {
      const last = i + 4 === s.length;
      const a = digit(i), b = digit(i + 1);
      const c = last && pad === 2 ? 0 : digit(i + 2);
      const d = last && pad >= 1 ? 0 : digit(i + 3);
      if (last && pad === 2 && (b & 15) !== 0) bad(say("non canonique", "non-canonical", "ليس في شكله القانوني"));
      if (last && pad === 1 && (c & 3) !== 0) bad(say("non canonique", "non-canonical", "ليس في شكله القانوني"));
      const n = (a << 18) | (b << 12) | (c << 6) | d;
      u[at++] = n >>> 16;
      if (at < u.length) u[at++] = (n >>> 8) & 0xff;
      if (at < u.length) u[at++] = n & 0xff;
    }
    return u;
  }
  function toBase64(u) {
    let bin = "";
    for (let i = 0; i < u.length; i++) bin += String.fromCharCode(u[i]);
    return btoa(bin);
  }
  function hex(u) {
    if (NATIVE_HEX) return u.toHex();
    let s = "";
    for (let i = 0; i < u.length; i++) s += (u[i] < 16 ? "0" : "") + u[i].toString(16);
    return s;
  }
  function fromHex(s, length, what) {
    const name = what || say("valeur", "value", "القيمة");
    if (typeof s !== "string" || !/^(?:[0-9a-f]{2})*$/.test(s) || (length !== undefined && s.length !== 2 * length))
      fail(
        `${name.fr} : ${length === undefined ? "" : length + " octets en "}hexadécimal minuscule attendu`,
        `${name.en}: expected ${length === undefined ? "" : length + " bytes of "}lowercase hex`,
        `${name.ar}: يُنتظر ${length === undefined ? "" : `${iso(length)} بايت ب`}ترميز ست عشري بأحرف صغيرة`,
      );
    const u = new Uint8Array(s.length / 2);
    for (let i = 0; i < u.length; i++) u[i] = parseInt(s.substr(2 * i, 2), 16);
    return u;
  }
  function concat(...parts) {
    const u = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      u.set(p, at);
      at += p.length;
    }
    return u;
  }
  function equal(a, b) {
    if (!a || !b || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function be64(n) {
    const u = new Uint8Array(8);
    let v = BigInt(n);
    for (let i = 7; i >= 0; i--) {
      u[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return u;
  }
  function be32(n) {
    return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }

  // ---- Hashes (docs/FORMAT.md §2.5) ------------------------------------------------------

  // SHA-256 in WebAssembly (assets/sha256.wat, assembled; tests/e2e/browser.rs checks that
  // these are its bytes): a case's few hundred short hashes each waited for WebCrypto's
  // thread, and a plain-JavaScript SHA-256 runs in the interpreter on a first visit
  // (docs/PERFORMANCE.md). WebCrypto is the fallback where WebAssembly cannot run (no
  // support, or a Content-Security-Policy without 'wasm-unsafe-eval').
  const SHA256_WASM = "AGFzbQEAAAABDwNgAX8Bf2ACf38AYAF/AAMFBAABAgIFAwEAAQcRAgZtZW1vcnkCAARoYXNoAAMKyQUEIgAgAC0AAEEYdCAALQABQRB0ciAALQACQQh0IAAtAANycgsnACAAIAFBGHY6AAAgACABQRB2OgABIAAgAUEIdjoAAiAAIAE6AAML2gMBDX9BACEBAkADQCABQcAATw0BIAEgACABahAANgLAAiABQQRqIQEMAAsLAkADQCABQYACTw0BIAEoArgCIQIgASgChAIhAyABIAJBEXggAkETeHMgAkEKdnMgASgCpAJqIANBB3ggA0ESeHMgA0EDdnMgASgCgAJqajYCwAIgAUEEaiEBDAALC0EAKAKgAiEGQQAoAqQCIQdBACgCqAIhCEEAKAKsAiEJQQAoArACIQpBACgCtAIhC0EAKAK4AiEMQQAoArwCIQ1BACEBAkADQCABQYACTw0BIA0gCkEGeCAKQQt4cyAKQRl4c2ogCiALcSAKQX9zIAxxcyABKAIAIAEoAsACampqIQQgBkECeCAGQQ14cyAGQRZ4cyAGIAdxIAYgCHFzIAcgCHFzaiEFIAwhDSALIQwgCiELIAkgBGohCiAIIQkgByEIIAYhByAEIAVqIQYgAUEEaiEBDAALC0EAQQAoAqACIAZqNgKgAkEAQQAoAqQCIAdqNgKkAkEAQQAoAqgCIAhqNgKoAkEAQQAoAqwCIAlqNgKsAkEAQQAoArACIApqNgKwAkEAQQAoArQCIAtqNgK0AkEAQQAoArgCIAxqNgK4AkEAQQAoArwCIA1qNgK8AgufAQECf0GgAkGAAkEg/AoAAEGACCAAakGAAToAACAAQcgAakFAcSEBQYEIIABqQQAgASAAa0EJa/wLAEH4ByABaiAAQR12EAFB/AcgAWogAEEDdBABQQAhAgJAA0AgAiABTw0BQYAIIAJqEAIgAkHAAGohAgwACwtBACECAkADQCACQSBPDQFBwAQgAmogAigCoAIQASACQQRqIQIMAAsLCwutAgIAQQALgAKYL4pCkUQ3cc/7wLWl27XpW8JWOfER8Vmkgj+S1V4cq5iqB9gBW4MSvoUxJMN9DFV0Xb5y/rHegKcG3Jt08ZvBwWmb5IZHvu/GncEPzKEMJG8s6S2qhHRK3KmwXNqI+XZSUT6YbcYxqMgnA7DHf1m/8wvgxkeRp9VRY8oGZykpFIUKtyc4IRsu/G0sTRMNOFNUcwpluwpqdi7JwoGFLHKSoei/oktmGqhwi0vCo1FsxxnoktEkBpnWhTUO9HCgahAWwaQZCGw3Hkx3SCe1vLA0swwcOUqq2E5Pypxb828uaO6Cj3RvY6V4FHjIhAgCx4z6/76Q62xQpPej+b7yeHHGAEGAAgsgZ+YJaoWuZ7ty8248OvVPpX9SDlGMaAWbq9mDHxnN4FsAtwEEbmFtZQEZAwACYmUBCHN0b3JlX2JlAghjb21wcmVzcwJNBAABAAFwAQIAAXABAXYCDgADYmxrAQF0AgF4AwF5BAJ0MQUCdDIGAWEHAWIIAWMJAWQKAWULAWYMAWcNAWgDAwADbGVuAQNlbmQCAXADRgICBgAGZG9uZTE2AQN3MTYCBmRvbmU2NAMDdzY0BARkb25lBQVyb3VuZAMEAARkb25lAQZibG9ja3MCA291dAMFd29yZHM=";
  const wasmSha256 = (() => {
    if (typeof WebAssembly !== "object") return null;
    try {
      const bytes = Uint8Array.from(atob(SHA256_WASM), (c) => c.charCodeAt(0));
      return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
    } catch (e) {
      return null;
    }
  })();
  // sha256.wat's memory map: the message at 1024, padded in place (72 bytes more at most),
  // the digest at 576.
  const WASM_INPUT = 1024;
  const WASM_DIGEST = 576;
  function wasmDigest(input) {
    const need = WASM_INPUT + input.length + 72;
    const have = wasmSha256.memory.buffer.byteLength;
    if (need > have) wasmSha256.memory.grow(Math.ceil((need - have) / 65536));
    new Uint8Array(wasmSha256.memory.buffer).set(input, WASM_INPUT);
    wasmSha256.hash(input.length);
    return new Uint8Array(wasmSha256.memory.buffer.slice(WASM_DIGEST, WASM_DIGEST + 32));
  }
  async function sha256(...parts) {
    const input = parts.length === 1 ? parts[0] : concat(...parts);
    if (wasmSha256) return wasmDigest(input);
    return new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  }
  const ZERO = new Uint8Array(1);
  const ONE = Uint8Array.of(1);
  const leafHash = (bytes) => sha256(ZERO, bytes);
  const nodeHash = (l, r) => {
    const u = new Uint8Array(65);
    u[0] = 1;
    u.set(l, 1);
    u.set(r, 33);
    return sha256(u);
  };

  /** RFC 9162 §2.1.1 root over leaf hashes; SHA-256("") for none. */
  async function merkleRoot(leaves) {
    if (leaves.length === 0) return sha256(new Uint8Array(0));
    if (leaves.length === 1) return leaves[0];
    let k = 1;
    while (k * 2 < leaves.length) k *= 2;
    return nodeHash(await merkleRoot(leaves.slice(0, k)), await merkleRoot(leaves.slice(k)));
  }

  /** RFC 9162 §2.1.3.2: whether `leaf` is at `index` in the tree of `size` with `root`. */
  async function verifyInclusion(proof, index, size, root, leaf) {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
    let fn = index;
    let sn = size - 1;
    let r = leaf;
    for (const p of proof) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  /** RFC 9162 §2.1.4.2: whether the tree (newSize, newRoot) extends (oldSize, oldRoot). */
  async function verifyConsistency(proof, oldSize, oldRoot, newSize, newRoot) {
    if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 1 || oldSize > newSize) return false;
    if (oldSize === newSize) return proof.length === 0 && equal(oldRoot, newRoot);
    // When oldSize is a power of two, RFC 9162 leaves out the old root: it is the first node.
    let pow2 = oldSize;
    while (pow2 % 2 === 0) pow2 /= 2;
    const path = pow2 === 1 ? [oldRoot].concat(proof) : proof.slice();
    if (path.length === 0) return false;
    let fn = oldSize - 1;
    let sn = newSize - 1;
    while (fn % 2 === 1) {
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    let fr = path[0];
    let sr = path[0];
    for (const c of path.slice(1)) {
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(fr, oldRoot) && equal(sr, newRoot);
  }

  // ---- Ed25519 with verify_strict's rules (docs/FORMAT.md §2.4) --------------------------

  const P = (1n << 255n) - 19n;
  const L = (1n << 252n) + 27742317777372353535851937790883648493n;
  function littleEndian(u) {
    let v = 0n;
    for (let i = u.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(u[i]);
    return v;
  }
  // The y coordinates of the eight points of small order (libsodium's list): 0, 1, p − 1
  // and the two of the points of order 8. With y < p, these are all their encodings.
  const SMALL_ORDER_Y = [
    0n,
    1n,
    P - 1n,
    littleEndian(fromHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")),
    littleEndian(fromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")),
  ];
  /** Why 32 bytes are not a point verify_strict accepts, or null. */
  function pointProblem(bytes) {
    if (bytes.length !== 32) return say("pas 32 octets", "not 32 bytes", "طوله ليس 32 بايت");
    const y = littleEndian(bytes) & ((1n << 255n) - 1n);
    if (y >= P) return say("encodage non canonique", "non-canonical encoding", "ترميزه ليس في شكله القانوني");
    if (SMALL_ORDER_Y.includes(y)) return say("point d'ordre faible", "small-order point", "نقطة ذات رتبة صغيرة");
    return null;
  }
  const importedKeys = new Map();
  /** The imported key, as a promise, so that concurrent checks by one signer import it once. */
  function ed25519Key(key) {
    const id = hex(key);
    let k = importedKeys.get(id);
    if (!k) {
      k = crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
      importedKeys.set(id, k);
      k.catch(() => importedKeys.delete(id));
    }
    return k;
  }
  /** Whether `sig` is a valid Ed25519 signature of `message` by `key`, verify_strict-style. */
  async function verifyEd25519(key, sig, message) {
    if (pointProblem(key) || sig.length !== 64 || pointProblem(sig.subarray(0, 32))) return false;
    if (littleEndian(sig.subarray(32)) >= L) return false;
    try {
      return await crypto.subtle.verify({ name: "Ed25519" }, await ed25519Key(key), sig, message);
    } catch (e) {
      return false;
    }
  }
  let supported = null;
  /** Whether this browser's WebCrypto verifies Ed25519 at all (asked once per page). */
  function ed25519Supported() {
    if (!supported) supported = ed25519SelfTest();
    return supported;
  }
  /**
   * What a first verification would otherwise pay for on the visitor's click, done ahead
   * (the page calls it when idle): WebCrypto's Ed25519 self-test and the import of the
   * register's key. Never throws; a bad key is reported by the verification itself.
   */
  async function prepare(keyText) {
    try {
      if (await ed25519Supported()) await ed25519Key((await parseVerifierKey(keyText)).key);
    } catch (e) {
      // Nothing to prepare: the verification says why.
    }
  }
  // RFC 8032 §7.1, test 1.
  async function ed25519SelfTest() {
    try {
      if (typeof crypto === "undefined" || !crypto.subtle) return false;
      const key = fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
      const sig = fromHex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
      );
      const k = await crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);
      const good = await crypto.subtle.verify({ name: "Ed25519" }, k, sig, new Uint8Array(0));
      const bad = await crypto.subtle.verify({ name: "Ed25519" }, k, sig, ONE);
      return good === true && bad === false;
    } catch (e) {
      return false;
    }
  }

  // ---- Entries: bincode 2 standard configuration (docs/FORMAT.md §1–§3) ------------------

  const MAX_ENTRY_SIZE = 65535;
  const CATEGORIES = [
    "privacy",
    "image",
    "identity_theft",
    "right_to_erasure",
    "geolocation",
    "profiling",
    "video_surveillance",
    "cross_border_transfer",
    "unsolicited_marketing",
    "other",
  ];
  const OUTCOMES = ["complied", "sanctioned", "dismissed", "withdrawn", "referred"];
  const SANCTIONS = ["warning", "formal_notice", "fine", "suspension", "referral_to_prosecutor"];
  const ROLES = ["admin", "clerk"];
  const EVENTS = [
    "RegisterOpened",
    "OfficerAuthorized",
    "OfficerRevoked",
    "ComplaintReceived",
    "InspectionOpened",
    "HearingHeld",
    "ComplianceDeadlineSet",
    "DeadlineExtended",
    "ComplianceConfirmed",
    "SanctionNotified",
    "AuthoritiesNotified",
    "CaseClosed",
    "Correction",
    "Erasure",
    "IndexCommitted",
    "LogKeyRotated",
    "ComplaintInadmissible",
    "ComplaintForwarded",
    "ProceedingsSuspended",
    "ProceedingsResumed",
    "DecisionPublished",
    "AppealLodged",
    "CourtRuling",
    "CaseReopened",
    "Amendment",
  ];
  /** The event variant index of each name: EVENTS in order (15 is LogKeyRotated). */
  const EVENT_CODES = EVENTS;
  const APPELLANTS = ["controller", "complainant", "other"];
  const RULINGS = ["upheld", "annulled", "partially_annulled", "appeal_dismissed"];
  const AMENDED_FIELDS = ["date", "due_on", "controller", "categories"];
  /** Events that belong to no case (they carry no CaseLink). */
  const REGISTER_LEVEL = new Set(["RegisterOpened", "OfficerAuthorized", "OfficerRevoked", "IndexCommitted", "LogKeyRotated"]);

  function daysIn(year, month) {
    if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
    return [4, 6, 9, 11].includes(month) ? 30 : 31;
  }

  /** A reader of bincode-encoded bytes that accepts only the canonical form. */
  class Reader {
    constructor(bytes) {
      this.bytes = bytes;
      this.at = 0;
    }
    need(n) {
      if (this.at + n > this.bytes.length)
        fail(`entrée tronquée (octet ${this.at})`, `truncated entry (at byte ${this.at})`, `قيد مبتور (عند البايت ${iso(this.at)})`);
    }
    u8() {
      this.need(1);
      return this.bytes[this.at++];
    }
    raw(n) {
      this.need(n);
      const s = this.bytes.slice(this.at, this.at + n);
      this.at += n;
      return s;
    }
    // A varint of at most `bits` bits, in its shortest form only (FORMAT §1, §2.3).
    varint(bits) {
      const start = this.at;
      const first = this.u8();
      if (first < 251) return BigInt(first);
      const width = { 251: 2, 252: 4, 253: 8 }[first];
      if (!width || width * 8 > bits)
        fail(
          `entrée mal formée : entier de ${bits} bits invalide (octet ${start})`,
          `malformed entry: invalid ${bits}-bit integer (at byte ${start})`,
          `قيد غير سليم الصيغة: عدد صحيح من ${iso(bits)} بت غير صالح (عند البايت ${iso(start)})`,
        );
      const v = littleEndian(this.raw(width));
      const floor = { 2: 251n, 4: 1n << 16n, 8: 1n << 32n }[width];
      if (v < floor)
        fail(
          `entrée non canonique : entier écrit sur plus d'octets que nécessaire (octet ${start})`,
          `non-canonical entry: integer not in its shortest form (at byte ${start})`,
          `قيد ليس في شكله القانوني: عدد صحيح مكتوب ببايتات أكثر من اللازم (عند البايت ${iso(start)})`,
        );
      return v;
    }
    u16() {
      return Number(this.varint(16));
    }
    u32() {
      return Number(this.varint(32));
    }
    u64() {
      return this.varint(64);
    }
    i64() {
      const z = this.varint(64);
      return (z >> 1n) ^ -(z & 1n);
    }
    variant(names, what) {
      const start = this.at;
      const i = this.u32();
      if (i >= names.length)
        fail(
          `${what.fr} inconnu(e) : ${i} (octet ${start})`,
          `unknown ${what.en} ${i} (at byte ${start})`,
          `${what.ar}: قيمة غير معروفة ${iso(i)} (عند البايت ${iso(start)})`,
        );
      return names[i];
    }
    string() {
      const start = this.at;
      const len = this.u64();
      if (len > BigInt(this.bytes.length - this.at))
        fail(`entrée tronquée : chaîne (octet ${start})`, `truncated entry: string (at byte ${start})`, `قيد مبتور: سلسلة نصية (عند البايت ${iso(start)})`);
      const b = this.raw(Number(len));
      try {
        return fromUtf8.decode(b);
      } catch (e) {
        return fail(`chaîne non UTF-8 (octet ${start})`, `string is not UTF-8 (at byte ${start})`, `سلسلة نصية ليست بترميز ${iso("UTF-8")} (عند البايت ${iso(start)})`);
      }
    }
    option(read) {
      const start = this.at;
      const tag = this.u8();
      if (tag === 0) return null;
      if (tag === 1) return read();
      return fail(`option mal formée (octet ${start})`, `malformed option (at byte ${start})`, `حقل اختياري غير سليم الصيغة (عند البايت ${iso(start)})`);
    }
    vec(read) {
      const start = this.at;
      const n = this.u64();
      // Every element takes at least one byte.
      if (n > BigInt(this.bytes.length - this.at))
        fail(`entrée tronquée : liste (octet ${start})`, `truncated entry: list (at byte ${start})`, `قيد مبتور: قائمة (عند البايت ${iso(start)})`);
      const out = [];
      for (let i = 0n; i < n; i++) out.push(read());
      return out;
    }
    date() {
      const start = this.at;
      const year = this.u16();
      const month = this.u8();
      const day = this.u8();
      if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month))
        fail(
          `date invalide ${year}-${month}-${day} (octet ${start})`,
          `invalid date ${year}-${month}-${day} (at byte ${start})`,
          `تاريخ غير صالح ${iso(`${year}-${month}-${day}`)} (عند البايت ${iso(start)})`,
        );
      return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
    }
  }

  function readEvent(r) {
    const type = r.variant(EVENT_CODES, say("type d'événement", "event variant", "نوع الحدث"));
    const key = () => r.raw(32);
    const digest = () => r.raw(32);
    const officer = () => ({ key: key(), name: r.string(), role: r.variant(ROLES, say("rôle", "role", "الدور")) });
    const controller = () => ({ id: r.string(), name: r.string() });
    const category = () => r.variant(CATEGORIES, say("catégorie", "category", "الصنف"));
    // At least one, each once, in catalogue order: one encoding per set (FORMAT §3).
    const categories = () => {
      const start = r.at;
      const list = r.vec(category);
      const ranks = list.map((c) => CATEGORIES.indexOf(c));
      if (list.length === 0 || ranks.some((x, i) => i > 0 && x <= ranks[i - 1]))
        fail(
          `catégories vides, répétées ou hors de l'ordre du catalogue (octet ${start})`,
          `categories empty, repeated or not in catalogue order (at byte ${start})`,
          `أصناف فارغة أو مكررة أو على غير ترتيب قائمتها المرجعية (عند البايت ${iso(start)})`,
        );
      return list;
    };
    const e = { type };
    switch (type) {
      case "RegisterOpened":
        e.origin = r.string();
        e.title = r.string();
        e.authority = r.string();
        e.log_key = key();
        e.officers = r.vec(officer);
        break;
      case "OfficerAuthorized":
        e.officer = officer();
        break;
      case "OfficerRevoked":
        e.key = key();
        e.reason = r.string();
        break;
      case "ComplaintReceived":
        e.controller = controller();
        e.categories = categories();
        e.received_on = r.date();
        e.summary = r.option(digest);
        break;
      case "InspectionOpened":
        e.opened_on = r.date();
        e.opens = r.option(() => ({ controller: controller(), categories: categories() }));
        e.scope = r.option(digest);
        break;
      case "HearingHeld":
        e.held_on = r.date();
        e.place = r.string();
        e.summary = r.option(digest);
        break;
      case "ComplianceDeadlineSet":
        e.due_on = r.date();
        e.obligations = digest();
        break;
      case "DeadlineExtended":
        e.due_on = r.date();
        e.reason = r.option(digest);
        break;
      case "ComplianceConfirmed":
        e.confirmed_on = r.date();
        e.note = r.option(digest);
        break;
      case "SanctionNotified": {
        e.notified_on = r.date();
        const kind = r.variant(SANCTIONS, say("sanction", "sanction", "العقوبة"));
        e.sanction = kind === "fine" ? { kind, amount_mad: r.u64() } : { kind };
        e.legal_basis = r.string();
        e.reasons = r.option(digest);
        break;
      }
      case "AuthoritiesNotified":
        e.notified_on = r.date();
        e.authorities = r.vec(() => r.string());
        break;
      case "CaseClosed":
        e.closed_on = r.date();
        e.outcome = r.variant(OUTCOMES, say("issue", "outcome", "المآل"));
        e.summary = r.option(digest);
        break;
      case "Correction":
        e.target = r.u64();
        e.erratum = digest();
        break;
      case "Erasure":
        e.target = r.u64();
        e.reason = r.string();
        break;
      case "IndexCommitted":
        e.size = r.u64();
        e.keys = r.u64();
        e.root = r.raw(32);
        break;
      case "LogKeyRotated":
        e.new_key = key();
        e.reason = r.string();
        break;
      case "ComplaintInadmissible":
        e.decided_on = r.date();
        e.reason = r.option(digest);
        break;
      case "ComplaintForwarded":
        e.forwarded_on = r.date();
        e.to = r.string();
        e.reason = r.option(digest);
        break;
      case "ProceedingsSuspended":
        e.suspended_on = r.date();
        e.reason = r.option(digest);
        break;
      case "ProceedingsResumed":
        e.resumed_on = r.date();
        break;
      case "DecisionPublished":
        e.published_on = r.date();
        e.decision_number = r.string();
        e.summary = r.option(digest);
        break;
      case "AppealLodged":
        e.lodged_on = r.date();
        e.court = r.string();
        e.by = r.variant(APPELLANTS, say("auteur du recours", "appellant", "الطاعن"));
        break;
      case "CourtRuling":
        e.ruled_on = r.date();
        e.court = r.string();
        e.ruling = r.variant(RULINGS, say("jugement", "ruling", "منطوق الحكم"));
        e.summary = r.option(digest);
        break;
      case "CaseReopened":
        e.reopened_on = r.date();
        e.reason = r.option(digest);
        break;
      case "Amendment": {
        e.target = r.u64();
        const field = r.variant(AMENDED_FIELDS, say("champ rectifié", "amended field", "الحقل المصوَّب"));
        const value = field === "controller" ? controller() : field === "categories" ? categories() : r.date();
        e.amend = { field, value };
        e.reason = r.option(digest);
        break;
      }
    }
    return e;
  }

  /**
   * Decodes an entry's bytes (docs/FORMAT.md §2): format 1, shortest varints, valid UTF-8
   * and dates, known variants, nothing left over — so the bytes are the only encoding of
   * what they decode to. Integers that can exceed 2^53 (seq, recorded_at, targets, sizes,
   * amounts) are BigInts.
   */
  function decodeEntry(bytes) {
    if (bytes.length > MAX_ENTRY_SIZE)
      fail(
        `entrée de ${bytes.length} octets (65 535 au plus)`,
        `entry is ${bytes.length} bytes (at most 65,535)`,
        `قيد من ${iso(bytes.length)} بايت (${iso("65.535")} على الأكثر)`,
      );
    if (bytes.length === 0) fail("entrée vide", "empty entry", "قيد فارغ");
    if (bytes[0] !== 1)
      fail(
        `format d'entrée ${bytes[0]} non pris en charge (format 1 attendu)`,
        `unsupported entry format ${bytes[0]} (expected format 1)`,
        `صيغة القيد ${iso(bytes[0])} غير مدعومة (المنتظر الصيغة 1)`,
      );
    const r = new Reader(bytes);
    const e = { format: r.u8() };
    e.seq = r.u64();
    e.prev = r.raw(32);
    e.recorded_at = r.i64();
    e.signer = r.raw(32);
    e.case = r.option(() => ({ id: r.string(), seq: r.u32(), prev: r.raw(32) }));
    e.event = readEvent(r);
    e.signature = r.raw(64);
    if (r.at !== bytes.length)
      fail(
        `entrée suivie de ${bytes.length - r.at} octet(s) en trop (trailing bytes)`,
        `entry has ${bytes.length - r.at} trailing byte(s)`,
        `بعد نهاية القيد بايتات زائدة عددها ${iso(bytes.length - r.at)}`,
      );
    return e;
  }

  /** The digests of an entry's texts, in the order the register lists them. */
  function textDigests(event) {
    const d = [];
    const add = (x) => {
      if (x) d.push(x);
    };
    switch (event.type) {
      case "ComplaintReceived":
      case "HearingHeld":
      case "CaseClosed":
      case "DecisionPublished":
      case "CourtRuling":
        add(event.summary);
        break;
      case "ComplaintInadmissible":
      case "ComplaintForwarded":
      case "ProceedingsSuspended":
      case "CaseReopened":
      case "Amendment":
        add(event.reason);
        break;
      case "InspectionOpened":
        add(event.scope);
        break;
      case "ComplianceDeadlineSet":
        add(event.obligations);
        break;
      case "DeadlineExtended":
        add(event.reason);
        break;
      case "ComplianceConfirmed":
        add(event.note);
        break;
      case "SanctionNotified":
        add(event.reasons);
        break;
      case "Correction":
        add(event.erratum);
        break;
    }
    return d;
  }

  const EVENT_CONTEXT = utf8.encode("sijil/event/v1\n");
  /** FORMAT §2.2: whether the entry's signature by its signer verifies for `origin`. */
  function verifyEntrySignature(entry, bytes, origin) {
    const message = concat(EVENT_CONTEXT, utf8.encode(origin), Uint8Array.of(0x0a), bytes.subarray(0, bytes.length - 64));
    return verifyEd25519(entry.signer, entry.signature, message);
  }

  // ---- Signed notes, keys, checkpoints, cosignatures (docs/FORMAT.md §7, §9.4) ----------

  /** A signed-note verifier key `<name>+<8 hex key ID>+<base64(type ‖ key)>`. */
  async function parseVerifierKey(s, type) {
    const want = type === undefined ? 0x01 : type;
    const text = typeof s === "string" ? s.trim() : "";
    const m = /^([^+\s\u2014]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text);
    if (!m) fail("clé de vérification mal formée", "malformed verifier key", "مفتاح تحقق غير سليم الصيغة");
    const raw = base64(m[3], say("clé", "key", "المفتاح"));
    if (raw.length !== 33 || raw[0] !== want)
      fail(
        want === 0x01 ? "ce n'est pas une clé Ed25519 de journal (type 0x01)" : "ce n'est pas une clé de témoin Ed25519 (type 0x04)",
        want === 0x01 ? "not an Ed25519 log key (type 0x01)" : "not an Ed25519 witness key (type 0x04)",
        want === 0x01
          ? `ليس مفتاح دفتر من نوع Ed25519 (النوع ${iso("0x01")})`
          : `ليس مفتاح شاهد من نوع Ed25519 (النوع ${iso("0x04")})`,
      );
    const key = raw.slice(1);
    const problem = pointProblem(key);
    if (problem) fail(`clé publique invalide : ${problem.fr}`, `invalid public key: ${problem.en}`, `مفتاح عمومي غير صالح: ${problem.ar}`);
    const id = (await sha256(utf8.encode(m[1]), Uint8Array.of(0x0a), raw)).slice(0, 4);
    if (hex(id) !== m[2]) fail("l'identifiant de la clé ne correspond pas à la clé", "the key ID does not match the key", "معرّف المفتاح لا يطابق المفتاح");
    return { name: m[1], id, key, type: want, text };
  }

  /**
   * Splits a c2sp.org/signed-note into its text and signature lines. Structure only; the
   * signatures are checked by openNote and checkCosignatures.
   */
  function parseNote(note) {
    if (typeof note !== "string" || note.length > 1 << 20) fail("note signée mal formée", "malformed signed note", "مذكرة موقّعة غير سليمة الصيغة");
    if (!note.endsWith("\n")) fail("note signée tronquée", "truncated signed note", "مذكرة موقّعة مبتورة");
    if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(note))
      fail("caractère de contrôle dans la note signée", "control character in the signed note", "حرف تحكم في المذكرة الموقّعة");
    const split = note.lastIndexOf("\n\n");
    if (split < 0) fail("note sans signature", "note without signatures", "مذكرة بلا توقيعات");
    const text = note.slice(0, split + 1);
    const lines = [];
    for (const line of note.slice(split + 2, -1).split("\n")) {
      const m = /^\u2014 ([^ \u2014]+) ([A-Za-z0-9+/=]+)$/.exec(line);
      if (!m) fail("ligne de signature mal formée", "malformed signature line", "سطر توقيع غير سليم الصيغة");
      const blob = base64(m[2], say("signature", "signature", "التوقيع"));
      if (blob.length < 5) fail("ligne de signature trop courte", "signature line too short", "سطر توقيع قصير جدًا");
      lines.push({ name: m[1], id: blob.slice(0, 4), sig: blob.slice(4) });
    }
    if (lines.length > 128) fail("trop de signatures", "too many signatures", "توقيعات كثيرة جدًا");
    return { text, lines };
  }

  /** Opens a note with the log key: every line by the key must verify, and one must. */
  async function openNote(note, key) {
    const parsed = parseNote(note);
    const message = utf8.encode(parsed.text);
    let signed = false;
    for (const line of parsed.lines) {
      if (line.name !== key.name || !equal(line.id, key.id)) continue;
      if (!(await verifyEd25519(key.key, line.sig, message)))
        fail(
          "La signature du point de contrôle est invalide : il n'a pas été signé par cette clé.",
          "The checkpoint's signature is invalid: it was not signed by this key.",
          "توقيع نقطة التحقق غير صالح: لم تُوقَّع بهذا المفتاح.",
        );
      signed = true;
    }
    if (!signed)
      fail(
        `Le point de contrôle n'est pas signé par la clé ${key.name} (${hex(key.id)}) : ce n'est pas le registre de cette clé.`,
        `The checkpoint is not signed by the key ${key.name} (${hex(key.id)}): this is not that key's register.`,
        `نقطة التحقق غير موقّعة بالمفتاح ${iso(`${key.name} (${hex(key.id)})`)}: فهذا ليس سجل هذا المفتاح.`,
      );
    return parsed;
  }

  /** c2sp.org/tlog-checkpoint: origin, size (canonical decimal), base64 root, extensions. */
  function parseCheckpoint(text) {
    const lines = text.slice(0, -1).split("\n");
    if (lines.length < 3 || lines[0] === "" || !/^(0|[1-9][0-9]{0,15})$/.test(lines[1]))
      fail("point de contrôle mal formé", "malformed checkpoint", "نقطة تحقق غير سليمة الصيغة");
    const size = Number(lines[1]);
    if (!Number.isSafeInteger(size)) fail("taille d'arbre trop grande", "tree size too large", "حجم الشجرة كبير جدًا");
    const root = base64(lines[2], say("racine", "root", "الجذر"));
    if (root.length !== 32) fail("racine mal formée", "malformed root", "جذر غير سليم الصيغة");
    return { origin: lines[0], size, root };
  }

  /**
   * Witness cosignatures (c2sp.org/tlog-cosignature, type 0x04) on an opened note, checked
   * against the witness keys given. Returns the witnesses whose cosignature verified
   * (counted once per public key), and those whose line is invalid.
   */
  async function checkCosignatures(parsed, witnesses) {
    const verified = [];
    const invalid = [];
    const header = utf8.encode("cosignature/v1\ntime ");
    const text = utf8.encode(parsed.text);
    for (const w of witnesses) {
      let ok = false;
      let bad = false;
      let time = 0;
      for (const line of parsed.lines) {
        if (line.name !== w.name || !equal(line.id, w.id)) continue;
        let good = false;
        if (line.sig.length === 72) {
          const t = littleEndian(line.sig.slice(0, 8).reverse());
          if (t > 0n && t < 1n << 63n) {
            const message = concat(header, utf8.encode(`${t}\n`), text);
            good = await verifyEd25519(w.key, line.sig.subarray(8), message);
            if (good) time = Number(t);
          }
        }
        if (good) ok = true;
        else bad = true;
      }
      if (bad) invalid.push(w);
      else if (ok && !verified.some((v) => equal(v.witness.key, w.key))) verified.push({ witness: w, time });
    }
    return { verified, invalid };
  }

  // ---- The log-derived index (docs/FORMAT.md §10) ----------------------------------------

  const INDEX_CONTEXT = utf8.encode("sijil/index/v1\n");
  /** A subject's key: SHA-256("sijil/index/v1\n" ‖ tag ‖ "\n" ‖ name). */
  function indexKey(tag, name) {
    const n = typeof name === "string" ? utf8.encode(name) : name;
    return sha256(INDEX_CONTEXT, utf8.encode(tag), Uint8Array.of(0x0a), n);
  }
  const caseKey = (id) => indexKey("case", id);
  const officerKey = (key) => indexKey("officer", key);
  const miniLeaf = (seq, leaf) => sha256(ZERO, be64(seq), leaf);
  async function miniRoot(pairs) {
    const leaves = [];
    for (const [seq, leaf] of pairs) leaves.push(await miniLeaf(seq, leaf));
    return merkleRoot(leaves);
  }
  /** A key's value: SHA-256(BE64(count) ‖ mini-log root) over its (seq, leaf hash) pairs. */
  async function keyValue(pairs) {
    return sha256(be64(pairs.length), await miniRoot(pairs));
  }

  // Trie labels: { bits, bytes (32) }; EMPTY is the node beside a root's only child.
  const EMPTY = { bits: 0, bytes: new Uint8Array(32).fill(1), empty: true };
  const ROOT = { bits: 0, bytes: new Uint8Array(32) };
  function masked(bytes, bits) {
    const out = new Uint8Array(32);
    const full = bits >> 3;
    out.set(bytes.subarray(0, full));
    if (bits % 8) out[full] = bytes[full] & (0xff << (8 - (bits % 8)));
    return out;
  }
  const bitOf = (label, i) => (label.bytes[i >> 3] >> (7 - (i % 8))) & 1;
  function isPrefixOf(a, b) {
    if (a.empty || b.empty || a.bits > b.bits) return false;
    return equal(masked(b.bytes, a.bits), a.bytes);
  }
  function commonPrefix(a, b) {
    if (a.empty || b.empty) return ROOT;
    let bits = 0;
    const most = Math.min(a.bits, b.bits);
    while (bits < most && bitOf(a, bits) === bitOf(b, bits)) bits++;
    return { bits, bytes: masked(a.bytes, bits) };
  }
  const sameLabel = (a, b) => !!a.empty === !!b.empty && a.bits === b.bits && equal(a.bytes, b.bytes);
  const labelHash = (l) => sha256(be32(l.bits), l.bytes);
  const trieNodeHash = async (l, v) => sha256(v, await labelHash(l));
  const H00 = () => sha256(ZERO);
  async function emptyNodeHash() {
    return trieNodeHash(EMPTY, await trieNodeHash(EMPTY, await H00()));
  }
  async function emptyTrieRoot() {
    return trieNodeHash(ROOT, await H00());
  }

  /** A trie proof node from JSON: {bits, label (hex of ceil(bits/8) bytes), value (64 hex)}, or null. */
  function parseProofNode(n) {
    if (n === null) return null;
    if (typeof n !== "object" || !Number.isInteger(n.bits) || n.bits < 0 || n.bits > 256)
      fail("preuve d'index mal formée : nœud", "malformed index proof: node", "إثبات فهرس غير سليم الصيغة: عقدة");
    const need = Math.ceil(n.bits / 8);
    const prefix = fromHex(n.label, need, say("étiquette de nœud", "node label", "وسم العقدة"));
    const bytes = new Uint8Array(32);
    bytes.set(prefix);
    if (!equal(masked(bytes, n.bits), bytes))
      fail("preuve d'index mal formée : bits en trop dans une étiquette", "malformed index proof: stray label bits", "إثبات فهرس غير سليم الصيغة: بتات زائدة في وسم عقدة");
    return { label: { bits: n.bits, bytes }, value: fromHex(n.value, 32, say("valeur de nœud", "node value", "قيمة العقدة")) };
  }
  function parseTrieProof(p) {
    if (!p || typeof p !== "object" || !Array.isArray(p.siblings) || p.siblings.length > 257)
      fail("preuve d'index mal formée", "malformed index proof", "إثبات فهرس غير سليم الصيغة");
    return { end: parseProofNode(p.end === undefined ? null : p.end), siblings: p.siblings.map(parseProofNode) };
  }

  /**
   * FORMAT §10.5: checks a trie proof for `key` against `root`. Returns the key's value, or
   * null when the proof shows the key absent. Throws when the proof is malformed or leads
   * elsewhere.
   */
  async function verifyTrieProof(proof, root, key) {
    const want = { bits: 256, bytes: key };
    const top = proof.siblings.length;
    const bad = (fr, en, ar) => fail(`preuve d'index invalide : ${fr}`, `invalid index proof: ${en}`, `إثبات فهرس غير صالح: ${ar}`);
    let label;
    let hash;
    let found = null;
    if (proof.end === null) {
      if (top === 0) {
        if (!equal(await emptyTrieRoot(), root)) bad("elle ne mène pas à la racine signée", "it does not lead to the signed root", "لا يؤدي إلى الجذر الموقّع");
        return null;
      }
      if (top !== 1) bad("nœud vide sous la racine", "EMPTY below the root", "عقدة فارغة تحت الجذر");
      label = EMPTY;
      hash = await emptyNodeHash();
    } else {
      const end = proof.end;
      if (sameLabel(end.label, want)) found = end.value;
      else if (isPrefixOf(end.label, want)) bad("la recherche ne s'arrête pas à son dernier nœud", "the search does not end at its end node", "لا ينتهي البحث عند عقدته الأخيرة");
      label = end.label;
      hash = await trieNodeHash(end.label, end.value);
      if (top === 0) bad("un nœud seul sous la racine a le nœud vide pour voisin", "a lone node under the root has EMPTY beside it", "عقدة وحيدة تحت الجذر لا تجاورها إلا العقدة الفارغة");
    }
    for (let i = 0; i < top; i++) {
      const depth = top - 1 - i;
      const atRoot = depth === 0;
      const s = proof.siblings[i];
      let sLabel;
      let sHash;
      if (s === null) {
        if (!atRoot) bad("nœud vide sous la racine", "EMPTY below the root", "عقدة فارغة تحت الجذر");
        sLabel = EMPTY;
        sHash = await emptyNodeHash();
      } else {
        sLabel = s.label;
        sHash = await trieNodeHash(s.label, s.value);
      }
      if (label.empty && sLabel.empty) bad("deux nœuds vides", "both children EMPTY", "العقدتان الفرعيتان فارغتان");
      const parent = atRoot ? ROOT : commonPrefix(label, sLabel);
      if (!atRoot && parent.bits === 0) bad(`voisin ${depth} mal placé`, `sibling ${depth} misplaced`, `العقدة المجاورة ${iso(depth)} في غير موضعها`);
      const side = bitOf(want, parent.bits);
      if (!label.empty && !(label.bits > parent.bits && isPrefixOf(parent, label) && bitOf(label, parent.bits) === side))
        bad(`nœud ${depth} hors du chemin de la clé`, `node ${depth} off the key's path`, `العقدة ${iso(depth)} خارج مسار المفتاح`);
      if (!sLabel.empty && !(sLabel.bits > parent.bits && isPrefixOf(parent, sLabel) && bitOf(sLabel, parent.bits) !== side))
        bad(`voisin ${depth} hors du chemin de la clé`, `sibling ${depth} off the key's path`, `العقدة المجاورة ${iso(depth)} خارج مسار المفتاح`);
      if (!atRoot && !isPrefixOf(parent, want)) bad(`nœud ${depth} hors du chemin de la clé`, `node ${depth} off the key's path`, `العقدة ${iso(depth)} خارج مسار المفتاح`);
      const value = side === 0 ? await sha256(hash, sHash) : await sha256(sHash, hash);
      hash = await trieNodeHash(parent, value);
      label = parent;
    }
    if (!equal(hash, root)) bad("elle ne mène pas à la racine signée", "it does not lead to the signed root", "لا يؤدي إلى الجذر الموقّع");
    return found;
  }

  // ---- The whole case (docs/FORMAT.md §10.5, docs/API.md) --------------------------------

  const seqList = (seqs) => seqs.map(String).join(", ");
  function isSeqArray(a) {
    if (!Array.isArray(a)) return false;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isSafeInteger(a[i]) || a[i] < 0 || (i > 0 && a[i] <= a[i - 1])) return false;
    }
    return true;
  }
  function proofHashes(list, what) {
    if (!Array.isArray(list) || list.length > 64) fail(`${what.fr} : preuve mal formée`, `${what.en}: malformed proof`, `${what.ar}: إثبات غير سليم الصيغة`);
    return list.map((h) => {
      const u = base64(h, what);
      if (u.length !== 32) fail(`${what.fr} : empreinte mal formée`, `${what.en}: malformed hash`, `${what.ar}: بصمة غير سليمة الصيغة`);
      return u;
    });
  }

  /**
   * Checks one served entry `{seq, bytes, inclusion_proof}` against the checkpoint: bytes
   * decode canonically, its seq is its place, it is in the tree, and its signature verifies.
   * Returns {seq, bytes, leaf, entry} or throws a Failure naming it.
   */
  async function checkEntry(served, seqField, cp) {
    const seq = served[seqField];
    if (!Number.isSafeInteger(seq) || seq < 0) fail("entrée sans numéro valide", "entry without a valid number", "قيد بلا رقم صالح");
    const named = (e, kind) => {
      if (e instanceof Failure) fail(`Entrée n° ${seq} : ${e.fr}`, `Entry ${seq}: ${e.en}`, `القيد رقم ${iso(seq)}: ${e.ar}`, kind);
      throw e;
    };
    let bytes;
    let proof;
    try {
      bytes = base64(served.bytes, say("octets", "bytes", "البايتات"));
      proof = proofHashes(served.inclusion_proof, say("preuve d'inclusion", "inclusion proof", "إثبات الإدراج"));
    } catch (e) {
      named(e, "inclusion");
    }
    // Inclusion first: it needs the bytes only, and says whether they are the log's at all.
    const leaf = await leafHash(bytes);
    if (!(await verifyInclusion(proof, seq, cp.size, cp.root, leaf)))
      fail(
        `Entrée n° ${seq} : elle n'est pas incluse dans l'arbre signé de ${cp.size} entrées`,
        `Entry ${seq}: not included in the signed tree of ${cp.size} entries`,
        `القيد رقم ${iso(seq)}: غير مدرج في الشجرة الموقّعة التي عدد قيودها ${iso(cp.size)}`,
        "inclusion",
      );
    let entry;
    try {
      entry = decodeEntry(bytes);
    } catch (e) {
      named(e, "decode");
    }
    if (entry.seq !== BigInt(seq))
      fail(
        `Entrée n° ${seq} : son numéro signé est ${entry.seq}`,
        `Entry ${seq}: its signed seq is ${entry.seq}`,
        `القيد رقم ${iso(seq)}: رقمه الموقّع هو ${iso(entry.seq)}`,
        "decode",
      );
    const keyProblem = pointProblem(entry.signer);
    if (keyProblem)
      fail(
        `Entrée n° ${seq} : clé de signature invalide (${keyProblem.fr})`,
        `Entry ${seq}: invalid signer key (${keyProblem.en})`,
        `القيد رقم ${iso(seq)}: مفتاح التوقيع غير صالح (${keyProblem.ar})`,
        "signature",
      );
    if (!(await verifyEntrySignature(entry, bytes, cp.origin)))
      fail(
        `Entrée n° ${seq} : la signature de l'agent est invalide`,
        `Entry ${seq}: the officer's signature is invalid`,
        `القيد رقم ${iso(seq)}: توقيع الموظف غير صالح`,
        "signature",
      );
    return { seq, bytes, leaf, entry };
  }

  /** Whether an officer-history entry names `key` (FORMAT §10.1's officer subject). */
  function officerRole(entry, key) {
    const e = entry.event;
    if (e.type === "RegisterOpened") {
      const o = e.officers.find((x) => equal(x.key, key));
      return o ? { kind: "authorized", name: o.name, role: o.role } : null;
    }
    if (e.type === "OfficerAuthorized" && equal(e.officer.key, key))
      return { kind: "authorized", name: e.officer.name, role: e.officer.role };
    if (e.type === "OfficerRevoked" && equal(e.key, key)) return { kind: "revoked", reason: e.reason };
    return null;
  }

  /**
   * The whole-case check, given the answer to GET /api/v1/cases/{id} (`data`), the register's
   * verifier key (parsed), and the case id the page names. Returns a report:
   *
   *   { checkpoint: {origin, size, root, note, parsed}, entries: [{seq, bytes, leaf, entry,
   *     officer}], complete, failures: [Failure], notes: [{fr, en}] }
   *
   * Fatal problems (the checkpoint does not verify) throw; others are collected in
   * `failures`, so the page can say everything that is wrong at once.
   */
  async function verifyCase(data, key, caseId) {
    const failures = [];
    const notes = [];
    const collect = async (f, seqs) => {
      try {
        return await f();
      } catch (e) {
        const err = e instanceof Failure ? e : new Failure(`erreur : ${e}`, `error: ${e}`, `خطأ: ${e}`);
        if (seqs && err.seqs.length === 0) err.seqs = seqs;
        if (seqs && !err.kind) err.kind = "decode";
        failures.push(err);
        return undefined;
      }
    };
    if (!data || typeof data !== "object" || !data.checkpoint || typeof data.checkpoint.text !== "string")
      fail("la réponse du serveur n'a pas de point de contrôle", "the server's answer has no checkpoint", "ردّ الخادم لا يتضمن نقطة تحقق");
    const parsed = await openNote(data.checkpoint.text, key);
    const cp = parseCheckpoint(parsed.text);
    if (cp.origin !== key.name)
      fail(
        "L'origine du point de contrôle n'est pas le nom de la clé.",
        "The checkpoint's origin is not the key's name.",
        "مصدر نقطة التحقق ليس اسم المفتاح.",
      );
    const checkpoint = { ...cp, note: data.checkpoint.text, parsed };

    // 1. The case's entries, each on its own.
    const served = Array.isArray(data.entries) ? data.entries : [];
    const entries = [];
    // All started at once, so that WebCrypto's signature checks overlap; taken in order, so
    // that failures are listed in the entries' order.
    const checks = served.map((s) => {
      const check = checkEntry(s, "leaf_index", cp);
      check.catch(() => {});
      return check;
    });
    for (let i = 0; i < served.length; i++) {
      const s = served[i];
      const checked = await collect(() => checks[i], [s && s.leaf_index]);
      if (checked) entries.push(checked);
    }
    // 2. The case's own chain: links 0, 1, 2… naming the previous case entry's leaf hash.
    let previous = new Uint8Array(32);
    let lastRecorded = null;
    for (let i = 0; i < served.length; i++) {
      const e = entries.find((x) => x.seq === served[i].leaf_index);
      if (!e) {
        previous = null;
        continue;
      }
      const link = e.entry.case;
      const type = e.entry.event.type;
      if (REGISTER_LEVEL.has(type) || !link) {
        failures.push(
          new Failure(
            `Entrée n° ${e.seq} : ce n'est pas un événement d'affaire (${type})`,
            `Entry ${e.seq}: not a case event (${type})`,
            `القيد رقم ${iso(e.seq)}: ليس حدثًا من أحداث قضية (${iso(type)})`,
            [e.seq],
            "chain",
          ),
        );
      } else if (link.id !== caseId) {
        failures.push(
          new Failure(
            `Entrée n° ${e.seq} : elle appartient à l'affaire ${link.id}, pas à ${caseId}`,
            `Entry ${e.seq}: it belongs to case ${link.id}, not ${caseId}`,
            `القيد رقم ${iso(e.seq)}: ينتمي إلى القضية ${iso(link.id)}، لا إلى القضية ${iso(caseId)}`,
            [e.seq],
            "chain",
          ),
        );
      } else if (link.seq !== i || (previous !== null && !equal(link.prev, previous))) {
        failures.push(
          new Failure(
            `Entrée n° ${e.seq} : la chaîne de l'affaire est rompue (elle se dit l'événement n° ${link.seq} de l'affaire, à la place ${i})`,
            `Entry ${e.seq}: the case's chain is broken (it says it is the case's event ${link.seq}, at place ${i})`,
            `القيد رقم ${iso(e.seq)}: سلسلة القضية منقطعة (يقدّم نفسه على أنه الحدث رقم ${iso(link.seq)} من القضية، وهو في الموضع ${iso(i)})`,
            [e.seq],
            "chain",
          ),
        );
      } else if (i === 0 && !["ComplaintReceived", "InspectionOpened"].includes(type)) {
        failures.push(
          new Failure(
            `Entrée n° ${e.seq} : l'affaire ne s'ouvre pas par elle`,
            `Entry ${e.seq}: the case does not open with it`,
            `القيد رقم ${iso(e.seq)}: لا تُفتتح القضية به`,
            [e.seq],
            "chain",
          ),
        );
      }
      if (lastRecorded !== null && e.entry.recorded_at < lastRecorded)
        failures.push(
          new Failure(
            `Entrée n° ${e.seq} : inscrite avant l'entrée qui la précède`,
            `Entry ${e.seq}: recorded before the entry before it`,
            `القيد رقم ${iso(e.seq)}: قُيّد قبل القيد الذي يسبقه`,
            [e.seq],
            "chain",
          ),
        );
      lastRecorded = e.entry.recorded_at;
      previous = e.leaf;
    }

    // 3. Completeness: the log key's IndexCommitted at S − 1, and the case key's trie proof.
    const c = data.completeness;
    let complete = false;
    let officers = new Map();
    if (!c || typeof c !== "object") {
      failures.push(
        new Failure(
          "Le serveur ne fournit pas la preuve que cette affaire est complète (index du registre) : des entrées peuvent manquer.",
          "The server gives no proof that this case is complete (the register's index): entries may be missing.",
          "لا يقدّم الخادم إثباتًا على أن هذه القضية كاملة (فهرس السجل): قد تكون بعض القيود ناقصة.",
        ),
      );
    } else {
      const index = await collect(() => checkIndexCommitted(c, cp, key));
      const caseKeyBytes = await caseKey(caseId);
      if (c.key !== hex(caseKeyBytes))
        failures.push(
          new Failure(
            `La clé d'index donnée pour l'affaire n'est pas celle de « ${caseId} »`,
            `The index key given for the case is not the one of "${caseId}"`,
            `مفتاح الفهرس المقدَّم للقضية ليس مفتاح «${iso(caseId)}»`,
          ),
        );
      const shown = served.map((s) => s.leaf_index);
      const listed = isSeqArray(c.seqs) ? c.seqs : null;
      if (!listed)
        failures.push(
          new Failure(
            "La liste des entrées de l'affaire (seqs) est mal formée",
            "The case's list of entries (seqs) is malformed",
            "قائمة قيود القضية (seqs) غير سليمة الصيغة",
          ),
        );
      else if (seqList(listed) !== seqList(shown)) {
        const missing = listed.filter((s) => !shown.includes(s));
        const extra = shown.filter((s) => !listed.includes(s));
        let fr = `L'index du registre annonce ${listed.length} entrées pour cette affaire (n° ${seqList(listed)}), la réponse en contient ${shown.length}`;
        let en = `The register's index lists ${listed.length} entries for this case (${seqList(listed)}), the answer holds ${shown.length}`;
        let ar = `يذكر فهرس السجل لهذه القضية قيودًا عددها ${iso(listed.length)} (${arNos(listed)})، وعدد القيود في الرد ${iso(shown.length)}`;
        if (missing.length) {
          fr += ` : il manque n° ${seqList(missing)}`;
          en += `: ${missing.length === 1 ? "entry" : "entries"} ${seqList(missing)} missing`;
          ar += `: ${missing.length === 1 ? "ينقص القيد" : "تنقص القيود ذات"} ${arNos(missing)}`;
        }
        if (extra.length) {
          fr += `${missing.length ? " ; " : " : "}en trop n° ${seqList(extra)}`;
          en += `${missing.length ? "; " : ": "}${extra.length === 1 ? "entry" : "entries"} ${seqList(extra)} not in the index`;
          ar += `${missing.length ? "؛ " : ": "}${extra.length === 1 ? "القيد" : "القيود ذات"} ${arNos(extra)} ${extra.length === 1 ? "ليس" : "ليست"} في الفهرس`;
        }
        failures.push(new Failure(`${fr}.`, `${en}.`, `${ar}.`));
      }
      if (index) {
        const value = await collect(async () => verifyTrieProof(parseTrieProof(c.trie_proof), index.root, caseKeyBytes));
        if (value === null) {
          failures.push(
            new Failure(
              `L'index signé du registre (entrée n° ${index.seq}) ne contient pas l'affaire ${caseId} : elle n'existe pas au point de contrôle de ${cp.size} entrées.`,
              `The register's signed index (entry ${index.seq}) holds no case ${caseId}: it does not exist at the checkpoint of ${cp.size} entries.`,
              `لا يتضمن الفهرس الموقّع للسجل (القيد رقم ${iso(index.seq)}) القضية ${iso(caseId)}: فهي غير موجودة عند نقطة التحقق التي عدد قيودها ${iso(cp.size)}.`,
            ),
          );
        } else if (value !== undefined) {
          const all = entries.length === served.length;
          const mine = await keyValue(entries.map((e) => [e.seq, e.leaf]));
          if (all && equal(mine, value)) complete = true;
          else if (all)
            failures.push(
              new Failure(
                `Affaire incomplète ou altérée : l'index signé du registre (entrée n° ${index.seq}) ne correspond pas aux ${entries.length} entrées reçues (n° ${seqList(shown)}) ; il en manque, ou certaines n'appartiennent pas à l'affaire.`,
                `Incomplete or altered case: the register's signed index (entry ${index.seq}) does not match the ${entries.length} entries received (${seqList(shown)}); some are missing, or some are not the case's.`,
                `قضية ناقصة أو محرّفة: الفهرس الموقّع للسجل (القيد رقم ${iso(index.seq)}) لا يطابق القيود المتلقاة، وعددها ${iso(entries.length)} (${arNos(shown)})؛ فبعضها ناقص، أو بعضها لا ينتمي إلى القضية.`,
              ),
            );
        }
        officers = await collect(() => checkSigners(c, cp, key, index, entries, failures)) || new Map();
      }
    }
    return { checkpoint, entries, complete, officers, failures, notes, asOf: data.as_of };
  }

  /** The IndexCommitted entry at S − 1, signed by the log key and included (FORMAT §10.4). */
  async function checkIndexCommitted(c, cp, key) {
    if (c.size !== cp.size)
      fail(
        `La preuve d'index est pour un arbre de ${c.size} entrées, le point de contrôle en a ${cp.size}`,
        `The index proof is for a tree of ${c.size} entries, the checkpoint has ${cp.size}`,
        `إثبات الفهرس يخص شجرة عدد قيودها ${iso(c.size)}، ونقطة التحقق عدد قيودها ${iso(cp.size)}`,
      );
    if (cp.size < 2) fail("Le registre n'a pas encore d'index", "The register has no index yet", "ليس للسجل فهرس بعد");
    if (!c.index || c.index.seq !== cp.size - 1)
      fail(
        `L'entrée d'index doit être la dernière du journal (n° ${cp.size - 1})`,
        `The index entry must be the log's last (entry ${cp.size - 1})`,
        `يجب أن يكون قيد الفهرس آخر قيد في الدفتر (القيد رقم ${iso(cp.size - 1)})`,
      );
    const e = await checkEntry(c.index, "seq", cp);
    const ev = e.entry.event;
    if (ev.type !== "IndexCommitted" || ev.size !== BigInt(cp.size - 1) || e.entry.case !== null)
      fail(
        `Entrée n° ${e.seq} : ce n'est pas l'engagement d'index (IndexCommitted) de l'arbre de ${cp.size} entrées`,
        `Entry ${e.seq}: not the index commitment (IndexCommitted) of the tree of ${cp.size} entries`,
        `القيد رقم ${iso(e.seq)}: ليس التزام الفهرس (IndexCommitted) للشجرة التي عدد قيودها ${iso(cp.size)}`,
      );
    if (!equal(e.entry.signer, key.key))
      fail(
        `Entrée n° ${e.seq} : l'engagement d'index n'est pas signé par la clé du registre`,
        `Entry ${e.seq}: the index commitment is not signed by the register's key`,
        `القيد رقم ${iso(e.seq)}: التزام الفهرس غير موقّع بمفتاح السجل`,
      );
    return { seq: e.seq, root: ev.root, keys: ev.keys };
  }

  /**
   * FORMAT §10.1–§10.5 for officers: for each distinct signer of the case's entries, its key's
   * history (authorizations and revocations) proven complete by the index, and each case
   * entry signed while the key was authorized. The same, up to the register's first entry,
   * for every entry of those histories that authorizes or revokes: its signer was an admin
   * authorized before it, proven by that admin's own history. Returns a Map seq → {name,
   * role, key, authorizedAt} of the officer at each case entry, and pushes failures.
   */
  async function checkSigners(c, cp, key, index, entries, failures) {
    const bySeq = new Map();
    const signers = Array.isArray(c.signers) ? c.signers : [];
    const histories = new Map();
    /** Key k's whole history [{seq, leaf, kind, name, role, signer, type}], proven by the
     * index; throws a Failure saying why not. */
    const historyOf = async (k) => {
      const kh = hex(k);
      if (histories.has(kh)) return histories.get(kh);
      const s = signers.find((x) => x && x.key === kh);
      if (!s)
        fail(
          "le serveur ne donne aucune preuve que cette clé ait été habilitée",
          "the server gives no proof that this key was authorized",
          "لا يقدّم الخادم أي إثبات على أن هذا المفتاح كان معتمدًا",
        );
      const ik = await officerKey(k);
      if (s.index_key !== hex(ik)) fail("clé d'index de l'agent inexacte", "wrong officer index key", "مفتاح الفهرس الخاص بالموظف غير صحيح");
      if (!isSeqArray(s.seqs) || !Array.isArray(s.entries) || seqList(s.seqs) !== seqList(s.entries.map((x) => x && x.seq)))
        fail("liste des entrées de l'agent incohérente", "inconsistent list of the officer's entries", "قائمة قيود الموظف غير متسقة");
      const history = [];
      for (const x of s.entries) {
        const checked = await checkEntry(x, "seq", cp);
        const role = officerRole(checked.entry, k);
        if (!role)
          fail(
            `l'entrée n° ${checked.seq} ne concerne pas cette clé`,
            `entry ${checked.seq} does not concern this key`,
            `القيد رقم ${iso(checked.seq)} لا يخص هذا المفتاح`,
          );
        const ev = checked.entry.event;
        // Entry 0 of the tree the register's key signed is its opening; the log key it names
        // is the first of the chain, which a rotation may have replaced since (FORMAT §3.1).
        if (ev.type === "RegisterOpened" && (checked.seq !== 0 || ev.origin !== cp.origin))
          fail(
            `l'entrée n° ${checked.seq} n'est pas l'ouverture de ce registre`,
            `entry ${checked.seq} is not this register's opening`,
            `القيد رقم ${iso(checked.seq)} ليس قيد فتح هذا السجل`,
          );
        history.push({ seq: checked.seq, leaf: checked.leaf, ...role, signer: checked.entry.signer, event: ev });
      }
      const value = await verifyTrieProof(parseTrieProof(s.trie_proof), index.root, ik);
      const mine = history.length ? await keyValue(history.map((h) => [h.seq, h.leaf])) : null;
      if (value === null ? history.length !== 0 : !equal(value, mine))
        fail(
          "l'historique de l'agent donné ne correspond pas à l'index signé",
          "the officer history given does not match the signed index",
          "تاريخ اعتماد الموظف الذي قدّمه الخادم لا يطابق الفهرس الموقّع",
        );
      histories.set(kh, history);
      return history;
    };
    /** Why the officer-history entry h may not be what it says: null when its signer was
     * an admin authorized before it (or it opens the register, signed by an admin it lists).
     * Each admin's history on the way is proven, up to the register's first entry. */
    const traced = new Map();
    const authorizationProblem = async (h) => {
      if (traced.has(h.seq)) return traced.get(h.seq);
      traced.set(h.seq, null); // a cycle cannot arise (each step goes to an earlier entry)
      let problem = null;
      const sh = hex(h.signer);
      if (h.event.type === "RegisterOpened") {
        if (!h.event.officers.some((o) => equal(o.key, h.signer) && o.role === "admin"))
          problem = say(
            `l'entrée n° ${h.seq} ouvre le registre sans être signée par un administrateur qu'elle nomme`,
            `entry ${h.seq} opens the register without being signed by an admin it lists`,
            `القيد رقم ${iso(h.seq)} يفتح السجل دون أن يوقّعه مشرف مذكور فيه`,
          );
      } else {
        try {
          const history = await historyOf(h.signer);
          const last = history.filter((x) => x.seq < h.seq).pop();
          if (!last || last.kind !== "authorized" || last.role !== "admin")
            problem = say(
              `l'entrée n° ${h.seq} (${h.event.type}) est signée par la clé ${sh}, qui n'était pas alors un administrateur habilité`,
              `entry ${h.seq} (${h.event.type}) is signed by key ${sh}, which was not then an authorized admin`,
              `القيد رقم ${iso(h.seq)} (${iso(h.event.type)}) موقّع بالمفتاح ${iso(sh)}، الذي لم يكن حينها مشرفًا معتمدًا`,
            );
          else {
            for (const x of history) {
              problem = await authorizationProblem(x);
              if (problem) break;
            }
          }
        } catch (e) {
          const err = e instanceof Failure ? e : new Failure(String(e), String(e), `خطأ: ${e}`);
          problem = say(
            `entrée n° ${h.seq}, clé ${sh} : ${err.fr}`,
            `entry ${h.seq}, key ${sh}: ${err.en}`,
            `القيد رقم ${iso(h.seq)}، المفتاح ${iso(sh)}: ${err.ar}`,
          );
        }
      }
      traced.set(h.seq, problem);
      return problem;
    };
    const distinct = [];
    for (const e of entries) if (!distinct.some((k) => equal(k, e.entry.signer))) distinct.push(e.entry.signer);
    const signedBy = (k) => entries.filter((e) => equal(e.entry.signer, k)).map((e) => e.seq);
    for (const k of distinct) {
      const kh = hex(k);
      const first = entries.find((e) => equal(e.entry.signer, k));
      if (equal(k, key.key)) {
        failures.push(
          new Failure(
            `Entrée n° ${first.seq} : signée par la clé du journal, qui ne signe aucun événement d'affaire`,
            `Entry ${first.seq}: signed by the log key, which signs no case event`,
            `القيد رقم ${iso(first.seq)}: موقّع بمفتاح الدفتر، الذي لا يوقّع أي حدث من أحداث القضايا`,
            signedBy(k),
            "officer",
          ),
        );
        continue;
      }
      if (!signers.some((x) => x && x.key === kh)) {
        failures.push(
          new Failure(
            `Entrée n° ${first.seq} : signée par la clé ${kh}, et le serveur ne donne aucune preuve que cette clé ait été habilitée`,
            `Entry ${first.seq}: signed by key ${kh}, and the server gives no proof that this key was authorized`,
            `القيد رقم ${iso(first.seq)}: موقّع بالمفتاح ${iso(kh)}، ولا يقدّم الخادم أي إثبات على أن هذا المفتاح كان معتمدًا`,
            signedBy(k),
            "officer",
          ),
        );
        continue;
      }
      let history;
      try {
        history = await historyOf(k);
        for (const h of history) {
          const problem = await authorizationProblem(h);
          if (problem) fail(problem.fr, problem.en, problem.ar);
        }
      } catch (e) {
        const err = e instanceof Failure ? e : new Failure(String(e), String(e), `خطأ: ${e}`);
        failures.push(
          new Failure(
            `Habilitation de la clé ${kh} (entrée n° ${first.seq}) : ${err.fr}`,
            `Authorization of key ${kh} (entry ${first.seq}): ${err.en}`,
            `اعتماد المفتاح ${iso(kh)} (القيد رقم ${iso(first.seq)}): ${err.ar}`,
            signedBy(k),
            "officer",
          ),
        );
        continue;
      }
      for (const e of entries) {
        if (!equal(e.entry.signer, k)) continue;
        const before = history.filter((h) => h.seq < e.seq);
        const last = before[before.length - 1];
        if (!last) {
          failures.push(
            new Failure(
              `Entrée n° ${e.seq} : signée par la clé ${kh}, qui n'avait jamais été habilitée dans ce registre (son historique, prouvé par l'index signé, ne compte aucune habilitation avant cette entrée)`,
              `Entry ${e.seq}: signed by key ${kh}, which had never been authorized in this register (its history, proven by the signed index, has no authorization before this entry)`,
              `القيد رقم ${iso(e.seq)}: موقّع بالمفتاح ${iso(kh)}، الذي لم يُعتمد قط في هذا السجل (تاريخ اعتماده، الذي يثبته الفهرس الموقّع، لا يتضمن أي اعتماد قبل هذا القيد)`,
              [e.seq],
              "officer",
            ),
          );
        } else if (last.kind === "revoked") {
          const auth = before.filter((h) => h.kind === "authorized").pop();
          const name = auth ? auth.name : kh;
          failures.push(
            new Failure(
              `Entrée n° ${e.seq} : signée par ${name} (${kh}) après le retrait de son habilitation (entrée n° ${last.seq})`,
              `Entry ${e.seq}: signed by ${name} (${kh}) after the key was revoked (entry ${last.seq})`,
              `القيد رقم ${iso(e.seq)}: موقّع من طرف ${iso(name)} (${iso(kh)}) بعد سحب اعتماد مفتاحه (القيد رقم ${iso(last.seq)})`,
              [e.seq],
              "officer",
            ),
          );
        } else {
          bySeq.set(e.seq, { name: last.name, role: last.role, key: kh, authorizedAt: last.seq });
        }
      }
    }
    return bySeq;
  }

  /**
   * The chain of log keys (FORMAT §3.1, `LogKeyRotated`) from `from`, a key this browser
   * trusted (pinned, or typed), to `to`, the key the site gives now, proven by the answer of
   * `GET /api/v1/log-keys` (docs/API.md): its checkpoint is signed by `to`, and each rotation
   * from `from` on is an entry included in that checkpoint's tree, signed by the key before
   * it, naming the next. A rotation the server left out breaks the chain; one it made up
   * needs the retired key's signature. Returns [{seq, from, to}] (the keys as bytes), or
   * throws a Failure that says why the chain does not hold.
   */
  async function followLogKeys(data, from, to) {
    if (!data || typeof data !== "object" || !data.checkpoint || typeof data.checkpoint.text !== "string" || !Array.isArray(data.entries))
      fail(
        "la réponse du serveur sur les clés du registre est mal formée",
        "the server's answer about the register's keys is malformed",
        "ردّ الخادم بشأن مفاتيح السجل غير سليم الصيغة",
      );
    if (from.name !== to.name)
      fail(
        `les deux clés nomment deux registres différents (${from.name}, ${to.name})`,
        `the two keys name two different registers (${from.name}, ${to.name})`,
        `يسمّي المفتاحان سجلّين مختلفين (${iso(from.name)}، ${iso(to.name)})`,
      );
    const cp = parseCheckpoint((await openNote(data.checkpoint.text, to)).text);
    const steps = [];
    let current = from.key;
    for (const x of data.entries) {
      // Decoded first, to check only the rotations (the register's other entries are its
      // officers' events, which the case's own proof covers).
      let event;
      try {
        event = decodeEntry(base64(x && x.bytes, say("octets", "bytes", "البايتات"))).event;
      } catch (e) {
        if (!(e instanceof Failure)) throw e;
        fail(`Entrée n° ${x && x.seq} : ${e.fr}`, `Entry ${x && x.seq}: ${e.en}`, `القيد رقم ${iso(x && x.seq)}: ${e.ar}`);
      }
      if (event.type !== "LogKeyRotated") continue;
      const checked = await checkEntry(x, "seq", cp);
      if (!equal(checked.entry.signer, current)) {
        // A rotation of a key before `from` in the chain; after it, a break.
        if (steps.length === 0) continue;
        fail(
          `l'entrée n° ${checked.seq} renouvelle la clé du registre sans être signée par la clé alors en service (${hex(current)})`,
          `entry ${checked.seq} rotates the register's key without being signed by the key then in service (${hex(current)})`,
          `القيد رقم ${iso(checked.seq)} يجدّد مفتاح السجل دون أن يكون موقّعًا بالمفتاح الساري حينها (${iso(hex(current))})`,
        );
      }
      steps.push({ seq: checked.seq, from: current, to: checked.entry.event.new_key });
      current = checked.entry.event.new_key;
    }
    if (!equal(current, to.key))
      fail(
        steps.length
          ? `la chaîne des clés du registre mène de la clé ${hex(from.key)} à la clé ${hex(current)}, pas à celle que donne ce site (${hex(to.key)})`
          : `aucune entrée du registre ne fait passer de la clé ${hex(from.key)} à celle que donne ce site (${hex(to.key)})`,
        steps.length
          ? `the chain of the register's keys leads from key ${hex(from.key)} to key ${hex(current)}, not to the one this site gives (${hex(to.key)})`
          : `no entry of the register leads from key ${hex(from.key)} to the one this site gives (${hex(to.key)})`,
        steps.length
          ? `سلسلة مفاتيح السجل تقود من المفتاح ${iso(hex(from.key))} إلى المفتاح ${iso(hex(current))}، لا إلى المفتاح الذي يقدّمه هذا الموقع (${iso(hex(to.key))})`
          : `لا يوجد في السجل قيد ينقل من المفتاح ${iso(hex(from.key))} إلى المفتاح الذي يقدّمه هذا الموقع (${iso(hex(to.key))})`,
      );
    return steps;
  }

  /**
   * The 404 of an unknown case: `{error, checkpoint, completeness: {size, index, key,
   * trie_proof}}`. Returns true when it proves, with the key, that `caseId` has no entry at
   * the checkpoint; throws otherwise.
   */
  async function verifyAbsence(data, key, caseId) {
    if (!data || !data.checkpoint || !data.completeness) fail("aucune preuve d'absence", "no proof of absence", "لا يوجد إثبات على عدم الوجود");
    const parsed = await openNote(data.checkpoint.text, key);
    const cp = parseCheckpoint(parsed.text);
    if (cp.origin !== key.name)
      fail(
        "L'origine du point de contrôle n'est pas le nom de la clé.",
        "The checkpoint's origin is not the key's name.",
        "مصدر نقطة التحقق ليس اسم المفتاح.",
      );
    const index = await checkIndexCommitted(data.completeness, cp, key);
    const k = await caseKey(caseId);
    if (data.completeness.key !== hex(k)) fail("clé d'index inexacte", "wrong index key", "مفتاح الفهرس غير صحيح");
    const value = await verifyTrieProof(parseTrieProof(data.completeness.trie_proof), index.root, k);
    if (value !== null) fail("l'index contient cette affaire", "the index holds this case", "الفهرس يتضمن هذه القضية");
    return { size: cp.size, seq: index.seq };
  }

  // ---- What a case is, from its verified entries (crates/projector's rules) --------------

  /**
   * The case's facts from its verified entries, in log order, as crates/projector's view
   * records them: opening, status (its state machine, crates/projector/src/case.rs), deadline,
   * hearings, sanctions, compliance, closing, decisions, appeals, the values as amended, and
   * the corrections, amendments and erasure that point at each entry.
   */
  function projectCase(entries) {
    const c = {
      id: null,
      controller: null,
      categories: null,
      openedBy: null,
      openedOn: null,
      openingSeq: null,
      status: null,
      deadline: null,
      deadlines: [],
      hearings: [],
      sanctions: [],
      authorities: [],
      compliance: null,
      closing: null,
      decisions: [],
      appeals: [],
      resumeTo: null,
      annotations: new Map(),
    };
    const note = (target) => {
      const k = String(target);
      if (!c.annotations.has(k)) c.annotations.set(k, { corrections: [], amendments: [], erasure: null });
      return c.annotations.get(k);
    };
    const close = (status) => {
      c.deadline = null;
      c.resumeTo = null;
      c.status = status;
    };
    const same = (a, b) => String(a) === String(b);
    for (const { seq, entry } of entries) {
      const e = entry.event;
      if (c.id === null && entry.case) {
        c.id = entry.case.id;
        c.openingSeq = seq;
        if (e.type === "ComplaintReceived") {
          c.controller = e.controller;
          c.categories = e.categories;
          c.openedBy = "complaint";
          c.openedOn = e.received_on;
          c.status = "open";
        } else if (e.type === "InspectionOpened" && e.opens) {
          c.controller = e.opens.controller;
          c.categories = e.opens.categories;
          c.openedBy = "inspection";
          c.openedOn = e.opened_on;
          c.status = "under_investigation";
        }
        continue;
      }
      switch (e.type) {
        case "InspectionOpened":
          if (c.status === "open" || c.status === "reopened") c.status = "under_investigation";
          break;
        case "HearingHeld":
          if (c.status === "open" || c.status === "reopened") c.status = "under_investigation";
          c.hearings.push({ seq, held_on: e.held_on, place: e.place });
          break;
        case "ComplianceDeadlineSet":
        case "DeadlineExtended":
          c.deadlines.push({ seq, due_on: e.due_on });
          c.deadline = e.due_on;
          c.status = "awaiting_compliance";
          break;
        case "ComplianceConfirmed":
          c.compliance = { seq, confirmed_on: e.confirmed_on };
          c.deadline = null;
          c.status = "complied";
          break;
        case "SanctionNotified":
          c.sanctions.push({ seq, notified_on: e.notified_on, sanction: e.sanction, legal_basis: e.legal_basis });
          c.status = "sanctioned";
          break;
        case "AuthoritiesNotified":
          c.authorities.push({ seq, notified_on: e.notified_on, authorities: e.authorities });
          break;
        case "CaseClosed":
          c.closing = { seq, closed_on: e.closed_on, outcome: e.outcome };
          close("closed");
          break;
        case "ComplaintInadmissible":
          close("inadmissible");
          break;
        case "ComplaintForwarded":
          close("forwarded");
          break;
        case "ProceedingsSuspended":
          c.resumeTo = c.status;
          c.status = "suspended";
          break;
        case "AppealLodged":
          c.appeals.push({ seq, lodged_on: e.lodged_on, court: e.court, by: e.by, ruling: null });
          c.resumeTo = c.status;
          c.status = "under_appeal";
          break;
        case "ProceedingsResumed":
        case "CourtRuling":
          if (e.type === "CourtRuling" && c.appeals.length)
            c.appeals[c.appeals.length - 1].ruling = { seq, ruled_on: e.ruled_on, ruling: e.ruling };
          c.status = c.resumeTo || "under_investigation";
          c.resumeTo = null;
          break;
        case "CaseReopened":
          c.closing = null;
          c.resumeTo = null;
          c.status = "reopened";
          break;
        case "DecisionPublished":
          c.decisions.push({ seq, published_on: e.published_on, decision_number: e.decision_number });
          break;
        case "Correction":
          note(e.target).corrections.push(seq);
          break;
        case "Erasure":
          note(e.target).erasure = { seq, erased_on: utcDay(entry.recorded_at), reason: e.reason };
          break;
        case "Amendment": {
          note(e.target).amendments.push(seq);
          const { field, value } = e.amend;
          const t = e.target;
          if (field === "date") {
            if (same(t, c.openingSeq)) c.openedOn = value;
            for (const h of c.hearings) if (same(h.seq, t)) h.held_on = value;
            for (const x of c.sanctions) if (same(x.seq, t)) x.notified_on = value;
            for (const x of c.authorities) if (same(x.seq, t)) x.notified_on = value;
            for (const x of c.decisions) if (same(x.seq, t)) x.published_on = value;
            for (const x of c.appeals) {
              if (same(x.seq, t)) x.lodged_on = value;
              if (x.ruling && same(x.ruling.seq, t)) x.ruling.ruled_on = value;
            }
            if (c.compliance && same(c.compliance.seq, t)) c.compliance.confirmed_on = value;
            if (c.closing && same(c.closing.seq, t)) c.closing.closed_on = value;
          } else if (field === "due_on") {
            const j = c.deadlines.findIndex((x) => same(x.seq, t));
            if (j >= 0) {
              c.deadlines[j].due_on = value;
              // The deadline in force is the latest one set, while one is in force.
              if (j === c.deadlines.length - 1 && c.deadline !== null) c.deadline = value;
            }
          } else if (field === "controller") {
            c.controller = value;
          } else if (field === "categories") {
            c.categories = value;
          }
          break;
        }
      }
    }
    return c;
  }
  // Dates by arithmetic, not `Date`: a page's first `Date` formatting loads the time-zone
  // data (about a millisecond of a first verification). Howard Hinnant's civil_from_days
  // (proleptic Gregorian, as `Date` and Rust's chrono count), for any integer day.
  const DAY_MS = 86400000;
  const zeroPad = (n, w) => String(n).padStart(w, "0");
  /** [year, month, day, minutes into the day] of Unix milliseconds, in UTC. */
  function utcParts(ms) {
    const t = Number(ms);
    const days = Math.floor(t / DAY_MS);
    const z = days + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const month = mp < 10 ? mp + 3 : mp - 9;
    const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    return [year, month, day, Math.floor((t - days * DAY_MS) / 60000)];
  }
  /** The UTC day of Unix milliseconds, YYYY-MM-DD. */
  function utcDay(ms) {
    const [y, m, d] = utcParts(ms);
    return `${zeroPad(y, 4)}-${zeroPad(m, 2)}-${zeroPad(d, 2)}`;
  }
  /** `2024-05-06 14:03 UTC`, as the pages write a time. */
  function utcMinute(ms) {
    const [y, m, d, min] = utcParts(ms);
    return `${zeroPad(y, 4)}-${zeroPad(m, 2)}-${zeroPad(d, 2)} ${zeroPad(Math.floor(min / 60), 2)}:${zeroPad(min % 60, 2)} UTC`;
  }

  /** Checks a text blob (salt ‖ text) against its signed digest; the text, or throws. */
  async function openBlob(body, digest) {
    if (!equal(await sha256(body), digest) || body.length < 32)
      fail("le texte ne correspond pas à l'empreinte signée", "the text does not match the signed digest", "النص لا يطابق البصمة الموقّعة");
    try {
      return fromUtf8.decode(body.subarray(32));
    } catch (e) {
      return fail("le texte n'est pas de l'UTF-8", "the text is not UTF-8", `النص ليس بترميز ${iso("UTF-8")}`);
    }
  }

  return {
    Failure,
    say,
    isolate,
    base64,
    toBase64,
    hex,
    fromHex,
    concat,
    equal,
    be64,
    sha256,
    leafHash,
    nodeHash,
    merkleRoot,
    verifyInclusion,
    verifyConsistency,
    pointProblem,
    verifyEd25519,
    ed25519Supported,
    decodeEntry,
    textDigests,
    verifyEntrySignature,
    parseVerifierKey,
    parseNote,
    openNote,
    parseCheckpoint,
    checkCosignatures,
    prepare,
    followLogKeys,
    indexKey,
    caseKey,
    officerKey,
    miniLeaf,
    miniRoot,
    keyValue,
    trieNodeHash,
    emptyNodeHash,
    emptyTrieRoot,
    parseTrieProof,
    verifyTrieProof,
    checkEntry,
    verifyCase,
    verifyAbsence,
    projectCase,
    utcDay,
    utcMinute,
    openBlob,
    EVENTS,
    CATEGORIES,
    APPELLANTS,
    RULINGS,
    AMENDED_FIELDS,
    OUTCOMES,
    SANCTIONS,
    // Which SHA-256 runs here ("wasm" or "webcrypto"), for the tests.
    sha256Engine: wasmSha256 ? "wasm" : "webcrypto",
  };
});
