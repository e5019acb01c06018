//! One log line and one metrics record per request, with a request id: taken from
//! `X-Request-Id` when the client (or a proxy) sent a sane one, generated otherwise, and
//! returned in the response. Paths are logged as route templates (`/api/{user_id}/tasks`),
//! never raw, so user ids, tokens in mistyped URLs and other personal data stay out of the
//! logs and the metrics' labels.
//!
//! [`ObserveLayer`] is the outermost layer (it sees the final status of every request,
//! panics and timeouts included), so it runs before routing; the route template comes back
//! on the response from [`RouteTagLayer`], which the router puts around every route.
//! Recording costs no lock and no allocation beyond the boxed future (see `metrics`), and
//! log lines go to a buffered writer (the CLI's), so answering a request wakes no other
//! thread.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use http::{HeaderValue, Method};
use tower::{Layer, Service};

use crate::metrics::Metrics;

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

/// The route template a response was produced by, put on the response by [`RouteTag`].
#[derive(Clone)]
struct RouteTemplate(MatchedPath);

/// Puts every route's template on its response, for [`Observe`] (which runs before routing).
#[derive(Debug, Clone, Copy, Default)]
pub struct RouteTagLayer;

impl<S> Layer<S> for RouteTagLayer {
    type Service = RouteTag<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RouteTag { inner }
    }
}

/// See [`RouteTagLayer`].
#[derive(Debug, Clone)]
pub struct RouteTag<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for RouteTag<S>
where
    S: Service<http::Request<B>, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RouteTagFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let route = req.extensions().get::<MatchedPath>().cloned();
        RouteTagFuture {
            inner: self.inner.call(req),
            route,
        }
    }
}

/// See [`RouteTagLayer`].
#[derive(Debug)]
pub struct RouteTagFuture<F> {
    inner: F,
    route: Option<MatchedPath>,
}

impl<F, E> Future for RouteTagFuture<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut res = std::task::ready!(Pin::new(&mut self.inner).poll(cx))?;
        if let Some(route) = self.route.take() {
            res.extensions_mut().insert(RouteTemplate(route));
        }
        Poll::Ready(Ok(res))
    }
}

/// Request ids, one log line and the request metrics for every request.
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    metrics: Arc<Metrics>,
}

impl ObserveLayer {
    /// Records into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// See [`ObserveLayer`].
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let started = Instant::now();
        let id = match req.headers().get(REQUEST_ID) {
            Some(v) if sane(v) => v.clone(),
            _ => HeaderValue::try_from(tessera_core::id::new_id())
                .unwrap_or_else(|_| HeaderValue::from_static("-")),
        };
        req.headers_mut().insert(REQUEST_ID, id.clone());
        let method = req.method().clone();
        let preflight = method == Method::OPTIONS
            && req
                .headers()
                .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD);
        let fut = self.inner.call(req);
        let metrics = self.metrics.clone();
        Box::pin(async move {
            let mut res = fut.await?;
            let status = res.status().as_u16();
            let elapsed = started.elapsed();
            let tag = res.extensions_mut().remove::<RouteTemplate>();
            // a CORS preflight is answered before routing: it has no route template
            let route = match &tag {
                Some(RouteTemplate(m)) => m.as_str(),
                None if preflight => "<preflight>",
                None => "<unmatched>",
            };
            metrics.observe_request(&method, route, status, elapsed.as_secs_f64());
            let latency_ms = elapsed.as_secs_f64() * 1000.0;
            let request_id = id.to_str().unwrap_or("-");
            if status >= 500 {
                tracing::error!(event = "request", %method, route, status, latency_ms, request_id, "request failed");
            } else {
                tracing::info!(event = "request", %method, route, status, latency_ms, request_id, "request");
            }
            res.headers_mut().insert(REQUEST_ID, id);
            Ok(res)
        })
    }
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
