//! Finding the caller's session: a Bearer header (the signed `token.sig` from
//! `set-auth-token`, or the raw token) wins over the cookie, as in Better Auth's bearer
//! plugin. Only the token's SHA-256 digest is looked up.

use http::{HeaderMap, header};
use tessera_core::SessionToken;
use tessera_core::cookie::decode_uri_component;
use tessera_store::{Session, User};

use super::Sessions;
use crate::http::ApiResult;

/// A live session and its user.
#[derive(Debug)]
pub struct Current {
    /// The session row.
    pub session: Session,
    /// Its user.
    pub user: User,
    /// The raw token the caller presented.
    pub token: SessionToken,
}

/// Where the credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `Authorization: Bearer`.
    Bearer,
    /// The session cookie.
    Cookie,
}

fn bearer_token(sessions: &Sessions, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case("bearer ") {
        return None;
    }
    let token = rest.trim();
    if token.contains('.') {
        let decoded = decode_uri_component(token)?;
        sessions.signer().verify(&decoded).map(str::to_owned)
    } else {
        Some(token.to_owned())
    }
}

/// Outcome of looking a presented token up.
#[derive(Debug)]
pub enum Lookup {
    /// No credential presented, or unknown token.
    None,
    /// The session exists but has expired (now revoked); cookies should be cleared.
    Expired,
    /// A live session.
    Live(Box<Current>, Source),
}

impl Sessions {
    /// The presented session token, if any, and where it came from.
    pub(crate) fn presented_token(&self, headers: &HeaderMap) -> Option<(SessionToken, Source)> {
        if let Some(t) = bearer_token(self, headers).and_then(|t| SessionToken::parse(&t)) {
            return Some((t, Source::Bearer));
        }
        self.jar()
            .read_session(self.signer(), headers)
            .and_then(|t| SessionToken::parse(&t))
            .map(|t| (t, Source::Cookie))
    }

    /// Resolves the caller's session. An expired session is ended on the spot.
    pub(crate) async fn lookup(&self, headers: &HeaderMap) -> ApiResult<Lookup> {
        let Some((token, source)) = self.presented_token(headers) else {
            return Ok(Lookup::None);
        };
        let digest = token.digest();
        let cache = self.cache();
        let cached = cache.and_then(|c| c.get(digest.as_str()));
        let now = self.clock().now_ms();
        let found = match cached {
            // Ended since it was remembered (here at once; elsewhere within a second, or
            // within the push delay with several instances).
            Some((session, _)) if self.0.revocations.set().contains(&session.id) => None,
            // Another instance may have slid it since: only the database may say it expired.
            Some(hit) if hit.0.expires_at > now => Some(hit),
            _ => {
                let found = self.store().session_by_digest(digest.as_str()).await?;
                if let (Some(cache), Some((session, user))) = (cache, &found) {
                    cache.insert(digest.as_str(), session, user);
                }
                found
            }
        };
        let Some((session, user)) = found else {
            return Ok(Lookup::None);
        };
        if session.expires_at <= now {
            self.store().revoke_session(&session.id, now).await?;
            self.forget_cached(digest.as_str());
            return Ok(Lookup::Expired);
        }
        if user.disabled_at.is_some() {
            return Ok(Lookup::None);
        }
        Ok(Lookup::Live(
            Box::new(Current {
                session,
                user,
                token,
            }),
            source,
        ))
    }

    /// The caller's live session, or 401 `UNAUTHORIZED`.
    pub(crate) async fn require(&self, headers: &HeaderMap) -> ApiResult<(Current, Source)> {
        match self.lookup(headers).await? {
            Lookup::Live(c, s) => Ok((*c, s)),
            _ => Err(crate::http::ApiError::unauthorized()),
        }
    }
}
