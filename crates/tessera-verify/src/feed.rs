//! A revocation feed: the auth server publishes the ids of recently ended sessions
//! (`GET /api/auth/revocations` → `{"sessions": ["…"]}`), and a backend polls it so
//! access tokens of signed-out, revoked or compromised sessions stop working within about
//! one polling interval instead of at their `exp`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tessera_verify::{RevocationFeed, Verifier};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let feed = RevocationFeed::start(
//!     "https://auth.example.com/api/auth/revocations",
//!     Duration::from_secs(1),
//! )?;
//! let verifier = Verifier::builder()
//!     .issuer("https://auth.example.com")
//!     .audience("https://auth.example.com")
//!     .remote_jwks("https://auth.example.com/api/auth/jwks")
//!     .revocation(Arc::new(feed.sessions()))
//!     .build()?;
//! // keep `feed` alive as long as the verifier: dropping it stops the polling
//! # let _ = (verifier, feed); Ok(()) }
//! ```
//!
//! Failure behaviour: a failed poll keeps the last list (and logs a warning), so a brief
//! outage of the auth server neither locks everyone out nor forgets revocations; tokens
//! still expire at their `exp`. Polling starts at once; the first list usually arrives
//! within one request round trip.

use std::time::Duration;

use serde::Deserialize;

use crate::error::ConfigError;
use crate::remote::get_bounded;
use crate::revocation::RevokedSessions;

/// Largest feed document accepted (about 25,000 session ids).
const MAX_FEED_BYTES: usize = 1 << 20;

#[derive(Deserialize)]
struct FeedDocument {
    sessions: Vec<String>,
}

/// Polls a revocation feed in the background and keeps a [`RevokedSessions`] set equal to
/// its latest answer. Dropping it stops the polling.
#[derive(Debug)]
pub struct RevocationFeed {
    sessions: RevokedSessions,
    task: tokio::task::JoinHandle<()>,
}

impl RevocationFeed {
    /// Starts polling `url` every `interval` (at least 100 ms) on the current tokio runtime.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] for a URL that is not absolute http(s),
    /// [`ConfigError::InvalidSetting`] for a too-short interval or no runtime,
    /// [`ConfigError::HttpClient`] if the HTTP client cannot be built.
    pub fn start(url: impl Into<String>, interval: Duration) -> Result<Self, ConfigError> {
        let url = url.into();
        let parsed = reqwest::Url::parse(&url).map_err(|_| ConfigError::InvalidUrl)?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(ConfigError::InvalidUrl);
        }
        if interval < Duration::from_millis(100) {
            return Err(ConfigError::InvalidSetting("revocation feed interval"));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| ConfigError::InvalidSetting("revocation feed needs a tokio runtime"))?;
        let timeout = interval.max(Duration::from_secs(2));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        let sessions = RevokedSessions::new();
        let set = sessions.clone();
        let task = runtime.spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let result = get_bounded(&client, &url, MAX_FEED_BYTES, timeout).await;
                match result.map(|body| serde_json::from_slice::<FeedDocument>(&body)) {
                    Ok(Ok(doc)) => {
                        set.replace_all(doc.sessions);
                        if failing {
                            tracing::info!(%url, "revocation feed reachable again");
                            failing = false;
                        }
                    }
                    Ok(Err(error)) => {
                        if !failing {
                            tracing::warn!(%url, %error, "revocation feed answered something else; keeping the last list");
                        }
                        failing = true;
                    }
                    Err(error) => {
                        if !failing {
                            tracing::warn!(%url, %error, "revocation feed unreachable; keeping the last list");
                        }
                        failing = true;
                    }
                }
            }
        });
        Ok(Self { sessions, task })
    }

    /// The set this feed keeps current; hand it to [`crate::VerifierBuilder::revocation`].
    #[must_use]
    pub fn sessions(&self) -> RevokedSessions {
        self.sessions.clone()
    }
}

impl Drop for RevocationFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}
