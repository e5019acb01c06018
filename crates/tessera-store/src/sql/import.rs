//! Importing users from another system (rules in the crate's `import` module): users,
//! their credential accounts and their sessions, in the import's one write transaction.

pub(crate) const FIND_USER: &str = "SELECT id, email FROM users WHERE id = $1 OR email = $2";

pub(crate) const INSERT_USER: &str = "INSERT INTO users (id, name, email, email_verified, image, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const FIND_CREDENTIAL: &str =
    "SELECT id FROM accounts WHERE user_id = $1 AND provider_id = 'credential'";

pub(crate) const INSERT_CREDENTIAL: &str = "INSERT INTO accounts (id, user_id, provider_id, account_id, password_hash, created_at, updated_at) \
     VALUES ($1, $2, 'credential', $2, $3, $4, $5)";

pub(crate) const FIND_SESSION: &str =
    "SELECT id, token_digest FROM sessions WHERE id = $1 OR token_digest = $2";

pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (id, user_id, token_digest, expires_at, created_at, updated_at, ip_address, user_agent, remember) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

pub(crate) const FIND_IDENTITY: &str = "SELECT id, user_id, issuer, account_id FROM accounts WHERE id = $1 OR (issuer = $2 AND account_id = $3)";

pub(crate) const INSERT_IDENTITY: &str = "INSERT INTO accounts (id, user_id, provider_id, account_id, issuer, scope, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const FIND_TWO_FACTOR: &str = "SELECT user_id FROM two_factors WHERE user_id = $1";

pub(crate) const INSERT_TWO_FACTOR: &str = "INSERT INTO two_factors (user_id, secret, verified_at, last_step, failures, locked_until, created_at, updated_at) \
     VALUES ($1, $2, $3, 0, 0, NULL, $3, $3)";

pub(crate) const INSERT_BACKUP_CODE: &str =
    "INSERT INTO backup_codes (id, user_id, code_digest, created_at) VALUES ($1, $2, $3, $4)";

pub(crate) const ENABLE_TWO_FACTOR: &str = "UPDATE users SET two_factor_enabled = $1 WHERE id = $2";

/// Implements [`crate::ImportStore`] (see the module docs of `sql` for what it expects).
macro_rules! impl_import_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::ImportStore for $store {
            async fn import_users(
                &self,
                users: &[$crate::ImportUser],
                dry_run: bool,
            ) -> $crate::Result<Vec<$crate::ImportedUser>> {
                let mut tx = self.begin_write().await?;
                let mut out = Vec::with_capacity(users.len());
                for user in users {
                    out.push($crate::sql::import::import_user!(tx, user));
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
pub(crate) use impl_import_store;

/// One user of [`crate::ImportStore::import_users`], run inside the import's write
/// transaction `$tx`.
macro_rules! import_user {
    ($tx:ident, $user:expr) => {{
        use $crate::sql::import as q;
        use $crate::{CredentialImport as C, SessionImport as S, UserImport as U};
        let u: &$crate::ImportUser = $user;
        let found: Vec<(String, String)> = sqlx::query_as(q::FIND_USER)
            .bind(&u.id)
            .bind(&u.email)
            .fetch_all(&mut *$tx)
            .await
            .map_err(map_err)?;
        let user = if found
            .iter()
            .any(|(id, email)| *id == u.id && *email == u.email)
        {
            U::Present
        } else if found.iter().any(|(id, _)| *id == u.id) {
            U::IdTaken
        } else if !found.is_empty() {
            U::EmailTaken
        } else {
            sqlx::query(q::INSERT_USER)
                .bind(&u.id)
                .bind(&u.name)
                .bind(&u.email)
                .bind(u.email_verified)
                .bind(&u.image)
                .bind(u.created_at)
                .bind(u.updated_at)
                .execute(&mut *$tx)
                .await
                .map_err(map_err)?;
            U::Created
        };
        let kept = matches!(user, U::Created | U::Present);
        let credential = match (&u.credential, kept) {
            (_, false) => C::UserSkipped,
            (None, true) => C::NoneGiven,
            (Some(c), true) => {
                let has: Option<(String,)> = sqlx::query_as(q::FIND_CREDENTIAL)
                    .bind(&u.id)
                    .fetch_optional(&mut *$tx)
                    .await
                    .map_err(map_err)?;
                if has.is_some() {
                    C::Present
                } else {
                    sqlx::query(q::INSERT_CREDENTIAL)
                        .bind(format!("acc_{}", u.id))
                        .bind(&u.id)
                        .bind(&c.password_hash)
                        .bind(c.created_at)
                        .bind(c.updated_at)
                        .execute(&mut *$tx)
                        .await
                        .map_err(map_err)?;
                    C::Created
                }
            }
        };
        let mut sessions = Vec::with_capacity(u.sessions.len());
        for s in &u.sessions {
            if !kept {
                sessions.push(S::UserSkipped);
                continue;
            }
            let same: Vec<(String, String)> = sqlx::query_as(q::FIND_SESSION)
                .bind(&s.id)
                .bind(&s.token_digest)
                .fetch_all(&mut *$tx)
                .await
                .map_err(map_err)?;
            let outcome = if same
                .iter()
                .any(|(id, d)| *id == s.id && *d == s.token_digest)
            {
                S::Present
            } else if !same.is_empty() {
                S::Conflict
            } else if user == U::Present {
                S::UserImportedEarlier
            } else {
                sqlx::query(q::INSERT_SESSION)
                    .bind(&s.id)
                    .bind(&u.id)
                    .bind(&s.token_digest)
                    .bind(s.expires_at)
                    .bind(s.created_at)
                    .bind(s.updated_at)
                    .bind(&s.ip_address)
                    .bind(&s.user_agent)
                    .bind(true)
                    .execute(&mut *$tx)
                    .await
                    .map_err(map_err)?;
                S::Created
            };
            sessions.push(outcome);
        }
        let mut identities = Vec::with_capacity(u.identities.len());
        for i in &u.identities {
            if !kept {
                identities.push($crate::IdentityImport::UserSkipped);
                continue;
            }
            let same: Vec<(String, String, String, String)> = sqlx::query_as(q::FIND_IDENTITY)
                .bind(&i.id)
                .bind(&i.issuer)
                .bind(&i.subject)
                .fetch_all(&mut *$tx)
                .await
                .map_err(map_err)?;
            let outcome = if same
                .iter()
                .any(|(_, owner, iss, sub)| *owner == u.id && *iss == i.issuer && *sub == i.subject)
            {
                $crate::IdentityImport::Present
            } else if !same.is_empty() {
                $crate::IdentityImport::Conflict
            } else {
                sqlx::query(q::INSERT_IDENTITY)
                    .bind(&i.id)
                    .bind(&u.id)
                    .bind(&i.provider_id)
                    .bind(&i.subject)
                    .bind(&i.issuer)
                    .bind(&i.scope)
                    .bind(i.created_at)
                    .bind(i.updated_at)
                    .execute(&mut *$tx)
                    .await
                    .map_err(map_err)?;
                $crate::IdentityImport::Created
            };
            identities.push(outcome);
        }
        let two_factor = match (&u.two_factor, kept) {
            (None, _) => None,
            (Some(_), false) => Some($crate::TwoFactorImport::UserSkipped),
            (Some(t), true) => {
                let has: Option<(String,)> = sqlx::query_as(q::FIND_TWO_FACTOR)
                    .bind(&u.id)
                    .fetch_optional(&mut *$tx)
                    .await
                    .map_err(map_err)?;
                if has.is_some() {
                    Some($crate::TwoFactorImport::Present)
                } else {
                    sqlx::query(q::INSERT_TWO_FACTOR)
                        .bind(&u.id)
                        .bind(&t.sealed_secret)
                        .bind(t.verified_at)
                        .execute(&mut *$tx)
                        .await
                        .map_err(map_err)?;
                    for d in &t.backup_digests {
                        sqlx::query(q::INSERT_BACKUP_CODE)
                            .bind(tessera_core::id::new_id())
                            .bind(&u.id)
                            .bind(d)
                            .bind(t.verified_at)
                            .execute(&mut *$tx)
                            .await
                            .map_err(map_err)?;
                    }
                    sqlx::query(q::ENABLE_TWO_FACTOR)
                        .bind(true)
                        .bind(&u.id)
                        .execute(&mut *$tx)
                        .await
                        .map_err(map_err)?;
                    Some($crate::TwoFactorImport::Created)
                }
            }
        };
        $crate::ImportedUser {
            user,
            credential,
            sessions,
            identities,
            two_factor,
        }
    }};
}
pub(crate) use import_user;
