//! Extractors a handler names in its signature to require a session, so the requirement is
//! what is mounted, not a call a handler might forget.

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;

use super::{Current, Lookup, Sessions, Source};
use crate::http::ApiError;

/// The caller's live session; a request without one is answered 401 `UNAUTHORIZED` before
/// the handler runs.
#[derive(Debug)]
pub struct CurrentSession(pub Current, pub Source);

impl<S> FromRequestParts<S> for CurrentSession
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (current, source) = Sessions::from_ref(state).require(&parts.headers).await?;
        Ok(Self(current, source))
    }
}

/// The caller's session if there is one: [`Lookup::None`] for anonymous callers,
/// [`Lookup::Expired`] when the presented session has just expired (its cookies should be
/// cleared). Database failures are still errors (503).
#[derive(Debug)]
pub struct MaybeSession(pub Lookup);

impl<S> FromRequestParts<S> for MaybeSession
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Sessions::from_ref(state)
            .lookup(&parts.headers)
            .await
            .map(Self)
    }
}

impl crate::openapi::Describe for CurrentSession {
    fn describe(op: crate::openapi::Operation) -> crate::openapi::Operation {
        op.auth(crate::openapi::Auth::Session)
    }
}

impl crate::openapi::Describe for MaybeSession {
    fn describe(op: crate::openapi::Operation) -> crate::openapi::Operation {
        op.auth(crate::openapi::Auth::OptionalSession)
    }
}
