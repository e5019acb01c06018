//! The port: one trait per aggregate, so a part of the server can be handed a handle that
//! reaches only what it needs (the tasks API holds an `Arc<dyn TaskStore>` and cannot touch
//! sessions), and [`Store`], their union, for the code that needs everything. An
//! `Arc<dyn Store>` converts into an `Arc<dyn TaskStore>` (trait upcasting).
//!
//! Implementations must be safe under concurrent use from many requests and, for shared
//! databases, from several processes.

use async_trait::async_trait;

use crate::{
    AccountRow, ChallengeAttempt, CodeAttempt, Consumed, EmailTokenPurpose, EmailTokenRow,
    ImportUser, ImportedUser, MailResult, MailRow, NewChallenge, NewEmailCode, NewEmailToken,
    NewIdentity, NewMail, NewRefreshToken, NewSession, NewTrustedDevice, NewUser, OAuthStateRow,
    OutboxCounts, PasskeyChallengeRow, PasskeyImport, PasskeyRow, RefreshOutcome, RefreshPolicy,
    ResetOutcome, Result, Session, SessionId, SigningKeyRow, TaskChange, TaskId, TaskRow,
    TwoFactorRow, UnlinkOutcome, User, UserId,
};

/// The connection pool behind every aggregate.
#[async_trait]
pub trait Database: Send + Sync + std::fmt::Debug + 'static {
    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> Result<()>;

    /// Closes the pool once connections in use are returned (at shutdown).
    async fn close(&self);

    /// Connections the pool holds, and how many of them are idle (for metrics).
    fn pool_stats(&self) -> (u32, u32);
}

/// Users and their password credentials.
#[async_trait]
pub trait UserStore: Send + Sync + std::fmt::Debug + 'static {
    /// Creates a user and its credential account in one transaction. A taken email gives
    /// `Conflict("users_email_key")` and writes nothing.
    async fn create_user(&self, user: &NewUser, password_hash: &str) -> Result<User>;

    /// Creates a user with a verified address and no way in yet but their mailbox: sign-up by
    /// magic link or email code, which proved the address. A taken email gives
    /// `Conflict("users_email_key")` and writes nothing.
    async fn create_verified_user(&self, user: &NewUser) -> Result<User>;

    /// The user with this (normalised) email and their password hash, if any.
    async fn user_with_password_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(User, Option<String>)>>;

    /// The user with this id and their password hash, if any.
    async fn user_with_password_by_id(
        &self,
        user_id: &str,
    ) -> Result<Option<(User, Option<String>)>>;

    /// Disables (or re-enables) a user. Disabling ends every live session in the same
    /// transaction; returns the ids of the sessions it ended. `Ok(None)` when there is no
    /// such user.
    async fn set_user_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        now_ms: i64,
    ) -> Result<Option<Vec<String>>>;

    /// Deletes a user with their credentials and tasks; their sessions are marked revoked
    /// (not deleted, so revocation feeds keep listing them until their tokens expire).
    /// Returns the ended session ids, or `None` when there is no such user.
    async fn delete_user(&self, user_id: &str, now_ms: i64) -> Result<Option<Vec<String>>>;

    /// Users, oldest first, for the admin CLI.
    async fn list_users(&self, limit: u32, offset: u32) -> Result<Vec<User>>;

    /// Replaces the credential hash (password change, or rehash after sign-in).
    async fn set_password_hash(&self, user_id: UserId<'_>, hash: &str, now_ms: i64) -> Result<()>;

    /// Changes the name and/or the image (`Some(None)` removes it); `None` when there is no
    /// such user.
    async fn update_profile(
        &self,
        user_id: UserId<'_>,
        name: Option<&str>,
        image: Option<Option<&str>>,
        now_ms: i64,
    ) -> Result<Option<User>>;
}

/// Tokens carried by email links, and the account changes they authorise. Each write that
/// uses a token up does so in the statement that reads it, so a token works once even under
/// concurrent requests.
#[async_trait]
pub trait EmailTokenStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a token (by digest) before the message carrying it is sent.
    async fn create_email_token(&self, token: &NewEmailToken) -> Result<()>;

    /// The live token with this digest and purpose, without using it up (the reset link's
    /// GET, which a mail scanner may fetch).
    async fn peek_email_token(
        &self,
        token_digest: &str,
        purpose: EmailTokenPurpose,
        now_ms: i64,
    ) -> Result<Option<EmailTokenRow>>;

    /// Uses a token up if it has one of `purposes` (1 to 3 of them).
    async fn consume_email_token(
        &self,
        token_digest: &str,
        purposes: &[EmailTokenPurpose],
        now_ms: i64,
    ) -> Result<Consumed>;

    /// Marks the user's address verified if it is still `email`; false otherwise.
    async fn mark_email_verified(
        &self,
        user_id: UserId<'_>,
        email: &str,
        now_ms: i64,
    ) -> Result<bool>;

    /// Moves the user from `old_email` to `new_email` (verified), voiding the links sent to
    /// the old address. `None` if the user no longer has `old_email`; a taken address gives
    /// `Conflict("users_email_key")`.
    async fn change_email(
        &self,
        user_id: UserId<'_>,
        old_email: &str,
        new_email: &str,
        now_ms: i64,
    ) -> Result<Option<User>>;

    /// In one transaction: uses up a reset token, sets the password (creating the
    /// credential if the user had none), marks the address verified, voids the user's other
    /// reset links and ends every session of the user.
    async fn reset_password(
        &self,
        token_digest: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<ResetOutcome>;

    /// Stores a code, voiding the user's earlier live codes of its purpose, in one
    /// transaction.
    async fn create_email_code(&self, code: &NewEmailCode) -> Result<()>;

    /// Tries `code_digest` against the user's live code of `purpose` (bound to `bound_to`,
    /// if given) in one statement: the try is counted, and a right code is used up when
    /// `consume` (so of concurrent tries at most one is accepted), and no more than
    /// `max_attempts` tries are made, checks included.
    #[allow(clippy::too_many_arguments)]
    async fn try_email_code(
        &self,
        user_id: UserId<'_>,
        purpose: EmailTokenPurpose,
        bound_to: Option<&str>,
        code_digest: &str,
        max_attempts: i64,
        consume: bool,
        now_ms: i64,
    ) -> Result<CodeAttempt>;

    /// The first proof that a user receives mail at `email` (a magic link or an email code)
    /// for an account whose address was never verified: whatever was attached to the
    /// account before that proof may be someone else's (an account pre-registered with the
    /// victim's address), so in one transaction its password and identity links are
    /// removed, two-factor is turned off, its sessions end, and the address is marked
    /// verified. Returns the user as it is now and the ended sessions; `None` when the user
    /// no longer has `email`. A user whose address is verified already is returned as is.
    async fn promote_unproven_user(
        &self,
        user_id: UserId<'_>,
        email: &str,
        now_ms: i64,
    ) -> Result<Option<(User, Vec<String>)>>;

    /// Deletes tokens that expired before `before_ms`.
    async fn purge_email_tokens(&self, before_ms: i64) -> Result<u64>;
}

/// Mail waiting to be sent, and what became of it.
#[async_trait]
pub trait OutboxStore: Send + Sync + std::fmt::Debug + 'static {
    /// Puts a message in the outbox.
    async fn enqueue_mail(&self, mail: &NewMail) -> Result<()>;

    /// Claims up to `limit` due messages for `lease_ms`: no other sender (in this process
    /// or another) gets them until the lease runs out or [`Self::finish_mail`] is called.
    async fn claim_mail(&self, now_ms: i64, lease_ms: i64, limit: u32) -> Result<Vec<MailRow>>;

    /// Records how an attempt ended (and releases the claim).
    async fn finish_mail(&self, id: &str, result: &MailResult, now_ms: i64) -> Result<()>;

    /// Messages, newest first, optionally of one status (for operators).
    async fn list_mail(&self, status: Option<&str>, limit: u32) -> Result<Vec<MailRow>>;

    /// Puts failed messages (one, or all) back in the queue; returns how many.
    async fn requeue_failed_mail(&self, id: Option<&str>, now_ms: i64) -> Result<u64>;

    /// Pending and failed counts (for metrics).
    async fn outbox_counts(&self) -> Result<OutboxCounts>;

    /// Deletes sent and dropped messages finished before `before_ms`.
    async fn purge_mail(&self, before_ms: i64) -> Result<u64>;
}

/// Sign-in sessions, looked up by the digest of their token.
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a new session (by token digest).
    async fn create_session(&self, session: &NewSession) -> Result<Session>;

    /// The live (not revoked) session with this token digest, with its user. Expiry is the
    /// caller's business: it may want to clean the row up.
    async fn session_by_digest(&self, token_digest: &str) -> Result<Option<(Session, User)>>;

    /// The session with this id, live or not, with its user.
    async fn session_by_id(&self, session_id: &str) -> Result<Option<(Session, User)>>;

    /// Slides a session's expiry. Returns false when the session is gone or revoked.
    async fn extend_session(
        &self,
        session_id: &str,
        expires_at_ms: i64,
        now_ms: i64,
    ) -> Result<bool>;

    /// Records a second factor verified during a live session (step-up): its new `amr`
    /// and `auth_time`. Returns false when the session is gone or revoked.
    async fn step_up_session(&self, session_id: &str, amr: &str, auth_time_ms: i64)
    -> Result<bool>;

    /// Ends one session. Returns false if it was not live.
    async fn revoke_session(&self, session_id: &str, now_ms: i64) -> Result<bool>;

    /// Ends every live session of a user except `keep`; returns the ids it ended.
    async fn revoke_user_sessions(
        &self,
        user_id: UserId<'_>,
        keep: Option<SessionId<'_>>,
        now_ms: i64,
    ) -> Result<Vec<String>>;

    /// Ends every live session of every user; returns how many.
    async fn revoke_all_sessions(&self, now_ms: i64) -> Result<u64>;

    /// The user's live, unexpired sessions, newest first.
    async fn list_sessions(&self, user_id: &str, now_ms: i64) -> Result<Vec<Session>>;

    /// Live, unexpired sessions (for metrics).
    async fn count_active_sessions(&self, now_ms: i64) -> Result<i64>;

    /// Deletes rows of sessions that expired or were revoked before `before_ms`.
    async fn purge_sessions(&self, before_ms: i64) -> Result<u64>;

    /// Sessions revoked at or after `since_ms` (id, revoked_at), for revocation feeds.
    async fn revoked_sessions_since(&self, since_ms: i64) -> Result<Vec<(String, i64)>>;

    /// Up to `limit` sessions revoked after the position (`after_ms`, `after_id`), in
    /// (revoked_at, id) order: one page of the revocation feed.
    async fn revoked_sessions_after(
        &self,
        after_ms: i64,
        after_id: &str,
        limit: u32,
    ) -> Result<Vec<(String, i64)>>;
}

/// Refresh credentials: the rotating secrets of sessions without a session token.
#[async_trait]
pub trait RefreshStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a session's first refresh credential.
    async fn create_refresh_token(&self, token: &NewRefreshToken) -> Result<()>;

    /// The live session a refresh credential (by digest) belongs to, for sign-out.
    async fn session_id_by_refresh_digest(&self, token_digest: &str) -> Result<Option<String>>;

    /// Presents a refresh credential (by digest) and, in one transaction, rotates it to
    /// `successor`, recognises a replay inside the grace window, or detects reuse and
    /// revokes the session (the rule is `tessera_core::decide_refresh`; a rotation slides
    /// the session by `tessera_core::SessionLifetime`). Concurrent calls with the same
    /// credential are serialised: at most one successor ever exists.
    async fn rotate_refresh_token(
        &self,
        token_digest: &str,
        successor: &NewRefreshToken,
        policy: RefreshPolicy,
    ) -> Result<RefreshOutcome>;
}

/// JWT signing keys (private halves encrypted by the caller).
#[async_trait]
pub trait KeyStore: Send + Sync + std::fmt::Debug + 'static {
    /// All signing keys, oldest generation first.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>>;

    /// Inserts a key with the given generation. Another writer that got the generation first
    /// makes this return `Conflict("signing_keys_generation_key")`, and the caller reloads.
    /// Marks every older live key retired at `key.created_at`.
    async fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<()>;
}

/// Tasks, always scoped to their owner: every read and write names the user.
#[async_trait]
pub trait TaskStore: Send + Sync + std::fmt::Debug + 'static {
    /// A page of the user's tasks, oldest first.
    async fn list_tasks(&self, owner: UserId<'_>, limit: u32, offset: u32) -> Result<Vec<TaskRow>>;

    /// Stores a new task.
    async fn create_task(&self, task: &TaskRow) -> Result<()>;

    /// One task of this user.
    async fn get_task(&self, owner: UserId<'_>, task_id: TaskId<'_>) -> Result<Option<TaskRow>>;

    /// Applies a change to one task of this user; `None` when there is no such task.
    async fn update_task(
        &self,
        owner: UserId<'_>,
        task_id: TaskId<'_>,
        change: &TaskChange,
        now_ms: i64,
    ) -> Result<Option<TaskRow>>;

    /// Deletes one task of this user; false when there was none.
    async fn delete_task(&self, owner: UserId<'_>, task_id: TaskId<'_>) -> Result<bool>;

    /// Deletes every task of this user; returns how many.
    async fn delete_all_tasks(&self, owner: UserId<'_>) -> Result<u64>;
}

/// Second factors: the TOTP authenticator, backup codes, sign-in challenges and trusted
/// devices. Every acceptance is one conditional write, so concurrent requests (on one
/// instance or several) cannot use one code, code set entry or challenge twice.
#[async_trait]
pub trait TwoFactorStore: Send + Sync + std::fmt::Debug + 'static {
    /// The user's authenticator, confirmed or pending.
    async fn two_factor(&self, user_id: UserId<'_>) -> Result<Option<TwoFactorRow>>;

    /// Starts an enrolment: stores a pending (encrypted) TOTP key and replaces the backup
    /// codes, in one transaction. Returns false, writing nothing, when two-factor is already
    /// enabled.
    async fn begin_two_factor(
        &self,
        user_id: UserId<'_>,
        secret: &str,
        backup_digests: &[String],
        now_ms: i64,
    ) -> Result<bool>;

    /// Accepts TOTP `step` only if it is later than the last accepted one (a compare-and-set:
    /// false means a replay). Accepting clears the failure count and the lock, and confirms a
    /// pending enrolment (the user's `two_factor_enabled` turns on in the same transaction).
    async fn accept_totp_step(&self, user_id: UserId<'_>, step: i64, now_ms: i64) -> Result<bool>;

    /// Marks an unused backup code (by keyed digest) used; false when there is none. Success
    /// clears the failure count and the lock.
    async fn use_backup_code(&self, user_id: UserId<'_>, digest: &str, now_ms: i64)
    -> Result<bool>;

    /// Replaces the whole set of backup codes.
    async fn replace_backup_codes(
        &self,
        user_id: UserId<'_>,
        digests: &[String],
        now_ms: i64,
    ) -> Result<()>;

    /// Unused backup codes.
    async fn backup_codes_left(&self, user_id: UserId<'_>) -> Result<i64>;

    /// Counts a failed second-factor attempt; at `lock_after` consecutive failures the
    /// factor is locked until `lock_until_ms` (and the count starts again). Returns the lock's
    /// end when this failure set it.
    async fn note_second_factor_failure(
        &self,
        user_id: UserId<'_>,
        lock_after: i64,
        lock_until_ms: i64,
        now_ms: i64,
    ) -> Result<Option<i64>>;

    /// Removes the authenticator, the backup codes, pending challenges and trusted devices,
    /// and turns `two_factor_enabled` off, in one transaction.
    async fn disable_two_factor(&self, user_id: UserId<'_>, now_ms: i64) -> Result<()>;

    /// Stores a sign-in challenge.
    async fn create_challenge(&self, challenge: &NewChallenge) -> Result<()>;

    /// Counts an attempt against the live challenge with this digest (at most
    /// `max_attempts`), in one conditional write.
    async fn attempt_challenge(
        &self,
        token_digest: &str,
        max_attempts: i64,
        now_ms: i64,
    ) -> Result<ChallengeAttempt>;

    /// Uses a challenge up: true for exactly one caller.
    async fn consume_challenge(&self, challenge_id: &str, now_ms: i64) -> Result<bool>;

    /// Stores a trusted device.
    async fn create_trusted_device(&self, device: &NewTrustedDevice) -> Result<()>;

    /// Replaces the user's live trusted device with this digest by `successor` (whose
    /// `mfa_at` is taken from the old row), in one transaction. Returns that `mfa_at`, or
    /// `None` when there is no such live device (nothing written).
    async fn rotate_trusted_device(
        &self,
        user_id: UserId<'_>,
        token_digest: &str,
        successor: &NewTrustedDevice,
    ) -> Result<Option<i64>>;

    /// Forgets every trusted device of the user; returns how many.
    async fn revoke_trusted_devices(&self, user_id: UserId<'_>) -> Result<u64>;

    /// Deletes challenges and trusted devices that expired before `before_ms`.
    async fn purge_two_factor(&self, before_ms: i64) -> Result<u64>;
}

/// Bringing users over from another system (see the `import` module for the rules).
#[async_trait]
pub trait ImportStore: Send + Sync + std::fmt::Debug + 'static {
    /// Imports users with their credentials and sessions in one write transaction (rules in
    /// the `import` module: nothing Tessera holds is overwritten, re-running is harmless).
    /// Returns one outcome per user, in order. With `dry_run` the transaction is rolled back,
    /// so the outcomes say what an import would do. An error leaves the database unchanged.
    async fn import_users(&self, users: &[ImportUser], dry_run: bool) -> Result<Vec<ImportedUser>>;
}

/// Identities at providers (GitHub, Google, OpenID Connect) and the authorization requests
/// in flight. Identities are keyed by (issuer, subject), never by email.
#[async_trait]
pub trait IdentityStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores an authorization request, and removes expired ones.
    async fn create_oauth_state(&self, state: &OAuthStateRow, now_ms: i64) -> Result<()>;

    /// Removes and returns the request with this state digest, expired or not (the caller
    /// checks): a state is consumed by the first callback that presents it.
    async fn take_oauth_state(&self, state_digest: &str) -> Result<Option<OAuthStateRow>>;

    /// The user an identity is linked to.
    async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>>;

    /// Creates a user without a password, linked to `identity`, in one transaction. A taken
    /// email gives `Conflict("users_email_key")`, a linked identity `Conflict("unique")`.
    async fn create_user_with_identity(
        &self,
        user: &NewUser,
        email_verified: bool,
        identity: &NewIdentity,
    ) -> Result<User>;

    /// Links an identity to an existing user; `Conflict("unique")` when it is linked already.
    async fn link_identity(&self, user_id: UserId<'_>, identity: &NewIdentity) -> Result<()>;

    /// The user's accounts (the password credential and every identity), oldest first.
    async fn list_accounts(&self, user_id: UserId<'_>) -> Result<Vec<AccountRow>>;

    /// Removes one of the user's accounts (by row id), unless it is their last way to sign
    /// in; the check and the removal are one transaction, so two concurrent unlinks cannot
    /// leave a user with none.
    async fn unlink_account(
        &self,
        user_id: UserId<'_>,
        account_row_id: &str,
    ) -> Result<UnlinkOutcome>;
}

/// Rate-limit buckets kept in the database, so that several instances share one budget per
/// client. Each bucket is a GCRA: one theoretical arrival time (TAT) per bucket, moved by one
/// `interval` per request taken; a request is refused when the TAT lies more than
/// `tolerance` ahead of now. Every call is one atomic statement.
#[async_trait]
pub trait LimitStore: Send + Sync + std::fmt::Debug + 'static {
    /// Takes one request from `bucket`. `Ok(None)`: taken; `Ok(Some(ms))`: the bucket is
    /// empty, and this is how long until it has room again.
    async fn take_from_bucket(
        &self,
        bucket: &str,
        interval_ms: i64,
        tolerance_ms: i64,
        now_ms: i64,
    ) -> Result<Option<i64>>;

    /// Gives back one request taken earlier (never more than the bucket holds).
    async fn refund_to_bucket(&self, bucket: &str, interval_ms: i64, now_ms: i64) -> Result<()>;

    /// Deletes buckets that are full again; returns how many. Idempotent, so every instance
    /// may run it.
    async fn sweep_buckets(&self, now_ms: i64) -> Result<u64>;
}

/// A change another process (an instance, the CLI) made that in-memory state must follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A session ended (`revoked_at` set); its id.
    SessionEnded(String),
    /// The signing keys changed (a rotation).
    KeysChanged,
}

/// An open subscription to [`Change`]s.
#[async_trait]
pub trait ChangeListener: Send + std::fmt::Debug {
    /// The next change. An error means the subscription is broken and changes may have been
    /// missed: drop it, catch up from the tables, and listen again.
    async fn next(&mut self) -> Result<Change>;
}

/// Changes pushed by the database to every process that listens (PostgreSQL `LISTEN/NOTIFY`,
/// fed by triggers, so every writer is covered).
#[async_trait]
pub trait ChangeFeed: Send + Sync + std::fmt::Debug + 'static {
    /// Starts listening. Changes committed after this returns are delivered; `Ok(None)` when
    /// the backend has nobody else to hear from (SQLite: one process).
    async fn listen(&self) -> Result<Option<Box<dyn ChangeListener>>>;
}

/// Passkeys (WebAuthn credentials) and the ceremonies in flight. A ceremony's state is
/// stored under the digest of its cookie's value, so any instance can finish what another
/// began; taking it is one `DELETE … RETURNING`, so it finishes at most once.
#[async_trait]
pub trait PasskeyStore: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a ceremony's state, and removes expired ones.
    async fn create_passkey_challenge(&self, challenge: &PasskeyChallengeRow) -> Result<()>;

    /// Removes and returns the ceremony with this digest and kind, if it has not expired at
    /// `now_ms`: exactly one caller gets it. An expired one is removed and not returned.
    async fn take_passkey_challenge(
        &self,
        token_digest: &str,
        kind: &str,
        now_ms: i64,
    ) -> Result<Option<PasskeyChallengeRow>>;

    /// Stores a new passkey; [`StoreError::Conflict`]`("passkeys_credential_id_key")` when
    /// its credential id is registered already (to anyone).
    async fn create_passkey(&self, passkey: &PasskeyRow) -> Result<()>;

    /// The user's passkeys, oldest first.
    async fn passkeys_of(&self, user_id: UserId<'_>) -> Result<Vec<PasskeyRow>>;

    /// The passkey with this credential id (base64url).
    async fn passkey_by_credential_id(&self, credential_id: &str) -> Result<Option<PasskeyRow>>;

    /// Renames the user's passkey `id`; `None` when the user has no such passkey.
    async fn rename_passkey(
        &self,
        user_id: UserId<'_>,
        id: &str,
        name: &str,
    ) -> Result<Option<PasskeyRow>>;

    /// Deletes the user's passkey `id`; false when the user has no such passkey.
    async fn delete_passkey(&self, user_id: UserId<'_>, id: &str) -> Result<bool>;

    /// Records a sign-in with passkey `id`: the counter moves from `seen_counter` (what the
    /// verification compared against) to `counter`, a compare-and-set, so two sign-ins that
    /// present the same counter cannot both succeed. False when the row moved meanwhile.
    async fn record_passkey_use(
        &self,
        id: &str,
        seen_counter: i64,
        counter: i64,
        backed_up: bool,
        now_ms: i64,
    ) -> Result<bool>;

    /// Deletes ceremonies that expired before `before_ms`.
    async fn purge_passkey_challenges(&self, before_ms: i64) -> Result<u64>;

    /// Imports passkeys from another system (`tessera import better-auth`) in one write
    /// transaction: nothing Tessera holds is overwritten, re-running adds nothing. One
    /// outcome per row, in order; with `dry_run` the transaction is rolled back.
    async fn import_passkeys(
        &self,
        passkeys: &[PasskeyRow],
        dry_run: bool,
    ) -> Result<Vec<PasskeyImport>>;
}

/// Everything Tessera persists: the union of the aggregate traits. Implemented for every
/// type that implements them all.
pub trait Store:
    Database
    + UserStore
    + SessionStore
    + RefreshStore
    + KeyStore
    + TaskStore
    + ImportStore
    + TwoFactorStore
    + EmailTokenStore
    + OutboxStore
    + IdentityStore
    + LimitStore
    + PasskeyStore
    + ChangeFeed
{
}

impl<T> Store for T where
    T: Database
        + UserStore
        + SessionStore
        + RefreshStore
        + KeyStore
        + TaskStore
        + ImportStore
        + TwoFactorStore
        + EmailTokenStore
        + OutboxStore
        + IdentityStore
        + LimitStore
        + PasskeyStore
        + ChangeFeed
{
}
