-- Email: single-use tokens carried by links, and the outbox that delivers mail (see
-- migrations/sqlite/0003 for the comments on each column).

-- Tokens sent by email (verification, password reset, change of address). Only the SHA-256
-- digest of a token is stored. A token is used once: consuming it sets `consumed_at` in the
-- same UPDATE that reads it, so two requests with one token cannot both succeed. Several
-- live tokens per user are allowed: a newer request does not break the link already sent.
CREATE TABLE email_tokens (
    token_digest    TEXT PRIMARY KEY,
    -- verify-email | reset-password | confirm-email-change | verify-new-email
    purpose         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    -- the user's address when the token was made: a token for an address the user no longer
    -- has is void
    email           TEXT NOT NULL,
    -- change of address: the address the user asked for
    new_email       TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    consumed_at     BIGINT
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose);
CREATE INDEX email_tokens_expires_idx ON email_tokens (expires_at);

-- Mail to send. A request writes one row (in the transaction of whatever it changes) and a
-- background sender delivers it; the link's token is made when the message is sent, so no
-- usable token is ever at rest, not even here. A row is claimed for a lease before sending
-- (`claimed_until`), so one sender among several instances handles it; a crash mid-send
-- lets the lease run out and the message is tried again.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    -- which message: verify-email, reset-password, confirm-email-change, verify-new-email,
    -- email-in-use, password-changed
    kind            TEXT NOT NULL,
    -- lower-cased address
    recipient       TEXT NOT NULL,
    -- the user it is about (NULL when the request named only an address)
    user_id         TEXT,
    -- JSON: the callback URL and, for a change of address, the new address
    payload         TEXT NOT NULL DEFAULT '{}',
    -- pending | sent | dropped (nothing to send, e.g. an unknown address) | failed
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    done_at         BIGINT,
    -- the SMTP server's last answer on failure (no link, no token)
    last_error      TEXT
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_status_idx ON outbox (status, done_at);
