//! A server with mail: the test kit's real SMTP server beside it, the messages it received
//! parsed as MIME (with `mailparse`, independently of the server's mail builder), and one
//! `TestApp` method per email endpoint.

use std::time::Duration;

use reqwest::{Method, Response};
use serde_json::Value;
use tessera_server::Settings;
use tessera_testkit::smtp::{Received, SmtpServer};

use super::{BASE_URL, TestApp, Who, spawn_app_with};

/// A server whose `--smtp-url` is a fresh test SMTP server.
pub(crate) async fn spawn_app_with_mail(
    configure: impl FnOnce(&mut Settings),
) -> (TestApp, SmtpServer) {
    let smtp = SmtpServer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(|s| {
        s.email.smtp_url = Some(url.into());
        configure(s);
    })
    .await;
    (app, smtp)
}

/// A message as a mail client would show it.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    /// Envelope recipients.
    pub(crate) to: Vec<String>,
    /// The `To` header.
    pub(crate) to_header: String,
    /// The `From` header.
    pub(crate) from: String,
    /// The decoded subject.
    pub(crate) subject: String,
    /// The text/plain part.
    pub(crate) text: String,
    /// The text/html part.
    pub(crate) html: String,
    /// The raw message.
    pub(crate) raw: String,
}

impl Mail {
    /// Parses what the SMTP server received.
    pub(crate) fn parse(r: &Received) -> Self {
        let parsed = mailparse::parse_mail(&r.data).expect("a MIME message");
        let header = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case(name))
                .map(|h| h.get_value())
                .unwrap_or_default()
        };
        let mut text = String::new();
        let mut html = String::new();
        for part in parsed.parts() {
            match part.ctype.mimetype.as_str() {
                "text/plain" => text = part.get_body().expect("text body"),
                "text/html" => html = part.get_body().expect("html body"),
                _ => {}
            }
        }
        Self {
            to: r.to.clone(),
            to_header: header("To"),
            from: header("From"),
            subject: header("Subject"),
            text,
            html,
            raw: String::from_utf8_lossy(&r.data).into_owned(),
        }
    }

    /// The link into the server the text part carries (it starts with the base URL).
    pub(crate) fn link(&self) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with(BASE_URL))
            .unwrap_or_else(|| panic!("no link in {:?}", self.text))
            .to_owned()
    }

    /// The link's path and query, to request from the test server.
    pub(crate) fn link_path(&self) -> String {
        self.link()
            .strip_prefix(BASE_URL)
            .expect("the link starts with the base URL")
            .to_owned()
    }

    /// The token the link carries.
    pub(crate) fn token(&self) -> String {
        let link = self.link();
        if let Some(rest) = link.split("/reset-password/").nth(1) {
            return rest.split('?').next().unwrap_or("").to_owned();
        }
        let query = link.split_once('?').map_or("", |(_, q)| q);
        form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .expect("a token in the link")
    }
}

/// Waits for the `n`-th message (1-based) and parses it.
pub(crate) async fn nth_mail(smtp: &SmtpServer, n: usize) -> Mail {
    let got = smtp.wait_for(n, Duration::from_secs(10)).await;
    assert!(got.len() >= n, "expected {n} messages, got {}", got.len());
    Mail::parse(&got[n - 1])
}

impl TestApp {
    // ---------------------------------------------------------------- email endpoints

    /// `POST /api/auth/send-verification-email`.
    pub(crate) async fn send_verification_email(&self, who: &Who, body: &Value) -> Response {
        self.with(
            self.post_json("/api/auth/send-verification-email", body),
            who,
            true,
        )
        .send()
        .await
        .expect("send-verification-email request")
    }

    /// `POST /api/auth/request-password-reset`.
    pub(crate) async fn request_password_reset(&self, body: &Value) -> Response {
        self.post_json("/api/auth/request-password-reset", body)
            .send()
            .await
            .expect("request-password-reset request")
    }

    /// `POST /api/auth/reset-password`.
    pub(crate) async fn reset_password(&self, body: &Value) -> Response {
        self.post_json("/api/auth/reset-password", body)
            .send()
            .await
            .expect("reset-password request")
    }

    /// `POST /api/auth/change-email`.
    pub(crate) async fn change_email(&self, who: &Who, body: &Value) -> Response {
        self.with(self.post_json("/api/auth/change-email", body), who, true)
            .send()
            .await
            .expect("change-email request")
    }

    /// `POST /api/auth/update-user`.
    pub(crate) async fn update_user(&self, who: &Who, body: &Value) -> Response {
        self.with(self.post_json("/api/auth/update-user", body), who, true)
            .send()
            .await
            .expect("update-user request")
    }

    /// `GET <path>` (a link from a message).
    pub(crate) async fn follow(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("GET a link")
    }
}
