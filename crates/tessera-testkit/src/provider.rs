//! An identity provider under the test's control: a real HTTP server on 127.0.0.1 (an
//! axum app on port 0) that speaks OpenID Connect (discovery, authorize, token, userinfo,
//! JWKS) and GitHub's OAuth 2.0 (`/login/oauth/*`, `/api/user`, `/api/user/emails`), and
//! signs whatever the test tells it to — the attacks need ID tokens with a wrong `iss`,
//! `aud`, `nonce`, `exp` or algorithm, a bad signature, and discovery documents that lie.
//!
//! It checks what a real provider checks: the client's credentials, the `redirect_uri`, a
//! code used once, and PKCE (S256). The authorization endpoint signs in whoever the test set
//! with [`TestProvider::set_person`] and redirects at once (no login page).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use aws_lc_rs::{digest, hmac, rand};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct Person {
    /// `sub` (OpenID Connect).
    pub sub: String,
    /// GitHub's numeric user id.
    pub github_id: u64,
    /// The address.
    pub email: String,
    /// Whether the provider verified it (`email_verified`, GitHub's `verified`).
    pub email_verified: bool,
    /// Display name.
    pub name: String,
}

impl Person {
    /// A person with a verified address.
    pub fn verified(sub: &str, email: &str) -> Self {
        Self {
            sub: sub.to_owned(),
            github_id: sub.bytes().fold(7u64, |h, b| {
                h.wrapping_mul(31).wrapping_add(u64::from(b)) % 1_000_000_000
            }),
            email: email.to_owned(),
            email_verified: true,
            name: format!("Person {sub}"),
        }
    }

    /// The same person with an unverified address.
    #[must_use]
    pub fn unverified(mut self) -> Self {
        self.email_verified = false;
        self
    }
}

/// How the ID token's signature is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// EdDSA with the published key (correct).
    Good,
    /// EdDSA with a key that is not published under that `kid`.
    OtherKey,
    /// The signature's bytes flipped.
    Corrupted,
    /// `alg: none`, no signature.
    None,
    /// HS256 with the client secret as key (an algorithm the JWKS does not allow).
    Hs256WithClientSecret,
}

/// What the provider gets wrong, on the test's orders.
#[derive(Debug, Clone)]
pub struct Tweaks {
    /// `iss` of ID tokens (default: the issuer).
    pub id_token_iss: Option<String>,
    /// `aud` of ID tokens (default: the client id).
    pub id_token_aud: Option<Value>,
    /// `azp` of ID tokens (default: absent).
    pub id_token_azp: Option<String>,
    /// Replace the `nonce` (default: echo the authorization request's).
    pub id_token_nonce: Option<Option<String>>,
    /// Seconds from now to `exp` (default 600).
    pub id_token_exp_in: i64,
    /// How the ID token is signed.
    pub signing: Signing,
    /// `issuer` of the discovery document (default: the issuer).
    pub discovery_issuer: Option<String>,
    /// `jwks_uri` of the discovery document (default: this server's).
    pub discovery_jwks_uri: Option<String>,
    /// `iss` added to the authorization response (RFC 9207); default none.
    pub iss_param: Option<String>,
    /// Advertise `authorization_response_iss_parameter_supported`.
    pub iss_param_supported: bool,
    /// Redirect the token endpoint elsewhere (302) instead of answering.
    pub token_redirects_to: Option<String>,
}

impl Default for Tweaks {
    fn default() -> Self {
        Self {
            id_token_iss: None,
            id_token_aud: None,
            id_token_azp: None,
            id_token_nonce: None,
            id_token_exp_in: 600,
            signing: Signing::Good,
            discovery_issuer: None,
            discovery_jwks_uri: None,
            iss_param: None,
            iss_param_supported: false,
            token_redirects_to: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Grant {
    redirect_uri: String,
    challenge: Option<String>,
    method: Option<String>,
    nonce: Option<String>,
    person: Person,
}

struct Inner {
    issuer: String,
    client_id: String,
    client_secret: String,
    person: Person,
    tweaks: Tweaks,
    codes: HashMap<String, Grant>,
    /// Every code handed out, used or not (for replay tests).
    issued: Vec<String>,
    key: Ed25519KeyPair,
    other_key: Ed25519KeyPair,
    token_requests: usize,
    last_authorize: Vec<(String, String)>,
}

/// A running test provider. Dropping it stops the server.
pub struct TestProvider {
    /// `http://127.0.0.1:<port>`: the OpenID Connect issuer and the GitHub-shaped root.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for TestProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestProvider")
            .field("url", &self.url)
            .finish()
    }
}

fn random(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::fill(&mut b).unwrap();
    URL_SAFE_NO_PAD.encode(b)
}

fn ed25519() -> Ed25519KeyPair {
    let doc = Ed25519KeyPair::generate_pkcs8(&rand::SystemRandom::new()).unwrap();
    Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap()
}

type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TestProvider {
    /// Starts a provider with this client registered.
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            issuer: url.clone(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            person: Person::verified("person-1", "person@example.com"),
            tweaks: Tweaks::default(),
            codes: HashMap::new(),
            issued: Vec::new(),
            key: ed25519(),
            other_key: ed25519(),
            token_requests: 0,
            last_authorize: Vec::new(),
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(token))
            .route("/api/user", get(github_user))
            .route("/api/user/emails", get(github_emails))
            .with_state(inner.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Self {
            url,
            inner,
            _shutdown: tx,
        }
    }

    /// Who signs in at the next authorization.
    pub fn set_person(&self, person: Person) {
        lock(&self.inner).person = person;
    }

    /// What the provider gets wrong from now on.
    pub fn set_tweaks(&self, tweaks: Tweaks) {
        lock(&self.inner).tweaks = tweaks;
    }

    /// Every code handed out so far.
    pub fn issued_codes(&self) -> Vec<String> {
        lock(&self.inner).issued.clone()
    }

    /// How many requests reached the token endpoint.
    pub fn token_requests(&self) -> usize {
        lock(&self.inner).token_requests
    }

    /// The parameters of the last authorization request.
    pub fn last_authorize(&self) -> Vec<(String, String)> {
        lock(&self.inner).last_authorize.clone()
    }

    /// Redeems a code at the token endpoint as a client would (for replay tests).
    pub async fn redeem(&self, code: &str, redirect_uri: &str, verifier: &str) -> StatusCode {
        let (id, secret) = {
            let i = lock(&self.inner);
            (i.client_id.clone(), i.client_secret.clone())
        };
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("code_verifier", verifier)
            .append_pair("client_id", &id)
            .append_pair("client_secret", &secret)
            .finish();
        let res = reqwest::Client::new()
            .post(format!("{}/token", self.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        StatusCode::from_u16(res.status().as_u16()).unwrap()
    }
}

async fn discovery(State(s): State<Shared>) -> Response {
    let i = lock(&s);
    let u = &i.issuer;
    axum::Json(json!({
        "issuer": i.tweaks.discovery_issuer.clone().unwrap_or_else(|| u.clone()),
        "authorization_endpoint": format!("{u}/authorize"),
        "token_endpoint": format!("{u}/token"),
        "userinfo_endpoint": format!("{u}/userinfo"),
        "jwks_uri": i.tweaks.discovery_jwks_uri.clone().unwrap_or_else(|| format!("{u}/jwks")),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "authorization_response_iss_parameter_supported": i.tweaks.iss_param_supported,
    }))
    .into_response()
}

async fn jwks(State(s): State<Shared>) -> Response {
    let i = lock(&s);
    let x = URL_SAFE_NO_PAD.encode(i.key.public_key().as_ref());
    axum::Json(json!({ "keys": [
        { "kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig" }
    ]}))
    .into_response()
}

fn params(query: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(p: &'a [(String, String)], k: &str) -> Option<&'a str> {
    p.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

fn bad(error: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({ "error": error })),
    )
        .into_response()
}

async fn authorize(State(s): State<Shared>, RawQuery(q): RawQuery) -> Response {
    let p = params(q);
    let mut i = lock(&s);
    i.last_authorize = p.clone();
    if param(&p, "client_id") != Some(i.client_id.as_str())
        || param(&p, "response_type") != Some("code")
    {
        return bad("invalid_request");
    }
    let Some(redirect_uri) = param(&p, "redirect_uri") else {
        return bad("invalid_request");
    };
    let code = random(24);
    let grant = Grant {
        redirect_uri: redirect_uri.to_owned(),
        challenge: param(&p, "code_challenge").map(str::to_owned),
        method: param(&p, "code_challenge_method").map(str::to_owned),
        nonce: param(&p, "nonce").map(str::to_owned),
        person: i.person.clone(),
    };
    i.codes.insert(code.clone(), grant);
    i.issued.push(code.clone());
    let mut back = form_urlencoded::Serializer::new(String::new());
    back.append_pair("code", &code);
    if let Some(state) = param(&p, "state") {
        back.append_pair("state", state);
    }
    if let Some(iss) = &i.tweaks.iss_param {
        back.append_pair("iss", iss);
    }
    let sep = if redirect_uri.contains('?') { '&' } else { '?' };
    let to = format!("{redirect_uri}{sep}{}", back.finish());
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

/// The client's credentials: HTTP Basic (form-encoded halves) or in the form.
fn client_credentials(headers: &HeaderMap, form: &[(String, String)]) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let dec = |s: &str| -> String {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Some((dec(id), dec(secret)));
    }
    Some((
        param(form, "client_id")?.to_owned(),
        param(form, "client_secret")?.to_owned(),
    ))
}

fn sign(i: &Inner, claims: &Value) -> String {
    let (alg, kid) = match i.tweaks.signing {
        Signing::None => ("none", None),
        Signing::Hs256WithClientSecret => ("HS256", Some("k1")),
        _ => ("EdDSA", Some("k1")),
    };
    let mut header = json!({ "alg": alg, "typ": "JWT" });
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = match i.tweaks.signing {
        Signing::None => Vec::new(),
        Signing::Good => i.key.sign(input.as_bytes()).as_ref().to_vec(),
        Signing::OtherKey => i.other_key.sign(input.as_bytes()).as_ref().to_vec(),
        Signing::Corrupted => {
            let mut s = i.key.sign(input.as_bytes()).as_ref().to_vec();
            s[0] ^= 0xff;
            s
        }
        Signing::Hs256WithClientSecret => {
            let k = hmac::Key::new(hmac::HMAC_SHA256, i.client_secret.as_bytes());
            hmac::sign(&k, input.as_bytes()).as_ref().to_vec()
        }
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

async fn token(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let mut i = lock(&s);
    i.token_requests += 1;
    if let Some(to) = &i.tweaks.token_redirects_to {
        return (StatusCode::FOUND, [(header::LOCATION, to.clone())]).into_response();
    }
    match client_credentials(&headers, &form) {
        Some((id, secret)) if id == i.client_id && secret == i.client_secret => {}
        _ => {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({ "error": "invalid_client" })),
            )
                .into_response();
        }
    }
    if param(&form, "grant_type") != Some("authorization_code") {
        return bad("unsupported_grant_type");
    }
    // single use: the code is gone once presented, right or wrong
    let Some(grant) = param(&form, "code").and_then(|c| i.codes.remove(c)) else {
        return bad("invalid_grant");
    };
    if param(&form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return bad("invalid_grant");
    }
    match (&grant.challenge, grant.method.as_deref()) {
        (Some(challenge), Some("S256")) => {
            let verifier = param(&form, "code_verifier").unwrap_or("");
            let computed =
                URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
            if computed != *challenge {
                return bad("invalid_grant");
            }
        }
        _ => return bad("invalid_request"),
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let t = &i.tweaks;
    let mut claims = json!({
        "iss": t.id_token_iss.clone().unwrap_or_else(|| i.issuer.clone()),
        "sub": grant.person.sub,
        "aud": t.id_token_aud.clone().unwrap_or_else(|| json!(i.client_id)),
        "iat": now,
        "exp": now + t.id_token_exp_in,
        "email": grant.person.email,
        "email_verified": grant.person.email_verified,
        "name": grant.person.name,
    });
    let nonce = match &t.id_token_nonce {
        Some(n) => n.clone(),
        None => grant.nonce.clone(),
    };
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    if let Some(azp) = &t.id_token_azp {
        claims["azp"] = json!(azp);
    }
    let id_token = sign(&i, &claims);
    let access = format!("at-{}", random(16));
    i.codes.insert(format!("access:{access}"), grant);
    axum::Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "openid email profile",
        "id_token": id_token,
    }))
    .into_response()
}

/// The person an access token was issued for.
fn bearer_person(s: &Shared, headers: &HeaderMap) -> Option<Person> {
    let token = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    lock(s)
        .codes
        .get(&format!("access:{token}"))
        .map(|g| g.person.clone())
}

async fn userinfo(State(s): State<Shared>, headers: HeaderMap) -> Response {
    match bearer_person(&s, &headers) {
        Some(p) => axum::Json(json!({
            "sub": p.sub, "email": p.email, "email_verified": p.email_verified, "name": p.name,
        }))
        .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn github_user(State(s): State<Shared>, headers: HeaderMap) -> Response {
    match bearer_person(&s, &headers) {
        Some(p) => axum::Json(json!({
            "id": p.github_id, "login": p.sub, "name": p.name, "email": null,
            "avatar_url": "https://avatars.example.com/u/1",
        }))
        .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn github_emails(State(s): State<Shared>, headers: HeaderMap) -> Response {
    match bearer_person(&s, &headers) {
        Some(p) => axum::Json(json!([
            { "email": "secondary@example.com", "primary": false, "verified": true, "visibility": null },
            { "email": p.email, "primary": true, "verified": p.email_verified, "visibility": "public" },
        ]))
        .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}
