//! What operators and load balancers call: `/healthz` (the process is up), `/readyz` (the
//! database answers — with several instances it is also the rate-limit store —; the answer
//! says where the buckets are and whether changes are pushed) and `/metrics` (Prometheus;
//! requests are counted by `http::access_log`).

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

/// What `/readyz` reports about state shared between instances.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sharing {
    /// Where the rate-limit buckets are (`"shared"`, `"local"`), when this process limits.
    pub(crate) rate_limits: Option<&'static str>,
    /// Whether the database may be shared by several instances (changes are pushed).
    pub(crate) several_instances: bool,
}

/// What `/readyz` reads.
#[derive(Clone)]
struct ReadyState {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    sharing: Sharing,
}

/// The probes' router (with its state) and their documentation; `hashing` is the auth
/// server's hashing queue, when this process runs one.
pub(crate) fn routes(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    hashing: Option<Arc<HashStats>>,
    sharing: Sharing,
) -> (Router, Vec<openapi::Operation>) {
    let (probes, mut ops) = probe_routes().into_parts("");
    let (metrics_router, metrics_ops) = metrics_routes().into_parts("");
    ops.extend(metrics_ops);
    let router = probes
        .with_state(ReadyState {
            store: store.clone(),
            metrics: metrics.clone(),
            sharing,
        })
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
fn probe_routes() -> openapi::Routes<ReadyState> {
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
                .describe("503 while the database does not answer (with PostgreSQL it also holds the shared rate-limit buckets). The answer says where rate-limit buckets are kept (`shared` in the database, `local` in this process) and whether changes other instances make are pushed to this one (`listening`) or only polled (`polling`).")
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

async fn readyz(State(s): State<ReadyState>) -> Response {
    let database = matches!(
        tokio::time::timeout(Duration::from_secs(2), s.store.ping()).await,
        Ok(Ok(()))
    );
    if !database {
        return ApiError::unavailable().into_response();
    }
    let push = match (s.sharing.several_instances, s.metrics.push_listening()) {
        (false, _) => "none",
        (true, true) => "listening",
        (true, false) => "polling",
    };
    let mut body = json!({ "status": "ready", "push": push });
    if let Some(kind) = s.sharing.rate_limits {
        body["rate_limits"] = json!(kind);
    }
    axum::Json(body).into_response()
}
