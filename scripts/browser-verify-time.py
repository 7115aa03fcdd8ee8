#!/usr/bin/env python3
# Times the case page's Vérifier in headless Chromium (no virtual time): loads URL (a case
# page with ?verify=1) RUNS times in one browser and prints, per run, the result state, the
# verification's own time (computeMs: performance.now() around the checks, excluding the
# network) and the total with the network (totalMs), as verify.js records them.
#
#   scripts/browser-verify-time.py http://127.0.0.1:8080/affaires/TEN-0001?verify=1 10
#   scripts/browser-verify-time.py http://127.0.0.1:8080/affaires/TEN-0001 10 --click
#
# With --click, each run waits for the page's load event and presses Vérifier, as a visitor
# does (without it, ?verify=1 starts the check while the page is still being laid out).
#
# Used by scripts/bench-case-proof (docs/PERFORMANCE.md, "Case completeness").
import json, os, select, subprocess, sys, tempfile, time
if len(sys.argv) not in (3, 4):
    raise SystemExit("usage: browser-verify-time.py URL RUNS [--click]")
url = sys.argv[1]; runs = int(sys.argv[2]); click = len(sys.argv) > 3 and sys.argv[3] == "--click"
to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()
prof = tempfile.mkdtemp()
cmd = f"exec chromium --headless --no-sandbox --disable-gpu --no-first-run --remote-debugging-pipe --user-data-dir={prof} about:blank 3<&{to_chrome_r} 4>&{from_chrome_w}"
p = subprocess.Popen(["bash", "-c", cmd], pass_fds=(to_chrome_r, from_chrome_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_chrome_r); os.close(from_chrome_w)
buf = b""; mid = 0
def send(method, params=None, session=None):
    global mid; mid += 1
    m = {"id": mid, "method": method, "params": params or {}}
    if session: m["sessionId"] = session
    os.write(to_chrome_w, json.dumps(m).encode() + b"\0"); return mid
def recv(want, timeout=20):
    global buf
    end = time.time() + timeout
    while True:
        while b"\0" in buf:
            msg, buf = buf.split(b"\0", 1); m = json.loads(msg)
            if m.get("id") == want: return m
        r, _, _ = select.select([from_chrome_r], [], [], max(0, end - time.time()))
        if not r: raise SystemExit(f"timeout waiting for {want}")
        buf += os.read(from_chrome_r, 1 << 20)
t = recv(send("Target.createTarget", {"url": "about:blank"}))["result"]["targetId"]
s = recv(send("Target.attachToTarget", {"targetId": t, "flatten": True}))["result"]["sessionId"]
for i in range(runs):
    recv(send("Page.navigate", {"url": url}, s))
    if click:
        # The visitor's click on a loaded page: wait for the load event, then press Vérifier.
        for _ in range(200):
            time.sleep(0.05)
            r = recv(send("Runtime.evaluate", {"expression": "document.readyState", "returnByValue": True}, s))
            if r.get("result", {}).get("result", {}).get("value") == "complete": break
        time.sleep(0.3)
        recv(send("Runtime.evaluate", {"expression": "document.getElementById('verify-button').click()"}, s))
    for _ in range(400):
        time.sleep(0.05)
        r = recv(send("Runtime.evaluate", {"expression": "(()=>{const o=document.getElementById('verify-result');return o?[o.dataset.state,o.dataset.computeMs,o.dataset.totalMs].join(' '):''})()", "returnByValue": True}, s))
        v = r.get("result", {}).get("result", {}).get("value", "")
        if v.startswith("ok") or v.startswith("fail"): print(v, flush=True); break
p.kill()
