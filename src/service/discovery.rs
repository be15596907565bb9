//! Discovery (RFC 7644 §4): `ServiceProviderConfig`, `Schemas` and `ResourceTypes`, built
//! from the registry that validates requests, so they cannot disagree with it.

use serde_json::Value;

use super::{Directory, Error};
use crate::domain::Tenant;
use crate::scim::discovery::{self, FEATURES};
use crate::scim::list::list_response;
use crate::scim::schema::ResourceKind;
use crate::scim::{self};

impl Directory {
    pub fn service_provider_config(&self, base: &str) -> Value {
        discovery::service_provider_config(base, FEATURES, self.max_payload)
    }

    /// Every schema the tenant's requests are checked against (scimd's and its own), as a
    /// ListResponse.
    pub async fn schemas(&self, tenant: &Tenant, base: &str) -> Result<Value, Error> {
        let registry = self.registry_of(tenant).await?;
        Ok(listed(discovery::schemas(base, &registry)))
    }

    /// One schema by URN (case-insensitive).
    pub async fn schema(&self, tenant: &Tenant, base: &str, urn: &str) -> Result<Value, Error> {
        let registry = self.registry_of(tenant).await?;
        let schema = registry
            .schema(urn)
            .ok_or_else(|| scim::Error::not_found(format!("schema {urn} not found")))?;
        Ok(discovery::schema(base, schema))
    }

    /// Every resource type, with the tenant's extensions, as a ListResponse.
    pub async fn resource_types(&self, tenant: &Tenant, base: &str) -> Result<Value, Error> {
        let registry = self.registry_of(tenant).await?;
        Ok(listed(discovery::resource_types(base, &registry)))
    }

    /// One resource type by name (case-insensitive).
    pub async fn resource_type_document(
        &self,
        tenant: &Tenant,
        base: &str,
        name: &str,
    ) -> Result<Value, Error> {
        let registry = self.registry_of(tenant).await?;
        let rt = [ResourceKind::User, ResourceKind::Group]
            .into_iter()
            .filter(|k| k.as_str().eq_ignore_ascii_case(name))
            .find_map(|k| registry.resource_type(k))
            .ok_or_else(|| scim::Error::not_found(format!("resource type {name} not found")))?;
        Ok(discovery::resource_type(base, rt))
    }
}

fn listed(resources: Vec<Value>) -> Value {
    let total = resources.len() as u64;
    list_response(total, Some(1), resources, None)
}
