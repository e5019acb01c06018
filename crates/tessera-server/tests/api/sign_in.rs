//! `POST /api/auth/sign-in/email` (§2.2): the success shape, `callbackURL`, `rememberMe`,
//! form bodies, and the generic failure that does not reveal which accounts exist.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn sign_in_returns_redirect_false_token_and_user_without_url() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .sign_in(&json!({ "email": user.email, "password": user.password }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let set_auth_token = header(&res, "set-auth-token").unwrap();
    let cookie = session_set_cookie(&res).unwrap();
    assert!(header(&res, "location").is_none());
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    assert!(header_list(&res, "access-control-expose-headers").contains(&"set-auth-token".into()));
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        keys(&body),
        sorted(&["redirect", "token", "user"]),
        "no url key"
    );
    assert_eq!(body["redirect"], false);
    let token = body["token"].as_str().unwrap();
    assert_id(token);
    assert_ne!(token, user.token, "a new session");
    assert_eq!(body["user"]["id"], user.id.as_str());
    assert_eq!(
        keys(&body["user"]),
        sorted(&[
            "name",
            "email",
            "emailVerified",
            "twoFactorEnabled",
            "image",
            "createdAt",
            "updatedAt",
            "id"
        ])
    );
    let signed = format!("{token}.{}", cookie_signature(SECRET, token));
    assert_eq!(set_auth_token, signed);
    assert_eq!(
        cookie,
        format!(
            "better-auth.session_token={}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
            encode_uri_component(&signed)
        )
    );
}

#[tokio::test]
async fn sign_in_with_a_callback_url_sets_redirect_url_and_location() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .sign_in(
            &json!({ "email": user.email, "password": user.password, "callbackURL": "/dashboard" }),
        )
        .await;

    assert_eq!(res.status(), StatusCode::OK, "status stays 200");
    assert_eq!(header(&res, "location").as_deref(), Some("/dashboard"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["redirect"], true);
    assert_eq!(body["url"], "/dashboard");
}

#[tokio::test]
async fn sign_in_with_an_absolute_trusted_callback_url_is_allowed() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .sign_in(&json!({ "email": user.email, "password": user.password, "callbackURL": format!("{ORIGIN}/home") }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_in_is_case_insensitive_in_the_email() {
    let app = spawn_app().await;
    app.signed_up_user_with("dave@example.com", PASSWORD).await;

    let res = app
        .sign_in(&json!({ "email": "DAVE@Example.Com", "password": PASSWORD }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn signing_in_again_adds_a_session_and_keeps_the_old_one() {
    let app = spawn_app().await;
    let first = app.signed_up_user().await;

    let second = app.signed_in(&first, true).await;

    assert_ne!(first.token, second.token);
    assert_eq!(
        app.session_json(&first.by_cookie()).await["user"]["id"],
        first.id.as_str()
    );
    assert_eq!(
        app.session_json(&second.by_cookie()).await["user"]["id"],
        first.id.as_str()
    );
    assert_eq!(app.count("sessions").await, 2);
}

#[tokio::test]
async fn sign_in_accepts_a_form_encoded_body() {
    let app = spawn_app().await;
    let user = app
        .signed_up_user_with("form.in@example.com", PASSWORD)
        .await;

    let res = app
        .request(reqwest::Method::POST, "/api/auth/sign-in/email")
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body("email=form.in%40example.com&password=correct%20horse%20battery&rememberMe=false")
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        set_cookies(&res)
            .iter()
            .any(|c| c.starts_with(DONT_REMEMBER_COOKIE)),
        "rememberMe=false is read from the form"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], user.id.as_str());
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401_bytes() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let before = app.db_snapshot().await;

    let wrong = app
        .sign_in(&json!({ "email": user.email, "password": "not the password" }))
        .await;
    let unknown = app
        .sign_in(&json!({ "email": "nobody@example.com", "password": "not the password" }))
        .await;

    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookies(&wrong).is_empty() && set_cookies(&unknown).is_empty());
    assert_eq!(
        header(&wrong, "content-type"),
        header(&unknown, "content-type")
    );
    let (a, b) = (wrong.bytes().await.unwrap(), unknown.bytes().await.unwrap());
    assert_eq!(a, b, "no difference an attacker could use");
    assert_eq!(
        &a[..],
        br#"{"message":"Invalid email or password","code":"INVALID_EMAIL_OR_PASSWORD"}"#
    );
    assert_eq!(
        app.db_snapshot().await,
        before,
        "failed sign-ins write nothing"
    );
}

#[tokio::test]
async fn sign_in_with_a_malformed_email_is_invalid_email() {
    let app = spawn_app().await;

    for email in ["not-an-email", "", "a@b", "' OR 1=1 --"] {
        let res = app
            .sign_in(&json!({ "email": email, "password": PASSWORD }))
            .await;
        assert_error_exact(
            res,
            StatusCode::BAD_REQUEST,
            "INVALID_EMAIL",
            "Invalid email",
        )
        .await;
    }
}

#[tokio::test]
async fn sign_in_does_not_apply_the_minimum_length_but_does_apply_the_maximum() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let short = app
        .sign_in(&json!({ "email": user.email, "password": "short" }))
        .await;
    let long = app
        .sign_in(&json!({ "email": user.email, "password": "x".repeat(129) }))
        .await;

    assert_error(short, StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD").await;
    assert_error_exact(
        long,
        StatusCode::BAD_REQUEST,
        "PASSWORD_TOO_LONG",
        "Password too long",
    )
    .await;
}

#[tokio::test]
async fn sign_in_without_a_password_is_a_validation_error() {
    let app = spawn_app().await;

    let res = app.sign_in(&json!({ "email": unique_email() })).await;

    assert_error_exact(
        res,
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        "[body.password] Invalid input: expected string, received undefined",
    )
    .await;
}

#[tokio::test]
async fn a_cross_origin_sign_in_from_a_trusted_origin_can_read_set_auth_token() {
    let app =
        spawn_app_with(|s| s.http.trusted_origins = vec!["https://app.example.test".into()]).await;
    let user = app.signed_up_user().await;

    let res = app
        .request(reqwest::Method::POST, "/api/auth/sign-in/email")
        .header("content-type", "application/json")
        .header("origin", "https://app.example.test")
        .body(json!({ "email": user.email, "password": user.password }).to_string())
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some("https://app.example.test")
    );
    assert_eq!(
        header(&res, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert!(header_list(&res, "access-control-expose-headers").contains(&"set-auth-token".into()));
}
