//! A cookie-keeping client, as a browser on the app's own pages.

use reqwest::Response;
use serde_json::{Value, json};

use super::ORIGIN;

/// A cookie-store client on the app's address: it keeps whatever `Set-Cookie` it receives
/// and sends `Origin: <base origin>` on POSTs, like a browser on the app's own pages.
pub(crate) struct Browser {
    pub(crate) client: reqwest::Client,
    pub(crate) address: String,
}

impl Browser {
    async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}{path}", self.address))
            .header("content-type", "application/json")
            .header("origin", ORIGIN)
            .body(body.to_string())
            .send()
            .await
            .expect("browser POST")
    }

    async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("browser GET")
    }

    /// A POST of JSON to any path, as the app's own pages send it.
    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.post(path, body).await
    }

    /// A GET of any path.
    pub(crate) async fn get_path(&self, path: &str) -> Response {
        self.get(path).await
    }

    pub(crate) async fn sign_up(&self, body: &Value) -> Response {
        self.post("/api/auth/sign-up/email", body).await
    }
    pub(crate) async fn sign_in(&self, body: &Value) -> Response {
        self.post("/api/auth/sign-in/email", body).await
    }
    pub(crate) async fn sign_out(&self) -> Response {
        self.post("/api/auth/sign-out", &json!({})).await
    }
    pub(crate) async fn get_session(&self) -> Response {
        self.get("/api/auth/get-session").await
    }
    pub(crate) async fn token(&self) -> Response {
        self.get("/api/auth/token").await
    }
}
