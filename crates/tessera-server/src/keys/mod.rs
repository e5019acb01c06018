//! JWT signing keys: creation on first start, encryption at rest, rotation, the published
//! JWKS, and minting access tokens.
//!
//! Life of a key: generation N is created (by the first instance to start, or by
//! `tessera keys rotate`) and signs every new token. When generation N+1 appears, N is
//! marked retired; it stays in the JWKS until every token it signed has expired (the
//! access-token TTL plus a minute of leeway), then it is no longer published.
//! With HS256 nothing is stored or published: the shared secret is the key.

pub(crate) mod crypt;
mod jwt;

pub use jwt::{AccessClaims, SignError};

use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};
use aws_lc_rs::{hmac, rsa};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use secrecy::ExposeSecret;
use serde_json::json;
use tessera_core::Clock;
use tessera_core::id::new_id;
use tessera_store::{Session, SigningKeyRow, Store, StoreError, User};

use crate::settings::{JwtAlg, Settings};

/// Grace after a key's last possible token expiry before it leaves the JWKS (covers the
/// verifiers' clock leeway).
const PUBLISH_GRACE: Duration = Duration::from_secs(60);

/// Which key signs and which keys are published, at `now_ms`.
#[derive(Debug)]
struct Plan<'a> {
    active: &'a SigningKeyRow,
    published: Vec<&'a SigningKeyRow>,
}

/// The key lifecycle, as a pure function of the stored rows and the time:
///
/// * A new key is **published at once** but only **signs** once it is `activation_delay`
///   old, so every verifier (other instances, remote JWKS caches) can learn it first. Until
///   then the previous key keeps signing. The very first key signs immediately.
/// * A key stops signing when a newer key becomes active (`retired_at` records when the
///   newer key was created; it signs until that one activates). Its tokens can live until
///   `retired_at + activation_delay + ttl`; it stays published until then, plus a grace.
fn plan(
    rows: &[SigningKeyRow],
    alg: JwtAlg,
    now_ms: i64,
    activation_delay: Duration,
    token_life: Duration,
) -> Option<Plan<'_>> {
    let delay = i64::try_from(activation_delay.as_millis()).unwrap_or(i64::MAX);
    let life = i64::try_from(token_life.as_millis()).unwrap_or(i64::MAX);
    let of_alg: Vec<&SigningKeyRow> = rows.iter().filter(|r| r.alg == alg.as_str()).collect();
    let oldest = of_alg.iter().min_by_key(|r| r.generation)?;
    let active = of_alg
        .iter()
        .filter(|r| {
            r.generation == oldest.generation || r.created_at.saturating_add(delay) <= now_ms
        })
        .max_by_key(|r| r.generation)?;
    let published = rows
        .iter()
        .rev()
        .filter(|r| {
            r.generation >= active.generation
                || r.retired_at
                    .is_none_or(|t| t.saturating_add(delay).saturating_add(life) > now_ms)
        })
        .collect();
    Some(Plan { active, published })
}

/// Errors loading or creating keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// A stored private key could not be decrypted (wrong secret?) or parsed.
    #[error("signing key {kid} cannot be decrypted with this secret: was TESSERA_SECRET changed?")]
    Undecryptable {
        /// The key's id.
        kid: String,
    },
    /// Key generation failed in the crypto library.
    #[error("key generation failed")]
    Generate,
    /// Kept losing the race to create a key.
    #[error("could not agree on a signing key with other instances")]
    Contention,
}

/// A private key ready to sign. Lives behind an `Arc`, so variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Signer {
    Ed(Ed25519KeyPair),
    Ec(EcdsaKeyPair),
    Rsa(rsa::KeyPair),
    Hs(hmac::Key),
}

pub(crate) struct ActiveKey {
    pub(crate) kid: Option<String>,
    pub(crate) alg: JwtAlg,
    pub(crate) signer: Signer,
}

/// A snapshot of the key material: what signs now and what is published.
pub(crate) struct KeySnapshot {
    pub(crate) active: Arc<ActiveKey>,
    /// `{"keys":[…]}` as served by `/api/auth/jwks`.
    pub(crate) jwks_json: Arc<str>,
    /// Generation of the newest key seen (0 for HS256).
    pub(crate) generation: i64,
}

/// The signing keys of this instance, reloadable when another instance rotates.
pub struct KeyRing {
    alg: JwtAlg,
    kek: crypt::Kek,
    issuer: String,
    audience: String,
    ttl: Duration,
    activation_delay: Duration,
    current: RwLock<Arc<KeySnapshot>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the keys, creating the first one if the database has none for this algorithm.
    pub async fn load(
        store: &dyn Store,
        settings: &Settings,
        clock: &dyn Clock,
    ) -> Result<Self, KeyError> {
        let kek = crypt::Kek::derive(settings.tokens.secret.expose_secret());
        if settings.tokens.jwt_alg == JwtAlg::HS256 {
            let secret = settings
                .tokens
                .jwt_secret
                .as_ref()
                .map(|s| s.expose_secret().to_vec())
                .unwrap_or_default();
            let active = ActiveKey {
                kid: None,
                alg: JwtAlg::HS256,
                signer: Signer::Hs(hmac::Key::new(hmac::HMAC_SHA256, &secret)),
            };
            return Ok(Self {
                alg: JwtAlg::HS256,
                kek,
                issuer: settings.issuer(),
                audience: settings.audience(),
                ttl: settings.tokens.access_token_ttl,
                activation_delay: settings.tokens.key_activation_delay,
                current: RwLock::new(Arc::new(KeySnapshot {
                    active: Arc::new(active),
                    jwks_json: Arc::from(r#"{"keys":[]}"#),
                    generation: 0,
                })),
            });
        }
        let ring = Self {
            alg: settings.tokens.jwt_alg,
            kek,
            issuer: settings.issuer(),
            audience: settings.audience(),
            ttl: settings.tokens.access_token_ttl,
            activation_delay: settings.tokens.key_activation_delay,
            current: RwLock::new(Arc::new(KeySnapshot {
                active: Arc::new(ActiveKey {
                    kid: None,
                    alg: JwtAlg::HS256,
                    signer: Signer::Hs(hmac::Key::new(hmac::HMAC_SHA256, &[0; 32])),
                }),
                jwks_json: Arc::from(r#"{"keys":[]}"#),
                generation: 0,
            })),
        };
        for _ in 0..5 {
            let rows = store.signing_keys().await?;
            if rows.iter().any(|r| r.alg == ring.alg.as_str()) {
                ring.install(&rows, clock)?;
                return Ok(ring);
            }
            let next = rows.iter().map(|r| r.generation).max().unwrap_or(0) + 1;
            match store
                .insert_signing_key(&ring.generate_row(next, clock)?)
                .await
            {
                Ok(()) | Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(KeyError::Contention)
    }

    /// Adds a new key generation that takes over signing (`tessera keys rotate`).
    pub async fn rotate(
        store: &dyn Store,
        settings: &Settings,
        clock: &dyn Clock,
    ) -> Result<String, KeyError> {
        let ring = Self::load(store, settings, clock).await?;
        if ring.alg == JwtAlg::HS256 {
            return Err(KeyError::Generate);
        }
        let rows = store.signing_keys().await?;
        let next = rows.iter().map(|r| r.generation).max().unwrap_or(0) + 1;
        let row = ring.generate_row(next, clock)?;
        store.insert_signing_key(&row).await?;
        Ok(row.kid)
    }

    /// Re-reads keys from the database if another instance (or the CLI) rotated them.
    /// Returns true when something changed.
    pub async fn reload(&self, store: &dyn Store, clock: &dyn Clock) -> Result<bool, KeyError> {
        if self.alg == JwtAlg::HS256 {
            return Ok(false);
        }
        let rows = store.signing_keys().await?;
        let newest = rows.iter().map(|r| r.generation).max().unwrap_or(0);
        let before = self.snapshot();
        self.install(&rows, clock)?;
        let after = self.snapshot();
        Ok(newest != before.generation || after.jwks_json != before.jwks_json)
    }

    pub(crate) fn snapshot(&self) -> Arc<KeySnapshot> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The JWKS document.
    pub fn jwks_json(&self) -> Arc<str> {
        self.snapshot().jwks_json.clone()
    }

    /// The algorithm tokens are signed with.
    pub fn alg(&self) -> JwtAlg {
        self.alg
    }

    /// Signs access-token claims with the active key.
    ///
    /// # Errors
    /// The key could not sign (no token is made rather than one with an empty signature).
    pub fn sign(&self, claims: &AccessClaims<'_>) -> Result<String, SignError> {
        jwt::sign(&self.snapshot().active, claims)
    }

    /// Mints an access token for a live session at `now_ms`.
    ///
    /// # Errors
    /// As [`KeyRing::sign`].
    pub fn mint(&self, now_ms: i64, user: &User, session: &Session) -> Result<String, SignError> {
        let iat = now_ms / 1000;
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(900);
        let jti = new_id();
        self.sign(&AccessClaims {
            iss: &self.issuer,
            aud: &self.audience,
            sub: &user.id,
            iat,
            exp: iat + ttl,
            jti: &jti,
            sid: &session.id,
            email: &user.email,
            name: &user.name,
            email_verified: user.email_verified,
            amr: session.amr.split(' ').filter(|m| !m.is_empty()).collect(),
            auth_time: session.auth_time / 1000,
        })
    }

    fn install(&self, rows: &[SigningKeyRow], clock: &dyn Clock) -> Result<(), KeyError> {
        let plan = plan(
            rows,
            self.alg,
            clock.now_ms(),
            self.activation_delay,
            self.ttl + PUBLISH_GRACE,
        )
        .ok_or(KeyError::Contention)?;
        let active = self.decrypt(plan.active)?;
        let keys: Vec<serde_json::Value> = plan
            .published
            .iter()
            .filter_map(|r| serde_json::from_str(&r.public_jwk).ok())
            .collect();
        let jwks = serde_json::to_string(&json!({ "keys": keys }))
            .unwrap_or_else(|_| r#"{"keys":[]}"#.into());
        let snapshot = KeySnapshot {
            active: Arc::new(active),
            jwks_json: Arc::from(jwks),
            generation: rows.iter().map(|r| r.generation).max().unwrap_or(0),
        };
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(snapshot),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(snapshot),
        }
        Ok(())
    }

    fn decrypt(&self, row: &SigningKeyRow) -> Result<ActiveKey, KeyError> {
        let undecryptable = || KeyError::Undecryptable {
            kid: row.kid.clone(),
        };
        let der = self
            .kek
            .open(&row.kid, &row.private_key)
            .ok_or_else(undecryptable)?;
        let signer = match row.alg.as_str() {
            "EdDSA" => Signer::Ed(Ed25519KeyPair::from_pkcs8(&der).map_err(|_| undecryptable())?),
            "ES256" => Signer::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|_| undecryptable())?,
            ),
            "RS256" => Signer::Rsa(rsa::KeyPair::from_pkcs8(&der).map_err(|_| undecryptable())?),
            _ => return Err(undecryptable()),
        };
        let alg = row.alg.parse().map_err(|_| undecryptable())?;
        Ok(ActiveKey {
            kid: Some(row.kid.clone()),
            alg,
            signer,
        })
    }

    fn generate_row(&self, generation: i64, clock: &dyn Clock) -> Result<SigningKeyRow, KeyError> {
        let kid = new_id();
        let (der, public) = match self.alg {
            JwtAlg::EdDSA => {
                let kp = Ed25519KeyPair::generate().map_err(|_| KeyError::Generate)?;
                let der = kp.to_pkcs8().map_err(|_| KeyError::Generate)?;
                let x = B64.encode(kp.public_key().as_ref());
                (
                    der.as_ref().to_vec(),
                    json!({"alg":"EdDSA","crv":"Ed25519","x":x,"kty":"OKP","kid":kid}),
                )
            }
            JwtAlg::ES256 => {
                let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| KeyError::Generate)?;
                let der = kp.to_pkcs8v1().map_err(|_| KeyError::Generate)?;
                let point = kp.public_key().as_ref();
                // uncompressed SEC1 point: 0x04 || x (32) || y (32)
                if point.len() != 65 {
                    return Err(KeyError::Generate);
                }
                let (x, y) = (B64.encode(&point[1..33]), B64.encode(&point[33..65]));
                (
                    der.as_ref().to_vec(),
                    json!({"alg":"ES256","crv":"P-256","x":x,"y":y,"kty":"EC","kid":kid}),
                )
            }
            JwtAlg::RS256 => {
                use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
                let kp = rsa::KeyPair::generate(rsa::KeySize::Rsa2048)
                    .map_err(|_| KeyError::Generate)?;
                let der: Pkcs8V1Der<'_> = kp.as_der().map_err(|_| KeyError::Generate)?;
                let public = kp.public_key();
                let n = B64.encode(public.modulus().big_endian_without_leading_zero());
                let e = B64.encode(public.exponent().big_endian_without_leading_zero());
                (
                    der.as_ref().to_vec(),
                    json!({"alg":"RS256","n":n,"e":e,"kty":"RSA","kid":kid}),
                )
            }
            JwtAlg::HS256 => return Err(KeyError::Generate),
        };
        Ok(SigningKeyRow {
            private_key: self.kek.seal(&kid, &der),
            public_jwk: public.to_string(),
            kid,
            generation,
            alg: self.alg.as_str().to_owned(),
            created_at: clock.now_ms(),
            retired_at: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn row(generation: i64, created_at: i64, retired_at: Option<i64>) -> SigningKeyRow {
        SigningKeyRow {
            kid: format!("k{generation}"),
            generation,
            alg: "EdDSA".into(),
            public_jwk: "{}".into(),
            private_key: String::new(),
            created_at,
            retired_at,
        }
    }

    fn at(rows: &[SigningKeyRow], now: i64) -> (String, Vec<String>) {
        let p = plan(
            rows,
            JwtAlg::EdDSA,
            now,
            Duration::from_secs(60),
            Duration::from_secs(16 * 60),
        )
        .unwrap_or_else(|| unreachable!());
        (
            p.active.kid.clone(),
            p.published.iter().map(|r| r.kid.clone()).collect(),
        )
    }

    #[test]
    fn the_first_key_signs_at_once() {
        assert_eq!(at(&[row(1, 0, None)], 0), ("k1".into(), vec!["k1".into()]));
    }

    #[test]
    fn a_rotated_key_is_published_before_it_signs_and_the_old_one_lingers_until_its_tokens_expire()
    {
        // k2 created at minute 100; k1 marked retired then
        let rows = [row(1, 0, Some(100 * MIN)), row(2, 100 * MIN, None)];
        assert_eq!(
            at(&rows, 100 * MIN),
            ("k1".into(), vec!["k2".into(), "k1".into()]),
            "published, not yet signing"
        );
        assert_eq!(
            at(&rows, 101 * MIN - 1),
            ("k1".into(), vec!["k2".into(), "k1".into()])
        );
        assert_eq!(
            at(&rows, 101 * MIN),
            ("k2".into(), vec!["k2".into(), "k1".into()]),
            "activation after 60 s"
        );
        // k1 signed until minute 101; its last tokens expire at 101 + 15 (+ 1 grace)
        assert_eq!(
            at(&rows, 117 * MIN - 1).1,
            vec!["k2".to_string(), "k1".into()]
        );
        assert_eq!(
            at(&rows, 117 * MIN).1,
            vec!["k2".to_string()],
            "then it leaves the JWKS"
        );
    }

    #[test]
    fn other_algorithms_never_sign() {
        let mut rs = row(1, 0, Some(10));
        rs.alg = "RS256".into();
        let rows = [rs, row(2, 10, None)];
        assert_eq!(at(&rows, 10).0, "k2");
    }
}
