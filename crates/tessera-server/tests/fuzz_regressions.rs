//! Replays what the fuzzers keep for tessera-server's code — `fuzz/regressions/<target>/`
//! (inputs that once failed a target, fixed since) and the seed corpora
//! `fuzz/corpus/<target>/` — through the harness code the fuzz targets run
//! (`fuzz/harness/auth_bodies.rs`, `fuzz/harness/cookie_jar.rs`), so `cargo test` keeps
//! every finding fixed without nightly or libFuzzer. The tessera-core and tessera-verify
//! halves are replayed by those crates' own `fuzz_regressions` tests.

#![allow(clippy::expect_used)]

use tessera_core::cookie::CookieSigner;

#[path = "../../../fuzz/harness/auth_bodies.rs"]
mod auth_bodies;
#[path = "../../../fuzz/harness/cookie.rs"]
#[allow(dead_code)]
mod cookie;
#[path = "../../../fuzz/harness/cookie_jar.rs"]
mod cookie_jar;
#[path = "../../../fuzz/harness/kept.rs"]
mod kept;

use kept::kept_inputs;

#[test]
fn auth_bodies_inputs_replay_without_failure() {
    let inputs = kept_inputs("auth_bodies");
    assert!(!inputs.is_empty(), "no seed corpus for auth_bodies");
    let harness = auth_bodies::AuthBodiesHarness::new();
    for (path, bytes) in &inputs {
        eprintln!("replaying {}", path.display());
        harness.run(bytes);
    }
}

#[test]
fn cookie_header_inputs_replay_through_the_cookie_jar() {
    let signer = CookieSigner::new(cookie::COOKIE_SECRET);
    let inputs = kept_inputs("cookie_header");
    assert!(!inputs.is_empty(), "no seed corpus for cookie_header");
    for (path, bytes) in &inputs {
        eprintln!("replaying {}", path.display());
        cookie_jar::check_cookie_jar(&signer, bytes);
    }
}
