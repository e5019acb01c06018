-- Magic links and email codes: sign-in by a link or a 6-digit code sent by mail, address
-- verification by code, and the email code as a (weaker) second factor. They live in
-- `email_tokens` (migration 0003) beside the other emailed tokens, with new purposes:
-- magic-link, sign-in-code, verify-email-code, two-factor-code. A magic link is a token
-- like the others (256 bits, SHA-256 digest in `token_digest`, single use). A code is too
-- short to be its own key: its row's `token_digest` is the digest of a random value never
-- sent, and the code itself is kept as a keyed digest in `code_digest`.

-- HMAC-SHA-256 (key derived from the server secret) of the code, bound to its user and
-- purpose; NULL for link tokens.
ALTER TABLE email_tokens ADD COLUMN code_digest TEXT;
-- Codes tried against this row: each try (right or wrong) counts in the statement that
-- checks it, and a row that reached the cap accepts nothing more.
ALTER TABLE email_tokens ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
-- What a code is bound to: the two-factor challenge (or session) it was sent for; NULL for
-- codes that are bound only to their address.
ALTER TABLE email_tokens ADD COLUMN bound_to TEXT;
