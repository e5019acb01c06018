//! What operators and load balancers call: `/healthz` (the process is up), `/readyz` (the
//! database answers) and `/metrics` (Prometheus; requests are counted by
//! `http::access_log`).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tessera_core::Clock;
use tessera_store::Store;

use crate::http::ApiError;
use crate::metrics::{self, Metrics};
use crate::openapi;
use crate::password::HashStats;

/// The probes' router (with its state) and their documentation; `hashing` is the auth
/// server's hashing queue, when this process runs one.
pub(crate) fn routes(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    hashing: Option<Arc<HashStats>>,
) -> (Router, Vec<openapi::Operation>) {
    let (probes, mut ops) = probe_routes().into_parts("");
    let (metrics_router, metrics_ops) = metrics_routes().into_parts("");
    ops.extend(metrics_ops);
    let router = probes
        .with_state(store.clone())
        .merge(metrics_router.with_state(MetricsState {
            metrics,
            store,
            clock,
            hashing,
        }));
    (router, ops)
}

/// The probes' documentation alone.
pub(crate) fn operations() -> Vec<openapi::Operation> {
    let mut ops = probe_routes().into_parts("").1;
    ops.extend(metrics_routes().into_parts("").1);
    ops
}

/// `/healthz` and `/readyz`.
fn probe_routes() -> openapi::Routes<Arc<dyn Store>> {
    use openapi::{Auth, Operation};
    openapi::Routes::new()
        .add(
            Operation::get("/healthz", "healthz", "Liveness")
                .tag("probes")
                .auth(Auth::None)
                .ok(200, "Health", "The process is up"),
            healthz,
        )
        .add(
            Operation::get("/readyz", "readyz", "Readiness: the database answers")
                .tag("probes")
                .auth(Auth::None)
                .ok(200, "Ready", "Ready to serve")
                .uses_database(),
            readyz,
        )
}

/// What `/metrics` reads.
#[derive(Clone)]
struct MetricsState {
    metrics: Arc<Metrics>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hashing: Option<Arc<HashStats>>,
}

/// `GET /metrics`.
fn metrics_routes() -> openapi::Routes<MetricsState> {
    use openapi::{Auth, Operation};
    openapi::Routes::new().add(
        Operation::get("/metrics", "metrics", "Prometheus metrics")
            .tag("probes")
            .auth(Auth::None)
            .describe("Request counts and latency by route template, sign-in outcomes, refresh reuse detections, rate-limit hits, active sessions, signing-key ages, database pool state. Restrict access at your proxy.")
            .ok_with(200, "text/plain", json!({ "type": "string" }), "Prometheus text exposition"),
        serve_metrics,
    )
}

async fn serve_metrics(State(m): State<MetricsState>) -> Response {
    let now = m.clock.now_ms();
    let active_sessions =
        tokio::time::timeout(Duration::from_secs(2), m.store.count_active_sessions(now))
            .await
            .ok()
            .and_then(Result::ok);
    let keys = m
        .store
        .signing_keys()
        .await
        .map(|rows| {
            rows.into_iter()
                .map(|r| (r.kid, (now - r.created_at) / 1000, r.retired_at.is_some()))
                .collect()
        })
        .unwrap_or_default();
    let outbox = tokio::time::timeout(Duration::from_secs(2), m.store.outbox_counts())
        .await
        .ok()
        .and_then(Result::ok)
        .map(|c| (c.pending, c.failed));
    let gauges = metrics::Gauges {
        active_sessions,
        outbox,
        keys,
        pool: Some(m.store.pool_stats()),
        hashing: m.hashing.as_ref().map(|h| metrics::HashQueue {
            pending: h.pending(),
            run: h.completed(),
            shed: h.shed(),
            abandoned: h.abandoned(),
        }),
    };
    (
        [(
            ::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        m.metrics.render(&gauges),
    )
        .into_response()
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

async fn readyz(State(store): State<Arc<dyn Store>>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), store.ping()).await {
        Ok(Ok(())) => axum::Json(json!({ "status": "ready" })).into_response(),
        _ => ApiError::unavailable().into_response(),
    }
}
