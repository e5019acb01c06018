//! The session cookies, byte-compatible with Better Auth: `better-auth.session_token`
//! (signed token), `better-auth.dont_remember` (signed `true` for `rememberMe: false`), the
//! `__Secure-` prefix and `Secure` under an https base URL, `HttpOnly; SameSite=Lax; Path=/`.

use http::{HeaderMap, HeaderValue, header};
use tessera_core::cookie::{CookieSigner, decode_uri_component, encode_uri_component};

const SESSION: &str = "better-auth.session_token";
const DONT_REMEMBER: &str = "better-auth.dont_remember";
const SESSION_DATA: &str = "better-auth.session_data";
/// Binds an identity-provider flow to the browser that started it (Better Auth's name).
const STATE: &str = "better-auth.state";
/// The pending second-factor challenge (Better Auth's name).
const TWO_FACTOR: &str = "better-auth.two_factor";
/// A browser the user trusts for a while (Better Auth's name).
const TRUST_DEVICE: &str = "better-auth.trust_device";
/// A passkey ceremony in flight (Better Auth's passkey plugin's name).
const PASSKEY: &str = "better-auth.better-auth-passkey";

/// Cookie names and attributes for this deployment.
#[derive(Debug, Clone, Copy)]
pub struct CookieJar {
    secure: bool,
}

impl CookieJar {
    /// `secure`: the base URL is https.
    pub fn new(secure: bool) -> Self {
        Self { secure }
    }

    fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Secure-{base}")
        } else {
            base.to_owned()
        }
    }

    fn attrs(&self) -> &'static str {
        if self.secure {
            "Path=/; HttpOnly; Secure; SameSite=Lax"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// `Set-Cookie` for the session; `max_age` is omitted for browser-session cookies.
    pub fn session(&self, signer: &CookieSigner, token: &str, max_age: Option<u64>) -> HeaderValue {
        let value = encode_uri_component(&signer.sign(token));
        let s = match max_age {
            Some(age) => format!(
                "{}={value}; Max-Age={age}; {}",
                self.name(SESSION),
                self.attrs()
            ),
            None => format!("{}={value}; {}", self.name(SESSION), self.attrs()),
        };
        HeaderValue::try_from(s).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// `Set-Cookie` marking a `rememberMe: false` session.
    pub fn dont_remember(&self, signer: &CookieSigner) -> HeaderValue {
        let value = encode_uri_component(&signer.sign("true"));
        HeaderValue::try_from(format!(
            "{}={value}; {}",
            self.name(DONT_REMEMBER),
            self.attrs()
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The three expiring `Set-Cookie`s sent on sign-out or when a session is gone.
    pub fn clear_all(&self) -> [HeaderValue; 3] {
        [SESSION, SESSION_DATA, DONT_REMEMBER].map(|base| {
            HeaderValue::try_from(format!("{}=; Max-Age=0; {}", self.name(base), self.attrs()))
                .unwrap_or_else(|_| HeaderValue::from_static(""))
        })
    }

    /// `Set-Cookie` for a signed value under `base`, or one that expires it (`None`).
    fn signed(
        &self,
        signer: &CookieSigner,
        base: &str,
        value: Option<&str>,
        max_age: u64,
    ) -> HeaderValue {
        let s = match value {
            Some(v) => format!(
                "{}={}; Max-Age={max_age}; {}",
                self.name(base),
                encode_uri_component(&signer.sign(v)),
                self.attrs()
            ),
            None => format!("{}=; Max-Age=0; {}", self.name(base), self.attrs()),
        };
        HeaderValue::try_from(s).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    fn read_signed(
        &self,
        signer: &CookieSigner,
        base: &str,
        headers: &HeaderMap,
    ) -> Option<String> {
        let raw = cookie_value(headers, &self.name(base))?;
        let decoded = decode_uri_component(&raw)?;
        signer.verify(&decoded).map(str::to_owned)
    }

    /// `Set-Cookie` holding the signed `state` of an identity-provider flow. `SameSite=Lax`
    /// is what lets the provider's top-level redirect back carry it.
    pub fn state(&self, signer: &CookieSigner, state: &str, max_age: u64) -> HeaderValue {
        self.signed(signer, STATE, Some(state), max_age)
    }

    /// `Set-Cookie` removing the state cookie.
    pub fn clear_state(&self) -> HeaderValue {
        HeaderValue::try_from(format!(
            "{}=; Max-Age=0; {}",
            self.name(STATE),
            self.attrs()
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The verified `state` from the request's state cookie, if any.
    pub fn read_state(&self, signer: &CookieSigner, headers: &HeaderMap) -> Option<String> {
        self.read_signed(signer, STATE, headers)
    }

    /// `Set-Cookie` for a second-factor challenge (`None`: expire it).
    pub fn two_factor(
        &self,
        signer: &CookieSigner,
        value: Option<&str>,
        max_age: u64,
    ) -> HeaderValue {
        self.signed(signer, TWO_FACTOR, value, max_age)
    }

    /// The verified challenge value from the request's cookies, if any.
    pub fn read_two_factor(&self, signer: &CookieSigner, headers: &HeaderMap) -> Option<String> {
        self.read_signed(signer, TWO_FACTOR, headers)
    }

    /// `Set-Cookie` for a trusted device (`None`: expire it).
    pub fn trust_device(
        &self,
        signer: &CookieSigner,
        value: Option<&str>,
        max_age: u64,
    ) -> HeaderValue {
        self.signed(signer, TRUST_DEVICE, value, max_age)
    }

    /// The verified trusted-device value from the request's cookies, if any.
    pub fn read_trust_device(&self, signer: &CookieSigner, headers: &HeaderMap) -> Option<String> {
        self.read_signed(signer, TRUST_DEVICE, headers)
    }

    /// `Set-Cookie` for a passkey ceremony in flight (`None`: expire it).
    pub fn passkey(&self, signer: &CookieSigner, value: Option<&str>, max_age: u64) -> HeaderValue {
        self.signed(signer, PASSKEY, value, max_age)
    }

    /// The verified passkey-ceremony value from the request's cookies, if any.
    pub fn read_passkey(&self, signer: &CookieSigner, headers: &HeaderMap) -> Option<String> {
        self.read_signed(signer, PASSKEY, headers)
    }

    /// The verified session token from the request's cookies, if any.
    pub fn read_session(&self, signer: &CookieSigner, headers: &HeaderMap) -> Option<String> {
        let raw = cookie_value(headers, &self.name(SESSION))?;
        let decoded = decode_uri_component(&raw)?;
        signer.verify(&decoded).map(str::to_owned)
    }

    /// Whether the request carries a valid `dont_remember` cookie.
    pub fn has_dont_remember(&self, signer: &CookieSigner, headers: &HeaderMap) -> bool {
        cookie_value(headers, &self.name(DONT_REMEMBER))
            .and_then(|raw| decode_uri_component(&raw))
            .is_some_and(|v| signer.verify(&v) == Some("true"))
    }
}

/// First value of a cookie by exact name, across all `Cookie` headers; surrounding quotes
/// stripped (better-call's parser).
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    for h in headers.get_all(header::COOKIE) {
        let Ok(s) = h.to_str() else { continue };
        for pair in s.split(';') {
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            if k.trim() == name {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|x| x.strip_suffix('"'))
                    .unwrap_or(v);
                return Some(v.to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret-0123456789abcdef0123456789abcdef";

    #[test]
    fn session_cookie_matches_better_auth_bytes() {
        let jar = CookieJar::new(false);
        let v = jar.session(
            &CookieSigner::new(SECRET),
            "DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU",
            Some(604_800),
        );
        assert_eq!(
            v.to_str().unwrap_or_default(),
            "better-auth.session_token=DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU.wme6XmBw6G6UqOhO%2FmODvysHatLwZjStcc2YlAyVH50%3D; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn https_deployments_use_the_secure_prefix() {
        let jar = CookieJar::new(true);
        let v = jar.session(
            &CookieSigner::new(SECRET),
            "DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU",
            Some(1),
        );
        let s = v.to_str().unwrap_or_default();
        assert!(s.starts_with("__Secure-better-auth.session_token="), "{s}");
        assert!(s.ends_with("; Secure; SameSite=Lax"), "{s}");
    }

    #[test]
    fn reads_back_what_it_writes_and_ignores_unprefixed_under_https() {
        let signer = CookieSigner::new(SECRET);
        let plain = CookieJar::new(false);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("x=1; better-auth.session_token=DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU.wme6XmBw6G6UqOhO%2FmODvysHatLwZjStcc2YlAyVH50%3D"),
        );
        assert_eq!(
            plain.read_session(&signer, &h).as_deref(),
            Some("DGRO8Or1xyqCvq3y7OvPTVuyLXBQGVvU")
        );
        assert_eq!(CookieJar::new(true).read_session(&signer, &h), None);
    }
}
