//! scimd: a SCIM 2.0 service provider (RFC 7643/7644) for Microsoft Entra ID provisioning.
//!
//! Layers, and the direction of imports: `http -> service -> {scim, store}`, `store -> scim`.

pub mod config;
pub mod domain;
pub mod http;
pub mod scim;
pub mod service;
pub mod store;
pub mod telemetry;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use http::{AppState, app};

use crate::config::Config;
use crate::scim::schema::Registry;
use crate::service::Directory;
use crate::store::{AnyStore, Options, Store};

/// Errors that stop the process.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Registry(#[from] scim::schema::RegistryError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Service(#[from] service::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Opens the store named by the configuration (creating the database if needed) and applies
/// the migrations.
pub async fn open_directory(config: &Config) -> Result<Directory, StartError> {
    let options = Options {
        max_connections: config.database_max_connections,
    };
    if let Some(dir) = config
        .data_dir
        .as_ref()
        .filter(|_| config.database_url.is_none())
    {
        std::fs::create_dir_all(dir)?;
    }
    let store = AnyStore::open(&config.database_url(), options).await?;
    store.migrate().await?;
    Ok(Directory::new(store, Arc::new(Registry::new()?)))
}

/// The application state for `config`: directory opened and migrated, bootstrap token ensured.
pub async fn build_state(config: &Config) -> Result<AppState, StartError> {
    let directory = open_directory(config).await?;
    if let Some(token) = &config.bootstrap_token {
        let tenant = directory.bootstrap(token.expose()).await?;
        tracing::info!(tenant = %tenant.name, "bootstrap token is valid");
    }
    Ok(AppState::new(
        directory,
        config.public_url.clone(),
        config.max_body_bytes,
    ))
}

/// On a first start (no tenant at all, no bootstrap token), creates tenant `default` and
/// issues its token, so that a new installation can be connected to Entra at once. Returns the
/// token, to be shown once; `None` on every later start.
pub async fn first_start(
    state: &AppState,
    config: &Config,
) -> Result<Option<service::IssuedToken>, StartError> {
    if config.bootstrap_token.is_some() || !state.directory.tenants().await?.is_empty() {
        return Ok(None);
    }
    state
        .directory
        .create_tenant(service::BOOTSTRAP_TENANT)
        .await?;
    let issued = state
        .directory
        .issue_token(service::BOOTSTRAP_TENANT, Some("first start"))
        .await?;
    Ok(Some(issued))
}

/// Serves the application on `listener` until `shutdown` completes, then drains in-flight
/// requests (graceful shutdown).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
