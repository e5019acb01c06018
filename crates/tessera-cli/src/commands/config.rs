//! `tessera config check`: validate the layered configuration and print it, secrets redacted.

use clap::Subcommand;

use crate::args::ServeArgs;

/// `tessera config`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigAction {
    /// Validate the configuration (flags > environment > config file > defaults) and print
    /// the effective settings, secrets redacted. Exits non-zero if it would not start.
    Check(Box<ServeArgs>),
}

pub(crate) fn run(action: ConfigAction) -> anyhow::Result<()> {
    let ConfigAction::Check(args) = action;
    let settings = args.into_settings()?;
    // the settings' Debug redacts secrets and database passwords
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
