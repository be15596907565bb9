//! Tenants' extension schemas in SQL for every dialect. Only 'ready' rows are served; making
//! one ready or taking it away bumps `tenants.schemas` and announces the change like any change
//! of tenant rules, so every replica reads the new schemas before its next request of the
//! tenant.
//!
//! Where the dialect builds indexes concurrently (PostgreSQL), no index is built inside a
//! transaction, so no tenant's writes wait while one builds: a registration writes its row
//! 'building' and commits, builds each unique index, then marks the row 'ready' in the
//! transaction that bumps; a build that fails drops what it built and deletes the row. A
//! removal hides the row ('building') first, then drops the indexes, then deletes it. A
//! 'building' row is never served, blocks registering its URN again, and is what an
//! interrupted registration or removal leaves for `scimd schema remove` to clear. Elsewhere
//! (SQLite, one writer) the row and its indexes change in one transaction.

use super::{Arg, Sql, SqlStore, commit, execute};
use crate::domain::{TenantId, UnknownAttributes};
use crate::store::dialect::{Conn, Dialect, Record};
use crate::store::schemas::{SchemaStore, StoredSchema, UniqueIndex};
use crate::store::{Missing, StoreError, sql::rows};

impl<D: Dialect> SchemaStore for SqlStore<D> {
    async fn tenant_schemas(&self, tenant: TenantId) -> Result<Vec<StoredSchema>, StoreError> {
        let sql = Sql::new(
            "select resource_type, document, created from tenant_schemas
             where tenant_id = $1 and state = 'ready' order by created, id",
        )
        .arg(tenant);
        self.fetch_all(sql).await?.iter().map(stored).collect()
    }

    async fn building_schema(
        &self,
        tenant: TenantId,
        urn: &str,
    ) -> Result<Option<StoredSchema>, StoreError> {
        let sql = Sql::new(
            "select resource_type, document, created from tenant_schemas
             where tenant_id = $1 and urn_key = $2 and state = 'building'",
        )
        .arg(tenant)
        .arg(urn.to_ascii_lowercase());
        self.fetch_optional(sql)
            .await?
            .as_ref()
            .map(stored)
            .transpose()
    }

    async fn add_tenant_schema(
        &self,
        tenant: TenantId,
        urn: &str,
        schema: &StoredSchema,
        unique: &[UniqueIndex],
    ) -> Result<(), StoreError> {
        if D::CONCURRENT_INDEXES {
            return self.add_concurrently(tenant, urn, schema, unique).await;
        }
        let mut tx = self.writer.begin_write().await?;
        insert::<D>(&mut tx, tenant, urn, schema, "ready").await?;
        for index in unique {
            let ddl = Sql::new(D::extension_unique_index(tenant, index));
            D::run_index_ddl(&mut tx, ddl)
                .await
                .map_err(|e| repeated(e, index))?;
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
        if D::CONCURRENT_INDEXES {
            return self.remove_concurrently(tenant, urn, unique).await;
        }
        let mut tx = self.writer.begin_write().await?;
        if execute::<D>(&mut tx, by_urn("delete from tenant_schemas", tenant, urn)).await? == 0 {
            return Ok(false);
        }
        for index in unique {
            let ddl = Sql::new(D::drop_extension_index(&index.name));
            D::run_index_ddl(&mut tx, ddl).await?;
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

fn stored(r: &impl Record) -> Result<StoredSchema, StoreError> {
    Ok(StoredSchema {
        kind: rows::kind(r, "resource_type")?,
        document: r.json("document")?.unwrap_or_default(),
        created: r.instant("created")?,
    })
}

/// `statement` (an update or delete of `tenant_schemas`) of the tenant's schema `urn`, found
/// case-insensitively.
fn by_urn(statement: &str, tenant: TenantId, urn: &str) -> Sql {
    Sql::new(format!("{statement} where tenant_id = $1 and urn_key = $2"))
        .arg(tenant)
        .arg(urn.to_ascii_lowercase())
}

/// Writes the row of `schema` in `state`, in `tx`; a row of the URN already there (served or
/// not) is [`StoreError::SchemaExists`].
async fn insert<D: Dialect>(
    tx: &mut Conn<D>,
    tenant: TenantId,
    urn: &str,
    schema: &StoredSchema,
    state: &str,
) -> Result<(), StoreError> {
    let existing = by_urn("select state from tenant_schemas", tenant, urn);
    if let Some(row) = D::fetch_optional(tx, existing).await? {
        let ready = row.text("state")?.as_deref() == Some("ready");
        return Err(exists(urn, ready));
    }
    let insert = Sql::new(
        "insert into tenant_schemas
             (tenant_id, id, urn_key, resource_type, document, created, state)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .arg(tenant)
    .arg(urn)
    .arg(urn.to_ascii_lowercase())
    .arg(schema.kind.as_str())
    .arg(Arg::json(&schema.document)?)
    .arg(schema.created)
    .arg(state);
    // another registration of the URN wrote its row since the check
    execute::<D>(tx, insert)
        .await
        .map_err(|e| if is_unique(&e) { exists(urn, false) } else { e })?;
    Ok(())
}

fn exists(urn: &str, ready: bool) -> StoreError {
    StoreError::SchemaExists {
        urn: urn.to_owned(),
        ready,
    }
}

/// A failure to build `index`: any unique violation means values already repeat (building the
/// index, only its own rule can be broken).
fn repeated(e: StoreError, index: &UniqueIndex) -> StoreError {
    if is_unique(&e) {
        StoreError::ExtensionUnique {
            index: index.name.clone(),
        }
    } else {
        e
    }
}

/// Whether `e` is a unique violation of any kind.
fn is_unique(e: &StoreError) -> bool {
    matches!(e, StoreError::Other(sqlx::Error::Database(db)) if db.is_unique_violation())
}

impl<D: Dialect> SqlStore<D> {
    /// Registers with the indexes built outside any transaction (see the module's notes).
    async fn add_concurrently(
        &self,
        tenant: TenantId,
        urn: &str,
        schema: &StoredSchema,
        unique: &[UniqueIndex],
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        insert::<D>(&mut tx, tenant, urn, schema, "building").await?;
        commit::<D>(tx).await?;
        let built = match self.build_indexes(tenant, unique).await {
            Ok(()) => self.mark_ready(tenant, urn).await,
            Err(e) => Err(e),
        };
        if let Err(e) = built {
            if let Err(left) = self.clear_building(tenant, urn, unique).await {
                tracing::warn!(tenant = %tenant.0, urn, error = %left,
                    "a failed registration is left unserved; `scimd schema remove` clears it");
            }
            return Err(e);
        }
        self.tokens.clear();
        Ok(())
    }

    /// Builds the indexes, one after the other, on a connection of the writer's pool outside
    /// any transaction. A connection that failed is closed rather than pooled again, whatever
    /// its session settings were left as.
    async fn build_indexes(
        &self,
        tenant: TenantId,
        unique: &[UniqueIndex],
    ) -> Result<(), StoreError> {
        let mut conn = self.writer.acquire().await?;
        for index in unique {
            let ddl = Sql::new(D::extension_unique_index(tenant, index));
            if let Err(e) = D::run_index_ddl(&mut conn, ddl).await {
                conn.close_on_drop();
                return Err(repeated(e, index));
            }
        }
        Ok(())
    }

    /// Serves the schema built: 'ready', bumped and announced in one transaction. Not found
    /// when `scimd schema remove` took the row while the indexes were built.
    async fn mark_ready(&self, tenant: TenantId, urn: &str) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_write().await?;
        let mut ready = by_urn("update tenant_schemas set state = 'ready'", tenant, urn);
        ready.push(" and state = 'building'");
        if execute::<D>(&mut tx, ready).await? == 0 {
            return Err(StoreError::NotFound(Missing::Schema {
                urn: urn.to_owned(),
            }));
        }
        self.bumped(&mut tx, tenant).await?;
        commit::<D>(tx).await
    }

    /// Removes with the indexes dropped outside any transaction: the row hidden first (no
    /// replica serves it once this commits), then the indexes, then the row.
    async fn remove_concurrently(
        &self,
        tenant: TenantId,
        urn: &str,
        unique: &[UniqueIndex],
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin_write().await?;
        let hide = by_urn("update tenant_schemas set state = 'building'", tenant, urn);
        if execute::<D>(&mut tx, hide).await? == 0 {
            return Ok(false);
        }
        self.bumped(&mut tx, tenant).await?;
        commit::<D>(tx).await?;
        self.tokens.clear();
        self.clear_building(tenant, urn, unique).await?;
        Ok(true)
    }

    /// Drops the indexes of the schema's 'building' row, then deletes the row; a row found
    /// 'ready' (its registration did commit) is left as it is. Every index goes before the
    /// row: an index a failed concurrent build left invalid is still kept up to date, and its
    /// uniqueness still checked, by every write, and the row is what lets `remove` find it.
    async fn clear_building(
        &self,
        tenant: TenantId,
        urn: &str,
        unique: &[UniqueIndex],
    ) -> Result<(), StoreError> {
        let state = by_urn("select state from tenant_schemas", tenant, urn);
        if let Some(row) = self.fetch_optional(state).await? {
            if row.text("state")?.as_deref() == Some("ready") {
                return Ok(());
            }
        }
        let mut conn = self.writer.acquire().await?;
        for index in unique {
            let ddl = Sql::new(D::drop_extension_index(&index.name));
            if let Err(e) = D::run_index_ddl(&mut conn, ddl).await {
                conn.close_on_drop();
                return Err(e);
            }
        }
        let mut delete = by_urn("delete from tenant_schemas", tenant, urn);
        delete.push(" and state = 'building'");
        execute::<D>(&mut conn, delete).await?;
        Ok(())
    }

    /// Bumps the tenant's schema version and announces it, in `tx`.
    async fn bumped(&self, tx: &mut Conn<D>, tenant: TenantId) -> Result<(), StoreError> {
        let bump = Sql::new("update tenants set schemas = schemas + 1 where id = $1").arg(tenant);
        execute::<D>(tx, bump).await?;
        D::announce_token_change(tx).await
    }
}
