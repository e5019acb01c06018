//! Sign-in with identity providers and linking, on Better Auth 1.7's wire:
//! `POST /sign-in/social`, `GET|POST /callback/{provider}`, `POST /link-social`,
//! `GET /list-accounts`, `POST /unlink-account`; plus `GET /providers` (the buttons the web
//! UI shows) and `GET /error` (where failed flows land without an `errorCallbackURL`).
//!
//! A flow: `sign-in/social` stores a single-use `state` row (by digest, bound to the
//! provider and to the URLs to return to), sets the signed state cookie (bound to the
//! browser) and answers the provider's authorization URL. The callback checks the cookie
//! against the `state` parameter, consumes the row, checks it was made for this provider
//! and has not expired, and lets [`crate::providers`] finish the flow. The identity found
//! is keyed by (issuer, subject); a new identity whose address belongs to an existing user
//! is linked only when both the provider and Tessera have verified that address, otherwise
//! the flow ends in `account_not_linked` (the pre-hijacking defence). Every sign-in ends in
//! [`crate::session::Sessions::start`].

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use tessera_core::id::new_id;
use tessera_core::text::{MAX_IMAGE_LEN, MAX_NAME_CHARS};
use tessera_core::timefmt::iso_millis;
use tessera_core::token::constant_time_eq;
use tessera_core::{Email, TokenDigest};
use tessera_store::{NewIdentity, NewUser, OAuthStateRow, StoreError, UnlinkOutcome, User, UserId};

use crate::http::client_ip::ClientIp;
use crate::http::origin::{self, OriginChecked};
use crate::http::rate_limit::{RateLimit, rules};
use crate::http::{ApiError, ApiResult, ErrorCode, Fields, JsonBody, JsonOrFormBody};
use crate::openapi::{Auth, Operation, Routes};
use crate::providers::{Identity, IdentityProviders, Runtime};
use crate::session::{CurrentSession, FirstFactor, Grant, Proof, Started};
use crate::state::AuthState;

/// Where these routes are mounted (the callback URL registered with a provider is
/// `<base URL>/api/auth/callback/<id>`).
const AUTH_PREFIX: &str = "/api/auth";

/// Routes under `/api/auth`, with their documentation.
pub(crate) fn routes() -> Routes<AuthState> {
    const TAG: &str = "social";
    let url_errors = [ErrorCode::InvalidCallbackUrl];
    Routes::new()
        .add(
            Operation::post(
                "/sign-in/social",
                "signInSocial",
                "Start signing in with an identity provider",
            )
            .tag(TAG)
            .describe(
                "Answers the provider's authorization URL (`url`, and `Location` unless \
                 `disableRedirect`) and sets the signed state cookie. The browser goes \
                 there; the provider sends it back to `/callback/{provider}`. \
                 `callbackURL`, `newUserCallbackURL` and `errorCallbackURL` must be relative \
                 paths or on a trusted origin.",
            )
            .auth(Auth::None)
            .json_body("SocialSignInRequest", true)
            .ok(200, "SocialRedirect", "The authorization URL")
            .header(200, "Set-Cookie", "The signed state cookie")
            .error(&[ErrorCode::ValidationError])
            .error(&[ErrorCode::ProviderNotFound, ErrorCode::IdTokenNotSupported])
            .error(&url_errors)
            .uses_database(),
            sign_in_social,
        )
        .add(
            Operation::get(
                "/callback/{provider}",
                "callbackOAuth",
                "Where the identity provider sends the browser back",
            )
            .tag(TAG)
            .describe(
                "Always a 302: to `callbackURL` (or `newUserCallbackURL` for a new user) with \
                 the session cookie, or to the error URL with `?error=<code>` (Better Auth's \
                 codes: `state_not_found`, `state_mismatch`, `no_code`, `issuer_mismatch`, \
                 `invalid_code`, `unable_to_get_user_info`, `email_not_found`, \
                 `account_not_linked`, `unable_to_link_account`, `email_does_not_match`, \
                 `account_already_linked_to_different_user`, …).",
            )
            .auth(Auth::None)
            .no_content(302, "Redirect to the app or to the error URL")
            .uses_database(),
            callback_get,
        )
        .add(
            Operation::post(
                "/callback/{provider}",
                "callbackOAuthPost",
                "A provider's form-post callback",
            )
            .tag(TAG)
            .describe(
                "Re-issued as a 302 to the GET callback with the same parameters, so the \
                 `SameSite=Lax` state cookie is sent with it.",
            )
            .auth(Auth::None)
            .no_content(302, "Redirect to the GET callback"),
            callback_post,
        )
        .add(
            Operation::post(
                "/link-social",
                "linkSocialAccount",
                "Link an identity provider to the signed-in user",
            )
            .tag(TAG)
            .describe(
                "Like `sign-in/social`, for a session younger than the fresh age (15 \
                 minutes by default): the callback links the identity instead of signing \
                 in, when the provider verified the user's own address.",
            )
            .json_body("LinkSocialRequest", true)
            .ok(200, "SocialRedirect", "The authorization URL")
            .error(&[ErrorCode::ValidationError])
            .error(&[ErrorCode::ProviderNotFound])
            .error(&[ErrorCode::SessionNotFresh])
            .error(&url_errors)
            .uses_database(),
            link_social,
        )
        .add(
            Operation::get(
                "/list-accounts",
                "listUserAccounts",
                "The ways the signed-in user signs in",
            )
            .tag(TAG)
            .ok(
                200,
                "AccountList",
                "The password credential and linked identities",
            )
            .uses_database(),
            list_accounts,
        )
        .add(
            Operation::post(
                "/unlink-account",
                "unlinkAccount",
                "Remove one way of signing in",
            )
            .tag(TAG)
            .describe(
                "`accountId` is the account's `id` from `list-accounts` (Better Auth 1.7). \
                 The last way to sign in cannot be removed. Needs a fresh session.",
            )
            .json_body("UnlinkAccountRequest", true)
            .ok(200, "StatusTrue", "Unlinked")
            .error(&[
                ErrorCode::ValidationError,
                ErrorCode::FailedToUnlinkLastAccount,
                ErrorCode::AccountNotFound,
            ])
            .error(&[ErrorCode::SessionNotFresh])
            .uses_database(),
            unlink_account,
        )
        .add(
            Operation::get(
                "/providers",
                "listProviders",
                "The configured identity providers (Tessera extension)",
            )
            .tag(TAG)
            .auth(Auth::None)
            .ok(200, "ProviderList", "One entry per configured provider"),
            list_providers,
        )
        .add(
            Operation::get("/error", "oauthError", "Where a failed provider flow lands")
                .tag(TAG)
                .auth(Auth::None)
                .ok_with(
                    200,
                    "text/html",
                    json!({ "type": "string" }),
                    "A page naming the error code",
                ),
            error_page,
        )
}

// ------------------------------------------------------------------ starting a flow

/// The URLs a flow returns to, checked against the trusted origins.
struct ReturnUrls {
    callback: String,
    new_user: Option<String>,
    error: Option<String>,
}

fn return_urls(state: &AuthState, fields: &Fields) -> ApiResult<ReturnUrls> {
    let check = |name: &'static str| -> ApiResult<Option<String>> {
        match fields.opt_string(name)? {
            None => Ok(None),
            Some(url) => {
                origin::check_callback_url(url, state.trusted_origins()).map_err(|_| {
                    ApiError::new(ErrorCode::InvalidCallbackUrl, format!("Invalid {name}"))
                })?;
                Ok(Some(url.to_owned()))
            }
        }
    };
    Ok(ReturnUrls {
        callback: check("callbackURL")?.unwrap_or_else(|| "/".to_owned()),
        new_user: check("newUserCallbackURL")?,
        error: check("errorCallbackURL")?,
    })
}

/// `scopes`: extra scopes to ask for, an array of words.
fn extra_scopes(fields: &Fields) -> ApiResult<Vec<String>> {
    match fields.0.get("scopes") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= 32 => items
            .iter()
            .map(|v| match v {
                Value::String(s)
                    if !s.is_empty()
                        && s.len() <= 256
                        && !s.contains(|c: char| c.is_whitespace() || c.is_control()) =>
                {
                    Ok(s.clone())
                }
                _ => Err(ApiError::validation(
                    "[body.scopes] Invalid input: expected an array of scope words",
                )),
            })
            .collect(),
        Some(_) => Err(ApiError::validation(
            "[body.scopes] Invalid input: expected an array of scope words",
        )),
    }
}

fn provider<'a>(state: &'a AuthState, fields: &Fields) -> ApiResult<&'a Runtime> {
    let id = fields.string("provider")?;
    state
        .providers()
        .get(id)
        .ok_or_else(|| ErrorCode::ProviderNotFound.into())
}

fn redirect_uri(state: &AuthState, provider_id: &str) -> String {
    format!(
        "{}{}/callback/{provider_id}",
        state.settings().http.base_url.trim_end_matches('/'),
        AUTH_PREFIX
    )
}

/// Stores the flow's state, sets the state cookie and answers the authorization URL.
async fn start_flow(
    state: &AuthState,
    p: &Runtime,
    fields: &Fields,
    link_user_id: Option<String>,
) -> ApiResult<Response> {
    let urls = return_urls(state, fields)?;
    let scopes = extra_scopes(fields)?;
    let login_hint = fields.opt_string("loginHint")?;
    if login_hint.is_some_and(|h| h.len() > 254 || h.contains(char::is_control)) {
        return Err(ApiError::validation("[body.loginHint] Invalid input"));
    }
    let disable_redirect = fields.opt_bool("disableRedirect")?.unwrap_or(false);
    let flow_state = IdentityProviders::new_state();
    let url = state
        .providers()
        .authorization_url(
            p,
            &flow_state,
            &redirect_uri(state, &p.settings.id),
            &scopes,
            login_hint,
        )
        .await
        .map_err(|e| {
            tracing::warn!(provider = %p.settings.id, error = %e, "identity provider unavailable");
            ApiError::unavailable()
        })?;
    let now = state.clock().now_ms();
    let ttl = state.settings().providers.state_ttl;
    state
        .store()
        .create_oauth_state(
            &OAuthStateRow {
                state_digest: TokenDigest::of(&flow_state).as_str().to_owned(),
                provider_id: p.settings.id.clone(),
                callback_url: urls.callback,
                new_user_url: urls.new_user,
                error_url: urls.error,
                link_user_id,
                created_at: now,
                expires_at: now.saturating_add(tessera_core::clock::millis(ttl)),
            },
            now,
        )
        .await?;
    let sessions = state.sessions();
    let mut h = HeaderMap::new();
    h.append(
        header::SET_COOKIE,
        sessions
            .jar()
            .state(sessions.signer(), &flow_state, ttl.as_secs()),
    );
    if !disable_redirect && let Ok(v) = HeaderValue::try_from(url.as_str()) {
        h.insert(header::LOCATION, v);
    }
    Ok((
        h,
        Json(json!({ "url": url, "redirect": !disable_redirect })),
    )
        .into_response())
}

async fn sign_in_social(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::LoginForm>,
    _: RateLimit<rules::SignIn>,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let p = provider(&state, &fields)?;
    if !matches!(fields.0.get("idToken"), None | Some(Value::Null)) {
        return Err(ErrorCode::IdTokenNotSupported.into());
    }
    start_flow(&state, p, &fields, None).await
}

async fn link_social(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    let p = provider(&state, &fields)?;
    state.require_fresh(&current)?;
    start_flow(&state, p, &fields, Some(current.user.id.clone())).await
}

// ------------------------------------------------------------------ the callback

/// A redirect, with extra headers (cookies).
fn redirect(to: &str, mut headers: HeaderMap) -> Response {
    match HeaderValue::try_from(to) {
        Ok(v) => {
            headers.insert(header::LOCATION, v);
        }
        Err(_) => {
            headers.insert(header::LOCATION, HeaderValue::from_static("/"));
        }
    }
    (StatusCode::FOUND, headers).into_response()
}

/// The error URL with `?error=<code>` (and a description) appended.
fn error_location(base: &str, code: &str, description: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("error", code);
    if let Some(d) = description {
        q.append_pair("error_description", d);
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{}", q.finish())
}

fn default_error_url(state: &AuthState) -> String {
    format!(
        "{}{}/error",
        state.settings().http.base_url.trim_end_matches('/'),
        AUTH_PREFIX
    )
}

/// The callback's parameters (first value of each).
#[derive(Default)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

impl CallbackParams {
    fn read(pairs: impl Iterator<Item = (String, String)>) -> Self {
        let mut p = Self::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "code" => &mut p.code,
                "state" => &mut p.state,
                "error" => &mut p.error,
                "error_description" => &mut p.error_description,
                "iss" => &mut p.iss,
                _ => continue,
            };
            if slot.is_none() && !v.is_empty() {
                *slot = Some(v);
            }
        }
        p
    }

    fn query(&self) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("code", &self.code),
            ("state", &self.state),
            ("error", &self.error),
            ("error_description", &self.error_description),
            ("iss", &self.iss),
        ] {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        q.finish()
    }
}

/// A provider's own error code, passed on when it is a plain word.
fn provider_error(code: &str) -> &str {
    if !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        code
    } else {
        "oauth_error"
    }
}

async fn callback_post(
    State(state): State<AuthState>,
    Path(provider_id): Path<String>,
    JsonOrFormBody(fields): JsonOrFormBody,
) -> Response {
    let pairs = fields.0.iter().filter_map(|(k, v)| match v {
        Value::String(s) => Some((k.clone(), s.clone())),
        _ => None,
    });
    let params = CallbackParams::read(pairs);
    if state.providers().get(&provider_id).is_none() {
        return redirect(
            &error_location(&default_error_url(&state), "oauth_provider_not_found", None),
            HeaderMap::new(),
        );
    }
    let to = format!("{}?{}", redirect_uri(&state, &provider_id), params.query());
    redirect(&to, HeaderMap::new())
}

async fn callback_get(
    State(state): State<AuthState>,
    Path(provider_id): Path<String>,
    _: RateLimit<rules::SignIn>,
    ip: ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let params = CallbackParams::read(
        form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned(),
    );
    // The state cookie has done its job whatever happens next.
    let mut cleared = HeaderMap::new();
    cleared.append(header::SET_COOKIE, state.sessions().jar().clear_state());
    match callback(&state, &provider_id, &params, ip, &headers).await {
        Ok((to, mut h)) => {
            // appended: `extend` would replace the session's Set-Cookie
            for v in cleared.get_all(header::SET_COOKIE) {
                h.append(header::SET_COOKIE, v.clone());
            }
            redirect(&to, h)
        }
        Err(Failure {
            to,
            code,
            description,
        }) => {
            tracing::info!(event = "provider_sign_in_failed", provider = %provider_id, code, ip = ?ip.0, "identity-provider callback refused");
            redirect(&error_location(&to, code, description), cleared)
        }
    }
}

/// A failed callback: where to send the browser, and Better Auth's error code.
struct Failure {
    to: String,
    code: &'static str,
    description: Option<&'static str>,
}

impl Failure {
    fn new(to: &str, code: &'static str) -> Self {
        Self {
            to: to.to_owned(),
            code,
            description: None,
        }
    }
}

/// A store failure mid-callback: logged, and the browser goes to the error URL.
fn store_failure(to: &str, e: StoreError) -> Failure {
    let _ = ApiError::from(e);
    Failure::new(to, "internal_server_error")
}

async fn callback(
    state: &AuthState,
    provider_id: &str,
    params: &CallbackParams,
    ip: ClientIp,
    headers: &HeaderMap,
) -> Result<(String, HeaderMap), Failure> {
    let default_error = default_error_url(state);
    let Some(p) = state.providers().get(provider_id) else {
        return Err(Failure::new(&default_error, "oauth_provider_not_found"));
    };
    let Some(flow_state) = params.state.as_deref() else {
        return Err(Failure::new(&default_error, "state_not_found"));
    };
    // Bound to this browser: the signed cookie set when the flow started holds the state.
    let sessions = state.sessions();
    let cookie = sessions.jar().read_state(sessions.signer(), headers);
    if !cookie.is_some_and(|c| constant_time_eq(c.as_bytes(), flow_state.as_bytes())) {
        return Err(Failure::new(&default_error, "state_mismatch"));
    }
    // Single use: the row is removed by the first callback that presents it.
    let row = state
        .store()
        .take_oauth_state(TokenDigest::of(flow_state).as_str())
        .await
        .map_err(|e| store_failure(&default_error, e))?
        .ok_or_else(|| Failure::new(&default_error, "state_mismatch"))?;
    let error_url = row.error_url.clone().unwrap_or(default_error);
    // Bound to the provider it was made for, and short-lived.
    if row.provider_id != provider_id || row.expires_at < state.clock().now_ms() {
        return Err(Failure::new(&error_url, "state_mismatch"));
    }
    if let Some(e) = &params.error {
        // The provider's refusal (`access_denied` when the user declined), else a generic code.
        let code = if provider_error(e) == "access_denied" {
            "access_denied"
        } else {
            "oauth_error"
        };
        return Err(Failure::new(&error_url, code));
    }
    let Some(code) = params.code.as_deref() else {
        return Err(Failure::new(&error_url, "no_code"));
    };
    let identity = state
        .providers()
        .finish(
            p,
            flow_state,
            code,
            params.iss.as_deref(),
            &redirect_uri(state, provider_id),
        )
        .await
        .map_err(|e| {
            tracing::warn!(provider = %provider_id, error = %e, "identity-provider flow failed");
            Failure::new(&error_url, e.code())
        })?;
    match &row.link_user_id {
        Some(user_id) => link(
            state,
            provider_id,
            &identity,
            user_id,
            &row.callback_url,
            &error_url,
        )
        .await
        .map(|to| (to, HeaderMap::new())),
        None => sign_in(state, provider_id, &identity, &row, &error_url, ip, headers).await,
    }
}

fn new_identity(provider_id: &str, identity: &Identity, now_ms: i64) -> NewIdentity {
    NewIdentity {
        id: new_id(),
        provider_id: provider_id.to_owned(),
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        scope: identity.scope.clone(),
        email: identity.email.clone(),
        now_ms,
    }
}

/// The explicit link of `/link-social`: to the user who started it, when the provider
/// verified that user's own address.
async fn link(
    state: &AuthState,
    provider_id: &str,
    identity: &Identity,
    user_id: &str,
    callback_url: &str,
    error_url: &str,
) -> Result<String, Failure> {
    let store = state.store();
    let fail = |code| Failure::new(error_url, code);
    let Some((user, _)) = store
        .user_with_password_by_id(user_id)
        .await
        .map_err(|e| store_failure(error_url, e))?
    else {
        return Err(fail("unable_to_link_account"));
    };
    match store
        .user_by_identity(&identity.issuer, &identity.subject)
        .await
        .map_err(|e| store_failure(error_url, e))?
    {
        Some(owner) if owner.id == user.id => return Ok(callback_url.to_owned()),
        Some(_) => return Err(fail("account_already_linked_to_different_user")),
        None => {}
    }
    if !identity.email_verified {
        return Err(fail("unable_to_link_account"));
    }
    if identity.email.as_deref() != Some(user.email.as_str()) {
        return Err(fail("email_does_not_match"));
    }
    match store
        .link_identity(
            UserId(&user.id),
            &new_identity(provider_id, identity, state.clock().now_ms()),
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(fail("account_already_linked_to_different_user"));
        }
        Err(e) => return Err(store_failure(error_url, e)),
    }
    tracing::info!(event = "identity_linked", user_id = %user.id, provider = %provider_id, "identity linked");
    Ok(callback_url.to_owned())
}

/// A display name from the provider: no control characters, at most the name limit.
fn display_name(identity: &Identity, email: &Email) -> String {
    let raw = identity
        .name
        .clone()
        .unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("").to_owned());
    raw.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect()
}

async fn sign_in(
    state: &AuthState,
    provider_id: &str,
    identity: &Identity,
    row: &OAuthStateRow,
    error_url: &str,
    ip: ClientIp,
    headers: &HeaderMap,
) -> Result<(String, HeaderMap), Failure> {
    let store = state.store();
    let fail = |code| Failure::new(error_url, code);
    let now = state.clock().now_ms();
    let (user, new_user) = match store
        .user_by_identity(&identity.issuer, &identity.subject)
        .await
        .map_err(|e| store_failure(error_url, e))?
    {
        Some(user) => (user, false),
        None => {
            let email = identity
                .email
                .as_deref()
                .and_then(|e| Email::parse(e).ok())
                .ok_or_else(|| fail("email_not_found"))?;
            let existing = store
                .user_with_password_by_email(email.as_str())
                .await
                .map_err(|e| store_failure(error_url, e))?;
            match existing {
                Some((user, _)) => {
                    // Implicit linking only when both sides verified the address: an
                    // unverified local account may be an attacker's pre-registration of the
                    // victim's address, and an unverified provider address proves nothing.
                    if !(identity.email_verified && user.email_verified) {
                        return Err(Failure {
                            to: error_url.to_owned(),
                            code: "account_not_linked",
                            description: Some(
                                "An account with this email exists. Sign in to it first, then link this provider from the account page.",
                            ),
                        });
                    }
                    match store
                        .link_identity(UserId(&user.id), &new_identity(provider_id, identity, now))
                        .await
                    {
                        Ok(()) | Err(StoreError::Conflict(_)) => {}
                        Err(e) => return Err(store_failure(error_url, e)),
                    }
                    tracing::info!(event = "identity_linked", user_id = %user.id, provider = %provider_id, "identity linked implicitly (both addresses verified)");
                    (user, false)
                }
                None => {
                    let new_user = NewUser {
                        id: new_id(),
                        name: display_name(identity, &email),
                        email: email.as_str().to_owned(),
                        image: identity
                            .image
                            .clone()
                            .filter(|i| i.len() <= MAX_IMAGE_LEN && !i.contains(char::is_control)),
                        now_ms: now,
                    };
                    let user = match store
                        .create_user_with_identity(
                            &new_user,
                            identity.email_verified,
                            &new_identity(provider_id, identity, now),
                        )
                        .await
                    {
                        Ok(user) => user,
                        // another request created the account or linked the identity first
                        Err(StoreError::Conflict(_)) => return Err(fail("unable_to_create_user")),
                        Err(e) => return Err(store_failure(error_url, e)),
                    };
                    tracing::info!(event = "sign_up", user_id = %user.id, provider = %provider_id, ip = ?ip.0, "user signed up with an identity provider");
                    (user, true)
                }
            }
        }
    };
    if user.disabled_at.is_some() {
        return Err(fail("unable_to_create_session"));
    }
    start_session(state, &user, ip, headers)
        .await
        .map(|(h, challenged)| {
            if challenged {
                // The second factor still applies: the challenge page finishes the sign-in.
                tracing::info!(event = "sign_in_challenged", user_id = %user.id, provider = %provider_id, ip = ?ip.0, "identity provider accepted; second factor required");
                return (TWO_FACTOR_PAGE.to_owned(), h);
            }
            state.metrics().sign_in(true);
            tracing::info!(event = "sign_in", user_id = %user.id, provider = %provider_id, ip = ?ip.0, "user signed in with an identity provider");
            let to = match (&row.new_user_url, new_user) {
                (Some(url), true) => url.clone(),
                _ => row.callback_url.clone(),
            };
            (to, h)
        })
        .map_err(|_| fail("unable_to_create_session"))
}

/// The web UI's second-factor page, where a provider sign-in of a user with two-factor
/// continues.
const TWO_FACTOR_PAGE: &str = "/two-factor";

/// Every way in ends here: [`crate::session::Sessions::start`], with the provider as the
/// first factor. Returns the headers that hand over the session, or the challenge (then
/// `true`: a user with two-factor still owes the second factor).
async fn start_session(
    state: &AuthState,
    user: &User,
    ip: ClientIp,
    headers: &HeaderMap,
) -> ApiResult<(HeaderMap, bool)> {
    let started = state
        .sessions()
        .start(
            user,
            Proof::First(FirstFactor::IdentityProvider),
            Grant::Cookie { remember: true },
            ip,
            headers,
        )
        .await?;
    let challenged = matches!(started, Started::SecondFactorRequired { .. });
    let (h, _body) = state.sessions().answer(user, started)?;
    Ok((h, challenged))
}

// ------------------------------------------------------------------ accounts

async fn list_accounts(
    State(state): State<AuthState>,
    CurrentSession(current, _): CurrentSession,
) -> ApiResult<Json<Value>> {
    let rows = state
        .store()
        .list_accounts(UserId(&current.user.id))
        .await?;
    Ok(Json(Value::Array(
        rows.iter()
            .map(|a| {
                json!({
                    "id": a.id,
                    "providerId": a.provider_id,
                    "accountId": a.account_id,
                    "userId": a.user_id,
                    "createdAt": iso_millis(a.created_at),
                    "updatedAt": iso_millis(a.updated_at),
                    "scopes": a.scope.as_deref().map(|s| s.split([' ', ',']).filter(|x| !x.is_empty()).collect::<Vec<_>>()).unwrap_or_default(),
                })
            })
            .collect(),
    )))
}

async fn unlink_account(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    CurrentSession(current, _): CurrentSession,
    JsonBody(fields): JsonBody,
) -> ApiResult<Json<Value>> {
    let account_id = fields.string("accountId")?;
    state.require_fresh(&current)?;
    match state
        .store()
        .unlink_account(UserId(&current.user.id), account_id)
        .await?
    {
        UnlinkOutcome::Unlinked => {
            tracing::info!(event = "account_unlinked", user_id = %current.user.id, "account unlinked");
            Ok(Json(json!({ "status": true })))
        }
        UnlinkOutcome::NotFound => Err(ErrorCode::AccountNotFound.into()),
        UnlinkOutcome::LastAccount => Err(ErrorCode::FailedToUnlinkLastAccount.into()),
    }
}

async fn list_providers(State(state): State<AuthState>) -> Json<Value> {
    Json(Value::Array(
        state
            .providers()
            .all()
            .map(|p| json!({ "id": p.id, "name": p.name }))
            .collect(),
    ))
}

/// Better Auth's default error page: the code, and a way back.
async fn error_page(RawQuery(query): RawQuery) -> Response {
    let code = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let code = provider_error(&code);
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>\
         <body><h1>Sign-in failed</h1><p>Error: <code>{code}</code></p><p><a href=\"/sign-in\">Back to sign-in</a></p></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}
