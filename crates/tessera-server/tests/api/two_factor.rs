//! Two-factor authentication (Better Auth's `twoFactor` plugin, `/api/auth/two-factor/*`):
//! enrolment, the sign-in challenge and where it is enforced, TOTP and backup codes each
//! accepted once, the challenge's limits and the lockout, trusted devices, `amr` in access
//! tokens and the tasks API's MFA-only route. Codes are computed with `tessera_core::Totp`
//! on the server's (manual) clock; the RFC 6238 vectors are its unit tests, and e2e/interop
//! checks codes from an independent implementation (npm `otpauth`).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tessera_core::Totp;
use tessera_store::UserId;

use crate::helpers::*;

const TWO_FACTOR_COOKIE: &str = "better-auth.two_factor";
const TRUST_COOKIE: &str = "better-auth.trust_device";

/// RFC 4648 base32 (no padding) back to bytes.
fn base32_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {s}"),
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The TOTP key in an `otpauth://` URI.
fn totp_of(uri: &str) -> Totp {
    let secret = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .expect("a secret parameter");
    Totp::from_bytes(base32_decode(secret))
}

/// A user enrolled in two-factor through the API.
pub(crate) struct Enrolled {
    pub(crate) user: TestUser,
    pub(crate) totp: Totp,
    pub(crate) backup_codes: Vec<String>,
    /// The browser that enrolled (now holding a two-factor session).
    pub(crate) browser: Browser,
}

impl TestApp {
    fn now_secs(&self) -> i64 {
        use tessera_core::Clock as _;
        self.clock.now_ms() / 1000
    }

    /// The six-digit code of `totp` now, by the server's clock.
    pub(crate) fn code(&self, totp: &Totp) -> String {
        totp.code_at(self.now_secs())
    }

    /// Moves the clock to the next TOTP step (a fresh code).
    fn next_step(&self) {
        self.clock.advance(std::time::Duration::from_secs(30));
    }

    /// Signs a user up in a browser, enrols TOTP and confirms it.
    pub(crate) async fn enrolled_user(&self) -> Enrolled {
        let browser = self.browser();
        let email = unique_email();
        let res = browser
            .sign_up(&json!({ "name": "Two Factor", "email": email, "password": PASSWORD }))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let user = session_of(res, "Two Factor", PASSWORD).await;
        let res = browser
            .post_json(
                "/api/auth/two-factor/enable",
                &json!({ "password": PASSWORD }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "enable");
        let body: Value = res.json().await.unwrap();
        let totp = totp_of(body["totpURI"].as_str().unwrap());
        let backup_codes: Vec<String> = body["backupCodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        let res = browser
            .post_json(
                "/api/auth/two-factor/verify-totp",
                &json!({ "code": self.code(&totp) }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "confirm the enrolment");
        self.next_step();
        Enrolled {
            user,
            totp,
            backup_codes,
            browser,
        }
    }

    /// Signs in with the password in a fresh browser; returns it with the response body.
    async fn first_factor(&self, user: &TestUser) -> (Browser, Value) {
        let browser = self.browser();
        let res = browser
            .sign_in(&json!({ "email": user.email, "password": user.password }))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "first factor");
        (browser, res.json().await.unwrap())
    }
}

async fn verify(browser: &Browser, what: &str, body: Value) -> (StatusCode, Value) {
    let res = browser
        .post_json(&format!("/api/auth/two-factor/{what}"), &body)
        .await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn access_claims(browser: &Browser) -> Value {
    let res = browser.token().await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    decode_jwt(body["token"].as_str().unwrap()).claims
}

// ------------------------------------------------------------------ enrolment

#[tokio::test]
async fn enabling_needs_the_password_and_a_valid_code_before_sign_in_is_challenged() {
    let app = spawn_app().await;
    let browser = app.browser();
    let email = unique_email();
    let res = browser
        .sign_up(&json!({ "name": "A", "email": email, "password": PASSWORD }))
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["twoFactorEnabled"], false);

    let (status, body) = verify(&browser, "enable", json!({ "password": "wrong password" })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("INVALID_PASSWORD"))
    );

    let res = browser
        .post_json(
            "/api/auth/two-factor/enable",
            &json!({ "password": PASSWORD, "issuer": "My App" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let uri = body["totpURI"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/My%20App:"), "{uri}");
    assert!(uri.contains("&issuer=My%20App&digits=6&period=30"), "{uri}");
    let totp = totp_of(uri);
    assert_eq!(totp.key().len(), 20, "160-bit key");
    assert!(body["totpQR"].as_str().unwrap().contains("<svg"));
    let codes = body["backupCodes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);

    // Not on yet: a sign-in is not challenged until a code confirms the enrolment.
    let (_, signed_in) = app
        .first_factor(&TestUser {
            email: email.clone(),
            password: PASSWORD.into(),
            ..test_user()
        })
        .await;
    assert!(signed_in["token"].is_string(), "{signed_in}");

    let (status, body) = verify(&browser, "verify-totp", json!({ "code": "000000" })).await;
    if totp.matching_step("000000", app.now_secs()).is_none() {
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("INVALID_CODE"))
        );
    }
    let (status, body) = verify(&browser, "verify-totp", json!({ "code": app.code(&totp) })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["twoFactorEnabled"], true);
    let session: Value = browser.get_session().await.json().await.unwrap();
    assert_eq!(session["user"]["twoFactorEnabled"], true);

    let (_, challenged) = app
        .first_factor(&TestUser {
            email,
            password: PASSWORD.into(),
            ..test_user()
        })
        .await;
    assert_eq!(
        challenged,
        json!({ "twoFactorRedirect": true, "twoFactorMethods": ["totp"] })
    );
}

fn test_user() -> TestUser {
    TestUser {
        id: String::new(),
        name: String::new(),
        email: String::new(),
        password: String::new(),
        token: String::new(),
        signed_token: String::new(),
        cookie: String::new(),
    }
}

#[tokio::test]
async fn enabling_twice_is_refused_and_the_key_is_encrypted_at_rest() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let (status, body) = verify(&e.browser, "enable", json!({ "password": PASSWORD })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "TOTP_ALREADY_ENABLED");

    let row = app
        .store()
        .two_factor(UserId(&e.user.id))
        .await
        .unwrap()
        .unwrap();
    assert!(row.secret.starts_with("v1."), "sealed");
    assert!(!row.secret.contains(&e.totp.base32()));
    for code in &e.backup_codes {
        let canonical = code.replace('-', "");
        assert_eq!(
            app.count_where("backup_codes", &format!("code_digest LIKE '%{canonical}%'"))
                .await,
            0
        );
    }
    assert_eq!(
        app.count_where("backup_codes", "code_digest <> ''").await,
        10
    );
}

// ------------------------------------------------------------------ the challenge

#[tokio::test]
async fn sign_in_with_two_factor_gives_a_challenge_and_no_session() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let sessions_before = app.count("sessions").await;
    let res = app
        .sign_in(&json!({ "email": e.user.email, "password": PASSWORD }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(&res);
    assert!(header(&res, "set-auth-token").is_none());
    let challenge = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{TWO_FACTOR_COOKIE}=")))
        .expect("the challenge cookie");
    assert!(challenge.contains("Max-Age=600"), "{challenge}");
    assert!(challenge.contains("HttpOnly"));
    assert!(
        cookies
            .iter()
            .filter(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
            .all(|c| c.contains("Max-Age=0")),
        "no session cookie: {cookies:?}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "twoFactorRedirect": true, "twoFactorMethods": ["totp"] })
    );
    assert_eq!(
        app.count("sessions").await,
        sessions_before,
        "no session row"
    );
    assert_eq!(app.count("two_factor_challenges").await, 1);
}

#[tokio::test]
async fn the_challenge_finishes_with_a_totp_code_into_a_session_whose_tokens_say_mfa() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let (browser, _) = app.first_factor(&e.user).await;
    // Nothing is signed in yet.
    assert_eq!(
        browser.get_session().await.json::<Value>().await.unwrap(),
        Value::Null
    );
    let (status, body) = verify(
        &browser,
        "verify-totp",
        json!({ "code": app.code(&e.totp) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["token"].is_string());
    assert_eq!(body["user"]["id"], e.user.id.as_str());
    let claims = access_claims(&browser).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(claims["auth_time"], json!(app.now_secs()));
    assert_eq!(claims["sub"], e.user.id.as_str());
}

#[tokio::test]
async fn a_password_only_session_has_amr_pwd() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let jwt = app.access_token(&user.by_cookie()).await;
    let claims = decode_jwt(&jwt).claims;
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert!(claims["auth_time"].as_i64().unwrap() <= app.now_secs());
}

#[tokio::test]
async fn a_refresh_grant_sign_in_is_challenged_too_and_finishes_as_a_refresh_grant() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let browser = app.browser();
    let res = browser
        .sign_in(&json!({ "email": e.user.email, "password": PASSWORD, "refreshToken": true }))
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["twoFactorRedirect"], true, "{body}");
    assert!(body.get("access_token").is_none() && body.get("refresh_token").is_none());
    let (status, body) = verify(
        &browser,
        "verify-totp",
        json!({ "code": app.code(&e.totp) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["refresh_token"].as_str().unwrap().starts_with("tsr_"));
    assert_eq!(body["token"], Value::Null);
    let claims = decode_jwt(body["access_token"].as_str().unwrap()).claims;
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
}

#[tokio::test]
async fn a_form_encoded_sign_in_is_challenged_too() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let res = app
        .request(Method::POST, "/api/auth/sign-in/email")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "email={}&password={}",
            encode_uri_component(&e.user.email),
            encode_uri_component(PASSWORD)
        ))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["twoFactorRedirect"], true, "{body}");
}

// ------------------------------------------------------------------ attacks

#[tokio::test]
async fn a_totp_code_is_accepted_once() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let code = app.code(&e.totp);
    let (first, _) = app.first_factor(&e.user).await;
    assert_eq!(
        verify(&first, "verify-totp", json!({ "code": code }))
            .await
            .0,
        StatusCode::OK
    );
    // The same code, within its window, in another sign-in: refused (Better Auth #10387).
    let (second, _) = app.first_factor(&e.user).await;
    let (status, body) = verify(&second, "verify-totp", json!({ "code": code })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_CODE"))
    );
    // An older code (the previous step, still inside ±30 s) is refused as well.
    let older = e.totp.code_at(app.now_secs() - 30);
    let (status, _) = verify(&second, "verify-totp", json!({ "code": older })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The next step's code works.
    app.next_step();
    let (status, _) = verify(&second, "verify-totp", json!({ "code": app.code(&e.totp) })).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_totp_code_is_accepted_once_across_two_instances_on_one_database() {
    let app = spawn_app().await;
    let url = app.settings.database.database_url.clone();
    let other = spawn_app_with(|s| s.database.database_url = url).await;
    let e = app.enrolled_user().await;
    // The other instance's clock reads the same step.
    let code = app.code(&e.totp);
    let (first, _) = app.first_factor(&e.user).await;
    let (second, _) = other.first_factor(&e.user).await;
    assert_eq!(
        verify(&first, "verify-totp", json!({ "code": code }))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = verify(&second, "verify-totp", json!({ "code": code })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_CODE"))
    );
}

#[tokio::test]
async fn codes_thirty_seconds_off_are_accepted_and_sixty_are_not() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let (browser, _) = app.first_factor(&e.user).await;
    let too_old = e.totp.code_at(app.now_secs() - 60);
    let too_new = e.totp.code_at(app.now_secs() + 60);
    for code in [too_old, too_new] {
        assert_eq!(
            verify(&browser, "verify-totp", json!({ "code": code }))
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    let ahead = e.totp.code_at(app.now_secs() + 30);
    assert_eq!(
        verify(&browser, "verify-totp", json!({ "code": ahead }))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_backup_code_works_once_and_the_count_goes_down() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let code = e.backup_codes[0].clone();
    let (browser, _) = app.first_factor(&e.user).await;
    // Typed in lower case without dashes: still the same code.
    let typed = code.replace('-', "").to_lowercase();
    let (status, body) = verify(&browser, "verify-backup-code", json!({ "code": typed })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let claims = access_claims(&browser).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    let status: Value = browser
        .get_path("/api/auth/two-factor/status")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["backupCodesLeft"], 9);
    assert_eq!(status["enabled"], true);

    let (again, _) = app.first_factor(&e.user).await;
    let (status, body) = verify(&again, "verify-backup-code", json!({ "code": code })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_BACKUP_CODE"))
    );
}

#[tokio::test]
async fn a_backup_code_sent_twice_at_once_succeeds_once() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let code = e.backup_codes[3].clone();
    let (b1, _) = app.first_factor(&e.user).await;
    let (b2, _) = app.first_factor(&e.user).await;
    let (b3, _) = app.first_factor(&e.user).await;
    let (b4, _) = app.first_factor(&e.user).await;
    let body = json!({ "code": code });
    let (r1, r2, r3, r4) = tokio::join!(
        verify(&b1, "verify-backup-code", body.clone()),
        verify(&b2, "verify-backup-code", body.clone()),
        verify(&b3, "verify-backup-code", body.clone()),
        verify(&b4, "verify-backup-code", body.clone()),
    );
    let results = [r1, r2, r3, r4];
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test]
async fn a_challenge_takes_five_codes_at_most() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let (browser, _) = app.first_factor(&e.user).await;
    let good = app.code(&e.totp);
    let wrong = if good == "123456" { "654321" } else { "123456" };
    for _ in 0..5 {
        let (status, body) = verify(&browser, "verify-totp", json!({ "code": wrong })).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("INVALID_CODE"))
        );
    }
    let (status, body) = verify(&browser, "verify-totp", json!({ "code": good })).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE")
        )
    );
    let (status, _) = verify(
        &browser,
        "verify-backup-code",
        json!({ "code": e.backup_codes[0] }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "backup codes count against the same challenge"
    );
}

#[tokio::test]
async fn ten_failures_lock_the_second_factor_for_fifteen_minutes() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let wrong = |good: &str| {
        if good == "123456" {
            "654321".to_owned()
        } else {
            "123456".to_owned()
        }
    };
    let mut last = (StatusCode::OK, Value::Null);
    for _ in 0..2 {
        let (browser, _) = app.first_factor(&e.user).await;
        for _ in 0..5 {
            last = verify(
                &browser,
                "verify-totp",
                json!({ "code": wrong(&app.code(&e.totp)) }),
            )
            .await;
        }
    }
    assert_eq!(last.0, StatusCode::TOO_MANY_REQUESTS, "{:?}", last.1);
    assert_eq!(last.1["code"], "ACCOUNT_TEMPORARILY_LOCKED");
    // Locked: even the right code (and a backup code) is refused, with Retry-After.
    let (browser, _) = app.first_factor(&e.user).await;
    let res = browser
        .post_json(
            "/api/auth/two-factor/verify-totp",
            &json!({ "code": app.code(&e.totp) }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = header(&res, "retry-after").unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    let (status, _) = verify(
        &browser,
        "verify-backup-code",
        json!({ "code": e.backup_codes[1] }),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Fifteen minutes later it works again.
    app.clock
        .advance(std::time::Duration::from_secs(15 * 60 + 1));
    let (browser, _) = app.first_factor(&e.user).await;
    let (status, body) = verify(
        &browser,
        "verify-totp",
        json!({ "code": app.code(&e.totp) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_challenge_cannot_be_used_after_success() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let res = app
        .sign_in(&json!({ "email": e.user.email, "password": PASSWORD }))
        .await;
    let challenge = set_cookies(&res)
        .iter()
        .find(|c| c.starts_with(&format!("{TWO_FACTOR_COOKIE}=")))
        .map(|c| cookie_pair(c))
        .unwrap();
    let send = |code: String| {
        app.request(Method::POST, "/api/auth/two-factor/verify-totp")
            .header("cookie", challenge.clone())
            .header("origin", ORIGIN)
            .json(&json!({ "code": code }))
            .send()
    };
    let res = send(app.code(&e.totp)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    app.next_step();
    let res = send(app.code(&e.totp)).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_TWO_FACTOR_COOKIE");
}

#[tokio::test]
async fn a_challenge_expires_after_ten_minutes() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let (browser, _) = app.first_factor(&e.user).await;
    app.clock
        .advance(std::time::Duration::from_secs(10 * 60 + 1));
    let (status, body) = verify(
        &browser,
        "verify-totp",
        json!({ "code": app.code(&e.totp) }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("INVALID_TWO_FACTOR_COOKIE"))
    );
}

#[tokio::test]
async fn another_users_code_or_a_forged_challenge_cookie_gets_nothing() {
    let app = spawn_app().await;
    let alice = app.enrolled_user().await;
    let mallory = app.enrolled_user().await;
    // Mallory knows Alice's password, not her authenticator: her own code is no good.
    let (browser, _) = app.first_factor(&alice.user).await;
    let (status, _) = verify(
        &browser,
        "verify-totp",
        json!({ "code": app.code(&mallory.totp) }),
    )
    .await;
    if app.code(&mallory.totp) != app.code(&alice.totp) {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = verify(
        &browser,
        "verify-backup-code",
        json!({ "code": mallory.backup_codes[0] }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // An unsigned or made-up challenge cookie.
    for cookie in [
        format!("{TWO_FACTOR_COOKIE}=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        format!(
            "{TWO_FACTOR_COOKIE}={}",
            encode_uri_component(&format!(
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.{}",
                cookie_signature(SECRET, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            ))
        ),
    ] {
        let res = app
            .request(Method::POST, "/api/auth/two-factor/verify-totp")
            .header("cookie", cookie)
            .header("origin", ORIGIN)
            .json(&json!({ "code": app.code(&alice.totp) }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Without any cookie or session.
    let res = app
        .post_json(
            "/api/auth/two-factor/verify-totp",
            &json!({ "code": "123456" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_that_replaces_the_session_keeps_what_it_proved_and_no_more() {
    let app = spawn_app().await;
    let user = app.signed_up_user().await;
    let res = app
        .with(
            app.post_json(
                "/api/auth/change-password",
                &json!({ "currentPassword": PASSWORD, "newPassword": "another long password", "revokeOtherSessions": true }),
            ),
            &user.by_cookie(),
            true,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let token = header(&res, "set-auth-token").unwrap();
    let jwt = app.access_token(&Who::Bearer(token)).await;
    assert_eq!(decode_jwt(&jwt).claims["amr"], json!(["pwd"]));
}

// ------------------------------------------------------------------ trusted devices

#[tokio::test]
async fn a_trusted_browser_skips_the_challenge_once_per_cookie() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let (browser, _) = app.first_factor(&e.user).await;
    let res = browser
        .post_json(
            "/api/auth/two-factor/verify-totp",
            &json!({ "code": app.code(&e.totp), "trustDevice": true }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let trust = set_cookies(&res)
        .into_iter()
        .find(|c| c.starts_with(&format!("{TRUST_COOKIE}=")))
        .expect("a trust cookie");
    assert!(
        trust.contains(&format!("Max-Age={}", 30 * 24 * 3600)),
        "{trust}"
    );
    let trust = cookie_pair(&trust);
    let mfa_time = app.now_secs();
    app.clock.advance(std::time::Duration::from_secs(3600));

    let sign_in = |cookie: String| {
        app.post_json(
            "/api/auth/sign-in/email",
            &json!({ "email": e.user.email, "password": PASSWORD }),
        )
        .header("cookie", cookie)
        .header("origin", ORIGIN)
        .send()
    };
    let res = sign_in(trust.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rotated = set_cookies(&res)
        .into_iter()
        .find(|c| c.starts_with(&format!("{TRUST_COOKIE}=")))
        .map(|c| cookie_pair(&c))
        .expect("the trust cookie is rotated");
    assert_ne!(rotated, trust);
    let body: Value = res.json().await.unwrap();
    let token = body["token"]
        .as_str()
        .expect("a session without a challenge")
        .to_owned();
    let claims = decode_jwt(&app.access_token(&Who::Bearer(token)).await).claims;
    assert_eq!(claims["amr"], json!(["pwd", "mfa"]));
    assert_eq!(
        claims["auth_time"],
        json!(mfa_time),
        "when the second factor was verified"
    );

    // The old cookie is spent; the new one works once.
    let body: Value = sign_in(trust).await.unwrap().json().await.unwrap();
    assert_eq!(body["twoFactorRedirect"], true);
    // Revoked: the rotated one no longer works either.
    let res = e
        .browser
        .post_json("/api/auth/two-factor/revoke-trusted-devices", &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = sign_in(rotated).await.unwrap().json().await.unwrap();
    assert_eq!(body["twoFactorRedirect"], true);
}

// ------------------------------------------------------------------ managing the factors

#[tokio::test]
async fn new_backup_codes_replace_the_old_set() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let (status, body) = verify(
        &e.browser,
        "generate-backup-codes",
        json!({ "password": PASSWORD }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh = body["backupCodes"].as_array().unwrap().clone();
    assert_eq!(fresh.len(), 10);
    let (browser, _) = app.first_factor(&e.user).await;
    let (status, _) = verify(
        &browser,
        "verify-backup-code",
        json!({ "code": e.backup_codes[0] }),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old set is gone");
    let (status, _) = verify(&browser, "verify-backup-code", json!({ "code": fresh[0] })).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn disabling_needs_the_password_and_ends_the_challenges() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let (status, _) = verify(
        &e.browser,
        "disable",
        json!({ "password": "not the password" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (pending, _) = app.first_factor(&e.user).await;
    let (status, body) = verify(&e.browser, "disable", json!({ "password": PASSWORD })).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": true })));
    let (_, body) = app.first_factor(&e.user).await;
    assert!(body["token"].is_string(), "no challenge any more: {body}");
    let (status, _) = verify(
        &pending,
        "verify-totp",
        json!({ "code": app.code(&e.totp) }),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a pending challenge died with the factor"
    );
    assert_eq!(app.count("two_factors").await, 0);
    assert_eq!(app.count("backup_codes").await, 0);
}

#[tokio::test]
async fn get_totp_uri_needs_the_password_and_returns_the_same_key() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    let (status, _) = verify(
        &e.browser,
        "get-totp-uri",
        json!({ "password": "nope nope nope" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = verify(&e.browser, "get-totp-uri", json!({ "password": PASSWORD })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        totp_of(body["totpURI"].as_str().unwrap()).key(),
        e.totp.key()
    );
}

#[tokio::test]
async fn two_factor_endpoints_need_a_session_or_a_challenge() {
    let app = spawn_app().await;
    for path in ["enable", "disable", "get-totp-uri", "generate-backup-codes"] {
        let res = app
            .post_json(
                &format!("/api/auth/two-factor/{path}"),
                &json!({ "password": PASSWORD }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

// ------------------------------------------------------------------ backends

#[tokio::test]
async fn the_mfa_only_tasks_route_refuses_a_token_without_a_second_factor() {
    let app = spawn_app().await;
    let plain = app.signed_up_user().await;
    let jwt = app.access_token(&plain.by_cookie()).await;
    let res = app
        .request(Method::DELETE, &format!("/api/{}/tasks", plain.id))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let challenge = header(&res, "www-authenticate").unwrap();
    assert!(
        challenge.contains("insufficient_user_authentication"),
        "{challenge}"
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "MFA_REQUIRED");

    let e = app.enrolled_user().await;
    let (browser, _) = app.first_factor(&e.user).await;
    assert_eq!(
        verify(
            &browser,
            "verify-totp",
            json!({ "code": app.code(&e.totp) })
        )
        .await
        .0,
        StatusCode::OK
    );
    let token: Value = browser.token().await.json().await.unwrap();
    let jwt = token["token"].as_str().unwrap();
    for title in ["one", "two"] {
        let res = app
            .request(Method::POST, &format!("/api/{}/tasks", e.user.id))
            .bearer_auth(jwt)
            .json(&json!({ "title": title }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = app
        .request(Method::DELETE, &format!("/api/{}/tasks", e.user.id))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({ "deleted": 2 }));
    // Still the owner rule first: someone else's tasks are 403 even with a second factor.
    let res = app
        .request(Method::DELETE, &format!("/api/{}/tasks", plain.id))
        .bearer_auth(jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn stepping_up_a_session_replaces_it_and_adds_mfa() {
    let app = spawn_app().await;
    let e = app.enrolled_user().await;
    // e.browser's session came from the enrolment confirmation: already a step-up.
    let claims = access_claims(&e.browser).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    let old = e.user.by_cookie();
    assert_eq!(
        app.session_json(&old).await,
        Value::Null,
        "the pre-enrolment session was replaced"
    );
}

// ------------------------------------------------------------------ password reset

#[tokio::test]
async fn a_password_reset_does_not_skip_the_second_factor() {
    let (app, smtp) = spawn_app_with_mail(|_| {}).await;
    let e = app.enrolled_user().await;
    // The sign-up's verification message is sent in the background: wait for it, or it may
    // arrive after the count below and be taken for the reset message.
    let verification = nth_mail(&smtp, 1).await;
    assert!(
        verification.subject.contains("Verify"),
        "{}",
        verification.subject
    );
    let before = smtp.received().len();
    let res = app
        .post_json(
            "/api/auth/request-password-reset",
            &json!({ "email": e.user.email }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mail = nth_mail(&smtp, before + 1).await;
    assert!(mail.subject.contains("Reset"), "{}", mail.subject);
    let res = app
        .reset_password(&json!({ "newPassword": "a brand new passphrase", "token": mail.token() }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The reset itself hands out nothing that signs in…
    assert!(set_cookies(&res).is_empty());
    assert!(header(&res, "set-auth-token").is_none());
    let body: Value = res.json().await.unwrap();
    assert!(body.get("token").is_none(), "{body}");
    // …and the new password is still only the first factor.
    let res = app
        .sign_in(&json!({ "email": e.user.email, "password": "a brand new passphrase" }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "set-auth-token").is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        // with mail configured, the emailed code is offered beside TOTP
        json!({ "twoFactorRedirect": true, "twoFactorMethods": ["totp", "otp"] })
    );
    // Two-factor is still on.
    let row = app.store().two_factor(UserId(&e.user.id)).await.unwrap();
    assert!(row.is_some_and(|r| r.verified_at.is_some()));
}

#[tokio::test]
async fn an_account_without_a_password_manages_two_factor_with_a_fresh_session() {
    use crate::email_sign_in::{code_in, mail_to};
    let (app, smtp) = spawn_app_with_mail(|s| {
        s.security.rate_limits = tessera_server::http::rate_limit::RateLimits::disabled();
    })
    .await;
    let email = unique_email();
    let sign_in_by_code = |n: usize| {
        let (app, smtp, email) = (&app, &smtp, email.clone());
        async move {
            app.browser()
                .post_json(
                    "/api/auth/email-otp/send-verification-otp",
                    &json!({ "email": email, "type": "sign-in" }),
                )
                .await;
            let code = code_in(&mail_to(smtp, &email, "Your Tessera sign-in code", n).await);
            let browser = app.browser();
            let res = browser
                .post_json(
                    "/api/auth/sign-in/email-otp",
                    &json!({ "email": email, "otp": code }),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            let body: Value = res.json().await.unwrap();
            (browser, body)
        }
    };
    // signed up by an emailed code: no password to give
    let (browser, _) = sign_in_by_code(1).await;
    let res = browser
        .post_json("/api/auth/two-factor/enable", &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let totp = totp_of(body["totpURI"].as_str().unwrap());
    let res = browser
        .post_json(
            "/api/auth/two-factor/verify-totp",
            &json!({ "code": app.code(&totp) }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.next_step();

    // an old session may not change it, with or without a made-up password
    app.clock.advance(std::time::Duration::from_secs(3600));
    for body in [json!({}), json!({ "password": "made up entirely" })] {
        for path in [
            "/api/auth/two-factor/generate-backup-codes",
            "/api/auth/two-factor/get-totp-uri",
            "/api/auth/two-factor/disable",
        ] {
            let res = browser.post_json(path, &body).await;
            assert_error(res, StatusCode::FORBIDDEN, "SESSION_NOT_FRESH").await;
        }
    }
    // the next sign-in by mail owes the second factor
    let (_, body) = sign_in_by_code(2).await;
    assert_eq!(body["twoFactorRedirect"], json!(true), "{body}");

    // an account with a password still has to give it
    let other = app.browser();
    let res = other
        .sign_up(&json!({ "name": "P", "email": unique_email(), "password": PASSWORD }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = other
        .post_json("/api/auth/two-factor/enable", &json!({}))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
