// Issue 12: every sentence the browser verifier can show has its Arabic, as well as its French
// and English. Two checks: the sources (sijil-verify-core.js and verify.js) are scanned for
// every call that makes a sentence — new Failure(fr, en, ar, …), fail(fr, en, ar, …),
// say(fr, en, ar), say3(fr, en, ar), t(fr, en, ar), the trie proof's bad(fr, en, ar) — and
// each must give a third argument that is Arabic text (or an Arabic part: `x.ar`, `ar`); and
// the failures the checks produce carry an Arabic sentence, which `in("ar")` returns.
"use strict";
if (!globalThis.crypto) globalThis.crypto = require("node:crypto").webcrypto;
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const core = require("../sijil-verify-core.js");
const forge = require("./forge.js");
const { Failure, hex, toBase64 } = core;

const ASSETS = path.join(__dirname, "..");
const ARABIC = /[\u0600-\u06FF]/;
const LATIN_WORD = /[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ0-9]{3,}/g;

/**
 * The calls `name(` in `src` (not a definition, not a method), each with its top-level
 * arguments as source text and its line. Knows strings, template literals (nested),
 * comments and brackets: enough for these two files.
 */
function calls(src, names) {
  const out = [];
  const re = new RegExp(`(?<![\\w$.])(new Failure|${names.join("|")})\\(`, "g");
  let m;
  while ((m = re.exec(src))) {
    const line = src.slice(0, m.index).split("\n").length;
    // Inside a comment: skip.
    const lineStart = src.lastIndexOf("\n", m.index) + 1;
    const before = src.slice(lineStart, m.index);
    if (/\/\/|^\s*\*/.test(before)) continue;
    const args = [];
    let i = m.index + m[0].length;
    let depth = 0;
    let start = i;
    const skipString = (q) => {
      i++;
      while (i < src.length && src[i] !== q) i += src[i] === "\\" ? 2 : 1;
      i++;
    };
    const skipTemplate = () => {
      i++;
      while (i < src.length && src[i] !== "`") {
        if (src[i] === "\\") i += 2;
        else if (src[i] === "$" && src[i + 1] === "{") {
          i += 2;
          skipCode("}");
          i++;
        } else i++;
      }
      i++;
    };
    // Code up to the closing `end` at depth 0 (i left on it).
    const skipCode = (end) => {
      let d = 0;
      while (i < src.length) {
        const c = src[i];
        if (c === '"' || c === "'") skipString(c);
        else if (c === "`") skipTemplate();
        else if ("([{".includes(c)) {
          d++;
          i++;
        } else if (")]}".includes(c)) {
          if (d === 0 && c === end) return;
          d--;
          i++;
        } else i++;
      }
    };
    for (;;) {
      const c = src[i];
      if (c === undefined) throw new Error(`unterminated call at line ${line}`);
      if (c === '"' || c === "'") skipString(c);
      else if (c === "`") skipTemplate();
      else if (c === "/" && src[i + 1] === "/") i = src.indexOf("\n", i);
      else if ("([{".includes(c)) {
        depth++;
        i++;
      } else if (")]}".includes(c)) {
        if (depth === 0) {
          const last = src.slice(start, i).trim();
          if (last) args.push(last);
          break;
        }
        depth--;
        i++;
      } else if (c === "," && depth === 0) {
        args.push(src.slice(start, i).trim());
        i++;
        start = i;
      } else i++;
    }
    out.push({ name: m[1], line, args });
  }
  return out;
}

/** Whether a call's third argument is an Arabic sentence, or an Arabic part passed on. */
function arabicArgument(a) {
  if (a === undefined) return false;
  // A sentence, or a template made of Arabic parts (`${ar}.`, `${line.ar} ✓`).
  if (/^(`|"|')/.test(a)) return ARABIC.test(a) || /^`\$\{(ar|arabic|[\w.]+\.ar)\}[^$]*`$/.test(a);
  // A condition choosing between Arabic sentences.
  if (/\?/.test(a)) return ARABIC.test(a) || /\.ar\b/.test(a);
  // A variable holding the Arabic (`ar`, `arabic`), or a part's Arabic (`problem.ar`).
  return /^(ar|arabic)$|\.ar$/.test(a);
}

for (const file of ["sijil-verify-core.js", "verify.js"]) {
  test(`${file}: every sentence it makes has its Arabic`, () => {
    const src = fs.readFileSync(path.join(ASSETS, file), "utf8");
    const found = calls(src, ["fail", "say", "say3", "t", "bad"]);
    assert.ok(found.length > (file === "verify.js" ? 40 : 90), `${file}: ${found.length} calls found`);
    const missing = [];
    for (const c of found) {
      // base64's bad(why) takes one part made by say(), itself checked.
      if (c.name === "bad" && c.args.length === 1 && /^say\(/.test(c.args[0])) continue;
      if (c.args.length < 3 || !arabicArgument(c.args[2])) missing.push(`${file}:${c.line}: ${c.name}(${c.args.slice(0, 2).join(", ")}…)`);
      // The French and English come first, in that order: neither is Arabic.
      else if (ARABIC.test(c.args[0]) || ARABIC.test(c.args[1])) missing.push(`${file}:${c.line}: ${c.name}: arguments out of order`);
    }
    assert.deepEqual(missing, [], `sentences without Arabic:\n${missing.join("\n")}`);
  });
}

test("Failure and say require the Arabic; in(lang) picks the language", () => {
  assert.throws(() => new Failure("fr", "en"), TypeError);
  assert.throws(() => new Failure("fr", "en", [3], "chain"), TypeError, "the old argument order is refused");
  assert.throws(() => core.say("fr", "en"), TypeError);
  const f = new Failure("phrase", "sentence", "جملة", [4], "chain");
  assert.deepEqual([f.in("fr"), f.in("en"), f.in("ar"), f.in("de")], ["phrase", "sentence", "جملة", "phrase"]);
  assert.equal(f.message, "sentence");
  assert.deepEqual([f.seqs, f.kind], [[4], "chain"]);
  assert.deepEqual(core.say("a", "b", "ج"), { fr: "a", en: "b", ar: "ج" });
  assert.equal(core.isolate("2024-0001"), "\u20682024-0001\u2069");
});

/** An Arabic sentence: Arabic letters, no French or English words left untranslated. */
function assertArabic(f) {
  assert.ok(f instanceof Failure, String(f));
  assert.equal(f.in("ar"), f.ar);
  assert.match(f.ar, ARABIC, `no Arabic in ${JSON.stringify(f.ar)} (${f.en})`);
  // Latin words there are names (ids, keys, event types, formats), isolated or technical:
  // none of the French or English sentence's own words.
  const own = new Set((f.en.match(LATIN_WORD) || []).concat(f.fr.match(LATIN_WORD) || []));
  const allowed = /^(base64|Ed25519|IndexCommitted|LogKeyRotated|seqs|UTF|registre|example|test|plaintes|HearingHeld|ComplaintReceived|OfficerAuthorized|amina|karim|acme|beta)$/;
  const left = (f.ar.replace(/\u2068[^\u2069]*\u2069/g, "").match(LATIN_WORD) || []).filter((w) => own.has(w) && !allowed.test(w));
  assert.deepEqual(left, [], `French or English words in the Arabic: ${f.ar}`);
}

test("the failures of forged cases and entries are said in Arabic", async () => {
  const amina = await forge.keyFromSeed(new Uint8Array(32).fill(1));
  const karim = await forge.keyFromSeed(new Uint8Array(32).fill(6));
  const intruder = await forge.keyFromSeed(new Uint8Array(32).fill(8));
  const reg = await forge.Register.create("registre.example.ma/test", [{ key: amina, name: "amina", role: "admin" }]);
  const summary = new Uint8Array(32).fill(0x33);
  await reg.append(amina, { type: "ComplaintReceived", controller: { id: "acme", name: "ACME SARL" }, categories: ["privacy"], received_on: "2024-01-02", summary }, "2024-0001");
  await reg.append(amina, { type: "OfficerAuthorized", officer: { key: karim.public, name: "karim", role: "clerk" } });
  await reg.append(karim, { type: "HearingHeld", held_on: "2024-02-01", place: "Rabat", summary: null }, "2024-0001");
  await reg.append(amina, { type: "ComplaintReceived", controller: { id: "beta", name: "Beta" }, categories: ["image"], received_on: "2024-03-01", summary: null }, "2024-0002");
  await reg.append(intruder, { type: "HearingHeld", held_on: "2024-06-01", place: "Ailleurs", summary: null }, "2024-0001");
  await reg.commit();
  const key = await core.parseVerifierKey(reg.vkey);
  const seen = [];
  const all = (r) => {
    for (const f of r.failures) assertArabic(f);
    seen.push(...r.failures);
    return r.failures.map((f) => f.ar).join("\n");
  };

  // An unauthorized signer.
  let r = await core.verifyCase(await reg.caseAnswer("2024-0001"), key, "2024-0001");
  assert.match(all(r), new RegExp(`القيد رقم \u20685\u2069: موقّع بالمفتاح \u2068${hex(intruder.public)}\u2069، الذي لم يُعتمد قط في هذا السجل`));
  // A dropped entry, an extra one, a changed byte, a missing proof.
  let data = await reg.caseAnswer("2024-0001");
  data.entries.pop();
  r = await core.verifyCase(data, key, "2024-0001");
  assert.match(all(r), /ينقص القيد رقم \u20685\u2069\./);
  data = await reg.caseAnswer("2024-0001");
  data.entries.pop();
  data.completeness.seqs.pop();
  r = await core.verifyCase(data, key, "2024-0001");
  assert.match(all(r), /^قضية ناقصة أو محرّفة: الفهرس الموقّع للسجل \(القيد رقم \u20686\u2069\)/m);
  data = await reg.caseAnswer("2024-0001");
  data.entries.push(await reg.servedEntry(4, "leaf_index"));
  r = await core.verifyCase(data, key, "2024-0001");
  assert.match(all(r), /القيد رقم \u20684\u2069: ينتمي إلى القضية \u20682024-0002\u2069، لا إلى القضية \u20682024-0001\u2069/);
  data = await reg.caseAnswer("2024-0001");
  const b = core.base64(data.entries[1].bytes);
  b[b.length - 70] ^= 1;
  data.entries[1].bytes = toBase64(b);
  r = await core.verifyCase(data, key, "2024-0001");
  assert.match(all(r), /القيد رقم \u20683\u2069: (غير مدرج في الشجرة الموقّعة|توقيع الموظف غير صالح)/);
  data = await reg.caseAnswer("2024-0001");
  data.entries[0].bytes = "!!!!";
  data.completeness.index = await reg.servedEntry(5, "seq");
  data.completeness.signers = data.completeness.signers.filter((s) => s.key !== hex(karim.public));
  r = await core.verifyCase(data, key, "2024-0001");
  assert.match(all(r), /القيد رقم \u20681\u2069: البايتات: ترميز base64 غير صالح/);
  assert.match(all(r), /يجب أن يكون قيد الفهرس آخر قيد في الدفتر/);
  data = await reg.caseAnswer("2024-0001");
  delete data.completeness;
  r = await core.verifyCase(data, key, "2024-0001");
  assert.match(all(r), /لا يقدّم الخادم إثباتًا على أن هذه القضية كاملة/);

  // Fatal ones, thrown: another key, a malformed key, a malformed entry.
  const other = await core.parseVerifierKey(await forge.vkey("registre.example.ma/test", await forge.keyFromSeed(new Uint8Array(32).fill(9))));
  const thrown = async (p) => {
    try {
      await p();
    } catch (e) {
      assertArabic(e);
      seen.push(e);
      return e.ar;
    }
    assert.fail("expected a failure");
  };
  assert.match(await thrown(() => core.verifyCase(data, other, "2024-0001")), /^نقطة التحقق غير موقّعة بالمفتاح \u2068registre\.example\.ma\/test \([0-9a-f]{8}\)\u2069/);
  assert.match(await thrown(() => core.parseVerifierKey("not a key")), /مفتاح تحقق غير سليم الصيغة/);
  const bytes = core.base64((await reg.servedEntry(1, "seq")).bytes);
  assert.match(await thrown(() => core.decodeEntry(core.concat(bytes, [0]))), /بعد نهاية القيد بايتات زائدة عددها \u20681\u2069/);
  assert.match(await thrown(() => core.decodeEntry(bytes.slice(0, 40))), /قيد مبتور \(عند البايت \u2068\d+\u2069\)/);
  assert.match(await thrown(() => core.openBlob(new Uint8Array(40), new Uint8Array(32))), /النص لا يطابق البصمة الموقّعة/);
  assert.ok(seen.length >= 12, `${seen.length} failures seen`);
});
