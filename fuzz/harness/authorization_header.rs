//! The `authorization_header` harness: arbitrary `Authorization` headers through
//! `tessera_verify::bearer_token` and `Verifier::verify_authorization`.
//!
//! Shared by the fuzz target and tessera-verify's regression test (see
//! `verify_token.rs`). The input is split at `\n` (a byte no header value can hold) into
//! header values; those `http` accepts are appended as `Authorization` headers.
//!
//! What must hold: nothing panics; the answer is the one an independent reading of the rules
//! gives (no header → `Missing`; several → `InvalidRequest`; a scheme other than `Bearer` in
//! any case → `Missing`; otherwise exactly `Bearer` SP token, the token non-empty, without
//! spaces, at most `MAX_TOKEN_LEN` bytes and UTF-8, or `Malformed`); an accepted token is
//! the exact tail of the header value; and `verify_authorization` fails exactly like
//! `bearer_token` whenever `bearer_token` fails.

use std::sync::Arc;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use tessera_verify::{MAX_TOKEN_LEN, ManualClock, Verifier, VerifyError, bearer_token};

/// Runs inputs; holds a runtime and a verifier built once.
pub(crate) struct AuthorizationHarness {
    runtime: tokio::runtime::Runtime,
    verifier: Verifier,
}

/// What the rules say about one header value.
#[derive(Debug, PartialEq, Eq)]
enum Expected<'a> {
    Token(&'a str),
    Missing,
    Malformed,
}

/// The rules, written independently of the library: split on every space.
fn expected(value: &[u8]) -> Expected<'_> {
    let mut words = value.split(|&b| b == b' ');
    let scheme = words.next().unwrap_or_default();
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Expected::Missing;
    }
    let rest: Vec<&[u8]> = words.collect();
    match rest.as_slice() {
        [token] if !token.is_empty() && token.len() <= MAX_TOKEN_LEN => {
            std::str::from_utf8(token).map_or(Expected::Malformed, Expected::Token)
        }
        _ => Expected::Malformed,
    }
}

impl AuthorizationHarness {
    /// A current-thread runtime and an HS256 verifier.
    pub(crate) fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let verifier = Verifier::builder()
            .issuer("https://auth.fuzz.test")
            .audience("https://api.fuzz.test")
            .clock(Arc::new(ManualClock::new(1_767_225_600)))
            .hs256_secret(b"fuzz-shared-secret-0123456789abcdef-0123")
            .build()
            .expect("the verifier builds");
        Self { runtime, verifier }
    }

    /// Runs one input.
    pub(crate) fn run(&self, data: &[u8]) {
        let values: Vec<HeaderValue> = data
            .split(|&b| b == b'\n')
            .take(4)
            .filter_map(|v| HeaderValue::from_bytes(v).ok())
            .collect();
        let mut headers = HeaderMap::new();
        for v in &values {
            headers.append(AUTHORIZATION, v.clone());
        }
        let got = bearer_token(&headers);
        match values.as_slice() {
            [] => assert_eq!(got, Err(VerifyError::Missing)),
            [value] => {
                let bytes = value.as_bytes();
                match (expected(bytes), &got) {
                    (Expected::Token(want), Ok(token)) => {
                        assert_eq!(*token, want);
                        assert_eq!(&bytes[bytes.len() - token.len()..], token.as_bytes());
                    }
                    (Expected::Missing, Err(VerifyError::Missing))
                    | (Expected::Malformed, Err(VerifyError::Malformed(_))) => {}
                    (want, got) => {
                        panic!("{bytes:?}: the rules say {want:?}, bearer_token said {got:?}")
                    }
                }
            }
            _ => assert!(
                matches!(got, Err(VerifyError::InvalidRequest(_))),
                "several Authorization headers: {got:?}"
            ),
        }
        let verified = self
            .runtime
            .block_on(self.verifier.verify_authorization(&headers));
        match (got, verified) {
            (Err(a), Err(b)) => assert_eq!(a, b, "verify_authorization disagrees"),
            (Err(a), Ok(_)) => {
                panic!("verify_authorization accepted what bearer_token refused: {a:?}")
            }
            (Ok(_), Err(e)) => assert!(!e.status().is_server_error(), "{e:?}"),
            (Ok(_), Ok(claims)) => assert_eq!(claims.iss, "https://auth.fuzz.test"),
        }
    }
}
