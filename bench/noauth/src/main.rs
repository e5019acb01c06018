//! `tessera-bench-noauth <bind> <sqlite-url>`: serves `GET /api/{user_id}/tasks` exactly as
//! Tessera's tasks API does (the same `TaskStore::list_tasks`, page parsing defaults, DTO,
//! `no-store` layer, `tessera_server::http::layers` with its request log and metrics, and
//! connection loop),
//! but without the `OwnerOf` extractor: no token is read or verified. Only for measuring the
//! cost of authentication in `bench/run`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use tessera_core::task::Task;
use tessera_core::timefmt::iso_millis;
use tessera_store::{TaskStore, UserId};
use tessera_store::sqlite::{SqliteSettings, SqliteStore};

fn page(query: Option<&str>) -> (u32, u32) {
    let (mut limit, mut offset) = (50, 0);
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "limit" => limit = v.parse().unwrap_or(50).clamp(1, 100),
            "offset" => offset = v.parse().unwrap_or(0).min(1_000_000),
            _ => {}
        }
    }
    (limit, offset)
}

async fn list(
    State(store): State<Arc<dyn TaskStore>>,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<Task>>, axum::http::StatusCode> {
    let (limit, offset) = page(query.as_deref());
    let rows = store
        .list_tasks(UserId(&user_id), limit, offset)
        .await
        .map_err(|_| axum::http::StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Json(
        rows.into_iter()
            .map(|t| Task {
                id: t.id,
                user_id: t.user_id,
                title: t.title,
                description: t.description,
                completed: t.completed,
                created_at: iso_millis(t.created_at),
                updated_at: iso_millis(t.updated_at),
            })
            .collect(),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let bind = args
        .next()
        .ok_or("usage: tessera-bench-noauth <bind> <sqlite-url>")?;
    let url = args
        .next()
        .ok_or("usage: tessera-bench-noauth <bind> <sqlite-url>")?;
    let store: Arc<dyn TaskStore> = Arc::new(
        SqliteStore::connect(&SqliteSettings {
            url,
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        })
        .await?,
    );
    let metrics = Arc::new(tessera_server::Metrics::default());
    let router = Router::new()
        .route(
            "/api/{user_id}/tasks",
            get(list).layer(tessera_server::http::layers::no_store_layer()),
        )
        .route("/healthz", get(|| async { Json(serde_json_ok()) }))
        .with_state(store);
    let app = tessera_server::http::layers::apply(
        router,
        &[format!("http://{bind}")],
        Duration::from_secs(15),
        false,
        metrics,
    );
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let options = tessera_server::serve::ServeOptions {
        header_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        max_connections: tessera_server::settings::DEFAULT_MAX_CONNECTIONS,
        http2: false,
    };
    tessera_server::serve::serve(listener, app, &options, std::future::pending())
    .await?;
    Ok(())
}

fn serde_json_ok() -> std::collections::BTreeMap<&'static str, &'static str> {
    std::collections::BTreeMap::from([("status", "ok")])
}
