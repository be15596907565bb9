//! `GET /metrics`: the Prometheus series exist and move with requests. The recorder is one per
//! process, shared by the tests running at once, so each test reads a series before and after
//! and uses a tenant of its own where a label can tell.

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::Value;

use crate::support::{Backend, METRICS_TOKEN, TestApp, encode, entra_user};

pub async fn scrape(app: &TestApp) -> String {
    let answer = app
        .send(
            Request::get("/metrics")
                .header(header::AUTHORIZATION, format!("Bearer {METRICS_TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; version=0.0.4")
    );
    match answer.body {
        Value::String(text) => text,
        // nothing recorded yet in this process
        Value::Null => String::new(),
        other => panic!("not text: {other}"),
    }
}

/// The value of the series `name` whose labels include every one of `labels`.
pub fn value(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| labels.iter().all(|want| l.contains(want)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn request_provisioning_and_store_series_exist_and_move(backend: Backend) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    let tenant = format!("metrics-{}", uuid::Uuid::new_v4().simple());
    dir.create_tenant(&tenant).await.unwrap();
    let token = dir.issue_token(&tenant, None).await.unwrap().token;
    let before = scrape(&app).await;
    let created = |b: &str| {
        value(
            b,
            "scimd_http_requests_total",
            &[
                "route=\"/scim/v2/Users\"",
                "status=\"201\"",
                "method=\"POST\"",
            ],
        )
    };
    let post = Request::post("/scim/v2/Users")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .body(Body::from(entra_user("metrics@example.com").to_string()))
        .unwrap();
    assert_eq!(app.send(post).await.status, 201);
    let lookup = Request::get(format!(
        "/scim/v2/Users?filter={}",
        encode("userName eq \"nobody\"")
    ))
    .header(header::AUTHORIZATION, format!("Bearer {token}"))
    .body(Body::empty())
    .unwrap();
    assert_eq!(app.send(lookup).await.status, 200);
    dir.report_pool();
    let after = scrape(&app).await;

    assert!(created(&after) >= created(&before) + 1.0);
    let t = format!("tenant=\"{tenant}\"");
    assert_eq!(
        value(
            &after,
            "scimd_provisioning_operations_total",
            &[&t, "operation=\"create\"", "outcome=\"success\""]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "scimd_provisioning_operations_total",
            &[&t, "operation=\"search\"", "outcome=\"success\""]
        ),
        1.0
    );
    assert!(
        value(
            &after,
            "scimd_http_request_duration_seconds_count",
            &["route=\"/scim/v2/Users\""]
        ) >= 2.0
    );
    assert!(
        after.contains(
            "scimd_http_request_duration_seconds_bucket{route=\"/scim/v2/Users\",le=\"0.005\"}"
        ),
        "{after}"
    );
    let cache = |b: &str| value(b, "scimd_token_cache_total", &[]);
    assert!(
        cache(&after) >= cache(&before) + 2.0,
        "each request asks the token cache"
    );
    let rows = |b: &str| value(b, "scimd_activity_rows_total", &["kind=\"change\""]);
    assert!(rows(&after) >= rows(&before) + 1.0);
    assert!(value(&after, "scimd_store_pool_connections", &["state=\"open\""]) >= 1.0);
}

crate::on_both_stores!(request_provisioning_and_store_series_exist_and_move);
