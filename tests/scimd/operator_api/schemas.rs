//! `/api/v1/tenants/{name}/schemas`: a schema registered over the API is served at the
//! tenant's `/scim/v2/Schemas` at once, listed, shown, removed and audited; keys, tenants and
//! documents are checked, and what is refused registers nothing.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::support::Backend;

crate::on_both_stores!(
    a_schema_registered_over_the_api_is_served_at_scim_at_once_listed_shown_removed_and_audited,
    a_read_only_key_may_read_schemas_not_register_and_another_tenants_schema_is_not_found,
    a_refused_schema_document_names_its_field_and_registers_nothing,
    hostile_schema_requests_are_refused_and_change_nothing,
    a_unique_attribute_whose_values_are_shared_or_one_schema_too_many_is_a_conflict,
);

const URN: &str = "urn:ietf:params:scim:schemas:extension:contoso:2.0:User";

fn document(urn: &str) -> Value {
    json!({
        "id": urn,
        "name": "ContosoUser",
        "description": "Contoso's attributes",
        "attributes": [{"name": "badge", "type": "string", "multiValued": false}]
    })
}

/// The URNs a tenant's SCIM client sees at `/scim/v2/Schemas`.
async fn served(api: &Api, token: &str) -> Vec<String> {
    let req = axum::http::Request::builder()
        .uri("/scim/v2/Schemas")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = api.app.send(req).await;
    assert_eq!(response.status, 200, "{}", response.body);
    response.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The URNs the tenant has registered, as the service (and `scimd schema list`) reads them.
async fn registered(api: &Api, tenant: &str) -> Vec<String> {
    let dir = &api.app.state.directory;
    dir.schemas_of(tenant)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.schema.id)
        .collect()
}

async fn a_schema_registered_over_the_api_is_served_at_scim_at_once_listed_shown_removed_and_audited(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let token = api.post("/api/v1/tenants/contoso/tokens", json!({})).await;
    let token = token.body["token"].as_str().unwrap().to_owned();
    assert!(!served(&api, &token).await.contains(&URN.to_owned()));

    let added = api
        .post(
            "/api/v1/tenants/contoso/schemas",
            json!({"resource_type": "User", "document": document(URN)}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let location = format!("/api/v1/tenants/contoso/schemas/{URN}");
    assert_eq!(added.header("location"), Some(location.as_str()));
    assert_eq!(added.body["id"], URN);
    assert_eq!(added.body["name"], "ContosoUser");
    assert_eq!(added.body["description"], "Contoso's attributes");
    assert_eq!(added.body["resource_type"], "User");
    assert_eq!(added.body["attributes"][0]["name"], "badge");
    assert_eq!(added.body["attributes"][0]["type"], "string");
    assert!(added.body["created"].is_string());
    assert_eq!(registered(&api, "contoso").await, [URN]);
    // served at the tenant's next request, and not at another tenant's
    assert!(served(&api, &token).await.contains(&URN.to_owned()));

    let group = "urn:ietf:params:scim:schemas:extension:contoso:2.0:Group";
    // a millisecond later: schemas registered within one are listed by URN
    let clock = api.app.state.directory.clock();
    clock.advance(std::time::Duration::from_millis(1));
    let second = api
        .post(
            "/api/v1/tenants/contoso/schemas",
            json!({"resource_type": "Group", "document": document(group)}),
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    let listed = api.all("/api/v1/tenants/contoso/schemas", 1).await;
    assert_eq!(listed, [added.body.clone(), second.body.clone()]);

    // the URN percent-encoded, in another case
    let encoded = URN.to_uppercase().replace(':', "%3A");
    let shown = api
        .get(&format!("/api/v1/tenants/contoso/schemas/{encoded}"))
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body, added.body);

    let removed = api.delete(&location).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    assert!(removed.body.is_null());
    assert_eq!(registered(&api, "contoso").await, [group]);
    assert!(!served(&api, &token).await.contains(&URN.to_owned()));
    assert_problem(&api.get(&location).await, 404, "not-found", None);
    let again = assert_problem(&api.delete(&location).await, 404, "not-found", None);
    assert!(again.contains(URN), "{again}");

    let trail = api.all("/api/v1/audit?tenant=contoso", 100).await;
    let schema_entries: Vec<(&str, &str, &str)> = trail
        .iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("schema."))
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["target"].as_str().unwrap(),
                e["actor"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        schema_entries,
        [
            ("schema.remove", URN, "backend"),
            ("schema.add", group, "backend"),
            ("schema.add", URN, "backend"),
        ]
    );
    assert!(trail.iter().all(|e| e["actor"]["kind"] == "operator_key"));
}

async fn a_read_only_key_may_read_schemas_not_register_and_another_tenants_schema_is_not_found(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    api.tenant("fabrikam").await;
    let added = api
        .post(
            "/api/v1/tenants/contoso/schemas",
            json!({"document": document(URN)}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(added.body["resource_type"], "User");
    let reader = api
        .app
        .state
        .directory
        .add_operator_key("dashboard", true)
        .await
        .unwrap()
        .key;
    let list = "/api/v1/tenants/contoso/schemas";
    let read = api.call_with(Method::GET, list, None, &reader, &[]).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["items"][0]["id"], URN);
    let other = "urn:ietf:params:scim:schemas:extension:other:2.0:User";
    let write = api
        .call_with(
            Method::POST,
            list,
            Some(json!({"document": document(other)})),
            &reader,
            &[],
        )
        .await;
    assert_problem(&write, 403, "forbidden", None);
    let path = format!("{list}/{URN}");
    let delete = api
        .call_with(Method::DELETE, &path, None, &reader, &[])
        .await;
    assert_problem(&delete, 403, "forbidden", None);
    let anonymous = api.call_with(Method::GET, list, None, "nope", &[]).await;
    assert_problem(&anonymous, 401, "unauthorized", None);
    assert_eq!(registered(&api, "contoso").await, [URN]);

    // another tenant's schema, and a tenant that does not exist
    let theirs = format!("/api/v1/tenants/fabrikam/schemas/{URN}");
    assert_problem(&api.get(&theirs).await, 404, "not-found", None);
    assert_problem(&api.delete(&theirs).await, 404, "not-found", None);
    let fabrikam = api.get("/api/v1/tenants/fabrikam/schemas").await;
    assert_eq!(fabrikam.body, json!({"items": [], "next_cursor": null}));
    for (method, path) in [
        (Method::GET, "/api/v1/tenants/nobody/schemas".to_owned()),
        (Method::GET, format!("/api/v1/tenants/nobody/schemas/{URN}")),
        (
            Method::DELETE,
            format!("/api/v1/tenants/nobody/schemas/{URN}"),
        ),
    ] {
        let response = api.call(method, &path, None).await;
        assert_problem(&response, 404, "not-found", None);
    }
    let nobody = api
        .post(
            "/api/v1/tenants/nobody/schemas",
            json!({"document": document(other)}),
        )
        .await;
    assert_problem(&nobody, 404, "not-found", None);
    assert_eq!(registered(&api, "contoso").await, [URN]);
}

async fn a_refused_schema_document_names_its_field_and_registers_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let path = "/api/v1/tenants/contoso/schemas";
    let first = api.post(path, json!({"document": document(URN)})).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let other = "urn:ietf:params:scim:schemas:extension:other:2.0:User";
    let with_attributes = |attributes: Value| json!({"document": {"id": other, "name": "Other", "attributes": attributes}});
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "document"),
        (json!({"document": document(other), "extra": 1}), "extra"),
        (
            json!({"resource_type": "Widget", "document": document(other)}),
            "resource_type",
        ),
        (json!({"document": [1]}), "document"),
        (
            json!({"document": {"id": "not a urn", "name": "N", "attributes": []}}),
            "document.id",
        ),
        (
            json!({"document": {"id": other, "attributes": [{"name": "a", "type": "string"}]}}),
            "document.name",
        ),
        (with_attributes(json!([])), "document.attributes"),
        (
            with_attributes(
                json!([{"name": "a", "type": "string"}, {"name": "b", "type": "text"}]),
            ),
            "document.attributes[1]",
        ),
        (
            with_attributes(
                json!([{"name": "a", "type": "string"}, {"name": "2b", "type": "string"}]),
            ),
            "document.attributes[1].name",
        ),
        (
            with_attributes(json!([{"name": "c", "type": "complex", "subAttributes": [
                {"name": "s", "type": "string"}, {"name": "S", "type": "string"}]}])),
            "document.attributes[0].subAttributes[1]",
        ),
        (
            json!({"document": document("urn:ietf:params:scim:schemas:core:2.0:User")}),
            "document.id",
        ),
    ];
    for (body, field) in cases {
        let refused = api.post(path, body.clone()).await;
        assert_problem(&refused, 422, "validation", Some(field));
    }
    // the same URN again, in another case: a conflict with what is registered
    let again = api
        .post(path, json!({"document": document(&URN.to_uppercase())}))
        .await;
    let detail = assert_problem(&again, 409, "conflict", Some("document.id"));
    assert!(detail.contains(URN), "{detail}");
    assert_eq!(registered(&api, "contoso").await, [URN]);
}

async fn hostile_schema_requests_are_refused_and_change_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let path = "/api/v1/tenants/contoso/schemas";
    let other = "urn:ietf:params:scim:schemas:extension:other:2.0:User";
    let mut nul = document(other);
    nul["name"] = json!("Other\u{0}");
    let refused = api.post(path, json!({ "document": nul })).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let mut nul_description = document(other);
    nul_description["description"] = json!("a\u{0}b");
    let refused = api.post(path, json!({ "document": nul_description })).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let nul_urn = api.get("/api/v1/tenants/contoso/schemas/urn:x%00y").await;
    assert_problem(&nul_urn, 404, "not-found", None);
    let many: Vec<Value> = (0..10_000)
        .map(|i| json!({"name": format!("a{i}"), "type": "string"}))
        .collect();
    let huge = api
        .post(
            path,
            json!({"document": {"id": other, "name": "N", "attributes": many}}),
        )
        .await;
    assert!(
        [413, 422].contains(&huge.status.as_u16()),
        "{} {}",
        huge.status,
        huge.body
    );
    let long_urn = format!("urn:{}", "a".repeat(60_000));
    let long = api
        .get(&format!("/api/v1/tenants/contoso/schemas/{long_urn}"))
        .await;
    assert!(long.status.is_client_error(), "{}", long.status);
    let deep = format!(
        "{{\"document\": {}1{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let req = axum::http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {}", api.key))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(deep))
        .unwrap();
    let deep = api.app.send(req).await;
    assert_problem(&deep, 400, "malformed-request", None);
    assert!(registered(&api, "contoso").await.is_empty());
    let trail = api.all("/api/v1/audit?tenant=contoso", 100).await;
    assert!(
        trail.iter().all(|e| e["action"] != "schema.add"),
        "{trail:?}"
    );
}

async fn a_unique_attribute_whose_values_are_shared_or_one_schema_too_many_is_a_conflict(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    let path = "/api/v1/tenants/default/schemas";
    let added = api.post(path, json!({ "document": document(URN) })).await;
    assert_eq!(added.status, 201, "{}", added.body);
    for name in ["a", "b"] {
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", URN],
            "userName": name,
            URN: {"badge": "same"}
        });
        let created = api.app.post("/scim/v2/Users", user).await;
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let removed = api.delete(&format!("{path}/{URN}")).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let mut unique = document(URN);
    unique["attributes"][0]["uniqueness"] = json!("server");
    let refused = api.post(path, json!({ "document": unique })).await;
    let detail = assert_problem(&refused, 409, "conflict", None);
    assert!(detail.contains("badge"), "{detail}");
    assert!(registered(&api, "default").await.is_empty());

    for i in 0..scimd::service::MAX_SCHEMAS {
        let urn = format!("urn:ietf:params:scim:schemas:extension:n{i}:2.0:User");
        let added = api.post(path, json!({ "document": document(&urn) })).await;
        assert_eq!(added.status, 201, "{}", added.body);
    }
    let one_more = api.post(path, json!({ "document": document(URN) })).await;
    let detail = assert_problem(&one_more, 409, "conflict", None);
    assert!(detail.contains("20 schemas"), "{detail}");
    assert_eq!(
        registered(&api, "default").await.len(),
        scimd::service::MAX_SCHEMAS
    );
}
