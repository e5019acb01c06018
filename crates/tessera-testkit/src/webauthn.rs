//! A software passkey authenticator and WebAuthn client, written from the W3C WebAuthn
//! Level 3 specification (§6.1 authenticator data, §6.5 attestation "none", §5.8.1 client
//! data) and independent of the server's verifier: it reads the options JSON the server
//! sends and answers with the `RegistrationResponseJSON` / `AuthenticationResponseJSON` a
//! browser would, signing with ES256 (P-256, aws-lc-rs). Every field an attacker controls is
//! a public knob, so the tests can present the wrong origin, rp id, ceremony type, counter
//! or flags.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// One credential held by the software authenticator.
#[derive(Debug)]
pub struct SoftPasskey {
    key: EcdsaKeyPair,
    /// The credential id (16 random bytes).
    pub credential_id: Vec<u8>,
    /// The user handle the relying party gave at registration.
    pub user_handle: Vec<u8>,
    /// The relying-party id the credential is scoped to (from the creation options).
    pub rp_id: String,
    /// The signature counter; each assertion adds `counter_step` first.
    pub counter: u32,
    /// How much each assertion raises the counter (0: an authenticator without a counter,
    /// as synced passkeys are).
    pub counter_step: u32,
    /// Backup eligible and backed up (a synced passkey) rather than device-bound.
    pub synced: bool,
}

/// What the client and authenticator put in a ceremony's response; the defaults are an
/// honest browser on `origin` with user verification.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// `clientDataJSON.origin`.
    pub origin: String,
    /// The UV flag (the user gave a PIN or a biometric).
    pub user_verified: bool,
    /// Hash this rp id into the authenticator data instead of the credential's (or the
    /// options') own.
    pub rp_id: Option<String>,
    /// `clientDataJSON.type` instead of `webauthn.create` / `webauthn.get`.
    pub client_type: Option<String>,
    /// Use this challenge instead of the options' (base64url).
    pub challenge: Option<String>,
}

impl Ceremony {
    /// An honest ceremony on `origin`, with user verification.
    pub fn on(origin: &str) -> Self {
        Self {
            origin: origin.to_owned(),
            user_verified: true,
            rp_id: None,
            client_type: None,
            challenge: None,
        }
    }

    /// The same without user verification (user presence only).
    pub fn without_uv(mut self) -> Self {
        self.user_verified = false;
        self
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .unwrap_or_else(|_| panic!("system randomness"));
    out
}

// ------------------------------------------------------------------------ CBOR (RFC 8949)

fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend([m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend((n as u32).to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        cbor_head(out, 0, i as u64);
    } else {
        cbor_head(out, 1, (-1 - i) as u64);
    }
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

impl SoftPasskey {
    /// The COSE_Key (RFC 9053 §7.1.1, EC2 P-256, ES256) of the public key.
    pub fn cose_public_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        let mut out = Vec::new();
        cbor_head(&mut out, 5, 5);
        cbor_int(&mut out, 1);
        cbor_int(&mut out, 2);
        cbor_int(&mut out, 3);
        cbor_int(&mut out, -7);
        cbor_int(&mut out, -1);
        cbor_int(&mut out, 1);
        cbor_int(&mut out, -2);
        cbor_bytes(&mut out, x);
        cbor_int(&mut out, -3);
        cbor_bytes(&mut out, y);
        out
    }

    /// The credential id as the wire carries it (base64url).
    pub fn id(&self) -> String {
        b64(&self.credential_id)
    }

    fn flags(&self, user_verified: bool) -> u8 {
        let mut f = UP;
        if user_verified {
            f |= UV;
        }
        if self.synced {
            f |= BE | BS;
        }
        f
    }

    /// Creates a credential for `options` (the server's creation options JSON) and answers
    /// with the browser's `RegistrationResponseJSON`.
    pub fn register(options: &Value, ceremony: &Ceremony) -> (SoftPasskey, Value) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .unwrap_or_else(|_| panic!("P-256 key"));
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref())
            .unwrap_or_else(|_| panic!("P-256 key"));
        let rp_id = options["rp"]["id"].as_str().unwrap_or_default().to_owned();
        let user_handle = URL_SAFE_NO_PAD
            .decode(options["user"]["id"].as_str().unwrap_or_default())
            .unwrap_or_default();
        let passkey = SoftPasskey {
            key,
            credential_id: random::<16>().to_vec(),
            user_handle,
            rp_id,
            counter: 0,
            counter_step: 1,
            synced: false,
        };
        let response = passkey.attest(options, ceremony);
        (passkey, response)
    }

    /// Like [`SoftPasskey::register`] for a synced passkey (backup eligible and backed up,
    /// counter always 0).
    pub fn register_synced(options: &Value, ceremony: &Ceremony) -> (SoftPasskey, Value) {
        let (mut p, _) = Self::register(options, ceremony);
        p.synced = true;
        p.counter_step = 0;
        let response = p.attest(options, ceremony);
        (p, response)
    }

    /// The registration response for this (already created) credential.
    pub fn attest(&self, options: &Value, ceremony: &Ceremony) -> Value {
        let client_data = json!({
            "type": ceremony.client_type.as_deref().unwrap_or("webauthn.create"),
            "challenge": ceremony.challenge.as_deref().or(options["challenge"].as_str()),
            "origin": ceremony.origin,
            "crossOrigin": false,
        })
        .to_string();
        let rp_id = ceremony.rp_id.as_deref().unwrap_or(&self.rp_id);
        let mut auth_data = digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec();
        auth_data.push(self.flags(ceremony.user_verified) | AT);
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID: none
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(self.cose_public_key());
        let mut att = Vec::new();
        cbor_head(&mut att, 5, 3);
        cbor_text(&mut att, "fmt");
        cbor_text(&mut att, "none");
        cbor_text(&mut att, "attStmt");
        cbor_head(&mut att, 5, 0);
        cbor_text(&mut att, "authData");
        cbor_bytes(&mut att, &auth_data);
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(client_data.as_bytes()),
                "attestationObject": b64(&att),
                "transports": ["internal"],
            },
        })
    }

    /// Answers request `options` (the server's request options JSON) with the browser's
    /// `AuthenticationResponseJSON`, raising the counter by `counter_step` first.
    pub fn assert(&mut self, options: &Value, ceremony: &Ceremony) -> Value {
        self.counter += self.counter_step;
        self.assert_with_counter(options, ceremony, self.counter)
    }

    /// An assertion carrying exactly `counter` (the stored counter is left alone).
    pub fn assert_with_counter(&self, options: &Value, ceremony: &Ceremony, counter: u32) -> Value {
        let client_data = json!({
            "type": ceremony.client_type.as_deref().unwrap_or("webauthn.get"),
            "challenge": ceremony.challenge.as_deref().or(options["challenge"].as_str()),
            "origin": ceremony.origin,
            "crossOrigin": false,
        })
        .to_string();
        let rp_id = ceremony
            .rp_id
            .as_deref()
            .or(options["rpId"].as_str())
            .unwrap_or(&self.rp_id);
        let mut auth_data = digest(&SHA256, rp_id.as_bytes()).as_ref().to_vec();
        auth_data.push(self.flags(ceremony.user_verified));
        auth_data.extend(counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(digest(&SHA256, client_data.as_bytes()).as_ref());
        let signature = self
            .key
            .sign(&SystemRandom::new(), &signed)
            .unwrap_or_else(|_| panic!("ES256 signature"));
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {
                "clientDataJSON": b64(client_data.as_bytes()),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.as_ref()),
                "userHandle": b64(&self.user_handle),
            },
        })
    }
}
