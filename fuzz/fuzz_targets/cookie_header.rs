//! Arbitrary `Cookie` headers through Tessera's cookie parsing and signature checks: the
//! server's `CookieJar` (`harness/cookie_jar.rs`) on top of `tessera_core::cookie`
//! (`harness/cookie.rs`). The first byte picks a mode; in the even one the text also goes
//! through the core properties.
#![no_main]

#[path = "../harness/cookie.rs"]
mod cookie;
#[path = "../harness/cookie_jar.rs"]
mod cookie_jar;

use std::sync::LazyLock;

use tessera_core::cookie::CookieSigner;

static SIGNER: LazyLock<CookieSigner> = LazyLock::new(|| CookieSigner::new(cookie::COOKIE_SECRET));

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((&mode, rest)) = data.split_first()
        && mode & 1 == 0
    {
        cookie::check_cookie_text(&SIGNER, &String::from_utf8_lossy(rest));
    }
    cookie_jar::check_cookie_jar(&SIGNER, data);
});
