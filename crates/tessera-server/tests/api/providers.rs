//! Sign-in with identity providers and linking (`sign-in/social`, `callback/{provider}`,
//! `link-social`, `list-accounts`, `unlink-account`), against a real provider under the
//! test's control (`tessera_testkit::provider`: an HTTP server on 127.0.0.1 that speaks
//! OpenID Connect and GitHub's OAuth 2.0 and signs what it is told), and every attack of
//! issue #15: state tampered, replayed, expired, missing, made for another provider or
//! without its cookie; code injection (another flow's code, so the wrong `code_verifier`);
//! ID tokens with a wrong `iss`/`aud`/`azp`/`nonce`/`exp`/algorithm or signature; implicit
//! linking refused unless both addresses are verified (the pre-hijack case); open redirects
//! through every URL parameter; discovery documents that point elsewhere.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tessera_server::settings::Provider;
use tessera_testkit::provider::{Person, Signing, TestProvider, Tweaks};

use crate::helpers::*;

const CLIENT_ID: &str = "tessera-client";
const CLIENT_SECRET: &str = "client-secret-0123456789";
const STATE_COOKIE: &str = "better-auth.state";

/// A server with two providers on one test provider: `test` (OpenID Connect by discovery)
/// and `github` (GitHub's endpoints overridden to the test provider).
async fn spawn() -> (TestApp, TestProvider) {
    let idp = TestProvider::start(CLIENT_ID, CLIENT_SECRET).await;
    let url = idp.url.clone();
    let app = spawn_app_with(|s| {
        let mut oidc = Provider::new(
            "test",
            CLIENT_ID.into(),
            CLIENT_SECRET.as_bytes().to_vec().into(),
        );
        oidc.issuer = Some(url.clone());
        oidc.name = "Test OIDC".into();
        let mut github = Provider::new(
            "github",
            CLIENT_ID.into(),
            CLIENT_SECRET.as_bytes().to_vec().into(),
        );
        github.authorization_endpoint = Some(format!("{url}/login/oauth/authorize"));
        github.token_endpoint = Some(format!("{url}/login/oauth/access_token"));
        github.api_url = Some(format!("{url}/api"));
        s.providers.list = vec![oidc, github];
    })
    .await;
    (app, idp)
}

/// A started flow: the provider's URL, the state, and the state cookie (`name=value`).
struct Flow {
    url: String,
    state: String,
    cookie: String,
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn post(app: &TestApp, path: &str, body: &Value, cookie: Option<&str>) -> Response {
    let mut rb = app
        .request(Method::POST, path)
        .header("content-type", "application/json")
        .header("origin", ORIGIN)
        .body(body.to_string());
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    rb.send().await.unwrap()
}

/// `POST /sign-in/social` for `provider` with `extra` fields.
async fn begin(app: &TestApp, provider: &str, extra: Value) -> Flow {
    let mut body = json!({ "provider": provider, "callbackURL": "/tasks" });
    if let (Some(b), Value::Object(more)) = (body.as_object_mut(), extra) {
        b.extend(more);
    }
    let res = post(app, "/api/auth/sign-in/social", &body, None).await;
    flow_of(res).await
}

async fn flow_of(res: Response) -> Flow {
    assert_eq!(res.status(), StatusCode::OK);
    let location = header(&res, "location").expect("a Location header");
    let cookie = set_cookies(&res)
        .iter()
        .find(|c| c.starts_with(&format!("{STATE_COOKIE}=")))
        .map(|c| cookie_pair(c))
        .expect("the state cookie");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["redirect"], true);
    let url = body["url"].as_str().unwrap().to_owned();
    assert_eq!(url, location);
    Flow {
        state: query_param(&url, "state").expect("a state"),
        url,
        cookie,
    }
}

/// Follows the provider's authorization endpoint (it signs in at once) and returns the
/// callback URL it redirects to, on the app's real address.
async fn authorize(app: &TestApp, flow: &Flow) -> String {
    let res = app.api.get(&flow.url).send().await.unwrap();
    assert_eq!(
        res.status(),
        StatusCode::FOUND,
        "the provider redirects back"
    );
    let back = header(&res, "location").unwrap();
    assert!(
        back.starts_with(&format!("{BASE_URL}/api/auth/callback/")),
        "{back}"
    );
    back.replacen(BASE_URL, &app.address, 1)
}

async fn call_back(app: &TestApp, url: &str, cookie: Option<&str>) -> Response {
    let mut rb = app.api.get(url);
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    rb.send().await.unwrap()
}

/// The whole flow in one browser: the callback's answer.
async fn sign_in_with(app: &TestApp, provider: &str) -> Response {
    let flow = begin(app, provider, json!({})).await;
    let back = authorize(app, &flow).await;
    call_back(app, &back, Some(&flow.cookie)).await
}

fn location(res: &Response) -> String {
    assert_eq!(res.status(), StatusCode::FOUND);
    header(res, "location").expect("Location")
}

/// The `error` of a callback's redirect, `None` on success.
fn error_of(res: &Response) -> Option<String> {
    query_param(&location(res), "error")
}

fn session_cookie(res: &Response) -> Option<String> {
    set_cookies(res)
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")) && !c.contains("Max-Age=0"))
        .map(|c| cookie_pair(c))
}

/// A signed-in callback: 302 to the app with a working session cookie.
async fn assert_signed_in(app: &TestApp, res: &Response) -> (String, Value) {
    assert_eq!(error_of(res), None, "{}", location(res));
    let cookie = session_cookie(res).expect("a session cookie");
    let session = app.session_json(&Who::Cookie(cookie.clone())).await;
    assert!(session.is_object(), "the session works: {session}");
    (cookie, session["user"].clone())
}

/// A refused callback: redirected with this error, no session cookie.
fn assert_refused(res: &Response, code: &str) {
    assert_eq!(error_of(res).as_deref(), Some(code), "{}", location(res));
    assert!(session_cookie(res).is_none(), "no session on a refusal");
}

async fn verify_local_email(app: &TestApp, email: &str) {
    app.exec(&format!(
        "UPDATE users SET email_verified = (1 = 1) WHERE email = '{email}'"
    ))
    .await;
}

// ------------------------------------------------------------------ the happy paths

#[tokio::test]
async fn oidc_sign_in_creates_a_user_keyed_by_issuer_and_subject() {
    let (app, idp) = spawn().await;
    idp.set_person(Person::verified("alice-sub", "alice@example.com"));
    let flow = begin(&app, "test", json!({ "newUserCallbackURL": "/welcome" })).await;
    // PKCE S256, a nonce, the registered redirect URI
    let auth = |name: &str| query_param(&flow.url, name);
    assert_eq!(auth("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(auth("code_challenge").map(|c| c.len()), Some(43));
    assert!(auth("nonce").is_some_and(|n| n.len() >= 32));
    assert_eq!(
        auth("redirect_uri").as_deref(),
        Some(format!("{BASE_URL}/api/auth/callback/test").as_str())
    );
    assert_eq!(auth("scope").as_deref(), Some("openid email profile"));
    assert!(flow.state.len() >= 43, "a state of 256 bits");
    let back = authorize(&app, &flow).await;
    let res = call_back(&app, &back, Some(&flow.cookie)).await;
    assert_eq!(
        location(&res),
        "/welcome",
        "a new user goes to newUserCallbackURL"
    );
    assert!(
        set_cookies(&res)
            .iter()
            .any(|c| c.starts_with(&format!("{STATE_COOKIE}=;")) && c.contains("Max-Age=0")),
        "the state cookie is cleared"
    );
    let (_, user) = assert_signed_in(&app, &res).await;
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["emailVerified"], true, "the provider verified it");
    assert_eq!(
        app.count_where(
            "accounts",
            &format!(
                "provider_id = 'test' AND issuer = '{}' AND account_id = 'alice-sub'",
                idp.url
            )
        )
        .await,
        1
    );
    assert_eq!(app.count("oauth_states").await, 0, "the state was consumed");

    // Signing in again finds the same user by (issuer, subject) and goes to callbackURL.
    let again = sign_in_with(&app, "test").await;
    assert_eq!(location(&again), "/tasks");
    let (_, user2) = assert_signed_in(&app, &again).await;
    assert_eq!(user2["id"], user["id"]);
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn github_sign_in_takes_the_verified_primary_address() {
    let (app, idp) = spawn().await;
    let person = Person::verified("octocat", "octo@example.com");
    let github_id = person.github_id;
    idp.set_person(person);
    let flow = begin(&app, "github", json!({})).await;
    assert_eq!(
        query_param(&flow.url, "scope").as_deref(),
        Some("read:user user:email")
    );
    assert_eq!(
        query_param(&flow.url, "nonce"),
        None,
        "no nonce for plain OAuth 2.0"
    );
    assert_eq!(
        query_param(&flow.url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let back = authorize(&app, &flow).await;
    let res = call_back(&app, &back, Some(&flow.cookie)).await;
    let (_, user) = assert_signed_in(&app, &res).await;
    assert_eq!(
        user["email"], "octo@example.com",
        "the primary, not the other verified one"
    );
    assert_eq!(user["emailVerified"], true);
    assert_eq!(
        app.count_where(
            "accounts",
            &format!(
                "issuer = 'local:oauth:github' AND account_id = '{github_id}' AND provider_id = 'github'"
            )
        )
        .await,
        1
    );
}

#[tokio::test]
async fn an_unverified_github_primary_address_makes_an_unverified_user() {
    let (app, idp) = spawn().await;
    idp.set_person(Person::verified("unv", "unv@example.com").unverified());
    let res = sign_in_with(&app, "github").await;
    let (_, user) = assert_signed_in(&app, &res).await;
    assert_eq!(user["emailVerified"], false);
}

#[tokio::test]
async fn a_form_post_callback_is_reissued_as_a_get_with_the_same_parameters() {
    let (app, _idp) = spawn().await;
    let res = app
        .request(Method::POST, "/api/auth/callback/test")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("code=abc&state=xyz&iss=http%3A%2F%2Fidp&unknown=1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        header(&res, "location").unwrap(),
        format!("{BASE_URL}/api/auth/callback/test?code=abc&state=xyz&iss=http%3A%2F%2Fidp")
    );
}

#[tokio::test]
async fn unknown_providers_and_id_token_sign_in_are_refused() {
    let (app, _idp) = spawn().await;
    let res = post(
        &app,
        "/api/auth/sign-in/social",
        &json!({ "provider": "nope" }),
        None,
    )
    .await;
    assert_error(res, StatusCode::NOT_FOUND, "PROVIDER_NOT_FOUND").await;
    let res = post(
        &app,
        "/api/auth/sign-in/social",
        &json!({ "provider": "test", "idToken": { "token": "x" } }),
        None,
    )
    .await;
    assert_error(res, StatusCode::NOT_FOUND, "ID_TOKEN_NOT_SUPPORTED").await;
    let res = call_back(
        &app,
        &app.url("/api/auth/callback/nope?code=a&state=b"),
        None,
    )
    .await;
    assert_refused(&res, "oauth_provider_not_found");
    let providers: Value = app
        .request(Method::GET, "/api/auth/providers")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        providers,
        json!([{ "id": "test", "name": "Test OIDC" }, { "id": "github", "name": "GitHub" }])
    );
}

// ------------------------------------------------------------------ state

#[tokio::test]
async fn a_tampered_state_is_refused() {
    let (app, _idp) = spawn().await;
    let flow = begin(&app, "test", json!({})).await;
    let back = authorize(&app, &flow).await;
    let mut tampered = flow.state.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let url = back.replace(&flow.state, &tampered);
    let res = call_back(&app, &url, Some(&flow.cookie)).await;
    assert_refused(&res, "state_mismatch");
    // and a cookie forged to match it is not signed by the server
    let forged = format!("{STATE_COOKIE}={tampered}.AAAA");
    let res = call_back(&app, &url, Some(&forged)).await;
    assert_refused(&res, "state_mismatch");
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn a_replayed_state_is_refused_and_the_provider_is_not_asked_again() {
    let (app, idp) = spawn().await;
    let flow = begin(&app, "test", json!({})).await;
    let back = authorize(&app, &flow).await;
    let first = call_back(&app, &back, Some(&flow.cookie)).await;
    assert_signed_in(&app, &first).await;
    let exchanges = idp.token_requests();
    // the same callback URL and cookie again (a replayed code and state)
    let replay = call_back(&app, &back, Some(&flow.cookie)).await;
    assert_refused(&replay, "state_mismatch");
    assert_eq!(
        idp.token_requests(),
        exchanges,
        "the code is not redeemed again"
    );
}

#[tokio::test]
async fn an_expired_state_is_refused() {
    let (app, _idp) = spawn().await;
    let flow = begin(&app, "test", json!({ "errorCallbackURL": "/sign-in" })).await;
    let back = authorize(&app, &flow).await;
    app.clock
        .advance(std::time::Duration::from_secs(10 * 60 + 1));
    let res = call_back(&app, &back, Some(&flow.cookie)).await;
    assert_refused(&res, "state_mismatch");
    assert!(
        location(&res).starts_with("/sign-in?"),
        "errorCallbackURL is used"
    );
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn a_missing_state_is_refused() {
    let (app, _idp) = spawn().await;
    let flow = begin(&app, "test", json!({})).await;
    let back = authorize(&app, &flow).await;
    let url = back.replace(&format!("&state={}", flow.state), "");
    assert!(!url.contains("state="));
    let res = call_back(&app, &url, Some(&flow.cookie)).await;
    assert_refused(&res, "state_not_found");
    assert!(
        location(&res).starts_with(&format!("{BASE_URL}/api/auth/error?")),
        "the default error page"
    );
}

#[tokio::test]
async fn a_state_made_for_another_provider_is_refused() {
    let (app, _idp) = spawn().await;
    // a flow started for `test`, its callback presented at `github` (a mix-up)
    let flow = begin(&app, "test", json!({})).await;
    let back = authorize(&app, &flow).await;
    let url = back.replace("/callback/test?", "/callback/github?");
    let res = call_back(&app, &url, Some(&flow.cookie)).await;
    assert_refused(&res, "state_mismatch");
    // the state is spent: it does not work at its own provider afterwards either
    let res = call_back(&app, &back, Some(&flow.cookie)).await;
    assert_refused(&res, "state_mismatch");
}

#[tokio::test]
async fn a_callback_without_the_state_cookie_is_refused() {
    let (app, _idp) = spawn().await;
    let flow = begin(&app, "test", json!({})).await;
    let back = authorize(&app, &flow).await;
    // another browser (a login-CSRF victim) follows the attacker's callback URL
    let res = call_back(&app, &back, None).await;
    assert_refused(&res, "state_mismatch");
    // a state cookie from another flow does not fit either
    let other = begin(&app, "test", json!({})).await;
    let res = call_back(&app, &back, Some(&other.cookie)).await;
    assert_refused(&res, "state_mismatch");
    assert_eq!(app.count("users").await, 0);
}

// ------------------------------------------------------------------ the code

#[tokio::test]
async fn a_code_injected_into_another_flow_fails_pkce() {
    let (app, _idp) = spawn().await;
    // the victim's flow yields a code the attacker steals before it is used
    let victim = begin(&app, "test", json!({})).await;
    let victim_back = authorize(&app, &victim).await;
    let stolen = query_param(&victim_back, "code").unwrap();
    // the attacker's own flow, with the stolen code: Tessera sends the attacker's
    // code_verifier, which does not fit the victim's code_challenge
    let attacker = begin(&app, "test", json!({})).await;
    let url = app.url(&format!(
        "/api/auth/callback/test?code={stolen}&state={}",
        attacker.state
    ));
    let res = call_back(&app, &url, Some(&attacker.cookie)).await;
    assert_refused(&res, "invalid_code");
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn a_wrong_code_verifier_is_refused_by_the_provider() {
    // The test provider enforces PKCE as a real one does: the same code with another
    // verifier fails (what makes the injection above fail).
    let (app, idp) = spawn().await;
    let flow = begin(&app, "test", json!({})).await;
    let back = authorize(&app, &flow).await;
    let code = query_param(&back, "code").unwrap();
    let redirect = format!("{BASE_URL}/api/auth/callback/test");
    let status = idp
        .redeem(
            &code,
            &redirect,
            "a-verifier-that-is-not-the-one-0123456789abcdef",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_code_is_never_redeemed_twice() {
    let (app, idp) = spawn().await;
    let flow = begin(&app, "test", json!({})).await;
    let back = authorize(&app, &flow).await;
    let ok = call_back(&app, &back, Some(&flow.cookie)).await;
    assert_signed_in(&app, &ok).await;
    // the code again, in a fresh flow of the same browser: the provider refuses it
    let code = query_param(&back, "code").unwrap();
    let next = begin(&app, "test", json!({})).await;
    let url = app.url(&format!(
        "/api/auth/callback/test?code={code}&state={}",
        next.state
    ));
    let res = call_back(&app, &url, Some(&next.cookie)).await;
    assert_refused(&res, "invalid_code");
    assert_eq!(idp.issued_codes().len(), 1);
}

#[tokio::test]
async fn a_provider_error_is_passed_on_and_a_missing_code_refused() {
    let (app, _idp) = spawn().await;
    let flow = begin(&app, "test", json!({ "errorCallbackURL": "/sign-in" })).await;
    let url = app.url(&format!(
        "/api/auth/callback/test?error=access_denied&state={}",
        flow.state
    ));
    let res = call_back(&app, &url, Some(&flow.cookie)).await;
    assert_refused(&res, "access_denied");
    let flow = begin(&app, "test", json!({})).await;
    let url = app.url(&format!("/api/auth/callback/test?state={}", flow.state));
    let res = call_back(&app, &url, Some(&flow.cookie)).await;
    assert_refused(&res, "no_code");
}

// ------------------------------------------------------------------ the ID token

/// One flow with the provider misbehaving as told; the callback must refuse it.
async fn refused_with(tweaks: Tweaks, code: &str) {
    let (app, idp) = spawn().await;
    idp.set_tweaks(tweaks);
    let res = sign_in_with(&app, "test").await;
    assert_refused(&res, code);
    assert_eq!(app.count("users").await, 0, "nobody was created");
    assert_eq!(app.count("sessions").await, 0, "no session");
}

#[tokio::test]
async fn an_id_token_from_another_issuer_is_refused() {
    refused_with(
        Tweaks {
            id_token_iss: Some("https://evil.example".into()),
            ..Tweaks::default()
        },
        "unable_to_get_user_info",
    )
    .await;
}

#[tokio::test]
async fn an_id_token_for_another_client_is_refused() {
    refused_with(
        Tweaks {
            id_token_aud: Some(json!("another-client")),
            ..Tweaks::default()
        },
        "unable_to_get_user_info",
    )
    .await;
    // several audiences need azp = this client
    refused_with(
        Tweaks {
            id_token_aud: Some(json!([CLIENT_ID, "another-client"])),
            ..Tweaks::default()
        },
        "unable_to_get_user_info",
    )
    .await;
    refused_with(
        Tweaks {
            id_token_azp: Some("another-client".into()),
            ..Tweaks::default()
        },
        "unable_to_get_user_info",
    )
    .await;
}

#[tokio::test]
async fn an_id_token_with_a_wrong_or_missing_nonce_is_refused() {
    refused_with(
        Tweaks {
            id_token_nonce: Some(Some("not-the-nonce".into())),
            ..Tweaks::default()
        },
        "unable_to_get_user_info",
    )
    .await;
    refused_with(
        Tweaks {
            id_token_nonce: Some(None),
            ..Tweaks::default()
        },
        "unable_to_get_user_info",
    )
    .await;
}

#[tokio::test]
async fn an_expired_id_token_is_refused() {
    refused_with(
        Tweaks {
            id_token_exp_in: -120,
            ..Tweaks::default()
        },
        "unable_to_get_user_info",
    )
    .await;
}

#[tokio::test]
async fn an_id_token_with_a_disallowed_algorithm_is_refused() {
    for signing in [Signing::None, Signing::Hs256WithClientSecret] {
        refused_with(
            Tweaks {
                signing,
                ..Tweaks::default()
            },
            "unable_to_get_user_info",
        )
        .await;
    }
}

#[tokio::test]
async fn an_id_token_with_a_bad_signature_is_refused() {
    for signing in [Signing::Corrupted, Signing::OtherKey] {
        refused_with(
            Tweaks {
                signing,
                ..Tweaks::default()
            },
            "unable_to_get_user_info",
        )
        .await;
    }
}

#[tokio::test]
async fn the_callback_iss_parameter_must_be_the_issuer() {
    // RFC 9207: a wrong `iss` in the authorization response (a mix-up)...
    refused_with(
        Tweaks {
            iss_param: Some("https://evil.example".into()),
            ..Tweaks::default()
        },
        "issuer_mismatch",
    )
    .await;
    // ...and none at all from a provider that promises one
    refused_with(
        Tweaks {
            iss_param_supported: true,
            ..Tweaks::default()
        },
        "issuer_missing",
    )
    .await;
    // the right one passes
    let (app, idp) = spawn().await;
    idp.set_tweaks(Tweaks {
        iss_param: Some(idp.url.clone()),
        iss_param_supported: true,
        ..Tweaks::default()
    });
    let res = sign_in_with(&app, "test").await;
    assert_signed_in(&app, &res).await;
}

#[tokio::test]
async fn a_token_endpoint_redirect_is_not_followed() {
    let (app, idp) = spawn().await;
    let elsewhere = TestProvider::start(CLIENT_ID, CLIENT_SECRET).await;
    idp.set_tweaks(Tweaks {
        token_redirects_to: Some(format!("{}/token", elsewhere.url)),
        ..Tweaks::default()
    });
    let res = sign_in_with(&app, "test").await;
    assert_refused(&res, "invalid_code");
    assert_eq!(
        elsewhere.token_requests(),
        0,
        "the redirect was not followed"
    );
}

// ------------------------------------------------------------------ discovery

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let (app, idp) = spawn().await;
    idp.set_tweaks(Tweaks {
        discovery_issuer: Some("https://evil.example".into()),
        ..Tweaks::default()
    });
    let res = post(
        &app,
        "/api/auth/sign-in/social",
        &json!({ "provider": "test" }),
        None,
    )
    .await;
    assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE").await;
    assert_eq!(app.count("oauth_states").await, 0, "no flow was started");
}

#[tokio::test]
async fn a_discovery_document_pointing_keys_elsewhere_is_refused() {
    let (app, idp) = spawn().await;
    // keys over plain http on a public host: refused (https only, http on loopback only)
    idp.set_tweaks(Tweaks {
        discovery_jwks_uri: Some("http://keys.evil.example/jwks".into()),
        ..Tweaks::default()
    });
    let res = post(
        &app,
        "/api/auth/sign-in/social",
        &json!({ "provider": "test" }),
        None,
    )
    .await;
    assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE").await;
    // keys on another (reachable) server: the ID token, signed by the real provider's
    // key, is not verified by them
    let (app, idp) = spawn().await;
    let elsewhere = TestProvider::start(CLIENT_ID, CLIENT_SECRET).await;
    idp.set_tweaks(Tweaks {
        discovery_jwks_uri: Some(format!("{}/jwks", elsewhere.url)),
        ..Tweaks::default()
    });
    let res = sign_in_with(&app, "test").await;
    assert_refused(&res, "unable_to_get_user_info");
}

// ------------------------------------------------------------------ linking

#[tokio::test]
async fn an_unverified_provider_address_does_not_link_to_a_verified_user() {
    let (app, idp) = spawn().await;
    let local = app
        .signed_up_user_with("victim@example.com", PASSWORD)
        .await;
    verify_local_email(&app, "victim@example.com").await;
    idp.set_person(Person::verified("attacker", "victim@example.com").unverified());
    let res = sign_in_with(&app, "test").await;
    assert_refused(&res, "account_not_linked");
    assert!(
        query_param(&location(&res), "error_description")
            .is_some_and(|d| d.contains("link this provider from the account page"))
    );
    assert_eq!(
        app.count_where("accounts", &format!("user_id = '{}'", local.id))
            .await,
        1,
        "only the password"
    );
}

#[tokio::test]
async fn an_unverified_local_account_is_never_linked_implicitly() {
    // The pre-hijack: an attacker registers the victim's address with a password (never
    // verified), then the victim signs in with their provider.
    let (app, idp) = spawn().await;
    let attacker = app
        .signed_up_user_with("victim2@example.com", PASSWORD)
        .await;
    idp.set_person(Person::verified("victim-sub", "victim2@example.com"));
    let res = sign_in_with(&app, "github").await;
    assert_refused(&res, "account_not_linked");
    let res = sign_in_with(&app, "test").await;
    assert_refused(&res, "account_not_linked");
    assert_eq!(
        app.count_where("accounts", &format!("user_id = '{}'", attacker.id))
            .await,
        1,
        "the attacker's account gained no identity"
    );
}

#[tokio::test]
async fn both_addresses_verified_link_implicitly() {
    let (app, idp) = spawn().await;
    let local = app.signed_up_user_with("both@example.com", PASSWORD).await;
    verify_local_email(&app, "both@example.com").await;
    idp.set_person(Person::verified("both-sub", "both@example.com"));
    let res = sign_in_with(&app, "test").await;
    let (_, user) = assert_signed_in(&app, &res).await;
    assert_eq!(user["id"], local.id.as_str());
    assert_eq!(location(&res), "/tasks", "not a new user");
    // the password still works
    assert_eq!(
        app.sign_in_status("both@example.com", PASSWORD).await,
        StatusCode::OK
    );
}

/// `list-accounts` of a session.
async fn accounts(app: &TestApp, cookie: &str) -> Vec<Value> {
    let res = app
        .request(Method::GET, "/api/auth/list-accounts")
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>()
        .await
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

async fn link(app: &TestApp, cookie: &str, provider: &str) -> Response {
    let res = post(
        app,
        "/api/auth/link-social",
        &json!({ "provider": provider, "callbackURL": "/account" }),
        Some(cookie),
    )
    .await;
    let flow = flow_of(res).await;
    let back = authorize(app, &flow).await;
    call_back(app, &back, Some(&format!("{cookie}; {}", flow.cookie))).await
}

#[tokio::test]
async fn link_list_and_unlink_accounts() {
    let (app, idp) = spawn().await;
    let user = app
        .signed_up_user_with("linker@example.com", PASSWORD)
        .await;
    let listed = accounts(&app, &user.cookie).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        keys(&listed[0]),
        sorted(&[
            "id",
            "providerId",
            "accountId",
            "userId",
            "createdAt",
            "updatedAt",
            "scopes"
        ])
    );
    assert_eq!(listed[0]["providerId"], "credential");

    // linking needs the provider to have verified this user's own address
    idp.set_person(Person::verified("other-sub", "someone-else@example.com"));
    let res = link(&app, &user.cookie, "test").await;
    assert_refused(&res, "email_does_not_match");
    idp.set_person(Person::verified("linker-sub", "linker@example.com").unverified());
    let res = link(&app, &user.cookie, "test").await;
    assert_refused(&res, "unable_to_link_account");

    idp.set_person(Person::verified("linker-sub", "linker@example.com"));
    let res = link(&app, &user.cookie, "test").await;
    assert_eq!(location(&res), "/account");
    assert!(session_cookie(&res).is_none(), "linking starts no session");
    let listed = accounts(&app, &user.cookie).await;
    assert_eq!(listed.len(), 2);
    let linked = listed.iter().find(|a| a["providerId"] == "test").unwrap();
    assert_eq!(linked["accountId"], "linker-sub");
    assert_eq!(linked["scopes"], json!(["openid", "email", "profile"]));

    // the identity now signs this user in
    let res = sign_in_with(&app, "test").await;
    let (_, signed) = assert_signed_in(&app, &res).await;
    assert_eq!(signed["id"], user.id.as_str());

    // unlink the password; the identity is then the last way in and stays
    let credential = listed
        .iter()
        .find(|a| a["providerId"] == "credential")
        .unwrap();
    let res = post(
        &app,
        "/api/auth/unlink-account",
        &json!({ "accountId": credential["id"] }),
        Some(&user.cookie),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "status": true })
    );
    let res = post(
        &app,
        "/api/auth/unlink-account",
        &json!({ "accountId": linked["id"] }),
        Some(&user.cookie),
    )
    .await;
    assert_error(
        res,
        StatusCode::BAD_REQUEST,
        "FAILED_TO_UNLINK_LAST_ACCOUNT",
    )
    .await;
    let res = post(
        &app,
        "/api/auth/unlink-account",
        &json!({ "accountId": "no-such-account" }),
        Some(&user.cookie),
    )
    .await;
    assert_error(res, StatusCode::BAD_REQUEST, "ACCOUNT_NOT_FOUND").await;
    assert_eq!(accounts(&app, &user.cookie).await.len(), 1);
}

#[tokio::test]
async fn an_identity_linked_to_another_user_is_refused() {
    let (app, idp) = spawn().await;
    idp.set_person(Person::verified("shared-sub", "first@example.com"));
    let first = sign_in_with(&app, "test").await;
    assert_signed_in(&app, &first).await;
    let second = app
        .signed_up_user_with("second@example.com", PASSWORD)
        .await;
    // the provider still signs in shared-sub, now reporting the second user's address
    idp.set_person(Person::verified("shared-sub", "second@example.com"));
    let res = link(&app, &second.cookie, "test").await;
    assert_refused(&res, "account_already_linked_to_different_user");
    assert_eq!(accounts(&app, &second.cookie).await.len(), 1);
}

#[tokio::test]
async fn linking_and_unlinking_need_a_fresh_session() {
    let (app, _idp) = spawn().await;
    let user = app.signed_up_user().await;
    app.clock.advance(std::time::Duration::from_secs(16 * 60));
    let res = post(
        &app,
        "/api/auth/link-social",
        &json!({ "provider": "test" }),
        Some(&user.cookie),
    )
    .await;
    assert_error(res, StatusCode::FORBIDDEN, "SESSION_NOT_FRESH").await;
    let listed = accounts(&app, &user.cookie).await;
    let res = post(
        &app,
        "/api/auth/unlink-account",
        &json!({ "accountId": listed[0]["id"] }),
        Some(&user.cookie),
    )
    .await;
    assert_error(res, StatusCode::FORBIDDEN, "SESSION_NOT_FRESH").await;
    // and without a session at all
    let res = post(
        &app,
        "/api/auth/link-social",
        &json!({ "provider": "test" }),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

// ------------------------------------------------------------------ open redirects

#[tokio::test]
async fn every_callback_url_parameter_refuses_foreign_origins() {
    let (app, _idp) = spawn().await;
    let user = app.signed_up_user().await;
    for field in ["callbackURL", "newUserCallbackURL", "errorCallbackURL"] {
        for evil in [
            "https://evil.example/x",
            "//evil.example/x",
            "/\\evil.example",
            "javascript:alert(1)",
        ] {
            let res = post(
                &app,
                "/api/auth/sign-in/social",
                &json!({ "provider": "test", field: evil }),
                None,
            )
            .await;
            assert_error(res, StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL").await;
            if field != "newUserCallbackURL" {
                let res = post(
                    &app,
                    "/api/auth/link-social",
                    &json!({ "provider": "test", field: evil }),
                    Some(&user.cookie),
                )
                .await;
                assert_error(res, StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL").await;
            }
        }
    }
    assert_eq!(app.count("oauth_states").await, 0);
    // a trusted absolute URL is fine
    let flow = begin(
        &app,
        "test",
        json!({ "callbackURL": format!("{ORIGIN}/tasks") }),
    )
    .await;
    assert!(!flow.state.is_empty());
}
