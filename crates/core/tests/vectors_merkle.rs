//! The public Merkle tree vectors in `../shared/vectors/merkle` (its README names the
//! sources): the RFC 6962 reference values, the transparency-dev/merkle proof probes and a
//! real Certificate Transparency tree (Google's argon2020, 961,984,011 leaves).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;
use sijil_core::merkle::{
    check_consistency, check_inclusion, prove_consistency, prove_inclusion, tree_hash, MerkleError,
};
use sijil_core::{empty_root, leaf_hash, node_hash, sha256, Hash, MemoryHashes};

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex_hash(v: &Value) -> Hash {
    v.as_str()
        .and_then(Hash::from_hex)
        .unwrap_or_else(|| panic!("not a hex hash: {v}"))
}

fn hex_hashes(v: &Value) -> Vec<Hash> {
    v.as_array()
        .expect("array of hex hashes")
        .iter()
        .map(hex_hash)
        .collect()
}

fn b64_hash(s: &str) -> Hash {
    Hash::from_base64(s).unwrap_or_else(|| panic!("not a base64 hash: {s}"))
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

/// A hash from the probe files, or `None` when it is not 32 bytes: some are deliberately
/// not ("" or "ZG9uJ3QgY2FyZSAx", "don't care 1"), and `Hash::from_base64` rejects them, so a
/// typed API never sees them: the claim is rejected when parsed.
fn probe_hash(v: &Value) -> Option<Hash> {
    let s = v.as_str().expect("base64 string");
    BASE64.decode(s).expect("valid base64");
    Hash::from_base64(s)
}

/// A root that is not 32 bytes, for the one check that only compares two roots (equal sizes,
/// empty proof): a stand-in no real hash equals, equal exactly when the strings are.
fn stand_in(v: &Value) -> Hash {
    probe_hash(v).unwrap_or_else(|| {
        let bytes = BASE64.decode(v.as_str().expect("base64")).expect("base64");
        sha256(&[&b"sijil test: not a 32-byte hash\0"[..], &bytes].concat())
    })
}

fn probe_proof(v: &Value) -> Option<Vec<Hash>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items.iter().map(probe_hash).collect(),
        other => panic!("proof is not an array: {other}"),
    }
}

/// Runs one transparency-dev probe: `Err` if it is rejected (when parsed or when checked).
fn run_probe(name: &str, case: &Value) -> Result<(), String> {
    if name.contains("/inclusion/") {
        let (Some(proof), Some(root), Some(leaf)) = (
            probe_proof(&case["proof"]),
            probe_hash(&case["root"]),
            probe_hash(&case["leafHash"]),
        ) else {
            return Err("not a 32-byte hash".into());
        };
        check_inclusion(
            &proof,
            u64_of(&case["treeSize"]),
            &root,
            u64_of(&case["leafIdx"]),
            &leaf,
        )
        .map_err(|e| e.to_string())
    } else {
        let (size1, size2) = (u64_of(&case["size1"]), u64_of(&case["size2"]));
        let Some(proof) = probe_proof(&case["proof"]) else {
            return Err("not a 32-byte hash".into());
        };
        let (root1, root2) = match (probe_hash(&case["root1"]), probe_hash(&case["root2"])) {
            (Some(r1), Some(r2)) => (r1, r2),
            _ if size1 == size2 && proof.is_empty() => {
                (stand_in(&case["root1"]), stand_in(&case["root2"]))
            }
            _ => return Err("not a 32-byte hash".into()),
        };
        check_consistency(&proof, size1, &root1, size2, &root2).map_err(|e| e.to_string())
    }
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn flip(proof: &[Hash], i: usize, byte: usize) -> Vec<Hash> {
    let mut p = proof.to_vec();
    p[i].0[byte] ^= 0x80;
    p
}

#[test]
fn rfc6962_reference() {
    let Some(dir) = common::vectors_dir("merkle/rfc6962-reference.json") else {
        return;
    };
    let v = read_json(&dir.join("merkle/rfc6962-reference.json"));

    for kat in v["hasher_kats"].as_array().expect("hasher_kats") {
        let desc = kat["desc"].as_str().expect("desc");
        let got = if desc == "empty tree root" {
            empty_root()
        } else if let Some(leaf) = kat["leaf_hex"].as_str() {
            leaf_hash(&hex::decode(leaf).expect("leaf hex"))
        } else if let Some(leaf) = kat["leaf_ascii"].as_str() {
            leaf_hash(leaf.as_bytes())
        } else {
            // node_hash takes two 32-byte hashes; this KAT hashes 4-byte strings, so check
            // the same construction, SHA-256(0x01 ‖ left ‖ right), by hand.
            let left = hex::decode(kat["left_hex"].as_str().expect("left")).expect("hex");
            let right = hex::decode(kat["right_hex"].as_str().expect("right")).expect("hex");
            sha256(&[&[1u8][..], &left, &right].concat())
        };
        match kat["want"].as_str() {
            Some(want) => assert_eq!(got.to_hex(), want, "{desc}"),
            None => assert_eq!(
                got.to_base64(),
                kat["want_base64"].as_str().expect("want"),
                "{desc}"
            ),
        }
    }
    // node_hash itself on 32-byte inputs, against the tree of two leaves.
    let leaves = hex_hashes(&v["leaf_hashes_hex"]);
    assert_eq!(
        node_hash(&leaves[0], &leaves[1]),
        hex_hash(&v["root_by_size_hex"]["2"])
    );

    let inputs: Vec<Vec<u8>> = v["leaf_inputs_hex"]
        .as_array()
        .expect("leaf inputs")
        .iter()
        .map(|h| hex::decode(h.as_str().expect("hex")).expect("hex"))
        .collect();
    assert_eq!(
        inputs.iter().map(|i| leaf_hash(i)).collect::<Vec<_>>(),
        leaves
    );
    let tree = MemoryHashes::from_leaves(leaves.iter().copied());
    let mut roots = Vec::new();
    for size in 0..=8u64 {
        let want = hex_hash(&v["root_by_size_hex"][size.to_string()]);
        assert_eq!(tree_hash(size, &tree), Ok(want), "root of size {size}");
        roots.push(want);
    }

    let inclusions = v["inclusion_proofs"].as_array().expect("inclusion_proofs");
    assert_eq!(inclusions.len(), 7);
    for case in inclusions {
        let (i, size) = (u64_of(&case["leaf_index"]), u64_of(&case["tree_size"]));
        let want = hex_hashes(&case["proof_hex"]);
        assert_eq!(
            prove_inclusion(size, i, &tree).as_ref(),
            Ok(&want),
            "inclusion {i} of {size}"
        );
        let root = &roots[size as usize];
        let leaf = &leaves[i as usize];
        check_inclusion(&want, size, root, i, leaf).expect("inclusion verifies");
        for h in 0..want.len() {
            assert!(check_inclusion(&flip(&want, h, 31), size, root, i, leaf).is_err());
        }
        assert!(check_inclusion(&want, size, root, i ^ 1, leaf).is_err());
        // Only sizes that change the path's shape can fail: a proof binds the size no
        // further (a checkpoint signs size and root together).
        assert!(check_inclusion(&want, size * 2, root, i, leaf).is_err() || size == 1);
        assert!(check_inclusion(&want, size, &roots[0], i, leaf).is_err());
    }

    let consistencies = v["consistency_proofs"]
        .as_array()
        .expect("consistency_proofs");
    assert_eq!(consistencies.len(), 5);
    for case in consistencies {
        let (old, new) = (u64_of(&case["size1"]), u64_of(&case["size2"]));
        let want = hex_hashes(&case["proof_hex"]);
        assert_eq!(
            prove_consistency(old, new, &tree).as_ref(),
            Ok(&want),
            "consistency {old} to {new}"
        );
        let (old_root, new_root) = (&roots[old as usize], &roots[new as usize]);
        check_consistency(&want, old, old_root, new, new_root).expect("consistency verifies");
        for h in 0..want.len() {
            assert!(check_consistency(&flip(&want, h, 0), old, old_root, new, new_root).is_err());
        }
        assert!(check_consistency(&want, old, new_root, new, old_root).is_err() || old == new);
        assert!(check_consistency(&want, old, old_root, new, &roots[0]).is_err());
    }
}

#[test]
fn transparency_dev_probes() {
    let Some(dir) = common::vectors_dir("merkle/transparency-dev-testdata") else {
        return;
    };
    let mut files = Vec::new();
    json_files(&dir.join("merkle/transparency-dev-testdata"), &mut files);
    assert_eq!(files.len(), 196, "probe files (README: 196)");

    let (mut inclusion, mut consistency, mut rejected) = (0, 0, 0);
    for path in &files {
        let case = read_json(path);
        let want_err = case["wantErr"].as_bool().expect("wantErr");
        let name = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .display()
            .to_string();
        if name.contains("/inclusion/") {
            inclusion += 1;
        } else {
            consistency += 1;
        }
        let result = run_probe(&name, &case);
        match (want_err, &result) {
            (false, Ok(())) => {}
            (true, Err(_)) => rejected += 1,
            _ => panic!(
                "{name} ({}): wantErr {want_err}, got {result:?}",
                case["desc"]
            ),
        }
    }
    assert!(inclusion > 0 && consistency > 0);
    assert!(
        rejected > 150,
        "most probes are mutations that must fail ({rejected})"
    );
    eprintln!(
        "transparency-dev: {inclusion} inclusion and {consistency} consistency probes, {rejected} rejected as expected"
    );
}

#[test]
fn transparency_dev_probes_fail_for_the_right_reason() {
    let Some(dir) = common::vectors_dir("merkle/transparency-dev-testdata") else {
        return;
    };
    let base = dir.join("merkle/transparency-dev-testdata");
    let run = |file: &str| {
        let case = read_json(&base.join(file));
        let proof = probe_proof(&case["proof"]).expect("32-byte hashes");
        check_consistency(
            &proof,
            u64_of(&case["size1"]),
            &stand_in(&case["root1"]),
            u64_of(&case["size2"]),
            &stand_in(&case["root2"]),
        )
    };
    assert_eq!(
        run("consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json"),
        Err(MerkleError::BadSizes {
            old_size: 0,
            new_size: 0
        })
    );
    assert_eq!(
        run("consistency/additional/sizes-match-but-proof-is-not-empty-and-sizes-are-one.json"),
        Err(MerkleError::BadProofLength {
            expected: 0,
            got: 1
        })
    );
    assert_eq!(
        run("consistency/additional/sizes-are-equal-one-but-roots-are-not.json"),
        Err(MerkleError::Inconsistent {
            old_size: 1,
            new_size: 1
        })
    );
    assert_eq!(
        run("consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"),
        Ok(())
    );
    assert!(matches!(
        run("consistency/1/truncated-proof.json"),
        Err(MerkleError::BadProofLength { .. })
    ));
}

#[test]
fn ct_argon2020() {
    let Some(dir) = common::vectors_dir("merkle/ct-argon2020") else {
        return;
    };
    let dir = dir.join("merkle/ct-argon2020");
    let readme = read_json(&dir.join("README.json"));
    let tree_size = u64_of(&readme["tree_size"]);
    let leaf_index = u64_of(&readme["leaf_index"]);
    let old_size = u64_of(&readme["old_size"]);
    let root = b64_hash(readme["root_b64"].as_str().expect("root"));
    // "AuIZ…KBQ= (from golang/mod sumdb/tlog/ct_test.go)": the hash is the first word.
    let old_root = b64_hash(
        readme["old_root_b64"]
            .as_str()
            .and_then(|s| s.split(' ').next())
            .expect("old root"),
    );
    let sth = read_json(&dir.join("get-sth.json"));
    assert_eq!(u64_of(&sth["tree_size"]), tree_size);
    assert_eq!(
        b64_hash(sth["sha256_root_hash"].as_str().expect("sth root")),
        root
    );

    let entries = read_json(&dir.join("get-entries-start-10000-end-10000.json"));
    let leaf_input = BASE64
        .decode(
            entries["entries"][0]["leaf_input"]
                .as_str()
                .expect("leaf_input"),
        )
        .expect("base64");
    let leaf = leaf_hash(&leaf_input);
    assert_eq!(
        leaf,
        b64_hash(readme["leaf_hash_b64"].as_str().expect("leaf hash"))
    );

    let b64_list = |v: &Value| -> Vec<Hash> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|h| b64_hash(h.as_str().expect("b64")))
            .collect()
    };
    let inclusion = read_json(&dir.join("get-proof-by-hash-tree-size-961984011-leaf-10000.json"));
    assert_eq!(u64_of(&inclusion["leaf_index"]), leaf_index);
    let audit_path = b64_list(&inclusion["audit_path"]);
    assert_eq!(audit_path.len(), 30);
    check_inclusion(&audit_path, tree_size, &root, leaf_index, &leaf)
        .expect("inclusion of leaf 10000");
    for i in 0..audit_path.len() {
        assert_eq!(
            check_inclusion(
                &flip(&audit_path, i, i),
                tree_size,
                &root,
                leaf_index,
                &leaf
            ),
            Err(MerkleError::InclusionMismatch {
                leaf_index,
                tree_size
            })
        );
    }
    assert!(check_inclusion(&audit_path, tree_size, &root, leaf_index + 1, &leaf).is_err());
    // As the probes do: a size with another path shape fails (±1 need not, here).
    assert!(check_inclusion(&audit_path, tree_size / 2, &root, leaf_index, &leaf).is_err());
    assert!(check_inclusion(&audit_path, tree_size * 2, &root, leaf_index, &leaf).is_err());
    assert!(check_inclusion(&audit_path, tree_size, &old_root, leaf_index, &leaf).is_err());
    assert!(matches!(
        check_inclusion(&audit_path[..29], tree_size, &root, leaf_index, &leaf),
        Err(MerkleError::BadProofLength {
            expected: 30,
            got: 29
        })
    ));

    let consistency =
        read_json(&dir.join("get-sth-consistency-first-3654490-second-961984011.json"));
    let proof = b64_list(&consistency["consistency"]);
    assert_eq!(proof.len(), 30);
    check_consistency(&proof, old_size, &old_root, tree_size, &root)
        .expect("consistency 3,654,490 to 961,984,011");
    for i in 0..proof.len() {
        assert_eq!(
            check_consistency(
                &flip(&proof, i, 31 - i),
                old_size,
                &old_root,
                tree_size,
                &root
            ),
            Err(MerkleError::Inconsistent {
                old_size,
                new_size: tree_size
            })
        );
    }
    assert!(check_consistency(&proof, old_size, &root, tree_size, &old_root).is_err());
    assert!(check_consistency(&proof, old_size + 1, &old_root, tree_size, &root).is_err());
    assert!(check_consistency(&proof, old_size, &old_root, tree_size * 2, &root).is_err());
}
