//! Storage behind traits. The server holds an `Arc<dyn Store>` (or a narrower handle such as
//! `Arc<dyn TaskStore>`) and never sees SQL.
//!
//! * [`connect`] opens the backend a database URL names and runs its migrations.
//! * The port (`port.rs`): one trait per aggregate ([`UserStore`], [`SessionStore`],
//!   [`RefreshStore`], [`KeyStore`], [`TaskStore`], [`ImportStore`], [`EmailTokenStore`],
//!   [`OutboxStore`], [`LimitStore`] for rate-limit buckets shared by several instances,
//!   [`ChangeFeed`] for changes pushed to them, and [`Database`] for the pool itself);
//!   [`Store`] is their union.
//! * The SQL (`sql/`), one file per aggregate, one SQL text per query for both backends; the
//!   adapters (`sqlite.rs`, `postgres.rs`) say how to connect, begin a write transaction and
//!   read an error. On SQLite the hot short reads (a session with its user, a user, tasks)
//!   skip sqlx's worker thread: read-only `rusqlite` connections run the same SQL text on
//!   the calling thread (`sqlite/read.rs`).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tessera_store::{PoolOptions, Store, TaskStore, UserId};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let options = PoolOptions { max_connections: 1, timeout: Duration::from_secs(5) };
//! let store: Arc<dyn Store> = tessera_store::connect("sqlite::memory:", options).await?;
//! // What the tasks API is given: a handle that reaches tasks and nothing else.
//! let tasks: Arc<dyn TaskStore> = store.clone();
//! assert!(tasks.list_tasks(UserId("nobody"), 10, 0).await?.is_empty());
//! # Ok(()) })
//! # }
//! ```
//!
//! Each backend has its own migrations (`migrations/sqlite`, `migrations/postgres`, same
//! version numbers). The conformance tests in `tests/` run the same scenarios against every
//! backend available on the machine.

mod ids;
mod import;
mod models;
mod port;
pub mod postgres;
mod sql;
pub mod sqlite;

pub use ids::{SessionId, TaskId, UserId};
pub use import::{
    CredentialImport, IdentityImport, ImportCredential, ImportIdentity, ImportSession,
    ImportTwoFactor, ImportUser, ImportedUser, SessionImport, TwoFactorImport, UserImport,
};
pub use models::*;
pub use port::{
    Change, ChangeFeed, ChangeListener, Database, EmailTokenStore, IdentityStore, ImportStore,
    KeyStore, LimitStore, OutboxStore, PasskeyStore, RefreshStore, SessionStore, Store, TaskStore,
    TwoFactorStore, UserStore,
};

use std::sync::Arc;
use std::time::Duration;

/// Storage failures, as the server needs to tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (e.g. `users_email_key`); the argument names it.
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The database could not be reached in time (pool timeout, connection refused, busy).
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// [`connect`] was given a URL of no supported backend; the argument is its scheme
    /// (never the whole URL, which may hold a password).
    #[error("unsupported database URL scheme {0:?}: use sqlite://path or postgres://user@host/db")]
    UnsupportedUrl(String),
    /// Anything else: a bug or a broken database.
    #[error("database error")]
    Other(#[source] sqlx::Error),
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How [`connect`] sizes the pool and bounds waiting, for whichever backend the URL names.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Pool size (SQLite in memory always uses one connection).
    pub max_connections: u32,
    /// How long a request waits for a connection (and, on PostgreSQL, a statement may run;
    /// on SQLite, a writer waits for the lock) before the store reports `Unavailable`.
    pub timeout: Duration,
}

/// Opens the store a database URL names — `sqlite://path`, `sqlite::memory:`,
/// `postgres://…` or `postgresql://…` — creating a SQLite file if missing, and runs pending
/// migrations.
pub async fn connect(url: &str, options: PoolOptions) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let store = sqlite::SqliteStore::connect(&sqlite::SqliteSettings {
            url: url.to_owned(),
            max_connections: options.max_connections,
            acquire_timeout: options.timeout,
        })
        .await?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PostgresStore::connect(&postgres::PostgresSettings {
            url: url.to_owned(),
            max_connections: options.max_connections,
            acquire_timeout: options.timeout,
            statement_timeout: options.timeout,
        })
        .await?;
        Ok(Arc::new(store))
    } else {
        let scheme = url
            .split_once(':')
            .map(|(scheme, _)| scheme)
            .filter(|s| {
                s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
            })
            .unwrap_or_default();
        Err(StoreError::UnsupportedUrl(scheme.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: PoolOptions = PoolOptions {
        max_connections: 2,
        timeout: Duration::from_secs(5),
    };

    #[tokio::test]
    async fn connect_chooses_the_backend_by_scheme() {
        let store = connect("sqlite::memory:", OPTIONS)
            .await
            .map_err(|e| e.to_string());
        assert!(store.is_ok(), "{store:?}");
    }

    #[tokio::test]
    async fn an_unsupported_url_names_its_scheme_and_never_its_password() {
        let err = connect("mysql://app:hunter2@db/tessera", OPTIONS)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("\"mysql\""), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
        let err = connect("hunter2@db", OPTIONS)
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unsupported"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
}
