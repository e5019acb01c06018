use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::json;
use tessera_verify::{Verifier, VerifierBuilder, VerifyError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::support::*;

const OK: u8 = 0;
const FAIL_500: u8 = 1;
const HANG: u8 = 2;

struct ServerState {
    body: Mutex<String>,
    mode: AtomicU8,
    hits: AtomicUsize,
    redirect_target_hits: AtomicUsize,
}

/// A loopback JWKS server whose answer a test can change, counting the requests it gets.
struct JwksServer {
    url: String,
    base: String,
    state: Arc<ServerState>,
}

async fn serve_jwks(State(state): State<Arc<ServerState>>) -> Response {
    state.hits.fetch_add(1, Ordering::SeqCst);
    match state.mode.load(Ordering::SeqCst) {
        FAIL_500 => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        HANG => std::future::pending().await,
        _ => {
            let body = state.body.lock().unwrap().clone();
            ([(http::header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}

async fn redirect_target(State(state): State<Arc<ServerState>>) -> Response {
    state.redirect_target_hits.fetch_add(1, Ordering::SeqCst);
    let body = state.body.lock().unwrap().clone();
    ([(http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

impl JwksServer {
    async fn start(body: String) -> Self {
        let state = Arc::new(ServerState {
            body: Mutex::new(body),
            mode: AtomicU8::new(OK),
            hits: AtomicUsize::new(0),
            redirect_target_hits: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/jwks", get(serve_jwks))
            .route("/moved", get(|| async { Redirect::temporary("/target") }))
            .route("/target", get(redirect_target))
            .with_state(Arc::clone(&state));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url: format!("{base}/jwks"),
            base,
            state,
        }
    }

    fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    fn set_body(&self, body: String) {
        *self.state.body.lock().unwrap() = body;
    }

    fn set_mode(&self, mode: u8) {
        self.state.mode.store(mode, Ordering::SeqCst);
    }
}

fn remote_builder(url: &str) -> VerifierBuilder {
    Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .remote_jwks(url)
}

#[tokio::test]
async fn keys_are_fetched_once_and_cached() {
    bounded(20, async {
        let key = EdKey::new("k1");
        let server = JwksServer::start(jwks(&[key.jwk()])).await;
        let verifier = remote_builder(&server.url).build().unwrap();
        assert_eq!(server.hits(), 0, "nothing is fetched at build time");
        for _ in 0..20 {
            assert_accepted(&verifier, &key.token(&claims_for(A_ID))).await;
        }
        assert_eq!(server.hits(), 1);
    })
    .await;
}

#[tokio::test]
async fn a19_random_kids_refetch_at_most_once_per_cooldown() {
    bounded(30, async {
        let key = EdKey::new("k1");
        let server = JwksServer::start(jwks(&[key.jwk()])).await;
        let verifier = remote_builder(&server.url).build().unwrap();
        assert_accepted(&verifier, &key.token(&claims_for(A_ID))).await;
        let attacker = EdKey::new("attacker");
        let mut tasks = JoinSet::new();
        for _ in 0..200 {
            let verifier = verifier.clone();
            let header = json!({"alg": "EdDSA", "kid": random_hex(8)});
            let token = mint(&header, &claims_for(A_ID), &attacker.signer());
            tasks.spawn(async move { verifier.verify(&token).await });
        }
        while let Some(result) = tasks.join_next().await {
            assert_eq!(result.unwrap(), Err(VerifyError::UnknownKey));
        }
        // The initial fetch, plus at most one refetch in the 30 s cooldown.
        assert!(server.hits() <= 2, "{} fetches", server.hits());
        // And through the router: 401, never 503, no data.
        let header = json!({"alg": "EdDSA", "kid": random_hex(8)});
        let token = mint(&header, &claims_for(A_ID), &attacker.signer());
        let reply = get_with_token(&app(verifier.clone()), &tasks_path(A_ID), &token).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        reply.assert_no_data();
        assert!(server.hits() <= 2);
    })
    .await;
}

#[tokio::test]
async fn a19_concurrent_unknown_kids_from_cold_start_share_one_fetch() {
    bounded(30, async {
        let key = EdKey::new("k1");
        let server = JwksServer::start(jwks(&[key.jwk()])).await;
        let verifier = remote_builder(&server.url).build().unwrap();
        let mut tasks = JoinSet::new();
        for i in 0..50 {
            let verifier = verifier.clone();
            let token = if i == 0 {
                key.token(&claims_for(A_ID))
            } else {
                mint(
                    &json!({"alg": "EdDSA", "kid": random_hex(8)}),
                    &claims_for(A_ID),
                    &key.signer(),
                )
            };
            tasks.spawn(async move { verifier.verify(&token).await.map(|c| c.sub) });
        }
        let mut ok = 0;
        while let Some(result) = tasks.join_next().await {
            match result.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(e, VerifyError::UnknownKey),
            }
        }
        assert_eq!(ok, 1);
        assert_eq!(server.hits(), 1);
    })
    .await;
}

#[tokio::test]
async fn unknown_kid_refetches_after_the_cooldown_and_picks_up_new_keys() {
    bounded(20, async {
        let old = EdKey::new("old");
        let new = EdKey::new("new");
        let server = JwksServer::start(jwks(&[old.jwk()])).await;
        let verifier = remote_builder(&server.url)
            .jwks_cooldown(Duration::ZERO)
            .build()
            .unwrap();
        assert_accepted(&verifier, &old.token(&claims_for(A_ID))).await;
        server.set_body(jwks(&[old.jwk(), new.jwk()]));
        assert_accepted(&verifier, &new.token(&claims_for(A_ID))).await;
        assert_eq!(server.hits(), 2);
        // Known kids never refetch.
        assert_accepted(&verifier, &old.token(&claims_for(A_ID))).await;
        assert_eq!(server.hits(), 2);
    })
    .await;
}

#[tokio::test]
async fn failed_refresh_keeps_serving_the_last_good_set() {
    bounded(20, async {
        let key = EdKey::new("k1");
        let server = JwksServer::start(jwks(&[key.jwk()])).await;
        let verifier = remote_builder(&server.url)
            .jwks_cooldown(Duration::ZERO)
            .build()
            .unwrap();
        let token = key.token(&claims_for(A_ID));
        assert_accepted(&verifier, &token).await;
        server.set_mode(FAIL_500);
        assert!(matches!(
            verifier.refresh_keys().await,
            Err(VerifyError::KeysUnavailable { .. })
        ));
        assert_accepted(&verifier, &token).await;
        // An unknown kid refetches (and fails): still a 401, not a 503.
        let stranger = mint(
            &json!({"alg": "EdDSA", "kid": "nope"}),
            &claims_for(A_ID),
            &key.signer(),
        );
        assert_refused(&verifier, &stranger, VerifyError::UnknownKey).await;
        // Garbage and empty sets are failures too.
        server.set_mode(OK);
        for body in ["not json".to_string(), jwks(&[]), "{\"keys\":{}}".into()] {
            server.set_body(body);
            assert!(verifier.refresh_keys().await.is_err());
            assert_accepted(&verifier, &token).await;
        }
    })
    .await;
}

#[tokio::test]
async fn fails_closed_with_503_when_no_key_set_was_ever_loaded() {
    bounded(20, async {
        let key = EdKey::new("k1");
        let server = JwksServer::start(jwks(&[key.jwk()])).await;
        server.set_mode(FAIL_500);
        let verifier = remote_builder(&server.url).build().unwrap();
        let token = key.token(&claims_for(A_ID));
        assert_eq!(
            verifier.verify(&token).await,
            Err(VerifyError::KeysUnavailable {
                retry_after_secs: 30
            })
        );
        let reply = get_with_token(&app(verifier.clone()), &tasks_path(A_ID), &token).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.headers.get(http::header::RETRY_AFTER).unwrap(), "30");
        assert_eq!(
            reply.body,
            r#"{"message":"Service unavailable","code":"SERVICE_UNAVAILABLE"}"#
        );
        reply.assert_no_data();
        // Within the cooldown, requests do not hammer the failing server.
        let hits = server.hits();
        for _ in 0..10 {
            assert!(verifier.verify(&token).await.is_err());
        }
        assert_eq!(server.hits(), hits);
        // Once it recovers, an explicit refresh (e.g. a readiness probe) brings keys back.
        server.set_mode(OK);
        assert_eq!(verifier.refresh_keys().await, Ok(1));
        assert_accepted(&verifier, &token).await;
    })
    .await;
}

#[tokio::test]
async fn fails_closed_when_nothing_listens() {
    bounded(20, async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        drop(listener);
        let verifier = remote_builder(&url).build().unwrap();
        let key = EdKey::new("k1");
        assert!(matches!(
            verifier.verify(&key.token(&claims_for(A_ID))).await,
            Err(VerifyError::KeysUnavailable { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn oversized_jwks_is_refused_by_content_length() {
    bounded(20, async {
        let key = EdKey::new("k1");
        let padded = format!("{}{}", jwks(&[key.jwk()]), " ".repeat(4096));
        let server = JwksServer::start(padded).await;
        let verifier = remote_builder(&server.url)
            .jwks_max_bytes(1024)
            .build()
            .unwrap();
        assert!(matches!(
            verifier.verify(&key.token(&claims_for(A_ID))).await,
            Err(VerifyError::KeysUnavailable { .. })
        ));
        // The same set within the limit is fine.
        server.set_body(jwks(&[key.jwk()]));
        assert_eq!(verifier.refresh_keys().await, Ok(1));
    })
    .await;
}

/// A raw HTTP/1.1 server that streams `body` in chunked encoding (no Content-Length).
async fn chunked_server(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for chunk in body.as_bytes().chunks(256) {
                    let frame =
                        [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
                    if socket.write_all(&frame).await.is_err() {
                        return;
                    }
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    url
}

#[tokio::test]
async fn oversized_jwks_is_refused_while_streaming() {
    bounded(20, async {
        let key = EdKey::new("k1");
        let padded = format!("{}{}", jwks(&[key.jwk()]), " ".repeat(64 * 1024));
        let url = chunked_server(padded).await;
        let verifier = remote_builder(&url).jwks_max_bytes(4096).build().unwrap();
        assert!(matches!(
            verifier.verify(&key.token(&claims_for(A_ID))).await,
            Err(VerifyError::KeysUnavailable { .. })
        ));
        // Sanity: the streaming server itself works when the body fits.
        let url = chunked_server(jwks(&[key.jwk()])).await;
        let verifier = remote_builder(&url).jwks_max_bytes(4096).build().unwrap();
        assert_accepted(&verifier, &key.token(&claims_for(A_ID))).await;
    })
    .await;
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    bounded(20, async {
        let key = EdKey::new("k1");
        let server = JwksServer::start(jwks(&[key.jwk()])).await;
        server.set_mode(HANG);
        let verifier = remote_builder(&server.url)
            .http_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let started = std::time::Instant::now();
        assert!(matches!(
            verifier.verify(&key.token(&claims_for(A_ID))).await,
            Err(VerifyError::KeysUnavailable { .. })
        ));
        // Not a timing assertion on speed, only that the bound (not the test's) ended it.
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(server.hits(), 1);
    })
    .await;
}

#[tokio::test]
async fn redirects_are_not_followed() {
    bounded(20, async {
        let key = EdKey::new("k1");
        let server = JwksServer::start(jwks(&[key.jwk()])).await;
        let verifier = remote_builder(&format!("{}/moved", server.base))
            .build()
            .unwrap();
        assert!(matches!(
            verifier.verify(&key.token(&claims_for(A_ID))).await,
            Err(VerifyError::KeysUnavailable { .. })
        ));
        assert_eq!(server.state.redirect_target_hits.load(Ordering::SeqCst), 0);
    })
    .await;
}

#[tokio::test]
async fn background_refresh_picks_up_rotated_keys() {
    bounded(20, async {
        let old = EdKey::new("old");
        let new = EdKey::new("new");
        let server = JwksServer::start(jwks(&[old.jwk()])).await;
        let verifier = remote_builder(&server.url)
            .jwks_cooldown(Duration::from_secs(3600)) // on-demand refetch cannot help
            .jwks_refresh_interval(Duration::from_millis(100))
            .build()
            .unwrap();
        assert_accepted(&verifier, &old.token(&claims_for(A_ID))).await;
        server.set_body(jwks(&[new.jwk()]));
        let token = new.token(&claims_for(A_ID));
        // Wait for the condition (bounded by `bounded`), not for a fixed time.
        while verifier.verify(&token).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_refused(
            &verifier,
            &old.token(&claims_for(A_ID)),
            VerifyError::UnknownKey,
        )
        .await;
        assert!(server.hits() >= 2);
    })
    .await;
}

#[tokio::test]
async fn a16_remote_verifier_never_fetches_urls_from_tokens() {
    bounded(20, async {
        let key = EdKey::new("k1");
        let server = JwksServer::start(jwks(&[key.jwk()])).await;
        let evil = JwksServer::start(jwks(&[key.jwk()])).await;
        let verifier = remote_builder(&server.url).build().unwrap();
        for member in ["jku", "x5u"] {
            let header = json!({"alg": "EdDSA", "kid": "k1", member: evil.url});
            let token = mint(&header, &claims_for(A_ID), &key.signer());
            assert!(matches!(
                verifier.verify(&token).await,
                Err(VerifyError::Malformed(_))
            ));
        }
        assert_eq!(evil.hits(), 0);
    })
    .await;
}

#[test]
fn invalid_urls_are_refused_by_the_builder() {
    for url in [
        "",
        "not a url",
        "ftp://example.com/jwks",
        "file:///etc/passwd",
        "/relative/jwks",
    ] {
        assert_eq!(
            remote_builder(url).build().unwrap_err(),
            tessera_verify::ConfigError::InvalidUrl,
            "{url}"
        );
    }
}
