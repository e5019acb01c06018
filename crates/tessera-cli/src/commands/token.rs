//! `tessera token decode|verify`: read an access token, or check it against this server's
//! keys (the token options of `serve`: it needs the issuer, audience and algorithm) or a
//! JWKS URL.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::Subcommand;

use crate::args::ServeArgs;

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

fn decode_part(part: &str) -> anyhow::Result<serde_json::Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .context("not base64url")?;
    serde_json::from_slice(&bytes).context("not JSON")
}

pub(crate) async fn run(action: TokenAction) -> anyhow::Result<()> {
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
            } else if settings.tokens.jwt_alg == tessera_server::JwtAlg::HS256 {
                use secrecy::ExposeSecret as _;
                let secret = settings
                    .tokens
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
