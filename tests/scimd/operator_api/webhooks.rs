//! `/api/v1/tenants/{name}/webhooks`: a webhook added over the API shows its secret once and
//! signs what a real receiver gets with it; it is listed in pages with its delivery state,
//! paused, resumed, retried, rotated and removed as `scimd webhook …` does; another tenant's
//! webhook is not found and nothing changes (refusals: `webhook_refusals`).

use axum::http::Method;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::support::Backend;
use crate::support::receiver::{Receiver, Script, try_verify, verify};

crate::on_both_stores!(
    a_webhook_added_over_the_api_shows_its_secret_once_and_a_test_event_is_signed_with_it,
    webhooks_are_listed_in_pages_paused_resumed_and_removed_as_stored,
    parked_events_are_shown_with_the_webhook_and_queued_again_by_retry,
    another_tenants_webhook_is_not_found_and_nothing_of_it_changes,
    a_retried_add_or_rotation_never_shows_a_secret_again,
    a_test_event_nobody_answers_is_answered_200_saying_it_would_be_retried,
);

pub(super) const HOOKS: &str = "/api/v1/tenants/contoso/webhooks";

/// Adds a webhook of contoso to `url`; its answer's body.
pub(super) async fn add(api: &Api, url: &str) -> Value {
    let added = api.post(HOOKS, json!({ "url": url })).await;
    assert_eq!(added.status, 201, "{}", added.body);
    added.body
}

/// The audit trail's entries of webhooks, newest first.
pub(super) async fn webhook_audit(api: &Api) -> Vec<Value> {
    api.all("/api/v1/audit", 100)
        .await
        .into_iter()
        .filter(|e| e["action"].as_str().unwrap().starts_with("webhook."))
        .collect()
}

/// Creates a user in contoso over SCIM, with a token issued over the API.
async fn scim_user(api: &Api, user_name: &str) {
    let token = api.post("/api/v1/tenants/contoso/tokens", json!({})).await;
    let token = token.body["token"].as_str().unwrap().to_owned();
    let created = api
        .call_with(
            Method::POST,
            "/scim/v2/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": user_name
            })),
            &token,
            &[],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
}

async fn a_webhook_added_over_the_api_shows_its_secret_once_and_a_test_event_is_signed_with_it(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let receiver = Receiver::start().await;
    let added = api
        .post(
            HOOKS,
            json!({ "url": receiver.url(), "events": ["create", "delete"], "full": true }),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let id = added.body["id"].as_str().unwrap().to_owned();
    let secret = added.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(
        added.header("location"),
        Some(format!("{HOOKS}/{id}").as_str())
    );
    assert_eq!(
        added.body,
        json!({
            "id": id, "secret": secret, "tenant": "contoso", "url": receiver.url(),
            "events": ["create", "delete"], "full": true, "paused": false,
            "created": added.body["created"], "delivered": 0, "failed": 0, "backlog": 0,
            "last_success": null, "last_error": null, "last_error_at": null, "retry_at": null
        })
    );
    // stored as the CLI stores it
    let stored = api.app.state.directory.webhook(&id).await.unwrap();
    assert_eq!(
        (stored.url.as_str(), stored.kinds.names(), stored.full),
        (receiver.url().as_str(), vec!["create", "delete"], true)
    );
    let shown = api.get(&format!("{HOOKS}/{id}")).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    let mut expected = added.body.clone();
    expected.as_object_mut().unwrap().remove("secret");
    expected["failures"] = json!([]);
    assert_eq!(shown.body, expected);

    let tested = api.post(&format!("{HOOKS}/{id}/test"), json!({})).await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_eq!(
        tested.body,
        json!({ "outcome": "delivered", "status": 202, "error": null, "body": "" })
    );
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].header("content-type"),
        Some("application/secevent+jwt")
    );
    let claims = verify(&got[0].body, &secret);
    assert_eq!(claims["aud"], json!(receiver.url()), "{claims}");
    assert!(
        claims["events"]["urn:ietf:params:scim:event:misc:test"].is_object(),
        "{claims}"
    );

    // a new secret signs at once; the old one no longer does
    let rotated = api
        .post(&format!("{HOOKS}/{id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert_eq!(rotated.body["id"], json!(id));
    receiver.answer(Script::Refuse {
        err: "invalid_key".into(),
        description: "not this one".into(),
    });
    let refused = api.post(&format!("{HOOKS}/{id}/test"), json!({})).await;
    assert_eq!(refused.status, 200, "{}", refused.body);
    assert_eq!(refused.body["outcome"], "dropped");
    assert_eq!(refused.body["status"], 400);
    assert!(
        refused.body["body"]
            .as_str()
            .unwrap()
            .contains("invalid_key"),
        "{}",
        refused.body
    );
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    verify(&got[1].body, &new_secret);
    assert!(try_verify(&got[1].body, &secret).is_err());
    // a test is not a delivery: nothing is recorded on the webhook
    let shown = api.get(&format!("{HOOKS}/{id}")).await;
    assert_eq!(
        (
            shown.body["delivered"].clone(),
            shown.body["failed"].clone()
        ),
        (json!(0), json!(0))
    );

    let audit = webhook_audit(&api).await;
    let actions: Vec<&str> = audit
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["webhook.rotate", "webhook.add"]);
    for entry in &audit {
        assert_eq!(entry["target"], json!(id));
        assert_eq!(entry["actor"]["name"], "backend");
        let text = entry.to_string();
        assert!(
            !text.contains(&secret) && !text.contains(&new_secret),
            "{text}"
        );
    }
}

async fn webhooks_are_listed_in_pages_paused_resumed_and_removed_as_stored(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        let added = add(&api, &format!("https://app{n}.example/events")).await;
        ids.push(added["id"].as_str().unwrap().to_owned());
        // a millisecond apart: webhooks added within one are listed by id
        let clock = api.app.state.directory.clock();
        clock.advance(std::time::Duration::from_millis(1));
    }
    let listed = api.all(HOOKS, 2).await;
    let urls: Vec<&str> = listed.iter().map(|w| w["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        (1..=5)
            .map(|n| format!("https://app{n}.example/events"))
            .collect::<Vec<_>>()
    );
    for w in &listed {
        assert!(w.get("secret").is_none(), "{w}");
        assert!(!w.to_string().contains("whsec_"), "{w}");
        assert_eq!(w["events"].as_array().unwrap().len(), 6);
    }
    let one = &ids[1];
    let paused = api.post(&format!("{HOOKS}/{one}/pause"), json!({})).await;
    assert_eq!(
        (paused.status.as_u16(), &paused.body["paused"]),
        (200, &json!(true))
    );
    assert!(api.app.state.directory.webhook(one).await.unwrap().paused);
    // again: nothing changes, nothing more is audited
    let again = api.post(&format!("{HOOKS}/{one}/pause"), json!({})).await;
    assert_eq!(again.body["paused"], true);
    let resumed = api
        .call(Method::POST, &format!("{HOOKS}/{one}/resume"), None)
        .await;
    assert_eq!(
        (resumed.status.as_u16(), &resumed.body["paused"]),
        (200, &json!(false))
    );
    assert!(!api.app.state.directory.webhook(one).await.unwrap().paused);
    let actions: Vec<String> = webhook_audit(&api)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(&actions[..2], ["webhook.resume", "webhook.pause"]);
    assert_eq!(actions.len(), 7);

    let removed = api.delete(&format!("{HOOKS}/{one}")).await;
    assert_eq!(
        (removed.status.as_u16(), &removed.body),
        (204, &Value::Null)
    );
    assert!(api.app.state.directory.webhook(one).await.is_err());
    let gone = api.get(&format!("{HOOKS}/{one}")).await;
    assert_problem(&gone, 404, "not-found", None);
    assert_problem(
        &api.delete(&format!("{HOOKS}/{one}")).await,
        404,
        "not-found",
        None,
    );
    assert_eq!(api.all(HOOKS, 100).await.len(), 4);
    let missing = api.get("/api/v1/tenants/nowhere/webhooks").await;
    assert_problem(&missing, 404, "not-found", None);
}

async fn parked_events_are_shown_with_the_webhook_and_queued_again_by_retry(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let id = add(&api, "https://app.example/events").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let nothing = api.post(&format!("{HOOKS}/{id}/retry"), json!({})).await;
    assert_eq!(
        (nothing.status.as_u16(), &nothing.body),
        (200, &json!({ "requeued": 0 }))
    );
    api.post(&format!("{HOOKS}/{id}/pause"), json!({})).await;
    scim_user(&api, "ada@contoso.example").await;
    let shown = api.get(&format!("{HOOKS}/{id}")).await;
    assert_eq!(shown.body["backlog"], 1, "{}", shown.body);
    // paused longer than SCIMD_EVENTS_RETRY_FOR: the event is parked
    let later = Utc::now() + TimeDelta::days(30);
    let parked = api.app.state.directory.park_paused(later).await.unwrap();
    assert_eq!(parked, 1);
    let shown = api.get(&format!("{HOOKS}/{id}")).await;
    assert_eq!(
        (shown.body["backlog"].clone(), shown.body["failed"].clone()),
        (json!(0), json!(1))
    );
    let failures = shown.body["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{}", shown.body);
    assert_eq!(failures[0]["state"], "parked");
    assert_eq!(failures[0]["resource_type"], "User");
    assert!(failures[0]["error"].as_str().unwrap().contains("paused"));

    let retried = api.post(&format!("{HOOKS}/{id}/retry"), json!({})).await;
    assert_eq!(
        (retried.status.as_u16(), &retried.body),
        (200, &json!({ "requeued": 1 }))
    );
    let shown = api.get(&format!("{HOOKS}/{id}")).await;
    assert_eq!(shown.body["backlog"], 1, "{}", shown.body);
    assert_eq!(shown.body["failures"], json!([]));
    let audit = webhook_audit(&api).await;
    assert_eq!(audit[0]["action"], "webhook.retry");
    assert_eq!(audit[0]["detail"], "1 parked event(s) queued again");
    // the tenant keeps an undelivered event: deleting it is refused without force
    let refused = api.delete("/api/v1/tenants/contoso?confirm=contoso").await;
    assert_problem(&refused, 409, "conflict", None);
}

async fn another_tenants_webhook_is_not_found_and_nothing_of_it_changes(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    api.tenant("fabrikam").await;
    let receiver = Receiver::start().await;
    let theirs = api
        .post(
            "/api/v1/tenants/fabrikam/webhooks",
            json!({ "url": receiver.url() }),
        )
        .await;
    let id = theirs.body["id"].as_str().unwrap().to_owned();
    let secret = theirs.body["secret"].as_str().unwrap().to_owned();
    let before = api.app.state.directory.webhook(&id).await.unwrap();
    for (method, tail) in [
        (Method::GET, ""),
        (Method::DELETE, ""),
        (Method::POST, "/pause"),
        (Method::POST, "/resume"),
        (Method::POST, "/retry"),
        (Method::POST, "/test"),
        (Method::POST, "/rotate-secret"),
    ] {
        let path = format!("{HOOKS}/{id}{tail}");
        let response = api.call(method.clone(), &path, None).await;
        let detail = assert_problem(&response, 404, "not-found", None);
        assert!(detail.contains("contoso"), "{method} {path}: {detail}");
        for bad in ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "%00"] {
            let path = format!("/api/v1/tenants/fabrikam/webhooks/{bad}{tail}");
            let response = api.call(method.clone(), &path, None).await;
            assert_problem(&response, 404, "not-found", None);
        }
    }
    assert_eq!(api.app.state.directory.webhook(&id).await.unwrap(), before);
    assert!(receiver.received().is_empty(), "no test was sent");
    assert!(
        webhook_audit(&api).await.len() == 1,
        "only the add is audited"
    );
    // the secret is the one shown when it was added
    let tested = api
        .post(
            &format!("/api/v1/tenants/fabrikam/webhooks/{id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(tested.body["outcome"], "delivered", "{}", tested.body);
    verify(&receiver.received()[0].body, &secret);
}

async fn a_retried_add_or_rotation_never_shows_a_secret_again(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let key = api.key.clone();
    let body = Some(json!({ "url": "https://app.example/events", "events": "all" }));
    let once = [("idempotency-key", "b3e1-add-1")];
    let first = api
        .call_with(Method::POST, HOOKS, body.clone(), &key, &once)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let secret = first.body["secret"].as_str().unwrap().to_owned();
    let retry = api.call_with(Method::POST, HOOKS, body, &key, &once).await;
    assert_problem(&retry, 409, "secret-not-repeated", Some("Idempotency-Key"));
    assert_eq!(retry.body["resource"]["id"], first.body["id"]);
    assert_eq!(retry.body["resource"]["url"], "https://app.example/events");
    assert!(!retry.body.to_string().contains(&secret));
    assert_eq!(api.all(HOOKS, 100).await.len(), 1);

    let id = first.body["id"].as_str().unwrap();
    let rotate = format!("{HOOKS}/{id}/rotate-secret");
    let twice = [("idempotency-key", "b3e1-rotate-1")];
    let rotated = api
        .call_with(Method::POST, &rotate, None, &key, &twice)
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap().to_owned();
    let again = api
        .call_with(Method::POST, &rotate, None, &key, &twice)
        .await;
    assert_problem(&again, 409, "secret-not-repeated", Some("Idempotency-Key"));
    assert!(!again.body.to_string().contains(&new_secret));
    let actions: Vec<String> = webhook_audit(&api)
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        ["webhook.rotate", "webhook.add"],
        "each served once"
    );
}

async fn a_test_event_nobody_answers_is_answered_200_saying_it_would_be_retried(backend: Backend) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    // a receiver that was listening and is gone: its port refuses connections
    let gone = Receiver::start().await;
    let url = gone.url();
    drop(gone);
    tokio::task::yield_now().await;
    let id = add(&api, &url).await["id"].as_str().unwrap().to_owned();
    let tested = api.post(&format!("{HOOKS}/{id}/test"), json!({})).await;
    assert_eq!(tested.status, 200, "{}", tested.body);
    assert_eq!(tested.body["outcome"], "retried", "{}", tested.body);
    assert_eq!(tested.body["status"], Value::Null);
    assert!(
        !tested.body["error"].as_str().unwrap().is_empty(),
        "{}",
        tested.body
    );
    let shown = api.get(&format!("{HOOKS}/{id}")).await;
    assert_eq!(
        shown.body["last_error"],
        Value::Null,
        "a test records nothing"
    );
}
