//! Delivery through the outbox: an SMTP outage during a request, restarts, refused
//! recipients, the development file transport, and what is (not) kept or logged.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use tessera_testkit::smtp::SmtpServer;

use crate::helpers::*;
use crate::security::Captured;

async fn metrics(app: &TestApp) -> String {
    app.request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn with_smtp_down_the_request_succeeds_and_the_message_goes_out_when_it_is_back() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = app.signed_up_user().await;
    nth_mail(&smtp, 1).await;
    let stopped = smtp.stop();
    let res = app
        .request_password_reset(&json!({"email": user.email}))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the request does not wait for SMTP"
    );
    // the sender tried, failed and scheduled a retry
    let mut tries = 0;
    while !metrics(&app).await.contains("outcome=\"retried\"") {
        tries += 1;
        assert!(tries < 100, "no retry recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.count_where("outbox", "status = 'pending'").await, 1);
    let smtp = stopped.restart().await;
    // due again after the first backoff (5 s on the server's clock)
    app.clock.advance(Duration::from_secs(6));
    let got = smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    let mail = Mail::parse(&got[1]);
    assert_eq!(mail.subject, "Reset your Tessera password");
    let res = app
        .reset_password(&json!({"newPassword": "after the outage", "token": mail.token()}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        nth_mail(&smtp, 3).await.subject,
        "Your Tessera password was changed"
    );
}

#[tokio::test]
async fn a_pending_message_survives_a_restart_and_is_sent_once() {
    let (mut app, smtp) = spawn_app_with_mail(|_| {}).await;
    let port = smtp.port();
    let stopped = smtp.stop();
    let user = app.signed_up_user().await; // its verification message cannot go out
    let mut tries = 0;
    while app.count_where("outbox", "last_error IS NOT NULL").await == 0 {
        tries += 1;
        assert!(tries < 100);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.restart().await;
    let smtp = stopped.restart().await;
    assert_eq!(smtp.port(), port);
    app.clock.advance(Duration::from_secs(6));
    let mail = nth_mail(&smtp, 1).await;
    assert_eq!(mail.to, vec![user.email.clone()]);
    // and never again, across another restart
    app.restart().await;
    app.clock.advance(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(app.count_where("outbox", "status = 'sent'").await, 1);
}

#[tokio::test]
async fn a_refused_recipient_is_recorded_as_failed_and_visible_in_metrics() {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(|s| s.email.smtp_url = Some(url.into())).await;
    let email = unique_email();
    smtp.refuse(&email, 550);
    app.sign_up(&json!({"name": "R", "email": email, "password": PASSWORD}))
        .await;
    let mut tries = 0;
    while app.count_where("outbox", "status = 'failed'").await == 0 {
        tries += 1;
        assert!(tries < 100, "the refusal is recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let m = metrics(&app).await;
    assert!(
        m.contains("tessera_mail_outbox{status=\"failed\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("tessera_mail_total{kind=\"verify-email\",outcome=\"failed\"} 1"),
        "{m}"
    );
    assert_eq!(
        app.count_where("outbox", "last_error LIKE '%550%'").await,
        1,
        "the server's answer is kept for operators"
    );
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn tokens_are_kept_only_as_digests_and_never_logged() {
    let (captured, _guard) = Captured::install(tracing::Level::TRACE);
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = app.signed_up_user().await;
    let verify = nth_mail(&smtp, 1).await;
    app.request_password_reset(&json!({"email": user.email}))
        .await;
    let reset = nth_mail(&smtp, 2).await;
    app.follow(&reset.link_path()).await;
    app.reset_password(&json!({"newPassword": "digest only please", "token": reset.token()}))
        .await;
    app.follow(&verify.link_path()).await;
    nth_mail(&smtp, 3).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for token in [verify.token(), reset.token()] {
        assert!(!logs.contains(&token), "a token was logged");
        assert_eq!(
            app.count_where(
                "email_tokens",
                &format!("token_digest = '{}'", sha256_hex(&token))
            )
            .await,
            1
        );
    }
    assert!(
        logs.contains("mail_sent"),
        "deliveries are logged (without links)"
    );
    if app.stores_in_sqlite_file() {
        let bytes = app.db_file_bytes();
        for token in [verify.token(), reset.token()] {
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "a token is stored in the database"
            );
        }
    }
}

#[tokio::test]
async fn without_a_mail_server_messages_can_be_written_as_files() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let app = spawn_app_with(|s| s.email.smtp_url = Some(url.into())).await;
    let user = app.signed_up_user().await;
    let mut tries = 0;
    let file = loop {
        let found: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .collect();
        if let Some(f) = found.first() {
            break f.path();
        }
        tries += 1;
        assert!(tries < 100, "no .eml file written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let raw = std::fs::read(file).unwrap();
    let mail = Mail::parse(&tessera_testkit::smtp::Received {
        from: String::new(),
        to: vec![user.email.clone()],
        data: raw,
    });
    assert_eq!(mail.to_header, user.email);
    let res = app.follow(&mail.link_path()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
}

#[tokio::test]
async fn an_unusable_smtp_url_or_sender_stops_the_start() {
    let mut app = spawn_app().await;
    for (url, from) in [
        ("ftp://mail.test", None),
        ("file://relative/dir", None),
        ("smtp://127.0.0.1:1", Some("not an address")),
    ] {
        let err = app
            .restart_with(|s| {
                s.email.smtp_url = Some(url.into());
                s.email.email_from = from.map(str::to_owned);
            })
            .await
            .err()
            .unwrap_or_else(|| panic!("{url} {from:?} started"));
        assert!(matches!(err, tessera_server::StartError::Mail(_)), "{err}");
    }
}
