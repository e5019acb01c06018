-- Tessera schema, version 1 (SQLite). PostgreSQL keeps the same version numbers in
-- migrations/postgres. Timestamps are unix milliseconds (INTEGER); ids are 32-character
-- alphanumerics like Better Auth's; booleans are 0/1.

-- People who can sign in. `email` is stored lower-cased; the unique index is what makes
-- concurrent sign-ups with one address end with exactly one account.
CREATE TABLE users (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    email_verified  INTEGER NOT NULL DEFAULT 0,
    image           TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- set by `tessera users disable`; a disabled user can neither sign in nor use sessions
    disabled_at     INTEGER
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- How a user proves who they are. Only the `credential` provider (email + password) exists
-- today; the shape follows Better Auth's `account` table so imports map one to one and
-- social providers can be added later.
CREATE TABLE accounts (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id     TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    -- Argon2id PHC string, or a Better Auth scrypt string until its first sign-in
    password_hash   TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX accounts_provider_account_key ON accounts (provider_id, account_id);
CREATE INDEX accounts_user_id_idx ON accounts (user_id);

-- Sign-in sessions. No foreign key to users: when a user is deleted, their sessions stay
-- (revoked) until their access tokens have expired, so revocation feeds still list them.
-- Only the SHA-256 digest of the session token is stored. A session that
-- ends keeps its row with `revoked_at` set until cleanup, so other instances and remote
-- verifiers can learn that its access tokens must stop working.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL,
    token_digest    TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    ip_address      TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    -- 0 for `rememberMe: false`: a one-day session that is never extended
    remember        INTEGER NOT NULL DEFAULT 1,
    revoked_at      INTEGER
);
CREATE UNIQUE INDEX sessions_token_digest_key ON sessions (token_digest);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- JWT signing keys. The private half is encrypted under the server secret
-- (XChaCha20-Poly1305 / AES-256-GCM, see crates/tessera-server/src/keys). `generation` is
-- unique, so two instances starting at once on an empty database cannot both create key 1.
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY NOT NULL,
    generation      INTEGER NOT NULL,
    alg             TEXT NOT NULL,
    public_jwk      TEXT NOT NULL,
    private_key     TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    -- when a newer key took over signing; the key stays published until tokens it signed expire
    retired_at      INTEGER
);
CREATE UNIQUE INDEX signing_keys_generation_key ON signing_keys (generation);

-- The protected per-user resource. Every query filters by user_id. No foreign key to users:
-- the tasks API may run as a separate service with its own database, knowing users only as
-- the `sub` of verified tokens; deleting a user deletes their tasks explicitly.
CREATE TABLE tasks (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    completed       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id);
