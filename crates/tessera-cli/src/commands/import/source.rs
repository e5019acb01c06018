//! Reading a Better Auth database: SQLite (a file, `sqlite:…`) or PostgreSQL
//! (`postgres://…`), opened read-only, read in one read-only transaction so the tables
//! are a consistent snapshot. Only Better Auth's default table and column names are
//! understood (`user`, `account`, `session`, and the two-factor plugin's `twoFactor` with
//! `user.twoFactorEnabled` when present; camelCase columns such as `"emailVerified"`).
//!
//! What the rows look like (Better Auth 1.7's migrations and Kysely adapter):
//! * PostgreSQL: `text` ids, `boolean`, `timestamptz` dates;
//! * SQLite: `text` ids, booleans as integers 0/1, dates as ISO-8601 text
//!   (`2026-11-24T02:38:59.158Z`, the adapter's `toISOString()`).
//!
//! Every value is read as text here (PostgreSQL dates as unix milliseconds) and parsed in
//! one place, so both backends go through the same checks.

use std::str::FromStr as _;

use anyhow::{Context as _, bail};
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A Better Auth user row.
#[derive(Debug)]
pub(crate) struct BaUser {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) email_verified: bool,
    pub(crate) image: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    /// The two-factor plugin's `twoFactorEnabled` (false without the plugin).
    pub(crate) two_factor_enabled: bool,
}

/// A Better Auth `credential` account row (email and password).
pub(crate) struct BaCredential {
    pub(crate) user_id: String,
    pub(crate) password: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// A Better Auth account of another provider than `credential` (GitHub, Google, OpenID
/// Connect). Its tokens are not read: Tessera does not keep provider tokens.
#[derive(Debug)]
pub(crate) struct BaIdentity {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) provider_id: String,
    /// The subject at the provider.
    pub(crate) account_id: String,
    pub(crate) scope: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// A Better Auth `twoFactor` row. `secret` and `backup_codes` are encrypted with the Better
/// Auth secret (or plain, for backup codes stored `plain`): never print them.
pub(crate) struct BaTwoFactor {
    pub(crate) user_id: String,
    pub(crate) secret: String,
    pub(crate) backup_codes: String,
    /// `false` for an enrolment never confirmed with a code (NULL: a row from before the
    /// column, which Better Auth treats as confirmed).
    pub(crate) verified: bool,
}

/// A Better Auth session row. `token` is the raw session token: never print it.
pub(crate) struct BaSession {
    pub(crate) id: String,
    pub(crate) user_id: String,
    pub(crate) token: String,
    pub(crate) expires_at: i64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) ip_address: Option<String>,
    pub(crate) user_agent: Option<String>,
}

/// Everything the import needs from the source.
pub(crate) struct Snapshot {
    pub(crate) users: Vec<BaUser>,
    pub(crate) credentials: Vec<BaCredential>,
    pub(crate) sessions: Vec<BaSession>,
    /// Accounts of other providers (GitHub, Google, OpenID Connect).
    pub(crate) identities: Vec<BaIdentity>,
    /// The two-factor plugin's rows (empty without the plugin).
    pub(crate) two_factors: Vec<BaTwoFactor>,
}

/// Where the Better Auth data lives.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SourceUrl {
    Postgres(String),
    /// `sqlite:` / `sqlite://` URL (kept as given) or a plain path.
    SqliteUrl(String),
    SqlitePath(std::path::PathBuf),
}

impl SourceUrl {
    pub(crate) fn parse(raw: &str) -> anyhow::Result<Self> {
        let raw = raw.trim();
        if raw.is_empty() {
            bail!("--from is empty: give postgres://…, sqlite:… or the path of a SQLite file");
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if raw.starts_with("sqlite:") {
            return Ok(Self::SqliteUrl(raw.to_owned()));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            bail!(
                "unsupported source {scheme}://…: Better Auth databases can be read from postgres://…, sqlite:… or a SQLite file path"
            );
        }
        Ok(Self::SqlitePath(raw.into()))
    }

    /// A description for messages, without credentials.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Postgres(url) => {
                let db = url
                    .rsplit_once('/')
                    .map_or("", |(_, db)| db.split('?').next().unwrap_or(db));
                let host = url
                    .split_once("://")
                    .map_or("", |(_, rest)| rest)
                    .split('/')
                    .next()
                    .unwrap_or("");
                let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
                format!("PostgreSQL database {db:?} on {host}")
            }
            Self::SqliteUrl(url) => format!("SQLite database {url}"),
            Self::SqlitePath(p) => format!("SQLite database {}", p.display()),
        }
    }
}

/// Columns the import reads, per table. A database without them is not one this tool
/// understands (renamed fields, another adapter's naming, an unrelated database).
const REQUIRED: [(&str, &[&str]); 3] = [
    (
        "user",
        &[
            "id",
            "name",
            "email",
            "emailVerified",
            "image",
            "createdAt",
            "updatedAt",
        ],
    ),
    (
        "account",
        &[
            "id",
            "userId",
            "providerId",
            "accountId",
            "scope",
            "password",
            "createdAt",
            "updatedAt",
        ],
    ),
    (
        "session",
        &[
            "id",
            "userId",
            "token",
            "expiresAt",
            "createdAt",
            "updatedAt",
            "ipAddress",
            "userAgent",
        ],
    ),
];

fn check_columns(table: &str, want: &[&str], have: &[String]) -> anyhow::Result<()> {
    if have.is_empty() {
        bail!(
            "the source has no table {table:?}: is this a Better Auth database (tables \"user\", \"account\", \"session\")?"
        );
    }
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|c| !have.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        bail!(
            "table {table:?} has no column(s) {missing:?}: the import reads Better Auth's default schema (camelCase columns such as \"emailVerified\", \"userId\"); renamed fields are not supported"
        );
    }
    Ok(())
}

type UserRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);
type IdentityRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);
type TwoFactorRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);
/// The two-factor plugin's columns; the plugin is optional, so is the table.
const TWO_FACTOR_COLUMNS: [&str; 4] = ["userId", "secret", "backupCodes", "verified"];
type CredentialRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);
type SessionRow = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Reads the snapshot. Fails (with nothing written anywhere) on a bad URL, an unreachable
/// database, missing tables or columns, or values that are not what Better Auth writes.
pub(crate) async fn read(source: &SourceUrl) -> anyhow::Result<Snapshot> {
    let what = source.describe();
    match source {
        SourceUrl::Postgres(url) => {
            let options = PgConnectOptions::from_str(url)
                .with_context(|| format!("invalid PostgreSQL URL for the {what}"))?;
            let mut conn = PgConnection::connect_with(&options)
                .await
                .with_context(|| format!("cannot open the {what}"))?;
            read_postgres(&mut conn)
                .await
                .with_context(|| format!("reading the {what}"))
        }
        SourceUrl::SqliteUrl(url) => {
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| format!("invalid SQLite URL {url:?}"))?;
            read_sqlite_with(options, &what).await
        }
        SourceUrl::SqlitePath(path) => {
            anyhow::ensure!(path.is_file(), "no SQLite file at {}", path.display());
            read_sqlite_with(SqliteConnectOptions::new().filename(path), &what).await
        }
    }
}

async fn read_sqlite_with(options: SqliteConnectOptions, what: &str) -> anyhow::Result<Snapshot> {
    let options = options.read_only(true).create_if_missing(false);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open the {what} (read-only)"))?;
    read_sqlite(&mut conn)
        .await
        .with_context(|| format!("reading the {what}"))
}

async fn read_postgres(conn: &mut PgConnection) -> anyhow::Result<Snapshot> {
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await?;
    let mut columns = std::collections::HashMap::new();
    for table in ["user", "account", "session", "twoFactor"] {
        let have: Vec<(String,)> = sqlx::query_as(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        columns.insert(table, have.into_iter().map(|(c,)| c).collect::<Vec<_>>());
    }
    let plugin = two_factor_plugin(&columns)?;
    // Dates become unix milliseconds on the server, so the session's time zone is irrelevant.
    let ms = |c: &str| format!("(floor(extract(epoch from \"{c}\") * 1000))::bigint::text");
    let enabled = if plugin.enabled_column {
        "\"twoFactorEnabled\"::text"
    } else {
        "NULL"
    };
    let users: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT \"id\"::text, \"name\"::text, \"email\"::text, \"emailVerified\"::text, \"image\"::text, {}, {}, {enabled} \
         FROM \"user\" ORDER BY \"createdAt\", \"id\"",
        ms("createdAt"),
        ms("updatedAt")
    )))
    .fetch_all(&mut *tx)
    .await?;
    let credentials: Vec<CredentialRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT \"userId\"::text, \"password\"::text, {}, {} FROM \"account\" \
         WHERE \"providerId\" = 'credential' ORDER BY \"updatedAt\" DESC, \"id\"",
        ms("createdAt"),
        ms("updatedAt")
    )))
    .fetch_all(&mut *tx)
    .await?;
    let identities: Vec<IdentityRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT \"id\"::text, \"userId\"::text, \"providerId\"::text, \"accountId\"::text, \"scope\"::text, {}, {} \
         FROM \"account\" WHERE \"providerId\" <> 'credential' ORDER BY \"createdAt\", \"id\"",
        ms("createdAt"),
        ms("updatedAt")
    )))
    .fetch_all(&mut *tx)
    .await?;
    let two_factors: Vec<TwoFactorRow> = if plugin.table {
        sqlx::query_as(
            "SELECT \"userId\"::text, \"secret\"::text, \"backupCodes\"::text, \"verified\"::text \
             FROM \"twoFactor\" ORDER BY \"userId\", \"id\"",
        )
        .fetch_all(&mut *tx)
        .await?
    } else {
        Vec::new()
    };
    let sessions: Vec<SessionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT \"id\"::text, \"userId\"::text, \"token\"::text, {}, {}, {}, \"ipAddress\"::text, \"userAgent\"::text \
         FROM \"session\" ORDER BY \"createdAt\", \"id\"",
        ms("expiresAt"),
        ms("createdAt"),
        ms("updatedAt")
    )))
    .fetch_all(&mut *tx)
    .await?;
    tx.rollback().await?;
    snapshot(users, credentials, sessions, identities, two_factors)
}

/// Which parts of the two-factor plugin the source has.
struct Plugin {
    enabled_column: bool,
    table: bool,
}

/// Checks the core tables' columns and finds the two-factor plugin's.
fn two_factor_plugin(
    columns: &std::collections::HashMap<&str, Vec<String>>,
) -> anyhow::Result<Plugin> {
    let none = Vec::new();
    for (table, want) in REQUIRED {
        check_columns(table, want, columns.get(table).unwrap_or(&none))?;
    }
    let tf = columns.get("twoFactor").unwrap_or(&none);
    let table = !tf.is_empty();
    if table {
        check_columns("twoFactor", &TWO_FACTOR_COLUMNS, tf)?;
    }
    Ok(Plugin {
        enabled_column: columns
            .get("user")
            .is_some_and(|c| c.iter().any(|c| c == "twoFactorEnabled")),
        table,
    })
}

async fn read_sqlite(conn: &mut SqliteConnection) -> anyhow::Result<Snapshot> {
    let mut tx = conn.begin().await?;
    let mut columns = std::collections::HashMap::new();
    for table in ["user", "account", "session", "twoFactor"] {
        let have: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1)")
            .bind(table)
            .fetch_all(&mut *tx)
            .await?;
        columns.insert(table, have.into_iter().map(|(c,)| c).collect::<Vec<_>>());
    }
    let plugin = two_factor_plugin(&columns)?;
    let enabled = if plugin.enabled_column {
        "CAST(\"twoFactorEnabled\" AS TEXT)"
    } else {
        "NULL"
    };
    let users: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT CAST(\"id\" AS TEXT), CAST(\"name\" AS TEXT), CAST(\"email\" AS TEXT), \
         CAST(\"emailVerified\" AS TEXT), CAST(\"image\" AS TEXT), CAST(\"createdAt\" AS TEXT), \
         CAST(\"updatedAt\" AS TEXT), {enabled} FROM \"user\" ORDER BY \"createdAt\", \"id\""
    )))
    .fetch_all(&mut *tx)
    .await?;
    let credentials: Vec<CredentialRow> = sqlx::query_as(
        "SELECT CAST(\"userId\" AS TEXT), CAST(\"password\" AS TEXT), CAST(\"createdAt\" AS TEXT), \
         CAST(\"updatedAt\" AS TEXT) FROM \"account\" WHERE \"providerId\" = 'credential' \
         ORDER BY \"updatedAt\" DESC, \"id\"",
    )
    .fetch_all(&mut *tx)
    .await?;
    let identities: Vec<IdentityRow> = sqlx::query_as(
        "SELECT CAST(\"id\" AS TEXT), CAST(\"userId\" AS TEXT), CAST(\"providerId\" AS TEXT), \
         CAST(\"accountId\" AS TEXT), CAST(\"scope\" AS TEXT), CAST(\"createdAt\" AS TEXT), \
         CAST(\"updatedAt\" AS TEXT) FROM \"account\" WHERE \"providerId\" <> 'credential' \
         ORDER BY \"createdAt\", \"id\"",
    )
    .fetch_all(&mut *tx)
    .await?;
    let two_factors: Vec<TwoFactorRow> = if plugin.table {
        sqlx::query_as(
            "SELECT CAST(\"userId\" AS TEXT), CAST(\"secret\" AS TEXT), \
             CAST(\"backupCodes\" AS TEXT), CAST(\"verified\" AS TEXT) FROM \"twoFactor\" \
             ORDER BY \"userId\", \"id\"",
        )
        .fetch_all(&mut *tx)
        .await?
    } else {
        Vec::new()
    };
    let sessions: Vec<SessionRow> = sqlx::query_as(
        "SELECT CAST(\"id\" AS TEXT), CAST(\"userId\" AS TEXT), CAST(\"token\" AS TEXT), \
         CAST(\"expiresAt\" AS TEXT), CAST(\"createdAt\" AS TEXT), CAST(\"updatedAt\" AS TEXT), \
         CAST(\"ipAddress\" AS TEXT), CAST(\"userAgent\" AS TEXT) FROM \"session\" \
         ORDER BY \"createdAt\", \"id\"",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.rollback().await?;
    snapshot(users, credentials, sessions, identities, two_factors)
}

fn required(v: Option<String>, table: &str, column: &str, row: &str) -> anyhow::Result<String> {
    v.with_context(|| format!("{table} {row:?}: {column} is NULL"))
}

/// Unix milliseconds from what Better Auth stores: ISO-8601 text (SQLite), milliseconds
/// (PostgreSQL, as read above; also other adapters' integer timestamps), or SQLite's
/// `YYYY-MM-DD HH:MM:SS` (UTC) from a `CURRENT_TIMESTAMP` default.
pub(crate) fn parse_date(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if !raw.is_empty()
        && raw
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-'))
    {
        return raw.parse().ok();
    }
    let t = OffsetDateTime::parse(raw, &Rfc3339).ok().or_else(|| {
        let with_t = raw.replacen(' ', "T", 1);
        OffsetDateTime::parse(&format!("{with_t}Z"), &Rfc3339).ok()
    })?;
    Some(tessera_core::clock::unix_ms(t))
}

fn date(v: Option<String>, table: &str, column: &str, row: &str) -> anyhow::Result<i64> {
    let raw = required(v, table, column, row)?;
    parse_date(&raw).with_context(|| format!("{table} {row:?}: {column} is not a date"))
}

/// Booleans as PostgreSQL (`true`/`false`) and SQLite (1/0) render them as text.
pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "t" => Some(true),
        "0" | "false" | "f" => Some(false),
        _ => None,
    }
}

fn snapshot(
    users: Vec<UserRow>,
    credentials: Vec<CredentialRow>,
    sessions: Vec<SessionRow>,
    identities: Vec<IdentityRow>,
    two_factors: Vec<TwoFactorRow>,
) -> anyhow::Result<Snapshot> {
    let users = users
        .into_iter()
        .map(
            |(id, name, email, verified, image, created, updated, two_factor)| {
                let id = required(id, "user", "id", "?")?;
                let verified = verified.as_deref().map_or(Some(false), parse_bool);
                let two_factor = two_factor.as_deref().map_or(Some(false), parse_bool);
                Ok(BaUser {
                    two_factor_enabled: two_factor.with_context(|| {
                        format!("user {id:?}: twoFactorEnabled is not a boolean")
                    })?,
                    name: name.unwrap_or_default(),
                    email: required(email, "user", "email", &id)?,
                    email_verified: verified
                        .with_context(|| format!("user {id:?}: emailVerified is not a boolean"))?,
                    image,
                    created_at: date(created, "user", "createdAt", &id)?,
                    updated_at: date(updated, "user", "updatedAt", &id)?,
                    id,
                })
            },
        )
        .collect::<anyhow::Result<_>>()?;
    let credentials = credentials
        .into_iter()
        .map(|(user_id, password, created, updated)| {
            let user_id = required(user_id, "account", "userId", "?")?;
            Ok(BaCredential {
                password,
                created_at: date(created, "account", "createdAt", &user_id)?,
                updated_at: date(updated, "account", "updatedAt", &user_id)?,
                user_id,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let sessions = sessions
        .into_iter()
        .map(|(id, user_id, token, expires, created, updated, ip, ua)| {
            let id = required(id, "session", "id", "?")?;
            Ok(BaSession {
                user_id: required(user_id, "session", "userId", &id)?,
                token: required(token, "session", "token", &id)?,
                expires_at: date(expires, "session", "expiresAt", &id)?,
                created_at: date(created, "session", "createdAt", &id)?,
                updated_at: date(updated, "session", "updatedAt", &id)?,
                ip_address: ip,
                user_agent: ua,
                id,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let identities = identities
        .into_iter()
        .map(
            |(id, user_id, provider_id, account_id, scope, created, updated)| {
                let id = required(id, "account", "id", "?")?;
                Ok(BaIdentity {
                    user_id: required(user_id, "account", "userId", &id)?,
                    provider_id: required(provider_id, "account", "providerId", &id)?,
                    account_id: required(account_id, "account", "accountId", &id)?,
                    scope,
                    created_at: date(created, "account", "createdAt", &id)?,
                    updated_at: date(updated, "account", "updatedAt", &id)?,
                    id,
                })
            },
        )
        .collect::<anyhow::Result<_>>()?;
    let two_factors = two_factors
        .into_iter()
        .map(|(user_id, secret, backup_codes, verified)| {
            let user_id = required(user_id, "twoFactor", "userId", "?")?;
            let verified = verified.as_deref().map_or(Some(true), parse_bool);
            Ok(BaTwoFactor {
                secret: required(secret, "twoFactor", "secret", &user_id)?,
                backup_codes: backup_codes.unwrap_or_default(),
                verified: verified.with_context(|| {
                    format!("twoFactor of user {user_id:?}: verified is not a boolean")
                })?,
                user_id,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Snapshot {
        users,
        credentials,
        sessions,
        identities,
        two_factors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_forms_better_auth_stores() {
        assert_eq!(
            parse_date("2026-11-24T02:38:59.158Z"),
            Some(1_795_487_939_158)
        );
        assert_eq!(
            parse_date("2026-11-24T03:38:59.158+01:00"),
            Some(1_795_487_939_158)
        );
        assert_eq!(parse_date("1795487939158"), Some(1_795_487_939_158));
        assert_eq!(parse_date("2026-11-24 02:38:59"), Some(1_795_487_939_000));
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn booleans_as_text() {
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("false"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn source_urls() {
        assert!(matches!(
            SourceUrl::parse("postgresql://u:p@h/db"),
            Ok(SourceUrl::Postgres(_))
        ));
        assert!(matches!(
            SourceUrl::parse("sqlite://./ba.db"),
            Ok(SourceUrl::SqliteUrl(_))
        ));
        assert!(matches!(
            SourceUrl::parse("./auth.db"),
            Ok(SourceUrl::SqlitePath(_))
        ));
        assert!(SourceUrl::parse("mysql://h/db").is_err());
        assert!(SourceUrl::parse(" ").is_err());
    }

    #[test]
    fn descriptions_hide_credentials() {
        let d = SourceUrl::Postgres(
            "postgres://admin:hunter2@db.internal:5432/auth?sslmode=require".into(),
        )
        .describe();
        assert!(!d.contains("hunter2") && !d.contains("admin"), "{d}");
        assert!(
            d.contains("\"auth\"") && d.contains("db.internal:5432"),
            "{d}"
        );
    }
}
