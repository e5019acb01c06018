//! Replays what the fuzzers keep: `fuzz/regressions/<target>/` (inputs that once crashed a
//! target, fixed since) and the seed corpora `fuzz/corpus/<target>/`, through the very
//! harness code the fuzz targets run (`fuzz/harness/*.rs`), so `cargo test` keeps every
//! finding fixed without nightly or libFuzzer.

#[path = "../../../../fuzz/harness/authorization_header.rs"]
mod authorization_header;
#[path = "../../../../fuzz/harness/kept.rs"]
mod kept;
#[path = "../../../../fuzz/harness/verify_token.rs"]
mod verify_token;

use kept::kept_inputs;

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
