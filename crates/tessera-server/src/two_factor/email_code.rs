//! The `twoFactor` plugin's email code: `POST /two-factor/send-otp` and `verify-otp`. A
//! weaker second factor than TOTP (email proves no device: NIST SP 800-63B rev 3 §5.1.3.1,
//! ASVS 6.3.5), offered only when mail is configured and `--email-codes` is on, and only
//! after a first factor that was not the mailbox itself (a magic link or an email code: a
//! second code from the same mailbox proves nothing more). A session it finishes says so:
//! `amr` gains `otp`, `email` and `mfa`, so a backend can refuse it.
//!
//! The code: 6 digits, 10 minutes, one live code per user (a new one voids the older),
//! bound to the challenge (or session) it was sent for, at most [`CODE_ATTEMPTS`] tries,
//! used up by the one that succeeds — all in one statement in the store. Each send and each
//! try also counts against the challenge (5) and every wrong code towards the lockout
//! shared with TOTP and backup codes.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde_json::json;
use tessera_store::{CodeAttempt, EmailTokenPurpose, UserId};

use super::{Subject, code_of, failed, finish, refuse_if_locked, subject};
use crate::http::client_ip::ClientIp;
use crate::http::origin::{self, OriginChecked};
use crate::http::rate_limit::{RateLimit, Rule, rules};
use crate::http::{ApiResult, ErrorCode, JsonBody};
use crate::mail::{Kind, Payload};
use crate::openapi::{Auth, Operation, Routes};
use crate::session::second_factor::FirstFactor;
use crate::state::AuthState;

/// Tries one emailed second-factor code takes (Better Auth: 5).
pub(crate) const CODE_ATTEMPTS: i64 = 5;

/// Routes under `/api/auth`, with their documentation.
pub(crate) fn routes() -> Routes<AuthState> {
    const TAG: &str = "two-factor";
    Routes::new()
        .add(
            Operation::post(
                "/two-factor/send-otp",
                "sendTwoFactorOtp",
                "Mail a second-factor code",
            )
            .tag(TAG)
            .auth(Auth::OptionalSession)
            .describe(
                "With the `two_factor` cookie of a sign-in (or a session, to step up): mails a \
                 6-digit code valid 10 minutes, bound to that challenge. Counts as an attempt \
                 against the challenge. Refused after a magic-link or email-code sign-in \
                 (`OTP_NOT_ALLOWED`): the same mailbox cannot be both factors.",
            )
            .json_body("TrustDeviceRequest", false)
            .ok(200, "StatusTrue", "Queued")
            .error(&[
                ErrorCode::OtpNotConfigured,
                ErrorCode::OtpNotAllowed,
                ErrorCode::TwoFactorNotEnabled,
                ErrorCode::TooManyAttemptsRequestNewCode,
            ])
            .error(&[ErrorCode::InvalidTwoFactorCookie])
            .error(&[ErrorCode::AccountTemporarilyLocked])
            .uses_database(),
            send_otp,
        )
        .add(
            Operation::post(
                "/two-factor/verify-otp",
                "verifyTwoFactorOtp",
                "Verify a second-factor code from mail",
            )
            .tag(TAG)
            .auth(Auth::OptionalSession)
            .describe(
                "As verify-totp, with the mailed code: finishes the sign-in (the session's \
                 `amr` is the first factor's plus `otp`, `email` and `mfa`) or steps the \
                 session up. A code takes 5 tries and works once.",
            )
            .json_body("VerifyCodeRequest", true)
            .ok(
                200,
                "TwoFactorVerifyResponse",
                "A new session (cookie and token)",
            )
            .error(&[
                ErrorCode::OtpHasExpired,
                ErrorCode::OtpNotConfigured,
                ErrorCode::OtpNotAllowed,
                ErrorCode::TooManyAttemptsRequestNewCode,
            ])
            .error(&[ErrorCode::InvalidCode, ErrorCode::InvalidTwoFactorCookie])
            .error(&[ErrorCode::AccountTemporarilyLocked])
            .uses_database(),
            verify_otp,
        )
}

/// The first factor's `amr` and what the code is bound to.
fn first_and_binding(subject: &Subject) -> (&str, &str) {
    match subject {
        Subject::Session(c) => (c.session.amr.as_str(), c.session.id.as_str()),
        Subject::Challenge(c) => (c.0.amr.as_str(), c.0.id.as_str()),
    }
}

/// The checks both routes share: configured, a user with two-factor, not after an email
/// first factor, not locked.
async fn admissible(state: &AuthState, subject: &Subject) -> ApiResult<()> {
    let user = subject.user();
    if !user.two_factor_enabled {
        return Err(ErrorCode::TwoFactorNotEnabled.into());
    }
    if FirstFactor::is_email(first_and_binding(subject).0) {
        return Err(ErrorCode::OtpNotAllowed.into());
    }
    let row = state.store().two_factor(UserId(&user.id)).await?;
    refuse_if_locked(state, row.and_then(|r| r.locked_until))
}

async fn send_otp(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::TwoFactor>,
    headers: HeaderMap,
    JsonBody(_): JsonBody,
) -> ApiResult<Response> {
    if !state.sessions().email_second_factor() {
        return Err(ErrorCode::OtpNotConfigured.into());
    }
    let subject = subject(&state, &headers).await?;
    admissible(&state, &subject).await?;
    let user = subject.user();
    state
        .limiter()
        .hit(Rule::MailPerRecipient, &user.email)
        .await?;
    let payload = Payload {
        bound_to: Some(first_and_binding(&subject).1.to_owned()),
        ..Payload::default()
    };
    state
        .mailer()
        .enqueue(Kind::TwoFactorCode, &user.email, Some(&user.id), &payload)
        .await?;
    tracing::info!(event = "second_factor_code_sent", user_id = %user.id, "a second-factor code was mailed");
    Ok(Json(json!({ "status": true })).into_response())
}

async fn verify_otp(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::TwoFactor>,
    ip: ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let code = code_of(&body)?;
    let trust = body.opt_bool("trustDevice")?.unwrap_or(false);
    if !state.sessions().email_second_factor() {
        return Err(ErrorCode::OtpNotConfigured.into());
    }
    let subject = subject(&state, &headers).await?;
    admissible(&state, &subject).await?;
    let user = subject.user().clone();
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let digest = state
        .mailer()
        .code_digest(EmailTokenPurpose::TwoFactorCode, &user.id, &code);
    let attempt = state
        .store()
        .try_email_code(
            UserId(&user.id),
            EmailTokenPurpose::TwoFactorCode,
            Some(first_and_binding(&subject).1),
            &digest,
            CODE_ATTEMPTS,
            true,
            state.clock().now_ms(),
        )
        .await?;
    match attempt {
        CodeAttempt::Accepted(_) => {
            finish(&state, subject, &["otp", "email"], trust, ip, &headers).await
        }
        CodeAttempt::Wrong { .. } => Err(failed(&state, &user, ErrorCode::InvalidCode).await),
        CodeAttempt::Exhausted => Err(ErrorCode::TooManyAttemptsRequestNewCode.into()),
        CodeAttempt::Expired | CodeAttempt::NoCode => Err(ErrorCode::OtpHasExpired.into()),
    }
}
