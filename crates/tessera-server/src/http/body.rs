//! Request bodies, read the way Better Auth reads them: JSON only (form-encoded too on
//! sign-in and sign-up), 415 for other content types, 400 `BAD_REQUEST` for malformed JSON,
//! and zod-style `VALIDATION_ERROR` messages for missing or mistyped fields.
//!
//! Bodies are parsed into a JSON object and fields are taken out one by one, so every
//! error message names the field, and unknown fields (`role`, `userId`, `emailVerified`…)
//! are simply never read.

use axum::extract::{FromRequest, Request};
use bytes::Bytes;
use http::{StatusCode, header};
use serde_json::{Map, Value};

use super::error::ErrorCode;
use super::error::{ApiError, ApiResult};

/// Largest request body accepted anywhere (1 MiB). Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// A JSON object body.
#[derive(Debug, Default)]
pub struct JsonBody(pub Fields);

/// A JSON or form-encoded object body (sign-in and sign-up only).
#[derive(Debug, Default)]
pub struct JsonOrFormBody(pub Fields);

async fn read(req: Request, allow_form: bool) -> ApiResult<Fields> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let bytes = Bytes::from_request(req, &()).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge, "Request body is too large")
        } else {
            ApiError::new(ErrorCode::BadRequest, "Could not read the request body")
        }
    })?;
    let allowed = if allow_form {
        "application/json, application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    match content_type.as_deref() {
        None if bytes.is_empty() => Ok(Fields::default()),
        None => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("Content-Type is required. Allowed types: {allowed}"),
        )),
        Some("application/json") => {
            if bytes.is_empty() {
                return Ok(Fields::default());
            }
            match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(map)) => Ok(Fields(map, false)),
                Ok(other) => Err(ApiError::validation(format!(
                    "[body] Invalid input: expected object, received {}",
                    type_name(Some(&other))
                ))),
                Err(_) => Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "Invalid JSON in request body",
                )),
            }
        }
        Some("application/x-www-form-urlencoded") if allow_form => {
            let map = form_urlencoded::parse(&bytes)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Ok(Fields(map, true))
        }
        Some(other) => Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "Content-Type {:?} is not allowed. Allowed types: {allowed}",
                truncate(other, 100)
            ),
        )),
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        read(req, false).await.map(JsonBody)
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonOrFormBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        read(req, true).await.map(JsonOrFormBody)
    }
}

/// The fields of an object body. The flag is set for form-encoded bodies: every value there
/// is text, and only fields read as booleans turn `true`/`false` into one (so a user named
/// "true" stays a string).
#[derive(Debug, Default)]
pub struct Fields(pub Map<String, Value>, bool);

fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "undefined",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
    }
}

fn expected(name: &str, what: &str, got: Option<&Value>) -> ApiError {
    ApiError::validation(format!(
        "[body.{name}] Invalid input: expected {what}, received {}",
        type_name(got)
    ))
}

impl Fields {
    /// A required string field.
    pub fn string(&self, name: &str) -> ApiResult<&str> {
        match self.0.get(name) {
            Some(Value::String(s)) => Ok(s),
            other => Err(expected(name, "string", other)),
        }
    }

    /// An optional string field (absent or `null` → `None`).
    pub fn opt_string(&self, name: &str) -> ApiResult<Option<&str>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            other => Err(expected(name, "string", other)),
        }
    }

    /// An optional boolean field (in a form body, the text `true` or `false`).
    pub fn opt_bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if self.1 && (s == "true" || s == "false") => {
                Ok(Some(s == "true"))
            }
            other => Err(expected(name, "boolean", other)),
        }
    }

    /// Whether the field is present at all.
    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }
}
