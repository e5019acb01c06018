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

/// Issue #20's reproduction: with 256 descriptors, 300 silent sockets used to stop /healthz
/// and fill the log with an "accept failed" line every 50 ms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_descriptors_leaves_healthz_answering_and_the_log_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // a connection bound above the descriptor limit, so the limit is what runs out
    let server = start_with_open_file_limit(
        dir.path(),
        "fd.db",
        &["--max-connections", "1000"],
        256,
        log,
    )
    .await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut silent = Vec::new();
    for _ in 0..300 {
        match tokio::net::TcpStream::connect(&address).await {
            Ok(s) => silent.push(s),
            Err(e) => panic!("the kernel refused a connection: {e}"),
        }
    }
    // give the accept loop a few seconds at the limit
    tokio::time::sleep(Duration::from_secs(3)).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let res = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("healthz answers while silent sockets hold every descriptor");
    assert_eq!(res.status(), 200);
    eprintln!(
        "healthz with 300 silent sockets and 256 descriptors: {:?}",
        started.elapsed()
    );
    drop(silent);
    drop(server);
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines = text.lines().filter(|l| l.contains("accept failed")).count();
    assert!(lines >= 1, "the condition is reported: {text}");
    assert!(lines <= 2, "at most one line per 10 s, got {lines}: {text}");
}
