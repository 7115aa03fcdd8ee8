//! Issue 5: the witness (C2SP tlog-witness), the register's cosigning, witness quorums, and
//! a log that rewrites history caught by verify, mirror and the witness.

use std::path::{Path, PathBuf};

use sijil_core::checkpoint::Checkpoint;
use sijil_core::merkle::prove_consistency;
use sijil_core::note::Note;
use sijil_core::storage::{DirTiles, Layout};
use sijil_core::tile::TileHashReader;
use sijil_core::{sha256, Hash};

use crate::fixture_server::{request, Daemon, FixtureServer};
use crate::util::{complaint, copy_dir, fails, hearing, ok, s, sijil, Register};

fn events(reg: &Register, name: &str, prefix: &str, n: usize) -> PathBuf {
    let mut lines: Vec<String> = (0..n)
        .map(|i| complaint(&format!("{prefix}-{i:04}")))
        .collect();
    lines.extend((0..n).map(|i| hearing(&format!("{prefix}-{i:04}"))));
    reg.events(name, &lines)
}

/// A cosigner key in `dir`: (private key file, verifier key).
pub fn witness_key(dir: &Path, name: &str) -> (PathBuf, String) {
    let file = dir.join(format!("{}.key", name.replace('/', "_")));
    let out = ok(&["keygen", name, "--out", s(&file), "--cosigner"]);
    let vkey = out
        .lines()
        .find_map(|l| l.strip_prefix("verifier key: "))
        .expect("a verifier key")
        .trim()
        .to_string();
    (file, vkey)
}

pub fn start_witness(key: &Path, logs: &[&str], state: &Path) -> Daemon {
    let mut args = vec![
        "witness",
        "--key",
        s(key),
        "--listen",
        "127.0.0.1:0",
        "--state",
        s(state),
    ];
    for l in logs {
        args.extend(["--log", l]);
    }
    Daemon::start(&args)
}

fn checkpoint(dir: &Path) -> (Vec<u8>, Checkpoint) {
    let bytes = std::fs::read(dir.join("checkpoint")).expect("checkpoint");
    let note = Note::parse(&bytes).expect("a note");
    let cp = Checkpoint::parse(&note.text).expect("a checkpoint");
    (bytes, cp)
}

fn body(old: u64, proof: &[Hash], cp: &[u8]) -> Vec<u8> {
    let mut b = format!("old {old}\n").into_bytes();
    for h in proof {
        b.extend_from_slice(h.to_base64().as_bytes());
        b.push(b'\n');
    }
    b.push(b'\n');
    b.extend_from_slice(cp);
    b
}

fn evidence_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn issue5_witness_answers_add_checkpoint_as_the_spec_says() {
    let reg = Register::new();
    reg.append(&events(&reg, "a.jsonl", "2024", 5));
    let (key, wvkey) = witness_key(reg.tmp.path(), "witness.example/w1");
    let state = reg.tmp.path().join("witness-state");
    let w = start_witness(&key, &[&reg.vkey], &state);
    let (cp_bytes, cp) = checkpoint(&reg.dir);
    let post = |b: &[u8]| request(w.addr(), "POST", "/add-checkpoint", b);

    let (status, _, answer) = post(&body(0, &[], &cp_bytes));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let line = String::from_utf8(answer).expect("utf-8");
    assert!(
        line.starts_with("— witness.example/w1 ") && line.ends_with('\n'),
        "{line:?}"
    );
    // 409 tells the size it holds, as text/x.tlog.size.
    let (status, ctype, answer) = post(&body(0, &[], &cp_bytes));
    assert_eq!(
        (status, ctype.as_str(), answer),
        (
            409,
            "text/x.tlog.size",
            format!("{}\n", cp.size).into_bytes()
        )
    );
    // The same checkpoint again, from its size: cosigned again.
    assert_eq!(post(&body(cp.size, &[], &cp_bytes)).0, 200);
    // old > size, malformed bodies: 400.
    assert_eq!(post(&body(cp.size + 1, &[], &cp_bytes)).0, 400);
    assert_eq!(post(b"old 01\n\n").0, 400);
    assert_eq!(post(b"hello").0, 400);
    // Another log: 404. A flipped signature byte by the trusted key: 403.
    let other = reg.tmp.path().join("other");
    ok(&["init", s(&other), "--origin", "other.example/log"]);
    assert_eq!(post(&body(0, &[], &checkpoint(&other).0)).0, 404);
    // The same origin signed by another key: 403.
    let impostor = Register::new();
    assert_eq!(
        post(&body(cp.size, &[], &checkpoint(&impostor.dir).0)).0,
        403
    );
    let mut forged = cp_bytes.clone();
    let at = forged.len() - 10;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    assert_eq!(post(&body(cp.size, &[], &forged)).0, 403);

    // The log grows: a wrong proof or none is 422; the right one (from the register's tiles)
    // is cosigned.
    reg.append(&events(&reg, "b.jsonl", "2025", 3));
    let (new_bytes, new) = checkpoint(&reg.dir);
    let tiles = DirTiles::new(Layout::new(&reg.dir));
    let proof = prove_consistency(
        cp.size,
        new.size,
        &TileHashReader::new(new.size, new.root, &tiles),
    )
    .expect("proof");
    let mut wrong = proof.clone();
    wrong[0] = Hash([7; 32]);
    assert_eq!(post(&body(cp.size, &wrong, &new_bytes)).0, 422);
    assert_eq!(post(&body(cp.size, &[], &new_bytes)).0, 422);
    assert_eq!(post(&body(cp.size, &proof, &new_bytes)).0, 200);

    // Persisted: a restarted witness still holds the new size, and serves the cosigned
    // checkpoint at /<origin hash>/checkpoint.
    drop(w);
    let w = start_witness(&key, &[&reg.vkey], &state);
    let (status, _, answer) = request(
        w.addr(),
        "POST",
        "/add-checkpoint",
        &body(0, &[], &new_bytes),
    );
    assert_eq!(
        (status, answer),
        (409, format!("{}\n", new.size).into_bytes())
    );
    let hash = sha256(new.origin.as_bytes()).to_hex();
    let (status, _, monitored) = request(w.addr(), "GET", &format!("/{hash}/checkpoint"), b"");
    assert_eq!(status, 200);
    let note = Note::parse(&monitored).expect("a note");
    assert_eq!(
        note.signatures.len(),
        2,
        "the log's signature and the witness's"
    );
    assert!(note
        .signatures
        .iter()
        .any(|sig| wvkey.starts_with(&format!("{}+", sig.name))));
    assert_eq!(
        request(
            w.addr(),
            "GET",
            &format!("/{}/checkpoint", "0".repeat(64)),
            b""
        )
        .0,
        404
    );
}

#[test]
fn issue5_cosigned_checkpoints_meet_witness_quorums() {
    let reg = Register::new();
    reg.append(&events(&reg, "a.jsonl", "2024", 20));
    let (k1, v1) = witness_key(reg.tmp.path(), "witness.example/w1");
    let (k2, v2) = witness_key(reg.tmp.path(), "witness.example/w2");
    let (_, stranger) = witness_key(reg.tmp.path(), "witness.example/w3");
    let w1 = start_witness(&k1, &[&reg.vkey], &reg.tmp.path().join("w1"));
    let w2 = start_witness(&k2, &[&reg.vkey], &reg.tmp.path().join("w2"));
    let witness = |w: &Daemon, v: &str| format!("{}={v}", w.url.trim_end_matches('/'));
    let out = ok(&[
        "cosign",
        reg.dir(),
        "--witness",
        &witness(&w1, &v1),
        "--witness",
        &witness(&w2, &v2),
    ]);
    assert!(
        out.contains("cosigned by witness.example/w1") && out.contains("3 signature lines"),
        "{out}"
    );
    let (_, cp) = checkpoint(&reg.dir);
    // The same tree with more signatures: the register still audits, and appends go on.
    ok(&["audit", reg.dir(), "--key", &reg.vkey]);
    let server = FixtureServer::start(&reg.dir);
    let state = reg.tmp.path().join("state");
    let verify = |extra: &[&str]| {
        let mut a = vec![
            "verify",
            "--key",
            reg.vkey.as_str(),
            "--state-dir",
            s(&state),
        ];
        let url = server.url();
        a.insert(1, Box::leak(url.into_boxed_str()));
        a.extend_from_slice(extra);
        sijil(&a)
    };
    let out = verify(&["--witness", &v1, "--witness", &v2]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 cosignatures verified, 2 required"));
    let out = verify(&["--witness", &v1, "--witness", &stranger, "--quorum", "2"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("quorum"));
    assert!(
        verify(&["--witness", &v1, "--witness", &stranger, "--quorum", "1"])
            .status
            .success()
    );
    // The mirror requires them too, and carries the cosigned note.
    let mdir = reg.tmp.path().join("mirror");
    ok(&[
        "mirror",
        &server.url(),
        s(&mdir),
        "--key",
        &reg.vkey,
        "--witness",
        &v1,
    ]);
    fails(
        &[
            "mirror",
            &server.url(),
            s(&reg.tmp.path().join("m2")),
            "--key",
            &reg.vkey,
            "--witness",
            &stranger,
        ],
        1,
        "quorum",
    );

    // The log grows; cosigning again goes through the 409 and a consistency proof.
    reg.append(&events(&reg, "b.jsonl", "2025", 5));
    ok(&["cosign", reg.dir(), "--witness", &witness(&w1, &v1)]);
    let (_, grown) = checkpoint(&reg.dir);
    // 10 events and the batch's IndexCommitted (docs/FORMAT.md §10.4).
    assert_eq!(grown.size, cp.size + 11);
    let out = verify(&["--witness", &v1, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    ok(&[
        "mirror",
        &server.url(),
        s(&mdir),
        "--key",
        &reg.vkey,
        "--witness",
        &v1,
    ]);
    ok(&["audit", s(&mdir), "--key", &reg.vkey]);
}

#[test]
fn issue5_a_forked_log_is_caught_by_verify_mirror_and_witness() {
    // A: the honest log. B and C: copies with the same key that then diverge (B grows past A
    // with other entries; C has A's size with other entries).
    let a = Register::new();
    a.append(&events(&a, "base.jsonl", "2024", 10));
    let b_dir = a.tmp.path().join("forked-b");
    let c_dir = a.tmp.path().join("forked-c");
    copy_dir(&a.dir, &b_dir);
    copy_dir(&a.dir, &c_dir);
    a.append(&events(&a, "a.jsonl", "2025", 5));
    let officer = |d: &Path| d.join("private/amina.key");
    ok(&[
        "append",
        s(&b_dir),
        "--key",
        s(&officer(&b_dir)),
        s(&events(&a, "b.jsonl", "2026", 8)),
    ]);
    ok(&[
        "append",
        s(&c_dir),
        "--key",
        s(&officer(&c_dir)),
        s(&events(&a, "c.jsonl", "2027", 5)),
    ]);
    assert_eq!(checkpoint(&a.dir).1.size, checkpoint(&c_dir).1.size);

    let server = FixtureServer::start(&a.dir);
    let state = a.tmp.path().join("state");
    let mdir = a.tmp.path().join("mirror");
    ok(&[
        "verify",
        &server.url(),
        "--key",
        &a.vkey,
        "--state-dir",
        s(&state),
    ]);
    ok(&["mirror", &server.url(), s(&mdir), "--key", &a.vkey]);
    let (wkey, wv) = witness_key(a.tmp.path(), "witness.example/w1");
    let wstate = a.tmp.path().join("witness");
    let w = start_witness(&wkey, &[&a.vkey], &wstate);
    let witness = format!("{}={wv}", w.url.trim_end_matches('/'));
    ok(&["cosign", a.dir(), "--witness", &witness]);
    let honest = std::fs::read(mdir.join("checkpoint")).expect("checkpoint");

    // The server now serves B, a rewritten history signed with the same key.
    server.set_root(&b_dir);
    fails(
        &[
            "verify",
            &server.url(),
            "--key",
            &a.vkey,
            "--state-dir",
            s(&state),
        ],
        3,
        "FORK",
    );
    fails(
        &["mirror", &server.url(), s(&mdir), "--key", &a.vkey],
        3,
        "FORK",
    );
    assert_eq!(
        std::fs::read(mdir.join("checkpoint")).expect("checkpoint"),
        honest,
        "the mirror did not move"
    );
    ok(&["audit", s(&mdir), "--key", &a.vkey]);
    // The forked log asks the witness to cosign: refused (422), kept as evidence by the
    // witness, and its client finds the fork too.
    fails(&["cosign", s(&b_dir), "--witness", &witness], 3, "FORK");

    // C: the same size as A with another root.
    server.set_root(&c_dir);
    fails(
        &[
            "verify",
            &server.url(),
            "--key",
            &a.vkey,
            "--state-dir",
            s(&state),
        ],
        3,
        "FORK",
    );
    fails(
        &["mirror", &server.url(), s(&mdir), "--key", &a.vkey],
        3,
        "FORK",
    );

    // Every evidence file re-checks with the log's key alone, and not with another key.
    let mut files = evidence_files(&state);
    files.extend(evidence_files(&mdir.join("private/evidence")));
    files.extend(evidence_files(&wstate.join("evidence")));
    files.extend(evidence_files(&b_dir.join("private/evidence")));
    assert_eq!(files.len(), 6, "{files:?}");
    let kinds: Vec<String> = files
        .iter()
        .map(|f| {
            let out = ok(&["evidence", "check", s(f), "--key", &a.vkey, "--json"]);
            let v: serde_json::Value = serde_json::from_str(&out).expect("json");
            assert_eq!(v["fork"], true);
            v["kind"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "same-size").count(),
        2,
        "{kinds:?}"
    );
    let stranger = Register::new();
    fails(
        &["evidence", "check", s(&files[0]), "--key", &stranger.vkey],
        1,
        "does not prove a fork",
    );
    // A tampered file proves nothing.
    let text = std::fs::read_to_string(&files[0]).expect("read");
    let tampered = a.tmp.path().join("tampered.json");
    std::fs::write(&tampered, text.replacen("\"old\"", "\"ignored\"", 1)).expect("write");
    let out = sijil(&["evidence", "check", s(&tampered), "--key", &a.vkey]);
    assert_ne!(out.status.code(), Some(0));
}

/// Polls `dir`'s checkpoint until `ready` holds of its text (at most 30 s).
fn wait_for_checkpoint(dir: &Path, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(dir.join("checkpoint")).unwrap_or_default();
        if ready(&text) {
            return text;
        }
        assert!(
            std::time::Instant::now() < until,
            "{what}: the checkpoint is still\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Issue 13: the checkpoint of a register written by `sijil sequencer` gets cosigned, which
/// `sijil cosign` cannot do beside it (both need the writer's lock): the sequencer runs the
/// rounds itself (`--witness`, `--cosign-every`), at start and after its batches, and the
/// cosigned checkpoint meets a witness quorum.
#[test]
fn issue13_the_sequencer_has_its_checkpoints_cosigned_while_it_holds_the_writer() {
    let reg = Register::new();
    reg.append(&events(&reg, "a.jsonl", "2024", 2));
    let (k1, v1) = witness_key(reg.tmp.path(), "witness.example/w1");
    let w1 = start_witness(&k1, &[&reg.vkey], &reg.tmp.path().join("w1"));
    let witness = format!("{}={v1}", w1.url.trim_end_matches('/'));
    let line = "— witness.example/w1 ";
    let size_of = |text: &str| text.lines().nth(1).unwrap_or_default().to_string();
    let before = size_of(&std::fs::read_to_string(reg.dir.join("checkpoint")).expect("cp"));
    let sequencer = Daemon::start(&[
        "sequencer",
        reg.dir(),
        "--listen",
        "127.0.0.1:0",
        "--witness",
        &witness,
        "--cosign-every",
        "1s",
    ]);
    // The first round, at start.
    let text = wait_for_checkpoint(&reg.dir, "cosigned at start", |t| t.contains(line));
    assert_eq!(size_of(&text), before);
    // `sijil cosign` cannot take the lock, and says where the cosigning happens instead.
    fails(
        &["cosign", reg.dir(), "--witness", &witness],
        2,
        "`sijil sequencer`, which holds it while it runs and cosigns the checkpoint itself",
    );
    // A batch committed by the sequencer: its new checkpoint is cosigned at the next round.
    let key = reg.tmp.path().join("amina-desk.key");
    std::fs::copy(&reg.officer_key, &key).expect("copy key");
    let batch = reg.events(
        "desk.jsonl",
        &[complaint("2024-0100"), hearing("2024-0100")],
    );
    ok(&["submit", &sequencer.url, s(&batch), "--key", s(&key)]);
    let text = wait_for_checkpoint(&reg.dir, "the new checkpoint cosigned", |t| {
        size_of(t) != before && t.contains(line)
    });
    let after: u64 = size_of(&text).parse().expect("a size");
    assert_eq!(after, before.parse::<u64>().expect("a size") + 3);
    let state = reg.tmp.path().join("verify-state");
    let out = ok(&[
        "verify",
        reg.dir(),
        "--key",
        &reg.vkey,
        "--quick",
        "--witness",
        &v1,
        "--quorum",
        "1",
        "--state-dir",
        s(&state),
    ]);
    assert!(out.contains("1 cosignatures verified, 1 required"), "{out}");
    // The witness holds the new size: it cosigned through a consistency proof.
    let (status, _, held) = request(
        w1.addr(),
        "GET",
        &format!(
            "/{}/checkpoint",
            sha256(b"registre.example.ma/test").to_hex()
        ),
        b"",
    );
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8_lossy(&held).lines().nth(1),
        Some(after.to_string().as_str())
    );
    drop(sequencer);
    // Once the sequencer is stopped, `sijil cosign` runs as before.
    let out = ok(&["cosign", reg.dir(), "--witness", &witness]);
    assert!(out.contains("cosigned by witness.example/w1"), "{out}");
}

/// Issue 14, "never roll back": a sequencer started on a register restored from an older copy
/// asks the witnesses it knows first; one that has cosigned a larger checkpoint of the log
/// stops it (exit 1, the sentence) before it signs anything. The register that is up to date
/// starts.
#[test]
fn issue14_a_sequencer_behind_its_witness_refuses_to_start() {
    let reg = Register::new();
    reg.append(&events(&reg, "a.jsonl", "2024", 3));
    let old = reg.tmp.path().join("old");
    copy_dir(&reg.dir, &old);
    reg.append(&events(&reg, "b.jsonl", "2025", 3));
    let (k1, v1) = witness_key(reg.tmp.path(), "witness.example/w1");
    let w1 = start_witness(&k1, &[&reg.vkey], &reg.tmp.path().join("w1"));
    let witness = format!("{}={v1}", w1.url.trim_end_matches('/'));
    ok(&["cosign", reg.dir(), "--witness", &witness]);
    let (before, old_cp) = checkpoint(&old);
    let (_, cp) = checkpoint(&reg.dir);
    assert!(old_cp.size < cp.size);
    let out = sijil(&[
        "sequencer",
        s(&old),
        "--listen",
        "127.0.0.1:0",
        "--witness",
        &witness,
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "refusing to sign: witness {} has cosigned this log at size {}",
            w1.url.trim_end_matches('/'),
            cp.size
        )) && err.contains("Nothing was written"),
        "{err}"
    );
    assert_eq!(checkpoint(&old).0, before, "nothing was signed");
    let _up_to_date = Daemon::start(&[
        "sequencer",
        reg.dir(),
        "--listen",
        "127.0.0.1:0",
        "--witness",
        &witness,
    ]);
}
