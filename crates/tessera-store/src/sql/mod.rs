//! The SQL both adapters share, one file per aggregate. Queries use `$N` placeholders,
//! `RETURNING` and partial updates that SQLite and PostgreSQL both understand, so each
//! statement is written once; each file holds a macro that implements its aggregate's trait
//! for an adapter type, and [`impl_store!`] instantiates them all. What differs per backend
//! (connecting, how a write transaction starts, which error means "unique violation") stays
//! in the adapter modules.
//!
//! The macros expect, in the adapter module: `self.pool` (the sqlx pool),
//! `self.begin_write()` (a write transaction), `fn map_err(sqlx::Error) -> StoreError`, and
//! an impl of [`DirectReads`] (empty on PostgreSQL).

pub(crate) mod email;
pub(crate) mod identities;
pub(crate) mod import;
pub(crate) mod keys;
pub(crate) mod limits;
pub(crate) mod passkeys;
pub(crate) mod refresh;
pub(crate) mod sessions;
pub(crate) mod tasks;
pub(crate) mod two_factor;
pub(crate) mod users;

/// The hot short reads' path around the sqlx pool: SQLite answers them on read-only
/// `rusqlite` connections on the calling thread (`sqlite::read`), with the same SQL text and
/// a row decoder next to it (`task_row`, `session_with_user`, `user_with_hash`). `None`
/// means "answer through the pool", which is all PostgreSQL ever says.
pub(crate) trait DirectReads {
    /// Every row of `sql`, or `None`.
    fn read_all<T>(
        &self,
        _sql: &'static str,
        _params: &[&dyn rusqlite::ToSql],
        _map: RowMap<T>,
    ) -> Option<Vec<T>> {
        None
    }

    /// The first row of `sql` (`Some(None)`: no row), or `None`.
    fn read_first<T>(
        &self,
        _sql: &'static str,
        _params: &[&dyn rusqlite::ToSql],
        _map: RowMap<T>,
    ) -> Option<Option<T>> {
        None
    }
}

/// How a row of a direct read becomes a value.
pub(crate) type RowMap<T> = fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>;

/// Implements every aggregate trait (and so [`crate::Store`]) for an adapter type. `$lock`
/// is appended to the SELECT that reads a refresh credential inside the rotation transaction
/// (`" FOR UPDATE"` on PostgreSQL; empty on SQLite, where `BEGIN IMMEDIATE` already
/// serialises writers). `$skip_locked` ends the outbox's claiming sub-select (see `email`).
/// `$max` is the backend's two-argument maximum (`"GREATEST"` or `"MAX"`) for the
/// rate-limit buckets.
macro_rules! impl_store {
    ($store:ty, $lock:expr, $skip_locked:expr, $max:literal) => {
        #[async_trait::async_trait]
        impl $crate::Database for $store {
            async fn ping(&self) -> $crate::Result<()> {
                sqlx::query("SELECT 1")
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            fn pool_stats(&self) -> (u32, u32) {
                (
                    self.pool.size(),
                    u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
                )
            }
        }

        $crate::sql::users::impl_user_store!($store);
        $crate::sql::sessions::impl_session_store!($store);
        $crate::sql::refresh::impl_refresh_store!($store, $lock);
        $crate::sql::keys::impl_key_store!($store);
        $crate::sql::tasks::impl_task_store!($store);
        $crate::sql::import::impl_import_store!($store);
        $crate::sql::two_factor::impl_two_factor_store!($store);
        $crate::sql::email::impl_email_store!($store, $skip_locked);
        $crate::sql::identities::impl_identity_store!($store, $lock);
        $crate::sql::limits::impl_limit_store!($store, $max);
        $crate::sql::passkeys::impl_passkey_store!($store);
    };
}
pub(crate) use impl_store;
