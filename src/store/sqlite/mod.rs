//! The SQLite backend: the embedded default. The same tables as PostgreSQL (ids as text,
//! instants as integer milliseconds, documents as JSON text), WAL with a busy timeout, foreign
//! keys on, multi-statement writes in `BEGIN IMMEDIATE` transactions. One process owns the file.

mod filter;
mod members;
mod resources;
mod tenants;

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::scim::resource::ResourceId;
use crate::store::{Options, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A pool of connections to one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file the `sqlite:` URL names.
    pub async fn open(url: &str, options: Options) -> Result<Self, StoreError> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL + NORMAL: a committed write survives a crash of the process (kill -9); only
            // a power loss may take the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect)
            .await?;
        Ok(Self { pool })
    }

    pub(crate) fn caches_tokens(&self) -> bool {
        false
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// A write transaction that takes the write lock at once, so two writers never deadlock
    /// upgrading a read lock (they queue on the busy timeout instead).
    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Milliseconds since the epoch, as instants are stored.
fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn instant(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn resource_id(text: &str) -> Result<ResourceId, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Config(format!("stored id '{text}' is not a UUID")))
}

/// Maps a unique violation to the attribute whose uniqueness it protects. SQLite names the
/// columns, not the index, in its message.
fn uniqueness(e: sqlx::Error, attribute: impl FnOnce(&str) -> &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Uniqueness {
            attribute: attribute(db.message()),
        },
        _ => e.into(),
    }
}
