//! `GET /api/auth/get-session` (§3.5): the literal `null` without a session, the
//! `{session, user}` shape with one, `no-store`, `set-auth-jwt`, and what is not a session.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn without_a_session_the_body_is_the_literal_null_and_not_cached() {
    let app = spawn_app().await;

    let res = app.get_session(&Who::Anonymous).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    assert_eq!(header(&res, "pragma").as_deref(), Some("no-cache"));
    assert!(header(&res, "set-auth-jwt").is_none());
    assert!(set_cookies(&res).is_empty());
    assert_eq!(res.text().await.unwrap(), "null");
}

#[tokio::test]
async fn with_a_session_cookie_it_returns_session_and_user_in_better_auth_shape() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app.get_session(&user.by_cookie()).await;

    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    assert!(set_cookies(&res).is_empty(), "nothing to refresh yet");
    let body: Value = res.json().await.unwrap();
    assert_eq!(keys(&body), sorted(&["session", "user"]));
    let s = &body["session"];
    assert_eq!(
        keys(s),
        sorted(&[
            "expiresAt",
            "token",
            "createdAt",
            "updatedAt",
            "ipAddress",
            "userAgent",
            "userId",
            "id"
        ])
    );
    assert_eq!(
        s["token"],
        user.token.as_str(),
        "the raw token, not the signed one"
    );
    assert_id(s["id"].as_str().unwrap());
    assert_eq!(s["userId"], user.id.as_str());
    assert_eq!(s["createdAt"], iso(app.t0));
    assert_eq!(s["updatedAt"], iso(app.t0));
    assert_eq!(s["expiresAt"], iso(app.t0 + 7 * 86_400_000));
    assert_eq!(s["ipAddress"], "127.0.0.1");
    assert_eq!(s["userAgent"], USER_AGENT);
    let u = &body["user"];
    assert_eq!(u["id"], user.id.as_str());
    assert_eq!(u["email"], user.email.as_str());
    assert_eq!(
        keys(u),
        sorted(&[
            "name",
            "email",
            "emailVerified",
            "twoFactorEnabled",
            "image",
            "createdAt",
            "updatedAt",
            "id"
        ])
    );
    for t in [
        &s["expiresAt"],
        &s["createdAt"],
        &s["updatedAt"],
        &u["createdAt"],
        &u["updatedAt"],
    ] {
        assert_iso_millis(t.as_str().unwrap());
    }
}

#[tokio::test]
async fn with_a_session_it_sends_a_fresh_jwt_in_set_auth_jwt_and_exposes_it() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let first = app.get_session(&user.by_cookie()).await;
    let second = app.get_session(&user.by_cookie()).await;

    let jwt1 = header(&first, "set-auth-jwt").unwrap();
    let jwt2 = header(&second, "set-auth-jwt").unwrap();
    assert!(header_list(&first, "access-control-expose-headers").contains(&"set-auth-jwt".into()));
    assert_ne!(jwt1, jwt2, "minted on every call");
    assert_eq!(decode_jwt(&jwt1).claims["sub"], user.id.as_str());
}

#[tokio::test]
async fn the_expose_headers_survive_a_cross_origin_request_from_a_trusted_origin() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .request(reqwest::Method::GET, "/api/auth/get-session")
        .header("cookie", &user.cookie)
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();

    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some(ORIGIN)
    );
    assert_eq!(
        header(&res, "access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert!(header_list(&res, "access-control-expose-headers").contains(&"set-auth-jwt".into()));
}

#[tokio::test]
async fn a_cookie_with_a_bad_signature_is_no_session() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let forged_sig = cookie_signature("some-other-secret-0123456789abcdef0123", &user.token);
    let forged = format!(
        "{SESSION_COOKIE}={}",
        encode_uri_component(&format!("{}.{forged_sig}", user.token))
    );
    let unsigned = format!("{SESSION_COOKIE}={}", user.token);

    for cookie in [forged, unsigned] {
        let res = app.get_session(&Who::Cookie(cookie)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap(), "null");
    }
}

#[tokio::test]
async fn a_signed_cookie_for_an_unknown_token_is_no_session() {
    let app = spawn_app().await;
    let token = "DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU";
    let cookie = format!(
        "{SESSION_COOKIE}={}",
        encode_uri_component(&format!("{token}.{}", cookie_signature(SECRET, token)))
    );

    let res = app.get_session(&Who::Cookie(cookie)).await;

    assert_eq!(res.text().await.unwrap(), "null");
}

#[tokio::test]
async fn post_get_session_is_405_defer_session_required() {
    let app = spawn_app().await;

    let res = app
        .request(reqwest::Method::POST, "/api/auth/get-session")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();

    assert_error_exact(
        res,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED",
        "POST method requires deferSessionRefresh to be enabled in session config",
    )
    .await;
}

#[tokio::test]
async fn odd_query_strings_do_not_turn_get_session_into_an_error() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    for query in [
        "disableRefresh=true&disableRefresh=false",
        "disableCookieCache=true",
        "disableRefresh[]=1",
        "unknown=1&x",
        "%ZZ=%ZZ",
        "disableRefresh",
    ] {
        let res = app.get_session_with_query(&user.by_cookie(), query).await;
        assert_eq!(res.status(), StatusCode::OK, "?{query}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["user"]["id"], user.id.as_str(), "?{query}");
    }
}

#[tokio::test]
async fn the_session_records_the_socket_peer_not_a_claimed_forwarded_address() {
    let app = spawn_app().await;
    let res = app
        .request(reqwest::Method::POST, "/api/auth/sign-up/email")
        .header("content-type", "application/json")
        .header("x-forwarded-for", "203.0.113.7")
        .body(
            serde_json::json!({ "name": "n", "email": unique_email(), "password": PASSWORD })
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let user = session_of(res, "n", PASSWORD).await;

    let session = app.session_json(&user.by_bearer()).await;

    assert_eq!(session["session"]["ipAddress"], "127.0.0.1");
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_session_records_the_forwarded_client() {
    let app =
        spawn_app_with(|s| s.http.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()]).await;
    let res = app
        .request(reqwest::Method::POST, "/api/auth/sign-up/email")
        .header("content-type", "application/json")
        .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
        .body(
            serde_json::json!({ "name": "n", "email": unique_email(), "password": PASSWORD })
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let user = session_of(res, "n", PASSWORD).await;

    let session = app.session_json(&user.by_bearer()).await;

    assert_eq!(
        session["session"]["ipAddress"], "203.0.113.7",
        "the hop our proxy appended"
    );
}
