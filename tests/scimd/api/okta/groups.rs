//! Okta's Group Push (its "SCIM 2.0 protocol reference", "Create groups", "Update a specific
//! group name", "Update specific group membership", "Delete a specific group"): a group
//! created with its members, members added and removed by `PATCH`, a rename by a `replace`
//! whose value holds the group's id, a `PUT`, a `DELETE`.

use serde_json::json;

use super::{GROUP, Okta, members};
use crate::support::{Backend, TestApp};

async fn group_push_creates_fills_prunes_renames_replaces_and_deletes_a_group(backend: Backend) {
    let app = TestApp::new(backend).await;
    let okta = Okta { app: &app };
    let a = okta.provision("a@okta.local", "A").await;
    let b = okta.provision("b@okta.local", "B").await;
    let c = okta.provision("c@okta.local", "C").await;
    let display = |id: &str| match id {
        x if x == a => "a@okta.local",
        x if x == b => "b@okta.local",
        _ => "c@okta.local",
    };
    let member = |id: &str| json!({"value": id, "display": display(id)});
    let pair = |id: &str| (id.to_owned(), display(id).to_owned());

    let created = app
        .post(
            "/scim/v2/Groups",
            json!({"schemas": [GROUP], "displayName": "Test SCIMv2", "members": [member(&a)]}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    assert_eq!(
        created.header("content-type"),
        Some("application/scim+json")
    );
    assert_eq!(created.body["displayName"], "Test SCIMv2");
    assert_eq!(members(&created.body), [pair(&a)]);
    let gid = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Groups/{gid}");
    let listed = app.get("/scim/v2/Groups?startIndex=1&count=100").await;
    assert_eq!(listed.body["totalResults"], 1);
    assert_eq!(listed.body["Resources"][0]["id"], gid.as_str());

    let added = okta
        .patch(
            &path,
            json!([{"op": "add", "path": "members", "value": [member(&b), member(&c)]}]),
        )
        .await;
    assert_eq!(added.status.as_u16(), 204, "{}", added.body);
    assert_eq!(
        members(&okta.group(&gid).await),
        [pair(&a), pair(&b), pair(&c)]
    );

    let removed = okta
        .patch(
            &path,
            json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]),
        )
        .await;
    assert_eq!(removed.status.as_u16(), 204, "{}", removed.body);
    assert_eq!(members(&okta.group(&gid).await), [pair(&a), pair(&c)]);

    // Okta renames with the group's own id in the value
    let renamed = okta
        .patch(
            &path,
            json!([{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 renamed"}}]),
        )
        .await;
    assert_eq!(renamed.status.as_u16(), 204, "{}", renamed.body);
    let group = okta.group(&gid).await;
    assert_eq!(group["id"], gid.as_str());
    assert_eq!(group["displayName"], "Test SCIMv2 renamed");
    assert_eq!(
        members(&group),
        [pair(&a), pair(&c)],
        "a rename keeps the members"
    );
    // another resource's id is not the group's to take
    let stolen = okta
        .patch(
            &path,
            json!([{"op": "replace", "value": {"id": a, "displayName": "Stolen"}}]),
        )
        .await;
    let detail = stolen.assert_scim_error(400, Some("mutability"));
    assert!(detail.contains("'id' is read-only"), "{detail}");
    assert_eq!(okta.group(&gid).await["displayName"], "Test SCIMv2 renamed");

    let put = app
        .put(
            &path,
            json!({"schemas": [GROUP], "id": gid, "displayName": "Test SCIMv2 put", "members": [member(&b)]}),
        )
        .await;
    assert_eq!(put.status.as_u16(), 200, "{}", put.body);
    assert_eq!(put.body["displayName"], "Test SCIMv2 put");
    assert_eq!(members(&put.body), [pair(&b)]);
    assert_eq!(members(&okta.group(&gid).await), [pair(&b)]);

    let deleted = app.delete(&path).await;
    assert_eq!(deleted.status.as_u16(), 204, "{}", deleted.body);
    app.get(&path).await.assert_scim_error(404, None);
    // the members stay: a group's deletion deletes no user
    let user = app.get(&format!("/scim/v2/Users/{b}")).await;
    assert_eq!(user.status.as_u16(), 200);
    assert_eq!(user.body.get("groups"), None);
}

crate::on_both_stores!(group_push_creates_fills_prunes_renames_replaces_and_deletes_a_group,);
