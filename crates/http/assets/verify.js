// sijil — the case page's "Verify" button: checks, in the visitor's browser, with WebCrypto
// only (Ed25519, SHA-256) and no library, that what the page shows is what the register
// signed. It trusts nothing the server says but the bytes it can check:
//
//  1. the checkpoint (c2sp.org/tlog-checkpoint in a c2sp.org/signed-note) is signed by the
//     register's key (the key ID is recomputed from the key's name and bytes);
//  2. each entry of the case is included in that checkpoint's tree (RFC 9162 §2.1.3.2,
//     leaf hash SHA-256(0x00 ‖ entry), node hash SHA-256(0x01 ‖ left ‖ right));
//  3. each entry is signed by its officer: Ed25519 over
//     "sijil/event/v1\n" ‖ origin ‖ "\n" ‖ entry[..len-64] (docs/FORMAT.md §2.2);
//  4. the case's own chain is unbroken: each entry's case link counts 0, 1, 2… and names
//     the leaf hash of the case's entry before it (DESIGN §4);
//  5. each text shown is the blob whose SHA-256 is the digest inside the signed entry.
"use strict";
(function () {
  const box = document.getElementById("verify-box");
  if (!box) return;
  const button = document.getElementById("verify-button");
  const out = document.getElementById("verify-result");
  const en = box.dataset.lang === "en";
  const t = (fr, eng) => (en ? eng : fr);
  const utf8 = new TextEncoder();
  const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

  class Failure extends Error {}

  function base64(s) {
    let bin;
    try {
      bin = atob(s);
    } catch (e) {
      throw new Failure(t("base64 invalide", "invalid base64"));
    }
    const u = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    return u;
  }
  function hex(u) {
    return Array.from(u, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  function fromHex(s) {
    if (!/^([0-9a-f]{2})*$/.test(s)) throw new Failure(t("hexadécimal invalide", "invalid hex"));
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
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function contains(haystack, needle) {
    outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
      for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
      return true;
    }
    return false;
  }
  async function sha256(u) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", u));
  }
  const leafHash = (entry) => sha256(concat([0], entry));
  const nodeHash = (l, r) => sha256(concat([1], l, r));

  // A signed-note verifier key: <name>+<8 hex key ID>+<base64(0x01 ‖ 32-byte key)>.
  async function parseKey(s) {
    // The name and the key ID hold no '+'; the base64 after them may.
    const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(s.trim());
    const parts = m ? m.slice(1) : [];
    if (parts.length !== 3)
      throw new Failure(t("clé de vérification mal formée", "malformed verifier key"));
    const raw = base64(parts[2]);
    if (raw.length !== 33 || raw[0] !== 1)
      throw new Failure(t("la clé n'est pas une clé Ed25519 de journal", "the key is not an Ed25519 log key"));
    // Key ID: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ key).
    const id = (await sha256(concat(utf8.encode(parts[0]), [0x0a], raw))).slice(0, 4);
    if (hex(id) !== parts[1])
      throw new Failure(t("l'identifiant de la clé ne correspond pas à la clé", "the key ID does not match the key"));
    return { name: parts[0], id, key: raw.slice(1), text: s.trim() };
  }

  const ed25519 = (key) => crypto.subtle.importKey("raw", key, { name: "Ed25519" }, false, ["verify"]);

  // c2sp.org/signed-note: the text, an empty line, then "— <name> <base64(key ID ‖ sig)>"
  // lines. A line with the key's name and ID must verify; at least one must.
  async function openNote(note, key) {
    if (!note.endsWith("\n")) throw new Failure(t("note signée tronquée", "truncated signed note"));
    const split = note.lastIndexOf("\n\n");
    if (split < 0) throw new Failure(t("note sans signature", "note without signatures"));
    const text = note.slice(0, split + 1);
    const message = utf8.encode(text);
    const verifier = await ed25519(key.key);
    let signed = false;
    for (const line of note.slice(split + 2, -1).split("\n")) {
      if (!line.startsWith("\u2014 ")) throw new Failure(t("ligne de signature mal formée", "malformed signature line"));
      const space = line.lastIndexOf(" ");
      const name = line.slice(2, space);
      const blob = base64(line.slice(space + 1));
      if (name !== key.name || blob.length < 4 || !equal(blob.slice(0, 4), key.id)) continue;
      const sig = blob.slice(4);
      if (sig.length !== 64 || !(await crypto.subtle.verify({ name: "Ed25519" }, verifier, sig, message)))
        throw new Failure(t("la signature du point de contrôle est invalide", "the checkpoint's signature is invalid"));
      signed = true;
    }
    if (!signed) throw new Failure(t("le point de contrôle n'est pas signé par cette clé", "the checkpoint is not signed by this key"));
    return text;
  }

  // c2sp.org/tlog-checkpoint: origin, size (canonical decimal), base64 root.
  function parseCheckpoint(text) {
    const lines = text.slice(0, -1).split("\n");
    if (lines.length < 3 || !/^(0|[1-9][0-9]{0,15})$/.test(lines[1]))
      throw new Failure(t("point de contrôle mal formé", "malformed checkpoint"));
    const root = base64(lines[2]);
    if (root.length !== 32) throw new Failure(t("racine mal formée", "malformed root"));
    return { origin: lines[0], size: Number(lines[1]), root };
  }

  // RFC 9162 §2.1.3.2.
  async function included(proof, index, size, root, leaf) {
    if (index >= size) return false;
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

  // The head of an entry's bincode encoding (docs/FORMAT.md §2.1): format (1 byte), seq
  // (varint), prev (32 bytes), recorded_at (zigzag varint), signer (32 bytes), case link
  // (Option: 0, or 1 then id (varint length, UTF-8), seq (varint), prev (32 bytes)).
  function entryHead(bytes) {
    let at = 0;
    const need = (n) => {
      if (at + n > bytes.length) throw new Failure(t("entrée tronquée", "truncated entry"));
    };
    const varint = () => {
      need(1);
      const first = bytes[at++];
      if (first < 251) return BigInt(first);
      const width = { 251: 2, 252: 4, 253: 8 }[first];
      if (!width) throw new Failure(t("entrée mal formée", "malformed entry"));
      need(width);
      let v = 0n;
      for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
      at += width;
      return v;
    };
    const take = (n) => {
      need(n);
      const s = bytes.slice(at, at + n);
      at += n;
      return s;
    };
    need(1);
    if (bytes[at++] !== 1) throw new Failure(t("format d'entrée inconnu", "unknown entry format"));
    const seq = varint();
    take(32);
    varint();
    const signer = take(32);
    need(1);
    let link = null;
    if (bytes[at++] === 1) {
      const len = Number(varint());
      const id = fromUtf8.decode(take(len));
      link = { id, seq: varint(), prev: take(32) };
    }
    return { seq, signer, link };
  }

  async function verify() {
    if (!window.crypto || !crypto.subtle)
      throw new Failure(t("WebCrypto n'est pas disponible (la page doit être servie en HTTPS)", "WebCrypto is not available (the page must be served over HTTPS)"));
    const lines = [];
    const failures = [];
    const key = await parseKey(document.getElementById("verify-key").value);
    const response = await fetch(box.dataset.caseApi, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) throw new Failure(t("le serveur a répondu ", "the server answered ") + response.status);
    const data = await response.json();

    const text = await openNote(data.checkpoint.text, key);
    const cp = parseCheckpoint(text);
    if (cp.origin !== key.name)
      throw new Failure(t("l'origine du point de contrôle n'est pas le nom de la clé", "the checkpoint's origin is not the key's name"));
    lines.push(`${t("Point de contrôle signé par la clé", "Checkpoint signed by the key")} ${key.name} (${hex(key.id)}) : ✓ — ${t("arbre de", "tree of")} ${cp.size} ${t("entrées", "entries")}`);

    let inclusions = 0;
    let signatures = 0;
    let chain = 0;
    let textsOk = 0;
    let erased = 0;
    let badTexts = 0;
    let previousLeaf = new Uint8Array(32);
    const origin = utf8.encode(cp.origin);
    const context = utf8.encode("sijil/event/v1\n");
    for (let i = 0; i < data.entries.length; i++) {
      const e = data.entries[i];
      const mark = document.querySelector(`.check[data-seq="${e.leaf_index}"]`);
      let ok = true;
      const fail = (message) => {
        ok = false;
        failures.push(`${t("Entrée n°", "Entry")} ${e.leaf_index} : ${message}`);
      };
      const bytes = base64(e.bytes);
      const leaf = await leafHash(bytes);
      const proof = e.inclusion_proof.map(base64);
      if (await included(proof, e.leaf_index, cp.size, cp.root, leaf)) inclusions++;
      else fail(t("n'est pas incluse dans l'arbre signé ✗", "not included in the signed tree ✗"));
      try {
        const head = entryHead(bytes);
        if (head.seq !== BigInt(e.leaf_index)) fail(t("son numéro n'est pas sa place dans le journal ✗", "its seq is not its place in the log ✗"));
        const officer = await ed25519(head.signer);
        const message = concat(context, origin, [0x0a], bytes.slice(0, bytes.length - 64));
        if (bytes.length > 64 && (await crypto.subtle.verify({ name: "Ed25519" }, officer, bytes.slice(bytes.length - 64), message))) signatures++;
        else fail(t("la signature de l'agent est invalide ✗", "the officer's signature is invalid ✗"));
        if (head.link && head.link.seq === BigInt(i) && equal(head.link.prev, previousLeaf) && head.link.id === data.case.id) chain++;
        else fail(t("la chaîne de l'affaire est rompue ✗", "the case's chain is broken ✗"));
      } catch (err) {
        fail(err instanceof Failure ? err.message : String(err));
      }
      previousLeaf = leaf;
      for (const tx of e.entry.texts || []) {
        if (tx.text === null || tx.text === undefined) {
          erased++;
          continue;
        }
        const digest = fromHex(tx.digest);
        const blob = await fetch(`/blobs/${tx.digest}`, { cache: "no-store" });
        const body = blob.ok ? new Uint8Array(await blob.arrayBuffer()) : new Uint8Array(0);
        let shown = null;
        try {
          shown = body.length >= 32 ? fromUtf8.decode(body.slice(32)) : null;
        } catch (err) {
          shown = null;
        }
        if (contains(bytes, digest) && equal(await sha256(body), digest) && shown === tx.text) {
          textsOk++;
        } else {
          badTexts++;
          fail(t("un texte ne correspond pas à l'empreinte signée ✗", "a text does not match the signed digest ✗"));
        }
      }
      if (mark) mark.className = ok ? "check ok" : "check fail";
    }
    const n = data.entries.length;
    const check = (k) => (k === n ? "✓" : "✗");
    lines.push(`${n} ${t("entrées incluses dans l'arbre de taille", "entries included in the tree of size")} ${cp.size} : ${check(inclusions)}`);
    lines.push(`${n} ${t("signatures d'agents", "officer signatures")} : ${check(signatures)}`);
    lines.push(`${t("Chaîne de l'affaire, entrées 0 à", "Case chain, entries 0 to")} ${n - 1} : ${check(chain)}`);
    lines.push(`${textsOk} ${t("textes conformes aux empreintes signées", "texts match their signed digests")}${erased ? ` (${t("effacés", "erased")} : ${erased})` : ""} : ${badTexts ? "✗" : "✓"}`);
    return { lines, failures };
  }

  function show(state, summary, lines) {
    out.dataset.state = state;
    out.textContent = "";
    const p = document.createElement("p");
    p.textContent = summary;
    out.appendChild(p);
    const ul = document.createElement("ul");
    for (const l of lines) {
      const li = document.createElement("li");
      li.textContent = l;
      ul.appendChild(li);
    }
    out.appendChild(ul);
  }

  async function run() {
    button.disabled = true;
    out.dataset.state = "running";
    out.textContent = t("Vérification en cours…", "Verifying…");
    try {
      const { lines, failures } = await verify();
      if (failures.length === 0) {
        show("ok", t("Vérifié : ce que montre cette page est ce que le registre a signé.", "Verified: what this page shows is what the register signed."), lines.concat([
          t("Reste à comparer la clé avec celle que l'autorité publie ailleurs.", "It remains to compare the key with the one the authority publishes elsewhere."),
        ]));
      } else {
        show("fail", t("ÉCHEC de la vérification : ne vous fiez pas à cette page.", "Verification FAILED: do not rely on this page."), failures.concat(lines));
      }
    } catch (err) {
      const message = err instanceof Failure ? err.message : `${t("erreur", "error")}: ${err}`;
      show("fail", t("ÉCHEC de la vérification : ne vous fiez pas à cette page.", "Verification FAILED: do not rely on this page."), [message]);
    } finally {
      button.disabled = false;
    }
  }

  button.addEventListener("click", run);
  if (box.dataset.auto === "1") run();
})();
