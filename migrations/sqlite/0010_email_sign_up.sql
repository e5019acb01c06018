-- Sign-up by magic link or email code: a link or code can be sent to an address that has no
-- account yet. Its row's `user_id` is then `sign-up:<address>` (no user has such an id), so
-- codes stay keyed per address, and the account is created, verified and without a
-- password, when the link or code is used. A link keeps here the name given when it was
-- asked for (Better Auth's `name` on `sign-in/magic-link`); NULL for every other row.
ALTER TABLE email_tokens ADD COLUMN name TEXT;
