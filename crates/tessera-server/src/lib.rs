//! The Tessera HTTP application as a library.
//!
//! [`build_app`] turns [`Services`] into an axum `Router` (used by in-process tests and
//! benches); [`Application`] connects storage, loads keys, binds a socket and serves (used
//! by the CLI and by black-box tests on port 0).
//!
//! The modules stand on floors and import only downward (`tests/api/layout.rs` keeps it
//! so; ARCHITECTURE.md describes each), top first:
//! `startup` `accounts` | `app` `upkeep` and the handlers `auth` `passkeys` `sessions` `social`
//! `tokens` `two_factor` `email_sign_in` | `state` | `session` | `keys` `mail` `providers` | `probes` `settings` `tasks` |
//! `openapi` `password` `ui` | `http` | `metrics` `revocation` `serve`.

mod accounts;
mod app;
mod auth;
mod email_sign_in;
pub mod http;
pub mod keys;
pub mod mail;
mod metrics;
mod openapi;
mod passkeys;
mod password;
mod probes;
mod providers;
mod revocation;
pub mod serve;
pub mod session;
mod sessions;
pub mod settings;
mod social;
mod startup;
mod state;
mod tasks;
mod tokens;
mod two_factor;
mod ui;
mod upkeep;

pub use crate::app::{Services, build_app, documented_operations};
pub use crate::metrics::Metrics;
pub use crate::openapi::{Operation, Verb};
pub use crate::passkeys::importable_public_key;
pub use crate::password::HashStats;
pub use crate::session::second_factor::FactorKeys;
pub use crate::settings::{ApiKeys, JwtAlg, Role, Settings, SettingsError};
pub use crate::startup::{Application, StartError, connect_database, connect_store};
pub use crate::state::AuthState;
pub use crate::tasks::TasksState;
