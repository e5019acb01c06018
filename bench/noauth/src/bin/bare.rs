//! `tessera-bench-bare <bind>`: the physical limit of this machine for one HTTP exchange
//! with a JSON answer. A plain axum router with one handler (`GET /healthz` →
//! `{"status":"ok"}`) served by `axum::serve` on tokio's default multi-threaded runtime:
//! no layers, no logging, no metrics, no connection bookkeeping. `bench/run` loads it in
//! the same run as Tessera, so "what the stack costs" is a ratio measured side by side.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::args()
        .nth(1)
        .ok_or("usage: tessera-bench-bare <bind>")?;
    let app = Router::new().route("/healthz", get(|| async { Json(json!({ "status": "ok" })) }));
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
