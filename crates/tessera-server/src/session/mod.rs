//! The session lifecycle, in one place and without handlers: a session **starts** here
//! (every way in — password sign-in, sign-up, a refresh grant, a replaced session after a
//! password change, a passed second-factor challenge, and later identity providers, passkeys
//! and magic links — ends in `Sessions::start`, which names the first factor and enforces
//! the second one: see [`second_factor`]), is **looked up** from a cookie or Bearer token (with the
//! one-second `cache`: on PostgreSQL only while ended sessions are pushed), **slides** its expiry while used, and **ends** through
//! `Sessions::end`, which also stops its access tokens in this process at once.
//!
//! Also here: the Better Auth cookies ([`cookies`]), the wire shapes of users and sessions
//! ([`dto`]), the keys that derive refresh-credential successors ([`refresh_keys`]) and the
//! [`CurrentSession`] / [`MaybeSession`] extractors a handler names to require a session.

pub(crate) mod cache;
pub mod cookies;
pub mod dto;
mod extract;
mod lookup;
pub mod refresh_keys;
pub(crate) mod second_factor;

use std::sync::Arc;

use http::{HeaderMap, HeaderValue, header};
use serde_json::json;
use tessera_core::cookie::CookieSigner;
use tessera_core::id::new_id;
use tessera_core::{Clock, SessionToken, TokenDigest};
use tessera_store::{NewRefreshToken, NewSession, Session, Store, User};

use self::cache::SessionCache;
use self::cookies::CookieJar;
pub use self::extract::{CurrentSession, MaybeSession};
pub use self::lookup::{Current, Lookup, Source};
use self::refresh_keys::RefreshKeys;
use self::second_factor::FactorKeys;
pub(crate) use self::second_factor::{FirstFactor, Grant, Proof, Started};
use crate::http::ApiResult;
use crate::http::client_ip::ClientIp;
use crate::keys::KeyRing;
use crate::revocation::Revocations;
use crate::settings::Settings;

/// Longest user agent kept with a session.
const MAX_USER_AGENT_LEN: usize = 512;

/// The session service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sessions(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    settings: Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Arc<KeyRing>,
    signer: CookieSigner,
    jar: CookieJar,
    refresh_keys: RefreshKeys,
    factor_keys: FactorKeys,
    revocations: Revocations,
    /// Recent session lookups; see [`cache`].
    cache: SessionCache,
    /// Whether other instances share the database (then the cache is used only while ended
    /// sessions are pushed to this one).
    shared: bool,
}

impl Sessions {
    /// The service for these settings; `revocations` is the set the in-process verifier
    /// checks.
    pub fn new(
        settings: &Settings,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        keys: Arc<KeyRing>,
        revocations: Revocations,
    ) -> Self {
        use secrecy::ExposeSecret as _;
        let secret = settings.tokens.secret.expose_secret();
        Self(Arc::new(Inner {
            signer: CookieSigner::new(secret),
            jar: CookieJar::new(settings.secure_cookies()),
            refresh_keys: RefreshKeys::derive(secret),
            factor_keys: FactorKeys::derive(secret),
            cache: SessionCache::default(),
            shared: settings.database.database_url.shared_by_instances(),
            settings: settings.clone(),
            store,
            clock,
            keys,
            revocations,
        }))
    }

    pub(crate) fn store(&self) -> &dyn Store {
        &*self.0.store
    }

    pub(crate) fn clock(&self) -> &dyn Clock {
        &*self.0.clock
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// Signs and checks cookie values (and the `set-auth-token` bearer form).
    pub(crate) fn signer(&self) -> &CookieSigner {
        &self.0.signer
    }

    /// The cookie names and attributes of this deployment.
    pub(crate) fn jar(&self) -> &CookieJar {
        &self.0.jar
    }

    /// Derives refresh-credential successors.
    pub(crate) fn refresh_keys(&self) -> &RefreshKeys {
        &self.0.refresh_keys
    }

    /// Stores a new session row (for [`Sessions::start`], which decides whether one may
    /// start).
    async fn create(
        &self,
        user: &User,
        remember: bool,
        amr: String,
        auth_time: i64,
        ip: ClientIp,
        headers: &HeaderMap,
    ) -> ApiResult<(SessionToken, Session)> {
        let s = self.settings();
        let token = SessionToken::generate();
        let now = self.clock().now_ms();
        let ttl = if remember {
            s.sessions.session_ttl
        } else {
            s.sessions.short_session_ttl
        }
        .min(s.sessions.session_max_lifetime);
        let session = self
            .store()
            .create_session(&NewSession {
                id: new_id(),
                user_id: user.id.clone(),
                token_digest: token.digest().as_str().to_owned(),
                expires_at: now.saturating_add(tessera_core::clock::millis(ttl)),
                now_ms: now,
                ip_address: ip.0.map(|i| i.to_string()).unwrap_or_default(),
                user_agent: user_agent(headers),
                remember,
                amr,
                auth_time,
            })
            .await?;
        Ok((token, session))
    }

    /// The first refresh credential of a session held only by refresh credentials (sign-in
    /// with `refreshToken: true`): its session token is never handed out, so nothing
    /// long-lived and static exists.
    async fn first_refresh_token(&self, session: &Session) -> ApiResult<String> {
        let first = RefreshKeys::first();
        self.store()
            .create_refresh_token(&NewRefreshToken {
                id: new_id(),
                session_id: session.id.clone(),
                token_digest: TokenDigest::of(&first).as_str().to_owned(),
                parent_id: None,
                now_ms: self.clock().now_ms(),
            })
            .await?;
        Ok(first)
    }

    /// Extends a rememberable session once `update_age` has passed since its last
    /// extension ([`tessera_core::SessionLifetime::slide`]). `rememberMe: false` sessions are never
    /// extended, however they are presented.
    pub(crate) async fn slide(
        &self,
        current: &mut Current,
        headers: &HeaderMap,
    ) -> ApiResult<bool> {
        let s = self.settings();
        let now = self.clock().now_ms();
        let sess = &current.session;
        if !sess.remember || self.jar().has_dont_remember(self.signer(), headers) {
            return Ok(false);
        }
        let lifetime = tessera_core::SessionLifetime {
            idle_ms: tessera_core::clock::millis(s.sessions.session_ttl),
            max_lifetime_ms: tessera_core::clock::millis(s.sessions.session_max_lifetime),
        };
        let Some(expires) = lifetime.slide(
            sess.created_at,
            sess.expires_at,
            tessera_core::clock::millis(s.sessions.session_update_age),
            now,
        ) else {
            return Ok(false);
        };
        if self.store().extend_session(&sess.id, expires, now).await? {
            self.forget_cached(current.token.digest().as_str());
            current.session.expires_at = expires;
            current.session.updated_at = now;
            return Ok(true);
        }
        Ok(false)
    }

    /// Called whenever sessions end (sign-out, revocation, password change, reuse
    /// detection, expiry): their access tokens stop working in this process at once, and
    /// no cached lookup outlives them.
    pub(crate) fn end(&self, session_ids: &[String]) {
        self.0
            .revocations
            .note_ended(session_ids, self.clock().now_ms());
        self.0.cache.forget_sessions(session_ids);
    }

    /// Drops the cached lookups of a user's sessions after their user row changed (name,
    /// address, verification), so no answer shows the old row.
    pub(crate) fn forget_user(&self, user_id: &str) {
        self.0.cache.forget_user(user_id);
    }

    /// Drops a token's cached lookup after its row changed.
    pub(crate) fn forget_cached(&self, digest: &str) {
        self.0.cache.forget(digest);
    }

    /// The lookup cache, when it may be used: always with one process (SQLite); with several
    /// instances only while ended sessions are pushed to this one, so that a hit is refused
    /// within milliseconds of a sign-out anywhere (see `revocation`).
    pub(crate) fn cache(&self) -> Option<&SessionCache> {
        (!self.0.shared || self.0.revocations.pushed()).then_some(&self.0.cache)
    }

    /// Forgets every cached lookup (the push was lost or came back: nothing remembered
    /// before may be trusted).
    pub(crate) fn forget_all_cached(&self) {
        self.0.cache.clear();
    }

    /// Headers that hand a session to the client: the cookie(s), `set-auth-token` for
    /// bearer clients, and `Cache-Control: no-store`.
    pub(crate) fn handover_headers(&self, token: &SessionToken, remember: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        let max_age = remember.then(|| self.settings().sessions.session_ttl.as_secs());
        h.append(
            header::SET_COOKIE,
            self.jar().session(self.signer(), token.expose(), max_age),
        );
        if !remember {
            h.append(header::SET_COOKIE, self.jar().dont_remember(self.signer()));
        }
        if let Ok(v) = HeaderValue::try_from(self.signer().sign(token.expose())) {
            h.insert("set-auth-token", v);
        }
        h.append(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("set-auth-token"),
        );
        h
    }

    /// `Set-Cookie` headers that clear every session cookie.
    pub(crate) fn clear_cookies(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for c in self.jar().clear_all() {
            h.append(header::SET_COOKIE, c);
        }
        h
    }

    /// An access token for a live session (500 if the key cannot sign).
    pub(crate) fn mint(&self, user: &User, session: &Session) -> ApiResult<String> {
        self.0
            .keys
            .mint(self.clock().now_ms(), user, session)
            .map_err(|e| crate::http::ApiError::internal(&e))
    }

    /// The JSON answer that hands out an access token and the next refresh credential.
    pub(crate) fn token_response(
        &self,
        user: &User,
        session: &Session,
        refresh_token: &str,
    ) -> ApiResult<serde_json::Value> {
        Ok(json!({
            "access_token": self.mint(user, session)?,
            "token_type": "Bearer",
            "expires_in": self.settings().tokens.access_token_ttl.as_secs(),
            "refresh_token": refresh_token,
        }))
    }
}

fn user_agent(headers: &HeaderMap) -> String {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ua.chars().take(MAX_USER_AGENT_LEN).collect()
}
