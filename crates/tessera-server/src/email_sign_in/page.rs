//! The page a magic link opens: it shows who is about to sign in and a button that POSTs the
//! token back. Rendered here (no script), so that it works in any browser and a link
//! scanner that fetches it uses nothing up. Every value is escaped; the page loads only the
//! UI's stylesheet and says `Referrer-Policy: no-referrer` and `Cache-Control: no-store`
//! (the token is in its URL and its form).

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};

use super::Callbacks;
use crate::http::AUTH_PREFIX;

/// `Cache-Control: no-store` (and the referrer policy) for answers that carry the token.
pub(super) fn no_store() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn hidden(name: &str, value: Option<&str>) -> String {
    value.map_or_else(String::new, |v| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape(v)
        )
    })
}

/// The confirmation page for a live token; `new_account` when using it creates the account.
pub(super) fn confirm(
    app: &str,
    email: &str,
    token: &str,
    new_account: bool,
    callbacks: &Callbacks,
    trusted_origins: &[String],
) -> Response {
    let app = escape(app);
    let (title, opened, button) = if new_account {
        (
            format!("Create your {app} account"),
            "You opened a link to create an account for",
            "Create account",
        )
    } else {
        (
            format!("Sign in to {app}"),
            "You opened a sign-in link for",
            "Sign in",
        )
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"color-scheme\" content=\"light dark\"><meta name=\"referrer\" content=\"no-referrer\">\
<title>{title}</title><link rel=\"stylesheet\" href=\"{css}\"></head>\
<body><main id=\"main\" class=\"main\"><section class=\"auth\"><div class=\"card auth-card\">\
<div class=\"auth-head\"><h1 class=\"page-title\">{title}</h1>\
<p class=\"muted\">{opened} <strong>{email}</strong>.</p></div>\
<form method=\"post\" action=\"{AUTH_PREFIX}/magic-link/verify\" class=\"form\">\
{token}{callback}{new_user}{error}\
<button type=\"submit\" class=\"btn btn-primary btn-block\">{button}</button></form>\
<p class=\"hint\">The link works once. If you did not ask for it, close this page: nothing \
happens until the button is pressed.</p></div></section></main></body></html>",
        css = crate::ui::asset_url("styles.css"),
        email = escape(email),
        token = hidden("token", Some(token)),
        callback = hidden("callbackURL", callbacks.success.as_deref()),
        new_user = hidden("newUserCallbackURL", callbacks.new_user.as_deref()),
        error = hidden("errorCallbackURL", callbacks.error.as_deref()),
    );
    let mut h = no_store();
    // The form posts here; its answer may redirect to any trusted origin (browsers apply
    // form-action to the redirect too).
    let mut form_action = String::from("'self'");
    for o in trusted_origins {
        if o.chars().all(|c| c.is_ascii_graphic()) && !o.contains(';') && !o.contains(',') {
            form_action.push(' ');
            form_action.push_str(o);
        }
    }
    if let Ok(v) = HeaderValue::try_from(format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action {form_action}; \
         base-uri 'none'; frame-ancestors 'none'"
    )) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    (h, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn values_are_escaped() {
        assert_eq!(
            escape("\"><script>x</script>&'"),
            "&quot;&gt;&lt;script&gt;x&lt;/script&gt;&amp;&#39;"
        );
    }
}
