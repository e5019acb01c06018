//! Where the second factor is enforced: [`Sessions::start`] takes the [`Proof`] of who the
//! user is, and a first factor alone ([`FirstFactor`]) for a user with two-factor turned on
//! yields a challenge ([`Started::SecondFactorRequired`]) instead of a session — unless the
//! browser holds a trusted-device cookie, which is then rotated. Every way in names its first
//! factor here, so none can forget the second one.
//!
//! Also here: what a session records about its authentication (`amr`, RFC 8176, and
//! `auth_time`), the challenge and trusted-device cookies, and the keys that encrypt TOTP
//! secrets and hash backup codes.

use std::time::Duration;

use aws_lc_rs::hmac;
use http::{HeaderMap, HeaderValue, header};
use serde_json::json;
use tessera_core::id::new_id;
use tessera_core::{SessionToken, TokenDigest, Totp};
use tessera_store::{NewChallenge, NewTrustedDevice, Session, User, UserId};

use super::Sessions;
use super::dto::UserDto;
use crate::http::ApiResult;

/// How long a challenge lives: the first factor is worth this much (Better Auth: 10 min).
pub(crate) const CHALLENGE_TTL: Duration = Duration::from_secs(10 * 60);
/// Codes that may be tried against one challenge.
pub(crate) const CHALLENGE_ATTEMPTS: i64 = 5;
/// Consecutive failed second-factor attempts (over all challenges and sessions) that lock
/// the second factor …
pub(crate) const LOCKOUT_AFTER: i64 = 10;
/// … for this long (NIST SP 800-63B §5.2.2 allows at most 100 failures; Better Auth uses
/// the same 10 and 15 minutes).
pub(crate) const LOCKOUT_FOR: Duration = Duration::from_secs(15 * 60);
/// How long a browser stays trusted after a second factor (rotated on each use).
pub(crate) const TRUST_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// How the user proved who they are before any second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // passkeys name their variant when they land
pub(crate) enum FirstFactor {
    /// Email and password.
    Password,
    /// An identity provider (OAuth 2.0 / OpenID Connect) vouched for the user.
    IdentityProvider,
    /// A passkey; with user verification (PIN, biometrics) it is two factors by itself.
    Passkey {
        /// The authenticator verified the user.
        user_verified: bool,
    },
    /// A sign-in link sent by email.
    MagicLink,
    /// A one-time code sent by email.
    EmailCode,
}

impl FirstFactor {
    /// Its RFC 8176 `amr` values (`fed` and `email` are not registered there; Microsoft and
    /// others use `fed` for federation).
    pub(crate) fn amr(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::IdentityProvider => "fed",
            Self::Passkey {
                user_verified: true,
            } => "hwk user mfa",
            Self::Passkey {
                user_verified: false,
            } => "hwk",
            Self::MagicLink => "email",
            Self::EmailCode => "otp email",
        }
    }

    /// Whether the first factor of a session or challenge with this `amr` was the user's
    /// mailbox (a magic link, `email`, or an email code, `otp email`: the first factor's
    /// values come first): then an emailed code proves nothing more and cannot be the second
    /// factor. An `email` after another first factor (`pwd otp email mfa`) was a second one.
    pub(crate) fn is_email(amr: &str) -> bool {
        let mut values = amr.split(' ').filter(|m| !m.is_empty());
        match values.next() {
            Some("email") => true,
            Some("otp") => values.next() == Some("email"),
            _ => false,
        }
    }

    /// Whether it already is a multi-factor authentication (then no challenge follows).
    fn is_multi_factor(self) -> bool {
        matches!(
            self,
            Self::Passkey {
                user_verified: true
            }
        )
    }
}

/// What proved the user's identity when a session starts.
#[derive(Debug, Clone)]
pub(crate) enum Proof {
    /// A first factor alone: a user with two-factor gets a challenge, not a session.
    First(FirstFactor),
    /// A first and a second factor (a challenge passed, or a step-up); the session's `amr`.
    BothFactors {
        /// RFC 8176 values, space-separated.
        amr: String,
    },
    /// The caller's own session replaced by a new one (a password change that ends the other
    /// sessions): the new one keeps what the old one proved.
    Replacing {
        /// The old session's `amr`.
        amr: String,
        /// The old session's `auth_time`.
        auth_time: i64,
    },
}

/// What the client is handed once the session starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Grant {
    /// A session token and cookie (`rememberMe` as given).
    Cookie {
        /// `rememberMe`.
        remember: bool,
    },
    /// Only a rotating refresh credential and an access token (`refreshToken: true`).
    Refresh,
}

/// The outcome of [`Sessions::start`].
#[derive(Debug)]
pub(crate) enum Started {
    /// A session with a token (cookie clients).
    Session {
        /// The session token.
        token: SessionToken,
        /// `rememberMe`.
        remember: bool,
        /// More `Set-Cookie`s (a rotated trusted-device cookie).
        headers: HeaderMap,
    },
    /// A session held by a refresh credential.
    Refresh {
        /// The session row.
        session: Session,
        /// The first refresh credential.
        refresh_token: String,
        /// More `Set-Cookie`s.
        headers: HeaderMap,
    },
    /// The user has two-factor: a challenge was stored and its cookie is in `headers`.
    SecondFactorRequired {
        /// The challenge cookie (and the session cookies expired).
        headers: HeaderMap,
        /// What the client may verify with (`twoFactorMethods`).
        methods: Vec<&'static str>,
    },
}

/// `base` plus `extra` RFC 8176 values, each once, in order.
pub(crate) fn amr_with(base: &str, extra: &[&str]) -> String {
    let mut out: Vec<&str> = base.split(' ').filter(|m| !m.is_empty()).collect();
    for m in extra {
        if !out.contains(m) {
            out.push(m);
        }
    }
    out.join(" ")
}

fn append_all(into: &mut HeaderMap, from: HeaderMap) {
    let mut last = None;
    for (name, value) in from {
        if let Some(n) = name {
            last = Some(n);
        }
        if let Some(n) = &last {
            into.append(n.clone(), value);
        }
    }
}

/// The keys of the second factors, derived from the server secret for these purposes only.
/// Public for `tessera import better-auth`, which stores imported factors in the server's
/// forms.
pub struct FactorKeys {
    totp: crate::keys::crypt::Kek,
    backup: hmac::Key,
}

impl std::fmt::Debug for FactorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FactorKeys(<redacted>)")
    }
}

impl FactorKeys {
    /// The keys of the server secret `secret`.
    pub fn derive(secret: &[u8]) -> Self {
        let k = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let backup = hmac::sign(&k, b"tessera/v1/backup-code-digest");
        Self {
            totp: crate::keys::crypt::Kek::derive_for(secret, b"tessera/v1/totp-secret-encryption"),
            backup: hmac::Key::new(hmac::HMAC_SHA256, backup.as_ref()),
        }
    }

    /// Encrypts a TOTP key for the user's `two_factors` row.
    pub fn seal_totp(&self, user_id: &str, key: &[u8]) -> String {
        self.totp.seal(user_id, key)
    }

    /// Decrypts a user's TOTP key (`None`: tampered, or another server secret).
    pub fn open_totp(&self, user_id: &str, sealed: &str) -> Option<Vec<u8>> {
        self.totp.open(user_id, sealed)
    }

    /// The keyed digest a backup code (canonical form, see
    /// [`tessera_core::totp::backup::normalise`]) is stored as, bound to its user.
    pub fn backup_digest(&self, user_id: &str, canonical: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.backup);
        ctx.update(user_id.as_bytes());
        ctx.update(&[0]);
        ctx.update(canonical.as_bytes());
        tessera_core::token::hex(ctx.sign().as_ref())
    }
}

impl Sessions {
    /// Starts a session for `user`: the one place every way in ends. A first factor alone
    /// for a user with two-factor yields a challenge instead (or, from a trusted browser, a
    /// session whose `auth_time` is when that browser last passed a second factor).
    pub(crate) async fn start(
        &self,
        user: &User,
        proof: Proof,
        grant: Grant,
        ip: crate::http::client_ip::ClientIp,
        headers: &HeaderMap,
    ) -> ApiResult<Started> {
        let now = self.clock().now_ms();
        let mut extra = HeaderMap::new();
        let (amr, auth_time) = match proof {
            Proof::First(first) if user.two_factor_enabled && !first.is_multi_factor() => {
                match self.trusted_device(user, headers, now).await? {
                    Some((mfa_at, cookie)) => {
                        extra.append(header::SET_COOKIE, cookie);
                        (amr_with(first.amr(), &["mfa"]), mfa_at)
                    }
                    None => return self.challenge(user, first, grant, now).await,
                }
            }
            Proof::First(first) => (first.amr().to_owned(), now),
            Proof::BothFactors { amr } => (amr, now),
            Proof::Replacing { amr, auth_time } => (amr, auth_time),
        };
        let remember = match grant {
            Grant::Cookie { remember } => remember,
            Grant::Refresh => true,
        };
        let (token, session) = self
            .create(user, remember, amr, auth_time, ip, headers)
            .await?;
        match grant {
            Grant::Cookie { remember } => Ok(Started::Session {
                token,
                remember,
                headers: extra,
            }),
            Grant::Refresh => {
                let refresh_token = self.first_refresh_token(&session).await?;
                Ok(Started::Refresh {
                    session,
                    refresh_token,
                    headers: extra,
                })
            }
        }
    }

    /// Stores a challenge for a user who passed `first` and hands its cookie out.
    async fn challenge(
        &self,
        user: &User,
        first: FirstFactor,
        grant: Grant,
        now: i64,
    ) -> ApiResult<Started> {
        let value = SessionToken::generate();
        let (remember, refresh_grant) = match grant {
            Grant::Cookie { remember } => (remember, false),
            Grant::Refresh => (true, true),
        };
        self.store()
            .create_challenge(&NewChallenge {
                id: new_id(),
                token_digest: value.digest().as_str().to_owned(),
                user_id: user.id.clone(),
                amr: first.amr().to_owned(),
                remember,
                refresh_grant,
                expires_at: now + tessera_core::clock::millis(CHALLENGE_TTL),
                now_ms: now,
            })
            .await?;
        let mut h = self.clear_cookies();
        h.append(
            header::SET_COOKIE,
            self.jar()
                .two_factor(self.signer(), Some(value.expose()), CHALLENGE_TTL.as_secs()),
        );
        tracing::info!(event = "second_factor_required", user_id = %user.id, "first factor passed; second factor required");
        let mut methods = vec!["totp"];
        if self.email_second_factor() && !FirstFactor::is_email(first.amr()) {
            methods.push("otp");
        }
        Ok(Started::SecondFactorRequired {
            headers: h,
            methods,
        })
    }

    /// Whether an emailed code may stand in for the second factor: mail is configured and
    /// email codes are on (`--email-codes`).
    pub(crate) fn email_second_factor(&self) -> bool {
        let email = &self.settings().email;
        email.smtp_url.is_some() && email.email_codes
    }

    /// The browser's trusted-device cookie, if it is live for this user: the device is
    /// replaced by a new one (rotation) and its `mfa_at` returned with the new cookie.
    async fn trusted_device(
        &self,
        user: &User,
        headers: &HeaderMap,
        now: i64,
    ) -> ApiResult<Option<(i64, HeaderValue)>> {
        let Some(value) = self.jar().read_trust_device(self.signer(), headers) else {
            return Ok(None);
        };
        let next = SessionToken::generate();
        let successor = self.new_device(user, &next, 0, headers, now);
        let found = self
            .store()
            .rotate_trusted_device(
                UserId(&user.id),
                TokenDigest::of(&value).as_str(),
                &successor,
            )
            .await?;
        Ok(found.map(|mfa_at| (mfa_at, self.trust_cookie(Some(&next)))))
    }

    fn new_device(
        &self,
        user: &User,
        token: &SessionToken,
        mfa_at: i64,
        headers: &HeaderMap,
        now: i64,
    ) -> NewTrustedDevice {
        NewTrustedDevice {
            id: new_id(),
            user_id: user.id.clone(),
            token_digest: token.digest().as_str().to_owned(),
            mfa_at,
            user_agent: super::user_agent(headers),
            expires_at: now + tessera_core::clock::millis(TRUST_TTL),
            now_ms: now,
        }
    }

    fn trust_cookie(&self, token: Option<&SessionToken>) -> HeaderValue {
        self.jar().trust_device(
            self.signer(),
            token.map(SessionToken::expose),
            TRUST_TTL.as_secs(),
        )
    }

    /// Trusts this browser for [`TRUST_TTL`] after a second factor verified now; returns
    /// its cookie.
    pub(crate) async fn trust_device(
        &self,
        user: &User,
        headers: &HeaderMap,
    ) -> ApiResult<HeaderValue> {
        let now = self.clock().now_ms();
        let token = SessionToken::generate();
        self.store()
            .create_trusted_device(&self.new_device(user, &token, now, headers, now))
            .await?;
        Ok(self.trust_cookie(Some(&token)))
    }

    /// `Set-Cookie` that forgets the trusted-device cookie.
    pub(crate) fn forget_trust_cookie(&self) -> HeaderValue {
        self.trust_cookie(None)
    }

    /// `Set-Cookie` that expires the challenge cookie.
    pub(crate) fn clear_challenge_cookie(&self) -> HeaderValue {
        self.jar().two_factor(self.signer(), None, 0)
    }

    /// The challenge value from the request's signed cookie.
    pub(crate) fn presented_challenge(&self, headers: &HeaderMap) -> Option<TokenDigest> {
        self.jar()
            .read_two_factor(self.signer(), headers)
            .map(|v| TokenDigest::of(&v))
    }

    /// Encrypts a TOTP key for the user's row.
    pub(crate) fn seal_totp(&self, user_id: &str, totp: &Totp) -> String {
        self.0.factor_keys.seal_totp(user_id, totp.key())
    }

    /// Decrypts a user's TOTP key (`None`: tampered, or another server secret).
    pub(crate) fn open_totp(&self, user_id: &str, sealed: &str) -> Option<Totp> {
        self.0
            .factor_keys
            .open_totp(user_id, sealed)
            .map(Totp::from_bytes)
    }

    /// The keyed digest a backup code (canonical form) is stored as, bound to its user.
    pub(crate) fn backup_digest(&self, user_id: &str, canonical: &str) -> String {
        self.0.factor_keys.backup_digest(user_id, canonical)
    }

    /// The answer that hands a started session (or the challenge) to the client: the
    /// headers and Better Auth's body (`{token, user}`; `{access_token, …}` for a refresh
    /// grant; `{twoFactorRedirect, twoFactorMethods}` for a challenge).
    pub(crate) fn answer(
        &self,
        user: &User,
        started: Started,
    ) -> ApiResult<(HeaderMap, serde_json::Value)> {
        match started {
            Started::Session {
                token,
                remember,
                headers,
                ..
            } => {
                let mut h = self.handover_headers(&token, remember);
                append_all(&mut h, headers);
                Ok((
                    h,
                    json!({ "token": token.expose(), "user": UserDto::from(user) }),
                ))
            }
            Started::Refresh {
                session,
                refresh_token,
                headers,
            } => {
                let mut body = self.token_response(user, &session, &refresh_token)?;
                body["token"] = serde_json::Value::Null;
                body["user"] = json!(UserDto::from(user));
                Ok((headers, body))
            }
            Started::SecondFactorRequired { headers, methods } => Ok((
                headers,
                json!({ "twoFactorRedirect": true, "twoFactorMethods": methods }),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amr_values_are_added_once_in_order() {
        assert_eq!(amr_with("pwd", &["otp", "mfa"]), "pwd otp mfa");
        assert_eq!(amr_with("pwd otp mfa", &["otp", "mfa"]), "pwd otp mfa");
        assert_eq!(amr_with("", &["mfa"]), "mfa");
    }

    #[test]
    fn only_an_email_first_factor_counts_as_email() {
        assert!(FirstFactor::is_email(FirstFactor::MagicLink.amr()));
        assert!(FirstFactor::is_email(FirstFactor::EmailCode.amr()));
        assert!(FirstFactor::is_email("email otp mfa"));
        assert!(FirstFactor::is_email("otp email otp mfa"));
        assert!(!FirstFactor::is_email("pwd otp email mfa"));
        assert!(!FirstFactor::is_email(FirstFactor::Password.amr()));
        assert!(!FirstFactor::is_email(FirstFactor::IdentityProvider.amr()));
        assert!(!FirstFactor::is_email(""));
    }

    #[test]
    fn only_a_user_verifying_passkey_counts_as_two_factors() {
        assert!(
            FirstFactor::Passkey {
                user_verified: true
            }
            .is_multi_factor()
        );
        for f in [
            FirstFactor::Password,
            FirstFactor::IdentityProvider,
            FirstFactor::Passkey {
                user_verified: false,
            },
            FirstFactor::MagicLink,
            FirstFactor::EmailCode,
        ] {
            assert!(!f.is_multi_factor(), "{f:?}");
            assert!(!f.amr().contains("mfa"), "{f:?}");
        }
    }
}
