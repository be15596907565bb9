//! `/metrics` on the main address, which faces Entra and the internet: served only to bearers
//! of `SCIMD_METRICS_TOKEN` (without one configured, not at all), and its labels cannot be
//! inflated with made-up HTTP methods.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::Value;

use crate::support::{Backend, METRICS_TOKEN, TOKEN, TestApp, TestDb, settings};

async fn scrape(app: &TestApp, bearer: Option<&str>) -> crate::support::TestResponse {
    let mut req = Request::get("/metrics");
    if let Some(bearer) = bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

async fn the_main_address_serves_metrics_only_to_bearers_of_the_metrics_token(backend: Backend) {
    let app = TestApp::new(backend).await;
    for bearer in [None, Some(TOKEN), Some("test-metrics-token-012345678X")] {
        let refused = scrape(&app, bearer).await;
        assert_eq!(refused.status, 401, "{bearer:?}");
        assert_eq!(
            refused.header("www-authenticate"),
            Some("Bearer realm=\"scimd metrics\"")
        );
        assert_eq!(
            refused.body,
            Value::from("send Authorization: Bearer <SCIMD_METRICS_TOKEN> to read the metrics\n")
        );
    }
    let served = scrape(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(served.status, 200);
    assert_eq!(
        served.header("content-type"),
        Some("text/plain; version=0.0.4")
    );
    // without a token, and without an address of their own, they are not served here at all
    let db = TestDb::new(backend).await;
    let mut config = settings(&db.url);
    config.metrics_token = None;
    let closed = TestApp::configured(db, config).await;
    for bearer in [None, Some(METRICS_TOKEN)] {
        let answer = scrape(&closed, bearer).await;
        assert_eq!(answer.status, 404);
        assert!(
            answer
                .body
                .as_str()
                .unwrap()
                .starts_with("metrics are not served on this address: set SCIMD_METRICS_LISTEN"),
            "{}",
            answer.body
        );
    }
}

async fn two_hundred_made_up_methods_add_no_series(backend: Backend) {
    let app = TestApp::new(backend).await;
    for n in 0..200 {
        let method = Method::from_bytes(format!("M{n}X").as_bytes()).unwrap();
        let answer = app
            .send(
                Request::builder()
                    .method(method)
                    .uri("/scim/v2/Users")
                    .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(answer.status, 405);
    }
    let text = scrape(&app, Some(METRICS_TOKEN)).await.body;
    let text = text.as_str().unwrap();
    let methods: std::collections::BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("scimd_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1)?.split('"').next())
        .collect();
    let routed = [
        "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "other",
    ];
    assert!(
        methods.iter().all(|m| routed.contains(m)),
        "methods counted: {methods:?}"
    );
    assert!(methods.contains("other"), "{methods:?}");
    assert!(!text.contains("M17X"));
}

crate::on_both_stores!(
    the_main_address_serves_metrics_only_to_bearers_of_the_metrics_token,
    two_hundred_made_up_methods_add_no_series,
);
