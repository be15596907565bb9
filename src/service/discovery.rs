//! Discovery (RFC 7644 §4): `ServiceProviderConfig`, `Schemas` and `ResourceTypes`, built
//! from the registry that validates requests, so they cannot disagree with it.

use serde_json::Value;

use super::{Directory, Error};
use crate::scim::discovery::{self, FEATURES};
use crate::scim::list::list_response;
use crate::scim::schema::ResourceKind;
use crate::scim::{self};

impl Directory {
    pub fn service_provider_config(&self, base: &str) -> Value {
        discovery::service_provider_config(base, FEATURES, self.max_payload)
    }

    /// Every schema, as a ListResponse.
    pub fn schemas(&self, base: &str) -> Value {
        listed(discovery::schemas(base, &self.registry))
    }

    /// One schema by URN (case-insensitive).
    pub fn schema(&self, base: &str, urn: &str) -> Result<Value, Error> {
        let schema = self
            .registry
            .schema(urn)
            .ok_or_else(|| scim::Error::not_found(format!("schema {urn} not found")))?;
        Ok(discovery::schema(base, schema))
    }

    /// Every resource type, as a ListResponse.
    pub fn resource_types(&self, base: &str) -> Value {
        listed(discovery::resource_types(base, &self.registry))
    }

    /// One resource type by name (case-insensitive).
    pub fn resource_type_document(&self, base: &str, name: &str) -> Result<Value, Error> {
        let rt = [ResourceKind::User, ResourceKind::Group]
            .into_iter()
            .filter(|k| k.as_str().eq_ignore_ascii_case(name))
            .find_map(|k| self.registry.resource_type(k))
            .ok_or_else(|| scim::Error::not_found(format!("resource type {name} not found")))?;
        Ok(discovery::resource_type(base, rt))
    }
}

fn listed(resources: Vec<Value>) -> Value {
    let total = resources.len() as u64;
    list_response(total, Some(1), resources, None)
}
