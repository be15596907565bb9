//! What a registration left in the database, read behind scimd's back with the backend's own
//! driver: the extensions' unique indexes in the catalog (with PostgreSQL's word on whether
//! each is valid), and the rows of `tenant_schemas` with their state.

use sqlx::{Connection, PgConnection, SqliteConnection};

use crate::support::{Backend, TestDb};

/// An extension's unique index: its name, and whether queries may use it (always on SQLite;
/// on PostgreSQL `pg_index.indisvalid`, false for what a failed concurrent build left).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub valid: bool,
}

/// Every `ext_unique_…` index, by name.
pub async fn extension_indexes(db: &TestDb) -> Vec<Index> {
    let rows: Vec<(String, bool)> = match db.backend {
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(
                "select c.relname::text, i.indisvalid from pg_index i
                 join pg_class c on c.oid = i.indexrelid
                 where c.relname like 'ext\\_unique\\_%' order by 1",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        }
        Backend::Sqlite => {
            let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(
                "select name, 1 from sqlite_master
                 where type = 'index' and name like 'ext\\_unique\\_%' escape '\\' order by 1",
            )
            .fetch_all(&mut conn)
            .await
            .unwrap()
        }
    };
    rows.into_iter()
        .map(|(name, valid)| Index { name, valid })
        .collect()
}

/// The rows of `tenant_schemas`: the URN as registered and the state, by URN.
pub async fn schema_rows(db: &TestDb) -> Vec<(String, String)> {
    let query = "select id, state from tenant_schemas order by id";
    match db.backend {
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(query).fetch_all(&mut conn).await.unwrap()
        }
        Backend::Sqlite => {
            let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(query).fetch_all(&mut conn).await.unwrap()
        }
    }
}
