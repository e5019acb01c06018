//! The SQLite adapter: one file, WAL journal, full fsync on commit, a busy timeout, and
//! `BEGIN IMMEDIATE` for write transactions so two writers never deadlock on lock upgrade.
//! Writers of this process take turns on an async mutex before `BEGIN IMMEDIATE`: SQLite
//! admits one writer at a time anyway, and one left waiting on the file lock polls it with
//! sleeps of up to 100 ms (SQLite's busy handler), which made the slowest refreshes under
//! load take most of a second. Waiting in line costs nothing.

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use crate::StoreError;
use crate::sql::impl_store;

/// Connection settings for SQLite.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    /// `sqlite://path` or `sqlite::memory:`.
    pub url: String,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a connection (and SQLite for a lock) before 503.
    pub acquire_timeout: Duration,
}

/// A SQLite-backed [`crate::Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// This process's writers take turns here (see the module docs).
    writer: Arc<tokio::sync::Mutex<()>>,
    acquire_timeout: Duration,
}

/// A write transaction holding this process's writer turn until it ends.
pub(crate) struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl WriteTx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database and runs pending migrations.
    pub async fn connect(settings: &SqliteSettings) -> Result<Self, StoreError> {
        let in_memory = settings.url.contains(":memory:");
        let options = SqliteConnectOptions::from_str(&settings.url)
            .map_err(StoreError::Other)?
            .create_if_missing(true)
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(settings.acquire_timeout)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists per connection: keep exactly one.
            .max_connections(if in_memory {
                1
            } else {
                settings.max_connections.max(1)
            })
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        sqlx::migrate!("../../migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(sqlx::Error::Migrate(Box::new(e))))?;
        Ok(Self {
            pool,
            writer: Arc::default(),
            acquire_timeout: settings.acquire_timeout,
        })
    }

    async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let turn = tokio::time::timeout(self.acquire_timeout, self.writer.clone().lock_owned())
            .await
            .map_err(|_| map_err(sqlx::Error::PoolTimedOut))?;
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        Ok(WriteTx { tx, _turn: turn })
    }
}

/// Maps sqlx errors: unique violations name their index; busy/locked and pool timeouts mean
/// "unavailable" (the caller answers 503, never 500).
fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let msg = db.message();
            if msg.contains("users.email") {
                StoreError::Conflict("users_email_key")
            } else if msg.contains("signing_keys.generation") {
                StoreError::Conflict("signing_keys_generation_key")
            } else {
                StoreError::Conflict("unique")
            }
        }
        sqlx::Error::Database(db)
            if matches!(db.code().as_deref(), Some("5" | "6" | "261" | "517" | "13")) =>
        {
            // SQLITE_BUSY, SQLITE_LOCKED and their extended forms, SQLITE_FULL
            StoreError::Unavailable(e)
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(e)
        }
        _ => StoreError::Other(e),
    }
}

impl_store!(SqliteStore, "", "");
