//! Flags and environment variables → validated [`Settings`]. Every option is a flag and a
//! `TESSERA_*` variable (flags win); defaults serve a developer laptop and come from
//! [`tessera_server::settings::defaults`], so each is written once.
//!
//! [`ServeArgs`] are the server's options (`serve`, `config check`, `token verify`);
//! [`DbArgs`] the database-only set the admin commands take.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use clap::{Args, ValueEnum};
use tessera_server::http::client_ip::Cidr;
use tessera_server::http::rate_limit::RateLimits;
use tessera_server::settings::{
    Database, Deployment, Email, Http, Provider, Providers, Secret, Security, Sessions,
    SignUpResponse, Tokens, defaults,
};
use tessera_server::{ApiKeys, JwtAlg, Role, Settings};
use tessera_store::Store;

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// What this process serves.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    /// Auth server, tasks API and web UI.
    All,
    /// Only the auth server (and web UI).
    Auth,
    /// Only the tasks API; tokens are verified with --jwks-url or the HS256 --jwt-secret.
    Api,
}

/// How sign-up answers a taken email.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum SignUpArg {
    /// 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL (tells anyone the address has an account).
    Reveal,
    /// The same answer for taken and new emails.
    Generic,
}

impl From<&Role> for RoleArg {
    fn from(role: &Role) -> Self {
        match role {
            Role::All => RoleArg::All,
            Role::Auth => RoleArg::Auth,
            Role::Api(_) => RoleArg::Api,
        }
    }
}

impl From<SignUpResponse> for SignUpArg {
    fn from(response: SignUpResponse) -> Self {
        match response {
            SignUpResponse::Reveal => SignUpArg::Reveal,
            SignUpResponse::Generic => SignUpArg::Generic,
        }
    }
}

impl From<SignUpArg> for SignUpResponse {
    fn from(arg: SignUpArg) -> Self {
        match arg {
            SignUpArg::Reveal => SignUpResponse::Reveal,
            SignUpArg::Generic => SignUpResponse::Generic,
        }
    }
}

/// The database options: all an admin command needs (a subset of [`ServeArgs`], with the
/// same names, variables and defaults).
#[derive(Debug, Clone, Args)]
pub(crate) struct DbArgs {
    /// Database URL: sqlite://path (created if missing) or postgres://user:pass@host/db.
    #[arg(long, env = "TESSERA_DATABASE_URL", default_value = defaults::DATABASE_URL)]
    pub(crate) database_url: String,
    /// Database pool size.
    #[arg(long, env = "TESSERA_DB_POOL_SIZE", default_value_t = defaults::DB_MAX_CONNECTIONS)]
    pub(crate) db_pool_size: u32,
    /// How long a request may wait for the database (pool and statement timeout) before 503.
    #[arg(long, env = "TESSERA_DB_TIMEOUT", default_value = format_duration(defaults::DB_TIMEOUT), value_parser = parse_duration)]
    pub(crate) db_timeout: Duration,
}

impl DbArgs {
    /// The database settings.
    pub(crate) fn database(self) -> Database {
        Database {
            database_url: self.database_url.into(),
            db_max_connections: self.db_pool_size,
            db_timeout: self.db_timeout,
        }
    }

    /// Opens (and migrates) the database.
    pub(crate) async fn connect(self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(tessera_server::connect_database(&self.database()).await?)
    }
}

/// The server's options (`serve`, `config check`, `token verify`).
#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TESSERA_BIND", default_value_t = defaults::BIND)]
    pub(crate) bind: SocketAddr,
    #[command(flatten)]
    pub(crate) db: DbArgs,
    /// Public URL of this server; its origin is the default JWT issuer, audience and trusted
    /// origin. Defaults to http://<bind>.
    #[arg(long, env = "TESSERA_BASE_URL")]
    pub(crate) base_url: Option<String>,
    /// Server secret (≥ 32 bytes): signs cookies and encrypts signing keys. Without it a
    /// development secret is generated and kept beside the database.
    #[arg(long, env = "TESSERA_SECRET", hide_env_values = true)]
    pub(crate) secret: Option<String>,
    /// Access-token algorithm: EdDSA, ES256, RS256 or HS256.
    #[arg(long, env = "TESSERA_JWT_ALG", default_value = defaults::JWT_ALG.as_str())]
    pub(crate) jwt_alg: String,
    /// Shared secret for HS256 (≥ 32 bytes), given to the backends that verify tokens.
    #[arg(long, env = "TESSERA_JWT_SECRET", hide_env_values = true)]
    pub(crate) jwt_secret: Option<String>,
    /// Access-token lifetime, e.g. 15m, 900s, 1h.
    #[arg(long, env = "TESSERA_ACCESS_TOKEN_TTL", default_value = format_duration(defaults::ACCESS_TOKEN_TTL), value_parser = parse_duration)]
    pub(crate) access_token_ttl: Duration,
    /// Extra origins (comma-separated) allowed to call with credentials, e.g. your frontend.
    #[arg(long, env = "TESSERA_TRUSTED_ORIGINS", value_delimiter = ',')]
    pub(crate) trusted_origins: Vec<String>,
    /// WebAuthn relying-party id passkeys are bound to, e.g. example.com (default: the base
    /// URL's host). Changing it orphans every registered passkey.
    #[arg(long, env = "TESSERA_RP_ID")]
    pub(crate) rp_id: Option<String>,
    /// Proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For is believed.
    #[arg(long, env = "TESSERA_TRUSTED_PROXIES", value_delimiter = ',')]
    pub(crate) trusted_proxies: Vec<String>,
    /// JWT issuer (default: the base URL's origin).
    #[arg(long, env = "TESSERA_JWT_ISSUER")]
    pub(crate) jwt_issuer: Option<String>,
    /// JWT audience (default: the base URL's origin).
    #[arg(long, env = "TESSERA_JWT_AUDIENCE")]
    pub(crate) jwt_audience: Option<String>,
    /// What this process serves.
    #[arg(long, env = "TESSERA_ROLE", value_enum, default_value_t = RoleArg::from(&defaults::ROLE))]
    pub(crate) role: RoleArg,
    /// With --role api: the auth server's JWKS URL (e.g. http://auth:8080/api/auth/jwks).
    #[arg(long, env = "TESSERA_JWKS_URL")]
    pub(crate) jwks_url: Option<String>,
    /// With --role api: the auth server's revocation feed (default: /api/auth/revocations
    /// beside --jwks-url; `none` when the issuer has no feed, e.g. a Better Auth server).
    /// Polled every second so signed-out sessions' tokens stop working.
    #[arg(long, env = "TESSERA_REVOCATIONS_URL")]
    pub(crate) revocations_url: Option<String>,
    /// The secret (≥ 32 bytes) that callers of the revocation feed present as a Bearer token.
    /// On the auth server it lets them in (without it the feed answers 401); with --role api
    /// it is what this process presents.
    #[arg(long, env = "TESSERA_REVOCATIONS_SECRET", hide_env_values = true)]
    pub(crate) revocations_secret: Option<String>,
    /// With --role api: least time between JWKS refetches caused by an unknown key id (keep
    /// it below the auth server's --key-activation-delay).
    #[arg(long, env = "TESSERA_JWKS_COOLDOWN", default_value = format_duration(defaults::JWKS_COOLDOWN), value_parser = parse_duration)]
    pub(crate) jwks_cooldown: Duration,
    /// Session lifetime (sliding).
    #[arg(long, env = "TESSERA_SESSION_TTL", default_value = format_duration(defaults::SESSION_TTL), value_parser = parse_duration)]
    pub(crate) session_ttl: Duration,
    /// Absolute session lifetime: no session outlives this, however active.
    #[arg(long, env = "TESSERA_SESSION_MAX_LIFETIME", default_value = format_duration(defaults::SESSION_MAX_LIFETIME), value_parser = parse_duration)]
    pub(crate) session_max_lifetime: Duration,
    /// How long after a refresh the same refresh credential may be presented again (≤ 10s).
    #[arg(long, env = "TESSERA_REFRESH_GRACE", default_value = format_duration(defaults::REFRESH_GRACE), value_parser = parse_duration)]
    pub(crate) refresh_grace: Duration,
    /// How long a key added by `tessera keys rotate` is published before it starts signing
    /// (every instance and remote verifier learns it first).
    #[arg(long, env = "TESSERA_KEY_ACTIVATION_DELAY", default_value = format_duration(defaults::KEY_ACTIVATION_DELAY), value_parser = parse_duration)]
    pub(crate) key_activation_delay: Duration,
    /// Rate limits: `on` (the documented defaults), `off`, or overrides such as
    /// `sign-in=30/1m,sign-in-failures=5/5m,sign-in-failures-per-account=100/1h,sign-up=20/10m,refresh=60/1m,change-password=10/10m,token=120/1m`.
    #[arg(long, env = "TESSERA_RATE_LIMITS", default_value = "on")]
    pub(crate) rate_limits: String,
    /// How sign-up answers a taken email: `reveal` (422, as Better Auth; sign-up signs in) or
    /// `generic` (the same 200 for taken and new emails; people sign in afterwards).
    #[arg(long, env = "TESSERA_SIGN_UP_RESPONSE", value_enum, default_value_t = defaults::SIGN_UP_RESPONSE.into())]
    pub(crate) sign_up_response: SignUpArg,
    /// Threads that hash passwords (Argon2id, 19 MiB each once used); further sign-ins queue.
    /// `0`: one fewer than the cores, at least one, so other requests keep a core.
    #[arg(long, env = "TESSERA_HASH_THREADS", default_value_t = 0)]
    pub(crate) hash_threads: usize,
    /// Most connections open at once; at the bound the longest-idle one is closed to make
    /// room. `0`: the process's open-file limit less a reserve, at most 1024.
    #[arg(long, env = "TESSERA_MAX_CONNECTIONS", default_value_t = 0)]
    pub(crate) max_connections: usize,
    /// A connection with no request in flight for this long is closed.
    #[arg(long, env = "TESSERA_IDLE_TIMEOUT", default_value = format_duration(defaults::IDLE_TIMEOUT), value_parser = parse_duration)]
    pub(crate) idle_timeout: Duration,
    /// Also serve cleartext HTTP/2 (prior knowledge). Off: a TLS-terminating proxy in front
    /// speaks HTTP/1.1 to Tessera.
    #[arg(long, env = "TESSERA_HTTP2", default_value_t = defaults::HTTP2, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) http2: bool,
    /// Where mail goes: `smtp://host:port` (plain, a local relay),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465`, or
    /// `file:///dir` (development: `.eml` files). Unset: the email features are off.
    #[arg(long, env = "TESSERA_SMTP_URL", hide_env_values = true)]
    pub(crate) smtp_url: Option<String>,
    /// The sender, `Name <address>`. Default: `<app name> <no-reply@<base URL host>>`.
    #[arg(long, env = "TESSERA_EMAIL_FROM")]
    pub(crate) email_from: Option<String>,
    /// Sign-up does not sign in, and an unverified address cannot sign in (403
    /// EMAIL_NOT_VERIFIED; the link is sent again).
    #[arg(long, env = "TESSERA_REQUIRE_EMAIL_VERIFICATION", default_value_t = defaults::REQUIRE_EMAIL_VERIFICATION, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) require_email_verification: bool,
    /// Sign-in links by mail (Better Auth's magicLink plugin), when --smtp-url is set. Off:
    /// its routes answer 404.
    #[arg(long, env = "TESSERA_MAGIC_LINKS", default_value_t = defaults::MAGIC_LINKS, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) magic_links: bool,
    /// 6-digit codes by mail (Better Auth's emailOTP plugin, and the two-factor email code),
    /// when --smtp-url is set. Off: the emailOTP routes answer 404.
    #[arg(long, env = "TESSERA_EMAIL_CODES", default_value_t = defaults::EMAIL_CODES, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub(crate) email_codes: bool,
    /// The product name in mail (sender, subjects), TOTP and passkeys.
    #[arg(long, env = "TESSERA_APP_NAME", default_value = defaults::APP_NAME)]
    pub(crate) app_name: String,
    /// A directory of message texts replacing the built-in ones (`reset-password.subject`,
    /// `reset-password.txt`, `reset-password.html`, …).
    #[arg(long, env = "TESSERA_EMAIL_TEMPLATES")]
    pub(crate) email_templates: Option<PathBuf>,
    /// Log format.
    #[arg(long, env = "TESSERA_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
    /// Identity providers: the `[providers.<id>]` tables of the config file (no flags; see
    /// `layers::providers`).
    #[arg(skip)]
    pub(crate) providers: Vec<Provider>,
}

/// `15m`, `900s`, `1h`, `7d`, `250ms`, or a bare number of seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 15m or 900s"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => return Ok(Duration::from_millis(n)),
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "d" => n.saturating_mul(86_400),
        _ => {
            return Err(format!(
                "{s:?}: unknown unit {unit:?} (use ms, s, m, h or d)"
            ));
        }
    };
    Ok(Duration::from_secs(secs))
}

/// The shortest form [`parse_duration`] reads back: `15m`, `7d`, `250ms`.
pub(crate) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    match d.as_secs() {
        0 => "0s".to_owned(),
        s if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        s if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        s if s.is_multiple_of(60) => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

impl ServeArgs {
    /// Resolves defaults (base URL, development secret) and validates.
    pub(crate) fn into_settings(self) -> anyhow::Result<Settings> {
        // Validate everything else before a development secret is written to disk.
        let given_secret = self.secret.map(String::into_bytes);
        let jwt_alg: JwtAlg = self.jwt_alg.parse()?;
        let jwt_secret: Option<Secret> = self.jwt_secret.map(|x| x.into_bytes().into());
        let role = match self.role {
            RoleArg::All => Role::All,
            RoleArg::Auth => Role::Auth,
            RoleArg::Api => match self.jwks_url {
                Some(url) => Role::Api(ApiKeys::Jwks(url)),
                None if jwt_alg == JwtAlg::HS256 || jwt_secret.is_some() => {
                    Role::Api(ApiKeys::SharedSecret)
                }
                None => bail!("--role api needs --jwks-url (or --jwt-secret for HS256)"),
            },
        };
        let mut s = Settings {
            http: Http {
                bind: self.bind,
                base_url: self
                    .base_url
                    .unwrap_or_else(|| format!("http://{}", self.bind)),
                trusted_origins: self
                    .trusted_origins
                    .iter()
                    .map(|o| o.trim())
                    .filter(|o| !o.is_empty())
                    .map(str::to_owned)
                    .collect(),
                rp_id: self.rp_id.filter(|r| !r.trim().is_empty()),
                trusted_proxies: self
                    .trusted_proxies
                    .iter()
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| p.parse::<Cidr>().map_err(anyhow::Error::msg))
                    .collect::<anyhow::Result<_>>()?,
                idle_timeout: self.idle_timeout,
                max_connections: match self.max_connections {
                    0 => connections_within_open_file_limit(),
                    n => n,
                },
                http2: self.http2,
                ..Http::default()
            },
            database: self.db.database(),
            tokens: Tokens {
                jwt_alg,
                jwt_secret,
                access_token_ttl: self.access_token_ttl,
                issuer: self.jwt_issuer,
                audience: self.jwt_audience,
                key_activation_delay: self.key_activation_delay,
                ..Tokens::new(given_secret.clone().unwrap_or_else(|| vec![0; 32]))
            },
            sessions: Sessions {
                session_ttl: self.session_ttl,
                session_max_lifetime: self.session_max_lifetime,
                refresh_grace: self.refresh_grace,
                ..Sessions::default()
            },
            security: {
                let defaults = Security::default();
                Security {
                    rate_limits: RateLimits::parse(&self.rate_limits)
                        .map_err(anyhow::Error::msg)?,
                    sign_up_response: self.sign_up_response.into(),
                    hash_concurrency: match self.hash_threads {
                        0 => defaults.hash_concurrency,
                        n => n,
                    },
                    revocations_secret: self.revocations_secret.map(|x| x.into_bytes().into()),
                }
            },
            deployment: Deployment {
                role,
                revocations_url: self.revocations_url,
                jwks_cooldown: self.jwks_cooldown,
            },
            email: Email {
                smtp_url: self
                    .smtp_url
                    .filter(|u| !u.trim().is_empty())
                    .map(Into::into),
                email_from: self.email_from.filter(|f| !f.trim().is_empty()),
                require_email_verification: self.require_email_verification,
                magic_links: self.magic_links,
                email_codes: self.email_codes,
                app_name: self.app_name,
                email_templates: self.email_templates,
            },
            providers: Providers {
                list: self.providers,
                ..Providers::default()
            },
        };
        s.validate()?;
        if given_secret.is_none() {
            s.tokens.secret = dev_secret(&s.database.database_url)?.into();
        }
        let base_url = &s.http.base_url;
        if base_url.contains("://0.0.0.0") || base_url.contains("://[::]") {
            tracing::warn!(
                %base_url,
                "the base URL is an unspecified address: browsers' Origin headers and JWT issuers will not match it; set --base-url to the public URL"
            );
        }
        Ok(s)
    }
}

/// Descriptors kept back from connections: the database pool, log files, the listener.
const DESCRIPTOR_RESERVE: usize = 64;

/// The default connection bound: the soft open-file limit (from `/proc/self/limits`, where
/// there is one) less [`DESCRIPTOR_RESERVE`], at most the server's default, at least 16.
fn connections_within_open_file_limit() -> usize {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| soft_open_files(&text));
    let default = defaults::MAX_CONNECTIONS;
    limit.map_or(default, |n| {
        n.saturating_sub(DESCRIPTOR_RESERVE).clamp(16, default)
    })
}

/// The soft "Max open files" figure of a `/proc/<pid>/limits` text.
fn soft_open_files(limits: &str) -> Option<usize> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Where the development secret lives: beside the SQLite file, or in the working directory.
fn dev_secret_path(database_url: &str) -> PathBuf {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
        .filter(|p| !p.contains(":memory:") && !p.is_empty());
    match path {
        Some(p) => PathBuf::from(format!("{p}.secret")),
        None => PathBuf::from("tessera.secret"),
    }
}

/// Reads or creates the development secret, warning that it is one.
pub(crate) fn dev_secret(database_url: &str) -> anyhow::Result<Vec<u8>> {
    let path = dev_secret_path(database_url);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let s = existing.trim().to_owned();
        if s.len() >= 32 {
            tracing::warn!(path = %path.display(), "using the development secret kept beside the database; set TESSERA_SECRET in production");
            return Ok(s.into_bytes());
        }
    }
    let mut bytes = [0u8; 48];
    tessera_core::id::random_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::STANDARD.encode(bytes);
    write_private(&path, &secret)
        .with_context(|| format!("cannot write the development secret to {}", path.display()))?;
    tracing::warn!(path = %path.display(), "generated a development secret and kept it beside the database; set TESSERA_SECRET in production");
    Ok(secret.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("900"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5y").is_err());
    }

    #[test]
    fn formatted_durations_read_back() {
        for (d, text) in [
            (Duration::from_secs(900), "15m"),
            (Duration::from_secs(60), "1m"),
            (Duration::from_secs(604_800), "7d"),
            (Duration::from_secs(7200), "2h"),
            (Duration::from_secs(10), "10s"),
            (Duration::from_millis(250), "250ms"),
        ] {
            assert_eq!(format_duration(d), text);
            assert_eq!(parse_duration(text), Ok(d));
        }
    }

    #[test]
    fn the_open_file_limit_is_read_from_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units\n\
                    Max cpu time              unlimited            unlimited            seconds\n\
                    Max open files            256                  524288               files\n";
        assert_eq!(soft_open_files(text), Some(256));
        assert_eq!(
            soft_open_files("Max open files unlimited unlimited files"),
            None
        );
        assert_eq!(soft_open_files(""), None);
    }

    #[test]
    fn dev_secret_sits_beside_the_database() {
        assert_eq!(
            dev_secret_path("sqlite://tessera.db"),
            PathBuf::from("tessera.db.secret")
        );
        assert_eq!(
            dev_secret_path("sqlite:///var/lib/t.db?mode=rwc"),
            PathBuf::from("/var/lib/t.db.secret")
        );
        assert_eq!(
            dev_secret_path("sqlite::memory:"),
            PathBuf::from("tessera.secret")
        );
    }
}
