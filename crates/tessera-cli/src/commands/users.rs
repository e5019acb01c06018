//! `tessera users …`: create, list, show, disable, enable and delete users in the
//! configured database. Changes reach running instances within about a second.

use std::io::BufRead as _;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use tessera_core::{Clock as _, Email, NewAccount, PasswordHasher, SystemClock};
use tessera_store::{NewUser, Store, StoreError};

use crate::args::DbArgs;

/// `tessera users`.
#[derive(Debug, Subcommand)]
pub(crate) enum UsersAction {
    /// Create a user; the password is read from the first line of standard input.
    Create {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        #[command(flatten)]
        db: Box<DbArgs>,
    },
    /// List users: id, email, name, created, disabled.
    List {
        #[command(flatten)]
        db: Box<DbArgs>,
    },
    /// Show one user (by email or id) and their live sessions.
    Show {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        db: Box<DbArgs>,
    },
    /// Disable a user: they can no longer sign in, and every session and access token of
    /// theirs stops working.
    Disable {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        db: Box<DbArgs>,
    },
    /// Enable a disabled user again (they sign in anew).
    Enable {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        db: Box<DbArgs>,
    },
    /// Delete a user with their credentials and tasks; their sessions and tokens stop working.
    Delete {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        db: Box<DbArgs>,
    },
}

pub(crate) async fn run(action: UsersAction) -> anyhow::Result<()> {
    let now = SystemClock.now_ms();
    match action {
        UsersAction::Create { email, name, db } => create(&email, &name, *db).await,
        UsersAction::List { db } => {
            let store = db.connect().await?;
            header();
            let mut offset = 0;
            loop {
                let page = store.list_users(500, offset).await?;
                page.iter().for_each(print_user);
                if page.len() < 500 {
                    break;
                }
                offset += 500;
            }
            Ok(())
        }
        UsersAction::Show { user, db } => {
            let store = db.connect().await?;
            let u = find_user(&*store, &user).await?;
            header();
            print_user(&u);
            let sessions = store.list_sessions(&u.id, now).await?;
            println!("\n{} live session(s)", sessions.len());
            for s in sessions {
                println!(
                    "  {}  {}  {}  expires {}",
                    s.id,
                    s.ip_address,
                    s.user_agent,
                    tessera_core::timefmt::iso_millis(s.expires_at)
                );
            }
            Ok(())
        }
        UsersAction::Disable { user, db } => {
            let store = db.connect().await?;
            let u = find_user(&*store, &user).await?;
            let ended = store
                .set_user_disabled(&u.id, true, now)
                .await?
                .unwrap_or_default();
            tracing::info!(event = "user_disabled", user_id = %u.id, sessions = ended.len(), "user disabled");
            println!("disabled {}; ended {} session(s)", u.email, ended.len());
            Ok(())
        }
        UsersAction::Enable { user, db } => {
            let store = db.connect().await?;
            let u = find_user(&*store, &user).await?;
            store.set_user_disabled(&u.id, false, now).await?;
            println!("enabled {}", u.email);
            Ok(())
        }
        UsersAction::Delete { user, db } => {
            let store = db.connect().await?;
            let u = find_user(&*store, &user).await?;
            let ended = store.delete_user(&u.id, now).await?.unwrap_or_default();
            tracing::info!(event = "user_deleted", user_id = %u.id, sessions = ended.len(), "user deleted");
            println!("deleted {}; ended {} session(s)", u.email, ended.len());
            Ok(())
        }
    }
}

/// Finds a user by email or id.
pub(crate) async fn find_user(store: &dyn Store, who: &str) -> anyhow::Result<tessera_store::User> {
    let found = match Email::parse(who) {
        Ok(email) => store.user_with_password_by_email(email.as_str()).await?,
        Err(_) => store.user_with_password_by_id(who).await?,
    };
    found
        .map(|(u, _)| u)
        .ok_or_else(|| anyhow::anyhow!("no user {who:?}"))
}

fn header() {
    println!(
        "{:<34} {:<32} {:<20} {:<24} DISABLED",
        "ID", "EMAIL", "NAME", "CREATED"
    );
}

fn print_user(u: &tessera_store::User) {
    let when = tessera_core::timefmt::iso_millis;
    println!(
        "{:<34} {:<32} {:<20} {:<24} {}",
        u.id,
        u.email,
        u.name.chars().take(20).collect::<String>(),
        when(u.created_at),
        u.disabled_at.map_or_else(|| "-".to_owned(), when)
    );
}

/// `tessera users create`: the password is read from the first line of standard input (so
/// it never appears in the process list or shell history). The account rules are sign-up's
/// ([`NewAccount`]).
async fn create(email: &str, name: &str, db: DbArgs) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let account = NewAccount::parse(name, email, line.trim_end_matches(['\n', '\r']))?;
    let NewAccount {
        name,
        email,
        password,
    } = account;
    let hash =
        tokio::task::spawn_blocking(move || PasswordHasher::default().hash(&password)).await?;
    let store = db.connect().await?;
    let user = NewUser {
        id: tessera_core::id::new_id(),
        name: name.into_string(),
        email: email.into_string(),
        image: None,
        now_ms: SystemClock.now_ms(),
    };
    match store.create_user(&user, &hash).await {
        Ok(u) => {
            println!("created {} ({})", u.email, u.id);
            Ok(())
        }
        Err(StoreError::Conflict(_)) => bail!("a user with that email already exists"),
        Err(e) => Err(e.into()),
    }
}
