//! COSE public keys (RFC 9052 §7) as Better Auth stores them (the CBOR map the authenticator
//! sent, standard base64), to and from webauthn-rs-core's parsed form, and the AAGUID of an
//! attestation object. Only what webauthn-rs-core verifies: EC2 (P-256/384/521) and RSA.

use std::collections::BTreeMap;

use serde_cbor_2::Value;
use webauthn_rs_core::proto::{COSEKey, COSEKeyType, ECDSACurve};

/// Parses a COSE key (`None`: not CBOR, or no key webauthn-rs-core can verify with — it
/// parses Ed25519 (OKP) keys but cannot verify their signatures).
pub(super) fn decode(bytes: &[u8]) -> Option<COSEKey> {
    let value: Value = serde_cbor_2::from_slice(bytes).ok()?;
    COSEKey::try_from(&value)
        .ok()
        .filter(|k| !matches!(k.key, COSEKeyType::EC_OKP(_)))
}

/// The COSE key map for a parsed key (`None` for key types Tessera does not store).
pub(super) fn encode(key: &COSEKey) -> Option<Vec<u8>> {
    let int = |i: i128| Value::Integer(i);
    let mut m = BTreeMap::new();
    m.insert(int(3), int(key.type_ as i128));
    match &key.key {
        COSEKeyType::EC_EC2(ec) => {
            let crv = match ec.curve {
                ECDSACurve::SECP256R1 => 1,
                ECDSACurve::SECP384R1 => 2,
                ECDSACurve::SECP521R1 => 3,
            };
            m.insert(int(1), int(2));
            m.insert(int(-1), int(crv));
            m.insert(int(-2), Value::Bytes(ec.x.clone()));
            m.insert(int(-3), Value::Bytes(ec.y.clone()));
        }
        COSEKeyType::RSA(rsa) => {
            m.insert(int(1), int(3));
            m.insert(int(-1), Value::Bytes(rsa.n.clone()));
            m.insert(int(-2), Value::Bytes(rsa.e.to_vec()));
        }
        COSEKeyType::EC_OKP(_) => return None,
    }
    serde_cbor_2::to_vec(&Value::Map(m)).ok()
}

/// The AAGUID (UUID text) in an attestation object's authenticator data, when it has one
/// that is not all zeros.
pub(super) fn aaguid(attestation_object: &[u8]) -> Option<String> {
    let value: Value = serde_cbor_2::from_slice(attestation_object).ok()?;
    let Value::Map(m) = value else { return None };
    let Some(Value::Bytes(auth_data)) = m.get(&Value::Text("authData".into())) else {
        return None;
    };
    // rpIdHash (32) | flags (1) | signCount (4) | AAGUID (16) | …
    let g = auth_data.get(37..53)?;
    if g.iter().all(|b| *b == 0) {
        return None;
    }
    let hex: String = g.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ec2_key_survives_encoding() {
        // a P-256 COSE key as an authenticator sends it
        let mut m = BTreeMap::new();
        m.insert(Value::Integer(1), Value::Integer(2));
        m.insert(Value::Integer(3), Value::Integer(-7));
        m.insert(Value::Integer(-1), Value::Integer(1));
        // the generator point of P-256 is a valid public key
        let x = hex("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296");
        let y = hex("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
        m.insert(Value::Integer(-2), Value::Bytes(x));
        m.insert(Value::Integer(-3), Value::Bytes(y));
        let bytes = serde_cbor_2::to_vec(&Value::Map(m)).unwrap_or_default();
        let key = decode(&bytes);
        assert!(key.is_some());
        let again = key.as_ref().and_then(encode);
        assert_eq!(again.as_deref(), Some(bytes.as_slice()));
        assert!(decode(b"not cbor").is_none());
        // an Ed25519 key parses, but cannot be verified: refused
        let mut okp = BTreeMap::new();
        okp.insert(Value::Integer(1), Value::Integer(1));
        okp.insert(Value::Integer(3), Value::Integer(-8));
        okp.insert(Value::Integer(-1), Value::Integer(6));
        okp.insert(Value::Integer(-2), Value::Bytes(vec![9; 32]));
        let okp = serde_cbor_2::to_vec(&Value::Map(okp)).unwrap_or_default();
        assert!(decode(&okp).is_none());
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
            .collect()
    }
}
