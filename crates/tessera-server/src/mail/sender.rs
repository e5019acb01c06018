//! The outbox's sender: claims due messages, makes their tokens, renders and sends them,
//! and records the outcome. Runs as one background job per auth server process; several
//! processes on one database share the work through leased claims.

use std::time::Duration;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart, header};
use tessera_core::TokenDigest;
use tessera_core::token::random_token_b64;
use tessera_store::{EmailTokenPurpose, MailResult, MailRow, NewEmailCode, NewEmailToken, User};

use super::messages::{Kind, Values};
use super::transport::SendError;
use super::{Mailer, Payload};
use crate::http::AUTH_PREFIX;

/// How long a claim holds: longer than any SMTP exchange ([`super::transport::SMTP_TIMEOUT`])
/// with room to record the outcome.
const LEASE: Duration = Duration::from_secs(120);
/// Messages claimed at once.
const BATCH: u32 = 8;
/// How often the outbox is looked at when nothing woke the sender (messages queued by other
/// instances, retries falling due).
const POLL: Duration = Duration::from_secs(1);
/// The first retry waits this long; each next one twice as long, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Attempts before a message that keeps failing for now is given up (about 2½ hours).
const MAX_ATTEMPTS: i64 = 14;

/// How long each link works.
pub(crate) const VERIFY_EMAIL_VALID: Duration = Duration::from_secs(24 * 3600);
/// A reset link's lifetime.
pub(crate) const RESET_PASSWORD_VALID: Duration = Duration::from_secs(30 * 60);
/// The lifetime of both links of a change of address.
pub(crate) const CHANGE_EMAIL_VALID: Duration = Duration::from_secs(3600);
/// A sign-in link's lifetime (ASVS 6.5.5: at most 10 minutes for out-of-band secrets).
pub(crate) const MAGIC_LINK_VALID: Duration = Duration::from_secs(10 * 60);
/// An emailed code's lifetime.
pub(crate) const EMAIL_CODE_VALID: Duration = Duration::from_secs(10 * 60);
/// Digits in an emailed code.
pub(crate) const CODE_DIGITS: usize = 6;

/// Runs until the task is aborted.
pub(crate) async fn run(mailer: Mailer) {
    loop {
        while let Some(n) = drain_once(&mailer).await
            && n > 0
        {}
        tokio::select! {
            () = mailer.0.wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Claims and handles one batch; the number handled, or `None` when the outbox could not be
/// read (logged; the next poll tries again).
pub(crate) async fn drain_once(mailer: &Mailer) -> Option<usize> {
    let now = mailer.0.clock.now_ms();
    let rows = match mailer
        .0
        .store
        .claim_mail(now, tessera_core::clock::millis(LEASE), BATCH)
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the outbox");
            return None;
        }
    };
    let n = rows.len();
    for row in rows {
        let result = deliver(mailer, &row).await;
        let kind = row.kind.as_str();
        match &result {
            MailResult::Sent => {
                mailer.0.metrics.mail(kind, "sent");
                tracing::info!(event = "mail_sent", mail_id = %row.id, kind, attempt = row.attempts, "mail sent");
            }
            MailResult::Dropped => {
                mailer.0.metrics.mail(kind, "dropped");
                tracing::info!(event = "mail_dropped", mail_id = %row.id, kind, "nothing to send");
            }
            MailResult::Failed(e) => {
                mailer.0.metrics.mail(kind, "failed");
                tracing::warn!(event = "mail_failed", mail_id = %row.id, kind, error = %e, "mail given up");
            }
            MailResult::Retry { error, .. } => {
                mailer.0.metrics.mail(kind, "retried");
                tracing::warn!(event = "mail_retry", mail_id = %row.id, kind, attempt = row.attempts, error = %error, "mail not sent; will retry");
            }
        }
        let now = mailer.0.clock.now_ms();
        if let Err(e) = mailer.0.store.finish_mail(&row.id, &result, now).await {
            // The lease runs out and the message is tried again: at worst sent twice.
            tracing::warn!(error = %e, mail_id = %row.id, "could not record a mail's outcome");
        }
    }
    Some(n)
}

/// What a message turned into before it was sent.
enum Prepared {
    /// Nothing to send.
    Drop,
    /// Send this.
    Send {
        kind: Kind,
        user: Option<Box<User>>,
        /// The greeting's name when there is no user (a sign-up by link).
        name: Option<String>,
        link: Option<String>,
        code: Option<String>,
        valid_for: &'static str,
        new_email: String,
    },
}

/// One attempt at one message.
async fn deliver(mailer: &Mailer, row: &MailRow) -> MailResult {
    let prepared = match prepare(mailer, row).await {
        Ok(p) => p,
        Err(e) => return retry(row, mailer.0.clock.now_ms(), format!("database: {e}")),
    };
    let Prepared::Send {
        kind,
        user,
        name,
        link,
        code,
        valid_for,
        new_email,
    } = prepared
    else {
        return MailResult::Dropped;
    };
    let inner = &mailer.0;
    let values = Values {
        app: &inner.settings.email.app_name,
        name: user
            .as_ref()
            .map_or(name.as_deref().unwrap_or(""), |u| u.name.as_str()),
        email: user
            .as_ref()
            .map_or(row.recipient.as_str(), |u| u.email.as_str()),
        new_email: &new_email,
        link: link.as_deref().unwrap_or(""),
        code: code.as_deref().unwrap_or(""),
        valid_for,
    };
    let rendered = inner.templates.render(kind, &values);
    let (Some(transport), Some(from)) = (&inner.transport, &inner.from) else {
        return MailResult::Failed("mail is not configured".into());
    };
    let to: Mailbox = match row.recipient.parse() {
        Ok(a) => Mailbox::new(None, a),
        Err(e) => return MailResult::Failed(format!("unusable recipient address: {e}")),
    };
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(format!("<{}.{}@tessera>", row.id, row.attempts)))
        .header(header::MIME_VERSION_1_0)
        .multipart(MultiPart::alternative_plain_html(
            rendered.text,
            rendered.html,
        ));
    let message = match message {
        Ok(m) => m,
        Err(e) => return MailResult::Failed(format!("cannot build the message: {e}")),
    };
    match transport
        .send(message, &format!("{}-{}", row.created_at, row.id))
        .await
    {
        Ok(()) => MailResult::Sent,
        Err(SendError::Permanent(e)) => MailResult::Failed(e),
        Err(SendError::Transient(e)) => retry(row, mailer.0.clock.now_ms(), e),
    }
}

/// A later attempt, or the end when attempts are used up.
fn retry(row: &MailRow, now_ms: i64, error: String) -> MailResult {
    if row.attempts >= MAX_ATTEMPTS {
        return MailResult::Failed(format!("gave up after {} attempts: {error}", row.attempts));
    }
    let exp = u32::try_from(row.attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(16);
    let wait = FIRST_BACKOFF.saturating_mul(1 << exp).min(MAX_BACKOFF);
    MailResult::Retry {
        at_ms: now_ms.saturating_add(tessera_core::clock::millis(wait)),
        error,
    }
}

/// Decides what to send now: the user may have verified, moved or gone since the request.
async fn prepare(mailer: &Mailer, row: &MailRow) -> tessera_store::Result<Prepared> {
    let inner = &mailer.0;
    let store = &*inner.store;
    let Some(kind) = Kind::parse(&row.kind) else {
        return Ok(Prepared::Drop);
    };
    let payload: Payload = serde_json::from_str(&row.payload).unwrap_or_default();
    let user = match &row.user_id {
        Some(id) => store.user_with_password_by_id(id).await?.map(|(u, _)| u),
        None => store
            .user_with_password_by_email(&row.recipient)
            .await?
            .map(|(u, _)| u),
    };
    // No account at all at this address (a disabled one is not "no account").
    let no_account = user.is_none() && row.user_id.is_none();
    let user = user.filter(|u| u.disabled_at.is_none());
    let new_email = payload.new_email.clone().unwrap_or_default();
    let (purpose, valid, valid_for) = match kind {
        Kind::VerifyEmail => (
            EmailTokenPurpose::VerifyEmail,
            VERIFY_EMAIL_VALID,
            "24 hours",
        ),
        Kind::ResetPassword => (
            EmailTokenPurpose::ResetPassword,
            RESET_PASSWORD_VALID,
            "30 minutes",
        ),
        Kind::ConfirmEmailChange => (
            EmailTokenPurpose::ConfirmEmailChange,
            CHANGE_EMAIL_VALID,
            "1 hour",
        ),
        Kind::VerifyNewEmail => (
            EmailTokenPurpose::VerifyNewEmail,
            CHANGE_EMAIL_VALID,
            "1 hour",
        ),
        Kind::MagicLink => (EmailTokenPurpose::MagicLink, MAGIC_LINK_VALID, "10 minutes"),
        Kind::SignInCode => (
            EmailTokenPurpose::SignInCode,
            EMAIL_CODE_VALID,
            "10 minutes",
        ),
        Kind::VerifyEmailCode => (
            EmailTokenPurpose::VerifyEmailCode,
            EMAIL_CODE_VALID,
            "10 minutes",
        ),
        Kind::TwoFactorCode => (
            EmailTokenPurpose::TwoFactorCode,
            EMAIL_CODE_VALID,
            "10 minutes",
        ),
        Kind::ResetPasswordCode => (
            EmailTokenPurpose::ResetPasswordCode,
            EMAIL_CODE_VALID,
            "10 minutes",
        ),
        Kind::EmailInUse => {
            return Ok(Prepared::Send {
                kind,
                user: None,
                name: None,
                link: None,
                code: None,
                valid_for: "",
                new_email: row.recipient.clone(),
            });
        }
        Kind::PasswordChanged => {
            let Some(user) = user else {
                return Ok(Prepared::Drop);
            };
            return Ok(Prepared::Send {
                kind,
                user: Some(Box::new(user)),
                name: None,
                link: None,
                code: None,
                valid_for: "",
                new_email,
            });
        }
    };
    let Some(user) = user else {
        if no_account && matches!(kind, Kind::MagicLink | Kind::SignInCode) {
            // A sign-up: the link or code is made for the address; using it creates the
            // account.
            let owner = super::sign_up_key(&row.recipient);
            let made = make_secret(
                mailer,
                kind,
                purpose,
                valid,
                &owner,
                &row.recipient,
                &payload,
            )
            .await?;
            return Ok(made.into_message(kind, None, payload.name, valid_for, new_email));
        }
        // a disabled account, or a message only a user gets: the request got the same
        // answer as for a known address
        return Ok(Prepared::Drop);
    };
    match kind {
        Kind::VerifyEmail | Kind::VerifyEmailCode
            if user.email_verified || user.email != row.recipient =>
        {
            return Ok(Prepared::Drop);
        }
        Kind::MagicLink | Kind::SignInCode | Kind::ResetPasswordCode
            if user.email != row.recipient =>
        {
            return Ok(Prepared::Drop);
        }
        Kind::TwoFactorCode if !user.two_factor_enabled || payload.bound_to.is_none() => {
            return Ok(Prepared::Drop);
        }
        Kind::ConfirmEmailChange if user.email != row.recipient || new_email.is_empty() => {
            return Ok(Prepared::Drop);
        }
        Kind::VerifyNewEmail => {
            if new_email != row.recipient {
                return Ok(Prepared::Drop);
            }
            if let Some((other, _)) = store.user_with_password_by_email(&new_email).await?
                && other.id != user.id
            {
                // The address has an account: tell its owner, reveal nothing to the asker.
                return Ok(Prepared::Send {
                    kind: Kind::EmailInUse,
                    user: None,
                    name: None,
                    link: None,
                    code: None,
                    valid_for: "",
                    new_email,
                });
            }
        }
        _ => {}
    }
    let made = make_secret(
        mailer,
        kind,
        purpose,
        valid,
        &user.id,
        &user.email,
        &payload,
    )
    .await?;
    Ok(made.into_message(kind, Some(Box::new(user)), None, valid_for, new_email))
}

/// The secret a message carries: a link or a code.
enum Secret {
    Link(String),
    Code(String),
}

impl Secret {
    fn into_message(
        self,
        kind: Kind,
        user: Option<Box<User>>,
        name: Option<String>,
        valid_for: &'static str,
        new_email: String,
    ) -> Prepared {
        let (link, code) = match self {
            Secret::Link(l) => (Some(l), None),
            Secret::Code(c) => (None, Some(c)),
        };
        Prepared::Send {
            kind,
            user,
            name,
            link,
            code,
            valid_for,
            new_email,
        }
    }
}

/// Makes and stores (as a digest) the code or the link's token of a message, for `owner` (a
/// user id, or a sign-up key) at `email`.
async fn make_secret(
    mailer: &Mailer,
    kind: Kind,
    purpose: EmailTokenPurpose,
    valid: Duration,
    owner: &str,
    email: &str,
    payload: &Payload,
) -> tessera_store::Result<Secret> {
    let store = &*mailer.0.store;
    let now = mailer.0.clock.now_ms();
    let expires_at = now.saturating_add(tessera_core::clock::millis(valid));
    if matches!(
        kind,
        Kind::SignInCode | Kind::VerifyEmailCode | Kind::TwoFactorCode | Kind::ResetPasswordCode
    ) {
        let code = random_digits(CODE_DIGITS);
        store
            .create_email_code(&NewEmailCode {
                row_key: TokenDigest::of(&random_token_b64(32)).as_str().to_owned(),
                code_digest: mailer.code_digest(purpose, owner, &code),
                purpose,
                user_id: owner.to_owned(),
                email: email.to_owned(),
                bound_to: payload.bound_to.clone(),
                now_ms: now,
                expires_at,
            })
            .await?;
        return Ok(Secret::Code(code));
    }
    let token = random_token_b64(32);
    store
        .create_email_token(&NewEmailToken {
            token_digest: TokenDigest::of(&token).as_str().to_owned(),
            purpose,
            user_id: owner.to_owned(),
            email: email.to_owned(),
            new_email: payload.new_email.clone().filter(|e| !e.is_empty()),
            name: payload.name.clone().filter(|_| kind == Kind::MagicLink),
            now_ms: now,
            expires_at,
        })
        .await?;
    Ok(Secret::Link(link_for(mailer, kind, &token, payload)))
}

/// The link a message carries, built only from the configured base URL (never from a
/// request's `Host` or `X-Forwarded-Host`).
fn link_for(mailer: &Mailer, kind: Kind, token: &str, payload: &Payload) -> String {
    let base = mailer.0.settings.http.base_url.trim_end_matches('/');
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let callback = payload.callback.as_deref();
    match kind {
        Kind::MagicLink => {
            let mut link = format!(
                "{base}{AUTH_PREFIX}/magic-link/verify?token={token}&callbackURL={}",
                enc(callback.unwrap_or("/"))
            );
            if let Some(e) = &payload.error_callback {
                link.push_str("&errorCallbackURL=");
                link.push_str(&enc(e));
            }
            if let Some(n) = &payload.new_user_callback {
                link.push_str("&newUserCallbackURL=");
                link.push_str(&enc(n));
            }
            link
        }
        Kind::ResetPassword => format!(
            "{base}{AUTH_PREFIX}/reset-password/{token}?callbackURL={}",
            enc(callback.unwrap_or(DEFAULT_RESET_PAGE))
        ),
        _ => format!(
            "{base}{AUTH_PREFIX}/verify-email?token={token}&callbackURL={}",
            enc(callback.unwrap_or(DEFAULT_VERIFIED_PAGE))
        ),
    }
}

/// The web UI's page that a verification link lands on when the client named none.
pub(crate) const DEFAULT_VERIFIED_PAGE: &str = "/verify-email";
/// The web UI's "choose a new password" page.
pub(crate) const DEFAULT_RESET_PAGE: &str = "/reset-password";

/// `n` random decimal digits, each uniform (bytes ≥ 250 are drawn again).
pub(crate) fn random_digits(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 16];
    while out.len() < n {
        if aws_lc_rs::rand::fill(&mut buf).is_err() {
            continue;
        }
        for b in buf {
            if b < 250 && out.len() < n {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::random_digits;

    #[test]
    fn codes_are_six_uniform_digits() {
        let mut counts = [0u32; 10];
        for _ in 0..2000 {
            let c = random_digits(6);
            assert_eq!(c.len(), 6);
            for d in c.bytes() {
                assert!(d.is_ascii_digit());
                counts[usize::from(d - b'0')] += 1;
            }
        }
        // 12 000 digits: each value near 1 200; far outside that means a bias
        assert!(
            counts.iter().all(|&c| (900..1500).contains(&c)),
            "{counts:?}"
        );
    }
}
