//! Passkeys (Better Auth's `passkey` plugin, `/api/auth/passkey/*`): registration from a
//! fresh session, discoverable sign-in, list/rename/delete, user verification and the second
//! factor, and the attacks of group W in docs/attack-suite.md. The authenticator is
//! `tessera_testkit::webauthn` (written from the WebAuthn specification, independent of the
//! server's verifier); Chromium's virtual authenticator drives the same routes in
//! e2e/browser and e2e/interop.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tessera_store::UserId;
use tessera_testkit::webauthn::{Ceremony, SoftPasskey};

use crate::helpers::*;

const P: &str = "/api/auth/passkey";

/// A browser with a fresh session and the user behind it.
async fn signed_up(app: &TestApp) -> (Browser, String) {
    let browser = app.browser();
    let res = browser
        .sign_up(&json!({ "name": "Pat", "email": unique_email(), "password": PASSWORD }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    (browser, body["user"]["id"].as_str().unwrap().to_owned())
}

async fn get_json(browser: &Browser, path: &str) -> (StatusCode, Value) {
    let res = browser.get_path(path).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn post(browser: &Browser, path: &str, body: &Value) -> (StatusCode, Value) {
    let res = browser.post_json(path, body).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn register_options(browser: &Browser) -> Value {
    let (status, options) = get_json(browser, &format!("{P}/generate-register-options")).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    options
}

/// Registers a device-bound passkey (user verification on) for the browser's user.
async fn register(browser: &Browser) -> (SoftPasskey, Value) {
    let options = register_options(browser).await;
    let (passkey, response) = SoftPasskey::register(&options, &Ceremony::on(ORIGIN));
    let (status, row) = post(
        browser,
        &format!("{P}/verify-registration"),
        &json!({ "response": response, "name": "Laptop" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{row}");
    (passkey, row)
}

async fn sign_in_options(browser: &Browser) -> Value {
    let (status, options) = get_json(browser, &format!("{P}/generate-authenticate-options")).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    options
}

/// A fresh browser's passkey sign-in; returns it with the answer.
async fn sign_in(
    app: &TestApp,
    passkey: &mut SoftPasskey,
    ceremony: &Ceremony,
) -> (Browser, StatusCode, Value) {
    let browser = app.browser();
    let options = sign_in_options(&browser).await;
    let response = passkey.assert(&options, ceremony);
    let (status, body) = post(
        &browser,
        &format!("{P}/verify-authentication"),
        &json!({ "response": response }),
    )
    .await;
    (browser, status, body)
}

/// The value of the ceremony cookie a response sets.
fn set_cookie_value(res: &reqwest::Response, name: &str) -> Option<String> {
    set_cookies(res).into_iter().find_map(|c| {
        cookie_pair(&c)
            .strip_prefix(&format!("{name}="))
            .map(str::to_owned)
    })
}

async fn amr_of(browser: &Browser) -> Value {
    let (status, body) = get_json(browser, "/api/auth/two-factor/status").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["amr"].clone()
}

async fn turn_on_two_factor(app: &TestApp, user_id: &str) {
    let store = app.store();
    assert!(
        store
            .begin_two_factor(UserId(user_id), "sealed", &[], app.t0)
            .await
            .unwrap()
    );
    assert!(
        store
            .accept_totp_step(UserId(user_id), 1, app.t0)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn register_then_sign_in_without_typing_an_email() {
    let app = spawn_app().await;
    let (browser, user_id) = signed_up(&app).await;
    let options = register_options(&browser).await;
    // the bare options Better Auth's client hands to SimpleWebAuthn
    assert_eq!(options["rp"]["id"], "localhost");
    assert!(options.get("publicKey").is_none(), "{options}");
    assert_eq!(
        options["authenticatorSelection"]["residentKey"], "required",
        "{options}"
    );
    assert!(options["challenge"].as_str().unwrap().len() >= 43);
    let (mut passkey, response) = SoftPasskey::register(&options, &Ceremony::on(ORIGIN));
    let (status, row) = post(
        &browser,
        &format!("{P}/verify-registration"),
        &json!({ "response": response, "name": "Laptop" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(row["userId"], user_id.as_str());
    assert_eq!(row["name"], "Laptop");
    assert_eq!(row["credentialID"], passkey.id());
    assert_eq!(row["deviceType"], "singleDevice");
    assert_eq!(row["transports"], "internal");
    // Better Auth's storage: the COSE key in standard base64
    use base64::Engine as _;
    let cose = base64::engine::general_purpose::STANDARD
        .decode(row["publicKey"].as_str().unwrap())
        .unwrap();
    assert_eq!(cose, passkey.cose_public_key());

    let (fresh, status, body) = sign_in(&app, &mut passkey, &Ceremony::on(ORIGIN)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["id"], user_id.as_str());
    assert!(body["token"].is_string());
    assert_eq!(amr_of(&fresh).await, json!(["hwk", "user", "mfa"]));
    let stored = app
        .store()
        .passkeys_of(UserId(&user_id))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(stored.counter, 1);
    assert!(stored.last_used_at.is_some());
}

#[tokio::test]
async fn list_rename_and_delete_reach_only_the_owners_passkeys() {
    let app = spawn_app().await;
    let (alice, _) = signed_up(&app).await;
    let (_, row) = register(&alice).await;
    let id = row["id"].as_str().unwrap();
    let (status, list) = get_json(&alice, &format!("{P}/list-user-passkeys")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id);

    // Mallory, signed in as herself, names Alice's passkey
    let (mallory, _) = signed_up(&app).await;
    let (status, body) = post(
        &mallory,
        &format!("{P}/update-passkey"),
        &json!({ "id": id, "name": "mine" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "PASSKEY_NOT_FOUND");
    let (status, body) = post(
        &mallory,
        &format!("{P}/delete-passkey"),
        &json!({ "id": id }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (_, list) = get_json(&mallory, &format!("{P}/list-user-passkeys")).await;
    assert_eq!(list, json!([]));

    let (status, body) = post(
        &alice,
        &format!("{P}/update-passkey"),
        &json!({ "id": id, "name": "  Work laptop " }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["passkey"]["name"], "Work laptop");
    for bad in [
        json!({ "id": id, "name": "" }),
        json!({ "id": id, "name": "x".repeat(101) }),
        json!({ "id": id, "name": 7 }),
        json!({ "id": id, "name": "a\u{0}b" }),
    ] {
        let (status, body) = post(&alice, &format!("{P}/update-passkey"), &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} {body}");
    }
    let (status, body) = post(&alice, &format!("{P}/delete-passkey"), &json!({ "id": id })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({ "status": true }));
    let (_, list) = get_json(&alice, &format!("{P}/list-user-passkeys")).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn registration_needs_a_fresh_session_and_ends_with_the_ceremony() {
    let app = spawn_app().await;
    let (browser, _) = signed_up(&app).await;
    let res = app
        .browser()
        .get_path(&format!("{P}/generate-register-options"))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.clock.advance(std::time::Duration::from_secs(16 * 60));
    let (status, body) = get_json(&browser, &format!("{P}/generate-register-options")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "SESSION_NOT_FRESH");
}

#[tokio::test]
async fn without_user_verification_the_second_factor_still_applies() {
    let app = spawn_app().await;
    let (browser, user_id) = signed_up(&app).await;
    let (mut passkey, _) = register(&browser).await;
    // no two-factor: a passkey without UV is one factor
    let (fresh, status, body) =
        sign_in(&app, &mut passkey, &Ceremony::on(ORIGIN).without_uv()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(amr_of(&fresh).await, json!(["hwk"]));

    turn_on_two_factor(&app, &user_id).await;
    let (fresh, status, body) =
        sign_in(&app, &mut passkey, &Ceremony::on(ORIGIN).without_uv()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["twoFactorRedirect"], true, "{body}");
    assert!(body.get("token").is_none());
    assert_eq!(
        fresh.get_session().await.json::<Value>().await.unwrap(),
        Value::Null
    );
    // with UV the passkey is both factors
    let (fresh, status, body) = sign_in(&app, &mut passkey, &Ceremony::on(ORIGIN)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["token"].is_string(), "{body}");
    assert_eq!(amr_of(&fresh).await, json!(["hwk", "user", "mfa"]));
}

#[tokio::test]
async fn a_wrong_origin_is_refused_even_when_the_request_names_it() {
    let app = spawn_app().await;
    let (browser, _) = signed_up(&app).await;
    // registration: client data from another origin
    let options = register_options(&browser).await;
    let (_, response) = SoftPasskey::register(&options, &Ceremony::on("http://127.0.0.1:3999"));
    let (status, body) = post(
        &browser,
        &format!("{P}/verify-registration"),
        &json!({ "response": response }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "FAILED_TO_VERIFY_REGISTRATION");

    let (mut passkey, _) = register(&browser).await;
    let (_, status, body) =
        sign_in(&app, &mut passkey, &Ceremony::on("https://evil.example")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "AUTHENTICATION_FAILED");
    // the phishing page's own Origin header does not make its origin acceptable
    let phished = app.browser();
    let options = sign_in_options(&phished).await;
    let response = passkey.assert(&options, &Ceremony::on("https://evil.example"));
    let res = phished
        .client
        .post(app.url(&format!("{P}/verify-authentication")))
        .header("origin", "https://evil.example")
        .json(&json!({ "response": response }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(
        app.store()
            .passkey_by_credential_id(&passkey.id())
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .is_none()
    );
}

#[tokio::test]
async fn a_wrong_rp_id_is_refused() {
    let app = spawn_app().await;
    let (browser, _) = signed_up(&app).await;
    let options = register_options(&browser).await;
    let mut evil = Ceremony::on(ORIGIN);
    evil.rp_id = Some("evil.example".into());
    let (_, response) = SoftPasskey::register(&options, &evil);
    let (status, body) = post(
        &browser,
        &format!("{P}/verify-registration"),
        &json!({ "response": response }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (mut passkey, _) = register(&browser).await;
    let (_, status, body) = sign_in(&app, &mut passkey, &evil).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "AUTHENTICATION_FAILED");
}

#[tokio::test]
async fn a_challenge_is_used_once() {
    let app = spawn_app().await;
    let (browser, _) = signed_up(&app).await;
    let (mut passkey, _) = register(&browser).await;
    let fresh = app.browser();
    let options = sign_in_options(&fresh).await;
    let response = passkey.assert(&options, &Ceremony::on(ORIGIN));
    let (status, _) = post(
        &fresh,
        &format!("{P}/verify-authentication"),
        &json!({ "response": response }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // the same assertion again, with the same cookie (the client kept it)
    let again = app.browser();
    let cookie = {
        let res = again
            .get_path(&format!("{P}/generate-authenticate-options"))
            .await;
        set_cookie_value(&res, "better-auth.better-auth-passkey").unwrap()
    };
    let replay = |cookie: String| {
        let response = response.clone();
        let app = &app;
        async move {
            app.request(reqwest::Method::POST, &format!("{P}/verify-authentication"))
                .header("origin", ORIGIN)
                .header(
                    "cookie",
                    format!("better-auth.better-auth-passkey={cookie}"),
                )
                .json(&json!({ "response": response }))
                .send()
                .await
                .unwrap()
        }
    };
    // a new ceremony's cookie with the old assertion: the challenge differs
    let res = replay(cookie.clone()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // and that ceremony is gone now too
    let res = replay(cookie).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "CHALLENGE_NOT_FOUND"
    );
    // the original browser's cookie was expired by the answer; resent by hand it finds nothing
    let res = fresh
        .post_json(
            &format!("{P}/verify-authentication"),
            &json!({ "response": response }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_registration_challenge_does_not_authenticate() {
    let app = spawn_app().await;
    let (browser, _) = signed_up(&app).await;
    let (mut passkey, _) = register(&browser).await;
    // begin a registration, answer it with an assertion
    let options = register_options(&browser).await;
    let response = passkey.assert(
        &json!({ "challenge": options["challenge"], "rpId": "localhost" }),
        &Ceremony::on(ORIGIN),
    );
    let (status, body) = post(
        &browser,
        &format!("{P}/verify-authentication"),
        &json!({ "response": response }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "CHALLENGE_NOT_FOUND");
    // an assertion whose client data says it is a creation
    let mut create = Ceremony::on(ORIGIN);
    create.client_type = Some("webauthn.create".into());
    let (_, status, body) = sign_in(&app, &mut passkey, &create).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // and an authentication ceremony does not register
    let options = sign_in_options(&browser).await;
    let (_, response) = SoftPasskey::register(
        &json!({ "challenge": options["challenge"], "rp": { "id": "localhost" }, "user": { "id": "dQ" } }),
        &Ceremony::on(ORIGIN),
    );
    let (status, body) = post(
        &browser,
        &format!("{P}/verify-registration"),
        &json!({ "response": response }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "CHALLENGE_NOT_FOUND");
}

#[tokio::test]
async fn another_users_credential_or_ceremony_gets_nothing() {
    let app = spawn_app().await;
    let (alice, alice_id) = signed_up(&app).await;
    let (alice_key, _) = register(&alice).await;
    let (mallory, _) = signed_up(&app).await;
    let (mut mallory_key, _) = register(&mallory).await;
    // Mallory signs with her key under Alice's credential id
    mallory_key.credential_id = alice_key.credential_id.clone();
    let (_, status, body) = sign_in(&app, &mut mallory_key, &Ceremony::on(ORIGIN)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["code"], "AUTHENTICATION_FAILED");
    // Mallory finishes a registration Alice began (she holds Alice's ceremony cookie)
    let res = alice
        .get_path(&format!("{P}/generate-register-options"))
        .await;
    let cookie = set_cookie_value(&res, "better-auth.better-auth-passkey").unwrap();
    let options: Value = res.json().await.unwrap();
    let (_, response) = SoftPasskey::register(&options, &Ceremony::on(ORIGIN));
    let mallory_session = app.signed_up_user().await;
    let res = app
        .request(reqwest::Method::POST, &format!("{P}/verify-registration"))
        .header("origin", ORIGIN)
        .header(
            "cookie",
            format!(
                "better-auth.better-auth-passkey={cookie}; {}",
                mallory_session.cookie
            ),
        )
        .json(&json!({ "response": response }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["code"],
        "YOU_ARE_NOT_ALLOWED_TO_REGISTER_THIS_PASSKEY"
    );
    assert_eq!(
        app.store()
            .passkeys_of(UserId(&alice_id))
            .await
            .unwrap()
            .len(),
        1
    );
    // a credential registered to Alice cannot be registered again by anyone
    let options = register_options(&mallory).await;
    let response = alice_key.attest(&options, &Ceremony::on(ORIGIN));
    let (status, body) = post(
        &mallory,
        &format!("{P}/verify-registration"),
        &json!({ "response": response }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn a_device_bound_counter_that_does_not_increase_is_refused() {
    let app = spawn_app().await;
    let (browser, _) = signed_up(&app).await;
    let (mut passkey, _) = register(&browser).await;
    let (_, status, _) = sign_in(&app, &mut passkey, &Ceremony::on(ORIGIN)).await;
    assert_eq!(status, StatusCode::OK);
    // a clone replays counter 1 (and then 0)
    for counter in [1, 0] {
        let fresh = app.browser();
        let options = sign_in_options(&fresh).await;
        let response = passkey.assert_with_counter(&options, &Ceremony::on(ORIGIN), counter);
        let (status, body) = post(
            &fresh,
            &format!("{P}/verify-authentication"),
            &json!({ "response": response }),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "counter {counter}: {body}"
        );
        assert_eq!(body["code"], "AUTHENTICATION_FAILED");
    }
    let (_, status, _) = sign_in(&app, &mut passkey, &Ceremony::on(ORIGIN)).await;
    assert_eq!(status, StatusCode::OK, "the genuine authenticator goes on");

    // a synced passkey keeps no counter (always 0) and is not refused for it
    let options = register_options(&browser).await;
    let (mut synced, response) = SoftPasskey::register_synced(&options, &Ceremony::on(ORIGIN));
    let (status, row) = post(
        &browser,
        &format!("{P}/verify-registration"),
        &json!({ "response": response }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{row}");
    assert_eq!(row["deviceType"], "multiDevice");
    assert_eq!(row["backedUp"], true);
    for _ in 0..2 {
        let (_, status, body) = sign_in(&app, &mut synced, &Ceremony::on(ORIGIN)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let app = spawn_app().await;
    let (browser, _) = signed_up(&app).await;
    let (mut passkey, _) = register(&browser).await;
    let fresh = app.browser();
    let options = sign_in_options(&fresh).await;
    app.clock
        .advance(std::time::Duration::from_secs(5 * 60 + 1));
    let response = passkey.assert(&options, &Ceremony::on(ORIGIN));
    let (status, body) = post(
        &fresh,
        &format!("{P}/verify-authentication"),
        &json!({ "response": response }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "CHALLENGE_NOT_FOUND");
}

#[tokio::test]
async fn a_ceremony_begun_on_one_instance_finishes_on_another() {
    let first = spawn_app().await;
    let url = first.settings.database.database_url.clone();
    let second = spawn_app_with(|s| s.database.database_url = url).await;
    let user = first.signed_up_user().await;
    let session = user.cookie.clone();
    // registration: options from the first instance, verification on the second
    let res = first
        .request(
            reqwest::Method::GET,
            &format!("{P}/generate-register-options"),
        )
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let cookie = set_cookie_value(&res, "better-auth.better-auth-passkey").unwrap();
    let options: Value = res.json().await.unwrap();
    let (mut passkey, response) = SoftPasskey::register(&options, &Ceremony::on(ORIGIN));
    let res = second
        .request(reqwest::Method::POST, &format!("{P}/verify-registration"))
        .header("origin", ORIGIN)
        .header(
            "cookie",
            format!("better-auth.better-auth-passkey={cookie}; {session}"),
        )
        .json(&json!({ "response": response }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // sign-in: options from the second, verification on the first, then once only
    let res = second
        .browser()
        .get_path(&format!("{P}/generate-authenticate-options"))
        .await;
    let cookie = set_cookie_value(&res, "better-auth.better-auth-passkey").unwrap();
    let options: Value = res.json().await.unwrap();
    let response = passkey.assert(&options, &Ceremony::on(ORIGIN));
    for (app, expected) in [(&first, StatusCode::OK), (&second, StatusCode::BAD_REQUEST)] {
        let res = app
            .request(reqwest::Method::POST, &format!("{P}/verify-authentication"))
            .header("origin", ORIGIN)
            .header(
                "cookie",
                format!("better-auth.better-auth-passkey={cookie}"),
            )
            .json(&json!({ "response": response }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), expected);
    }
}

#[tokio::test]
async fn hostile_bodies_get_clear_client_errors() {
    let app = spawn_app().await;
    let (browser, _) = signed_up(&app).await;
    let _ = register_options(&browser).await;
    for body in [
        json!({}),
        json!({ "response": "x" }),
        json!({ "response": {} }),
        json!({ "response": { "id": "AA", "rawId": "!!", "type": "public-key", "response": {} } }),
        json!({ "response": { "id": "AA", "rawId": "AA", "type": "public-key", "response": { "clientDataJSON": "AA", "attestationObject": "AA" } } }),
        json!({ "response": [1, 2] }),
    ] {
        for path in ["verify-registration", "verify-authentication"] {
            let (status, reply) = post(&browser, &format!("{P}/{path}"), &body).await;
            assert!(status.is_client_error(), "{path} {body}: {status} {reply}");
            assert!(reply["code"].is_string(), "{reply}");
        }
    }
    let (status, _) = get_json(
        &browser,
        &format!("{P}/generate-register-options?authenticatorAttachment=toaster"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn anonymous_ceremonies_take_from_the_sign_in_quota() {
    let app = spawn_app_with(|s| {
        s.security.rate_limits =
            tessera_server::http::rate_limit::RateLimits::parse("sign-in=3/1m").unwrap();
    })
    .await;
    let browser = app.browser();
    for _ in 0..3 {
        let (status, _) = get_json(&browser, &format!("{P}/generate-authenticate-options")).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = get_json(&browser, &format!("{P}/generate-authenticate-options")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}
