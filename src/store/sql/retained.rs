//! Retained users in SQL for every dialect (see [`RetainedStore`]): the move out of
//! `resources` and back, each in one transaction with its activity row and event, the
//! listing, the lookup by `externalId` and the purge in batches.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::documents::{document_args, inserted, not_found};
use super::rows::{self, RESOURCE_COLUMNS};
use super::{Sql, SqlStore, activity, commit, execute};
use crate::domain::TenantId;
use crate::domain::retained::Retained;
use crate::scim::canonical::Document;
use crate::scim::resource::StoredResource;
use crate::scim::schema::ResourceKind;
use crate::store::dialect::{Dialect, Record};
use crate::store::{Removal, RetainedStore, StoreError, Write};

const COLUMNS: &str =
    "tenant_id, id, resource_type, version, created, external_id, doc, deleted_at, purge_after";

fn retained(r: &impl Record) -> Result<Retained, StoreError> {
    let doc = r
        .json::<Document>("doc")?
        .ok_or_else(|| StoreError::corrupt("retained_resources.doc", "null", "a JSON object"))?;
    Ok(Retained {
        tenant: TenantId(r.uuid("tenant_id")?),
        id: r.uuid("id")?,
        resource_type: r.text("resource_type")?.unwrap_or_default(),
        user_name: doc
            .get("userName")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        external_id: r.text("external_id")?,
        version: r.int("version")?,
        created: r.instant("created")?,
        deleted_at: r.instant("deleted_at")?,
        purge_after: r.instant("purge_after")?,
        doc,
    })
}

impl<D: Dialect> RetainedStore for SqlStore<D> {
    async fn retain(
        &self,
        tenant: TenantId,
        removal: Removal<'_>,
        deleted_at: DateTime<Utc>,
        purge_after: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Removal {
            kind,
            id,
            expected,
            activity: recorded,
        } = removal;
        let mut tx = self.writer.begin_write().await?;
        // held until the move: a concurrent write of the user waits, then finds it gone
        let locked = Sql::new(format!(
            "select id from resources where tenant_id = $1 and id = $2 and resource_type = $3{}",
            D::FOR_UPDATE
        ))
        .arg(tenant)
        .arg(id)
        .arg(kind.as_str());
        D::fetch_optional(&mut tx, locked).await?;
        if let Some(a) = recorded {
            // the event reads the row: written before it moves, undone with it
            activity::write::<D>(&mut tx, a).await?;
        }
        let kept = Sql::new(
            "insert into retained_resources
                 (tenant_id, id, resource_type, version, created, name_key, external_id, doc,
                  deleted_at, purge_after)
             select tenant_id, id, resource_type, version, created, name_key, external_id, doc,
                    $4, $5
             from resources
             where tenant_id = $1 and id = $2 and resource_type = $3
               and ($6 is null or version = $6)",
        )
        .arg(tenant)
        .arg(id)
        .arg(kind.as_str())
        .arg(deleted_at)
        .arg(purge_after)
        .arg(expected);
        if execute::<D>(&mut tx, kept).await? == 0 {
            drop(tx);
            return Err(match expected {
                Some(expected) => self.missing_or_moved(tenant, kind, id, expected).await,
                None => not_found(kind, id),
            });
        }
        let gone = Sql::new("delete from resources where tenant_id = $1 and id = $2")
            .arg(tenant)
            .arg(id);
        execute::<D>(&mut tx, gone).await?;
        commit::<D>(tx).await
    }

    async fn retained_page(
        &self,
        tenant: TenantId,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: u32,
    ) -> Result<Vec<Retained>, StoreError> {
        let mut sql = Sql::new(format!(
            "select {COLUMNS} from retained_resources where tenant_id = "
        ));
        sql.push_bind(tenant);
        if let Some((at, id)) = after {
            sql.push(" and (deleted_at > ")
                .push_bind(at)
                .push(" or (deleted_at = ")
                .push_bind(at)
                .push(" and id > ")
                .push_bind(id)
                .push("))");
        }
        sql.push(" order by deleted_at, id limit ")
            .push_bind(i64::from(limit));
        self.fetch_all(sql).await?.iter().map(retained).collect()
    }

    async fn retained(&self, tenant: TenantId, id: Uuid) -> Result<Option<Retained>, StoreError> {
        let sql = Sql::new(format!(
            "select {COLUMNS} from retained_resources where tenant_id = $1 and id = $2"
        ))
        .arg(tenant)
        .arg(id);
        self.fetch_optional(sql)
            .await?
            .as_ref()
            .map(retained)
            .transpose()
    }

    async fn retained_by_external_id(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        external_id: &str,
    ) -> Result<Option<Retained>, StoreError> {
        let sql = Sql::new(format!(
            "select {COLUMNS} from retained_resources
             where tenant_id = $1 and resource_type = $2 and external_id = $3
             order by deleted_at desc, id desc limit 1"
        ))
        .arg(tenant)
        .arg(kind.as_str())
        .arg(external_id);
        self.fetch_optional(sql)
            .await?
            .as_ref()
            .map(retained)
            .transpose()
    }

    async fn deactivated_by_external_id(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        external_id: &str,
    ) -> Result<Vec<StoredResource>, StoreError> {
        // resources_external_id starts with the value, then the tenant and the type
        let sql = Sql::new(format!(
            "select {RESOURCE_COLUMNS} from resources
             where external_id = $1 and tenant_id = $2 and resource_type = $3
               and active = $4
             limit 2"
        ))
        .arg(external_id)
        .arg(tenant)
        .arg(kind.as_str())
        .arg(false);
        self.fetch_all(sql)
            .await?
            .iter()
            .map(|row| rows::resource(row, kind))
            .collect()
    }

    async fn restore(
        &self,
        tenant: TenantId,
        write: Write<'_>,
        version: i64,
        created: DateTime<Utc>,
    ) -> Result<StoredResource, StoreError> {
        let (w, recorded) = (&write.content, write.activity);
        let mut tx = self.writer.begin_write().await?;
        let taken = Sql::new(
            "delete from retained_resources
             where tenant_id = $1 and id = $2 and resource_type = $3 returning id",
        )
        .arg(tenant)
        .arg(w.id)
        .arg(w.kind.as_str());
        if D::fetch_optional(&mut tx, taken).await?.is_none() {
            return Err(not_found(w.kind, w.id));
        }
        let sql = Sql::new(format!(
            "insert into resources
                 (tenant_id, id, resource_type, version, created, last_modified,
                  name_key, external_id, active, doc, search, external_key, email_key)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             returning {RESOURCE_COLUMNS}"
        ))
        .arg(tenant)
        .arg(w.id)
        .arg(w.kind.as_str())
        .arg(version)
        .arg(created)
        .arg(w.now);
        let sql = document_args(sql, w)?;
        let row = inserted::<D>(&mut tx, sql, w).await?;
        D::after_write(&mut tx, tenant, w.id, w.folded).await?;
        if let Some(a) = recorded {
            // after the insert: the event reads the restored row
            activity::write::<D>(&mut tx, a).await?;
        }
        commit::<D>(tx).await?;
        rows::resource(&row, w.kind)
    }

    async fn purge_retained(
        &self,
        now: DateTime<Utc>,
        batch: u32,
    ) -> Result<Vec<(TenantId, Uuid)>, StoreError> {
        let sql = Sql::new(
            "delete from retained_resources where (tenant_id, id) in
                 (select tenant_id, id from retained_resources where purge_after <= $1 limit $2)
             returning tenant_id, id",
        )
        .arg(now)
        .arg(i64::from(batch));
        let mut conn = self.writer.acquire().await?;
        let rows = D::fetch_all(&mut conn, sql).await?;
        rows.iter()
            .map(|r| Ok((TenantId(r.uuid("tenant_id")?), r.uuid("id")?)))
            .collect()
    }
}
