//! `amr` and `auth_time` (RFC 8176, OpenID Connect): typed in `Claims`, and the `MfaUser`
//! and `RecentMfa` extractors that refuse tokens without a (recent) second factor with RFC
//! 9470's `insufficient_user_authentication` challenge.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use serde_json::{Value, json};
use tessera_verify::{ManualClock, MfaUser, OwnerOf, RecentMfa, Verifier, VerifyError};

use crate::support::*;

fn token_with(changes: Value) -> String {
    mint(&hs_header(), &claims_with(&changes), &hs_signer())
}

fn mfa_app(verifier: Verifier) -> Router {
    async fn sensitive(owner: OwnerOf, _mfa: MfaUser) -> String {
        format!("{CANARY} {}", owner.subject())
    }
    async fn step_up(_recent: RecentMfa<300>) -> &'static str {
        CANARY
    }
    Router::new()
        .route("/api/{user_id}/sensitive", get(sensitive))
        .route("/step-up", get(step_up))
        .with_state(verifier)
}

#[tokio::test]
async fn amr_and_auth_time_are_typed_and_mistyped_amr_is_refused() {
    let verifier = hs_verifier();
    let now = now();
    let claims = verifier
        .verify(&token_with(
            json!({"amr": ["pwd", "otp", "mfa"], "auth_time": now - 5}),
        ))
        .await
        .unwrap();
    assert_eq!(claims.amr, ["pwd", "otp", "mfa"]);
    assert_eq!(claims.auth_time, Some(now - 5));
    assert!(claims.has_mfa());
    let plain = verifier.verify(&hs_token(A_ID)).await.unwrap();
    assert!(plain.amr.is_empty() && plain.auth_time.is_none() && !plain.has_mfa());
    for bad in [json!("mfa"), json!(["pwd", 1]), json!({"mfa": true})] {
        assert_refused(
            &verifier,
            &token_with(json!({ "amr": bad })),
            VerifyError::InvalidClaim("amr"),
        )
        .await;
    }
    assert_refused(
        &verifier,
        &token_with(json!({"auth_time": "yesterday"})),
        VerifyError::InvalidClaim("auth_time"),
    )
    .await;
}

#[tokio::test]
async fn mfa_user_refuses_a_token_without_mfa_with_the_step_up_challenge() {
    let app = mfa_app(hs_verifier());
    let path = format!("/api/{A_ID}/sensitive");
    for token in [
        hs_token(A_ID),
        token_with(json!({"amr": ["pwd"]})),
        token_with(json!({"amr": ["pwd", "otp"]})),
    ] {
        let reply = get_with_token(&app, &path, &token).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            reply.body,
            r#"{"message":"Two-factor authentication required","code":"MFA_REQUIRED"}"#
        );
        let challenge = reply.challenge().unwrap();
        assert!(
            challenge.starts_with(r#"Bearer error="insufficient_user_authentication""#),
            "{challenge}"
        );
        reply.assert_no_data();
    }
    let reply = get_with_token(
        &app,
        &path,
        &token_with(json!({"amr": ["pwd", "otp", "mfa"]})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    // The owner rule still holds: a second factor does not open someone else's data.
    let reply = get_with_token(
        &app,
        &format!("/api/{B_ID}/sensitive"),
        &token_with(json!({"amr": ["pwd", "otp", "mfa"]})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // A bad token is still a plain 401 invalid_token.
    let reply = get_with_token(&app, &path, "not.a.token").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.challenge().unwrap().contains("invalid_token"));
}

#[tokio::test]
async fn recent_mfa_needs_auth_time_within_the_limit_by_the_verifiers_clock() {
    let now = now();
    let clock = Arc::new(ManualClock::new(now));
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .clock(clock.clone())
        .build()
        .unwrap();
    let app = mfa_app(verifier);
    let fresh = token_with(json!({"amr": ["pwd", "otp", "mfa"], "auth_time": now - 299}));
    assert_eq!(
        get_with_token(&app, "/step-up", &fresh).await.status,
        StatusCode::OK
    );
    let stale = token_with(json!({"amr": ["pwd", "otp", "mfa"], "auth_time": now - 301}));
    let reply = get_with_token(&app, "/step-up", &stale).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.challenge().unwrap().ends_with(", max_age=300"));
    assert!(reply.body.contains("RECENT_MFA_REQUIRED"));
    let undated = token_with(json!({"amr": ["pwd", "otp", "mfa"]}));
    assert_eq!(
        get_with_token(&app, "/step-up", &undated).await.status,
        StatusCode::UNAUTHORIZED
    );
    let no_mfa = token_with(json!({"amr": ["pwd"], "auth_time": now}));
    let reply = get_with_token(&app, "/step-up", &no_mfa).await;
    assert!(reply.body.contains("\"MFA_REQUIRED\""));
    // Time passes: the same token stops being recent.
    clock.set(now + 10);
    assert_eq!(
        get_with_token(&app, "/step-up", &fresh).await.status,
        StatusCode::UNAUTHORIZED
    );
}
