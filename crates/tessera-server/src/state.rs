//! The auth server's state: the services its handlers use, passed explicitly (no globals).
//! A handler asks for the whole [`AuthState`] or, through `FromRef`, only for the part it
//! needs ([`Sessions`], [`Passwords`], [`Mailer`], [`TrustedProxies`]); extractors such as
//! [`crate::session::CurrentSession`] and [`crate::http::client_ip::ClientIp`] need no more.

use std::sync::Arc;

use axum::extract::FromRef;
use tessera_core::Clock;
use tessera_store::Store;

use crate::http::client_ip::TrustedProxies;
use crate::http::origin::TrustedOrigins;
use crate::http::rate_limit::RateLimiter;
use crate::http::{ApiResult, ErrorCode};
use crate::keys::KeyRing;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::password::Passwords;
use crate::providers::IdentityProviders;
use crate::revocation::Revocations;
use crate::session::{Current, Sessions};
use crate::settings::Settings;

/// Everything the auth server's handlers use. Cheap to clone: one `Arc`.
#[derive(Clone, Debug)]
pub struct AuthState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    settings: Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Arc<KeyRing>,
    sessions: Sessions,
    passwords: Passwords,
    mailer: Mailer,
    revocations: Revocations,
    limiter: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
    trusted_origins: TrustedOrigins,
    trusted_proxies: TrustedProxies,
    providers: IdentityProviders,
}

impl AuthState {
    /// Assembles the services and starts the password-hashing threads.
    ///
    /// # Errors
    /// The operating system refused a thread.
    pub fn new(
        settings: Settings,
        store: Arc<dyn Store>,
        keys: Arc<KeyRing>,
        clock: Arc<dyn Clock>,
        revocations: Revocations,
        metrics: Arc<Metrics>,
        mailer: Mailer,
    ) -> std::io::Result<Self> {
        // A check that would wait more than half the request timeout is refused (503): the
        // rest of the request, the hash itself included, must fit too.
        let passwords = Passwords::start(
            settings.security.hash_concurrency,
            settings.http.request_timeout / 2,
        )?;
        let sessions = Sessions::new(
            &settings,
            store.clone(),
            clock.clone(),
            keys.clone(),
            revocations.clone(),
        );
        let providers = {
            use secrecy::ExposeSecret as _;
            IdentityProviders::new(
                &settings.providers,
                settings.tokens.secret.expose_secret(),
                clock.clone(),
            )?
        };
        let mut limiter = RateLimiter::new(settings.security.rate_limits.clone(), clock.clone());
        limiter.set_metrics(metrics.clone());
        if settings.database.database_url.shared_by_instances() {
            limiter.share_through(store.clone());
        }
        Ok(Self(Arc::new(Inner {
            trusted_origins: TrustedOrigins(settings.all_trusted_origins().into()),
            trusted_proxies: TrustedProxies(settings.http.trusted_proxies.clone().into()),
            settings,
            store,
            clock,
            keys,
            sessions,
            passwords,
            mailer,
            revocations,
            limiter: Arc::new(limiter),
            metrics,
            providers,
        })))
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// 403 `SESSION_NOT_FRESH` unless the session began within the fresh age: for what a
    /// stolen old cookie must not do (plant or remove a passkey, link or unlink an identity,
    /// change the two-factor settings of an account without a password).
    pub(crate) fn require_fresh(&self, current: &Current) -> ApiResult<()> {
        let age = self
            .clock()
            .now_ms()
            .saturating_sub(current.session.created_at);
        if age > tessera_core::clock::millis(self.settings().providers.fresh_age) {
            return Err(ErrorCode::SessionNotFresh.into());
        }
        Ok(())
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        &*self.0.store
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.0.clock
    }

    /// The signing keys.
    pub fn keys(&self) -> &KeyRing {
        &self.0.keys
    }

    /// The session lifecycle.
    pub fn sessions(&self) -> &Sessions {
        &self.0.sessions
    }

    /// Password hashing and checking.
    pub fn passwords(&self) -> &Passwords {
        &self.0.passwords
    }

    /// Mail: the outbox and its sender.
    pub fn mailer(&self) -> &Mailer {
        &self.0.mailer
    }

    /// The ended-sessions set and its bookkeeping.
    pub fn revocations(&self) -> &Revocations {
        &self.0.revocations
    }

    /// The rate limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.0.limiter
    }

    /// The process's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// The configured identity providers.
    pub fn providers(&self) -> &IdentityProviders {
        &self.0.providers
    }

    /// Trusted origins (base URL's first).
    pub fn trusted_origins(&self) -> &[String] {
        &self.0.trusted_origins.0
    }
}

impl FromRef<AuthState> for Sessions {
    fn from_ref(state: &AuthState) -> Self {
        state.0.sessions.clone()
    }
}

impl FromRef<AuthState> for Passwords {
    fn from_ref(state: &AuthState) -> Self {
        state.0.passwords.clone()
    }
}

impl FromRef<AuthState> for Mailer {
    fn from_ref(state: &AuthState) -> Self {
        state.0.mailer.clone()
    }
}

impl FromRef<AuthState> for TrustedProxies {
    fn from_ref(state: &AuthState) -> Self {
        state.0.trusted_proxies.clone()
    }
}

impl FromRef<AuthState> for TrustedOrigins {
    fn from_ref(state: &AuthState) -> Self {
        state.0.trusted_origins.clone()
    }
}

impl FromRef<AuthState> for Arc<RateLimiter> {
    fn from_ref(state: &AuthState) -> Self {
        state.0.limiter.clone()
    }
}
