//! A person disabled but not yet deleted (unassigned, out of scope, soft-deleted in Entra) and
//! created again under another matching value — Entra finds no user by the new name, so it
//! sends a create — comes back as the same user when the create's `externalId` is that of one
//! deactivated user and the tenant's rules are `retain` with `restore_on_create`: its id, its
//! `meta.created`, the create's values. Two deactivated users with that `externalId`, an
//! active one, or the rule off: the create makes a new user.

use std::time::Duration;

use axum::http::Method;
use scimd::service::PolicyChange;
use serde_json::{Value, json};

use super::retain::{create_as, retaining};
use super::{app_with_events, call, events, patch_op, row};
use crate::support::{Backend, TestApp, entra_user};

crate::on_both_stores!(
    a_create_with_the_external_id_of_a_deactivated_user_restores_that_user_with_its_id,
    a_create_makes_a_new_user_when_the_external_id_is_an_active_users_or_several_deactivated_ones,
    a_create_makes_a_new_user_when_the_rule_is_off,
);

const EXTERNAL: &str = "5b2e8f10-77aa-4c1d-8e3f-0a1b2c3d4e5f";

/// Disables user `id` as Entra does on unassignment.
async fn disable(app: &TestApp, id: &Value, request: &str) {
    let path = format!("/scim/v2/Users/{}", id.as_str().unwrap());
    let ops = json!([{"op": "replace", "path": "active", "value": false}]);
    let done = call(app, Method::PATCH, &path, request, patch_op(ops)).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.body["active"], false);
}

/// Entra's create of `name` with [`EXTERNAL`]; the answer's status and body.
async fn entra_creates(app: &TestApp, name: &str, request: &str) -> (u16, Value) {
    let mut body = entra_user(name);
    body["externalId"] = json!(EXTERNAL);
    let answer = call(app, Method::POST, "/scim/v2/Users", request, body).await;
    (answer.status.as_u16(), answer.body)
}

/// The users listed with `filter` (url-encoded).
async fn listed(app: &TestApp, filter: &str) -> Vec<Value> {
    let answer = app.get(&format!("/scim/v2/Users?filter={filter}")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["Resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn a_create_with_the_external_id_of_a_deactivated_user_restores_that_user_with_its_id(
    backend: Backend,
) {
    let (app, _receiver) = app_with_events(backend).await;
    retaining(&app, PolicyChange::default()).await;
    let user = create_as(&app, "ralf@contoso.com", EXTERNAL, "assign").await;
    disable(&app, &user["id"], "unassign").await;
    app.state.directory.clock().advance(Duration::from_secs(60));

    // assigned again after a rename in Entra: its lookup by the new name finds nobody
    let (status, back) = entra_creates(&app, "ralf.smith@contoso.com", "re-assign").await;
    assert_eq!(status, 201, "{back}");
    assert_eq!(back["id"], user["id"], "the old id");
    assert_eq!(back["userName"], "ralf.smith@contoso.com");
    assert_eq!(back["active"], true);
    assert_eq!(back["meta"]["created"], user["meta"]["created"]);
    assert_eq!(back["meta"]["lastModified"], "2026-12-10T10:01:00.000Z");
    assert_eq!(back["meta"]["version"], "W/\"3\"");
    let by_external = listed(&app, &format!("externalId%20eq%20%22{EXTERNAL}%22")).await;
    assert_eq!(by_external.len(), 1);
    assert_eq!(by_external[0]["id"], user["id"]);
    assert_eq!(by_external[0]["userName"], "ralf.smith@contoso.com");
    let old_name = listed(&app, "userName%20eq%20%22ralf%40contoso.com%22").await;
    assert_eq!(old_name, Vec::<Value>::new(), "the old name is free");

    let noted = row(&app, "re-assign").await;
    assert_eq!((noted.operation.as_str(), noted.status), ("create", 201));
    assert_eq!(
        noted.resource_id.map(|u| u.to_string()).as_deref(),
        user["id"].as_str()
    );
    assert_eq!(noted.note(), "restored");
    let event: Vec<_> = events(&app)
        .await
        .into_iter()
        .filter(|e| e.txn == "re-assign")
        .map(|e| (e.kinds.names(), e.lifecycle, e.resource_id.to_string()))
        .collect();
    assert_eq!(
        event,
        [(
            vec!["create"],
            Some("restored".to_owned()),
            user["id"].as_str().unwrap().to_owned()
        )]
    );
}

async fn a_create_makes_a_new_user_when_the_external_id_is_an_active_users_or_several_deactivated_ones(
    backend: Backend,
) {
    let (app, _receiver) = app_with_events(backend).await;
    retaining(&app, PolicyChange::default()).await;
    let active = create_as(&app, "ralf@contoso.com", EXTERNAL, "first").await;
    let (status, second) = entra_creates(&app, "ralf2@contoso.com", "second").await;
    assert_eq!(status, 201, "{second}");
    assert_ne!(
        second["id"], active["id"],
        "an active user is not taken over"
    );
    assert_eq!(row(&app, "second").await.lifecycle, None);

    disable(&app, &active["id"], "off-1").await;
    disable(&app, &second["id"], "off-2").await;
    let (status, third) = entra_creates(&app, "ralf3@contoso.com", "third").await;
    assert_eq!(status, 201, "{third}");
    assert_ne!(third["id"], active["id"]);
    assert_ne!(third["id"], second["id"]);
    assert_eq!(row(&app, "third").await.lifecycle, None);
    let by_external = listed(&app, &format!("externalId%20eq%20%22{EXTERNAL}%22")).await;
    let names: Vec<&str> = by_external
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["ralf@contoso.com", "ralf2@contoso.com", "ralf3@contoso.com"]
    );
}

async fn a_create_makes_a_new_user_when_the_rule_is_off(backend: Backend) {
    let (app, _receiver) = app_with_events(backend).await;
    let off = PolicyChange {
        restore_on_create: Some(false),
        ..PolicyChange::default()
    };
    retaining(&app, off).await;
    let user = create_as(&app, "ralf@contoso.com", EXTERNAL, "assign").await;
    disable(&app, &user["id"], "unassign").await;
    let (status, again) = entra_creates(&app, "ralf.smith@contoso.com", "re-assign").await;
    assert_eq!(status, 201, "{again}");
    assert_ne!(again["id"], user["id"]);
    let old = app
        .get(&format!("/scim/v2/Users/{}", user["id"].as_str().unwrap()))
        .await;
    assert_eq!(old.body["active"], false);
    assert_eq!(old.body["userName"], "ralf@contoso.com");
}
