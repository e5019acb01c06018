//! The `email_password` harness: arbitrary text through `Email::parse`, `Password::new` and
//! `Password::candidate`.
//!
//! Shared by the fuzz target and tessera-core's regression test `tests/fuzz_regressions.rs`.
//! The input (lossy UTF-8) is used whole as an email address and as a password (also
//! through the common-password check).
//!
//! What must hold: nothing panics; an accepted address is the input lower-cased, ASCII,
//! within the length limits, holds exactly one `@`, and parses again to itself; a new
//! password is accepted exactly when it has 8 to 128 UTF-16 code units, a candidate exactly
//! when it has at most 128; both hold the NFKC form of the input, which is stable under
//! normalising again, and agree with each other.

use tessera_core::email::{MAX_EMAIL_LEN, MAX_LOCAL_LEN};
use tessera_core::password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use tessera_core::{Email, EmailError, Password, PasswordError};
use unicode_normalization::UnicodeNormalization as _;

/// Runs one input.
pub(crate) fn check_email_password(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_email(&text);
    check_password(&text);
}

/// The email properties for one text.
pub(crate) fn check_email(s: &str) {
    match Email::parse(s) {
        Ok(email) => {
            let e = email.as_str();
            assert_eq!(e, s.to_ascii_lowercase());
            assert!(e.is_ascii(), "{e:?}");
            assert!(!e.bytes().any(|b| b.is_ascii_uppercase()), "{e:?}");
            assert!(e.len() <= MAX_EMAIL_LEN, "{e:?}");
            assert_eq!(e.matches('@').count(), 1, "{e:?}");
            let (local, domain) = e.split_once('@').unwrap_or_default();
            assert!(!local.is_empty() && local.len() <= MAX_LOCAL_LEN, "{e:?}");
            assert!(domain.contains('.'), "{e:?}");
            assert!(
                !e.bytes()
                    .any(|b| b.is_ascii_control() || b.is_ascii_whitespace()),
                "{e:?}"
            );
            assert_eq!(Email::parse(e).as_ref(), Ok(&email), "not idempotent");
        }
        Err(EmailError::TooLong) => {
            let local = s.split_once('@').map_or("", |(l, _)| l);
            assert!(
                s.len() > MAX_EMAIL_LEN || local.len() > MAX_LOCAL_LEN,
                "{s:?}"
            );
        }
        Err(EmailError::Invalid) => {}
    }
}

/// The password properties for one text.
pub(crate) fn check_password(s: &str) {
    let units = s.encode_utf16().count();
    let nfkc: String = s.nfkc().collect();
    let new = Password::new(s);
    let candidate = Password::candidate(s);
    match &new {
        Ok(p) => {
            assert!((MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&units));
            assert_eq!(p.expose(), nfkc);
        }
        Err(PasswordError::TooShort) => assert!(units < MIN_PASSWORD_LEN),
        Err(PasswordError::TooLong) => assert!(units > MAX_PASSWORD_LEN),
    }
    match &candidate {
        Ok(p) => {
            assert!(units <= MAX_PASSWORD_LEN);
            assert_eq!(p.expose(), nfkc);
            // NFKC is idempotent: normalising the held form changes nothing.
            let again: String = p.expose().nfkc().collect();
            assert_eq!(again, p.expose());
            // The common-password check takes any password without panicking.
            let _ = tessera_core::common::is_common(p);
        }
        Err(PasswordError::TooLong) => assert!(units > MAX_PASSWORD_LEN),
        Err(PasswordError::TooShort) => panic!("a candidate has no lower bound"),
    }
    if let Ok(p) = &new {
        let c = candidate.as_ref().map(Password::expose);
        assert_eq!(c, Ok(p.expose()), "new accepted what candidate refused");
    }
}
