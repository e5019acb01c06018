//! Refresh credentials for clients without cookies (`POST /api/auth/refresh`) and the
//! security checklist's group C rows about them: rotation, grace replay, reuse detection,
//! concurrent refreshes, garbage and swapped token types, absolute and idle expiry.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// Signs in asking for a refresh credential; returns (user id, access token, refresh token).
async fn refresh_sign_in(app: &TestApp) -> (String, String, String) {
    let user = app.signed_up_user().await;
    let res = app
        .sign_in(&json!({"email": user.email, "password": user.password, "refreshToken": true}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        set_cookies(&res).is_empty(),
        "a refresh grant sets no cookie"
    );
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token"], Value::Null, "no session token is handed out");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["id"], user.id.as_str());
    (
        user.id,
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(app: &TestApp, rt: &str) -> Response {
    app.request(Method::POST, "/api/auth/refresh")
        .header("content-type", "application/json")
        .body(json!({"refresh_token": rt}).to_string())
        .send()
        .await
        .unwrap()
}

async fn rotated(app: &TestApp, rt: &str) -> (String, String) {
    let res = refresh(app, rt).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        sorted(&["access_token", "token_type", "expires_in", "refresh_token"]),
        keys(&body)
    );
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn each_refresh_returns_a_new_credential_and_a_working_access_token() {
    let app = spawn_app().await;
    let (user_id, at0, rt0) = refresh_sign_in(&app).await;
    assert_eq!(app.tasks_status(&user_id, &at0).await, StatusCode::OK);
    assert!(
        rt0.starts_with("tsr_") && rt0.len() == 47,
        "256-bit credential: {rt0}"
    );
    let (at1, rt1) = rotated(&app, &rt0).await;
    assert_ne!(rt1, rt0);
    assert_eq!(app.tasks_status(&user_id, &at1).await, StatusCode::OK);
    let claims = decode_jwt(&at1).claims;
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(
        claims["sid"],
        decode_jwt(&at0).claims["sid"],
        "same session"
    );
    let (_, rt2) = rotated(&app, &rt1).await;
    assert_ne!(rt2, rt1);
}

#[tokio::test]
async fn only_digests_of_refresh_credentials_are_stored() {
    let app = spawn_app().await;
    let (_, _, rt0) = refresh_sign_in(&app).await;
    let (_, rt1) = rotated(&app, &rt0).await;
    if !app.stores_in_sqlite_file() {
        return; // reads the SQLite file itself; the SQL that writes it is shared with PostgreSQL
    }
    let bytes = app.db_file_bytes();
    for raw in [&rt0, &rt1] {
        assert!(
            !bytes.windows(raw.len()).any(|w| w == raw.as_bytes()),
            "raw credential stored"
        );
    }
    let db = app.db().await;
    let digests: Vec<(String,)> = sqlx::query_as("SELECT token_digest FROM refresh_tokens")
        .fetch_all(&db)
        .await
        .unwrap();
    let digests: Vec<String> = digests.into_iter().map(|(d,)| d).collect();
    assert!(digests.contains(&sha256_hex(&rt0)) && digests.contains(&sha256_hex(&rt1)));
}

#[tokio::test]
async fn replay_inside_the_grace_window_returns_the_same_successor() {
    let app = spawn_app().await;
    let (_, _, rt0) = refresh_sign_in(&app).await;
    let (_, rt1) = rotated(&app, &rt0).await;
    app.clock.advance(Duration::from_secs(5));
    let (_, again) = rotated(&app, &rt0).await;
    assert_eq!(again, rt1, "never a second live successor");
    let (_, rt2) = rotated(&app, &rt1).await;
    assert_ne!(rt2, rt1);
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_session_and_its_newest_credential() {
    let app = spawn_app().await;
    let (user_id, _, rt0) = refresh_sign_in(&app).await;
    let (_, rt1) = rotated(&app, &rt0).await;
    let (at2, rt2) = rotated(&app, &rt1).await;
    app.clock.advance(Duration::from_secs(11));
    let res = refresh(&app, &rt0).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "INVALID_REFRESH_TOKEN").await;
    // the thief is out, and so is whoever held the newest credential
    assert_error(
        refresh(&app, &rt2).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
    assert_eq!(
        app.tasks_status(&user_id, &at2).await,
        StatusCode::UNAUTHORIZED,
        "access tokens die with the session"
    );
}

#[tokio::test]
async fn concurrent_refreshes_never_yield_two_live_successors() {
    let app = spawn_app().await;
    let (_, _, rt0) = refresh_sign_in(&app).await;
    let mut handles = Vec::new();
    for _ in 0..10 {
        let req = app
            .request(Method::POST, "/api/auth/refresh")
            .header("content-type", "application/json")
            .body(json!({"refresh_token": rt0}).to_string());
        handles.push(tokio::spawn(async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()
        }));
    }
    let mut successors = std::collections::HashSet::new();
    for h in handles {
        let body = tokio::time::timeout(Duration::from_secs(5), h)
            .await
            .unwrap()
            .unwrap();
        successors.insert(body["refresh_token"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        successors.len(),
        1,
        "all concurrent refreshes got the same successor"
    );
}

#[tokio::test]
async fn garbage_and_swapped_token_types_are_refused_generically() {
    let app = spawn_app().await;
    let (user_id, at0, rt0) = refresh_sign_in(&app).await;
    let user = app.signed_up_user().await;
    let mut one_off = rt0.clone();
    one_off.replace_range(10..11, if &rt0[10..11] == "A" { "B" } else { "A" });
    for bad in [
        "",
        "x",
        &"a".repeat(10_000),
        &at0,
        &user.token,
        &user.signed_token,
        &one_off,
    ] {
        assert_error(
            refresh(&app, bad).await,
            StatusCode::UNAUTHORIZED,
            "INVALID_REFRESH_TOKEN",
        )
        .await;
    }
    for body in [
        json!({}),
        json!({"refresh_token": null}),
        json!({"refresh_token": 42}),
    ] {
        let res = app
            .request(Method::POST, "/api/auth/refresh")
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    }
    // C16: a credential in the query string is ignored
    let res = app
        .request(
            Method::POST,
            &format!("/api/auth/refresh?refresh_token={rt0}"),
        )
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    // C5: the refresh credential is not an access token
    assert_eq!(
        app.tasks_status(&user_id, &rt0).await,
        StatusCode::UNAUTHORIZED
    );
    // and still works after all that
    rotated(&app, &rt0).await;
}

#[tokio::test]
async fn the_absolute_session_lifetime_ends_refreshing() {
    let app = spawn_app_with(|s| {
        s.sessions.session_ttl = Duration::from_secs(3600);
        s.sessions.session_max_lifetime = Duration::from_secs(3 * 3600);
    })
    .await;
    let (_, _, mut rt) = refresh_sign_in(&app).await;
    // stay active: every 50 minutes, for 2 h 30 min (the idle expiry would now be 3 h 30)
    for _ in 0..3 {
        app.clock.advance(Duration::from_secs(50 * 60));
        rt = rotated(&app, &rt).await.1;
    }
    // 3 h 01 min after sign-in: within the idle window, past the absolute lifetime
    app.clock.advance(Duration::from_secs(31 * 60));
    assert_error(
        refresh(&app, &rt).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
}

#[tokio::test]
async fn an_idle_session_cannot_be_refreshed() {
    let app = spawn_app_with(|s| s.sessions.session_ttl = Duration::from_secs(3600)).await;
    let (_, _, rt) = refresh_sign_in(&app).await;
    app.clock.advance(Duration::from_secs(3601));
    assert_error(
        refresh(&app, &rt).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
}

#[tokio::test]
async fn signing_out_with_the_refresh_credential_ends_refresh_and_access() {
    let app = spawn_app().await;
    let (user_id, at0, rt0) = refresh_sign_in(&app).await;
    let res = app
        .request(Method::POST, "/api/auth/sign-out")
        .header("content-type", "application/json")
        .body(json!({"refresh_token": rt0}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_error(
        refresh(&app, &rt0).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_REFRESH_TOKEN",
    )
    .await;
    assert_eq!(
        app.tasks_status(&user_id, &at0).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn sign_up_can_also_start_a_refresh_session() {
    let app = spawn_app().await;
    let res = app
        .sign_up(&json!({"name": "M", "email": unique_email(), "password": PASSWORD, "refreshToken": true}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body["refresh_token"].as_str().unwrap().starts_with("tsr_"));
    rotated(&app, body["refresh_token"].as_str().unwrap()).await;
}
