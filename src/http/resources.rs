//! Handlers of the resource endpoints (`/Users`; `/Groups` later) and of `/.search`: parse,
//! delegate, wrap.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{BaseUrl, Ctx, Params, ScimJson};
use crate::http::response::{Scim, no_content, not_modified};
use crate::scim::list::list_response;
use crate::scim::projection::Projection;
use crate::scim::query::SearchParams;
use crate::scim::render::{location, render};
use crate::scim::resource::StoredResource;
use crate::scim::schema::ResourceKind;
use crate::service::SearchResult;

impl Params {
    /// The RFC 7644 §3.4.2 query parameters (names case-insensitive).
    fn search(&self) -> SearchParams {
        let get = |name: &str| self.get(name).map(str::to_owned);
        SearchParams {
            filter: get("filter"),
            sort_by: get("sortBy"),
            sort_order: get("sortOrder"),
            start_index: get("startIndex"),
            count: get("count"),
            cursor: get("cursor"),
            attributes: get("attributes"),
            excluded_attributes: get("excludedAttributes"),
        }
    }

    /// `attributes` / `excludedAttributes` for a response that shows one resource.
    fn projection(&self, app: &AppState, kind: ResourceKind) -> Result<Projection, ApiError> {
        let rt = app.resource_type(kind)?;
        Ok(Projection::parse(
            rt,
            app.directory.registry.common(),
            self.get("attributes"),
            self.get("excludedAttributes"),
        )?)
    }
}

fn rendered(
    app: &AppState,
    base: &BaseUrl,
    resource: &StoredResource,
    projection: &Projection,
) -> Result<Value, ApiError> {
    let rt = app.resource_type(resource.kind)?;
    Ok(render(
        rt,
        app.directory.registry.common(),
        resource,
        &base.0,
        projection,
    ))
}

/// The resource under the request's projection, with its `ETag`; `members` and `groups`
/// are read only when the projection shows them.
async fn shown(
    app: &AppState,
    ctx: &Ctx,
    mut resource: StoredResource,
    projection: &Projection,
) -> Result<Scim, ApiError> {
    app.directory
        .expand(
            &ctx.tenant,
            std::slice::from_mut(&mut resource),
            projection,
            None,
        )
        .await?;
    Ok(Scim::ok(rendered(app, &ctx.base, &resource, projection)?).etag(resource.version))
}

pub async fn create(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    ScimJson(body): ScimJson,
) -> Result<Scim, ApiError> {
    // parsed before the write: a bad projection changes nothing
    let projection = ctx.params.projection(&app, kind)?;
    let created = app.directory.create(&ctx.tenant, kind, &body).await?;
    let location = location(&ctx.base.0, &created);
    Ok(shown(&app, &ctx, created, &projection)
        .await?
        .created(location))
}

pub async fn get(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let projection = ctx.params.projection(&app, kind)?;
    let resource = app.directory.get(&ctx.tenant, kind, &id).await?;
    if ctx.pre.if_none_match == Some(resource.version) {
        return Ok(not_modified(resource.version));
    }
    Ok(shown(&app, &ctx, resource, &projection)
        .await?
        .into_response())
}

pub async fn replace(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> Result<Scim, ApiError> {
    let projection = ctx.params.projection(&app, kind)?;
    let replaced = app
        .directory
        .replace(&ctx.tenant, kind, &id, &body, ctx.pre.if_match)
        .await?;
    shown(&app, &ctx, replaced, &projection).await
}

/// PATCH (RFC 7644 §3.5.2). Users: 200 with the resource. Groups: 204, as Microsoft advises
/// (no member list echoed back), or 200 with the resource when the request names `attributes`
/// or `excludedAttributes` (RFC 7644 §3.5.2: then the response is the resource).
pub async fn patch(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> Result<Response, ApiError> {
    let projection = ctx.params.projection(&app, kind)?;
    let patched = app
        .directory
        .patch(&ctx.tenant, kind, &id, &body, ctx.pre.if_match)
        .await?;
    let projected =
        ctx.params.get("attributes").is_some() || ctx.params.get("excludedAttributes").is_some();
    if kind == ResourceKind::Group && !projected {
        return Ok(no_content(patched.version));
    }
    Ok(shown(&app, &ctx, patched, &projection)
        .await?
        .into_response())
}

pub async fn delete(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.directory
        .delete(&ctx.tenant, kind, &id, ctx.pre.if_match)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /Users?filter=…&sortBy=…&startIndex=…` (RFC 7644 §3.4.2).
pub async fn list(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
) -> Result<Scim, ApiError> {
    let result = app
        .directory
        .search(&ctx.tenant, kind, &ctx.params.search())
        .await?;
    list_page(&app, &ctx.base, result)
}

/// `POST /Users/.search` (RFC 7644 §3.4.3).
pub async fn search(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    ScimJson(body): ScimJson,
) -> Result<Scim, ApiError> {
    let params = SearchParams::from_body(&body)?;
    let result = app.directory.search(&ctx.tenant, kind, &params).await?;
    list_page(&app, &ctx.base, result)
}

/// `POST /.search` across resource types (RFC 7644 §3.4.3).
pub async fn search_all(
    State(app): State<AppState>,
    ctx: Ctx,
    ScimJson(body): ScimJson,
) -> Result<Scim, ApiError> {
    let params = SearchParams::from_body(&body)?;
    let result = app.directory.search_all(&ctx.tenant, &params).await?;
    list_page(&app, &ctx.base, result)
}

/// `GET /?filter=…` across resource types (RFC 7644 §3.4.2.1).
pub async fn list_all(State(app): State<AppState>, ctx: Ctx) -> Result<Scim, ApiError> {
    let result = app
        .directory
        .search_all(&ctx.tenant, &ctx.params.search())
        .await?;
    list_page(&app, &ctx.base, result)
}

fn list_page(app: &AppState, base: &BaseUrl, result: SearchResult) -> Result<Scim, ApiError> {
    let resources = result
        .resources
        .iter()
        .map(|(r, projection)| rendered(app, base, r, projection))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Scim::ok(list_response(
        result.total,
        result.start_index,
        resources,
        result.next_cursor,
    )))
}
