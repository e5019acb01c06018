//! What a kill -9 may not take back. Refresh rotations on SQLite are committed in groups
//! (several rotations, one transaction, one fsync): a client that was answered holds a
//! credential that must be in the database after the process dies at any instant, however
//! many rotations were sharing its commit.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use sqlx::Connection;
use tessera_core::TokenDigest;

use crate::support::*;

const CHAINS: usize = 16;

async fn refresh_grant(server: &Server, client: &reqwest::Client) -> String {
    let grant: Value = client
        .post(format!("{}/api/auth/sign-in/email", server.base))
        .json(&json!({"email": "chain@example.com", "password": "correct horse battery", "refreshToken": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    grant["refresh_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acknowledged_refresh_rotation_is_lost_to_a_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), "t.db", &["--rate-limits", "off"]).await;
    sign_up(&server, "chain@example.com").await;
    let client = reqwest::Client::new();

    // Each chain rotates its own credential as fast as it is answered and remembers the
    // last credential it was given.
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut chains = Vec::new();
    for _ in 0..CHAINS {
        let first = refresh_grant(&server, &client).await;
        let (client, url, acknowledged) = (
            client.clone(),
            format!("{}/api/auth/refresh", server.base),
            acknowledged.clone(),
        );
        chains.push(tokio::spawn(async move {
            let mut current = first;
            let mut rotations = 0u32;
            loop {
                let Ok(res) = client
                    .post(&url)
                    .json(&json!({"refresh_token": current}))
                    .send()
                    .await
                else {
                    break;
                };
                // An answer cut off by the kill was never given: the chain ends there.
                let Ok(body) = res.json::<Value>().await else {
                    break;
                };
                let Some(next) = body["refresh_token"].as_str() else {
                    panic!("a live chain's rotation failed: {body}");
                };
                current = next.to_owned();
                rotations += 1;
            }
            acknowledged.lock().unwrap().push(current);
            rotations
        }));
    }

    // Let the chains run into each other's commits, then kill the process mid-stream.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill_9();
    let mut rotations = 0;
    for chain in chains {
        rotations += chain.await.unwrap();
    }
    assert!(
        rotations >= CHAINS as u32,
        "the chains rotated before the kill ({rotations} rotations)"
    );

    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert_eq!(acknowledged.len(), CHAINS);
    for credential in &acknowledged {
        let digest = TokenDigest::of(credential);
        let stored: Option<(String,)> =
            sqlx::query_as("SELECT id FROM refresh_tokens WHERE token_digest = ?")
                .bind(digest.as_str())
                .fetch_optional(&mut db)
                .await
                .unwrap();
        assert!(
            stored.is_some(),
            "an acknowledged credential is missing after the kill ({rotations} rotations)"
        );
    }
    db.close().await.unwrap();

    // And the server comes back with every chain able to go on.
    let server = start(dir.path(), "t.db", &["--rate-limits", "off"]).await;
    for credential in acknowledged {
        let res = client
            .post(format!("{}/api/auth/refresh", server.base))
            .json(&json!({"refresh_token": credential}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    }
}
