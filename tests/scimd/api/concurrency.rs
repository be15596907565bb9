//! Parallel writes: uniqueness is the database's job (no duplicates, no 5xx), and so is the
//! compare-and-swap on the version (no lost update; a write that keeps losing is 409).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::support::{Backend, TOKEN, TestApp, TestDb, execute_sql};

async fn twenty_four_parallel_creates_of_one_user_name_give_one_201_and_the_rest_409(
    backend: Backend,
) {
    let app = std::sync::Arc::new(TestApp::new(backend).await);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let name = if i % 2 == 0 {
                "Race@Example.com"
            } else {
                "race@example.COM"
            };
            app.post("/scim/v2/Users", json!({"userName": name}))
                .await
                .status
                .as_u16()
        }));
    }
    let mut statuses = BTreeMap::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap()).or_insert(0) += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(201, 1), (409, 23)]));
    assert_eq!(app.get("/scim/v2/Users").await.body["totalResults"], 1);
}

async fn parallel_replaces_of_one_user_all_succeed_with_distinct_versions(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::new(backend).await);
    let created = app.post("/scim/v2/Users", json!({"userName": "cas"})).await;
    let path = format!("/scim/v2/Users/{}", created.body["id"].as_str().unwrap());
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (app, path) = (app.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            let res = app
                .put(&path, json!({"userName": "cas", "title": format!("t{i}")}))
                .await;
            (res.status.as_u16(), res.header("etag").map(str::to_owned))
        }));
    }
    let mut versions = Vec::new();
    for task in tasks {
        let (status, etag) = task.await.unwrap();
        assert_eq!(status, 200);
        versions.push(etag.unwrap());
    }
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), 6, "every replace got its own version");
    assert_eq!(app.get(&path).await.body["meta"]["version"], "W/\"7\"");
}

/// Makes the database skip every update of resource `id`, as if a concurrent writer won each
/// compare-and-swap.
async fn lose_every_update(db: &TestDb, id: &str) {
    let statements = match db.backend {
        Backend::Postgres => vec![
            "create function scimd_test_lose() returns trigger language plpgsql \
             as $$ begin return null; end $$"
                .to_owned(),
            format!(
                "create trigger scimd_test_lose before update on resources for each row \
                 when (old.id = '{id}') execute function scimd_test_lose()"
            ),
        ],
        Backend::Sqlite => vec![format!(
            "create trigger scimd_test_lose before update on resources \
             when old.id = '{id}' begin select raise(ignore); end"
        )],
    };
    execute_sql(db, &statements).await;
}

async fn a_write_that_loses_every_compare_and_swap_answers_409_and_changes_nothing(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let created = app
        .post(
            "/scim/v2/Users",
            json!({"userName": "contended", "title": "before"}),
        )
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");
    lose_every_update(&app.db, &id).await;
    let expected = format!(
        "User {id} was changed by other requests each time this one tried to apply; retry it"
    );

    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "after"}]
    });
    let patched = app.call(Method::PATCH, &path, Some(patch.clone())).await;
    assert_eq!(patched.assert_scim_error(409, None), expected);
    let replaced = app
        .put(&path, json!({"userName": "contended", "title": "after"}))
        .await;
    assert_eq!(replaced.assert_scim_error(409, None), expected);

    // with If-Match the first lost swap is 412 at once: the client named the version
    let req = Request::patch(&path)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .header(header::IF_MATCH, "W/\"1\"")
        .body(Body::from(patch.to_string()))
        .unwrap();
    let conditional = app.send(req).await;
    assert_eq!(
        conditional.assert_scim_error(412, None),
        format!("User {id} is no longer at version W/\"1\"; read it again and retry")
    );

    let read = app.get(&path).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body, "nothing changed");
}

crate::on_both_stores!(
    a_write_that_loses_every_compare_and_swap_answers_409_and_changes_nothing,
    twenty_four_parallel_creates_of_one_user_name_give_one_201_and_the_rest_409,
    parallel_replaces_of_one_user_all_succeed_with_distinct_versions,
);
