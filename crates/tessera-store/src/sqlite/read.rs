//! Reads without hand-offs: the hot short reads (a session by token digest, a user by id,
//! a user's tasks) run on read-only `rusqlite` connections, on the calling thread.
//!
//! sqlx-sqlite runs each connection on a worker thread of its own and sends each statement
//! there and each row back through a channel: a 20-row tasks read cost more in those thread
//! hand-offs than in SQLite itself. These reads take microseconds once their pages are in
//! memory, less than one hand-off, so they are answered on the async runtime's own thread.
//!
//! * The SQL is the same constant the sqlx path runs (`sql/*.rs`); parameters are bound by
//!   their number (`$N` → the N-th value), as sqlx-sqlite binds them.
//! * Each statement runs in its own implicit read transaction, which starts when it is
//!   stepped and ends when it is reset: in WAL mode it sees every transaction committed
//!   before it (read-your-writes across connections) and never waits for a writer.
//! * The connections are opened read-only (`SQLITE_OPEN_READ_ONLY`): writes, and their
//!   durability and group commit, stay on the sqlx pool.
//! * Nothing here waits: when every reader is in use, or SQLite says busy (the busy timeout
//!   is zero here), the read returns `None` and the caller takes the sqlx path, which waits
//!   for its connection and the lock with the configured timeouts. Any other error also
//!   steps aside (logged): the sqlx path then reports it the way it always has.
//! * An in-memory database exists per connection, so it has no readers (`None` at open).

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::{Connection, ErrorCode, OpenFlags, Statement, ToSql};

use crate::sql::RowMap;

/// Statements each reader keeps prepared (the hot reads are a handful).
const STATEMENT_CACHE: usize = 32;

/// A small pool of read-only connections to one SQLite file.
pub(crate) struct Readers {
    path: Box<Path>,
    max: usize,
    pool: Mutex<Idle>,
}

#[derive(Default)]
struct Idle {
    /// Connections not in use.
    free: Vec<Connection>,
    /// Connections open, in use or not.
    open: usize,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let idle = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Readers")
            .field("path", &self.path)
            .field("max", &self.max)
            .field("open", &idle.open)
            .field("free", &idle.free.len())
            .finish()
    }
}

/// A reader taken from the pool; it goes back when dropped.
pub(crate) struct Reader<'a> {
    readers: &'a Readers,
    conn: Option<Connection>,
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut idle = self
                .readers
                .pool
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            idle.free.push(conn);
        }
    }
}

impl Readers {
    /// Readers for the database file at `path`, at most `max` open at once (opened when
    /// first needed).
    pub(crate) fn new(path: &Path, max: usize) -> Self {
        Self {
            path: path.into(),
            max: max.max(1),
            pool: Mutex::default(),
        }
    }

    /// A free reader, a new one if fewer than `max` are open, or `None`.
    pub(crate) fn take(&self) -> Option<Reader<'_>> {
        let conn = {
            let mut idle = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(conn) = idle.free.pop() {
                Some(conn)
            } else if idle.open < self.max {
                idle.open += 1;
                None
            } else {
                return None;
            }
        };
        let conn = match conn {
            Some(conn) => conn,
            // Opened outside the lock: opening reads the file header.
            None => match self.open() {
                Ok(conn) => conn,
                Err(e) => {
                    self.pool
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .open -= 1;
                    tracing::warn!(error = %e, "could not open a SQLite reader; reading through the pool");
                    return None;
                }
            },
        };
        Some(Reader {
            readers: self,
            conn: Some(conn),
        })
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Never wait on the runtime's thread: busy means "take the sqlx path".
        conn.busy_timeout(std::time::Duration::ZERO)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    /// Every row of `sql` with `params`, or `None` when the sqlx path should answer.
    pub(crate) fn all<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        map: RowMap<T>,
    ) -> Option<Vec<T>> {
        self.take()?.run(sql, params, usize::MAX, map)
    }

    /// The first row of `sql` with `params` (`Some(None)`: no row), or `None` when the sqlx
    /// path should answer.
    pub(crate) fn first<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        map: RowMap<T>,
    ) -> Option<Option<T>> {
        let rows = self.take()?.run(sql, params, 1, map)?;
        Some(rows.into_iter().next())
    }
}

impl Reader<'_> {
    /// Runs `sql` and maps at most `limit` rows; errors step aside (see the module docs).
    fn run<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        limit: usize,
        map: RowMap<T>,
    ) -> Option<Vec<T>> {
        let conn = self.conn.as_ref()?;
        let result = (|| {
            let mut stmt = conn.prepare_cached(sql)?;
            bind_numbered(&mut stmt, params)?;
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while out.len() < limit {
                let Some(row) = rows.next()? else { break };
                out.push(map(row)?);
            }
            // Dropping `rows` resets the statement, which ends its read transaction.
            Ok::<_, rusqlite::Error>(out)
        })();
        match result {
            Ok(rows) => Some(rows),
            Err(e) if is_busy(&e) => None,
            Err(e) => {
                tracing::warn!(error = %e, "SQLite direct read failed; reading through the pool");
                None
            }
        }
    }
}

/// Binds `$N` (or `?N`) to `params[N - 1]`, wherever it first appears in the statement:
/// SQLite numbers named parameters in order of first appearance, which is not `N` when a
/// statement uses `$2` before `$1`.
fn bind_numbered(stmt: &mut Statement<'_>, params: &[&dyn ToSql]) -> rusqlite::Result<()> {
    for index in 1..=stmt.parameter_count() {
        let value = stmt
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$').or_else(|| name.strip_prefix('?')))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| params.get(n))
            .ok_or(rusqlite::Error::InvalidParameterCount(index, params.len()))?;
        stmt.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    //! The direct path itself: binding, decoding against the sqlx path, visibility of
    //! writes, and stepping aside when it would have to wait.
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use super::*;
    use crate::sql::{sessions, tasks, users};
    use crate::sqlite::{SqliteSettings, SqliteStore};
    use crate::{NewSession, NewUser, SessionStore, TaskRow, TaskStore, UserId, UserStore};

    async fn store(dir: &tempfile::TempDir, max: u32, timeout: Duration) -> SqliteStore {
        SqliteStore::connect(&SqliteSettings {
            url: format!("sqlite://{}", dir.path().join("t.db").display()),
            max_connections: max,
            acquire_timeout: timeout,
        })
        .await
        .unwrap()
    }

    fn readers(s: &SqliteStore) -> &Readers {
        s.readers.as_deref().expect("a file database has readers")
    }

    fn task(id: &str, created_at: i64) -> TaskRow {
        TaskRow {
            id: id.into(),
            user_id: "u1".into(),
            title: format!("title {id}"),
            description: format!("description {id}"),
            completed: created_at % 2 == 0,
            created_at,
            updated_at: created_at + 7,
        }
    }

    async fn seed(s: &SqliteStore) {
        s.create_user(
            &NewUser {
                id: "u1".into(),
                name: "Ada".into(),
                email: "ada@x.test".into(),
                image: Some("https://img.test/a.png".into()),
                now_ms: 1_000,
            },
            "hash-1",
        )
        .await
        .unwrap();
        s.create_session(&NewSession {
            id: "s1".into(),
            user_id: "u1".into(),
            token_digest: "d1".into(),
            expires_at: 90_000,
            now_ms: 2_000,
            ip_address: "192.0.2.7".into(),
            user_agent: "agent/1".into(),
            remember: true,
            amr: "pwd otp".into(),
            auth_time: 2_500,
        })
        .await
        .unwrap();
    }

    #[test]
    fn numbered_parameters_bind_by_their_number_not_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let readers = Readers::new(&path, 1);
        let map: RowMap<(String, String, String)> = |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?));
        // `$3` appears first, `$1` twice: SQLite's own numbering would be 1 = $3, 2 = $1.
        let row = readers.first("SELECT $3, $1, $2 || $1", &[&"a", &"b", &"c"], map);
        assert_eq!(row, Some(Some(("c".into(), "a".into(), "ba".into()))));
        // A statement naming a value it was not given steps aside instead of reading NULL.
        assert_eq!(readers.first("SELECT $1, $2", &[&"a"], map), None);
    }

    #[tokio::test]
    async fn the_direct_path_decodes_what_the_pool_decodes() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir, 2, Duration::from_secs(5)).await;
        seed(&s).await;
        for (i, id) in ["t3", "t1", "t2"].into_iter().enumerate() {
            s.create_task(&task(id, 10 + i64::try_from(i).unwrap()))
                .await
                .unwrap();
        }
        let r = readers(&s);

        let params: [&dyn ToSql; 3] = [&"u1", &10_i64, &0_i64];
        let direct = r.all(tasks::LIST, &params, tasks::task_row).unwrap();
        let pooled: Vec<TaskRow> = sqlx::query_as(tasks::LIST)
            .bind("u1")
            .bind(10_i64)
            .bind(0_i64)
            .fetch_all(&s.pool)
            .await
            .unwrap();
        assert_eq!(direct.len(), 3);
        assert_eq!(direct, pooled);
        let direct = r
            .first(tasks::GET, &[&"u1", &"t2"], tasks::task_row)
            .unwrap();
        assert_eq!(direct.as_ref(), pooled.iter().find(|t| t.id == "t2"));

        let direct = r.first(sessions::BY_DIGEST, &[&"d1"], sessions::session_with_user);
        let pooled: Option<sessions::SessionWithUser> = sqlx::query_as(sessions::BY_DIGEST)
            .bind("d1")
            .fetch_optional(&s.pool)
            .await
            .unwrap();
        let pooled = pooled.map(<(crate::Session, crate::User)>::from);
        assert!(pooled.is_some());
        assert_eq!(direct, Some(pooled.clone()));
        let direct = r.first(sessions::BY_ID, &[&"s1"], sessions::session_with_user);
        assert_eq!(direct, Some(pooled));

        s.set_user_disabled("u1", true, 3_000).await.unwrap();
        let direct = r.first(
            users::SELECT_WITH_HASH_BY_ID,
            &[&"u1"],
            users::user_with_hash,
        );
        let pooled: Option<users::UserWithHash> = sqlx::query_as(users::SELECT_WITH_HASH_BY_ID)
            .bind("u1")
            .fetch_optional(&s.pool)
            .await
            .unwrap();
        let pooled = pooled.map(|p| (p.user, p.password_hash));
        assert_eq!(pooled.as_ref().and_then(|p| p.0.disabled_at), Some(3_000));
        assert_eq!(direct, Some(pooled));
        assert_eq!(
            r.first(
                users::SELECT_WITH_HASH_BY_ID,
                &[&"nobody"],
                users::user_with_hash
            ),
            Some(None)
        );
    }

    #[tokio::test]
    async fn a_committed_write_is_read_at_once_and_an_open_one_neither_blocks_nor_shows() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir, 2, Duration::from_secs(5)).await;
        seed(&s).await;
        let r = readers(&s);
        let list = |r: &Readers| {
            let params: [&dyn ToSql; 3] = [&"u1", &100_i64, &0_i64];
            r.all(tasks::LIST, &params, tasks::task_row)
        };
        assert_eq!(list(r), Some(vec![]));

        let mut tx = s.begin_write().await.unwrap();
        sqlx::query(tasks::INSERT)
            .bind("t1")
            .bind("u1")
            .bind("open")
            .bind("")
            .bind(false)
            .bind(5_i64)
            .bind(5_i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        // A writer holds the database: the reader answers from the last commit, unblocked.
        assert_eq!(list(r), Some(vec![]));
        tx.commit().await.unwrap();
        assert_eq!(list(r).map(|v| v.len()), Some(1));

        // The same reader connection, again and again: each read sees the write before it.
        for i in 0..20_i64 {
            s.create_task(&task(&format!("n{i}"), 100 + i))
                .await
                .unwrap();
            assert_eq!(
                list(r).map(|v| v.len()),
                Some(usize::try_from(i + 2).unwrap())
            );
        }
    }

    #[tokio::test]
    async fn an_exhausted_pool_steps_aside_and_the_store_still_answers() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir, 1, Duration::from_secs(5)).await;
        seed(&s).await;
        s.create_task(&task("t1", 10)).await.unwrap();
        let r = readers(&s);
        let held = r.take().unwrap();
        let params: [&dyn ToSql; 3] = [&"u1", &10_i64, &0_i64];
        assert!(r.all(tasks::LIST, &params, tasks::task_row).is_none());
        // Through the pool instead.
        let rows = s.list_tasks(UserId("u1"), 10, 0).await.unwrap();
        assert_eq!(rows, vec![task("t1", 10)]);
        drop(held);
        assert_eq!(r.all(tasks::LIST, &params, tasks::task_row), Some(rows));
    }

    #[test]
    fn a_locked_database_steps_aside_at_once() {
        // WAL readers never wait for writers, so the lock comes from a rollback journal
        // here: a writer holding EXCLUSIVE keeps every reader out.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = DELETE; CREATE TABLE t (x); INSERT INTO t VALUES (1);",
            )
            .unwrap();
        let readers = Readers::new(&path, 1);
        let map: RowMap<i64> = |r| r.get(0);
        assert_eq!(readers.first("SELECT x FROM t", &[], map), Some(Some(1)));

        writer
            .execute_batch("BEGIN EXCLUSIVE; UPDATE t SET x = 2;")
            .unwrap();
        assert_eq!(readers.first("SELECT x FROM t", &[], map), None);
        writer.execute_batch("COMMIT").unwrap();
        // The same reader, back in the pool, reads the commit.
        assert_eq!(readers.first("SELECT x FROM t", &[], map), Some(Some(2)));
    }

    #[tokio::test]
    async fn an_in_memory_database_has_no_readers() {
        let s = SqliteStore::connect(&SqliteSettings {
            url: "sqlite::memory:".into(),
            max_connections: 4,
            acquire_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
        assert!(s.readers.is_none());
        assert!(s.list_tasks(UserId("u1"), 10, 0).await.unwrap().is_empty());
    }
}
