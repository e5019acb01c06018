-- Sign-in with identity providers (GitHub, Google, any OpenID Connect provider).
--
-- An identity is keyed by (issuer, subject), never by email: `issuer` is the provider's
-- exact OpenID Connect issuer (`https://accounts.google.com`), `local:oauth:<provider id>`
-- for a plain OAuth 2.0 provider such as GitHub, and `local:credential` for the password
-- credential (Better Auth 1.7's values, so imported accounts keep working). `account_id`
-- holds the subject. Provider access and refresh tokens are not kept.
ALTER TABLE accounts ADD COLUMN issuer TEXT NOT NULL DEFAULT 'local:credential';
-- the scopes the provider granted, space-separated (NULL for the password credential)
ALTER TABLE accounts ADD COLUMN scope TEXT;
-- the address the provider reported at link time, lower-cased (shown on the account page)
ALTER TABLE accounts ADD COLUMN email TEXT;
CREATE UNIQUE INDEX accounts_issuer_account_key ON accounts (issuer, account_id);

-- Authorization requests in flight: one row per `state`, made by /sign-in/social or
-- /link-social and consumed (deleted) by the first callback that presents it, so a state is
-- single use. Only the SHA-256 digest of the state is stored; the PKCE verifier and the
-- OpenID Connect nonce are derived from the state with a key from the server secret, so a
-- copy of this table lets nobody finish a flow. The browser is bound by a signed cookie
-- holding the state, the provider by `provider_id`.
CREATE TABLE oauth_states (
    state_digest    TEXT PRIMARY KEY NOT NULL,
    -- the configured provider id the flow was started for (a callback for another is refused)
    provider_id     TEXT NOT NULL,
    -- where to go afterwards (already checked against the trusted origins)
    callback_url    TEXT NOT NULL,
    -- where a new user goes (NULL: callback_url)
    new_user_url    TEXT,
    -- where errors go (NULL: the default error page)
    error_url       TEXT,
    -- set by /link-social: the signed-in user the identity is linked to
    link_user_id    TEXT,
    created_at      INTEGER NOT NULL,
    -- unix ms; the row is refused (and removed) after this
    expires_at      INTEGER NOT NULL
);
CREATE INDEX oauth_states_expires_idx ON oauth_states (expires_at);
