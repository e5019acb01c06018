//! Mail delivery across process deaths, and `tessera mail list|retry`: a message committed
//! to the outbox survives a kill -9 before it could be sent and goes out once after the
//! restart; a refused recipient is listed with the server's answer and can be queued again.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use tessera_testkit::smtp::SmtpServer;

use crate::support::*;

fn mail_list(dir: &Path, db: &str, status: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["mail", "list", "--status", status, "--database-url"])
        .arg(format!("sqlite://{}", dir.join(db).display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Data lines of `mail list` (the header dropped).
fn rows(listing: &str) -> Vec<String> {
    listing.lines().skip(1).map(str::to_owned).collect()
}

#[tokio::test]
async fn a_message_committed_before_a_kill_9_is_sent_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let args = ["--smtp-url", smtp_url.as_str()];
    // SMTP is not there yet: the sign-up's verification message is committed and tried, not sent
    let server = start(dir.path(), "t.db", &args).await;
    sign_up(&server, "killed@example.com").await;
    eventually(
        Duration::from_secs(10),
        "a failed attempt is recorded",
        || async {
            mail_list(dir.path(), "t.db", "pending").contains("killed@example.com")
                && !mail_list(dir.path(), "t.db", "pending").contains("   0 ")
        },
    )
    .await;
    drop(server); // SIGKILL

    let smtp = SmtpServer::start_on(port).await.unwrap();
    let server = start(dir.path(), "t.db", &args).await;
    // due again after the first backoff (5 s)
    let got = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["killed@example.com"]);
    drop(server);

    // and never twice, however often the process restarts
    let server = start(dir.path(), "t.db", &args).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    drop(server);
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(rows(&mail_list(dir.path(), "t.db", "sent")).len(), 1);
    assert!(rows(&mail_list(dir.path(), "t.db", "pending")).is_empty());
}

#[tokio::test]
async fn a_refused_recipient_is_listed_with_the_reason_and_can_be_queued_again() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start().await;
    smtp.refuse("refused@example.com", 550);
    let url = smtp.url();
    let server = start(dir.path(), "t.db", &["--smtp-url", url.as_str()]).await;
    sign_up(&server, "refused@example.com").await;
    eventually(
        Duration::from_secs(10),
        "the refusal is recorded",
        || async { !rows(&mail_list(dir.path(), "t.db", "failed")).is_empty() },
    )
    .await;
    let failed = mail_list(dir.path(), "t.db", "failed");
    assert!(failed.contains("verify-email"), "{failed}");
    assert!(
        failed.contains("550"),
        "the server's answer is shown: {failed}"
    );
    assert!(!failed.contains("token="), "no link is ever shown");
    let metrics = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tessera_mail_outbox{status=\"failed\"} 1"),
        "{metrics}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["mail", "retry", "--all-failed", "--database-url"])
        .arg(format!("sqlite://{}", dir.path().join("t.db").display()))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1 message(s) queued again"
    );
    // still refused: it fails again, once
    eventually(Duration::from_secs(10), "the second refusal", || async {
        !rows(&mail_list(dir.path(), "t.db", "failed")).is_empty()
    })
    .await;
    let body = json!({"email": "nobody@example.com"});
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/request-password-reset", server.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
