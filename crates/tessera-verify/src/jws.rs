//! Compact JWS parsing (RFC 7515 §7.1), strict JSON, and the protected header rules.
//!
//! Nothing here trusts the token: it only splits, decodes and refuses. The signature is
//! checked by the caller with the key the *configuration* binds to the header's `kid`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::VerifyError;
use crate::keys::Algorithm;

/// Longest token accepted, checked before any other work. Real access tokens are well under
/// 2 KiB; Better Auth's default (the whole user object) is about 600 bytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The three parts of a compact JWS, still encoded.
#[derive(Debug)]
pub(crate) struct Compact<'a> {
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes the signature covers.
    pub(crate) signing_input: &'a [u8],
    pub(crate) header: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) signature: &'a str,
}

/// Splits a compact JWS into exactly three parts. Only the base64url alphabet and `.` are
/// accepted anywhere (no padding, no `+`/`/`, no whitespace, no braces: JSON serialization
/// and anything else that is not compact is refused here).
pub(crate) fn split(token: &str) -> Result<Compact<'_>, VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::Malformed("token too long"));
    }
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(VerifyError::Malformed("character outside base64url"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::Malformed("not three dot-separated parts"));
    };
    if header.is_empty() || payload.is_empty() {
        return Err(VerifyError::Malformed("empty header or payload"));
    }
    Ok(Compact {
        signing_input: &token.as_bytes()[..header.len() + 1 + payload.len()],
        header,
        payload,
        signature,
    })
}

/// Strict base64url without padding; non-canonical trailing bits are refused too.
pub(crate) fn decode_part(part: &str, what: &'static str) -> Result<Vec<u8>, VerifyError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| VerifyError::Malformed(what))
}

/// What the verifier needs from the protected header.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

/// Header members that would make us fetch or trust key material named by the token
/// (RFC 8725 §3.10): refused outright rather than ignored, so a token that relies on them
/// fails loudly.
const REFUSED_HEADER_MEMBERS: [&str; 4] = ["jwk", "jku", "x5u", "x5c"];

/// Parses and vets the protected header. `alg` must be, byte for byte, one of the supported
/// names; `crit` is refused in every form (we implement no extension, RFC 7515 §4.1.11);
/// `enc`/`zip` mark a JWE and are refused; `typ`, when present, must name an access token.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<Header, VerifyError> {
    let map =
        parse_object(bytes).map_err(|()| VerifyError::Malformed("header is not a JSON object"))?;
    if REFUSED_HEADER_MEMBERS.iter().any(|m| map.contains_key(*m)) {
        return Err(VerifyError::Malformed("header names key material"));
    }
    if map.contains_key("crit") {
        return Err(VerifyError::Malformed(
            "unsupported critical header extension",
        ));
    }
    if map.contains_key("enc") || map.contains_key("zip") {
        return Err(VerifyError::Malformed("JWE header"));
    }
    let alg = match map.get("alg") {
        None => return Err(VerifyError::Malformed("header has no alg")),
        Some(Value::String(name)) => {
            Algorithm::from_name(name).ok_or(VerifyError::AlgorithmNotAllowed)?
        }
        Some(_) => return Err(VerifyError::AlgorithmNotAllowed),
    };
    let kid = match map.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(VerifyError::Malformed("kid is not a string")),
    };
    match map.get("typ") {
        None => {}
        Some(Value::String(typ)) if is_access_token_typ(typ) => {}
        Some(_) => return Err(VerifyError::WrongType),
    }
    Ok(Header { alg, kid })
}

/// `typ` values accepted for an access token (media types compare case-insensitively,
/// RFC 7515 §4.1.9): absent (Better Auth sends none), `JWT`, and RFC 9068's `at+jwt`.
/// Anything else (`refresh+jwt`, `JWE`, ...) names another kind of token and is refused.
fn is_access_token_typ(typ: &str) -> bool {
    ["JWT", "at+jwt", "application/at+jwt"]
        .iter()
        .any(|t| typ.eq_ignore_ascii_case(t))
}

/// Parses a UTF-8 JSON object, refusing duplicate member names at every depth (RFC 7515 §4,
/// RFC 7519 §4). `serde_json::Map` alone would keep the last duplicate silently, and
/// `#[serde(flatten)]` structs do not see duplicates that land in the flattened map.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ()> {
    let text = std::str::from_utf8(bytes).map_err(|_| ())?;
    let mut de = serde_json::Deserializer::from_str(text);
    let StrictValue(value) = StrictValue::deserialize(&mut de).map_err(|_| ())?;
    de.end().map_err(|_| ())?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(()),
    }
}

/// A `serde_json::Value` whose objects refuse duplicate member names.
struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value without duplicate object members")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(d).map(|v| v.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let StrictValue(value) = access.next_value()?;
            if map.contains_key(&key) {
                return Err(de::Error::custom("duplicate object member"));
            }
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn duplicates_are_refused_at_every_depth() {
        assert!(parse_object(br#"{"a":1,"a":2}"#).is_err());
        assert!(parse_object(br#"{"a":{"b":1,"b":1}}"#).is_err());
        assert!(parse_object(br#"{"a":[{"b":1,"b":1}]}"#).is_err());
        assert!(parse_object(br#"{"a":{"b":1},"b":1}"#).is_ok());
    }

    #[test]
    fn only_objects_and_only_utf8() {
        assert!(parse_object(b"[1]").is_err());
        assert!(parse_object(b"\"x\"").is_err());
        assert!(parse_object(b"{\"a\":\"\xff\"}").is_err());
        assert!(parse_object("\u{feff}{}".as_bytes()).is_err());
        assert!(parse_object(b"{} {}").is_err());
        assert_eq!(parse_object(b" {\"a\":null} ").unwrap().len(), 1);
    }

    #[test]
    fn split_wants_exactly_three_base64url_parts() {
        assert!(split("a.b.c").is_ok());
        assert!(split("a.b.").is_ok());
        for bad in [
            "", "abc", "a.b", "a.b.c.d", "..", ".b.c", "a..c", "a.b.c=", "a+.b.c", "a/.b.c",
            "a .b.c",
        ] {
            assert!(split(bad).is_err(), "{bad:?}");
        }
    }
}
