//! Several Tessera instances on one PostgreSQL database, as behind a load balancer: they
//! agree on one signing key when started together, a session started on one works on the
//! other, sign-out and refresh-reuse detection cross instances, and a rotated key reaches
//! every instance and remote verifier without a restart. Needs PostgreSQL (required on CI;
//! skipped with a note elsewhere).

use std::process::Command;
use std::time::Duration;

use crate::support::*;
use serde_json::{Value, json};

/// The public URL both instances serve under (their load balancer's): the JWT issuer and
/// audience, and the trusted origin.
const PUBLIC_URL: &str = "http://tessera.test";

async fn pair(db: &PgDatabase, dir: &std::path::Path, extra: &[&str]) -> (Server, Server) {
    let mut args = vec!["--base-url", PUBLIC_URL];
    args.extend_from_slice(extra);
    tokio::join!(
        start_with_url(dir, &db.url, &args),
        start_with_url(dir, &db.url, &args)
    )
}

async fn refresh_sign_in(server: &Server, email: &str) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/sign-in/email", server.base))
        .json(&json!({"email": email, "password": "correct horse battery", "refreshToken": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn refresh(server: &Server, rt: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/auth/refresh", server.base))
        .json(&json!({"refresh_token": rt}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_create_exactly_one_signing_key() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = pair(&db, dir.path(), &[]).await;
    let a = get_json(&format!("{}/api/auth/jwks", one.base)).await;
    let b = get_json(&format!("{}/api/auth/jwks", two.base)).await;
    assert_eq!(a["keys"].as_array().unwrap().len(), 1, "{a}");
    assert_eq!(a, b, "both publish the same key");
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM signing_keys")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_started_on_one_instance_works_on_the_other() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = pair(&db, dir.path(), &[]).await;
    let alice = sign_up(&one, "alice@x.test").await;
    let grant = refresh_sign_in(&two, "alice@x.test").await;
    let res = refresh(&one, grant["refresh_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), 200);
    let jwt = res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = reqwest::Client::new()
        .post(format!("{}/api/{}/tasks", two.base, alice.user_id))
        .bearer_auth(&jwt)
        .json(&json!({"title": "from instance two"}))
        .send()
        .await
        .unwrap();
    let status = created.status();
    let wa = created.headers().get("www-authenticate").cloned();
    assert_eq!(status, 201, "{wa:?} {}", created.text().await.unwrap());
    let list: Value = get_tasks(&one, &alice.user_id, &jwt)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["title"], "from instance two");
    // the cookie/bearer session too
    let jwt2 = access_token(&two, &alice).await;
    assert_eq!(get_tasks(&one, &alice.user_id, &jwt2).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_on_one_instance_ends_the_session_on_the_other() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = pair(&db, dir.path(), &[]).await;
    sign_up(&one, "alice@x.test").await;
    let grant = refresh_sign_in(&one, "alice@x.test").await;
    let user_id = grant["user"]["id"].as_str().unwrap().to_owned();
    let rt = grant["refresh_token"].as_str().unwrap().to_owned();
    let jwt = grant["access_token"].as_str().unwrap().to_owned();
    assert_eq!(get_tasks(&one, &user_id, &jwt).await.status(), 200);

    let out = reqwest::Client::new()
        .post(format!("{}/api/auth/sign-out", two.base))
        .json(&json!({"refresh_token": rt}))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    // refresh: at once, on the other instance
    assert_eq!(refresh(&one, &rt).await.status(), 401);
    // access tokens: within 2 seconds, on both
    for server in [&one, &two] {
        eventually(
            Duration::from_secs(2),
            "access token refused after sign-out",
            || async { get_tasks(server, &user_id, &jwt).await.status() == 401 },
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_credential_replayed_on_the_other_instance_is_detected_as_reuse() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // no grace window: any second use of a rotated credential is reuse
    let (one, two) = pair(&db, dir.path(), &["--refresh-grace", "0s"]).await;
    sign_up(&one, "alice@x.test").await;
    let grant = refresh_sign_in(&one, "alice@x.test").await;
    let rt0 = grant["refresh_token"].as_str().unwrap().to_owned();
    let res = refresh(&one, &rt0).await;
    assert_eq!(res.status(), 200);
    let rt1 = res.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(5)).await; // the rotation's millisecond has passed
    assert_eq!(
        refresh(&two, &rt0).await.status(),
        401,
        "replay of the old credential"
    );
    assert_eq!(
        refresh(&one, &rt1).await.status(),
        401,
        "the session is gone for the holder of the newest one too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_reaches_every_instance_and_remote_verifier_without_a_restart() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = pair(&db, dir.path(), &["--key-activation-delay", "3s"]).await;
    let jwks = format!("{}/api/auth/jwks", one.base);
    let remote = start(
        dir.path(),
        "api.db",
        // its refetch cooldown must be shorter than the activation delay, as by default (30 s < 60 s)
        &[
            "--role",
            "api",
            "--jwks-url",
            &jwks,
            "--jwks-cooldown",
            "1s",
            "--jwt-issuer",
            PUBLIC_URL,
            "--jwt-audience",
            PUBLIC_URL,
        ],
    )
    .await;
    let alice = sign_up(&one, "alice@x.test").await;
    let old_jwt = access_token(&one, &alice).await;
    assert_eq!(
        get_tasks(&remote, &alice.user_id, &old_jwt).await.status(),
        200
    );
    let old_kid = get_json(&jwks).await["keys"][0]["kid"]
        .as_str()
        .unwrap()
        .to_owned();

    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["keys", "rotate", "--database-url", &db.url])
        .env("TESSERA_SECRET", SECRET)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["keys", "list", "--database-url", &db.url])
        .env("TESSERA_SECRET", SECRET)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains(&old_kid) && listed.lines().count() == 3,
        "{listed}"
    );

    // published by every instance before anything is signed with it
    for server in [&one, &two] {
        let url = format!("{}/api/auth/jwks", server.base);
        eventually(Duration::from_secs(5), "new key published", || async {
            get_json(&url).await["keys"].as_array().map_or(0, Vec::len) == 2
        })
        .await;
    }
    // after the activation delay, new tokens carry the new key id, on both instances
    let kid_of = |jwt: &str| -> String {
        use base64::Engine as _;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap();
        serde_json::from_slice::<Value>(&header).unwrap()["kid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for server in [&one, &two] {
        let started = std::time::Instant::now();
        let new_jwt = loop {
            let jwt = access_token(server, &alice).await;
            if kid_of(&jwt) != old_kid {
                break jwt;
            }
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "new key not signing within 8 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        // verified in-process by both instances and by the remote API, no restart
        for verifier in [&one, &two, &remote] {
            assert_eq!(
                get_tasks(verifier, &alice.user_id, &new_jwt).await.status(),
                200,
                "{}",
                verifier.base
            );
        }
    }
    // tokens signed by the old key keep verifying until they expire
    for verifier in [&one, &two, &remote] {
        assert_eq!(
            get_tasks(verifier, &alice.user_id, &old_jwt).await.status(),
            200
        );
    }
}
