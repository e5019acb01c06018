//! The PostgreSQL adapter, for several Tessera instances behind a load balancer. Statement
//! and connect timeouts come from the settings, so a dead or locked database turns into
//! `StoreError::Unavailable` (503) instead of a hang. Migrations take PostgreSQL's advisory
//! lock (sqlx does this), so instances starting at once apply them exactly once.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection as _;
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

/// A pooled connection idle longer than this is pinged before it is handed out; one used
/// more recently is handed out as it is. sqlx's default (`test_before_acquire`) pings on
/// every acquire: a round trip before every statement, a third of a tasks read's round
/// trips (sqlx also pings once more when a connection comes back, off the request's path).
/// A connection that died within this second fails its one statement with 503 and is then
/// closed; after an outage longer than this every surviving connection is pinged first.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

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
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
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

    /// One rotation, one transaction: PostgreSQL already lets concurrent commits share a
    /// WAL flush, and the presented credential's row lock keeps rotations of one family in
    /// line across instances.
    async fn rotate(
        &self,
        token_digest: &str,
        successor: &crate::NewRefreshToken,
        policy: crate::RefreshPolicy,
    ) -> Result<crate::RefreshOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcome = Self::rotate_on(&mut tx, token_digest, successor, policy).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(outcome)
    }
}

/// The connection the shared SQL runs on inside a transaction.
type Conn = sqlx::PgConnection;

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

/// No direct reads: every query goes through the pool (see `sql::DirectReads`).
impl crate::sql::DirectReads for PostgresStore {}

impl_store!(
    PostgresStore,
    " FOR UPDATE",
    " FOR UPDATE SKIP LOCKED",
    "GREATEST"
);

/// Channels the migration's triggers notify (`migrations/postgres/0006_instances.sql`), and
/// the heartbeat every listening process sends.
const SESSION_ENDED: &str = "tessera_session_ended";
const KEYS_CHANGED: &str = "tessera_keys_changed";
const HEARTBEAT: &str = "tessera_heartbeat";
/// How often a listening process notifies the heartbeat channel.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(2);
/// Silence after which a listening connection is taken for dead: a connection whose peer
/// vanished without a reset would otherwise wait forever while changes go unheard.
const HEARTBEAT_SILENCE: Duration = Duration::from_secs(7);

#[async_trait::async_trait]
impl crate::ChangeFeed for PostgresStore {
    async fn listen(&self) -> crate::Result<Option<Box<dyn crate::ChangeListener>>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool)
            .await
            .map_err(map_err)?;
        listener.eager_reconnect(false);
        listener
            .listen_all([SESSION_ENDED, KEYS_CHANGED, HEARTBEAT])
            .await
            .map_err(map_err)?;
        let pool = self.pool.clone();
        let heartbeat = tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
            loop {
                tick.tick().await;
                // A failure shows as silence on the listening side.
                let _ = sqlx::query("SELECT pg_notify($1, '')")
                    .bind(HEARTBEAT)
                    .execute(&pool)
                    .await;
            }
        });
        Ok(Some(Box::new(PgChanges {
            listener,
            heartbeat,
        })))
    }
}

/// A `LISTEN`ing connection and the heartbeat that proves it alive.
struct PgChanges {
    listener: sqlx::postgres::PgListener,
    heartbeat: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for PgChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgChanges").finish_non_exhaustive()
    }
}

impl Drop for PgChanges {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

fn lost(why: &'static str) -> StoreError {
    StoreError::Unavailable(sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        why,
    )))
}

#[async_trait::async_trait]
impl crate::ChangeListener for PgChanges {
    async fn next(&mut self) -> crate::Result<crate::Change> {
        loop {
            let received = tokio::time::timeout(HEARTBEAT_SILENCE, self.listener.try_recv())
                .await
                .map_err(|_| lost("no heartbeat on the listening connection"))?
                .map_err(map_err)?
                .ok_or_else(|| lost("the listening connection was lost"))?;
            match received.channel() {
                SESSION_ENDED => {
                    return Ok(crate::Change::SessionEnded(received.payload().to_owned()));
                }
                KEYS_CHANGED => return Ok(crate::Change::KeysChanged),
                _ => {} // the heartbeat: alive
            }
        }
    }
}
