use std::sync::Arc;

use serde_json::json;
use tessera_verify::{KeySetHandle, ManualClock, RevokedSessions, Verifier, VerifyError};

use crate::support::*;

const T0: i64 = 2_000_000_000;

fn claims_at(now: i64, ttl: i64) -> serde_json::Value {
    claims_with(&json!({"iat": now, "exp": now + ttl}))
}

#[tokio::test]
async fn cache_hits_still_check_expiry() {
    let clock = Arc::new(ManualClock::new(T0));
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .clock(clock.clone())
        .cache(8)
        .build()
        .unwrap();
    let token = mint(&hs_header(), &claims_at(T0, 40), &hs_signer());
    assert!(verifier.verify(&token).await.is_ok());
    assert!(verifier.verify(&token).await.is_ok()); // hit
    clock.advance(40 + 30); // exp + leeway
    assert_eq!(verifier.verify(&token).await, Err(VerifyError::Expired));
}

#[tokio::test]
async fn cache_hits_still_check_revocation() {
    let revoked = RevokedSessions::new();
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .revocation(Arc::new(revoked.clone()))
        .cache(8)
        .build()
        .unwrap();
    let token = hs_token(A_ID);
    assert!(verifier.verify(&token).await.is_ok());
    revoked.insert(format!("sid-{A_ID}"));
    assert_eq!(verifier.verify(&token).await, Err(VerifyError::Revoked));
}

#[tokio::test]
async fn cache_entries_die_with_the_key_set_they_were_verified_under() {
    let old = EdKey::new("old");
    let new = EdKey::new("new");
    let handle = KeySetHandle::from_json(&jwks(&[old.jwk(), new.jwk()])).unwrap();
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .jwks_handle(handle.clone())
        .cache(8)
        .build()
        .unwrap();
    let token = old.token(&claims_for(A_ID));
    assert!(verifier.verify(&token).await.is_ok());
    assert!(verifier.verify(&token).await.is_ok());
    handle.replace(&tessera_verify::JwkSet::from_json(&jwks(&[new.jwk()])).unwrap());
    assert_eq!(verifier.verify(&token).await, Err(VerifyError::UnknownKey));
}

#[tokio::test]
async fn cache_never_accepts_what_the_full_path_refuses() {
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .cache(2)
        .build()
        .unwrap();
    let good = hs_token(A_ID);
    assert!(verifier.verify(&good).await.is_ok());
    // A near-copy of a cached token is a different key: full path, refused.
    let forged = format!("{}x", &good[..good.len() - 1]);
    assert!(verifier.verify(&forged).await.is_err());
    // Filling past capacity keeps working.
    for user in ["u1", "u2", "u3", "u4"] {
        assert!(verifier.verify(&hs_token(user)).await.is_ok());
    }
    assert!(verifier.verify(&good).await.is_ok());
}
