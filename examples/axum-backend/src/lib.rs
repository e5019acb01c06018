//! A minimal backend that protects `GET /api/{user_id}/tasks` with `tessera-verify`.
//!
//! Configuration (environment):
//! * `TESSERA_JWKS_URL` — the auth server's JWKS (e.g. `http://127.0.0.1:8080/api/auth/jwks`), or
//! * `TESSERA_JWT_SECRET` — an HS256 shared secret (at least 32 bytes);
//! * `TESSERA_ISSUER`, `TESSERA_AUDIENCE` — required, usually the auth server's origin;
//! * `BIND` — listen address, default `127.0.0.1:3000`.

use axum::{Json, Router, routing::get};
use serde_json::{Value, json};
use tessera_verify::{OwnerOf, Verifier};

/// The service: only the owner of `{user_id}` (the token's `sub`) reads its tasks.
pub fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/api/{user_id}/tasks", get(list_tasks))
        .with_state(verifier)
}

async fn list_tasks(owner: OwnerOf) -> Json<Value> {
    Json(json!([
        {"id": 1, "title": "Read the tessera-verify docs", "owner": owner.subject()},
        {"id": 2, "title": "Ship it", "owner": owner.subject()},
    ]))
}

/// Builds the verifier from the environment variables listed in the crate docs.
///
/// # Errors
/// A message naming the missing or invalid setting.
pub fn verifier_from_env() -> Result<Verifier, String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let issuer = var("TESSERA_ISSUER").ok_or("TESSERA_ISSUER is required")?;
    let audience = var("TESSERA_AUDIENCE").ok_or("TESSERA_AUDIENCE is required")?;
    let builder = Verifier::builder().issuer(issuer).audience(audience);
    let builder = match (var("TESSERA_JWKS_URL"), var("TESSERA_JWT_SECRET")) {
        (Some(url), None) => builder.remote_jwks(url),
        (None, Some(secret)) => builder.hs256_secret(secret),
        _ => return Err("set exactly one of TESSERA_JWKS_URL or TESSERA_JWT_SECRET".into()),
    };
    builder.build().map_err(|e| e.to_string())
}
