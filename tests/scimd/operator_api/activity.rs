//! `/api/v1/tenants/{name}/activity` and `…/cycles`: what a tenant's SCIM client did, newest
//! first, with every filter of `scimd activity`, paged by a keyset cursor that requests
//! arriving meanwhile neither shift nor repeat; the rows `scimd activity --json` prints.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use super::{Api, assert_problem};
use crate::support::{Backend, TOKEN, TestResponse};
use scimd::domain::activity::ActivityFilter;
use scimd::http::api::activity::ActivityView;

crate::on_both_stores!(
    the_activity_a_scim_request_made_is_served_with_the_fields_scimd_activity_prints,
    every_filter_of_scimd_activity_selects_its_rows,
    paging_with_a_cursor_while_requests_arrive_skips_and_repeats_nothing,
    a_bad_filter_is_refused_naming_it_and_hostile_values_never_fail,
    keys_and_tenants_guard_the_activity_and_cycles_count_what_was_done,
);

const ACTIVITY: &str = "/api/v1/tenants/default/activity";

/// A SCIM request of the tenant `default` with `request_id`.
async fn scim(
    api: &Api,
    method: Method,
    path: &str,
    request_id: &str,
    body: Option<Value>,
) -> TestResponse {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .header("x-request-id", request_id);
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    api.app.send(req.body(body).unwrap()).await
}

/// Creates the user `name` with the request id `name`; its id.
async fn user(api: &Api, name: &str) -> String {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name
    });
    let created = scim(api, Method::POST, "/scim/v2/Users", name, Some(body)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

/// The rows `scimd activity --json` prints for the tenant `default`, newest first.
async fn printed(api: &Api) -> Vec<Value> {
    let filter = ActivityFilter {
        limit: 1000,
        ..Default::default()
    };
    let rows = api
        .app
        .state
        .directory
        .activity("default", &filter)
        .await
        .unwrap();
    rows.into_iter()
        .rev()
        .map(|a| serde_json::to_value(ActivityView::from(a)).unwrap())
        .collect()
}

/// The request ids of the rows `query` selects, newest first.
async fn request_ids(api: &Api, query: &str) -> Vec<String> {
    api.all(&format!("{ACTIVITY}?{query}"), 2)
        .await
        .iter()
        .map(|r| r["request_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn the_activity_a_scim_request_made_is_served_with_the_fields_scimd_activity_prints(
    backend: Backend,
) {
    let api = Api::new(backend).await;
    let id = user(&api, "alice").await;
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]
    });
    let path = format!("/scim/v2/Users/{id}");
    let patched = scim(&api, Method::PATCH, &path, "off-1", Some(patch)).await;
    assert_eq!(patched.status, 200, "{}", patched.body);

    let page = api.get(ACTIVITY).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("content-type"), Some("application/json"));
    assert!(page.body["next_cursor"].is_null());
    let items = page.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", page.body);
    let newest = &items[0];
    let keys: Vec<&str> = newest
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = [
        "id",
        "at",
        "request_id",
        "credential",
        "method",
        "route",
        "resource_type",
        "resource_id",
        "operation",
        "paths",
        "deactivated",
        "status",
        "scim_type",
        "error",
        "ignored",
        "kept",
        "lifecycle",
    ];
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys_sorted, expected);
    assert_eq!(newest["request_id"], "off-1");
    assert_eq!(newest["method"], "PATCH");
    assert_eq!(newest["route"], "/scim/v2/Users/{id}");
    assert_eq!(newest["resource_type"], "User");
    assert_eq!(newest["resource_id"], id.as_str());
    assert_eq!(newest["operation"], "patch");
    assert_eq!(newest["paths"], "active");
    assert_eq!(newest["deactivated"], true);
    assert_eq!(newest["status"], 200);
    assert_eq!(items[1]["request_id"], "alice");
    assert_eq!(items[1]["operation"], "create");
    assert_eq!(items[1]["status"], 201);
    // the same rows, field for field, as `scimd activity --json` prints them
    assert_eq!(items, &printed(&api).await);
}

async fn every_filter_of_scimd_activity_selects_its_rows(backend: Backend) {
    let api = Api::new(backend).await;
    let alice = user(&api, "alice").await;
    let _bob = user(&api, "bob").await;
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Alice"}]
    });
    let path = format!("/scim/v2/Users/{alice}");
    let patched = scim(&api, Method::PATCH, &path, "rename", Some(patch)).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    let twice = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "alice"
    });
    let refused = scim(&api, Method::POST, "/scim/v2/Users", "again", Some(twice)).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let deleted = scim(&api, Method::DELETE, &path, "gone", None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);

    let all = ["gone", "again", "rename", "bob", "alice"];
    assert_eq!(request_ids(&api, "").await, all);
    assert_eq!(
        request_ids(&api, &format!("resource={alice}")).await,
        ["gone", "rename", "alice"]
    );
    assert_eq!(request_ids(&api, "request_id=rename").await, ["rename"]);
    assert_eq!(request_ids(&api, "status=4xx").await, ["again"]);
    assert_eq!(
        request_ids(&api, "status=2xx").await,
        ["gone", "rename", "bob", "alice"]
    );
    assert!(request_ids(&api, "status=5xx").await.is_empty());
    assert_eq!(request_ids(&api, "operation=patch").await, ["rename"]);
    assert_eq!(request_ids(&api, "operation=DELETE").await, ["gone"]);
    assert_eq!(
        request_ids(&api, "operation=create&status=2xx").await,
        ["bob", "alice"]
    );
    assert_eq!(request_ids(&api, "since=1h").await, all);
    assert!(request_ids(&api, "until=1h").await.is_empty());
    assert!(
        request_ids(&api, "since=2999-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    assert_eq!(
        request_ids(
            &api,
            "since=2000-01-01T00:00:00%2B01:00&until=2999-01-01T00:00:00Z"
        )
        .await,
        all
    );
    // the time of a row as a bound: `since` includes it, `until` excludes it
    let rows = api.all(ACTIVITY, 100).await;
    let at = rows[2]["at"].as_str().unwrap();
    let bound: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    let (mut from, mut before) = (Vec::new(), Vec::new());
    for row in &rows {
        let id = row["request_id"].as_str().unwrap().to_owned();
        let row_at: chrono::DateTime<chrono::Utc> = row["at"].as_str().unwrap().parse().unwrap();
        if row_at >= bound {
            from.push(id);
        } else {
            before.push(id);
        }
    }
    assert!(from.contains(&"rename".to_owned()) && !before.is_empty());
    let at = at.replace('+', "%2B");
    assert_eq!(request_ids(&api, &format!("since={at}")).await, from);
    assert_eq!(request_ids(&api, &format!("until={at}")).await, before);
}

async fn paging_with_a_cursor_while_requests_arrive_skips_and_repeats_nothing(backend: Backend) {
    let api = Api::new(backend).await;
    for i in 0..9 {
        user(&api, &format!("before-{i}")).await;
    }
    let existing: Vec<String> = printed(&api)
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(existing.len(), 9);
    let mut seen: Vec<Value> = Vec::new();
    let mut url = format!("{ACTIVITY}?limit=2");
    let mut pages = 0;
    loop {
        let page = api.get(&url).await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(page.body["items"].as_array().unwrap().iter().cloned());
        pages += 1;
        // new requests between pages
        user(&api, &format!("during-{pages}")).await;
        match page.body["next_cursor"].as_str() {
            Some(cursor) => url = format!("{ACTIVITY}?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let ids: Vec<String> = seen
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, existing, "every row once, newest first");
    let times: Vec<&str> = seen.iter().map(|r| r["at"].as_str().unwrap()).collect();
    let parsed: Vec<chrono::DateTime<chrono::Utc>> =
        times.iter().map(|t| t.parse().unwrap()).collect();
    assert!(parsed.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    // the rows written meanwhile are on a first page read now
    let fresh = api.get(&format!("{ACTIVITY}?limit=5")).await;
    let first: Vec<&str> = fresh.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        first,
        ["during-5", "during-4", "during-3", "during-2", "during-1"]
    );
}

async fn a_bad_filter_is_refused_naming_it_and_hostile_values_never_fail(backend: Backend) {
    let api = Api::new(backend).await;
    user(&api, "alice").await;
    let long = "a".repeat(60_000);
    let cases: Vec<(String, &str)> = vec![
        ("since=yesterday".into(), "since"),
        ("since=99999-01-01T00:00:00Z".into(), "since"),
        ("until=%2B99999-01-01T00:00:00Z".into(), "until"),
        ("since=999999999999d".into(), "since"),
        ("since=0s".into(), "since"),
        ("since=1d%00".into(), "since"),
        ("resource=not-a-uuid".into(), "resource"),
        ("resource=%00".into(), "resource"),
        ("request_id=".into(), "request_id"),
        ("request_id=a%00b".into(), "request_id"),
        ("request_id=a%20b".into(), "request_id"),
        (format!("request_id={long}"), "request_id"),
        ("status=3xx".into(), "status"),
        ("status=200".into(), "status"),
        ("operation=lookup".into(), "operation"),
        ("operation=%00".into(), "operation"),
        ("limit=0".into(), "limit"),
        ("limit=1001".into(), "limit"),
        ("limit=x".into(), "limit"),
        ("cursor=garbage".into(), "cursor"),
    ];
    for (query, field) in cases {
        let response = api.get(&format!("{ACTIVITY}?{query}")).await;
        assert_problem(&response, 422, "validation", Some(field));
    }
    let cycles = api
        .get("/api/v1/tenants/default/cycles?since=99999-01-01T00:00:00Z")
        .await;
    assert_problem(&cycles, 422, "validation", Some("since"));
    // the far past and the far future, within what a time can be, select nothing and fail not
    let far = api
        .get(&format!(
            "{ACTIVITY}?since=9999-12-31T23:59:59Z&until=0001-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(far.body, json!({"items": [], "next_cursor": null}));
    let widest = api.get(&format!("{ACTIVITY}?since=36500d")).await;
    assert_eq!(widest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(printed(&api).await.len(), 1, "reading wrote nothing");
}

async fn keys_and_tenants_guard_the_activity_and_cycles_count_what_was_done(backend: Backend) {
    let api = Api::new(backend).await;
    user(&api, "alice").await;
    user(&api, "bob").await;
    let reader = api
        .app
        .state
        .directory
        .add_operator_key("dashboard", true)
        .await
        .unwrap()
        .key;
    let read = api
        .call_with(Method::GET, ACTIVITY, None, &reader, &[])
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["items"].as_array().unwrap().len(), 2);
    let anonymous = api
        .call_with(Method::GET, ACTIVITY, None, "nope", &[])
        .await;
    assert_problem(&anonymous, 401, "unauthorized", None);
    let post = api.call(Method::POST, ACTIVITY, Some(json!({}))).await;
    assert_problem(&post, 405, "method-not-allowed", None);
    for path in [
        "/api/v1/tenants/nobody/activity",
        "/api/v1/tenants/nobody/cycles",
    ] {
        assert_problem(&api.get(path).await, 404, "not-found", None);
    }
    // another tenant's activity holds none of this one's
    api.tenant("fabrikam").await;
    let theirs = api.get("/api/v1/tenants/fabrikam/activity").await;
    assert_eq!(theirs.body, json!({"items": [], "next_cursor": null}));

    let cycles = api
        .call_with(
            Method::GET,
            "/api/v1/tenants/default/cycles",
            None,
            &reader,
            &[],
        )
        .await;
    assert_eq!(cycles.status, 200, "{}", cycles.body);
    let items = cycles.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", cycles.body);
    assert_eq!(items[0]["created"], json!({"users": 2, "groups": 0}));
    assert_eq!(items[0]["refused"], json!({"users": 0, "groups": 0}));
    let cli = api
        .app
        .state
        .directory
        .cycles(
            "default",
            chrono::Utc::now() - chrono::TimeDelta::days(30),
            chrono::TimeDelta::minutes(10),
        )
        .await
        .unwrap();
    let printed: Vec<Value> = cli
        .into_iter()
        .map(|c| serde_json::to_value(scimd::http::api::cycles::CycleView::from(c)).unwrap())
        .collect();
    assert_eq!(items, &printed);
    let future = api
        .get("/api/v1/tenants/default/cycles?since=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(future.body, json!({"items": [], "next_cursor": null}));
}
