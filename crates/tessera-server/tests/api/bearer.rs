//! The bearer plugin (§4): `Authorization: Bearer` with the signed `token.sig` from
//! `set-auth-token` or the raw session token, on every session endpoint; a bad signature is
//! no session (not an error); the header wins over a cookie.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn the_signed_token_from_set_auth_token_authenticates_get_session_and_token() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let session = app.session_json(&user.by_bearer()).await;
    let token = app.token(&user.by_bearer()).await;

    assert_eq!(session["session"]["token"], user.token.as_str());
    assert_eq!(token.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_raw_session_token_is_accepted_too() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let session = app.session_json(&user.by_raw_bearer()).await;
    let token = app.token(&user.by_raw_bearer()).await;

    assert_eq!(session["user"]["id"], user.id.as_str());
    assert_eq!(token.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_percent_encoded_signed_token_is_accepted() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let session = app
        .session_json(&Who::Bearer(encode_uri_component(&user.signed_token)))
        .await;

    assert_eq!(session["user"]["id"], user.id.as_str());
}

#[tokio::test]
async fn the_scheme_is_case_insensitive_and_the_token_is_trimmed() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    for value in [
        format!("bearer {}", user.signed_token),
        format!("BEARER {}", user.token),
        format!("Bearer   {}  ", user.token),
    ] {
        let res = app
            .request(reqwest::Method::GET, "/api/auth/get-session")
            .header("authorization", &value)
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["user"]["id"], user.id.as_str(), "{value:?}");
    }
}

#[tokio::test]
async fn a_bearer_token_with_a_bad_signature_is_no_session() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let forged = format!(
        "{}.{}",
        user.token,
        cookie_signature("not-the-server-secret-0123456789abcdef", &user.token)
    );

    let session = app.get_session(&Who::Bearer(forged.clone())).await;
    let token = app.token(&Who::Bearer(forged)).await;

    assert_eq!(session.status(), StatusCode::OK);
    assert_eq!(session.text().await.unwrap(), "null");
    assert_error_exact(
        token,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Unauthorized",
    )
    .await;
}

#[tokio::test]
async fn garbage_bearer_values_are_no_session() {
    let app = spawn_app().await;
    app.signed_up_user().await;

    for value in [
        "",
        ".",
        "a.b.c",
        "%zz",
        &"A".repeat(4096),
        "' OR 1=1 --",
        "ＡＢＣ",
    ] {
        let res = app.get_session(&Who::Bearer(value.to_owned())).await;
        assert_eq!(res.status(), StatusCode::OK, "{value:?}");
        assert_eq!(res.text().await.unwrap(), "null", "{value:?}");
    }
}

#[tokio::test]
async fn the_bearer_header_wins_over_the_session_cookie() {
    let app = spawn_app().await;
    let alice = app.signed_up_user().await;
    let bob = app.signed_up_user().await;

    let res = app
        .request(reqwest::Method::GET, "/api/auth/get-session")
        .header("cookie", &alice.cookie)
        .header("authorization", format!("Bearer {}", bob.signed_token))
        .send()
        .await
        .unwrap();

    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], bob.id.as_str());
}

#[tokio::test]
async fn other_authorization_schemes_are_ignored() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .request(reqwest::Method::GET, "/api/auth/get-session")
        .header("authorization", format!("Basic {}", user.token))
        .send()
        .await
        .unwrap();

    assert_eq!(res.text().await.unwrap(), "null");
}
