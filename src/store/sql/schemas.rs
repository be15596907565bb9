//! Tenants' extension schemas in SQL for every dialect. Registering or removing one is a
//! transaction that also creates or drops its unique indexes (DDL is transactional on both
//! databases), bumps `tenants.schemas` and announces the change like any change of tenant
//! rules, so every replica reads the new schemas before its next request of the tenant.

use super::{Arg, Sql, SqlStore, commit, execute};
use crate::domain::{TenantId, UnknownAttributes};
use crate::store::dialect::{Dialect, Record};
use crate::store::schemas::{SchemaStore, StoredSchema, UNIQUE_INDEX_PREFIX, UniqueIndex};
use crate::store::{StoreError, sql::rows};

impl<D: Dialect> SchemaStore for SqlStore<D> {
    async fn tenant_schemas(&self, tenant: TenantId) -> Result<Vec<StoredSchema>, StoreError> {
        let sql = Sql::new(
            "select resource_type, document, created from tenant_schemas
             where tenant_id = $1 order by created, id",
        )
        .arg(tenant);
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|r| {
                Ok(StoredSchema {
                    kind: rows::kind(r, "resource_type")?,
                    document: r.json("document")?.unwrap_or_default(),
                    created: r.instant("created")?,
                })
            })
            .collect()
    }

    async fn add_tenant_schema(
        &self,
        tenant: TenantId,
        urn: &str,
        schema: &StoredSchema,
        unique: &[UniqueIndex],
    ) -> Result<(), StoreError> {
        let insert = Sql::new(
            "insert into tenant_schemas (tenant_id, id, urn_key, resource_type, document, created)
             values ($1, $2, $3, $4, $5, $6)",
        )
        .arg(tenant)
        .arg(urn)
        .arg(urn.to_ascii_lowercase())
        .arg(schema.kind.as_str())
        .arg(Arg::json(&schema.document)?)
        .arg(schema.created);
        let mut tx = D::begin_write(&self.writer).await?;
        execute::<D>(&mut tx, insert).await?;
        for index in unique {
            let ddl = Sql::new(D::extension_unique_index(tenant, index));
            // building the index, only its own rule can be broken: values already repeat
            execute::<D>(&mut tx, ddl).await.map_err(|e| {
                if is_unique(&e) {
                    StoreError::ExtensionUnique {
                        index: index.name.clone(),
                    }
                } else {
                    e
                }
            })?;
        }
        self.bumped(&mut tx, tenant).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(())
    }

    async fn remove_tenant_schema(
        &self,
        tenant: TenantId,
        urn: &str,
        unique: &[UniqueIndex],
    ) -> Result<bool, StoreError> {
        let delete =
            Sql::new("delete from tenant_schemas where tenant_id = $1 and lower(id) = lower($2)")
                .arg(tenant)
                .arg(urn);
        let mut tx = D::begin_write(&self.writer).await?;
        if execute::<D>(&mut tx, delete).await? == 0 {
            return Ok(false);
        }
        for index in unique {
            execute::<D>(
                &mut tx,
                Sql::new(format!("drop index if exists {}", index.name)),
            )
            .await?;
        }
        self.bumped(&mut tx, tenant).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        Ok(true)
    }

    async fn set_unknown_attributes(
        &self,
        tenant: TenantId,
        rule: UnknownAttributes,
    ) -> Result<(), StoreError> {
        let sql = Sql::new("update tenants set unknown_attributes = $2 where id = $1")
            .arg(tenant)
            .arg(rule.as_str());
        self.rule_changed(sql).await
    }
}

/// Whether `e` is a unique violation of any kind.
fn is_unique(e: &StoreError) -> bool {
    matches!(e, StoreError::Other(sqlx::Error::Database(db)) if db.is_unique_violation())
}

impl<D: Dialect> SqlStore<D> {
    /// Bumps the tenant's schema version and announces it, in `tx`.
    async fn bumped(
        &self,
        tx: &mut crate::store::dialect::Conn<D>,
        tenant: TenantId,
    ) -> Result<(), StoreError> {
        let bump = Sql::new("update tenants set schemas = schemas + 1 where id = $1").arg(tenant);
        execute::<D>(tx, bump).await?;
        D::announce_token_change(tx).await
    }
}

/// Whether `name` is the name of an extension's unique index (and so safe in DDL).
pub(crate) fn is_extension_index(name: &str) -> bool {
    name.strip_prefix(UNIQUE_INDEX_PREFIX)
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_hexdigit()))
}
