//! The `tessera` binary tested as real processes: each test starts the built binary (and,
//! where needed, several of them) on free 127.0.0.1 ports with its own temporary databases,
//! and talks to it over HTTP or reads its output. Every wait is bounded.
//!
//! One module per area; each says what belongs in it. `support` starts processes and holds
//! the helpers the modules share (fresh PostgreSQL databases come from `tessera-testkit`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod balanced;
mod cli;
mod config;
mod durability;
mod failure;
mod import;
mod import_passkeys;
mod instances;
mod mail;
mod services;
mod users;
