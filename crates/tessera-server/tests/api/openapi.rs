//! The OpenAPI document (`/api/openapi.json`) and the docs page (`/api/docs`): the document is
//! OpenAPI 3.1, lists exactly the routes the server mounts, every documented operation is
//! served, undocumented methods are refused, and no handler is registered outside the
//! documented route tables. The docs page is self-contained under a strict CSP.

use std::collections::BTreeSet;
use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn fetch_document(app: &TestApp) -> Value {
    let res = app
        .request(Method::GET, "/api/openapi.json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).expect("the document is JSON")
}

/// Every (METHOD, path) of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((m.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// A concrete URL for a path template.
fn concrete(path: &str) -> String {
    path.replace("{user_id}", "u1234567890abcdefghijklmnopqrstu")
        .replace("{id}", "t1234567890abcdefghijklmnopqrstu")
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_schemas_and_error_codes() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;

    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    for scheme in ["sessionCookie", "sessionBearer", "accessToken"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object());
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["sessionCookie"]["name"],
        SESSION_COOKIE
    );
    // every $ref resolves
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").expect("local ref");
        assert!(doc["components"]["schemas"][name].is_object(), "{r}");
    }
    // operation ids are unique, every operation answers something and says who may call it
    let mut ids = BTreeSet::new();
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.to_ascii_lowercase()];
        assert!(ids.insert(op["operationId"].as_str().unwrap().to_owned()));
        assert!(op["security"].is_array(), "{method} {path}: security");
        assert!(!op["responses"].as_object().unwrap().is_empty());
    }
    // spot checks of bodies, constraints and error codes
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["SignUpRequest"]["properties"]["password"]["minLength"],
        8
    );
    assert_eq!(
        schemas["SignUpRequest"]["properties"]["password"]["maxLength"],
        128
    );
    assert_eq!(
        schemas["CreateTaskRequest"]["properties"]["title"]["maxLength"],
        200
    );
    assert_eq!(
        schemas["CreateTaskRequest"]["properties"]["description"]["maxLength"],
        2000
    );
    assert_eq!(
        schemas["User"]["properties"]["createdAt"]["format"],
        "date-time"
    );
    let sign_up = &doc["paths"]["/api/auth/sign-up/email"]["post"];
    let codes = |op: &Value, status: &str| -> Vec<String> {
        serde_json::from_value(op["responses"][status]["x-error-codes"].clone()).unwrap()
    };
    for c in [
        "VALIDATION_ERROR",
        "PASSWORD_TOO_SHORT",
        "PASSWORD_COMPROMISED",
    ] {
        assert!(codes(sign_up, "400").contains(&c.to_owned()), "{c}");
    }
    assert_eq!(
        codes(sign_up, "422"),
        ["USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"]
    );
    assert!(codes(sign_up, "429").contains(&"TOO_MANY_REQUESTS".to_owned()));
    let sign_in = &doc["paths"]["/api/auth/sign-in/email"]["post"];
    assert!(codes(sign_in, "401").contains(&"INVALID_EMAIL_OR_PASSWORD".to_owned()));
    let task = &doc["paths"]["/api/{user_id}/tasks/{id}"]["get"];
    assert_eq!(task["security"][0]["accessToken"], serde_json::json!([]));
    assert!(codes(task, "403").contains(&"FORBIDDEN".to_owned()));
    assert!(codes(task, "404").contains(&"NOT_FOUND".to_owned()));
}

#[tokio::test]
async fn the_document_lists_every_route_the_server_mounts() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;

    let mounted: BTreeSet<(String, String)> = tessera_server::documented_operations(true, true)
        .iter()
        .map(|op| {
            (
                op.verb().as_str().to_ascii_uppercase(),
                op.path().to_owned(),
            )
        })
        .collect();
    assert_eq!(operations(&doc), mounted);
    for (method, path) in [
        ("POST", "/api/auth/sign-up/email"),
        ("POST", "/api/auth/sign-in/email"),
        ("POST", "/api/auth/sign-out"),
        ("GET", "/api/auth/get-session"),
        ("GET", "/api/auth/token"),
        ("GET", "/api/auth/jwks"),
        ("GET", "/api/auth/ok"),
        ("GET", "/api/auth/list-sessions"),
        ("POST", "/api/auth/revoke-session"),
        ("POST", "/api/auth/revoke-sessions"),
        ("POST", "/api/auth/revoke-other-sessions"),
        ("POST", "/api/auth/change-password"),
        ("POST", "/api/auth/refresh"),
        ("GET", "/api/auth/revocations"),
        ("GET", "/api/{user_id}/tasks"),
        ("POST", "/api/{user_id}/tasks"),
        ("GET", "/api/{user_id}/tasks/{id}"),
        ("PUT", "/api/{user_id}/tasks/{id}"),
        ("DELETE", "/api/{user_id}/tasks/{id}"),
        ("PATCH", "/api/{user_id}/tasks/{id}/complete"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/api/openapi.json"),
        ("GET", "/api/docs"),
    ] {
        assert!(
            mounted.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is not documented"
        );
    }
}

#[tokio::test]
async fn every_documented_operation_is_served_and_other_methods_are_refused() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;
    let ops = operations(&doc);

    for (method, path) in &ops {
        let res = app
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &concrete(path),
            )
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(
            status != StatusCode::NOT_FOUND || body["code"] == "NOT_FOUND" && path.contains("{id}"),
            "{method} {path}: {status} {body}"
        );
        assert_ne!(body["code"], "METHOD_NOT_ALLOWED", "{method} {path}");
    }
    let paths: BTreeSet<&String> = ops.iter().map(|(_, p)| p).collect();
    for path in paths {
        for m in METHODS {
            let upper = m.to_ascii_uppercase();
            if ops.contains(&(upper.clone(), path.clone())) {
                continue;
            }
            let res = app
                .request(
                    Method::from_bytes(upper.as_bytes()).unwrap(),
                    &concrete(path),
                )
                .send()
                .await
                .unwrap();
            assert_error(res, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
        }
    }
}

/// Handlers are registered only through `openapi::Routes` (which documents them). The
/// exceptions: the route-table module itself and the web UI's HTML pages and assets, which
/// are not API endpoints (the document says so).
#[test]
fn no_route_is_registered_outside_the_documented_route_tables() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    assert!(files.len() > 10);
    let exempt = [
        src.join("openapi").join("mod.rs"),
        src.join("ui").join("mod.rs"),
    ];
    for file in files.iter().filter(|f| !exempt.contains(f)) {
        let text = std::fs::read_to_string(file).unwrap();
        for needle in [
            ".route(",
            ".route_service(",
            ".nest_service(",
            "routing::get",
            "routing::post",
            "routing::{",
        ] {
            assert!(
                !text.contains(needle),
                "{} registers a route outside openapi::Routes ({needle})",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn the_docs_page_loads_same_origin_assets_under_a_strict_policy() {
    let app = spawn_app().await;

    let res = app.request(Method::GET, "/api/docs").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        header(&res, "content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let csp = header(&res, "content-security-policy").unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("http"));
    let html = res.text().await.unwrap();
    assert!(!html.contains("<style") && !html.contains("style="));

    // every src/href is a same-origin absolute path, and every asset is served
    let mut urls = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            urls.push(part.split('"').next().unwrap().to_owned());
        }
    }
    assert!(urls.len() >= 3, "{urls:?}");
    for url in &urls {
        assert!(url.starts_with('/') && !url.starts_with("//"), "{url}");
        let res = app.request(Method::GET, url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let ct = header(&res, "content-type").unwrap();
        let body = res.text().await.unwrap();
        if url.ends_with(".js") {
            assert!(ct.starts_with("text/javascript"));
            assert!(!body.contains("http://") && !body.contains("https://"));
            assert!(!body.contains("innerHTML") && !body.contains("eval("));
        }
        if url.ends_with(".css") {
            assert!(ct.starts_with("text/css"));
            assert!(!body.contains("@import") && !body.contains("url("));
        }
    }
    // each inline <script> is external: no inline code
    for part in html.split("<script").skip(1) {
        let open_tag_end = part.find('>').unwrap();
        assert!(part[..open_tag_end].contains("src=\"/"));
        assert!(
            part[open_tag_end + 1..]
                .trim_start()
                .starts_with("</script>")
        );
    }
}

/// What the document says an operation requires is what is mounted (its handler's
/// extractors): every operation documented as needing a session, an access token or the
/// feed secret refuses a caller without one, whatever the body.
#[tokio::test]
async fn every_operation_documented_as_needing_credentials_refuses_an_anonymous_caller() {
    let app = spawn_app_with(|s| {
        s.security.revocations_secret = Some(FEED_SECRET.as_bytes().to_vec().into());
    })
    .await;
    let doc = fetch_document(&app).await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let schemes: Vec<String> = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|req| req.as_object())
                .flat_map(|req| req.keys().cloned().collect::<Vec<_>>())
                .collect();
            let anonymous_allowed = op["security"].as_array().is_none_or(|a| {
                a.is_empty()
                    || a.iter()
                        .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            if anonymous_allowed || schemes.is_empty() {
                continue;
            }
            let method = Method::from_bytes(m.to_ascii_uppercase().as_bytes()).unwrap();
            let mut rb = app.request(method, &concrete(path));
            if m != "get" && m != "delete" {
                rb = rb.header("content-type", "application/json").body("{}");
            }
            let res = rb.send().await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::UNAUTHORIZED,
                "{m} {path} is documented as needing {schemes:?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} operations need credentials?");
}
