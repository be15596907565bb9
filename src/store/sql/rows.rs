//! Rows to scimd's types, for every dialect: resources, tenants, tokens, and the per-owner
//! folding of membership rows. A value scimd cannot have written is `StoreError::Corrupt`,
//! never a silent default.

use crate::domain::{Deprovisioning, Limits, Policy, Precedence, Tenant, TenantId, TokenInfo};
use crate::scim::canonical::Document;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::dialect::Record;
use crate::store::{GroupRef, StoreError};

/// The columns [`resource`] reads.
pub const RESOURCE_COLUMNS: &str = "id, version, created, last_modified, doc";

pub fn resource(row: &impl Record, kind: ResourceKind) -> Result<StoredResource, StoreError> {
    Ok(StoredResource {
        kind,
        id: ResourceId(row.uuid("id")?),
        version: Version(row.int("version")?),
        created: row.instant("created")?,
        last_modified: row.instant("last_modified")?,
        doc: row
            .json::<Document>("doc")?
            .ok_or_else(|| StoreError::corrupt("doc", "null", "a JSON object"))?,
    })
}

/// The columns [`tenant`] reads, from `tenants`.
pub const TENANT_COLUMNS: &str = "tenants.id, tenants.name, tenants.matching_attributes, \
                                  tenants.allowed_roles, tenants.require_role, tenants.entra_tenant_id, \
                                  tenants.unknown_attributes, tenants.passwords, tenants.soft_delete_renames, \
                                  tenants.on_delete, tenants.retain_for_secs, tenants.restore_on_create, \
                                  tenants.rate_limit, tenants.max_in_flight, \
                                  tenants.schemas, \
                                  tenants.created";

pub fn tenant(row: &impl Record) -> Result<Tenant, StoreError> {
    let matching = row.texts("matching_attributes")?.unwrap_or_default();
    Ok(Tenant {
        id: TenantId(row.uuid("id")?),
        name: required_text(row, "name")?,
        policy: Policy {
            matching: Precedence::parse(&matching).map_err(|_| {
                StoreError::corrupt(
                    "tenants.matching_attributes",
                    matching.join(","),
                    "a list of matching attributes",
                )
            })?,
            allowed_roles: row.texts("allowed_roles")?,
            require_role: row.flag("require_role")?,
            entra_tenant: row.opt_uuid("entra_tenant_id")?,
            unknown_attributes: row
                .text("unknown_attributes")?
                .unwrap_or_default()
                .parse()
                .unwrap_or_default(),
            passwords: row
                .text("passwords")?
                .unwrap_or_default()
                .parse()
                .unwrap_or_default(),
            soft_delete_renames: row
                .text("soft_delete_renames")?
                .unwrap_or_default()
                .parse()
                .unwrap_or_default(),
            deprovisioning: Deprovisioning {
                on_delete: row
                    .text("on_delete")?
                    .unwrap_or_default()
                    .parse()
                    .unwrap_or_default(),
                retain_for_secs: row.int("retain_for_secs")?,
                restore_on_create: row.flag("restore_on_create")?,
            },
            limits: Limits {
                rate_per_second: positive(row, "rate_limit")?,
                max_in_flight: positive(row, "max_in_flight")?,
            },
            schemas: row.int("schemas")?,
        },
        created: row.instant("created")?,
    })
}

/// Tokens with the name of their tenant, for [`token`].
pub const TOKEN_SELECT: &str = "select tokens.id, tenants.name as tenant, tokens.label, \
                                tokens.created, tokens.revoked_at \
                                from tokens join tenants on tenants.id = tokens.tenant_id";

pub fn token(row: &impl Record) -> Result<TokenInfo, StoreError> {
    Ok(TokenInfo {
        id: row.uuid("id")?,
        tenant: required_text(row, "tenant")?,
        label: row.text("label")?,
        created: row.instant("created")?,
        revoked: row.opt_instant("revoked_at")?,
    })
}

fn required_text(row: &impl Record, column: &'static str) -> Result<String, StoreError> {
    row.text(column)?
        .ok_or_else(|| StoreError::corrupt(column, "null", "text"))
}

/// The resource type stored in `column`.
pub fn kind(row: &impl Record, column: &'static str) -> Result<ResourceKind, StoreError> {
    match required_text(row, column)?.as_str() {
        "User" => Ok(ResourceKind::User),
        "Group" => Ok(ResourceKind::Group),
        other => Err(StoreError::corrupt(column, other, "User or Group")),
    }
}

/// A resource id held as text (inside JSON built by a query).
pub fn id_text(text: &str) -> Result<ResourceId, StoreError> {
    text.parse()
        .map_err(|_| StoreError::corrupt("id", text, "a UUID"))
}

/// Groups by name, case-insensitively, in Rust (code point order, whatever the database's
/// collation; an ordered aggregate in SQL would also set up a sort for every row).
pub fn sort_groups(groups: &mut [GroupRef]) {
    groups.sort_by_cached_key(|g| g.display.as_deref().map(str::to_lowercase));
}

/// A nullable positive count of `column`; a value scimd cannot have written is corrupt.
fn positive(row: &impl Record, column: &'static str) -> Result<Option<u32>, StoreError> {
    row.opt_int(column)?
        .map(|n| u32::try_from(n).map_err(|_| StoreError::corrupt(column, n, "a positive count")))
        .transpose()
}
