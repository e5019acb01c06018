//! A JWS verifier written for the tests, independently of the server's signing code and of
//! `tessera-verify`: it splits a compact token, finds the JWK its `kid` names and checks the
//! signature with aws-lc-rs directly, so a bug shared by signer and verifier cannot hide.

use aws_lc_rs::{hmac, signature};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// A compact JWS split into its parts.
#[derive(Debug)]
pub struct Jwt {
    /// The decoded header.
    pub header: Value,
    /// The decoded claims.
    pub claims: Value,
    /// `header.claims` as sent: what the signature covers.
    pub signing_input: String,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWS (no verification).
pub fn decode_jwt(token: &str) -> Jwt {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "three parts in {token}");
    let part = |s: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("JSON part")
    };
    Jwt {
        header: part(parts[0]),
        claims: part(parts[1]),
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature: URL_SAFE_NO_PAD
            .decode(parts[2])
            .expect("base64url signature"),
    }
}

fn b64url(v: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(v.as_str().expect("a base64url string"))
        .expect("base64url")
}

/// Verifies a JWS with the JWK its `kid` names in `jwks`, pinning the algorithm to the JWK's
/// `alg`. Returns false on any mismatch.
pub fn verifies_with_jwks(token: &str, jwks: &Value) -> bool {
    let jwt = decode_jwt(token);
    let Some(jwk) = jwks["keys"]
        .as_array()
        .expect("keys array")
        .iter()
        .find(|k| k["kid"] == jwt.header["kid"])
    else {
        return false;
    };
    if jwk["alg"] != jwt.header["alg"] {
        return false;
    }
    let msg = jwt.signing_input.as_bytes();
    let sig = &jwt.signature;
    match jwk["alg"].as_str() {
        Some("EdDSA") => {
            assert_eq!(jwk["kty"], "OKP");
            assert_eq!(jwk["crv"], "Ed25519");
            signature::UnparsedPublicKey::new(&signature::ED25519, b64url(&jwk["x"]))
                .verify(msg, sig)
                .is_ok()
        }
        Some("ES256") => {
            assert_eq!(jwk["kty"], "EC");
            assert_eq!(jwk["crv"], "P-256");
            let mut point = vec![0x04];
            point.extend(b64url(&jwk["x"]));
            point.extend(b64url(&jwk["y"]));
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(msg, sig)
                .is_ok()
        }
        Some("RS256") => {
            assert_eq!(jwk["kty"], "RSA");
            let (n, e) = (b64url(&jwk["n"]), b64url(&jwk["e"]));
            signature::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, msg, sig)
                .is_ok()
        }
        _ => false,
    }
}

/// Verifies an HS256 JWS with a shared secret.
pub fn verifies_with_hs256(token: &str, secret: &[u8]) -> bool {
    let jwt = decode_jwt(token);
    jwt.header["alg"] == "HS256"
        && hmac::verify(
            &hmac::Key::new(hmac::HMAC_SHA256, secret),
            jwt.signing_input.as_bytes(),
            &jwt.signature,
        )
        .is_ok()
}

/// The token with one claim changed and the signature kept: what a forger would send.
pub fn with_claim(token: &str, name: &str, value: Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    assert_eq!(parts.len(), 3, "three parts in {token}");
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).expect("base64url"))
            .expect("JSON claims");
    claims[name] = value;
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("JSON"));
    parts.join(".")
}
