//! The activity log holds no value of a refused request, whatever the value holds: a quote in
//! it (which once ended the hiding of values), an id that is not one, a value inside a PATCH
//! path's filter, a NUL character. What it keeps is the attribute's name and scimd's reason.

use axum::body::Body;
use axum::http::{Method, Request, header};
use scimd::domain::activity::ActivityFilter;
use serde_json::{Value, json};

use crate::support::{Backend, TOKEN, TestApp, encode};

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> u16 {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/scim+json");
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    app.send(req.body(body).unwrap()).await.status.as_u16()
}

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn refusals_are_logged_with_names_and_reasons_and_never_a_value(backend: Backend) {
    let app = TestApp::new(backend).await;
    let obrien = "o'brien@contoso.com";
    let created = app
        .post("/scim/v2/Users", json!({"userName": obrien}))
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let refused = [
        (
            Method::POST,
            "/scim/v2/Users".to_owned(),
            Some(json!({"userName": obrien})),
        ),
        (
            Method::GET,
            "/scim/v2/Users/jane@contoso.com".to_owned(),
            None,
        ),
        (Method::GET, "/scim/v2/Users/%00jane".to_owned(), None),
        (
            Method::POST,
            "/scim/v2/Users".to_owned(),
            Some(json!({"userName": "x", "emails": [{"value": "o\"hagan\u{0}@x.org"}]})),
        ),
        (
            Method::PATCH,
            format!("/scim/v2/Users/{id}"),
            Some(json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "emails[value eq \"secret'@x.org\"].bogus", "value": 1}]})),
        ),
        (
            Method::PATCH,
            format!("/scim/v2/Users/{id}"),
            Some(json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "active", "value": "maybe-o'neil"}]})),
        ),
        (
            Method::GET,
            format!(
                "/scim/v2/Users?filter={}",
                encode("userName eq \"o'reilly@x.org\" and")
            ),
            None,
        ),
        (
            Method::POST,
            "/scim/v2/Groups".to_owned(),
            Some(json!({"displayName": "g", "members": [{"value": "o'malley@x.org"}]})),
        ),
    ];
    for (method, path, body) in refused.clone() {
        let status = call(&app, method.clone(), &path, body).await;
        assert!((400..500).contains(&status), "{method} {path}: {status}");
    }
    let filter = ActivityFilter {
        refused: true,
        limit: 100,
        ..Default::default()
    };
    let rows = app
        .state
        .directory
        .activity("default", &filter)
        .await
        .unwrap();
    assert_eq!(
        rows.len(),
        refused.len(),
        "every refusal is recorded: {rows:#?}"
    );
    let notes: Vec<String> = rows.iter().map(|r| r.note()).collect();
    assert_eq!(
        notes,
        [
            "uniqueness: userName: the value is taken",
            "not found",
            "not found",
            "invalidValue: emails.value: contains a NUL character",
            "invalidPath: the path is not valid",
            "invalidValue: active: has a value of the wrong type",
            "invalidFilter: the filter is not valid",
            "invalidValue: members: a member is not a User or Group of this tenant",
        ]
    );
    let stored = format!("{rows:?}").to_lowercase();
    for value in [
        "brien", "jane", "hagan", "secret", "neil", "reilly", "malley", "\\u{0}",
    ] {
        assert!(!stored.contains(value), "{value} is in the log: {stored}");
    }
}

crate::on_both_stores!(refusals_are_logged_with_names_and_reasons_and_never_a_value);
