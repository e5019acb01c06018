use serde_json::json;
use tessera_verify::{ConfigError, Jwk, JwkSet, KeySetHandle, Verifier, VerifyError};

use crate::support::*;

#[tokio::test]
async fn each_supported_algorithm_verifies_from_a_jwks() {
    let ed = EdKey::new("ed");
    let es = EsKey::new("es");
    let rs = RsKey::new("rs");
    let verifier = jwks_verifier(&jwks(&[ed.jwk(), es.jwk(), rs.jwk()]));
    let claims = claims_for(A_ID);
    for (token, alg) in [
        (ed.token(&claims), tessera_verify::Algorithm::EdDsa),
        (es.token(&claims), tessera_verify::Algorithm::Es256),
        (rs.token(&claims), tessera_verify::Algorithm::Rs256),
    ] {
        let verified = verifier.verify(&token).await.unwrap();
        assert_eq!(verified.alg, alg);
        assert_eq!(verified.kid.as_deref(), Some(alg_kid(alg)));
        assert_accepted(&verifier, &token).await;
    }
}

fn alg_kid(alg: tessera_verify::Algorithm) -> &'static str {
    match alg {
        tessera_verify::Algorithm::EdDsa => "ed",
        tessera_verify::Algorithm::Es256 => "es",
        _ => "rs",
    }
}

#[tokio::test]
async fn a35_rotation_old_key_verifies_until_removed_through_the_handle() {
    let old = EdKey::new("2026-01");
    let new = EdKey::new("2026-02");
    let handle = KeySetHandle::from_json(&jwks(&[old.jwk(), new.jwk()])).unwrap();
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .jwks_handle(handle.clone())
        .build()
        .unwrap();
    let old_token = old.token(&claims_for(A_ID));
    let new_token = new.token(&claims_for(A_ID));
    assert_accepted(&verifier, &old_token).await;
    assert_accepted(&verifier, &new_token).await;

    // Retire the old key.
    let only_new = JwkSet::from_json(&jwks(&[new.jwk()])).unwrap();
    assert_eq!(handle.replace(&only_new), 1);
    assert_eq!(handle.kids(), vec!["2026-02".to_string()]);
    assert_refused(&verifier, &old_token, VerifyError::UnknownKey).await;
    assert_accepted(&verifier, &new_token).await;
    // The verifier exposes the same handle.
    assert_eq!(verifier.key_set_handle().unwrap().kids(), handle.kids());
}

#[tokio::test]
async fn symmetric_keys_are_never_taken_from_a_key_set() {
    let ed = EdKey::new("ed");
    let secret = b"an oct key published by mistake, 32+ bytes";
    let set = jwks(&[
        ed.jwk(),
        json!({"kty": "oct", "kid": "oct-1", "alg": "HS256", "k": b64(secret)}),
    ]);
    let verifier = jwks_verifier(&set);
    let token = mint(
        &json!({"alg": "HS256", "kid": "oct-1"}),
        &claims_for(A_ID),
        &Signer::Hs256(secret.to_vec()),
    );
    assert_refused(&verifier, &token, VerifyError::UnknownKey).await;
    // A set of only oct keys has nothing usable.
    let only_oct = jwks(&[json!({"kty": "oct", "kid": "oct-1", "alg": "HS256", "k": b64(secret)})]);
    let err = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .jwks_json(&only_oct)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::NoUsableKeys);
}

#[tokio::test]
async fn algorithm_is_inferred_only_when_unambiguous() {
    let ed = EdKey::new("ed");
    let es = EsKey::new("es");
    let rs = RsKey::new("rs");
    let strip_alg = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("alg");
        v
    };
    let verifier = jwks_verifier(&jwks(&[
        strip_alg(ed.jwk()),
        strip_alg(es.jwk()),
        strip_alg(rs.jwk()),
        EdKey::new("keep").jwk(),
    ]));
    let claims = claims_for(A_ID);
    assert_accepted(&verifier, &ed.token(&claims)).await;
    assert_accepted(&verifier, &es.token(&claims)).await;
    // RSA without alg could be RS256 or PS256: skipped.
    assert_refused(&verifier, &rs.token(&claims), VerifyError::UnknownKey).await;
}

#[tokio::test]
async fn unusable_keys_are_skipped_without_failing_the_set() {
    let good = EdKey::new("good");
    let other = EdKey::new("other");
    let set = jwks(&[
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "enc", "use": "enc", "x": b64(other.public())}),
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "ops", "key_ops": ["sign"], "x": b64(other.public())}),
        json!({"kty": "OKP", "crv": "Ed448", "kid": "ed448", "x": b64([0u8; 57])}),
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "short", "x": b64([1u8; 31])}),
        json!({"kty": "OKP", "crv": "Ed25519", "kid": "badb64", "x": "not+base64/"}),
        json!({"kty": "OKP", "crv": "Ed25519", "alg": "HS256", "kid": "wrongalg", "x": b64(other.public())}),
        json!({"kty": "EC", "crv": "P-256", "kid": "offcurve", "x": b64([1u8; 32]), "y": b64([2u8; 32])}),
        json!({"kty": "EC", "crv": "P-384", "alg": "ES384", "kid": "p384", "x": b64([1u8; 48]), "y": b64([2u8; 48])}),
        json!({"kty": "RSA", "alg": "RS256", "kid": "rsa1024", "n": b64([0xC5u8; 128]), "e": b64([1, 0, 1])}),
        json!({"kty": "OKP", "crv": "Ed25519", "x": b64(other.public())}),
        json!({"kty": 7, "kid": "weird"}),
        json!("not an object"),
        good.jwk(),
    ]);
    let handle = KeySetHandle::from_json(&set).unwrap();
    assert_eq!(handle.kids(), vec!["good".to_string()]);
    let verifier = jwks_verifier(&set);
    assert_accepted(&verifier, &good.token(&claims_for(A_ID))).await;
    for kid in ["enc", "ops", "wrongalg"] {
        let token = mint(
            &json!({"alg": "EdDSA", "kid": kid}),
            &claims_for(A_ID),
            &other.signer(),
        );
        assert_refused(&verifier, &token, VerifyError::UnknownKey).await;
    }
}

#[tokio::test]
async fn duplicate_kids_keep_the_first_key() {
    let first = EdKey::new("same");
    let second = EdKey::new("same");
    let verifier = jwks_verifier(&jwks(&[first.jwk(), second.jwk()]));
    assert_accepted(&verifier, &first.token(&claims_for(A_ID))).await;
    assert_refused(
        &verifier,
        &second.token(&claims_for(A_ID)),
        VerifyError::BadSignature,
    )
    .await;
}

#[tokio::test]
async fn jwk_constructors_round_trip() {
    let ed = EdKey::new("ed");
    let es = EsKey::new("es");
    let rs = RsKey::new("rs");
    let (n, e) = rs.n_e();
    let set = JwkSet {
        keys: vec![
            Jwk::ed25519("ed", &ed.public()),
            Jwk::es256(
                "es",
                aws_lc_rs::signature::KeyPair::public_key(&*es.pair).as_ref(),
            ),
            Jwk::rs256("rs", &n, &e),
        ],
    };
    // Serialises to a JWKS other verifiers (jose, PyJWT) read, and back.
    let text = serde_json::to_string(&set).unwrap();
    assert_eq!(JwkSet::from_json(&text).unwrap(), set);
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .jwks(set)
        .build()
        .unwrap();
    let claims = claims_for(A_ID);
    assert_accepted(&verifier, &ed.token(&claims)).await;
    assert_accepted(&verifier, &es.token(&claims)).await;
    assert_accepted(&verifier, &rs.token(&claims)).await;
}
