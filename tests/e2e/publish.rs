//! Issue 14: `sijil publish DIR DEST` to a directory and to a real S3-compatible server (moto,
//! started by `scripts/s3-server` on loopback): everything published equals the register's
//! files, a second run writes nothing, a run after an append writes only the new objects and
//! the checkpoint, an erased text leaves the publication, and other bytes under a published
//! name stop the run with that name.

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{complaint, copy_dir, hearing, s, sijil_bin, skip_or_fail, Register};

/// Where a publication went, read back by the test itself (not through sijil).
trait Published {
    /// What `sijil publish` is given as DEST.
    fn dest(&self) -> String;
    fn get(&self, path: &str) -> Option<Vec<u8>>;
    fn put(&self, path: &str, bytes: &[u8]);
    /// Every object's path inside the publication.
    fn list(&self) -> BTreeSet<String>;
    /// Environment for `sijil publish`.
    fn env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

struct Directory(PathBuf);

impl Published for Directory {
    fn dest(&self) -> String {
        s(&self.0).to_owned()
    }
    fn get(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.0.join(path)).ok()
    }
    fn put(&self, path: &str, bytes: &[u8]) {
        std::fs::write(self.0.join(path), bytes).expect("write");
    }
    fn list(&self) -> BTreeSet<String> {
        fn walk(root: &Path, d: &Path, out: &mut BTreeSet<String>) {
            for e in std::fs::read_dir(d).expect("read dir").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    let rel = p.strip_prefix(root).expect("under root");
                    out.insert(s(rel).to_owned());
                }
            }
        }
        let mut out = BTreeSet::new();
        walk(&self.0, &self.0, &mut out);
        out
    }
}

/// moto in server mode on a loopback port, stopped when dropped.
struct S3Server {
    child: Child,
    port: u16,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    /// Installs (once) and starts moto; `None` after a loud skip when it cannot be installed
    /// (a failure in CI, `crate::skip`).
    fn start(log: &Path) -> Option<S3Server> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/s3-server");
        let install = Command::new(&script).arg("--install").output();
        match install {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                skip_or_fail(
                    "publish to S3 (moto)",
                    &format!(
                        "scripts/s3-server --install failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ),
                );
                return None;
            }
            Err(e) => {
                skip_or_fail(
                    "publish to S3 (moto)",
                    &format!("cannot run scripts/s3-server: {e}"),
                );
                return None;
            }
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(log).expect("log file");
        let child = Command::new(&script)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("scripts/s3-server starts");
        let server = S3Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto did not listen on {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(server)
    }

    /// One plain HTTP/1.1 request; the status and the body. moto checks no signature, but
    /// answers 403 to a request without any `Authorization` (anonymous access), so one of
    /// the right form is sent.
    fn request(&self, method: &str, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("send");
        stream.write_all(body).expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read");
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("end of headers");
        let headers = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
        let status: u16 = headers
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .expect("status");
        let mut body = raw[split + 4..].to_vec();
        if headers.contains("transfer-encoding: chunked") {
            body = dechunk(&body);
        }
        (status, body)
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size");
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..line_end])
                .split(';')
                .next()
                .unwrap_or("")
                .trim(),
            16,
        )
        .expect("hex chunk size");
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

struct Bucket<'a> {
    server: &'a S3Server,
    bucket: String,
    prefix: String,
}

impl Published for Bucket<'_> {
    fn dest(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
    fn get(&self, path: &str) -> Option<Vec<u8>> {
        let (status, body) = self.server.request(
            "GET",
            &format!("/{}/{}/{path}", self.bucket, self.prefix),
            b"",
        );
        match status {
            200 => Some(body),
            404 => None,
            other => panic!("GET {path}: HTTP {other}"),
        }
    }
    fn put(&self, path: &str, bytes: &[u8]) {
        let (status, body) = self.server.request(
            "PUT",
            &format!("/{}/{}/{path}", self.bucket, self.prefix),
            bytes,
        );
        assert_eq!(
            status,
            200,
            "PUT {path}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    fn list(&self) -> BTreeSet<String> {
        let (status, body) = self.server.request(
            "GET",
            &format!(
                "/{}?list-type=2&max-keys=1000&prefix={}/",
                self.bucket, self.prefix
            ),
            b"",
        );
        assert_eq!(status, 200);
        let xml = String::from_utf8(body).expect("utf-8 listing");
        assert!(!xml.contains("<IsTruncated>true"), "more than 1000 objects");
        let strip = format!("{}/", self.prefix);
        xml.split("<Key>")
            .skip(1)
            .filter_map(|k| k.split("</Key>").next())
            .map(|k| k.strip_prefix(&strip).unwrap_or(k).to_owned())
            .collect()
    }
    fn env(&self) -> Vec<(String, String)> {
        [
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.server.port),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

fn run_publish(reg: &Register, to: &dyn Published, extra: &[&str]) -> Output {
    Command::new(sijil_bin())
        .args(["publish", reg.dir(), &to.dest(), "--json"])
        .args(extra)
        .envs(to.env())
        .output()
        .expect("sijil runs")
}

/// `sijil publish … --json`, asserting success; its JSON.
fn publish_ok(reg: &Register, to: &dyn Published, extra: &[&str]) -> serde_json::Value {
    let out = run_publish(reg, to, extra);
    assert!(
        out.status.success(),
        "sijil publish failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON result")
}

/// Every published object is the register's file, byte for byte, and the checkpoint is there.
fn assert_same_bytes(reg: &Register, to: &dyn Published) -> BTreeSet<String> {
    let source = reg.published();
    let listed = to.list();
    assert!(listed.contains("checkpoint"), "{listed:?}");
    for path in &listed {
        let Some(want) = source.get(Path::new(path)) else {
            // The register deletes a partial tile once its full tile exists; the publication
            // keeps it (immutable; a reader falls back to the full tile either way).
            let full = path.split(".p/").next().unwrap_or("");
            assert!(
                path.contains(".p/") && source.contains_key(Path::new(full)),
                "{path} is published but not a file of the register"
            );
            continue;
        };
        assert_eq!(
            to.get(path).as_ref(),
            Some(want),
            "{path} differs from the register's"
        );
    }
    listed
}

/// The whole scenario against one destination; `mode` is given to every run but the ones
/// that look for other bytes (`--incremental`, or nothing).
fn scenario(reg: &Register, to: &dyn Published, mode: &[&str]) {
    let first = reg.events(
        "1.jsonl",
        &[
            complaint("2024-0001"),
            complaint("2024-0002"),
            hearing("2024-0001"),
        ],
    );
    reg.append(&first);

    let out = publish_ok(reg, to, mode);
    assert_eq!(out["from"], serde_json::Value::Null);
    assert_eq!(out["checkpoint"], "written");
    let listed = assert_same_bytes(reg, to);
    assert_eq!(out["written"].as_u64(), Some(listed.len() as u64));
    assert!(
        listed.iter().filter(|p| p.starts_with("blobs/")).count() == 2,
        "the two complaints' texts: {listed:?}"
    );

    // Again: nothing to write.
    let out = publish_ok(reg, to, mode);
    assert_eq!(out["checkpoint"], "unchanged");
    assert_eq!(out["written"], 0);
    assert_eq!(out["bytes"], 0);
    assert_eq!(out["skipped"], out["objects"]);
    if mode.contains(&"--incremental") {
        // Nothing is new since the destination's checkpoint: nothing is looked at.
        assert_eq!(out["objects"], 0, "{out}");
    }
    assert_eq!(to.list(), listed);

    // An append, with the erasure of 2024-0002's text: only the new objects and the
    // checkpoint are written, and the erased text leaves the publication.
    let erased: Vec<String> = listed
        .iter()
        .filter(|p| p.starts_with("blobs/"))
        .cloned()
        .collect();
    let second = reg.events(
        "2.jsonl",
        &[
            complaint("2024-0003"),
            r#"{"case":"2024-0002","type":"Erasure","target":{"case":"2024-0002","seq":0},"reason":"Loi 09-08, art. 8"}"#.to_owned(),
        ],
    );
    reg.append(&second);
    let out = publish_ok(reg, to, mode);
    let after = assert_same_bytes(reg, to);
    let gone: Vec<&String> = erased.iter().filter(|p| !after.contains(*p)).collect();
    assert_eq!(
        gone.len(),
        1,
        "exactly the erased text was deleted: {gone:?}"
    );
    assert_eq!(out["deleted"], 1);
    let new: BTreeSet<&String> = after.difference(&listed).collect();
    // The checkpoint is rewritten, not new.
    assert_eq!(out["written"].as_u64(), Some(new.len() as u64 + 1), "{out}");
    assert!(
        new.iter()
            .all(|p| p.starts_with("tile/") || p.starts_with("blobs/")),
        "{new:?}"
    );

    // Other bytes under a published name: the run stops with exit 1, naming the object, and
    // the checkpoint is left as it was.
    // The bundle of the current size (the partial ones of earlier sizes stay published, but
    // a run looks only at what the checkpoint names).
    let size: u64 = String::from_utf8(to.get("checkpoint").expect("checkpoint"))
        .expect("utf-8")
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("the checkpoint's size");
    assert!(size < 256, "one partial bundle");
    let bundle = format!("tile/entries/000.p/{size}");
    assert!(after.contains(&bundle), "{after:?}");
    let good = to.get(&bundle).expect("published bundle");
    let mut bad = good.clone();
    bad.push(b'!');
    to.put(&bundle, &bad);
    let checkpoint = to.get("checkpoint");
    let out = run_publish(reg, to, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&bundle) && err.contains("different bytes"),
        "{err}"
    );
    assert_eq!(to.get("checkpoint"), checkpoint);
    // Same size, other bytes: only a read back (--verify-existing) sees it.
    bad.pop();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    to.put(&bundle, &bad);
    let out = run_publish(reg, to, &["--verify-existing"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&bundle), "{err}");
    // Put right, it publishes again.
    to.put(&bundle, &good);
    let out = run_publish(reg, to, &["--verify-existing"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_bytes(reg, to);

    // Past 256 entries: a full tile, the next partial one, and a tile of level 1.
    let many: Vec<String> = (0..300).map(|_| hearing("2024-0003")).collect();
    reg.append(&reg.events("3.jsonl", &many));
    let out = publish_ok(reg, to, mode);
    assert_eq!(out["checkpoint"], "written");
    let after = assert_same_bytes(reg, to);
    for path in ["tile/0/000", "tile/entries/000", "tile/1/000.p/1"] {
        assert!(after.contains(path), "{path}: {after:?}");
    }
}

#[test]
fn issue14_publish_to_a_directory() {
    let reg = Register::new();
    let incremental = Register::new();
    scenario(
        &incremental,
        &Directory(incremental.tmp.path().join("public")),
        &["--incremental"],
    );
    let out = Directory(reg.tmp.path().join("public"));
    scenario(&reg, &out, &[]);
    // The publication is a register's public files: it audits as the register does.
    let audit = Command::new(sijil_bin())
        .args(["audit", &out.dest(), "--key", &reg.vkey])
        .output()
        .expect("sijil runs");
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    // Never into the register itself.
    let inside = Command::new(sijil_bin())
        .args(["publish", reg.dir(), &format!("{}/public", reg.dir())])
        .output()
        .expect("sijil runs");
    assert_eq!(inside.status.code(), Some(2));
}

#[test]
fn issue14_publish_to_s3() {
    let reg = Register::new();
    let Some(server) = S3Server::start(&reg.tmp.path().join("moto.log")) else {
        return;
    };
    let (status, body) = server.request("PUT", "/sijil-publication", b"");
    assert_eq!(
        status,
        200,
        "creating the bucket: {}",
        String::from_utf8_lossy(&body)
    );
    let bucket = Bucket {
        server: &server,
        bucket: "sijil-publication".into(),
        prefix: "plaintes".into(),
    };
    scenario(&reg, &bucket, &[]);
    let incremental = Register::new();
    let bucket = Bucket {
        server: &server,
        bucket: "sijil-publication".into(),
        prefix: "incremental".into(),
    };
    scenario(&incremental, &bucket, &["--incremental"]);
}

/// `sijil ARGS` with the destination's environment.
fn sijil_to(to: &dyn Published, args: &[&str]) -> Output {
    Command::new(sijil_bin())
        .args(args)
        .envs(to.env())
        .output()
        .expect("sijil runs")
}

/// `sijil ARGS` with the destination's environment, asserting success; its stdout (as
/// `util::ok`).
fn ok_to(to: &dyn Published, args: &[&str]) -> String {
    let out = sijil_to(to, args);
    assert!(
        out.status.success(),
        "sijil {args:?} failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The size a signed checkpoint's bytes give.
fn size_of(checkpoint: &[u8]) -> u64 {
    String::from_utf8_lossy(checkpoint)
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("the checkpoint's size")
}

/// Issue 14, a register that remembers its publication: `init --publish` publishes the
/// genesis, every append publishes what it added (the destination then equals the register
/// byte for byte); a publication that fails after a commit leaves the batch committed with
/// exit 4, and the next append catches up; a register restored from an older copy refuses to
/// sign (exit 1, the sentence) and writes nothing, here or at the destination.
fn remembered_scenario(to: &dyn Published) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("reg");
    let dest = to.dest();
    let out = sijil_to(
        to,
        &[
            "init",
            s(&dir),
            "--origin",
            "registre.example.ma/test",
            "--officer",
            "amina",
            "--publish",
            &dest,
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "init --publish: {err}");
    assert!(err.contains("published to"), "{err}");
    let reg = Register {
        vkey: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        officer_key: dir.join("private/amina.key"),
        dir,
        tmp,
    };
    let checkpoint = || std::fs::read(reg.dir.join("checkpoint")).expect("checkpoint");
    assert_eq!(to.get("checkpoint"), Some(checkpoint()), "the genesis");
    assert_same_bytes(&reg, to);

    let append = |name: &str, lines: &[String]| {
        sijil_to(
            to,
            &[
                "append",
                reg.dir(),
                "--key",
                s(&reg.officer_key),
                s(&reg.events(name, lines)),
            ],
        )
    };
    let out = append("1.jsonl", &[complaint("2024-0001"), complaint("2024-0002")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("published to {dest}")), "{err}");
    assert_eq!(to.get("checkpoint"), Some(checkpoint()));
    let listed = assert_same_bytes(&reg, to);
    assert_eq!(listed.iter().filter(|p| p.starts_with("blobs/")).count(), 2);

    // The next append's bundle is already at the destination with other bytes: the commit
    // happens, its publication fails (exit 4, saying so), the destination keeps its
    // checkpoint.
    let size = size_of(&checkpoint());
    let next = format!("tile/entries/000.p/{}", size + 2);
    to.put(&next, b"not this register's bundle");
    let published = to.get("checkpoint");
    let out = append("2.jsonl", &[hearing("2024-0001")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("the batch IS committed (the log is now at size")
            && err.contains(&next)
            && err.contains("sijil publish"),
        "{err}"
    );
    assert_eq!(size_of(&checkpoint()), size + 2, "the batch is committed");
    assert_eq!(to.get("checkpoint"), published, "not published");
    reg.verify();
    // Put right, the next append publishes both batches.
    let bundle = std::fs::read(reg.dir.join(&next)).expect("the register's bundle");
    to.put(&next, &bundle);
    let out = append("3.jsonl", &[hearing("2024-0002")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(to.get("checkpoint"), Some(checkpoint()));
    assert_same_bytes(&reg, to);

    // A copy of the register now, then more appends published: putting the copy back (a
    // restore from an older backup) stops the next append before it signs.
    let old = reg.tmp.path().join("old");
    copy_dir(&reg.dir, &old);
    let out = append("4.jsonl", &[complaint("2024-0003")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ahead = size_of(&checkpoint());
    std::fs::remove_dir_all(&reg.dir).expect("rm");
    std::fs::rename(&old, &reg.dir).expect("restore the old copy");
    let behind = size_of(&checkpoint());
    assert!(behind < ahead);
    let files = reg.published();
    // The writer's lock file is not counted: opening the register makes it.
    let private_files = || -> BTreeSet<String> {
        std::fs::read_dir(reg.dir.join("private"))
            .expect("private")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "lock")
            .collect()
    };
    let private = private_files();
    let at_dest = (to.list(), to.get("checkpoint"));
    let out = append("5.jsonl", &[complaint("2024-0004")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "refusing to sign: the log in {} has {behind} entries, but its publication {dest}/checkpoint publishes a checkpoint of size {ahead}",
            reg.dir()
        )) && err.contains("would fork the log"),
        "{err}"
    );
    assert_eq!(reg.published(), files, "nothing written to the register");
    assert_eq!(private_files(), private, "no journal, no new checkpoint");
    assert_eq!((to.list(), to.get("checkpoint")), at_dest, "nor there");
    // Publishing from it is refused too; forgetting the destination lets it append.
    let out = sijil_to(to, &["publish", reg.dir()]);
    assert_eq!(out.status.code(), Some(1));
    ok_to(to, &["publish", reg.dir(), "--forget"]);
    let out = sijil_to(to, &["publish", reg.dir()]);
    assert_eq!(out.status.code(), Some(2), "no destination remembered");
    let out = append("6.jsonl", &[complaint("2024-0004")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("published to"), "{err}");
    assert_eq!((to.list(), to.get("checkpoint")), at_dest);
}

#[test]
fn issue14_a_remembered_directory_is_published_after_every_commit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    remembered_scenario(&Directory(tmp.path().join("public")));
}

#[test]
fn issue14_a_remembered_bucket_is_published_after_every_commit() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let Some(server) = S3Server::start(&tmp.path().join("moto.log")) else {
        return;
    };
    let (status, body) = server.request("PUT", "/sijil-remembered", b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    remembered_scenario(&Bucket {
        server: &server,
        bucket: "sijil-remembered".into(),
        prefix: "plaintes".into(),
    });
    // With the store down, nobody knows what is published: nothing is signed (exit 2).
    let down = Bucket {
        server: &server,
        bucket: "sijil-remembered".into(),
        prefix: "down".into(),
    };
    let dir = tmp.path().join("down");
    ok_to(
        &down,
        &[
            "init",
            s(&dir),
            "--origin",
            "registre.example.ma/down",
            "--officer",
            "amina",
            "--publish",
            &down.dest(),
        ],
    );
    let env = down.env();
    drop(server);
    let events = tmp.path().join("down.jsonl");
    std::fs::write(&events, complaint("2024-0001")).expect("events");
    let before = std::fs::read(dir.join("checkpoint")).expect("checkpoint");
    let out = Command::new(sijil_bin())
        .args(["append", s(&dir), "--key"])
        .arg(dir.join("private/amina.key"))
        .arg(&events)
        .envs(env)
        .output()
        .expect("sijil runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("so nothing was signed"), "{err}");
    assert_eq!(std::fs::read(dir.join("checkpoint")).ok(), Some(before));
}

/// `sijil publish DIR DEST --remember` on an existing register: publishes, then remembers;
/// `sijil publish DIR` uses it; `log-key rotate` and `officers rotate` publish too.
#[test]
fn issue14_publish_remember_then_every_command_that_commits_publishes() {
    let reg = Register::new();
    let to = Directory(reg.tmp.path().join("public"));
    reg.append(&reg.events("1.jsonl", &[complaint("2024-0001")]));
    // A destination that does not publish this register is not remembered.
    std::fs::create_dir_all(&to.0).expect("mkdir");
    to.put("checkpoint", b"not a checkpoint");
    let out = sijil_to(&to, &["publish", reg.dir(), &to.dest(), "--remember"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!sijil_publish_file(&reg).exists());
    std::fs::remove_file(to.0.join("checkpoint")).expect("rm");
    ok_to(&to, &["publish", reg.dir(), &to.dest(), "--remember"]);
    assert!(sijil_publish_file(&reg).exists());
    assert_eq!(
        to.get("checkpoint"),
        std::fs::read(reg.dir.join("checkpoint")).ok()
    );
    ok_to(
        &to,
        &[
            "log-key",
            "rotate",
            reg.dir(),
            "--reason",
            "annual rotation",
        ],
    );
    assert_eq!(
        to.get("checkpoint"),
        std::fs::read(reg.dir.join("checkpoint")).ok(),
        "the rotation is published"
    );
    assert_same_bytes(&reg, &to);
    // Without DEST: the remembered one, already up to date.
    let out = sijil_to(&to, &["publish", reg.dir(), "--json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["destination"], to.dest());
    assert_eq!(json["checkpoint"], "unchanged");
}

fn sijil_publish_file(reg: &Register) -> PathBuf {
    reg.dir.join("private/publish")
}

/// `sijil sequencer` on a register that remembers its publication: each committed batch is
/// published; once the publication shows another history, batches are refused (nothing
/// written) instead of signed.
#[test]
fn issue14_the_sequencer_publishes_each_batch_and_never_signs_behind() {
    let reg = Register::new();
    let to = Directory(reg.tmp.path().join("public"));
    ok_to(&to, &["publish", reg.dir(), &to.dest(), "--remember"]);
    let seq =
        crate::fixture_server::Daemon::start(&["sequencer", reg.dir(), "--listen", "127.0.0.1:0"]);
    let officer = reg.tmp.path().join("amina.key");
    std::fs::copy(&reg.officer_key, &officer).expect("copy key");
    let submit = |name: &str, lines: &[String]| {
        Command::new(sijil_bin())
            .args(["submit", &seq.url])
            .arg(reg.events(name, lines))
            .args(["--key", s(&officer)])
            .output()
            .expect("sijil runs")
    };
    let out = submit("1.jsonl", &[complaint("2024-0001")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        to.get("checkpoint"),
        std::fs::read(reg.dir.join("checkpoint")).ok(),
        "the batch is published"
    );
    assert_same_bytes(&reg, &to);
    // Another register's checkpoint at the destination: the next batch is refused.
    let other = Register::new();
    let foreign = std::fs::read(other.dir.join("checkpoint")).expect("checkpoint");
    to.put("checkpoint", &foreign);
    let before = reg.published();
    let out = submit("2.jsonl", &[complaint("2024-0002")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    // 503 (the sequencer logs the sentence): the client tries again, then keeps the batch.
    assert!(err.contains("HTTP 503"), "{err}");
    assert_eq!(reg.published(), before, "nothing was written");
    assert_eq!(to.get("checkpoint"), Some(foreign));
}

/// Issue 14: `audit`, `verify` and `mirror` read an `s3://` publication as they read a
/// directory or a URL: it passes as published; a text in the bucket that no entry names is
/// reported; an altered bundle in the bucket fails the audit (exit 1) with its name.
#[test]
fn issue14_audit_verify_and_mirror_read_an_s3_publication() {
    let reg = Register::new();
    let events = reg.events(
        "e.jsonl",
        &[complaint("S3-1"), complaint("S3-2"), hearing("S3-1")],
    );
    reg.append(&events);
    let Some(server) = S3Server::start(&reg.tmp.path().join("moto.log")) else {
        return;
    };
    let (status, _) = server.request("PUT", "/sijil-read", b"");
    assert_eq!(status, 200, "creating the bucket");
    let bucket = Bucket {
        server: &server,
        bucket: "sijil-read".into(),
        prefix: "plaintes".into(),
    };
    publish_ok(&reg, &bucket, &[]);
    let url = bucket.dest();
    let out = sijil_to(&bucket, &["audit", &url, "--key", &reg.vkey]);
    let audit = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{audit}");
    assert!(audit.contains("blobs: 2 checked"), "{audit}");
    let state = reg.tmp.path().join("verify-state");
    ok_to(
        &bucket,
        &["verify", &url, "--key", &reg.vkey, "--state-dir", s(&state)],
    );
    let mirror = reg.tmp.path().join("mirror");
    ok_to(&bucket, &["mirror", &url, s(&mirror), "--key", &reg.vkey]);
    ok_to(&bucket, &["audit", s(&mirror), "--key", &reg.vkey]);
    // A text no entry names, put beside the published ones.
    let orphan = format!("blobs/{}", "ab".repeat(32));
    bucket.put(&orphan, b"not a committed text");
    let out = sijil_to(&bucket, &["audit", &url, "--key", &reg.vkey]);
    let err = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&orphan), "the orphan is named: {err}");
    // An altered bundle: its last byte.
    let (status, _) = server.request("DELETE", &format!("/sijil-read/plaintes/{orphan}"), b"");
    assert_eq!(status, 204, "deleting the orphan");
    ok_to(&bucket, &["audit", &url, "--key", &reg.vkey]);
    // init's 2 entries, then the batch's 3 events and its IndexCommitted.
    let bundle = "tile/entries/000.p/6";
    let mut bytes = bucket.get(bundle).expect("the bundle is published");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    bucket.put(bundle, &bytes);
    let out = sijil_to(&bucket, &["audit", &url, "--key", &reg.vkey]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // The last byte is the signature's of the bundle's last entry.
    assert!(
        err.contains("FAILED verification: entry 5"),
        "the entry is named: {err}"
    );
}
