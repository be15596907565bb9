//! `GET /api/v1/events`: a pull consumer reads its tenant's events as signed SETs, in commit
//! order, with a cursor that skips nothing and repeats nothing, across replicas writing at
//! once; reading on acknowledges; an old cursor replays, one older than what is kept is 410.
//! Consumers are added, listed, shown and removed under `/api/v1/tenants/{name}/consumers`.

use std::collections::HashSet;

use axum::http::Method;
use chrono::TimeDelta;
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::support::receiver::verify;
use crate::support::{Backend, TestApp, entra_user};

crate::on_both_stores!(
    a_pull_consumer_reads_every_event_once_in_commit_order_while_two_replicas_write,
    a_consumer_shows_its_secret_once_and_its_sets_verify_with_it,
    reading_on_acknowledges_and_an_older_cursor_replays_the_same_events,
    a_cursor_older_than_what_is_kept_is_gone_and_the_consumers_own_cursor_is_not,
    feed_refusals_name_the_field_and_change_nothing,
    consumers_and_webhooks_are_apart_and_another_tenants_consumer_is_not_found,
);

const CONSUMERS: &str = "/api/v1/tenants/default/consumers";

/// Adds a consumer of `default` (every kind): its id and secret.
async fn consumer(api: &Api) -> (String, String) {
    let added = api.call(Method::POST, CONSUMERS, None).await;
    assert_eq!(added.status, 201, "{}", added.body);
    let id = added.body["id"].as_str().unwrap().to_owned();
    let secret = added.body["secret"].as_str().unwrap().to_owned();
    (id, secret)
}

/// One read of the feed: its items and next cursor.
async fn read(api: &Api, id: &str, after: Option<&str>, limit: u32) -> (Vec<Value>, String) {
    let url = match after {
        Some(c) => format!("/api/v1/events?consumer={id}&after={c}&limit={limit}"),
        None => format!("/api/v1/events?consumer={id}&limit={limit}"),
    };
    let page = api.get(&url).await;
    assert_eq!(page.status, 200, "{url}: {}", page.body);
    assert_eq!(page.header("content-type"), Some("application/json"));
    let items = page.body["items"].as_array().unwrap().clone();
    let next = page.body["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    (items, next)
}

/// Reads until a read comes back empty: every item, and the cursor to read on from.
async fn drain(api: &Api, id: &str, mut after: Option<String>, limit: u32) -> (Vec<Value>, String) {
    let mut all = Vec::new();
    loop {
        let (items, next) = read(api, id, after.as_deref(), limit).await;
        if items.is_empty() {
            return (all, next);
        }
        all.extend(items);
        after = Some(next);
    }
}

/// The resource id and the kinds (`create`, `patch`, `deactivate`…) of an item.
fn what(item: &Value) -> (String, Vec<String>) {
    let claims = &item["claims"];
    let id = claims["sub_id"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut kinds: Vec<String> = claims["events"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| {
            // urn:ietf:params:scim:event:prov:create:notice, …:prov:deactivate
            let kind = k.split(":prov:").nth(1).unwrap_or(k);
            kind.split(':').next().unwrap().to_owned()
        })
        .collect();
    kinds.sort();
    (id, kinds)
}

/// Creates a user on `app` and deactivates it: two events, create then patch.
async fn create_and_deactivate(app: &TestApp, name: &str) {
    let created = app.post("/scim/v2/Users", entra_user(name)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap();
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]
    });
    let patched = app
        .call(Method::PATCH, &format!("/scim/v2/Users/{id}"), Some(patch))
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
}

async fn a_pull_consumer_reads_every_event_once_in_commit_order_while_two_replicas_write(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    let replica = TestApp::on(api.app.db.replica()).await;
    let (id, secret) = consumer(&api).await;
    // two replicas write 2 × 15 users (a create and a deactivation each) while the consumer
    // reads in small pages, stops, and reads on from its last cursor
    let writers = async {
        for n in 0..15 {
            let (a, b) = (format!("a{n}@contoso.com"), format!("b{n}@contoso.com"));
            tokio::join!(
                create_and_deactivate(&api.app, &a),
                create_and_deactivate(&replica, &b)
            );
        }
    };
    let reader = async {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..40 {
            let (items, next) = read(&api, &id, cursor.as_deref(), 3).await;
            seen.extend(items);
            cursor = Some(next);
            tokio::task::yield_now().await;
        }
        (seen, cursor)
    };
    let ((), (mut seen, cursor)) = tokio::join!(writers, reader);
    // the consumer stopped; it reads on from its last cursor once the writers are done
    let (rest, _) = drain(&api, &id, cursor, 7).await;
    seen.extend(rest);
    assert_eq!(seen.len(), 60, "every event once: {seen:?}");
    let jtis: HashSet<&str> = seen
        .iter()
        .map(|i| i["claims"]["jti"].as_str().unwrap())
        .collect();
    assert_eq!(jtis.len(), 60, "no event twice");
    // commit order: each user's create comes before its deactivation
    let mut created = HashSet::new();
    for item in &seen {
        let claims = verify(item["set"].as_str().unwrap(), &secret);
        assert_eq!(claims, item["claims"], "the SET carries the claims shown");
        let (user, kinds) = what(item);
        if kinds.contains(&"create".to_owned()) {
            assert!(created.insert(user), "one create per user");
        } else {
            assert!(kinds.contains(&"deactivate".to_owned()), "{kinds:?}");
            assert!(
                created.contains(&user),
                "a deactivation read before its create"
            );
        }
    }
    assert_eq!(created.len(), 30);
    // everything read was acknowledged but the last page: the backlog is what follows it
    let shown = api.get(&format!("{CONSUMERS}/{id}")).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.body["backlog"], 0, "{}", shown.body);
    assert_eq!(shown.body["delivered"], 60, "{}", shown.body);
}

async fn a_consumer_shows_its_secret_once_and_its_sets_verify_with_it(backend: Backend) {
    let api = Api::new(backend).await;
    let added = api
        .post(CONSUMERS, json!({"events": ["create"], "full": true}))
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let id = added.body["id"].as_str().unwrap().to_owned();
    let secret = added.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(
        added.header("location"),
        Some(format!("{CONSUMERS}/{id}").as_str())
    );
    assert_eq!(added.body["events"], json!(["create"]));
    assert_eq!(
        (added.body["full"].clone(), added.body["backlog"].clone()),
        (json!(true), json!(0))
    );
    create_and_deactivate(&api.app, "ada@contoso.com").await;
    // only the kinds it reads: the create, with the resource (full)
    let (items, _) = read(&api, &id, None, 10).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let claims = verify(items[0]["set"].as_str().unwrap(), &secret);
    assert_eq!(claims["aud"], format!("urn:scimd:consumer:{id}"));
    let event = claims["events"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!(event["data"]["userName"], "ada@contoso.com", "{claims}");
    // never shown again: not in the consumer, its list, nor the audit trail
    let listed = api.get(CONSUMERS).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    let audit = api.get("/api/v1/audit").await;
    for body in [
        &listed.body,
        &api.get(&format!("{CONSUMERS}/{id}")).await.body,
        &audit.body,
    ] {
        assert!(!body.to_string().contains(&secret), "{body}");
    }
    let entry = &audit.body["items"][0];
    assert_eq!(
        (entry["action"].as_str(), entry["target"].as_str()),
        (Some("consumer.add"), Some(id.as_str()))
    );
    // removed: not found, and its events are no longer read
    let removed = api.delete(&format!("{CONSUMERS}/{id}")).await;
    assert_eq!(removed.status, 204, "{}", removed.body);
    let gone = api.get(&format!("/api/v1/events?consumer={id}")).await;
    assert_problem(&gone, 404, "not-found", None);
}

async fn reading_on_acknowledges_and_an_older_cursor_replays_the_same_events(backend: Backend) {
    let api = Api::new(backend).await;
    let (id, _) = consumer(&api).await;
    for n in 0..3 {
        create_and_deactivate(&api.app, &format!("u{n}@contoso.com")).await;
    }
    let backlog = |body: &Value| body["backlog"].as_u64().unwrap();
    assert_eq!(
        backlog(&api.get(&format!("{CONSUMERS}/{id}")).await.body),
        6
    );
    let (first, after_first) = read(&api, &id, None, 4).await;
    assert_eq!(first.len(), 4);
    // reading is not acknowledging: the backlog goes when the consumer reads on
    assert_eq!(
        backlog(&api.get(&format!("{CONSUMERS}/{id}")).await.body),
        6
    );
    let (second, after_second) = read(&api, &id, Some(&after_first), 4).await;
    assert_eq!(second.len(), 2);
    assert_eq!(
        backlog(&api.get(&format!("{CONSUMERS}/{id}")).await.body),
        2
    );
    // a replay from the start's cursor gives the same events, and acknowledges nothing more
    let (again, _) = read(&api, &id, first[0]["cursor"].as_str(), 10).await;
    assert_eq!(again, [&first[1..], &second[..]].concat());
    assert_eq!(
        backlog(&api.get(&format!("{CONSUMERS}/{id}")).await.body),
        2
    );
    let (none, same) = read(&api, &id, Some(&after_second), 4).await;
    assert!(none.is_empty());
    assert_eq!(
        backlog(&api.get(&format!("{CONSUMERS}/{id}")).await.body),
        0
    );
    // nothing new: it reads on from where it was, and gets what commits next
    create_and_deactivate(&api.app, "late@contoso.com").await;
    let (next, _) = read(&api, &id, Some(&same), 10).await;
    assert_eq!(next.len(), 2, "{next:?}");
    assert_eq!(what(&next[0]).1, ["create"]);
}

async fn a_cursor_older_than_what_is_kept_is_gone_and_the_consumers_own_cursor_is_not(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    let (id, _) = consumer(&api).await;
    for n in 0..2 {
        create_and_deactivate(&api.app, &format!("u{n}@contoso.com")).await;
    }
    let (items, last) = read(&api, &id, None, 2).await;
    let old = items[0]["cursor"].as_str().unwrap().to_owned();
    let (_, own) = read(&api, &id, Some(&last), 1).await;
    // eight days on: past SCIMD_EVENTS_RETENTION (7d) for what it acknowledged, within
    // SCIMD_EVENTS_RETRY_FOR + retention (10d) for what it has not read
    api.app
        .state
        .directory
        .clock()
        .advance(TimeDelta::days(8).to_std().unwrap());
    let gone = api
        .get(&format!("/api/v1/events?consumer={id}&after={old}"))
        .await;
    let detail = assert_problem(&gone, 410, "gone", Some("after"));
    assert!(detail.contains("pruned"), "{detail}");
    let (rest, _) = read(&api, &id, Some(&own), 10).await;
    assert_eq!(
        rest.len(),
        1,
        "the consumer's own cursor reads on: {rest:?}"
    );
}

async fn feed_refusals_name_the_field_and_change_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    let (id, _) = consumer(&api).await;
    create_and_deactivate(&api.app, "ada@contoso.com").await;
    let (_, cursor) = read(&api, &id, None, 1).await;
    let feed = |q: &str| format!("/api/v1/events?consumer={id}&{q}");
    for (query, field) in [
        ("after=not-a-cursor", "after"),
        ("after=%00", "after"),
        ("after=eyJsIjoidGVuYW50cyIsImsiOiJjb250b3NvIn0", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
    ] {
        let refused = api.get(&feed(query)).await;
        assert_problem(&refused, 422, "validation", Some(field));
    }
    let unknown = api
        .get("/api/v1/events?consumer=7d4f0b5e-8a51-4c1e-9a0e-1d2f3a4b5c6d")
        .await;
    assert_problem(&unknown, 404, "not-found", None);
    let no_consumer = api.get("/api/v1/events").await;
    assert_eq!(no_consumer.status, 422, "{}", no_consumer.body);
    let other_tenant = api.get(&feed("tenant=contoso")).await;
    assert_problem(&other_tenant, 404, "not-found", None);
    // nothing was acknowledged by the refusals: the backlog is the two events
    let shown = api.get(&format!("{CONSUMERS}/{id}")).await;
    assert_eq!(shown.body["backlog"], 2, "{}", shown.body);
    let (items, _) = read(&api, &id, Some(&cursor), 10).await;
    assert_eq!(items.len(), 1);
    // a SCIM token is no operator key; a read-only key reads and may not add
    let scim = api
        .call_with(Method::GET, &feed(""), None, crate::support::TOKEN, &[])
        .await;
    assert_problem(&scim, 401, "unauthorized", None);
    let reader = api
        .app
        .state
        .directory
        .add_operator_key("reader", true)
        .await
        .unwrap()
        .key;
    let read_only = api
        .call_with(Method::GET, &feed(""), None, &reader, &[])
        .await;
    assert_eq!(read_only.status, 200, "{}", read_only.body);
    let add = api
        .call_with(Method::POST, CONSUMERS, None, &reader, &[])
        .await;
    assert_problem(&add, 403, "forbidden", None);
}

async fn consumers_and_webhooks_are_apart_and_another_tenants_consumer_is_not_found(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    api.tenant("contoso").await;
    let (id, _) = consumer(&api).await;
    let hooks = api.get("/api/v1/tenants/default/webhooks").await;
    assert_eq!(hooks.body["items"], json!([]), "a consumer is no webhook");
    for path in [
        format!("/api/v1/tenants/default/webhooks/{id}"),
        format!("/api/v1/tenants/contoso/consumers/{id}"),
    ] {
        let refused = api.get(&path).await;
        assert_problem(&refused, 404, "not-found", None);
    }
    let paused = api
        .call(
            Method::POST,
            &format!("/api/v1/tenants/default/webhooks/{id}/pause"),
            None,
        )
        .await;
    assert_problem(&paused, 404, "not-found", None);
    let removed = api
        .delete(&format!("/api/v1/tenants/contoso/consumers/{id}"))
        .await;
    assert_problem(&removed, 404, "not-found", None);
    let kinds = api
        .post(CONSUMERS, json!({"events": ["create", "nope"]}))
        .await;
    assert_problem(&kinds, 422, "validation", Some("events"));
    let unknown = api
        .post(CONSUMERS, json!({"url": "https://x.example"}))
        .await;
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let listed = api.get(CONSUMERS).await;
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        listed.body
    );
}
