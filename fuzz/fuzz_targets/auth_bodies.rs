//! Arbitrary bodies for sign-up, sign-in, change-password, refresh and sign-out, sent to
//! the real application in-process. The harness and its checks are in
//! `harness/auth_bodies.rs`.
#![no_main]

#[path = "../harness/auth_bodies.rs"]
mod harness;

use std::sync::LazyLock;

static HARNESS: LazyLock<harness::AuthBodiesHarness> =
    LazyLock::new(harness::AuthBodiesHarness::new);

libfuzzer_sys::fuzz_target!(|data: &[u8]| HARNESS.run(data));
