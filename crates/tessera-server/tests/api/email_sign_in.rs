//! Passwordless sign-in by mail (Better Auth's `magicLink` and `emailOTP` plugins) and the
//! emailed second factor (`two-factor/send-otp`, `verify-otp`), with a real SMTP server
//! beside the app: every flow reads the message as received and uses the link or code in
//! it. The attack rows of group L (docs/attack-suite.md) are here.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_store::UserId;
use tessera_testkit::smtp::SmtpServer;

use crate::helpers::*;

/// No rate limits: for flows that mail one address more than the per-address quota allows.
fn unlimited(s: &mut tessera_server::Settings) {
    s.security.rate_limits = tessera_server::http::rate_limit::RateLimits::disabled();
}

/// Waits for the `nth` (1-based) message to `to` whose subject starts with `subject`.
pub(crate) async fn mail_to(smtp: &SmtpServer, to: &str, subject: &str, nth: usize) -> Mail {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let matching: Vec<Mail> = smtp
            .received()
            .iter()
            .map(Mail::parse)
            .filter(|m| m.to == vec![to.to_owned()] && m.subject.starts_with(subject))
            .collect();
        if let Some(m) = matching.get(nth - 1) {
            return m.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no message {nth} to {to} starting {subject:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The 6-digit code a message carries.
pub(crate) fn code_in(mail: &Mail) -> String {
    mail.text
        .split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {:?}", mail.text))
        .to_owned()
}

/// Waits until the outbox has nothing pending (every message sent or dropped).
async fn outbox_settled(app: &TestApp) -> Vec<tessera_store::MailRow> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = app.store().list_mail(None, 100).await.unwrap();
        if rows.iter().all(|r| r.status != "pending") {
            return rows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox never settled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A signed-up user whose address is verified (by the link sign-up mailed).
async fn verified_user(app: &TestApp, smtp: &SmtpServer) -> TestUser {
    let user = app.signed_up_user().await;
    let mail = mail_to(smtp, &user.email, "Verify your email", 1).await;
    assert_eq!(
        app.follow(&mail.link_path()).await.status(),
        StatusCode::FOUND
    );
    user
}

/// A form POST as the confirmation page's button sends it.
async fn press_button(browser: &Browser, form: &[(&str, &str)]) -> reqwest::Response {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    browser
        .client
        .post(format!("{}/api/auth/magic-link/verify", browser.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", ORIGIN)
        .body(body)
        .send()
        .await
        .expect("POST the confirmation form")
}

async fn ask_link(app: &TestApp, body: &Value) -> reqwest::Response {
    app.browser()
        .post_json("/api/auth/sign-in/magic-link", body)
        .await
}

async fn ask_code(app: &TestApp, email: &str, kind: &str) -> reqwest::Response {
    app.browser()
        .post_json(
            "/api/auth/email-otp/send-verification-otp",
            &json!({ "email": email, "type": kind }),
        )
        .await
}

async fn status_and_body(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn amr(browser: &Browser) -> Value {
    let res = browser.token().await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    decode_jwt(body["token"].as_str().unwrap()).claims["amr"].clone()
}

// ------------------------------------------------------------------ magic links

#[tokio::test]
async fn a_magic_link_shows_a_page_on_get_and_signs_in_once_on_post() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    let doc: Value = app.follow("/api/openapi.json").await.json().await.unwrap();
    for path in [
        "/api/auth/sign-in/magic-link",
        "/api/auth/magic-link/verify",
        "/api/auth/sign-in/email-otp",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} is documented while served"
        );
    }
    let res = ask_link(
        &app,
        &json!({ "email": user.email, "callbackURL": "/tasks" }),
    )
    .await;
    assert_eq!(
        status_and_body(res).await,
        (StatusCode::OK, json!({ "status": true }))
    );
    let mail = mail_to(&smtp, &user.email, "Sign in to Tessera", 1).await;
    let link = mail.link();
    assert!(
        link.starts_with("http://localhost:3999/api/auth/magic-link/verify?token="),
        "{link}"
    );
    assert!(link.ends_with("&callbackURL=%2Ftasks"), "{link}");
    assert!(mail.token().len() >= 43, "256 bits, base64url");

    // L1: the GET (a mail scanner, a preview) shows a page and uses nothing up
    for _ in 0..2 {
        let page = app.follow(&mail.link_path()).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(set_cookies(&page).is_empty(), "a GET signs nobody in");
        assert_eq!(header(&page, "cache-control").as_deref(), Some("no-store"));
        assert_eq!(
            header(&page, "referrer-policy").as_deref(),
            Some("no-referrer")
        );
        let html = page.text().await.unwrap();
        assert!(html.contains(&user.email), "{html}");
        assert!(html.contains("method=\"post\""), "{html}");
        assert!(!html.contains("<script"), "{html}");
    }

    let browser = app.browser();
    let token = mail.token();
    let res = press_button(&browser, &[("token", &token), ("callbackURL", "/tasks")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&res, "location").as_deref(), Some("/tasks"));
    let session: Value = browser.get_session().await.json().await.unwrap();
    assert_eq!(session["user"]["email"], json!(user.email));
    assert_eq!(amr(&browser).await, json!(["email"]));
    assert!(
        !app.db_snapshot().await.contains(&token),
        "L13: the token is not at rest"
    );

    // L2: the same link again is refused, on the page and at the button
    let again = press_button(
        &app.browser(),
        &[("token", &token), ("callbackURL", "/tasks")],
    )
    .await;
    assert_eq!(
        header(&again, "location").as_deref(),
        Some("/tasks?error=INVALID_TOKEN")
    );
    let page = app.follow(&mail.link_path()).await;
    assert_eq!(page.status(), StatusCode::FOUND);
    assert_eq!(
        header(&page, "location").as_deref(),
        Some("/tasks?error=INVALID_TOKEN")
    );
}

#[tokio::test]
async fn without_a_callback_the_button_post_answers_better_auths_json() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    ask_link(&app, &json!({ "email": user.email })).await;
    let mail = mail_to(&smtp, &user.email, "Sign in to", 1).await;
    let browser = app.browser();
    let res = browser
        .post_json(
            "/api/auth/magic-link/verify",
            &json!({ "token": mail.token() }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "set-auth-token").is_some());
    let body: Value = res.json().await.unwrap();
    assert!(body["token"].is_string(), "{body}");
    assert_eq!(body["user"]["email"], json!(user.email));
    let again = browser
        .post_json(
            "/api/auth/magic-link/verify",
            &json!({ "token": mail.token() }),
        )
        .await;
    let (status, body) = status_and_body(again).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_TOKEN"))
    );
}

#[tokio::test]
async fn an_expired_magic_link_is_refused() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    ask_link(&app, &json!({ "email": user.email })).await;
    let mail = mail_to(&smtp, &user.email, "Sign in to", 1).await;
    assert!(mail.text.contains("10 minutes"), "{}", mail.text);
    app.clock.advance(Duration::from_secs(10 * 60 + 1));
    let page = app.follow(&mail.link_path()).await;
    assert_eq!(
        header(&page, "location").as_deref(),
        Some("/?error=INVALID_TOKEN")
    );
    let res = app
        .browser()
        .post_json(
            "/api/auth/magic-link/verify",
            &json!({ "token": mail.token() }),
        )
        .await;
    let (status, body) = status_and_body(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("TOKEN_EXPIRED"))
    );
}

#[tokio::test]
async fn known_and_unknown_addresses_get_the_same_answer_and_only_sign_in_mail_goes_to_unknown_ones()
 {
    let (app, smtp) = spawn_app_with_mail(unlimited).await;
    let user = verified_user(&app, &smtp).await;
    let unknown = unique_email();
    let disabled = verified_user(&app, &smtp).await;
    app.exec(&format!(
        "UPDATE users SET disabled_at = 1 WHERE email = '{}'",
        disabled.email
    ))
    .await;
    for path in ["link", "code", "email-verification", "forget-password"] {
        let mut answers = Vec::new();
        for email in [&user.email, &unknown, &disabled.email] {
            let res = if path == "link" {
                ask_link(&app, &json!({ "email": email })).await
            } else if path == "code" {
                ask_code(&app, email, "sign-in").await
            } else {
                ask_code(&app, email, path).await
            };
            let status = res.status();
            let bytes = res.bytes().await.unwrap();
            answers.push((status, bytes));
        }
        assert_eq!(answers[0], answers[1], "{path}");
        assert_eq!(answers[0], answers[2], "{path}");
    }
    let rows = outbox_settled(&app).await;
    // an address without an account is sent what signs up (a link, a sign-in code) and
    // nothing else; a disabled account is sent nothing
    let status_of = |to: &str, kind: &str| {
        rows.iter()
            .filter(|r| r.recipient == to && r.kind == kind)
            .map(|r| r.status.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(status_of(&unknown, "magic-link"), ["sent"]);
    assert_eq!(status_of(&unknown, "sign-in-code"), ["sent"]);
    assert_eq!(status_of(&unknown, "verify-email-code"), ["dropped"]);
    assert_eq!(status_of(&unknown, "reset-password-code"), ["dropped"]);
    for kind in ["magic-link", "sign-in-code", "reset-password-code"] {
        assert_eq!(status_of(&disabled.email, kind), ["dropped"], "{kind}");
    }
    // a wrong code for an address without an account reads like any wrong code
    let code = code_in(&mail_to(&smtp, &unknown, "Your Tessera sign-in code", 1).await);
    let wrong = if code == "123456" { "654321" } else { "123456" };
    let res = app
        .browser()
        .post_json(
            "/api/auth/sign-in/email-otp",
            &json!({ "email": unknown, "otp": wrong }),
        )
        .await;
    let (status, body) = status_and_body(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_OTP"))
    );
}

/// Whether the account at `email` has a password (`None`: no account).
async fn has_password(app: &TestApp, email: &str) -> Option<bool> {
    app.store()
        .user_with_password_by_email(email)
        .await
        .unwrap()
        .map(|(_, hash)| hash.is_some())
}

#[tokio::test]
async fn a_magic_link_signs_up_an_address_without_an_account() {
    let (app, smtp) = spawn_app_with_mail(unlimited).await;
    let email = unique_email();
    let res = ask_link(
        &app,
        &json!({
            "email": email,
            "name": "Ada Lovelace",
            "callbackURL": "/tasks",
            "newUserCallbackURL": "/account?welcome=1",
        }),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mail = mail_to(&smtp, &email, "Sign in to Tessera", 1).await;
    assert!(mail.text.contains("Hello Ada Lovelace,"), "{}", mail.text);
    let link = mail.link();
    assert!(
        link.ends_with("&callbackURL=%2Ftasks&newUserCallbackURL=%2Faccount%3Fwelcome%3D1"),
        "{link}"
    );
    assert_eq!(has_password(&app, &email).await, None, "nothing made yet");

    // the page (a scanner may fetch it) creates nothing either
    let page = app.follow(&mail.link_path()).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Create your Tessera account"), "{html}");
    assert!(
        html.contains("name=\"newUserCallbackURL\" value=\"/account?welcome=1\""),
        "{html}"
    );
    assert_eq!(has_password(&app, &email).await, None);

    let browser = app.browser();
    let res = press_button(
        &browser,
        &[
            ("token", &mail.token()),
            ("callbackURL", "/tasks"),
            ("newUserCallbackURL", "/account?welcome=1"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        header(&res, "location").as_deref(),
        Some("/account?welcome=1"),
        "a new account lands on newUserCallbackURL"
    );
    let session: Value = browser.get_session().await.json().await.unwrap();
    assert_eq!(session["user"]["email"], json!(email));
    assert_eq!(session["user"]["name"], json!("Ada Lovelace"));
    assert_eq!(session["user"]["emailVerified"], json!(true));
    assert_eq!(amr(&browser).await, json!(["email"]));
    assert_eq!(
        has_password(&app, &email).await,
        Some(false),
        "no password, ever"
    );
    let id = session["user"]["id"].clone();

    // the next link signs the same account in, and lands on callbackURL
    ask_link(
        &app,
        &json!({ "email": email, "name": "Someone Else", "callbackURL": "/tasks", "newUserCallbackURL": "/account?welcome=1" }),
    )
    .await;
    let mail = mail_to(&smtp, &email, "Sign in to Tessera", 2).await;
    assert!(mail.text.contains("Hello Ada Lovelace,"), "{}", mail.text);
    let page = app.follow(&mail.link_path()).await.text().await.unwrap();
    assert!(page.contains("Sign in to Tessera"), "{page}");
    let again = app.browser();
    let res = press_button(
        &again,
        &[
            ("token", &mail.token()),
            ("callbackURL", "/tasks"),
            ("newUserCallbackURL", "/account?welcome=1"),
        ],
    )
    .await;
    assert_eq!(header(&res, "location").as_deref(), Some("/tasks"));
    let session: Value = again.get_session().await.json().await.unwrap();
    assert_eq!(session["user"]["id"], id);
    assert_eq!(session["user"]["name"], json!("Ada Lovelace"));
    assert_eq!(
        app.count_where("users", &format!("email = '{email}'"))
            .await,
        1
    );
}

#[tokio::test]
async fn an_email_code_signs_up_an_address_without_an_account_and_keeps_its_try_cap() {
    let (app, smtp) = spawn_app_with_mail(unlimited).await;
    let email = unique_email();
    ask_code(&app, &email, "sign-in").await;
    let code = code_in(&mail_to(&smtp, &email, "Your Tessera sign-in code", 1).await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // L4 holds for sign-up codes too: 3 tries, then even the right code is refused
    for _ in 0..3 {
        let res = app
            .browser()
            .post_json(
                "/api/auth/sign-in/email-otp",
                &json!({ "email": email, "otp": wrong, "name": "Grace" }),
            )
            .await;
        assert_eq!(status_and_body(res).await.1["code"], "INVALID_OTP");
    }
    let res = app
        .browser()
        .post_json(
            "/api/auth/sign-in/email-otp",
            &json!({ "email": email, "otp": code, "name": "Grace" }),
        )
        .await;
    assert_eq!(status_and_body(res).await.1["code"], "TOO_MANY_ATTEMPTS");
    assert_eq!(has_password(&app, &email).await, None, "nothing made");

    ask_code(&app, &email, "sign-in").await;
    let code = code_in(&mail_to(&smtp, &email, "Your Tessera sign-in code", 2).await);
    let browser = app.browser();
    let res = browser
        .post_json(
            "/api/auth/sign-in/email-otp",
            &json!({ "email": email.to_uppercase(), "otp": code, "name": "Grace Hopper" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body["token"].is_string(), "{body}");
    assert_eq!(body["user"]["email"], json!(email));
    assert_eq!(body["user"]["name"], json!("Grace Hopper"));
    assert_eq!(body["user"]["emailVerified"], json!(true));
    assert_eq!(amr(&browser).await, json!(["otp", "email"]));
    assert_eq!(has_password(&app, &email).await, Some(false));
    // used up
    let res = app
        .browser()
        .post_json(
            "/api/auth/sign-in/email-otp",
            &json!({ "email": email, "otp": code }),
        )
        .await;
    assert_eq!(status_and_body(res).await.1["code"], "INVALID_OTP");
    // a name that sign-up would refuse is refused here too, before the code is tried
    let res = app
        .browser()
        .post_json(
            "/api/auth/sign-in/email-otp",
            &json!({ "email": unique_email(), "otp": "123456", "name": "a\u{0}b" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_sign_up_link_or_code_used_after_someone_registered_the_address_strips_them() {
    // The victim asks for a sign-up link and code; before they use them, an attacker
    // registers the address with a password. Using either proves the address: the victim
    // gets the account, and the attacker's password and session are gone.
    let (app, smtp) = spawn_app_with_mail(unlimited).await;
    for way in ["link", "code"] {
        let email = unique_email();
        if way == "link" {
            ask_link(&app, &json!({ "email": email, "name": "Victim" })).await;
        } else {
            ask_code(&app, &email, "sign-in").await;
        }
        let mail = mail_to(
            &smtp,
            &email,
            if way == "link" {
                "Sign in to"
            } else {
                "Your Tessera sign-in code"
            },
            1,
        )
        .await;
        let squatter = app.signed_up_user_with(&email, PASSWORD).await;
        let victim = app.browser();
        let res = if way == "link" {
            victim
                .post_json(
                    "/api/auth/magic-link/verify",
                    &json!({ "token": mail.token() }),
                )
                .await
        } else {
            victim
                .post_json(
                    "/api/auth/sign-in/email-otp",
                    &json!({ "email": email, "otp": code_in(&mail) }),
                )
                .await
        };
        assert_eq!(res.status(), StatusCode::OK, "{way}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["user"]["emailVerified"], true, "{way}");
        assert_eq!(
            app.get_session(&squatter.by_cookie())
                .await
                .text()
                .await
                .unwrap(),
            "null",
            "{way}: the squatter's session ended"
        );
        assert_eq!(
            app.sign_in_status(&email, PASSWORD).await,
            StatusCode::UNAUTHORIZED,
            "{way}: the squatter's password is gone"
        );
        assert_eq!(
            app.count_where("users", &format!("email = '{email}'"))
                .await,
            1
        );
    }
}

#[tokio::test]
async fn a_sign_up_link_and_code_used_at_once_make_one_account() {
    let (app, smtp) = spawn_app_with_mail(unlimited).await;
    let email = unique_email();
    ask_link(&app, &json!({ "email": email })).await;
    ask_code(&app, &email, "sign-in").await;
    let token = mail_to(&smtp, &email, "Sign in to", 1).await.token();
    let code = code_in(&mail_to(&smtp, &email, "Your Tessera sign-in code", 1).await);
    let (a, b) = (app.browser(), app.browser());
    let (link_body, code_body) = (
        json!({ "token": token }),
        json!({ "email": email, "otp": code }),
    );
    let (by_link, by_code) = tokio::join!(
        a.post_json("/api/auth/magic-link/verify", &link_body),
        b.post_json("/api/auth/sign-in/email-otp", &code_body),
    );
    assert_eq!(by_link.status(), StatusCode::OK);
    assert_eq!(by_code.status(), StatusCode::OK);
    let by_link: Value = by_link.json().await.unwrap();
    let by_code: Value = by_code.json().await.unwrap();
    assert_eq!(by_link["user"]["id"], by_code["user"]["id"]);
    assert_eq!(
        app.count_where("users", &format!("email = '{email}'"))
            .await,
        1
    );
}

#[tokio::test]
async fn links_and_codes_share_the_per_address_mail_quota_for_known_and_unknown_addresses() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await; // one message: the verification link
    for email in [user.email.clone(), unique_email()] {
        let before = if email == user.email { 1 } else { 0 };
        for n in before..3 {
            let res = if n % 2 == 0 {
                ask_link(&app, &json!({ "email": email })).await
            } else {
                ask_code(&app, &email, "sign-in").await
            };
            assert_eq!(res.status(), StatusCode::OK, "{email} #{n}");
        }
        let res = ask_link(&app, &json!({ "email": email })).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(header(&res, "retry-after").is_some());
        let res = ask_code(&app, &email, "sign-in").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
    }
}

#[tokio::test]
async fn callback_urls_off_the_trusted_origins_are_refused_everywhere() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    for field in ["callbackURL", "errorCallbackURL", "newUserCallbackURL"] {
        for evil in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
        ] {
            let res = ask_link(&app, &json!({ "email": user.email, field: evil })).await;
            let (status, body) = status_and_body(res).await;
            assert_eq!(
                body["code"], "INVALID_CALLBACK_URL",
                "{field} {evil}: {status}"
            );
        }
    }
    ask_link(&app, &json!({ "email": user.email })).await;
    let mail = mail_to(&smtp, &user.email, "Sign in to", 1).await;
    let token = mail.token();
    let page = app
        .follow(&format!(
            "/api/auth/magic-link/verify?token={token}&callbackURL=https%3A%2F%2Fevil.example%2F"
        ))
        .await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let res = press_button(
        &app.browser(),
        &[("token", &token), ("callbackURL", "https://evil.example/")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(header(&res, "location").is_none());
    // refused before the token was touched: it still signs in
    let res = press_button(&app.browser(), &[("token", &token), ("callbackURL", "/")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&res, "location").as_deref(), Some("/"));
}

#[tokio::test]
async fn tokens_made_for_other_purposes_are_not_magic_links_and_the_reverse() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    app.request_password_reset(&json!({ "email": user.email }))
        .await;
    let reset = mail_to(&smtp, &user.email, "Reset your", 1).await;
    let res = app
        .browser()
        .post_json(
            "/api/auth/magic-link/verify",
            &json!({ "token": reset.token() }),
        )
        .await;
    assert_eq!(status_and_body(res).await.1["code"], "INVALID_TOKEN");
    let page = app
        .follow(&format!(
            "/api/auth/magic-link/verify?token={}",
            reset.token()
        ))
        .await;
    assert_eq!(
        page.status(),
        StatusCode::FOUND,
        "no page for a reset token"
    );

    ask_link(&app, &json!({ "email": user.email })).await;
    let link = mail_to(&smtp, &user.email, "Sign in to", 1).await;
    let res = app
        .reset_password(&json!({ "token": link.token(), "newPassword": "another horse battery" }))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "a magic link resets nothing"
    );
    let res = app
        .follow(&format!("/api/auth/verify-email?token={}", link.token()))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "nor verifies anything"
    );
    // each still works where it belongs
    let res = app
        .browser()
        .post_json(
            "/api/auth/magic-link/verify",
            &json!({ "token": link.token() }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .reset_password(&json!({ "token": reset.token(), "newPassword": "another horse battery" }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

// ------------------------------------------------------------------ email codes

#[tokio::test]
async fn an_emailed_code_signs_in_once() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    let (status, body) = status_and_body(ask_code(&app, &user.email, "sign-in").await).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "success": true })));
    let mail = mail_to(&smtp, &user.email, "Your Tessera sign-in code", 1).await;
    let code = code_in(&mail);
    assert!(mail.subject.ends_with(&code));
    let browser = app.browser();
    let res = browser
        .post_json(
            "/api/auth/sign-in/email-otp",
            &json!({ "email": user.email.to_uppercase(), "otp": code }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(body["token"].is_string(), "{body}");
    assert_eq!(body["user"]["email"], json!(user.email));
    assert_eq!(amr(&browser).await, json!(["otp", "email"]));
    // L13: only keyed digests are stored
    assert_eq!(
        app.count_where(
            "email_tokens",
            &format!("token_digest = '{code}' OR code_digest = '{code}'")
        )
        .await,
        0
    );
    assert_eq!(
        app.count_where(
            "email_tokens",
            "purpose = 'sign-in-code' AND length(code_digest) = 64"
        )
        .await,
        1
    );

    let res = app
        .browser()
        .post_json(
            "/api/auth/sign-in/email-otp",
            &json!({ "email": user.email, "otp": code }),
        )
        .await;
    assert_eq!(
        status_and_body(res).await.1["code"],
        "INVALID_OTP",
        "used up"
    );
}

#[tokio::test]
async fn a_code_dies_after_three_wrong_tries_and_a_new_code_voids_the_old_one() {
    let (app, smtp) = spawn_app_with_mail(unlimited).await;
    let user = verified_user(&app, &smtp).await;
    ask_code(&app, &user.email, "sign-in").await;
    let code = code_in(&mail_to(&smtp, &user.email, "Your Tessera sign-in", 1).await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let try_code = |otp: String| {
        let browser = app.browser();
        let email = user.email.clone();
        async move {
            status_and_body(
                browser
                    .post_json(
                        "/api/auth/sign-in/email-otp",
                        &json!({ "email": email, "otp": otp }),
                    )
                    .await,
            )
            .await
        }
    };
    for _ in 0..3 {
        let (status, body) = try_code(wrong.to_owned()).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_OTP"))
        );
    }
    let (status, body) = try_code(code.clone()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("TOO_MANY_ATTEMPTS")),
        "L4: the right code after the cap is refused"
    );

    ask_code(&app, &user.email, "sign-in").await;
    let second = code_in(&mail_to(&smtp, &user.email, "Your Tessera sign-in", 2).await);
    ask_code(&app, &user.email, "sign-in").await;
    let third = code_in(&mail_to(&smtp, &user.email, "Your Tessera sign-in", 3).await);
    if second != third {
        let (_, body) = try_code(second).await;
        assert_eq!(body["code"], "INVALID_OTP", "the older code is void");
    }
    let (status, _) = try_code(third).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    ask_code(&app, &user.email, "sign-in").await;
    let code = code_in(&mail_to(&smtp, &user.email, "Your Tessera sign-in", 1).await);
    app.clock.advance(Duration::from_secs(10 * 60 + 1));
    let res = app
        .browser()
        .post_json(
            "/api/auth/sign-in/email-otp",
            &json!({ "email": user.email, "otp": code }),
        )
        .await;
    let (status, body) = status_and_body(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("OTP_EXPIRED"))
    );
}

#[tokio::test]
async fn concurrent_uses_of_one_code_or_link_sign_in_once() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    ask_code(&app, &user.email, "sign-in").await;
    let code = code_in(&mail_to(&smtp, &user.email, "Your Tessera sign-in", 1).await);
    ask_link(&app, &json!({ "email": user.email })).await;
    let token = mail_to(&smtp, &user.email, "Sign in to", 1).await.token();
    let mut codes = tokio::task::JoinSet::new();
    let mut links = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (b, email, code) = (app.browser(), user.email.clone(), code.clone());
        codes.spawn(async move {
            b.post_json(
                "/api/auth/sign-in/email-otp",
                &json!({ "email": email, "otp": code }),
            )
            .await
            .status()
        });
        let (b, token) = (app.browser(), token.clone());
        links.spawn(async move {
            b.post_json("/api/auth/magic-link/verify", &json!({ "token": token }))
                .await
                .status()
        });
    }
    let codes = codes.join_all().await;
    let links = links.join_all().await;
    for (what, answers) in [("code", codes), ("link", links)] {
        let ok = answers.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(
            ok, 1,
            "{what}: exactly one of the concurrent uses signs in: {answers:?}"
        );
        assert!(
            answers
                .iter()
                .all(|s| s.is_client_error() || *s == StatusCode::OK)
        );
    }
}

#[tokio::test]
async fn a_code_verifies_the_address_and_signs_nobody_in() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = app.signed_up_user().await;
    ask_code(&app, &user.email, "email-verification").await;
    let mail = mail_to(&smtp, &user.email, "Your Tessera verification code", 1).await;
    let res = app
        .browser()
        .post_json(
            "/api/auth/email-otp/verify-email",
            &json!({ "email": user.email, "otp": code_in(&mail) }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], true);
    assert_eq!(body["token"], Value::Null);
    assert_eq!(body["user"]["emailVerified"], true);
    assert_eq!(
        app.session_json(&user.by_cookie()).await["user"]["emailVerified"],
        true
    );
    // a verified address is sent no more verification codes
    ask_code(&app, &user.email, "email-verification").await;
    let rows = outbox_settled(&app).await;
    assert_eq!(
        rows.iter()
            .filter(|r| r.kind == "verify-email-code" && r.status == "dropped")
            .count(),
        1
    );
}

#[tokio::test]
async fn the_first_proof_of_an_unverified_address_removes_what_was_attached_before() {
    // An attacker registers the victim's address (unverified) with their own password,
    // then the victim signs in with a link: the attacker's password and session are gone.
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let squatter = app.signed_up_user().await;
    let victim = app.browser();
    ask_link(&app, &json!({ "email": squatter.email })).await;
    let mail = mail_to(&smtp, &squatter.email, "Sign in to", 1).await;
    let res = victim
        .post_json(
            "/api/auth/magic-link/verify",
            &json!({ "token": mail.token() }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["emailVerified"], true);
    assert_eq!(
        app.get_session(&squatter.by_cookie())
            .await
            .text()
            .await
            .unwrap(),
        "null",
        "the earlier session ended"
    );
    assert_eq!(
        app.sign_in_status(&squatter.email, &squatter.password)
            .await,
        StatusCode::UNAUTHORIZED,
        "the earlier password is gone"
    );
    let session: Value = victim.get_session().await.json().await.unwrap();
    assert_eq!(session["user"]["email"], json!(squatter.email));
}

#[tokio::test]
async fn a_reset_code_can_be_checked_then_sets_the_password_once_and_ends_every_session() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    let anon = app.browser();
    let known = anon
        .post_json(
            "/api/auth/email-otp/request-password-reset",
            &json!({ "email": user.email }),
        )
        .await;
    let known = (known.status(), known.bytes().await.unwrap());
    let unknown = anon
        .post_json(
            "/api/auth/forget-password/email-otp",
            &json!({ "email": unique_email() }),
        )
        .await;
    assert_eq!(known, (unknown.status(), unknown.bytes().await.unwrap()));
    assert_eq!(known.0, StatusCode::OK);
    let code = code_in(&mail_to(&smtp, &user.email, "Your Tessera password reset code", 1).await);
    let post = |path: &'static str, body: Value| {
        let b = app.browser();
        async move { status_and_body(b.post_json(path, &body).await).await }
    };
    let check = post(
        "/api/auth/email-otp/check-verification-otp",
        json!({ "email": user.email, "type": "forget-password", "otp": code }),
    )
    .await;
    assert_eq!(
        check,
        (StatusCode::OK, json!({ "success": true })),
        "checked, still usable"
    );
    let (_, body) = post(
        "/api/auth/email-otp/reset-password",
        json!({ "email": user.email, "otp": code, "password": "short" }),
    )
    .await;
    assert_eq!(
        body["code"], "PASSWORD_TOO_SHORT",
        "no try spent on a refused password"
    );
    let (_, body) = post(
        "/api/auth/email-otp/reset-password",
        json!({ "email": user.email, "otp": "a sign-in code is not a reset code", "password": "brand new horse battery" }),
    )
    .await;
    assert_eq!(body["code"], "INVALID_OTP");
    let done = post(
        "/api/auth/email-otp/reset-password",
        json!({ "email": user.email, "otp": code, "password": "brand new horse battery" }),
    )
    .await;
    assert_eq!(done, (StatusCode::OK, json!({ "success": true })));
    assert_eq!(
        app.get_session(&user.by_cookie())
            .await
            .text()
            .await
            .unwrap(),
        "null",
        "every session ended"
    );
    assert_eq!(
        app.sign_in_status(&user.email, &user.password).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in_status(&user.email, "brand new horse battery")
            .await,
        StatusCode::OK
    );
    let (_, body) = post(
        "/api/auth/email-otp/reset-password",
        json!({ "email": user.email, "otp": code, "password": "another horse battery" }),
    )
    .await;
    assert_eq!(body["code"], "INVALID_OTP", "used up");
    mail_to(&smtp, &user.email, "Your Tessera password was changed", 1).await;
}

// ------------------------------------------------------------------ the second factor

#[tokio::test]
async fn two_factor_still_applies_after_a_magic_link_or_an_email_code() {
    let (app, smtp) = spawn_app_with_mail(unlimited).await;
    let enrolled = app.enrolled_user().await;
    let email = enrolled.user.email.clone();
    let verify = mail_to(&smtp, &email, "Verify your email", 1).await;
    app.follow(&verify.link_path()).await;

    ask_link(&app, &json!({ "email": email })).await;
    let token = mail_to(&smtp, &email, "Sign in to", 1).await.token();
    let browser = app.browser();
    let res = browser
        .post_json("/api/auth/magic-link/verify", &json!({ "token": token }))
        .await;
    assert!(header(&res, "set-auth-token").is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "twoFactorRedirect": true, "twoFactorMethods": ["totp"] }),
        "no email code after an email first factor"
    );
    assert_eq!(browser.get_session().await.text().await.unwrap(), "null");
    let res = browser
        .post_json("/api/auth/two-factor/send-otp", &json!({}))
        .await;
    assert_eq!(status_and_body(res).await.1["code"], "OTP_NOT_ALLOWED");
    let res = browser
        .post_json(
            "/api/auth/two-factor/verify-totp",
            &json!({ "code": app.code(&enrolled.totp) }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(amr(&browser).await, json!(["email", "otp", "mfa"]));

    // with a callback, the browser lands on the second-factor page
    ask_link(&app, &json!({ "email": email, "callbackURL": "/tasks" })).await;
    let token = mail_to(&smtp, &email, "Sign in to", 2).await.token();
    let res = press_button(
        &app.browser(),
        &[("token", &token), ("callbackURL", "/tasks")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&res, "location").as_deref(), Some("/two-factor"));
    assert!(
        set_cookies(&res)
            .iter()
            .any(|c| c.starts_with("better-auth.two_factor="))
    );

    ask_code(&app, &email, "sign-in").await;
    let code = code_in(&mail_to(&smtp, &email, "Your Tessera sign-in", 1).await);
    let res = app
        .browser()
        .post_json(
            "/api/auth/sign-in/email-otp",
            &json!({ "email": email, "otp": code }),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "twoFactorRedirect": true, "twoFactorMethods": ["totp"] })
    );
}

#[tokio::test]
async fn an_emailed_second_factor_finishes_a_password_sign_in_and_is_labelled() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let enrolled = app.enrolled_user().await;
    let email = enrolled.user.email.clone();
    let browser = app.browser();
    let res = browser
        .sign_in(&json!({ "email": email, "password": PASSWORD }))
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "twoFactorRedirect": true, "twoFactorMethods": ["totp", "otp"] })
    );
    let res = browser
        .post_json("/api/auth/two-factor/send-otp", &json!({}))
        .await;
    assert_eq!(
        status_and_body(res).await,
        (StatusCode::OK, json!({ "status": true }))
    );
    let code = code_in(&mail_to(&smtp, &email, "Your Tessera security code", 1).await);

    // L: a code is bound to its challenge: another sign-in's challenge cannot use it
    let other = app.browser();
    other
        .sign_in(&json!({ "email": email, "password": PASSWORD }))
        .await;
    let res = other
        .post_json("/api/auth/two-factor/verify-otp", &json!({ "code": code }))
        .await;
    assert_eq!(status_and_body(res).await.1["code"], "OTP_HAS_EXPIRED");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = browser
        .post_json("/api/auth/two-factor/verify-otp", &json!({ "code": wrong }))
        .await;
    let (status, body) = status_and_body(res).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_CODE"))
    );
    let row = app
        .store()
        .two_factor(UserId(&enrolled.user.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.failures, 1,
        "a wrong email code counts towards the lockout"
    );

    let res = browser
        .post_json("/api/auth/two-factor/verify-otp", &json!({ "code": code }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(amr(&browser).await, json!(["pwd", "otp", "email", "mfa"]));
    let res = browser
        .post_json("/api/auth/two-factor/verify-otp", &json!({ "code": code }))
        .await;
    assert_eq!(
        status_and_body(res).await.1["code"],
        "OTP_HAS_EXPIRED",
        "used up (and the browser's new session is not the challenge it was bound to)"
    );
    let res = other
        .post_json("/api/auth/two-factor/verify-otp", &json!({ "code": code }))
        .await;
    assert_eq!(status_and_body(res).await.1["code"], "OTP_HAS_EXPIRED");
}

#[tokio::test]
async fn the_emailed_second_factor_honours_the_challenge_cap_and_the_lockout() {
    let (app, smtp) = spawn_app_with_mail(unlimited).await;
    let enrolled = app.enrolled_user().await;
    let email = enrolled.user.email.clone();
    let mut sent = 0;
    let mut last = (StatusCode::OK, Value::Null);
    // two challenges of 5 attempts each: a send and 4 wrong codes each = 8 failures
    for _ in 0..2 {
        let browser = app.browser();
        browser
            .sign_in(&json!({ "email": email, "password": PASSWORD }))
            .await;
        browser
            .post_json("/api/auth/two-factor/send-otp", &json!({}))
            .await;
        sent += 1;
        let code = code_in(&mail_to(&smtp, &email, "Your Tessera security code", sent).await);
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..4 {
            let res = browser
                .post_json("/api/auth/two-factor/verify-otp", &json!({ "code": wrong }))
                .await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let res = browser
            .post_json("/api/auth/two-factor/verify-otp", &json!({ "code": code }))
            .await;
        last = status_and_body(res).await;
        assert_eq!(
            last.1["code"], "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE",
            "the 6th attempt"
        );
    }
    let _ = last;
    // two more failures (a third challenge) reach the lockout of 10
    let browser = app.browser();
    browser
        .sign_in(&json!({ "email": email, "password": PASSWORD }))
        .await;
    browser
        .post_json("/api/auth/two-factor/send-otp", &json!({}))
        .await;
    let code = code_in(&mail_to(&smtp, &email, "Your Tessera security code", 3).await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..2 {
        browser
            .post_json("/api/auth/two-factor/verify-otp", &json!({ "code": wrong }))
            .await;
    }
    let res = browser
        .post_json("/api/auth/two-factor/verify-otp", &json!({ "code": code }))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked: even the right code"
    );
}

// ------------------------------------------------------------------ switches

#[tokio::test]
async fn switched_off_they_answer_like_unknown_routes() {
    let (app, smtp) = spawn_app_with_mail(|s| {
        s.email.magic_links = false;
        s.email.email_codes = false;
    })
    .await;
    let user = verified_user(&app, &smtp).await;
    let doc: Value = app.follow("/api/openapi.json").await.json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(
        !paths
            .keys()
            .any(|p| p.contains("magic-link") || p.contains("email-otp"))
    );
    let unknown = app
        .browser()
        .post_json("/api/auth/no-such-route", &json!({}))
        .await;
    let unknown = status_and_body(unknown).await;
    for (path, body) in [
        (
            "/api/auth/sign-in/magic-link",
            json!({ "email": user.email }),
        ),
        ("/api/auth/magic-link/verify", json!({ "token": "x" })),
        (
            "/api/auth/email-otp/send-verification-otp",
            json!({ "email": user.email, "type": "sign-in" }),
        ),
        (
            "/api/auth/sign-in/email-otp",
            json!({ "email": user.email, "otp": "123456" }),
        ),
        (
            "/api/auth/email-otp/verify-email",
            json!({ "email": user.email, "otp": "123456" }),
        ),
    ] {
        let res = app.browser().post_json(path, &body).await;
        assert_eq!(status_and_body(res).await, unknown, "{path}");
    }
    let res = app.follow("/api/auth/magic-link/verify?token=x").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    let enrolled = app.enrolled_user().await;
    let browser = app.browser();
    let body: Value = browser
        .sign_in(&json!({ "email": enrolled.user.email, "password": PASSWORD }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["twoFactorMethods"], json!(["totp"]));
    let res = browser
        .post_json("/api/auth/two-factor/send-otp", &json!({}))
        .await;
    assert_eq!(status_and_body(res).await.1["code"], "OTP_NOT_CONFIGURED");
}

#[tokio::test]
async fn without_mail_there_are_no_links_or_codes() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let res = ask_link(&app, &json!({ "email": user.email })).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = ask_code(&app, &user.email, "sign-in").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hostile_bodies_get_clear_4xx_answers() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let user = verified_user(&app, &smtp).await;
    let b = app.browser();
    for (path, body) in [
        ("/api/auth/sign-in/magic-link", json!({ "email": 5 })),
        (
            "/api/auth/sign-in/magic-link",
            json!({ "email": "not an address" }),
        ),
        (
            "/api/auth/sign-in/magic-link",
            json!({ "email": user.email, "name": ["x"] }),
        ),
        ("/api/auth/magic-link/verify", json!({ "token": null })),
        (
            "/api/auth/magic-link/verify",
            json!({ "token": "x".repeat(100_000) }),
        ),
        (
            "/api/auth/email-otp/send-verification-otp",
            json!({ "email": user.email, "type": "nope" }),
        ),
        (
            "/api/auth/email-otp/send-verification-otp",
            json!({ "email": user.email, "type": "change-email" }),
        ),
        (
            "/api/auth/email-otp/reset-password",
            json!({ "email": user.email, "otp": "123456", "password": 12345678 }),
        ),
        (
            "/api/auth/email-otp/check-verification-otp",
            json!({ "email": user.email, "otp": "123456", "type": "nope" }),
        ),
        (
            "/api/auth/sign-in/email-otp",
            json!({ "email": user.email, "otp": 123456 }),
        ),
        (
            "/api/auth/sign-in/email-otp",
            json!({ "email": user.email, "otp": "1".repeat(65) }),
        ),
        (
            "/api/auth/email-otp/verify-email",
            json!({ "email": user.email }),
        ),
        (
            "/api/auth/two-factor/verify-otp",
            json!({ "code": "123456" }),
        ),
    ] {
        let res = b.post_json(path, &body).await;
        assert!(
            res.status().is_client_error(),
            "{path} {body}: {}",
            res.status()
        );
    }
    for query in [
        "",
        "?token=",
        "?token=%00%ff",
        "?callbackURL=javascript:alert(1)&token=x",
    ] {
        let res = app
            .follow(&format!("/api/auth/magic-link/verify{query}"))
            .await;
        assert!(
            res.status().is_client_error() || res.status() == StatusCode::FOUND,
            "{query}: {}",
            res.status()
        );
    }
    let res = b
        .client
        .post(format!("{}/api/auth/sign-in/email-otp", b.address))
        .header("content-type", "application/json")
        .header("origin", ORIGIN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
