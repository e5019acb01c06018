//! The one error type of the HTTP layer. Every failure becomes Better Auth's envelope
//! `{"message": …, "code": …}` with a fitting status; 5xx causes are logged once, here, and
//! never sent to the client.

use std::borrow::Cow;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use tessera_store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    retry_after: Option<u64>,
}

/// `Result` with [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Serialize)]
struct Envelope<'a> {
    message: &'a str,
    code: &'a str,
}

impl ApiError {
    /// Any status, code and message.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 with Better Auth's `VALIDATION_ERROR` and a zod-style message.
    pub fn validation(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    /// 400 with a specific code.
    pub fn bad_request(code: &'static str, message: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401 `UNAUTHORIZED`.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unauthorized")
    }

    /// 403 with a code.
    pub fn forbidden(code: &'static str, message: &'static str) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Not found")
    }

    /// 405 `METHOD_NOT_ALLOWED`: the path exists, the method does not. Routers install
    /// [`method_not_allowed`] so this answer carries the envelope like every other error.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "Method not allowed",
        )
    }

    /// 503 with `Retry-After`.
    pub fn unavailable() -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "The service is temporarily unavailable. Please try again shortly.",
        );
        e.retry_after = Some(1);
        e
    }

    /// 503 with `Retry-After`: too much work queued (password checks) to answer in time.
    pub fn overloaded(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVER_BUSY",
            "The server is busy. Please try again shortly.",
        );
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// 500 after logging the cause; the client learns nothing about it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_SERVER_ERROR",
            "Something went wrong on our side.",
        )
    }

    /// 429 with `Retry-After` and Better Auth's `X-Retry-After`.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests. Please try again later.",
        );
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// Handler for `Router::method_not_allowed_fallback`: axum's own 405 has an empty body.
pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

impl From<tessera_core::PasswordError> for ApiError {
    /// Better Auth's codes for the length policy.
    fn from(e: tessera_core::PasswordError) -> Self {
        match e {
            tessera_core::PasswordError::TooShort => {
                Self::bad_request("PASSWORD_TOO_SHORT", "Password too short")
            }
            tessera_core::PasswordError::TooLong => {
                Self::bad_request("PASSWORD_TOO_LONG", "Password too long")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                ApiError::unavailable()
            }
            other => ApiError::internal(&DisplayChain(&other)),
        }
    }
}

/// Displays an error with its sources, for logs.
#[derive(Debug)]
pub struct DisplayChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for DisplayChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut src = self.0.source();
        while let Some(s) = src {
            write!(f, ": {s}")?;
            src = s.source();
        }
        Ok(())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (
            self.status,
            Json(Envelope {
                message: &self.message,
                code: self.code,
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            let v = HeaderValue::from(secs);
            res.headers_mut().insert(header::RETRY_AFTER, v.clone());
            if self.status == StatusCode::TOO_MANY_REQUESTS {
                res.headers_mut().insert("x-retry-after", v);
            }
        }
        res
    }
}
