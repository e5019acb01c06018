//! Cross-site request defences for cookie-authenticated writes, following Better Auth's
//! origin check (§6.2 of the protocol reference):
//!
//! * A non-GET request that carries a `Cookie` must come from a trusted origin (`Origin`,
//!   else `Referer`): missing → 403 `MISSING_OR_NULL_ORIGIN`, untrusted → 403 `INVALID_ORIGIN`.
//! * Sign-in and sign-up without cookies are still checked when the browser says anything
//!   about the request (fetch metadata or `Origin`), and a cross-site top-level navigation
//!   is refused outright (`CROSS_SITE_NAVIGATION_LOGIN_BLOCKED`), so a hostile page cannot
//!   log a visitor into the attacker's account.
//! * Requests authenticated only by a Bearer header carry no ambient credentials and are
//!   not checked.
//! * `callbackURL` must be a relative path or on a trusted origin.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use http::request::Parts;
use http::{HeaderMap, Method, header};

use super::error::ApiError;
use super::error::ErrorCode;

/// Which origin rule applies to an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginRule {
    /// Check only when cookies are sent.
    CookieOnly,
    /// Sign-in and sign-up: also check cookie-less browser requests.
    LoginForm,
}

/// An origin rule as a type, for the [`OriginChecked`] extractor.
pub trait OriginRuleKind: Send + Sync + 'static {
    /// The rule.
    const RULE: OriginRule;
}

/// The origin rules an endpoint can name in its signature.
pub mod rules {
    use super::{OriginRule, OriginRuleKind};

    /// Checked only when cookies are sent (writes with the session cookie).
    #[derive(Debug)]
    pub struct CookieOnly;
    impl OriginRuleKind for CookieOnly {
        const RULE: OriginRule = OriginRule::CookieOnly;
    }

    /// Sign-in and sign-up: cookie-less browser requests are checked too.
    #[derive(Debug)]
    pub struct LoginForm;
    impl OriginRuleKind for LoginForm {
        const RULE: OriginRule = OriginRule::LoginForm;
    }
}

/// The origins allowed to make credentialed cross-origin calls; a state part.
#[derive(Debug, Clone, Default)]
pub struct TrustedOrigins(pub Arc<[String]>);

/// The request passed origin rule `R` before the handler ran (else 403). Naming it in a
/// handler's signature is what checks the endpoint, and what documents it as checked.
#[derive(Debug)]
pub struct OriginChecked<R>(PhantomData<R>);

impl<S, R> FromRequestParts<S> for OriginChecked<R>
where
    R: OriginRuleKind,
    TrustedOrigins: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let trusted = TrustedOrigins::from_ref(state);
        check(&parts.method, &parts.headers, &trusted.0, R::RULE)?;
        Ok(Self(PhantomData))
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn validate_origin(headers: &HeaderMap, trusted: &[String]) -> Result<(), ApiError> {
    let origin = header_str(headers, "origin");
    let claimed = match origin {
        Some("null") if header_str(headers, "sec-fetch-site") == Some("same-origin") => {
            return Ok(());
        }
        Some(o) if o != "null" => Some(o.to_owned()),
        _ => header_str(headers, "referer").and_then(origin_of),
    };
    let Some(claimed) = claimed else {
        return Err(ApiError::new(
            ErrorCode::MissingOrNullOrigin,
            "Missing or null Origin",
        ));
    };
    let normalised = origin_of(&claimed).unwrap_or_default();
    if trusted.contains(&normalised) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::InvalidOrigin, "Invalid origin"))
    }
}

/// Applies the rule to a request.
pub fn check(
    method: &Method,
    headers: &HeaderMap,
    trusted: &[String],
    rule: OriginRule,
) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if headers.contains_key(header::COOKIE) {
        return validate_origin(headers, trusted);
    }
    if rule == OriginRule::LoginForm {
        let site = header_str(headers, "sec-fetch-site");
        let mode = header_str(headers, "sec-fetch-mode");
        let has_metadata =
            site.is_some() || mode.is_some() || headers.contains_key("sec-fetch-dest");
        if site == Some("cross-site") && mode == Some("navigate") {
            return Err(ApiError::new(
                ErrorCode::CrossSiteNavigationLoginBlocked,
                "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
            ));
        }
        if has_metadata || headers.contains_key("origin") || headers.contains_key(header::REFERER) {
            return validate_origin(headers, trusted);
        }
    }
    Ok(())
}

/// `callbackURL` must be a same-site relative path or an absolute URL on a trusted origin.
///
/// A relative path is refused when it could leave the site once a browser or a frontend
/// resolves it: it must start with one `/`, and its path (before `?` or `#`) may hold no
/// empty segment (`//`), no dot segment (`.` or `..`, percent-encoded or not), no
/// backslash and no encoded slash or backslash — `/.//evil.com` and `/..//evil.com` stay
/// same-origin in a browser, but a frontend that normalises the path and redirects to it
/// would land on `//evil.com`. Control characters are refused anywhere.
pub fn check_callback_url(url: &str, trusted: &[String]) -> Result<(), ApiError> {
    let bad = || ApiError::new(ErrorCode::InvalidCallbackUrl, "Invalid callbackURL");
    if url.chars().any(char::is_control) {
        return Err(bad());
    }
    if url.starts_with('/') {
        return if safe_relative_path(url) {
            Ok(())
        } else {
            Err(bad())
        };
    }
    match origin_of(url) {
        Some(o) if trusted.contains(&o) => Ok(()),
        _ => Err(bad()),
    }
}

/// See [`check_callback_url`].
fn safe_relative_path(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let lower = path.to_ascii_lowercase();
    if lower.contains('\\') || lower.contains("%2f") || lower.contains("%5c") {
        return false;
    }
    // the first segment is the empty one before the leading '/'
    path.split('/').skip(1).enumerate().all(|(i, segment)| {
        let last = i + 1 == path.split('/').count() - 1;
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        // a trailing slash leaves one empty last segment, which is harmless
        (!segment.is_empty() || last) && decoded != "." && decoded != ".."
    })
}

/// `scheme://host[:port]` of an absolute http(s) URL, lower-cased; `None` if it is not one.
/// Default ports are dropped, as browsers do in the `Origin` header.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = match (scheme.as_str(), authority.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) => host.to_owned(),
        _ => authority,
    };
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    fn trusted() -> Vec<String> {
        vec!["http://localhost:8080".into()]
    }

    fn code(r: Result<(), ApiError>) -> &'static str {
        r.err().map_or("ok", |e| e.code())
    }

    #[test]
    fn cookie_posts_need_a_trusted_origin() {
        let post = Method::POST;
        assert_eq!(
            code(check(
                &post,
                &headers(&[("cookie", "a=b")]),
                &trusted(),
                OriginRule::CookieOnly
            )),
            "MISSING_OR_NULL_ORIGIN"
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[("cookie", "a=b"), ("origin", "https://evil.test")]),
                &trusted(),
                OriginRule::CookieOnly
            )),
            "INVALID_ORIGIN"
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[("cookie", "a=b"), ("origin", "http://localhost:8080")]),
                &trusted(),
                OriginRule::CookieOnly
            )),
            "ok"
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[
                    ("cookie", "a=b"),
                    ("referer", "http://localhost:8080/tasks")
                ]),
                &trusted(),
                OriginRule::CookieOnly
            )),
            "ok"
        );
        assert_eq!(
            code(check(
                &Method::GET,
                &headers(&[("cookie", "a=b")]),
                &trusted(),
                OriginRule::CookieOnly
            )),
            "ok"
        );
    }

    #[test]
    fn cookieless_login_forms_are_checked_when_the_browser_speaks() {
        let post = Method::POST;
        assert_eq!(
            code(check(
                &post,
                &headers(&[]),
                &trusted(),
                OriginRule::LoginForm
            )),
            "ok"
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[
                    ("sec-fetch-site", "cross-site"),
                    ("sec-fetch-mode", "navigate")
                ]),
                &trusted(),
                OriginRule::LoginForm
            )),
            "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[("sec-fetch-mode", "cors")]),
                &trusted(),
                OriginRule::LoginForm
            )),
            "MISSING_OR_NULL_ORIGIN"
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[("origin", "https://evil.test")]),
                &trusted(),
                OriginRule::LoginForm
            )),
            "INVALID_ORIGIN"
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[("origin", "https://evil.test")]),
                &trusted(),
                OriginRule::CookieOnly
            )),
            "ok"
        );
    }

    #[test]
    fn callback_urls_must_stay_home() {
        let t = trusted();
        assert!(check_callback_url("/dashboard", &t).is_ok());
        assert!(check_callback_url("http://localhost:8080/x", &t).is_ok());
        for bad in [
            "//evil.test",
            "/\\evil.test",
            "/%2F%2Fevil.test",
            "https://evil.test/",
            "javascript:alert(1)",
            "evil",
            "/.//evil.test",
            "/..//evil.test",
            "/%2e%2e//evil.test",
            "/a/../..//evil.test",
            "/a//b",
            "/a/%2e/b",
            "/a\\b",
            "/x%5cevil",
            "/ok\u{7}",
        ] {
            assert!(check_callback_url(bad, &t).is_err(), "{bad}");
        }
        for good in [
            "/",
            "/a/",
            "/a/b?next=//x&y=../z",
            "/a#//frag",
            "/a.b/c..d/.e",
        ] {
            assert!(check_callback_url(good, &t).is_ok(), "{good}");
        }
    }
}
