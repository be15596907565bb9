//! Resources on PostgreSQL: one row per resource, the canonical document as JSONB.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{PgStore, uniqueness};
use crate::scim::canonical::Document;
use crate::scim::list::Page;
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::shadow::name_attribute;
use crate::store::{Listing, Shadow, StoreError, TenantId, Write};

#[derive(sqlx::FromRow)]
struct ResourceRow {
    id: Uuid,
    version: i64,
    created: DateTime<Utc>,
    last_modified: DateTime<Utc>,
    doc: Json<Document>,
}

impl ResourceRow {
    fn into_resource(self, kind: ResourceKind) -> StoredResource {
        StoredResource {
            kind,
            id: ResourceId(self.id),
            version: Version(self.version),
            created: self.created,
            last_modified: self.last_modified,
            doc: self.doc.0,
        }
    }
}

impl PgStore {
    pub(crate) async fn create(
        &self,
        tenant: TenantId,
        w: Write<'_>,
    ) -> Result<StoredResource, StoreError> {
        let shadow = Shadow::of(w.kind, w.doc);
        sqlx::query_as::<_, ResourceRow>(
            r#"insert into resources
                   (tenant_id, id, resource_type, version, created, last_modified,
                    name_key, external_id, active, doc)
               values ($1, $2, $3, 1, $4, $4, $5, $6, $7, $8)
               returning id, version, created, last_modified, doc"#,
        )
        .bind(tenant.0)
        .bind(w.id.0)
        .bind(w.kind.as_str())
        .bind(w.now)
        .bind(&shadow.name_key)
        .bind(&shadow.external_id)
        .bind(shadow.active)
        .bind(Json(w.doc))
        .fetch_one(&self.pool)
        .await
        .map(|row| row.into_resource(w.kind))
        .map_err(|e| uniqueness(e, name_attribute(w.kind)))
    }

    pub(crate) async fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
    ) -> Result<StoredResource, StoreError> {
        sqlx::query_as::<_, ResourceRow>(
            r#"select id, version, created, last_modified, doc from resources
               where tenant_id = $1 and id = $2 and resource_type = $3"#,
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|row| row.into_resource(kind))
        .ok_or(StoreError::NotFound)
    }

    pub(crate) async fn replace(
        &self,
        tenant: TenantId,
        w: Write<'_>,
        expected: Version,
    ) -> Result<StoredResource, StoreError> {
        let shadow = Shadow::of(w.kind, w.doc);
        let row = sqlx::query_as::<_, ResourceRow>(
            r#"update resources
               set version = version + 1, last_modified = $5,
                   name_key = $6, external_id = $7, active = $8, doc = $9
               where tenant_id = $1 and id = $2 and resource_type = $3 and version = $4
               returning id, version, created, last_modified, doc"#,
        )
        .bind(tenant.0)
        .bind(w.id.0)
        .bind(w.kind.as_str())
        .bind(expected.0)
        .bind(w.now)
        .bind(&shadow.name_key)
        .bind(&shadow.external_id)
        .bind(shadow.active)
        .bind(Json(w.doc))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| uniqueness(e, name_attribute(w.kind)))?;
        match row {
            Some(row) => Ok(row.into_resource(w.kind)),
            None => Err(self.missing_or_moved(tenant, w.kind, w.id).await),
        }
    }

    pub(crate) async fn delete(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
        expected: Option<Version>,
    ) -> Result<(), StoreError> {
        let deleted = sqlx::query(
            r#"delete from resources
               where tenant_id = $1 and id = $2 and resource_type = $3
                 and ($4::bigint is null or version = $4)"#,
        )
        .bind(tenant.0)
        .bind(id.0)
        .bind(kind.as_str())
        .bind(expected.map(|v| v.0))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if deleted == 1 {
            Ok(())
        } else {
            Err(self.missing_or_moved(tenant, kind, id).await)
        }
    }

    /// After a conditional write touched no row: was the resource gone, or at another version?
    async fn missing_or_moved(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: ResourceId,
    ) -> StoreError {
        match self.get(tenant, kind, id).await {
            Ok(_) => StoreError::VersionMismatch,
            Err(e) => e,
        }
    }

    pub(crate) async fn list(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        page: Page,
    ) -> Result<Listing, StoreError> {
        let (total,): (i64,) = sqlx::query_as(
            r#"select count(*) from resources where tenant_id = $1 and resource_type = $2"#,
        )
        .bind(tenant.0)
        .bind(kind.as_str())
        .fetch_one(&self.pool)
        .await?;
        let rows = if page.count == 0 {
            Vec::new()
        } else {
            sqlx::query_as::<_, ResourceRow>(
                r#"select id, version, created, last_modified, doc from resources
                   where tenant_id = $1 and resource_type = $2
                   order by seq
                   limit $3 offset $4"#,
            )
            .bind(tenant.0)
            .bind(kind.as_str())
            .bind(i64::from(page.count))
            .bind(i64::try_from(page.offset()).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?
        };
        Ok(Listing {
            total: u64::try_from(total).unwrap_or(0),
            resources: rows.into_iter().map(|r| r.into_resource(kind)).collect(),
        })
    }
}
