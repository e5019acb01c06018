//! Second factors (`two_factors`, `backup_codes`, `two_factor_challenges`,
//! `trusted_devices`). Each acceptance is a single conditional `UPDATE`/`DELETE` whose row
//! count says who won: on PostgreSQL a concurrent writer waits for the row lock and then
//! re-checks the condition against the committed row, on SQLite writers are serialised, so a
//! TOTP step, a backup code or a challenge is accepted exactly once.

pub(crate) const SELECT: &str = "SELECT user_id, secret, verified_at, last_step, failures, locked_until \
     FROM two_factors WHERE user_id = $1";

pub(crate) const IS_ENABLED: &str = "SELECT two_factor_enabled FROM users WHERE id = $1";

pub(crate) const UPSERT_PENDING: &str = "INSERT INTO two_factors (user_id, secret, verified_at, last_step, failures, locked_until, created_at, updated_at) \
     VALUES ($1, $2, NULL, 0, 0, NULL, $3, $3) \
     ON CONFLICT (user_id) DO UPDATE SET secret = $2, verified_at = NULL, last_step = 0, \
     failures = 0, locked_until = NULL, updated_at = $3";

pub(crate) const DELETE_CODES: &str = "DELETE FROM backup_codes WHERE user_id = $1";

pub(crate) const INSERT_CODE: &str =
    "INSERT INTO backup_codes (id, user_id, code_digest, created_at) VALUES ($1, $2, $3, $4)";

pub(crate) const ACCEPT_STEP: &str = "UPDATE two_factors SET last_step = $1, failures = 0, locked_until = NULL, \
     verified_at = COALESCE(verified_at, $2), updated_at = $2 \
     WHERE user_id = $3 AND last_step < $1";

pub(crate) const SET_ENABLED: &str =
    "UPDATE users SET two_factor_enabled = $1, updated_at = $2 WHERE id = $3";

pub(crate) const USE_CODE: &str = "UPDATE backup_codes SET used_at = $1 \
     WHERE user_id = $2 AND code_digest = $3 AND used_at IS NULL";

pub(crate) const CLEAR_FAILURES: &str =
    "UPDATE two_factors SET failures = 0, locked_until = NULL WHERE user_id = $1";

pub(crate) const CODES_LEFT: &str =
    "SELECT count(*) FROM backup_codes WHERE user_id = $1 AND used_at IS NULL";

// SET expressions read the row as it was, so `failures + 1` is the count including this one.
pub(crate) const NOTE_FAILURE: &str = "UPDATE two_factors SET \
     failures = CASE WHEN failures + 1 >= $1 THEN 0 ELSE failures + 1 END, \
     locked_until = CASE WHEN failures + 1 >= $1 THEN $2 ELSE locked_until END, \
     updated_at = $3 \
     WHERE user_id = $4 RETURNING locked_until";

pub(crate) const DELETE_FACTOR: &str = "DELETE FROM two_factors WHERE user_id = $1";
pub(crate) const DELETE_CHALLENGES: &str = "DELETE FROM two_factor_challenges WHERE user_id = $1";
pub(crate) const DELETE_DEVICES: &str = "DELETE FROM trusted_devices WHERE user_id = $1";

pub(crate) const INSERT_CHALLENGE: &str = "INSERT INTO two_factor_challenges (id, token_digest, user_id, amr, remember, refresh_grant, attempts, expires_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)";

pub(crate) const COUNT_ATTEMPT: &str = "UPDATE two_factor_challenges SET attempts = attempts + 1 \
     WHERE token_digest = $1 AND consumed_at IS NULL AND expires_at > $2 AND attempts < $3 \
     RETURNING id, user_id, amr, remember, refresh_grant, attempts";

pub(crate) const LIVE_CHALLENGE: &str = "SELECT id FROM two_factor_challenges \
     WHERE token_digest = $1 AND consumed_at IS NULL AND expires_at > $2";

pub(crate) const CONSUME_CHALLENGE: &str = "UPDATE two_factor_challenges SET consumed_at = $1 \
     WHERE id = $2 AND consumed_at IS NULL";

pub(crate) const INSERT_DEVICE: &str = "INSERT INTO trusted_devices (id, user_id, token_digest, mfa_at, user_agent, expires_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const TAKE_DEVICE: &str = "DELETE FROM trusted_devices \
     WHERE token_digest = $1 AND user_id = $2 AND expires_at > $3 RETURNING mfa_at";

pub(crate) const PURGE_CHALLENGES: &str = "DELETE FROM two_factor_challenges WHERE expires_at < $1";
pub(crate) const PURGE_DEVICES: &str = "DELETE FROM trusted_devices WHERE expires_at < $1";

/// Implements [`crate::TwoFactorStore`] (see the module docs of `sql` for what it expects).
macro_rules! impl_two_factor_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::TwoFactorStore for $store {
            async fn two_factor(
                &self,
                user_id: $crate::UserId<'_>,
            ) -> $crate::Result<Option<$crate::TwoFactorRow>> {
                sqlx::query_as($crate::sql::two_factor::SELECT)
                    .bind(user_id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn begin_two_factor(
                &self,
                user_id: $crate::UserId<'_>,
                secret: &str,
                backup_digests: &[String],
                now_ms: i64,
            ) -> $crate::Result<bool> {
                use $crate::sql::two_factor as q;
                let mut tx = self.begin_write().await?;
                let enabled: Option<(bool,)> = sqlx::query_as(q::IS_ENABLED)
                    .bind(user_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if !matches!(enabled, Some((false,))) {
                    tx.rollback().await.map_err(map_err)?;
                    return Ok(false);
                }
                sqlx::query(q::UPSERT_PENDING)
                    .bind(user_id.as_str())
                    .bind(secret)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(q::DELETE_CODES)
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                for digest in backup_digests {
                    sqlx::query(q::INSERT_CODE)
                        .bind(tessera_core::id::new_id())
                        .bind(user_id.as_str())
                        .bind(digest)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)?;
                Ok(true)
            }

            async fn accept_totp_step(
                &self,
                user_id: $crate::UserId<'_>,
                step: i64,
                now_ms: i64,
            ) -> $crate::Result<bool> {
                use $crate::sql::two_factor as q;
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(q::ACCEPT_STEP)
                    .bind(step)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if done.rows_affected() != 1 {
                    tx.rollback().await.map_err(map_err)?;
                    return Ok(false);
                }
                sqlx::query(q::SET_ENABLED)
                    .bind(true)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(true)
            }

            async fn use_backup_code(
                &self,
                user_id: $crate::UserId<'_>,
                digest: &str,
                now_ms: i64,
            ) -> $crate::Result<bool> {
                use $crate::sql::two_factor as q;
                let done = sqlx::query(q::USE_CODE)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .bind(digest)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                if done.rows_affected() != 1 {
                    return Ok(false);
                }
                sqlx::query(q::CLEAR_FAILURES)
                    .bind(user_id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(true)
            }

            async fn replace_backup_codes(
                &self,
                user_id: $crate::UserId<'_>,
                digests: &[String],
                now_ms: i64,
            ) -> $crate::Result<()> {
                use $crate::sql::two_factor as q;
                let mut tx = self.begin_write().await?;
                sqlx::query(q::DELETE_CODES)
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                for digest in digests {
                    sqlx::query(q::INSERT_CODE)
                        .bind(tessera_core::id::new_id())
                        .bind(user_id.as_str())
                        .bind(digest)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                tx.commit().await.map_err(map_err)?;
                Ok(())
            }

            async fn backup_codes_left(&self, user_id: $crate::UserId<'_>) -> $crate::Result<i64> {
                let (n,): (i64,) = sqlx::query_as($crate::sql::two_factor::CODES_LEFT)
                    .bind(user_id.as_str())
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(n)
            }

            async fn note_second_factor_failure(
                &self,
                user_id: $crate::UserId<'_>,
                lock_after: i64,
                lock_until_ms: i64,
                now_ms: i64,
            ) -> $crate::Result<Option<i64>> {
                let row: Option<(Option<i64>,)> =
                    sqlx::query_as($crate::sql::two_factor::NOTE_FAILURE)
                        .bind(lock_after)
                        .bind(lock_until_ms)
                        .bind(now_ms)
                        .bind(user_id.as_str())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(row
                    .and_then(|(until,)| until)
                    .filter(|until| *until == lock_until_ms))
            }

            async fn disable_two_factor(
                &self,
                user_id: $crate::UserId<'_>,
                now_ms: i64,
            ) -> $crate::Result<()> {
                use $crate::sql::two_factor as q;
                let mut tx = self.begin_write().await?;
                for statement in [
                    q::DELETE_FACTOR,
                    q::DELETE_CODES,
                    q::DELETE_CHALLENGES,
                    q::DELETE_DEVICES,
                ] {
                    sqlx::query(statement)
                        .bind(user_id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                sqlx::query(q::SET_ENABLED)
                    .bind(false)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(())
            }

            async fn create_challenge(&self, c: &$crate::NewChallenge) -> $crate::Result<()> {
                sqlx::query($crate::sql::two_factor::INSERT_CHALLENGE)
                    .bind(&c.id)
                    .bind(&c.token_digest)
                    .bind(&c.user_id)
                    .bind(&c.amr)
                    .bind(c.remember)
                    .bind(c.refresh_grant)
                    .bind(c.expires_at)
                    .bind(c.now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn attempt_challenge(
                &self,
                token_digest: &str,
                max_attempts: i64,
                now_ms: i64,
            ) -> $crate::Result<$crate::ChallengeAttempt> {
                use $crate::sql::two_factor as q;
                let counted: Option<$crate::ChallengeRow> = sqlx::query_as(q::COUNT_ATTEMPT)
                    .bind(token_digest)
                    .bind(now_ms)
                    .bind(max_attempts)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                if let Some(row) = counted {
                    return Ok($crate::ChallengeAttempt::Counted(row));
                }
                let live: Option<(String,)> = sqlx::query_as(q::LIVE_CHALLENGE)
                    .bind(token_digest)
                    .bind(now_ms)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(if live.is_some() {
                    $crate::ChallengeAttempt::Exhausted
                } else {
                    $crate::ChallengeAttempt::Invalid
                })
            }

            async fn consume_challenge(
                &self,
                challenge_id: &str,
                now_ms: i64,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::two_factor::CONSUME_CHALLENGE)
                    .bind(now_ms)
                    .bind(challenge_id)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_trusted_device(
                &self,
                d: &$crate::NewTrustedDevice,
            ) -> $crate::Result<()> {
                sqlx::query($crate::sql::two_factor::INSERT_DEVICE)
                    .bind(&d.id)
                    .bind(&d.user_id)
                    .bind(&d.token_digest)
                    .bind(d.mfa_at)
                    .bind(&d.user_agent)
                    .bind(d.expires_at)
                    .bind(d.now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn rotate_trusted_device(
                &self,
                user_id: $crate::UserId<'_>,
                token_digest: &str,
                d: &$crate::NewTrustedDevice,
            ) -> $crate::Result<Option<i64>> {
                use $crate::sql::two_factor as q;
                let mut tx = self.begin_write().await?;
                let taken: Option<(i64,)> = sqlx::query_as(q::TAKE_DEVICE)
                    .bind(token_digest)
                    .bind(user_id.as_str())
                    .bind(d.now_ms)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let Some((mfa_at,)) = taken else {
                    tx.rollback().await.map_err(map_err)?;
                    return Ok(None);
                };
                sqlx::query(q::INSERT_DEVICE)
                    .bind(&d.id)
                    .bind(&d.user_id)
                    .bind(&d.token_digest)
                    .bind(mfa_at)
                    .bind(&d.user_agent)
                    .bind(d.expires_at)
                    .bind(d.now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(Some(mfa_at))
            }

            async fn revoke_trusted_devices(
                &self,
                user_id: $crate::UserId<'_>,
            ) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::two_factor::DELETE_DEVICES)
                    .bind(user_id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn purge_two_factor(&self, before_ms: i64) -> $crate::Result<u64> {
                use $crate::sql::two_factor as q;
                let mut n = 0;
                for statement in [q::PURGE_CHALLENGES, q::PURGE_DEVICES] {
                    n += sqlx::query(statement)
                        .bind(before_ms)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err)?
                        .rows_affected();
                }
                Ok(n)
            }
        }
    };
}
pub(crate) use impl_two_factor_store;
