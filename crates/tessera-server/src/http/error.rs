//! The one error type of the HTTP layer. Every failure becomes Better Auth's envelope
//! `{"message": …, "code": …}` with a fitting status; 5xx causes are logged once, here, and
//! never sent to the client.

use std::borrow::Cow;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use tessera_store::StoreError;

/// Every error code Tessera answers with, with its status and usual message. The route
/// tables document these and the raise sites use them, so the two cannot disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// `BAD_REQUEST` (bad request).
    BadRequest,
    /// `VALIDATION_ERROR` (bad request).
    ValidationError,
    /// `INVALID_EMAIL` (bad request).
    InvalidEmail,
    /// `PASSWORD_TOO_SHORT` (bad request).
    PasswordTooShort,
    /// `PASSWORD_TOO_LONG` (bad request).
    PasswordTooLong,
    /// `PASSWORD_COMPROMISED` (bad request).
    PasswordCompromised,
    /// `INVALID_PASSWORD` (bad request).
    InvalidPassword,
    /// `CREDENTIAL_ACCOUNT_NOT_FOUND` (bad request).
    CredentialAccountNotFound,
    /// `INVALID_CURSOR` (bad request).
    InvalidCursor,
    /// `INVALID_REQUEST` (bad request).
    InvalidRequest,
    /// `TOTP_NOT_ENABLED` (bad request).
    TotpNotEnabled,
    /// `TWO_FACTOR_NOT_ENABLED` (bad request).
    TwoFactorNotEnabled,
    /// `TOTP_ALREADY_ENABLED` (bad request).
    TotpAlreadyEnabled,
    /// `TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE` (bad request).
    TooManyAttemptsRequestNewCode,
    /// `VERIFICATION_EMAIL_NOT_ENABLED` (bad request).
    VerificationEmailNotEnabled,
    /// `RESET_PASSWORD_DISABLED` (bad request).
    ResetPasswordDisabled,
    /// `CHANGE_EMAIL_DISABLED` (bad request).
    ChangeEmailDisabled,
    /// `EMAIL_MISMATCH` (bad request).
    EmailMismatch,
    /// `EMAIL_ALREADY_VERIFIED` (bad request).
    EmailAlreadyVerified,
    /// `EMAIL_IS_THE_SAME` (bad request).
    EmailIsTheSame,
    /// `EMAIL_CAN_NOT_BE_UPDATED` (bad request).
    EmailCanNotBeUpdated,
    /// `NO_FIELDS_TO_UPDATE` (bad request).
    NoFieldsToUpdate,
    /// `INVALID_TOKEN` (bad request): a reset link's token that is unknown, used or expired.
    InvalidResetToken,
    /// `TOKEN_EXPIRED` (unauthorized).
    TokenExpired,
    /// `EMAIL_NOT_VERIFIED` (forbidden).
    EmailNotVerified,
    /// `SESSION_NOT_FRESH` (forbidden).
    SessionNotFresh,
    /// `UNAUTHORIZED` (unauthorized).
    Unauthorized,
    /// `MFA_REQUIRED` (unauthorized): answered by `tessera_verify::MfaUser`.
    MfaRequired,
    /// `INVALID_CODE` (unauthorized).
    InvalidCode,
    /// `INVALID_BACKUP_CODE` (unauthorized).
    InvalidBackupCode,
    /// `CHALLENGE_NOT_FOUND` (bad request): no live passkey ceremony of this kind.
    ChallengeNotFound,
    /// `FAILED_TO_VERIFY_REGISTRATION` (bad request).
    FailedToVerifyRegistration,
    /// `YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY` (unauthorized).
    NotAllowedToRegisterPasskey,
    /// `PASSKEY_NOT_FOUND` (unauthorized).
    PasskeyNotFound,
    /// `AUTHENTICATION_FAILED` (unauthorized).
    AuthenticationFailed,
    /// `INVALID_TWO_FACTOR_COOKIE` (unauthorized).
    InvalidTwoFactorCookie,
    /// `INVALID_EMAIL_OR_PASSWORD` (unauthorized).
    InvalidEmailOrPassword,
    /// `INVALID_REFRESH_TOKEN` (unauthorized).
    InvalidRefreshToken,
    /// `INVALID_TOKEN` (unauthorized).
    InvalidToken,
    /// `FORBIDDEN` (forbidden).
    Forbidden,
    /// `MISSING_OR_NULL_ORIGIN` (forbidden).
    MissingOrNullOrigin,
    /// `INVALID_ORIGIN` (forbidden).
    InvalidOrigin,
    /// `CROSS_SITE_NAVIGATION_LOGIN_BLOCKED` (forbidden).
    CrossSiteNavigationLoginBlocked,
    /// `INVALID_CALLBACK_URL` (forbidden).
    InvalidCallbackUrl,
    /// `INVALID_REDIRECT_URL` (forbidden): `redirectTo` of a reset request.
    InvalidRedirectUrl,
    /// `NOT_FOUND` (not found).
    NotFound,
    /// `METHOD_NOT_ALLOWED` (method not allowed).
    MethodNotAllowed,
    /// `METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED` (method not allowed).
    MethodNotAllowedDeferSessionRequired,
    /// `PAYLOAD_TOO_LARGE` (payload too large).
    PayloadTooLarge,
    /// `UNSUPPORTED_MEDIA_TYPE` (unsupported media type).
    UnsupportedMediaType,
    /// `USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL` (unprocessable entity).
    UserAlreadyExists,
    /// `TOO_MANY_REQUESTS` (too many requests).
    TooManyRequests,
    /// `ACCOUNT_TEMPORARILY_LOCKED` (too many requests): the second factor is locked.
    AccountTemporarilyLocked,
    /// `REQUEST_HEADER_FIELDS_TOO_LARGE` (request header fields too large).
    RequestHeaderFieldsTooLarge,
    /// `INTERNAL_SERVER_ERROR` (internal server error).
    InternalServerError,
    /// `SERVICE_UNAVAILABLE` (service unavailable).
    ServiceUnavailable,
    /// `SERVER_BUSY` (service unavailable).
    ServerBusy,
    /// `PROVIDER_NOT_FOUND` (not found): no identity provider with that id is configured.
    ProviderNotFound,
    /// `ID_TOKEN_NOT_SUPPORTED` (not found): sign-in with a bare ID token is not offered.
    IdTokenNotSupported,
    /// `FAILED_TO_UNLINK_LAST_ACCOUNT` (bad request).
    FailedToUnlinkLastAccount,
    /// `ACCOUNT_NOT_FOUND` (bad request).
    AccountNotFound,
    /// `INVALID_OTP` (bad request): `emailOTP`'s wrong, unknown or used code.
    InvalidOtp,
    /// `OTP_EXPIRED` (bad request).
    OtpExpired,
    /// `TOO_MANY_ATTEMPTS` (forbidden): the code took all its tries.
    TooManyAttempts,
    /// `OTP_HAS_EXPIRED` (bad request): the two-factor email code is expired or used.
    OtpHasExpired,
    /// `OTP_NOT_CONFIGURED` (bad request): no mail, or codes switched off.
    OtpNotConfigured,
    /// `OTP_NOT_ALLOWED` (bad request): an email code cannot be the second factor of a
    /// sign-in whose first factor was the same mailbox (Tessera).
    OtpNotAllowed,
}

impl ErrorCode {
    fn parts(self) -> (&'static str, StatusCode, &'static str) {
        match self {
            Self::BadRequest => ("BAD_REQUEST", StatusCode::BAD_REQUEST, "Bad request"),
            Self::ValidationError => ("VALIDATION_ERROR", StatusCode::BAD_REQUEST, "Invalid input"),
            Self::InvalidEmail => ("INVALID_EMAIL", StatusCode::BAD_REQUEST, "Invalid email"),
            Self::PasswordTooShort => (
                "PASSWORD_TOO_SHORT",
                StatusCode::BAD_REQUEST,
                "Password too short",
            ),
            Self::PasswordTooLong => (
                "PASSWORD_TOO_LONG",
                StatusCode::BAD_REQUEST,
                "Password too long",
            ),
            Self::PasswordCompromised => (
                "PASSWORD_COMPROMISED",
                StatusCode::BAD_REQUEST,
                "This password is too common. Choose a less predictable one.",
            ),
            Self::InvalidPassword => (
                "INVALID_PASSWORD",
                StatusCode::BAD_REQUEST,
                "Invalid password",
            ),
            Self::CredentialAccountNotFound => (
                "CREDENTIAL_ACCOUNT_NOT_FOUND",
                StatusCode::BAD_REQUEST,
                "Credential account not found",
            ),
            Self::InvalidCursor => (
                "INVALID_CURSOR",
                StatusCode::BAD_REQUEST,
                "since must be a cursor from an earlier answer",
            ),
            Self::InvalidRequest => (
                "INVALID_REQUEST",
                StatusCode::BAD_REQUEST,
                "Invalid request",
            ),
            Self::TotpNotEnabled => (
                "TOTP_NOT_ENABLED",
                StatusCode::BAD_REQUEST,
                "TOTP not enabled",
            ),
            Self::TwoFactorNotEnabled => (
                "TWO_FACTOR_NOT_ENABLED",
                StatusCode::BAD_REQUEST,
                "Two factor isn't enabled",
            ),
            Self::TotpAlreadyEnabled => (
                "TOTP_ALREADY_ENABLED",
                StatusCode::BAD_REQUEST,
                "TOTP is already enabled",
            ),
            Self::TooManyAttemptsRequestNewCode => (
                "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
                StatusCode::BAD_REQUEST,
                "Too many attempts. Please request a new code.",
            ),
            Self::VerificationEmailNotEnabled => (
                "VERIFICATION_EMAIL_NOT_ENABLED",
                StatusCode::BAD_REQUEST,
                "Verification email isn't enabled",
            ),
            Self::ResetPasswordDisabled => (
                "RESET_PASSWORD_DISABLED",
                StatusCode::BAD_REQUEST,
                "Reset password isn't enabled",
            ),
            Self::ChangeEmailDisabled => (
                "CHANGE_EMAIL_DISABLED",
                StatusCode::BAD_REQUEST,
                "Change email is disabled",
            ),
            Self::EmailMismatch => ("EMAIL_MISMATCH", StatusCode::BAD_REQUEST, "Email mismatch"),
            Self::EmailAlreadyVerified => (
                "EMAIL_ALREADY_VERIFIED",
                StatusCode::BAD_REQUEST,
                "Email is already verified",
            ),
            Self::EmailIsTheSame => (
                "EMAIL_IS_THE_SAME",
                StatusCode::BAD_REQUEST,
                "Email is the same",
            ),
            Self::EmailCanNotBeUpdated => (
                "EMAIL_CAN_NOT_BE_UPDATED",
                StatusCode::BAD_REQUEST,
                "Email can not be updated",
            ),
            Self::NoFieldsToUpdate => (
                "NO_FIELDS_TO_UPDATE",
                StatusCode::BAD_REQUEST,
                "No fields to update",
            ),
            Self::InvalidResetToken => ("INVALID_TOKEN", StatusCode::BAD_REQUEST, "Invalid token"),
            Self::TokenExpired => ("TOKEN_EXPIRED", StatusCode::UNAUTHORIZED, "Token expired"),
            Self::EmailNotVerified => (
                "EMAIL_NOT_VERIFIED",
                StatusCode::FORBIDDEN,
                "Email not verified",
            ),
            Self::SessionNotFresh => (
                "SESSION_NOT_FRESH",
                StatusCode::FORBIDDEN,
                "Session is not fresh",
            ),
            Self::Unauthorized => ("UNAUTHORIZED", StatusCode::UNAUTHORIZED, "Unauthorized"),
            Self::InvalidCode => ("INVALID_CODE", StatusCode::UNAUTHORIZED, "Invalid code"),
            Self::MfaRequired => (
                "MFA_REQUIRED",
                StatusCode::UNAUTHORIZED,
                "Two-factor authentication required",
            ),
            Self::InvalidBackupCode => (
                "INVALID_BACKUP_CODE",
                StatusCode::UNAUTHORIZED,
                "Invalid backup code",
            ),
            Self::ChallengeNotFound => (
                "CHALLENGE_NOT_FOUND",
                StatusCode::BAD_REQUEST,
                "Challenge not found",
            ),
            Self::FailedToVerifyRegistration => (
                "FAILED_TO_VERIFY_REGISTRATION",
                StatusCode::BAD_REQUEST,
                "Failed to verify registration",
            ),
            Self::NotAllowedToRegisterPasskey => (
                "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY",
                StatusCode::UNAUTHORIZED,
                "You are not allowed to register this passkey",
            ),
            Self::PasskeyNotFound => (
                "PASSKEY_NOT_FOUND",
                StatusCode::UNAUTHORIZED,
                "Passkey not found",
            ),
            Self::AuthenticationFailed => (
                "AUTHENTICATION_FAILED",
                StatusCode::UNAUTHORIZED,
                "Authentication failed",
            ),
            Self::InvalidTwoFactorCookie => (
                "INVALID_TWO_FACTOR_COOKIE",
                StatusCode::UNAUTHORIZED,
                "Invalid two factor cookie",
            ),
            Self::InvalidEmailOrPassword => (
                "INVALID_EMAIL_OR_PASSWORD",
                StatusCode::UNAUTHORIZED,
                "Invalid email or password",
            ),
            Self::InvalidRefreshToken => (
                "INVALID_REFRESH_TOKEN",
                StatusCode::UNAUTHORIZED,
                "Invalid refresh token",
            ),
            Self::InvalidToken => ("INVALID_TOKEN", StatusCode::UNAUTHORIZED, "Invalid token"),
            Self::Forbidden => ("FORBIDDEN", StatusCode::FORBIDDEN, "Forbidden"),
            Self::MissingOrNullOrigin => (
                "MISSING_OR_NULL_ORIGIN",
                StatusCode::FORBIDDEN,
                "Missing or null Origin",
            ),
            Self::InvalidOrigin => ("INVALID_ORIGIN", StatusCode::FORBIDDEN, "Invalid origin"),
            Self::CrossSiteNavigationLoginBlocked => (
                "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
                StatusCode::FORBIDDEN,
                "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
            ),
            Self::InvalidCallbackUrl => (
                "INVALID_CALLBACK_URL",
                StatusCode::FORBIDDEN,
                "Invalid callbackURL",
            ),
            Self::InvalidRedirectUrl => (
                "INVALID_REDIRECT_URL",
                StatusCode::FORBIDDEN,
                "Invalid redirectURL",
            ),
            Self::NotFound => ("NOT_FOUND", StatusCode::NOT_FOUND, "Not found"),
            Self::MethodNotAllowed => (
                "METHOD_NOT_ALLOWED",
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
            ),
            Self::MethodNotAllowedDeferSessionRequired => (
                "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
                StatusCode::METHOD_NOT_ALLOWED,
                "POST method requires deferSessionRefresh to be enabled in session config",
            ),
            Self::PayloadTooLarge => (
                "PAYLOAD_TOO_LARGE",
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body is too large",
            ),
            Self::UnsupportedMediaType => (
                "UNSUPPORTED_MEDIA_TYPE",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
            ),
            Self::UserAlreadyExists => (
                "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
                StatusCode::UNPROCESSABLE_ENTITY,
                "User already exists. Use another email.",
            ),
            Self::TooManyRequests => (
                "TOO_MANY_REQUESTS",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests. Please try again later.",
            ),
            Self::AccountTemporarilyLocked => (
                "ACCOUNT_TEMPORARILY_LOCKED",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed verification attempts. Your account is temporarily locked. Please try again later.",
            ),
            Self::RequestHeaderFieldsTooLarge => (
                "REQUEST_HEADER_FIELDS_TOO_LARGE",
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "Too many request headers.",
            ),
            Self::InternalServerError => (
                "INTERNAL_SERVER_ERROR",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side.",
            ),
            Self::ServiceUnavailable => (
                "SERVICE_UNAVAILABLE",
                StatusCode::SERVICE_UNAVAILABLE,
                "The service is temporarily unavailable. Please try again shortly.",
            ),
            Self::ServerBusy => (
                "SERVER_BUSY",
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is busy. Please try again shortly.",
            ),
            Self::ProviderNotFound => (
                "PROVIDER_NOT_FOUND",
                StatusCode::NOT_FOUND,
                "Provider not found",
            ),
            Self::IdTokenNotSupported => (
                "ID_TOKEN_NOT_SUPPORTED",
                StatusCode::NOT_FOUND,
                "id_token not supported",
            ),
            Self::FailedToUnlinkLastAccount => (
                "FAILED_TO_UNLINK_LAST_ACCOUNT",
                StatusCode::BAD_REQUEST,
                "You can't unlink your last account",
            ),
            Self::AccountNotFound => (
                "ACCOUNT_NOT_FOUND",
                StatusCode::BAD_REQUEST,
                "Account not found",
            ),
            Self::InvalidOtp => ("INVALID_OTP", StatusCode::BAD_REQUEST, "Invalid OTP"),
            Self::OtpExpired => ("OTP_EXPIRED", StatusCode::BAD_REQUEST, "OTP expired"),
            Self::TooManyAttempts => (
                "TOO_MANY_ATTEMPTS",
                StatusCode::FORBIDDEN,
                "Too many attempts",
            ),
            Self::OtpHasExpired => (
                "OTP_HAS_EXPIRED",
                StatusCode::BAD_REQUEST,
                "OTP has expired",
            ),
            Self::OtpNotConfigured => (
                "OTP_NOT_CONFIGURED",
                StatusCode::BAD_REQUEST,
                "OTP isn't configured",
            ),
            Self::OtpNotAllowed => (
                "OTP_NOT_ALLOWED",
                StatusCode::BAD_REQUEST,
                "An email code cannot be the second factor after an email sign-in",
            ),
        }
    }

    /// The code as sent in `{"code": …}`.
    pub fn as_str(self) -> &'static str {
        self.parts().0
    }

    /// The status it is answered with.
    pub fn status(self) -> StatusCode {
        self.parts().1
    }

    /// The usual message.
    pub fn message(self) -> &'static str {
        self.parts().2
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
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

impl From<ErrorCode> for ApiError {
    /// The code with its usual message.
    fn from(code: ErrorCode) -> Self {
        Self::new(code, code.message())
    }
}

impl ApiError {
    /// A code with a message of its own.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 with Better Auth's `VALIDATION_ERROR` and a zod-style message.
    pub fn validation(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ValidationError, message)
    }

    /// 401 `UNAUTHORIZED`.
    pub fn unauthorized() -> Self {
        ErrorCode::Unauthorized.into()
    }

    /// 404 `NOT_FOUND`.
    pub fn not_found() -> Self {
        ErrorCode::NotFound.into()
    }

    /// 405 `METHOD_NOT_ALLOWED`: the path exists, the method does not.
    pub fn method_not_allowed() -> Self {
        ErrorCode::MethodNotAllowed.into()
    }

    /// 503 with `Retry-After`.
    pub fn unavailable() -> Self {
        let mut e = Self::from(ErrorCode::ServiceUnavailable);
        e.retry_after = Some(1);
        e
    }

    /// 503 with `Retry-After`: too much work queued (password checks) to answer in time.
    pub fn overloaded(retry_after_secs: u64) -> Self {
        let mut e = Self::from(ErrorCode::ServerBusy);
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// 500 after logging the cause; the client learns nothing about it.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ErrorCode::InternalServerError.into()
    }

    /// 429 `ACCOUNT_TEMPORARILY_LOCKED` with `Retry-After`: the second factor is locked.
    pub fn second_factor_locked(retry_after_secs: u64) -> Self {
        let mut e = Self::from(ErrorCode::AccountTemporarilyLocked);
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// 429 with `Retry-After` and Better Auth's `X-Retry-After`.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::from(ErrorCode::TooManyRequests);
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code.as_str()
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
            tessera_core::PasswordError::TooShort => ErrorCode::PasswordTooShort.into(),
            tessera_core::PasswordError::TooLong => ErrorCode::PasswordTooLong.into(),
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
        let status = self.code.status();
        let mut res = (
            status,
            Json(Envelope {
                message: &self.message,
                code: self.code.as_str(),
            }),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            let v = HeaderValue::from(secs);
            res.headers_mut().insert(header::RETRY_AFTER, v.clone());
            if status == StatusCode::TOO_MANY_REQUESTS {
                res.headers_mut().insert("x-retry-after", v);
            }
        }
        res
    }
}
