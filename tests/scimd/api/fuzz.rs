//! Hostile requests, generated: paths, query parameters, headers, resource bodies and PATCH
//! operations built from SCIM-ish atoms and arbitrary Unicode (NUL, `€`, emoji, quotes,
//! brackets). Every answer must be below 500, a 4xx must be a SCIM error, and a refused
//! request must leave the directory as it was. `SCIMD_FUZZ_CASES` sets the number of requests
//! per store (default 300, a few seconds).

use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Method, Request, header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

use crate::support::{Backend, TOKEN, TestApp, TestResponse, encode};

/// Text with the characters that broke servers before: multi-byte, NUL, quotes, brackets.
fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("€€".to_owned()),
        Just("\u{0}".to_owned()),
        Just("a\u{0}b".to_owned()),
        Just("🙂é\u{301}".to_owned()),
        Just("\"]) or (x pr".to_owned()),
        Just("'; drop table resources; --".to_owned()),
        Just("urn:ietf:params:scim:schemas:core:2.0:User:".to_owned()),
        Just("x".repeat(5000)),
        "\\PC{0,12}",
        any::<String>().prop_map(|s| s.chars().take(40).collect()),
    ]
}

const ATTRIBUTES: [&str; 14] = [
    "userName",
    "displayName",
    "emails",
    "emails.value",
    "emails[type eq \"work\"].value",
    "name.givenName",
    "members",
    "members[value eq \"x\"]",
    "active",
    "roles",
    "manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "meta.lastModified",
    "id",
];

fn attribute() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(&ATTRIBUTES[..]).prop_map(str::to_owned),
        1 => nasty(),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        nasty().prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        Just(json!("True")),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((attribute(), inner), 0..5)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn resource_body() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(nasty()),
        proptest::collection::vec((attribute(), value()), 0..6),
    )
        .prop_map(|(name, extra)| {
            let mut body: Map<String, Value> = extra.into_iter().collect();
            if let Some(name) = name {
                body.insert("userName".into(), Value::String(name.clone()));
                body.insert("displayName".into(), Value::String(name));
            }
            Value::Object(body)
        })
}

fn patch_body() -> impl Strategy<Value = Value> {
    let op = (
        proptest::sample::select(&["add", "Replace", "remove", "REMOVE", "copy"][..]),
        proptest::option::of(attribute()),
        proptest::option::of(value()),
    )
        .prop_map(|(op, path, value)| {
            let mut o = json!({"op": op});
            if let Some(path) = path {
                o["path"] = Value::String(path);
            }
            if let Some(value) = value {
                o["value"] = value;
            }
            o
        });
    prop_oneof![
        4 => proptest::collection::vec(op, 0..6).prop_map(|ops| json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": ops
        })),
        1 => value(),
    ]
}

/// One generated request, as data.
#[derive(Debug, Clone)]
struct Hostile {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    if_match: Option<String>,
    content_type: Option<&'static str>,
    body: Option<Value>,
}

fn hostile(ids: (String, String)) -> impl Strategy<Value = Hostile> {
    let (user, group) = ids;
    let path = prop_oneof![
        Just("/scim/v2/Users".to_owned()),
        Just("/scim/v2/Groups".to_owned()),
        Just(format!("/scim/v2/Users/{user}")),
        Just(format!("/scim/v2/Groups/{group}")),
        Just("/scim/v2/Users/.search".to_owned()),
        Just("/scim/v2/.search".to_owned()),
        Just("/scim/v2/".to_owned()),
        nasty().prop_map(|s| format!("/scim/v2/Users/{}", encode(&s))),
        nasty().prop_map(|s| format!("/scim/v2/Schemas/{}", encode(&s))),
    ];
    let parameter = (
        prop_oneof![
            proptest::sample::select(
                &[
                    "filter",
                    "sortBy",
                    "sortOrder",
                    "startIndex",
                    "count",
                    "cursor",
                    "attributes",
                    "excludedAttributes"
                ][..]
            )
            .prop_map(str::to_owned),
            nasty(),
        ],
        prop_oneof![
            attribute(),
            nasty(),
            any::<i64>().prop_map(|n| n.to_string())
        ],
    );
    (
        proptest::sample::select(
            &[
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ][..],
        ),
        path,
        proptest::collection::vec(parameter, 0..4),
        proptest::option::of(prop_oneof![
            nasty(),
            Just("W/\"1\"".to_owned()),
            Just("*".to_owned())
        ]),
        proptest::sample::select(
            &[
                Some("application/scim+json"),
                Some("application/json"),
                Some("text/plain"),
                None,
            ][..],
        ),
        prop_oneof![resource_body(), patch_body()],
    )
        .prop_map(|(method, path, query, if_match, content_type, body)| {
            let body = (method != Method::GET && method != Method::DELETE).then_some(body);
            Hostile {
                method,
                path,
                query,
                if_match,
                content_type,
                body,
            }
        })
}

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
