-- Refresh credentials (see migrations/sqlite/0002): SHA-256 digests only; rotation marks
-- `rotated_at` and inserts the successor (whose value is an HMAC of the parent's).
CREATE TABLE refresh_tokens (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_digest    TEXT NOT NULL,
    -- the credential this one replaced (NULL for the first of a session)
    parent_id       TEXT,
    created_at      BIGINT NOT NULL,
    rotated_at      BIGINT
);
CREATE UNIQUE INDEX refresh_tokens_digest_key ON refresh_tokens (token_digest);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_parent_idx ON refresh_tokens (parent_id);
