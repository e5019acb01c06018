//! Typed errors and their HTTP answers (RFC 6750 §3).

use http::StatusCode;

/// Why a request's token was not accepted.
///
/// Every variant maps to one HTTP answer ([`VerifyError::status`],
/// [`VerifyError::www_authenticate`], [`VerifyError::code`], [`VerifyError::message`]):
///
/// | variant | status | `WWW-Authenticate` |
/// |---|---|---|
/// | [`Missing`](Self::Missing) | 401 | `Bearer` |
/// | [`InvalidRequest`](Self::InvalidRequest) | 400 | `Bearer error="invalid_request"` |
/// | [`KeysUnavailable`](Self::KeysUnavailable) | 503 (+ `Retry-After`) | — |
/// | everything else | 401 | `Bearer error="invalid_token"` |
///
/// The `Display` text (and the `&'static str` details) are meant for logs. They never contain
/// the token. The public [`message`](Self::message) is generic on purpose.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization` header, or one that does not use the `Bearer` scheme.
    #[error("no bearer credentials")]
    Missing,
    /// The request is ambiguous, e.g. it carries more than one `Authorization` header.
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// Not a well-formed compact JWS, or its header is one we refuse to process
    /// (`jwk`, `jku`, `x5u`, `x5c`, `crit`, duplicate members, non-UTF-8 JSON, ...).
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The signature does not verify with the key the token names.
    #[error("bad signature")]
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` contains none of the configured audiences.
    #[error("wrong audience")]
    WrongAudience,
    /// The header's `typ` names something other than an access token.
    #[error("wrong token type")]
    WrongType,
    /// No configured key matches the token (`kid` unknown, or missing where a key set needs it).
    #[error("unknown signing key")]
    UnknownKey,
    /// The header's `alg` is not the algorithm of the key it names (or not one we support).
    #[error("algorithm not allowed")]
    AlgorithmNotAllowed,
    /// A required claim is absent.
    #[error("missing claim `{0}`")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type or an unacceptable value.
    #[error("invalid claim `{0}`")]
    InvalidClaim(&'static str),
    /// The [`RevocationCheck`](crate::RevocationCheck) says the token (its session) is revoked.
    #[error("token revoked")]
    Revoked,
    /// The remote key set could not be fetched and none was ever loaded: fail closed.
    #[error("signing keys unavailable")]
    KeysUnavailable {
        /// Seconds after which a retry may succeed (sent as `Retry-After`).
        retry_after_secs: u64,
    },
}

/// `WWW-Authenticate` value when no credentials were sent (RFC 6750 §3: no `error=`).
pub(crate) const CHALLENGE_NO_CREDENTIALS: &str = "Bearer";
/// `WWW-Authenticate` value for a token that was sent but is not acceptable.
pub(crate) const CHALLENGE_INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";
/// `WWW-Authenticate` value for an ambiguous request.
pub(crate) const CHALLENGE_INVALID_REQUEST: &str = "Bearer error=\"invalid_request\"";

impl VerifyError {
    /// The HTTP status this error answers with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::KeysUnavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The `WWW-Authenticate` header value, if the answer carries one.
    #[must_use]
    pub fn www_authenticate(&self) -> Option<&'static str> {
        match self {
            Self::Missing => Some(CHALLENGE_NO_CREDENTIALS),
            Self::InvalidRequest(_) => Some(CHALLENGE_INVALID_REQUEST),
            Self::KeysUnavailable { .. } => None,
            _ => Some(CHALLENGE_INVALID_TOKEN),
        }
    }

    /// The stable machine-readable `code` of the JSON body.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "UNAUTHORIZED",
            Self::InvalidRequest(_) => "INVALID_REQUEST",
            Self::KeysUnavailable { .. } => "SERVICE_UNAVAILABLE",
            _ => "INVALID_TOKEN",
        }
    }

    /// The generic, client-facing `message` of the JSON body. It never says more than
    /// "expired" about which check failed.
    #[must_use]
    pub fn message(&self) -> &'static str {
        match self {
            Self::Missing => "Unauthorized",
            Self::InvalidRequest(_) => "Invalid request",
            Self::KeysUnavailable { .. } => "Service unavailable",
            Self::Expired => "Token expired",
            _ => "Invalid token",
        }
    }

    /// `Retry-After` seconds for [`KeysUnavailable`](Self::KeysUnavailable), else `None`.
    #[must_use]
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::KeysUnavailable { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The JSON body `{"message": ..., "code": ...}` of the answer.
    #[must_use]
    pub fn body(&self) -> String {
        json_body(self.message(), self.code())
    }
}

/// `{"message": ..., "code": ...}`; both parts are fixed ASCII strings from this crate, so
/// they need no escaping, but they go through `serde_json` anyway to keep it obviously right.
pub(crate) fn json_body(message: &str, code: &str) -> String {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        message: &'a str,
        code: &'a str,
    }
    serde_json::to_string(&Body { message, code })
        .unwrap_or_else(|_| String::from(r#"{"message":"Error","code":"ERROR"}"#))
}

/// A verifier could not be built: the configuration is unsafe or incomplete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No issuer was configured (`.issuer(..)` is required).
    #[error("an issuer is required")]
    MissingIssuer,
    /// No audience was configured (`.audience(..)` is required).
    #[error("at least one audience is required")]
    MissingAudience,
    /// The issuer or an audience is the empty string.
    #[error("issuer and audiences must not be empty")]
    EmptyIssuerOrAudience,
    /// None of `.hs256_secret`, `.jwks*`, `.remote_jwks` was called.
    #[error("a key source is required (hs256_secret, jwks or remote_jwks)")]
    MissingKeySource,
    /// More than one key source was configured.
    #[error("exactly one key source may be configured")]
    MultipleKeySources,
    /// The HS256 secret is shorter than 32 bytes.
    #[error("the HS256 secret must be at least 32 bytes (got {0})")]
    WeakSecret(usize),
    /// The leeway is above 300 seconds.
    #[error("leeway must be at most 300 seconds")]
    LeewayTooLarge,
    /// A duration setting is out of range (the name says which).
    #[error("invalid setting `{0}`")]
    InvalidSetting(&'static str),
    /// The JWKS document could not be parsed.
    #[error("invalid JWKS: {0}")]
    InvalidJwks(String),
    /// The JWKS holds no key this crate can use.
    #[error("the JWKS contains no usable signing key")]
    NoUsableKeys,
    /// The remote JWKS URL is not an absolute `http`/`https` URL.
    #[error("invalid JWKS URL")]
    InvalidUrl,
    /// The HTTP client for the remote JWKS could not be built.
    #[error("cannot build the HTTP client: {0}")]
    HttpClient(String),
}
