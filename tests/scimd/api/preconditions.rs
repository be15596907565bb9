//! `If-Match` and `If-None-Match` as RFC 7232 §3.1–3.2 define them for SCIM's weak ETags
//! (RFC 7644 §3.14): `*`, lists of tags, and tags scimd never issued.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{Backend, TOKEN, TestApp, TestResponse};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A user `name` at version 1; its path.
async fn user(app: &TestApp, name: &str) -> String {
    let created = app.post("/scim/v2/Users", json!({"userName": name})).await;
    format!("/scim/v2/Users/{}", created.body["id"].as_str().unwrap())
}

async fn with(
    app: &TestApp,
    method: Method,
    path: &str,
    header: (&str, &str),
    body: Option<Value>,
) -> TestResponse {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .header(header.0, header.1)
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    app.send(req).await
}

fn title(value: &str) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": value}]})
}

async fn if_match_with_a_tag_scimd_never_issued_is_412_and_changes_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let path = user(&app, "frank").await;
    let before = app.get(&path).await.body;
    let id = before["id"].as_str().unwrap();
    let expected = format!(
        "User {id} is at version W/\"1\", which If-Match does not name; read it again and retry"
    );
    let stale = ("if-match", "W/\"stale-0f3c\"");
    let patched = with(&app, Method::PATCH, &path, stale, Some(title("x"))).await;
    assert_eq!(patched.assert_scim_error(412, None), expected);
    let put = json!({"userName": "frank", "title": "x"});
    let replaced = with(&app, Method::PUT, &path, stale, Some(put)).await;
    assert_eq!(replaced.assert_scim_error(412, None), expected);
    let deleted = with(&app, Method::DELETE, &path, stale, None).await;
    assert_eq!(deleted.assert_scim_error(412, None), expected);
    assert_eq!(app.get(&path).await.body, before);
}

async fn if_match_star_or_a_list_naming_the_current_version_lets_the_write_through(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let path = user(&app, "grace").await;
    let listed = ("if-match", "W/\"7\", W/\"1\"");
    let patched = with(&app, Method::PATCH, &path, listed, Some(title("a"))).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.header("etag"), Some("W/\"2\""));
    let any = with(
        &app,
        Method::PATCH,
        &path,
        ("if-match", "*"),
        Some(title("b")),
    )
    .await;
    assert_eq!(any.status, StatusCode::OK, "{}", any.body);
    assert_eq!(any.body["title"], "b");
    let strong = with(&app, Method::DELETE, &path, ("if-match", "\"3\""), None).await;
    assert_eq!(strong.status, StatusCode::NO_CONTENT);
    let gone = with(&app, Method::DELETE, &path, ("if-match", "*"), None).await;
    gone.assert_scim_error(404, None);
}

async fn if_none_match_star_or_a_list_naming_the_current_version_is_304(backend: Backend) {
    let app = TestApp::new(backend).await;
    let path = user(&app, "heidi").await;
    for tags in ["*", "W/\"9\", W/\"1\""] {
        let read = with(&app, Method::GET, &path, ("if-none-match", tags), None).await;
        assert_eq!(read.status, StatusCode::NOT_MODIFIED, "{tags}");
        assert_eq!(read.header("etag"), Some("W/\"1\""), "{tags}");
        assert_eq!(read.body, Value::Null, "{tags}");
    }
    let other = with(&app, Method::GET, &path, ("if-none-match", "W/\"x\""), None).await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.body["userName"], "heidi");
}

async fn a_precondition_that_is_no_entity_tag_is_400_and_changes_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let path = user(&app, "ivan").await;
    for text in ["1", "W/1", "\"1"] {
        let res = with(
            &app,
            Method::PATCH,
            &path,
            ("if-match", text),
            Some(title("x")),
        )
        .await;
        assert_eq!(
            res.assert_scim_error(400, None),
            "header if-match must be * or entity tags as sent in ETag, such as W/\"3\"",
            "{text}"
        );
    }
    assert!(app.get(&path).await.body.get("title").is_none());
}

crate::on_both_stores!(
    if_match_with_a_tag_scimd_never_issued_is_412_and_changes_nothing,
    if_match_star_or_a_list_naming_the_current_version_lets_the_write_through,
    if_none_match_star_or_a_list_naming_the_current_version_is_304,
    a_precondition_that_is_no_entity_tag_is_400_and_changes_nothing,
);
