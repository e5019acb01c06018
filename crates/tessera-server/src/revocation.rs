//! Which sessions have ended, for the access-token verifier: the in-memory set the tasks API
//! checks on every request, and the bookkeeping that keeps it right while it is rebuilt from
//! the database each second (see `upkeep`). With PostgreSQL, sessions other instances end
//! arrive here pushed (`upkeep` listens), within milliseconds; whether that push is up is
//! kept here too, since the session cache may only be trusted while it is. Long-polling
//! readers of the revocation feed wait on [`Revocations::changes`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tessera_verify::RevokedSessions;

/// How long a session this process ended is kept in the set regardless of rebuilds.
const RECENT_MS: i64 = 10_000;

/// The ended-sessions set and its log. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Revocations(Arc<Inner>);

impl Default for Revocations {
    fn default() -> Self {
        Self::new(RevokedSessions::new())
    }
}

#[derive(Debug)]
struct Inner {
    /// Sessions ended; the in-process tasks API refuses their tokens at once.
    revoked: RevokedSessions,
    /// Sessions this process ended in the last seconds, with when (unix ms). A rebuild from
    /// a database read that started before such a session's revocation was committed must
    /// not drop it, so rebuilds add these back under the same lock.
    recently_ended: Mutex<VecDeque<(String, i64)>>,
    /// Counts sessions noted ended; long-polls wake on it.
    changes: tokio::sync::watch::Sender<u64>,
    /// Whether ended sessions are being pushed to this process (a listening connection is
    /// up and caught up).
    pushed: AtomicBool,
}

impl Revocations {
    /// Shares `revoked` (the set a verifier checks).
    pub fn new(revoked: RevokedSessions) -> Self {
        Self(Arc::new(Inner {
            revoked,
            recently_ended: Mutex::default(),
            changes: tokio::sync::watch::Sender::new(0),
            pushed: AtomicBool::new(false),
        }))
    }

    /// A receiver that sees a change each time sessions are noted ended.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.changes.subscribe()
    }

    /// Records whether ended sessions are pushed to this process; returns the previous value.
    pub fn set_pushed(&self, pushed: bool) -> bool {
        self.0.pushed.swap(pushed, Ordering::SeqCst)
    }

    /// Whether ended sessions are pushed to this process (so the set is at most milliseconds
    /// behind the database).
    pub fn pushed(&self) -> bool {
        self.0.pushed.load(Ordering::SeqCst)
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
        drop(log);
        if !session_ids.is_empty() {
            self.0.changes.send_modify(|n| *n = n.wrapping_add(1));
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

    #[tokio::test]
    async fn noting_an_end_wakes_waiters() {
        let r = Revocations::default();
        let mut rx = r.changes();
        r.note_ended(&[], 1);
        assert!(
            !rx.has_changed().unwrap_or(true),
            "nothing ended, nobody woken"
        );
        r.note_ended(&["a".into()], 1);
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(1), rx.changed())
                .await
                .is_ok()
        );
    }

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
