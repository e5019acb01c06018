//! The connection level (checklist E15, E16): slow clients are cut off, oversized or
//! ambiguous request heads are refused without a 5xx, and the server stays responsive to
//! everyone else meanwhile. Raw TCP, because HTTP clients will not send such requests.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::helpers::*;

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (bounded), returning what it sent.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&out).into_owned(),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open past {limit:?}"),
        }
    }
}

async fn status_of_raw(app: &TestApp, request: &[u8]) -> String {
    let mut s = connect(app).await;
    s.write_all(request).await.unwrap();
    let reply = read_until_closed(&mut s, Duration::from_secs(5)).await;
    reply.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off_and_others_are_served_meanwhile() {
    let app = spawn_app_with(|s| s.http.header_timeout = Duration::from_secs(1)).await;
    let mut slow = connect(&app).await;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // someone else is served while the slow client holds its connection
    let ok = app
        .request(reqwest::Method::GET, "/healthz")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let started = Instant::now();
    let reply = read_until_closed(&mut slow, Duration::from_secs(4)).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 408"),
        "{reply}"
    );
}

#[tokio::test]
async fn a_client_trickling_its_body_gets_408() {
    let app = spawn_app_with(|s| s.http.request_timeout = Duration::from_secs(1)).await;
    let mut slow = connect(&app).await;
    slow.write_all(
        b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
    )
    .await
    .unwrap();
    let reply = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
}

#[tokio::test]
async fn too_many_or_too_large_headers_are_431() {
    let app = spawn_app().await;
    let mut many = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for i in 0..200 {
        many.push_str(&format!("X-Filler-{i}: {i}\r\n"));
    }
    many.push_str("Connection: close\r\n\r\n");
    assert!(
        status_of_raw(&app, many.as_bytes())
            .await
            .starts_with("HTTP/1.1 431")
    );
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    assert!(
        status_of_raw(&app, huge.as_bytes())
            .await
            .starts_with("HTTP/1.1 431")
    );
    // a 16 KB Authorization header is within bounds: refused as a token, not as a request
    let token = format!(
        "GET /api/x/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        "a".repeat(16 * 1024)
    );
    assert!(
        status_of_raw(&app, token.as_bytes())
            .await
            .starts_with("HTTP/1.1 401")
    );
}

#[tokio::test]
async fn ambiguous_message_framing_is_refused() {
    let app = spawn_app().await;
    let smuggle = b"POST /api/auth/sign-out HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n";
    let line = status_of_raw(&app, smuggle).await;
    assert!(
        line.starts_with("HTTP/1.1 400") || line.starts_with("HTTP/1.1 200"),
        "{line}"
    );
    let mismatch = b"POST /api/auth/sign-out HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    assert!(
        status_of_raw(&app, mismatch)
            .await
            .starts_with("HTTP/1.1 400")
    );
}
