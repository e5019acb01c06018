use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tessera_verify::{ManualClock, Verifier, VerifyError};

use crate::support::*;

fn token_with(changes: Value) -> String {
    mint(&hs_header(), &claims_with(&changes), &hs_signer())
}

#[tokio::test]
async fn a21_expired_beyond_leeway_is_refused_and_near_expiry_is_accepted() {
    let verifier = hs_verifier();
    let now = now();
    // Default leeway is 30 s.
    let expired = token_with(json!({"iat": now - 600, "exp": now - 35}));
    assert_refused(&verifier, &expired, VerifyError::Expired).await;
    let reply = get_with_token(&app(verifier.clone()), &tasks_path(A_ID), &expired).await;
    assert_eq!(
        reply.body,
        r#"{"message":"Token expired","code":"INVALID_TOKEN"}"#
    );
    assert_accepted(&verifier, &token_with(json!({"exp": now + 10}))).await;
}

#[tokio::test]
async fn a21_expiry_boundary_follows_the_leeway_exactly() {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .leeway(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    let token = token_with(json!({"iat": 999_900, "exp": 1_000_000}));
    clock.set(1_000_009);
    assert!(verifier.verify(&token).await.is_ok());
    clock.set(1_000_010);
    assert_eq!(verifier.verify(&token).await, Err(VerifyError::Expired));
}

#[tokio::test]
async fn a22_missing_or_mistyped_exp_is_refused() {
    let verifier = hs_verifier();
    assert_refused(
        &verifier,
        &token_with(json!({"exp": null})),
        VerifyError::MissingClaim("exp"),
    )
    .await;
    for exp in [
        json!("9999999999"),
        json!(1e308),
        json!(-1),
        json!(true),
        json!([1]),
        json!({"v": 1}),
        json!(9_223_372_036_854_775_808_u64), // 2^63
        json!(u64::MAX),
        json!(1.5),
    ] {
        assert_refused(
            &verifier,
            &token_with(json!({"exp": exp})),
            VerifyError::InvalidClaim("exp"),
        )
        .await;
    }
    // JSON null spelled out (not removed): built by hand.
    let payload = format!(r#"{{"sub":"{A_ID}","iss":"{ISS}","aud":"{AUD}","exp":null}}"#);
    let token = sign_bytes(
        hs_header().to_string().as_bytes(),
        payload.as_bytes(),
        &hs_signer(),
    );
    assert_refused(&verifier, &token, VerifyError::InvalidClaim("exp")).await;
    // A float spelled like an integer with an exponent.
    let payload = format!(r#"{{"sub":"{A_ID}","iss":"{ISS}","aud":"{AUD}","exp":1e10}}"#);
    let token = sign_bytes(
        hs_header().to_string().as_bytes(),
        payload.as_bytes(),
        &hs_signer(),
    );
    assert_refused(&verifier, &token, VerifyError::InvalidClaim("exp")).await;
}

#[tokio::test]
async fn a22_mistyped_nbf_and_iat_are_refused() {
    let verifier = hs_verifier();
    for (name, value) in [
        ("nbf", json!("0")),
        ("iat", json!(1.0e3)),
        ("iat", json!(-5)),
        ("nbf", json!([0])),
    ] {
        let expected = VerifyError::InvalidClaim(if name == "nbf" { "nbf" } else { "iat" });
        assert_refused(&verifier, &token_with(json!({name: value})), expected).await;
    }
}

#[tokio::test]
async fn a23_not_yet_valid_is_refused() {
    let verifier = hs_verifier();
    let now = now();
    assert_refused(
        &verifier,
        &token_with(json!({"nbf": now + 3600})),
        VerifyError::NotYetValid,
    )
    .await;
    assert_accepted(&verifier, &token_with(json!({"nbf": now + 5}))).await;
}

#[tokio::test]
async fn a24_future_iat_and_absurd_lifetimes_are_refused() {
    let verifier = hs_verifier();
    let now = now();
    assert_refused(
        &verifier,
        &token_with(json!({"iat": now + 3600, "exp": now + 3900})),
        VerifyError::IssuedInFuture,
    )
    .await;
    let ten_years = 10 * 365 * 24 * 3600;
    assert_refused(
        &verifier,
        &token_with(json!({"exp": now + ten_years})),
        VerifyError::InvalidClaim("exp"),
    )
    .await;
    // Without iat the lifetime is measured from now.
    assert_refused(
        &verifier,
        &token_with(json!({"iat": null, "exp": now + ten_years})),
        VerifyError::InvalidClaim("exp"),
    )
    .await;
    // A configurable bound.
    let strict = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .max_lifetime(Duration::from_secs(900))
        .build()
        .unwrap();
    assert_refused(
        &strict,
        &token_with(json!({"iat": now, "exp": now + 3600})),
        VerifyError::InvalidClaim("exp"),
    )
    .await;
    assert_accepted(&strict, &token_with(json!({"iat": now, "exp": now + 900}))).await;
}

#[tokio::test]
async fn a25_wrong_or_missing_issuer_is_refused() {
    let verifier = hs_verifier();
    for iss in [
        json!("evil"),
        json!(""),
        json!(["https://auth.test"]),
        json!("https://auth.test/"),
        json!("HTTPS://AUTH.TEST"),
        json!(1),
    ] {
        assert_refused(
            &verifier,
            &token_with(json!({"iss": iss})),
            VerifyError::WrongIssuer,
        )
        .await;
    }
    assert_refused(
        &verifier,
        &token_with(json!({"iss": null})),
        VerifyError::MissingClaim("iss"),
    )
    .await;
}

#[tokio::test]
async fn a26_wrong_or_missing_audience_is_refused() {
    let verifier = hs_verifier();
    for aud in [
        json!("other-service"),
        json!([]),
        json!(["other"]),
        json!(""),
        json!("https://api.test/"),
    ] {
        assert_refused(
            &verifier,
            &token_with(json!({"aud": aud})),
            VerifyError::WrongAudience,
        )
        .await;
    }
    assert_refused(
        &verifier,
        &token_with(json!({"aud": null})),
        VerifyError::MissingClaim("aud"),
    )
    .await;
    for aud in [json!(7), json!({"aud": AUD}), json!([AUD, 7])] {
        assert_refused(
            &verifier,
            &token_with(json!({"aud": aud})),
            VerifyError::InvalidClaim("aud"),
        )
        .await;
    }
    assert_accepted(&verifier, &token_with(json!({"aud": ["other", AUD]}))).await;
}

#[tokio::test]
async fn a26_any_configured_audience_is_accepted() {
    let verifier = Verifier::builder()
        .issuer(ISS)
        .audiences(["https://one.test", "https://two.test"])
        .hs256_secret(SECRET)
        .build()
        .unwrap();
    assert_accepted(&verifier, &token_with(json!({"aud": "https://two.test"}))).await;
    assert_refused(
        &verifier,
        &token_with(json!({"aud": AUD})),
        VerifyError::WrongAudience,
    )
    .await;
}

/// Decision (A27): the `typ` header may be absent (Better Auth sends none), `JWT`, or
/// `at+jwt`; any other value names a different kind of token and is refused. Tokens for
/// another issuer or audience (e.g. Better Auth's email-verification JWT, which has neither)
/// fail the `iss`/`aud` checks.
#[tokio::test]
async fn a27_other_token_types_and_other_issuers_are_refused() {
    let verifier = hs_verifier();
    let claims = claims_for(A_ID);
    for typ in [
        json!("refresh+jwt"),
        json!("JWE"),
        json!("secevent+jwt"),
        json!(1),
    ] {
        let token = mint(&json!({"alg": "HS256", "typ": typ}), &claims, &hs_signer());
        assert_refused(&verifier, &token, VerifyError::WrongType).await;
    }
    for typ in ["JWT", "jwt", "at+jwt", "application/at+jwt"] {
        let token = mint(&json!({"alg": "HS256", "typ": typ}), &claims, &hs_signer());
        assert_accepted(&verifier, &token).await;
    }
    // Better Auth's email-verification token shape: no iss, no aud, no sub.
    let now = now();
    let email_token = mint(
        &hs_header(),
        &json!({"email": "a@example.com", "userId": A_ID, "iat": now, "exp": now + 3600}),
        &hs_signer(),
    );
    assert_refused(&verifier, &email_token, VerifyError::MissingClaim("iss")).await;
    // Same issuer, token minted for another service.
    assert_refused(
        &verifier,
        &token_with(json!({"aud": "https://billing.test"})),
        VerifyError::WrongAudience,
    )
    .await;
}

#[tokio::test]
async fn a29_duplicate_claims_are_refused() {
    let verifier = hs_verifier();
    let now = now();
    let header = hs_header().to_string();
    for payload in [
        format!(
            r#"{{"sub":"{A_ID}","sub":"{B_ID}","iss":"{ISS}","aud":"{AUD}","exp":{}}}"#,
            now + 60
        ),
        format!(
            r#"{{"sub":"{B_ID}","sub":"{A_ID}","iss":"{ISS}","aud":"{AUD}","exp":{}}}"#,
            now + 60
        ),
        format!(
            r#"{{"sub":"{A_ID}","iss":"{ISS}","aud":"{AUD}","exp":{},"exp":{}}}"#,
            now - 600,
            now + 60
        ),
        format!(
            r#"{{"sub":"{A_ID}","iss":"evil","iss":"{ISS}","aud":"{AUD}","exp":{}}}"#,
            now + 60
        ),
        format!(
            r#"{{"sub":"{A_ID}","iss":"{ISS}","aud":"{AUD}","exp":{},"sid":"x","sid":"y"}}"#,
            now + 60
        ),
        // Duplicates below the top level are refused too.
        format!(
            r#"{{"sub":"{A_ID}","iss":"{ISS}","aud":"{AUD}","exp":{},"role":{{"a":1,"a":2}}}}"#,
            now + 60
        ),
    ] {
        let token = sign_bytes(header.as_bytes(), payload.as_bytes(), &hs_signer());
        match verifier.verify(&token).await {
            Err(VerifyError::Malformed(_)) => {}
            other => panic!("duplicate claims accepted: {other:?}"),
        }
        for user in [A_ID, B_ID] {
            let reply = get_with_token(&app(verifier.clone()), &tasks_path(user), &token).await;
            assert_eq!(reply.status, http::StatusCode::UNAUTHORIZED);
            reply.assert_no_data();
        }
    }
}

#[tokio::test]
async fn a30_non_utf8_payloads_are_refused() {
    let verifier = hs_verifier();
    let header = hs_header().to_string();
    let json_text = claims_for(A_ID).to_string();
    // UTF-16LE with a BOM.
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in json_text.encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    // Invalid UTF-8 inside a string value.
    let mut invalid = json_text.clone().into_bytes();
    let pos = invalid.len() - 1;
    invalid.splice(pos..pos, *b",\"x\":\"\xff\"");
    // A UTF-8 BOM in front.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(json_text.as_bytes());
    // A lone surrogate escape.
    let surrogate = json_text.replacen('{', r#"{"x":"\ud800","#, 1).into_bytes();
    for payload in [utf16, invalid, bom, surrogate] {
        let token = sign_bytes(header.as_bytes(), &payload, &hs_signer());
        match verifier.verify(&token).await {
            Err(VerifyError::Malformed(_)) => {}
            other => panic!("non-UTF-8 payload accepted: {other:?}"),
        }
        let reply = get_with_token(&app(verifier.clone()), &tasks_path(A_ID), &token).await;
        assert_eq!(reply.status, http::StatusCode::UNAUTHORIZED);
        reply.assert_no_data();
    }
    // Non-UTF-8 header.
    let token = sign_bytes(
        b"{\"alg\":\"HS256\",\"x\":\"\xff\"}",
        json_text.as_bytes(),
        &hs_signer(),
    );
    assert!(matches!(
        verifier.verify(&token).await,
        Err(VerifyError::Malformed(_))
    ));
}

#[tokio::test]
async fn a36_sub_must_be_a_non_empty_string() {
    let verifier = hs_verifier();
    for sub in [
        json!(123),
        json!(""),
        json!(null),
        json!([A_ID]),
        json!({"id": A_ID}),
        json!(true),
    ] {
        let expected = if sub.is_null() {
            VerifyError::MissingClaim("sub")
        } else {
            VerifyError::InvalidClaim("sub")
        };
        assert_refused(&verifier, &token_with(json!({"sub": sub})), expected).await;
    }
}

#[tokio::test]
async fn payload_must_be_a_json_object() {
    let verifier = hs_verifier();
    for payload in [&b"[]"[..], b"\"sub\"", b"42", b"null", b"", b"{"] {
        let token = sign_bytes(hs_header().to_string().as_bytes(), payload, &hs_signer());
        assert!(
            matches!(
                verifier.verify(&token).await,
                Err(VerifyError::Malformed(_))
            ),
            "{payload:?}"
        );
    }
}

#[tokio::test]
async fn typed_claims_and_raw_claims_are_returned() {
    let verifier = hs_verifier();
    let token = token_with(
        json!({"email": "a@example.com", "name": "Alice", "jti": "j-1", "role": "admin"}),
    );
    let claims = verifier.verify(&token).await.unwrap();
    assert_eq!(claims.sub, A_ID);
    assert_eq!(claims.sid.as_deref(), Some(&*format!("sid-{A_ID}")));
    assert_eq!(claims.email.as_deref(), Some("a@example.com"));
    assert_eq!(claims.name.as_deref(), Some("Alice"));
    assert_eq!(claims.jti.as_deref(), Some("j-1"));
    assert_eq!(claims.iss, ISS);
    assert_eq!(claims.aud, vec![AUD.to_string()]);
    assert_eq!(claims.raw["role"], "admin");
    assert_eq!(claims.alg, tessera_verify::Algorithm::Hs256);
    // A mistyped sid fails closed (it feeds revocation); a mistyped email is just dropped.
    let token = token_with(json!({"sid": 5}));
    assert_eq!(
        verifier.verify(&token).await,
        Err(VerifyError::InvalidClaim("sid"))
    );
    let token = token_with(json!({"email": false}));
    assert_eq!(verifier.verify(&token).await.unwrap().email, None);
}
