//! Costs inside one Tessera process, without the network:
//!
//! * `session_lookup`: `Store::session_by_digest` on SQLite (what every get-session, /token
//!   and session-authenticated call does), with and without hashing the token first;
//! * `jwt_sign`: `KeyRing::sign` (EdDSA and HS256) and `keys::mint` (claims assembly + sign);
//! * `request`: whole requests through the production router (`build_app`, every layer) with
//!   `tower::ServiceExt::oneshot`: `/healthz`, get-session, `/token`, the tasks read with an
//!   EdDSA and an HS256 token. The difference between `request/*` and the parts above is
//!   routing, layers, JSON and the async plumbing.
//!
//! Run with `cargo bench -p tessera-server --bench server`. The servers are built by
//! `Application::build` exactly as `tessera serve` builds them (SQLite file in a temp dir,
//! rate limits off).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use tessera_core::id::new_id;
use tessera_core::{Clock, SessionToken, SystemClock, TokenDigest};
use tessera_server::http::rate_limit::RateLimits;
use tessera_server::keys::AccessClaims;
use tessera_server::{Application, JwtAlg, Settings, build_app};
use tessera_store::{NewSession, NewUser};
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

const SECRET: &[u8] = b"bench-server-secret-0123456789abcdef0123456789";
const JWT_SECRET: &[u8] = b"bench-jwt-secret-0123456789abcdef0123456789ab";
const PASSWORD: &str = "tessera-bench-7f3a9c-Lq";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// An application as `tessera serve` builds it, on a fresh SQLite file.
fn application(rt: &Runtime, dir: &tempfile::TempDir, alg: JwtAlg) -> Application {
    let mut s = Settings::new_dev(SECRET.to_vec());
    s.http.bind = SocketAddr::from(([127, 0, 0, 1], 0));
    s.http.base_url = "http://127.0.0.1:8080".into();
    s.database.database_url = format!(
        "sqlite://{}",
        dir.path().join(format!("{}.db", alg.as_str())).display()
    )
    .into();
    s.security.rate_limits = RateLimits::disabled();
    if alg == JwtAlg::HS256 {
        s.tokens.jwt_alg = JwtAlg::HS256;
        s.tokens.jwt_secret = Some(JWT_SECRET.to_vec().into());
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    rt.block_on(Application::build(s, clock)).unwrap()
}

fn request(method: &str, uri: &str, bearer: Option<&str>, body: Option<String>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = bearer {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        b = b.header("content-type", "application/json");
    }
    let mut req = b.body(body.map_or_else(Body::empty, Body::from)).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    req
}

async fn call(router: &Router, req: Request<Body>) -> (StatusCode, bytes::Bytes) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

async fn call_json(router: &Router, req: Request<Body>) -> serde_json::Value {
    let (status, body) = call(router, req).await;
    assert!(status.is_success(), "{status}: {body:?}");
    serde_json::from_slice(&body).unwrap()
}

/// A user with a session token, an access token and 20 tasks, made through the API.
struct Seeded {
    token: String,
    jwt: String,
    user_id: String,
}

fn seed(rt: &Runtime, router: &Router) -> Seeded {
    rt.block_on(async {
        let doc = call_json(
            router,
            request(
                "POST",
                "/api/auth/sign-up/email",
                None,
                Some(format!(
                    r#"{{"name":"Bench","email":"bench@bench.example.com","password":"{PASSWORD}"}}"#
                )),
            ),
        )
        .await;
        let token = doc["token"].as_str().unwrap().to_owned();
        let user_id = doc["user"]["id"].as_str().unwrap().to_owned();
        let jwt = call_json(router, request("GET", "/api/auth/token", Some(&token), None)).await
            ["token"]
            .as_str()
            .unwrap()
            .to_owned();
        for i in 0..20 {
            call_json(
                router,
                request(
                    "POST",
                    &format!("/api/{user_id}/tasks"),
                    Some(&jwt),
                    Some(format!(
                        r#"{{"title":"Task {i}","description":"Benchmark task number {i}"}}"#
                    )),
                ),
            )
            .await;
        }
        Seeded {
            token,
            jwt,
            user_id,
        }
    })
}

fn bench_session_lookup(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let app = application(&rt, &dir, JwtAlg::EdDSA);
    let store = app.services().store.clone();
    let now = SystemClock.now_ms();
    // 1,000 users with one session each; look up one in the middle.
    let mut tokens = Vec::new();
    rt.block_on(async {
        for i in 0..1000 {
            let user = store
                .create_user(
                    &NewUser {
                        id: new_id(),
                        name: format!("User {i}"),
                        email: format!("user{i}@bench.example.com"),
                        image: None,
                        now_ms: now,
                    },
                    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo",
                )
                .await
                .unwrap();
            let token = SessionToken::generate();
            store
                .create_session(&NewSession {
                    id: new_id(),
                    user_id: user.id.clone(),
                    token_digest: token.digest().as_str().to_owned(),
                    expires_at: now + 7 * 24 * 3600 * 1000,
                    now_ms: now,
                    ip_address: "127.0.0.1".into(),
                    user_agent: "bench".into(),
                    remember: true,
                    amr: "pwd".into(),
                    auth_time: now,
                })
                .await
                .unwrap();
            tokens.push(token.expose().to_owned());
        }
    });
    let token = tokens[500].clone();
    let digest = TokenDigest::of(&token).as_str().to_owned();
    let missing = TokenDigest::of("nosuchtokennosuchtokennosuchtokn")
        .as_str()
        .to_owned();
    let mut g = c.benchmark_group("session_lookup");
    g.bench_function("sqlite/by_digest", |b| {
        b.iter(|| {
            rt.block_on(store.session_by_digest(black_box(&digest)))
                .unwrap()
                .unwrap()
        });
    });
    g.bench_function("sqlite/digest+by_digest", |b| {
        b.iter(|| {
            let d = TokenDigest::of(black_box(&token));
            rt.block_on(store.session_by_digest(d.as_str()))
                .unwrap()
                .unwrap()
        });
    });
    g.bench_function("sqlite/miss", |b| {
        b.iter(|| {
            rt.block_on(store.session_by_digest(black_box(&missing)))
                .unwrap()
        });
    });
    g.finish();
}

fn bench_jwt_sign(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("jwt_sign");
    for alg in [JwtAlg::EdDSA, JwtAlg::HS256] {
        let app = application(&rt, &dir, alg);
        let router = build_app(app.services());
        let seeded = seed(&rt, &router);
        let state = app.state().unwrap().clone();
        let keys = state.keys();
        let claims = AccessClaims {
            iss: "http://127.0.0.1:8080",
            aud: "http://127.0.0.1:8080",
            sub: &seeded.user_id,
            iat: 1_795_487_939,
            exp: 1_795_488_839,
            jti: "NriNxwinzaU8HQq5wPsfxaIAbVtk6OAN",
            sid: "2rUJkMl8bSvAutnyFb0jTA8NHJJtMXYf",
            email: "bench@bench.example.com",
            name: "Bench",
            email_verified: false,
            amr: vec!["pwd"],
            auth_time: 1_795_487_939,
        };
        g.bench_function(format!("{}/KeyRing::sign", alg.as_str()), |b| {
            b.iter(|| keys.sign(black_box(&claims)));
        });
        let digest = TokenDigest::of(&seeded.token);
        let (session, user) = rt
            .block_on(state.store().session_by_digest(digest.as_str()))
            .unwrap()
            .unwrap();
        g.bench_function(format!("{}/keys::mint", alg.as_str()), |b| {
            b.iter(|| keys.mint(black_box(1_795_487_939_000), &user, &session));
        });
    }
    g.finish();
}

fn bench_requests(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("request");
    for alg in [JwtAlg::EdDSA, JwtAlg::HS256] {
        let app = application(&rt, &dir, alg);
        let router = build_app(app.services());
        let s = seed(&rt, &router);
        let tasks_uri = format!("/api/{}/tasks", s.user_id);
        let mut cases: Vec<(String, &str, Option<&str>)> = vec![(
            format!("tasks_read/{}", alg.as_str()),
            tasks_uri.as_str(),
            Some(s.jwt.as_str()),
        )];
        if alg == JwtAlg::EdDSA {
            cases.extend([
                ("healthz".to_owned(), "/healthz", None),
                (
                    "get_session".to_owned(),
                    "/api/auth/get-session",
                    Some(s.token.as_str()),
                ),
                (
                    "token/EdDSA".to_owned(),
                    "/api/auth/token",
                    Some(s.token.as_str()),
                ),
            ]);
        } else {
            cases.push((
                "token/HS256".to_owned(),
                "/api/auth/token",
                Some(s.token.as_str()),
            ));
        }
        for (name, uri, bearer) in cases {
            let (status, _) = rt.block_on(call(&router, request("GET", uri, bearer, None)));
            assert_eq!(status, StatusCode::OK, "{name}");
            g.bench_function(name, |b| {
                b.iter(|| rt.block_on(call(&router, request("GET", uri, bearer, None))));
            });
        }
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_session_lookup,
    bench_jwt_sign,
    bench_requests
);
criterion_main!(benches);
