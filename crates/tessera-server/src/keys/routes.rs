//! `GET /api/auth/jwks` and `GET /api/auth/token` (Better Auth's jwt plugin).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};
use serde_json::json;
use tessera_core::id::new_id;
use tessera_store::{Session, User};

use super::AccessClaims;
use crate::http::ApiResult;
use crate::http::client_ip::ClientIp;
use crate::http::rate_limit::{Rule, client_key};
use crate::openapi::{Auth, Operation, Routes};
use crate::state::AppState;

/// Routes under `/api/auth`, with their documentation.
pub fn routes() -> Routes<AppState> {
    const TAG: &str = "jwt";
    Routes::new()
        .add(
            Operation::get("/jwks", "getJwks", "Public keys that verify access tokens")
                .tag(TAG)
                .describe("A JSON Web Key Set; cached for five minutes. Verifiers refetch on an unknown `kid`.")
                .auth(Auth::None)
                .ok(200, "Jwks", "The key set"),
            jwks,
        )
        .add(
            Operation::get("/token", "getToken", "An access token for the current session")
                .tag(TAG)
                .describe("A short-lived JWT (`sub` = user id, `sid` = session id) for the tasks API and other backends.")
                .auth(Auth::Session)
                .ok(200, "TokenResponse", "The access token")
                .rate_limited()
                .uses_database(),
            token,
        )
}

async fn jwks(State(state): State<AppState>) -> Response {
    let body = state.keys().jwks_json();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            // Verifiers refetch on an unknown kid anyway; five minutes keeps load down.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
        ],
        body.to_string(),
    )
        .into_response()
}

async fn token(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
) -> ApiResult<Response> {
    state.limiter().hit(Rule::Token, &client_key(ip))?;
    let (current, _) = crate::auth::require_session(&state, &headers).await?;
    let jwt = mint(&state, &current.user, &current.session);
    Ok((
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        Json(json!({ "token": jwt })),
    )
        .into_response())
}

/// Mints an access token for a live session.
pub fn mint(state: &AppState, user: &User, session: &Session) -> String {
    let s = state.settings();
    let iat = state.clock().now_ms() / 1000;
    let ttl = i64::try_from(s.access_token_ttl.as_secs()).unwrap_or(900);
    let (iss, aud) = (s.issuer(), s.audience());
    let jti = new_id();
    state.keys().sign(&AccessClaims {
        iss: &iss,
        aud: &aud,
        sub: &user.id,
        iat,
        exp: iat + ttl,
        jti: &jti,
        sid: &session.id,
        email: &user.email,
        name: &user.name,
        email_verified: user.email_verified,
    })
}
