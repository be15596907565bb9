//! Okta's account lifecycle ("Okta and SCIM Version 2.0"): Okta never deletes a user; it
//! deactivates it by `PATCH` `{"op": "replace", "value": {"active": false}}` (or a profile
//! `PUT` with `active: false`) and reactivates it the same way with `true`. The user keeps its
//! id throughout, is still listed and found by its `userName`, keeps its name taken, and each
//! change is a `deactivate` or `activate` event beside the request's own kind.

use axum::http::Method;
use serde_json::{Value, json};

use super::{app_with_events, call, events, of_request, patch_op, row};
use crate::support::{Backend, TestApp, encode};

const NAME: &str = "isabella.lopez@example.com";

/// Okta's user as it creates and `PUT`s it, with `active`.
fn okta_user(active: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": NAME,
        "name": {"givenName": "Isabella", "familyName": "Lopez"},
        "emails": [{"primary": true, "value": NAME, "type": "work"}],
        "displayName": "Isabella Lopez",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "active": active
    })
}

/// Okta's lookup by `userName`: the one user found, as listed.
async fn found(app: &TestApp) -> Value {
    let filter = encode(&format!("userName eq \"{NAME}\""));
    let res = app
        .get(&format!(
            "/scim/v2/Users?filter={filter}&startIndex=1&count=100"
        ))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.header("content-type"), Some("application/scim+json"));
    assert_eq!(res.body["totalResults"], 1, "{}", res.body);
    let all = app.get("/scim/v2/Users").await.body;
    assert_eq!(all["totalResults"], 1, "still listed: {all}");
    res.body["Resources"][0].clone()
}

/// Asserts the answer to an update: 200, the same id, `active`, the version, what a GET and
/// the lookup show; and the request's events and activity row.
async fn changed(app: &TestApp, answer: &crate::support::TestResponse, at: Expect<'_>) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("application/scim+json"));
    assert_eq!(answer.header("etag"), Some(at.version));
    assert_eq!(answer.body["id"], at.id);
    assert_eq!(answer.body["active"], at.active);
    assert_eq!(answer.body["meta"]["version"], at.version);
    let stored = app.get(&format!("/scim/v2/Users/{}", at.id)).await;
    assert_eq!(
        stored.body, answer.body,
        "what is stored is what was answered"
    );
    let listed = found(app).await;
    assert_eq!(
        (&listed["id"], &listed["active"]),
        (&json!(at.id), &json!(at.active))
    );
    let kind = if at.active { "activate" } else { "deactivate" };
    assert_eq!(
        of_request(&events(app).await, at.request),
        [(vec![at.method, kind], vec!["active".to_owned()])]
    );
    let noted = row(app, at.request).await;
    assert_eq!((noted.status, noted.deactivated), (200, !at.active));
}

struct Expect<'a> {
    request: &'a str,
    method: &'static str,
    id: &'a str,
    active: bool,
    version: &'a str,
}

async fn oktas_deactivate_and_reactivate_keep_the_id_and_the_user_listed(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    let created = call(
        &app,
        Method::POST,
        "/scim/v2/Users",
        "create",
        okta_user(true),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    assert_eq!(of_request(&events(&app).await, "create")[0].0, ["create"]);

    // deactivated by PATCH, in Okta's shape: a replace without a path
    let off = patch_op(json!([{"op": "replace", "value": {"active": false}}]));
    let answer = call(&app, Method::PATCH, &path, "patch-off", off).await;
    let expect = |request, method, active, version| Expect {
        request,
        method,
        id: &id,
        active,
        version,
    };
    changed(
        &app,
        &answer,
        expect("patch-off", "patch", false, "W/\"2\""),
    )
    .await;

    // the name stays the deactivated user's: a create of it is refused
    let again = call(&app, Method::POST, "/scim/v2/Users", "dup", okta_user(true)).await;
    again.assert_scim_error(409, Some("uniqueness"));

    // reactivated by PATCH
    let on = patch_op(json!([{"op": "replace", "value": {"active": true}}]));
    let answer = call(&app, Method::PATCH, &path, "patch-on", on).await;
    changed(&app, &answer, expect("patch-on", "patch", true, "W/\"3\"")).await;

    // deactivated and reactivated by a profile PUT
    let answer = call(&app, Method::PUT, &path, "put-off", okta_user(false)).await;
    changed(&app, &answer, expect("put-off", "put", false, "W/\"4\"")).await;
    let answer = call(&app, Method::PUT, &path, "put-on", okta_user(true)).await;
    changed(&app, &answer, expect("put-on", "put", true, "W/\"5\"")).await;

    // one user all along, never deleted
    let kinds: Vec<Vec<&str>> = events(&app).await.iter().map(|e| e.kinds.names()).collect();
    assert_eq!(
        kinds,
        [
            vec!["create"],
            vec!["patch", "deactivate"],
            vec!["patch", "activate"],
            vec!["put", "deactivate"],
            vec!["put", "activate"],
        ]
    );
}

crate::on_both_stores!(oktas_deactivate_and_reactivate_keep_the_id_and_the_user_listed);
