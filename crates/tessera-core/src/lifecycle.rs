//! The rules of a session's life as pure functions: how far activity slides a session's
//! expiry, when a session is due to slide, and what presenting a refresh credential leads to.
//!
//! The store applies them inside its transactions and the server where it slides a session
//! on `get-session`; both read "now" from their clock and pass it in, so the rules can be
//! tested without a database or a clock (see `tests/properties.rs`). All arithmetic
//! saturates: a configured lifetime of `i64::MAX` milliseconds means "never", not overflow.

/// How long a session lives: an inactivity timeout that activity slides forward, capped by
/// an absolute lifetime counted from the session's creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLifetime {
    /// The inactivity timeout: activity at `now` extends the session to `now + idle_ms`.
    pub idle_ms: i64,
    /// The absolute lifetime: the session never lives past `created_at + max_lifetime_ms`.
    pub max_lifetime_ms: i64,
}

impl SessionLifetime {
    /// The expiry that activity at `now_ms` gives a session created at `created_at_ms`:
    /// `now + idle`, but never past `created_at + max_lifetime`.
    pub fn extended_expiry(&self, created_at_ms: i64, now_ms: i64) -> i64 {
        now_ms
            .saturating_add(self.idle_ms)
            .min(created_at_ms.saturating_add(self.max_lifetime_ms))
    }

    /// Sliding on use, Better Auth's `updateAge`: once at least `update_age_ms` have passed
    /// since a session's expiry was last set (to `expires_at_ms`), activity at `now_ms`
    /// extends it. Returns the new expiry, or `None` when the session is not due yet or the
    /// absolute lifetime leaves nothing to extend (the expiry would not move forward).
    pub fn slide(
        &self,
        created_at_ms: i64,
        expires_at_ms: i64,
        update_age_ms: i64,
        now_ms: i64,
    ) -> Option<i64> {
        // The expiry was last set at `expires_at - idle`; it is due `update_age` after that.
        let due_at = expires_at_ms
            .saturating_sub(self.idle_ms)
            .saturating_add(update_age_ms);
        if due_at > now_ms {
            return None;
        }
        let expires = self.extended_expiry(created_at_ms, now_ms);
        (expires > expires_at_ms).then_some(expires)
    }
}

/// The state of a refresh credential as the store finds it, when it is presented for a
/// live session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresentedCredential {
    /// Never rotated: this is the session's current credential.
    Current,
    /// Already rotated once.
    Rotated {
        /// When it was rotated, unix ms.
        at_ms: i64,
        /// Whether the credential that replaced it is still unrotated (not yet used itself).
        successor_unused: bool,
    },
}

/// What presenting a refresh credential for a live session leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Mark it rotated, store its successor and slide the session's expiry.
    Rotate,
    /// A retry of a rotation whose answer was lost: hand out the same successor again and
    /// change nothing.
    Replay,
    /// A rotated credential presented after the grace window, or after its successor was
    /// used: someone else holds a copy. End the session.
    Reuse,
}

/// The rotate / replay / reuse rule. A current credential rotates. A rotated one is a replay
/// only while its successor is unused and at most `grace_ms` have passed since the rotation
/// (a clock behind the rotation's counts as inside the window); anything else is reuse.
pub fn decide_refresh(
    credential: PresentedCredential,
    now_ms: i64,
    grace_ms: i64,
) -> RefreshDecision {
    match credential {
        PresentedCredential::Current => RefreshDecision::Rotate,
        PresentedCredential::Rotated {
            at_ms,
            successor_unused,
        } => {
            if successor_unused && now_ms.saturating_sub(at_ms) <= grace_ms {
                RefreshDecision::Replay
            } else {
                RefreshDecision::Reuse
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIFE: SessionLifetime = SessionLifetime {
        idle_ms: 100_000,
        max_lifetime_ms: 150_000,
    };

    #[test]
    fn activity_extends_by_the_idle_timeout_up_to_the_absolute_lifetime() {
        assert_eq!(LIFE.extended_expiry(1_000, 2_000), 102_000);
        assert_eq!(LIFE.extended_expiry(1_000, 90_000), 151_000);
    }

    #[test]
    fn a_session_slides_only_once_update_age_has_passed() {
        // expiry set at 10_000 (expires 110_000); update age 5_000
        assert_eq!(LIFE.slide(10_000, 110_000, 5_000, 14_999), None);
        assert_eq!(LIFE.slide(10_000, 110_000, 5_000, 15_000), Some(115_000));
        // at the absolute cap nothing moves
        assert_eq!(LIFE.slide(0, 150_000, 5_000, 100_000), None);
    }

    #[test]
    fn the_grace_window_is_inclusive() {
        let rotated = |at_ms| PresentedCredential::Rotated {
            at_ms,
            successor_unused: true,
        };
        assert_eq!(
            decide_refresh(rotated(0), 10_000, 10_000),
            RefreshDecision::Replay
        );
        assert_eq!(
            decide_refresh(rotated(0), 10_001, 10_000),
            RefreshDecision::Reuse
        );
    }
}
