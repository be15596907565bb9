//! Discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`.

use axum::extract::{Path, State};

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::BaseUrl;
use crate::http::response::Scim;
use crate::scim::discovery::{self, FEATURES};
use crate::scim::list::list_response;
use crate::scim::schema::ResourceKind;
use crate::scim::{self as protocol};

pub async fn service_provider_config(base: BaseUrl) -> Scim {
    Scim::ok(discovery::service_provider_config(&base.0, FEATURES))
}

fn listed(resources: Vec<serde_json::Value>) -> Scim {
    let total = resources.len() as u64;
    Scim::ok(list_response(total, Some(1), resources, None))
}

pub async fn schemas(State(app): State<AppState>, base: BaseUrl) -> Scim {
    listed(discovery::schemas(&base.0, &app.directory.registry))
}

pub async fn schema(
    State(app): State<AppState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> Result<Scim, ApiError> {
    let schema = app
        .directory
        .registry
        .schema(&id)
        .ok_or_else(|| protocol::Error::not_found(format!("schema {id} not found")))?;
    Ok(Scim::ok(discovery::schema(&base.0, schema)))
}

pub async fn resource_types(State(app): State<AppState>, base: BaseUrl) -> Scim {
    listed(discovery::resource_types(&base.0, &app.directory.registry))
}

pub async fn resource_type(
    State(app): State<AppState>,
    base: BaseUrl,
    Path(id): Path<String>,
) -> Result<Scim, ApiError> {
    let rt = [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .filter(|k| k.as_str().eq_ignore_ascii_case(&id))
        .find_map(|k| app.directory.registry.resource_type(k))
        .ok_or_else(|| protocol::Error::not_found(format!("resource type {id} not found")))?;
    Ok(Scim::ok(discovery::resource_type(&base.0, rt)))
}
