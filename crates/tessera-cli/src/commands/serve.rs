//! `tessera serve`: run the server until SIGINT or SIGTERM.

use std::sync::Arc;

use anyhow::Context as _;
use tessera_core::SystemClock;
use tessera_server::Application;

use crate::args::ServeArgs;
use crate::commands::init_logs;

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let _logs = init_logs(args.log_format);
    let settings = args.into_settings()?;
    let started = std::time::Instant::now();
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let services = app.services();
    let alg = services
        .auth
        .as_ref()
        .map_or("-", |a| a.keys().alg().as_str());
    tracing::info!(
        url = %services.settings.http.base_url,
        listen = %app.local_addr(),
        role = ?services.settings.deployment.role,
        alg,
        ready_ms = started.elapsed().as_millis() as u64,
        "tessera is serving"
    );
    app.run_until(shutdown_signal())
        .await
        .context("server error")?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
