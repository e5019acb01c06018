//! Tessera as separate processes, the way teams deploy it: the auth server in one process,
//! the tasks API in another that knows the auth server only by its JWKS URL (or a shared
//! HS256 secret). Each test starts real `tessera` binaries on free loopback ports with their
//! own databases and stops them at the end; every wait is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

const SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
const JWT_SECRET: &str = "shared-hs256-secret-for-backends-0123456789";

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `tessera serve` with `args` in `dir` and waits (≤ 20 s) until /readyz answers.
async fn start(dir: &Path, db: &str, args: &[&str]) -> Server {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("serve")
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(["--base-url", &base])
        .args([
            "--database-url",
            &format!("sqlite://{}", dir.join(db).display()),
        ])
        .args(args)
        .env("TESSERA_SECRET", SECRET)
        .env("TESSERA_LOG", "warn")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let server = Server { child, base };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
            && r.status().is_success()
        {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "server on {} did not become ready",
            server.base
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Session {
    user_id: String,
    session_token: String,
}

async fn sign_up(auth: &Server, email: &str) -> Session {
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/sign-up/email", auth.base))
        .json(&json!({"name": "Sam", "email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    Session {
        user_id: body["user"]["id"].as_str().unwrap().to_owned(),
        session_token: body["token"].as_str().unwrap().to_owned(),
    }
}

async fn access_token(auth: &Server, s: &Session) -> String {
    let res = reqwest::Client::new()
        .get(format!("{}/api/auth/token", auth.base))
        .bearer_auth(&s.session_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn get_tasks(api: &Server, user_id: &str, jwt: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/api/{user_id}/tasks", api.base))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap()
}

fn tamper(jwt: &str) -> String {
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
    claims["email"] = json!("mallory@x.test");
    parts[1] = b64.encode(serde_json::to_vec(&claims).unwrap());
    parts.join(".")
}

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
