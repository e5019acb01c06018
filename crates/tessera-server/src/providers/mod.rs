//! Identity providers as a service, without handlers: the configured providers, their
//! discovery documents and key sets (OpenID Connect), the authorization URL of a flow, and
//! the end of a flow — the code exchanged (with the PKCE verifier), the ID token verified
//! (through `tessera-verify`: signature by the provider's JWKS, the algorithm bound to the
//! key, `iss` exactly the discovered issuer, `aud` the client id, `exp`; then `nonce` and
//! `azp` here) or GitHub's user and verified primary address read — giving an [`Identity`]
//! keyed by (issuer, subject).
//!
//! The PKCE verifier and the nonce are not stored: both are HMACs of the `state` under a key
//! derived from the server secret, so only the holder of the state (the browser's cookie and
//! the provider's redirect) and the server can produce them.

pub(crate) mod fetch;

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use aws_lc_rs::{digest, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tessera_core::Clock;
use tessera_core::token::constant_time_eq;

use crate::settings::{Provider, ProviderKind, check_provider_url};

/// How long a discovery document (and the verifier built from it) is reused.
const DISCOVERY_TTL_MS: i64 = 60 * 60 * 1000;

/// An identity at a provider, as a finished flow reports it.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// The exact issuer, or `local:oauth:<provider id>` for plain OAuth 2.0.
    pub(crate) issuer: String,
    /// The subject at that issuer.
    pub(crate) subject: String,
    /// The address the provider reports, lower-cased.
    pub(crate) email: Option<String>,
    /// Whether the provider says it verified that address.
    pub(crate) email_verified: bool,
    /// Display name.
    pub(crate) name: Option<String>,
    /// Avatar URL.
    pub(crate) image: Option<String>,
    /// Granted scopes, space-separated.
    pub(crate) scope: Option<String>,
}

/// Why a flow failed; [`FlowError::code`] is Better Auth's callback error code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FlowError {
    #[error("the provider could not be reached or answered nonsense: {0}")]
    Unavailable(String),
    #[error("the callback's iss {0:?} is not the provider's issuer")]
    IssuerMismatch(String),
    #[error("the provider promises an iss parameter (RFC 9207) and the callback has none")]
    IssuerMissing,
    #[error("the token endpoint refused the code: {0}")]
    InvalidCode(String),
    #[error("the ID token or user information was refused: {0}")]
    UserInfo(String),
}

impl FlowError {
    /// The `error` parameter of the redirect.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) | Self::UserInfo(_) => "unable_to_get_user_info",
            Self::IssuerMismatch(_) => "issuer_mismatch",
            Self::IssuerMissing => "issuer_missing",
            Self::InvalidCode(_) => "invalid_code",
        }
    }
}

/// What an OpenID Connect provider's discovery document says, checked.
#[derive(Debug)]
struct Discovered {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: Option<String>,
    /// RFC 9207: the provider adds `iss` to its authorization responses.
    iss_parameter_supported: bool,
    /// Authenticate at the token endpoint with HTTP Basic (else in the form).
    basic_auth: bool,
    verifier: tessera_verify::Verifier,
    fetched_ms: i64,
}

/// One configured provider and what was learnt about it.
#[derive(Debug)]
pub(crate) struct Runtime {
    /// Its settings.
    pub(crate) settings: Provider,
    discovered: RwLock<Option<Arc<Discovered>>>,
    refresh: tokio::sync::Mutex<()>,
}

/// The configured identity providers. Cheap to clone.
#[derive(Debug, Clone)]
pub struct IdentityProviders(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    providers: Vec<Runtime>,
    http: reqwest::Client,
    http_timeout: Duration,
    clock: Arc<dyn Clock>,
    flow_key: FlowKey,
}

struct FlowKey(hmac::Key);

impl std::fmt::Debug for FlowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowKey(<redacted>)")
    }
}

/// The server's clock, as the ID-token verifier sees it.
struct VerifierClock(Arc<dyn Clock>);

impl tessera_verify::Clock for VerifierClock {
    fn now_unix(&self) -> i64 {
        self.0.now_ms().div_euclid(1000)
    }
}

impl IdentityProviders {
    /// The providers of these settings; `secret` is the server secret.
    ///
    /// # Errors
    /// The HTTP client could not be built (no TLS roots).
    pub fn new(
        providers: &crate::settings::Providers,
        secret: &[u8],
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<Self> {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let key = hmac::sign(&root, b"tessera/v1/oauth-flow");
        Ok(Self(Arc::new(Inner {
            providers: providers
                .list
                .iter()
                .map(|p| Runtime {
                    settings: p.clone(),
                    discovered: RwLock::new(None),
                    refresh: tokio::sync::Mutex::new(()),
                })
                .collect(),
            http: fetch::client(providers.http_timeout).map_err(std::io::Error::other)?,
            http_timeout: providers.http_timeout,
            clock,
            flow_key: FlowKey(hmac::Key::new(hmac::HMAC_SHA256, key.as_ref())),
        })))
    }

    /// The provider with this id.
    pub(crate) fn get(&self, id: &str) -> Option<&Runtime> {
        self.0.providers.iter().find(|p| p.settings.id == id)
    }

    /// Every provider, in configuration order.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Provider> {
        self.0.providers.iter().map(|p| &p.settings)
    }

    /// A new `state`: 32 random bytes, base64url.
    pub(crate) fn new_state() -> String {
        tessera_core::token::random_token_b64(32)
    }

    fn derive(&self, purpose: &[u8], state: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.0.flow_key.0);
        ctx.update(purpose);
        ctx.update(&[0]);
        ctx.update(state.as_bytes());
        URL_SAFE_NO_PAD.encode(ctx.sign().as_ref())
    }

    /// The PKCE `code_verifier` of a flow (43 characters).
    fn code_verifier(&self, state: &str) -> String {
        self.derive(b"pkce", state)
    }

    /// The OpenID Connect `nonce` of a flow.
    fn nonce(&self, state: &str) -> String {
        self.derive(b"nonce", state)
    }

    /// The discovery document of an OpenID Connect provider, fetched when missing or older
    /// than an hour.
    async fn discovered(&self, p: &Runtime) -> Result<Arc<Discovered>, FlowError> {
        let now = self.0.clock.now_ms();
        let fresh = |d: &Arc<Discovered>| now - d.fetched_ms < DISCOVERY_TTL_MS;
        if let Some(d) = p.read_cached().filter(fresh) {
            return Ok(d);
        }
        let _turn = p.refresh.lock().await;
        if let Some(d) = p.read_cached().filter(fresh) {
            return Ok(d);
        }
        let d = Arc::new(self.discover(&p.settings).await?);
        *p.discovered.write().unwrap_or_else(PoisonError::into_inner) = Some(d.clone());
        Ok(d)
    }

    async fn discover(&self, p: &Provider) -> Result<Discovered, FlowError> {
        let issuer = p
            .issuer
            .as_deref()
            .ok_or_else(|| FlowError::Unavailable("no issuer".into()))?;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc = fetch::json(self.0.http.get(&url))
            .await
            .map_err(|e| FlowError::Unavailable(format!("discovery {url}: {e}")))?;
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
        // OpenID Connect Discovery §4.3: the document's issuer is exactly the one asked for,
        // or everything it says is ignored.
        if text("issuer").as_deref() != Some(issuer) {
            return Err(FlowError::Unavailable(format!(
                "the discovery document at {url} names issuer {:?}, not {issuer:?}",
                text("issuer")
            )));
        }
        let endpoint = |key: &str| -> Result<String, FlowError> {
            let v = text(key).ok_or_else(|| {
                FlowError::Unavailable(format!("the discovery document has no {key}"))
            })?;
            check_endpoint(&v)
                .map_err(|m| FlowError::Unavailable(format!("discovered {key} {v:?} {m}")))?;
            Ok(v)
        };
        let authorization_endpoint = endpoint("authorization_endpoint")?;
        let token_endpoint = endpoint("token_endpoint")?;
        let jwks_uri = endpoint("jwks_uri")?;
        let userinfo_endpoint = match text("userinfo_endpoint") {
            Some(_) => Some(endpoint("userinfo_endpoint")?),
            None => None,
        };
        let list = |key: &str| -> Option<Vec<String>> {
            doc.get(key).and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
        };
        if list("code_challenge_methods_supported").is_some_and(|m| !m.iter().any(|x| x == "S256"))
        {
            return Err(FlowError::Unavailable(
                "the provider does not support PKCE with S256".into(),
            ));
        }
        let basic_auth = match list("token_endpoint_auth_methods_supported") {
            None => true,
            Some(m) => {
                m.iter().any(|x| x == "client_secret_basic")
                    || !m.iter().any(|x| x == "client_secret_post")
            }
        };
        let verifier = tessera_verify::Verifier::builder()
            .issuer(issuer)
            .audience(p.client_id.clone())
            .remote_jwks(jwks_uri)
            .http_timeout(self.0.http_timeout)
            .jwks_max_bytes(fetch::MAX_BODY)
            .clock(Arc::new(VerifierClock(self.0.clock.clone())))
            .build()
            .map_err(|e| FlowError::Unavailable(format!("ID-token verifier: {e}")))?;
        Ok(Discovered {
            issuer: issuer.to_owned(),
            authorization_endpoint,
            token_endpoint,
            userinfo_endpoint,
            iss_parameter_supported: doc
                .get("authorization_response_iss_parameter_supported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            basic_auth,
            verifier,
            fetched_ms: self.0.clock.now_ms(),
        })
    }

    /// Where to send the browser: the provider's authorization endpoint with this flow's
    /// parameters (PKCE S256 always, a nonce for OpenID Connect).
    pub(crate) async fn authorization_url(
        &self,
        p: &Runtime,
        state: &str,
        redirect_uri: &str,
        extra_scopes: &[String],
        login_hint: Option<&str>,
    ) -> Result<String, FlowError> {
        let s = &p.settings;
        let mut scopes = s.scopes();
        for extra in extra_scopes {
            if !scopes.contains(extra) {
                scopes.push(extra.clone());
            }
        }
        // Discovery (an await) first: the query serializer is not `Send`.
        let endpoint = match s.kind {
            ProviderKind::Oidc => self.discovered(p).await?.authorization_endpoint.clone(),
            ProviderKind::Github => s
                .authorization_endpoint
                .clone()
                .unwrap_or_else(|| "https://github.com/login/oauth/authorize".into()),
        };
        let challenge = URL_SAFE_NO_PAD
            .encode(digest::digest(&digest::SHA256, self.code_verifier(state).as_bytes()).as_ref());
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("response_type", "code")
            .append_pair("client_id", &s.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", &scopes.join(" "))
            .append_pair("state", state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if s.kind == ProviderKind::Oidc {
            q.append_pair("nonce", &self.nonce(state));
        }
        if let Some(hint) = login_hint {
            q.append_pair("login_hint", hint);
        }
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        Ok(format!("{endpoint}{sep}{}", q.finish()))
    }

    /// Finishes a flow: checks the callback's `iss`, exchanges the code and reads who
    /// signed in.
    pub(crate) async fn finish(
        &self,
        p: &Runtime,
        state: &str,
        code: &str,
        iss: Option<&str>,
        redirect_uri: &str,
    ) -> Result<Identity, FlowError> {
        match p.settings.kind {
            ProviderKind::Oidc => {
                let d = self.discovered(p).await?;
                match iss {
                    Some(i) if i != d.issuer => return Err(FlowError::IssuerMismatch(i.into())),
                    None if d.iss_parameter_supported => return Err(FlowError::IssuerMissing),
                    _ => {}
                }
                self.finish_oidc(p, &d, state, code, redirect_uri).await
            }
            ProviderKind::Github => {
                // GitHub has no issuer and sends no `iss`: one that is present came from
                // another server (a mix-up).
                if let Some(i) = iss {
                    return Err(FlowError::IssuerMismatch(i.into()));
                }
                self.finish_github(p, state, code, redirect_uri).await
            }
        }
    }

    async fn exchange(
        &self,
        p: &Provider,
        token_endpoint: &str,
        basic_auth: bool,
        state: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Value, FlowError> {
        use secrecy::ExposeSecret as _;
        let secret = String::from_utf8_lossy(p.client_secret.expose_secret()).into_owned();
        let verifier = self.code_verifier(state);
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.as_str()),
        ];
        let mut req = self.0.http.post(token_endpoint);
        if basic_auth {
            // RFC 6749 §2.3.1: both halves form-encoded before Basic.
            let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            req = req.basic_auth(enc(&p.client_id), Some(enc(&secret)));
        } else {
            form.push(("client_id", p.client_id.as_str()));
            form.push(("client_secret", secret.as_str()));
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let (status, answer) = fetch::json_any_status(
            req.header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
        .map_err(|e| FlowError::InvalidCode(e.to_string()))?;
        let has_token = answer.get("access_token").and_then(Value::as_str).is_some();
        if !status.is_success() || !has_token {
            let error = answer
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no access_token");
            return Err(FlowError::InvalidCode(format!("{status}: {error}")));
        }
        Ok(answer)
    }

    async fn finish_oidc(
        &self,
        p: &Runtime,
        d: &Discovered,
        state: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Identity, FlowError> {
        let s = &p.settings;
        let tokens = self
            .exchange(
                s,
                &d.token_endpoint,
                d.basic_auth,
                state,
                code,
                redirect_uri,
            )
            .await?;
        let id_token = tokens
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| FlowError::UserInfo("the token answer has no id_token".into()))?;
        let claims = d
            .verifier
            .verify(id_token)
            .await
            .map_err(|e| FlowError::UserInfo(format!("ID token: {e}")))?;
        let raw = &claims.raw;
        let nonce = raw.get("nonce").and_then(Value::as_str).unwrap_or("");
        if !constant_time_eq(nonce.as_bytes(), self.nonce(state).as_bytes()) {
            return Err(FlowError::UserInfo(
                "ID token: wrong or missing nonce".into(),
            ));
        }
        // OpenID Connect Core §3.1.3.7: with several audiences `azp` is required, and when
        // present it is this client.
        match raw.get("azp") {
            Some(Value::String(azp)) if *azp == s.client_id => {}
            None if claims.aud.len() == 1 => {}
            _ => {
                return Err(FlowError::UserInfo(
                    "ID token: azp is not this client".into(),
                ));
            }
        }
        let mut identity = Identity {
            issuer: d.issuer.clone(),
            subject: claims.sub.clone(),
            email: None,
            email_verified: false,
            name: None,
            image: None,
            scope: tokens
                .get("scope")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        read_profile(&mut identity, raw);
        if identity.email.is_none()
            && let Some(userinfo) = &d.userinfo_endpoint
        {
            let access = tokens
                .get("access_token")
                .and_then(Value::as_str)
                .unwrap_or("");
            let info = fetch::json(self.0.http.get(userinfo).bearer_auth(access))
                .await
                .map_err(|e| FlowError::UserInfo(format!("userinfo: {e}")))?;
            // OpenID Connect Core §5.3.2: a userinfo answer for another subject is ignored.
            if info.get("sub").and_then(Value::as_str) != Some(identity.subject.as_str()) {
                return Err(FlowError::UserInfo("userinfo: another subject".into()));
            }
            if let Some(map) = info.as_object() {
                read_profile(&mut identity, map);
            }
        }
        Ok(identity)
    }

    async fn finish_github(
        &self,
        p: &Runtime,
        state: &str,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Identity, FlowError> {
        let s = &p.settings;
        let token_endpoint = s
            .token_endpoint
            .clone()
            .unwrap_or_else(|| "https://github.com/login/oauth/access_token".into());
        let tokens = self
            .exchange(s, &token_endpoint, false, state, code, redirect_uri)
            .await?;
        let access = tokens
            .get("access_token")
            .and_then(Value::as_str)
            .unwrap_or("");
        let api = s
            .api_url
            .clone()
            .unwrap_or_else(|| "https://api.github.com".into());
        let api = api.trim_end_matches('/');
        let get = |path: &str| {
            self.0
                .http
                .get(format!("{api}{path}"))
                .bearer_auth(access)
                .header("x-github-api-version", "2022-11-28")
        };
        let user = fetch::json(get("/user"))
            .await
            .map_err(|e| FlowError::UserInfo(format!("/user: {e}")))?;
        let subject = match user.get("id") {
            Some(Value::Number(n)) if n.as_u64().is_some() => n.to_string(),
            _ => return Err(FlowError::UserInfo("/user has no numeric id".into())),
        };
        let emails = fetch::json(get("/user/emails"))
            .await
            .map_err(|e| FlowError::UserInfo(format!("/user/emails: {e}")))?;
        // The primary address, and whether GitHub verified it; another verified address is
        // not taken instead, so the address shown is the one the user chose.
        let primary = emails.as_array().and_then(|list| {
            list.iter()
                .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        });
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(Identity {
            issuer: format!("local:oauth:{}", s.id),
            subject,
            email: primary
                .and_then(|e| text(e, "email"))
                .map(|e| e.to_lowercase()),
            email_verified: primary
                .and_then(|e| e.get("verified"))
                .and_then(Value::as_bool)
                == Some(true),
            name: text(&user, "name")
                .filter(|n| !n.is_empty())
                .or_else(|| text(&user, "login")),
            image: text(&user, "avatar_url"),
            scope: tokens
                .get("scope")
                .and_then(Value::as_str)
                .map(|s| s.replace(',', " ")),
        })
    }
}

impl Runtime {
    fn read_cached(&self) -> Option<Arc<Discovered>> {
        self.discovered
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A discovered endpoint: absolute, https (or http on a loopback host), no fragment.
fn check_endpoint(url: &str) -> Result<(), &'static str> {
    if url.contains('#') {
        return Err("has a fragment");
    }
    // a query is allowed in discovered endpoints (OpenID Connect Discovery §3)
    check_provider_url(url.split('?').next().unwrap_or(url))
}

/// Email, verification, name and picture from ID-token or userinfo claims. Google once sent
/// `email_verified` as the string `"true"`; anything but `true` or `"true"` is unverified.
fn read_profile(identity: &mut Identity, claims: &serde_json::Map<String, Value>) {
    let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(email) = text("email").filter(|e| !e.is_empty()) {
        identity.email = Some(email.to_lowercase());
        identity.email_verified = match claims.get("email_verified") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        };
    }
    if identity.name.is_none() {
        identity.name = text("name").or_else(|| text("preferred_username"));
    }
    if identity.image.is_none() {
        identity.image = text("picture");
    }
}
