//! Better Auth's `passkey` plugin: `GET /api/auth/passkey/{generate-register-options,
//! generate-authenticate-options, list-user-passkeys}` and `POST /api/auth/passkey/{
//! verify-registration, verify-authentication, update-passkey, delete-passkey}`.
//!
//! The WebAuthn checks are webauthn-rs-core's (`relying_party`): the relying-party id is
//! `--rp-id` (default: the base URL's host) and the allowed origins are exactly the trusted
//! origins — never the request's `Origin` header (Better Auth falls back to it). A ceremony's
//! state is stored under the digest of a signed cookie's value (`better-auth.better-auth-
//! passkey`, Better Auth's name), lives 5 minutes, is tied to its kind (and, for a
//! registration, to the user who began it) and is taken by one `DELETE … RETURNING`, so any
//! instance finishes what another began, once.
//!
//! Sign-in is discoverable (no email typed: the authenticator picks the credential, the
//! credential id names the user) and ends in [`Sessions::start`](crate::session::Sessions)
//! with [`FirstFactor::Passkey`]: with user verification it is two factors (`amr` `hwk user
//! mfa`), without it a user with two-factor still gets the challenge. A counter that does not
//! increase (for an authenticator that keeps one) is refused, and the new value is written
//! with a compare-and-set so two sign-ins cannot present the same one.

mod cose;

use std::time::Duration;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{HeaderMap, header};
use serde_json::{Value, json};
use tessera_core::{SessionToken, TokenDigest};
use tessera_store::{PasskeyChallengeRow, PasskeyRow, StoreError, UserId};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationFormat, AuthenticationState, AuthenticatorAttachment, COSEAlgorithm, Credential,
    ParsedAttestation, ParsedAttestationData, PublicKeyCredential, RegisterPublicKeyCredential,
    RegisteredExtensions, RegistrationState, UserVerificationPolicy,
};

use crate::http::client_ip::ClientIp;
use crate::http::origin::{self, OriginChecked};
use crate::http::rate_limit::{RateLimit, rules};
use crate::http::{ApiError, ApiResult, ErrorCode, JsonBody};
use crate::openapi::{Operation, Routes};
use crate::session::{CurrentSession, FirstFactor, Grant, Proof, Started};
use crate::state::AuthState;

/// How long a ceremony may take, from the options to the verification (Better Auth: 5 min).
const CEREMONY_TTL: Duration = Duration::from_secs(5 * 60);
/// Longest passkey name accepted.
const MAX_NAME_LEN: usize = 100;
/// The ceremony kinds as stored.
const REGISTER: &str = "register";
const AUTHENTICATE: &str = "authenticate";

/// Routes under `/api/auth`, with their documentation.
pub(crate) fn routes() -> Routes<AuthState> {
    const TAG: &str = "passkey";
    Routes::new()
        .add(
            Operation::get(
                "/passkey/generate-register-options",
                "generatePasskeyRegistrationOptions",
                "Begin registering a passkey",
            )
            .tag(TAG)
            .describe(
                "For a session younger than the fresh age: the options for \
                 `navigator.credentials.create()` (a discoverable credential, user verification \
                 preferred, the user's passkeys excluded) and a signed \
                 `better-auth.better-auth-passkey` cookie naming the ceremony (5 minutes).",
            )
            .query(
                "authenticatorAttachment",
                json!({ "type": "string", "enum": ["platform", "cross-platform"] }),
                "Which kind of authenticator to ask for",
            )
            .query(
                "name",
                json!({ "type": "string", "maxLength": MAX_NAME_LEN }),
                "Accepted for Better Auth's client; the passkey's name is given to verify-registration",
            )
            .query(
                "context",
                json!({ "type": "string", "maxLength": MAX_NAME_LEN }),
                "Accepted and ignored (Better Auth's passkey-first registration)",
            )
            .ok(200, "PasskeyCreationOptions", "The creation options")
            .header(200, "Set-Cookie", "The ceremony's cookie")
            .error(&[ErrorCode::SessionNotFresh])
            .uses_database(),
            generate_register_options,
        )
        .add(
            Operation::post(
                "/passkey/verify-registration",
                "passkeyVerifyRegistration",
                "Finish registering a passkey",
            )
            .tag(TAG)
            .describe(
                "Verifies the authenticator's response against the ceremony named by the \
                 cookie (taken once; its user must be the caller) and stores the passkey.",
            )
            .json_body("PasskeyVerifyRegistrationRequest", true)
            .ok(200, "Passkey", "The new passkey")
            .error(&[
                ErrorCode::ChallengeNotFound,
                ErrorCode::FailedToVerifyRegistration,
            ])
            .error(&[ErrorCode::NotAllowedToRegisterPasskey])
            .error(&[ErrorCode::SessionNotFresh])
            .uses_database(),
            verify_registration,
        )
        .add(
            Operation::get(
                "/passkey/generate-authenticate-options",
                "passkeyGenerateAuthenticateOptions",
                "Begin signing in with a passkey",
            )
            .tag(TAG)
            .auth(crate::openapi::Auth::None)
            .describe(
                "The options for `navigator.credentials.get()` (discoverable: no \
                 `allowCredentials`, user verification preferred) and the ceremony's cookie. \
                 Counts against the client's sign-in quota.",
            )
            .ok(200, "PasskeyRequestOptions", "The request options")
            .header(200, "Set-Cookie", "The ceremony's cookie")
            .uses_database(),
            generate_authenticate_options,
        )
        .add(
            Operation::post(
                "/passkey/verify-authentication",
                "passkeyVerifyAuthentication",
                "Sign in with a passkey",
            )
            .tag(TAG)
            .auth(crate::openapi::Auth::None)
            .describe(
                "Verifies the assertion against the ceremony named by the cookie (taken once). \
                 With user verification the session's `amr` is `hwk user mfa`; without it a \
                 user with two-factor gets `twoFactorRedirect` instead of a session.",
            )
            .json_body("PasskeyVerifyAuthenticationRequest", true)
            .ok(200, "PasskeySignInResponse", "A session, or the second-factor challenge")
            .header(
                200,
                "set-auth-token",
                "Signed session token for bearer clients",
            )
            .header(200, "Set-Cookie", "The session cookie")
            .error(&[ErrorCode::ChallengeNotFound])
            .error(&[ErrorCode::PasskeyNotFound, ErrorCode::AuthenticationFailed])
            .uses_database(),
            verify_authentication,
        )
        .add(
            Operation::get(
                "/passkey/list-user-passkeys",
                "listPasskeys",
                "The caller's passkeys",
            )
            .tag(TAG)
            .ok(200, "PasskeyList", "Oldest first")
            .uses_database(),
            list_user_passkeys,
        )
        .add(
            Operation::post(
                "/passkey/update-passkey",
                "updatePasskey",
                "Rename one of the caller's passkeys",
            )
            .tag(TAG)
            .json_body("PasskeyUpdateRequest", true)
            .ok(200, "PasskeyUpdateResponse", "The renamed passkey")
            .error(&[ErrorCode::PasskeyNotFound])
            .uses_database(),
            update_passkey,
        )
        .add(
            Operation::post(
                "/passkey/delete-passkey",
                "deletePasskey",
                "Delete one of the caller's passkeys",
            )
            .tag(TAG)
            .describe("Needs a session younger than the fresh age.")
            .json_body("PasskeyDeleteRequest", true)
            .ok(200, "StatusTrue", "Deleted")
            .error(&[ErrorCode::PasskeyNotFound])
            .error(&[ErrorCode::SessionNotFresh])
            .uses_database(),
            delete_passkey,
        )
}

/// The relying party: the configured id, exactly the trusted origins, the product's name.
fn relying_party(state: &AuthState) -> WebauthnCore {
    let settings = state.settings();
    let origins = settings
        .all_trusted_origins()
        .iter()
        .filter_map(|o| url::Url::parse(o).ok())
        .collect();
    WebauthnCore::new_unsafe_experts_only(
        &settings.email.app_name,
        &settings.rp_id(),
        origins,
        CEREMONY_TTL,
        Some(false),
        Some(false),
    )
}

fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// A passkey name: trimmed, 1 to 100 characters, no control characters.
fn checked_name(field: &str, raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control)
    {
        return Err(ApiError::validation(format!(
            "[body.{field}] Invalid input: 1 to {MAX_NAME_LEN} characters, no control characters"
        )));
    }
    Ok(name.to_owned())
}

/// Options JSON as Better Auth's client hands it to SimpleWebAuthn: the bare options (not
/// webauthn-rs's `{"publicKey": …}` wrapper), without `null` members.
fn bare_options(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, bare_options(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(bare_options).collect()),
        other => other,
    }
}

/// Stores a ceremony's state and returns the `Set-Cookie` naming it.
async fn begin_ceremony(
    state: &AuthState,
    kind: &str,
    user_id: Option<&str>,
    ceremony: &impl serde::Serialize,
) -> ApiResult<HeaderMap> {
    let now = state.clock().now_ms();
    let value = SessionToken::generate();
    let json = serde_json::to_string(ceremony).map_err(|e| ApiError::internal(&e))?;
    state
        .store()
        .create_passkey_challenge(&PasskeyChallengeRow {
            token_digest: value.digest().as_str().to_owned(),
            kind: kind.to_owned(),
            user_id: user_id.map(str::to_owned),
            state: json,
            expires_at: now + tessera_core::clock::millis(CEREMONY_TTL),
            created_at: now,
        })
        .await?;
    let sessions = state.sessions();
    let mut h = HeaderMap::new();
    h.append(
        header::SET_COOKIE,
        sessions.jar().passkey(
            sessions.signer(),
            Some(value.expose()),
            CEREMONY_TTL.as_secs(),
        ),
    );
    Ok(h)
}

/// Takes the ceremony the request's cookie names, if it is live and of this kind.
async fn take_ceremony(
    state: &AuthState,
    kind: &str,
    headers: &HeaderMap,
) -> ApiResult<PasskeyChallengeRow> {
    let sessions = state.sessions();
    let value = sessions
        .jar()
        .read_passkey(sessions.signer(), headers)
        .ok_or_else(|| ApiError::from(ErrorCode::ChallengeNotFound))?;
    state
        .store()
        .take_passkey_challenge(
            TokenDigest::of(&value).as_str(),
            kind,
            state.clock().now_ms(),
        )
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::ChallengeNotFound))
}

/// `Set-Cookie` expiring the ceremony's cookie.
fn clear_ceremony_cookie(state: &AuthState) -> http::HeaderValue {
    let sessions = state.sessions();
    sessions.jar().passkey(sessions.signer(), None, 0)
}

/// The `response` member of a verify body, parsed as `T` (400 when it is not one).
fn response_of<T: serde::de::DeserializeOwned>(body: &crate::http::Fields) -> ApiResult<T> {
    let raw = body
        .0
        .get("response")
        .filter(|v| v.is_object())
        .ok_or_else(|| ApiError::validation("[body.response] Invalid input: expected object"))?;
    serde_json::from_value(raw.clone()).map_err(|_| {
        ApiError::validation(
            "[body.response] Invalid input: not a WebAuthn credential response (base64url fields)",
        )
    })
}

/// Better Auth's passkey object.
fn passkey_dto(p: &PasskeyRow) -> Value {
    json!({
        "id": p.id,
        "name": p.name,
        "publicKey": p.public_key,
        "userId": p.user_id,
        "credentialID": p.credential_id,
        "counter": p.counter,
        "deviceType": p.device_type,
        "backedUp": p.backed_up,
        "transports": p.transports.clone().unwrap_or_default(),
        "createdAt": tessera_core::timefmt::iso_millis(p.created_at),
        "aaguid": p.aaguid,
    })
}

/// Whether a COSE public key in Better Auth's stored form (standard base64) is one Tessera
/// can verify signatures with (EC2 P-256/384/521 or RSA; not Ed25519). Used by `tessera
/// import better-auth` to leave out passkeys that could never sign in.
pub fn importable_public_key(standard_base64: &str) -> bool {
    STANDARD
        .decode(standard_base64)
        .ok()
        .and_then(|bytes| cose::decode(&bytes))
        .is_some()
}

/// A stored passkey as the credential webauthn-rs-core verifies against.
fn credential_of(p: &PasskeyRow) -> Option<Credential> {
    let cred_id = URL_SAFE_NO_PAD.decode(&p.credential_id).ok()?;
    let cose = STANDARD.decode(&p.public_key).ok()?;
    let multi = p.device_type == "multiDevice";
    Some(Credential {
        cred_id,
        cred: cose::decode(&cose)?,
        counter: u32::try_from(p.counter).ok()?,
        transports: None,
        user_verified: false,
        backup_eligible: multi,
        backup_state: p.backed_up,
        registration_policy: UserVerificationPolicy::Preferred,
        extensions: RegisteredExtensions::none(),
        attestation: ParsedAttestation {
            data: ParsedAttestationData::None,
            metadata: webauthn_rs_core::proto::AttestationMetadata::None,
        },
        attestation_format: AttestationFormat::None,
    })
}

/// What a verification failure was, for the log (never the response's contents).
fn failure_kind(e: &WebauthnError) -> String {
    let s = format!("{e:?}");
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect()
}

async fn generate_register_options(
    State(state): State<AuthState>,
    CurrentSession(current, _): CurrentSession,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    state.require_fresh(&current)?;
    let attachment = match query_value(query.as_deref(), "authenticatorAttachment").as_deref() {
        None => None,
        Some("platform") => Some(AuthenticatorAttachment::Platform),
        Some("cross-platform") => Some(AuthenticatorAttachment::CrossPlatform),
        Some(_) => {
            return Err(ApiError::validation(
                "[query.authenticatorAttachment] Invalid option: expected one of \"platform\"|\"cross-platform\"",
            ));
        }
    };
    for key in ["name", "context"] {
        if query_value(query.as_deref(), key).is_some_and(|v| v.chars().count() > MAX_NAME_LEN) {
            return Err(ApiError::validation(format!(
                "[query.{key}] Too big: expected string to have <={MAX_NAME_LEN} characters"
            )));
        }
    }
    let user = &current.user;
    let existing = state.store().passkeys_of(UserId(&user.id)).await?;
    let exclude = existing
        .iter()
        .filter_map(|p| URL_SAFE_NO_PAD.decode(&p.credential_id).ok())
        .collect();
    let rp = relying_party(&state);
    let display = if user.name.trim().is_empty() {
        &user.email
    } else {
        &user.name
    };
    let builder = rp
        .new_challenge_register_builder(user.id.as_bytes(), &user.email, display)
        .map_err(|e| ApiError::internal(&failure_kind(&e)))?
        .user_verification_policy(UserVerificationPolicy::Preferred)
        .require_resident_key(true)
        .credential_algorithms(vec![COSEAlgorithm::ES256, COSEAlgorithm::RS256])
        .exclude_credentials(Some(exclude))
        .authenticator_attachment(attachment);
    let (options, ceremony) = rp
        .generate_challenge_register(builder)
        .map_err(|e| ApiError::internal(&failure_kind(&e)))?;
    let h = begin_ceremony(&state, REGISTER, Some(&user.id), &ceremony).await?;
    let body = serde_json::to_value(&options.public_key).map_err(|e| ApiError::internal(&e))?;
    Ok((h, Json(bare_options(body))).into_response())
}

async fn verify_registration(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    state.require_fresh(&current)?;
    let response: RegisterPublicKeyCredential = response_of(&body)?;
    let name = body
        .opt_string("name")?
        .map(|n| checked_name("name", n))
        .transpose()?;
    // Better Auth's `createSession` serves registration without a session; here there is one.
    body.opt_bool("createSession")?;
    let row = take_ceremony(&state, REGISTER, &headers).await?;
    let user = &current.user;
    if row.user_id.as_deref() != Some(user.id.as_str()) {
        tracing::warn!(event = "passkey_registration_refused", user_id = %user.id, "a registration begun by another user was presented");
        return Err(ErrorCode::NotAllowedToRegisterPasskey.into());
    }
    let ceremony: RegistrationState =
        serde_json::from_str(&row.state).map_err(|e| ApiError::internal(&e))?;
    let credential = relying_party(&state)
        .register_credential(&response, &ceremony, None)
        .map_err(|e| {
            tracing::info!(event = "passkey_registration_failed", user_id = %user.id, reason = %failure_kind(&e), "passkey registration refused");
            ApiError::from(ErrorCode::FailedToVerifyRegistration)
        })?;
    let transports = response.response.transports.as_ref().map(|ts| {
        ts.iter()
            .filter_map(|t| serde_json::to_value(t).ok())
            .filter_map(|v| v.as_str().map(str::to_owned))
            .filter(|t| t != "unknown")
            .collect::<Vec<_>>()
            .join(",")
    });
    let passkey = PasskeyRow {
        id: tessera_core::id::new_id(),
        user_id: user.id.clone(),
        name,
        credential_id: URL_SAFE_NO_PAD.encode(credential.cred_id.as_slice()),
        public_key: STANDARD.encode(
            cose::encode(&credential.cred)
                .ok_or_else(|| ApiError::from(ErrorCode::FailedToVerifyRegistration))?,
        ),
        counter: i64::from(credential.counter),
        device_type: if credential.backup_eligible {
            "multiDevice"
        } else {
            "singleDevice"
        }
        .to_owned(),
        backed_up: credential.backup_state,
        transports,
        aaguid: cose::aaguid(response.response.attestation_object.as_slice()),
        created_at: state.clock().now_ms(),
        last_used_at: None,
    };
    match state.store().create_passkey(&passkey).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            tracing::warn!(event = "passkey_registration_refused", user_id = %user.id, "the credential is registered already");
            return Err(ErrorCode::FailedToVerifyRegistration.into());
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(event = "passkey_registered", user_id = %user.id, passkey_id = %passkey.id, device_type = %passkey.device_type, "passkey registered");
    let mut h = HeaderMap::new();
    h.append(header::SET_COOKIE, clear_ceremony_cookie(&state));
    Ok((h, Json(passkey_dto(&passkey))).into_response())
}

/// Anonymous, and each call stores a ceremony: it takes from the client's sign-in quota (and
/// storing one purges the expired), so a flood cannot grow the table.
async fn generate_authenticate_options(
    State(state): State<AuthState>,
    _: RateLimit<rules::SignIn>,
) -> ApiResult<Response> {
    let rp = relying_party(&state);
    let builder = rp
        .new_challenge_authenticate_builder(Vec::new(), Some(UserVerificationPolicy::Preferred))
        .map_err(|e| ApiError::internal(&failure_kind(&e)))?;
    let (options, ceremony) = rp
        .generate_challenge_authenticate(builder)
        .map_err(|e| ApiError::internal(&failure_kind(&e)))?;
    let h = begin_ceremony(&state, AUTHENTICATE, None, &ceremony).await?;
    let mut body = serde_json::to_value(&options.public_key).map_err(|e| ApiError::internal(&e))?;
    // discoverable: an empty list would tell the browser there is nothing to offer
    if let Some(m) = body.as_object_mut()
        && m.get("allowCredentials")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
    {
        m.remove("allowCredentials");
    }
    Ok((h, Json(bare_options(body))).into_response())
}

async fn verify_authentication(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::LoginForm>,
    _: RateLimit<rules::SignIn>,
    ip: ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let response: PublicKeyCredential = response_of(&body)?;
    let row = take_ceremony(&state, AUTHENTICATE, &headers).await?;
    let mut ceremony: AuthenticationState =
        serde_json::from_str(&row.state).map_err(|e| ApiError::internal(&e))?;
    let credential_id = URL_SAFE_NO_PAD.encode(&response.raw_id);
    let Some(passkey) = state
        .store()
        .passkey_by_credential_id(&credential_id)
        .await?
    else {
        tracing::info!(event = "passkey_sign_in_failed", ip = ?ip.0, reason = "unknown credential", "passkey sign-in failed");
        return Err(ErrorCode::PasskeyNotFound.into());
    };
    let failed = |reason: &str| {
        tracing::info!(event = "passkey_sign_in_failed", user_id = %passkey.user_id, ip = ?ip.0, reason, "passkey sign-in failed");
        ApiError::from(ErrorCode::AuthenticationFailed)
    };
    let credential = credential_of(&passkey).ok_or_else(|| failed("unreadable stored key"))?;
    ceremony.set_allowed_credentials(vec![credential.clone()]);
    let verified = relying_party(&state)
        .authenticate_single_credential(&response, &ceremony, &credential)
        .map_err(|e| match e {
            WebauthnError::CredentialPossibleCompromise => {
                tracing::warn!(event = "passkey_counter_regression", user_id = %passkey.user_id, passkey_id = %passkey.id, "a passkey's signature counter did not increase: possibly cloned");
                ApiError::from(ErrorCode::AuthenticationFailed)
            }
            other => failed(&failure_kind(&other)),
        })?;
    let now = state.clock().now_ms();
    if !state
        .store()
        .record_passkey_use(
            &passkey.id,
            passkey.counter,
            i64::from(verified.counter()),
            verified.backup_state(),
            now,
        )
        .await?
    {
        return Err(failed("the credential was used concurrently"));
    }
    let user = state
        .store()
        .user_with_password_by_id(&passkey.user_id)
        .await?
        .map(|(u, _)| u)
        .filter(|u| u.disabled_at.is_none())
        .ok_or_else(|| failed("account disabled"))?;
    let first = FirstFactor::Passkey {
        user_verified: verified.user_verified(),
    };
    let started = state
        .sessions()
        .start(
            &user,
            Proof::First(first),
            Grant::Cookie { remember: true },
            ip,
            &headers,
        )
        .await?;
    if !matches!(started, Started::SecondFactorRequired { .. }) {
        tracing::info!(event = "sign_in", user_id = %user.id, ip = ?ip.0, method = "passkey", user_verified = verified.user_verified(), "user signed in");
        state.metrics().sign_in(true);
    }
    let (mut h, body) = state.sessions().answer(&user, started)?;
    h.append(header::SET_COOKIE, clear_ceremony_cookie(&state));
    Ok((h, Json(body)).into_response())
}

async fn list_user_passkeys(
    State(state): State<AuthState>,
    CurrentSession(current, _): CurrentSession,
) -> ApiResult<Response> {
    let rows = state.store().passkeys_of(UserId(&current.user.id)).await?;
    Ok(Json(rows.iter().map(passkey_dto).collect::<Vec<_>>()).into_response())
}

async fn update_passkey(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let id = body.string("id")?;
    let name = checked_name("name", body.string("name")?)?;
    let renamed = state
        .store()
        .rename_passkey(UserId(&current.user.id), id, &name)
        .await?
        .ok_or_else(|| ApiError::from(ErrorCode::PasskeyNotFound))?;
    Ok(Json(json!({ "passkey": passkey_dto(&renamed) })).into_response())
}

async fn delete_passkey(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let id = body.string("id")?;
    state.require_fresh(&current)?;
    if !state
        .store()
        .delete_passkey(UserId(&current.user.id), id)
        .await?
    {
        return Err(ErrorCode::PasskeyNotFound.into());
    }
    tracing::info!(event = "passkey_deleted", user_id = %current.user.id, passkey_id = %id, "passkey deleted");
    Ok(Json(json!({ "status": true })).into_response())
}
