//! Fresh PostgreSQL databases: one per test (or per app), created on the server at
//! `TESSERA_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and
//! dropped — with `FORCE`, so open connections do not keep it — when the value is dropped.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::Connection as _;

/// The PostgreSQL server the suites use: `TESSERA_TEST_POSTGRES_URL`, else the local one.
pub fn admin_url() -> String {
    std::env::var("TESSERA_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Whether `TESSERA_TEST_BACKEND=postgres` asks a suite to run on PostgreSQL.
pub fn backend_is_postgres() -> bool {
    std::env::var("TESSERA_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A fresh database, dropped when this value is.
#[derive(Debug)]
pub struct PgDatabase {
    /// Its URL, for the code under test.
    pub url: String,
    name: String,
    admin: String,
}

impl PgDatabase {
    /// A fresh database named `<prefix>_<pid>_<nanos>_<n>`, or `None` with a loud note when
    /// no PostgreSQL is reachable — except on CI (`CI` set), where that fails the test.
    pub async fn create(prefix: &str) -> Option<Self> {
        let admin = admin_url();
        let conn =
            tokio::time::timeout(Duration::from_secs(5), sqlx::PgConnection::connect(&admin)).await;
        let mut conn = match conn {
            Ok(Ok(c)) => c,
            other => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "PostgreSQL at {admin} is required on CI: {other:?}"
                );
                eprintln!("NOTE: PostgreSQL not reachable at {admin}: PostgreSQL cases NOT run");
                return None;
            }
        };
        let name = unique_name(prefix);
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(Self {
            url: format!("{base}/{name}"),
            name,
            admin,
        })
    }

    /// A fresh database, for suites that were asked to run on PostgreSQL: an unreachable
    /// server is a failure, never a skip.
    pub async fn create_required(prefix: &str) -> Self {
        Self::create(prefix).await.unwrap_or_else(|| {
            panic!(
                "PostgreSQL at {} is required (TESSERA_TEST_BACKEND=postgres)",
                admin_url()
            )
        })
    }

    /// A small pool on this database, for tests that inspect rows.
    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.url)
            .await
            .expect("open the test database")
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // Drop is synchronous and may run inside a runtime: drop the database from a thread
        // with a small runtime of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut c)
                    .await;
                }
            });
        })
        .join();
    }
}

/// `<prefix>_<pid>_<nanos>_<n>`: unique across the processes of a parallel test run.
fn unique_name(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
