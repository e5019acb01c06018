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
    assert!(
        out.contains("skipped 1 identit(y/ies): no [providers.github] is configured"),
        "{out}"
    );

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

/// Better Auth's secret in the two-factor cases, and what its `symmetricEncrypt`
/// (better-auth@1.7.25 itself, run under node) wrote with it: a TOTP secret and a backup-code
/// list (two codes of Better Auth's shape and one of a custom generator's).
const BA_SECRET: &str = "better-auth-import-test-secret-0123456789";
const ERIN: &str = "ErinBetterAuthId0000000000000005";
const FRANK: &str = "FrankBetterAuthId000000000000006";
const GINA: &str = "GinaBetterAuthId0000000000000007";
const ERIN_TOTP_PLAIN: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const ERIN_TOTP_SEALED: &str = "89897bb4f44673513e6a5b0103d007028946eb58a0e1f37a045e5ab1c5e95d78e51dc9570d74c0071bd717018d3e5740b65aaaaa27c356faa73d169b88bddb690918c667d5179512";
const ERIN_BACKUP_SEALED: &str = "4513767cb46db3db542e1cbaaaf0c688a6d9c123f579a9a83bd061a7be6cf14247cf80c9e675a6f4ed61d380e6a4e50dbe3fea71d06f96682d5d6862dbc06a18a3d8c41805b5f04dc4936dfd9a85d9b6bffb50eb2949b50fe0b0";
const FRANK_PENDING_SEALED: &str = "e166785e8716192cfc016948669ff5be6e3deb143bb829d4e9358f539251c104f0c57de51ae75fefdb0e52488b76dbd5ad91d17071866430b7bd521e3df89c1f16983ce2206242dc";

/// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) written here from the RFC, not Tessera's code:
/// the key is the secret string's bytes, as Better Auth uses it.
fn totp_now(key: &[u8]) -> String {
    use aws_lc_rs::hmac;
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
        &step.to_be_bytes(),
    );
    let t = tag.as_ref();
    let off = usize::from(t[19] & 0x0f);
    let bin = u32::from_be_bytes([t[off] & 0x7f, t[off + 1], t[off + 2], t[off + 3]]);
    format!("{:06}", bin % 1_000_000)
}

impl BaDb {
    /// The two-factor plugin's schema (better-auth@1.7.25's DDL for it) and accounts at
    /// providers: Erin (password, TOTP confirmed, backup codes), Frank (password, an
    /// enrolment never confirmed), Gina (no password: GitHub, an OpenID Connect provider
    /// `op`, and `twitter`, which Tessera is not configured for).
    async fn populate_plugins(&self) {
        self.populate().await;
        if self.is_postgres() {
            self.ddl(r#"alter table "user" add column "twoFactorEnabled" boolean;
create table "twoFactor" ("id" text not null primary key, "secret" text not null, "backupCodes" text not null, "userId" text not null references "user" ("id") on delete cascade, "verified" boolean, "failedVerificationCount" integer, "lockedUntil" timestamptz)"#).await;
        } else {
            self.ddl(r#"alter table "user" add column "twoFactorEnabled" integer;
create table "twoFactor" ("id" text not null primary key, "secret" text not null, "backupCodes" text not null, "userId" text not null references "user" ("id") on delete cascade, "verified" integer, "failedVerificationCount" integer, "lockedUntil" date)"#).await;
        }
        for (id, email) in [
            (ERIN, "erin@example.com"),
            (FRANK, "frank@example.com"),
            (GINA, "gina@example.com"),
        ] {
            self.user(id, email, true).await;
        }
        self.account(ERIN, "credential", Some(SCRYPT_PASSWORD123))
            .await;
        self.account(FRANK, "credential", Some(SCRYPT_PASSWORD123))
            .await;
        let (t, f) = (self.bool_sql(true), self.bool_sql(false));
        self.exec(
            &format!("update \"user\" set \"twoFactorEnabled\" = {t} where \"id\" = ?"),
            &[Some(ERIN)],
        )
        .await;
        self.exec(
            &format!("insert into \"twoFactor\" (\"id\", \"secret\", \"backupCodes\", \"userId\", \"verified\") values ('tf1', ?, ?, ?, {t})"),
            &[Some(ERIN_TOTP_SEALED), Some(ERIN_BACKUP_SEALED), Some(ERIN)],
        )
        .await;
        self.exec(
            &format!("insert into \"twoFactor\" (\"id\", \"secret\", \"backupCodes\", \"userId\", \"verified\") values ('tf2', ?, '[]', ?, {f})"),
            &[Some(FRANK_PENDING_SEALED), Some(FRANK)],
        )
        .await;
        let d = self.date_sql();
        for (provider, subject, scope) in [
            ("github", "583231", Some("read:user,user:email")),
            ("op", "sub-gina", Some("openid,email,profile")),
            ("twitter", "tw-1", None),
        ] {
            self.exec(
                &format!(
                    "insert into \"account\" (\"id\", \"accountId\", \"providerId\", \"userId\", \"accessToken\", \"refreshToken\", \"scope\", \"createdAt\", \"updatedAt\") \
                     values (?, ?, ?, ?, 'provider-access-token', 'provider-refresh-token', ?, {d}, {d})"
                ),
                &[
                    Some(&format!("acc-{provider}-gina")),
                    Some(subject),
                    Some(provider),
                    Some(GINA),
                    scope,
                    Some("2025-04-01T10:00:00.000Z"),
                    Some("2025-04-01T10:00:00.000Z"),
                ],
            )
            .await;
        }
    }
}

/// `tessera import better-auth` with extra arguments and the providers' config file.
fn import_with(dir: &Path, target: &str, from: &str, extra: &[&str]) -> Output {
    let config = dir.join("providers.toml");
    std::fs::write(
        &config,
        "[providers.github]\nclient_id = \"gh\"\nclient_secret = \"gh-secret\"\n\n\
         [providers.op]\nissuer = \"https://op.example\"\nclient_id = \"op\"\nclient_secret = \"op-secret\"\n",
    )
    .unwrap();
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "import",
        "better-auth",
        "--from",
        from,
    ];
    args.extend_from_slice(extra);
    tessera(dir, target, &args, None)
}

/// POSTs JSON as a browser on the server's origin; returns status, the cookies set and the
/// body.
async fn post_as_browser(
    server: &Server,
    path: &str,
    cookies: &str,
    body: Value,
) -> (u16, String, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", server.base))
        .header("origin", &server.base)
        .header("cookie", cookies)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let set: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
        .collect();
    (
        status,
        set.join("; "),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// Erin's first factor: the challenge cookie.
async fn erin_challenge(server: &Server) -> String {
    let (status, cookies, body) = post_as_browser(
        server,
        "/api/auth/sign-in/email",
        "",
        json!({"email": "erin@example.com", "password": "password123"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["twoFactorRedirect"], true,
        "two-factor carried over: {body}"
    );
    assert!(cookies.contains("better-auth.two_factor="), "{cookies}");
    cookies
}

async fn identities_and_two_factor_come_over(source: BaDb, target: &str, dir: &Path) {
    source.populate_plugins().await;
    let secret_file = dir.join("ba-secret");
    std::fs::write(&secret_file, format!("{BA_SECRET}\n")).unwrap();
    let wrong_file = dir.join("ba-wrong");
    std::fs::write(&wrong_file, "not the secret Better Auth had\n").unwrap();

    // Without Better Auth's secret, or with another one, nothing is imported.
    let out = import_with(dir, target, source.url(), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("1 user(s) have two-factor") && err.contains("--better-auth-secret-file"),
        "{err}"
    );
    let out = import_with(
        dir,
        target,
        source.url(),
        &["--better-auth-secret-file", wrong_file.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!("the TOTP secret of user {ERIN}")) && err.contains("cannot decrypt"),
        "{err}"
    );
    assert_eq!(user_count(dir, target), 0);

    let args = ["--better-auth-secret-file", secret_file.to_str().unwrap()];
    let out = import_with(dir, target, source.url(), &args);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}\n{report}",
        String::from_utf8_lossy(&out.stderr)
    );
    no_secrets(&report);
    for secret in [
        BA_SECRET,
        ERIN_TOTP_PLAIN,
        "aB3dE-fG5hI",
        "provider-access-token",
    ] {
        assert!(
            !report.contains(secret),
            "the report leaks a secret:\n{report}"
        );
    }
    assert!(
        report.contains("users: 6 new, 0 already present, 0 skipped"),
        "{report}"
    );
    assert!(
        report.contains("identities: 3 new, 0 already present, 1 skipped"),
        "{report}"
    );
    assert!(
        report.contains("skipped 1 identit(y/ies): no [providers.twitter] is configured"),
        "{report}"
    );

    assert!(
        report.contains("two-factor: 1 new, 0 already present, 1 skipped"),
        "{report}"
    );
    assert!(
        report.contains("skipped 1 two-factor enrolment(s): the enrolment was never confirmed"),
        "{report}"
    );
    assert!(
        report.contains("skipped 1 backup code(s) not of Better Auth's default shape"),
        "{report}"
    );
    // Gina signs in through providers only: not listed as unable to sign in
    assert!(
        !report.contains(&format!("no password: user {GINA}")),
        "{report}"
    );

    // The identities are keyed as the sign-in flow looks them up; no provider token is kept.
    let rows: Vec<(String, String, String, String, Option<String>)> = if target
        .starts_with("postgres")
    {
        let mut c = sqlx::PgConnection::connect(target).await.unwrap();
        sqlx::query_as("SELECT id, user_id, issuer, account_id, scope FROM accounts WHERE provider_id <> 'credential' AND user_id = $1 ORDER BY id")
            .bind(GINA)
            .fetch_all(&mut c)
            .await
            .unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(target).await.unwrap();
        sqlx::query_as("SELECT id, user_id, issuer, account_id, scope FROM accounts WHERE provider_id <> 'credential' AND user_id = $1 ORDER BY id")
            .bind(GINA)
            .fetch_all(&mut c)
            .await
            .unwrap()
    };
    assert_eq!(
        rows,
        [
            (
                "acc-github-gina".into(),
                GINA.into(),
                "local:oauth:github".into(),
                "583231".into(),
                Some("read:user user:email".into())
            ),
            (
                "acc-op-gina".into(),
                GINA.into(),
                "https://op.example".into(),
                "sub-gina".into(),
                Some("openid email profile".into())
            ),
        ]
    );

    let server = start_with_url(dir, target, &[]).await;
    // Erin's authenticator app keeps working: a code from her Better Auth secret finishes
    // the challenge, once.
    let challenge = erin_challenge(&server).await;
    let code = totp_now(ERIN_TOTP_PLAIN.as_bytes());
    let (status, _, body) = post_as_browser(
        &server,
        "/api/auth/two-factor/verify-totp",
        &challenge,
        json!({"code": code}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["id"], ERIN);
    // A Better Auth backup code works once, as Better Auth wrote it (case kept).
    let challenge = erin_challenge(&server).await;
    let (status, _, body) = post_as_browser(
        &server,
        "/api/auth/two-factor/verify-backup-code",
        &challenge,
        json!({"code": "ab3de-fg5hi"}),
    )
    .await;
    assert_eq!(status, 401, "backup codes keep their case: {body}");
    let (status, _, body) = post_as_browser(
        &server,
        "/api/auth/two-factor/verify-backup-code",
        &challenge,
        json!({"code": "aB3dE-fG5hI"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["id"], ERIN);
    let challenge = erin_challenge(&server).await;
    let (status, _, body) = post_as_browser(
        &server,
        "/api/auth/two-factor/verify-backup-code",
        &challenge,
        json!({"code": "aB3dE-fG5hI"}),
    )
    .await;
    assert_eq!(status, 401, "a used backup code is refused: {body}");
    // Frank's unconfirmed enrolment was not imported: his password alone signs him in.
    let (status, body) = sign_in(&server, "frank@example.com", "password123").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["token"].is_string(), "{body}");

    // A re-run adds nothing and leaves the used backup code used.
    let out = import_with(dir, target, source.url(), &args);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        report.contains("identities: 0 new, 3 already present"),
        "{report}"
    );
    assert!(
        report.contains("two-factor: 0 new, 1 already present"),
        "{report}"
    );
}

#[tokio::test]
async fn identities_and_two_factor_from_sqlite_into_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("sqlite://{}", dir.path().join("t.db").display());
    identities_and_two_factor_come_over(sqlite_source(dir.path()).await, &target, dir.path()).await;
}

#[tokio::test]
async fn identities_and_two_factor_from_postgres_into_postgres() {
    let (Some(source), Some(tessera_pg)) = (postgres_database().await, postgres_database().await)
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    identities_and_two_factor_come_over(BaDb::Postgres(source), &tessera_pg.url, dir.path()).await;
}
