//! Shared application state, passed explicitly to every handler (no globals).

use std::sync::Arc;

use secrecy::ExposeSecret;
use tessera_core::cookie::CookieSigner;
use tessera_core::{Clock, Password, PasswordHasher, PasswordVerdict};
use tessera_store::Store;

use crate::http::ApiError;
use crate::keys::KeyRing;
use crate::settings::Settings;

/// Cheap to clone: one `Arc`.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    settings: Settings,
    store: Arc<dyn Store>,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    cookies: CookieSigner,
    refresh_keys: crate::sessions::RefreshKeys,
    hasher: Arc<PasswordHasher>,
    /// The password-hashing threads: a sign-in storm queues there instead of taking every
    /// core and 19 MiB per concurrent hash.
    hashing: crate::hashing::HashPool,
    trusted_origins: Vec<String>,
    limiter: crate::http::rate_limit::RateLimiter,
    metrics: Arc<crate::metrics::Metrics>,
    /// Sessions ended in this process; the in-process tasks API refuses their tokens at once.
    revoked: tessera_verify::RevokedSessions,
    /// Sessions this process ended in the last seconds, with when (unix ms). A rebuild of
    /// `revoked` from a database read that started before such a session's revocation was
    /// committed must not drop it, so rebuilds add these back under the same lock.
    recently_ended: std::sync::Mutex<std::collections::VecDeque<(String, i64)>>,
    /// Recent session lookups, with SQLite only (one process); see `auth::session_cache`.
    session_cache: Option<crate::auth::session_cache::SessionCache>,
}

impl AppState {
    /// Assembles the state from its parts and starts the password-hashing threads.
    ///
    /// # Errors
    /// The operating system refused a thread.
    pub fn new(
        settings: Settings,
        store: Arc<dyn Store>,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        revoked: tessera_verify::RevokedSessions,
    ) -> std::io::Result<Self> {
        let cookies = CookieSigner::new(settings.secret.expose_secret());
        let trusted_origins = settings.all_trusted_origins();
        // A check that would wait more than half the request timeout is refused (503): the
        // rest of the request, the hash itself included, must fit too.
        let hashing =
            crate::hashing::HashPool::new(settings.hash_concurrency, settings.request_timeout / 2)?;
        let refresh_keys = crate::sessions::RefreshKeys::derive(settings.secret.expose_secret());
        let limiter =
            crate::http::rate_limit::RateLimiter::new(settings.rate_limits.clone(), clock.clone());
        let session_cache = settings
            .database_url
            .starts_with("sqlite:")
            .then(crate::auth::session_cache::SessionCache::default);
        Ok(Self(Arc::new(Inner {
            session_cache,
            cookies,
            refresh_keys,
            limiter,
            metrics: Arc::default(),
            hasher: Arc::default(),
            hashing,
            trusted_origins,
            revoked,
            recently_ended: std::sync::Mutex::default(),
            settings,
            store,
            keys,
            clock,
        })))
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        &*self.0.store
    }

    /// The store, shared.
    pub fn store_arc(&self) -> Arc<dyn Store> {
        self.0.store.clone()
    }

    /// The signing keys.
    pub fn keys(&self) -> &KeyRing {
        &self.0.keys
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.0.clock
    }

    /// The cookie signer.
    pub fn cookies(&self) -> &CookieSigner {
        &self.0.cookies
    }

    /// Shares `metrics` with the rest of the process (sign-in outcomes, reuse detections and
    /// rate-limit hits are counted there).
    #[must_use]
    pub fn with_metrics(self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        let mut inner = Arc::try_unwrap(self.0)
            .unwrap_or_else(|_| unreachable!("called before the state is shared"));
        inner.limiter.set_metrics(metrics.clone());
        inner.metrics = metrics;
        Self(Arc::new(inner))
    }

    /// The process's counters.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.0.metrics
    }

    /// The rate limiter.
    pub fn limiter(&self) -> &crate::http::rate_limit::RateLimiter {
        &self.0.limiter
    }

    /// Derives refresh-credential successors.
    pub fn refresh_keys(&self) -> &crate::sessions::RefreshKeys {
        &self.0.refresh_keys
    }

    /// The in-process set of ended sessions.
    pub fn revoked(&self) -> &tessera_verify::RevokedSessions {
        &self.0.revoked
    }

    /// Trusted origins (base URL's first).
    pub fn trusted_origins(&self) -> &[String] {
        &self.0.trusted_origins
    }

    /// Records that sessions ended, so the in-process tasks API refuses their tokens at once.
    pub fn note_sessions_ended(&self, session_ids: &[String]) {
        let now = self.clock().now_ms();
        let mut log = self
            .0
            .recently_ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for id in session_ids {
            log.push_back((id.clone(), now));
            self.0.revoked.insert(id.clone());
        }
        drop(log);
        if let Some(cache) = &self.0.session_cache {
            cache.forget_sessions(session_ids);
        }
    }

    /// The session lookup cache (SQLite only).
    pub(crate) fn session_cache(&self) -> Option<&crate::auth::session_cache::SessionCache> {
        self.0.session_cache.as_ref()
    }

    /// Drops a token's cached session after its row changed.
    pub(crate) fn forget_cached_session(&self, digest: &str) {
        if let Some(cache) = &self.0.session_cache {
            cache.forget(digest);
        }
    }

    /// Replaces the revocation set with `ids` (read from the database) plus the sessions
    /// this process ended in the last ten seconds.
    pub fn replace_revoked(&self, ids: impl IntoIterator<Item = String>) {
        let cutoff = self.clock().now_ms().saturating_sub(10_000);
        let mut log = self
            .0
            .recently_ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while log.front().is_some_and(|(_, at)| *at < cutoff) {
            log.pop_front();
        }
        let recent: Vec<String> = log.iter().map(|(id, _)| id.clone()).collect();
        self.0.revoked.replace_all(ids.into_iter().chain(recent));
    }

    /// The password-hashing queue's counters.
    pub fn hash_stats(&self) -> Arc<crate::hashing::HashStats> {
        self.0.hashing.stats()
    }

    /// Hashes a new password on a hashing thread.
    pub async fn hash_password(&self, password: Password) -> Result<String, ApiError> {
        let hasher = self.0.hasher.clone();
        self.0
            .hashing
            .run(move |memory| hasher.hash_with(&password, memory))
            .await
            .map_err(refused)
    }

    /// Checks a password on a hashing thread; with no stored hash, spends the same time on
    /// a dummy hash and reports a mismatch.
    pub async fn verify_password(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> Result<PasswordVerdict, ApiError> {
        let hasher = self.0.hasher.clone();
        self.0
            .hashing
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

/// A hashing job that did not run: 503 with `Retry-After` when the queue is full.
fn refused(why: crate::hashing::HashRefused) -> ApiError {
    match why {
        crate::hashing::HashRefused::Busy(wait) => ApiError::overloaded(wait.as_secs().max(1)),
        crate::hashing::HashRefused::Failed => ApiError::internal(&"password hashing failed"),
    }
}
