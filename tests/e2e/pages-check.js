// Checks the register's pages as a browser shows them, for tests/e2e/pages.rs: for each page,
// language and window size, headless Chromium loads the page and reports its <html lang dir>,
// the elements whose content overflows their box, and axe-core's accessibility violations
// (WCAG 2.0/2.1 A and AA rules).
//
//   node pages-check.js CHROMIUM AXE_JS BASE_URL SPECS_JSON
//
// SPECS_JSON: [{"path": "/?lang=ar", "width": 390, "height": 844}, ...]. Prints one JSON
// array of results on stdout. A spec with `"verify": EXPRESSION` also runs EXPRESSION in the
// page (to change what it shows), presses Vérifier with the keyboard focus on it, and reports
// the result: its state, which element has the focus after, and each line's class and colour. Chromium is driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: no port, no WebSocket library), so only node and Chromium are
// needed.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const [chromium, axePath, base, specsJson] = process.argv.slice(2);
const specs = JSON.parse(specsJson);
const axeSource = fs.readFileSync(axePath, "utf8");
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "sijil-pages-"));

const child = spawn(
  chromium,
  ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars", "--remote-debugging-pipe", `--user-data-dir=${profile}`, "about:blank"],
  { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
);
const toChrome = child.stdio[3];
const fromChrome = child.stdio[4];

let nextId = 1;
const pending = new Map();
const waiters = [];
let buffer = "";
fromChrome.on("data", (chunk) => {
  buffer += chunk.toString("utf8");
  let end;
  while ((end = buffer.indexOf("\0")) >= 0) {
    const msg = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(JSON.stringify(msg.error)));
      else resolve(msg.result);
    } else if (msg.method) {
      for (const w of waiters.slice()) if (w.method === msg.method && w.sessionId === msg.sessionId) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(msg.params);
      }
    }
  }
});
function send(method, params, sessionId) {
  const id = nextId++;
  const msg = { id, method, params: params || {} };
  if (sessionId) msg.sessionId = sessionId;
  toChrome.write(JSON.stringify(msg) + "\0");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
function once(method, sessionId) {
  return new Promise((resolve) => waiters.push({ method, sessionId, resolve }));
}

// What the page itself reports: its language and direction, and the elements whose content
// sticks out of their box (a scroll container, like <pre>, is no overflow: it scrolls).
const inspect = `(() => {
  const html = document.documentElement;
  const overflowing = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el instanceof SVGElement || el.closest("svg")) continue;
    const style = getComputedStyle(el);
    if (style.display === "inline" || style.display === "none" || el.clientWidth === 0) continue;
    if (style.overflowX !== "visible") continue;
    if (el.scrollWidth > el.clientWidth + 1)
      overflowing.push(el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : "") + ": " + (el.textContent || "").trim().slice(0, 60));
  }
  return JSON.stringify({
    lang: html.getAttribute("lang"),
    dir: html.getAttribute("dir"),
    pageWidth: html.scrollWidth,
    windowWidth: window.innerWidth,
    overflowing,
  });
})()`;
const runAxe = `axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } })
  .then((r) => JSON.stringify(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }))))`;

// Presses Vérifier from the keyboard's focus and waits for the result (the page's own
// timers: no wall-clock assertion), then reads it.
const pressVerify = `new Promise((resolve) => {
  const button = document.getElementById("verify-button");
  const out = document.getElementById("verify-result");
  button.focus();
  button.click();
  const poll = setInterval(() => {
    if (out.dataset.state === "running" || out.dataset.state === "idle") return;
    clearInterval(poll);
    // The focus moves in the check's last step (after the result is shown): one more turn.
    setTimeout(() => resolve(JSON.stringify({
      state: out.dataset.state,
      focused: document.activeElement ? document.activeElement.id : null,
      lines: Array.from(out.querySelectorAll("li"), (li) => ({ class: li.className, color: getComputedStyle(li).color, text: li.textContent })),
    })), 0);
  }, 50);
})`;

async function main() {
  const results = [];
  for (const spec of specs) {
    const { targetId } = await send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
    await send("Page.enable", {}, sessionId);
    await send("Emulation.setDeviceMetricsOverride", { width: spec.width, height: spec.height, deviceScaleFactor: 1, mobile: spec.width < 600 }, sessionId);
    const loaded = once("Page.loadEventFired", sessionId);
    await send("Page.navigate", { url: base + spec.path }, sessionId);
    await loaded;
    const page = await send("Runtime.evaluate", { expression: inspect, returnByValue: true }, sessionId);
    await send("Runtime.evaluate", { expression: axeSource }, sessionId);
    const axe = await send("Runtime.evaluate", { expression: runAxe, awaitPromise: true, returnByValue: true }, sessionId);
    if (axe.exceptionDetails) throw new Error(`axe failed on ${spec.path}: ${JSON.stringify(axe.exceptionDetails)}`);
    let verify = null;
    if (spec.verify) {
      await send("Runtime.evaluate", { expression: spec.verify }, sessionId);
      const done = await send("Runtime.evaluate", { expression: pressVerify, awaitPromise: true, returnByValue: true }, sessionId);
      verify = JSON.parse(done.result.value);
    }
    results.push({ ...spec, ...JSON.parse(page.result.value), violations: JSON.parse(axe.result.value), verify });
    await send("Target.closeTarget", { targetId });
  }
  return results;
}

// The profile is removed once Chromium has exited (it writes to it until then).
function finish(code) {
  child.once("exit", () => {
    try {
      fs.rmSync(profile, { recursive: true, force: true });
    } catch (e) {
      // A leftover temporary profile is harmless.
    }
    process.exit(code);
  });
  child.kill();
}

main()
  .then((results) => {
    process.stdout.write(JSON.stringify(results), () => finish(0));
  })
  .catch((e) => {
    process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
    finish(1);
  });
