//! Refresh credentials (`refresh_tokens`) and their rotation. The rule — rotate, replay or
//! reuse — is `tessera_core::decide_refresh`, and a rotation slides the session by
//! `tessera_core::SessionLifetime`; this file reads what the rule needs and writes what it
//! decided, in one write transaction.

/// The presented credential, as the rotation reads it.
#[derive(sqlx::FromRow)]
pub(crate) struct Presented {
    pub(crate) id: String,
    pub(crate) session_id: String,
    pub(crate) rotated_at: Option<i64>,
}

/// Callers append the backend's row lock (see `impl_store!`).
macro_rules! select_presented {
    () => {
        "SELECT id, session_id, rotated_at FROM refresh_tokens WHERE token_digest = $1"
    };
}
pub(crate) use select_presented;

pub(crate) const INSERT: &str = "INSERT INTO refresh_tokens (id, session_id, token_digest, parent_id, created_at) \
     VALUES ($1, $2, $3, $4, $5)";

pub(crate) const SESSION_ID_BY_DIGEST: &str = "SELECT r.session_id FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
     WHERE r.token_digest = $1 AND s.revoked_at IS NULL";

pub(crate) const LIVE_SESSION: &str = concat!(
    crate::sql::sessions::select_session_with_user!(),
    "WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2"
);

pub(crate) const UNUSED_SUCCESSOR: &str =
    "SELECT id FROM refresh_tokens WHERE parent_id = $1 AND rotated_at IS NULL";

pub(crate) const MARK_ROTATED: &str =
    "UPDATE refresh_tokens SET rotated_at = $1 WHERE id = $2 AND rotated_at IS NULL";

pub(crate) const SLIDE_SESSION: &str =
    "UPDATE sessions SET expires_at = $1, updated_at = $2 WHERE id = $3";

pub(crate) const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";

/// Implements [`crate::RefreshStore`] (see the module docs of `sql` for what it expects).
/// `$lock` is the row lock appended to the SELECT of the presented credential.
macro_rules! impl_refresh_store {
    ($store:ty, $lock:literal) => {
        #[async_trait::async_trait]
        impl $crate::RefreshStore for $store {
            async fn create_refresh_token(
                &self,
                t: &$crate::NewRefreshToken,
            ) -> $crate::Result<()> {
                sqlx::query($crate::sql::refresh::INSERT)
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

            async fn session_id_by_refresh_digest(
                &self,
                token_digest: &str,
            ) -> $crate::Result<Option<String>> {
                let row: Option<(String,)> =
                    sqlx::query_as($crate::sql::refresh::SESSION_ID_BY_DIGEST)
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
                self.rotate(token_digest, successor, policy).await
            }
        }

        impl $store {
            /// The rotation's reads and writes inside a write transaction the caller opened
            /// and commits (the adapter's `rotate` decides how: one transaction each, or
            /// several rotations sharing one).
            async fn rotate_on(
                conn: &mut Conn,
                token_digest: &str,
                successor: &$crate::NewRefreshToken,
                policy: $crate::RefreshPolicy,
            ) -> $crate::Result<$crate::RefreshOutcome> {
                use tessera_core::{PresentedCredential, RefreshDecision};
                use $crate::RefreshOutcome as O;
                use $crate::sql::refresh as q;
                let now = policy.now_ms;
                let presented: Option<q::Presented> =
                    sqlx::query_as(concat!(q::select_presented!(), $lock))
                        .bind(token_digest)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(map_err)?;
                let Some(presented) = presented else {
                    return Ok(O::Unknown);
                };
                let found: Option<$crate::sql::sessions::SessionWithUser> =
                    sqlx::query_as(q::LIVE_SESSION)
                        .bind(&presented.session_id)
                        .bind(now)
                        .fetch_optional(&mut *conn)
                        .await
                        .map_err(map_err)?;
                let Some(found) = found else {
                    return Ok(O::SessionEnded);
                };
                let (mut session, user): ($crate::Session, $crate::User) = found.into();
                if user.disabled_at.is_some() {
                    return Ok(O::SessionEnded);
                }
                let credential = match presented.rotated_at {
                    None => PresentedCredential::Current,
                    Some(at_ms) => {
                        let successor_unused: Option<(String,)> =
                            sqlx::query_as(q::UNUSED_SUCCESSOR)
                                .bind(&presented.id)
                                .fetch_optional(&mut *conn)
                                .await
                                .map_err(map_err)?;
                        PresentedCredential::Rotated {
                            at_ms,
                            successor_unused: successor_unused.is_some(),
                        }
                    }
                };
                match tessera_core::decide_refresh(credential, now, policy.grace_ms) {
                    RefreshDecision::Rotate => {
                        sqlx::query(q::MARK_ROTATED)
                            .bind(now)
                            .bind(&presented.id)
                            .execute(&mut *conn)
                            .await
                            .map_err(map_err)?;
                        sqlx::query(q::INSERT)
                            .bind(&successor.id)
                            .bind(&presented.session_id)
                            .bind(&successor.token_digest)
                            .bind(&presented.id)
                            .bind(now)
                            .execute(&mut *conn)
                            .await
                            .map_err(map_err)?;
                        let expires = policy.lifetime.extended_expiry(session.created_at, now);
                        sqlx::query(q::SLIDE_SESSION)
                            .bind(expires)
                            .bind(now)
                            .bind(&session.id)
                            .execute(&mut *conn)
                            .await
                            .map_err(map_err)?;
                        session.expires_at = expires;
                        session.updated_at = now;
                        Ok(O::Rotated { session, user })
                    }
                    RefreshDecision::Replay => Ok(O::Replayed { session, user }),
                    RefreshDecision::Reuse => {
                        sqlx::query(q::REVOKE_SESSION)
                            .bind(now)
                            .bind(&session.id)
                            .execute(&mut *conn)
                            .await
                            .map_err(map_err)?;
                        Ok(O::Reused {
                            session_id: session.id,
                            user_id: user.id,
                        })
                    }
                }
            }
        }
    };
}
pub(crate) use impl_refresh_store;
