//! The PostgreSQL adapter, for several Tessera instances behind a load balancer. Statement
//! and connect timeouts come from the settings, so a dead or locked database turns into
//! `StoreError::Unavailable` (503) instead of a hang. Migrations take PostgreSQL's advisory
//! lock (sqlx does this), so instances starting at once apply them exactly once.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::StoreError;
use crate::sql::impl_store;

/// Connection settings for PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresSettings {
    /// `postgres://user:pass@host:port/db`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a connection before 503.
    pub acquire_timeout: Duration,
    /// Longest a single statement may run (server-side `statement_timeout`).
    pub statement_timeout: Duration,
}

/// A PostgreSQL-backed [`crate::Store`].
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects and runs pending migrations. Afterwards the pool replaces broken
    /// connections on demand, so service resumes by itself when the database comes back.
    pub async fn connect(settings: &PostgresSettings) -> Result<Self, StoreError> {
        let timeout_ms = settings.statement_timeout.as_millis().to_string();
        let options = PgConnectOptions::from_str(&settings.url)
            .map_err(StoreError::Other)?
            .options([("statement_timeout", timeout_ms.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        sqlx::migrate!("../../migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(sqlx::Error::Migrate(Box::new(e))))?;
        Ok(Self { pool })
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
        self.pool.begin().await.map_err(map_err)
    }
}

/// Unique violations name their index; connection failures, timeouts, shutdowns and
/// resource exhaustion mean "unavailable".
fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => match db.constraint() {
            Some("users_email_key") => StoreError::Conflict("users_email_key"),
            Some("signing_keys_generation_key") => {
                StoreError::Conflict("signing_keys_generation_key")
            }
            _ => StoreError::Conflict("unique"),
        },
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // 08: connection exception; 53: insufficient resources; 57: operator
            // intervention (incl. 57014 statement timeout, 57P01 admin shutdown); 40001/40P01:
            // serialization failure / deadlock (the client may retry).
            if code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57")
                || code == "40001"
                || code == "40P01"
            {
                StoreError::Unavailable(e)
            } else {
                StoreError::Other(e)
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_) => StoreError::Unavailable(e),
        _ => StoreError::Other(e),
    }
}

impl_store!(PostgresStore, " FOR UPDATE", " FOR UPDATE SKIP LOCKED");
