//! What the end-to-end tests of the server share: a `sijil serve` process, a minimal HTTP
//! client, and headless Chromium.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
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
        let addr = listening_on(&mut child);
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

/// The address a `sijil serve` started with `--listen …:0` and its stderr piped says it
/// listens on; its stderr is then drained so that it never blocks on a full pipe.
pub fn listening_on(child: &mut Child) -> SocketAddr {
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading so the server never blocks on a full pipe.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("sijil serve prints its address");
        if let Some(rest) = line.split("http://").nth(1) {
            return rest.trim_end_matches('/').parse().expect("address");
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
    if answer.header("transfer-encoding") == Some("chunked") {
        // A compressed answer's length is not known ahead: RFC 9112 §7.1 chunks.
        answer.body = dechunk(&answer.body, path);
    }
    if answer.header("content-encoding") == Some("gzip") {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(answer.body.as_slice())
            .read_to_end(&mut plain)
            .expect("gzip body");
        answer.body = plain;
    }
    answer
}

/// The body of a chunked answer (RFC 9112 §7.1): hex sizes, each chunk, a last chunk of 0.
fn dechunk(mut raw: &[u8], path: &str) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap_or_else(|| panic!("{path}: a chunk without its size line"));
        let size = std::str::from_utf8(&raw[..line])
            .ok()
            .and_then(|l| usize::from_str_radix(l.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or_else(|| panic!("{path}: a malformed chunk size"));
        raw = &raw[line + 2..];
        if size == 0 {
            return body;
        }
        assert!(raw.len() >= size + 2, "{path}: a truncated chunk");
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
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
            // The pages follow the browser's Accept-Language when the URL names no language:
            // the tests read the French pages unless their URL asks for another.
            "--accept-lang=fr",
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

// ---- A tampering proxy -------------------------------------------------------------------

/// What the proxy does to an answer: `(path, answer)`, the answer changed in place.
pub type Tamper = Box<dyn Fn(&str, &mut Answer) + Send + Sync>;

#[derive(Default)]
pub struct ProxyState {
    upstream: Mutex<Option<SocketAddr>>,
    tamper: Mutex<Option<Tamper>>,
    /// What `/__seed` writes into the page origin's localStorage before it goes on.
    seed: Mutex<Vec<(String, String)>>,
}

/// A proxy in front of a `sijil serve`, on an address of its own (the origin the browser
/// sees, and so its localStorage): passes everything through, except what `tamper` changes.
/// It can switch to another upstream (a forked register) between visits. `GET
/// /__seed?next=PATH` is its own page: it stores `seed` in localStorage and goes to PATH, as
/// a visitor who pinned a key before would have it.
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<ProxyState>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(ProxyState::default());
        *state.upstream.lock().expect("lock") = Some(upstream);
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve_one(stream, &shared));
            }
        });
        Proxy { addr, state }
    }

    pub fn tamper(&self, f: impl Fn(&str, &mut Answer) + Send + Sync + 'static) {
        *self.state.tamper.lock().expect("lock") = Some(Box::new(f));
    }

    pub fn untouched(&self) {
        *self.state.tamper.lock().expect("lock") = None;
    }

    pub fn upstream(&self, addr: SocketAddr) {
        *self.state.upstream.lock().expect("lock") = Some(addr);
    }

    pub fn seed(&self, items: &[(&str, String)]) {
        *self.state.seed.lock().expect("lock") = items
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

fn serve_one(mut stream: TcpStream, state: &ProxyState) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let Some(path) = head.split(' ').nth(1).map(str::to_string) else {
        return;
    };
    let answer = if let Some(next) = path.strip_prefix("/__seed?next=") {
        let items = state.seed.lock().expect("lock").clone();
        let sets: String = items
            .iter()
            .map(|(k, v)| {
                format!(
                    "localStorage.setItem({},{});",
                    Value::from(k.as_str()),
                    Value::from(v.as_str())
                )
            })
            .collect();
        let script = format!(
            "{sets}location.replace({});",
            Value::from(next.replace("%3F", "?").replace("%26", "&"))
        )
        .replace("</", "<\\/");
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: format!("<!doctype html><meta charset=utf-8><script>{script}</script>")
                .into_bytes(),
        }
    } else {
        let upstream = state.upstream.lock().expect("lock").expect("an upstream");
        let mut answer = get(upstream, &path);
        if let Some(tamper) = state.tamper.lock().expect("lock").as_ref() {
            tamper(&path, &mut answer);
        }
        answer
    };
    let mut extra = String::new();
    for name in ["content-type", "content-security-policy"] {
        if let Some(v) = answer.header(name) {
            extra.push_str(&format!("{name}: {v}\r\n"));
        }
    }
    let _ = write!(
        stream,
        "HTTP/1.1 {} X\r\n{extra}Cache-Control: no-store\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.status,
        answer.body.len()
    );
    let _ = stream.write_all(&answer.body);
}

/// Changes the JSON of an answer to a path starting with `prefix`.
pub fn on_json(prefix: &'static str, f: impl Fn(&mut Value) + Send + Sync + 'static) -> Tamper {
    Box::new(move |path, a| {
        if path.starts_with(prefix) && a.status == 200 {
            let mut v = a.json();
            f(&mut v);
            a.body = v.to_string().into_bytes();
        }
    })
}
