//! `tessera`: the auth server and its administration commands.

mod admin;
mod config;
mod import;
mod layers;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use tessera_core::SystemClock;
use tessera_server::{Application, keys::KeyRing};

use crate::config::{LogFormat, ServeArgs};

/// Tessera: a Better Auth–compatible authentication server with short-lived JWT access
/// tokens, and the tools to run it.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about, long_about = None)]
struct Cli {
    /// A TOML file of options (keys are the option names with _ for -, e.g.
    /// `database_url`); flags and environment variables override it. See tessera.example.toml.
    #[arg(long, global = true, env = "TESSERA_CONFIG", value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (auth API, tasks API and web UI). Every option is also an
    /// environment variable; with none at all it serves http://127.0.0.1:8080 from
    /// ./tessera.db with a generated development secret.
    Serve(Box<ServeArgs>),
    /// Create or upgrade the database schema, then exit.
    Migrate(Box<ServeArgs>),
    /// Manage JWT signing keys.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Administer users in the configured database. Changes reach running instances within
    /// about a second (disabled or deleted users' sessions and access tokens stop working).
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Decode or verify access tokens.
    Token {
        #[command(subcommand)]
        action: admin::TokenAction,
    },
    /// List or end sessions.
    Sessions {
        #[command(subcommand)]
        action: admin::SessionsAction,
    },
    /// Bring users, passwords and live sessions over from another auth system.
    Import {
        #[command(subcommand)]
        action: import::ImportAction,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Probe a running server's /readyz; exits 0 when it is ready (for containers and scripts).
    Healthcheck {
        /// Base URL of the server to probe.
        #[arg(
            long,
            env = "TESSERA_BASE_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        url: String,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Validate the configuration (flags > environment > config file > defaults) and print
    /// the effective settings, secrets redacted. Exits non-zero if it would not start.
    Check(Box<ServeArgs>),
}

#[derive(Debug, Subcommand)]
enum UsersAction {
    /// Create a user; the password is read from the first line of standard input.
    Create {
        /// Email address.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
    /// List users: id, email, name, created, disabled.
    List {
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
    /// Show one user (by email or id) and their live sessions.
    Show {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
    /// Disable a user: they can no longer sign in, and every session and access token of
    /// theirs stops working.
    Disable {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
    /// Enable a disabled user again (they sign in anew).
    Enable {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
    /// Delete a user with their credentials and tasks; their sessions and tokens stop working.
    Delete {
        /// Email or user id.
        user: String,
        #[command(flatten)]
        args: Box<ServeArgs>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// List signing keys: id, algorithm, generation, created, retired, published.
    List(Box<ServeArgs>),
    /// Add a new signing key that takes over signing; old keys keep verifying until their
    /// tokens expire. Running instances pick the new key up within seconds.
    Rotate(Box<ServeArgs>),
}

/// Parses the command line over the layered defaults (config file, `*_FILE` variables).
fn parse_cli() -> anyhow::Result<Cli> {
    let args: Vec<String> = std::env::args().collect();
    let known: Vec<String> = Cli::command()
        .find_subcommand("serve")
        .map(|serve| {
            serve
                .get_arguments()
                .map(|a| a.get_id().to_string())
                .collect()
        })
        .unwrap_or_default();
    let defaults = layers::collect(layers::config_path(&args).as_deref(), &known)?;
    let matches = layers::install(Cli::command(), &defaults).get_matches_from(args);
    Ok(Cli::from_arg_matches(&matches)?)
}

fn main() -> std::process::ExitCode {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("error: {e:#}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve(*args).await,
        Command::Migrate(args) => {
            init_logs(args.log_format);
            let settings = args.into_settings()?;
            tessera_server::connect_store(&settings).await?;
            tracing::info!("database is up to date");
            Ok(())
        }
        Command::Keys { action } => keys(action).await,
        Command::Users {
            action: UsersAction::Create { email, name, args },
        } => admin::create_user(&email, &name, *args).await,
        Command::Users { action } => users(action).await,
        Command::Token { action } => admin::token(action).await,
        Command::Sessions { action } => admin::sessions(action).await,
        Command::Import { action } => import::run(action).await,
        Command::Config {
            action: ConfigAction::Check(args),
        } => {
            let settings = args.into_settings()?;
            println!("{settings:#?}");
            // what the unset options resolve to
            println!("effective issuer: {}", settings.issuer());
            println!("effective audience: {}", settings.audience());
            println!(
                "effective trusted origins: {:?}",
                settings.all_trusted_origins()
            );
            println!(
                "effective revocation feed: {}",
                settings.revocation_feed_url().as_deref().unwrap_or("-")
            );
            println!("configuration is valid");
            Ok(())
        }
        Command::Healthcheck { url } => healthcheck(&url).await,
    }
}

fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TESSERA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logs(args.log_format);
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

async fn keys(action: KeysAction) -> anyhow::Result<()> {
    match action {
        KeysAction::List(args) => {
            let settings = args.into_settings()?;
            let store = tessera_server::connect_store(&settings).await?;
            let rows = store.signing_keys().await?;
            println!(
                "{:<34} {:<6} {:>3}  {:<24} {:<24}",
                "KID", "ALG", "GEN", "CREATED", "RETIRED"
            );
            for r in rows {
                println!(
                    "{:<34} {:<6} {:>3}  {:<24} {:<24}",
                    r.kid,
                    r.alg,
                    r.generation,
                    tessera_core::timefmt::iso_millis(r.created_at),
                    r.retired_at
                        .map(tessera_core::timefmt::iso_millis)
                        .unwrap_or_else(|| "-".into())
                );
            }
            Ok(())
        }
        KeysAction::Rotate(args) => {
            let settings = args.into_settings()?;
            anyhow::ensure!(
                settings.tokens.jwt_alg != tessera_server::JwtAlg::HS256,
                "HS256 has no signing keys to rotate: change --jwt-secret on the server and on every backend instead"
            );
            let store = tessera_server::connect_store(&settings).await?;
            let kid = KeyRing::rotate(&*store, &settings, &SystemClock).await?;
            println!(
                "new signing key {kid}; the previous key stays published until its tokens expire"
            );
            Ok(())
        }
    }
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

async fn users(action: UsersAction) -> anyhow::Result<()> {
    use tessera_core::Clock as _;
    let now = SystemClock.now_ms();
    let (args, who) = match &action {
        UsersAction::Create { .. } => return Ok(()), // handled by admin::create_user
        UsersAction::List { args } => (args, None),
        UsersAction::Show { user, args }
        | UsersAction::Disable { user, args }
        | UsersAction::Enable { user, args }
        | UsersAction::Delete { user, args } => (args, Some(user.clone())),
    };
    let settings = args.clone().into_settings()?;
    let store = tessera_server::connect_store(&settings).await?;
    let header = || {
        println!(
            "{:<34} {:<32} {:<20} {:<24} DISABLED",
            "ID", "EMAIL", "NAME", "CREATED"
        );
    };
    let user = match &who {
        Some(w) => Some(admin::find_user(&*store, w).await?),
        None => None,
    };
    match (action, user) {
        (UsersAction::List { .. }, _) => {
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
        }
        (UsersAction::Show { .. }, Some(u)) => {
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
        }
        (UsersAction::Disable { .. }, Some(u)) => {
            let ended = store
                .set_user_disabled(&u.id, true, now)
                .await?
                .unwrap_or_default();
            tracing::info!(event = "user_disabled", user_id = %u.id, sessions = ended.len(), "user disabled");
            println!("disabled {}; ended {} session(s)", u.email, ended.len());
        }
        (UsersAction::Enable { .. }, Some(u)) => {
            store.set_user_disabled(&u.id, false, now).await?;
            println!("enabled {}", u.email);
        }
        (UsersAction::Delete { .. }, Some(u)) => {
            let ended = store.delete_user(&u.id, now).await?.unwrap_or_default();
            tracing::info!(event = "user_deleted", user_id = %u.id, sessions = ended.len(), "user deleted");
            println!("deleted {}; ended {} session(s)", u.email, ended.len());
        }
        _ => {}
    }
    Ok(())
}

async fn healthcheck(base: &str) -> anyhow::Result<()> {
    let url = format!("{}/readyz", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let res = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    anyhow::ensure!(res.status().is_success(), "{url} answered {}", res.status());
    println!("ready");
    Ok(())
}
