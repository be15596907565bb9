//! Writes with an `Idempotency-Key`: served once per operator key and key; a retry gets the
//! first answer, flagged `Idempotent-Replayed`; concurrent retries make one change; a key
//! reused for another request is refused; the window is a day.

use std::sync::Arc;

use axum::http::Method;
use serde_json::json;

use super::{Api, assert_problem};
use crate::support::Backend;

crate::on_both_stores!(
    a_retried_create_gets_the_first_answer_and_changes_nothing,
    a_key_sent_with_another_request_is_refused_and_changes_nothing,
    concurrent_retries_make_one_change,
    keys_of_different_operator_keys_do_not_meet,
    a_refusal_is_repeated_too_and_an_answer_is_forgotten_after_a_day,
    an_idempotency_key_that_is_not_visible_ascii_or_too_long_is_refused,
);

async fn a_retried_create_gets_the_first_answer_and_changes_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    let key = api.key.clone();
    let headers = [("idempotency-key", "create-contoso-1")];
    let body = Some(json!({ "name": "contoso", "require_role": true }));
    let first = api
        .call_with(
            Method::POST,
            "/api/v1/tenants",
            body.clone(),
            &key,
            &headers,
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    // the tenant changes meanwhile: the retry still gets what the first request answered
    api.patch("/api/v1/tenants/contoso", json!({ "require_role": false }))
        .await;
    let retry = api
        .call_with(Method::POST, "/api/v1/tenants", body, &key, &headers)
        .await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(retry.header("content-type"), Some("application/json"));
    assert_eq!(retry.body, first.body);
    let audit = api.get("/api/v1/audit?tenant=contoso").await;
    let creations = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "tenant.create")
        .count();
    assert_eq!(creations, 1);
    // a DELETE retried is the same deletion, answered the same
    let headers = [("idempotency-key", "delete-contoso-1")];
    let path = "/api/v1/tenants/contoso?confirm=contoso";
    let deleted = api
        .call_with(Method::DELETE, path, None, &key, &headers)
        .await;
    assert_eq!(deleted.status, 204);
    let again = api
        .call_with(Method::DELETE, path, None, &key, &headers)
        .await;
    assert_eq!(again.status, 204);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}

async fn a_key_sent_with_another_request_is_refused_and_changes_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    let key = api.key.clone();
    let headers = [("idempotency-key", "k-1")];
    let first = api
        .call_with(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({ "name": "contoso" })),
            &key,
            &headers,
        )
        .await;
    assert_eq!(first.status, 201);
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/tenants",
            Some(json!({ "name": "fabrikam" })),
        ),
        (
            Method::PATCH,
            "/api/v1/tenants/contoso",
            Some(json!({ "name": "contoso" })),
        ),
        (
            Method::POST,
            "/api/v1/tenants?x=1",
            Some(json!({ "name": "contoso" })),
        ),
    ] {
        let refused = api.call_with(method, path, body, &key, &headers).await;
        let detail = assert_problem(
            &refused,
            422,
            "idempotency-key-reused",
            Some("Idempotency-Key"),
        );
        assert!(detail.contains("different request"), "{detail}");
    }
    let missing = api.get("/api/v1/tenants/fabrikam").await;
    assert_eq!(missing.status, 404);
}

async fn concurrent_retries_make_one_change(backend: Backend) {
    let api = Arc::new(Api::new(backend).await);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let key = api.key.clone();
            api.call_with(
                Method::POST,
                "/api/v1/tenants/default/tokens",
                Some(json!({ "label": "once" })),
                &key,
                &[("idempotency-key", "issue-once")],
            )
            .await
        }));
    }
    let mut issued = 0;
    for task in tasks {
        let response = task.await.unwrap();
        match response.status.as_u16() {
            201 => issued += 1,
            409 => {
                let kind = response.body["type"].as_str().unwrap().to_owned();
                assert!(
                    kind.ends_with("idempotency-key-in-use")
                        || kind.ends_with("secret-not-repeated"),
                    "{}",
                    response.body
                );
                if kind.ends_with("in-use") {
                    assert_eq!(response.header("retry-after"), Some("1"));
                }
            }
            other => panic!("{other}: {}", response.body),
        }
    }
    assert_eq!(issued, 1);
    let tokens = api.get("/api/v1/tenants/default/tokens").await;
    let labelled = tokens.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["label"] == "once")
        .count();
    assert_eq!(labelled, 1);
}

async fn keys_of_different_operator_keys_do_not_meet(backend: Backend) {
    let api = Api::new(backend).await;
    let other = api
        .app
        .state
        .directory
        .add_operator_key("other", false)
        .await
        .unwrap()
        .key;
    let headers = [("idempotency-key", "same")];
    let mine = api
        .call_with(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({ "name": "contoso" })),
            &api.key.clone(),
            &headers,
        )
        .await;
    assert_eq!(mine.status, 201);
    let theirs = api
        .call_with(
            Method::POST,
            "/api/v1/tenants",
            Some(json!({ "name": "fabrikam" })),
            &other,
            &headers,
        )
        .await;
    assert_eq!(theirs.status, 201, "{}", theirs.body);
    assert_eq!(theirs.header("idempotent-replayed"), None);
}

async fn a_refusal_is_repeated_too_and_an_answer_is_forgotten_after_a_day(backend: Backend) {
    let api = Api::new(backend).await;
    let clock = api.app.state.directory.clock();
    clock.set(clock.now());
    api.tenant("contoso").await;
    let key = api.key.clone();
    let headers = [("idempotency-key", "again")];
    let body = Some(json!({ "name": "contoso" }));
    let refused = api
        .call_with(
            Method::POST,
            "/api/v1/tenants",
            body.clone(),
            &key,
            &headers,
        )
        .await;
    assert_problem(&refused, 409, "conflict", None);
    let repeated = api
        .call_with(
            Method::POST,
            "/api/v1/tenants",
            body.clone(),
            &key,
            &headers,
        )
        .await;
    assert_problem(&repeated, 409, "conflict", None);
    assert_eq!(repeated.header("idempotent-replayed"), Some("true"));
    assert_eq!(repeated.body, refused.body);
    api.delete("/api/v1/tenants/contoso?confirm=contoso").await;
    // a day later the key is forgotten: the same request is served anew
    clock.advance(std::time::Duration::from_secs(24 * 3600 + 1));
    let anew = api
        .call_with(Method::POST, "/api/v1/tenants", body, &key, &headers)
        .await;
    assert_eq!(anew.status, 201, "{}", anew.body);
    assert_eq!(anew.header("idempotent-replayed"), None);
    assert_eq!(api.app.state.directory.forget_answers().await.unwrap(), 0);
    clock.advance(std::time::Duration::from_secs(24 * 3600 + 1));
    assert_eq!(api.app.state.directory.forget_answers().await.unwrap(), 1);
}

async fn an_idempotency_key_that_is_not_visible_ascii_or_too_long_is_refused(backend: Backend) {
    let api = Api::new(backend).await;
    let long = "k".repeat(256);
    for value in ["", "with space", long.as_str()] {
        let refused = api
            .call_with(
                Method::POST,
                "/api/v1/tenants",
                Some(json!({ "name": "contoso" })),
                &api.key.clone(),
                &[("idempotency-key", value)],
            )
            .await;
        assert_problem(&refused, 422, "validation", Some("Idempotency-Key"));
    }
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/v1/tenants")
        .header("authorization", format!("Bearer {}", api.key))
        .header("content-type", "application/json")
        .header(
            "idempotency-key",
            axum::http::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        )
        .body(axum::body::Body::from(r#"{"name":"contoso"}"#))
        .unwrap();
    let refused = api.app.send(req).await;
    assert_problem(&refused, 422, "validation", Some("Idempotency-Key"));
    assert_eq!(api.get("/api/v1/tenants/contoso").await.status, 404);
}
