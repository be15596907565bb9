//! `/api/v1/tenants/{name}/tokens`: the Secret Tokens a tenant's Entra job (or any SCIM client)
//! sends: issue one (its secret is in that answer only), list them, revoke one.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::{Acting, MaybeBody, Params, Segments};
use super::idempotency::Secrets;
use super::paging::{Page, PageParams};
use super::problem::{Kind, Problem};
use super::tenants::{TenantPath, created};
use crate::domain::TokenInfo;

/// A token, never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "7d4f0b5e-8a51-4c1e-9a0e-1d2f3a4b5c6d",
    "label": "entra-prod",
    "created": "2026-12-04T10:00:00Z",
    "revoked": null
}))]
pub struct TokenView {
    pub id: Uuid,
    pub label: Option<String>,
    pub created: DateTime<Utc>,
    /// When it was revoked; `null` while it is valid.
    pub revoked: Option<DateTime<Utc>>,
}

impl From<TokenInfo> for TokenView {
    fn from(t: TokenInfo) -> Self {
        TokenView {
            id: t.id,
            label: t.label,
            created: t.created,
            revoked: t.revoked,
        }
    }
}

/// A token just issued: `token` is its secret, in this answer only.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "7d4f0b5e-8a51-4c1e-9a0e-1d2f3a4b5c6d",
    "token": "scimd_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0",
    "label": "entra-prod",
    "created": "2026-12-04T10:00:00Z",
    "revoked": null
}))]
pub struct IssuedTokenView {
    pub id: Uuid,
    /// The Secret Token to paste in Entra; shown once.
    pub token: String,
    pub label: Option<String>,
    pub created: DateTime<Utc>,
    pub revoked: Option<DateTime<Utc>>,
}

/// What a new token is called.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "entra-prod"}))]
pub struct NewToken {
    /// A label to tell the token by.
    pub label: Option<String>,
}

/// The `{name}` and `{id}` of a token's path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The tenant's name.
    #[param(example = "contoso")]
    pub name: String,
    /// The token's id.
    pub id: Uuid,
}

/// Issue a token.
///
/// The token's secret is in this answer and nowhere else: scimd keeps its SHA-256 only. SCIM
/// accepts it at once, on every replica. A retry with the same `Idempotency-Key` is answered
/// 409 `secret-not-repeated` with the token's id, never the secret again.
#[utoipa::path(
    post,
    operation_id = "issue_token",
    path = "/api/v1/tenants/{name}/tokens",
    tag = "Tokens",
    params(TenantPath),
    request_body(content = Option<NewToken>, description = "Optional: a label"),
    responses(
        (status = 201, description = "Issued; the secret is shown once", body = IssuedTokenView,
            headers(("Location" = String, description = "The token's URL"))),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn issue(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    MaybeBody(new): MaybeBody<NewToken>,
) -> Result<Response, Problem> {
    let new = new.unwrap_or_default();
    let issued = api
        .directory
        .issue_token(&path.name, new.label.as_deref())
        .await?;
    let info = issued.info;
    let view = IssuedTokenView {
        id: info.id,
        token: issued.token,
        label: info.label,
        created: info.created,
        revoked: info.revoked,
    };
    let location = format!("/api/v1/tenants/{}/tokens/{}", info.tenant, info.id);
    let mut response = created(location, &view);
    response.extensions_mut().insert(Secrets(&["token"]));
    Ok(response)
}

/// List a tenant's tokens.
///
/// In the order they were issued, revoked ones too; never a secret.
#[utoipa::path(
    get,
    operation_id = "list_tokens",
    path = "/api/v1/tenants/{name}/tokens",
    tag = "Tokens",
    params(TenantPath, PageParams),
    responses(
        (status = 200, description = "A page of tokens", body = Page<TokenView>),
        (status = 404, description = "No such tenant", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn list(
    api: Acting,
    Segments(path): Segments<TenantPath>,
    Params(page): Params<PageParams>,
) -> Result<axum::Json<Page<TokenView>>, Problem> {
    let tokens = api.directory.tokens(&path.name).await?;
    let page = Page::within(tokens, &page, "tokens", |t| (t.created, t.id))?;
    Ok(axum::Json(page.map(TokenView::from)))
}

/// Revoke a token.
///
/// Requests with it are refused from then on: at once on the replica that revoked it, within
/// moments on the others (their caches hear of it through the database's change feed).
/// Revoking a revoked token changes nothing.
#[utoipa::path(
    delete,
    operation_id = "revoke_token",
    path = "/api/v1/tenants/{name}/tokens/{id}",
    tag = "Tokens",
    params(TokenPath),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such tenant, or no such token of it", body = Problem,
            content_type = "application/problem+json"),
    )
)]
pub async fn revoke(
    api: Acting,
    Segments(path): Segments<TokenPath>,
) -> Result<StatusCode, Problem> {
    let tokens = api.directory.tokens(&path.name).await?;
    let Some(token) = tokens.iter().find(|t| t.id == path.id) else {
        return Err(Problem::new(
            Kind::NotFound,
            format!("tenant {} has no token {}", path.name, path.id),
        ));
    };
    if token.revoked.is_none() {
        api.directory.revoke_token(token.id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
