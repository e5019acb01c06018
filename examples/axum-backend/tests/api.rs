//! The example's router: 401 without a token, 200 for the owner, 403 for anyone else.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lc_rs::hmac;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt as _;
use tessera_verify::Verifier;
use tower::ServiceExt as _;

const ISS: &str = "http://127.0.0.1:8080";
const SECRET: &[u8] = b"example-shared-secret-of-32-bytes-or-more";

fn token_for(sub: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = format!(
        r#"{{"sub":"{sub}","iss":"{ISS}","aud":"{ISS}","iat":{now},"exp":{}}}"#,
        now + 300
    );
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, SECRET), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))
}

async fn get(path: &str, token: Option<&str>) -> (StatusCode, String) {
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(ISS)
        .hs256_secret(SECRET)
        .build()
        .unwrap();
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = axum_backend_example::app(verifier)
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn no_token_is_401() {
    let (status, body) = get("/api/alice/tasks", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!body.contains("Ship it"));
}

#[tokio::test]
async fn owner_gets_the_tasks() {
    let (status, body) = get("/api/alice/tasks", Some(&token_for("alice"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Ship it"));
    assert!(body.contains(r#""owner":"alice""#));
}

#[tokio::test]
async fn another_user_is_403() {
    let (status, body) = get("/api/bob/tasks", Some(&token_for("alice"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, r#"{"message":"Forbidden","code":"FORBIDDEN"}"#);
}

#[test]
fn configuration_comes_from_the_environment() {
    // Without the required variables the example refuses to start.
    // (Only reads the environment; the test binary does not set these.)
    if std::env::var_os("TESSERA_ISSUER").is_none() {
        assert!(axum_backend_example::verifier_from_env().is_err());
    }
}
