//! The web UI: static HTML, CSS and JavaScript modules embedded in the binary, served at `/`.
//!
//! There is no build step: the files under `crates/tessera-server/ui/` are what the browser
//! runs. The page routes ([`PAGES`]: sign-in and sign-up, the tasks, sessions and account
//! pages, `/security` (the old address of the two-step section, which the router sends to
//! the account page), the second-factor challenge, and the pages emailed links land on) all
//! answer the same `index.html`; the client-side router in `ui/js/main.js` picks the view. Nothing
//! here matches `/api/*`, `/healthz`, `/readyz` or `/metrics`, and unknown paths fall
//! through to the application's JSON 404.
//!
//! Caching: assets live under `/assets/<version>/…`, where `<version>` is a digest of every
//! embedded file, so a new binary means new URLs and assets can be cached for a year.
//! `index.html` names the current version and is revalidated on every load (`no-cache`
//! plus an `ETag`). JavaScript modules import each other by relative URL, so they stay
//! inside one version.
//!
//! Every UI response carries its own strict Content-Security-Policy (no inline script or
//! style, no third-party origins, Trusted Types required for DOM sinks); the global
//! layers only add theirs when a response has none.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};

use crate::http::ApiError;

/// The paths that answer `index.html`; the client-side router knows the same list.
pub(crate) const PAGES: &[&str] = &[
    "/",
    "/sign-in",
    "/sign-up",
    "/sign-in/email",
    "/sign-up/email",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
    "/tasks",
    "/sessions",
    "/account",
    "/security",
    "/two-factor",
];

/// Where versioned assets are served.
const ASSET_PREFIX: &str = "/assets";

/// Placeholder in `index.html` replaced by `/assets/<version>`.
const ASSET_BASE_MARK: &str = "__ASSET_BASE__";

/// Placeholder in `index.html` replaced by `on` or `off`: whether this server sends mail.
/// The UI shows the "verify your address" banner, the change of address and the reset
/// pages' promises only when it does.
const EMAIL_MARK: &str = "__EMAIL__";

/// Placeholder in `index.html` replaced by the passwordless ways in that are on: `link`,
/// `code`, both (`link code`) or none (empty).
const EMAIL_SIGN_IN_MARK: &str = "__EMAIL_SIGN_IN__";

/// What the UI needs to know about the server's configuration. It ends up in `index.html`
/// (a `<meta>`), so nothing secret belongs here.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UiOptions {
    /// Mail is configured (`--smtp-url`): verification, reset and change of address work.
    pub(crate) email: bool,
    /// Sign-in links by mail are on.
    pub(crate) magic_links: bool,
    /// Sign-in codes by mail are on.
    pub(crate) email_codes: bool,
}

/// The policy of every UI response. `require-trusted-types-for` makes the browser refuse
/// string-to-DOM sinks such as `innerHTML`; the UI builds its DOM with `createElement`.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; \
     require-trusted-types-for 'script'; trusted-types 'none'";

/// One embedded file.
struct Asset {
    /// Path below `ui/` (and below `/assets/<version>/`).
    path: &'static str,
    body: &'static [u8],
    content_type: &'static str,
}

macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset {
            path: $path,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/", $path)),
            content_type: $content_type,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Everything under `/assets/<version>/`.
const ASSETS: &[Asset] = &[
    asset!("styles.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("js/main.js", JS),
    asset!("js/api.js", JS),
    asset!("js/http.js", JS),
    asset!("js/form.js", JS),
    asset!("js/token.js", JS),
    asset!("js/errors.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/icons.js", JS),
    asset!("js/format.js", JS),
    asset!("js/views/auth.js", JS),
    asset!("js/views/tasks.js", JS),
    asset!("js/views/sessions.js", JS),
    asset!("js/views/account.js", JS),
    asset!("js/views/account/section.js", JS),
    asset!("js/views/account/profile.js", JS),
    asset!("js/views/account/email.js", JS),
    asset!("js/views/account/password.js", JS),
    asset!("js/views/account/linked.js", JS),
    asset!("js/views/recovery.js", JS),
    asset!("js/views/verify.js", JS),
    asset!("js/views/two_factor.js", JS),
    asset!("js/views/email_sign_in.js", JS),
    asset!("js/passkeys.js", JS),
    asset!("js/views/passkeys.js", JS),
    asset!("js/views/account/passkeys.js", JS),
];

const INDEX_TEMPLATE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/index.html"));

/// Hex SHA-256 of some bytes, shortened.
fn short_digest(parts: &[&[u8]]) -> String {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .take(10)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Digest of every embedded file, names included.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut parts: Vec<&[u8]> = vec![INDEX_TEMPLATE.as_bytes()];
    for a in ASSETS {
        parts.push(a.path.as_bytes());
        parts.push(a.body);
    }
    short_digest(&parts)
});

/// The versioned URL of an embedded asset (`styles.css`, `favicon.svg`), for pages the
/// server renders itself (the magic-link confirmation page).
pub(crate) fn asset_url(path: &str) -> String {
    format!("{ASSET_PREFIX}/{}/{path}", *VERSION)
}

/// `index.html` with the asset base and the options filled in, and its ETag.
fn index_html(options: UiOptions) -> (&'static str, HeaderValue) {
    /// The eight variants (mail, links, codes each off or on), built once.
    static VARIANTS: LazyLock<[(String, HeaderValue); 8]> = LazyLock::new(|| {
        [0usize, 1, 2, 3, 4, 5, 6, 7].map(|bits| {
            let (email, links, codes) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
            let ways = match (links, codes) {
                (true, true) => "link code",
                (true, false) => "link",
                (false, true) => "code",
                (false, false) => "",
            };
            let html = INDEX_TEMPLATE
                .replace(ASSET_BASE_MARK, &format!("{ASSET_PREFIX}/{}", *VERSION))
                .replace(EMAIL_MARK, if email { "on" } else { "off" })
                .replace(EMAIL_SIGN_IN_MARK, ways);
            let etag = etag_for(html.as_bytes());
            (html, etag)
        })
    });
    let bits = usize::from(options.email)
        | usize::from(options.magic_links) << 1
        | usize::from(options.email_codes) << 2;
    let (html, etag) = &VARIANTS[bits];
    (html.as_str(), etag.clone())
}

/// ETags of the assets, in the order of [`ASSETS`].
static ASSET_ETAGS: LazyLock<Vec<HeaderValue>> =
    LazyLock::new(|| ASSETS.iter().map(|a| etag_for(a.body)).collect());

fn etag_for(body: &[u8]) -> HeaderValue {
    HeaderValue::try_from(format!("\"{}\"", short_digest(&[body])))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// Routes of the web UI.
pub(crate) fn router(options: UiOptions) -> Router {
    let mut router = Router::new();
    for page in PAGES {
        router = router.route(page, get(move |request: HeaderMap| index(request, options)));
    }
    router.route(&format!("{ASSET_PREFIX}/{{version}}/{{*path}}"), get(asset))
}

/// The headers every UI response carries.
fn security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    );
}

/// True when `If-None-Match` names `etag` (or `*`).
fn not_modified(request: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(inm) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let want = etag.to_str().unwrap_or_default();
    inm.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == want)
}

fn respond(
    request: &HeaderMap,
    body: &'static [u8],
    content_type: &'static str,
    etag: &HeaderValue,
    cache_control: &'static str,
) -> Response {
    let mut h = HeaderMap::new();
    security_headers(&mut h);
    h.insert(header::ETAG, etag.clone());
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    if not_modified(request, etag) {
        return (StatusCode::NOT_MODIFIED, h).into_response();
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    (h, body).into_response()
}

async fn index(request: HeaderMap, options: UiOptions) -> Response {
    let (html, etag) = index_html(options);
    respond(
        &request,
        html.as_bytes(),
        "text/html; charset=utf-8",
        &etag,
        "no-cache",
    )
}

async fn asset(Path((version, path)): Path<(String, String)>, request: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.path == path) else {
        return ApiError::not_found().into_response();
    };
    let a = &ASSETS[i];
    let etag = &ASSET_ETAGS[i];
    // A page from another build may still ask for its version: serve what we have, but
    // only promise it will never change when the version is ours.
    let cache = if version == *VERSION {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    respond(&request, a.body, a.content_type, etag, cache)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::Request;
    use tower::ServiceExt as _;

    async fn get_with(uri: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        let mut req = Request::get(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = router(UiOptions::default())
            .oneshot(req.body(Body::empty()).unwrap_or_default())
            .await
            .unwrap_or_else(|e| match e {});
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
        h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[tokio::test]
    async fn every_page_route_serves_the_same_uncached_html_with_a_strict_policy() {
        for page in PAGES {
            let (status, h, body) = get_with(page, &[]).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_eq!(header(&h, "content-type"), "text/html; charset=utf-8");
            assert_eq!(header(&h, "cache-control"), "no-cache");
            assert_eq!(header(&h, "x-content-type-options"), "nosniff");
            assert_eq!(header(&h, "x-frame-options"), "DENY");
            assert_eq!(header(&h, "referrer-policy"), "no-referrer");
            let csp = header(&h, "content-security-policy");
            assert!(csp.contains("script-src 'self';"), "{csp}");
            assert!(!csp.contains("unsafe"), "{csp}");
            assert!(body.contains(&format!("/assets/{}/js/main.js", *VERSION)));
            assert!(!body.contains(ASSET_BASE_MARK));
        }
    }

    #[tokio::test]
    async fn the_page_says_whether_the_server_sends_mail_and_each_variant_has_its_etag() {
        let mut etags = Vec::new();
        for (email, want) in [(false, "off"), (true, "on")] {
            let res = router(UiOptions {
                email,
                ..UiOptions::default()
            })
            .oneshot(
                Request::get("/account")
                    .body(Body::empty())
                    .unwrap_or_default(),
            )
            .await
            .unwrap_or_else(|e| match e {});
            assert_eq!(res.status(), StatusCode::OK);
            etags.push(header(res.headers(), "etag").to_owned());
            let body = axum::body::to_bytes(res.into_body(), usize::MAX)
                .await
                .unwrap_or_default();
            let body = String::from_utf8_lossy(&body);
            let meta = format!("<meta name=\"tessera-email\" content=\"{want}\">");
            assert!(body.contains(&meta), "{body}");
            assert!(!body.contains(EMAIL_MARK));
        }
        assert_ne!(etags[0], etags[1]);
    }

    #[tokio::test]
    async fn the_ui_does_not_answer_api_or_operations_paths() {
        for path in [
            "/api/auth/get-session",
            "/api/x/tasks",
            "/healthz",
            "/readyz",
            "/metrics",
            "/nope",
        ] {
            let (status, _, _) = get_with(path, &[]).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
    }

    #[tokio::test]
    async fn assets_have_their_content_type_and_are_immutable_under_the_current_version() {
        for a in ASSETS {
            let uri = format!("/assets/{}/{}", *VERSION, a.path);
            let (status, h, body) = get_with(&uri, &[]).await;
            assert_eq!(status, StatusCode::OK, "{uri}");
            assert_eq!(header(&h, "content-type"), a.content_type);
            assert!(header(&h, "cache-control").contains("immutable"));
            assert!(header(&h, "content-security-policy").contains("default-src 'none'"));
            assert_eq!(body.as_bytes(), a.body);
        }
    }

    #[tokio::test]
    async fn an_old_version_is_served_but_revalidated_and_unknown_files_are_404() {
        let (status, h, _) = get_with("/assets/0000/styles.css", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(header(&h, "cache-control"), "no-cache");
        let uri = format!("/assets/{}/../Cargo.toml", *VERSION);
        assert_eq!(get_with(&uri, &[]).await.0, StatusCode::NOT_FOUND);
        let uri = format!("/assets/{}/js/nope.js", *VERSION);
        assert_eq!(get_with(&uri, &[]).await.0, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_matching_etag_is_answered_304_without_a_body() {
        let (_, h, _) = get_with("/tasks", &[]).await;
        let etag = header(&h, "etag").to_owned();
        assert!(etag.starts_with('"'));
        let (status, h2, body) = get_with("/tasks", &[("if-none-match", &etag)]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        assert!(body.is_empty());
        assert_eq!(header(&h2, "etag"), etag);
        let (status, _, _) = get_with("/tasks", &[("if-none-match", "\"other\"")]).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[test]
    fn the_html_needs_no_inline_script_or_style_and_names_only_embedded_assets() {
        let html = INDEX_TEMPLATE;
        assert!(!html.contains("style="), "inline style attribute");
        assert!(!html.contains("<style"), "inline style element");
        for chunk in html.split("<script").skip(1) {
            let tag = chunk.split('>').next().unwrap_or_default();
            assert!(tag.contains("src="), "inline script: <script{tag}>");
        }
        for chunk in html.split(ASSET_BASE_MARK).skip(1) {
            let path = chunk
                .trim_start_matches('/')
                .split('"')
                .next()
                .unwrap_or_default();
            assert!(ASSETS.iter().any(|a| a.path == path), "{path} not embedded");
        }
    }

    #[test]
    fn every_relative_module_import_names_an_embedded_file() {
        for a in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let src = String::from_utf8_lossy(a.body);
            let dir = a.path.rsplit_once('/').map_or("", |(d, _)| d);
            // every `from '…'` and bare `import '…'` specifier
            let specs = src
                .split("from '")
                .skip(1)
                .chain(src.split("import '").skip(1))
                .filter_map(|rest| rest.split('\'').next());
            for spec in specs.filter(|s| s.starts_with('.')) {
                let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
                for seg in spec.split('/') {
                    match seg {
                        "." => {}
                        ".." => {
                            parts.pop();
                        }
                        s => parts.push(s),
                    }
                }
                let target = parts.join("/");
                assert!(
                    ASSETS.iter().any(|b| b.path == target),
                    "{} imports {spec} ({target}), which is not embedded",
                    a.path
                );
            }
        }
    }
}
