//! The tessera-server half of the `cookie_header` harness: the server's `CookieJar` (plain
//! and `__Secure-` names) reading `Cookie` headers.
//!
//! Used by the fuzz target; a tessera-server test can include it the same way
//! (`#[path = ".../fuzz/harness/cookie_jar.rs"]`) to replay `fuzz/regressions/cookie_header/`.
//!
//! The first byte picks a mode. Even: the rest is split at `\n` into `Cookie` header values
//! and read as a request's cookies. Odd: the rest is `other cookies` `0x00` `session token`;
//! the jar writes the token's session cookie, appends it to the other cookies, and must read
//! the same token back (unless the other cookies already name the session cookie).
//!
//! Beyond "never panics": a session token is only ever read from a cookie whose decoded
//! value is exactly the canonical signature of that token.

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use tessera_core::cookie::{CookieSigner, decode_uri_component};
use tessera_server::session::cookies::CookieJar;

const SESSION: &str = "better-auth.session_token";

/// Every cookie value in the headers, quotes stripped and percent-decoded.
fn decoded_values(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|s| s.split(';'))
        .filter_map(|pair| pair.split_once('=').map(|(_, v)| v.trim()))
        .map(|v| {
            v.strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v)
        })
        .filter_map(decode_uri_component)
        .collect()
}

fn read_request_cookies(signer: &CookieSigner, rest: &[u8]) {
    let mut headers = HeaderMap::new();
    for value in rest.split(|&b| b == b'\n').take(4) {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.append(COOKIE, v);
        }
    }
    for secure in [false, true] {
        let jar = CookieJar::new(secure);
        if let Some(token) = jar.read_session(signer, &headers) {
            let canonical = signer.sign(&token);
            assert!(
                decoded_values(&headers).contains(&canonical),
                "session token {token:?} read without its canonical signature"
            );
        }
        let _ = jar.has_dont_remember(signer, &headers);
    }
}

fn round_trip(signer: &CookieSigner, rest: &[u8]) {
    let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let others = String::from_utf8_lossy(&rest[..split]);
    let token = String::from_utf8_lossy(rest.get(split + 1..).unwrap_or_default());
    if others.contains(SESSION) {
        return;
    }
    // KNOWN ISSUE (found by this target, reported, not fixed here): the server skips a whole
    // `Cookie` header that is not visible ASCII (`HeaderValue::to_str` fails), so one other
    // cookie holding UTF-8 (browsers send it raw) hides the session cookie beside it.
    // Inputs: fuzz/regressions/cookie_header/non-ascii-*. Delete this early return once
    // `CookieJar` reads such headers.
    if !others.is_ascii() {
        return;
    }
    for secure in [false, true] {
        let jar = CookieJar::new(secure);
        let set_cookie = jar.session(signer, &token, Some(60));
        let Ok(set_cookie) = set_cookie.to_str() else {
            panic!("Set-Cookie is not visible ASCII: {set_cookie:?}");
        };
        let pair = set_cookie.split(';').next().unwrap_or_default();
        let Ok(value) = HeaderValue::from_str(&format!("{others}; {pair}")) else {
            continue;
        };
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, value);
        assert_eq!(
            jar.read_session(signer, &headers).as_deref(),
            Some(&*token),
            "the jar did not read back the session cookie it wrote"
        );
    }
}

/// Runs one input (its first byte picks the mode, see the module docs).
pub(crate) fn check_cookie_jar(signer: &CookieSigner, data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        read_request_cookies(signer, rest);
    } else {
        round_trip(signer, rest);
    }
}
