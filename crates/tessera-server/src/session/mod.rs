//! The session lifecycle, in one place and without handlers: a session **starts** here
//! (every way in — password sign-in, sign-up, a refresh grant, a replaced session after a
//! password change, and later identity providers, passkeys, magic links and second factors —
//! ends in `Sessions::start`), is **looked up** from a cookie or Bearer token (with the
//! one-second `cache` on SQLite), **slides** its expiry while used, and **ends** through
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
    revocations: Revocations,
    /// Recent session lookups, with SQLite only (one process); see [`cache`].
    cache: Option<SessionCache>,
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
            cache: settings
                .database
                .database_url
                .starts_with("sqlite:")
                .then(SessionCache::default),
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

    /// Starts a session for `user`: the one place every way in ends.
    pub(crate) async fn start(
        &self,
        user: &User,
        remember: bool,
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
            })
            .await?;
        Ok((token, session))
    }

    /// Starts a session held only by a refresh credential (sign-in with
    /// `refreshToken: true`): its session token is never handed out, so nothing long-lived
    /// and static exists. Returns the session and its first refresh credential.
    pub(crate) async fn start_with_refresh(
        &self,
        user: &User,
        ip: ClientIp,
        headers: &HeaderMap,
    ) -> ApiResult<(Session, String)> {
        let (_unused_token, session) = self.start(user, true, ip, headers).await?;
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
        Ok((session, first))
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
        if let Some(cache) = &self.0.cache {
            cache.forget_sessions(session_ids);
        }
    }

    /// Drops the cached lookups of a user's sessions after their user row changed (name,
    /// address, verification), so no answer shows the old row.
    pub(crate) fn forget_user(&self, user_id: &str) {
        if let Some(cache) = &self.0.cache {
            cache.forget_user(user_id);
        }
    }

    /// Drops a token's cached lookup after its row changed.
    pub(crate) fn forget_cached(&self, digest: &str) {
        if let Some(cache) = &self.0.cache {
            cache.forget(digest);
        }
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
