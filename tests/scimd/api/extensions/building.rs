//! A registration's unique indexes and what they leave: a schema whose values repeat leaves
//! neither index nor row behind, even when another of its indexes was built first; the row
//! of a registration that was interrupted ('building', with its index half built or not at
//! all) is never served, refuses registering the URN again with what to do, and
//! `scimd schema remove` clears it. On PostgreSQL the index is built concurrently: a
//! transaction that holds another tenant's row does not make any tenant's writes wait behind
//! the build, and the schema is served only once its index is valid.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, SqliteConnection};

use scimd::scim::schema::ResourceKind;

use super::catalog::{Index, extension_indexes, schema_rows};
use super::{
    CONTOSO, add, attr, call_as, contoso_schema, count, created, refused, tenant_with_token, user,
};
use crate::support::receiver::eventually;
use crate::support::{Backend, TestApp, TestDb, execute_sql};

/// How long a step that should take moments may take on a loaded machine.
const WAIT: Duration = Duration::from_secs(20);

/// Runs `statement` with the backend's own driver; its error as text.
async fn run(db: &TestDb, statement: &str) -> Result<(), String> {
    let done = match db.backend {
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql(statement).execute(&mut conn).await.map(drop)
        }
        Backend::Sqlite => {
            let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql(statement).execute(&mut conn).await.map(drop)
        }
    };
    done.map_err(|e| e.to_string())
}

/// One text column of the first row of `query`.
async fn text(db: &TestDb, query: &str) -> String {
    match db.backend {
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(query)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
        Backend::Sqlite => {
            let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_scalar(query)
                .fetch_one(&mut conn)
                .await
                .unwrap()
        }
    }
}

async fn a_schema_whose_values_repeat_leaves_neither_index_nor_row_behind(backend: Backend) {
    let app = TestApp::new(backend).await;
    let mut lenient = contoso_schema();
    lenient["attributes"][0]["uniqueness"] = json!("none");
    add(&app, "default", ResourceKind::User, &lenient).await;
    for (name, badge) in [("a", 1), ("b", 1)] {
        let ext = json!({"costCenter": format!("CC-{name}"), "badge": badge});
        created(&app, "Users", user(name, Some(ext))).await;
    }
    app.state
        .directory
        .remove_schema("default", CONTOSO)
        .await
        .unwrap();

    // costCenter's index is built first, then badge's finds 1 twice
    let mut strict = contoso_schema();
    strict["attributes"][1] = json!({"name": "badge", "type": "string", "uniqueness": "server"});
    let reason = refused(&app, "default", ResourceKind::User, &strict).await;
    assert_eq!(
        reason,
        "badge is to be unique, but resources of tenant default already share values of it; \
         make them unique first"
    );
    assert_eq!(extension_indexes(&app.db).await, []);
    assert_eq!(schema_rows(&app.db).await, []);
    app.get(&format!("/scim/v2/Schemas/{CONTOSO}"))
        .await
        .assert_scim_error(404, None);
}

/// Leaves what an interrupted registration of the Contoso extension leaves: its row
/// 'building', and its costCenter index invalid on PostgreSQL (the concurrent build failed
/// on repeated values) or missing on SQLite (the build's transaction rolled back).
async fn interrupt_a_registration(app: &TestApp) {
    let dir = &app.state.directory;
    let db = &app.db;
    add(app, "default", ResourceKind::User, &contoso_schema()).await;
    let (document, ddl) = match db.backend {
        Backend::Postgres => (
            text(db, "select document::text from tenant_schemas").await,
            text(
                db,
                "select indexdef from pg_indexes where indexname like 'ext\\_%'",
            )
            .await
            .replacen("CREATE UNIQUE INDEX", "CREATE UNIQUE INDEX CONCURRENTLY", 1),
        ),
        Backend::Sqlite => (
            text(db, "select document from tenant_schemas").await,
            text(
                db,
                "select sql from sqlite_master where name like 'ext\\_%' escape '\\'",
            )
            .await,
        ),
    };
    dir.remove_schema("default", CONTOSO).await.unwrap();
    // values that repeat, stored while the extension has no uniqueness rule
    let mut lenient = contoso_schema();
    lenient["attributes"][0]["uniqueness"] = json!("none");
    add(app, "default", ResourceKind::User, &lenient).await;
    created(app, "Users", user("a", Some(json!({"costCenter": "CC-1"})))).await;
    created(app, "Users", user("b", Some(json!({"costCenter": "cc-1"})))).await;
    dir.remove_schema("default", CONTOSO).await.unwrap();

    let tenant = dir.tenant("default").await.unwrap().id.0;
    let created = match db.backend {
        Backend::Postgres => "now()",
        Backend::Sqlite => "cast(strftime('%s', 'now') as integer) * 1000",
    };
    execute_sql(
        db,
        &[format!(
            "insert into tenant_schemas
                 (tenant_id, id, urn_key, resource_type, document, created, state)
             values ('{tenant}', '{CONTOSO}', '{}', 'User', '{}', {created}, 'building')",
            CONTOSO.to_ascii_lowercase(),
            document.replace('\'', "''")
        )],
    )
    .await;
    let failed = run(db, &ddl).await.unwrap_err();
    assert!(
        failed.contains("unique") || failed.contains("UNIQUE"),
        "{failed}"
    );
}

async fn an_interrupted_registration_is_not_served_blocks_registering_again_and_remove_clears_it(
    backend: Backend,
) {
    let app = TestApp::new(backend).await;
    let dir = &app.state.directory;
    interrupt_a_registration(&app).await;
    let left = extension_indexes(&app.db).await;
    match backend {
        Backend::Postgres => assert!(
            matches!(&left[..], [Index { valid: false, .. }]),
            "{left:?}"
        ),
        Backend::Sqlite => assert_eq!(left, []),
    }
    assert_eq!(
        schema_rows(&app.db).await,
        [(CONTOSO.to_owned(), "building".to_owned())]
    );

    // not served
    assert!(dir.schemas_of("default").await.unwrap().is_empty());
    app.get(&format!("/scim/v2/Schemas/{CONTOSO}"))
        .await
        .assert_scim_error(404, None);
    let (_, body) = created(
        &app,
        "Users",
        user("c", Some(json!({"costCenter": "CC-3"}))),
    )
    .await;
    assert!(body.get(CONTOSO).is_none(), "{body}");

    // registering it again says what is in the way and what clears it
    match dir
        .add_schema("default", ResourceKind::User, &contoso_schema())
        .await
    {
        Err(scimd::service::Error::Scim(e)) => {
            assert_eq!((e.status, e.scim_type), (409, None));
            assert_eq!(
                e.detail,
                format!(
                    "a registration of {CONTOSO} for tenant default is in progress or was \
                     interrupted; if none is running, `scimd schema remove --tenant default \
                     {CONTOSO}` clears it"
                )
            );
        }
        other => panic!("{other:?}"),
    }

    // remove clears the row and whatever index it had
    let removed = dir.remove_schema("default", CONTOSO).await.unwrap();
    assert_eq!(removed.schema.id, CONTOSO);
    assert_eq!(extension_indexes(&app.db).await, []);
    assert_eq!(schema_rows(&app.db).await, []);
    // registering runs again, and is refused for what it is: values that repeat
    let reason = refused(&app, "default", ResourceKind::User, &contoso_schema()).await;
    assert!(reason.starts_with("costCenter is to be unique"), "{reason}");
    assert_eq!(extension_indexes(&app.db).await, []);
    assert_eq!(schema_rows(&app.db).await, []);
}

/// The backend running `create unique index concurrently`, once it waits for a lock.
async fn build_waiting(db: &TestDb) -> bool {
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let waiting: i64 = sqlx::query_scalar(
        "select count(*) from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock'
           and query like 'create unique index concurrently ext\\_unique\\_%'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    waiting == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_the_index_is_built_concurrently_and_the_schema_served_once_it_is_valid() {
    let app = TestApp::new(Backend::Postgres).await;
    let dir = app.state.directory.clone();
    let token = tenant_with_token(&app, "fabrikam").await;
    let post = async |body: Value| {
        let created = call_as(
            &app,
            &token,
            axum::http::Method::POST,
            "/scim/v2/Users",
            Some(body),
        );
        created.await
    };
    assert_eq!(post(json!({"userName": "held"})).await.status.as_u16(), 201);
    // a transaction of another tenant's write, open while the registration starts
    let mut held = PgConnection::connect(&app.db.url).await.unwrap();
    sqlx::raw_sql("begin; update resources set doc = doc where doc->>'userName' = 'held'")
        .execute(&mut held)
        .await
        .unwrap();
    let registration = tokio::spawn(async move {
        dir.add_schema("default", ResourceKind::User, &contoso_schema())
            .await
    });
    eventually(
        "the build waits for the open transaction",
        WAIT,
        async || build_waiting(&app.db).await,
    )
    .await;

    // meanwhile writes of every tenant go on, and the schema is not served
    assert_eq!(
        post(json!({"userName": "during"})).await.status.as_u16(),
        201
    );
    let (_, body) = created(
        &app,
        "Users",
        user("x", Some(json!({"costCenter": "CC-1"}))),
    )
    .await;
    assert!(body.get(CONTOSO).is_none(), "not served yet: {body}");
    app.get(&format!("/scim/v2/Schemas/{CONTOSO}"))
        .await
        .assert_scim_error(404, None);
    assert_eq!(
        schema_rows(&app.db).await,
        [(CONTOSO.to_owned(), "building".to_owned())]
    );
    assert!(!registration.is_finished());

    sqlx::raw_sql("commit").execute(&mut held).await.unwrap();
    let added = tokio::time::timeout(WAIT, registration)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(added.unwrap().schema.id, CONTOSO);
    let indexes = extension_indexes(&app.db).await;
    assert!(
        matches!(&indexes[..], [Index { valid: true, .. }]),
        "{indexes:?}"
    );
    assert_eq!(
        schema_rows(&app.db).await,
        [(CONTOSO.to_owned(), "ready".to_owned())]
    );
    let served = app.get(&format!("/scim/v2/Schemas/{CONTOSO}")).await;
    assert_eq!(served.status.as_u16(), 200, "{}", served.body);
    created(
        &app,
        "Users",
        user("y", Some(json!({"costCenter": "CC-1"}))),
    )
    .await;
    let dup = app
        .post(
            "/scim/v2/Users",
            user("z", Some(json!({"costCenter": "cc-1"}))),
        )
        .await;
    dup.assert_scim_error(409, Some("uniqueness"));
    assert_eq!(
        count(&app, "Users", &format!("{} pr", attr("costCenter"))).await,
        1
    );
}

crate::on_both_stores!(
    a_schema_whose_values_repeat_leaves_neither_index_nor_row_behind,
    an_interrupted_registration_is_not_served_blocks_registering_again_and_remove_clears_it,
);
