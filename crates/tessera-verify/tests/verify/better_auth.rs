use std::sync::Arc;

use tessera_verify::{Algorithm, ManualClock, Verifier, VerifyError};

const JWKS: &str = r#"{"keys":[{"alg":"EdDSA","crv":"Ed25519","x":"gSTs-IWazZiAnVCUJQXqyrvzEWzdZ1F2nqZvVGWqvdg","kty":"OKP","kid":"EwQcFhpexQqrwbTp8nVsypeotzzt5nTT"}]}"#;
const TOKEN: &str = "eyJhbGciOiJFZERTQSIsImtpZCI6IkV3UWNGaHBleFFxcndiVHA4blZzeXBlb3R6enQ1blRUIn0.eyJpYXQiOjE3OTU0ODc5MzksIm5hbWUiOiJBbGljZSIsImVtYWlsIjoiYWxpY2VAZXhhbXBsZS5jb20iLCJlbWFpbFZlcmlmaWVkIjpmYWxzZSwiY3JlYXRlZEF0IjoiMjAyNi0xMS0yNFQwMjozODo1OS4xNThaIiwidXBkYXRlZEF0IjoiMjAyNi0xMS0yNFQwMjozODo1OS4xNThaIiwiaWQiOiJxYWZoSGxmdjJZSnNPak4xSVQ4R3FFeTlSRWhsc3NmbiIsInN1YiI6InFhZmhIbGZ2MllKc09qTjFJVDhHcUV5OVJFaGxzc2ZuIiwiZXhwIjoxNzk1NDg4ODM5LCJpc3MiOiJodHRwOi8vbG9jYWxob3N0OjM5OTkiLCJhdWQiOiJodHRwOi8vbG9jYWxob3N0OjM5OTkifQ.nGzbpvSXgHb4WcEa_bN8g22jEBd-l2Qpi2HlNU5-zkLkJqN0NJS9zgRPyGESdLIQ2US3xwn4egtcgLgMJohKAw";
const ORIGIN: &str = "http://localhost:3999";
const IAT: i64 = 1_795_487_939;
const EXP: i64 = 1_795_488_839;

fn verifier_at(now: i64) -> Verifier {
    Verifier::builder()
        .issuer(ORIGIN)
        .audience(ORIGIN)
        .jwks_json(JWKS)
        .clock(Arc::new(ManualClock::new(now)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_real_better_auth_token_verifies_inside_its_validity() {
    let claims = verifier_at(IAT + 60).verify(TOKEN).await.unwrap();
    assert_eq!(claims.sub, "qafhHlfv2YJsOjN1IT8GqEy9REhlssfn");
    assert_eq!(claims.email.as_deref(), Some("alice@example.com"));
    assert_eq!(claims.name.as_deref(), Some("Alice"));
    assert_eq!(claims.iat, Some(IAT));
    assert_eq!(claims.exp, EXP);
    assert_eq!(claims.iss, ORIGIN);
    assert_eq!(claims.aud, vec![ORIGIN.to_string()]);
    assert_eq!(claims.sid, None);
    assert_eq!(claims.alg, Algorithm::EdDsa);
    assert_eq!(
        claims.kid.as_deref(),
        Some("EwQcFhpexQqrwbTp8nVsypeotzzt5nTT")
    );
    assert_eq!(claims.raw["id"], "qafhHlfv2YJsOjN1IT8GqEy9REhlssfn");
    assert_eq!(claims.raw["emailVerified"], false);
}

#[tokio::test]
async fn one_changed_payload_byte_breaks_it() {
    let verifier = verifier_at(IAT + 60);
    let payload_start = TOKEN.find('.').unwrap() + 1;
    let mut bytes = TOKEN.as_bytes().to_vec();
    let i = payload_start + 40;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_ne!(tampered, TOKEN);
    assert_eq!(
        verifier.verify(&tampered).await,
        Err(VerifyError::BadSignature)
    );
}

#[tokio::test]
async fn it_expires_and_is_not_valid_before_issue() {
    assert_eq!(
        verifier_at(EXP + 31).verify(TOKEN).await,
        Err(VerifyError::Expired)
    );
    assert_eq!(
        verifier_at(IAT - 31).verify(TOKEN).await,
        Err(VerifyError::IssuedInFuture)
    );
    assert!(
        verifier_at(EXP + 29).verify(TOKEN).await.is_ok(),
        "within the 30 s leeway"
    );
}

#[tokio::test]
async fn other_issuer_or_audience_configuration_refuses_it() {
    let clock = Arc::new(ManualClock::new(IAT + 60));
    let wrong_iss = Verifier::builder()
        .issuer("http://localhost:3999/api/auth")
        .audience(ORIGIN)
        .jwks_json(JWKS)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(wrong_iss.verify(TOKEN).await, Err(VerifyError::WrongIssuer));
    let wrong_aud = Verifier::builder()
        .issuer(ORIGIN)
        .audience("http://localhost:4000")
        .jwks_json(JWKS)
        .clock(clock)
        .build()
        .unwrap();
    assert_eq!(
        wrong_aud.verify(TOKEN).await,
        Err(VerifyError::WrongAudience)
    );
}
