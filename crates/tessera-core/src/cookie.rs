//! Better Auth's signed cookie values (better-call `signCookieValue`):
//! `token + "." + base64(HMAC-SHA256(secret, token))`, the signature always 44 characters
//! ending in `=`, and the whole value percent-encoded like JavaScript's `encodeURIComponent`.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// An HMAC key for cookie signatures, derived once from the server secret.
#[derive(Clone)]
pub struct CookieSigner {
    key: hmac::Key,
}

impl std::fmt::Debug for CookieSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieSigner(<redacted>)")
    }
}

impl CookieSigner {
    /// Uses the UTF-8 bytes of the secret as the HMAC key, as Better Auth does, so a shared
    /// secret keeps existing cookies valid.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// `value.signature`, not yet percent-encoded.
    pub fn sign(&self, value: &str) -> String {
        let tag = hmac::sign(&self.key, value.as_bytes());
        let mut out = String::with_capacity(value.len() + 45);
        out.push_str(value);
        out.push('.');
        STANDARD.encode_string(tag.as_ref(), &mut out);
        out
    }

    /// Checks a `value.signature` string (already percent-decoded) and returns the value.
    /// The signature is the part after the last `.`; it must be exactly 44 characters ending
    /// in `=`, and is compared in constant time.
    pub fn verify<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (value, sig) = signed.rsplit_once('.')?;
        if sig.len() != 44 || !sig.ends_with('=') {
            return None;
        }
        let tag = STANDARD.decode(sig).ok()?;
        hmac::verify(&self.key, value.as_bytes(), &tag).ok()?;
        Some(value)
    }
}

/// JavaScript's `encodeURIComponent`: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )` is
/// written as `%XX` of its UTF-8 bytes.
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reverses percent-encoding; `None` on a malformed escape or non-UTF-8 result. Like
/// JavaScript's `decodeURIComponent`, every `%` must be followed by exactly two hex digits.
pub fn decode_uri_component(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    // Not `u8::from_str_radix`: it takes a leading `+`, so `%+F` would decode.
    let hex_digit = |b: Option<&u8>| b.and_then(|&b| char::from(b).to_digit(16));
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_digit(bytes.get(i + 1))?;
            let lo = hex_digit(bytes.get(i + 2))?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";

    #[test]
    fn matches_better_auth_session_cookie_vector() {
        let signer = CookieSigner::new(SECRET.as_bytes());
        let signed = signer.sign("DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU");
        assert_eq!(
            signed,
            "DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU.wme6XmBw6G6UqOhO/mODvysHatLwZjStcc2YlAyVH50="
        );
        assert_eq!(
            encode_uri_component(&signed),
            "DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU.wme6XmBw6G6UqOhO%2FmODvysHatLwZjStcc2YlAyVH50%3D"
        );
    }

    #[test]
    fn matches_better_auth_dont_remember_vector() {
        let signer = CookieSigner::new(SECRET.as_bytes());
        assert_eq!(
            encode_uri_component(&signer.sign("true")),
            "true.i8K8lWmm43%2FqItRtT9GUzE75WMaFyDz4cMBHK5qe4nM%3D"
        );
    }

    #[test]
    fn verify_accepts_own_signature_and_rejects_tampering() {
        let signer = CookieSigner::new(SECRET.as_bytes());
        let signed = signer.sign("DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU");
        assert_eq!(
            signer.verify(&signed),
            Some("DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU")
        );
        let tampered = signed.replacen('D', "E", 1);
        assert_eq!(signer.verify(&tampered), None);
        let other = CookieSigner::new(b"another-secret-0123456789abcdef0123456789");
        assert_eq!(other.verify(&signed), None);
        assert_eq!(signer.verify("no-dot"), None);
        assert_eq!(signer.verify("x.short="), None);
    }

    #[test]
    fn uri_component_round_trips() {
        let s = "a+b/c=d é";
        assert_eq!(
            decode_uri_component(&encode_uri_component(s)).as_deref(),
            Some(s)
        );
        assert_eq!(decode_uri_component("%zz"), None);
        assert_eq!(decode_uri_component("%4"), None);
        // found by fuzz/cookie_header: a sign is not a hex digit
        assert_eq!(decode_uri_component("%+F"), None);
        assert_eq!(decode_uri_component("a%+1b"), None);
    }
}
