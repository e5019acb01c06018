//! Passwords: the length policy Better Auth applies, NFKC normalisation, Argon2id hashing,
//! and verification of Better Auth's scrypt hashes so imported users keep their password.
//!
//! Hashing is deliberately slow (tens of milliseconds); callers run it on a blocking pool,
//! never on the async runtime.

use std::fmt;
use std::sync::OnceLock;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::id::random_bytes;
use crate::token::{hex, unhex};

/// Shortest password accepted at sign-up, in UTF-16 code units (Better Auth's unit).
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password accepted anywhere, in UTF-16 code units. Also bounds hashing cost.
pub const MAX_PASSWORD_LEN: usize = 128;

/// Argon2id memory cost in KiB (OWASP's minimum: 19 MiB).
pub const ARGON2_M_KIB: u32 = 19_456;
/// Argon2id passes.
pub const ARGON2_T: u32 = 2;
/// Argon2id lanes.
pub const ARGON2_P: u32 = 1;

/// A password that passed the length policy, held NFKC-normalised and wiped on drop.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

/// Why a password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_PASSWORD_LEN`] characters.
    #[error("password too short")]
    TooShort,
    /// More than [`MAX_PASSWORD_LEN`] characters.
    #[error("password too long")]
    TooLong,
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

impl Password {
    /// A new password (sign-up, change-password): both length bounds apply.
    pub fn new(raw: &str) -> Result<Self, PasswordError> {
        let len = utf16_len(raw);
        if len < MIN_PASSWORD_LEN {
            return Err(PasswordError::TooShort);
        }
        if len > MAX_PASSWORD_LEN {
            return Err(PasswordError::TooLong);
        }
        Ok(Self::normalised(raw))
    }

    /// A password offered for checking (sign-in, current password): only the upper bound
    /// applies, as in Better Auth, so old short passwords can still sign in.
    pub fn candidate(raw: &str) -> Result<Self, PasswordError> {
        if utf16_len(raw) > MAX_PASSWORD_LEN {
            return Err(PasswordError::TooLong);
        }
        Ok(Self::normalised(raw))
    }

    fn normalised(raw: &str) -> Self {
        Self(Zeroizing::new(raw.nfkc().collect()))
    }

    /// The normalised text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordVerdict {
    /// The password is right. `needs_rehash` asks the caller to store a fresh Argon2id
    /// hash (the stored one is scrypt, or Argon2 with weaker parameters).
    Match {
        /// Store a new hash made with the current parameters.
        needs_rehash: bool,
    },
    /// Wrong password, or a stored value that is not a hash we understand.
    Mismatch,
}

/// Hashes and verifies passwords with the configured Argon2id parameters.
#[derive(Clone)]
pub struct PasswordHasher {
    argon: Argon2<'static>,
    argon_params: Params,
    current_prefix: String,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.current_prefix)
            .finish()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P).unwrap_or_else(|_| unreachable!())
    }
}

/// Parameters outside what Argon2 allows.
#[derive(Debug, thiserror::Error)]
#[error("invalid Argon2 parameters")]
pub struct InvalidParams;

impl PasswordHasher {
    /// Argon2id with the given memory (KiB), passes and lanes.
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<Self, InvalidParams> {
        let params = Params::new(m_kib, t, p, None).map_err(|_| InvalidParams)?;
        Ok(Self {
            argon: Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone()),
            argon_params: params,
            current_prefix: format!("$argon2id$v=19$m={m_kib},t={t},p={p}$"),
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a fresh 16-byte salt.
    pub fn hash(&self, password: &Password) -> String {
        self.hash_with(password, &mut HashMemory::default())
    }

    /// [`hash`](Self::hash), computed in `memory` (kept by the caller between hashes).
    pub fn hash_with(&self, password: &Password, memory: &mut HashMemory) -> String {
        let mut salt = [0u8; 16];
        random_bytes(&mut salt);
        let mut out = Zeroizing::new([0u8; 32]);
        let blocks = memory.blocks(self.argon_params.block_count());
        // Neither can fail: the parameters were validated in `new` and the salt and output
        // lengths are fixed within Argon2's bounds.
        let encoded = self
            .argon
            .hash_password_into_with_memory(
                password.expose().as_bytes(),
                &salt,
                out.as_mut(),
                blocks,
            )
            .ok()
            .and_then(|()| {
                Some(PasswordHash {
                    algorithm: Algorithm::Argon2id.ident(),
                    version: Some(Version::V0x13.into()),
                    params: ParamsString::try_from(&self.argon_params).ok()?,
                    salt: Some(Salt::new(&salt).ok()?),
                    hash: Some(Output::new(out.as_ref()).ok()?),
                })
            });
        match encoded {
            Some(h) => h.to_string(),
            None => unreachable!("argon2 rejected validated parameters"),
        }
    }

    /// Checks a password against a stored Argon2 PHC string or Better Auth scrypt string.
    pub fn verify(&self, password: &Password, stored: &str) -> PasswordVerdict {
        self.verify_with(password, stored, &mut HashMemory::default())
    }

    /// [`verify`](Self::verify), computing an Argon2 hash in `memory`.
    pub fn verify_with(
        &self,
        password: &Password,
        stored: &str,
        memory: &mut HashMemory,
    ) -> PasswordVerdict {
        let ok = if stored.starts_with("$argon2") {
            // Verification uses the parameters recorded in the hash itself.
            PasswordHash::new(stored).is_ok_and(|h| verify_argon2(password, &h, memory))
        } else {
            verify_better_auth_scrypt(password, stored)
        };
        if ok {
            PasswordVerdict::Match {
                needs_rehash: !stored.starts_with(&self.current_prefix),
            }
        } else {
            PasswordVerdict::Mismatch
        }
    }

    /// Spends the same time as checking a real hash, for requests naming an unknown user, so
    /// response timing does not reveal whether an account exists.
    pub fn verify_dummy(&self, password: &Password) {
        self.verify_dummy_with(password, &mut HashMemory::default());
    }

    /// [`verify_dummy`](Self::verify_dummy), computing in `memory`.
    pub fn verify_dummy_with(&self, password: &Password, memory: &mut HashMemory) {
        static DUMMY: OnceLock<String> = OnceLock::new();
        let dummy = DUMMY.get_or_init(|| {
            self.hash_with(
                &Password::normalised("tessera dummy password for timing"),
                memory,
            )
        });
        let _ = self.verify_with(password, dummy, memory);
    }
}

/// Argon2's working memory (19 MiB at the default parameters), kept by a hashing thread
/// between hashes. Allocating it per hash costs a page fault per 4 KiB on every hash, and
/// glibc keeps freed blocks of this size in per-thread arenas, so a process that hashes on
/// many threads ends up holding one copy per thread it ever hashed on.
#[derive(Default)]
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashMemory")
            .field("kib", &self.blocks.len())
            .finish()
    }
}

impl HashMemory {
    /// Bytes currently held.
    pub fn held_bytes(&self) -> usize {
        self.blocks.len() * Block::SIZE
    }

    /// Gives back the memory (after a quiet spell).
    pub fn release(&mut self) {
        self.blocks = Vec::new();
    }

    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.blocks.len() < count {
            self.blocks = vec![Block::new(); count];
        }
        &mut self.blocks[..count]
    }
}

fn verify_argon2(password: &Password, hash: &PasswordHash, memory: &mut HashMemory) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = hash.version.map_or(Ok(Version::V0x13), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(hash) else {
        return false;
    };
    let count = params.block_count();
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    let argon = Argon2::new(algorithm, version, params);
    // A stored hash asking for more memory than Tessera's own parameters (an imported one,
    // say) is computed in a temporary buffer, so it does not pin that memory to the thread.
    let mut temporary = HashMemory::default();
    let memory = if count > ARGON2_M_KIB as usize {
        &mut temporary
    } else {
        memory
    };
    let computed = argon.hash_password_into_with_memory(
        password.expose().as_bytes(),
        salt.as_ref(),
        &mut out,
        memory.blocks(count),
    );
    computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// Better Auth's format: `<32 hex salt>:<128 hex key>`, scrypt N=16384 r=16 p=1 dkLen=64,
/// where the scrypt salt is the ASCII of the hex string (not its decoded bytes).
fn verify_better_auth_scrypt(password: &Password, stored: &str) -> bool {
    let Some((salt_hex, key_hex)) = stored.split_once(':') else {
        return false;
    };
    let Some(expected) = unhex(key_hex) else {
        return false;
    };
    if salt_hex.is_empty() || expected.len() != 64 {
        return false;
    }
    let Ok(params) = scrypt::Params::new(14, 16, 1) else {
        return false;
    };
    let mut out = Zeroizing::new([0u8; 64]);
    if scrypt::scrypt(
        password.expose().as_bytes(),
        salt_hex.as_bytes(),
        &params,
        out.as_mut(),
    )
    .is_err()
    {
        return false;
    }
    bool::from(out.as_ref().ct_eq(&expected))
}

/// Produces a Better Auth–format scrypt hash. Only tests and the import tooling's fixtures
/// need it; Tessera itself always stores Argon2id.
pub fn better_auth_scrypt_hash(password: &Password) -> String {
    let mut salt = [0u8; 16];
    random_bytes(&mut salt);
    let salt_hex = hex(&salt);
    let mut out = [0u8; 64];
    if let Ok(params) = scrypt::Params::new(14, 16, 1) {
        let _ = scrypt::scrypt(
            password.expose().as_bytes(),
            salt_hex.as_bytes(),
            &params,
            &mut out,
        );
    }
    format!("{salt_hex}:{}", hex(&out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::candidate(s).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn length_policy_counts_utf16_units_like_better_auth() {
        assert_eq!(
            Password::new("1234567").err(),
            Some(PasswordError::TooShort)
        );
        assert!(Password::new("12345678").is_ok());
        assert!(Password::new(&"x".repeat(128)).is_ok());
        assert_eq!(
            Password::new(&"x".repeat(129)).err(),
            Some(PasswordError::TooLong)
        );
        // four emoji are 8 UTF-16 units
        assert!(Password::new("🔑🔑🔑🔑").is_ok());
        assert_eq!(
            Password::candidate(&"x".repeat(129)).err(),
            Some(PasswordError::TooLong)
        );
        assert!(Password::candidate("short").is_ok());
    }

    #[test]
    fn argon2id_hash_has_owasp_parameters_and_verifies() {
        let hasher = PasswordHasher::default();
        let hash = hasher.hash(&pw("correct horse battery staple"));
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            hasher.verify(&pw("correct horse battery staple"), &hash),
            PasswordVerdict::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            hasher.verify(&pw("correct horse battery stapl"), &hash),
            PasswordVerdict::Mismatch
        );
        // salts differ
        assert_ne!(hash, hasher.hash(&pw("correct horse battery staple")));
    }

    #[test]
    fn nfkc_makes_composed_and_decomposed_forms_equal() {
        let hasher = PasswordHasher::new(1024, 1, 1).unwrap_or_else(|_| unreachable!());
        let nfc = "pässwörd-ñandú-🔑";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd);
        let hash = hasher.hash(&pw(nfc));
        assert!(matches!(
            hasher.verify(&pw(&nfd), &hash),
            PasswordVerdict::Match { .. }
        ));
    }

    #[test]
    fn weaker_argon2_parameters_ask_for_a_rehash() {
        let weak = PasswordHasher::new(1024, 1, 1).unwrap_or_else(|_| unreachable!());
        let hash = weak.hash(&pw("password123"));
        assert_eq!(
            PasswordHasher::default().verify(&pw("password123"), &hash),
            PasswordVerdict::Match { needs_rehash: true }
        );
    }

    #[test]
    fn verifies_the_better_auth_scrypt_vector_and_asks_for_rehash() {
        let stored = "f73246da9d0ff4fafec411caba66ee8b:4effeaaa9298d733c08cfcfd9f4d90cc1377a3f4be63b9082f3bed53965e3d6a49fdc3a696f3d252b3cbfa1fb5deb750fde444654ee1fdd5575196ab9ce16c12";
        let hasher = PasswordHasher::default();
        assert_eq!(
            hasher.verify(&pw("password123"), stored),
            PasswordVerdict::Match { needs_rehash: true }
        );
        assert_eq!(
            hasher.verify(&pw("password124"), stored),
            PasswordVerdict::Mismatch
        );
    }

    #[test]
    fn generated_scrypt_hashes_verify() {
        let h = better_auth_scrypt_hash(&pw("hunter2hunter2"));
        assert!(matches!(
            PasswordHasher::default().verify(&pw("hunter2hunter2"), &h),
            PasswordVerdict::Match { needs_rehash: true }
        ));
    }

    #[test]
    fn garbage_stored_values_never_match() {
        let hasher = PasswordHasher::default();
        for stored in ["", ":", "abc:def", "$argon2id$garbage", "zz:zz", "00:00"] {
            assert_eq!(
                hasher.verify(&pw("password123"), stored),
                PasswordVerdict::Mismatch
            );
        }
    }

    #[test]
    fn debug_is_redacted() {
        assert!(!format!("{:?}", pw("hunter2hunter2")).contains("hunter2"));
    }
}
