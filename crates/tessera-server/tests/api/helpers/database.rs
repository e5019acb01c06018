//! What the server stored: its SQLite file or PostgreSQL database, read directly.

use super::TestApp;

impl TestApp {
    // ---------------------------------------------------------------- database

    /// A separate connection pool on the server's SQLite file.
    pub(crate) async fn db(&self) -> sqlx::SqlitePool {
        assert!(
            self.pg.is_none(),
            "db() reads the SQLite file; check stores_in_sqlite_file() first"
        );
        sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}", self.db_path.display()))
            .await
            .expect("open the test database")
    }

    /// Number of rows in a table.
    pub(crate) async fn count(&self, table: &str) -> i64 {
        let q = format!("SELECT count(*) FROM {table}");
        if let Some(pg) = &self.pg {
            let db = pg.pool().await;
            let n: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(q))
                .fetch_one(&db)
                .await
                .expect("count rows");
            db.close().await;
            return n.0;
        }
        let db = self.db().await;
        let n: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(q))
            .fetch_one(&db)
            .await
            .expect("count rows");
        db.close().await;
        n.0
    }

    /// Runs a statement written by the test (never from a response) on the server's
    /// database: SQLite file or PostgreSQL.
    pub(crate) async fn exec(&self, sql: &str) {
        if let Some(pg) = &self.pg {
            let db = pg.pool().await;
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&db)
                .await
                .expect("statement");
            db.close().await;
            return;
        }
        let db = self.db().await;
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&db)
            .await
            .expect("statement");
        db.close().await;
    }

    /// Number of rows in a table that satisfy an SQL condition (written by the test, never
    /// from a response).
    pub(crate) async fn count_where(&self, table: &str, condition: &str) -> i64 {
        self.count(&format!("{table} WHERE {condition}")).await
    }

    /// Everything the auth endpoints write, as one comparable string.
    pub(crate) async fn db_snapshot(&self) -> String {
        // (columns, table) concatenated per row, rows joined in a stable order
        const PARTS: [(&str, &str); 4] = [
            (
                "id || '|' || name || '|' || email || '|' || updated_at",
                "users",
            ),
            (
                "id || '|' || coalesce(password_hash, '') || '|' || updated_at",
                "accounts",
            ),
            (
                "id || '|' || expires_at || '|' || coalesce(revoked_at::text, '')",
                "sessions",
            ),
            ("kid", "signing_keys"),
        ];
        let mut out = String::new();
        if let Some(pg) = &self.pg {
            let db = pg.pool().await;
            for (cols, table) in PARTS {
                let q = format!(
                    "SELECT count(*), coalesce(string_agg({cols}, ';' ORDER BY 1), '') FROM {table}"
                );
                let (n, rows): (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(q))
                    .fetch_one(&db)
                    .await
                    .expect("snapshot");
                out.push_str(&format!("{n}:{rows}\n"));
            }
            db.close().await;
            return out;
        }
        let db = self.db().await;
        for (cols, table) in PARTS {
            let cols = cols.replace("::text", "");
            let q = format!(
                "SELECT count(*), coalesce(group_concat(v, ';'), '') FROM (SELECT {cols} AS v FROM {table} ORDER BY 1)"
            );
            let (n, rows): (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(q))
                .fetch_one(&db)
                .await
                .expect("snapshot");
            out.push_str(&format!("{n}:{rows}\n"));
        }
        db.close().await;
        out
    }

    /// Whether this app keeps its data in a SQLite file (tests that read the file itself
    /// only run then).
    pub(crate) fn stores_in_sqlite_file(&self) -> bool {
        self.pg.is_none()
    }

    /// The raw bytes of the database and its write-ahead log.
    pub(crate) fn db_file_bytes(&self) -> Vec<u8> {
        let mut bytes = std::fs::read(&self.db_path).expect("read the database file");
        let wal = self.db_path.with_extension("db-wal");
        if let Ok(w) = std::fs::read(wal) {
            bytes.extend(w);
        }
        bytes
    }
}

/// `TESSERA_TEST_BACKEND=postgres` runs the whole suite against PostgreSQL (a fresh
/// database per test, at `TESSERA_TEST_POSTGRES_URL` or the local server).
pub(crate) fn on_postgres() -> bool {
    tessera_testkit::postgres::backend_is_postgres()
}
