//! SQLite, the embedded default: the same tables as PostgreSQL with ids as text, instants as
//! integer milliseconds and documents as JSON text; WAL with a busy timeout, foreign keys on,
//! writes in `BEGIN IMMEDIATE` transactions. One process owns the file, so there is no token
//! cache to keep in step with other replicas.

mod filter;
mod values;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::types::Json;
use sqlx::{Arguments, Transaction};
use uuid::Uuid;

use crate::domain::{MatchingAttribute, TenantId};
use crate::scim::canonical::Document;
use crate::scim::resource::ResourceId;
use crate::store::dialect::{Constraint, Dialect, Record, common_columns, run_with_sqlx};
use crate::store::schemas::UniqueIndex;
use crate::store::sql::SqlStore;
use crate::store::statement::{Arg, Sql};
use crate::store::token_cache::TokenCache;
use crate::store::{Options, StoreError};

/// The store on SQLite.
pub type SqliteStore = SqlStore<Lite>;

/// The SQLite dialect.
#[derive(Debug, Clone, Copy)]
pub struct Lite;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl Dialect for Lite {
    type Db = sqlx::Sqlite;
    type Row = SqliteRow;

    async fn connect(
        url: &str,
        options: Options,
        _: &Arc<TokenCache>,
    ) -> Result<(SqlitePool, SqlitePool), StoreError> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::InvalidUrl {
                url: url.to_owned(),
                reason: e.to_string(),
            })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a committed write survives a crash of the process and of the machine; Entra
            // never resends an acknowledged `active: false` or DELETE.
            .synchronous(SqliteSynchronous::Full)
            // a writer waits this long for the write lock, then the request answers 503
            .busy_timeout(options.lock_timeout)
            .foreign_keys(true);
        create_private(connect.get_filename())?;
        // a connection to a file cannot be lost: no check on acquire (each is a round trip to
        // the connection's thread)
        let readers = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect.clone())
            .await?;
        // One writer: SQLite writes one transaction at a time anyway, and writers waiting for
        // this connection in the pool's queue are served in order, where writers waiting for
        // the file's lock poll it with growing sleeps (the busy handler).
        let writer = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .acquire_timeout(options.lock_timeout)
            .connect_with(connect)
            .await?;
        Ok((readers, writer))
    }

    async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
        Ok(MIGRATOR.run(pool).await?)
    }

    /// Takes the write lock at once, so two writers never deadlock upgrading a read lock
    /// (they queue on the busy timeout instead).
    async fn begin_write(
        pool: &SqlitePool,
    ) -> Result<Transaction<'static, sqlx::Sqlite>, StoreError> {
        pool.begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Self::store_error)
    }

    run_with_sqlx!();

    fn violated(e: &StoreError) -> Option<Constraint> {
        let StoreError::Other(sqlx::Error::Database(db)) = e else {
            return None;
        };
        if !db.is_unique_violation() {
            return None;
        }
        let columns = db.message().rsplit(':').next()?.trim();
        match columns {
            "resources.tenant_id, resources.resource_type, resources.name_key" => {
                Some(Constraint::ResourceName)
            }
            "resources.external_key, resources.tenant_id" => Some(Constraint::ExternalKey),
            "resources.email_key, resources.tenant_id" => Some(Constraint::EmailKey),
            "tenants.name" => Some(Constraint::TenantName),
            "tokens.token_hash" => Some(Constraint::TokenHash),
            "tenants.entra_tenant_id" => Some(Constraint::EntraTenant),
            _ => None,
        }
        .or_else(|| {
            // an expression index is named in the message instead of its columns
            db.message()
                .contains("index 'operator_keys_name'")
                .then_some(Constraint::OperatorKeyName)
        })
    }

    /// SQLite names an expression index in its message: `UNIQUE constraint failed: index 'x'`.
    fn violated_index(e: &StoreError) -> Option<String> {
        let StoreError::Other(sqlx::Error::Database(db)) = e else {
            return None;
        };
        let name = db
            .message()
            .rsplit_once("index '")?
            .1
            .trim_end_matches('\'');
        (db.is_unique_violation() && crate::store::schemas::is_extension_index(name))
            .then(|| name.to_owned())
    }

    const CONCURRENT_INDEXES: bool = false;

    fn extension_unique_index(tenant: TenantId, index: &UniqueIndex) -> String {
        format!(
            "create unique index {} on resources (tenant_id, resource_type, \
             json_extract(search, '$.\"{}\".{}')) where tenant_id = '{}' and resource_type = '{}'",
            index.name,
            index.urn.replace('\'', "''"),
            index.attribute.replace('\'', "''"),
            tenant.0.hyphenated(),
            index.kind.as_str()
        )
    }

    fn drop_extension_index(name: &str) -> String {
        format!("drop index if exists {name}")
    }

    async fn run_index_ddl(conn: &mut SqliteConnection, ddl: Sql) -> Result<(), StoreError> {
        Self::execute(conn, ddl).await.map(drop)
    }

    /// Result codes (sqlx reports the extended code; its low byte is the primary one) of a
    /// database that will answer later: BUSY (the busy timeout ran out), LOCKED, IOERR, FULL.
    fn transient(code: &str) -> bool {
        code.parse::<i64>()
            .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 10 | 13))
    }

    const INDEXES_AFTER_WRITE: bool = true;
    const ONE_POOL: bool = false;

    async fn after_write(
        conn: &mut SqliteConnection,
        tenant: TenantId,
        id: ResourceId,
        folded: &Document,
    ) -> Result<(), StoreError> {
        values::index(conn, tenant, id, folded).await
    }

    async fn announce_token_change(_: &mut SqliteConnection) -> Result<(), StoreError> {
        // one process per file: nobody else caches tokens
        Ok(())
    }

    const MEMBERSHIPS_BY_MEMBER: &'static str = "memberships m indexed by memberships_member";

    const WORK_EMAILS: &'static str = "(select count(*) from json_each(search, '$.emails') as e \
         where json_extract(e.value, '$.type') = 'work')";

    const GROUP_NAME: &'static str = "(select json_extract(g.doc, '$.displayName') \
         from resources g where g.tenant_id = m.tenant_id and g.id = m.group_id)";

    const GROUPS_COLUMN: &'static str =
        "(select json_group_array(json_array(m.group_id, json_extract(g.doc, '$.displayName')))
         from memberships m indexed by memberships_member
         join resources g on g.tenant_id = m.tenant_id and g.id = m.group_id
         where m.tenant_id = resources.tenant_id and m.member_id = resources.id) as groups";

    const TOKEN_ORDER: &'static str = "tokens.created, tokens.rowid";
    const CLIENT_ORDER: &'static str = "oauth_clients.created, oauth_clients.rowid";
    const SKIP_LOCKED: &'static str = "";
    const FOR_UPDATE: &'static str = "";
    const CODE_POINT_ORDER: &'static str = "";

    /// SQLite runs `in (select …)` as a list it builds once and probes the index with.
    fn in_select(column: &str, select: &str) -> String {
        format!("{column} in ({select})")
    }

    fn id_rows(param: &str) -> String {
        format!("(select value as id from json_each({param})) as u")
    }

    fn member_rows(param: &str) -> String {
        format!(
            "(select json_extract(value, '$.id') as id, json_extract(value, '$.display') as display \
             from json_each({param})) as u"
        )
    }

    fn json_text(column: &str, key: &str) -> String {
        format!("json_extract({column}, '$.{key}')")
    }

    fn match_key(matching: MatchingAttribute) -> &'static str {
        match matching {
            MatchingAttribute::UserName => "null",
            MatchingAttribute::ExternalId => "json_extract(search, '$.externalId')",
            MatchingAttribute::WorkEmail => {
                "(select json_extract(e.value, '$.value') from json_each(search, '$.emails') as e \
                 where json_extract(e.value, '$.type') = 'work' order by e.key limit 1)"
            }
        }
    }
}

/// The arguments of a statement in SQLite's types.
fn arguments(args: Vec<Arg>) -> Result<SqliteArguments<'static>, sqlx::Error> {
    let mut out = SqliteArguments::default();
    for arg in args {
        match arg {
            Arg::Uuid(v) => out.add(v.hyphenated().to_string()),
            Arg::OptUuid(v) => out.add(v.map(|v| v.hyphenated().to_string())),
            Arg::Uuids(v) => out.add(Json(
                v.iter()
                    .map(|id| id.hyphenated().to_string())
                    .collect::<Vec<_>>(),
            )),
            Arg::Text(v) => out.add(v),
            Arg::Texts(v) => out.add(v.map(Json)),
            Arg::Int(v) => out.add(v),
            Arg::Float(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            Arg::Instant(v) => out.add(v.timestamp_millis()),
            Arg::OptInstant(v) => out.add(v.map(|v| v.timestamp_millis())),
            Arg::Json(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

impl Record for SqliteRow {
    fn uuid(&self, column: &'static str) -> Result<Uuid, StoreError> {
        let text: String = sqlx::Row::try_get(self, column)?;
        Uuid::parse_str(&text).map_err(|_| StoreError::corrupt(column, text, "a UUID"))
    }

    fn opt_uuid(&self, column: &'static str) -> Result<Option<Uuid>, StoreError> {
        let text: Option<String> = sqlx::Row::try_get(self, column)?;
        text.map(|t| Uuid::parse_str(&t).map_err(|_| StoreError::corrupt(column, t, "a UUID")))
            .transpose()
    }

    fn instant(&self, column: &'static str) -> Result<DateTime<Utc>, StoreError> {
        instant(column, sqlx::Row::try_get(self, column)?)
    }

    fn opt_instant(&self, column: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let ms: Option<i64> = sqlx::Row::try_get(self, column)?;
        ms.map(|ms| instant(column, ms)).transpose()
    }

    fn texts(&self, column: &'static str) -> Result<Option<Vec<String>>, StoreError> {
        let list: Option<Json<Vec<String>>> = sqlx::Row::try_get(self, column)?;
        Ok(list.map(|j| j.0))
    }

    common_columns!();
}

/// Creates the database file readable by its owner only (0600) if it does not exist yet:
/// it holds token hashes and personal data. SQLite gives its WAL and shared-memory files the
/// database file's permissions.
fn create_private(path: &std::path::Path) -> Result<(), StoreError> {
    if path.as_os_str().is_empty() || path.as_os_str() == ":memory:" || path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // another process created it in the meantime
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::InvalidUrl {
            url: path.display().to_string(),
            reason: format!("cannot create the database file: {e}"),
        }),
    }
}

/// Milliseconds since the epoch, as instants are stored.
fn instant(column: &'static str, ms: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::corrupt(column, ms, "milliseconds since 1970"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_locked_io_and_full_databases_are_transient() {
        // BUSY, BUSY_SNAPSHOT, BUSY_TIMEOUT, LOCKED, IOERR_FSYNC, FULL
        for code in ["5", "517", "773", "6", "1034", "13"] {
            assert!(Lite::transient(code), "{code}");
        }
        // CONSTRAINT_UNIQUE, CONSTRAINT_FOREIGNKEY, ERROR, CONSTRAINT
        for code in ["2067", "787", "1", "19"] {
            assert!(!Lite::transient(code), "{code}");
        }
    }
}
