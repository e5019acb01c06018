//! Session management in Better Auth's wire format (list, revoke one/all/others, change
//! password) and what Tessera adds: listing never hands out another session's credential,
//! and every ended session's access tokens stop working at once.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn post(app: &TestApp, path: &str, who: &Who, body: Value) -> reqwest::Response {
    let rb = app
        .request(Method::POST, path)
        .header("content-type", "application/json")
        .body(body.to_string());
    let rb = match who {
        Who::Bearer(t) => rb.bearer_auth(t),
        Who::Cookie(c) => rb.header("cookie", c).header("origin", ORIGIN),
        Who::Anonymous => rb,
    };
    rb.send().await.unwrap()
}

async fn list(app: &TestApp, who: &Who) -> Vec<Value> {
    let rb = app.request(Method::GET, "/api/auth/list-sessions");
    let rb = match who {
        Who::Bearer(t) => rb.bearer_auth(t),
        Who::Cookie(c) => rb.header("cookie", c),
        Who::Anonymous => rb,
    };
    let res = rb.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn api_status(app: &TestApp, user_id: &str, jwt: &str) -> StatusCode {
    app.request(Method::GET, &format!("/api/{user_id}/tasks"))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn list_sessions_shows_every_session_but_never_a_usable_credential() {
    let app = spawn_app().await;
    let first = app.signed_up_user().await;
    let second = app.signed_in(&first, true).await;
    let third = app.signed_in(&first, true).await;
    let sessions = list(&app, &first.by_bearer()).await;
    assert_eq!(sessions.len(), 3);
    let dump = serde_json::to_string(&sessions).unwrap();
    for u in [&first, &second, &third] {
        assert!(!dump.contains(&u.token), "a session token was listed");
    }
    for s in &sessions {
        assert_eq!(
            s["token"], s["id"],
            "the token field is the non-secret handle"
        );
        assert_iso_millis(s["expiresAt"].as_str().unwrap());
        assert_eq!(s["userAgent"], USER_AGENT);
    }
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    // the handle cannot be used as a session token
    assert_eq!(
        app.session_json(&Who::Bearer(sessions[0]["id"].as_str().unwrap().to_owned()))
            .await,
        Value::Null
    );
    assert_error(
        app.request(Method::GET, "/api/auth/list-sessions")
            .send()
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    )
    .await;
}

#[tokio::test]
async fn list_then_revoke_by_handle_ends_that_session_and_its_access_tokens() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    let other = app.signed_in(&me, true).await;
    let other_jwt = app.access_token(&other.by_bearer()).await;
    assert_eq!(api_status(&app, &me.id, &other_jwt).await, StatusCode::OK);
    let sessions = list(&app, &me.by_bearer()).await;
    let handle = sessions.iter().find(|s| s["current"] == false).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = post(
        &app,
        "/api/auth/revoke-session",
        &me.by_bearer(),
        json!({"token": handle}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": true}));
    assert_eq!(app.session_json(&other.by_bearer()).await, Value::Null);
    assert_eq!(
        api_status(&app, &me.id, &other_jwt).await,
        StatusCode::UNAUTHORIZED
    );
    assert_ne!(
        app.session_json(&me.by_bearer()).await,
        Value::Null,
        "mine still works"
    );
}

#[tokio::test]
async fn revoke_session_cannot_touch_another_users_session_and_answers_the_same() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    let victim = app.signed_up_user().await;
    let victim_sid = app.session_json(&victim.by_bearer()).await["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for target in [
        victim_sid.as_str(),
        victim.token.as_str(),
        "no-such-session",
        "",
    ] {
        let res = post(
            &app,
            "/api/auth/revoke-session",
            &me.by_bearer(),
            json!({"token": target}),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": true}));
    }
    assert_ne!(
        app.session_json(&victim.by_bearer()).await,
        Value::Null,
        "victim still signed in"
    );
}

#[tokio::test]
async fn revoke_other_sessions_keeps_only_the_current_one() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    let a = app.signed_in(&me, true).await;
    let b = app.signed_in(&me, true).await;
    let b_jwt = app.access_token(&b.by_bearer()).await;
    let res = post(
        &app,
        "/api/auth/revoke-other-sessions",
        &me.by_cookie(),
        json!({}),
    )
    .await;
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": true}));
    assert_eq!(app.session_json(&a.by_bearer()).await, Value::Null);
    assert_eq!(app.session_json(&b.by_bearer()).await, Value::Null);
    assert_eq!(
        api_status(&app, &me.id, &b_jwt).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(list(&app, &me.by_bearer()).await.len(), 1);
}

#[tokio::test]
async fn revoke_sessions_ends_all_including_the_current_and_clears_cookies() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    let other = app.signed_in(&me, true).await;
    let res = post(
        &app,
        "/api/auth/revoke-sessions",
        &me.by_cookie(),
        json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        set_cookies(&res)
            .iter()
            .any(|c| c.starts_with("better-auth.session_token=;") && c.contains("Max-Age=0"))
    );
    assert_eq!(app.session_json(&me.by_bearer()).await, Value::Null);
    assert_eq!(app.session_json(&other.by_bearer()).await, Value::Null);
}

#[tokio::test]
async fn cookie_revocations_from_an_untrusted_origin_are_refused() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    let other = app.signed_in(&me, true).await;
    let res = app
        .request(Method::POST, "/api/auth/revoke-other-sessions")
        .header("content-type", "application/json")
        .header("cookie", &me.cookie)
        .header("origin", "https://evil.test")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::FORBIDDEN, "INVALID_ORIGIN").await;
    assert_ne!(app.session_json(&other.by_bearer()).await, Value::Null);
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_and_the_old_password() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    let other = app.signed_in(&me, true).await;
    let other_jwt = app.access_token(&other.by_bearer()).await;
    let res = post(
        &app,
        "/api/auth/change-password",
        &me.by_bearer(),
        json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token"], Value::Null);
    assert_eq!(body["user"]["id"], me.id.as_str());
    assert_ne!(
        app.session_json(&me.by_bearer()).await,
        Value::Null,
        "the current session continues"
    );
    assert_eq!(
        app.session_json(&other.by_bearer()).await,
        Value::Null,
        "others are out"
    );
    assert_eq!(
        api_status(&app, &me.id, &other_jwt).await,
        StatusCode::UNAUTHORIZED
    );
    let old = app
        .sign_in(&json!({"email": me.email, "password": PASSWORD}))
        .await;
    assert_error(old, StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD").await;
    let new = app
        .sign_in(&json!({"email": me.email, "password": "a brand new passphrase"}))
        .await;
    assert_eq!(new.status(), StatusCode::OK);
}

#[tokio::test]
async fn change_password_with_revoke_other_sessions_replaces_the_current_session_too() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    let res = post(
        &app,
        "/api/auth/change-password",
        &me.by_bearer(),
        json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase", "revokeOtherSessions": true}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "set-auth-token").is_some());
    let body: Value = res.json().await.unwrap();
    let fresh = body["token"].as_str().unwrap().to_owned();
    assert_ne!(fresh, me.token);
    assert_eq!(app.session_json(&me.by_bearer()).await, Value::Null);
    assert_ne!(app.session_json(&Who::Bearer(fresh)).await, Value::Null);
}

#[tokio::test]
async fn change_password_errors_use_better_auths_codes() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    let cases = [
        (
            json!({"currentPassword": "wrong password", "newPassword": "a brand new passphrase"}),
            StatusCode::BAD_REQUEST,
            "INVALID_PASSWORD",
        ),
        (
            json!({"currentPassword": PASSWORD, "newPassword": "short"}),
            StatusCode::BAD_REQUEST,
            "PASSWORD_TOO_SHORT",
        ),
        (
            json!({"currentPassword": PASSWORD, "newPassword": "x".repeat(129)}),
            StatusCode::BAD_REQUEST,
            "PASSWORD_TOO_LONG",
        ),
        (
            json!({"currentPassword": "x".repeat(129), "newPassword": "a brand new passphrase"}),
            StatusCode::BAD_REQUEST,
            "PASSWORD_TOO_LONG",
        ),
        (
            json!({"newPassword": "a brand new passphrase"}),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
    ];
    for (body, status, code) in cases {
        assert_error(
            post(&app, "/api/auth/change-password", &me.by_bearer(), body).await,
            status,
            code,
        )
        .await;
    }
    let anon = post(
        &app,
        "/api/auth/change-password",
        &Who::Anonymous,
        json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"}),
    )
    .await;
    assert_error(anon, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
    // nothing changed
    assert_eq!(
        app.sign_in(&json!({"email": me.email, "password": PASSWORD}))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_revocation_feed_lists_recently_ended_sessions_only() {
    let app =
        spawn_app_with(|s| s.revocations_secret = Some(FEED_SECRET.as_bytes().to_vec().into()))
            .await;
    let me = app.signed_up_user().await;
    let sid = app.session_json(&me.by_bearer()).await["session"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let feed = |app: &TestApp| {
        let rb = app
            .request(Method::GET, "/api/auth/revocations")
            .bearer_auth(FEED_SECRET);
        async move { rb.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(feed(&app).await["sessions"], json!([]));
    app.sign_out(&me.by_bearer()).await;
    assert_eq!(feed(&app).await["sessions"], json!([sid]));
    // once every token of that session has expired, it drops out
    app.clock
        .advance(std::time::Duration::from_secs(15 * 60 + 61));
    assert_eq!(feed(&app).await["sessions"], json!([]));
}

#[tokio::test]
async fn a_remember_me_false_session_used_through_bearer_is_never_extended() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    let short = app.signed_in(&me, false).await;
    let before = app.session_json(&short.by_bearer()).await["session"]["expiresAt"].clone();
    app.clock.advance(std::time::Duration::from_secs(23 * 3600));
    let after = app.session_json(&short.by_bearer()).await;
    assert_eq!(
        after["session"]["expiresAt"], before,
        "not upgraded to 7 days"
    );
    app.clock.advance(std::time::Duration::from_secs(3601));
    assert_eq!(
        app.session_json(&short.by_bearer()).await,
        Value::Null,
        "gone after one day"
    );
}
