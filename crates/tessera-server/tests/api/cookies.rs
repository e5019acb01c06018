//! The session cookie itself (§3.2): Better Auth's test vectors byte for byte, reading the
//! encodings a browser or another Better Auth server may send, and the `__Secure-` prefix
//! with `Secure` under an https base URL.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_store::NewSession;

use crate::helpers::*;

/// The §3.2 vector: with [`SECRET`], this token signs to this cookie.
const VECTOR_TOKEN: &str = "DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU";
const VECTOR_SIGNED: &str =
    "DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU.wme6XmBw6G6UqOhO/mODvysHatLwZjStcc2YlAyVH50=";
const VECTOR_COOKIE: &str = "better-auth.session_token=DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU.wme6XmBw6G6UqOhO%2FmODvysHatLwZjStcc2YlAyVH50%3D";
const VECTOR_DONT_REMEMBER: &str = "true.i8K8lWmm43%2FqItRtT9GUzE75WMaFyDz4cMBHK5qe4nM%3D";

/// Stores a session whose token is the vector's, as a Better Auth server sharing the secret
/// would have issued it.
async fn app_with_vector_session() -> (TestApp, String) {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    app.store()
        .create_session(&NewSession {
            id: "VectorSessionVectorSessionVector".into(),
            user_id: user.id.clone(),
            token_digest: sha256_hex(VECTOR_TOKEN),
            expires_at: app.t0 + 7 * 86_400_000,
            now_ms: app.t0,
            ip_address: String::new(),
            user_agent: String::new(),
            remember: true,
            amr: "pwd".into(),
            auth_time: app.t0,
        })
        .await
        .unwrap();
    (app, user.id)
}

#[test]
fn the_test_helpers_reproduce_the_vector() {
    assert_eq!(
        format!("{VECTOR_TOKEN}.{}", cookie_signature(SECRET, VECTOR_TOKEN)),
        VECTOR_SIGNED
    );
    assert_eq!(
        format!("{SESSION_COOKIE}={}", encode_uri_component(VECTOR_SIGNED)),
        VECTOR_COOKIE
    );
}

#[tokio::test]
async fn the_better_auth_vector_cookie_is_accepted() {
    let (app, user_id) = app_with_vector_session().await;

    let session = app.session_json(&Who::Cookie(VECTOR_COOKIE.into())).await;

    assert_eq!(session["session"]["token"], VECTOR_TOKEN);
    assert_eq!(session["user"]["id"], user_id.as_str());
}

#[tokio::test]
async fn the_refreshed_cookie_for_the_vector_token_is_byte_for_byte_better_auths() {
    let (app, _) = app_with_vector_session().await;
    app.clock.advance(DAY * 2);

    let res = app.get_session(&Who::Cookie(VECTOR_COOKIE.into())).await;

    assert_eq!(
        set_cookies(&res),
        [format!(
            "{VECTOR_COOKIE}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
        )]
    );
    assert_eq!(
        header(&res, "set-auth-token").as_deref(),
        Some(VECTOR_SIGNED)
    );
}

#[tokio::test]
async fn the_vector_token_works_as_signed_and_as_raw_bearer() {
    let (app, user_id) = app_with_vector_session().await;

    for bearer in [VECTOR_SIGNED, VECTOR_TOKEN] {
        let session = app.session_json(&Who::Bearer(bearer.into())).await;
        assert_eq!(session["user"]["id"], user_id.as_str(), "{bearer}");
    }
}

#[tokio::test]
async fn the_dont_remember_cookie_is_the_better_auth_vector() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .sign_in(&json!({ "email": user.email, "password": user.password, "rememberMe": false }))
        .await;

    let dont_remember = set_cookies(&res)
        .into_iter()
        .find(|c| c.starts_with(DONT_REMEMBER_COOKIE))
        .unwrap();
    assert_eq!(
        dont_remember,
        format!("{DONT_REMEMBER_COOKIE}={VECTOR_DONT_REMEMBER}; Path=/; HttpOnly; SameSite=Lax")
    );
}

#[tokio::test]
async fn a_vector_dont_remember_cookie_stops_the_refresh() {
    let (app, _) = app_with_vector_session().await;
    app.clock.advance(DAY * 2);

    let res = app
        .get_session(&Who::Cookie(format!(
            "{VECTOR_COOKIE}; {DONT_REMEMBER_COOKIE}={VECTOR_DONT_REMEMBER}"
        )))
        .await;

    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["session"]["expiresAt"], iso(app.t0 + 7 * 86_400_000));
}

#[tokio::test]
async fn cookie_values_are_read_encoded_unencoded_quoted_and_among_other_cookies() {
    let (app, user_id) = app_with_vector_session().await;
    let encoded = VECTOR_COOKIE.split_once('=').unwrap().1;

    for cookie in [
        format!("{SESSION_COOKIE}={VECTOR_SIGNED}"),
        format!("{SESSION_COOKIE}=\"{encoded}\""),
        format!("theme=dark; {SESSION_COOKIE}={encoded}; other=1"),
        format!("{SESSION_COOKIE}={encoded}; {SESSION_COOKIE}=garbage"),
    ] {
        let session = app.session_json(&Who::Cookie(cookie.clone())).await;
        assert_eq!(session["user"]["id"], user_id.as_str(), "{cookie}");
    }
}

#[tokio::test]
async fn malformed_signatures_are_no_session() {
    let (app, _) = app_with_vector_session().await;
    let sig = VECTOR_SIGNED.split_once('.').unwrap().1;
    let unpadded = sig.trim_end_matches('=');

    for value in [
        format!("{VECTOR_TOKEN}.{unpadded}"),
        format!("{VECTOR_TOKEN}."),
        VECTOR_TOKEN.to_owned(),
        format!("{VECTOR_TOKEN}.{sig}x"),
        format!("x{VECTOR_TOKEN}.{sig}"),
        "%E0%A4%A".to_owned(),
    ] {
        let res = app
            .get_session(&Who::Cookie(format!("{SESSION_COOKIE}={value}")))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap(), "null", "{value}");
    }
}

#[tokio::test]
async fn an_https_base_url_uses_the_secure_prefix_and_attribute() {
    let app = spawn_app_with(|s| s.http.base_url = "https://auth.example.test".into()).await;

    let res = app
        .sign_up(&json!({ "name": "S", "email": unique_email(), "password": PASSWORD }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let cookie = session_set_cookie(&res).unwrap();
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let signed = format!("{token}.{}", cookie_signature(SECRET, token));
    assert_eq!(
        cookie,
        format!(
            "__Secure-better-auth.session_token={}; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax",
            encode_uri_component(&signed)
        )
    );
    let prefixed = cookie_pair(&cookie);
    let unprefixed = prefixed.trim_start_matches("__Secure-").to_owned();
    assert_eq!(
        app.session_json(&Who::Cookie(prefixed)).await["session"]["token"],
        token
    );
    assert_eq!(
        app.session_json(&Who::Cookie(unprefixed)).await,
        Value::Null,
        "the un-prefixed name is ignored under https"
    );
}

#[tokio::test]
async fn an_https_deployment_clears_secure_cookies_on_sign_out() {
    let app = spawn_app_with(|s| s.http.base_url = "https://auth.example.test".into()).await;
    let res = app
        .sign_up(&json!({ "name": "S", "email": unique_email(), "password": PASSWORD }))
        .await;
    let cookie = cookie_pair(&session_set_cookie(&res).unwrap());

    let res = app
        .request(reqwest::Method::POST, "/api/auth/sign-out")
        .header("content-type", "application/json")
        .header("cookie", &cookie)
        .header("origin", "https://auth.example.test")
        .body("{}")
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    let cleared = set_cookies(&res);
    assert!(cleared.contains(
        &"__Secure-better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax".to_owned()
    ), "{cleared:?}");
    assert_eq!(app.session_json(&Who::Cookie(cookie)).await, Value::Null);
}
