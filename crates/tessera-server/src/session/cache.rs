//! A one-second memory of session lookups, for one-process (SQLite) deployments.
//!
//! `get-session` and `/api/auth/token` are called on every page load and token renewal;
//! the database read was most of their cost. An entry lives for [`TTL`] at most, is dropped
//! the moment this process ends its session, and is refused on a hit once the session is in
//! the revocation set, which also learns within about a second of sessions ended by
//! `tessera` admin commands. So a revocation takes effect here at once, and one made
//! outside this process within the same second or so it already takes for access tokens.
//! With PostgreSQL (several instances) there is no cache: a sign-out on one instance ends
//! the session token on all of them at once.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use tessera_store::{Session, User};

/// How long a looked-up session may be answered from memory.
pub(crate) const TTL: Duration = Duration::from_secs(1);

/// Sessions remembered at most (a few hundred bytes each).
const CAPACITY: usize = 4096;

#[derive(Debug)]
struct Entry {
    session: Session,
    user: User,
    at: Instant,
}

/// Session and user by token digest.
#[derive(Debug, Default)]
pub(crate) struct SessionCache {
    entries: RwLock<HashMap<String, Entry>>,
}

impl SessionCache {
    /// The remembered session for `digest`, if looked up less than [`TTL`] ago.
    pub(crate) fn get(&self, digest: &str) -> Option<(Session, User)> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let e = entries.get(digest)?;
        (e.at.elapsed() < TTL).then(|| (e.session.clone(), e.user.clone()))
    }

    /// Remembers a lookup.
    pub(crate) fn insert(&self, digest: &str, session: &Session, user: &User) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.retain(|_, e| e.at.elapsed() < TTL);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            digest.to_owned(),
            Entry {
                session: session.clone(),
                user: user.clone(),
                at: Instant::now(),
            },
        );
    }

    /// Forgets one token's entry (its session row changed).
    pub(crate) fn forget(&self, digest: &str) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(digest);
    }

    /// Forgets every entry of this user's sessions (their user row changed: name, address).
    pub(crate) fn forget_user(&self, user_id: &str) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|_, e| e.user.id != user_id);
    }

    /// Forgets every entry of these sessions.
    pub(crate) fn forget_sessions(&self, session_ids: &[String]) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|_, e| !session_ids.contains(&e.session.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str) -> (Session, User) {
        let user = User {
            id: "u1".into(),
            name: "U".into(),
            email: "u@x.test".into(),
            email_verified: false,
            image: None,
            created_at: 1,
            updated_at: 1,
            disabled_at: None,
        };
        let session = Session {
            id: id.into(),
            user_id: "u1".into(),
            expires_at: 10,
            created_at: 1,
            updated_at: 1,
            ip_address: String::new(),
            user_agent: String::new(),
            remember: true,
        };
        (session, user)
    }

    #[test]
    fn remembers_until_forgotten_by_digest_or_session() {
        let cache = SessionCache::default();
        let (s1, u) = row("s1");
        let (s2, _) = row("s2");
        cache.insert("d1", &s1, &u);
        cache.insert("d2", &s2, &u);
        assert_eq!(cache.get("d1").map(|(s, _)| s.id), Some("s1".into()));
        cache.forget_sessions(&["s1".into()]);
        assert!(cache.get("d1").is_none());
        assert!(cache.get("d2").is_some());
        cache.forget("d2");
        assert!(cache.get("d2").is_none());
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = SessionCache::default();
        let (s, u) = row("s1");
        cache.insert("d1", &s, &u);
        if let Some(e) = cache
            .entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut("d1")
        {
            e.at -= TTL;
        }
        assert!(cache.get("d1").is_none());
    }
}
