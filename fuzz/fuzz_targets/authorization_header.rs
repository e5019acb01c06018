//! Arbitrary `Authorization` header values through `tessera_verify::bearer_token` and
//! `Verifier::verify_authorization`. The checks are in `harness/authorization_header.rs`.
#![no_main]

#[path = "../harness/authorization_header.rs"]
mod harness;

use std::sync::LazyLock;

static HARNESS: LazyLock<harness::AuthorizationHarness> =
    LazyLock::new(harness::AuthorizationHarness::new);

libfuzzer_sys::fuzz_target!(|data: &[u8]| HARNESS.run(data));
