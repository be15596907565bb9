//! The bounds on membership work: members named per request, and members shown per page of
//! groups (a page is cut short rather than read without bound).

use serde_json::{Value, json};

use super::groups::{group, member_ids, patch, user};
use crate::support::{Backend, TestApp, TestDb, settings};

fn random_ids(n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| json!({"value": uuid::Uuid::new_v4().to_string()}))
        .collect()
}

async fn more_members_than_a_request_may_name_are_400_naming_the_limit(backend: Backend) {
    let app = TestApp::new(backend).await;
    let team = group(&app, "Team").await;
    let expected = "members: a request may add, remove or set at most 1000 members; this one \
                    names 1001; send them in several requests";
    let add = patch(
        &app,
        &team,
        json!([{"op": "add", "path": "members", "value": random_ids(1001)}]),
    )
    .await;
    assert_eq!(add.assert_scim_error(400, Some("invalidValue")), expected);
    // spread over several operations of one request, too
    let spread = patch(
        &app,
        &team,
        json!([
            {"op": "add", "path": "members", "value": random_ids(600)},
            {"op": "remove", "path": "members", "value": random_ids(401)}
        ]),
    )
    .await;
    assert_eq!(
        spread.assert_scim_error(400, Some("invalidValue")),
        expected
    );
    let created = app
        .post(
            "/scim/v2/Groups",
            json!({"displayName": "Big", "members": random_ids(1001)}),
        )
        .await;
    // a body's member list is one multi-valued attribute, held to the same thousand
    assert_eq!(
        created.assert_scim_error(400, Some("invalidValue")),
        "members: has 1001 values; an attribute may have at most 1000"
    );
    let groups = app.get("/scim/v2/Groups").await;
    assert_eq!(groups.body["totalResults"], 1, "nothing was created");
    assert!(member_ids(&app, &team).await.is_empty());
}

async fn a_page_of_groups_holding_more_members_than_a_page_may_show_is_cut_short(backend: Backend) {
    let db = TestDb::new(backend).await;
    let mut config = settings(&db.url);
    config.max_members_per_page = 3;
    let app = TestApp::configured(db, config).await;
    let (a, b) = (user(&app, "a").await, user(&app, "b").await);
    for name in ["One", "Two", "Three"] {
        let g = group(&app, name).await;
        let ops = json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]);
        assert_eq!(patch(&app, &g, ops).await.status.as_u16(), 204);
    }
    let names = |page: &Value| -> Vec<String> {
        page["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["displayName"].as_str().unwrap().to_owned())
            .collect()
    };
    // two members per group: one group per page fits under three
    let first = app.get("/scim/v2/Groups?startIndex=1&count=10").await;
    assert_eq!(first.body["totalResults"], 3);
    assert_eq!(first.body["itemsPerPage"], 1);
    assert_eq!(names(&first.body), ["One"]);
    assert_eq!(
        first.body["Resources"][0]["members"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let next = app.get("/scim/v2/Groups?startIndex=2&count=10").await;
    assert_eq!(names(&next.body), ["Two"]);
    // cursor pages follow the shorter pages
    let mut seen = Vec::new();
    let mut url = "/scim/v2/Groups?count=10&cursor=".to_owned();
    loop {
        let page = app.get(&url).await;
        seen.extend(names(&page.body));
        let Some(next) = page.body.get("nextCursor").and_then(Value::as_str) else {
            break;
        };
        url = format!("/scim/v2/Groups?count=10&cursor={next}");
    }
    assert_eq!(seen, ["One", "Two", "Three"]);
    // without members, a page is not cut
    let lean = app
        .get("/scim/v2/Groups?count=10&excludedAttributes=members")
        .await;
    assert_eq!(names(&lean.body), ["One", "Two", "Three"]);
}

async fn a_member_display_that_cannot_be_stored_is_400_naming_it(backend: Backend) {
    let app = TestApp::new(backend).await;
    let team = group(&app, "Team").await;
    let alice = user(&app, "alice").await;
    let value = json!([{"value": alice, "display": "Al\u{0}ice"}]);
    let res = patch(
        &app,
        &team,
        json!([{"op": "add", "path": "members", "value": value}]),
    )
    .await;
    assert_eq!(
        res.assert_scim_error(400, Some("invalidValue")),
        "Operations[0]: members.display: contains a NUL character, which scimd cannot store"
    );
    assert!(member_ids(&app, &team).await.is_empty());
}

crate::on_both_stores!(
    a_member_display_that_cannot_be_stored_is_400_naming_it,
    more_members_than_a_request_may_name_are_400_naming_the_limit,
    a_page_of_groups_holding_more_members_than_a_page_may_show_is_cut_short,
);
