//! A small static file server for the end-to-end tests of issue 5: it serves a register
//! directory as C2SP tlog-tiles (entry bundles gzip-compressed without negotiation, as the
//! spec allows), logs every request, can switch to another directory (a forked log signed
//! with the same key), and injects faults: drop the connection, cut the body short, flip a
//! byte, stall, or answer with an error status.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A fault to inject into the answers to matching requests.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Close the connection without answering.
    Drop,
    /// Announce the whole length, send half the body, close.
    Truncate,
    /// Flip one byte in the middle of the body (after gzip for bundles).
    Corrupt,
    /// Wait this long before answering (or closing, for long stalls).
    Stall(Duration),
    /// Answer with this status and no body.
    Status(u16),
}

struct Rule {
    needle: String,
    fault: Fault,
    /// How many more matching requests get the fault (`usize::MAX`: all).
    left: usize,
}

#[derive(Default)]
struct Shared {
    root: Mutex<PathBuf>,
    log: Mutex<Vec<String>>,
    rules: Mutex<Vec<Rule>>,
    stop: AtomicBool,
}

/// The running server; stops when dropped.
pub struct FixtureServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FixtureServer {
    /// Serves `root` on a free loopback port.
    pub fn start(root: &Path) -> FixtureServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared::default());
        *shared.root.lock().expect("lock") = root.to_path_buf();
        let s = Arc::clone(&shared);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(conn) = conn {
                    let s = Arc::clone(&s);
                    std::thread::spawn(move || handle(conn, &s));
                }
            }
        });
        FixtureServer { addr, shared }
    }

    /// The base URL, ending in `/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Serves another directory from now on.
    pub fn set_root(&self, root: &Path) {
        *self.shared.root.lock().expect("lock") = root.to_path_buf();
    }

    /// Injects `fault` into the next `times` requests whose path contains `needle`.
    pub fn fault(&self, needle: &str, fault: Fault, times: usize) {
        self.shared.rules.lock().expect("lock").push(Rule {
            needle: needle.to_owned(),
            fault,
            left: times,
        });
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.rules.lock().expect("lock").clear();
    }

    /// The paths requested so far (without the leading `/`), in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.log.lock().expect("lock").clone()
    }

    pub fn clear_log(&self) {
        self.shared.log.lock().expect("lock").clear();
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

fn handle(mut conn: TcpStream, s: &Shared) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; content_length];
    let _ = reader.read_exact(&mut body);
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let path = target.trim_start_matches('/').to_owned();
    s.log.lock().expect("lock").push(path.clone());
    let fault = {
        let mut rules = s.rules.lock().expect("lock");
        rules
            .iter_mut()
            .find(|r| r.left > 0 && path.contains(&r.needle))
            .map(|r| {
                r.left = r.left.saturating_sub(1);
                r.fault
            })
    };
    match fault {
        Some(Fault::Drop) => return,
        Some(Fault::Stall(d)) => std::thread::sleep(d),
        Some(Fault::Status(code)) => {
            let _ = write!(
                conn,
                "HTTP/1.1 {code} Fault\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            return;
        }
        _ => {}
    }
    let root = s.root.lock().expect("lock").clone();
    let file = (method == "GET"
        && !path.starts_with("private")
        && !path.split('/').any(|p| p == ".." || p.is_empty()))
    .then(|| std::fs::read(root.join(&path)).ok())
    .flatten();
    let Some(mut data) = file else {
        let _ = write!(
            conn,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return;
    };
    let gzip = path.starts_with("tile/entries/");
    if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&data).expect("gzip");
        data = enc.finish().expect("gzip");
    }
    let full_length = data.len();
    match fault {
        Some(Fault::Corrupt) if !data.is_empty() => {
            let at = data.len() / 2;
            data[at] ^= 0x20;
        }
        Some(Fault::Truncate) => data.truncate(data.len() / 2),
        _ => {}
    }
    let encoding = if gzip {
        "Content-Encoding: gzip\r\n"
    } else {
        ""
    };
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n{encoding}Content-Length: {full_length}\r\nConnection: close\r\n\r\n"
    );
    let _ = conn.write_all(&data);
    let _ = conn.flush();
}

/// Sends one HTTP/1.1 request with `body` and returns (status, content type, body).
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut conn = TcpStream::connect(addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("write");
    conn.write_all(body).expect("write body");
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut content = raw[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let mut content_type = String::new();
    let mut chunked = false;
    for line in head.lines() {
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-type:") {
            content_type = v.trim().to_owned();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    if chunked {
        content = dechunk(&content);
    }
    (status, content_type, content)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// A `sijil` server process (`serve`, `witness`) on a free port; killed when dropped.
pub struct Daemon {
    child: std::process::Child,
    pub url: String,
}

impl Daemon {
    /// `sijil sequencer LOCATION` on loopback with a rate high enough for tests, and `extra`.
    pub fn sequencer(location: &str, extra: &[&str]) -> Daemon {
        let mut args = vec![
            "sequencer",
            location,
            "--listen",
            "127.0.0.1:0",
            "--rate",
            "10000",
            "--burst",
            "10000",
        ];
        args.extend_from_slice(extra);
        Daemon::start(&args)
    }

    /// Runs `sijil ARGS` (which must listen on port 0 and print `http://ADDR/` on stderr) and
    /// waits until it listens.
    pub fn start(args: &[&str]) -> Daemon {
        let mut child = std::process::Command::new(crate::util::sijil_bin())
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sijil starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let url = loop {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                _ => panic!("sijil {args:?} exited before listening"),
            };
            if let Some(at) = line.find("http://") {
                let url = line[at..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                break url;
            }
        };
        // Keep draining stderr so the process never blocks on it.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Daemon { child, url }
    }

    pub fn addr(&self) -> SocketAddr {
        self.url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("an address")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
