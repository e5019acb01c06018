use std::sync::Arc;

use http::StatusCode;
use serde_json::json;
use tessera_verify::{Claims, RevokedSessions, Verifier, VerifyError};

use crate::support::*;

fn verifier_with(revoked: &RevokedSessions) -> Verifier {
    Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .revocation(Arc::new(revoked.clone()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_revoked_session_is_401_invalid_token() {
    let revoked = RevokedSessions::new();
    let verifier = verifier_with(&revoked);
    let token = hs_token(A_ID); // sid = "sid-<A_ID>"
    assert_accepted(&verifier, &token).await;

    assert!(revoked.insert(format!("sid-{A_ID}")));
    assert_refused(&verifier, &token, VerifyError::Revoked).await;
    // Other sessions are unaffected.
    let other = mint(
        &hs_header(),
        &claims_with(&json!({"sid": "another-session"})),
        &hs_signer(),
    );
    assert_accepted(&verifier, &other).await;

    assert!(revoked.remove(&format!("sid-{A_ID}")));
    assert_accepted(&verifier, &token).await;
}

#[tokio::test]
async fn tokens_without_sid_are_unaffected() {
    let revoked = RevokedSessions::new();
    revoked.replace_all(["", "null", "sid-x"]);
    assert_eq!(revoked.len(), 3);
    let verifier = verifier_with(&revoked);
    let token = mint(
        &hs_header(),
        &claims_with(&json!({"sid": null})),
        &hs_signer(),
    );
    assert_accepted(&verifier, &token).await;
}

#[tokio::test]
async fn replace_all_swaps_the_whole_set() {
    let revoked = RevokedSessions::new();
    let verifier = verifier_with(&revoked);
    let token = hs_token(A_ID);
    revoked.replace_all([format!("sid-{A_ID}")]);
    assert_eq!(verifier.verify(&token).await, Err(VerifyError::Revoked));
    revoked.replace_all(Vec::<String>::new());
    assert!(revoked.is_empty());
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn closures_are_revocation_checks_and_see_only_verified_claims() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .revocation(Arc::new(move |c: &Claims| {
            log.lock().unwrap().push(c.sub.clone());
            c.sub == B_ID
        }))
        .build()
        .unwrap();
    let reply = get_with_token(&app(verifier.clone()), &tasks_path(B_ID), &hs_token(B_ID)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.challenge(), Some(r#"Bearer error="invalid_token""#));
    reply.assert_no_data();
    assert!(verifier.verify(&hs_token(A_ID)).await.is_ok());
    // A forged token never reaches the hook.
    let forged = mint(
        &hs_header(),
        &claims_for("forged"),
        &Signer::Hs256(b"wrong".to_vec()),
    );
    assert!(verifier.verify(&forged).await.is_err());
    assert_eq!(
        *seen.lock().unwrap(),
        vec![B_ID.to_string(), A_ID.to_string()]
    );
}

/// A local revocation feed whose answer the test controls (`None` → 500).
async fn feed_server(list: Arc<std::sync::Mutex<Option<Vec<String>>>>) -> String {
    use axum::routing::get;
    let app = axum::Router::new().route(
        "/revocations",
        get(move || {
            let list = list.clone();
            async move {
                match list.lock().unwrap().clone() {
                    Some(ids) => (
                        StatusCode::OK,
                        axum::Json(json!({ "sessions": ids, "window_seconds": 960 })),
                    )
                        .into_response(),
                    None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/revocations")
}

use axum::response::IntoResponse as _;

/// Waits (bounded) until the verifier's answer for `token` is `want_ok`.
async fn until(verifier: &Verifier, token: &str, want_ok: bool) {
    let start = std::time::Instant::now();
    while verifier.verify(token).await.is_ok() != want_ok {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(3),
            "feed did not take effect"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_revocation_feed_ends_tokens_within_an_interval_and_survives_outages() {
    bounded(10, async {
        let list = Arc::new(std::sync::Mutex::new(Some(Vec::<String>::new())));
        let url = feed_server(list.clone()).await;
        let feed =
            tessera_verify::RevocationFeed::start(url, std::time::Duration::from_millis(100))
                .unwrap();
        let verifier = verifier_with(&feed.sessions());
        let token = hs_token(A_ID);
        assert_accepted(&verifier, &token).await;

        *list.lock().unwrap() = Some(vec![format!("sid-{A_ID}")]);
        until(&verifier, &token, false).await;
        assert_refused(&verifier, &token, VerifyError::Revoked).await;

        // the auth server fails: the last list stays in force
        *list.lock().unwrap() = None;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_refused(&verifier, &token, VerifyError::Revoked).await;

        // the session ages out of the feed: its tokens (if unexpired) verify again
        *list.lock().unwrap() = Some(vec![]);
        until(&verifier, &token, true).await;
    })
    .await;
}

#[test]
fn a_revocation_feed_needs_an_http_url_and_a_sane_interval() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        assert!(
            tessera_verify::RevocationFeed::start("ftp://x/y", std::time::Duration::from_secs(1))
                .is_err()
        );
        assert!(
            tessera_verify::RevocationFeed::start("not a url", std::time::Duration::from_secs(1))
                .is_err()
        );
        assert!(
            tessera_verify::RevocationFeed::start(
                "http://127.0.0.1:9/r",
                std::time::Duration::from_millis(10)
            )
            .is_err()
        );
    });
}

/// A feed that speaks the paged protocol: ids with the time they ended, a bearer secret,
/// `since=<ms>:<id>` cursors, two ids a page.
async fn paged_feed_server(
    ended: Arc<std::sync::Mutex<Vec<(i64, String)>>>,
    calls: Arc<std::sync::Mutex<Vec<Option<String>>>>,
) -> String {
    use axum::extract::{Query, State};
    use axum::http::HeaderMap;
    use axum::routing::get;
    type Shared = (
        Arc<std::sync::Mutex<Vec<(i64, String)>>>,
        Arc<std::sync::Mutex<Vec<Option<String>>>>,
    );
    async fn answer(
        State((ended, calls)): State<Shared>,
        headers: HeaderMap,
        Query(q): Query<std::collections::HashMap<String, String>>,
    ) -> axum::response::Response {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer s3cret") {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let since = q.get("since").cloned();
        calls.lock().unwrap().push(since.clone());
        let (after_ms, after_id) = since
            .as_deref()
            .and_then(|c| c.split_once(':'))
            .map_or((-1, String::new()), |(ms, id)| {
                (ms.parse().unwrap(), id.to_owned())
            });
        let mut rows: Vec<(i64, String)> = ended
            .lock()
            .unwrap()
            .iter()
            .filter(|(at, id)| *at > after_ms || (*at == after_ms && *id > after_id))
            .cloned()
            .collect();
        rows.sort();
        let more = rows.len() > 2;
        rows.truncate(2);
        let cursor = rows
            .last()
            .map_or(format!("{after_ms}:{after_id}"), |(at, id)| {
                format!("{at}:{id}")
            });
        let ids: Vec<&str> = rows.iter().map(|(_, id)| id.as_str()).collect();
        axum::Json(
            json!({ "sessions": ids, "window_seconds": 960, "cursor": cursor, "more": more }),
        )
        .into_response()
    }
    let app = axum::Router::new()
        .route("/revocations", get(answer))
        .with_state((ended, calls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/revocations")
}

#[tokio::test]
async fn a_paged_feed_is_followed_from_its_cursor_with_the_bearer_secret() {
    bounded(10, async {
        let ended = Arc::new(std::sync::Mutex::new(
            (0..5).map(|i| (i, format!("old-{i}"))).collect::<Vec<_>>(),
        ));
        let calls = Arc::new(std::sync::Mutex::new(Vec::new()));
        let url = paged_feed_server(ended.clone(), calls.clone()).await;

        // without the secret the feed refuses, and nothing is revoked
        let anonymous = tessera_verify::RevocationFeed::start(
            url.clone(),
            std::time::Duration::from_millis(100),
        )
        .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(anonymous.sessions().is_empty());
        assert!(
            calls.lock().unwrap().is_empty(),
            "refused before reaching the list"
        );

        let feed = tessera_verify::RevocationFeed::builder(url)
            .bearer("s3cret")
            .interval(std::time::Duration::from_millis(100))
            .start()
            .unwrap();
        let verifier = verifier_with(&feed.sessions());
        let token = hs_token(A_ID);
        // the first poll pages through the whole window: five ids, two a page
        let start = std::time::Instant::now();
        while feed.sessions().len() < 5 {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(3),
                "paging stalled"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_accepted(&verifier, &token).await;

        ended.lock().unwrap().push((10, format!("sid-{A_ID}")));
        until(&verifier, &token, false).await;
        let seen = calls.lock().unwrap().clone();
        assert_eq!(seen[0], None, "the first call reads the whole window");
        assert_eq!(
            seen[1].as_deref(),
            Some("1:old-1"),
            "then continues after the last id sent"
        );
        assert!(
            seen.iter().skip(3).all(|c| c
                .as_deref()
                .is_some_and(|c| c.starts_with("4:") || c.starts_with("10:"))),
            "later polls ask only for what is new: {seen:?}"
        );
    })
    .await;
}
