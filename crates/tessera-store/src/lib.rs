//! Storage behind one trait. The server holds an `Arc<dyn Store>` and never sees SQL.
//!
//! Each backend has its own migrations (`migrations/sqlite`, `migrations/postgres`, same
//! version numbers) and its own adapter module. The conformance tests in `tests/` run the
//! same scenarios against every backend available on the machine.

mod import;
mod models;
pub mod postgres;
mod sql;
pub mod sqlite;

pub use import::{
    CredentialImport, ImportCredential, ImportSession, ImportUser, ImportedUser, SessionImport,
    UserImport,
};
pub use models::*;

use async_trait::async_trait;

/// Storage failures, as the server needs to tell them apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write (e.g. `users_email_key`); the argument names it.
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The database could not be reached in time (pool timeout, connection refused, busy).
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a bug or a broken database.
    #[error("database error")]
    Other(#[source] sqlx::Error),
}

/// `Result` with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything Tessera persists. Implementations must be safe under concurrent use from many
/// requests and, for shared databases, from several processes.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> Result<()>;

    /// Closes the pool once connections in use are returned (at shutdown).
    async fn close(&self);

    /// Connections the pool holds, and how many of them are idle (for metrics).
    fn pool_stats(&self) -> (u32, u32);

    /// Live, unexpired sessions (for metrics).
    async fn count_active_sessions(&self, now_ms: i64) -> Result<i64>;

    // ---- users and credentials ----

    /// Creates a user and its credential account in one transaction. A taken email gives
    /// `Conflict("users_email_key")` and writes nothing.
    async fn create_user(&self, user: &NewUser, password_hash: &str) -> Result<User>;

    /// The user with this (normalised) email and their password hash, if any.
    async fn user_with_password_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(User, Option<String>)>>;

    /// The user with this id and their password hash, if any.
    async fn user_with_password_by_id(
        &self,
        user_id: &str,
    ) -> Result<Option<(User, Option<String>)>>;

    /// Disables (or re-enables) a user. Disabling ends every live session in the same
    /// transaction; returns the ids of the sessions it ended. `Ok(None)` when there is no
    /// such user.
    async fn set_user_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        now_ms: i64,
    ) -> Result<Option<Vec<String>>>;

    /// Deletes a user with their credentials and tasks; their sessions are marked revoked
    /// (not deleted, so revocation feeds keep listing them until their tokens expire).
    /// Returns the ended session ids, or `None` when there is no such user.
    async fn delete_user(&self, user_id: &str, now_ms: i64) -> Result<Option<Vec<String>>>;

    /// Users, oldest first, for the admin CLI.
    async fn list_users(&self, limit: u32, offset: u32) -> Result<Vec<User>>;

    /// Replaces the credential hash (password change, or rehash after sign-in).
    async fn set_password_hash(&self, user_id: &str, hash: &str, now_ms: i64) -> Result<()>;

    // ---- sessions ----

    /// Stores a new session (by token digest).
    async fn create_session(&self, session: &NewSession) -> Result<Session>;

    /// The live (not revoked) session with this token digest, with its user. Expiry is the
    /// caller's business: it may want to clean the row up.
    async fn session_by_digest(&self, token_digest: &str) -> Result<Option<(Session, User)>>;

    /// Slides a session's expiry. Returns false when the session is gone or revoked.
    async fn extend_session(
        &self,
        session_id: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<bool>;

    /// Ends one session. Returns false if it was not live.
    async fn revoke_session(&self, session_id: &str, now_ms: i64) -> Result<bool>;

    /// Ends every live session of a user except `keep`; returns the ids it ended.
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<String>>;

    /// Ends every live session of every user; returns how many.
    async fn revoke_all_sessions(&self, now_ms: i64) -> Result<u64>;

    /// The user's live, unexpired sessions, newest first.
    async fn list_sessions(&self, user_id: &str, now_ms: i64) -> Result<Vec<Session>>;

    /// Deletes rows of sessions that expired or were revoked before `before_ms`.
    async fn purge_sessions(&self, before_ms: i64) -> Result<u64>;

    /// Sessions revoked at or after `since_ms` (id, revoked_at), for revocation feeds.
    async fn revoked_sessions_since(&self, since_ms: i64) -> Result<Vec<(String, i64)>>;

    /// Up to `limit` sessions revoked after the position (`after_ms`, `after_id`), in
    /// (revoked_at, id) order: one page of the revocation feed.
    async fn revoked_sessions_after(
        &self,
        after_ms: i64,
        after_id: &str,
        limit: u32,
    ) -> Result<Vec<(String, i64)>>;

    /// The session with this id, live or not, with its user.
    async fn session_by_id(&self, session_id: &str) -> Result<Option<(Session, User)>>;

    // ---- refresh credentials ----

    /// Stores a session's first refresh credential.
    async fn create_refresh_token(&self, token: &NewRefreshToken) -> Result<()>;

    /// The live session a refresh credential (by digest) belongs to, for sign-out.
    async fn session_id_by_refresh_digest(&self, token_digest: &str) -> Result<Option<String>>;

    /// Presents a refresh credential (by digest) and, in one transaction, rotates it to
    /// `successor`, recognises a replay inside the grace window, or detects reuse and
    /// revokes the session. Concurrent calls with the same credential are serialised: at
    /// most one successor ever exists.
    async fn rotate_refresh_token(
        &self,
        token_digest: &str,
        successor: &NewRefreshToken,
        policy: RefreshPolicy,
    ) -> Result<RefreshOutcome>;

    // ---- signing keys ----

    /// All signing keys, oldest generation first.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>>;

    /// Inserts a key with the given generation. Another writer that got the generation first
    /// makes this return `Conflict("signing_keys_generation_key")`, and the caller reloads.
    /// Marks every older live key retired at `key.created_at`.
    async fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<()>;

    // ---- tasks ----

    /// A page of the user's tasks, oldest first.
    async fn list_tasks(&self, user_id: &str, limit: u32, offset: u32) -> Result<Vec<TaskRow>>;
    /// Stores a new task.
    async fn create_task(&self, task: &TaskRow) -> Result<()>;
    /// One task of this user.
    async fn get_task(&self, user_id: &str, task_id: &str) -> Result<Option<TaskRow>>;
    /// Applies a change to one task of this user; `None` when there is no such task.
    async fn update_task(
        &self,
        user_id: &str,
        task_id: &str,
        change: &TaskChange,
        now_ms: i64,
    ) -> Result<Option<TaskRow>>;
    /// Deletes one task of this user; false when there was none.
    async fn delete_task(&self, user_id: &str, task_id: &str) -> Result<bool>;

    // ---- import ----

    /// Imports users with their credentials and sessions in one write transaction (rules in
    /// the `import` module: nothing Tessera holds is overwritten, re-running is harmless).
    /// Returns one outcome per user, in order. With `dry_run` the transaction is rolled back,
    /// so the outcomes say what an import would do. An error leaves the database unchanged.
    async fn import_users(&self, users: &[ImportUser], dry_run: bool) -> Result<Vec<ImportedUser>>;
}
