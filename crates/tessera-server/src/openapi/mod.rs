//! The OpenAPI 3.1 document of every endpoint, generated from the route table so it cannot
//! drift, and a small self-contained docs page that renders it.
//!
//! **No drift by construction.** Handlers are never registered with `Router::route`
//! directly: every module builds a [`Routes`] table, and [`Routes::add`] takes the handler
//! *and* its [`Operation`] (method, path, parameters, body, responses, error codes). The
//! axum router and the document's `paths` come out of the same table
//! ([`Routes::into_parts`]), so a route cannot be served without being documented. The API
//! tests check the served routes against the document (and that nothing outside this module,
//! the composition in `lib.rs` and the web UI's HTML pages calls `.route(`).
//!
//! **What is served.** `GET /api/openapi.json` (the document of what *this process* serves:
//! with `--role api` only the tasks API and probes) and `GET /api/docs` (HTML, one script
//! and one stylesheet, all embedded in the binary, with a strict CSP; nothing is loaded
//! from another origin). Both are served in every role.
//!
//! Request bodies are read field by field (see [`crate::http::body`]), so their schemas are
//! declared here next to the components they reference ([`schemas`]).

mod describe;
pub(crate) mod schemas;

pub(crate) use describe::Describe;
use describe::DescribeArgs;

use crate::http::ErrorCode;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::State;
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use http::{HeaderValue, header};
use serde_json::{Map, Value, json};

/// An HTTP method of a documented operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// GET (axum also answers HEAD).
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Verb {
    /// Every verb.
    pub const ALL: [Verb; 5] = [Verb::Get, Verb::Post, Verb::Put, Verb::Patch, Verb::Delete];

    /// The lower-case name used as the key of an OpenAPI path item.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

/// How an operation may be authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    None,
    /// A session (cookie or bearer session token) is required.
    Session,
    /// A session is used when present; anonymous calls are answered too.
    OptionalSession,
    /// An access token (JWT) whose `sub` is the path's `{user_id}`.
    AccessToken,
    /// A secret shared with the services that call it (`Authorization: Bearer`).
    ServiceSecret,
}

/// The documentation of one (method, path).
#[derive(Debug, Clone)]
pub struct Operation {
    verb: Verb,
    path: String,
    fields: Map<String, Value>,
    responses: BTreeMap<u16, Answer>,
}

/// One documented answer: a success body, or the error envelope with its codes.
#[derive(Debug, Clone)]
struct Answer {
    description: String,
    content: Option<(String, Value)>,
    codes: Vec<&'static str>,
    headers: Map<String, Value>,
}

impl Operation {
    /// An operation with its id and one-line summary.
    pub fn new(verb: Verb, path: &str, id: &str, summary: &str) -> Self {
        let mut fields = Map::new();
        fields.insert("operationId".into(), json!(id));
        fields.insert("summary".into(), json!(summary));
        let mut op = Self {
            verb,
            path: path.to_owned(),
            fields,
            responses: BTreeMap::new(),
        };
        for name in path_params(path) {
            op = op.param(json!({
                "name": name, "in": "path", "required": true,
                "schema": schemas::path_param(&name),
            }));
        }
        op.error(&[ErrorCode::InternalServerError])
    }

    /// `GET path`.
    pub fn get(path: &str, id: &str, summary: &str) -> Self {
        Self::new(Verb::Get, path, id, summary)
    }
    /// `POST path`.
    pub fn post(path: &str, id: &str, summary: &str) -> Self {
        Self::new(Verb::Post, path, id, summary)
    }
    /// `PUT path`.
    pub fn put(path: &str, id: &str, summary: &str) -> Self {
        Self::new(Verb::Put, path, id, summary)
    }
    /// `PATCH path`.
    pub fn patch(path: &str, id: &str, summary: &str) -> Self {
        Self::new(Verb::Patch, path, id, summary)
    }
    /// `DELETE path`.
    pub fn delete(path: &str, id: &str, summary: &str) -> Self {
        Self::new(Verb::Delete, path, id, summary)
    }

    /// The method.
    pub fn verb(&self) -> Verb {
        self.verb
    }

    /// The path as served (after nesting).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Groups the operation under a tag.
    #[must_use]
    pub fn tag(mut self, tag: &str) -> Self {
        self.fields.insert("tags".into(), json!([tag]));
        self
    }

    /// A longer description (CommonMark).
    #[must_use]
    pub fn describe(mut self, text: &str) -> Self {
        self.fields.insert("description".into(), json!(text));
        self
    }

    /// Who may call it; adds the matching 401/403 answers.
    #[must_use]
    pub fn auth(mut self, auth: Auth) -> Self {
        let security = match auth {
            Auth::None => json!([]),
            Auth::Session => json!([{ "sessionCookie": [] }, { "sessionBearer": [] }]),
            Auth::OptionalSession => {
                json!([{ "sessionCookie": [] }, { "sessionBearer": [] }, {}])
            }
            Auth::AccessToken => json!([{ "accessToken": [] }]),
            Auth::ServiceSecret => json!([{ "serviceSecret": [] }]),
        };
        self.fields.insert("security".into(), security);
        match auth {
            Auth::Session | Auth::ServiceSecret => self.error(&[ErrorCode::Unauthorized]),
            Auth::AccessToken => self
                .error(&[ErrorCode::InvalidRequest])
                .error(&[ErrorCode::Unauthorized, ErrorCode::InvalidToken])
                .error(&[ErrorCode::Forbidden])
                .error(&[ErrorCode::ServiceUnavailable]),
            Auth::None | Auth::OptionalSession => self,
        }
    }

    /// Mutating cookie-authenticated calls: a browser's `Origin` must be trusted.
    #[must_use]
    pub fn origin_checked(self) -> Self {
        self.error(&[ErrorCode::MissingOrNullOrigin, ErrorCode::InvalidOrigin])
    }

    /// Rate limited: 429 with `Retry-After` and `X-Retry-After`.
    #[must_use]
    pub fn rate_limited(mut self) -> Self {
        self = self.error(&[ErrorCode::TooManyRequests]);
        if let Some(r) = self.responses.get_mut(&429) {
            for name in ["Retry-After", "X-Retry-After"] {
                r.headers.insert(
                    name.into(),
                    json!({ "description": "Seconds to wait", "schema": { "type": "integer" } }),
                );
            }
        }
        self
    }

    /// Reads the database: 503 when it is unavailable.
    #[must_use]
    pub fn uses_database(self) -> Self {
        self.error(&[ErrorCode::ServiceUnavailable])
    }

    /// A query parameter.
    #[must_use]
    pub fn query(self, name: &str, schema: Value, description: &str) -> Self {
        self.param(json!({
            "name": name, "in": "query", "required": false,
            "description": description, "schema": schema,
        }))
    }

    fn param(mut self, p: Value) -> Self {
        if let Value::Array(a) = self.fields.entry("parameters").or_insert_with(|| json!([])) {
            a.push(p);
        }
        self
    }

    /// A JSON object body described by the component `schema`, read with the rules of
    /// [`crate::http::body`] (400 / 413 / 415 answers are added).
    #[must_use]
    pub fn json_body(self, schema: &str, required: bool) -> Self {
        self.body(schema, required, false)
    }

    /// Like [`json_body`](Self::json_body), also accepting `application/x-www-form-urlencoded`.
    #[must_use]
    pub fn json_or_form_body(self, schema: &str, required: bool) -> Self {
        self.body(schema, required, true)
    }

    fn body(mut self, schema: &str, required: bool, form: bool) -> Self {
        let r = json!({ "$ref": format!("#/components/schemas/{schema}") });
        let mut content = Map::new();
        content.insert("application/json".into(), json!({ "schema": r }));
        if form {
            content.insert(
                "application/x-www-form-urlencoded".into(),
                json!({ "schema": r }),
            );
        }
        self.fields.insert(
            "requestBody".into(),
            json!({ "required": required, "content": content }),
        );
        self.error(&[ErrorCode::BadRequest, ErrorCode::ValidationError])
            .error(&[ErrorCode::PayloadTooLarge])
            .error(&[ErrorCode::UnsupportedMediaType])
    }

    /// A JSON success answer described by the component `schema` (or `null`: no body).
    #[must_use]
    pub fn ok(self, status: u16, schema: &str, description: &str) -> Self {
        let content = json!({ "$ref": format!("#/components/schemas/{schema}") });
        self.ok_with(status, "application/json", content, description)
    }

    /// A success answer of any media type and schema.
    #[must_use]
    pub fn ok_with(mut self, status: u16, media: &str, schema: Value, description: &str) -> Self {
        self.responses.insert(
            status,
            Answer {
                description: description.into(),
                content: Some((media.into(), schema)),
                codes: Vec::new(),
                headers: Map::new(),
            },
        );
        self
    }

    /// A success answer without a body.
    #[must_use]
    pub fn no_content(mut self, status: u16, description: &str) -> Self {
        self.responses.insert(
            status,
            Answer {
                description: description.into(),
                content: None,
                codes: Vec::new(),
                headers: Map::new(),
            },
        );
        self
    }

    /// A response header on the answer with `status` (which must already be declared).
    #[must_use]
    pub fn header(mut self, status: u16, name: &str, description: &str) -> Self {
        if let Some(r) = self.responses.get_mut(&status) {
            r.headers.insert(
                name.into(),
                json!({ "description": description, "schema": { "type": "string" } }),
            );
        }
        self
    }

    /// Error answers: the `{message, code}` envelope with one of `codes`, each under the
    /// status the code is answered with (the same [`ErrorCode`] the handlers raise).
    #[must_use]
    pub fn error(mut self, codes: &[ErrorCode]) -> Self {
        for code in codes {
            let status = code.status().as_u16();
            let r = self.responses.entry(status).or_insert_with(|| Answer {
                description: error_description(status).into(),
                content: None,
                codes: Vec::new(),
                headers: Map::new(),
            });
            if !r.codes.contains(&code.as_str()) {
                r.codes.push(code.as_str());
            }
        }
        self
    }

    fn to_json(&self) -> Value {
        let mut op = self.fields.clone();
        let mut responses = Map::new();
        for (status, r) in &self.responses {
            let mut out = Map::new();
            out.insert("description".into(), json!(r.description));
            if !r.headers.is_empty() {
                out.insert("headers".into(), Value::Object(r.headers.clone()));
            }
            if let Some((media, schema)) = &r.content {
                out.insert(
                    "content".into(),
                    json!({ media.as_str(): { "schema": schema } }),
                );
            } else if !r.codes.is_empty() {
                let schema = json!({
                    "allOf": [
                        { "$ref": "#/components/schemas/Error" },
                        { "properties": { "code": { "enum": r.codes } } },
                    ]
                });
                out.insert(
                    "content".into(),
                    json!({ "application/json": { "schema": schema } }),
                );
                out.insert("x-error-codes".into(), json!(r.codes));
            }
            responses.insert(status.to_string(), Value::Object(out));
        }
        op.insert("responses".into(), Value::Object(responses));
        Value::Object(op)
    }
}

fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Bad request: malformed body or a field that fails validation",
        401 => "Missing or invalid credentials",
        403 => "Forbidden",
        404 => "Not found",
        405 => "Method not allowed",
        413 => "Request body larger than 1 MiB",
        415 => "Unsupported Content-Type",
        422 => "Unprocessable",
        429 => "Rate limited",
        500 => "Internal error (details are only logged)",
        503 => "Service temporarily unavailable (Retry-After is set)",
        _ => "Error",
    }
}

/// The `{name}` segments of a path template.
fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}

/// A route table: the axum routes and their documentation, built together.
#[derive(Debug)]
pub(crate) struct Routes<S> {
    paths: BTreeMap<String, MethodRouter<S>>,
    ops: Vec<Operation>,
}

impl<S> Default for Routes<S> {
    fn default() -> Self {
        Self {
            paths: BTreeMap::new(),
            ops: Vec::new(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// An empty table.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for the operation's method and path, with its documentation.
    /// Panics (at startup, like axum) when the method and path are already registered.
    #[must_use]
    pub(crate) fn add<H, T>(mut self, op: Operation, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: DescribeArgs + 'static,
    {
        let op = T::describe(op);
        let filter = op.verb.filter();
        let method_router = match self.paths.remove(&op.path) {
            Some(existing) => existing.on(filter, handler),
            None => on(filter, handler),
        };
        self.paths.insert(op.path.clone(), method_router);
        self.ops.push(op);
        self
    }

    /// Both tables in one.
    #[must_use]
    pub(crate) fn merge(mut self, other: Routes<S>) -> Self {
        for (path, mr) in other.paths {
            let merged = match self.paths.remove(&path) {
                Some(existing) => existing.merge(mr),
                None => mr,
            };
            self.paths.insert(path, merged);
        }
        self.ops.extend(other.ops);
        self
    }

    /// The router and the documentation of its operations, whose paths get `prefix` (the
    /// path the router will be nested at; empty for none).
    pub(crate) fn into_parts(self, prefix: &str) -> (Router<S>, Vec<Operation>) {
        let mut router = Router::new();
        for (path, mr) in self.paths {
            router = router.route(&path, mr);
        }
        let ops = self
            .ops
            .into_iter()
            .map(|mut op| {
                op.path = format!("{prefix}{}", op.path);
                op
            })
            .collect();
        (router, ops)
    }
}

/// The OpenAPI document of `ops`.
pub(crate) fn document(ops: &[Operation]) -> Value {
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for op in ops {
        paths
            .entry(op.path.as_str())
            .or_default()
            .insert(op.verb.as_str().into(), op.to_json());
    }
    let mut tags: Vec<&str> = Vec::new();
    for op in ops {
        if let Some(Value::Array(t)) = op.fields.get("tags") {
            for t in t.iter().filter_map(Value::as_str) {
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Tessera",
            "version": env!("CARGO_PKG_VERSION"),
            "description": schemas::INFO_DESCRIPTION,
            "license": { "name": "See the repository", "identifier": "MIT OR Apache-2.0" },
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": tags.iter().map(|t| json!({ "name": t, "description": schemas::tag_description(t) })).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "schemas": schemas::components(),
            "securitySchemes": schemas::security_schemes(),
        },
    })
}

/// The docs page's policy: only same-origin script, style and fetch; no inline code.
pub(crate) const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'";

const DOCS_HTML: &str = include_str!("docs/index.html");
const DOCS_JS: &str = include_str!("docs/docs.js");
const DOCS_CSS: &str = include_str!("docs/docs.css");

/// The document, rendered on its first request and kept: building every operation's JSON
/// at once is the largest allocation of start-up, and most processes are never asked.
#[derive(Clone)]
pub(crate) struct DocState(Arc<LazyDocument>);

struct LazyDocument {
    rendered: OnceLock<String>,
    operations: Box<dyn Fn() -> Vec<Operation> + Send + Sync>,
}

impl std::fmt::Debug for DocState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocState")
            .field("rendered", &self.0.rendered.get().is_some())
            .finish()
    }
}

impl DocState {
    fn rendered(&self) -> &str {
        self.0.rendered.get_or_init(|| {
            serde_json::to_string_pretty(&document(&(self.0.operations)())).unwrap_or_default()
        })
    }
}

/// The routes that serve the document and the docs page.
pub(crate) fn routes() -> Routes<DocState> {
    let tag = "meta";
    Routes::new()
        .add(
            Operation::get("/api/openapi.json", "getOpenApi", "This OpenAPI document")
                .tag(tag)
                .auth(Auth::None)
                .ok_with(
                    200,
                    "application/json",
                    json!({ "type": "object" }),
                    "The OpenAPI 3.1 document of what this process serves",
                ),
            openapi_json,
        )
        .add(
            Operation::get("/api/docs", "getDocs", "Browsable API documentation")
                .tag(tag)
                .auth(Auth::None)
                .ok_with(
                    200,
                    "text/html",
                    json!({ "type": "string" }),
                    "An HTML page that renders /api/openapi.json",
                ),
            docs_page,
        )
        .add(
            Operation::get(
                "/api/docs/docs.js",
                "getDocsScript",
                "The docs page's script",
            )
            .tag(tag)
            .auth(Auth::None)
            .ok_with(
                200,
                "text/javascript",
                json!({ "type": "string" }),
                "Script",
            ),
            docs_js,
        )
        .add(
            Operation::get(
                "/api/docs/docs.css",
                "getDocsStyles",
                "The docs page's styles",
            )
            .tag(tag)
            .auth(Auth::None)
            .ok_with(200, "text/css", json!({ "type": "string" }), "Stylesheet"),
            docs_css,
        )
}

/// Builds the router serving the document of the operations `operations` lists when first
/// asked (they should include [`routes`]' own).
pub(crate) fn serve(
    routes: Routes<DocState>,
    operations: impl Fn() -> Vec<Operation> + Send + Sync + 'static,
) -> Router {
    let (router, _) = routes.into_parts("");
    router.with_state(DocState(Arc::new(LazyDocument {
        rendered: OnceLock::new(),
        operations: Box::new(operations),
    })))
}

fn text(content_type: &'static str, body: &'static str, csp: bool) -> Response {
    let mut res = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response();
    if csp {
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        );
    }
    res
}

async fn openapi_json(State(doc): State<DocState>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        doc.rendered().to_owned(),
    )
        .into_response()
}

async fn docs_page() -> Response {
    text("text/html; charset=utf-8", DOCS_HTML, true)
}

async fn docs_js() -> Response {
    text("text/javascript; charset=utf-8", DOCS_JS, false)
}

async fn docs_css() -> Response {
    text("text/css; charset=utf-8", DOCS_CSS, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_params_are_found() {
        assert_eq!(
            path_params("/api/{user_id}/tasks/{id}"),
            vec!["user_id".to_owned(), "id".to_owned()]
        );
    }

    #[test]
    fn error_codes_accumulate() {
        let op = Operation::post("/x", "x", "x")
            .error(&[ErrorCode::InvalidEmail])
            .error(&[
                ErrorCode::BadRequest,
                ErrorCode::InvalidEmail,
                ErrorCode::Unauthorized,
            ]);
        let v = op.to_json();
        assert_eq!(
            v["responses"]["400"]["x-error-codes"],
            json!(["INVALID_EMAIL", "BAD_REQUEST"])
        );
        assert_eq!(
            v["responses"]["401"]["x-error-codes"],
            json!(["UNAUTHORIZED"])
        );
    }
}
