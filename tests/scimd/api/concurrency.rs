//! Uniqueness under parallel writes is the database's job: no duplicates, no 5xx.

use std::collections::BTreeMap;

use serde_json::json;

use crate::support::{Backend, TestApp};

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

crate::on_both_stores!(
    twenty_four_parallel_creates_of_one_user_name_give_one_201_and_the_rest_409,
    parallel_replaces_of_one_user_all_succeed_with_distinct_versions,
);
