//! `tessera token …`, `tessera sessions …` and `tessera users create`: operator tools that
//! work against the configured database (or a JWKS URL).

use std::io::BufRead as _;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::Subcommand;
use tessera_core::{Clock as _, Email, Password, PasswordHasher, SystemClock};
use tessera_store::{NewUser, Store, StoreError, UserId};

use crate::config::ServeArgs;

/// `tessera token`.
#[derive(Debug, Subcommand)]
pub(crate) enum TokenAction {
    /// Print a JWT's header and claims WITHOUT verifying it (for debugging).
    Decode {
        /// The token.
        token: String,
    },
    /// Verify a JWT: against this server's keys (from the database, or the HS256 secret),
    /// or against a JWKS URL given with --jwks-url. Prints the claims and exits 0 only if it
    /// is valid now.
    Verify {
        /// The token.
        token: String,
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
}

/// `tessera sessions`.
#[derive(Debug, Subcommand)]
pub(crate) enum SessionsAction {
    /// List a user's live sessions.
    List {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        args: Box<ServeArgs>,
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
        args: Box<ServeArgs>,
    },
}

fn decode_part(part: &str) -> anyhow::Result<serde_json::Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .context("not base64url")?;
    serde_json::from_slice(&bytes).context("not JSON")
}

pub(crate) async fn token(action: TokenAction) -> anyhow::Result<()> {
    match action {
        TokenAction::Decode { token } => {
            let parts: Vec<&str> = token.trim().split('.').collect();
            if parts.len() != 3 {
                bail!(
                    "a JWT has three dot-separated parts; this has {}",
                    parts.len()
                );
            }
            println!(
                "header: {}",
                serde_json::to_string_pretty(&decode_part(parts[0])?)?
            );
            println!(
                "claims: {}",
                serde_json::to_string_pretty(&decode_part(parts[1])?)?
            );
            eprintln!("(decoded only: the signature was NOT checked; use `tessera token verify`)");
            Ok(())
        }
        TokenAction::Verify { token, args } => {
            let jwks_url = args.jwks_url.clone();
            let settings = args.into_settings()?;
            let builder = tessera_verify::Verifier::builder()
                .issuer(settings.issuer())
                .audience(settings.audience());
            let builder = if let Some(url) = jwks_url {
                builder.remote_jwks(url)
            } else if settings.jwt_alg == tessera_server::JwtAlg::HS256 {
                use secrecy::ExposeSecret as _;
                let secret = settings
                    .jwt_secret
                    .as_ref()
                    .map(|s| s.expose_secret().to_vec())
                    .unwrap_or_default();
                builder.hs256_secret(secret)
            } else {
                let store = tessera_server::connect_store(&settings).await?;
                let keys: Vec<serde_json::Value> = store
                    .signing_keys()
                    .await?
                    .iter()
                    .filter_map(|r| serde_json::from_str(&r.public_jwk).ok())
                    .collect();
                builder.jwks_json(&serde_json::json!({ "keys": keys }).to_string())
            };
            let verifier = builder.build().context("cannot build a verifier")?;
            match verifier.verify(token.trim()).await {
                Ok(claims) => {
                    println!("valid: {}", serde_json::to_string_pretty(&claims.raw)?);
                    Ok(())
                }
                Err(e) => bail!("invalid: {e:?}"),
            }
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

pub(crate) async fn sessions(action: SessionsAction) -> anyhow::Result<()> {
    let now = SystemClock.now_ms();
    match action {
        SessionsAction::List { user, args } => {
            let settings = args.into_settings()?;
            let store = tessera_server::connect_store(&settings).await?;
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
            args,
        } => {
            let settings = args.into_settings()?;
            let store = tessera_server::connect_store(&settings).await?;
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

/// `tessera users create`: the password is read from the first line of standard input (so
/// it never appears in the process list or shell history).
pub(crate) async fn create_user(email: &str, name: &str, args: ServeArgs) -> anyhow::Result<()> {
    let settings = args.into_settings()?;
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password =
        Password::new(line.trim_end_matches(['\n', '\r'])).map_err(|e| anyhow::anyhow!("{e}"))?;
    if tessera_core::common::is_common(&password) {
        bail!("this password is too common; choose a less predictable one");
    }
    let hash =
        tokio::task::spawn_blocking(move || PasswordHasher::default().hash(&password)).await?;
    let store = tessera_server::connect_store(&settings).await?;
    let user = NewUser {
        id: tessera_core::id::new_id(),
        name: name.to_owned(),
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
