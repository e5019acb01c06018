//! The shared conformance cases (`conformance/cases/*.json` at the repository root, written by
//! `conformance/generate.py`): the Python and JavaScript packages run the same files, so the
//! three verifiers cannot drift. Each case builds a verifier from its `verifier` section with a
//! fixed clock at `now`, then verifies each step's token and compares the outcome by kind (the
//! vocabulary is in `conformance/README.md`). Remote-JWKS cases serve each step's
//! `jwks_response` from a loopback server and compare its request count with `fetches`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::Value;
use tessera_verify::{ManualClock, RevokedSessions, Verifier, VerifyError};
use tokio::net::TcpListener;

/// The stable name of each outcome, shared by the three implementations.
fn kind(error: &VerifyError) -> (&'static str, Option<&'static str>) {
    match error {
        VerifyError::Missing => ("missing", None),
        VerifyError::InvalidRequest(_) => ("invalid_request", None),
        VerifyError::Malformed(_) => ("malformed", None),
        VerifyError::BadSignature => ("bad_signature", None),
        VerifyError::Expired => ("expired", None),
        VerifyError::NotYetValid => ("not_yet_valid", None),
        VerifyError::IssuedInFuture => ("issued_in_future", None),
        VerifyError::WrongIssuer => ("wrong_issuer", None),
        VerifyError::WrongAudience => ("wrong_audience", None),
        VerifyError::WrongType => ("wrong_type", None),
        VerifyError::UnknownKey => ("unknown_key", None),
        VerifyError::AlgorithmNotAllowed => ("algorithm_not_allowed", None),
        VerifyError::MissingClaim(claim) => ("missing_claim", Some(claim)),
        VerifyError::InvalidClaim(claim) => ("invalid_claim", Some(claim)),
        VerifyError::Revoked => ("revoked", None),
        VerifyError::KeysUnavailable { .. } => ("keys_unavailable", None),
        _ => ("unexpected", None),
    }
}

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cases")
}

fn load_cases() -> Vec<Value> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("conformance/cases exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// Status, body and extra headers of the stub's answer.
type Answer = (u16, String, Vec<(String, String)>);

/// The loopback JWKS server of a remote case: answers what the current step says.
struct Stub {
    response: Mutex<Answer>,
    hits: AtomicUsize,
}

async fn answer(State(stub): State<Arc<Stub>>) -> Response {
    stub.hits.fetch_add(1, Ordering::SeqCst);
    let (status, body, headers) = stub.response.lock().unwrap().clone();
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in headers {
        response.headers_mut().insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

async fn start_stub() -> (String, Arc<Stub>) {
    let stub = Arc::new(Stub {
        response: Mutex::new((404, String::new(), Vec::new())),
        hits: AtomicUsize::new(0),
    });
    let router = Router::new()
        .route("/jwks", get(answer))
        .with_state(Arc::clone(&stub));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, stub)
}

fn build(case: &Value, remote_url: Option<&str>) -> Verifier {
    let v = &case["verifier"];
    let secs = |name: &str| Duration::from_secs(v[name].as_u64().unwrap());
    let mut builder = Verifier::builder()
        .issuer(v["issuer"].as_str().unwrap())
        .audiences(
            v["audiences"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap()),
        )
        .leeway(secs("leeway_seconds"))
        .max_lifetime(secs("max_lifetime_seconds"))
        .clock(Arc::new(ManualClock::new(case["now"].as_i64().unwrap())));
    let keys = &v["keys"];
    if let Some(secret) = keys["hs256_secret"].as_str() {
        builder = builder.hs256_secret(secret);
    } else if keys["jwks"].is_object() {
        builder = builder.jwks_json(&keys["jwks"].to_string());
    } else {
        let remote = &keys["remote_jwks"];
        builder = builder
            .remote_jwks(remote_url.unwrap())
            .jwks_cooldown(Duration::from_secs(
                remote["cooldown_seconds"].as_u64().unwrap(),
            ))
            .jwks_max_bytes(usize::try_from(remote["max_bytes"].as_u64().unwrap()).unwrap())
            .jwks_refresh_interval(Duration::ZERO)
            .http_timeout(Duration::from_secs(5));
    }
    if let Some(revoked) = v["revoked_sessions"].as_array() {
        let set = RevokedSessions::new();
        for sid in revoked {
            set.insert(sid.as_str().unwrap());
        }
        builder = builder.revocation(Arc::new(set));
    }
    builder.build().unwrap()
}

/// `None` when the outcome is the expected one, else what differs.
fn compare(
    expect: &Value,
    outcome: &Result<tessera_verify::Claims, VerifyError>,
) -> Option<String> {
    match (expect["ok"].as_bool().unwrap(), outcome) {
        (true, Ok(claims)) => {
            let sub_ok = expect["sub"].as_str() == Some(claims.sub.as_str());
            let sid_ok = expect["sid"].as_str() == claims.sid.as_deref();
            (!(sub_ok && sid_ok))
                .then(|| format!("accepted with sub {:?} sid {:?}", claims.sub, claims.sid))
        }
        (true, Err(error)) => Some(format!("refused: {error:?}")),
        (false, Ok(_)) => Some("accepted".into()),
        (false, Err(error)) => {
            let (got, claim) = kind(error);
            let want = expect["error"].as_str().unwrap();
            let want_claim = expect["claim"].as_str();
            (got != want || (want_claim.is_some() && want_claim != claim))
                .then(|| format!("refused as {got} {claim:?}, expected {want} {want_claim:?}"))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shared_conformance_case_has_the_expected_outcome() {
    let cases = load_cases();
    assert!(cases.len() >= 100, "only {} cases found", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let remote = case["verifier"]["keys"]["remote_jwks"].is_object();
        let stub = if remote {
            Some(start_stub().await)
        } else {
            None
        };
        let verifier = build(case, stub.as_ref().map(|(url, _)| url.as_str()));
        for (index, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            if let (Some((_, stub)), Some(r)) = (&stub, step["jwks_response"].as_object()) {
                let headers = r
                    .get("headers")
                    .and_then(Value::as_object)
                    .map(|h| {
                        h.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                *stub.response.lock().unwrap() = (
                    u16::try_from(r["status"].as_u64().unwrap()).unwrap(),
                    r["body"].as_str().unwrap().to_owned(),
                    headers,
                );
            }
            let token = step["token"].as_str().unwrap();
            let outcome = tokio::time::timeout(Duration::from_secs(10), verifier.verify(token))
                .await
                .expect("verification is time-bounded");
            if let Some(problem) = compare(&step["expect"], &outcome) {
                failures.push(format!("{name} step {index}: {problem}"));
            }
            if let (Some((_, stub)), Some(want)) = (&stub, step["fetches"].as_u64()) {
                let got = stub.hits.load(Ordering::SeqCst) as u64;
                if got != want {
                    failures.push(format!(
                        "{name} step {index}: {got} JWKS fetches, expected {want}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
}
