//! Users and their credential accounts (`users`, `accounts`).

use crate::User;

/// A user with the hash of their password credential, if they have one.
#[derive(sqlx::FromRow)]
pub(crate) struct UserWithHash {
    #[sqlx(flatten)]
    pub(crate) user: User,
    pub(crate) password_hash: Option<String>,
}

/// The user's columns of [`SELECT_WITH_HASH_BY_ID`] (and of the session join) from column
/// `at` on, on the direct read path (`crate::sql::DirectReads`).
pub(crate) fn user_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(at)?,
        name: r.get(at + 1)?,
        email: r.get(at + 2)?,
        email_verified: r.get(at + 3)?,
        image: r.get(at + 4)?,
        created_at: r.get(at + 5)?,
        updated_at: r.get(at + 6)?,
        disabled_at: r.get(at + 7)?,
        two_factor_enabled: r.get(at + 8)?,
    })
}

/// A row of [`SELECT_WITH_HASH_BY_ID`] on the direct read path.
pub(crate) fn user_with_hash(r: &rusqlite::Row<'_>) -> rusqlite::Result<(User, Option<String>)> {
    Ok((user_at(r, 0)?, r.get(9)?))
}

pub(crate) const INSERT_USER: &str = "INSERT INTO users (id, name, email, email_verified, image, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $6)";

pub(crate) const INSERT_CREDENTIAL: &str = "INSERT INTO accounts (id, user_id, provider_id, account_id, password_hash, created_at, updated_at) \
     VALUES ($1, $2, 'credential', $2, $3, $4, $4)";

pub(crate) const SELECT_WITH_HASH_BY_EMAIL: &str = "SELECT u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at, u.disabled_at, u.two_factor_enabled, a.password_hash \
     FROM users u LEFT JOIN accounts a ON a.user_id = u.id AND a.provider_id = 'credential' \
     WHERE u.email = $1";

pub(crate) const SELECT_WITH_HASH_BY_ID: &str = "SELECT u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at, u.disabled_at, u.two_factor_enabled, a.password_hash \
     FROM users u LEFT JOIN accounts a ON a.user_id = u.id AND a.provider_id = 'credential' \
     WHERE u.id = $1";

pub(crate) const SET_DISABLED: &str =
    "UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3";

/// Shared with deletion: a user's live sessions end, their rows stay for revocation feeds.
pub(crate) const REVOKE_SESSIONS_OF_USER: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id";

pub(crate) const DELETE_TASKS_OF_USER: &str = "DELETE FROM tasks WHERE user_id = $1";

pub(crate) const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

// `($1 + 0)`, not `$1`: see the note on `tasks::LIST`.
pub(crate) const LIST: &str = "SELECT id, name, email, email_verified, image, created_at, updated_at, disabled_at, two_factor_enabled \
     FROM users ORDER BY created_at, id LIMIT ($1 + 0) OFFSET ($2 + 0)";

pub(crate) const SET_PASSWORD_HASH: &str = "UPDATE accounts SET password_hash = $1, updated_at = $2 \
     WHERE user_id = $3 AND provider_id = 'credential'";

/// `$2`/`$3`: whether to set the name/image; `$4`/`$5`: the values.
pub(crate) const UPDATE_PROFILE: &str = "UPDATE users SET \
     name = CASE WHEN $2 THEN $4 ELSE name END, \
     image = CASE WHEN $3 THEN $5 ELSE image END, updated_at = $6 WHERE id = $1 \
     RETURNING id, name, email, email_verified, image, created_at, updated_at, disabled_at, two_factor_enabled";

/// Implements [`crate::UserStore`] (see the module docs of `sql` for what it expects).
macro_rules! impl_user_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::UserStore for $store {
            async fn create_user(
                &self,
                user: &$crate::NewUser,
                password_hash: &str,
            ) -> $crate::Result<$crate::User> {
                use $crate::sql::users as q;
                let mut tx = self.begin_write().await?;
                sqlx::query(q::INSERT_USER)
                    .bind(&user.id)
                    .bind(&user.name)
                    .bind(&user.email)
                    .bind(false)
                    .bind(&user.image)
                    .bind(user.now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(q::INSERT_CREDENTIAL)
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
                    two_factor_enabled: false,
                })
            }

            async fn create_verified_user(
                &self,
                user: &$crate::NewUser,
            ) -> $crate::Result<$crate::User> {
                sqlx::query($crate::sql::users::INSERT_USER)
                    .bind(&user.id)
                    .bind(&user.name)
                    .bind(&user.email)
                    .bind(true)
                    .bind(&user.image)
                    .bind(user.now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok($crate::User {
                    id: user.id.clone(),
                    name: user.name.clone(),
                    email: user.email.clone(),
                    email_verified: true,
                    image: user.image.clone(),
                    created_at: user.now_ms,
                    updated_at: user.now_ms,
                    disabled_at: None,
                    two_factor_enabled: false,
                })
            }

            async fn user_with_password_by_email(
                &self,
                email: &str,
            ) -> $crate::Result<Option<($crate::User, Option<String>)>> {
                let row: Option<$crate::sql::users::UserWithHash> =
                    sqlx::query_as($crate::sql::users::SELECT_WITH_HASH_BY_EMAIL)
                        .bind(email)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(row.map(|r| (r.user, r.password_hash)))
            }

            async fn user_with_password_by_id(
                &self,
                user_id: &str,
            ) -> $crate::Result<Option<($crate::User, Option<String>)>> {
                use $crate::sql::DirectReads as _;
                if let Some(row) = self.read_first(
                    $crate::sql::users::SELECT_WITH_HASH_BY_ID,
                    &[&user_id],
                    $crate::sql::users::user_with_hash,
                ) {
                    return Ok(row);
                }
                let row: Option<$crate::sql::users::UserWithHash> =
                    sqlx::query_as($crate::sql::users::SELECT_WITH_HASH_BY_ID)
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(row.map(|r| (r.user, r.password_hash)))
            }

            async fn set_user_disabled(
                &self,
                user_id: &str,
                disabled: bool,
                now_ms: i64,
            ) -> $crate::Result<Option<Vec<String>>> {
                use $crate::sql::users as q;
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(q::SET_DISABLED)
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
                    sqlx::query_as(q::REVOKE_SESSIONS_OF_USER)
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

            async fn delete_user(
                &self,
                user_id: &str,
                now_ms: i64,
            ) -> $crate::Result<Option<Vec<String>>> {
                use $crate::sql::users as q;
                let mut tx = self.begin_write().await?;
                let ended: Vec<(String,)> = sqlx::query_as(q::REVOKE_SESSIONS_OF_USER)
                    .bind(now_ms)
                    .bind(user_id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(q::DELETE_TASKS_OF_USER)
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let done = sqlx::query(q::DELETE_USER)
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

            async fn list_users(
                &self,
                limit: u32,
                offset: u32,
            ) -> $crate::Result<Vec<$crate::User>> {
                sqlx::query_as($crate::sql::users::LIST)
                    .bind(i64::from(limit))
                    .bind(i64::from(offset))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn set_password_hash(
                &self,
                user_id: $crate::UserId<'_>,
                hash: &str,
                now_ms: i64,
            ) -> $crate::Result<()> {
                sqlx::query($crate::sql::users::SET_PASSWORD_HASH)
                    .bind(hash)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn update_profile(
                &self,
                user_id: $crate::UserId<'_>,
                name: Option<&str>,
                image: Option<Option<&str>>,
                now_ms: i64,
            ) -> $crate::Result<Option<$crate::User>> {
                sqlx::query_as($crate::sql::users::UPDATE_PROFILE)
                    .bind(user_id.as_str())
                    .bind(name.is_some())
                    .bind(image.is_some())
                    .bind(name)
                    .bind(image.flatten())
                    .bind(now_ms)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)
            }
        }
    };
}
pub(crate) use impl_user_store;
