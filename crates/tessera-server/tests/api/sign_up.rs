//! `POST /api/auth/sign-up/email` (§2.1): the success shape and headers, what is stored,
//! email normalisation and uniqueness (also under concurrency), and its error codes.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::*;

#[tokio::test]
async fn sign_up_returns_the_raw_token_and_the_user_in_better_auth_shape() {
    let app = spawn_app().await;

    let res = app
        .sign_up(
            &json!({ "name": "Alice", "email": "Alice@Example.com", "password": "correct horse battery" }),
        )
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(keys(&body), sorted(&["token", "user"]));
    assert_id(body["token"].as_str().unwrap());
    let user = &body["user"];
    assert_eq!(
        keys(user),
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
    assert_id(user["id"].as_str().unwrap());
    assert_eq!(user["name"], "Alice");
    assert_eq!(user["email"], "alice@example.com", "stored lower-cased");
    assert_eq!(user["emailVerified"], false);
    assert_eq!(user["image"], Value::Null);
    assert_iso_millis(user["createdAt"].as_str().unwrap());
    assert_eq!(user["createdAt"], iso(app.t0));
    assert_eq!(user["updatedAt"], iso(app.t0));
}

#[tokio::test]
async fn sign_up_sets_the_signed_session_cookie_and_the_bearer_headers() {
    let app = spawn_app().await;

    let res = app
        .sign_up(&json!({ "name": "Alice", "email": unique_email(), "password": PASSWORD }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    let set_auth_token = header(&res, "set-auth-token").unwrap();
    let expose = header_list(&res, "access-control-expose-headers");
    let cache = header(&res, "cache-control");
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let signed = format!("{token}.{}", cookie_signature(SECRET, token));
    assert_eq!(
        set_auth_token, signed,
        "set-auth-token is token.base64(hmac)"
    );
    assert_eq!(
        cookies,
        [format!(
            "better-auth.session_token={}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
            encode_uri_component(&signed)
        )],
        "exactly one cookie, byte for byte as Better Auth writes it"
    );
    assert!(expose.contains(&"set-auth-token".to_owned()), "{expose:?}");
    assert_eq!(cache.as_deref(), Some("no-store"));
}

#[tokio::test]
async fn a_signed_up_browser_is_signed_in() {
    let app = spawn_app().await;
    let browser = app.browser();

    let res = browser
        .sign_up(&json!({ "name": "Bob", "email": "bob@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let session: Value = browser.get_session().await.json().await.unwrap();

    assert_eq!(session["user"]["email"], "bob@example.com");
}

#[tokio::test]
async fn sign_up_keeps_the_image_and_an_empty_name() {
    let app = spawn_app().await;

    let res = app
        .sign_up(&json!({ "name": "", "email": unique_email(), "password": PASSWORD, "image": "https://img.example/a.png" }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["name"], "");
    assert_eq!(body["user"]["image"], "https://img.example/a.png");
}

#[tokio::test]
async fn sign_up_ignores_email_verified_and_unknown_fields() {
    let app = spawn_app().await;

    let res = app
        .sign_up(&json!({
            "name": "Mallory", "email": unique_email(), "password": PASSWORD,
            "emailVerified": true, "role": "admin", "id": "a".repeat(32), "createdAt": "1999-01-01T00:00:00.000Z"
        }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["emailVerified"], false);
    assert_ne!(body["user"]["id"], "a".repeat(32));
    assert_eq!(body["user"]["createdAt"], iso(app.t0));
    assert!(body["user"].get("role").is_none());
}

#[tokio::test]
async fn sign_up_accepts_a_form_encoded_body() {
    let app = spawn_app().await;

    let res = app
        .request(reqwest::Method::POST, "/api/auth/sign-up/email")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Form+User&email=Form%40Example.com&password=correct+horse+battery")
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["name"], "Form User");
    assert_eq!(body["user"]["email"], "form@example.com");
}

#[tokio::test]
async fn sign_up_with_a_taken_email_in_any_case_is_422_and_writes_nothing() {
    let app = spawn_app().await;
    app.signed_up_user_with("carol@example.com", PASSWORD).await;
    let before = app.db_snapshot().await;

    let res = app
        .sign_up(&json!({ "name": "Carol 2", "email": "CAROL@example.COM", "password": "another password" }))
        .await;

    assert_error_exact(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
        "User already exists. Use another email.",
    )
    .await;
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn twenty_concurrent_sign_ups_with_one_email_create_exactly_one_user() {
    let app = spawn_app().await;
    let mut set = JoinSet::new();
    for i in 0..20 {
        let (client, url) = (app.api.clone(), app.url("/api/auth/sign-up/email"));
        // the same address, spelled in different cases
        let email = if i % 2 == 0 {
            "race@example.com"
        } else {
            "Race@Example.COM"
        };
        set.spawn(async move {
            let res = client
                .post(url)
                .header("content-type", "application/json")
                .body(
                    json!({ "name": format!("racer {i}"), "email": email, "password": PASSWORD })
                        .to_string(),
                )
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            (status, body)
        });
    }
    let mut ok = 0;
    let mut taken = 0;
    while let Some(r) = set.join_next().await {
        let (status, body) = r.unwrap();
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(body["code"], "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL");
                taken += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }

    assert_eq!((ok, taken), (1, 19));
    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("accounts").await, 1);
    assert_eq!(app.count("sessions").await, 1);
}

#[tokio::test]
async fn sign_up_with_an_invalid_email_is_a_validation_error() {
    let app = spawn_app().await;

    for email in [
        "plainaddress",
        "a@b",
        "a @example.com",
        "ü@example.com",
        "a@example.com\n",
    ] {
        let res = app
            .sign_up(&json!({ "name": "X", "email": email, "password": PASSWORD }))
            .await;
        assert_error_exact(
            res,
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "[body.email] Invalid email address",
        )
        .await;
    }
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn sign_up_without_a_name_is_a_validation_error_naming_the_field() {
    let app = spawn_app().await;

    let res = app
        .sign_up(&json!({ "email": unique_email(), "password": PASSWORD }))
        .await;

    assert_error_exact(
        res,
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        "[body.name] Invalid input: expected string, received undefined",
    )
    .await;
}

#[tokio::test]
async fn form_values_are_text_even_when_they_read_true_or_false() {
    let app = spawn_app().await;

    let res = app
        .request(reqwest::Method::POST, "/api/auth/sign-up/email")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "name=true&email=truthy%40example.com&password=correct+horse+battery&rememberMe=false",
        )
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        set_cookies(&res).len(),
        2,
        "rememberMe=false still reads as a boolean"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["name"], "true");
}

#[tokio::test]
async fn a_form_remember_me_that_is_not_a_boolean_is_a_validation_error() {
    let app = spawn_app().await;

    let res = app
        .request(reqwest::Method::POST, "/api/auth/sign-up/email")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=n&email=maybe%40example.com&password=correct+horse+battery&rememberMe=maybe")
        .send()
        .await
        .unwrap();

    assert_error_exact(
        res,
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        "[body.rememberMe] Invalid input: expected boolean, received string",
    )
    .await;
}
