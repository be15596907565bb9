//! `/api/v1/tenants/{name}/webhooks` refusing: a read-only key reads and changes nothing, no
//! key reads nothing, and fields that are not valid or hostile bodies are refused with the
//! problem that names them, changing nothing.

use axum::http::Method;
use serde_json::{Value, json};

use super::webhooks::{HOOKS, add, webhook_audit};
use super::{Api, assert_problem};
use crate::support::Backend;

crate::on_both_stores!(
    a_read_only_key_reads_webhooks_and_changes_none_and_no_key_reads_nothing,
    webhook_fields_are_checked_and_hostile_bodies_change_nothing,
);

async fn a_read_only_key_reads_webhooks_and_changes_none_and_no_key_reads_nothing(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let id = add(&api, "https://app.example/events").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reader = api
        .app
        .state
        .directory
        .add_operator_key("dashboard", true)
        .await
        .unwrap()
        .key;
    let listed = api.call_with(Method::GET, HOOKS, None, &reader, &[]).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let one = format!("{HOOKS}/{id}");
    assert_eq!(
        api.call_with(Method::GET, &one, None, &reader, &[])
            .await
            .status,
        200
    );
    let writes = [
        (
            Method::POST,
            HOOKS.to_owned(),
            Some(json!({ "url": "https://x.example/" })),
        ),
        (Method::DELETE, one.clone(), None),
        (Method::POST, format!("{one}/pause"), None),
        (Method::POST, format!("{one}/retry"), None),
        (Method::POST, format!("{one}/test"), None),
        (Method::POST, format!("{one}/rotate-secret"), None),
    ];
    for (method, path, body) in writes {
        let refused = api
            .call_with(method.clone(), &path, body.clone(), &reader, &[])
            .await;
        assert_problem(&refused, 403, "forbidden", None);
        let anonymous = api
            .call_with(method, &path, body, "scimd_op_not-a-key", &[])
            .await;
        assert_problem(&anonymous, 401, "unauthorized", None);
    }
    let anonymous = api.call_with(Method::GET, HOOKS, None, "", &[]).await;
    assert_problem(&anonymous, 401, "unauthorized", None);
    assert_eq!(api.all(HOOKS, 100).await.len(), 1);
    assert!(!api.app.state.directory.webhook(&id).await.unwrap().paused);
    assert_eq!(webhook_audit(&api).await.len(), 1);
}

async fn webhook_fields_are_checked_and_hostile_bodies_change_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let refused = [
        (json!({ "url": "http://app.example/events" }), "url"),
        (json!({ "url": "ftp://app.example/events" }), "url"),
        (json!({ "url": "https://user:pw@app.example/" }), "url"),
        (json!({ "url": "not a url" }), "url"),
        (json!({ "url": "https://app.example/a\u{0}b" }), "url"),
        (
            json!({ "url": format!("https://app.example/{}", "a".repeat(5000)) }),
            "url",
        ),
        (json!({ "events": "all" }), "url"),
        (json!({ "url": 7 }), "url"),
        (
            json!({ "url": "https://app.example/", "events": ["create", "frobnicate"] }),
            "events",
        ),
        (
            json!({ "url": "https://app.example/", "events": [] }),
            "events",
        ),
        (
            json!({ "url": "https://app.example/", "events": "some" }),
            "events",
        ),
        (
            json!({ "url": "https://app.example/", "events": ["create,patch"] }),
            "events",
        ),
        (
            json!({ "url": "https://app.example/", "events": "a\u{0}" }),
            "events",
        ),
        (
            json!({ "url": "https://app.example/", "events": [1] }),
            "events",
        ),
        (
            json!({ "url": "https://app.example/", "full": "yes" }),
            "full",
        ),
        (
            json!({ "url": "https://app.example/", "secret": "mine" }),
            "secret",
        ),
    ];
    for (body, field) in refused {
        let response = api.post(HOOKS, body.clone()).await;
        let detail = assert_problem(&response, 422, "validation", Some(field));
        assert!(!detail.contains('\u{0}'), "{body}: {detail}");
    }
    // 10 000 levels deep, at the top and where the body is read as any JSON (`events`)
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_events = format!(r#"{{"url": "https://app.example/", "events": {deep}}}"#);
    let not_an_object = api
        .call_with(
            Method::POST,
            HOOKS,
            Some(Value::String(String::new())),
            &api.key.clone(),
            &[],
        )
        .await;
    assert_problem(&not_an_object, 422, "validation", None);
    for (text, status, kind) in [
        (deep, 400, "malformed-request"),
        (deep_events, 400, "malformed-request"),
    ] {
        let req = axum::http::Request::builder()
            .method(Method::POST)
            .uri(HOOKS)
            .header("authorization", format!("Bearer {}", api.key))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(text))
            .unwrap();
        let response = api.app.send(req).await;
        assert_eq!(response.status, status, "{}", response.body);
        assert_eq!(response.body["type"], format!("urn:scimd:problem:{kind}"));
    }
    let huge = json!({ "url": format!("https://app.example/{}", "a".repeat(8 << 20)) });
    let response = api.post(HOOKS, huge).await;
    assert_problem(&response, 413, "payload-too-large", None);
    // http on a loopback address is for local receivers, as the CLI allows
    for url in [
        "http://127.0.0.1:9/events",
        "http://localhost/e",
        "http://[::1]:8/e",
    ] {
        add(&api, url).await;
    }
    assert_eq!(api.all(HOOKS, 100).await.len(), 3);
    assert_eq!(webhook_audit(&api).await.len(), 3);
}
