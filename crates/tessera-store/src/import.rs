//! Bringing users over from another system (today: a Better Auth database, see
//! `tessera import better-auth`). The caller reads and normalises the source; the store
//! writes it in one transaction with [`crate::ImportStore::import_users`], deciding per row
//! whether it is new, already there, or in conflict with what Tessera holds.
//!
//! Rules, so that an import can be re-run at any time without harm:
//! * a Tessera user is never changed: a user whose id *and* email are already present counts
//!   as present; an id or email that belongs to someone else is a conflict and is skipped;
//! * a password (credential account) is added only when the user has none in Tessera;
//! * sessions are added only for users created by this import. A session of a user imported
//!   earlier may have been ended in Tessera and its row purged since, so it is never revived;
//! * an identity at a provider (issuer, subject) is added when no Tessera account holds it
//!   (one linked to another user is a conflict, skipped), like a password: so a re-run after
//!   an upgrade brings identities over, and also re-adds one a user unlinked in Tessera;
//! * two-factor (the TOTP key, the backup codes, `two_factor_enabled`) is added only when the
//!   user has no authenticator in Tessera, confirmed or pending.

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
    /// Identities at providers (GitHub, Google, OpenID Connect).
    pub identities: Vec<ImportIdentity>,
    /// A confirmed TOTP authenticator with its backup codes.
    pub two_factor: Option<ImportTwoFactor>,
}

/// An identity at a provider, keyed by (issuer, subject) as the sign-in flow looks it up.
#[derive(Debug, Clone)]
pub struct ImportIdentity {
    /// The account row id to keep (`/list-accounts` and `/unlink-account` name it).
    pub id: String,
    /// The configured provider id (`github`, `google`, `<id>` of `[providers.<id>]`).
    pub provider_id: String,
    /// The provider's issuer (`local:oauth:<id>` for plain OAuth 2.0).
    pub issuer: String,
    /// The subject at that issuer.
    pub subject: String,
    /// The scopes granted, space-separated.
    pub scope: Option<String>,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Last change, unix ms.
    pub updated_at: i64,
}

/// A confirmed TOTP authenticator, already in Tessera's stored forms.
#[derive(Clone)]
pub struct ImportTwoFactor {
    /// The TOTP key sealed with Tessera's key (as `two_factors.secret`).
    pub sealed_secret: String,
    /// Keyed digests of the unused backup codes.
    pub backup_digests: Vec<String>,
    /// When the import confirmed it, unix ms.
    pub verified_at: i64,
}

impl fmt::Debug for ImportTwoFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportTwoFactor")
            .field("backup_codes", &self.backup_digests.len())
            .finish_non_exhaustive()
    }
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
    /// One outcome per identity given, in order.
    pub identities: Vec<IdentityImport>,
    /// The two-factor outcome (`None` when none was given).
    pub two_factor: Option<TwoFactorImport>,
}

/// Outcome for an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityImport {
    /// Inserted.
    Created,
    /// The user already has this identity.
    Present,
    /// The identity (or the row id) belongs to another user or account; skipped.
    Conflict,
    /// The user was skipped.
    UserSkipped,
}

/// Outcome for a two-factor enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoFactorImport {
    /// Inserted, and two-factor turned on for the user.
    Created,
    /// The user already has an authenticator in Tessera; left as it is.
    Present,
    /// The user was skipped.
    UserSkipped,
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
