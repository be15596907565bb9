//! `/api/v1/tenants/{name}/oauth-clients`: the OAuth clients of a tenant (Entra's "Authorize"
//! button, client credentials): register one (its secret is in that answer only), list them,
//! show one, give one a new secret (shown once), remove one. A client id of another tenant is
//! not found, and nothing is changed.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Acting, Body, Params, Segments};
use super::idempotency::Secrets;
use super::paging::{Page, PageParams};
use super::problem::{Kind, Problem};
use super::tenants::{TenantPath, created};
use crate::domain::oauth::OAuthClient;
use crate::scim::limits;
use crate::service::IssuedClient;

/// The most redirect URIs one client may register.
pub const MAX_REDIRECT_URIS: usize = 16;

/// A client, never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "client_id": "scimd-Q2hvb3NlIGEgZ29vZCBvbmU",
    "redirect_uris": ["https://portal.azure.com/TokenAuthorize"],
    "created": "2026-12-04T10:00:00Z"
}))]
pub struct ClientView {
    /// The public `client_id` to paste in Entra.
    pub client_id: String,
    /// The redirect URIs it may use, matched exactly.
    pub redirect_uris: Vec<String>,
    pub created: DateTime<Utc>,
}

impl From<OAuthClient> for ClientView {
    fn from(c: OAuthClient) -> Self {
        ClientView {
            client_id: c.client_id,
            redirect_uris: c.redirect_uris,
            created: c.created,
        }
    }
}

/// A client just registered or given a new secret: `client_secret` is in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "client_id": "scimd-Q2hvb3NlIGEgZ29vZCBvbmU",
    "client_secret": "scimd_cs_c2VjcmV0IHNob3duIG9uY2UgYW5kIG5ldmVyIGFnYWlu",
    "redirect_uris": ["https://portal.azure.com/TokenAuthorize"],
    "created": "2026-12-04T10:00:00Z"
}))]
pub struct IssuedClientView {
    pub client_id: String,
    /// The client secret to paste in Entra; shown once.
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub created: DateTime<Utc>,
}

impl From<IssuedClient> for IssuedClientView {
    fn from(issued: IssuedClient) -> Self {
        let client = issued.client;
        IssuedClientView {
            client_id: client.client_id,
            client_secret: issued.secret,
            redirect_uris: client.redirect_uris,
            created: client.created,
        }
    }
}

/// A client to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"redirect_uris": ["https://portal.azure.com/TokenAuthorize"]}))]
pub struct NewClient {
    /// The redirect URIs the client may use, matched exactly: absolute `https` (or `http` on
    /// a loopback host: `localhost`, `127.0.0.1`, `[::1]`), without user-info or a fragment;
    /// 1 to 16 of them. Entra's is `https://portal.azure.com/TokenAuthorize`.
    #[schema(min_items = 1, max_items = 16, example = json!(["https://portal.azure.com/TokenAuthorize"]))]
    pub redirect_uris: Vec<String>,
}

impl NewClient {
    /// The URIs, if there are 1 to [`MAX_REDIRECT_URIS`] storable ones.
    fn checked(&self) -> Result<&[String], Problem> {
        let count = self.redirect_uris.len();
        if count == 0 || count > MAX_REDIRECT_URIS {
            return Err(Problem::invalid(
                "redirect_uris",
                format!(
                    "redirect_uris: give 1 to {MAX_REDIRECT_URIS} redirect URIs; this has {count}"
                ),
            ));
        }
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            limits::check_string(&format!("redirect_uris[{i}]"), uri)
                .map_err(crate::service::Error::from)?;
        }
        Ok(&self.redirect_uris)
    }
}

/// The `{name}` and `{client_id}` of a client's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ClientPath {
    /// The tenant's name.
    #[param(example = "contoso")]
    pub name: String,
    /// The client's id.
    #[param(example = "scimd-Q2hvb3NlIGEgZ29vZCBvbmU")]
    pub client_id: String,
}

/// The client of the path's tenant, or 404.
async fn find(api: &Acting, path: &ClientPath) -> Result<OAuthClient, Problem> {
    let clients = api.directory.clients(&path.name).await?;
    clients
        .into_iter()
        .find(|c| c.client_id == path.client_id)
        .ok_or_else(|| {
            Problem::new(
                Kind::NotFound,
                format!(
                    "tenant {} has no OAuth client {}",
                    path.name, path.client_id
                ),
            )
        })
}

/// The answer of a write that shows a client's secret (201 with its `Location` when it was
/// just registered), marked so that a retry does not show it again.
fn with_secret(location: Option<String>, view: &IssuedClientView) -> Response {
    let mut response = match location {
        Some(location) => created(location, view),
        None => axum::response::IntoResponse::into_response(axum::Json(view)),
    };
    response
        .extensions_mut()
        .insert(Secrets(&["client_secret"]));
    response
}

/// Register a client.
///
/// Its `client_secret` is in this answer and nowhere else: scimd keeps its SHA-256 only. A
/// retry with the same `Idempotency-Key` is answered 409 `secret-not-repeated`, never the
/// secret again.
#[utoipa::path(
    operation_id = "add_oauth_client",
    post,
    path = "/api/v1/tenants/{name}/oauth-clients",
    tag = "OAuth clients",
    params(TenantPath),
    request_body = NewClient,
    responses(
        (status = 201, description = "Registered; the secret is shown once",
            body = IssuedClientView,
            headers(("Location" = String, description = "The client's URL"))),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "A redirect URI is not valid", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn add(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Body(new): Body<NewClient>,
) -> Result<Response, Problem> {
    let uris = new.checked()?;
    let issued = api
        .directory
        .add_client(&path.name, uris)
        .await
        .map_err(|e| {
            let problem = Problem::from(e);
            if problem.status == 422 && problem.field.is_none() {
                problem.at("redirect_uris")
            } else {
                problem
            }
        })?;
    let location = format!(
        "/api/v1/tenants/{}/oauth-clients/{}",
        issued.client.tenant_name, issued.client.client_id
    );
    Ok(with_secret(Some(location), &IssuedClientView::from(issued)))
}

/// List a tenant's clients.
///
/// In the order they were registered; never a secret.
#[utoipa::path(
    operation_id = "list_oauth_clients",
    get,
    path = "/api/v1/tenants/{name}/oauth-clients",
    tag = "OAuth clients",
    params(TenantPath, PageParams),
    responses(
        (status = 200, description = "A page of clients", body = Page<ClientView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<ClientView>>, Problem> {
    let clients = api.directory.clients(&path.name).await?;
    let page = Page::within(clients, &page, "oauth-clients", |c| (c.created, c.id))?;
    Ok(axum::Json(page.map(ClientView::from)))
}

/// Show a client.
#[utoipa::path(
    operation_id = "show_oauth_client",
    get,
    path = "/api/v1/tenants/{name}/oauth-clients/{client_id}",
    tag = "OAuth clients",
    params(ClientPath),
    responses(
        (status = 200, description = "The client, without its secret", body = ClientView),
        (status = 404, description = "No such tenant, or no such client of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn show(
    api: Acting,
    Segments(path): Segments<ClientPath>,
) -> Result<axum::Json<ClientView>, Problem> {
    Ok(axum::Json(find(&api, &path).await?.into()))
}

/// Remove a client.
///
/// With every code and token issued to it: requests with them are refused at once.
#[utoipa::path(
    operation_id = "remove_oauth_client",
    delete,
    path = "/api/v1/tenants/{name}/oauth-clients/{client_id}",
    tag = "OAuth clients",
    params(ClientPath),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such tenant, or no such client of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn remove(
    api: Acting,
    Segments(path): Segments<ClientPath>,
) -> Result<StatusCode, Problem> {
    let client = find(&api, &path).await?;
    api.directory.remove_client(&client.client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give a client a new secret.
///
/// The new `client_secret` is in this answer only; the old one stops working at once (tokens
/// already issued stay valid until they expire).
#[utoipa::path(
    operation_id = "rotate_oauth_client_secret",
    post,
    path = "/api/v1/tenants/{name}/oauth-clients/{client_id}/rotate-secret",
    tag = "OAuth clients",
    params(ClientPath),
    responses(
        (status = 200, description = "The new secret, shown once", body = IssuedClientView),
        (status = 404, description = "No such tenant, or no such client of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn rotate_secret(
    api: Acting,
    Segments(path): Segments<ClientPath>,
) -> Result<Response, Problem> {
    let client = find(&api, &path).await?;
    let issued = api
        .directory
        .rotate_client_secret(&client.client_id)
        .await?;
    Ok(with_secret(None, &IssuedClientView::from(issued)))
}
