//! Starting, restarting and stopping the server under test.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use tessera_core::{Clock as _, ManualClock};
use tessera_server::{Application, AuthState, Settings, StartError};
use tessera_store::Store;
use tessera_testkit::postgres::PgDatabase;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{BASE_URL, ORIGIN, SECRET, USER_AGENT, Who, on_postgres};

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
    pub(super) db_path: PathBuf,
    /// With `TESSERA_TEST_BACKEND=postgres`: the fresh database this app uses.
    pub(super) pg: Option<Arc<PgDatabase>>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    // Dropped last: the database file lives in here.
    _dir: Arc<tempfile::TempDir>,
}

pub(super) fn client(cookies: bool) -> reqwest::Client {
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
    let pg = if on_postgres() {
        Some(Arc::new(PgDatabase::create_required("tessera_api").await))
    } else {
        None
    };
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

    pub(crate) fn with(&self, rb: RequestBuilder, who: &Who, post: bool) -> RequestBuilder {
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

    pub(crate) fn post_json(&self, path: &str, body: &Value) -> RequestBuilder {
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
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
