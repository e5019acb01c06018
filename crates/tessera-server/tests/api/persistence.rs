//! Restarts on the same database file: users, sessions and signing keys survive; a server
//! started with another secret refuses to run rather than sign with keys it cannot open.

use reqwest::StatusCode;
use serde_json::json;
use tessera_server::StartError;

use crate::helpers::*;

#[tokio::test]
async fn users_sessions_and_signing_keys_survive_a_restart() {
    let mut app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwks_before = jwks_json(&app).await;

    app.restart().await;

    let res = app
        .sign_in(&json!({ "email": user.email, "password": user.password }))
        .await;
    assert_eq!(res.status(), StatusCode::OK, "sign in after the restart");
    assert_eq!(
        app.session_json(&user.by_cookie()).await["user"]["id"],
        user.id.as_str(),
        "the session from before the restart is still valid"
    );
    let jwks_after = jwks_json(&app).await;
    assert_eq!(jwks_before, jwks_after, "the same signing key");
    let token = app.access_token(&user.by_bearer()).await;
    assert!(verifies_with_jwks(&token, &jwks_before));
}

#[tokio::test]
async fn a_sign_out_before_a_restart_stays_signed_out() {
    let mut app = spawn_app().await;
    let user = app.signed_up_user().await;
    app.sign_out(&user.by_cookie()).await;

    app.restart().await;

    assert_eq!(
        app.session_json(&user.by_cookie()).await,
        serde_json::Value::Null
    );
}

#[tokio::test]
async fn a_restart_with_another_secret_refuses_to_start() {
    let mut app = spawn_app().await;
    app.signed_up_user().await;

    let result = app
        .restart_with(|s| {
            s.tokens.secret = b"a-different-secret-0123456789abcdef0123456789"
                .to_vec()
                .into();
        })
        .await;

    assert!(
        matches!(result, Err(StartError::Keys(_))),
        "the signing key cannot be decrypted: {:?}",
        result.err()
    );
}

#[tokio::test]
async fn a_locked_database_answers_503_not_500_and_writes_nothing() {
    let app =
        spawn_app_with(|s| s.database.db_timeout = std::time::Duration::from_millis(300)).await;
    let user = app.signed_up_user().await;
    let before = app.db_snapshot().await;
    // another writer holds the write lock
    if !app.stores_in_sqlite_file() {
        return; // reads the SQLite file itself; the SQL that writes it is shared with PostgreSQL
    }
    let db = app.db().await;
    let mut lock = db.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *lock)
        .await
        .unwrap();

    let sign_up = app
        .sign_up(&json!({ "name": "n", "email": unique_email(), "password": PASSWORD }))
        .await;
    let retry_after = header(&sign_up, "retry-after");
    assert_error(
        sign_up,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    assert!(retry_after.is_some());
    let sign_in = app
        .sign_in(&json!({ "email": user.email, "password": user.password }))
        .await;
    assert_error(
        sign_in,
        StatusCode::SERVICE_UNAVAILABLE,
        "SERVICE_UNAVAILABLE",
    )
    .await;
    // reads still work under WAL
    assert_eq!(
        app.session_json(&user.by_cookie()).await["user"]["id"],
        user.id.as_str()
    );

    sqlx::query("ROLLBACK").execute(&mut *lock).await.unwrap();
    drop(lock);
    db.close().await;
    assert_eq!(app.db_snapshot().await, before);
}
