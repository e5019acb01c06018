//! The `Authorization: Bearer <token>` rules (RFC 6750 §2.1, RFC 7235 §2.1).

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::error::VerifyError;
use crate::jws::MAX_TOKEN_LEN;

/// Extracts the bearer token from request headers.
///
/// * no `Authorization` header, or a scheme other than `Bearer` (`Basic`, `Token`, a bare
///   token) → [`VerifyError::Missing`] (401, `WWW-Authenticate: Bearer`);
/// * more than one `Authorization` header → [`VerifyError::InvalidRequest`] (400);
/// * `Bearer` (any case) not followed by exactly one space and one non-empty token without
///   further spaces (`Bearer`, `Bearer  x`, `Bearer x extra`), or a token over 8 KiB
///   → [`VerifyError::Malformed`] (401 `invalid_token`).
///
/// Tokens are only ever read from this header, never from the query string or a cookie.
///
/// # Errors
/// As listed above.
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
/// use tessera_verify::{bearer_token, VerifyError};
/// let mut headers = HeaderMap::new();
/// assert_eq!(bearer_token(&headers), Err(VerifyError::Missing));
/// headers.insert(AUTHORIZATION, HeaderValue::from_static("bearer abc.def.ghi"));
/// assert_eq!(bearer_token(&headers), Ok("abc.def.ghi"));
/// ```
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, VerifyError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(VerifyError::Missing);
    };
    if values.next().is_some() {
        return Err(VerifyError::InvalidRequest(
            "more than one Authorization header",
        ));
    }
    parse_bearer(value.as_bytes())
}

fn parse_bearer(value: &[u8]) -> Result<&str, VerifyError> {
    let (scheme, credentials) = match value.iter().position(|&b| b == b' ') {
        Some(i) => (&value[..i], Some(&value[i + 1..])),
        None => (value, None),
    };
    if !scheme.eq_ignore_ascii_case(b"Bearer") {
        return Err(VerifyError::Missing);
    }
    let token = credentials.ok_or(VerifyError::Malformed("empty bearer token"))?;
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::Malformed("token too long"));
    }
    if token.is_empty() || token.contains(&b' ') {
        return Err(VerifyError::Malformed(
            "bearer credentials are not one token",
        ));
    }
    std::str::from_utf8(token).map_err(|_| VerifyError::Malformed("token is not ASCII"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_and_spacing_rules() {
        assert_eq!(parse_bearer(b"Bearer t"), Ok("t"));
        assert_eq!(parse_bearer(b"BEARER t"), Ok("t"));
        assert_eq!(parse_bearer(b"Basic dTpw"), Err(VerifyError::Missing));
        assert_eq!(parse_bearer(b"Token t"), Err(VerifyError::Missing));
        assert_eq!(parse_bearer(b"a.b.c"), Err(VerifyError::Missing));
        assert_eq!(parse_bearer(b""), Err(VerifyError::Missing));
        assert!(matches!(
            parse_bearer(b"Bearer"),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(
            parse_bearer(b"Bearer "),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(
            parse_bearer(b"Bearer  t"),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(
            parse_bearer(b"Bearer t x"),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(
            parse_bearer(b"Bearer t\xff"),
            Err(VerifyError::Malformed(_))
        ));
    }
}
