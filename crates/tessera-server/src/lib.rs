//! The Tessera HTTP application as a library.
//!
//! [`build_app`] turns an [`AppState`] into an axum `Router` (used by in-process tests);
//! [`Application`] connects storage, loads keys, binds a socket and serves (used by the CLI
//! and by black-box tests on port 0).
//!
//! Modules follow the product's domains: [`auth`] (Better Auth's email/password core),
//! [`keys`] (signing keys, JWKS, `/token`), [`sessions`] (what happens when sessions end),
//! and [`http`] for what every request passes through.

pub mod auth;
mod hashing;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod serve;
pub mod sessions;
pub mod settings;
pub mod state;
pub mod tasks;
pub mod ui;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use serde_json::json;
use tessera_core::Clock;
use tessera_store::Store;
use tokio::net::TcpListener;

pub use crate::hashing::HashStats;
pub use crate::settings::{ApiKeys, JwtAlg, Role, Settings, SettingsError};
pub use crate::state::AppState;

use crate::http::ApiError;

/// What one process serves: the auth server, the tasks API, or both (see [`Role`]).
#[derive(Debug, Clone)]
pub struct Services {
    /// The auth server's state, when this process issues tokens.
    pub auth: Option<AppState>,
    /// The tasks API's state, when this process serves it.
    pub tasks: Option<tasks::TasksState>,
    /// The database (for readiness).
    pub store: Arc<dyn Store>,
    /// Settings shared by both.
    pub settings: Settings,
    /// Counters served at `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// The whole HTTP surface of these services, with its layers.
///
/// Every route except the web UI's HTML pages comes from an [`openapi::Routes`] table, so
/// the OpenAPI document served at `/api/openapi.json` lists exactly what is served.
pub fn build_app(services: &Services) -> Router {
    let mut router = Router::new();
    let mut ops = Vec::new();
    if let Some(auth) = &services.auth {
        let (auth_routes, auth_ops) = auth_routes().into_parts(AUTH_PREFIX);
        router = router.nest(AUTH_PREFIX, auth_routes.with_state(auth.clone()));
        ops.extend(auth_ops);
    }
    if let Some(tasks) = &services.tasks {
        let (tasks_routes, tasks_ops) = tasks::routes().into_parts("");
        router = router.merge(
            tasks_routes
                .with_state(tasks.clone())
                .layer(tasks::no_store()),
        );
        ops.extend(tasks_ops);
    }
    if services.auth.is_some() {
        router = router.merge(ui::router());
    }
    let (probes, probe_ops) = probe_routes().into_parts("");
    router = router.merge(probes.with_state(services.store.clone()));
    ops.extend(probe_ops);
    let (metrics, metrics_ops) = metrics_routes().into_parts("");
    router = router.merge(metrics.with_state(MetricsState {
        metrics: services.metrics.clone(),
        store: services.store.clone(),
        clock: services.clock.clone(),
        hashing: services.auth.as_ref().map(AppState::hash_stats),
    }));
    ops.extend(metrics_ops);
    let docs = openapi::routes();
    ops.extend(docs.operations().iter().cloned());
    router = router.merge(openapi::serve(docs, &ops));
    let router = router
        .fallback(not_found)
        .method_not_allowed_fallback(http::error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            services.metrics.clone(),
            observe_request,
        ));
    http::layers::apply(
        router,
        &services.settings.all_trusted_origins(),
        services.settings.request_timeout,
        services.settings.http2,
    )
}

/// Where the auth server's routes are nested.
const AUTH_PREFIX: &str = "/api/auth";

/// The auth server's routes (relative to [`AUTH_PREFIX`]).
fn auth_routes() -> openapi::Routes<AppState> {
    auth::routes()
        .merge(keys::routes())
        .merge(sessions::routes())
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

/// Counts every request by method, route template and status, and times it (a
/// `from_fn_with_state` middleware over the whole router; public so `bench/noauth` serves
/// its unauthenticated read through the same per-request work).
pub async fn observe_request(
    State(metrics): State<Arc<metrics::Metrics>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |m| m.as_str().to_owned());
    let res = next.run(req).await;
    metrics.observe_request(
        &method,
        &route,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    res
}

/// What `/metrics` reads.
#[derive(Clone)]
struct MetricsState {
    metrics: Arc<metrics::Metrics>,
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
    let gauges = metrics::Gauges {
        active_sessions,
        keys,
        pool: Some(m.store.pool_stats()),
        hashing: m.hashing.clone(),
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

/// The documented (method, path) pairs a process with these parts serves, from the same
/// route tables [`build_app`] mounts (used by tests; the served document is the reference).
pub fn documented_operations(auth: bool, tasks: bool) -> Vec<openapi::Operation> {
    let mut ops = Vec::new();
    if auth {
        ops.extend(auth_routes().into_parts(AUTH_PREFIX).1);
    }
    if tasks {
        ops.extend(tasks::routes().into_parts("").1);
    }
    ops.extend(probe_routes().into_parts("").1);
    ops.extend(metrics_routes().into_parts("").1);
    ops.extend(openapi::routes().into_parts("").1);
    ops
}

async fn not_found() -> ApiError {
    ApiError::not_found()
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

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] tessera_store::StoreError),
    /// The database URL names an unsupported backend.
    #[error("unsupported database URL {0:?}: use sqlite://path or postgres://user@host/db")]
    UnsupportedDatabase(String),
    /// Signing keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    /// The password-hashing threads could not be started.
    #[error("could not start the password-hashing threads: {0}")]
    HashThreads(#[source] std::io::Error),
    /// The token verifier could not be configured.
    #[error("token verification: {0}")]
    Verifier(tessera_verify::ConfigError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Opens the store named by the settings' database URL (the backend is chosen by
/// [`tessera_store::connect`]).
pub async fn connect_store(settings: &Settings) -> Result<Arc<dyn Store>, StartError> {
    let options = tessera_store::PoolOptions {
        max_connections: settings.db_max_connections,
        timeout: settings.db_timeout,
    };
    match tessera_store::connect(&settings.database_url, options).await {
        Err(tessera_store::StoreError::UnsupportedUrl(_)) => Err(StartError::UnsupportedDatabase(
            settings::redact_url(&settings.database_url),
        )),
        other => Ok(other?),
    }
}

/// Builds the verifier the in-process or stand-alone tasks API uses.
/// The server's clock, as the verifier sees it (tests move both together).
struct VerifierClock(Arc<dyn Clock>);

impl tessera_verify::Clock for VerifierClock {
    fn now_unix(&self) -> i64 {
        self.0.now_ms().div_euclid(1000)
    }
}

fn tasks_verifier(
    settings: &Settings,
    keys: Option<&keys::KeyRing>,
    revoked: &tessera_verify::RevokedSessions,
    clock: Arc<dyn Clock>,
) -> Result<tessera_verify::Verifier, StartError> {
    let shared_secret = || {
        settings
            .jwt_secret
            .as_ref()
            .map(|s| s.expose_secret().to_vec())
            .unwrap_or_default()
    };
    let mut b = tessera_verify::Verifier::builder()
        .clock(Arc::new(VerifierClock(clock)))
        .revocation(Arc::new(revoked.clone()))
        .leeway(Duration::from_secs(30));
    let (mut issuer, mut audience) = (settings.issuer(), settings.audience());
    match (&settings.role, keys) {
        (Role::Api(ApiKeys::Jwks(url)), _) => {
            b = b
                .remote_jwks(url.clone())
                .jwks_cooldown(settings.jwks_cooldown);
            // Unless told otherwise, expect tokens from the origin that publishes the keys.
            let origin = settings::origin_of(url).unwrap_or_default();
            issuer = settings.issuer.clone().unwrap_or_else(|| origin.clone());
            audience = settings.audience.clone().unwrap_or(origin);
        }
        (_, Some(k)) if k.alg() != JwtAlg::HS256 => b = b.jwks_json(&k.jwks_json()),
        _ => b = b.hs256_secret(shared_secret()),
    }
    // Clients present the same access token for its whole life, so remember verified ones
    // (exp, nbf and revocation are still checked on every hit). A hit costs well under a
    // microsecond; a miss parses the token and checks its signature: 25-80 us for Ed25519,
    // ECDSA or RSA, and under load even HS256's path measured ~15 us more per request.
    b = b.cache(VERIFIED_TOKEN_CACHE);
    b.issuer(issuer)
        .audience(audience)
        .build()
        .map_err(StartError::Verifier)
}

/// Verified access tokens remembered by the tasks API (a few hundred bytes each).
const VERIFIED_TOKEN_CACHE: usize = 4096;

/// A bound, ready-to-serve server.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    services: Services,
}

impl Application {
    /// Validates settings, opens the database (running migrations), loads or creates the
    /// signing keys, configures the verifier and binds the listen address.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        settings.validate()?;
        let store = connect_store(&settings).await?;
        let revoked = tessera_verify::RevokedSessions::new();
        let keys = match settings.role {
            Role::Api(_) => None,
            Role::All | Role::Auth => Some(Arc::new(
                keys::KeyRing::load(&*store, &settings, &*clock).await?,
            )),
        };
        let tasks = match settings.role {
            Role::Auth => None,
            Role::All => {
                let verifier = tasks_verifier(&settings, keys.as_deref(), &revoked, clock.clone())?;
                Some(tasks::TasksState::new(
                    store.clone(),
                    verifier,
                    clock.clone(),
                    None,
                ))
            }
            Role::Api(_) => {
                // Another process ends sessions: learn about it from its revocation feed.
                let feed = match settings.revocation_feed_url() {
                    Some(url) => {
                        let mut feed = tessera_verify::RevocationFeed::builder(url)
                            .interval(Duration::from_secs(1));
                        if let Some(secret) = &settings.revocations_secret {
                            feed = feed.bearer(
                                String::from_utf8_lossy(secret.expose_secret()).into_owned(),
                            );
                        }
                        Some(feed.start().map_err(StartError::Verifier)?)
                    }
                    None => None,
                };
                let set = feed
                    .as_ref()
                    .map_or_else(|| revoked.clone(), |f| f.sessions());
                let verifier = tasks_verifier(&settings, None, &set, clock.clone())?;
                Some(tasks::TasksState::new(
                    store.clone(),
                    verifier,
                    clock.clone(),
                    feed.map(Arc::new),
                ))
            }
        };
        let metrics = Arc::new(metrics::Metrics::default());
        let auth = keys
            .map(|k| {
                AppState::new(
                    settings.clone(),
                    store.clone(),
                    k,
                    clock.clone(),
                    revoked.clone(),
                )
                .map(|state| state.with_metrics(metrics.clone()))
                .map_err(StartError::HashThreads)
            })
            .transpose()?;
        let listener =
            TcpListener::bind(settings.bind)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.bind,
                    source,
                })?;
        Ok(Self {
            listener,
            services: Services {
                auth,
                tasks,
                store,
                settings,
                metrics,
                clock,
            },
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.services.settings.bind)
    }

    /// The auth server's state, if this process runs it (tests reach the store and clock).
    pub fn state(&self) -> Option<&AppState> {
        self.services.auth.as_ref()
    }

    /// The services this process runs.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let maintenance = self
            .services
            .auth
            .clone()
            .map(|auth| tokio::spawn(maintain(auth, self.services.tasks.clone())));
        let app = build_app(&self.services);
        let settings = &self.services.settings;
        let options = serve::ServeOptions {
            header_timeout: settings.header_timeout,
            idle_timeout: settings.idle_timeout,
            max_connections: settings.max_connections,
            http2: settings.http2,
        };
        let result = serve::serve(self.listener, app, &options, shutdown).await;
        self.services.store.close().await;
        if let Some(m) = maintenance {
            m.abort();
        }
        result
    }
}

/// Rebuilds the in-process revocation set from the database, which drops sessions whose
/// tokens have all expired and adds those other instances ended.
async fn sync_revocations(state: &AppState, since: i64) {
    match state.store().revoked_sessions_since(since).await {
        Ok(rows) => state.replace_revoked(rows.into_iter().map(|(id, _)| id)),
        Err(e) => tracing::warn!(error = %e, "could not read revoked sessions"),
    }
}

/// Background upkeep, once a second: learn which sessions other instances (or the CLI)
/// ended, so this process refuses their access tokens within about a second; every two
/// seconds, pick up signing keys rotated elsewhere (and activate a published key when its
/// activation delay has passed); hourly, delete session rows long
/// expired or revoked.
async fn maintain(state: AppState, tasks: Option<tasks::TasksState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let window = state.settings().access_token_ttl + Duration::from_secs(60);
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        let since = state.clock().now_ms().saturating_sub(window_ms);
        sync_revocations(&state, since).await;
        if n.is_multiple_of(2) {
            match state.keys().reload(state.store(), state.clock()).await {
                Ok(true) => {
                    if let Some(t) = &tasks {
                        t.install_jwks(&state.keys().jwks_json());
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not reload signing keys"),
            }
        }
        if n.is_multiple_of(60) {
            state.limiter().sweep();
        }
        if n.is_multiple_of(3600) {
            // keep revoked rows a day so revocation feeds and audits can still see them
            let before = state.clock().now_ms() - 24 * 3600 * 1000;
            if let Err(e) = state.store().purge_sessions(before).await {
                tracing::warn!(error = %e, "session cleanup failed");
            }
        }
    }
}
