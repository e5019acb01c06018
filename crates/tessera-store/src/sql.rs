//! The SQL both adapters share. Queries use `$N` placeholders, `RETURNING` and partial
//! updates that SQLite and PostgreSQL both understand, so the statements are written once
//! and instantiated per backend by [`impl_store!`]. What differs per backend (connecting,
//! how a write transaction starts, which error means "unique violation") stays in the
//! adapter modules.

use crate::{Session, SigningKeyRow, TaskRow, User};

#[derive(sqlx::FromRow)]
pub(crate) struct UserRec {
    id: String,
    name: String,
    email: String,
    email_verified: bool,
    image: Option<String>,
    created_at: i64,
    updated_at: i64,
    disabled_at: Option<i64>,
}

impl From<UserRec> for User {
    fn from(r: UserRec) -> Self {
        User {
            id: r.id,
            name: r.name,
            email: r.email,
            email_verified: r.email_verified,
            image: r.image,
            created_at: r.created_at,
            updated_at: r.updated_at,
            disabled_at: r.disabled_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserWithHashRec {
    #[sqlx(flatten)]
    user: UserRec,
    password_hash: Option<String>,
}

impl From<UserWithHashRec> for (User, Option<String>) {
    fn from(r: UserWithHashRec) -> Self {
        (r.user.into(), r.password_hash)
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRec {
    id: String,
    user_id: String,
    expires_at: i64,
    created_at: i64,
    updated_at: i64,
    ip_address: String,
    user_agent: String,
    remember: bool,
}

impl From<SessionRec> for Session {
    fn from(r: SessionRec) -> Self {
        Session {
            id: r.id,
            user_id: r.user_id,
            expires_at: r.expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            ip_address: r.ip_address,
            user_agent: r.user_agent,
            remember: r.remember,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionUserRec {
    s_id: String,
    s_user_id: String,
    s_expires_at: i64,
    s_created_at: i64,
    s_updated_at: i64,
    s_ip_address: String,
    s_user_agent: String,
    s_remember: bool,
    #[sqlx(flatten)]
    user: UserRec,
}

impl From<SessionUserRec> for (Session, User) {
    fn from(r: SessionUserRec) -> Self {
        (
            Session {
                id: r.s_id,
                user_id: r.s_user_id,
                expires_at: r.s_expires_at,
                created_at: r.s_created_at,
                updated_at: r.s_updated_at,
                ip_address: r.s_ip_address,
                user_agent: r.s_user_agent,
                remember: r.s_remember,
            },
            r.user.into(),
        )
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct KeyRec {
    kid: String,
    generation: i64,
    alg: String,
    public_jwk: String,
    private_key: String,
    created_at: i64,
    retired_at: Option<i64>,
}

impl From<KeyRec> for SigningKeyRow {
    fn from(r: KeyRec) -> Self {
        SigningKeyRow {
            kid: r.kid,
            generation: r.generation,
            alg: r.alg,
            public_jwk: r.public_jwk,
            private_key: r.private_key,
            created_at: r.created_at,
            retired_at: r.retired_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TaskRec {
    id: String,
    user_id: String,
    title: String,
    description: String,
    completed: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<TaskRec> for TaskRow {
    fn from(r: TaskRec) -> Self {
        TaskRow {
            id: r.id,
            user_id: r.user_id,
            title: r.title,
            description: r.description,
            completed: r.completed,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub(crate) const SELECT_USER_WITH_HASH_BY_EMAIL: &str = "SELECT u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at, u.disabled_at, a.password_hash \
     FROM users u LEFT JOIN accounts a ON a.user_id = u.id AND a.provider_id = 'credential' \
     WHERE u.email = $1";

pub(crate) const SELECT_USER_WITH_HASH_BY_ID: &str = "SELECT u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at, u.disabled_at, a.password_hash \
     FROM users u LEFT JOIN accounts a ON a.user_id = u.id AND a.provider_id = 'credential' \
     WHERE u.id = $1";

pub(crate) const SELECT_SESSION_BY_DIGEST: &str = "SELECT s.id AS s_id, s.user_id AS s_user_id, s.expires_at AS s_expires_at, \
     s.created_at AS s_created_at, s.updated_at AS s_updated_at, s.ip_address AS s_ip_address, \
     s.user_agent AS s_user_agent, s.remember AS s_remember, \
     u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at, u.disabled_at \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.token_digest = $1 AND s.revoked_at IS NULL";

pub(crate) const SESSION_COLS: &str =
    "id, user_id, expires_at, created_at, updated_at, ip_address, user_agent, remember";

#[derive(sqlx::FromRow)]
pub(crate) struct RefreshRec {
    pub(crate) id: String,
    pub(crate) session_id: String,
    pub(crate) rotated_at: Option<i64>,
}

pub(crate) const SELECT_SESSION_BY_ID: &str = "SELECT s.id AS s_id, s.user_id AS s_user_id, s.expires_at AS s_expires_at, \
     s.created_at AS s_created_at, s.updated_at AS s_updated_at, s.ip_address AS s_ip_address, \
     s.user_agent AS s_user_agent, s.remember AS s_remember, \
     u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at, u.disabled_at \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.id = $1";

/// Implements [`crate::Store`] for an adapter type that has `self.pool`, `self.begin_write()`
/// and a `map_err(sqlx::Error) -> StoreError` function in scope. `$lock` is appended to the
/// SELECT that reads a refresh credential inside the rotation transaction (`" FOR UPDATE"`
/// on PostgreSQL; empty on SQLite, where `BEGIN IMMEDIATE` already serialises writers).
macro_rules! impl_store {
    ($store:ty, $db:ty, $lock:expr) => {
        #[async_trait::async_trait]
        impl $crate::Store for $store {
            async fn close(&self) {
                self.pool.close().await;
            }

            fn pool_stats(&self) -> (u32, u32) {
                (self.pool.size(), u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX))
            }

            async fn count_active_sessions(&self, now_ms: i64) -> $crate::Result<i64> {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1")
                        .bind(now_ms)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(n)
            }

            async fn ping(&self) -> $crate::Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await.map_err(map_err)?;
                Ok(())
            }

            async fn create_user(&self, user: &$crate::NewUser, password_hash: &str) -> $crate::Result<$crate::User> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO users (id, name, email, email_verified, image, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6)",
                )
                .bind(&user.id)
                .bind(&user.name)
                .bind(&user.email)
                .bind(false)
                .bind(&user.image)
                .bind(user.now_ms)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                sqlx::query(
                    "INSERT INTO accounts (id, user_id, provider_id, account_id, password_hash, created_at, updated_at) \
                     VALUES ($1, $2, 'credential', $2, $3, $4, $4)",
                )
                .bind(format!("acc_{}", user.id))
                .bind(&user.id)
                .bind(password_hash)
                .bind(user.now_ms)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok($crate::User {
                    id: user.id.clone(),
                    name: user.name.clone(),
                    email: user.email.clone(),
                    email_verified: false,
                    image: user.image.clone(),
                    created_at: user.now_ms,
                    updated_at: user.now_ms,
                    disabled_at: None,
                })
            }

            async fn user_with_password_by_email(&self, email: &str) -> $crate::Result<Option<($crate::User, Option<String>)>> {
                let rec: Option<$crate::sql::UserWithHashRec> =
                    sqlx::query_as($crate::sql::SELECT_USER_WITH_HASH_BY_EMAIL)
                        .bind(email)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(rec.map(Into::into))
            }

            async fn user_with_password_by_id(&self, user_id: &str) -> $crate::Result<Option<($crate::User, Option<String>)>> {
                let rec: Option<$crate::sql::UserWithHashRec> =
                    sqlx::query_as($crate::sql::SELECT_USER_WITH_HASH_BY_ID)
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(rec.map(Into::into))
            }

            async fn set_user_disabled(&self, user_id: &str, disabled: bool, now_ms: i64) -> $crate::Result<Option<Vec<String>>> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3")
                    .bind(disabled.then_some(now_ms))
                    .bind(now_ms)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                let ended: Vec<(String,)> = if disabled {
                    sqlx::query_as("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id")
                        .bind(now_ms)
                        .bind(user_id)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(map_err)?
                } else {
                    Vec::new()
                };
                tx.commit().await.map_err(map_err)?;
                Ok(Some(ended.into_iter().map(|(id,)| id).collect()))
            }

            async fn delete_user(&self, user_id: &str, now_ms: i64) -> $crate::Result<Option<Vec<String>>> {
                let mut tx = self.begin_write().await?;
                let ended: Vec<(String,)> =
                    sqlx::query_as("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id")
                        .bind(now_ms)
                        .bind(user_id)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(map_err)?;
                sqlx::query("DELETE FROM tasks WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let done = sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                tx.commit().await.map_err(map_err)?;
                Ok(Some(ended.into_iter().map(|(id,)| id).collect()))
            }

            async fn list_users(&self, limit: u32, offset: u32) -> $crate::Result<Vec<$crate::User>> {
                let recs: Vec<$crate::sql::UserRec> = sqlx::query_as(
                    "SELECT id, name, email, email_verified, image, created_at, updated_at, disabled_at \
                     FROM users ORDER BY created_at, id LIMIT ($1 + 0) OFFSET ($2 + 0)",
                )
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(recs.into_iter().map(Into::into).collect())
            }

            async fn set_password_hash(&self, user_id: &str, hash: &str, now_ms: i64) -> $crate::Result<()> {
                sqlx::query(
                    "UPDATE accounts SET password_hash = $1, updated_at = $2 \
                     WHERE user_id = $3 AND provider_id = 'credential'",
                )
                .bind(hash)
                .bind(now_ms)
                .bind(user_id)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn create_session(&self, s: &$crate::NewSession) -> $crate::Result<$crate::Session> {
                sqlx::query(
                    "INSERT INTO sessions (id, user_id, token_digest, expires_at, created_at, updated_at, ip_address, user_agent, remember) \
                     VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)",
                )
                .bind(&s.id)
                .bind(&s.user_id)
                .bind(&s.token_digest)
                .bind(s.expires_at)
                .bind(s.now_ms)
                .bind(&s.ip_address)
                .bind(&s.user_agent)
                .bind(s.remember)
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
                })
            }

            async fn session_by_digest(&self, token_digest: &str) -> $crate::Result<Option<($crate::Session, $crate::User)>> {
                let rec: Option<$crate::sql::SessionUserRec> =
                    sqlx::query_as($crate::sql::SELECT_SESSION_BY_DIGEST)
                        .bind(token_digest)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(rec.map(Into::into))
            }

            async fn extend_session(&self, session_id: &str, expires_at_ms: i64, now_ms: i64) -> $crate::Result<bool> {
                let done = sqlx::query(
                    "UPDATE sessions SET expires_at = $1, updated_at = $2 WHERE id = $3 AND revoked_at IS NULL",
                )
                .bind(expires_at_ms)
                .bind(now_ms)
                .bind(session_id)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_session(&self, session_id: &str, now_ms: i64) -> $crate::Result<bool> {
                let done = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                    .bind(now_ms)
                    .bind(session_id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn revoke_user_sessions(&self, user_id: &str, keep: Option<&str>, now_ms: i64) -> $crate::Result<Vec<String>> {
                let ids: Vec<(String,)> = sqlx::query_as(
                    "UPDATE sessions SET revoked_at = $1 \
                     WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3 RETURNING id",
                )
                .bind(now_ms)
                .bind(user_id)
                .bind(keep.unwrap_or(""))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(ids.into_iter().map(|(id,)| id).collect())
            }

            async fn revoke_all_sessions(&self, now_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE revoked_at IS NULL")
                    .bind(now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn list_sessions(&self, user_id: &str, now_ms: i64) -> $crate::Result<Vec<$crate::Session>> {
                let recs: Vec<$crate::sql::SessionRec> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
                     ORDER BY created_at DESC, id",
                    $crate::sql::SESSION_COLS
                )))
                .bind(user_id)
                .bind(now_ms)
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(recs.into_iter().map(Into::into).collect())
            }

            async fn purge_sessions(&self, before_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
                    .bind(before_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn revoked_sessions_since(&self, since_ms: i64) -> $crate::Result<Vec<(String, i64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT id, revoked_at FROM sessions WHERE revoked_at >= $1 ORDER BY revoked_at",
                )
                .bind(since_ms)
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(rows)
            }

            async fn revoked_sessions_after(&self, after_ms: i64, after_id: &str, limit: u32) -> $crate::Result<Vec<(String, i64)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT id, revoked_at FROM sessions \
                     WHERE revoked_at > $1 OR (revoked_at = $1 AND id > $2) \
                     ORDER BY revoked_at, id LIMIT $3",
                )
                .bind(after_ms)
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(rows)
            }

            async fn session_by_id(&self, session_id: &str) -> $crate::Result<Option<($crate::Session, $crate::User)>> {
                let rec: Option<$crate::sql::SessionUserRec> = sqlx::query_as($crate::sql::SELECT_SESSION_BY_ID)
                    .bind(session_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(rec.map(Into::into))
            }

            async fn create_refresh_token(&self, t: &$crate::NewRefreshToken) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO refresh_tokens (id, session_id, token_digest, parent_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&t.id)
                .bind(&t.session_id)
                .bind(&t.token_digest)
                .bind(&t.parent_id)
                .bind(t.now_ms)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn session_id_by_refresh_digest(&self, token_digest: &str) -> $crate::Result<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as(
                    "SELECT r.session_id FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
                     WHERE r.token_digest = $1 AND s.revoked_at IS NULL",
                )
                .bind(token_digest)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(row.map(|(id,)| id))
            }

            async fn rotate_refresh_token(
                &self,
                token_digest: &str,
                successor: &$crate::NewRefreshToken,
                policy: $crate::RefreshPolicy,
            ) -> $crate::Result<$crate::RefreshOutcome> {
                use $crate::RefreshOutcome as O;
                let now = policy.now_ms;
                let mut tx = self.begin_write().await?;
                let rec: Option<$crate::sql::RefreshRec> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT id, session_id, rotated_at FROM refresh_tokens WHERE token_digest = $1{}",
                    $lock
                )))
                .bind(token_digest)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?;
                let Some(rec) = rec else { return Ok(O::Unknown) };
                let found: Option<$crate::sql::SessionUserRec> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "{} AND s.revoked_at IS NULL AND s.expires_at > $2",
                        $crate::sql::SELECT_SESSION_BY_ID
                    )))
                    .bind(&rec.session_id)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let Some(found) = found else { return Ok(O::SessionEnded) };
                let (mut session, user): ($crate::Session, $crate::User) = found.into();
                if user.disabled_at.is_some() {
                    return Ok(O::SessionEnded);
                }
                match rec.rotated_at {
                    None => {
                        sqlx::query("UPDATE refresh_tokens SET rotated_at = $1 WHERE id = $2 AND rotated_at IS NULL")
                            .bind(now)
                            .bind(&rec.id)
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                        sqlx::query(
                            "INSERT INTO refresh_tokens (id, session_id, token_digest, parent_id, created_at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(&successor.id)
                        .bind(&rec.session_id)
                        .bind(&successor.token_digest)
                        .bind(&rec.id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                        let expires = now
                            .saturating_add(policy.idle_ms)
                            .min(session.created_at.saturating_add(policy.max_lifetime_ms));
                        sqlx::query("UPDATE sessions SET expires_at = $1, updated_at = $2 WHERE id = $3")
                            .bind(expires)
                            .bind(now)
                            .bind(&session.id)
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                        tx.commit().await.map_err(map_err)?;
                        session.expires_at = expires;
                        session.updated_at = now;
                        Ok(O::Rotated { session, user })
                    }
                    Some(rotated_at) => {
                        let successor_live: Option<(String,)> = sqlx::query_as(
                            "SELECT id FROM refresh_tokens WHERE parent_id = $1 AND rotated_at IS NULL",
                        )
                        .bind(&rec.id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map_err)?;
                        if now.saturating_sub(rotated_at) <= policy.grace_ms && successor_live.is_some() {
                            tx.commit().await.map_err(map_err)?;
                            return Ok(O::Replayed { session, user });
                        }
                        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                            .bind(now)
                            .bind(&session.id)
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                        tx.commit().await.map_err(map_err)?;
                        Ok(O::Reused { session_id: session.id, user_id: user.id })
                    }
                }
            }

            async fn signing_keys(&self) -> $crate::Result<Vec<$crate::SigningKeyRow>> {
                let recs: Vec<$crate::sql::KeyRec> = sqlx::query_as(
                    "SELECT kid, generation, alg, public_jwk, private_key, created_at, retired_at \
                     FROM signing_keys ORDER BY generation",
                )
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(recs.into_iter().map(Into::into).collect())
            }

            async fn insert_signing_key(&self, key: &$crate::SigningKeyRow) -> $crate::Result<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "INSERT INTO signing_keys (kid, generation, alg, public_jwk, private_key, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&key.kid)
                .bind(key.generation)
                .bind(&key.alg)
                .bind(&key.public_jwk)
                .bind(&key.private_key)
                .bind(key.created_at)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                sqlx::query("UPDATE signing_keys SET retired_at = $1 WHERE generation < $2 AND retired_at IS NULL")
                    .bind(key.created_at)
                    .bind(key.generation)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(())
            }

            async fn list_tasks(&self, user_id: &str, limit: u32, offset: u32) -> $crate::Result<Vec<$crate::TaskRow>> {
                // `($2 + 0)`, not `$2`: SQLite lets a bare LIMIT/OFFSET parameter steer the
                // plan and then marks the cached statement expired on every re-bind, so each
                // call re-prepared it (~20% of a tasks read). An expression keeps the plan.
                let recs: Vec<$crate::sql::TaskRec> = sqlx::query_as(
                    "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks \
                     WHERE user_id = $1 ORDER BY created_at, id LIMIT ($2 + 0) OFFSET ($3 + 0)",
                )
                .bind(user_id)
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(recs.into_iter().map(Into::into).collect())
            }

            async fn create_task(&self, t: &$crate::TaskRow) -> $crate::Result<()> {
                sqlx::query(
                    "INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&t.id)
                .bind(&t.user_id)
                .bind(&t.title)
                .bind(&t.description)
                .bind(t.completed)
                .bind(t.created_at)
                .bind(t.updated_at)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(())
            }

            async fn get_task(&self, user_id: &str, task_id: &str) -> $crate::Result<Option<$crate::TaskRow>> {
                let rec: Option<$crate::sql::TaskRec> = sqlx::query_as(
                    "SELECT id, user_id, title, description, completed, created_at, updated_at FROM tasks \
                     WHERE user_id = $1 AND id = $2",
                )
                .bind(user_id)
                .bind(task_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(rec.map(Into::into))
            }

            async fn update_task(
                &self,
                user_id: &str,
                task_id: &str,
                change: &$crate::TaskChange,
                now_ms: i64,
            ) -> $crate::Result<Option<$crate::TaskRow>> {
                let rec: Option<$crate::sql::TaskRec> = sqlx::query_as(
                    "UPDATE tasks SET \
                       title = COALESCE($1, title), \
                       description = COALESCE($2, description), \
                       completed = CASE WHEN $4 THEN NOT COALESCE($3, completed) ELSE COALESCE($3, completed) END, \
                       updated_at = $5 \
                     WHERE user_id = $6 AND id = $7 \
                     RETURNING id, user_id, title, description, completed, created_at, updated_at",
                )
                .bind(&change.title)
                .bind(&change.description)
                .bind(change.completed)
                .bind(change.toggle_completed)
                .bind(now_ms)
                .bind(user_id)
                .bind(task_id)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                Ok(rec.map(Into::into))
            }

            async fn delete_task(&self, user_id: &str, task_id: &str) -> $crate::Result<bool> {
                let done = sqlx::query("DELETE FROM tasks WHERE user_id = $1 AND id = $2")
                    .bind(user_id)
                    .bind(task_id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn import_users(
                &self,
                users: &[$crate::ImportUser],
                dry_run: bool,
            ) -> $crate::Result<Vec<$crate::ImportedUser>> {
                let mut tx = self.begin_write().await?;
                let mut out = Vec::with_capacity(users.len());
                for user in users {
                    out.push($crate::import::import_user!(tx, user));
                }
                if dry_run {
                    tx.rollback().await.map_err(map_err)?;
                } else {
                    tx.commit().await.map_err(map_err)?;
                }
                Ok(out)
            }
        }
    };
}
pub(crate) use impl_store;
