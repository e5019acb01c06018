//! Better Auth's email routes and the profile: address verification, password reset,
//! change of address, and `update-user`.
//!
//! Every message goes through the outbox (`mail`): a request writes one row and answers, so
//! an unknown address and a known one get the same bytes after the same work. Links carry
//! single-use tokens made when the message is sent and stored only as digests; following a
//! link never signs anyone in, and the reset link's GET uses nothing up (mail scanners fetch
//! links before people do), the password is only set by the POST.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;
use tessera_core::account::AccountName;
use tessera_core::{Email, Password, PasswordVerdict, TokenDigest};
use tessera_store::{Consumed, EmailTokenPurpose as Purpose, ResetOutcome, StoreError, UserId};

use crate::auth::parse_image;
use crate::http::origin::{self, OriginChecked};
use crate::http::rate_limit::{RateLimit, Rule, rules};
use crate::http::{ApiError, ApiResult, ErrorCode, Fields, JsonBody};
use crate::mail::sender::DEFAULT_RESET_PAGE;
use crate::mail::{Kind, Payload};
use crate::openapi::{Auth, Operation, Routes};
use crate::password::account_refused;
use crate::session::dto::UserDto;
use crate::session::{CurrentSession, Lookup, MaybeSession};
use crate::state::AuthState;

/// A change of address without the password needs a session at most this old.
const FRESH_SESSION_MS: i64 = 15 * 60 * 1000;

/// What `request-password-reset` answers, for every address.
const RESET_REQUESTED: &str =
    "If this email exists in our system, check your email for the reset link";

/// Routes under `/api/auth`, with their documentation.
pub(crate) fn routes() -> Routes<AuthState> {
    const TAG: &str = "email";
    let reset_request = |path: &str, id: &str| {
        Operation::post(path, id, "Send a password-reset link")
            .tag(TAG)
            .describe(
                "Answers the same for known and unknown addresses; the link (valid 30 minutes, \
                 single use) is mailed in the background. Limited per client and per address.",
            )
            .auth(Auth::None)
            .json_body("RequestPasswordResetRequest", true)
            .ok(200, "StatusMessage", "Requested")
            .error(&[ErrorCode::ResetPasswordDisabled, ErrorCode::InvalidEmail])
            .error(&[ErrorCode::InvalidRedirectUrl])
            .uses_database()
    };
    Routes::new()
        .add(
            Operation::post(
                "/send-verification-email",
                "sendVerificationEmail",
                "Send an address-verification link",
            )
            .tag(TAG)
            .describe(
                "Without a session the answer is the same for every address. With one, the \
                 address must be the session's and not yet verified. The link is valid 24 hours, \
                 single use.",
            )
            .json_body("SendVerificationEmailRequest", true)
            .ok(200, "StatusTrue", "Requested")
            .error(&[
                ErrorCode::VerificationEmailNotEnabled,
                ErrorCode::InvalidEmail,
                ErrorCode::EmailMismatch,
                ErrorCode::EmailAlreadyVerified,
            ])
            .error(&[ErrorCode::InvalidCallbackUrl])
            .uses_database(),
            send_verification_email,
        )
        .add(
            Operation::get("/verify-email", "verifyEmail", "Follow a verification link")
                .tag(TAG)
                .describe(
                    "Uses the token up: verifies the address, confirms a change of address (and \
                     mails the new one) or completes it. Never signs in. With `callbackURL`: 302 \
                     there, with `?error=CODE` on failure.",
                )
                .auth(Auth::None)
                .query(
                    "token",
                    json!({ "type": "string" }),
                    "The token from the link",
                )
                .query(
                    "callbackURL",
                    json!({ "type": "string" }),
                    "Where to go afterwards",
                )
                .ok(200, "VerifyEmailResponse", "Verified (without callbackURL)")
                .no_content(302, "To callbackURL")
                .error(&[ErrorCode::InvalidToken, ErrorCode::TokenExpired])
                .error(&[ErrorCode::InvalidCallbackUrl])
                .uses_database(),
            verify_email,
        )
        .add(
            reset_request("/request-password-reset", "requestPasswordReset"),
            request_password_reset,
        )
        .add(
            reset_request("/forget-password", "forgetPassword")
                .describe("Better Auth's name before 1.4; the same as `/request-password-reset`."),
            request_password_reset,
        )
        .add(
            Operation::get(
                "/reset-password/{token}",
                "resetPasswordCallback",
                "Follow a reset link",
            )
            .tag(TAG)
            .describe(
                "Checks the token without using it up (mail scanners fetch links) and sends \
                     the browser to `callbackURL?token=…`, or `callbackURL?error=INVALID_TOKEN`.",
            )
            .auth(Auth::None)
            .query(
                "callbackURL",
                json!({ "type": "string" }),
                "The page that chooses the new password",
            )
            .no_content(302, "To callbackURL")
            .error(&[ErrorCode::InvalidCallbackUrl])
            .uses_database(),
            reset_password_link,
        )
        .add(
            Operation::post("/reset-password", "resetPassword", "Choose a new password")
                .tag(TAG)
                .describe(
                    "Uses the token up, sets the password, ends every session of the user and \
                     mails a notice. Signs nobody in: the user signs in with the new password \
                     (and their second factor).",
                )
                .auth(Auth::None)
                .json_body("ResetPasswordRequest", true)
                .ok(200, "StatusTrue", "Password set")
                .error(&[
                    ErrorCode::InvalidResetToken,
                    ErrorCode::PasswordTooShort,
                    ErrorCode::PasswordTooLong,
                    ErrorCode::PasswordCompromised,
                ])
                .uses_database(),
            reset_password,
        )
        .add(
            Operation::post("/change-email", "changeEmail", "Change the address")
                .tag(TAG)
                .describe(
                    "Needs the password (Tessera's `password` field) or a session younger than \
                     15 minutes. A verified address gets a confirmation link first; the new \
                     address then gets a link that completes the change. The answer is the \
                     same whether or not the new address has an account.",
                )
                .json_body("ChangeEmailRequest", true)
                .ok(200, "StatusTrue", "Requested")
                .error(&[
                    ErrorCode::ChangeEmailDisabled,
                    ErrorCode::InvalidEmail,
                    ErrorCode::EmailIsTheSame,
                    ErrorCode::InvalidPassword,
                ])
                .error(&[ErrorCode::SessionNotFresh])
                .error(&[ErrorCode::InvalidCallbackUrl])
                .uses_database(),
            change_email,
        )
        .add(
            Operation::post("/update-user", "updateUser", "Change the name or image")
                .tag("auth")
                .json_body("UpdateUserRequest", true)
                .ok(200, "StatusTrue", "Updated")
                .error(&[
                    ErrorCode::ValidationError,
                    ErrorCode::EmailCanNotBeUpdated,
                    ErrorCode::NoFieldsToUpdate,
                ])
                .uses_database(),
            update_user,
        )
}

/// The address in `field`, normalised; 400 `INVALID_EMAIL` otherwise.
fn email_field(fields: &Fields, field: &str) -> ApiResult<Email> {
    Email::parse(fields.string(field)?)
        .map_err(|_| ApiError::new(ErrorCode::InvalidEmail, "Invalid email"))
}

/// An optional URL field that must stay on a trusted origin.
fn callback_field(state: &AuthState, fields: &Fields, field: &str) -> ApiResult<Option<String>> {
    let url = fields.opt_string(field)?;
    if let Some(url) = url {
        origin::check_callback_url(url, state.trusted_origins())?;
    }
    Ok(url.map(str::to_owned))
}

/// The first value of `key` in a query string.
fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Takes one message to `address` from its quota (per address, whoever asks).
async fn per_recipient(state: &AuthState, address: &str) -> ApiResult<()> {
    state.limiter().hit(Rule::MailPerRecipient, address).await
}

async fn send_verification_email(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::SendMail>,
    MaybeSession(found): MaybeSession,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let email = email_field(&fields, "email")?;
    let callback = callback_field(&state, &fields, "callbackURL")?;
    if !state.mailer().enabled() {
        return Err(ErrorCode::VerificationEmailNotEnabled.into());
    }
    let user_id = match &found {
        Lookup::Live(current, _) => {
            if current.user.email != email.as_str() {
                return Err(ErrorCode::EmailMismatch.into());
            }
            if current.user.email_verified {
                return Err(ErrorCode::EmailAlreadyVerified.into());
            }
            Some(current.user.id.as_str())
        }
        // No session: the same answer for every address; the sender finds out whether
        // there is anything to send.
        _ => None,
    };
    per_recipient(&state, email.as_str()).await?;
    let payload = Payload {
        callback,
        ..Payload::default()
    };
    state
        .mailer()
        .enqueue(Kind::VerifyEmail, email.as_str(), user_id, &payload)
        .await?;
    Ok(Json(json!({ "status": true })).into_response())
}

/// 302 to `url`.
fn redirect(url: &str) -> Response {
    match HeaderValue::try_from(url) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => {
            ApiError::new(ErrorCode::InvalidCallbackUrl, "Invalid callbackURL").into_response()
        }
    }
}

/// `url` with one more query parameter.
fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    format!("{url}{sep}{key}={value}")
}

async fn verify_email(
    State(state): State<AuthState>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let query = query.as_deref();
    let callback = query_value(query, "callbackURL").filter(|c| !c.is_empty());
    if let Some(c) = &callback {
        origin::check_callback_url(c, state.trusted_origins())?;
    }
    let fail = |code: ErrorCode| -> ApiResult<Response> {
        match &callback {
            Some(c) => Ok(redirect(&with_param(c, "error", code.as_str()))),
            None => Err(ApiError::new(code, code.message())),
        }
    };
    let Some(token) = query_value(query, "token").filter(|t| !t.is_empty()) else {
        return Err(ApiError::validation(
            "[query.token] Invalid input: expected string",
        ));
    };
    let digest = TokenDigest::of(&token);
    let now = state.clock().now_ms();
    let store = state.store();
    let consumed = store
        .consume_email_token(
            digest.as_str(),
            &[
                Purpose::VerifyEmail,
                Purpose::ConfirmEmailChange,
                Purpose::VerifyNewEmail,
            ],
            now,
        )
        .await?;
    let row = match consumed {
        Consumed::Fresh(row) => row,
        Consumed::Expired => return fail(ErrorCode::TokenExpired),
        Consumed::Unknown => return fail(ErrorCode::InvalidToken),
    };
    let user_id = UserId(&row.user_id);
    let mut user_out = serde_json::Value::Null;
    match Purpose::parse(&row.purpose) {
        Some(Purpose::VerifyEmail) => {
            if !store.mark_email_verified(user_id, &row.email, now).await? {
                return fail(ErrorCode::InvalidToken);
            }
            state.sessions().forget_user(&row.user_id);
            tracing::info!(event = "email_verified", user_id = %row.user_id, "address verified");
        }
        Some(Purpose::ConfirmEmailChange) => {
            let current = store
                .user_with_password_by_id(&row.user_id)
                .await?
                .map(|(u, _)| u);
            let (Some(user), Some(new_email)) = (current, row.new_email.as_deref()) else {
                return fail(ErrorCode::InvalidToken);
            };
            if user.email != row.email || user.disabled_at.is_some() {
                return fail(ErrorCode::InvalidToken);
            }
            let payload = Payload {
                callback: callback.clone(),
                new_email: Some(new_email.to_owned()),
                ..Payload::default()
            };
            state
                .mailer()
                .enqueue(Kind::VerifyNewEmail, new_email, Some(&user.id), &payload)
                .await?;
            tracing::info!(event = "email_change_confirmed", user_id = %row.user_id, "change of address confirmed by the old address");
        }
        Some(Purpose::VerifyNewEmail) => {
            let Some(new_email) = row.new_email.as_deref() else {
                return fail(ErrorCode::InvalidToken);
            };
            match store
                .change_email(user_id, &row.email, new_email, now)
                .await
            {
                Ok(Some(user)) => {
                    state.sessions().forget_user(&user.id);
                    tracing::info!(event = "email_changed", user_id = %row.user_id, "address changed");
                    user_out = json!(UserDto::from(&user));
                }
                Ok(None) => return fail(ErrorCode::InvalidToken),
                Err(StoreError::Conflict(_)) => return fail(ErrorCode::UserAlreadyExists),
                Err(e) => return Err(e.into()),
            }
        }
        _ => return fail(ErrorCode::InvalidToken),
    }
    match &callback {
        Some(c) => Ok(redirect(c)),
        None => Ok(Json(json!({ "status": true, "user": user_out })).into_response()),
    }
}

async fn request_password_reset(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::SendMail>,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let email = email_field(&fields, "email")?;
    // Better Auth names this one differently: INVALID_REDIRECT_URL.
    let callback = callback_field(&state, &fields, "redirectTo").map_err(|e| {
        if e.code() == ErrorCode::InvalidCallbackUrl.as_str() {
            ApiError::from(ErrorCode::InvalidRedirectUrl)
        } else {
            e
        }
    })?;
    if !state.mailer().enabled() {
        return Err(ErrorCode::ResetPasswordDisabled.into());
    }
    per_recipient(&state, email.as_str()).await?;
    // Known or not, the same row: the sender looks the address up.
    let payload = Payload {
        callback,
        ..Payload::default()
    };
    state
        .mailer()
        .enqueue(Kind::ResetPassword, email.as_str(), None, &payload)
        .await?;
    Ok(Json(json!({ "status": true, "message": RESET_REQUESTED })).into_response())
}

async fn reset_password_link(
    State(state): State<AuthState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let callback = query_value(query.as_deref(), "callbackURL")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| DEFAULT_RESET_PAGE.to_owned());
    origin::check_callback_url(&callback, state.trusted_origins())?;
    let live = state
        .store()
        .peek_email_token(
            TokenDigest::of(&token).as_str(),
            Purpose::ResetPassword,
            state.clock().now_ms(),
        )
        .await?;
    Ok(match live {
        Some(_) => redirect(&with_param(&callback, "token", &token)),
        None => redirect(&with_param(
            &callback,
            "error",
            ErrorCode::InvalidToken.as_str(),
        )),
    })
}

async fn reset_password(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::ChangePassword>,
    RawQuery(query): RawQuery,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let raw = fields.string("newPassword")?;
    let token = match fields.opt_string("token")? {
        Some(t) => Some(t.to_owned()),
        None => query_value(query.as_deref(), "token"),
    };
    let invalid = || ApiError::new(ErrorCode::InvalidResetToken, "Invalid token");
    let token = token.filter(|t| !t.is_empty()).ok_or_else(invalid)?;
    let password = Password::new(raw).map_err(ApiError::from)?;
    crate::password::refuse_common(&password)?;
    let digest = TokenDigest::of(&token);
    let now = state.clock().now_ms();
    // A cheap look first, so a made-up token costs no hashing; the token is used up below,
    // in the transaction that sets the password.
    if state
        .store()
        .peek_email_token(digest.as_str(), Purpose::ResetPassword, now)
        .await?
        .is_none()
    {
        return Err(invalid());
    }
    let hash = state.passwords().hash(password).await?;
    let outcome = state
        .store()
        .reset_password(digest.as_str(), &hash, state.clock().now_ms())
        .await?;
    let ResetOutcome::Reset {
        user,
        ended_sessions,
    } = outcome
    else {
        return Err(invalid());
    };
    // Their access tokens stop here at once, as after sign-out.
    state.sessions().end(&ended_sessions);
    tracing::info!(event = "password_reset", user_id = %user.id, sessions_ended = ended_sessions.len(), "password reset");
    state
        .mailer()
        .enqueue(
            Kind::PasswordChanged,
            &user.email,
            Some(&user.id),
            &Payload::default(),
        )
        .await?;
    Ok(Json(json!({ "status": true })).into_response())
}

async fn change_email(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::SendMail>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let new_email = email_field(&fields, "newEmail")?;
    let callback = callback_field(&state, &fields, "callbackURL")?;
    let password = fields.opt_string("password")?;
    if !state.mailer().enabled() {
        return Err(ErrorCode::ChangeEmailDisabled.into());
    }
    let user = &current.user;
    if new_email.as_str() == user.email {
        return Err(ErrorCode::EmailIsTheSame.into());
    }
    match password {
        Some(raw) => {
            let candidate = Password::candidate(raw).map_err(ApiError::from)?;
            let stored = state
                .store()
                .user_with_password_by_id(&user.id)
                .await?
                .and_then(|(_, hash)| hash);
            let verdict = state.passwords().verify(candidate, stored).await?;
            if !matches!(verdict, PasswordVerdict::Match { .. }) {
                return Err(ErrorCode::InvalidPassword.into());
            }
        }
        None if state.clock().now_ms() - current.session.created_at > FRESH_SESSION_MS => {
            return Err(ErrorCode::SessionNotFresh.into());
        }
        None => {}
    }
    per_recipient(&state, new_email.as_str()).await?;
    let payload = Payload {
        callback,
        new_email: Some(new_email.as_str().to_owned()),
        ..Payload::default()
    };
    // A verified address confirms first; an unverified one proves nothing, so the new
    // address is asked directly. Whether the new address is taken is found out by the
    // sender (which then tells that address's owner instead): the answer is the same.
    let (kind, to) = if user.email_verified {
        (Kind::ConfirmEmailChange, user.email.as_str())
    } else {
        (Kind::VerifyNewEmail, new_email.as_str())
    };
    state
        .mailer()
        .enqueue(kind, to, Some(&user.id), &payload)
        .await?;
    tracing::info!(event = "email_change_requested", user_id = %user.id, "change of address requested");
    Ok(Json(json!({ "status": true })).into_response())
}

async fn update_user(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    if fields.has("email") {
        return Err(ErrorCode::EmailCanNotBeUpdated.into());
    }
    let name = match fields.opt_string("name")? {
        Some(n) => Some(AccountName::parse(n).map_err(|e| account_refused(e.into()))?),
        None => None,
    };
    let image = if fields.has("image") {
        Some(parse_image(&fields)?)
    } else {
        None
    };
    if name.is_none() && image.is_none() {
        return Err(ErrorCode::NoFieldsToUpdate.into());
    }
    let name = name.map(AccountName::into_string);
    let updated = state
        .store()
        .update_profile(
            UserId(&current.user.id),
            name.as_deref(),
            image.as_ref().map(Option::as_deref),
            state.clock().now_ms(),
        )
        .await?;
    if updated.is_none() {
        return Err(ApiError::unauthorized());
    }
    state
        .sessions()
        .forget_cached(current.token.digest().as_str());
    Ok(Json(json!({ "status": true })).into_response())
}
