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
pub mod http;
pub mod keys;
pub mod sessions;
pub mod settings;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tessera_core::Clock;
use tessera_store::Store;
use tessera_store::sqlite::{SqliteSettings, SqliteStore};
use tokio::net::TcpListener;

pub use crate::settings::{ApiKeys, JwtAlg, Role, Settings, SettingsError};
pub use crate::state::AppState;

use crate::http::ApiError;

/// The whole HTTP surface for this state, with its layers.
pub fn build_app(state: AppState) -> Router {
    let auth_routes = auth::router().merge(keys::router());
    let router = Router::new()
        .nest("/api/auth", auth_routes)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .with_state(state.clone());
    http::layers::apply(
        router,
        state.trusted_origins(),
        state.settings().request_timeout,
    )
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), state.store().ping()).await {
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
    #[error("unsupported database URL {0:?}: use sqlite://path")]
    UnsupportedDatabase(String),
    /// Signing keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Opens the store named by a database URL.
pub async fn connect_store(settings: &Settings) -> Result<Arc<dyn Store>, StartError> {
    let url = &settings.database_url;
    if url.starts_with("sqlite:") {
        let store = SqliteStore::connect(&SqliteSettings {
            url: url.clone(),
            max_connections: settings.db_max_connections,
            acquire_timeout: settings.db_timeout,
        })
        .await?;
        Ok(Arc::new(store))
    } else {
        Err(StartError::UnsupportedDatabase(settings::redact_url(url)))
    }
}

/// A bound, ready-to-serve server.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Validates settings, opens the database (running migrations), loads or creates the
    /// signing keys and binds the listen address.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        settings.validate()?;
        let store = connect_store(&settings).await?;
        let keys = keys::KeyRing::load(&*store, &settings, &*clock).await?;
        let listener =
            TcpListener::bind(settings.bind)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.bind,
                    source,
                })?;
        let state = AppState::new(settings, store, Arc::new(keys), clock);
        Ok(Self { listener, state })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.settings().bind)
    }

    /// The application state (tests use it to reach the store and clock).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let maintenance = tokio::spawn(maintain(self.state.clone()));
        let app = build_app(self.state.clone());
        let result = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        maintenance.abort();
        result
    }
}

/// Background upkeep: pick up keys rotated by another instance or the CLI, and delete
/// session rows long expired or revoked.
async fn maintain(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        n += 1;
        if let Err(e) = state.keys().reload(state.store(), state.clock()).await {
            tracing::warn!(error = %e, "could not reload signing keys");
        }
        if n.is_multiple_of(360) {
            // keep revoked rows a day so revocation feeds and audits can still see them
            let before = state.clock().now_ms() - 24 * 3600 * 1000;
            if let Err(e) = state.store().purge_sessions(before).await {
                tracing::warn!(error = %e, "session cleanup failed");
            }
        }
    }
}
