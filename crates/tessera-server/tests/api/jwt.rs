//! Access tokens and the JWKS (§5): the header and every claim of tokens from `/token` and
//! from `get-session`'s `set-auth-jwt`, their signatures checked against the published keys
//! with aws-lc-rs (EdDSA by default, ES256, RS256), and HS256 with a shared secret.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tessera_server::JwtAlg;

use crate::helpers::*;

const HS_SECRET: &[u8] = b"shared-hs256-secret-for-backends-0123456789";

/// Asserts the full header and claim set of a Tessera access token for this user/session.
fn assert_claims(jwt: &Jwt, user: &TestUser, session_id: &str, now_ms: i64, ttl_secs: i64) {
    let c = &jwt.claims;
    assert_eq!(
        keys(c),
        sorted(&[
            "iss",
            "aud",
            "sub",
            "iat",
            "exp",
            "jti",
            "sid",
            "email",
            "name",
            "emailVerified",
            "amr",
            "auth_time"
        ]),
        "claims {c}"
    );
    assert_eq!(c["amr"], serde_json::json!(["pwd"]), "a password sign-in");
    assert!(c["auth_time"].as_i64().unwrap() <= now_ms / 1000);
    assert_eq!(c["iss"], ORIGIN);
    assert_eq!(c["aud"], ORIGIN);
    assert_eq!(c["sub"], user.id.as_str());
    assert_eq!(c["iat"], now_ms / 1000);
    assert_eq!(c["exp"], now_ms / 1000 + ttl_secs);
    assert_id(c["jti"].as_str().unwrap());
    assert_eq!(c["sid"], session_id);
    assert_eq!(c["email"], user.email.as_str());
    assert_eq!(c["name"], user.name.as_str());
    assert_eq!(c["emailVerified"], false);
}

async fn session_id(app: &TestApp, user: &TestUser) -> String {
    app.session_json(&user.by_bearer()).await["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_jwks_publishes_one_ed25519_key_in_better_auth_shape() {
    let app = spawn_app().await;

    let res = app.jwks().await;

    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let jwks: Value = res.json().await.unwrap();
    assert_eq!(keys(&jwks), ["keys"]);
    let all = jwks["keys"].as_array().unwrap();
    assert_eq!(all.len(), 1);
    let k = &all[0];
    assert_eq!(
        keys(k),
        sorted(&["alg", "crv", "x", "kty", "kid"]),
        "no `use`, no `d`"
    );
    assert_eq!(k["alg"], "EdDSA");
    assert_eq!(k["crv"], "Ed25519");
    assert_eq!(k["kty"], "OKP");
    assert_id(k["kid"].as_str().unwrap());
    let x = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        k["x"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(x.len(), 32);
}

#[tokio::test]
async fn the_jwks_needs_no_authentication_and_is_stable() {
    let app = spawn_app().await;

    let a = jwks_json(&app).await;
    let b = jwks_json(&app).await;

    assert_eq!(a, b);
}

#[tokio::test]
async fn the_token_endpoint_issues_an_eddsa_jwt_with_every_claim_that_verifies_against_the_jwks() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let sid = session_id(&app, &user).await;
    let jwks = jwks_json(&app).await;

    let token = app.access_token(&user.by_cookie()).await;

    let jwt = decode_jwt(&token);
    assert_eq!(keys(&jwt.header), sorted(&["alg", "kid", "typ"]));
    assert_eq!(jwt.header["alg"], "EdDSA");
    assert_eq!(jwt.header["typ"], "at+jwt");
    assert_eq!(jwt.header["kid"], jwks["keys"][0]["kid"]);
    assert_claims(&jwt, &user, &sid, app.t0, 900);
    assert!(
        verifies_with_jwks(&token, &jwks),
        "Ed25519 signature verifies"
    );
}

#[tokio::test]
async fn the_set_auth_jwt_of_get_session_is_the_same_kind_of_token() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwks = jwks_json(&app).await;
    app.clock.advance(Duration::from_secs(5));

    let res = app.get_session(&user.by_cookie()).await;

    let token = header(&res, "set-auth-jwt").unwrap();
    let body: Value = res.json().await.unwrap();
    let sid = body["session"]["id"].as_str().unwrap();
    let jwt = decode_jwt(&token);
    assert_eq!(jwt.header["alg"], "EdDSA");
    assert_eq!(jwt.header["typ"], "at+jwt");
    assert_claims(&jwt, &user, sid, app.t0 + 5000, 900);
    assert!(verifies_with_jwks(&token, &jwks));
}

#[tokio::test]
async fn every_token_has_its_own_jti_and_each_session_its_own_sid() {
    let app = spawn_app().await;
    let laptop = app.signed_up_user().await;
    let phone = app.signed_in(&laptop, true).await;

    let a = decode_jwt(&app.access_token(&laptop.by_cookie()).await);
    let b = decode_jwt(&app.access_token(&laptop.by_cookie()).await);
    let c = decode_jwt(&app.access_token(&phone.by_cookie()).await);

    assert_ne!(a.claims["jti"], b.claims["jti"]);
    assert_eq!(a.claims["sid"], b.claims["sid"]);
    assert_ne!(a.claims["sid"], c.claims["sid"]);
    assert_eq!(a.claims["sub"], c.claims["sub"]);
}

#[tokio::test]
async fn a_tampered_token_does_not_verify() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let other = app.signed_up_user().await;
    let jwks = jwks_json(&app).await;
    let token = app.access_token(&user.by_cookie()).await;
    let theirs = app.access_token(&other.by_cookie()).await;

    // swap in another user's payload under this token's signature
    let parts: Vec<&str> = token.split('.').collect();
    let their_payload = theirs.split('.').nth(1).unwrap();
    let spliced = format!("{}.{their_payload}.{}", parts[0], parts[2]);

    assert!(verifies_with_jwks(&token, &jwks));
    assert!(!verifies_with_jwks(&spliced, &jwks));
}

#[tokio::test]
async fn the_access_token_ttl_setting_sets_exp() {
    let app = spawn_app_with(|s| s.tokens.access_token_ttl = Duration::from_secs(60)).await;
    let user = app.signed_up_user().await;
    let sid = session_id(&app, &user).await;

    let token = app.access_token(&user.by_bearer()).await;

    assert_claims(&decode_jwt(&token), &user, &sid, app.t0, 60);
}

#[tokio::test]
async fn issuer_and_audience_are_the_base_url_origin_without_its_path() {
    let app = spawn_app_with(|s| s.http.base_url = format!("{BASE_URL}/api/auth")).await;
    let user = app.signed_up_user().await;

    let jwt = decode_jwt(&app.access_token(&user.by_bearer()).await);

    assert_eq!(jwt.claims["iss"], ORIGIN);
    assert_eq!(jwt.claims["aud"], ORIGIN);
}

#[tokio::test]
async fn hs256_mode_publishes_no_keys_and_signs_with_the_shared_secret() {
    let app = spawn_app_with(|s| {
        s.tokens.jwt_alg = JwtAlg::HS256;
        s.tokens.jwt_secret = Some(HS_SECRET.to_vec().into());
    })
    .await;
    let user = app.signed_up_user().await;
    let sid = session_id(&app, &user).await;

    let jwks = app.jwks().await.text().await.unwrap();
    let token = app.access_token(&user.by_cookie()).await;
    let from_header = header(&app.get_session(&user.by_cookie()).await, "set-auth-jwt").unwrap();

    assert_eq!(jwks, r#"{"keys":[]}"#);
    for t in [&token, &from_header] {
        let jwt = decode_jwt(t);
        assert_eq!(
            keys(&jwt.header),
            sorted(&["alg", "typ"]),
            "no kid: nothing is published"
        );
        assert_eq!(jwt.header["alg"], "HS256");
        assert_eq!(jwt.header["typ"], "at+jwt");
        assert_claims(&jwt, &user, &sid, app.t0, 900);
        assert!(verifies_with_hs256(t, HS_SECRET));
        assert!(
            !verifies_with_hs256(t, SECRET.as_bytes()),
            "not the server secret"
        );
    }
}

#[tokio::test]
async fn es256_mode_issues_tokens_that_verify_against_the_jwks() {
    let app = spawn_app_with(|s| s.tokens.jwt_alg = JwtAlg::ES256).await;
    let user = app.signed_up_user().await;
    let sid = session_id(&app, &user).await;
    let jwks = jwks_json(&app).await;

    let token = app.access_token(&user.by_cookie()).await;

    let k = &jwks["keys"][0];
    assert_eq!(keys(k), sorted(&["alg", "crv", "x", "y", "kty", "kid"]));
    assert_eq!(k["alg"], "ES256");
    assert_eq!(k["crv"], "P-256");
    assert_eq!(k["kty"], "EC");
    let jwt = decode_jwt(&token);
    assert_eq!(jwt.header["alg"], "ES256");
    assert_eq!(jwt.signature.len(), 64, "JOSE r||s, not DER");
    assert_claims(&jwt, &user, &sid, app.t0, 900);
    assert!(verifies_with_jwks(&token, &jwks));
}

#[tokio::test]
async fn rs256_mode_issues_tokens_that_verify_against_the_jwks() {
    let app = spawn_app_with(|s| s.tokens.jwt_alg = JwtAlg::RS256).await;
    let user = app.signed_up_user().await;
    let sid = session_id(&app, &user).await;
    let jwks = jwks_json(&app).await;

    let token = app.access_token(&user.by_cookie()).await;

    let k = &jwks["keys"][0];
    assert_eq!(keys(k), sorted(&["alg", "n", "e", "kty", "kid"]));
    assert_eq!(k["alg"], "RS256");
    assert_eq!(k["kty"], "RSA");
    let jwt = decode_jwt(&token);
    assert_eq!(jwt.header["alg"], "RS256");
    assert_eq!(jwt.signature.len(), 256, "2048-bit key");
    assert_claims(&jwt, &user, &sid, app.t0, 900);
    assert!(verifies_with_jwks(&token, &jwks));
}
