//! Bearer authentication (RFC 6750): every `/scim/v2` request carries a token of one tenant;
//! the tenant rides on the request as an extension and into the request span, with the
//! request's origin (request id, credential, route) for the activity log. Once answered, a
//! refused request is recorded in the log and a lookup is counted. The request is served in
//! its tenant's turn (`admission`).

use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::domain::TenantId;
use crate::domain::activity::Origin;
use crate::http::AppState;
use crate::scim;
use crate::scim::resource::ResourceId;
use crate::scim::schema::ResourceKind;
use crate::service::{Error, TokenCheck};

/// The one answer to every refused Entra-signed token (see `Directory::authenticate`).
const ENTRA_REFUSED: &str = "the Entra-signed token is refused: it is not a valid provisioning \
    token of an Entra tenant that scimd accepts; scimd's log says why under this request's \
    x-request-id. Check the Entra tenant id configured for the scimd tenant, or use a Secret Token";

/// Resolves the bearer token to its tenant, or answers 401.
pub async fn require_tenant(
    State(app): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, Error> {
    let token = bearer(req.headers()).ok_or_else(|| {
        scim::Error::unauthorized("authentication required: send Authorization: Bearer <token>")
    })?;
    let (tenant, credential) = match app.directory.authenticate(token).await? {
        TokenCheck::Valid { tenant, credential } => (tenant, credential),
        TokenCheck::Unknown => {
            return Err(scim::Error::unauthorized(
                "the bearer token is unknown: check the Secret Token, or authorize again",
            )
            .into());
        }
        TokenCheck::Revoked { tenant, client } => {
            tracing::warn!(tenant = %tenant.name, client = client.as_deref().unwrap_or("-"), "revoked token refused");
            let refused = scim::Error::unauthorized(
                "the bearer token was revoked: issue a new token, or authorize again",
            )
            .because("the credential was revoked");
            return Ok(refuse_credential(&app, &tenant, client, where_to(&req), refused).await);
        }
        TokenCheck::EntraRefused => {
            return Err(scim::Error::unauthorized(ENTRA_REFUSED).into());
        }
        TokenCheck::Expired { tenant, client } => {
            tracing::info!(tenant = %tenant.name, client = client.as_deref().unwrap_or("-"), "expired access token refused");
            let refused = scim::Error::unauthorized(
                "the access token has expired: get a new one from the token endpoint (refresh_token or client_credentials)",
            )
            .because("the access token expired");
            return Ok(refuse_credential(&app, &tenant, client, where_to(&req), refused).await);
        }
    };
    tracing::Span::current().record("tenant", tenant.name.as_str());
    app.directory.note_connected(tenant.id, &credential).await;
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |m| m.as_str().to_owned());
    // the client's id when it is printable and short; else one of scimd's, so that the
    // activity log and the events' `txn` always name the request
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 200)
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let origin = Origin {
        request_id,
        credential,
        method: req.method().to_string(),
        route,
    };
    // the path as sent: inside the nested SCIM router the URI has lost its `/scim/v2`
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    let target = target(&path);
    let (id, method, tenant_name) = (tenant.id, req.method().clone(), tenant.name.clone());
    // the tenant's rate, then its turn for a slot (fair shares between tenants), in which its
    // request is served
    let limits = tenant.policy.limits;
    if let Some(rate) = limits.rate_per_second {
        if let Err(wait) = app.tenant_rate.take_with(id.0, rate) {
            return Ok(super::admission::rate_limited(&tenant_name, rate, wait));
        }
    }
    let mut req = match super::admission::read_body(req, app.max_body_bytes).await {
        Ok(req) => req,
        Err(unread) => return Ok(unread),
    };
    let ceiling = limits.max_in_flight.map(|n| n as usize);
    let _slot = match app.admission.enter(id, &tenant_name, ceiling).await {
        Ok(slot) => slot,
        Err(too_many) => return Ok(super::admission::refused(too_many)),
    };
    req.extensions_mut().insert(origin.clone());
    req.extensions_mut().insert(tenant);
    let response = next.run(req).await;
    let status = response.status();
    let operation = operation(&method, &origin.route);
    let outcome = if status.is_success() || status == StatusCode::NOT_MODIFIED {
        "success"
    } else {
        "refused"
    };
    metrics::counter!("scimd_provisioning_operations_total", "tenant" => tenant_name, "operation" => operation, "outcome" => outcome)
        .increment(1);
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        if matches!(operation, "read" | "search")
            && (target.is_some() || origin.route.ends_with(".search"))
        {
            app.directory.count_lookup(id);
        }
        return Ok(response);
    }
    Ok(record_refusal(&app, id, &origin, target, operation, response).await)
}

/// The 401 of a credential of `tenant` that stopped working (revoked, expired), recorded in the
/// tenant's activity log: what the tenant's health reads as `credentials_rejected`.
async fn refuse_credential(
    app: &AppState,
    tenant: &crate::domain::Tenant,
    client: Option<String>,
    (method, route, path): (Method, String, String),
    error: scim::Error,
) -> Response {
    let origin = Origin {
        request_id: uuid::Uuid::new_v4().to_string(),
        credential: client.map_or_else(|| "token".to_owned(), |c| format!("oauth {c}")),
        method: method.to_string(),
        route,
    };
    let operation = operation(&method, &origin.route);
    let response = axum::response::IntoResponse::into_response(Error::from(error));
    record_refusal(app, tenant.id, &origin, target(&path), operation, response).await
}

/// The method, matched route and path as sent, of a request.
fn where_to(req: &Request) -> (Method, String, String) {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |m| m.as_str().to_owned());
    let path = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    (req.method().clone(), route, path)
}

/// Records a refused request with its `scimType` and the note of its error (never the
/// detail, which may quote what the client sent); the response goes out unchanged.
async fn record_refusal(
    app: &AppState,
    tenant: TenantId,
    origin: &Origin,
    target: Option<(ResourceKind, Option<ResourceId>)>,
    operation: &str,
    response: Response,
) -> Response {
    let error = response.extensions().get::<scim::Error>();
    let recorded = app
        .directory
        .record_refusal(
            tenant,
            origin,
            target,
            operation,
            response.status().as_u16(),
            error,
        )
        .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %crate::telemetry::chain(&e), "a refused request could not be recorded in the activity log");
    }
    response
}

/// The resource type and id a SCIM path names (`/scim/v2/Users/{id}`).
fn target(path: &str) -> Option<(ResourceKind, Option<ResourceId>)> {
    let rest = path
        .strip_prefix(crate::http::SCIM_BASE)?
        .trim_start_matches('/');
    let mut parts = rest.split('/');
    let kind = match parts.next()?.to_ascii_lowercase().as_str() {
        "users" => ResourceKind::User,
        "groups" => ResourceKind::Group,
        _ => return None,
    };
    Some((kind, parts.next().and_then(|id| id.parse().ok())))
}

/// What a request does, as the activity log names it.
fn operation(method: &Method, route: &str) -> &'static str {
    match *method {
        Method::POST if route.ends_with(".search") => "search",
        Method::POST => "create",
        Method::PUT => "replace",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        Method::GET if route.ends_with("{id}") => "read",
        _ => "search",
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub(super) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
