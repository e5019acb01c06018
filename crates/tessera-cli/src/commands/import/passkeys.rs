//! Better Auth's `passkey` table (the `@better-auth/passkey` plugin), when the source has
//! one: each passkey is copied with its credential id, COSE public key, counter, device
//! type, backup state, transports and AAGUID, so the authenticators keep working — provided
//! Tessera's relying-party id (`--rp-id`, default the base URL's host) is the one Better Auth
//! used (its `rpID`, default its base URL's hostname). Passkeys whose key Tessera cannot
//! verify (Ed25519) and malformed rows are left out and counted; a passkey is imported only
//! for a user Tessera holds (imported now or before).

use std::str::FromStr as _;

use anyhow::Context as _;
use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tessera_store::{PasskeyImport, PasskeyRow, Store};

use super::source::{SourceUrl, parse_bool, parse_date};

/// One `passkey` row as text.
type Row = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const COLUMNS: [&str; 11] = [
    "id",
    "name",
    "publicKey",
    "userId",
    "credentialID",
    "counter",
    "deviceType",
    "backedUp",
    "transports",
    "createdAt",
    "aaguid",
];

/// What the source's passkeys became.
#[derive(Debug, Default)]
pub(super) struct PasskeyReport {
    /// The source has no `passkey` table (the plugin was never installed).
    pub(super) no_table: bool,
    pub(super) imported: usize,
    pub(super) present: usize,
    pub(super) no_user: usize,
    pub(super) conflict: usize,
    /// Rows whose key Tessera cannot verify (Ed25519) or that are malformed.
    pub(super) unusable: usize,
    pub(super) dry_run: bool,
}

impl PasskeyReport {
    /// The report's lines (nothing when the source has no passkeys at all).
    pub(super) fn render(&self) -> String {
        if self.no_table {
            return String::new();
        }
        let verb = if self.dry_run {
            "would be imported"
        } else {
            "imported"
        };
        let mut out = format!(
            "passkeys: {} {verb}, {} already present",
            self.imported, self.present
        );
        for (n, what) in [
            (self.no_user, "of users not in Tessera"),
            (
                self.conflict,
                "with an id or credential another passkey holds",
            ),
            (
                self.unusable,
                "malformed or with a key Tessera cannot verify (Ed25519)",
            ),
        ] {
            if n > 0 {
                out.push_str(&format!("; {n} left out ({what})"));
            }
        }
        out.push('\n');
        out
    }
}

fn text_column(c: &str, postgres: bool) -> String {
    if postgres {
        if c == "createdAt" {
            format!("(floor(extract(epoch from \"{c}\") * 1000))::bigint::text")
        } else {
            format!("\"{c}\"::text")
        }
    } else {
        format!("CAST(\"{c}\" AS TEXT)")
    }
}

fn select(postgres: bool) -> String {
    let cols: Vec<String> = COLUMNS.iter().map(|c| text_column(c, postgres)).collect();
    format!(
        "SELECT {} FROM \"passkey\" ORDER BY \"createdAt\", \"id\"",
        cols.join(", ")
    )
}

/// The source's passkey rows, or `None` when it has no `passkey` table.
async fn read(source: &SourceUrl) -> anyhow::Result<Option<Vec<Row>>> {
    match source {
        SourceUrl::Postgres(url) => {
            let mut conn = PgConnection::connect_with(&PgConnectOptions::from_str(url)?).await?;
            let (exists,): (bool,) = sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'passkey')",
            )
            .fetch_one(&mut conn)
            .await?;
            if !exists {
                return Ok(None);
            }
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(select(true)))
                .fetch_all(&mut conn)
                .await?;
            Ok(Some(rows))
        }
        SourceUrl::SqliteUrl(_) | SourceUrl::SqlitePath(_) => {
            let options = match source {
                SourceUrl::SqliteUrl(url) => SqliteConnectOptions::from_str(url)?,
                SourceUrl::SqlitePath(path) => SqliteConnectOptions::new().filename(path),
                SourceUrl::Postgres(_) => unreachable!("matched above"),
            };
            let mut conn =
                SqliteConnection::connect_with(&options.read_only(true).create_if_missing(false))
                    .await?;
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'passkey'",
            )
            .fetch_one(&mut conn)
            .await?;
            if n == 0 {
                return Ok(None);
            }
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(select(false)))
                .fetch_all(&mut conn)
                .await?;
            Ok(Some(rows))
        }
    }
}

fn is_b64url(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 1366
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A source row as Tessera stores it, or `None` when it is malformed or unusable.
fn convert(row: Row, now_ms: i64) -> Option<PasskeyRow> {
    let (
        id,
        name,
        public_key,
        user_id,
        credential_id,
        counter,
        device_type,
        backed_up,
        transports,
        created_at,
        aaguid,
    ) = row;
    let id = id.filter(|i| !i.is_empty() && i.len() <= 255)?;
    let public_key = public_key.filter(|k| tessera_server::importable_public_key(k))?;
    let credential_id = credential_id
        .map(|c| c.trim_end_matches('=').to_owned())
        .filter(|c| is_b64url(c))?;
    let counter = counter
        .as_deref()
        .map_or(Some(0), |c| c.trim().parse::<i64>().ok())
        .filter(|c| (0..=i64::from(u32::MAX)).contains(c))?;
    let backed_up = backed_up.as_deref().and_then(parse_bool).unwrap_or(false);
    let device_type = match device_type.as_deref() {
        Some("multiDevice") => "multiDevice",
        _ if backed_up => "multiDevice",
        _ => "singleDevice",
    };
    Some(PasskeyRow {
        id,
        user_id: user_id?,
        name: name
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.chars().take(100).collect()),
        credential_id,
        public_key,
        counter,
        device_type: device_type.to_owned(),
        backed_up,
        transports: transports.filter(|t| !t.is_empty()),
        aaguid: aaguid.filter(|a| !a.is_empty()),
        created_at: created_at.as_deref().and_then(parse_date).unwrap_or(now_ms),
        last_used_at: None,
    })
}

/// Reads the source's passkeys and imports them (after the users, whose ids they name).
pub(super) async fn import(
    source: &SourceUrl,
    store: &dyn Store,
    now_ms: i64,
    dry_run: bool,
) -> anyhow::Result<PasskeyReport> {
    let mut report = PasskeyReport {
        dry_run,
        ..PasskeyReport::default()
    };
    let Some(rows) = read(source)
        .await
        .context("reading the source's passkey table")?
    else {
        report.no_table = true;
        return Ok(report);
    };
    let mut usable = Vec::with_capacity(rows.len());
    for row in rows {
        match convert(row, now_ms) {
            Some(p) => usable.push(p),
            None => report.unusable += 1,
        }
    }
    let outcomes = store
        .import_passkeys(&usable, dry_run)
        .await
        .context("importing passkeys failed; the passkeys are unchanged")?;
    for o in outcomes {
        match o {
            PasskeyImport::Created => report.imported += 1,
            PasskeyImport::Present => report.present += 1,
            PasskeyImport::NoSuchUser => report.no_user += 1,
            PasskeyImport::Conflict => report.conflict += 1,
        }
    }
    Ok(report)
}
