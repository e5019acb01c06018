//! Random identifiers: 32 characters of `[A-Za-z0-9]` like Better Auth's `generateId(32)`
//! (about 190 bits), drawn from the operating system's CSPRNG.

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Length of user, session, key and task ids, and of session tokens.
pub const ID_LEN: usize = 32;

/// Fills `buf` with cryptographically secure random bytes.
///
/// # Panics
/// Only if the operating system's random source fails, which leaves nothing safe to do.
#[allow(clippy::expect_used)]
pub fn random_bytes(buf: &mut [u8]) {
    aws_lc_rs::rand::fill(buf).expect("the OS random source failed");
}

/// A random string of `len` alphanumeric characters, unbiased (rejection sampling).
pub fn random_alphanumeric(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut pool = [0u8; 64];
    while out.len() < len {
        random_bytes(&mut pool);
        for &b in &pool {
            // 248 = 4 * 62: bytes at or above it would favour the first characters.
            if b < 248 {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
                if out.len() == len {
                    break;
                }
            }
        }
    }
    out
}

/// A new 32-character id.
pub fn new_id() -> String {
    random_alphanumeric(ID_LEN)
}

/// True when `s` has the shape of an id this server issues (used to reject hostile path
/// segments before they reach the database).
pub fn looks_like_id(s: &str) -> bool {
    s.len() == ID_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_32_alphanumerics_and_distinct() {
        let ids: HashSet<String> = (0..1000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| looks_like_id(id)));
    }

    #[test]
    fn every_character_of_the_alphabet_appears() {
        let s = random_alphanumeric(20_000);
        let seen: HashSet<char> = s.chars().collect();
        assert_eq!(seen.len(), 62);
    }
}
