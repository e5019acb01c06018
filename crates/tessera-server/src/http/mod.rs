//! Cross-cutting HTTP concerns: the error envelope, body parsing, client identity, origin
//! checks and the layers every response passes through.

pub mod access_log;
pub mod body;
pub mod client_ip;
pub mod error;
pub mod layers;
pub mod origin;
pub mod rate_limit;

pub use body::{Fields, JsonBody, JsonOrFormBody};
pub use error::{ApiError, ApiResult, ErrorCode};

/// Where the auth server's routes are nested (links in mail are built on it too).
pub(crate) const AUTH_PREFIX: &str = "/api/auth";
