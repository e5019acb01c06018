//! `cargo run -p axum-backend-example` — see the library docs for the environment variables.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter("info,tessera_verify=debug")
        .init();
    let verifier = match axum_backend_example::verifier_from_env() {
        Ok(verifier) => verifier,
        Err(message) => {
            tracing::error!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = match tokio::net::TcpListener::bind(&bind).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%bind, %error, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%bind, "listening");
    match axum::serve(listener, axum_backend_example::app(verifier)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server stopped");
            ExitCode::FAILURE
        }
    }
}
