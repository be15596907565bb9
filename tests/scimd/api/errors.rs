//! Every error is a SCIM error (RFC 7644 §3.12) with the right status and `scimType`, and a
//! failed request changes nothing.

use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;

use crate::support::{Backend, TOKEN, TestApp};

fn raw(
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    req.body(body.into()).unwrap()
}

async fn malformed_json_is_400_invalid_syntax(backend: Backend) {
    let app = TestApp::new(backend).await;
    let res = app
        .send(raw(
            "POST",
            "/scim/v2/Users",
            Some("application/scim+json"),
            "{\"userName\": ",
        ))
        .await;
    let detail = res.assert_scim_error(400, Some("invalidSyntax"));
    assert!(
        detail.starts_with("the request body is not valid JSON"),
        "{detail}"
    );
    assert_eq!(app.get("/scim/v2/Users").await.body["totalResults"], 0);
}

async fn a_json_body_that_is_not_an_object_is_400_invalid_syntax(backend: Backend) {
    let app = TestApp::new(backend).await;
    let res = app
        .send(raw(
            "POST",
            "/scim/v2/Users",
            Some("application/json"),
            "\"junk\"",
        ))
        .await;
    let detail = res.assert_scim_error(400, Some("invalidSyntax"));
    assert_eq!(
        detail,
        "the request body must be a JSON object holding the resource"
    );
}

async fn wrong_types_are_400_invalid_value_naming_the_attribute(backend: Backend) {
    let app = TestApp::new(backend).await;
    let cases = [
        (json!({"userName": 5.5e300, "active": true}), None),
        (
            json!({"userName": "a", "active": "maybe"}),
            Some("attribute 'active' must be a boolean (true or false), not a string"),
        ),
        (
            json!({"userName": "a", "emails": [{"value": "x", "primary": 3}]}),
            Some("attribute 'emails[0].primary' must be a boolean (true or false), not a number"),
        ),
        (
            json!({"userName": {"first": "a"}}),
            Some("attribute 'userName' must be a string, not an object"),
        ),
        (
            json!({"name": {"givenName": "a"}}),
            Some("attribute 'userName' is required"),
        ),
    ];
    for (body, expected) in cases {
        let res = app.post("/scim/v2/Users", body.clone()).await;
        if let Some(expected) = expected {
            assert_eq!(
                res.assert_scim_error(400, Some("invalidValue")),
                expected,
                "{body}"
            );
        } else {
            // a number where a string belongs is kept as its text: accepted
            assert_eq!(res.status.as_u16(), 201, "{body}");
        }
    }
    assert_eq!(app.get("/scim/v2/Users").await.body["totalResults"], 1);
}

async fn an_unknown_route_is_404_and_a_wrong_method_is_405(backend: Backend) {
    let app = TestApp::new(backend).await;
    let missing = app.get("/scim/v2/Widgets").await;
    assert_eq!(
        missing.assert_scim_error(404, None),
        "no endpoint at /scim/v2/Widgets"
    );
    let outside = app.get("/nothing-here").await;
    outside.assert_scim_error(404, None);

    let patch_collection = app
        .send(raw(
            "PATCH",
            "/scim/v2/Users",
            Some("application/json"),
            "{}",
        ))
        .await;
    assert_eq!(
        patch_collection.assert_scim_error(405, None),
        "PATCH is not allowed on /scim/v2/Users"
    );
    for path in [
        "/scim/v2/ServiceProviderConfig",
        "/scim/v2/Schemas",
        "/scim/v2/ResourceTypes",
    ] {
        app.send(raw("POST", path, Some("application/json"), "{}"))
            .await
            .assert_scim_error(405, None);
        app.send(raw("DELETE", path, None, ""))
            .await
            .assert_scim_error(405, None);
    }
}

async fn a_body_over_the_limit_is_413(backend: Backend) {
    let app = TestApp::new(backend).await;
    let big = json!({"userName": "big", "nickName": "x".repeat(1024 * 1024 + 1)});
    let res = app.post("/scim/v2/Users", big).await;
    let detail = res.assert_scim_error(413, None);
    assert!(detail.contains("SCIMD_MAX_BODY_BYTES"), "{detail}");
    assert_eq!(app.get("/scim/v2/Users").await.body["totalResults"], 0);
}

async fn a_body_that_is_not_json_is_415(backend: Backend) {
    let app = TestApp::new(backend).await;
    let res = app
        .send(raw(
            "POST",
            "/scim/v2/Users",
            Some("text/plain"),
            "userName=a",
        ))
        .await;
    let detail = res.assert_scim_error(415, None);
    assert_eq!(
        detail,
        "content type 'text/plain' is not supported; send application/scim+json or application/json"
    );
}

async fn application_json_and_a_missing_content_type_are_accepted(backend: Backend) {
    let app = TestApp::new(backend).await;
    let json_ct = app
        .send(raw(
            "POST",
            "/scim/v2/Users",
            Some("application/json; charset=utf-8"),
            r#"{"userName":"a"}"#,
        ))
        .await;
    assert_eq!(json_ct.status.as_u16(), 201);
    let none = app
        .send(raw("POST", "/scim/v2/Users", None, r#"{"userName":"b"}"#))
        .await;
    assert_eq!(none.status.as_u16(), 201);
}

async fn a_non_numeric_count_is_400_naming_the_parameter(backend: Backend) {
    let app = TestApp::new(backend).await;
    let res = app.get("/scim/v2/Users?count=ten").await;
    assert_eq!(
        res.assert_scim_error(400, Some("invalidValue")),
        "query parameter 'count' must be an integer, not 'ten'"
    );
}

crate::on_both_stores!(
    malformed_json_is_400_invalid_syntax,
    a_json_body_that_is_not_an_object_is_400_invalid_syntax,
    wrong_types_are_400_invalid_value_naming_the_attribute,
    an_unknown_route_is_404_and_a_wrong_method_is_405,
    a_body_over_the_limit_is_413,
    a_body_that_is_not_json_is_415,
    application_json_and_a_missing_content_type_are_accepted,
    a_non_numeric_count_is_400_naming_the_parameter,
);
