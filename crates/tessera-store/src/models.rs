//! Rows as the store hands them out. Wire formats live in the server; these are storage
//! shapes with unix-millisecond timestamps. The ones read from the database derive
//! `sqlx::FromRow` themselves: field names are column names, on both backends.

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct User {
    /// 32-character id.
    pub id: String,
    /// Display name (may be empty).
    pub name: String,
    /// Lower-cased email.
    pub email: String,
    /// Whether the email was verified (always false until verification exists).
    pub email_verified: bool,
    /// Avatar URL, stored as given.
    pub image: Option<String>,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Last change, unix ms.
    pub updated_at: i64,
    /// Set when an operator disabled the account.
    pub disabled_at: Option<i64>,
    /// Whether a confirmed second factor guards every sign-in.
    pub two_factor_enabled: bool,
}

/// What sign-up hands to [`crate::UserStore::create_user`].
#[derive(Debug, Clone)]
pub struct NewUser {
    /// New 32-character id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Lower-cased email.
    pub email: String,
    /// Avatar URL.
    pub image: Option<String>,
    /// Creation time, unix ms.
    pub now_ms: i64,
}

/// A sign-in session.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    /// 32-character id; appears as `sid` in access tokens and is not secret.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Expiry, unix ms.
    pub expires_at: i64,
    /// Creation, unix ms.
    pub created_at: i64,
    /// Last extension, unix ms.
    pub updated_at: i64,
    /// Client IP at creation (`""` when unknown).
    pub ip_address: String,
    /// Client user agent at creation (`""` when absent).
    pub user_agent: String,
    /// False for `rememberMe: false` sessions, which are never extended.
    pub remember: bool,
    /// How it was authenticated: RFC 8176 values separated by spaces (`pwd`, `pwd otp mfa`).
    pub amr: String,
    /// When its strongest authentication happened, unix ms (the second factor's time when
    /// `amr` has `mfa`).
    pub auth_time: i64,
}

/// What sign-in hands to [`crate::SessionStore::create_session`].
#[derive(Debug, Clone)]
pub struct NewSession {
    /// New 32-character id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// SHA-256 hex of the session token.
    pub token_digest: String,
    /// Expiry, unix ms.
    pub expires_at: i64,
    /// Creation, unix ms.
    pub now_ms: i64,
    /// Client IP.
    pub ip_address: String,
    /// Client user agent.
    pub user_agent: String,
    /// See [`Session::remember`].
    pub remember: bool,
    /// See [`Session::amr`].
    pub amr: String,
    /// See [`Session::auth_time`].
    pub auth_time: i64,
}

/// A JWT signing key as stored.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRow {
    /// Key id (`kid`).
    pub kid: String,
    /// 1 for the first key, +1 per rotation.
    pub generation: i64,
    /// JWS algorithm (`EdDSA`, `ES256`, `RS256`).
    pub alg: String,
    /// Public JWK as JSON.
    pub public_jwk: String,
    /// Encrypted private key (opaque to the store).
    pub private_key: String,
    /// Creation, unix ms.
    pub created_at: i64,
    /// When a newer key took over signing.
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for SigningKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRow")
            .field("kid", &self.kid)
            .field("generation", &self.generation)
            .field("alg", &self.alg)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRow {
    /// 32-character id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Done?
    pub completed: bool,
    /// Creation, unix ms.
    pub created_at: i64,
    /// Last change, unix ms.
    pub updated_at: i64,
}

/// A partial update of a task; `None` fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct TaskChange {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New completion state.
    pub completed: Option<bool>,
    /// Flip the completion state (applied after `completed`).
    pub toggle_completed: bool,
}

/// A refresh credential to store (by digest).
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    /// Row id.
    pub id: String,
    /// The session it keeps alive.
    pub session_id: String,
    /// SHA-256 hex of the credential.
    pub token_digest: String,
    /// The credential it replaces, if any.
    pub parent_id: Option<String>,
    /// Creation, unix ms.
    pub now_ms: i64,
}

/// What presenting a refresh credential led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// No such credential.
    Unknown,
    /// The credential's session was revoked or has expired.
    SessionEnded,
    /// Rotated: the successor was stored. The session's expiry was extended.
    Rotated {
        /// The session (after extension).
        session: Session,
        /// Its user.
        user: User,
    },
    /// Presented again within the grace window while its successor is still unused: the
    /// caller hands out that same successor again.
    Replayed {
        /// The session.
        session: Session,
        /// Its user.
        user: User,
    },
    /// Presented again after the grace window (or after its successor was used too): reuse
    /// of a stolen credential. The whole session has been revoked.
    Reused {
        /// The revoked session.
        session_id: String,
        /// Its user.
        user_id: String,
    },
}

/// The rules [`crate::RefreshStore::rotate_refresh_token`] applies.
#[derive(Debug, Clone, Copy)]
pub struct RefreshPolicy {
    /// Now, unix ms.
    pub now_ms: i64,
    /// How long after a rotation the same credential may be presented again.
    pub grace_ms: i64,
    /// How far a successful rotation extends the session (it is activity).
    pub lifetime: tessera_core::SessionLifetime,
}

/// A user's TOTP authenticator as stored.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TwoFactorRow {
    /// Owner.
    pub user_id: String,
    /// The encrypted TOTP key (opaque to the store).
    pub secret: String,
    /// When the enrolment was confirmed by a valid code; `None` while pending.
    pub verified_at: Option<i64>,
    /// The TOTP step of the last accepted code.
    pub last_step: i64,
    /// Consecutive failed second-factor attempts.
    pub failures: i64,
    /// No second factor is checked before this time, unix ms.
    pub locked_until: Option<i64>,
}

impl std::fmt::Debug for TwoFactorRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwoFactorRow")
            .field("user_id", &self.user_id)
            .field("verified_at", &self.verified_at)
            .field("last_step", &self.last_step)
            .field("failures", &self.failures)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// A pending second-factor challenge to store (by digest).
#[derive(Debug, Clone)]
pub struct NewChallenge {
    /// Row id.
    pub id: String,
    /// SHA-256 hex of the challenge cookie's value.
    pub token_digest: String,
    /// The user who passed the first factor.
    pub user_id: String,
    /// The first factor's `amr` values.
    pub amr: String,
    /// The sign-in's `rememberMe`.
    pub remember: bool,
    /// The sign-in asked for a refresh credential.
    pub refresh_grant: bool,
    /// Expiry, unix ms.
    pub expires_at: i64,
    /// Creation, unix ms.
    pub now_ms: i64,
}

/// A challenge as an attempt sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChallengeRow {
    /// Row id.
    pub id: String,
    /// The user who passed the first factor.
    pub user_id: String,
    /// The first factor's `amr` values.
    pub amr: String,
    /// The sign-in's `rememberMe`.
    pub remember: bool,
    /// The sign-in asked for a refresh credential.
    pub refresh_grant: bool,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// What an attempt against a challenge found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeAttempt {
    /// Unknown, expired or already used.
    Invalid,
    /// Live, but its attempts are spent.
    Exhausted,
    /// Live; this attempt was counted.
    Counted(ChallengeRow),
}

/// A trusted browser to store (by digest).
#[derive(Debug, Clone)]
pub struct NewTrustedDevice {
    /// Row id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// SHA-256 hex of the cookie's value.
    pub token_digest: String,
    /// When the second factor that earned the trust was verified, unix ms.
    pub mfa_at: i64,
    /// The browser's user agent.
    pub user_agent: String,
    /// Expiry, unix ms.
    pub expires_at: i64,
    /// Creation, unix ms.
    pub now_ms: i64,
}

/// What a token sent by email is for. A token is only ever accepted for its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailTokenPurpose {
    /// Proves the user receives mail at their address.
    VerifyEmail,
    /// Lets the user choose a new password.
    ResetPassword,
    /// Sent to the current address: confirms a change of address the user asked for.
    ConfirmEmailChange,
    /// Sent to the new address: proves the user receives mail there, and makes the change.
    VerifyNewEmail,
    /// A sign-in link (`magicLink`).
    MagicLink,
    /// A 6-digit sign-in code (`emailOTP`, type `sign-in`).
    SignInCode,
    /// A 6-digit code that verifies the address (`emailOTP`, type `email-verification`).
    VerifyEmailCode,
    /// A 6-digit code that stands in for the second factor (`twoFactor`'s `send-otp`).
    TwoFactorCode,
    /// A 6-digit code that lets the user choose a new password (`emailOTP`, type
    /// `forget-password`).
    ResetPasswordCode,
}

impl EmailTokenPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify-email",
            Self::ResetPassword => "reset-password",
            Self::ConfirmEmailChange => "confirm-email-change",
            Self::VerifyNewEmail => "verify-new-email",
            Self::MagicLink => "magic-link",
            Self::SignInCode => "sign-in-code",
            Self::VerifyEmailCode => "verify-email-code",
            Self::TwoFactorCode => "two-factor-code",
            Self::ResetPasswordCode => "reset-password-code",
        }
    }

    /// The purpose a stored name stands for.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "verify-email" => Self::VerifyEmail,
            "reset-password" => Self::ResetPassword,
            "confirm-email-change" => Self::ConfirmEmailChange,
            "verify-new-email" => Self::VerifyNewEmail,
            "magic-link" => Self::MagicLink,
            "sign-in-code" => Self::SignInCode,
            "verify-email-code" => Self::VerifyEmailCode,
            "two-factor-code" => Self::TwoFactorCode,
            "reset-password-code" => Self::ResetPasswordCode,
            _ => return None,
        })
    }
}

/// A token to store (by digest) before the message carrying it is sent.
#[derive(Debug, Clone)]
pub struct NewEmailToken {
    /// SHA-256 digest (hex) of the token.
    pub token_digest: String,
    /// What it is for.
    pub purpose: EmailTokenPurpose,
    /// Whose it is.
    pub user_id: String,
    /// The user's address now.
    pub email: String,
    /// For a change of address: the address asked for.
    pub new_email: Option<String>,
    /// For a sign-up link: the name asked for.
    pub name: Option<String>,
    /// Creation, unix ms.
    pub now_ms: i64,
    /// Expiry, unix ms.
    pub expires_at: i64,
}

/// A code to store (by keyed digest) before the message carrying it is sent. Storing it
/// voids the user's earlier live codes of the same purpose: one code works at a time.
#[derive(Debug, Clone)]
pub struct NewEmailCode {
    /// A unique key for the row (the digest of a random value that is never sent).
    pub row_key: String,
    /// The keyed digest of the code (bound to its user and purpose by the caller).
    pub code_digest: String,
    /// What it is for.
    pub purpose: EmailTokenPurpose,
    /// Whose it is.
    pub user_id: String,
    /// The user's address now.
    pub email: String,
    /// What the code is bound to (a two-factor challenge or session), if anything.
    pub bound_to: Option<String>,
    /// Creation, unix ms.
    pub now_ms: i64,
    /// Expiry, unix ms.
    pub expires_at: i64,
}

/// What [`crate::EmailTokenStore::try_email_code`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeAttempt {
    /// The code was right; it is used up now (unless the caller only checked it).
    Accepted(EmailTokenRow),
    /// A live code exists and this was not it; `attempts_left` more tries (0: it is dead).
    Wrong {
        /// Tries the code still takes.
        attempts_left: i64,
    },
    /// The latest code expired.
    Expired,
    /// The latest code took all its tries already.
    Exhausted,
    /// No code is waiting (none sent, or used).
    NoCode,
}

/// A token as read (or consumed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EmailTokenRow {
    /// Stored purpose name (see [`EmailTokenPurpose::parse`]).
    pub purpose: String,
    /// Whose it is.
    pub user_id: String,
    /// The user's address when it was made.
    pub email: String,
    /// For a change of address: the address asked for.
    pub new_email: Option<String>,
    /// For a sign-up link: the name asked for.
    pub name: Option<String>,
    /// Expiry, unix ms.
    pub expires_at: i64,
}

/// What [`crate::EmailTokenStore::consume_email_token`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// The token was live and is now used up.
    Fresh(EmailTokenRow),
    /// The token exists but had expired (it is used up now too).
    Expired,
    /// No such token, already used, or made for another purpose.
    Unknown,
}

/// The outcome of a password reset in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetOutcome {
    /// The password was set; every session of the user ended (their ids).
    Reset {
        /// The user whose password changed.
        user: User,
        /// Sessions that ended.
        ended_sessions: Vec<String>,
    },
    /// The token was expired.
    Expired,
    /// No such token, already used, or for another purpose or an address the user no longer
    /// has.
    Invalid,
}

/// A message to put in the outbox.
#[derive(Debug, Clone)]
pub struct NewMail {
    /// New id.
    pub id: String,
    /// Which message (see the `outbox` table).
    pub kind: String,
    /// Lower-cased address.
    pub recipient: String,
    /// The user it is about, when known.
    pub user_id: Option<String>,
    /// JSON parameters of the message.
    pub payload: String,
    /// Creation, unix ms.
    pub now_ms: i64,
}

/// A message claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MailRow {
    /// Id.
    pub id: String,
    /// Which message.
    pub kind: String,
    /// Lower-cased address.
    pub recipient: String,
    /// The user it is about, when known.
    pub user_id: Option<String>,
    /// JSON parameters.
    pub payload: String,
    /// `pending`, `sent`, `dropped` or `failed`.
    pub status: String,
    /// Attempts so far (the current one included, once claimed).
    pub attempts: i64,
    /// Creation, unix ms.
    pub created_at: i64,
    /// When it is due (again), unix ms.
    pub next_attempt_at: i64,
    /// When it was sent, dropped or given up, unix ms.
    pub done_at: Option<i64>,
    /// The last failure.
    pub last_error: Option<String>,
}

/// How a send attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailResult {
    /// Accepted by the SMTP server.
    Sent,
    /// Nothing to send (unknown address, already verified …).
    Dropped,
    /// Failed for good (e.g. a refused recipient); the reason is kept.
    Failed(String),
    /// Failed for now; try again at the given time.
    Retry {
        /// Next attempt, unix ms.
        at_ms: i64,
        /// The reason.
        error: String,
    },
}

/// Outbox figures for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Waiting to be sent.
    pub pending: i64,
    /// Given up.
    pub failed: i64,
}

/// An identity at a provider, keyed by (issuer, subject), as linked to a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIdentity {
    /// Row id.
    pub id: String,
    /// The configured provider id (`github`, `google`, `acme`).
    pub provider_id: String,
    /// The exact OpenID Connect issuer, or `local:oauth:<provider id>` for plain OAuth 2.0.
    pub issuer: String,
    /// The subject at that issuer (`sub`, or GitHub's numeric user id).
    pub subject: String,
    /// The scopes the provider granted, space-separated.
    pub scope: Option<String>,
    /// The address the provider reported, lower-cased.
    pub email: Option<String>,
    /// Now, unix ms.
    pub now_ms: i64,
}

/// One way a user signs in (a row of `accounts`), as listed on the account page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AccountRow {
    /// Row id (what `/unlink-account` names in Better Auth 1.7).
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// `credential` or the configured provider id.
    pub provider_id: String,
    /// The subject at the provider (the user id for the password credential).
    pub account_id: String,
    /// See [`NewIdentity::issuer`]; `local:credential` for the password.
    pub issuer: String,
    /// Granted scopes, space-separated.
    pub scope: Option<String>,
    /// The provider's address at link time.
    pub email: Option<String>,
    /// Whether this row is a usable password credential.
    pub has_password: bool,
    /// Creation, unix ms.
    pub created_at: i64,
    /// Last change, unix ms.
    pub updated_at: i64,
}

/// An authorization request in flight (a row of `oauth_states`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OAuthStateRow {
    /// SHA-256 hex of the `state` parameter.
    pub state_digest: String,
    /// The provider the flow was started for.
    pub provider_id: String,
    /// Where to go on success.
    pub callback_url: String,
    /// Where a new user goes.
    pub new_user_url: Option<String>,
    /// Where errors go.
    pub error_url: Option<String>,
    /// Set for `/link-social`: the user the identity is linked to.
    pub link_user_id: Option<String>,
    /// Creation, unix ms.
    pub created_at: i64,
    /// Expiry, unix ms.
    pub expires_at: i64,
}

/// What [`crate::IdentityStore::unlink_account`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlinkOutcome {
    /// The account was removed.
    Unlinked,
    /// The user has no such account.
    NotFound,
    /// It is the user's last way to sign in: nothing was removed.
    LastAccount,
}

/// A passkey (WebAuthn credential) as stored: Better Auth's `passkey` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasskeyRow {
    /// Row id.
    pub id: String,
    /// Owner.
    pub user_id: String,
    /// The user's label.
    pub name: Option<String>,
    /// The credential id, base64url without padding.
    pub credential_id: String,
    /// The COSE public key, standard base64 with padding.
    pub public_key: String,
    /// The signature counter at the last accepted use.
    pub counter: i64,
    /// `singleDevice` or `multiDevice`.
    pub device_type: String,
    /// Whether the credential is backed up (synced).
    pub backed_up: bool,
    /// Comma-joined transports.
    pub transports: Option<String>,
    /// The authenticator model's AAGUID.
    pub aaguid: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the last sign-in with it.
    pub last_used_at: Option<i64>,
}

/// What `import_passkeys` did with one passkey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasskeyImport {
    /// Inserted.
    Created,
    /// The same passkey (id, credential id and user) is already there.
    Present,
    /// No user with its `user_id` in Tessera (not imported, or skipped): left out.
    NoSuchUser,
    /// Another passkey already has this id or credential id: left out.
    Conflict,
}

/// A WebAuthn ceremony in flight, as stored (by the digest of its cookie's value).
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasskeyChallengeRow {
    /// SHA-256 hex of the cookie's value.
    pub token_digest: String,
    /// `register` or `authenticate`.
    pub kind: String,
    /// The registering user (`None` for a sign-in).
    pub user_id: Option<String>,
    /// The relying party's ceremony state, JSON (holds the challenge).
    pub state: String,
    /// Unix ms.
    pub expires_at: i64,
    /// Unix ms.
    pub created_at: i64,
}

impl std::fmt::Debug for PasskeyChallengeRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyChallengeRow")
            .field("kind", &self.kind)
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}
