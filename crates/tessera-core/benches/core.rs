//! Costs of the per-request primitives in `tessera-core`: session-token digests (every
//! get-session, /token and sign-out), cookie signatures, ids, timestamps, the common-password
//! check, and the Argon2id hash and verify that sign-up and sign-in pay.
//! Run with `cargo bench -p tessera-core` (the Argon2 cases take ~20 s).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tessera_core::cookie::CookieSigner;
use tessera_core::id::new_id;
use tessera_core::timefmt::iso_millis;
use tessera_core::{Password, PasswordHasher, SessionToken, TokenDigest};

const SECRET: &[u8] = b"bench-server-secret-0123456789abcdef0123456789";

fn bench_tokens(c: &mut Criterion) {
    let mut g = c.benchmark_group("core");
    let token = SessionToken::generate();
    let raw = token.expose().to_owned();
    g.bench_function("session_token_digest", |b| {
        b.iter(|| TokenDigest::of(black_box(&raw)));
    });
    g.bench_function("session_token_generate", |b| b.iter(SessionToken::generate));
    let signer = CookieSigner::new(SECRET);
    g.bench_function("cookie_sign", |b| b.iter(|| signer.sign(black_box(&raw))));
    let signed = signer.sign(&raw);
    g.bench_function("cookie_verify", |b| {
        b.iter(|| signer.verify(black_box(&signed)).unwrap().len());
    });
    g.bench_function("new_id", |b| b.iter(new_id));
    g.bench_function("iso_millis", |b| {
        b.iter(|| iso_millis(black_box(1_795_487_939_158)));
    });
    let pw = Password::new("tessera-bench-7f3a9c-Lq").unwrap();
    g.bench_function("common_password_check", |b| {
        b.iter(|| tessera_core::common::is_common(black_box(&pw)));
    });
    g.finish();
}

fn bench_argon2(c: &mut Criterion) {
    let mut g = c.benchmark_group("argon2id_owasp");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let hasher = PasswordHasher::default();
    let pw = Password::new("tessera-bench-7f3a9c-Lq").unwrap();
    let stored = hasher.hash(&pw);
    g.bench_function("hash", |b| b.iter(|| hasher.hash(black_box(&pw))));
    g.bench_function("verify", |b| {
        b.iter(|| hasher.verify(black_box(&pw), black_box(&stored)));
    });
    // As the server's hashing threads do: one buffer kept between hashes.
    let mut memory = tessera_core::HashMemory::default();
    g.bench_function("verify_with_kept_memory", |b| {
        b.iter(|| hasher.verify_with(black_box(&pw), black_box(&stored), &mut memory));
    });
    g.finish();
}

criterion_group!(benches, bench_tokens, bench_argon2);
criterion_main!(benches);
