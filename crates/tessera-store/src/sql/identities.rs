//! Identities at providers (`accounts` rows with an issuer) and authorization requests in
//! flight (`oauth_states`).

pub(crate) const INSERT_STATE: &str = "INSERT INTO oauth_states (state_digest, provider_id, callback_url, new_user_url, error_url, link_user_id, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const PURGE_STATES: &str = "DELETE FROM oauth_states WHERE expires_at < $1";

pub(crate) const TAKE_STATE: &str = "DELETE FROM oauth_states WHERE state_digest = $1 \
     RETURNING state_digest, provider_id, callback_url, new_user_url, error_url, link_user_id, created_at, expires_at";

pub(crate) const USER_BY_IDENTITY: &str = "SELECT u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at, u.disabled_at, u.two_factor_enabled \
     FROM accounts a JOIN users u ON u.id = a.user_id WHERE a.issuer = $1 AND a.account_id = $2";

pub(crate) const INSERT_USER: &str = "INSERT INTO users (id, name, email, email_verified, image, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $6)";

pub(crate) const INSERT_IDENTITY: &str = "INSERT INTO accounts (id, user_id, provider_id, account_id, issuer, scope, email, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";

pub(crate) const LIST_ACCOUNTS: &str = "SELECT id, user_id, provider_id, account_id, issuer, scope, email, \
     (password_hash IS NOT NULL) AS has_password, created_at, updated_at \
     FROM accounts WHERE user_id = $1 ORDER BY created_at, id";

/// Callers append the backend's row lock (see `impl_store!`).
macro_rules! lock_user {
    () => {
        "SELECT id FROM users WHERE id = $1"
    };
}
pub(crate) use lock_user;

/// Ways to sign in: identities, and the credential when it holds a password.
pub(crate) const COUNT_USABLE: &str = "SELECT COUNT(*) FROM accounts \
     WHERE user_id = $1 AND (provider_id <> 'credential' OR password_hash IS NOT NULL)";

pub(crate) const DELETE_ACCOUNT: &str = "DELETE FROM accounts WHERE id = $1 AND user_id = $2";

pub(crate) const ACCOUNT_OF_USER: &str = "SELECT provider_id, password_hash IS NOT NULL AS has_password FROM accounts WHERE id = $1 AND user_id = $2";

/// Implements [`crate::IdentityStore`] (see the module docs of `sql` for what it expects).
/// `$lock` is the row lock appended to the SELECT of the user whose account is unlinked.
macro_rules! impl_identity_store {
    ($store:ty, $lock:literal) => {
        #[async_trait::async_trait]
        impl $crate::IdentityStore for $store {
            async fn create_oauth_state(
                &self,
                s: &$crate::OAuthStateRow,
                now_ms: i64,
            ) -> $crate::Result<()> {
                use $crate::sql::identities as q;
                let mut tx = self.begin_write().await?;
                sqlx::query(q::PURGE_STATES)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(q::INSERT_STATE)
                    .bind(&s.state_digest)
                    .bind(&s.provider_id)
                    .bind(&s.callback_url)
                    .bind(&s.new_user_url)
                    .bind(&s.error_url)
                    .bind(&s.link_user_id)
                    .bind(s.created_at)
                    .bind(s.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(())
            }

            async fn take_oauth_state(
                &self,
                state_digest: &str,
            ) -> $crate::Result<Option<$crate::OAuthStateRow>> {
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::OAuthStateRow> =
                    sqlx::query_as($crate::sql::identities::TAKE_STATE)
                        .bind(state_digest)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(row)
            }

            async fn user_by_identity(
                &self,
                issuer: &str,
                subject: &str,
            ) -> $crate::Result<Option<$crate::User>> {
                sqlx::query_as($crate::sql::identities::USER_BY_IDENTITY)
                    .bind(issuer)
                    .bind(subject)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn create_user_with_identity(
                &self,
                user: &$crate::NewUser,
                email_verified: bool,
                identity: &$crate::NewIdentity,
            ) -> $crate::Result<$crate::User> {
                use $crate::sql::identities as q;
                let mut tx = self.begin_write().await?;
                sqlx::query(q::INSERT_USER)
                    .bind(&user.id)
                    .bind(&user.name)
                    .bind(&user.email)
                    .bind(email_verified)
                    .bind(&user.image)
                    .bind(user.now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(q::INSERT_IDENTITY)
                    .bind(&identity.id)
                    .bind(&user.id)
                    .bind(&identity.provider_id)
                    .bind(&identity.subject)
                    .bind(&identity.issuer)
                    .bind(&identity.scope)
                    .bind(&identity.email)
                    .bind(identity.now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok($crate::User {
                    id: user.id.clone(),
                    name: user.name.clone(),
                    email: user.email.clone(),
                    email_verified,
                    image: user.image.clone(),
                    created_at: user.now_ms,
                    updated_at: user.now_ms,
                    disabled_at: None,
                    two_factor_enabled: false,
                })
            }

            async fn link_identity(
                &self,
                user_id: $crate::UserId<'_>,
                identity: &$crate::NewIdentity,
            ) -> $crate::Result<()> {
                sqlx::query($crate::sql::identities::INSERT_IDENTITY)
                    .bind(&identity.id)
                    .bind(user_id.as_str())
                    .bind(&identity.provider_id)
                    .bind(&identity.subject)
                    .bind(&identity.issuer)
                    .bind(&identity.scope)
                    .bind(&identity.email)
                    .bind(identity.now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn list_accounts(
                &self,
                user_id: $crate::UserId<'_>,
            ) -> $crate::Result<Vec<$crate::AccountRow>> {
                sqlx::query_as($crate::sql::identities::LIST_ACCOUNTS)
                    .bind(user_id.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn unlink_account(
                &self,
                user_id: $crate::UserId<'_>,
                account_row_id: &str,
            ) -> $crate::Result<$crate::UnlinkOutcome> {
                use $crate::sql::identities as q;
                let mut tx = self.begin_write().await?;
                let locked: Option<(String,)> =
                    sqlx::query_as(concat!($crate::sql::identities::lock_user!(), $lock))
                        .bind(user_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map_err)?;
                if locked.is_none() {
                    return Ok($crate::UnlinkOutcome::NotFound);
                }
                let target: Option<(String, bool)> = sqlx::query_as(q::ACCOUNT_OF_USER)
                    .bind(account_row_id)
                    .bind(user_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let Some((provider, has_password)) = target else {
                    return Ok($crate::UnlinkOutcome::NotFound);
                };
                let usable: (i64,) = sqlx::query_as(q::COUNT_USABLE)
                    .bind(user_id.as_str())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let counts = provider != "credential" || has_password;
                if counts && usable.0 <= 1 {
                    return Ok($crate::UnlinkOutcome::LastAccount);
                }
                sqlx::query(q::DELETE_ACCOUNT)
                    .bind(account_row_id)
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok($crate::UnlinkOutcome::Unlinked)
            }
        }
    };
}
pub(crate) use impl_identity_store;
