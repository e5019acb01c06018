//! Verify Tessera (and Better Auth) JWT access tokens in any Rust backend.
//!
//! A [`Verifier`] checks a compact JWS access token against keys *you* configure — one
//! HS256 shared secret, a fixed JWKS, or a JWKS fetched from the auth server — and returns
//! its [`Claims`]. With the default `axum` feature, handlers just take an [`AuthUser`], or an
//! [`OwnerOf`] that also requires the route's `{user_id}` to be the caller, and
//! [`MfaUser`] / [`RecentMfa`] for routes that need a second factor (Tessera's `amr` and
//! `auth_time` claims; see [`MfaUser`] for a runnable example).
//!
//! # Quick start (HS256 shared secret)
//!
//! ```
//! use aws_lc_rs::hmac;
//! use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
//! use tessera_verify::{Verifier, VerifyError};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = b"a shared secret of at least 32 bytes, from config";
//! let verifier = Verifier::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("https://api.example.com")
//!     .hs256_secret(secret)
//!     .build()?;
//!
//! // What the auth server mints (done by hand here to keep the example self-contained):
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
//! let payload = URL_SAFE_NO_PAD.encode(format!(
//!     r#"{{"sub":"user-1","sid":"s-1","iss":"https://auth.example.com","aud":"https://api.example.com","iat":{now},"exp":{}}}"#,
//!     now + 900
//! ));
//! let signing_input = format!("{header}.{payload}");
//! let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), signing_input.as_bytes());
//! let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag));
//!
//! let claims = verifier.verify(&token).await?;
//! assert_eq!(claims.sub, "user-1");
//! assert_eq!(claims.sid.as_deref(), Some("s-1"));
//!
//! // Anything else is refused, e.g. the same claims with `alg` changed:
//! let forged = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
//! assert_eq!(verifier.verify(&forged).await, Err(VerifyError::AlgorithmNotAllowed));
//! # Ok(()) }
//! ```
//!
//! # Better Auth / Tessera with EdDSA keys (JWKS)
//!
//! In production point the verifier at the auth server's key set with
//! [`remote_jwks`](VerifierBuilder::remote_jwks) (`https://auth.example.com/api/auth/jwks`).
//! Here a fixed set and a fixed clock verify a token minted by a real Better Auth server:
//!
//! ```
//! use std::sync::Arc;
//! use tessera_verify::{ManualClock, Verifier};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let jwks = r#"{"keys":[{"alg":"EdDSA","crv":"Ed25519","x":"gSTs-IWazZiAnVCUJQXqyrvzEWzdZ1F2nqZvVGWqvdg","kty":"OKP","kid":"EwQcFhpexQqrwbTp8nVsypeotzzt5nTT"}]}"#;
//! let verifier = Verifier::builder()
//!     .issuer("http://localhost:3999") // Better Auth: the origin of its base URL
//!     .audience("http://localhost:3999")
//!     .jwks_json(jwks)
//!     .clock(Arc::new(ManualClock::new(1_795_488_000))) // inside the token's 15 minutes
//!     .build()?;
//! let token = "eyJhbGciOiJFZERTQSIsImtpZCI6IkV3UWNGaHBleFFxcndiVHA4blZzeXBlb3R6enQ1blRUIn0.eyJpYXQiOjE3OTU0ODc5MzksIm5hbWUiOiJBbGljZSIsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20iLCJlbWFpbFZlcmlmaWVkIjpmYWxzZSwiY3JlYXRlZEF0IjoiMjAyNi0xMS0yNFQwMjozODo1OS4xNThaIiwidXBkYXRlZEF0IjoiMjAyNi0xMS0yNFQwMjozODo1OS4xNThaIiwiaWQiOiJxYWZoSGxmdjJZSnNPak4xSVQ4R3FFeTlSRWhsc3NmbiIsInN1YiI6InFhZmhIbGZ2MllKc09qTjFJVDhHcUV5OVJFaGxzc2ZuIiwiZXhwIjoxNzk1NDg4ODM5LCJpc3MiOiJodHRwOi8vbG9jYWxob3N0OjM5OTkiLCJhdWQiOiJodHRwOi8vbG9jYWxob3N0OjM5OTkifQ.nGzbpvSXgHb4WcEa_bN8g22jEBd-l2Qpi2HlNU5-zkLkJqN0NJS9zgRPyGESdLIQ2US3xwn4egtcgLgMJohKAw";
//! let claims = verifier.verify(token).await?;
//! assert_eq!(claims.sub, "qafhHlfv2YJsOjN1IT8GqEy9REhlssfn");
//! assert_eq!(claims.email.as_deref(), Some("alice@example.com"));
//! assert_eq!(claims.raw["emailVerified"], false);
//! # Ok(()) }
//! ```
//!
//! # axum
//!
//! Put the verifier in the router state (or make it reachable with `FromRef`) and take an
//! extractor: [`AuthUser`] (any signed-in caller), [`MaybeAuthUser`] (optional), or
//! [`OwnerOf`] (the caller must be the route's `{user_id}`; 403 otherwise).
//!
//! ```
//! use axum::{Json, Router, routing::get};
//! use tessera_verify::{OwnerOf, Verifier};
//!
//! async fn list_tasks(owner: OwnerOf) -> Json<Vec<String>> {
//!     Json(vec![format!("first task of {}", owner.subject())])
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("https://api.example.com")
//!     .remote_jwks("https://auth.example.com/api/auth/jwks")
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/api/{user_id}/tasks", get(list_tasks))
//!     .with_state(verifier);
//! # let _ = app; Ok(()) }
//! ```
//!
//! # What is guaranteed
//!
//! * **Algorithms are fixed by keys, never by tokens.** Each key has exactly one algorithm
//!   (`HS256`, `EdDSA`, `ES256` or `RS256`); the header's `alg` must equal it byte for byte.
//!   `none` (any spelling), unknown names, `"hs256"`, `"HS256 "` are refused; an HS256 token
//!   can never be checked with a public key, nor an asymmetric one with a secret. A JWKS key
//!   takes its algorithm from its `alg` member (inferred only for Ed25519 and P-256; RSA keys
//!   without `alg` and symmetric `oct` keys are skipped).
//! * **Keys come only from configuration.** Headers with `jwk`, `jku`, `x5u` or `x5c` are
//!   refused and never followed; `crit` is refused (no extension is implemented).
//! * **Strict parsing.** At most 8 KiB; exactly three base64url parts without padding; UTF-8
//!   JSON objects without duplicate members (at any depth) in header and claims; JWE and the
//!   JSON serialization are refused. The `typ` header, when present, must be `JWT` or
//!   `at+jwt`.
//! * **Claims.** `exp` and `sub` are required; `exp`/`nbf`/`iat` must be non-negative JSON
//!   integers; `nbf` and a future `iat` are checked with a leeway (default 30 s, at most
//!   300 s); tokens living longer than 24 h (configurable) are refused; `iss` must equal the
//!   configured issuer and `aud` (string or array of strings) must contain a configured
//!   audience — both are required to build a verifier.
//! * **Remote JWKS** ([`VerifierBuilder::remote_jwks`]): fetched only from the configured URL,
//!   redirects not followed, 5 s timeout, 256 KiB limit, cached; an unknown `kid` refetches at
//!   most once per 30 s cooldown (single-flight, requests with known keys never wait);
//!   refreshed every 5 minutes in the background; the last good set is kept when a refresh
//!   fails; with no set ever loaded, requests fail closed with 503.
//! * **Revocation.** An optional synchronous [`RevocationCheck`] (e.g. [`RevokedSessions`],
//!   keyed on `sid`) runs after every other check.
//! * **HTTP answers** follow RFC 6750: see [`VerifyError`]. Bodies are
//!   `{"message": ..., "code": ...}` with generic messages; the token is never echoed.
//!
//! # Features
//!
//! * `axum` (default): the extractors and `IntoResponse` implementations.
//! * `remote-jwks` (default): [`VerifierBuilder::remote_jwks`] (pulls in `reqwest` + rustls).

#![deny(missing_docs)]

mod bearer;
mod claims;
mod clock;
mod error;
#[cfg(feature = "axum")]
mod extract;
#[cfg(feature = "remote-jwks")]
mod feed;
mod jws;
mod keys;
#[cfg(feature = "remote-jwks")]
mod remote;
mod revocation;
mod verifier;

pub use bearer::bearer_token;
pub use claims::Claims;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{ConfigError, VerifyError};
#[cfg(feature = "axum")]
pub use extract::{
    AuthRejection, AuthUser, MaybeAuthUser, MfaUser, OwnerOf, RecentMfa, USER_ID_PARAM,
};
#[cfg(feature = "remote-jwks")]
pub use feed::{RevocationFeed, RevocationFeedBuilder};
pub use jws::MAX_TOKEN_LEN;
pub use keys::{Algorithm, Jwk, JwkSet, KeySetHandle};
pub use revocation::{RevocationCheck, RevokedSessions};
pub use verifier::{
    DEFAULT_HTTP_TIMEOUT, DEFAULT_JWKS_COOLDOWN, DEFAULT_JWKS_MAX_BYTES,
    DEFAULT_JWKS_REFRESH_INTERVAL, DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, MAX_LEEWAY, Verifier,
    VerifierBuilder,
};
