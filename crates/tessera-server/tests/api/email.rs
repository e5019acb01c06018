//! Email: address verification, password reset, change of address and `update-user`, with
//! a real SMTP server beside the app. Every flow reads the message as received (MIME) and
//! follows the link it carries. Faults of delivery (SMTP down, refused recipients, restarts)
//! are here too; the process killed between commit and send is in the CLI suite.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// A user who signed up on a server with mail, and the verification message they got.
async fn signed_up_with_mail(
    app: &TestApp,
    smtp: &tessera_testkit::smtp::SmtpServer,
) -> (TestUser, Mail) {
    let before = smtp.received().len();
    let user = app.signed_up_user().await;
    let mail = nth_mail(smtp, before + 1).await;
    (user, mail)
}

async fn email_verified(app: &TestApp, who: &Who) -> bool {
    app.session_json(who).await["user"]["emailVerified"] == json!(true)
}

#[tokio::test]
async fn sign_up_mails_a_link_that_verifies_the_address_once() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, mail) = signed_up_with_mail(&app, &smtp).await;
    assert_eq!(mail.to, vec![user.email.clone()]);
    assert_eq!(mail.to_header, user.email);
    assert_eq!(mail.from, "Tessera <no-reply@localhost>");
    assert_eq!(mail.subject, "Verify your email address for Tessera");
    assert!(mail.html.contains("Verify my address"), "{}", mail.html);
    let link = mail.link();
    assert!(
        link.starts_with("http://localhost:3999/api/auth/verify-email?token="),
        "{link}"
    );
    assert!(link.ends_with("&callbackURL=%2Fverify-email"), "{link}");
    assert!(mail.token().len() >= 43, "at least 256 bits, base64url");
    assert!(!email_verified(&app, &user.by_cookie()).await);

    let res = app.follow(&mail.link_path()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(header(&res, "location").as_deref(), Some("/verify-email"));
    assert!(
        set_cookies(&res).is_empty(),
        "following a link signs nobody in"
    );
    assert!(email_verified(&app, &user.by_cookie()).await);

    // once only
    let again = app.follow(&mail.link_path()).await;
    assert_eq!(
        header(&again, "location").as_deref(),
        Some("/verify-email?error=INVALID_TOKEN")
    );
    // without callbackURL: Better Auth's JSON answers
    let json_again = app
        .follow(&format!("/api/auth/verify-email?token={}", mail.token()))
        .await;
    assert_error(json_again, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;
}

#[tokio::test]
async fn a_verification_link_expires_after_a_day() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, mail) = signed_up_with_mail(&app, &smtp).await;
    app.clock.advance(DAY + Duration::from_secs(1));
    let res = app
        .follow(&format!("/api/auth/verify-email?token={}", mail.token()))
        .await;
    assert_error(res, StatusCode::UNAUTHORIZED, "TOKEN_EXPIRED").await;
    assert!(!email_verified(&app, &user.by_bearer()).await);
}

#[tokio::test]
async fn send_verification_email_answers_alike_without_a_session_and_checks_with_one() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, _) = signed_up_with_mail(&app, &smtp).await;
    let known = app
        .send_verification_email(&Who::Anonymous, &json!({"email": user.email}))
        .await;
    let unknown = app
        .send_verification_email(&Who::Anonymous, &json!({"email": unique_email()}))
        .await;
    assert_eq!(known.status(), StatusCode::OK);
    assert_eq!(unknown.status(), StatusCode::OK);
    assert_eq!(known.bytes().await.unwrap(), unknown.bytes().await.unwrap());
    let second = nth_mail(&smtp, 2).await;
    assert_eq!(second.to, vec![user.email.clone()]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        smtp.received().len(),
        2,
        "nothing goes to an unknown address"
    );

    let other = app
        .send_verification_email(&user.by_cookie(), &json!({"email": unique_email()}))
        .await;
    assert_error(other, StatusCode::BAD_REQUEST, "EMAIL_MISMATCH").await;
    app.follow(&second.link_path()).await;
    let done = app
        .send_verification_email(&user.by_cookie(), &json!({"email": user.email}))
        .await;
    assert_error(done, StatusCode::BAD_REQUEST, "EMAIL_ALREADY_VERIFIED").await;
}

#[tokio::test]
async fn password_reset_sets_the_password_ends_every_session_and_signs_nobody_in() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, _) = signed_up_with_mail(&app, &smtp).await;
    let other_device = app.signed_in(&user, true).await;
    let jwt = app.access_token(&user.by_bearer()).await;
    let grant: Value = app
        .sign_in(&json!({"email": user.email, "password": user.password, "refreshToken": true}))
        .await
        .json()
        .await
        .unwrap();

    // Host and X-Forwarded-Host are not where links point
    let res = app
        .post_json(
            "/api/auth/request-password-reset",
            &json!({"email": user.email}),
        )
        .header("host", "evil.test")
        .header("x-forwarded-host", "evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mail = nth_mail(&smtp, 2).await;
    assert_eq!(mail.subject, "Reset your Tessera password");
    let link = mail.link();
    assert!(
        link.starts_with(&format!("{BASE_URL}/api/auth/reset-password/")),
        "{link}"
    );
    assert!(!mail.raw.contains("evil.test"));

    // the GET (what a mail scanner fetches) uses nothing up
    for _ in 0..2 {
        let res = app.follow(&mail.link_path()).await;
        assert_eq!(res.status(), StatusCode::FOUND);
        assert_eq!(
            header(&res, "location"),
            Some(format!("/reset-password?token={}", mail.token()))
        );
    }
    let res = app
        .reset_password(&json!({"newPassword": "a brand new passphrase", "token": mail.token()}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookies(&res).is_empty());
    assert!(header(&res, "set-auth-token").is_none());
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": true}));

    for who in [user.by_cookie(), other_device.by_cookie()] {
        assert_eq!(
            app.session_json(&who).await,
            Value::Null,
            "the session ended"
        );
    }
    assert_eq!(
        app.tasks_status(&user.id, &jwt).await,
        StatusCode::UNAUTHORIZED
    );
    let refreshed = app
        .post_json(
            "/api/auth/refresh",
            &json!({"refresh_token": grant["refresh_token"]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.sign_in_status(&user.email, &user.password).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in_status(&user.email, "a brand new passphrase")
            .await,
        StatusCode::OK
    );

    // the token is used up, and the user is told
    let replay = app
        .reset_password(&json!({"newPassword": "yet another passphrase", "token": mail.token()}))
        .await;
    assert_error(replay, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    let notice = nth_mail(&smtp, 3).await;
    assert_eq!(notice.subject, "Your Tessera password was changed");
    assert_eq!(notice.to, vec![user.email.clone()]);
    assert!(!notice.text.contains(&mail.token()));
}

#[tokio::test]
async fn reset_requests_for_known_and_unknown_addresses_get_the_same_bytes() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, _) = signed_up_with_mail(&app, &smtp).await;
    let known = app
        .request_password_reset(&json!({"email": user.email}))
        .await;
    let unknown = app
        .request_password_reset(&json!({"email": unique_email()}))
        .await;
    assert_eq!(known.status(), unknown.status());
    let strip = |res: &reqwest::Response| {
        let mut h: Vec<(String, String)> = res
            .headers()
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "date" | "x-request-id"))
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        h.sort();
        h
    };
    assert_eq!(strip(&known), strip(&unknown));
    let (a, b) = (known.bytes().await.unwrap(), unknown.bytes().await.unwrap());
    assert_eq!(a, b);
    assert_eq!(
        serde_json::from_slice::<Value>(&a).unwrap(),
        json!({"status": true, "message": "If this email exists in our system, check your email for the reset link"})
    );
    nth_mail(&smtp, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 2);
    assert_eq!(app.count_where("outbox", "status = 'dropped'").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_resets_with_one_token_at_once_succeed_once() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, _) = signed_up_with_mail(&app, &smtp).await;
    app.request_password_reset(&json!({"email": user.email}))
        .await;
    let token = nth_mail(&smtp, 2).await.token();
    let bodies: Vec<Value> = (0..4)
        .map(|i| json!({"newPassword": format!("concurrent passphrase {i}"), "token": token}))
        .collect();
    let statuses: Vec<StatusCode> =
        futures_statuses(bodies.iter().map(|b| app.reset_password(b))).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST)
    );
}

async fn futures_statuses(
    tries: impl Iterator<Item = impl std::future::Future<Output = reqwest::Response>>,
) -> Vec<StatusCode> {
    let handles: Vec<_> = tries.collect();
    let mut out = Vec::new();
    let joined = join_all(handles).await;
    for r in joined {
        out.push(r.status());
    }
    out
}

/// Runs futures concurrently (no extra dependency: one task per future would need 'static).
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn reset_links_last_30_minutes_and_a_newer_request_keeps_the_older_link() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, _) = signed_up_with_mail(&app, &smtp).await;
    app.request_password_reset(&json!({"email": user.email}))
        .await;
    let first = nth_mail(&smtp, 2).await;
    app.request_password_reset(&json!({"email": user.email}))
        .await;
    let second = nth_mail(&smtp, 3).await;
    assert_ne!(first.token(), second.token());

    app.clock.advance(Duration::from_secs(29 * 60));
    let res = app
        .reset_password(&json!({"newPassword": "first link still works", "token": first.token()}))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "the older link still works");
    // …and the reset voided the other one
    let res = app
        .reset_password(&json!({"newPassword": "second link is void now", "token": second.token()}))
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;

    app.request_password_reset(&json!({"email": user.email}))
        .await;
    let third = nth_mail(&smtp, 5).await; // 4 is the password-changed notice
    assert_eq!(third.subject, "Reset your Tessera password");
    app.clock.advance(Duration::from_secs(31 * 60));
    let res = app.follow(&third.link_path()).await;
    assert_eq!(
        header(&res, "location").as_deref(),
        Some("/reset-password?error=INVALID_TOKEN")
    );
    let res = app
        .reset_password(&json!({"newPassword": "too late for this", "token": third.token()}))
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
}

#[tokio::test]
async fn a_change_of_address_is_confirmed_by_the_old_address_then_the_new_one() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, verify) = signed_up_with_mail(&app, &smtp).await;
    app.follow(&verify.link_path()).await;
    let new_email = unique_email();
    let res = app
        .change_email(
            &user.by_cookie(),
            &json!({"newEmail": new_email, "password": user.password, "callbackURL": "/account"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let confirm = nth_mail(&smtp, 2).await;
    assert_eq!(
        confirm.to,
        vec![user.email.clone()],
        "the old address confirms first"
    );
    assert!(confirm.text.contains(&new_email));
    let res = app.follow(&confirm.link_path()).await;
    assert_eq!(header(&res, "location").as_deref(), Some("/account"));
    assert_eq!(
        app.session_json(&user.by_cookie()).await["user"]["email"],
        json!(user.email),
        "nothing changes before the new address answers"
    );
    let verify_new = nth_mail(&smtp, 3).await;
    assert_eq!(verify_new.to, vec![new_email.clone()]);
    let res = app.follow(&verify_new.link_path()).await;
    assert_eq!(header(&res, "location").as_deref(), Some("/account"));
    let session = app.session_json(&user.by_cookie()).await;
    assert_eq!(session["user"]["email"], json!(new_email));
    assert_eq!(session["user"]["emailVerified"], json!(true));
    assert_eq!(
        app.sign_in_status(&new_email, &user.password).await,
        StatusCode::OK
    );
    assert_eq!(
        app.sign_in_status(&user.email, &user.password).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_change_of_address_needs_the_password_or_a_fresh_session() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, _) = signed_up_with_mail(&app, &smtp).await;
    let body = json!({"newEmail": unique_email()});
    app.clock.advance(Duration::from_secs(16 * 60));
    let stale = app.change_email(&user.by_cookie(), &body).await;
    assert_error(stale, StatusCode::FORBIDDEN, "SESSION_NOT_FRESH").await;
    let wrong = app
        .change_email(
            &user.by_cookie(),
            &json!({"newEmail": unique_email(), "password": "not the password"}),
        )
        .await;
    assert_error(wrong, StatusCode::BAD_REQUEST, "INVALID_PASSWORD").await;
    let same = app
        .change_email(
            &user.by_cookie(),
            &json!({"newEmail": user.email.to_uppercase(), "password": user.password}),
        )
        .await;
    assert_error(same, StatusCode::BAD_REQUEST, "EMAIL_IS_THE_SAME").await;
    let anonymous = app.change_email(&Who::Anonymous, &body).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1, "only the sign-up message");
}

#[tokio::test]
async fn moving_to_a_taken_address_answers_the_same_and_tells_that_address_instead() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (taken, _) = signed_up_with_mail(&app, &smtp).await;
    let (user, _) = signed_up_with_mail(&app, &smtp).await;
    let free = app
        .change_email(
            &user.by_cookie(),
            &json!({"newEmail": unique_email(), "password": user.password}),
        )
        .await;
    let busy = app
        .change_email(
            &user.by_cookie(),
            &json!({"newEmail": taken.email, "password": user.password}),
        )
        .await;
    assert_eq!(free.status(), busy.status());
    assert_eq!(free.bytes().await.unwrap(), busy.bytes().await.unwrap());
    // unverified address: the new address is asked directly
    let got = smtp.wait_for(4, Duration::from_secs(10)).await;
    let to_taken = got
        .iter()
        .map(Mail::parse)
        .rfind(|m| m.to == vec![taken.email.clone()])
        .expect("a message to the taken address (after its own sign-up message)");
    assert_eq!(to_taken.subject, "Your Tessera address");
    assert!(!to_taken.text.contains(BASE_URL), "no link in it");
    assert_eq!(
        app.session_json(&user.by_cookie()).await["user"]["email"],
        json!(user.email)
    );
}

#[tokio::test]
async fn require_email_verification_keeps_unverified_addresses_out_and_resends_the_link() {
    let (app, smtp) = spawn_app_with_mail(|s| s.email.require_email_verification = true).await;
    let email = unique_email();
    let res = app
        .sign_up(&json!({"name": "V", "email": email, "password": PASSWORD}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token"], Value::Null);
    let first = nth_mail(&smtp, 1).await;

    // a taken address gets the same answer
    let dup = app
        .sign_up(&json!({"name": "V", "email": email, "password": PASSWORD}))
        .await;
    assert_eq!(dup.status(), StatusCode::OK);
    assert_eq!(dup.json::<Value>().await.unwrap()["token"], Value::Null);

    let refused = app
        .sign_in(&json!({"email": email, "password": PASSWORD}))
        .await;
    assert!(set_cookies(&refused).is_empty());
    assert_error(refused, StatusCode::FORBIDDEN, "EMAIL_NOT_VERIFIED").await;
    let resent = nth_mail(&smtp, 2).await;
    assert_eq!(resent.to, vec![email.clone()]);
    // a wrong password learns nothing about verification
    assert_eq!(
        app.sign_in_status(&email, "wrong password here").await,
        StatusCode::UNAUTHORIZED
    );
    let res = app.follow(&first.link_path()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(app.sign_in_status(&email, PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn without_smtp_the_email_routes_answer_not_enabled() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    assert_error(
        app.send_verification_email(&Who::Anonymous, &json!({"email": user.email}))
            .await,
        StatusCode::BAD_REQUEST,
        "VERIFICATION_EMAIL_NOT_ENABLED",
    )
    .await;
    assert_error(
        app.request_password_reset(&json!({"email": user.email}))
            .await,
        StatusCode::BAD_REQUEST,
        "RESET_PASSWORD_DISABLED",
    )
    .await;
    assert_error(
        app.change_email(&user.by_cookie(), &json!({"newEmail": unique_email()}))
            .await,
        StatusCode::BAD_REQUEST,
        "CHANGE_EMAIL_DISABLED",
    )
    .await;
    assert_eq!(app.count("outbox").await, 0);
}

#[tokio::test]
async fn hostile_callback_urls_are_refused_and_queue_nothing() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, mail) = signed_up_with_mail(&app, &smtp).await;
    for bad in [
        "https://evil.test/x",
        "javascript:alert(1)",
        "//evil.test",
        "/\\evil.test",
        "http://localhost:3999.evil.test/",
    ] {
        let res = app
            .send_verification_email(
                &Who::Anonymous,
                &json!({"email": user.email, "callbackURL": bad}),
            )
            .await;
        assert_error(res, StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL").await;
        let res = app
            .request_password_reset(&json!({"email": user.email, "redirectTo": bad}))
            .await;
        assert_error(res, StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL").await;
        let enc = encode_uri_component(bad);
        let res = app
            .follow(&format!(
                "/api/auth/verify-email?token={}&callbackURL={enc}",
                mail.token()
            ))
            .await;
        assert_error(res, StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL").await;
        let res = app
            .follow(&format!("/api/auth/reset-password/x?callbackURL={enc}"))
            .await;
        assert_error(res, StatusCode::FORBIDDEN, "INVALID_CALLBACK_URL").await;
    }
    assert_eq!(app.count("outbox").await, 1, "only the sign-up message");
    // the refused requests did not use the token up
    let res = app.follow(&mail.link_path()).await;
    assert_eq!(header(&res, "location").as_deref(), Some("/verify-email"));
}

#[tokio::test]
async fn forged_truncated_and_misplaced_tokens_change_nothing() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, verify) = signed_up_with_mail(&app, &smtp).await;
    app.request_password_reset(&json!({"email": user.email}))
        .await;
    let reset = nth_mail(&smtp, 2).await;
    let before = app.db_snapshot().await;
    let token = reset.token();
    for bad in [
        &token[..token.len() - 1],
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &verify.token(), // a verification token is not a reset token
        "",
    ] {
        let res = app
            .reset_password(&json!({"newPassword": "an attacker's password", "token": bad}))
            .await;
        assert_error(res, StatusCode::BAD_REQUEST, "INVALID_TOKEN").await;
    }
    // a reset token is not a verification token either, and is not used up by trying
    let res = app
        .follow(&format!("/api/auth/verify-email?token={token}"))
        .await;
    assert_error(res, StatusCode::UNAUTHORIZED, "INVALID_TOKEN").await;
    let wrong_type = app
        .reset_password(&json!({"newPassword": 12345678, "token": token}))
        .await;
    assert_eq!(wrong_type.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.db_snapshot().await, before);
    let ok = app
        .reset_password(&json!({"newPassword": "the real owner's choice", "token": token}))
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    // the verification token still works after being presented to the wrong endpoint
    let res = app.follow(&verify.link_path()).await;
    assert_eq!(header(&res, "location").as_deref(), Some("/verify-email"));
}

#[tokio::test]
async fn header_injection_through_addresses_and_names_is_refused() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    for email in [
        "a@b.test\r\nBcc: x@evil.test",
        "a@b.test\nBcc: x@evil.test",
        "\"a\r\n\"@b.test",
    ] {
        let res = app.request_password_reset(&json!({"email": email})).await;
        assert_error(res, StatusCode::BAD_REQUEST, "INVALID_EMAIL").await;
    }
    let res = app
        .sign_up(&json!({"name": "x\r\nBcc: y@evil.test", "email": unique_email(), "password": PASSWORD}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // a name that looks like headers stays in the body, escaped in HTML
    let email = unique_email();
    app.sign_up(&json!({"name": "<b>Bcc: y@evil.test</b>", "email": email, "password": PASSWORD}))
        .await;
    let mail = nth_mail(&smtp, 1).await;
    assert_eq!(mail.to, vec![email]);
    assert!(mail.html.contains("&lt;b&gt;Bcc: y@evil.test&lt;/b&gt;"));
    assert!(!mail.raw.to_ascii_lowercase().contains("\nbcc:"));
}

#[tokio::test]
async fn mail_to_one_address_is_limited_whoever_asks() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, _) = signed_up_with_mail(&app, &smtp).await;
    // sign-up took one of the address's three
    for _ in 0..2 {
        let res = app
            .request_password_reset(&json!({"email": user.email}))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = app
        .request_password_reset(&json!({"email": user.email}))
        .await;
    assert!(header(&res, "retry-after").is_some());
    assert_error(res, StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS").await;
    // an unknown address is limited just the same (nothing to learn from a 429)
    let stranger = unique_email();
    for _ in 0..3 {
        app.request_password_reset(&json!({"email": stranger}))
            .await;
    }
    let res = app
        .request_password_reset(&json!({"email": stranger}))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn update_user_changes_the_name_and_refuses_the_address() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let res = app
        .update_user(&user.by_cookie(), &json!({"name": "New Name"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": true}));
    assert_eq!(
        app.session_json(&user.by_cookie()).await["user"]["name"],
        json!("New Name")
    );
    let res = app
        .update_user(&user.by_cookie(), &json!({"email": unique_email()}))
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "EMAIL_CAN_NOT_BE_UPDATED").await;
    let res = app.update_user(&user.by_cookie(), &json!({})).await;
    assert_error(res, StatusCode::BAD_REQUEST, "NO_FIELDS_TO_UPDATE").await;
    let res = app
        .update_user(&user.by_cookie(), &json!({"name": "\u{202e}"}))
        .await;
    assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    let res = app
        .update_user(&user.by_cookie(), &json!({"name": 42}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .update_user(&Who::Anonymous, &json!({"name": "x"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_is_told_to_the_address() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let (user, _) = signed_up_with_mail(&app, &smtp).await;
    let res = app
        .with(
            app.post_json(
                "/api/auth/change-password",
                &json!({"currentPassword": user.password, "newPassword": "another fine passphrase"}),
            ),
            &user.by_cookie(),
            true,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let notice = nth_mail(&smtp, 2).await;
    assert_eq!(notice.subject, "Your Tessera password was changed");
    assert_eq!(notice.to, vec![user.email.clone()]);
}
