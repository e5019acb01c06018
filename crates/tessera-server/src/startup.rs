//! Starting a process: settings validated, the store opened, keys loaded, the verifier
//! configured, the socket bound ([`Application::build`]); then served until shutdown
//! ([`Application::run_until`]) with the upkeep jobs beside it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use tessera_core::Clock;
use tessera_store::Store;
use tokio::net::TcpListener;

use crate::app::{Services, build_app};
use crate::keys;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::revocation::Revocations;
use crate::serve;
use crate::settings::{self, ApiKeys, JwtAlg, Role, Settings, SettingsError};
use crate::state::AuthState;
use crate::tasks;
use crate::upkeep;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A setting is invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] tessera_store::StoreError),
    /// The database URL names an unsupported backend.
    #[error("unsupported database URL {0:?}: use sqlite://path or postgres://user@host/db")]
    UnsupportedDatabase(String),
    /// Signing keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    /// The password-hashing threads could not be started.
    #[error("could not start the password-hashing threads: {0}")]
    HashThreads(#[source] std::io::Error),
    /// Mail delivery could not be set up (an SMTP URL, the sender or a template file).
    #[error("mail: {0}")]
    Mail(String),
    /// The token verifier could not be configured.
    #[error("token verification: {0}")]
    Verifier(tessera_verify::ConfigError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Opens the store the settings' database group names.
pub async fn connect_store(settings: &Settings) -> Result<Arc<dyn Store>, StartError> {
    connect_database(&settings.database).await
}

/// Opens the store a [`settings::Database`] names (admin commands need nothing else); the
/// backend is chosen by `tessera_store::connect`.
pub async fn connect_database(database: &settings::Database) -> Result<Arc<dyn Store>, StartError> {
    let options = tessera_store::PoolOptions {
        max_connections: database.db_max_connections,
        timeout: database.db_timeout,
    };
    match tessera_store::connect(&database.database_url, options).await {
        Err(tessera_store::StoreError::UnsupportedUrl(_)) => Err(StartError::UnsupportedDatabase(
            settings::redact_url(&database.database_url),
        )),
        other => Ok(other?),
    }
}

/// Builds the verifier the in-process or stand-alone tasks API uses.
/// The server's clock, as the verifier sees it (tests move both together).
struct VerifierClock(Arc<dyn Clock>);

impl tessera_verify::Clock for VerifierClock {
    fn now_unix(&self) -> i64 {
        self.0.now_ms().div_euclid(1000)
    }
}

fn tasks_verifier(
    settings: &Settings,
    keys: Option<&keys::KeyRing>,
    revoked: &tessera_verify::RevokedSessions,
    clock: Arc<dyn Clock>,
) -> Result<tessera_verify::Verifier, StartError> {
    let shared_secret = || {
        settings
            .tokens
            .jwt_secret
            .as_ref()
            .map(|s| s.expose_secret().to_vec())
            .unwrap_or_default()
    };
    let mut b = tessera_verify::Verifier::builder()
        .clock(Arc::new(VerifierClock(clock)))
        .revocation(Arc::new(revoked.clone()))
        .leeway(Duration::from_secs(30));
    let (mut issuer, mut audience) = (settings.issuer(), settings.audience());
    match (&settings.deployment.role, keys) {
        (Role::Api(ApiKeys::Jwks(url)), _) => {
            b = b
                .remote_jwks(url.clone())
                .jwks_cooldown(settings.deployment.jwks_cooldown);
            // Unless told otherwise, expect tokens from the origin that publishes the keys.
            let origin = crate::http::origin::origin_of(url).unwrap_or_default();
            issuer = settings
                .tokens
                .issuer
                .clone()
                .unwrap_or_else(|| origin.clone());
            audience = settings.tokens.audience.clone().unwrap_or(origin);
        }
        (_, Some(k)) if k.alg() != JwtAlg::HS256 => b = b.jwks_json(&k.jwks_json()),
        _ => b = b.hs256_secret(shared_secret()),
    }
    // Clients present the same access token for its whole life, so remember verified ones
    // (exp, nbf and revocation are still checked on every hit). A hit costs well under a
    // microsecond; a miss parses the token and checks its signature: 25-80 us for Ed25519,
    // ECDSA or RSA, and under load even HS256's path measured ~15 us more per request.
    b = b.cache(VERIFIED_TOKEN_CACHE);
    b.issuer(issuer)
        .audience(audience)
        .build()
        .map_err(StartError::Verifier)
}

/// Verified access tokens remembered by the tasks API (a few hundred bytes each).
const VERIFIED_TOKEN_CACHE: usize = 4096;

/// A bound, ready-to-serve server.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    services: Services,
}

impl Application {
    /// Validates settings, opens the database (running migrations), loads or creates the
    /// signing keys, configures the verifier and binds the listen address.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartError> {
        settings.validate()?;
        let store = connect_store(&settings).await?;
        let revoked = tessera_verify::RevokedSessions::new();
        let keys = match settings.deployment.role {
            Role::Api(_) => None,
            Role::All | Role::Auth => Some(Arc::new(
                keys::KeyRing::load(&*store, &settings, &*clock).await?,
            )),
        };
        let tasks = match settings.deployment.role {
            Role::Auth => None,
            Role::All => {
                let verifier = tasks_verifier(&settings, keys.as_deref(), &revoked, clock.clone())?;
                Some(tasks::TasksState::new(
                    store.clone(),
                    verifier,
                    clock.clone(),
                    None,
                ))
            }
            Role::Api(_) => {
                // Another process ends sessions: learn about it from its revocation feed.
                let feed = match settings.revocation_feed_url() {
                    Some(url) => {
                        let mut feed = tessera_verify::RevocationFeed::builder(url)
                            .interval(Duration::from_secs(1));
                        if let Some(secret) = &settings.security.revocations_secret {
                            feed = feed.bearer(
                                String::from_utf8_lossy(secret.expose_secret()).into_owned(),
                            );
                        }
                        Some(feed.start().map_err(StartError::Verifier)?)
                    }
                    None => None,
                };
                let set = feed
                    .as_ref()
                    .map_or_else(|| revoked.clone(), |f| f.sessions());
                let verifier = tasks_verifier(&settings, None, &set, clock.clone())?;
                Some(tasks::TasksState::new(
                    store.clone(),
                    verifier,
                    clock.clone(),
                    feed.map(Arc::new),
                ))
            }
        };
        let metrics = Arc::new(Metrics::default());
        let auth = keys
            .map(|k| {
                let mailer = Mailer::new(&settings, store.clone(), clock.clone(), metrics.clone())
                    .map_err(StartError::Mail)?;
                AuthState::new(
                    settings.clone(),
                    store.clone(),
                    k,
                    clock.clone(),
                    Revocations::new(revoked.clone()),
                    metrics.clone(),
                    mailer,
                )
                .map_err(StartError::HashThreads)
            })
            .transpose()?;
        let listener = TcpListener::bind(settings.http.bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: settings.http.bind,
                source,
            })?;
        Ok(Self {
            listener,
            services: Services {
                auth,
                tasks,
                store,
                settings,
                metrics,
                clock,
            },
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.services.settings.http.bind)
    }

    /// The auth server's state, if this process runs it (tests reach the store and clock).
    pub fn state(&self) -> Option<&AuthState> {
        self.services.auth.as_ref()
    }

    /// The services this process runs.
    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let maintenance = self
            .services
            .auth
            .clone()
            .map(|auth| upkeep::start(auth, self.services.tasks.clone()));
        let app = build_app(&self.services);
        let settings = &self.services.settings;
        let options = serve::ServeOptions {
            header_timeout: settings.http.header_timeout,
            idle_timeout: settings.http.idle_timeout,
            max_connections: settings.http.max_connections,
            http2: settings.http.http2,
        };
        let result = serve::serve(self.listener, app, &options, shutdown).await;
        self.services.store.close().await;
        if let Some(jobs) = maintenance {
            jobs.stop();
        }
        result
    }
}
