//! Who may call `/api/v1`: an operator key, and nothing else — not a tenant's SCIM token, not
//! an OAuth access token — while an operator key is never valid at `/scim/v2`. A removed key is
//! refused at once on every replica; a read-only key reads and may not write; a key that sends
//! too fast is told to wait.

use axum::http::Method;
use serde_json::json;

use super::{Api, assert_problem};
use crate::support::{Backend, TOKEN, TestApp, settings};

crate::on_both_stores!(
    without_an_operator_key_or_with_a_scim_token_the_api_answers_401_as_a_problem,
    an_operator_key_at_scim_answers_401,
    a_removed_operator_key_is_refused_at_once_on_every_replica,
    a_read_only_key_reads_and_may_not_write,
    a_key_past_its_rate_is_answered_429_with_retry_after_and_other_keys_are_not,
    the_openapi_document_is_served_without_a_key,
);

async fn without_an_operator_key_or_with_a_scim_token_the_api_answers_401_as_a_problem(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    // an OAuth access token of the default tenant, by client credentials
    let client = api
        .app
        .state
        .directory
        .add_client("default", &[])
        .await
        .unwrap();
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client.client.client_id, client.secret
    );
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/oauth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(form))
        .unwrap();
    let granted = api.app.send(req).await;
    assert_eq!(granted.status, 200, "{}", granted.body);
    let access = granted.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        api.call_with(Method::GET, "/scim/v2/Users", None, &access, &[])
            .await
            .status,
        200
    );
    let mangled = format!("{}x", api.key);
    for secret in [
        TOKEN,
        access.as_str(),
        mangled.as_str(),
        "scimd_op_",
        "scimd_op_00",
    ] {
        for (method, path) in [
            (Method::GET, "/api/v1/tenants"),
            (Method::POST, "/api/v1/tenants"),
            (Method::GET, "/api/v1/audit"),
            (Method::DELETE, "/api/v1/tenants/default?confirm=default"),
        ] {
            let body = (method == Method::POST).then(|| json!({ "name": "intruder" }));
            let refused = api.call_with(method.clone(), path, body, secret, &[]).await;
            let detail = assert_problem(&refused, 401, "unauthorized", None);
            assert!(detail.contains("operator key"), "{detail}");
            assert_eq!(
                refused.header("www-authenticate"),
                Some("Bearer realm=\"scimd-api\""),
                "{method} {path}"
            );
        }
    }
    for headers in [
        vec![],
        vec![("authorization", "Basic YWRtaW46YWRtaW4=")],
        vec![("authorization", "Bearer")],
        vec![("authorization", "Bearer ")],
    ] {
        let mut req = axum::http::Request::builder().uri("/api/v1/tenants");
        for (name, value) in &headers {
            req = req.header(*name, *value);
        }
        let refused = api
            .app
            .send(req.body(axum::body::Body::empty()).unwrap())
            .await;
        assert_problem(&refused, 401, "unauthorized", None);
    }
    let tenants = api.app.state.directory.tenants().await.unwrap();
    assert_eq!(tenants.len(), 1, "nothing was created");
}

async fn an_operator_key_at_scim_answers_401(backend: Backend) {
    let api = Api::new(backend).await;
    for path in [
        "/scim/v2/Users",
        "/scim/v2/Groups",
        "/scim/v2/ServiceProviderConfig",
    ] {
        let refused = api
            .call_with(Method::GET, path, None, &api.key.clone(), &[])
            .await;
        refused.assert_scim_error(401, None);
    }
    let create = api
        .call_with(
            Method::POST,
            "/scim/v2/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "intruder"
            })),
            &api.key.clone(),
            &[],
        )
        .await;
    create.assert_scim_error(401, None);
    assert_eq!(api.app.get("/scim/v2/Users").await.body["totalResults"], 0);
}

async fn a_removed_operator_key_is_refused_at_once_on_every_replica(backend: Backend) {
    let api = Api::new(backend).await;
    let replica = TestApp::on(api.app.db.replica()).await;
    let ask = |app: &TestApp| {
        let req = axum::http::Request::builder()
            .uri("/api/v1/tenants")
            .header("authorization", format!("Bearer {}", api.key))
            .body(axum::body::Body::empty())
            .unwrap();
        let app = app.router.clone();
        async move { crate::support::send(&app, req).await }
    };
    // both replicas have the key in their credential caches
    assert_eq!(ask(&api.app).await.status, 200);
    assert_eq!(ask(&replica).await.status, 200);
    let removed = api
        .app
        .state
        .directory
        .remove_operator_key("BACKEND")
        .await
        .unwrap();
    assert_eq!(removed.name, "backend");
    assert_problem(&ask(&api.app).await, 401, "unauthorized", None);
    // the other replica hears of the removal (PostgreSQL notifies; SQLite replicas share the
    // file and the cache is checked against it): within a short wait at most
    let mut last = ask(&replica).await;
    for _ in 0..50 {
        if last.status == 401 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        last = ask(&replica).await;
    }
    assert_problem(&last, 401, "unauthorized", None);
    let keys = api.app.state.directory.operator_keys().await.unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

async fn a_read_only_key_reads_and_may_not_write(backend: Backend) {
    let api = Api::new(backend).await;
    let reader = api
        .app
        .state
        .directory
        .add_operator_key("dashboard", true)
        .await
        .unwrap();
    assert!(reader.info.read_only);
    let read = api
        .call_with(
            Method::GET,
            "/api/v1/tenants/default",
            None,
            &reader.key,
            &[],
        )
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/tenants",
            Some(json!({ "name": "contoso" })),
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/default",
            Some(json!({ "require_role": true })),
        ),
        (
            Method::DELETE,
            "/api/v1/tenants/default?confirm=default",
            None,
        ),
        (
            Method::POST,
            "/api/v1/tenants/default/tokens",
            Some(json!({})),
        ),
    ] {
        let refused = api
            .call_with(method.clone(), path, body, &reader.key, &[])
            .await;
        let detail = assert_problem(&refused, 403, "forbidden", None);
        assert!(
            detail.contains("dashboard") && detail.contains("read-only"),
            "{detail}"
        );
    }
    let tenant = api.app.state.directory.tenant("default").await.unwrap();
    assert!(!tenant.policy.require_role);
    assert_eq!(api.app.state.directory.tenants().await.unwrap().len(), 1);
}

async fn a_key_past_its_rate_is_answered_429_with_retry_after_and_other_keys_are_not(
    backend: Backend,
) {
    let db = crate::support::TestDb::new(backend).await;
    let mut config = settings(&db.url);
    config.api_rate_limit = 2;
    let app = TestApp::configured(db, config).await;
    let dir = &app.state.directory;
    let (fast, other) = (
        dir.add_operator_key("fast", false).await.unwrap().key,
        dir.add_operator_key("other", false).await.unwrap().key,
    );
    let get = |key: String| {
        let req = axum::http::Request::builder()
            .uri("/api/v1/tenants")
            .header("authorization", format!("Bearer {key}"))
            .body(axum::body::Body::empty())
            .unwrap();
        let router = app.router.clone();
        async move { crate::support::send(&router, req).await }
    };
    // a burst of twice the rate, then refusals
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(get(fast.clone()).await.status.as_u16());
    }
    assert_eq!(&statuses[..4], [200, 200, 200, 200], "{statuses:?}");
    assert!(statuses[4..].contains(&429), "{statuses:?}");
    let refused = get(fast.clone()).await;
    let detail = assert_problem(&refused, 429, "rate-limited", None);
    assert!(
        detail.contains("fast") && detail.contains("SCIMD_API_RATE_LIMIT"),
        "{detail}"
    );
    let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert_eq!(get(other).await.status, 200);
}

async fn the_openapi_document_is_served_without_a_key(backend: Backend) {
    let api = Api::new(backend).await;
    let req = axum::http::Request::builder()
        .uri("/api/v1/openapi.json")
        .body(axum::body::Body::empty())
        .unwrap();
    let document = api.app.send(req).await;
    assert_eq!(document.status, 200);
    assert_eq!(document.header("content-type"), Some("application/json"));
    assert_eq!(document.body["openapi"], "3.1.0");
    assert_eq!(
        document.body["components"]["securitySchemes"]["operator_key"]["scheme"],
        "bearer"
    );
    assert!(document.body["paths"]["/api/v1/tenants"]["post"].is_object());
    // every operation has an id of its own (OpenAPI: unique in the document), which clients
    // generated from it name their methods by
    let mut ids = std::collections::BTreeMap::new();
    for (path, item) in document.body["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().expect("an operationId");
            let at = format!("{method} {path}");
            if let Some(first) = ids.insert(id.to_owned(), at.clone()) {
                panic!("operationId {id} names {first} and {at}");
            }
        }
    }
    assert!(ids.len() >= 40, "{ids:?}");
}
