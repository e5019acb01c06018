//! `tessera sessions list|revoke`: a user's live sessions, and ending them.

use anyhow::bail;
use clap::Subcommand;
use tessera_core::{Clock as _, SystemClock};
use tessera_store::UserId;

use crate::args::DbArgs;
use crate::commands::users::find_user;

/// `tessera sessions`.
#[derive(Debug, Subcommand)]
pub(crate) enum SessionsAction {
    /// List a user's live sessions.
    List {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        db: Box<DbArgs>,
    },
    /// End sessions: one by id, all of a user's (--user), or every session (--all). Their
    /// access tokens stop working within about a second on running instances.
    Revoke {
        /// Session id (as `sessions list` shows).
        session: Option<String>,
        /// End all sessions of this user (email or id).
        #[arg(long, conflicts_with_all = ["session", "all"])]
        user: Option<String>,
        /// End every session of every user.
        #[arg(long, conflicts_with = "session")]
        all: bool,
        #[command(flatten)]
        db: Box<DbArgs>,
    },
}

pub(crate) async fn run(action: SessionsAction) -> anyhow::Result<()> {
    let now = SystemClock.now_ms();
    match action {
        SessionsAction::List { user, db } => {
            let store = db.connect().await?;
            let u = find_user(&*store, &user).await?;
            let sessions = store.list_sessions(&u.id, now).await?;
            println!(
                "{:<34} {:<24} {:<40} {:<24}",
                "SESSION", "IP", "USER AGENT", "EXPIRES"
            );
            for s in sessions {
                println!(
                    "{:<34} {:<24} {:<40} {:<24}",
                    s.id,
                    s.ip_address,
                    s.user_agent.chars().take(40).collect::<String>(),
                    tessera_core::timefmt::iso_millis(s.expires_at)
                );
            }
            Ok(())
        }
        SessionsAction::Revoke {
            session,
            user,
            all,
            db,
        } => {
            let store = db.connect().await?;
            let ended = match (session, user, all) {
                (Some(id), None, false) => u64::from(store.revoke_session(&id, now).await?),
                (None, Some(who), false) => {
                    let u = find_user(&*store, &who).await?;
                    store
                        .revoke_user_sessions(UserId(&u.id), None, now)
                        .await?
                        .len() as u64
                }
                (None, None, true) => store.revoke_all_sessions(now).await?,
                _ => bail!("name a session id, --user <email|id>, or --all"),
            };
            tracing::info!(
                event = "sessions_revoked",
                count = ended,
                "sessions revoked by an operator"
            );
            println!("ended {ended} session(s)");
            Ok(())
        }
    }
}
