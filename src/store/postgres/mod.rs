//! The PostgreSQL backend: resources as JSONB with shadow columns, tenants and token hashes.

mod filter;
mod members;
mod resources;
mod tenants;

use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::store::{Options, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A pool of connections to one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects, creating the database first if the server does not have it.
    pub async fn open(url: &str, options: Options) -> Result<Self, StoreError> {
        let connect: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Config(format!("{}: {e}", super::redact_url(url))))?;
        if !sqlx::Postgres::database_exists(url).await? {
            match sqlx::Postgres::create_database(url).await {
                Ok(()) => tracing::info!("created database"),
                // another replica created it in the meantime
                Err(e) if sqlx::Postgres::database_exists(url).await.unwrap_or(false) => {
                    tracing::debug!(error = %e, "database created concurrently");
                }
                Err(e) => return Err(e.into()),
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(connect)
            .await?;
        Ok(Self { pool })
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }
}

/// Maps a unique violation to the attribute whose uniqueness it protects.
fn uniqueness(e: sqlx::Error, attribute: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Uniqueness { attribute }
        }
        _ => e.into(),
    }
}
