//! The `tessera` binary as an operator meets it: help texts, refusals of unsafe
//! configuration, the zero-configuration development start (database and secret created,
//! warning logged, URL announced), `healthcheck`, and `keys list` / `keys rotate` on the
//! database a server created. Every test runs the built binary in its own temporary
//! directory with a cleared environment; servers bind 127.0.0.1 on a free port; every wait
//! is bounded.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// Longest any single command may take before the test fails.
const LIMIT: Duration = Duration::from_secs(30);

/// The binary, with nothing inherited from the environment but what is set here.
fn tessera(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// Runs a command to completion (bounded) and returns its output.
async fn run(mut cmd: Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("the command finished in time")
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    strip_ansi(&String::from_utf8_lossy(bytes))
}

/// Removes terminal colour sequences, in case the logger colours anyway.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A port nothing listens on right now (the OS picks it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `tessera serve` and the log lines it wrote.
struct Server {
    child: Child,
    url: String,
    log: String,
    lines: mpsc::UnboundedReceiver<String>,
}

/// Starts `tessera serve --bind 127.0.0.1:<free port> <args>` in `dir` and waits (bounded)
/// for the "serving" log line.
async fn serve(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut cmd = tessera(dir);
    cmd.arg("serve")
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    // keeps draining so the server never blocks on a full pipe
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            if tx.send(strip_ansi(&line)).is_err() {
                break;
            }
        }
    });
    let mut log = String::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(line)) => {
                log.push_str(&line);
                log.push('\n');
                if line.contains("tessera is serving") {
                    break;
                }
            }
            Ok(None) => panic!("the server exited before serving:\n{log}"),
            Err(_) => panic!("the server did not start within {LIMIT:?}:\n{log}"),
        }
    }
    Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
        lines: rx,
    }
}

impl Server {
    /// Stops the server and waits (bounded) for it to exit.
    async fn stop(mut self) {
        self.child.start_kill().unwrap();
        tokio::time::timeout(LIMIT, self.child.wait())
            .await
            .expect("the server exited in time")
            .unwrap();
        while let Ok(line) = self.lines.try_recv() {
            self.log.push_str(&line);
        }
    }
}

/// Runs `tessera serve` expecting it to refuse to start; returns its stderr.
async fn refused_serve(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let port = free_port();
    let mut cmd = tessera(dir);
    cmd.arg("serve")
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .args(args)
        .envs(env.iter().copied());
    let out = run(cmd).await;
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "serve should refuse: {stderr}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing may be listening"
    );
    stderr
}

async fn healthcheck(dir: &Path, url: &str) -> Output {
    let mut cmd = tessera(dir);
    cmd.args(["healthcheck", "--url", url]);
    run(cmd).await
}

async fn keys(dir: &Path, action: &str) -> String {
    let mut cmd = tessera(dir);
    cmd.args(["keys", action]);
    let out = run(cmd).await;
    assert!(out.status.success(), "keys {action}: {}", text(&out.stderr));
    text(&out.stdout)
}

const SECRET: &str = "cli-test-secret-0123456789abcdef0123456789";

// ------------------------------------------------------------------------------ help

#[tokio::test]
async fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tessera(dir.path());
    cmd.arg("--help");

    let out = run(cmd).await;

    assert!(out.status.success());
    let help = text(&out.stdout);
    for command in ["serve", "migrate", "keys", "healthcheck"] {
        assert!(help.contains(command), "{command} missing from:\n{help}");
    }
}

#[tokio::test]
async fn serve_help_names_every_option_and_its_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = tessera(dir.path());
    cmd.args(["serve", "--help"])
        .env("TESSERA_SECRET", SECRET)
        .env(
            "TESSERA_JWT_SECRET",
            "do-not-print-this-jwt-secret-0123456789",
        );

    let out = run(cmd).await;

    assert!(out.status.success());
    let help = text(&out.stdout);
    for (flag, env) in [
        ("--bind", "TESSERA_BIND"),
        ("--database-url", "TESSERA_DATABASE_URL"),
        ("--base-url", "TESSERA_BASE_URL"),
        ("--secret", "TESSERA_SECRET"),
        ("--jwt-alg", "TESSERA_JWT_ALG"),
        ("--jwt-secret", "TESSERA_JWT_SECRET"),
        ("--access-token-ttl", "TESSERA_ACCESS_TOKEN_TTL"),
        ("--trusted-origins", "TESSERA_TRUSTED_ORIGINS"),
        ("--trusted-proxies", "TESSERA_TRUSTED_PROXIES"),
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
        assert!(help.contains(env), "{env} missing from:\n{help}");
    }
    for default in ["127.0.0.1:8080", "sqlite://tessera.db", "EdDSA", "15m"] {
        assert!(
            help.contains(default),
            "default {default} missing from:\n{help}"
        );
    }
    assert!(!help.contains(SECRET), "the help must not print secrets");
    assert!(!help.contains("do-not-print-this-jwt-secret"));
}

// ------------------------------------------------------------------------------ refusals

#[tokio::test]
async fn serve_refuses_a_secret_shorter_than_32_bytes() {
    let dir = tempfile::tempdir().unwrap();

    let stderr = refused_serve(dir.path(), &[], &[("TESSERA_SECRET", "too-short-secret")]).await;

    assert!(stderr.contains("at least 32 bytes"), "{stderr}");
    assert!(
        !stderr.contains("too-short-secret"),
        "the secret is not echoed"
    );
}

#[tokio::test]
async fn serve_refuses_hs256_without_a_jwt_secret() {
    let dir = tempfile::tempdir().unwrap();

    let stderr = refused_serve(
        dir.path(),
        &["--jwt-alg", "HS256"],
        &[("TESSERA_SECRET", SECRET)],
    )
    .await;

    assert!(stderr.contains("--jwt-secret"), "{stderr}");
    assert!(stderr.contains("32 bytes"), "{stderr}");
}

#[tokio::test]
async fn serve_refuses_hs256_with_a_short_jwt_secret() {
    let dir = tempfile::tempdir().unwrap();

    let stderr = refused_serve(
        dir.path(),
        &["--jwt-alg", "HS256", "--jwt-secret", "short"],
        &[("TESSERA_SECRET", SECRET)],
    )
    .await;

    assert!(stderr.contains("--jwt-secret"), "{stderr}");
    assert!(stderr.contains("(got 5)"), "{stderr}");
}

#[tokio::test]
async fn serve_refuses_jwt_alg_none() {
    let dir = tempfile::tempdir().unwrap();

    for alg in ["none", "hs256", "HS512"] {
        let stderr = refused_serve(
            dir.path(),
            &["--jwt-alg", alg],
            &[("TESSERA_SECRET", SECRET)],
        )
        .await;
        assert!(stderr.contains("unknown JWT algorithm"), "{alg}: {stderr}");
    }
}

#[tokio::test]
async fn a_refused_configuration_writes_no_development_secret() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = refused_serve(dir.path(), &["--jwt-alg", "none"], &[]).await;
    assert!(stderr.contains("unknown JWT algorithm"), "{stderr}");
    assert!(!dir.path().join("tessera.db.secret").exists());
}

#[tokio::test]
async fn serve_refuses_an_unusable_base_url() {
    let dir = tempfile::tempdir().unwrap();

    let stderr = refused_serve(
        dir.path(),
        &["--base-url", "localhost:3000"],
        &[("TESSERA_SECRET", SECRET)],
    )
    .await;

    assert!(stderr.contains("base URL"), "{stderr}");
}

// ------------------------------------------------------------------------------ running

#[tokio::test]
async fn with_no_configuration_serve_creates_the_database_and_a_development_secret_and_says_so() {
    let dir = tempfile::tempdir().unwrap();

    let server = serve(dir.path(), &[], &[]).await;

    let db = dir.path().join("tessera.db");
    let secret = dir.path().join("tessera.db.secret");
    assert!(db.is_file(), "tessera.db created in the working directory");
    let secret_text = std::fs::read_to_string(&secret).expect("tessera.db.secret created");
    assert!(secret_text.trim().len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the secret file is private: {mode:o}");
    }
    let log = &server.log;
    assert!(
        log.lines()
            .any(|l| l.contains("WARN") && l.contains("development secret")),
        "a warning about the development secret:\n{log}"
    );
    assert!(log.contains(&server.url), "the URL it serves:\n{log}");
    assert!(
        !log.contains(secret_text.trim()),
        "the secret is never logged"
    );

    let res = reqwest::get(format!("{}/api/auth/ok", server.url))
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    let out = healthcheck(dir.path(), &server.url).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    server.stop().await;
}

#[tokio::test]
async fn healthcheck_fails_when_nothing_answers() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());

    let out = healthcheck(dir.path(), &url).await;

    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot reach"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn keys_list_and_rotate_work_on_the_database_a_server_created() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), &[], &[]).await;
    let jwks = |url: String| async move {
        reqwest::get(format!("{url}/api/auth/jwks"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let first_jwks = jwks(server.url.clone()).await;

    let listed = keys(dir.path(), "list").await;
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    assert!(listed.starts_with("KID"), "{listed}");
    assert_eq!(rows.len(), 1, "{listed}");
    let first_kid = rows[0].split_whitespace().next().unwrap().to_owned();
    assert_eq!(first_kid.len(), 32);
    assert!(rows[0].contains("EdDSA"), "{listed}");
    assert!(first_jwks.contains(&first_kid));

    // rotate decrypts the current key, so it also proves the development secret was reused
    let rotated = keys(dir.path(), "rotate").await;
    assert!(rotated.starts_with("new signing key "), "{rotated}");
    let new_kid = rotated
        .trim_start_matches("new signing key ")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let listed = keys(dir.path(), "list").await;
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{listed}");
    let old = rows.iter().find(|r| r.starts_with(&first_kid)).unwrap();
    let new = rows.iter().find(|r| r.starts_with(&new_kid)).unwrap();
    assert!(
        !old.trim_end().ends_with('-'),
        "the old key is retired: {old}"
    );
    assert!(new.trim_end().ends_with('-'), "the new key is live: {new}");

    // the running server picks the new key up within seconds and keeps the old one published
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let now = jwks(server.url.clone()).await;
        if now.contains(&new_kid) {
            assert!(
                now.contains(&first_kid),
                "the old key stays published: {now}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "new key not published: {now}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn migrate_creates_the_database_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());

    for _ in 0..2 {
        let mut cmd = tessera(dir.path());
        cmd.args(["migrate", "--database-url", &url])
            .env("TESSERA_SECRET", SECRET);
        let out = run(cmd).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    assert!(dir.path().join("m.db").is_file());
}

#[tokio::test]
async fn trusted_origins_may_be_listed_with_spaces_after_the_commas() {
    let dir = tempfile::tempdir().unwrap();

    let server = serve(
        dir.path(),
        &[],
        &[
            ("TESSERA_SECRET", SECRET),
            (
                "TESSERA_TRUSTED_ORIGINS",
                "https://app.example.test, https://admin.example.test",
            ),
        ],
    )
    .await;

    let res = reqwest::Client::new()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/auth/sign-in/email", server.url),
        )
        .header("origin", "https://admin.example.test")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://admin.example.test")
    );
    server.stop().await;
}

#[test]
fn every_subcommand_has_working_help() {
    // clap checks each command's definition when it is parsed: a clash of two options
    // only shows up when that very subcommand runs
    for cmd in [
        "serve",
        "migrate",
        "keys list",
        "keys rotate",
        "users create",
        "users list",
        "users show",
        "users disable",
        "users enable",
        "users delete",
        "token decode",
        "token verify",
        "sessions list",
        "sessions revoke",
        "config check",
        "healthcheck",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(cmd.split(' '))
            .arg("--help")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{cmd} --help: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
