//! What an anonymous client can hold or fill (issue #20): silent sockets and HTTP/2
//! prefaces are closed at a deadline, a connection flood leaves room for real clients,
//! abandoned sign-ins are not hashed, a full hashing queue answers 503 with `Retry-After`,
//! cleartext HTTP/2 is off unless asked for (and then bounded like HTTP/1), the revocation
//! feed is for its services only and answers incrementally, and the text and URL rules.
//! Each load shape is bounded in count and time and stays on 127.0.0.1.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::*;

/// HTTP/2's connection preface and an empty SETTINGS frame.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; `None` if it is still open after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return Some(out),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return None,
        }
    }
}

async fn metric(app: &TestApp, name: &str) -> u64 {
    let text = app
        .request(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics"))
}

#[tokio::test]
async fn a_silent_socket_is_closed_at_the_header_deadline() {
    let app = spawn_app_with(|s| s.http.header_timeout = Duration::from_secs(1)).await;
    let mut silent = connect(&app).await;
    let started = Instant::now();
    let sent = closed_within(&mut silent, Duration::from_secs(5))
        .await
        .expect("a socket that never sends a byte is closed");
    assert!(sent.is_empty(), "nothing is answered to silence");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn an_h2c_preface_is_refused_while_http2_is_off() {
    let app = spawn_app_with(|s| s.http.header_timeout = Duration::from_secs(5)).await;
    let mut s = connect(&app).await;
    s.write_all(H2_PREFACE).await.unwrap();
    let reply = closed_within(&mut s, Duration::from_secs(3))
        .await
        .expect("the connection is closed at once, not held");
    // no HTTP/2 SETTINGS frame (type 4) came back: at most an HTTP/1 refusal
    assert!(
        reply.is_empty() || reply.starts_with(b"HTTP/1.1 4") || reply.starts_with(b"HTTP/1.1 5"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
}

#[tokio::test]
async fn an_idle_h2c_connection_is_closed_at_the_idle_deadline() {
    let app = spawn_app_with(|s| {
        s.http.http2 = true;
        s.http.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let mut s = connect(&app).await;
    s.write_all(H2_PREFACE).await.unwrap();
    let started = Instant::now();
    let reply = closed_within(&mut s, Duration::from_secs(6))
        .await
        .expect("an HTTP/2 connection that only sent its preface is closed");
    assert!(
        reply.len() >= 9 && reply[3] == 4,
        "the server spoke HTTP/2 first"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn h2c_has_the_same_header_limits_as_http1() {
    let app = spawn_app_with(|s| s.http.http2 = true).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let ok = h2.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(ok.version(), reqwest::Version::HTTP_2);
    assert_eq!(ok.status(), StatusCode::OK);
    for (count, size) in [(150, 8), (300, 8), (10, 40 * 1024)] {
        let mut rb = h2.get(app.url("/healthz"));
        for i in 0..count {
            rb = rb.header(format!("x-h-{i}"), "v".repeat(size));
        }
        match rb.send().await {
            Ok(res) => assert_eq!(
                res.status(),
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "{count} headers of {size} bytes"
            ),
            // over the byte limit hyper resets the stream instead of answering
            Err(e) => assert!(size > 32 * 1024, "{count}×{size}: {e}"),
        }
    }
    // and HTTP/1 answers 431 to the same count, as before
    let mut rb = app.request(Method::GET, "/healthz");
    for i in 0..150 {
        rb = rb.header(format!("x-h-{i}"), "v");
    }
    assert_eq!(
        rb.send().await.unwrap().status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
}

#[tokio::test]
async fn a_flood_of_silent_connections_leaves_healthz_answering() {
    // deadlines far away: only the connection bound and its eviction can make room
    let app = spawn_app_with(|s| {
        s.http.max_connections = 20;
        s.http.header_timeout = Duration::from_secs(30);
        s.http.idle_timeout = Duration::from_secs(60);
    })
    .await;
    let mut flood = Vec::new();
    for _ in 0..120 {
        flood.push(connect(&app).await);
    }
    let started = Instant::now();
    let res = tokio::time::timeout(
        Duration::from_secs(5),
        app.request(Method::GET, "/healthz").send(),
    )
    .await
    .expect("healthz answered during the flood")
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    eprintln!(
        "healthz during a flood of 120 silent sockets (bound 20): {:?}",
        started.elapsed()
    );
    // the oldest silent sockets were the ones closed to make room
    let mut closed = 0;
    for s in &mut flood[..20] {
        if closed_within(s, Duration::from_millis(50)).await.is_some() {
            closed += 1;
        }
    }
    assert!(closed > 0, "the longest-idle connections were evicted");
}

/// Sends a sign-in for an unknown address on its own connection and hangs up once `hang_up`
/// says so.
async fn abandoned_sign_in(
    address: String,
    n: usize,
    mut hang_up: tokio::sync::watch::Receiver<bool>,
) {
    let body = json!({"email": format!("nobody-{n}@example.com"), "password": "wrong password 1"})
        .to_string();
    let request = format!(
        "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut s = TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), hang_up.wait_for(|&go| go)).await;
    drop(s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_sign_ins_are_not_hashed_and_a_real_one_is_answered_promptly() {
    let app = spawn_app_with(|s| {
        s.security.rate_limits = tessera_server::http::rate_limit::RateLimits::disabled();
        s.security.hash_concurrency = 1;
    })
    .await;
    let me = app.signed_up_user().await;
    let before = metric(&app, "tessera_password_hash_total{outcome=\"run\"}").await;
    let (hang_up, wait) = tokio::sync::watch::channel(false);
    let mut burst = tokio::task::JoinSet::new();
    for n in 0..200 {
        burst.spawn(abandoned_sign_in(app.address.clone(), n, wait.clone()));
    }
    // every client hangs up once (nearly) the whole burst has reached the hashing queue
    let reached_by = Instant::now() + Duration::from_secs(15);
    let (pending_at, ran_at) = loop {
        let pending = metric(&app, "tessera_password_hash_pending").await;
        let ran = metric(&app, "tessera_password_hash_total{outcome=\"run\"}").await - before;
        let shed = metric(&app, "tessera_password_hash_total{outcome=\"shed\"}").await;
        if pending + ran + shed >= 190 {
            break (pending, ran);
        }
        assert!(
            Instant::now() < reached_by,
            "the burst never reached the queue"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    hang_up.send(true).unwrap();
    while let Some(done) = burst.join_next().await {
        done.unwrap();
    }
    let started = Instant::now();
    let status = app.sign_in_status(&me.email, PASSWORD).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK);
    let ran = metric(&app, "tessera_password_hash_total{outcome=\"run\"}").await - before;
    let abandoned = metric(&app, "tessera_password_hash_total{outcome=\"abandoned\"}").await;
    eprintln!(
        "200 abandoned sign-ins, {pending_at} of them queued at hang-up: {abandoned} skipped, \
         {} hashed after hang-up; a legitimate sign-in right after took {took:?}",
        ran - ran_at - 1
    );
    assert!(
        pending_at >= 20,
        "the queue never built up ({pending_at}): nothing to show"
    );
    // The job running at hang-up finishes, and a few more may start before the server has
    // seen their sockets close (more on a loaded machine); without the skip every queued
    // one would be hashed.
    let after = ran - ran_at - 1;
    assert!(
        after <= pending_at / 10 + 3,
        "hashed for gone callers: {after} of {pending_at}"
    );
    assert!(
        abandoned >= pending_at * 8 / 10,
        "skipped {abandoned} of {pending_at}"
    );
    assert!(
        took < Duration::from_secs(5),
        "the real sign-in waited {took:?} behind dead requests"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hashing_queue_past_its_bound_answers_503_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.security.rate_limits = tessera_server::http::rate_limit::RateLimits::disabled();
        s.security.hash_concurrency = 1;
        // a check may wait at most half of this: ~1 s, or about 40 hashes of the 120
        s.http.request_timeout = Duration::from_secs(2);
    })
    .await;
    let mut storm = tokio::task::JoinSet::new();
    for n in 0..120 {
        let rb = app.request(Method::POST, "/api/auth/sign-in/email").json(
            &json!({"email": format!("storm-{n}@example.com"), "password": "wrong password 1"}),
        );
        storm.spawn(async move { rb.send().await.unwrap() });
    }
    let (mut refused, mut shed) = (0, 0);
    while let Some(res) = storm.join_next().await {
        let res = res.unwrap();
        match res.status() {
            StatusCode::UNAUTHORIZED => refused += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                let retry: u64 = header(&res, "retry-after").unwrap().parse().unwrap();
                assert!((1..=15).contains(&retry), "Retry-After {retry}");
                assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "SERVER_BUSY").await;
                shed += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(shed > 0 && refused > 0, "401: {refused}, 503: {shed}");
    assert_eq!(
        metric(&app, "tessera_password_hash_total{outcome=\"shed\"}").await,
        shed
    );
    // the queue drains: a sign-in afterwards is answered normally
    let me = app.signed_up_user().await;
    assert_eq!(
        app.sign_in_status(&me.email, PASSWORD).await,
        StatusCode::OK
    );
}

fn feed(app: &TestApp, since: Option<&str>, secret: Option<&str>) -> reqwest::RequestBuilder {
    let mut rb = app.request(Method::GET, "/api/auth/revocations");
    if let Some(cursor) = since {
        let encoded: String = form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
        rb = app.request(
            Method::GET,
            &format!("/api/auth/revocations?since={encoded}"),
        );
    }
    if let Some(secret) = secret {
        rb = rb.bearer_auth(secret);
    }
    rb
}

#[tokio::test]
async fn the_revocation_feed_refuses_callers_without_its_secret() {
    let open = spawn_app().await;
    // no secret configured: nobody is answered
    for secret in [None, Some(FEED_SECRET), Some("")] {
        let res = feed(&open, None, secret).send().await.unwrap();
        assert_error(res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
    }
    let app = spawn_app_with(|s| {
        s.security.revocations_secret = Some(FEED_SECRET.as_bytes().to_vec().into());
    })
    .await;
    for secret in [
        None,
        Some("wrong"),
        Some(&FEED_SECRET[..FEED_SECRET.len() - 1]),
    ] {
        let res = feed(&app, None, secret).send().await.unwrap();
        assert_error(res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
    }
    let me = app.signed_up_user().await;
    let res = app
        .request(Method::GET, "/api/auth/revocations")
        .bearer_auth(&me.token)
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED").await;
    let ok = feed(&app, None, Some(FEED_SECRET)).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // the scheme is case-insensitive, the secret is not
    let lower = app
        .request(Method::GET, "/api/auth/revocations")
        .header("authorization", format!("bearer {FEED_SECRET}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_revocation_feed_answers_incrementally_from_a_cursor() {
    let app = spawn_app_with(|s| {
        s.security.revocations_secret = Some(FEED_SECRET.as_bytes().to_vec().into());
    })
    .await;
    let read = |since: Option<String>| {
        let rb = feed(&app, since.as_deref(), Some(FEED_SECRET));
        async move { rb.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let sid_of = |who: Who| {
        let app = &app;
        async move {
            app.session_json(&who).await["session"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let first = read(None).await;
    assert_eq!(first["sessions"], json!([]));
    assert_eq!(first["more"], json!(false));
    let a = app.signed_up_user().await;
    let b = app.signed_up_user().await;
    let (sid_a, sid_b) = (sid_of(a.by_bearer()).await, sid_of(b.by_bearer()).await);
    app.sign_out(&a.by_bearer()).await;
    let second = read(first["cursor"].as_str().map(str::to_owned)).await;
    assert_eq!(second["sessions"], json!([sid_a]));
    app.clock.advance(Duration::from_secs(10));
    app.sign_out(&b.by_bearer()).await;
    let third = read(second["cursor"].as_str().map(str::to_owned)).await;
    // what ended since, oldest first; the one just before may repeat (the overlap)
    let ids: Vec<&str> = third["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(ids.last(), Some(&sid_b.as_str()), "{third}");
    assert!(
        ids.iter()
            .all(|id| [sid_a.as_str(), sid_b.as_str()].contains(id))
    );
    // ten seconds on, the overlap no longer reaches back to either
    app.clock.advance(Duration::from_secs(10));
    let caught_up = read(third["cursor"].as_str().map(str::to_owned)).await;
    assert_eq!(
        caught_up["sessions"],
        json!([sid_b]),
        "only the last one, from the overlap"
    );
    let later = read(caught_up["cursor"].as_str().map(str::to_owned)).await;
    assert_eq!(
        later["sessions"],
        json!([sid_b]),
        "a cursor stays where it was"
    );
    for bad in ["x", "12", "-5:a", ":a", "1:a\u{1}"] {
        let res = feed(&app, Some(bad), Some(FEED_SECRET))
            .send()
            .await
            .unwrap();
        assert_error(res, StatusCode::BAD_REQUEST, "INVALID_CURSOR").await;
    }
}

#[tokio::test]
async fn callback_urls_with_dot_segments_or_empty_segments_are_refused() {
    let app = spawn_app().await;
    let me = app.signed_up_user().await;
    for url in [
        "/.//evil.com",
        "/..//evil.com",
        "/%2e%2e//evil.com",
        "/a//evil.com",
        "/x/../..//evil.com",
    ] {
        let res = app
            .sign_in(&json!({"email": me.email, "password": PASSWORD, "callbackURL": url}))
            .await;
        assert_error(res, StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL").await;
    }
    let res = app
        .sign_in(&json!({"email": me.email, "password": PASSWORD, "callbackURL": "/tasks?x=1"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn names_and_titles_made_only_of_invisible_characters_are_refused() {
    let app = spawn_app().await;
    for name in ["\u{202e}", "\u{202e}\u{2066}\u{200b}", "\u{3164}"] {
        let res = app
            .sign_up(&json!({"name": name, "email": unique_email(), "password": PASSWORD}))
            .await;
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    }
    let me = app.signed_up_user().await;
    let jwt = app.access_token(&me.by_bearer()).await;
    let tasks = app.url(&format!("/api/{}/tasks", me.id));
    for title in ["\u{202e}", "\u{200b}\u{200c}\u{200d}", "\u{2800}"] {
        let res = app
            .api
            .post(&tasks)
            .bearer_auth(&jwt)
            .json(&json!({"title": title}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{title:?}");
    }
    // visible text keeps its marks
    let res = app
        .api
        .post(&tasks)
        .bearer_auth(&jwt)
        .json(&json!({"title": "\u{202e}abc"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}
