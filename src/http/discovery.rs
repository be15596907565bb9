//! Discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`.

use axum::extract::State;

use crate::http::AppState;
use crate::http::extract::{BaseUrl, Ctx, Path};
use crate::http::response::Scim;
use crate::service::Error;

pub async fn service_provider_config(State(app): State<AppState>, base: BaseUrl) -> Scim {
    Scim::ok(app.directory.service_provider_config(&base.0))
}

pub async fn schemas(State(app): State<AppState>, ctx: Ctx) -> Result<Scim, Error> {
    Ok(Scim::ok(
        app.directory.schemas(&ctx.tenant, &ctx.base.0).await?,
    ))
}

pub async fn schema(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Scim, Error> {
    Ok(Scim::ok(
        app.directory.schema(&ctx.tenant, &ctx.base.0, &id).await?,
    ))
}

pub async fn resource_types(State(app): State<AppState>, ctx: Ctx) -> Result<Scim, Error> {
    Ok(Scim::ok(
        app.directory
            .resource_types(&ctx.tenant, &ctx.base.0)
            .await?,
    ))
}

pub async fn resource_type(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Scim, Error> {
    Ok(Scim::ok(
        app.directory
            .resource_type_document(&ctx.tenant, &ctx.base.0, &id)
            .await?,
    ))
}
