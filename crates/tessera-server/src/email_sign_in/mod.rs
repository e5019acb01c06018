//! Passwordless sign-in by mail: Better Auth's `magicLink` plugin (`POST /sign-in/magic-link`,
//! `/magic-link/verify`) and `emailOTP` plugin (`POST /email-otp/send-verification-otp`,
//! `/sign-in/email-otp`, `/email-otp/verify-email`).
//!
//! The rules (numbers in `mail::sender`): a link carries a 256-bit token, a code is 6 digits;
//! both are made when the message is sent, stored only as digests, work once and for 10
//! minutes. A code takes [`CODE_ATTEMPTS`] tries, counted in the statement that checks it
//! (so parallel guesses cannot exceed it), and a new code voids the older one. Requests
//! answer the same for known and unknown addresses (the sender finds out whether there is
//! anything to send), under the per-client mail limit and the per-address one.
//!
//! Following a link is two steps: the `GET` only shows a page with a button ([`page`]) —
//! mail scanners fetch links, and a `GET` uses nothing up — and the button's `POST` uses
//! the token and signs in. Both ways also sign up: an address without an account gets a
//! link or code too (made under [`crate::mail::sign_up_key`]), and using it creates the
//! account with the address verified and no password ([`sign_up_user`]); the link keeps
//! the `name` it was asked with and lands on `newUserCallbackURL`. Both ways end in
//! [`Sessions::start`](crate::session::Sessions) with their own first factor, so a user with
//! two-factor still owes it; the first proof of an address that was never verified strips
//! the account of what may have been attached by someone else before
//! ([`tessera_store::EmailTokenStore::promote_unproven_user`]).
//!
//! Each can be switched off (`--magic-links`, `--email-codes`), and both are off without
//! mail: their routes are then not mounted (404 like any unknown route, and absent from the
//! OpenAPI document).

mod page;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;
use tessera_core::AccountName;
use tessera_core::id::new_id;
use tessera_core::{Email, TokenDigest};
use tessera_store::{
    CodeAttempt, Consumed, EmailTokenPurpose as Purpose, NewUser, StoreError, User, UserId,
};

use crate::http::client_ip::ClientIp;
use crate::http::origin::{self, OriginChecked};
use crate::http::rate_limit::{RateLimit, Rule, rules};
use crate::http::{ApiError, ApiResult, ErrorCode, Fields, JsonBody, JsonOrFormBody};
use crate::mail::{Kind, Payload, SIGN_UP_KEY_PREFIX, sign_up_key};
use crate::openapi::{Auth, Operation, Routes};
use crate::session::dto::UserDto;
use crate::session::{FirstFactor, Grant, Proof, Started};
use crate::state::AuthState;

/// Tries one emailed sign-in or verification code takes (Better Auth: 3).
pub(crate) const CODE_ATTEMPTS: i64 = 3;

/// The web UI's page where a sign-in that owes its second factor continues.
const TWO_FACTOR_PAGE: &str = "/two-factor";

/// Routes under `/api/auth`, with their documentation: the magic-link ones when `links`,
/// the email-code ones when `codes`.
pub(crate) fn routes(links: bool, codes: bool) -> Routes<AuthState> {
    let mut routes = Routes::new();
    if links {
        routes = routes.merge(link_routes());
    }
    if codes {
        routes = routes.merge(code_routes());
    }
    routes
}

fn link_routes() -> Routes<AuthState> {
    const LINK: &str = "magic-link";
    Routes::new()
        .add(
            Operation::post(
                "/sign-in/magic-link",
                "signInMagicLink",
                "Mail a sign-in link",
            )
            .tag(LINK)
            .auth(Auth::None)
            .describe(
                "Answers the same for known and unknown addresses; the address gets a link \
                     valid 10 minutes, single use. For an address without an account the link \
                     signs up (verified, no password, with `name`) and lands on \
                     `newUserCallbackURL`. Served while mail is configured and \
                     `--magic-links` is on.",
            )
            .json_body("MagicLinkRequest", true)
            .ok(200, "StatusTrue", "Requested")
            .error(&[ErrorCode::InvalidEmail])
            .error(&[ErrorCode::InvalidCallbackUrl])
            .uses_database(),
            sign_in_magic_link,
        )
        .add(
            Operation::get(
                "/magic-link/verify",
                "magicLinkPage",
                "Follow a sign-in link: a confirmation page",
            )
            .tag(LINK)
            .auth(Auth::None)
            .describe(
                "Uses nothing up (mail scanners fetch links): a live token gets an HTML page \
                 whose button POSTs it here; an unknown, used or expired one 302s to \
                 `errorCallbackURL` (or `callbackURL`) with `?error=INVALID_TOKEN`.",
            )
            .query(
                "token",
                json!({ "type": "string" }),
                "The token from the link",
            )
            .query(
                "callbackURL",
                json!({ "type": "string" }),
                "Where to go once signed in",
            )
            .query(
                "newUserCallbackURL",
                json!({ "type": "string" }),
                "Where to go once signed up",
            )
            .query(
                "errorCallbackURL",
                json!({ "type": "string" }),
                "Where to go on failure",
            )
            .ok_with(
                200,
                "text/html",
                json!({ "type": "string" }),
                "The confirmation page",
            )
            .no_content(302, "To errorCallbackURL?error=INVALID_TOKEN")
            .error(&[ErrorCode::InvalidCallbackUrl])
            .uses_database(),
            magic_link_page,
        )
        .add(
            Operation::post(
                "/magic-link/verify",
                "magicLinkVerify",
                "Sign in with a link's token",
            )
            .tag(LINK)
            .auth(Auth::None)
            .describe(
                "Uses the token up and signs in (or, for a user with two-factor, answers the \
                 challenge: `twoFactorRedirect`, or 303 to the UI's /two-factor page); a \
                 sign-up link creates the account first. With `callbackURL`: 303 there \
                 (`newUserCallbackURL` for a new account; failures to \
                 `errorCallbackURL?error=CODE`); without: Better Auth's JSON answer.",
            )
            .json_or_form_body("MagicLinkVerifyRequest", true)
            .ok(200, "SignInResponse", "Signed in (without callbackURL)")
            .no_content(303, "To callbackURL")
            .error(&[ErrorCode::InvalidToken, ErrorCode::TokenExpired])
            .error(&[ErrorCode::InvalidCallbackUrl])
            .uses_database(),
            magic_link_verify,
        )
}

fn code_routes() -> Routes<AuthState> {
    const CODE: &str = "email-otp";
    Routes::new()
        .add(
            Operation::post(
                "/email-otp/send-verification-otp",
                "sendVerificationOtp",
                "Mail a 6-digit code",
            )
            .tag(CODE)
            .auth(Auth::None)
            .describe(
                "`type`: `sign-in`, `email-verification` or `forget-password` \
                 (`change-email` answers 400: use the change-of-address links). The \
                 same answer for known and unknown addresses (a `sign-in` code for an \
                 address without an account signs up); the code is valid 10 minutes, \
                 takes 3 tries and works once; a new code voids the previous one.",
            )
            .json_body("SendVerificationOtpRequest", true)
            .ok(200, "SuccessTrue", "Requested")
            .error(&[ErrorCode::InvalidEmail])
            .uses_database(),
            send_verification_otp,
        )
        .add(
            Operation::post(
                "/sign-in/email-otp",
                "signInEmailOtp",
                "Sign in with a code",
            )
            .tag(CODE)
            .auth(Auth::None)
            .describe(
                "Signs in with the `sign-in` code mailed to the address (a user with \
                     two-factor gets the challenge). For an address without an account the \
                     code signs up: the account is created verified, without a password, \
                     with `name`.",
            )
            .json_body("SignInEmailOtpRequest", true)
            .ok(
                200,
                "SignInResponse",
                "Signed in, or the two-factor challenge",
            )
            .error(&[
                ErrorCode::InvalidOtp,
                ErrorCode::OtpExpired,
                ErrorCode::InvalidEmail,
            ])
            .error(&[ErrorCode::TooManyAttempts])
            .uses_database(),
            sign_in_email_otp,
        )
        .add(
            Operation::post(
                "/email-otp/verify-email",
                "verifyEmailOtp",
                "Verify the address with a code",
            )
            .tag(CODE)
            .auth(Auth::None)
            .describe(
                "Marks the address verified with the `email-verification` code. Never signs in.",
            )
            .json_body("VerifyEmailOtpRequest", true)
            .ok(200, "VerifyEmailOtpResponse", "Verified")
            .error(&[
                ErrorCode::InvalidOtp,
                ErrorCode::OtpExpired,
                ErrorCode::InvalidEmail,
            ])
            .error(&[ErrorCode::TooManyAttempts])
            .uses_database(),
            verify_email_otp,
        )
        .add(
            Operation::post(
                "/email-otp/check-verification-otp",
                "checkVerificationOtp",
                "Check a code without using it",
            )
            .tag(CODE)
            .auth(Auth::None)
            .describe(
                "Says whether the code of `type` is right, leaving it usable (a reset page \
                 checks the code before asking for the new password). The check counts as \
                 one of the code's 3 tries.",
            )
            .json_body("CheckVerificationOtpRequest", true)
            .ok(200, "SuccessTrue", "Right")
            .error(&[
                ErrorCode::InvalidOtp,
                ErrorCode::OtpExpired,
                ErrorCode::InvalidEmail,
            ])
            .error(&[ErrorCode::TooManyAttempts])
            .uses_database(),
            check_verification_otp,
        )
        .add(
            reset_request(Operation::post(
                "/email-otp/request-password-reset",
                "requestPasswordResetEmailOtp",
                "Mail a password-reset code",
            )),
            request_password_reset_otp,
        )
        .add(
            reset_request(Operation::post(
                "/forget-password/email-otp",
                "forgetPasswordEmailOtp",
                "Mail a password-reset code (Better Auth's older name)",
            )),
            request_password_reset_otp,
        )
        .add(
            Operation::post(
                "/email-otp/reset-password",
                "resetPasswordEmailOtp",
                "Choose a new password with a code",
            )
            .tag(CODE)
            .auth(Auth::None)
            .describe(
                "Uses the `forget-password` code, sets the password, verifies the address, \
                 ends every session of the user and mails a notice. Signs nobody in.",
            )
            .json_body("ResetPasswordEmailOtpRequest", true)
            .ok(200, "SuccessTrue", "Password set")
            .error(&[
                ErrorCode::InvalidOtp,
                ErrorCode::OtpExpired,
                ErrorCode::InvalidEmail,
                ErrorCode::PasswordTooShort,
                ErrorCode::PasswordTooLong,
                ErrorCode::PasswordCompromised,
            ])
            .error(&[ErrorCode::TooManyAttempts])
            .uses_database(),
            reset_password_otp,
        )
}

/// The documentation of a request for a reset code.
fn reset_request(op: Operation) -> Operation {
    op.tag("email-otp")
        .auth(Auth::None)
        .describe(
            "The same answer for known and unknown addresses; a known one gets a 6-digit code \
             (10 minutes, 3 tries, single use) for `email-otp/reset-password`.",
        )
        .json_body("RequestPasswordResetEmailOtpRequest", true)
        .ok(200, "SuccessTrue", "Requested")
        .error(&[ErrorCode::InvalidEmail])
        .uses_database()
}

/// The address in `field`, normalised; 400 `INVALID_EMAIL` otherwise.
fn email_field(fields: &Fields, field: &str) -> ApiResult<Email> {
    Email::parse(fields.string(field)?)
        .map_err(|_| ApiError::new(ErrorCode::InvalidEmail, "Invalid email"))
}

/// An optional URL field that must stay on a trusted origin (empty counts as absent).
fn callback_field(state: &AuthState, fields: &Fields, field: &str) -> ApiResult<Option<String>> {
    let url = fields.opt_string(field)?.filter(|u| !u.is_empty());
    if let Some(url) = url {
        origin::check_callback_url(url, state.trusted_origins())?;
    }
    Ok(url.map(str::to_owned))
}

/// The display name for an account a link or code may create (the same rules as sign-up's).
fn name_field(fields: &Fields) -> ApiResult<Option<String>> {
    fields
        .opt_string("name")?
        .map(|n| {
            AccountName::parse(n)
                .map(AccountName::into_string)
                .map_err(|e| crate::password::account_refused(e.into()))
        })
        .transpose()
}

/// The first value of `key` in a query string (empty counts as absent).
fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// `url` with one more query parameter.
fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    format!("{url}{sep}{key}={value}")
}

/// A redirect (`status` 302 or 303) to a checked URL, with more headers.
fn redirect(status: StatusCode, url: &str, mut headers: HeaderMap) -> Response {
    match HeaderValue::try_from(url) {
        Ok(v) => {
            headers.insert(header::LOCATION, v);
            (status, headers).into_response()
        }
        Err(_) => ApiError::from(ErrorCode::InvalidCallbackUrl).into_response(),
    }
}

/// A code as typed: spaces dropped, at most 64 characters read.
fn code_field<'a>(fields: &'a Fields, field: &str) -> ApiResult<String> {
    let code: &'a str = fields.string(field)?;
    if code.len() > 64 {
        return Err(ApiError::validation(format!(
            "[body.{field}] Too big: expected string to have <=64 characters"
        )));
    }
    Ok(code.chars().filter(|c| !c.is_whitespace()).collect())
}

/// The user a link or code was made for, as they are now: still at that address and not
/// disabled; an address never verified is proven now (see the module docs).
async fn proven_user(state: &AuthState, user_id: &str, email: &str) -> ApiResult<Option<User>> {
    let now = state.clock().now_ms();
    let Some((user, ended)) = state
        .store()
        .promote_unproven_user(UserId(user_id), email, now)
        .await?
    else {
        return Ok(None);
    };
    if user.disabled_at.is_some() {
        return Ok(None);
    }
    if !ended.is_empty() {
        state.sessions().end(&ended);
        tracing::warn!(event = "unproven_account_access_revoked", user_id = %user.id, sessions_ended = ended.len(), "first proof of the address: earlier password, identities, two-factor and sessions removed");
    }
    state.sessions().forget_user(&user.id);
    Ok(Some(user))
}

/// The account a sign-up link or code (made for an address without one) signs in to: a new
/// one, verified and without a password (`true`), or the one made at the address since the
/// link or code was sent (`false`), proven now like any first proof of an address.
async fn sign_up_user(
    state: &AuthState,
    email: &str,
    name: Option<&str>,
    method: &'static str,
    ip: ClientIp,
) -> ApiResult<Option<(User, bool)>> {
    let store = state.store();
    if let Some((existing, _)) = store.user_with_password_by_email(email).await? {
        return Ok(proven_user(state, &existing.id, email)
            .await?
            .map(|u| (u, false)));
    }
    let new_user = NewUser {
        id: new_id(),
        name: name.unwrap_or("").to_owned(),
        email: email.to_owned(),
        image: None,
        now_ms: state.clock().now_ms(),
    };
    match store.create_verified_user(&new_user).await {
        Ok(user) => {
            tracing::info!(event = "sign_up", user_id = %user.id, method, ip = ?ip.0, "user signed up without a password");
            Ok(Some((user, true)))
        }
        // Made at the same moment by another request (the same link cannot be used twice,
        // but a link and a code, or a password sign-up, can race).
        Err(StoreError::Conflict(_)) => match store.user_with_password_by_email(email).await? {
            Some((existing, _)) => Ok(proven_user(state, &existing.id, email)
                .await?
                .map(|u| (u, false))),
            None => Ok(None),
        },
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------------ magic links

async fn sign_in_magic_link(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::LoginForm>,
    _: RateLimit<rules::SendMail>,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let email = email_field(&fields, "email")?;
    let callback = callback_field(&state, &fields, "callbackURL")?;
    let error_callback = callback_field(&state, &fields, "errorCallbackURL")?;
    let new_user_callback = callback_field(&state, &fields, "newUserCallbackURL")?;
    let name = name_field(&fields)?;
    state
        .limiter()
        .hit(Rule::MailPerRecipient, email.as_str())
        .await?;
    let payload = Payload {
        callback,
        error_callback,
        new_user_callback,
        name,
        ..Payload::default()
    };
    // Known or not, the same row: the sender looks the address up.
    state
        .mailer()
        .enqueue(Kind::MagicLink, email.as_str(), None, &payload)
        .await?;
    Ok(Json(json!({ "status": true })).into_response())
}

/// The callbacks of a link (query or form), checked.
struct Callbacks {
    success: Option<String>,
    new_user: Option<String>,
    error: Option<String>,
}

impl Callbacks {
    /// Reads and checks the three callbacks through `get` (a query or form lookup; empty
    /// counts as absent).
    fn read(
        state: &AuthState,
        mut get: impl FnMut(&str) -> ApiResult<Option<String>>,
    ) -> ApiResult<Self> {
        let mut one = |key: &str| -> ApiResult<Option<String>> {
            let url = get(key)?.filter(|u| !u.is_empty());
            if let Some(url) = &url {
                origin::check_callback_url(url, state.trusted_origins())?;
            }
            Ok(url)
        };
        Ok(Self {
            success: one("callbackURL")?,
            new_user: one("newUserCallbackURL")?,
            error: one("errorCallbackURL")?,
        })
    }

    /// Where a failure goes: `errorCallbackURL`, else `callbackURL`.
    fn on_error(&self) -> Option<&str> {
        self.error.as_deref().or(self.success.as_deref())
    }
}

async fn magic_link_page(
    State(state): State<AuthState>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let query = query.as_deref();
    let callbacks = Callbacks::read(&state, |key| Ok(query_value(query, key)))?;
    let token = query_value(query, "token").unwrap_or_default();
    let live = if token.is_empty() || token.len() > 256 {
        None
    } else {
        state
            .store()
            .peek_email_token(
                TokenDigest::of(&token).as_str(),
                Purpose::MagicLink,
                state.clock().now_ms(),
            )
            .await?
    };
    let Some(row) = live else {
        let to = callbacks.on_error().unwrap_or("/");
        return Ok(redirect(
            StatusCode::FOUND,
            &with_param(to, "error", ErrorCode::InvalidToken.as_str()),
            page::no_store(),
        ));
    };
    Ok(page::confirm(
        &state.settings().email.app_name,
        &row.email,
        &token,
        row.user_id.starts_with(SIGN_UP_KEY_PREFIX),
        &callbacks,
        state.trusted_origins(),
    ))
}

async fn magic_link_verify(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::LoginForm>,
    _: RateLimit<rules::SignIn>,
    ip: ClientIp,
    headers: HeaderMap,
    JsonOrFormBody(fields): JsonOrFormBody,
) -> ApiResult<Response> {
    let token = fields.string("token")?.to_owned();
    let callbacks = Callbacks::read(&state, |key| Ok(fields.opt_string(key)?.map(str::to_owned)))?;
    let fail = |code: ErrorCode| -> ApiResult<Response> {
        tracing::info!(event = "sign_in_failed", method = "magic_link", ip = ?ip.0, "magic link refused");
        match callbacks.on_error() {
            Some(to) => Ok(redirect(
                StatusCode::SEE_OTHER,
                &with_param(to, "error", code.as_str()),
                HeaderMap::new(),
            )),
            None => Err(code.into()),
        }
    };
    if token.is_empty() || token.len() > 256 {
        return fail(ErrorCode::InvalidToken);
    }
    let consumed = state
        .store()
        .consume_email_token(
            TokenDigest::of(&token).as_str(),
            &[Purpose::MagicLink],
            state.clock().now_ms(),
        )
        .await?;
    let row = match consumed {
        Consumed::Fresh(row) => row,
        Consumed::Expired => return fail(ErrorCode::TokenExpired),
        Consumed::Unknown => return fail(ErrorCode::InvalidToken),
    };
    let found = if row.user_id.starts_with(SIGN_UP_KEY_PREFIX) {
        sign_up_user(&state, &row.email, row.name.as_deref(), "magic_link", ip).await?
    } else {
        proven_user(&state, &row.user_id, &row.email)
            .await?
            .map(|u| (u, false))
    };
    let Some((user, new_user)) = found else {
        return fail(ErrorCode::InvalidToken);
    };
    let remember = fields.opt_bool("rememberMe")?.unwrap_or(true);
    let (h, body, challenged) = start_session(
        &state,
        &user,
        FirstFactor::MagicLink,
        remember,
        ip,
        &headers,
    )
    .await?;
    let landing = match (&callbacks.new_user, new_user) {
        (Some(to), true) => Some(to),
        _ => callbacks.success.as_ref(),
    };
    match (landing, challenged) {
        (Some(_), true) => Ok(redirect(StatusCode::SEE_OTHER, TWO_FACTOR_PAGE, h)),
        (Some(to), false) => Ok(redirect(StatusCode::SEE_OTHER, to, h)),
        (None, _) => Ok((h, Json(body)).into_response()),
    }
}

// ------------------------------------------------------------------ email codes

async fn send_verification_otp(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::LoginForm>,
    _: RateLimit<rules::SendMail>,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let email = email_field(&fields, "email")?;
    let kind = match fields.string("type")? {
        "sign-in" => Kind::SignInCode,
        "email-verification" => Kind::VerifyEmailCode,
        "forget-password" => Kind::ResetPasswordCode,
        "change-email" => {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "Invalid OTP type: Tessera mails change-of-address links, not codes",
            ));
        }
        _ => {
            return Err(ApiError::validation(
                "[body.type] Invalid option: expected one of \"email-verification\"|\"sign-in\"|\"forget-password\"|\"change-email\"",
            ));
        }
    };
    state
        .limiter()
        .hit(Rule::MailPerRecipient, email.as_str())
        .await?;
    state
        .mailer()
        .enqueue(kind, email.as_str(), None, &Payload::default())
        .await?;
    Ok(Json(json!({ "success": true })).into_response())
}

/// Whose a code turned out to be.
enum CodeOwner {
    /// The user's at the address.
    User(User),
    /// A `sign-in` code sent to the address while it had no account: using it signs up.
    SignUp,
}

/// Tries a code of `purpose` for the address in `email`: the owner and the code's row on
/// success. Disabled accounts are refused like a wrong code, and so are unknown addresses,
/// except that a `sign-in` code may have been made for an address without an account
/// (then under its [`sign_up_key`], tried when the user has no code of their own).
async fn try_code(
    state: &AuthState,
    fields: &Fields,
    purpose: Purpose,
    consume: bool,
) -> ApiResult<(CodeOwner, tessera_store::EmailTokenRow)> {
    let email = email_field(fields, "email")?;
    let code = code_field(fields, "otp")?;
    let invalid = || ApiError::from(ErrorCode::InvalidOtp);
    let user = state
        .store()
        .user_with_password_by_email(email.as_str())
        .await?
        .map(|(u, _)| u);
    if user.as_ref().is_some_and(|u| u.disabled_at.is_some()) {
        return Err(invalid());
    }
    let sign_up = (purpose == Purpose::SignInCode).then(|| sign_up_key(email.as_str()));
    let owners: Vec<&str> = user
        .as_ref()
        .map(|u| u.id.as_str())
        .into_iter()
        .chain(sign_up.as_deref())
        .collect();
    for (i, owner) in owners.iter().enumerate() {
        let digest = state.mailer().code_digest(purpose, owner, &code);
        let attempt = state
            .store()
            .try_email_code(
                UserId(owner),
                purpose,
                None,
                &digest,
                CODE_ATTEMPTS,
                consume,
                state.clock().now_ms(),
            )
            .await?;
        match attempt {
            CodeAttempt::NoCode if i + 1 < owners.len() => {}
            CodeAttempt::Accepted(row) if row.email == email.as_str() => {
                let owner = match &user {
                    Some(u) if u.id == *owner => CodeOwner::User(u.clone()),
                    _ => CodeOwner::SignUp,
                };
                return Ok((owner, row));
            }
            CodeAttempt::Accepted(_) | CodeAttempt::NoCode => return Err(invalid()),
            CodeAttempt::Wrong { attempts_left } => {
                tracing::info!(
                    event = "email_code_refused",
                    attempts_left,
                    "a wrong emailed code"
                );
                return Err(invalid());
            }
            CodeAttempt::Expired => return Err(ErrorCode::OtpExpired.into()),
            CodeAttempt::Exhausted => return Err(ErrorCode::TooManyAttempts.into()),
        }
    }
    Err(invalid())
}

/// [`try_code`] for purposes only an account's user has (never [`CodeOwner::SignUp`]).
async fn try_user_code(
    state: &AuthState,
    fields: &Fields,
    purpose: Purpose,
    consume: bool,
) -> ApiResult<(User, tessera_store::EmailTokenRow)> {
    match try_code(state, fields, purpose, consume).await? {
        (CodeOwner::User(user), row) => Ok((user, row)),
        (CodeOwner::SignUp, _) => Err(ErrorCode::InvalidOtp.into()),
    }
}

async fn sign_in_email_otp(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::LoginForm>,
    _: RateLimit<rules::SignIn>,
    ip: ClientIp,
    headers: HeaderMap,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let remember = fields.opt_bool("rememberMe")?.unwrap_or(true);
    let name = name_field(&fields)?;
    let (owner, row) = match try_code(&state, &fields, Purpose::SignInCode, true).await {
        Ok(found) => found,
        Err(e) => {
            state.metrics().sign_in(false);
            tracing::info!(event = "sign_in_failed", method = "email_code", ip = ?ip.0, "email-code sign-in failed");
            return Err(e);
        }
    };
    let found = match owner {
        CodeOwner::User(user) => proven_user(&state, &user.id, &row.email).await?,
        CodeOwner::SignUp => sign_up_user(&state, &row.email, name.as_deref(), "email_code", ip)
            .await?
            .map(|(u, _)| u),
    };
    let Some(user) = found else {
        return Err(ErrorCode::InvalidOtp.into());
    };
    let (h, body, _) = start_session(
        &state,
        &user,
        FirstFactor::EmailCode,
        remember,
        ip,
        &headers,
    )
    .await?;
    Ok((h, Json(body)).into_response())
}

/// Starts the session of a user who proved their address (or, with two-factor, the
/// challenge): the answer's headers and body, and whether it is the challenge.
async fn start_session(
    state: &AuthState,
    user: &User,
    factor: FirstFactor,
    remember: bool,
    ip: ClientIp,
    headers: &HeaderMap,
) -> ApiResult<(HeaderMap, serde_json::Value, bool)> {
    let started = state
        .sessions()
        .start(
            user,
            Proof::First(factor),
            Grant::Cookie { remember },
            ip,
            headers,
        )
        .await?;
    let challenged = matches!(started, Started::SecondFactorRequired { .. });
    if !challenged {
        let method = if factor == FirstFactor::MagicLink {
            "magic_link"
        } else {
            "email_code"
        };
        state.metrics().sign_in(true);
        tracing::info!(event = "sign_in", user_id = %user.id, method, ip = ?ip.0, "user signed in");
    }
    let (h, body) = state.sessions().answer(user, started)?;
    Ok((h, body, challenged))
}

async fn verify_email_otp(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::SignIn>,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let (user, row) = try_user_code(&state, &fields, Purpose::VerifyEmailCode, true).await?;
    let now = state.clock().now_ms();
    if !state
        .store()
        .mark_email_verified(UserId(&user.id), &row.email, now)
        .await?
    {
        return Err(ErrorCode::InvalidOtp.into());
    }
    state.sessions().forget_user(&user.id);
    tracing::info!(event = "email_verified", user_id = %user.id, method = "email_code", "address verified");
    let mut user = user;
    user.email_verified = true;
    Ok(
        Json(json!({ "status": true, "token": null, "user": UserDto::from(&user) }))
            .into_response(),
    )
}

async fn check_verification_otp(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::SignIn>,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let purpose = match fields.string("type")? {
        "sign-in" => Purpose::SignInCode,
        "email-verification" => Purpose::VerifyEmailCode,
        "forget-password" => Purpose::ResetPasswordCode,
        _ => {
            return Err(ApiError::validation(
                "[body.type] Invalid option: expected one of \"email-verification\"|\"sign-in\"|\"forget-password\"",
            ));
        }
    };
    try_code(&state, &fields, purpose, false).await?;
    Ok(Json(json!({ "success": true })).into_response())
}

async fn request_password_reset_otp(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::SendMail>,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let email = email_field(&fields, "email")?;
    state
        .limiter()
        .hit(Rule::MailPerRecipient, email.as_str())
        .await?;
    // Known or not, the same row: the sender looks the address up.
    state
        .mailer()
        .enqueue(
            Kind::ResetPasswordCode,
            email.as_str(),
            None,
            &Payload::default(),
        )
        .await?;
    Ok(Json(json!({ "success": true })).into_response())
}

async fn reset_password_otp(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::ChangePassword>,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    // The new password is checked before the code is tried, so a refused password costs
    // no try.
    let password =
        tessera_core::Password::new(fields.string("password")?).map_err(ApiError::from)?;
    crate::password::refuse_common(&password)?;
    let (user, row) = try_user_code(&state, &fields, Purpose::ResetPasswordCode, true).await?;
    let hash = state.passwords().hash(password).await?;
    // The reset itself is the link's transaction (set the password, verify the address,
    // void other reset links, end every session), entered with a token made for it here:
    // the code was the proof, and is used up already.
    let token = tessera_core::token::random_token_b64(32);
    let digest = TokenDigest::of(&token);
    let now = state.clock().now_ms();
    state
        .store()
        .create_email_token(&tessera_store::NewEmailToken {
            token_digest: digest.as_str().to_owned(),
            purpose: Purpose::ResetPassword,
            user_id: user.id.clone(),
            email: row.email.clone(),
            new_email: None,
            name: None,
            now_ms: now,
            expires_at: now + 60_000,
        })
        .await?;
    let outcome = state
        .store()
        .reset_password(digest.as_str(), &hash, state.clock().now_ms())
        .await?;
    let tessera_store::ResetOutcome::Reset {
        user,
        ended_sessions,
    } = outcome
    else {
        return Err(ErrorCode::InvalidOtp.into());
    };
    state.sessions().end(&ended_sessions);
    tracing::info!(event = "password_reset", user_id = %user.id, method = "email_code", sessions_ended = ended_sessions.len(), "password reset");
    state
        .mailer()
        .enqueue(
            Kind::PasswordChanged,
            &user.email,
            Some(&user.id),
            &Payload::default(),
        )
        .await?;
    Ok(Json(json!({ "success": true })).into_response())
}
