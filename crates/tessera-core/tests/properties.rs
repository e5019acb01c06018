//! Property tests of the input newtypes: `Email` (on top of the unit properties in
//! `src/email.rs`) and the password policy.

#![allow(clippy::expect_used)]

use proptest::prelude::*;
use tessera_core::email::{MAX_EMAIL_LEN, MAX_LOCAL_LEN};
use tessera_core::password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use tessera_core::{Email, EmailError, Password, PasswordError, PasswordHasher, PasswordVerdict};
use unicode_normalization::UnicodeNormalization as _;

/// A valid address in random case: local part, domain labels, alphabetic TLD.
fn address() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z0-9_+-]{1,20}(\\.[a-zA-Z0-9_'+-]{0,9}[a-zA-Z0-9_+-]){0,2}",
        "[a-zA-Z0-9][a-zA-Z0-9-]{0,15}(\\.[a-zA-Z0-9][a-zA-Z0-9-]{0,10}){0,2}",
        "[a-zA-Z]{2,6}",
    )
        .prop_map(|(local, domain, tld)| format!("{local}@{domain}.{tld}"))
}

fn utf16_units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Text mixing ASCII, Latin-1, combining marks, compatibility characters (ligatures,
/// full-width forms, the 18-character U+FDFA) and astral emoji: lengths in UTF-16 units
/// differ from lengths in chars, and NFKC changes many of them.
fn password_text(max_chars: usize) -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        4 => proptest::char::range('!', '~'),
        1 => Just(' '),
        1 => proptest::char::range('\u{a0}', '\u{ff}'),
        1 => proptest::char::range('\u{300}', '\u{36f}'),
        1 => proptest::sample::select(vec!['\u{fb01}', '\u{ff21}', '\u{fdfa}', '\u{2460}', '\u{212b}']),
        1 => proptest::char::range('\u{1f300}', '\u{1f5ff}'),
    ];
    proptest::collection::vec(ch, 0..max_chars).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Parsing is idempotent: the stored form parses to itself.
    #[test]
    fn email_parse_is_idempotent(addr in address()) {
        let once = Email::parse(&addr).expect("a generated address parses");
        let twice = Email::parse(once.as_str()).expect("the normalised form parses");
        prop_assert_eq!(once.as_str(), twice.as_str());
    }

    /// The stored form is the input lower-cased, with no upper-case letter left.
    #[test]
    fn email_output_is_the_lower_cased_input(addr in address()) {
        let e = Email::parse(&addr).expect("a generated address parses");
        prop_assert_eq!(e.as_str(), addr.to_ascii_lowercase());
        prop_assert!(!e.as_str().bytes().any(|b| b.is_ascii_uppercase()));
    }

    /// No address holding a non-ASCII character is accepted, wherever it sits (homoglyphs,
    /// full-width `＠`, zero-width spaces, IDN): nothing is normalised into another account.
    #[test]
    fn email_never_accepts_non_ascii(
        addr in address(),
        at in any::<prop::sample::Index>(),
        c in prop_oneof![
            proptest::char::range('\u{80}', '\u{7ff}'),
            proptest::sample::select(vec!['\u{430}', '\u{ff20}', '\u{200b}', '\u{feff}', 'ä', 'ß']),
            any::<char>().prop_filter("non-ASCII", |c| !c.is_ascii()),
        ],
    ) {
        let mut s = addr.clone();
        let boundaries: Vec<usize> = (0..=s.len()).collect();
        s.insert(*at.get(&boundaries), c);
        prop_assert!(Email::parse(&s).is_err(), "{:?}", s);
    }

    /// Whitespace and control characters are refused, never trimmed.
    #[test]
    fn email_never_accepts_whitespace_or_controls(
        addr in address(),
        at in any::<prop::sample::Index>(),
        c in prop_oneof![proptest::char::range('\0', ' '), Just('\u{7f}')],
    ) {
        let mut s = addr.clone();
        let boundaries: Vec<usize> = (0..=s.len()).collect();
        s.insert(*at.get(&boundaries), c);
        prop_assert!(Email::parse(&s).is_err(), "{:?}", s);
    }

    /// Length bounds: a local part up to 64 bytes and an address up to 254 bytes are
    /// accepted; one byte more is `TooLong`.
    #[test]
    fn email_length_bounds(local_len in 1usize..=80, domain_len in 1usize..=260) {
        let addr = format!("{}@{}.test", "a".repeat(local_len), "b".repeat(domain_len));
        let result = Email::parse(&addr);
        if addr.len() > MAX_EMAIL_LEN || local_len > MAX_LOCAL_LEN {
            prop_assert_eq!(result, Err(EmailError::TooLong));
        } else {
            prop_assert!(result.is_ok(), "{}", addr);
        }
    }

    /// `Password::new` accepts exactly 8 to 128 UTF-16 code units and `candidate` anything
    /// up to 128, counted on the text as received (before NFKC).
    #[test]
    fn password_length_policy_counts_utf16_units(s in password_text(140)) {
        let units = utf16_units(&s);
        let new = Password::new(&s).map(|p| p.expose().to_owned());
        let candidate = Password::candidate(&s).map(|p| p.expose().to_owned());
        if units < MIN_PASSWORD_LEN {
            prop_assert_eq!(new.clone(), Err(PasswordError::TooShort));
        } else if units > MAX_PASSWORD_LEN {
            prop_assert_eq!(new.clone(), Err(PasswordError::TooLong));
        } else {
            prop_assert!(new.is_ok());
        }
        if units > MAX_PASSWORD_LEN {
            prop_assert_eq!(candidate.clone(), Err(PasswordError::TooLong));
        } else {
            prop_assert!(candidate.is_ok());
        }
        // Whatever `new` accepts, `candidate` accepts and holds identically.
        if let Ok(n) = new {
            prop_assert_eq!(Ok(n), candidate);
        }
    }

    /// The held form is the NFKC form, and normalising it again changes nothing.
    #[test]
    fn password_normalisation_is_nfkc_and_idempotent(s in password_text(60)) {
        let p = Password::candidate(&s).expect("within the upper bound");
        let nfkc: String = s.nfkc().collect();
        prop_assert_eq!(p.expose(), nfkc.as_str());
        let again: String = p.expose().nfkc().collect();
        prop_assert_eq!(again.as_str(), p.expose());
        if utf16_units(p.expose()) <= MAX_PASSWORD_LEN {
            let q = Password::candidate(p.expose()).expect("within the upper bound");
            prop_assert_eq!(q.expose(), p.expose());
        }
    }

    /// Composed and decomposed spellings of one text are one password.
    #[test]
    fn password_nfc_and_nfd_forms_are_the_same_password(s in password_text(40)) {
        let nfc: String = s.nfc().collect();
        let nfd: String = s.nfd().collect();
        let a = Password::candidate(&nfc).expect("within the upper bound");
        let b = Password::candidate(&nfd).expect("within the upper bound");
        prop_assert_eq!(a.expose(), b.expose());
    }
}

proptest! {
    // Hashing (with deliberately tiny Argon2 parameters) is slower; fewer cases.
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A password set in one normal form signs in with the other, and not with a different
    /// text.
    #[test]
    fn a_hash_verifies_every_spelling_of_its_password_and_nothing_else(
        s in password_text(30).prop_filter("policy length, composed", |s| {
            let nfc: String = s.nfc().collect();
            (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&utf16_units(&nfc))
        }),
        other in password_text(30),
    ) {
        let hasher = PasswordHasher::new(8, 1, 1).expect("valid parameters");
        let nfc: String = s.nfc().collect();
        let nfd: String = s.nfd().collect();
        let hash = hasher.hash(&Password::new(&nfc).expect("within the policy"));
        let by_nfd = hasher.verify(&Password::candidate(&nfd).expect("within the bound"), &hash);
        let matched = matches!(by_nfd, PasswordVerdict::Match { .. });
        prop_assert!(matched, "the NFD spelling did not verify");
        let other_nfkc: String = other.nfkc().collect();
        let self_nfkc: String = s.nfkc().collect();
        if other_nfkc != self_nfkc {
            let by_other =
                hasher.verify(&Password::candidate(&other).expect("within the bound"), &hash);
            prop_assert_eq!(by_other, PasswordVerdict::Mismatch);
        }
    }
}
