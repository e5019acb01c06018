-- Several instances acting as one (see migrations/sqlite/0006 and docs/deployment.md).
--
-- Rate-limit buckets shared by every instance, so N instances give a client the budget of
-- one. UNLOGGED: written on most sign-ins, never needed after a crash (PostgreSQL empties an
-- unlogged table on crash recovery: the buckets start full again, as after a restart of a
-- single instance), and skipping the write-ahead log makes each update cheaper.
CREATE UNLOGGED TABLE rate_limit_buckets (
    -- SHA-256 (hex) of "<rule>|<key>": the key can hold an email address, which is not kept
    bucket          TEXT PRIMARY KEY,
    -- GCRA's theoretical arrival time of the next request, unix ms; the bucket is full again
    -- (and the row may be deleted) once it lies in the past
    tat             BIGINT NOT NULL
);

-- Pushes: every instance LISTENs, so what one instance (or the CLI) changes reaches the
-- others' in-memory state at once; the periodic rebuilds stay as the fallback when a
-- listening connection is lost. Triggers rather than application code, so that every
-- writer (server, `tessera users disable`, `tessera sessions revoke`, an operator's SQL)
-- is covered.

-- A session ended (revoked_at set): payload is its id.
CREATE FUNCTION tessera_notify_session_ended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tessera_session_ended', NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_notify_ended
    AFTER UPDATE OF revoked_at ON sessions
    FOR EACH ROW
    WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION tessera_notify_session_ended();

-- The signing keys changed (`tessera keys rotate`, the first start): no payload.
CREATE FUNCTION tessera_notify_keys_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tessera_keys_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER signing_keys_notify_changed
    AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH STATEMENT
    EXECUTE FUNCTION tessera_notify_keys_changed();
