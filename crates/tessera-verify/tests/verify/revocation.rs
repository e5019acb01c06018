use std::sync::Arc;

use http::StatusCode;
use serde_json::json;
use tessera_verify::{Claims, RevokedSessions, Verifier, VerifyError};

use crate::support::*;

fn verifier_with(revoked: &RevokedSessions) -> Verifier {
    Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .revocation(Arc::new(revoked.clone()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_revoked_session_is_401_invalid_token() {
    let revoked = RevokedSessions::new();
    let verifier = verifier_with(&revoked);
    let token = hs_token(A_ID); // sid = "sid-<A_ID>"
    assert_accepted(&verifier, &token).await;

    assert!(revoked.insert(format!("sid-{A_ID}")));
    assert_refused(&verifier, &token, VerifyError::Revoked).await;
    // Other sessions are unaffected.
    let other = mint(
        &hs_header(),
        &claims_with(&json!({"sid": "another-session"})),
        &hs_signer(),
    );
    assert_accepted(&verifier, &other).await;

    assert!(revoked.remove(&format!("sid-{A_ID}")));
    assert_accepted(&verifier, &token).await;
}

#[tokio::test]
async fn tokens_without_sid_are_unaffected() {
    let revoked = RevokedSessions::new();
    revoked.replace_all(["", "null", "sid-x"]);
    assert_eq!(revoked.len(), 3);
    let verifier = verifier_with(&revoked);
    let token = mint(
        &hs_header(),
        &claims_with(&json!({"sid": null})),
        &hs_signer(),
    );
    assert_accepted(&verifier, &token).await;
}

#[tokio::test]
async fn replace_all_swaps_the_whole_set() {
    let revoked = RevokedSessions::new();
    let verifier = verifier_with(&revoked);
    let token = hs_token(A_ID);
    revoked.replace_all([format!("sid-{A_ID}")]);
    assert_eq!(verifier.verify(&token).await, Err(VerifyError::Revoked));
    revoked.replace_all(Vec::<String>::new());
    assert!(revoked.is_empty());
    assert!(verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn closures_are_revocation_checks_and_see_only_verified_claims() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .revocation(Arc::new(move |c: &Claims| {
            log.lock().unwrap().push(c.sub.clone());
            c.sub == B_ID
        }))
        .build()
        .unwrap();
    let reply = get_with_token(&app(verifier.clone()), &tasks_path(B_ID), &hs_token(B_ID)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.challenge(), Some(r#"Bearer error="invalid_token""#));
    reply.assert_no_data();
    assert!(verifier.verify(&hs_token(A_ID)).await.is_ok());
    // A forged token never reaches the hook.
    let forged = mint(
        &hs_header(),
        &claims_for("forged"),
        &Signer::Hs256(b"wrong".to_vec()),
    );
    assert!(verifier.verify(&forged).await.is_err());
    assert_eq!(
        *seen.lock().unwrap(),
        vec![B_ID.to_string(), A_ID.to_string()]
    );
}
