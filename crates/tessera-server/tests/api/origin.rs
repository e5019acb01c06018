//! CSRF and origin checks (§6.2): cookie-carrying POSTs must come from a trusted origin;
//! cookie-less sign-in/sign-up are checked when the browser says anything about the request;
//! callback URLs must stay home; Bearer-only requests are not checked.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// A cookie-authenticated sign-out with these extra headers (no `Origin` unless given).
async fn sign_out_with(
    app: &TestApp,
    user: &TestUser,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut rb = app
        .request(Method::POST, "/api/auth/sign-out")
        .header("content-type", "application/json")
        .header("cookie", &user.cookie)
        .body("{}");
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

/// A cookie-less JSON sign-in with these extra headers.
async fn sign_in_with(
    app: &TestApp,
    user: &TestUser,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut rb = app
        .request(Method::POST, "/api/auth/sign-in/email")
        .header("content-type", "application/json")
        .body(json!({ "email": user.email, "password": user.password }).to_string());
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

async fn still_signed_in(app: &TestApp, user: &TestUser) -> bool {
    app.session_json(&user.by_bearer()).await != Value::Null
}

#[tokio::test]
async fn a_cookie_post_without_origin_is_403_missing_or_null_origin() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = sign_out_with(&app, &user, &[]).await;

    assert_error_exact(
        res,
        StatusCode::FORBIDDEN,
        "MISSING_OR_NULL_ORIGIN",
        "Missing or null Origin",
    )
    .await;
    assert!(still_signed_in(&app, &user).await);
}

#[tokio::test]
async fn a_cookie_post_with_origin_null_is_403_missing_or_null_origin() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = sign_out_with(&app, &user, &[("origin", "null")]).await;

    assert_error(res, StatusCode::FORBIDDEN, "MISSING_OR_NULL_ORIGIN").await;
    assert!(still_signed_in(&app, &user).await);
}

#[tokio::test]
async fn a_cookie_post_from_an_untrusted_origin_is_403_invalid_origin() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    for origin in [
        "https://evil.example",
        "http://localhost:3998",
        "https://localhost:3999",
        "http://localhost:3999.evil.example",
    ] {
        let res = sign_out_with(&app, &user, &[("origin", origin)]).await;
        assert_error_exact(
            res,
            StatusCode::FORBIDDEN,
            "INVALID_ORIGIN",
            "Invalid origin",
        )
        .await;
    }
    let res = sign_out_with(&app, &user, &[("referer", "https://evil.example/page")]).await;
    assert_error(res, StatusCode::FORBIDDEN, "INVALID_ORIGIN").await;
    assert!(still_signed_in(&app, &user).await);
}

#[tokio::test]
async fn a_cookie_post_from_the_base_origin_or_its_pages_is_allowed() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let by_origin = sign_out_with(&app, &user, &[("origin", ORIGIN)]).await;
    let user2 = app.signed_in(&user, true).await;
    let by_referer = sign_out_with(
        &app,
        &user2,
        &[("referer", &format!("{ORIGIN}/settings?x=1"))],
    )
    .await;
    let user3 = app.signed_in(&user, true).await;
    let same_origin_null = sign_out_with(
        &app,
        &user3,
        &[("origin", "null"), ("sec-fetch-site", "same-origin")],
    )
    .await;

    assert_eq!(by_origin.status(), StatusCode::OK);
    assert_eq!(by_referer.status(), StatusCode::OK);
    assert_eq!(same_origin_null.status(), StatusCode::OK);
    assert!(!still_signed_in(&app, &user3).await);
}

#[tokio::test]
async fn configured_trusted_origins_are_allowed_too() {
    let app =
        spawn_app_with(|s| s.http.trusted_origins = vec!["https://app.example.test".into()]).await;
    let user = app.signed_up_user().await;

    let res = sign_out_with(&app, &user, &[("origin", "https://app.example.test")]).await;

    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_cookie_sign_in_from_an_untrusted_origin_is_refused() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .request(Method::POST, "/api/auth/sign-in/email")
        .header("content-type", "application/json")
        .header("cookie", &user.cookie)
        .header("origin", "https://evil.example")
        .body(json!({ "email": user.email, "password": user.password }).to_string())
        .send()
        .await
        .unwrap();

    assert_error(res, StatusCode::FORBIDDEN, "INVALID_ORIGIN").await;
}

#[tokio::test]
async fn a_cross_site_navigation_login_is_blocked() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = sign_in_with(
        &app,
        &user,
        &[
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-dest", "document"),
        ],
    )
    .await;

    assert_error_exact(
        res,
        StatusCode::FORBIDDEN,
        "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
        "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
    )
    .await;
}

#[tokio::test]
async fn a_cross_site_form_sign_up_is_blocked_and_creates_nothing() {
    let app = spawn_app().await;

    let res = app
        .request(Method::POST, "/api/auth/sign-up/email")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-mode", "navigate")
        .header("origin", "https://evil.example")
        .body("name=x&email=victim%40example.com&password=attacker-chosen")
        .send()
        .await
        .unwrap();

    assert_error(
        res,
        StatusCode::FORBIDDEN,
        "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
    )
    .await;
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn a_cookieless_sign_in_with_fetch_metadata_but_no_origin_is_missing_origin() {
    // What Node's fetch sends without an explicit Origin (§6.2 gotcha).
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = sign_in_with(&app, &user, &[("sec-fetch-mode", "cors")]).await;

    assert_error(res, StatusCode::FORBIDDEN, "MISSING_OR_NULL_ORIGIN").await;
}

#[tokio::test]
async fn a_cookieless_sign_in_from_an_untrusted_origin_is_invalid_origin() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = sign_in_with(&app, &user, &[("origin", "https://evil.example")]).await;

    assert_error(res, StatusCode::FORBIDDEN, "INVALID_ORIGIN").await;
}

#[tokio::test]
async fn a_cookieless_sign_in_from_a_browser_on_the_base_origin_is_allowed() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = sign_in_with(
        &app,
        &user,
        &[
            ("origin", ORIGIN),
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-mode", "cors"),
        ],
    )
    .await;

    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_cookieless_sign_in_without_any_browser_headers_is_allowed() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = sign_in_with(&app, &user, &[]).await;

    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_untrusted_callback_url_is_403_invalid_callback_url() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let before = app.db_snapshot().await;

    for url in [
        "https://evil.example/after",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "/%2F%2Fevil.example",
    ] {
        let sign_in = app
            .sign_in(&json!({ "email": user.email, "password": user.password, "callbackURL": url }))
            .await;
        assert_error_exact(
            sign_in,
            StatusCode::FORBIDDEN,
            "INVALID_CALLBACK_URL",
            "Invalid callbackURL",
        )
        .await;
        let sign_up = app
            .sign_up(&json!({ "name": "x", "email": unique_email(), "password": PASSWORD, "callbackURL": url }))
            .await;
        assert_error(sign_up, StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL").await;
    }
    assert_eq!(app.db_snapshot().await, before, "nothing created");
}

#[tokio::test]
async fn bearer_only_requests_are_not_origin_checked() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .request(Method::POST, "/api/auth/sign-out")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", user.signed_token))
        .header("origin", "https://evil.example")
        .body("{}")
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        !still_signed_in(&app, &user).await,
        "the sign-out took effect"
    );
}

#[tokio::test]
async fn bearer_requests_that_also_carry_a_cookie_are_origin_checked() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .request(Method::POST, "/api/auth/sign-out")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", user.signed_token))
        .header("cookie", &user.cookie)
        .body("{}")
        .send()
        .await
        .unwrap();

    assert_error(res, StatusCode::FORBIDDEN, "MISSING_OR_NULL_ORIGIN").await;
}

#[tokio::test]
async fn gets_are_never_origin_checked() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .request(Method::GET, "/api/auth/token")
        .header("cookie", &user.cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        header(&res, "access-control-allow-origin").is_none(),
        "no CORS for untrusted origins"
    );
}
