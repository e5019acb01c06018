//! The protected tasks API (`/api/{user_id}/tasks…`): CRUD, validation, and the security
//! checklist's groups A (token checks, as seen over HTTP) and B (route identity). Every
//! refusal also asserts that none of the protected data is in the body.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const CANARY: &str = "canary-task-of-bob";

/// Two users with one task each; Bob's task title is the canary.
struct World {
    app: TestApp,
    alice: TestUser,
    alice_jwt: String,
    bob: TestUser,
    bob_jwt: String,
    bob_task: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let alice = app.signed_up_user().await;
    let bob = app.signed_up_user().await;
    let alice_jwt = app.access_token(&alice.by_bearer()).await;
    let bob_jwt = app.access_token(&bob.by_bearer()).await;
    let res = call(
        &app,
        Method::POST,
        &format!("/api/{}/tasks", bob.id),
        &bob_jwt,
        Some(json!({"title": CANARY})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let bob_task = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    World {
        app,
        alice,
        alice_jwt,
        bob,
        bob_jwt,
        bob_task,
    }
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    jwt: &str,
    body: Option<Value>,
) -> Response {
    let mut rb = app
        .request(method, path)
        .header("authorization", format!("Bearer {jwt}"));
    if let Some(b) = body {
        rb = rb
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    rb.send().await.unwrap()
}

/// Asserts a refusal with this status and no trace of Bob's data.
async fn refused(res: Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status);
    let text = res.text().await.unwrap();
    assert!(!text.contains(CANARY), "protected data leaked: {text}");
    text
}

async fn bobs_titles(w: &World) -> Vec<String> {
    let res = call(
        &w.app,
        Method::GET,
        &format!("/api/{}/tasks", w.bob.id),
        &w.bob_jwt,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let list: Vec<Value> = res.json().await.unwrap();
    list.iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_user_creates_reads_updates_completes_and_deletes_tasks() {
    let w = world().await;
    let base = format!("/api/{}/tasks", w.alice.id);
    let res = call(
        &w.app,
        Method::POST,
        &base,
        &w.alice_jwt,
        Some(json!({"title": "  Buy milk ", "description": "2 litres"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let task: Value = res.json().await.unwrap();
    assert_eq!(
        sorted(&[
            "id",
            "userId",
            "title",
            "description",
            "completed",
            "createdAt",
            "updatedAt"
        ]),
        keys(&task)
    );
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["userId"], w.alice.id.as_str());
    assert_eq!(task["completed"], false);
    assert_iso_millis(task["createdAt"].as_str().unwrap());
    let id = task["id"].as_str().unwrap();
    assert_id(id);

    w.app.clock.advance(std::time::Duration::from_secs(1));
    let res = call(
        &w.app,
        Method::POST,
        &base,
        &w.alice_jwt,
        Some(json!({"title": "Second"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let list: Vec<Value> = call(&w.app, Method::GET, &base, &w.alice_jwt, None)
        .await
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = list.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Buy milk", "Second"], "oldest first");

    let one = format!("{base}/{id}");
    let got: Value = call(&w.app, Method::GET, &one, &w.alice_jwt, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["description"], "2 litres");
    let updated: Value = call(
        &w.app,
        Method::PUT,
        &one,
        &w.alice_jwt,
        Some(json!({"title": "Buy oat milk", "completed": true})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (updated["title"].as_str(), updated["completed"].as_bool()),
        (Some("Buy oat milk"), Some(true))
    );
    assert_eq!(
        updated["description"], "2 litres",
        "fields not sent stay as they were"
    );
    let toggled: Value = call(
        &w.app,
        Method::PATCH,
        &format!("{one}/complete"),
        &w.alice_jwt,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(toggled["completed"], false);
    let toggled: Value = call(
        &w.app,
        Method::PATCH,
        &format!("{one}/complete"),
        &w.alice_jwt,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(toggled["completed"], true);
    assert_eq!(
        call(&w.app, Method::DELETE, &one, &w.alice_jwt, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        call(&w.app, Method::GET, &one, &w.alice_jwt, None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        call(&w.app, Method::DELETE, &one, &w.alice_jwt, None).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn invalid_task_fields_are_400_in_the_envelope_and_store_nothing() {
    let w = world().await;
    let base = format!("/api/{}/tasks", w.alice.id);
    for body in [
        json!({}),
        json!({"title": ""}),
        json!({"title": "   "}),
        json!({"title": "x".repeat(201)}),
        json!({"title": 42}),
        json!({"title": null}),
        json!({"title": "ok", "description": "d".repeat(2001)}),
        json!({"title": "ok", "description": 7}),
        json!({"title": "nul\u{0}byte"}),
        json!(["not", "an", "object"]),
    ] {
        let res = call(
            &w.app,
            Method::POST,
            &base,
            &w.alice_jwt,
            Some(body.clone()),
        )
        .await;
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    }
    let malformed = w
        .app
        .request(Method::POST, &base)
        .bearer_auth(&w.alice_jwt)
        .header("content-type", "application/json")
        .body("{\"title\":")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let text = w
        .app
        .request(Method::POST, &base)
        .bearer_auth(&w.alice_jwt)
        .header("content-type", "text/plain")
        .body("{\"title\":\"x\"}")
        .send()
        .await
        .unwrap();
    assert_error(
        text,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    let huge = format!("{{\"title\":\"{}\"}}", "x".repeat(1 << 20));
    let big = w
        .app
        .request(Method::POST, &base)
        .bearer_auth(&w.alice_jwt)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let empty_update = call(
        &w.app,
        Method::PUT,
        &format!("{base}/{}", "a".repeat(32)),
        &w.alice_jwt,
        Some(json!({"userId": "x"})),
    )
    .await;
    assert_error(empty_update, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    // SQL-looking titles are data, stored literally
    let sql = "'); DROP TABLE tasks;--";
    let res = call(
        &w.app,
        Method::POST,
        &base,
        &w.alice_jwt,
        Some(json!({"title": sql})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let list: Vec<Value> = call(&w.app, Method::GET, &base, &w.alice_jwt, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["title"], sql);
    assert_eq!(bobs_titles(&w).await, [CANARY]);
}

#[tokio::test]
async fn paging_is_bounded_and_bad_numbers_are_400() {
    let w = world().await;
    let base = format!("/api/{}/tasks", w.alice.id);
    for i in 0..5 {
        w.app.clock.advance(std::time::Duration::from_millis(10));
        call(
            &w.app,
            Method::POST,
            &base,
            &w.alice_jwt,
            Some(json!({"title": format!("t{i}")})),
        )
        .await;
    }
    let page: Vec<Value> = call(
        &w.app,
        Method::GET,
        &format!("{base}?limit=2&offset=1"),
        &w.alice_jwt,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    let titles: Vec<&str> = page.iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["t1", "t2"]);
    for q in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=abc",
        "limit=1e309",
        "limit=0.5",
        "offset=-1",
        "offset=18446744073709551616",
        "limit=1&limit=2",
    ] {
        let res = call(
            &w.app,
            Method::GET,
            &format!("{base}?{q}"),
            &w.alice_jwt,
            None,
        )
        .await;
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR").await;
    }
    // B10: a filter for everyone's rows is just ignored
    let mine: Vec<Value> = call(
        &w.app,
        Method::GET,
        &format!("{base}?owner=*&limit=100"),
        &w.alice_jwt,
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(mine.len(), 5);
}

#[tokio::test]
async fn another_users_collection_is_403_with_the_same_body_whether_or_not_they_exist() {
    let w = world().await;
    let theirs = refused(
        call(
            &w.app,
            Method::GET,
            &format!("/api/{}/tasks", w.bob.id),
            &w.alice_jwt,
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let nobody = refused(
        call(
            &w.app,
            Method::GET,
            &format!("/api/{}/tasks", "Zz".repeat(16)),
            &w.alice_jwt,
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(theirs, nobody, "B8: no existence oracle");
    let body: Value = serde_json::from_str(&theirs).unwrap();
    assert_eq!(body["code"], "FORBIDDEN");
}

#[tokio::test]
async fn writes_to_another_users_path_are_refused_and_change_nothing() {
    let w = world().await;
    let theirs = format!("/api/{}/tasks", w.bob.id);
    let one = format!("{theirs}/{}", w.bob_task);
    refused(
        call(
            &w.app,
            Method::POST,
            &theirs,
            &w.alice_jwt,
            Some(json!({"title": "x"})),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    refused(
        call(
            &w.app,
            Method::PUT,
            &one,
            &w.alice_jwt,
            Some(json!({"title": "pwned"})),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    refused(
        call(
            &w.app,
            Method::PATCH,
            &format!("{one}/complete"),
            &w.alice_jwt,
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    refused(
        call(&w.app, Method::DELETE, &one, &w.alice_jwt, None).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(bobs_titles(&w).await, [CANARY]);
}

#[tokio::test]
async fn another_users_task_id_under_your_own_path_is_404() {
    let w = world().await;
    let one = format!("/api/{}/tasks/{}", w.alice.id, w.bob_task);
    refused(
        call(&w.app, Method::GET, &one, &w.alice_jwt, None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    refused(
        call(
            &w.app,
            Method::PUT,
            &one,
            &w.alice_jwt,
            Some(json!({"title": "pwned"})),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    refused(
        call(
            &w.app,
            Method::PATCH,
            &format!("{one}/complete"),
            &w.alice_jwt,
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    refused(
        call(&w.app, Method::DELETE, &one, &w.alice_jwt, None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(bobs_titles(&w).await, [CANARY]);
    let res = call(
        &w.app,
        Method::GET,
        &format!("/api/{}/tasks/{}", w.bob.id, w.bob_task),
        &w.bob_jwt,
        None,
    )
    .await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["completed"],
        false,
        "Bob's task untouched"
    );
}

#[tokio::test]
async fn owner_fields_in_bodies_queries_and_headers_are_ignored() {
    let w = world().await;
    let base = format!("/api/{}/tasks", w.alice.id);
    let res = w
        .app
        .request(Method::POST, &base)
        .bearer_auth(&w.alice_jwt)
        .header("x-user-id", &w.bob.id)
        .json(&json!({"title": "mine", "user_id": w.bob.id, "userId": w.bob.id, "owner_id": w.bob.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["userId"],
        w.alice.id.as_str()
    );
    assert_eq!(bobs_titles(&w).await, [CANARY], "B sees nothing new");
    let list = call(
        &w.app,
        Method::GET,
        &format!("{base}?user_id={}", w.bob.id),
        &w.alice_jwt,
        None,
    )
    .await;
    let text = refused(list, StatusCode::OK).await;
    assert!(text.contains("mine"));
}

#[tokio::test]
async fn path_tricks_never_reach_another_users_data_or_a_5xx() {
    let w = world().await;
    let a = &w.alice.id;
    let b = &w.bob.id;
    let long = "x".repeat(10_000);
    let paths = [
        format!("/api/{b}/tasks/"),
        "/api//tasks".to_owned(),
        format!("/api/{a}/../{b}/tasks"),
        format!("/api/{a}%2f..%2f{b}/tasks"),
        format!("/api/{}/tasks", b.to_uppercase()),
        format!("/API/{b}/tasks"),
        "/api/'%20OR%201=1--/tasks".to_owned(),
        "/api/*/tasks".to_owned(),
        "/api/%00/tasks".to_owned(),
        "/api/%ff%fe/tasks".to_owned(),
        format!("/api/{long}/tasks"),
        format!("/api/{a}/tasks/{}", "%2e%2e"),
        format!("/api/{a}/tasks/'%20OR%201=1"),
    ];
    for p in &paths {
        let res = call(&w.app, Method::GET, p, &w.alice_jwt, None).await;
        let status = res.status();
        assert!(
            !status.is_server_error() && status != StatusCode::OK,
            "{p}: {status}"
        );
        refused(res, status).await;
    }
}

#[tokio::test]
async fn missing_or_non_bearer_credentials_are_401_without_an_error_attribute() {
    let w = world().await;
    let path = format!("/api/{}/tasks", w.bob.id);
    for auth in [
        None,
        Some("Basic dTpw".to_owned()),
        Some(format!("Token {}", w.bob_jwt)),
        Some(w.bob_jwt.clone()),
    ] {
        let mut rb = w.app.request(Method::GET, &path);
        if let Some(v) = auth {
            rb = rb.header("authorization", v);
        }
        let res = rb.send().await.unwrap();
        assert_eq!(header(&res, "www-authenticate").as_deref(), Some("Bearer"));
        refused(res, StatusCode::UNAUTHORIZED).await;
    }
    // a token in the query string is never read
    let res = w
        .app
        .request(Method::GET, &format!("{path}?access_token={}", w.bob_jwt))
        .send()
        .await
        .unwrap();
    refused(res, StatusCode::UNAUTHORIZED).await;
    // HEAD still needs a token
    let res = w.app.request(Method::HEAD, &path).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

fn b64(v: &Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn forged_tampered_and_expired_tokens_are_401_invalid_token() {
    let w = world().await;
    let path = format!("/api/{}/tasks", w.bob.id);
    let parts: Vec<&str> = w.bob_jwt.split('.').collect();
    let mut claims = decode_jwt(&w.bob_jwt).claims;
    claims["email"] = json!("mallory@x.test");
    let forged = [
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            parts[1]
        ),
        format!("{}.{}.{}", b64(&json!({"alg": "none"})), parts[1], parts[2]),
        format!("{}.{}.", parts[0], parts[1]),
        format!("{}.{}.{}", parts[0], b64(&claims), parts[2]),
        format!(
            "{}.{}.{}",
            parts[0],
            parts[1],
            &parts[2][..parts[2].len() - 4]
        ),
        "abc".to_owned(),
        "a.b.c.d".to_owned(),
        format!("{}=", w.bob_jwt),
        w.bob.token.clone(),
    ];
    for t in &forged {
        let res = call(&w.app, Method::GET, &path, t, None).await;
        assert_eq!(
            header(&res, "www-authenticate").as_deref(),
            Some("Bearer error=\"invalid_token\""),
            "{t}"
        );
        refused(res, StatusCode::UNAUTHORIZED).await;
    }
    // expired: past exp (15 min) plus the 30 s leeway
    w.app
        .clock
        .advance(std::time::Duration::from_secs(15 * 60 + 31));
    refused(
        call(&w.app, Method::GET, &path, &w.bob_jwt, None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn tokens_from_another_deployment_are_refused() {
    let w = world().await;
    let other = spawn_app_with(|s| {
        s.tokens.secret = b"another-deployment-secret-0123456789abcdef"
            .to_vec()
            .into();
    })
    .await;
    let stranger = other.signed_up_user().await;
    let foreign = other.access_token(&stranger.by_bearer()).await;
    let res = call(
        &w.app,
        Method::GET,
        &format!("/api/{}/tasks", stranger.id),
        &foreign,
        None,
    )
    .await;
    refused(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_signed_out_sessions_access_token_stops_working_at_once() {
    let w = world().await;
    let path = format!("/api/{}/tasks", w.bob.id);
    assert_eq!(
        call(&w.app, Method::GET, &path, &w.bob_jwt, None)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        w.app.sign_out(&w.bob.by_bearer()).await.status(),
        StatusCode::OK
    );
    let res = call(&w.app, Method::GET, &path, &w.bob_jwt, None).await;
    assert_eq!(
        header(&res, "www-authenticate").as_deref(),
        Some("Bearer error=\"invalid_token\"")
    );
    refused(res, StatusCode::UNAUTHORIZED).await;
}
