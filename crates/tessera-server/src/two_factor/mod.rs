//! Better Auth's `twoFactor` plugin: `POST /api/auth/two-factor/{enable, disable,
//! get-totp-uri, verify-totp, generate-backup-codes, verify-backup-code}`, the email code
//! (`send-otp`, `verify-otp`: [`email_code`]), plus Tessera's
//! `GET /two-factor/status` and `POST /two-factor/revoke-trusted-devices`.
//!
//! Enforcement is not here: it is in [`Sessions::start`](crate::session::Sessions), which
//! every way in passes through. These handlers enrol and remove factors, and *finish* a
//! challenge (or step a live session up) by starting a session with [`Proof::BothFactors`].
//!
//! The rules (numbers in `session::second_factor`): a TOTP code is accepted once (its step
//! is compared-and-set in the store); a backup code once (one conditional `UPDATE`); a
//! challenge takes at most 5 codes and is consumed by the one that succeeds; 10 consecutive
//! failures lock the second factor for 15 minutes (429 `ACCOUNT_TEMPORARILY_LOCKED`).

mod email_code;
mod qr;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, header};
use serde_json::json;
use tessera_core::totp::backup;
use tessera_core::{Password, PasswordVerdict, Totp};
use tessera_store::{ChallengeAttempt, ChallengeRow, User, UserId};

use crate::http::client_ip::ClientIp;
use crate::http::origin::{self, OriginChecked};
use crate::http::rate_limit::{RateLimit, rules};
use crate::http::{ApiError, ApiResult, ErrorCode, JsonBody};
use crate::openapi::{Operation, Routes};
use crate::session::second_factor::{CHALLENGE_ATTEMPTS, LOCKOUT_AFTER, LOCKOUT_FOR, amr_with};
use crate::session::{Current, CurrentSession, Grant, Lookup, Proof};
use crate::state::AuthState;

/// The TOTP issuer when the request names none.
const DEFAULT_ISSUER: &str = "Tessera";
/// Longest `issuer` accepted.
const MAX_ISSUER_LEN: usize = 100;

/// Routes under `/api/auth`, with their documentation.
pub(crate) fn routes() -> Routes<AuthState> {
    const TAG: &str = "two-factor";
    let password_op = |op: Operation| {
        op.tag(TAG)
            .json_body("TwoFactorPasswordRequest", true)
            .error(&[ErrorCode::InvalidPassword])
            .error(&[ErrorCode::SessionNotFresh])
            .uses_database()
    };
    let verify_op = |op: Operation| {
        op.tag(TAG)
            .auth(crate::openapi::Auth::OptionalSession)
            .ok(
                200,
                "TwoFactorVerifyResponse",
                "A new session (cookie and token)",
            )
            .header(
                200,
                "set-auth-token",
                "Signed session token for bearer clients",
            )
            .header(
                200,
                "Set-Cookie",
                "The session cookie; the challenge cookie expired",
            )
            .error(&[ErrorCode::InvalidTwoFactorCookie])
            .error(&[ErrorCode::TooManyAttemptsRequestNewCode])
            .error(&[ErrorCode::AccountTemporarilyLocked])
            .uses_database()
    };
    Routes::new()
        .add(
            password_op(Operation::post(
                "/two-factor/enable",
                "enableTwoFactor",
                "Start a TOTP enrolment",
            ))
            .describe(
                "Checks the password (an account without one: a fresh session), stores a new \
                 160-bit TOTP key (encrypted) and 10 new \
                 backup codes, and answers with the `otpauth://` URI, a QR code of it as SVG \
                 (`totpQR`) and the backup codes, shown this once. Two-factor is on only once \
                 `verify-totp` accepts a code from the authenticator.",
            )
            .ok(200, "TwoFactorEnableResponse", "The enrolment")
            .error(&[ErrorCode::TotpAlreadyEnabled]),
            enable,
        )
        .add(
            password_op(Operation::post(
                "/two-factor/disable",
                "disableTwoFactor",
                "Turn two-factor off",
            ))
            .describe(
                "Checks the password; removes the TOTP key, the backup codes, pending \
                 challenges and trusted devices.",
            )
            .ok(200, "StatusTrue", "Off"),
            disable,
        )
        .add(
            password_op(Operation::post(
                "/two-factor/get-totp-uri",
                "getTotpUri",
                "The TOTP key URI again",
            ))
            .ok(200, "TotpUriResponse", "The URI and its QR code")
            .error(&[ErrorCode::TotpNotEnabled]),
            get_totp_uri,
        )
        .add(
            password_op(Operation::post(
                "/two-factor/generate-backup-codes",
                "generateBackupCodes",
                "Replace the backup codes",
            ))
            .ok(200, "BackupCodesResponse", "The new set, shown this once")
            .error(&[ErrorCode::TwoFactorNotEnabled]),
            generate_backup_codes,
        )
        .add(
            verify_op(Operation::post(
                "/two-factor/verify-totp",
                "verifyTotp",
                "Verify a TOTP code",
            ))
            .describe(
                "With the `two_factor` cookie of a sign-in: finishes the sign-in (the session's \
                 `amr` is the first factor's plus `otp` and `mfa`). With a session: confirms a \
                 pending enrolment (two-factor turns on) or steps the session up; the session is \
                 replaced by a new one either way. `trustDevice: true` sets a 30-day \
                 trusted-device cookie. A code is accepted once.",
            )
            .json_body("VerifyCodeRequest", true)
            .error(&[ErrorCode::InvalidCode, ErrorCode::TotpNotEnabled]),
            verify_totp,
        )
        .add(
            verify_op(Operation::post(
                "/two-factor/verify-backup-code",
                "verifyBackupCode",
                "Verify a backup code",
            ))
            .describe("As verify-totp, with one of the backup codes; each works once.")
            .json_body("VerifyCodeRequest", true)
            .error(&[ErrorCode::InvalidBackupCode, ErrorCode::TwoFactorNotEnabled]),
            verify_backup_code,
        )
        .add(
            Operation::get(
                "/two-factor/status",
                "twoFactorStatus",
                "The caller's second factors (Tessera)",
            )
            .tag(TAG)
            .ok(
                200,
                "TwoFactorStatus",
                "Whether two-factor is on, and backup codes left",
            )
            .uses_database(),
            status,
        )
        .add(
            Operation::post(
                "/two-factor/revoke-trusted-devices",
                "revokeTrustedDevices",
                "Forget every trusted browser (Tessera)",
            )
            .tag(TAG)
            .json_body("EmptyRequest", false)
            .ok(200, "RevokedDevices", "How many were forgotten")
            .uses_database(),
            revoke_trusted_devices,
        )
        .merge(email_code::routes())
}

/// Makes sure the caller is the account's owner before its two-factor settings change: the
/// `password` field when the account has a password (400 `INVALID_PASSWORD` otherwise);
/// for an account without one (signed up by email or an identity provider), a session
/// begun within the fresh age (403 `SESSION_NOT_FRESH`), as Better Auth's
/// `allowPasswordless` but with the age bound.
async fn confirm_owner(
    state: &AuthState,
    current: &Current,
    body: &crate::http::Fields,
) -> ApiResult<()> {
    let stored = state
        .store()
        .user_with_password_by_id(&current.user.id)
        .await?
        .and_then(|(_, hash)| hash);
    let Some(stored) = stored else {
        body.opt_string("password")?;
        return state.require_fresh(current);
    };
    let raw = body.string("password")?;
    let invalid = || ApiError::new(ErrorCode::InvalidPassword, "Invalid password");
    let candidate = Password::candidate(raw).map_err(|_| invalid())?;
    match state.passwords().verify(candidate, Some(stored)).await? {
        PasswordVerdict::Match { .. } => Ok(()),
        _ => Err(invalid()),
    }
}

/// Ten new backup codes and their keyed digests.
fn new_backup_codes(state: &AuthState, user_id: &str) -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..backup::COUNT).map(|_| backup::generate()).collect();
    let digests = codes
        .iter()
        .filter_map(|c| backup::normalise(c))
        .map(|c| state.sessions().backup_digest(user_id, &c))
        .collect();
    (codes, digests)
}

fn issuer(body: &crate::http::Fields) -> ApiResult<String> {
    match body.opt_string("issuer")? {
        Some(i) if i.len() > MAX_ISSUER_LEN || i.chars().any(char::is_control) => {
            Err(ApiError::validation(
                "[body.issuer] Invalid input: at most 100 characters, no control characters",
            ))
        }
        Some(i) if !i.trim().is_empty() => Ok(i.to_owned()),
        _ => Ok(DEFAULT_ISSUER.to_owned()),
    }
}

async fn enable(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::TwoFactor>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let issuer = issuer(&body)?;
    confirm_owner(&state, &current, &body).await?;
    let user = &current.user;
    let totp = Totp::generate();
    let (codes, digests) = new_backup_codes(&state, &user.id);
    let sealed = state.sessions().seal_totp(&user.id, &totp);
    let started = state
        .store()
        .begin_two_factor(UserId(&user.id), &sealed, &digests, state.clock().now_ms())
        .await?;
    if !started {
        return Err(ErrorCode::TotpAlreadyEnabled.into());
    }
    tracing::info!(event = "two_factor_enrolment_started", user_id = %user.id, "TOTP enrolment started");
    let uri = totp.uri(&issuer, &user.email);
    Ok(Json(json!({
        "method": "totp",
        "totpURI": uri,
        "totpQR": qr::svg(&uri),
        "backupCodes": codes,
    }))
    .into_response())
}

async fn disable(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::TwoFactor>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    confirm_owner(&state, &current, &body).await?;
    state
        .store()
        .disable_two_factor(UserId(&current.user.id), state.clock().now_ms())
        .await?;
    state
        .sessions()
        .forget_cached(current.token.digest().as_str());
    tracing::info!(event = "two_factor_disabled", user_id = %current.user.id, "two-factor disabled");
    let mut h = HeaderMap::new();
    h.append(header::SET_COOKIE, state.sessions().forget_trust_cookie());
    Ok((h, Json(json!({ "status": true }))).into_response())
}

async fn get_totp_uri(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::TwoFactor>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let issuer = issuer(&body)?;
    confirm_owner(&state, &current, &body).await?;
    let row = state
        .store()
        .two_factor(UserId(&current.user.id))
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::TotpNotEnabled))?;
    let totp = state
        .sessions()
        .open_totp(&current.user.id, &row.secret)
        .ok_or_else(|| ApiError::internal(&"a TOTP key does not decrypt with this secret"))?;
    let uri = totp.uri(&issuer, &current.user.email);
    Ok(Json(json!({ "totpURI": uri, "totpQR": qr::svg(&uri) })).into_response())
}

async fn generate_backup_codes(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::TwoFactor>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    confirm_owner(&state, &current, &body).await?;
    if !current.user.two_factor_enabled {
        return Err(ErrorCode::TwoFactorNotEnabled.into());
    }
    let (codes, digests) = new_backup_codes(&state, &current.user.id);
    state
        .store()
        .replace_backup_codes(UserId(&current.user.id), &digests, state.clock().now_ms())
        .await?;
    tracing::info!(event = "backup_codes_replaced", user_id = %current.user.id, "backup codes replaced");
    Ok(Json(json!({ "status": true, "backupCodes": codes })).into_response())
}

async fn status(
    State(state): State<AuthState>,
    CurrentSession(current, _): CurrentSession,
) -> ApiResult<Response> {
    let id = UserId(&current.user.id);
    let row = state.store().two_factor(id).await?;
    let left = state.store().backup_codes_left(id).await?;
    Ok(Json(json!({
        "enabled": current.user.two_factor_enabled,
        "pending": row.is_some_and(|r| r.verified_at.is_none()),
        "backupCodesLeft": if current.user.two_factor_enabled { left } else { 0 },
        "amr": current.session.amr.split(' ').collect::<Vec<_>>(),
    }))
    .into_response())
}

async fn revoke_trusted_devices(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(_): JsonBody,
) -> ApiResult<Response> {
    let n = state
        .store()
        .revoke_trusted_devices(UserId(&current.user.id))
        .await?;
    tracing::info!(event = "trusted_devices_revoked", user_id = %current.user.id, count = n, "trusted devices revoked");
    let mut h = HeaderMap::new();
    h.append(header::SET_COOKIE, state.sessions().forget_trust_cookie());
    Ok((h, Json(json!({ "status": true, "revoked": n }))).into_response())
}

/// Who is presenting a second factor.
enum Subject {
    /// A signed-in user: confirming an enrolment, or stepping up.
    Session(Box<Current>),
    /// A browser holding a sign-in challenge (this attempt already counted).
    Challenge(Box<(ChallengeRow, User)>),
}

impl Subject {
    fn user(&self) -> &User {
        match self {
            Self::Session(c) => &c.user,
            Self::Challenge(c) => &c.1,
        }
    }
}

/// The session if there is one (as Better Auth does), else the challenge cookie, counting
/// this attempt against the challenge.
async fn subject(state: &AuthState, headers: &HeaderMap) -> ApiResult<Subject> {
    if let Lookup::Live(current, _) = state.sessions().lookup(headers).await? {
        return Ok(Subject::Session(current));
    }
    let invalid = || ApiError::from(ErrorCode::InvalidTwoFactorCookie);
    let digest = state
        .sessions()
        .presented_challenge(headers)
        .ok_or_else(invalid)?;
    let attempt = state
        .store()
        .attempt_challenge(digest.as_str(), CHALLENGE_ATTEMPTS, state.clock().now_ms())
        .await?;
    let row = match attempt {
        ChallengeAttempt::Counted(row) => row,
        ChallengeAttempt::Exhausted => return Err(ErrorCode::TooManyAttemptsRequestNewCode.into()),
        ChallengeAttempt::Invalid => return Err(invalid()),
    };
    let user = state
        .store()
        .user_with_password_by_id(&row.user_id)
        .await?
        .map(|(u, _)| u)
        .filter(|u| u.disabled_at.is_none() && u.two_factor_enabled)
        .ok_or_else(invalid)?;
    Ok(Subject::Challenge(Box::new((row, user))))
}

/// 429 while the user's second factor is locked.
fn refuse_if_locked(state: &AuthState, locked_until: Option<i64>) -> ApiResult<()> {
    let now = state.clock().now_ms();
    match locked_until {
        Some(until) if until > now => {
            let secs = u64::try_from((until - now) / 1000).unwrap_or(1);
            Err(ApiError::second_factor_locked(secs))
        }
        _ => Ok(()),
    }
}

/// Counts a failure (and answers 429 if it locked the factor), else `refusal`.
async fn failed(state: &AuthState, user: &User, refusal: ErrorCode) -> ApiError {
    let now = state.clock().now_ms();
    let until = now + tessera_core::clock::millis(LOCKOUT_FOR);
    tracing::info!(event = "second_factor_failed", user_id = %user.id, "second factor refused");
    match state
        .store()
        .note_second_factor_failure(UserId(&user.id), LOCKOUT_AFTER, until, now)
        .await
    {
        Ok(Some(until)) => {
            tracing::warn!(event = "second_factor_locked", user_id = %user.id, "second factor locked after repeated failures");
            ApiError::second_factor_locked(u64::try_from((until - now) / 1000).unwrap_or(1))
        }
        Ok(None) => refusal.into(),
        Err(e) => e.into(),
    }
}

/// A second factor was verified: start the session it earns and hand it out.
async fn finish(
    state: &AuthState,
    subject: Subject,
    methods: &[&str],
    trust: bool,
    ip: ClientIp,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let now = state.clock().now_ms();
    let sessions = state.sessions();
    let (user, first_amr, grant) = match subject {
        Subject::Session(current) => {
            // A privilege change: the session is replaced, never upgraded in place.
            state
                .store()
                .revoke_session(&current.session.id, now)
                .await?;
            sessions.end(std::slice::from_ref(&current.session.id));
            let grant = Grant::Cookie {
                remember: current.session.remember,
            };
            (current.user, current.session.amr, grant)
        }
        Subject::Challenge(challenge) => {
            let (row, user) = *challenge;
            if !state.store().consume_challenge(&row.id, now).await? {
                return Err(ErrorCode::InvalidTwoFactorCookie.into());
            }
            let grant = if row.refresh_grant {
                Grant::Refresh
            } else {
                Grant::Cookie {
                    remember: row.remember,
                }
            };
            (user, row.amr, grant)
        }
    };
    // The user row as it is now (two-factor may just have been turned on).
    let user = state
        .store()
        .user_with_password_by_id(&user.id)
        .await?
        .map_or(user, |(u, _)| u);
    let mut extra = methods.to_vec();
    extra.push("mfa");
    let amr = amr_with(&first_amr, &extra);
    let started = sessions
        .start(&user, Proof::BothFactors { amr }, grant, ip, headers)
        .await?;
    tracing::info!(event = "sign_in", user_id = %user.id, second_factor = methods.first().copied().unwrap_or(""), "second factor verified");
    let (mut h, body) = sessions.answer(&user, started)?;
    h.append(header::SET_COOKIE, sessions.clear_challenge_cookie());
    if trust {
        h.append(
            header::SET_COOKIE,
            sessions.trust_device(&user, headers).await?,
        );
    }
    Ok((h, Json(body)).into_response())
}

fn code_of(body: &crate::http::Fields) -> ApiResult<&str> {
    let code = body.string("code")?;
    if code.len() > 64 {
        return Err(ApiError::validation(
            "[body.code] Too big: expected string to have <=64 characters",
        ));
    }
    Ok(code)
}

async fn verify_totp(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::TwoFactor>,
    ip: ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let code = code_of(&body)?;
    let trust = body.opt_bool("trustDevice")?.unwrap_or(false);
    let subject = subject(&state, &headers).await?;
    let user = subject.user().clone();
    let row = state
        .store()
        .two_factor(UserId(&user.id))
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::TotpNotEnabled))?;
    refuse_if_locked(&state, row.locked_until)?;
    let totp = state
        .sessions()
        .open_totp(&user.id, &row.secret)
        .ok_or_else(|| ApiError::internal(&"a TOTP key does not decrypt with this secret"))?;
    let now = state.clock().now_ms();
    let Some(step) = totp.matching_step(code.trim(), now.div_euclid(1000)) else {
        return Err(failed(&state, &user, ErrorCode::InvalidCode).await);
    };
    // The compare-and-set: a step at or before the last accepted one is a replay.
    if !state
        .store()
        .accept_totp_step(UserId(&user.id), step, now)
        .await?
    {
        tracing::warn!(event = "totp_replay_refused", user_id = %user.id, "a TOTP code was presented again");
        return Err(failed(&state, &user, ErrorCode::InvalidCode).await);
    }
    if row.verified_at.is_none() {
        tracing::info!(event = "two_factor_enabled", user_id = %user.id, "two-factor enabled");
    }
    finish(&state, subject, &["otp"], trust, ip, &headers).await
}

async fn verify_backup_code(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    _: RateLimit<rules::TwoFactor>,
    ip: ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let code = code_of(&body)?;
    let trust = body.opt_bool("trustDevice")?.unwrap_or(false);
    let subject = subject(&state, &headers).await?;
    let user = subject.user().clone();
    if !user.two_factor_enabled {
        return Err(ErrorCode::TwoFactorNotEnabled.into());
    }
    let row = state.store().two_factor(UserId(&user.id)).await?;
    refuse_if_locked(&state, row.and_then(|r| r.locked_until))?;
    let used = match backup::normalise(code) {
        Some(canonical) => {
            let digest = state.sessions().backup_digest(&user.id, &canonical);
            state
                .store()
                .use_backup_code(UserId(&user.id), &digest, state.clock().now_ms())
                .await?
        }
        None => false,
    };
    if !used {
        return Err(failed(&state, &user, ErrorCode::InvalidBackupCode).await);
    }
    tracing::info!(event = "backup_code_used", user_id = %user.id, "a backup code was used");
    finish(&state, subject, &["otp"], trust, ip, &headers).await
}
