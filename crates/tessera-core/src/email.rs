//! Email addresses as Better Auth accepts them: the ASCII grammar of zod's `z.email()`,
//! lower-cased for storage and uniqueness.
//!
//! Policy (documented in SECURITY.md): only ASCII addresses are accepted, so homoglyphs,
//! full-width `＠` and zero-width characters are rejected rather than normalised into some
//! other account; case is folded (`USER@X.TEST` is `user@x.test`); nothing is trimmed.

use std::fmt;

/// Longest address accepted (RFC 5321's path limit); longer input is refused before parsing.
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part (RFC 5321).
pub const MAX_LOCAL_LEN: usize = 64;

/// A syntactically valid, lower-cased email address.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Why an address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Longer than [`MAX_EMAIL_LEN`] or its local part longer than [`MAX_LOCAL_LEN`].
    #[error("email address is too long")]
    TooLong,
    /// Does not match the address grammar.
    #[error("invalid email address")]
    Invalid,
}

impl Email {
    /// Parses and lower-cases an address.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        if input.len() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = input.split_once('@').ok_or(EmailError::Invalid)?;
        if local.len() > MAX_LOCAL_LEN {
            return Err(EmailError::TooLong);
        }
        if !valid_local(local) || !valid_domain(domain) {
            return Err(EmailError::Invalid);
        }
        Ok(Self(input.to_ascii_lowercase()))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the wrapper.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Addresses are personal data: logs get the domain only.
        let domain = self.0.split_once('@').map_or("", |(_, d)| d);
        write!(f, "Email(…@{domain})")
    }
}

fn local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'\'' | b'+' | b'-')
}

/// `(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]`: dot-separated non-empty
/// segments of the allowed characters, not ending in an apostrophe.
fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local
            .split('.')
            .all(|seg| !seg.is_empty() && seg.bytes().all(local_char))
        && !local.ends_with('\'')
}

/// `(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}`: at least one label before an alphabetic
/// top-level label of two or more letters.
fn valid_domain(domain: &str) -> bool {
    let Some((labels, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    let label_ok = |l: &str| {
        let mut bytes = l.bytes();
        matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric())
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic())
        && labels.split('.').all(label_ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_lowercases_ordinary_addresses() {
        assert_eq!(
            Email::parse("Alice@Example.com").map(|e| e.0),
            Ok("alice@example.com".into())
        );
        assert!(Email::parse("first.last+tag@sub.example.co.uk").is_ok());
        assert!(Email::parse("o'neil_x-y@a-b.io").is_ok());
    }

    #[test]
    fn refuses_what_zod_refuses() {
        for bad in [
            "plainaddress",
            "a@",
            "@x.test",
            "a@x",
            "a@x.t",
            "a@x.t3st",
            "a..b@x.test",
            ".a@x.test",
            "a.@x.test",
            "a'@x.test",
            "a @x.test",
            "a@x.test\r\nBcc: v@x.test",
            "a@-x.test",
            "a@x..test",
            "a@b@x.test",
            "аdmin@x.test",         // Cyrillic а
            "admin＠x.test",        // full-width at sign
            "ad\u{200b}min@x.test", // zero-width space
            "user@exämple.test",
            "a\u{0}@x.test",
            "' OR '1'='1@x.test",
            "",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn refuses_overlong_addresses() {
        let long_local = format!("{}@x.test", "a".repeat(65));
        assert_eq!(Email::parse(&long_local), Err(EmailError::TooLong));
        let long = format!("a@{}.test", "b".repeat(300));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn debug_hides_the_local_part() {
        let e = Email::parse("secret.person@x.test").unwrap_or_else(|_| unreachable!());
        assert!(!format!("{e:?}").contains("secret"));
    }

    proptest! {
        #[test]
        fn parse_never_panics_and_output_is_lowercase(s in "\\PC{0,80}") {
            if let Ok(e) = Email::parse(&s) {
                prop_assert_eq!(e.as_str(), s.to_ascii_lowercase());
                prop_assert!(e.as_str().is_ascii());
            }
        }

        #[test]
        fn generated_valid_addresses_parse(local in "[a-z0-9_+-]{1,20}(\\.[a-z0-9_+-]{1,10}){0,2}",
                                           domain in "[a-z0-9][a-z0-9-]{0,20}(\\.[a-z0-9][a-z0-9-]{0,10}){0,2}",
                                           tld in "[a-zA-Z]{2,6}") {
            let addr = format!("{local}@{domain}.{tld}");
            prop_assert!(Email::parse(&addr).is_ok(), "{}", addr);
        }

        #[test]
        fn case_variants_normalise_to_one_address(local in "[a-zA-Z]{1,20}", dom in "[a-zA-Z]{1,20}") {
            let a = Email::parse(&format!("{local}@{dom}.test"));
            let b = Email::parse(&format!("{}@{}.TEST", local.to_uppercase(), dom.to_lowercase()));
            prop_assert_eq!(a, b);
        }
    }
}
