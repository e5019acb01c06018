//! `tessera import better-auth` against Better Auth databases built here with the exact DDL
//! Better Auth 1.7.25's migrations generate (`getMigrations(...).compileMigrations()`), and
//! rows in the forms its Kysely adapter writes: on SQLite, dates as ISO-8601 text and
//! booleans as 0/1; on PostgreSQL, `timestamptz` and `boolean`. Passwords are the scrypt
//! test vector of the protocol reference (`password123`).
//!
//! The import into a real `tessera` process is then checked from the outside: sign-in with
//! the Better Auth password, get-session with the Better Auth session token, ids kept,
//! re-runs, conflicts, and sources that must be refused without writing anything. A real
//! Better Auth server writing the database is exercised in e2e/interop (PostgreSQL).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::*;
use serde_json::{Value, json};
use sqlx::Connection as _;

/// `create table` statements from Better Auth 1.7.25 for SQLite, verbatim.
pub(crate) const BA_SQLITE_DDL: &str = r#"
create table "user" ("id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" integer not null, "image" text, "createdAt" date not null, "updatedAt" date not null);
create table "session" ("id" text not null primary key, "expiresAt" date not null, "token" text not null unique, "createdAt" date not null, "updatedAt" date not null, "ipAddress" text, "userAgent" text, "userId" text not null references "user" ("id") on delete cascade);
create table "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null, "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text, "accessTokenExpiresAt" date, "refreshTokenExpiresAt" date, "scope" text, "password" text, "createdAt" date not null, "updatedAt" date not null);
create table "verification" ("id" text not null primary key, "identifier" text not null, "value" text not null, "expiresAt" date not null, "createdAt" date not null, "updatedAt" date not null);
create index "session_userId_idx" on "session" ("userId");
create index "account_userId_idx" on "account" ("userId");
create index "verification_identifier_idx" on "verification" ("identifier");
"#;

/// The same for PostgreSQL, verbatim.
const BA_POSTGRES_DDL: &str = r#"
create table "user" ("id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" boolean not null, "image" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz default CURRENT_TIMESTAMP not null);
create table "session" ("id" text not null primary key, "expiresAt" timestamptz not null, "token" text not null unique, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz not null, "ipAddress" text, "userAgent" text, "userId" text not null references "user" ("id") on delete cascade);
create table "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null, "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text, "accessTokenExpiresAt" timestamptz, "refreshTokenExpiresAt" timestamptz, "scope" text, "password" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz not null);
create table "verification" ("id" text not null primary key, "identifier" text not null, "value" text not null, "expiresAt" timestamptz not null, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz default CURRENT_TIMESTAMP not null);
create index "session_userId_idx" on "session" ("userId");
create index "account_userId_idx" on "account" ("userId");
create index "verification_identifier_idx" on "verification" ("identifier");
"#;

/// `password123` as Better Auth hashes it (protocol reference §2.4).
const SCRYPT_PASSWORD123: &str = "f73246da9d0ff4fafec411caba66ee8b:4effeaaa9298d733c08cfcfd9f4d90cc1377a3f4be63b9082f3bed53965e3d6a49fdc3a696f3d252b3cbfa1fb5deb750fde444654ee1fdd5575196ab9ce16c12";

const ALICE: &str = "AliceBetterAuthId000000000000001";
const BOB: &str = "BobBetterAuthId00000000000000002";
const CAROL: &str = "CarolBetterAuthId000000000000003";
const DAVE: &str = "DaveBetterAuthId0000000000000004";
const ALICE_TOKEN: &str = "aliceLiveSessionToken00000000001";
const ALICE_OLD_TOKEN: &str = "aliceExpiredSessionToken00000002";
const CAROL_TOKEN: &str = "carolLiveSessionToken00000000003";

/// A Better Auth database: SQLite (a file in `dir`) or PostgreSQL.
enum BaDb {
    Sqlite(String),
    Postgres(PgDatabase),
}

impl BaDb {
    fn url(&self) -> &str {
        match self {
            BaDb::Sqlite(u) => u,
            BaDb::Postgres(pg) => &pg.url,
        }
    }

    /// Runs statements; `?` placeholders are numbered for PostgreSQL.
    async fn exec(&self, sql: &str, args: &[Option<&str>]) {
        match self {
            BaDb::Sqlite(url) => {
                let mut c = sqlx::SqliteConnection::connect(&format!("{url}?mode=rwc"))
                    .await
                    .unwrap();
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
                for a in args {
                    q = q.bind(*a);
                }
                q.execute(&mut c).await.unwrap();
            }
            BaDb::Postgres(pg) => {
                let mut c = sqlx::PgConnection::connect(&pg.url).await.unwrap();
                let mut n = 0;
                let numbered: String = sql
                    .chars()
                    .map(|ch| {
                        if ch == '?' {
                            n += 1;
                            format!("${n}")
                        } else {
                            ch.to_string()
                        }
                    })
                    .collect();
                let mut q = sqlx::query(sqlx::AssertSqlSafe(numbered));
                for a in args {
                    q = q.bind(*a);
                }
                q.execute(&mut c).await.unwrap();
            }
        }
    }

    async fn ddl(&self, ddl: &str) {
        for stmt in ddl.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            self.exec(stmt, &[]).await;
        }
    }

    fn is_postgres(&self) -> bool {
        matches!(self, BaDb::Postgres(_))
    }

    /// A date literal as Better Auth's adapter writes it (ISO text on SQLite; on PostgreSQL
    /// the same text, cast by the server to `timestamptz`).
    fn date_sql(&self) -> &'static str {
        if self.is_postgres() {
            "?::timestamptz"
        } else {
            "?"
        }
    }

    fn bool_sql(&self, b: bool) -> &'static str {
        match (self.is_postgres(), b) {
            (true, true) => "true",
            (true, false) => "false",
            (false, true) => "1",
            (false, false) => "0",
        }
    }

    async fn user(&self, id: &str, email: &str, verified: bool) {
        let d = self.date_sql();
        self.exec(
            &format!(
                "insert into \"user\" (\"id\", \"name\", \"email\", \"emailVerified\", \"image\", \"createdAt\", \"updatedAt\") \
                 values (?, ?, ?, {}, null, {d}, {d})",
                self.bool_sql(verified)
            ),
            &[
                Some(id),
                Some(&format!("Name {id}")),
                Some(email),
                Some("2025-03-01T10:00:00.000Z"),
                Some("2025-03-02T11:30:00.250Z"),
            ],
        )
        .await;
    }

    async fn account(&self, user: &str, provider: &str, password: Option<&str>) {
        let d = self.date_sql();
        self.exec(
            &format!(
                "insert into \"account\" (\"id\", \"accountId\", \"providerId\", \"userId\", \"password\", \"createdAt\", \"updatedAt\") \
                 values (?, ?, ?, ?, ?, {d}, {d})"
            ),
            &[
                Some(&format!("acc-{provider}-{user}")),
                Some(user),
                Some(provider),
                Some(user),
                password,
                Some("2025-03-01T10:00:00.000Z"),
                Some("2025-03-01T10:00:00.000Z"),
            ],
        )
        .await;
    }

    async fn session(&self, id: &str, user: &str, token: &str, expires: &str) {
        let d = self.date_sql();
        self.exec(
            &format!(
                "insert into \"session\" (\"id\", \"expiresAt\", \"token\", \"createdAt\", \"updatedAt\", \"ipAddress\", \"userAgent\", \"userId\") \
                 values (?, {d}, ?, {d}, {d}, ?, ?, ?)"
            ),
            &[
                Some(id),
                Some(expires),
                Some(token),
                Some("2025-03-05T08:00:00.000Z"),
                Some("2025-03-06T08:00:00.000Z"),
                Some("203.0.113.7"),
                None,
                Some(user),
            ],
        )
        .await;
    }

    /// Alice (password, mixed-case email as stored by some other writer, one live and one
    /// expired session), Bob (GitHub only), Carol (password, one live session).
    async fn populate(&self) {
        self.ddl(if self.is_postgres() {
            BA_POSTGRES_DDL
        } else {
            BA_SQLITE_DDL
        })
        .await;
        self.user(ALICE, "Alice.Smith@Example.COM", true).await;
        self.user(BOB, "bob@example.com", false).await;
        self.user(CAROL, "carol@example.com", false).await;
        self.account(ALICE, "credential", Some(SCRYPT_PASSWORD123))
            .await;
        self.account(BOB, "github", None).await;
        self.account(CAROL, "credential", Some(SCRYPT_PASSWORD123))
            .await;
        self.session("sessAlice", ALICE, ALICE_TOKEN, "2099-01-01T00:00:00.000Z")
            .await;
        self.session(
            "sessAliceOld",
            ALICE,
            ALICE_OLD_TOKEN,
            "2020-01-01T00:00:00.000Z",
        )
        .await;
        self.session("sessCarol", CAROL, CAROL_TOKEN, "2099-01-01T00:00:00.000Z")
            .await;
    }
}

async fn sqlite_source(dir: &Path) -> BaDb {
    BaDb::Sqlite(format!("sqlite://{}", dir.join("better-auth.db").display()))
}

/// Runs `tessera <args> --database-url <target>`, with the test secret.
fn tessera(dir: &Path, target: &str, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .args(["--database-url", target])
        .env("TESSERA_SECRET", SECRET)
        .env("TESSERA_LOG", "warn")
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn import(dir: &Path, target: &str, from: &str) -> String {
    let out = tessera(
        dir,
        target,
        &["import", "better-auth", "--from", from],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "import failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn import_fails(dir: &Path, target: &str, from: &str) -> String {
    let out = tessera(
        dir,
        target,
        &["import", "better-auth", "--from", from],
        None,
    );
    assert!(
        !out.status.success(),
        "import of {from} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn sign_in(server: &Server, email: &str, password: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/auth/sign-in/email", server.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn no_secrets(out: &str) {
    for secret in [
        SCRYPT_PASSWORD123,
        "f73246da9d0ff4fafec411caba66ee8b",
        ALICE_TOKEN,
        CAROL_TOKEN,
    ] {
        assert!(!out.contains(secret), "output leaks a secret:\n{out}");
    }
}

/// The whole journey on one source and one Tessera target.
async fn import_then_sign_in_and_rerun(source: BaDb, target: &str, dir: &Path) {
    source.populate().await;
    let out = import(dir, target, source.url());
    no_secrets(&out);
    assert!(
        out.contains("users: 3 new, 0 already present, 0 skipped"),
        "{out}"
    );
    assert!(
        out.contains("passwords: 2 new, 0 already present, 1 user(s) without a password"),
        "{out}"
    );
    assert!(
        out.contains("sessions: 2 new, 0 already present, 1 expired (not imported), 0 skipped"),
        "{out}"
    );
    assert!(out.contains(&format!("no password: user {BOB}")), "{out}");
    assert!(out.contains("1 github account link"), "{out}");

    let server = start_with_url(dir, target, &[]).await;
    // the mixed-case address was normalised; the Better Auth password works; the id is kept
    let (status, body) = sign_in(&server, "alice.smith@example.com", "password123").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["id"], ALICE);
    assert_eq!(body["user"]["emailVerified"], true);
    assert_eq!(body["user"]["createdAt"], "2025-03-01T10:00:00.000Z");
    let (status, body) = sign_in(&server, "ALICE.SMITH@example.com", "password123").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sign_in(&server, "carol@example.com", "password123").await.0,
        200
    );
    assert_eq!(
        sign_in(&server, "carol@example.com", "password124").await.0,
        401
    );
    assert_eq!(
        sign_in(&server, "bob@example.com", "password123").await.0,
        401
    );

    // the Better Auth session tokens work as they are; the expired one was not imported
    let s = session_of(&server, ALICE_TOKEN).await;
    assert_eq!(s["user"]["id"], ALICE, "{s}");
    assert_eq!(s["session"]["id"], "sessAlice");
    assert_eq!(s["session"]["ipAddress"], "203.0.113.7");
    assert_eq!(s["session"]["userAgent"], "");
    assert_eq!(session_of(&server, CAROL_TOKEN).await["user"]["id"], CAROL);
    assert_eq!(session_of(&server, ALICE_OLD_TOKEN).await, Value::Null);
    // and an access token carries the Better Auth id as its subject
    let jwt = access_token(
        &server,
        &Session {
            user_id: ALICE.into(),
            session_token: ALICE_TOKEN.into(),
        },
    )
    .await;
    assert_eq!(get_tasks(&server, ALICE, &jwt).await.status(), 200);

    // a second run adds nothing (Alice's hash, upgraded to Argon2id at sign-in, stays)
    let out = import(dir, target, source.url());
    assert!(
        out.contains("users: 0 new, 3 already present, 0 skipped"),
        "{out}"
    );
    assert!(out.contains("passwords: 0 new, 2 already present"), "{out}");
    assert!(out.contains("sessions: 0 new, 2 already present"), "{out}");
    assert_eq!(
        sign_in(&server, "alice.smith@example.com", "password123")
            .await
            .0,
        200
    );

    // after a new sign-up at Better Auth, a run adds just that user
    source.user(DAVE, "dave@example.com", false).await;
    source
        .account(DAVE, "credential", Some(SCRYPT_PASSWORD123))
        .await;
    let out = import(dir, target, source.url());
    assert!(
        out.contains("users: 1 new, 3 already present, 0 skipped"),
        "{out}"
    );
    assert!(out.contains("passwords: 1 new, 2 already present"), "{out}");
    assert_eq!(
        sign_in(&server, "dave@example.com", "password123").await.0,
        200
    );
}

#[tokio::test]
async fn sqlite_source_into_sqlite_tessera() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", dir.path().join("t.db").display());
    import_then_sign_in_and_rerun(sqlite_source(dir.path()).await, &target, dir.path()).await;
}

#[tokio::test]
async fn sqlite_source_given_as_a_plain_path() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_source(dir.path()).await;
    source.populate().await;
    let target = format!("sqlite://{}", dir.path().join("t.db").display());
    let path = dir.path().join("better-auth.db");
    let out = import(dir.path(), &target, path.to_str().unwrap());
    assert!(out.contains("users: 3 new"), "{out}");
}

#[tokio::test]
async fn postgres_source_into_sqlite_tessera() {
    let Some(pg) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", dir.path().join("t.db").display());
    import_then_sign_in_and_rerun(BaDb::Postgres(pg), &target, dir.path()).await;
}

#[tokio::test]
async fn sqlite_source_into_postgres_tessera() {
    let Some(tessera_pg) = postgres_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    import_then_sign_in_and_rerun(sqlite_source(dir.path()).await, &tessera_pg.url, dir.path())
        .await;
}

#[tokio::test]
async fn a_tessera_user_with_the_same_email_is_kept_and_the_better_auth_one_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", dir.path().join("t.db").display());
    let created = tessera(
        dir.path(),
        &target,
        &[
            "users",
            "create",
            "--email",
            "carol@example.com",
            "--name",
            "Tessera Carol",
        ],
        Some("a different passphrase\n"),
    );
    assert!(created.status.success(), "{created:?}");
    let source = sqlite_source(dir.path()).await;
    source.populate().await;

    let out = import(dir.path(), &target, source.url());
    assert!(
        out.contains("users: 2 new, 0 already present, 1 skipped"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "skipped user {CAROL} <carol@example.com>: another Tessera user has this email"
        )),
        "{out}"
    );
    assert!(out.contains("passwords: 1 new"), "{out}");
    assert!(
        out.contains("sessions: 1 new, 0 already present, 1 expired (not imported), 1 skipped"),
        "{out}"
    );
    assert!(
        out.contains("skipped 1 session(s): their user was not imported"),
        "{out}"
    );

    let server = start_with_url(dir.path(), &target, &[]).await;
    let (status, body) = sign_in(&server, "carol@example.com", "a different passphrase").await;
    assert_eq!(status, 200);
    assert_ne!(body["user"]["id"], CAROL);
    assert_eq!(body["user"]["name"], "Tessera Carol");
    assert_eq!(
        sign_in(&server, "carol@example.com", "password123").await.0,
        401
    );
    assert_eq!(session_of(&server, CAROL_TOKEN).await, Value::Null);
}

#[tokio::test]
async fn a_dry_run_reports_but_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", dir.path().join("t.db").display());
    let source = sqlite_source(dir.path()).await;
    source.populate().await;
    let out = tessera(
        dir.path(),
        &target,
        &["import", "better-auth", "--dry-run", "--from", source.url()],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("dry run (nothing written)"), "{stdout}");
    assert!(stdout.contains("users: 3 new"), "{stdout}");
    assert_eq!(user_count(dir.path(), &target), 0);
}

/// Users in the Tessera database, counted with `tessera users list`.
fn user_count(dir: &Path, target: &str) -> usize {
    let out = tessera(dir, target, &["users", "list"], None);
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).lines().count() - 1
}

#[tokio::test]
async fn unusable_sources_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", dir.path().join("t.db").display());
    let d = dir.path();

    let err = import_fails(d, &target, "mysql://root@127.0.0.1/auth");
    assert!(err.contains("unsupported source mysql://"), "{err}");
    let err = import_fails(d, &target, d.join("nope.db").to_str().unwrap());
    assert!(err.contains("no SQLite file"), "{err}");
    let err = import_fails(
        d,
        &target,
        &format!("sqlite://{}", d.join("nope.db").display()),
    );
    assert!(err.contains("cannot open"), "{err}");

    // an SQLite file that is not a Better Auth database (here: Tessera's own)
    let out = tessera(d, &target, &["migrate"], None);
    assert!(out.status.success(), "{out:?}");
    let err = import_fails(d, &target, &target);
    assert!(err.contains("no table \"user\""), "{err}");

    // Better Auth with a table missing
    let partial = BaDb::Sqlite(format!("sqlite://{}", d.join("partial.db").display()));
    partial
        .ddl(&BA_SQLITE_DDL.replace("\"session\"", "\"sessions\""))
        .await;
    partial.user(ALICE, "alice@example.com", true).await;
    let err = import_fails(d, &target, partial.url());
    assert!(err.contains("no table \"session\""), "{err}");

    // snake_case columns (another adapter's naming)
    let snake = BaDb::Sqlite(format!("sqlite://{}", d.join("snake.db").display()));
    snake
        .ddl(&BA_SQLITE_DDL.replace("\"emailVerified\"", "\"email_verified\""))
        .await;
    let err = import_fails(d, &target, snake.url());
    assert!(err.contains("\"emailVerified\""), "{err}");

    // a row whose date is not a date: the whole import is refused
    let bad = BaDb::Sqlite(format!("sqlite://{}", d.join("bad.db").display()));
    bad.populate().await;
    bad.exec(
        "update \"session\" set \"expiresAt\" = 'soon' where \"id\" = 'sessCarol'",
        &[],
    )
    .await;
    let err = import_fails(d, &target, bad.url());
    assert!(err.contains("expiresAt is not a date"), "{err}");

    if let Some(pg) = postgres_database().await {
        let missing = pg.url.replace(
            pg.url.rsplit('/').next().unwrap(),
            "tessera_no_such_database",
        );
        let err = import_fails(d, &target, &missing);
        assert!(err.contains("cannot open the PostgreSQL database"), "{err}");
        let err = import_fails(d, &target, &pg.url);
        assert!(err.contains("no table \"user\""), "{err}");
    }
    assert_eq!(user_count(d, &target), 0);
}

#[tokio::test]
async fn a_failure_while_writing_leaves_tessera_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = format!("sqlite://{}", d.join("t.db").display());
    let out = tessera(d, &target, &["migrate"], None);
    assert!(out.status.success(), "{out:?}");
    // Make the database refuse the last session the import writes (Carol's, after Alice's
    // user, password and session are in), as a full disk or a constraint would.
    let mut c = sqlx::SqliteConnection::connect(&target).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_carol BEFORE INSERT ON sessions WHEN NEW.id = 'sessCarol' \
         BEGIN SELECT RAISE(ABORT, 'disk full, say'); END",
    )
    .execute(&mut c)
    .await
    .unwrap();
    drop(c);
    let source = sqlite_source(d).await;
    source.populate().await;

    let err = import_fails(d, &target, source.url());
    assert!(err.contains("the Tessera database is unchanged"), "{err}");
    assert_eq!(user_count(d, &target), 0);
    let mut c = sqlx::SqliteConnection::connect(&target).await.unwrap();
    let (sessions, accounts): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM accounts)")
            .fetch_one(&mut c)
            .await
            .unwrap();
    assert_eq!((sessions, accounts), (0, 0));
}
