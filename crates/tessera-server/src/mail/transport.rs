//! Where messages go: an SMTP server (plain, STARTTLS or implicit TLS, through lettre on
//! rustls with aws-lc-rs; certificates checked against the system roots, `SSL_CERT_FILE`
//! honoured), or, for development, a directory that receives each message as an `.eml` file.

use std::path::PathBuf;
use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

/// Longest an SMTP exchange may take (connect, TLS, AUTH, DATA). Well below the outbox
/// lease, so a slow server cannot make another sender pick the same message up.
pub(crate) const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// A configured destination for mail.
#[derive(Clone)]
pub(crate) enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// A directory of `.eml` files.
    Files(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // the SMTP transport holds the credentials: never printed
            Self::Smtp(_) => f.write_str("Smtp(..)"),
            Self::Files(dir) => f.debug_tuple("Files").field(dir).finish(),
        }
    }
}

/// Why a message did not go out.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The server refused it for good (a 5xx answer, e.g. an unknown recipient).
    Permanent(String),
    /// Anything that may pass: the server is down, busy (4xx) or slow.
    Transient(String),
}

impl Transport {
    /// The transport an `--smtp-url` names.
    pub(crate) fn from_url(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(format!(
                    "--smtp-url file://… needs an absolute directory, like file:///var/tmp/tessera-mail (got {path:?})"
                ));
            }
            return Ok(Self::Files(PathBuf::from(path)));
        }
        if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
            return Err(
                "--smtp-url must start with smtp://, smtps:// or file:// (see the README)".into(),
            );
        }
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| {
            format!(
                "--smtp-url is not a usable SMTP URL ({}): {e}",
                crate::settings::redact_url(url)
            )
        })?;
        Ok(Self::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
    }

    /// Sends one message (or writes it to the directory).
    pub(crate) async fn send(&self, message: Message, file_stem: &str) -> Result<(), SendError> {
        match self {
            Self::Smtp(smtp) => {
                match tokio::time::timeout(SMTP_TIMEOUT, smtp.send(message)).await {
                    Err(_) => Err(SendError::Transient("timed out".into())),
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(short(&e))),
                    Ok(Err(e)) => Err(SendError::Transient(short(&e))),
                }
            }
            Self::Files(dir) => {
                let path = dir.join(format!("{file_stem}.eml"));
                let body = message.formatted();
                async {
                    tokio::fs::create_dir_all(dir).await?;
                    // written whole under a temporary name, then renamed: a reader never
                    // sees half a message
                    let tmp = path.with_extension("eml.part");
                    tokio::fs::write(&tmp, body).await?;
                    tokio::fs::rename(&tmp, &path).await
                }
                .await
                .map_err(|e| SendError::Transient(format!("{}: {e}", dir.display())))
            }
        }
    }
}

/// An error's text, bounded (it is stored and shown to operators; it never holds the
/// message or its link).
fn short(e: &dyn std::fmt::Display) -> String {
    let mut s = e.to_string();
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}
