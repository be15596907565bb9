//! The PostgreSQL backend: resources as JSONB with shadow columns, tenants and token hashes.

mod filter;
mod members;
mod resources;
mod tenants;

use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};

use crate::store::token_cache::TokenCache;
use crate::store::{Options, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The channel every revocation notifies, so that each replica's token cache forgets.
const TOKEN_CHANNEL: &str = "scimd_tokens";

/// A pool of connections to one PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    tokens: Arc<TokenCache>,
}

impl PgStore {
    /// Connects, creating the database first if the server does not have it.
    pub async fn open(url: &str, options: Options) -> Result<Self, StoreError> {
        let connect: PgConnectOptions = url
            .parse::<PgConnectOptions>()
            .map_err(|e| StoreError::Config(format!("{}: {e}", super::redact_url(url))))?
            // Every statement is prepared once per connection and its shape decides its plan (the
            // lookups are index probes whatever the values); without this, PostgreSQL re-plans
            // statements whose generic plan looks costlier on every execution, which halved
            // the lookup throughput (docs/benchmarks.md).
            .options([("plan_cache_mode", "force_generic_plan")]);
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
        let tokens = Arc::new(TokenCache::default());
        tokio::spawn(listen_for_token_changes(
            pool.clone(),
            Arc::downgrade(&tokens),
        ));
        Ok(Self { pool, tokens })
    }

    pub(crate) fn caches_tokens(&self) -> bool {
        self.tokens.is_live()
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

/// Keeps the token cache live while `LISTEN` works, clearing it on every notification; gives
/// up when the store is dropped.
async fn listen_for_token_changes(pool: PgPool, cache: Weak<TokenCache>) {
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(TOKEN_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listener.await {
            Ok(mut listener) => {
                let Some(c) = cache.upgrade() else { return };
                c.set_live(true);
                drop(c);
                loop {
                    let event = listener.try_recv().await;
                    let Some(c) = cache.upgrade() else { return };
                    match event {
                        Ok(Some(_)) => c.clear(),
                        // the connection was lost: no invalidations until a new one listens
                        Ok(None) => {
                            c.set_live(false);
                            break;
                        }
                        Err(e) => {
                            c.set_live(false);
                            tracing::warn!(error = %e, "token change feed lost; tokens are checked on every request");
                            break;
                        }
                    }
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

/// Maps a unique violation to the attribute whose uniqueness it protects.
fn uniqueness(e: sqlx::Error, attribute: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Uniqueness { attribute }
        }
        _ => e.into(),
    }
}
