//! `GET /api/auth/jwks` and `GET /api/auth/token` (Better Auth's jwt plugin): handlers
//! over the key ring (`crate::keys`) and the session service.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde_json::json;

use crate::http::ApiResult;
use crate::http::rate_limit::{RateLimit, rules};
use crate::openapi::{Auth, Operation, Routes};
use crate::session::CurrentSession;
use crate::state::AuthState;

/// Routes under `/api/auth`, with their documentation.
pub(crate) fn routes() -> Routes<AuthState> {
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
                .ok(200, "TokenResponse", "The access token")
                .uses_database(),
            token,
        )
}

async fn jwks(State(state): State<AuthState>) -> Response {
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
    State(state): State<AuthState>,
    _: RateLimit<rules::Token>,
    CurrentSession(current, _): CurrentSession,
) -> ApiResult<Response> {
    let jwt = state.sessions().mint(&current.user, &current.session)?;
    Ok(Json(json!({ "token": jwt })).into_response())
}
