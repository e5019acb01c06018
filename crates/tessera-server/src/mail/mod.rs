//! Mail: the durable outbox and its sender. A request that has something to say by mail puts
//! one row in the outbox ([`Mailer::enqueue`]) and returns; the sender ([`sender`]) claims
//! due rows, makes the link's token at that moment (stored only as a digest, so no usable
//! token is ever at rest), renders the message ([`messages`]) and hands it to the transport
//! ([`transport`]). A crash, a restart or an SMTP outage loses nothing: an unsent row stays
//! pending and is tried again with backoff; a row is marked sent once the server accepted
//! it, so a message is sent again only if the process dies between the server's answer and
//! that mark. Several instances share the outbox: a claim is a lease, so each row has one
//! sender at a time.

pub(crate) mod messages;
pub(crate) mod sender;
pub(crate) mod transport;

use std::sync::Arc;

use aws_lc_rs::hmac;
use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use tessera_core::Clock;
use tessera_core::id::new_id;
use tessera_store::{NewMail, Store};
use tokio::sync::Notify;

pub(crate) use self::messages::Kind;
use self::messages::Templates;
use self::transport::Transport;
use crate::http::ApiResult;
use crate::http::rate_limit::{RateLimiter, Rule};
use crate::metrics::Metrics;
use crate::settings::Settings;

/// Parameters of a message, kept with its outbox row.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Payload {
    /// Where the link's landing page sends the browser afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) callback: Option<String>,
    /// For a change of address: the address asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) new_email: Option<String>,
    /// A magic link's `errorCallbackURL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error_callback: Option<String>,
    /// What a code is bound to (a two-factor challenge or session id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bound_to: Option<String>,
    /// A magic link's `newUserCallbackURL`: where a sign-up by the link lands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) new_user_callback: Option<String>,
    /// A magic link's `name`: the display name of the account it creates, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
}

/// What a sign-in link or code made for an address with no account is stored under instead
/// of a user id (no user id has a colon): codes stay keyed per address, and using one
/// creates the account (see `email_sign_in`).
pub(crate) fn sign_up_key(email: &str) -> String {
    format!("{SIGN_UP_KEY_PREFIX}{email}")
}

/// The prefix of [`sign_up_key`].
pub(crate) const SIGN_UP_KEY_PREFIX: &str = "sign-up:";

/// The mail service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Mailer(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    settings: Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
    transport: Option<Transport>,
    templates: Templates,
    /// The sender (only computed when mail is on).
    from: Option<Mailbox>,
    /// Wakes the sender when a row was added here (others are found by polling).
    wake: Notify,
    /// The key emailed codes are stored under (derived from the server secret).
    code_key: CodeKey,
}

/// The HMAC key of emailed codes; `Debug` shows nothing.
struct CodeKey(hmac::Key);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(<redacted>)")
    }
}

/// The sender mailbox: `--email-from`, or `<app name> <no-reply@<base URL host>>`.
pub(crate) fn sender_mailbox(settings: &Settings) -> Result<Mailbox, String> {
    let email = &settings.email;
    if let Some(from) = &email.email_from {
        return from.parse().map_err(|e| {
            format!(
                "--email-from {from:?} is not an address like \"Acme <no-reply@acme.example>\": {e}"
            )
        });
    }
    let origin = settings.base_origin();
    let authority = origin.split_once("://").map_or(origin.as_str(), |(_, a)| a);
    // An IP address is no mail domain (lettre refuses address literals in envelopes):
    // a server reached by IP sends as `localhost` unless `--email-from` says otherwise.
    let host = match authority.strip_prefix('[') {
        Some(_) => "localhost",
        None => {
            let host = authority.split(':').next().unwrap_or("");
            if host.parse::<std::net::Ipv4Addr>().is_ok() || host.is_empty() {
                "localhost"
            } else {
                host
            }
        }
    };
    let address = format!("no-reply@{host}");
    let address = address.parse().map_err(|e| {
        format!("cannot make a sender address from the base URL ({address}): {e}; set --email-from")
    })?;
    Ok(Mailbox::new(Some(email.app_name.clone()), address))
}

impl Mailer {
    /// The mail service of these settings (no transport: the email features are off).
    ///
    /// # Errors
    /// The SMTP URL, the sender or a template file is unusable.
    pub fn new(
        settings: &Settings,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, String> {
        let transport = settings
            .email
            .smtp_url
            .as_ref()
            .map(|u| Transport::from_url(u))
            .transpose()?;
        use secrecy::ExposeSecret as _;
        let secret = settings.tokens.secret.expose_secret();
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret),
            b"tessera/v1/email-code-digest",
        );
        Ok(Self(Arc::new(Inner {
            code_key: CodeKey(hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref())),
            templates: Templates::load(settings.email.email_templates.as_deref())?,
            from: transport
                .is_some()
                .then(|| sender_mailbox(settings))
                .transpose()?,
            settings: settings.clone(),
            store,
            clock,
            metrics,
            transport,
            wake: Notify::new(),
        })))
    }

    /// Whether mail can be sent at all (an `--smtp-url` is configured).
    pub(crate) fn enabled(&self) -> bool {
        self.0.transport.is_some()
    }

    /// Whether sign-in links are on (mail configured and `--magic-links`).
    pub(crate) fn magic_links(&self) -> bool {
        self.enabled() && self.0.settings.email.magic_links
    }

    /// Whether emailed codes are on (mail configured and `--email-codes`).
    pub(crate) fn email_codes(&self) -> bool {
        self.enabled() && self.0.settings.email.email_codes
    }

    /// The keyed digest an emailed code is stored as, bound to its user and purpose (so a
    /// code made for one use never matches another). `code` is the 6 digits as typed,
    /// spaces removed by the caller.
    pub(crate) fn code_digest(
        &self,
        purpose: tessera_store::EmailTokenPurpose,
        user_id: &str,
        code: &str,
    ) -> String {
        let mut ctx = hmac::Context::with_key(&self.0.code_key.0);
        ctx.update(purpose.as_str().as_bytes());
        ctx.update(&[0]);
        ctx.update(user_id.as_bytes());
        ctx.update(&[0]);
        ctx.update(code.as_bytes());
        tessera_core::token::hex(ctx.sign().as_ref())
    }

    /// Puts a message in the outbox and wakes the sender. Without a transport it does
    /// nothing (the callers answer "not enabled" before getting here, or send nothing by
    /// design, like sign-up without mail).
    pub(crate) async fn enqueue(
        &self,
        kind: Kind,
        recipient: &str,
        user_id: Option<&str>,
        payload: &Payload,
    ) -> ApiResult<()> {
        if !self.enabled() {
            return Ok(());
        }
        let mail = NewMail {
            id: new_id(),
            kind: kind.as_str().to_owned(),
            recipient: recipient.to_owned(),
            user_id: user_id.map(str::to_owned),
            payload: serde_json::to_string(payload).unwrap_or_else(|_| "{}".into()),
            now_ms: self.0.clock.now_ms(),
        };
        self.0.store.enqueue_mail(&mail).await?;
        tracing::debug!(event = "mail_queued", mail_id = %mail.id, kind = kind.as_str(), "mail queued");
        self.0.wake.notify_one();
        Ok(())
    }

    /// Queues a verification link for a user who just signed up, or who tried to sign in
    /// unverified; skipped silently when the address's quota (`mail-per-recipient`) is used
    /// up or the address is verified already.
    pub(crate) async fn queue_verification(
        &self,
        limiter: &RateLimiter,
        user: &tessera_store::User,
        callback: Option<&str>,
    ) -> ApiResult<()> {
        if !self.enabled()
            || user.email_verified
            || limiter
                .hit(Rule::MailPerRecipient, &user.email)
                .await
                .is_err()
        {
            return Ok(());
        }
        let payload = Payload {
            callback: callback.map(str::to_owned),
            ..Payload::default()
        };
        self.enqueue(Kind::VerifyEmail, &user.email, Some(&user.id), &payload)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_for(base_url: &str, from: Option<&str>) -> Result<String, String> {
        let mut s = Settings::new_dev(vec![7; 32]);
        s.http.base_url = base_url.into();
        s.email.email_from = from.map(str::to_owned);
        sender_mailbox(&s).map(|m| m.to_string())
    }

    #[test]
    fn the_sender_defaults_to_no_reply_at_the_base_url_host() {
        assert_eq!(
            from_for("https://auth.acme.example/x", None).as_deref(),
            Ok("Tessera <no-reply@auth.acme.example>")
        );
        assert_eq!(
            from_for("http://127.0.0.1:8080", None).as_deref(),
            Ok("Tessera <no-reply@localhost>")
        );
        assert_eq!(
            from_for("http://[::1]:8080", None).as_deref(),
            Ok("Tessera <no-reply@localhost>")
        );
        assert_eq!(
            from_for("http://x", Some("Acme <hi@acme.example>")).as_deref(),
            Ok("Acme <hi@acme.example>")
        );
        assert!(from_for("http://x", Some("Acme\r\nBcc: x@y <hi@acme.example>")).is_err());
        assert!(from_for("http://x", Some("not an address")).is_err());
    }
}
