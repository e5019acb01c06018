//! The rules a new account must meet, in one place: sign-up (`POST /api/auth/sign-up/email`)
//! and `tessera users create` both build a [`NewAccount`], so an account an operator creates
//! can never break a rule that a visitor's would be refused for.
//!
//! The name is checked on its own ([`AccountName::parse`]) because sign-up checks it with the
//! body's schema, before the email and password (Better Auth's order of errors); a
//! [`NewAccount`] can only be made from an `AccountName`, so no path skips it.

use crate::text::{MAX_NAME_CHARS, has_visible};
use crate::{Email, EmailError, Password, PasswordError};

/// Why a display name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// More than [`MAX_NAME_CHARS`] characters.
    #[error("the name is longer than {MAX_NAME_CHARS} characters")]
    TooLong,
    /// A control character (newline, escape, …).
    #[error("the name contains a control character")]
    Control,
    /// Not empty, yet nothing in it shows (see [`crate::text`]).
    #[error("the name must contain a visible character")]
    Invisible,
}

/// Why a new account was refused, in the order the rules are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// The display name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The email address.
    #[error(transparent)]
    Email(#[from] EmailError),
    /// The password's length.
    #[error(transparent)]
    Password(#[from] PasswordError),
    /// The password is on the common-passwords list.
    #[error("this password is too common; choose a less predictable one")]
    CommonPassword,
}

/// A display name that passed the rules: at most [`MAX_NAME_CHARS`] characters, no control
/// characters, and empty or with at least one visible character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName(String);

impl AccountName {
    /// Checks a display name. Empty is allowed (as Better Auth allows it).
    pub fn parse(name: &str) -> Result<Self, NameError> {
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(NameError::Control);
        }
        if !name.is_empty() && !has_visible(name) {
            return Err(NameError::Invisible);
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// A new account's details, every rule met; what remains is hashing the password and
/// storing the user.
#[derive(Debug)]
pub struct NewAccount {
    /// Display name.
    pub name: AccountName,
    /// Normalised email address.
    pub email: Email,
    /// The password (not yet hashed).
    pub password: Password,
}

impl NewAccount {
    /// Every rule, name first (`tessera users create`).
    pub fn parse(name: &str, email: &str, password: &str) -> Result<Self, AccountError> {
        Self::new(AccountName::parse(name)?, email, password)
    }

    /// The email and password rules, for a name already checked (sign-up checks it with the
    /// body's schema): the address must parse, the password must be of a valid length and
    /// not a common one.
    pub fn new(name: AccountName, email: &str, password: &str) -> Result<Self, AccountError> {
        let email = Email::parse(email)?;
        let password = Password::new(password)?;
        if crate::common::is_common(&password) {
            return Err(AccountError::CommonPassword);
        }
        Ok(Self {
            name,
            email,
            password,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded_visible_and_free_of_control_characters() {
        assert!(AccountName::parse("").is_ok());
        assert!(AccountName::parse("Ada Lovelace").is_ok());
        assert_eq!(
            AccountName::parse(&"x".repeat(MAX_NAME_CHARS + 1)),
            Err(NameError::TooLong)
        );
        assert_eq!(AccountName::parse("a\nb"), Err(NameError::Control));
        assert_eq!(
            AccountName::parse("\u{202E}\u{200B}"),
            Err(NameError::Invisible)
        );
    }

    #[test]
    fn an_account_needs_a_valid_email_and_an_uncommon_password_of_valid_length() {
        let ok = NewAccount::parse("Ada", "Ada@Example.com", "correct horse battery");
        assert!(ok.is_ok(), "{ok:?}");
        assert!(matches!(
            NewAccount::parse("Ada", "not-an-email", "correct horse battery"),
            Err(AccountError::Email(_))
        ));
        assert!(matches!(
            NewAccount::parse("Ada", "ada@example.com", "short"),
            Err(AccountError::Password(PasswordError::TooShort))
        ));
        assert!(matches!(
            NewAccount::parse("Ada", "ada@example.com", "password123"),
            Err(AccountError::CommonPassword)
        ));
        assert!(matches!(
            NewAccount::parse("a\u{0007}", "not-an-email", "short"),
            Err(AccountError::Name(NameError::Control))
        ));
    }
}
