//! Replays every committed fuzz corpus (`fuzz/corpus/<target>/`) through its target's
//! function on stable: each input the fuzzer kept, and each crash it ever found, must run
//! without a panic. A missing or empty corpus fails the test (docs/FUZZING.md).

use std::path::{Path, PathBuf};
use std::time::Instant;

type Check = fn(&[u8]);

/// One test per target, replaying `fuzz/corpus/<target>/` through `sijil_fuzz_checks::<target>`,
/// and the list of targets.
macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), sijil_fuzz_checks::$target);
            }
        )*
        const TARGETS: &[&str] = &[$(stringify!($target)),*];
    };
}

replay_tests!(
    entry_bundle,
    note_checkpoint,
    cosignature_line,
    tile_path,
    proof_text,
    events_jsonl,
    http_params,
    witness_request,
    witness_rotation,
    fork_evidence,
    case_answer,
    submission,
);

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target)
}

/// The files of a corpus directory, sorted by name; panics if there are none.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} cannot be read: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    files
}

fn replay(target: &str, check: Check) {
    let files = inputs(target);
    let start = Instant::now();
    for path in &files {
        let data = std::fs::read(path).expect("reads a corpus file");
        let name = path.display().to_string();
        if let Err(panic) = std::panic::catch_unwind(|| check(&data)) {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("{target}: {name} panics: {message}");
        }
    }
    println!(
        "{target}: replayed {} inputs in {:.2?}",
        files.len(),
        start.elapsed()
    );
}

/// The names in `fuzz/<dir>`, without `suffix`, sorted.
fn names(dir: &str, suffix: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(dir);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} cannot be read: {e}", dir.display()))
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter_map(|n| n.strip_suffix(suffix).map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// Every fuzz target has a corpus and is replayed here, and every corpus is a target's.
#[test]
fn every_fuzz_target_is_replayed() {
    let mut listed: Vec<String> = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    listed.sort();
    assert_eq!(
        names("fuzz_targets", ".rs"),
        listed,
        "fuzz/fuzz_targets/ and TARGETS differ"
    );
    assert_eq!(
        names("corpus", ""),
        listed,
        "fuzz/corpus/ and TARGETS differ"
    );
}
