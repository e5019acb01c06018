//! `tessera keys list|rotate`: the signing keys in the database.

use clap::{Args, Subcommand};
use tessera_core::SystemClock;
use tessera_server::keys::KeyRing;
use tessera_server::settings::defaults;
use tessera_server::{JwtAlg, Settings};

use crate::args::DbArgs;

/// `tessera keys`.
#[derive(Debug, Subcommand)]
pub(crate) enum KeysAction {
    /// List signing keys: id, algorithm, generation, created, retired, published.
    List(Box<DbArgs>),
    /// Add a new signing key that takes over signing; old keys keep verifying until their
    /// tokens expire. Running instances pick the new key up within seconds.
    Rotate(Box<RotateArgs>),
}

/// What `keys rotate` needs beyond the database: the secret that encrypts private keys and
/// the algorithm of the new key (as the server is configured).
#[derive(Debug, Args)]
pub(crate) struct RotateArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Server secret (≥ 32 bytes) that encrypts signing keys. Without it, the development
    /// secret kept beside the database.
    #[arg(long, env = "TESSERA_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// Algorithm of the new key: EdDSA, ES256 or RS256.
    #[arg(long, env = "TESSERA_JWT_ALG", default_value = defaults::JWT_ALG.as_str())]
    jwt_alg: String,
}

pub(crate) async fn run(action: KeysAction) -> anyhow::Result<()> {
    match action {
        KeysAction::List(db) => list(*db).await,
        KeysAction::Rotate(args) => rotate(*args).await,
    }
}

async fn list(db: DbArgs) -> anyhow::Result<()> {
    let store = db.connect().await?;
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

async fn rotate(args: RotateArgs) -> anyhow::Result<()> {
    let jwt_alg: JwtAlg = args.jwt_alg.parse()?;
    anyhow::ensure!(
        jwt_alg != JwtAlg::HS256,
        "HS256 has no signing keys to rotate: change --jwt-secret on the server and on every backend instead"
    );
    let database = args.db.database();
    let secret = match args.secret {
        Some(s) => s.into_bytes(),
        None => crate::args::dev_secret(&database.database_url)?,
    };
    let mut settings = Settings::new_dev(secret);
    settings.database = database;
    settings.tokens.jwt_alg = jwt_alg;
    settings.validate()?;
    let store = tessera_server::connect_store(&settings).await?;
    let kid = KeyRing::rotate(&*store, &settings, &SystemClock).await?;
    println!("new signing key {kid}; the previous key stays published until its tokens expire");
    Ok(())
}
