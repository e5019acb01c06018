//! What Tessera's test suites share, so each is written once: fresh PostgreSQL databases
//! ([`postgres`]), a JWS verifier written independently of the server's signing code
//! ([`jws`]), a real SMTP server ([`smtp`]), and helpers for what goes over the wire ([`wire`]:
//! headers, cookies, error envelopes, timestamps), and an identity provider that signs what
//! the test tells it to ([`provider`]), and a software passkey authenticator ([`webauthn`]). Used by the server's HTTP suite, the store's conformance suite and
//! the CLI's process tests. Never published, never a dependency of shipped code.

// A failed expectation here is a failed test, which is what a panic reports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod jws;
pub mod postgres;
pub mod provider;
pub mod smtp;
pub mod webauthn;
pub mod wire;
