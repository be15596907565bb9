//! Hostile requests, generated (`strategies`): paths, query parameters, headers, resource bodies
//! and PATCH operations built from SCIM-ish atoms and arbitrary Unicode (NUL, `€`, emoji, quotes,
//! brackets), member names cut by a NUL or a quote at the top level, in extension objects and in
//! complex values. Every answer must be below 500, a 4xx must be a SCIM error, an accepted one
//! holds no NUL, and a refused request must leave the directory as it was. `SCIMD_FUZZ_CASES` sets the number of requests
//! per store (default 300, a few seconds).

pub mod strategies;

use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Request, header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::support::{Backend, TOKEN, TestApp, TestResponse, encode};

use strategies::{Hostile, hostile};

fn request(h: &Hostile) -> Request<Body> {
    let query: Vec<String> = h
        .query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let uri = match query.is_empty() {
        true => h.path.clone(),
        false => format!("{}?{}", h.path, query.join("&")),
    };
    let mut req = Request::builder()
        .method(h.method.clone())
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if let Some(tag) = h
        .if_match
        .as_ref()
        .filter(|t| header::HeaderValue::from_str(t).is_ok())
    {
        req = req.header(header::IF_MATCH, tag.as_str());
    }
    if let Some(ct) = h.content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    let body = h
        .body
        .as_ref()
        .map_or_else(Body::empty, |b| Body::from(b.to_string()));
    req.body(body).expect("a request")
}

/// Everything the directory holds, as the API shows it.
async fn directory(app: &TestApp) -> (Value, Value) {
    let users = app.get("/scim/v2/Users?count=1000").await.body;
    let groups = app.get("/scim/v2/Groups?count=1000").await.body;
    (users, groups)
}

fn check(h: &Hostile, res: &TestResponse) -> Result<(), TestCaseError> {
    let status = res.status.as_u16();
    prop_assert!(status < 500, "{h:?} → {status}: {}", res.body);
    if status >= 400 {
        prop_assert_eq!(
            res.header("content-type"),
            Some("application/scim+json"),
            "{:?}",
            h
        );
        prop_assert_eq!(
            &res.body["schemas"],
            &json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
            "{:?}",
            h
        );
        prop_assert_eq!(&res.body["status"], &json!(status.to_string()), "{:?}", h);
    } else {
        // what was accepted holds no NUL: a member name with one is dropped, a value refused
        prop_assert!(
            !res.body.to_string().contains("\\u0000"),
            "{h:?} → {status}: {}",
            res.body
        );
    }
    Ok(())
}

async fn hostile_requests_get_answers_below_500_and_refused_ones_change_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let user = app
        .post("/scim/v2/Users", json!({"userName": "seed"}))
        .await;
    let group = app
        .post("/scim/v2/Groups", json!({"displayName": "seed"}))
        .await;
    let ids = (
        user.body["id"].as_str().unwrap().to_owned(),
        group.body["id"].as_str().unwrap().to_owned(),
    );
    let cases = std::env::var("SCIMD_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let handle = tokio::runtime::Handle::current();
    let refused = AtomicU32::new(0);
    let result = tokio::task::block_in_place(|| {
        runner
            .run(&hostile(ids), |h| {
                handle.block_on(async {
                    let before = directory(&app).await;
                    let res = app.send(request(&h)).await;
                    check(&h, &res)?;
                    if res.status.as_u16() >= 400 {
                        refused.fetch_add(1, Ordering::Relaxed);
                        prop_assert_eq!(
                            directory(&app).await,
                            before,
                            "{:?} changed the directory",
                            h
                        );
                    }
                    Ok(())
                })
            })
            .map_err(|e| e.to_string())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let refused = refused.into_inner();
    assert!(
        refused >= cases / 4,
        "only {refused} of {cases} hostile requests were refused: the generator is too tame"
    );
}

crate::on_both_stores!(hostile_requests_get_answers_below_500_and_refused_ones_change_nothing);
