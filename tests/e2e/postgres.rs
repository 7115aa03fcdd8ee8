//! Issue 14, end to end through the `sijil` binary: a register whose commit point is a real
//! PostgreSQL cluster (`sijil_postgres::cluster::Cluster`, started and stopped here). Writers
//! are `sijil append postgres://… --private COPY` processes, each on its own local copy.
//!
//! - concurrency: 4 writers on 4 copies append for a window (`SIJIL_PG_SECONDS`, default 6;
//!   the issue's run is 30): every acknowledged event once, every stored checkpoint signed and
//!   consistent with the final tree, the database and the publication audit clean;
//! - a SIGKILL between the commit and the publication, finished by `sijil publish`;
//! - a database restored from an old base backup: both a copy that is ahead and a new copy
//!   are refused, nothing signed;
//! - failover to a synchronous standby under appends: nothing acknowledged lost, no fork;
//! - `sijil migrate` both ways, and `sijil serve postgres://…` following a new append.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sijil_core::merkle;
use sijil_core::note::Verifier;
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::TileHashReader;
use sijil_core::SignedCheckpoint;
use sijil_postgres::cluster::{Cluster, ClusterError};

use crate::util::{complaint, keygen, ok, s, sijil, sijil_bin, skip_or_fail, Register};

const ORIGIN: &str = "registre.example.ma/test";

/// A started cluster in `dir`, or `None` where PostgreSQL is absent and skipping is allowed
/// (the project's policy: fail otherwise, and always in CI).
fn cluster(test: &str, dir: &Path) -> Option<Cluster> {
    match Cluster::start(dir) {
        Ok(c) => Some(c),
        Err(ClusterError::NoBinaries) => {
            skip_or_fail(
                test,
                "PostgreSQL: no initdb under /usr/lib/postgresql/*/bin or SIJIL_PG_BIN (scripts/test installs Debian's postgresql package)",
            );
            None
        }
        Err(e) => panic!("cannot start a PostgreSQL cluster: {e}"),
    }
}

/// A register created in the database at `url` by `sijil init`, and where its keys are.
struct Db {
    url: String,
    vkey: String,
    /// `init`'s local copy: its private/ holds the log key and the officer's key.
    first: PathBuf,
    officer: PathBuf,
}

impl Db {
    /// `sijil init URL --private ROOT/c0 [--publish DEST]`.
    fn init(url: &str, root: &Path, publish: Option<&Path>) -> Db {
        let first = root.join("c0");
        let mut args = vec![
            "init",
            url,
            "--private",
            s(&first),
            "--origin",
            ORIGIN,
            "--officer",
            "amina",
        ];
        if let Some(dest) = publish {
            args.extend(["--publish", s(dest)]);
        }
        let vkey = ok(&args).trim().to_string();
        let officer = first.join("private/amina.key");
        assert!(officer.is_file(), "init wrote the officer's key");
        Db {
            url: url.to_string(),
            vkey,
            first,
            officer,
        }
    }

    /// A new, empty local copy `dir` holding only the log key, as another machine would.
    fn new_copy(&self, dir: &Path) -> PathBuf {
        std::fs::create_dir_all(dir.join("private")).expect("mkdir");
        std::fs::copy(
            self.first.join("private/log.key"),
            dir.join("private/log.key"),
        )
        .expect("copy the log key");
        dir.to_path_buf()
    }

    fn verifier(&self) -> Verifier {
        Verifier::parse(&self.vkey).expect("vkey")
    }

    /// `sijil append URL --private COPY --key OFFICER --json EVENTS`.
    fn append(&self, url: &str, copy: &Path, events: &Path) -> Output {
        sijil(&self.append_args(url, copy, events))
    }

    /// [`Db::append`], asserting it succeeds.
    fn append_ok(&self, url: &str, copy: &Path, events: &Path) {
        ok(&self.append_args(url, copy, events));
    }

    fn append_args<'a>(&'a self, url: &'a str, copy: &'a Path, events: &'a Path) -> [&'a str; 8] {
        [
            "append",
            url,
            "--private",
            s(copy),
            "--key",
            s(&self.officer),
            "--json",
            s(events),
        ]
    }

    /// `sijil audit URL --key V --json`: the database's size, asserting it audits clean.
    fn audit(&self, url: &str) -> u64 {
        let out = ok(&["audit", url, "--key", &self.vkey, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).expect("audit --json");
        v["tree_size"].as_u64().expect("tree_size")
    }
}

/// Writes complaints opening `cases` to `path`.
fn events(path: &Path, cases: &[String]) -> PathBuf {
    let lines: Vec<String> = cases.iter().map(|c| complaint(c)).collect();
    std::fs::write(path, lines.join("\n")).expect("write events");
    path.to_path_buf()
}

/// The size a checkpoint note names (its second line).
fn size_of(note: &[u8]) -> u64 {
    String::from_utf8_lossy(note)
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .expect("a checkpoint's size line")
}

/// The register's current checkpoint, as the database holds it.
fn db_checkpoint(c: &Cluster) -> Vec<u8> {
    c.client()
        .expect("client")
        .query_one("SELECT checkpoint FROM sijil_log", &[])
        .expect("the log row")
        .get(0)
}

/// Every checkpoint the database ever committed, by size.
fn db_checkpoints(c: &Cluster) -> Vec<(i64, Vec<u8>)> {
    c.client()
        .expect("client")
        .query(
            "SELECT size, checkpoint FROM sijil_checkpoints ORDER BY size",
            &[],
        )
        .expect("checkpoints")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// How many entries of each case the register in `dir` (a verified local copy) holds.
fn cases_in(dir: &Path, verifier: Verifier) -> BTreeMap<String, usize> {
    let reader = sijil_register::RegisterReader::open(dir, Some(verifier)).expect("open the copy");
    let size = reader.checkpoint().checkpoint.size;
    let mut counts = BTreeMap::new();
    for e in reader.entries(0, size).expect("entries") {
        if let Some(case) = e.entry.case {
            *counts.entry(case.id).or_insert(0) += 1;
        }
    }
    counts
}

/// A fresh verified replica of the database's register (`sijil stats URL --cache DIR`), and
/// the cases in it.
fn cases_in_db(db: &Db, url: &str, cache: &Path) -> BTreeMap<String, usize> {
    ok(&["stats", url, "--cache", s(cache), "--key", &db.vkey]);
    cases_in(cache, db.verifier())
}

/// Every acknowledged case is in the register exactly once, and every case in it is one a
/// writer sent (acknowledged or not: a batch whose outcome was unknown may be in, once).
fn assert_exactly_once(
    cases: &BTreeMap<String, usize>,
    acknowledged: &[String],
    attempted: &[String],
) {
    for case in acknowledged {
        assert_eq!(
            cases.get(case).copied(),
            Some(1),
            "the acknowledged case {case} must be in the register exactly once"
        );
    }
    for (case, n) in cases {
        assert_eq!(*n, 1, "case {case} has {n} entries");
        assert!(
            attempted.contains(case),
            "case {case} is in the register but no writer sent it"
        );
    }
}

/// Every checkpoint the database stored verifies with the log key and is a prefix of the
/// final tree: its root is the root of the first `size` entries of `copy`'s tiles (which are
/// checked against the final checkpoint `last`). Sizes strictly increase (one per size).
fn assert_no_fork(c: &Cluster, copy: &Path, verifier: &Verifier, last: &[u8]) {
    let last = SignedCheckpoint::open(last, verifier).expect("the final checkpoint verifies");
    let tiles = DirTiles::new(Layout::new(copy));
    let reader = TileHashReader::new(last.checkpoint.size, last.checkpoint.root, &tiles);
    let stored = db_checkpoints(c);
    assert!(stored.len() >= 2, "{} checkpoints", stored.len());
    let mut previous = None;
    for (size, bytes) in &stored {
        let cp = SignedCheckpoint::open(bytes, verifier)
            .unwrap_or_else(|e| panic!("the checkpoint of size {size} does not verify: {e}"));
        assert_eq!(i64::try_from(cp.checkpoint.size).ok(), Some(*size));
        assert!(previous < Some(*size), "sizes must strictly increase");
        previous = Some(*size);
        let root = merkle::tree_hash(cp.checkpoint.size, &reader).expect("root from the tiles");
        assert_eq!(
            root, cp.checkpoint.root,
            "the checkpoint of size {size} is not a prefix of the final tree: a fork"
        );
    }
    assert_eq!(
        stored.last().map(|(_, b)| b.as_slice()),
        Some(last.bytes.as_slice()),
        "the last stored checkpoint is the log's"
    );
}

/// The publication `dest` audits clean with the log key, and each file in it is `copy`'s
/// (a superseded partial tile stays published; its full tile is the copy's).
fn assert_publication(db: &Db, dest: &Path, copy: &Path) {
    ok(&["audit", s(dest), "--key", &db.vkey]);
    let mut files = Vec::new();
    walk(dest, dest, &mut files);
    assert!(files.iter().any(|p| p == Path::new("checkpoint")));
    for rel in files {
        // object_store's LocalFileSystem stages each object as NAME#N before linking it to
        // NAME; a process killed in between leaves the staged file (no reader asks for it).
        if rel.to_string_lossy().contains('#') {
            eprintln!("a staged file left in the publication: {}", rel.display());
            continue;
        }
        let mine = copy.join(&rel);
        if mine.is_file() {
            assert_eq!(
                std::fs::read(dest.join(&rel)).expect("read"),
                std::fs::read(&mine).expect("read"),
                "{} differs from the copy's",
                rel.display()
            );
        } else {
            let bytes = std::fs::read(dest.join(&rel)).expect("read");
            assert!(
                superseded(&rel, &bytes, copy),
                "{} is published but not a file of the register",
                rel.display()
            );
        }
    }
}

/// Whether `rel`, a partial tile `X.p/N` with `bytes`, is the start of a wider tile `dir`
/// holds (the full `X` or a partial `X.p/M`, M > N): a writer deletes the narrower ones once
/// a wider one is written (c2sp.org/tlog-tiles), while a publication keeps every object it
/// wrote. A narrower tile is a prefix of the wider one, for hash tiles as for entry bundles.
fn superseded(rel: &Path, bytes: &[u8], dir: &Path) -> bool {
    let text = rel.to_string_lossy();
    let Some((full, width)) = text.split_once(".p/") else {
        return false;
    };
    let Ok(width) = width.parse::<u64>() else {
        return false;
    };
    let mut wider: Vec<PathBuf> = vec![dir.join(full)];
    if let Ok(list) = std::fs::read_dir(dir.join(format!("{full}.p"))) {
        for e in list.flatten() {
            let w = e.file_name().to_string_lossy().parse::<u64>().unwrap_or(0);
            if w > width {
                wider.push(e.path());
            }
        }
    }
    wider
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .any(|w| w.len() > bytes.len() && w.starts_with(bytes))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            out.push(p.strip_prefix(root).expect("under root").to_path_buf());
        }
    }
}

/// The window of the concurrency test: `SIJIL_PG_SECONDS` (the issue's run is 30).
fn window() -> Duration {
    let secs = std::env::var("SIJIL_PG_SECONDS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(6);
    Duration::from_secs(secs)
}

/// What one writer sent and what it was told.
#[derive(Default)]
struct Tally {
    /// Events of batches that exited 0, or 4 (committed, not published).
    acknowledged: Vec<String>,
    attempted: Vec<String>,
    failures: Vec<String>,
}

/// A writer: batches of 1 to 5 new cases `W{w}-{n}` appended from `copy` until `until`
/// (or until `stop` says so).
fn writer(
    db: &Db,
    url: &str,
    w: usize,
    copy: &Path,
    until: Instant,
    stop: &std::sync::atomic::AtomicBool,
) -> Tally {
    let mut tally = Tally::default();
    let mut n = 0usize;
    let mut round = 0usize;
    while Instant::now() < until && !stop.load(std::sync::atomic::Ordering::Relaxed) {
        round += 1;
        let k = 1 + (w + round) % 5;
        let cases: Vec<String> = (0..k)
            .map(|_| {
                n += 1;
                format!("W{w}-{n}")
            })
            .collect();
        let file = events(&copy.with_extension(format!("{round}.jsonl")), &cases);
        let out = db.append(url, copy, &file);
        tally.attempted.extend(cases.iter().cloned());
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Exit 4 says the batch IS committed (only its publication failed): as binding.
        if out.status.success() || (out.status.code() == Some(4) && stderr.contains("IS committed"))
        {
            tally.acknowledged.extend(cases);
        }
        if !out.status.success() {
            tally
                .failures
                .push(format!("exit {:?}: {}", out.status.code(), stderr.trim()));
        }
    }
    tally
}

#[test]
fn issue14_four_writers_on_four_copies_lose_nothing_and_never_fork() {
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(pg) = cluster(
        "issue14_four_writers_on_four_copies_lose_nothing_and_never_fork",
        &tmp.path().join("pg"),
    ) else {
        return;
    };
    let dest = tmp.path().join("public");
    let db = Db::init(&pg.url(), tmp.path(), Some(&dest));
    // Two "machines", two writers each, every writer on its own copy.
    let copies: Vec<PathBuf> = (1..=4)
        .map(|w| db.new_copy(&tmp.path().join(format!("m{}-c{w}", (w + 1) / 2))))
        .collect();
    let until = Instant::now() + window();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = copies
            .iter()
            .enumerate()
            .map(|(i, copy)| {
                let (db, stop) = (&db, &stop);
                scope.spawn(move || writer(db, &db.url, i + 1, copy, until, stop))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("writer thread"))
            .collect()
    });
    let acknowledged: Vec<String> = tallies
        .iter()
        .flat_map(|t| t.acknowledged.iter().cloned())
        .collect();
    let attempted: Vec<String> = tallies
        .iter()
        .flat_map(|t| t.attempted.iter().cloned())
        .collect();
    for (w, t) in tallies.iter().enumerate() {
        eprintln!(
            "writer {}: {} events acknowledged of {}; failures: {:?}",
            w + 1,
            t.acknowledged.len(),
            t.attempted.len(),
            t.failures
        );
        assert!(
            !t.acknowledged.is_empty(),
            "writer {} got nothing acknowledged: {:?}",
            w + 1,
            t.failures
        );
        // A copy behind the database only because the others wrote is caught up, never
        // refused as if the register had been restored.
        for f in &t.failures {
            assert!(
                !f.contains("refusing to sign"),
                "writer {} was refused: {f}",
                w + 1
            );
        }
    }

    let size = db.audit(&db.url);
    let cases = cases_in_db(&db, &db.url, &tmp.path().join("cache"));
    assert_exactly_once(&cases, &acknowledged, &attempted);
    // Catch the publication up from one copy (the copy is brought up to the database first).
    ok(&["publish", &db.url, "--private", s(&copies[0])]);
    let last = db_checkpoint(&pg);
    assert_eq!(size_of(&last), size);
    assert_eq!(
        std::fs::read(copies[0].join("checkpoint")).expect("the copy's checkpoint"),
        last,
        "the copy is the database's register"
    );
    assert_no_fork(&pg, &copies[0], &db.verifier(), &last);
    assert_eq!(
        std::fs::read(dest.join("checkpoint")).expect("the public checkpoint"),
        last,
        "the publication is at the committed checkpoint"
    );
    assert_publication(&db, &dest, &copies[0]);
}

/// strace, or `None` where it is absent and skipping is allowed.
fn strace(test: &str) -> Option<&'static str> {
    let found = Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("strace");
    }
    skip_or_fail(
        test,
        "strace is not installed (scripts/test installs Debian's package)",
    );
    None
}

#[test]
fn issue14_a_kill_between_commit_and_publication_is_finished_by_publish() {
    const TEST: &str = "issue14_a_kill_between_commit_and_publication_is_finished_by_publish";
    let Some(strace) = strace(TEST) else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(pg) = cluster(TEST, &tmp.path().join("pg")) else {
        return;
    };
    let dest = tmp.path().join("public");
    let db = Db::init(&pg.url(), tmp.path(), Some(&dest));
    let copy = db.new_copy(&tmp.path().join("a"));
    let first = events(&tmp.path().join("1.jsonl"), &["K-1".into()]);
    db.append_ok(&db.url, &copy, &first);
    let published = std::fs::read(dest.join("checkpoint")).expect("public checkpoint");
    assert_eq!(published, db_checkpoint(&pg), "published after the append");

    // The publication to a directory writes each object create-if-absent: a staged file
    // hard-linked to its name (object_store's LocalFileSystem, `PutMode::Create`). Nothing
    // before the database's commit links a file (the copy's writes are renames), so a
    // SIGKILL at the first link(2) is after the commit and before any object is published.
    let second = events(&tmp.path().join("2.jsonl"), &["K-2".into(), "K-3".into()]);
    let out = Command::new(strace)
        .args([
            "-f",
            "-qq",
            "-o",
            "/dev/null",
            "-e",
            "trace=link,linkat",
            "-e",
            "inject=link,linkat:signal=KILL:when=1",
        ])
        .arg(sijil_bin())
        .args([
            "append",
            &db.url,
            "--private",
            s(&copy),
            "--key",
            s(&db.officer),
            s(&second),
        ])
        .output()
        .expect("strace runs");
    assert_ne!(
        out.status.code(),
        Some(0),
        "the append must have been killed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The database holds the batch; the publication does not.
    let committed = db_checkpoint(&pg);
    assert!(
        size_of(&committed) > size_of(&published),
        "the batch was committed before the kill"
    );
    assert_eq!(
        std::fs::read(dest.join("checkpoint")).expect("public checkpoint"),
        published,
        "the public checkpoint is written last: still the old one"
    );
    let cases = cases_in_db(&db, &db.url, &tmp.path().join("cache"));
    assert_eq!(cases.get("K-2"), Some(&1));
    assert_eq!(cases.get("K-3"), Some(&1));

    // `sijil publish` catches the publication up, and it audits clean.
    ok(&["publish", &db.url, "--private", s(&copy)]);
    assert_eq!(
        std::fs::read(dest.join("checkpoint")).expect("public checkpoint"),
        committed
    );
    assert_publication(&db, &dest, &copy);

    // The next append, from another copy, works and is published.
    let other = db.new_copy(&tmp.path().join("b"));
    let third = events(&tmp.path().join("3.jsonl"), &["K-4".into()]);
    db.append_ok(&db.url, &other, &third);
    let now = db_checkpoint(&pg);
    assert!(size_of(&now) > size_of(&committed));
    assert_eq!(
        std::fs::read(dest.join("checkpoint")).expect("public checkpoint"),
        now
    );
    assert_publication(&db, &dest, &other);
    db.audit(&db.url);
}

/// `cp -a`: the cluster's files keep their owner (the `postgres` user when run as root).
fn cp_a(from: &Path, to: &Path) {
    let done = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("cp runs")
        .success();
    assert!(done, "cp -a {} {}", from.display(), to.display());
}

#[test]
fn issue14_a_database_restored_from_an_old_base_backup_is_refused() {
    const TEST: &str = "issue14_a_database_restored_from_an_old_base_backup_is_refused";
    let tmp = tempfile::tempdir().expect("tmp");
    let pgdir = tmp.path().join("pg");
    let Some(mut pg) = cluster(TEST, &pgdir) else {
        return;
    };
    let dest = tmp.path().join("public");
    let db = Db::init(&pg.url(), tmp.path(), Some(&dest));
    let ahead = db.new_copy(&tmp.path().join("ahead"));
    db.append_ok(
        &db.url,
        &ahead,
        &events(&tmp.path().join("1.jsonl"), &["R-1".into()]),
    );

    // A base backup of the stopped cluster.
    pg.stop().expect("stop");
    let backup = tmp.path().join("base-backup");
    cp_a(&pgdir.join("data"), &backup);
    pg.restart().expect("start again");
    let old = db_checkpoint(&pg);

    // The register goes on, and is published.
    db.append_ok(
        &db.url,
        &ahead,
        &events(&tmp.path().join("2.jsonl"), &["R-2".into(), "R-3".into()]),
    );
    let newer = db_checkpoint(&pg);
    assert!(size_of(&newer) > size_of(&old));
    assert_eq!(
        std::fs::read(dest.join("checkpoint")).expect("public checkpoint"),
        newer
    );

    // The old data put back.
    pg.stop().expect("stop");
    std::fs::remove_dir_all(pgdir.join("data")).expect("remove the data");
    cp_a(&backup, &pgdir.join("data"));
    pg.restart().expect("start the restored cluster");
    assert_eq!(db_checkpoint(&pg), old, "the database is the old one");
    let public_before = std::fs::read(dest.join("checkpoint")).expect("public checkpoint");
    let ahead_before = std::fs::read(ahead.join("checkpoint")).expect("copy checkpoint");

    // The copy that was ahead: refused with a sentence, nothing signed.
    let batch = events(&tmp.path().join("3.jsonl"), &["R-4".into()]);
    let out = db.append(&db.url, &ahead, &batch);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("the copy that was ahead: {err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        ["behind", "restored", "rolled back", "roll back", "larger"]
            .iter()
            .any(|w| err.contains(w)),
        "the refusal must say the database is behind: {err}"
    );
    // A new copy made from the restored database: the publication it remembers is ahead.
    let fresh = db.new_copy(&tmp.path().join("fresh"));
    let out = db.append(&db.url, &fresh, &batch);
    let err2 = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("a new copy: {err2}");
    assert_eq!(out.status.code(), Some(1), "{err2}");
    assert!(
        ["behind", "restored", "rolled back", "roll back", "larger"]
            .iter()
            .any(|w| err2.contains(w)),
        "the refusal must say the publication is ahead: {err2}"
    );

    // Nothing signed: the database, the publication and the copy that was ahead are as they
    // were, and the new copy holds no checkpoint beyond the database's.
    assert_eq!(db_checkpoint(&pg), old);
    assert_eq!(
        db_checkpoints(&pg).last().map(|(s, _)| *s),
        i64::try_from(size_of(&old)).ok()
    );
    assert_eq!(
        std::fs::read(dest.join("checkpoint")).expect("public checkpoint"),
        public_before
    );
    assert_eq!(
        std::fs::read(ahead.join("checkpoint")).expect("copy checkpoint"),
        ahead_before
    );
    if let Ok(cp) = std::fs::read(fresh.join("checkpoint")) {
        assert!(size_of(&cp) <= size_of(&old), "the new copy signed");
    }
}

#[test]
fn issue14_appends_continue_on_the_promoted_standby_without_loss_or_fork() {
    const TEST: &str = "issue14_appends_continue_on_the_promoted_standby_without_loss_or_fork";
    let tmp = tempfile::tempdir().expect("tmp");
    let Some(mut primary) = cluster(TEST, &tmp.path().join("primary")) else {
        return;
    };
    let standby = Cluster::standby_of(&primary, &tmp.path().join("standby")).expect("standby");
    // libpq's way to find the writable server after a failover.
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/{}?target_session_attrs=read-write&connect_timeout=5",
        primary.port(),
        standby.port(),
        sijil_postgres::cluster::DATABASE
    );
    let db = Db::init(&url, tmp.path(), None);
    let copies: Vec<PathBuf> = (1..=2)
        .map(|w| db.new_copy(&tmp.path().join(format!("c{w}"))))
        .collect();

    // Two writers append until told to stop; the primary is killed mid-run and the standby
    // promoted while they go on.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let far = Instant::now() + Duration::from_secs(600);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = copies
            .iter()
            .enumerate()
            .map(|(i, copy)| {
                let (db, stop, url) = (&db, &stop, &url);
                scope.spawn(move || writer(db, url, i + 1, copy, far, stop))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(2500));
        primary.kill().expect("SIGKILL the primary");
        standby.promote().expect("promote the standby");
        std::thread::sleep(Duration::from_millis(2500));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().expect("writer thread"))
            .collect()
    });
    let acknowledged: Vec<String> = tallies
        .iter()
        .flat_map(|t| t.acknowledged.iter().cloned())
        .collect();
    let attempted: Vec<String> = tallies
        .iter()
        .flat_map(|t| t.attempted.iter().cloned())
        .collect();
    for (w, t) in tallies.iter().enumerate() {
        eprintln!(
            "writer {}: {} events acknowledged of {}; failures: {:?}",
            w + 1,
            t.acknowledged.len(),
            t.attempted.len(),
            t.failures
        );
    }

    // Each copy appends once more on the promoted standby: it adopts what the other wrote
    // (re-verifying it: a fork would stop it) and its checkpoint is then the database's.
    let mut acknowledged = acknowledged;
    for (i, copy) in copies.iter().enumerate() {
        let case = format!("after-{i}");
        db.append_ok(
            &url,
            copy,
            &events(
                &copy.with_extension("after.jsonl"),
                std::slice::from_ref(&case),
            ),
        );
        acknowledged.push(case);
        assert_eq!(
            std::fs::read(copy.join("checkpoint")).expect("copy checkpoint"),
            db_checkpoint(&standby),
            "the copy and the database agree"
        );
    }
    let mut attempted = attempted;
    attempted.extend(["after-0".to_string(), "after-1".to_string()]);
    // Both before and after the kill, something was acknowledged.
    assert!(
        tallies.iter().all(|t| !t.acknowledged.is_empty()),
        "every writer had appends acknowledged"
    );

    db.audit(&url);
    let cases = cases_in_db(&db, &url, &tmp.path().join("cache"));
    assert_exactly_once(&cases, &acknowledged, &attempted);
    let last = db_checkpoint(&standby);
    assert_no_fork(&standby, &copies[1], &db.verifier(), &last);
}

/// Every file of a register directory but private/ (and the writer's lock), with its bytes.
fn public_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files
        .into_iter()
        .filter(|p| !p.starts_with("private") && p != Path::new("lock"))
        .map(|p| {
            let bytes = std::fs::read(dir.join(&p)).expect("read");
            (p, bytes)
        })
        .collect()
}

#[test]
fn issue14_migrate_both_ways_and_serve_from_the_database() {
    const TEST: &str = "issue14_migrate_both_ways_and_serve_from_the_database";
    let reg = Register::new();
    let events_path = reg.events("1.jsonl", &["M-1", "M-2", "M-3"].map(complaint));
    reg.append(&events_path);
    let Some(pg) = cluster(TEST, &reg.tmp.path().join("pg")) else {
        return;
    };
    let url = pg.url();

    // Directory → database: the same checkpoint, and the database audits clean.
    ok(&["migrate", reg.dir(), &url]);
    let original = std::fs::read(reg.dir.join("checkpoint")).expect("checkpoint");
    assert_eq!(
        db_checkpoint(&pg),
        original,
        "the checkpoint, byte for byte"
    );
    ok(&["audit", &url, "--key", &reg.vkey]);

    // Database → a new directory: every public file identical, and it audits clean.
    let back = reg.tmp.path().join("back");
    ok(&[
        "migrate",
        &url,
        s(&back),
        "--log-key",
        s(&reg.dir.join("private/log.key")),
    ]);
    let before = public_files(&reg.dir);
    let after = public_files(&back);
    assert_eq!(
        after.get(Path::new("checkpoint")),
        Some(&original),
        "the checkpoint, byte for byte"
    );
    // Every tile, bundle and text identical, but narrower partial tiles the directory kept
    // and the copy out of the database does not have (each the start of a wider one there).
    let public = |p: &Path| p.starts_with("tile") || p.starts_with("blobs");
    for (path, bytes) in before.iter().filter(|(p, _)| public(p)) {
        match after.get(path) {
            Some(theirs) => assert_eq!(theirs, bytes, "{}", path.display()),
            None => assert!(
                superseded(path, bytes, &back),
                "{} is missing from the migrated copy",
                path.display()
            ),
        }
    }
    for path in after.keys().filter(|p| public(p)) {
        assert!(
            before.contains_key(path),
            "{} is in the migrated copy only",
            path.display()
        );
    }
    ok(&["audit", s(&back), "--key", &reg.vkey]);

    // `serve` from the database: it answers /checkpoint, and follows a new append.
    let mut child = Command::new(sijil_bin())
        .args(["serve", &url, "--cache"])
        .arg(reg.tmp.path().join("cache"))
        .args(["--key", &reg.vkey, "--listen", "127.0.0.1:0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sijil serve starts");
    let addr = crate::net::listening_on(&mut child);
    let served = crate::net::get(addr, "/checkpoint");
    assert_eq!(served.status, 200);
    assert_eq!(served.body, original);

    let copy = reg.tmp.path().join("copy");
    std::fs::create_dir_all(copy.join("private")).expect("mkdir");
    std::fs::copy(
        reg.dir.join("private/log.key"),
        copy.join("private/log.key"),
    )
    .expect("copy the log key");
    ok(&[
        "append",
        &url,
        "--private",
        s(&copy),
        "--key",
        s(&reg.officer_key),
        s(&reg.events("2.jsonl", &[complaint("M-4")])),
    ]);
    let now = db_checkpoint(&pg);
    assert!(size_of(&now) > size_of(&original));
    let start = Instant::now();
    loop {
        let served = crate::net::get(addr, "/checkpoint");
        if served.body == now {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the server still serves size {} instead of {}",
            size_of(&served.body),
            size_of(&now)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A cluster under `root`, and a register created in it by `sijil init --publish ROOT/public`
/// (`None` where PostgreSQL is absent and skipping is allowed).
fn published_database(test: &str, root: &Path) -> Option<(Cluster, Db, PathBuf)> {
    let pg = cluster(test, &root.join("pg"))?;
    let public = root.join("public");
    let db = Db::init(&pg.url(), root, Some(&public));
    Some((pg, db, public))
}

/// The publication `public` holds the database's checkpoint (each command published what it
/// committed) and audits clean.
fn assert_published_as_committed(pg: &Cluster, db: &Db, public: &Path) {
    assert_eq!(
        std::fs::read(public.join("checkpoint")).expect("published checkpoint"),
        db_checkpoint(pg),
        "the publication's checkpoint is the database's"
    );
    ok(&["audit", s(public), "--key", &db.vkey]);
}

/// A sequencer on a register in the database takes officers' submissions beside another
/// writer on another copy: a head asked after that writer's batch is the database's, and
/// the next submission commits after it; every event is in the register once, no checkpoint
/// forks, the publication is the database's and audits clean; `--witness` is refused.
#[test]
fn issue14_a_sequencer_on_the_database_takes_submissions_beside_other_writers() {
    const TEST: &str = "issue14_a_sequencer_on_the_database_takes_submissions_beside_other_writers";
    let tmp = tempfile::tempdir().expect("tmp");
    let Some((pg, db, public)) = published_database(TEST, tmp.path()) else {
        return;
    };
    let url = db.url.clone();
    let refused = sijil(&[
        "sequencer",
        &url,
        "--private",
        s(&db.first),
        "--listen",
        "127.0.0.1:0",
        "--witness",
        &format!("http://127.0.0.1:9/={}", db.vkey),
    ]);
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("--witness with a postgres://"), "{why}");

    let sequencer = crate::fixture_server::Daemon::sequencer(&url, &["--private", s(&db.first)]);
    let officer_dir = tmp.path().join("officer");
    std::fs::create_dir_all(&officer_dir).expect("mkdir");
    let submit = |name: &str, cases: &[String]| {
        let path = events(&officer_dir.join(name), cases);
        let out = sijil(&[
            "submit",
            &sequencer.url,
            s(&path),
            "--key",
            s(&db.officer),
            "--json",
        ]);
        assert!(
            out.status.success(),
            "sijil submit {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let cases = |tag: &str| -> Vec<String> { (0..3).map(|i| format!("{tag}-{i}")).collect() };
    submit("1.jsonl", &cases("SEQ-A"));
    // Another writer, on another copy: the sequencer's copy is now behind the database.
    let other = db.new_copy(&tmp.path().join("c1"));
    db.append_ok(
        &url,
        &other,
        &events(&tmp.path().join("2.jsonl"), &cases("APP-B")),
    );
    submit("3.jsonl", &cases("SEQ-C"));

    // The head an officer asks for after another writer's batch is the database's.
    db.append_ok(
        &url,
        &other,
        &events(&tmp.path().join("4.jsonl"), &cases("APP-D")),
    );
    let addr = sequencer
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("the sequencer's address");
    let head = crate::net::get(addr, "/api/v1/submit/head");
    assert_eq!(head.status, 200);
    let head: serde_json::Value = serde_json::from_slice(&head.body).expect("head JSON");
    assert_eq!(
        head["tree_size"].as_u64(),
        Some(size_of(&db_checkpoint(&pg))),
        "the head is the database's, not the copy's of before"
    );
    submit("5.jsonl", &cases("SEQ-E"));
    drop(sequencer);

    let all: Vec<String> = ["SEQ-A", "APP-B", "SEQ-C", "APP-D", "SEQ-E"]
        .iter()
        .flat_map(|t| cases(t))
        .collect();
    let found = cases_in_db(&db, &url, &tmp.path().join("cache"));
    assert_exactly_once(&found, &all, &all);
    assert_eq!(found.len(), all.len());
    assert_no_fork(
        &pg,
        &tmp.path().join("cache"),
        &db.verifier(),
        &db_checkpoint(&pg),
    );
    // The last batch was the sequencer's, published after its commit.
    assert_published_as_committed(&pg, &db, &public);
}

/// `sijil import` and `sijil officers rotate` commit to a register in the database through a
/// copy, as `append` does: each first adopts what another writer committed, and publishes.
#[test]
fn issue14_import_and_officers_rotate_take_the_database() {
    const TEST: &str = "issue14_import_and_officers_rotate_take_the_database";
    let tmp = tempfile::tempdir().expect("tmp");
    let Some((pg, db, public)) = published_database(TEST, tmp.path()) else {
        return;
    };
    let url = db.url.clone();
    let other = db.new_copy(&tmp.path().join("c1"));
    let karim = tmp.path().join("karim.key");
    let public_key = keygen("karim", &karim);
    let auth = tmp.path().join("karim.jsonl");
    std::fs::write(
        &auth,
        format!(
            r#"{{"type":"OfficerAuthorized","officer":{{"key":"{public_key}","name":"karim","role":"clerk"}}}}"#
        ),
    )
    .expect("write");
    db.append_ok(&url, &other, &auth);

    // Import through the first copy, behind the database by the other copy's batch.
    let cases = tmp.path().join("cases.csv");
    std::fs::write(
        &cases,
        "case,controller_id,controller_name,categories,opened_on,opening,summary\n\
         2024-0001,acme,ACME SARL,privacy,2024-01-08,complaint,Faux profil\n",
    )
    .expect("write");
    let events_csv = tmp.path().join("events.csv");
    std::fs::write(
        &events_csv,
        "case,type,date,place,due_on,sanction,amount_mad,legal_basis,outcome,authorities,to,decision_number,court,by,ruling,target,field,value,text\n\
         2024-0001,HearingHeld,2024-02-12,Rabat,,,,,,,,,,,,,,,\n",
    )
    .expect("write");
    let officer = s(&db.officer).to_string();
    let out = ok(&[
        "import",
        &url,
        "--private",
        s(&db.first),
        "--key",
        &officer,
        s(&cases),
        s(&events_csv),
    ]);
    assert!(out.starts_with("Imported 2 events"), "{out}");

    // Rotate karim's key through the other copy, behind by the import.
    let karim2 = tmp.path().join("karim-2.key");
    ok(&["keygen", "karim", "--out", s(&karim2)]);
    let out = ok(&[
        "officers",
        "rotate",
        &url,
        "--private",
        s(&other),
        "--key",
        &officer,
        "--officer",
        "karim",
        "--new-key",
        s(&karim2),
        "--reason",
        "rotation",
    ]);
    assert!(out.starts_with("Rotated karim's key:"), "{out}");

    let found = cases_in_db(&db, &url, &tmp.path().join("cache"));
    assert_eq!(found.get("2024-0001"), Some(&2), "{found:?}");
    assert_no_fork(
        &pg,
        &tmp.path().join("cache"),
        &db.verifier(),
        &db_checkpoint(&pg),
    );
    assert_published_as_committed(&pg, &db, &public);
}
