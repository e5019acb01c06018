use std::time::Duration;

use tessera_verify::{ConfigError, Verifier};

use crate::support::*;

#[test]
fn issuer_and_audience_are_required() {
    let err = Verifier::builder()
        .audience(AUD)
        .hs256_secret(SECRET)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingIssuer);
    let err = Verifier::builder()
        .issuer(ISS)
        .hs256_secret(SECRET)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingAudience);
    let err = Verifier::builder()
        .issuer("")
        .audience(AUD)
        .hs256_secret(SECRET)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::EmptyIssuerOrAudience);
    let err = Verifier::builder()
        .issuer(ISS)
        .audience("")
        .hs256_secret(SECRET)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::EmptyIssuerOrAudience);
    let err = Verifier::builder()
        .issuer(ISS)
        .audiences(Vec::<String>::new())
        .hs256_secret(SECRET)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingAudience);
}

#[test]
fn leeway_above_300_seconds_is_refused() {
    let build = |secs| {
        Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .hs256_secret(SECRET)
            .leeway(Duration::from_secs(secs))
            .build()
    };
    assert_eq!(build(301).unwrap_err(), ConfigError::LeewayTooLarge);
    assert_eq!(build(3600).unwrap_err(), ConfigError::LeewayTooLarge);
    assert!(build(300).is_ok());
    assert!(build(0).is_ok());
}

#[test]
fn short_hs256_secrets_are_refused() {
    for len in [0, 1, 16, 31] {
        let err = Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .hs256_secret(vec![7u8; len])
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::WeakSecret(len));
    }
    let err = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret("secret")
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::WeakSecret(6));
    assert!(
        Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .hs256_secret([7u8; 32])
            .build()
            .is_ok()
    );
}

#[test]
fn exactly_one_key_source() {
    let err = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MissingKeySource);
    let key = EdKey::new("k");
    let err = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(SECRET)
        .jwks_json(&jwks(&[key.jwk()]))
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MultipleKeySources);
    let err = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .jwks_json(&jwks(&[key.jwk()]))
        .remote_jwks("https://auth.test/api/auth/jwks")
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::MultipleKeySources);
}

#[test]
fn bad_jwks_documents_are_refused() {
    for doc in ["", "[]", "{}", r#"{"keys":"x"}"#, "not json"] {
        let err = Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .jwks_json(doc)
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidJwks(_)), "{doc}: {err:?}");
    }
    let err = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .jwks_json(r#"{"keys":[]}"#)
        .build()
        .unwrap_err();
    assert_eq!(err, ConfigError::NoUsableKeys);
}

#[test]
fn nonsense_settings_are_refused() {
    let base = || {
        Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .hs256_secret(SECRET)
    };
    assert_eq!(
        base().max_lifetime(Duration::ZERO).build().unwrap_err(),
        ConfigError::InvalidSetting("max_lifetime")
    );
    assert_eq!(
        base().cache(0).build().unwrap_err(),
        ConfigError::InvalidSetting("cache")
    );
    assert_eq!(
        base().http_timeout(Duration::ZERO).build().unwrap_err(),
        ConfigError::InvalidSetting("http_timeout")
    );
}

#[test]
fn debug_output_never_contains_the_secret() {
    let secret = "a-very-secret-hs256-key-that-must-not-leak";
    let builder = Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .hs256_secret(secret);
    assert!(!format!("{builder:?}").contains(secret));
    let verifier = builder.build().unwrap();
    let debug = format!("{verifier:?}");
    assert!(!debug.contains(secret));
    assert!(debug.contains(ISS));
}

#[test]
fn verifier_is_clone_send_sync() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Verifier>();
    assert_traits::<tessera_verify::KeySetHandle>();
    assert_traits::<tessera_verify::RevokedSessions>();
}
