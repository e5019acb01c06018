//! Background jobs of an auth server process, each on its own interval: learn which sessions
//! other instances (or the CLI) ended, pick up keys rotated elsewhere, forget idle rate-limit
//! buckets, delete long-dead session rows, email tokens and sent mail, and send the outbox
//! (see `mail::sender`).

use std::future::Future;
use std::time::Duration;

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
    if state.mailer().enabled() {
        jobs.spawn(crate::mail::sender::run(state.mailer().clone()));
    }
    jobs.spawn(every(REVOCATIONS_EVERY, state.clone(), rebuild_revocations));
    let keys_state = state.clone();
    jobs.spawn(every(
        KEYS_EVERY,
        (keys_state, tasks),
        |(state, tasks)| async move {
            match state.keys().reload(state.store(), state.clock()).await {
                Ok(true) => {
                    if let Some(t) = &tasks {
                        t.install_jwks(&state.keys().jwks_json());
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not reload signing keys"),
            }
        },
    ));
    jobs.spawn(every(
        LIMITER_SWEEP_EVERY,
        state.clone(),
        |state| async move {
            state.limiter().sweep();
        },
    ));
    jobs.spawn(every(PURGE_EVERY, state, |state| async move {
        let before = state.clock().now_ms() - KEEP_REVOKED_MS;
        if let Err(e) = state.store().purge_sessions(before).await {
            tracing::warn!(error = %e, "session cleanup failed");
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
