//! Pages of a query (RFC 7644 §3.4.2.3–§3.4.2.5, §3.4.3, RFC 9865): sorting, index and cursor
//! pagination, `count=0`, the projection of every read, and the `.search` endpoints.

use serde_json::{Value, json};

use super::query::{seed, user_names};
use crate::support::{Backend, TestApp, entra_user};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn sort_by_orders_by_type_with_missing_values_last_ascending_and_first_descending(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    seed(&app).await;
    let asc = app.get("/scim/v2/Users?sortBy=title").await;
    assert_eq!(
        user_names(&asc),
        ["emp1", "OMalley", "emp3", "emp2", "enterprise"]
    );
    let desc = app
        .get("/scim/v2/Users?sortBy=Title&sortOrder=DESCENDING")
        .await;
    assert_eq!(
        user_names(&desc),
        ["enterprise", "emp2", "emp3", "OMalley", "emp1"]
    );
    let by_name = app.get("/scim/v2/Users?sortBy=userName").await;
    assert_eq!(
        user_names(&by_name),
        ["emp1", "emp2", "emp3", "enterprise", "OMalley"]
    );
    // multi-valued: the primary value, else the first
    let by_email = app.get("/scim/v2/Users?sortBy=emails.value").await;
    assert_eq!(
        user_names(&by_email),
        ["enterprise", "emp2", "emp3", "OMalley", "emp1"]
    );
    let bad = app
        .get("/scim/v2/Users?sortBy=userName&sortOrder=sideways")
        .await;
    assert_eq!(
        bad.assert_scim_error(400, Some("invalidValue")),
        "sortOrder must be 'ascending' or 'descending', not 'sideways'"
    );
    let unknown = app.get("/scim/v2/Users?sortBy=bogus").await;
    assert_eq!(
        unknown.assert_scim_error(400, Some("invalidValue")),
        "sortBy: attribute 'bogus' is not defined for User"
    );
}

async fn cursor_pages_visit_every_user_once_even_when_users_are_added_between_pages(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    seed(&app).await;
    for sorted in ["", "&sortBy=userName"] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        let mut pages = 0;
        loop {
            let res = app
                .get(&format!("/scim/v2/Users?count=2&cursor={cursor}{sorted}"))
                .await;
            assert_eq!(res.status.as_u16(), 200, "{}", res.body);
            assert!(res.body.get("startIndex").is_none());
            assert!(res.body["totalResults"].as_u64().unwrap() >= 5);
            seen.extend(user_names(&res));
            pages += 1;
            if pages == 1 {
                let late = format!("late{}", sorted.len());
                app.post("/scim/v2/Users", json!({"userName": late})).await;
            }
            match res.body.get("nextCursor").and_then(Value::as_str) {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        let mut originals: Vec<&String> = seen.iter().filter(|n| !n.starts_with("late")).collect();
        originals.sort();
        originals.dedup();
        assert_eq!(originals.len(), 5, "{sorted}: {seen:?}");
        assert_eq!(
            seen.iter().filter(|n| !n.starts_with("late")).count(),
            5,
            "no duplicates: {seen:?}"
        );
        if !sorted.is_empty() {
            assert!(
                !seen.iter().any(|n| n == "late16"),
                "sorted pages keep to the first page's snapshot"
            );
        }
    }
}

async fn a_forged_or_foreign_cursor_is_400_invalid_cursor(backend: Backend) {
    let app = TestApp::new(backend).await;
    seed(&app).await;
    let first = app.get("/scim/v2/Users?count=2&cursor=").await;
    let next = first.body["nextCursor"].as_str().unwrap().to_owned();
    for cursor in ["garbage".to_owned(), next.replace(".a", ".o")] {
        let res = app
            .get(&format!("/scim/v2/Users?count=2&cursor={cursor}"))
            .await;
        res.assert_scim_error(400, Some("invalidCursor"));
    }
    let other_query = app
        .get(&format!(
            "/scim/v2/Users?count=2&cursor={next}&filter=userName+pr"
        ))
        .await;
    other_query.assert_scim_error(400, Some("invalidCursor"));
}

async fn count_zero_with_a_filter_returns_only_the_total(backend: Backend) {
    let app = TestApp::new(backend).await;
    seed(&app).await;
    let res = app
        .get("/scim/v2/Users?filter=userName+sw+%22emp%22&count=0")
        .await;
    assert_eq!(res.body["totalResults"], 3);
    assert_eq!(res.body["itemsPerPage"], 0);
    assert_eq!(res.body["Resources"], json!([]));
}

async fn attributes_and_excluded_attributes_shape_every_read(backend: Backend) {
    let app = TestApp::new(backend).await;
    let ids = seed(&app).await;
    let enterprise = &ids[4];

    let only = app
        .get("/scim/v2/Users?filter=userName+eq+enterprise&attributes=userName,name.familyName")
        .await;
    assert_eq!(
        only.body["Resources"][0],
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": enterprise,
            "userName": "enterprise",
            "name": {"familyName": "Boss"},
        })
    );

    let by_urn = app
        .get(&format!("/scim/v2/Users/{enterprise}?attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"))
        .await;
    assert_eq!(
        by_urn.body,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "id": enterprise,
            ENTERPRISE: {"employeeNumber": "42"},
        })
    );

    let excluded = app
        .get(&format!(
            "/scim/v2/Users/{enterprise}?excludedAttributes=emails,meta,id,{ENTERPRISE}"
        ))
        .await;
    assert_eq!(
        excluded.body,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": enterprise,
            "userName": "enterprise",
            "name": {"familyName": "Boss"},
        })
    );

    // Microsoft's collection sends a value filter inside `attributes`
    let tolerated = app
        .get("/scim/v2/Users?attributes=emails%5Btype+eq+%22work%22%5D")
        .await;
    assert_eq!(tolerated.status.as_u16(), 200);
    assert!(tolerated.body["Resources"][0]["emails"].is_array());
    assert!(tolerated.body["Resources"][0].get("userName").is_none());

    let both = app
        .get("/scim/v2/Users?attributes=userName&excludedAttributes=emails")
        .await;
    both.assert_scim_error(400, Some("invalidValue"));
}

async fn post_and_put_responses_follow_the_projection_too(backend: Backend) {
    let app = TestApp::new(backend).await;
    let created = app
        .post("/scim/v2/Users?attributes=userName", entra_user("proj"))
        .await;
    assert_eq!(created.status.as_u16(), 201);
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        created.body,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": id, "userName": "proj"})
    );
    let replaced = app
        .put(
            &format!("/scim/v2/Users/{id}?excludedAttributes=name,emails,meta,{ENTERPRISE}"),
            entra_user("proj"),
        )
        .await;
    assert_eq!(
        replaced.body,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": id,
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": "proj",
            "active": true,
        })
    );
}

async fn search_by_post_on_users_and_at_the_root_and_get_at_the_root(backend: Backend) {
    let app = TestApp::new(backend).await;
    seed(&app).await;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "attributes": ["userName"],
        "filter": "userName sw \"emp\"",
        "sortBy": "userName",
        "sortOrder": "descending",
        "startIndex": 1,
        "count": 2,
    });
    let users = app.post("/scim/v2/Users/.search", body.clone()).await;
    assert_eq!(users.status.as_u16(), 200, "{}", users.body);
    assert_eq!(users.body["totalResults"], 3);
    assert_eq!(user_names(&users), ["emp3", "emp2"]);
    assert!(users.body["Resources"][0].get("name").is_none());

    let root = app.post("/scim/v2/.search", body).await;
    assert_eq!(root.body["totalResults"], 3);
    assert_eq!(user_names(&root), ["emp3", "emp2"]);

    let get_root = app.get("/scim/v2/?filter=userName+eq+%22emp1%22").await;
    assert_eq!(user_names(&get_root), ["emp1"]);

    let bad = app
        .post("/scim/v2/Users/.search", json!({"count": "two"}))
        .await;
    assert_eq!(
        bad.assert_scim_error(400, Some("invalidValue")),
        "SearchRequest member 'count' has the wrong type"
    );
}

crate::on_both_stores!(
    sort_by_orders_by_type_with_missing_values_last_ascending_and_first_descending,
    cursor_pages_visit_every_user_once_even_when_users_are_added_between_pages,
    a_forged_or_foreign_cursor_is_400_invalid_cursor,
    count_zero_with_a_filter_returns_only_the_total,
    attributes_and_excluded_attributes_shape_every_read,
    post_and_put_responses_follow_the_projection_too,
    search_by_post_on_users_and_at_the_root_and_get_at_the_root,
);
