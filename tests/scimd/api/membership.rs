//! Membership's integrity: members must be users or groups of the tenant, a group cannot
//! contain itself, deletions take memberships with them, disabled users keep theirs, and
//! member filters and Entra's member-less group lookup.

use axum::http::Method;
use serde_json::json;

use super::groups::{group, member_ids, patch, user};
use crate::support::{Backend, TestApp};

async fn an_unknown_member_is_400_naming_it_and_changes_nothing(backend: Backend) {
    let app = TestApp::new(backend).await;
    let g = group(&app, "G").await;
    let a = user(&app, "a").await;
    patch(
        &app,
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": a}]}]),
    )
    .await;
    let missing = "2819c223-7f76-453a-919d-413861904646";
    let res = patch(
        &app,
        &g,
        json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": missing}]}
        ]),
    )
    .await;
    assert_eq!(
        res.assert_scim_error(400, Some("invalidValue")),
        format!("members: {missing} is not the id of a User or Group in this tenant")
    );
    assert_eq!(member_ids(&app, &g).await, std::slice::from_ref(&a));
    let garbage = patch(
        &app,
        &g,
        json!([{"op": "add", "path": "members", "value": "string id 1"}]),
    )
    .await;
    assert_eq!(
        garbage.assert_scim_error(400, Some("invalidValue")),
        "Operations[0]: members: 'string id 1' is not the id of a User or Group in this tenant"
    );
    let create = app
        .post(
            "/scim/v2/Groups",
            json!({"displayName": "H", "members": [{"value": missing}]}),
        )
        .await;
    create.assert_scim_error(400, Some("invalidValue"));
    assert_eq!(
        app.get("/scim/v2/Groups?filter=displayName+eq+%22H%22")
            .await
            .body["totalResults"],
        0
    );
    assert_eq!(
        app.get(&format!("/scim/v2/Groups/{g}")).await.body["meta"]["version"],
        "W/\"2\""
    );
}

async fn a_group_can_be_a_member_but_not_of_itself(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (outer, inner) = (group(&app, "Outer").await, group(&app, "Inner").await);
    patch(
        &app,
        &outer,
        json!([{"op": "add", "path": "members", "value": [{"value": inner, "type": "Group"}]}]),
    )
    .await;
    let read = app.get(&format!("/scim/v2/Groups/{outer}")).await;
    assert_eq!(
        read.body["members"],
        json!([{"value": inner, "$ref": format!("http://scimd.test/scim/v2/Groups/{inner}"), "type": "Group", "display": "Inner"}])
    );
    let selfish = patch(
        &app,
        &outer,
        json!([{"op": "add", "path": "members", "value": [{"value": outer}]}]),
    )
    .await;
    selfish.assert_scim_error(400, Some("invalidValue"));
}

async fn deleting_a_user_or_a_group_deletes_its_memberships(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (g, h) = (group(&app, "G").await, group(&app, "H").await);
    let (a, b) = (user(&app, "a").await, user(&app, "b").await);
    patch(&app, &g, json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}, {"value": h}]}])).await;
    assert_eq!(
        app.delete(&format!("/scim/v2/Users/{a}"))
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(member_ids(&app, &g).await, [b.clone(), h.clone()]);
    assert_eq!(
        app.delete(&format!("/scim/v2/Groups/{h}"))
            .await
            .status
            .as_u16(),
        204
    );
    assert_eq!(member_ids(&app, &g).await, std::slice::from_ref(&b));
    assert_eq!(
        app.delete(&format!("/scim/v2/Groups/{g}"))
            .await
            .status
            .as_u16(),
        204
    );
    let user_b = app.get(&format!("/scim/v2/Users/{b}")).await;
    assert!(user_b.body.get("groups").is_none());
}

async fn a_disabled_user_keeps_its_memberships_and_shows_its_groups(backend: Backend) {
    let app = TestApp::new(backend).await;
    let g = group(&app, "Staff").await;
    let u = user(&app, "leaver").await;
    patch(
        &app,
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
    )
    .await;
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let disabled = app
        .call(Method::PATCH, &format!("/scim/v2/Users/{u}"), Some(body))
        .await;
    assert_eq!(disabled.body["active"], false);
    assert_eq!(
        disabled.body["groups"],
        json!([{"value": g, "$ref": format!("http://scimd.test/scim/v2/Groups/{g}"), "display": "Staff", "type": "direct"}])
    );
    assert_eq!(member_ids(&app, &g).await, std::slice::from_ref(&u));
    let by_group = app
        .get(&format!("/scim/v2/Users?filter=groups.value+eq+%22{g}%22"))
        .await;
    assert_eq!(by_group.body["totalResults"], 1);
    // read in the list query itself: the same groups as a read by id
    assert_eq!(
        by_group.body["Resources"][0]["groups"],
        disabled.body["groups"]
    );
    let without = app
        .get(&format!("/scim/v2/Users/{u}?excludedAttributes=groups"))
        .await;
    assert!(without.body.get("groups").is_none());
}

async fn member_filters_and_entras_lookup_without_members(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (g, h) = (
        group(&app, "Engineering").await,
        group(&app, "Finance").await,
    );
    let u = user(&app, "dev").await;
    patch(
        &app,
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
    )
    .await;
    for filter in [
        format!("members%5Bvalue+eq+%22{u}%22%5D"),
        format!("members.value+eq+%22{u}%22"),
        "members%5Btype+eq+%22user%22+and+display+eq+%22DEV%22%5D".to_owned(),
    ] {
        let res = app.get(&format!("/scim/v2/Groups?filter={filter}")).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
        let ids: Vec<&str> = res.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [g.as_str()], "{filter}");
    }
    let lookup = app
        .get("/scim/v2/Groups?excludedAttributes=members&filter=displayName+eq+%22engineering%22")
        .await;
    assert_eq!(lookup.body["totalResults"], 1);
    assert!(lookup.body["Resources"][0].get("members").is_none());
    assert_eq!(lookup.body["Resources"][0]["displayName"], "Engineering");
    let empty = app
        .get("/scim/v2/Groups?filter=displayName+eq+%226f3b0c0e-8c1d-4b9b-9a0e-2d6c1b2e7f10%22")
        .await;
    assert_eq!(empty.body["totalResults"], 0);
    assert_eq!(empty.body["Resources"], json!([]));
    let not_member = app.get("/scim/v2/Groups?filter=not+(members+pr)").await;
    assert_eq!(not_member.body["totalResults"], 1, "{}", not_member.body);
    assert_eq!(not_member.body["Resources"][0]["id"], h.as_str());
}

crate::on_both_stores!(
    an_unknown_member_is_400_naming_it_and_changes_nothing,
    a_group_can_be_a_member_but_not_of_itself,
    deleting_a_user_or_a_group_deletes_its_memberships,
    a_disabled_user_keeps_its_memberships_and_shows_its_groups,
    member_filters_and_entras_lookup_without_members,
);
