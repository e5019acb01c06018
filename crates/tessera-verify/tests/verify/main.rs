//! Integration tests of tessera-verify. One test binary; each module says what belongs in it.
//! Ids such as A6 or B1 refer to the attack checklist (security-checklist.md §6). Every
//! group-A/B test checks the library verdict *and* the HTTP answer of a protected axum route,
//! including that none of the route's protected data is in the body.

#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Key generation, token minting, the protected test router and request helpers.
mod support;

/// A1–A4: reading credentials from the `Authorization` header (and nowhere else).
mod authorization;
/// The real Better Auth token and JWKS (better-auth-protocol.md §5.9).
mod better_auth;
/// Configuration errors from the builder.
mod builder;
/// The opt-in verified-token cache.
mod cache;
/// A21–A27, A29–A30, A36: claim and payload validation.
mod claims;
/// The cases shared with the Python and JavaScript packages (`conformance/cases/*.json`),
/// run through this crate: the three verifiers follow the same rules by construction.
mod conformance;
/// A5–A20, A28, A31–A33: token structure, algorithms, keys and header members.
mod forgery;
/// The fuzz targets' kept inputs (`fuzz/regressions/`, `fuzz/corpus/`) replayed through
/// their harnesses (`fuzz/harness/`): findings stay fixed under `cargo test`.
mod fuzz_regressions;
/// A35 and the JWK rules: rotation through a handle, which keys are used, each algorithm.
mod key_sets;
/// `amr`/`auth_time` and the `MfaUser` / `RecentMfa` extractors.
mod mfa;
/// B1, B4, B5, B8 and A36 at the route: the `OwnerOf` guard, `AuthUser`, `MaybeAuthUser`.
mod owner;
/// Property tests of claims validation: random claim sets against an independent reading
/// of the rules, and registered claims of the wrong JSON type.
mod properties;
/// A16, A19 and the remote JWKS: caching, refetch cooldown, serve-last-good, fail closed,
/// size and time limits. Loopback servers only; every test is time-bounded.
mod remote;
/// The revocation hook and `RevokedSessions`.
mod revocation;
