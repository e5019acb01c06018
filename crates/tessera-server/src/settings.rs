//! Typed, validated settings. The CLI turns flags, environment and files into one of these;
//! tests build them directly. Nothing in here reads the environment.

use std::net::SocketAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretSlice};

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
    pub fn as_str(self) -> &'static str {
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

/// Everything the server needs to run.
#[derive(Clone)]
pub struct Settings {
    /// Listen address.
    pub bind: SocketAddr,
    /// `sqlite://…` (or `postgres://…`).
    pub database_url: String,
    /// Public base URL; its origin is the default issuer, audience and trusted origin.
    pub base_url: String,
    /// Server secret (≥ 32 bytes): signs cookies, encrypts private keys.
    pub secret: SecretSlice<u8>,
    /// Access-token algorithm.
    pub jwt_alg: JwtAlg,
    /// HS256 shared secret (≥ 32 bytes), required for HS256.
    pub jwt_secret: Option<SecretSlice<u8>>,
    /// Access-token lifetime.
    pub access_token_ttl: Duration,
    /// `iss` of issued tokens (default: the base URL's origin).
    pub issuer: Option<String>,
    /// `aud` of issued tokens (default: the base URL's origin).
    pub audience: Option<String>,
    /// Origins allowed to make credentialed cross-origin calls and cookie POSTs.
    pub trusted_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<crate::http::client_ip::Cidr>,
    /// Session lifetime (7 days) and how often it slides (1 day).
    pub session_ttl: Duration,
    /// See [`Settings::session_ttl`].
    pub session_update_age: Duration,
    /// Lifetime of `rememberMe: false` sessions (1 day, never extended).
    pub short_session_ttl: Duration,
    /// Absolute session lifetime: no session, however active, outlives this.
    pub session_max_lifetime: Duration,
    /// How long after a refresh the same credential may be presented again (lost responses).
    pub refresh_grace: Duration,
    /// How long a rotated-in signing key is published before it starts signing, so every
    /// instance and remote verifier knows it before the first token needs it.
    pub key_activation_delay: Duration,
    /// Database pool size.
    pub db_max_connections: u32,
    /// How long a request may wait for the database before answering 503.
    pub db_timeout: Duration,
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
    /// Threads that hash passwords (each holds 19 MiB of Argon2 memory once used); more
    /// concurrent sign-ins queue. Default: one fewer than the cores, at least one.
    pub hash_concurrency: usize,
    /// Which routes this process serves.
    pub role: Role,
    /// Rate limits on sign-in, sign-up, refresh, change-password and token.
    pub rate_limits: crate::http::rate_limit::RateLimits,
    /// How sign-up answers an email that is already registered.
    pub sign_up_response: SignUpResponse,
    /// With `Role::Api`: the auth server's revocation feed, polled every second so access
    /// tokens of ended sessions stop working here too. Defaults to `/api/auth/revocations`
    /// beside the JWKS URL.
    pub revocations_url: Option<String>,
    /// The bearer secret (≥ 32 bytes) that callers of `GET /api/auth/revocations` present;
    /// with `Role::Api`, the one this process presents to its feed. Without it the auth
    /// server's feed answers 401 to everyone.
    pub revocations_secret: Option<SecretSlice<u8>>,
    /// With `Role::Api` and a JWKS URL: the least time between two refetches caused by an
    /// unknown key id. Keep it below the auth server's key activation delay.
    pub jwks_cooldown: Duration,
}

impl std::fmt::Debug for Settings {
    /// Every setting, with secrets redacted (this is what `tessera config check` prints).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("base_url", &self.base_url)
            .field("secret", &"<redacted>")
            .field("jwt_alg", &self.jwt_alg)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("access_token_ttl", &self.access_token_ttl)
            .field("issuer", &self.issuer())
            .field("audience", &self.audience())
            .field("trusted_origins", &self.all_trusted_origins())
            .field("trusted_proxies", &self.trusted_proxies)
            .field("session_ttl", &self.session_ttl)
            .field("session_update_age", &self.session_update_age)
            .field("short_session_ttl", &self.short_session_ttl)
            .field("session_max_lifetime", &self.session_max_lifetime)
            .field("refresh_grace", &self.refresh_grace)
            .field("key_activation_delay", &self.key_activation_delay)
            .field("db_max_connections", &self.db_max_connections)
            .field("db_timeout", &self.db_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("header_timeout", &self.header_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .field("http2", &self.http2)
            .field("hash_concurrency", &self.hash_concurrency)
            .field("role", &self.role)
            .field("revocations_url", &self.revocation_feed_url())
            .field(
                "revocations_secret",
                &self.revocations_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("jwks_cooldown", &self.jwks_cooldown)
            .field("rate_limits", &self.rate_limits)
            .field("sign_up_response", &self.sign_up_response)
            .finish()
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
}

/// Connections served at once unless configured (the CLI lowers it to fit the process's
/// open-file limit).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

impl Settings {
    /// Defaults for a developer laptop, with the given secret.
    pub fn new_dev(secret: Vec<u8>) -> Self {
        let bind: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080));
        Self {
            bind,
            database_url: "sqlite://tessera.db".into(),
            base_url: format!("http://{bind}"),
            secret: secret.into(),
            jwt_alg: JwtAlg::EdDSA,
            jwt_secret: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            issuer: None,
            audience: None,
            trusted_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            session_update_age: Duration::from_secs(24 * 3600),
            short_session_ttl: Duration::from_secs(24 * 3600),
            session_max_lifetime: Duration::from_secs(30 * 24 * 3600),
            refresh_grace: Duration::from_secs(10),
            key_activation_delay: Duration::from_secs(60),
            db_max_connections: 8,
            db_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            http2: false,
            hash_concurrency: crate::hashing::default_hash_threads(),
            role: Role::All,
            rate_limits: crate::http::rate_limit::RateLimits::default(),
            sign_up_response: SignUpResponse::Reveal,
            revocations_url: None,
            revocations_secret: None,
            jwks_cooldown: Duration::from_secs(30),
        }
    }

    /// Checks everything that can be checked without IO.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let n = self.secret.expose_secret().len();
        if n < 32 {
            return Err(SettingsError::SecretTooShort(n));
        }
        if self.jwt_alg == JwtAlg::HS256 || matches!(self.role, Role::Api(ApiKeys::SharedSecret)) {
            let n = self
                .jwt_secret
                .as_ref()
                .map_or(0, |s| s.expose_secret().len());
            if n < 32 {
                return Err(SettingsError::JwtSecretTooShort(n));
            }
        }
        if let Some(secret) = &self.revocations_secret {
            let n = secret.expose_secret().len();
            if n < 32 {
                return Err(SettingsError::RevocationsSecretTooShort(n));
            }
        } else if matches!(self.role, Role::Api(_)) && self.revocation_feed_url().is_some() {
            return Err(SettingsError::RevocationsSecretMissing);
        }
        if self.max_connections == 0 {
            return Err(SettingsError::BadSetting(
                "--max-connections must be at least 1".into(),
            ));
        }
        origin_of(&self.base_url)
            .ok_or_else(|| SettingsError::BadBaseUrl(self.base_url.clone()))?;
        for o in &self.trusted_origins {
            if origin_of(o).as_deref() != Some(o.trim_end_matches('/')) {
                return Err(SettingsError::BadOrigin(o.clone()));
            }
        }
        if self.refresh_grace > Duration::from_secs(10) {
            return Err(SettingsError::BadDuration(
                "the refresh grace window must be at most 10s".into(),
            ));
        }
        if self.session_max_lifetime < self.session_ttl {
            return Err(SettingsError::BadDuration(
                "the absolute session lifetime must be at least the session TTL".into(),
            ));
        }
        if self.access_token_ttl < Duration::from_secs(10)
            || self.access_token_ttl > Duration::from_secs(24 * 3600)
        {
            return Err(SettingsError::BadDuration(
                "the access-token TTL must be between 10s and 24h".into(),
            ));
        }
        Ok(())
    }

    /// The base URL's origin (`scheme://host[:port]`).
    pub fn base_origin(&self) -> String {
        origin_of(&self.base_url).unwrap_or_else(|| self.base_url.clone())
    }

    /// The revocation feed a stand-alone tasks API polls, if any.
    pub fn revocation_feed_url(&self) -> Option<String> {
        if let Some(url) = &self.revocations_url {
            // `none`: the issuer publishes no feed (e.g. a Better Auth server)
            return (url != "none").then(|| url.clone());
        }
        match &self.role {
            Role::Api(ApiKeys::Jwks(jwks)) => Some(match jwks.strip_suffix("/jwks") {
                Some(base) => format!("{base}/revocations"),
                None => format!("{}/api/auth/revocations", origin_of(jwks)?),
            }),
            _ => None,
        }
    }

    /// Whether cookies get the `__Secure-` prefix and `Secure` attribute.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    /// Issuer of access tokens.
    pub fn issuer(&self) -> String {
        self.issuer.clone().unwrap_or_else(|| self.base_origin())
    }

    /// Audience of access tokens.
    pub fn audience(&self) -> String {
        self.audience.clone().unwrap_or_else(|| self.base_origin())
    }

    /// The trusted origins: the base URL's origin plus the configured ones.
    pub fn all_trusted_origins(&self) -> Vec<String> {
        let mut v = vec![self.base_origin()];
        for o in &self.trusted_origins {
            let o = o.trim_end_matches('/').to_owned();
            if !v.contains(&o) {
                v.push(o);
            }
        }
        v
    }
}

/// `scheme://host[:port]` of an absolute http(s) URL, lower-cased; `None` if it is not one.
/// Default ports are dropped, as browsers do in the `Origin` header.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) => host.to_owned(),
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        s.jwt_alg = JwtAlg::HS256;
        assert!(matches!(
            s.validate(),
            Err(SettingsError::JwtSecretTooShort(0))
        ));
        s.jwt_secret = Some(vec![2; 32].into());
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
        s.role = Role::Api(ApiKeys::Jwks("http://auth:8080/api/auth/jwks".into()));
        assert_eq!(
            s.revocation_feed_url().as_deref(),
            Some("http://auth:8080/api/auth/revocations")
        );
        s.role = Role::Api(ApiKeys::Jwks(
            "https://auth.example.com/.well-known/jwks.json".into(),
        ));
        assert_eq!(
            s.revocation_feed_url().as_deref(),
            Some("https://auth.example.com/api/auth/revocations")
        );
        s.revocations_url = Some("none".into());
        assert_eq!(s.revocation_feed_url(), None);
        s.revocations_url = Some("http://feed/x".into());
        assert_eq!(s.revocation_feed_url().as_deref(), Some("http://feed/x"));
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
        s.database_url = "postgres://app:hunter2@db/tessera".into();
        let d = format!("{s:?}");
        assert!(!d.contains("super-secret") && !d.contains("hunter2"), "{d}");
    }
}
