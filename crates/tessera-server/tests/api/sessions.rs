//! Session lifetimes (§3.4) driven by the manual clock: seven days sliding once a day,
//! `rememberMe: false` for one day without sliding (also when presented as a Bearer token),
//! expiry, and how tokens are kept at rest (only their SHA-256 digest).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const SECOND: std::time::Duration = std::time::Duration::from_secs(1);

#[tokio::test]
async fn a_session_used_after_a_day_slides_to_seven_days_from_now_and_resends_the_cookie() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    app.clock.advance(DAY + SECOND);
    let now = app.t0 + 86_401_000;

    let res = app.get_session(&user.by_cookie()).await;

    assert_eq!(res.status(), StatusCode::OK);
    let signed = format!("{}.{}", user.token, cookie_signature(SECRET, &user.token));
    assert_eq!(
        set_cookies(&res),
        [format!(
            "better-auth.session_token={}; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax",
            encode_uri_component(&signed)
        )]
    );
    assert_eq!(header(&res, "set-auth-token"), Some(signed));
    let expose = header_list(&res, "access-control-expose-headers");
    assert!(expose.contains(&"set-auth-token".into()) && expose.contains(&"set-auth-jwt".into()));
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-store"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["session"]["expiresAt"], iso(now + 7 * 86_400_000));
    assert_eq!(body["session"]["updatedAt"], iso(now));
    assert_eq!(body["session"]["createdAt"], iso(app.t0));
}

#[tokio::test]
async fn a_session_slides_at_most_once_a_day() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    app.clock.advance(DAY + SECOND);
    let slid = app.get_session(&user.by_cookie()).await;
    assert_eq!(set_cookies(&slid).len(), 1);

    app.clock.advance(DAY - 2 * SECOND);
    let res = app.get_session(&user.by_cookie()).await;

    assert!(
        set_cookies(&res).is_empty(),
        "less than a day since the last extension"
    );
    assert!(header(&res, "set-auth-token").is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["session"]["expiresAt"],
        iso(app.t0 + 86_401_000 + 7 * 86_400_000)
    );
}

#[tokio::test]
async fn a_session_younger_than_a_day_is_not_extended() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    app.clock.advance(DAY - SECOND);

    let res = app.get_session(&user.by_cookie()).await;

    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["session"]["expiresAt"], iso(app.t0 + 7 * 86_400_000));
}

#[tokio::test]
async fn a_session_used_by_bearer_slides_too() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    app.clock.advance(DAY + SECOND);

    let res = app.get_session(&user.by_bearer()).await;

    assert_eq!(
        header(&res, "set-auth-token"),
        Some(user.signed_token.clone())
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["session"]["expiresAt"],
        iso(app.t0 + 86_401_000 + 7 * 86_400_000)
    );
}

#[tokio::test]
async fn disable_refresh_leaves_the_expiry_alone() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    app.clock.advance(DAY + SECOND);

    let res = app
        .get_session_with_query(&user.by_cookie(), "disableRefresh=true")
        .await;

    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["session"]["expiresAt"], iso(app.t0 + 7 * 86_400_000));
}

#[tokio::test]
async fn an_unused_session_expires_after_seven_days_and_its_cookies_are_cleared() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    app.clock.advance(7 * DAY);

    let res = app.get_session(&user.by_cookie()).await;

    assert_eq!(res.status(), StatusCode::OK);
    let cleared = set_cookies(&res);
    assert_eq!(cleared.len(), 3, "{cleared:?}");
    assert!(cleared.iter().all(|c| c.contains("=; Max-Age=0; Path=/")));
    assert_eq!(res.text().await.unwrap(), "null");
    assert_error(
        app.token(&user.by_bearer()).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
    )
    .await;
}

#[tokio::test]
async fn remember_me_false_gives_a_one_day_session_a_browser_session_cookie_and_dont_remember() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let res = app
        .sign_in(&json!({ "email": user.email, "password": user.password, "rememberMe": false }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let signed = format!("{token}.{}", cookie_signature(SECRET, token));
    assert_eq!(
        cookies,
        [
            format!(
                "better-auth.session_token={}; Path=/; HttpOnly; SameSite=Lax",
                encode_uri_component(&signed)
            ),
            "better-auth.dont_remember=true.i8K8lWmm43%2FqItRtT9GUzE75WMaFyDz4cMBHK5qe4nM%3D; Path=/; HttpOnly; SameSite=Lax"
                .to_owned(),
        ],
        "no Max-Age on either cookie"
    );
    let session = app.session_json(&Who::Bearer(token.to_owned())).await;
    assert_eq!(session["session"]["expiresAt"], iso(app.t0 + 86_400_000));
}

#[tokio::test]
async fn sign_up_with_remember_me_false_is_short_lived_too() {
    let app = spawn_app().await;

    let res = app
        .sign_up(&json!({ "name": "S", "email": unique_email(), "password": PASSWORD, "rememberMe": false }))
        .await;

    let cookies = set_cookies(&res);
    assert_eq!(cookies.len(), 2);
    assert!(!cookies[0].contains("Max-Age"));
    assert!(cookies[1].starts_with("better-auth.dont_remember=true."));
    let body: Value = res.json().await.unwrap();
    let session = app
        .session_json(&Who::Bearer(body["token"].as_str().unwrap().to_owned()))
        .await;
    assert_eq!(session["session"]["expiresAt"], iso(app.t0 + 86_400_000));
}

#[tokio::test]
async fn a_remember_me_false_session_with_its_cookies_is_never_extended() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let res = app
        .sign_in(&json!({ "email": user.email, "password": user.password, "rememberMe": false }))
        .await;
    let cookie_header = set_cookies(&res)
        .iter()
        .map(|c| cookie_pair(c))
        .collect::<Vec<_>>()
        .join("; ");
    app.clock.advance(DAY / 2);

    let res = app.get_session(&Who::Cookie(cookie_header)).await;

    assert!(set_cookies(&res).is_empty());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["session"]["expiresAt"], iso(app.t0 + 86_400_000));
}

#[tokio::test]
async fn a_remember_me_false_session_used_by_bearer_is_not_extended_and_ends_after_a_day() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let res = app
        .sign_in(&json!({ "email": user.email, "password": user.password, "rememberMe": false }))
        .await;
    let signed = header(&res, "set-auth-token").unwrap();
    let bearer = Who::Bearer(signed);

    // Better Auth would silently upgrade this session to seven days here (§3.4 quirk);
    // Tessera keeps the user's choice.
    app.clock.advance(DAY / 2);
    let res = app.get_session(&bearer).await;
    assert!(set_cookies(&res).is_empty());
    assert!(header(&res, "set-auth-token").is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["session"]["expiresAt"], iso(app.t0 + 86_400_000));

    app.clock.advance(DAY / 2);
    assert_eq!(app.session_json(&bearer).await, Value::Null);
}

#[tokio::test]
async fn only_the_sha256_digest_of_a_session_token_is_stored() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    if !app.stores_in_sqlite_file() {
        return; // reads the SQLite file itself; the SQL that writes it is shared with PostgreSQL
    }
    let db = app.db().await;
    let rows: Vec<(String,)> = sqlx::query_as("SELECT token_digest FROM sessions")
        .fetch_all(&db)
        .await
        .unwrap();
    db.close().await;

    assert_eq!(rows, [(sha256_hex(&user.token),)]);
    let bytes = app.db_file_bytes();
    let found = bytes
        .windows(user.token.len())
        .any(|w| w == user.token.as_bytes());
    assert!(
        !found,
        "the raw token appears nowhere in the database files"
    );
}

#[tokio::test]
async fn a_session_used_every_day_still_ends_at_the_absolute_lifetime() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let max = app.settings.sessions.session_max_lifetime;
    let days = max.as_secs() / 86_400;

    for day in 1..days {
        app.clock.advance(DAY);
        let session = app.session_json(&user.by_cookie()).await;
        assert_eq!(session["user"]["id"], user.id.as_str(), "day {day}");
        let expires = session["session"]["expiresAt"].as_str().unwrap().to_owned();
        assert!(
            expires <= iso(app.t0 + i64::try_from(max.as_millis()).unwrap()),
            "day {day}: {expires}"
        );
    }
    app.clock.advance(DAY);

    assert_eq!(app.session_json(&user.by_cookie()).await, Value::Null);
}
