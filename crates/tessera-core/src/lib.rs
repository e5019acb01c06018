//! Tessera's domain vocabulary. Everything here is pure: no sockets, no files, no database.
//!
//! The server parses client input into these types once, at the edge, and the rest of the
//! code can then trust them: an [`Email`] is lower-cased and well formed, a [`Password`] is
//! within the length policy and NFKC-normalised, a [`SessionToken`] never prints itself.

pub mod account;
pub mod clock;
pub mod common;
pub mod cookie;
pub mod email;
pub mod id;
pub mod lifecycle;
pub mod password;
pub mod task;
pub mod text;
pub mod timefmt;
pub mod token;
pub mod totp;

pub use account::{AccountError, AccountName, NewAccount};
pub use clock::{Clock, ManualClock, SystemClock};
pub use email::{Email, EmailError};
pub use lifecycle::{PresentedCredential, RefreshDecision, SessionLifetime, decide_refresh};
pub use password::{HashMemory, Password, PasswordError, PasswordHasher, PasswordVerdict};
pub use token::{SessionToken, TokenDigest};
pub use totp::Totp;
