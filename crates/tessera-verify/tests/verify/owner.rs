use http::StatusCode;
use serde_json::json;

use crate::support::*;

const FORBIDDEN_BODY: &str = r#"{"message":"Forbidden","code":"FORBIDDEN"}"#;

#[tokio::test]
async fn own_collection_is_200() {
    let app = app(hs_verifier());
    let reply = get_with_token(&app, &tasks_path(A_ID), &hs_token(A_ID)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.contains(CANARY));
    // Other parameters on the route do not confuse the guard.
    let reply = get_with_token(&app, &format!("/api/{A_ID}/tasks/42"), &hs_token(A_ID)).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn b1_b8_another_users_collection_is_403_identical_for_existing_and_unknown_users() {
    let app = app(hs_verifier());
    let token = hs_token(A_ID);
    let existing = get_with_token(&app, &tasks_path(B_ID), &token).await;
    let unknown =
        get_with_token(&app, &tasks_path(&format!("usr_{}", random_hex(8))), &token).await;
    let nested = get_with_token(&app, &format!("/api/{B_ID}/tasks/1"), &token).await;
    for reply in [&existing, &unknown, &nested] {
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert_eq!(reply.body, FORBIDDEN_BODY);
        assert_eq!(reply.challenge(), None);
        reply.assert_no_data();
    }
    assert_eq!(existing.body.as_bytes(), unknown.body.as_bytes());
    assert_eq!(existing.headers, unknown.headers);
}

#[tokio::test]
async fn b4_path_oddities_never_open_another_users_data() {
    let app = app(hs_verifier());
    let token = hs_token(A_ID);
    let encoded_b: String = B_ID.bytes().map(|b| format!("%{b:02X}")).collect();
    let paths = [
        format!("/api/{B_ID}/tasks/"),
        "/api//tasks".to_string(),
        format!("/api/{A_ID}/../{B_ID}/tasks"),
        format!("/api/{A_ID}%2f..%2f{B_ID}/tasks"),
        format!("/api/{A_ID}%2F..%2F{B_ID}/tasks"),
        format!("/api/{encoded_b}/tasks"),
        format!("/api/{}/tasks", B_ID.to_uppercase()),
        format!("/api/{}/tasks", A_ID.to_uppercase()),
        format!("/api/{}/tasks", A_ID.to_lowercase()),
        format!("/API/{B_ID}/tasks"),
        format!("/api/{A_ID}%20/tasks"),
        format!("/api/%20{A_ID}/tasks"),
        format!("/api/{A_ID}%00/tasks"),
    ];
    for path in paths {
        let reply = get_with_token(&app, &path, &token).await;
        assert!(reply.status.is_client_error(), "{path}: {reply:?}");
        reply.assert_no_data();
    }
}

#[tokio::test]
async fn b5_hostile_user_ids_are_403_not_5xx() {
    let app = app(hs_verifier());
    let token = hs_token(A_ID);
    let long = "a".repeat(10 * 1024);
    for user_id in [
        "'%20OR%201=1--",
        "*",
        "%00",
        "%FF",
        "%C0%AF",
        "%2e%2e",
        "..",
        long.as_str(),
    ] {
        let reply = get_with_token(&app, &tasks_path(user_id), &token).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{user_id:.40}: {reply:?}"
        );
        assert_eq!(reply.body, FORBIDDEN_BODY);
    }
}

#[tokio::test]
async fn unauthenticated_requests_get_401_before_any_path_check() {
    let app = app(hs_verifier());
    for path in [tasks_path(A_ID), tasks_path(B_ID), tasks_path("%FF")] {
        let reply = send(&app, &path, &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.challenge(), Some("Bearer"));
        reply.assert_no_data();
    }
}

#[tokio::test]
async fn a36_subject_comparison_is_exact() {
    let verifier = hs_verifier();
    let app = app(verifier);
    let homoglyph = A_ID.replacen('A', "\u{0410}", 1); // Cyrillic capital A
    for sub in [
        format!(" {A_ID}"),
        format!("{A_ID} "),
        A_ID.to_uppercase(),
        A_ID.to_lowercase(),
        homoglyph,
    ] {
        let token = mint(
            &hs_header(),
            &claims_with(&json!({"sub": sub})),
            &hs_signer(),
        );
        let reply = get_with_token(&app, &tasks_path(A_ID), &token).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{sub:?}");
        reply.assert_no_data();
    }
    // Numeric sub against a numeric-looking route id.
    let token = mint(
        &hs_header(),
        &claims_with(&json!({"sub": 123})),
        &hs_signer(),
    );
    let reply = get_with_token(&app, &tasks_path("123"), &token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    reply.assert_no_data();
}

#[tokio::test]
async fn auth_user_and_maybe_auth_user() {
    let app = app(hs_verifier());
    let token = hs_token(A_ID);
    let reply = get_with_token(&app, "/me", &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.starts_with(A_ID));
    let reply = send(&app, "/me", &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let reply = send(&app, "/maybe", &[]).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "anonymous")
    );
    let reply = send(&app, "/maybe", &[b"Basic dTpw"]).await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "anonymous")
    );
    let reply = get_with_token(&app, "/maybe", &token).await;
    assert!(reply.body.starts_with(A_ID));
    // A bad token is an error, not "anonymous".
    let reply = get_with_token(&app, "/maybe", &token.replace('.', ".x")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    reply.assert_no_data();
}

#[tokio::test]
async fn owner_guard_on_a_route_without_user_id_is_500_not_a_pass() {
    let app = app(hs_verifier());
    let reply = get_with_token(&app, &format!("/misrouted/{A_ID}"), &hs_token(A_ID)).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    reply.assert_no_data();
}
