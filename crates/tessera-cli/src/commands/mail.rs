//! `tessera mail list|retry`: the outbox as operators see it — what waits, what was sent, what
//! was given up and why — and putting given-up messages back in the queue.

use anyhow::bail;
use clap::Subcommand;
use tessera_core::{Clock as _, SystemClock};

use crate::args::DbArgs;

/// `tessera mail`.
#[derive(Debug, Subcommand)]
pub(crate) enum MailAction {
    /// List messages, newest first (recipients, kinds, attempts, the last error; never links).
    List {
        /// Only messages with this status.
        #[arg(long, value_parser = ["pending", "sent", "dropped", "failed"])]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        db: Box<DbArgs>,
    },
    /// Put given-up messages back in the queue: one by id, or every one (--all-failed). A
    /// running server sends them within about a second (with a fresh link).
    Retry {
        /// Message id (as `mail list` shows).
        id: Option<String>,
        /// Every failed message.
        #[arg(long, conflicts_with = "id")]
        all_failed: bool,
        #[command(flatten)]
        db: Box<DbArgs>,
    },
}

pub(crate) async fn run(action: MailAction) -> anyhow::Result<()> {
    match action {
        MailAction::List { status, limit, db } => {
            let store = db.connect().await?;
            let rows = store.list_mail(status.as_deref(), limit).await?;
            println!(
                "{:<34} {:<22} {:<8} {:>3} {:<24} {:<32} ERROR",
                "ID", "KIND", "STATUS", "TRY", "CREATED", "RECIPIENT"
            );
            for m in rows {
                println!(
                    "{:<34} {:<22} {:<8} {:>3} {:<24} {:<32} {}",
                    m.id,
                    m.kind,
                    m.status,
                    m.attempts,
                    tessera_core::timefmt::iso_millis(m.created_at),
                    m.recipient,
                    m.last_error.unwrap_or_default()
                );
            }
            Ok(())
        }
        MailAction::Retry { id, all_failed, db } => {
            if id.is_none() && !all_failed {
                bail!("name a message id, or --all-failed");
            }
            let store = db.connect().await?;
            let n = store
                .requeue_failed_mail(id.as_deref(), SystemClock.now_ms())
                .await?;
            if n == 0 && id.is_some() {
                bail!("no failed message with that id");
            }
            println!("{n} message(s) queued again");
            Ok(())
        }
    }
}
