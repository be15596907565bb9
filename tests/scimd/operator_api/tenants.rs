//! `/api/v1/tenants`: creating a tenant with its rules, finding tenants page by page, changing
//! rules, and deleting a tenant with everything of it.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::support::Backend;

crate::on_both_stores!(
    creating_a_tenant_answers_201_with_its_location_rules_and_scim_url,
    a_tenant_name_that_is_not_a_dns_label_is_refused_naming_the_field_and_nothing_is_created,
    a_taken_name_is_a_conflict_in_any_case,
    a_tenant_whose_rules_are_refused_is_not_created,
    tenants_are_listed_by_name_page_after_page_and_q_keeps_a_prefix,
    patching_rules_changes_only_the_fields_sent_and_null_clears_them,
    a_new_matching_attribute_that_users_share_is_refused_and_changes_nothing,
    deleting_a_tenant_needs_its_name_repeated_then_removes_everything_of_it,
    deleting_a_tenant_whose_webhooks_have_undelivered_events_needs_force,
    an_unknown_tenant_is_not_found_whatever_the_method,
);

async fn creating_a_tenant_answers_201_with_its_location_rules_and_scim_url(backend: Backend) {
    let api = Api::new(backend).await;
    let created = api
        .post(
            "/api/v1/tenants",
            json!({
                "name": "contoso",
                "matching_attribute": "externalId",
                "allowed_roles": ["Organizer", "Attendee"],
                "require_role": true,
                "unknown_attributes": "reject",
                "passwords": "ignore",
                "soft_delete_renames": "apply",
                "on_delete": "retain", "retain_for_seconds": 86400, "restore_on_create": false,
                "max_in_flight": 64
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("location"), Some("/api/v1/tenants/contoso"));
    assert_eq!(created.header("content-type"), Some("application/json"));
    let at = created.body["created"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body,
        json!({
            "name": "contoso",
            "scim_url": "http://scimd.test/scim/v2",
            "matching_attributes": ["externalId"],
            "matching_attribute": "externalId",
            "allowed_roles": ["Organizer", "Attendee"],
            "require_role": true,
            "entra_tenant_id": null,
            "unknown_attributes": "reject",
            "passwords": "ignore",
            "soft_delete_renames": "apply",
            "on_delete": "retain", "retain_for_seconds": 86400, "restore_on_create": false,
            "rate_limit_per_second": null, "max_in_flight": 64,
            "created": at
        })
    );
    let shown = api.get("/api/v1/tenants/contoso").await;
    assert_eq!((shown.status.as_u16(), &shown.body), (200, &created.body));
    // what is stored is what the answer said
    let stored = api.app.state.directory.tenant("contoso").await.unwrap();
    assert_eq!(
        stored.policy.allowed_roles,
        Some(vec!["Organizer".into(), "Attendee".into()])
    );
    assert!(stored.policy.require_role);
    assert_eq!(
        stored.policy.soft_delete_renames,
        scimd::domain::SoftDeleteRenames::Apply
    );
}

async fn a_tenant_name_that_is_not_a_dns_label_is_refused_naming_the_field_and_nothing_is_created(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    let long = "a".repeat(64);
    let huge = "b".repeat(1 << 20);
    for name in [
        "",
        "Contoso",
        "contoso ltd",
        "-contoso",
        "contoso-",
        "contoso\0",
        "cöntoso",
        "a/b",
        long.as_str(),
        huge.as_str(),
    ] {
        let refused = api.post("/api/v1/tenants", json!({ "name": name })).await;
        if name.len() > 1000 {
            // larger than the body limit or refused as a name: never a 5xx, never a tenant
            assert!(refused.status.is_client_error(), "{}", refused.status);
            continue;
        }
        let detail = assert_problem(&refused, 422, "validation", Some("name"));
        assert!(detail.contains("lower-case letters"), "{detail}");
    }
    let names: Vec<String> = api
        .app
        .state
        .directory
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["default"]);
    // a body of another shape names what is wrong with it
    let missing = api.post("/api/v1/tenants", json!({})).await;
    assert_problem(&missing, 422, "validation", Some("name"));
    let wrong_type = api.post("/api/v1/tenants", json!({ "name": 7 })).await;
    assert_problem(&wrong_type, 422, "validation", Some("name"));
    let unknown = api
        .post("/api/v1/tenants", json!({ "name": "x", "colour": "red" }))
        .await;
    assert_problem(&unknown, 422, "validation", Some("colour"));
    let nested = api
        .post(
            "/api/v1/tenants",
            json!({ "name": "x", "allowed_roles": [1] }),
        )
        .await;
    assert_problem(&nested, 422, "validation", Some("allowed_roles[0]"));
}

async fn a_taken_name_is_a_conflict_in_any_case(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let again = api
        .post("/api/v1/tenants", json!({ "name": "contoso" }))
        .await;
    let detail = assert_problem(&again, 409, "conflict", None);
    assert!(detail.contains("contoso"), "{detail}");
    let default = api
        .post("/api/v1/tenants", json!({ "name": "default" }))
        .await;
    assert_problem(&default, 409, "conflict", None);
}

async fn a_tenant_whose_rules_are_refused_is_not_created(backend: Backend) {
    let api = Api::new(backend).await;
    let unknown = api
        .post(
            "/api/v1/tenants",
            json!({ "name": "contoso", "matching_attribute": "mail" }),
        )
        .await;
    assert_problem(&unknown, 422, "validation", Some("matching_attribute"));
    let empty_role = api
        .post(
            "/api/v1/tenants",
            json!({ "name": "contoso", "allowed_roles": ["Organizer", " "] }),
        )
        .await;
    let detail = assert_problem(&empty_role, 422, "validation", Some("allowed_roles"));
    assert!(detail.starts_with("allowed_roles[1]: "), "{detail}");
    let nul = api
        .post(
            "/api/v1/tenants",
            json!({ "name": "contoso", "allowed_roles": ["Organ\u{0}izer"] }),
        )
        .await;
    assert!(nul.status.is_client_error(), "{}", nul.body);
    let missing = api.get("/api/v1/tenants/contoso").await;
    assert_problem(&missing, 404, "not-found", None);
    let again = api.tenant("contoso").await;
    assert_eq!(again["allowed_roles"], Value::Null);
}

async fn tenants_are_listed_by_name_page_after_page_and_q_keeps_a_prefix(backend: Backend) {
    let api = Api::new(backend).await;
    for name in [
        "acme-eu", "zeta", "acme", "beta", "acme-us", "alpha", "acme2",
    ] {
        api.tenant(name).await;
    }
    let names = |items: Vec<Value>| -> Vec<String> {
        items
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = names(api.all("/api/v1/tenants", 3).await);
    assert_eq!(
        all,
        [
            "acme", "acme-eu", "acme-us", "acme2", "alpha", "beta", "default", "zeta"
        ]
    );
    let acme = names(api.all("/api/v1/tenants?q=acme", 2).await);
    assert_eq!(acme, ["acme", "acme-eu", "acme-us", "acme2"]);
    let none = api.get("/api/v1/tenants?q=nothing").await;
    assert_eq!(none.body, json!({ "items": [], "next_cursor": null }));
    // a pattern is a prefix, not a pattern
    let like = api.get("/api/v1/tenants?q=a%25").await;
    assert_eq!(like.body["items"], json!([]));
    let first = api.get("/api/v1/tenants?limit=2").await;
    assert_eq!(
        names(first.body["items"].as_array().unwrap().clone()),
        ["acme", "acme-eu"]
    );
    let cursor = first.body["next_cursor"].as_str().unwrap();
    // a page's cursor belongs to the list it came from
    let tokens = api
        .get(&format!("/api/v1/tenants/acme/tokens?cursor={cursor}"))
        .await;
    assert_problem(&tokens, 422, "validation", Some("cursor"));
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "cursor=%00",
        "cursor=abc",
    ] {
        let refused = api.get(&format!("/api/v1/tenants?{bad}")).await;
        let field = bad.split('=').next().unwrap();
        assert_problem(&refused, 422, "validation", Some(field));
    }
}

async fn patching_rules_changes_only_the_fields_sent_and_null_clears_them(backend: Backend) {
    let api = Api::new(backend).await;
    api.post(
        "/api/v1/tenants",
        json!({ "name": "contoso", "allowed_roles": ["Organizer"], "require_role": true }),
    )
    .await;
    let entra = "5b2f0c4e-8f7e-4f55-9b5d-0f1e2d3c4b5a";
    let changed = api
        .patch(
            "/api/v1/tenants/contoso",
            json!({ "entra_tenant_id": entra, "unknown_attributes": "reject" }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["allowed_roles"], json!(["Organizer"]));
    assert_eq!(changed.body["require_role"], true);
    assert_eq!(changed.body["entra_tenant_id"], entra);
    assert_eq!(changed.body["unknown_attributes"], "reject");
    assert_eq!(
        changed.body["passwords"], "reject",
        "a new tenant refuses passwords"
    );
    let ignoring = api
        .patch("/api/v1/tenants/contoso", json!({ "passwords": "ignore" }))
        .await;
    assert_eq!(ignoring.body["passwords"], "ignore", "{}", ignoring.body);
    assert_eq!(ignoring.body["unknown_attributes"], "reject");
    assert_eq!(
        ignoring.body["soft_delete_renames"], "keep",
        "a new tenant keeps names against Entra's soft-delete rename"
    );
    let apply = json!({ "soft_delete_renames": "apply" });
    let applying = api.patch("/api/v1/tenants/contoso", apply).await;
    assert_eq!(
        applying.body["soft_delete_renames"], "apply",
        "{applying:?}"
    );
    assert_eq!(applying.body["passwords"], "ignore");
    let cleared = api
        .patch(
            "/api/v1/tenants/contoso",
            json!({ "allowed_roles": null, "entra_tenant_id": null, "require_role": false }),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    assert_eq!(cleared.body["allowed_roles"], Value::Null);
    assert_eq!(cleared.body["entra_tenant_id"], Value::Null);
    assert_eq!(cleared.body["unknown_attributes"], "reject");
    let nothing = api.patch("/api/v1/tenants/contoso", json!({})).await;
    assert_eq!(nothing.body, cleared.body);
    let stored = api.app.state.directory.tenant("contoso").await.unwrap();
    assert_eq!(stored.policy.allowed_roles, None);
    assert!(!stored.policy.require_role);
    assert_eq!(stored.policy.passwords, scimd::domain::Passwords::Ignore);
    let unknown_rule = api
        .patch("/api/v1/tenants/contoso", json!({ "passwords": "hash" }))
        .await;
    assert_problem(&unknown_rule, 422, "validation", Some("passwords"));
    assert_eq!(
        stored.policy.soft_delete_renames,
        scimd::domain::SoftDeleteRenames::Apply
    );
    let rename = json!({ "soft_delete_renames": "drop" });
    let unknown = api.patch("/api/v1/tenants/contoso", rename).await;
    assert_problem(&unknown, 422, "validation", Some("soft_delete_renames"));
    // the OpenAPI document describes the rule where a tenant is read, created and changed
    let document = api.get("/api/v1/openapi.json").await.body;
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["PasswordRule"]["enum"], json!(["reject", "ignore"]));
    assert_eq!(schemas["RenameRule"]["enum"], json!(["keep", "apply"]));
    for schema in ["TenantView", "NewTenant", "RulesChange"] {
        for rule in ["passwords", "soft_delete_renames"] {
            assert!(
                schemas[schema]["properties"][rule].is_object(),
                "{schema}.{rule}: {}",
                schemas[schema]
            );
        }
    }
    let bad = api
        .patch("/api/v1/tenants/contoso", json!({ "require_role": "yes" }))
        .await;
    assert_problem(&bad, 422, "validation", Some("require_role"));
    let not_json = api
        .call_with(
            Method::PATCH,
            "/api/v1/tenants/contoso",
            None,
            &api.key.clone(),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_problem(&not_json, 415, "unsupported-media-type", None);
}

async fn a_new_matching_attribute_that_users_share_is_refused_and_changes_nothing(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    for user in ["ada", "grace"] {
        let created = api
            .app
            .post(
                "/scim/v2/Users",
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user,
                    "externalId": "same"
                }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
    }
    let refused = api
        .patch(
            "/api/v1/tenants/default",
            json!({ "matching_attribute": "externalId" }),
        )
        .await;
    let detail = assert_problem(&refused, 409, "conflict", Some("externalId"));
    assert!(detail.contains("same"), "{detail}");
    let shown = api.get("/api/v1/tenants/default").await;
    assert_eq!(shown.body["matching_attribute"], "userName");
}

async fn deleting_a_tenant_needs_its_name_repeated_then_removes_everything_of_it(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let issued = api
        .post(
            "/api/v1/tenants/contoso/tokens",
            json!({ "label": "entra" }),
        )
        .await;
    let token = issued.body["token"].as_str().unwrap().to_owned();
    let user = api
        .call_with(
            Method::POST,
            "/scim/v2/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "ada"
            })),
            &token,
            &[],
        )
        .await;
    assert_eq!(user.status, 201, "{}", user.body);
    for query in ["", "?confirm=", "?confirm=Contoso", "?confirm=default"] {
        let refused = api.delete(&format!("/api/v1/tenants/contoso{query}")).await;
        let detail = assert_problem(&refused, 422, "validation", Some("confirm"));
        assert!(detail.contains("?confirm=contoso"), "{detail}");
    }
    assert_eq!(api.get("/api/v1/tenants/contoso").await.status, 200);
    let deleted = api.delete("/api/v1/tenants/contoso?confirm=contoso").await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(deleted.body, Value::Null);
    assert_problem(
        &api.get("/api/v1/tenants/contoso").await,
        404,
        "not-found",
        None,
    );
    let scim = api
        .call_with(Method::GET, "/scim/v2/Users", None, &token, &[])
        .await;
    assert_eq!(scim.status, 401, "{}", scim.body);
    // the name is free again, and the new tenant starts empty
    api.tenant("contoso").await;
    let tokens = api.get("/api/v1/tenants/contoso/tokens").await;
    assert_eq!(tokens.body["items"], json!([]));
    // the default tenant and its user base are untouched
    let default_users = api.app.get("/scim/v2/Users").await;
    assert_eq!(default_users.status, 200);
    let audit = api.get("/api/v1/audit?tenant=contoso").await;
    let actions: Vec<&str> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "tenant.create",
            "tenant.delete",
            "token.issue",
            "tenant.create"
        ]
    );
}

async fn deleting_a_tenant_whose_webhooks_have_undelivered_events_needs_force(backend: Backend) {
    let api = Api::new(backend).await;
    let dir = &api.app.state.directory;
    // a receiver that is never there: the event waits in the queue
    dir.add_webhook(
        "default",
        "http://127.0.0.1:9/events",
        scimd::domain::events::Kinds::ALL,
        false,
    )
    .await
    .unwrap();
    let user = api
        .app
        .post(
            "/scim/v2/Users",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "ada"
            }),
        )
        .await;
    assert_eq!(user.status, 201);
    let refused = api.delete("/api/v1/tenants/default?confirm=default").await;
    let detail = assert_problem(&refused, 409, "conflict", None);
    assert!(
        detail.contains("1 event(s)") && detail.contains("force"),
        "{detail}"
    );
    assert_eq!(api.get("/api/v1/tenants/default").await.status, 200);
    let forced = api
        .delete("/api/v1/tenants/default?confirm=default&force=true")
        .await;
    assert_eq!(forced.status, 204, "{}", forced.body);
    assert_eq!(api.app.get("/scim/v2/Users").await.status, 401);
    let audit = api.get("/api/v1/audit?tenant=default&limit=1").await;
    assert_eq!(audit.body["items"][0]["action"], "tenant.delete");
    assert_eq!(
        audit.body["items"][0]["detail"],
        "1 undelivered event(s) dropped"
    );
}

async fn an_unknown_tenant_is_not_found_whatever_the_method(backend: Backend) {
    let api = Api::new(backend).await;
    for (method, path, body) in [
        (Method::GET, "/api/v1/tenants/nobody", None),
        (Method::PATCH, "/api/v1/tenants/nobody", Some(json!({}))),
        (
            Method::DELETE,
            "/api/v1/tenants/nobody?confirm=nobody",
            None,
        ),
        (Method::GET, "/api/v1/tenants/nobody/tokens", None),
        (
            Method::POST,
            "/api/v1/tenants/nobody/tokens",
            Some(json!({})),
        ),
        (Method::GET, "/api/v1/tenants/no%00body", None),
        (Method::GET, "/api/v1/tenants/%FF", None),
    ] {
        let response = api.call(method.clone(), path, body).await;
        let detail = assert_problem(&response, 404, "not-found", None);
        assert!(!detail.is_empty(), "{method} {path}");
    }
    let nowhere = api.get("/api/v1/nowhere").await;
    assert_problem(&nowhere, 404, "not-found", None);
    let put = api
        .call(Method::PUT, "/api/v1/tenants", Some(json!({})))
        .await;
    assert_problem(&put, 405, "method-not-allowed", None);
}
