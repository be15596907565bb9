//! Bulk (RFC 7644 §3.7): the RFC's examples with `bulkId` references, dependency order,
//! circular references, `failOnErrors`, `version` as If-Match, and the limits — and requests
//! naming tens of thousands of bulkIds, which must not hold a core while others wait.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::process::{self, Reply};
use crate::support::served::Served;
use crate::support::{Backend, TOKEN, TestApp, TestDb, entra_user};

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn request(ops: Value) -> Value {
    json!({"schemas": [BULK], "Operations": ops})
}

fn statuses(answer: &Value) -> Vec<String> {
    answer["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_group_whose_members_are_bulk_ids_is_created_after_its_users_whatever_the_order(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    // RFC 7644 §3.7.2, the group first: its members name users created later in the request
    let answer = app
        .post(
            "/scim/v2/Bulk",
            request(json!([
                {"method": "POST", "path": "/Groups", "bulkId": "tour",
                 "data": {"displayName": "Tour Guides", "members": [
                     {"type": "User", "value": "bulkId:qwerty"}, {"type": "User", "value": "bulkId:ytrewq"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": entra_user("alice@example.com")},
                {"method": "POST", "path": "/Users", "bulkId": "ytrewq", "data": entra_user("bob@example.com")},
            ])),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    assert_eq!(statuses(&answer.body), ["201", "201", "201"]);
    let ops = answer.body["Operations"].as_array().unwrap();
    assert_eq!(ops[0]["bulkId"], "tour");
    assert_eq!(ops[0]["method"], "POST");
    assert_eq!(ops[0]["version"], "W/\"1\"");
    let location = |i: usize| ops[i]["location"].as_str().unwrap().to_owned();
    let id = |i: usize| location(i).rsplit('/').next().unwrap().to_owned();
    assert!(location(1).starts_with("http://scimd.test/scim/v2/Users/"));
    let group = app.get(&format!("/scim/v2/Groups/{}", id(0))).await;
    let members: Vec<&str> = group.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [id(1), id(2)]);
}

async fn each_operation_answers_for_itself_and_fail_on_errors_stops_the_rest(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = app
        .post("/scim/v2/Users", entra_user("carol@example.com"))
        .await;
    let carol = created.body["id"].as_str().unwrap().to_owned();
    let ops = json!([
        {"method": "POST", "path": "/Users", "bulkId": "dup", "data": entra_user("carol@example.com")},
        {"method": "PATCH", "path": format!("/Users/{carol}"), "version": "W/\"1\"",
         "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "active", "value": false}]}},
        {"method": "PUT", "path": format!("/Users/{carol}"), "version": "W/\"1\"", "data": entra_user("carol@example.com")},
        {"method": "DELETE", "path": format!("/Users/{carol}")},
    ]);
    let answer = app.post("/scim/v2/Bulk", request(ops.clone())).await;
    assert_eq!(
        statuses(&answer.body),
        ["409", "200", "412", "204"],
        "{}",
        answer.body
    );
    let first = &answer.body["Operations"][0];
    assert_eq!(first["response"]["scimType"], "uniqueness");
    assert_eq!(first["bulkId"], "dup");
    assert_eq!(answer.body["Operations"][1]["version"], "W/\"2\"");
    assert_eq!(
        app.get(&format!("/scim/v2/Users/{carol}")).await.status,
        404
    );

    let again = app
        .post("/scim/v2/Users", entra_user("dave@example.com"))
        .await;
    let dave = again.body["id"].as_str().unwrap().to_owned();
    let mut stop = request(json!([
        {"method": "POST", "path": "/Users", "bulkId": "d", "data": entra_user("dave@example.com")},
        {"method": "DELETE", "path": format!("/Users/{dave}")},
    ]));
    stop["failOnErrors"] = json!(1);
    let stopped = app.post("/scim/v2/Bulk", stop).await;
    assert_eq!(statuses(&stopped.body), ["409"], "the rest is not run");
    assert_eq!(app.get(&format!("/scim/v2/Users/{dave}")).await.status, 200);
}

async fn circular_references_are_409_and_an_unknown_bulk_id_is_refused(backend: Backend) {
    let app = TestApp::new(backend).await;
    let answer = app
        .post(
            "/scim/v2/Bulk",
            request(json!([
                {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"displayName": "A", "members": [{"value": "bulkId:b"}]}},
                {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {"displayName": "B", "members": [{"value": "bulkId:a"}]}},
                {"method": "POST", "path": "/Users", "bulkId": "u", "data": entra_user("erin@example.com")},
                {"method": "POST", "path": "/Groups", "bulkId": "c", "data": {"displayName": "C", "members": [{"value": "bulkId:nowhere"}]}},
            ])),
        )
        .await;
    assert_eq!(
        statuses(&answer.body),
        ["409", "409", "201", "400"],
        "{}",
        answer.body
    );
    let detail = answer.body["Operations"][0]["response"]["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("circular"), "{detail}");
    let unknown = answer.body["Operations"][3]["response"]["detail"]
        .as_str()
        .unwrap();
    assert!(
        unknown.contains("bulkId 'nowhere' is not defined"),
        "{unknown}"
    );
    let groups = app.get("/scim/v2/Groups").await;
    assert_eq!(
        groups.body["totalResults"], 0,
        "nothing of the cycle or the bad reference was created"
    );
}

async fn limits_are_advertised_and_enforced(backend: Backend) {
    let app = TestApp::new(backend).await;
    let config = app.get("/scim/v2/ServiceProviderConfig").await;
    assert_eq!(
        config.body["bulk"],
        json!({"supported": true, "maxOperations": 1000, "maxPayloadSize": 1048576})
    );
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")}))
        .collect();
    let answer = app.post("/scim/v2/Bulk", request(Value::Array(many))).await;
    let detail = answer.assert_scim_error(413, None);
    assert!(detail.contains("at most 1000"), "{detail}");
    let not_bulk = app.post("/scim/v2/Bulk", json!({"Operations": []})).await;
    not_bulk.assert_scim_error(400, Some("invalidSyntax"));
    let big = "x".repeat(1_100_000);
    let too_big = app.post("/scim/v2/Bulk", request(json!([{"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": big}}]))).await;
    too_big.assert_scim_error(413, None);
}

/// One POST of a group whose members are `n` distinct bulkIds `{prefix}00000`, … that no
/// operation defines.
fn naming_undefined_bulk_ids(prefix: &str, n: usize) -> String {
    let members: Vec<Value> = (0..n)
        .map(|i| json!({"value": format!("bulkId:{prefix}{i:05}")}))
        .collect();
    let data = json!({"displayName": prefix, "members": members});
    request(json!([{"method": "POST", "path": "/Groups", "bulkId": prefix, "data": data}]))
        .to_string()
}

async fn bulk_requests_naming_36000_bulk_ids_each_leave_healthz_answering_within_half_a_second(
    backend: Backend,
) {
    let db = TestDb::new(backend).await;
    let scimd = Served::start(&db).await;
    let address = scimd.address;
    let prefixes = ["a", "b"];
    let bulks = prefixes.map(|prefix| {
        let body = naming_undefined_bulk_ids(prefix, 36_000);
        assert!(body.len() < 1024 * 1024, "{} bytes", body.len());
        tokio::spawn(async move {
            process::request(address, "POST", "/scim/v2/Bulk", TOKEN, &body)
                .await
                .unwrap()
        })
    });

    // while the two Bulk requests are read, parsed and answered on scimd's two workers
    let mut polls = Vec::new();
    loop {
        let started = Instant::now();
        let health = process::request(address, "GET", "/healthz", "", "")
            .await
            .unwrap();
        polls.push((health.status, started.elapsed()));
        if bulks.iter().all(|bulk| bulk.is_finished()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        polls
            .iter()
            .all(|(status, took)| *status == 200 && *took < Duration::from_millis(500)),
        "/healthz while the Bulk requests ran: {polls:?}"
    );

    for (prefix, bulk) in prefixes.into_iter().zip(bulks) {
        let Reply { status, body } = bulk.await.unwrap();
        assert_eq!(status, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        let detail = format!("bulkId '{prefix}00000' is not defined by a POST of this request");
        assert_eq!(
            answer,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],
                "Operations": [{
                    "method": "POST",
                    "bulkId": prefix,
                    "status": "400",
                    "response": {
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                        "status": "400",
                        "scimType": "invalidValue",
                        "detail": detail,
                    },
                }],
            })
        );
    }
    let groups = process::request(address, "GET", "/scim/v2/Groups", TOKEN, "").await;
    let groups: Value = serde_json::from_str(&groups.unwrap().body).unwrap();
    assert_eq!(groups["totalResults"], 0, "nothing stored: {groups}");
}

crate::on_both_stores!(
    a_group_whose_members_are_bulk_ids_is_created_after_its_users_whatever_the_order,
    each_operation_answers_for_itself_and_fail_on_errors_stops_the_rest,
    circular_references_are_409_and_an_unknown_bulk_id_is_refused,
    limits_are_advertised_and_enforced,
    bulk_requests_naming_36000_bulk_ids_each_leave_healthz_answering_within_half_a_second,
);
