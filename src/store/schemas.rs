//! The store's part of tenants' extension schemas: the registered documents, and the unique
//! indexes that keep `uniqueness: server` attributes unique within the tenant.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::{TenantId, UnknownAttributes};
use crate::scim::schema::ResourceKind;
use crate::store::StoreError;

/// A registered schema document.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSchema {
    pub kind: ResourceKind,
    pub document: Value,
    pub created: DateTime<Utc>,
}

/// A unique index over one attribute of a tenant's extension, partial to the tenant and the
/// resource type, on the value as filters compare it (the folded document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniqueIndex {
    pub name: String,
    pub kind: ResourceKind,
    pub urn: String,
    pub attribute: String,
}

/// The prefix of every extension unique index's name.
pub const UNIQUE_INDEX_PREFIX: &str = "ext_unique_";

pub trait SchemaStore {
    /// The tenant's registered schemas that are served ('ready'), oldest first.
    fn tenant_schemas(
        &self,
        tenant: TenantId,
    ) -> impl Future<Output = Result<Vec<StoredSchema>, StoreError>> + Send;
    /// The tenant's schema `urn` (found case-insensitively) if it is not served because its
    /// registration or removal is in progress or was interrupted ('building').
    fn building_schema(
        &self,
        tenant: TenantId,
        urn: &str,
    ) -> impl Future<Output = Result<Option<StoredSchema>, StoreError>> + Send;
    /// Registers a schema and creates its unique indexes; it is served once they all are
    /// valid, in the transaction that bumps the tenant's schema version and announces it to
    /// every replica. Where the dialect builds indexes concurrently, they are built outside
    /// any transaction, so no tenant's writes wait. Existing values that already repeat fail
    /// it with [`StoreError::ExtensionUnique`], leaving neither row nor index; a schema of the
    /// URN already there, served or not, with [`StoreError::SchemaExists`].
    fn add_tenant_schema(
        &self,
        tenant: TenantId,
        urn: &str,
        schema: &StoredSchema,
        unique: &[UniqueIndex],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Removes a schema (found case-insensitively), served or 'building', and drops the
    /// indexes named; false when the tenant had no such schema.
    fn remove_tenant_schema(
        &self,
        tenant: TenantId,
        urn: &str,
        unique: &[UniqueIndex],
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn set_unknown_attributes(
        &self,
        tenant: TenantId,
        rule: UnknownAttributes,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Whether `name` is the name of an extension's unique index (and so safe in DDL).
pub fn is_extension_index(name: &str) -> bool {
    name.strip_prefix(UNIQUE_INDEX_PREFIX)
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_hexdigit()))
}
