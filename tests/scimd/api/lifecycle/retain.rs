//! A hard `DELETE` under the tenant's rule `on_delete = retain` (Entra sends it 30 days after
//! a soft delete): the user is gone from SCIM — 404, not listed, not found by filters, out of
//! its groups, its userName free — but kept with its id; Entra's re-creation with the same
//! externalId brings it back with that id; after the retention the user is purged and a
//! re-creation gets a new id. Groups are always deleted; the rule `delete` deletes as before.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, header};
use chrono::DateTime;
use scimd::domain::OnDelete;
use scimd::service::PolicyChange;
use serde_json::{Value, json};

use super::{app_with_events, call, events, row};
use crate::support::{Backend, TOKEN, TestApp, TestResponse, entra_user};

/// 2026-12-10T10:00:00Z: the tests' clock stands still there.
const T0: i64 = 1_796_896_800;
const EXTERNAL: &str = "8c4f1a7e-1d2b-4c5e-9f00-2b3c4d5e6f70";

/// Stops the clock at [`T0`] and sets the tenant's deprovisioning rules.
pub(super) async fn retaining(app: &TestApp, change: PolicyChange) {
    app.state
        .directory
        .clock()
        .set(DateTime::from_timestamp(T0, 0).unwrap());
    let change = PolicyChange {
        on_delete: Some(OnDelete::Retain),
        ..change
    };
    app.state
        .directory
        .set_policy("default", &change)
        .await
        .unwrap();
}

/// Creates `name` with externalId `external` as Entra does; the answer.
pub(super) async fn create_as(app: &TestApp, name: &str, external: &str, request: &str) -> Value {
    let mut body = entra_user(name);
    body["externalId"] = json!(external);
    let created = call(app, Method::POST, "/scim/v2/Users", request, body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body
}

/// A `DELETE` of `path` with `request` as its `x-request-id`.
pub(super) async fn delete_as(app: &TestApp, path: &str, request: &str) -> TestResponse {
    let req = Request::builder()
        .method(Method::DELETE)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header("x-request-id", request);
    app.send(req.body(Body::empty()).unwrap()).await
}

/// The `totalResults` of a listing of users with `filter` (url-encoded).
async fn found(app: &TestApp, filter: &str) -> u64 {
    let listed = app.get(&format!("/scim/v2/Users?filter={filter}")).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["totalResults"].as_u64().unwrap()
}

/// The kinds and lifecycle of the events of request `txn`.
async fn lifecycle_of(app: &TestApp, txn: &str) -> Vec<(Vec<&'static str>, Option<String>)> {
    events(app)
        .await
        .into_iter()
        .filter(|e| e.txn == txn)
        .map(|e| (e.kinds.names(), e.lifecycle))
        .collect()
}

async fn a_user_deleted_under_retain_is_gone_from_scim_and_comes_back_with_its_old_id_when_entra_creates_it_again(
    backend: Backend,
) {
    let (app, _receiver) = app_with_events(backend).await;
    retaining(&app, PolicyChange::default()).await;
    let user = create_as(&app, "ralf@contoso.com", EXTERNAL, "assign").await;
    let id = user["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Staff",
        "members": [{"value": id}]
    });
    let group = call(&app, Method::POST, "/scim/v2/Groups", "group", group).await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group_path = format!("/scim/v2/Groups/{}", group.body["id"].as_str().unwrap());

    // Entra's hard delete, 30 days after the soft delete
    let deleted = delete_as(&app, &path, "hard-delete").await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(deleted.body, Value::Null);
    app.get(&path).await.assert_scim_error(404, None);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]});
    for (method, body) in [
        (Method::PATCH, patch),
        (Method::PUT, entra_user("ralf@contoso.com")),
    ] {
        let answer = call(&app, method.clone(), &path, "after", body).await;
        answer.assert_scim_error(404, None);
    }
    app.delete(&path).await.assert_scim_error(404, None);
    assert_eq!(
        found(&app, "userName%20eq%20%22ralf%40contoso.com%22").await,
        0
    );
    assert_eq!(
        found(&app, &format!("externalId%20eq%20%22{EXTERNAL}%22")).await,
        0
    );
    let all = app.get("/scim/v2/Users").await;
    assert_eq!(all.body["totalResults"], 0, "{}", all.body);
    let group = app.get(&group_path).await;
    assert_eq!(group.status, 200);
    assert!(
        group.body["members"]
            .as_array()
            .is_none_or(|m| m.is_empty()),
        "{}",
        group.body
    );
    let until = "retained until 2027-01-09T10:00:00Z";
    let noted = row(&app, "hard-delete").await;
    assert_eq!((noted.operation.as_str(), noted.status), ("delete", 204));
    assert_eq!(noted.lifecycle.as_deref(), Some(until));
    assert_eq!(noted.note(), until);
    assert_eq!(
        lifecycle_of(&app, "hard-delete").await,
        [(vec!["delete"], Some(until.to_owned()))]
    );
    let retained = app
        .state
        .directory
        .retained_users("default", None, 10)
        .await
        .unwrap();
    assert_eq!(retained.len(), 1);
    assert_eq!(retained[0].id.to_string(), id);
    assert_eq!(retained[0].external_id.as_deref(), Some(EXTERNAL));
    assert_eq!(retained[0].doc["userName"], "ralf@contoso.com");

    // re-hired: Entra creates the person again, with the same externalId
    app.state.directory.clock().advance(Duration::from_secs(60));
    let mut again = entra_user("ralf@contoso.com");
    again["externalId"] = json!(EXTERNAL);
    again["name"]["givenName"] = json!("Ralf");
    let back = call(&app, Method::POST, "/scim/v2/Users", "re-create", again).await;
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(back.body["id"], id.as_str(), "the old id");
    assert_eq!(
        back.header("location"),
        Some(format!("http://scimd.test/scim/v2/Users/{id}").as_str())
    );
    assert_eq!(
        back.body["name"]["givenName"], "Ralf",
        "the create's values"
    );
    assert_eq!(back.body["meta"]["created"], user["meta"]["created"]);
    assert_eq!(
        back.body["meta"]["lastModified"],
        "2026-12-10T10:01:00.000Z"
    );
    assert_eq!(back.body["meta"]["version"], "W/\"2\"");
    let stored = app.get(&path).await;
    assert_eq!(stored.status, 200);
    assert_eq!(stored.body["name"]["givenName"], "Ralf");
    assert_eq!(
        found(&app, &format!("externalId%20eq%20%22{EXTERNAL}%22")).await,
        1
    );
    let noted = row(&app, "re-create").await;
    assert_eq!((noted.operation.as_str(), noted.status), ("create", 201));
    assert_eq!(noted.resource_id.map(|u| u.to_string()), Some(id.clone()));
    assert_eq!(noted.note(), "restored");
    assert_eq!(
        lifecycle_of(&app, "re-create").await,
        [(vec!["create"], Some("restored".to_owned()))]
    );
    let left = app.state.directory.retained_users("default", None, 10);
    assert_eq!(left.await.unwrap(), []);
}

async fn a_retained_users_name_is_free_for_another_person(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    retaining(&app, PolicyChange::default()).await;
    let first = create_as(&app, "ralf@contoso.com", EXTERNAL, "assign").await;
    let path = format!("/scim/v2/Users/{}", first["id"].as_str().unwrap());
    assert_eq!(app.delete(&path).await.status, 204);
    let other = create_as(&app, "RALF@contoso.com", "another-person", "new-ralf").await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(row(&app, "new-ralf").await.lifecycle, None);
    // the first one's re-creation now collides on the name: refused, still retained
    let mut again = entra_user("ralf@contoso.com");
    again["externalId"] = json!(EXTERNAL);
    let refused = call(&app, Method::POST, "/scim/v2/Users", "again", again).await;
    let detail = refused.assert_scim_error(409, Some("uniqueness"));
    assert!(detail.contains("userName"), "{detail}");
    let retained = app.state.directory.retained_users("default", None, 10);
    assert_eq!(retained.await.unwrap().len(), 1);
}

async fn after_the_retention_the_user_is_purged_and_a_re_creation_gets_a_new_id(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    let day = PolicyChange {
        retain_for_secs: Some(86_400),
        ..Default::default()
    };
    retaining(&app, day).await;
    let dir = &app.state.directory;
    let first = create_as(&app, "ralf@contoso.com", EXTERNAL, "assign").await;
    let path = format!("/scim/v2/Users/{}", first["id"].as_str().unwrap());
    assert_eq!(app.delete(&path).await.status, 204);
    let listed = dir.retained_users("default", None, 10).await.unwrap();
    assert_eq!(listed[0].purge_after.timestamp(), T0 + 86_400);
    dir.clock().advance(Duration::from_secs(86_399));
    assert_eq!(dir.purge_retained().await.unwrap(), 0, "not yet");
    assert_eq!(
        dir.retained_users("default", None, 10).await.unwrap().len(),
        1
    );
    dir.clock().advance(Duration::from_secs(1));
    assert_eq!(dir.purge_retained().await.unwrap(), 1);
    assert_eq!(dir.retained_users("default", None, 10).await.unwrap(), []);
    assert_eq!(dir.purge_retained().await.unwrap(), 0);
    let again = create_as(&app, "ralf@contoso.com", EXTERNAL, "re-create").await;
    assert_ne!(again["id"], first["id"], "purged: a new id");
    assert_eq!(again["meta"]["version"], "W/\"1\"");
    assert_eq!(row(&app, "re-create").await.lifecycle, None);
    assert_eq!(
        lifecycle_of(&app, "re-create").await,
        [(vec!["create"], None)]
    );
}

async fn with_restore_on_create_off_a_re_creation_gets_a_new_id_and_the_old_user_stays_retained(
    backend: Backend,
) {
    let (app, _receiver) = app_with_events(backend).await;
    let off = PolicyChange {
        restore_on_create: Some(false),
        ..Default::default()
    };
    retaining(&app, off).await;
    let first = create_as(&app, "ralf@contoso.com", EXTERNAL, "assign").await;
    let path = format!("/scim/v2/Users/{}", first["id"].as_str().unwrap());
    assert_eq!(app.delete(&path).await.status, 204);
    let again = create_as(&app, "ralf@contoso.com", EXTERNAL, "re-create").await;
    assert_ne!(again["id"], first["id"]);
    let retained = app.state.directory.retained_users("default", None, 10);
    assert_eq!(retained.await.unwrap().len(), 1);
}

async fn under_retain_a_group_is_deleted_and_under_delete_a_user_is_deleted_as_before(
    backend: Backend,
) {
    let (app, _receiver) = app_with_events(backend).await;
    let dir = &app.state.directory;
    let tenant = dir.tenant("default").await.unwrap();
    assert_eq!(tenant.policy.deprovisioning.on_delete, OnDelete::Delete);
    assert_eq!(tenant.policy.deprovisioning.retain_for_secs, 30 * 86_400);
    assert!(tenant.policy.deprovisioning.restore_on_create);
    let first = create_as(&app, "ralf@contoso.com", EXTERNAL, "assign").await;
    let path = format!("/scim/v2/Users/{}", first["id"].as_str().unwrap());
    let deleted = delete_as(&app, &path, "delete").await;
    assert_eq!(deleted.status, 204);
    app.get(&path).await.assert_scim_error(404, None);
    assert_eq!(row(&app, "delete").await.lifecycle, None);
    assert_eq!(lifecycle_of(&app, "delete").await, [(vec!["delete"], None)]);
    assert_eq!(dir.retained_users("default", None, 10).await.unwrap(), []);
    let again = create_as(&app, "ralf@contoso.com", EXTERNAL, "re-create").await;
    assert_ne!(again["id"], first["id"]);

    retaining(&app, PolicyChange::default()).await;
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Staff"
    });
    let group = app.post("/scim/v2/Groups", group).await;
    assert_eq!(group.status, 201, "{}", group.body);
    let group_path = format!("/scim/v2/Groups/{}", group.body["id"].as_str().unwrap());
    let deleted = delete_as(&app, &group_path, "group").await;
    assert_eq!(deleted.status, 204);
    app.get(&group_path).await.assert_scim_error(404, None);
    assert_eq!(row(&app, "group").await.lifecycle, None);
    assert_eq!(dir.retained_users("default", None, 10).await.unwrap(), []);
}

async fn two_re_creations_at_once_restore_the_user_once_and_the_other_is_a_conflict(
    backend: Backend,
) {
    let (app, _receiver) = app_with_events(backend).await;
    retaining(&app, PolicyChange::default()).await;
    let first = create_as(&app, "ralf@contoso.com", EXTERNAL, "assign").await;
    let path = format!("/scim/v2/Users/{}", first["id"].as_str().unwrap());
    assert_eq!(delete_as(&app, &path, "hard-delete").await.status, 204);
    let mut body = entra_user("ralf@contoso.com");
    body["externalId"] = json!(EXTERNAL);
    let (a, b) = tokio::join!(
        call(&app, Method::POST, "/scim/v2/Users", "a", body.clone()),
        call(&app, Method::POST, "/scim/v2/Users", "b", body.clone()),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} {}", a.body, b.body);
    let won = if a.status == 201 { &a } else { &b };
    assert_eq!(
        won.body["id"], first["id"],
        "the one that won restored the old id"
    );
    let all = app.get("/scim/v2/Users").await;
    assert_eq!(all.body["totalResults"], 1, "{}", all.body);
    let left = app.state.directory.retained_users("default", None, 10);
    assert_eq!(left.await.unwrap(), []);
}

crate::on_both_stores!(
    two_re_creations_at_once_restore_the_user_once_and_the_other_is_a_conflict,
    a_user_deleted_under_retain_is_gone_from_scim_and_comes_back_with_its_old_id_when_entra_creates_it_again,
    a_retained_users_name_is_free_for_another_person,
    after_the_retention_the_user_is_purged_and_a_re_creation_gets_a_new_id,
    with_restore_on_create_off_a_re_creation_gets_a_new_id_and_the_old_user_stays_retained,
    under_retain_a_group_is_deleted_and_under_delete_a_user_is_deleted_as_before,
);
