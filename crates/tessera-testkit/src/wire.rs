//! What goes over the wire, read the way a client would: headers, `Set-Cookie` lines, the
//! `{code, message}` error envelope, ids and timestamps; and cookie signatures and token
//! digests computed independently of the server's code.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Response, StatusCode};
use serde_json::Value;

// -------------------------------------------------------------------- headers and cookies

/// One header as a string.
pub fn header(res: &Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII header").to_owned())
}

/// Every value of a header, comma-separated lists split, trimmed and lower-cased.
pub fn header_list(res: &Response, name: &str) -> Vec<String> {
    res.headers()
        .get_all(name)
        .iter()
        .flat_map(|v| v.to_str().expect("ASCII header").split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect()
}

/// Every `Set-Cookie` line.
pub fn set_cookies(res: &Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ASCII cookie").to_owned())
        .collect()
}

/// `name=value` of a `Set-Cookie` line.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

/// `base64(HMAC-SHA256(secret, value))`, standard alphabet, padded (better-call's signature).
pub fn cookie_signature(secret: &str, value: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    STANDARD.encode(hmac::sign(&key, value.as_bytes()).as_ref())
}

/// JavaScript's `encodeURIComponent` for the characters a signed cookie can hold.
pub fn encode_uri_component(s: &str) -> String {
    s.replace('%', "%25")
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

/// SHA-256 hex, the form the server stores session tokens in.
pub fn sha256_hex(s: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// -------------------------------------------------------------------- bodies

/// Asserts `{message, code}` with this status and code; returns the message.
pub async fn assert_error(res: Response, status: StatusCode, code: &str) -> String {
    let got = res.status();
    let ct = header(&res, "content-type").unwrap_or_default();
    let text = res.text().await.expect("error body");
    assert_eq!(got, status, "status (body {text})");
    assert!(ct.starts_with("application/json"), "content type {ct:?}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let obj = body.as_object().expect("an object");
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "message"], "envelope of {text}");
    assert_eq!(body["code"], code, "code in {text}");
    let message = body["message"].as_str().expect("message string");
    assert!(!message.is_empty());
    message.to_owned()
}

/// Asserts the exact envelope.
pub async fn assert_error_exact(res: Response, status: StatusCode, code: &str, message: &str) {
    let got = assert_error(res, status, code).await;
    assert_eq!(got, message);
}

/// Sorted keys of a JSON object.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort_unstable();
    k
}

/// Sorts a list of names, for comparisons with [`keys`].
pub fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    v.sort_unstable();
    v
}

// -------------------------------------------------------------------- ids and time

/// 32 characters of `[A-Za-z0-9]`.
pub fn assert_id(s: &str) {
    assert_eq!(s.len(), 32, "{s:?} is 32 characters");
    assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()), "{s:?}");
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn assert_iso_millis(s: &str) {
    let b = s.as_bytes();
    let shape = b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    assert!(shape, "{s:?} is ISO-8601 with milliseconds and Z");
}

/// Unix milliseconds as ISO-8601 with milliseconds and `Z` (written independently of the
/// server's formatter: days-from-civil inverted, after H. Hinnant).
pub fn iso(ms: i64) -> String {
    let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
    let (min, rest) = (rest / 60_000, rest % 60_000);
    let (sec, milli) = (rest / 1000, rest % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{sec:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_matches_the_reference_capture() {
        // the instant of the protocol reference's capture (§2.1)
        assert_eq!(iso(1_795_487_939_158), "2026-11-24T02:38:59.158Z");
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
