//! Issue 15: officers sign where they sit. `sijil submit` signs on the officer's machine and
//! sends the batch to `sijil sequencer`, the only process with the log key; the receipt
//! verifies offline with `sijil verify`.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use serde_json::Value;
use sijil_core::event::Event;
use sijil_core::note::Signer;
use sijil_core::storage::{DirTiles, Layout};
use sijil_register::batch::{sign_batch, Head};
use sijil_register::submission::{HeadAnswer, Submission};
use sijil_register::{parse_events, read_entries, read_private_key};

use crate::fixture_server::{request, Daemon};
use crate::util::{complaint, copy_dir, hearing, keygen, ok, s, sijil, sijil_bin, Register};

/// A sequencer on loopback for `reg`, with a rate high enough for tests.
fn sequencer(reg: &Register, extra: &[&str]) -> Daemon {
    Daemon::sequencer(reg.dir(), extra)
}

/// An officer's own directory, away from the register: their key and their events.
struct Officer {
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Officer {
    /// `amina`, the register's first officer, with her key copied out of the register.
    fn first(reg: &Register) -> Officer {
        let dir = tempfile::tempdir().expect("tmp");
        let key = dir.path().join("amina.key");
        std::fs::copy(&reg.officer_key, &key).expect("copy key");
        Officer { dir, key }
    }

    /// A new key, authorized as a clerk by an append (before the sequencer starts) when
    /// `authorize` is set.
    fn new(reg: &Register, name: &str, authorize: bool) -> Officer {
        let dir = tempfile::tempdir().expect("tmp");
        let key = dir.path().join(format!("{name}.key"));
        let public = keygen(name, &key);
        if authorize {
            let events = reg.events(
                &format!("authorize-{name}.jsonl"),
                &[format!(
                    r#"{{"type":"OfficerAuthorized","officer":{{"key":"{public}","name":"{name}","role":"clerk"}}}}"#
                )],
            );
            reg.append(&events);
        }
        Officer { dir, key }
    }

    fn events(&self, name: &str, lines: &[String]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, lines.join("\n")).expect("write events");
        p
    }

    fn submit(&self, url: &str, events: &Path, extra: &[&str]) -> Output {
        let mut args = vec!["submit", url, s(events), "--key", s(&self.key), "--json"];
        args.extend_from_slice(extra);
        sijil(&args)
    }
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "sijil submit failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The register's events (not `IndexCommitted`), as (case, type) → count.
fn events_in(reg: &Register) -> BTreeMap<(String, String), usize> {
    let layout = Layout::new(&reg.dir);
    let tiles = DirTiles::new(layout.clone());
    let bytes = std::fs::read(layout.checkpoint()).expect("checkpoint");
    let note = sijil_core::note::Note::parse(&bytes).expect("note");
    let cp = sijil_core::checkpoint::Checkpoint::parse(&note.text).expect("checkpoint");
    let mut out = BTreeMap::new();
    for e in read_entries(&tiles, cp.size, cp.root, 0, cp.size).expect("entries") {
        if matches!(e.entry.event, Event::IndexCommitted(_)) {
            continue;
        }
        let case = e.entry.case.map(|c| c.id).unwrap_or_default();
        *out.entry((case, e.entry.event.name().to_string()))
            .or_insert(0) += 1;
    }
    out
}

fn batch_lines(prefix: &str, n: usize) -> Vec<String> {
    let mut lines: Vec<String> = (0..n)
        .map(|i| complaint(&format!("{prefix}-{i:03}")))
        .collect();
    lines.extend((0..n).map(|i| hearing(&format!("{prefix}-{i:03}"))));
    lines
}

fn verify_receipt(reg: &Register, receipt: &Path) {
    let out = ok(&["verify", s(receipt), "--key", &reg.vkey, "--json"]);
    let v: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["verified"], true, "{out}");
}

/// The head of the sequencer, for the test's own signing.
fn head(addr: SocketAddr, cases: &str) -> HeadAnswer {
    let (status, _, body) = request(
        addr,
        "GET",
        &format!("/api/v1/submit/head?cases={cases}"),
        b"",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    HeadAnswer::parse(&body).expect("a head")
}

fn signed_body(head: &Head, lines: &[String], key: &Signer, dry_run: bool) -> Vec<u8> {
    let drafts = parse_events("t", &lines.join("\n")).expect("events");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    Submission {
        batch: sign_batch(head, drafts, key, now).expect("signed"),
        dry_run,
    }
    .to_json()
}

fn post(addr: SocketAddr, body: &[u8]) -> (u16, Value) {
    let (status, _, body) = request(addr, "POST", "/api/v1/submit", body);
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, v)
}

#[test]
fn issue15_two_officers_submit_at_once_every_event_once_and_receipts_verify() {
    let reg = Register::new();
    let karim = Officer::new(&reg, "karim", true);
    let amina = Officer::first(&reg);
    let seq = sequencer(&reg, &[]);
    let rounds = 4;
    let run = |officer: Officer, prefix: &'static str, url: String| {
        std::thread::spawn(move || {
            let mut receipts = Vec::new();
            for r in 0..rounds {
                let events = officer.events(
                    &format!("{prefix}-{r}.jsonl"),
                    &batch_lines(&format!("{prefix}{r}"), 3),
                );
                let v = stdout_json(&officer.submit(&url, &events, &["--attempts", "50"]));
                let receipt = PathBuf::from(v["receipt"].as_str().expect("receipt path"));
                assert!(receipt.is_file(), "{receipt:?}");
                assert!(
                    !sijil_client_pending(&receipt).exists(),
                    "the pending batch is removed once answered"
                );
                receipts.push((receipt, v));
            }
            (officer, receipts)
        })
    };
    let a = run(amina, "A", seq.url.clone());
    let k = run(karim, "K", seq.url.clone());
    let (_amina, ra) = a.join().expect("amina's thread");
    let (_karim, rk) = k.join().expect("karim's thread");
    drop(seq);
    reg.verify();
    let events = events_in(&reg);
    for prefix in ["A", "K"] {
        for r in 0..rounds {
            for i in 0..3 {
                let case = format!("{prefix}{r}-{i:03}");
                for kind in ["ComplaintReceived", "HearingHeld"] {
                    assert_eq!(
                        events.get(&(case.clone(), kind.to_string())),
                        Some(&1),
                        "{case} {kind} recorded exactly once"
                    );
                }
            }
        }
    }
    // Nothing else: the genesis, karim's authorization, and the 2 × 4 × 6 events.
    assert_eq!(events.values().sum::<usize>(), 2 + 2 * rounds * 6);
    let mut seqs = Vec::new();
    for (receipt, v) in ra.iter().chain(&rk) {
        verify_receipt(&reg, receipt);
        seqs.push((v["first_seq"].as_u64(), v["last_seq"].as_u64()));
    }
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs.len(), 2 * rounds, "each batch has seqs of its own");
}

/// `sijil_client::submit::pending_path`: the pending batch beside the receipt.
fn sijil_client_pending(receipt: &Path) -> PathBuf {
    let mut p = receipt.as_os_str().to_owned();
    p.push(".pending");
    PathBuf::from(p)
}

#[test]
fn issue15_a_refused_event_is_a_400_with_the_rule_and_nothing_is_written() {
    let reg = Register::new();
    let amina = Officer::first(&reg);
    // The sentence `append` prints for a hearing on a case that does not exist, from a copy.
    let copy = tempfile::tempdir().expect("tmp");
    copy_dir(&reg.dir, copy.path());
    let bad = amina.events("bad.jsonl", &[hearing("2024-0404")]);
    let out = sijil(&["append", s(copy.path()), "--key", s(&amina.key), s(&bad)]);
    assert_eq!(out.status.code(), Some(1));
    let append_err = String::from_utf8_lossy(&out.stderr).into_owned();
    let rule = append_err
        .split("is rejected: ")
        .nth(1)
        .expect("append names the rule")
        .trim()
        .to_string();
    let seq = sequencer(&reg, &[]);
    let before = reg.published();
    let out = amina.submit(&seq.url, &bad, &[]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("HTTP 400"), "{err}");
    assert!(err.contains(&rule), "submit says the rule {rule:?}:\n{err}");
    assert!(err.contains("nothing was recorded"), "{err}");
    let receipt = PathBuf::from(format!("{}.receipt.json", s(&bad)));
    assert!(!receipt.exists() && !sijil_client_pending(&receipt).exists());
    // The dry run gives the same answer.
    let out = amina.submit(&seq.url, &bad, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&rule));
    // Malformed bodies, over HTTP: 400 naming what is wrong.
    for (body, want) in [
        (&b"not json"[..], "submission: "),
        (
            br#"{"entries":["AAA"]}"#,
            "entries[0]: not canonical base64",
        ),
        (br#"{"entries":[]}"#, "no entries"),
    ] {
        let (status, v) = post(seq.addr(), body);
        assert_eq!(status, 400, "{v}");
        let message = v["error"].as_str().unwrap_or_default();
        assert!(message.contains(want), "{message}");
    }
    // A good batch whose text is missing: 400, nothing written.
    let key = read_private_key(&amina.key).expect("key");
    let h = head(seq.addr(), "2024-0001");
    let body = signed_body(&h.head(), &[complaint("2024-0001")], &key, false);
    let mut v: Value = serde_json::from_slice(&body).expect("json");
    v["blobs"] = Value::Array(Vec::new());
    let (status, answer) = post(seq.addr(), v.to_string().as_bytes());
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]
        .as_str()
        .unwrap_or_default()
        .contains("does not carry it"));
    assert_eq!(reg.published(), before, "nothing was written");
    drop(seq);
    reg.verify();
}

#[test]
fn issue15_an_unauthorised_key_is_refused() {
    let reg = Register::new();
    let stranger = Officer::new(&reg, "intrus", false);
    let seq = sequencer(&reg, &[]);
    let before = reg.published();
    let events = stranger.events("e.jsonl", &[complaint("2024-0001")]);
    let out = stranger.submit(&seq.url, &events, &[]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("HTTP 403"), "{err}");
    assert!(err.contains("is rejected"), "{err}");
    // Over HTTP too.
    let key = read_private_key(&stranger.key).expect("key");
    let h = head(seq.addr(), "2024-0001");
    let (status, v) = post(
        seq.addr(),
        &signed_body(&h.head(), &[complaint("2024-0001")], &key, false),
    );
    assert_eq!(status, 403, "{v}");
    assert_eq!(reg.published(), before, "nothing was written");
}

#[test]
fn issue15_a_stale_head_gets_a_409_then_the_batch_signed_again_commits() {
    let reg = Register::new();
    let amina = Officer::first(&reg);
    let key = read_private_key(&amina.key).expect("key");
    let seq = sequencer(&reg, &[]);
    let h = head(seq.addr(), "2024-0001,2024-0002");
    let first = signed_body(&h.head(), &[complaint("2024-0001")], &key, false);
    let second = signed_body(&h.head(), &[complaint("2024-0002")], &key, false);
    let (status, v) = post(seq.addr(), &first);
    assert_eq!(status, 200, "{v}");
    // Signed for the same head: the head moved.
    let (status, v) = post(seq.addr(), &second);
    assert_eq!(status, 409, "{v}");
    let new_head: HeadAnswer = serde_json::from_value(v["head"].clone()).expect("the new head");
    assert_eq!(new_head.tree_size, h.tree_size + 2);
    // Signed again for the head the 409 gave: committed.
    let again = signed_body(&new_head.head(), &[complaint("2024-0002")], &key, false);
    let (status, v) = post(seq.addr(), &again);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["first_seq"], new_head.tree_size);

    // The CLI does it by itself: a batch signed for an old head (left pending by a run that
    // got no answer, through a proxy that drops the submission) is refused with 409, signed
    // again and committed.
    let proxy = SubmitProxy::start(seq.addr());
    proxy.mode(DROP_POST);
    let events = amina.events("late.jsonl", &[complaint("2024-0003")]);
    let out = amina.submit(
        &proxy.url(),
        &events,
        &["--retries", "0", "--log", &reg.vkey],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let receipt = PathBuf::from(format!("{}.receipt.json", s(&events)));
    assert!(sijil_client_pending(&receipt).exists(), "the batch is kept");
    // Meanwhile another batch moves the head.
    let h = head(seq.addr(), "2024-0004");
    let (status, _) = post(
        seq.addr(),
        &signed_body(&h.head(), &[complaint("2024-0004")], &key, false),
    );
    assert_eq!(status, 200);
    proxy.mode(PASS);
    let v = stdout_json(&amina.submit(&proxy.url(), &events, &["--log", &reg.vkey]));
    assert_eq!(v["resent"], true, "{v}");
    assert_eq!(v["replayed"], false, "{v}");
    assert_eq!(v["rounds"], 1, "signed once more after the 409: {v}");
    assert_eq!(v["checkpoint_verified"], true);
    verify_receipt(&reg, &receipt);
    drop(seq);
    let events = events_in(&reg);
    for case in ["2024-0001", "2024-0002", "2024-0003", "2024-0004"] {
        assert_eq!(
            events.get(&(case.to_string(), "ComplaintReceived".to_string())),
            Some(&1),
            "{case}"
        );
    }
    reg.verify();
}

#[test]
fn issue15_a_batch_sent_twice_is_recorded_once() {
    let reg = Register::new();
    let amina = Officer::first(&reg);
    let key = read_private_key(&amina.key).expect("key");
    let seq = sequencer(&reg, &[]);
    let h = head(seq.addr(), "2024-0001");
    let body = signed_body(
        &h.head(),
        &[complaint("2024-0001"), hearing("2024-0001")],
        &key,
        false,
    );
    let (status, first) = post(seq.addr(), &body);
    assert_eq!(status, 200, "{first}");
    assert!(first.get("replayed").is_none(), "{first}");
    let (status, again) = post(seq.addr(), &body);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["replayed"], true);
    assert_eq!(again["entries"], first["entries"], "the same entries");
    assert_eq!(again["tree_size"], first["tree_size"], "nothing written");

    // Through the CLI: the answer is lost (the proxy forwards the batch, then drops the
    // connection), the run fails; running it again gets the receipt, recorded once.
    let proxy = SubmitProxy::start(seq.addr());
    proxy.mode(LOSE_ANSWER);
    let events = amina.events("lost.jsonl", &[complaint("2024-0002")]);
    let out = amina.submit(&proxy.url(), &events, &["--retries", "0"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("run the same `sijil submit` again"));
    proxy.mode(PASS);
    let v = stdout_json(&amina.submit(&proxy.url(), &events, &[]));
    assert_eq!(
        (v["resent"].clone(), v["replayed"].clone()),
        (true.into(), true.into()),
        "{v}"
    );
    verify_receipt(&reg, &PathBuf::from(format!("{}.receipt.json", s(&events))));
    drop(seq);
    let events = events_in(&reg);
    assert_eq!(
        events.get(&("2024-0001".into(), "ComplaintReceived".into())),
        Some(&1)
    );
    assert_eq!(
        events.get(&("2024-0002".into(), "ComplaintReceived".into())),
        Some(&1)
    );
    reg.verify();
}

#[test]
fn issue15_a_sequencer_killed_during_a_submission_loses_nothing_and_retrying_is_safe() {
    let reg = Register::new();
    let amina = Officer::first(&reg);
    // Each round: a batch of 200 events; the sequencer is killed with SIGKILL once submit has
    // signed the batch and is sending it, at a different instant each round (before, during
    // or after the commit; whichever it is, nothing may be lost or doubled).
    for (round, delay_ms) in [0u64, 2, 5, 10, 30].into_iter().enumerate() {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut seq = spawn_sequencer(&reg, &listen);
        let url = format!("http://{listen}/");
        let events = amina.events(
            &format!("r{round}.jsonl"),
            &batch_lines(&format!("R{round}"), 100),
        );
        let mut submit = Command::new(sijil_bin())
            .args([
                "submit",
                &url,
                s(&events),
                "--key",
                s(&amina.key),
                "--json",
                "--retries",
                "1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("submit starts");
        let receipt = PathBuf::from(format!("{}.receipt.json", s(&events)));
        let pending = sijil_client_pending(&receipt);
        // The batch is signed and saved: it is being sent.
        while !pending.exists() && matches!(submit.try_wait(), Ok(None)) {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = seq.kill();
        let _ = seq.wait();
        let out = submit.wait_with_output().expect("submit ends");
        eprintln!(
            "round {round}: sequencer killed {delay_ms} ms after the batch was saved; submit exited {:?}",
            out.status.code()
        );
        // The register verifies whatever the instant.
        reg.verify();
        let committed =
            events_in(&reg).contains_key(&(format!("R{round}-000"), "HearingHeld".into()));
        eprintln!("round {round}: the batch was committed before the kill: {committed}");
        if out.status.success() {
            verify_receipt(&reg, &receipt);
        } else {
            assert_eq!(
                out.status.code(),
                Some(2),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            // Retry with a sequencer back on the same address: recorded once. The batch was
            // saved before it was sent (unless the head could not even be read).
            let had_pending = sijil_client_pending(&receipt).exists();
            let seq2 = spawn_sequencer(&reg, &listen);
            let v = stdout_json(&amina.submit(&url, &events, &[]));
            assert_eq!(v["resent"], had_pending, "{v}");
            verify_receipt(&reg, &receipt);
            drop(KillOnDrop(seq2));
        }
        let counts = events_in(&reg);
        for i in 0..100 {
            let case = format!("R{round}-{i:03}");
            for kind in ["ComplaintReceived", "HearingHeld"] {
                assert_eq!(
                    counts.get(&(case.clone(), kind.to_string())),
                    Some(&1),
                    "round {round}: {case} {kind} recorded exactly once"
                );
            }
        }
        reg.verify();
    }
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `sijil sequencer` on a fixed address, once it listens.
fn spawn_sequencer(reg: &Register, listen: &str) -> std::process::Child {
    let mut child = Command::new(sijil_bin())
        .args([
            "sequencer",
            reg.dir(),
            "--listen",
            listen,
            "--rate",
            "10000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sequencer starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("http://") => break,
            Some(Ok(_)) => {}
            _ => panic!("the sequencer exited before listening"),
        }
    }
    std::thread::spawn(move || for _ in lines.by_ref() {});
    child
}

// ---- A proxy that loses submissions or their answers --------------------------------------

const PASS: u8 = 0;
/// POST: close the connection without forwarding (the sequencer never saw the batch).
const DROP_POST: u8 = 1;
/// POST: forward, then close without answering (the batch is committed; its answer is lost).
const LOSE_ANSWER: u8 = 2;

struct SubmitProxy {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
}

impl SubmitProxy {
    fn start(upstream: SocketAddr) -> SubmitProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mode = Arc::new(AtomicU8::new(PASS));
        let shared = Arc::clone(&mode);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mode = shared.load(Ordering::SeqCst);
                std::thread::spawn(move || proxy_one(stream, upstream, mode));
            }
        });
        SubmitProxy { addr, mode }
    }

    fn mode(&self, m: u8) {
        self.mode.store(m, Ordering::SeqCst);
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

fn proxy_one(stream: TcpStream, upstream: SocketAddr, mode: u8) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut stream = stream;
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("GET").to_string(),
        parts.next().unwrap_or("/").to_string(),
    );
    let mut length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    if method == "POST" && mode == DROP_POST {
        return;
    }
    let (status, content_type, answer) = request(upstream, &method, &path, &body);
    if method == "POST" && mode == LOSE_ANSWER {
        return;
    }
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = stream.write_all(&answer);
}

#[test]
fn issue15_a_slow_client_does_not_hold_the_writer() {
    let reg = Register::new();
    let amina = Officer::first(&reg);
    let seq = sequencer(&reg, &[]);
    // A client that announces a body and sends a byte of it, then nothing: it holds a
    // connection, never the writer (the lock is taken once a whole body is read).
    let mut slow = TcpStream::connect(seq.addr()).expect("connect");
    write!(
        slow,
        "POST /api/v1/submit HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{{"
    )
    .expect("send");
    slow.flush().expect("flush");
    let events = amina.events("e.jsonl", &[complaint("2024-0001")]);
    let v = stdout_json(&amina.submit(&seq.url, &events, &[]));
    assert_eq!(v["first_seq"], 2, "{v}");
    drop(slow);
    drop(seq);
    reg.verify();
}

#[test]
fn issue15_serve_stays_read_only() {
    let reg = Register::new();
    let amina = Officer::first(&reg);
    let server = crate::net::Server::start(&reg.dir);
    let before = reg.published();
    let (status, _, _) = request(server.addr, "POST", "/api/v1/submit", b"{\"entries\":[]}");
    assert!(matches!(status, 404 | 405), "POST to sijil serve: {status}");
    let events = amina.events("e.jsonl", &[complaint("2024-0001")]);
    let out = amina.submit(&format!("http://{}/", server.addr), &events, &[]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not the read-only server"), "{err}");
    assert_eq!(reg.published(), before, "nothing was written");
}
