//! The tessera-core half of the `cookie_header` harness: percent-decoding and cookie
//! signatures (`tessera_core::cookie`).
//!
//! Shared by the fuzz target (which adds the server's `CookieJar` on top) and tessera-core's
//! regression test `tests/fuzz_regressions.rs`, so inputs kept in
//! `fuzz/regressions/cookie_header/` replay under `cargo test`.
//!
//! What must hold for any text `s`:
//!
//! * `decode_uri_component(s)` answers what JavaScript's `decodeURIComponent` answers
//!   (every `%` followed by exactly two hex digits, the result UTF-8; else an error);
//! * `decode_uri_component(encode_uri_component(s)) == s`, and the encoding uses only
//!   `encodeURIComponent`'s unreserved characters and `%XX`;
//! * `CookieSigner::verify(sign(s)) == s`, and whatever `verify` accepts is byte for byte
//!   what `sign` produces for the value it returns (no second spelling of a signature).

use tessera_core::cookie::{CookieSigner, decode_uri_component, encode_uri_component};

/// The server secret the harness signs with.
pub(crate) const COOKIE_SECRET: &[u8] = b"fuzz-server-secret-0123456789abcdef-0123";

/// `decodeURIComponent` as ECMAScript specifies it, written independently of the library.
pub(crate) fn js_decode_uri_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| char::from(*b).to_digit(16))?;
            let lo = bytes.get(i + 2).and_then(|b| char::from(*b).to_digit(16))?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Checks one text against the percent-encoding and signature properties.
pub(crate) fn check_cookie_text(signer: &CookieSigner, s: &str) {
    // Decoding agrees with JavaScript's.
    let decoded = decode_uri_component(s);
    assert_eq!(
        decoded,
        js_decode_uri_component(s),
        "decode_uri_component({s:?}) differs from decodeURIComponent"
    );

    // Encoding round-trips and stays within encodeURIComponent's alphabet.
    let encoded = encode_uri_component(s);
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()%".contains(&b)),
        "{encoded:?}"
    );
    assert_eq!(decode_uri_component(&encoded).as_deref(), Some(s));

    // Signatures round-trip, and only the canonical spelling verifies.
    let signed = signer.sign(s);
    assert_eq!(signer.verify(&signed), Some(s));
    for candidate in [Some(s), decoded.as_deref()].into_iter().flatten() {
        if let Some(value) = signer.verify(candidate) {
            assert_eq!(
                signer.sign(value),
                candidate,
                "a second spelling of a valid signature was accepted"
            );
        }
    }
}
