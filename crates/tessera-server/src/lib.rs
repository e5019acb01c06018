//! The Tessera HTTP application as a library.
//!
//! [`build_app`] turns [`Services`] into an axum `Router` (used by in-process tests and
//! benches); [`Application`] connects storage, loads keys, binds a socket and serves (used
//! by the CLI and by black-box tests on port 0).
//!
//! The modules stand on floors and import only downward (a test keeps it so):
//!
//! 1. `app`, `startup`, `upkeep`, `probes` — composition and process life;
//! 2. handlers: `auth` (Better Auth's email/password core), `sessions` (list, revoke,
//!    change password, refresh, the revocation feed), `tokens` (JWKS, `/token`), `tasks`
//!    (the protected API, authorised only through `tessera-verify`), `ui`;
//! 3. `state` — the auth server's services, handed to handlers through `FromRef`;
//! 4. `session` — the session lifecycle (start, look up, slide, end, cookies, extractors);
//! 5. `keys` (signing keys and minting), `password` (hashing threads, common passwords),
//!    `revocation` (the ended-sessions set);
//! 6. `settings`, `openapi`, `http` (errors, bodies, client IP, origin, rate limits,
//!    layers), `metrics`, `serve` (the accept loop).

mod app;
mod auth;
pub mod http;
pub mod keys;
mod metrics;
mod openapi;
mod password;
mod probes;
mod revocation;
pub mod serve;
pub mod session;
mod sessions;
pub mod settings;
mod startup;
mod state;
mod tasks;
mod tokens;
mod ui;
mod upkeep;

pub use crate::app::{Services, build_app, documented_operations};
pub use crate::metrics::Metrics;
pub use crate::openapi::{Operation, Verb};
pub use crate::password::HashStats;
pub use crate::probes::observe_request;
pub use crate::settings::{ApiKeys, JwtAlg, Role, Settings, SettingsError};
pub use crate::startup::{Application, StartError, connect_database, connect_store};
pub use crate::state::AuthState;
pub use crate::tasks::TasksState;
