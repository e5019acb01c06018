//! Hostile and broken requests (§1.2, §1.4): malformed JSON, wrong content types, wrong field
//! types, missing fields, empty strings, oversized bodies, very long, SQL-looking and Unicode
//! strings. Each gets a clear 4xx in the `{message, code}` envelope, nothing gets a 5xx, and
//! the database is left as it was.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const SIGN_UP: &str = "/api/auth/sign-up/email";
const SIGN_IN: &str = "/api/auth/sign-in/email";
const SIGN_OUT: &str = "/api/auth/sign-out";
const POSTS: [&str; 3] = [SIGN_UP, SIGN_IN, SIGN_OUT];

async fn post(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> Response {
    let mut rb = app.request(Method::POST, path).body(body);
    if let Some(ct) = content_type {
        rb = rb.header("content-type", ct);
    }
    rb.send().await.unwrap()
}

async fn post_json(app: &TestApp, path: &str, body: &Value) -> Response {
    post(app, path, Some("application/json"), body.to_string()).await
}

/// An app with one user in it, and the snapshot to compare against afterwards.
async fn app_with_a_user() -> (TestApp, TestUser, String) {
    let app = spawn_app().await;
    let user = app
        .signed_up_user_with("existing@example.com", PASSWORD)
        .await;
    let snapshot = app.db_snapshot().await;
    (app, user, snapshot)
}

#[tokio::test]
async fn malformed_json_is_400_bad_request_everywhere() {
    let (app, _, before) = app_with_a_user().await;

    for path in POSTS {
        for body in [
            "{",
            "{\"email\":",
            "{'email': 'a'}",
            "{\"a\":1,}",
            "nul",
            "\u{feff}{}",
            "{\"a\":\"\\x\"}",
        ] {
            let res = post(&app, path, Some("application/json"), body).await;
            assert_error_exact(
                res,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "Invalid JSON in request body",
            )
            .await;
        }
    }
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_400() {
    let (app, _, before) = app_with_a_user().await;

    for path in POSTS {
        let res = post(
            &app,
            path,
            Some("application/json"),
            vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'],
        )
        .await;
        assert_error(res, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_crashing() {
    let (app, _, before) = app_with_a_user().await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_object = format!(
        "{{\"email\":{}{}}}",
        "{\"a\":".repeat(50_000),
        "}".repeat(50_001)
    );

    for path in POSTS {
        let res = post(&app, path, Some("application/json"), deep.clone()).await;
        assert_error(res, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
        let res = post(&app, path, Some("application/json"), deep_object.clone()).await;
        assert_error(res, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    }
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn other_content_types_are_415_unsupported_media_type() {
    let (app, user, before) = app_with_a_user().await;
    let body = json!({ "email": user.email, "password": PASSWORD, "name": "x" }).to_string();

    for path in POSTS {
        for ct in [
            "text/plain",
            "application/xml",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "json",
        ] {
            let res = post(&app, path, Some(ct), body.clone()).await;
            let message = assert_error(
                res,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
            )
            .await;
            assert!(
                message.contains("Allowed types: application/json"),
                "{message}"
            );
        }
    }
    // form bodies are for sign-in and sign-up only
    let res = post(
        &app,
        SIGN_OUT,
        Some("application/x-www-form-urlencoded"),
        "a=b",
    )
    .await;
    assert_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn text_plain_gets_better_auths_exact_message() {
    let app = spawn_app().await;

    let res = post(&app, SIGN_OUT, Some("text/plain"), "{}").await;

    assert_error_exact(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "Content-Type \"text/plain\" is not allowed. Allowed types: application/json",
    )
    .await;
}

#[tokio::test]
async fn a_body_without_a_content_type_is_415() {
    let (app, _, before) = app_with_a_user().await;

    for path in POSTS {
        let res = post(&app, path, None, "{}").await;
        let message = assert_error(
            res,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        )
        .await;
        assert!(
            message.starts_with("Content-Type is required."),
            "{message}"
        );
    }
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn json_with_a_charset_parameter_is_json() {
    let (app, user, _) = app_with_a_user().await;

    let res = post(
        &app,
        SIGN_IN,
        Some("Application/JSON; charset=utf-8"),
        json!({ "email": user.email, "password": PASSWORD }).to_string(),
    )
    .await;

    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let (app, user, before) = app_with_a_user().await;
    let padding = "x".repeat(1 << 20);
    let big = json!({ "email": user.email, "password": PASSWORD, "name": padding }).to_string();

    for path in POSTS {
        let res = post(&app, path, Some("application/json"), big.clone()).await;
        assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    }
    let form = format!("email=a%40b.test&password=x&name={padding}");
    let res = post(
        &app,
        SIGN_UP,
        Some("application/x-www-form-urlencoded"),
        form,
    )
    .await;
    assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE").await;
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn bodies_just_under_one_mebibyte_are_read() {
    let (app, user, _) = app_with_a_user().await;
    // a large but legal body: the unknown field is simply ignored
    let mut body = json!({ "email": user.email, "password": PASSWORD });
    let overhead = body.to_string().len() + r#","junk":"""#.len();
    body["junk"] = json!("x".repeat((1 << 20) - overhead));
    assert_eq!(body.to_string().len(), 1 << 20);

    let res = post_json(&app, SIGN_IN, &body).await;

    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn bodies_that_are_not_objects_are_validation_errors() {
    let (app, _, before) = app_with_a_user().await;

    for path in POSTS {
        for body in [
            "[]",
            "\"email\"",
            "42",
            "true",
            "null",
            "[{\"email\":\"a@b.test\"}]",
        ] {
            let res = post(&app, path, Some("application/json"), body).await;
            let message = assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
            assert!(
                message.starts_with("[body] Invalid input: expected object"),
                "{body}: {message}"
            );
        }
    }
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn wrong_field_types_are_validation_errors_naming_the_field() {
    let (app, user, before) = app_with_a_user().await;
    let email = user.email.as_str();
    let cases = [
        (
            SIGN_UP,
            json!({ "name": 1, "email": "n@example.com", "password": PASSWORD }),
            "[body.name] Invalid input: expected string, received number",
        ),
        (
            SIGN_UP,
            json!({ "name": "n", "email": true, "password": PASSWORD }),
            "[body.email] Invalid input: expected string, received boolean",
        ),
        (
            SIGN_UP,
            json!({ "name": "n", "email": "n@example.com", "password": ["a"] }),
            "[body.password] Invalid input: expected string, received array",
        ),
        (
            SIGN_UP,
            json!({ "name": "n", "email": "n@example.com", "password": PASSWORD, "image": 5 }),
            "[body.image] Invalid input: expected string, received number",
        ),
        (
            SIGN_UP,
            json!({ "name": "n", "email": "n@example.com", "password": PASSWORD, "rememberMe": "no" }),
            "[body.rememberMe] Invalid input: expected boolean, received string",
        ),
        (
            SIGN_UP,
            json!({ "name": {"first": "n"}, "email": "n@example.com", "password": PASSWORD }),
            "[body.name] Invalid input: expected string, received object",
        ),
        (
            SIGN_IN,
            json!({ "email": 5, "password": PASSWORD }),
            "[body.email] Invalid input: expected string, received number",
        ),
        (
            SIGN_IN,
            json!({ "email": email, "password": null }),
            "[body.password] Invalid input: expected string, received null",
        ),
        (
            SIGN_IN,
            json!({ "email": email, "password": PASSWORD, "rememberMe": "false" }),
            "[body.rememberMe] Invalid input: expected boolean, received string",
        ),
        (
            SIGN_IN,
            json!({ "email": email, "password": PASSWORD, "callbackURL": 1 }),
            "[body.callbackURL] Invalid input: expected string, received number",
        ),
        (
            SIGN_OUT,
            json!({ "callbackURL": ["/"] }),
            "[body.callbackURL] Invalid input: expected string, received array",
        ),
    ];

    for (path, body, message) in cases {
        let res = post_json(&app, path, &body).await;
        assert_error_exact(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message).await;
    }
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn missing_fields_are_validation_errors() {
    let (app, _, before) = app_with_a_user().await;
    let cases = [
        (SIGN_UP, json!({}), "[body.name]"),
        (
            SIGN_UP,
            json!({ "name": "n", "password": PASSWORD }),
            "[body.email]",
        ),
        (
            SIGN_UP,
            json!({ "name": "n", "email": "n@example.com" }),
            "[body.password]",
        ),
        (SIGN_IN, json!({}), "[body.email]"),
        (SIGN_IN, json!({ "password": PASSWORD }), "[body.email]"),
    ];

    for (path, body, field) in cases {
        let res = post_json(&app, path, &body).await;
        let message = assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
        assert_eq!(
            message,
            format!("{field} Invalid input: expected string, received undefined")
        );
    }
    // an empty body is an empty object
    for path in [SIGN_UP, SIGN_IN] {
        let res = post(&app, path, Some("application/json"), "").await;
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    }
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn empty_strings_are_refused_with_the_fitting_code() {
    let (app, user, before) = app_with_a_user().await;

    let res = post_json(
        &app,
        SIGN_UP,
        &json!({ "name": "n", "email": "", "password": PASSWORD }),
    )
    .await;
    assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    let res = post_json(
        &app,
        SIGN_UP,
        &json!({ "name": "n", "email": "e@example.com", "password": "" }),
    )
    .await;
    assert_error(res, StatusCode::BAD_REQUEST, "PASSWORD_TOO_SHORT").await;
    let res = post_json(&app, SIGN_IN, &json!({ "email": "", "password": PASSWORD })).await;
    assert_error(res, StatusCode::BAD_REQUEST, "INVALID_EMAIL").await;
    let res = post_json(
        &app,
        SIGN_IN,
        &json!({ "email": user.email, "password": "" }),
    )
    .await;
    assert_error(res, StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD").await;
    let res = post(
        &app,
        SIGN_UP,
        Some("application/x-www-form-urlencoded"),
        "name=&email=&password=",
    )
    .await;
    assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn very_long_emails_and_passwords_are_refused_cleanly() {
    let (app, user, before) = app_with_a_user().await;
    let long_local = format!("{}@example.com", "a".repeat(100_000));
    let long_domain = format!("a@{}.com", "b".repeat(100_000));
    let long_password = "p".repeat(100_000);

    for email in [&long_local, &long_domain] {
        let res = post_json(
            &app,
            SIGN_UP,
            &json!({ "name": "n", "email": email, "password": PASSWORD }),
        )
        .await;
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
        let res = post_json(
            &app,
            SIGN_IN,
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;
        assert_error(res, StatusCode::BAD_REQUEST, "INVALID_EMAIL").await;
    }
    let res = post_json(
        &app,
        SIGN_UP,
        &json!({ "name": "n", "email": "l@example.com", "password": long_password }),
    )
    .await;
    assert_error(res, StatusCode::BAD_REQUEST, "PASSWORD_TOO_LONG").await;
    let res = post_json(
        &app,
        SIGN_IN,
        &json!({ "email": user.email, "password": long_password }),
    )
    .await;
    assert_error(res, StatusCode::BAD_REQUEST, "PASSWORD_TOO_LONG").await;
    let res = post_json(
        &app,
        SIGN_UP,
        &json!({ "name": "n".repeat(100_000), "email": "l@example.com", "password": PASSWORD }),
    )
    .await;
    assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn sql_looking_emails_are_refused_and_the_tables_survive() {
    let (app, _, before) = app_with_a_user().await;

    for email in [
        "' OR '1'='1@example.com",
        "existing@example.com' --",
        "existing@example.com'; DROP TABLE users; --",
        "a@example.com\" OR \"\"=\"",
        "%@example.com",
        "_@%.com",
    ] {
        let res = post_json(
            &app,
            SIGN_IN,
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;
        assert!(
            matches!(
                res.status(),
                StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED
            ),
            "{email}: {}",
            res.status()
        );
        assert!(set_cookies(&res).is_empty(), "{email} signed nobody in");
        let res = post_json(
            &app,
            SIGN_UP,
            &json!({ "name": "n", "email": email, "password": PASSWORD }),
        )
        .await;
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    }
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn sql_looking_and_unicode_names_are_stored_verbatim() {
    let app = spawn_app().await;

    for name in [
        "Robert'); DROP TABLE users;--",
        "Zoë 🦀 李小龍",
        "\u{202e}txt.exe",
        "' OR 1=1 --",
    ] {
        let res = post_json(
            &app,
            SIGN_UP,
            &json!({ "name": name, "email": unique_email(), "password": PASSWORD }),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let user = session_of(res, name, PASSWORD).await;
        let session = app.session_json(&user.by_bearer()).await;
        assert_eq!(session["user"]["name"], name);
    }
    assert_eq!(app.count("users").await, 4);
}

#[tokio::test]
async fn names_with_control_characters_are_refused() {
    let app = spawn_app().await;

    for name in ["a\u{0}b", "line\nbreak", "bell\u{7}"] {
        let res = post_json(
            &app,
            SIGN_UP,
            &json!({ "name": name, "email": unique_email(), "password": PASSWORD }),
        )
        .await;
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    }
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn unicode_and_lookalike_emails_are_refused_not_normalised_into_other_accounts() {
    let (app, _, before) = app_with_a_user().await;

    for email in [
        "еxisting@example.com",         // Cyrillic е
        "existing＠example.com",        // full-width at sign
        "exist\u{200b}ing@example.com", // zero-width space
        "existing@exämple.com",
        " existing@example.com",
        "existing@example.com ",
    ] {
        let res = post_json(
            &app,
            SIGN_UP,
            &json!({ "name": "n", "email": email, "password": PASSWORD }),
        )
        .await;
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
        let res = post_json(
            &app,
            SIGN_IN,
            &json!({ "email": email, "password": PASSWORD }),
        )
        .await;
        assert_error(res, StatusCode::BAD_REQUEST, "INVALID_EMAIL").await;
    }
    assert_eq!(app.db_snapshot().await, before);
}

#[tokio::test]
async fn hostile_bodies_never_produce_a_5xx() {
    let (app, user, _) = app_with_a_user().await;
    let values = [
        json!(null),
        json!(""),
        json!(" "),
        json!(0),
        json!(-1.5e308),
        json!(u64::MAX),
        json!([]),
        json!({}),
        json!("\u{0}"),
        json!("\u{fffd}\u{d7ff}"),
        json!("x".repeat(10_000)),
        json!("' OR 1=1 --"),
        json!("../../etc/passwd"),
        json!("<script>alert(1)</script>"),
        json!("%00%0d%0a"),
        json!(user.email),
    ];
    let fields = [
        "name",
        "email",
        "password",
        "image",
        "callbackURL",
        "rememberMe",
    ];
    let mut requests = 0;
    for path in POSTS {
        for field in fields {
            for v in &values {
                let mut body =
                    json!({ "name": "n", "email": user.email, "password": "wrong password" });
                body[field] = v.clone();
                let res = post_json(&app, path, &body).await;
                let status = res.status();
                assert!(status.as_u16() < 500, "{path} {body}: {status}");
                if !status.is_success() {
                    let text = res.text().await.unwrap();
                    let e: Value = serde_json::from_str(&text)
                        .unwrap_or_else(|_| panic!("{path} {body}: {text}"));
                    assert!(
                        e["code"].is_string() && e["message"].is_string(),
                        "{path} {body}: {text}"
                    );
                }
                requests += 1;
            }
        }
    }
    assert_eq!(requests, 3 * 6 * 16);
    assert_eq!(
        app.count("users").await,
        1,
        "nothing above could create a user"
    );
}

#[tokio::test]
async fn hostile_headers_never_produce_a_5xx() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let long = "a".repeat(16_000);
    let headers: Vec<(&str, String)> = vec![
        ("cookie", format!("{SESSION_COOKIE}=%")),
        ("cookie", format!("{SESSION_COOKIE}=%ZZ.%ZZ")),
        ("cookie", format!("{SESSION_COOKIE}={long}")),
        ("cookie", format!("{SESSION_COOKIE}=\"")),
        ("cookie", ";;;==;".into()),
        (
            "cookie",
            format!("{DONT_REMEMBER_COOKIE}=%; {}", user.cookie),
        ),
        ("authorization", "Bearer".into()),
        ("authorization", "Bearer ".into()),
        ("authorization", format!("Bearer {long}")),
        ("authorization", "Bearer %E0%A4%A.x".into()),
        ("authorization", format!("Bearer {}.%", user.token)),
        ("x-forwarded-for", "not-an-ip, 300.1.1.1, ::::".into()),
        ("origin", "ftp://x".into()),
        ("referer", "http://[::1".into()),
    ];

    for (name, value) in &headers {
        for (method, path) in [
            (Method::GET, "/api/auth/get-session"),
            (Method::GET, "/api/auth/token"),
            (Method::POST, "/api/auth/sign-out"),
            (
                Method::GET,
                "/api/auth/get-session?disableRefresh=%ZZ&disableRefresh=1",
            ),
        ] {
            let res = app
                .request(method.clone(), path)
                .header("content-type", "application/json")
                .header(*name, value.as_str())
                .body(if method == Method::POST { "{}" } else { "" })
                .send()
                .await
                .unwrap();
            assert!(
                res.status().as_u16() < 500,
                "{method} {path} {name}: {}",
                res.status()
            );
        }
    }
}

#[tokio::test]
async fn get_endpoints_ignore_whatever_body_they_are_sent() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    for path in [
        "/api/auth/get-session",
        "/api/auth/token",
        "/api/auth/jwks",
        "/api/auth/ok",
    ] {
        for (ct, body) in [
            ("application/json", "{not json"),
            ("text/plain", "hello"),
            ("application/x-www-form-urlencoded", "a=%ZZ"),
        ] {
            let res = app
                .request(Method::GET, path)
                .header("cookie", &user.cookie)
                .header("content-type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path} with {ct}");
        }
    }
}
