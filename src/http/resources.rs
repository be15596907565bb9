//! Handlers of the resource endpoints (`/Users`; `/Groups` later): parse, delegate, wrap.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{BaseUrl, Params, Preconditions, ScimJson};
use crate::http::response::{Scim, not_modified};
use crate::scim::list::{Page, list_response};
use crate::scim::render::{location, render};
use crate::scim::resource::StoredResource;
use crate::scim::schema::ResourceKind;
use crate::store::Tenant;

/// The rendered resource with its `ETag`.
fn show(app: &AppState, base: &BaseUrl, resource: &StoredResource) -> Result<Scim, ApiError> {
    let rt = app.resource_type(resource.kind)?;
    Ok(Scim::ok(render(rt, resource, &base.0)).etag(resource.version))
}

pub async fn create(
    kind: ResourceKind,
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    base: BaseUrl,
    ScimJson(body): ScimJson,
) -> Result<Scim, ApiError> {
    let created = app.directory.create(&tenant, kind, &body).await?;
    let rt = app.resource_type(kind)?;
    Ok(
        Scim::created(render(rt, &created, &base.0), location(&base.0, &created))
            .etag(created.version),
    )
}

pub async fn get(
    kind: ResourceKind,
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    base: BaseUrl,
    pre: Preconditions,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let resource = app.directory.get(&tenant, kind, &id).await?;
    if pre.if_none_match == Some(resource.version) {
        return Ok(not_modified(resource.version));
    }
    Ok(show(&app, &base, &resource)?.into_response())
}

pub async fn replace(
    kind: ResourceKind,
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    base: BaseUrl,
    pre: Preconditions,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> Result<Scim, ApiError> {
    let replaced = app
        .directory
        .replace(&tenant, kind, &id, &body, pre.if_match)
        .await?;
    show(&app, &base, &replaced)
}

pub async fn delete(
    kind: ResourceKind,
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    pre: Preconditions,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.directory
        .delete(&tenant, kind, &id, pre.if_match)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list(
    kind: ResourceKind,
    State(app): State<AppState>,
    Extension(tenant): Extension<Tenant>,
    base: BaseUrl,
    params: Params,
) -> Result<Scim, ApiError> {
    let page = Page::from_params(params.get("startIndex"), params.get("count"))?;
    let listing = app.directory.list(&tenant, kind, page).await?;
    let rt = app.resource_type(kind)?;
    let resources = listing
        .resources
        .iter()
        .map(|r| render(rt, r, &base.0))
        .collect();
    Ok(Scim::ok(list_response(
        listing.total,
        page.start_index,
        resources,
    )))
}
