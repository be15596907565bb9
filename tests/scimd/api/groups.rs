//! Groups (RFC 7643 §4.2) with membership in its own table: create and read, Entra's member
//! PATCH shapes (removal by value list, as Microsoft's "Known issues and resolutions with
//! SCIM 2.0 protocol compliance of the Microsoft Entra user provisioning service" describes:
//! https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility),
//! whole-list changes, parallel changes, `User.groups`.

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestResponse, entra_user};

const MS_GROUP_URN: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

pub(super) async fn group(app: &TestApp, name: &str) -> String {
    let res = app
        .post(
            "/scim/v2/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", MS_GROUP_URN],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": name,
                "meta": {"resourceType": "Group"}
            }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.body);
    res.body["id"].as_str().unwrap().to_owned()
}

pub(super) async fn user(app: &TestApp, name: &str) -> String {
    let res = app.post("/scim/v2/Users", entra_user(name)).await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.body);
    res.body["id"].as_str().unwrap().to_owned()
}

pub(super) async fn patch(app: &TestApp, group: &str, ops: Value) -> TestResponse {
    let body =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
    app.call(
        Method::PATCH,
        &format!("/scim/v2/Groups/{group}"),
        Some(body),
    )
    .await
}

pub(super) async fn member_ids(app: &TestApp, group: &str) -> Vec<String> {
    let res = app.get(&format!("/scim/v2/Groups/{group}")).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    res.body
        .get("members")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn a_group_is_created_empty_with_entras_body_and_read_back(backend: Backend) {
    let app = TestApp::new(backend).await;
    let id = group(&app, "Sales").await;
    let res = app.get(&format!("/scim/v2/Groups/{id}")).await;
    assert_eq!(
        res.body,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": id,
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "Sales",
            "meta": {
                "resourceType": "Group",
                "created": res.body["meta"]["created"],
                "lastModified": res.body["meta"]["lastModified"],
                "location": format!("http://scimd.test/scim/v2/Groups/{id}"),
                "version": "W/\"1\"",
            },
        })
    );
    let dup = app
        .post("/scim/v2/Groups", json!({"displayName": "SALES"}))
        .await;
    assert_eq!(
        dup.assert_scim_error(409, Some("uniqueness")),
        "a Group with displayName 'SALES' already exists (displayName is unique, case-insensitively)"
    );
    let nameless = app
        .post("/scim/v2/Groups", json!({"externalId": "x"}))
        .await;
    assert_eq!(
        nameless.assert_scim_error(400, Some("invalidValue")),
        "attribute 'displayName' is required"
    );
}

async fn many_members_are_added_in_one_patch_and_read_with_display_type_and_ref(backend: Backend) {
    let app = TestApp::new(backend).await;
    let g = group(&app, "Everyone").await;
    let mut users = Vec::new();
    for i in 0..40 {
        users.push(user(&app, &format!("u{i}")).await);
    }
    let value: Vec<Value> = users
        .iter()
        .map(|u| json!({"value": u, "$ref": null}))
        .collect();
    let res = patch(
        &app,
        &g,
        json!([{"op": "Add", "path": "members", "value": value}]),
    )
    .await;
    assert_eq!(res.status.as_u16(), 204, "{}", res.body);
    assert_eq!(res.body, Value::Null);
    assert_eq!(res.header("etag"), Some("W/\"2\""));
    let read = app.get(&format!("/scim/v2/Groups/{g}")).await;
    let members = read.body["members"].as_array().unwrap();
    assert_eq!(members.len(), 40);
    assert_eq!(
        members[0],
        json!({
            "value": users[0],
            "$ref": format!("http://scimd.test/scim/v2/Users/{}", users[0]),
            "type": "User",
            "display": "u0",
        })
    );
    assert_eq!(
        member_ids(&app, &g).await,
        users,
        "members keep the order they were added in"
    );
}

async fn re_adding_a_member_changes_nothing_and_keeps_the_version(backend: Backend) {
    let app = TestApp::new(backend).await;
    let g = group(&app, "G").await;
    let u = user(&app, "alice").await;
    patch(
        &app,
        &g,
        json!([{"op": "Add", "path": "members", "value": [{"value": u}]}]),
    )
    .await;
    let again = patch(
        &app,
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": u}]}]),
    )
    .await;
    assert_eq!(again.status.as_u16(), 204);
    assert_eq!(again.header("etag"), Some("W/\"2\""));
    assert_eq!(member_ids(&app, &g).await, [u]);
}

async fn entras_default_remove_with_a_value_list_removes_only_those_members(backend: Backend) {
    let app = TestApp::new(backend).await;
    let g = group(&app, "G").await;
    let (a, b, c) = (
        user(&app, "a").await,
        user(&app, "b").await,
        user(&app, "c").await,
    );
    patch(&app, &g, json!([{"op": "Add", "path": "members", "value": [{"value": a}, {"value": b}, {"value": c}]}])).await;
    let res = patch(
        &app,
        &g,
        json!([{"op": "Remove", "path": "members", "value": [{"value": b}]}]),
    )
    .await;
    assert_eq!(res.status.as_u16(), 204);
    assert_eq!(member_ids(&app, &g).await, [a.clone(), c.clone()]);
    // an id that names nothing in the list does not stop the others from being removed
    let mixed = patch(&app, &g, json!([{"op": "Remove", "path": "members", "value": [{"value": "not-an-id"}, {"value": a}]}])).await;
    assert_eq!(mixed.status.as_u16(), 204);
    assert_eq!(member_ids(&app, &g).await, std::slice::from_ref(&c));
    patch(
        &app,
        &g,
        json!([{"op": "Add", "path": "members", "value": [{"value": a}]}]),
    )
    .await;
    // flagged mode: a filter path; removing an absent member succeeds
    for _ in 0..2 {
        let res = patch(
            &app,
            &g,
            json!([{"op": "remove", "path": format!("members[value eq \"{c}\"]")}]),
        )
        .await;
        assert_eq!(res.status.as_u16(), 204);
    }
    assert_eq!(member_ids(&app, &g).await, [a]);
}

async fn remove_all_replace_and_put_set_the_whole_member_list(backend: Backend) {
    let app = TestApp::new(backend).await;
    let g = group(&app, "G").await;
    let (a, b) = (user(&app, "a").await, user(&app, "b").await);
    patch(
        &app,
        &g,
        json!([{"op": "add", "path": "members", "value": [{"value": a}]}]),
    )
    .await;
    patch(
        &app,
        &g,
        json!([{"op": "replace", "path": "members", "value": [{"value": b}]}]),
    )
    .await;
    assert_eq!(member_ids(&app, &g).await, std::slice::from_ref(&b));
    patch(&app, &g, json!([{"op": "remove", "path": "members"}])).await;
    assert!(member_ids(&app, &g).await.is_empty());
    let put = app
        .put(&format!("/scim/v2/Groups/{g}"), json!({"displayName": "Renamed", "members": [{"value": a, "display": "VP"}, {"value": b}]}))
        .await;
    assert_eq!(put.status.as_u16(), 200, "{}", put.body);
    assert_eq!(put.body["displayName"], "Renamed");
    assert_eq!(
        put.body["members"][0]["display"], "VP",
        "a display sent is kept"
    );
    assert_eq!(
        put.body["members"][1]["display"], "b",
        "else it is the member's name"
    );
    let cleared = app
        .put(
            &format!("/scim/v2/Groups/{g}"),
            json!({"displayName": "Renamed"}),
        )
        .await;
    assert!(cleared.body.get("members").is_none());
}

async fn patch_with_attributes_answers_200_and_renames_keep_members(backend: Backend) {
    let app = TestApp::new(backend).await;
    let g = group(&app, "Old").await;
    let u = user(&app, "m").await;
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "displayName", "value": "New"},
        {"name": "addMember", "op": "add", "path": "members", "value": [{"displayName": "new User", "value": u}]}
    ]});
    let res = app
        .call(
            Method::PATCH,
            &format!("/scim/v2/Groups/{g}?attributes=displayName,members"),
            Some(body),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    assert_eq!(res.body["displayName"], "New");
    assert_eq!(res.body["members"][0]["display"], "new User");
    assert!(res.body.get("meta").is_none());
}

async fn eight_parallel_patches_adding_distinct_members_all_land(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::new(backend).await);
    let g = group(&app, "Parallel").await;
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(user(&app, &format!("p{i}")).await);
    }
    let mut tasks = Vec::new();
    for u in users.clone() {
        let (app, g) = (app.clone(), g.clone());
        tasks.push(tokio::spawn(async move {
            patch(
                &app,
                &g,
                json!([{"op": "Add", "path": "members", "value": [{"value": u}]}]),
            )
            .await
            .status
            .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 204);
    }
    let mut got = member_ids(&app, &g).await;
    got.sort();
    users.sort();
    assert_eq!(got, users);
    assert_eq!(
        app.get(&format!("/scim/v2/Groups/{g}")).await.body["meta"]["version"],
        "W/\"9\""
    );
}

async fn root_search_spans_users_and_groups(backend: Backend) {
    let app = TestApp::new(backend).await;
    group(&app, "Team").await;
    user(&app, "Team-lead").await;
    let res = app
        .get("/scim/v2/?filter=displayName+sw+%22team%22+or+userName+sw+%22team%22")
        .await;
    assert_eq!(res.body["totalResults"], 2, "{}", res.body);
    let types: Vec<&str> = res.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["meta"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["User", "Group"]);
}

crate::on_both_stores!(
    a_group_is_created_empty_with_entras_body_and_read_back,
    many_members_are_added_in_one_patch_and_read_with_display_type_and_ref,
    re_adding_a_member_changes_nothing_and_keeps_the_version,
    entras_default_remove_with_a_value_list_removes_only_those_members,
    remove_all_replace_and_put_set_the_whole_member_list,
    patch_with_attributes_answers_200_and_renames_keep_members,
    eight_parallel_patches_adding_distinct_members_all_land,
    root_search_spans_users_and_groups,
);
