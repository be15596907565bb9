//! Group membership on SQLite: the same table and the same O(k) changes as on PostgreSQL; id
//! lists travel as one JSON array parameter (`json_each`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::types::Json;
use sqlx::{Sqlite, Transaction};

use super::resources::{RESOURCE_COLUMNS, ResourceRow, update_row};
use super::{SqliteStore, millis, resource_id};
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::{GroupRef, Member, MemberChange, MemberInput, StoreError, TenantId, Write};

fn id_list(ids: impl Iterator<Item = ResourceId>) -> Json<Vec<String>> {
    Json(ids.map(|i| i.to_string()).collect())
}

pub(super) async fn add_members(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: TenantId,
    group: ResourceId,
    members: &[MemberInput],
) -> Result<u64, StoreError> {
    if members.is_empty() {
        return Ok(0);
    }
    let missing: Option<(String,)> = sqlx::query_as(
        // a correlated probe of the primary key per id; `not in (select …)` would list every
        // id of the tenant on each call
        "select u.value from json_each(?2) as u
         where not exists (select 1 from resources r where r.tenant_id = ?1 and r.id = u.value) limit 1",
    )
    .bind(tenant.0.to_string())
    .bind(id_list(members.iter().map(|m| m.id)))
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((id,)) = missing {
        return Err(StoreError::InvalidReference {
            id: resource_id(&id)?,
        });
    }
    let rows: Vec<serde_json::Value> = members
        .iter()
        .map(|m| json!({"id": m.id.to_string(), "display": m.display}))
        .collect();
    let added = sqlx::query(
        "insert into memberships (tenant_id, group_id, member_id, display)
         select ?1, ?2, json_extract(value, '$.id'), json_extract(value, '$.display') from json_each(?3) where true
         on conflict do nothing",
    )
    .bind(tenant.0.to_string())
    .bind(group.to_string())
    .bind(Json(rows))
    .execute(&mut **tx)
    .await?;
    Ok(added.rows_affected())
}

async fn remove_members(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: TenantId,
    group: ResourceId,
    ids: Option<&[ResourceId]>,
) -> Result<u64, StoreError> {
    let removed = match ids {
        Some(ids) => {
            sqlx::query(
                "delete from memberships where tenant_id = ?1 and group_id = ?2
                 and member_id in (select value from json_each(?3))",
            )
            .bind(tenant.0.to_string())
            .bind(group.to_string())
            .bind(id_list(ids.iter().copied()))
            .execute(&mut **tx)
            .await?
        }
        None => {
            sqlx::query("delete from memberships where tenant_id = ?1 and group_id = ?2")
                .bind(tenant.0.to_string())
                .bind(group.to_string())
                .execute(&mut **tx)
                .await?
        }
    };
    Ok(removed.rows_affected())
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    owner: String,
    id: String,
    resource_type: String,
    display: Option<String>,
}

impl SqliteStore {
    pub(crate) async fn update_group(
        &self,
        tenant: TenantId,
        group: ResourceId,
        doc: Option<Write<'_>>,
        expected: Option<Version>,
        changes: &[MemberChange],
        now: DateTime<Utc>,
    ) -> Result<StoredResource, StoreError> {
        let mut tx = self.write().await?;
        let row = match &doc {
            Some(w) => update_row(&mut tx, tenant, w, expected).await?,
            None => touch(&mut tx, tenant, group, expected, now).await?,
        };
        let Some(row) = row else {
            drop(tx);
            return Err(self
                .missing_or_moved(tenant, ResourceKind::Group, group)
                .await);
        };
        let mut changed = 0;
        for change in changes {
            changed += match change {
                MemberChange::Add(members) => add_members(&mut tx, tenant, group, members).await?,
                MemberChange::Remove(ids) => {
                    remove_members(&mut tx, tenant, group, Some(ids)).await?
                }
                MemberChange::RemoveAll => remove_members(&mut tx, tenant, group, None).await?,
                MemberChange::Replace(members) => {
                    remove_members(&mut tx, tenant, group, None).await?
                        + add_members(&mut tx, tenant, group, members).await?
                }
            };
        }
        if doc.is_none() && changed == 0 {
            tx.rollback().await?;
            return self.get(tenant, ResourceKind::Group, group).await;
        }
        tx.commit().await?;
        row.into_resource(ResourceKind::Group)
    }

    pub(crate) async fn members(
        &self,
        tenant: TenantId,
        groups: &[ResourceId],
    ) -> Result<HashMap<ResourceId, Vec<Member>>, StoreError> {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "select m.group_id as owner, m.member_id as id, r.resource_type,
                    coalesce(m.display, json_extract(r.doc, '$.displayName'), json_extract(r.doc, '$.userName')) as display
             from memberships m join resources r on r.tenant_id = m.tenant_id and r.id = m.member_id
             where m.tenant_id = ?1 and m.group_id in (select value from json_each(?2))
             order by m.group_id, m.seq",
        )
        .bind(tenant.0.to_string())
        .bind(id_list(groups.iter().copied()))
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<ResourceId, Vec<Member>> = HashMap::new();
        for r in rows {
            let kind = if r.resource_type == "Group" {
                ResourceKind::Group
            } else {
                ResourceKind::User
            };
            out.entry(resource_id(&r.owner)?).or_default().push(Member {
                id: resource_id(&r.id)?,
                kind,
                display: r.display,
            });
        }
        Ok(out)
    }

    pub(crate) async fn groups_of(
        &self,
        tenant: TenantId,
        members: &[ResourceId],
    ) -> Result<HashMap<ResourceId, Vec<GroupRef>>, StoreError> {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "select m.member_id as owner, m.group_id as id, g.resource_type, json_extract(g.doc, '$.displayName') as display
             from memberships m join resources g on g.tenant_id = m.tenant_id and g.id = m.group_id
             where m.tenant_id = ?1 and m.member_id in (select value from json_each(?2))
             order by m.member_id, g.name_key",
        )
        .bind(tenant.0.to_string())
        .bind(id_list(members.iter().copied()))
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<ResourceId, Vec<GroupRef>> = HashMap::new();
        for r in rows {
            out.entry(resource_id(&r.owner)?)
                .or_default()
                .push(GroupRef {
                    id: resource_id(&r.id)?,
                    display: r.display,
                });
        }
        Ok(out)
    }
}

/// Bumps the version of a group whose members change.
async fn touch(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: TenantId,
    group: ResourceId,
    expected: Option<Version>,
    now: DateTime<Utc>,
) -> Result<Option<ResourceRow>, StoreError> {
    Ok(sqlx::query_as::<_, ResourceRow>(&format!(
        "update resources set version = version + 1, last_modified = ?4
         where tenant_id = ?1 and id = ?2 and resource_type = 'Group' and (?3 is null or version = ?3)
         returning {RESOURCE_COLUMNS}"
    ))
    .bind(tenant.0.to_string())
    .bind(group.to_string())
    .bind(expected.map(|v| v.0))
    .bind(millis(now))
    .fetch_optional(&mut **tx)
    .await?)
}
