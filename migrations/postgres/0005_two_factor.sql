-- Two-factor authentication (TOTP, backup codes, the sign-in challenge, trusted devices) and
-- what a session records about how it was authenticated. Timestamps are unix milliseconds.

-- TRUE once the user confirmed a TOTP enrolment with a valid code: from then on every way in
-- ends in a challenge (crates/tessera-server/src/session). Better Auth's `twoFactorEnabled`.
ALTER TABLE users ADD COLUMN two_factor_enabled BOOLEAN NOT NULL DEFAULT FALSE;

-- How the session was authenticated: RFC 8176 `amr` values separated by spaces, e.g.
-- `pwd` or `pwd otp mfa`. Sessions from before this migration were all password sign-ins.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
-- When the session's strongest authentication happened (the second factor if `amr` has
-- `mfa`, else the first); NULL means `created_at`. Access tokens carry it as `auth_time`.
ALTER TABLE sessions ADD COLUMN auth_time BIGINT;

-- One TOTP authenticator per user.
CREATE TABLE two_factors (
    user_id         TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- the TOTP key, AES-256-GCM under a key derived from the server secret (`v1.` + base64url)
    secret          TEXT NOT NULL,
    -- NULL while the enrolment awaits its first valid code
    verified_at     BIGINT,
    -- the TOTP step (unix seconds / 30) of the last accepted code: a code is accepted only
    -- for a later step, with a compare-and-set, so no code works twice
    last_step       BIGINT NOT NULL DEFAULT 0,
    -- consecutive failed second-factor attempts (TOTP or backup code, over all challenges)
    failures        BIGINT NOT NULL DEFAULT 0,
    -- set when `failures` reached the lockout threshold: no second factor is checked before
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- Backup codes: 120 random bits each, stored only as HMAC-SHA-256 under a key derived from
-- the server secret; `used_at` is set by the single UPDATE that accepts the code.
CREATE TABLE backup_codes (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_digest     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE UNIQUE INDEX backup_codes_user_digest_key ON backup_codes (user_id, code_digest);

-- A first factor that succeeded for a user with two-factor: no session yet, only this row,
-- known to the browser by the signed `better-auth.two_factor` cookie (digest stored).
CREATE TABLE two_factor_challenges (
    id              TEXT PRIMARY KEY,
    token_digest    TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the first factor's `amr` values, carried into the session
    amr             TEXT NOT NULL,
    -- the sign-in's `rememberMe`
    remember        BOOLEAN NOT NULL,
    -- 1 when the sign-in asked for a refresh credential instead of a cookie session
    refresh_grant   BOOLEAN NOT NULL DEFAULT FALSE,
    -- codes tried against this challenge (at most 5)
    attempts        BIGINT NOT NULL DEFAULT 0,
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    -- set once, by the verification that started the session
    consumed_at     BIGINT
);
CREATE UNIQUE INDEX two_factor_challenges_digest_key ON two_factor_challenges (token_digest);
CREATE INDEX two_factor_challenges_expires_idx ON two_factor_challenges (expires_at);

-- Browsers the user asked to trust for 30 days: the `better-auth.trust_device` cookie's
-- digest. Each use replaces the row (a new cookie); disabling two-factor deletes them all.
CREATE TABLE trusted_devices (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_digest    TEXT NOT NULL,
    -- when the second factor that earned the trust was verified (becomes the session's auth_time)
    mfa_at          BIGINT NOT NULL,
    user_agent      TEXT NOT NULL DEFAULT '',
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX trusted_devices_digest_key ON trusted_devices (token_digest);
CREATE INDEX trusted_devices_user_idx ON trusted_devices (user_id);
