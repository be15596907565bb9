//! Tenants' extension schemas: registration (`scimd schema add|list|show|remove`), the
//! registry a tenant's requests use (scimd's schemas plus the tenant's own, kept per tenant
//! and schema version, so a registration made anywhere is seen at the tenant's next request),
//! and the unique indexes that keep `uniqueness: server` attributes unique in the tenant.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Directory, Error};
use crate::domain::{Tenant, TenantId, UnknownAttributes};
use crate::scim;
use crate::scim::canonical::Document;
use crate::scim::schema::extension::{self, TenantSchema};
use crate::scim::schema::{Registry, ResourceKind, ResourceType, Schema, Uniqueness};
use crate::store::schemas::{StoredSchema, UNIQUE_INDEX_PREFIX, UniqueIndex};
use crate::store::{Missing, SchemaStore, StoreError};

/// The registries of tenants with schemas of their own, with the version they were read at,
/// and the labels of unknown attributes counted in this process so far.
#[derive(Debug, Default)]
pub struct SchemaCache {
    registries: Mutex<HashMap<TenantId, (i64, Arc<Registry>)>>,
    unknown_labels: Mutex<HashSet<(String, String)>>,
}

/// Distinct (tenant, attribute) labels of `scimd_unknown_attributes_total` at most, per
/// process: names come from clients, and a metric's labels must stay few.
const UNKNOWN_LABELS: usize = 500;
/// The longest attribute name kept (in a label or the activity log).
const UNKNOWN_NAME_CHARS: usize = 100;
/// Names the activity log keeps per request at most.
const UNKNOWN_NOTED: usize = 20;

/// Attributes with `uniqueness` server or global a tenant may have over all its schemas. Each
/// is a partial unique index on the `resources` table that every tenant shares: every write of
/// any tenant's users and groups evaluates each one's predicate, so they must stay few.
pub const MAX_UNIQUE_ATTRIBUTES: usize = 5;

/// Schemas a tenant may register: each is read, checked and merged into the tenant's registry
/// whenever its schemas change, and served by its discovery endpoints.
pub const MAX_SCHEMAS: usize = 20;

/// A schema of a tenant, as `scimd schema list|show` shows it.
#[derive(Debug, Clone)]
pub struct RegisteredSchema {
    pub kind: ResourceKind,
    pub schema: Schema,
    pub created: DateTime<Utc>,
}

impl Directory {
    /// The registry of `tenant`'s requests: scimd's own when it registered no schema.
    pub(super) async fn registry_of(&self, tenant: &Tenant) -> Result<Arc<Registry>, Error> {
        if tenant.policy.schemas == 0 {
            return Ok(self.registry.clone());
        }
        if let Ok(cache) = self.schemas.registries.lock() {
            if let Some((version, registry)) = cache.get(&tenant.id) {
                if *version == tenant.policy.schemas {
                    return Ok(registry.clone());
                }
            }
        }
        let (_, registry) = self.tenant_extensions(tenant.id).await?;
        let registry = Arc::new(registry);
        if let Ok(mut cache) = self.schemas.registries.lock() {
            cache.insert(tenant.id, (tenant.policy.schemas, registry.clone()));
        }
        Ok(registry)
    }

    /// The registry this process last used for the tenant `id` (scimd's own if none): for
    /// work outside a request, such as rendering an event's resource.
    pub(super) fn cached_registry(&self, id: TenantId) -> Arc<Registry> {
        self.schemas
            .registries
            .lock()
            .ok()
            .and_then(|cache| cache.get(&id).map(|(_, r)| r.clone()))
            .unwrap_or_else(|| self.registry.clone())
    }

    /// The tenant's registered schemas, as read, and the registry they make with scimd's own
    /// (each read against those before it; a stored document that no longer reads, as after
    /// an upgrade that added a clashing built-in schema, is left out and logged).
    async fn tenant_extensions(
        &self,
        tenant: TenantId,
    ) -> Result<(Vec<RegisteredSchema>, Registry), Error> {
        let mut out: Vec<RegisteredSchema> = Vec::new();
        let mut registry = self.registry.as_ref().clone();
        for stored in self.store.tenant_schemas(tenant).await? {
            match extension::read(&stored.document, stored.kind, &registry) {
                Ok(schema) => {
                    let registered = RegisteredSchema {
                        kind: stored.kind,
                        schema,
                        created: stored.created,
                    };
                    registry = registry.with_extensions(&[registered.clone().into()]);
                    out.push(registered);
                }
                Err(reason) => tracing::warn!(tenant = %tenant.0, %reason,
                    "a registered schema no longer reads; it is not served"),
            }
        }
        Ok((out, registry))
    }

    /// Registers the schema document `document` as an extension of `kind` for `tenant`.
    pub async fn add_schema(
        &self,
        tenant: &str,
        kind: ResourceKind,
        document: &Value,
    ) -> Result<RegisteredSchema, Error> {
        let tenant = self.tenant(tenant).await?;
        let registry = self.registry_of(&tenant).await?;
        let schema = extension::read(document, kind, &registry)
            .map_err(|reason| Error::from(scim::Error::invalid_value(reason)))?;
        let unique = unique_indexes(tenant.id, kind, &schema);
        self.within_caps(&tenant, unique.len()).await?;
        let stored = StoredSchema {
            kind,
            document: serde_json::to_value(&schema)
                .map_err(|e| Error::internal(format!("cannot store the schema: {e}")))?,
            created: self.now(),
        };
        match self
            .store
            .add_tenant_schema(tenant.id, &schema.id, &stored, &unique)
            .await
        {
            Ok(()) => {}
            Err(StoreError::ExtensionUnique { index }) => {
                let attribute = unique
                    .iter()
                    .find(|u| u.name == index)
                    .map_or(String::new(), |u| u.attribute.clone());
                return Err(scim::Error::uniqueness(format!(
                    "{attribute} is to be unique, but resources of tenant {} already share \
                     values of it; make them unique first",
                    tenant.name
                ))
                .into());
            }
            Err(e) => return Err(registration_error(&tenant, &schema.id, e)),
        }
        let detail = format!("{} extension", kind.as_str());
        self.audited(
            "schema.add",
            Some(&tenant.name),
            Some(schema.id.clone()),
            Some(detail),
        )
        .await;
        Ok(RegisteredSchema {
            kind,
            schema,
            created: stored.created,
        })
    }

    /// Refuses a schema that would take `tenant` past [`MAX_SCHEMAS`], or, with `unique`
    /// attributes to keep unique, past [`MAX_UNIQUE_ATTRIBUTES`].
    async fn within_caps(&self, tenant: &Tenant, unique: usize) -> Result<(), Error> {
        let registered = self.tenant_extensions(tenant.id).await?.0;
        if registered.len() >= MAX_SCHEMAS {
            return Err(scim::Error::invalid_value(format!(
                "tenant {} has {} schemas already; a tenant may register at most {MAX_SCHEMAS}",
                tenant.name,
                registered.len()
            ))
            .into());
        }
        let held: usize = registered
            .iter()
            .map(|r| unique_indexes(tenant.id, r.kind, &r.schema).len())
            .sum();
        if unique > 0 && held + unique > MAX_UNIQUE_ATTRIBUTES {
            return Err(scim::Error::invalid_value(format!(
                "the schema has {unique} attribute(s) with uniqueness server or global and \
                 tenant {} has {held} already; a tenant may have at most \
                 {MAX_UNIQUE_ATTRIBUTES} over all its schemas (each is an index that every \
                 write of every tenant's users and groups evaluates)",
                tenant.name
            ))
            .into());
        }
        Ok(())
    }

    /// The schemas `tenant` registered.
    pub async fn schemas_of(&self, tenant: &str) -> Result<Vec<RegisteredSchema>, Error> {
        let tenant = self.tenant(tenant).await?;
        Ok(self.tenant_extensions(tenant.id).await?.0)
    }

    /// Removes a schema of `tenant` (its URN in any case). Values stored under it stay in
    /// the documents, neither shown nor searchable (a PATCH keeps them, a PUT replaces the
    /// resource without them); registering the schema again shows them again.
    pub async fn remove_schema(&self, tenant: &str, urn: &str) -> Result<RegisteredSchema, Error> {
        let tenant = self.tenant(tenant).await?;
        let served = self
            .tenant_extensions(tenant.id)
            .await?
            .0
            .into_iter()
            .find(|r| r.schema.id.eq_ignore_ascii_case(urn.trim()));
        let registered = match served {
            Some(registered) => registered,
            None => self
                .store
                .building_schema(tenant.id, urn.trim())
                .await?
                .map(building)
                .transpose()?
                .ok_or_else(|| {
                    Error::from(scim::Error::not_found(format!(
                        "tenant {} has no schema '{urn}'",
                        tenant.name
                    )))
                })?,
        };
        let unique = unique_indexes(tenant.id, registered.kind, &registered.schema);
        self.store
            .remove_tenant_schema(tenant.id, &registered.schema.id, &unique)
            .await?;
        self.audited(
            "schema.remove",
            Some(&tenant.name),
            Some(registered.schema.id.clone()),
            None,
        )
        .await;
        Ok(registered)
    }

    /// Counts the attributes a request of `tenant` sent that no schema defines
    /// (`scimd_unknown_attributes_total{tenant, attribute}`) and returns them as the activity
    /// log notes them; `None` when there are none.
    pub(super) fn ignored(&self, tenant: &Tenant, unknown: &[String]) -> Option<String> {
        if unknown.is_empty() {
            return None;
        }
        // a name is noted only when it is spelled as one: a member name can hold anything,
        // and the log and the metrics keep no value
        let names: Vec<String> = unknown
            .iter()
            .map(|n| match scim::is_attribute_name(n) {
                true => n.chars().take(UNKNOWN_NAME_CHARS).collect(),
                false => "(not an attribute name)".to_owned(),
            })
            .collect();
        if let Ok(mut labels) = self.schemas.unknown_labels.lock() {
            for name in &names {
                let key = (tenant.name.clone(), name.clone());
                let label = if labels.contains(&key) || labels.len() < UNKNOWN_LABELS {
                    labels.insert(key);
                    name.clone()
                } else {
                    "(other)".to_owned()
                };
                metrics::counter!("scimd_unknown_attributes_total",
                    "tenant" => tenant.name.clone(), "attribute" => label)
                .increment(1);
            }
        }
        let mut noted: Vec<&str> = names
            .iter()
            .take(UNKNOWN_NOTED)
            .map(String::as_str)
            .collect();
        if names.len() > UNKNOWN_NOTED {
            noted.push("…");
        }
        Some(noted.join(", "))
    }

    /// Sets what `tenant`'s requests' unknown attributes get.
    pub async fn set_unknown_attributes(
        &self,
        tenant: &str,
        rule: UnknownAttributes,
    ) -> Result<(), Error> {
        let tenant = self.tenant(tenant).await?;
        self.store.set_unknown_attributes(tenant.id, rule).await?;
        let detail = format!("unknown attributes: {}", rule.as_str());
        self.audited("tenant.set", Some(&tenant.name), None, Some(detail))
            .await;
        Ok(())
    }
}

/// A schema whose registration or removal is in progress or was interrupted, as stored (scimd
/// wrote the document from a [`Schema`] it had read), to be removed.
fn building(stored: StoredSchema) -> Result<RegisteredSchema, Error> {
    let schema = serde_json::from_value(stored.document)
        .map_err(|e| Error::internal(format!("a stored schema does not read: {e}")))?;
    Ok(RegisteredSchema {
        kind: stored.kind,
        schema,
        created: stored.created,
    })
}

/// A registration's failure in the store, as the operator reads it.
fn registration_error(tenant: &Tenant, urn: &str, e: StoreError) -> Error {
    match e {
        StoreError::SchemaExists { ready: true, .. } => {
            scim::Error::invalid_value(format!("the schema '{urn}' is already served")).into()
        }
        StoreError::SchemaExists { ready: false, .. } => scim::Error::new(
            409,
            None,
            format!(
                "a registration of {urn} for tenant {name} is in progress or was interrupted; \
                 if none is running, `scimd schema remove --tenant {name} {urn}` clears it",
                name = tenant.name
            ),
        )
        .into(),
        StoreError::NotFound(Missing::Schema { .. }) => scim::Error::new(
            409,
            None,
            format!(
                "{urn} was removed from tenant {} while its indexes were built; nothing is \
                 registered",
                tenant.name
            ),
        )
        .into(),
        other => other.into(),
    }
}

impl From<RegisteredSchema> for TenantSchema {
    fn from(r: RegisteredSchema) -> Self {
        TenantSchema {
            kind: r.kind,
            schema: r.schema,
        }
    }
}

/// The unique indexes of `schema`'s attributes with `uniqueness` server or global (global is
/// kept within the tenant: scimd knows no wider scope).
pub(super) fn unique_indexes(
    tenant: TenantId,
    kind: ResourceKind,
    schema: &Schema,
) -> Vec<UniqueIndex> {
    schema
        .attributes
        .iter()
        .filter(|a| a.uniqueness != Uniqueness::None)
        .map(|a| {
            let digest = Sha256::new()
                .chain_update(tenant.0.as_bytes())
                .chain_update(kind.as_str())
                .chain_update(schema.id.to_ascii_lowercase())
                .chain_update([0])
                .chain_update(a.name.to_ascii_lowercase())
                .finalize();
            let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
            UniqueIndex {
                name: format!("{UNIQUE_INDEX_PREFIX}{hex}"),
                kind,
                urn: schema.id.clone(),
                attribute: a.name.clone(),
            }
        })
        .collect()
}

/// A write's error, with a broken extension uniqueness rule as the 409 that names the
/// attribute and the value (RFC 7644 §3.3 `uniqueness`).
pub(super) fn write_error(
    tenant: TenantId,
    rt: &ResourceType,
    doc: &Document,
    e: StoreError,
) -> Error {
    let StoreError::ExtensionUnique { index } = &e else {
        return e.into();
    };
    for ext in &rt.extensions {
        for u in unique_indexes(tenant, rt.kind, &ext.schema) {
            if &u.name != index {
                continue;
            }
            let value = doc
                .get(&u.urn)
                .and_then(|o| o.get(&u.attribute))
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            return scim::Error::uniqueness(format!(
                "a {} with {}:{} '{value}' already exists ({} is unique in the tenant)",
                rt.kind.as_str(),
                u.urn,
                u.attribute,
                u.attribute
            ))
            .at(&format!("{}:{}", u.urn, u.attribute))
            .because("the value is taken")
            .into();
        }
    }
    e.into()
}
