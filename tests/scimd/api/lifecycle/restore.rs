//! An operator lists a tenant's retained users at `/api/v1/tenants/{name}/retained`, page by
//! page, and restores one with its id; the deprovisioning rules through the tenant's PATCH;
//! unknown, another tenant's and hostile ids get a clear 4xx problem, never a 5xx.

use axum::body::Body;
use axum::http::{Method, Request, header};
use scimd::domain::activity::ActivityFilter;
use serde_json::json;

use super::retain::{create_as, delete_as};
use crate::operator_api::{Api, assert_problem};
use crate::support::{Backend, TestApp, entra_user};

/// Sets `default`'s rule to `retain` through the API, checking the answer.
async fn retain_through_the_api(api: &Api) {
    let set = api
        .patch("/api/v1/tenants/default", json!({"on_delete": "retain"}))
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(set.body["on_delete"], "retain");
    assert_eq!(set.body["retain_for_seconds"], 30 * 86_400);
    assert_eq!(set.body["restore_on_create"], true);
}

/// Creates and deletes `n` users; their ids, in the order deleted.
async fn retained(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let user = create_as(
            app,
            &format!("user{i}@contoso.com"),
            &format!("ext-{i}"),
            "c",
        )
        .await;
        let id = user["id"].as_str().unwrap().to_owned();
        let path = format!("/scim/v2/Users/{id}");
        assert_eq!(
            delete_as(app, &path, &format!("delete-{i}")).await.status,
            204
        );
        ids.push(id);
    }
    ids
}

async fn an_operator_lists_retained_users_page_by_page_and_restores_one_with_its_id(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    retain_through_the_api(&api).await;
    let ids = retained(&api.app, 3).await;
    let first = api.get("/api/v1/tenants/default/retained?limit=2").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    assert!(first.body["next_cursor"].is_string());
    let all = api.all("/api/v1/tenants/default/retained", 2).await;
    let listed: Vec<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(all[1]["user_name"], "user1@contoso.com");
    assert_eq!(all[1]["external_id"], "ext-1");
    assert!(all[1]["deleted_at"].is_string() && all[1]["purge_after"].is_string());

    let path = format!("/api/v1/tenants/default/retained/{}/restore", ids[1]);
    let restored = api.call(Method::POST, &path, None).await;
    assert_eq!(restored.status, 201, "{}", restored.body);
    let location = format!("http://scimd.test/scim/v2/Users/{}", ids[1]);
    assert_eq!(restored.header("location"), Some(location.as_str()));
    assert_eq!(restored.body["id"], ids[1].as_str());
    assert_eq!(restored.body["user_name"], "user1@contoso.com");
    assert_eq!(restored.body["external_id"], "ext-1");
    assert_eq!(restored.body["version"], 2);
    assert_eq!(restored.body["location"], location.as_str());
    let user = api.app.get(&format!("/scim/v2/Users/{}", ids[1])).await;
    assert_eq!(user.status, 200, "{}", user.body);
    assert_eq!(user.body["userName"], "user1@contoso.com");
    assert_eq!(user.body["meta"]["version"], "W/\"2\"");
    let left = api.all("/api/v1/tenants/default/retained", 10).await;
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|r| r["id"] != ids[1].as_str()));
    // a second restore finds nothing retained
    let again = api.call(Method::POST, &path, None).await;
    assert_problem(&again, 404, "not-found", None);
    // the restore is in the activity log and the audit trail
    let filter = ActivityFilter {
        limit: 100,
        ..Default::default()
    };
    let rows = api.app.state.directory.activity("default", &filter);
    let rows = rows.await.unwrap();
    let restore = rows
        .iter()
        .find(|r| r.lifecycle.as_deref() == Some("restored"));
    let restore = restore.expect("the restore's row");
    assert_eq!(
        (restore.operation.as_str(), restore.status),
        ("create", 201)
    );
    assert_eq!(restore.origin.credential, "operator_key:backend");
    let audit = api.get("/api/v1/audit?tenant=default").await;
    assert!(
        audit.body.to_string().contains("retained.restore"),
        "{}",
        audit.body
    );
}

async fn a_restore_whose_name_was_taken_meanwhile_is_a_conflict_naming_user_name(backend: Backend) {
    let api = Api::new(backend).await;
    retain_through_the_api(&api).await;
    let ids = retained(&api.app, 1).await;
    create_as(&api.app, "USER0@contoso.com", "another-person", "taken").await;
    let path = format!("/api/v1/tenants/default/retained/{}/restore", ids[0]);
    let refused = api.call(Method::POST, &path, None).await;
    let detail = assert_problem(&refused, 409, "conflict", Some("userName"));
    assert!(detail.contains("userName"), "{detail}");
    let left = api.all("/api/v1/tenants/default/retained", 10).await;
    assert_eq!(left.len(), 1, "still retained");
}

async fn unknown_hostile_and_another_tenants_ids_are_refused_with_a_4xx(backend: Backend) {
    let api = Api::new(backend).await;
    retain_through_the_api(&api).await;
    api.tenant("other").await;
    let set = api.patch("/api/v1/tenants/other", json!({"on_delete": "retain"}));
    assert_eq!(set.await.status, 200);
    let token = api.app.state.directory.issue_token("other", None);
    let token = token.await.unwrap().token;
    let created = api
        .app
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/scim/v2/Users")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/scim+json")
                .body(Body::from(entra_user("theirs@fabrikam.com").to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let theirs = created.body["id"].as_str().unwrap().to_owned();
    let gone = api
        .app
        .send(
            Request::builder()
                .method(Method::DELETE)
                .uri(format!("/scim/v2/Users/{theirs}"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(gone.status, 204);
    let listed = api.all("/api/v1/tenants/other/retained", 10).await;
    assert_eq!(listed.len(), 1);
    assert!(
        api.all("/api/v1/tenants/default/retained", 10)
            .await
            .is_empty()
    );

    let restore = |id: &str| format!("/api/v1/tenants/default/retained/{id}/restore");
    let another = api.call(Method::POST, &restore(&theirs), None).await;
    assert_problem(&another, 404, "not-found", None);
    let unknown = restore("2819c223-7f76-453a-919d-413861904646");
    assert_problem(
        &api.call(Method::POST, &unknown, None).await,
        404,
        "not-found",
        None,
    );
    let huge = "a".repeat(60_000);
    for id in ["not-a-uuid", "%00", "2819c223%007f76", huge.as_str()] {
        let answer = api.call(Method::POST, &restore(id), None).await;
        let status = answer.status.as_u16();
        assert!((400..500).contains(&status), "{status}: {}", answer.body);
    }
    let no_tenant = format!("/api/v1/tenants/nope/retained/{theirs}/restore");
    let no_tenant = api.call(Method::POST, &no_tenant, None).await;
    assert_problem(&no_tenant, 404, "not-found", None);
    let no_list = api.get("/api/v1/tenants/nope/retained").await;
    assert_problem(&no_list, 404, "not-found", None);
    let cursor = api.get("/api/v1/tenants/default/retained?cursor=abc").await;
    assert_problem(&cursor, 422, "validation", Some("cursor"));
    let limit = api.get("/api/v1/tenants/default/retained?limit=0").await;
    assert_problem(&limit, 422, "validation", Some("limit"));
    // the other tenant's user is still retained, and still its own
    assert_eq!(api.all("/api/v1/tenants/other/retained", 10).await, listed);
}

async fn the_deprovisioning_rules_change_through_patch_and_bad_values_are_refused(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    let shown = api.get("/api/v1/tenants/default").await;
    assert_eq!(shown.body["on_delete"], "delete");
    assert_eq!(shown.body["retain_for_seconds"], 2_592_000);
    assert_eq!(shown.body["restore_on_create"], true);
    let change =
        json!({"on_delete": "retain", "retain_for_seconds": 3600, "restore_on_create": false});
    let set = api.patch("/api/v1/tenants/default", change).await;
    assert_eq!(set.status, 200, "{}", set.body);
    assert_eq!(
        (
            &set.body["on_delete"],
            &set.body["retain_for_seconds"],
            &set.body["restore_on_create"]
        ),
        (&json!("retain"), &json!(3600), &json!(false))
    );
    let stored = api.app.state.directory.tenant("default").await.unwrap();
    assert_eq!(stored.policy.deprovisioning.retain_for_secs, 3600);
    assert!(!stored.policy.deprovisioning.restore_on_create);
    for (body, field) in [
        (json!({"on_delete": "archive"}), "on_delete"),
        (json!({"retain_for_seconds": 0}), "retain_for_seconds"),
        (json!({"retain_for_seconds": -5}), "retain_for_seconds"),
        (
            json!({"retain_for_seconds": 99_999_999_999_i64}),
            "retain_for_seconds",
        ),
        (json!({"retain_for_seconds": "30d"}), "retain_for_seconds"),
        (json!({"restore_on_create": "on"}), "restore_on_create"),
    ] {
        let refused = api.patch("/api/v1/tenants/default", body.clone()).await;
        let status = refused.status.as_u16();
        assert!(
            status == 400 || status == 422,
            "{body}: {status} {}",
            refused.body
        );
        assert_eq!(refused.body["field"], field, "{body}: {}", refused.body);
    }
    let unchanged = api.app.state.directory.tenant("default").await.unwrap();
    assert_eq!(
        unchanged.policy, stored.policy,
        "a refused change changes nothing"
    );
    // the audit trail names the change
    let audit = api.get("/api/v1/audit?tenant=default").await;
    let trail = audit.body.to_string();
    assert!(
        trail.contains("on_delete=retain, retain_for=3600s, restore_on_create=off"),
        "{trail}"
    );
}

async fn the_openapi_document_describes_the_rules_and_the_retained_operations_and_a_read_only_key_cannot_restore(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    let document = api.get("/api/v1/openapi.json").await.body;
    let paths = &document["paths"];
    let list = &paths["/api/v1/tenants/{name}/retained"]["get"];
    assert_eq!(list["operationId"], "list_retained");
    assert!(list["responses"]["200"].is_object());
    let restore = &paths["/api/v1/tenants/{name}/retained/{id}/restore"]["post"];
    assert_eq!(restore["operationId"], "restore_retained");
    for status in ["201", "404", "409"] {
        assert!(restore["responses"][status].is_object(), "{status}");
    }
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["DeleteRule"]["enum"], json!(["delete", "retain"]));
    for field in ["on_delete", "retain_for_seconds", "restore_on_create"] {
        assert!(
            schemas["TenantView"]["properties"][field].is_object(),
            "{field}"
        );
        assert!(
            schemas["RulesChange"]["properties"][field].is_object(),
            "{field}"
        );
    }
    retain_through_the_api(&api).await;
    let ids = retained(&api.app, 1).await;
    let reader = api.app.state.directory.add_operator_key("reader", true);
    let reader = reader.await.unwrap().key;
    let path = format!("/api/v1/tenants/default/retained/{}/restore", ids[0]);
    let refused = api.call_with(Method::POST, &path, None, &reader, &[]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let listed = api
        .call_with(
            Method::GET,
            "/api/v1/tenants/default/retained",
            None,
            &reader,
            &[],
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], ids[0].as_str());
}

crate::on_both_stores!(
    the_openapi_document_describes_the_rules_and_the_retained_operations_and_a_read_only_key_cannot_restore,
    an_operator_lists_retained_users_page_by_page_and_restores_one_with_its_id,
    a_restore_whose_name_was_taken_meanwhile_is_a_conflict_naming_user_name,
    unknown_hostile_and_another_tenants_ids_are_refused_with_a_4xx,
    the_deprovisioning_rules_change_through_patch_and_bad_values_are_refused,
);
