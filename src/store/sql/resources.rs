//! Resources: one row per user or group, the canonical document and its folded copy beside
//! the shadow columns that are indexed and constrained. Writes are compare-and-swap on
//! `version`; a write and its members and index entries share one transaction.

use super::creates::Create;
use super::documents::{alone, document_args, inserted, not_found, update};
use super::rows::{self, RESOURCE_COLUMNS};
use super::{Sql, SqlStore, activity, commit, listing, members};
use crate::domain::TenantId;
use crate::scim::list::ListQuery;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::dialect::Dialect;
use crate::store::{Listing, Removal, Resources, StoreError, Write};

impl<D: Dialect> Resources for SqlStore<D> {
    async fn create(
        &self,
        tenant: TenantId,
        write: Write<'_>,
    ) -> Result<StoredResource, StoreError> {
        let (w, recorded) = (&write.content, write.activity);
        if let (true, Some(a)) = (alone::<D>(w), recorded) {
            // one statement: written with the creates that arrive beside it
            return self.creates.write(Create::new(tenant, w, a)?).await;
        }
        let sql = Sql::new(format!(
            "insert into resources
                 (tenant_id, id, resource_type, version, created, last_modified,
                  name_key, external_id, active, doc, search, external_key, email_key)
             values ($1, $2, $3, 1, $4, $4, $5, $6, $7, $8, $9, $10, $11)
             returning {RESOURCE_COLUMNS}"
        ))
        .arg(tenant)
        .arg(w.id)
        .arg(w.kind.as_str())
        .arg(w.now);
        let sql = document_args(sql, w)?;
        if alone::<D>(w) {
            let mut conn = self.writer.acquire().await?;
            let row = inserted::<D>(&mut conn, sql, w).await?;
            conn.done();
            return rows::resource(&row, w.kind);
        }
        let mut tx = self.writer.begin_write().await?;
        let row = inserted::<D>(&mut tx, sql, w).await?;
        if let Some(a) = recorded {
            activity::write::<D>(&mut tx, a).await?;
        }
        D::after_write(&mut tx, tenant, w.id, w.folded).await?;
        if let Some(list) = w.members {
            members::add::<D>(&mut tx, tenant, w.id, list).await?;
        }
        commit::<D>(tx).await?;
        rows::resource(&row, w.kind)
    }

    async fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
    ) -> Result<StoredResource, StoreError> {
        let row = self.fetch_optional(select(tenant, kind, id)).await?;
        rows::resource(&row.ok_or_else(|| not_found(kind, id))?, kind)
    }

    async fn replace(
        &self,
        tenant: TenantId,
        write: Write<'_>,
        expected: Version,
    ) -> Result<StoredResource, StoreError> {
        let (w, recorded) = (&write.content, write.activity);
        if alone::<D>(w) {
            let mut conn = self.writer.acquire().await?;
            let stored = update::<D>(&mut conn, tenant, w, Some(expected), recorded).await?;
            conn.done();
            return match stored {
                Some(stored) => Ok(stored),
                None => Err(self.missing_or_moved(tenant, w.kind, w.id, expected).await),
            };
        }
        let mut tx = self.writer.begin_write().await?;
        let Some(stored) = update::<D>(&mut tx, tenant, w, Some(expected), None).await? else {
            drop(tx);
            return Err(self.missing_or_moved(tenant, w.kind, w.id, expected).await);
        };
        if let Some(a) = recorded {
            activity::write::<D>(&mut tx, a).await?;
        }
        if let Some(list) = w.members {
            members::remove::<D>(&mut tx, tenant, w.id, None).await?;
            members::add::<D>(&mut tx, tenant, w.id, list).await?;
        }
        commit::<D>(tx).await?;
        Ok(stored)
    }

    async fn delete(&self, tenant: TenantId, removal: Removal<'_>) -> Result<(), StoreError> {
        let Removal {
            kind,
            id,
            expected,
            activity: recorded,
        } = removal;
        let sql = Sql::new(format!(
            "delete from resources
             where tenant_id = $1 and id = $2 and resource_type = $3
               and ($4 is null or version = $4)
             returning {RESOURCE_COLUMNS}"
        ))
        .arg(tenant)
        .arg(id)
        .arg(kind.as_str())
        .arg(expected);
        let deleted = match recorded {
            None => {
                let mut conn = self.writer.acquire().await?;
                let deleted = D::fetch_optional(&mut conn, sql).await?.is_some();
                conn.done();
                deleted
            }
            Some(a) if !D::INDEXES_AFTER_WRITE => {
                let mut conn = self.writer.acquire().await?;
                let deleted = D::fetch_optional(&mut conn, activity::with_row::<D>(sql, a))
                    .await?
                    .is_some();
                conn.done();
                deleted
            }
            Some(a) => {
                // the event reads the row: written before it goes, undone with it
                let mut tx = self.writer.begin_write().await?;
                activity::write::<D>(&mut tx, a).await?;
                let deleted = D::fetch_optional(&mut tx, sql).await?.is_some();
                if deleted {
                    commit::<D>(tx).await?;
                }
                deleted
            }
        };
        if deleted {
            return Ok(());
        }
        Err(match expected {
            Some(expected) => self.missing_or_moved(tenant, kind, id, expected).await,
            None => not_found(kind, id),
        })
    }

    async fn list(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
    ) -> Result<Listing, StoreError> {
        listing::list(self, tenant, kind, query).await
    }
}

impl<D: Dialect> SqlStore<D> {
    /// After a conditional write at `expected` touched no row: was the resource gone, or at
    /// another version?
    pub(super) async fn missing_or_moved(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
        expected: Version,
    ) -> StoreError {
        match self.fetch_optional(select(tenant, kind, id)).await {
            Ok(Some(_)) => StoreError::VersionMismatch { kind, id, expected },
            Ok(None) => not_found(kind, id),
            Err(e) => e,
        }
    }
}

fn select(tenant: TenantId, kind: ResourceKind, id: ResourceId) -> Sql {
    Sql::new(format!(
        "select {RESOURCE_COLUMNS} from resources
         where tenant_id = $1 and id = $2 and resource_type = $3"
    ))
    .arg(tenant)
    .arg(id)
    .arg(kind.as_str())
}
