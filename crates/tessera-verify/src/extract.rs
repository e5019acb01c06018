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

/// RFC 9470's step-up challenge, answered by [`MfaUser`] and [`RecentMfa`].
const MFA_CHALLENGE: &str = r#"Bearer error="insufficient_user_authentication", error_description="A second factor is required""#;

fn json_response(
    status: StatusCode,
    body: String,
    challenge: Option<HeaderValue>,
    retry_after: Option<u64>,
) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(challenge) = challenge {
        headers.insert(header::WWW_AUTHENTICATE, challenge);
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
            self.www_authenticate().map(HeaderValue::from_static),
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
    /// A valid token without a second factor (`amr` lacks `mfa`) on a route that needs one
    /// ([`MfaUser`]): 401 with RFC 9470's `insufficient_user_authentication` challenge and
    /// `{"message":"Two-factor authentication required","code":"MFA_REQUIRED"}`, the answer
    /// of the Python and JavaScript packages too.
    #[error("the token carries no second factor")]
    MfaRequired,
    /// A second factor, but not within `max_age` seconds ([`RecentMfa`]): 401 with the same
    /// challenge plus `max_age` (RFC 9470 §3), code `RECENT_MFA_REQUIRED`.
    #[error("the token's second factor is older than {max_age} s")]
    RecentMfaRequired {
        /// The route's limit, in seconds.
        max_age: u64,
    },
}

impl AuthRejection {
    /// The HTTP status of the answer.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated(error) => error.status(),
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::MissingUserIdParam => StatusCode::INTERNAL_SERVER_ERROR,
            Self::MfaRequired | Self::RecentMfaRequired { .. } => StatusCode::UNAUTHORIZED,
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
            Self::MfaRequired => json_response(
                StatusCode::UNAUTHORIZED,
                json_body("Two-factor authentication required", "MFA_REQUIRED"),
                Some(HeaderValue::from_static(MFA_CHALLENGE)),
                None,
            ),
            Self::RecentMfaRequired { max_age } => json_response(
                StatusCode::UNAUTHORIZED,
                json_body(
                    "A recent two-factor authentication is required",
                    "RECENT_MFA_REQUIRED",
                ),
                HeaderValue::try_from(format!("{MFA_CHALLENGE}, max_age={max_age}")).ok(),
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

/// The verified caller, who signed in with a second factor: the token's `amr` contains
/// `mfa` (Tessera adds it once a TOTP or backup code was verified, see RFC 8176).
///
/// A token without it is refused with 401 and RFC 9470's challenge
/// `Bearer error="insufficient_user_authentication"`, so the client knows to have the user
/// verify a second factor (Tessera's `/api/auth/two-factor/verify-totp` with the session)
/// and fetch a new access token. Combine it with [`OwnerOf`] in one handler: the token is
/// verified once.
///
/// ```
/// use std::sync::Arc;
/// use axum::{Router, body::Body, http::{Request, StatusCode}, routing::delete};
/// use tessera_verify::{ManualClock, MfaUser, OwnerOf, RecentMfa, Verifier};
/// use tower::ServiceExt as _;
///
/// async fn delete_everything(owner: OwnerOf, _mfa: MfaUser) -> String {
///     format!("deleted the tasks of {}", owner.subject())
/// }
///
/// // Step-up: a second factor within the last 5 minutes.
/// async fn change_payout(_recent: RecentMfa<300>) -> &'static str {
///     "changed"
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use aws_lc_rs::hmac;
/// # use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD as B64};
/// let secret = b"a shared secret of at least 32 bytes, from config";
/// let now = 1_800_000_000;
/// let verifier = Verifier::builder()
///     .issuer("https://auth.example.com")
///     .audience("https://api.example.com")
///     .hs256_secret(secret)
///     .clock(Arc::new(ManualClock::new(now)))
///     .build()?;
/// let app = Router::new()
///     .route("/api/{user_id}/tasks", delete(delete_everything))
///     .route("/payout", axum::routing::post(change_payout))
///     .with_state(verifier);
///
/// // A token as Tessera mints it (by hand here): `amr` and `auth_time` say how and when.
/// let mint = |amr: &str, auth_time: i64| {
///     let header = B64.encode(r#"{"alg":"HS256","typ":"at+jwt"}"#);
///     let claims = B64.encode(format!(
///         r#"{{"sub":"u1","iss":"https://auth.example.com","aud":"https://api.example.com","iat":{now},"exp":{},"amr":{amr},"auth_time":{auth_time}}}"#,
///         now + 900
///     ));
///     let input = format!("{header}.{claims}");
///     let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
///     format!("{input}.{}", B64.encode(tag))
/// };
/// let call = |method: &str, path: &str, token: String| {
///     Request::builder().method(method).uri(path)
///         .header("authorization", format!("Bearer {token}"))
///         .body(Body::empty())
///         .unwrap()
/// };
///
/// // Password only: refused, and the answer says how to step up.
/// let res = app.clone().oneshot(call("DELETE", "/api/u1/tasks", mint(r#"["pwd"]"#, now))).await?;
/// assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
/// let challenge = res.headers()["www-authenticate"].to_str()?;
/// assert!(challenge.contains("insufficient_user_authentication"));
///
/// // Password and TOTP: accepted.
/// let res = app.clone().oneshot(call("DELETE", "/api/u1/tasks", mint(r#"["pwd","otp","mfa"]"#, now))).await?;
/// assert_eq!(res.status(), StatusCode::OK);
///
/// // A second factor from an hour ago is not recent enough for the step-up route.
/// let res = app.clone().oneshot(call("POST", "/payout", mint(r#"["pwd","otp","mfa"]"#, now - 3600))).await?;
/// assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
/// assert!(res.headers()["www-authenticate"].to_str()?.ends_with("max_age=300"));
/// let res = app.oneshot(call("POST", "/payout", mint(r#"["pwd","otp","mfa"]"#, now - 60))).await?;
/// assert_eq!(res.status(), StatusCode::OK);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MfaUser(AuthUser);

impl MfaUser {
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

impl<S> FromRequestParts<S> for MfaUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = authenticate(parts, state).await?;
        if !user.claims().has_mfa() {
            return Err(AuthRejection::MfaRequired);
        }
        Ok(Self(user))
    }
}

/// The verified caller, who passed a second factor at most `MAX_AGE_SECS` seconds ago (by
/// `auth_time`, against the verifier's clock): for step-up on the most sensitive routes.
/// Without a second factor at all the answer is [`AuthRejection::MfaRequired`]; with an
/// older one [`AuthRejection::RecentMfaRequired`] (401, the challenge carries `max_age`).
/// See [`MfaUser`] for an example.
#[derive(Debug, Clone)]
pub struct RecentMfa<const MAX_AGE_SECS: u64>(AuthUser);

impl<const MAX_AGE_SECS: u64> RecentMfa<MAX_AGE_SECS> {
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

impl<S, const MAX_AGE_SECS: u64> FromRequestParts<S> for RecentMfa<MAX_AGE_SECS>
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = authenticate(parts, state).await?;
        let claims = user.claims();
        if !claims.has_mfa() {
            return Err(AuthRejection::MfaRequired);
        }
        let now = Verifier::from_ref(state).now_unix();
        if !claims.has_mfa_within(MAX_AGE_SECS, now) {
            return Err(AuthRejection::RecentMfaRequired {
                max_age: MAX_AGE_SECS,
            });
        }
        Ok(Self(user))
    }
}
