//! Replays what the fuzzers keep for tessera-core's code: `fuzz/regressions/<target>/`
//! (inputs that once crashed a target, fixed since) and the seed corpora
//! `fuzz/corpus/<target>/`, through the very harness code the fuzz targets run
//! (`fuzz/harness/*.rs`), so `cargo test` keeps every finding fixed without nightly.
//!
//! `cookie_header` inputs replay their core half here (percent-decoding, signatures); the
//! server's `CookieJar` half is replayed by tessera-server's own `fuzz_regressions` test.

#![allow(clippy::expect_used)]

use tessera_core::cookie::{CookieSigner, decode_uri_component};

#[path = "../../../fuzz/harness/cookie.rs"]
mod cookie;
#[path = "../../../fuzz/harness/email_password.rs"]
mod email_password;
#[path = "../../../fuzz/harness/kept.rs"]
mod kept;

use kept::kept_inputs;

#[test]
fn cookie_header_inputs_replay_without_failure() {
    let signer = CookieSigner::new(cookie::COOKIE_SECRET);
    let inputs = kept_inputs("cookie_header");
    assert!(!inputs.is_empty(), "no seed corpus for cookie_header");
    for (path, bytes) in &inputs {
        eprintln!("replaying {}", path.display());
        let rest = bytes.get(1..).unwrap_or_default();
        // Both modes of the target: the whole text, and each side of the 0x00 split.
        cookie::check_cookie_text(&signer, &String::from_utf8_lossy(rest));
        for part in rest.split(|&b| b == 0) {
            cookie::check_cookie_text(&signer, &String::from_utf8_lossy(part));
        }
    }
}

#[test]
fn email_password_inputs_replay_without_failure() {
    let inputs = kept_inputs("email_password");
    assert!(!inputs.is_empty(), "no seed corpus for email_password");
    for (path, bytes) in &inputs {
        eprintln!("replaying {}", path.display());
        email_password::check_email_password(bytes);
    }
}

/// fuzz/regressions/cookie_header/percent-sign-in-escape: `u8::from_str_radix` took the
/// `+` of `%+F` as a sign, so a second spelling of a cookie value decoded.
#[test]
fn a_sign_inside_a_percent_escape_is_refused_like_decode_uri_component() {
    assert_eq!(decode_uri_component("%+F"), None);
    assert_eq!(cookie::js_decode_uri_component("%+F"), None);
    assert_eq!(decode_uri_component("a%2Bb").as_deref(), Some("a+b"));
}
