//! Registering and removing extensions: documents scimd cannot serve and URNs that clash with
//! a served schema are refused with the reason, registering nothing; a removed schema's values
//! stay in the stored documents, neither shown nor searchable, and come back when it is
//! registered again (unless a PUT or a PATCH rewrote the resource meanwhile); a Group
//! extension on `/Groups`.

use serde_json::{Value, json};

use scimd::scim::schema::ResourceKind;

use super::{
    CONTOSO, CORE_USER, ENTERPRISE, activity, add, attr, contoso_schema, count, created, patch,
    refused, register, stored, user,
};
use crate::support::{Backend, TestApp, encode};

const GROUP_EXT: &str = "urn:ietf:params:scim:schemas:extension:contoso:2.0:Group";

async fn bad_schema_documents_are_refused_with_the_reason_and_nothing_is_registered(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut doc = contoso_schema();
        change(&mut doc);
        doc
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            json!(["not", "an", "object"]),
            "a schema document is a JSON object",
        ),
        (
            with(&|d| d["id"] = json!("contoso-user")),
            "'contoso-user' is not a URN",
        ),
        (
            with(&|d| {
                d.as_object_mut().unwrap().remove("id");
            }),
            "the schema needs an \"id\"",
        ),
        (
            with(&|d| d["name"] = json!(" ")),
            "the schema needs a \"name\"",
        ),
        (
            with(&|d| d["attributes"] = json!([])),
            "the schema defines no attribute",
        ),
        (
            with(&|d| d["attributes"][1]["type"] = json!("float")),
            "attribute 'badge': unknown variant `float`",
        ),
        (
            with(&|d| d["attributes"][1]["name"] = json!("2nd-badge")),
            "'2nd-badge' is not an attribute name",
        ),
        (
            with(&|d| d["attributes"][1]["name"] = json!("CostCenter")),
            "attribute 'CostCenter' is defined twice (names compare ignoring case)",
        ),
        (
            with(&|d| d["attributes"][3]["subAttributes"] = json!([])),
            "attribute 'office': a complex attribute needs subAttributes",
        ),
        (
            with(&|d| {
                d["attributes"][3]["subAttributes"][0] = json!({"name": "wing", "type": "complex",
                    "subAttributes": [{"name": "x", "type": "string"}]});
            }),
            "attribute 'wing': a sub-attribute cannot be complex (RFC 7643 §2.3.8)",
        ),
        (
            with(&|d| d["attributes"][1]["canonicalValues"] = json!(["1", "2"])),
            "attribute 'badge': canonicalValues are for string attributes",
        ),
        (
            with(&|d| d["attributes"][2]["uniqueness"] = json!("server")),
            "attribute 'remote': uniqueness is enforced on single-valued string",
        ),
        (
            with(&|d| d["attributes"][0]["multiValued"] = json!(true)),
            "attribute 'costCenter': uniqueness is enforced on single-valued string",
        ),
        (
            with(&|d| d["attributes"][3]["subAttributes"][1]["uniqueness"] = json!("server")),
            "attribute 'floor': uniqueness is enforced",
        ),
    ];
    for (doc, reason) in cases {
        let refusal = refused(&app, "default", ResourceKind::User, &doc).await;
        assert!(refusal.contains(reason), "{doc}: {refusal}");
    }
    assert!(
        app.state
            .directory
            .schemas_of("default")
            .await
            .unwrap()
            .is_empty()
    );
    let schemas = app.get("/scim/v2/Schemas").await;
    assert_eq!(
        schemas.body["totalResults"], 3,
        "User, Group, Enterprise User"
    );
}

async fn a_urn_clashing_with_a_served_schema_or_the_tenants_own_is_refused(backend: Backend) {
    let app = TestApp::new(backend).await;
    let urn = |id: &str| {
        let mut doc = contoso_schema();
        doc["id"] = json!(id);
        doc
    };
    for (id, kind, reason) in [
        (ENTERPRISE, ResourceKind::User, "is already served"),
        (
            "urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:user",
            ResourceKind::User,
            "is already served",
        ),
        (CORE_USER, ResourceKind::Group, "is already served"),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:contoso",
            ResourceKind::User,
            "would make attribute paths ambiguous",
        ),
        (
            "urn:ietf:params:scim:schemas:core:2.0",
            ResourceKind::User,
            "would make attribute paths ambiguous",
        ),
        (
            "urn:ietf:params:scim:api:messages:2.0:Contoso",
            ResourceKind::User,
            "in the namespace of SCIM's messages",
        ),
    ] {
        let refusal = refused(&app, "default", kind, &urn(id)).await;
        assert!(refusal.contains(reason), "{id}: {refusal}");
    }

    register(&app).await;
    for (id, kind, reason) in [
        (CONTOSO, ResourceKind::User, "is already served"),
        (
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:CONTOSO:2.0:USER",
            ResourceKind::User,
            "is already served",
        ),
        (CONTOSO, ResourceKind::Group, "is already served"),
        (
            &attr("v2"),
            ResourceKind::User,
            "would make attribute paths ambiguous",
        ),
        (
            "urn:ietf:params:scim:schemas:extension:contoso:2.0",
            ResourceKind::Group,
            "would make attribute paths ambiguous",
        ),
    ] {
        let refusal = refused(&app, "default", kind, &urn(id)).await;
        assert!(refusal.contains(reason), "{id}: {refusal}");
    }
    let schemas = app.state.directory.schemas_of("default").await.unwrap();
    assert_eq!(schemas.len(), 1);
    assert_eq!(schemas[0].schema.id, CONTOSO);
    // another URN with the same attribute names is another schema
    add(
        &app,
        "default",
        ResourceKind::User,
        &urn("urn:ietf:params:scim:schemas:extension:fabrikam:2.0:User"),
    )
    .await;
    assert_eq!(app.get("/scim/v2/Schemas").await.body["totalResults"], 5);
}

async fn a_removed_schemas_values_are_kept_hidden_and_shown_again_when_it_returns(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    register(&app).await;
    let values = json!({"costCenter": "CC-1", "badge": 7, "office": {"floor": 3}});
    let (path, body) = created(&app, "Users", user("kept", Some(values.clone()))).await;
    let (other, _) = created(
        &app,
        "Users",
        user("replaced", Some(json!({"costCenter": "CC-2"}))),
    )
    .await;
    let (patched, _) = created(&app, "Users", user("patched", Some(json!({"badge": 5})))).await;

    let removed = dir
        .remove_schema(
            "default",
            "urn:ietf:params:scim:schemas:extension:contoso:2.0:USER",
        )
        .await
        .unwrap();
    assert_eq!(removed.schema.id, CONTOSO);
    let missing = dir.remove_schema("default", CONTOSO).await.unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!("tenant default has no schema '{CONTOSO}'")
    );

    let read = app.get(&path).await;
    assert_eq!(read.status.as_u16(), 200);
    assert!(read.body.get(CONTOSO).is_none(), "{}", read.body);
    assert_eq!(read.body["schemas"], json!([CORE_USER]));
    assert_eq!(
        Value::Object(stored(&app, "default", ResourceKind::User, &path).await)[CONTOSO],
        values,
        "kept in the stored document"
    );
    app.get(&format!(
        "/scim/v2/Users?filter={}",
        encode(&format!("{} eq \"CC-1\"", attr("costCenter")))
    ))
    .await
    .assert_scim_error(400, Some("invalidFilter"));
    app.get(&format!("/scim/v2/Schemas/{CONTOSO}"))
        .await
        .assert_scim_error(404, None);
    let resource_type = app.get("/scim/v2/ResourceTypes/User").await;
    assert_eq!(
        resource_type.body["schemaExtensions"],
        json!([{"schema": ENTERPRISE, "required": false}])
    );
    // a PATCH by its path is a bad path now; a PUT drops what it stored
    patch(
        &app,
        &path,
        json!([{"op": "replace", "path": attr("badge"), "value": 8}]),
    )
    .await
    .assert_scim_error(400, Some("invalidPath"));
    let put = app
        .put(
            &other,
            user("replaced", Some(json!({"costCenter": "CC-3"}))),
        )
        .await;
    assert_eq!(put.status.as_u16(), 200, "{}", put.body);
    assert!(
        !stored(&app, "default", ResourceKind::User, &other)
            .await
            .contains_key(CONTOSO)
    );
    // a PATCH changes what it names and keeps them
    let changed = patch(
        &app,
        &patched,
        json!([{"op": "replace", "path": "displayName", "value": "P"}]),
    )
    .await;
    assert_eq!(changed.status.as_u16(), 200, "{}", changed.body);
    assert!(
        stored(&app, "default", ResourceKind::User, &patched)
            .await
            .contains_key(CONTOSO)
    );
    let row = activity(&app, "default")
        .await
        .into_iter()
        .find(|a| a.operation == "replace")
        .unwrap();
    assert_eq!(row.status, 200);
    assert_eq!(row.ignored.as_deref(), Some(attr("costCenter").as_str()));

    register(&app).await;
    assert_eq!(app.get(&path).await.body, body, "shown again as it was");
    assert_eq!(
        count(
            &app,
            "Users",
            &format!("{} eq \"cc-1\"", attr("costCenter"))
        )
        .await,
        1
    );
    assert!(app.get(&other).await.body.get(CONTOSO).is_none());
    assert!(
        app.get(&patched).await.body.get(CONTOSO).is_some(),
        "kept through the PATCH"
    );
    assert_eq!(
        count(&app, "Users", &format!("{} pr", attr("costCenter"))).await,
        1,
        "the replaced user's value is gone for good"
    );
}

async fn a_group_extension_works_on_groups_only(backend: Backend) {
    let app = TestApp::new(backend).await;
    add(
        &app,
        "default",
        ResourceKind::Group,
        &json!({
            "id": GROUP_EXT,
            "name": "ContosoGroup",
            "attributes": [
                {"name": "costCenter", "type": "string", "uniqueness": "server", "caseExact": true},
                {"name": "budget", "type": "integer"}
            ]
        }),
    )
    .await;
    let group_attr = |name: &str| format!("{GROUP_EXT}:{name}");

    let (path, body) = created(
        &app,
        "Groups",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", GROUP_EXT],
            "displayName": "Sales",
            GROUP_EXT: {"costCenter": "G-1", "budget": 100}
        }),
    )
    .await;
    assert_eq!(body[GROUP_EXT], json!({"costCenter": "G-1", "budget": 100}));
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group", GROUP_EXT])
    );
    assert_eq!(app.get(&path).await.body, body);
    let patched = patch(
        &app,
        &path,
        json!([{"op": "Replace", "path": group_attr("budget"), "value": "250"}]),
    )
    .await;
    assert_eq!(
        patched.status.as_u16(),
        204,
        "a group PATCH answers no body: {}",
        patched.body
    );
    assert_eq!(
        app.get(&path).await.body[GROUP_EXT],
        json!({"costCenter": "G-1", "budget": 250})
    );
    assert_eq!(
        count(&app, "Groups", &format!("{} ge 200", group_attr("budget"))).await,
        1
    );
    // caseExact: unique as written, and compared as written
    created(
        &app,
        "Groups",
        json!({"displayName": "Sales EU", group_attr("costCenter"): "g-1"}),
    )
    .await;
    let dup = app
        .post(
            "/scim/v2/Groups",
            json!({"displayName": "Sales US", group_attr("costCenter"): "G-1"}),
        )
        .await;
    assert_eq!(
        dup.assert_scim_error(409, Some("uniqueness")),
        format!(
            "a Group with {} 'G-1' already exists (costCenter is unique in the tenant)",
            group_attr("costCenter")
        )
    );
    assert_eq!(
        count(
            &app,
            "Groups",
            &format!("{} eq \"g-1\"", group_attr("costCenter"))
        )
        .await,
        1
    );

    let group_type = app.get("/scim/v2/ResourceTypes/Group").await;
    assert_eq!(
        group_type.body["schemaExtensions"],
        json!([{"schema": GROUP_EXT, "required": false}])
    );
    let user_type = app.get("/scim/v2/ResourceTypes/User").await;
    assert_eq!(
        user_type.body["schemaExtensions"],
        json!([{"schema": ENTERPRISE, "required": false}])
    );
    // on a user, the Group extension is an unknown attribute
    let (_, user) = created(
        &app,
        "Users",
        json!({"userName": "u", GROUP_EXT: {"budget": 1}}),
    )
    .await;
    assert!(user.get(GROUP_EXT).is_none(), "{user}");
    let listed = app.state.directory.schemas_of("default").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].kind, ResourceKind::Group);
}

crate::on_both_stores!(
    bad_schema_documents_are_refused_with_the_reason_and_nothing_is_registered,
    a_urn_clashing_with_a_served_schema_or_the_tenants_own_is_refused,
    a_removed_schemas_values_are_kept_hidden_and_shown_again_when_it_returns,
    a_group_extension_works_on_groups_only,
);
