//! One `TestApp` method per endpoint, so tests read like the protocol reference, and the
//! shortcuts built on them (a signed-up user, a session's JSON, an access token).

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::{
    Browser, PASSWORD, SESSION_COOKIE, TestApp, TestUser, Who, client, cookie_pair, header,
    set_cookies, unique_email,
};

impl TestApp {
    // ---------------------------------------------------------------- endpoints

    /// `POST /api/auth/sign-up/email` with a JSON body, no cookies, no `Origin`.
    pub(crate) async fn sign_up(&self, body: &Value) -> Response {
        self.post_json("/api/auth/sign-up/email", body)
            .send()
            .await
            .expect("sign-up request")
    }

    /// `POST /api/auth/sign-in/email` with a JSON body, no cookies, no `Origin`.
    pub(crate) async fn sign_in(&self, body: &Value) -> Response {
        self.post_json("/api/auth/sign-in/email", body)
            .send()
            .await
            .expect("sign-in request")
    }

    /// `POST /api/auth/sign-out` with `{}` as the client sends it.
    pub(crate) async fn sign_out(&self, who: &Who) -> Response {
        self.with(self.post_json("/api/auth/sign-out", &json!({})), who, true)
            .send()
            .await
            .expect("sign-out request")
    }

    /// `GET /api/auth/get-session`.
    pub(crate) async fn get_session(&self, who: &Who) -> Response {
        self.get_session_with_query(who, "").await
    }

    /// `GET /api/auth/get-session?<query>`.
    pub(crate) async fn get_session_with_query(&self, who: &Who, query: &str) -> Response {
        let path = if query.is_empty() {
            "/api/auth/get-session".to_owned()
        } else {
            format!("/api/auth/get-session?{query}")
        };
        self.with(self.request(Method::GET, &path), who, false)
            .send()
            .await
            .expect("get-session request")
    }

    /// `GET /api/auth/token`.
    pub(crate) async fn token(&self, who: &Who) -> Response {
        self.with(self.request(Method::GET, "/api/auth/token"), who, false)
            .send()
            .await
            .expect("token request")
    }

    /// `GET /api/auth/jwks`.
    pub(crate) async fn jwks(&self) -> Response {
        self.request(Method::GET, "/api/auth/jwks")
            .send()
            .await
            .expect("jwks request")
    }

    /// `GET /api/auth/ok`.
    pub(crate) async fn ok(&self) -> Response {
        self.request(Method::GET, "/api/auth/ok")
            .send()
            .await
            .expect("ok request")
    }

    // ---------------------------------------------------------------- shortcuts

    /// Signs a new user up (unique email, [`PASSWORD`]) and returns their credentials.
    pub(crate) async fn signed_up_user(&self) -> TestUser {
        self.signed_up_user_with(&unique_email(), PASSWORD).await
    }

    /// Signs a user up with this email and password and returns their credentials.
    pub(crate) async fn signed_up_user_with(&self, email: &str, password: &str) -> TestUser {
        let res = self
            .sign_up(&json!({ "name": "Test User", "email": email, "password": password }))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "sign-up of {email}");
        session_of(res, "Test User", password).await
    }

    /// Signs an existing user in (JSON, `rememberMe` as given) and returns their new session.
    pub(crate) async fn signed_in(&self, user: &TestUser, remember: bool) -> TestUser {
        let res = self
            .sign_in(
                &json!({ "email": user.email, "password": user.password, "rememberMe": remember }),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "sign-in of {}", user.email);
        session_of(res, &user.name, &user.password).await
    }

    /// The status of a sign-in with this email and password.
    pub(crate) async fn sign_in_status(&self, email: &str, password: &str) -> StatusCode {
        self.sign_in(&json!({ "email": email, "password": password }))
            .await
            .status()
    }

    /// The status of `GET /api/{user_id}/tasks` with this access token.
    pub(crate) async fn tasks_status(&self, user_id: &str, jwt: &str) -> StatusCode {
        self.request(Method::GET, &format!("/api/{user_id}/tasks"))
            .bearer_auth(jwt)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// The stored password hash of an account.
    pub(crate) async fn stored_hash(&self, email: &str) -> String {
        self.store()
            .user_with_password_by_email(email)
            .await
            .unwrap()
            .expect("the user exists")
            .1
            .expect("a credential")
    }

    /// The session (`get-session` body) as this caller sees it; `Value::Null` when none.
    pub(crate) async fn session_json(&self, who: &Who) -> Value {
        let res = self.get_session(who).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.expect("get-session JSON")
    }

    /// A fresh access token for this caller.
    pub(crate) async fn access_token(&self, who: &Who) -> String {
        let res = self.token(who).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("token JSON");
        body["token"].as_str().expect("token string").to_owned()
    }

    /// A cookie-store client that behaves like a browser on the base origin.
    pub(crate) fn browser(&self) -> Browser {
        Browser {
            client: client(true),
            address: self.address.clone(),
        }
    }
}

/// Reads a successful sign-up or sign-in response into a [`TestUser`].
pub(crate) async fn session_of(res: Response, name: &str, password: &str) -> TestUser {
    let signed_token = header(&res, "set-auth-token").expect("set-auth-token");
    let cookie = set_cookies(&res)
        .iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .map(|c| cookie_pair(c))
        .expect("a session cookie");
    let body: Value = res.json().await.expect("JSON body");
    TestUser {
        id: body["user"]["id"].as_str().expect("user id").to_owned(),
        name: name.to_owned(),
        email: body["user"]["email"].as_str().expect("email").to_owned(),
        password: password.to_owned(),
        token: body["token"].as_str().expect("token").to_owned(),
        signed_token,
        cookie,
    }
}
