use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tessera_verify::{Claims, ManualClock, Verifier, VerifyError};

use crate::support::{AUD, ISS, SECRET, hs_header, hs_signer, mint};

/// The clock reading every token is checked at.
const NOW: i64 = 1_767_225_600;
const LEEWAY: i64 = 30;
const MAX_LIFETIME: i64 = 3600;

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
}

fn verifier() -> Verifier {
    Verifier::builder()
        .issuer(ISS)
        .audience(AUD)
        .leeway(Duration::from_secs(30))
        .max_lifetime(Duration::from_secs(3600))
        .clock(Arc::new(ManualClock::new(NOW)))
        .hs256_secret(SECRET)
        .build()
        .unwrap()
}

fn verify(claims: &Map<String, Value>) -> Result<Claims, VerifyError> {
    let token = mint(&hs_header(), &Value::Object(claims.clone()), &hs_signer());
    RUNTIME.with(|rt| rt.block_on(verifier().verify(&token)))
}

#[derive(Debug, Clone)]
enum Iss {
    Ours,
    Other(&'static str),
    Missing,
}

#[derive(Debug, Clone)]
enum Aud {
    Ours,
    OursAmong(Vec<String>),
    Other(String),
    Others(Vec<String>),
    Missing,
}

#[derive(Debug, Clone)]
enum Sub {
    Some(String),
    Empty,
    Missing,
}

/// A time claim: absent, or an offset from `NOW` — anywhere, or right at an edge the rules
/// care about (the leeway, the maximum lifetime).
fn time_claim() -> impl Strategy<Value = Option<i64>> {
    let edges = [
        -LEEWAY - 1,
        -LEEWAY,
        -LEEWAY + 1,
        0,
        LEEWAY - 1,
        LEEWAY,
        LEEWAY + 1,
        MAX_LIFETIME - 1,
        MAX_LIFETIME,
        MAX_LIFETIME + 1,
        MAX_LIFETIME + LEEWAY,
        MAX_LIFETIME + LEEWAY + 1,
    ];
    prop_oneof![
        1 => Just(None),
        3 => (-2 * MAX_LIFETIME..2 * MAX_LIFETIME).prop_map(Some),
        3 => proptest::sample::select(edges.to_vec()).prop_map(Some),
    ]
    .prop_map(|offset| offset.map(|o| NOW + o))
}

fn iss() -> impl Strategy<Value = Iss> {
    prop_oneof![
        4 => Just(Iss::Ours),
        1 => proptest::sample::select(vec![
            "https://evil.test",
            "",
            "https://auth.test/",
            "HTTPS://AUTH.TEST",
            "https://auth.test ",
        ])
        .prop_map(Iss::Other),
        1 => Just(Iss::Missing),
    ]
}

fn aud() -> impl Strategy<Value = Aud> {
    let other = "https://[a-z]{1,8}\\.test";
    prop_oneof![
        3 => Just(Aud::Ours),
        2 => proptest::collection::vec(other, 0..3).prop_map(Aud::OursAmong),
        1 => other.prop_map(Aud::Other),
        1 => proptest::collection::vec(other, 0..3).prop_map(Aud::Others),
        1 => Just(Aud::Missing),
    ]
}

fn sub() -> impl Strategy<Value = Sub> {
    prop_oneof![
        4 => "[A-Za-z0-9_]{1,16}".prop_map(Sub::Some),
        1 => Just(Sub::Empty),
        1 => Just(Sub::Missing),
    ]
}

fn claim_set(
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    iss: &Iss,
    aud: &Aud,
    sub: &Sub,
) -> Map<String, Value> {
    let mut m = Map::new();
    for (name, value) in [("exp", exp), ("nbf", nbf), ("iat", iat)] {
        if let Some(v) = value {
            m.insert(name.into(), json!(v));
        }
    }
    match iss {
        Iss::Ours => _ = m.insert("iss".into(), json!(ISS)),
        Iss::Other(other) => _ = m.insert("iss".into(), json!(other)),
        Iss::Missing => {}
    }
    match aud {
        Aud::Ours => _ = m.insert("aud".into(), json!(AUD)),
        Aud::OursAmong(others) => {
            let mut all = others.clone();
            all.insert(others.len() / 2, AUD.to_owned());
            m.insert("aud".into(), json!(all));
        }
        Aud::Other(other) => _ = m.insert("aud".into(), json!(other)),
        Aud::Others(others) => _ = m.insert("aud".into(), json!(others)),
        Aud::Missing => {}
    }
    match sub {
        Sub::Some(s) => _ = m.insert("sub".into(), json!(s)),
        Sub::Empty => _ = m.insert("sub".into(), json!("")),
        Sub::Missing => {}
    }
    m
}

/// The rules, read independently of the library (RFC 7519 §4.1 with the documented leeway
/// and lifetime bound).
fn acceptable(
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    iss: &Iss,
    aud: &Aud,
    sub: &Sub,
) -> bool {
    let Some(exp) = exp else { return false };
    let times = NOW < exp + LEEWAY
        && nbf.is_none_or(|nbf| nbf <= NOW + LEEWAY)
        && iat.is_none_or(|iat| iat <= NOW + LEEWAY)
        && exp - NOW <= MAX_LIFETIME + LEEWAY
        && iat.is_none_or(|iat| exp - iat <= MAX_LIFETIME);
    times
        && matches!(iss, Iss::Ours)
        && matches!(aud, Aud::Ours | Aud::OursAmong(_))
        && matches!(sub, Sub::Some(_))
}

/// A value of the wrong JSON type (or an unacceptable value) for a registered claim.
fn wrong_value(claim: &'static str) -> BoxedStrategy<Value> {
    let any_non_string = prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<bool>().prop_map(|b| json!(b)),
        Just(Value::Null),
        Just(json!({"value": 1})),
        Just(json!([1])),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
    ];
    match claim {
        "exp" | "nbf" | "iat" => prop_oneof![
            (NOW - 10..NOW + 10).prop_map(|t| json!(t.to_string())),
            (NOW - 10..NOW + 10).prop_map(|t| json!(t as f64 + 0.5)),
            (NOW - 10..NOW + 10).prop_map(|t| json!(t as f64)),
            (i64::MIN..0).prop_map(|n| json!(n)),
            (i64::MAX.unsigned_abs() + 1..=u64::MAX).prop_map(|n| json!(n)),
            any::<bool>().prop_map(|b| json!(b)),
            Just(Value::Null),
            Just(json!([NOW])),
            Just(json!({"t": NOW})),
        ]
        .boxed(),
        "aud" => prop_oneof![
            any_non_string
                .clone()
                .prop_filter("arrays of strings are valid", |v| !v.is_array()),
            Just(json!([AUD, 1])),
            Just(json!([[AUD]])),
            Just(json!([null, AUD])),
        ]
        .boxed(),
        "iss" => prop_oneof![any_non_string.clone(), Just(json!([ISS]))].boxed(),
        "sub" => prop_oneof![any_non_string.clone(), Just(json!(""))].boxed(),
        // sid and jti feed revocation decisions: strings or nothing.
        _ => any_non_string.boxed(),
    }
}

fn valid_claims() -> Map<String, Value> {
    let Value::Object(m) = json!({
        "sub": "usr_prop", "sid": "sid_prop", "jti": "jti_prop",
        "iss": ISS, "aud": AUD, "iat": NOW - 5, "nbf": NOW - 5, "exp": NOW + 600,
    }) else {
        unreachable!()
    };
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A random claim set is accepted exactly when the rules say so, and an accepted one
    /// comes back as it was sent.
    #[test]
    fn random_claim_sets_are_accepted_exactly_when_the_rules_allow(
        exp in time_claim(), nbf in time_claim(), iat in time_claim(),
        iss in iss(), aud in aud(), sub in sub(),
    ) {
        let claims = claim_set(exp, nbf, iat, &iss, &aud, &sub);
        let result = verify(&claims);
        let expected = acceptable(exp, nbf, iat, &iss, &aud, &sub);
        prop_assert_eq!(result.is_ok(), expected, "{:?} for {:?}", result, claims);
        if let Ok(c) = result {
            prop_assert!(c.exp > NOW - LEEWAY);
            prop_assert_eq!(Some(c.exp), exp);
            prop_assert_eq!(c.nbf, nbf);
            prop_assert_eq!(c.iat, iat);
            prop_assert_eq!(c.iss.as_str(), ISS);
            prop_assert!(c.aud.iter().any(|a| a == AUD));
            prop_assert_eq!(c.raw, claims);
        }
    }

    /// Any registered claim of the wrong JSON type (or an impossible value) is refused,
    /// whatever else the token says.
    #[test]
    fn a_registered_claim_of_the_wrong_type_is_refused(
        (claim, value) in proptest::sample::select(
            vec!["exp", "nbf", "iat", "iss", "aud", "sub", "sid", "jti"]
        ).prop_flat_map(|c| (Just(c), wrong_value(c)))
    ) {
        prop_assert!(verify(&valid_claims()).is_ok(), "the baseline is valid");
        let mut claims = valid_claims();
        claims.insert(claim.to_owned(), value.clone());
        let result = verify(&claims);
        prop_assert!(result.is_err(), "{} = {} was accepted", claim, value);
    }

    /// Unknown claims of any type never change the verdict on an otherwise valid token.
    #[test]
    fn private_claims_of_any_type_are_carried_not_judged(
        name in "[a-z][a-zA-Z_]{0,10}".prop_filter("not registered", |n| {
            !["exp", "nbf", "iat", "iss", "aud", "sub", "sid", "jti"].contains(&n.as_str())
        }),
        value in prop_oneof![
            any::<i64>().prop_map(|n| json!(n)),
            ".{0,20}".prop_map(|s| json!(s)),
            Just(Value::Null),
            Just(json!({"nested": [1, "x", null]})),
        ],
    ) {
        let mut claims = valid_claims();
        claims.insert(name.clone(), value.clone());
        let c = verify(&claims).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(c.raw.get(&name), Some(&value));
    }
}
