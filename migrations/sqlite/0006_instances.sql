-- Several instances acting as one (see migrations/postgres/0006 and docs/deployment.md).
--
-- Rate-limit buckets in the database. A SQLite deployment is one process and keeps its
-- buckets in memory (faster); the table exists so both backends offer the same store (the
-- storage conformance suite exercises it on both). PostgreSQL's version is UNLOGGED and
-- adds the triggers that push ended sessions and key changes to every instance; SQLite has
-- no second instance to tell.
CREATE TABLE rate_limit_buckets (
    -- SHA-256 (hex) of "<rule>|<key>": the key can hold an email address, which is not kept
    bucket          TEXT PRIMARY KEY,
    -- GCRA's theoretical arrival time of the next request, unix ms; the bucket is full again
    -- (and the row may be deleted) once it lies in the past
    tat             INTEGER NOT NULL
) WITHOUT ROWID;
