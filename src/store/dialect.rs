//! The seam between the one SQL store (`store::sql`) and a database: what differs between
//! PostgreSQL and SQLite, and nothing else. A dialect connects and migrates, runs statements
//! with its own column types (a [`Record`] reads them back), names the uniqueness rule a
//! failed write broke, and supplies the SQL fragments and filter leaves whose text differs
//! (JSON functions, id lists, containment, substring operators). The logic around them —
//! listings, member changes, compare-and-swap, rows to resources — is written once.

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sqlx::{Pool, Transaction};
use uuid::Uuid;

use crate::domain::{MatchingAttribute, TenantId};
use crate::scim::canonical::Document;
use crate::scim::filter::{CompareOp, Filter, Operand, Target};
use crate::scim::list::SortKey;
use crate::scim::resource::ResourceId;
use crate::store::schemas::UniqueIndex;
use crate::store::statement::Sql;
use crate::store::token_cache::TokenCache;
use crate::store::{Options, StoreError};

/// A dialect's pools: for reads, and for writes.
pub type Pools<D> = (Pool<<D as Dialect>::Db>, Pool<<D as Dialect>::Db>);

/// A connection of the dialect's database (of the pool or inside a transaction).
pub type Conn<D> = <<D as Dialect>::Db as sqlx::Database>::Connection;

/// A unique index or constraint of the schema (the same four on every backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// `resources_name_key`: lower-cased `userName` / group `displayName` per tenant.
    ResourceName,
    /// `resources_external_key`: `externalId`, when a matching attribute.
    ExternalKey,
    /// `resources_email_key`: the work email, when a matching attribute.
    EmailKey,
    /// `tenants_name_key`.
    TenantName,
    /// `tokens_token_hash_key`.
    TokenHash,
    /// `tenants_entra_tenant`.
    EntraTenant,
    /// `operator_keys_name`: operator key names, in any case.
    OperatorKeyName,
}

/// What differs between the databases scimd runs on.
pub trait Dialect: Leaves + Sized + Send + Sync + 'static {
    type Db: sqlx::Database;
    type Row: Record;

    /// Connects to the database at `url`, creating it if missing: a pool for reads and one for
    /// writes (the same one where the database lets writers work side by side). A dialect that
    /// can tell every replica when tokens change keeps `tokens` live.
    fn connect(
        url: &str,
        options: Options,
        tokens: &Arc<TokenCache>,
    ) -> impl Future<Output = Result<Pools<Self>, StoreError>> + Send;
    fn migrate(pool: &Pool<Self::Db>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// A transaction for a write (SQLite takes the write lock at once).
    fn begin_write(
        pool: &Pool<Self::Db>,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, StoreError>> + Send;

    fn fetch_all(
        conn: &mut Conn<Self>,
        sql: Sql,
    ) -> impl Future<Output = Result<Vec<Self::Row>, StoreError>> + Send;
    fn fetch_optional(
        conn: &mut Conn<Self>,
        sql: Sql,
    ) -> impl Future<Output = Result<Option<Self::Row>, StoreError>> + Send;
    /// Runs `sql`; the number of rows it changed.
    fn execute(
        conn: &mut Conn<Self>,
        sql: Sql,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Whether an error code of the database means "not now" rather than "never": the same
    /// request can succeed later (answered 503 with `Retry-After`).
    fn transient(code: &str) -> bool;

    /// A database error as the store reports it: transient ones as `Unavailable`.
    fn store_error(e: sqlx::Error) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.code().is_some_and(|c| Self::transient(&c)) => {
                StoreError::Unavailable(e)
            }
            _ => e.into(),
        }
    }

    /// The unique index a failed statement violated.
    fn violated(e: &StoreError) -> Option<Constraint>;
    /// The name of the extension unique index (`ext_unique_…`) `e` violates, if it is one.
    fn violated_index(e: &StoreError) -> Option<String>;
    /// Whether extension indexes are built outside the registration's transaction, without
    /// blocking any tenant's writes meanwhile (PostgreSQL's `create index concurrently`, which
    /// no transaction may hold), the registration being served only once they are valid.
    /// Otherwise they are built in the registration's transaction (SQLite: one writer, so
    /// writes wait for any registration anyway).
    const CONCURRENT_INDEXES: bool;
    /// The DDL of `index` for `tenant`: unique over the attribute's folded value among the
    /// tenant's resources of its type (names and URNs were checked when the schema was read);
    /// built concurrently where [`Self::CONCURRENT_INDEXES`].
    fn extension_unique_index(tenant: TenantId, index: &UniqueIndex) -> String;
    /// The DDL that drops the extension index `name` if it exists (left valid or invalid),
    /// concurrently where [`Self::CONCURRENT_INDEXES`]; `name` is an extension index's.
    fn drop_extension_index(name: &str) -> String;
    /// Runs the index DDL `ddl` on `conn`, outside any transaction where
    /// [`Self::CONCURRENT_INDEXES`], without the statement and lock time limits of the pool's
    /// connections: a concurrent build waits for the transactions that were running when it
    /// began, and then reads the whole table.
    fn run_index_ddl(
        conn: &mut Conn<Self>,
        ddl: Sql,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Whether `after_write` writes anything (SQLite's table of indexed values).
    const INDEXES_AFTER_WRITE: bool;
    /// Whether `connect` gives one pool for reads and writes (the writer is the same pool).
    const ONE_POOL: bool;
    /// Runs after a resource's document is written, in its transaction (SQLite keeps its
    /// index of multi-valued attribute values here).
    fn after_write(
        conn: &mut Conn<Self>,
        tenant: TenantId,
        id: ResourceId,
        folded: &Document,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Runs in the transaction of every change of tokens or tenant rules, so that other
    /// replicas' token caches forget when it commits.
    fn announce_token_change(
        conn: &mut Conn<Self>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `memberships m` as a statement names it to read a member's rows: SQLite, without
    /// statistics, would rather scan the tenant's rows in the covering primary key than probe
    /// the member index, so there it says which index.
    const MEMBERSHIPS_BY_MEMBER: &'static str;
    /// How many work emails a user's `search` document lists (an integer expression).
    const WORK_EMAILS: &'static str;
    /// The displayName of the group of the membership `m`, read by the group's primary key
    /// in a subquery: as a join, a plan made on an empty table may scan every resource of
    /// the tenant for each membership.
    const GROUP_NAME: &'static str;
    /// The users' groups as a listing column `groups`: `[[group id, displayName], …]`.
    const GROUPS_COLUMN: &'static str;
    /// Tokens in the order they were issued.
    const TOKEN_ORDER: &'static str;
    /// OAuth clients in the order they were added (`created` alone ties within SQLite's
    /// milliseconds).
    const CLIENT_ORDER: &'static str;
    /// What ends a `select` whose rows one process claims while others skip them
    /// (PostgreSQL's `for update skip locked`; SQLite has one writer and nothing to add).
    const SKIP_LOCKED: &'static str;
    /// What ends a `select` whose rows the transaction holds until it ends, so that others
    /// wanting them wait (PostgreSQL's `for update`; SQLite has one writer and nothing to
    /// add).
    const FOR_UPDATE: &'static str;
    /// What makes a text comparison or order follow code points (like Rust's `str`), whatever
    /// the database's collation: ` collate "C"` on PostgreSQL; nothing on SQLite (binary).
    const CODE_POINT_ORDER: &'static str;
    /// `column in (select)`, where `select` returns at most a batch of keys, as a condition
    /// that reads `column`'s rows by its index whatever the statistics. PostgreSQL computes
    /// `= any(array(…))` once and probes; a plain `in` planned while the table was small is a
    /// hash join that scans the whole table in every later run of the cached plan.
    fn in_select(column: &str, select: &str) -> String;
    /// The ids of the id-list parameter `param`, as a relation `u(id)`.
    fn id_rows(param: &str) -> String;
    /// The elements `{"id", "display"}` of the JSON parameter `param`, as a relation
    /// `u(id, display)`.
    fn member_rows(param: &str) -> String;
    /// The text at `key` of the JSON column `column` (`key` is scimd's, never a request's).
    fn json_text(column: &str, key: &str) -> String;
    /// A matching attribute's key computed from the folded document (`search`), exactly
    /// as [`MatchingAttribute::key`] computes it (`null` for `userName`).
    fn match_key(matching: MatchingAttribute) -> &'static str;
}

/// The leaves of filters and sort keys whose SQL differs between dialects; the structure
/// around them is `store::sql::filter`'s.
pub trait Leaves {
    /// A comparison of a document or element target; `id` equality and the indexed
    /// `userName` / `displayName` / `externalId` equalities are compiled before this.
    fn compare(sql: &mut Sql, target: &Target, op: CompareOp, value: &Operand);
    /// `pr` on a document or element target.
    fn present(sql: &mut Sql, target: &Target);
    /// `path[filter]` over a multi-valued attribute of the document; `inner` pushes the
    /// filter as seen from one element.
    fn any(sql: &mut Sql, path: &[String], filter: &Filter, inner: &mut dyn FnMut(&mut Sql));
    /// The element `{"value", "type", "display"}` of a membership, as a join clause that
    /// makes it the element of `Target::Element` targets.
    fn relation_element(relation: Relation) -> &'static str;
    /// The expression a sort by a document attribute orders by.
    fn sort_key(sql: &mut Sql, key: &SortKey);
}

/// Multi-valued attributes that live in the membership table, not in the document: a group's
/// `members` and a user's `groups` (RFC 7643 §4.1.2, §4.2). The shared filter compiler
/// (`store::sql::filter`) reaches through them; a dialect supplies their element's join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Members,
    Groups,
}

/// One row of a result, read column by column in scimd's types.
pub trait Record: Send + Sync {
    fn uuid(&self, column: &'static str) -> Result<Uuid, StoreError>;
    fn opt_uuid(&self, column: &'static str) -> Result<Option<Uuid>, StoreError>;
    fn instant(&self, column: &'static str) -> Result<DateTime<Utc>, StoreError>;
    fn opt_instant(&self, column: &'static str) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// A list of strings (`text[]` on PostgreSQL, a JSON array on SQLite).
    fn texts(&self, column: &'static str) -> Result<Option<Vec<String>>, StoreError>;
    fn int(&self, column: &'static str) -> Result<i64, StoreError>;
    fn opt_int(&self, column: &'static str) -> Result<Option<i64>, StoreError>;
    fn text(&self, column: &'static str) -> Result<Option<String>, StoreError>;
    fn flag(&self, column: &'static str) -> Result<bool, StoreError>;
    fn bytes(&self, column: &'static str) -> Result<Vec<u8>, StoreError>;
    fn json<T: DeserializeOwned>(&self, column: &'static str) -> Result<Option<T>, StoreError>;
}

/// The [`Dialect`] methods that run statements, the same for every sqlx backend, for a
/// dialect's `impl Dialect` to include; it needs the dialect's `arguments(Vec<Arg>)`.
macro_rules! run_with_sqlx {
    () => {
        async fn fetch_all(
            conn: &mut $crate::store::dialect::Conn<Self>,
            sql: Sql,
        ) -> Result<Vec<Self::Row>, StoreError> {
            let (text, args) = sql.into_parts();
            $crate::store::statement::check_storable(&args)?;
            sqlx::query_with(&text, arguments(args)?)
                .fetch_all(conn)
                .await
                .map_err(Self::store_error)
        }

        async fn fetch_optional(
            conn: &mut $crate::store::dialect::Conn<Self>,
            sql: Sql,
        ) -> Result<Option<Self::Row>, StoreError> {
            let (text, args) = sql.into_parts();
            $crate::store::statement::check_storable(&args)?;
            sqlx::query_with(&text, arguments(args)?)
                .fetch_optional(conn)
                .await
                .map_err(Self::store_error)
        }

        async fn execute(
            conn: &mut $crate::store::dialect::Conn<Self>,
            sql: Sql,
        ) -> Result<u64, StoreError> {
            let (text, args) = sql.into_parts();
            $crate::store::statement::check_storable(&args)?;
            let done = sqlx::query_with(&text, arguments(args)?)
                .execute(conn)
                .await
                .map_err(Self::store_error)?;
            Ok(done.rows_affected())
        }
    };
}
pub(crate) use run_with_sqlx;

/// The [`Record`] methods whose column types sqlx decodes alike on every backend, for a
/// dialect's `impl Record` to include.
macro_rules! common_columns {
    () => {
        fn int(&self, column: &'static str) -> Result<i64, StoreError> {
            Ok(sqlx::Row::try_get(self, column)?)
        }
        fn opt_int(&self, column: &'static str) -> Result<Option<i64>, StoreError> {
            Ok(sqlx::Row::try_get(self, column)?)
        }
        fn text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
            Ok(sqlx::Row::try_get(self, column)?)
        }
        fn flag(&self, column: &'static str) -> Result<bool, StoreError> {
            Ok(sqlx::Row::try_get(self, column)?)
        }
        fn bytes(&self, column: &'static str) -> Result<Vec<u8>, StoreError> {
            Ok(sqlx::Row::try_get(self, column)?)
        }
        fn json<T: serde::de::DeserializeOwned>(
            &self,
            column: &'static str,
        ) -> Result<Option<T>, StoreError> {
            let value: Option<sqlx::types::Json<T>> = sqlx::Row::try_get(self, column)?;
            Ok(value.map(|j| j.0))
        }
    };
}
pub(crate) use common_columns;
