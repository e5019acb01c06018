//! Tessera as separate processes, the way teams deploy it: the auth server in one process,
//! the tasks API in another that knows the auth server only by its JWKS URL (or a shared
//! HS256 secret). Each test starts real `tessera` binaries on free loopback ports with their
//! own databases and stops them at the end; every wait is bounded.

use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn tasks_api_in_its_own_process_verifies_through_the_auth_servers_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let auth = start(dir.path(), "auth.db", &["--role", "auth"]).await;
    let jwks = format!("{}/api/auth/jwks", auth.base);
    let api = start(
        dir.path(),
        "api.db",
        &["--role", "api", "--jwks-url", &jwks],
    )
    .await;

    let alice = sign_up(&auth, "alice@x.test").await;
    let bob = sign_up(&auth, "bob@x.test").await;
    let jwt = access_token(&auth, &alice).await;

    // sign-in happened on one process; tasks live on the other
    let created = reqwest::Client::new()
        .post(format!("{}/api/{}/tasks", api.base, alice.user_id))
        .bearer_auth(&jwt)
        .json(&json!({"title": "Ship it"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let res = get_tasks(&api, &alice.user_id, &jwt).await;
    assert_eq!(res.status(), 200);
    let tasks: Value = res.json().await.unwrap();
    assert_eq!(tasks[0]["title"], "Ship it");

    // each process serves only its half
    assert_eq!(get_tasks(&auth, &alice.user_id, &jwt).await.status(), 404);
    let ok = reqwest::get(format!("{}/api/auth/ok", api.base))
        .await
        .unwrap();
    assert_eq!(ok.status(), 404);

    // the API still refuses what it must
    let res = get_tasks(&api, &bob.user_id, &jwt).await;
    assert_eq!(res.status(), 403);
    let res = get_tasks(&api, &alice.user_id, &tamper(&jwt)).await;
    assert_eq!(res.status(), 401);
    assert!(!res.text().await.unwrap().contains("Ship it"));
}

#[tokio::test]
async fn tasks_api_in_its_own_process_verifies_hs256_with_the_shared_secret() {
    let dir = tempfile::tempdir().unwrap();
    let auth = start(
        dir.path(),
        "auth.db",
        &[
            "--role",
            "auth",
            "--jwt-alg",
            "HS256",
            "--jwt-secret",
            JWT_SECRET,
        ],
    )
    .await;
    let issuer = auth.base.clone();
    let api = start(
        dir.path(),
        "api.db",
        &[
            "--role",
            "api",
            "--jwt-secret",
            JWT_SECRET,
            "--jwt-issuer",
            &issuer,
            "--jwt-audience",
            &issuer,
        ],
    )
    .await;
    let alice = sign_up(&auth, "alice@x.test").await;
    let jwt = access_token(&auth, &alice).await;
    assert_eq!(get_tasks(&api, &alice.user_id, &jwt).await.status(), 200);
    assert_eq!(
        get_tasks(&api, &alice.user_id, &tamper(&jwt))
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn signing_out_stops_access_tokens_on_a_separate_api_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let auth = start(dir.path(), "auth.db", &["--role", "auth"]).await;
    let jwks = format!("{}/api/auth/jwks", auth.base);
    let api = start(
        dir.path(),
        "api.db",
        &["--role", "api", "--jwks-url", &jwks],
    )
    .await;
    let alice = sign_up(&auth, "alice@x.test").await;
    let jwt = access_token(&auth, &alice).await;
    assert_eq!(get_tasks(&api, &alice.user_id, &jwt).await.status(), 200);

    let out = reqwest::Client::new()
        .post(format!("{}/api/auth/sign-out", auth.base))
        .bearer_auth(&alice.session_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    let signed_out = Instant::now();
    loop {
        let status = get_tasks(&api, &alice.user_id, &jwt).await.status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            signed_out.elapsed() < Duration::from_secs(2),
            "token still accepted 2 s after sign-out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
