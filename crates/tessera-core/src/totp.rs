//! Second factors as pure functions: TOTP (RFC 6238 over RFC 4226's HOTP, HMAC-SHA-1, six
//! digits, 30-second steps), the base32 alphabet authenticator apps read, the `otpauth://`
//! URI, and backup codes.
//!
//! Replay protection is not here: [`Totp::matching_step`] says *which* step a code belongs
//! to, and the store accepts it only if that step is later than the last one accepted (a
//! compare-and-set in SQL), so a code works once, on every instance.

use aws_lc_rs::hmac;
use zeroize::Zeroize;

use crate::id::random_bytes;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one (±30 s).
pub const SKEW: i64 = 1;
/// Bytes of a new secret: 160 bits, RFC 4226's recommendation.
pub const SECRET_BYTES: usize = 20;

/// A TOTP key. Its `Debug` never shows the key.
#[derive(Clone)]
pub struct Totp {
    key: Vec<u8>,
}

impl std::fmt::Debug for Totp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Totp(<redacted>)")
    }
}

impl Drop for Totp {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl Totp {
    /// A new random 160-bit key.
    pub fn generate() -> Self {
        let mut key = vec![0u8; SECRET_BYTES];
        random_bytes(&mut key);
        Self { key }
    }

    /// A key from its bytes (decrypted from storage, or imported: Better Auth's keys are the
    /// ASCII bytes of a 32-character string).
    pub fn from_bytes(key: Vec<u8>) -> Self {
        Self { key }
    }

    /// The key bytes (to encrypt for storage).
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The key in base32 without padding, as authenticator apps take it.
    pub fn base32(&self) -> String {
        base32(&self.key)
    }

    /// The step a unix time (seconds) falls in.
    pub fn step_at(unix_secs: i64) -> i64 {
        unix_secs.div_euclid(STEP_SECS)
    }

    /// The HOTP value of a step with `digits` digits (RFC 4226 §5.3).
    pub fn code_at_step(&self, step: i64, digits: u32) -> String {
        let k = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &self.key);
        let mac = hmac::sign(&k, &step.to_be_bytes());
        let mac = mac.as_ref();
        let offset = usize::from(mac[mac.len() - 1] & 0x0f);
        let bin = u32::from_be_bytes([
            mac[offset] & 0x7f,
            mac[offset + 1],
            mac[offset + 2],
            mac[offset + 3],
        ]);
        let value = bin % 10u32.pow(digits);
        format!("{value:0width$}", width = digits as usize)
    }

    /// The six-digit code at a unix time (seconds).
    pub fn code_at(&self, unix_secs: i64) -> String {
        self.code_at_step(Self::step_at(unix_secs), DIGITS)
    }

    /// The step within ±[`SKEW`] of `unix_secs` whose code is `code`, if any, compared in
    /// constant time. The caller must still refuse a step at or before the last one
    /// accepted.
    pub fn matching_step(&self, code: &str, unix_secs: i64) -> Option<i64> {
        if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let now = Self::step_at(unix_secs);
        let mut found = None;
        // Every candidate is computed and compared, whichever matches.
        for step in (now - SKEW)..=(now + SKEW) {
            let expected = self.code_at_step(step, DIGITS);
            if crate::token::constant_time_eq(expected.as_bytes(), code.as_bytes()) {
                found = Some(step);
            }
        }
        found
    }

    /// The `otpauth://totp/…` URI of Google's key-URI format, shaped as Better Auth writes it
    /// (`issuer:account` label, `secret`, `issuer`, `digits`, `period`; SHA-1 is the default
    /// and not written).
    pub fn uri(&self, issuer: &str, account: &str) -> String {
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&digits={DIGITS}&period={STEP_SECS}",
            uri_component(issuer),
            uri_component(account),
            self.base32(),
            uri_component(issuer),
        )
    }
}

/// RFC 4648 base32, upper case, no padding.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// `encodeURIComponent`: everything but `A–Z a–z 0–9 - _ . ! ~ * ' ( )` percent-encoded.
fn uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Backup codes: how many a set has, and their shape.
pub mod backup {
    use crate::id::random_bytes;

    /// Codes in a set.
    pub const COUNT: usize = 10;
    /// Random bytes per code: 15 bytes = 120 bits (NIST and ASVS allow a plain keyed hash
    /// from 112 bits on).
    pub const BYTES: usize = 15;

    /// A new code: 24 base32 characters in four groups, `ABCDEF-GHIJKL-MNOPQR-STUVWX`.
    pub fn generate() -> String {
        let mut raw = [0u8; BYTES];
        random_bytes(&mut raw);
        let plain = super::base32(&raw);
        let mut out = String::with_capacity(plain.len() + 3);
        for (i, c) in plain.chars().enumerate() {
            if i > 0 && i % 6 == 0 {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    /// Length of a code imported from Better Auth (`xxxxx-xxxxx`, `[a-zA-Z0-9]`, case
    /// sensitive; see `tessera import better-auth`).
    pub const IMPORTED_LEN: usize = 10;

    /// The canonical form a presented code is hashed in: separators and spaces dropped,
    /// upper case; `None` for anything that cannot be one of ours (so it is refused without
    /// a lookup, and typing it with or without dashes or in lower case works).
    ///
    /// Codes imported from Better Auth (10 letters and digits) keep their case, as Better
    /// Auth compared them exactly.
    pub fn normalise(presented: &str) -> Option<String> {
        let bare: String = presented
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .collect();
        if bare.len() == IMPORTED_LEN && bare.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Some(bare);
        }
        let s = bare.to_ascii_uppercase();
        (s.len() == 24 && s.bytes().all(|b| matches!(b, b'A'..=b'Z' | b'2'..=b'7'))).then_some(s)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// RFC 6238 Appendix B, the SHA-1 column (key "12345678901234567890", eight digits).
    #[test]
    fn rfc_6238_appendix_b_vectors() {
        let totp = Totp::from_bytes(b"12345678901234567890".to_vec());
        for (t, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.code_at_step(Totp::step_at(t), 8), expected, "T={t}");
        }
    }

    #[test]
    fn a_code_is_accepted_thirty_seconds_either_side_and_not_sixty() {
        let totp = Totp::from_bytes(b"12345678901234567890".to_vec());
        let now = 1_111_111_111;
        let code = totp.code_at(now);
        assert_eq!(totp.matching_step(&code, now), Some(Totp::step_at(now)));
        assert_eq!(
            totp.matching_step(&code, now + 30),
            Some(Totp::step_at(now))
        );
        assert_eq!(
            totp.matching_step(&code, now - 30),
            Some(Totp::step_at(now))
        );
        assert_eq!(totp.matching_step(&code, now + 60), None);
        assert_eq!(totp.matching_step(&code, now - 60), None);
        assert_eq!(totp.matching_step("12345", now), None);
        assert_eq!(totp.matching_step("１２３４５６", now), None);
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foo"), "MZXW6");
        assert_eq!(base32(b"foob"), "MZXW6YQ");
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn the_uri_is_better_auths_shape() {
        let totp = Totp::from_bytes(b"12345678901234567890".to_vec());
        assert_eq!(
            totp.uri("My App", "a@b.test"),
            "otpauth://totp/My%20App:a%40b.test?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=My%20App&digits=6&period=30"
        );
    }

    #[test]
    fn generated_secrets_have_160_bits_and_differ() {
        let (a, b) = (Totp::generate(), Totp::generate());
        assert_eq!(a.key().len(), 20);
        assert_ne!(a.key(), b.key());
        assert!(!format!("{a:?}").contains(&a.base32()));
    }

    #[test]
    fn backup_codes_have_120_bits_and_normalise() {
        let code = backup::generate();
        assert_eq!(code.len(), 27, "{code}");
        let canonical = backup::normalise(&code).unwrap();
        assert_eq!(canonical.len(), 24);
        assert_eq!(
            backup::normalise(&code.to_lowercase().replace('-', " ")),
            Some(canonical)
        );
        assert_eq!(backup::normalise("short"), None);
        assert_eq!(backup::normalise(&"1".repeat(24)), None);
        assert_ne!(backup::generate(), backup::generate());
    }

    #[test]
    fn imported_better_auth_codes_keep_their_case() {
        assert_eq!(
            backup::normalise("aB3dE-fG5hI").as_deref(),
            Some("aB3dEfG5hI")
        );
        assert_ne!(
            backup::normalise("ab3de-fg5hi"),
            backup::normalise("aB3dE-fG5hI")
        );
        assert_eq!(backup::normalise("aB3dE-fG5h!"), None);
    }
}
