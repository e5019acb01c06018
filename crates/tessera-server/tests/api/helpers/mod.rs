//! The harness: `spawn_app()` starts the real server on 127.0.0.1:0 with a fresh SQLite file
//! and a [`ManualClock`], and [`TestApp`] has one method per endpoint, so tests read like the
//! protocol reference.
//!
//! **Base URL.** Every app is configured with the fixed base URL `http://localhost:3999` (the
//! one the protocol reference's captures were made with) while it listens on an ephemeral
//! port. Nothing in the server needs the base URL to be the address it listens on: it is the
//! origin that `Origin` headers are compared with, the JWT issuer and audience, and it decides
//! the cookie prefix. Choosing it up front avoids the race of "pick a free port, drop it, bind
//! it again", and makes `iss`/`aud` and trusted origins constants the tests can spell out.
//! Cookies are host-only, so a cookie-store client talking to 127.0.0.1 keeps them anyway.
//!
//! **Time.** The server's clock is a [`ManualClock`] that starts at the wall-clock time of
//! `spawn_app()` (kept as [`TestApp::t0`]) and then only moves when a test advances it, so
//! every timestamp a test expects is exact. It starts at the real time rather than a fixed
//! instant because verifiers outside the server (the tasks API's, a backend's) check `exp`
//! against the real clock.
//!
//! By concern: [`app`] starts and stops servers (`spawn_app`, `TestApp`, restarts);
//! [`endpoints`] has one `TestApp` method per endpoint and the shortcuts built on them;
//! [`browser`] is a cookie-keeping client; [`database`] reads what the server stored (SQLite
//! file or PostgreSQL database); [`mail`] runs a server with a real SMTP server beside it and
//! parses what it received; [`wire`] reads responses. What other suites share too (the
//! independent JWS verifier, header and envelope helpers, fresh PostgreSQL databases) comes
//! from `tessera-testkit` and is re-exported here, so tests `use crate::helpers::*`.

#![allow(dead_code)] // not every test module uses every helper

mod app;
mod browser;
mod database;
mod endpoints;
mod mail;
mod wire;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub(crate) use app::*;
pub(crate) use browser::*;
pub(crate) use database::*;
pub(crate) use endpoints::*;
pub(crate) use mail::*;
pub(crate) use tessera_testkit::jws::*;
pub(crate) use tessera_testkit::wire::*;
pub(crate) use wire::*;

/// The secret of the protocol reference's cookie test vector (§3.2).
pub(crate) const SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
/// The configured base URL (see the module docs).
pub(crate) const BASE_URL: &str = "http://localhost:3999";
/// Its origin: the trusted origin, JWT issuer and audience.
pub(crate) const ORIGIN: &str = "http://localhost:3999";
/// The user agent every test client sends.
pub(crate) const USER_AGENT: &str = "tessera-api-tests/1";
/// A password that satisfies the policy.
pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) const SESSION_COOKIE: &str = "better-auth.session_token";
pub(crate) const DONT_REMEMBER_COOKIE: &str = "better-auth.dont_remember";

pub(crate) const DAY: Duration = Duration::from_secs(24 * 3600);

/// How a request proves who it is.
#[derive(Debug, Clone)]
pub(crate) enum Who {
    /// No credentials.
    Anonymous,
    /// A `Cookie` header value (`name=value; name2=value2`). POSTs also send the trusted
    /// `Origin`, as a browser would.
    Cookie(String),
    /// `Authorization: Bearer <value>`.
    Bearer(String),
}

/// A user who signed up through the API.
#[derive(Debug, Clone)]
pub(crate) struct TestUser {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) password: String,
    /// The raw session token from the JSON body.
    pub(crate) token: String,
    /// `set-auth-token`: `token.signature`.
    pub(crate) signed_token: String,
    /// `better-auth.session_token=<encoded value>` from `Set-Cookie`.
    pub(crate) cookie: String,
}

impl TestUser {
    /// Authenticated by the session cookie.
    pub(crate) fn by_cookie(&self) -> Who {
        Who::Cookie(self.cookie.clone())
    }
    /// Authenticated by the signed token from `set-auth-token`.
    pub(crate) fn by_bearer(&self) -> Who {
        Who::Bearer(self.signed_token.clone())
    }
    /// Authenticated by the raw token from the JSON body.
    pub(crate) fn by_raw_bearer(&self) -> Who {
        Who::Bearer(self.token.clone())
    }
}

static EMAILS: AtomicUsize = AtomicUsize::new(0);

/// The revocation feed's secret in tests that configure one.
pub(crate) const FEED_SECRET: &str = "feed secret shared with the verifying services";

/// A fresh, unused email address.
pub(crate) fn unique_email() -> String {
    format!("user{}@example.com", EMAILS.fetch_add(1, Ordering::Relaxed))
}
