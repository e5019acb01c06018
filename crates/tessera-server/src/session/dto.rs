//! Wire shapes of Better Auth's user and session objects (field names in camelCase,
//! timestamps as ISO-8601 with milliseconds).

use serde::Serialize;
use tessera_core::timefmt::iso_millis;
use tessera_store::{Session, User};

/// `user` in responses.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDto<'a> {
    name: &'a str,
    email: &'a str,
    email_verified: bool,
    two_factor_enabled: bool,
    image: Option<&'a str>,
    created_at: String,
    updated_at: String,
    id: &'a str,
}

impl<'a> From<&'a User> for UserDto<'a> {
    fn from(u: &'a User) -> Self {
        Self {
            name: &u.name,
            email: &u.email,
            email_verified: u.email_verified,
            two_factor_enabled: u.two_factor_enabled,
            image: u.image.as_deref(),
            created_at: iso_millis(u.created_at),
            updated_at: iso_millis(u.updated_at),
            id: &u.id,
        }
    }
}

/// `session` in responses. `token` is the caller's own raw token in `get-session`; in
/// `list-sessions` it is the non-secret session id.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDto<'a> {
    expires_at: String,
    token: &'a str,
    created_at: String,
    updated_at: String,
    ip_address: &'a str,
    user_agent: &'a str,
    user_id: &'a str,
    id: &'a str,
}

impl<'a> SessionDto<'a> {
    /// Builds the DTO with the given `token` field.
    pub fn new(s: &'a Session, token: &'a str) -> Self {
        Self {
            expires_at: iso_millis(s.expires_at),
            token,
            created_at: iso_millis(s.created_at),
            updated_at: iso_millis(s.updated_at),
            ip_address: &s.ip_address,
            user_agent: &s.user_agent,
            user_id: &s.user_id,
            id: &s.id,
        }
    }
}
