//! When the database goes away: `/readyz` fails, requests that need the database answer
//! 503 quickly (never a 200 without the check, never a hang past the timeout), and service
//! resumes by itself when the database returns. The test puts a TCP proxy it controls
//! between Tessera and PostgreSQL, and cuts it — the shared PostgreSQL is never touched.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

/// Forwards 127.0.0.1:<port> to `upstream` while `up`; when down, drops every open
/// connection and refuses new ones.
async fn proxy(upstream: String, up: Arc<AtomicBool>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                continue;
            };
            if !up.load(Ordering::SeqCst) {
                continue; // dropped: connection closed at once
            }
            let upstream = upstream.clone();
            let up = up.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                let cut = async {
                    while up.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                };
                tokio::select! { _ = copy => {}, () = cut => {} }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_gives_503_and_service_resumes_when_it_returns() {
    let Some(db) = postgres_database().await else {
        return;
    };
    let host_port = db
        .url
        .split('@')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    let up = Arc::new(AtomicBool::new(true));
    let port = proxy(host_port.clone(), up.clone()).await;
    let via_proxy = db.url.replace(&host_port, &format!("127.0.0.1:{port}"));
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_url(dir.path(), &via_proxy, &["--db-timeout", "1s"]).await;
    let alice = sign_up(&server, "alice@x.test").await;
    let jwt = access_token(&server, &alice).await;
    assert_eq!(get_tasks(&server, &alice.user_id, &jwt).await.status(), 200);

    up.store(false, Ordering::SeqCst);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    eventually(Duration::from_secs(5), "readyz fails", || async {
        client
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .unwrap()
            .status()
            == 503
    })
    .await;
    let started = Instant::now();
    let sign_in = client
        .post(format!("{}/api/auth/sign-in/email", server.base))
        .json(&json!({"email": "alice@x.test", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 503);
    assert!(sign_in.headers().contains_key("retry-after"));
    let body = sign_in.text().await.unwrap();
    assert!(
        body.contains("SERVICE_UNAVAILABLE") && !body.to_lowercase().contains("postgres"),
        "{body}"
    );
    assert_eq!(get_tasks(&server, &alice.user_id, &jwt).await.status(), 503);
    let session = client
        .get(format!("{}/api/auth/get-session", server.base))
        .bearer_auth(&alice.session_token)
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 503, "never a 200 without the check");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "answers came within the timeouts"
    );

    up.store(true, Ordering::SeqCst);
    eventually(Duration::from_secs(10), "service resumes", || async {
        get_tasks(&server, &alice.user_id, &jwt).await.status() == 200
    })
    .await;
    assert_eq!(
        client
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_locked_sqlite_database_gives_503_not_500() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), "t.db", &["--db-timeout", "1s"]).await;
    sign_up(&server, "alice@x.test").await;
    // another process holds the write lock
    use sqlx::Connection as _;
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut conn)
        .await
        .unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/sign-up/email", server.base))
        .json(&json!({"name": "B", "email": "bob@x.test", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/sign-up/email", server.base))
        .json(&json!({"name": "B", "email": "bob@x.test", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "and it recovers");
}
