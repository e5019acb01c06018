//! Requests to identity providers: only to configured or discovered URLs, never following
//! a redirect, bounded in time (the client's timeout covers connect, headers and body) and
//! in size (read in chunks, refused past [`MAX_BODY`]).

use std::time::Duration;

use serde_json::Value;

/// Largest provider answer read (discovery documents, key sets, token and user answers).
pub(crate) const MAX_BODY: usize = 256 * 1024;

/// Why a provider request failed (for logs; the browser only sees an error code).
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("unexpected status {0}")]
    Status(reqwest::StatusCode),
    #[error("answer larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("answer is not a JSON object or array")]
    NotJson,
}

/// The client every provider request goes through.
pub(crate) fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sends the request and reads a JSON object (or array: GitHub's `/user/emails`) answer of
/// a 2xx status.
pub(crate) async fn json(request: reqwest::RequestBuilder) -> Result<Value, FetchError> {
    let (status, body) = send(request).await?;
    if !status.is_success() {
        return Err(FetchError::Status(status));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v @ (Value::Object(_) | Value::Array(_))) => Ok(v),
        _ => Err(FetchError::NotJson),
    }
}

/// Like [`json`], but also hands back error answers (a token endpoint's 400 is JSON).
pub(crate) async fn json_any_status(
    request: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, Value), FetchError> {
    let (status, body) = send(request).await?;
    match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => Ok((status, v)),
        _ if !status.is_success() => Err(FetchError::Status(status)),
        _ => Err(FetchError::NotJson),
    }
}

async fn send(
    request: reqwest::RequestBuilder,
) -> Result<(reqwest::StatusCode, Vec<u8>), FetchError> {
    let mut response = request.header("accept", "application/json").send().await?;
    let status = response.status();
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(FetchError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}
