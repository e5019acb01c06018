//! The verified claims and the rules they are checked against.

use serde_json::{Map, Value};

use crate::error::VerifyError;
use crate::keys::Algorithm;

/// The claims of a verified token.
///
/// Registered claims are typed; every claim (including the ones Better Auth copies from the
/// user row, such as `emailVerified` or `role`) is also in [`raw`](Self::raw).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Claims {
    /// `sub`: the user id. A non-empty string.
    pub sub: String,
    /// `sid`: the session id, when the issuer includes it (Tessera does; Better Auth does not
    /// by default). [`RevokedSessions`](crate::RevokedSessions) keys on it.
    pub sid: Option<String>,
    /// `email`, when present as a string.
    pub email: Option<String>,
    /// `name`, when present as a string.
    pub name: Option<String>,
    /// `jti`, when present.
    pub jti: Option<String>,
    /// `iat` (seconds since the Unix epoch), when present.
    pub iat: Option<i64>,
    /// `exp` (seconds since the Unix epoch). Always present.
    pub exp: i64,
    /// `nbf` (seconds since the Unix epoch), when present.
    pub nbf: Option<i64>,
    /// `amr` (RFC 8176): how the user authenticated, e.g. `["pwd"]` or `["pwd", "otp",
    /// "mfa"]`. Empty when the token has none (Better Auth sends none). Tessera puts `mfa`
    /// in it once a second factor was verified.
    pub amr: Vec<String>,
    /// `auth_time` (seconds since the Unix epoch), when present: for Tessera, when the
    /// session's strongest authentication happened (the second factor's time when `amr`
    /// has `mfa`).
    pub auth_time: Option<i64>,
    /// `iss`: equal to the configured issuer.
    pub iss: String,
    /// `aud`, normalised to a list (a single string becomes one element). Contains at least
    /// one configured audience.
    pub aud: Vec<String>,
    /// All claims as sent.
    pub raw: Map<String, Value>,
    /// `kid` of the protected header, if it had one.
    pub kid: Option<String>,
    /// The algorithm the signature was verified with.
    pub alg: Algorithm,
}

impl Claims {
    /// Whether the token says a second factor was verified: `amr` contains `mfa`.
    #[must_use]
    pub fn has_mfa(&self) -> bool {
        self.amr.iter().any(|m| m == "mfa")
    }

    /// Whether a second factor was verified at most `max_age_secs` before `now_unix`
    /// (`amr` has `mfa` and `auth_time` is that recent; a token without `auth_time` never is).
    #[must_use]
    pub fn has_mfa_within(&self, max_age_secs: u64, now_unix: i64) -> bool {
        let max_age = i64::try_from(max_age_secs).unwrap_or(i64::MAX);
        self.has_mfa()
            && self.auth_time.is_some_and(|t| {
                t <= now_unix.saturating_add(60) && now_unix.saturating_sub(t) <= max_age
            })
    }
}

/// The configured expectations, copied out of the verifier.
#[derive(Debug)]
pub(crate) struct Rules<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audiences: &'a [String],
    pub(crate) leeway: i64,
    pub(crate) max_lifetime: i64,
}

/// A NumericDate claim: a JSON integer in `0..=i64::MAX`. Strings, floats (`1e308`, `1.5`),
/// booleans, `null`, arrays, negative numbers and values above `i64::MAX` are refused.
fn numeric_date(map: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, VerifyError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if v >= 0 => Ok(Some(v)),
            _ => Err(VerifyError::InvalidClaim(name)),
        },
        Some(_) => Err(VerifyError::InvalidClaim(name)),
    }
}

/// An optional claim that must be a string when present (it feeds security decisions, e.g.
/// `sid` for revocation, so a wrong type fails closed).
fn strict_string(
    map: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, VerifyError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(VerifyError::InvalidClaim(name)),
    }
}

/// `amr`: absent, or an array of strings (anything else fails closed: it feeds the
/// two-factor checks).
fn string_list(map: &Map<String, Value>, name: &'static str) -> Result<Vec<String>, VerifyError> {
    match map.get(name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(VerifyError::InvalidClaim(name)),
            })
            .collect(),
        Some(_) => Err(VerifyError::InvalidClaim(name)),
    }
}

/// An informational claim: kept when it is a string, ignored otherwise.
fn loose_string(map: &Map<String, Value>, name: &str) -> Option<String> {
    match map.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The time checks, shared by the full path and the verified-token cache.
pub(crate) fn check_times(
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
    now: i64,
    rules: &Rules<'_>,
) -> Result<(), VerifyError> {
    // RFC 7519 §4.1.4: the current time must be before `exp` (plus leeway).
    if now >= exp.saturating_add(rules.leeway) {
        return Err(VerifyError::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(rules.leeway)) {
        return Err(VerifyError::NotYetValid);
    }
    if iat.is_some_and(|iat| iat > now.saturating_add(rules.leeway)) {
        return Err(VerifyError::IssuedInFuture);
    }
    // Defence in depth: a token that lives far longer than any access token should is
    // refused, whether or not it says when it was issued.
    let lifetime_from_now = exp.saturating_sub(now);
    let lifetime_from_iat = iat.map_or(0, |iat| exp.saturating_sub(iat));
    if lifetime_from_iat > rules.max_lifetime
        || lifetime_from_now > rules.max_lifetime.saturating_add(rules.leeway)
    {
        return Err(VerifyError::InvalidClaim("exp"));
    }
    Ok(())
}

/// Checks the claims of a token whose signature has already been verified.
pub(crate) fn validate(
    raw: Map<String, Value>,
    now: i64,
    rules: &Rules<'_>,
    kid: Option<String>,
    alg: Algorithm,
) -> Result<Claims, VerifyError> {
    let exp = numeric_date(&raw, "exp")?.ok_or(VerifyError::MissingClaim("exp"))?;
    let nbf = numeric_date(&raw, "nbf")?;
    let iat = numeric_date(&raw, "iat")?;
    check_times(exp, nbf, iat, now, rules)?;

    let iss = match raw.get("iss") {
        None => return Err(VerifyError::MissingClaim("iss")),
        Some(Value::String(iss)) if iss == rules.issuer => iss.clone(),
        Some(_) => return Err(VerifyError::WrongIssuer),
    };

    let aud = match raw.get("aud") {
        None => return Err(VerifyError::MissingClaim("aud")),
        Some(Value::String(aud)) => vec![aud.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(VerifyError::InvalidClaim("aud")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(VerifyError::InvalidClaim("aud")),
    };
    if !aud
        .iter()
        .any(|a| rules.audiences.iter().any(|ours| ours == a))
    {
        return Err(VerifyError::WrongAudience);
    }

    let sub = match raw.get("sub") {
        None => return Err(VerifyError::MissingClaim("sub")),
        Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
        Some(_) => return Err(VerifyError::InvalidClaim("sub")),
    };

    let amr = string_list(&raw, "amr")?;
    let auth_time = numeric_date(&raw, "auth_time")?;
    Ok(Claims {
        sub,
        amr,
        auth_time,
        sid: strict_string(&raw, "sid")?,
        jti: strict_string(&raw, "jti")?,
        email: loose_string(&raw, "email"),
        name: loose_string(&raw, "name"),
        iat,
        exp,
        nbf,
        iss,
        aud,
        raw,
        kid,
        alg,
    })
}
