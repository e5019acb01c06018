-- Passkeys (WebAuthn credentials) and the ceremonies in flight. Timestamps are unix
-- milliseconds. The columns follow Better Auth's `passkey` table, so `import better-auth`
-- copies its rows and the credentials keep working (same relying-party id).

CREATE TABLE passkeys (
    id              TEXT PRIMARY KEY NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the user's label ("Laptop"); NULL when none was given
    name            TEXT,
    -- the credential's id as the authenticator made it, base64url without padding
    credential_id   TEXT NOT NULL,
    -- the COSE public key, standard base64 with padding (Better Auth's encoding)
    public_key      TEXT NOT NULL,
    -- the authenticator's signature counter at the last accepted use (0: it keeps none)
    counter         INTEGER NOT NULL DEFAULT 0,
    -- `singleDevice` (device-bound) or `multiDevice` (may be synced: backup-eligible)
    device_type     TEXT NOT NULL,
    -- 1 while the authenticator says the credential is backed up (synced)
    backed_up       INTEGER NOT NULL DEFAULT 0,
    -- transports the browser reported (`internal,hybrid`), a hint for the next ceremony
    transports      TEXT,
    -- the authenticator model's AAGUID (UUID text), when attested
    aaguid          TEXT,
    created_at      INTEGER NOT NULL,
    last_used_at    INTEGER
);
-- A credential belongs to one user only (WebAuthn §7.1 step 22).
CREATE UNIQUE INDEX passkeys_credential_id_key ON passkeys (credential_id);
CREATE INDEX passkeys_user_id_idx ON passkeys (user_id);

-- A ceremony begun by `generate-*-options`, finished by `verify-*` on any instance: the
-- browser holds the signed `better-auth.better-auth-passkey` cookie, the database its
-- SHA-256 digest. Taken (deleted) by the first verification that presents it.
CREATE TABLE passkey_challenges (
    token_digest    TEXT PRIMARY KEY NOT NULL,
    -- `register` or `authenticate`: a challenge only finishes its own kind of ceremony
    kind            TEXT NOT NULL,
    -- registration: the user who asked (the session's); NULL for a sign-in
    user_id         TEXT REFERENCES users (id) ON DELETE CASCADE,
    -- the relying party's ceremony state (challenge, policy, allowed credentials), JSON
    state           TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX passkey_challenges_expires_at_idx ON passkey_challenges (expires_at);
