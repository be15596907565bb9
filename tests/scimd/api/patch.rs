//! PATCH over HTTP (RFC 7644 §3.5.2) with every shape Entra sends, with and without the
//! `aadOptscim062020` flag (Microsoft's "Known issues and resolutions with SCIM 2.0 protocol compliance of the
//! Microsoft Entra user provisioning service",
//! https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility),
//! checked against what is stored afterwards, not just the status.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::support::{Backend, TOKEN, TestApp, TestResponse, entra_user};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn patch_op(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

async fn patch(app: &TestApp, path: &str, ops: Value) -> TestResponse {
    app.call(Method::PATCH, path, Some(patch_op(ops))).await
}

async fn created(app: &TestApp, user_name: &str) -> (String, Value) {
    let res = app.post("/scim/v2/Users", entra_user(user_name)).await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.body);
    let path = format!("/scim/v2/Users/{}", res.body["id"].as_str().unwrap());
    (path, res.body)
}

async fn entra_default_mode_updates_answer_200_with_the_stored_resource(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (path, _) = created(&app, "Test_User_1").await;
    let res = patch(
        &app,
        &path,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": "nickName", "value": "Babs"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"}
        ]),
    )
    .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    assert_eq!(res.header("content-type"), Some("application/scim+json"));
    assert_eq!(res.header("etag"), Some("W/\"2\""));
    assert_eq!(
        res.body["emails"],
        json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}])
    );
    assert_eq!(res.body["name"]["familyName"], "updatedFamilyName");
    assert_eq!(res.body["name"]["givenName"], "Barbara");
    assert_eq!(res.body["nickName"], "Babs");
    assert_eq!(
        res.body["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
    assert_eq!(res.body[ENTERPRISE]["department"], "Sales");
    assert_eq!(res.body["meta"]["version"], "W/\"2\"");
    assert_eq!(
        app.get(&path).await.body,
        res.body,
        "what PATCH answered is what is stored"
    );
}

async fn soft_delete_with_the_string_false_keeps_the_user_visible_and_re_enable_works(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let (path, body) = created(&app, "leaver@contoso.com").await;
    let disabled = patch(
        &app,
        &path,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    assert_eq!(disabled.body["active"], false);
    let read = app.get(&path).await;
    assert_eq!(read.status.as_u16(), 200);
    assert_eq!(read.body["active"], false);
    let found = app
        .get("/scim/v2/Users?filter=userName+eq+%22leaver@contoso.com%22")
        .await;
    assert_eq!(found.body["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["active"], false);
    let inactive = app.get("/scim/v2/Users?filter=active+eq+false").await;
    assert_eq!(inactive.body["totalResults"], 1);

    let enabled = patch(
        &app,
        &path,
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    assert_eq!(enabled.body["active"], true);
    assert_eq!(enabled.body["userName"], body["userName"]);
}

async fn flagged_mode_path_less_replace_with_dotted_and_urn_keys_updates_the_attributes(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let (path, _) = created(&app, "flagged").await;
    let res = app
        .call(
            Method::PATCH,
            &format!("{path}?aadOptscim062020"),
            Some(patch_op(json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com"},
                {"op": "replace", "value": {
                    "displayName": "Bjfe",
                    "name.givenName": "Kkom",
                    "name.familyName": "Unua",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
                }}
            ]))),
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    let stored = app.get(&path).await.body;
    assert_eq!(stored["displayName"], "Bjfe");
    assert_eq!(
        stored["name"],
        json!({"formatted": "Barbara Jensen", "familyName": "Unua", "givenName": "Kkom"})
    );
    assert_eq!(stored[ENTERPRISE]["employeeNumber"], "Aklq");
    assert_eq!(
        stored["emails"][0]["value"],
        "TestMhvaes@test.microsoft.com"
    );
    assert!(stored.get("name.givenName").is_none());
}

async fn manager_is_linked_by_a_second_patch_in_every_shape_and_returned_with_its_ref(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let (boss_path, boss) = created(&app, "boss").await;
    let boss_id = boss["id"].as_str().unwrap();
    let (path, _) = created(&app, "report").await;
    let urn_manager = format!("{ENTERPRISE}:manager");
    for value in [
        json!(boss_id),
        json!({"value": boss_id}),
        json!([{"value": boss_id, "$ref": "x"}]),
    ] {
        let res = patch(
            &app,
            &path,
            json!([{"op": "Add", "path": urn_manager, "value": value}]),
        )
        .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
        assert_eq!(
            res.body[ENTERPRISE]["manager"],
            json!({"value": boss_id, "$ref": format!("http://scimd.test{boss_path}")})
        );
    }
    let precheck = app
        .get(&format!(
            "/scim/v2/Users?filter=id+eq+%22{}%22+and+manager+eq+%22{boss_id}%22",
            &path[15..]
        ))
        .await;
    assert_eq!(precheck.body["totalResults"], 1);
    for removal in [json!(""), json!({"value": ""}), Value::Null] {
        patch(
            &app,
            &path,
            json!([{"op": "Add", "path": urn_manager, "value": boss_id}]),
        )
        .await;
        let res = patch(
            &app,
            &path,
            json!([{"op": "Replace", "path": urn_manager, "value": removal}]),
        )
        .await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.body);
        assert!(
            res.body[ENTERPRISE].get("manager").is_none(),
            "{}",
            res.body
        );
    }
}

async fn roles_in_entra_shapes_are_stored_as_role_objects(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (path, _) = created(&app, "roles").await;
    let added = patch(
        &app,
        &path,
        json!([{"op": "Add", "path": "roles", "value": [{"value": "{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}]),
    )
    .await;
    assert_eq!(
        added.body["roles"],
        json!([{"value": "25", "display": "Role1234"}])
    );
    let replaced = patch(
        &app,
        &path,
        json!([{"op": "replace", "path": "roles", "value": [
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"},
            {"primary": "False", "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"}
        ]}]),
    )
    .await;
    assert_eq!(
        replaced.body["roles"],
        json!([
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"},
            {"primary": false, "type": "WindowsAzureActiveDirectoryRole", "display": "Admin", "value": "Admin"}
        ])
    );
    let by_primary = patch(&app, &path, json!([{"op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Organizer"}])).await;
    assert_eq!(by_primary.status.as_u16(), 200, "{}", by_primary.body);
    assert_eq!(
        by_primary.body["roles"][2],
        json!({"primary": true, "value": "Organizer"})
    );
}

async fn a_failing_patch_changes_nothing_not_even_the_version(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (path, before) = created(&app, "atomic").await;
    let res = patch(
        &app,
        &path,
        json!([
            {"op": "Replace", "path": "displayName", "value": "changed"},
            {"op": "Replace", "path": "active", "value": "perhaps"}
        ]),
    )
    .await;
    assert_eq!(
        res.assert_scim_error(400, Some("invalidValue")),
        "Operations[1]: attribute 'active' must be a boolean (true or false), not a string"
    );
    assert_eq!(app.get(&path).await.body, before);
    let no_path = patch(&app, &path, json!([{"op": "Remove"}])).await;
    no_path.assert_scim_error(400, Some("noTarget"));
    let read_only = patch(
        &app,
        &path,
        json!([{"op": "replace", "path": "id", "value": "x"}]),
    )
    .await;
    read_only.assert_scim_error(400, Some("mutability"));
    assert_eq!(app.get(&path).await.body, before);
}

async fn a_patch_that_changes_nothing_keeps_the_version(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (path, before) = created(&app, "idempotent").await;
    let res = patch(
        &app,
        &path,
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    )
    .await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("etag"), Some("W/\"1\""));
    assert_eq!(res.body, before);
}

async fn renaming_by_patch_onto_a_taken_user_name_is_409(backend: Backend) {
    let app = TestApp::new(backend).await;
    created(&app, "taken").await;
    let (path, before) = created(&app, "free").await;
    let res = patch(
        &app,
        &path,
        json!([{"op": "Replace", "path": "userName", "value": "TAKEN"}]),
    )
    .await;
    res.assert_scim_error(409, Some("uniqueness"));
    assert_eq!(app.get(&path).await.body, before);
}

async fn if_match_on_patch_is_honoured(backend: Backend) {
    let app = TestApp::new(backend).await;
    let (path, _) = created(&app, "etag").await;
    patch(
        &app,
        &path,
        json!([{"op": "add", "path": "title", "value": "v2"}]),
    )
    .await;
    let stale = Request::builder()
        .method(Method::PATCH)
        .uri(&path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .header(header::IF_MATCH, "W/\"1\"")
        .body(Body::from(
            patch_op(json!([{"op": "add", "path": "title", "value": "v3"}])).to_string(),
        ))
        .unwrap();
    app.send(stale).await.assert_scim_error(412, None);
    assert_eq!(app.get(&path).await.body["title"], "v2");
}

async fn patch_of_an_unknown_user_is_404(backend: Backend) {
    let app = TestApp::new(backend).await;
    let res = patch(
        &app,
        "/scim/v2/Users/2819c223-7f76-453a-919d-413861904646",
        json!([{"op": "add", "path": "title", "value": "x"}]),
    )
    .await;
    res.assert_scim_error(404, None);
}

async fn eight_parallel_patches_of_one_user_each_changing_another_attribute_all_survive(
    backend: Backend,
) {
    let app = std::sync::Arc::new(TestApp::new(backend).await);
    let (path, _) = created(&app, "parallel").await;
    let attributes = [
        "title",
        "nickName",
        "displayName",
        "locale",
        "timezone",
        "userType",
        "preferredLanguage",
        "profileUrl",
    ];
    let mut tasks = Vec::new();
    for attr in attributes {
        let (app, path) = (app.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            patch(
                &app,
                &path,
                json!([{"op": "Add", "path": attr, "value": format!("{attr}-value")}]),
            )
            .await
            .status
            .as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let stored = app.get(&path).await.body;
    for attr in attributes {
        assert_eq!(stored[attr], format!("{attr}-value"), "{attr} lost");
    }
    assert_eq!(stored["meta"]["version"], "W/\"9\"");
}

async fn a_patch_whose_path_is_the_enterprise_urn_sets_and_removes_the_extension(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = app
        .post("/scim/v2/Users", entra_user("urn.path@example.com"))
        .await;
    let user = format!("/scim/v2/Users/{}", created.body["id"].as_str().unwrap());
    let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let set = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": urn, "value": {"employeeNumber": "42", "department": "R&D"}}]});
    let answer = app.call(Method::PATCH, &user, Some(set)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body[urn]["employeeNumber"], "42");
    assert!(
        answer.body["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(urn))
    );
    let stored = app.get(&user).await;
    assert_eq!(stored.body[urn]["department"], "R&D");
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": urn}]});
    let answer = app.call(Method::PATCH, &user, Some(remove)).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.get(urn).is_none(), "{}", answer.body);
    assert!(app.get(&user).await.body.get(urn).is_none());
}

crate::on_both_stores!(
    a_patch_whose_path_is_the_enterprise_urn_sets_and_removes_the_extension,
    entra_default_mode_updates_answer_200_with_the_stored_resource,
    soft_delete_with_the_string_false_keeps_the_user_visible_and_re_enable_works,
    flagged_mode_path_less_replace_with_dotted_and_urn_keys_updates_the_attributes,
    manager_is_linked_by_a_second_patch_in_every_shape_and_returned_with_its_ref,
    roles_in_entra_shapes_are_stored_as_role_objects,
    a_failing_patch_changes_nothing_not_even_the_version,
    a_patch_that_changes_nothing_keeps_the_version,
    renaming_by_patch_onto_a_taken_user_name_is_409,
    if_match_on_patch_is_honoured,
    patch_of_an_unknown_user_is_404,
    eight_parallel_patches_of_one_user_each_changing_another_attribute_all_survive,
);
