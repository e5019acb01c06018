//! Routing (§1.1): `/ok`, unknown paths and methods, and CORS for the trusted origins.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn ok_answers_ok_true() {
    let app = spawn_app().await;

    let res = app.ok().await;

    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "ok": true }));
}

#[tokio::test]
async fn an_unknown_path_is_404_in_the_envelope() {
    let app = spawn_app().await;

    for path in [
        "/api/auth/nope",
        "/api/auth/get-session/",
        "/api/auth//get-session",
        "/api/auth/sign-in/nope",
        "/api/auth",
    ] {
        let res = app.request(Method::GET, path).send().await.unwrap();
        assert_error(res, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
}

#[tokio::test]
async fn a_method_an_endpoint_does_not_accept_is_405_in_the_envelope() {
    let app = spawn_app().await;

    for (method, path) in [
        (Method::GET, "/api/auth/sign-out"),
        (Method::GET, "/api/auth/sign-in/email"),
        (Method::PUT, "/api/auth/sign-up/email"),
        (Method::POST, "/api/auth/token"),
        (Method::DELETE, "/api/auth/jwks"),
        (Method::PATCH, "/api/auth/ok"),
        (Method::GET, "/api/auth/sign-in/social"),
    ] {
        let res = app.request(method.clone(), path).send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let body = res.text().await.unwrap();
        let v: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{method} {path}: body {body:?} is not JSON: {e}"));
        assert!(
            v["code"].is_string() && v["message"].is_string(),
            "{method} {path}: {body}"
        );
    }
}

#[tokio::test]
async fn a_preflight_from_a_trusted_origin_allows_credentials() {
    let app =
        spawn_app_with(|s| s.http.trusted_origins = vec!["https://app.example.test".into()]).await;

    let res = app
        .request(Method::OPTIONS, "/api/auth/sign-in/email")
        .header("origin", "https://app.example.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();

    assert!(res.status().is_success());
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some("https://app.example.test")
    );
    assert_eq!(
        header(&res, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert!(header_list(&res, "access-control-allow-headers").contains(&"content-type".into()));
}

#[tokio::test]
async fn a_preflight_from_an_untrusted_origin_is_not_allowed() {
    let app = spawn_app().await;

    let res = app
        .request(Method::OPTIONS, "/api/auth/sign-in/email")
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();

    assert!(res.status().as_u16() < 500);
    assert!(header(&res, "access-control-allow-origin").is_none());
}
