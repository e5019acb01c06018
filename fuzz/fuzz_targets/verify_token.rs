//! Arbitrary tokens, and arbitrary headers and claims signed with the configured keys,
//! through `tessera_verify::Verifier::verify`. The checks are in `harness/verify_token.rs`.
#![no_main]

#[path = "../harness/verify_token.rs"]
mod harness;

use std::sync::LazyLock;

static HARNESS: LazyLock<harness::VerifyHarness> = LazyLock::new(harness::VerifyHarness::new);

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    HARNESS.run(data);
});
