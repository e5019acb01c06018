//! Refresh credentials: `tsr_` + 256 random bits (base64url). Stored only as SHA-256
//! digests. A successor is `tsr_` + base64url(HMAC(key, parent)), where the key is derived
//! from the server secret — so a replay inside the grace window yields the same successor
//! without the server ever keeping a usable credential.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use tessera_core::token::random_token_b64;

const PREFIX: &str = "tsr_";
/// Length of a credential: the prefix and 43 base64url characters (32 bytes).
pub const REFRESH_TOKEN_LEN: usize = 4 + 43;

/// Derives successors.
#[derive(Clone)]
pub struct RefreshKeys {
    key: hmac::Key,
}

impl std::fmt::Debug for RefreshKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshKeys(<redacted>)")
    }
}

impl RefreshKeys {
    /// A key for this purpose only, derived from the server secret.
    pub fn derive(secret: &[u8]) -> Self {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let k = hmac::sign(&root, b"tessera/v1/refresh-successor");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, k.as_ref()),
        }
    }

    /// A new first credential.
    pub fn first() -> String {
        format!("{PREFIX}{}", random_token_b64(32))
    }

    /// The successor of `parent`.
    pub fn successor(&self, parent: &str) -> String {
        let tag = hmac::sign(&self.key, parent.as_bytes());
        format!("{PREFIX}{}", B64.encode(tag.as_ref()))
    }
}

/// Whether `s` has the shape of a refresh credential (anything else is refused before any
/// lookup, including session tokens and JWTs presented in its place).
pub fn well_formed(s: &str) -> bool {
    s.len() == REFRESH_TOKEN_LEN
        && s.starts_with(PREFIX)
        && s[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_well_formed_and_successors_deterministic() {
        let keys = RefreshKeys::derive(&[1; 32]);
        let first = RefreshKeys::first();
        assert!(well_formed(&first), "{first}");
        let next = keys.successor(&first);
        assert!(well_formed(&next), "{next}");
        assert_eq!(next, keys.successor(&first));
        assert_ne!(next, RefreshKeys::derive(&[2; 32]).successor(&first));
        assert_ne!(first, RefreshKeys::first());
        assert!(!well_formed("DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU"));
        assert!(!well_formed("eyJhbGciOiJIUzI1NiJ9.e30.sig"));
    }
}
