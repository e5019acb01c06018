//! Reading this server's responses (what is generic lives in `tessera_testkit::wire`).

use reqwest::{Response, StatusCode};
use serde_json::Value;

use super::{TestApp, cookie_pair, set_cookies};

/// The session cookie lines of a response (`better-auth.session_token=…`, any prefix).
pub(crate) fn session_set_cookie(res: &Response) -> Option<String> {
    set_cookies(res)
        .into_iter()
        .find(|c| cookie_pair(c).contains("better-auth.session_token="))
}

/// The JWKS document as JSON.
pub(crate) async fn jwks_json(app: &TestApp) -> Value {
    let res = app.jwks().await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("JWKS JSON")
}
