//! Sessions after sign-in: listing and revoking them (Better Auth's wire format), changing
//! the password, refresh credentials for clients without cookies, and the revocation feed
//! that lets separate services refuse access tokens of ended sessions.
//!
//! Differences from Better Auth, on purpose:
//! * `list-sessions` never returns other sessions' tokens. Its `token` field is the session
//!   id, a non-secret handle that `revoke-session` accepts, so the client's
//!   list-then-revoke flow still works. (Because nothing secret is listed, the "fresh
//!   session" requirement Better Auth puts on this endpoint is not needed and not applied.)
//! * Changing the password always ends every other session.
//! * Ending a session also ends its access tokens: at once in this process, and through
//!   `GET /api/auth/revocations` for verifiers elsewhere.

use axum::Json;
use axum::extract::{FromRequestParts, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, header};
use secrecy::ExposeSecret as _;
use serde_json::json;
use tessera_core::id::new_id;
use tessera_core::{Password, PasswordVerdict, SessionLifetime, SessionToken, TokenDigest};
use tessera_store::{NewRefreshToken, RefreshOutcome, RefreshPolicy, SessionId, UserId};

use crate::http::ErrorCode;
use crate::http::client_ip::ClientIp;
use crate::http::origin::{self, OriginChecked};
use crate::http::rate_limit::{RateLimit, rules};
use crate::http::{ApiError, ApiResult, JsonBody};
use crate::openapi::{Auth, Operation, Routes};
use crate::session::dto::{SessionDto, UserDto};
use crate::session::refresh_keys;
use crate::session::{Current, CurrentSession};
use crate::state::AuthState;

/// Routes under `/api/auth`, with their documentation.
pub(crate) fn routes() -> Routes<AuthState> {
    const TAG: &str = "sessions";
    Routes::new()
        .add(
            Operation::get("/list-sessions", "listSessions", "The caller's live sessions")
                .tag(TAG)
                .describe("Each session's `token` field is its (non-secret) id, never another session's token.")
                .ok(200, "SessionList", "Live sessions")
                .uses_database(),
            list_sessions,
        )
        .add(
            Operation::post("/revoke-session", "revokeSession", "End one of the caller's sessions")
                .tag(TAG)
                .describe("`token` is a session id from list-sessions or a raw session token. The answer is the same whether or not it matched.")
                .json_body("RevokeSessionRequest", true)
                .ok(200, "StatusTrue", "Done")
                .uses_database(),
            revoke_session,
        )
        .add(
            Operation::post("/revoke-sessions", "revokeSessions", "End all of the caller's sessions")
                .tag(TAG)
                .json_body("EmptyRequest", false)
                .ok(200, "StatusTrue", "Done; cookies cleared")
                .uses_database(),
            revoke_sessions,
        )
        .add(
            Operation::post(
                "/revoke-other-sessions",
                "revokeOtherSessions",
                "End every session but the current one",
            )
            .tag(TAG)
            .json_body("EmptyRequest", false)
            .ok(200, "StatusTrue", "Done")
            .uses_database(),
            revoke_other_sessions,
        )
        .add(
            Operation::post("/change-password", "changePassword", "Change the password")
                .tag(TAG)
                .describe("Ends every other session. With `revokeOtherSessions: true` the current session is replaced too and the answer carries the new token and cookie.")
                .json_body("ChangePasswordRequest", true)
                .ok(200, "ChangePasswordResponse", "Changed")
                .error(&[ErrorCode::PasswordTooShort, ErrorCode::PasswordTooLong, ErrorCode::PasswordCompromised, ErrorCode::InvalidPassword, ErrorCode::CredentialAccountNotFound])
                .uses_database(),
            change_password,
        )
        .add(
            Operation::post("/refresh", "refresh", "Exchange a refresh credential")
                .tag(TAG)
                .describe("Rotates the refresh credential and returns a new access token. Reusing a rotated credential (after a short grace period) ends the session.")
                .auth(Auth::None)
                .json_body("RefreshRequest", true)
                .ok(200, "RefreshResponse", "A new access token and refresh credential")
                .error(&[ErrorCode::InvalidRefreshToken])
                .uses_database(),
            refresh,
        )
        .add(
            Operation::get("/revocations", "getRevocations", "Recently ended sessions")
                .tag(TAG)
                .describe("Ids of sessions ended within `window_seconds` (their access tokens could still be unexpired), for verifiers in other services: at most 1000 per answer, oldest first. Call without `since` for everything in the window, then with the answer's `cursor`; `more: true` means call again at once. Ids may repeat across answers. Only for callers holding the feed secret (`--revocations-secret`).")
                .query("since", json!({ "type": "string", "maxLength": 300 }), "The `cursor` of the previous answer")
                .ok(200, "Revocations", "The revocation feed")
                .error(&[ErrorCode::InvalidCursor])
                .uses_database(),
            revocations,
        )
}

fn status_true() -> Json<serde_json::Value> {
    Json(json!({ "status": true }))
}

async fn list_sessions(
    State(state): State<AuthState>,
    CurrentSession(current, _): CurrentSession,
) -> ApiResult<Response> {
    let sessions = state
        .store()
        .list_sessions(&current.user.id, state.clock().now_ms())
        .await?;
    let body: Vec<serde_json::Value> = sessions
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(SessionDto::new(s, &s.id)).unwrap_or_default();
            v["current"] = json!(s.id == current.session.id);
            v
        })
        .collect();
    Ok(Json(body).into_response())
}

async fn revoke_session(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let handle = body.string("token")?;
    // A session id (from list-sessions) or a raw session token; either must be the caller's.
    let target = if let Some(t) = SessionToken::parse(handle) {
        match state.store().session_by_digest(t.digest().as_str()).await? {
            Some((s, _)) => Some(s),
            None => state.store().session_by_id(handle).await?.map(|(s, _)| s),
        }
    } else {
        None
    };
    let mut headers_out = HeaderMap::new();
    if let Some(s) = target.filter(|s| s.user_id == current.user.id)
        && state
            .store()
            .revoke_session(&s.id, state.clock().now_ms())
            .await?
    {
        state.sessions().end(std::slice::from_ref(&s.id));
        tracing::info!(event = "session_revoked", user_id = %current.user.id, session_id = %s.id, "session revoked");
        if s.id == current.session.id {
            headers_out = state.sessions().clear_cookies();
        }
    }
    // The same answer whether or not the handle matched anything.
    Ok((headers_out, status_true()).into_response())
}

async fn revoke_all(
    state: &AuthState,
    current: &Current,
    keep: Option<&str>,
) -> ApiResult<Vec<String>> {
    let ids = state
        .store()
        .revoke_user_sessions(
            UserId(&current.user.id),
            keep.map(SessionId),
            state.clock().now_ms(),
        )
        .await?;
    state.sessions().end(&ids);
    tracing::info!(event = "sessions_revoked", user_id = %current.user.id, count = ids.len(), "sessions revoked");
    Ok(ids)
}

async fn revoke_sessions(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(_): JsonBody,
) -> ApiResult<Response> {
    revoke_all(&state, &current, None).await?;
    Ok((state.sessions().clear_cookies(), status_true()).into_response())
}

async fn revoke_other_sessions(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(_): JsonBody,
) -> ApiResult<Response> {
    revoke_all(&state, &current, Some(&current.session.id)).await?;
    Ok(status_true().into_response())
}

async fn change_password(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::ChangePassword>,
    ip: ClientIp,
    CurrentSession(current, _): CurrentSession,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let raw_new = body.string("newPassword")?;
    let raw_current = body.string("currentPassword")?;
    let rotate_current = body.opt_bool("revokeOtherSessions")?.unwrap_or(false);
    let new_password = Password::new(raw_new).map_err(ApiError::from)?;
    crate::password::refuse_common(&new_password)?;
    let current_password = Password::candidate(raw_current).map_err(ApiError::from)?;
    let stored = state
        .store()
        .user_with_password_by_id(&current.user.id)
        .await?
        .and_then(|(_, hash)| hash)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::CredentialAccountNotFound,
                "Credential account not found",
            )
        })?;
    if !matches!(
        state
            .passwords()
            .verify(current_password, Some(stored))
            .await?,
        PasswordVerdict::Match { .. }
    ) {
        return Err(ApiError::new(
            ErrorCode::InvalidPassword,
            "Invalid password",
        ));
    }
    let hash = state.passwords().hash(new_password).await?;
    state
        .store()
        .set_password_hash(UserId(&current.user.id), &hash, state.clock().now_ms())
        .await?;
    tracing::info!(event = "password_changed", user_id = %current.user.id, "password changed");
    // The owner hears of it at their address (ASVS 6.3.6), whoever changed it.
    state
        .mailer()
        .enqueue(
            crate::mail::Kind::PasswordChanged,
            &current.user.email,
            Some(&current.user.id),
            &crate::mail::Payload::default(),
        )
        .await?;
    // Whoever else held a session for this account is out.
    revoke_all(&state, &current, Some(&current.session.id)).await?;
    if !rotate_current {
        return Ok(
            Json(json!({ "token": null, "user": UserDto::from(&current.user) })).into_response(),
        );
    }
    // Better Auth's revokeOtherSessions: the current session is replaced by a new one too.
    revoke_all(&state, &current, None).await?;
    let remember = current.session.remember;
    let (token, _) = state
        .sessions()
        .start(&current.user, remember, ip, &headers)
        .await?;
    let h = state.sessions().handover_headers(&token, remember);
    Ok((
        h,
        Json(json!({ "token": token.expose(), "user": UserDto::from(&current.user) })),
    )
        .into_response())
}

fn invalid_refresh() -> ApiError {
    ApiError::new(ErrorCode::InvalidRefreshToken, "Invalid refresh token")
}

async fn refresh(
    State(state): State<AuthState>,
    _: RateLimit<rules::Refresh>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let presented = body.string("refresh_token")?;
    if !refresh_keys::well_formed(presented) {
        return Err(invalid_refresh());
    }
    let successor = state.sessions().refresh_keys().successor(presented);
    let s = state.settings();
    let policy = RefreshPolicy {
        now_ms: state.clock().now_ms(),
        grace_ms: tessera_core::clock::millis(s.sessions.refresh_grace),
        lifetime: SessionLifetime {
            idle_ms: tessera_core::clock::millis(s.sessions.session_ttl),
            max_lifetime_ms: tessera_core::clock::millis(s.sessions.session_max_lifetime),
        },
    };
    let next = NewRefreshToken {
        id: new_id(),
        session_id: String::new(),
        token_digest: TokenDigest::of(&successor).as_str().to_owned(),
        parent_id: None,
        now_ms: policy.now_ms,
    };
    let outcome = state
        .store()
        .rotate_refresh_token(TokenDigest::of(presented).as_str(), &next, policy)
        .await?;
    let (session, user) = match outcome {
        RefreshOutcome::Rotated { session, user } | RefreshOutcome::Replayed { session, user } => {
            (session, user)
        }
        RefreshOutcome::Reused {
            session_id,
            user_id,
        } => {
            state.metrics().refresh_reuse();
            state.sessions().end(std::slice::from_ref(&session_id));
            tracing::warn!(event = "refresh_reuse_detected", user_id = %user_id, session_id = %session_id, "refresh credential reused: session revoked");
            return Err(invalid_refresh());
        }
        RefreshOutcome::Unknown | RefreshOutcome::SessionEnded => return Err(invalid_refresh()),
    };
    let body = state
        .sessions()
        .token_response(&user, &session, &successor)?;
    Ok(Json(body).into_response())
}

/// Most session ids in one answer of the revocation feed.
pub(crate) const FEED_PAGE: u32 = 1000;
/// How far a caught-up cursor reaches back: revocations written by another instance (or
/// committed late) with a slightly earlier time are still seen. Ids may repeat; callers
/// keep a set.
const FEED_OVERLAP_MS: i64 = 5_000;

/// `GET /api/auth/revocations[?since=cursor]`: ids of sessions ended recently enough that
/// their access tokens could still be unexpired, for services that verify tokens. Only
/// callers holding the feed secret (`Authorization: Bearer`, compared in constant time)
/// are answered; at most [`FEED_PAGE`] ids per answer, oldest first, with a `cursor` for
/// the next call and `more: true` when the next call should come at once.
/// A caller of the revocation feed that presented the feed secret (`--revocations-secret`)
/// as a Bearer token, compared in constant time; anyone else is answered 401 before the
/// handler runs (everyone, when no secret is configured).
#[derive(Debug)]
struct FeedCaller;

impl FromRequestParts<AuthState> for FeedCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AuthState) -> ApiResult<Self> {
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            // the scheme is case-insensitive (RFC 9110 §11.1)
            .and_then(|v| v.split_at_checked(7))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer "))
            .map(|(_, token)| token.as_bytes());
        match (&state.settings().security.revocations_secret, presented) {
            (Some(secret), Some(given))
                if tessera_core::token::constant_time_eq(secret.expose_secret(), given) =>
            {
                Ok(Self)
            }
            _ => Err(ApiError::unauthorized()),
        }
    }
}

impl crate::openapi::Describe for FeedCaller {
    fn describe(op: Operation) -> Operation {
        op.auth(Auth::ServiceSecret)
    }
}

async fn revocations(
    State(state): State<AuthState>,
    _: FeedCaller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let window = state.settings().tokens.access_token_ttl + std::time::Duration::from_secs(60);
    let oldest = state
        .clock()
        .now_ms()
        .saturating_sub(tessera_core::clock::millis(window));
    let (after_ms, after_id) = match feed_cursor(query.as_deref())? {
        Some((at, id)) if at >= oldest => (at, id),
        _ => (oldest.saturating_sub(1), String::new()),
    };
    let page = state
        .store()
        .revoked_sessions_after(after_ms, &after_id, FEED_PAGE + 1)
        .await?;
    let more = page.len() > FEED_PAGE as usize;
    let page = &page[..page.len().min(FEED_PAGE as usize)];
    let cursor = match page.last() {
        // more to read: continue exactly after the last id sent
        Some((id, at)) if more => format!("{at}:{id}"),
        // caught up: next time, look a little way back again
        Some((_, at)) => format!("{}:", at.saturating_sub(FEED_OVERLAP_MS)),
        None => format!("{after_ms}:{after_id}"),
    };
    let ids: Vec<&str> = page.iter().map(|(id, _)| id.as_str()).collect();
    Ok((Json(json!({
        "sessions": ids,
        "window_seconds": window.as_secs(),
        "cursor": cursor,
        "more": more,
    })),)
        .into_response())
}

/// `since=<ms>:<id>` (as the previous answer's `cursor`, percent-encoded or not).
fn feed_cursor(query: Option<&str>) -> ApiResult<Option<(i64, String)>> {
    let Some(query) = query else {
        return Ok(None);
    };
    let mut since = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key == "since" {
            if since.is_some() {
                return Err(invalid_cursor());
            }
            since = Some(value.into_owned());
        }
    }
    let Some(since) = since else {
        return Ok(None);
    };
    let (at, id) = since.split_once(':').ok_or_else(invalid_cursor)?;
    let at: i64 = at.parse().map_err(|_| invalid_cursor())?;
    if at < 0 || id.len() > 256 || id.chars().any(char::is_control) {
        return Err(invalid_cursor());
    }
    Ok(Some((at, id.to_owned())))
}

fn invalid_cursor() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCursor,
        "since must be a cursor from an earlier answer",
    )
}
