//! Health endpoints and request ids.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::support::TestApp;

#[tokio::test]
async fn healthz_and_readyz_answer_without_a_token() {
    let app = TestApp::new().await;
    for path in ["/healthz", "/readyz"] {
        let res = app
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_request_id_is_echoed_or_generated() {
    let app = TestApp::new().await;
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

#[tokio::test]
async fn this_suite_runs_on_its_own_backend() {
    let app = TestApp::new().await;
    let scheme = match crate::BACKEND {
        crate::support::Backend::Postgres => "postgres://",
        crate::support::Backend::Sqlite => "sqlite://",
    };
    assert!(app.db.url.starts_with(scheme), "{}", app.db.url);
    let ready = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(ready.status, StatusCode::OK);
}
