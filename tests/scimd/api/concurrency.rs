//! Parallel writes: uniqueness is the database's job (no duplicates, no 5xx), and so is the
//! compare-and-swap on the version (no lost update; a write that keeps losing is 409).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use sqlx::{Connection, PgConnection, SqliteConnection};

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

/// `column` (a resource id) of the rows `filter` picks from `table`, as text.
async fn resource_ids(db: &TestDb, table: &str, filter: &str) -> Vec<String> {
    let mut ids: Vec<String> = match db.backend {
        Backend::Postgres => {
            let query =
                format!("select coalesce(resource_id::text, '') from {table} where {filter}");
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(&query)
                .fetch_all(&mut conn)
                .await
                .unwrap()
        }
        Backend::Sqlite => {
            let query = format!("select coalesce(resource_id, '') from {table} where {filter}");
            let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(&query)
                .fetch_all(&mut conn)
                .await
                .unwrap()
        }
    };
    ids.sort();
    ids
}

/// On PostgreSQL creates that arrive together are written by one statement; a name taken
/// twice in such a group sends each of its creates back to be written alone. Either way each
/// request gets its own answer, and each user its activity row and its event, once.
async fn thirty_two_parallel_creates_with_four_names_sent_twice_store_twenty_eight_users_each_with_its_row_and_event(
    backend: Backend,
) {
    let app = std::sync::Arc::new(TestApp::new(backend).await);
    let mut tasks = Vec::new();
    for i in 0..32 {
        let app = app.clone();
        // requests 28..31 repeat the names of requests 0..3 (32 is a tenant's most at once)
        let name = format!("parallel{}@example.com", if i < 28 { i } else { i - 28 });
        tasks.push(tokio::spawn(async move {
            let res = app
                .post(
                    "/scim/v2/Users",
                    json!({"userName": name, "title": format!("t{i}")}),
                )
                .await;
            (name, res)
        }));
    }
    let (mut created, mut refused) = (BTreeMap::new(), Vec::new());
    for task in tasks {
        let (name, res) = task.await.unwrap();
        match res.status.as_u16() {
            201 => {
                assert_eq!(res.body["userName"], name.as_str());
                let id = res.body["id"].as_str().unwrap().to_owned();
                assert_eq!(
                    res.header("location"),
                    Some(format!("http://scimd.test/scim/v2/Users/{id}").as_str())
                );
                let answer = (
                    name,
                    res.body.clone(),
                    res.header("etag").map(str::to_owned),
                );
                assert!(created.insert(id, answer).is_none(), "ids are distinct");
            }
            _ => {
                let detail = res.assert_scim_error(409, Some("uniqueness"));
                assert_eq!(
                    detail,
                    format!(
                        "a User with userName '{name}' already exists (userName is unique, \
                         case-insensitively)"
                    )
                );
                refused.push(name);
            }
        }
    }
    assert_eq!(created.len(), 28);
    refused.sort();
    let expected: Vec<String> = (0..4).map(|i| format!("parallel{i}@example.com")).collect();
    assert_eq!(refused, expected, "each repeated name refused once");
    for (id, (name, answered, etag)) in &created {
        // the 201 showed exactly what was stored (the grouped writer answers from memory)
        let read = app.get(&format!("/scim/v2/Users/{id}")).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.body["userName"], name.as_str());
        assert_eq!(&read.body, answered);
        assert_eq!(read.header("etag"), etag.as_deref());
    }
    assert_eq!(app.get("/scim/v2/Users").await.body["totalResults"], 28);
    let ids: Vec<String> = created.keys().cloned().collect();
    let logged = resource_ids(&app.db, "activity", "operation = 'create' and status = 201").await;
    assert_eq!(logged, ids, "one activity row per user");
    let evented = resource_ids(&app.db, "events", "resource_type = 'User'").await;
    assert_eq!(evented, ids, "one event per user");
    let refusals = resource_ids(&app.db, "activity", "status = 409").await;
    assert_eq!(refusals.len(), 4, "each refusal logged");
}

crate::on_both_stores!(
    a_write_that_loses_every_compare_and_swap_answers_409_and_changes_nothing,
    twenty_four_parallel_creates_of_one_user_name_give_one_201_and_the_rest_409,
    parallel_replaces_of_one_user_all_succeed_with_distinct_versions,
    thirty_two_parallel_creates_with_four_names_sent_twice_store_twenty_eight_users_each_with_its_row_and_event,
);
