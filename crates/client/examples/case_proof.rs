//! Measures issue 10's case completeness proofs on a real register directory: the size of the
//! proof material a visitor downloads, the time to verify it natively, and what replaying
//! the index costs an auditor. Used by `scripts/bench-case-proof` (docs/PERFORMANCE.md).
//!
//!     cargo run --release -p sijil-client --example case_proof -- DIR VKEY-FILE [CASE…]
//!
//! Without CASE, 200 cases spread over the register are measured.

use std::time::Instant;

use sijil_client::case::{case_from_dir, verify_case_answer, CaseOutcome};
use sijil_core::note::Verifier;
use sijil_index::Index;
use sijil_register::RegisterReader;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(vkey)) = (args.first(), args.get(1)) else {
        eprintln!("usage: case_proof DIR VKEY-FILE [CASE…]");
        std::process::exit(2);
    };
    let vkey = std::fs::read_to_string(vkey).unwrap_or_else(|e| fail(&format!("{vkey}: {e}")));
    let verifier: Verifier = vkey
        .trim()
        .parse()
        .unwrap_or_else(|e| fail(&format!("verifier key: {e}")));
    let t = Instant::now();
    let reader = RegisterReader::open(std::path::Path::new(dir), Some(verifier.clone()))
        .unwrap_or_else(|e| fail(&e.to_string()));
    let cp = reader.checkpoint().clone();
    println!(
        "register {dir}: {} entries, {} index keys; opened in {:.2} s",
        cp.checkpoint.size,
        reader.view().index().keys(),
        t.elapsed().as_secs_f64()
    );
    let ids: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        let all = reader.view().case_ids();
        let step = (all.len() / 200).max(1);
        all.into_iter().step_by(step).take(200).collect()
    };
    let mut rows: Vec<Row> = Vec::new();
    for id in &ids {
        let answer = case_from_dir(&reader, id).unwrap_or_else(|e| fail(&e.to_string()));
        let material = serde_json::json!({
            "checkpoint": {"text": answer.checkpoint.text},
            "entries": answer.entries,
            "completeness": answer.completeness,
        })
        .to_string();
        // Verify many times; report the median.
        let mut times = Vec::new();
        for _ in 0..25 {
            let t = Instant::now();
            let parsed: sijil_client::case::CaseAnswer =
                serde_json::from_str(&material).unwrap_or_else(|e| fail(&e.to_string()));
            match verify_case_answer(&parsed, id, &cp, &verifier) {
                Ok(CaseOutcome::Found(_)) => {}
                other => fail(&format!("case {id}: {other:?}")),
            }
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let signers: usize = answer
            .completeness
            .signers
            .iter()
            .map(|s| s.entries.len())
            .sum();
        let member = serde_json::to_string(&answer.completeness).map_or(0, |j| j.len());
        rows.push((
            answer.entries.len(),
            material.len(),
            times[times.len() / 2],
            signers,
            format!(
                "{id} (raw {} B; completeness member {member} B)",
                raw_bytes(&answer)
            ),
        ));
    }
    rows.sort_by_key(|r| (r.0, r.1));
    println!("entries  proof bytes (JSON)  verify ms (median of 25, parse included)  officer entries  case");
    let mut by_len: std::collections::BTreeMap<usize, Vec<&Row>> = Default::default();
    for r in &rows {
        by_len.entry(r.0).or_default().push(r);
    }
    for (len, rs) in &by_len {
        let max_bytes = rs.iter().map(|r| r.1).max().unwrap_or(0);
        let max_ms = rs.iter().map(|r| r.2).fold(0.0, f64::max);
        println!(
            "{len:>7}  {max_bytes:>18} (max of {} cases)  {max_ms:>8.3} (max)  {:>15}  e.g. {}",
            rs.len(),
            rs[0].3,
            rs[0].4
        );
    }

    // What the index adds to an audit: applying every entry to a fresh index.
    let size = cp.checkpoint.size;
    let t = Instant::now();
    let mut entries = Vec::new();
    let mut at = 0;
    while at < size {
        let end = (at + 65_536).min(size);
        entries.extend(
            reader
                .entries(at, end)
                .unwrap_or_else(|e| fail(&e.to_string()))
                .into_iter()
                .map(|se| (se.entry, se.leaf)),
        );
        at = end;
    }
    let read = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut index = Index::new();
    for (seq, (entry, leaf)) in entries.iter().enumerate() {
        // As the projector does: the trie is brought up to date at each commitment.
        if let sijil_core::Event::IndexCommitted(_) = entry.event {
            index.flush();
        }
        index
            .apply(seq as u64, leaf, entry)
            .unwrap_or_else(|e| fail(&e.to_string()));
    }
    index.flush();
    let replay = t.elapsed().as_secs_f64();
    assert_eq!(index.root(), reader.view().index().root());
    println!(
        "index replay over {size} entries: {replay:.2} s ({:.2} µs/entry; reading the entries took {read:.2} s); root matches the view's",
        replay * 1e6 / size as f64
    );
}

/// The proof material in binary: entry bytes, 32 bytes per hash, a trie node as its bit
/// count, label bytes and value, the seqs as 8 bytes each, and the checkpoint note.
fn raw_bytes(a: &sijil_client::case::CaseAnswer) -> usize {
    use base64::Engine as _;
    let entry = |p: &sijil_index::completeness::ProvenEntry| {
        base64::engine::general_purpose::STANDARD
            .decode(&p.bytes)
            .map_or(0, |b| b.len())
            + 32 * p.inclusion_proof.len()
    };
    let trie = |t: &sijil_index::completeness::TrieProofJson| {
        t.end
            .iter()
            .chain(t.siblings.iter().flatten())
            .map(|n| 2 + n.label.len() / 2 + 32)
            .sum::<usize>()
            + t.siblings.len()
    };
    let c = &a.completeness;
    a.checkpoint.text.len()
        + a.entries.iter().map(entry).sum::<usize>()
        + entry(&c.index)
        + trie(&c.trie_proof)
        + 8 * c.seqs.as_ref().map_or(0, Vec::len)
        + c.signers
            .iter()
            .map(|s| {
                32 + 8 * s.seqs.len()
                    + s.entries.iter().map(entry).sum::<usize>()
                    + trie(&s.trie_proof)
            })
            .sum::<usize>()
}

/// Entries, proof bytes, verify ms, officer entries, case id.
type Row = (usize, usize, f64, usize, String);

fn fail(msg: &str) -> ! {
    eprintln!("case_proof: {msg}");
    std::process::exit(1);
}
