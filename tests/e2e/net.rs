//! What the end-to-end tests of the server share: a `sijil serve` process, a minimal HTTP
//! client, and headless Chromium.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{s, sijil_bin};

/// A running `sijil serve`, stopped (SIGTERM) when dropped.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    pub fn start(dir: &Path) -> Server {
        let mut child = Command::new(sijil_bin())
            .args(["serve", s(dir), "--listen", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sijil serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading so the server never blocks on a full pipe.
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("sijil serve prints its address");
            if let Some(rest) = line.split("http://").nth(1) {
                break rest.trim_end_matches('/').parse().expect("address");
            }
        };
        Server { child, addr }
    }

    /// SIGTERM, then the exit status (a graceful stop exits 0).
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "sijil serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the server serves a checkpoint of `size` (it polls every 250 ms).
    pub fn wait_for_size(&self, size: u64) {
        let start = Instant::now();
        loop {
            let v = get(self.addr, "/api/v1/register").json();
            if v["checkpoint"]["tree_size"].as_u64() == Some(size) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the server still serves {} instead of {size}",
                v["checkpoint"]["tree_size"]
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer, its body decoded from gzip when sent so (the header stays, to be checked).
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A minimal HTTP/1.1 GET (one request per connection), as a tlog client would send it:
/// `Accept-Encoding: gzip, identity` (c2sp.org/tlog-tiles).
pub fn get(addr: SocketAddr, path: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip, identity\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut answer = Answer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    };
    assert_ne!(
        answer.header("transfer-encoding"),
        Some("chunked"),
        "{path}"
    );
    if answer.header("content-encoding") == Some("gzip") {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(answer.body.as_slice())
            .read_to_end(&mut plain)
            .expect("gzip body");
        answer.body = plain;
    }
    answer
}

/// Headless Chromium, or `None` (the test then fails, or skips with SIJIL_ALLOW_SKIP=1).
pub fn chromium(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("SIJIL_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            ["chromium", "chromium-browser", "google-chrome"]
                .iter()
                .find_map(|name| {
                    std::env::var_os("PATH").and_then(|paths| {
                        std::env::split_paths(&paths)
                            .map(|d| d.join(name))
                            .find(|p| p.is_file())
                    })
                })
        });
    found.or_else(|| {
        crate::skip::missing(
            test,
            "no chromium found (scripts/test installs Debian's `chromium`; or set SIJIL_CHROMIUM)",
        )
    })
}

/// Loads `url` in headless Chromium with the profile `profile` (kept by the caller across
/// visits, or fresh) and returns the DOM once the page's scripts ran (virtual time: timers
/// and network run without waiting for the wall clock).
pub fn dump_dom(binary: &Path, profile: &Path, url: &str, extra: &[&str]) -> String {
    let mut child = Command::new(binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=20000",
            "--dump-dom",
        ])
        .args(extra)
        .arg(format!("--user-data-dir={}", s(profile)))
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut dom = String::new();
        let _ = stdout.read_to_string(&mut dom);
        let _ = tx.send(dom);
    });
    let dom = rx.recv_timeout(Duration::from_secs(120));
    let _ = child.kill();
    let _ = child.wait();
    dom.expect("chromium dumped the DOM in time")
}
