//! Sign-in sessions (`sessions`).

use crate::{Session, User};

/// A session joined with its user. Sessions and users share column names (`id`,
/// `created_at`, `updated_at`), so the session's columns come `s_`-prefixed and are named
/// here; the user's are read by `User`'s own `FromRow`.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionWithUser {
    s_id: String,
    s_user_id: String,
    s_expires_at: i64,
    s_created_at: i64,
    s_updated_at: i64,
    s_ip_address: String,
    s_user_agent: String,
    s_remember: bool,
    s_amr: String,
    s_auth_time: i64,
    #[sqlx(flatten)]
    user: User,
}

impl From<SessionWithUser> for (Session, User) {
    fn from(r: SessionWithUser) -> Self {
        let session = Session {
            id: r.s_id,
            user_id: r.s_user_id,
            expires_at: r.s_expires_at,
            created_at: r.s_created_at,
            updated_at: r.s_updated_at,
            ip_address: r.s_ip_address,
            user_agent: r.s_user_agent,
            remember: r.s_remember,
            amr: r.s_amr,
            auth_time: r.s_auth_time,
        };
        (session, r.user)
    }
}

/// A row of [`BY_DIGEST`] or [`BY_ID`] on the direct read path
/// (`crate::sql::DirectReads`): the session's ten columns, then the user's.
pub(crate) fn session_with_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Session, User)> {
    let session = Session {
        id: r.get(0)?,
        user_id: r.get(1)?,
        expires_at: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        ip_address: r.get(5)?,
        user_agent: r.get(6)?,
        remember: r.get(7)?,
        amr: r.get(8)?,
        auth_time: r.get(9)?,
    };
    Ok((session, crate::sql::users::user_at(r, 10)?))
}

/// `SELECT … FROM sessions s JOIN users u` in the shape of [`SessionWithUser`]; callers
/// append the `WHERE` clause.
macro_rules! select_session_with_user {
    () => {
        "SELECT s.id AS s_id, s.user_id AS s_user_id, s.expires_at AS s_expires_at, \
         s.created_at AS s_created_at, s.updated_at AS s_updated_at, s.ip_address AS s_ip_address, \
         s.user_agent AS s_user_agent, s.remember AS s_remember, \
         s.amr AS s_amr, COALESCE(s.auth_time, s.created_at) AS s_auth_time, \
         u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at, u.disabled_at, \
         u.two_factor_enabled \
         FROM sessions s JOIN users u ON u.id = s.user_id "
    };
}
pub(crate) use select_session_with_user;

pub(crate) const INSERT: &str = "INSERT INTO sessions (id, user_id, token_digest, expires_at, created_at, updated_at, ip_address, user_agent, remember, amr, auth_time) \
     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10)";

pub(crate) const BY_DIGEST: &str = concat!(
    select_session_with_user!(),
    "WHERE s.token_digest = $1 AND s.revoked_at IS NULL"
);

pub(crate) const BY_ID: &str = concat!(select_session_with_user!(), "WHERE s.id = $1");

pub(crate) const EXTEND: &str =
    "UPDATE sessions SET expires_at = $1, updated_at = $2 WHERE id = $3 AND revoked_at IS NULL";

pub(crate) const STEP_UP: &str = "UPDATE sessions SET amr = $1, auth_time = $2, updated_at = $2 \
     WHERE id = $3 AND revoked_at IS NULL";

pub(crate) const REVOKE: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";

pub(crate) const REVOKE_OF_USER_EXCEPT: &str = "UPDATE sessions SET revoked_at = $1 \
     WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3 RETURNING id";

pub(crate) const REVOKE_ALL: &str = "UPDATE sessions SET revoked_at = $1 WHERE revoked_at IS NULL";

pub(crate) const LIST_OF_USER: &str = "SELECT id, user_id, expires_at, created_at, updated_at, ip_address, user_agent, remember, \
     amr, COALESCE(auth_time, created_at) AS auth_time \
     FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
     ORDER BY created_at DESC, id";

pub(crate) const COUNT_ACTIVE: &str =
    "SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1";

pub(crate) const PURGE: &str = "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1";

pub(crate) const REVOKED_SINCE: &str =
    "SELECT id, revoked_at FROM sessions WHERE revoked_at >= $1 ORDER BY revoked_at";

pub(crate) const REVOKED_AFTER: &str = "SELECT id, revoked_at FROM sessions \
     WHERE revoked_at > $1 OR (revoked_at = $1 AND id > $2) \
     ORDER BY revoked_at, id LIMIT $3";

/// Implements [`crate::SessionStore`] (see the module docs of `sql` for what it expects).
macro_rules! impl_session_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::SessionStore for $store {
            async fn create_session(
                &self,
                s: &$crate::NewSession,
            ) -> $crate::Result<$crate::Session> {
                sqlx::query($crate::sql::sessions::INSERT)
                    .bind(&s.id)
                    .bind(&s.user_id)
                    .bind(&s.token_digest)
                    .bind(s.expires_at)
                    .bind(s.now_ms)
                    .bind(&s.ip_address)
                    .bind(&s.user_agent)
                    .bind(s.remember)
                    .bind(&s.amr)
                    .bind(s.auth_time)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok($crate::Session {
                    id: s.id.clone(),
                    user_id: s.user_id.clone(),
                    expires_at: s.expires_at,
                    created_at: s.now_ms,
                    updated_at: s.now_ms,
                    ip_address: s.ip_address.clone(),
                    user_agent: s.user_agent.clone(),
                    remember: s.remember,
                    amr: s.amr.clone(),
                    auth_time: s.auth_time,
                })
            }

            async fn session_by_digest(
                &self,
                token_digest: &str,
            ) -> $crate::Result<Option<($crate::Session, $crate::User)>> {
                use $crate::sql::DirectReads as _;
                if let Some(row) = self.read_first(
                    $crate::sql::sessions::BY_DIGEST,
                    &[&token_digest],
                    $crate::sql::sessions::session_with_user,
                ) {
                    return Ok(row);
                }
                let row: Option<$crate::sql::sessions::SessionWithUser> =
                    sqlx::query_as($crate::sql::sessions::BY_DIGEST)
                        .bind(token_digest)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(row.map(Into::into))
            }

            async fn session_by_id(
                &self,
                session_id: &str,
            ) -> $crate::Result<Option<($crate::Session, $crate::User)>> {
                use $crate::sql::DirectReads as _;
                if let Some(row) = self.read_first(
                    $crate::sql::sessions::BY_ID,
                    &[&session_id],
                    $crate::sql::sessions::session_with_user,
                ) {
                    return Ok(row);
                }
                let row: Option<$crate::sql::sessions::SessionWithUser> =
                    sqlx::query_as($crate::sql::sessions::BY_ID)
                        .bind(session_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(row.map(Into::into))
            }

            async fn extend_session(
                &self,
                session_id: &str,
                expires_at_ms: i64,
                now_ms: i64,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::sessions::EXTEND)
                    .bind(expires_at_ms)
                    .bind(now_ms)
                    .bind(session_id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn step_up_session(
                &self,
                session_id: &str,
                amr: &str,
                auth_time_ms: i64,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::sessions::STEP_UP)
                    .bind(amr)
                    .bind(auth_time_ms)
                    .bind(session_id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_session(&self, session_id: &str, now_ms: i64) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::sessions::REVOKE)
                    .bind(now_ms)
                    .bind(session_id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_user_sessions(
                &self,
                user_id: $crate::UserId<'_>,
                keep: Option<$crate::SessionId<'_>>,
                now_ms: i64,
            ) -> $crate::Result<Vec<String>> {
                let ids: Vec<(String,)> =
                    sqlx::query_as($crate::sql::sessions::REVOKE_OF_USER_EXCEPT)
                        .bind(now_ms)
                        .bind(user_id.as_str())
                        .bind(keep.map_or("", |k| k.as_str()))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(ids.into_iter().map(|(id,)| id).collect())
            }

            async fn revoke_all_sessions(&self, now_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::sessions::REVOKE_ALL)
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn list_sessions(
                &self,
                user_id: &str,
                now_ms: i64,
            ) -> $crate::Result<Vec<$crate::Session>> {
                sqlx::query_as($crate::sql::sessions::LIST_OF_USER)
                    .bind(user_id)
                    .bind(now_ms)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn count_active_sessions(&self, now_ms: i64) -> $crate::Result<i64> {
                let (n,): (i64,) = sqlx::query_as($crate::sql::sessions::COUNT_ACTIVE)
                    .bind(now_ms)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(n)
            }

            async fn purge_sessions(&self, before_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::sessions::PURGE)
                    .bind(before_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn revoked_sessions_since(
                &self,
                since_ms: i64,
            ) -> $crate::Result<Vec<(String, i64)>> {
                sqlx::query_as($crate::sql::sessions::REVOKED_SINCE)
                    .bind(since_ms)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn revoked_sessions_after(
                &self,
                after_ms: i64,
                after_id: &str,
                limit: u32,
            ) -> $crate::Result<Vec<(String, i64)>> {
                sqlx::query_as($crate::sql::sessions::REVOKED_AFTER)
                    .bind(after_ms)
                    .bind(after_id)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }
        }
    };
}
pub(crate) use impl_session_store;
