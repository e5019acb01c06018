//! The attack suite's browser rows (checklist group F) that `routing`, `origin` and
//! `cookies` do not already cover: CORS on the tasks API and for near-miss origins (F4),
//! cross-site "simple" requests that carry the cookie without JSON (F5), `no-store` on
//! everything that carries a credential or a user's data (F7), and the content type and
//! `nosniff` on every kind of answer (F8). `docs/attack-suite.md` maps every row to its tests.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tessera_server::http::rate_limit::RateLimits;

use crate::helpers::*;

const TRUSTED: &str = "https://app.example.test";

/// Origins that are not the trusted one, some of them close to it.
const UNTRUSTED: [&str; 6] = [
    "https://evil.example",
    "https://app.example.test.evil.example",
    "https://app.example.test:8443",
    "http://app.example.test",
    "https://evilapp.example.test",
    "null",
];

fn assert_no_cors_grant(res: &Response, what: &str) {
    assert!(
        header(res, "access-control-allow-origin").is_none(),
        "{what}: {:?}",
        res.headers()
    );
}

fn assert_exact_cors_grant(res: &Response, what: &str) {
    assert_eq!(
        header(res, "access-control-allow-origin").as_deref(),
        Some(TRUSTED),
        "{what}"
    );
    assert_eq!(
        header(res, "access-control-allow-credentials").as_deref(),
        Some("true"),
        "{what}"
    );
    assert!(
        header_list(res, "vary").contains(&"origin".to_owned()),
        "{what}"
    );
}

#[tokio::test]
async fn the_tasks_api_grants_cors_to_the_trusted_origin_only_and_exactly() {
    let app = spawn_app_with(|s| s.http.trusted_origins = vec![TRUSTED.into()]).await;
    let user = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_bearer()).await;
    let path = format!("/api/{}/tasks", user.id);

    let preflight = |origin: &str| {
        app.request(Method::OPTIONS, &path)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    for origin in UNTRUSTED {
        let res = preflight(origin).await.unwrap();
        assert!(res.status().as_u16() < 500);
        assert_no_cors_grant(&res, origin);
        let res = app
            .request(Method::GET, &path)
            .header("origin", origin)
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "the token itself is fine");
        assert_no_cors_grant(&res, origin);
        // a page on that origin cannot read the session either
        let res = app
            .request(Method::GET, "/api/auth/get-session")
            .header("origin", origin)
            .header("cookie", &user.cookie)
            .send()
            .await
            .unwrap();
        assert_no_cors_grant(&res, origin);
    }

    let res = preflight(TRUSTED).await.unwrap();
    assert!(res.status().is_success());
    assert_exact_cors_grant(&res, "preflight");
    let allowed = header_list(&res, "access-control-allow-headers");
    assert!(allowed.contains(&"authorization".to_owned()), "{allowed:?}");
    let res = app
        .request(Method::GET, &path)
        .header("origin", TRUSTED)
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_exact_cors_grant(&res, "GET");
}

#[tokio::test]
async fn cross_site_simple_requests_with_the_cookie_change_nothing() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let before = app.db_snapshot().await;
    let body = json!({"currentPassword": PASSWORD, "newPassword": "attacker chosen phrase"});

    // what a hostile page's <form> can send: the cookie rides along, the content type is a
    // "simple" one, the Origin is the page's
    for path in [
        "/api/auth/sign-out",
        "/api/auth/revoke-sessions",
        "/api/auth/revoke-other-sessions",
        "/api/auth/change-password",
    ] {
        for (content_type, payload) in [
            ("text/plain", body.to_string()),
            (
                "application/x-www-form-urlencoded",
                "currentPassword=correct+horse+battery&newPassword=attacker+chosen+phrase"
                    .to_owned(),
            ),
            ("application/json", body.to_string()),
        ] {
            let res = app
                .request(Method::POST, path)
                .header("cookie", &user.cookie)
                .header("origin", "https://evil.example")
                .header("content-type", content_type)
                .body(payload)
                .send()
                .await
                .unwrap();
            let status = res.status();
            assert!(
                status == StatusCode::FORBIDDEN || status == StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{path} {content_type}: {status}"
            );
            if content_type == "application/json" {
                assert_error(res, StatusCode::FORBIDDEN, "INVALID_ORIGIN").await;
            }
        }
    }
    assert_eq!(app.db_snapshot().await, before, "nothing was written");
    assert!(app.session_json(&user.by_cookie()).await != Value::Null);
    assert_eq!(
        app.sign_in(&json!({"email": user.email, "password": PASSWORD}))
            .await
            .status(),
        StatusCode::OK
    );
}

fn assert_no_store(res: &Response, what: &str) {
    assert_eq!(
        header(res, "cache-control").as_deref(),
        Some("no-store"),
        "{what}"
    );
}

#[tokio::test]
async fn every_answer_with_a_credential_or_a_users_data_is_no_store() {
    let app = spawn_app().await;
    let res = app
        .sign_up(&json!({"name": "n", "email": unique_email(), "password": PASSWORD}))
        .await;
    assert_no_store(&res, "sign-up");
    let user = session_of(res, "n", PASSWORD).await;
    let res = app
        .sign_in(&json!({"email": user.email, "password": PASSWORD}))
        .await;
    assert_no_store(&res, "sign-in");
    let res = app
        .sign_in(&json!({"email": user.email, "password": PASSWORD, "refreshToken": true}))
        .await;
    assert_no_store(&res, "sign-in with a refresh grant");
    let rt = res.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .request(Method::POST, "/api/auth/refresh")
        .json(&json!({ "refresh_token": rt }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(&res, "refresh");
    assert_no_store(&app.token(&user.by_bearer()).await, "token");
    assert_no_store(&app.get_session(&user.by_bearer()).await, "get-session");
    let res = app
        .request(Method::GET, "/api/auth/list-sessions")
        .bearer_auth(&user.token)
        .send()
        .await
        .unwrap();
    assert_no_store(&res, "list-sessions");

    let jwt = app.access_token(&user.by_bearer()).await;
    let tasks = format!("/api/{}/tasks", user.id);
    let res = app
        .request(Method::POST, &tasks)
        .bearer_auth(&jwt)
        .json(&json!({"title": "private"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_no_store(&res, "create task");
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [tasks.clone(), format!("{tasks}/{id}")] {
        let res = app
            .request(Method::GET, &path)
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_no_store(&res, &path);
    }

    let res = app
        .request(Method::POST, "/api/auth/change-password")
        .bearer_auth(&user.token)
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase", "revokeOtherSessions": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_no_store(&res, "change-password with a new session token");
}

/// Asserts the JSON content type and `nosniff` on one answer.
async fn assert_json_and_nosniff(res: Response, what: &str) {
    let ct = header(&res, "content-type").unwrap_or_default();
    assert!(ct.starts_with("application/json"), "{what}: {ct:?}");
    assert_eq!(
        header(&res, "x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    let text = res.text().await.unwrap();
    serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{what}: {e}: {text}"));
}

#[tokio::test]
async fn every_kind_of_answer_is_json_with_nosniff() {
    let app = spawn_app_with(|s| {
        s.security.rate_limits = RateLimits::parse("token=1/1m").unwrap();
    })
    .await;
    let user = app.signed_up_user().await;
    let other = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_bearer()).await;

    assert_json_and_nosniff(app.get_session(&user.by_bearer()).await, "200").await;
    assert_json_and_nosniff(app.get_session(&Who::Anonymous).await, "null session").await;
    assert_json_and_nosniff(app.jwks().await, "jwks").await;
    assert_json_and_nosniff(app.token(&user.by_bearer()).await, "429").await;
    let req = |m: Method, p: &str| app.request(m, p).send();
    assert_json_and_nosniff(req(Method::GET, "/api/nope").await.unwrap(), "404").await;
    assert_json_and_nosniff(req(Method::GET, "/api/auth/sign-out").await.unwrap(), "405").await;
    let res = app
        .request(Method::POST, "/api/auth/sign-in/email")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_json_and_nosniff(res, "415").await;
    let res = app
        .request(Method::POST, "/api/auth/sign-in/email")
        .header("content-type", "application/json")
        .body(format!("{{\"x\":\"{}\"}}", "x".repeat(1 << 20)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_json_and_nosniff(res, "413").await;
    for (path, token) in [
        (format!("/api/{}/tasks", user.id), jwt.as_str()),
        (format!("/api/{}/tasks", other.id), jwt.as_str()),
        (format!("/api/{}/tasks", user.id), "not-a-jwt"),
    ] {
        let res = app
            .request(Method::GET, &path)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let what = format!("tasks {}", res.status());
        assert_json_and_nosniff(res, &what).await;
    }
    let metrics = req(Method::GET, "/metrics").await.unwrap();
    assert_eq!(
        header(&metrics, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[tokio::test]
async fn the_jwks_is_cacheable_and_holds_public_keys_only() {
    let app = spawn_app().await;
    let res = app.jwks().await;
    assert_eq!(res.status(), StatusCode::OK);
    let cache = header(&res, "cache-control").unwrap_or_default();
    assert!(
        cache.contains("public") && cache.contains("max-age="),
        "{cache:?}"
    );
    let jwks: Value = res.json().await.unwrap();
    let all = jwks["keys"].as_array().unwrap();
    assert!(!all.is_empty());
    for k in all {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(k.get(private).is_none(), "{private} in {k}");
        }
        assert_ne!(k["kty"], "oct");
        assert!(k["kid"].is_string() && k["alg"].is_string(), "{k}");
    }
}
