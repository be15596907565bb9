//! The store, written once in SQL for every [`Dialect`]: resources, listings, group
//! membership, tenants and tokens. Statements are [`Sql`] with `$n` placeholders and typed
//! [`Arg`]s; the dialect runs them and supplies the fragments whose text differs.

mod activity;
mod attempts;
mod conns;
mod creates;
mod documents;
mod events;
mod filter;
mod health;
mod invitations;
mod listing;
mod members;
mod notify;
mod oauth;
mod operator_accounts;
mod operators;
mod outbox;
mod pull;
mod resources;
mod retained;
mod rows;
mod schemas;
mod sessions;
mod setup;
mod tenants;
mod tokens;
mod upkeep;

use std::sync::Arc;

use self::conns::Conns;
use crate::store::dialect::{Conn, Dialect};
pub use crate::store::statement::{Arg, Sql};
use crate::store::token_cache::TokenCache;
use crate::store::{Options, Store, StoreError};

/// Connections to one database, and the token cache of this process.
pub struct SqlStore<D: Dialect> {
    /// For reads.
    pool: Conns<D>,
    /// For writes: the same pool on PostgreSQL; on SQLite one connection, so that writers
    /// queue for it in order instead of polling for the file's lock.
    writer: Conns<D>,
    tokens: Arc<TokenCache>,
    /// Lone creates, grouped as they arrive (`creates`).
    creates: Arc<creates::Creates<D>>,
}

impl<D: Dialect> Clone for SqlStore<D> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            writer: self.writer.clone(),
            tokens: self.tokens.clone(),
            creates: self.creates.clone(),
        }
    }
}

impl<D: Dialect> std::fmt::Debug for SqlStore<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &std::any::type_name::<D>())
            .field("pool_size", &self.pool.stats().0)
            .finish()
    }
}

impl<D: Dialect> SqlStore<D> {
    /// Connects to the database at `url`, creating the database if it does not exist.
    pub async fn open(url: &str, options: Options) -> Result<Self, StoreError> {
        let tokens = Arc::new(TokenCache::default());
        let (pool, writer) = D::connect(url, options, &tokens).await?;
        let pool = Conns::new(pool);
        // one shelf where the two are one pool
        let writer = if D::ONE_POOL {
            pool.clone()
        } else {
            Conns::new(writer)
        };
        Ok(Self {
            creates: Arc::new(creates::Creates::new(writer.clone())),
            pool,
            writer,
            tokens,
        })
    }

    /// Rows of `sql`, on a connection of the pool.
    async fn fetch_all(&self, sql: Sql) -> Result<Vec<D::Row>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows = D::fetch_all(&mut conn, sql).await?;
        conn.done();
        Ok(rows)
    }

    /// The row of `sql` if there is one, on a connection of the pool.
    async fn fetch_optional(&self, sql: Sql) -> Result<Option<D::Row>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let row = D::fetch_optional(&mut conn, sql).await?;
        conn.done();
        Ok(row)
    }
}

impl<D: Dialect> Store for SqlStore<D> {
    async fn ping(&self) -> Result<(), StoreError> {
        self.fetch_optional(Sql::new("select 1")).await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.writer.migrate().await
    }

    fn caches_tokens(&self) -> bool {
        self.tokens.is_live()
    }

    fn pool_stats(&self) -> (u32, usize) {
        let (size, idle) = self.pool.stats();
        if D::ONE_POOL {
            return (size, idle);
        }
        let (writer_size, writer_idle) = self.writer.stats();
        (size + writer_size, idle + writer_idle)
    }
}

/// Runs `sql` on `conn` (a pooled connection or a transaction).
async fn execute<D: Dialect>(conn: &mut Conn<D>, sql: Sql) -> Result<u64, StoreError> {
    D::execute(conn, sql).await
}

/// Commits `tx`; a failure is classified like any statement's.
async fn commit<D: Dialect>(tx: sqlx::Transaction<'static, D::Db>) -> Result<(), StoreError> {
    tx.commit().await.map_err(D::store_error)
}
