//! The SQLite adapter: one file, WAL journal, full fsync on commit, a busy timeout, and
//! `BEGIN IMMEDIATE` for write transactions so two writers never deadlock on lock upgrade.
//! Writers of this process take turns on an async mutex before `BEGIN IMMEDIATE`: SQLite
//! admits one writer at a time anyway, and one left waiting on the file lock polls it with
//! sleeps of up to 100 ms (SQLite's busy handler), which made the slowest refreshes under
//! load take most of a second. Waiting in line costs nothing.
//!
//! Refresh rotations are committed in groups: each costs one fsync of the WAL under
//! `synchronous=FULL`, and one at a time that fsync was the whole cost of a rotation. A
//! single task takes every rotation waiting in line, runs each inside its own savepoint of
//! one write transaction, commits once, and only then answers each caller; durability is
//! exactly that of one transaction per rotation (nothing is acknowledged before its commit),
//! while the fsync is shared by everyone who arrived while the previous group was committing.
//! At low load a group is one rotation and nothing waits for company.
//!
//! The hot short reads (a session with its user, a user by id, tasks) do not go through the
//! sqlx pool at all: they run on read-only `rusqlite` connections on the calling thread,
//! with the same SQL text, and step aside to the pool whenever they would wait (see
//! [`read`]). Everything else, and every write, takes the pool.

mod read;

use std::ops::{Deref, DerefMut};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use tokio::sync::{mpsc, oneshot};

use crate::StoreError;
use crate::sql::impl_store;

/// The connection the shared SQL runs on inside a transaction.
type Conn = SqliteConnection;

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
    /// Read-only connections for the hot short reads (`None` in memory: see [`read`]).
    readers: Option<Arc<read::Readers>>,
    /// Where rotations wait for the group-commit task (`None` in that task's own copy, so
    /// the task ends when the last store handle is dropped).
    rotations: Option<mpsc::Sender<Rotation>>,
}

/// Rotations committed together at most (a bound on one transaction's size).
const MAX_GROUP: usize = 64;

/// A rotation waiting for its group's commit.
#[derive(Debug)]
struct Rotation {
    token_digest: String,
    successor: crate::NewRefreshToken,
    policy: crate::RefreshPolicy,
    answer: oneshot::Sender<Result<crate::RefreshOutcome, StoreError>>,
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
        let in_memory = settings.url.contains(":memory:") || settings.url.contains("mode=memory");
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
        let readers = (!in_memory).then(|| {
            let max = usize::try_from(settings.max_connections).unwrap_or(usize::MAX);
            Arc::new(read::Readers::new(options.get_filename(), max))
        });
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
        let store = Self {
            pool,
            readers,
            writer: Arc::default(),
            acquire_timeout: settings.acquire_timeout,
            rotations: None,
        };
        let (rotations, waiting) = mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(store.clone().commit_groups(waiting));
        Ok(Self {
            rotations: Some(rotations),
            ..store
        })
    }

    /// A rotation: handed to the group-commit task, answered after its group's commit.
    async fn rotate(
        &self,
        token_digest: &str,
        successor: &crate::NewRefreshToken,
        policy: crate::RefreshPolicy,
    ) -> Result<crate::RefreshOutcome, StoreError> {
        let Some(rotations) = &self.rotations else {
            return self.rotate_alone(token_digest, successor, policy).await;
        };
        let (answer, answered) = oneshot::channel();
        let rotation = Rotation {
            token_digest: token_digest.to_owned(),
            successor: successor.clone(),
            policy,
            answer,
        };
        if rotations.send(rotation).await.is_err() {
            return Err(map_err(sqlx::Error::PoolClosed));
        }
        answered
            .await
            .unwrap_or_else(|_| Err(map_err(sqlx::Error::PoolClosed)))
    }

    /// One rotation in a transaction of its own.
    async fn rotate_alone(
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

    /// The group-commit task: everything waiting becomes one transaction.
    async fn commit_groups(self, mut waiting: mpsc::Receiver<Rotation>) {
        let mut group = Vec::with_capacity(MAX_GROUP);
        while waiting.recv_many(&mut group, MAX_GROUP).await > 0 {
            match self.commit_group(&group).await {
                Ok(outcomes) => {
                    for (rotation, outcome) in group.drain(..).zip(outcomes) {
                        // A caller that went away still had its rotation committed, as
                        // when a client disconnects after a commit.
                        let _ = rotation.answer.send(outcome);
                    }
                }
                // The transaction itself failed (begin, a savepoint, the commit): nothing
                // of it is durable, so each rotation is tried again on its own and gets its
                // own answer.
                Err(_) => {
                    for rotation in group.drain(..) {
                        let outcome = self
                            .rotate_alone(
                                &rotation.token_digest,
                                &rotation.successor,
                                rotation.policy,
                            )
                            .await;
                        let _ = rotation.answer.send(outcome);
                    }
                }
            }
        }
    }

    /// Runs a group in one write transaction, each rotation in its own savepoint (one
    /// that fails is undone alone and answered with its error), and commits once.
    async fn commit_group(
        &self,
        group: &[Rotation],
    ) -> Result<Vec<Result<crate::RefreshOutcome, StoreError>>, StoreError> {
        let mut tx = self.begin_write().await?;
        if let [r] = group {
            // Alone: no savepoint needed; a failure rolls the transaction back.
            let outcome = Self::rotate_on(&mut tx, &r.token_digest, &r.successor, r.policy).await;
            if outcome.is_ok() {
                tx.commit().await.map_err(map_err)?;
            }
            return Ok(vec![outcome]);
        }
        let mut outcomes = Vec::with_capacity(group.len());
        for r in group {
            savepoint(&mut tx, "SAVEPOINT rotation").await?;
            let outcome = Self::rotate_on(&mut tx, &r.token_digest, &r.successor, r.policy).await;
            if outcome.is_err() {
                savepoint(&mut tx, "ROLLBACK TO rotation").await?;
            }
            savepoint(&mut tx, "RELEASE rotation").await?;
            outcomes.push(outcome);
        }
        tx.commit().await.map_err(map_err)?;
        Ok(outcomes)
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

async fn savepoint(conn: &mut Conn, statement: &'static str) -> Result<(), StoreError> {
    sqlx::query(statement)
        .execute(conn)
        .await
        .map(drop)
        .map_err(map_err)
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

impl crate::sql::DirectReads for SqliteStore {
    fn read_all<T>(
        &self,
        sql: &'static str,
        params: &[&dyn rusqlite::ToSql],
        map: crate::sql::RowMap<T>,
    ) -> Option<Vec<T>> {
        self.readers.as_deref()?.all(sql, params, map)
    }

    fn read_first<T>(
        &self,
        sql: &'static str,
        params: &[&dyn rusqlite::ToSql],
        map: crate::sql::RowMap<T>,
    ) -> Option<Option<T>> {
        self.readers.as_deref()?.first(sql, params, map)
    }
}

impl_store!(SqliteStore, "", "", "MAX");

/// One process owns a SQLite file: there is no one else whose changes to hear.
#[async_trait::async_trait]
impl crate::ChangeFeed for SqliteStore {
    async fn listen(&self) -> crate::Result<Option<Box<dyn crate::ChangeListener>>> {
        Ok(None)
    }
}
