//! The `verify_token` harness: arbitrary input through `tessera_verify::Verifier::verify`.
//!
//! Shared by the fuzz target (`fuzz/fuzz_targets/verify_token.rs`) and the regression test
//! of tessera-verify (`tests/verify/fuzz_regressions.rs`), so every input kept in
//! `fuzz/regressions/verify_token/` is replayed by `cargo test` through this same code.
//!
//! The first input byte picks a mode (low three bits); the rest is data:
//!
//! * 0, 5, 6, 7: the data is a token (lossy UTF-8), verified as it is;
//! * 1 / 2: the data is `header JSON` `0x00` `payload JSON`, base64url-encoded and signed
//!   with the HS256 secret / the Ed25519 key, so inputs get past the signature and exercise
//!   the header and claims checks;
//! * 3 / 4: the data is the payload JSON under a fixed valid header, signed (HS256 / EdDSA).
//!
//! Every token goes through an HS256 verifier and a static-JWKS EdDSA verifier (both with a
//! revocation hook), and through fresh copies of both with the verified-token cache on, at
//! several clock readings. What must hold, whatever the input:
//!
//! * nothing panics, and no error answers 5xx (the keys are static);
//! * anything accepted carries the configured `iss` and `aud`, a non-empty `sub`, `exp`,
//!   `nbf` and `iat` within the leeway, a lifetime within the maximum, the algorithm of the
//!   verifier's key, a non-revoked `sid`, and (when the harness signed the payload) exactly
//!   the claims that were signed;
//! * no token is accepted by both verifiers (no HS256/EdDSA confusion);
//! * the cached verifiers answer exactly as the uncached ones, at every clock reading.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tessera_verify::{
    Algorithm, Claims, Jwk, JwkSet, ManualClock, RevokedSessions, Verifier, VerifyError,
};

/// The configured issuer.
pub(crate) const ISS: &str = "https://auth.fuzz.test";
/// The configured audience.
pub(crate) const AUD: &str = "https://api.fuzz.test";
/// The HS256 shared secret.
pub(crate) const HS_SECRET: &[u8] = b"fuzz-shared-secret-0123456789abcdef-0123";
/// Seed of the Ed25519 key the static JWKS publishes.
pub(crate) const ED_SEED: [u8; 32] = [7; 32];
/// `kid` of that key.
pub(crate) const ED_KID: &str = "fuzz-ed-1";
/// The clock reading tokens are checked at first (2026-01-01T00:00:00Z).
pub(crate) const NOW: i64 = 1_767_225_600;
/// Leeway of every verifier, in seconds.
pub(crate) const LEEWAY: i64 = 30;
/// Longest token lifetime accepted, in seconds.
pub(crate) const MAX_LIFETIME: i64 = 3600;
/// A session id the revocation hook refuses.
pub(crate) const REVOKED_SID: &str = "sid-revoked";
/// Clock offsets (from [`NOW`]) at which each token is re-verified, uncached and cached:
/// around the leeway, the cache lifetime (60 s) and the maximum lifetime.
const OFFSETS: [i64; 6] = [0, -31, 29, 61, 901, 3631];

/// The verifiers and keys, built once per process.
pub(crate) struct VerifyHarness {
    runtime: tokio::runtime::Runtime,
    clock: Arc<ManualClock>,
    revoked: RevokedSessions,
    hs: Verifier,
    ed: Verifier,
    ed_key: Ed25519KeyPair,
    hs_key: hmac::Key,
}

/// Which verifier a token is meant for, when the harness signed it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SignedWith {
    Nothing,
    Hs256,
    EdDsa,
}

impl VerifyHarness {
    /// Builds the runtime, the keys and the two long-lived verifiers.
    pub(crate) fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let clock = Arc::new(ManualClock::new(NOW));
        let revoked = RevokedSessions::new();
        revoked.insert(REVOKED_SID);
        let ed_key = Ed25519KeyPair::from_seed_unchecked(&ED_SEED).expect("an Ed25519 seed");
        let hs = Self::hs_verifier(&clock, &revoked, false);
        let ed = Self::ed_verifier(&clock, &revoked, &ed_key, false);
        Self {
            runtime,
            clock,
            revoked,
            hs,
            ed,
            ed_key,
            hs_key: hmac::Key::new(hmac::HMAC_SHA256, HS_SECRET),
        }
    }

    fn hs_verifier(clock: &Arc<ManualClock>, revoked: &RevokedSessions, cache: bool) -> Verifier {
        let mut b = Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .leeway(Duration::from_secs(LEEWAY.unsigned_abs()))
            .max_lifetime(Duration::from_secs(MAX_LIFETIME.unsigned_abs()))
            .clock(clock.clone())
            .revocation(Arc::new(revoked.clone()))
            .hs256_secret(HS_SECRET);
        if cache {
            b = b.cache(16);
        }
        b.build().expect("the HS256 verifier builds")
    }

    fn ed_verifier(
        clock: &Arc<ManualClock>,
        revoked: &RevokedSessions,
        key: &Ed25519KeyPair,
        cache: bool,
    ) -> Verifier {
        let jwks = JwkSet {
            keys: vec![Jwk::ed25519(ED_KID, key.public_key().as_ref())],
        };
        let mut b = Verifier::builder()
            .issuer(ISS)
            .audience(AUD)
            .leeway(Duration::from_secs(LEEWAY.unsigned_abs()))
            .max_lifetime(Duration::from_secs(MAX_LIFETIME.unsigned_abs()))
            .clock(clock.clone())
            .revocation(Arc::new(revoked.clone()))
            .jwks(jwks);
        if cache {
            b = b.cache(16);
        }
        b.build().expect("the EdDSA verifier builds")
    }

    /// A compact JWS over `header` and `payload`, signed with the HS256 secret.
    pub(crate) fn sign_hs256(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let tag = hmac::sign(&self.hs_key, input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// A compact JWS over `header` and `payload`, signed with the Ed25519 key.
    pub(crate) fn sign_eddsa(&self, header: &[u8], payload: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let sig = self.ed_key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    /// Runs one input; true if some verifier accepted its token at some clock reading.
    pub(crate) fn run(&self, data: &[u8]) -> bool {
        let Some((&mode, rest)) = data.split_first() else {
            return false;
        };
        let (token, signed, payload) = match mode & 7 {
            1 | 2 => {
                let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                let header = &rest[..split];
                let payload = rest.get(split + 1..).unwrap_or_default();
                if mode & 7 == 1 {
                    (self.sign_hs256(header, payload), SignedWith::Hs256, payload)
                } else {
                    (self.sign_eddsa(header, payload), SignedWith::EdDsa, payload)
                }
            }
            3 => (
                self.sign_hs256(br#"{"alg":"HS256","typ":"JWT"}"#, rest),
                SignedWith::Hs256,
                rest,
            ),
            4 => (
                self.sign_eddsa(
                    format!(r#"{{"alg":"EdDSA","kid":"{ED_KID}"}}"#).as_bytes(),
                    rest,
                ),
                SignedWith::EdDsa,
                rest,
            ),
            _ => (
                String::from_utf8_lossy(rest).into_owned(),
                SignedWith::Nothing,
                &[][..],
            ),
        };
        self.check_token(&token, signed, payload)
    }

    /// Verifies `token` with every verifier at every clock offset and checks the invariants.
    fn check_token(&self, token: &str, signed: SignedWith, payload: &[u8]) -> bool {
        let mut accepted = false;
        let hs_cached = Self::hs_verifier(&self.clock, &self.revoked, true);
        let ed_cached = Self::ed_verifier(&self.clock, &self.revoked, &self.ed_key, true);
        for offset in OFFSETS {
            let now = NOW + offset;
            self.clock.set(now);
            let hs = self.runtime.block_on(self.hs.verify(token));
            let ed = self.runtime.block_on(self.ed.verify(token));
            check_result(&hs, now, Algorithm::Hs256, signed, payload);
            check_result(&ed, now, Algorithm::EdDsa, signed, payload);
            assert!(
                !(hs.is_ok() && ed.is_ok()),
                "one token accepted by both the HS256 and the EdDSA verifier"
            );
            // The cache may skip work, never change an answer.
            let hs_c = self.runtime.block_on(hs_cached.verify(token));
            let ed_c = self.runtime.block_on(ed_cached.verify(token));
            assert_eq!(
                hs, hs_c,
                "HS256: cached and uncached answers differ at {now}"
            );
            assert_eq!(
                ed, ed_c,
                "EdDSA: cached and uncached answers differ at {now}"
            );
            accepted |= hs.is_ok() || ed.is_ok();
        }
        self.clock.set(NOW);
        accepted
    }
}

impl Default for VerifyHarness {
    fn default() -> Self {
        Self::new()
    }
}

fn check_result(
    result: &Result<Claims, VerifyError>,
    now: i64,
    alg: Algorithm,
    signed: SignedWith,
    payload: &[u8],
) {
    let claims = match result {
        Ok(claims) => claims,
        Err(error) => {
            assert!(
                !error.status().is_server_error(),
                "{error:?} answers 5xx with static keys"
            );
            return;
        }
    };
    assert_eq!(claims.iss, ISS, "accepted with the wrong issuer");
    assert!(
        claims.aud.iter().any(|a| a == AUD),
        "accepted without our audience"
    );
    assert!(!claims.sub.is_empty(), "accepted without a subject");
    assert!(
        now < claims.exp.saturating_add(LEEWAY),
        "accepted after exp"
    );
    assert!(
        claims.nbf.is_none_or(|nbf| nbf <= now + LEEWAY),
        "accepted before nbf"
    );
    assert!(
        claims.iat.is_none_or(|iat| iat <= now + LEEWAY),
        "accepted with iat in the future"
    );
    assert!(
        claims.exp.saturating_sub(now) <= MAX_LIFETIME + LEEWAY,
        "accepted a lifetime beyond the maximum"
    );
    assert!(
        claims
            .iat
            .is_none_or(|iat| claims.exp.saturating_sub(iat) <= MAX_LIFETIME),
        "accepted exp - iat beyond the maximum"
    );
    assert_eq!(claims.alg, alg, "accepted under another algorithm");
    assert_ne!(
        claims.sid.as_deref(),
        Some(REVOKED_SID),
        "accepted a revoked sid"
    );
    // The typed view agrees with the raw claims.
    assert_eq!(claims.raw.get("iss"), Some(&Value::String(ISS.to_owned())));
    assert_eq!(
        claims.raw.get("sub"),
        Some(&Value::String(claims.sub.clone()))
    );
    assert_eq!(claims.raw.get("exp"), Some(&Value::from(claims.exp)));
    match signed {
        SignedWith::Nothing => {}
        SignedWith::Hs256 | SignedWith::EdDsa => {
            let expected = if signed == SignedWith::Hs256 {
                Algorithm::Hs256
            } else {
                Algorithm::EdDsa
            };
            assert_eq!(
                alg, expected,
                "a token accepted by the other key's verifier"
            );
            // Exactly what was signed (serde_json keeps the last of duplicate members, so an
            // accepted payload with duplicates would show up here as a difference too).
            let signed_claims: Value =
                serde_json::from_slice(payload).expect("an accepted payload is JSON");
            assert_eq!(
                signed_claims,
                Value::Object(claims.raw.clone()),
                "accepted claims differ from the signed payload"
            );
        }
    }
}
