//! Email tokens and the outbox (`email_tokens`, `outbox`).

pub(crate) const INSERT_TOKEN: &str = "INSERT INTO email_tokens \
     (token_digest, purpose, user_id, email, new_email, name, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const PEEK_TOKEN: &str = "SELECT purpose, user_id, email, new_email, name, expires_at \
     FROM email_tokens WHERE token_digest = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > $3";

/// Reads and uses up a token in one statement: of two concurrent requests, one gets the row.
/// Only the purposes the caller accepts ($3..$5) are touched, so a token presented at the
/// wrong endpoint stays usable where it belongs.
pub(crate) const CONSUME_TOKEN: &str = "UPDATE email_tokens SET consumed_at = $1 \
     WHERE token_digest = $2 AND consumed_at IS NULL AND purpose IN ($3, $4, $5) \
     RETURNING purpose, user_id, email, new_email, name, expires_at";

pub(crate) const VOID_USER_TOKENS: &str = "UPDATE email_tokens SET consumed_at = $1 \
     WHERE user_id = $2 AND purpose = $3 AND consumed_at IS NULL";

pub(crate) const MARK_VERIFIED: &str =
    "UPDATE users SET email_verified = TRUE, updated_at = $1 WHERE id = $2 AND email = $3";

pub(crate) const CHANGE_EMAIL: &str = "UPDATE users SET email = $1, email_verified = TRUE, updated_at = $2 \
     WHERE id = $3 AND email = $4 \
     RETURNING id, name, email, email_verified, image, created_at, updated_at, disabled_at, two_factor_enabled";

pub(crate) const CREDENTIAL_HASH: &str = "UPDATE accounts SET password_hash = $1, updated_at = $2 \
     WHERE user_id = $3 AND provider_id = 'credential'";

pub(crate) const INSERT_CREDENTIAL: &str = "INSERT INTO accounts (id, user_id, provider_id, account_id, password_hash, created_at, updated_at) \
     VALUES ($1, $2, 'credential', $2, $3, $4, $4)";

/// A code row: its key is the digest of a value never sent; the code is `code_digest`.
pub(crate) const INSERT_CODE: &str = "INSERT INTO email_tokens \
     (token_digest, purpose, user_id, email, code_digest, bound_to, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// One code works at a time: a new one voids the earlier live ones.
pub(crate) const VOID_USER_CODES: &str = "UPDATE email_tokens SET consumed_at = $1 \
     WHERE user_id = $2 AND purpose = $3 AND consumed_at IS NULL AND code_digest IS NOT NULL";

/// Counts a try against the live code and uses it up if it is the right one (and `$7`),
/// in one statement (`$1` the presented code's digest, `$2` now): two concurrent tries of
/// the right code cannot both see it unused, and a code past its cap matches nothing. The
/// last column says whether the code matched.
pub(crate) const TRY_CODE: &str = "UPDATE email_tokens SET attempts = attempts + 1, \
     consumed_at = CASE WHEN code_digest = $1 AND $7 THEN $2 ELSE consumed_at END \
     WHERE user_id = $3 AND purpose = $4 AND code_digest IS NOT NULL AND consumed_at IS NULL \
     AND expires_at > $2 AND attempts < $5 AND COALESCE(bound_to, '') = $6 \
     RETURNING purpose, user_id, email, new_email, name, expires_at, attempts, code_digest = $1";

/// Why no code matched: the latest unused one, if any.
pub(crate) const LATEST_CODE: &str = "SELECT expires_at, attempts FROM email_tokens \
     WHERE user_id = $1 AND purpose = $2 AND code_digest IS NOT NULL AND consumed_at IS NULL \
     AND COALESCE(bound_to, '') = $3 ORDER BY created_at DESC LIMIT 1";

/// Every way the user could get in before they proved their address.
pub(crate) const DELETE_ACCOUNTS_OF_USER: &str = "DELETE FROM accounts WHERE user_id = $1";

pub(crate) const PURGE_TOKENS: &str = "DELETE FROM email_tokens WHERE expires_at < $1";

pub(crate) const INSERT_MAIL: &str = "INSERT INTO outbox (id, kind, recipient, user_id, payload, created_at, next_attempt_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $6)";

pub(crate) const FINISH_MAIL: &str = "UPDATE outbox SET status = $1, done_at = $2, claimed_until = NULL, last_error = $3 \
     WHERE id = $4";

pub(crate) const RETRY_MAIL: &str = "UPDATE outbox SET next_attempt_at = $1, claimed_until = NULL, last_error = $2 \
     WHERE id = $3 AND status = 'pending'";

pub(crate) const REQUEUE_FAILED: &str = "UPDATE outbox SET status = 'pending', next_attempt_at = $1, done_at = NULL, attempts = 0 \
     WHERE status = 'failed' AND ($2 = '' OR id = $2)";

pub(crate) const COUNTS: &str = "SELECT \
     COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM outbox";

pub(crate) const PURGE_MAIL: &str =
    "DELETE FROM outbox WHERE status IN ('sent', 'dropped') AND done_at < $1";

/// A user by id, for the reset transaction.
pub(crate) const SELECT_USER: &str = "SELECT id, name, email, email_verified, image, created_at, updated_at, disabled_at, two_factor_enabled \
     FROM users WHERE id = $1";

/// The outbox listing for operators, newest first; `$1 = ''` lists every status.
pub(crate) const LIST_MAIL: &str = "SELECT id, kind, recipient, user_id, payload, status, attempts, created_at, next_attempt_at, done_at, last_error \
     FROM outbox WHERE ($1 = '' OR status = $1) ORDER BY created_at DESC, id LIMIT ($2 + 0)";

/// Implements [`crate::EmailTokenStore`] and [`crate::OutboxStore`] (see the module docs of
/// `sql`). `$skip_locked` ends the claiming sub-select: `FOR UPDATE SKIP LOCKED` on
/// PostgreSQL, so concurrent senders take different rows; empty on SQLite, where the write
/// transaction already serialises them.
macro_rules! impl_email_store {
    ($store:ty, $skip_locked:expr) => {
        #[async_trait::async_trait]
        impl $crate::EmailTokenStore for $store {
            async fn create_email_token(&self, t: &$crate::NewEmailToken) -> $crate::Result<()> {
                sqlx::query($crate::sql::email::INSERT_TOKEN)
                    .bind(&t.token_digest)
                    .bind(t.purpose.as_str())
                    .bind(&t.user_id)
                    .bind(&t.email)
                    .bind(&t.new_email)
                    .bind(&t.name)
                    .bind(t.now_ms)
                    .bind(t.expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn peek_email_token(
                &self,
                token_digest: &str,
                purpose: $crate::EmailTokenPurpose,
                now_ms: i64,
            ) -> $crate::Result<Option<$crate::EmailTokenRow>> {
                sqlx::query_as($crate::sql::email::PEEK_TOKEN)
                    .bind(token_digest)
                    .bind(purpose.as_str())
                    .bind(now_ms)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn consume_email_token(
                &self,
                token_digest: &str,
                purposes: &[$crate::EmailTokenPurpose],
                now_ms: i64,
            ) -> $crate::Result<$crate::Consumed> {
                let name = |i: usize| purposes.get(i).or(purposes.first()).map_or("", |p| p.as_str());
                let mut tx = self.begin_write().await?;
                let row: Option<$crate::EmailTokenRow> =
                    sqlx::query_as($crate::sql::email::CONSUME_TOKEN)
                        .bind(now_ms)
                        .bind(token_digest)
                        .bind(name(0))
                        .bind(name(1))
                        .bind(name(2))
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(match row {
                    None => $crate::Consumed::Unknown,
                    Some(r) if r.expires_at <= now_ms => $crate::Consumed::Expired,
                    Some(r) => $crate::Consumed::Fresh(r),
                })
            }

            async fn mark_email_verified(
                &self,
                user_id: $crate::UserId<'_>,
                email: &str,
                now_ms: i64,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::email::MARK_VERIFIED)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .bind(email)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn change_email(
                &self,
                user_id: $crate::UserId<'_>,
                old_email: &str,
                new_email: &str,
                now_ms: i64,
            ) -> $crate::Result<Option<$crate::User>> {
                let mut tx = self.begin_write().await?;
                let user: Option<$crate::User> = sqlx::query_as($crate::sql::email::CHANGE_EMAIL)
                    .bind(new_email)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .bind(old_email)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if user.is_some() {
                    // Links sent to the old address are void with it.
                    for purpose in [
                        $crate::EmailTokenPurpose::ResetPassword,
                        $crate::EmailTokenPurpose::VerifyEmail,
                    ] {
                        sqlx::query($crate::sql::email::VOID_USER_TOKENS)
                            .bind(now_ms)
                            .bind(user_id.as_str())
                            .bind(purpose.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    }
                }
                tx.commit().await.map_err(map_err)?;
                Ok(user)
            }

            async fn reset_password(
                &self,
                token_digest: &str,
                password_hash: &str,
                now_ms: i64,
            ) -> $crate::Result<$crate::ResetOutcome> {
                use $crate::sql::email as q;
                let reset = $crate::EmailTokenPurpose::ResetPassword.as_str();
                let mut tx = self.begin_write().await?;
                let token: Option<$crate::EmailTokenRow> = sqlx::query_as(q::CONSUME_TOKEN)
                    .bind(now_ms)
                    .bind(token_digest)
                    .bind(reset)
                    .bind(reset)
                    .bind(reset)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let Some(token) = token else {
                    return Ok($crate::ResetOutcome::Invalid);
                };
                if token.expires_at <= now_ms {
                    tx.commit().await.map_err(map_err)?;
                    return Ok($crate::ResetOutcome::Expired);
                }
                let user: Option<$crate::User> = sqlx::query_as(q::SELECT_USER)
                    .bind(&token.user_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let Some(mut user) = user.filter(|u| u.email == token.email && u.disabled_at.is_none())
                else {
                    tx.commit().await.map_err(map_err)?;
                    return Ok($crate::ResetOutcome::Invalid);
                };
                let updated = sqlx::query(q::CREDENTIAL_HASH)
                    .bind(password_hash)
                    .bind(now_ms)
                    .bind(&user.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                if updated.rows_affected() == 0 {
                    // A user without a password (e.g. imported, or from an identity
                    // provider): the address they proved gets one.
                    sqlx::query(q::INSERT_CREDENTIAL)
                        .bind(format!("acc_{}", user.id))
                        .bind(&user.id)
                        .bind(password_hash)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                // Receiving the link proved the address.
                sqlx::query(q::MARK_VERIFIED)
                    .bind(now_ms)
                    .bind(&user.id)
                    .bind(&user.email)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                user.email_verified = true;
                // Other reset links still in a mailbox are void now.
                sqlx::query(q::VOID_USER_TOKENS)
                    .bind(now_ms)
                    .bind(&user.id)
                    .bind(reset)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let ended: Vec<(String,)> = sqlx::query_as($crate::sql::users::REVOKE_SESSIONS_OF_USER)
                    .bind(now_ms)
                    .bind(&user.id)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok($crate::ResetOutcome::Reset {
                    user,
                    ended_sessions: ended.into_iter().map(|(id,)| id).collect(),
                })
            }

            async fn create_email_code(&self, c: &$crate::NewEmailCode) -> $crate::Result<()> {
                use $crate::sql::email as q;
                let mut tx = self.begin_write().await?;
                sqlx::query(q::VOID_USER_CODES)
                    .bind(c.now_ms)
                    .bind(&c.user_id)
                    .bind(c.purpose.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(q::INSERT_CODE)
                    .bind(&c.row_key)
                    .bind(c.purpose.as_str())
                    .bind(&c.user_id)
                    .bind(&c.email)
                    .bind(&c.code_digest)
                    .bind(&c.bound_to)
                    .bind(c.now_ms)
                    .bind(c.expires_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(())
            }

            async fn try_email_code(
                &self,
                user_id: $crate::UserId<'_>,
                purpose: $crate::EmailTokenPurpose,
                bound_to: Option<&str>,
                code_digest: &str,
                max_attempts: i64,
                consume: bool,
                now_ms: i64,
            ) -> $crate::Result<$crate::CodeAttempt> {
                use $crate::sql::email as q;
                type Tried = (String, String, String, Option<String>, Option<String>, i64, i64, bool);
                let bound = bound_to.unwrap_or("");
                let mut tx = self.begin_write().await?;
                let tried: Vec<Tried> = sqlx::query_as(q::TRY_CODE)
                    .bind(code_digest)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .bind(purpose.as_str())
                    .bind(max_attempts)
                    .bind(bound)
                    .bind(consume)
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let latest: Option<(i64, i64)> = if tried.is_empty() {
                    sqlx::query_as(q::LATEST_CODE)
                        .bind(user_id.as_str())
                        .bind(purpose.as_str())
                        .bind(bound)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map_err)?
                } else {
                    None
                };
                tx.commit().await.map_err(map_err)?;
                if let Some((purpose, user_id, email, new_email, name, expires_at, _, _)) =
                    tried.iter().find(|t| t.7).cloned()
                {
                    return Ok($crate::CodeAttempt::Accepted($crate::EmailTokenRow {
                        purpose,
                        user_id,
                        email,
                        new_email,
                        name,
                        expires_at,
                    }));
                }
                if let Some(t) = tried.first() {
                    return Ok($crate::CodeAttempt::Wrong {
                        attempts_left: (max_attempts - t.6).max(0),
                    });
                }
                Ok(match latest {
                    Some((expires_at, _)) if expires_at <= now_ms => $crate::CodeAttempt::Expired,
                    Some((_, attempts)) if attempts >= max_attempts => $crate::CodeAttempt::Exhausted,
                    _ => $crate::CodeAttempt::NoCode,
                })
            }

            async fn promote_unproven_user(
                &self,
                user_id: $crate::UserId<'_>,
                email: &str,
                now_ms: i64,
            ) -> $crate::Result<Option<($crate::User, Vec<String>)>> {
                use $crate::sql::email as q;
                let mut tx = self.begin_write().await?;
                let user: Option<$crate::User> = sqlx::query_as(q::SELECT_USER)
                    .bind(user_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
                let Some(mut user) = user.filter(|u| u.email == email) else {
                    tx.commit().await.map_err(map_err)?;
                    return Ok(None);
                };
                if user.email_verified {
                    tx.commit().await.map_err(map_err)?;
                    return Ok(Some((user, Vec::new())));
                }
                {
                    use $crate::sql::two_factor as t;
                    for statement in [
                        q::DELETE_ACCOUNTS_OF_USER,
                        t::DELETE_FACTOR,
                        t::DELETE_CODES,
                        t::DELETE_CHALLENGES,
                        t::DELETE_DEVICES,
                    ] {
                        sqlx::query(statement)
                            .bind(user_id.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                    }
                    sqlx::query(t::SET_ENABLED)
                        .bind(false)
                        .bind(now_ms)
                        .bind(user_id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                let ended: Vec<(String,)> = sqlx::query_as($crate::sql::users::REVOKE_SESSIONS_OF_USER)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                sqlx::query(q::MARK_VERIFIED)
                    .bind(now_ms)
                    .bind(user_id.as_str())
                    .bind(email)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                user.email_verified = true;
                user.two_factor_enabled = false;
                user.updated_at = now_ms;
                Ok(Some((user, ended.into_iter().map(|(id,)| id).collect())))
            }

            async fn purge_email_tokens(&self, before_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::email::PURGE_TOKENS)
                    .bind(before_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }
        }

        #[async_trait::async_trait]
        impl $crate::OutboxStore for $store {
            async fn enqueue_mail(&self, mail: &$crate::NewMail) -> $crate::Result<()> {
                sqlx::query($crate::sql::email::INSERT_MAIL)
                    .bind(&mail.id)
                    .bind(&mail.kind)
                    .bind(&mail.recipient)
                    .bind(&mail.user_id)
                    .bind(&mail.payload)
                    .bind(mail.now_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn claim_mail(
                &self,
                now_ms: i64,
                lease_ms: i64,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::MailRow>> {
                const CLAIM: &str = concat!(
                    "UPDATE outbox SET attempts = attempts + 1, claimed_until = $1 \
                     WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' \
                     AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2) \
                     ORDER BY next_attempt_at, id LIMIT ($3 + 0)",
                    $skip_locked,
                    ") RETURNING id, kind, recipient, user_id, payload, status, attempts, \
                     created_at, next_attempt_at, done_at, last_error"
                );
                let mut tx = self.begin_write().await?;
                let rows = sqlx::query_as(CLAIM)
                    .bind(now_ms.saturating_add(lease_ms))
                    .bind(now_ms)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(map_err)?;
                tx.commit().await.map_err(map_err)?;
                Ok(rows)
            }

            async fn finish_mail(
                &self,
                id: &str,
                result: &$crate::MailResult,
                now_ms: i64,
            ) -> $crate::Result<()> {
                use $crate::MailResult as R;
                let (status, error) = match result {
                    R::Retry { at_ms, error } => {
                        sqlx::query($crate::sql::email::RETRY_MAIL)
                            .bind(*at_ms)
                            .bind(error.as_str())
                            .bind(id)
                            .execute(&self.pool)
                            .await
                            .map_err(map_err)?;
                        return Ok(());
                    }
                    R::Sent => ("sent", None),
                    R::Dropped => ("dropped", None),
                    R::Failed(e) => ("failed", Some(e.as_str())),
                };
                let q = sqlx::query($crate::sql::email::FINISH_MAIL)
                    .bind(status)
                    .bind(now_ms)
                    .bind(error)
                    .bind(id);
                q.execute(&self.pool).await.map_err(map_err)?;
                Ok(())
            }

            async fn list_mail(
                &self,
                status: Option<&str>,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::MailRow>> {
                sqlx::query_as($crate::sql::email::LIST_MAIL)
                    .bind(status.unwrap_or(""))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn requeue_failed_mail(&self, id: Option<&str>, now_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::email::REQUEUE_FAILED)
                    .bind(now_ms)
                    .bind(id.unwrap_or(""))
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn outbox_counts(&self) -> $crate::Result<$crate::OutboxCounts> {
                let (pending, failed): (i64, i64) = sqlx::query_as($crate::sql::email::COUNTS)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok($crate::OutboxCounts { pending, failed })
            }

            async fn purge_mail(&self, before_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::email::PURGE_MAIL)
                    .bind(before_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_email_store;
