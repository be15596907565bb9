//! What a test database holds, read with the backend's own driver behind the store's back:
//! the rows no store method reads back (refresh tokens, console sessions, extension indexes
//! and schema rows), so that a test can assert what a method stored as well as what it
//! returned. Instants are read as milliseconds since the epoch on both backends.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, FromRow, PgConnection, SqliteConnection};
use uuid::Uuid;

use crate::support::{Backend, TestDb};

/// The rows of `postgres` or `sqlite`, whichever query fits the test database.
async fn rows<T>(db: &TestDb, postgres: &str, sqlite: &str) -> Vec<T>
where
    T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin,
{
    match db.backend {
        Backend::Postgres => {
            let mut conn = PgConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(postgres).fetch_all(&mut conn).await.unwrap()
        }
        Backend::Sqlite => {
            let mut conn = SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query_as(sqlite).fetch_all(&mut conn).await.unwrap()
        }
    }
}

/// An instant stored as milliseconds since the epoch.
fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).unwrap()
}

/// A stored refresh token, as `rotate_refresh` judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    pub family: Uuid,
    pub admin: Option<Uuid>,
    pub family_started: Option<DateTime<Utc>>,
    pub expires: DateTime<Utc>,
    pub used: bool,
    pub revoked: bool,
}

type RefreshRow = (
    Vec<u8>,
    String,
    Option<String>,
    Option<i64>,
    i64,
    bool,
    bool,
);

/// Every stored refresh token, by hash.
pub async fn refresh_tokens(db: &TestDb) -> BTreeMap<Vec<u8>, Refresh> {
    let found: Vec<RefreshRow> = rows(
        db,
        "select token_hash, family::text, admin_id::text,
                (extract(epoch from family_started) * 1000)::bigint,
                (extract(epoch from expires_at) * 1000)::bigint,
                used_at is not null, revoked_at is not null
         from refresh_tokens",
        "select token_hash, family, admin_id, family_started, expires_at,
                used_at is not null, revoked_at is not null
         from refresh_tokens",
    )
    .await;
    found
        .into_iter()
        .map(|(hash, family, admin, started, expires, used, revoked)| {
            let refresh = Refresh {
                family: uuid(&family),
                admin: admin.as_deref().map(uuid),
                family_started: started.map(instant),
                expires: instant(expires),
                used,
                revoked,
            };
            (hash, refresh)
        })
        .collect()
}

/// The hashes of the stored console sessions, in byte order.
pub async fn session_hashes(db: &TestDb) -> Vec<Vec<u8>> {
    let query = "select session_hash from admin_sessions order by session_hash";
    let found: Vec<(Vec<u8>,)> = rows(db, query, query).await;
    found.into_iter().map(|(hash,)| hash).collect()
}

/// The names of the extensions' unique indexes, in order.
pub async fn extension_indexes(db: &TestDb) -> Vec<String> {
    let found: Vec<(String,)> = rows(
        db,
        "select indexname::text from pg_indexes
         where indexname like 'ext\\_unique\\_%' order by 1",
        "select name from sqlite_master
         where type = 'index' and name like 'ext\\_unique\\_%' escape '\\' order by 1",
    )
    .await;
    found.into_iter().map(|(name,)| name).collect()
}

/// The rows of `tenant_schemas`: the URN as registered and its state, by URN.
pub async fn schema_rows(db: &TestDb) -> Vec<(String, String)> {
    let query = "select id, state from tenant_schemas order by id";
    rows(db, query, query).await
}
