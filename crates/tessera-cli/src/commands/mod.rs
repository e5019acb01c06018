//! One file per subcommand: its arguments (beyond [`crate::args`]) and its body. `main.rs`
//! only parses and dispatches.

pub(crate) mod config;
pub(crate) mod healthcheck;
pub(crate) mod import;
pub(crate) mod keys;
pub(crate) mod mail;
pub(crate) mod migrate;
pub(crate) mod serve;
pub(crate) mod sessions;
pub(crate) mod token;
pub(crate) mod users;

use crate::args::LogFormat;

/// Logs to standard error, filtered by `TESSERA_LOG` (default `info,sqlx=warn`), through a
/// batched writer (see [`crate::logwriter`]). Keep the returned flusher until the command
/// ends: dropping it writes what is still buffered.
#[must_use = "dropping the flusher at once would write every line synchronously"]
pub(crate) fn init_logs(format: LogFormat) -> crate::logwriter::Flusher {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let (writer, flusher) = crate::logwriter::batched_stderr();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    flusher
}
