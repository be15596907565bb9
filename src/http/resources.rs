//! Handlers of the resource endpoints (`/Users`, `/Groups`) and of the queries across them
//! (`/.search`, `/`): parse, delegate to one use case, wrap.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::http::AppState;
use crate::http::extract::{Ctx, Path, ScimJson};
use crate::http::response::{Scim, no_content, not_modified};
use crate::scim::query::SearchParams;
use crate::scim::schema::ResourceKind;
use crate::service::{Answer, Error};

pub async fn create(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    ScimJson(body): ScimJson,
) -> Result<Scim, Error> {
    let created = app.directory.create(&ctx.context(), kind, &body).await?;
    Ok(Scim::shown(&created, &ctx.base).created(created.location(&ctx.base.0)))
}

pub async fn get(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    Ok(match app.directory.get(&ctx.context(), kind, &id).await? {
        Answer::Resource(shown) => Scim::shown(&shown, &ctx.base).into_response(),
        Answer::VersionOnly(version) => not_modified(version),
    })
}

pub async fn replace(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> Result<Scim, Error> {
    let replaced = app
        .directory
        .replace(&ctx.context(), kind, &id, &body)
        .await?;
    Ok(Scim::shown(&replaced, &ctx.base))
}

/// PATCH (RFC 7644 §3.5.2): users answer 200 with the resource; groups 204, unless the
/// request names `attributes` or `excludedAttributes`.
pub async fn patch(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    ScimJson(body): ScimJson,
) -> Result<Response, Error> {
    Ok(
        match app
            .directory
            .patch(&ctx.context(), kind, &id, &body)
            .await?
        {
            Answer::Resource(shown) => Scim::shown(&shown, &ctx.base).into_response(),
            Answer::VersionOnly(version) => no_content(version),
        },
    )
}

/// `POST /Bulk` (RFC 7644 §3.7): a BulkResponse, 200, whatever its operations answered.
pub async fn bulk(
    State(app): State<AppState>,
    ctx: Ctx,
    ScimJson(body): ScimJson,
) -> Result<Scim, Error> {
    let answer = app
        .directory
        .bulk(&ctx.context(), &ctx.base.0, &body)
        .await?;
    Ok(Scim::ok(answer))
}

pub async fn delete(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    app.directory.delete(&ctx.context(), kind, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /Users?filter=…&sortBy=…&startIndex=…` (RFC 7644 §3.4.2).
pub async fn list(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
) -> Result<Scim, Error> {
    let page = app
        .directory
        .search(&ctx.tenant, kind, &ctx.params.search())
        .await?;
    Ok(Scim::ok(page.render(&ctx.base.0)))
}

/// `POST /Users/.search` (RFC 7644 §3.4.3).
pub async fn search(
    kind: ResourceKind,
    State(app): State<AppState>,
    ctx: Ctx,
    ScimJson(body): ScimJson,
) -> Result<Scim, Error> {
    let params = SearchParams::from_body(&body)?;
    let page = app.directory.search(&ctx.tenant, kind, &params).await?;
    Ok(Scim::ok(page.render(&ctx.base.0)))
}

/// `POST /.search` across resource types (RFC 7644 §3.4.3).
pub async fn search_all(
    State(app): State<AppState>,
    ctx: Ctx,
    ScimJson(body): ScimJson,
) -> Result<Scim, Error> {
    let params = SearchParams::from_body(&body)?;
    let page = app.directory.search_all(&ctx.tenant, &params).await?;
    Ok(Scim::ok(page.render(&ctx.base.0)))
}

/// `GET /?filter=…` across resource types (RFC 7644 §3.4.2.1).
pub async fn list_all(State(app): State<AppState>, ctx: Ctx) -> Result<Scim, Error> {
    let page = app
        .directory
        .search_all(&ctx.tenant, &ctx.params.search())
        .await?;
    Ok(Scim::ok(page.render(&ctx.base.0)))
}
