//! Secrets at rest (private signing keys, TOTP keys): AES-256-GCM under a key derived from
//! the server secret for that one purpose, with the row's id (key id, user id) as associated
//! data so a ciphertext cannot be moved to another row.
//! Stored form: `v1.` + base64url(nonce ‖ ciphertext ‖ tag).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use tessera_core::id::random_bytes;

pub(crate) struct Kek(LessSafeKey);

impl Kek {
    /// HMAC-SHA256(secret, label): a key for this purpose only, so the same secret can sign
    /// cookies without the two uses ever meeting.
    pub(crate) fn derive(secret: &[u8]) -> Self {
        Self::derive_for(secret, b"tessera/v1/signing-key-encryption")
    }

    /// The key for another purpose, named by `label` (TOTP keys use
    /// `tessera/v1/totp-secret-encryption`).
    pub(crate) fn derive_for(secret: &[u8], label: &[u8]) -> Self {
        let k = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let okm = hmac::sign(&k, label);
        let key = UnboundKey::new(&AES_256_GCM, okm.as_ref())
            .unwrap_or_else(|_| unreachable!("32-byte key"));
        Self(LessSafeKey::new(key))
    }

    pub(crate) fn seal(&self, kid: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce);
        let mut buf = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut buf,
            )
            .unwrap_or_else(|_| unreachable!("sealing into a Vec cannot fail"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        format!("v1.{}", B64.encode(out))
    }

    pub(crate) fn open(&self, kid: &str, stored: &str) -> Option<Vec<u8>> {
        let raw = B64.decode(stored.strip_prefix("v1.")?).ok()?;
        if raw.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = rest.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_bound_to_kid_and_secret() {
        let kek = Kek::derive(&[7; 32]);
        let sealed = kek.seal("kid1", b"private key bytes");
        assert!(!sealed.contains("private"));
        assert_eq!(
            kek.open("kid1", &sealed).as_deref(),
            Some(&b"private key bytes"[..])
        );
        assert_eq!(kek.open("kid2", &sealed), None, "moved to another row");
        assert_eq!(
            Kek::derive(&[8; 32]).open("kid1", &sealed),
            None,
            "other secret"
        );
        assert_eq!(kek.open("kid1", "v1.AAAA"), None);
        assert_eq!(kek.open("kid1", "garbage"), None);
        let other_purpose = Kek::derive_for(&[7; 32], b"tessera/v1/totp-secret-encryption");
        assert_eq!(other_purpose.open("kid1", &sealed), None, "other purpose");
    }
}
