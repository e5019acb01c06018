//! Reading what Better Auth encrypted with its secret: the two-factor plugin's TOTP secret
//! and (by default) its backup codes. Better Auth 1.7's `symmetricEncrypt`
//! (`better-auth/dist/crypto`): XChaCha20-Poly1305 under SHA-256(secret as UTF-8), the
//! output the hex of nonce (24 bytes) ‖ ciphertext ‖ tag. With a single secret
//! (`BETTER_AUTH_SECRET`) the hex is stored bare; with versioned secrets
//! (`BETTER_AUTH_SECRETS=2:…,1:…`) as `$ba$<version>$<hex>`, bare hex then meaning the
//! legacy `BETTER_AUTH_SECRET`.
//!
//! Plaintexts are returned to the caller only; nothing here prints or logs them.

use std::collections::HashMap;

use anyhow::{Context as _, bail};
use aws_lc_rs::digest;
use chacha20poly1305::aead::Aead as _;
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305, XNonce};

const ENVELOPE: &str = "$ba$";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Better Auth's secrets: the plain one and the versioned ones.
#[derive(Default)]
pub(crate) struct BaSecrets {
    legacy: Option<String>,
    versioned: HashMap<u32, String>,
}

impl std::fmt::Debug for BaSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaSecrets")
            .field("legacy", &self.legacy.is_some())
            .field("versions", &self.versioned.len())
            .finish()
    }
}

impl BaSecrets {
    /// From the contents of `--better-auth-secret-file` (`BETTER_AUTH_SECRET`) and
    /// `--better-auth-secrets-file` (`BETTER_AUTH_SECRETS`: `<version>:<secret>` entries
    /// separated by commas or new lines).
    pub(crate) fn new(legacy: Option<&str>, versioned: Option<&str>) -> anyhow::Result<Self> {
        let legacy = legacy
            .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
            .filter(|s| !s.is_empty());
        let mut map = HashMap::new();
        for (i, entry) in versioned
            .unwrap_or("")
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let (v, secret) = entry.split_once(':').with_context(|| {
                format!(
                    "Better Auth secrets entry {}: expected <version>:<secret>",
                    i + 1
                )
            })?;
            let v: u32 = v.trim().parse().with_context(|| {
                format!(
                    "Better Auth secrets entry {}: the version is not a number",
                    i + 1
                )
            })?;
            if secret.is_empty() {
                bail!("Better Auth secrets entry {}: the secret is empty", i + 1);
            }
            map.insert(v, secret.to_owned());
        }
        Ok(Self {
            legacy,
            versioned: map,
        })
    }

    /// Whether any secret was given.
    pub(crate) fn is_empty(&self) -> bool {
        self.legacy.is_none() && self.versioned.is_empty()
    }

    /// Decrypts a value Better Auth's `symmetricEncrypt` wrote. Fails on another secret, a
    /// retired version, or anything that is not such a value (the message holds no data).
    pub(crate) fn decrypt(&self, stored: &str) -> anyhow::Result<String> {
        let (secret, hex) = match stored.strip_prefix(ENVELOPE) {
            Some(rest) => {
                let (v, hex) = rest
                    .split_once('$')
                    .context("a $ba$ value without a version")?;
                let v: u32 = v.parse().context("a $ba$ value with a bad version")?;
                let secret = self.versioned.get(&v).with_context(|| {
                    format!(
                        "encrypted with Better Auth secret version {v}, which --better-auth-secrets-file does not hold"
                    )
                })?;
                (secret, hex)
            }
            None => (
                self.legacy.as_ref().context(
                    "encrypted with BETTER_AUTH_SECRET, which --better-auth-secret-file must hold",
                )?,
                stored,
            ),
        };
        let raw = from_hex(hex.trim()).context("not Better Auth's hex encryption")?;
        if raw.len() < NONCE_LEN + TAG_LEN {
            bail!("too short to be Better Auth's encryption");
        }
        let key = digest::digest(&digest::SHA256, secret.as_bytes());
        let cipher = XChaCha20Poly1305::new_from_slice(key.as_ref())
            .unwrap_or_else(|_| unreachable!("SHA-256 is 32 bytes"));
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce
            .try_into()
            .unwrap_or_else(|_| unreachable!("split at NONCE_LEN"));
        let plain = cipher
            .decrypt(&XNonce::from(nonce), sealed)
            .ok()
            .context("cannot decrypt: not the Better Auth secret it was encrypted with")?;
        String::from_utf8(plain).context("the decrypted value is not text")
    }
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // Written by better-auth@1.7.25's own `symmetricEncrypt` (node, e2e/interop's copy).
    const SECRET: &str = "better-auth-import-test-secret-0123456789";
    const BARE: &str = "89897bb4f44673513e6a5b0103d007028946eb58a0e1f37a045e5ab1c5e95d78e51dc9570d74c0071bd717018d3e5740b65aaaaa27c356faa73d169b88bddb690918c667d5179512";
    const VERSIONED: &str = "$ba$2$01c470dce84afbc396fb8b734554e8fbdc44267a6ed0b3699ef331bc3147c340290f0522f62f616a555baeb049f7253f7e60feac21e5c02642aa7a3937d16583bb552b89ec";

    #[test]
    fn reads_what_better_auth_encrypted_bare_and_versioned() {
        let s = BaSecrets::new(
            Some(&format!("{SECRET}\n")),
            Some("2:versioned-secret-two-0123456789abcdef\n1:old"),
        )
        .unwrap();
        assert_eq!(s.decrypt(BARE).unwrap(), "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
        assert_eq!(
            s.decrypt(VERSIONED).unwrap(),
            r#"["aB3dE-fG5hI","Zz9yX-wV8uT"]"#
        );
    }

    #[test]
    fn another_secret_a_missing_version_or_tampering_is_an_error() {
        let wrong = BaSecrets::new(Some("another secret"), Some("2:nope")).unwrap();
        assert!(wrong.decrypt(BARE).is_err());
        assert!(wrong.decrypt(VERSIONED).is_err());
        let only_legacy = BaSecrets::new(Some(SECRET), None).unwrap();
        let e = only_legacy.decrypt(VERSIONED).unwrap_err().to_string();
        assert!(e.contains("version 2"), "{e}");
        let mut flipped = BARE.to_owned();
        flipped.replace_range(60..61, if &BARE[60..61] == "0" { "1" } else { "0" });
        assert!(only_legacy.decrypt(&flipped).is_err());
        assert!(only_legacy.decrypt("not hex").is_err());
        assert!(BaSecrets::new(None, Some("x:y")).is_err());
        assert!(BaSecrets::new(None, None).unwrap().is_empty());
    }
}
