//! Health endpoints and request ids.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::support::{Backend, TestApp};

async fn healthz_and_readyz_answer_without_a_token(backend: Backend) {
    let app = TestApp::new(backend).await;
    for path in ["/healthz", "/readyz"] {
        let res = app
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
    }
}

async fn a_request_id_is_echoed_or_generated(backend: Backend) {
    let app = TestApp::new(backend).await;
    let given = app
        .send(
            Request::get("/healthz")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(given.header("x-request-id"), Some("abc-123"));
    let generated = app.get("/scim/v2/Users").await;
    let id = generated.header("x-request-id").unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

async fn each_test_runs_on_the_store_it_names(backend: Backend) {
    let app = TestApp::new(backend).await;
    let scheme = match backend {
        Backend::Postgres => "postgres://",
        Backend::Sqlite => "sqlite://",
    };
    assert!(app.db.url.starts_with(scheme), "{}", app.db.url);
    let ready = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(ready.status, StatusCode::OK);
}

crate::on_both_stores!(
    healthz_and_readyz_answer_without_a_token,
    a_request_id_is_echoed_or_generated,
    each_test_runs_on_the_store_it_names,
);
