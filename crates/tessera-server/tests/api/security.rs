//! The security checklist's group D (passwords, enumeration, brute force) and the audit
//! log: rate limits per client IP and per account, `X-Forwarded-For` believed only from
//! trusted proxies, common passwords refused, the generic sign-up mode, and logs that record
//! security events without ever containing a secret. `Captured` (log capture) is shared with
//! `attack_passwords`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use tessera_server::http::client_ip::Cidr;
use tessera_server::settings::SignUpResponse;

use crate::helpers::*;

async fn sign_in_from(app: &TestApp, email: &str, password: &str, xff: Option<&str>) -> Response {
    let mut rb = app
        .request(Method::POST, "/api/auth/sign-in/email")
        .header("content-type", "application/json")
        .body(json!({"email": email, "password": password}).to_string());
    if let Some(ip) = xff {
        rb = rb.header("x-forwarded-for", ip);
    }
    rb.send().await.unwrap()
}

async fn assert_429(res: Response) {
    assert!(header(&res, "retry-after").is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s >= 1)));
    assert_eq!(header(&res, "retry-after"), header(&res, "x-retry-after"));
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS").await;
}

fn behind_proxy(s: &mut tessera_server::Settings) {
    s.http.trusted_proxies = vec!["127.0.0.1".parse::<Cidr>().unwrap()];
}

#[tokio::test]
async fn guessing_one_accounts_password_from_one_client_is_stopped_after_five_failures() {
    let app = spawn_app().await;
    let victim = app.signed_up_user().await;
    for _ in 0..5 {
        let res = sign_in_from(&app, &victim.email, "wrong password", None).await;
        assert_error(res, StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD").await;
    }
    for _ in 0..25 {
        assert_429(sign_in_from(&app, &victim.email, "wrong password", None).await).await;
    }
    // even the right password waits: the guesser might have found it
    assert_429(sign_in_from(&app, &victim.email, PASSWORD, None).await).await;
    // one attempt comes back per minute
    app.clock.advance(Duration::from_secs(61));
    assert_eq!(
        sign_in_from(&app, &victim.email, PASSWORD, None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn successful_sign_ins_do_not_count_as_failures() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    for _ in 0..12 {
        assert_eq!(
            sign_in_from(&app, &user.email, PASSWORD, None)
                .await
                .status(),
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn credential_stuffing_from_one_client_is_limited_per_ip() {
    let app = spawn_app().await;
    for i in 0..30 {
        let res = sign_in_from(&app, &format!("stuffed{i}@x.test"), "password guess", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    assert_429(sign_in_from(&app, "stuffed99@x.test", "password guess", None).await).await;
}

#[tokio::test]
async fn spoofed_forwarded_for_headers_are_ignored_without_trusted_proxies() {
    let app = spawn_app().await;
    let victim = app.signed_up_user().await;
    for i in 0..5 {
        let ip = format!("198.51.100.{i}");
        let res = sign_in_from(&app, &victim.email, "wrong password", Some(&ip)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_429(sign_in_from(&app, &victim.email, "wrong password", Some("203.0.113.77")).await)
        .await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket_and_the_victim_gets_in() {
    let app = spawn_app_with(behind_proxy).await;
    let victim = app.signed_up_user().await;
    // the attacker, behind the proxy, exhausts its own bucket for this account
    for _ in 0..5 {
        sign_in_from(&app, &victim.email, "wrong password", Some("198.51.100.66")).await;
    }
    assert_429(sign_in_from(&app, &victim.email, "wrong password", Some("198.51.100.66")).await)
        .await;
    // forging the left part of the header does not give the attacker a new bucket
    let forged = sign_in_from(
        &app,
        &victim.email,
        "wrong password",
        Some("10.9.9.9, 198.51.100.66"),
    )
    .await;
    assert_429(forged).await;
    // the victim, another client behind the same proxy, signs in (D14: no trivial lock-out)
    let res = sign_in_from(&app, &victim.email, PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_distributed_attack_on_one_account_hits_the_per_account_ceiling_which_refills() {
    let app = spawn_app_with(behind_proxy).await;
    let victim = app.signed_up_user().await;
    for i in 0..100u32 {
        let ip = format!("198.51.{}.{}", i / 250, i % 250 + 1);
        let res = sign_in_from(&app, &victim.email, "wrong password", Some(&ip)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    assert_429(sign_in_from(&app, &victim.email, "wrong password", Some("203.0.113.1")).await)
        .await;
    assert_429(sign_in_from(&app, &victim.email, PASSWORD, Some("203.0.113.2")).await).await;
    // the documented bound: one attempt returns every 36 s once the attacker stops
    app.clock.advance(Duration::from_secs(37));
    assert_eq!(
        sign_in_from(&app, &victim.email, PASSWORD, Some("203.0.113.2"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn parallel_guesses_cannot_slip_past_the_limit() {
    let app = spawn_app().await;
    let victim = app.signed_up_user().await;
    let mut handles = Vec::new();
    for _ in 0..40 {
        let rb = app
            .request(Method::POST, "/api/auth/sign-in/email")
            .header("content-type", "application/json")
            .body(json!({"email": victim.email, "password": "wrong password"}).to_string());
        handles.push(tokio::spawn(
            async move { rb.send().await.unwrap().status() },
        ));
    }
    let mut checked = 0;
    for h in handles {
        if h.await.unwrap() == StatusCode::UNAUTHORIZED {
            checked += 1;
        }
    }
    assert_eq!(
        checked, 5,
        "only the allowed attempts reached password verification"
    );
}

#[tokio::test]
async fn sign_up_refresh_token_and_change_password_are_rate_limited_per_client() {
    let app = spawn_app().await;
    for _ in 0..20 {
        let res = app
            .sign_up(&json!({"name": "n", "email": unique_email(), "password": PASSWORD}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_429(
        app.sign_up(&json!({"name": "n", "email": unique_email(), "password": PASSWORD}))
            .await,
    )
    .await;

    let app = spawn_app().await;
    for _ in 0..60 {
        let res = app
            .request(Method::POST, "/api/auth/refresh")
            .json(&json!({"refresh_token": "tsr_bogus"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_429(
        app.request(Method::POST, "/api/auth/refresh")
            .json(&json!({"refresh_token": "tsr_bogus"}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    let user = app.signed_up_user().await;
    for _ in 0..120 {
        assert_eq!(app.token(&user.by_bearer()).await.status(), StatusCode::OK);
    }
    assert_429(app.token(&user.by_bearer()).await).await;

    for _ in 0..10 {
        let res = app
            .request(Method::POST, "/api/auth/change-password")
            .bearer_auth(&user.token)
            .json(
                &json!({"currentPassword": "wrong password", "newPassword": "another fine phrase"}),
            )
            .send()
            .await
            .unwrap();
        assert_error(res, StatusCode::BAD_REQUEST, "INVALID_PASSWORD").await;
    }
    let res = app
        .request(Method::POST, "/api/auth/change-password")
        .bearer_auth(&user.token)
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "another fine phrase"}))
        .send()
        .await
        .unwrap();
    assert_429(res).await;
}

#[tokio::test]
async fn limits_can_be_turned_off() {
    let app = spawn_app_with(|s| {
        s.security.rate_limits = tessera_server::http::rate_limit::RateLimits::disabled();
    })
    .await;
    let victim = app.signed_up_user().await;
    for _ in 0..40 {
        let res = sign_in_from(&app, &victim.email, "wrong password", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn common_passwords_are_refused_at_sign_up_and_password_change() {
    let app = spawn_app().await;
    for pw in [
        "password123456",
        "123456789012345",
        "qwertyuiopasdfgh",
        "iloveyou2024",
    ] {
        let res = app
            .sign_up(&json!({"name": "n", "email": unique_email(), "password": pw}))
            .await;
        assert_error(res, StatusCode::BAD_REQUEST, "PASSWORD_COMPROMISED").await;
    }
    assert_eq!(app.count("users").await, 0);
    // no composition rules: lower case and spaces are fine
    let ok = app.sign_up(&json!({"name": "n", "email": unique_email(), "password": "correct horse battery staple"})).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let user = session_of(ok, "n", "correct horse battery staple").await;
    let res = app
        .request(Method::POST, "/api/auth/change-password")
        .bearer_auth(&user.token)
        .json(&json!({"currentPassword": "correct horse battery staple", "newPassword": "password123456"}))
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::BAD_REQUEST, "PASSWORD_COMPROMISED").await;
}

#[tokio::test]
async fn generic_sign_up_answers_taken_and_new_emails_alike() {
    let app = spawn_app_with(|s| s.security.sign_up_response = SignUpResponse::Generic).await;
    let first = app
        .sign_up(&json!({"name": "A", "email": "taken@x.test", "password": PASSWORD}))
        .await;
    let again = app
        .sign_up(&json!({"name": "A", "email": "taken@x.test", "password": "a different phrase"}))
        .await;
    let fresh = app
        .sign_up(&json!({"name": "A", "email": "fresh@x.test", "password": PASSWORD}))
        .await;
    let mut shapes = Vec::new();
    for res in [first, again, fresh] {
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            set_cookies(&res).is_empty() && header(&res, "set-auth-token").is_none(),
            "nobody is signed in by sign-up"
        );
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token"], Value::Null);
        shapes.push((keys(&body), keys(&body["user"])));
    }
    assert!(
        shapes.windows(2).all(|w| w[0] == w[1]),
        "identical shapes: {shapes:?}"
    );
    assert_eq!(
        app.count("users").await,
        2,
        "no second account for the taken email"
    );
    // the owner signs in with the original password only
    assert_eq!(
        sign_in_from(&app, "taken@x.test", PASSWORD, None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        sign_in_from(&app, "taken@x.test", "a different phrase", None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Collects everything the server logs (all levels) during a test.
#[derive(Clone, Default)]
pub(crate) struct Captured(pub(crate) Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures this thread's logs (the whole server, on a current-thread runtime) until the
    /// guard is dropped.
    pub(crate) fn install(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Self::default();
        let sink = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_flow_logs_security_events_but_never_a_secret() {
    let (captured, _guard) = Captured::install(tracing::Level::TRACE);

    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_bearer()).await;
    app.request(Method::GET, &format!("/api/{}/tasks", user.id))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    let bad = sign_in_from(&app, &user.email, "hunter2-wrong-guess", None).await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let grant: Value = app
        .sign_in(&json!({"email": user.email, "password": PASSWORD, "refreshToken": true}))
        .await
        .json()
        .await
        .unwrap();
    let rt = grant["refresh_token"].as_str().unwrap().to_owned();
    let next: Value = app
        .request(Method::POST, "/api/auth/refresh")
        .json(&json!({"refresh_token": rt}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.request(Method::POST, "/api/auth/change-password")
        .bearer_auth(&user.token)
        .json(&json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"}))
        .send()
        .await
        .unwrap();
    for _ in 0..6 {
        sign_in_from(&app, &user.email, "hunter2-wrong-guess", None).await;
    }
    app.sign_out(&user.by_bearer()).await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for event in [
        "sign_up",
        "sign_in",
        "sign_in_failed",
        "password_changed",
        "sessions_revoked",
        "rate_limited",
        "sign_out",
    ] {
        assert!(
            logs.contains(&format!("event=\"{event}\"")),
            "no {event} event in:\n{logs}"
        );
    }
    assert!(logs.contains(&user.id), "events carry the user id");
    assert!(logs.contains("127.0.0.1"), "events carry the client IP");
    let secrets = [
        PASSWORD,
        "hunter2-wrong-guess",
        "a brand new passphrase",
        SECRET,
        &user.token,
        &user.signed_token,
        &jwt,
        &rt,
        next["refresh_token"].as_str().unwrap(),
        next["access_token"].as_str().unwrap(),
    ];
    for s in secrets {
        assert!(!logs.contains(s), "a secret reached the logs: {s}");
    }
}

#[tokio::test]
async fn unknown_emails_and_wrong_passwords_take_the_same_time() {
    let app = spawn_app_with(|s| {
        s.security.rate_limits = tessera_server::http::rate_limit::RateLimits::disabled();
    })
    .await;
    let user = app.signed_up_user().await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    // interleaved, so machine noise hits both alike
    for i in 0..31 {
        for (email, into) in [
            (user.email.clone(), &mut known),
            (format!("nobody{i}@x.test"), &mut unknown),
        ] {
            let started = std::time::Instant::now();
            let res = sign_in_from(&app, &email, "wrong password guess", None).await;
            into.push(started.elapsed().as_secs_f64());
            assert_error(res, StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD").await;
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (k, u) = (median(&mut known), median(&mut unknown));
    let ratio = k / u;
    assert!(
        (0.75..=1.33).contains(&ratio),
        "median wrong-password {k:.4}s vs unknown-email {u:.4}s"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn every_request_logs_one_line_with_its_route_template_and_a_request_id() {
    let (captured, _guard) = Captured::install(tracing::Level::INFO);
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_bearer()).await;
    let given = app
        .request(Method::GET, &format!("/api/{}/tasks", user.id))
        .bearer_auth(&jwt)
        .header("x-request-id", "trace-42.abc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&given, "x-request-id").as_deref(),
        Some("trace-42.abc"),
        "a sane id is kept"
    );
    let made = app.request(Method::GET, "/healthz").send().await.unwrap();
    let made_id = header(&made, "x-request-id").unwrap();
    assert_eq!(made_id.len(), 32, "one is generated");
    let hostile = app
        .request(Method::GET, "/healthz")
        .header("x-request-id", "x\" event=\"forged")
        .send()
        .await
        .unwrap();
    assert_ne!(
        header(&hostile, "x-request-id").as_deref(),
        Some("x\" event=\"forged")
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("event=\"request\""))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("route=\"/api/{user_id}/tasks\"")
                && l.contains("request_id=\"trace-42.abc\"")
                && l.contains("status=200")),
        "{logs}"
    );
    assert!(lines.iter().any(|l| l.contains(&made_id)));
    assert!(
        !logs.contains(&format!("/api/{}/tasks", user.id)),
        "raw paths (with user ids) are never logged"
    );
    assert!(!logs.contains("forged"));
}
