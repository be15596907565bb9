//! Discovery documents are valid RFC 7643 §5–7 resources and honest about what is supported.

use serde_json::{Value, json};

use crate::support::{Backend, TestApp};

async fn service_provider_config_says_what_is_supported(backend: Backend) {
    let app = TestApp::new(backend).await;
    let res = app.get("/scim/v2/ServiceProviderConfig").await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.header("content-type"), Some("application/scim+json"));
    let b = &res.body;
    assert_eq!(
        b["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        assert!(b[feature]["supported"].is_boolean(), "{feature}");
    }
    assert_eq!(b["patch"]["supported"], true);
    assert_eq!(b["filter"], json!({"supported": true, "maxResults": 1000}));
    assert_eq!(b["sort"]["supported"], true);
    assert_eq!(
        b["pagination"],
        json!({"cursor": true, "index": true, "defaultPaginationMethod": "index", "defaultPageSize": 100, "maxPageSize": 1000})
    );
    assert_eq!(b["etag"]["supported"], true);
    assert_eq!(
        b["bulk"],
        json!({"supported": true, "maxOperations": 1000, "maxPayloadSize": 1048576})
    );
    assert_eq!(b["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert_eq!(
        b["meta"]["location"],
        "http://scimd.test/scim/v2/ServiceProviderConfig"
    );
}

fn assert_attribute_definitions(attributes: &Value) {
    for attr in attributes.as_array().unwrap() {
        for key in [
            "name",
            "type",
            "multiValued",
            "description",
            "required",
            "caseExact",
            "mutability",
            "returned",
            "uniqueness",
        ] {
            assert!(attr.get(key).is_some(), "{key} missing in {attr}");
        }
        if attr["type"] == "complex" {
            assert_attribute_definitions(&attr["subAttributes"]);
        }
    }
}

async fn schemas_list_user_group_and_enterprise_user_with_full_attribute_definitions(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let res = app.get("/scim/v2/Schemas").await;
    assert_eq!(
        res.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(res.body["totalResults"], 3);
    let ids: Vec<&str> = res.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:core:2.0:Group",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ]
    );
    for schema in res.body["Resources"].as_array().unwrap() {
        assert_eq!(
            schema["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"])
        );
        assert_eq!(schema["meta"]["resourceType"], "Schema");
        assert_attribute_definitions(&schema["attributes"]);
    }
    assert!(res.body.to_string().contains("User Account"));

    let one = app
        .get("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")
        .await;
    assert_eq!(one.status.as_u16(), 200);
    assert_eq!(one.body["name"], "User");
    let password = one.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "password")
        .unwrap();
    assert_eq!(password["returned"], "never");
    assert_eq!(password["mutability"], "writeOnly");
    app.get("/scim/v2/Schemas/urn:example:nothing")
        .await
        .assert_scim_error(404, None);
}

async fn resource_types_describe_users_with_the_enterprise_extension_and_groups(backend: Backend) {
    let app = TestApp::new(backend).await;
    let res = app.get("/scim/v2/ResourceTypes").await;
    assert_eq!(res.body["totalResults"], 2);
    let user = &res.body["Resources"][0];
    assert_eq!(
        user,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
            "schemaExtensions": [{"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false}],
            "meta": {"resourceType": "ResourceType", "location": "http://scimd.test/scim/v2/ResourceTypes/User"},
        })
    );
    assert_eq!(app.get("/scim/v2/ResourceTypes/User").await.body, *user);
    assert_eq!(
        res.body["Resources"][1],
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": "urn:ietf:params:scim:schemas:core:2.0:Group",
            "schemaExtensions": [],
            "meta": {"resourceType": "ResourceType", "location": "http://scimd.test/scim/v2/ResourceTypes/Group"},
        })
    );
    app.get("/scim/v2/ResourceTypes/Widget")
        .await
        .assert_scim_error(404, None);
}

crate::on_both_stores!(
    service_provider_config_says_what_is_supported,
    schemas_list_user_group_and_enterprise_user_with_full_attribute_definitions,
    resource_types_describe_users_with_the_enterprise_extension_and_groups,
);
