//! Shared fixtures: keys, token minting (aws-lc-rs directly, JSON built by hand), the
//! protected test router, and request helpers that check what every group-A/B row implies
//! (the expected status and challenge, no protected data in the body, no 5xx).

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use aws_lc_rs::{hmac, rsa};
use axum::body::Body;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tessera_verify::{AuthUser, MaybeAuthUser, OwnerOf, Verifier, VerifyError};
use tower::ServiceExt as _;

pub(crate) const ISS: &str = "https://auth.test";
pub(crate) const AUD: &str = "https://api.test";
pub(crate) const A_ID: &str = "usr_Alice7f3c";
pub(crate) const B_ID: &str = "usr_Bob91d2e";
/// Only ever present in a 200 body of the protected route.
pub(crate) const CANARY: &str = "CANARY-tasks-of-the-owner";
pub(crate) const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

pub(crate) fn now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn random_hex(len_bytes: usize) -> String {
    let mut bytes = vec![0u8; len_bytes];
    SystemRandom::new().fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a test token is signed.
#[derive(Clone)]
pub(crate) enum Signer {
    Hs256(Vec<u8>),
    Hs384(Vec<u8>),
    Hs512(Vec<u8>),
    Ed(Arc<Ed25519KeyPair>),
    Es256(Arc<EcdsaKeyPair>),
    Es512(Arc<EcdsaKeyPair>),
    Rs256(Arc<RsaKeyPair>),
    Ps256(Arc<RsaKeyPair>),
    /// Empty signature part.
    Unsigned,
}

impl Signer {
    pub(crate) fn sign(&self, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Hs256(k) => hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k), input)
                .as_ref()
                .to_vec(),
            Self::Hs384(k) => hmac::sign(&hmac::Key::new(hmac::HMAC_SHA384, k), input)
                .as_ref()
                .to_vec(),
            Self::Hs512(k) => hmac::sign(&hmac::Key::new(hmac::HMAC_SHA512, k), input)
                .as_ref()
                .to_vec(),
            Self::Ed(k) => k.sign(input).as_ref().to_vec(),
            Self::Es256(k) | Self::Es512(k) => k.sign(&rng, input).unwrap().as_ref().to_vec(),
            Self::Rs256(k) | Self::Ps256(k) => {
                let padding: &'static dyn signature::RsaEncoding = match self {
                    Self::Rs256(_) => &signature::RSA_PKCS1_SHA256,
                    _ => &signature::RSA_PSS_SHA256,
                };
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(padding, &rng, input, &mut sig).unwrap();
                sig
            }
            Self::Unsigned => Vec::new(),
        }
    }
}

/// Signs raw header and payload bytes (for duplicate members, non-UTF-8, ...).
pub(crate) fn sign_bytes(header: &[u8], payload: &[u8], signer: &Signer) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    format!("{input}.{}", b64(signer.sign(input.as_bytes())))
}

pub(crate) fn mint(header: &Value, claims: &Value, signer: &Signer) -> String {
    sign_bytes(
        header.to_string().as_bytes(),
        claims.to_string().as_bytes(),
        signer,
    )
}

/// Valid claims for `sub`, issued now, expiring in 5 minutes, with session `sid-<sub>`.
pub(crate) fn claims_for(sub: &str) -> Value {
    let now = now();
    json!({"sub": sub, "iss": ISS, "aud": AUD, "iat": now, "exp": now + 300, "sid": format!("sid-{sub}")})
}

/// `claims_for(A_ID)` with `changes` merged in; a `null` in `changes` removes the claim.
pub(crate) fn claims_with(changes: &Value) -> Value {
    let mut claims = claims_for(A_ID);
    let map = claims.as_object_mut().unwrap();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            map.remove(k);
        } else {
            map.insert(k.clone(), v.clone());
        }
    }
    claims
}

pub(crate) fn hs_signer() -> Signer {
    Signer::Hs256(SECRET.to_vec())
}

pub(crate) fn hs_header() -> Value {
    json!({"alg": "HS256", "typ": "JWT"})
}

/// A valid HS256 token for `sub`.
pub(crate) fn hs_token(sub: &str) -> String {
    mint(&hs_header(), &claims_for(sub), &hs_signer())
}

pub(crate) fn hs_verifier() -> Verifier {
    Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .build()
        .unwrap()
}

pub(crate) struct EdKey {
    pub(crate) kid: String,
    pub(crate) pair: Arc<Ed25519KeyPair>,
}

impl EdKey {
    pub(crate) fn new(kid: &str) -> Self {
        Self {
            kid: kid.into(),
            pair: Arc::new(Ed25519KeyPair::generate().unwrap()),
        }
    }
    pub(crate) fn public(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }
    pub(crate) fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": self.kid, "x": b64(self.public())})
    }
    pub(crate) fn signer(&self) -> Signer {
        Signer::Ed(Arc::clone(&self.pair))
    }
    pub(crate) fn header(&self) -> Value {
        json!({"alg": "EdDSA", "kid": self.kid})
    }
    pub(crate) fn token(&self, claims: &Value) -> String {
        mint(&self.header(), claims, &self.signer())
    }
}

pub(crate) struct EsKey {
    pub(crate) kid: String,
    pub(crate) pair: Arc<EcdsaKeyPair>,
}

impl EsKey {
    pub(crate) fn new(kid: &str) -> Self {
        Self {
            kid: kid.into(),
            pair: Arc::new(
                EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
            ),
        }
    }
    pub(crate) fn jwk(&self) -> Value {
        let point = self.pair.public_key().as_ref();
        json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "kid": self.kid,
               "x": b64(&point[1..33]), "y": b64(&point[33..65])})
    }
    pub(crate) fn signer(&self) -> Signer {
        Signer::Es256(Arc::clone(&self.pair))
    }
    pub(crate) fn token(&self, claims: &Value) -> String {
        mint(
            &json!({"alg": "ES256", "kid": self.kid}),
            claims,
            &self.signer(),
        )
    }
}

pub(crate) struct RsKey {
    pub(crate) kid: String,
    pub(crate) pair: Arc<RsaKeyPair>,
}

/// RSA key generation is slow in unoptimised builds: one pair per test binary.
pub(crate) fn rsa_pair() -> Arc<RsaKeyPair> {
    static PAIR: OnceLock<Arc<RsaKeyPair>> = OnceLock::new();
    Arc::clone(PAIR.get_or_init(|| Arc::new(RsaKeyPair::generate(rsa::KeySize::Rsa2048).unwrap())))
}

impl RsKey {
    pub(crate) fn new(kid: &str) -> Self {
        Self {
            kid: kid.into(),
            pair: rsa_pair(),
        }
    }
    pub(crate) fn n_e(&self) -> (Vec<u8>, Vec<u8>) {
        let public = self.pair.public_key();
        (
            public.modulus().big_endian_without_leading_zero().to_vec(),
            public.exponent().big_endian_without_leading_zero().to_vec(),
        )
    }
    pub(crate) fn jwk(&self) -> Value {
        let (n, e) = self.n_e();
        json!({"kty": "RSA", "alg": "RS256", "kid": self.kid, "n": b64(n), "e": b64(e)})
    }
    pub(crate) fn signer(&self) -> Signer {
        Signer::Rs256(Arc::clone(&self.pair))
    }
    pub(crate) fn token(&self, claims: &Value) -> String {
        mint(
            &json!({"alg": "RS256", "kid": self.kid}),
            claims,
            &self.signer(),
        )
    }
}

pub(crate) fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

pub(crate) fn jwks_verifier(jwks_json: &str) -> Verifier {
    Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .jwks_json(jwks_json)
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// The protected router

async fn tasks(owner: OwnerOf) -> Json<Value> {
    Json(json!({"owner": owner.subject(), "tasks": [CANARY]}))
}

async fn me(user: AuthUser) -> String {
    format!("{} {CANARY}", user.subject())
}

async fn maybe(user: MaybeAuthUser) -> String {
    match user.0 {
        Some(user) => format!("{} {CANARY}", user.subject()),
        None => "anonymous".into(),
    }
}

/// `OwnerOf` on a route without `{user_id}`: a programming error.
async fn misrouted(owner: OwnerOf) -> String {
    format!("{} {CANARY}", owner.subject())
}

pub(crate) fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/api/{user_id}/tasks", get(tasks))
        .route("/api/{user_id}/tasks/{task_id}", get(tasks))
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .route("/misrouted/{id}", get(misrouted))
        .with_state(verifier)
}

#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn challenge(&self) -> Option<&str> {
        self.headers
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap())
    }

    /// What every refusal must satisfy: not 2xx, not 5xx (unless `allow_503`), no protected data.
    pub(crate) fn assert_no_data(&self) {
        assert!(!self.status.is_success(), "unexpected success: {self:?}");
        assert!(
            !self.body.contains(CANARY),
            "protected data leaked: {self:?}"
        );
    }
}

/// Sends `GET path` with the given raw `Authorization` header values (zero or more).
pub(crate) async fn send(app: &Router, path: &str, authorization: &[&[u8]]) -> Reply {
    let mut request = Request::get(path);
    for value in authorization {
        request = request.header(header::AUTHORIZATION, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub(crate) async fn get_with_token(app: &Router, path: &str, token: &str) -> Reply {
    send(app, path, &[format!("Bearer {token}").as_bytes()]).await
}

pub(crate) fn tasks_path(user_id: &str) -> String {
    format!("/api/{user_id}/tasks")
}

/// The token is refused by the library with exactly `expected`, and by the protected route
/// (A's own collection) with the matching status, challenge and no protected data.
pub(crate) async fn assert_refused(verifier: &Verifier, token: &str, expected: VerifyError) {
    assert_eq!(
        verifier.verify(token).await,
        Err(expected.clone()),
        "library verdict"
    );
    let reply = get_with_token(&app(verifier.clone()), &tasks_path(A_ID), token).await;
    assert_eq!(reply.status, expected.status(), "{reply:?}");
    assert_eq!(reply.challenge(), expected.www_authenticate(), "{reply:?}");
    reply.assert_no_data();
    let body: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["code"], expected.code());
    assert!(
        !reply.body.contains(token) || token.is_empty(),
        "token echoed"
    );
}

/// The token is accepted by the library and opens A's collection.
pub(crate) async fn assert_accepted(verifier: &Verifier, token: &str) {
    let claims = verifier.verify(token).await.unwrap();
    assert_eq!(claims.sub, A_ID);
    let reply = get_with_token(&app(verifier.clone()), &tasks_path(A_ID), token).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert!(reply.body.contains(CANARY));
}

/// Runs a test body with a hard time bound (network tests must never hang).
pub(crate) async fn bounded<F: Future<Output = ()>>(secs: u64, body: F) {
    tokio::time::timeout(Duration::from_secs(secs), body)
        .await
        .expect("test exceeded its time bound");
}
