use std::io::ErrorKind;
use std::sync::Arc;

use aws_lc_rs::signature::{self, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use tessera_verify::VerifyError;

use crate::support::*;

fn malformed() -> VerifyError {
    VerifyError::Malformed("")
}

/// `assert_refused` for `Malformed(_)` whatever the detail.
async fn assert_malformed(verifier: &tessera_verify::Verifier, token: &str) {
    match verifier.verify(token).await {
        Err(VerifyError::Malformed(_)) => {}
        other => panic!("expected Malformed for {:.80}, got {other:?}", token),
    }
    let reply = get_with_token(&app(verifier.clone()), &tasks_path(A_ID), token).await;
    assert_eq!(reply.status, malformed().status());
    assert_eq!(reply.challenge(), malformed().www_authenticate());
    reply.assert_no_data();
}

#[tokio::test]
async fn a5_malformed_compact_tokens_are_401() {
    let verifier = hs_verifier();
    let good = hs_token(A_ID);
    let parts: Vec<&str> = good.split('.').collect();
    let with_plus = format!(
        "{}.{}.{}+",
        parts[0],
        parts[1],
        &parts[2][..parts[2].len() - 1]
    );
    let with_slash = format!(
        "{}.{}.{}/",
        parts[0],
        parts[1],
        &parts[2][..parts[2].len() - 1]
    );
    let non_json_header = format!("{}.{}.{}", b64("not json"), parts[1], parts[2]);
    let array_header = format!("{}.{}.{}", b64("[\"HS256\"]"), parts[1], parts[2]);
    let bad_base64_header = format!("A.{}.{}", parts[1], parts[2]);
    for token in [
        "abc".to_string(),
        "a.b".into(),
        "a.b.c.d".into(),
        "..".into(),
        format!("{good}="),
        format!("{good}=="),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        with_plus,
        with_slash,
        non_json_header,
        array_header,
        bad_base64_header,
    ] {
        assert_malformed(&verifier, &token).await;
    }
}

#[tokio::test]
async fn a6_alg_none_in_any_spelling_is_refused() {
    let verifier = hs_verifier();
    let claims = claims_for(A_ID);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT"});
        let token = mint(&header, &claims, &Signer::Unsigned);
        assert_refused(&verifier, &token, VerifyError::AlgorithmNotAllowed).await;
    }
}

#[tokio::test]
async fn a7_alg_none_keeping_the_real_signature_is_refused() {
    let verifier = hs_verifier();
    let real = hs_token(A_ID);
    let parts: Vec<&str> = real.split('.').collect();
    let token = format!("{}.{}.{}", b64(r#"{"alg":"none"}"#), parts[1], parts[2]);
    assert_refused(&verifier, &token, VerifyError::AlgorithmNotAllowed).await;
}

#[tokio::test]
async fn a8_null_signature_is_refused() {
    for (verifier, token) in [(hs_verifier(), hs_token(A_ID)), {
        let key = EdKey::new("ed-1");
        let verifier = jwks_verifier(&jwks(&[key.jwk()]));
        (verifier, key.token(&claims_for(A_ID)))
    }] {
        let unsigned = format!("{}.", &token[..token.rfind('.').unwrap()]);
        assert_refused(&verifier, &unsigned, VerifyError::BadSignature).await;
    }
}

#[tokio::test]
async fn a9_corrupted_signatures_are_refused() {
    let key = EdKey::new("ed-1");
    let cases = [
        (hs_verifier(), hs_token(A_ID)),
        (
            jwks_verifier(&jwks(&[key.jwk()])),
            key.token(&claims_for(A_ID)),
        ),
    ];
    for (verifier, token) in cases {
        assert_accepted(&verifier, &token).await;
        // Last four characters removed. The rest may still decode (to a shorter signature)
        // or fail strict decoding on non-zero trailing bits: refused either way.
        let truncated = &token[..token.len() - 4];
        assert!(matches!(
            verifier.verify(truncated).await,
            Err(VerifyError::BadSignature | VerifyError::Malformed(_))
        ));
        let reply = get_with_token(&app(verifier.clone()), &tasks_path(A_ID), truncated).await;
        assert_eq!(reply.status, http::StatusCode::UNAUTHORIZED);
        reply.assert_no_data();
        // Whole base64 groups removed: decodes fine, so the signature check must refuse it.
        let dot = token.rfind('.').unwrap();
        let sig_len = token.len() - dot - 1;
        let short = &token[..dot + 1 + (sig_len / 4 - 1) * 4];
        assert_refused(&verifier, short, VerifyError::BadSignature).await;
        // One bit flipped in the middle of the signature.
        let dot = token.rfind('.').unwrap();
        let mut sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token[dot + 1..])
            .unwrap();
        sig[10] ^= 0x01;
        let flipped = format!("{}.{}", &token[..dot], b64(&sig));
        assert_refused(&verifier, &flipped, VerifyError::BadSignature).await;
    }
}

#[tokio::test]
async fn a10_payload_tampering_is_refused() {
    let verifier = hs_verifier();
    let real = hs_token(A_ID);
    let parts: Vec<&str> = real.split('.').collect();
    let forged_payload = b64(claims_for(B_ID).to_string());
    let token = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert_refused(&verifier, &token, VerifyError::BadSignature).await;
    // And on B's route it does not open B's data either.
    let reply = get_with_token(&app(verifier), &tasks_path(B_ID), &token).await;
    assert_eq!(reply.status, http::StatusCode::UNAUTHORIZED);
    reply.assert_no_data();
}

#[tokio::test]
async fn a11_blank_hmac_key_is_refused() {
    let verifier = hs_verifier();
    let token = mint(&hs_header(), &claims_for(A_ID), &Signer::Hs256(Vec::new()));
    assert_refused(&verifier, &token, VerifyError::BadSignature).await;
}

#[tokio::test]
async fn a12_common_weak_secrets_are_refused() {
    let verifier = hs_verifier();
    for secret in [
        "secret",
        "password",
        "123456",
        "changeme",
        "your-256-bit-secret",
        "jwt_secret",
        "secretkey",
        "0123456789abcdef0123456789abcdef", // 32 bytes, but not ours
    ] {
        let token = mint(
            &hs_header(),
            &claims_for(A_ID),
            &Signer::Hs256(secret.into()),
        );
        assert_refused(&verifier, &token, VerifyError::BadSignature).await;
    }
}

#[tokio::test]
async fn a13_hs256_signed_with_the_public_key_is_refused() {
    let key = EdKey::new("ed-main");
    let verifier = jwks_verifier(&jwks(&[key.jwk()]));
    let public = key.public();
    // SubjectPublicKeyInfo for Ed25519: fixed 12-byte prefix + the 32-byte key.
    let mut spki = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    spki.extend_from_slice(&public);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----",
        STANDARD.encode(&spki)
    );
    let secrets: Vec<Vec<u8>> = vec![
        public.clone(),
        b64(&public).into_bytes(),
        spki.clone(),
        pem.clone().into_bytes(),
        format!("{pem}\n").into_bytes(),
        key.jwk().to_string().into_bytes(),
        jwks(&[key.jwk()]).into_bytes(),
    ];
    for secret in secrets {
        let header = json!({"alg": "HS256", "kid": key.kid});
        let token = mint(&header, &claims_for(A_ID), &Signer::Hs256(secret));
        assert_refused(&verifier, &token, VerifyError::AlgorithmNotAllowed).await;
    }
}

#[tokio::test]
async fn a14_algorithms_outside_the_allow_list_are_refused() {
    let verifier = hs_verifier();
    let claims = claims_for(A_ID);
    let rsa = rsa_pair();
    let es512 =
        Arc::new(EcdsaKeyPair::generate(&signature::ECDSA_P521_SHA512_FIXED_SIGNING).unwrap());
    let ed = EdKey::new("ed");
    let cases = [
        ("HS384", Signer::Hs384(SECRET.to_vec())),
        ("HS512", Signer::Hs512(SECRET.to_vec())),
        ("RS256", Signer::Rs256(Arc::clone(&rsa))),
        ("PS256", Signer::Ps256(Arc::clone(&rsa))),
        ("ES512", Signer::Es512(es512)),
        ("EdDSA", ed.signer()),
        ("hs256", hs_signer()),
        ("HS256 ", hs_signer()),
        (" HS256", hs_signer()),
        ("Hs256", hs_signer()),
    ];
    for (alg, signer) in cases {
        let token = mint(&json!({"alg": alg}), &claims, &signer);
        assert_refused(&verifier, &token, VerifyError::AlgorithmNotAllowed).await;
    }
    // A non-string alg is refused too.
    let token = mint(&json!({"alg": ["HS256"]}), &claims, &hs_signer());
    assert_refused(&verifier, &token, VerifyError::AlgorithmNotAllowed).await;
    // Missing alg is malformed.
    let token = mint(&json!({"typ": "JWT"}), &claims, &hs_signer());
    assert_malformed(&verifier, &token).await;
}

#[tokio::test]
async fn a15_embedded_jwk_is_refused() {
    let real = EdKey::new("ed-real");
    let attacker = EdKey::new("ed-real");
    let verifier = jwks_verifier(&jwks(&[real.jwk()]));
    let header = json!({"alg": "EdDSA", "kid": real.kid, "jwk": attacker.jwk()});
    let token = mint(&header, &claims_for(A_ID), &attacker.signer());
    assert_malformed(&verifier, &token).await;
    // HS256 verifier too.
    let header = json!({"alg": "HS256", "jwk": {"kty": "oct", "k": b64("attacker")}});
    let token = mint(
        &header,
        &claims_for(A_ID),
        &Signer::Hs256(b"attacker".to_vec()),
    );
    assert_malformed(&hs_verifier(), &token).await;
}

#[tokio::test]
async fn a16_jku_and_x5u_are_never_fetched() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let attacker = EdKey::new("ed-real");
    let real = EdKey::new("ed-real");
    let url = format!("http://127.0.0.1:{port}/jwks.json");
    for verifier in [jwks_verifier(&jwks(&[real.jwk()])), hs_verifier()] {
        for member in ["jku", "x5u"] {
            let header = json!({"alg": "EdDSA", "kid": real.kid, member: url});
            let token = mint(&header, &claims_for(A_ID), &attacker.signer());
            assert_malformed(&verifier, &token).await;
        }
    }
    // Any connection attempt made during verification would be waiting in the backlog now.
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the listener was contacted: {other:?}"),
    }
}

#[tokio::test]
async fn a17_embedded_x5c_is_refused() {
    let real = EdKey::new("ed-real");
    let verifier = jwks_verifier(&jwks(&[real.jwk()]));
    let attacker = EdKey::new("ed-real");
    let header =
        json!({"alg": "EdDSA", "kid": real.kid, "x5c": [STANDARD.encode(attacker.public())]});
    let token = mint(&header, &claims_for(A_ID), &attacker.signer());
    assert_malformed(&verifier, &token).await;
}

#[tokio::test]
async fn a18_kid_injection_strings_are_refused() {
    let real = EdKey::new("ed-real");
    let verifier = jwks_verifier(&jwks(&[real.jwk()]));
    let claims = claims_for(A_ID);
    for kid in [
        String::new(),
        "../../../../dev/null".into(),
        "/dev/null".into(),
        "x' UNION SELECT '1';--".into(),
        "|sleep 10".into(),
        "ed-real\0".into(),
        "ED-REAL".into(),
        " ed-real".into(),
    ] {
        let header = json!({"alg": "EdDSA", "kid": kid});
        let token = mint(&header, &claims, &real.signer());
        assert_refused(&verifier, &token, VerifyError::UnknownKey).await;
    }
    // SQL-ish kid signed with "1" as an HMAC secret.
    let token = mint(
        &json!({"alg": "HS256", "kid": "x' UNION SELECT '1';--"}),
        &claims,
        &Signer::Hs256(b"1".to_vec()),
    );
    assert_refused(&verifier, &token, VerifyError::UnknownKey).await;
    // 10 KB kid: over the token length bound.
    let token = mint(
        &json!({"alg": "EdDSA", "kid": "k".repeat(10 * 1024)}),
        &claims,
        &real.signer(),
    );
    assert_malformed(&verifier, &token).await;
    // Non-string kids.
    for kid in [json!({"a": 1}), json!(null), json!(7), json!(["ed-real"])] {
        let token = mint(
            &json!({"alg": "EdDSA", "kid": kid}),
            &claims,
            &real.signer(),
        );
        assert_malformed(&verifier, &token).await;
    }
    // A key set requires a kid.
    let token = mint(&json!({"alg": "EdDSA"}), &claims, &real.signer());
    assert_refused(&verifier, &token, VerifyError::UnknownKey).await;
}

#[tokio::test]
async fn a20_each_key_is_bound_to_one_algorithm() {
    let rs = RsKey::new("rs-1");
    let es = EsKey::new("es-1");
    let ed = EdKey::new("ed-1");
    let verifier = jwks_verifier(&jwks(&[rs.jwk(), es.jwk(), ed.jwk()]));
    let claims = claims_for(A_ID);
    // Sanity: each key verifies its own algorithm.
    assert_accepted(&verifier, &rs.token(&claims)).await;
    assert_accepted(&verifier, &es.token(&claims)).await;
    assert_accepted(&verifier, &ed.token(&claims)).await;
    // kid of the RSA key with alg HS256 (signed with the modulus as secret).
    let (n, _) = rs.n_e();
    let token = mint(
        &json!({"alg": "HS256", "kid": rs.kid}),
        &claims,
        &Signer::Hs256(n),
    );
    assert_refused(&verifier, &token, VerifyError::AlgorithmNotAllowed).await;
    // kid of the RSA key with alg PS256 (same key, other padding).
    let token = mint(
        &json!({"alg": "PS256", "kid": rs.kid}),
        &claims,
        &Signer::Ps256(rs.pair.clone()),
    );
    assert_refused(&verifier, &token, VerifyError::AlgorithmNotAllowed).await;
    // kid of the EC key with EdDSA, kid of the Ed key with ES256.
    let token = mint(
        &json!({"alg": "EdDSA", "kid": es.kid}),
        &claims,
        &ed.signer(),
    );
    assert_refused(&verifier, &token, VerifyError::AlgorithmNotAllowed).await;
    let token = mint(
        &json!({"alg": "ES256", "kid": ed.kid}),
        &claims,
        &es.signer(),
    );
    assert_refused(&verifier, &token, VerifyError::AlgorithmNotAllowed).await;
    // HS256 verifier: alg RS256 with a kid is refused.
    let token = mint(&json!({"alg": "RS256", "kid": "hs"}), &claims, &rs.signer());
    assert_refused(&hs_verifier(), &token, VerifyError::AlgorithmNotAllowed).await;
    // No kid, HS256, signed with a retired secret.
    let retired = b"retired-secret-retired-secret-retired-secret".to_vec();
    let token = mint(&hs_header(), &claims, &Signer::Hs256(retired));
    assert_refused(&hs_verifier(), &token, VerifyError::BadSignature).await;
}

#[tokio::test]
async fn a28_crit_header_is_refused() {
    let verifier = hs_verifier();
    let claims = claims_for(A_ID);
    for header in [
        json!({"alg": "HS256", "crit": ["exp"]}),
        json!({"alg": "HS256", "crit": ["x-unknown"], "x-unknown": 1}),
        json!({"alg": "HS256", "crit": []}),
        json!({"alg": "HS256", "crit": "b64"}),
        json!({"alg": "HS256", "crit": ["b64"], "b64": false}),
    ] {
        let token = mint(&header, &claims, &hs_signer());
        assert_malformed(&verifier, &token).await;
    }
}

#[tokio::test]
async fn a29_duplicate_header_members_are_refused() {
    let verifier = hs_verifier();
    let claims = claims_for(A_ID).to_string();
    for header in [
        r#"{"alg":"HS256","alg":"none"}"#,
        r#"{"alg":"none","alg":"HS256"}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
    ] {
        let token = sign_bytes(header.as_bytes(), claims.as_bytes(), &hs_signer());
        assert_malformed(&verifier, &token).await;
    }
}

#[tokio::test]
async fn a31_jws_json_serialization_is_refused() {
    let verifier = hs_verifier();
    let real = hs_token(A_ID);
    let parts: Vec<&str> = real.split('.').collect();
    let json_jws = json!({
        "payload": parts[1],
        "signatures": [{"protected": parts[0], "signature": parts[2]}]
    })
    .to_string();
    assert_malformed(&verifier, &json_jws).await;
    let flattened =
        json!({"payload": parts[1], "protected": parts[0], "signature": parts[2]}).to_string();
    assert_malformed(&verifier, &flattened).await;
}

#[tokio::test]
async fn a32_jwe_and_nested_tokens_are_refused() {
    let verifier = hs_verifier();
    // Five-part JWE (compact): header.encrypted_key.iv.ciphertext.tag
    let jwe_header = b64(r#"{"alg":"dir","enc":"A256GCM"}"#);
    let jwe = format!(
        "{jwe_header}..{}.{}.{}",
        b64("iv-iv-iv-iv"),
        b64("ciphertext"),
        b64("tag-tag-tag-tag")
    );
    assert_malformed(&verifier, &jwe).await;
    // A JWE-looking header in three parts, signed.
    let token = mint(
        &json!({"alg": "HS256", "enc": "A256GCM"}),
        &claims_for(A_ID),
        &hs_signer(),
    );
    assert_malformed(&verifier, &token).await;
    // Nested: a signed token whose payload is an unsigned inner JWT.
    let inner = mint(
        &json!({"alg": "none"}),
        &claims_for(A_ID),
        &Signer::Unsigned,
    );
    let token = sign_bytes(
        br#"{"alg":"HS256","cty":"JWT"}"#,
        inner.as_bytes(),
        &hs_signer(),
    );
    assert_malformed(&verifier, &token).await;
}

#[tokio::test]
async fn a33_oversized_tokens_are_refused_before_any_work() {
    let verifier = hs_verifier();
    // 16 KB token of valid characters.
    let big = format!(
        "{}.{}.{}",
        "a".repeat(8 * 1024),
        "b".repeat(8 * 1024),
        "c".repeat(100)
    );
    assert_malformed(&verifier, &big).await;
    // 200 claims, each 100 bytes: well over 8 KiB once encoded.
    let mut claims = claims_for(A_ID);
    for i in 0..200 {
        claims[format!("claim{i}")] = json!("x".repeat(100));
    }
    let token = mint(&hs_header(), &claims, &hs_signer());
    assert_malformed(&verifier, &token).await;
    // A 1 MB Authorization header.
    let value = format!("Bearer {}", "a".repeat(1024 * 1024));
    let reply = send(
        &app(verifier.clone()),
        &tasks_path(A_ID),
        &[value.as_bytes()],
    )
    .await;
    assert_eq!(reply.status, http::StatusCode::UNAUTHORIZED);
    reply.assert_no_data();
    // A 1 MB value inside a header member.
    let token = mint(
        &json!({"alg": "HS256", "x": "y".repeat(1024 * 1024)}),
        &claims_for(A_ID),
        &hs_signer(),
    );
    assert_malformed(&verifier, &token).await;
}
