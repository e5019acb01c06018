//! The verifier, its builder, and the optional verified-token cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use http::HeaderMap;

use crate::bearer::bearer_token;
use crate::claims::{self, Claims, Rules};
use crate::clock::{Clock, SystemClock};
use crate::error::{ConfigError, VerifyError};
use crate::jws;
use crate::keys::{JwkSet, KeySet, KeySetHandle, VerifyingKey};
#[cfg(feature = "remote-jwks")]
use crate::remote::{RemoteConfig, RemoteJwks};
use crate::revocation::RevocationCheck;

/// Default clock skew tolerated on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// Largest leeway the builder accepts.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);
/// Default longest accepted token lifetime (`exp - iat`, and `exp - now`).
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Default minimum time between two refetches of a remote JWKS caused by unknown `kid`s.
pub const DEFAULT_JWKS_COOLDOWN: Duration = Duration::from_secs(30);
/// Default period of the background refresh of a remote JWKS.
pub const DEFAULT_JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// Default bound on one JWKS fetch (connect, headers and body).
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Default largest JWKS response accepted.
pub const DEFAULT_JWKS_MAX_BYTES: usize = 256 * 1024;
/// How long a verified-token cache entry may be reused at most.
const CACHE_TTL_SECS: i64 = 60;

/// Verifies access tokens. Cheap to clone (an `Arc` inside); `Send + Sync`.
///
/// Build one with [`Verifier::builder`]; see the [crate docs](crate) for examples.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audiences: Vec<String>,
    leeway: i64,
    max_lifetime: i64,
    source: KeySource,
    clock: Arc<dyn Clock>,
    revocation: Option<Arc<dyn RevocationCheck>>,
    cache: Option<TokenCache>,
}

enum KeySource {
    Hs256(VerifyingKey),
    Static(KeySetHandle),
    #[cfg(feature = "remote-jwks")]
    Remote(Arc<RemoteJwks>),
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        let source = match &inner.source {
            KeySource::Hs256(_) => "hs256 (secret redacted)",
            KeySource::Static(_) => "static jwks",
            #[cfg(feature = "remote-jwks")]
            KeySource::Remote(_) => "remote jwks",
        };
        f.debug_struct("Verifier")
            .field("issuer", &inner.issuer)
            .field("audiences", &inner.audiences)
            .field("leeway", &inner.leeway)
            .field("max_lifetime", &inner.max_lifetime)
            .field("source", &source)
            .field("revocation", &inner.revocation.is_some())
            .field("cache", &inner.cache.as_ref().map(|c| c.capacity))
            .finish()
    }
}

/// A key set snapshot, or the single HS256 key, for one verification.
enum Keys<'a> {
    Single(&'a VerifyingKey),
    Set(Arc<KeySet>),
}

impl Verifier {
    /// Starts a builder. Issuer, at least one audience and exactly one key source are required.
    #[must_use]
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// Verifies a compact JWS access token and returns its claims.
    ///
    /// Steps: length bound (8 KiB) → split into exactly three base64url parts → header
    /// (strict JSON, `alg` allow-list, refuses `jwk`/`jku`/`x5u`/`x5c`/`crit`) → the key the
    /// configuration binds to `kid` (its algorithm must equal `alg`) → signature → claims
    /// (strict JSON, `exp` required, `nbf`/`iat`, lifetime, `iss`, `aud`, `sub`) →
    /// revocation hook.
    ///
    /// It is `async` only because an unknown `kid` with a remote JWKS may fetch the set;
    /// with an HS256 secret, a static set, or a known `kid`, it never waits.
    ///
    /// # Errors
    /// A [`VerifyError`] saying which check failed (for logs; clients get generic answers).
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let result = self.verify_inner(token).await;
        if let Err(error) = &result {
            tracing::debug!(%error, "token refused");
        }
        result
    }

    /// Reads the bearer token from `headers` (see [`bearer_token`]) and verifies it.
    ///
    /// # Errors
    /// [`VerifyError::Missing`] without bearer credentials, [`VerifyError::InvalidRequest`]
    /// for several `Authorization` headers, else as [`verify`](Self::verify).
    pub async fn verify_authorization(&self, headers: &HeaderMap) -> Result<Claims, VerifyError> {
        let token = bearer_token(headers)?;
        self.verify(token).await
    }

    /// The handle of a static key set (built with `jwks`, `jwks_json` or `jwks_handle`), so
    /// keys can be replaced on rotation. `None` for other key sources.
    #[must_use]
    pub fn key_set_handle(&self) -> Option<KeySetHandle> {
        match &self.inner.source {
            KeySource::Static(handle) => Some(handle.clone()),
            _ => None,
        }
    }

    /// Fetches a remote JWKS now (ignoring the cooldown; still one fetch at a time), e.g. at
    /// startup so the first request does not wait. Other key sources return their key count.
    ///
    /// # Errors
    /// [`VerifyError::KeysUnavailable`] if the fetch failed (the last good set is kept).
    pub async fn refresh_keys(&self) -> Result<usize, VerifyError> {
        match &self.inner.source {
            KeySource::Hs256(_) => Ok(1),
            KeySource::Static(handle) => Ok(handle.snapshot().len()),
            #[cfg(feature = "remote-jwks")]
            KeySource::Remote(remote) => remote.refresh().await,
        }
    }

    /// Now, by the verifier's clock (Unix seconds): what `exp` and a step-up's `auth_time`
    /// are compared with.
    #[must_use]
    pub fn now_unix(&self) -> i64 {
        self.inner.clock.now_unix()
    }

    /// The configured issuer.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The configured audiences.
    #[must_use]
    pub fn audiences(&self) -> &[String] {
        &self.inner.audiences
    }

    fn rules(&self) -> Rules<'_> {
        Rules {
            issuer: &self.inner.issuer,
            audiences: &self.inner.audiences,
            leeway: self.inner.leeway,
            max_lifetime: self.inner.max_lifetime,
        }
    }

    /// The generation of the keys currently in force (for cache invalidation).
    fn key_generation(&self) -> Option<u64> {
        match &self.inner.source {
            KeySource::Hs256(_) => Some(0),
            KeySource::Static(handle) => Some(handle.snapshot().generation()),
            #[cfg(feature = "remote-jwks")]
            KeySource::Remote(remote) => remote.snapshot().map(|s| s.generation()),
        }
    }

    fn check_revocation(&self, claims: &Claims) -> Result<(), VerifyError> {
        match &self.inner.revocation {
            Some(check) if check.is_revoked(claims) => Err(VerifyError::Revoked),
            _ => Ok(()),
        }
    }

    async fn verify_inner(&self, token: &str) -> Result<Claims, VerifyError> {
        if token.len() > jws::MAX_TOKEN_LEN {
            return Err(VerifyError::Malformed("token too long"));
        }
        let now = self.inner.clock.now_unix();
        if let Some(cache) = &self.inner.cache
            && let Some(claims) = cache.get(token, now, self.key_generation())
        {
            claims::check_times(claims.exp, claims.nbf, claims.iat, now, &self.rules())?;
            self.check_revocation(&claims)?;
            return Ok(claims);
        }

        let parts = jws::split(token)?;
        let header =
            jws::parse_header(&jws::decode_part(parts.header, "header is not base64url")?)?;

        let keys = match &self.inner.source {
            KeySource::Hs256(key) => Keys::Single(key),
            KeySource::Static(handle) => Keys::Set(handle.snapshot()),
            #[cfg(feature = "remote-jwks")]
            KeySource::Remote(remote) => {
                let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
                Keys::Set(remote.key_set_for(kid).await?)
            }
        };
        let (key, generation) = match &keys {
            // The HS256 source has one key; a `kid` in the token is ignored.
            Keys::Single(key) => (*key, 0),
            // A key set needs the token to name its key.
            Keys::Set(set) => {
                let kid = header.kid.as_deref().ok_or(VerifyError::UnknownKey)?;
                (
                    set.get(kid).ok_or(VerifyError::UnknownKey)?,
                    set.generation(),
                )
            }
        };
        // The key fixes the algorithm; the header must agree exactly (RFC 8725 §3.1).
        if key.alg() != header.alg {
            return Err(VerifyError::AlgorithmNotAllowed);
        }
        let signature = jws::decode_part(parts.signature, "signature is not base64url")?;
        if !key.verify(parts.signing_input, &signature) {
            return Err(VerifyError::BadSignature);
        }

        let payload = jws::decode_part(parts.payload, "payload is not base64url")?;
        let raw = jws::parse_object(&payload)
            .map_err(|()| VerifyError::Malformed("payload is not a JSON object"))?;
        let claims = claims::validate(raw, now, &self.rules(), header.kid, header.alg)?;
        self.check_revocation(&claims)?;

        if let Some(cache) = &self.inner.cache {
            cache.insert(token, &claims, now, generation);
        }
        Ok(claims)
    }
}

/// Configures a [`Verifier`]. Every setting is checked in [`build`](Self::build).
///
/// ```
/// use std::time::Duration;
/// use tessera_verify::{ConfigError, Verifier};
///
/// // Issuer and audience are required: a verifier that skips them is easy to misuse.
/// let err = Verifier::builder().hs256_secret([7u8; 32]).build().unwrap_err();
/// assert_eq!(err, ConfigError::MissingIssuer);
///
/// let err = Verifier::builder()
///     .issuer("https://auth.example.com")
///     .audience("https://api.example.com")
///     .leeway(Duration::from_secs(600))
///     .hs256_secret([7u8; 32])
///     .build()
///     .unwrap_err();
/// assert_eq!(err, ConfigError::LeewayTooLarge);
/// ```
pub struct VerifierBuilder {
    issuer: Option<String>,
    audiences: Vec<String>,
    leeway: Duration,
    max_lifetime: Duration,
    sources: Vec<SourceConfig>,
    jwks_cooldown: Duration,
    jwks_refresh_interval: Duration,
    http_timeout: Duration,
    jwks_max_bytes: usize,
    clock: Arc<dyn Clock>,
    revocation: Option<Arc<dyn RevocationCheck>>,
    cache_capacity: Option<usize>,
    deferred: Option<ConfigError>,
}

enum SourceConfig {
    Hs256(Vec<u8>),
    Static(KeySetHandle),
    #[cfg(feature = "remote-jwks")]
    Remote(String),
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        Self {
            issuer: None,
            audiences: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            sources: Vec::new(),
            jwks_cooldown: DEFAULT_JWKS_COOLDOWN,
            jwks_refresh_interval: DEFAULT_JWKS_REFRESH_INTERVAL,
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            jwks_max_bytes: DEFAULT_JWKS_MAX_BYTES,
            clock: Arc::new(SystemClock),
            revocation: None,
            cache_capacity: None,
            deferred: None,
        }
    }
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("leeway", &self.leeway)
            .field("key_sources", &self.sources.len())
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    /// The exact `iss` every token must carry (for Better Auth and Tessera: the origin of the
    /// auth server's base URL, e.g. `https://auth.example.com`). Required.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Adds an accepted audience; a token's `aud` must contain at least one. Repeatable;
    /// at least one is required.
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Adds several accepted audiences.
    #[must_use]
    pub fn audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences.extend(audiences.into_iter().map(Into::into));
        self
    }

    /// Clock skew tolerated on `exp`, `nbf`, `iat` (default 30 s, at most 300 s).
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Longest accepted token lifetime, checked as `exp - iat` and as `exp - now`
    /// (default 24 h). Must be at least one second.
    #[must_use]
    pub fn max_lifetime(mut self, max_lifetime: Duration) -> Self {
        self.max_lifetime = max_lifetime;
        self
    }

    /// Key source: one HS256 shared secret (at least 32 bytes). Tokens must say
    /// `"alg":"HS256"`; a `kid` in their header is ignored.
    #[must_use]
    pub fn hs256_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.sources
            .push(SourceConfig::Hs256(secret.as_ref().to_vec()));
        self
    }

    /// Key source: a fixed key set. Tokens must carry a `kid` naming one of its keys. Get a
    /// handle to swap keys later with [`Verifier::key_set_handle`].
    #[must_use]
    #[expect(
        clippy::needless_pass_by_value,
        reason = "a builder takes its inputs by value; the set is only read"
    )]
    pub fn jwks(mut self, jwks: JwkSet) -> Self {
        self.sources
            .push(SourceConfig::Static(KeySetHandle::new(&jwks)));
        self
    }

    /// Key source: a fixed key set given as a JWKS document.
    #[must_use]
    pub fn jwks_json(mut self, json: &str) -> Self {
        match KeySetHandle::from_json(json) {
            Ok(handle) => self.sources.push(SourceConfig::Static(handle)),
            Err(error) => self.deferred = Some(error),
        }
        self
    }

    /// Key source: a key set shared with the code that rotates it (see [`KeySetHandle`]).
    #[must_use]
    pub fn jwks_handle(mut self, handle: KeySetHandle) -> Self {
        self.sources.push(SourceConfig::Static(handle));
        self
    }

    /// Key source: a JWKS fetched from this URL (e.g. `https://auth.example.com/api/auth/jwks`)
    /// and cached. Keys are never fetched from anywhere a token names.
    #[cfg(feature = "remote-jwks")]
    #[must_use]
    pub fn remote_jwks(mut self, url: impl Into<String>) -> Self {
        self.sources.push(SourceConfig::Remote(url.into()));
        self
    }

    /// Minimum time between refetches of a remote JWKS caused by unknown `kid`s
    /// (default 30 s). Also the `Retry-After` of a 503 when no key set could ever be loaded.
    #[must_use]
    pub fn jwks_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwks_cooldown = cooldown;
        self
    }

    /// Period of the background refresh of a remote JWKS (default 5 min; zero disables it).
    #[must_use]
    pub fn jwks_refresh_interval(mut self, interval: Duration) -> Self {
        self.jwks_refresh_interval = interval;
        self
    }

    /// Bound on one JWKS fetch, from connecting to the end of the body (default 5 s).
    #[must_use]
    pub fn http_timeout(mut self, timeout: Duration) -> Self {
        self.http_timeout = timeout;
        self
    }

    /// Largest JWKS response accepted, enforced while reading (default 256 KiB).
    #[must_use]
    pub fn jwks_max_bytes(mut self, max_bytes: usize) -> Self {
        self.jwks_max_bytes = max_bytes;
        self
    }

    /// Where "now" comes from (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// A hook that can refuse otherwise valid tokens, e.g. [`RevokedSessions`](crate::RevokedSessions).
    #[must_use]
    pub fn revocation(mut self, check: Arc<dyn RevocationCheck>) -> Self {
        self.revocation = Some(check);
        self
    }

    /// Opt-in cache of verified tokens, keyed by the exact token string, holding at most
    /// `capacity` entries. A hit skips parsing and the signature check for up to 60 s (never
    /// past `exp`) while the key set is unchanged; `exp`/`nbf`/`iat` and the revocation hook
    /// are still checked on every hit. Worth it when the same token is presented many times
    /// per minute and verification cost matters (asymmetric keys).
    #[must_use]
    pub fn cache(mut self, capacity: usize) -> Self {
        self.cache_capacity = Some(capacity);
        self
    }

    /// Checks the configuration and builds the verifier.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first problem found.
    pub fn build(self) -> Result<Verifier, ConfigError> {
        if let Some(error) = self.deferred {
            return Err(error);
        }
        let issuer = self.issuer.ok_or(ConfigError::MissingIssuer)?;
        if self.audiences.is_empty() {
            return Err(ConfigError::MissingAudience);
        }
        if issuer.is_empty() || self.audiences.iter().any(String::is_empty) {
            return Err(ConfigError::EmptyIssuerOrAudience);
        }
        if self.leeway > MAX_LEEWAY {
            return Err(ConfigError::LeewayTooLarge);
        }
        if self.max_lifetime < Duration::from_secs(1) {
            return Err(ConfigError::InvalidSetting("max_lifetime"));
        }
        if self.http_timeout.is_zero() {
            return Err(ConfigError::InvalidSetting("http_timeout"));
        }
        if self.jwks_max_bytes == 0 {
            return Err(ConfigError::InvalidSetting("jwks_max_bytes"));
        }
        if self.cache_capacity == Some(0) {
            return Err(ConfigError::InvalidSetting("cache"));
        }
        let mut sources = self.sources.into_iter();
        let source = match (sources.next(), sources.next()) {
            (None, _) => return Err(ConfigError::MissingKeySource),
            (Some(_), Some(_)) => return Err(ConfigError::MultipleKeySources),
            (Some(source), None) => source,
        };
        let source = match source {
            SourceConfig::Hs256(secret) => KeySource::Hs256(VerifyingKey::hs256(&secret)?),
            SourceConfig::Static(handle) => {
                if handle.snapshot().is_empty() {
                    return Err(ConfigError::NoUsableKeys);
                }
                KeySource::Static(handle)
            }
            #[cfg(feature = "remote-jwks")]
            SourceConfig::Remote(url) => {
                KeySource::Remote(Arc::new(RemoteJwks::new(RemoteConfig {
                    url,
                    http_timeout: self.http_timeout,
                    cooldown: self.jwks_cooldown,
                    refresh_interval: self.jwks_refresh_interval,
                    max_bytes: self.jwks_max_bytes,
                })?))
            }
        };
        Ok(Verifier {
            inner: Arc::new(Inner {
                issuer,
                audiences: self.audiences,
                leeway: secs(self.leeway),
                max_lifetime: secs(self.max_lifetime),
                source,
                clock: self.clock,
                revocation: self.revocation,
                cache: self.cache_capacity.map(TokenCache::new),
            }),
        })
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Verified tokens by their exact text. Entries are only reused under the key generation
/// that verified them, and for at most [`CACHE_TTL_SECS`] (never past `exp`).
struct TokenCache {
    capacity: usize,
    entries: RwLock<HashMap<Box<str>, CacheEntry>>,
}

struct CacheEntry {
    claims: Claims,
    valid_until: i64,
    generation: u64,
}

impl TokenCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: RwLock::new(HashMap::with_capacity(capacity.min(4096))),
        }
    }

    fn get(&self, token: &str, now: i64, generation: Option<u64>) -> Option<Claims> {
        let generation = generation?;
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(token)?;
        (entry.generation == generation && now < entry.valid_until).then(|| entry.claims.clone())
    }

    fn insert(&self, token: &str, claims: &Claims, now: i64, generation: u64) {
        let valid_until = claims.exp.min(now.saturating_add(CACHE_TTL_SECS));
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.valid_until > now);
        }
        if entries.len() >= self.capacity {
            // Still full of live entries: start over. Coarse, but it keeps inserts amortised
            // O(1) and the memory bounded; the cache is only an optimisation.
            entries.clear();
        }
        entries.insert(
            token.into(),
            CacheEntry {
                claims: claims.clone(),
                valid_until,
                generation,
            },
        );
    }
}
