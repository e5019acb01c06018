//! The attack suite's concurrency rows (checklist group G) that other modules do not
//! already cover: case-variant sign-ups racing in the generic sign-up mode (G2), refresh
//! racing sign-out (G4) and a password change (G5), and two users writing tasks in parallel
//! (G7). Each test fires the requests at once, waits for all of them, then checks the
//! invariant in the database and through the API. Rate limits are off: the tests need more
//! requests than a client may send. `docs/attack-suite.md` maps every row to its tests.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_server::http::rate_limit::RateLimits;
use tessera_server::settings::SignUpResponse;
use tokio::task::JoinSet;

use crate::helpers::*;

async fn unlimited_app() -> TestApp {
    spawn_app_with(|s| s.security.rate_limits = RateLimits::disabled()).await
}

/// Signs `user` in asking for a refresh credential; returns it.
async fn refresh_session(app: &TestApp, user: &TestUser) -> String {
    let res = app
        .sign_in(&json!({"email": user.email, "password": user.password, "refreshToken": true}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["refresh_token"].as_str().unwrap().to_owned()
}

/// `POST /api/auth/refresh`: the status and, on success, (access token, refresh credential).
async fn refresh(
    client: &reqwest::Client,
    url: &str,
    rt: &str,
) -> (StatusCode, Option<(String, String)>) {
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .body(json!({ "refresh_token": rt }).to_string())
        .send()
        .await
        .unwrap();
    let status = res.status();
    if status != StatusCode::OK {
        return (status, None);
    }
    let body: Value = res.json().await.unwrap();
    let at = body["access_token"].as_str().unwrap().to_owned();
    let next = body["refresh_token"].as_str().unwrap().to_owned();
    (status, Some((at, next)))
}

/// Sessions of this user that a refresh credential holds and that have not ended.
async fn live_refresh_sessions(app: &TestApp, user_id: &str) -> i64 {
    app.count_where(
        "sessions",
        &format!(
            "user_id = '{user_id}' AND revoked_at IS NULL \
             AND id IN (SELECT session_id FROM refresh_tokens)"
        ),
    )
    .await
}

#[tokio::test]
async fn case_variant_sign_ups_racing_in_generic_mode_create_one_account() {
    let app = spawn_app_with(|s| {
        s.security.rate_limits = RateLimits::disabled();
        s.security.sign_up_response = SignUpResponse::Generic;
    })
    .await;
    let spellings = [
        "race2@example.com",
        "Race2@example.com",
        "RACE2@EXAMPLE.COM",
    ];
    let mut set = JoinSet::new();
    for i in 0..12 {
        let (client, url) = (app.api.clone(), app.url("/api/auth/sign-up/email"));
        let email = spellings[i % spellings.len()];
        set.spawn(async move {
            let body =
                json!({"name": "racer", "email": email, "password": format!("racing phrase {i}")});
            let res = client
                .post(url)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        });
    }
    while let Some(r) = set.join_next().await {
        let (status, body) = r.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["user"]["email"], "race2@example.com");
    }

    assert_eq!(app.count("users").await, 1);
    assert_eq!(app.count("accounts").await, 1);
    assert_eq!(
        app.count("sessions").await,
        0,
        "generic sign-up signs nobody in"
    );
    // exactly one racer's password is the account's
    let mut winners = 0;
    for i in 0..12 {
        let res = app
            .sign_in(
                &json!({"email": "race2@example.com", "password": format!("racing phrase {i}")}),
            )
            .await;
        if res.status() == StatusCode::OK {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn refresh_racing_sign_out_leaves_no_live_credential() {
    let app = unlimited_app().await;
    let user = app.signed_up_user().await;
    let mut rts = Vec::new();
    for _ in 0..12 {
        rts.push(refresh_session(&app, &user).await);
    }
    assert_eq!(live_refresh_sessions(&app, &user.id).await, 12);

    // each session: a refresh and a sign-out with the same credential, at once
    let url = app.url("/api/auth/refresh");
    let mut refreshes = JoinSet::new();
    let mut sign_outs = JoinSet::new();
    for rt in &rts {
        let (client, url, rt1) = (app.api.clone(), url.clone(), rt.clone());
        refreshes.spawn(async move { refresh(&client, &url, &rt1).await });
        let (client, url, rt) = (app.api.clone(), app.url("/api/auth/sign-out"), rt.clone());
        sign_outs.spawn(async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(json!({ "refresh_token": rt }).to_string())
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let mut won = Vec::new();
    while let Some(r) = refreshes.join_next().await {
        match r.unwrap() {
            (StatusCode::OK, Some(pair)) => won.push(pair),
            (StatusCode::UNAUTHORIZED, None) => {}
            (other, _) => panic!("refresh answered {other}"),
        }
    }
    while let Some(r) = sign_outs.join_next().await {
        assert_eq!(r.unwrap(), StatusCode::OK);
    }

    // whichever came first, every session is over
    assert_eq!(live_refresh_sessions(&app, &user.id).await, 0);
    for (at, next) in &won {
        assert_eq!(
            refresh(&app.api, &url, next).await.0,
            StatusCode::UNAUTHORIZED,
            "a successor issued in the race is dead"
        );
        assert_eq!(
            app.tasks_status(&user.id, at).await,
            StatusCode::UNAUTHORIZED
        );
    }
    for rt in &rts {
        assert_eq!(
            refresh(&app.api, &url, rt).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert!(
        app.session_json(&user.by_bearer()).await != Value::Null,
        "the cookie session was not part of it"
    );
}

#[tokio::test]
async fn signing_out_with_a_just_rotated_credential_still_ends_the_session() {
    let app = unlimited_app().await;
    let user = app.signed_up_user().await;
    let rt0 = refresh_session(&app, &user).await;
    let url = app.url("/api/auth/refresh");
    let (status, pair) = refresh(&app.api, &url, &rt0).await;
    assert_eq!(status, StatusCode::OK);
    let (at1, rt1) = pair.unwrap();

    // the client lost the refresh answer and signs out with the credential it still has
    let res = app
        .request(Method::POST, "/api/auth/sign-out")
        .json(&json!({ "refresh_token": rt0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(live_refresh_sessions(&app, &user.id).await, 0);
    assert_eq!(
        refresh(&app.api, &url, &rt1).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.tasks_status(&user.id, &at1).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn refresh_chains_racing_a_password_change_all_end() {
    let app = unlimited_app().await;
    let user = app.signed_up_user().await;
    let mut chains = JoinSet::new();
    let changed = Arc::new(AtomicBool::new(false));
    let url = app.url("/api/auth/refresh");
    for _ in 0..4 {
        let first = refresh_session(&app, &user).await;
        let (client, url, changed) = (app.api.clone(), url.clone(), changed.clone());
        // refresh over and over until refused; a success that started after the password
        // change had been answered would be a live credential the change missed
        chains.spawn(async move {
            let (mut rt, mut at) = (first, None);
            for _ in 0..5_000 {
                let started_after_change = changed.load(Ordering::SeqCst);
                match refresh(&client, &url, &rt).await {
                    (StatusCode::OK, Some((a, r))) => {
                        assert!(
                            !started_after_change,
                            "a refresh succeeded after the password change"
                        );
                        (at, rt) = (Some(a), r);
                    }
                    (StatusCode::UNAUTHORIZED, None) => return (rt, at),
                    (other, _) => panic!("refresh answered {other}"),
                }
            }
            panic!("the chain was never refused");
        });
    }
    // the change runs while the chains refresh
    let res = app
        .request(Method::POST, "/api/auth/change-password")
        .bearer_auth(&user.token)
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    changed.store(true, Ordering::SeqCst);

    let mut ended = Vec::new();
    while let Some(r) = chains.join_next().await {
        ended.push(r.unwrap());
    }
    assert_eq!(live_refresh_sessions(&app, &user.id).await, 0);
    for (rt, at) in &ended {
        assert_eq!(
            refresh(&app.api, &url, rt).await.0,
            StatusCode::UNAUTHORIZED
        );
        if let Some(at) = at {
            assert_eq!(
                app.tasks_status(&user.id, at).await,
                StatusCode::UNAUTHORIZED
            );
        }
    }
    // the session that changed the password goes on; the old password is gone
    assert!(app.session_json(&user.by_bearer()).await != Value::Null);
    assert_eq!(
        app.sign_in(&json!({"email": user.email, "password": PASSWORD}))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn parallel_task_writes_by_two_users_stay_with_their_creators() {
    let app = unlimited_app().await;
    let a = app.signed_up_user().await;
    let b = app.signed_up_user().await;
    let a_jwt = app.access_token(&a.by_bearer()).await;
    let b_jwt = app.access_token(&b.by_bearer()).await;
    let mut set = JoinSet::new();
    for i in 0..50 {
        for (me, jwt, other) in [(&a, &a_jwt, &b), (&b, &b_jwt, &a)] {
            // every body claims the other user as its owner; every tenth request also
            // aims at the other user's collection
            let path = if i % 10 == 9 { &other.id } else { &me.id };
            let url = app.url(&format!("/api/{path}/tasks"));
            let body = json!({
                "title": format!("{}-{i}", me.id),
                "userId": other.id, "user_id": other.id, "owner": other.id,
            });
            let (client, jwt) = (app.api.clone(), jwt.clone());
            set.spawn(async move {
                let res = client
                    .post(url)
                    .bearer_auth(jwt)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                (i, res.status())
            });
        }
    }
    while let Some(r) = set.join_next().await {
        let (i, status) = r.unwrap();
        let expected = if i % 10 == 9 {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::CREATED
        };
        assert_eq!(status, expected, "request {i}");
    }

    assert_eq!(app.count("tasks").await, 90);
    for (user, jwt) in [(&a, &a_jwt), (&b, &b_jwt)] {
        assert_eq!(
            app.count_where("tasks", &format!("user_id = '{}'", user.id))
                .await,
            45
        );
        let res = app
            .request(Method::GET, &format!("/api/{}/tasks?limit=100", user.id))
            .bearer_auth(jwt)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let list: Vec<Value> = res.json().await.unwrap();
        let titles: BTreeSet<String> = list
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect();
        let expected: BTreeSet<String> = (0..50)
            .filter(|i| i % 10 != 9)
            .map(|i| format!("{}-{i}", user.id))
            .collect();
        assert_eq!(titles, expected);
        assert!(list.iter().all(|t| t["userId"] == user.id.as_str()));
    }
}
