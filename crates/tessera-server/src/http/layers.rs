//! Layers every response passes through: security headers, CORS for trusted origins only,
//! request ids, one log line and the metrics per request, a request timeout, panic
//! containment, the body limit and (with HTTP/2 on) the header-count limit.
//!
//! They wrap the router once, as one tower stack behind a single route, instead of each
//! being added with `Router::layer` (which wraps every route in every layer, and clones a
//! boxed service per layer on every request). Only [`RouteTagLayer`] stays on the routes:
//! it hands the matched route template out to the log and metrics layer. Outermost first,
//! the order is: observe (log, metrics, request id), the HTTP/2 header count (a cheap
//! refusal), panics, timeout, security headers, CORS (a preflight is answered here, before
//! routing), body limit, router.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::Response;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower::ServiceBuilder;
use tower::util::Either;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

use super::access_log::{ObserveLayer, RouteTagLayer};
use super::body::MAX_BODY_BYTES;
use super::error::ApiError;
use super::error::ErrorCode;
use crate::metrics::Metrics;
use crate::serve::MAX_HEADERS;

/// Wraps the application router in the standard layers; every request is counted in
/// `metrics` and logged.
pub fn apply(
    router: Router,
    trusted_origins: &[String],
    request_timeout: Duration,
    http2: bool,
    metrics: Arc<Metrics>,
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
    let header_count = if http2 {
        // hyper bounds an HTTP/1 head's header count itself; for HTTP/2 it bounds only bytes
        Either::Left(axum::middleware::from_fn(limit_header_count))
    } else {
        Either::Right(tower::layer::util::Identity::new())
    };
    let stack = ServiceBuilder::new()
        // outermost: sees the final status of every request, panics and timeouts included
        .layer(ObserveLayer::new(metrics))
        .layer(header_count)
        // panic containment answers with a body of its own type: back to axum's
        .map_response(axum::response::IntoResponse::into_response)
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                use axum::response::IntoResponse as _;
                ApiError::internal(&"a handler panicked").into_response()
            },
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .map_response(security_headers as fn(Response) -> Response)
        .layer(cors)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .service(router.layer(RouteTagLayer));
    Router::new().fallback_service(stack)
}

/// Headers every answer carries unless its handler set them: no sniffing, no framing, no
/// referrer, a deny-all content policy (the web UI's pages set their own), no opener.
fn security_headers(mut res: Response) -> Response {
    // constant values: `Bytes` of a static string, nothing interior is ever mutated
    #[allow(clippy::declare_interior_mutable_const)]
    const HEADERS: [(HeaderName, HeaderValue); 5] = [
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    let headers = res.headers_mut();
    for (name, value) in HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
    res
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
