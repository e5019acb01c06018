//! `POST /api/auth/sign-out` (§3.6): always `{"success":true}`, always the three clearing
//! cookies, and the session is over for cookies, bearer tokens and `/token` alike.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const CLEARED: [&str; 3] = [
    "better-auth.session_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
    "better-auth.session_data=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
    "better-auth.dont_remember=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
];

#[tokio::test]
async fn sign_out_ends_the_session_and_clears_the_three_cookies() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app.sign_out(&user.by_cookie()).await;

    assert_eq!(res.status(), StatusCode::OK);
    let mut cookies = set_cookies(&res);
    cookies.sort();
    let mut expected = CLEARED.map(str::to_owned).to_vec();
    expected.sort();
    assert_eq!(cookies, expected);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "success": true })
    );
    assert_eq!(app.session_json(&user.by_cookie()).await, Value::Null);
    assert_eq!(app.session_json(&user.by_bearer()).await, Value::Null);
    assert_eq!(app.session_json(&user.by_raw_bearer()).await, Value::Null);
    assert_error(
        app.token(&user.by_cookie()).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    )
    .await;
}

#[tokio::test]
async fn sign_out_without_a_session_still_succeeds() {
    let app = spawn_app().await;

    let res = app.sign_out(&Who::Anonymous).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(set_cookies(&res).len(), 3);
    assert_eq!(res.text().await.unwrap(), r#"{"success":true}"#);
}

#[tokio::test]
async fn sign_out_with_a_bearer_token_ends_that_session() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app.sign_out(&user.by_bearer()).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.session_json(&user.by_cookie()).await, Value::Null);
}

#[tokio::test]
async fn sign_out_ends_only_the_session_it_was_sent_with() {
    let app = spawn_app().await;
    let laptop = app.signed_up_user().await;
    let phone = app.signed_in(&laptop, true).await;

    app.sign_out(&laptop.by_cookie()).await;

    assert_eq!(app.session_json(&laptop.by_cookie()).await, Value::Null);
    assert_eq!(
        app.session_json(&phone.by_cookie()).await["user"]["id"],
        laptop.id.as_str()
    );
}

#[tokio::test]
async fn a_browser_that_signs_out_is_signed_out() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser
        .sign_up(&json!({ "name": "B", "email": unique_email(), "password": PASSWORD }))
        .await;

    let res = browser.sign_out().await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(browser.get_session().await.text().await.unwrap(), "null");
    assert_eq!(browser.token().await.status(), StatusCode::UNAUTHORIZED);
}
