//! `tessera`: the auth server and its administration commands. This file is the command
//! tree and the dispatch; each command's body is in [`commands`], the server's options and
//! the database-only set in [`args`], and the config-file layer in [`layers`].

mod args;
mod commands;
#[cfg(test)]
mod documented;
mod layers;
mod logwriter;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use tessera_server::settings::defaults;

use crate::args::ServeArgs;
use crate::commands::config::ConfigAction;
use crate::commands::import::ImportAction;
use crate::commands::keys::KeysAction;
use crate::commands::mail::MailAction;
use crate::commands::migrate::MigrateArgs;
use crate::commands::sessions::SessionsAction;
use crate::commands::token::TokenAction;
use crate::commands::users::UsersAction;

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
    Migrate(Box<MigrateArgs>),
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
        action: TokenAction,
    },
    /// List or end sessions.
    Sessions {
        #[command(subcommand)]
        action: SessionsAction,
    },
    /// The outbox: list messages (and why one was given up), queue failed ones again.
    Mail {
        #[command(subcommand)]
        action: MailAction,
    },
    /// Bring users, passwords and live sessions over from another auth system.
    Import {
        #[command(subcommand)]
        action: ImportAction,
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
            default_value = format!("http://{}", defaults::BIND)
        )]
        url: String,
    },
}

/// Parses the command line over the layered defaults (config file, `*_FILE` variables).
fn parse_cli() -> anyhow::Result<Cli> {
    let args: Vec<String> = std::env::args().collect();
    let config = layers::config_path(&args);
    let defaults = layers::collect(config.as_deref(), &serve_options())?;
    let matches = layers::install(Cli::command(), &defaults).get_matches_from(args);
    let mut cli = Cli::from_arg_matches(&matches)?;
    if let Some(serve) = cli.serve_args_mut() {
        serve.providers = layers::providers(config.as_deref())?;
    }
    if let Command::Import {
        action: ImportAction::BetterAuth(args),
    } = &mut cli.command
    {
        args.providers = layers::providers(config.as_deref())?;
    }
    Ok(cli)
}

impl Cli {
    /// The server's options, for the commands that take them.
    fn serve_args_mut(&mut self) -> Option<&mut ServeArgs> {
        match &mut self.command {
            Command::Serve(args)
            | Command::Config {
                action: ConfigAction::Check(args),
            }
            | Command::Token {
                action: TokenAction::Verify { args, .. },
            } => Some(args),
            _ => None,
        }
    }
}

/// The ids of `serve`'s options: the keys a config file may hold.
fn serve_options() -> Vec<String> {
    Cli::command()
        .find_subcommand("serve")
        .map(|serve| {
            serve
                .get_arguments()
                .map(|a| a.get_id().to_string())
                .collect()
        })
        .unwrap_or_default()
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
        Command::Serve(args) => commands::serve::run(*args).await,
        Command::Migrate(args) => commands::migrate::run(*args).await,
        Command::Keys { action } => commands::keys::run(action).await,
        Command::Users { action } => commands::users::run(action).await,
        Command::Token { action } => commands::token::run(action).await,
        Command::Sessions { action } => commands::sessions::run(action).await,
        Command::Mail { action } => commands::mail::run(action).await,
        Command::Import { action } => commands::import::run(action).await,
        Command::Config { action } => commands::config::run(action),
        Command::Healthcheck { url } => commands::healthcheck::run(&url).await,
    }
}
