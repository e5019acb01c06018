//! Running real `tessera` processes from tests: free loopback ports, readiness waits
//! (bounded), sign-up and token helpers, and fresh PostgreSQL databases.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
pub(crate) use tessera_testkit::jws::with_claim;
pub(crate) use tessera_testkit::postgres::PgDatabase;

pub(crate) const SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
pub(crate) const JWT_SECRET: &str = "shared-hs256-secret-for-backends-0123456789";

pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Server {
    /// Kills the process with SIGKILL (no shutdown at all) and reaps it.
    pub(crate) fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process is still running.
    pub(crate) fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `tessera serve` with `args` in `dir` and waits (≤ 20 s) until /readyz answers.
pub(crate) async fn start(dir: &Path, db: &str, args: &[&str]) -> Server {
    start_with_url(dir, &format!("sqlite://{}", dir.join(db).display()), args).await
}

/// The feed secret every test server gets, so split-role tests follow the real feed.
pub(crate) const FEED_SECRET: &str = "revocation-feed-secret-0123456789abcdef";

/// Starts `tessera serve` on a database URL (SQLite or PostgreSQL).
pub(crate) async fn start_with_url(dir: &Path, database_url: &str, args: &[&str]) -> Server {
    let cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    spawn_ready(cmd, dir, database_url, args, Stdio::inherit()).await
}

/// Starts `tessera serve` with its open-file limit lowered to `nofile` (through the shell's
/// `ulimit`), its log going to `log`.
pub(crate) async fn start_with_open_file_limit(
    dir: &Path,
    db: &str,
    args: &[&str],
    nofile: u32,
    log: std::fs::File,
) -> Server {
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        &format!("ulimit -n {nofile} && exec \"$0\" \"$@\""),
        env!("CARGO_BIN_EXE_tessera"),
    ]);
    let url = format!("sqlite://{}", dir.join(db).display());
    spawn_ready(cmd, dir, &url, args, Stdio::from(log)).await
}

async fn spawn_ready(
    mut cmd: Command,
    dir: &Path,
    database_url: &str,
    args: &[&str],
    stderr: Stdio,
) -> Server {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    cmd.arg("serve")
        .args(["--bind", &format!("127.0.0.1:{port}")]);
    // Instances behind one load balancer share a public base URL; otherwise each is its own.
    if !args.contains(&"--base-url") {
        cmd.args(["--base-url", &base]);
    }
    let child = cmd
        .args(["--database-url", database_url])
        .args(args)
        .env("TESSERA_SECRET", SECRET)
        .env("TESSERA_REVOCATIONS_SECRET", FEED_SECRET)
        .env("TESSERA_LOG", "warn")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(stderr)
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

pub(crate) struct Session {
    pub(crate) user_id: String,
    pub(crate) session_token: String,
}

pub(crate) async fn sign_up(auth: &Server, email: &str) -> Session {
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

pub(crate) async fn access_token(auth: &Server, s: &Session) -> String {
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

/// `GET /api/auth/get-session` with a Bearer session token: the body (`null` when none).
pub(crate) async fn session_of(server: &Server, token: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/api/auth/get-session", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub(crate) async fn get_tasks(api: &Server, user_id: &str, jwt: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/api/{user_id}/tasks", api.base))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap()
}

/// The token with its `email` claim changed and the signature kept.
pub(crate) fn tamper(jwt: &str) -> String {
    with_claim(jwt, "email", json!("mallory@x.test"))
}

/// A fresh PostgreSQL database (dropped with the value), or `None` with a loud note when no
/// PostgreSQL is reachable; on CI that is a failure instead.
pub(crate) async fn postgres_database() -> Option<PgDatabase> {
    PgDatabase::create("tessera_cli").await
}

/// JSON body of a GET.
pub(crate) async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Polls `check` every 50 ms until it is true, failing after `limit`.
pub(crate) async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
