//! HTTP: the router, extractors, responses, authentication and the one error → response map.

pub mod admission;
pub mod api;
mod auth;
pub mod client;
mod console;
mod discovery;
mod drain;
pub mod error;
pub mod extract;
pub mod guard;
mod normalize;
mod oauth;
mod operator;
mod ops;
mod page;
mod resources;
pub mod response;
mod setup;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{MethodRouter, get, post};

use crate::config::Config;
use crate::http::guard::Guard;
use crate::scim::schema::ResourceKind;
use crate::service::{Directory, Error};
use crate::{scim, telemetry};

/// Where the SCIM API lives; Entra's Tenant URL is `<public URL>/scim/v2`.
pub const SCIM_BASE: &str = crate::scim::BASE_PATH;

/// Shared state of every request.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub directory: Directory,
    /// The URL clients reach scimd at (without `/scim/v2`); derived per request when unset.
    pub public_url: Option<String>,
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long the activity log keeps its rows.
    pub activity_retention: Duration,
    /// How long the audit trail keeps its entries.
    pub audit_retention: Duration,
    /// Requests per second per operator key at `/api/v1`.
    pub api_rate: api::RateLimit,
    /// Who may read `/metrics` on the main address.
    pub metrics: crate::meter::Access,
    /// Proxies whose forwarding headers are believed.
    pub proxies: client::TrustedProxies,
    /// The OAuth issuer (RFC 8414 §2): `SCIMD_PUBLIC_URL`, else the listening address; never
    /// taken from a request.
    pub issuer: String,
    /// The quiet gap between provisioning cycles.
    pub cycle_gap: Duration,
    guard: Guard,
    /// Fair shares of the SCIM request slots between tenants.
    pub admission: admission::Admission,
    /// The buckets of the tenants with a rate of their own (`--rate-limit`).
    pub tenant_rate: api::RateLimit,
    /// The ACME client's certificate and state, when ACME provides the certificate (set once
    /// at start, after the state is built): shown on the operator page.
    pub acme: std::sync::OnceLock<Arc<crate::tls::acme::AcmeCert>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(directory: Directory, config: &Config) -> Self {
        Self(Arc::new(Inner {
            public_url: config.address.public_url.clone(),
            max_body_bytes: config.max_body_bytes,
            header_timeout: config.header_timeout,
            activity_retention: config.activity_retention,
            audit_retention: config.audit_retention,
            api_rate: api::RateLimit::new(config.api_rate_limit),
            metrics: crate::meter::Access::of(config),
            proxies: client::TrustedProxies::new(config.trusted_proxies.clone()),
            issuer: config.root_url(),
            cycle_gap: config.health.cycles.cycle_gap,
            tenant_rate: api::RateLimit::new(0),
            acme: std::sync::OnceLock::new(),
            admission: admission::Admission::new(
                config.admission_slots(),
                config.tenant_max_in_flight as usize,
            ),
            guard: Guard::new(
                config.max_concurrent_requests,
                config.request_timeout,
                directory.requests_in_flight(),
            ),
            directory,
        }))
    }
}

/// The routes of one resource type: collection and single resource.
fn resource_routes(kind: ResourceKind) -> Router<AppState> {
    let collection: MethodRouter<AppState> = get(move |s, c| resources::list(kind, s, c))
        .post(move |s, c, j| resources::create(kind, s, c, j));
    let single: MethodRouter<AppState> = get(move |s, c, id| resources::get(kind, s, c, id))
        .put(move |s, c, id, j| resources::replace(kind, s, c, id, j))
        .patch(move |s, c, id, j| resources::patch(kind, s, c, id, j))
        .delete(move |s, c, id| resources::delete(kind, s, c, id));
    let search: MethodRouter<AppState> = post(move |s, c, j| resources::search(kind, s, c, j));
    Router::new()
        .route(kind.endpoint(), collection)
        .route(&format!("{}/.search", kind.endpoint()), search)
        .route(&format!("{}/{{id}}", kind.endpoint()), single)
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    crate::meter::handle();
    let scim = Router::new()
        .merge(resource_routes(ResourceKind::User))
        .merge(resource_routes(ResourceKind::Group))
        .route("/", get(resources::list_all))
        .route("/.search", post(resources::search_all))
        .route("/Bulk", post(resources::bulk))
        .route(
            "/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{id}", get(discovery::resource_type))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_tenant,
        ));
    let oauth = Router::new()
        .route(
            oauth::AUTHORIZE_PATH,
            get(oauth::authorize).post(oauth::sign_in),
        )
        .route(oauth::TOKEN_PATH, post(oauth::token))
        .route(oauth::METADATA_PATH, get(oauth::metadata));
    let mut router = Router::new();
    if state.metrics != crate::meter::Access::Apart {
        router = router.route("/metrics", get(ops::metrics));
    }
    let router = router
        .nest(SCIM_BASE, scim)
        .merge(oauth)
        .merge(console::routes())
        .merge(operator::routes())
        .merge(setup::routes())
        .merge(api::routes(&state))
        .route("/static/scimd.css", get(oauth::stylesheet))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn(crate::meter::count_requests))
        .with_state(state.clone());
    // Paths are normalised before routing, so the router sits behind a service that rewrites
    // them; then every request, whatever it calls, is told who sent it and is behind the guard
    // (requests at once, time per request) and the body limit. These wrap the router once: as
    // the router's own layers they would wrap each route, and each request would clone and box
    // every layer of its route (docs/src/contributor/benchmarks.md).
    let normalized = tower::ServiceBuilder::new()
        .map_request(normalize::normalize)
        .layer(DefaultBodyLimit::max(state.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.proxies.clone(),
            client::identify,
        ))
        .layer(middleware::from_fn_with_state(
            state.guard.clone(),
            guard::limit,
        ))
        .service(router);
    // what a handler leaves of a body is read after it, outside the limit on requests at once
    let drained = Router::new()
        .fallback_service(normalized)
        .layer(middleware::from_fn(drain::unread_bodies));
    telemetry::instrument(guard::catch_panics(drained))
}

/// Whether `path` is the application's API's, whose answers are problems.
pub(crate) fn in_api(path: &str) -> bool {
    path == api::API_BASE || path.starts_with("/api/v1/")
}

async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if in_api(uri.path()) {
        return api::not_found(uri).await;
    }
    Error::from(scim::Error::not_found(format!(
        "no endpoint at {}",
        uri.path()
    )))
    .into_response()
}

async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if in_api(uri.path()) {
        return api::method_not_allowed(method, uri).await;
    }
    Error::from(scim::Error::method_not_allowed(format!(
        "{method} is not allowed on {}",
        uri.path()
    )))
    .into_response()
}
