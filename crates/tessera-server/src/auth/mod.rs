//! Better Auth's email-and-password core: sign-up, sign-in, sign-out, get-session, ok.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};
use serde_json::json;
use tessera_core::account::{AccountName, NewAccount};
use tessera_core::id::new_id;
use tessera_core::text::MAX_IMAGE_LEN;
use tessera_core::{Email, EmailError, Password, PasswordVerdict};
use tessera_store::{NewUser, StoreError, User, UserId};

use crate::http::ErrorCode;
use crate::http::client_ip::ClientIp;
use crate::http::origin::{self, OriginChecked};
use crate::http::rate_limit::{RateLimit, Rule, client_key, rules};
use crate::http::{ApiError, ApiResult, Fields, JsonBody, JsonOrFormBody};
use crate::openapi::{Auth, Operation, Routes};
use crate::password::account_refused;
use crate::session::dto::{SessionDto, UserDto};
use crate::session::{FirstFactor, Grant, Lookup, MaybeSession, Proof, Started};
use crate::settings::SignUpResponse;
use crate::state::AuthState;

/// Routes under `/api/auth`, with their documentation.
pub(crate) fn routes() -> Routes<AuthState> {
    const TAG: &str = "auth";
    let sign_up_errors = |op: Operation| {
        op.error(&[
            ErrorCode::PasswordTooShort,
            ErrorCode::PasswordTooLong,
            ErrorCode::PasswordCompromised,
        ])
        .error(&[
            ErrorCode::InvalidCallbackUrl,
            ErrorCode::CrossSiteNavigationLoginBlocked,
        ])
        .error(&[ErrorCode::UserAlreadyExists])
    };
    Routes::new()
        .add(
            sign_up_errors(
                Operation::post(
                    "/sign-up/email",
                    "signUpEmail",
                    "Create an account and sign in",
                )
                .tag(TAG)
                .describe(
                    "Creates the user and a session: the body has the raw session `token`, \
                         `Set-Cookie` the signed session cookie and `set-auth-token` the signed \
                         token for bearer clients. With `refreshToken: true` the answer carries \
                         an access token and a refresh credential instead (no cookie). In \
                         generic sign-up mode the answer is `{token: null, user}` for new and \
                         taken emails alike.",
                )
                .auth(Auth::None)
                .json_or_form_body("SignUpRequest", true)
                .ok(200, "SignUpResponse", "Signed up")
                .header(
                    200,
                    "set-auth-token",
                    "Signed session token for bearer clients",
                )
                .header(200, "Set-Cookie", "The session cookie")
                .uses_database(),
            ),
            sign_up,
        )
        .add(
            Operation::post(
                "/sign-in/email",
                "signInEmail",
                "Sign in with email and password",
            )
            .tag(TAG)
            .describe(
                "Starts a session like sign-up. Unknown, disabled and wrong-password \
                     accounts get the same 401. With `callbackURL` the answer has \
                     `redirect: true`, `url` and a `Location` header.",
            )
            .auth(Auth::None)
            .json_or_form_body("SignInRequest", true)
            .ok(200, "SignInResponse", "Signed in")
            .header(
                200,
                "set-auth-token",
                "Signed session token for bearer clients",
            )
            .header(200, "Set-Cookie", "The session cookie")
            .error(&[ErrorCode::InvalidEmail, ErrorCode::PasswordTooLong])
            .error(&[ErrorCode::InvalidEmailOrPassword])
            .error(&[
                ErrorCode::InvalidCallbackUrl,
                ErrorCode::CrossSiteNavigationLoginBlocked,
                ErrorCode::EmailNotVerified,
            ])
            .uses_database(),
            sign_in,
        )
        .add(
            Operation::post("/sign-out", "signOut", "End the current session")
                .tag(TAG)
                .describe(
                    "Ends the presented session (if any) and the session of `refresh_token` \
                     (if given), and clears the cookies. Succeeds without a session too.",
                )
                .json_body("SignOutRequest", false)
                .ok(200, "SuccessTrue", "Signed out")
                .error(&[ErrorCode::InvalidCallbackUrl])
                .uses_database(),
            sign_out,
        )
        .add(
            Operation::get("/get-session", "getSession", "The current session and user")
                .tag(TAG)
                .describe(
                    "`null` without a live session. Extends a rememberable session when due \
                     (unless `disableRefresh` is given) and hands out an access token in \
                     `set-auth-jwt`.",
                )
                .query(
                    "disableRefresh",
                    serde_json::json!({ "type": "string" }),
                    "Any non-empty value: do not extend the session",
                )
                .ok(200, "GetSessionResponse", "The session, or null")
                .header(200, "set-auth-jwt", "An access token for this session")
                .uses_database(),
            get_session,
        )
        .add(
            Operation::post("/get-session", "getSessionPost", "Not supported: use GET")
                .tag(TAG)
                .describe(
                    "Better Auth answers POST only with `deferSessionRefresh`; Tessera never does.",
                )
                .auth(Auth::None)
                .error(&[ErrorCode::MethodNotAllowedDeferSessionRequired]),
            get_session_post,
        )
        .add(
            Operation::get("/ok", "ok", "Liveness of the auth endpoints")
                .tag(TAG)
                .auth(Auth::None)
                .ok(200, "OkTrue", "Up"),
            ok,
        )
}

async fn ok() -> Json<serde_json::Value> {
    Json(json!({ "ok": true }))
}

/// `callbackURL`, when given, must stay on a trusted origin (the origin itself is checked
/// by the `OriginChecked` extractor).
fn check_callback_url(state: &AuthState, fields: &Fields) -> ApiResult<()> {
    if let Some(url) = fields.opt_string("callbackURL")? {
        origin::check_callback_url(url, state.trusted_origins())?;
    }
    Ok(())
}

fn parse_name(fields: &Fields) -> ApiResult<AccountName> {
    AccountName::parse(fields.string("name")?).map_err(|e| account_refused(e.into()))
}

pub(crate) fn parse_image(fields: &Fields) -> ApiResult<Option<String>> {
    match fields.opt_string("image")? {
        Some(s) if s.len() > MAX_IMAGE_LEN || s.chars().any(char::is_control) => {
            Err(ApiError::validation("[body.image] Invalid input"))
        }
        other => Ok(other.map(str::to_owned)),
    }
}

/// `{"token": null, "user": …}` and no cookie: the answer of generic sign-up mode, for new
/// and taken emails alike.
fn generic_sign_up_answer(user: &User) -> Response {
    (
        HeaderMap::new(),
        Json(json!({ "token": null, "user": UserDto::from(user) })),
    )
        .into_response()
}

async fn sign_up(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::LoginForm>,
    _: RateLimit<rules::SignUp>,
    ip: ClientIp,
    headers: HeaderMap,
    JsonOrFormBody(fields): JsonOrFormBody,
) -> ApiResult<Response> {
    check_callback_url(&state, &fields)?;
    // Schema first (zod's order: every field's type), then the semantic checks.
    let name = parse_name(&fields)?;
    let raw_email = fields.string("email")?;
    let raw_password = fields.string("password")?;
    let image = parse_image(&fields)?;
    let remember = fields.opt_bool("rememberMe")?.unwrap_or(true);
    let want_refresh = fields.opt_bool("refreshToken")?.unwrap_or(false);
    let NewAccount {
        name,
        email,
        password,
    } = NewAccount::new(name, raw_email, raw_password).map_err(account_refused)?;

    // Hash before touching the database: a duplicate email costs the same time as a new one.
    let hash = state.passwords().hash(password).await?;
    // Requiring a verified address means sign-up signs nobody in, so it answers taken and
    // new addresses alike too (as Better Auth does).
    let require_verified = state.settings().email.require_email_verification;
    let generic =
        state.settings().security.sign_up_response == SignUpResponse::Generic || require_verified;
    let new_user = NewUser {
        id: new_id(),
        name: name.into_string(),
        email: email.into_string(),
        image,
        now_ms: state.clock().now_ms(),
    };
    let user = match state.store().create_user(&new_user, &hash).await {
        Ok(u) => u,
        Err(StoreError::Conflict("users_email_key")) if generic => {
            // The same answer as for a new account, with a user that does not exist.
            let now = state.clock().now_ms();
            let synthetic = User {
                id: new_id(),
                name: new_user.name.clone(),
                email: new_user.email.clone(),
                email_verified: false,
                image: new_user.image.clone(),
                created_at: now,
                updated_at: now,
                disabled_at: None,
                two_factor_enabled: false,
            };
            tracing::info!(event = "sign_up_duplicate", ip = ?ip.0, "sign-up for a taken email (generic answer)");
            return Ok(generic_sign_up_answer(&synthetic));
        }
        Err(StoreError::Conflict("users_email_key")) => {
            return Err(ApiError::new(
                ErrorCode::UserAlreadyExists,
                "User already exists. Use another email.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::info!(event = "sign_up", user_id = %user.id, ip = ?ip.0, "user signed up");
    // With mail configured, every new address gets its verification link.
    let callback = fields.opt_string("callbackURL")?;
    state
        .mailer()
        .queue_verification(state.limiter(), &user, callback)
        .await?;
    if generic {
        return Ok(generic_sign_up_answer(&user));
    }
    let grant = if want_refresh {
        Grant::Refresh
    } else {
        Grant::Cookie { remember }
    };
    let started = state
        .sessions()
        .start(
            &user,
            Proof::First(FirstFactor::Password),
            grant,
            ip,
            &headers,
        )
        .await?;
    let (h, body) = state.sessions().answer(&user, started)?;
    Ok((h, Json(body)).into_response())
}

async fn sign_in(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::LoginForm>,
    _: RateLimit<rules::SignIn>,
    ip: ClientIp,
    headers: HeaderMap,
    JsonOrFormBody(fields): JsonOrFormBody,
) -> ApiResult<Response> {
    check_callback_url(&state, &fields)?;
    let client = client_key(ip);
    let raw_email = fields.string("email")?;
    let raw_password = fields.string("password")?;
    let callback = fields.opt_string("callbackURL")?.map(str::to_owned);
    let want_refresh = fields.opt_bool("refreshToken")?.unwrap_or(false);
    let remember = fields.opt_bool("rememberMe")?.unwrap_or(true);
    let email = Email::parse(raw_email).map_err(|e| match e {
        EmailError::TooLong | EmailError::Invalid => {
            ApiError::new(ErrorCode::InvalidEmail, "Invalid email")
        }
    })?;
    let password = Password::candidate(raw_password).map_err(ApiError::from)?;
    // Failed attempts against this account, from this client and from everywhere: taken
    // before the password is checked, given back on success (see http::rate_limit).
    let per_client = format!("{}|{client}", email.as_str());
    let limiter = state.limiter();
    limiter
        .hit(Rule::SignInFailuresPerClient, &per_client)
        .await?;
    if let Err(e) = limiter
        .hit(Rule::SignInFailuresPerAccount, email.as_str())
        .await
    {
        limiter
            .refund(Rule::SignInFailuresPerClient, &per_client)
            .await;
        return Err(e);
    }

    let found = state
        .store()
        .user_with_password_by_email(email.as_str())
        .await?;
    let (user, stored) = match found {
        Some((user, hash)) if user.disabled_at.is_none() => (Some(user), hash),
        // unknown or disabled: same work, same answer
        _ => (None, None),
    };
    let verdict = state.passwords().verify(password.clone(), stored).await?;
    let (PasswordVerdict::Match { needs_rehash }, Some(user)) = (verdict, user) else {
        state.metrics().sign_in(false);
        tracing::info!(event = "sign_in_failed", ip = ?ip.0, "sign-in failed");
        return Err(ApiError::new(
            ErrorCode::InvalidEmailOrPassword,
            "Invalid email or password",
        ));
    };
    tokio::join!(
        limiter.refund(Rule::SignInFailuresPerClient, &per_client),
        limiter.refund(Rule::SignInFailuresPerAccount, email.as_str()),
    );
    if state.settings().email.require_email_verification && !user.email_verified {
        // Better Auth's sendOnSignIn: the right password earns a fresh link, not a session.
        state
            .mailer()
            .queue_verification(limiter, &user, callback.as_deref())
            .await?;
        tracing::info!(event = "sign_in_unverified", user_id = %user.id, ip = ?ip.0, "sign-in refused: address not verified");
        return Err(ApiError::new(
            ErrorCode::EmailNotVerified,
            "Email not verified",
        ));
    }
    state.metrics().sign_in(true);
    if needs_rehash {
        // Upgrade imported scrypt (or weaker Argon2) hashes now that we hold the password.
        let hash = state.passwords().hash(password).await?;
        state
            .store()
            .set_password_hash(UserId(&user.id), &hash, state.clock().now_ms())
            .await?;
    }
    let grant = if want_refresh {
        Grant::Refresh
    } else {
        Grant::Cookie { remember }
    };
    let started = state
        .sessions()
        .start(
            &user,
            Proof::First(FirstFactor::Password),
            grant,
            ip,
            &headers,
        )
        .await?;
    let with_cookie = matches!(started, Started::Session { .. });
    if !matches!(started, Started::SecondFactorRequired { .. }) {
        tracing::info!(event = "sign_in", user_id = %user.id, ip = ?ip.0, refresh_grant = want_refresh, "user signed in");
    }
    let (mut h, mut body) = state.sessions().answer(&user, started)?;
    if with_cookie {
        body["redirect"] = json!(callback.is_some());
        if let Some(url) = callback {
            if let Ok(v) = HeaderValue::try_from(url.as_str()) {
                h.insert(header::LOCATION, v);
            }
            body["url"] = json!(url);
        }
    }
    Ok((h, Json(body)).into_response())
}

async fn sign_out(
    State(state): State<AuthState>,
    _: OriginChecked<origin::rules::CookieOnly>,
    MaybeSession(found): MaybeSession,
    JsonBody(fields): JsonBody,
) -> ApiResult<Response> {
    check_callback_url(&state, &fields)?;
    // Clients holding a refresh credential sign out with it.
    if let Some(rt) = fields.opt_string("refresh_token")? {
        let digest = tessera_core::TokenDigest::of(rt);
        if let Some(id) = state
            .store()
            .session_id_by_refresh_digest(digest.as_str())
            .await?
        {
            let now = state.clock().now_ms();
            state.store().revoke_session(&id, now).await?;
            state.sessions().end(std::slice::from_ref(&id));
            tracing::info!(event = "sign_out", session_id = %id, "signed out (refresh credential)");
        }
    }
    if let Lookup::Live(current, _) = found {
        let now = state.clock().now_ms();
        state
            .store()
            .revoke_session(&current.session.id, now)
            .await?;
        state
            .sessions()
            .end(std::slice::from_ref(&current.session.id));
        tracing::info!(event = "sign_out", user_id = %current.user.id, session_id = %current.session.id, "signed out");
    }
    let h = state.sessions().clear_cookies();
    Ok((h, Json(json!({ "success": true }))).into_response())
}

/// `?disableRefresh`, read like Better Auth's `z.coerce.boolean()`: any non-empty value
/// (even `false`) means true. Read from the raw query so a repeated key (an array to Better
/// Auth) or an unknown one never turns the request into an error.
fn refresh_disabled(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, v)| k == "disableRefresh" && !v.is_empty())
    })
}

async fn get_session(
    State(state): State<AuthState>,
    RawQuery(query): RawQuery,
    MaybeSession(found): MaybeSession,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut h = HeaderMap::new();
    let mut current = match found {
        Lookup::Live(c, _) => *c,
        Lookup::Expired => {
            h.extend(state.sessions().clear_cookies());
            return Ok((h, Json(serde_json::Value::Null)).into_response());
        }
        Lookup::None => return Ok((h, Json(serde_json::Value::Null)).into_response()),
    };
    if !refresh_disabled(query.as_deref()) && state.sessions().slide(&mut current, &headers).await?
    {
        h = state.sessions().handover_headers(&current.token, true);
    }
    let jwt = state.sessions().mint(&current.user, &current.session)?;
    if let Ok(v) = HeaderValue::try_from(jwt) {
        h.insert("set-auth-jwt", v);
        h.append(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("set-auth-jwt"),
        );
    }
    let body = json!({
        "session": SessionDto::new(&current.session, current.token.expose()),
        "user": UserDto::from(&current.user),
    });
    Ok((h, Json(body)).into_response())
}

async fn get_session_post() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowedDeferSessionRequired,
        "POST method requires deferSessionRefresh to be enabled in session config",
    )
}
