//! One log line per request, with a request id: taken from `X-Request-Id` when the client
//! (or a proxy) sent a sane one, generated otherwise, and returned in the response. Paths
//! are logged as route templates (`/api/{user_id}/tasks`), never raw, so user ids, tokens in
//! mistyped URLs and other personal data stay out of the logs.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;

const REQUEST_ID: &str = "x-request-id";

/// Accepts ids of up to 64 characters from `[A-Za-z0-9._-]` (anything else could forge log
/// lines or flood them).
fn sane(id: &HeaderValue) -> bool {
    let b = id.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
}

/// The middleware.
pub async fn log_request(mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = match req.headers().get(REQUEST_ID) {
        Some(v) if sane(v) => v.clone(),
        _ => HeaderValue::try_from(tessera_core::id::new_id())
            .unwrap_or_else(|_| HeaderValue::from_static("-")),
    };
    req.headers_mut().insert(REQUEST_ID, id.clone());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |m| m.as_str().to_owned());
    let mut res = next.run(req).await;
    let status = res.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let request_id = id.to_str().unwrap_or("-");
    if status >= 500 {
        tracing::error!(event = "request", %method, route, status, latency_ms, request_id, "request failed");
    } else {
        tracing::info!(event = "request", %method, route, status, latency_ms, request_id, "request");
    }
    res.headers_mut().insert(REQUEST_ID, id);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_request_ids_are_kept() {
        assert!(sane(&HeaderValue::from_static("abc-123_x.y")));
        assert!(!sane(&HeaderValue::from_static("")));
        assert!(!sane(&HeaderValue::from_static("a b")));
        assert!(!sane(&HeaderValue::from_static("id\"=forged")));
        assert!(!sane(
            &HeaderValue::from_str(&"a".repeat(65)).unwrap_or_else(|_| unreachable!())
        ));
    }
}
