//! Property tests of the input newtypes: `Email` (on top of the unit properties in
//! `src/email.rs`) and the password policy; and of the session lifecycle rules
//! (`src/lifecycle.rs`): sliding expiry and the refresh rotate / replay / reuse decision.

#![allow(clippy::expect_used)]

use proptest::prelude::*;
use tessera_core::email::{MAX_EMAIL_LEN, MAX_LOCAL_LEN};
use tessera_core::password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use tessera_core::{
    Email, EmailError, Password, PasswordError, PasswordHasher, PasswordVerdict,
    PresentedCredential, RefreshDecision, SessionLifetime, decide_refresh,
};
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

/// Timestamps and durations over the whole range, with the realistic region weighted in.
fn instant() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 0i64..4_000_000_000_000, 1 => any::<i64>()]
}

fn span() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 0i64..100_000_000_000, 1 => 0i64..=i64::MAX]
}

fn lifetime() -> impl Strategy<Value = SessionLifetime> {
    (span(), span()).prop_map(|(idle_ms, max_lifetime_ms)| SessionLifetime {
        idle_ms,
        max_lifetime_ms,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Activity never carries a session past its absolute lifetime, and inside it the new
    /// expiry is exactly now + the idle timeout.
    #[test]
    fn extension_is_idle_timeout_capped_by_absolute_lifetime(
        life in lifetime(), created in instant(), now in instant(),
    ) {
        let e = life.extended_expiry(created, now);
        prop_assert!(e <= created.saturating_add(life.max_lifetime_ms));
        if now.saturating_add(life.idle_ms) <= created.saturating_add(life.max_lifetime_ms) {
            prop_assert_eq!(e, now.saturating_add(life.idle_ms));
        }
    }

    /// Later activity never shortens a session.
    #[test]
    fn extension_is_monotonic_in_time(
        life in lifetime(), created in instant(), now in instant(), later in span(),
    ) {
        prop_assert!(
            life.extended_expiry(created, now) <= life.extended_expiry(created, now.saturating_add(later))
        );
    }

    /// Sliding only ever moves an expiry forward, to what activity gives, and never before
    /// `update_age` has passed since the expiry was last set.
    #[test]
    fn sliding_moves_forward_only_when_due(
        life in lifetime(), created in instant(), expires in instant(),
        update_age in span(), now in instant(),
    ) {
        match life.slide(created, expires, update_age, now) {
            Some(e) => {
                prop_assert!(e > expires);
                prop_assert_eq!(e, life.extended_expiry(created, now));
                prop_assert!(expires.saturating_sub(life.idle_ms).saturating_add(update_age) <= now);
            }
            None => prop_assert!(
                expires.saturating_sub(life.idle_ms).saturating_add(update_age) > now
                    || life.extended_expiry(created, now) <= expires
            ),
        }
    }

    /// A session's current credential always rotates.
    #[test]
    fn a_current_credential_rotates(now in instant(), grace in span()) {
        prop_assert_eq!(decide_refresh(PresentedCredential::Current, now, grace), RefreshDecision::Rotate);
    }

    /// A rotated credential never rotates again: replay inside the window while its successor
    /// is unused, reuse otherwise.
    #[test]
    fn a_rotated_credential_is_replay_or_reuse(
        at in instant(), successor_unused in any::<bool>(), now in instant(), grace in span(),
    ) {
        let d = decide_refresh(PresentedCredential::Rotated { at_ms: at, successor_unused }, now, grace);
        let inside = now.saturating_sub(at) <= grace;
        prop_assert_eq!(
            d,
            if successor_unused && inside { RefreshDecision::Replay } else { RefreshDecision::Reuse }
        );
    }

    /// Once a presentation counts as reuse, presenting the same credential later does too:
    /// waiting never turns theft back into a replay.
    #[test]
    fn reuse_is_final(
        at in instant(), successor_unused in any::<bool>(), now in instant(),
        later in span(), grace in span(),
    ) {
        let c = PresentedCredential::Rotated { at_ms: at, successor_unused };
        if decide_refresh(c, now, grace) == RefreshDecision::Reuse {
            prop_assert_eq!(decide_refresh(c, now.saturating_add(later), grace), RefreshDecision::Reuse);
        }
    }
}
