//! Running real `tessera` processes from tests: free loopback ports, readiness waits
//! (bounded), sign-up and token helpers, and fresh PostgreSQL databases.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
pub const JWT_SECRET: &str = "shared-hs256-secret-for-backends-0123456789";

pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `tessera serve` with `args` in `dir` and waits (≤ 20 s) until /readyz answers.
pub async fn start(dir: &Path, db: &str, args: &[&str]) -> Server {
    start_with_url(dir, &format!("sqlite://{}", dir.join(db).display()), args).await
}

/// The feed secret every test server gets, so split-role tests follow the real feed.
pub const FEED_SECRET: &str = "revocation-feed-secret-0123456789abcdef";

/// Starts `tessera serve` on a database URL (SQLite or PostgreSQL).
pub async fn start_with_url(dir: &Path, database_url: &str, args: &[&str]) -> Server {
    let cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    spawn_ready(cmd, dir, database_url, args, Stdio::inherit()).await
}

/// Starts `tessera serve` with its open-file limit lowered to `nofile` (through the shell's
/// `ulimit`), its log going to `log`.
pub async fn start_with_open_file_limit(
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

pub struct Session {
    pub user_id: String,
    pub session_token: String,
}

pub async fn sign_up(auth: &Server, email: &str) -> Session {
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

pub async fn access_token(auth: &Server, s: &Session) -> String {
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
pub async fn session_of(server: &Server, token: &str) -> Value {
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

pub async fn get_tasks(api: &Server, user_id: &str, jwt: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/api/{user_id}/tasks", api.base))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap()
}

pub fn tamper(jwt: &str) -> String {
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
    claims["email"] = json!("mallory@x.test");
    parts[1] = b64.encode(serde_json::to_vec(&claims).unwrap());
    parts.join(".")
}

/// `TESSERA_TEST_POSTGRES_URL`, else the local PostgreSQL.
pub fn postgres_admin_url() -> String {
    std::env::var("TESSERA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh PostgreSQL database, dropped when this value is. `None` (with a loud note) when
/// no PostgreSQL is reachable; on CI that is a failure instead.
pub struct PgDatabase {
    pub url: String,
    name: String,
}

pub async fn postgres_database() -> Option<PgDatabase> {
    use sqlx::Connection as _;
    let admin = postgres_admin_url();
    let conn =
        tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(&admin)).await;
    let Ok(Ok(mut conn)) = conn else {
        assert!(
            std::env::var_os("CI").is_none(),
            "PostgreSQL at {admin} is required on CI"
        );
        eprintln!("NOTE: PostgreSQL not reachable at {admin}: multi-instance cases NOT run");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("tessera_cli_{}_{nanos}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Some(PgDatabase {
        url: format!("{base}/{name}"),
        name,
    })
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            use sqlx::Connection as _;
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        })
        .join();
    }
}

/// JSON body of a GET.
pub async fn get_json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Polls `check` every 50 ms until it is true, failing after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
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
