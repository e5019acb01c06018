//! Algorithms, JWK documents, and the prepared keys signatures are checked with.
//!
//! A key is prepared once, when it is loaded ([`KeySet::from_jwks`], [`VerifyingKey::hs256`]):
//! the public key is parsed into an `aws_lc_rs` `ParsedPublicKey` (or an HMAC key is built),
//! and its algorithm is fixed then. Verifying a token never parses key material.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// A JWS algorithm this crate verifies. Each key is bound to exactly one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA256 with a shared secret of at least 32 bytes.
    Hs256,
    /// Ed25519 (`"alg":"EdDSA"`, JWK `kty: OKP`, `crv: Ed25519`). Better Auth's default.
    EdDsa,
    /// ECDSA P-256 with SHA-256 (JWK `kty: EC`, `crv: P-256`).
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, modulus 2048 to 8192 bits.
    Rs256,
}

impl Algorithm {
    /// The JWS `alg` name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// Exact, case-sensitive match of a JWS `alg` name (RFC 8725bis: never compare
    /// case-insensitively, never trim). `none` in any spelling is not an algorithm here.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "HS256" => Some(Self::Hs256),
            "EdDSA" => Some(Self::EdDsa),
            "ES256" => Some(Self::Es256),
            "RS256" => Some(Self::Rs256),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One JSON Web Key (RFC 7517) as published in a JWKS. Only public members are modelled;
/// anything else in the document is ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `OKP`, `EC`, `RSA` (`oct` keys are never used from a key set).
    pub kty: String,
    /// Key id; a key without one cannot be selected and is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The one algorithm this key is used with. Required for RSA keys; inferred for
    /// `OKP`/`Ed25519` (EdDSA) and `EC`/`P-256` (ES256) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use; a key whose `use` is present and not `sig` is skipped.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Permitted operations; when present it must include `verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// Curve (`Ed25519`, `P-256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// OKP public key, or EC x coordinate (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// RSA modulus (base64url, big-endian).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent (base64url, big-endian).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

impl Jwk {
    /// An Ed25519 public key (`kty: OKP`, `alg: EdDSA`) from its 32 raw bytes.
    #[must_use]
    pub fn ed25519(kid: impl Into<String>, public_key: &[u8]) -> Self {
        Self {
            kty: "OKP".into(),
            kid: Some(kid.into()),
            alg: Some("EdDSA".into()),
            crv: Some("Ed25519".into()),
            x: Some(URL_SAFE_NO_PAD.encode(public_key)),
            ..Self::default()
        }
    }

    /// A P-256 public key (`kty: EC`, `alg: ES256`) from its 65-byte uncompressed SEC1
    /// encoding (`0x04 || x || y`), as `aws_lc_rs` `EcdsaKeyPair::public_key()` gives it.
    /// A point of any other shape yields a JWK that will be skipped when loaded.
    #[must_use]
    pub fn es256(kid: impl Into<String>, uncompressed_point: &[u8]) -> Self {
        let (x, y) = match uncompressed_point {
            [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
            _ => (&[][..], &[][..]),
        };
        Self {
            kty: "EC".into(),
            kid: Some(kid.into()),
            alg: Some("ES256".into()),
            crv: Some("P-256".into()),
            x: Some(URL_SAFE_NO_PAD.encode(x)),
            y: Some(URL_SAFE_NO_PAD.encode(y)),
            ..Self::default()
        }
    }

    /// An RSA public key (`kty: RSA`, `alg: RS256`) from its big-endian modulus and exponent.
    #[must_use]
    pub fn rs256(kid: impl Into<String>, modulus: &[u8], exponent: &[u8]) -> Self {
        Self {
            kty: "RSA".into(),
            kid: Some(kid.into()),
            alg: Some("RS256".into()),
            n: Some(URL_SAFE_NO_PAD.encode(modulus)),
            e: Some(URL_SAFE_NO_PAD.encode(exponent)),
            ..Self::default()
        }
    }
}

/// A JWKS document: `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JwkSet {
    /// The keys, in document order.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// Parses a JWKS document. Entries that are not well-formed JWK objects are skipped (and
    /// logged at debug level) rather than failing the whole set; a document that is not an
    /// object with a `keys` array is an error.
    ///
    /// # Errors
    /// [`ConfigError::InvalidJwks`] when the document itself is not a JWKS.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        #[derive(Deserialize)]
        struct Doc {
            keys: Vec<serde_json::Value>,
        }
        let doc: Doc =
            serde_json::from_str(json).map_err(|e| ConfigError::InvalidJwks(e.to_string()))?;
        let mut keys = Vec::with_capacity(doc.keys.len());
        for (index, value) in doc.keys.into_iter().enumerate() {
            match serde_json::from_value::<Jwk>(value) {
                Ok(jwk) => keys.push(jwk),
                Err(error) => {
                    tracing::debug!(index, %error, "skipping JWKS entry that is not a JWK");
                }
            }
        }
        Ok(Self { keys })
    }
}

/// A key ready to verify signatures with exactly one algorithm.
pub(crate) struct VerifyingKey {
    alg: Algorithm,
    material: KeyMaterial,
}

enum KeyMaterial {
    // Boxed: the HMAC context is much larger than a parsed public key.
    Hmac(Box<hmac::Key>),
    Public(ParsedPublicKey),
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material (an HMAC key is a secret).
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Minimum HS256 secret length: the hash output size (RFC 7518 §3.2, RFC 8725 §3.5).
pub(crate) const MIN_HS256_SECRET: usize = 32;

impl VerifyingKey {
    pub(crate) fn hs256(secret: &[u8]) -> Result<Self, ConfigError> {
        if secret.len() < MIN_HS256_SECRET {
            return Err(ConfigError::WeakSecret(secret.len()));
        }
        Ok(Self {
            alg: Algorithm::Hs256,
            material: KeyMaterial::Hmac(Box::new(hmac::Key::new(hmac::HMAC_SHA256, secret))),
        })
    }

    pub(crate) fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Checks `signature` over `message`. HMAC comparison is constant-time (`hmac::verify`).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            KeyMaterial::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            KeyMaterial::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }

    /// Prepares a JWK, or says why it cannot be used.
    fn from_jwk(jwk: &Jwk) -> Result<Self, &'static str> {
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err("`use` is not `sig`");
        }
        if jwk
            .key_ops
            .as_ref()
            .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
        {
            return Err("`key_ops` lacks `verify`");
        }
        let alg = match (jwk.kty.as_str(), jwk.alg.as_deref(), jwk.crv.as_deref()) {
            // A symmetric key is never taken from a key set (it would let anyone who can
            // read the published set mint tokens).
            ("oct", _, _) => return Err("symmetric (`oct`) keys are never used from a key set"),
            ("OKP", Some("EdDSA") | None, Some("Ed25519")) => Algorithm::EdDsa,
            ("EC", Some("ES256") | None, Some("P-256")) => Algorithm::Es256,
            ("RSA", Some("RS256"), _) => Algorithm::Rs256,
            ("RSA", None, _) => return Err("RSA key without `alg` (ambiguous: RS256 or PS256)"),
            _ => return Err("unsupported kty/crv/alg combination"),
        };
        let public = match alg {
            Algorithm::EdDsa => {
                let x = member(jwk.x.as_deref())?;
                if x.len() != 32 {
                    return Err("Ed25519 `x` is not 32 bytes");
                }
                ParsedPublicKey::new(&signature::ED25519, x)
            }
            Algorithm::Es256 => {
                let x = member(jwk.x.as_deref())?;
                let y = member(jwk.y.as_deref())?;
                if x.len() != 32 || y.len() != 32 {
                    return Err("P-256 coordinates are not 32 bytes");
                }
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
            }
            Algorithm::Rs256 => {
                let n = member(jwk.n.as_deref())?;
                let e = member(jwk.e.as_deref())?;
                let n = strip_leading_zeros(&n);
                let e = strip_leading_zeros(&e);
                if n.len() < 256 {
                    return Err("RSA modulus shorter than 2048 bits");
                }
                if n.len() > 1024 {
                    return Err("RSA modulus longer than 8192 bits");
                }
                RsaPublicKeyComponents { n, e }
                    .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
            }
            Algorithm::Hs256 => return Err("unsupported kty/crv/alg combination"),
        }
        .map_err(|_| "public key rejected by the crypto library")?;
        Ok(Self {
            alg,
            material: KeyMaterial::Public(public),
        })
    }
}

fn member(value: Option<&str>) -> Result<Vec<u8>, &'static str> {
    let value = value.ok_or("a required key member is missing")?;
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| "a key member is not base64url")
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Every prepared key set gets a fresh generation number, so a verified-token cache can tell
/// that the keys changed under it.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

/// Prepared keys by `kid`.
#[derive(Debug)]
pub(crate) struct KeySet {
    keys: HashMap<String, VerifyingKey>,
    generation: u64,
}

impl KeySet {
    /// Prepares every usable key of `jwks`, skipping (and logging at debug level) the rest.
    /// When a `kid` appears twice, the first usable key wins.
    pub(crate) fn from_jwks(jwks: &JwkSet) -> Self {
        let mut keys = HashMap::with_capacity(jwks.keys.len());
        for jwk in &jwks.keys {
            let Some(kid) = jwk.kid.as_deref() else {
                tracing::debug!(kty = %jwk.kty, "skipping JWK without `kid`");
                continue;
            };
            match VerifyingKey::from_jwk(jwk) {
                Ok(key) => {
                    if keys.contains_key(kid) {
                        tracing::debug!(kid, "skipping JWK with a duplicate `kid`");
                    } else {
                        keys.insert(kid.to_owned(), key);
                    }
                }
                Err(reason) => tracing::debug!(kid, reason, "skipping unusable JWK"),
            }
        }
        Self {
            keys,
            generation: NEXT_GENERATION.fetch_add(1, Ordering::Relaxed),
        }
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    fn kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.keys.keys().cloned().collect();
        kids.sort();
        kids
    }
}

/// A shared, swappable key set for a verifier built with [`jwks`](crate::VerifierBuilder::jwks)
/// or [`jwks_handle`](crate::VerifierBuilder::jwks_handle).
///
/// An in-process issuer keeps a clone and calls [`replace`](Self::replace) when it rotates
/// keys; every verifier holding the handle sees the new set on its next request. Readers
/// take a cheap snapshot (`Arc` clone under a read lock that is never held across an await).
#[derive(Clone)]
pub struct KeySetHandle {
    current: Arc<RwLock<Arc<KeySet>>>,
}

impl fmt::Debug for KeySetHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySetHandle")
            .field("kids", &self.kids())
            .finish()
    }
}

impl KeySetHandle {
    /// A handle holding the usable keys of `jwks`.
    #[must_use]
    pub fn new(jwks: &JwkSet) -> Self {
        Self {
            current: Arc::new(RwLock::new(Arc::new(KeySet::from_jwks(jwks)))),
        }
    }

    /// Parses a JWKS document into a handle.
    ///
    /// # Errors
    /// [`ConfigError::InvalidJwks`] when `json` is not a JWKS document.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        Ok(Self::new(&JwkSet::from_json(json)?))
    }

    /// Swaps in a new key set (e.g. after rotation) and returns how many of its keys are
    /// usable. Tokens whose `kid` is no longer present are refused with
    /// [`VerifyError::UnknownKey`](crate::VerifyError::UnknownKey) from then on.
    pub fn replace(&self, jwks: &JwkSet) -> usize {
        let set = Arc::new(KeySet::from_jwks(jwks));
        let usable = set.len();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = set;
        usable
    }

    /// The `kid`s of the usable keys, sorted.
    #[must_use]
    pub fn kids(&self) -> Vec<String> {
        self.snapshot().kids()
    }

    pub(crate) fn snapshot(&self) -> Arc<KeySet> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }
}
