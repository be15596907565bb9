//! Group membership on PostgreSQL: its own table, changed with inserts and deletes of the
//! members named, never by rewriting a member list, so a change of k members costs O(k)
//! whatever the group's size and parallel changes lose nothing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::PgStore;
use super::resources::{ResourceRow, update_row};
use crate::scim::resource::{ResourceId, StoredResource, Version};
use crate::scim::schema::ResourceKind;
use crate::store::{GroupRef, Member, MemberChange, MemberInput, StoreError, TenantId, Write};

/// Adds members (already there: no change). An id that names no resource of the tenant is
/// `InvalidReference` and the transaction is to be rolled back. Returns how many were added.
pub(super) async fn add_members(
    tx: &mut Transaction<'_, Postgres>,
    tenant: TenantId,
    group: ResourceId,
    members: &[MemberInput],
) -> Result<u64, StoreError> {
    if members.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = members.iter().map(|m| m.id.0).collect();
    let displays: Vec<Option<String>> = members.iter().map(|m| m.display.clone()).collect();
    let missing: Option<(Uuid,)> = sqlx::query_as(
        r#"select u.id from unnest($2::uuid[]) as u(id)
           where not exists (select 1 from resources r where r.tenant_id = $1 and r.id = u.id)
           limit 1"#,
    )
    .bind(tenant.0)
    .bind(&ids)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some((id,)) = missing {
        return Err(StoreError::InvalidReference { id: ResourceId(id) });
    }
    let added = sqlx::query(
        r#"insert into memberships (tenant_id, group_id, member_id, display)
           select $1, $2, u.id, u.display from unnest($3::uuid[], $4::text[]) as u(id, display)
           on conflict do nothing"#,
    )
    .bind(tenant.0)
    .bind(group.0)
    .bind(&ids)
    .bind(&displays)
    .execute(&mut **tx)
    .await
    .map_err(|e| match &e {
        // a member deleted between the check and the insert
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::InvalidReference {
                id: ResourceId(ids[0]),
            }
        }
        _ => e.into(),
    })?;
    Ok(added.rows_affected())
}

/// Removes the named members, or all of them. Two statements, not one with `$3 is null or`:
/// a cached generic plan of the combined form scans the whole group.
async fn remove_members(
    tx: &mut Transaction<'_, Postgres>,
    tenant: TenantId,
    group: ResourceId,
    ids: Option<&[ResourceId]>,
) -> Result<u64, StoreError> {
    let removed = match ids {
        Some(ids) => {
            let ids: Vec<Uuid> = ids.iter().map(|i| i.0).collect();
            sqlx::query(
                r#"delete from memberships
                   where tenant_id = $1 and group_id = $2 and member_id = any($3)"#,
            )
            .bind(tenant.0)
            .bind(group.0)
            .bind(ids)
            .execute(&mut **tx)
            .await?
        }
        None => {
            sqlx::query(r#"delete from memberships where tenant_id = $1 and group_id = $2"#)
                .bind(tenant.0)
                .bind(group.0)
                .execute(&mut **tx)
                .await?
        }
    };
    Ok(removed.rows_affected())
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    owner: Uuid,
    id: Uuid,
    resource_type: String,
    display: Option<String>,
}

impl PgStore {
    /// Changes a group's members, and its document when `doc` is given, in one transaction. The
    /// group row is locked first, so concurrent changes queue instead of failing; with
    /// `expected` they happen only at that version. Nothing changed: nothing is written and the
    /// version stays.
    pub(crate) async fn update_group(
        &self,
        tenant: TenantId,
        group: ResourceId,
        doc: Option<Write<'_>>,
        expected: Option<Version>,
        changes: &[MemberChange],
        now: DateTime<Utc>,
    ) -> Result<StoredResource, StoreError> {
        let mut tx = self.pool.begin().await?;
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
        Ok(row.into_resource(ResourceKind::Group))
    }

    /// The members of each of `groups`, in the order they were added.
    pub(crate) async fn members(
        &self,
        tenant: TenantId,
        groups: &[ResourceId],
    ) -> Result<HashMap<ResourceId, Vec<Member>>, StoreError> {
        let ids: Vec<Uuid> = groups.iter().map(|g| g.0).collect();
        let rows: Vec<MemberRow> = sqlx::query_as(
            r#"select m.group_id as owner, m.member_id as id, r.resource_type,
                      coalesce(m.display, r.doc->>'displayName', r.doc->>'userName') as display
               from memberships m join resources r on r.tenant_id = m.tenant_id and r.id = m.member_id
               where m.tenant_id = $1 and m.group_id = any($2)
               order by m.group_id, m.seq"#,
        )
        .bind(tenant.0)
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<ResourceId, Vec<Member>> = HashMap::new();
        for r in rows {
            let kind = if r.resource_type == "Group" {
                ResourceKind::Group
            } else {
                ResourceKind::User
            };
            out.entry(ResourceId(r.owner)).or_default().push(Member {
                id: ResourceId(r.id),
                kind,
                display: r.display,
            });
        }
        Ok(out)
    }

    /// The groups each of `members` belongs to directly, by group name.
    pub(crate) async fn groups_of(
        &self,
        tenant: TenantId,
        members: &[ResourceId],
    ) -> Result<HashMap<ResourceId, Vec<GroupRef>>, StoreError> {
        let ids: Vec<Uuid> = members.iter().map(|m| m.0).collect();
        let rows: Vec<MemberRow> = sqlx::query_as(
            r#"select m.member_id as owner, m.group_id as id, g.resource_type, g.doc->>'displayName' as display
               from memberships m join resources g on g.tenant_id = m.tenant_id and g.id = m.group_id
               where m.tenant_id = $1 and m.member_id = any($2)
               order by m.member_id, g.name_key"#,
        )
        .bind(tenant.0)
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<ResourceId, Vec<GroupRef>> = HashMap::new();
        for r in rows {
            out.entry(ResourceId(r.owner)).or_default().push(GroupRef {
                id: ResourceId(r.id),
                display: r.display,
            });
        }
        Ok(out)
    }
}

/// Bumps the version of a group whose members change (and locks its row).
async fn touch(
    tx: &mut Transaction<'_, Postgres>,
    tenant: TenantId,
    group: ResourceId,
    expected: Option<Version>,
    now: DateTime<Utc>,
) -> Result<Option<ResourceRow>, StoreError> {
    Ok(sqlx::query_as::<_, ResourceRow>(
        r#"update resources set version = version + 1, last_modified = $4
           where tenant_id = $1 and id = $2 and resource_type = 'Group'
             and ($3::bigint is null or version = $3)
           returning id, version, created, last_modified, doc"#,
    )
    .bind(tenant.0)
    .bind(group.0)
    .bind(expected.map(|v| v.0))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?)
}
