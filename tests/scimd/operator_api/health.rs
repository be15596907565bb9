//! `/api/v1/health` and `/api/v1/tenants/{name}/health`: a tenant's health checked when asked,
//! with its reasons' counts and fixes; every tenant's recorded health worst first, in pages that
//! skip and repeat nothing; a read-only key reads both; an unknown tenant, a bad cursor or limit,
//! and hostile names are clear problems; the OpenAPI document describes both operations.

use axum::http::Method;
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::api::health::{connected_tenant, creates};
use crate::support::Backend;

crate::on_both_stores!(
    a_tenant_s_health_is_checked_when_asked_with_its_reasons_counts_and_fixes,
    every_tenant_s_health_is_listed_worst_first_in_pages,
    a_read_only_key_reads_health_and_bad_requests_are_clear_problems,
    the_openapi_document_describes_the_health_operations,
);

async fn a_tenant_s_health_is_checked_when_asked_with_its_reasons_counts_and_fixes(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("idle").await;
    let idle = api.get("/api/v1/tenants/idle/health").await;
    assert_eq!(idle.status, 200, "{}", idle.body);
    assert_eq!(idle.header("content-type"), Some("application/json"));
    assert_eq!(idle.body["state"], "not_connected");
    assert_eq!(idle.body["reasons"], json!([]));
    assert_eq!(idle.body["last_accepted"], Value::Null);

    let token = connected_tenant(&api.app, "contoso").await;
    creates(&api.app, &token, 10, 60).await;
    let got = api.get("/api/v1/tenants/contoso/health").await;
    assert_eq!(got.status, 200, "{}", got.body);
    let body = &got.body;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "tenant",
            "state",
            "since",
            "reasons",
            "checked",
            "last_accepted"
        ]
    );
    assert_eq!(body["tenant"], "contoso");
    assert_eq!(body["state"], "degraded");
    assert_eq!(body["reasons"][0]["kind"], "no_role");
    assert_eq!(body["reasons"][0]["count"], 60);
    assert_eq!(body["reasons"][0]["status"], 400);
    assert_eq!(body["reasons"][0]["scim_type"], "invalidValue");
    assert_eq!(body["reasons"][0]["attribute"], "roles");
    let what = body["reasons"][0]["what"].as_str().unwrap();
    assert!(what.starts_with("60 users have no role"), "{what}");
    assert!(!body["reasons"][0]["fix"].as_str().unwrap().is_empty());
    // recorded: the list shows the same, and the change is kept for the notifier
    let listed = api.all("/api/v1/health", 10).await;
    assert_eq!(listed[0], *body);
    let changes = api.app.state.directory.health_changes(0, 10).await.unwrap();
    assert_eq!(changes.last().map(|c| c.state.as_str()), Some("degraded"));

    let missing = api.get("/api/v1/tenants/nobody/health").await;
    assert_problem(&missing, 404, "not-found", None);
}

async fn every_tenant_s_health_is_listed_worst_first_in_pages(backend: Backend) {
    let api = Api::new(backend).await;
    for name in ["b-idle", "a-idle"] {
        api.tenant(name).await;
    }
    connected_tenant(&api.app, "c-fine").await;
    let token = connected_tenant(&api.app, "d-failing").await;
    creates(&api.app, &token, 10, 60).await;
    api.app.state.directory.check_all_health().await.unwrap();
    api.tenant("e-new").await;

    let expected = [
        ("d-failing", "degraded"),
        ("c-fine", "healthy"),
        ("a-idle", "not_connected"),
        ("b-idle", "not_connected"),
        // the test app's own tenant
        ("default", "not_connected"),
        ("e-new", "not_connected"),
    ];
    for limit in [1, 2, 5] {
        let all = api.all("/api/v1/health", limit).await;
        let seen: Vec<(&str, &str)> = all
            .iter()
            .map(|t| (t["tenant"].as_str().unwrap(), t["state"].as_str().unwrap()))
            .collect();
        assert_eq!(seen, expected, "limit {limit}");
    }
    let first = api.get("/api/v1/health?limit=6").await;
    assert_eq!(first.body["next_cursor"], Value::Null);
    assert_eq!(
        first.body["items"][5]["since"],
        Value::Null,
        "a tenant never checked has no since"
    );
}

async fn a_read_only_key_reads_health_and_bad_requests_are_clear_problems(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let reader = api
        .app
        .state
        .directory
        .add_operator_key("dashboard", true)
        .await
        .unwrap()
        .key;
    for path in ["/api/v1/health", "/api/v1/tenants/contoso/health"] {
        let read = api.call_with(Method::GET, path, None, &reader, &[]).await;
        assert_eq!(read.status, 200, "{path}: {}", read.body);
        let anonymous = api.call_with(Method::GET, path, None, "nope", &[]).await;
        assert_eq!(anonymous.status, 401, "{path}");
    }
    let cursor = api.get("/api/v1/health?cursor=%00%00").await;
    assert_problem(&cursor, 422, "validation", Some("cursor"));
    let other = api.get("/api/v1/tenants?limit=1").await;
    assert_eq!(other.status, 200);
    let limit = api.get("/api/v1/health?limit=0").await;
    assert_problem(&limit, 422, "validation", Some("limit"));
    let huge = format!("/api/v1/tenants/{}/health", "x".repeat(60_000));
    let refused = api.get(&huge).await;
    assert!(
        refused.status.is_client_error(),
        "{}: {}",
        refused.status,
        refused.body
    );
    let nul = api.get("/api/v1/tenants/a%00b/health").await;
    assert!(nul.status.is_client_error(), "{}", nul.status);
    assert_eq!(nul.header("content-type"), Some("application/problem+json"));
    let post = api.post("/api/v1/health", json!({})).await;
    assert_eq!(post.status, 405);
}

async fn the_openapi_document_describes_the_health_operations(backend: Backend) {
    let api = Api::new(backend).await;
    let document = api.get("/api/v1/openapi.json").await.body;
    let paths = &document["paths"];
    for (path, id) in [
        ("/api/v1/health", "list_health"),
        ("/api/v1/tenants/{name}/health", "show_health"),
    ] {
        let operation = &paths[path]["get"];
        assert_eq!(operation["operationId"], id, "{path}");
        assert_eq!(operation["tags"], json!(["Health"]), "{id}");
        assert!(operation["responses"]["200"].is_object(), "{id}");
    }
    let states = &document["components"]["schemas"]["StateView"]["enum"];
    assert_eq!(
        *states,
        json!([
            "not_connected",
            "healthy",
            "degraded",
            "silent",
            "at_risk",
            "credentials_rejected"
        ])
    );
}
