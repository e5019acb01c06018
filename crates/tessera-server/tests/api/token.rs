//! `GET /api/auth/token` (§5.1): `{"token": <JWT>}` for a session, 401 `UNAUTHORIZED`
//! without one, never cached. What is inside the JWT is `jwt`'s business.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn without_a_session_token_is_401_unauthorized() {
    let app = spawn_app().await;

    let res = app.token(&Who::Anonymous).await;

    assert_error_exact(
        res,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "Unauthorized",
    )
    .await;
}

#[tokio::test]
async fn with_a_session_cookie_token_returns_a_jwt_and_is_not_cached() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app.token(&user.by_cookie()).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.unwrap();
    assert_eq!(keys(&body), ["token"]);
    let jwt = decode_jwt(body["token"].as_str().unwrap());
    assert_eq!(jwt.claims["sub"], user.id.as_str());
}

#[tokio::test]
async fn a_browser_gets_a_token_with_its_cookie() {
    let app = spawn_app().await;
    let browser = app.browser();
    let res = browser
        .sign_up(&serde_json::json!({ "name": "T", "email": unique_email(), "password": PASSWORD }))
        .await;
    let user_id = res.json::<Value>().await.unwrap()["user"]["id"].clone();

    let res = browser.token().await;

    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        decode_jwt(body["token"].as_str().unwrap()).claims["sub"],
        user_id
    );
}

#[tokio::test]
async fn an_expired_session_gets_no_token() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    app.clock.advance(DAY * 8);

    let res = app.token(&user.by_cookie()).await;

    assert_error(res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
}
