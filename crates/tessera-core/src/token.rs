//! Opaque bearer secrets (session tokens, refresh credentials) and the digests that are
//! the only form of them the database ever sees.

use std::fmt;
use zeroize::Zeroize;

use crate::id::{ID_LEN, random_alphanumeric, random_bytes};

/// A session token as handed to the client. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh 32-character token (about 190 random bits), Better Auth's format.
    pub fn generate() -> Self {
        Self(random_alphanumeric(ID_LEN))
    }

    /// Wraps a token received from a client. Returns `None` for anything that cannot be one
    /// of ours, so garbage never reaches a database lookup.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| Self(s.to_owned()))
    }

    /// The raw value, for the response body and the cookie.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest stored in place of the token.
    pub fn digest(&self) -> TokenDigest {
        TokenDigest::of(&self.0)
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

impl Drop for SessionToken {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// A random credential of `bytes` random bytes, base64url without padding (used for refresh
/// credentials: 32 bytes = 256 bits).
pub fn random_token_b64(bytes: usize) -> String {
    use base64::Engine as _;
    let mut buf = vec![0u8; bytes];
    random_bytes(&mut buf);
    let s = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&buf);
    buf.zeroize();
    s
}

/// SHA-256 of a secret token, lower-case hex. Lookups go by digest, so the database never
/// holds a usable token and a timing difference in the index lookup reveals nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenDigest(String);

impl TokenDigest {
    /// Digests a token.
    pub fn of(token: &str) -> Self {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
        Self(hex(d.as_ref()))
    }

    /// The hex form, as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a digest read back from storage.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest is not a secret, but a short prefix is all a log ever needs.
        write!(f, "TokenDigest({}…)", &self.0[..8.min(self.0.len())])
    }
}

/// Whether two secrets are equal, in a time that depends on their lengths only.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(a.ct_eq(b))
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// Decodes lower- or upper-case hex; `None` on odd length or a non-hex character.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let val = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(val(p[0])? << 4 | val(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let t = SessionToken::generate();
        assert!(!format!("{t:?}").contains(t.expose()));
    }

    #[test]
    fn digest_is_sha256_hex() {
        assert_eq!(
            TokenDigest::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn parse_refuses_anything_not_shaped_like_a_token() {
        assert!(SessionToken::parse("short").is_none());
        assert!(SessionToken::parse(&"a".repeat(33)).is_none());
        assert!(SessionToken::parse("DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVv!").is_none());
        assert!(SessionToken::parse("DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU").is_some());
    }

    #[test]
    fn refresh_credentials_carry_256_bits() {
        let t = random_token_b64(32);
        assert_eq!(t.len(), 43);
        assert_ne!(t, random_token_b64(32));
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }
}
