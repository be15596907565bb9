//! What keeps scimd answering: a panic is a 500 SCIM error, the request beyond
//! `SCIMD_MAX_CONCURRENT_REQUESTS` is a 503 at once, a request longer than
//! `SCIMD_REQUEST_TIMEOUT` is a 503 and leaves nothing behind — each with `Retry-After`.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use futures_util::stream;
use serde_json::json;
use tokio::sync::oneshot;

use crate::support::{Backend, TOKEN, TestApp, TestDb, TestResponse, send, settings};

#[expect(clippy::panic, reason = "the panic the net must catch")]
async fn boom() -> &'static str {
    panic!("boom")
}

#[tokio::test]
async fn a_panic_in_a_handler_is_a_logged_500_scim_error_not_a_dropped_connection() {
    let router = scimd::http::guard::catch_panics(Router::new().route("/boom", get(boom)));
    let res = send(&router, Request::get("/boom").body(Body::empty()).unwrap()).await;
    assert_eq!(
        res.assert_scim_error(500, None),
        "internal error; the server log has the cause under this request's x-request-id"
    );
}

/// A body that tells `started` when the handler begins to read it, and ends (with `json`)
/// only when `finish` is told: the request stays in flight until then.
pub fn held_body(json: String) -> (Body, oneshot::Receiver<()>, oneshot::Sender<()>) {
    let (started, on_start) = oneshot::channel::<()>();
    let (finish, on_finish) = oneshot::channel::<()>();
    let chunks = stream::once(async move {
        let _ = started.send(());
        let _ = on_finish.await;
        Ok::<_, std::io::Error>(Bytes::from(json))
    });
    (Body::from_stream(chunks), on_start, finish)
}

fn create(body: Body) -> Request<Body> {
    Request::post("/scim/v2/Users")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .body(body)
        .unwrap()
}

#[track_caller]
fn assert_unavailable(res: &TestResponse, detail: &str) {
    assert_eq!(res.assert_scim_error(503, None), detail);
    assert_eq!(res.header("retry-after"), Some("5"));
}

async fn a_request_beyond_the_concurrency_limit_is_503_at_once_and_the_first_completes(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let mut config = settings(&db.url);
    config.max_concurrent_requests = 1;
    let app = TestApp::configured(db, config).await;
    let (body, started, finish) = held_body(json!({"userName": "first"}).to_string());
    let router = app.router.clone();
    let first = tokio::spawn(async move { send(&router, create(body)).await });
    started.await.unwrap();

    let second = app
        .post("/scim/v2/Users", json!({"userName": "second"}))
        .await;
    assert_unavailable(
        &second,
        "scimd is serving its maximum of 1 requests at once; retry later",
    );
    let _ = finish.send(());
    assert_eq!(first.await.unwrap().status, StatusCode::CREATED);
    let again = app
        .post("/scim/v2/Users", json!({"userName": "second"}))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
}

async fn a_request_beyond_the_time_limit_is_503_and_leaves_nothing_behind(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = settings(&db.url);
    config.request_timeout = std::time::Duration::from_secs(1);
    let app = TestApp::configured(db, config).await;
    // the body never ends: the request outlives its second
    let (body, _started, _finish) = held_body(json!({"userName": "slow"}).to_string());
    let res = app.send(create(body)).await;
    assert_unavailable(&res, "the request took longer than 1 s; retry later");
    let users = app.get("/scim/v2/Users").await;
    assert_eq!(users.body["totalResults"], 0);
}

crate::on_both_stores!(
    a_request_beyond_the_concurrency_limit_is_503_at_once_and_the_first_completes,
    a_request_beyond_the_time_limit_is_503_and_leaves_nothing_behind,
);
