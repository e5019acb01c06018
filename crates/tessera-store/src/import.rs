//! Bringing users over from another system (today: a Better Auth database, see
//! `tessera import better-auth`). The caller reads and normalises the source; the store
//! writes it in one transaction with [`crate::Store::import_users`], deciding per row
//! whether it is new, already there, or in conflict with what Tessera holds.
//!
//! Rules, so that an import can be re-run at any time without harm:
//! * a Tessera user is never changed: a user whose id *and* email are already present counts
//!   as present; an id or email that belongs to someone else is a conflict and is skipped;
//! * a password (credential account) is added only when the user has none in Tessera;
//! * sessions are added only for users created by this import. A session of a user imported
//!   earlier may have been ended in Tessera and its row purged since, so it is never revived.

use std::fmt;

/// A user to import, with what Tessera should know of them.
#[derive(Debug, Clone)]
pub struct ImportUser {
    /// The id to keep (JWT `sub`s and application data refer to it).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email, already normalised the way Tessera stores it.
    pub email: String,
    /// Whether the source had verified the address.
    pub email_verified: bool,
    /// Avatar URL.
    pub image: Option<String>,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Last change, unix ms.
    pub updated_at: i64,
    /// The email-and-password credential, when the user has one.
    pub credential: Option<ImportCredential>,
    /// Live sessions to carry over.
    pub sessions: Vec<ImportSession>,
}

/// A password hash to import (Argon2 PHC, or a Better Auth scrypt string that Tessera
/// verifies and upgrades to Argon2id at the next sign-in).
#[derive(Clone)]
pub struct ImportCredential {
    /// The stored hash.
    pub password_hash: String,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Last change, unix ms.
    pub updated_at: i64,
}

impl fmt::Debug for ImportCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportCredential")
            .field("password_hash", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// A session to import, by the digest of its token (the token itself is never stored).
#[derive(Clone)]
pub struct ImportSession {
    /// Session id (appears as `sid` in access tokens).
    pub id: String,
    /// SHA-256 hex of the session token.
    pub token_digest: String,
    /// Expiry, unix ms.
    pub expires_at: i64,
    /// Creation, unix ms.
    pub created_at: i64,
    /// Last extension, unix ms.
    pub updated_at: i64,
    /// Client IP (`""` when unknown).
    pub ip_address: String,
    /// Client user agent (`""` when unknown).
    pub user_agent: String,
}

impl fmt::Debug for ImportSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportSession")
            .field("id", &self.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What happened to one imported user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedUser {
    /// The user row.
    pub user: UserImport,
    /// Their credential.
    pub credential: CredentialImport,
    /// One outcome per session given, in order.
    pub sessions: Vec<SessionImport>,
}

/// Outcome for a user row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserImport {
    /// Inserted.
    Created,
    /// A user with this id and email is already there (imported before); left as it is.
    Present,
    /// Another user already has this email; skipped.
    EmailTaken,
    /// This id already belongs to a user with another email; skipped.
    IdTaken,
}

/// Outcome for a user's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialImport {
    /// Inserted.
    Created,
    /// The user already has a credential in Tessera; left as it is.
    Present,
    /// None was given (the user signs in some other way at the source).
    NoneGiven,
    /// The user was skipped.
    UserSkipped,
}

/// Outcome for a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionImport {
    /// Inserted.
    Created,
    /// A session with this id and token digest is already there.
    Present,
    /// The user was imported earlier: the session may have ended in Tessera since, so it is
    /// not added.
    UserImportedEarlier,
    /// The user was skipped.
    UserSkipped,
    /// Another session already has this id or token digest.
    Conflict,
}

/// The body of [`crate::Store::import_users`] for one user, run inside the import's write
/// transaction `$tx` (with `map_err` in scope, as in `impl_store!`). Written once as a macro
/// for the same reason as the rest of `sql.rs`: one SQL text for both backends.
macro_rules! import_user {
    ($tx:ident, $user:expr) => {{
        use $crate::{CredentialImport as C, SessionImport as S, UserImport as U};
        let u: &$crate::ImportUser = $user;
        let found: Vec<(String, String)> =
            sqlx::query_as("SELECT id, email FROM users WHERE id = $1 OR email = $2")
                .bind(&u.id)
                .bind(&u.email)
                .fetch_all(&mut *$tx)
                .await
                .map_err(map_err)?;
        let user = if found.iter().any(|(id, email)| *id == u.id && *email == u.email) {
            U::Present
        } else if found.iter().any(|(id, _)| *id == u.id) {
            U::IdTaken
        } else if !found.is_empty() {
            U::EmailTaken
        } else {
            sqlx::query(
                "INSERT INTO users (id, name, email, email_verified, image, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
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
                let has: Option<(String,)> = sqlx::query_as(
                    "SELECT id FROM accounts WHERE user_id = $1 AND provider_id = 'credential'",
                )
                .bind(&u.id)
                .fetch_optional(&mut *$tx)
                .await
                .map_err(map_err)?;
                if has.is_some() {
                    C::Present
                } else {
                    sqlx::query(
                        "INSERT INTO accounts (id, user_id, provider_id, account_id, password_hash, created_at, updated_at) \
                         VALUES ($1, $2, 'credential', $2, $3, $4, $5)",
                    )
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
            let same: Vec<(String, String)> = sqlx::query_as(
                "SELECT id, token_digest FROM sessions WHERE id = $1 OR token_digest = $2",
            )
            .bind(&s.id)
            .bind(&s.token_digest)
            .fetch_all(&mut *$tx)
            .await
            .map_err(map_err)?;
            let outcome = if same.iter().any(|(id, d)| *id == s.id && *d == s.token_digest) {
                S::Present
            } else if !same.is_empty() {
                S::Conflict
            } else if user == U::Present {
                S::UserImportedEarlier
            } else {
                sqlx::query(
                    "INSERT INTO sessions (id, user_id, token_digest, expires_at, created_at, updated_at, ip_address, user_agent, remember) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
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
        $crate::ImportedUser {
            user,
            credential,
            sessions,
        }
    }};
}
pub(crate) use import_user;
