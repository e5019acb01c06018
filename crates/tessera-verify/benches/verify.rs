//! Cost of one `Verifier::verify` call per algorithm, with and without the verified-token
//! cache. Run with `cargo bench -p tessera-verify`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use tessera_verify::{Jwk, JwkSet, Verifier};

const ISS: &str = "https://auth.example.com";
const AUD: &str = "https://api.example.com";
const SECRET: &[u8] = b"bench-secret-bench-secret-bench-secret!!";

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A Better-Auth-sized payload (about 400 bytes of claims).
fn payload() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    b64(format!(
        r#"{{"iat":{now},"name":"Alice","email":"alice@example.com","emailVerified":false,"createdAt":"2026-11-24T02:38:59.158Z","updatedAt":"2026-11-24T02:38:59.158Z","id":"qafhHlfv2YJsOjN1IT8GqEy9REhlssfn","sub":"qafhHlfv2YJsOjN1IT8GqEy9REhlssfn","sid":"s-1","exp":{},"iss":"{ISS}","aud":"{AUD}"}}"#,
        now + 3600
    ))
}

fn builder() -> tessera_verify::VerifierBuilder {
    Verifier::builder().issuer(ISS).audience(AUD)
}

type MakeBuilder = Box<dyn Fn() -> tessera_verify::VerifierBuilder>;

fn cases() -> Vec<(&'static str, MakeBuilder, String)> {
    let hs_input = format!("{}.{}", b64(r#"{"alg":"HS256","typ":"JWT"}"#), payload());
    let hs_tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, SECRET),
        hs_input.as_bytes(),
    );
    let hs_token = format!("{hs_input}.{}", b64(hs_tag));

    let ed = Ed25519KeyPair::generate().unwrap();
    let ed_input = format!("{}.{}", b64(r#"{"alg":"EdDSA","kid":"ed"}"#), payload());
    let ed_token = format!("{ed_input}.{}", b64(ed.sign(ed_input.as_bytes())));
    let ed_set = JwkSet {
        keys: vec![Jwk::ed25519("ed", ed.public_key().as_ref())],
    };

    let es = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let es_input = format!("{}.{}", b64(r#"{"alg":"ES256","kid":"es"}"#), payload());
    let es_sig = es.sign(&SystemRandom::new(), es_input.as_bytes()).unwrap();
    let es_token = format!("{es_input}.{}", b64(es_sig));
    let es_set = JwkSet {
        keys: vec![Jwk::es256("es", es.public_key().as_ref())],
    };

    vec![
        (
            "HS256",
            Box::new(|| builder().hs256_secret(SECRET)),
            hs_token,
        ),
        (
            "EdDSA",
            Box::new(move || builder().jwks(ed_set.clone())),
            ed_token,
        ),
        (
            "ES256",
            Box::new(move || builder().jwks(es_set.clone())),
            es_token,
        ),
    ]
}

fn bench_verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("verify");
    for (name, make, token) in cases() {
        for cached in [false, true] {
            let builder = make();
            let verifier = if cached { builder.cache(1024) } else { builder }
                .build()
                .unwrap();
            runtime.block_on(verifier.verify(&token)).unwrap();
            let label = format!("{name}{}", if cached { "/cached" } else { "" });
            group.bench_function(label, |b| {
                b.iter(|| {
                    runtime
                        .block_on(verifier.verify(black_box(&token)))
                        .unwrap()
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
