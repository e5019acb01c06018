//! The `auth_bodies` harness: arbitrary bodies for the auth endpoints, sent to the real
//! application in-process. Used by the fuzz target; a tessera-server test can include it
//! (`#[path = ".../fuzz/harness/auth_bodies.rs"]`) to replay `fuzz/regressions/auth_bodies/`.
//!
//! Two apps are built once, each `tessera_server::build_app` over its own SQLite database in
//! a temporary directory, with the real Argon2id parameters and rate limits off, and driven
//! with `tower::ServiceExt::oneshot`: no socket, but every layer a request meets in
//! production (body limit, timeout, CORS, panic catching, origin checks, the extractors).
//! App 0 has the defaults (http base URL, EdDSA, sign-up reveals taken emails); app 1 an
//! https base URL (`__Secure-` cookies), HS256 and the generic sign-up answer.
//!
//! Input: the first byte picks the endpoint (low three bits: sign-up, sign-in,
//! change-password, refresh, sign-out), the `Content-Type` (next two bits: JSON, form,
//! none, `text/plain`), whether the fixture user's session cookie is sent (bit 5), whether
//! the app's trusted `Origin` is sent (bit 6) and the app (bit 7). The rest is the body, in
//! which `@RT@` and `@PW@` are replaced by the fixture user's refresh credential and
//! password, so the fuzzer can reach the paths behind a valid credential.
//!
//! What must hold: no answer is 5xx (a panic in a handler is caught and answered 500, so
//! this covers panics too), and no answer contains a password hash.

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use tessera_core::ManualClock;
use tessera_server::http::rate_limit::RateLimits;
use tessera_server::settings::SignUpResponse;
use tessera_server::{Application, JwtAlg, Settings, build_app};
use tower::ServiceExt as _;

const SECRET: &[u8] = b"fuzz-server-secret-0123456789abcdef-0123";
const JWT_SECRET: &[u8] = b"fuzz-jwt-secret-0123456789abcdef-0123456";
/// The fixture users' password.
const PASSWORD: &str = "fixture password 7f3c";

const ENDPOINTS: [&str; 5] = [
    "/api/auth/sign-up/email",
    "/api/auth/sign-in/email",
    "/api/auth/change-password",
    "/api/auth/refresh",
    "/api/auth/sign-out",
];
const CONTENT_TYPES: [Option<&str>; 4] = [
    Some("application/json"),
    Some("application/x-www-form-urlencoded"),
    None,
    Some("text/plain;charset=UTF-8"),
];

/// A signed-in user whose credentials the placeholders stand for.
struct Fixture {
    cookie: String,
    refresh_token: String,
}

/// One application and its fixture user.
struct App {
    base_url: &'static str,
    router: Router,
    fixture: Mutex<(Fixture, u32)>,
    // Kept alive: the bound (never served) listener and the database directory.
    _app: Application,
    _dir: tempfile::TempDir,
}

/// The two apps and the runtime that drives them, built once.
pub(crate) struct AuthBodiesHarness {
    runtime: tokio::runtime::Runtime,
    apps: [App; 2],
}

async fn send(
    router: &Router,
    path: &str,
    content_type: Option<&str>,
    extra: &[(header::HeaderName, String)],
    body: Vec<u8>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(Method::POST).uri(path);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    for (name, value) in extra {
        req = req.header(name, value);
    }
    let req = req.body(Body::from(body)).expect("a request");
    let res = router.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("a response body");
    (status, headers, body.to_vec())
}

impl App {
    async fn new(variant: u8) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut settings = Settings::new_dev(SECRET.to_vec());
        settings.http.bind = "127.0.0.1:0".parse().expect("an address");
        settings.database.database_url =
            format!("sqlite://{}", dir.path().join("fuzz.db").display()).into();
        // One client (no peer address) sends everything: with limits on, most inputs would
        // only ever meet the 429 of an exhausted bucket.
        settings.security.rate_limits = RateLimits::disabled();
        let base_url = if variant == 0 {
            "http://localhost:3999"
        } else {
            settings.tokens.jwt_alg = JwtAlg::HS256;
            settings.tokens.jwt_secret = Some(JWT_SECRET.to_vec().into());
            settings.security.sign_up_response = SignUpResponse::Generic;
            "https://auth.fuzz.test"
        };
        settings.http.base_url = base_url.into();
        let app = Application::build(settings, Arc::new(ManualClock::starting_now()))
            .await
            .expect("the application builds");
        let router = build_app(app.services());
        let fixture = make_fixture(&router, 0).await;
        Self {
            base_url,
            router,
            fixture: Mutex::new((fixture, 1)),
            _app: app,
            _dir: dir,
        }
    }
}

impl AuthBodiesHarness {
    /// Builds both apps and their fixture users (a few Argon2id hashes: about a second).
    pub(crate) fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let apps = runtime.block_on(async { [App::new(0).await, App::new(1).await] });
        Self { runtime, apps }
    }

    /// Runs one input.
    pub(crate) fn run(&self, data: &[u8]) {
        let Some((&selector, body)) = data.split_first() else {
            return;
        };
        let path = ENDPOINTS[usize::from(selector & 7) % ENDPOINTS.len()];
        let content_type = CONTENT_TYPES[usize::from((selector >> 3) & 3)];
        let send_cookie = selector & 0x20 != 0;
        let send_origin = selector & 0x40 != 0;
        let app = &self.apps[usize::from(selector >> 7)];

        let mut guard = app.fixture.lock().unwrap_or_else(PoisonError::into_inner);
        let (fixture, made) = &mut *guard;
        let uses_refresh_token = contains(body, b"@RT@");
        let body = replace(
            &replace(body, b"@RT@", fixture.refresh_token.as_bytes()),
            b"@PW@",
            PASSWORD.as_bytes(),
        );
        let mut extra = Vec::new();
        if send_cookie {
            extra.push((header::COOKIE, fixture.cookie.clone()));
        }
        if send_origin {
            extra.push((header::ORIGIN, app.base_url.to_owned()));
        }
        let (status, _, response) =
            self.runtime
                .block_on(send(&app.router, path, content_type, &extra, body));
        assert!(
            !status.is_server_error(),
            "{path} answered {status}: {}",
            String::from_utf8_lossy(&response)
        );
        assert!(
            !contains(&response, b"$argon2"),
            "{path} answered with a password hash"
        );

        // Credentials the fixture holds may now be gone (password changed, signed out):
        // start over with a new fixture user so later inputs behave the same.
        let ended = status.is_success()
            && (path.ends_with("change-password")
                || (path.ends_with("sign-out") && (send_cookie || uses_refresh_token)));
        if ended {
            *fixture = self.runtime.block_on(make_fixture(&app.router, *made));
            *made += 1;
        }
    }
}

/// Signs up `fixture<n>@fuzz.test`, then signs in twice: for a session cookie, and for a
/// refresh credential. (With the generic sign-up answer, signing up signs nobody in.)
async fn make_fixture(router: &Router, n: u32) -> Fixture {
    let email = format!("fixture{n}@fuzz.test");
    let json = Some("application/json");
    let sign_up = format!(r#"{{"name":"Fixture","email":"{email}","password":"{PASSWORD}"}}"#);
    let (status, _, _) = send(router, ENDPOINTS[0], json, &[], sign_up.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "the fixture user signs up");
    let sign_in = format!(r#"{{"email":"{email}","password":"{PASSWORD}"}}"#);
    let (status, headers, _) = send(router, ENDPOINTS[1], json, &[], sign_in.into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "the fixture user signs in");
    let cookie = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("better-auth.session_token="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let sign_in = format!(r#"{{"email":"{email}","password":"{PASSWORD}","refreshToken":true}}"#);
    let (status, _, body) = send(router, ENDPOINTS[1], json, &[], sign_in.into_bytes()).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the fixture user signs in for a refresh credential"
    );
    let body: serde_json::Value = serde_json::from_slice(&body).expect("a JSON answer");
    let refresh_token = body["refresh_token"]
        .as_str()
        .expect("a refresh credential")
        .to_owned();
    Fixture {
        cookie,
        refresh_token,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}
