//! Refusing the passwords attackers try first (NIST SP 800-63B §3.1.1.2): a list of 38,452
//! common passwords shipped in the binary (`data/common-passwords.txt`, from OWASP SecLists),
//! plus the patterns such lists are made of — keyboard and alphabet runs, repetitions, and a
//! common word followed by a run of digits or a year. No composition rules.
//!
//! Checking costs a linear scan of the embedded list (about 0.3 ms), nothing next to the
//! Argon2 hash that follows it, and no memory beyond the binary's own pages.

use crate::password::Password;

static LIST: &str = include_str!("../data/common-passwords.txt");

/// Keyboard rows and sequences; a password that is a stretch of one of these (forwards or
/// backwards, wrapping around) is a walk, not a secret.
const RUNS: [&str; 5] = [
    "1234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "qazwsxedcrfvtgbyhnujmikolp",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
];

/// Words that top every breach list, for the "word + digits" pattern (the embedded list only
/// holds passwords of 8 or more characters).
const WORDS: [&str; 24] = [
    "password", "passw0rd", "qwerty", "letmein", "welcome", "admin", "iloveyou", "monkey",
    "dragon", "football", "baseball", "master", "sunshine", "princess", "login", "abc", "trustno1",
    "shadow", "superman", "michael", "secret", "hello", "freedom", "whatever",
];

/// Whether the password is common or follows a pattern common passwords follow.
pub fn is_common(password: &Password) -> bool {
    let lower = password.expose().to_lowercase();
    in_list(&lower) || is_run(&lower) || is_repetition(&lower) || is_word_and_digits(&lower)
}

fn in_list(lower: &str) -> bool {
    LIST.lines().any(|l| l == lower)
}

fn is_run(s: &str) -> bool {
    s.len() >= 4
        && RUNS.iter().any(|run| {
            let doubled = format!("{run}{run}");
            let reversed: String = doubled.chars().rev().collect();
            doubled.contains(s) || reversed.contains(s)
        })
}

fn is_repetition(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    (1..=4).any(|unit| {
        chars.len() >= unit * 2
            && chars.len().is_multiple_of(unit)
            && chars.chunks(unit).all(|c| c == &chars[..unit])
    })
}

fn is_word_and_digits(s: &str) -> bool {
    let base = s.trim_end_matches(|c: char| c.is_ascii_digit() || "!@#$%^&*.?".contains(c));
    let suffix = &s[base.len()..];
    let digits: String = suffix.chars().filter(char::is_ascii_digit).collect();
    let weak_suffix = digits.is_empty()
        || is_run(&digits)
        || is_repetition(&digits)
        || (digits.len() == 4 && (digits.starts_with("19") || digits.starts_with("20")))
        || digits.len() <= 2;
    !suffix.is_empty()
        && weak_suffix
        && (WORDS.contains(&base) || (base.len() >= 8 && in_list(base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common(s: &str) -> bool {
        is_common(&Password::candidate(s).unwrap_or_else(|_| unreachable!()))
    }

    #[test]
    fn the_list_is_embedded_sorted_and_large() {
        let lines: Vec<&str> = LIST.lines().collect();
        assert!(lines.len() >= 10_000);
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() >= 8 && *l == l.to_lowercase())
        );
    }

    #[test]
    fn refuses_the_checklists_examples_and_listed_passwords() {
        for pw in [
            "password123456",
            "123456789012345",
            "qwertyuiopasdfgh",
            "password",
            "Password1",
            "iloveyou2",
            "12345678",
            "87654321",
            "aaaaaaaa",
            "abcabcabcabc",
            "zxcvbnm123",
            "1qaz2wsx3edc",
            "Football2024",
            "letmein!!",
        ] {
            assert!(common(pw), "{pw} should be refused");
        }
    }

    #[test]
    fn accepts_ordinary_passphrases_without_composition_rules() {
        for pw in [
            "correct horse battery staple",
            "pässwörd-ñandú-🔑",
            "my cat eats tulips",
            "Tr0ub4dor&3 but longer",
            "blue-lantern-harbor",
            "password manager generated: k3Jq9vX2",
        ] {
            assert!(!common(pw), "{pw} should be accepted");
        }
    }
}
