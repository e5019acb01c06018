//! Round trips to PostgreSQL per read. A TCP proxy between the store and the server counts
//! the client's `Sync` messages: each one is answered by one `ReadyForQuery`, so each is one
//! round trip. A hot read must cost one (its prepared statement, bound and executed), plus
//! the ping sqlx sends when a connection goes back to its pool (off the request's path, and
//! not configurable) — not a second ping before the statement, nor a fresh `Parse`.
//! Needs PostgreSQL (skipped with a note elsewhere).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tessera_store::postgres::{PostgresSettings, PostgresStore};
use tessera_store::{Database as _, NewUser, TaskRow, TaskStore as _, UserId, UserStore as _};
use tessera_testkit::postgres::PgDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Frontend messages, parsed as they pass: the untyped start-up packets (`SSLRequest`,
/// `GSSENCRequest`, `StartupMessage`) first, then type byte + length.
#[derive(Default)]
struct Frontend {
    buf: Vec<u8>,
    started: bool,
}

/// The start-up packet's protocol version 3.0 (the requests before it carry other codes).
const PROTOCOL_3: u32 = 196_608;

impl Frontend {
    /// Takes bytes sent to the server; returns how many `Sync` messages they completed.
    fn feed(&mut self, bytes: &[u8]) -> usize {
        self.buf.extend_from_slice(bytes);
        let mut syncs = 0;
        loop {
            if !self.started {
                let Some(head) = self.buf.get(..8) else { break };
                let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
                let code = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
                if self.buf.len() < len {
                    break;
                }
                self.started = code == PROTOCOL_3;
                self.buf.drain(..len);
            } else {
                let Some(head) = self.buf.get(..5) else { break };
                let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
                if self.buf.len() < 1 + len {
                    break;
                }
                if head[0] == b'S' {
                    syncs += 1;
                }
                self.buf.drain(..=len);
            }
        }
        syncs
    }
}

/// Forwards 127.0.0.1:<port> to `upstream`, counting the clients' `Sync` messages.
async fn counting_proxy(upstream: String, syncs: Arc<AtomicUsize>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                continue;
            };
            let syncs = syncs.clone();
            let (mut from_client, mut to_server) = (client, server);
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = from_client.split();
                let (mut server_read, mut server_write) = to_server.split();
                let up = async {
                    let mut frontend = Frontend::default();
                    let mut chunk = vec![0_u8; 16 * 1024];
                    loop {
                        let n = client_read.read(&mut chunk).await?;
                        if n == 0 {
                            return server_write.shutdown().await;
                        }
                        syncs.fetch_add(frontend.feed(&chunk[..n]), Ordering::SeqCst);
                        server_write.write_all(&chunk[..n]).await?;
                    }
                };
                let down = tokio::io::copy(&mut server_read, &mut client_write);
                let _: (std::io::Result<()>, std::io::Result<u64>) = tokio::join!(up, down);
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_read_is_one_round_trip_and_no_ping_before_it() {
    let Some(db) = PgDatabase::create("tessera_rt").await else {
        return;
    };
    let host_port = db
        .url
        .split('@')
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_owned();
    let syncs = Arc::new(AtomicUsize::new(0));
    let port = counting_proxy(host_port.clone(), syncs.clone()).await;
    // One connection: each read waits for the previous one's connection to come back.
    let store = PostgresStore::connect(&PostgresSettings {
        url: db.url.replace(&host_port, &format!("127.0.0.1:{port}")),
        max_connections: 1,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap();
    let user = NewUser {
        id: "u1".into(),
        name: "N".into(),
        email: "u1@x.test".into(),
        image: None,
        now_ms: 1_000,
    };
    store.create_user(&user, "hash").await.unwrap();
    for i in 0..3 {
        store
            .create_task(&TaskRow {
                id: format!("t{i}"),
                user_id: "u1".into(),
                title: format!("Task {i}"),
                description: String::new(),
                completed: false,
                created_at: 1_000 + i,
                updated_at: 1_000 + i,
            })
            .await
            .unwrap();
    }
    // the first read prepares the statement
    assert_eq!(
        store.list_tasks(UserId("u1"), 20, 0).await.unwrap().len(),
        3
    );

    const READS: usize = 20;
    let before = syncs.load(Ordering::SeqCst);
    for _ in 0..READS {
        assert_eq!(
            store.list_tasks(UserId("u1"), 20, 0).await.unwrap().len(),
            3
        );
    }
    let round_trips = syncs.load(Ordering::SeqCst) - before;
    // each read: its statement (1) and the previous read's ping on release (1); a ping on
    // acquire or a statement prepared again would make it 3 per read
    assert!(
        round_trips <= 2 * READS + 1,
        "{round_trips} round trips for {READS} reads"
    );
    assert!(
        round_trips >= READS,
        "the proxy saw the reads: {round_trips}"
    );
    store.close().await;
}
