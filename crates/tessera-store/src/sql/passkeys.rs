//! Passkeys (`passkeys`) and WebAuthn ceremonies in flight (`passkey_challenges`). A
//! ceremony is taken by one `DELETE … RETURNING` (one caller wins, on any instance); a
//! sign-in moves the counter with a compare-and-set.

pub(crate) const PURGE_CHALLENGES: &str = "DELETE FROM passkey_challenges WHERE expires_at < $1";

pub(crate) const INSERT_CHALLENGE: &str = "INSERT INTO passkey_challenges (token_digest, kind, user_id, state, expires_at, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const TAKE_CHALLENGE: &str = "DELETE FROM passkey_challenges \
     WHERE token_digest = $1 AND kind = $2 \
     RETURNING token_digest, kind, user_id, state, expires_at, created_at";

pub(crate) const INSERT: &str = "INSERT INTO passkeys (id, user_id, name, credential_id, public_key, counter, device_type, \
     backed_up, transports, aaguid, created_at, last_used_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

pub(crate) const SELECT_OF_USER: &str = "SELECT id, user_id, name, credential_id, public_key, counter, device_type, backed_up, transports, aaguid, created_at, last_used_at \
     FROM passkeys WHERE user_id = $1 ORDER BY created_at, id";

pub(crate) const SELECT_BY_CREDENTIAL: &str = "SELECT id, user_id, name, credential_id, public_key, counter, device_type, backed_up, transports, aaguid, created_at, last_used_at \
     FROM passkeys WHERE credential_id = $1";

pub(crate) const RENAME: &str = "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3 \
     RETURNING id, user_id, name, credential_id, public_key, counter, device_type, backed_up, transports, aaguid, created_at, last_used_at";

pub(crate) const DELETE: &str = "DELETE FROM passkeys WHERE id = $1 AND user_id = $2";

pub(crate) const RECORD_USE: &str = "UPDATE passkeys SET counter = $1, backed_up = $2, last_used_at = $3 \
     WHERE id = $4 AND counter = $5";

pub(crate) const IMPORT_FIND: &str =
    "SELECT id, credential_id, user_id FROM passkeys WHERE id = $1 OR credential_id = $2";

pub(crate) const IMPORT_USER: &str = "SELECT id FROM users WHERE id = $1";

/// Implements [`crate::PasskeyStore`] (see the module docs of `sql` for what it expects).
macro_rules! impl_passkey_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::PasskeyStore for $store {
            async fn create_passkey_challenge(
                &self,
                c: &$crate::PasskeyChallengeRow,
            ) -> $crate::Result<()> {
                use $crate::sql::passkeys as q;
                sqlx::query(q::PURGE_CHALLENGES)
                    .bind(c.created_at)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                sqlx::query(q::INSERT_CHALLENGE)
                    .bind(&c.token_digest)
                    .bind(&c.kind)
                    .bind(&c.user_id)
                    .bind(&c.state)
                    .bind(c.expires_at)
                    .bind(c.created_at)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            async fn take_passkey_challenge(
                &self,
                token_digest: &str,
                kind: &str,
                now_ms: i64,
            ) -> $crate::Result<Option<$crate::PasskeyChallengeRow>> {
                let row: Option<$crate::PasskeyChallengeRow> =
                    sqlx::query_as($crate::sql::passkeys::TAKE_CHALLENGE)
                        .bind(token_digest)
                        .bind(kind)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(row.filter(|r| r.expires_at > now_ms))
            }

            async fn create_passkey(&self, p: &$crate::PasskeyRow) -> $crate::Result<()> {
                sqlx::query($crate::sql::passkeys::INSERT)
                    .bind(&p.id)
                    .bind(&p.user_id)
                    .bind(&p.name)
                    .bind(&p.credential_id)
                    .bind(&p.public_key)
                    .bind(p.counter)
                    .bind(&p.device_type)
                    .bind(p.backed_up)
                    .bind(&p.transports)
                    .bind(&p.aaguid)
                    .bind(p.created_at)
                    .bind(p.last_used_at)
                    .execute(&self.pool)
                    .await
                    .map_err(|e| match map_err(e) {
                        $crate::StoreError::Conflict(_) => {
                            $crate::StoreError::Conflict("passkeys_credential_id_key")
                        }
                        other => other,
                    })?;
                Ok(())
            }

            async fn passkeys_of(
                &self,
                user_id: $crate::UserId<'_>,
            ) -> $crate::Result<Vec<$crate::PasskeyRow>> {
                sqlx::query_as($crate::sql::passkeys::SELECT_OF_USER)
                    .bind(user_id.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn passkey_by_credential_id(
                &self,
                credential_id: &str,
            ) -> $crate::Result<Option<$crate::PasskeyRow>> {
                sqlx::query_as($crate::sql::passkeys::SELECT_BY_CREDENTIAL)
                    .bind(credential_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn rename_passkey(
                &self,
                user_id: $crate::UserId<'_>,
                id: &str,
                name: &str,
            ) -> $crate::Result<Option<$crate::PasskeyRow>> {
                sqlx::query_as($crate::sql::passkeys::RENAME)
                    .bind(name)
                    .bind(id)
                    .bind(user_id.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)
            }

            async fn delete_passkey(
                &self,
                user_id: $crate::UserId<'_>,
                id: &str,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::passkeys::DELETE)
                    .bind(id)
                    .bind(user_id.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn record_passkey_use(
                &self,
                id: &str,
                seen_counter: i64,
                counter: i64,
                backed_up: bool,
                now_ms: i64,
            ) -> $crate::Result<bool> {
                let done = sqlx::query($crate::sql::passkeys::RECORD_USE)
                    .bind(counter)
                    .bind(backed_up)
                    .bind(now_ms)
                    .bind(id)
                    .bind(seen_counter)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn import_passkeys(
                &self,
                passkeys: &[$crate::PasskeyRow],
                dry_run: bool,
            ) -> $crate::Result<Vec<$crate::PasskeyImport>> {
                use $crate::PasskeyImport as I;
                use $crate::sql::passkeys as q;
                let mut tx = self.begin_write().await?;
                let mut out = Vec::with_capacity(passkeys.len());
                for p in passkeys {
                    let found: Vec<(String, String, String)> = sqlx::query_as(q::IMPORT_FIND)
                        .bind(&p.id)
                        .bind(&p.credential_id)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    let user: Option<(String,)> = sqlx::query_as(q::IMPORT_USER)
                        .bind(&p.user_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    let outcome = if found.iter().any(|(id, cred, user)| {
                        *id == p.id && *cred == p.credential_id && *user == p.user_id
                    }) {
                        I::Present
                    } else if !found.is_empty() {
                        I::Conflict
                    } else if user.is_none() {
                        I::NoSuchUser
                    } else {
                        sqlx::query(q::INSERT)
                            .bind(&p.id)
                            .bind(&p.user_id)
                            .bind(&p.name)
                            .bind(&p.credential_id)
                            .bind(&p.public_key)
                            .bind(p.counter)
                            .bind(&p.device_type)
                            .bind(p.backed_up)
                            .bind(&p.transports)
                            .bind(&p.aaguid)
                            .bind(p.created_at)
                            .bind(p.last_used_at)
                            .execute(&mut *tx)
                            .await
                            .map_err(map_err)?;
                        I::Created
                    };
                    out.push(outcome);
                }
                if dry_run {
                    tx.rollback().await.map_err(map_err)?;
                } else {
                    tx.commit().await.map_err(map_err)?;
                }
                Ok(out)
            }

            async fn purge_passkey_challenges(&self, before_ms: i64) -> $crate::Result<u64> {
                let done = sqlx::query($crate::sql::passkeys::PURGE_CHALLENGES)
                    .bind(before_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected())
            }
        }
    };
}
pub(crate) use impl_passkey_store;
