//! The application's API at `/api/v1`: what the `scimd` commands do, for the application's
//! backend, over HTTP. JSON in and out; `Authorization: Bearer <operator key>` on every request
//! (never a SCIM token, which is valid at `/scim/v2` only); errors as RFC 9457 problems; lists
//! paged with opaque cursors; writes repeatable with an `Idempotency-Key`. The routes and the
//! OpenAPI document at `/api/v1/openapi.json` are built from the same handlers, so they agree.
//!
//! Every handler calls the same use case as the CLI and the console, with the directory acting
//! for the operator key, so that the audit trail names it.

pub mod activity;
mod admins;
mod alerts;
pub mod audit;
pub mod cycles;
mod events;
mod extract;
pub mod health;
mod idempotency;
mod limit;
mod matching;
mod oauth_clients;
mod openapi;
mod paging;
pub mod problem;
pub mod retained;
mod rules;
mod schemas;
mod setup_links;
mod tenants;
mod tokens;
mod webhook_actions;
mod webhooks;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use extract::{Acting, Body, MaybeBody, Params, Segments};
pub use limit::RateLimit;
pub use paging::{Page, PageParams};
pub use problem::{Kind, Problem};

use crate::http::AppState;

/// Where the API lives.
pub const API_BASE: &str = "/api/v1";

/// The API's routes and its OpenAPI document, from the same handlers.
fn parts() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::document())
        .routes(routes!(tenants::create, tenants::list))
        .routes(routes!(tenants::show, tenants::update, tenants::delete))
        .routes(routes!(alerts::show, alerts::set))
        .routes(routes!(retained::list))
        .routes(routes!(retained::restore))
        .routes(routes!(tokens::issue, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(webhooks::add, webhooks::list))
        .routes(routes!(webhooks::show, webhooks::remove))
        .routes(routes!(webhook_actions::pause))
        .routes(routes!(webhook_actions::resume))
        .routes(routes!(webhook_actions::retry))
        .routes(routes!(webhook_actions::test))
        .routes(routes!(webhook_actions::rotate_secret))
        .routes(routes!(events::add, events::list))
        .routes(routes!(events::show, events::remove))
        .routes(routes!(events::feed))
        .routes(routes!(schemas::add, schemas::list))
        .routes(routes!(schemas::show, schemas::remove))
        .routes(routes!(activity::list))
        .routes(routes!(cycles::list))
        .routes(routes!(health::list))
        .routes(routes!(health::show))
        .routes(routes!(admins::add, admins::list))
        .routes(routes!(admins::show, admins::update, admins::remove))
        .routes(routes!(admins::invite))
        .routes(routes!(oauth_clients::add, oauth_clients::list))
        .routes(routes!(oauth_clients::show, oauth_clients::remove))
        .routes(routes!(oauth_clients::rotate_secret))
        .routes(routes!(setup_links::create, setup_links::list))
        .routes(routes!(setup_links::revoke))
        .split_for_parts()
}

/// The OpenAPI document of `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::finish(parts().1)
}

/// `/api/v1`, to be merged at the root: every route behind the operator key, except the
/// document that describes them.
pub fn routes(state: &AppState) -> Router<AppState> {
    let (api, _) = parts();
    let document = std::sync::Arc::new(openapi());
    let api = api
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::repeat,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_operator,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            super::guard::api_panicked,
        ));
    let described = Router::new().route(
        "/api/v1/openapi.json",
        get(move || {
            let document = document.clone();
            async move { axum::Json(document.as_ref().clone()) }
        }),
    );
    api.merge(described)
}

/// Answers a request at `/api/v1` that matched no route, as a problem.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    Problem::new(Kind::NotFound, format!("no endpoint at {}", uri.path())).into_response()
}

/// Answers a method a route of `/api/v1` does not take, as a problem.
pub async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    Problem::new(
        Kind::MethodNotAllowed,
        format!("{method} is not allowed on {}", uri.path()),
    )
    .into_response()
}

/// Resolves the bearer secret to an operator key, or answers 401; holds the key to its rate;
/// refuses a read-only key's writes (403).
async fn require_operator(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(secret) = super::auth::bearer(req.headers()) else {
        return Problem::new(
            Kind::Unauthorized,
            "send Authorization: Bearer <operator key>; `scimd operator-key add` makes one",
        )
        .into_response();
    };
    let key = match app.directory.authenticate_operator(secret).await {
        Ok(Some(key)) => key,
        Ok(None) => {
            return Problem::new(
                Kind::Unauthorized,
                "the bearer secret is not an operator key (a tenant's SCIM token or an OAuth \
                 access token is valid at /scim/v2 only): use a key `scimd operator-key add` \
                 made, and not removed since",
            )
            .into_response();
        }
        Err(e) => return Problem::from(e).into_response(),
    };
    if let Err(wait) = app.api_rate.take(key.id) {
        let mut response = Problem::new(
            Kind::RateLimited,
            format!(
                "operator key {} sent more than {} requests per second (SCIMD_API_RATE_LIMIT); \
                 retry in {} s",
                key.name,
                app.api_rate.per_second(),
                wait.as_secs().max(1)
            ),
        )
        .into_response();
        response
            .headers_mut()
            .insert("retry-after", wait.as_secs().max(1).into());
        return response;
    }
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    if key.read_only && !reads {
        return Problem::new(
            Kind::Forbidden,
            format!(
                "operator key {} is read-only: it may read, not change; use a key made without \
                 --read-only",
                key.name
            ),
        )
        .into_response();
    }
    tracing::Span::current().record("operator_key", key.name.as_str());
    req.extensions_mut().insert(key);
    next.run(req).await
}
