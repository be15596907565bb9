//! Discovery of a tenant's extension (`/Schemas`, `/Schemas/{urn}`, `/ResourceTypes`): shown
//! to the tenant that registered it, from its next request, and to no other tenant — whose
//! bodies with the extension's keys are then bodies with unknown attributes.

use axum::http::Method;
use serde_json::{Value, json};

use super::{CONTOSO, CORE_USER, ENTERPRISE, activity, attr, call_as, register, tenant_with_token};
use crate::support::{Backend, TestApp, TestResponse, encode};

/// The ids of a ListResponse's resources.
fn ids(res: &TestResponse) -> Vec<String> {
    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    res.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The `schemaExtensions` of a resource type document.
fn extensions(res: &TestResponse) -> Value {
    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    res.body["schemaExtensions"].clone()
}

async fn the_registered_extension_is_discovered_by_its_tenant_at_its_next_request(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let before = ids(&app.get("/scim/v2/Schemas").await);
    assert!(!before.iter().any(|id| id == CONTOSO), "{before:?}");
    app.get(&format!("/scim/v2/Schemas/{CONTOSO}"))
        .await
        .assert_scim_error(404, None);

    register(&app).await;

    let after = ids(&app.get("/scim/v2/Schemas").await);
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    assert_eq!(after.last().map(String::as_str), Some(CONTOSO), "{after:?}");
    let listed = app.get("/scim/v2/Schemas").await.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == CONTOSO)
        .cloned()
        .unwrap();
    // by its URN in any case
    let one = app
        .get("/scim/v2/Schemas/URN:ietf:params:scim:schemas:extension:Contoso:2.0:user")
        .await;
    assert_eq!(one.status.as_u16(), 200, "{}", one.body);
    assert_eq!(one.body, listed);
    let schema = &one.body;
    assert_eq!(
        schema["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"])
    );
    assert_eq!(schema["id"], CONTOSO);
    assert_eq!(schema["name"], "ContosoUser");
    assert_eq!(schema["description"], "Contoso's own user attributes");
    assert_eq!(
        schema["meta"],
        json!({"resourceType": "Schema", "location": format!("http://scimd.test/scim/v2/Schemas/{CONTOSO}")})
    );
    // every attribute with all its characteristics, RFC 7643 §7 defaults filled in
    let attributes = schema["attributes"].as_array().unwrap();
    let names: Vec<&str> = attributes
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["costCenter", "badge", "remote", "office", "hired", "rate"]
    );
    assert_eq!(
        attributes[0],
        json!({
            "name": "costCenter", "type": "string", "multiValued": false, "description": "",
            "required": false, "caseExact": false, "mutability": "readWrite",
            "returned": "default", "uniqueness": "server"
        })
    );
    assert_eq!(attributes[1]["type"], "integer");
    assert_eq!(attributes[2]["type"], "boolean");
    assert_eq!(attributes[3]["type"], "complex");
    assert_eq!(attributes[4]["type"], "dateTime");
    assert_eq!(attributes[5]["type"], "decimal");
    assert_eq!(
        attributes[3]["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["name"].clone(), s["type"].clone()))
            .collect::<Vec<_>>(),
        [
            (json!("building"), json!("string")),
            (json!("floor"), json!("integer"))
        ]
    );

    let user_type = json!([
        {"schema": ENTERPRISE, "required": false},
        {"schema": CONTOSO, "required": false}
    ]);
    assert_eq!(
        extensions(&app.get("/scim/v2/ResourceTypes/User").await),
        user_type
    );
    assert_eq!(
        extensions(&app.get("/scim/v2/ResourceTypes/user").await),
        user_type
    );
    let types = app.get("/scim/v2/ResourceTypes").await;
    assert_eq!(types.status.as_u16(), 200);
    let listed_user = types.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "User")
        .cloned()
        .unwrap();
    assert_eq!(listed_user["schemaExtensions"], user_type);
    let group = app.get("/scim/v2/ResourceTypes/Group").await;
    assert_eq!(group.status.as_u16(), 200);
    assert_eq!(
        group.body["schemaExtensions"],
        json!([]),
        "a User extension is not the Group's"
    );
}

async fn another_tenant_does_not_see_the_extension_and_its_keys_are_unknown_there(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    register(&app).await;
    let token = tenant_with_token(&app, "fabrikam").await;
    let get = async |path: &str| call_as(&app, &token, Method::GET, path, None).await;

    let theirs = ids(&get("/scim/v2/Schemas").await);
    assert!(!theirs.iter().any(|id| id == CONTOSO), "{theirs:?}");
    get(&format!("/scim/v2/Schemas/{CONTOSO}"))
        .await
        .assert_scim_error(404, None);
    assert_eq!(
        extensions(&get("/scim/v2/ResourceTypes/User").await),
        json!([{"schema": ENTERPRISE, "required": false}])
    );

    // the extension's keys are attributes in no schema of this tenant: dropped, noted
    let created = call_as(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Users",
        Some(json!({
            "schemas": [CORE_USER, CONTOSO],
            "userName": "elsewhere@fabrikam.com",
            CONTOSO: {"costCenter": "CC-1"},
            attr("badge"): 7
        })),
    )
    .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    assert!(created.body.get(CONTOSO).is_none(), "{}", created.body);
    assert_eq!(created.body["schemas"], json!([CORE_USER]));
    let rows = activity(&app, "fabrikam").await;
    let row = rows
        .iter()
        .find(|a| a.operation == "create" && a.status == 201)
        .unwrap();
    assert_eq!(
        row.ignored.as_deref(),
        Some(format!("{}, {}", attr("costCenter"), attr("badge")).as_str())
    );
    assert_eq!(
        row.note(),
        format!(
            "ignored, in no schema: {}, {}",
            attr("costCenter"),
            attr("badge")
        )
    );
    // and not a filter there
    let filtered = get(&format!(
        "/scim/v2/Users?filter={}",
        encode(&format!("{} eq \"CC-1\"", attr("costCenter")))
    ))
    .await;
    filtered.assert_scim_error(400, Some("invalidFilter"));

    // the registering tenant's own bodies are unchanged by it
    let own = app
        .post(
            "/scim/v2/Users",
            json!({"userName": "home@contoso.com", CONTOSO: {"costCenter": "CC-1"}}),
        )
        .await;
    assert_eq!(own.status.as_u16(), 201, "{}", own.body);
    assert_eq!(own.body[CONTOSO], json!({"costCenter": "CC-1"}));
    let row = activity(&app, "default")
        .await
        .into_iter()
        .find(|a| a.operation == "create")
        .unwrap();
    assert_eq!(
        row.ignored, None,
        "nothing unknown in the registering tenant"
    );

    // the other tenant may register the same URN for itself, from the document /Schemas
    // serves the first (its `schemas` and `meta` are not part of the definition)
    let served = app.get(&format!("/scim/v2/Schemas/{CONTOSO}")).await.body;
    app.state
        .directory
        .add_schema("fabrikam", scimd::scim::schema::ResourceKind::User, &served)
        .await
        .unwrap();
    assert_eq!(
        get(&format!("/scim/v2/Schemas/{CONTOSO}")).await.body,
        served
    );
    let kept = call_as(
        &app,
        &token,
        Method::POST,
        "/scim/v2/Users",
        Some(json!({"userName": "now@fabrikam.com", attr("costCenter"): "CC-1"})),
    )
    .await;
    assert_eq!(kept.status.as_u16(), 201, "{}", kept.body);
    assert_eq!(kept.body[CONTOSO], json!({"costCenter": "CC-1"}));
}

crate::on_both_stores!(
    the_registered_extension_is_discovered_by_its_tenant_at_its_next_request,
    another_tenant_does_not_see_the_extension_and_its_keys_are_unknown_there,
);
