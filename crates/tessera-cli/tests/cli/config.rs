//! Configuration as an operator writes it: the commented example file starts a server,
//! precedence is flags > environment > `*_FILE` > config file > defaults, secrets can come
//! from files, typos are refused, and `tessera config check` prints the effective settings
//! with every secret redacted.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

fn tessera(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(args).current_dir(dir).env_remove("TESSERA_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn example() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tessera.example.toml"),
    )
    .unwrap()
}

#[tokio::test]
async fn the_example_config_file_starts_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = dir.path().join("tessera.toml");
    std::fs::write(
        &cfg,
        example().replace("127.0.0.1:8080", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    let check = tessera(
        dir.path(),
        &["config", "check", "--config", "tessera.toml"],
        &[("TESSERA_SECRET", SECRET)],
    );
    assert!(check.status.success(), "{}", text(&check));
    let server = start_with_url(
        dir.path(),
        &format!("sqlite://{}", dir.path().join("t.db").display()),
        &["--config", cfg.to_str().unwrap()],
    )
    .await;
    assert_eq!(
        reqwest::get(format!("{}/api/auth/ok", server.base))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[test]
fn flags_beat_environment_beats_file_beats_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.toml"),
        "db_pool_size = 3\nhash_threads = 5\naccess_token_ttl = \"5m\"\njwt_alg = \"ES256\"\n",
    )
    .unwrap();
    let out = tessera(
        dir.path(),
        &[
            "config",
            "check",
            "--config",
            "t.toml",
            "--jwt-alg",
            "RS256",
        ],
        &[
            ("TESSERA_SECRET", SECRET),
            ("TESSERA_ACCESS_TOKEN_TTL", "7m"),
        ],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("jwt_alg: RS256"), "flag wins: {t}");
    assert!(
        t.contains("access_token_ttl: 420s"),
        "environment beats the file: {t}"
    );
    assert!(
        t.contains("db_max_connections: 3"),
        "the file beats the default: {t}"
    );
    assert!(t.contains("hash_concurrency: 5"), "hash_threads: {t}");
}

#[test]
fn secrets_come_from_files_and_are_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "file-secret-value-0123456789abcdefghij";
    std::fs::write(dir.path().join("secret"), format!("{secret}\n")).unwrap();
    std::fs::write(
        dir.path().join("jwt"),
        "jwt-secret-from-file-0123456789abcdef",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("t.toml"),
        "jwt_alg = \"HS256\"\njwt_secret_file = \"jwt\"\n",
    )
    .unwrap();
    let out = tessera(
        dir.path(),
        &["config", "check", "--config", "t.toml"],
        &[
            ("TESSERA_SECRET_FILE", "secret"),
            (
                "TESSERA_DATABASE_URL",
                "postgres://app:db-password-123@db/tessera",
            ),
        ],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for s in [secret, "jwt-secret-from-file", "db-password-123"] {
        assert!(!t.contains(s), "{s} printed: {t}");
    }
    assert!(
        t.contains("<redacted>") && t.contains("postgres://app:***@db/tessera"),
        "{t}"
    );
    // and --help never shows a value that came from a file
    let help = tessera(
        dir.path(),
        &["serve", "--help", "--config", "t.toml"],
        &[("TESSERA_SECRET_FILE", "secret")],
    );
    assert!(!text(&help).contains(secret) && !text(&help).contains("jwt-secret-from-file"));
}

#[test]
fn a_typo_in_the_config_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.toml"),
        "databse_url = \"sqlite://x.db\"\n",
    )
    .unwrap();
    let out = tessera(
        dir.path(),
        &["config", "check", "--config", "t.toml"],
        &[("TESSERA_SECRET", SECRET)],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("unknown key \"databse_url\""),
        "{}",
        text(&out)
    );
}

#[test]
fn config_check_fails_on_an_invalid_configuration() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.toml"), "jwt_alg = \"HS256\"\n").unwrap();
    let out = tessera(
        dir.path(),
        &["config", "check", "--config", "t.toml"],
        &[("TESSERA_SECRET", SECRET)],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("jwt-secret"), "{}", text(&out));
}
