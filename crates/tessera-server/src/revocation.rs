//! Which sessions have ended, for the access-token verifier: the in-memory set the tasks API
//! checks on every request, and the bookkeeping that keeps it right while it is rebuilt from
//! the database each second (see `upkeep`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use tessera_verify::RevokedSessions;

/// How long a session this process ended is kept in the set regardless of rebuilds.
const RECENT_MS: i64 = 10_000;

/// The ended-sessions set and its log. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Revocations(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Sessions ended; the in-process tasks API refuses their tokens at once.
    revoked: RevokedSessions,
    /// Sessions this process ended in the last seconds, with when (unix ms). A rebuild from
    /// a database read that started before such a session's revocation was committed must
    /// not drop it, so rebuilds add these back under the same lock.
    recently_ended: Mutex<VecDeque<(String, i64)>>,
}

impl Revocations {
    /// Shares `revoked` (the set a verifier checks).
    pub fn new(revoked: RevokedSessions) -> Self {
        Self(Arc::new(Inner {
            revoked,
            recently_ended: Mutex::default(),
        }))
    }

    /// The set a verifier checks.
    pub fn set(&self) -> &RevokedSessions {
        &self.0.revoked
    }

    /// Records that sessions ended at `now_ms`.
    pub fn note_ended(&self, session_ids: &[String], now_ms: i64) {
        let mut log = self
            .0
            .recently_ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for id in session_ids {
            log.push_back((id.clone(), now_ms));
            self.0.revoked.insert(id.clone());
        }
    }

    /// Replaces the set with `ids` (read from the database) plus the sessions this process
    /// ended in the last ten seconds.
    pub fn rebuild(&self, ids: impl IntoIterator<Item = String>, now_ms: i64) {
        let cutoff = now_ms.saturating_sub(RECENT_MS);
        let mut log = self
            .0
            .recently_ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while log.front().is_some_and(|(_, at)| *at < cutoff) {
            log.pop_front();
        }
        let recent: Vec<String> = log.iter().map(|(id, _)| id.clone()).collect();
        self.0.revoked.replace_all(ids.into_iter().chain(recent));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rebuild_keeps_what_this_process_just_ended() {
        let r = Revocations::new(RevokedSessions::new());
        r.note_ended(&["a".into()], 1_000);
        r.rebuild(["b".to_owned()], 5_000);
        assert!(r.set().contains("a") && r.set().contains("b"));
        r.rebuild(Vec::<String>::new(), 12_000);
        assert!(
            !r.set().contains("a"),
            "older than ten seconds: the database decides"
        );
    }
}
