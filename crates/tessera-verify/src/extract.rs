//! axum integration: extractors and `IntoResponse` for the errors (feature `axum`).
//!
//! All extractors need the [`Verifier`] in the router state (`Verifier: FromRef<S>`; a
//! router whose state *is* a `Verifier` works as is). A verification done by one extractor
//! is remembered in the request's extensions, so a handler taking both [`OwnerOf`] and
//! [`AuthUser`] verifies the token once.

use std::sync::Arc;

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts, RawPathParams};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use crate::claims::Claims;
use crate::error::{VerifyError, json_body};
use crate::verifier::Verifier;

/// The path parameter [`OwnerOf`] compares with the token's subject.
pub const USER_ID_PARAM: &str = "user_id";

fn json_response(
    status: StatusCode,
    body: String,
    challenge: Option<&'static str>,
    retry_after: Option<u64>,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(challenge) = challenge {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    if let Some(secs) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// RFC 6750 answer: see the table on [`VerifyError`].
impl IntoResponse for VerifyError {
    fn into_response(self) -> Response {
        json_response(
            self.status(),
            self.body(),
            self.www_authenticate(),
            self.retry_after(),
        )
    }
}

/// Why [`OwnerOf`] refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthRejection {
    /// No acceptable token: answered as the [`VerifyError`] says (401/400/503).
    #[error(transparent)]
    Unauthenticated(#[from] VerifyError),
    /// A valid token whose subject is not the route's `{user_id}`: 403
    /// `{"message":"Forbidden","code":"FORBIDDEN"}`, the same bytes whether or not that user
    /// exists (this crate cannot know, so the answer cannot depend on it).
    #[error("the token's subject does not own this resource")]
    Forbidden,
    /// The route has no `{user_id}` parameter: a programming error, answered 500 and logged.
    #[error("the route has no `{{user_id}}` path parameter")]
    MissingUserIdParam,
}

impl AuthRejection {
    /// The HTTP status of the answer.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(error) => error.status(),
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::MissingUserIdParam => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthenticated(error) => error.into_response(),
            Self::Forbidden => json_response(
                StatusCode::FORBIDDEN,
                json_body("Forbidden", "FORBIDDEN"),
                None,
                None,
            ),
            Self::MissingUserIdParam => json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json_body("Internal server error", "INTERNAL_SERVER_ERROR"),
                None,
                None,
            ),
        }
    }
}

/// The verified caller. Extracting it answers 401 (or 400/503) when the request has no
/// acceptable bearer token.
///
/// ```
/// use axum::{Router, routing::get};
/// use tessera_verify::{AuthUser, Verifier};
///
/// async fn me(user: AuthUser) -> String {
///     format!("hello {}", user.subject())
/// }
///
/// fn app(verifier: Verifier) -> Router {
///     Router::new().route("/me", get(me)).with_state(verifier)
/// }
/// ```
#[derive(Debug, Clone)]
pub struct AuthUser(Arc<Claims>);

impl AuthUser {
    /// The user id (`sub`).
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.0.sub
    }

    /// The session id (`sid`), if the token carries one.
    #[must_use]
    pub fn session_id(&self) -> Option<&str> {
        self.0.sid.as_deref()
    }

    /// The `email` claim, if present.
    #[must_use]
    pub fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// All verified claims.
    #[must_use]
    pub fn claims(&self) -> &Claims {
        &self.0
    }

    /// Takes the claims out.
    #[must_use]
    pub fn into_claims(self) -> Claims {
        Arc::unwrap_or_clone(self.0)
    }
}

async fn authenticate<S>(parts: &mut Parts, state: &S) -> Result<AuthUser, VerifyError>
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    if let Some(user) = parts.extensions.get::<AuthUser>() {
        return Ok(user.clone());
    }
    let verifier = Verifier::from_ref(state);
    let claims = verifier.verify_authorization(&parts.headers).await?;
    let user = AuthUser(Arc::new(claims));
    parts.extensions.insert(user.clone());
    Ok(user)
}

impl<S> FromRequestParts<S> for AuthUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = VerifyError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await
    }
}

/// `Option<AuthUser>`: `None` without bearer credentials; a bad token is still refused.
impl<S> OptionalFromRequestParts<S> for AuthUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = VerifyError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match authenticate(parts, state).await {
            Ok(user) => Ok(Some(user)),
            Err(VerifyError::Missing) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// The caller if there is one: `None` when the request has no bearer credentials at all
/// (no `Authorization` header, or another scheme). A token that is sent but not acceptable
/// is still refused (401), never silently treated as anonymous.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = VerifyError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        <AuthUser as OptionalFromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(MaybeAuthUser)
    }
}

/// The verified caller, who must be the user named by the route's `{user_id}` parameter.
///
/// First the token is verified (401/400/503 as [`AuthUser`]), then `{user_id}` (read with
/// [`RawPathParams`], so the route may have other parameters) is compared byte for byte with
/// `sub` — no case folding, no trimming, no normalisation. A mismatch is 403
/// `{"message":"Forbidden","code":"FORBIDDEN"}`, identical for existing and unknown users.
/// A `{user_id}` that is not valid UTF-8 once percent-decoded cannot equal a subject and is
/// also 403. A route without `{user_id}` is a bug: 500, logged.
///
/// ```
/// use axum::{Json, Router, routing::get};
/// use tessera_verify::{OwnerOf, Verifier};
///
/// async fn list_tasks(owner: OwnerOf) -> Json<Vec<String>> {
///     // Only reached when the token's `sub` equals `{user_id}`.
///     Json(vec![format!("tasks of {}", owner.subject())])
/// }
///
/// fn app(verifier: Verifier) -> Router {
///     Router::new()
///         .route("/api/{user_id}/tasks", get(list_tasks))
///         .with_state(verifier)
/// }
/// ```
#[derive(Debug, Clone)]
pub struct OwnerOf(AuthUser);

impl OwnerOf {
    /// The user id, equal to both `sub` and the route's `{user_id}`.
    #[must_use]
    pub fn subject(&self) -> &str {
        self.0.subject()
    }

    /// The verified caller.
    #[must_use]
    pub fn user(&self) -> &AuthUser {
        &self.0
    }

    /// Takes the verified caller out.
    #[must_use]
    pub fn into_user(self) -> AuthUser {
        self.0
    }
}

impl<S> FromRequestParts<S> for OwnerOf
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = authenticate(parts, state).await?;
        let params = match RawPathParams::from_request_parts(parts, state).await {
            Ok(params) => params,
            Err(RawPathParamsRejection::InvalidUtf8InPathParam(_)) => {
                return Err(AuthRejection::Forbidden);
            }
            Err(_) => {
                tracing::error!("OwnerOf used on a route without path parameters");
                return Err(AuthRejection::MissingUserIdParam);
            }
        };
        let Some(user_id) = params
            .iter()
            .find_map(|(name, value)| (name == USER_ID_PARAM).then_some(value))
        else {
            tracing::error!("OwnerOf used on a route without a `{{user_id}}` parameter");
            return Err(AuthRejection::MissingUserIdParam);
        };
        if user_id.as_bytes() != user.subject().as_bytes() {
            return Err(AuthRejection::Forbidden);
        }
        Ok(Self(user))
    }
}
