//! The harness: `spawn_app()` starts the real server on 127.0.0.1:0 with a fresh SQLite file
//! and a [`ManualClock`], and [`TestApp`] has one method per endpoint, so tests read like the
//! protocol reference.
//!
//! **Base URL.** Every app is configured with the fixed base URL `http://localhost:3999` (the
//! one the protocol reference's captures were made with) while it listens on an ephemeral
//! port. Nothing in the server needs the base URL to be the address it listens on: it is the
//! origin that `Origin` headers are compared with, the JWT issuer and audience, and it decides
//! the cookie prefix. Choosing it up front avoids the race of "pick a free port, drop it, bind
//! it again", and makes `iss`/`aud` and trusted origins constants the tests can spell out.
//! Cookies are host-only, so a cookie-store client talking to 127.0.0.1 keeps them anyway.
//!
//! **Time.** The server's clock is a [`ManualClock`] that starts at the wall-clock time of
//! `spawn_app()` (kept as [`TestApp::t0`]) and then only moves when a test advances it, so
//! every timestamp a test expects is exact. It starts at the real time rather than a fixed
//! instant because verifiers outside the server (the tasks API's, a backend's) check `exp`
//! against the real clock.

#![allow(dead_code)] // not every test module uses every helper

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lc_rs::{hmac, signature};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tessera_core::{Clock as _, ManualClock};
use tessera_server::{Application, AuthState, Settings, StartError};
use tessera_store::Store;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The secret of the protocol reference's cookie test vector (§3.2).
pub(crate) const SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
/// The configured base URL (see the module docs).
pub(crate) const BASE_URL: &str = "http://localhost:3999";
/// Its origin: the trusted origin, JWT issuer and audience.
pub(crate) const ORIGIN: &str = "http://localhost:3999";
/// The user agent every test client sends.
pub(crate) const USER_AGENT: &str = "tessera-api-tests/1";
/// A password that satisfies the policy.
pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) const SESSION_COOKIE: &str = "better-auth.session_token";
pub(crate) const DONT_REMEMBER_COOKIE: &str = "better-auth.dont_remember";

pub(crate) const DAY: Duration = Duration::from_secs(24 * 3600);

/// How a request proves who it is.
#[derive(Debug, Clone)]
pub(crate) enum Who {
    /// No credentials.
    Anonymous,
    /// A `Cookie` header value (`name=value; name2=value2`). POSTs also send the trusted
    /// `Origin`, as a browser would.
    Cookie(String),
    /// `Authorization: Bearer <value>`.
    Bearer(String),
}

/// A user who signed up through the API.
#[derive(Debug, Clone)]
pub(crate) struct TestUser {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) password: String,
    /// The raw session token from the JSON body.
    pub(crate) token: String,
    /// `set-auth-token`: `token.signature`.
    pub(crate) signed_token: String,
    /// `better-auth.session_token=<encoded value>` from `Set-Cookie`.
    pub(crate) cookie: String,
}

impl TestUser {
    /// Authenticated by the session cookie.
    pub(crate) fn by_cookie(&self) -> Who {
        Who::Cookie(self.cookie.clone())
    }
    /// Authenticated by the signed token from `set-auth-token`.
    pub(crate) fn by_bearer(&self) -> Who {
        Who::Bearer(self.signed_token.clone())
    }
    /// Authenticated by the raw token from the JSON body.
    pub(crate) fn by_raw_bearer(&self) -> Who {
        Who::Bearer(self.token.clone())
    }
}

/// A running server and what the tests need to drive and inspect it.
pub(crate) struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub(crate) address: String,
    /// The settings it was started with (restarts reuse them).
    pub(crate) settings: Settings,
    /// The server's clock.
    pub(crate) clock: ManualClock,
    /// The clock's reading when the app was first spawned (unix ms).
    pub(crate) t0: i64,
    /// A plain client: no cookie store, no `Origin`, never follows redirects.
    pub(crate) api: reqwest::Client,
    state: AuthState,
    db_path: PathBuf,
    /// With `TESSERA_TEST_BACKEND=postgres`: the fresh database this app uses.
    pg: Option<Arc<PgDatabase>>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    // Dropped last: the database file lives in here.
    _dir: Arc<tempfile::TempDir>,
}

static EMAILS: AtomicUsize = AtomicUsize::new(0);

/// A fresh, unused email address.
/// The revocation feed's secret in tests that configure one.
pub(crate) const FEED_SECRET: &str = "feed secret shared with the verifying services";

pub(crate) fn unique_email() -> String {
    format!("user{}@example.com", EMAILS.fetch_add(1, Ordering::Relaxed))
}

fn client(cookies: bool) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::USER_AGENT,
        reqwest::header::HeaderValue::from_static(USER_AGENT),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .cookie_store(cookies)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

/// The default test server.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A test server with customised settings (JWT algorithm, base URL, trusted origins…).
pub(crate) async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let db_path = dir.path().join("t.db");
    let mut settings = Settings::new_dev(SECRET.as_bytes().to_vec());
    settings.http.bind = "127.0.0.1:0".parse().expect("address");
    settings.http.base_url = BASE_URL.into();
    settings.database.database_url = format!("sqlite://{}", db_path.display()).into();
    let pg = on_postgres().then(|| Arc::new(PgDatabase::create()));
    if let Some(pg) = &pg {
        settings.database.database_url = pg.url.clone().into();
    }
    configure(&mut settings);
    let clock = ManualClock::starting_now();
    start(settings, clock, db_path, pg, dir)
        .await
        .expect("the server starts")
}

async fn start(
    settings: Settings,
    clock: ManualClock,
    db_path: PathBuf,
    pg: Option<Arc<PgDatabase>>,
    dir: Arc<tempfile::TempDir>,
) -> Result<TestApp, StartError> {
    let app = Application::build(settings.clone(), Arc::new(clock.clone())).await?;
    let address = format!("http://{}", app.local_addr());
    let state = app.state().expect("the auth server runs").clone();
    let t0 = clock.now_ms();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    Ok(TestApp {
        address,
        settings,
        clock,
        t0,
        api: client(false),
        state,
        db_path,
        pg,
        shutdown: Some(tx),
        server: Some(server),
        _dir: dir,
    })
}

impl TestApp {
    // ---------------------------------------------------------------- plumbing

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A request with the plain client, for tests that build unusual requests by hand.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.api.request(method, self.url(path))
    }

    fn with(&self, rb: RequestBuilder, who: &Who, post: bool) -> RequestBuilder {
        match who {
            Who::Anonymous => rb,
            Who::Cookie(c) => {
                let rb = rb.header("cookie", c);
                if post {
                    rb.header("origin", ORIGIN)
                } else {
                    rb
                }
            }
            Who::Bearer(t) => rb.header("authorization", format!("Bearer {t}")),
        }
    }

    fn post_json(&self, path: &str, body: &Value) -> RequestBuilder {
        self.request(Method::POST, path)
            .header("content-type", "application/json")
            .body(body.to_string())
    }

    /// The auth server's state: its store and clock.
    pub(crate) fn state(&self) -> &AuthState {
        &self.state
    }

    /// The store the server uses.
    pub(crate) fn store(&self) -> &dyn Store {
        self.state.store()
    }

    // ---------------------------------------------------------------- endpoints

    /// `POST /api/auth/sign-up/email` with a JSON body, no cookies, no `Origin`.
    pub(crate) async fn sign_up(&self, body: &Value) -> Response {
        self.post_json("/api/auth/sign-up/email", body)
            .send()
            .await
            .expect("sign-up request")
    }

    /// `POST /api/auth/sign-in/email` with a JSON body, no cookies, no `Origin`.
    pub(crate) async fn sign_in(&self, body: &Value) -> Response {
        self.post_json("/api/auth/sign-in/email", body)
            .send()
            .await
            .expect("sign-in request")
    }

    /// `POST /api/auth/sign-out` with `{}` as the client sends it.
    pub(crate) async fn sign_out(&self, who: &Who) -> Response {
        self.with(self.post_json("/api/auth/sign-out", &json!({})), who, true)
            .send()
            .await
            .expect("sign-out request")
    }

    /// `GET /api/auth/get-session`.
    pub(crate) async fn get_session(&self, who: &Who) -> Response {
        self.get_session_with_query(who, "").await
    }

    /// `GET /api/auth/get-session?<query>`.
    pub(crate) async fn get_session_with_query(&self, who: &Who, query: &str) -> Response {
        let path = if query.is_empty() {
            "/api/auth/get-session".to_owned()
        } else {
            format!("/api/auth/get-session?{query}")
        };
        self.with(self.request(Method::GET, &path), who, false)
            .send()
            .await
            .expect("get-session request")
    }

    /// `GET /api/auth/token`.
    pub(crate) async fn token(&self, who: &Who) -> Response {
        self.with(self.request(Method::GET, "/api/auth/token"), who, false)
            .send()
            .await
            .expect("token request")
    }

    /// `GET /api/auth/jwks`.
    pub(crate) async fn jwks(&self) -> Response {
        self.request(Method::GET, "/api/auth/jwks")
            .send()
            .await
            .expect("jwks request")
    }

    /// `GET /api/auth/ok`.
    pub(crate) async fn ok(&self) -> Response {
        self.request(Method::GET, "/api/auth/ok")
            .send()
            .await
            .expect("ok request")
    }

    // ---------------------------------------------------------------- shortcuts

    /// Signs a new user up (unique email, [`PASSWORD`]) and returns their credentials.
    pub(crate) async fn signed_up_user(&self) -> TestUser {
        self.signed_up_user_with(&unique_email(), PASSWORD).await
    }

    /// Signs a user up with this email and password and returns their credentials.
    pub(crate) async fn signed_up_user_with(&self, email: &str, password: &str) -> TestUser {
        let res = self
            .sign_up(&json!({ "name": "Test User", "email": email, "password": password }))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "sign-up of {email}");
        session_of(res, "Test User", password).await
    }

    /// Signs an existing user in (JSON, `rememberMe` as given) and returns their new session.
    pub(crate) async fn signed_in(&self, user: &TestUser, remember: bool) -> TestUser {
        let res = self
            .sign_in(
                &json!({ "email": user.email, "password": user.password, "rememberMe": remember }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "sign-in of {}", user.email);
        session_of(res, &user.name, &user.password).await
    }

    /// The session (`get-session` body) as this caller sees it; `Value::Null` when none.
    /// The status of a sign-in with this email and password.
    pub(crate) async fn sign_in_status(&self, email: &str, password: &str) -> StatusCode {
        self.sign_in(&json!({ "email": email, "password": password }))
            .await
            .status()
    }

    /// The status of `GET /api/{user_id}/tasks` with this access token.
    pub(crate) async fn tasks_status(&self, user_id: &str, jwt: &str) -> StatusCode {
        self.request(Method::GET, &format!("/api/{user_id}/tasks"))
            .bearer_auth(jwt)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// The stored password hash of an account.
    pub(crate) async fn stored_hash(&self, email: &str) -> String {
        self.store()
            .user_with_password_by_email(email)
            .await
            .unwrap()
            .expect("the user exists")
            .1
            .expect("a credential")
    }

    pub(crate) async fn session_json(&self, who: &Who) -> Value {
        let res = self.get_session(who).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("get-session JSON")
    }

    /// A fresh access token for this caller.
    pub(crate) async fn access_token(&self, who: &Who) -> String {
        let res = self.token(who).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("token JSON");
        body["token"].as_str().expect("token string").to_owned()
    }

    /// A cookie-store client that behaves like a browser on the base origin.
    pub(crate) fn browser(&self) -> Browser {
        Browser {
            client: client(true),
            address: self.address.clone(),
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /// Stops the server (graceful shutdown) and starts it again on the same database file
    /// with the same settings and clock.
    pub(crate) async fn restart(&mut self) {
        self.restart_with(|_| {})
            .await
            .expect("the server restarts");
    }

    /// Stops the server and starts it again with changed settings.
    pub(crate) async fn restart_with(
        &mut self,
        configure: impl FnOnce(&mut Settings),
    ) -> Result<(), StartError> {
        self.stop().await;
        let mut settings = self.settings.clone();
        configure(&mut settings);
        let mut next = start(
            settings,
            self.clock.clone(),
            self.db_path.clone(),
            self.pg.clone(),
            self._dir.clone(),
        )
        .await?;
        next.t0 = self.t0;
        *self = next;
        Ok(())
    }

    /// Stops the server and waits until it has finished.
    pub(crate) async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Idle keep-alive connections would hold a graceful shutdown open.
        self.api = client(false);
        if let Some(server) = self.server.take() {
            tokio::time::timeout(Duration::from_secs(10), server)
                .await
                .expect("the server stops within 10 s")
                .expect("the server task did not panic")
                .expect("the server ran without IO errors");
        }
    }

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

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Reads a successful sign-up or sign-in response into a [`TestUser`].
pub(crate) async fn session_of(res: Response, name: &str, password: &str) -> TestUser {
    let signed_token = header(&res, "set-auth-token").expect("set-auth-token");
    let cookie = set_cookies(&res)
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(|c| cookie_pair(c))
        .expect("a session cookie");
    let body: Value = res.json().await.expect("JSON body");
    TestUser {
        id: body["user"]["id"].as_str().expect("user id").to_owned(),
        name: name.to_owned(),
        email: body["user"]["email"].as_str().expect("email").to_owned(),
        password: password.to_owned(),
        token: body["token"].as_str().expect("token").to_owned(),
        signed_token,
        cookie,
    }
}

/// A cookie-store client on the app's address: it keeps whatever `Set-Cookie` it receives
/// and sends `Origin: <base origin>` on POSTs, like a browser on the app's own pages.
pub(crate) struct Browser {
    pub(crate) client: reqwest::Client,
    address: String,
}

impl Browser {
    async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/json")
            .header("origin", ORIGIN)
            .body(body.to_string())
            .send()
            .await
            .expect("browser POST")
    }

    async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("browser GET")
    }

    pub(crate) async fn sign_up(&self, body: &Value) -> Response {
        self.post("/api/auth/sign-up/email", body).await
    }
    pub(crate) async fn sign_in(&self, body: &Value) -> Response {
        self.post("/api/auth/sign-in/email", body).await
    }
    pub(crate) async fn sign_out(&self) -> Response {
        self.post("/api/auth/sign-out", &json!({})).await
    }
    pub(crate) async fn get_session(&self) -> Response {
        self.get("/api/auth/get-session").await
    }
    pub(crate) async fn token(&self) -> Response {
        self.get("/api/auth/token").await
    }
}

// -------------------------------------------------------------------- responses

/// One header as a string.
pub(crate) fn header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII header").to_owned())
}

/// Every value of a header, comma-separated lists split.
pub(crate) fn header_list(res: &Response, name: &str) -> Vec<String> {
    res.headers()
        .get_all(name)
        .iter()
        .flat_map(|v| v.to_str().expect("ASCII header").split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect()
}

/// Every `Set-Cookie` line.
pub(crate) fn set_cookies(res: &Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ASCII cookie").to_owned())
        .collect()
}

/// `name=value` of a `Set-Cookie` line.
pub(crate) fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

/// The session cookie lines of a response (`better-auth.session_token=…`, any prefix).
pub(crate) fn session_set_cookie(res: &Response) -> Option<String> {
    set_cookies(res)
        .into_iter()
        .find(|c| cookie_pair(c).contains("better-auth.session_token="))
}

/// Asserts `{message, code}` with this status and code; returns the message.
pub(crate) async fn assert_error(res: Response, status: StatusCode, code: &str) -> String {
    let got = res.status();
    let ct = header(&res, "content-type").unwrap_or_default();
    let text = res.text().await.expect("error body");
    assert_eq!(got, status, "status (body {text})");
    assert!(ct.starts_with("application/json"), "content type {ct:?}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let obj = body.as_object().expect("an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message"], "envelope of {text}");
    assert_eq!(body["code"], code, "code in {text}");
    let message = body["message"].as_str().expect("message string");
    assert!(!message.is_empty());
    message.to_owned()
}

/// Asserts the exact envelope.
pub(crate) async fn assert_error_exact(
    res: Response,
    status: StatusCode,
    code: &str,
    message: &str,
) {
    let got = assert_error(res, status, code).await;
    assert_eq!(got, message);
}

/// Sorted keys of a JSON object.
pub(crate) fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort_unstable();
    k
}

#[test]
fn iso_matches_the_reference_capture() {
    // the instant of the protocol reference's capture (§2.1)
    assert_eq!(iso(1_795_487_939_158), "2026-11-24T02:38:59.158Z");
    assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
}

/// Sorts a list of names, for comparisons with [`keys`].
pub(crate) fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    v.sort_unstable();
    v
}

/// 32 characters of `[A-Za-z0-9]`.
pub(crate) fn assert_id(s: &str) {
    assert_eq!(s.len(), 32, "{s:?} is 32 characters");
    assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()), "{s:?}");
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn assert_iso_millis(s: &str) {
    let b = s.as_bytes();
    let shape = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(shape, "{s:?} is ISO-8601 with milliseconds and Z");
}

/// Unix milliseconds as ISO-8601 with milliseconds and `Z` (written independently of the
/// server's formatter: days-from-civil inverted, after H. Hinnant).
pub(crate) fn iso(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
    let (min, rest) = (rest / 60_000, rest % 60_000);
    let (sec, milli) = (rest / 1000, rest % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{sec:02}.{milli:03}Z")
}

// -------------------------------------------------------------------- cookies and tokens

/// `base64(HMAC-SHA256(secret, value))`, standard alphabet, padded (better-call's signature).
pub(crate) fn cookie_signature(secret: &str, value: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    STANDARD.encode(hmac::sign(&key, value.as_bytes()).as_ref())
}

/// JavaScript's `encodeURIComponent` for the characters a signed cookie can hold.
pub(crate) fn encode_uri_component(s: &str) -> String {
    s.replace('%', "%25")
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// SHA-256 hex, the form the server stores session tokens in.
pub(crate) fn sha256_hex(s: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A compact JWS split into its parts.
#[derive(Debug)]
pub(crate) struct Jwt {
    pub(crate) header: Value,
    pub(crate) claims: Value,
    pub(crate) signing_input: String,
    pub(crate) signature: Vec<u8>,
}

/// Splits and decodes a compact JWS (no verification).
pub(crate) fn decode_jwt(token: &str) -> Jwt {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "three parts in {token}");
    let part = |s: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("JSON part")
    };
    Jwt {
        header: part(parts[0]),
        claims: part(parts[1]),
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature: URL_SAFE_NO_PAD
            .decode(parts[2])
            .expect("base64url signature"),
    }
}

fn b64url(v: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(v.as_str().expect("a base64url string"))
        .expect("base64url")
}

/// Verifies a JWS with the JWK its `kid` names in `jwks`, pinning the algorithm to the JWK's
/// `alg`. Returns false on any mismatch.
pub(crate) fn verifies_with_jwks(token: &str, jwks: &Value) -> bool {
    let jwt = decode_jwt(token);
    let Some(jwk) = jwks["keys"]
        .as_array()
        .expect("keys array")
        .iter()
        .find(|k| k["kid"] == jwt.header["kid"])
    else {
        return false;
    };
    if jwk["alg"] != jwt.header["alg"] {
        return false;
    }
    let msg = jwt.signing_input.as_bytes();
    let sig = &jwt.signature;
    match jwk["alg"].as_str() {
        Some("EdDSA") => {
            assert_eq!(jwk["kty"], "OKP");
            assert_eq!(jwk["crv"], "Ed25519");
            signature::UnparsedPublicKey::new(&signature::ED25519, b64url(&jwk["x"]))
                .verify(msg, sig)
                .is_ok()
        }
        Some("ES256") => {
            assert_eq!(jwk["kty"], "EC");
            assert_eq!(jwk["crv"], "P-256");
            let mut point = vec![0x04];
            point.extend(b64url(&jwk["x"]));
            point.extend(b64url(&jwk["y"]));
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(msg, sig)
                .is_ok()
        }
        Some("RS256") => {
            assert_eq!(jwk["kty"], "RSA");
            let (n, e) = (b64url(&jwk["n"]), b64url(&jwk["e"]));
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, sig)
                .is_ok()
        }
        _ => false,
    }
}

/// Verifies an HS256 JWS with a shared secret.
pub(crate) fn verifies_with_hs256(token: &str, secret: &[u8]) -> bool {
    let jwt = decode_jwt(token);
    jwt.header["alg"] == "HS256"
        && hmac::verify(
            &hmac::Key::new(hmac::HMAC_SHA256, secret),
            jwt.signing_input.as_bytes(),
            &jwt.signature,
        )
        .is_ok()
}

/// The JWKS document as JSON.
pub(crate) async fn jwks_json(app: &TestApp) -> Value {
    let res = app.jwks().await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("JWKS JSON")
}

/// `TESSERA_TEST_BACKEND=postgres` runs the whole suite against PostgreSQL (a fresh
/// database per test, at `TESSERA_TEST_POSTGRES_URL` or the local server).
pub(crate) fn on_postgres() -> bool {
    std::env::var("TESSERA_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// A fresh PostgreSQL database, dropped with the last app that uses it.
pub(crate) struct PgDatabase {
    pub(crate) url: String,
    name: String,
    admin: String,
}

impl PgDatabase {
    fn create() -> Self {
        use sqlx::Connection as _;
        static N: AtomicUsize = AtomicUsize::new(0);
        let admin = std::env::var("TESSERA_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "tessera_api_{}_{nanos}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let sql = format!("CREATE DATABASE {name}");
        let admin2 = admin.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let mut c = sqlx::PgConnection::connect(&admin2)
                    .await
                    .expect("PostgreSQL for TESSERA_TEST_BACKEND=postgres");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut c)
                    .await
                    .expect("create database");
            });
        })
        .join()
        .expect("create the test database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Self {
            url: format!("{base}/{name}"),
            name,
            admin,
        }
    }

    async fn pool(&self) -> sqlx::PgPool {
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
        let _ = std::thread::spawn(move || {
            use sqlx::Connection as _;
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
