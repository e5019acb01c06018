//! Passwords (§2.3, §2.4): the length policy in UTF-16 units, NFKC, Argon2id at rest, and
//! Better Auth's scrypt hashes accepted once and upgraded to Argon2id.

use reqwest::StatusCode;
use serde_json::json;
use tessera_store::NewUser;

use crate::helpers::*;

/// The §2.4 vector: Better Auth's scrypt hash of `password123`.
const SCRYPT_PASSWORD123: &str = "f73246da9d0ff4fafec411caba66ee8b:4effeaaa9298d733c08cfcfd9f4d90cc1377a3f4be63b9082f3bed53965e3d6a49fdc3a696f3d252b3cbfa1fb5deb750fde444654ee1fdd5575196ab9ce16c12";

#[tokio::test]
async fn passwords_are_stored_as_argon2id_with_owasp_parameters() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;

    let hash = app.stored_hash(&user.email).await;

    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn a_password_of_seven_characters_is_too_short() {
    let app = spawn_app().await;

    let res = app
        .sign_up(&json!({ "name": "x", "email": unique_email(), "password": "1234567" }))
        .await;

    assert_error_exact(
        res,
        StatusCode::BAD_REQUEST,
        "PASSWORD_TOO_SHORT",
        "Password too short",
    )
    .await;
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn an_empty_password_is_too_short() {
    let app = spawn_app().await;

    let res = app
        .sign_up(&json!({ "name": "x", "email": unique_email(), "password": "" }))
        .await;

    assert_error(res, StatusCode::BAD_REQUEST, "PASSWORD_TOO_SHORT").await;
}

#[tokio::test]
async fn a_password_of_129_characters_is_too_long() {
    let app = spawn_app().await;

    let res = app
        .sign_up(&json!({ "name": "x", "email": unique_email(), "password": "x".repeat(129) }))
        .await;

    assert_error_exact(
        res,
        StatusCode::BAD_REQUEST,
        "PASSWORD_TOO_LONG",
        "Password too long",
    )
    .await;
    assert_eq!(app.count("users").await, 0);
}

#[tokio::test]
async fn passwords_of_8_and_128_characters_are_accepted_and_sign_in() {
    let app = spawn_app().await;

    let long: String = "lantern-harbor-".repeat(9).chars().take(128).collect();
    for password in ["hq7w2mzk".to_owned(), long] {
        let user = app.signed_up_user_with(&unique_email(), &password).await;
        app.signed_in(&user, true).await;
    }
}

#[tokio::test]
async fn length_is_counted_in_utf16_units_like_javascript() {
    let app = spawn_app().await;

    // four emoji are eight UTF-16 units: long enough
    let emoji = app
        .sign_up(&json!({ "name": "x", "email": unique_email(), "password": "🔑🌙🍀🌊" }))
        .await;
    // 65 emoji are 130 units: too long, though only 65 characters
    let too_long = app
        .sign_up(&json!({ "name": "x", "email": unique_email(), "password": "🔑".repeat(65) }))
        .await;

    assert_eq!(emoji.status(), StatusCode::OK);
    assert_error(too_long, StatusCode::BAD_REQUEST, "PASSWORD_TOO_LONG").await;
}

#[tokio::test]
async fn a_password_signed_up_in_nfc_signs_in_in_nfd() {
    let app = spawn_app().await;
    let nfc = "p\u{e4}ssw\u{f6}rd-\u{f1}and\u{fa}";
    let nfd = "pa\u{308}sswo\u{308}rd-n\u{303}andu\u{301}";
    assert_ne!(nfc, nfd);
    let user = app.signed_up_user_with(&unique_email(), nfc).await;

    let res = app
        .sign_in(&json!({ "email": user.email, "password": nfd }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn compatibility_forms_are_folded_by_nfkc() {
    let app = spawn_app().await;
    let user = app
        .signed_up_user_with(&unique_email(), "tulipgarden42")
        .await;

    // full-width letters and digits are NFKC-equivalent to ASCII
    let res = app
        .sign_in(&json!({ "email": user.email, "password": "ｔｕｌｉｐｇａｒｄｅｎ４２" }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_better_auth_scrypt_hash_signs_in_and_is_upgraded_to_argon2id() {
    let app = spawn_app().await;
    app.store()
        .create_user(
            &NewUser {
                id: "ImportedUserImportedUserImported".into(),
                name: "Imported".into(),
                email: "imported@example.com".into(),
                image: None,
                now_ms: app.t0,
            },
            SCRYPT_PASSWORD123,
        )
        .await
        .unwrap();

    let wrong = app
        .sign_in(&json!({ "email": "imported@example.com", "password": "password124" }))
        .await;
    assert_error(wrong, StatusCode::UNAUTHORIZED, "INVALID_EMAIL_OR_PASSWORD").await;
    assert_eq!(
        app.stored_hash("imported@example.com").await,
        SCRYPT_PASSWORD123
    );

    let res = app
        .sign_in(&json!({ "email": "imported@example.com", "password": "password123" }))
        .await;

    assert_eq!(res.status(), StatusCode::OK);
    let hash = app.stored_hash("imported@example.com").await;
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "rehashed: {hash}"
    );
    let again = app
        .sign_in(&json!({ "email": "imported@example.com", "password": "password123" }))
        .await;
    assert_eq!(again.status(), StatusCode::OK, "the new hash works");
    assert_eq!(
        app.stored_hash("imported@example.com").await,
        hash,
        "no second rehash"
    );
}
