//! Typed, validated settings. The CLI turns flags, environment and files into one of these;
//! tests build them directly. Nothing in here reads the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretSlice};

use crate::http::origin::origin_of;

/// The JWS algorithm access tokens are signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlg {
    /// Ed25519 (default): small keys, fast signatures, published in the JWKS.
    EdDSA,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// RSA PKCS#1 v1.5 with SHA-256, 2048-bit keys.
    RS256,
    /// HMAC-SHA256 with a shared secret; nothing is published.
    HS256,
}

impl JwtAlg {
    /// The JOSE name.
    pub const fn as_str(self) -> &'static str {
        match self {
            JwtAlg::EdDSA => "EdDSA",
            JwtAlg::ES256 => "ES256",
            JwtAlg::RS256 => "RS256",
            JwtAlg::HS256 => "HS256",
        }
    }
}

impl std::str::FromStr for JwtAlg {
    type Err = SettingsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "EdDSA" => Ok(JwtAlg::EdDSA),
            "ES256" => Ok(JwtAlg::ES256),
            "RS256" => Ok(JwtAlg::RS256),
            "HS256" => Ok(JwtAlg::HS256),
            other => Err(SettingsError::UnknownAlgorithm(other.to_owned())),
        }
    }
}

/// How sign-up answers an email that is already registered.
///
/// `Reveal` (the default, as Better Auth): 422 `USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL`, and a
/// new account is signed in at once. Friendly, but anyone can test whether an address has an
/// account (rate-limited per client IP). `Generic`: every sign-up answers 200 with
/// `token: null` and a user object — a real one for a new account, a synthetic one for a
/// taken email — after the same hashing work, and nobody is signed in by sign-up; people sign
/// in afterwards. Use it when the list of your users is itself sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpResponse {
    /// Tell the visitor the email is taken.
    Reveal,
    /// Answer taken and new emails alike.
    Generic,
}

/// Which halves of the product this process serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Auth server, tasks API and UI in one process (default).
    All,
    /// Only the auth server (and UI).
    Auth,
    /// Only the tasks API, verifying tokens issued elsewhere.
    Api(ApiKeys),
}

/// Where a stand-alone tasks API gets its verification keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKeys {
    /// A remote JWKS URL (the auth server's `/api/auth/jwks`).
    Jwks(String),
    /// The HS256 shared secret (`jwt_secret`).
    SharedSecret,
}

/// Everything the server needs to run, in the groups an operator thinks in. Leaf names are
/// the ones `tessera config check` has always printed (its output is the derived `Debug`), so
/// scripts that read it keep working; secrets print as `<redacted>`, database passwords as
/// `***`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listening, public URL, browsers and proxies, connection limits.
    pub http: Http,
    /// Where the data lives and how long to wait for it.
    pub database: Database,
    /// The server secret and access tokens.
    pub tokens: Tokens,
    /// Session and refresh-credential lifetimes.
    pub sessions: Sessions,
    /// Abuse controls and the revocation feed's secret.
    pub security: Security,
    /// Which halves this process serves, and where a stand-alone API learns keys and ended
    /// sessions.
    pub deployment: Deployment,
    /// Mail delivery and the address rules.
    pub email: Email,
    /// Identity providers people sign in with (`[providers.<id>]` in the configuration file).
    pub providers: Providers,
}

/// Identity providers (GitHub, Google, any OpenID Connect provider).
#[derive(Debug, Clone)]
pub struct Providers {
    /// The configured providers, in the order their buttons appear.
    pub list: Vec<Provider>,
    /// How long an authorization request may take, from the sign-in click to the callback.
    pub state_ttl: Duration,
    /// A session younger than this may link or unlink identities (older ones sign in again).
    pub fresh_age: Duration,
    /// Bound on one request to a provider (connect, headers and body).
    pub http_timeout: Duration,
}

/// What protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// GitHub's OAuth 2.0 (not OpenID Connect): the user from `/user`, the verified primary
    /// address from `/user/emails`.
    Github,
    /// OpenID Connect, endpoints and keys found by discovery at the issuer.
    Oidc,
}

/// One identity provider.
#[derive(Debug, Clone)]
pub struct Provider {
    /// The id in `[providers.<id>]`, in `/api/auth/callback/<id>` and in Better Auth's
    /// `signIn.social({provider})`.
    pub id: String,
    /// What it speaks.
    pub kind: ProviderKind,
    /// The button label (default: GitHub, Google, or the id).
    pub name: String,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret registered with the provider.
    pub client_secret: Secret,
    /// OpenID Connect: the issuer, exactly as its discovery document states it (Google's is
    /// built in). Discovery is read from `<issuer>/.well-known/openid-configuration`.
    pub issuer: Option<String>,
    /// GitHub: the authorization endpoint (default `https://github.com/login/oauth/authorize`).
    pub authorization_endpoint: Option<String>,
    /// GitHub: the token endpoint (default `https://github.com/login/oauth/access_token`).
    pub token_endpoint: Option<String>,
    /// GitHub: the REST API root holding `/user` and `/user/emails` (default
    /// `https://api.github.com`).
    pub api_url: Option<String>,
    /// Scopes asked for (default: `openid email profile`, GitHub `read:user user:email`).
    pub scopes: Vec<String>,
}

/// Google's issuer, used when `[providers.google]` names none.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

impl Provider {
    /// A provider with the defaults of its id: `github` and `google` are built in, any other
    /// id is an OpenID Connect provider that needs `issuer`.
    pub fn new(id: &str, client_id: String, client_secret: Secret) -> Self {
        let (kind, name, issuer) = match id {
            "github" => (ProviderKind::Github, "GitHub".to_owned(), None),
            "google" => (
                ProviderKind::Oidc,
                "Google".to_owned(),
                Some(GOOGLE_ISSUER.to_owned()),
            ),
            other => (ProviderKind::Oidc, other.to_owned(), None),
        };
        Self {
            id: id.to_owned(),
            kind,
            name,
            client_id,
            client_secret,
            issuer,
            authorization_endpoint: None,
            token_endpoint: None,
            api_url: None,
            scopes: Vec::new(),
        }
    }

    /// The scopes asked for: the configured ones, or the kind's defaults.
    pub fn scopes(&self) -> Vec<String> {
        if !self.scopes.is_empty() {
            return self.scopes.clone();
        }
        let defaults: &[&str] = match self.kind {
            ProviderKind::Github => &["read:user", "user:email"],
            ProviderKind::Oidc => &["openid", "email", "profile"],
        };
        defaults.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Checks what can be checked without IO; the message names the provider and the key.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let bad =
            |msg: String| SettingsError::BadProvider(format!("[providers.{}] {msg}", self.id));
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 32
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(SettingsError::BadProvider(format!(
                "provider id {:?}: use 1 to 32 of a-z, 0-9, - and _",
                self.id
            )));
        }
        if self.client_id.trim().is_empty() {
            return Err(bad("needs client_id".into()));
        }
        if self.client_secret.expose_secret().is_empty() {
            return Err(bad(
                "needs client_secret (or client_secret_file naming a file that holds it)".into(),
            ));
        }
        match self.kind {
            ProviderKind::Oidc => {
                let Some(issuer) = &self.issuer else {
                    return Err(bad(
                        "needs issuer: an OpenID Connect provider is found by discovery at <issuer>/.well-known/openid-configuration".into(),
                    ));
                };
                check_provider_url(issuer).map_err(|m| bad(format!("issuer {issuer:?} {m}")))?;
                if self.authorization_endpoint.is_some()
                    || self.token_endpoint.is_some()
                    || self.api_url.is_some()
                {
                    return Err(bad(
                        "authorization_endpoint, token_endpoint and api_url are GitHub settings; an OpenID Connect provider's endpoints come from its discovery document".into(),
                    ));
                }
            }
            ProviderKind::Github => {
                if self.issuer.is_some() {
                    return Err(bad(
                        "issuer is for OpenID Connect providers; GitHub's endpoints are authorization_endpoint, token_endpoint and api_url".into(),
                    ));
                }
                for (key, url) in [
                    ("authorization_endpoint", &self.authorization_endpoint),
                    ("token_endpoint", &self.token_endpoint),
                    ("api_url", &self.api_url),
                ] {
                    if let Some(url) = url {
                        check_provider_url(url).map_err(|m| bad(format!("{key} {url:?} {m}")))?;
                    }
                }
            }
        }
        if self
            .scopes
            .iter()
            .any(|s| s.is_empty() || s.contains(|c: char| c.is_whitespace() || c.is_control()))
        {
            return Err(bad("scopes must be non-empty words without spaces".into()));
        }
        Ok(())
    }
}

/// A provider URL must be https, or http on a loopback host (tests, local development).
pub fn check_provider_url(url: &str) -> Result<(), &'static str> {
    let Some(origin) = origin_of(url) else {
        return Err("is not an absolute http(s) URL");
    };
    if url.contains(['?', '#']) {
        return Err("must not carry a query or fragment");
    }
    if origin.starts_with("https://") {
        return Ok(());
    }
    let host = origin.trim_start_matches("http://");
    let host = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    if matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
        Ok(())
    } else {
        Err("must be https (http only on localhost, 127.0.0.1 or [::1])")
    }
}

/// Mail delivery (verification, password reset, change of address) and the address rules.
#[derive(Debug, Clone)]
pub struct Email {
    /// Where mail goes: `smtp://host:port` (plain, a local relay),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465`, or
    /// `file:///dir` (development: each message written as an `.eml` file). `None`: the
    /// email features answer Better Auth's "not enabled" errors. `Debug` hides the password.
    pub smtp_url: Option<DatabaseUrl>,
    /// The sender (`Name <address>`); default `<app name> <no-reply@<base URL host>>`.
    pub email_from: Option<String>,
    /// Sign-up does not sign in, and an unverified address cannot sign in (403
    /// `EMAIL_NOT_VERIFIED`; the link is sent again).
    pub require_email_verification: bool,
    /// Sign-in links by mail (Better Auth's `magicLink`: `sign-in/magic-link`,
    /// `magic-link/verify`); off, those routes answer 404 like unknown ones.
    pub magic_links: bool,
    /// 6-digit codes by mail (Better Auth's `emailOTP`: sign-in and address verification)
    /// and as a second factor (`two-factor/send-otp`, `verify-otp`); off, the `emailOTP`
    /// routes answer 404 like unknown ones and the two-factor ones `OTP_NOT_CONFIGURED`.
    pub email_codes: bool,
    /// The product name users see: sender name, subjects, TOTP issuer, passkey relying party.
    pub app_name: String,
    /// A directory whose `<message>.subject`, `<message>.txt` and `<message>.html` files
    /// replace the built-in texts.
    pub email_templates: Option<PathBuf>,
}

/// Listening, the public URL, browsers and proxies, connection limits.
#[derive(Debug, Clone)]
pub struct Http {
    /// Listen address.
    pub bind: SocketAddr,
    /// Public base URL; its origin is the default issuer, audience and trusted origin.
    pub base_url: String,
    /// Origins allowed to make credentialed cross-origin calls and cookie POSTs (and the
    /// only origins a passkey ceremony is accepted from).
    pub trusted_origins: Vec<String>,
    /// The WebAuthn relying-party id passkeys are bound to (a domain such as `example.com`,
    /// or `localhost`); `None`: the base URL's host. Changing it orphans every passkey.
    pub rp_id: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<crate::http::client_ip::Cidr>,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// How long a new connection may take to send its first byte, and then its request
    /// line and headers.
    pub header_timeout: Duration,
    /// A connection with no request in flight for this long is closed (keep-alive and
    /// HTTP/2 alike).
    pub idle_timeout: Duration,
    /// Most connections open at once; at the bound the longest-idle one is closed to make
    /// room. Keep it below the process's open-file limit.
    pub max_connections: usize,
    /// Serve cleartext HTTP/2 (prior knowledge) beside HTTP/1.1. Off by default: behind a
    /// TLS-terminating proxy nothing needs it.
    pub http2: bool,
}

/// The database.
#[derive(Debug, Clone)]
pub struct Database {
    /// `sqlite://…` or `postgres://…`; `Debug` hides its password.
    pub database_url: DatabaseUrl,
    /// Pool size.
    pub db_max_connections: u32,
    /// How long a request may wait for the database before answering 503.
    pub db_timeout: Duration,
}

/// The server secret and access tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// Server secret (≥ 32 bytes): signs cookies, encrypts private keys.
    pub secret: Secret,
    /// Access-token algorithm.
    pub jwt_alg: JwtAlg,
    /// HS256 shared secret (≥ 32 bytes), required for HS256.
    pub jwt_secret: Option<Secret>,
    /// Access-token lifetime.
    pub access_token_ttl: Duration,
    /// `iss` of issued tokens (default: the base URL's origin; see [`Settings::issuer`]).
    pub issuer: Option<String>,
    /// `aud` of issued tokens (default: the base URL's origin; see [`Settings::audience`]).
    pub audience: Option<String>,
    /// How long a rotated-in signing key is published before it starts signing, so every
    /// instance and remote verifier knows it before the first token needs it.
    pub key_activation_delay: Duration,
}

/// Session and refresh-credential lifetimes.
#[derive(Debug, Clone)]
pub struct Sessions {
    /// Session lifetime (sliding).
    pub session_ttl: Duration,
    /// How often a session's expiry slides forward.
    pub session_update_age: Duration,
    /// Lifetime of `rememberMe: false` sessions (never extended).
    pub short_session_ttl: Duration,
    /// Absolute session lifetime: no session, however active, outlives this.
    pub session_max_lifetime: Duration,
    /// How long after a refresh the same credential may be presented again (lost responses).
    pub refresh_grace: Duration,
}

/// Abuse controls and the revocation feed's secret.
#[derive(Debug, Clone)]
pub struct Security {
    /// Rate limits on sign-in, sign-up, refresh, change-password and token.
    pub rate_limits: crate::http::rate_limit::RateLimits,
    /// How sign-up answers an email that is already registered.
    pub sign_up_response: SignUpResponse,
    /// Threads that hash passwords (each holds 19 MiB of Argon2 memory once used); more
    /// concurrent sign-ins queue. Default: one fewer than the cores, at least one.
    pub hash_concurrency: usize,
    /// The bearer secret (≥ 32 bytes) that callers of `GET /api/auth/revocations` present;
    /// with `Role::Api`, the one this process presents to its feed. Without it the auth
    /// server's feed answers 401 to everyone.
    pub revocations_secret: Option<Secret>,
}

/// Which halves this process serves, and how a stand-alone tasks API follows the auth server.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Which routes this process serves (with `Role::Api`, where its keys come from).
    pub role: Role,
    /// With `Role::Api`: the auth server's revocation feed, polled every second so access
    /// tokens of ended sessions stop working here too. Defaults to `/api/auth/revocations`
    /// beside the JWKS URL (see [`Settings::revocation_feed_url`]).
    pub revocations_url: Option<String>,
    /// With `Role::Api` and a JWKS URL: the least time between two refetches caused by an
    /// unknown key id. Keep it below the auth server's key activation delay.
    pub jwks_cooldown: Duration,
}

/// A value whose `Debug` prints `<redacted>`, so deriving `Debug` on what holds it is safe.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted<T>(pub T);

impl<T> std::fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl<T> std::ops::Deref for Redacted<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A secret of bytes (zeroed on drop, never printed).
pub type Secret = Redacted<SecretSlice<u8>>;

impl From<Vec<u8>> for Secret {
    fn from(bytes: Vec<u8>) -> Self {
        Redacted(bytes.into())
    }
}

/// A URL with credentials (database, SMTP) whose `Debug` hides the password
/// (`postgres://u:***@h/db`).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL, password included.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether several instances may share this database (PostgreSQL), so that state kept
    /// in memory must be shared or pushed: rate-limit buckets, the revocation set, caches.
    /// A SQLite file belongs to one process.
    pub fn shared_by_instances(&self) -> bool {
        !self.0.starts_with("sqlite:")
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&redact_url(&self.0), f)
    }
}

impl std::ops::Deref for DatabaseUrl {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl From<&str> for DatabaseUrl {
    fn from(url: &str) -> Self {
        Self(url.to_owned())
    }
}

/// Hides a password in a database URL (`postgres://u:secret@h/db` → `postgres://u:***@h/db`).
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
        && let Some((user, _)) = creds.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_owned()
}

/// A setting that cannot work, found at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The server secret is too short.
    #[error(
        "the secret must be at least 32 bytes (got {0}); generate one with `openssl rand -base64 48`"
    )]
    SecretTooShort(usize),
    /// HS256 without a long enough shared secret.
    #[error(
        "--jwt-alg HS256 needs --jwt-secret / TESSERA_JWT_SECRET of at least 32 bytes (got {0})"
    )]
    JwtSecretTooShort(usize),
    /// The revocation feed's secret is too short.
    #[error(
        "--revocations-secret / TESSERA_REVOCATIONS_SECRET must be at least 32 bytes (got {0})"
    )]
    RevocationsSecretTooShort(usize),
    /// A stand-alone tasks API would poll a feed without the secret it needs.
    #[error(
        "--role api follows the auth server's revocation feed: set --revocations-secret / TESSERA_REVOCATIONS_SECRET to the auth server's (or --revocations-url none when the issuer has no feed)"
    )]
    RevocationsSecretMissing,
    /// Not one of EdDSA, ES256, RS256, HS256.
    #[error("unknown JWT algorithm {0:?}: use EdDSA, ES256, RS256 or HS256")]
    UnknownAlgorithm(String),
    /// The base URL is not an absolute http(s) URL.
    #[error("the base URL {0:?} must be an absolute http:// or https:// URL")]
    BadBaseUrl(String),
    /// A trusted origin is not `scheme://host[:port]`.
    #[error(
        "trusted origin {0:?} must look like https://app.example.com (scheme, host, optional port, no path)"
    )]
    BadOrigin(String),
    /// A duration outside its allowed range.
    #[error("{0}")]
    BadDuration(String),
    /// Another setting outside its allowed range.
    #[error("{0}")]
    BadSetting(String),
    /// An identity provider missing a setting or holding a wrong one.
    #[error("{0}")]
    BadProvider(String),
}

/// The built-in defaults, in one place: the groups' `Default`s and the CLI's flag defaults
/// are built from these, and a CLI test checks the README and `tessera.example.toml` against
/// them.
pub mod defaults {
    use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
    use std::time::Duration;

    use super::{JwtAlg, Role, SignUpResponse};

    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;

    /// Listen address.
    pub const BIND: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));
    /// A SQLite file in the working directory, created if missing.
    pub const DATABASE_URL: &str = "sqlite://tessera.db";
    /// Access-token algorithm.
    pub const JWT_ALG: JwtAlg = JwtAlg::EdDSA;
    /// Access-token lifetime.
    pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * MINUTE);
    /// How long a rotated-in key is published before it signs.
    pub const KEY_ACTIVATION_DELAY: Duration = Duration::from_secs(60);
    /// Sliding session lifetime.
    pub const SESSION_TTL: Duration = Duration::from_secs(7 * DAY);
    /// How often a session's expiry slides.
    pub const SESSION_UPDATE_AGE: Duration = Duration::from_secs(DAY);
    /// Lifetime of `rememberMe: false` sessions.
    pub const SHORT_SESSION_TTL: Duration = Duration::from_secs(DAY);
    /// Absolute session lifetime.
    pub const SESSION_MAX_LIFETIME: Duration = Duration::from_secs(30 * DAY);
    /// Grace for presenting a rotated refresh credential again.
    pub const REFRESH_GRACE: Duration = Duration::from_secs(10);
    /// Database pool size.
    pub const DB_MAX_CONNECTIONS: u32 = 8;
    /// Longest wait for the database.
    pub const DB_TIMEOUT: Duration = Duration::from_secs(5);
    /// Whole-request timeout.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
    /// First byte, request line and headers of a new connection.
    pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// Idle connections are closed after this.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Connections served at once unless configured (the CLI lowers it to fit the process's
    /// open-file limit).
    pub const MAX_CONNECTIONS: usize = 1024;
    /// Cleartext HTTP/2.
    pub const HTTP2: bool = false;
    /// What the process serves.
    pub const ROLE: Role = Role::All;
    /// How sign-up answers a taken email.
    pub const SIGN_UP_RESPONSE: SignUpResponse = SignUpResponse::Reveal;
    /// Least time between JWKS refetches for an unknown key id.
    pub const JWKS_COOLDOWN: Duration = Duration::from_secs(30);
    /// How long an authorization request at an identity provider may take.
    pub const PROVIDER_STATE_TTL: Duration = Duration::from_secs(10 * MINUTE);
    /// How young a session must be to link or unlink an identity.
    pub const FRESH_AGE: Duration = Duration::from_secs(15 * MINUTE);
    /// Bound on one request to an identity provider.
    pub const PROVIDER_HTTP_TIMEOUT: Duration = Duration::from_secs(10);
    /// The product name in mail, TOTP and passkeys.
    pub const APP_NAME: &str = "Tessera";
    /// Whether an unverified address may sign in.
    pub const REQUIRE_EMAIL_VERIFICATION: bool = false;
    /// Sign-in links by mail (when mail is configured).
    pub const MAGIC_LINKS: bool = true;
    /// Codes by mail (when mail is configured).
    pub const EMAIL_CODES: bool = true;
}

/// Connections served at once unless configured (the CLI lowers it to fit the process's
/// open-file limit).
pub const DEFAULT_MAX_CONNECTIONS: usize = defaults::MAX_CONNECTIONS;

impl Default for Http {
    fn default() -> Self {
        Self {
            bind: defaults::BIND,
            base_url: format!("http://{}", defaults::BIND),
            trusted_origins: Vec::new(),
            rp_id: None,
            trusted_proxies: Vec::new(),
            request_timeout: defaults::REQUEST_TIMEOUT,
            header_timeout: defaults::HEADER_TIMEOUT,
            idle_timeout: defaults::IDLE_TIMEOUT,
            max_connections: defaults::MAX_CONNECTIONS,
            http2: defaults::HTTP2,
        }
    }
}

impl Default for Database {
    fn default() -> Self {
        Self {
            database_url: defaults::DATABASE_URL.into(),
            db_max_connections: defaults::DB_MAX_CONNECTIONS,
            db_timeout: defaults::DB_TIMEOUT,
        }
    }
}

impl Tokens {
    /// The defaults, with the given server secret.
    pub fn new(secret: Vec<u8>) -> Self {
        Self {
            secret: secret.into(),
            jwt_alg: defaults::JWT_ALG,
            jwt_secret: None,
            access_token_ttl: defaults::ACCESS_TOKEN_TTL,
            issuer: None,
            audience: None,
            key_activation_delay: defaults::KEY_ACTIVATION_DELAY,
        }
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            session_ttl: defaults::SESSION_TTL,
            session_update_age: defaults::SESSION_UPDATE_AGE,
            short_session_ttl: defaults::SHORT_SESSION_TTL,
            session_max_lifetime: defaults::SESSION_MAX_LIFETIME,
            refresh_grace: defaults::REFRESH_GRACE,
        }
    }
}

impl Default for Security {
    fn default() -> Self {
        Self {
            rate_limits: crate::http::rate_limit::RateLimits::default(),
            sign_up_response: defaults::SIGN_UP_RESPONSE,
            hash_concurrency: crate::password::pool::default_hash_threads(),
            revocations_secret: None,
        }
    }
}

impl Default for Deployment {
    fn default() -> Self {
        Self {
            role: defaults::ROLE,
            revocations_url: None,
            jwks_cooldown: defaults::JWKS_COOLDOWN,
        }
    }
}

impl Default for Email {
    fn default() -> Self {
        Self {
            smtp_url: None,
            email_from: None,
            require_email_verification: defaults::REQUIRE_EMAIL_VERIFICATION,
            magic_links: defaults::MAGIC_LINKS,
            email_codes: defaults::EMAIL_CODES,
            app_name: defaults::APP_NAME.to_owned(),
            email_templates: None,
        }
    }
}

impl Default for Providers {
    fn default() -> Self {
        Self {
            list: Vec::new(),
            state_ttl: defaults::PROVIDER_STATE_TTL,
            fresh_age: defaults::FRESH_AGE,
            http_timeout: defaults::PROVIDER_HTTP_TIMEOUT,
        }
    }
}

impl Settings {
    /// Defaults for a developer laptop, with the given secret.
    pub fn new_dev(secret: Vec<u8>) -> Self {
        Self {
            http: Http::default(),
            database: Database::default(),
            tokens: Tokens::new(secret),
            sessions: Sessions::default(),
            security: Security::default(),
            deployment: Deployment::default(),
            email: Email::default(),
            providers: Providers::default(),
        }
    }

    /// Checks everything that can be checked without IO.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let n = self.tokens.secret.expose_secret().len();
        if n < 32 {
            return Err(SettingsError::SecretTooShort(n));
        }
        if self.tokens.jwt_alg == JwtAlg::HS256
            || matches!(self.deployment.role, Role::Api(ApiKeys::SharedSecret))
        {
            let n = self
                .tokens
                .jwt_secret
                .as_ref()
                .map_or(0, |s| s.expose_secret().len());
            if n < 32 {
                return Err(SettingsError::JwtSecretTooShort(n));
            }
        }
        if let Some(secret) = &self.security.revocations_secret {
            let n = secret.expose_secret().len();
            if n < 32 {
                return Err(SettingsError::RevocationsSecretTooShort(n));
            }
        } else if matches!(self.deployment.role, Role::Api(_))
            && self.revocation_feed_url().is_some()
        {
            return Err(SettingsError::RevocationsSecretMissing);
        }
        if self.http.max_connections == 0 {
            return Err(SettingsError::BadSetting(
                "--max-connections must be at least 1".into(),
            ));
        }
        origin_of(&self.http.base_url)
            .ok_or_else(|| SettingsError::BadBaseUrl(self.http.base_url.clone()))?;
        for o in &self.http.trusted_origins {
            if origin_of(o).as_deref() != Some(o.trim_end_matches('/')) {
                return Err(SettingsError::BadOrigin(o.clone()));
            }
        }
        if let Some(rp_id) = &self.http.rp_id {
            check_rp_id(rp_id, &self.base_host())?;
        }
        if self.sessions.refresh_grace > Duration::from_secs(10) {
            return Err(SettingsError::BadDuration(
                "the refresh grace window must be at most 10s".into(),
            ));
        }
        if self.sessions.session_max_lifetime < self.sessions.session_ttl {
            return Err(SettingsError::BadDuration(
                "the absolute session lifetime must be at least the session TTL".into(),
            ));
        }
        let app = &self.email.app_name;
        if app.trim().is_empty() || app.chars().count() > 64 || app.chars().any(char::is_control) {
            return Err(SettingsError::BadSetting(
                "--app-name must be 1 to 64 printable characters".into(),
            ));
        }
        for (i, p) in self.providers.list.iter().enumerate() {
            p.validate()?;
            if self.providers.list[..i].iter().any(|q| q.id == p.id) {
                return Err(SettingsError::BadProvider(format!(
                    "provider {:?} is configured twice",
                    p.id
                )));
            }
        }
        if self.tokens.access_token_ttl < Duration::from_secs(10)
            || self.tokens.access_token_ttl > Duration::from_secs(24 * 3600)
        {
            return Err(SettingsError::BadDuration(
                "the access-token TTL must be between 10s and 24h".into(),
            ));
        }
        Ok(())
    }

    /// The base URL's origin (`scheme://host[:port]`).
    pub fn base_origin(&self) -> String {
        origin_of(&self.http.base_url).unwrap_or_else(|| self.http.base_url.clone())
    }

    /// The base URL's host (lower case, no port, no brackets).
    fn base_host(&self) -> String {
        let origin = self.base_origin();
        let authority = origin.split_once("://").map_or(origin.as_str(), |(_, a)| a);
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        };
        host.to_ascii_lowercase()
    }

    /// The WebAuthn relying-party id: `--rp-id`, else the base URL's host.
    pub fn rp_id(&self) -> String {
        self.http
            .rp_id
            .as_deref()
            .map_or_else(|| self.base_host(), str::to_ascii_lowercase)
    }

    /// The revocation feed a stand-alone tasks API polls, if any.
    pub fn revocation_feed_url(&self) -> Option<String> {
        if let Some(url) = &self.deployment.revocations_url {
            // `none`: the issuer publishes no feed (e.g. a Better Auth server)
            return (url != "none").then(|| url.clone());
        }
        match &self.deployment.role {
            Role::Api(ApiKeys::Jwks(jwks)) => Some(match jwks.strip_suffix("/jwks") {
                Some(base) => format!("{base}/revocations"),
                None => format!("{}/api/auth/revocations", origin_of(jwks)?),
            }),
            _ => None,
        }
    }

    /// Whether cookies get the `__Secure-` prefix and `Secure` attribute.
    pub fn secure_cookies(&self) -> bool {
        self.http.base_url.starts_with("https://")
    }

    /// Issuer of access tokens.
    pub fn issuer(&self) -> String {
        self.tokens
            .issuer
            .clone()
            .unwrap_or_else(|| self.base_origin())
    }

    /// Audience of access tokens.
    pub fn audience(&self) -> String {
        self.tokens
            .audience
            .clone()
            .unwrap_or_else(|| self.base_origin())
    }

    /// The trusted origins: the base URL's origin plus the configured ones.
    pub fn all_trusted_origins(&self) -> Vec<String> {
        let mut v = vec![self.base_origin()];
        for o in &self.http.trusted_origins {
            let o = o.trim_end_matches('/').to_owned();
            if !v.contains(&o) {
                v.push(o);
            }
        }
        v
    }
}

/// A relying-party id must be a domain (never an IP address: browsers refuse those) that
/// the base URL's host is, or is a subdomain of, so the web UI can use it.
fn check_rp_id(rp_id: &str, base_host: &str) -> Result<(), SettingsError> {
    let id = rp_id.to_ascii_lowercase();
    let bad = |why: &str| {
        Err(SettingsError::BadSetting(format!(
            "--rp-id {rp_id:?} {why}"
        )))
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if id.len() > 253 || !id.split('.').all(label_ok) {
        return bad("must be a domain name such as example.com or localhost");
    }
    if id.parse::<std::net::IpAddr>().is_ok() || id.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return bad("must be a domain name, not an IP address");
    }
    if base_host != id && !base_host.ends_with(&format!(".{id}")) {
        return bad(&format!(
            "must be the base URL's host ({base_host}) or a parent domain of it"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rp_id_is_a_parent_domain_of_the_base_url_and_never_an_ip() {
        let mut s = Settings::new_dev(vec![7; 32]);
        s.http.base_url = "https://app.example.com".into();
        assert_eq!(s.rp_id(), "app.example.com");
        for ok in ["example.com", "app.example.com", "EXAMPLE.com"] {
            s.http.rp_id = Some(ok.into());
            assert!(s.validate().is_ok(), "{ok}");
        }
        for bad in [
            "other.com",
            "ample.com",
            "127.0.0.1",
            "",
            "a..b",
            "https://example.com",
        ] {
            s.http.rp_id = Some(bad.into());
            assert!(s.validate().is_err(), "{bad}");
        }
        s.http.base_url = "http://localhost:3000".into();
        s.http.rp_id = None;
        assert_eq!(s.rp_id(), "localhost");
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080/api/auth").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin_of("HTTPS://App.Example.com:443/x").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(origin_of("ftp://x"), None);
        assert_eq!(origin_of("http://"), None);
        assert_eq!(origin_of("http://user:pw@host"), None);
    }

    #[test]
    fn short_secrets_are_refused() {
        let s = Settings::new_dev(vec![1; 31]);
        assert!(matches!(
            s.validate(),
            Err(SettingsError::SecretTooShort(31))
        ));
        let mut s = Settings::new_dev(vec![1; 32]);
        s.validate().unwrap_or_else(|e| panic!("{e}"));
        s.tokens.jwt_alg = JwtAlg::HS256;
        assert!(matches!(
            s.validate(),
            Err(SettingsError::JwtSecretTooShort(0))
        ));
        s.tokens.jwt_secret = Some(vec![2; 32].into());
        assert!(s.validate().is_ok());
    }

    #[test]
    fn the_revocation_feed_sits_beside_the_jwks_unless_told_otherwise() {
        let mut s = Settings::new_dev(vec![1; 32]);
        assert_eq!(
            s.revocation_feed_url(),
            None,
            "the auth server has no feed to poll"
        );
        s.deployment.role = Role::Api(ApiKeys::Jwks("http://auth:8080/api/auth/jwks".into()));
        assert_eq!(
            s.revocation_feed_url().as_deref(),
            Some("http://auth:8080/api/auth/revocations")
        );
        s.deployment.role = Role::Api(ApiKeys::Jwks(
            "https://auth.example.com/.well-known/jwks.json".into(),
        ));
        assert_eq!(
            s.revocation_feed_url().as_deref(),
            Some("https://auth.example.com/api/auth/revocations")
        );
        s.deployment.revocations_url = Some("none".into());
        assert_eq!(s.revocation_feed_url(), None);
        s.deployment.revocations_url = Some("http://feed/x".into());
        assert_eq!(s.revocation_feed_url().as_deref(), Some("http://feed/x"));
    }

    #[test]
    fn a_provider_missing_a_setting_refuses_to_start_with_a_message_naming_it() {
        let message = |p: Provider| {
            let mut s = Settings::new_dev(vec![1; 32]);
            s.providers.list = vec![p];
            s.validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let secret = || -> Secret { b"s3cret".to_vec().into() };
        assert!(
            message(Provider::new("acme", "id".into(), secret()))
                .contains("[providers.acme] needs issuer")
        );
        assert!(
            message(Provider::new("github", String::new(), secret()))
                .contains("[providers.github] needs client_id")
        );
        assert!(
            message(Provider::new("google", "id".into(), Vec::new().into()))
                .contains("[providers.google] needs client_secret")
        );
        let mut http = Provider::new("acme", "id".into(), secret());
        http.issuer = Some("http://login.acme.example".into());
        assert!(message(http).contains("must be https"));
        let mut local = Provider::new("acme", "id".into(), secret());
        local.issuer = Some("http://127.0.0.1:9000".into());
        assert_eq!(message(local), "");
        assert!(message(Provider::new("Bad Id", "id".into(), secret())).contains("provider id"));
        let google = Provider::new("google", "id".into(), secret());
        assert_eq!(google.issuer.as_deref(), Some(GOOGLE_ISSUER));
        assert_eq!(message(google), "");
        let mut s = Settings::new_dev(vec![1; 32]);
        s.providers.list = vec![
            Provider::new("github", "a".into(), secret()),
            Provider::new("github", "b".into(), secret()),
        ];
        assert!(s.validate().is_err(), "a provider configured twice");
    }

    #[test]
    fn unknown_algorithms_are_refused() {
        assert!("none".parse::<JwtAlg>().is_err());
        assert!("hs256".parse::<JwtAlg>().is_err());
        assert_eq!("EdDSA".parse::<JwtAlg>().ok(), Some(JwtAlg::EdDSA));
    }

    #[test]
    fn debug_redacts_secrets_and_db_passwords() {
        let mut s = Settings::new_dev(b"super-secret-value-that-is-long-enough".to_vec());
        s.database.database_url = "postgres://app:hunter2@db/tessera".into();
        s.tokens.jwt_secret = Some(b"jwt-secret-value-that-is-long-enough".to_vec().into());
        s.security.revocations_secret =
            Some(b"feed-secret-value-that-is-long-enough".to_vec().into());
        s.providers.list = vec![Provider::new(
            "github",
            "client".into(),
            b"provider-secret".to_vec().into(),
        )];
        for d in [format!("{s:?}"), format!("{s:#?}")] {
            for secret in [
                "super-secret",
                "jwt-secret",
                "feed-secret",
                "hunter2",
                "provider-secret",
            ] {
                assert!(!d.contains(secret), "{secret} printed: {d}");
            }
            assert!(d.contains("postgres://app:***@db/tessera"), "{d}");
            assert_eq!(d.matches("<redacted>").count(), 4, "{d}");
        }
        s.email.smtp_url = Some("smtps://mailer:smtp-pass@mail.test:465".into());
        for d in [format!("{s:?}"), format!("{s:#?}")] {
            assert!(!d.contains("smtp-pass"), "{d}");
            assert!(d.contains("smtps://mailer:***@mail.test:465"), "{d}");
        }
    }
}
