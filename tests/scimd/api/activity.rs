//! The provisioning activity log over HTTP: each change is recorded once, with its request id,
//! status and resource, in the change's own transaction; refusals are recorded with their
//! details' values left out; nothing personal is stored; lookups are counted into cycles; old
//! rows are pruned.

use axum::body::Body;
use axum::http::{Method, Request, header};
use scimd::domain::activity::{Activity, ActivityFilter};
use serde_json::{Value, json};

use crate::support::{Backend, TOKEN, TestApp, TestResponse, encode, entra_user, execute_sql};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    request_id: &str,
    body: Option<Value>,
) -> TestResponse {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .header("x-request-id", request_id);
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    app.send(req.body(body).unwrap()).await
}

async fn log(app: &TestApp) -> Vec<Activity> {
    let filter = ActivityFilter {
        limit: 1000,
        ..Default::default()
    };
    app.state
        .directory
        .activity("default", &filter)
        .await
        .unwrap()
}

fn summary(rows: &[Activity]) -> Vec<(String, String, u16, Option<String>, bool)> {
    rows.iter()
        .map(|a| {
            (
                a.origin.request_id.clone(),
                a.operation.clone(),
                a.status,
                a.paths.clone(),
                a.deactivated,
            )
        })
        .collect()
}

async fn each_change_is_recorded_once_with_its_request_id_status_and_resource(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = call(
        &app,
        Method::POST,
        "/scim/v2/Users",
        "r-create",
        Some(entra_user("alice@example.com")),
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let user = format!("/scim/v2/Users/{id}");
    let disable = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    assert_eq!(
        call(&app, Method::PATCH, &user, "r-disable", Some(disable))
            .await
            .status,
        200
    );
    let mut replaced = entra_user("alice@example.com");
    replaced["displayName"] = json!("Alice A.");
    assert_eq!(
        call(&app, Method::PUT, &user, "r-put", Some(replaced))
            .await
            .status,
        200
    );
    let group = call(
        &app,
        Method::POST,
        "/scim/v2/Groups",
        "r-group",
        Some(json!({"displayName": "Team"})),
    )
    .await;
    let gid = group.body["id"].as_str().unwrap().to_owned();
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": id}]}]});
    let added = call(
        &app,
        Method::PATCH,
        &format!("/scim/v2/Groups/{gid}"),
        "r-member",
        Some(add),
    )
    .await;
    assert_eq!(added.status, 204);
    let lookup = format!(
        "/scim/v2/Users?filter={}",
        encode("userName eq \"alice@example.com\"")
    );
    assert_eq!(
        call(&app, Method::GET, &lookup, "r-lookup", None)
            .await
            .status,
        200
    );
    assert_eq!(
        call(&app, Method::DELETE, &user, "r-delete", None)
            .await
            .status,
        204
    );

    let rows = log(&app).await;
    assert_eq!(
        summary(&rows),
        [
            ("r-create".into(), "create".into(), 201, None, false),
            (
                "r-disable".into(),
                "patch".into(),
                200,
                Some("active".into()),
                true
            ),
            ("r-put".into(), "replace".into(), 200, None, false),
            ("r-group".into(), "create".into(), 201, None, false),
            (
                "r-member".into(),
                "patch".into(),
                204,
                Some("members+1".into()),
                false
            ),
            ("r-delete".into(), "delete".into(), 204, None, false),
        ],
        "lookups are counted, not stored"
    );
    let token = app.state.directory.tokens("default").await.unwrap()[0].id;
    for a in &rows {
        assert_eq!(a.origin.credential, format!("token {token}"));
        let expected = if a.origin.request_id == "r-group" || a.origin.request_id == "r-member" {
            &gid
        } else {
            &id
        };
        assert_eq!(a.resource_id.unwrap().to_string(), *expected);
    }
    assert_eq!(rows[0].origin.route, "/scim/v2/Users");
    assert_eq!(rows[1].origin.route, "/scim/v2/Users/{id}");
    assert_eq!(rows[0].resource_type.as_deref(), Some("User"));
    assert_eq!(rows[3].resource_type.as_deref(), Some("Group"));
}

async fn refused_requests_are_recorded_without_their_values_and_leave_no_success_row(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    call(
        &app,
        Method::POST,
        "/scim/v2/Users",
        "r-first",
        Some(entra_user("bob@example.com")),
    )
    .await;
    let twice = call(
        &app,
        Method::POST,
        "/scim/v2/Users",
        "r-twice",
        Some(entra_user("bob@example.com")),
    )
    .await;
    assert_eq!(twice.status, 409);
    let group = call(
        &app,
        Method::POST,
        "/scim/v2/Groups",
        "r-group",
        Some(json!({"displayName": "Ops"})),
    )
    .await;
    let gid = group.body["id"].as_str().unwrap();
    // the group's document changes, then its member check fails: the transaction rolls back
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "displayName", "value": "Ops renamed"},
        {"op": "add", "path": "members", "value": [{"value": "00000000-0000-4000-8000-000000000000"}]}]});
    let failed = call(
        &app,
        Method::PATCH,
        &format!("/scim/v2/Groups/{gid}"),
        "r-bad-member",
        Some(add),
    )
    .await;
    assert_eq!(failed.status, 400);
    let missing = call(
        &app,
        Method::GET,
        "/scim/v2/Users/00000000-0000-4000-8000-000000000001",
        "r-missing",
        None,
    )
    .await;
    assert_eq!(missing.status, 404);

    let rows = log(&app).await;
    let by = |rid: &str| {
        rows.iter()
            .filter(|a| a.origin.request_id == rid)
            .collect::<Vec<_>>()
    };
    let twice = by("r-twice");
    assert_eq!(twice.len(), 1);
    assert_eq!(
        (twice[0].operation.as_str(), twice[0].status),
        ("create", 409)
    );
    assert_eq!(twice[0].scim_type.as_deref(), Some("uniqueness"));
    assert_eq!(
        twice[0].error.as_deref(),
        Some("userName: the value is taken")
    );
    let bad = by("r-bad-member");
    assert_eq!(
        bad.len(),
        1,
        "a write that did not commit leaves no success row: {bad:?}"
    );
    assert_eq!((bad[0].operation.as_str(), bad[0].status), ("patch", 400));
    assert_eq!(bad[0].resource_id.unwrap().to_string(), gid);
    let read = by("r-missing");
    assert_eq!((read[0].operation.as_str(), read[0].status), ("read", 404));
    let stored = format!("{rows:?}");
    for personal in ["bob@example.com", "bob", "Ops renamed", "Bob"] {
        assert!(
            !stored.to_lowercase().contains(&personal.to_lowercase()),
            "{personal} stored: {stored}"
        );
    }
}

async fn lookups_and_changes_are_counted_into_a_cycle(backend: Backend) {
    let app = TestApp::new(backend).await;
    for n in 0..3 {
        let lookup = format!(
            "/scim/v2/Users?filter={}",
            encode(&format!("userName eq \"u{n}@example.com\""))
        );
        call(&app, Method::GET, &lookup, "r-lookup", None).await;
    }
    call(
        &app,
        Method::POST,
        "/scim/v2/Users",
        "r-c",
        Some(entra_user("carol@example.com")),
    )
    .await;
    call(
        &app,
        Method::POST,
        "/scim/v2/Users",
        "r-c2",
        Some(entra_user("carol@example.com")),
    )
    .await;
    let dir = &app.state.directory;
    let since = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    let cycles = dir
        .cycles("default", since, chrono::TimeDelta::minutes(10))
        .await
        .unwrap();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert_eq!(cycles[0].lookups, 3);
    assert_eq!((cycles[0].created.users, cycles[0].refused.users), (1, 1));
}

async fn rows_older_than_the_retention_are_pruned(backend: Backend) {
    let app = TestApp::new(backend).await;
    call(
        &app,
        Method::POST,
        "/scim/v2/Users",
        "r-old",
        Some(entra_user("dan@example.com")),
    )
    .await;
    call(&app, Method::GET, "/scim/v2/Users", "r-l", None).await;
    app.state.directory.flush_lookups().await.unwrap();
    let old = match backend {
        Backend::Postgres => "now() - interval '40 days'",
        Backend::Sqlite => "0",
    };
    execute_sql(
        &app.db,
        &[
            format!("update activity set at = {old}, minute = {old}"),
            format!("update activity_lookups set minute = {old}"),
        ],
    )
    .await;
    call(
        &app,
        Method::POST,
        "/scim/v2/Users",
        "r-new",
        Some(entra_user("erin@example.com")),
    )
    .await;
    let pruned = app
        .state
        .directory
        .prune_activity(std::time::Duration::from_secs(30 * 86_400))
        .await
        .unwrap();
    assert_eq!(pruned, 2, "one row and one minute of lookups");
    let left: Vec<String> = log(&app)
        .await
        .into_iter()
        .map(|a| a.origin.request_id)
        .collect();
    assert_eq!(left, ["r-new"]);
}

crate::on_both_stores!(
    each_change_is_recorded_once_with_its_request_id_status_and_resource,
    refused_requests_are_recorded_without_their_values_and_leave_no_success_row,
    lookups_and_changes_are_counted_into_a_cycle,
    rows_older_than_the_retention_are_pruned,
);
