-- Refresh credentials for clients that do not use cookies (mobile, CLI, server to server).
--
-- Each credential is 256 random bits, stored only as its SHA-256 digest. Using one rotates
-- it: the row is marked `rotated_at` and its successor is inserted. The successor's value is
-- HMAC(server secret, parent value), so a client that lost the response can present the
-- parent again inside the grace window and receive the very same successor, while the
-- server never stores a usable credential. Presenting a rotated credential after the grace
-- window is reuse: the whole session is revoked.
CREATE TABLE refresh_tokens (
    id              TEXT PRIMARY KEY NOT NULL,
    session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_digest    TEXT NOT NULL,
    -- the credential this one replaced (NULL for the first of a session)
    parent_id       TEXT,
    created_at      INTEGER NOT NULL,
    rotated_at      INTEGER
);
CREATE UNIQUE INDEX refresh_tokens_digest_key ON refresh_tokens (token_digest);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_parent_idx ON refresh_tokens (parent_id);
