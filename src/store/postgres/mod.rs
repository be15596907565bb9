//! PostgreSQL: documents as JSONB (the folded copy under a GIN index), ids as `uuid`, instants
//! as `timestamptz`. Every statement is prepared once per connection and planned generically;
//! a `LISTEN` connection keeps the token cache live, and token changes `NOTIFY` in their
//! transaction.

mod filter;

/// A pooled connection idle this long is checked with a round trip before it is used.
const IDLE_CHECK: Duration = Duration::from_secs(1);

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{
    PgArgumentBuffer, PgArguments, PgConnectOptions, PgConnection, PgListener, PgPool,
    PgPoolOptions, PgRow, PgTypeInfo,
};
use sqlx::types::Json;
use sqlx::{Arguments, Pool, Transaction};
use uuid::Uuid;

use crate::domain::{MatchingAttribute, TenantId};
use crate::scim::canonical::Document;
use crate::scim::resource::ResourceId;
use crate::store::dialect::{Constraint, Dialect, Record, common_columns, run_with_sqlx};
use crate::store::schemas::UniqueIndex;
use crate::store::sql::SqlStore;
use crate::store::statement::{Arg, Sql};
use crate::store::token_cache::TokenCache;
use crate::store::{Options, StoreError, redact_url};

/// The store on PostgreSQL.
pub type PgStore = SqlStore<Pg>;

/// The PostgreSQL dialect.
#[derive(Debug, Clone, Copy)]
pub struct Pg;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The channel every revocation notifies, so that each replica's token cache forgets.
const TOKEN_CHANNEL: &str = "scimd_tokens";

impl Dialect for Pg {
    type Db = sqlx::Postgres;
    type Row = PgRow;

    async fn connect(
        url: &str,
        options: Options,
        tokens: &Arc<TokenCache>,
    ) -> Result<(PgPool, PgPool), StoreError> {
        let connect: PgConnectOptions = url
            .parse::<PgConnectOptions>()
            .map_err(|e| StoreError::InvalidUrl {
                url: redact_url(url),
                reason: e.to_string(),
            })?
            // Every statement is prepared once per connection and its shape decides its plan
            // (the lookups are index probes whatever the values); without this, PostgreSQL
            // re-plans statements whose generic plan looks costlier on every execution, which
            // halved the lookup throughput (docs/src/contributor/benchmarks.md).
            .options([("plan_cache_mode", "force_generic_plan")])
            // No statement or lock wait holds a connection of the pool for long: past these
            // the statement fails, and the request answers 503 with Retry-After.
            .options([
                ("statement_timeout", millis(options.statement_timeout)),
                ("lock_timeout", millis(options.lock_timeout)),
            ]);
        create_database(url).await?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(Duration::from_secs(5))
            // sqlx checks a connection with a round trip when it goes back to the pool; the
            // check it also makes on every acquire cost a third round trip per request, so it
            // is made only for a connection that sat idle (where a restarted server or a
            // dropped link would show)
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_CHECK {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(connect)
            .await?;
        tokio::spawn(listen_for_token_changes(
            pool.clone(),
            Arc::downgrade(tokens),
        ));
        Ok((pool.clone(), pool))
    }

    async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
        let mut conn = pool.acquire().await?;
        // migrations may build indexes over large tables: no statement or lock time limit
        for setting in ["set statement_timeout = 0", "set lock_timeout = 0"] {
            Self::execute(&mut conn, Sql::new(setting)).await?;
        }
        let migrated = MIGRATOR.run_direct(&mut *conn).await;
        for setting in ["reset statement_timeout", "reset lock_timeout"] {
            Self::execute(&mut conn, Sql::new(setting)).await?;
        }
        Ok(migrated?)
    }

    async fn begin_write(
        pool: &PgPool,
    ) -> Result<Transaction<'static, sqlx::Postgres>, StoreError> {
        pool.begin().await.map_err(Self::store_error)
    }

    run_with_sqlx!();

    fn violated(e: &StoreError) -> Option<Constraint> {
        let StoreError::Other(sqlx::Error::Database(db)) = e else {
            return None;
        };
        if !db.is_unique_violation() {
            return None;
        }
        match db.constraint()? {
            "resources_name_key" => Some(Constraint::ResourceName),
            "resources_external_key" => Some(Constraint::ExternalKey),
            "resources_email_key" => Some(Constraint::EmailKey),
            "tenants_name_key" => Some(Constraint::TenantName),
            "tokens_token_hash_key" => Some(Constraint::TokenHash),
            "tenants_entra_tenant" => Some(Constraint::EntraTenant),
            "operator_keys_name" => Some(Constraint::OperatorKeyName),
            _ => None,
        }
    }

    fn violated_index(e: &StoreError) -> Option<String> {
        let StoreError::Other(sqlx::Error::Database(db)) = e else {
            return None;
        };
        let name = db.constraint()?;
        (db.is_unique_violation() && crate::store::schemas::is_extension_index(name))
            .then(|| name.to_owned())
    }

    const CONCURRENT_INDEXES: bool = true;

    fn extension_unique_index(tenant: TenantId, index: &UniqueIndex) -> String {
        format!(
            "create unique index concurrently {} on resources (tenant_id, resource_type, \
             ((search -> '{}') ->> '{}')) where tenant_id = '{}' and resource_type = '{}'",
            index.name,
            index.urn.replace('\'', "''"),
            index.attribute.replace('\'', "''"),
            tenant.0.hyphenated(),
            index.kind.as_str()
        )
    }

    fn drop_extension_index(name: &str) -> String {
        format!("drop index concurrently if exists {name}")
    }

    async fn run_index_ddl(conn: &mut PgConnection, ddl: Sql) -> Result<(), StoreError> {
        for setting in ["set statement_timeout = 0", "set lock_timeout = 0"] {
            Self::execute(conn, Sql::new(setting)).await?;
        }
        let done = Self::execute(conn, ddl).await;
        for setting in ["reset statement_timeout", "reset lock_timeout"] {
            Self::execute(conn, Sql::new(setting)).await?;
        }
        done.map(drop)
    }

    /// SQLSTATEs (the manual's appendix "PostgreSQL Error Codes") of a server that will
    /// answer later: connection exceptions (08), insufficient resources (53: too many
    /// connections, disk full), operator intervention (57: statement timeout, shutdown, not
    /// yet accepting connections), lock_timeout (55P03); and a serialization failure or
    /// deadlock (40001, 40P01), which scimd's read-committed transactions do not expect: the
    /// client retries the whole request.
    fn transient(code: &str) -> bool {
        ["08", "53", "57"]
            .iter()
            .any(|class| code.starts_with(class))
            || matches!(code, "55P03" | "40001" | "40P01")
    }

    const INDEXES_AFTER_WRITE: bool = false;
    const ONE_POOL: bool = true;

    async fn after_write(
        _: &mut PgConnection,
        _: TenantId,
        _: ResourceId,
        _: &Document,
    ) -> Result<(), StoreError> {
        // the GIN index on `search` indexes the values inside multi-valued attributes
        Ok(())
    }

    async fn announce_token_change(conn: &mut PgConnection) -> Result<(), StoreError> {
        let sql = Sql::new("select pg_notify($1, '')").arg(TOKEN_CHANNEL);
        Self::fetch_optional(conn, sql).await?;
        Ok(())
    }

    const MEMBERSHIPS_BY_MEMBER: &'static str = "memberships m";

    const WORK_EMAILS: &'static str = "(select count(*) from jsonb_array_elements(case jsonb_typeof(search->'emails') \
         when 'array' then search->'emails' else '[]'::jsonb end) as e where e->>'type' = 'work')";

    const GROUP_NAME: &'static str = "(select g.doc->>'displayName' from resources g \
         where g.tenant_id = m.tenant_id and g.id = m.group_id)";

    /// Ordered by name in Rust (an ordered aggregate would set up a sort for every row); each
    /// group's name as `GROUP_NAME` reads it.
    const GROUPS_COLUMN: &'static str =
        "(select jsonb_agg(jsonb_build_array(m.group_id::text, (select g.doc->>'displayName' \
         from resources g where g.tenant_id = m.tenant_id and g.id = m.group_id)))
         from memberships m
         where m.tenant_id = resources.tenant_id and m.member_id = resources.id) as groups";

    const TOKEN_ORDER: &'static str = "tokens.created, tokens.id";
    const CLIENT_ORDER: &'static str = "oauth_clients.created, oauth_clients.client_id";
    const SKIP_LOCKED: &'static str = " for update skip locked";
    const FOR_UPDATE: &'static str = " for update";
    const CODE_POINT_ORDER: &'static str = " collate \"C\"";

    fn in_select(column: &str, select: &str) -> String {
        format!("{column} = any(array({select}))")
    }

    fn id_rows(param: &str) -> String {
        format!("unnest({param}::uuid[]) as u(id)")
    }

    fn member_rows(param: &str) -> String {
        format!("jsonb_to_recordset({param}) as u(id uuid, display text)")
    }

    fn json_text(column: &str, key: &str) -> String {
        format!("{column}->>'{key}'")
    }

    fn match_key(matching: MatchingAttribute) -> &'static str {
        match matching {
            MatchingAttribute::UserName => "null::text",
            MatchingAttribute::ExternalId => "search->>'externalId'",
            MatchingAttribute::WorkEmail => {
                "(select e->>'value' from jsonb_array_elements(case jsonb_typeof(search->'emails') \
                 when 'array' then search->'emails' else '[]'::jsonb end) as e \
                 where e->>'type' = 'work' limit 1)"
            }
        }
    }
}

/// The arguments of a statement in PostgreSQL's types.
fn arguments(args: Vec<Arg>) -> Result<PgArguments, sqlx::Error> {
    let mut out = PgArguments::default();
    for arg in args {
        match arg {
            Arg::Uuid(v) => out.add(v),
            Arg::OptUuid(v) => out.add(v),
            Arg::Uuids(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Texts(v) => out.add(v),
            Arg::Int(v) => out.add(v),
            Arg::Float(v) => out.add(v),
            Arg::Bool(v) => out.add(v),
            Arg::Instant(v) => out.add(v),
            Arg::OptInstant(v) => out.add(v),
            Arg::Json(v) => out.add(JsonText(v)),
            Arg::Bytes(v) => out.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

/// JSON text bound as `jsonb`, without parsing it again.
struct JsonText(String);

impl sqlx::Type<sqlx::Postgres> for JsonText {
    fn type_info() -> PgTypeInfo {
        <Json<()> as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for JsonText {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        // jsonb's binary form: a version byte, then the text
        buf.push(1);
        buf.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

impl Record for PgRow {
    fn uuid(&self, column: &'static str) -> Result<Uuid, StoreError> {
        Ok(sqlx::Row::try_get(self, column)?)
    }

    fn opt_uuid(&self, column: &'static str) -> Result<Option<Uuid>, StoreError> {
        Ok(sqlx::Row::try_get(self, column)?)
    }

    fn instant(&self, column: &'static str) -> Result<DateTime<Utc>, StoreError> {
        Ok(sqlx::Row::try_get(self, column)?)
    }

    fn opt_instant(&self, column: &'static str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(sqlx::Row::try_get(self, column)?)
    }

    fn texts(&self, column: &'static str) -> Result<Option<Vec<String>>, StoreError> {
        Ok(sqlx::Row::try_get(self, column)?)
    }

    common_columns!();
}

/// A duration as PostgreSQL settings take it, in milliseconds.
fn millis(d: Duration) -> String {
    d.as_millis().to_string()
}

/// Creates the database `url` names if the server does not have it.
async fn create_database(url: &str) -> Result<(), StoreError> {
    if sqlx::Postgres::database_exists(url).await? {
        return Ok(());
    }
    match sqlx::Postgres::create_database(url).await {
        Ok(()) => {
            tracing::info!("created database");
            Ok(())
        }
        // another replica created it in the meantime
        Err(e) if sqlx::Postgres::database_exists(url).await.unwrap_or(false) => {
            tracing::debug!(error = %e, "database created concurrently");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Keeps the token cache live while `LISTEN` works, clearing it on every notification; gives
/// up when the store is dropped.
async fn listen_for_token_changes(pool: Pool<sqlx::Postgres>, cache: Weak<TokenCache>) {
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(TOKEN_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listener.await {
            Ok(listener) => {
                if !follow(listener, &cache).await {
                    return;
                }
            }
            Err(e) => {
                if cache.upgrade().is_none() {
                    return;
                }
                tracing::debug!(error = %e, "token change feed unavailable; retrying");
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Clears the cache on every notification until the connection is lost (`true`: listen
/// again) or the store is gone (`false`).
async fn follow(mut listener: PgListener, cache: &Weak<TokenCache>) -> bool {
    let Some(c) = cache.upgrade() else {
        return false;
    };
    c.set_live(true);
    drop(c);
    loop {
        let event = listener.try_recv().await;
        let Some(c) = cache.upgrade() else {
            return false;
        };
        match event {
            Ok(Some(_)) => c.clear(),
            // the connection was lost: no invalidations until a new one listens
            Ok(None) => {
                c.set_live(false);
                return true;
            }
            Err(e) => {
                c.set_live(false);
                tracing::warn!(error = %e, "token change feed lost; tokens are checked on every request");
                return true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_of_a_server_that_will_answer_later_are_transient() {
        for code in [
            "08006", "53300", "57014", "57P01", "57P03", "55P03", "40001", "40P01",
        ] {
            assert!(Pg::transient(code), "{code}");
        }
        for code in ["23505", "23503", "22021", "42P01", "22P02"] {
            assert!(!Pg::transient(code), "{code}");
        }
    }
}
