//! Ending tokens before their `exp`: a hook the verifier calls after every other check.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::claims::Claims;

/// Decides whether an otherwise valid token has been revoked.
///
/// Called on every successful verification (also on verified-token cache hits), after the
/// signature and every claim check, so it only ever sees authentic claims. Keep it
/// synchronous and cheap: an in-memory lookup, never I/O. A revoked token is refused with
/// [`VerifyError::Revoked`](crate::VerifyError::Revoked) (401 `invalid_token`).
///
/// Closures work too:
///
/// ```
/// use std::sync::Arc;
/// use tessera_verify::{Claims, RevocationCheck};
/// let banned_user = String::from("user-7");
/// let check: Arc<dyn RevocationCheck> = Arc::new(move |c: &Claims| c.sub == banned_user);
/// # let _ = check;
/// ```
pub trait RevocationCheck: Send + Sync + 'static {
    /// `true` if the token these claims came from must be refused.
    fn is_revoked(&self, claims: &Claims) -> bool;
}

impl<F> RevocationCheck for F
where
    F: Fn(&Claims) -> bool + Send + Sync + 'static,
{
    fn is_revoked(&self, claims: &Claims) -> bool {
        self(claims)
    }
}

/// A thread-safe set of revoked session ids (`sid` claims).
///
/// Share one between the code that ends sessions (sign-out, "revoke other sessions") and the
/// verifier: clones share the same set. Tokens **without** a `sid` claim are never affected.
/// An id only needs to stay in the set until the last token of that session has expired
/// (the issuer's token lifetime plus the verifier's leeway); remove it afterwards, or
/// [`replace_all`](Self::replace_all) periodically from the session store.
///
/// ```
/// use std::sync::Arc;
/// use tessera_verify::RevokedSessions;
/// let revoked = RevokedSessions::new();
/// revoked.insert("session-1");
/// assert!(revoked.contains("session-1"));
/// // Verifier::builder()...revocation(Arc::new(revoked.clone()))...
/// ```
#[derive(Clone, Default)]
pub struct RevokedSessions {
    ids: Arc<RwLock<HashSet<String>>>,
}

impl fmt::Debug for RevokedSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokedSessions")
            .field("len", &self.len())
            .finish()
    }
}

impl RevokedSessions {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Revokes a session; returns `false` if it already was.
    pub fn insert(&self, sid: impl Into<String>) -> bool {
        self.ids
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(sid.into())
    }

    /// Un-revokes a session (e.g. once its tokens can no longer be valid); returns whether it
    /// was present.
    pub fn remove(&self, sid: &str) -> bool {
        self.ids
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(sid)
    }

    /// Replaces the whole set, e.g. from a periodic read of the session store.
    pub fn replace_all<I, S>(&self, sids: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let fresh: HashSet<String> = sids.into_iter().map(Into::into).collect();
        *self.ids.write().unwrap_or_else(PoisonError::into_inner) = fresh;
    }

    /// Whether `sid` is revoked.
    #[must_use]
    pub fn contains(&self, sid: &str) -> bool {
        self.ids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(sid)
    }

    /// How many sessions are revoked.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether no session is revoked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl RevocationCheck for RevokedSessions {
    fn is_revoked(&self, claims: &Claims) -> bool {
        claims.sid.as_deref().is_some_and(|sid| self.contains(sid))
    }
}
