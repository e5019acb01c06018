-- Tessera schema, version 1 (PostgreSQL). Same version numbers and meaning as
-- migrations/sqlite; native BOOLEAN here, BIGINT unix milliseconds for timestamps (so the
-- two adapters share their SQL), TEXT ids.

-- People who can sign in. `email` is stored lower-cased; the unique index is what makes
-- concurrent sign-ups with one address end with exactly one account.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    email_verified  BOOLEAN NOT NULL DEFAULT FALSE,
    image           TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    -- set by `tessera users disable`; a disabled user can neither sign in nor use sessions
    disabled_at     BIGINT
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- How a user proves who they are (Better Auth's `account` shape; only `credential` today).
CREATE TABLE accounts (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id     TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    -- Argon2id PHC string, or a Better Auth scrypt string until its first sign-in
    password_hash   TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_provider_account_key ON accounts (provider_id, account_id);
CREATE INDEX accounts_user_id_idx ON accounts (user_id);

-- Sign-in sessions, by SHA-256 digest of the token. Ended sessions keep their row with
-- `revoked_at` until cleanup, for revocation feeds. No foreign key to users: a deleted
-- user's sessions stay (revoked) until their tokens have expired, for the same reason.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    token_digest    TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    ip_address      TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    remember        BOOLEAN NOT NULL DEFAULT TRUE,
    revoked_at      BIGINT
);
CREATE UNIQUE INDEX sessions_token_digest_key ON sessions (token_digest);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- JWT signing keys, private halves encrypted under the server secret. The unique
-- `generation` settles races between instances starting at once.
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    generation      BIGINT NOT NULL,
    alg             TEXT NOT NULL,
    public_jwk      TEXT NOT NULL,
    private_key     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT
);
CREATE UNIQUE INDEX signing_keys_generation_key ON signing_keys (generation);

-- The protected per-user resource (no foreign key: the tasks API may run separately).
CREATE TABLE tasks (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    completed       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id);
