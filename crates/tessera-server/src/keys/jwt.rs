//! Compact JWS encoding of access tokens.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Serialize;

use super::{ActiveKey, Signer};

/// The claims of a Tessera access token.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessClaims<'a> {
    /// Issuer.
    pub iss: &'a str,
    /// Audience.
    pub aud: &'a str,
    /// Subject: the user id.
    pub sub: &'a str,
    /// Issued at, unix seconds.
    pub iat: i64,
    /// Expiry, unix seconds.
    pub exp: i64,
    /// Unique token id.
    pub jti: &'a str,
    /// Session id: lets verifiers refuse tokens of ended sessions.
    pub sid: &'a str,
    /// The user's email.
    pub email: &'a str,
    /// The user's display name.
    pub name: &'a str,
    /// Whether the email is verified.
    pub email_verified: bool,
    /// How the session was authenticated (RFC 8176 values: `pwd`, `otp`, `mfa`, …).
    pub amr: Vec<&'a str>,
    /// When the session's strongest authentication happened, unix seconds: the second
    /// factor's time when `amr` has `mfa` (step-up checks compare it with now).
    #[serde(rename = "auth_time")]
    pub auth_time: i64,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    typ: &'a str,
}

/// An access token could not be signed; no token is handed out (never one with an empty
/// signature).
#[derive(Debug, thiserror::Error)]
#[error("signing an access token failed")]
pub struct SignError;

pub(super) fn sign(key: &ActiveKey, claims: &AccessClaims<'_>) -> Result<String, SignError> {
    let header = Header {
        alg: key.alg.as_str(),
        kid: key.kid.as_deref(),
        // RFC 9068: marks the JWT as an access token, so it cannot be confused with others
        typ: "at+jwt",
    };
    let mut out = String::with_capacity(512);
    B64.encode_string(
        serde_json::to_vec(&header).map_err(|_| SignError)?,
        &mut out,
    );
    out.push('.');
    B64.encode_string(serde_json::to_vec(claims).map_err(|_| SignError)?, &mut out);
    let sig: Vec<u8> = match &key.signer {
        Signer::Ed(kp) => kp.sign(out.as_bytes()).as_ref().to_vec(),
        Signer::Ec(kp) => kp
            .sign(&SystemRandom::new(), out.as_bytes())
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| SignError)?,
        Signer::Rsa(kp) => {
            let mut sig = vec![0u8; kp.public_modulus_len()];
            if kp
                .sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    out.as_bytes(),
                    &mut sig,
                )
                .is_err()
            {
                return Err(SignError);
            }
            sig
        }
        Signer::Hs(k) => hmac::sign(k, out.as_bytes()).as_ref().to_vec(),
    };
    out.push('.');
    B64.encode_string(sig, &mut out);
    Ok(out)
}
