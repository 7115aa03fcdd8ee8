//! Issue 13, the operator's monitoring: `sijil monitor` against good, forked, tampered,
//! unreachable, stale and unwitnessed logs; the Prometheus metrics of `sijil serve`.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fixture_server::{Fault, FixtureServer};
use crate::net::get;
use crate::util::{complaint, copy_dir, hearing, ok, s, sijil, sijil_bin, Register};
use crate::witness::{start_witness, witness_key};

/// `sijil monitor`'s exit codes (docs/OPERATIONS.md, "Monitoring").
const MISBEHAVED: i32 = 1;
const FORK: i32 = 3;
const UNAVAILABLE: i32 = 5;

fn events(reg: &Register, name: &str, prefix: &str, n: usize) -> PathBuf {
    let mut lines: Vec<String> = (0..n)
        .map(|i| complaint(&format!("{prefix}-{i:04}")))
        .collect();
    lines.extend((0..n).map(|i| hearing(&format!("{prefix}-{i:04}"))));
    reg.events(name, &lines)
}

/// One `monitor --once --json` round: (exit code, the round's JSON, stderr).
fn round(url: &str, vkey: &str, state: &Path, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec![
        "monitor",
        url,
        "--key",
        vkey,
        "--state",
        s(state),
        "--once",
        "--json",
        "--retries",
        "1",
    ];
    args.extend_from_slice(extra);
    let out = sijil(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("monitor {args:?}: not one JSON line ({e}): {stdout}\n{stderr}")
    });
    (out.status.code().unwrap_or(-1), v, stderr)
}

/// Asserts a failed round: its code, its class in the JSON, and one stderr line saying it.
fn assert_fails(r: &(i32, Value, String), code: i32, class: &str, needle: &str) {
    let (got, v, err) = r;
    assert_eq!(*got, code, "{v}\n{err}");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["failure"]["class"], class, "{v}");
    assert_eq!(v["failure"]["exit_code"], code, "{v}");
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err}");
    assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
}

#[test]
fn issue13_monitor_passes_on_a_good_log_and_catches_forks_tampering_and_outages() {
    let reg = Register::new();
    reg.append(&events(&reg, "a.jsonl", "2024", 6));
    let fork_dir = reg.tmp.path().join("fork");
    copy_dir(&reg.dir, &fork_dir);
    let server = FixtureServer::start(&reg.dir);
    let url = server.url();
    let state = reg.tmp.path().join("monitor/state.checkpoint");

    // First round: trusted on first use, remembered in --state.
    let (code, v, err) = round(&url, &reg.vkey, &state, &[]);
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(
        (
            v["ok"].as_bool(),
            v["history"].as_str(),
            v["tree_size"].as_u64()
        ),
        (Some(true), Some("first-visit"), Some(15))
    );
    assert!(state.is_file(), "the state file is written");
    let spot: Vec<u64> = serde_json::from_value(v["spot_checked"].clone()).expect("seqs");
    assert_eq!(spot.len(), 3, "--spot defaults to 3: {spot:?}");
    assert!(v["age_seconds"].as_u64().is_some_and(|a| a < 600), "{v}");
    let (code, v, _) = round(&url, &reg.vkey, &state, &["--spot", "5"]);
    assert_eq!((code, v["history"].as_str()), (0, Some("unchanged")));
    assert_eq!(v["spot_checked"].as_array().map(Vec::len), Some(5));

    // The log grows: proven consistent with the state. Text mode says it on one line.
    reg.append(&events(&reg, "b.jsonl", "2025", 2));
    let text = ok(&[
        "monitor",
        &url,
        "--key",
        &reg.vkey,
        "--state",
        s(&state),
        "--once",
    ]);
    assert!(
        text.contains(": ok: size 20 (consistent with size 15)") && text.lines().count() == 1,
        "{text}"
    );

    // A log rewritten with the same key: a fork, proven, with evidence next to the state.
    ok(&[
        "append",
        s(&fork_dir),
        "--key",
        s(&fork_dir.join("private/amina.key")),
        s(&events(&reg, "f.jsonl", "2026", 4)),
    ]);
    server.set_root(&fork_dir);
    let r = round(&url, &reg.vkey, &state, &[]);
    assert_fails(&r, FORK, "fork", "the log FORKED");
    assert!(r.2.contains(&url), "stderr says where: {}", r.2);
    let evidence: Vec<PathBuf> = std::fs::read_dir(state.parent().expect("dir"))
        .expect("state dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    ok(&["evidence", "check", s(&evidence[0]), "--key", &reg.vkey]);

    // Back to the honest log; a hash tile altered in transit does not match the signed root.
    server.set_root(&reg.dir);
    assert_eq!(round(&url, &reg.vkey, &state, &[]).0, 0);
    server.fault("tile/0/", Fault::Corrupt, usize::MAX);
    let r = round(&url, &reg.vkey, &state, &[]);
    assert_fails(&r, MISBEHAVED, "misbehaved", "the log MISBEHAVED");
    server.clear_faults();
    // A checkpoint the key did not sign.
    let stranger = Register::new();
    let r = round(
        &url,
        &stranger.vkey,
        &reg.tmp.path().join("other.checkpoint"),
        &[],
    );
    assert_fails(&r, MISBEHAVED, "misbehaved", "MISBEHAVED");

    // Unreachable: a server that answers 503 to everything, then no server at all.
    server.fault("checkpoint", Fault::Status(503), usize::MAX);
    let r = round(&url, &reg.vkey, &state, &[]);
    assert_fails(&r, UNAVAILABLE, "unreachable", "could not reach the log");
    server.clear_faults();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let r = round(&format!("http://{closed}/"), &reg.vkey, &state, &[]);
    assert_fails(&r, UNAVAILABLE, "unreachable", "could not reach the log");

    // Stale: the newest entry is older than --max-age.
    std::thread::sleep(Duration::from_millis(1100));
    let r = round(&url, &reg.vkey, &state, &["--max-age", "1s"]);
    assert_fails(&r, UNAVAILABLE, "stale", "the log is STALE");
    assert_eq!(
        r.1["tree_size"], 20,
        "a stale round still says what it verified"
    );
    assert_eq!(round(&url, &reg.vkey, &state, &["--max-age", "1d"]).0, 0);

    // Usage: a bad duration.
    let out = sijil(&["monitor", &url, "--key", &reg.vkey, "--max-age", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn issue13_monitor_requires_the_witness_quorum() {
    let reg = Register::new();
    reg.append(&events(&reg, "a.jsonl", "2024", 3));
    let (k1, v1) = witness_key(reg.tmp.path(), "witness.example/w1");
    let (_, stranger) = witness_key(reg.tmp.path(), "witness.example/w2");
    let w1 = start_witness(&k1, &[&reg.vkey], &reg.tmp.path().join("w1"));
    let server = FixtureServer::start(&reg.dir);
    let url = server.url();
    let state = reg.tmp.path().join("state");

    // Not cosigned yet: the quorum is missing (stale, not misbehaviour).
    let r = round(&url, &reg.vkey, &state, &["--witness", &v1]);
    assert_fails(&r, UNAVAILABLE, "stale", "quorum");

    ok(&[
        "cosign",
        reg.dir(),
        "--witness",
        &format!("{}={v1}", w1.url.trim_end_matches('/')),
    ]);
    let (code, v, err) = round(
        &url,
        &reg.vkey,
        &state,
        &["--witness", &v1, "--max-age", "1h"],
    );
    assert_eq!(code, 0, "{v}\n{err}");
    assert_eq!(
        (
            v["witnesses"]["counted"].as_u64(),
            v["witnesses"]["quorum"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let r = round(
        &url,
        &reg.vkey,
        &state,
        &["--witness", &v1, "--witness", &stranger, "--quorum", "2"],
    );
    assert_fails(&r, UNAVAILABLE, "stale", "quorum not met");
    let (code, _, _) = round(
        &url,
        &reg.vkey,
        &state,
        &["--witness", &v1, "--witness", &stranger, "--quorum", "1"],
    );
    assert_eq!(code, 0);
}

/// Reads lines from a child's pipe on a thread, so that a test can wait with a deadline.
fn lines(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Kills the child when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn issue13_monitor_keeps_going_round_after_round() {
    let reg = Register::new();
    let fork_dir = reg.tmp.path().join("fork");
    copy_dir(&reg.dir, &fork_dir);
    reg.append(&events(&reg, "a.jsonl", "2024", 2));
    ok(&[
        "append",
        s(&fork_dir),
        "--key",
        s(&fork_dir.join("private/amina.key")),
        s(&events(&reg, "f.jsonl", "2026", 2)),
    ]);
    let server = FixtureServer::start(&reg.dir);
    let state = reg.tmp.path().join("state.checkpoint");
    let mut child = Command::new(sijil_bin())
        .args([
            "monitor",
            &server.url(),
            "--key",
            &reg.vkey,
            "--state",
            s(&state),
            "--interval",
            "0.2",
            "--keep-going",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("monitor starts");
    let out = lines(child.stdout.take().expect("stdout"));
    let err = lines(child.stderr.take().expect("stderr"));
    let mut child = Running(child);
    let next = |what: &str| -> Value {
        let line = out
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no round ({what})"));
        serde_json::from_str(&line).expect("a JSON line")
    };
    assert_eq!(next("first")["ok"], true);
    assert_eq!(next("second")["history"], "unchanged");
    server.set_root(&fork_dir);
    let deadline = Instant::now() + Duration::from_secs(30);
    let failed = loop {
        let v = next("after the fork");
        if v["ok"] == false {
            break v;
        }
        assert!(Instant::now() < deadline, "the fork was never reported");
    };
    assert_eq!(failed["failure"]["class"], "fork", "{failed}");
    let line = err
        .recv_timeout(Duration::from_secs(10))
        .expect("a stderr line");
    assert!(line.contains("the log FORKED"), "{line}");
    // It goes on: another round, and the process is still running.
    assert_eq!(next("a round after the failure")["ok"], false);
    assert!(child.0.try_wait().expect("wait").is_none(), "still running");
}

/// `sijil serve` with metrics: (the process, its public address, its metrics address).
fn serve_with_metrics(dir: &Path, by_env: bool) -> (Running, SocketAddr, SocketAddr) {
    let mut cmd = Command::new(sijil_bin());
    cmd.args(["serve", s(dir), "--listen", "127.0.0.1:0"]);
    if by_env {
        cmd.env("SIJIL_METRICS_LISTEN", "127.0.0.1:0");
    } else {
        cmd.args(["--metrics-listen", "127.0.0.1:0"]);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sijil serve starts");
    let err = lines(child.stderr.take().expect("stderr"));
    let child = Running(child);
    let (mut public, mut metrics) = (None, None);
    while public.is_none() || metrics.is_none() {
        let line = err
            .recv_timeout(Duration::from_secs(60))
            .expect("sijil serve prints its addresses");
        if let Some(rest) = line.strip_prefix("sijil: metrics at ") {
            metrics = rest.split_whitespace().next().and_then(|a| a.parse().ok());
        } else if let Some(rest) = line.split("http://").nth(1) {
            public = rest.trim_end_matches('/').parse().ok();
        }
    }
    // Keep draining stderr.
    std::thread::spawn(move || for _ in err {});
    (
        child,
        public.expect("public address"),
        metrics.expect("metrics address"),
    )
}

/// The value of the series `name` (with its labels, as written) in a metrics page.
fn metric(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

#[test]
fn issue13_serve_exposes_prometheus_metrics_on_its_own_address_only() {
    let reg = Register::new();
    reg.append(&events(&reg, "a.jsonl", "2024", 2));
    // 2 + 4 events + the batch's IndexCommitted.
    let size = 7;
    // SIJIL_METRICS_LISTEN does what --metrics-listen does.
    {
        let (_serve, public, metrics) = serve_with_metrics(&reg.dir, true);
        assert_eq!(get(public, "/metrics").status, 404);
        assert!(get(metrics, "/metrics")
            .text()
            .contains(&format!("\nsijil_checkpoint_size {size}\n")));
    }
    let (_serve, public, metrics) = serve_with_metrics(&reg.dir, false);
    assert_ne!(public, metrics);
    for _ in 0..3 {
        assert_eq!(get(public, "/checkpoint").status, 200);
    }
    assert_eq!(get(public, "/api/v1/register").status, 200);
    assert_eq!(get(public, "/no/such/page").status, 404);
    assert_eq!(get(public, &format!("/tile/0/000.p/{size}")).status, 200);
    // Never on the public address.
    assert_eq!(get(public, "/metrics").status, 404);

    let answer = get(metrics, "/metrics");
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        answer.headers
    );
    let page = answer.text();
    for name in [
        "sijil_http_requests_total",
        "sijil_http_request_duration_seconds",
        "sijil_checkpoint_size",
        "sijil_checkpoint_age_seconds",
        "sijil_checkpoint_latest_entry_timestamp_seconds",
        "sijil_verification_failures_total",
        "sijil_refresh_failures_total",
    ] {
        assert!(
            page.contains(&format!("# TYPE {name} ")),
            "{name} missing:\n{page}"
        );
    }
    let m = |series: &str| metric(&page, series);
    assert_eq!(
        m(r#"sijil_http_requests_total{route="checkpoint",code="200"}"#),
        Some(3.0)
    );
    assert_eq!(
        m(r#"sijil_http_requests_total{route="api",code="200"}"#),
        Some(1.0)
    );
    assert_eq!(
        m(r#"sijil_http_requests_total{route="other",code="404"}"#),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        m(r#"sijil_http_requests_total{route="tile",code="200"}"#),
        Some(1.0)
    );
    assert_eq!(
        m(r#"sijil_http_request_duration_seconds_count{route="checkpoint"}"#),
        Some(3.0)
    );
    assert_eq!(
        m(r#"sijil_http_request_duration_seconds_bucket{route="checkpoint",le="+Inf"}"#),
        Some(3.0)
    );
    assert_eq!(m("sijil_checkpoint_size"), Some(size as f64));
    assert!(m("sijil_checkpoint_age_seconds").is_some_and(|a| (0.0..600.0).contains(&a)));
    assert_eq!(m("sijil_verification_failures_total"), Some(0.0));
    assert_eq!(get(metrics, "/").status, 404, "only /metrics there");

    // A bundle damaged on disk is refused when served, and counted.
    let bundle = reg.dir.join(format!("tile/entries/000.p/{size}"));
    let mut bytes = std::fs::read(&bundle).expect("bundle");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&bundle, bytes).expect("write");
    assert_eq!(
        get(public, &format!("/tile/entries/000.p/{size}")).status,
        500
    );
    let page = get(metrics, "/metrics").text();
    assert_eq!(
        metric(&page, "sijil_verification_failures_total"),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &page,
            r#"sijil_http_requests_total{route="entries",code="500"}"#
        ),
        Some(1.0)
    );
}

#[test]
fn issue13_monitor_and_metrics_have_help() {
    let help = ok(&["monitor", "--help"]);
    for flag in [
        "--state",
        "--interval",
        "--once",
        "--max-age",
        "--witness",
        "--quorum",
        "--spot",
        "--keep-going",
        "--json",
    ] {
        assert!(help.contains(flag), "monitor --help lacks {flag}");
    }
    assert!(help.contains("Exit codes"), "{help}");
    let help = ok(&["serve", "--help"]);
    assert!(help.contains("--metrics-listen") && help.contains("SIJIL_METRICS_LISTEN"));
}

/// scripts/check-deploy: every unit of deploy/ verified and its command run against a copy of
/// the demo register (about ten seconds; docs/OPERATIONS.md, "scripts/check-deploy").
#[test]
fn issue13_check_deploy_runs_every_unit() {
    for tool in ["bash", "curl", "python3"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            crate::util::skip_or_fail(
                "issue13_check_deploy_runs_every_unit",
                &format!("scripts/check-deploy needs {tool} (on Debian: apt-get install {tool})"),
            );
            return;
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("bash")
        .arg(root.join("scripts/check-deploy"))
        .env("SIJIL_BIN", sijil_bin())
        .output()
        .expect("check-deploy runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/check-deploy failed ({:?}):\n{stdout}\n{stderr}",
        out.status.code()
    );
    for said in [
        "sijil-serve.service: ",
        "sijil-witness.service: ",
        "sijil-cosign.service: ",
        "sijil-sequencer.service: ",
        "the sequencer answered, cosigned the checkpoint",
        "sijil-monitor.service: ",
        "sijil-mirror.service: ",
        "Containerfile: builder and slim runtime stages",
        "all checks passed",
    ] {
        assert!(
            stdout.contains(said),
            "check-deploy did not say {said:?}:\n{stdout}"
        );
    }
}
