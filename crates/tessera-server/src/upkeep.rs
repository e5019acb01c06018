//! Background jobs of an auth server process, each on its own interval: learn which sessions
//! other instances (or the CLI) ended, pick up keys rotated elsewhere, forget idle rate-limit
//! buckets, delete long-dead session rows, email tokens and sent mail, and send the outbox
//! (see `mail::sender`). With PostgreSQL, one more job listens for the changes the database
//! pushes (ended sessions, key rotations) and applies them at once; the periodic jobs stay as
//! the fallback while that connection is down.
//!
//! Several instances run these jobs side by side, and that is safe: the rebuilds and reloads
//! only read; the purges and sweeps are single idempotent `DELETE`s of rows past a cutoff
//! (two instances purging at once delete each row once, and neither fails); the outbox
//! sender claims each message with a lease (`SKIP LOCKED` on PostgreSQL), so one instance
//! sends it. There is no leader to elect.

use std::future::Future;
use std::time::Duration;

use tessera_store::Change;
use tokio::task::JoinSet;

use crate::state::AuthState;
use crate::tasks::TasksState;

/// How often the revocation set is rebuilt from the database: the delay before another
/// instance's sign-out stops access tokens here.
const REVOCATIONS_EVERY: Duration = Duration::from_secs(1);
/// How often signing keys are reloaded (rotation by another instance or the CLI, and the
/// activation of a published key).
const KEYS_EVERY: Duration = Duration::from_secs(2);
/// How often idle rate-limit buckets are swept.
const LIMITER_SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often ended and expired session rows are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// How long revoked session rows are kept, so revocation feeds and audits still see them.
const KEEP_REVOKED_MS: i64 = 24 * 3600 * 1000;
/// How long sent and dropped mail, and expired email tokens, are kept (for operators).
const KEEP_MAIL_MS: i64 = 7 * 24 * 3600 * 1000;

/// The running jobs; [`Upkeep::stop`] ends them.
#[derive(Debug)]
pub(crate) struct Upkeep(JoinSet<()>);

impl Upkeep {
    /// Ends every job.
    pub(crate) fn stop(mut self) {
        self.0.abort_all();
    }
}

/// Starts the jobs of an auth server (and, in the same process, the tasks API's key set).
pub(crate) fn start(state: AuthState, tasks: Option<TasksState>) -> Upkeep {
    let mut jobs = JoinSet::new();
    jobs.spawn(follow_changes(state.clone(), tasks.clone()));
    if state.mailer().enabled() {
        jobs.spawn(crate::mail::sender::run(state.mailer().clone()));
    }
    jobs.spawn(every(REVOCATIONS_EVERY, state.clone(), rebuild_revocations));
    let keys_state = state.clone();
    jobs.spawn(every(
        KEYS_EVERY,
        (keys_state, tasks),
        |(state, tasks)| async move { reload_keys(&state, tasks.as_ref()).await },
    ));
    jobs.spawn(every(
        LIMITER_SWEEP_EVERY,
        state.clone(),
        |state| async move {
            state.limiter().sweep().await;
        },
    ));
    jobs.spawn(every(PURGE_EVERY, state, |state| async move {
        let before = state.clock().now_ms() - KEEP_REVOKED_MS;
        if let Err(e) = state.store().purge_sessions(before).await {
            tracing::warn!(error = %e, "session cleanup failed");
        }
        // Expired challenges and trusted devices are worthless at once.
        if let Err(e) = state.store().purge_two_factor(state.clock().now_ms()).await {
            tracing::warn!(error = %e, "two-factor cleanup failed");
        }
        if let Err(e) = state
            .store()
            .purge_passkey_challenges(state.clock().now_ms())
            .await
        {
            tracing::warn!(error = %e, "passkey ceremony cleanup failed");
        }
        // Idempotent deletes: several instances running them at once is harmless.
        let before = state.clock().now_ms() - KEEP_MAIL_MS;
        if let Err(e) = state.store().purge_email_tokens(before).await {
            tracing::warn!(error = %e, "email token cleanup failed");
        }
        if let Err(e) = state.store().purge_mail(before).await {
            tracing::warn!(error = %e, "outbox cleanup failed");
        }
    }));
    Upkeep(jobs)
}

/// Runs `job` every `period` (the first time after one period), never two at once.
async fn every<C, F, Fut>(period: Duration, context: C, job: F)
where
    C: Clone + Send + 'static,
    F: Fn(C) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        job(context.clone()).await;
    }
}

/// Reloads the signing keys and, when they changed, the in-process tasks API's key set.
async fn reload_keys(state: &AuthState, tasks: Option<&TasksState>) {
    match state.keys().reload(state.store(), state.clock()).await {
        Ok(true) => {
            if let Some(t) = tasks {
                t.install_jwks(&state.keys().jwks_json());
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, "could not reload signing keys"),
    }
}

/// How long to wait before listening again after the listening connection failed.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

/// Applies the changes the database pushes (PostgreSQL), for as long as the process runs:
/// listen, catch up (rebuild the set, reload keys: anything ended while not listening), then
/// apply each change as it comes. When the connection breaks, the push is marked down (the
/// session cache is bypassed and the periodic jobs carry on alone) and listening resumes
/// after a second. Returns at once on SQLite, where no one else writes.
async fn follow_changes(state: AuthState, tasks: Option<TasksState>) {
    loop {
        match state.store().listen().await {
            Ok(None) => return,
            Ok(Some(mut changes)) => {
                rebuild_revocations(state.clone()).await;
                reload_keys(&state, tasks.as_ref()).await;
                state.sessions().forget_all_cached();
                state.revocations().set_pushed(true);
                state.metrics().set_push_listening(true);
                let broken = loop {
                    match changes.next().await {
                        Ok(Change::SessionEnded(id)) => {
                            state.metrics().push_received();
                            state.sessions().end(&[id]);
                        }
                        Ok(Change::KeysChanged) => {
                            state.metrics().push_received();
                            reload_keys(&state, tasks.as_ref()).await;
                        }
                        Err(e) => break e,
                    }
                };
                state.revocations().set_pushed(false);
                state.metrics().set_push_listening(false);
                state.sessions().forget_all_cached();
                tracing::warn!(error = %broken, "lost the connection that hears other instances' changes: polling until it is back");
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other instances' changes: polling meanwhile");
            }
        }
        tokio::time::sleep(RELISTEN_AFTER).await;
    }
}

/// Rebuilds the in-process revocation set from the database, which drops sessions whose
/// tokens have all expired and adds those other instances ended.
async fn rebuild_revocations(state: AuthState) {
    let window = state.settings().tokens.access_token_ttl + Duration::from_secs(60);
    let now = state.clock().now_ms();
    let since = now.saturating_sub(tessera_core::clock::millis(window));
    match state.store().revoked_sessions_since(since).await {
        Ok(rows) => state
            .revocations()
            .rebuild(rows.into_iter().map(|(id, _)| id), now),
        Err(e) => tracing::warn!(error = %e, "could not read revoked sessions"),
    }
}
