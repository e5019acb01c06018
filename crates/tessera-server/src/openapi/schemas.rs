//! Component schemas and security schemes of the document. Constraints come from the same
//! constants the handlers enforce.

use serde_json::{Value, json};
use tessera_core::password::{MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use tessera_core::task::{MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS};

use tessera_core::task::{DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET};
use tessera_core::text::{MAX_IMAGE_LEN, MAX_NAME_CHARS};

/// `info.description`.
pub(crate) const INFO_DESCRIPTION: &str = "Tessera: an auth server speaking Better Auth 1.7's HTTP \
protocol (email and password, sessions, the jwt plugin's `/token` and `/jwks`), refresh \
credentials and a revocation feed, plus a protected per-user tasks API.\n\n\
Every error answer is `{\"message\": string, \"code\": string}`; each response lists the \
`code` values it can carry (also in `x-error-codes`). Request bodies are JSON objects \
(sign-in and sign-up also accept form encoding); unknown fields are ignored.\n\n\
This document lists what this process serves: with `--role api` only the tasks API and \
the probes. The web UI's HTML pages (`/`, `/sign-in`, …, `/assets/…`) are not part of the \
API and are not listed.";

/// A tag's description.
pub(crate) fn tag_description(tag: &str) -> &'static str {
    match tag {
        "auth" => "Better Auth's email-and-password core",
        "email" => {
            "Address verification, password reset and change of address (mail through the outbox)"
        }
        "jwt" => "Access tokens (Better Auth's jwt plugin)",
        "sessions" => "Listing and ending sessions, password changes, refresh credentials",
        "social" => "Sign-in with identity providers (GitHub, Google, OpenID Connect) and linking",
        "two-factor" => "TOTP, backup codes and trusted devices (Better Auth's twoFactor plugin)",
        "tasks" => "The per-user tasks API (bearer access token whose `sub` is `{user_id}`)",
        "probes" => "Liveness and readiness",
        "meta" => "This document and its viewer",
        _ => "",
    }
}

/// The schema of a path parameter.
pub(crate) fn path_param(name: &str) -> Value {
    match name {
        "id" => json!({
            "type": "string",
            "description": "Task id: 32 ASCII letters and digits (anything else is 404)",
        }),
        "user_id" => json!({
            "type": "string",
            "description": "The user id; must be the access token's `sub` (else 403)",
        }),
        _ => json!({ "type": "string" }),
    }
}

/// `limit` of the task list.
pub(crate) fn limit() -> Value {
    json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT })
}

/// `offset` of the task list.
pub(crate) fn offset() -> Value {
    json!({ "type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0 })
}

fn iso() -> Value {
    json!({ "type": "string", "format": "date-time", "description": "ISO-8601 UTC with milliseconds" })
}

/// Control characters other than tab, CR and LF are refused in task text.
const NO_CONTROL: &str = "[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]";
/// A description: no control characters but tab and newlines.
const DESCRIPTION_PATTERN: &str =
    "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$";

/// A character that shows (`tessera_core::text`), as far as a pattern without the `u` flag
/// can say: not whitespace, not a control character, not a basic-plane invisible one.
const VISIBLE: &str = "[^\\s\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u034f\\u061c\\u115f\\u1160\\u17b4\\u17b5\\u180b-\\u180f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\u2800\\u3164\\ufe00-\\ufe0f\\ufeff\\uffa0\\ufff0-\\ufff8]";

/// A task title: 1 to 200 characters and no control characters as sent; stored trimmed.
fn title() -> Value {
    json!({
        "type": "string", "minLength": 1, "maxLength": MAX_TITLE_CHARS,
        "pattern": format!("^{NO_CONTROL}*{VISIBLE}{NO_CONTROL}*$"),
        "description": "1 to 200 characters and no control characters as sent, with at least one visible character (not only whitespace, invisible or bidirectional-control characters); stored trimmed",
    })
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn nullable(t: &str) -> Value {
    json!({ "type": [t, "null"] })
}

/// `components.securitySchemes`.
pub(crate) fn security_schemes() -> Value {
    json!({
        "sessionCookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": "better-auth.session_token",
            "description": "The signed session cookie set by sign-in and sign-up \
    (`__Secure-better-auth.session_token` when the base URL is https).",
        },
        "sessionBearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "session token",
            "description": "The session token: the signed value from the `set-auth-token` \
    header, or the raw `token` from the sign-in/sign-up body.",
        },
        "accessToken": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from `GET /api/auth/token`, the `set-auth-jwt` \
    header of get-session, or `/api/auth/refresh`. Verified against `/api/auth/jwks`.",
        },
        "serviceSecret": {
            "type": "http",
            "scheme": "bearer",
            "description": "A secret shared with the services that follow the revocation feed \
    (`--revocations-secret`).",
        },
    })
}

/// `components.schemas`.
#[allow(clippy::too_many_lines)] // one declarative table
pub(crate) fn components() -> Value {
    let password = json!({
        "type": "string", "minLength": MIN_PASSWORD_LEN, "maxLength": MAX_PASSWORD_LEN,
        "description": "8 to 128 characters (UTF-16 units); common passwords are refused \
    (PASSWORD_COMPROMISED)",
    });
    let remember = json!({
        "type": "boolean", "default": true,
        "description": "false: a short session that is never extended, with a session-only cookie",
    });
    let refresh_token_flag = json!({
        "type": "boolean", "default": false,
        "description": "true: answer with an access token and a rotating refresh credential \
    instead of a session token and cookie",
    });
    let callback = json!({
        "type": "string",
        "description": "Where to go after sign-in; must be a trusted origin (else 403 INVALID_CALLBACK_URL)",
    });
    let token_fields = json!({
        "access_token": { "type": "string", "description": "JWT access token" },
        "token_type": { "type": "string", "const": "Bearer" },
        "expires_in": { "type": "integer", "description": "Seconds until the access token expires" },
        "refresh_token": { "type": "string", "description": "The next refresh credential (single use)" },
    });
    let mut auth_response = json!({
        "type": "object",
        "required": ["token", "user"],
        "properties": {
            "token": { "type": ["string", "null"], "description": "The raw session token; \
    null in generic sign-up mode and for refresh grants" },
            "user": r("User"),
        },
    });
    if let (Some(p), Some(t)) = (
        auth_response["properties"].as_object_mut(),
        token_fields.as_object(),
    ) {
        p.extend(t.clone());
    }
    let mut sign_in_response = auth_response.clone();
    if let Some(p) = sign_in_response["properties"].as_object_mut() {
        p.insert(
            "redirect".into(),
            json!({ "type": "boolean", "description": "Whether callbackURL was given" }),
        );
        p.insert(
            "url".into(),
            json!({ "type": "string", "description": "The callbackURL, when given" }),
        );
    }
    let mut nullable_title = title();
    nullable_title["type"] = json!(["string", "null"]);
    let update_task = json!({
        "type": "object",
        "description": "At least one of title, description, completed that is not null (null counts as absent)",
        "properties": {
            "title": nullable_title,
            "description": { "type": ["string", "null"], "maxLength": MAX_DESCRIPTION_CHARS,
                "pattern": DESCRIPTION_PATTERN },
            "completed": { "type": ["boolean", "null"] },
        },
        "anyOf": [
            { "required": ["title"], "properties": { "title": { "type": "string" } } },
            { "required": ["description"], "properties": { "description": { "type": "string" } } },
            { "required": ["completed"], "properties": { "completed": { "type": "boolean" } } },
        ],
    });
    let session = json!({
        "type": "object",
        "required": ["id", "token", "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent"],
        "properties": {
            "id": { "type": "string" },
            "token": { "type": "string", "description": "get-session: the caller's own session \
    token; list-sessions: the (non-secret) session id" },
            "userId": { "type": "string" },
            "expiresAt": iso(),
            "createdAt": iso(),
            "updatedAt": iso(),
            "ipAddress": { "type": "string" },
            "userAgent": { "type": "string" },
        },
    });
    let two_factor = two_factor_schemas(&auth_response);
    let mut all = json!({
        "Error": {
            "type": "object",
            "required": ["message", "code"],
            "properties": {
                "message": { "type": "string", "description": "Human-readable" },
                "code": { "type": "string", "description": "Machine-readable" },
            },
        },
        "User": {
            "type": "object",
            "required": ["id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt"],
            "properties": {
                "id": { "type": "string" },
                "name": { "type": "string" },
                "email": { "type": "string", "format": "email" },
                "emailVerified": { "type": "boolean" },
                "twoFactorEnabled": { "type": "boolean", "description": "Whether sign-in asks for a second factor" },
                "image": nullable("string"),
                "createdAt": iso(),
                "updatedAt": iso(),
            },
        },
        "Session": session,
        "ListedSession": {
            "allOf": [
                r("Session"),
                {
                    "type": "object",
                    "required": ["current"],
                    "properties": { "current": { "type": "boolean", "description": "The caller's own session" } },
                },
            ],
        },
        "SignUpRequest": {
            "type": "object",
            "required": ["name", "email", "password"],
            "properties": {
                "name": { "type": "string", "maxLength": MAX_NAME_CHARS, "description": "No control characters; if not empty, at least one visible character (not only whitespace, invisible or bidirectional-control characters)" },
                "email": { "type": "string", "format": "email", "maxLength": 254 },
                "password": password,
                "image": { "type": ["string", "null"], "maxLength": MAX_IMAGE_LEN },
                "callbackURL": callback,
                "rememberMe": remember,
                "refreshToken": refresh_token_flag,
            },
        },
        "SignInRequest": {
            "type": "object",
            "required": ["email", "password"],
            "properties": {
                "email": { "type": "string", "format": "email", "maxLength": 254 },
                "password": { "type": "string", "maxLength": MAX_PASSWORD_LEN },
                "callbackURL": callback,
                "rememberMe": remember,
                "refreshToken": refresh_token_flag,
            },
        },
        "SignOutRequest": {
            "type": "object",
            "properties": {
                "refresh_token": { "type": ["string", "null"], "description": "Also end the \
    session held by this refresh credential" },
            },
        },
        "EmptyRequest": { "type": "object", "description": "No fields are read" },
        "RevokeSessionRequest": {
            "type": "object",
            "required": ["token"],
            "properties": {
                "token": { "type": "string", "description": "A session id from list-sessions \
    or a raw session token; the answer is the same whether or not it matched" },
            },
        },
        "ChangePasswordRequest": {
            "type": "object",
            "required": ["newPassword", "currentPassword"],
            "properties": {
                "newPassword": password,
                "currentPassword": { "type": "string", "maxLength": MAX_PASSWORD_LEN },
                "revokeOtherSessions": { "type": ["boolean", "null"], "default": false,
                    "description": "Also replace the current session (other sessions always end)" },
            },
        },
        "RefreshRequest": {
            "type": "object",
            "required": ["refresh_token"],
            "properties": { "refresh_token": { "type": "string" } },
        },
        "SignUpResponse": auth_response,
        "SignInResponse": {
            "oneOf": [sign_in_response, r("TwoFactorRedirect")],
            "description": "A session, or (for a user with two-factor) the challenge: no session, the `two_factor` cookie",
        },
        "ChangePasswordResponse": {
            "type": "object",
            "required": ["token", "user"],
            "properties": {
                "token": { "type": ["string", "null"], "description": "A new session token when revokeOtherSessions was true" },
                "user": r("User"),
            },
        },
        "SessionWithUser": {
            "type": "object",
            "required": ["session", "user"],
            "properties": { "session": r("Session"), "user": r("User") },
        },
        "GetSessionResponse": {
            "oneOf": [ { "type": "null" }, r("SessionWithUser") ],
            "description": "null without a live session",
        },
        "SessionList": { "type": "array", "items": r("ListedSession") },
        "TokenResponse": {
            "type": "object",
            "required": ["token"],
            "properties": { "token": { "type": "string", "description": "JWT access token" } },
        },
        "RefreshResponse": {
            "type": "object",
            "required": ["access_token", "token_type", "expires_in", "refresh_token"],
            "properties": token_fields,
        },
        "Jwks": {
            "type": "object",
            "required": ["keys"],
            "properties": {
                "keys": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kty", "kid"],
                        "properties": {
                            "kty": { "type": "string" },
                            "kid": { "type": "string" },
                            "alg": { "type": "string" },
                        },
                    },
                },
            },
        },
        "Revocations": {
            "type": "object",
            "required": ["sessions", "window_seconds", "cursor", "more"],
            "properties": {
                "sessions": { "type": "array", "items": { "type": "string" }, "maxItems": 1000, "description": "Ids \
    of sessions ended within the window, oldest first" },
                "window_seconds": { "type": "integer" },
                "cursor": { "type": "string", "description": "Pass as `since` on the next call" },
                "more": { "type": "boolean", "description": "More ids are waiting: call again at once" },
            },
        },
        "StatusTrue": {
            "type": "object", "required": ["status"],
            "properties": { "status": { "const": true } },
        },
        "SuccessTrue": {
            "type": "object", "required": ["success"],
            "properties": { "success": { "const": true } },
        },
        "OkTrue": {
            "type": "object", "required": ["ok"],
            "properties": { "ok": { "const": true } },
        },
        "Health": {
            "type": "object", "required": ["status"],
            "properties": { "status": { "const": "ok" } },
        },
        "Ready": {
            "type": "object", "required": ["status", "push"],
            "properties": {
                "status": { "const": "ready" },
                "push": { "enum": ["none", "listening", "polling"] },
                "rate_limits": { "enum": ["shared", "local"] },
            },
        },
        "Task": {
            "type": "object",
            "required": ["id", "userId", "title", "description", "completed", "createdAt", "updatedAt"],
            "properties": {
                "id": { "type": "string" },
                "userId": { "type": "string" },
                "title": { "type": "string", "minLength": 1, "maxLength": MAX_TITLE_CHARS },
                "description": { "type": "string", "maxLength": MAX_DESCRIPTION_CHARS },
                "completed": { "type": "boolean" },
                "createdAt": iso(),
                "updatedAt": iso(),
            },
        },
        "TaskList": { "type": "array", "items": r("Task") },
        "DeletedTasks": {
            "type": "object", "required": ["deleted"],
            "properties": { "deleted": { "type": "integer", "minimum": 0 } },
        },
        "CreateTaskRequest": {
            "type": "object",
            "required": ["title"],
            "properties": {
                "title": title(),
                "description": { "type": ["string", "null"], "maxLength": MAX_DESCRIPTION_CHARS,
                    "pattern": DESCRIPTION_PATTERN,
                    "description": "Up to 2000 characters; no control characters but tab and newlines" },
            },
        },
        "UpdateTaskRequest": update_task,
    });
    if let (Some(all), Some(more)) = (all.as_object_mut(), two_factor.as_object()) {
        all.extend(more.clone());
    }
    if let (Value::Object(all), Value::Object(email)) = (&mut all, email_schemas(&password)) {
        all.extend(email);
    }
    if let (Value::Object(all), Value::Object(more)) = (&mut all, social()) {
        all.extend(more);
    }
    if let (Value::Object(all), Value::Object(more)) = (&mut all, email_sign_in_schemas()) {
        all.extend(more);
    }
    if let (Value::Object(all), Value::Object(more)) = (&mut all, reset_code_schemas()) {
        all.extend(more);
    }
    if let (Value::Object(all), Value::Object(more)) = (&mut all, passkeys(&auth_response)) {
        all.extend(more);
    }
    all
}

/// The schemas of the passkey routes (Better Auth's `passkey` plugin).
fn passkeys(auth_response: &Value) -> Value {
    let b64url = json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]*$" });
    let descriptor = json!({
        "type": "object",
        "required": ["type", "id"],
        "properties": {
            "type": { "const": "public-key" },
            "id": b64url,
            "transports": { "type": "array", "items": { "type": "string" } },
        },
    });
    json!({
        "PasskeyCreationOptions": {
            "type": "object",
            "description": "PublicKeyCredentialCreationOptionsJSON (WebAuthn Level 3), as \
                SimpleWebAuthn's startRegistration takes it",
            "required": ["rp", "user", "challenge", "pubKeyCredParams"],
            "properties": {
                "rp": { "type": "object", "required": ["id", "name"],
                    "properties": { "id": { "type": "string" }, "name": { "type": "string" } } },
                "user": { "type": "object", "required": ["id", "name", "displayName"],
                    "properties": { "id": b64url, "name": { "type": "string" },
                        "displayName": { "type": "string" } } },
                "challenge": b64url,
                "pubKeyCredParams": { "type": "array", "items": { "type": "object",
                    "properties": { "type": { "const": "public-key" }, "alg": { "type": "integer" } } } },
                "timeout": { "type": "integer" },
                "excludeCredentials": { "type": "array", "items": descriptor },
                "authenticatorSelection": { "type": "object" },
                "attestation": { "type": "string" },
            },
        },
        "PasskeyRequestOptions": {
            "type": "object",
            "description": "PublicKeyCredentialRequestOptionsJSON, as SimpleWebAuthn's \
                startAuthentication takes it (discoverable: no allowCredentials)",
            "required": ["challenge", "rpId"],
            "properties": {
                "challenge": b64url,
                "rpId": { "type": "string" },
                "timeout": { "type": "integer" },
                "userVerification": { "type": "string" },
            },
        },
        "PasskeyVerifyRegistrationRequest": {
            "type": "object",
            "required": ["response"],
            "properties": {
                "response": { "type": "object", "description": "RegistrationResponseJSON \
                    (id, rawId, type, response.{clientDataJSON, attestationObject, transports})" },
                "name": { "type": ["string", "null"], "minLength": 1, "maxLength": 100 },
                "createSession": { "type": ["boolean", "null"],
                    "description": "Accepted and ignored: registration needs a session here" },
            },
        },
        "PasskeyVerifyAuthenticationRequest": {
            "type": "object",
            "required": ["response"],
            "properties": {
                "response": { "type": "object", "description": "AuthenticationResponseJSON \
                    (id, rawId, type, response.{clientDataJSON, authenticatorData, signature, userHandle})" },
            },
        },
        "PasskeySignInResponse": {
            "oneOf": [auth_response, r("TwoFactorRedirect")],
        },
        "Passkey": {
            "type": "object",
            "required": ["id", "userId", "credentialID", "publicKey", "counter", "deviceType",
                "backedUp", "transports", "createdAt"],
            "properties": {
                "id": { "type": "string" },
                "name": { "type": ["string", "null"] },
                "userId": { "type": "string" },
                "credentialID": b64url,
                "publicKey": { "type": "string", "description": "COSE key, standard base64" },
                "counter": { "type": "integer", "minimum": 0 },
                "deviceType": { "enum": ["singleDevice", "multiDevice"] },
                "backedUp": { "type": "boolean" },
                "transports": { "type": "string", "description": "Comma-separated" },
                "createdAt": { "type": "string", "format": "date-time" },
                "aaguid": { "type": ["string", "null"] },
            },
        },
        "PasskeyList": { "type": "array", "items": r("Passkey") },
        "PasskeyUpdateRequest": {
            "type": "object",
            "required": ["id", "name"],
            "properties": {
                "id": { "type": "string" },
                "name": { "type": "string", "minLength": 1, "maxLength": 100 },
            },
        },
        "PasskeyUpdateResponse": {
            "type": "object",
            "required": ["passkey"],
            "properties": { "passkey": r("Passkey") },
        },
        "PasskeyDeleteRequest": {
            "type": "object",
            "required": ["id"],
            "properties": { "id": { "type": "string" } },
        },
    })
}

/// The schemas of the password reset by emailed code.
fn reset_code_schemas() -> Value {
    let email = json!({ "type": "string", "format": "email" });
    json!({
        "RequestPasswordResetEmailOtpRequest": {
            "type": "object",
            "required": ["email"],
            "properties": { "email": email },
        },
        "ResetPasswordEmailOtpRequest": {
            "type": "object",
            "required": ["email", "otp", "password"],
            "properties": { "email": email,
                "otp": { "type": "string", "maxLength": 64, "description": "The 6 digits from the message" },
                "password": { "type": "string", "minLength": 8, "maxLength": 128 } },
        },
    })
}

/// The schemas of the passwordless email routes (`email_sign_in`) and the two-factor email
/// code.
fn email_sign_in_schemas() -> Value {
    let email = json!({ "type": "string", "format": "email" });
    let code = json!({ "type": "string", "maxLength": 64, "description": "The 6 digits from the message" });
    let url = |what: &str| json!({ "type": "string", "description": what });
    json!({
        "TrustDeviceRequest": {
            "type": "object",
            "properties": { "trustDevice": { "type": ["boolean", "null"],
                "description": "Read by verify-otp, not here (Better Auth's client may send it)" } },
        },
        "MagicLinkRequest": {
            "type": "object",
            "required": ["email"],
            "properties": {
                "email": email,
                "name": { "type": "string", "maxLength": MAX_NAME_CHARS,
                    "description": "The display name of the account the link creates, when the address has none (sign-up's rules)" },
                "callbackURL": url("Where the browser goes once signed in: a path or a trusted origin (default /)"),
                "newUserCallbackURL": url("Where a sign-up by the link lands (default: callbackURL)"),
                "errorCallbackURL": url("Where a failed link sends the browser, with ?error=CODE (default: callbackURL)"),
                "metadata": { "type": "object" },
            },
        },
        "MagicLinkVerifyRequest": {
            "type": "object",
            "required": ["token"],
            "properties": {
                "token": { "type": "string" },
                "callbackURL": url("With it: 303 there once signed in; without: the JSON answer"),
                "newUserCallbackURL": url("With callbackURL: where a sign-up lands instead"),
                "errorCallbackURL": url("Where a failure sends the browser, with ?error=CODE"),
            },
        },
        "SendVerificationOtpRequest": {
            "type": "object",
            "required": ["email", "type"],
            "properties": {
                "email": email,
                "type": { "enum": ["sign-in", "email-verification", "forget-password", "change-email"],
                    "description": "sign-in, email-verification and forget-password are served; change-email answers 400" },
            },
        },
        "SignInEmailOtpRequest": {
            "type": "object",
            "required": ["email", "otp"],
            "properties": { "email": email, "otp": code,
                "name": { "type": "string", "maxLength": MAX_NAME_CHARS,
                    "description": "The display name of the account a sign-up code creates (sign-up's rules)" },
                "rememberMe": { "type": ["boolean", "null"] } },
        },
        "VerifyEmailOtpRequest": {
            "type": "object",
            "required": ["email", "otp"],
            "properties": { "email": email, "otp": code },
        },
        "CheckVerificationOtpRequest": {
            "type": "object",
            "required": ["email", "type", "otp"],
            "properties": { "email": email, "otp": code,
                "type": { "enum": ["sign-in", "email-verification", "forget-password"] } },
        },
        "SuccessTrue": {
            "type": "object", "required": ["success"],
            "properties": { "success": { "const": true } },
        },
        "VerifyEmailOtpResponse": {
            "type": "object", "required": ["status", "token", "user"],
            "properties": { "status": { "const": true },
                "token": { "type": "null", "description": "Never a session (Tessera does not sign in on verification)" },
                "user": r("User") },
        },
    })
}

/// The schemas of sign-in with identity providers and linking.
fn social() -> Value {
    let url = |what: &str| {
        json!({
            "type": "string",
            "description": format!("{what}; a relative path or a URL on a trusted origin (else 403 INVALID_CALLBACK_URL)"),
        })
    };
    let scopes = json!({ "type": "array", "items": { "type": "string" }, "maxItems": 32, "description": "Scopes asked for besides the provider's defaults" });
    json!({
        "SocialSignInRequest": {
            "type": "object",
            "required": ["provider"],
            "properties": {
                "provider": { "type": "string", "description": "A configured provider id (`github`, `google`, or the id of an OpenID Connect provider)" },
                "callbackURL": url("Where to go after signing in (default `/`)"),
                "newUserCallbackURL": url("Where a new user goes"),
                "errorCallbackURL": url("Where a failed flow goes, with `?error=<code>`"),
                "disableRedirect": { "type": "boolean", "description": "true: no `Location` header, `redirect: false`" },
                "scopes": scopes,
                "loginHint": { "type": "string", "maxLength": 254 },
                "idToken": { "description": "Not supported: sign-in with a bare ID token answers 404 ID_TOKEN_NOT_SUPPORTED" },
            },
        },
        "LinkSocialRequest": {
            "type": "object",
            "required": ["provider"],
            "properties": {
                "provider": { "type": "string" },
                "callbackURL": url("Where to go after linking (default `/`)"),
                "errorCallbackURL": url("Where a failed flow goes, with `?error=<code>`"),
                "disableRedirect": { "type": "boolean" },
                "scopes": scopes,
            },
        },
        "SocialRedirect": {
            "type": "object",
            "required": ["url", "redirect"],
            "properties": {
                "url": { "type": "string", "description": "The provider's authorization URL" },
                "redirect": { "type": "boolean" },
            },
        },
        "Account": {
            "type": "object",
            "required": ["id", "providerId", "accountId", "userId", "createdAt", "updatedAt", "scopes"],
            "properties": {
                "id": { "type": "string", "description": "What `unlink-account` takes as `accountId`" },
                "providerId": { "type": "string", "description": "`credential` for the password, else the provider id" },
                "accountId": { "type": "string", "description": "The subject at the provider" },
                "userId": { "type": "string" },
                "createdAt": iso(),
                "updatedAt": iso(),
                "scopes": { "type": "array", "items": { "type": "string" } },
            },
        },
        "AccountList": { "type": "array", "items": r("Account") },
        "UnlinkAccountRequest": {
            "type": "object",
            "required": ["accountId"],
            "properties": { "accountId": { "type": "string", "description": "An `id` from `list-accounts`" } },
        },
        "ProviderList": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name"],
                "properties": { "id": { "type": "string" }, "name": { "type": "string" } },
            },
        },
    })
}

/// The schemas of the two-factor routes (kept apart: one `json!` for all would pass the
/// macro's recursion limit).
fn two_factor_schemas(auth_response: &Value) -> Value {
    json!({
        "TwoFactorRedirect": {
            "type": "object",
            "required": ["twoFactorRedirect", "twoFactorMethods"],
            "properties": {
                "twoFactorRedirect": { "const": true },
                "twoFactorMethods": { "type": "array", "items": { "type": "string", "enum": ["totp", "otp"] } },
            },
        },
        "TwoFactorPasswordRequest": {
            "type": "object",
            "properties": {
                "password": { "type": "string", "maxLength": MAX_PASSWORD_LEN,
                    "description": "Required when the account has a password; an account without one needs a session begun within the fresh age instead (403 SESSION_NOT_FRESH)" },
                "issuer": { "type": ["string", "null"], "maxLength": 100, "description": "The name authenticator apps show (default: Tessera)" },
            },
        },
        "TwoFactorEnableResponse": {
            "type": "object",
            "required": ["method", "totpURI", "totpQR", "backupCodes"],
            "properties": {
                "method": { "const": "totp" },
                "totpURI": { "type": "string", "description": "otpauth://totp/… with the base32 key" },
                "totpQR": { "type": "string", "description": "The URI as an SVG QR code" },
                "backupCodes": { "type": "array", "items": { "type": "string" }, "minItems": 10, "maxItems": 10 },
            },
        },
        "TotpUriResponse": {
            "type": "object",
            "required": ["totpURI", "totpQR"],
            "properties": { "totpURI": { "type": "string" }, "totpQR": { "type": "string" } },
        },
        "BackupCodesResponse": {
            "type": "object",
            "required": ["status", "backupCodes"],
            "properties": {
                "status": { "const": true },
                "backupCodes": { "type": "array", "items": { "type": "string" }, "minItems": 10, "maxItems": 10 },
            },
        },
        "VerifyCodeRequest": {
            "type": "object",
            "required": ["code"],
            "properties": {
                "code": { "type": "string", "maxLength": 64 },
                "trustDevice": { "type": ["boolean", "null"], "default": false,
                    "description": "Trust this browser for 30 days (a rotating cookie)" },
            },
        },
        "TwoFactorVerifyResponse": auth_response,
        "TwoFactorStatus": {
            "type": "object",
            "required": ["enabled", "pending", "backupCodesLeft", "amr"],
            "properties": {
                "enabled": { "type": "boolean" },
                "pending": { "type": "boolean", "description": "An enrolment awaits its first code" },
                "backupCodesLeft": { "type": "integer", "minimum": 0 },
                "amr": { "type": "array", "items": { "type": "string" }, "description": "How this session was authenticated (RFC 8176)" },
            },
        },
        "RevokedDevices": {
            "type": "object",
            "required": ["status", "revoked"],
            "properties": { "status": { "const": true }, "revoked": { "type": "integer", "minimum": 0 } },
        },
    })
}

/// The schemas of the email routes (`accounts`), apart to keep `json!` within its recursion
/// limit.
fn email_schemas(password: &Value) -> Value {
    json!({
        "SendVerificationEmailRequest": {
            "type": "object",
            "required": ["email"],
            "properties": {
                "email": { "type": "string", "format": "email" },
                "callbackURL": { "type": "string",
                    "description": "Where the link sends the browser afterwards: a path or a trusted origin (default: the UI's /verify-email)" },
            },
        },
        "RequestPasswordResetRequest": {
            "type": "object",
            "required": ["email"],
            "properties": {
                "email": { "type": "string", "format": "email" },
                "redirectTo": { "type": "string",
                    "description": "The page that receives `?token=` (a path or a trusted origin; default: the UI's /reset-password)" },
            },
        },
        "ResetPasswordRequest": {
            "type": "object",
            "required": ["newPassword"],
            "properties": {
                "newPassword": password,
                "token": { "type": "string", "description": "The token from the reset link (or `?token=`)" },
            },
        },
        "ChangeEmailRequest": {
            "type": "object",
            "required": ["newEmail"],
            "properties": {
                "newEmail": { "type": "string", "format": "email" },
                "callbackURL": { "type": "string" },
                "password": { "type": "string", "maxLength": MAX_PASSWORD_LEN,
                    "description": "Tessera: the current password; required unless the session is younger than 15 minutes" },
            },
        },
        "UpdateUserRequest": {
            "type": "object",
            "properties": {
                "name": { "type": "string", "maxLength": MAX_NAME_CHARS },
                "image": { "type": ["string", "null"], "maxLength": MAX_IMAGE_LEN },
            },
        },
        "StatusMessage": {
            "type": "object", "required": ["status", "message"],
            "properties": { "status": { "const": true }, "message": { "type": "string" } },
        },
        "VerifyEmailResponse": {
            "type": "object", "required": ["status", "user"],
            "properties": { "status": { "const": true },
                "user": { "oneOf": [ { "type": "null" }, r("User") ],
                    "description": "The user after a change of address; null otherwise" } },
        },
    })
}
