//! The attack suite's input-validation rows (checklist group E) that `bad_input` does not
//! already cover: duplicate JSON members (E6), trailing bytes after a JSON body (E2), the
//! checklist's exact list of malformed emails with the length bounds (E7), deep nesting on
//! every JSON endpoint, the tasks API included (E12), and methods nobody routes (E14).
//! `docs/attack-suite.md` maps every row to its tests.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const SIGN_UP: &str = "/api/auth/sign-up/email";
const SIGN_IN: &str = "/api/auth/sign-in/email";

/// POSTs a raw body with this content type (and a bearer token when given).
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    bearer: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut rb = app
        .request(Method::POST, path)
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = bearer {
        rb = rb.bearer_auth(t);
    }
    rb.send().await.unwrap()
}

#[tokio::test]
async fn a_duplicate_email_member_cannot_slip_past_the_uniqueness_check() {
    let app = spawn_app().await;
    let owner = app.signed_up_user_with("owner@example.com", PASSWORD).await;
    let before = app.db_snapshot().await;

    // The last member wins, and it is the one checked: the taken address is refused and
    // nothing is created under the first one.
    let res = post_raw(
        &app,
        SIGN_UP,
        "application/json",
        None,
        r#"{"name":"m","email":"e6@example.com","email":"owner@example.com","password":"another fine phrase"}"#,
    )
    .await;
    assert_error(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
    )
    .await;
    assert_eq!(app.db_snapshot().await, before);
    assert_eq!(
        app.sign_in_status("e6@example.com", "another fine phrase")
            .await,
        StatusCode::UNAUTHORIZED
    );

    // Reversed, the account is created for the last address only, and the owner's account
    // is untouched.
    let res = post_raw(
        &app,
        SIGN_UP,
        "application/json",
        None,
        r#"{"name":"m","email":"owner@example.com","email":"e6@example.com","password":"another fine phrase"}"#,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["email"], "e6@example.com");
    assert_ne!(body["user"]["id"], owner.id.as_str());
    assert_eq!(app.count("users").await, 2);
    assert_eq!(
        app.sign_in_status("owner@example.com", PASSWORD).await,
        StatusCode::OK
    );
    assert_eq!(
        app.sign_in_status("owner@example.com", "another fine phrase")
            .await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_duplicate_password_member_is_the_one_validated_and_stored() {
    let app = spawn_app().await;

    // a good first value cannot smuggle a policy-breaking last one past validation
    for (last, code) in [
        ("short", "PASSWORD_TOO_SHORT"),
        ("password123456", "PASSWORD_COMPROMISED"),
    ] {
        let body = format!(
            r#"{{"name":"m","email":"{}","password":"a perfectly fine phrase","password":"{last}"}}"#,
            unique_email()
        );
        let res = post_raw(&app, SIGN_UP, "application/json", None, body).await;
        assert_error(res, StatusCode::BAD_REQUEST, code).await;
    }
    assert_eq!(app.count("users").await, 0);

    // and the stored password is the last value, the one that was validated
    let email = unique_email();
    let body = format!(
        r#"{{"name":"m","email":"{email}","password":"short","password":"a perfectly fine phrase"}}"#
    );
    let res = post_raw(&app, SIGN_UP, "application/json", None, body).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.sign_in_status(&email, "a perfectly fine phrase").await,
        StatusCode::OK
    );
    assert_eq!(
        app.sign_in_status(&email, "short").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn duplicate_members_at_sign_in_are_read_last_wins_in_json_and_forms_alike() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    // the credential checked is the pair that was sent last
    let json_last_wrong = format!(
        r#"{{"email":"{}","email":"nobody@example.com","password":"{PASSWORD}"}}"#,
        user.email
    );
    let json_last_right = format!(
        r#"{{"email":"nobody@example.com","email":"{}","password":"{PASSWORD}"}}"#,
        user.email
    );
    let res = post_raw(&app, SIGN_IN, "application/json", None, json_last_wrong).await;
    assert_error(res, StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD").await;
    let res = post_raw(&app, SIGN_IN, "application/json", None, json_last_right).await;
    assert_eq!(res.status(), StatusCode::OK);

    let form = "application/x-www-form-urlencoded";
    let enc = user.email.replace('@', "%40");
    let pw = PASSWORD.replace(' ', "+");
    let res = post_raw(
        &app,
        SIGN_IN,
        form,
        None,
        format!("email={enc}&email=nobody%40example.com&password={pw}"),
    )
    .await;
    assert_error(res, StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD").await;
    let res = post_raw(
        &app,
        SIGN_IN,
        form,
        None,
        format!("email=nobody%40example.com&email={enc}&password=wrong+guess&password={pw}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_duplicate_task_title_is_validated_as_the_value_stored() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_bearer()).await;
    let path = format!("/api/{}/tasks", user.id);

    let res = post_raw(
        &app,
        &path,
        "application/json",
        Some(&jwt),
        r#"{"title":"fine","title":""}"#,
    )
    .await;
    assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    let too_long = "x".repeat(201);
    let res = post_raw(
        &app,
        &path,
        "application/json",
        Some(&jwt),
        format!(r#"{{"title":"{too_long}","title":"kept"}}"#),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.json::<Value>().await.unwrap()["title"], "kept");
    assert_eq!(app.count("tasks").await, 1);
}

#[tokio::test]
async fn bytes_after_the_json_value_are_400_on_every_json_endpoint() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_bearer()).await;
    let before = app.db_snapshot().await;
    let tasks = format!("/api/{}/tasks", user.id);
    let cases: [(&str, Option<&str>, String); 5] = [
        (
            SIGN_UP,
            None,
            format!(
                r#"{{"name":"n","email":"{}","password":"{PASSWORD}"}} trailing"#,
                unique_email()
            ),
        ),
        (
            SIGN_IN,
            None,
            format!(
                r#"{{"email":"{}","password":"{PASSWORD}"}} {{}}"#,
                user.email
            ),
        ),
        (
            "/api/auth/change-password",
            Some(&user.token),
            format!(r#"{{"currentPassword":"{PASSWORD}","newPassword":"another fine phrase"}}x"#),
        ),
        (
            "/api/auth/refresh",
            None,
            r#"{"refresh_token":"tsr_x"}]"#.to_owned(),
        ),
        (
            &tasks,
            Some(&jwt),
            r#"{"title":"t"} {"title":"u"}"#.to_owned(),
        ),
    ];
    for (path, bearer, body) in cases {
        let res = post_raw(&app, path, "application/json", bearer, body).await;
        assert_error_exact(
            res,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "Invalid JSON in request body",
        )
        .await;
    }
    assert_eq!(app.db_snapshot().await, before);
    assert_eq!(app.count("tasks").await, 0);
}

#[tokio::test]
async fn the_checklists_malformed_emails_are_refused_and_the_length_bounds_are_exact() {
    let app = spawn_app().await;
    let local_64 = "l".repeat(64);
    let local_65 = "l".repeat(65);
    // 254 characters in all, the longest address allowed; one more label character is 255
    let domain_for = |total: usize| {
        let mut d = String::new();
        let room = total - 2; // "a@"
        while d.len() + 64 < room {
            d.push_str(&"d".repeat(62));
            d.push('.');
        }
        let last = room - d.len() - 5; // ".test"
        d.push_str(&"e".repeat(last));
        d.push_str(".test");
        d
    };
    let longest = format!("a@{}", domain_for(254));
    let too_long = format!("a@{}", domain_for(255));
    assert_eq!((longest.len(), too_long.len()), (254, 255));

    for email in [
        "plainaddress".to_owned(),
        "a@".to_owned(),
        "@x.test".to_owned(),
        "a @x.test".to_owned(),
        "a@x.test\r\nBcc: v@x.test".to_owned(),
        "a@x.test\nBcc: v@x.test".to_owned(),
        format!("{local_65}@x.test"),
        too_long.clone(),
    ] {
        let res = app
            .sign_up(&json!({ "name": "n", "email": email, "password": PASSWORD }))
            .await;
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
        let res = app
            .sign_in(&json!({ "email": email, "password": PASSWORD }))
            .await;
        assert_error(res, StatusCode::BAD_REQUEST, "INVALID_EMAIL").await;
    }
    assert_eq!(app.count("users").await, 0);

    for email in [format!("{local_64}@x.test"), longest] {
        let user = app.signed_up_user_with(&email, PASSWORD).await;
        assert_eq!(user.email, email);
    }
}

#[tokio::test]
async fn deep_nesting_is_400_on_every_json_endpoint() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_bearer()).await;
    let task: Value = post_raw(
        &app,
        &format!("/api/{}/tasks", user.id),
        "application/json",
        Some(&jwt),
        r#"{"title":"t"}"#,
    )
    .await
    .json()
    .await
    .unwrap();
    let task_path = format!("/api/{}/tasks/{}", user.id, task["id"].as_str().unwrap());
    let before = app.db_snapshot().await;
    let arrays = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let objects = format!(
        "{{\"title\":{}1{}}}",
        "{\"a\":".repeat(50_000),
        "}".repeat(50_000)
    );

    let endpoints: Vec<(Method, String, Option<&str>)> = vec![
        (Method::POST, "/api/auth/refresh".into(), None),
        (
            Method::POST,
            "/api/auth/change-password".into(),
            Some(&user.token),
        ),
        (
            Method::POST,
            "/api/auth/revoke-session".into(),
            Some(&user.token),
        ),
        (
            Method::POST,
            "/api/auth/revoke-other-sessions".into(),
            Some(&user.token),
        ),
        (Method::POST, format!("/api/{}/tasks", user.id), Some(&jwt)),
        (Method::PUT, task_path.clone(), Some(&jwt)),
    ];
    for (method, path, bearer) in endpoints {
        for body in [&arrays, &objects] {
            let mut rb = app
                .request(method.clone(), &path)
                .header("content-type", "application/json")
                .body(body.clone());
            if let Some(t) = bearer {
                rb = rb.bearer_auth(t);
            }
            let res = rb.send().await.unwrap();
            assert_error(res, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
        }
    }
    assert_eq!(app.db_snapshot().await, before);
    let res = app
        .request(Method::GET, &task_path)
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["title"], "t");
    assert!(
        app.session_json(&user.by_bearer()).await != Value::Null,
        "the session survived"
    );
}

#[tokio::test]
async fn trace_and_unrouted_methods_are_405_everywhere() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_bearer()).await;
    let tasks = format!("/api/{}/tasks", user.id);

    for (method, path) in [
        (Method::TRACE, "/api/auth/sign-in/email"),
        (Method::TRACE, "/api/auth/get-session"),
        (Method::TRACE, tasks.as_str()),
        (Method::DELETE, "/api/auth/refresh"),
        (Method::GET, "/api/auth/refresh"),
        (Method::PUT, "/api/auth/change-password"),
        (Method::PUT, tasks.as_str()),
        (Method::PATCH, tasks.as_str()),
    ] {
        let res = app
            .request(method.clone(), path)
            .bearer_auth(&jwt)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let text = res.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert!(body["code"].is_string(), "{method} {path}: {text}");
        assert!(
            !text.contains(&user.id) && !text.contains(&user.email),
            "{text}"
        );
    }
}
