//! Layers every response passes through: security headers, CORS for trusted origins only,
//! request ids and one log line per request, a request timeout, panic containment, the
//! body limit and (with HTTP/2 on) the header-count limit.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use super::body::MAX_BODY_BYTES;
use super::error::ApiError;
use super::error::ErrorCode;
use crate::serve::MAX_HEADERS;

/// Wraps the application router in the standard layers.
pub fn apply(
    router: Router,
    trusted_origins: &[String],
    request_timeout: Duration,
    http2: bool,
) -> Router {
    let origins: Vec<HeaderValue> = trusted_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(Duration::from_secs(600));
    let security = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    let mut router = router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors);
    for (name, value) in security {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    let mut router = router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                use axum::response::IntoResponse as _;
                ApiError::internal(&"a handler panicked").into_response()
            },
        ));
    if http2 {
        // hyper bounds an HTTP/1 head's header count itself; for HTTP/2 it bounds only bytes
        router = router.layer(axum::middleware::from_fn(limit_header_count));
    }
    // outermost: sees the final status of every request, panics and timeouts included
    router.layer(axum::middleware::from_fn(super::access_log::log_request))
}

/// Marks an answer as carrying a credential or a user's data: never stored by a cache
/// (`Cache-Control: no-store`, and `Pragma: no-cache` for HTTP/1.0 caches).
pub fn no_store(headers: &mut http::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The one `no-store` layer: every answer of the routers it wraps (the auth API, the tasks
/// API) is `no-store` unless its handler chose a caching policy itself (only the JWKS
/// does). No allocation per request.
pub fn no_store_layer()
-> tower::util::MapResponseLayer<fn(axum::response::Response) -> axum::response::Response> {
    tower::util::MapResponseLayer::new(mark_no_store)
}

fn mark_no_store(mut res: axum::response::Response) -> axum::response::Response {
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        no_store(res.headers_mut());
    }
    res
}

/// 431 for more than [`MAX_HEADERS`] header fields, as HTTP/1 answers in hyper.
async fn limit_header_count(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if req.headers().len() > MAX_HEADERS {
        return ApiError::new(
            ErrorCode::RequestHeaderFieldsTooLarge,
            "Too many request headers.",
        )
        .into_response();
    }
    next.run(req).await
}
