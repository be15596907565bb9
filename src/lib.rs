//! scimd: a SCIM 2.0 service provider (RFC 7643/7644) for Microsoft Entra ID provisioning.
//!
//! Layers, and the direction of imports: `http -> service -> {scim, store}`, `store -> scim`.

pub mod config;
pub mod domain;
pub mod http;
pub mod meter;
pub mod scim;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

pub use http::{AppState, app};

use crate::config::{Address, Config, Database};
use crate::scim::schema::Registry;
use crate::service::Directory;
use crate::store::{AnyStore, Store};

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
    #[error("{0}")]
    Config(String),
}

/// Opens the database (creating it if needed) and applies the migrations: the directory of
/// the commands that manage what is stored, with scimd's defaults for the settings they do
/// not take (those of serving, of OAuth and of Entra's keys).
pub async fn open_database(database: &Database) -> Result<Directory, StartError> {
    let store = open_store(database).await?;
    Ok(Directory::new(
        store,
        Arc::new(Registry::new()?),
        config::DEFAULT_MAX_MEMBERS_PER_PAGE,
    ))
}

/// The directory `scimd serve` works with: the database opened and migrated, and every
/// setting of `config` the directory holds.
pub async fn open_directory(config: &Config) -> Result<Directory, StartError> {
    let store = open_store(&config.database).await?;
    Directory::new(
        store,
        Arc::new(Registry::new()?),
        config.max_members_per_page,
    )
    .with_access_token_ttl(config.oauth_access_token_ttl)
    .with_refresh_max_age(config.oauth_refresh_max_age)
    .with_max_payload(config.max_body_bytes)
    .with_health(config.health.settings(config.health_interval))
    .with_notify(
        config
            .notify
            .settings(config.root_url())
            .map_err(StartError::Config)?,
    )
    .with_entra_keys(
        service::entra_jwt::EntraKeys::new(&config.entra_metadata_url)
            .map_err(|e| StartError::Config(format!("SCIMD_ENTRA_METADATA_URL: {e}")))?,
    )
    .with_events(service::events::EventSettings {
        retry_for: config.events_retry_for,
        retention: config.events_retention,
        timeout: config.delivery.events_timeout,
        issuer: issuer_at(config.root_url()),
    })
    .map_err(StartError::Config)
}

/// The store named by `database`, created if missing (with the data directory of the default
/// SQLite file) and migrated.
async fn open_store(database: &Database) -> Result<AnyStore, StartError> {
    if let Some(dir) = database
        .data_dir
        .as_ref()
        .filter(|_| database.database_url.is_none())
    {
        std::fs::create_dir_all(dir)?;
    }
    let store = AnyStore::open(&database.url(), database.options()).await?;
    store.migrate().await?;
    Ok(store)
}

/// Who the events say sent them (`iss`) and where their resources are: `SCIMD_PUBLIC_URL`,
/// else the listening address.
pub fn events_issuer(address: &Address) -> service::events::Issuer {
    issuer_at(address.root_url())
}

/// The events' issuer when scimd is reached at `root`.
fn issuer_at(root: String) -> service::events::Issuer {
    service::events::Issuer {
        iss: root.clone(),
        scim_base: format!("{root}{}", http::SCIM_BASE),
    }
}

/// The application state for `config`: directory opened and migrated, bootstrap token ensured.
pub async fn build_state(config: &Config) -> Result<AppState, StartError> {
    let directory = open_directory(config).await?;
    if let Some(token) = &config.bootstrap_token {
        let tenant = directory.bootstrap(token.expose()).await?;
        tracing::info!(tenant = %tenant.name, "bootstrap token is valid");
    }
    Ok(AppState::new(directory, config))
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

/// Serves the application on `listener` until `shutdown` completes, then finishes the
/// requests in flight (graceful shutdown). Connections are HTTP/1.1; a client that does not
/// send a request's headers within `SCIMD_HEADER_TIMEOUT` is disconnected, so slow clients
/// cannot hold connections open.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_tls(listener, None, state, shutdown).await
}

/// The same, HTTPS with `acceptor` when given (see [`tls`]).
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: Option<tls::TlsAcceptor>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(state.header_timeout);
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    let dispatcher = tokio::spawn(state.directory.clone().dispatch_events());
    let health = tokio::spawn(state.directory.clone().watch_health());
    let notifier = tokio::spawn(state.directory.clone().send_notifications());
    let router = app(state.clone());
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // out of file descriptors and the like: wait for some to be released
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        tokio::spawn(tls::serve_connection(
            stream,
            acceptor.clone(),
            state.header_timeout,
            http.clone(),
            router.clone(),
            connections.watcher(),
        ));
    }
    drop(listener);
    connections.shutdown().await;
    housekeeping.abort();
    dispatcher.abort();
    health.abort();
    notifier.abort();
    if let Err(e) = state.directory.flush_lookups().await {
        tracing::warn!(error = %telemetry::chain(&e), "the last lookup counts could not be stored");
    }
    Ok(())
}

/// Upkeep while serving: lookup counts stored and the pending events counted every 10 s; every
/// 10 minutes, in small batches, the activity log's rows older than `SCIMD_ACTIVITY_RETENTION`
/// pruned, the events that waited in a paused webhook's queue longer than
/// `SCIMD_EVENTS_RETRY_FOR` parked, events older than `SCIMD_EVENTS_RETENTION` that no
/// delivery needs, sign-in attempts whose window is over, audit entries older than
/// `SCIMD_AUDIT_RETENTION` and idempotent answers older than a day, pruned; retained users
/// past their tenant's retention purged.
async fn housekeeping(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(10));
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        if let Err(e) = state.directory.flush_lookups().await {
            tracing::warn!(error = %telemetry::chain(&e), "lookup counts not stored; retrying");
        }
        state.directory.report_pool();
        if let Err(e) = state.directory.report_events().await {
            tracing::warn!(error = %telemetry::chain(&e), "pending events not counted");
        }
        meter::upkeep();
        if ticks % 60 == 0 {
            match state
                .directory
                .prune_activity(state.activity_retention)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "pruned the activity log"),
                Err(e) => tracing::warn!(error = %telemetry::chain(&e), "activity log not pruned"),
            }
            let now = state.directory.now();
            match state.directory.park_paused(now).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(rows = n, "parked the events of long-paused webhooks"),
                Err(e) => {
                    tracing::warn!(error = %telemetry::chain(&e), "paused webhooks not parked")
                }
            }
            match state.directory.prune_events(now).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "pruned delivered events"),
                Err(e) => tracing::warn!(error = %telemetry::chain(&e), "events not pruned"),
            }
            if let Err(e) = state.directory.prune_sign_in_attempts().await {
                tracing::warn!(error = %telemetry::chain(&e), "sign-in attempts not pruned");
            }
            match state.directory.prune_audit(state.audit_retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "pruned the audit trail"),
                Err(e) => tracing::warn!(error = %telemetry::chain(&e), "audit trail not pruned"),
            }
            match state.directory.purge_retained().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(users = n, "purged retained users past their retention"),
                Err(e) => {
                    tracing::warn!(error = %telemetry::chain(&e), "retained users not purged")
                }
            }
            if let Err(e) = state.directory.forget_answers().await {
                tracing::warn!(error = %telemetry::chain(&e), "idempotent answers not pruned");
            }
        }
        ticks += 1;
    }
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
