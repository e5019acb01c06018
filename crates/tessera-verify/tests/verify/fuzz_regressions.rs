//! Replays what the fuzzers keep: `fuzz/regressions/<target>/` (inputs that once crashed a
//! target, fixed since) and the seed corpora `fuzz/corpus/<target>/`, through the very
//! harness code the fuzz targets run (`fuzz/harness/*.rs`), so `cargo test` keeps every
//! finding fixed without nightly or libFuzzer.

use std::path::{Path, PathBuf};

#[path = "../../../../fuzz/harness/authorization_header.rs"]
mod authorization_header;
#[path = "../../../../fuzz/harness/verify_token.rs"]
mod verify_token;

/// Every file kept for `target`, regressions first; dot files and READMEs are skipped.
fn kept_inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut inputs = Vec::new();
    for dir in ["regressions", "corpus"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy();
            if name.starts_with('.') || name.starts_with("README") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            inputs.push((path, bytes));
        }
    }
    inputs
}

#[test]
fn verify_token_inputs_replay_without_failure() {
    let harness = verify_token::VerifyHarness::new();
    let inputs = kept_inputs("verify_token");
    assert!(!inputs.is_empty(), "no seed corpus for verify_token");
    let accepted = inputs
        .iter()
        .filter(|(path, bytes)| {
            eprintln!("replaying {}", path.display());
            harness.run(bytes)
        })
        .count();
    // The seeds include valid tokens: the harness is not vacuously refusing everything.
    assert!(accepted > 0, "no kept input was ever accepted");
}

#[test]
fn authorization_header_inputs_replay_without_failure() {
    let harness = authorization_header::AuthorizationHarness::new();
    let inputs = kept_inputs("authorization_header");
    assert!(
        !inputs.is_empty(),
        "no seed corpus for authorization_header"
    );
    for (path, bytes) in &inputs {
        eprintln!("replaying {}", path.display());
        harness.run(bytes);
    }
}
