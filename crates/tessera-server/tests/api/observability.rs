//! What operators scrape: `/metrics` in Prometheus format, labelled by route template.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_security_events() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_bearer()).await;
    for _ in 0..3 {
        app.request(Method::GET, &format!("/api/{}/tasks", user.id))
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap();
    }
    app.sign_in(&json!({"email": user.email, "password": PASSWORD}))
        .await;
    app.sign_in(&json!({"email": user.email, "password": "a wrong guess"}))
        .await;
    // a refresh credential replayed after the grace window
    let grant: serde_json::Value = app
        .sign_in(&json!({"email": user.email, "password": PASSWORD, "refreshToken": true}))
        .await
        .json()
        .await
        .unwrap();
    let rt = grant["refresh_token"].as_str().unwrap();
    let refresh = |t: &str| {
        app.request(Method::POST, "/api/auth/refresh")
            .json(&json!({"refresh_token": t}))
            .send()
    };
    assert_eq!(refresh(rt).await.unwrap().status(), StatusCode::OK);
    app.clock.advance(std::time::Duration::from_secs(11));
    assert_eq!(
        refresh(rt).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    for _ in 0..5 {
        app.sign_in(&json!({"email": "x@y.test", "password": "a wrong guess"}))
            .await;
    }
    app.sign_in(&json!({"email": "x@y.test", "password": "a wrong guess"}))
        .await; // 429

    let res = app.request(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("tessera_http_requests_total{method=\"GET\",route=\"/api/{user_id}/tasks\",status=\"200\"} 3"), "{text}");
    assert!(
        text.contains(
            "tessera_http_request_duration_seconds_count{route=\"/api/{user_id}/tasks\"} 3"
        )
    );
    assert!(!text.contains(&user.id), "never a raw path or user id");
    assert!(
        text.contains("tessera_sign_in_total{result=\"success\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("tessera_sign_in_total{result=\"failure\"} 6"),
        "{text}"
    );
    assert!(text.contains("tessera_refresh_reuse_detected_total 1"));
    assert!(
        text.contains("tessera_rate_limited_total{rule=\"sign-in-failures\"} 1"),
        "{text}"
    );
    // sign-up, the password sign-in: two live sessions (the refresh one was revoked)
    assert!(text.contains("tessera_active_sessions 2"), "{text}");
    assert!(text.contains("tessera_signing_key_age_seconds{kid=\""));
    assert!(text.contains("tessera_db_pool_connections{state=\"idle\"}"));
}
