//! `tessera migrate`: create or upgrade the schema, then exit.

use clap::Args;

use crate::args::{DbArgs, LogFormat};
use crate::commands::init_logs;

/// Options of `tessera migrate`: the database, and how to log.
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Log format.
    #[arg(long, env = "TESSERA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

pub(crate) async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let _logs = init_logs(args.log_format);
    args.db.connect().await?;
    tracing::info!("database is up to date");
    Ok(())
}
