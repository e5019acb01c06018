//! Administering users from the CLI against a running server's database: a disabled or
//! deleted user can neither sign in nor use existing sessions or access tokens (checklist
//! A34 and C12), and the running server learns it within about a second.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::*;
use serde_json::{Value, json};

fn admin(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .args([
            "--database-url",
            &format!("sqlite://{}", dir.join("t.db").display()),
        ])
        .env("TESSERA_SECRET", SECRET)
        .env("TESSERA_LOG", "warn")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

async fn sign_in_status(server: &Server, email: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/auth/sign-in/email", server.base))
        .json(&json!({"email": email, "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_disabled_user_loses_sign_in_sessions_and_tokens_until_enabled_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "t.db", &[]).await;
    let alice = sign_up(&server, "alice@x.test").await;
    let jwt = access_token(&server, &alice).await;
    assert_eq!(get_tasks(&server, &alice.user_id, &jwt).await.status(), 200);

    let out = admin(dir.path(), &["users", "disable", "alice@x.test"]);
    assert!(out.contains("ended 1 session"), "{out}");
    eventually(Duration::from_secs(2), "access token refused", || async {
        get_tasks(&server, &alice.user_id, &jwt).await.status() == 401
    })
    .await;
    assert_eq!(session_of(&server, &alice.session_token).await, Value::Null);
    assert_eq!(sign_in_status(&server, "alice@x.test").await, 401);
    assert!(admin(dir.path(), &["users", "show", &alice.user_id]).contains("0 live session"));

    admin(dir.path(), &["users", "enable", "alice@x.test"]);
    assert_eq!(sign_in_status(&server, "alice@x.test").await, 200);
    assert_eq!(
        session_of(&server, &alice.session_token).await,
        Value::Null,
        "old sessions stay ended"
    );
}

#[tokio::test]
async fn a_deleted_user_is_gone_with_their_tasks_and_their_tokens_stop_working() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "t.db", &[]).await;
    let alice = sign_up(&server, "alice@x.test").await;
    let bob = sign_up(&server, "bob@x.test").await;
    let jwt = access_token(&server, &alice).await;
    let created = reqwest::Client::new()
        .post(format!("{}/api/{}/tasks", server.base, alice.user_id))
        .bearer_auth(&jwt)
        .json(&json!({"title": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let listed = admin(dir.path(), &["users", "list"]);
    assert!(
        listed.contains("alice@x.test") && listed.contains("bob@x.test"),
        "{listed}"
    );
    let out = admin(dir.path(), &["users", "delete", &alice.user_id]);
    assert!(out.contains("deleted alice@x.test"), "{out}");
    eventually(Duration::from_secs(2), "access token refused", || async {
        get_tasks(&server, &alice.user_id, &jwt).await.status() == 401
    })
    .await;
    assert_eq!(sign_in_status(&server, "alice@x.test").await, 401);
    assert!(!admin(dir.path(), &["users", "list"]).contains("alice@x.test"));
    // the email is free again, and the new account sees none of the old tasks
    let again = sign_up(&server, "alice@x.test").await;
    let fresh_jwt = access_token(&server, &again).await;
    let tasks: Value = get_tasks(&server, &again.user_id, &fresh_jwt)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(tasks, json!([]));
    // Bob is untouched
    assert_ne!(session_of(&server, &bob.session_token).await, Value::Null);
}

#[tokio::test]
async fn unknown_users_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let _server = start(dir.path(), "t.db", &[]).await;
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args([
            "users",
            "disable",
            "nobody@x.test",
            "--database-url",
            &format!("sqlite://{}", dir.path().join("t.db").display()),
        ])
        .env("TESSERA_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user"));
}

fn admin_with_stdin(dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .args([
            "--database-url",
            &format!("sqlite://{}", dir.join("t.db").display()),
        ])
        .env("TESSERA_SECRET", SECRET)
        .env("TESSERA_LOG", "warn")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn operators_create_users_list_and_end_sessions_and_inspect_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "t.db", &[]).await;
    // create: the password comes from standard input, and the policy applies
    let weak = admin_with_stdin(
        dir.path(),
        &["users", "create", "--email", "ops@x.test", "--name", "Ops"],
        "password123456\n",
    );
    assert!(!weak.status.success());
    let made = admin_with_stdin(
        dir.path(),
        &["users", "create", "--email", "Ops@X.test", "--name", "Ops"],
        "correct horse battery\n",
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert_eq!(sign_in_status(&server, "ops@x.test").await, 200);

    let alice = sign_up(&server, "alice@x.test").await;
    let jwt = access_token(&server, &alice).await;
    let listed = admin(dir.path(), &["sessions", "list", "alice@x.test"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");

    // token decode shows claims without verifying; verify checks against the local keys or a JWKS
    let decoded = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["token", "decode", &jwt])
        .output()
        .unwrap();
    assert!(decoded.status.success());
    let decoded = String::from_utf8(decoded.stdout).unwrap();
    assert!(
        decoded.contains(&alice.user_id) && decoded.contains("\"typ\": \"at+jwt\""),
        "{decoded}"
    );
    let verify = |args: Vec<String>| {
        Command::new(env!("CARGO_BIN_EXE_tessera"))
            .args(args)
            .args([
                "--database-url",
                &format!("sqlite://{}", dir.path().join("t.db").display()),
                "--base-url",
                &server.base,
            ])
            .env("TESSERA_SECRET", SECRET)
            .output()
            .unwrap()
    };
    assert!(
        verify(vec!["token".into(), "verify".into(), jwt.clone()])
            .status
            .success()
    );
    let jwks = format!("{}/api/auth/jwks", server.base);
    assert!(
        verify(vec![
            "token".into(),
            "verify".into(),
            jwt.clone(),
            "--jwks-url".into(),
            jwks
        ])
        .status
        .success()
    );
    let bad = verify(vec!["token".into(), "verify".into(), tamper(&jwt)]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid"));

    // revoke all of a user's sessions: the token stops working within a second or two
    let out = admin(
        dir.path(),
        &["sessions", "revoke", "--user", "alice@x.test"],
    );
    assert!(out.contains("ended 1 session"), "{out}");
    eventually(Duration::from_secs(2), "access token refused", || async {
        get_tasks(&server, &alice.user_id, &jwt).await.status() == 401
    })
    .await;
    let out = admin(dir.path(), &["sessions", "revoke", "--all"]);
    assert!(
        out.contains("ended 1 session"),
        "the ops user's sign-in session: {out}"
    );
}

#[test]
fn users_create_refuses_what_sign_up_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let create = |name: &str, email: &str, password: &str| {
        let out = admin_with_stdin(
            dir.path(),
            &["users", "create", "--email", email, "--name", name],
            &format!("{password}\n"),
        );
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = create("\u{202E}\u{200B}", "ada@x.test", "correct horse battery");
    assert!(!ok && err.contains("visible character"), "{err}");
    let (ok, err) = create(&"x".repeat(201), "ada@x.test", "correct horse battery");
    assert!(!ok && err.contains("longer than 200"), "{err}");
    let (ok, err) = create("Ada", "ada@x.test", "password123");
    assert!(!ok && err.contains("too common"), "{err}");
    let (ok, err) = create("Ada", "not-an-email", "correct horse battery");
    assert!(!ok, "{err}");
    let (ok, err) = create("Ada", "ada@x.test", "correct horse battery");
    assert!(ok, "{err}");
}
