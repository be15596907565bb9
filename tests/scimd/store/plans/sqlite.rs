//! SQLite's plans for Entra's lookups by each matching attribute, as scimd sends them: each
//! must search through the attribute's own index (SQLite plans a statement when it is prepared,
//! so the plan of a filled table is the one checked).

use std::sync::atomic::Ordering;

use serde_json::json;
use sqlx::{Connection, Row, SqliteConnection};

use scimd::scim::schema::{Registry, ResourceKind};
use scimd::store::{Resources, Store, Tenants};

use super::{SENT, SQLITE_WORKERS, create, lookup, matching};
use crate::support::{Backend, TestDb, open_store};

/// Checks the lookups of a tenant matching on `externalId` then the work email, and by
/// `userName`; run on the capturing thread.
pub(super) async fn lookups_use_their_indexes(registry: &Registry) {
    let db = TestDb::new(Backend::Sqlite).await;
    let store = open_store(&db.url).await;
    store.migrate().await.unwrap();
    let tenant = store.ensure_tenant("default").await.unwrap().id;
    store.set_matching(tenant, matching()).await.unwrap();
    for i in 0..200 {
        let body = json!({"userName": format!("u{i}"), "externalId": format!("e{i}"),
                          "emails": [{"type": "work", "value": format!("u{i}@x.org")}]});
        create(&store, tenant, ResourceKind::User, body).await;
    }
    let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
    // other tests' statements may be logged on SQLite's workers too: each lookup is told
    // apart by what its statement alone holds
    for (filter, needle, index) in [
        (
            "userName eq \"u150\"",
            "and (name_key = ",
            "resources_name_key",
        ),
        (
            "externalId eq \"e150\"",
            "and ((external_id is not null and external_id = ",
            "resources_external_id",
        ),
        (
            "emails[type eq \"work\"].value eq \"u150@x.org\"",
            "and email_key = ",
            "resources_email_key",
        ),
    ] {
        SENT.lock().unwrap().clear();
        SQLITE_WORKERS.store(true, Ordering::SeqCst);
        let listed = store
            .list(tenant, ResourceKind::User, &lookup(registry, filter))
            .await;
        SQLITE_WORKERS.store(false, Ordering::SeqCst);
        assert_eq!(listed.unwrap().total, 1, "{filter}");
        let sent = std::mem::take(&mut *SENT.lock().unwrap());
        let sql = sent
            .iter()
            .find(|s| s.contains(" from resources where ") && s.contains(needle))
            .unwrap_or_else(|| panic!("{filter}: no statement with '{needle}' in {sent:?}"));
        // unbound parameters are null: the plan does not depend on them
        let plan: Vec<String> = sqlx::raw_sql(&format!("explain query plan {sql}"))
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>("detail"))
            .collect();
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH resources USING")
                    && step.contains(&format!("INDEX {index} "))),
            "{filter}: {plan:?}\n{sql}"
        );
    }
}
