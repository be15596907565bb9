//! Discovery documents (RFC 7643 §5–7, RFC 7644 §4), built from the schema registry so that
//! they cannot disagree with what the server validates. `ServiceProviderConfig` says only what
//! scimd really does today.

use serde_json::{Value, json};

use crate::scim::list::{DEFAULT_COUNT, MAX_COUNT};
use crate::scim::schema::{Registry, ResourceType, Schema};
use crate::scim::urn;

/// What the service provider supports (RFC 7643 §5).
#[derive(Debug, Clone, Copy)]
pub struct Features {
    pub patch: bool,
    pub filter: bool,
    pub sort: bool,
    pub etag: bool,
}

/// What this build of scimd supports.
pub const FEATURES: Features = Features {
    patch: true,
    filter: true,
    sort: true,
    etag: true,
};

/// `max_payload`: the largest request body, and so the largest BulkRequest.
pub fn service_provider_config(base_url: &str, features: Features, max_payload: usize) -> Value {
    json!({
        "schemas": [urn::SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": {"supported": features.patch},
        "bulk": {
            "supported": true,
            "maxOperations": crate::scim::bulk::MAX_OPERATIONS,
            "maxPayloadSize": max_payload,
        },
        "filter": {"supported": features.filter, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": features.sort},
        "etag": {"supported": features.etag},
        // RFC 9865 §4: cursor pages never expire, so there is no cursorTimeout to state.
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_COUNT,
            "maxPageSize": MAX_COUNT,
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A per-tenant secret token issued by `scimd token issue`, sent as `Authorization: Bearer <token>`.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base_url}/ServiceProviderConfig"),
        },
    })
}

/// One schema as a resource of the `/Schemas` endpoint (RFC 7643 §7).
pub fn schema(base_url: &str, schema: &Schema) -> Value {
    json!({
        "schemas": [urn::SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes,
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base_url}/Schemas/{}", schema.id),
        },
    })
}

pub fn schemas(base_url: &str, registry: &Registry) -> Vec<Value> {
    registry
        .schemas()
        .into_iter()
        .map(|s| schema(base_url, s))
        .collect()
}

/// One resource type (RFC 7643 §6).
pub fn resource_type(base_url: &str, rt: &ResourceType) -> Value {
    let name = rt.kind.as_str();
    let extensions: Vec<Value> = rt
        .extensions
        .iter()
        .map(|e| json!({"schema": e.schema.id, "required": e.required}))
        .collect();
    json!({
        "schemas": [urn::RESOURCE_TYPE],
        "id": name,
        "name": name,
        "endpoint": rt.kind.endpoint(),
        "description": rt.description,
        "schema": rt.schema.id,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base_url}/ResourceTypes/{name}"),
        },
    })
}

pub fn resource_types(base_url: &str, registry: &Registry) -> Vec<Value> {
    registry
        .resource_types()
        .iter()
        .map(|rt| resource_type(base_url, rt))
        .collect()
}
