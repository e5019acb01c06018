//! A revocation feed: the auth server publishes the ids of recently ended sessions
//! (`GET /api/auth/revocations`), and a backend follows it so access tokens of signed-out,
//! revoked or compromised sessions stop working within about one polling interval instead
//! of at their `exp`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tessera_verify::{RevocationFeed, Verifier};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let feed = RevocationFeed::builder("https://auth.example.com/api/auth/revocations")
//!     .bearer(std::env::var("TESSERA_REVOCATIONS_SECRET")?)
//!     .interval(Duration::from_secs(1))
//!     .start()?;
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
//! The protocol: the first call (no `since`) returns the sessions ended within
//! `window_seconds`, oldest first, a page at a time (`more: true`: ask again at once with
//! `since=<cursor>`); every later call passes the last `cursor` and gets only what ended
//! since (with a little overlap, so ids may repeat). Each id is kept for `window_seconds`
//! after it first arrived — by then every token of that session has expired — and then
//! forgotten. A feed answer without a `cursor` (an older Tessera) replaces the whole set.
//!
//! Failure behaviour: a failed poll keeps the set and the cursor (and logs one warning until
//! the feed answers again), so a brief outage of the auth server neither locks everyone out
//! nor forgets revocations; tokens still expire at their `exp`. Polling starts at once; the
//! first list usually arrives within one request round trip.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::ConfigError;
use crate::remote::get_bounded;
use crate::revocation::RevokedSessions;

/// Largest feed document accepted (the server sends at most 1,000 ids an answer).
const MAX_FEED_BYTES: usize = 1 << 20;
/// Most pages read in one poll, so a misbehaving feed cannot keep the task busy.
const MAX_PAGES_PER_POLL: usize = 100;
/// How long an id is kept when the feed does not say (the server's default window).
const DEFAULT_WINDOW: Duration = Duration::from_secs(960);

#[derive(Deserialize)]
struct FeedDocument {
    sessions: Vec<String>,
    window_seconds: Option<u64>,
    cursor: Option<String>,
    #[serde(default)]
    more: bool,
}

/// Follows a revocation feed in the background and keeps a [`RevokedSessions`] set current.
/// Dropping it stops the polling.
#[derive(Debug)]
pub struct RevocationFeed {
    sessions: RevokedSessions,
    task: tokio::task::JoinHandle<()>,
}

/// Configures a [`RevocationFeed`]: [`RevocationFeed::builder`].
#[derive(Debug, Clone)]
pub struct RevocationFeedBuilder {
    url: String,
    bearer: Option<String>,
    interval: Duration,
}

impl RevocationFeedBuilder {
    /// The feed secret the auth server expects (`--revocations-secret` there), sent as
    /// `Authorization: Bearer`.
    #[must_use]
    pub fn bearer(mut self, secret: impl Into<String>) -> Self {
        self.bearer = Some(secret.into());
        self
    }

    /// How often to poll (default one second, at least 100 ms).
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Starts polling on the current tokio runtime.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] for a URL that is not absolute http(s),
    /// [`ConfigError::InvalidSetting`] for a too-short interval or no runtime,
    /// [`ConfigError::HttpClient`] if the HTTP client cannot be built.
    pub fn start(self) -> Result<RevocationFeed, ConfigError> {
        let base = reqwest::Url::parse(&self.url).map_err(|_| ConfigError::InvalidUrl)?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(ConfigError::InvalidUrl);
        }
        if self.interval < Duration::from_millis(100) {
            return Err(ConfigError::InvalidSetting("revocation feed interval"));
        }
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| ConfigError::InvalidSetting("revocation feed needs a tokio runtime"))?;
        let timeout = self.interval.max(Duration::from_secs(2));
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        let sessions = RevokedSessions::new();
        let mut follower = Follower {
            client,
            base,
            bearer: self.bearer,
            timeout,
            set: sessions.clone(),
            cursor: None,
            kept: HashMap::new(),
            failing: false,
        };
        let interval = self.interval;
        let task = runtime.spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                follower.poll().await;
            }
        });
        Ok(RevocationFeed { sessions, task })
    }
}

impl RevocationFeed {
    /// A feed at `url` (e.g. `https://auth.example.com/api/auth/revocations`), to configure.
    pub fn builder(url: impl Into<String>) -> RevocationFeedBuilder {
        RevocationFeedBuilder {
            url: url.into(),
            bearer: None,
            interval: Duration::from_secs(1),
        }
    }

    /// Starts polling `url` every `interval` without a feed secret (for feeds that need
    /// none); see [`RevocationFeed::builder`].
    ///
    /// # Errors
    /// As [`RevocationFeedBuilder::start`].
    pub fn start(url: impl Into<String>, interval: Duration) -> Result<Self, ConfigError> {
        Self::builder(url).interval(interval).start()
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

/// The polling task's state.
struct Follower {
    client: reqwest::Client,
    base: reqwest::Url,
    bearer: Option<String>,
    timeout: Duration,
    set: RevokedSessions,
    /// Where the next poll continues (none: from the start of the window).
    cursor: Option<String>,
    /// Each id in the set and when it may be forgotten.
    kept: HashMap<String, Instant>,
    failing: bool,
}

impl Follower {
    async fn poll(&mut self) {
        for _ in 0..MAX_PAGES_PER_POLL {
            match self.page().await {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    if !self.failing {
                        tracing::warn!(url = %self.base, %error, "revocation feed unavailable; keeping the last list");
                    }
                    self.failing = true;
                    return;
                }
            }
        }
        if self.failing {
            tracing::info!(url = %self.base, "revocation feed reachable again");
            self.failing = false;
        }
        self.forget_expired(Instant::now());
    }

    /// Reads one page; `Ok(true)` when another should follow at once.
    async fn page(&mut self) -> Result<bool, String> {
        let mut url = self.base.clone();
        if let Some(cursor) = &self.cursor {
            url.query_pairs_mut().append_pair("since", cursor);
        }
        let body = get_bounded(
            &self.client,
            url.as_str(),
            self.bearer.as_deref(),
            MAX_FEED_BYTES,
            self.timeout,
        )
        .await
        .map_err(|e| e.to_string())?;
        let doc: FeedDocument = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let Some(cursor) = doc.cursor else {
            // an older feed: the whole list every time
            self.kept.clear();
            self.set.replace_all(doc.sessions);
            return Ok(false);
        };
        let keep = doc
            .window_seconds
            .map_or(DEFAULT_WINDOW, Duration::from_secs);
        let until = Instant::now() + keep;
        for id in doc.sessions {
            if !self.kept.contains_key(&id) {
                self.set.insert(id.clone());
                self.kept.insert(id, until);
            }
        }
        self.cursor = Some(cursor);
        Ok(doc.more)
    }

    fn forget_expired(&mut self, now: Instant) {
        let set = &self.set;
        self.kept.retain(|id, until| {
            let keep = *until > now;
            if !keep {
                set.remove(id);
            }
            keep
        });
    }
}
