//! Passwords: hashing and checking on the dedicated threads of [`pool`], the refusal of
//! common passwords, and the answers to broken account rules ([`account_refused`]). Every way in that takes a password goes through [`Passwords`].

pub(crate) mod pool;

use std::sync::Arc;
use std::time::Duration;

use tessera_core::account::{AccountError, NameError};
use tessera_core::text::MAX_NAME_CHARS;
use tessera_core::{Password, PasswordHasher, PasswordVerdict};

use crate::http::ApiError;
use crate::http::ErrorCode;
pub use pool::HashStats;
use pool::{HashPool, HashRefused};

/// Hashes and checks passwords off the async runtime. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Passwords(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    hasher: Arc<PasswordHasher>,
    pool: HashPool,
}

impl Passwords {
    /// Starts `threads` hashing threads; a check that would wait longer than `max_wait` is
    /// refused with 503.
    ///
    /// # Errors
    /// The operating system refused a thread.
    pub fn start(threads: usize, max_wait: Duration) -> std::io::Result<Self> {
        Ok(Self(Arc::new(Inner {
            hasher: Arc::default(),
            pool: HashPool::new(threads, max_wait)?,
        })))
    }

    /// The hashing queue's counters (for `/metrics`).
    pub fn stats(&self) -> Arc<HashStats> {
        self.0.pool.stats()
    }

    /// Hashes a new password.
    pub(crate) async fn hash(&self, password: Password) -> Result<String, ApiError> {
        let hasher = self.0.hasher.clone();
        self.0
            .pool
            .run(move |memory| hasher.hash_with(&password, memory))
            .await
            .map_err(refused)
    }

    /// Checks a password; with no stored hash, spends the same time on a dummy hash and
    /// reports a mismatch (unknown and known accounts take the same time).
    pub(crate) async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<PasswordVerdict, ApiError> {
        let hasher = self.0.hasher.clone();
        self.0
            .pool
            .run(move |memory| match stored {
                Some(hash) => hasher.verify_with(&password, &hash, memory),
                None => {
                    hasher.verify_dummy_with(&password, memory);
                    PasswordVerdict::Mismatch
                }
            })
            .await
            .map_err(refused)
    }
}

/// Refuses passwords from the common-password list (and its patterns).
pub(crate) fn refuse_common(password: &Password) -> Result<(), ApiError> {
    if tessera_core::common::is_common(password) {
        return Err(common_refusal());
    }
    Ok(())
}

/// The answer to a common password (sign-up, change-password).
pub(crate) fn common_refusal() -> ApiError {
    ApiError::new(
        ErrorCode::PasswordCompromised,
        "This password is too common. Choose a less predictable one.",
    )
}

/// A hashing job that did not run: 503 with `Retry-After` when the queue is full.
fn refused(why: HashRefused) -> ApiError {
    match why {
        HashRefused::Busy(wait) => ApiError::overloaded(wait.as_secs().max(1)),
        HashRefused::Failed => ApiError::internal(&"password hashing failed"),
    }
}

/// Sign-up's answer to a broken account rule (the rules: `tessera_core::account`).
pub(crate) fn account_refused(e: AccountError) -> ApiError {
    match e {
        AccountError::Name(NameError::TooLong) => ApiError::validation(format!(
            "[body.name] Too big: expected string to have <={MAX_NAME_CHARS} characters"
        )),
        AccountError::Name(NameError::Control) => {
            ApiError::validation("[body.name] Invalid input: control characters are not allowed")
        }
        // Better Auth accepts an empty name; one made only of invisible or bidirectional-
        // control characters would show as nothing (or flip the text around it) on the
        // sessions page.
        AccountError::Name(NameError::Invisible) => ApiError::validation(
            "[body.name] Invalid input: the name must contain a visible character",
        ),
        AccountError::Email(_) => ApiError::validation("[body.email] Invalid email address"),
        AccountError::Password(e) => e.into(),
        AccountError::CommonPassword => common_refusal(),
    }
}
