//! A JWKS fetched from one configured URL, cached, refreshed, and never taken from a token.
//!
//! * Readers take an `Arc` snapshot under a `std` read lock that is never held across an
//!   await: a request whose `kid` is known never waits for the network.
//! * An unknown `kid` triggers at most one refetch per cooldown. Refetches are single-flight:
//!   one task fetches while the others with unknown kids wait for its result (the async
//!   `fetch_lock` is only taken on that slow path).
//! * A background task refreshes the set every `refresh_interval`; it holds only a `Weak`
//!   reference and stops once the verifier is dropped.
//! * A failed fetch keeps the last good set. Without any good set, verification fails
//!   closed with `KeysUnavailable`.
//! * Each fetch is bounded in time (`http_timeout`, covering connect, headers and body) and
//!   size (`max_bytes`, enforced while reading). Redirects are not followed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use crate::error::{ConfigError, VerifyError};
use crate::keys::{JwkSet, KeySet};

/// Settings of a remote key source.
#[derive(Debug, Clone)]
pub(crate) struct RemoteConfig {
    pub(crate) url: String,
    pub(crate) http_timeout: Duration,
    pub(crate) cooldown: Duration,
    pub(crate) refresh_interval: Duration,
    pub(crate) max_bytes: usize,
}

#[derive(Debug)]
pub(crate) struct RemoteJwks {
    config: RemoteConfig,
    client: reqwest::Client,
    current: RwLock<Option<Arc<KeySet>>>,
    /// Serialises fetches (single-flight). Only the slow path takes it.
    fetch_lock: tokio::sync::Mutex<()>,
    /// When the last fetch triggered by an unknown `kid` started.
    last_on_demand: Mutex<Option<Instant>>,
    background_started: AtomicBool,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("unexpected status {0}")]
    Status(reqwest::StatusCode),
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    #[error("timed out")]
    Timeout,
    #[error("not a JWKS: {0}")]
    Invalid(String),
    #[error("no usable key in the set")]
    NoUsableKeys,
}

impl RemoteJwks {
    pub(crate) fn new(config: RemoteConfig) -> Result<Self, ConfigError> {
        let url = reqwest::Url::parse(&config.url).map_err(|_| ConfigError::InvalidUrl)?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(ConfigError::InvalidUrl);
        }
        let client = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .connect_timeout(config.http_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(Self {
            config,
            client,
            current: RwLock::new(None),
            fetch_lock: tokio::sync::Mutex::new(()),
            last_on_demand: Mutex::new(None),
            background_started: AtomicBool::new(false),
        })
    }

    /// The current key set, if one was ever loaded. Never waits on I/O.
    pub(crate) fn snapshot(&self) -> Option<Arc<KeySet>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn unavailable(&self) -> VerifyError {
        VerifyError::KeysUnavailable {
            retry_after_secs: self.config.cooldown.as_secs().max(1),
        }
    }

    /// A key set that contains `kid`, refetching (at most once per cooldown) if needed.
    pub(crate) async fn key_set_for(
        self: &Arc<Self>,
        kid: &str,
    ) -> Result<Arc<KeySet>, VerifyError> {
        self.ensure_background_refresh();
        if let Some(set) = self.snapshot().filter(|s| s.get(kid).is_some()) {
            return Ok(set);
        }
        // Slow path: unknown kid, or no set yet.
        let _guard = self.fetch_lock.lock().await;
        if let Some(set) = self.snapshot().filter(|s| s.get(kid).is_some()) {
            return Ok(set); // another task fetched it while we waited
        }
        if self.on_demand_allowed() {
            self.fetch_and_store().await;
        }
        match self.snapshot() {
            Some(set) if set.get(kid).is_some() => Ok(set),
            Some(_) => Err(VerifyError::UnknownKey),
            None => Err(self.unavailable()),
        }
    }

    /// Fetches now, ignoring the cooldown (still single-flight). Returns the usable key count.
    pub(crate) async fn refresh(&self) -> Result<usize, VerifyError> {
        let _guard = self.fetch_lock.lock().await;
        if self.fetch_and_store().await {
            Ok(self.snapshot().map_or(0, |s| s.len()))
        } else {
            Err(self.unavailable())
        }
    }

    /// Claims the on-demand slot if the cooldown since the last on-demand fetch has passed.
    fn on_demand_allowed(&self) -> bool {
        let mut last = self
            .last_on_demand
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < self.config.cooldown) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Fetches and, on success, swaps the set in. Failures keep the last good set.
    async fn fetch_and_store(&self) -> bool {
        match self.fetch().await {
            Ok(set) => {
                tracing::debug!(url = %self.config.url, keys = set.len(), "JWKS refreshed");
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(set));
                true
            }
            Err(error) => {
                tracing::warn!(url = %self.config.url, %error, "JWKS fetch failed; keeping the last good key set");
                false
            }
        }
    }

    async fn fetch(&self) -> Result<KeySet, FetchError> {
        let body = get_bounded(
            &self.client,
            &self.config.url,
            None,
            self.config.max_bytes,
            self.config.http_timeout,
        )
        .await?;
        let text = std::str::from_utf8(&body).map_err(|e| FetchError::Invalid(e.to_string()))?;
        let jwks = JwkSet::from_json(text).map_err(|e| FetchError::Invalid(e.to_string()))?;
        let set = KeySet::from_jwks(&jwks);
        if set.is_empty() {
            return Err(FetchError::NoUsableKeys);
        }
        Ok(set)
    }

    /// Starts the periodic refresher once, on the runtime of the first verification.
    fn ensure_background_refresh(self: &Arc<Self>) {
        if self.config.refresh_interval.is_zero() || self.background_started.load(Ordering::Relaxed)
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.background_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak: Weak<Self> = Arc::downgrade(self);
        let interval = self.config.refresh_interval;
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(this) = weak.upgrade() else { break };
                let _guard = this.fetch_lock.lock().await;
                this.fetch_and_store().await;
            }
        });
    }
}

/// `GET url` as JSON, bounded in time (connect, headers and body together) and in size
/// (checked against `Content-Length` and again while reading). Shared by the JWKS fetcher
/// and the revocation feed.
pub(crate) async fn get_bounded(
    client: &reqwest::Client,
    url: &str,
    bearer: Option<&str>,
    max: usize,
    timeout: Duration,
) -> Result<Vec<u8>, FetchError> {
    let work = async {
        let mut request = client
            .get(url)
            .header(http::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let mut response = request.send().await?;
        if !response.status().is_success() {
            return Err(FetchError::Status(response.status()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > max as u64)
        {
            return Err(FetchError::TooLarge(max));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > max {
                return Err(FetchError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| FetchError::Timeout)?
}
